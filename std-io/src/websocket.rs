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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, Weak};
use std::time::{Duration, Instant};

use ferrobahn_core::connection::CONTROL_FRAME_MAX;
use ferrobahn_core::deflate::DeflateParams;
use ferrobahn_core::frame::RSV1;
use ferrobahn_core::utf8::Utf8Validator;
use ferrobahn_core::{
    CloseFrame, CloseState, Config, Connection, Event, MessageKind, OpCode, ProtocolError, Role,
};

use crate::compress::{Codec, Compression, DecompressError};
use crate::entropy::KeyPool;
use crate::error::{Error, Result};
use crate::keepalive::{AutoPing, PingEvent, PingState};
use crate::message::{Close, Message, Text};
use crate::prepared::PreparedMessage;
use crate::stats::{Counters, TrafficStats};

/// A byte stream a WebSocket runs over: it can be cloned into a read and a write half.
pub trait Stream: Read + Write + Send + Sized + 'static {
    /// A second handle to the same stream (for the writer half).
    fn try_clone(&self) -> io::Result<Self>;
    /// Sets (or clears) the read timeout.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Shuts down the write direction (or both).
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// RFC 9266 `tls-exporter` channel binding, when the stream is TLS.
    fn channel_binding(&self) -> Option<[u8; 32]> {
        None
    }
    /// The peer's address, when the stream has one.
    fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        None
    }
    /// The stream can [`write_nonblocking`](Self::write_nonblocking): a plain socket (a TLS
    /// stream cannot: its records are sealed under a lock a blocked writer holds).
    fn can_write_nonblocking(&self) -> bool {
        false
    }
    /// Writes what the socket takes now, without blocking (and without making the socket
    /// non-blocking for the thread reading it): `ErrorKind::WouldBlock` when it takes
    /// nothing. Lets one thread hand bytes to many sockets and leave only the full ones to a
    /// thread that may block.
    fn write_nonblocking(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = buf;
        Err(io::ErrorKind::WouldBlock.into())
    }
}

/// `send(2)` with `MSG_DONTWAIT` on a blocking socket.
#[cfg(unix)]
fn send_dontwait(fd: impl std::os::fd::AsFd, buf: &[u8]) -> io::Result<usize> {
    use rustix::net::SendFlags;
    loop {
        match rustix::net::send(&fd, buf, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return r.map_err(io::Error::from),
        }
    }
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
    fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        TcpStream::peer_addr(self).ok()
    }
    #[cfg(unix)]
    fn can_write_nonblocking(&self) -> bool {
        true
    }
    #[cfg(unix)]
    fn write_nonblocking(&mut self, buf: &[u8]) -> io::Result<usize> {
        send_dontwait(&*self, buf)
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
    fn can_write_nonblocking(&self) -> bool {
        true
    }
    fn write_nonblocking(&mut self, buf: &[u8]) -> io::Result<usize> {
        send_dontwait(&*self, buf)
    }
}

/// Settings of the blocking layer beyond the protocol [`Config`].
#[derive(Clone, Debug)]
pub struct Settings {
    /// The protocol settings (limits, masking, auto-fragmentation).
    pub config: Config,
    /// Read timeout while open (`None`: block forever).
    pub read_timeout: Option<Duration>,
    /// After our close frame: how long to wait for the peer's (`closeHandshakeTimeout`).
    pub close_timeout: Duration,
    /// After the close handshake: how long to wait for the peer to close TCP before we drop
    /// the connection (Autobahn's `serverConnectionDropTimeout`; a client waits for the
    /// server to close first, RFC 6455 §7.1.1, a server half-closes and waits for the FIN).
    pub drop_timeout: Duration,
    /// First size of the read buffer; it doubles while reads fill it, up to `max_read_buffer`.
    pub read_buffer: usize,
    /// Largest read buffer.
    pub max_read_buffer: usize,
    /// Buffered writes are flushed once they exceed this many bytes.
    pub write_buffer: usize,
    /// With per-message compression: messages shorter than this go uncompressed.
    pub compress_threshold: usize,
    /// Send pings on a timer and drop a peer that stops answering (off by default).
    pub auto_ping: Option<AutoPing>,
    /// Log every frame received and every message sent at `trace` level (target
    /// `ferrobahn::frames`); off by default, it is verbose.
    pub log_frames: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            config: Config::DEFAULT,
            read_timeout: None,
            close_timeout: Duration::from_secs(5),
            drop_timeout: Duration::from_secs(1),
            read_buffer: 4096,
            max_read_buffer: 256 * 1024,
            write_buffer: 64 * 1024,
            compress_threshold: 0,
            auto_ping: None,
            log_frames: false,
        }
    }
}

/// Payloads at least this long go from the caller's buffer straight to the socket when we
/// do not mask, instead of being copied into the write buffer.
const DIRECT_WRITE: usize = 16 * 1024;

/// The rest of a data frame at least this long is read straight into the message buffer.
const DIRECT_READ: usize = 16 * 1024;

/// Protocol state, shared by both halves; held only for short, non-blocking sections.
struct State {
    conn: Connection<KeyPool>,
    /// Control frames the reader owes (pong, close reply), waiting for the write side.
    control: Vec<u8>,
    /// When we sent a close first: how long the reader waits for the answer.
    close_deadline: Option<Instant>,
    close_timeout: Duration,
    stats: Arc<Counters>,
}

impl State {
    /// Queues our close frame and starts the close-handshake clock.
    fn close(&mut self, close: Option<&Close>) -> Result<()> {
        self.conn.close(close.map(Close::frame))?;
        self.close_deadline = Some(Instant::now() + self.close_timeout);
        self.take_control()?;
        Ok(())
    }

    /// Moves the control frame the connection owes into `control`; true if there was one.
    fn take_control(&mut self) -> Result<bool> {
        if !self.conn.wants_transmit() {
            return Ok(false);
        }
        let at = self.control.len();
        self.control.resize(at + CONTROL_FRAME_MAX, 0);
        let n = self
            .conn
            .poll_transmit(&mut self.control[at..])?
            .unwrap_or(0);
        self.control.truncate(at + n);
        if n > 0 {
            let header = 2 + if self.conn.masks_outgoing() { 4 } else { 0 };
            Counters::add(&self.stats.out_frames, 1);
            Counters::add(&self.stats.out_ws, n.saturating_sub(header));
        }
        Ok(true)
    }
}

