//! RawSocket (WAMP advanced profile, "RawSocket Transport"), sans-IO, both roles.
//!
//! Handshake: the client sends `7F LS 00 00` (`L`: it accepts messages up to 2^(9+L) bytes,
//! `S`: serializer id); the server answers `7F LS 00 00` with its own `L`, or `7F E0 00 00`
//! with an error `E`. Then every message is a 4-byte header (`0000 0TTT`: 0 regular, 1 ping,
//! 2 pong; a 24-bit big-endian length) and its payload. A ping is answered with a pong that
//! carries the same payload (Autobahn|Python does not implement them; we do). A frame longer
//! than what we announced is refused before its payload is read.

use super::serializer::Serializer;
use crate::Status;

/// The handshake's first byte.
pub const MAGIC: u8 = 0x7F;

/// The largest length exponent: 2^(9+15) = 16 MiB.
pub const MAX_LEN_EXP: u8 = 15;

/// What one side announces in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Messages up to 2^(9+`max_len_exp`) bytes are accepted (0..=15).
    pub max_len_exp: u8,
    /// The serializer (1..=4: the token formats, 5: FlatBuffers).
    pub serializer: Serializer,
}

impl Hello {
    /// The largest message length this side accepts.
    pub fn max_len(&self) -> u32 {
        1 << (9 + self.max_len_exp.min(MAX_LEN_EXP) as u32)
    }

    /// The smallest exponent whose length is at least `bytes` (capped at 16 MiB).
    pub fn exp_for(bytes: u32) -> u8 {
        (0..=MAX_LEN_EXP)
            .find(|e| (1u32 << (9 + *e as u32)) >= bytes)
            .unwrap_or(MAX_LEN_EXP)
    }

    /// The four handshake bytes.
    pub fn encode(&self) -> [u8; 4] {
        [
            MAGIC,
            (self.max_len_exp.min(MAX_LEN_EXP) << 4) | self.serializer.rawsocket_id(),
            0,
            0,
        ]
    }
}

/// Handshake failures, with the error codes of the spec where the server sends one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The first byte is not 0x7F: not RawSocket (nothing is sent back).
    NotRawSocket,
    /// 1: serializer unsupported.
    SerializerUnsupported,
    /// 2: maximum message length unacceptable.
    MaxLenUnacceptable,
    /// 3: use of reserved bits (unsupported feature).
    ReservedBits,
    /// 4: maximum connection count reached.
    ConnectionLimit,
    /// The server answered with an error code the spec does not define, or an answer that
    /// does not match the request.
    BadReply,
}

impl HandshakeError {
    /// The error code sent in a server's refusal, when there is one.
    pub fn code(self) -> Option<u8> {
        match self {
            HandshakeError::SerializerUnsupported => Some(1),
            HandshakeError::MaxLenUnacceptable => Some(2),
            HandshakeError::ReservedBits => Some(3),
            HandshakeError::ConnectionLimit => Some(4),
            _ => None,
        }
    }

    /// The server's refusal: `7F E0 00 00`.
    pub fn reply(self) -> Option<[u8; 4]> {
        self.code().map(|c| [MAGIC, c << 4, 0, 0])
    }
}

/// Server side: reads the client's four bytes and decides. `accept` says which serializers
/// we take; `our_max_exp` is what we accept. On success the reply to send is
/// [`Hello::encode`] of the returned `(ours, theirs)`' first element; on an error with a code,
/// send [`HandshakeError::reply`] and close.
pub fn server_handshake(
    request: [u8; 4],
    accept: impl Fn(Serializer) -> bool,
    our_max_exp: u8,
) -> Result<(Hello, Hello), HandshakeError> {
    if request[0] != MAGIC {
        return Err(HandshakeError::NotRawSocket);
    }
    if request[2] != 0 || request[3] != 0 {
        return Err(HandshakeError::ReservedBits);
    }
    let serializer = Serializer::from_rawsocket_id(request[1] & 0x0F)
        .filter(|s| s.enabled() && accept(*s))
        .ok_or(HandshakeError::SerializerUnsupported)?;
    let theirs = Hello {
        max_len_exp: request[1] >> 4,
        serializer,
    };
    let ours = Hello {
        max_len_exp: our_max_exp.min(MAX_LEN_EXP),
        serializer,
    };
    Ok((ours, theirs))
}

/// Client side: checks the server's four bytes against what we sent; returns the server's
/// announcement (its maximum length bounds what we may send).
pub fn client_handshake(sent: Hello, reply: [u8; 4]) -> Result<Hello, HandshakeError> {
    if reply[0] != MAGIC {
        return Err(HandshakeError::NotRawSocket);
    }
    if reply[1] & 0x0F == 0 {
        return Err(match reply[1] >> 4 {
            1 => HandshakeError::SerializerUnsupported,
            2 => HandshakeError::MaxLenUnacceptable,
            3 => HandshakeError::ReservedBits,
            4 => HandshakeError::ConnectionLimit,
            _ => HandshakeError::BadReply,
        });
    }
    if reply[1] & 0x0F != sent.serializer.rawsocket_id() || reply[2] != 0 || reply[3] != 0 {
        return Err(HandshakeError::BadReply);
    }
    Ok(Hello {
        max_len_exp: reply[1] >> 4,
        serializer: sent.serializer,
    })
}

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A WAMP message.
    Message = 0,
    /// A ping: answer with a pong carrying the same payload.
    Ping = 1,
    /// A pong.
    Pong = 2,
}

