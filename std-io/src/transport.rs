//! [`Transport`]: what `connect` and the server hand out, plain TCP or TLS over TCP, so one
//! `WebSocket` type serves `ws://` and `wss://`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

#[cfg(feature = "tls")]
use crate::tls::TlsStream;
use crate::websocket::Stream;

/// Plain TCP, or TLS over TCP.
#[derive(Debug)]
#[non_exhaustive]
pub enum Transport {
    /// `ws://`.
    Tcp(TcpStream),
    /// `wss://`.
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream>),
}

impl Transport {
    /// The TCP socket (underneath TLS, if any).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Tcp(s) => s,
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.tcp(),
        }
    }

    /// Whether this is TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, Transport::Tcp(_))
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.write_vectored(bufs),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Tcp(s) => s.flush(),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.flush(),
        }
    }
}

impl Stream for Transport {
    fn try_clone(&self) -> io::Result<Self> {
        Ok(match self {
            Transport::Tcp(s) => Transport::Tcp(s.try_clone()?),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Transport::Tls(Box::new(Stream::try_clone(&**s)?)),
        })
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp().set_read_timeout(timeout)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Transport::Tcp(s) => s.shutdown(how),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Stream::shutdown(&**s, how),
        }
    }

    fn channel_binding(&self) -> Option<[u8; 32]> {
        match self {
            Transport::Tcp(_) => None,
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.channel_binding(),
        }
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.tcp().peer_addr().ok()
    }

    fn can_write_nonblocking(&self) -> bool {
        match self {
            Transport::Tcp(s) => s.can_write_nonblocking(),
            #[cfg(feature = "tls")]
            Transport::Tls(_) => false,
        }
    }

    fn write_nonblocking(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.write_nonblocking(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(_) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}
