//! The opening handshake (RFC 6455 §4), both roles, over caller-owned buffers.
//!
//! Parsing uses `httparse` with header storage the caller provides; responses and requests
//! are written into the caller's buffer. Bytes that follow the HTTP head belong to the frame
//! stream: every parse returns how much of the input the head used, and the driver must keep
//! the rest (a server may send its first frame in the same packet as its 101 response).
//!
//! - Client: [`ClientRequest::write`] → [`parse_response`] (checks status 101, `Upgrade`,
//!   `Connection`, `Sec-WebSocket-Accept`, the chosen subprotocol and extensions).
//! - Server: [`parse_request`] → (origin check, subprotocol and extension choice by the
//!   caller) → [`write_accept`] or [`write_error`] (400/403/404/426/503, redirects).

use base64::Engine;
use sha1::{Digest, Sha1};

use crate::Status;

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Why a handshake failed. Server-side variants map to the HTTP status the server answers
/// with ([`status`](Self::status)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The HTTP head is malformed.
    Http(httparse::Error),
    /// More headers than the header storage holds.
    TooManyHeaders,
    /// The HTTP head is larger than the buffer can hold.
    TooLarge,
    /// Not a GET request.
    NotGet,
    /// Not HTTP/1.1 or later.
    HttpVersion,
    /// `Upgrade: websocket` missing.
    NoUpgrade,
    /// `Connection: upgrade` missing.
    NoConnectionUpgrade,
    /// `Host` missing.
    NoHost,
    /// `Sec-WebSocket-Key` missing or not 16 bytes of base64.
    BadKey,
    /// `Sec-WebSocket-Version` other than 13.
    UnsupportedVersion,
    /// The server answered with a status other than 101 (the status is in the value).
    Status(u16),
    /// `Sec-WebSocket-Accept` missing or wrong.
    BadAccept,
    /// The server chose a subprotocol we did not offer.
    UnexpectedProtocol,
    /// The server chose an extension we did not offer, or a malformed extension header.
    UnexpectedExtension,
    /// The output buffer is too small.
    BufferTooSmall,
}

impl HandshakeError {
    /// The HTTP status a server answers this error with.
    pub const fn status(&self) -> u16 {
        match self {
            Self::UnsupportedVersion => 426,
            Self::NotGet => 405,
            Self::TooLarge => 431,
            _ => 400,
        }
    }
}

impl From<httparse::Error> for HandshakeError {
    fn from(e: httparse::Error) -> Self {
        match e {
            httparse::Error::TooManyHeaders => Self::TooManyHeaders,
            e => Self::Http(e),
        }
    }
}

impl core::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Http(e) => write!(f, "malformed HTTP: {e}"),
            Self::Status(s) => write!(f, "server answered HTTP {s}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl core::error::Error for HandshakeError {}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (§4.2.2): base64(SHA-1(key + GUID)).
pub fn accept_key(key: &[u8]) -> [u8; 28] {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let digest = sha.finalize();
    let mut out = [0u8; 28];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(digest, &mut out)
        .unwrap_or(0);
    debug_assert_eq!(n, 28);
    out
}

/// Encodes 16 random bytes (from the caller: the core has no RNG) as a `Sec-WebSocket-Key`.
pub fn client_key(nonce: [u8; 16]) -> [u8; 24] {
    let mut out = [0u8; 24];
    let _ = base64::engine::general_purpose::STANDARD.encode_slice(nonce, &mut out);
    out
}

/// Comma-separated tokens of a header value, trimmed, empty ones skipped.
pub fn tokens(value: &[u8]) -> impl Iterator<Item = &str> {
    value
        .split(|&b| b == b',')
        .filter_map(|t| core::str::from_utf8(t).ok())
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
}

fn has_token(value: &[u8], token: &str) -> bool {
    tokens(value).any(|t| t.eq_ignore_ascii_case(token))
}

/// A header's value by case-insensitive name (the first, if repeated).
pub fn header<'h>(headers: &[httparse::Header<'h>], name: &str) -> Option<&'h [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// Every value of a header that may repeat (`Sec-WebSocket-Protocol`, `-Extensions`).
pub fn header_all<'a, 'h>(
    headers: &'a [httparse::Header<'h>],
    name: &'a str,
) -> impl Iterator<Item = &'h [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// One extension in a `Sec-WebSocket-Extensions` value (§9.1), e.g.
/// `permessage-deflate; client_max_window_bits; server_max_window_bits=10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtensionOffer<'a> {
    /// The extension token.
    pub name: &'a str,
    raw_params: &'a str,
}

