//! A blocking driver over `embedded-io` `Read + Write`: the same code runs on a UART, a TCP
//! socket (through `embedded-io-adapters`) or a TLS stream, with buffers the caller owns.
//!
//! [`WebSocket`] does the opening handshake in either role and then offers the message API
//! over two caller buffers: `rbuf` for socket reads (frames are unmasked in place there) and
//! `wbuf` for outgoing frames. A message larger than the buffer given to
//! [`read_message`](WebSocket::read_message) closes the connection with 1009.

use embedded_io::{Read, ReadReady, Write};

use crate::close::{CloseCode, CloseFrame};
use crate::config::{Config, MaskKeySource, Role};
use crate::connection::{self, CloseState, Connection};
use crate::decode::{Event, MessageKind};
use crate::handshake::{self, Accept, ClientRequest, HandshakeError};
use crate::Status;

/// Errors of the blocking driver.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The transport failed.
    Io(E),
    /// The transport ended before the close handshake did.
    Eof,
    /// The connection failed (protocol error, send after close, buffer too small).
    Connection(connection::Error),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// A message did not fit the caller's buffer; the connection was closed with 1009.
    MessageTooLarge,
    /// The close handshake completed; the connection is over.
    Closed,
}

impl<E> From<connection::Error> for Error<E> {
    fn from(e: connection::Error) -> Self {
        Self::Connection(e)
    }
}

