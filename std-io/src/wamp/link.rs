//! The transports a WAMP client runs over, behind one sending and one receiving half:
//! WebSocket (`ws://`, `wss://`, a `wamp.2.*` subprotocol per serializer) and RawSocket
//! (`rs://` over TCP, `rss://` over TLS, `unix:///path` over a Unix socket).
//!
//! ```text
//!   Client ── Sender::send(message bytes) ──▶ WebSocket text/binary message | RawSocket frame
//!   reader thread ◀── Receiver::recv() ◀── one WAMP message (pings answered underneath)
//! ```

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrobahn_core::wamp::rawsocket::{self, FrameKind, Hello};
use ferrobahn_core::wamp::Serializer;

use super::WampError;
use crate::websocket::Stream;
use crate::{ClientBuilder, Message};

/// Sends whole WAMP messages.
pub(crate) trait Sender: Send + Sync {
    /// Sends one message now.
    fn send(&self, bytes: &[u8]) -> Result<(), WampError>;
    /// Queues one message; it goes out on [`flush`](Self::flush) (or earlier, when the
    /// buffer is large). A writer with several messages at hand queues them all and flushes
    /// once: one system call instead of one per message.
    fn queue(&self, bytes: &[u8]) -> Result<(), WampError> {
        self.send(bytes)
    }
    /// Writes what [`queue`](Self::queue) kept.
    fn flush(&self) -> Result<(), WampError> {
        Ok(())
    }
    /// Ends the transport (after GOODBYE, or to give up).
    fn close(&self);
    /// Queues one message only if that cannot block (see
    /// [`crate::Writer::try_queue`]); `Ok(false)`: not queued, use [`queue`](Self::queue).
    fn try_queue(&self, bytes: &[u8]) -> Result<bool, WampError> {
        let _ = bytes;
        Ok(false)
    }
    /// Writes what is queued as far as the socket takes it now; `Ok(false)`: some is left
    /// for [`flush`](Self::flush).
    fn try_flush(&self) -> Result<bool, WampError> {
        Ok(false)
    }
    /// Queues a transport ping (RawSocket PING frame, WebSocket ping) if that cannot block.
    fn try_queue_ping(&self, payload: &[u8]) -> Result<bool, WampError> {
        let _ = payload;
        Ok(false)
    }
    /// Queues a transport ping; it goes out on [`flush`](Self::flush).
    fn queue_ping(&self, payload: &[u8]) -> Result<(), WampError>;
}

/// Receives whole WAMP messages; `None` when the transport ended.
pub(crate) trait Receiver: Send {
    fn recv(&mut self) -> Result<Option<Vec<u8>>, WampError>;
    /// Sets `heard` each time a pong arrives (the router's keepalive).
    fn on_pong(&mut self, heard: Arc<AtomicBool>);
    /// The next [`recv`](Self::recv) returns a message without waiting on the socket.
    fn message_buffered(&self) -> bool {
        false
    }
}

/// Where and how to connect (see [`super::ClientOptions`]).
pub(crate) struct Target<'a> {
    pub url: &'a str,
    pub serializers: &'a [Serializer],
    pub timeout: Duration,
    pub builder: Option<&'a dyn Fn(ClientBuilder) -> ClientBuilder>,
    pub max_message: u32,
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<crate::tls::rustls::ClientConfig>>,
}

/// A connected transport: its halves, the serializer agreed, and the TLS channel binding.
pub(crate) struct Connected {
    pub sender: Arc<dyn Sender>,
    pub receiver: Box<dyn Receiver>,
    pub serializer: Serializer,
    pub channel_binding: Option<[u8; 32]>,
}

pub(crate) fn connect(t: &Target<'_>) -> Result<Connected, WampError> {
    let scheme = t.url.split("://").next().unwrap_or("");
    match scheme {
        "ws" | "wss" => websocket(t),
        "rs" | "tcp" => {
            let tcp = tcp_connect(t)?;
            rawsocket_over(tcp, t, None)
        }
        #[cfg(feature = "tls")]
        "rss" | "tcps" => {
            let (host, _) = host_port(t.url)?;
            let tcp = tcp_connect(t)?;
            let config = match &t.tls {
                Some(c) => Arc::clone(c),
                None => default_tls()?,
            };
            let tls = crate::tls::TlsStream::connect(config, &host, tcp, Some(t.timeout))?;
            let binding = tls.channel_binding();
            rawsocket_over(tls, t, binding)
        }
        #[cfg(unix)]
        "unix" => {
            let path = &t.url["unix://".len()..];
            let s = std::os::unix::net::UnixStream::connect(path)?;
            rawsocket_over(s, t, None)
        }
        _ => Err(WampError::Transport(format!(
            "{}: scheme must be ws, wss, rs, rss or unix",
            t.url
        ))),
    }
}

