//! The blocking server: a listener, one thread per connection, TLS when configured, the
//! opening handshake with origin checks, subprotocol choice and a hook that sees `http`
//! request and response types; a plain HTTP GET gets a small status page.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrobahn_core::handshake::{self, Accept, HandshakeError};
use ferrobahn_core::httparse;
use ferrobahn_core::{Role, Status};

use crate::compress;
use crate::error::{Error, Result};
use crate::transport::Transport;
use crate::websocket::{Negotiated, Settings, Stream, WebSocket};
use ferrobahn_core::deflate::{ClientOffer, DeflateAccept, DeflateParams};

/// Largest HTTP request head accepted (larger → 431).
const MAX_HEAD: usize = 16 * 1024;

/// A handshake hook: sees the request and the response about to be sent (headers may be
/// added, `Sec-WebSocket-Protocol` changed), or refuses with any HTTP response (a status, a
/// redirect with `Location`, a body).
pub type HandshakeHook = dyn Fn(&http::Request<()>, &mut http::Response<()>) -> Result<(), http::Response<Option<String>>>
    + Send
    + Sync;

/// A permessage-deflate choice callback (see [`ServerConfig::deflate_select`]).
pub type DeflateSelect = dyn Fn(&[ClientOffer]) -> Option<(usize, DeflateParams)> + Send + Sync;

/// Server settings.
#[derive(Clone)]
pub struct ServerConfig {
    /// Per-connection settings.
    pub settings: Settings,
    /// Time a client has to send its whole request (slowloris guard).
    pub handshake_timeout: Duration,
    /// Connections served at once; more get 503.
    pub max_connections: usize,
    /// Allowed `Origin` patterns (`*` wildcards); empty allows any origin.
    pub allowed_origins: Vec<String>,
    /// Whether the `null` origin is allowed when `allowed_origins` is set.
    pub allow_null_origin: bool,
    /// Subprotocols we speak, in our order of preference: the first the client also
    /// offers is chosen.
    pub protocols: Vec<String>,
    /// `Server` header (the Autobahn TestSuite names the agent after it).
    pub server_name: Option<String>,
    /// Headers added to every 101 response.
    pub headers: Vec<(String, String)>,
    /// The handshake hook, if any.
    pub hook: Option<Arc<HandshakeHook>>,
    /// `TCP_NODELAY` on accepted sockets.
    pub nodelay: bool,
    /// Accept permessage-deflate offers with this policy (`None`: never compress).
    pub deflate: Option<DeflateAccept>,
    /// Or choose among the client's valid permessage-deflate offers (in its order) with a
    /// callback: the index of the offer taken and the parameters to answer with (they must
    /// honour that offer), or `None` to decline. Takes precedence over `deflate`.
    pub deflate_select: Option<Arc<DeflateSelect>>,
    /// Accept permessage-brotli offers with this policy (`None`: decline them).
    #[cfg(feature = "brotli")]
    pub brotli: Option<crate::compress::BrotliAccept>,
    /// Accept permessage-bzip2 offers with this policy (`None`: decline them).
    #[cfg(feature = "bzip2")]
    pub bzip2: Option<crate::compress::bzip2::Bzip2Accept>,
    /// Accept permessage-snappy offers with this policy (`None`: decline them).
    #[cfg(feature = "snappy")]
    pub snappy: Option<crate::compress::TakeoverAccept>,
    /// Which method wins when a client offers several we accept: empty (the default) takes
    /// the client's order of preference; otherwise the first method in this list that the
    /// client offered (methods not listed are declined).
    pub compression_order: Vec<crate::compress::Method>,
    /// Stack size of connection threads.
    pub thread_stack_size: usize,
    /// `wss://`: the TLS configuration (see [`crate::tls::server_config_from_files`]).
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<crate::tls::rustls::ServerConfig>>,
    /// Answer a plain HTTP `GET` (no `Upgrade: websocket`) with a small status page (200)
    /// instead of 426 Upgrade Required (Autobahn's `webStatus`).
    pub status_page: bool,
    /// How many reverse proxies in front of us append to `X-Forwarded-For`: the client's
    /// address is the entry that many places from the right
    /// ([`WebSocket::peer_addr`](crate::WebSocket::peer_addr)). 0 ignores the header
    /// (anyone can send it).
    pub trusted_proxies: usize,
    /// `Sec-WebSocket-Version`s accepted (Autobahn's `versions`): 13 (RFC 6455), and 8 for
    /// hybi-10 clients, whose handshake and framing are the RFC's (their origin comes as
    /// `Sec-WebSocket-Origin` and is checked like `Origin`). Others are refused with 426
    /// naming these. Default: 13 only.
    pub versions: Vec<u8>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            settings: Settings::default(),
            handshake_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            allowed_origins: Vec::new(),
            allow_null_origin: false,
            protocols: Vec::new(),
            server_name: Some(concat!("ferrobahn/", env!("CARGO_PKG_VERSION")).to_owned()),
            headers: Vec::new(),
            hook: None,
            nodelay: true,
            deflate: None,
            deflate_select: None,
            #[cfg(feature = "brotli")]
            brotli: None,
            #[cfg(feature = "bzip2")]
            bzip2: None,
            #[cfg(feature = "snappy")]
            snappy: None,
            compression_order: Vec::new(),
            thread_stack_size: 512 * 1024,
            #[cfg(feature = "tls")]
            tls: None,
            status_page: true,
            trusted_proxies: 0,
            versions: vec![13],
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("settings", &self.settings)
            .field("max_connections", &self.max_connections)
            .field("protocols", &self.protocols)
            .finish_non_exhaustive()
    }
}

