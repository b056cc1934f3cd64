//! The WAMP messages: decoding from any [`Format`] into [`Message`]s that borrow from the
//! input, and encoding them into any [`Out`].
//!
//! `Arguments` / `ArgumentsKw` stay serialized ([`Payload`] of [`Raw`]s): a router moves a
//! CALL's payload into an INVOCATION by copying bytes when both sessions use the same
//! serializer (and transcodes token by token when not), and a client decodes a payload into
//! its own types only when it asks. Details and Options are typed ([`super::dict`]) with the
//! keys we do not know kept and written back out.
//!
//! A malformed message is an [`Error`] that names the broken rule; its
//! [`wamp_uri`](Error::wamp_uri) is the protocol's answer (ABORT or GOODBYE with
//! `wamp.error.protocol_violation`).

use super::dict::{
    CallOptions, CancelOptions, ChallengeExtra, Details, ErrorDetails, EventDetails, HelloDetails,
    InvocationDetails, PublishOptions, RegisterOptions, ResultDetails, SubscribeOptions,
    WelcomeDetails,
};
use super::error::{Error, ErrorKind};
use super::id;
use super::out::Out;
use super::serializer::Serializer;
use super::value::{Format, Raw, Reader, Str, Token, Writer};

/// Message type codes.
pub mod code {
    #![allow(missing_docs)]
    pub const HELLO: u64 = 1;
    pub const WELCOME: u64 = 2;
    pub const ABORT: u64 = 3;
    pub const CHALLENGE: u64 = 4;
    pub const AUTHENTICATE: u64 = 5;
    pub const GOODBYE: u64 = 6;
    pub const ERROR: u64 = 8;
    pub const PUBLISH: u64 = 16;
    pub const PUBLISHED: u64 = 17;
    pub const SUBSCRIBE: u64 = 32;
    pub const SUBSCRIBED: u64 = 33;
    pub const UNSUBSCRIBE: u64 = 34;
    pub const UNSUBSCRIBED: u64 = 35;
    pub const EVENT: u64 = 36;
    pub const CALL: u64 = 48;
    pub const CANCEL: u64 = 49;
    pub const RESULT: u64 = 50;
    pub const REGISTER: u64 = 64;
    pub const REGISTERED: u64 = 65;
    pub const UNREGISTER: u64 = 66;
    pub const UNREGISTERED: u64 = 67;
    pub const INVOCATION: u64 = 68;
    pub const INTERRUPT: u64 = 69;
    pub const YIELD: u64 = 70;
    /// Autobahn's acknowledged event delivery (not in the spec's message table).
    pub const EVENT_RECEIVED: u64 = 337;
}

/// `Arguments|list` and `ArgumentsKw|dict`, serialized, each optional. `args` is a list, or a
/// byte string in payload passthru mode; [`Payload::args_list`] gives only a list.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Payload<'a> {
    /// Positional arguments (a list).
    pub args: Option<Raw<'a>>,
    /// Keyword arguments (a dict).
    pub kwargs: Option<Raw<'a>>,
}

impl<'a> Payload<'a> {
    /// No arguments.
    pub const NONE: Payload<'static> = Payload {
        args: None,
        kwargs: None,
    };

    /// Reads the optional trailing payload elements, then the message's end. In payload
    /// passthru mode (`ppt_*` / Autobahn's `enc_*` options) the Arguments element is a byte
    /// string, the encrypted or foreign-serialized payload, with no ArgumentsKw after it.
    fn read(r: &mut Reader<'a>) -> Result<Self, Error> {
        let mut p = Payload::default();
        if r.at_end()? {
            return Ok(p);
        }
        let (args, head) = r.skip_with_head()?;
        match head {
            Token::Array(_) => p.args = Some(args),
            // Autobahn|Python writes `null` for Arguments when only ArgumentsKw is given (and
            // its own parser then refuses the message); we read it as no Arguments, and write
            // the spec's empty list in its place.
            Token::Null if !r.at_end_peek()? => p.args = None,
            Token::Bytes(_) => {
                p.args = Some(args);
                end(r)?;
                return Ok(p);
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::WrongType,
                    "Arguments: a list (or passthru bytes)",
                ))
            }
        }
        if r.at_end()? {
            return Ok(p);
        }
        p.kwargs = Some(r.map()?);
        if !r.at_end()? {
            return Err(Error::new(ErrorKind::Arity, "no element after ArgumentsKw"));
        }
        Ok(p)
    }

    /// How many elements the payload adds to its message.
    fn len(&self) -> usize {
        match (self.args, self.kwargs) {
            (_, Some(_)) => 2,
            (Some(_), None) => 1,
            (None, None) => 0,
        }
    }

    fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
        match (self.args, self.kwargs) {
            (None, None) => Ok(()),
            (Some(a), None) => w.raw(a),
            (a, Some(k)) => {
                match a {
                    Some(a) => w.raw(a)?,
                    // ArgumentsKw needs an Arguments before it: an empty list.
                    None => {
                        w.array(0)?;
                        w.end()?;
                    }
                }
                w.raw(k)
            }
        }
    }

    /// The positional arguments when they are a list.
    pub fn args_list(&self) -> Option<Raw<'a>> {
        self.args.filter(|a| a.is_array())
    }

    /// Whether there are no arguments at all (absent or empty containers).
    pub fn is_empty(&self) -> bool {
        self.args.is_none_or(|a| a.is_empty_container())
            && self.kwargs.is_none_or(|k| k.is_empty_container())
    }
}

