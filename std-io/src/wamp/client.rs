//! [`Client`]: one WAMP session over one transport, shared by any number of threads.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Duration;

use ferrobahn_core::wamp::auth::cryptosign::Key as CryptosignKey;
use ferrobahn_core::wamp::auth::{cra, cryptosign};
use ferrobahn_core::wamp::dict::{self, CancelMode, Invoke};
use ferrobahn_core::wamp::session::{Hello, Request, Session, SessionEvent, State};
use ferrobahn_core::wamp::uri::Match;
use ferrobahn_core::wamp::{Format, Message, Raw, Serializer, Str, Writer};

use super::link::{self, Receiver, Sender, Target};
use super::payload::{Args, EncodedArgs};
use super::pool::Pool;
use super::WampError;
use crate::ClientBuilder;

/// How to authenticate: one per method offered, in order of preference.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Credential {
    /// `anonymous`.
    Anonymous,
    /// `ticket`: the ticket (password, token).
    Ticket(String),
    /// `wampcra`: the shared secret.
    WampCra(String),
    /// `scram` (WAMP-SCRAM, argon2id or PBKDF2): the password.
    Scram(String),
    /// `cryptosign`: an Ed25519 key; with `channel_binding`, the answer is bound to the TLS
    /// connection (RFC 9266 `tls-exporter`) when there is one.
    Cryptosign {
        /// The key.
        key: CryptosignKey,
        /// Bind to the TLS channel.
        channel_binding: bool,
    },
}

impl Credential {
    fn method(&self) -> &'static str {
        match self {
            Credential::Anonymous => "anonymous",
            Credential::Ticket(_) => "ticket",
            Credential::WampCra(_) => "wampcra",
            Credential::Scram(_) => "scram",
            Credential::Cryptosign { .. } => "cryptosign",
        }
    }
}

/// Customizes the WebSocket client (TLS roots, proxy, headers) of a [`ClientOptions`].
pub type WebSocketSetup = dyn Fn(ClientBuilder) -> ClientBuilder + Send + Sync;

/// Session and transport settings.
#[derive(Clone)]
pub struct ClientOptions {
    /// The realm to join.
    pub realm: String,
    /// Serializers in order of preference (WebSocket offers them all; RawSocket uses the
    /// first). FlatBuffers ([`Serializer::FlatBuffers`]) is not offered unless asked for.
    pub serializers: Vec<Serializer>,
    /// Who we say we are.
    pub authid: Option<String>,
    /// The role we ask for.
    pub authrole: Option<String>,
    /// Credentials, one per method offered (none: anonymous).
    pub credentials: Vec<Credential>,
    /// Time for connecting and joining.
    pub timeout: Duration,
    /// Threads running invocation handlers (event handlers run on one more thread, in
    /// order).
    pub workers: usize,
    /// The largest message accepted.
    pub max_message: u32,
    /// WebSocket client customization.
    pub websocket: Option<Arc<WebSocketSetup>>,
    /// TLS for `wss://` and `rss://` (default: the built-in Mozilla roots; see
    /// [`crate::tls::client_config`] to add a root CA or a client certificate).
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<crate::tls::rustls::ClientConfig>>,
}