impl<'a> ExtensionOffer<'a> {
    /// Its parameters: name and value (quotes removed), in order.
    pub fn params(
        &self,
    ) -> impl Iterator<Item = Result<(&'a str, Option<&'a str>), HandshakeError>> + 'a {
        self.raw_params
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (name, value) = match p.split_once('=') {
                    Some((n, v)) => (n.trim(), Some(unquote(v.trim())?)),
                    None => (p, None),
                };
                if !is_token(name) {
                    return Err(HandshakeError::UnexpectedExtension);
                }
                Ok((name, value))
            })
    }
}

fn unquote(v: &str) -> Result<&str, HandshakeError> {
    let v = if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        &v[1..v.len() - 1]
    } else {
        v
    };
    if is_token(v) {
        Ok(v)
    } else {
        Err(HandshakeError::UnexpectedExtension)
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The extensions in one `Sec-WebSocket-Extensions` header value, in order.
pub fn extensions(
    value: &[u8],
) -> impl Iterator<Item = Result<ExtensionOffer<'_>, HandshakeError>> {
    let s = core::str::from_utf8(value).unwrap_or("\u{0}");
    // Splitting on ',' is sound: token and quoted-token values contain no commas.
    s.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (name, raw_params) = e.split_once(';').unwrap_or((e, ""));
            let name = name.trim();
            if is_token(name) {
                Ok(ExtensionOffer { name, raw_params })
            } else {
                Err(HandshakeError::UnexpectedExtension)
            }
        })
}

/// Whether `origin` matches one of `patterns`, where `*` matches any run of characters
/// (`https://*.example.com`). The literal origin `null` is allowed only with `allow_null`;
/// a missing `Origin` header (non-browser clients) is always allowed.
pub fn origin_allowed(origin: Option<&[u8]>, patterns: &[&str], allow_null: bool) -> bool {
    let Some(origin) = origin else { return true };
    let Ok(origin) = core::str::from_utf8(origin) else {
        return false;
    };
    let origin = origin.trim();
    if origin == "null" {
        return allow_null;
    }
    patterns
        .iter()
        .any(|p| wildcard_match(p.as_bytes(), origin.as_bytes()))
}

fn wildcard_match(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| wildcard_match(rest, &s[i..])),
        Some((c, rest)) => {
            s.first().is_some_and(|d| d.eq_ignore_ascii_case(c)) && wildcard_match(rest, &s[1..])
        }
    }
}

/// A cursor that writes into a caller's buffer and fails cleanly when it is full.
struct Out<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), HandshakeError> {
        let end = self.at + bytes.len();
        self.buf
            .get_mut(self.at..end)
            .ok_or(HandshakeError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.at = end;
        Ok(())
    }

    fn header(&mut self, name: &str, value: &[u8]) -> Result<(), HandshakeError> {
        self.put(name.as_bytes())?;
        self.put(b": ")?;
        self.put(value)?;
        self.put(b"\r\n")
    }

    fn number(&mut self, mut n: u16) -> Result<(), HandshakeError> {
        let mut digits = [0u8; 5];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(&digits[i..])
    }
}

/// What a client asks for.
#[derive(Clone, Copy, Debug)]
pub struct ClientRequest<'a> {
    /// `Host` header value (`host` or `host:port`).
    pub host: &'a str,
    /// Request target: path and query, starting with `/`.
    pub path: &'a str,
    /// `Sec-WebSocket-Key`, from [`client_key`].
    pub key: &'a [u8; 24],
    /// Subprotocols in order of preference (may be empty).
    pub protocols: &'a [&'a str],
    /// `Sec-WebSocket-Extensions` offer, as written (empty: none).
    pub extensions: &'a str,
    /// `Origin`, if any.
    pub origin: Option<&'a str>,
    /// More headers.
    pub headers: &'a [(&'a str, &'a [u8])],
}

