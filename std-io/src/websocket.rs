//! A blocking WebSocket connection over a `std::io` stream, splittable into a reader and a
//! writer for two threads.
//!
//! ```text
//!   Reader (one thread)                     Writer (any thread, cloneable)
//!   socket read → rbuf                      Message → Mutex<Inner>
//!        │                                        │ Connection::encode_* into wbuf
//!        └─▶ Mutex<Inner>: Connection::read       └─▶ wbuf flushed: by send(), flush(),
//!             events; pong/close owed → wbuf           when it grows large, and by the
//!                                                      reader before it blocks
//! ```
//!
//! Writes are buffered: `write` appends frames to one buffer, `send` also flushes, and the
//! reader flushes before it blocks in a socket read. So an echo server that answers each
//! message with `write` sends the replies to one read batch in a single syscall.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ferrobahn_core::connection::CONTROL_FRAME_MAX;
use ferrobahn_core::{CloseFrame, CloseState, Config, Connection, Event, MessageKind, OpCode, Role};

use crate::entropy::KeyPool;
use crate::error::{Error, Result};
use crate::message::{Close, Message};

/// A byte stream a WebSocket runs over: it can be cloned into a read and a write half.
pub trait Stream: Read + Write + Send + Sized + 'static {
    /// A second handle to the same stream (for the writer half).
    fn try_clone(&self) -> io::Result<Self>;
    /// Sets (or clears) the read timeout.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Shuts down the write direction (or both).
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

impl Stream for TcpStream {
    fn try_clone(&self) -> io::Result<Self> {
        TcpStream::try_clone(self)
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        TcpStream::shutdown(self, how)
    }
}

#[cfg(unix)]
impl Stream for std::os::unix::net::UnixStream {
    fn try_clone(&self) -> io::Result<Self> {
        std::os::unix::net::UnixStream::try_clone(self)
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        std::os::unix::net::UnixStream::shutdown(self, how)
    }
}

/// Settings of the blocking layer beyond the protocol [`Config`].
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The protocol settings (limits, masking, auto-fragmentation).
    pub config: Config,
    /// Read timeout while open (`None`: block forever).
    pub read_timeout: Option<Duration>,
    /// How long to wait for the peer's close frame and TCP close (`closeHandshakeTimeout`).
    pub close_timeout: Duration,
    /// First size of the read buffer; it doubles while reads fill it, up to `max_read_buffer`.
    pub read_buffer: usize,
    /// Largest read buffer.
    pub max_read_buffer: usize,
    /// Buffered writes are flushed once they exceed this many bytes.
    pub write_buffer: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            config: Config::DEFAULT,
            read_timeout: None,
            close_timeout: Duration::from_secs(5),
            read_buffer: 4096,
            max_read_buffer: 256 * 1024,
            write_buffer: 64 * 1024,
        }
    }
}

/// Payloads at least this long go from the caller's buffer straight to the socket when we
/// do not mask, instead of being copied into the write buffer.
const DIRECT_WRITE: usize = 16 * 1024;

struct Inner<S> {
    conn: Connection<KeyPool>,
    stream: S,
    wbuf: Vec<u8>,
    write_limit: usize,
}

impl<S: Stream> Inner<S> {
    /// Moves the control frame the connection owes into the write buffer.
    fn take_control(&mut self) -> Result<()> {
        if self.conn.wants_transmit() {
            let at = self.wbuf.len();
            self.wbuf.resize(at + CONTROL_FRAME_MAX, 0);
            let n = self.conn.poll_transmit(&mut self.wbuf[at..])?.unwrap_or(0);
            self.wbuf.truncate(at + n);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            let r = self.stream.write_all(&self.wbuf);
            self.wbuf.clear();
            r?;
        }
        Ok(())
    }