/// HELLO: `[1, Realm|uri, Details|dict]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hello<'a> {
    /// The realm to join.
    pub realm: Str<'a>,
    /// Roles, authentication.
    pub details: HelloDetails<'a>,
}

/// WELCOME: `[2, Session|id, Details|dict]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Welcome<'a> {
    /// The session ID.
    pub session: u64,
    /// Router roles, the session's identity.
    pub details: WelcomeDetails<'a>,
}

/// ABORT `[3, Details|dict, Reason|uri]` and GOODBYE `[6, Details|dict, Reason|uri]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reason<'a> {
    /// `message` and more.
    pub details: Details<'a>,
    /// The reason URI.
    pub reason: Str<'a>,
}

/// CHALLENGE: `[4, AuthMethod|string, Extra|dict]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Challenge<'a> {
    /// `wampcra`, `ticket`, `wamp-scram`, `cryptosign`, ...
    pub authmethod: Str<'a>,
    /// The challenge's data.
    pub extra: ChallengeExtra<'a>,
}

/// AUTHENTICATE: `[5, Signature|string, Extra|dict]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Authenticate<'a> {
    /// The ticket, signature or proof.
    pub signature: Str<'a>,
    /// Method-specific data.
    pub extra: Details<'a>,
}

/// ERROR: `[8, Type|int, Request|id, Details|dict, Error|uri, Arguments?, ArgumentsKw?]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorMsg<'a> {
    /// The code of the request that failed (SUBSCRIBE, CALL, INVOCATION, ...).
    pub request_type: u64,
    /// Its request ID.
    pub request: u64,
    /// Details.
    pub details: ErrorDetails<'a>,
    /// The error URI.
    pub error: Str<'a>,
    /// Error arguments.
    pub payload: Payload<'a>,
}

/// PUBLISH: `[16, Request|id, Options|dict, Topic|uri, Arguments?, ArgumentsKw?]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Publish<'a> {
    /// Request ID.
    pub request: u64,
    /// Options.
    pub options: PublishOptions<'a>,
    /// The topic.
    pub topic: Str<'a>,
    /// Event payload.
    pub payload: Payload<'a>,
}

/// A request acknowledged with a router-issued ID: PUBLISHED `[17, Request, Publication]`,
/// SUBSCRIBED `[33, Request, Subscription]`, REGISTERED `[65, Request, Registration]`; and
/// the un-requests UNSUBSCRIBE `[34, Request, Subscription]`, UNREGISTER `[66, Request,
/// Registration]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    /// Request ID.
    pub request: u64,
    /// The publication, subscription or registration ID.
    pub id: u64,
}

/// SUBSCRIBE: `[32, Request|id, Options|dict, Topic|uri]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Subscribe<'a> {
    /// Request ID.
    pub request: u64,
    /// Options.
    pub options: SubscribeOptions<'a>,
    /// The topic or pattern.
    pub topic: Str<'a>,
}

/// UNSUBSCRIBED `[35, Request|id, Details|dict?]` and UNREGISTERED `[67, Request|id,
/// Details|dict?]` (the router-initiated form has request 0 and a `subscription` /
/// `registration` and `reason` in its details).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unacked<'a> {
    /// Request ID (0 when the router revokes).
    pub request: u64,
    /// Revocation details, when present.
    pub details: Option<Raw<'a>>,
}

/// EVENT: `[36, Subscription|id, Publication|id, Details|dict, Arguments?, ArgumentsKw?]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event<'a> {
    /// The subscription.
    pub subscription: u64,
    /// The publication.
    pub publication: u64,
    /// Details.
    pub details: EventDetails<'a>,
    /// Event payload.
    pub payload: Payload<'a>,
}

