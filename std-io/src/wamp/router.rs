//! The embedded WAMP router: the core's sans-IO [`Router`](CoreRouter) behind one mutex,
//! with a listener that takes WebSocket and RawSocket on the same port (a RawSocket client's
//! first byte is 0x7F, an HTTP request's never is) and RawSocket on a Unix socket.
//!
//! ```text
//!   accept ─▶ peek first byte ─┬─ 0x7F: RawSocket handshake ─┐
//!                              └─ else: WebSocket handshake ─┴─▶ connection thread
//!   connection thread: recv messages ─▶ lock router ─▶ Router::receive ─▶ actions
//!        actions, still under the lock ─▶ each target's queue (at most `queue` messages)
//!        after the lock ─▶ write to each target's socket without blocking (Outgoing::pump)
//!   writer thread of a connection, only once its socket was full: the rest, blocking
//!   timer thread: Router::poll (call timeouts)
//! ```
//!
//! Threads: one per connection, plus a writer thread for a connection whose socket once
//! did not take what the router had for it (and for TLS and per-message compression, which are
//! written by it always): a slow socket never blocks the router or other sessions, and a
//! fast one costs no thread hand-off (see [`super::outgoing`]). Actions are queued while
//! the router lock is held, so every session sees messages in the order the router decided
//! them (SUBSCRIBED before the first EVENT of that subscription). A queue that is full means
//! the peer does not read: it is a slow consumer and its connection is shut down; the
//! router's memory never grows for it.

use std::collections::HashMap;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

pub use super::scram::scram_secret;
use ferrobahn_core::wamp::batched;
use ferrobahn_core::wamp::id::Entropy;
use ferrobahn_core::wamp::rawsocket::{self, Hello};
pub use ferrobahn_core::wamp::router::config::{
    Permission, Principal, RealmConfig, Role, RouterConfig, ScramSecret, Secret,
};
use ferrobahn_core::wamp::router::{Action, ConnId, Outbox, Router as CoreRouter, TransportInfo};
pub use ferrobahn_core::wamp::router::{
    Action4, AuthDecision, Authenticator, Authorizer, SessionDetails,
};
use ferrobahn_core::wamp::Serializer;

use super::link::{Receiver, RsReceiver, RsSender, Sender, WsReceiver, WsSender};
use super::outgoing::{Keepalive, Outgoing, Pushed};
use crate::server::{accept_stream, ServerConfig};
use crate::websocket::Stream;

/// How to run a router.
#[derive(Clone)]
pub struct RouterOptions {
    /// Realms, principals, roles, limits.
    pub config: RouterConfig,
    /// TCP address for WebSocket and RawSocket (`127.0.0.1:8080`; port 0 picks one).
    pub listen: String,
    /// A Unix socket path for RawSocket, besides TCP.
    #[cfg(unix)]
    pub unix: Option<std::path::PathBuf>,
    /// Largest message accepted, over both transports (RawSocket announces the power of two
    /// at or above it; WebSocket closes with 1009 beyond it).
    pub max_message: u32,
    /// Messages queued for one connection before it counts as a slow consumer and is
    /// dropped.
    pub queue: usize,
    /// Time for a client to complete the WebSocket or RawSocket handshake.
    pub handshake_timeout: Duration,
    /// Keepalive: every interval each connection gets a transport ping (RawSocket PING
    /// frame, WebSocket ping), and one that has not answered the previous ping by then is
    /// dropped, so a peer that vanished without closing is gone within two intervals.
    /// `None` (the default): no pings.
    pub ping_interval: Option<Duration>,
    /// Stack of each connection thread.
    pub thread_stack_size: usize,
    /// WebSocket server settings (origins, deflate, TLS...); the WAMP subprotocols are set by
    /// the router.
    pub websocket: ServerConfig,
    /// Asked first on each HELLO.
    pub authenticator: Option<Authenticator>,
    /// Asked after the static roles allow an action.
    pub authorizer: Option<Authorizer>,
}

impl Default for RouterOptions {
    fn default() -> Self {
        let mut websocket = ServerConfig::default();
        websocket.settings.config.max_message_payload = 16 << 20;
        // WAMP messages are mostly small and most sessions idle: the read buffer starts at
        // 1 KiB (it doubles while reads fill it) instead of 4 KiB, resident per session.
        websocket.settings.read_buffer = 1024;
        Self {
            config: RouterConfig::default(),
            listen: "127.0.0.1:8080".into(),
            #[cfg(unix)]
            unix: None,
            max_message: 16 << 20,
            queue: 4096,
            handshake_timeout: Duration::from_secs(10),
            ping_interval: None,
            thread_stack_size: 256 * 1024,
            websocket,
            authenticator: None,
            authorizer: None,
        }
    }
}

