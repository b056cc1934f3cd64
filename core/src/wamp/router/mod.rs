//! A WAMP router (broker and dealer), sans-IO: it takes the bytes of one message from one
//! connection and the time, and answers with [`Action`]s — bytes to send to which
//! connection, connections to close. Sockets, threads and clocks stay with the caller
//! (`ferrobahn-std`'s `Router` runs it behind a mutex, one reader thread per connection).
//!
//! ```text
//!   conn 7: CALL bytes ──► Message::decode_from_client ──► Router::receive
//!                                   │ dealer: match registration (exact > prefix > wildcard),
//!                                   │ pick callee (invoke policy), remember the pending call
//!                                   ▼
//!   Action::Send { to: conn 9, INVOCATION bytes }   (payload copied as bytes when conn 9
//!                                                    speaks conn 7's serializer, else transcoded)
//!   conn 9: YIELD bytes ──► Router::receive ──► Action::Send { to: conn 7, RESULT bytes }
//! ```
//!
//! State: connections (serializer, session state, auth), realms, and in each realm the
//! dealer's registrations and pending calls and the broker's subscriptions and retained
//! events. Every ID is drawn from the [`Entropy`] given at start (router-scope random IDs).
//! Time is `now` in milliseconds, from any epoch the caller keeps; [`Router::poll`] expires
//! call timeouts.
//!
//! A message a client may not send, or one that does not decode, is a protocol violation:
//! ABORT `wamp.error.protocol_violation`, then the connection is closed. Nothing else is
//! affected.

mod auth;
mod broker;
pub mod config;
mod dealer;
mod meta;

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::dict::{self, Details, Roles, WelcomeDetails};
use super::error::Error;
use super::id::{Entropy, MAX_ID};
use super::message::{ErrorMsg, Message, Payload, Reason};
use super::serializer::Serializer;
use super::value::{Format, Raw, Str, Writer};

pub use config::{Permission, Principal, RealmConfig, Role, RouterConfig, ScramSecret, Secret};

/// The URIs the router answers with.
pub mod uris {
    #![allow(missing_docs)]
    pub const PROTOCOL_VIOLATION: &str = "wamp.error.protocol_violation";
    pub const NO_SUCH_REALM: &str = "wamp.error.no_such_realm";
    pub const NO_SUCH_PROCEDURE: &str = "wamp.error.no_such_procedure";
    pub const PROCEDURE_ALREADY_EXISTS: &str = "wamp.error.procedure_already_exists";
    pub const DIFFERENT_INVOCATION_POLICY: &str =
        "wamp.error.procedure_exists_with_different_invocation_policy";
    pub const NO_SUCH_REGISTRATION: &str = "wamp.error.no_such_registration";
    pub const NO_SUCH_SUBSCRIPTION: &str = "wamp.error.no_such_subscription";
    pub const NO_SUCH_SESSION: &str = "wamp.error.no_such_session";
    pub const INVALID_URI: &str = "wamp.error.invalid_uri";
    pub const INVALID_ARGUMENT: &str = "wamp.error.invalid_argument";
    pub const NOT_AUTHORIZED: &str = "wamp.error.not_authorized";
    pub const AUTHORIZATION_FAILED: &str = "wamp.error.authorization_failed";
    pub const AUTHENTICATION_FAILED: &str = "wamp.error.authentication_failed";
    pub const NO_AUTH_METHOD: &str = "wamp.error.no_auth_method";
    pub const CANCELED: &str = "wamp.error.canceled";
    pub const TIMEOUT: &str = "wamp.error.timeout";
    pub const LIMIT_EXCEEDED: &str = "ferrobahn.error.limit_exceeded";
    pub const SLOW_CONSUMER: &str = "ferrobahn.error.slow_consumer";
    /// The reason given to callees that gave way to a REGISTER with `force_reregister`.
    pub const FORCE_REREGISTER: &str = "ferrobahn.error.force_reregister";
    pub const CLOSE_NORMAL: &str = "wamp.close.normal";
    pub const GOODBYE_AND_OUT: &str = "wamp.close.goodbye_and_out";
    pub const KILLED: &str = "wamp.close.killed";
    pub const SYSTEM_SHUTDOWN: &str = "wamp.close.system_shutdown";
}