/// Autobahn's EVENT_RECEIVED: `[337, Publication|id, Details|dict?, Arguments?,
/// ArgumentsKw?]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventReceived<'a> {
    /// The publication acknowledged.
    pub publication: u64,
    /// Details, when present.
    pub details: Option<Raw<'a>>,
    /// Payload.
    pub payload: Payload<'a>,
}

/// CALL: `[48, Request|id, Options|dict, Procedure|uri, Arguments?, ArgumentsKw?]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Call<'a> {
    /// Request ID.
    pub request: u64,
    /// Options.
    pub options: CallOptions<'a>,
    /// The procedure.
    pub procedure: Str<'a>,
    /// Call arguments.
    pub payload: Payload<'a>,
}

/// CANCEL `[49, Request|id, Options|dict]` and INTERRUPT `[69, Request|id, Options|dict]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cancel<'a> {
    /// The CALL's (CANCEL) or INVOCATION's (INTERRUPT) request ID.
    pub request: u64,
    /// Mode and reason.
    pub options: CancelOptions<'a>,
}

/// RESULT `[50, Request|id, Details|dict, Arguments?, ArgumentsKw?]` and YIELD `[70,
/// INVOCATION.Request|id, Options|dict, Arguments?, ArgumentsKw?]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome<'a> {
    /// The CALL's (RESULT) or INVOCATION's (YIELD) request ID.
    pub request: u64,
    /// `progress` and passthru keys.
    pub details: ResultDetails<'a>,
    /// Result arguments.
    pub payload: Payload<'a>,
}

/// REGISTER: `[64, Request|id, Options|dict, Procedure|uri]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Register<'a> {
    /// Request ID.
    pub request: u64,
    /// Options.
    pub options: RegisterOptions<'a>,
    /// The procedure or pattern.
    pub procedure: Str<'a>,
}

/// INVOCATION: `[68, Request|id, REGISTERED.Registration|id, Details|dict, Arguments?,
/// ArgumentsKw?]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Invocation<'a> {
    /// Request ID (dealer's).
    pub request: u64,
    /// The registration invoked.
    pub registration: u64,
    /// Details.
    pub details: InvocationDetails<'a>,
    /// Call arguments.
    pub payload: Payload<'a>,
}

/// Directions for [`Message::decode_body`]: both, router to client, client to router.
const ANY_DIRECTION: u8 = 0;
const TO_CLIENT: u8 = 1;
const TO_ROUTER: u8 = 2;