    fn encode(&mut self, kind: MessageKind, payload: &[u8]) -> Result<()> {
        let direct = payload.len() >= DIRECT_WRITE
            && !self.conn.masks_outgoing()
            && self.conn.config().auto_fragment_size == 0;
        if direct {
            let mut hdr = [0u8; 14];
            let n = self.conn.start_frame(kind, true, 0, payload.len() as u64, &mut hdr)?;
            self.wbuf.extend_from_slice(&hdr[..n]);
            let r = write_all_vectored(&mut self.stream, &self.wbuf, payload);
            self.wbuf.clear();
            r?;
            self.conn.frame_data_unmasked(payload.len() as u64)?;
            return Ok(());
        }
        let at = self.wbuf.len();
        self.wbuf.resize(at + self.conn.encoded_message_len(payload.len()), 0);
        let r = self.conn.encode_message(kind, 0, payload, &mut self.wbuf[at..]);
        match r {
            Ok(n) => self.wbuf.truncate(at + n),
            Err(e) => {
                self.wbuf.truncate(at);
                return Err(e.into());
            }
        }
        if self.wbuf.len() >= self.write_limit {
            self.flush()?;
        }
        Ok(())
    }
}

/// `write_all` for two buffers in as few syscalls as the kernel allows.
fn write_all_vectored<W: Write>(w: &mut W, a: &[u8], b: &[u8]) -> io::Result<()> {
    let mut bufs = [IoSlice::new(a), IoSlice::new(b)];
    let mut slices: &mut [IoSlice<'_>] = &mut bufs;
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match w.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

struct Shared<S> {
    inner: Mutex<Inner<S>>,
}

impl<S> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, Inner<S>> {
        // A panic in another thread while holding the lock leaves consistent buffers at
        // worst half-written; the connection is then failed by the peer, so recover.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One event of the frame/streaming receive API.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A data frame begins (see [`Event::FrameStart`]).
    FrameStart {
        /// Text or binary.
        kind: MessageKind,
        /// The frame opens a message.
        message_start: bool,
        /// The frame ends its message.
        fin: bool,
        /// The frame's payload length.
        len: u64,
    },
    /// Payload bytes of the current frame, as they arrived.
    Data(&'a [u8]),
    /// The current frame ended.
    FrameEnd {
        /// It was the message's last frame.
        message_end: bool,
    },
    /// A ping (already answered when auto-pong is on).
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's close; our reply went out and the transport is closed.
    Close(Option<CloseFrame<'a>>),
}

/// An event with positions in place of borrows.
enum Raw {
    Start { kind: MessageKind, message_start: bool, fin: bool, len: u64 },
    Data(usize, usize),
    End { message_end: bool },
    Ping(usize),
    Pong(usize),
    Close(Option<(u16, usize)>),
}

/// The receiving half: reads and decodes, answers pings and closes through the shared writer.
pub struct Reader<S: Stream> {
    stream: S,
    shared: Arc<Shared<S>>,
    settings: Settings,
    role: Role,
    rbuf: Vec<u8>,
    rpos: usize,
    rend: usize,
    ctrl: [u8; 125],
    msg: Vec<u8>,
    msg_kind: MessageKind,
    finished: bool,
}

/// The sending half: cheap to clone, usable from any thread.
pub struct Writer<S: Stream> {
    shared: Arc<Shared<S>>,
}

impl<S: Stream> Clone for Writer<S> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared) }
    }
}

/// A WebSocket connection after its opening handshake.
pub struct WebSocket<S: Stream = TcpStream> {
    reader: Reader<S>,
    writer: Writer<S>,
    protocol: Option<String>,
}

impl<S: Stream> WebSocket<S> {
    /// Wraps a stream whose handshake is done. `leftover` are bytes read after the HTTP
    /// head (the first frames).
    pub fn from_stream(stream: S, role: Role, settings: Settings, leftover: &[u8], protocol: Option<String>) -> Result<Self> {
        let write_half = stream.try_clone()?;
        stream.set_read_timeout(settings.read_timeout)?;
        let inner = Inner {
            conn: Connection::new(role, settings.config, KeyPool::new()),
            stream: write_half,
            wbuf: Vec::new(),
            write_limit: settings.write_buffer,
        };
        let shared = Arc::new(Shared { inner: Mutex::new(inner) });
        let mut rbuf = Vec::new();
        rbuf.extend_from_slice(leftover);
        let rend = rbuf.len();
        Ok(Self {
            reader: Reader {
                stream,
                shared: Arc::clone(&shared),
                settings,
                role,
                rbuf,
                rpos: 0,
                rend,
                ctrl: [0; 125],
                msg: Vec::new(),
                msg_kind: MessageKind::Binary,
                finished: false,
            },
            writer: Writer { shared },
            protocol,
        })
    }

