//! HTTP `CONNECT` proxies (RFC 9110 §9.3.6) for clients: `ws://` and `wss://` tunnel through
//! them alike (TLS runs end to end, inside the tunnel).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ferrobahn_core::httparse;

use crate::error::{Error, Result};

/// Largest proxy response head read.
const MAX_HEAD: usize = 8 * 1024;

/// A proxy to tunnel through.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// Proxy host.
    pub host: String,
    /// Proxy port (default 80 for `http://`).
    pub port: u16,
    /// Basic authentication.
    pub auth: Option<(String, String)>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("auth", &self.auth.as_ref().map(|(u, _)| (u, "***")))
            .finish()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Proxy {
    /// Parses `[http://][user:password@]host[:port][/]` (credentials percent-decoded).
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| Error::Url(format!("proxy {url:?}: {why}"));
        let rest = match url.split_once("://") {
            Some(("http", r)) => r,
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "scheme {scheme}:// (only http:// CONNECT proxies)"
                )))
            }
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((a, h)) => {
                let (u, p) = a.split_once(':').unwrap_or((a, ""));
                (Some((percent_decode(u), percent_decode(p))), h)
            }
            None => (None, rest),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad("port"))?,
                None => 80,
            };
            (h.to_owned(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| bad("port"))?),
                None => (hostport.to_owned(), 80),
            }
        };
        if host.is_empty() || host.contains('/') {
            return Err(bad("host"));
        }
        Ok(Self { host, port, auth })
    }

    /// The proxy the environment gives for `host`: `https_proxy` for TLS, else
    /// `http_proxy` (lower case first, then upper case), unless `no_proxy` matches `host`
    /// (comma-separated names: `*`, an exact host, or a domain suffix with or without a
    /// leading dot).
    pub fn from_env(host: &str, tls: bool) -> Result<Option<Self>> {
        let var = |name: &str| {
            std::env::var(name)
                .or_else(|_| std::env::var(name.to_uppercase()))
                .ok()
                .filter(|v| !v.is_empty())
        };
        if let Some(no) = var("no_proxy") {
            if no_proxy_matches(&no, host) {
                return Ok(None);
            }
        }
        let url = if tls {
            var("https_proxy")
        } else {
            var("http_proxy")
        };
        url.map(|u| Self::parse(&u)).transpose()
    }

    /// Asks the proxy for a tunnel to `host:port` over `stream` (connected to the proxy).
    /// A refusal is [`Error::Proxy`] with the proxy's status (407: authentication needed
    /// or wrong; 502/503/504: it could not reach the target).
    pub fn tunnel(
        &self,
        stream: &TcpStream,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<()> {
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some((user, pass)) = &self.auth {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            req.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        req.push_str("\r\n");
        let mut s = stream;
        s.write_all(req.as_bytes())?;
        let deadline = Instant::now() + timeout;
        let mut head = Vec::with_capacity(256);
        let mut byte = [0u8; 1];
        // Byte by byte: what follows the head belongs to the tunnel (the target's bytes).
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
            }
            stream.set_read_timeout(Some(left))?;
            if s.read(&mut byte)? == 0 {
                return Err(Error::Proxy {
                    status: 0,
                    reason: "the proxy closed the connection".into(),
                });
            }
            head.push(byte[0]);
            if head.ends_with(b"\r\n\r\n") {
                break;
            }
            if head.len() > MAX_HEAD {
                return Err(Error::Proxy {
                    status: 0,
                    reason: "response head too large".into(),
                });
            }
        }
        stream.set_read_timeout(None)?;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => {
                return Err(Error::Proxy {
                    status: 0,
                    reason: "not an HTTP response".into(),
                })
            }
        }
        let status = resp.code.unwrap_or(0);
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(Error::Proxy {
                status,
                reason: resp.reason.unwrap_or("").to_owned(),
            })
        }
    }
}

/// Whether a `no_proxy` list covers `host`.
fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|e| {
            let e = e.to_ascii_lowercase();
            // A port in the entry is ignored.
            let e = match e.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => {
                    h.to_owned()
                }
                _ => e,
            };
            if e == "*" {
                return true;
            }
            let suffix = e.trim_start_matches('.');
            host == suffix || host.ends_with(&format!(".{suffix}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let p = Proxy::parse("http://alice:s%40cret@proxy.local:3128/").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.auth.clone()),
            ("proxy.local", 3128, Some(("alice".into(), "s@cret".into())))
        );
        let p = Proxy::parse("127.0.0.1:8080").unwrap();
        assert_eq!((p.host.as_str(), p.port, p.auth), ("127.0.0.1", 8080, None));
        let p = Proxy::parse("http://[::1]:9").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", 9));
        assert_eq!(Proxy::parse("http://p").unwrap().port, 80);
        assert!(Proxy::parse("socks5://p:1080").is_err());
        assert!(Proxy::parse("http://p:x").is_err());
        assert!(!format!("{:?}", Proxy::parse("http://a:pw@p").unwrap()).contains("pw"));
    }

    #[test]
    fn no_proxy_lists() {
        assert!(no_proxy_matches(
            "localhost,.example.com",
            "api.example.com"
        ));
        assert!(no_proxy_matches("example.com", "example.com"));
        assert!(no_proxy_matches("example.com", "a.example.com"));
        assert!(!no_proxy_matches("example.com", "badexample.com"));
        assert!(no_proxy_matches(" * ", "anything"));
        assert!(no_proxy_matches("127.0.0.1:8080", "127.0.0.1"));
        assert!(no_proxy_matches("::1", "[::1]"));
        assert!(!no_proxy_matches("", "x"));
    }
}