/// A connection, as the router knows it: any number the caller picks, unique among open ones.
pub type ConnId = u64;

/// What the router asks of the transport layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send one message (already serialized in the connection's format).
    Send {
        /// To whom.
        to: ConnId,
        /// The message.
        bytes: Arc<[u8]>,
    },
    /// Close the connection once what was sent before has gone out (after ABORT, after
    /// GOODBYE was answered, a killed session).
    Close {
        /// Which.
        to: ConnId,
    },
}

/// Where a router writes its actions: cleared by the caller, filled by each call.
pub type Outbox = Vec<Action>;

/// What the transport knows of a connection, for the meta API (`wamp.session.get`).
#[derive(Clone, Debug, Default)]
pub struct TransportInfo {
    /// `websocket` or `rawsocket`.
    pub kind: &'static str,
    /// The peer's address (`tcp4:127.0.0.1:50000`, `unix`).
    pub peer: String,
    /// The WebSocket subprotocol or RawSocket serializer name.
    pub protocol: String,
    /// The TLS channel binding (`tls-exporter`), for cryptosign.
    pub channel_binding: Option<[u8; 32]>,
}

/// A session's identity, as the router's hooks and the meta API see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDetails {
    /// The session ID.
    pub session: u64,
    /// The realm.
    pub realm: String,
    /// Who.
    pub authid: String,
    /// Their role.
    pub authrole: String,
    /// How they authenticated.
    pub authmethod: String,
    /// Who vouched for them (`static`, `dynamic`).
    pub authprovider: String,
}

/// The decision of a dynamic authenticator.
#[derive(Clone, Debug)]
pub enum AuthDecision {
    /// Let the session in with this authid and role (no challenge).
    Accept {
        /// The authid.
        authid: String,
        /// The role.
        authrole: String,
    },
    /// Challenge with this principal's secret.
    Challenge(Principal),
    /// Refuse: ABORT with this reason URI.
    Deny(String),
    /// Not mine: the static configuration decides.
    Pass,
}

/// A dynamic authenticator: `(realm, authid, authmethods offered)`.
pub type Authenticator = Arc<dyn Fn(&str, Option<&str>, &[String]) -> AuthDecision + Send + Sync>;

/// A dynamic authorizer: `(session, uri, action)` → allowed. Called after the static roles
/// allowed the action.
pub type Authorizer = Arc<dyn Fn(&SessionDetails, &str, Action4) -> bool + Send + Sync>;

/// The four actions a role is authorized for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action4 {
    /// CALL.
    Call,
    /// REGISTER.
    Register,
    /// PUBLISH.
    Publish,
    /// SUBSCRIBE.
    Subscribe,
}

#[derive(Debug)]
enum State {
    /// Transport open, HELLO not yet seen.
    Hello,
    /// CHALLENGE sent.
    Challenged(auth::Pending),
    /// Joined.
    Established,
    /// GOODBYE or ABORT sent; what still arrives is dropped.
    Closing,
}

/// What the router keeps of a connection.
#[derive(Debug)]
struct Conn {
    /// What the connection speaks.
    serializer: Serializer,
    /// The format of the values in its messages (CBOR under FlatBuffers): what payloads and
    /// dictionaries built for it are written in.
    format: Format,
    state: State,
    transport: TransportInfo,
    session: u64,
    realm: usize,
    authid: String,
    authrole: String,
    authmethod: String,
    authprovider: String,
    /// The callee announced `call_canceling`: it gets INTERRUPTs.
    callee_cancel: bool,
    /// The callee announced `registration_revocation`: it is told (UNREGISTERED with
    /// request 0) when the router ends one of its registrations.
    callee_revocation: bool,
    /// The subscriber announced `subscription_revocation`.
    subscriber_revocation: bool,
    /// The subscriber or callee announced the features the router may use.
    pending_calls: usize,
}