/// The write side: the socket's write handle and the frames waiting for it. Held during
/// blocking writes, which is why the protocol state has a lock of its own: a writer blocked
/// on a full socket must never keep the reader from reading (and so from unblocking it).
struct Io<S> {
    stream: S,
    wbuf: Vec<u8>,
    write_limit: usize,
    /// Per-message compression, send direction, and its output buffer.
    codec: Option<Codec>,
    scratch: Vec<u8>,
    compress_threshold: usize,
    /// A message sent in compressed frames is open (its first frame had RSV1).
    compressing: bool,
    stats: Arc<Counters>,
    is_client: bool,
    log_frames: bool,
}

impl<S: Stream> Io<S> {
    fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            Counters::add(&self.stats.out_wire, self.wbuf.len());
            let r = self.stream.write_all(&self.wbuf);
            self.wbuf.clear();
            r?;
        }
        Ok(())
    }
}

/// `write_all` for two buffers in as few syscalls as the kernel allows.
fn write_all_vectored<W: Write>(w: &mut W, a: &[u8], b: &[u8]) -> io::Result<()> {
    let mut bufs = [IoSlice::new(a), IoSlice::new(b)];
    let mut slices: &mut [IoSlice<'_>] = &mut bufs;
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
    state: Mutex<State>,
    io: Mutex<Io<S>>,
    /// The reader wants buffered frames written before it blocks; whoever holds `io` when
    /// this is set writes them when it lets go (see [`Shared::after_io`]).
    flush_wanted: AtomicBool,
    stats: Arc<Counters>,
    /// Auto-ping state, when it is on.
    ping: Option<PingState>,
    /// A handle to shut the stream down with while a writer may hold `io` (ping timeout).
    killer: Mutex<S>,
}

/// Locks a mutex, recovering from poison: a panic elsewhere leaves buffers at worst
/// half-written, which the peer then fails the connection on.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// [`lock`] if the mutex is free now; `None` when another thread holds it.
pub(crate) fn try_lock<T>(m: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match m.try_lock() {
        Ok(g) => Some(g),
        Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Writes from the front of `buf` what `stream` takes without blocking and removes it.
/// `Ok((all written, bytes written))`; the router's pumps (WebSocket and RawSocket) use it.
// Used by the router (feature `wamp`).
#[cfg_attr(not(feature = "wamp"), allow(dead_code))]
pub(crate) fn write_what_fits<S: Stream>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> io::Result<(bool, usize)> {
    let mut at = 0;
    while at < buf.len() {
        match stream.write_nonblocking(&buf[at..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => {
                buf.drain(..at);
                return Err(e);
            }
        }
    }
    buf.drain(..at);
    Ok((buf.is_empty(), at))
}

impl<S: Stream> Shared<S> {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Runs `f` with the write side, then honours a flush asked for meanwhile.
    fn with_io<R>(&self, f: impl FnOnce(&mut Io<S>) -> R) -> R {
        let r = f(&mut lock(&self.io));
        self.after_io();
        r
    }

    /// After `io` is released: if the reader asked for a flush, do it, unless another
    /// thread holds `io` again (it runs this when it lets go). The reader sets the flag
    /// before it tries the lock, so one of the two always sees the request.
    fn after_io(&self) {
        while self.flush_wanted.load(Ordering::SeqCst) {
            let mut io = match try_lock(&self.io) {
                Some(io) => io,
                None => return,
            };
            self.flush_wanted.store(false, Ordering::SeqCst);
            let _ = self.flush_locked(&mut io);
        }
    }

    /// Appends owed control frames and writes everything buffered; the caller holds `io`.
    fn flush_locked(&self, io: &mut Io<S>) -> io::Result<()> {
        {
            let mut st = self.state();
            if !st.control.is_empty() {
                io.wbuf.extend_from_slice(&st.control);
                st.control.clear();
            }
        }
        io.flush()
    }

    /// Counts a control frame received.
    fn count_control_in(&self, payload: usize) {
        Counters::add(&self.stats.in_frames, 1);
        Counters::add(&self.stats.in_ws, payload);
    }

    /// Counts a part of a message sent through the frame API.
    fn count_app_part(&self, len: usize, fin: bool) {
        Counters::add(&self.stats.out_app, len);
        Counters::add(&self.stats.out_messages, usize::from(fin));
    }

    /// Asks for buffered frames to go out without waiting on a writer blocked in a write.
    fn request_flush(&self) {
        self.flush_wanted.store(true, Ordering::SeqCst);
        self.after_io();
    }

    /// Encodes a data message into the write buffer (or, large and unmasked, writes it
    /// straight from `payload`); the caller holds `io`.
    fn encode(
        &self,
        io: &mut Io<S>,
        kind: MessageKind,
        payload: &[u8],
        compress: bool,
    ) -> Result<()> {
        Counters::add(&self.stats.out_app, payload.len());
        Counters::add(&self.stats.out_messages, 1);
        if io.log_frames {
            log::trace!(target: "ferrobahn::frames", "out: {kind:?} message, {} bytes", payload.len());
        }
        if compress && payload.len() >= io.compress_threshold {
            if let Some(codec) = io.codec.as_mut() {
                let mut packed = std::mem::take(&mut io.scratch);
                packed.clear();
                codec.compress(payload, &mut packed);
                let r = self.encode_frames(io, kind, RSV1, &packed);
                io.scratch = packed;
                return r;
            }
        }
        self.encode_frames(io, kind, 0, payload)
    }

    /// Queues one frame of a message sent frame by frame; the caller holds `io`.
    fn encode_frame(
        &self,
        io: &mut Io<S>,
        kind: MessageKind,
        fin: bool,
        rsv: u8,
        payload: &[u8],
    ) -> Result<()> {
        let mut st = self.state();
        Counters::add(&self.stats.out_ws, payload.len());
        Counters::add(&self.stats.out_frames, 1);
        let at = io.wbuf.len();
        io.wbuf.resize(at + 14 + payload.len(), 0);
        match st
            .conn
            .encode_frame(kind, fin, rsv, payload, &mut io.wbuf[at..])
        {
            Ok(n) => io.wbuf.truncate(at + n),
            Err(e) => {
                io.wbuf.truncate(at);
                return Err(e.into());
            }
        }
        drop(st);
        if io.wbuf.len() >= io.write_limit {
            self.flush_locked(io)?;
        }
        Ok(())
    }

    /// Frames a (possibly compressed) payload; `rsv` goes on the first frame.
    fn encode_frames(
        &self,
        io: &mut Io<S>,
        kind: MessageKind,
        rsv: u8,
        payload: &[u8],
    ) -> Result<()> {
        let mut st = self.state();
        Counters::add(&self.stats.out_ws, payload.len());
        let frag = st.conn.config().auto_fragment_size;
        let frames = if frag == 0 || payload.is_empty() {
            1
        } else {
            payload.len().div_ceil(frag)
        };
        Counters::add(&self.stats.out_frames, frames);
        let direct = payload.len() >= DIRECT_WRITE
            && !st.conn.masks_outgoing()
            && st.conn.config().auto_fragment_size == 0;
        if direct {
            let mut hdr = [0u8; 14];
            let n = st
                .conn
                .encode_message_header(kind, rsv, payload.len() as u64, &mut hdr)?;
            if !st.control.is_empty() {
                io.wbuf.extend_from_slice(&st.control);
                st.control.clear();
            }
            drop(st);
            io.wbuf.extend_from_slice(&hdr[..n]);
            Counters::add(&self.stats.out_wire, io.wbuf.len() + payload.len());
            let r = write_all_vectored(&mut io.stream, &io.wbuf, payload);
            io.wbuf.clear();
            return Ok(r?);
        }
        let at = io.wbuf.len();
        io.wbuf
            .resize(at + st.conn.encoded_message_len(payload.len()), 0);
        match st
            .conn
            .encode_message(kind, rsv, payload, &mut io.wbuf[at..])
        {
            Ok(n) => io.wbuf.truncate(at + n),
            Err(e) => {
                io.wbuf.truncate(at);
                return Err(e.into());
            }
        }
        drop(st);
        if io.wbuf.len() >= io.write_limit {
            self.flush_locked(io)?;
        }
        Ok(())
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
    Start {
        kind: MessageKind,
        message_start: bool,
        fin: bool,
        len: u64,
        /// RSV1 on the message's first frame: per-message compression compressed it.
        compressed: bool,
    },
    Data(usize, usize),
    End {
        message_end: bool,
    },
    Ping(usize),
    Pong(usize),
    Close(Option<(u16, usize)>),
}

/// One socket read; while our close waits for its answer, bounded by `deadline`.
fn read_socket<S: Stream>(
    stream: &mut S,
    buf: &mut [u8],
    deadline: Option<Instant>,
) -> io::Result<usize> {
    if let Some(d) = deadline {
        let left = d.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
    }
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// The receiving half: reads and decodes, answers pings and closes through the shared writer.
pub struct Reader<S: Stream = crate::transport::Transport> {
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
    /// Per-message compression, receive direction.
    inflate: Option<Codec>,
    /// The current message is compressed.
    compressed: bool,
    /// Validates inflated text (the core validates only what it sees on the wire).
    utf8: Utf8Validator,
    /// read_event's inflated chunk.
    inflated: Vec<u8>,
    /// read_event owes the FrameEnd of a compressed message.
    pending_end: bool,
}

/// The sending half: cheap to clone, usable from any thread.
pub struct Writer<S: Stream = crate::transport::Transport> {
    shared: Arc<Shared<S>>,
}

impl<S: Stream> Clone for Writer<S> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// A WebSocket connection after its opening handshake.
pub struct WebSocket<S: Stream = crate::transport::Transport> {
    reader: Reader<S>,
    writer: Writer<S>,
    protocol: Option<String>,
    compression: Option<Compression>,
    peer: Option<std::net::SocketAddr>,
    channel_binding: Option<[u8; 32]>,
}

/// What the opening handshake agreed on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// The subprotocol.
    pub protocol: Option<String>,
    /// The per-message compression agreed on (deflate, brotli, bzip2 or snappy), if any.
    pub compression: Option<Compression>,
}

impl<S: Stream> WebSocket<S> {
    /// Wraps a stream whose handshake is done. `leftover` are bytes read after the HTTP
    /// head (the first frames).
    pub fn from_stream(
        stream: S,
        role: Role,
        settings: Settings,
        leftover: &[u8],
        negotiated: Negotiated,
    ) -> Result<Self> {
        let write_half = stream.try_clone()?;
        let peer = stream.peer_addr();
        let channel_binding = stream.channel_binding();
        stream.set_read_timeout(settings.read_timeout)?;
        let mut config = settings.config;
        let is_client = role == Role::Client;
        let codec = |agreed| Codec::new(&agreed, is_client);
        if negotiated.compression.is_some() {
            // Every per-message compression claims RSV1 on a message's first frame (RFC 7692 §6).
            config.message_rsv |= RSV1;
            config.transform_on_rsv = true;
        }
        let stats = Arc::new(Counters::default());
        Counters::add(&stats.in_wire, leftover.len());
        let killer = stream.try_clone()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                conn: Connection::new(role, config, KeyPool::new()),
                control: Vec::new(),
                close_deadline: None,
                close_timeout: settings.close_timeout,
                stats: Arc::clone(&stats),
            }),
            io: Mutex::new(Io {
                stream: write_half,
                wbuf: Vec::new(),
                write_limit: settings.write_buffer,
                codec: negotiated.compression.map(codec),
                scratch: Vec::new(),
                compress_threshold: settings.compress_threshold,
                compressing: false,
                stats: Arc::clone(&stats),
                is_client,
                log_frames: settings.log_frames,
            }),
            flush_wanted: AtomicBool::new(false),
            stats,
            ping: settings.auto_ping.clone().map(PingState::new),
            killer: Mutex::new(killer),
        });
        if shared.ping.is_some() {
            let weak = Arc::downgrade(&shared);
            std::thread::Builder::new()
                .name("ferrobahn-ping".into())
                .stack_size(64 * 1024)
                .spawn(move || keepalive(weak))?;
        }
        let mut rbuf = Vec::new();
        rbuf.extend_from_slice(leftover);
        let rend = rbuf.len();
        Ok(Self {
            reader: Reader {
                stream,
                shared: Arc::clone(&shared),
                settings: Settings {
                    config,
                    ..settings.clone()
                },
                role,
                rbuf,
                rpos: 0,
                rend,
                ctrl: [0; 125],
                msg: Vec::new(),
                msg_kind: MessageKind::Binary,
                finished: false,
                inflate: negotiated.compression.map(codec),
                compressed: false,
                utf8: Utf8Validator::new(),
                inflated: Vec::new(),
                pending_end: false,
            },
            writer: Writer { shared },
            protocol: negotiated.protocol,
            compression: negotiated.compression,
            peer,
            channel_binding,
        })
    }

    /// The peer's address: the TCP peer, or on a server behind trusted reverse proxies the
    /// client named in `X-Forwarded-For` (port 0 then; see `ServerConfig::trusted_proxies`).
    pub fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.peer
    }

    pub(crate) fn set_peer_addr(&mut self, peer: Option<std::net::SocketAddr>) {
        self.peer = peer;
    }

    /// RFC 9266 `tls-exporter` channel binding of a `wss://` connection (32 bytes, the same
    /// at both ends); `None` without TLS.
    pub fn channel_binding(&self) -> Option<[u8; 32]> {
        self.channel_binding
    }

    /// The permessage-deflate parameters agreed in the handshake, if any.
    pub fn deflate(&self) -> Option<&DeflateParams> {
        self.compression.as_ref().and_then(Compression::deflate)
    }

    /// The per-message compression agreed in the handshake, if any.
    pub fn compression(&self) -> Option<&Compression> {
        self.compression.as_ref()
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

    /// The connection's traffic counters so far.
    pub fn stats(&self) -> TrafficStats {
        self.writer.stats()
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
        let sh = &*self.shared;
        match msg.into() {
            Message::Text(t) => {
                sh.with_io(|io| sh.encode(io, MessageKind::Text, t.as_bytes(), true))
            }
            Message::Binary(b) => sh.with_io(|io| sh.encode(io, MessageKind::Binary, &b, true)),
            Message::Ping(p) => self.control(OpCode::Ping, &p),
            Message::Pong(p) => self.control(OpCode::Pong, &p),
            Message::Close(c) => sh.state().close(c.as_ref()),
        }
    }

    /// Queues a text message from a `&str` without an owned [`Message`].
    pub fn write_text(&self, text: &str) -> Result<()> {
        let sh = &*self.shared;
        sh.with_io(|io| sh.encode(io, MessageKind::Text, text.as_bytes(), true))
    }

    /// Queues a binary message from a slice without an owned [`Message`].
    pub fn write_binary(&self, data: &[u8]) -> Result<()> {
        let sh = &*self.shared;
        sh.with_io(|io| sh.encode(io, MessageKind::Binary, data, true))
    }

    /// Queues a prepared message (see [`crate::prepared`]): the payload is shared, and when
    /// its compressed form does not depend on the connection's history (deflate without
    /// context takeover our way, brotli, bzip2) it is compressed once for every connection
    /// with the same method and settings.
    pub fn write_prepared(&self, msg: &PreparedMessage) -> Result<()> {
        let sh = &*self.shared;
        sh.with_io(|io| {
            let payload: &[u8] = &msg.payload;
            let codec = match io.codec.as_ref() {
                Some(c) if payload.len() >= io.compress_threshold => c,
                _ => {
                    sh.count_app_part(payload.len(), true);
                    return sh.encode_frames(io, msg.kind, 0, payload);
                }
            };
            match msg.compressed_for(codec, io.is_client) {
                Some(packed) => {
                    sh.count_app_part(payload.len(), true);
                    sh.encode_frames(io, msg.kind, RSV1, &packed)
                }
                // This connection's compressor carries its own history: compress here.
                None => sh.encode(io, msg.kind, payload, true),
            }
        })
    }

    /// [`write_prepared`](Self::write_prepared) then [`flush`](Self::flush).
    pub fn send_prepared(&self, msg: &PreparedMessage) -> Result<()> {
        self.write_prepared(msg)?;
        self.flush()
    }

    /// Queues a data message that is never compressed, even with permessage-deflate on
    /// (Autobahn's `doNotCompress`): already-compressed media, tiny control-like messages.
    pub fn write_uncompressed(&self, kind: MessageKind, data: &[u8]) -> Result<()> {
        let sh = &*self.shared;
        sh.with_io(|io| sh.encode(io, kind, data, false))
    }

    /// Queues a data message only if that cannot block: no other thread holds the write
    /// side, nothing is compressed, and the frames fit the write buffer (so nothing is
    /// written yet). `Ok(false)`: not queued; send it the ordinary way. With
    /// [`try_flush`](Self::try_flush), lets a router hand messages to many connections from
    /// one thread and leave only the slow ones to a thread that may block.
    // Used by the router (feature `wamp`).
    #[cfg_attr(not(feature = "wamp"), allow(dead_code))]
    pub(crate) fn try_queue(&self, kind: MessageKind, payload: &[u8]) -> Result<bool> {
        let sh = &*self.shared;
        let mut io = match try_lock(&sh.io) {
            Some(io) => io,
            None => return Ok(false),
        };
        if io.codec.is_some() || !io.stream.can_write_nonblocking() {
            return Ok(false);
        }
        // Every frame's header counted (auto-fragmentation): encoding must not reach the
        // write limit, where `encode_frames` would write, blocking.
        let encoded = sh.state().conn.encoded_message_len(payload.len());
        if payload.len() >= DIRECT_WRITE || io.wbuf.len() + encoded >= io.write_limit {
            return Ok(false);
        }
        sh.encode_frames(&mut io, kind, 0, payload)?;
        Counters::add(&sh.stats.out_app, payload.len());
        Counters::add(&sh.stats.out_messages, 1);
        Ok(true)
    }

    /// Queues a ping only if that cannot block (another thread holds the write side:
    /// `Ok(false)`). See [`try_queue`](Self::try_queue).
    // Used by the router (feature `wamp`).
    #[cfg_attr(not(feature = "wamp"), allow(dead_code))]
    pub(crate) fn try_ping(&self, payload: &[u8]) -> Result<bool> {
        let sh = &*self.shared;
        let mut io = match try_lock(&sh.io) {
            Some(io) => io,
            None => return Ok(false),
        };
        let at = io.wbuf.len();
        io.wbuf.resize(at + CONTROL_FRAME_MAX, 0);
        let encoded = sh
            .state()
            .conn
            .encode_control(OpCode::Ping, payload, &mut io.wbuf[at..]);
        match encoded {
            Ok(n) => {
                io.wbuf.truncate(at + n);
                Counters::add(&sh.stats.out_frames, 1);
                Counters::add(&sh.stats.out_ws, payload.len());
                Ok(true)
            }
            Err(e) => {
                io.wbuf.truncate(at);
                Err(e.into())
            }
        }
    }

    /// Writes what is buffered as far as the socket takes it now. `Ok(true)`: all of it;
    /// `Ok(false)`: some is left (or another thread holds the write side) for
    /// [`flush`](Self::flush) from a thread that may block.
    // Used by the router (feature `wamp`).
    #[cfg_attr(not(feature = "wamp"), allow(dead_code))]
    pub(crate) fn try_flush(&self) -> io::Result<bool> {
        let sh = &*self.shared;
        let mut io = match try_lock(&sh.io) {
            Some(io) => io,
            None => return Ok(false),
        };
        // A pong or close the reader owes goes out with the data, as in a flush.
        sh.flush_wanted.store(false, Ordering::SeqCst);
        {
            let mut st = sh.state();
            if !st.control.is_empty() {
                io.wbuf.extend_from_slice(&st.control);
                st.control.clear();
            }
        }
        let mut guard = io;
        let io = &mut *guard;
        let (all, written) = write_what_fits(&mut io.stream, &mut io.wbuf)?;
        Counters::add(&io.stats.out_wire, written);
        drop(guard);
        if all {
            // The reader may have asked for a flush while we held the lock.
            sh.after_io();
        }
        Ok(all)
    }

    /// [`write`](Self::write) then [`flush`](Self::flush).
    pub fn send(&self, msg: impl Into<Message>) -> Result<()> {
        self.write(msg)?;
        self.flush()
    }

    /// Writes everything queued to the socket.
    pub fn flush(&self) -> Result<()> {
        let sh = &*self.shared;
        Ok(sh.with_io(|io| sh.flush_locked(io))?)
    }

    /// Sends a close frame (`None`: no status code) and flushes. No data may follow; the
    /// reader goes on until the peer's close arrives or `close_timeout` passes.
    pub fn close(&self, close: Option<Close>) -> Result<()> {
        self.shared.state().close(close.as_ref())?;
        self.flush()
    }

    /// Frame API: queues one frame of a message (`fin` ends it), its payload as given (never
    /// compressed).
    pub fn write_frame(&self, kind: MessageKind, fin: bool, payload: &[u8]) -> Result<()> {
        let sh = &*self.shared;
        sh.count_app_part(payload.len(), fin);
        sh.with_io(|io| {
            if io.compressing {
                return Err(Error::InvalidState("a compressed message is being sent"));
            }
            sh.encode_frame(io, kind, fin, 0, payload)
        })
    }

    /// Frame API with per-message compression (any method): `payload` is the next part of a
    /// message whose frames carry its compressed bytes (the first frame has RSV1; `fin`
    /// flushes the compressor and ends the message). A frame holds what the compressor has produced so
    /// far, which may be less than `payload` (or nothing, before `fin`): the peer sees the
    /// message's frames, not these parts. Without compression negotiated this is
    /// [`write_frame`](Self::write_frame).
    pub fn write_frame_compressed(
        &self,
        kind: MessageKind,
        fin: bool,
        payload: &[u8],
    ) -> Result<()> {
        let sh = &*self.shared;
        sh.count_app_part(payload.len(), fin);
        sh.with_io(|io| {
            if io.codec.is_none() {
                return sh.encode_frame(io, kind, fin, 0, payload);
            }
            if !io.compressing && sh.state().conn.is_sending() {
                return Err(Error::InvalidState("an uncompressed message is being sent"));
            }
            let mut packed = std::mem::take(&mut io.scratch);
            packed.clear();
            if let Some(codec) = io.codec.as_mut() {
                codec.compress_part(payload, &mut packed, fin);
            }
            let rsv = if io.compressing { 0 } else { RSV1 };
            let r = sh.encode_frame(io, kind, fin, rsv, &packed);
            io.scratch = packed;
            if r.is_ok() {
                io.compressing = !fin;
            }
            r
        })
    }

    /// Streaming send: a message written through [`std::io::Write`], one frame per `write`
    /// call, ended by [`MessageWriter::finish`]. With `compress` and per-message compression
    /// negotiated, the frames carry the compressed stream ([`write_frame_compressed`](Self::write_frame_compressed)).
    /// A text message is checked for UTF-8 across the pieces; an invalid piece is refused
    /// before anything of it is sent.
    pub fn stream_message(&self, kind: MessageKind, compress: bool) -> MessageWriter<'_, S> {
        MessageWriter {
            writer: self,
            kind,
            compress,
            utf8: (kind == MessageKind::Text).then(Utf8Validator::default),
            finished: false,
        }
    }

    /// Streaming API: starts a frame of `len` bytes, sent by [`write_frame_data`](Self::write_frame_data).
    pub fn start_frame(&self, kind: MessageKind, fin: bool, len: u64) -> Result<()> {
        let sh = &*self.shared;
        Counters::add(&sh.stats.out_frames, 1);
        Counters::add(&sh.stats.out_messages, usize::from(fin));
        sh.with_io(|io| {
            let mut hdr = [0u8; 14];
            let n = sh.state().conn.start_frame(kind, fin, 0, len, &mut hdr)?;
            io.wbuf.extend_from_slice(&hdr[..n]);
            Ok(())
        })
    }

    /// Streaming API: the next chunk of the current frame's payload.
    pub fn write_frame_data(&self, chunk: &[u8]) -> Result<()> {
        let sh = &*self.shared;
        Counters::add(&sh.stats.out_ws, chunk.len());
        Counters::add(&sh.stats.out_app, chunk.len());
        sh.with_io(|io| {
            let at = io.wbuf.len();
            io.wbuf.extend_from_slice(chunk);
            if let Err(e) = sh.state().conn.frame_data(&mut io.wbuf[at..]) {
                io.wbuf.truncate(at);
                return Err(e.into());
            }
            if io.wbuf.len() >= io.write_limit {
                sh.flush_locked(io)?;
            }
            Ok(())
        })
    }

    /// Where the close handshake stands.
    pub fn close_state(&self) -> CloseState {
        self.shared.state().conn.close_state()
    }

    /// The connection's traffic counters so far.
    pub fn stats(&self) -> TrafficStats {
        self.shared.stats.snapshot()
    }

    fn control(&self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        let sh = &*self.shared;
        Counters::add(&sh.stats.out_frames, 1);
        Counters::add(&sh.stats.out_ws, payload.len());
        sh.with_io(|io| {
            let at = io.wbuf.len();
            io.wbuf.resize(at + CONTROL_FRAME_MAX, 0);
            match sh
                .state()
                .conn
                .encode_control(opcode, payload, &mut io.wbuf[at..])
            {
                Ok(n) => {
                    io.wbuf.truncate(at + n);
                    Ok(())
                }
                Err(e) => {
                    io.wbuf.truncate(at);
                    Err(e.into())
                }
            }
        })
    }
}

