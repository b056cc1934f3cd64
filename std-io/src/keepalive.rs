//! Auto-ping (Autobahn's `autoPingInterval`, `autoPingTimeout`, `autoPingSize`,
//! `autoPingRestartOnAnyTraffic`): a small thread per connection sends pings, the reader
//! matches the pongs, and a peer that stops answering gets its connection dropped.
//!
//! ```text
//!   keepalive thread                         reader thread
//!   sleep until the next ping is due  ◀──── any bytes read: last_rx (restart on traffic)
//!   send ping (payload: 8-byte counter      Pong with the payload we wait for:
//!     + random bytes) ─▶ Writer               rtt → on_event(Pong), next ping scheduled
//!   no pong by the timeout: on_event(Timeout),
//!     socket shut down ─▶ reader fails with Error::PingTimeout
//! ```
//!
//! The thread holds only a weak reference to the connection: when both halves are dropped
//! or the connection closes, it ends at its next wake-up.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the auto-ping machinery reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PingEvent {
    /// A ping is going out (reported just before it is written).
    Sent,
    /// Our ping was answered after this round-trip time.
    Pong {
        /// Time from sending the ping to reading its pong.
        rtt: Duration,
    },
    /// No pong within the timeout: the connection is being dropped.
    Timeout,
}

/// A callback for [`PingEvent`]s (runs on the reader or the keepalive thread: keep it short).
pub type PingCallback = dyn Fn(PingEvent) + Send + Sync;

/// Auto-ping settings.
#[derive(Clone)]
pub struct AutoPing {
    /// Time between pings (after the last pong, or after the last traffic received with
    /// `restart_on_any_traffic`).
    pub interval: Duration,
    /// How long to wait for the pong before dropping the connection (`None`: never).
    pub timeout: Option<Duration>,
    /// Ping payload size, 12..=125 bytes (clamped): an 8-byte counter and random bytes.
    pub size: usize,
    /// Any bytes received count as a sign of life and push the next ping back.
    pub restart_on_any_traffic: bool,
    /// Told of each ping, pong and timeout.
    pub on_event: Option<Arc<PingCallback>>,
}

impl AutoPing {
    /// Pings every `interval`, dropping the connection when a pong takes over `timeout`.
    pub fn new(interval: Duration, timeout: Duration) -> Self {
        Self {
            interval,
            timeout: Some(timeout),
            size: 12,
            restart_on_any_traffic: true,
            on_event: None,
        }
    }

    pub(crate) fn payload_len(&self) -> usize {
        self.size.clamp(12, 125)
    }

    pub(crate) fn emit(&self, e: PingEvent) {
        if let Some(f) = &self.on_event {
            f(e);
        }
    }
}

impl std::fmt::Debug for AutoPing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoPing")
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("size", &self.size)
            .field("restart_on_any_traffic", &self.restart_on_any_traffic)
            .field("on_event", &self.on_event.is_some())
            .finish()
    }
}

/// The ping we wait for.
pub(crate) struct Outstanding {
    pub(crate) payload: Vec<u8>,
    pub(crate) sent: Instant,
}

/// Keepalive state shared by the reader and the keepalive thread.
pub(crate) struct PingState {
    pub(crate) config: AutoPing,
    epoch: Instant,
    /// Nanoseconds after `epoch` when bytes last arrived.
    last_rx: AtomicU64,
    /// Nanoseconds after `epoch` when the last pong arrived (or the connection opened).
    last_pong: AtomicU64,
    pub(crate) outstanding: Mutex<Option<Outstanding>>,
    pub(crate) timed_out: AtomicBool,
    counter: AtomicU64,
}

impl PingState {
    pub(crate) fn new(config: AutoPing) -> Self {
        Self {
            config,
            epoch: Instant::now(),
            last_rx: AtomicU64::new(0),
            last_pong: AtomicU64::new(0),
            outstanding: Mutex::new(None),
            timed_out: AtomicBool::new(false),
            counter: AtomicU64::new(0),
        }
    }

    fn since_epoch(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    fn at(&self, nanos: u64) -> Instant {
        self.epoch + Duration::from_nanos(nanos)
    }

    /// Bytes arrived.
    pub(crate) fn saw_traffic(&self) {
        if self.config.restart_on_any_traffic {
            self.last_rx
                .store(self.since_epoch(Instant::now()), Ordering::Relaxed);
        }
    }

    /// A pong arrived: if it answers our ping, report the round trip.
    pub(crate) fn pong(&self, payload: &[u8]) {
        let mut o = self.outstanding.lock().unwrap_or_else(|p| p.into_inner());
        if o.as_ref().is_some_and(|x| x.payload == payload) {
            let sent = o.take().map(|x| x.sent);
            drop(o);
            let now = Instant::now();
            self.last_pong
                .store(self.since_epoch(now), Ordering::Relaxed);
            if let Some(sent) = sent {
                self.config.emit(PingEvent::Pong {
                    rtt: now.saturating_duration_since(sent),
                });
            }
        }
    }

    /// When the next ping is due.
    pub(crate) fn next_ping(&self) -> Instant {
        let base = self
            .last_pong
            .load(Ordering::Relaxed)
            .max(self.last_rx.load(Ordering::Relaxed));
        self.at(base) + self.config.interval
    }

    /// A fresh ping payload, remembered as outstanding.
    pub(crate) fn new_ping(&self) -> Vec<u8> {
        let mut p = vec![0u8; self.config.payload_len()];
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        p[..8].copy_from_slice(&n.to_be_bytes());
        crate::entropy::fill(&mut p[8..]);
        *self.outstanding.lock().unwrap_or_else(|e| e.into_inner()) = Some(Outstanding {
            payload: p.clone(),
            sent: Instant::now(),
        });
        p
    }

    /// When the outstanding ping times out, if one is out and a timeout is set.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let o = self.outstanding.lock().unwrap_or_else(|p| p.into_inner());
        match (o.as_ref(), self.config.timeout) {
            (Some(x), Some(t)) => Some(x.sent + t),
            _ => None,
        }
    }

    pub(crate) fn is_outstanding(&self) -> bool {
        self.outstanding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }
}
