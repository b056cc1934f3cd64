//! The frame header (RFC 6455 §5.2): a zero-copy view to parse and a representation to emit.
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               | Masking-key, if MASK set to 1 |
//! +-------------------------------+-------------------------------+
//! ```
//!
//! Parsing here checks only what the header alone can tell (reserved opcode, the 64-bit
//! length's top bit, control-frame length and fragmentation). Rules that depend on the
//! connection (role, negotiated RSV bits, message state) live in [`crate::decode`].

use crate::error::ProtocolError;
use crate::Status;

/// The largest header: 2 bytes, 8 bytes of extended length, 4 bytes of masking key.
pub const MAX_HEADER_LEN: usize = 14;
/// The largest control frame payload (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// RSV1 as it sits in the `rsv` field of [`FrameHeader`] (bit 2); permessage-deflate uses it.
pub const RSV1: u8 = 0b100;
/// RSV2 (bit 1 of the `rsv` field).
pub const RSV2: u8 = 0b010;
/// RSV3 (bit 0 of the `rsv` field).
pub const RSV3: u8 = 0b001;

/// A frame opcode (§5.2, §11.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation = 0x0,
    /// 0x1: a text (UTF-8) message.
    Text = 0x1,
    /// 0x2: a binary message.
    Binary = 0x2,
    /// 0x8: close.
    Close = 0x8,
    /// 0x9: ping.
    Ping = 0x9,
    /// 0xA: pong.
    Pong = 0xA,
}

impl OpCode {
    /// Decodes the 4-bit opcode; reserved values (3–7, 0xB–0xF) are `None`.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// Close, ping and pong.
    pub const fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// A zero-copy view of the header bytes at the start of a buffer.
#[derive(Clone, Copy, Debug)]
pub struct HeaderView<'a> {
    bytes: &'a [u8],
}

impl<'a> HeaderView<'a> {
    /// Wraps `bytes` if they hold a whole header; `Status::Partial` if more bytes are needed.
    pub fn new(bytes: &'a [u8]) -> Status<Self> {
        if bytes.len() < 2 {
            return Status::Partial;
        }
        let len = header_len(bytes[1]);
        if bytes.len() < len {
            Status::Partial
        } else {
            Status::Complete(Self {
                bytes: &bytes[..len],
            })
        }
    }

    /// The header's length in bytes (2 to 14).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Never true: a header has at least two bytes.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// FIN: the last frame of a message.
    pub fn fin(&self) -> bool {
        self.bytes[0] & 0x80 != 0
    }

    /// RSV1..RSV3 as three bits (see [`RSV1`]).
    pub fn rsv(&self) -> u8 {
        (self.bytes[0] >> 4) & 0x7
    }

    /// The raw 4-bit opcode.
    pub fn raw_opcode(&self) -> u8 {
        self.bytes[0] & 0x0F
    }

    /// The masking key, if the MASK bit is set.
    pub fn mask(&self) -> Option<[u8; 4]> {
        if self.bytes[1] & 0x80 == 0 {
            return None;
        }
        let at = self.bytes.len() - 4;
        let mut key = [0; 4];
        key.copy_from_slice(&self.bytes[at..]);
        Some(key)
    }

    /// The payload length as encoded (the 64-bit form's top bit included).
    pub fn payload_len(&self) -> u64 {
        match self.bytes[1] & 0x7F {
            126 => u16::from_be_bytes([self.bytes[2], self.bytes[3]]) as u64,
            127 => {
                let mut b = [0; 8];
                b.copy_from_slice(&self.bytes[2..10]);
                u64::from_be_bytes(b)
            }
            n => n as u64,
        }
    }
}

/// Header length implied by the second header byte (length form and MASK bit).
pub(crate) const fn header_len(b1: u8) -> usize {
    let ext = match b1 & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
}