/// WAMP over TLS by default: the built-in roots, no ALPN (WAMP has no ALPN name, and
/// Crossbar.io refuses handshakes that offer one it does not know).
#[cfg(feature = "tls")]
fn default_tls() -> Result<Arc<crate::tls::rustls::ClientConfig>, WampError> {
    Ok(crate::tls::client_config(&crate::tls::TlsClientOptions {
        alpn: Some(Vec::new()),
        ..Default::default()
    })?)
}

fn host_port(url: &str) -> Result<(String, u16), WampError> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| WampError::Transport(format!("{url}: no scheme")))?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let (host, port) = hostport
        .rsplit_once(':')
        .ok_or_else(|| WampError::Transport(format!("{url}: RawSocket URLs need a port")))?;
    let port = port
        .parse()
        .map_err(|_| WampError::Transport(format!("{url}: bad port")))?;
    Ok((
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
    ))
}

fn tcp_connect(t: &Target<'_>) -> Result<TcpStream, WampError> {
    let (host, port) = host_port(t.url)?;
    let mut last = None;
    for addr in std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))? {
        match TcpStream::connect_timeout(&addr, t.timeout) {
            Ok(s) => {
                // Small messages must not wait for Nagle (Crossbar's RawSocket does not set it).
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or_else(
        || WampError::Transport(format!("{}: no address", t.url)),
        WampError::from,
    ))
}

// --- WebSocket ---------------------------------------------------------------------------

pub(crate) struct WsSender {
    pub(crate) writer: crate::Writer,
    pub(crate) text: bool,
}

impl WsSender {
    /// The message as text (JSON goes in text messages, checked to be UTF-8), or `None`
    /// for the binary serializers.
    fn text<'a>(&self, bytes: &'a [u8]) -> Result<Option<&'a str>, WampError> {
        if !self.text {
            return Ok(None);
        }
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| WampError::Transport("JSON message is not UTF-8".into()))
    }
}

impl Sender for WsSender {
    fn send(&self, bytes: &[u8]) -> Result<(), WampError> {
        self.queue(bytes)?;
        Ok(self.writer.flush()?)
    }

    fn queue(&self, bytes: &[u8]) -> Result<(), WampError> {
        match self.text(bytes)? {
            Some(text) => self.writer.write_text(text)?,
            None => self.writer.write_binary(bytes)?,
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), WampError> {
        Ok(self.writer.flush()?)
    }

    fn close(&self) {
        let _ = self.writer.close(None);
    }

    fn try_queue(&self, bytes: &[u8]) -> Result<bool, WampError> {
        let kind = match self.text(bytes)? {
            Some(_) => ferrobahn_core::MessageKind::Text,
            None => ferrobahn_core::MessageKind::Binary,
        };
        Ok(self.writer.try_queue(kind, bytes)?)
    }

    fn try_flush(&self) -> Result<bool, WampError> {
        Ok(self.writer.try_flush()?)
    }

    fn try_queue_ping(&self, payload: &[u8]) -> Result<bool, WampError> {
        Ok(self.writer.try_ping(payload)?)
    }

    fn queue_ping(&self, payload: &[u8]) -> Result<(), WampError> {
        Ok(self.writer.write(Message::Ping(payload.to_vec()))?)
    }
}

pub(crate) struct WsReceiver {
    pub(crate) reader: crate::Reader,
    pub(crate) pong: Option<Arc<AtomicBool>>,
}

impl Receiver for WsReceiver {
    fn on_pong(&mut self, heard: Arc<AtomicBool>) {
        self.pong = Some(heard);
    }

    fn message_buffered(&self) -> bool {
        self.reader.message_buffered()
    }

