//! The client side of a WAMP session, sans-IO: HELLO → (CHALLENGE → AUTHENTICATE) →
//! WELCOME, the four client roles' requests and their answers, GOODBYE both ways.
//!
//! ```text
//!   your code ── session.call(..) ──▶ CALL bytes in your buffer ──▶ your transport
//!   your transport ──▶ Message::decode ──▶ session.handle(msg, out) ──▶ SessionEvent
//!                                              │ (GOODBYE answered, ABORT on violations:
//!                                              └─▶ bytes in `out` for your transport)
//!   your timer ── session.poll_timeouts(now, out) ──▶ CANCEL for calls past their deadline
//! ```
//!
//! The session keeps what a client must: its state, request IDs, and a table of requests
//! waiting for an answer ([`Requests`]: fixed capacity from `heapless` without a heap, a
//! `BTreeMap` with `alloc`), so that every RESULT, ERROR and acknowledgement is matched to
//! the request it answers and anything else is a protocol violation (answered with ABORT
//! `wamp.error.protocol_violation`). Subscriptions and registrations themselves (which
//! handler runs for which ID) are the caller's business: the session reports their IDs.
//!
//! Time is the caller's: `now` is milliseconds on any monotonic clock, used only for
//! client-side call deadlines. Authentication answers are computed by
//! [`super::auth`]; the session only carries them.

use super::dict::{
    CallOptions, CancelMode, CancelOptions, ChallengeExtra, Details, ErrorDetails, PublishOptions,
    RegisterOptions, ResultDetails, SubscribeOptions, WelcomeDetails,
};
use super::error::Error as CodecError;
use super::id::SequentialIds;
use super::message::{
    code, Ack, Call, Cancel, ErrorMsg, Event, Invocation, Message, Outcome, Payload, Publish,
    Reason, Register, Subscribe,
};
use super::out::Out;
use super::serializer::Serializer;
use super::value::{Format, Raw, Str, Writer};

/// What a request waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// A CALL: RESULT(s) or ERROR. `deadline` (ms) is the client-side timeout.
    Call {
        /// When to give up (milliseconds on the caller's clock).
        deadline: Option<u64>,
    },
    /// An acknowledged PUBLISH: PUBLISHED or ERROR.
    Publish,
    /// SUBSCRIBED or ERROR.
    Subscribe,
    /// UNSUBSCRIBED or ERROR.
    Unsubscribe {
        /// The subscription being ended.
        subscription: u64,
    },
    /// REGISTERED or ERROR.
    Register,
    /// UNREGISTERED or ERROR.
    Unregister {
        /// The registration being ended.
        registration: u64,
    },
}

impl Request {
    fn code(self) -> u64 {
        match self {
            Request::Call { .. } => code::CALL,
            Request::Publish => code::PUBLISH,
            Request::Subscribe => code::SUBSCRIBE,
            Request::Unsubscribe { .. } => code::UNSUBSCRIBE,
            Request::Register => code::REGISTER,
            Request::Unregister { .. } => code::UNREGISTER,
        }
    }
}

/// The table of requests waiting for an answer.
pub trait Requests {
    /// Adds a request; `false` when the table is full.
    fn insert(&mut self, id: u64, r: Request) -> bool;
    /// The request with this ID, if waiting.
    fn get(&self, id: u64) -> Option<Request>;
    /// Takes the request out.
    fn remove(&mut self, id: u64) -> Option<Request>;
    /// Forgets every request (the session ended).
    fn clear(&mut self);
    /// Requests waiting.
    fn len(&self) -> usize;
    /// Whether none is waiting.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The call with the earliest deadline: (request ID, deadline).
    fn earliest_deadline(&self) -> Option<(u64, u64)>;
}

/// A fixed-capacity table: `N` requests at most, no heap.
pub type FixedRequests<const N: usize> = heapless::LinearMap<u64, Request, N>;

impl<const N: usize> Requests for heapless::LinearMap<u64, Request, N> {
    fn insert(&mut self, id: u64, r: Request) -> bool {
        heapless::LinearMap::insert(self, id, r).is_ok()
    }
    fn get(&self, id: u64) -> Option<Request> {
        heapless::LinearMap::get(self, &id).copied()
    }
    fn remove(&mut self, id: u64) -> Option<Request> {
        heapless::LinearMap::remove(self, &id)
    }
    fn clear(&mut self) {
        heapless::LinearMap::clear(self)
    }
    fn len(&self) -> usize {
        heapless::LinearMap::len(self)
    }
    fn earliest_deadline(&self) -> Option<(u64, u64)> {
        earliest(self.iter().map(|(k, v)| (*k, *v)))
    }
}

#[cfg(feature = "alloc")]
impl Requests for alloc::collections::BTreeMap<u64, Request> {
    fn insert(&mut self, id: u64, r: Request) -> bool {
        alloc::collections::BTreeMap::insert(self, id, r);
        true
    }
    fn get(&self, id: u64) -> Option<Request> {
        alloc::collections::BTreeMap::get(self, &id).copied()
    }
    fn remove(&mut self, id: u64) -> Option<Request> {
        alloc::collections::BTreeMap::remove(self, &id)
    }
    fn clear(&mut self) {
        alloc::collections::BTreeMap::clear(self)
    }
    fn len(&self) -> usize {
        alloc::collections::BTreeMap::len(self)
    }
    fn earliest_deadline(&self) -> Option<(u64, u64)> {
        earliest(self.iter().map(|(k, v)| (*k, *v)))
    }
}

fn earliest(it: impl Iterator<Item = (u64, Request)>) -> Option<(u64, u64)> {
    it.filter_map(|(id, r)| match r {
        Request::Call { deadline: Some(d) } => Some((id, d)),
        _ => None,
    })
    .min_by_key(|(_, d)| *d)
}

