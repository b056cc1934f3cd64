//! One WebSocket connection after the opening handshake, sans-IO (RFC 6455 §5–§7).
//!
//! [`Connection`] joins the receive side ([`Decoder`]) with the send side and the close
//! handshake. It never touches a socket: [`read`](Connection::read) takes bytes and returns
//! events; every send method writes frames into a buffer the caller owns; control frames the
//! connection owes its peer (a pong, a close reply, the close after a protocol error) wait in
//! one slot until the driver calls [`poll_transmit`](Connection::poll_transmit), which a
//! driver does after every event and before it blocks.
//!
//! Three send APIs, as in Autobahn: whole messages ([`encode_message`](Connection::encode_message),
//! fragmented by `auto_fragment_size`), frames of a message ([`encode_frame`](Connection::encode_frame)),
//! and streaming a frame whose length is known up front ([`start_frame`](Connection::start_frame)
//! then [`frame_data`](Connection::frame_data) chunks).

use crate::close::{CloseCode, CloseFrame};
use crate::config::{Config, MaskKeySource, Role};
use crate::decode::{Decoder, Event, MessageKind};
use crate::error::ProtocolError;
use crate::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::mask::apply_mask;

/// Bytes a buffer passed to [`Connection::poll_transmit`] must hold: one whole control frame.
pub const CONTROL_FRAME_MAX: usize = MAX_HEADER_LEN + MAX_CONTROL_PAYLOAD;

/// Why a connection call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the protocol; a close frame with the matching code is queued.
    Protocol(ProtocolError),
    /// We already sent a close frame: no more data may be sent.
    CloseSent,
    /// The output buffer is too small for the frame; nothing was written.
    BufferTooSmall,
    /// A frame or message call out of order (a new message while one is being sent,
    /// streamed data beyond the announced length, a control payload over 125 bytes).
    InvalidState,
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "protocol error: {e}"),
            Self::CloseSent => f.write_str("close already sent"),
            Self::BufferTooSmall => f.write_str("output buffer too small"),
            Self::InvalidState => f.write_str("call out of order"),
        }
    }
}

impl core::error::Error for Error {}

/// Where the close handshake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseState {
    /// Neither side has sent a close frame.
    Open,
    /// We sent (or queued) a close and wait for the peer's.
    CloseSent,
    /// The peer sent a close; our reply is queued or sent.
    CloseReceived,
    /// Both close frames went; the transport may be closed (a server closes it first).
    Closed,
}

#[derive(Clone, Copy, Debug)]
enum Pending {
    None,
    Pong,
    Close,
}

/// The state of one connection: decoder, send state, close handshake. About 450 bytes.
#[derive(Clone, Debug)]
pub struct Connection<K> {
    role: Role,
    decoder: Decoder,
    keys: K,
    close_sent: bool,
    close_received: bool,
    pending: Pending,
    pending_len: u8,
    pending_buf: [u8; MAX_CONTROL_PAYLOAD],
    /// An outgoing fragmented message is in progress.
    sending: bool,
    stream_left: u64,
    stream_key: Option<[u8; 4]>,
    stream_phase: usize,
}

impl<K: MaskKeySource> Connection<K> {
    /// A connection in `role` with `config`; `keys` supplies masking keys when we mask.
    pub fn new(role: Role, config: Config, keys: K) -> Self {
        Self {
            role,
            decoder: Decoder::new(role, config),
            keys,
            close_sent: false,
            close_received: false,
            pending: Pending::None,
            pending_len: 0,
            pending_buf: [0; MAX_CONTROL_PAYLOAD],
            sending: false,
            stream_left: 0,
            stream_key: None,
            stream_phase: 0,
        }
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        self.decoder.config()
    }

    /// Changes settings (e.g. the RSV bits an extension negotiated).
    pub fn set_config(&mut self, config: Config) {
        self.decoder.set_config(config);
    }