    /// The subprotocol agreed in the handshake.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Splits into a reader and a writer for two threads.
    pub fn split(self) -> (Reader<S>, Writer<S>) {
        (self.reader, self.writer)
    }

    /// A writer handle for other threads (the connection keeps its own).
    pub fn writer(&self) -> Writer<S> {
        self.writer.clone()
    }

    /// Reads the next message (see [`Reader::read`]).
    pub fn read(&mut self) -> Result<Message> {
        self.reader.read()
    }

    /// Reads the next frame-level event (see [`Reader::read_event`]).
    pub fn read_event(&mut self) -> Result<Incoming<'_>> {
        self.reader.read_event()
    }

    /// Queues a message (see [`Writer::write`]).
    pub fn write(&mut self, msg: impl Into<Message>) -> Result<()> {
        self.writer.write(msg)
    }

    /// Queues a message and flushes.
    pub fn send(&mut self, msg: impl Into<Message>) -> Result<()> {
        self.writer.send(msg)
    }

    /// Flushes queued frames.
    pub fn flush(&mut self) -> Result<()> {
        self.writer.flush()
    }

    /// Starts the close handshake (see [`Writer::close`]); keep reading until the peer's
    /// close arrives.
    pub fn close(&mut self, close: Option<Close>) -> Result<()> {
        self.writer.close(close)
    }

    /// The reading half.
    pub fn reader_mut(&mut self) -> &mut Reader<S> {
        &mut self.reader
    }
}

impl<S: Stream> Writer<S> {
    /// Queues a message: text/binary as data frames (fragmented by `auto_fragment_size`),
    /// ping/pong as control frames, close as [`close`](Self::close). Frames go out on
    /// [`flush`](Self::flush), when the buffer is large, or when the reader blocks.
    pub fn write(&self, msg: impl Into<Message>) -> Result<()> {
        let mut inner = self.shared.lock();
        match msg.into() {
            Message::Text(s) => inner.encode(MessageKind::Text, s.as_bytes()),
            Message::Binary(b) => inner.encode(MessageKind::Binary, &b),
            Message::Ping(p) => control(&mut inner, OpCode::Ping, &p),
            Message::Pong(p) => control(&mut inner, OpCode::Pong, &p),
            Message::Close(c) => {
                inner.conn.close(c.as_ref().map(Close::frame))?;
                inner.take_control()
            }
        }
    }

    /// Queues a text message from a `&str` without an owned [`Message`].
    pub fn write_text(&self, text: &str) -> Result<()> {
        self.shared.lock().encode(MessageKind::Text, text.as_bytes())
    }

    /// Queues a binary message from a slice without an owned [`Message`].
    pub fn write_binary(&self, data: &[u8]) -> Result<()> {
        self.shared.lock().encode(MessageKind::Binary, data)
    }

    /// [`write`](Self::write) then [`flush`](Self::flush).
    pub fn send(&self, msg: impl Into<Message>) -> Result<()> {
        self.write(msg)?;
        self.flush()
    }

    /// Writes everything queued to the socket.
    pub fn flush(&self) -> Result<()> {
        Ok(self.shared.lock().flush()?)
    }

    /// Sends a close frame (`None`: no status code) and flushes. No data may follow; the
    /// reader goes on until the peer's close arrives or `close_timeout` passes.
    pub fn close(&self, close: Option<Close>) -> Result<()> {
        let mut inner = self.shared.lock();
        inner.conn.close(close.as_ref().map(Close::frame))?;
        inner.take_control()?;
        Ok(inner.flush()?)
    }

    /// Frame API: queues one frame of a message (`fin` ends it).
    pub fn write_frame(&self, kind: MessageKind, fin: bool, payload: &[u8]) -> Result<()> {
        let mut guard = self.shared.lock();
        let Inner { conn, wbuf, .. } = &mut *guard;
        let at = wbuf.len();
        wbuf.resize(at + 14 + payload.len(), 0);
        match conn.encode_frame(kind, fin, 0, payload, &mut wbuf[at..]) {
            Ok(n) => {
                wbuf.truncate(at + n);
                Ok(())
            }
            Err(e) => {
                wbuf.truncate(at);
                Err(e.into())
            }
        }
    }