/// Framing errors: the connection must be closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// Reserved bits set or an undefined frame type.
    BadHeader,
    /// Longer than the limit we announced.
    TooLong {
        /// The frame's length.
        len: u32,
        /// Our limit.
        max: u32,
    },
    /// The payload does not fit a 24-bit length (or the peer's limit) on sending.
    CannotSend,
}

/// Reads a frame header.
pub fn parse_header(h: [u8; 4], max_len: u32) -> Result<(FrameKind, u32), FrameError> {
    let kind = match h[0] {
        0 => FrameKind::Message,
        1 => FrameKind::Ping,
        2 => FrameKind::Pong,
        _ => return Err(FrameError::BadHeader),
    };
    let len = u32::from_be_bytes([0, h[1], h[2], h[3]]);
    if len > max_len {
        return Err(FrameError::TooLong { len, max: max_len });
    }
    Ok((kind, len))
}

/// A frame header for `len` payload bytes, within the peer's limit `peer_max`.
pub fn header(kind: FrameKind, len: usize, peer_max: u32) -> Result<[u8; 4], FrameError> {
    if len >= 1 << 24 || len as u64 > peer_max as u64 {
        return Err(FrameError::CannotSend);
    }
    let l = (len as u32).to_be_bytes();
    Ok([kind as u8, l[1], l[2], l[3]])
}

/// One whole frame at the front of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Message, ping or pong.
    pub kind: FrameKind,
    /// Its payload.
    pub payload: &'a [u8],
    /// Bytes the frame took (header included).
    pub used: usize,
}

/// Reads one whole frame from the front of `buf`; [`Status::Partial`] when `buf` does not
/// hold all of it yet.
pub fn decode_frame(buf: &[u8], max_len: u32) -> Result<Status<Frame<'_>>, FrameError> {
    let Some(h) = buf.get(..4) else {
        return Ok(Status::Partial);
    };
    let (kind, len) = parse_header([h[0], h[1], h[2], h[3]], max_len)?;
    let end = 4 + len as usize;
    match buf.get(4..end) {
        Some(payload) => Ok(Status::Complete(Frame {
            kind,
            payload,
            used: end,
        })),
        None => Ok(Status::Partial),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "json")]
    fn handshake_both_roles() {
        let client = Hello {
            max_len_exp: 15,
            serializer: Serializer::JSON,
        };
        assert_eq!(client.encode(), [0x7F, 0xF1, 0, 0]);
        let (ours, theirs) = server_handshake(client.encode(), |_| true, 7).unwrap();
        assert_eq!(theirs.max_len(), 1 << 24);
        assert_eq!(ours.max_len(), 1 << 16);
        assert_eq!(client_handshake(client, ours.encode()).unwrap(), ours);
        assert_eq!(
            server_handshake([0x7F, 0xF1, 0, 1], |_| true, 7),
            Err(HandshakeError::ReservedBits)
        );
        assert_eq!(
            server_handshake([0x7F, 0xF9, 0, 0], |_| true, 7),
            Err(HandshakeError::SerializerUnsupported)
        );
        assert_eq!(
            server_handshake([0x47, 0x45, 0x54, 0x20], |_| true, 7),
            Err(HandshakeError::NotRawSocket)
        );
        // FlatBuffers is serializer 5, taken only where the build has it.
        let fb = server_handshake([0x7F, 0xF5, 0, 0], |_| true, 7);
        if cfg!(feature = "flatbuffers") {
            assert_eq!(fb.unwrap().0.serializer, Serializer::FlatBuffers);
        } else {
            assert_eq!(fb, Err(HandshakeError::SerializerUnsupported));
        }
        let refusal = HandshakeError::ConnectionLimit.reply().unwrap();
        assert_eq!(refusal, [0x7F, 0x40, 0, 0]);
        assert_eq!(
            client_handshake(client, refusal),
            Err(HandshakeError::ConnectionLimit)
        );
        assert_eq!(Hello::exp_for(512), 0);
        assert_eq!(Hello::exp_for(1025), 2);
    }

    #[test]
    fn frames() {
        let mut buf = [0u8; 16];
        buf[..4].copy_from_slice(&header(FrameKind::Ping, 3, 1 << 24).unwrap());
        buf[4..7].copy_from_slice(b"abc");
        assert_eq!(decode_frame(&buf[..6], 100), Ok(Status::Partial));
        assert_eq!(
            decode_frame(&buf[..7], 100),
            Ok(Status::Complete(Frame {
                kind: FrameKind::Ping,
                payload: &b"abc"[..],
                used: 7
            }))
        );
        assert_eq!(
            decode_frame(&buf[..7], 2),
            Err(FrameError::TooLong { len: 3, max: 2 })
        );
        assert_eq!(decode_frame(&[8, 0, 0, 0], 100), Err(FrameError::BadHeader));
        assert_eq!(
            header(FrameKind::Message, 1 << 24, u32::MAX),
            Err(FrameError::CannotSend)
        );
        assert_eq!(
            header(FrameKind::Message, 600, 512),
            Err(FrameError::CannotSend)
        );
    }
}