    /// Where the close handshake stands.
    pub fn close_state(&self) -> CloseState {
        match (self.close_sent, self.close_received) {
            (false, false) => CloseState::Open,
            (true, false) => CloseState::CloseSent,
            (false, true) => CloseState::CloseReceived,
            (true, true) => CloseState::Closed,
        }
    }

    /// Whether a control frame waits for [`poll_transmit`](Self::poll_transmit).
    pub fn wants_transmit(&self) -> bool {
        !matches!(self.pending, Pending::None)
    }

    /// Whether our frames are masked.
    pub fn masks_outgoing(&self) -> bool {
        self.decoder.config().masks_outgoing(self.role)
    }

    /// Decodes bytes from the peer (see [`Decoder::decode`]). A ping queues a pong (when
    /// `auto_pong`), a close queues the close reply, and a protocol error queues a close with
    /// the error's code before it is returned.
    pub fn read<'a>(
        &'a mut self,
        input: &'a mut [u8],
    ) -> Result<(usize, Option<Event<'a>>), Error> {
        let auto_pong = self.decoder.config().auto_pong;
        let echo = self.decoder.config().echo_close_code;
        match self.decoder.decode(input) {
            Err(e) => {
                let mut buf = [0u8; MAX_CONTROL_PAYLOAD];
                let n = CloseFrame {
                    code: e.close_code(),
                    reason: e.reason(),
                }
                .emit(&mut buf);
                queue_close(
                    &mut self.pending,
                    &mut self.pending_buf,
                    &mut self.pending_len,
                    &mut self.close_sent,
                    &buf[..n],
                );
                Err(Error::Protocol(e))
            }
            Ok((n, Some(Event::Ping(p)))) => {
                if auto_pong && !self.close_sent && !matches!(self.pending, Pending::Close) {
                    self.pending_buf[..p.len()].copy_from_slice(p);
                    self.pending_len = p.len() as u8;
                    self.pending = Pending::Pong;
                }
                Ok((n, Some(Event::Ping(p))))
            }
            Ok((n, Some(Event::Close(frame)))) => {
                self.close_received = true;
                if !self.close_sent {
                    let code = match frame {
                        Some(f) if echo => f.code,
                        Some(_) => CloseCode::NORMAL,
                        None => CloseCode::NO_STATUS,
                    };
                    let buf = code.0.to_be_bytes();
                    let payload: &[u8] = if code == CloseCode::NO_STATUS {
                        &[]
                    } else {
                        &buf
                    };
                    queue_close(
                        &mut self.pending,
                        &mut self.pending_buf,
                        &mut self.pending_len,
                        &mut self.close_sent,
                        payload,
                    );
                }
                Ok((n, Some(Event::Close(frame))))
            }
            Ok(other) => Ok(other),
        }
    }

    /// Writes the control frame the connection owes (close before pong) into `out`, which
    /// must hold [`CONTROL_FRAME_MAX`] bytes. `None` when nothing is owed.
    pub fn poll_transmit(&mut self, out: &mut [u8]) -> Result<Option<usize>, Error> {
        let opcode = match self.pending {
            Pending::None => return Ok(None),
            Pending::Pong => OpCode::Pong,
            Pending::Close => OpCode::Close,
        };
        let len = self.pending_len as usize;
        let key = self.next_key();
        let n = write_frame(out, opcode, true, 0, &self.pending_buf[..len], key)?;
        self.pending = Pending::None;
        Ok(Some(n))
    }

    /// Queues a close frame (an empty one for `None`); it goes out with the next
    /// [`poll_transmit`](Self::poll_transmit). After this, no data may be sent.
    pub fn close(&mut self, frame: Option<CloseFrame<'_>>) -> Result<(), Error> {
        if self.close_sent {
            return Err(Error::CloseSent);
        }
        let mut buf = [0u8; MAX_CONTROL_PAYLOAD];
        let n = frame.map_or(0, |f| f.emit(&mut buf));
        queue_close(
            &mut self.pending,
            &mut self.pending_buf,
            &mut self.pending_len,
            &mut self.close_sent,
            &buf[..n],
        );
        Ok(())
    }

    /// Writes a ping or pong with `payload` (≤125 bytes) into `out`.
    pub fn encode_control(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        if !matches!(opcode, OpCode::Ping | OpCode::Pong) || payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::InvalidState);
        }
        self.check_open()?;
        let key = self.next_key();
        write_frame(out, opcode, true, 0, payload, key)
    }

    /// Bytes [`encode_message`](Self::encode_message) needs for a `len`-byte payload.
    pub fn encoded_message_len(&self, len: usize) -> usize {
        let frag = self.decoder.config().auto_fragment_size;
        let mask = if self.masks_outgoing() { 4 } else { 0 };
        let hdr = |n: usize| {
            FrameHeader {
                fin: true,
                rsv: 0,
                opcode: OpCode::Text,
                mask: None,
                payload_len: n as u64,
            }
            .encoded_len()
                + mask
        };
        if frag == 0 || len <= frag {
            return hdr(len) + len;
        }
        let full = len / frag;
        let rest = len % frag;
        full * (hdr(frag) + frag) + if rest > 0 { hdr(rest) + rest } else { 0 }
    }

    /// A message is being sent frame by frame (its last frame has not gone out).
    pub fn is_sending(&self) -> bool {
        self.sending || self.stream_left != 0
    }

    /// Writes a whole message, fragmented by `auto_fragment_size`, into `out`. `rsv` is set
    /// on the first frame (an extension's flag). Returns the bytes written.
    pub fn encode_message(
        &mut self,
        kind: MessageKind,
        rsv: u8,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        self.check_open()?;
        if self.sending || self.stream_left != 0 {
            return Err(Error::InvalidState);
        }
        if out.len() < self.encoded_message_len(payload.len()) {
            return Err(Error::BufferTooSmall);
        }
        let frag = match self.decoder.config().auto_fragment_size {
            0 => payload.len().max(1),
            n => n,
        };
        let mut at = 0;
        let mut opcode = kind.opcode();
        let mut rsv = rsv;
        let mut chunks = payload.chunks(frag).peekable();
        if payload.is_empty() {
            let key = self.next_key();
            return write_frame(out, opcode, true, rsv, &[], key);
        }
        while let Some(chunk) = chunks.next() {
            let fin = chunks.peek().is_none();
            let key = self.next_key();
            at += write_frame(&mut out[at..], opcode, fin, rsv, chunk, key)?;
            opcode = OpCode::Continuation;
            rsv = 0;
        }
        Ok(at)
    }

    /// Frame API: writes one frame of a message. The first call of a message uses `kind`'s
    /// opcode, later ones continuation; `fin` ends the message.
    pub fn encode_frame(
        &mut self,
        kind: MessageKind,
        fin: bool,
        rsv: u8,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let (opcode, rsv) = self.next_frame(kind, rsv)?;
        let key = self.next_key();
        let n = write_frame(out, opcode, fin, rsv, payload, key)?;
        self.sending = !fin;
        Ok(n)
    }

    /// Writes the header of a whole, unfragmented, unmasked message whose `len`-byte payload
    /// the caller sends straight from its own buffer (a server's zero-copy send). Refused
    /// like [`encode_message`](Self::encode_message) while another message is being sent,
    /// and when we mask (the payload would need a copy to mask anyway).
    pub fn encode_message_header(
        &mut self,
        kind: MessageKind,
        rsv: u8,
        len: u64,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        if self.sending || self.stream_left != 0 || self.masks_outgoing() {
            return Err(Error::InvalidState);
        }
        let n = self.start_frame(kind, true, rsv, len, out)?;
        self.stream_left = 0;
        Ok(n)
    }

    /// Streaming API: writes the header of a frame whose payload (`len` bytes) follows in
    /// [`frame_data`](Self::frame_data) calls. Message and continuation rules as in
    /// [`encode_frame`](Self::encode_frame).
    pub fn start_frame(
        &mut self,
        kind: MessageKind,
        fin: bool,
        rsv: u8,
        len: u64,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let (opcode, rsv) = self.next_frame(kind, rsv)?;
        let key = self.next_key();
        let h = FrameHeader {
            fin,
            rsv,
            opcode,
            mask: key,
            payload_len: len,
        };
        let n = h.emit(out).ok_or(Error::BufferTooSmall)?;
        self.sending = !fin;
        self.stream_left = len;
        self.stream_key = key;
        self.stream_phase = 0;
        Ok(n)
    }

    /// Streaming API: `chunk` is the next piece of the frame's payload, already placed in
    /// the caller's output; it is masked in place when we mask.
    pub fn frame_data(&mut self, chunk: &mut [u8]) -> Result<(), Error> {
        if chunk.len() as u64 > self.stream_left {
            return Err(Error::InvalidState);
        }
        if let Some(key) = self.stream_key {
            self.stream_phase = apply_mask(chunk, key, self.stream_phase);
        }
        self.stream_left -= chunk.len() as u64;
        Ok(())
    }

    /// Opcode and RSV bits of the next frame of a message being sent: the message's own on
    /// its first frame, continuation and no RSV after; refused mid-stream or after close.
    fn next_frame(&self, kind: MessageKind, rsv: u8) -> Result<(OpCode, u8), Error> {
        self.check_open()?;
        if self.stream_left != 0 {
            return Err(Error::InvalidState);
        }
        Ok(if self.sending {
            (OpCode::Continuation, 0)
        } else {
            (kind.opcode(), rsv)
        })
    }

    fn check_open(&self) -> Result<(), Error> {
        if self.close_sent {
            Err(Error::CloseSent)
        } else {
            Ok(())
        }
    }

    fn next_key(&mut self) -> Option<[u8; 4]> {
        if self.masks_outgoing() {
            Some(self.keys.next_mask_key())
        } else {
            None
        }
    }
}

