//! A blocking RawSocket client link over any `embedded-io` stream, in caller-owned buffers:
//! what a device without a heap runs its [`Session`](super::session::Session) over (a
//! UART, a TCP socket of an embedded network stack, an in-memory pipe in tests).
//!
//! ```text
//!   connect: 0x7F handshake ─▶ agreed serializer and the router's maximum length
//!   send(message bytes) ─▶ 4-byte header + payload ─▶ stream
//!   recv() ◀─ one message frame, read into the receive buffer (pings answered here)
//! ```
//!
//! The receive buffer bounds what we accept: its size, rounded down to a RawSocket length
//! (2^(9+n) bytes), is the maximum announced in the handshake, so the router never sends
//! more than fits.

use embedded_io::{Read, ReadReady, Write};

use super::rawsocket::{self, FrameKind, Hello};
use super::serializer::Serializer;
use super::value::Format;

/// Why the link failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum LinkError<E> {
    /// The stream failed.
    Io(E),
    /// The stream ended.
    Closed,
    /// The router refused the handshake or broke RawSocket framing.
    Protocol(&'static str),
    /// The receive buffer is smaller than the smallest RawSocket maximum (512 bytes).
    BufferTooSmall,
}

impl<E> From<E> for LinkError<E> {
    fn from(e: E) -> Self {
        LinkError::Io(e)
    }
}

fn read_full<S: Read>(s: &mut S, buf: &mut [u8]) -> Result<(), LinkError<S::Error>> {
    let mut at = 0;
    while at < buf.len() {
        match s.read(&mut buf[at..])? {
            0 => return Err(LinkError::Closed),
            n => at += n,
        }
    }
    Ok(())
}

/// A RawSocket client link (see the module docs).
pub struct RawSocketLink<'b, S> {
    stream: S,
    rx: &'b mut [u8],
    ours: Hello,
    peer_max: u32,
    pings: u32,
}

impl<'b, S: Read + Write> RawSocketLink<'b, S> {
    /// Performs the client handshake for a serializer (a [`Format`], or
    /// [`Serializer::FlatBuffers`]); `rx` is the receive buffer (at least 512 bytes).
    pub fn connect(
        mut stream: S,
        serializer: impl Into<Serializer>,
        rx: &'b mut [u8],
    ) -> Result<Self, LinkError<S::Error>> {
        let serializer = serializer.into();
        let len = u32::try_from(rx.len()).unwrap_or(u32::MAX);
        if len < 512 {
            return Err(LinkError::BufferTooSmall);
        }
        // The largest 2^(9+n) that fits.
        let exp = (0..=rawsocket::MAX_LEN_EXP)
            .rev()
            .find(|e| (1u32 << (9 + *e as u32)) <= len)
            .unwrap_or(0);
        let ours = Hello {
            max_len_exp: exp,
            serializer,
        };
        stream.write_all(&ours.encode())?;
        stream.flush()?;
        let mut reply = [0u8; 4];
        read_full(&mut stream, &mut reply)?;
        let theirs = rawsocket::client_handshake(ours, reply)
            .map_err(|_| LinkError::Protocol("RawSocket handshake refused"))?;
        Ok(Self {
            stream,
            rx,
            ours,
            peer_max: theirs.max_len(),
            pings: 0,
        })
    }

    /// The router's pings answered so far (a router pings to find dead peers).
    pub fn pings_answered(&self) -> u32 {
        self.pings
    }

    /// The format of the values in messages: the serializer's own, or CBOR under
    /// FlatBuffers ([`Serializer::payload_format`]).
    pub fn format(&self) -> Format {
        self.ours.serializer.payload_format()
    }

    /// The serializer agreed.
    pub fn serializer(&self) -> Serializer {
        self.ours.serializer
    }

    /// Sends one WAMP message.
    pub fn send(&mut self, message: &[u8]) -> Result<(), LinkError<S::Error>> {
        self.frame(FrameKind::Message, message)
    }

    fn frame(&mut self, kind: FrameKind, payload: &[u8]) -> Result<(), LinkError<S::Error>> {
        let h = rawsocket::header(kind, payload.len(), self.peer_max)
            .map_err(|_| LinkError::Protocol("message longer than the router accepts"))?;
        self.stream.write_all(&h)?;
        self.stream.write_all(payload)?;
        self.stream.flush()?;
        Ok(())
    }

    /// Receives the next WAMP message into the receive buffer; pings are answered on the
    /// way.
    pub fn recv(&mut self) -> Result<&[u8], LinkError<S::Error>> {
        loop {
            if let Some(n) = self.frame_in()? {
                return Ok(&self.rx[..n]);
            }
        }
    }