    fn recv(&mut self) -> Result<Option<Vec<u8>>, WampError> {
        loop {
            match self.reader.read() {
                Ok(Message::Text(t)) => return Ok(Some(t.into_string().into_bytes())),
                Ok(Message::Binary(b)) => return Ok(Some(b)),
                Ok(Message::Close(_)) | Err(crate::Error::ConnectionClosed) => return Ok(None),
                Ok(Message::Pong(_)) => {
                    if let Some(p) = &self.pong {
                        p.store(true, Ordering::Relaxed);
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn websocket(t: &Target<'_>) -> Result<Connected, WampError> {
    let mut b = ClientBuilder::new(t.url)
        .protocols(t.serializers.iter().map(|s| s.subprotocol()))
        .handshake_timeout(t.timeout);
    let mut settings = crate::Settings::default();
    settings.config.max_message_payload = t.max_message as u64;
    b = b.settings(settings);
    #[cfg(feature = "tls")]
    if t.url.starts_with("wss:") {
        b = b.tls_config(match &t.tls {
            Some(c) => Arc::clone(c),
            None => default_tls()?,
        });
    }
    if let Some(f) = t.builder {
        b = f(b);
    }
    let ws = b.connect()?;
    let serializer = ws
        .protocol()
        .and_then(|p| t.serializers.iter().find(|s| s.subprotocol() == p))
        .copied()
        .ok_or_else(|| {
            WampError::Transport("the router chose no WAMP subprotocol we offered".into())
        })?;
    let channel_binding = ws.channel_binding();
    let (reader, writer) = ws.split();
    Ok(Connected {
        sender: Arc::new(WsSender {
            writer,
            text: serializer.is_text(),
        }),
        receiver: Box::new(WsReceiver { reader, pong: None }),
        serializer,
        channel_binding,
    })
}

// --- RawSocket ---------------------------------------------------------------------------

pub(crate) struct RsSender<S> {
    /// The stream, and frames queued for it (headers and small payloads are gathered so a
    /// message, or a batch of them, is one write: with TCP_NODELAY a separate header write
    /// would be a packet of its own).
    out: Mutex<(S, Vec<u8>)>,
    peer_max: u32,
}

/// Queued bytes beyond which `queue` writes at once.
const RS_FLUSH_AT: usize = 64 * 1024;

impl<S: Stream> RsSender<S> {
    pub(crate) fn new(stream: S, peer_max: u32) -> Self {
        Self {
            out: Mutex::new((stream, Vec::new())),
            peer_max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (S, Vec<u8>)> {
        self.out.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a frame only if that cannot block (see [`Sender::try_queue`]).
    fn try_frame(&self, kind: FrameKind, bytes: &[u8]) -> Result<bool, WampError> {
        let Some(mut g) = crate::websocket::try_lock(&self.out) else {
            return Ok(false);
        };
        let (s, buf) = &mut *g;
        if !s.can_write_nonblocking() || buf.len() + bytes.len() + 4 > RS_FLUSH_AT {
            return Ok(false);
        }
        let h = rawsocket::header(kind, bytes.len(), self.peer_max)
            .map_err(|e| WampError::Transport(format!("RawSocket: {e:?}")))?;
        buf.extend_from_slice(&h);
        buf.extend_from_slice(bytes);
        Ok(true)
    }

    /// Queues a frame; writes when `flush` or the queue is large.
    fn frame(&self, kind: FrameKind, bytes: &[u8], flush: bool) -> Result<(), WampError> {
        let h = rawsocket::header(kind, bytes.len(), self.peer_max)
            .map_err(|e| WampError::Transport(format!("RawSocket: {e:?}")))?;
        let mut g = self.lock();
        let (s, buf) = &mut *g;
        buf.extend_from_slice(&h);
        if bytes.len() >= RS_FLUSH_AT {
            // Large payloads are not copied: what is queued, then the payload itself.
            s.write_all(buf)?;
            buf.clear();
            s.write_all(bytes)?;
        } else {
            buf.extend_from_slice(bytes);
            if flush || buf.len() >= RS_FLUSH_AT {
                s.write_all(buf)?;
                buf.clear();
            }
        }
        if flush {
            s.flush()?;
        }
        if buf.capacity() > RS_FLUSH_AT * 2 {
            buf.shrink_to(RS_FLUSH_AT);
        }
        Ok(())
    }
}

impl<S: Stream> Sender for RsSender<S> {
    fn send(&self, bytes: &[u8]) -> Result<(), WampError> {
        self.frame(FrameKind::Message, bytes, true)
    }

    fn queue(&self, bytes: &[u8]) -> Result<(), WampError> {
        self.frame(FrameKind::Message, bytes, false)
    }

    fn flush(&self) -> Result<(), WampError> {
        let mut g = self.lock();
        let (s, buf) = &mut *g;
        if !buf.is_empty() {
            s.write_all(buf)?;
            buf.clear();
        }
        s.flush()?;
        Ok(())
    }

    fn close(&self) {
        let _ = self.flush();
        let _ = self.lock().0.shutdown(Shutdown::Write);
    }

    fn try_queue(&self, bytes: &[u8]) -> Result<bool, WampError> {
        self.try_frame(FrameKind::Message, bytes)
    }

    fn try_queue_ping(&self, payload: &[u8]) -> Result<bool, WampError> {
        self.try_frame(FrameKind::Ping, payload)
    }

    fn queue_ping(&self, payload: &[u8]) -> Result<(), WampError> {
        self.frame(FrameKind::Ping, payload, false)
    }

    fn try_flush(&self) -> Result<bool, WampError> {
        let Some(mut g) = crate::websocket::try_lock(&self.out) else {
            return Ok(false);
        };
        let (s, buf) = &mut *g;
        Ok(crate::websocket::write_what_fits(s, buf)?.0)
    }
}

pub(crate) struct RsReceiver<S> {
    /// Set when a pong arrives (the router's keepalive).
    pong: Option<Arc<AtomicBool>>,
    /// Buffered: small messages that arrive together take one read, not two each, and the
    /// router can see whether the next message is already here.
    stream: std::io::BufReader<S>,
    sender: Arc<RsSender<S>>,
    our_max: u32,
}

/// The RawSocket read buffer.
const RS_READ_AHEAD: usize = 8 * 1024;

impl<S: Stream> RsReceiver<S> {
    pub(crate) fn new(stream: S, sender: Arc<RsSender<S>>, our_max: u32) -> Self {
        Self {
            stream: std::io::BufReader::with_capacity(RS_READ_AHEAD, stream),
            sender,
            our_max,
            pong: None,
        }
    }
}

impl<S: Stream> Receiver for RsReceiver<S> {
    fn on_pong(&mut self, heard: Arc<AtomicBool>) {
        self.pong = Some(heard);
    }

    fn message_buffered(&self) -> bool {
        let b = self.stream.buffer();
        b.len() >= 4
            && rawsocket::parse_header([b[0], b[1], b[2], b[3]], self.our_max).is_ok_and(
                |(kind, len)| matches!(kind, FrameKind::Message) && b.len() - 4 >= len as usize,
            )
    }

    fn recv(&mut self) -> Result<Option<Vec<u8>>, WampError> {
        loop {
            let mut h = [0u8; 4];
            match std::io::Read::read_exact(&mut self.stream, &mut h) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                Err(e) => return Err(e.into()),
            }
            let (kind, len) = rawsocket::parse_header(h, self.our_max)
                .map_err(|e| WampError::Transport(format!("RawSocket: {e:?}")))?;
            let mut payload = vec![0u8; len as usize];
            std::io::Read::read_exact(&mut self.stream, &mut payload)?;
            match kind {
                FrameKind::Message => return Ok(Some(payload)),
                FrameKind::Ping => self.sender.frame(FrameKind::Pong, &payload, true)?,
                FrameKind::Pong => {
                    if let Some(p) = &self.pong {
                        p.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}

fn rawsocket_over<S: Stream>(
    mut stream: S,
    t: &Target<'_>,
    channel_binding: Option<[u8; 32]>,
) -> Result<Connected, WampError> {
    let serializer = *t
        .serializers
        .first()
        .ok_or_else(|| WampError::Transport("no serializer".into()))?;
    let ours = Hello {
        max_len_exp: Hello::exp_for(t.max_message),
        serializer,
    };
    stream.set_read_timeout(Some(t.timeout))?;
    stream.write_all(&ours.encode())?;
    stream.flush()?;
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply)?;
    let theirs = rawsocket::client_handshake(ours, reply)
        .map_err(|e| WampError::Transport(format!("RawSocket handshake refused: {e:?}")))?;
    stream.set_read_timeout(None)?;
    let sender = Arc::new(RsSender::new(stream.try_clone()?, theirs.max_len()));
    Ok(Connected {
        sender: sender.clone(),
        receiver: Box::new(RsReceiver::new(stream, sender, ours.max_len())),
        serializer,
        channel_binding,
    })
}
