//! Helpers shared by the integration tests: servers on ephemeral ports, an echo handler,
//! raw HTTP/WebSocket speakers over plain `TcpStream`s, and a watchdog for calls that must
//! return.
//!
//! Every test file uses only part of this module.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use ferrobahn::{Error, Message, Server, ServerConfig, WebSocket};

pub mod pki;

/// The bound for anything that must happen "eventually": generous, since a test asserts
/// correctness, not speed.
pub const GENEROUS: Duration = Duration::from_secs(10);

/// The RFC 6455 §1.3 example key and its accept value.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Binds a server on 127.0.0.1:0 and serves `handler` on a background thread.
pub fn start_server<F>(config: ServerConfig, handler: F) -> (SocketAddr, Arc<Server>)
where
    F: Fn(WebSocket) + Send + Sync + 'static,
{
    let server = Arc::new(Server::bind("127.0.0.1:0", config).expect("bind 127.0.0.1:0"));
    let addr = server.local_addr().expect("local_addr");
    let serving = Arc::clone(&server);
    thread::Builder::new()
        .name(format!("test-server-{addr}"))
        .spawn(move || {
            let _ = serving.serve(handler);
        })
        .expect("spawn server thread");
    (addr, server)
}

/// A server with default settings that echoes text and binary messages.
pub fn start_echo_server() -> SocketAddr {
    start_server(ServerConfig::default(), echo).0
}

/// Echoes text and binary messages until the connection ends. Replies are queued with
/// `write`: the reader flushes them before it blocks again.
pub fn echo(mut ws: WebSocket) {
    loop {
        match ws.read() {
            Ok(msg @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.write(msg).is_err() {
                    return;
                }
            }
            Ok(Message::Close(_)) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// `ws://ADDR/`.
pub fn ws_url(addr: SocketAddr) -> String {
    format!("ws://{addr}/")
}

/// Runs `f` on its own thread and waits at most `limit` for its result (`None`: it did
/// not return in time; the thread is left behind).
pub fn within<T, F>(limit: Duration, f: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

/// Receives from `rx`, failing the test after [`GENEROUS`].
pub fn recv<T>(rx: &mpsc::Receiver<T>, what: &str) -> T {
    match rx.recv_timeout(GENEROUS) {
        Ok(v) => v,
        Err(e) => panic!("{what}: nothing within {GENEROUS:?} ({e})"),
    }
}

/// A short description of a read result (never a megabyte payload).
pub fn describe(r: &Result<Message, Error>) -> String {
    match r {
        Ok(Message::Text(t)) if t.len() > 64 => format!("Ok(Text of {} bytes)", t.len()),
        Ok(Message::Binary(b)) if b.len() > 64 => format!("Ok(Binary of {} bytes)", b.len()),
        other => format!("{other:?}"),
    }
}

/// Valid UTF-8 of exactly `n` bytes, with 1-, 2-, 3- and 4-byte characters when it fits.
pub fn text_payload(n: usize) -> String {
    const CHARS: [char; 6] = ['a', 'é', '€', '😀', 'z', 'ß'];
    let mut s = String::with_capacity(n);
    let mut i = 0;
    loop {
        let c = CHARS[i % CHARS.len()];
        if s.len() + c.len_utf8() > n {
            break;
        }
        s.push(c);
        i += 1;
    }
    while s.len() < n {
        s.push('.');
    }
    s
}

/// `n` pseudo-random bytes (a fixed sequence per `seed`).
pub fn binary_payload(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// A parsed HTTP response head (and body, for non-101 responses).
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// How many times header `name` appears.
    pub fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads an HTTP response head byte by byte (so no frame bytes after it are consumed);
/// for a status other than 101 also the body (`Content-Length`, else up to EOF).
pub fn read_http_response(stream: &mut TcpStream) -> io::Result<HttpResponse> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte)? {
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "EOF inside the response head: {:?}",
                        String::from_utf8_lossy(&head)
                    ),
                ))
            }
            _ => head.push(byte[0]),
        }
    }
    let head = String::from_utf8(head).expect("response head is not UTF-8");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    assert_eq!(version, "HTTP/1.1", "status line {status_line:?}");
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("bad header line {l:?}"));
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let mut resp = HttpResponse {
        status,
        headers,
        body: Vec::new(),
    };
    if status != 101 {
        match resp.header("Content-Length").map(|v| v.parse::<usize>()) {
            Some(Ok(n)) => {
                resp.body = vec![0; n];
                stream.read_exact(&mut resp.body)?;
            }
            _ => {
                stream.read_to_end(&mut resp.body)?;
            }
        }
    }
    Ok(resp)
}