/// Where the session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not joined (before HELLO, or after the session ended).
    Closed,
    /// HELLO sent; WELCOME, CHALLENGE or ABORT expected.
    HelloSent,
    /// AUTHENTICATE sent; WELCOME or ABORT expected.
    Authenticating,
    /// Joined.
    Established {
        /// The session ID.
        session: u64,
    },
    /// Our GOODBYE went out; the router's is expected.
    GoodbyeSent,
}

/// What happened, from one message the router sent.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum SessionEvent<'a> {
    /// Joined.
    Welcome {
        /// The session ID.
        session: u64,
        /// The router's details (roles, authid, authrole, ...).
        details: WelcomeDetails<'a>,
    },
    /// The router asks us to authenticate: answer with [`Session::authenticate`] (see
    /// [`super::auth`] for the methods' answers).
    Challenge {
        /// The method (`ticket`, `wampcra`, `wamp-scram`, `cryptosign`).
        authmethod: Str<'a>,
        /// The method's data.
        extra: ChallengeExtra<'a>,
    },
    /// The router refused or ended the session before it was established.
    Aborted(Reason<'a>),
    /// The session ended with a GOODBYE exchange (whoever started it; a router's GOODBYE
    /// has been answered into `out`).
    Left(Reason<'a>),
    /// A result of our CALL; `progress`: more follow.
    Result {
        /// The CALL's request ID.
        request: u64,
        /// A progressive result.
        progress: bool,
        /// Details.
        details: ResultDetails<'a>,
        /// The result.
        payload: Payload<'a>,
    },
    /// One of our requests failed.
    Error {
        /// Its request ID.
        request: u64,
        /// What it was.
        request_type: u64,
        /// The error URI.
        error: Str<'a>,
        /// Details.
        details: ErrorDetails<'a>,
        /// Error arguments.
        payload: Payload<'a>,
    },
    /// An acknowledged publication was accepted.
    Published {
        /// The PUBLISH's request ID.
        request: u64,
        /// The publication ID.
        publication: u64,
    },
    /// Subscribed.
    Subscribed {
        /// The SUBSCRIBE's request ID.
        request: u64,
        /// The subscription ID (events carry it).
        subscription: u64,
    },
    /// Our UNSUBSCRIBE was done.
    Unsubscribed {
        /// The UNSUBSCRIBE's request ID.
        request: u64,
        /// The subscription ended.
        subscription: u64,
    },
    /// The router ended a subscription on its own (request 0).
    SubscriptionRevoked {
        /// The revocation details (`subscription`, `reason`).
        details: Option<Raw<'a>>,
    },
    /// Registered.
    Registered {
        /// The REGISTER's request ID.
        request: u64,
        /// The registration ID (invocations carry it).
        registration: u64,
    },
    /// Our UNREGISTER was done.
    Unregistered {
        /// The UNREGISTER's request ID.
        request: u64,
        /// The registration ended.
        registration: u64,
    },
    /// The router ended a registration on its own (request 0).
    RegistrationRevoked {
        /// The revocation details (`registration`, `reason`).
        details: Option<Raw<'a>>,
    },
    /// An event for one of our subscriptions.
    Event(Event<'a>),
    /// A call of one of our procedures: answer with [`Session::yield_result`] or
    /// [`Session::invocation_error`].
    Invocation(Invocation<'a>),
    /// The caller canceled an invocation (INTERRUPT).
    Interrupt(Cancel<'a>),
}

/// Why the session refused to go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// Encoding into the caller's buffer failed (too small, a bad value).
    Codec(CodecError),
    /// The router broke the protocol; ABORT `wamp.error.protocol_violation` was written
    /// into `out` and the session is closed.
    ProtocolViolation(&'static str),
    /// The table of waiting requests is full.
    TooManyRequests,
    /// The call is not allowed in this state (e.g. a CALL before WELCOME).
    InvalidState,
}

impl From<CodecError> for SessionError {
    fn from(e: CodecError) -> Self {
        SessionError::Codec(e)
    }
}

impl core::fmt::Display for SessionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SessionError::Codec(e) => write!(f, "WAMP codec: {e}"),
            SessionError::ProtocolViolation(what) => write!(f, "protocol violation: {what}"),
            SessionError::TooManyRequests => f.write_str("too many requests waiting"),
            SessionError::InvalidState => f.write_str("not allowed in this session state"),
        }
    }
}

/// The roles and features a [`Session`] announces in HELLO: what this implementation
/// does, nothing more (WAMP's advanced profile feature names).
pub const ROLES: &[(&str, &[&str])] = &[
    (
        "caller",
        &[
            "progressive_call_results",
            "call_canceling",
            "call_timeout",
            "caller_identification",
            "payload_passthru_mode",
        ],
    ),
    (
        "callee",
        &[
            "progressive_call_results",
            "call_canceling",
            "call_timeout",
            "caller_identification",
            "pattern_based_registration",
            "shared_registration",
            "registration_revocation",
            "payload_passthru_mode",
        ],
    ),
    (
        "publisher",
        &[
            "publisher_identification",
            "subscriber_blackwhite_listing",
            "publisher_exclusion",
            "payload_passthru_mode",
        ],
    ),
    (
        "subscriber",
        &[
            "pattern_based_subscription",
            "publisher_identification",
            "subscription_revocation",
            "payload_passthru_mode",
        ],
    ),
];

/// What HELLO says about who we are.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hello<'h> {
    /// The realm to join.
    pub realm: &'h str,
    /// Authentication methods we offer, in order (none: anonymous).
    pub authmethods: &'h [&'h str],
    /// Who we say we are.
    pub authid: Option<&'h str>,
    /// The role we ask for.
    pub authrole: Option<&'h str>,
    /// Method data for HELLO.Details.authextra (cryptosign `pubkey`, `channel_binding`;
    /// SCRAM `nonce`), as string pairs.
    pub authextra: &'h [(&'h str, &'h str)],
    /// Our agent string.
    pub agent: Option<&'h str>,
}

