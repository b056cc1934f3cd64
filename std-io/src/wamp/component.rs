//! [`Component`]: a WAMP session that stays joined, as Autobahn's `Component` does: a list
//! of transports tried in turn, retries with exponential back-off and jitter, a fatal-error
//! predicate, lifecycle events, and your `on_join` run on every (re)join so that
//! registrations and subscriptions are re-established.
//!
//! ```text
//!   run/start ─▶ connect (transport i) ─ok─▶ join ─▶ on_join(&client) ─▶ Ready
//!        ▲            │ error (not fatal)                                  │ session lost
//!        │            ▼                                                    ▼
//!        └── sleep(delay; delay = min(delay × growth, max) ± jitter) ◀── Disconnect
//!   leave()/stop() or a fatal error or max_retries ─▶ done
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::client::{Client, ClientOptions};
use super::WampError;

/// Autobahn's retry settings (its code defaults: first retry at once, then 1.5 s growing by
/// 1.5 up to 300 s, ±10 % jitter, retrying forever).
#[derive(Clone, Debug)]
pub struct Retry {
    /// Retries after a failure or a lost session (`None`: forever).
    pub max_retries: Option<u32>,
    /// The delay before the second retry (the first is immediate).
    pub initial_retry_delay: Duration,
    /// The largest delay.
    pub max_retry_delay: Duration,
    /// Each delay is the previous one times this.
    pub retry_delay_growth: f64,
    /// Relative random spread of each delay (0.1: ±10 %).
    pub retry_delay_jitter: f64,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            max_retries: None,
            initial_retry_delay: Duration::from_millis(1500),
            max_retry_delay: Duration::from_secs(300),
            retry_delay_growth: 1.5,
            retry_delay_jitter: 0.1,
        }
    }
}

impl Retry {
    /// The delay before retry number `n` (0 is the first retry).
    pub fn delay(&self, n: u32) -> Duration {
        if n == 0 {
            return Duration::ZERO;
        }
        let base = self.initial_retry_delay.as_secs_f64()
            * self
                .retry_delay_growth
                .powi(n.saturating_sub(1).min(1000) as i32);
        let base = base.min(self.max_retry_delay.as_secs_f64());
        let mut r = [0u8; 8];
        crate::entropy::fill(&mut r);
        let unit = (u64::from_le_bytes(r) >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        let jitter = 1.0 + self.retry_delay_jitter * (2.0 * unit - 1.0);
        Duration::from_secs_f64((base * jitter).max(0.0))
    }
}

/// What happens to a component.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Lifecycle {
    /// Connecting over this transport.
    Connect(String),
    /// Connecting or joining failed.
    ConnectFailure(String),
    /// Joined with this session ID.
    Join(u64),
    /// `on_join` returned: registrations and subscriptions are in place.
    Ready(u64),
    /// The session ended (`on_purpose`: we left).
    Leave {
        /// We left (no reconnect follows).
        on_purpose: bool,
    },
    /// Waiting this long before the next attempt.
    Retry(Duration),
}

type OnJoin = dyn Fn(&Client) -> Result<(), WampError> + Send + Sync;
type OnEvent = dyn Fn(&Lifecycle) + Send + Sync;
type IsFatal = dyn Fn(&WampError) -> bool + Send + Sync;

/// A session that reconnects (see the module docs).
#[derive(Clone)]
pub struct Component {
    transports: Vec<String>,
    options: ClientOptions,
    retry: Retry,
    on_join: Arc<OnJoin>,
    on_event: Option<Arc<OnEvent>>,
    is_fatal: Arc<IsFatal>,
}

/// The default fatal errors: the router refused us for who we are, not for a passing reason.
pub fn default_is_fatal(e: &WampError) -> bool {
    matches!(e, WampError::Aborted { reason, .. } if matches!(reason.as_str(),
        "wamp.error.not_authorized" | "wamp.error.authentication_failed"
        | "wamp.error.no_such_realm" | "wamp.error.no_such_role" | "wamp.error.no_auth_method"
        | "wamp.error.no_such_principal"))
        || matches!(e, WampError::Auth(_))
}

impl Component {
    /// A component joining `options.realm` over `transports` (URLs, tried in turn), calling
    /// `on_join` on every join.
    pub fn new<F>(transports: Vec<String>, options: ClientOptions, on_join: F) -> Self
    where
        F: Fn(&Client) -> Result<(), WampError> + Send + Sync + 'static,
    {
        Self {
            transports,
            options,
            retry: Retry::default(),
            on_join: Arc::new(on_join),
            on_event: None,
            is_fatal: Arc::new(default_is_fatal),
        }
    }

