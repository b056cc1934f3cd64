//! The blocking client: `connect("ws://host:port/path")` (or `wss://`) or a
//! [`ClientBuilder`], optionally through an HTTP `CONNECT` proxy.
//!
//! ```text
//!   TCP connect (to the proxy, if any) ─▶ CONNECT host:port (proxy) ─▶ TLS (wss://)
//!     ─▶ HTTP Upgrade ─▶ WebSocket<Transport>
//! ```

use std::net::{TcpStream, ToSocketAddrs};
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrobahn_core::handshake::{self, ClientRequest, HandshakeError};
use ferrobahn_core::httparse;
use ferrobahn_core::{Role, Status};

use crate::compress::{self, Compression, Offer};
use crate::entropy;
use crate::error::{Error, Result};
use crate::proxy::Proxy;
#[cfg(feature = "tls")]
use crate::tls::{self, TlsClientOptions, TlsStream};
use crate::transport::Transport;
use crate::websocket::{Negotiated, Settings, Stream, WebSocket};
use ferrobahn_core::deflate::DeflateOffer;

/// Largest HTTP response head we accept.
const MAX_HEAD: usize = 16 * 1024;

/// Connects to a `ws://` or `wss://` URL with default settings.
pub fn connect(url: &str) -> Result<WebSocket> {
    ClientBuilder::new(url).connect()
}

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    url: String,
    protocols: Vec<String>,
    headers: Vec<(String, String)>,
    origin: Option<String>,
    connect_timeout: Option<Duration>,
    handshake_timeout: Duration,
    nodelay: bool,
    settings: Settings,
    offers: Vec<Offer>,
    proxy: Option<Proxy>,
    proxy_from_env: bool,
    #[cfg(feature = "tls")]
    tls: Option<Arc<tls::rustls::ClientConfig>>,
    #[cfg(feature = "tls")]
    tls_options: TlsClientOptions,
}

/// A parsed `ws://` or `wss://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss://`.
    pub tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (80, or 443 for `wss://`, by default).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
    /// The `Host` header value.
    pub host_header: String,
}

impl WsUrl {
    /// Parses `ws[s]://host[:port][/path][?query]`.
    pub fn parse(url: &str) -> Result<Self> {
        let uri: http::Uri = url.parse().map_err(|e| Error::Url(format!("{url}: {e}")))?;
        let tls = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => return Err(Error::Url(format!("{url}: scheme must be ws:// or wss://"))),
        };
        let authority = uri
            .host()
            .ok_or_else(|| Error::Url(format!("{url}: no host")))?;
        let host = authority
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let path = uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned());
        let path = if path.is_empty() {
            "/".to_owned()
        } else {
            path
        };
        let host_header = match uri.port_u16() {
            Some(p) => format!("{authority}:{p}"),
            None => authority.to_owned(),
        };
        Ok(Self {
            tls,
            host,
            port,
            path,
            host_header,
        })
    }
}