impl ClientRequest<'_> {
    /// Writes the GET request into `out`; returns its length.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, HandshakeError> {
        let mut o = Out { buf: out, at: 0 };
        o.put(b"GET ")?;
        o.put(self.path.as_bytes())?;
        o.put(b" HTTP/1.1\r\n")?;
        o.header("Host", self.host.as_bytes())?;
        o.header("Upgrade", b"websocket")?;
        o.header("Connection", b"Upgrade")?;
        o.header("Sec-WebSocket-Key", self.key)?;
        o.header("Sec-WebSocket-Version", b"13")?;
        if !self.protocols.is_empty() {
            o.put(b"Sec-WebSocket-Protocol: ")?;
            for (i, p) in self.protocols.iter().enumerate() {
                if i > 0 {
                    o.put(b", ")?;
                }
                o.put(p.as_bytes())?;
            }
            o.put(b"\r\n")?;
        }
        if !self.extensions.is_empty() {
            o.header("Sec-WebSocket-Extensions", self.extensions.as_bytes())?;
        }
        if let Some(origin) = self.origin {
            o.header("Origin", origin.as_bytes())?;
        }
        for (name, value) in self.headers {
            o.header(name, value)?;
        }
        o.put(b"\r\n")?;
        Ok(o.at)
    }
}

/// A server's 101 response, checked.
#[derive(Debug)]
pub struct ServerResponse<'h, 'b> {
    /// The subprotocol the server chose.
    pub protocol: Option<&'b str>,
    /// All response headers (extensions included, for the caller's negotiation).
    pub headers: &'h [httparse::Header<'b>],
}

/// Parses a server's response to `request`. `Partial` until the whole head is there; then
/// the response and the head's length (bytes after it are frames).
pub fn parse_response<'h, 'b>(
    bytes: &'b [u8],
    storage: &'h mut [httparse::Header<'b>],
    request: &ClientRequest<'_>,
) -> Result<Status<(ServerResponse<'h, 'b>, usize)>, HandshakeError> {
    let mut res = httparse::Response::new(storage);
    let n = match res.parse(bytes)? {
        httparse::Status::Partial => return Ok(Status::Partial),
        httparse::Status::Complete(n) => n,
    };
    let code = res.code.unwrap_or(0);
    if code != 101 {
        return Err(HandshakeError::Status(code));
    }
    let headers: &'h [httparse::Header<'b>] = res.headers;
    if !header(headers, "Upgrade").is_some_and(|v| has_token(v, "websocket")) {
        return Err(HandshakeError::NoUpgrade);
    }
    if !header(headers, "Connection").is_some_and(|v| has_token(v, "upgrade")) {
        return Err(HandshakeError::NoConnectionUpgrade);
    }
    let expect = accept_key(request.key);
    if header(headers, "Sec-WebSocket-Accept").map(<[u8]>::trim_ascii) != Some(&expect[..]) {
        return Err(HandshakeError::BadAccept);
    }
    let protocol = match header(headers, "Sec-WebSocket-Protocol") {
        None => None,
        Some(v) => {
            let p = core::str::from_utf8(v)
                .map_err(|_| HandshakeError::UnexpectedProtocol)?
                .trim();
            if !request.protocols.contains(&p) {
                return Err(HandshakeError::UnexpectedProtocol);
            }
            Some(p)
        }
    };
    if request.extensions.is_empty() && header(headers, "Sec-WebSocket-Extensions").is_some() {
        return Err(HandshakeError::UnexpectedExtension);
    }
    Ok(Status::Complete((ServerResponse { protocol, headers }, n)))
}

/// A client's opening request, checked (§4.2.1).
#[derive(Debug)]
pub struct ClientHandshake<'h, 'b> {
    /// Request target (path and query).
    pub path: &'b str,
    /// `Sec-WebSocket-Key`, validated (24 base64 characters for 16 bytes).
    pub key: &'b [u8],
    /// All request headers.
    pub headers: &'h [httparse::Header<'b>],
    /// `Sec-WebSocket-Version`: 13 (RFC 6455), or 8 (hybi-10, where a server allows it).
    pub version: u8,
}

