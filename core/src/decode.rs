//! The receive side: bytes in, frame events out (RFC 6455 §5, §6.2).
//!
//! [`Decoder`] is a push parser in the httparse manner: the caller hands it whatever bytes
//! the transport produced, it consumes what it can and returns at most one [`Event`]. A
//! header split across reads is kept (≤14 bytes) and completed by the next call; a control
//! frame split across reads is collected in a 125-byte buffer; data payloads are unmasked in
//! place in the caller's buffer and handed out as they arrive, so a message is never buffered
//! here. Everything the connection state can tell is checked here: masking per role, RSV bits
//! per negotiated extension, fragmentation order, size limits, UTF-8 of text messages
//! (fail-fast, see [`crate::utf8`]) and close frame payloads.

use crate::close::CloseFrame;
use crate::config::{Config, Role};
use crate::error::ProtocolError;
use crate::frame::{header_len, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::mask::apply_mask;
use crate::utf8::Utf8Validator;
use crate::Status;

/// Text or binary: the two kinds of data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl MessageKind {
    /// The opcode of a message's first frame.
    pub const fn opcode(self) -> OpCode {
        match self {
            Self::Text => OpCode::Text,
            Self::Binary => OpCode::Binary,
        }
    }
}

/// What the decoder saw.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub enum Event<'a> {
    /// A data frame begins. Its payload follows as [`Event::Data`], then [`Event::FrameEnd`].
    FrameStart {
        /// The message's kind.
        kind: MessageKind,
        /// This frame opens a new message.
        message_start: bool,
        /// This frame is the message's last (FIN).
        fin: bool,
        /// The frame's payload length.
        len: u64,
        /// RSV bits of the message's first frame (extensions read it: RSV1 = compressed).
        message_rsv: u8,
    },
    /// Unmasked payload bytes of the current data frame, in order.
    Data(&'a [u8]),
    /// The current data frame ended; `message_end` when it was the message's last.
    FrameEnd {
        /// The message is complete.
        message_end: bool,
    },
    /// A ping with its payload.
    Ping(&'a [u8]),
    /// A pong with its payload.
    Pong(&'a [u8]),
    /// A valid close frame (`None`: no status code). Nothing is decoded after it.
    Close(Option<CloseFrame<'a>>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Header,
    Data,
    Control,
    Done,
}

/// The receive state machine of one connection. Fixed size (about 200 bytes), no heap.
#[derive(Clone, Debug)]
pub struct Decoder {
    role: Role,
    config: Config,
    stage: Stage,
    hdr: [u8; MAX_HEADER_LEN],
    hdr_len: u8,
    opcode: OpCode,
    fin: bool,
    key: Option<[u8; 4]>,
    phase: usize,
    remaining: u64,
    ctrl: [u8; MAX_CONTROL_PAYLOAD],
    ctrl_len: u8,
    message: Option<MessageKind>,
    message_rsv: u8,
    message_len: u64,
    check_utf8: bool,
    utf8: Utf8Validator,
}

impl Decoder {
    /// A decoder for the frames our peer sends when we are `role`.
    pub const fn new(role: Role, config: Config) -> Self {
        Self {
            role,
            config,
            stage: Stage::Header,
            hdr: [0; MAX_HEADER_LEN],
            hdr_len: 0,
            opcode: OpCode::Continuation,
            fin: false,
            key: None,
            phase: 0,
            remaining: 0,
            ctrl: [0; MAX_CONTROL_PAYLOAD],
            ctrl_len: 0,
            message: None,
            message_rsv: 0,
            message_len: 0,
            check_utf8: false,
            utf8: Utf8Validator::new(),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Changes settings (e.g. after extension negotiation set `message_rsv`).
    pub fn set_config(&mut self, config: Config) {
        self.config = config;
    }

    /// Whether a close frame was decoded (or an error stopped the decoder).
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Whether a data message is partly received.
    pub fn in_message(&self) -> bool {
        self.message.is_some()
    }

    /// Consumes bytes from `input` and returns how many, with at most one event. `(n, None)`
    /// with `n == input.len()` means "give me more bytes". Data payloads are unmasked in place
    /// in `input`. After an error or a close frame the decoder accepts nothing more.
    pub fn decode<'a>(
        &'a mut self,
        input: &'a mut [u8],
    ) -> Result<(usize, Option<Event<'a>>), ProtocolError> {
        let (n, raw) = match self.step(input) {
            Ok(r) => r,
            Err(e) => {
                self.stage = Stage::Done;
                return Err(e);
            }
        };
        let Some(raw) = raw else { return Ok((n, None)) };
        let ev = match raw {
            Raw::Event(ev) => ev,
            Raw::Data(len) => Event::Data(&input[..len]),
            Raw::Control(opcode, src) => {
                let payload: &'a [u8] = match src {
                    Src::Input(at, len) => &input[at..at + len],
                    Src::Ctrl(len) => &self.ctrl[..len],
                };
                match opcode {
                    OpCode::Ping => Event::Ping(payload),
                    OpCode::Pong => Event::Pong(payload),
                    _ => {
                        self.stage = Stage::Done;
                        Event::Close(CloseFrame::parse(payload)?)
                    }
                }
            }
        };
        Ok((n, Some(ev)))
    }

    /// One step of the machine; events that borrow are returned as positions.
    fn step(&mut self, input: &mut [u8]) -> Result<(usize, Option<Raw>), ProtocolError> {
        match self.stage {
            Stage::Done => Ok((input.len(), None)),
            Stage::Header => self.header(input),
            Stage::Data => self.data(input),
            Stage::Control => {
                let have = self.ctrl_len as usize;
                let take = (self.remaining as usize).min(input.len());
                self.ctrl[have..have + take].copy_from_slice(&input[..take]);
                self.ctrl_len += take as u8;
                self.remaining -= take as u64;
                if self.remaining != 0 {
                    return Ok((take, None));
                }
                let len = self.ctrl_len as usize;
                if let Some(key) = self.key {
                    apply_mask(&mut self.ctrl[..len], key, 0);
                }
                self.stage = Stage::Header;
                Ok((take, Some(Raw::Control(self.opcode, Src::Ctrl(len)))))
            }
        }
    }

    fn header(&mut self, input: &mut [u8]) -> Result<(usize, Option<Raw>), ProtocolError> {
        // Fast path: the whole header is in `input` and nothing is carried.
        let (header, consumed) = if self.hdr_len == 0 {
            match FrameHeader::parse(input)? {
                Status::Complete(hl) => hl,
                Status::Partial => {
                    let n = input.len();
                    self.hdr[..n].copy_from_slice(input);
                    self.hdr_len = n as u8;
                    return Ok((n, None));
                }
            }
        } else {
            // Complete the carried header: first its two fixed bytes, then the rest they imply.
            let mut have = self.hdr_len as usize;
            let mut used = 0;
            loop {
                let want = if have < 2 { 2 } else { header_len(self.hdr[1]) };
                let take = (want - have).min(input.len() - used);
                self.hdr[have..have + take].copy_from_slice(&input[used..used + take]);
                have += take;
                used += take;
                if have < want {
                    self.hdr_len = have as u8;
                    return Ok((used, None));
                }
                if have >= 2 && header_len(self.hdr[1]) == have {
                    break;
                }
            }
            self.hdr_len = 0;
            match FrameHeader::parse(&self.hdr[..have])? {
                Status::Complete((h, _)) => (h, used),
                Status::Partial => return Err(ProtocolError::LengthTopBitSet),
            }
        };
        self.check_header(&header)?;
        self.fin = header.fin;
        self.key = header.mask;
        self.phase = 0;
        self.remaining = header.payload_len;
        self.opcode = header.opcode;
        if header.opcode.is_control() {
            let len = header.payload_len as usize;
            let rest = &mut input[consumed..];
            if rest.len() >= len {
                // The whole control payload is here: unmask it in place.
                if let Some(key) = header.mask {
                    apply_mask(&mut rest[..len], key, 0);
                }
                self.remaining = 0;
                return Ok((
                    consumed + len,
                    Some(Raw::Control(header.opcode, Src::Input(consumed, len))),
                ));
            }
            self.stage = Stage::Control;
            self.ctrl_len = 0;
            return Ok((consumed, None));
        }
        let message_start = header.opcode != OpCode::Continuation;
        if message_start {
            let kind = if header.opcode == OpCode::Text {
                MessageKind::Text
            } else {
                MessageKind::Binary
            };
            self.message = Some(kind);
            self.message_rsv = header.rsv;
            self.message_len = 0;
            let transformed =
                self.config.transform_on_rsv && header.rsv & self.config.message_rsv != 0;
            self.check_utf8 = kind == MessageKind::Text && !transformed;
            self.utf8.reset();
        }
        self.message_len += header.payload_len;
        if self.message_len > self.config.max_message_payload {
            return Err(ProtocolError::MessageTooLarge);
        }
        self.stage = Stage::Data;
        let kind = self.message.unwrap_or(MessageKind::Binary);
        Ok((
            consumed,
            Some(Raw::Event(Event::FrameStart {
                kind,
                message_start,
                fin: header.fin,
                len: header.payload_len,
                message_rsv: self.message_rsv,
            })),
        ))
    }

    /// Rules that need the connection's state: masks, RSV bits, fragmentation, limits.
    fn check_header(&self, h: &FrameHeader) -> Result<(), ProtocolError> {
        match self.role {
            Role::Server if h.mask.is_none() && self.config.require_masked_client_frames => {
                return Err(ProtocolError::UnmaskedFrame)
            }
            Role::Client if h.mask.is_some() && !self.config.accept_masked_server_frames => {
                return Err(ProtocolError::MaskedFrame)
            }
            _ => {}
        }
        let allowed = match h.opcode {
            OpCode::Text | OpCode::Binary => self.config.message_rsv,
            _ => 0,
        };
        if h.rsv & !allowed != 0 {
            return Err(ProtocolError::ReservedBits(h.rsv));
        }
        match (h.opcode, self.message.is_some()) {
            (OpCode::Continuation, false) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, true) => {
                return Err(ProtocolError::ExpectedContinuation)
            }
            _ => {}
        }
        if !h.opcode.is_control() && h.payload_len > self.config.max_frame_payload {
            return Err(ProtocolError::FrameTooLarge);
        }
        Ok(())
    }

    fn data(&mut self, input: &mut [u8]) -> Result<(usize, Option<Raw>), ProtocolError> {
        if self.remaining == 0 {
            self.stage = Stage::Header;
            let message_end = self.fin;
            if message_end {
                self.message = None;
                if self.check_utf8 {
                    self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                }
            }
            return Ok((0, Some(Raw::Event(Event::FrameEnd { message_end }))));
        }
        let n = (self.remaining.min(input.len() as u64)) as usize;
        if n == 0 {
            return Ok((0, None));
        }
        let chunk = &mut input[..n];
        if let Some(key) = self.key {
            self.phase = apply_mask(chunk, key, self.phase);
        }
        if self.check_utf8 {
            self.utf8
                .feed(chunk)
                .map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        self.remaining -= n as u64;
        Ok((n, Some(Raw::Data(n))))
    }
}

/// Where a control payload sits: in the caller's input (offset, length) or our buffer.
#[derive(Clone, Copy)]
enum Src {
    Input(usize, usize),
    Ctrl(usize),
}

/// An event before it borrows: positions instead of slices.
enum Raw {
    Event(Event<'static>),
    Data(usize),
    Control(OpCode, Src),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::close::CloseCode;

    fn frame(fin: bool, op: u8, payload: &[u8], key: Option<[u8; 4]>, out: &mut [u8]) -> usize {
        let h = FrameHeader {
            fin,
            rsv: 0,
            opcode: OpCode::from_u8(op).unwrap(),
            mask: key,
            payload_len: payload.len() as u64,
        };
        let n = h.emit(out).unwrap();
        out[n..n + payload.len()].copy_from_slice(payload);
        if let Some(k) = key {
            apply_mask(&mut out[n..n + payload.len()], k, 0);
        }
        n + payload.len()
    }

    /// Feeds `wire` in pieces of `step` bytes and records a compact trace.
    fn trace(dec: &mut Decoder, wire: &[u8], step: usize) -> Result<[u8; 64], ProtocolError> {
        let mut buf = [0u8; 256];
        buf[..wire.len()].copy_from_slice(wire);
        let mut out = [0u8; 64];
        let mut o = 0;
        let mut pos = 0;
        let mut end = 0;
        loop {
            if pos == end {
                if end == wire.len() {
                    break;
                }
                end = (end + step).min(wire.len());
            }
            let (n, ev) = dec.decode(&mut buf[pos..end])?;
            pos += n;
            match ev {
                Some(Event::FrameStart { .. }) => out[o] = b'S',
                Some(Event::Data(d)) => {
                    out[o..o + d.len()].copy_from_slice(d);
                    o += d.len() - 1;
                }
                Some(Event::FrameEnd { message_end }) => {
                    out[o] = if message_end { b'E' } else { b'e' }
                }
                Some(Event::Ping(_)) => out[o] = b'P',
                Some(Event::Pong(_)) => out[o] = b'p',
                Some(Event::Close(_)) => out[o] = b'C',
                None => continue,
            }
            o += 1;
        }
        Ok(out)
    }

    #[test]
    fn fragmented_text_with_ping_any_split() {
        let key = Some([0x37, 0xfa, 0x21, 0x3d]);
        let mut wire = [0u8; 128];
        let mut n = frame(false, 1, b"Hel", key, &mut wire);
        n += frame(true, 9, b"!", key, &mut wire[n..]);
        n += frame(true, 0, "lo µ".as_bytes(), key, &mut wire[n..]);
        n += frame(true, 8, &[0x03, 0xe8], key, &mut wire[n..]);
        for step in 1..=n {
            let mut dec = Decoder::new(Role::Server, Config::DEFAULT);
            let t = trace(&mut dec, &wire[..n], step).unwrap();
            let s =
                core::str::from_utf8(&t[..t.iter().position(|&b| b == 0).unwrap_or(64)]).unwrap();
            assert_eq!(s, "SHelePSlo µEC", "step {step}");
        }
    }

    #[test]
    fn role_and_state_rules() {
        let mut wire = [0u8; 32];
        let n = frame(true, 1, b"x", None, &mut wire);
        let mut dec = Decoder::new(Role::Server, Config::DEFAULT);
        assert_eq!(
            trace(&mut dec, &wire[..n], n),
            Err(ProtocolError::UnmaskedFrame)
        );
        let n = frame(true, 1, b"x", Some([1, 2, 3, 4]), &mut wire);
        let mut dec = Decoder::new(Role::Client, Config::DEFAULT);
        assert_eq!(
            trace(&mut dec, &wire[..n], n),
            Err(ProtocolError::MaskedFrame)
        );
        let n = frame(true, 0, b"x", None, &mut wire);
        let mut dec = Decoder::new(Role::Client, Config::DEFAULT);
        assert_eq!(
            trace(&mut dec, &wire[..n], n),
            Err(ProtocolError::UnexpectedContinuation)
        );
        let mut n = frame(false, 2, b"x", None, &mut wire);
        n += frame(true, 1, b"x", None, &mut wire[n..]);
        let mut dec = Decoder::new(Role::Client, Config::DEFAULT);
        assert_eq!(
            trace(&mut dec, &wire[..n], n),
            Err(ProtocolError::ExpectedContinuation)
        );
        wire[0] = 0xC1; // RSV1 on a text frame, no extension
        wire[1] = 0;
        let mut dec = Decoder::new(Role::Client, Config::DEFAULT);
        assert_eq!(
            trace(&mut dec, &wire[..2], 2),
            Err(ProtocolError::ReservedBits(4))
        );
    }

    #[test]
    fn limits_and_utf8_fail_fast() {
        let cfg = Config {
            max_message_payload: 4,
            ..Config::DEFAULT
        };
        let mut wire = [0u8; 64];
        let mut n = frame(false, 2, b"abc", None, &mut wire);
        n += frame(true, 0, b"de", None, &mut wire[n..]);
        let mut dec = Decoder::new(Role::Client, cfg);
        assert_eq!(
            trace(&mut dec, &wire[..n], n),
            Err(ProtocolError::MessageTooLarge)
        );
        // Invalid UTF-8 in the first of two frames fails before the second arrives.
        let n = frame(false, 1, b"\xce\xba\xed\xa0\x80", None, &mut wire);
        let mut dec = Decoder::new(Role::Client, Config::DEFAULT);
        assert_eq!(
            trace(&mut dec, &wire[..n], n),
            Err(ProtocolError::InvalidUtf8)
        );
    }

    #[test]
    fn close_payload_rules() {
        let mut wire = [0u8; 32];
        let n = frame(true, 8, &[0x03], None, &mut wire);
        let mut dec = Decoder::new(Role::Client, Config::DEFAULT);
        assert_eq!(
            trace(&mut dec, &wire[..n], 1),
            Err(ProtocolError::CloseOneByte)
        );
        let n = frame(true, 8, &[0x03, 0xed], None, &mut wire);
        let mut dec = Decoder::new(Role::Client, Config::DEFAULT);
        assert_eq!(
            trace(&mut dec, &wire[..n], n),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        let n = frame(true, 8, b"\x0b\xb8ok", None, &mut wire);
        let mut dec = Decoder::new(Role::Client, Config::DEFAULT);
        let mut buf = wire;
        let (_, ev) = dec.decode(&mut buf[..n]).unwrap();
        assert_eq!(
            ev,
            Some(Event::Close(Some(CloseFrame {
                code: CloseCode(3000),
                reason: "ok"
            })))
        );
        assert!(dec.is_done());
    }

    proptest::proptest! {
        #[test]
        fn random_input_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200), step in 1usize..40, server in proptest::bool::ANY) {
            let role = if server { Role::Server } else { Role::Client };
            let mut dec = Decoder::new(role, Config { max_frame_payload: 100, max_message_payload: 150, ..Config::DEFAULT });
            let mut buf = data.clone();
            let mut pos = 0;
            while pos < buf.len() {
                let end = (pos + step).min(buf.len());
                match dec.decode(&mut buf[pos..end]) {
                    Ok((n, ev)) => { if n == 0 && ev.is_none() { break; } pos += n; }
                    Err(_) => break,
                }
            }
        }
    }
}