impl Conn {
    fn details(&self, realm: &str) -> SessionDetails {
        SessionDetails {
            session: self.session,
            realm: realm.to_string(),
            authid: self.authid.clone(),
            authrole: self.authrole.clone(),
            authmethod: self.authmethod.clone(),
            authprovider: self.authprovider.clone(),
        }
    }
}

struct Realm {
    config: RealmConfig,
    /// Joined sessions: ID → connection.
    sessions: BTreeMap<u64, ConnId>,
    dealer: dealer::Dealer,
    broker: broker::Broker,
}

/// The router.
pub struct Router<E: Entropy> {
    config: RouterConfig,
    entropy: E,
    conns: BTreeMap<ConnId, Conn>,
    realms: Vec<Realm>,
    joined: usize,
    authenticator: Option<Authenticator>,
    authorizer: Option<Authorizer>,
}

impl<E: Entropy> Router<E> {
    /// A router with `config`, drawing IDs and challenges from `entropy` (use a
    /// cryptographic source when challenges matter).
    pub fn new(config: RouterConfig, entropy: E) -> Self {
        let realms = config
            .realms
            .iter()
            .cloned()
            .map(|c| Realm {
                config: c,
                sessions: BTreeMap::new(),
                dealer: Default::default(),
                broker: Default::default(),
            })
            .collect();
        Self {
            config,
            entropy,
            conns: BTreeMap::new(),
            realms,
            joined: 0,
            authenticator: None,
            authorizer: None,
        }
    }

    /// Sets the dynamic authenticator, asked before the static principals.
    pub fn set_authenticator(&mut self, a: Authenticator) {
        self.authenticator = Some(a);
    }

    /// Sets the dynamic authorizer, asked after the static roles allowed an action.
    pub fn set_authorizer(&mut self, a: Authorizer) {
        self.authorizer = Some(a);
    }

    /// The configuration.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// Sessions joined, over all realms.
    pub fn session_count(&self) -> usize {
        self.joined
    }

    /// Open connections (joined or not).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Pending calls over all realms (for leak checks).
    pub fn pending_call_count(&self) -> usize {
        self.realms.iter().map(|r| r.dealer.pending_len()).sum()
    }

    /// Registrations over all realms.
    pub fn registration_count(&self) -> usize {
        self.realms
            .iter()
            .map(|r| r.dealer.registration_len())
            .sum()
    }

    /// Subscriptions over all realms.
    pub fn subscription_count(&self) -> usize {
        self.realms
            .iter()
            .map(|r| r.broker.subscription_len())
            .sum()
    }

    /// The details of the session on `conn`, once joined.
    pub fn session(&self, conn: ConnId) -> Option<SessionDetails> {
        let c = self.conns.get(&conn)?;
        matches!(c.state, State::Established).then(|| c.details(&self.realms[c.realm].config.name))
    }

    /// A transport opened: `conn` speaks `serializer` (a [`Format`], or
    /// [`Serializer::FlatBuffers`]).
    pub fn open(
        &mut self,
        conn: ConnId,
        serializer: impl Into<Serializer>,
        transport: TransportInfo,
    ) {
        let serializer = serializer.into();
        self.conns.insert(
            conn,
            Conn {
                serializer,
                format: serializer.payload_format(),
                state: State::Hello,
                transport,
                session: 0,
                realm: 0,
                authid: String::new(),
                authrole: String::new(),
                authmethod: String::new(),
                authprovider: String::new(),
                callee_cancel: false,
                callee_revocation: false,
                subscriber_revocation: false,
                pending_calls: 0,
            },
        );
    }