/// A message being sent through [`std::io::Write`] (see [`Writer::stream_message`]). Each
/// `write` sends one frame; [`finish`](Self::finish) sends the last one. Dropped unfinished,
/// it ends the message (errors are then lost: call `finish`).
pub struct MessageWriter<'a, S: Stream> {
    writer: &'a Writer<S>,
    kind: MessageKind,
    compress: bool,
    utf8: Option<Utf8Validator>,
    finished: bool,
}

impl<S: Stream> MessageWriter<'_, S> {
    fn frame(&mut self, fin: bool, data: &[u8]) -> Result<()> {
        if let Some(v) = self.utf8.as_mut() {
            let checked = v
                .feed(data)
                .and_then(|()| if fin { v.finish() } else { Ok(()) });
            if checked.is_err() {
                return Err(Error::InvalidState("text message is not UTF-8"));
            }
        }
        if self.compress {
            self.writer.write_frame_compressed(self.kind, fin, data)
        } else {
            self.writer.write_frame(self.kind, fin, data)
        }
    }

    /// Sends the message's last frame and flushes.
    pub fn finish(mut self) -> Result<()> {
        self.finished = true;
        self.frame(true, &[])?;
        self.writer.flush()
    }
}

impl<S: Stream> Write for MessageWriter<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.frame(false, buf).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush().map_err(io::Error::other)
    }
}