impl<'b> ClientHandshake<'_, 'b> {
    /// `Origin` (or the hybi `Sec-WebSocket-Origin`), if sent.
    pub fn origin(&self) -> Option<&'b [u8]> {
        header(self.headers, "Origin").or_else(|| header(self.headers, "Sec-WebSocket-Origin"))
    }

    /// The subprotocols offered, in the client's order.
    pub fn protocols(&self) -> impl Iterator<Item = &'b str> + '_ {
        header_all(self.headers, "Sec-WebSocket-Protocol").flat_map(tokens)
    }

    /// The extensions offered, in order, over every `Sec-WebSocket-Extensions` header.
    pub fn extensions(
        &self,
    ) -> impl Iterator<Item = Result<ExtensionOffer<'b>, HandshakeError>> + '_ {
        header_all(self.headers, "Sec-WebSocket-Extensions").flat_map(extensions)
    }

    /// `Sec-WebSocket-Accept` for this request.
    pub fn accept(&self) -> [u8; 28] {
        accept_key(self.key)
    }
}

/// Parses and checks a client's opening request (RFC 6455, `Sec-WebSocket-Version: 13`).
/// `Partial` until the head is complete.
pub fn parse_request<'h, 'b>(
    bytes: &'b [u8],
    storage: &'h mut [httparse::Header<'b>],
) -> Result<Status<(ClientHandshake<'h, 'b>, usize)>, HandshakeError> {
    parse_request_versions(bytes, storage, &[13])
}

/// [`parse_request`] taking any of `versions` in `Sec-WebSocket-Version`, as Autobahn's
/// `versions` option: 13, and 8 for hybi-10 clients (draft 10 of what became RFC 6455; its
/// handshake and framing are the RFC's, its origin header `Sec-WebSocket-Origin`, which
/// [`ClientHandshake::origin`] reads). Other versions (the hixie drafts) are not spoken.
pub fn parse_request_versions<'h, 'b>(
    bytes: &'b [u8],
    storage: &'h mut [httparse::Header<'b>],
    versions: &[u8],
) -> Result<Status<(ClientHandshake<'h, 'b>, usize)>, HandshakeError> {
    let mut req = httparse::Request::new(storage);
    let n = match req.parse(bytes)? {
        httparse::Status::Partial => return Ok(Status::Partial),
        httparse::Status::Complete(n) => n,
    };
    if req.method != Some("GET") {
        return Err(HandshakeError::NotGet);
    }
    if req.version != Some(1) {
        return Err(HandshakeError::HttpVersion);
    }
    let path = req.path.unwrap_or("/");
    let headers: &'h [httparse::Header<'b>] = req.headers;
    if header(headers, "Host").is_none() {
        return Err(HandshakeError::NoHost);
    }
    if !header(headers, "Upgrade").is_some_and(|v| has_token(v, "websocket")) {
        return Err(HandshakeError::NoUpgrade);
    }
    if !header(headers, "Connection").is_some_and(|v| has_token(v, "upgrade")) {
        return Err(HandshakeError::NoConnectionUpgrade);
    }
    let version = match header(headers, "Sec-WebSocket-Version").map(<[u8]>::trim_ascii) {
        Some(b"13") => 13,
        Some(b"8") => 8,
        _ => return Err(HandshakeError::UnsupportedVersion),
    };
    if !versions.contains(&version) {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let key = header(headers, "Sec-WebSocket-Key")
        .map(<[u8]>::trim_ascii)
        .ok_or(HandshakeError::BadKey)?;
    let mut decoded = [0u8; 18];
    match base64::engine::general_purpose::STANDARD.decode_slice(key, &mut decoded) {
        Ok(16) => {}
        _ => return Err(HandshakeError::BadKey),
    }
    Ok(Status::Complete((
        ClientHandshake {
            path,
            key,
            headers,
            version,
        },
        n,
    )))
}

/// What the server accepts with.
#[derive(Clone, Copy, Debug, Default)]
pub struct Accept<'a> {
    /// The chosen subprotocol.
    pub protocol: Option<&'a str>,
    /// The `Sec-WebSocket-Extensions` response value (empty: none).
    pub extensions: &'a str,
    /// `Server` header value (Autobahn's TestSuite names the agent after it).
    pub server: Option<&'a str>,
    /// More headers.
    pub headers: &'a [(&'a str, &'a [u8])],
}