    /// Streaming API: starts a frame of `len` bytes, sent by [`write_frame_data`](Self::write_frame_data).
    pub fn start_frame(&self, kind: MessageKind, fin: bool, len: u64) -> Result<()> {
        let mut inner = self.shared.lock();
        let mut hdr = [0u8; 14];
        let n = inner.conn.start_frame(kind, fin, 0, len, &mut hdr)?;
        inner.wbuf.extend_from_slice(&hdr[..n]);
        Ok(())
    }

    /// Streaming API: the next chunk of the current frame's payload.
    pub fn write_frame_data(&self, chunk: &[u8]) -> Result<()> {
        let mut inner = self.shared.lock();
        let at = inner.wbuf.len();
        inner.wbuf.extend_from_slice(chunk);
        let Inner { conn, wbuf, .. } = &mut *inner;
        if let Err(e) = conn.frame_data(&mut wbuf[at..]) {
            wbuf.truncate(at);
            return Err(e.into());
        }
        if inner.wbuf.len() >= inner.write_limit {
            inner.flush()?;
        }
        Ok(())
    }

    /// Where the close handshake stands.
    pub fn close_state(&self) -> CloseState {
        self.shared.lock().conn.close_state()
    }
}

fn control<S: Stream>(inner: &mut Inner<S>, opcode: OpCode, payload: &[u8]) -> Result<()> {
    let at = inner.wbuf.len();
    inner.wbuf.resize(at + CONTROL_FRAME_MAX, 0);
    match inner.conn.encode_control(opcode, payload, &mut inner.wbuf[at..]) {
        Ok(n) => {
            inner.wbuf.truncate(at + n);
            Ok(())
        }
        Err(e) => {
            inner.wbuf.truncate(at);
            Err(e.into())
        }
    }
}

impl<S: Stream> Reader<S> {
    /// Reads until a whole message (or a control frame) arrives. Pings are answered before
    /// they are returned; a close is answered and the transport closed before
    /// `Message::Close` is returned; the next call then gives [`Error::ConnectionClosed`].
    /// A protocol error sends the matching close frame, closes, and returns the error.
    pub fn read(&mut self) -> Result<Message> {
        loop {
            match self.next_raw()? {
                Raw::Start { kind, message_start, len, .. } => {
                    if message_start {
                        self.msg.clear();
                        self.msg_kind = kind;
                    }
                    // Bounded by max_frame_payload and max_message_payload (checked).
                    self.msg.reserve(len as usize);
                }
                Raw::Data(a, b) => self.msg.extend_from_slice(&self.rbuf[a..b]),
                Raw::End { message_end: true } => {
                    let data = std::mem::take(&mut self.msg);
                    return Ok(match self.msg_kind {
                        // The decoder validated the UTF-8 as it arrived.
                        MessageKind::Text => Message::Text(String::from_utf8(data).map_err(|_| Error::Protocol(ferrobahn_core::ProtocolError::InvalidUtf8))?),
                        MessageKind::Binary => Message::Binary(data),
                    });
                }
                Raw::End { .. } => {}
                Raw::Ping(n) => return Ok(Message::Ping(self.ctrl[..n].to_vec())),
                Raw::Pong(n) => return Ok(Message::Pong(self.ctrl[..n].to_vec())),
                Raw::Close(c) => {
                    return Ok(Message::Close(c.map(|(code, n)| Close {
                        code: code.into(),
                        reason: String::from_utf8_lossy(&self.ctrl[..n]).into_owned(),
                    })))
                }
            }
        }
    }