/// A client session (see the module docs). `R` is the table of waiting requests.
#[derive(Debug)]
pub struct Session<R: Requests> {
    serializer: Serializer,
    state: State,
    ids: SequentialIds,
    requests: R,
}

/// Writes one message. Inlined: each request method builds a message of a known type, so
/// only the encoders of the messages a client sends are linked.
#[inline(always)]
fn encode<O: Out + ?Sized>(
    m: &Message<'_>,
    serializer: Serializer,
    out: &mut O,
) -> Result<(), SessionError> {
    match serializer {
        Serializer::Token(f) => m.encode_inline(f, out),
        #[cfg(feature = "flatbuffers")]
        Serializer::FlatBuffers => super::flatbuffers::encode(m, out),
        #[cfg(not(feature = "flatbuffers"))]
        Serializer::FlatBuffers => return Err(no_flatbuffers()),
    }
    .map_err(SessionError::Codec)
}

#[cfg(not(feature = "flatbuffers"))]
fn no_flatbuffers() -> SessionError {
    SessionError::Codec(CodecError::new(
        super::error::ErrorKind::Unsupported,
        "this serializer",
    ))
}

/// For FlatBuffers: a message that `write` builds with a token writer, built as CBOR in a
/// stack buffer first, then re-encoded (the token formats write straight into `out`).
#[cfg(feature = "flatbuffers")]
fn via_cbor<O: Out + ?Sized>(
    serializer: Serializer,
    out: &mut O,
    write: impl FnOnce(&mut Writer<'_, super::out::SliceOut<'_>>) -> Result<(), CodecError>,
) -> Result<(), SessionError> {
    let mut buf = [0u8; 2048];
    let mut tmp = super::out::SliceOut::new(&mut buf);
    write(&mut Writer::new(Format::Cbor, &mut tmp))?;
    let n = tmp.written();
    let m = Message::decode(Format::Cbor, &buf[..n])?;
    encode(&m, serializer, out)
}

/// AUTHENTICATE with a token writer.
fn write_authenticate<O: Out + ?Sized>(
    w: &mut Writer<'_, O>,
    signature: &str,
    extra: &[(&str, &str)],
) -> Result<(), CodecError> {
    w.array(3)?;
    w.u64(code::AUTHENTICATE)?;
    w.str(signature)?;
    w.map(extra.len())?;
    for (k, v) in extra {
        w.str(k)?;
        w.str(v)?;
    }
    w.end()?;
    w.end()
}

/// HELLO with a token writer (roles and features from [`ROLES`]).
fn write_hello<O: Out + ?Sized>(
    w: &mut Writer<'_, O>,
    hello: &Hello<'_>,
) -> Result<(), CodecError> {
    w.array(3)?;
    w.u64(code::HELLO)?;
    w.str(hello.realm)?;
    let mut n = 1;
    n += usize::from(!hello.authmethods.is_empty());
    n += usize::from(hello.authid.is_some());
    n += usize::from(hello.authrole.is_some());
    n += usize::from(!hello.authextra.is_empty());
    n += usize::from(hello.agent.is_some());
    w.map(n)?;
    w.str("roles")?;
    w.map(ROLES.len())?;
    for (role, features) in ROLES {
        w.str(role)?;
        w.map(1)?;
        w.str("features")?;
        w.map(features.len())?;
        for f in *features {
            w.str(f)?;
            w.bool(true)?;
        }
        w.end()?;
        w.end()?;
    }
    w.end()?;
    if !hello.authmethods.is_empty() {
        w.str("authmethods")?;
        w.array(hello.authmethods.len())?;
        for m in hello.authmethods {
            w.str(m)?;
        }
        w.end()?;
    }
    if let Some(id) = hello.authid {
        w.str("authid")?;
        w.str(id)?;
    }
    if let Some(role) = hello.authrole {
        w.str("authrole")?;
        w.str(role)?;
    }
    if !hello.authextra.is_empty() {
        w.str("authextra")?;
        w.map(hello.authextra.len())?;
        for (k, v) in hello.authextra {
            w.str(k)?;
            w.str(v)?;
        }
        w.end()?;
    }
    if let Some(agent) = hello.agent {
        w.str("agent")?;
        w.str(agent)?;
    }
    w.end()?;
    w.end()
}

impl<R: Requests + Default> Session<R> {
    /// A closed session speaking `serializer` (a [`Format`], or
    /// [`Serializer::FlatBuffers`]).
    pub fn new(serializer: impl Into<Serializer>) -> Self {
        Self::with_requests(serializer, R::default())
    }
}

impl<R: Requests> Session<R> {
    /// A closed session with this request table.
    pub fn with_requests(serializer: impl Into<Serializer>, requests: R) -> Self {
        Self {
            serializer: serializer.into(),
            state: State::Closed,
            ids: SequentialIds::new(),
            requests,
        }
    }

    /// The format of the values in messages (payloads): the serializer's own, or CBOR under
    /// FlatBuffers.
    pub fn format(&self) -> Format {
        self.serializer.payload_format()
    }

    /// The serializer.
    pub fn serializer(&self) -> Serializer {
        self.serializer
    }

    /// Where the session stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// The session ID once joined.
    pub fn id(&self) -> Option<u64> {
        match self.state {
            State::Established { session } => Some(session),
            _ => None,
        }
    }

    /// Requests waiting for an answer.
    pub fn requests(&self) -> &R {
        &self.requests
    }

    /// Writes HELLO (roles and features from [`ROLES`]).
    pub fn hello<O: Out + ?Sized>(
        &mut self,
        hello: &Hello<'_>,
        out: &mut O,
    ) -> Result<(), SessionError> {
        if self.state != State::Closed {
            return Err(SessionError::InvalidState);
        }
        match self.serializer {
            Serializer::Token(f) => write_hello(&mut Writer::new(f, out), hello)?,
            #[cfg(feature = "flatbuffers")]
            s => via_cbor(s, out, |w| write_hello(w, hello))?,
            #[cfg(not(feature = "flatbuffers"))]
            Serializer::FlatBuffers => return Err(no_flatbuffers()),
        }
        self.state = State::HelloSent;
        Ok(())
    }