impl ClientOptions {
    /// Defaults for `realm`: JSON, MessagePack, CBOR, UBJSON offered in that order,
    /// anonymous, 10 s to join, 4 workers, 16 MiB messages.
    pub fn new(realm: impl Into<String>) -> Self {
        Self {
            realm: realm.into(),
            serializers: Format::ALL.map(Serializer::from).to_vec(),
            authid: None,
            authrole: None,
            credentials: Vec::new(),
            timeout: Duration::from_secs(10),
            workers: 4,
            max_message: 16 << 20,
            websocket: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Offers only this serializer (a [`Format`], or [`Serializer::FlatBuffers`]).
    pub fn serializer(mut self, s: impl Into<Serializer>) -> Self {
        self.serializers = vec![s.into()];
        self
    }

    /// Authenticates as `authid` with these credentials.
    pub fn auth(mut self, authid: impl Into<String>, credentials: Vec<Credential>) -> Self {
        self.authid = Some(authid.into());
        self.credentials = credentials;
        self
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("realm", &self.realm)
            .field("serializers", &self.serializers)
            .field("authid", &self.authid)
            .field(
                "methods",
                &self
                    .credentials
                    .iter()
                    .map(Credential::method)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// CALL options.
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    /// Give up (and cancel the call, mode `killnowait`) after this long.
    pub timeout: Option<Duration>,
    /// Ask the dealer to time the call out (WAMP `timeout`, milliseconds by the spec;
    /// Crossbar reads it as seconds).
    pub dealer_timeout: Option<u64>,
    /// Ask the dealer to disclose us to the callee.
    pub disclose_me: bool,
}

/// PUBLISH options.
#[derive(Clone, Debug, Default)]
pub struct PublishOptions {
    /// Wait for PUBLISHED (and get the publication ID, or the error).
    pub acknowledge: bool,
    /// `Some(false)`: we receive our own event too (default: excluded).
    pub exclude_me: Option<bool>,
    /// Sessions not to deliver to.
    pub exclude: Vec<u64>,
    /// Only these sessions.
    pub eligible: Vec<u64>,
    /// authids not to deliver to.
    pub exclude_authid: Vec<String>,
    /// Only these authids.
    pub eligible_authid: Vec<String>,
    /// authroles not to deliver to.
    pub exclude_authrole: Vec<String>,
    /// Only these authroles.
    pub eligible_authrole: Vec<String>,
    /// Ask the broker to disclose us to subscribers.
    pub disclose_me: bool,
    /// Ask the broker to retain the event for later subscribers.
    pub retain: bool,
}

/// SUBSCRIBE options.
#[derive(Clone, Copy, Debug, Default)]
pub struct SubscribeOptions {
    /// Matching policy (exact by default).
    pub match_: Option<Match>,
    /// Deliver the retained event at once.
    pub get_retained: bool,
}

/// REGISTER options.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterOptions {
    /// Matching policy (exact by default).
    pub match_: Option<Match>,
    /// Shared registration policy.
    pub invoke: Option<Invoke>,
    /// Ask the dealer to disclose callers to us.
    pub disclose_caller: bool,
    /// Take the procedure over from the callee(s) holding it (Crossbar's
    /// `force_reregister`): the router revokes their registration.
    pub force_reregister: bool,
}

/// What an event handler learns beside the payload.
#[derive(Clone, Debug)]
pub struct EventInfo {
    /// The subscription.
    pub subscription: u64,
    /// The publication.
    pub publication: u64,
    /// The topic (for pattern subscriptions).
    pub topic: Option<String>,
    /// The publisher's session, when disclosed.
    pub publisher: Option<u64>,
    /// The publisher's authid, when disclosed.
    pub publisher_authid: Option<String>,
    /// A retained event.
    pub retained: bool,
}

/// What a procedure handler learns beside the arguments, and its way to send progressive
/// results.
pub struct InvocationInfo {
    /// The INVOCATION's request ID.
    pub request: u64,
    /// The registration.
    pub registration: u64,
    /// The procedure called (for pattern registrations).
    pub procedure: Option<String>,
    /// The caller's session, when disclosed.
    pub caller: Option<u64>,
    /// The caller's authid, when disclosed.
    pub caller_authid: Option<String>,
    /// The caller takes progressive results.
    pub receive_progress: bool,
    interrupted: Arc<AtomicBool>,
    client: Weak<Inner>,
}

impl InvocationInfo {
    /// Sends a progressive result (only when the caller asked for them; else ignored).
    pub fn progress(&self, args: Args) -> Result<(), WampError> {
        if !self.receive_progress {
            return Ok(());
        }
        let inner = self.client.upgrade().ok_or(WampError::SessionClosed)?;
        let payload = args.encode(inner.format)?;
        inner.send_with(|s, out| {
            s.yield_result(self.request, true, payload.payload(), out)
                .map(|()| 0)
        })?;
        Ok(())
    }

    /// The caller canceled (INTERRUPT arrived): stop early; the answer becomes ERROR
    /// `wamp.error.canceled`.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }
}

type EventHandler = dyn Fn(Args, EventInfo) + Send + Sync;
type ProcedureHandler = dyn Fn(Args, InvocationInfo) -> Result<Args, WampError> + Send + Sync;

/// A handler waiting for its SUBSCRIBED/REGISTERED: installed by the reader thread as the
/// acknowledgement arrives, before any event or invocation that follows it.
enum PendingHandler {
    Event(Arc<EventHandler>),
    Procedure(Arc<ProcedureHandler>),
}

/// What a waiting request receives.
enum Answer {
    Result { args: Args, progress: bool },
    Error { error: String, args: Args },
    Ack(u64),
    Closed,
}

struct Inner {
    session: Mutex<Session<BTreeMap<u64, Request>>>,
    sender: Arc<dyn Sender>,
    serializer: Serializer,
    /// The format of payloads: the serializer's own, or CBOR under FlatBuffers.
    format: Format,
    waiters: Mutex<HashMap<u64, mpsc::Sender<Answer>>>,
    pending: Mutex<HashMap<u64, PendingHandler>>,
    /// Handlers by subscription (subscribing twice to a topic gives the same ID).
    subscriptions: Mutex<HashMap<u64, Vec<Arc<EventHandler>>>>,
    registrations: Mutex<HashMap<u64, Arc<ProcedureHandler>>>,
    interrupts: Mutex<HashMap<u64, Arc<AtomicBool>>>,
    /// The GOODBYE exchange (or the end of the session) is signalled here.
    left: Mutex<Option<mpsc::Sender<()>>>,
    /// Invocation handlers run here, concurrently.
    pool: Pool,
    /// Event handlers run here, one at a time, in the order the events arrived (WAMP
    /// delivers a publisher's events in order; a pool would shuffle them).
    events: Pool,
    closed: AtomicBool,
    /// Set once the session is over; waited on by [`Client::wait_closed`].
    ended: (Mutex<bool>, Condvar),
    /// We left on purpose (GOODBYE from our side).
    left_by_us: AtomicBool,
    session_id: u64,
    authid: Option<String>,
    authrole: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn owned(s: Str<'_>) -> String {
    s.chars().collect()
}

/// A list of strings or IDs serialized for an option.
fn list<T: serde::Serialize>(format: Format, items: &[T]) -> Result<Option<Vec<u8>>, WampError> {
    if items.is_empty() {
        return Ok(None);
    }
    let json = serde_json::to_vec(items).map_err(|e| WampError::Payload(e.to_string()))?;
    let mut out = Vec::new();
    Writer::new(format, &mut out)
        .raw(Raw {
            format: Format::Json,
            bytes: &json,
        })
        .map_err(|e| WampError::Payload(e.to_string()))?;
    Ok(Some(out))
}

impl Inner {
    /// Runs `f` on the session (it writes one message), registers nothing, sends.
    fn send_with(
        &self,
        f: impl FnOnce(
            &mut Session<BTreeMap<u64, Request>>,
            &mut Vec<u8>,
        ) -> Result<u64, ferrobahn_core::wamp::session::SessionError>,
    ) -> Result<u64, WampError> {
        self.request(f, None, None)
    }

    /// Runs `f` on the session; when `waiter` is given it is registered for the request ID
    /// before the message leaves (so the answer always finds it), then sends.
    fn request(
        &self,
        f: impl FnOnce(
            &mut Session<BTreeMap<u64, Request>>,
            &mut Vec<u8>,
        ) -> Result<u64, ferrobahn_core::wamp::session::SessionError>,
        waiter: Option<mpsc::Sender<Answer>>,
        handler: Option<PendingHandler>,
    ) -> Result<u64, WampError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(WampError::SessionClosed);
        }
        let mut out = Vec::with_capacity(128);
        let id = {
            let mut s = lock(&self.session);
            let id = f(&mut s, &mut out)?;
            if let Some(w) = waiter {
                lock(&self.waiters).insert(id, w);
            }
            if let Some(h) = handler {
                lock(&self.pending).insert(id, h);
            }
            id
        };
        if let Err(e) = self.sender.send(&out) {
            lock(&self.waiters).remove(&id);
            lock(&self.pending).remove(&id);
            return Err(e);
        }
        Ok(id)
    }

    /// The session ended: every waiter learns it.
    fn close_all(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for (_, w) in lock(&self.waiters).drain() {
            let _ = w.send(Answer::Closed);
        }
        if let Some(tx) = lock(&self.left).take() {
            let _ = tx.send(());
        }
        lock(&self.session).reset();
        self.pool.shutdown();
        self.events.shutdown();
        *lock(&self.ended.0) = true;
        self.ended.1.notify_all();
    }

    fn answer(&self, request: u64, a: Answer, last: bool) {
        let w = if last {
            lock(&self.waiters).remove(&request)
        } else {
            lock(&self.waiters).get(&request).cloned()
        };
        if let Some(w) = w {
            let _ = w.send(a);
        }
    }

    fn dispatch(self: &Arc<Self>, ev: SessionEvent<'_>) -> Result<bool, WampError> {
        match ev {
            SessionEvent::Result {
                request,
                progress,
                payload,
                ..
            } => {
                let args = Args::from_payload(&payload)?;
                self.answer(request, Answer::Result { args, progress }, !progress);
            }
            SessionEvent::Error {
                request,
                error,
                payload,
                ..
            } => {
                let args = Args::from_payload(&payload).unwrap_or_default();
                lock(&self.pending).remove(&request);
                self.answer(
                    request,
                    Answer::Error {
                        error: owned(error),
                        args,
                    },
                    true,
                );
            }
            SessionEvent::Subscribed {
                request,
                subscription: id,
            }
            | SessionEvent::Registered {
                request,
                registration: id,
            } => {
                // The handler goes live before the reader looks at the next message.
                match lock(&self.pending).remove(&request) {
                    Some(PendingHandler::Event(h)) => {
                        lock(&self.subscriptions).entry(id).or_default().push(h)
                    }
                    Some(PendingHandler::Procedure(h)) => {
                        lock(&self.registrations).insert(id, h);
                    }
                    None => {}
                }
                self.answer(request, Answer::Ack(id), true)
            }
            SessionEvent::Published {
                request,
                publication: id,
            }
            | SessionEvent::Unsubscribed {
                request,
                subscription: id,
            }
            | SessionEvent::Unregistered {
                request,
                registration: id,
            } => self.answer(request, Answer::Ack(id), true),
            SessionEvent::Event(e) => {
                let handlers = lock(&self.subscriptions).get(&e.subscription).cloned();
                if let Some(handlers) = handlers {
                    let args = Args::from_payload(&e.payload)?;
                    let info = EventInfo {
                        subscription: e.subscription,
                        publication: e.publication,
                        topic: e.details.topic.map(owned),
                        publisher: e.details.publisher,
                        publisher_authid: e.details.publisher_authid.map(owned),
                        retained: e.details.retained == Some(true),
                    };
                    self.events.run(move || {
                        for h in handlers {
                            h(args.clone(), info.clone());
                        }
                    });
                }
            }
            SessionEvent::Invocation(i) => {
                let handler = lock(&self.registrations).get(&i.registration).cloned();
                let Some(h) = handler else {
                    self.send_with(|s, out| {
                        s.invocation_error(
                            i.request,
                            "wamp.error.no_such_registration",
                            Default::default(),
                            out,
                        )
                        .map(|()| 0)
                    })?;
                    return Ok(true);
                };
                let args = Args::from_payload(&i.payload);
                let interrupted = Arc::new(AtomicBool::new(false));
                lock(&self.interrupts).insert(i.request, Arc::clone(&interrupted));
                let info = InvocationInfo {
                    request: i.request,
                    registration: i.registration,
                    procedure: i.details.procedure.map(owned),
                    caller: i.details.caller,
                    caller_authid: i.details.caller_authid.map(owned),
                    receive_progress: i.details.receive_progress == Some(true),
                    interrupted,
                    client: Arc::downgrade(self),
                };
                let inner = Arc::clone(self);
                self.pool.run(move || inner.invoke(h, args, info));
            }
            SessionEvent::Interrupt(c) => {
                if let Some(flag) = lock(&self.interrupts).get(&c.request) {
                    flag.store(true, Ordering::SeqCst);
                }
            }
            SessionEvent::Left(_) | SessionEvent::Aborted(_) => return Ok(false),
            SessionEvent::SubscriptionRevoked { details } => {
                let id = revoked_id(details, "subscription");
                log::info!("the router revoked subscription {id:?}");
                if let Some(id) = id {
                    lock(&self.subscriptions).remove(&id);
                }
            }
            SessionEvent::RegistrationRevoked { details } => {
                let id = revoked_id(details, "registration");
                log::info!("the router revoked registration {id:?}");
                if let Some(id) = id {
                    lock(&self.registrations).remove(&id);
                }
            }
            _ => {}
        }
        Ok(true)
    }

    /// Whether the session still holds this registration (the router may revoke one).
    pub(crate) fn has_registration(&self, id: u64) -> bool {
        lock(&self.registrations).contains_key(&id)
    }

    /// Whether the session still holds this subscription.
    pub(crate) fn has_subscription(&self, id: u64) -> bool {
        lock(&self.subscriptions).contains_key(&id)
    }

    /// Runs a procedure on a worker and answers the invocation.
    fn invoke(
        &self,
        h: Arc<ProcedureHandler>,
        args: Result<Args, WampError>,
        info: InvocationInfo,
    ) {
        let request = info.request;
        let interrupted = Arc::clone(&info.interrupted);
        let outcome = args.and_then(|a| h(a, info));
        lock(&self.interrupts).remove(&request);
        let sent = match outcome {
            _ if interrupted.load(Ordering::SeqCst) => self.send_with(|s, out| {
                s.invocation_error(request, "wamp.error.canceled", Default::default(), out)
                    .map(|()| 0)
            }),
            Ok(result) => match result.encode(self.format) {
                Ok(p) => self.send_with(|s, out| {
                    s.yield_result(request, false, p.payload(), out).map(|()| 0)
                }),
                // The handler's own result does not serialize: its failure.
                Err(e) => self.fail_invocation(
                    request,
                    "wamp.error.runtime_error",
                    Args::new().arg(e.to_string()),
                ),
            },
            Err(WampError::Application { error, args }) => {
                self.fail_invocation(request, &error, args)
            }
            // Arguments that do not fit the handler's types (Autobahn: a TypeError).
            Err(WampError::Payload(e)) => {
                self.fail_invocation(request, "wamp.error.invalid_argument", Args::new().arg(e))
            }
            Err(e) => self.fail_invocation(
                request,
                "wamp.error.runtime_error",
                Args::new().arg(e.to_string()),
            ),
        };
        if let Err(e) = sent {
            log::debug!("could not answer invocation {request}: {e}");
        }
    }

    fn fail_invocation(&self, request: u64, error: &str, args: Args) -> Result<u64, WampError> {
        let p = args.encode(self.format).unwrap_or_default();
        self.send_with(|s, out| {
            s.invocation_error(request, error, p.payload(), out)
                .map(|()| 0)
        })
    }
}

/// The reader thread: decodes, lets the session check, dispatches.
fn read_loop(inner: Arc<Inner>, mut receiver: Box<dyn Receiver>) {
    loop {
        let bytes = match receiver.recv() {
            Ok(Some(b)) => b,
            Ok(None) => break,
            Err(e) => {
                log::debug!("WAMP transport ended: {e}");
                break;
            }
        };
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        let ev = match Message::decode_as_vec(inner.serializer, &bytes, &mut scratch) {
            Ok(m) => lock(&inner.session).handle(m, &mut out),
            Err(e) => {
                log::warn!("malformed WAMP message from the router: {e}");
                let abort = Message::Abort(ferrobahn_core::wamp::message::Reason {
                    details: Default::default(),
                    reason: Str::new(e.wamp_uri().unwrap_or("wamp.error.protocol_violation")),
                });
                let _ = abort.encode_as(inner.serializer, &mut out);
                let _ = inner.sender.send(&out);
                break;
            }
        };
        if !out.is_empty() && inner.sender.send(&out).is_err() {
            break;
        }
        match ev {
            Ok(ev) => match inner.dispatch(ev) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => log::warn!("WAMP message not delivered: {e}"),
            },
            Err(e) => {
                log::warn!("WAMP session failed: {e}");
                break;
            }
        }
    }
    inner.close_all();
    inner.sender.close();
}

/// A waiting call: its results (progressive ones first), cancelable from any thread.
pub struct Progress {
    request: u64,
    rx: mpsc::Receiver<Answer>,
    inner: Arc<Inner>,
    timeout: Option<Duration>,
    done: bool,
}

impl Progress {
    /// The CALL's request ID.
    pub fn request(&self) -> u64 {
        self.request
    }