    /// Frame/streaming API: the next event, payload data as it arrives (never a whole
    /// message buffered). Control frames are handled as in [`read`](Self::read).
    pub fn read_event(&mut self) -> Result<Incoming<'_>> {
        Ok(match self.next_raw()? {
            Raw::Start { kind, message_start, fin, len } => Incoming::FrameStart { kind, message_start, fin, len },
            Raw::Data(a, b) => Incoming::Data(&self.rbuf[a..b]),
            Raw::End { message_end } => Incoming::FrameEnd { message_end },
            Raw::Ping(n) => Incoming::Ping(&self.ctrl[..n]),
            Raw::Pong(n) => Incoming::Pong(&self.ctrl[..n]),
            Raw::Close(c) => Incoming::Close(c.map(|(code, n)| CloseFrame {
                code: code.into(),
                reason: std::str::from_utf8(&self.ctrl[..n]).unwrap_or(""),
            })),
        })
    }

    fn next_raw(&mut self) -> Result<Raw> {
        if self.finished {
            return Err(Error::ConnectionClosed);
        }
        loop {
            let progress;
            {
                let mut inner = self.shared.lock();
                let start = self.rpos;
                let r = inner.conn.read(&mut self.rbuf[start..self.rend]);
                let raw = match r {
                    Err(e) => {
                        drop(inner);
                        return Err(self.fail(e.into()));
                    }
                    Ok((n, ev)) => {
                        self.rpos += n;
                        progress = n != 0 || ev.is_some();
                        match ev {
                            None => None,
                            Some(Event::FrameStart { kind, message_start, fin, len, .. }) => Some(Raw::Start { kind, message_start, fin, len }),
                            Some(Event::Data(d)) => {
                                // Data always sits at the front of what was passed in.
                                Some(Raw::Data(start, start + d.len()))
                            }
                            Some(Event::FrameEnd { message_end }) => Some(Raw::End { message_end }),
                            Some(Event::Ping(p)) => {
                                self.ctrl[..p.len()].copy_from_slice(p);
                                Some(Raw::Ping(p.len()))
                            }
                            Some(Event::Pong(p)) => {
                                self.ctrl[..p.len()].copy_from_slice(p);
                                Some(Raw::Pong(p.len()))
                            }
                            Some(Event::Close(c)) => Some(Raw::Close(c.map(|f| {
                                let r = f.reason.as_bytes();
                                self.ctrl[..r.len()].copy_from_slice(r);
                                (f.code.0, r.len())
                            }))),
                        }
                    }
                };
                inner.take_control()?;
                if let Some(Raw::Close(c)) = raw {
                    drop(inner);
                    self.finish_close();
                    return Ok(Raw::Close(c));
                }
                if let Some(raw) = raw {
                    return Ok(raw);
                }
            }
            if !progress || self.rpos == self.rend {
                self.fill()?;
            }
        }
    }

    /// Flushes pending writes, then reads more bytes from the socket.
    fn fill(&mut self) -> Result<()> {
        self.shared.lock().flush()?;
        if self.rpos == self.rend {
            self.rpos = 0;
            self.rend = 0;
        } else if self.rpos > 0 && self.rend == self.rbuf.len() {
            self.rbuf.copy_within(self.rpos..self.rend, 0);
            self.rend -= self.rpos;
            self.rpos = 0;
        }
        if self.rbuf.len() < self.settings.read_buffer {
            self.rbuf.resize(self.settings.read_buffer, 0);
        } else if self.rend == self.rbuf.len() {
            let grown = (self.rbuf.len() * 2).min(self.settings.max_read_buffer.max(self.rbuf.len() + 1));
            self.rbuf.resize(grown, 0);
        }
        let n = loop {
            match self.stream.read(&mut self.rbuf[self.rend..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        };
        if n == 0 {
            self.finished = true;
            return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        // A read that filled the buffer: the next one gets a bigger buffer.
        self.rend += n;
        Ok(())
    }

    /// After a protocol error: the close frame goes out, the transport is closed, the error
    /// is returned.
    fn fail(&mut self, e: Error) -> Error {
        {
            let mut inner = self.shared.lock();
            let _ = inner.take_control();
            let _ = inner.flush();
        }
        self.finish_close();
        e
    }

    /// Ends the transport after the close handshake: a server half-closes at once and waits
    /// for the client's FIN; a client waits for the server to close (RFC 6455 §7.1.1), each
    /// at most `close_timeout`.
    fn finish_close(&mut self) {
        self.finished = true;
        {
            let mut inner = self.shared.lock();
            let _ = inner.flush();
            if self.role == Role::Server {
                let _ = inner.stream.shutdown(Shutdown::Write);
            }
        }
        let _ = self.stream.set_read_timeout(Some(self.settings.close_timeout));
        let mut sink = [0u8; 512];
        let deadline = std::time::Instant::now() + self.settings.close_timeout;
        while std::time::Instant::now() < deadline {
            match self.stream.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = self.stream.shutdown(Shutdown::Both);
        self.rbuf = Vec::new();
        self.rpos = 0;
        self.rend = 0;
    }

    /// Whether the connection is over.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}