    /// The transport of `conn` is gone (or is being dropped): the session leaves, its
    /// registrations and subscriptions go, its calls are canceled.
    pub fn close(&mut self, conn: ConnId, out: &mut Outbox) {
        self.leave(conn, out);
        self.conns.remove(&conn);
    }

    /// Drops `conn` as a slow consumer: ABORT, then close.
    pub fn kill(&mut self, conn: ConnId, reason: &str, out: &mut Outbox) {
        self.abort(conn, reason, "", out);
    }

    /// One message from `conn`, at `now` (ms).
    pub fn receive(&mut self, conn: ConnId, bytes: &[u8], now: u64, out: &mut Outbox) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        // FlatBuffers renders a few option values into `scratch` (see wamp::flatbuffers).
        let mut scratch = Vec::new();
        let decoded = match c.serializer {
            Serializer::Token(f) => Message::decode_from_client(f, bytes),
            s => Message::decode_as_vec(s, bytes, &mut scratch),
        };
        let msg = match decoded {
            Ok(m) => m,
            Err(e) => {
                if matches!(c.state, State::Closing) {
                    return;
                }
                let mut why = [0u8; 96];
                let text = error_text(&e, &mut why);
                return self.abort(conn, uris::PROTOCOL_VIOLATION, text, out);
            }
        };
        self.handle(conn, msg, now, out);
    }

    /// One decoded message from `conn`.
    pub fn handle(&mut self, conn: ConnId, msg: Message<'_>, now: u64, out: &mut Outbox) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        match (&c.state, msg) {
            (State::Closing, Message::Goodbye(_)) => {
                // The answer to our GOODBYE.
                out.push(Action::Close { to: conn });
            }
            (State::Closing, _) => {}
            (State::Hello, Message::Hello(h)) => self.hello(conn, &h, out),
            (State::Challenged(_), Message::Authenticate(a)) => self.authenticate(conn, &a, out),
            (State::Established, Message::Goodbye(_)) => {
                let m = Message::Goodbye(Reason {
                    details: Details::default(),
                    reason: Str::new(uris::GOODBYE_AND_OUT),
                });
                self.send(conn, &m, out);
                self.leave(conn, out);
                out.push(Action::Close { to: conn });
            }
            (State::Established, Message::Abort(_)) => {
                self.leave(conn, out);
                out.push(Action::Close { to: conn });
            }
            (State::Established, m) => self.established(conn, m, now, out),
            (_, Message::Abort(_)) => {
                self.leave(conn, out);
                out.push(Action::Close { to: conn });
            }
            (_, m) => {
                let mut why = [0u8; 64];
                let text = fmt_into(&mut why, format_args!("message {} here", m.code()));
                self.abort(conn, uris::PROTOCOL_VIOLATION, text, out)
            }
        }
    }

    /// The earliest call deadline, for the caller's timer.
    pub fn next_deadline(&self) -> Option<u64> {
        self.realms
            .iter()
            .filter_map(|r| r.dealer.next_deadline())
            .min()
    }

    /// Expires the calls whose timeout passed at `now`.
    pub fn poll(&mut self, now: u64, out: &mut Outbox) {
        for realm in 0..self.realms.len() {
            self.expire_calls(realm, now, out);
        }
    }

    /// Says GOODBYE (`wamp.close.system_shutdown`) to every session.
    pub fn shutdown(&mut self, out: &mut Outbox) {
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in ids {
            if matches!(self.conns[&conn].state, State::Established) {
                let m = Message::Goodbye(Reason {
                    details: Details::default(),
                    reason: Str::new(uris::SYSTEM_SHUTDOWN),
                });
                self.send(conn, &m, out);
                self.leave(conn, out);
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.state = State::Closing;
                }
            }
            out.push(Action::Close { to: conn });
        }
    }

    // --- joining ----------------------------------------------------------------------

    fn new_id(&mut self) -> u64 {
        (self.entropy.next_u64() >> 11) % MAX_ID + 1
    }

    fn realm_index(&mut self, name: &str) -> Option<usize> {
        if let Some(i) = self.realms.iter().position(|r| r.config.name == name) {
            return Some(i);
        }
        if self.config.auto_create_realms
            && super::uri::validate(name, self.config.uri_check, super::uri::Match::Exact).is_ok()
        {
            self.realms.push(Realm {
                config: RealmConfig::open(name),
                sessions: BTreeMap::new(),
                dealer: Default::default(),
                broker: Default::default(),
            });
            return Some(self.realms.len() - 1);
        }
        None
    }

    /// Joins `conn` to `realm` with the identity authentication settled on: WELCOME, then
    /// `on_join`.
    fn welcome(&mut self, conn: ConnId, realm: usize, who: Identity<'_>, out: &mut Outbox) {
        let Identity {
            authid,
            authrole,
            authmethod,
            authprovider,
            server_signature,
        } = who;
        let mut session = self.new_id();
        while self
            .realms
            .iter()
            .any(|r| r.sessions.contains_key(&session))
        {
            session = self.new_id();
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.session = session;
        c.realm = realm;
        c.authid = authid;
        c.authrole = authrole;
        c.authmethod = authmethod.to_string();
        c.authprovider = authprovider.to_string();
        c.state = State::Established;
        let format = c.format;
        self.realms[realm].sessions.insert(session, conn);
        self.joined += 1;

        let c = &self.conns[&conn];
        let (mut broker, mut dealer) = (Vec::new(), Vec::new());
        let roles = role_features(format, BROKER_FEATURES, &mut broker)
            .and_then(|()| role_features(format, DEALER_FEATURES, &mut dealer))
            .ok()
            .map(|()| Roles {
                broker: Some(Raw {
                    format,
                    bytes: &broker,
                }),
                dealer: Some(Raw {
                    format,
                    bytes: &dealer,
                }),
                ..Default::default()
            });
        let mut authextra = Vec::new();
        if let Some(sig) = &server_signature {
            let mut w = Writer::new(format, &mut authextra);
            let written = w
                .map(1)
                .and_then(|()| w.str("scram_server_signature"))
                .and_then(|()| w.str(sig))
                .and_then(|()| w.end());
            if written.is_err() {
                authextra.clear();
            }
        }
        let details = WelcomeDetails {
            authextra: (!authextra.is_empty()).then_some(Raw {
                format,
                bytes: &authextra,
            }),
            roles,
            realm: Some(Str::new(&self.realms[realm].config.name)),
            authid: Some(Str::new(&c.authid)),
            authrole: Some(Str::new(&c.authrole)),
            authmethod: Some(Str::new(&c.authmethod)),
            authprovider: Some(Str::new(&c.authprovider)),
            agent: Some(Str::new(&self.config.agent)),
            ..Default::default()
        };
        let m = Message::Welcome(super::message::Welcome { session, details });
        let bytes = encode(&m, c.serializer);
        if let Ok(b) = bytes {
            out.push(Action::Send { to: conn, bytes: b });
        }
        self.meta_on_join(conn, out);
    }

    /// ABORT and close; the session (if any) leaves.
    fn abort(&mut self, conn: ConnId, reason: &str, message: &str, out: &mut Outbox) {
        let m = Message::Abort(Reason {
            details: Details {
                message: (!message.is_empty()).then(|| Str::new(message)),
                ..Default::default()
            },
            reason: Str::new(reason),
        });
        self.send(conn, &m, out);
        self.leave(conn, out);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.state = State::Closing;
        }
        out.push(Action::Close { to: conn });
    }

    /// The session on `conn` (if joined) leaves its realm: everything it held goes.
    fn leave(&mut self, conn: ConnId, out: &mut Outbox) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let was = core::mem::replace(&mut c.state, State::Closing);
        if !matches!(was, State::Established) {
            return;
        }
        let (realm, session) = (c.realm, c.session);
        self.dealer_leave(realm, conn, session, out);
        self.broker_leave(realm, conn, session, out);
        self.realms[realm].sessions.remove(&session);
        self.joined -= 1;
        self.meta_on_leave(conn, out);
    }

    // --- established ------------------------------------------------------------------

    fn established(&mut self, conn: ConnId, msg: Message<'_>, now: u64, out: &mut Outbox) {
        match msg {
            Message::Call(m) => self.call(conn, &m, now, out),
            Message::Yield(m) => self.yield_(conn, &m, out),
            Message::Error(m) => self.callee_error(conn, &m, out),
            Message::Cancel(m) => self.cancel(conn, &m, out),
            Message::Register(m) => self.register(conn, &m, now, out),
            Message::Unregister(m) => self.unregister(conn, m.request, m.id, out),
            Message::Publish(m) => self.publish(conn, &m, out),
            Message::Subscribe(m) => self.subscribe(conn, &m, now, out),
            Message::Unsubscribe(m) => self.unsubscribe(conn, m.request, m.id, out),
            m => {
                let mut why = [0u8; 64];
                let text = fmt_into(&mut why, format_args!("message {} here", m.code()));
                self.abort(conn, uris::PROTOCOL_VIOLATION, text, out)
            }
        }
    }

    /// Whether the session on `conn` may do `action` on `uri`; the permission found.
    fn authorize(&self, conn: ConnId, uri: &str, action: Action4) -> Option<Permission> {
        let c = &self.conns[&conn];
        let realm = &self.realms[c.realm];
        let p = realm.config.permission(&c.authrole, uri);
        let ok = match action {
            Action4::Call => p.call,
            Action4::Register => p.register,
            Action4::Publish => p.publish,
            Action4::Subscribe => p.subscribe,
        };
        if !ok {
            return None;
        }
        if let Some(a) = &self.authorizer {
            if !a(&c.details(&realm.config.name), uri, action) {
                return None;
            }
        }
        Some(p)
    }

    // --- sending ----------------------------------------------------------------------

    /// Encodes `m` for `to` and queues it. A message that cannot be encoded in the peer's
    /// format (a float in a JSON-without-floats build) is dropped: `false`.
    fn send(&self, to: ConnId, m: &Message<'_>, out: &mut Outbox) -> bool {
        let Some(c) = self.conns.get(&to) else {
            return false;
        };
        match encode(m, c.serializer) {
            Ok(bytes) => {
                out.push(Action::Send { to, bytes });
                true
            }
            Err(_) => false,
        }
    }

    /// ERROR for a request of `conn`.
    fn error(
        &self,
        conn: ConnId,
        request_type: u64,
        request: u64,
        error: &str,
        message: &str,
        out: &mut Outbox,
    ) {
        let Some(format) = self.conns.get(&conn).map(|c| c.format) else {
            return;
        };
        // With a message: Arguments = [message], as Crossbar does.
        let mut args = Vec::new();
        let mut w = Writer::new(format, &mut args);
        let written = !message.is_empty()
            && w.array(1)
                .and_then(|()| w.str(message))
                .and_then(|()| w.end())
                .is_ok();
        let m = Message::Error(ErrorMsg {
            request_type,
            request,
            details: dict::ErrorDetails::default(),
            error: Str::new(error),
            payload: Payload {
                args: written.then_some(Raw {
                    format,
                    bytes: &args,
                }),
                kwargs: None,
            },
        });
        self.send(conn, &m, out);
    }
}