/// A WAMP message, borrowing from the bytes it was decoded from.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Message<'a> {
    Hello(Hello<'a>),
    Welcome(Welcome<'a>),
    Abort(Reason<'a>),
    Challenge(Challenge<'a>),
    Authenticate(Authenticate<'a>),
    Goodbye(Reason<'a>),
    Error(ErrorMsg<'a>),
    Publish(Publish<'a>),
    Published(Ack),
    Subscribe(Subscribe<'a>),
    Subscribed(Ack),
    Unsubscribe(Ack),
    Unsubscribed(Unacked<'a>),
    Event(Event<'a>),
    EventReceived(EventReceived<'a>),
    Call(Call<'a>),
    Cancel(Cancel<'a>),
    Result(Outcome<'a>),
    Register(Register<'a>),
    Registered(Ack),
    Unregister(Ack),
    Unregistered(Unacked<'a>),
    Invocation(Invocation<'a>),
    Interrupt(Cancel<'a>),
    Yield(Outcome<'a>),
}

fn id_of(r: &mut Reader<'_>) -> Result<u64, Error> {
    let v = r.u64()?;
    if id::is_valid(v) {
        Ok(v)
    } else {
        Err(Error::new(ErrorKind::InvalidId, "an ID in 1..=2^53"))
    }
}

/// An ID that may be 0 (router-initiated UNSUBSCRIBED/UNREGISTERED).
fn id_or_zero(r: &mut Reader<'_>) -> Result<u64, Error> {
    let v = r.u64()?;
    if v <= id::MAX_ID {
        Ok(v)
    } else {
        Err(Error::new(ErrorKind::InvalidId, "an ID in 0..=2^53"))
    }
}

fn end(r: &mut Reader<'_>) -> Result<(), Error> {
    if r.at_end()? {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::Arity, "no more elements"))
    }
}

/// An optional dict before the end.
fn opt_dict<'a>(r: &mut Reader<'a>) -> Result<Option<Raw<'a>>, Error> {
    if r.at_end()? {
        return Ok(None);
    }
    let d = r.map()?;
    end(r)?;
    Ok(Some(d))
}

impl<'a> Message<'a> {
    /// Decodes one message (one WebSocket message or RawSocket frame; batched transports
    /// split first, see [`super::batched`]).
    pub fn decode(format: Format, bytes: &'a [u8]) -> Result<Self, Error> {
        Self::decode_in::<ANY_DIRECTION>(format, bytes)
    }

    /// Decodes only what a router sends a client (WELCOME, ABORT, CHALLENGE, GOODBYE,
    /// ERROR, the acknowledgements, EVENT, RESULT, INVOCATION, INTERRUPT); anything else
    /// is [`ErrorKind::UnknownMessage`]. The decoders of the other messages are then not
    /// linked: what a device without much flash uses.
    pub fn decode_from_router(format: Format, bytes: &'a [u8]) -> Result<Self, Error> {
        Self::decode_in::<TO_CLIENT>(format, bytes)
    }

    /// Decodes only what a client sends a router.
    pub fn decode_from_client(format: Format, bytes: &'a [u8]) -> Result<Self, Error> {
        Self::decode_in::<TO_ROUTER>(format, bytes)
    }

    fn decode_in<const D: u8>(format: Format, bytes: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(format, bytes);
        match r.next()? {
            Token::Array(_) => {}
            _ => return Err(Error::new(ErrorKind::WrongType, "a message list")),
        }
        let code = r.u64()?;
        let m = Self::decode_body::<D>(code, &mut r)?;
        r.finish()?;
        Ok(m)
    }

    /// The body of a message of type `code`. Each arm's guard is constant for a given
    /// direction `D`, so a one-directional decoder compiles without the other arms.
    fn decode_body<const D: u8>(code: u64, r: &mut Reader<'a>) -> Result<Self, Error> {
        use code::*;
        let to_client = D != TO_ROUTER;
        let to_router = D != TO_CLIENT;
        let m = match code {
            HELLO if to_router => {
                let realm = r.str()?;
                let details = HelloDetails::read_from(r)?;
                end(r)?;
                Message::Hello(Hello { realm, details })
            }
            WELCOME if to_client => {
                let session = id_of(r)?;
                let details = WelcomeDetails::read_from(r)?;
                end(r)?;
                Message::Welcome(Welcome { session, details })
            }
            ABORT | GOODBYE => {
                let details = Details::read_from(r)?;
                let reason = r.str()?;
                end(r)?;
                let x = Reason { details, reason };
                if code == ABORT {
                    Message::Abort(x)
                } else {
                    Message::Goodbye(x)
                }
            }
            CHALLENGE if to_client => {
                let authmethod = r.str()?;
                let extra = ChallengeExtra::read_from(r)?;
                end(r)?;
                Message::Challenge(Challenge { authmethod, extra })
            }
            AUTHENTICATE if to_router => {
                let signature = r.str()?;
                let extra = Details::read_from(r)?;
                end(r)?;
                Message::Authenticate(Authenticate { signature, extra })
            }
            ERROR => {
                let request_type = r.u64()?;
                let request = id_of(r)?;
                let details = ErrorDetails::read_from(r)?;
                let error = r.str()?;
                let payload = Payload::read(r)?;
                Message::Error(ErrorMsg {
                    request_type,
                    request,
                    details,
                    error,
                    payload,
                })
            }
            PUBLISH if to_router => {
                let request = id_of(r)?;
                let options = PublishOptions::read_from(r)?;
                let topic = r.str()?;
                let payload = Payload::read(r)?;
                Message::Publish(Publish {
                    request,
                    options,
                    topic,
                    payload,
                })
            }
            PUBLISHED | SUBSCRIBED | REGISTERED | UNSUBSCRIBE | UNREGISTER
                if (to_client && matches!(code, PUBLISHED | SUBSCRIBED | REGISTERED))
                    || (to_router && matches!(code, UNSUBSCRIBE | UNREGISTER)) =>
            {
                let request = id_of(r)?;
                let id = id_of(r)?;
                end(r)?;
                let a = Ack { request, id };
                match code {
                    PUBLISHED => Message::Published(a),
                    SUBSCRIBED => Message::Subscribed(a),
                    UNSUBSCRIBE => Message::Unsubscribe(a),
                    REGISTERED => Message::Registered(a),
                    _ => Message::Unregister(a),
                }
            }
            SUBSCRIBE if to_router => {
                let request = id_of(r)?;
                let options = SubscribeOptions::read_from(r)?;
                let topic = r.str()?;
                end(r)?;
                Message::Subscribe(Subscribe {
                    request,
                    options,
                    topic,
                })
            }
            UNSUBSCRIBED | UNREGISTERED if to_client => {
                let request = id_or_zero(r)?;
                let details = opt_dict(r)?;
                let u = Unacked { request, details };
                if code == UNSUBSCRIBED {
                    Message::Unsubscribed(u)
                } else {
                    Message::Unregistered(u)
                }
            }
            EVENT if to_client => {
                let subscription = id_of(r)?;
                let publication = id_of(r)?;
                let details = EventDetails::read_from(r)?;
                let payload = Payload::read(r)?;
                Message::Event(Event {
                    subscription,
                    publication,
                    details,
                    payload,
                })
            }
            EVENT_RECEIVED if to_router => {
                let publication = id_of(r)?;
                let (details, payload) = if r.at_end()? {
                    (None, Payload::default())
                } else {
                    (Some(r.map()?), Payload::read(r)?)
                };
                Message::EventReceived(EventReceived {
                    publication,
                    details,
                    payload,
                })
            }
            CALL if to_router => {
                let request = id_of(r)?;
                let options = CallOptions::read_from(r)?;
                let procedure = r.str()?;
                let payload = Payload::read(r)?;
                Message::Call(Call {
                    request,
                    options,
                    procedure,
                    payload,
                })
            }
            CANCEL | INTERRUPT
                if (to_router && code == CANCEL) || (to_client && code == INTERRUPT) =>
            {
                let request = id_of(r)?;
                let options = CancelOptions::read_from(r)?;
                end(r)?;
                let c = Cancel { request, options };
                if code == CANCEL {
                    Message::Cancel(c)
                } else {
                    Message::Interrupt(c)
                }
            }
            RESULT | YIELD if (to_client && code == RESULT) || (to_router && code == YIELD) => {
                let request = id_of(r)?;
                let details = ResultDetails::read_from(r)?;
                let payload = Payload::read(r)?;
                let o = Outcome {
                    request,
                    details,
                    payload,
                };
                if code == RESULT {
                    Message::Result(o)
                } else {
                    Message::Yield(o)
                }
            }
            REGISTER if to_router => {
                let request = id_of(r)?;
                let options = RegisterOptions::read_from(r)?;
                let procedure = r.str()?;
                end(r)?;
                Message::Register(Register {
                    request,
                    options,
                    procedure,
                })
            }
            INVOCATION if to_client => {
                let request = id_of(r)?;
                let registration = id_of(r)?;
                let details = InvocationDetails::read_from(r)?;
                let payload = Payload::read(r)?;
                Message::Invocation(Invocation {
                    request,
                    registration,
                    details,
                    payload,
                })
            }
            _ => return Err(Error::new(ErrorKind::UnknownMessage, "a WAMP message type")),
        };
        Ok(m)
    }

    /// The message type code.
    pub fn code(&self) -> u64 {
        use code::*;
        match self {
            Message::Hello(_) => HELLO,
            Message::Welcome(_) => WELCOME,
            Message::Abort(_) => ABORT,
            Message::Challenge(_) => CHALLENGE,
            Message::Authenticate(_) => AUTHENTICATE,
            Message::Goodbye(_) => GOODBYE,
            Message::Error(_) => ERROR,
            Message::Publish(_) => PUBLISH,
            Message::Published(_) => PUBLISHED,
            Message::Subscribe(_) => SUBSCRIBE,
            Message::Subscribed(_) => SUBSCRIBED,
            Message::Unsubscribe(_) => UNSUBSCRIBE,
            Message::Unsubscribed(_) => UNSUBSCRIBED,
            Message::Event(_) => EVENT,
            Message::EventReceived(_) => EVENT_RECEIVED,
            Message::Call(_) => CALL,
            Message::Cancel(_) => CANCEL,
            Message::Result(_) => RESULT,
            Message::Register(_) => REGISTER,
            Message::Registered(_) => REGISTERED,
            Message::Unregister(_) => UNREGISTER,
            Message::Unregistered(_) => UNREGISTERED,
            Message::Invocation(_) => INVOCATION,
            Message::Interrupt(_) => INTERRUPT,
            Message::Yield(_) => YIELD,
        }
    }

    /// Decodes one message in any serializer. `scratch` is used by FlatBuffers only, for
    /// the few option values it holds as vectors or tables (see [`super::flatbuffers`]):
    /// `&mut []` suffices for the token formats and for FlatBuffers messages without such
    /// values; a scratch too small is [`ErrorKind::BufferFull`]. With `alloc`,
    /// [`decode_as_vec`](Self::decode_as_vec) sizes it.
    pub fn decode_as(
        serializer: Serializer,
        bytes: &'a [u8],
        scratch: &'a mut [u8],
    ) -> Result<Self, Error> {
        match serializer {
            Serializer::Token(f) => {
                let _ = scratch;
                Self::decode(f, bytes)
            }
            #[cfg(feature = "flatbuffers")]
            Serializer::FlatBuffers => super::flatbuffers::decode(bytes, scratch),
            #[cfg(not(feature = "flatbuffers"))]
            Serializer::FlatBuffers => {
                let _ = scratch;
                Err(Error::new(ErrorKind::Unsupported, "this serializer"))
            }
        }
    }

    /// [`decode_as`](Self::decode_as) with a scratch vector grown only when a FlatBuffers
    /// message needs it (to [`scratch_len`](super::flatbuffers::scratch_len) of the input).
    #[cfg(feature = "alloc")]
    pub fn decode_as_vec(
        serializer: Serializer,
        bytes: &'a [u8],
        scratch: &'a mut alloc::vec::Vec<u8>,
    ) -> Result<Self, Error> {
        match Self::decode_as(serializer, bytes, &mut []) {
            #[cfg(feature = "flatbuffers")]
            Err(e) if e.kind == ErrorKind::BufferFull => {
                scratch.clear();
                scratch.resize(super::flatbuffers::scratch_len(bytes.len()), 0);
                Self::decode_as(serializer, bytes, scratch)
            }
            r => r,
        }
    }

    /// Encodes the message in any serializer into `out` (for FlatBuffers, payloads in
    /// another format than CBOR are transcoded to CBOR).
    pub fn encode_as<O: Out + ?Sized>(
        &self,
        serializer: Serializer,
        out: &mut O,
    ) -> Result<(), Error> {
        match serializer {
            Serializer::Token(f) => self.encode(f, out),
            #[cfg(feature = "flatbuffers")]
            Serializer::FlatBuffers => super::flatbuffers::encode(self, out),
            #[cfg(not(feature = "flatbuffers"))]
            Serializer::FlatBuffers => {
                let _ = out;
                Err(Error::new(ErrorKind::Unsupported, "this serializer"))
            }
        }
    }

    /// Encodes the message in `format` into `out`.
    pub fn encode<O: Out + ?Sized>(&self, format: Format, out: &mut O) -> Result<(), Error> {
        let mut w = Writer::new(format, out);
        self.write(&mut w)
    }

    /// [`encode`](Self::encode), inlined into the caller: where the message's type is
    /// known there (a client session writing a CALL), only that type's encoder is compiled
    /// in. For devices short of flash; elsewhere prefer `encode`.
    #[inline(always)]
    pub fn encode_inline<O: Out + ?Sized>(&self, format: Format, out: &mut O) -> Result<(), Error> {
        let mut w = Writer::new(format, out);
        self.write_inline(&mut w)
    }

    /// Encodes the message with an existing writer.
    pub fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
        self.write_inline(w)
    }

    #[inline(always)]
    fn write_inline<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
        let code = self.code();
        match self {
            Message::Hello(m) => {
                w.array(3)?;
                w.u64(code)?;
                w.token(Token::Str(m.realm))?;
                m.details.write(w)?;
            }
            Message::Welcome(m) => {
                w.array(3)?;
                w.u64(code)?;
                w.u64(m.session)?;
                m.details.write(w)?;
            }
            Message::Abort(m) | Message::Goodbye(m) => {
                w.array(3)?;
                w.u64(code)?;
                m.details.write(w)?;
                w.token(Token::Str(m.reason))?;
            }
            Message::Challenge(m) => {
                w.array(3)?;
                w.u64(code)?;
                w.token(Token::Str(m.authmethod))?;
                m.extra.write(w)?;
            }
            Message::Authenticate(m) => {
                w.array(3)?;
                w.u64(code)?;
                w.token(Token::Str(m.signature))?;
                m.extra.write(w)?;
            }
            Message::Error(m) => {
                w.array(5 + m.payload.len())?;
                w.u64(code)?;
                w.u64(m.request_type)?;
                w.u64(m.request)?;
                m.details.write(w)?;
                w.token(Token::Str(m.error))?;
                m.payload.write(w)?;
            }
            Message::Publish(m) => {
                w.array(4 + m.payload.len())?;
                w.u64(code)?;
                w.u64(m.request)?;
                m.options.write(w)?;
                w.token(Token::Str(m.topic))?;
                m.payload.write(w)?;
            }
            Message::Published(a)
            | Message::Subscribed(a)
            | Message::Unsubscribe(a)
            | Message::Registered(a)
            | Message::Unregister(a) => {
                w.array(3)?;
                w.u64(code)?;
                w.u64(a.request)?;
                w.u64(a.id)?;
            }
            Message::Subscribe(m) => {
                w.array(4)?;
                w.u64(code)?;
                w.u64(m.request)?;
                m.options.write(w)?;
                w.token(Token::Str(m.topic))?;
            }
            Message::Unsubscribed(m) | Message::Unregistered(m) => {
                w.array(2 + m.details.is_some() as usize)?;
                w.u64(code)?;
                w.u64(m.request)?;
                if let Some(d) = m.details {
                    w.raw(d)?;
                }
            }
            Message::Event(m) => {
                w.array(4 + m.payload.len())?;
                w.u64(code)?;
                w.u64(m.subscription)?;
                w.u64(m.publication)?;
                m.details.write(w)?;
                m.payload.write(w)?;
            }
            Message::EventReceived(m) => {
                let details =
                    m.details.is_some() || m.payload.args.is_some() || m.payload.kwargs.is_some();
                w.array(2 + details as usize + m.payload.len())?;
                w.u64(code)?;
                w.u64(m.publication)?;
                if details {
                    match m.details {
                        Some(d) => w.raw(d)?,
                        None => {
                            w.map(0)?;
                            w.end()?;
                        }
                    }
                }
                m.payload.write(w)?;
            }
            Message::Call(m) => {
                w.array(4 + m.payload.len())?;
                w.u64(code)?;
                w.u64(m.request)?;
                m.options.write(w)?;
                w.token(Token::Str(m.procedure))?;
                m.payload.write(w)?;
            }
            Message::Cancel(m) | Message::Interrupt(m) => {
                w.array(3)?;
                w.u64(code)?;
                w.u64(m.request)?;
                m.options.write(w)?;
            }
            Message::Result(m) | Message::Yield(m) => {
                w.array(3 + m.payload.len())?;
                w.u64(code)?;
                w.u64(m.request)?;
                m.details.write(w)?;
                m.payload.write(w)?;
            }
            Message::Register(m) => {
                w.array(4)?;
                w.u64(code)?;
                w.u64(m.request)?;
                m.options.write(w)?;
                w.token(Token::Str(m.procedure))?;
            }
            Message::Invocation(m) => {
                w.array(4 + m.payload.len())?;
                w.u64(code)?;
                w.u64(m.request)?;
                w.u64(m.registration)?;
                m.details.write(w)?;
                m.payload.write(w)?;
            }
        }
        w.end()
    }
}

/// A message that owns its bytes (to queue it, send it to another thread, keep it past the
/// buffer it came in). It holds the serialized form, checked once, and decodes it again on
/// [`message`](Self::message), which costs a parse but no allocation.
#[cfg(feature = "alloc")]
#[derive(Clone, PartialEq, Eq)]
pub struct OwnedMessage {
    format: Format,
    bytes: alloc::vec::Vec<u8>,
}

#[cfg(feature = "alloc")]
impl OwnedMessage {
    /// Takes `bytes` after checking that they are one valid message.
    pub fn from_bytes(format: Format, bytes: alloc::vec::Vec<u8>) -> Result<Self, Error> {
        Message::decode(format, &bytes)?;
        Ok(Self { format, bytes })
    }

    /// Encodes `m` in `format`.
    pub fn encode(m: &Message<'_>, format: Format) -> Result<Self, Error> {
        let mut bytes = alloc::vec::Vec::new();
        m.encode(format, &mut bytes)?;
        Ok(Self { format, bytes })
    }

    /// The message, borrowing from `self`.
    pub fn message(&self) -> Message<'_> {
        // Checked when made; the bytes never change.
        Message::decode(self.format, &self.bytes).expect("an OwnedMessage holds a valid message")
    }

    /// The serializer.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The serialized message.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(feature = "alloc")]
impl core::fmt::Debug for OwnedMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.message().fmt(f)
    }
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::super::out::SliceOut;
    use super::*;

    fn reencode(format: Format, m: &Message<'_>, buf: &mut [u8]) -> usize {
        let mut out = SliceOut::new(buf);
        m.encode(format, &mut out).unwrap();
        out.as_slice().len()
    }

    #[test]
    fn one_directional_decoders_refuse_the_other_direction() {
        let call = br#"[48,1,{},"com.x"]"#;
        let result = br#"[50,1,{}]"#;
        let goodbye = br#"[6,{},"wamp.close.normal"]"#;
        assert!(Message::decode_from_client(Format::Json, call).is_ok());
        assert_eq!(
            Message::decode_from_router(Format::Json, call)
                .unwrap_err()
                .kind,
            ErrorKind::UnknownMessage
        );
        assert!(Message::decode_from_router(Format::Json, result).is_ok());
        assert!(Message::decode_from_client(Format::Json, result).is_err());
        // Both directions: GOODBYE, ABORT, ERROR.
        assert!(Message::decode_from_router(Format::Json, goodbye).is_ok());
        assert!(Message::decode_from_client(Format::Json, goodbye).is_ok());
        // INTERRUPT is the router's, CANCEL the client's.
        assert!(Message::decode_from_router(Format::Json, br#"[69,1,{}]"#).is_ok());
        assert!(Message::decode_from_client(Format::Json, br#"[69,1,{}]"#).is_err());
        assert!(Message::decode_from_client(Format::Json, br#"[49,1,{}]"#).is_ok());
    }

    #[test]
    fn null_options_read_as_absent_in_every_format() {
        // Crossbar's cryptosign CHALLENGE: `"channel_binding": null`.
        let json = br#"[4,"cryptosign",{"challenge":"00ff","channel_binding":null,"keylen":null}]"#;
        for f in Format::ALL.into_iter().filter(|f| f.enabled()) {
            let mut buf = [0u8; 128];
            let n = {
                let mut out = SliceOut::new(&mut buf);
                Writer::new(f, &mut out)
                    .raw(Raw {
                        format: Format::Json,
                        bytes: json,
                    })
                    .unwrap();
                out.as_slice().len()
            };
            let m = Message::decode(f, &buf[..n]).unwrap();
            let Message::Challenge(c) = m else {
                panic!("{m:?}")
            };
            assert!(c.extra.challenge.unwrap().eq_str("00ff"), "{f}");
            assert_eq!(c.extra.channel_binding, None, "{f}");
            assert_eq!(c.extra.keylen, None, "{f}");
            // A wrong type that is not null is still an error.
            let bad = br#"[4,"cryptosign",{"channel_binding":7}]"#;
            assert!(Message::decode(Format::Json, bad).is_err());
        }
    }

    #[test]
    fn call_round_trips_in_every_format_and_keeps_unknown_options() {
        let json = br#"[48,7,{"timeout":1000,"x_custom":[1,{"a":null}],"receive_progress":true},"com.example.add",[1,2],{"k":"v"}]"#;
        let m = Message::decode(Format::Json, json).unwrap();
        let Message::Call(c) = m else { panic!("{m:?}") };
        assert_eq!(c.request, 7);
        assert_eq!(c.options.timeout, Some(1000));
        assert_eq!(c.options.receive_progress, Some(true));
        assert!(c.procedure.eq_str("com.example.add"));
        assert_eq!(c.payload.args.unwrap().bytes, b"[1,2]");
        for f in Format::ALL.into_iter().filter(|f| f.enabled()) {
            let mut buf = [0u8; 256];
            let n = reencode(f, &m, &mut buf);
            let back = Message::decode(f, &buf[..n]).unwrap();
            let mut buf2 = [0u8; 256];
            let n2 = reencode(Format::Json, &back, &mut buf2);
            assert_eq!(
                core::str::from_utf8(&buf2[..n2]).unwrap(),
                r#"[48,7,{"receive_progress":true,"timeout":1000,"x_custom":[1,{"a":null}]},"com.example.add",[1,2],{"k":"v"}]"#,
                "{f}"
            );
        }
    }

    #[test]
    fn malformed_messages_name_the_rule() {
        let cases: [(&[u8], ErrorKind); 8] = [
            (b"[48,0,{},\"a\"]", ErrorKind::InvalidId),
            (b"[48,1,{},\"a\",{}]", ErrorKind::WrongType),
            (b"[48,1,{}]", ErrorKind::Arity),
            (b"[1,\"realm1\",{},3]", ErrorKind::Arity),
            (b"[99]", ErrorKind::UnknownMessage),
            (b"{\"a\":1}", ErrorKind::WrongType),
            (b"[48,1,{\"timeout\":\"x\"},\"a\"]", ErrorKind::WrongType),
            (b"[48,1,{},\"a\"] x", ErrorKind::Trailing),
        ];
        for (bytes, kind) in cases {
            let e = Message::decode(Format::Json, bytes).unwrap_err();
            assert_eq!(e.kind, kind, "{}", core::str::from_utf8(bytes).unwrap());
            assert_eq!(e.wamp_uri(), Some("wamp.error.protocol_violation"));
        }
    }
}