    /// Answers a CHALLENGE: AUTHENTICATE with `signature` (the ticket, the CRA signature,
    /// the cryptosign signature in hex, the SCRAM proof) and `extra` string pairs.
    pub fn authenticate<O: Out + ?Sized>(
        &mut self,
        signature: &str,
        extra: &[(&str, &str)],
        out: &mut O,
    ) -> Result<(), SessionError> {
        if !matches!(self.state, State::HelloSent | State::Authenticating) {
            return Err(SessionError::InvalidState);
        }
        match self.serializer {
            Serializer::Token(f) => write_authenticate(&mut Writer::new(f, out), signature, extra)?,
            #[cfg(feature = "flatbuffers")]
            s => via_cbor(s, out, |w| write_authenticate(w, signature, extra))?,
            #[cfg(not(feature = "flatbuffers"))]
            Serializer::FlatBuffers => return Err(no_flatbuffers()),
        }
        self.state = State::Authenticating;
        Ok(())
    }

    /// Starts leaving: GOODBYE with `reason` (e.g. `wamp.close.close_realm`); the router's
    /// GOODBYE then arrives as [`SessionEvent::Left`].
    pub fn goodbye<O: Out + ?Sized>(
        &mut self,
        reason: &str,
        out: &mut O,
    ) -> Result<(), SessionError> {
        self.established()?;
        let m = Message::Goodbye(Reason {
            details: Details::default(),
            reason: Str::new(reason),
        });
        encode(&m, self.serializer, out)?;
        self.state = State::GoodbyeSent;
        Ok(())
    }

    fn established(&self) -> Result<u64, SessionError> {
        match self.state {
            State::Established { session } => Ok(session),
            _ => Err(SessionError::InvalidState),
        }
    }

    /// Reserves a request ID for `r`.
    fn start(&mut self, r: Option<Request>) -> Result<u64, SessionError> {
        self.established()?;
        let id = self.ids.next_id();
        if let Some(r) = r {
            if !self.requests.insert(id, r) {
                return Err(SessionError::TooManyRequests);
            }
        }
        Ok(id)
    }

    /// Writes a message for a request just started; forgets the request if that fails.
    /// (Inlined, like [`encode`]: the message's type is known where it is called.)
    #[inline(always)]
    fn send<O: Out + ?Sized>(
        &mut self,
        id: u64,
        m: &Message<'_>,
        out: &mut O,
    ) -> Result<u64, SessionError> {
        match encode(m, self.serializer, out) {
            Ok(()) => Ok(id),
            Err(e) => {
                self.requests.remove(id);
                Err(e)
            }
        }
    }

    /// CALL; returns its request ID. `deadline` (ms on the caller's clock) is a client-side
    /// timeout enforced by [`poll_timeouts`](Self::poll_timeouts).
    pub fn call<O: Out + ?Sized>(
        &mut self,
        procedure: &str,
        options: CallOptions<'_>,
        payload: Payload<'_>,
        deadline: Option<u64>,
        out: &mut O,
    ) -> Result<u64, SessionError> {
        let request = self.start(Some(Request::Call { deadline }))?;
        let m = Message::Call(Call {
            request,
            options,
            procedure: Str::new(procedure),
            payload,
        });
        self.send(request, &m, out)
    }

    /// CANCEL a call of ours (it stays waiting: the router answers with ERROR
    /// `wamp.error.canceled`, or in mode `skip` may not answer at all).
    pub fn cancel<O: Out + ?Sized>(
        &mut self,
        request: u64,
        mode: CancelMode,
        out: &mut O,
    ) -> Result<(), SessionError> {
        self.established()?;
        if !matches!(self.requests.get(request), Some(Request::Call { .. })) {
            return Err(SessionError::InvalidState);
        }
        let m = Message::Cancel(Cancel {
            request,
            options: CancelOptions {
                mode: Some(mode),
                ..Default::default()
            },
        });
        encode(&m, self.serializer, out)
    }

    /// PUBLISH; returns its request ID (waited for only with `acknowledge`).
    pub fn publish<O: Out + ?Sized>(
        &mut self,
        topic: &str,
        options: PublishOptions<'_>,
        payload: Payload<'_>,
        out: &mut O,
    ) -> Result<u64, SessionError> {
        let ack = options.acknowledge == Some(true);
        let request = self.start(ack.then_some(Request::Publish))?;
        let m = Message::Publish(Publish {
            request,
            options,
            topic: Str::new(topic),
            payload,
        });
        self.send(request, &m, out)
    }

    /// SUBSCRIBE; returns its request ID.
    pub fn subscribe<O: Out + ?Sized>(
        &mut self,
        topic: &str,
        options: SubscribeOptions<'_>,
        out: &mut O,
    ) -> Result<u64, SessionError> {
        let request = self.start(Some(Request::Subscribe))?;
        let m = Message::Subscribe(Subscribe {
            request,
            options,
            topic: Str::new(topic),
        });
        self.send(request, &m, out)
    }

    /// UNSUBSCRIBE; returns its request ID.
    pub fn unsubscribe<O: Out + ?Sized>(
        &mut self,
        subscription: u64,
        out: &mut O,
    ) -> Result<u64, SessionError> {
        let request = self.start(Some(Request::Unsubscribe { subscription }))?;
        let m = Message::Unsubscribe(Ack {
            request,
            id: subscription,
        });
        self.send(request, &m, out)
    }

    /// REGISTER; returns its request ID.
    pub fn register<O: Out + ?Sized>(
        &mut self,
        procedure: &str,
        options: RegisterOptions<'_>,
        out: &mut O,
    ) -> Result<u64, SessionError> {
        let request = self.start(Some(Request::Register))?;
        let m = Message::Register(Register {
            request,
            options,
            procedure: Str::new(procedure),
        });
        self.send(request, &m, out)
    }