/// Encodes a message into shared bytes.
fn encode(m: &Message<'_>, serializer: Serializer) -> Result<Arc<[u8]>, Error> {
    let mut v = Vec::with_capacity(64);
    m.encode_as(serializer, &mut v)?;
    Ok(Arc::from(v))
}

/// The features the broker announces in WELCOME.
const BROKER_FEATURES: &[&str] = &[
    "publisher_identification",
    "publisher_exclusion",
    "subscriber_blackwhite_listing",
    "pattern_based_subscription",
    "subscription_revocation",
    "event_retention",
    "session_meta_api",
    "subscription_meta_api",
    "payload_passthru_mode",
];

/// The features the dealer announces in WELCOME.
const DEALER_FEATURES: &[&str] = &[
    "progressive_call_results",
    "call_canceling",
    "call_timeout",
    "caller_identification",
    "pattern_based_registration",
    "shared_registration",
    "registration_revocation",
    "session_meta_api",
    "registration_meta_api",
    "payload_passthru_mode",
];

/// `{"features": {name: true, ...}}`.
fn role_features(format: Format, features: &[&str], out: &mut Vec<u8>) -> Result<(), Error> {
    let mut w = Writer::new(format, out);
    w.map(1)?;
    w.str("features")?;
    w.map(features.len())?;
    for f in features {
        w.str(f)?;
        w.bool(true)?;
    }
    w.end()?;
    w.end()
}