fn queue_close(
    pending: &mut Pending,
    buf: &mut [u8; MAX_CONTROL_PAYLOAD],
    len: &mut u8,
    close_sent: &mut bool,
    payload: &[u8],
) {
    if *close_sent {
        return;
    }
    buf[..payload.len()].copy_from_slice(payload);
    *len = payload.len() as u8;
    *pending = Pending::Close;
    *close_sent = true;
}

/// Writes a whole frame (header + payload, masked with `key`) into `out`.
pub fn write_frame(
    out: &mut [u8],
    opcode: OpCode,
    fin: bool,
    rsv: u8,
    payload: &[u8],
    key: Option<[u8; 4]>,
) -> Result<usize, Error> {
    let h = FrameHeader {
        fin,
        rsv,
        opcode,
        mask: key,
        payload_len: payload.len() as u64,
    };
    let hl = h.encoded_len();
    let total = hl + payload.len();
    if out.len() < total {
        return Err(Error::BufferTooSmall);
    }
    h.emit(out).ok_or(Error::BufferTooSmall)?;
    let body = &mut out[hl..total];
    body.copy_from_slice(payload);
    if let Some(key) = key {
        apply_mask(body, key, 0);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NoMask;

    fn keys() -> impl FnMut() -> [u8; 4] {
        let mut n = 0u8;
        move || {
            n = n.wrapping_add(1);
            [n, 0x55, n ^ 0xAA, 7]
        }
    }

    #[test]
    fn client_to_server_fragmented_and_close() {
        let cfg = Config {
            auto_fragment_size: 3,
            ..Config::DEFAULT
        };
        let mut client = Connection::new(Role::Client, cfg, keys());
        let mut server = Connection::new(Role::Server, Config::DEFAULT, NoMask);
        let mut wire = [0u8; 256];
        let n = client
            .encode_message(MessageKind::Text, 0, "héllo".as_bytes(), &mut wire)
            .unwrap();
        assert_eq!(n, client.encoded_message_len(6));
        let mut got = [0u8; 16];
        let mut g = 0;
        let mut pos = 0;
        let mut ends = 0;
        while pos < n {
            let (used, ev) = server.read(&mut wire[pos..n]).unwrap();
            pos += used;
            match ev {
                Some(Event::Data(d)) => {
                    got[g..g + d.len()].copy_from_slice(d);
                    g += d.len();
                }
                Some(Event::FrameEnd { message_end: true }) => ends += 1,
                _ => {}
            }
        }
        // The final FrameEnd consumes no bytes.
        let (_, ev) = server.read(&mut []).unwrap();
        if let Some(Event::FrameEnd { message_end: true }) = ev {
            ends += 1;
        }
        assert_eq!(&got[..g], "héllo".as_bytes());
        assert_eq!(ends, 1);

        // Client closes; server echoes; both end Closed.
        client
            .close(Some(CloseFrame {
                code: CloseCode(4001),
                reason: "done",
            }))
            .unwrap();
        assert_eq!(client.close_state(), CloseState::CloseSent);
        assert_eq!(
            client.encode_message(MessageKind::Text, 0, b"x", &mut wire),
            Err(Error::CloseSent)
        );
        let n = client.poll_transmit(&mut wire).unwrap().unwrap();
        let (_, ev) = server.read(&mut wire[..n]).unwrap();
        assert_eq!(
            ev,
            Some(Event::Close(Some(CloseFrame {
                code: CloseCode(4001),
                reason: "done"
            })))
        );
        let n = server.poll_transmit(&mut wire).unwrap().unwrap();
        assert_eq!(&wire[..n], &[0x88, 2, 0x0F, 0xA1]);
        assert_eq!(server.close_state(), CloseState::Closed);
        let (_, ev) = client.read(&mut wire[..n]).unwrap();
        assert!(matches!(ev, Some(Event::Close(_))));
        assert_eq!(client.close_state(), CloseState::Closed);
        assert_eq!(client.poll_transmit(&mut wire), Ok(None));
    }

    #[test]
    fn ping_queues_pong_and_error_queues_close() {
        let mut server = Connection::new(Role::Server, Config::DEFAULT, NoMask);
        let mut wire = [0u8; 64];
        let n = write_frame(&mut wire, OpCode::Ping, true, 0, b"hi", Some([9, 8, 7, 6])).unwrap();
        let (_, ev) = server.read(&mut wire[..n]).unwrap();
        assert_eq!(ev, Some(Event::Ping(b"hi")));
        let n = server.poll_transmit(&mut wire).unwrap().unwrap();
        assert_eq!(&wire[..n], &[0x8A, 2, b'h', b'i']);
        // An unmasked frame from a client is answered with close 1002.
        let n = write_frame(&mut wire, OpCode::Text, true, 0, b"x", None).unwrap();
        assert_eq!(
            server.read(&mut wire[..n]),
            Err(Error::Protocol(ProtocolError::UnmaskedFrame))
        );
        let n = server.poll_transmit(&mut wire).unwrap().unwrap();
        assert_eq!(&wire[..4], &[0x88, (n - 2) as u8, 0x03, 0xEA]);
        assert_eq!(server.close_state(), CloseState::CloseSent);
    }

    #[test]
    fn streaming_send_masks_across_chunks() {
        let mut client = Connection::new(Role::Client, Config::DEFAULT, keys());
        let mut server = Connection::new(Role::Server, Config::DEFAULT, NoMask);
        let mut wire = [0u8; 64];
        let payload = b"streamed payload";
        let mut n = client
            .start_frame(
                MessageKind::Binary,
                true,
                0,
                payload.len() as u64,
                &mut wire,
            )
            .unwrap();
        for chunk in payload.chunks(5) {
            wire[n..n + chunk.len()].copy_from_slice(chunk);
            client.frame_data(&mut wire[n..n + chunk.len()]).unwrap();
            n += chunk.len();
        }
        assert_eq!(client.frame_data(&mut [0]), Err(Error::InvalidState));
        let (h, _) = server.read(&mut wire[..n]).unwrap();
        let (_, ev) = server.read(&mut wire[h..n]).unwrap();
        assert_eq!(ev, Some(Event::Data(&payload[..])));
    }
}