/// A validated frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN bit.
    pub fin: bool,
    /// RSV1..RSV3 (see [`RSV1`]).
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if masked.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses the header at the start of `bytes`: `Partial` if it is not all there yet,
    /// else the header and its length. Rejects what the header alone shows is invalid.
    pub fn parse(bytes: &[u8]) -> Result<Status<(Self, usize)>, ProtocolError> {
        let view = match HeaderView::new(bytes) {
            Status::Partial => return Ok(Status::Partial),
            Status::Complete(v) => v,
        };
        Self::from_view(&view).map(|h| Status::Complete((h, view.len())))
    }

    /// Checks a view and turns it into a representation.
    pub fn from_view(view: &HeaderView<'_>) -> Result<Self, ProtocolError> {
        let raw = view.raw_opcode();
        let opcode = OpCode::from_u8(raw).ok_or(ProtocolError::ReservedOpcode(raw))?;
        let payload_len = view.payload_len();
        if payload_len >> 63 != 0 {
            return Err(ProtocolError::LengthTopBitSet);
        }
        if opcode.is_control() {
            if !view.fin() {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong);
            }
        }
        Ok(Self {
            fin: view.fin(),
            rsv: view.rsv(),
            opcode,
            mask: view.mask(),
            payload_len,
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub const fn encoded_len(&self) -> usize {
        let ext = if self.payload_len < 126 {
            0
        } else if self.payload_len <= u16::MAX as u64 {
            2
        } else {
            8
        };
        2 + ext + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header (always with the shortest length form) at the start of `out`
    /// and returns its length; `None` if `out` is shorter than [`encoded_len`](Self::encoded_len).
    pub fn emit(&self, out: &mut [u8]) -> Option<usize> {
        let n = self.encoded_len();
        let out = out.get_mut(..n)?;
        out[0] = (self.fin as u8) << 7 | (self.rsv & 0x7) << 4 | self.opcode as u8;
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let at = if self.payload_len < 126 {
            out[1] = mask_bit | self.payload_len as u8;
            2
        } else if self.payload_len <= u16::MAX as u64 {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
            4
        } else {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&self.payload_len.to_be_bytes());
            10
        };
        if let Some(key) = self.mask {
            out[at..at + 4].copy_from_slice(&key);
        }
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_length_forms() {
        for len in [0u64, 1, 125, 126, 127, 65535, 65536, 1 << 40] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let h = FrameHeader {
                    fin: len % 2 == 0,
                    rsv: RSV1,
                    opcode: OpCode::Binary,
                    mask,
                    payload_len: len,
                };
                let mut buf = [0u8; MAX_HEADER_LEN];
                let n = h.emit(&mut buf).unwrap();
                assert_eq!(n, h.encoded_len());
                for cut in 0..n {
                    assert_eq!(FrameHeader::parse(&buf[..cut]), Ok(Status::Partial));
                }
                assert_eq!(FrameHeader::parse(&buf[..n]), Ok(Status::Complete((h, n))));
            }
        }
    }

    #[test]
    fn header_alone_rules() {
        assert_eq!(
            FrameHeader::parse(&[0x83, 0]),
            Err(ProtocolError::ReservedOpcode(3))
        );
        assert_eq!(
            FrameHeader::parse(&[0x8B, 0]),
            Err(ProtocolError::ReservedOpcode(0xB))
        );
        assert_eq!(
            FrameHeader::parse(&[0x09, 0]),
            Err(ProtocolError::FragmentedControlFrame)
        );
        assert_eq!(
            FrameHeader::parse(&[0x89, 126, 0, 126]),
            Err(ProtocolError::ControlFrameTooLong)
        );
        let mut big = [0u8; 10];
        big[0] = 0x82;
        big[1] = 127;
        big[2] = 0x80;
        assert_eq!(
            FrameHeader::parse(&big),
            Err(ProtocolError::LengthTopBitSet)
        );
        assert!(FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Text,
            mask: None,
            payload_len: 200
        }
        .emit(&mut [0u8; 3])
        .is_none());
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..20)) {
            let _ = FrameHeader::parse(&data);
        }
    }
}