impl std::fmt::Debug for RouterOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterOptions")
            .field("config", &self.config)
            .field("listen", &self.listen)
            .field("max_message", &self.max_message)
            .field("queue", &self.queue)
            .field("ping_interval", &self.ping_interval)
            .finish_non_exhaustive()
    }
}

/// Random IDs and challenges from the OS.
struct OsEntropy {
    pool: [u8; 256],
    at: usize,
}

impl Entropy for OsEntropy {
    fn next_u64(&mut self) -> u64 {
        if self.at + 8 > self.pool.len() {
            crate::entropy::fill(&mut self.pool);
            self.at = 0;
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.pool[self.at..self.at + 8]);
        self.at += 8;
        u64::from_le_bytes(b)
    }
}

/// What one dispatch owes one connection: its messages in order, and whether to close it.
type Delivery = (ConnId, Vec<Arc<[u8]>>, bool);

/// Up to this many actions, `dispatch` groups them by scanning instead of hashing.
const SCAN_GROUPS: usize = 16;

/// Messages handled under one router lock at most (from what one read brought in).
const READ_BATCH: usize = 64;

struct Shared {
    router: Mutex<CoreRouter<OsEntropy>>,
    conns: Mutex<HashMap<ConnId, Arc<Outgoing>>>,
    next: AtomicU64,
    stop: AtomicBool,
    options: RouterOptions,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Milliseconds since the UNIX epoch (the router's `now`: call deadlines and `created`).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Shared {
    /// Runs `f` on the router and queues what it decided, under the router lock; then,
    /// after it, writes to every connection whose writing this thread took.
    fn with_router(&self, f: impl FnOnce(&mut CoreRouter<OsEntropy>, &mut Outbox)) {
        let mut r = lock(&self.router);
        let mut out = Outbox::new();
        f(&mut r, &mut out);
        let claimed = self.dispatch(out);
        drop(r);
        for c in claimed {
            c.pump();
        }
    }

    /// Queues what the router decided, grouped by connection (in the order decided) so a
    /// connection's messages go out together. Returns the connections this thread is to
    /// write to.
    fn dispatch(&self, out: Outbox) -> Vec<Arc<Outgoing>> {
        let mut claimed = Vec::new();
        if out.is_empty() {
            return claimed;
        }
        let mut groups: Vec<Delivery> = Vec::new();
        // Where each connection's group is (a publish to 1,000 subscribers times a batch of
        // events must not scan the groups for every delivery); a few actions (a call, a
        // result) are grouped by a scan, without building the index.
        let indexed = out.len() > SCAN_GROUPS;
        let mut index: HashMap<ConnId, usize> = HashMap::new();
        for a in out {
            let (to, msg) = match a {
                Action::Send { to, bytes } => (to, Some(bytes)),
                Action::Close { to } => (to, None),
            };
            let found = if indexed {
                index.get(&to).copied()
            } else {
                groups.iter().position(|g| g.0 == to)
            };
            let i = found.unwrap_or_else(|| {
                groups.push((to, Vec::new(), false));
                if indexed {
                    index.insert(to, groups.len() - 1);
                }
                groups.len() - 1
            });
            match msg {
                Some(m) => groups[i].1.push(m),
                None => groups[i].2 = true,
            }
        }
        let conns = lock(&self.conns);
        for (to, msgs, close) in groups {
            let Some(c) = conns.get(&to) else { continue };
            match c.push(msgs, close, self.options.queue) {
                Pushed::Claimed => claimed.push(Arc::clone(c)),
                Pushed::Queued => {}
                Pushed::SlowConsumer => {
                    log::warn!(
                        "WAMP router: connection {to} does not read; dropped as a slow consumer"
                    );
                    c.kill();
                }
            }
        }
        claimed
    }
}

/// A running router. Dropping it does not stop it; call [`stop`](Self::stop).
pub struct Router {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").field("addr", &self.addr).finish()
    }
}

