//! Which serializer a WAMP connection speaks: one of the token [`Format`]s, or FlatBuffers.
//!
//! The four token formats (JSON, MessagePack, CBOR, UBJSON) encode a message as an array of
//! values, read and written token by token ([`super::value`]); a payload or dictionary in
//! one of them is a [`Raw`](super::Raw) span of the input. FlatBuffers (`wamp.2.flatbuffers`,
//! RawSocket serializer 5) is not a token stream: a message is a table of typed fields
//! ([`super::flatbuffers`]) whose `args`/`kwargs` are byte vectors holding CBOR. So a
//! connection is described by a [`Serializer`], and the values inside its messages by the
//! serializer's [`payload_format`](Serializer::payload_format): the format itself for the
//! token serializers, [`Format::Cbor`] for FlatBuffers. Link negotiation (WebSocket
//! subprotocols, the RawSocket handshake), the router's per-serializer encode cache and the
//! std client use this type; everything that builds or reads payloads keeps using `Format`.

use core::fmt;

use super::value::Format;

/// A WAMP serializer: a token [`Format`], or FlatBuffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Serializer {
    /// JSON, MessagePack, CBOR or UBJSON.
    Token(Format),
    /// `wamp.2.flatbuffers`, RawSocket serializer 5: Autobahn's FlatBuffers schema with CBOR
    /// payloads (feature `flatbuffers`).
    FlatBuffers,
}

impl From<Format> for Serializer {
    fn from(f: Format) -> Self {
        Serializer::Token(f)
    }
}

impl Serializer {
    /// JSON.
    pub const JSON: Serializer = Serializer::Token(Format::Json);
    /// MessagePack.
    pub const MSGPACK: Serializer = Serializer::Token(Format::MsgPack);
    /// CBOR.
    pub const CBOR: Serializer = Serializer::Token(Format::Cbor);
    /// UBJSON.
    pub const UBJSON: Serializer = Serializer::Token(Format::Ubjson);

    /// Every serializer, in RawSocket id order.
    pub const ALL: [Serializer; 5] = [
        Serializer::JSON,
        Serializer::MSGPACK,
        Serializer::CBOR,
        Serializer::UBJSON,
        Serializer::FlatBuffers,
    ];

    /// The token format, when this is one.
    pub fn format(self) -> Option<Format> {
        match self {
            Serializer::Token(f) => Some(f),
            Serializer::FlatBuffers => None,
        }
    }

    /// The format of the values inside messages (payloads, dictionaries built for them):
    /// the format itself, or CBOR for FlatBuffers (Autobahn's default payload serializer).
    pub fn payload_format(self) -> Format {
        match self {
            Serializer::Token(f) => f,
            Serializer::FlatBuffers => Format::Cbor,
        }
    }

    /// Whether this is FlatBuffers.
    pub fn is_flatbuffers(self) -> bool {
        self == Serializer::FlatBuffers
    }

    /// The WebSocket subprotocol name.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Serializer::Token(f) => f.subprotocol(),
            Serializer::FlatBuffers => "wamp.2.flatbuffers",
        }
    }

    /// The batched subprotocol name; FlatBuffers has none (Autobahn refuses to batch it).
    pub fn batched_subprotocol(self) -> Option<&'static str> {
        self.format().map(Format::batched_subprotocol)
    }

    /// The serializer and whether it is batched, from a subprotocol name.
    pub fn from_subprotocol(name: &str) -> Option<(Serializer, bool)> {
        if name == Serializer::FlatBuffers.subprotocol() {
            return Some((Serializer::FlatBuffers, false));
        }
        Format::from_subprotocol(name).map(|(f, b)| (Serializer::Token(f), b))
    }

    /// The RawSocket serializer id (1..=5).
    pub fn rawsocket_id(self) -> u8 {
        match self {
            Serializer::Token(f) => f.rawsocket_id(),
            Serializer::FlatBuffers => 5,
        }
    }

    /// The serializer for a RawSocket serializer id.
    pub fn from_rawsocket_id(id: u8) -> Option<Serializer> {
        Serializer::ALL.into_iter().find(|s| s.rawsocket_id() == id)
    }

    /// Whether this build has a reader and writer for it (each is a feature).
    pub fn enabled(self) -> bool {
        match self {
            Serializer::Token(f) => f.enabled(),
            Serializer::FlatBuffers => cfg!(feature = "flatbuffers"),
        }
    }

    /// Whether messages go in WebSocket text frames (JSON) rather than binary ones.
    pub fn is_text(self) -> bool {
        self == Serializer::JSON
    }

    /// A dense index 0..5 (RawSocket id − 1), for per-serializer caches.
    pub fn index(self) -> usize {
        usize::from(self.rawsocket_id() - 1)
    }

    /// The short name (`json`, `msgpack`, `cbor`, `ubjson`, `flatbuffers`).
    pub fn name(self) -> &'static str {
        &self.subprotocol()["wamp.2.".len()..]
    }

    /// The serializer of a short name ([`name`](Self::name)).
    pub fn from_name(name: &str) -> Option<Serializer> {
        Serializer::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Serializer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.subprotocol())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ids_and_subprotocols_agree() {
        for (i, s) in Serializer::ALL.into_iter().enumerate() {
            assert_eq!(s.index(), i);
            assert_eq!(Serializer::from_rawsocket_id(s.rawsocket_id()), Some(s));
            assert_eq!(
                Serializer::from_subprotocol(s.subprotocol()),
                Some((s, false))
            );
            assert_eq!(Serializer::from_name(s.name()), Some(s));
            if let Some(b) = s.batched_subprotocol() {
                assert_eq!(Serializer::from_subprotocol(b), Some((s, true)));
            }
        }
        assert_eq!(Serializer::FlatBuffers.rawsocket_id(), 5);
        assert_eq!(Serializer::FlatBuffers.name(), "flatbuffers");
        assert_eq!(Serializer::FlatBuffers.batched_subprotocol(), None);
        assert_eq!(
            Serializer::from_subprotocol("wamp.2.flatbuffers.batched"),
            None
        );
        assert_eq!(Serializer::FlatBuffers.payload_format(), Format::Cbor);
        assert_eq!(Serializer::from_rawsocket_id(6), None);
    }
}