impl<E> From<HandshakeError> for Error<E> {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

/// A message read into the caller's buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Message<'m> {
    /// A text message.
    Text(&'m str),
    /// A binary message.
    Binary(&'m [u8]),
    /// A ping (the pong already went out when auto-pong is on).
    Ping(&'m [u8]),
    /// A pong.
    Pong(&'m [u8]),
    /// The peer's close (our reply already went out).
    Close(Option<CloseFrame<'m>>),
}

/// A WebSocket connection over an `embedded-io` transport with caller-owned buffers.
pub struct WebSocket<'b, T, K> {
    io: T,
    conn: Connection<K>,
    rbuf: &'b mut [u8],
    rpos: usize,
    rend: usize,
    wbuf: &'b mut [u8],
    /// The data message being assembled (it survives control frames returned meanwhile).
    msg_kind: MessageKind,
    msg_len: usize,
    /// The last control frame's payload (or close reason).
    ctrl: [u8; 125],
    ctrl_len: u8,
}

/// Storage [`WebSocket::read_message`] assembles a message in.
pub trait MessageBuffer {
    /// Writes `data` at offset `at` (everything before `at` is the message so far);
    /// `false` when it does not fit.
    fn put(&mut self, at: usize, data: &[u8]) -> bool;
    /// The first `len` bytes.
    fn get(&self, len: usize) -> &[u8];
}

impl MessageBuffer for [u8] {
    fn put(&mut self, at: usize, data: &[u8]) -> bool {
        match self.get_mut(at..at + data.len()) {
            Some(dst) => {
                dst.copy_from_slice(data);
                true
            }
            None => false,
        }
    }
    fn get(&self, len: usize) -> &[u8] {
        &self[..len]
    }
}

impl<const N: usize> MessageBuffer for [u8; N] {
    fn put(&mut self, at: usize, data: &[u8]) -> bool {
        self.as_mut_slice().put(at, data)
    }
    fn get(&self, len: usize) -> &[u8] {
        &self[..len]
    }
}

/// A growable buffer; the decoder's `max_message_payload` bounds it.
#[cfg(feature = "alloc")]
impl MessageBuffer for alloc::vec::Vec<u8> {
    fn put(&mut self, at: usize, data: &[u8]) -> bool {
        self.truncate(at);
        self.extend_from_slice(data);
        true
    }
    fn get(&self, len: usize) -> &[u8] {
        &self[..len]
    }
}

impl<'b, T: Read + Write, K: MaskKeySource> WebSocket<'b, T, K> {
    /// Client handshake: sends `request`, reads the 101 response. `wbuf` must hold the
    /// request; `rbuf` the response head. Returns the connection and the index of the
    /// chosen subprotocol in `request.protocols`.
    pub fn connect(
        mut io: T,
        request: &ClientRequest<'_>,
        config: Config,
        keys: K,
        rbuf: &'b mut [u8],
        wbuf: &'b mut [u8],
    ) -> Result<(Self, Option<usize>), Error<T::Error>> {
        let n = request.write(wbuf)?;
        io.write_all(&wbuf[..n]).map_err(Error::Io)?;
        io.flush().map_err(Error::Io)?;
        let mut end = 0;
        loop {
            if end == rbuf.len() {
                return Err(HandshakeError::TooLarge.into());
            }
            let n = io.read(&mut rbuf[end..]).map_err(Error::Io)?;
            if n == 0 {
                return Err(Error::Eof);
            }
            end += n;
            let mut storage = [httparse::EMPTY_HEADER; 16];
            if let Status::Complete((resp, used)) =
                handshake::parse_response(&rbuf[..end], &mut storage, request)?
            {
                let proto = resp
                    .protocol
                    .and_then(|p| request.protocols.iter().position(|o| *o == p));
                let conn = Connection::new(Role::Client, config, keys);
                let ws = Self::open(io, conn, rbuf, used..end, wbuf);
                return Ok((ws, proto));
            }
        }
    }

    /// Server handshake: reads the request, answers 101 choosing the first of `protocols`
    /// the client offers (or an HTTP error, then fails). Returns the chosen protocol's
    /// index in `protocols`.
    pub fn accept(
        mut io: T,
        protocols: &[&str],
        server: Option<&str>,
        config: Config,
        keys: K,
        rbuf: &'b mut [u8],
        wbuf: &'b mut [u8],
    ) -> Result<(Self, Option<usize>), Error<T::Error>> {
        let mut end = 0;
        loop {
            if end == rbuf.len() {
                let n = handshake::write_error(wbuf, 431, &[], "")?;
                let _ = io.write_all(&wbuf[..n]);
                return Err(HandshakeError::TooLarge.into());
            }
            let n = io.read(&mut rbuf[end..]).map_err(Error::Io)?;
            if n == 0 {
                return Err(Error::Eof);
            }
            end += n;
            let mut storage = [httparse::EMPTY_HEADER; 16];
            match handshake::parse_request(&rbuf[..end], &mut storage) {
                Ok(Status::Partial) => continue,
                Err(e) => {
                    let n = handshake::write_error(wbuf, e.status(), &[], "")?;
                    let _ = io.write_all(&wbuf[..n]);
                    return Err(e.into());
                }
                Ok(Status::Complete((req, used))) => {
                    let chosen = protocols
                        .iter()
                        .position(|p| req.protocols().any(|o| o == *p));
                    let accept = req.accept();
                    let n = handshake::write_accept(
                        wbuf,
                        &accept,
                        &Accept {
                            protocol: chosen.map(|i| protocols[i]),
                            server,
                            ..Accept::default()
                        },
                    )?;
                    io.write_all(&wbuf[..n]).map_err(Error::Io)?;
                    io.flush().map_err(Error::Io)?;
                    let conn = Connection::new(Role::Server, config, keys);
                    let ws = Self::open(io, conn, rbuf, used..end, wbuf);
                    return Ok((ws, chosen));
                }
            }
        }
    }

    /// A connection whose handshake is done; `rbuf[frames]` holds bytes already read.
    fn open(
        io: T,
        conn: Connection<K>,
        rbuf: &'b mut [u8],
        frames: core::ops::Range<usize>,
        wbuf: &'b mut [u8],
    ) -> Self {
        Self {
            io,
            conn,
            rbuf,
            rpos: frames.start,
            rend: frames.end,
            wbuf,
            msg_kind: MessageKind::Binary,
            msg_len: 0,
            ctrl: [0; 125],
            ctrl_len: 0,
        }
    }

    /// Sends a whole message (fragmented by `auto_fragment_size`); `wbuf` must hold it.
    pub fn send(&mut self, kind: MessageKind, payload: &[u8]) -> Result<(), Error<T::Error>> {
        let n = self.conn.encode_message(kind, 0, payload, self.wbuf)?;
        self.io.write_all(&self.wbuf[..n]).map_err(Error::Io)?;
        self.io.flush().map_err(Error::Io)
    }

    /// Sends a ping.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error<T::Error>> {
        let n = self
            .conn
            .encode_control(crate::OpCode::Ping, payload, self.wbuf)?;
        self.io.write_all(&self.wbuf[..n]).map_err(Error::Io)?;
        self.io.flush().map_err(Error::Io)
    }

    /// Starts the close handshake; keep calling [`read_message`](Self::read_message) until
    /// it returns the peer's close.
    pub fn close(&mut self, frame: Option<CloseFrame<'_>>) -> Result<(), Error<T::Error>> {
        self.conn.close(frame)?;
        self.transmit()
    }

    /// Where the close handshake stands.
    pub fn close_state(&self) -> CloseState {
        self.conn.close_state()
    }

    /// Bytes of the peer are buffered or waiting, so [`read_message`](Self::read_message)
    /// will not wait for it to send: a device with other work between messages polls this.
    /// Once a frame has begun, `read_message` still waits for the rest of it.
    pub fn ready(&mut self) -> Result<bool, Error<T::Error>>
    where
        T: ReadReady,
    {
        Ok(self.rpos < self.rend || self.io.read_ready().map_err(Error::Io)?)
    }

    /// Gives the transport back.
    pub fn into_inner(self) -> T {
        self.io
    }

    fn transmit(&mut self) -> Result<(), Error<T::Error>> {
        if let Some(n) = self.conn.poll_transmit(self.wbuf)? {
            self.io.write_all(&self.wbuf[..n]).map_err(Error::Io)?;
            self.io.flush().map_err(Error::Io)?;
        }
        Ok(())
    }

    /// Reads the next message (or control frame) into `msg`: a fixed `[u8]` (a message
    /// that does not fit closes the connection with 1009) or, with `alloc`, a `Vec<u8>`
    /// that grows up to `max_message_payload`. Control frames that arrive between the
    /// fragments of a message are returned at once; the message resumes with the next call.
    pub fn read_message<'a, B: MessageBuffer + ?Sized>(
        &'a mut self,
        msg: &'a mut B,
    ) -> Result<Message<'a>, Error<T::Error>> {
        if self.conn.close_state() == CloseState::Closed {
            return Err(Error::Closed);
        }
        loop {
            let r = self.conn.read(&mut self.rbuf[self.rpos..self.rend]);
            let (n, ev) = match r {
                Ok(x) => x,
                Err(e) => {
                    self.transmit()?;
                    return Err(e.into());
                }
            };
            self.rpos += n;
            let had_event = ev.is_some();
            let mut too_large = false;
            // What to return, as a tag, so the borrow of the read buffer ends here.
            let mut done: Option<(u8, u16)> = None;
            match ev {
                None => {}
                Some(Event::FrameStart {
                    kind,
                    message_start: true,
                    ..
                }) => {
                    self.msg_kind = kind;
                    self.msg_len = 0;
                }
                Some(Event::FrameStart { .. }) => {}
                Some(Event::Data(d)) => {
                    if msg.put(self.msg_len, d) {
                        self.msg_len += d.len();
                    } else {
                        too_large = true;
                    }
                }
                Some(Event::FrameEnd { message_end: true }) => done = Some((0, 0)),
                Some(Event::FrameEnd { .. }) => {}
                Some(Event::Ping(p)) => {
                    self.ctrl[..p.len()].copy_from_slice(p);
                    self.ctrl_len = p.len() as u8;
                    done = Some((1, 0));
                }
                Some(Event::Pong(p)) => {
                    self.ctrl[..p.len()].copy_from_slice(p);
                    self.ctrl_len = p.len() as u8;
                    done = Some((2, 0));
                }
                Some(Event::Close(f)) => {
                    let (code, reason) =
                        f.map_or((0, &[][..]), |f| (f.code.0, f.reason.as_bytes()));
                    self.ctrl[..reason.len()].copy_from_slice(reason);
                    self.ctrl_len = reason.len() as u8;
                    done = Some((3, code));
                }
            }
            if too_large {
                let _ = self.conn.close(Some(CloseFrame {
                    code: CloseCode::MESSAGE_TOO_BIG,
                    reason: "message too large",
                }));
                self.transmit()?;
                return Err(Error::MessageTooLarge);
            }
            self.transmit()?;
            if let Some((tag, code)) = done {
                let ctrl = &self.ctrl[..self.ctrl_len as usize];
                return Ok(match tag {
                    0 => {
                        let m = msg.get(self.msg_len);
                        self.msg_len = 0;
                        match self.msg_kind {
                            // Validated as it arrived; this check cannot fail.
                            MessageKind::Text => {
                                Message::Text(crate::utf8::from_utf8(m).map_err(|_| {
                                    connection::Error::Protocol(crate::ProtocolError::InvalidUtf8)
                                })?)
                            }
                            MessageKind::Binary => Message::Binary(m),
                        }
                    }
                    1 => Message::Ping(ctrl),
                    2 => Message::Pong(ctrl),
                    _ => Message::Close((code != 0).then(|| CloseFrame {
                        code: CloseCode(code),
                        reason: crate::utf8::from_utf8(ctrl).unwrap_or(""),
                    })),
                });
            }
            if !had_event && self.rpos == self.rend {
                self.fill()?;
            }
        }
    }

    fn fill(&mut self) -> Result<(), Error<T::Error>> {
        if self.rpos == self.rend {
            self.rpos = 0;
            self.rend = 0;
        } else if self.rend == self.rbuf.len() {
            self.rbuf.copy_within(self.rpos..self.rend, 0);
            self.rend -= self.rpos;
            self.rpos = 0;
        }
        let n = self
            .io
            .read(&mut self.rbuf[self.rend..])
            .map_err(Error::Io)?;
        if n == 0 {
            return Err(Error::Eof);
        }
        self.rend += n;
        Ok(())
    }
}