    /// UNREGISTER; returns its request ID.
    pub fn unregister<O: Out + ?Sized>(
        &mut self,
        registration: u64,
        out: &mut O,
    ) -> Result<u64, SessionError> {
        let request = self.start(Some(Request::Unregister { registration }))?;
        let m = Message::Unregister(Ack {
            request,
            id: registration,
        });
        self.send(request, &m, out)
    }

    /// YIELD the (final, or with `progress` a progressive) result of an invocation.
    pub fn yield_result<O: Out + ?Sized>(
        &mut self,
        invocation: u64,
        progress: bool,
        payload: Payload<'_>,
        out: &mut O,
    ) -> Result<(), SessionError> {
        self.established()?;
        let m = Message::Yield(Outcome {
            request: invocation,
            details: ResultDetails {
                progress: progress.then_some(true),
                ..Default::default()
            },
            payload,
        });
        encode(&m, self.serializer, out)
    }

    /// ERROR for an invocation: the procedure failed with `error` (a URI).
    pub fn invocation_error<O: Out + ?Sized>(
        &mut self,
        invocation: u64,
        error: &str,
        payload: Payload<'_>,
        out: &mut O,
    ) -> Result<(), SessionError> {
        self.established()?;
        let m = Message::Error(ErrorMsg {
            request_type: code::INVOCATION,
            request: invocation,
            details: ErrorDetails::default(),
            error: Str::new(error),
            payload,
        });
        encode(&m, self.serializer, out)
    }

    /// The earliest client-side call deadline, for the caller's timer.
    pub fn next_deadline(&self) -> Option<u64> {
        self.requests.earliest_deadline().map(|(_, d)| d)
    }

    /// A call whose deadline passed by `now`: forgotten, CANCEL (`killnowait`) written into
    /// `out`, its request ID returned (the caller reports the timeout). Call until `None`.
    pub fn poll_timeouts<O: Out + ?Sized>(
        &mut self,
        now: u64,
        out: &mut O,
    ) -> Result<Option<u64>, SessionError> {
        match self.requests.earliest_deadline() {
            Some((request, deadline)) if deadline <= now => {
                self.requests.remove(request);
                if self.id().is_some() {
                    let m = Message::Cancel(Cancel {
                        request,
                        options: CancelOptions {
                            mode: Some(CancelMode::KillNoWait),
                            ..Default::default()
                        },
                    });
                    encode(&m, self.serializer, out)?;
                }
                Ok(Some(request))
            }
            _ => Ok(None),
        }
    }

    /// The session is over (transport lost, ABORT, GOODBYE): forget everything.
    pub fn reset(&mut self) {
        self.state = State::Closed;
        self.requests.clear();
    }

    /// A protocol violation: ABORT into `out`, session closed.
    fn violation<O: Out + ?Sized>(&mut self, what: &'static str, out: &mut O) -> SessionError {
        let m = Message::Abort(Reason {
            details: Details {
                message: Some(Str::new(what)),
                ..Default::default()
            },
            reason: Str::new("wamp.error.protocol_violation"),
        });
        let _ = encode(&m, self.serializer, out);
        self.reset();
        SessionError::ProtocolViolation(what)
    }

    /// Takes the request an answer refers to, if it is of the expected kind.
    fn answer(&mut self, request: u64, ok: impl Fn(Request) -> bool) -> Option<Request> {
        match self.requests.get(request) {
            Some(r) if ok(r) => self.requests.remove(request),
            _ => None,
        }
    }