/// Writes the 101 response for a request whose `Sec-WebSocket-Accept` is `accept`.
pub fn write_accept(
    out: &mut [u8],
    accept: &[u8; 28],
    response: &Accept<'_>,
) -> Result<usize, HandshakeError> {
    let mut o = Out { buf: out, at: 0 };
    o.put(b"HTTP/1.1 101 Switching Protocols\r\n")?;
    if let Some(s) = response.server {
        o.header("Server", s.as_bytes())?;
    }
    o.header("Upgrade", b"websocket")?;
    o.header("Connection", b"Upgrade")?;
    o.header("Sec-WebSocket-Accept", accept)?;
    if let Some(p) = response.protocol {
        o.header("Sec-WebSocket-Protocol", p.as_bytes())?;
    }
    if !response.extensions.is_empty() {
        o.header("Sec-WebSocket-Extensions", response.extensions.as_bytes())?;
    }
    for (name, value) in response.headers {
        o.header(name, value)?;
    }
    o.put(b"\r\n")?;
    Ok(o.at)
}

/// The reason phrase for the statuses a WebSocket server answers with.
pub const fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// Writes an HTTP error or redirect response (`Connection: close`, a plain-text body).
/// A 426 carries `Sec-WebSocket-Version: 13` unless `headers` name the versions; for a
/// redirect pass `Location` in `headers`.
pub fn write_error(
    out: &mut [u8],
    status: u16,
    headers: &[(&str, &[u8])],
    body: &str,
) -> Result<usize, HandshakeError> {
    let mut o = Out { buf: out, at: 0 };
    o.put(b"HTTP/1.1 ")?;
    o.number(status)?;
    o.put(b" ")?;
    o.put(reason_phrase(status).as_bytes())?;
    o.put(b"\r\n")?;
    if status == 426
        && !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Sec-WebSocket-Version"))
    {
        o.header("Sec-WebSocket-Version", b"13")?;
    }
    for (name, value) in headers {
        o.header(name, value)?;
    }
    o.header("Connection", b"close")?;
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
    {
        o.header("Content-Type", b"text/plain; charset=utf-8")?;
    }
    o.put(b"Content-Length: ")?;
    o.number(body.len().min(u16::MAX as usize) as u16)?;
    o.put(b"\r\n\r\n")?;
    o.put(body.as_bytes())?;
    Ok(o.at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example_accept() {
        assert_eq!(
            &accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn request_response_round_trip() {
        let key = client_key([7; 16]);
        let req = ClientRequest {
            host: "example.com:80",
            path: "/chat?x=1",
            key: &key,
            protocols: &["wamp.2.json", "wamp.2.cbor"],
            extensions: "permessage-deflate; client_max_window_bits",
            origin: Some("http://example.com"),
            headers: &[("X-Test", b"1")],
        };
        let mut buf = [0u8; 512];
        let n = req.write(&mut buf).unwrap();
        for cut in 0..n {
            let mut h = [httparse::EMPTY_HEADER; 16];
            assert!(matches!(
                parse_request(&buf[..cut], &mut h),
                Ok(Status::Partial)
            ));
        }
        let mut h = [httparse::EMPTY_HEADER; 16];
        let Status::Complete((hs, used)) = parse_request(&buf[..n], &mut h).unwrap() else {
            panic!()
        };
        assert_eq!(used, n);
        assert_eq!(hs.path, "/chat?x=1");
        let protos: [&str; 2] = {
            let mut it = hs.protocols();
            [it.next().unwrap(), it.next().unwrap()]
        };
        assert_eq!(protos, ["wamp.2.json", "wamp.2.cbor"]);
        let ext = hs.extensions().next().unwrap().unwrap();
        assert_eq!(ext.name, "permessage-deflate");
        assert_eq!(
            ext.params().next().unwrap().unwrap(),
            ("client_max_window_bits", None)
        );
        assert!(origin_allowed(hs.origin(), &["http://*.com"], false));
        assert!(!origin_allowed(hs.origin(), &["https://*"], false));

        let mut resp = [0u8; 512];
        let accept = hs.accept();
        let m = write_accept(
            &mut resp,
            &accept,
            &Accept {
                protocol: Some("wamp.2.cbor"),
                server: Some("ferrobahn"),
                ..Default::default()
            },
        )
        .unwrap();
        resp[m..m + 2].copy_from_slice(&[0x81, 0x00]); // a frame right behind the head
        let mut h = [httparse::EMPTY_HEADER; 16];
        let Status::Complete((r, used)) = parse_response(&resp[..m + 2], &mut h, &req).unwrap()
        else {
            panic!()
        };
        assert_eq!((r.protocol, used), (Some("wamp.2.cbor"), m));
    }

    #[test]
    fn server_rejections() {
        let cases: [(&[u8], HandshakeError); 4] = [
            (b"POST / HTTP/1.1\r\nHost: a\r\n\r\n", HandshakeError::NotGet),
            (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n\r\n", HandshakeError::UnsupportedVersion),
            (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: abc\r\n\r\n", HandshakeError::BadKey),
            (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n\r\n", HandshakeError::NoUpgrade),
        ];
        for (req, err) in cases {
            let mut h = [httparse::EMPTY_HEADER; 16];
            assert_eq!(parse_request(req, &mut h).err(), Some(err));
        }
        let mut out = [0u8; 256];
        let n = write_error(&mut out, 426, &[], "").unwrap();
        let text = core::str::from_utf8(&out[..n]).unwrap();
        assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"));
    }

    #[test]
    fn hybi_10_requests_where_version_8_is_allowed() {
        let req = b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Origin: http://a.example\r\nSec-WebSocket-Version: 8\r\n\r\n";
        let mut h = [httparse::EMPTY_HEADER; 16];
        assert_eq!(
            parse_request(req, &mut h).err(),
            Some(HandshakeError::UnsupportedVersion)
        );
        let mut h = [httparse::EMPTY_HEADER; 16];
        let Status::Complete((hs, _)) = parse_request_versions(req, &mut h, &[13, 8]).unwrap()
        else {
            panic!()
        };
        assert_eq!(hs.version, 8);
        assert_eq!(hs.origin(), Some(&b"http://a.example"[..]));
        assert_eq!(&hs.accept(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        // Only 8 allowed: a version 13 request is refused.
        let v13 = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        let mut h = [httparse::EMPTY_HEADER; 16];
        assert_eq!(
            parse_request_versions(v13, &mut h, &[8]).err(),
            Some(HandshakeError::UnsupportedVersion)
        );
        // A 426 names what the server speaks.
        let mut out = [0u8; 256];
        let n = write_error(&mut out, 426, &[("Sec-WebSocket-Version", b"13, 8")], "").unwrap();
        let text = core::str::from_utf8(&out[..n]).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13, 8\r\n")
        );
        assert_eq!(text.matches("Sec-WebSocket-Version").count(), 1);
    }

    #[test]
    fn extension_params_with_quotes_and_errors() {
        let v =
            b"permessage-deflate; server_max_window_bits=\"10\"; client_no_context_takeover, x-foo";
        let mut it = extensions(v);
        let pmd = it.next().unwrap().unwrap();
        let mut p = pmd.params();
        assert_eq!(
            p.next().unwrap().unwrap(),
            ("server_max_window_bits", Some("10"))
        );
        assert_eq!(
            p.next().unwrap().unwrap(),
            ("client_no_context_takeover", None)
        );
        assert_eq!(it.next().unwrap().unwrap().name, "x-foo");
        assert!(extensions(b"bad name").next().unwrap().is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_heads_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut h = [httparse::EMPTY_HEADER; 8];
            let _ = parse_request(&data, &mut h);
            let key = client_key([1; 16]);
            let req = ClientRequest { host: "h", path: "/", key: &key, protocols: &[], extensions: "", origin: None, headers: &[] };
            let mut h = [httparse::EMPTY_HEADER; 8];
            let _ = parse_response(&data, &mut h, &req);
            for e in extensions(&data).flatten() { for _ in e.params() {} }
        }
    }
}
