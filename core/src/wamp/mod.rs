//! WAMP v2 (wamp-proto.org), sans-IO: messages, serializers, URIs and IDs, RawSocket.
//!
//! ```text
//!   bytes of one message ──► value::Reader (json | msgpack | cbor | ubjson) ──► Token
//!         │                       │ skip() → Raw (payloads, dicts: kept as bytes)
//!         │                       ▼
//!         │                message::Message<'a>  (typed Details/Options in dict, Raw payload)
//!         │                       ▲        │ encode()
//!         └─► flatbuffers::decode ┘        ▼
//!             (tables; args/kwargs   value::Writer ──► out::Out (caller's buffer, or Vec) ──► bytes
//!              Raw CBOR spans)             └─ flatbuffers::encode (tables; payloads as CBOR)
//!
//!   serializer::Serializer = Token(Format) | FlatBuffers: what a connection speaks (WebSocket
//!   subprotocol, RawSocket id 1..5); Message::decode_as / encode_as take it.
//!   transports: rawsocket (handshake + 4-byte frame headers), batched (length prefixes or
//!   separators inside one WebSocket message); WebSocket itself is the `connection` layer.
//! ```
//!
//! A CALL through a router: the CALL's bytes are decoded into [`Message::Call`], whose
//! `payload` is two [`Raw`] spans of those bytes; the router builds a [`Message::Invocation`]
//! with the same `Payload` and encodes it for the callee: the payload bytes are copied as they
//! are when the callee uses the same serializer, transcoded token by token when not. No heap
//! is needed on this path. The sans-IO [`router`] (feature `router`, needs `alloc`) does
//! exactly this: `receive(conn, bytes, now)` decodes, routes and pushes one `Send` action per
//! recipient with bytes encoded once per serializer in use.
//!
//! FlatBuffers (feature `flatbuffers`, [`flatbuffers`]) is not a token stream, so it is not a
//! [`Format`]: its messages are tables whose `args`/`kwargs` are byte vectors holding CBOR.
//! Decoding gives the same [`Message`] with those payloads as [`Raw`] CBOR spans of the input,
//! so a router forwards them to CBOR sessions as they are and transcodes them for the others
//! (and a JSON payload to CBOR for a FlatBuffers session). No heap either.

pub mod auth;
pub mod batched;
pub mod dict;
pub mod error;
#[cfg(feature = "flatbuffers")]
pub mod flatbuffers;
pub mod id;
pub mod link;
pub mod message;
pub mod out;
pub mod rawsocket;
#[cfg(feature = "router")]
pub mod router;
pub mod serializer;
pub mod session;
pub mod uri;
pub mod value;

#[cfg(feature = "cbor")]
mod cbor;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "msgpack")]
mod msgpack;
#[cfg(feature = "ubjson")]
mod ubjson;

pub use error::{Error, ErrorKind};
pub use message::{Message, Payload};
pub use out::{CountOut, Out, SliceOut};
pub use serializer::Serializer;
pub use value::{Bytes, Format, Raw, Reader, Str, Token, Writer};