/// `format_args!` into a stack buffer (truncated).
fn fmt_into<'b>(buf: &'b mut [u8], args: core::fmt::Arguments<'_>) -> &'b str {
    struct W<'x> {
        buf: &'x mut [u8],
        n: usize,
    }
    impl core::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let room = self.buf.len() - self.n;
            let mut take = s.len().min(room);
            while !s.is_char_boundary(take) {
                take -= 1;
            }
            self.buf[self.n..self.n + take].copy_from_slice(&s.as_bytes()[..take]);
            self.n += take;
            Ok(())
        }
    }
    let mut w = W { buf, n: 0 };
    let _ = core::fmt::write(&mut w, args);
    let n = w.n;
    core::str::from_utf8(&w.buf[..n]).unwrap_or("")
}

fn error_text<'b>(e: &Error, buf: &'b mut [u8]) -> &'b str {
    fmt_into(buf, format_args!("{e}"))
}

/// The text of a [`Str`] (unescaped when it needs to be).
fn text(s: Str<'_>) -> String {
    s.to_cow().into_owned()
}

#[cfg(test)]
mod tests;

/// What the router ended on its own (revocation).
#[derive(Clone, Copy)]
enum Revoked {
    Registration,
    Subscription,
}

impl<E: Entropy> Router<E> {
    /// Tells `conn` the router ended one of its registrations or subscriptions:
    /// UNREGISTERED/UNSUBSCRIBED with request 0 and details `{registration|subscription: id,
    /// reason}`.
    fn tell_revoked(
        &mut self,
        conn: ConnId,
        what: Revoked,
        id: u64,
        reason: Option<&str>,
        out: &mut Outbox,
    ) {
        let Some(format) = self.conns.get(&conn).map(|c| c.format) else {
            return;
        };
        let key = match what {
            Revoked::Registration => "registration",
            Revoked::Subscription => "subscription",
        };
        let mut details = Vec::new();
        let mut w = Writer::new(format, &mut details);
        let written = w
            .map(1 + usize::from(reason.is_some()))
            .and_then(|()| w.str(key))
            .and_then(|()| w.u64(id))
            .and_then(|()| match reason {
                Some(r) => w.str("reason").and_then(|()| w.str(r)),
                None => Ok(()),
            })
            .and_then(|()| w.end());
        let u = super::message::Unacked {
            request: 0,
            details: written.is_ok().then_some(Raw {
                format,
                bytes: &details,
            }),
        };
        let m = match what {
            Revoked::Registration => Message::Unregistered(u),
            Revoked::Subscription => Message::Unsubscribed(u),
        };
        self.send(conn, &m, out);
    }
}

/// Who a session is, as authentication settled it: what [`Router::welcome`] records and
/// announces in WELCOME.
struct Identity<'a> {
    authid: String,
    authrole: String,
    authmethod: &'a str,
    authprovider: &'a str,
    /// WAMP-SCRAM: the router's signature, sent as WELCOME `authextra.scram_server_signature`.
    server_signature: Option<String>,
}
