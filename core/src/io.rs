//! A blocking driver over `embedded-io` `Read + Write`: the same code runs on a UART, a TCP
//! socket (through `embedded-io-adapters`) or a TLS stream, with buffers the caller owns.
//!
//! [`WebSocket`] does the opening handshake in either role and then offers the message API
//! over two caller buffers: `rbuf` for socket reads (frames are unmasked in place there) and
//! `wbuf` for outgoing frames. A message larger than the buffer given to
//! [`read_message`](WebSocket::read_message) closes the connection with 1009.

use embedded_io::{Read, Write};

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
                let ws = Self {
                    io,
                    conn: Connection::new(Role::Client, config, keys),
                    rbuf,
                    rpos: used,
                    rend: end,
                    wbuf,
                };
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
                    let ws = Self {
                        io,
                        conn: Connection::new(Role::Server, config, keys),
                        rbuf,
                        rpos: used,
                        rend: end,
                        wbuf,
                    };
                    return Ok((ws, chosen));
                }
            }
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

    /// Reads the next message (or control frame) into `msg`.
    pub fn read_message<'m>(&mut self, msg: &'m mut [u8]) -> Result<Message<'m>, Error<T::Error>> {
        if self.conn.close_state() == CloseState::Closed {
            return Err(Error::Closed);
        }
        let mut len = 0;
        let mut kind = MessageKind::Binary;
        let mut too_large = false;
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
            // What to return, as (tag, length in msg) so the borrow of rbuf ends here.
            let mut done: Option<(u8, usize, u16)> = None;
            match ev {
                None => {}
                Some(Event::FrameStart {
                    kind: k,
                    message_start: true,
                    ..
                }) => {
                    kind = k;
                    len = 0;
                }
                Some(Event::FrameStart { .. }) => {}
                Some(Event::Data(d)) => {
                    if len + d.len() > msg.len() {
                        too_large = true;
                    } else {
                        msg[len..len + d.len()].copy_from_slice(d);
                        len += d.len();
                    }
                }
                Some(Event::FrameEnd { message_end: true }) => done = Some((0, len, 0)),
                Some(Event::FrameEnd { .. }) => {}
                Some(Event::Ping(p)) | Some(Event::Pong(p)) if p.len() > msg.len() => {
                    too_large = true
                }
                Some(Event::Ping(p)) => {
                    msg[..p.len()].copy_from_slice(p);
                    done = Some((1, p.len(), 0));
                }
                Some(Event::Pong(p)) => {
                    msg[..p.len()].copy_from_slice(p);
                    done = Some((2, p.len(), 0));
                }
                Some(Event::Close(f)) => {
                    let (code, reason) =
                        f.map_or((0, &[][..]), |f| (f.code.0, f.reason.as_bytes()));
                    let r = reason.len().min(msg.len());
                    msg[..r].copy_from_slice(&reason[..r]);
                    done = Some((3, r, code));
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
            if let Some((tag, n, code)) = done {
                let m: &'m [u8] = &msg[..n];
                return Ok(match tag {
                    0 if kind == MessageKind::Text => {
                        // Validated as it arrived; this check cannot fail.
                        Message::Text(crate::utf8::from_utf8(m).map_err(|_| {
                            connection::Error::Protocol(crate::ProtocolError::InvalidUtf8)
                        })?)
                    }
                    0 => Message::Binary(m),
                    1 => Message::Ping(m),
                    2 => Message::Pong(m),
                    _ => Message::Close((code != 0).then(|| CloseFrame {
                        code: CloseCode(code),
                        reason: crate::utf8::from_utf8(m).unwrap_or(""),
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