    /// Retry settings.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Lifecycle events.
    pub fn on_event(mut self, f: impl Fn(&Lifecycle) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(f));
        self
    }

    /// Which errors end the component instead of a retry.
    pub fn is_fatal(mut self, f: impl Fn(&WampError) -> bool + Send + Sync + 'static) -> Self {
        self.is_fatal = Arc::new(f);
        self
    }

    fn emit(&self, e: Lifecycle) {
        log::debug!("WAMP component: {e:?}");
        if let Some(f) = &self.on_event {
            f(&e);
        }
    }

    /// Runs on this thread until the session is left on purpose (from `on_join` or
    /// another thread through [`ComponentHandle`]), a fatal error, or the retries run out
    /// (the last error is returned).
    pub fn run(&self) -> Result<(), WampError> {
        self.run_until(&Arc::new(Shared::default()))
    }

    /// Runs on its own thread; the handle gives the current client and stops it.
    pub fn start(self) -> ComponentHandle {
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("wamp-component".into())
            .spawn(move || self.run_until(&s))
            .expect("spawn the component thread");
        ComponentHandle {
            shared,
            thread: Some(thread),
        }
    }

    fn run_until(&self, shared: &Shared) -> Result<(), WampError> {
        if self.transports.is_empty() {
            return Err(WampError::Transport("no transports".into()));
        }
        let mut retries = 0u32;
        let mut next = 0usize;
        loop {
            if shared.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let url = &self.transports[next % self.transports.len()];
            next += 1;
            self.emit(Lifecycle::Connect(url.clone()));
            let error = match Client::connect(url, self.options.clone()) {
                Ok(client) => {
                    retries = 0;
                    self.emit(Lifecycle::Join(client.session_id()));
                    *shared.client.lock().unwrap_or_else(|p| p.into_inner()) = Some(client.clone());
                    match (self.on_join)(&client) {
                        Ok(()) => self.emit(Lifecycle::Ready(client.session_id())),
                        Err(e) => log::warn!("on_join failed: {e}"),
                    }
                    if shared.stop.load(Ordering::SeqCst) {
                        let _ = client.leave(Duration::from_secs(5));
                    }
                    client.wait_closed(None);
                    shared
                        .client
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .take();
                    let on_purpose = client.left_on_purpose() || shared.stop.load(Ordering::SeqCst);
                    self.emit(Lifecycle::Leave { on_purpose });
                    if on_purpose {
                        return Ok(());
                    }
                    WampError::SessionClosed
                }
                Err(e) => {
                    self.emit(Lifecycle::ConnectFailure(e.to_string()));
                    if (self.is_fatal)(&e) {
                        return Err(e);
                    }
                    e
                }
            };
            if self.retry.max_retries.is_some_and(|m| retries >= m) {
                return Err(error);
            }
            let delay = self.retry.delay(retries);
            retries += 1;
            self.emit(Lifecycle::Retry(delay));
            // Sleep in slices so that stop() is prompt.
            let until = std::time::Instant::now() + delay;
            while std::time::Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
                std::thread::sleep(
                    Duration::from_millis(20).min(until - std::time::Instant::now()),
                );
            }
        }
    }
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    client: Mutex<Option<Client>>,
}

/// A running [`Component`] (see [`Component::start`]).
pub struct ComponentHandle {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<Result<(), WampError>>>,
}

impl ComponentHandle {
    /// The client of the current session, if joined.
    pub fn client(&self) -> Option<Client> {
        self.shared
            .client
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Leaves (if joined), stops retrying, and waits for the component to end.
    pub fn stop(mut self) -> Result<(), WampError> {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(c) = self.client() {
            let _ = c.leave(Duration::from_secs(5));
        }
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(WampError::Transport("the component thread panicked".into())),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_follow_autobahns_defaults() {
        let r = Retry::default();
        assert_eq!(r.delay(0), Duration::ZERO);
        let d1 = r.delay(1).as_secs_f64();
        assert!((1.35..=1.65).contains(&d1), "{d1}");
        let d3 = r.delay(3).as_secs_f64();
        assert!(
            (1.5 * 1.5 * 1.5 * 0.9..=1.5 * 1.5 * 1.5 * 1.1).contains(&d3),
            "{d3}"
        );
        let big = r.delay(100).as_secs_f64();
        assert!((270.0..=330.0).contains(&big), "{big}");
        let no_jitter = Retry {
            retry_delay_jitter: 0.0,
            ..Retry::default()
        };
        assert_eq!(no_jitter.delay(2), Duration::from_secs_f64(2.25));
    }
}
