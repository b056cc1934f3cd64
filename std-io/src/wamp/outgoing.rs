//! A router connection's way out: the messages the router decided for it, in the order it
//! decided them, written by whichever thread decided them when the socket takes them at
//! once, and by the connection's own writer thread when it does not.
//!
//! ```text
//!   under the router lock:  push(messages) ─▶ queue (bounded: beyond it, a slow consumer)
//!   after it, same thread:  pump ─▶ Sender::try_queue + try_flush (never blocks)
//!                             └─ socket full, TLS, compression, a close ─▶ hand off ─┐
//!   writer thread (started the first time it is needed):  flush, write the queue ◀────┘
//! ```
//!
//! The router's keepalive goes the same way: [`Outgoing::keepalive`] queues a transport
//! ping (RawSocket PING, WebSocket ping) ahead of the messages, and drops a connection whose
//! peer did not answer the previous one.
//!
//! One thread writes at a time (`busy`), so the queue's order is the wire's order. Most
//! messages never meet a second thread: a call through the router costs no thread hand-off
//! in the router, and a session that never fills its socket never has a writer thread (a
//! thread's stack and bookkeeping are most of an idle session's memory).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use ferrobahn_core::wamp::batched;
use ferrobahn_core::wamp::Format;

use super::link::Sender;
use super::WampError;

/// See the module doc.
pub(crate) struct Outgoing {
    state: Mutex<State>,
    /// Wakes the writer thread (hand-off, exit) and `finish` (writing released).
    wake: Condvar,
    sender: Arc<dyn Sender>,
    /// The batched WebSocket subprotocol: each message is framed for it first.
    batched: Option<Format>,
    writer_stack: usize,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Shuts the socket down both ways (slow consumer, write error, router stop).
    kill: Box<dyn Fn() + Send + Sync>,
    /// The peer sent something (a pong, a message) since the last keepalive round (set by
    /// the connection's receiver and reader).
    heard: Arc<AtomicBool>,
    /// A keepalive ping went out and its pong is awaited.
    pinged: AtomicBool,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Arc<[u8]>>,
    /// The router closes the transport after what is queued (GOODBYE sent, ABORT).
    close: bool,
    /// A thread is writing: a pump or the writer thread. Only it touches the sender.
    busy: bool,
    /// The writer thread owns the writing (a pump could not finish without blocking).
    handoff: bool,
    /// The transport is closed or broken: nothing more is written.
    closed: bool,
    /// The connection ended: the writer thread exits.
    exit: bool,
    /// A transport ping is owed, ahead of the queue.
    ping: bool,
}

/// How long a connection's end waits for its last writes (see [`Outgoing::finish`]).
const FINISH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The payload of the router's keepalive pings.
const PING: &[u8] = b"ferrobahn";

/// What [`Outgoing::keepalive`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Keepalive {
    /// A ping is queued; the caller writes it when `Claimed` (see [`Pushed`]).
    Pinged(Pushed),
    /// The previous ping was not answered: the connection was killed.
    Dead,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What [`Outgoing::push`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued, and this caller now writes: call [`Outgoing::pump`] (after the router lock).
    Claimed,
    /// Queued; a thread already writing takes it.
    Queued,
    /// The queue would pass its bound: the peer does not read. Nothing queued.
    SlowConsumer,
}

impl Outgoing {
    pub(crate) fn new(
        sender: Arc<dyn Sender>,
        batched: Option<Format>,
        writer_stack: usize,
        kill: Box<dyn Fn() + Send + Sync>,
    ) -> Self {
        Self {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            sender,
            batched,
            writer_stack,
            writer: Mutex::new(None),
            kill,
            heard: Arc::new(AtomicBool::new(false)),
            pinged: AtomicBool::new(false),
        }
    }