impl Router {
    /// Starts a router with `options`: binds, then serves on background threads.
    pub fn start(mut options: RouterOptions) -> std::io::Result<Router> {
        // One limit for both transports.
        let ws_max = &mut options.websocket.settings.config.max_message_payload;
        *ws_max = (*ws_max).min(u64::from(options.max_message));
        let listener = TcpListener::bind(&options.listen)?;
        let addr = listener.local_addr()?;
        let mut core = CoreRouter::new(
            options.config.clone(),
            OsEntropy {
                pool: [0; 256],
                at: 256,
            },
        );
        if let Some(a) = &options.authenticator {
            core.set_authenticator(Arc::clone(a));
        }
        if let Some(a) = &options.authorizer {
            core.set_authorizer(Arc::clone(a));
        }
        let shared = Arc::new(Shared {
            router: Mutex::new(core),
            conns: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            stop: AtomicBool::new(false),
            options,
        });
        let mut threads = Vec::new();
        let s = Arc::clone(&shared);
        threads.push(
            std::thread::Builder::new()
                .name("wamp-router-accept".into())
                .spawn(move || accept_loop(s, listener))?,
        );
        #[cfg(unix)]
        if let Some(path) = shared.options.unix.clone() {
            let _ = std::fs::remove_file(&path);
            let l = std::os::unix::net::UnixListener::bind(&path)?;
            let s = Arc::clone(&shared);
            threads.push(
                std::thread::Builder::new()
                    .name("wamp-router-unix".into())
                    .spawn(move || unix_loop(s, l))?,
            );
        }
        let s = Arc::clone(&shared);
        threads.push(
            std::thread::Builder::new()
                .name("wamp-router-timer".into())
                .spawn(move || timer_loop(s))?,
        );
        log::info!("WAMP router listening on {addr} (WebSocket and RawSocket)");
        Ok(Router {
            addr,
            shared,
            threads,
        })
    }

    /// The TCP address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://ADDR/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// `rs://ADDR`.
    pub fn rs_url(&self) -> String {
        format!("rs://{}", self.addr)
    }

    /// Sessions joined.
    pub fn session_count(&self) -> usize {
        lock(&self.shared.router).session_count()
    }

    /// Open connections.
    pub fn connection_count(&self) -> usize {
        lock(&self.shared.router).connection_count()
    }

    /// Calls waiting for a result (a leak check: 0 when idle).
    pub fn pending_call_count(&self) -> usize {
        lock(&self.shared.router).pending_call_count()
    }

    /// Registrations.
    pub fn registration_count(&self) -> usize {
        lock(&self.shared.router).registration_count()
    }

    /// Subscriptions.
    pub fn subscription_count(&self) -> usize {
        lock(&self.shared.router).subscription_count()
    }

    /// Blocks until the router stops (it runs until [`stop`](Self::stop) or the process ends).
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// Says GOODBYE to every session, closes every connection, stops listening.
    pub fn stop(mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.with_router(|r, out| r.shutdown(out));
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        #[cfg(unix)]
        if let Some(p) = &self.shared.options.unix {
            let _ = std::os::unix::net::UnixStream::connect(p);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // Anything still open (a peer that ignores GOODBYE) is cut.
        for c in lock(&self.shared.conns).values() {
            c.kill();
        }
    }
}

fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let s = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("wamp-router-conn".into())
            .stack_size(shared.options.thread_stack_size)
            .spawn(move || {
                if let Err(e) = serve_tcp(&s, stream) {
                    log::debug!("WAMP router: connection ended: {e}");
                }
            });
        if let Err(e) = spawned {
            log::warn!("WAMP router: cannot start a connection thread: {e}");
        }
    }
}

#[cfg(unix)]
fn unix_loop(shared: Arc<Shared>, listener: std::os::unix::net::UnixListener) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let s = Arc::clone(&shared);
        let _ = std::thread::Builder::new()
            .name("wamp-router-conn".into())
            .stack_size(shared.options.thread_stack_size)
            .spawn(move || {
                let kill = stream.try_clone().ok();
                let info = TransportInfo {
                    kind: "rawsocket",
                    peer: "unix".into(),
                    ..Default::default()
                };
                let kill: Box<dyn Fn() + Send + Sync> = Box::new(move || {
                    if let Some(k) = &kill {
                        let _ = k.shutdown(Shutdown::Both);
                    }
                });
                if let Err(e) = serve_rawsocket(&s, stream, info, kill) {
                    log::debug!("WAMP router: connection ended: {e}");
                }
            });
    }
}

fn timer_loop(shared: Arc<Shared>) {
    let mut last_ping = std::time::Instant::now();
    while !shared.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
        if let Some(every) = shared.options.ping_interval {
            if last_ping.elapsed() >= every {
                last_ping = std::time::Instant::now();
                keepalive_round(&shared);
            }
        }
        let due = lock(&shared.router)
            .next_deadline()
            .is_some_and(|d| d <= now_ms());
        if due {
            shared.with_router(|r, out| r.poll(now_ms(), out));
        }
    }
}