impl ClientBuilder {
    /// A client for `url` with default settings.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            protocols: Vec::new(),
            headers: Vec::new(),
            origin: None,
            connect_timeout: Some(Duration::from_secs(10)),
            handshake_timeout: Duration::from_secs(10),
            nodelay: true,
            settings: Settings::default(),
            offers: Vec::new(),
            proxy: None,
            proxy_from_env: false,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            tls_options: TlsClientOptions::default(),
        }
    }

    /// Goes through this HTTP `CONNECT` proxy (`http://[user:password@]host[:port]`; Basic
    /// authentication when credentials are given).
    pub fn proxy(mut self, proxy_url: &str) -> Result<Self> {
        self.proxy = Some(Proxy::parse(proxy_url)?);
        Ok(self)
    }

    /// Takes the proxy from `https_proxy` (for `wss://`) or `http_proxy` (for `ws://`),
    /// upper or lower case, unless `no_proxy` names the host. An explicit
    /// [`proxy`](Self::proxy) wins.
    pub fn proxy_from_env(mut self, on: bool) -> Self {
        self.proxy_from_env = on;
        self
    }

    /// `wss://`: use this rustls configuration as it is (roots, client certificate, ALPN,
    /// everything).
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: Arc<tls::rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// `wss://`: also trust these root CAs (PEM), beside the built-in Mozilla roots.
    #[cfg(feature = "tls")]
    pub fn add_root_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_options.root_pem.push(pem.into());
        self
    }

    /// `wss://`: trust only the roots given with [`add_root_pem`](Self::add_root_pem).
    #[cfg(feature = "tls")]
    pub fn no_builtin_roots(mut self) -> Self {
        self.tls_options.no_builtin_roots = true;
        self
    }

    /// `wss://`: present this client certificate chain and key (PEM).
    #[cfg(feature = "tls")]
    pub fn client_cert_pem(mut self, chain: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.tls_options.client_cert_pem = Some((chain.into(), key.into()));
        self
    }

    /// Subprotocols to offer, in order of preference.
    pub fn protocols<I: IntoIterator<Item = S>, S: Into<String>>(mut self, p: I) -> Self {
        self.protocols = p.into_iter().map(Into::into).collect();
        self
    }

    /// An extra request header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The `Origin` header.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// TCP connect timeout (`None`: the OS default).
    pub fn connect_timeout(mut self, t: Option<Duration>) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Time allowed for the opening handshake.
    pub fn handshake_timeout(mut self, t: Duration) -> Self {
        self.handshake_timeout = t;
        self
    }

    /// `TCP_NODELAY` (on by default: WebSocket messages are latency-bound).
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// Connection settings (limits, timeouts, masking, auto-fragmentation).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Offers permessage-deflate (RFC 7692) with these parameters; call again to add
    /// fallback offers, in order of preference. Same as [`offer`](Self::offer).
    pub fn deflate(self, offer: DeflateOffer) -> Self {
        self.offer(offer)
    }

    /// Offers a per-message compression method (deflate, brotli, bzip2, snappy:
    /// [`Offer`]); call again for more, in order of preference. The server picks one.
    pub fn offer(mut self, offer: impl Into<Offer>) -> Self {
        self.offers.push(offer.into());
        self
    }

    /// Checks the server's `Sec-WebSocket-Extensions` against our offers (RFC 7692 §7.1):
    /// at most one extension, answering one of our offers of its method; nothing else.
    fn compression_response(
        &self,
        headers: &[httparse::Header<'_>],
    ) -> Result<Option<Compression>> {
        let mut exts = Vec::new();
        for ext in handshake::header_all(headers, "Sec-WebSocket-Extensions")
            .flat_map(handshake::extensions)
        {
            exts.push(ext?);
        }
        compress::accept_response(&self.offers, exts.into_iter())
            .map_err(|()| HandshakeError::UnexpectedExtension.into())
    }

    /// Connects (through the proxy, with TLS for `wss://`) and performs the handshake.
    pub fn connect(self) -> Result<WebSocket> {
        let url = WsUrl::parse(&self.url)?;
        let proxy = match &self.proxy {
            Some(p) => Some(p.clone()),
            None if self.proxy_from_env => Proxy::from_env(&url.host, url.tls)?,
            None => None,
        };
        let (host, port) = match &proxy {
            Some(p) => (p.host.as_str(), p.port),
            None => (url.host.as_str(), url.port),
        };
        let started = Instant::now();
        let stream = self.tcp_connect(host, port)?;
        stream.set_nodelay(self.nodelay)?;
        if let Some(p) = &proxy {
            log::debug!(
                "CONNECT {}:{} through {}:{}",
                url.host,
                url.port,
                p.host,
                p.port
            );
            p.tunnel(&stream, &url.host, url.port, self.handshake_timeout)?;
        }
        let transport = if url.tls {
            self.tls_connect(&url, stream, started)?
        } else {
            Transport::Tcp(stream)
        };
        self.handshake(transport, &url)
    }

    #[cfg(feature = "tls")]
    fn tls_connect(&self, url: &WsUrl, stream: TcpStream, started: Instant) -> Result<Transport> {
        let config = match &self.tls {
            Some(c) => Arc::clone(c),
            None => tls::client_config(&self.tls_options)?,
        };
        let left = self.handshake_timeout.saturating_sub(started.elapsed());
        let left = left.max(Duration::from_millis(1));
        let tls = TlsStream::connect(config, &url.host, stream, Some(left))?;
        Ok(Transport::Tls(Box::new(tls)))
    }

    #[cfg(not(feature = "tls"))]
    fn tls_connect(&self, url: &WsUrl, _: TcpStream, _: Instant) -> Result<Transport> {
        Err(Error::Url(format!(
            "{}:{}: wss:// needs the `tls` feature",
            url.host, url.port
        )))
    }

    fn tcp_connect(&self, host: &str, port: u16) -> Result<TcpStream> {
        let addrs: Vec<_> = (host, port).to_socket_addrs()?.collect();
        let mut last = None;
        let mut stream = None;
        for addr in addrs {
            let r = match self.connect_timeout {
                Some(t) => TcpStream::connect_timeout(&addr, t),
                None => TcpStream::connect(addr),
            };
            match r {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        match stream {
            Some(s) => Ok(s),
            None => Err(last.map_or_else(
                || Error::Url(format!("{}: no address", self.url)),
                Error::Io,
            )),
        }
    }

    /// Performs the handshake over a stream the caller connected (any [`Stream`]).
    pub fn connect_stream<S: Stream>(self, stream: S) -> Result<WebSocket<S>> {
        let url = WsUrl::parse(&self.url)?;
        self.handshake(stream, &url)
    }

    fn handshake<S: Stream>(self, mut stream: S, url: &WsUrl) -> Result<WebSocket<S>> {
        let mut nonce = [0u8; 16];
        entropy::fill(&mut nonce);
        let key = handshake::client_key(nonce);
        let protocols: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let offers = compress::offer_header(&self.offers);
        let request = ClientRequest {
            host: &url.host_header,
            path: &url.path,
            key: &key,
            protocols: &protocols,
            extensions: &offers,
            origin: self.origin.as_deref(),
            headers: &headers,
        };
        let mut buf = vec![
            0u8;
            1024 + headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>()
                + url.path.len()
                + url.host_header.len()
                + offers.len()
                + protocols.iter().map(|p| p.len() + 2).sum::<usize>()
        ];
        let n = request.write(&mut buf)?;
        stream.write_all(&buf[..n])?;
        stream.flush()?;

        let deadline = Instant::now() + self.handshake_timeout;
        let mut head = Vec::with_capacity(1024);
        let mut chunk = [0u8; 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
            }
            stream.set_read_timeout(Some(left))?;
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            head.extend_from_slice(&chunk[..n]);
            let mut storage = [httparse::EMPTY_HEADER; 64];
            match handshake::parse_response(&head, &mut storage, &request)? {
                Status::Partial if head.len() > MAX_HEAD => {
                    return Err(HandshakeError::TooLarge.into())
                }
                Status::Partial => continue,
                Status::Complete((resp, used)) => {
                    let negotiated = Negotiated {
                        protocol: resp.protocol.map(str::to_owned),
                        compression: self.compression_response(resp.headers)?,
                    };
                    let leftover = head[used..].to_vec();
                    return WebSocket::from_stream(
                        stream,
                        Role::Client,
                        self.settings,
                        &leftover,
                        negotiated,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let u = WsUrl::parse("ws://127.0.0.1:9001/runCase?case=3&agent=x").unwrap();
        assert_eq!(
            (
                u.host.as_str(),
                u.port,
                u.path.as_str(),
                u.host_header.as_str()
            ),
            (
                "127.0.0.1",
                9001,
                "/runCase?case=3&agent=x",
                "127.0.0.1:9001"
            )
        );
        let u = WsUrl::parse("ws://example.com").unwrap();
        assert_eq!(
            (u.port, u.path.as_str(), u.host_header.as_str()),
            (80, "/", "example.com")
        );
        let u = WsUrl::parse("ws://[::1]:80/x").unwrap();
        assert_eq!(u.host, "::1");
        assert!(WsUrl::parse("http://x/").is_err());
        let u = WsUrl::parse("wss://example.com/ws").unwrap();
        assert_eq!(
            (u.tls, u.port, u.host_header.as_str()),
            (true, 443, "example.com")
        );
        assert!(!WsUrl::parse("ws://example.com").unwrap().tls);
    }
}