    /// Cancels the call (`skip`, `kill` or `killnowait`); the router then answers with ERROR
    /// `wamp.error.canceled` (except Crossbar in mode `skip`).
    pub fn cancel(&self, mode: CancelMode) -> Result<(), WampError> {
        self.inner
            .send_with(|s, out| s.cancel(self.request, mode, out).map(|()| 0))
            .map(|_| ())
    }

    /// A handle to cancel the call from another thread.
    pub fn canceler(&self) -> Canceler {
        Canceler {
            request: self.request,
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// The next result: `Ok((args, true))` for a progressive one, `Ok((args, false))` for
    /// the final one; `None` after the final one.
    pub fn next_result(&mut self) -> Option<Result<(Args, bool), WampError>> {
        if self.done {
            return None;
        }
        let a = match self.timeout {
            Some(t) => match self.rx.recv_timeout(t) {
                Ok(a) => a,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.done = true;
                    lock(&self.inner.waiters).remove(&self.request);
                    let _ = self.cancel(CancelMode::KillNoWait);
                    return Some(Err(WampError::Timeout));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => Answer::Closed,
            },
            None => self.rx.recv().unwrap_or(Answer::Closed),
        };
        Some(match a {
            Answer::Result { args, progress } => {
                self.done = !progress;
                Ok((args, progress))
            }
            Answer::Error { error, args } => {
                self.done = true;
                Err(WampError::Application { error, args })
            }
            Answer::Ack(_) | Answer::Closed => {
                self.done = true;
                Err(WampError::SessionClosed)
            }
        })
    }

    /// Waits for the final result (progressive ones are dropped).
    pub fn wait(mut self) -> Result<Args, WampError> {
        while let Some(r) = self.next_result() {
            let (args, progress) = r?;
            if !progress {
                return Ok(args);
            }
        }
        Err(WampError::SessionClosed)
    }
}

impl Iterator for Progress {
    type Item = Result<Args, WampError>;

    /// Every result, progressive ones included, the final one last.
    fn next(&mut self) -> Option<Self::Item> {
        self.next_result().map(|r| r.map(|(a, _)| a))
    }
}

/// Cancels a call from another thread (see [`Progress::canceler`]).
#[derive(Clone)]
pub struct Canceler {
    request: u64,
    inner: Weak<Inner>,
}

impl Canceler {
    /// Sends CANCEL.
    pub fn cancel(&self, mode: CancelMode) -> Result<(), WampError> {
        let inner = self.inner.upgrade().ok_or(WampError::SessionClosed)?;
        inner
            .send_with(|s, out| s.cancel(self.request, mode, out).map(|()| 0))
            .map(|_| ())
    }
}

/// A joined WAMP session, usable from any number of threads (clones share it).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("session", &self.inner.session_id)
            .field("format", &self.inner.format)
            .finish_non_exhaustive()
    }
}

/// Computes the AUTHENTICATE signature for a challenge.
fn answer_challenge(
    method: &str,
    extra: &dict::ChallengeExtra<'_>,
    credentials: &[Credential],
    channel_binding: Option<[u8; 32]>,
    scram: &mut super::scram::Scram,
    authid: Option<&str>,
) -> Result<String, WampError> {
    let missing = || {
        WampError::Auth(format!(
            "the router asks for {method}, which we have no credential for"
        ))
    };
    let cred = credentials
        .iter()
        .find(|c| c.method() == method)
        .ok_or_else(missing)?;
    match cred {
        Credential::Ticket(t) => Ok(t.clone()),
        Credential::WampCra(secret) => {
            let challenge = extra
                .challenge
                .map(owned)
                .ok_or_else(|| WampError::Auth("wampcra challenge without `challenge`".into()))?;
            let salt = extra.salt.map(owned);
            let sig = cra::respond(
                secret.as_bytes(),
                challenge.as_bytes(),
                salt.as_deref()
                    .map(|s| (s.as_bytes(), extra.iterations, extra.keylen)),
            )
            .map_err(|e| WampError::Auth(e.to_string()))?;
            Ok(String::from_utf8_lossy(&sig).into_owned())
        }
        Credential::Cryptosign {
            key,
            channel_binding: bind,
        } => {
            let challenge = extra.challenge.map(owned).ok_or_else(|| {
                WampError::Auth("cryptosign challenge without `challenge`".into())
            })?;
            let binding = if *bind { channel_binding } else { None };
            let mut out = [0u8; cryptosign::SIGNATURE_HEX_LEN];
            key.respond(challenge.as_bytes(), binding.as_ref(), &mut out)
                .map(str::to_owned)
                .map_err(|e| WampError::Auth(e.to_string()))
        }
        Credential::Scram(password) => {
            let need = |f: Option<Str<'_>>, name: &str| {
                f.map(owned)
                    .ok_or_else(|| WampError::Auth(format!("SCRAM challenge without `{name}`")))
            };
            let (nonce, kdf, salt) = (
                need(extra.nonce, "nonce")?,
                need(extra.kdf, "kdf")?,
                need(extra.salt, "salt")?,
            );
            let iterations = extra
                .iterations
                .ok_or_else(|| WampError::Auth("SCRAM challenge without `iterations`".into()))?;
            let authid = authid.ok_or_else(|| WampError::Auth("SCRAM needs an authid".into()))?;
            scram.respond(
                authid,
                password,
                &super::scram::ScramChallenge {
                    nonce: &nonce,
                    kdf: &kdf,
                    salt: &salt,
                    iterations,
                    memory: extra.memory,
                },
            )
        }
        Credential::Anonymous => Err(missing()),
    }
}