    /// Receives one frame: `Some` WAMP message, or `None` after a ping (answered) or a
    /// pong. With [`ready`](Self::ready), lets a device get back to its own work after a
    /// ping instead of waiting in [`recv`](Self::recv) for the router's next message.
    pub fn recv_frame(&mut self) -> Result<Option<&[u8]>, LinkError<S::Error>> {
        Ok(self.frame_in()?.map(|n| &self.rx[..n]))
    }

    /// Reads one frame; a message's length, or `None` for a control frame (handled).
    fn frame_in(&mut self) -> Result<Option<usize>, LinkError<S::Error>> {
        let mut h = [0u8; 4];
        read_full(&mut self.stream, &mut h)?;
        let (kind, len) = rawsocket::parse_header(h, self.ours.max_len())
            .map_err(|_| LinkError::Protocol("bad RawSocket frame header"))?;
        let len = len as usize;
        if len > self.rx.len() {
            return Err(LinkError::Protocol("frame longer than announced"));
        }
        read_full(&mut self.stream, &mut self.rx[..len])?;
        match kind {
            FrameKind::Message => return Ok(Some(len)),
            FrameKind::Ping => {
                let h = rawsocket::header(FrameKind::Pong, len, self.peer_max)
                    .map_err(|_| LinkError::Protocol("ping longer than the router accepts"))?;
                self.stream.write_all(&h)?;
                self.stream.write_all(&self.rx[..len])?;
                self.stream.flush()?;
                self.pings = self.pings.wrapping_add(1);
            }
            FrameKind::Pong => {}
        }
        Ok(None)
    }

    /// Bytes from the router are waiting, so [`recv`](Self::recv) will not wait for it to
    /// send: a device with other work between messages (a timer, a sensor) polls this
    /// instead of blocking in `recv`. Once a frame has begun, `recv` still waits for the
    /// rest of it.
    pub fn ready(&mut self) -> Result<bool, LinkError<S::Error>>
    where
        S: ReadReady,
    {
        Ok(self.stream.read_ready()?)
    }

    /// The stream back.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A router's side replayed from a buffer; what the device writes is kept.
    struct Scripted {
        input: [u8; 64],
        len: usize,
        at: usize,
        written: [u8; 64],
        wlen: usize,
    }

    impl embedded_io::ErrorType for Scripted {
        type Error = core::convert::Infallible;
    }

    impl Read for Scripted {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            // One byte at a time, as a UART delivers it.
            if self.at == self.len || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.input[self.at];
            self.at += 1;
            Ok(1)
        }
    }

    impl ReadReady for Scripted {
        fn read_ready(&mut self) -> Result<bool, Self::Error> {
            Ok(self.at < self.len)
        }
    }

    impl Write for Scripted {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            let n = buf.len().min(self.written.len() - self.wlen);
            self.written[self.wlen..self.wlen + n].copy_from_slice(&buf[..n]);
            self.wlen += n;
            Ok(n)
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    #[test]
    fn pings_are_answered_and_ready_tells_whether_the_router_sent_anything() {
        let mut s = Scripted {
            input: [0; 64],
            len: 0,
            at: 0,
            written: [0; 64],
            wlen: 0,
        };
        // The router's handshake reply (JSON, 2^9 bytes), a ping "abc", a message "[1]".
        let script: &[u8] = &[
            0x7F, 0x01, 0, 0, 1, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 3, b'[', b'1', b']',
        ];
        s.input[..script.len()].copy_from_slice(script);
        s.len = 4;
        let mut rx = [0u8; 512];
        let mut link = RawSocketLink::connect(s, Format::Json, &mut rx).unwrap();
        assert!(
            !link.ready().unwrap(),
            "nothing sent after the handshake yet"
        );
        link.stream.len = script.len();
        assert!(link.ready().unwrap());
        assert_eq!(link.recv_frame().unwrap(), None, "the ping, answered");
        assert!(link.ready().unwrap());
        assert_eq!(link.recv().unwrap(), b"[1]");
        assert!(!link.ready().unwrap());
        assert_eq!(link.pings_answered(), 1);
        let s = link.into_inner();
        // Our handshake (JSON, 512-byte maximum), then the pong with the ping's payload.
        assert_eq!(
            &s.written[..s.wlen],
            &[0x7F, 0x01, 0, 0, 2, 0, 0, 3, b'a', b'b', b'c']
        );
    }
}