/// A WebSocket upgrade request with the RFC example key; `extra` are more header lines,
/// each ending in CRLF.
pub fn upgrade_request(extra: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Connects to `addr` (reads time out after [`GENEROUS`]).
pub fn raw_connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(GENEROUS)).unwrap();
    s
}

/// Sends `request` on a new connection and reads the response.
pub fn http_exchange(addr: SocketAddr, request: &str) -> HttpResponse {
    let mut s = raw_connect(addr);
    s.write_all(request.as_bytes()).expect("send request");
    read_http_response(&mut s).expect("read response")
}

/// A raw client connection after a successful hand-written handshake.
pub fn raw_ws_client(addr: SocketAddr) -> TcpStream {
    let mut s = raw_connect(addr);
    s.write_all(upgrade_request("").as_bytes()).unwrap();
    let resp = read_http_response(&mut s).expect("read 101");
    assert_eq!(resp.status, 101, "handshake refused: {resp:?}");
    assert_eq!(resp.header("Sec-WebSocket-Accept"), Some(ACCEPT));
    s
}

/// Accepts one connection on `listener` and answers its upgrade request by hand (a raw
/// server peer for a ferrobahn client). `extra` is written right behind the 101 head, in
/// the same `write` call.
pub fn raw_ws_accept(listener: &TcpListener, extra: &[u8]) -> TcpStream {
    raw_ws_accept_headers(listener, "", extra)
}

/// [`raw_ws_accept`] with `headers` (each line ending in `\r\n`) added to the 101.
pub fn raw_ws_accept_headers(listener: &TcpListener, headers: &str, extra: &[u8]) -> TcpStream {
    let (mut s, _) = listener.accept().expect("accept");
    s.set_read_timeout(Some(GENEROUS)).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).expect("read request");
        assert_eq!(n, 1, "EOF inside the request head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let key = head
        .split("\r\n")
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("sec-websocket-key")
                .then(|| v.trim().to_owned())
        })
        .expect("request without Sec-WebSocket-Key");
    let accept = ferrobahn::core::handshake::accept_key(key.as_bytes());
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{headers}\r\n",
        std::str::from_utf8(&accept).unwrap()
    )
    .into_bytes();
    out.extend_from_slice(extra);
    s.write_all(&out).unwrap();
    s
}

/// Opcodes.
pub const CONT: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// A masking key for hand-made client frames.
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Encodes one frame by hand: `first_byte` is FIN, RSV and opcode as on the wire.
pub fn raw_frame(first_byte: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![first_byte];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A frame with FIN set or not, no RSV bits.
pub fn frame(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    raw_frame(if fin { 0x80 } else { 0 } | opcode, payload, mask)
}

/// A close frame payload: the code, big-endian, then the reason.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// One frame as read off the wire, unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// The status code of a close frame with one.
    pub fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, CLOSE, "not a close frame: {self:?}");
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Parses one frame from `r` by hand.
pub fn read_frame(r: &mut impl Read) -> io::Result<RawFrame> {
    let mut h = [0u8; 2];
    r.read_exact(&mut h)?;
    let len = match h[1] & 0x7F {
        126 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b)?;
            u16::from_be_bytes(b) as u64
        }
        127 => {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            u64::from_be_bytes(b)
        }
        n => n as u64,
    };
    let masked = h[1] & 0x80 != 0;
    let mut key = [0u8; 4];
    if masked {
        r.read_exact(&mut key)?;
    }
    let mut payload = vec![0u8; len as usize];
    r.read_exact(&mut payload)?;
    if masked {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    Ok(RawFrame {
        fin: h[0] & 0x80 != 0,
        rsv: (h[0] >> 4) & 0x7,
        opcode: h[0] & 0x0F,
        masked,
        payload,
    })
}

/// Reads frames until a close frame and returns it (data/ping/pong frames before it are
/// skipped).
pub fn read_until_close(r: &mut impl Read) -> io::Result<RawFrame> {
    loop {
        let f = read_frame(r)?;
        if f.opcode == CLOSE {
            return Ok(f);
        }
    }
}

/// Whether the peer has closed its side: a read returns EOF (or the connection was reset)
/// within [`GENEROUS`], after discarding whatever else arrives.
pub fn sees_eof(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(GENEROUS)).unwrap();
    let mut sink = [0u8; 4096];
    loop {
        match s.read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}