impl<S: Stream> Drop for MessageWriter<'_, S> {
    fn drop(&mut self) {
        if !self.finished {
            self.finished = true;
            let _ = self.frame(true, &[]);
        }
    }
}

impl<S: Stream> Reader<S> {
    /// Whether the next message is already here whole (one unfragmented data frame in the
    /// read buffer), so that reading it will not wait on the socket. A server that
    /// processes what arrived together in one go (the WAMP router) asks this.
    pub fn message_buffered(&self) -> bool {
        if self.pending_end || !self.msg.is_empty() {
            return false;
        }
        let b = &self.rbuf[self.rpos..self.rend];
        match ferrobahn_core::FrameHeader::parse(b) {
            Ok(ferrobahn_core::Status::Complete((h, n))) => {
                h.fin
                    && matches!(h.opcode, OpCode::Text | OpCode::Binary)
                    && (b.len() - n) as u64 >= h.payload_len
            }
            _ => false,
        }
    }

    /// Reads until a whole message (or a control frame) arrives. Pings are answered before
    /// they are returned; a close is answered and the transport closed before
    /// `Message::Close` is returned; the next call then gives [`Error::ConnectionClosed`].
    /// A protocol error sends the matching close frame, closes, and returns the error.
    pub fn read(&mut self) -> Result<Message> {
        // Payload bytes of the current (uncompressed) data frame not yet received.
        let mut frame_left = 0u64;
        loop {
            if frame_left >= DIRECT_READ as u64 && self.rpos == self.rend {
                self.read_direct(frame_left as usize)?;
                frame_left = 0;
            }
            match self.next_raw()? {
                Raw::Start {
                    kind,
                    message_start,
                    len,
                    compressed,
                    ..
                } => {
                    if message_start {
                        self.msg.clear();
                        self.msg_kind = kind;
                        self.start_message(kind, compressed);
                    }
                    if !self.compressed {
                        // Bounded by max_frame_payload and max_message_payload (checked).
                        self.msg.reserve(len as usize);
                        frame_left = len;
                    }
                }
                Raw::Data(a, b) if self.compressed => {
                    let mut msg = std::mem::take(&mut self.msg);
                    let r = self.inflate_into(a, b, &mut msg);
                    self.msg = msg;
                    r?;
                }
                Raw::Data(a, b) => {
                    self.msg.extend_from_slice(&self.rbuf[a..b]);
                    frame_left -= (b - a) as u64;
                }
                Raw::End { message_end: true } => {
                    if self.compressed {
                        let mut msg = std::mem::take(&mut self.msg);
                        let r = self.finish_inflate(&mut msg);
                        self.msg = msg;
                        r?;
                    }
                    let data = std::mem::take(&mut self.msg);
                    Counters::add(&self.shared.stats.in_messages, 1);
                    Counters::add(&self.shared.stats.in_app, data.len());
                    return Ok(match self.msg_kind {
                        // Validated as it arrived (by the core, or after inflation here).
                        MessageKind::Text => Message::Text(Text::from_validated(data)),
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

    /// A data message begins: is it compressed, and must its inflated text be validated here.
    fn start_message(&mut self, kind: MessageKind, compressed: bool) {
        self.compressed = compressed && self.inflate.is_some();
        self.utf8.reset();
        self.pending_end = false;
        let _ = kind;
    }

    /// The most an inflated message may hold.
    fn inflate_limit(&self) -> usize {
        self.settings
            .config
            .max_message_payload
            .min(usize::MAX as u64) as usize
    }

    /// Inflates `rbuf[a..b]` onto `out`, validating inflated text as it appears.
    fn inflate_into(&mut self, a: usize, b: usize, out: &mut Vec<u8>) -> Result<()> {
        let (limit, before) = (self.inflate_limit(), out.len());
        let codec = self
            .inflate
            .as_mut()
            .ok_or(Error::InvalidState("no compression"))?;
        let r = codec.decompress(&self.rbuf[a..b], out, limit);
        self.after_inflate(r, &out[before..])
    }

    /// Inflates the end of a compressed message onto `out`.
    fn finish_inflate(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let (limit, before) = (self.inflate_limit(), out.len());
        let codec = self
            .inflate
            .as_mut()
            .ok_or(Error::InvalidState("no compression"))?;
        let r = codec.finish(out, limit);
        self.after_inflate(r, &out[before..])?;
        if self.msg_kind == MessageKind::Text && self.utf8.finish().is_err() {
            return Err(self.fail_with(ProtocolError::InvalidUtf8));
        }
        Ok(())
    }

    fn after_inflate(
        &mut self,
        r: std::result::Result<(), DecompressError>,
        new: &[u8],
    ) -> Result<()> {
        match r {
            Err(DecompressError::TooLarge) => {
                return Err(self.fail_with(ProtocolError::MessageTooLarge))
            }
            Err(_) => return Err(self.fail_with(ProtocolError::Extension)),
            Ok(()) => {}
        }
        if self.msg_kind == MessageKind::Text && self.utf8.feed(new).is_err() {
            return Err(self.fail_with(ProtocolError::InvalidUtf8));
        }
        Ok(())
    }

    /// Fails the connection for an error found outside the core's decoder (after inflation).
    fn fail_with(&mut self, e: ProtocolError) -> Error {
        let _ = self.shared.state().conn.close(Some(CloseFrame {
            code: e.close_code(),
            reason: e.reason(),
        }));
        self.fail(Error::Protocol(e))
    }

    /// Frame/streaming API: the next event, payload data as it arrives (never a whole
    /// message buffered). Control frames are handled as in [`read`](Self::read).
    pub fn read_event(&mut self) -> Result<Incoming<'_>> {
        if self.pending_end {
            // The inflated end of a compressed message went out as Data; now its FrameEnd.
            self.pending_end = false;
            return Ok(Incoming::FrameEnd { message_end: true });
        }
        let raw = self.next_raw()?;
        let stats = &self.shared.stats;
        match &raw {
            Raw::Data(a, b) if !self.compressed => Counters::add(&stats.in_app, b - a),
            Raw::End {
                message_end: true, ..
            } => Counters::add(&stats.in_messages, 1),
            _ => {}
        }
        Ok(match raw {
            Raw::Start {
                kind,
                message_start,
                fin,
                len,
                compressed,
            } => {
                if message_start {
                    self.msg_kind = kind;
                    self.start_message(kind, compressed);
                }
                Incoming::FrameStart {
                    kind,
                    message_start,
                    fin,
                    len,
                }
            }
            Raw::Data(a, b) if self.compressed => {
                let mut out = std::mem::take(&mut self.inflated);
                out.clear();
                let r = self.inflate_into(a, b, &mut out);
                self.inflated = out;
                r?;
                Counters::add(&self.shared.stats.in_app, self.inflated.len());
                Incoming::Data(&self.inflated)
            }
            Raw::Data(a, b) => Incoming::Data(&self.rbuf[a..b]),
            Raw::End { message_end: true } if self.compressed => {
                let mut out = std::mem::take(&mut self.inflated);
                out.clear();
                let r = self.finish_inflate(&mut out);
                self.inflated = out;
                r?;
                Counters::add(&self.shared.stats.in_app, self.inflated.len());
                if self.inflated.is_empty() {
                    Incoming::FrameEnd { message_end: true }
                } else {
                    self.pending_end = true;
                    Incoming::Data(&self.inflated)
                }
            }
            Raw::End { message_end } => Incoming::FrameEnd { message_end },
            Raw::Ping(n) => Incoming::Ping(&self.ctrl[..n]),
            Raw::Pong(n) => Incoming::Pong(&self.ctrl[..n]),
            Raw::Close(c) => Incoming::Close(c.map(|(code, n)| CloseFrame {
                code: code.into(),
                reason: std::str::from_utf8(&self.ctrl[..n]).unwrap_or(""),
            })),
        })
    }

    /// Receives the rest of a large frame (`left` bytes, nothing of it buffered) straight
    /// into the message buffer: the core unmasks and checks it there, so the payload is
    /// never copied out of a read buffer.
    fn read_direct(&mut self, left: usize) -> Result<()> {
        let start = self.msg.len();
        let end = start + left;
        self.msg.resize(end, 0);
        let mut at = start;
        while at < end {
            self.shared.request_flush();
            let deadline = self.shared.state().close_deadline;
            let r = read_socket(&mut self.stream, &mut self.msg[at..end], deadline);
            let n = self.read_outcome(r, deadline)?;
            Counters::add(&self.shared.stats.in_ws, n);
            let mut st = self.shared.state();
            let mut pos = at;
            while pos < at + n {
                match st.conn.read(&mut self.msg[pos..at + n]) {
                    // Mid-frame, the decoder yields exactly data events for these bytes.
                    Ok((used, _)) => pos += used,
                    Err(e) => {
                        drop(st);
                        self.msg.truncate(start);
                        return Err(self.fail(e.into()));
                    }
                }
            }
            at += n;
        }
        Ok(())
    }

    fn next_raw(&mut self) -> Result<Raw> {
        if self.finished {
            return Err(Error::ConnectionClosed);
        }
        loop {
            let progress;
            {
                let mut st = self.shared.state();
                let start = self.rpos;
                let r = st.conn.read(&mut self.rbuf[start..self.rend]);
                let raw = match r {
                    Err(e) => {
                        drop(st);
                        return Err(self.fail(e.into()));
                    }
                    Ok((n, ev)) => {
                        self.rpos += n;
                        progress = n != 0 || ev.is_some();
                        match ev {
                            None => None,
                            Some(Event::FrameStart {
                                kind,
                                message_start,
                                fin,
                                len,
                                message_rsv,
                            }) => {
                                Counters::add(&self.shared.stats.in_frames, 1);
                                Some(Raw::Start {
                                    kind,
                                    message_start,
                                    fin,
                                    len,
                                    compressed: message_rsv & RSV1 != 0,
                                })
                            }
                            Some(Event::Data(d)) => {
                                Counters::add(&self.shared.stats.in_ws, d.len());
                                // Data always sits at the front of what was passed in.
                                Some(Raw::Data(start, start + d.len()))
                            }
                            Some(Event::FrameEnd { message_end }) => Some(Raw::End { message_end }),
                            Some(Event::Ping(p)) => {
                                self.shared.count_control_in(p.len());
                                self.ctrl[..p.len()].copy_from_slice(p);
                                Some(Raw::Ping(p.len()))
                            }
                            Some(Event::Pong(p)) => {
                                self.shared.count_control_in(p.len());
                                if let Some(ping) = &self.shared.ping {
                                    ping.pong(p);
                                }
                                self.ctrl[..p.len()].copy_from_slice(p);
                                Some(Raw::Pong(p.len()))
                            }
                            Some(Event::Close(c)) => Some(Raw::Close(c.map(|f| {
                                self.shared.count_control_in(2 + f.reason.len());
                                let r = f.reason.as_bytes();
                                self.ctrl[..r.len()].copy_from_slice(r);
                                (f.code.0, r.len())
                            }))),
                        }
                    }
                };
                let owed = st.take_control()?;
                drop(st);
                if owed {
                    self.shared.request_flush();
                }
                if self.settings.log_frames {
                    self.log_frame(raw.as_ref());
                }
                if let Some(Raw::Close(c)) = raw {
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
        self.shared.request_flush();
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
            let grown =
                (self.rbuf.len() * 2).min(self.settings.max_read_buffer.max(self.rbuf.len() + 1));
            self.rbuf.resize(grown, 0);
        }
        let deadline = self.shared.state().close_deadline;
        let r = read_socket(&mut self.stream, &mut self.rbuf[self.rend..], deadline);
        self.rend += self.read_outcome(r, deadline)?;
        Ok(())
    }

    /// Turns a socket read's result into bytes read, ending the connection on EOF and when
    /// the peer let `close_timeout` pass without answering our close.
    fn read_outcome(&mut self, r: io::Result<usize>, deadline: Option<Instant>) -> Result<usize> {
        if let Some(ping) = &self.shared.ping {
            if ping.timed_out.load(Ordering::SeqCst) {
                self.finished = true;
                return Err(Error::PingTimeout);
            }
            if matches!(r, Ok(n) if n > 0) {
                ping.saw_traffic();
            }
        }
        if let Ok(n) = r {
            Counters::add(&self.shared.stats.in_wire, n);
        }
        match r {
            Ok(0) => {
                self.finished = true;
                Err(Error::Io(io::ErrorKind::UnexpectedEof.into()))
            }
            Ok(n) => Ok(n),
            Err(e)
                if deadline.is_some()
                    && matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
            {
                log::debug!("peer did not answer our close within close_timeout");
                self.finished = true;
                let _ = self.stream.shutdown(Shutdown::Both);
                Err(Error::Io(io::ErrorKind::TimedOut.into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn log_frame(&self, raw: Option<&Raw>) {
        let f = "ferrobahn::frames";
        match raw {
            Some(Raw::Start {
                kind,
                fin,
                len,
                compressed,
                ..
            }) => {
                log::trace!(target: f, "in: {kind:?} frame, {len} bytes, fin {fin}, compressed {compressed}")
            }
            Some(Raw::Ping(n)) => log::trace!(target: f, "in: ping, {n} bytes"),
            Some(Raw::Pong(n)) => log::trace!(target: f, "in: pong, {n} bytes"),
            Some(Raw::Close(c)) => {
                log::trace!(target: f, "in: close {:?}", c.map(|(code, _)| code))
            }
            _ => {}
        }
    }

    /// After a protocol error: the close frame goes out, the transport is closed, the error
    /// is returned.
    fn fail(&mut self, e: Error) -> Error {
        match &e {
            Error::Protocol(p) => log::debug!(
                "{}: protocol error ({p}): closing with {}",
                self.peer_name(),
                p.close_code().0
            ),
            other => log::debug!("{}: failing the connection: {other}", self.peer_name()),
        }
        let _ = self.shared.state().take_control();
        self.finish_close();
        e
    }

    /// Ends the transport after the close handshake: a server half-closes at once and waits
    /// for the client's FIN; a client waits for the server to close (RFC 6455 §7.1.1), each
    /// at most `drop_timeout`.
    fn finish_close(&mut self) {
        self.finished = true;
        log::debug!("{}: connection closed", self.peer_name());
        {
            // Blocking here is fine: the connection is ending and the peer is reading.
            let mut io = lock(&self.shared.io);
            let _ = self.shared.flush_locked(&mut io);
            if self.role == Role::Server {
                let _ = io.stream.shutdown(Shutdown::Write);
            }
        }
        let _ = self
            .stream
            .set_read_timeout(Some(self.settings.drop_timeout));
        let mut sink = [0u8; 512];
        let deadline = std::time::Instant::now() + self.settings.drop_timeout;
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

    fn peer_name(&self) -> String {
        self.stream
            .peer_addr()
            .map_or_else(|| "?".to_owned(), |a| a.to_string())
    }

    /// Whether the connection is over.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

/// The auto-ping thread of one connection (see [`crate::keepalive`]).
fn keepalive<S: Stream>(shared: Weak<Shared<S>>) {
    loop {
        let Some(sh) = shared.upgrade() else { return };
        let Some(ping) = sh.ping.as_ref() else { return };
        if sh.state().conn.close_state() != CloseState::Open {
            return;
        }
        let now = Instant::now();
        let wake = if let Some(deadline) = ping.deadline() {
            if now >= deadline {
                ping.timed_out.store(true, Ordering::SeqCst);
                log::info!(
                    "{}: no pong within {:?}: dropping the connection",
                    lock(&sh.killer)
                        .peer_addr()
                        .map_or_else(|| "?".to_owned(), |a| a.to_string()),
                    ping.config.timeout
                );
                ping.config.emit(PingEvent::Timeout);
                // Wakes the reader's blocked read; it reports Error::PingTimeout.
                let _ = lock(&sh.killer).shutdown(Shutdown::Both);
                return;
            }
            deadline
        } else if ping.is_outstanding() {
            // No timeout: wait for the pong as long as it takes.
            now + ping.config.interval
        } else {
            let due = ping.next_ping();
            if now >= due {
                let payload = ping.new_ping();
                let writer = Writer {
                    shared: Arc::clone(&sh),
                };
                // Reported first, so that it always comes before its pong.
                ping.config.emit(PingEvent::Sent);
                if writer.control(OpCode::Ping, &payload).is_err() || writer.flush().is_err() {
                    return;
                }
                log::trace!("auto-ping sent");
                continue;
            }
            due
        };
        drop(sh);
        // Wake at least twice a second to notice a connection dropped by its owner.
        let nap = wake
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(500));
        std::thread::sleep(nap.max(Duration::from_millis(1)));
    }
}