    /// The flag the connection's receiver sets on each pong.
    pub(crate) fn pong_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.heard)
    }

    /// The peer sent a message: it is alive.
    pub(crate) fn heard(&self) {
        self.heard.store(true, Ordering::Relaxed);
    }

    /// One keepalive round (the router runs one per interval): a peer from which nothing
    /// came (no pong, no message) since the last round is dropped; otherwise a new ping is
    /// queued. So a dead peer is found within two intervals; the interval must exceed the
    /// peers' round trip.
    pub(crate) fn keepalive(&self) -> Keepalive {
        let answered = self.heard.swap(false, Ordering::Relaxed);
        if self.pinged.load(Ordering::Relaxed) && !answered {
            self.kill();
            return Keepalive::Dead;
        }
        self.pinged.store(true, Ordering::Relaxed);
        let mut st = lock(&self.state);
        if st.closed {
            return Keepalive::Pinged(Pushed::Queued);
        }
        st.ping = true;
        if st.busy {
            return Keepalive::Pinged(Pushed::Queued);
        }
        st.busy = true;
        Keepalive::Pinged(Pushed::Claimed)
    }

    /// Queues `msgs` (then a close, when `close`), at most `max` messages waiting. Called
    /// under the router lock, so every connection's queue is in the router's order.
    pub(crate) fn push(&self, msgs: Vec<Arc<[u8]>>, close: bool, max: usize) -> Pushed {
        let mut st = lock(&self.state);
        if st.queue.len() + msgs.len() > max.max(1) {
            // Dropped: nothing more is queued or written for it.
            st.closed = true;
            st.queue.clear();
            return Pushed::SlowConsumer;
        }
        st.queue.extend(msgs);
        st.close |= close;
        if st.busy {
            return Pushed::Queued;
        }
        st.busy = true;
        Pushed::Claimed
    }

    /// Shuts the socket down: the reader sees the end, the writer's next write fails.
    pub(crate) fn kill(&self) {
        (self.kill)();
    }

    /// Writes what is queued without blocking, as long as the socket takes it; hands the
    /// rest to the writer thread. Only after [`Pushed::Claimed`].
    pub(crate) fn pump(self: &Arc<Self>) {
        let mut framed = Vec::new();
        loop {
            let mut st = lock(&self.state);
            if st.closed {
                st.queue.clear();
                return self.release(st);
            }
            let mut blocked = false;
            if st.ping {
                match self.sender.try_queue_ping(PING) {
                    Ok(true) => st.ping = false,
                    Ok(false) => blocked = true,
                    // The transport is closing (a WebSocket after its close frame): no ping,
                    // and no reason to cut the close short.
                    Err(_) => st.ping = false,
                }
            }
            while !blocked {
                let Some(m) = st.queue.front() else { break };
                match self.try_queue(m, &mut framed) {
                    Ok(true) => {
                        st.queue.pop_front();
                    }
                    Ok(false) => blocked = true,
                    Err(e) => return self.broken(st, &e),
                }
            }
            if blocked {
                return self.hand_off(st);
            }
            drop(st);
            // The system call runs without the lock: the router may queue more meanwhile.
            let flushed = self.sender.try_flush();
            let mut st = lock(&self.state);
            match flushed {
                Ok(true) if st.queue.is_empty() && !st.ping => {
                    if st.close {
                        // Everything went out: the close (a close frame, a TCP half-close)
                        // is a few bytes more, written here rather than by a new thread.
                        st.closed = true;
                        drop(st);
                        self.sender.close();
                        st = lock(&self.state);
                    }
                    return self.release(st);
                }
                Ok(true) => continue,
                Ok(false) => return self.hand_off(st),
                Err(e) => return self.broken(st, &e),
            }
        }
    }

    /// The connection ended (its reader is done and the router forgot it): what is still
    /// queued goes out, the transport is closed, the writer thread stops. Runs on the
    /// connection's own thread and waits for that, at most [`FINISH_WAIT`]: then the socket
    /// is cut (a peer that stopped reading would otherwise hold the writer, and this
    /// thread, forever; the router no longer knows the connection to drop it).
    pub(crate) fn finish(self: &Arc<Self>) {
        let mut st = lock(&self.state);
        st.close = true;
        if !st.busy {
            // Written (and closed) by a pump, or by the writer thread if the socket is full.
            st.busy = true;
            drop(st);
            self.pump();
            st = lock(&self.state);
        }
        let deadline = std::time::Instant::now() + FINISH_WAIT;
        let mut cut = false;
        while st.busy {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() && !cut {
                cut = true;
                self.kill();
            }
            st = if cut {
                self.wake.wait(st).unwrap_or_else(|p| p.into_inner())
            } else {
                self.wake
                    .wait_timeout(st, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            };
        }
        st.exit = true;
        st.queue.clear();
        drop(st);
        self.wake.notify_all();
        if let Some(w) = lock(&self.writer).take() {
            let _ = w.join();
        }
    }

    /// `m` as the transport carries it: as is, or framed for batched WebSocket in `buf`.
    fn framed<'a>(&self, m: &'a [u8], buf: &'a mut Vec<u8>) -> Result<&'a [u8], WampError> {
        let Some(format) = self.batched else {
            return Ok(m);
        };
        buf.clear();
        batched::encode_bytes(m, format, Default::default(), buf)
            .map_err(|e| WampError::Transport(e.to_string()))?;
        Ok(buf)
    }

    /// Queues `m` if that cannot block.
    fn try_queue(&self, m: &[u8], buf: &mut Vec<u8>) -> Result<bool, WampError> {
        self.sender.try_queue(self.framed(m, buf)?)
    }

    /// Queues `m` (may write, and block).
    fn queue(&self, m: &[u8], buf: &mut Vec<u8>) -> Result<(), WampError> {
        self.sender.queue(self.framed(m, buf)?)
    }

    /// Gives up writing (queue drained or transport closed).
    fn release(&self, mut st: MutexGuard<'_, State>) {
        st.busy = false;
        drop(st);
        self.wake.notify_all();
    }

    /// A write failed: nothing more goes out; the reader sees the end after the kill.
    fn broken(&self, mut st: MutexGuard<'_, State>, e: &WampError) {
        log::debug!("WAMP router: write failed: {e}");
        st.closed = true;
        st.queue.clear();
        self.release(st);
        self.kill();
    }

    /// Makes the writer thread the writer (started if it is not running yet).
    fn hand_off(self: &Arc<Self>, mut st: MutexGuard<'_, State>) {
        st.handoff = true;
        drop(st);
        let mut w = lock(&self.writer);
        if w.is_none() {
            let me = Arc::clone(self);
            match std::thread::Builder::new()
                .name("wamp-router-write".into())
                .stack_size(self.writer_stack)
                .spawn(move || me.write_loop())
            {
                Ok(h) => *w = Some(h),
                Err(e) => {
                    log::warn!("WAMP router: cannot start a writer thread: {e}");
                    drop(w);
                    let mut st = lock(&self.state);
                    st.handoff = false;
                    return self.broken(st, &WampError::Transport(e.to_string()));
                }
            }
        }
        drop(w);
        self.wake.notify_all();
    }

    /// The writer thread: each time it is handed the writing, writes (blocking) what a pump
    /// left staged and everything queued, one flush per batch, then gives the writing back.
    fn write_loop(self: Arc<Self>) {
        let mut framed = Vec::new();
        let mut st = lock(&self.state);
        loop {
            while !st.handoff && !st.exit {
                st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            if !st.handoff {
                return;
            }
            drop(st);
            let mut result = self.sender.flush();
            st = lock(&self.state);
            loop {
                if let Err(e) = result {
                    st.handoff = false;
                    self.broken(st, &e);
                    return;
                }
                if st.closed {
                    // Dropped meanwhile (a slow consumer): nothing more goes out.
                    st.queue.clear();
                    break;
                }
                if std::mem::take(&mut st.ping) {
                    drop(st);
                    // A ping the closing transport refuses is skipped (see `pump`); a
                    // broken socket still shows in the flush.
                    let _ = self.sender.queue_ping(PING);
                    result = self.sender.flush();
                    st = lock(&self.state);
                    continue;
                }
                if st.queue.is_empty() {
                    break;
                }
                let batch: Vec<_> = st.queue.drain(..).collect();
                drop(st);
                result = batch
                    .iter()
                    .try_for_each(|m| self.queue(m, &mut framed))
                    .and_then(|()| self.sender.flush());
                st = lock(&self.state);
            }
            st.handoff = false;
            if st.close && !st.closed {
                st.closed = true;
                drop(st);
                self.sender.close();
                st = lock(&self.state);
                st.busy = false;
                drop(st);
                self.wake.notify_all();
                return;
            }
            st.busy = false;
            self.wake.notify_all();
            if st.closed {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wamp::link::{Receiver, RsReceiver, RsSender};
    use std::net::{TcpListener, TcpStream};

    impl Outgoing {
        fn has_writer(&self) -> bool {
            lock(&self.writer).is_some()
        }
    }

    /// An `Outgoing` over RawSocket on one end of a loopback connection, and a receiver on
    /// the other.
    fn pair() -> (Arc<Outgoing>, RsReceiver<TcpStream>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        let killer = a.try_clone().unwrap();
        let out = Arc::new(Outgoing::new(
            Arc::new(RsSender::new(a, 1 << 24)),
            None,
            64 * 1024,
            Box::new(move || {
                let _ = killer.shutdown(std::net::Shutdown::Both);
            }),
        ));
        let their_sender = Arc::new(RsSender::new(b.try_clone().unwrap(), 1 << 24));
        (out, RsReceiver::new(b, their_sender, 1 << 24))
    }

    fn message(i: u32, len: usize) -> Arc<[u8]> {
        let mut m = i.to_be_bytes().to_vec();
        m.resize(len, (i % 251) as u8);
        m.into()
    }

    fn send(out: &Arc<Outgoing>, m: Arc<[u8]>, max: usize) -> Pushed {
        let p = out.push(vec![m], false, max);
        if p == Pushed::Claimed {
            out.pump();
        }
        p
    }

    #[test]
    fn a_peer_that_keeps_up_is_written_to_without_a_writer_thread() {
        let (out, mut rx) = pair();
        for i in 0..200 {
            assert_eq!(send(&out, message(i, 40), 10), Pushed::Claimed);
            assert_eq!(rx.recv().unwrap().unwrap(), &*message(i, 40));
        }
        assert!(!out.has_writer());
        out.finish();
        assert_eq!(rx.recv().unwrap(), None);
    }

    #[test]
    fn a_full_socket_goes_to_the_writer_thread_and_order_holds() {
        let (out, mut rx) = pair();
        // 16 MiB: far beyond what loopback buffers hold while nobody reads.
        let n = 4096;
        let reader = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            for i in 0..n {
                let got = rx.recv().unwrap().unwrap();
                assert_eq!(got, &*message(i, 4096), "message {i}");
            }
            rx
        });
        let mut handed_back = 0;
        for i in 0..n {
            match send(&out, message(i, 4096), n as usize) {
                Pushed::Claimed => handed_back += 1,
                Pushed::Queued => {}
                Pushed::SlowConsumer => panic!("bound is the whole run"),
            }
        }
        assert!(out.has_writer(), "the socket never filled");
        let mut rx = reader.join().unwrap();
        // Written to directly again once the writer thread caught up.
        assert!(handed_back > 1);
        assert_eq!(send(&out, message(n, 10), 10), Pushed::Claimed);
        assert_eq!(rx.recv().unwrap().unwrap(), &*message(n, 10));
        out.finish();
        assert_eq!(rx.recv().unwrap(), None);
    }

    #[test]
    fn a_peer_that_does_not_read_is_a_slow_consumer() {
        let (out, _rx) = pair();
        let mut slow = false;
        for i in 0..100_000 {
            if send(&out, message(i, 4096), 64) == Pushed::SlowConsumer {
                slow = true;
                break;
            }
        }
        assert!(slow);
        assert!(lock(&out.state).queue.len() <= 64);
        out.kill();
        out.finish();
    }
}