    /// Handles one message from the router. Answers owed (GOODBYE, ABORT for a violation)
    /// are written into `out`.
    pub fn handle<'a, O: Out + ?Sized>(
        &mut self,
        msg: Message<'a>,
        out: &mut O,
    ) -> Result<SessionEvent<'a>, SessionError> {
        match (self.state, msg) {
            (State::HelloSent | State::Authenticating, Message::Welcome(w)) => {
                self.state = State::Established { session: w.session };
                Ok(SessionEvent::Welcome {
                    session: w.session,
                    details: w.details,
                })
            }
            (State::HelloSent, Message::Challenge(c)) => Ok(SessionEvent::Challenge {
                authmethod: c.authmethod,
                extra: c.extra,
            }),
            (
                State::HelloSent
                | State::Authenticating
                | State::Established { .. }
                | State::GoodbyeSent,
                Message::Abort(r),
            ) => {
                self.reset();
                Ok(SessionEvent::Aborted(r))
            }
            (State::GoodbyeSent, Message::Goodbye(r)) => {
                self.reset();
                Ok(SessionEvent::Left(r))
            }
            (State::Established { .. }, Message::Goodbye(r)) => {
                let reply = Message::Goodbye(Reason {
                    details: Details::default(),
                    reason: Str::new("wamp.close.goodbye_and_out"),
                });
                let written = encode(&reply, self.serializer, out);
                self.reset();
                written.map(|()| SessionEvent::Left(r))
            }
            // While leaving, answers to what was in flight still arrive.
            (State::Established { .. } | State::GoodbyeSent, m) => self.established_message(m, out),
            (_, _) => Err(self.violation("a message not allowed in this session state", out)),
        }
    }

    fn established_message<'a, O: Out + ?Sized>(
        &mut self,
        msg: Message<'a>,
        out: &mut O,
    ) -> Result<SessionEvent<'a>, SessionError> {
        Ok(match msg {
            Message::Result(r) => {
                let progress = r.details.progress == Some(true);
                let ok = |q| matches!(q, Request::Call { .. });
                let known = if progress {
                    // The call goes on waiting.
                    self.requests.get(r.request).is_some_and(ok)
                } else {
                    self.answer(r.request, ok).is_some()
                };
                if !known {
                    return Err(self.violation("RESULT for no call of ours", out));
                }
                SessionEvent::Result {
                    request: r.request,
                    progress,
                    details: r.details,
                    payload: r.payload,
                }
            }
            Message::Error(e) => {
                let ty = e.request_type;
                if self.answer(e.request, |q| q.code() == ty).is_none() {
                    return Err(self.violation("ERROR for no request of ours", out));
                }
                SessionEvent::Error {
                    request: e.request,
                    request_type: e.request_type,
                    error: e.error,
                    details: e.details,
                    payload: e.payload,
                }
            }
            Message::Published(a) => {
                if self.answer(a.request, |q| q == Request::Publish).is_none() {
                    return Err(self.violation("PUBLISHED for no publication of ours", out));
                }
                SessionEvent::Published {
                    request: a.request,
                    publication: a.id,
                }
            }
            Message::Subscribed(a) => {
                if self
                    .answer(a.request, |q| q == Request::Subscribe)
                    .is_none()
                {
                    return Err(self.violation("SUBSCRIBED for no SUBSCRIBE of ours", out));
                }
                SessionEvent::Subscribed {
                    request: a.request,
                    subscription: a.id,
                }
            }
            Message::Unsubscribed(u) if u.request == 0 => {
                SessionEvent::SubscriptionRevoked { details: u.details }
            }
            Message::Unsubscribed(u) => {
                match self.answer(u.request, |q| matches!(q, Request::Unsubscribe { .. })) {
                    Some(Request::Unsubscribe { subscription }) => SessionEvent::Unsubscribed {
                        request: u.request,
                        subscription,
                    },
                    _ => return Err(self.violation("UNSUBSCRIBED for no UNSUBSCRIBE of ours", out)),
                }
            }
            Message::Registered(a) => {
                if self.answer(a.request, |q| q == Request::Register).is_none() {
                    return Err(self.violation("REGISTERED for no REGISTER of ours", out));
                }
                SessionEvent::Registered {
                    request: a.request,
                    registration: a.id,
                }
            }
            Message::Unregistered(u) if u.request == 0 => {
                SessionEvent::RegistrationRevoked { details: u.details }
            }
            Message::Unregistered(u) => {
                match self.answer(u.request, |q| matches!(q, Request::Unregister { .. })) {
                    Some(Request::Unregister { registration }) => SessionEvent::Unregistered {
                        request: u.request,
                        registration,
                    },
                    _ => return Err(self.violation("UNREGISTERED for no UNREGISTER of ours", out)),
                }
            }
            Message::Event(e) => SessionEvent::Event(e),
            Message::Invocation(i) => SessionEvent::Invocation(i),
            Message::Interrupt(c) => SessionEvent::Interrupt(c),
            _ => return Err(self.violation("a message a router does not send a client", out)),
        })
    }
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;
    use crate::wamp::dict::CancelMode;
    use crate::wamp::out::SliceOut;

    type S = Session<FixedRequests<4>>;

    /// Feeds the router's `json` to the session; returns the event and what it wrote.
    fn feed<'a>(
        s: &mut S,
        json: &'a str,
    ) -> (Result<SessionEvent<'a>, SessionError>, std::string::String) {
        let mut buf = [0u8; 512];
        let mut out = SliceOut::new(&mut buf);
        let m = Message::decode(Format::Json, json.as_bytes()).unwrap();
        let ev = s.handle(m, &mut out);
        (
            ev,
            std::string::String::from_utf8(out.as_slice().to_vec()).unwrap(),
        )
    }

    fn written(f: impl FnOnce(&mut SliceOut<'_>)) -> std::string::String {
        let mut buf = [0u8; 1024];
        let mut out = SliceOut::new(&mut buf);
        f(&mut out);
        std::string::String::from_utf8(out.as_slice().to_vec()).unwrap()
    }

    fn joined() -> S {
        let mut s = S::new(Format::Json);
        written(|o| {
            s.hello(
                &Hello {
                    realm: "realm1",
                    ..Default::default()
                },
                o,
            )
            .unwrap()
        });
        let (ev, _) = feed(&mut s, r#"[2,9129137332,{"authrole":"anonymous"}]"#);
        assert!(matches!(
            ev,
            Ok(SessionEvent::Welcome {
                session: 9129137332,
                ..
            })
        ));
        s
    }

    #[test]
    #[cfg(feature = "flatbuffers")]
    fn hello_and_authenticate_in_flatbuffers() {
        let mut s = S::new(Serializer::FlatBuffers);
        assert_eq!(s.format(), Format::Cbor);
        let mut buf = [0u8; 1024];
        let mut out = SliceOut::new(&mut buf);
        s.hello(
            &Hello {
                realm: "realm1",
                authmethods: &["cryptosign"],
                authid: Some("joe"),
                authextra: &[("pubkey", "abcd")],
                ..Default::default()
            },
            &mut out,
        )
        .unwrap();
        let bytes = out.as_slice();
        let mut scratch = [0u8; 4096];
        let Ok(Message::Hello(h)) =
            Message::decode_as(Serializer::FlatBuffers, bytes, &mut scratch)
        else {
            panic!("{bytes:?}")
        };
        assert!(h.realm.eq_str("realm1") && h.details.authid.unwrap().eq_str("joe"));
        let roles = h.details.roles.unwrap();
        assert!(crate::wamp::dict::has_feature(
            roles.callee.unwrap(),
            "shared_registration"
        ));
        let methods = h.details.authmethods.unwrap();
        assert_eq!(crate::wamp::dict::strs(methods).unwrap().count(), 1);
        assert_eq!(
            h.details
                .authextra
                .unwrap()
                .get("pubkey")
                .unwrap()
                .unwrap()
                .reader()
                .str()
                .unwrap(),
            "abcd"
        );
        let mut buf = [0u8; 256];
        let mut out = SliceOut::new(&mut buf);
        s.authenticate("sig", &[], &mut out).unwrap();
        let Ok(Message::Authenticate(a)) =
            Message::decode_as(Serializer::FlatBuffers, out.as_slice(), &mut [])
        else {
            panic!()
        };
        assert!(a.signature.eq_str("sig"));
    }

    #[test]
    fn hello_announces_roles_and_auth_and_a_challenge_is_answered() {
        let mut s = S::new(Format::Json);
        let hello = written(|o| {
            s.hello(
                &Hello {
                    realm: "realm1",
                    authmethods: &["ticket"],
                    authid: Some("joe"),
                    agent: Some("ferrobahn"),
                    ..Default::default()
                },
                o,
            )
            .unwrap()
        });
        let Message::Hello(h) = Message::decode(Format::Json, hello.as_bytes()).unwrap() else {
            panic!("{hello}")
        };
        assert!(h.realm.eq_str("realm1"));
        assert!(h.details.authid.unwrap().eq_str("joe"));
        let roles = h.details.roles.unwrap();
        assert!(crate::wamp::dict::has_feature(
            roles.callee.unwrap(),
            "shared_registration"
        ));
        assert!(crate::wamp::dict::has_feature(
            roles.caller.unwrap(),
            "call_canceling"
        ));
        // No call before WELCOME.
        assert_eq!(
            s.call(
                "x",
                Default::default(),
                Payload::NONE,
                None,
                &mut SliceOut::new(&mut [0; 64])
            ),
            Err(SessionError::InvalidState)
        );
        let (ev, _) = feed(&mut s, r#"[4,"ticket",{}]"#);
        assert!(
            matches!(ev, Ok(SessionEvent::Challenge { authmethod, .. }) if authmethod.eq_str("ticket"))
        );
        let auth = written(|o| s.authenticate("secret!!!", &[], o).unwrap());
        assert_eq!(auth, r#"[5,"secret!!!",{}]"#);
        assert_eq!(s.state(), State::Authenticating);
        let (ev, _) = feed(&mut s, r#"[2,77,{}]"#);
        assert!(matches!(ev, Ok(SessionEvent::Welcome { session: 77, .. })));
        assert_eq!(s.id(), Some(77));
    }

    #[test]
    fn abort_before_welcome() {
        let mut s = S::new(Format::Json);
        written(|o| {
            s.hello(
                &Hello {
                    realm: "nope",
                    ..Default::default()
                },
                o,
            )
            .unwrap()
        });
        let (ev, _) = feed(
            &mut s,
            r#"[3,{"message":"no such realm"},"wamp.error.no_such_realm"]"#,
        );
        assert!(
            matches!(ev, Ok(SessionEvent::Aborted(r)) if r.reason.eq_str("wamp.error.no_such_realm"))
        );
        assert_eq!(s.state(), State::Closed);
    }

    #[test]
    fn calls_are_matched_with_results_and_errors() {
        let mut s = joined();
        let call = written(|o| {
            let id = s
                .call("com.add", Default::default(), Payload::NONE, None, o)
                .unwrap();
            assert_eq!(id, 1);
        });
        assert_eq!(call, r#"[48,1,{},"com.add"]"#);
        // Progressive results keep the call waiting; the final one ends it.
        let (ev, _) = feed(&mut s, r#"[50,1,{"progress":true},[1]]"#);
        assert!(matches!(
            ev,
            Ok(SessionEvent::Result {
                request: 1,
                progress: true,
                ..
            })
        ));
        assert_eq!(s.requests().len(), 1);
        let (ev, _) = feed(&mut s, r#"[50,1,{},[2]]"#);
        assert!(matches!(
            ev,
            Ok(SessionEvent::Result {
                request: 1,
                progress: false,
                ..
            })
        ));
        assert!(s.requests().is_empty());
        // An error for a call.
        written(|o| {
            s.call("com.fail", Default::default(), Payload::NONE, None, o)
                .unwrap();
        });
        let (ev, _) = feed(&mut s, r#"[8,48,2,{},"com.error.bad",["why"]]"#);
        assert!(
            matches!(ev, Ok(SessionEvent::Error { request: 2, request_type: 48, error, .. }) if error.eq_str("com.error.bad"))
        );
        // A RESULT nobody asked for: ABORT, closed.
        let (ev, out) = feed(&mut s, r#"[50,99,{}]"#);
        assert!(matches!(ev, Err(SessionError::ProtocolViolation(_))));
        assert!(out.starts_with(r#"[3,{"message":"#), "{out}");
        assert!(
            out.ends_with(r#""wamp.error.protocol_violation"]"#),
            "{out}"
        );
        assert_eq!(s.state(), State::Closed);
    }

    #[test]
    fn error_type_must_match_the_request() {
        let mut s = joined();
        written(|o| {
            s.subscribe("t", Default::default(), o).unwrap();
        });
        // ERROR for a CALL with the SUBSCRIBE's ID.
        let (ev, _) = feed(&mut s, r#"[8,48,1,{},"wamp.error.x"]"#);
        assert!(matches!(ev, Err(SessionError::ProtocolViolation(_))));
    }

    #[test]
    fn pubsub_and_rpc_round_trips() {
        let mut s = joined();
        let out = written(|o| {
            s.subscribe(
                "com.topic.",
                SubscribeOptions {
                    match_: Some(crate::wamp::uri::Match::Prefix),
                    ..Default::default()
                },
                o,
            )
            .unwrap();
        });
        assert_eq!(out, r#"[32,1,{"match":"prefix"},"com.topic."]"#);
        let (ev, _) = feed(&mut s, r#"[33,1,5512315355]"#);
        assert!(matches!(
            ev,
            Ok(SessionEvent::Subscribed {
                request: 1,
                subscription: 5512315355
            })
        ));
        let (ev, _) = feed(
            &mut s,
            r#"[36,5512315355,4429313566,{"topic":"com.topic.a"},["hi"]]"#,
        );
        assert!(matches!(ev, Ok(SessionEvent::Event(e)) if e.subscription == 5512315355));
        written(|o| {
            s.unsubscribe(5512315355, o).unwrap();
        });
        let (ev, _) = feed(&mut s, r#"[35,2]"#);
        assert!(matches!(
            ev,
            Ok(SessionEvent::Unsubscribed {
                request: 2,
                subscription: 5512315355
            })
        ));
        // Router-initiated revocation.
        let (ev, _) = feed(&mut s, r#"[35,0,{"subscription":1,"reason":"wamp.x"}]"#);
        assert!(matches!(
            ev,
            Ok(SessionEvent::SubscriptionRevoked { details: Some(_) })
        ));

        // Publish without acknowledge waits for nothing; with it, for PUBLISHED.
        written(|o| {
            s.publish("com.t", Default::default(), Payload::NONE, o)
                .unwrap();
        });
        assert!(s.requests().is_empty());
        let out = written(|o| {
            let opts = PublishOptions {
                acknowledge: Some(true),
                ..Default::default()
            };
            s.publish("com.t", opts, Payload::NONE, o).unwrap();
        });
        assert_eq!(out, r#"[16,4,{"acknowledge":true},"com.t"]"#);
        let (ev, _) = feed(&mut s, r#"[17,4,123]"#);
        assert!(matches!(
            ev,
            Ok(SessionEvent::Published {
                request: 4,
                publication: 123
            })
        ));

        // Callee: register, invocation, yield (progressive then final), error.
        written(|o| {
            s.register("com.add", Default::default(), o).unwrap();
        });
        let (ev, _) = feed(&mut s, r#"[65,5,4242]"#);
        assert!(matches!(
            ev,
            Ok(SessionEvent::Registered {
                request: 5,
                registration: 4242
            })
        ));
        let (ev, _) = feed(&mut s, r#"[68,7,4242,{"receive_progress":true},[1,2]]"#);
        let Ok(SessionEvent::Invocation(inv)) = ev else {
            panic!("{ev:?}")
        };
        assert_eq!(inv.details.receive_progress, Some(true));
        let out = written(|o| s.yield_result(7, true, Payload::NONE, o).unwrap());
        assert_eq!(out, r#"[70,7,{"progress":true}]"#);
        let out = written(|o| s.yield_result(7, false, Payload::NONE, o).unwrap());
        assert_eq!(out, r#"[70,7,{}]"#);
        let out = written(|o| {
            s.invocation_error(8, "com.error.x", Payload::NONE, o)
                .unwrap()
        });
        assert_eq!(out, r#"[8,68,8,{},"com.error.x"]"#);
        let (ev, _) = feed(&mut s, r#"[69,7,{"mode":"kill"}]"#);
        assert!(
            matches!(ev, Ok(SessionEvent::Interrupt(c)) if c.options.mode == Some(CancelMode::Kill))
        );
    }

    #[test]
    fn deadlines_cancel_calls_and_the_table_has_a_capacity() {
        let mut s = joined();
        written(|o| {
            s.call("slow", Default::default(), Payload::NONE, Some(1_000), o)
                .unwrap();
            s.call("slower", Default::default(), Payload::NONE, Some(500), o)
                .unwrap();
            s.call("forever", Default::default(), Payload::NONE, None, o)
                .unwrap();
        });
        assert_eq!(s.next_deadline(), Some(500));
        let out = written(|o| assert_eq!(s.poll_timeouts(499, o).unwrap(), None));
        assert!(out.is_empty());
        let out = written(|o| assert_eq!(s.poll_timeouts(700, o).unwrap(), Some(2)));
        assert_eq!(out, r#"[49,2,{"mode":"killnowait"}]"#);
        assert_eq!(s.next_deadline(), Some(1_000));
        // The table holds 4: two more fit, a third does not.
        written(|o| {
            s.call("a", Default::default(), Payload::NONE, None, o)
                .unwrap();
            s.call("b", Default::default(), Payload::NONE, None, o)
                .unwrap();
        });
        let mut buf = [0u8; 64];
        assert_eq!(
            s.call(
                "c",
                Default::default(),
                Payload::NONE,
                None,
                &mut SliceOut::new(&mut buf)
            ),
            Err(SessionError::TooManyRequests)
        );
    }

    #[test]
    fn a_request_that_does_not_fit_the_buffer_is_forgotten() {
        let mut s = joined();
        let mut tiny = [0u8; 8];
        let r = s.call(
            "com.example.long",
            Default::default(),
            Payload::NONE,
            None,
            &mut SliceOut::new(&mut tiny),
        );
        assert!(matches!(r, Err(SessionError::Codec(_))), "{r:?}");
        assert!(s.requests().is_empty());
        // The next request gets a fresh ID and works.
        let out = written(|o| {
            s.call("c", Default::default(), Payload::NONE, None, o)
                .unwrap();
        });
        assert_eq!(out, r#"[48,2,{},"c"]"#);
    }

    #[test]
    fn goodbye_both_ways() {
        let mut s = joined();
        let (ev, out) = feed(&mut s, r#"[6,{},"wamp.close.system_shutdown"]"#);
        assert!(
            matches!(ev, Ok(SessionEvent::Left(r)) if r.reason.eq_str("wamp.close.system_shutdown"))
        );
        assert_eq!(out, r#"[6,{},"wamp.close.goodbye_and_out"]"#);
        assert_eq!(s.state(), State::Closed);

        let mut s = joined();
        let out = written(|o| s.goodbye("wamp.close.close_realm", o).unwrap());
        assert_eq!(out, r#"[6,{},"wamp.close.close_realm"]"#);
        let (ev, out) = feed(&mut s, r#"[6,{},"wamp.close.goodbye_and_out"]"#);
        assert!(matches!(ev, Ok(SessionEvent::Left(_))));
        assert!(out.is_empty());
        // A WELCOME now is a violation.
        let (ev, _) = feed(&mut s, r#"[2,1,{}]"#);
        assert!(matches!(ev, Err(SessionError::ProtocolViolation(_))));
    }
}