/// A listening WebSocket server.
pub struct Server {
    listener: TcpListener,
    config: Arc<ServerConfig>,
    active: Arc<AtomicUsize>,
}

impl Server {
    /// Binds `addr` (use port 0 and [`local_addr`](Self::local_addr) in tests).
    pub fn bind(addr: impl ToSocketAddrs, config: ServerConfig) -> Result<Self> {
        if config.versions.is_empty() || config.versions.iter().any(|v| ![8, 13].contains(v)) {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "ServerConfig::versions {:?}: 13 and/or 8 (hybi-10)",
                    config.versions
                ),
            )));
        }
        Ok(Self {
            listener: TcpListener::bind(addr)?,
            config: Arc::new(config),
            active: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Connections being served now.
    pub fn active_connections(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    /// Accepts connections forever, each on its own thread: handshake, then `handler`.
    /// Handshake failures are answered with their HTTP status and logged.
    pub fn serve<F>(&self, handler: F) -> Result<()>
    where
        F: Fn(WebSocket) + Send + Sync + 'static,
    {
        let handler = Arc::new(handler);
        loop {
            let (mut stream, peer) = match self.listener.accept() {
                Ok(s) => s,
                Err(e) => {
                    log::warn!("accept failed: {e}");
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            if self.active.fetch_add(1, Ordering::AcqRel) >= self.config.max_connections {
                self.active.fetch_sub(1, Ordering::AcqRel);
                log::warn!("{peer}: over max_connections, answering 503");
                let mut out = [0u8; 256];
                if let Ok(n) = handshake::write_error(
                    &mut out,
                    503,
                    &[("Retry-After", b"1")],
                    "too many connections\n",
                ) {
                    let _ = stream.write_all(&out[..n]);
                }
                continue;
            }
            let guard = ActiveGuard(Arc::clone(&self.active));
            let config = Arc::clone(&self.config);
            let handler = Arc::clone(&handler);
            let spawned = std::thread::Builder::new()
                .name("ferrobahn-conn".into())
                .stack_size(config.thread_stack_size)
                .spawn(move || {
                    let _guard = guard;
                    match accept_with(stream, &config) {
                        Ok(ws) => handler(ws),
                        Err(e) => log::debug!("{peer}: handshake failed: {e}"),
                    }
                });
            if let Err(e) = spawned {
                log::warn!("cannot spawn a connection thread: {e}");
            }
        }
    }
}

struct ActiveGuard(Arc<AtomicUsize>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Performs the server handshake on an accepted TCP stream with default settings.
pub fn accept(stream: TcpStream) -> Result<WebSocket> {
    accept_with(stream, &ServerConfig::default())
}

/// Performs the TLS handshake (when `config.tls` is set) and the WebSocket handshake on an
/// accepted TCP stream, both within `handshake_timeout`.
pub fn accept_with(stream: TcpStream, config: &ServerConfig) -> Result<WebSocket> {
    stream.set_nodelay(config.nodelay)?;
    #[cfg(feature = "tls")]
    if let Some(tls) = &config.tls {
        let started = Instant::now();
        let tls = crate::tls::TlsStream::accept(
            std::sync::Arc::clone(tls),
            stream,
            Some(config.handshake_timeout),
        )?;
        let config = ServerConfig {
            handshake_timeout: config
                .handshake_timeout
                .saturating_sub(started.elapsed())
                .max(Duration::from_millis(1)),
            ..config.clone()
        };
        return accept_stream(Transport::Tls(Box::new(tls)), &config);
    }
    accept_stream(Transport::Tcp(stream), config)
}

/// The status page a plain HTTP GET gets.
fn status_page(config: &ServerConfig) -> String {
    let name = config.server_name.as_deref().unwrap_or("ferrobahn");
    format!(
        "<!DOCTYPE html>\n<html><head><title>{name}</title></head><body>\n\
         <h1>{name}</h1>\n<p>This is a WebSocket server. Connect with a WebSocket client \
         (Upgrade: websocket).</p>\n</body></html>\n",
        name = name.replace('&', "&amp;").replace('<', "&lt;")
    )
}

/// The client's address: the TCP peer, or with `trusted` proxies in front, the
/// `X-Forwarded-For` entry `trusted` places from the right (the leftmost when the list is
/// shorter).
fn client_addr(
    peer: Option<std::net::SocketAddr>,
    headers: &[httparse::Header<'_>],
    trusted: usize,
) -> Option<std::net::SocketAddr> {
    if trusted == 0 {
        return peer;
    }
    let entries: Vec<&str> = handshake::header_all(headers, "X-Forwarded-For")
        .filter_map(|v| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() {
        return peer;
    }
    let entry = entries[entries.len().saturating_sub(trusted)];
    let ip = entry
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip())
        .or_else(|_| entry.trim_start_matches('[').trim_end_matches(']').parse());
    match ip {
        Ok(ip) => Some(std::net::SocketAddr::new(ip, 0)),
        Err(_) => peer,
    }
}

/// Writes an HTTP response (any status) and flushes.
fn refuse<S: Write>(stream: &mut S, status: u16, headers: &[(&str, &[u8])], body: &str) {
    let mut out = vec![
        0u8;
        512 + body.len()
            + headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>()
    ];
    if let Ok(n) = handshake::write_error(&mut out, status, headers, body) {
        let _ = stream.write_all(&out[..n]);
        let _ = stream.flush();
    }
}

/// Performs the server handshake on any [`Stream`].
pub fn accept_stream<S: Stream>(mut stream: S, config: &ServerConfig) -> Result<WebSocket<S>> {
    let deadline = Instant::now() + config.handshake_timeout;
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            refuse(&mut stream, 408, &[], "");
            return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
        }
        stream.set_read_timeout(Some(left))?;
        let n = match stream.read(&mut chunk) {
            Ok(0) => return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                refuse(&mut stream, 408, &[], "");
                return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
            }
            Err(e) => return Err(e.into()),
        };
        head.extend_from_slice(&chunk[..n]);
        let mut storage = [httparse::EMPTY_HEADER; 64];
        // Only 13 and 8 are spoken (Server::bind refuses others; the router's settings
        // reach here without it).
        let versions: Vec<u8> = config
            .versions
            .iter()
            .copied()
            .filter(|v| [8, 13].contains(v))
            .collect();
        let versions: &[u8] = if versions.is_empty() {
            &[13]
        } else {
            &versions
        };
        let parsed = match handshake::parse_request_versions(&head, &mut storage, versions) {
            Ok(Status::Partial) if head.len() > MAX_HEAD => Err(HandshakeError::TooLarge),
            Ok(Status::Partial) => continue,
            Ok(Status::Complete(c)) => Ok(c),
            Err(e) => Err(e),
        };
        let (req, used) = match parsed {
            Ok(c) => c,
            Err(HandshakeError::NoUpgrade) => {
                // A plain HTTP GET.
                if config.status_page {
                    let page = status_page(config);
                    refuse(
                        &mut stream,
                        200,
                        &[("Content-Type", b"text/html; charset=utf-8")],
                        &page,
                    );
                } else {
                    refuse(
                        &mut stream,
                        426,
                        &[("Upgrade", b"websocket")],
                        "WebSocket only\n",
                    );
                }
                return Err(Error::Handshake(HandshakeError::NoUpgrade));
            }
            Err(HandshakeError::UnsupportedVersion) => {
                let mut versions = versions.to_vec();
                versions.sort_unstable_by(|a, b| b.cmp(a));
                let list = versions
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                refuse(
                    &mut stream,
                    426,
                    &[("Sec-WebSocket-Version", list.as_bytes())],
                    "unsupported WebSocket version\n",
                );
                return Err(HandshakeError::UnsupportedVersion.into());
            }
            Err(e) => {
                refuse(
                    &mut stream,
                    e.status(),
                    &[],
                    "not a valid WebSocket handshake\n",
                );
                return Err(e.into());
            }
        };
        if !config.allowed_origins.is_empty() {
            let patterns: Vec<&str> = config.allowed_origins.iter().map(String::as_str).collect();
            if !handshake::origin_allowed(req.origin(), &patterns, config.allow_null_origin) {
                refuse(&mut stream, 403, &[], "origin not allowed\n");
                return Err(Error::Handshake(HandshakeError::Status(403)));
            }
        }
        let mut protocol: Option<String> = config
            .protocols
            .iter()
            .find(|p| req.protocols().any(|o| o == p.as_str()))
            .cloned();
        let mut response = http::Response::new(());
        for (n, v) in &config.headers {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(n.as_bytes()),
                http::HeaderValue::from_str(v),
            ) {
                response.headers_mut().append(n, v);
            }
        }
        if let Some(hook) = &config.hook {
            let request = match to_http_request(&req) {
                Ok(r) => r,
                Err(e) => {
                    refuse(&mut stream, 400, &[], "request target not understood\n");
                    return Err(e);
                }
            };
            if let Some(p) = &protocol {
                if let Ok(v) = http::HeaderValue::from_str(p) {
                    response.headers_mut().insert("sec-websocket-protocol", v);
                }
            }
            if let Err(deny) = hook(&request, &mut response) {
                let status = deny.status().as_u16();
                let headers: Vec<(&str, &[u8])> = deny
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_bytes()))
                    .collect();
                refuse(
                    &mut stream,
                    status,
                    &headers,
                    deny.body().as_deref().unwrap_or(""),
                );
                return Err(Error::Handshake(HandshakeError::Status(status)));
            }
            protocol = response
                .headers_mut()
                .remove("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok().map(str::to_owned));
        }
        let extra: Vec<(&str, &[u8])> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let (compression, extensions) = compress::choose(&req, config);
        let accept = req.accept();
        let mut out = vec![
            0u8;
            512 + extra
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>()
                + protocol.as_ref().map_or(0, String::len)
                + extensions.len()
        ];
        let n = handshake::write_accept(
            &mut out,
            &accept,
            &Accept {
                protocol: protocol.as_deref(),
                extensions: &extensions,
                server: config.server_name.as_deref(),
                headers: &extra,
            },
        )?;
        stream.write_all(&out[..n])?;
        let leftover = head[used..].to_vec();
        let peer = client_addr(stream.peer_addr(), req.headers, config.trusted_proxies);
        log::debug!(
            "{}: WebSocket open (protocol {:?}, compression {:?})",
            peer.map_or_else(|| "?".to_owned(), |p| p.to_string()),
            protocol,
            compression
        );
        let negotiated = Negotiated {
            protocol,
            compression,
        };
        let mut ws = WebSocket::from_stream(
            stream,
            Role::Server,
            config.settings.clone(),
            &leftover,
            negotiated,
        )?;
        ws.set_peer_addr(peer);
        return Ok(ws);
    }
}

fn to_http_request(req: &handshake::ClientHandshake<'_, '_>) -> Result<http::Request<()>> {
    let mut b = http::Request::builder().method("GET").uri(req.path);
    for h in req.headers {
        b = b.header(h.name, h.value);
    }
    b.body(())
        .map_err(|_| Error::Handshake(HandshakeError::Http(httparse::Error::Token)))
}