/// Pings every connection; drops those that did not answer the last round's ping.
fn keepalive_round(shared: &Shared) {
    let conns: Vec<(ConnId, Arc<Outgoing>)> = lock(&shared.conns)
        .iter()
        .map(|(id, c)| (*id, Arc::clone(c)))
        .collect();
    for (id, c) in conns {
        match c.keepalive() {
            Keepalive::Pinged(Pushed::Claimed) => c.pump(),
            Keepalive::Pinged(_) => {}
            Keepalive::Dead => {
                log::warn!("WAMP router: connection {id} did not answer a ping; dropped")
            }
        }
    }
}

fn peer_name(a: Option<SocketAddr>) -> String {
    match a {
        Some(SocketAddr::V4(a)) => format!("tcp4:{}:{}", a.ip(), a.port()),
        Some(SocketAddr::V6(a)) => format!("tcp6:{}:{}", a.ip(), a.port()),
        None => "unknown".into(),
    }
}

fn serve_tcp(shared: &Arc<Shared>, stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(shared.options.handshake_timeout))?;
    let peer = peer_name(stream.peer_addr().ok());
    let killer = stream.try_clone()?;
    let kill: Box<dyn Fn() + Send + Sync> = Box::new(move || {
        let _ = killer.shutdown(Shutdown::Both);
    });
    let mut first = [0u8; 1];
    if stream.peek(&mut first)? == 0 {
        return Ok(());
    }
    if first[0] == 0x7F {
        let info = TransportInfo {
            kind: "rawsocket",
            peer,
            ..Default::default()
        };
        return serve_rawsocket(shared, stream, info, kill);
    }
    let mut cfg = shared.options.websocket.clone();
    cfg.handshake_timeout = shared.options.handshake_timeout;
    cfg.protocols = Vec::new();
    for s in [
        Serializer::CBOR,
        Serializer::MSGPACK,
        Serializer::JSON,
        Serializer::UBJSON,
        Serializer::FlatBuffers,
    ] {
        if s.enabled() {
            cfg.protocols.push(s.subprotocol().into());
            cfg.protocols
                .extend(s.batched_subprotocol().map(Into::into));
        }
    }
    // TLS (a ClientHello starts with 0x16) carries WebSocket (`wss://`) or RawSocket
    // (`rss://`), told apart by the first byte inside, as outside.
    #[cfg(feature = "tls")]
    let ws = if let (0x16, Some(tls)) = (first[0], cfg.tls.take()) {
        let started = std::time::Instant::now();
        let mut tls = crate::tls::TlsStream::accept(tls, stream, Some(cfg.handshake_timeout))
            .map_err(std::io::Error::other)?;
        cfg.handshake_timeout = cfg
            .handshake_timeout
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        tls.set_read_timeout(Some(cfg.handshake_timeout))?;
        if tls.peek_byte()? == Some(0x7F) {
            let info = TransportInfo {
                kind: "rawsocket",
                peer,
                channel_binding: tls.channel_binding(),
                ..Default::default()
            };
            return serve_rawsocket(shared, tls, info, kill);
        }
        accept_stream(crate::Transport::Tls(Box::new(tls)), &cfg).map_err(std::io::Error::other)?
    } else {
        accept_stream(crate::Transport::Tcp(stream), &cfg).map_err(std::io::Error::other)?
    };
    #[cfg(not(feature = "tls"))]
    let ws = accept_stream(crate::Transport::Tcp(stream), &cfg).map_err(std::io::Error::other)?;
    let Some((serializer, batched)) = ws.protocol().and_then(Serializer::from_subprotocol) else {
        let mut ws = ws;
        let _ = ws.close(Some(crate::Close {
            code: ferrobahn_core::CloseCode(1002),
            reason: "a WAMP subprotocol is required".into(),
        }));
        return Ok(());
    };
    let info = TransportInfo {
        kind: "websocket",
        peer,
        protocol: ws.protocol().unwrap_or("").into(),
        channel_binding: ws.channel_binding(),
    };
    let writer_stack = if ws.compression().is_some() {
        COMPRESS_WRITER_STACK
    } else {
        WRITER_STACK
    };
    let (reader, writer) = ws.split();
    let sender: Arc<dyn Sender> = Arc::new(WsSender {
        writer,
        text: serializer.is_text(),
    });
    let link = Joined {
        sender,
        receiver: Box::new(WsReceiver { reader, pong: None }),
        serializer,
        batched,
        writer_stack,
    };
    run(shared, link, info, kill);
    Ok(())
}