impl Client {
    /// Connects to a router (`ws://`, `wss://`, `rs://`, `rss://`, `unix://`) and joins
    /// `options.realm`.
    pub fn connect(url: &str, options: ClientOptions) -> Result<Self, WampError> {
        let setup = options.websocket.clone();
        let setup_fn = setup
            .as_deref()
            .map(|f| f as &dyn Fn(ClientBuilder) -> ClientBuilder);
        let connected = link::connect(&Target {
            url,
            serializers: &options.serializers,
            timeout: options.timeout,
            builder: setup_fn,
            #[cfg(feature = "tls")]
            tls: options.tls.clone(),
            max_message: options.max_message,
        })?;
        let serializer = connected.serializer;
        let format = serializer.payload_format();
        let mut receiver = connected.receiver;
        let sender = connected.sender;
        let mut session: Session<BTreeMap<u64, Request>> = Session::new(serializer);

        // HELLO, then CHALLENGE/AUTHENTICATE until WELCOME or ABORT, on this thread.
        let methods: Vec<&str> = options.credentials.iter().map(Credential::method).collect();
        let mut pubkey = [0u8; 64];
        let mut extra: Vec<(&str, &str)> = Vec::new();
        let mut scram = super::scram::Scram::new();
        let scram_offered = options
            .credentials
            .iter()
            .any(|c| matches!(c, Credential::Scram(_)));
        if scram_offered {
            extra.push(("nonce", scram.client_nonce.as_str()));
        }
        let mut scram_answered = false;
        for c in &options.credentials {
            if let Credential::Cryptosign {
                key,
                channel_binding,
            } = c
            {
                extra.push((
                    "pubkey",
                    key.public_key_hex(&mut pubkey)
                        .map_err(|e| WampError::Auth(e.to_string()))?,
                ));
                if *channel_binding && connected.channel_binding.is_some() {
                    extra.push(("channel_binding", "tls-exporter"));
                }
                break;
            }
        }
        let mut out = Vec::new();
        session.hello(
            &Hello {
                realm: &options.realm,
                authmethods: &methods,
                authid: options.authid.as_deref(),
                authrole: options.authrole.as_deref(),
                authextra: &extra,
                agent: Some(concat!("ferrobahn-", env!("CARGO_PKG_VERSION"))),
            },
            &mut out,
        )?;
        sender.send(&out)?;
        let (session_id, authid, authrole) = loop {
            let bytes = receiver
                .recv()?
                .ok_or_else(|| WampError::Transport("the router closed before WELCOME".into()))?;
            let mut scratch = Vec::new();
            let msg = Message::decode_as_vec(serializer, &bytes, &mut scratch).map_err(|e| {
                WampError::Protocol(format!("malformed message while joining: {e}"))
            })?;
            out.clear();
            let ev = session.handle(msg, &mut out);
            if !out.is_empty() {
                let _ = sender.send(&out);
            }
            match ev? {
                SessionEvent::Welcome {
                    session: id,
                    details,
                } => {
                    if scram_answered {
                        // The router proves it knows the password too.
                        let sig = details
                            .authextra
                            .and_then(|x| x.get("scram_server_signature").ok().flatten())
                            .and_then(|v| v.reader().str().ok())
                            .map(owned);
                        let checked = sig
                            .ok_or_else(|| WampError::Auth("no SCRAM server signature".into()))
                            .and_then(|s| scram.verify_server(&s));
                        if let Err(e) = checked {
                            sender.close();
                            return Err(e);
                        }
                    }
                    break (id, details.authid.map(owned), details.authrole.map(owned));
                }
                SessionEvent::Challenge { authmethod, extra } => {
                    let method = owned(authmethod);
                    scram_answered |= method == "scram";
                    let signature = match answer_challenge(
                        &method,
                        &extra,
                        &options.credentials,
                        connected.channel_binding,
                        &mut scram,
                        options.authid.as_deref(),
                    ) {
                        Ok(s) => s,
                        Err(e) => {
                            sender.close();
                            return Err(e);
                        }
                    };
                    out.clear();
                    session.authenticate(&signature, &[], &mut out)?;
                    sender.send(&out)?;
                }
                SessionEvent::Aborted(r) => {
                    sender.close();
                    return Err(WampError::Aborted {
                        reason: owned(r.reason),
                        message: r.details.message.map(owned),
                    });
                }
                _ => {
                    return Err(WampError::Protocol(
                        "unexpected message while joining".into(),
                    ))
                }
            }
        };
        log::debug!(
            "joined realm {} as session {session_id} ({serializer})",
            options.realm
        );
        let inner = Arc::new(Inner {
            session: Mutex::new(session),
            sender,
            serializer,
            format,
            waiters: Mutex::default(),
            pending: Mutex::default(),
            subscriptions: Mutex::default(),
            registrations: Mutex::default(),
            interrupts: Mutex::default(),
            left: Mutex::new(None),
            pool: Pool::new(options.workers),
            events: Pool::new(1),
            closed: AtomicBool::new(false),
            ended: (Mutex::new(false), Condvar::new()),
            left_by_us: AtomicBool::new(false),
            session_id,
            authid,
            authrole,
        });
        let reader = Arc::clone(&inner);
        std::thread::Builder::new()
            .name(format!("wamp-session-{session_id}"))
            .spawn(move || read_loop(reader, receiver))?;
        Ok(Self { inner })
    }

