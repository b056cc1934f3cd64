//! The blocking layer's error: what went wrong, and for protocol errors the close code sent.

use std::fmt;
use std::io;

use ferrobahn_core::connection;
use ferrobahn_core::handshake::HandshakeError;
use ferrobahn_core::ProtocolError;

/// An error of the blocking WebSocket layer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed (a timeout shows as `WouldBlock`/`TimedOut`).
    Io(io::Error),
    /// The peer broke the protocol; a close frame with [`ProtocolError::close_code`] was sent.
    Protocol(ProtocolError),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// The URL is not a usable `ws://` URL.
    Url(String),
    /// The close handshake completed: the connection is over (not a failure).
    ConnectionClosed,
    /// The connection was already closed when this call was made.
    AlreadyClosed,
    /// A call out of order (e.g. data after our close frame, streamed data over the
    /// announced frame length).
    InvalidState(&'static str),
    /// The server refused the connection: too many connections (503 was sent).
    Capacity,
    /// TLS failed: a certificate that does not verify (unknown issuer, wrong host name,
    /// expired), no common protocol version or cipher suite, a bad record.
    #[cfg(feature = "tls")]
    Tls(rustls::Error),
    /// A TLS certificate, key or name could not be used (bad PEM, no certificate).
    TlsConfig(String),
    /// The HTTP proxy refused the tunnel: its status (407 authentication, 502/503/504 the
    /// target unreachable; 0 when it did not answer with HTTP) and reason.
    Proxy {
        /// The proxy's HTTP status.
        status: u16,
        /// Its reason phrase or what was wrong.
        reason: String,
    },
    /// The peer stopped answering our pings: no pong within `auto_ping_timeout` (the
    /// connection was dropped).
    PingTimeout,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Protocol(e) => write!(f, "protocol error: {e}"),
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::Url(u) => write!(f, "bad URL: {u}"),
            Self::ConnectionClosed => f.write_str("connection closed"),
            Self::AlreadyClosed => f.write_str("connection already closed"),
            Self::InvalidState(s) => write!(f, "invalid state: {s}"),
            Self::Capacity => f.write_str("too many connections"),
            #[cfg(feature = "tls")]
            Self::Tls(e) => write!(f, "TLS error: {e}"),
            Self::TlsConfig(e) => write!(f, "TLS configuration: {e}"),
            Self::Proxy { status, reason } => {
                write!(f, "proxy refused the tunnel: {status} {reason}")
            }
            Self::PingTimeout => f.write_str("no pong within the auto-ping timeout"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Protocol(e) => Some(e),
            Self::Handshake(e) => Some(e),
            #[cfg(feature = "tls")]
            Self::Tls(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

impl From<connection::Error> for Error {
    fn from(e: connection::Error) -> Self {
        match e {
            connection::Error::Protocol(p) => Self::Protocol(p),
            connection::Error::CloseSent => Self::AlreadyClosed,
            connection::Error::BufferTooSmall => Self::InvalidState("buffer too small"),
            _ => Self::InvalidState("call out of order"),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