fn serve_rawsocket<S: Stream>(
    shared: &Arc<Shared>,
    mut stream: S,
    mut info: TransportInfo,
    kill: Box<dyn Fn() + Send + Sync>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(shared.options.handshake_timeout))?;
    let mut req = [0u8; 4];
    stream.read_exact(&mut req)?;
    let exp = Hello::exp_for(shared.options.max_message);
    let (ours, theirs) = match rawsocket::server_handshake(req, |_| true, exp) {
        Ok(x) => x,
        Err(e) => {
            if let Some(reply) = e.reply() {
                let _ = stream.write_all(&reply);
            }
            return Ok(());
        }
    };
    stream.write_all(&ours.encode())?;
    stream.flush()?;
    stream.set_read_timeout(None)?;
    info.protocol = ours.serializer.subprotocol().into();
    let sender = Arc::new(RsSender::new(stream.try_clone()?, theirs.max_len()));
    let receiver = RsReceiver::new(stream, Arc::clone(&sender), ours.max_len());
    let link = Joined {
        sender,
        receiver: Box::new(receiver),
        serializer: ours.serializer,
        batched: false,
        writer_stack: WRITER_STACK,
    };
    run(shared, link, info, kill);
    Ok(())
}

/// A transport past its handshake, ready to serve.
struct Joined {
    sender: Arc<dyn Sender>,
    receiver: Box<dyn Receiver>,
    serializer: Serializer,
    /// The batched WebSocket subprotocol (token formats only).
    batched: bool,
    writer_stack: usize,
}

/// The stack of a writer thread that does not compress.
const WRITER_STACK: usize = 64 * 1024;

/// The stack of a writer thread that compresses (any method): miniz_oxide's compressor
/// (about 300 KiB) is built on the stack before it is boxed, at least in debug builds; 64 KiB
/// overflowed and took the whole router down. brotli keeps 8 KiB of buffers on the stack.
/// Only touched pages cost memory.
const COMPRESS_WRITER_STACK: usize = 1024 * 1024;

/// Serves one joined transport until it ends, on a thread of its own: the handshake's
/// thread ends here, and the pages its deeper frames touched (HTTP parsing, TLS, the
/// handshake's buffers: about 12 KiB) go with it instead of staying resident for the
/// session's whole life.
fn run(shared: &Arc<Shared>, link: Joined, info: TransportInfo, kill: Box<dyn Fn() + Send + Sync>) {
    let s = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("wamp-router-conn".into())
        .stack_size(shared.options.thread_stack_size)
        .spawn(move || serve(&s, link, info, kill));
    if let Err(e) = spawned {
        log::warn!("WAMP router: cannot start a session thread: {e}");
    }
}

/// Serves one joined transport until it ends.
fn serve(
    shared: &Arc<Shared>,
    link: Joined,
    info: TransportInfo,
    kill: Box<dyn Fn() + Send + Sync>,
) {
    let Joined {
        sender,
        mut receiver,
        serializer,
        batched,
        writer_stack,
    } = link;
    // The batched framing's format (only token formats are batched).
    let batch_format = serializer.format().filter(|_| batched);
    let id = shared.next.fetch_add(1, Ordering::Relaxed);
    let out = Arc::new(Outgoing::new(sender, batch_format, writer_stack, kill));
    receiver.on_pong(out.pong_flag());
    lock(&shared.conns).insert(id, Arc::clone(&out));
    shared.with_router(|r, _| r.open(id, serializer, info));
    let mut batch: Vec<Vec<u8>> = Vec::new();
    'read: while let Ok(Some(first)) = receiver.recv() {
        // What arrived together is handled under one lock, and its deliveries go out
        // together: under load, one wake-up and one write per recipient for many messages.
        batch.clear();
        batch.push(first);
        let mut ended = false;
        while batch.len() < READ_BATCH && receiver.message_buffered() {
            match receiver.recv() {
                Ok(Some(m)) => batch.push(m),
                _ => {
                    ended = true;
                    break;
                }
            }
        }
        let mut broken = false;
        shared.with_router(|r, out| {
            let now = now_ms();
            for bytes in &batch {
                let Some(format) = batch_format else {
                    r.receive(id, bytes, now, out);
                    continue;
                };
                for m in batched::split(format, bytes) {
                    match m {
                        Ok(m) => r.receive(id, m, now, out),
                        Err(_) => {
                            // A broken batch frame: hand the router bytes no serializer
                            // decodes, so it answers as for any malformed message (ABORT,
                            // protocol_violation).
                            r.receive(id, b"\xff", now, out);
                            broken = true;
                            return;
                        }
                    }
                }
            }
        });
        out.heard();
        if ended || broken {
            break 'read;
        }
    }
    shared.with_router(|r, out| r.close(id, out));
    lock(&shared.conns).remove(&id);
    // What is still queued goes out, then the transport is closed.
    out.finish();
}