    /// The session ID.
    pub fn session_id(&self) -> u64 {
        self.inner.session_id
    }

    /// The authid the router gave us.
    pub fn authid(&self) -> Option<&str> {
        self.inner.authid.as_deref()
    }

    /// The authrole the router gave us.
    pub fn authrole(&self) -> Option<&str> {
        self.inner.authrole.as_deref()
    }

    /// The format of payloads: the serializer's own, or CBOR under FlatBuffers.
    pub fn format(&self) -> Format {
        self.inner.format
    }

    /// The serializer in use.
    pub fn serializer(&self) -> Serializer {
        self.inner.serializer
    }

    /// Whether the session is still joined.
    pub fn is_connected(&self) -> bool {
        !self.inner.closed.load(Ordering::SeqCst)
    }

    /// Calls a procedure and waits for its result.
    pub fn call(&self, procedure: &str, args: Args) -> Result<Args, WampError> {
        self.call_with(procedure, args, &CallOptions::default())?
            .wait()
    }

    /// Starts a call: its [`Progress`] gives the results (progressive ones too, asked for
    /// with `receive_progress` when you iterate) and can cancel it.
    pub fn call_with(
        &self,
        procedure: &str,
        args: Args,
        options: &CallOptions,
    ) -> Result<Progress, WampError> {
        self.start_call(procedure, args, options, false)
    }

    /// Starts a call that receives progressive results (iterate the [`Progress`]).
    pub fn call_progressive(
        &self,
        procedure: &str,
        args: Args,
        options: &CallOptions,
    ) -> Result<Progress, WampError> {
        self.start_call(procedure, args, options, true)
    }

    fn start_call(
        &self,
        procedure: &str,
        args: Args,
        options: &CallOptions,
        progress: bool,
    ) -> Result<Progress, WampError> {
        let payload = args.encode(self.inner.format)?;
        let (tx, rx) = mpsc::channel();
        let opts = dict::CallOptions {
            receive_progress: progress.then_some(true),
            timeout: options.dealer_timeout,
            disclose_me: options.disclose_me.then_some(true),
            ..Default::default()
        };
        let request = self.inner.request(
            |s, out| s.call(procedure, opts, payload.payload(), None, out),
            Some(tx),
            None,
        )?;
        Ok(Progress {
            request,
            rx,
            inner: Arc::clone(&self.inner),
            timeout: options.timeout,
            done: false,
        })
    }

    fn wait_ack(&self, rx: mpsc::Receiver<Answer>) -> Result<u64, WampError> {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Answer::Ack(id)) => Ok(id),
            Ok(Answer::Error { error, args }) => Err(WampError::Application { error, args }),
            Ok(_) | Err(_) => Err(WampError::SessionClosed),
        }
    }

    /// Publishes an event; with `acknowledge`, waits for the broker and returns the
    /// publication ID.
    pub fn publish(
        &self,
        topic: &str,
        args: Args,
        options: &PublishOptions,
    ) -> Result<Option<u64>, WampError> {
        let f = self.inner.format;
        let payload: EncodedArgs = args.encode(f)?;
        let exclude = list(f, &options.exclude)?;
        let eligible = list(f, &options.eligible)?;
        let exclude_authid = list(f, &options.exclude_authid)?;
        let eligible_authid = list(f, &options.eligible_authid)?;
        let exclude_authrole = list(f, &options.exclude_authrole)?;
        let eligible_authrole = list(f, &options.eligible_authrole)?;
        fn raw(format: Format, v: &Option<Vec<u8>>) -> Option<Raw<'_>> {
            v.as_deref().map(|bytes| Raw { format, bytes })
        }
        let opts = dict::PublishOptions {
            acknowledge: options.acknowledge.then_some(true),
            exclude_me: options.exclude_me,
            exclude: raw(f, &exclude),
            eligible: raw(f, &eligible),
            exclude_authid: raw(f, &exclude_authid),
            eligible_authid: raw(f, &eligible_authid),
            exclude_authrole: raw(f, &exclude_authrole),
            eligible_authrole: raw(f, &eligible_authrole),
            disclose_me: options.disclose_me.then_some(true),
            retain: options.retain.then_some(true),
            ..Default::default()
        };
        if !options.acknowledge {
            self.inner
                .send_with(|s, out| s.publish(topic, opts, payload.payload(), out))?;
            return Ok(None);
        }
        let (tx, rx) = mpsc::channel();
        self.inner.request(
            |s, out| s.publish(topic, opts, payload.payload(), out),
            Some(tx),
            None,
        )?;
        self.wait_ack(rx).map(Some)
    }

    /// Subscribes `handler` (run on the worker pool) to a topic; returns the subscription
    /// ID.
    pub fn subscribe<F>(
        &self,
        topic: &str,
        options: SubscribeOptions,
        handler: F,
    ) -> Result<u64, WampError>
    where
        F: Fn(Args, EventInfo) + Send + Sync + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let opts = dict::SubscribeOptions {
            match_: options.match_,
            get_retained: options.get_retained.then_some(true),
            ..Default::default()
        };
        let handler: Arc<EventHandler> = Arc::new(handler);
        self.inner.request(
            |s, out| s.subscribe(topic, opts, out),
            Some(tx),
            Some(PendingHandler::Event(handler)),
        )?;
        self.wait_ack(rx)
    }

    /// Subscribes, delivering events into a channel instead of a callback.
    pub fn subscribe_channel(
        &self,
        topic: &str,
        options: SubscribeOptions,
    ) -> Result<(u64, mpsc::Receiver<(Args, EventInfo)>), WampError> {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let id = self.subscribe(topic, options, move |a, i| {
            let _ = lock(&tx).send((a, i));
        })?;
        Ok((id, rx))
    }

    /// Ends a subscription.
    pub fn unsubscribe(&self, subscription: u64) -> Result<(), WampError> {
        let (tx, rx) = mpsc::channel();
        self.inner
            .request(|s, out| s.unsubscribe(subscription, out), Some(tx), None)?;
        self.wait_ack(rx)?;
        lock(&self.inner.subscriptions).remove(&subscription);
        Ok(())
    }

    /// Registers a procedure; `handler` runs on the worker pool for each invocation and
    /// answers with its result or error. Returns the registration ID.
    pub fn register<F>(
        &self,
        procedure: &str,
        options: RegisterOptions,
        handler: F,
    ) -> Result<u64, WampError>
    where
        F: Fn(Args, InvocationInfo) -> Result<Args, WampError> + Send + Sync + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let opts = dict::RegisterOptions {
            match_: options.match_,
            invoke: options.invoke,
            disclose_caller: options.disclose_caller.then_some(true),
            force_reregister: options.force_reregister.then_some(true),
            ..Default::default()
        };
        let handler: Arc<ProcedureHandler> = Arc::new(handler);
        self.inner.request(
            |s, out| s.register(procedure, opts, out),
            Some(tx),
            Some(PendingHandler::Procedure(handler)),
        )?;
        self.wait_ack(rx)
    }

    /// Ends a registration.
    pub fn unregister(&self, registration: u64) -> Result<(), WampError> {
        let (tx, rx) = mpsc::channel();
        self.inner
            .request(|s, out| s.unregister(registration, out), Some(tx), None)?;
        self.wait_ack(rx)?;
        lock(&self.inner.registrations).remove(&registration);
        Ok(())
    }

    /// Whether this session still holds the registration: false after `unregister`, and
    /// after the router revoked it (another callee's `force_reregister`,
    /// `wamp.registration.remove_callee`).
    pub fn is_registered(&self, registration: u64) -> bool {
        self.inner.has_registration(registration)
    }

    /// Whether this session still holds the subscription (see
    /// [`is_registered`](Self::is_registered)).
    pub fn is_subscribed(&self, subscription: u64) -> bool {
        self.inner.has_subscription(subscription)
    }

    /// Leaves the realm (GOODBYE exchange, at most `timeout`) and closes the transport.
    pub fn leave(&self, timeout: Duration) -> Result<(), WampError> {
        self.inner.left_by_us.store(true, Ordering::SeqCst);
        let (tx, rx) = mpsc::channel();
        *lock(&self.inner.left) = Some(tx);
        let r = self
            .inner
            .send_with(|s, out| s.goodbye("wamp.close.close_realm", out).map(|()| 0));
        if r.is_ok() {
            let _ = rx.recv_timeout(timeout);
        }
        self.inner.sender.close();
        r.map(|_| ())
    }

    /// Whether the session is established (for the core's view).
    pub fn state_is_established(&self) -> bool {
        matches!(lock(&self.inner.session).state(), State::Established { .. })
    }

    /// Blocks until the session is over (left, aborted, transport lost), at most `timeout`
    /// (`None`: as long as it takes); returns whether it is over.
    pub fn wait_closed(&self, timeout: Option<Duration>) -> bool {
        let (m, cv) = &self.inner.ended;
        let mut ended = lock(m);
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        while !*ended {
            match deadline {
                None => ended = cv.wait(ended).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    ended = cv
                        .wait_timeout(ended, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            }
        }
        *ended
    }

    /// Session meta API: how many sessions are joined to the realm (`wamp.session.count`).
    pub fn session_count(&self) -> Result<u64, WampError> {
        self.call("wamp.session.count", Args::new())?.get(0)
    }

    /// Session meta API: the IDs of the sessions joined (`wamp.session.list`).
    pub fn session_list(&self) -> Result<Vec<u64>, WampError> {
        self.call("wamp.session.list", Args::new())?.get(0)
    }

    /// Session meta API: what the router knows of a session (`wamp.session.get`: authid,
    /// authrole, authmethod, transport, ...).
    pub fn session_get(&self, session: u64) -> Result<serde_json::Value, WampError> {
        self.call("wamp.session.get", crate::args![session])?.get(0)
    }

    /// Registration meta API: the registration of a procedure, if any
    /// (`wamp.registration.lookup`, with a match policy).
    pub fn registration_lookup(
        &self,
        procedure: &str,
        match_: Match,
    ) -> Result<Option<u64>, WampError> {
        let opts = serde_json::json!({ "match": match_.as_str() });
        self.call("wamp.registration.lookup", crate::args![procedure, opts])?
            .get(0)
    }

    /// Subscription meta API: the subscription of a topic, if any
    /// (`wamp.subscription.lookup`, with a match policy).
    pub fn subscription_lookup(
        &self,
        topic: &str,
        match_: Match,
    ) -> Result<Option<u64>, WampError> {
        let opts = serde_json::json!({ "match": match_.as_str() });
        self.call("wamp.subscription.lookup", crate::args![topic, opts])?
            .get(0)
    }

    /// Registration meta API: the sessions registered for a registration
    /// (`wamp.registration.list_callees`).
    pub fn registration_callees(&self, registration: u64) -> Result<Vec<u64>, WampError> {
        self.call("wamp.registration.list_callees", crate::args![registration])?
            .get(0)
    }

    /// Subscription meta API: the sessions subscribed (`wamp.subscription.list_subscribers`).
    pub fn subscription_subscribers(&self, subscription: u64) -> Result<Vec<u64>, WampError> {
        self.call(
            "wamp.subscription.list_subscribers",
            crate::args![subscription],
        )?
        .get(0)
    }

    /// Whether we ended the session ourselves ([`leave`](Self::leave)).
    pub fn left_on_purpose(&self) -> bool {
        self.inner.left_by_us.load(Ordering::SeqCst)
    }
}

/// The ID (`registration` or `subscription`) in the details of a revocation.
fn revoked_id(details: Option<Raw<'_>>, key: &str) -> Option<u64> {
    let v = details?.get(key).ok()??;
    match v.reader().next() {
        Ok(ferrobahn_core::wamp::value::Token::U64(id)) => Some(id),
        _ => None,
    }
}
