//! Batched transports (`wamp.2.*.batched`): several messages in one WebSocket message.
//!
//! MessagePack, CBOR and UBJSON put a 4-byte big-endian length before each message. JSON
//! ends each message with a separator byte: the spec's text says 0x1E, while Autobahn|Python
//! (and so Crossbar.io) write and split on 0x18 (its source has `'\30'`, an octal escape).
//! Neither byte can appear raw inside JSON text, so we split on both and write 0x18 unless
//! told otherwise ([`JsonSeparator`]).

use super::error::{Error, ErrorKind};
use super::message::Message;
use super::out::{CountOut, Out};
use super::value::Format;

/// The byte written after each batched JSON message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JsonSeparator {
    /// 0x18, what Autobahn|Python and Crossbar.io write and read.
    #[default]
    Autobahn,
    /// 0x1E, the spec text's record separator.
    Spec,
}

impl JsonSeparator {
    /// The byte.
    pub fn byte(self) -> u8 {
        match self {
            JsonSeparator::Autobahn => 0x18,
            JsonSeparator::Spec => 0x1E,
        }
    }
}

/// The messages of one batched WebSocket message, as byte slices to decode.
pub fn split(format: Format, batch: &[u8]) -> Split<'_> {
    Split {
        format,
        rest: batch,
    }
}

/// Iterator of [`split`].
#[derive(Debug)]
pub struct Split<'a> {
    format: Format,
    rest: &'a [u8],
}

impl<'a> Iterator for Split<'a> {
    type Item = Result<&'a [u8], Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        if self.format == Format::Json {
            let end = self.rest.iter().position(|&b| b == 0x18 || b == 0x1E);
            let (msg, rest) = match end {
                Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
                // A last message without its separator is accepted.
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            return Some(Ok(msg));
        }
        let Some(h) = self.rest.get(..4) else {
            self.rest = &[];
            return Some(Err(Error::truncated()));
        };
        let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
        match self.rest.get(4..4 + len) {
            Some(msg) => {
                self.rest = &self.rest[4 + len..];
                Some(Ok(msg))
            }
            None => {
                self.rest = &[];
                Some(Err(Error::new(
                    ErrorKind::Truncated,
                    "a batched message of its length",
                )))
            }
        }
    }
}

/// Appends `msg` to a batch in `format`.
pub fn encode<O: Out + ?Sized>(
    msg: &Message<'_>,
    format: Format,
    sep: JsonSeparator,
    out: &mut O,
) -> Result<(), Error> {
    if format == Format::Json {
        msg.encode(format, out)?;
        return out.put(&[sep.byte()]);
    }
    let mut count = CountOut::default();
    msg.encode(format, &mut count)?;
    let len = u32::try_from(count.0)
        .map_err(|_| Error::new(ErrorKind::OutOfRange, "a message below 4 GiB"))?;
    out.put(&len.to_be_bytes())?;
    msg.encode(format, out)
}

/// Appends one already-serialized message to a batch in `format` (what a router does with
/// the bytes it routes).
pub fn encode_bytes<O: Out + ?Sized>(
    bytes: &[u8],
    format: Format,
    sep: JsonSeparator,
    out: &mut O,
) -> Result<(), Error> {
    if format == Format::Json {
        out.put(bytes)?;
        return out.put(&[sep.byte()]);
    }
    let len = u32::try_from(bytes.len())
        .map_err(|_| Error::new(ErrorKind::OutOfRange, "a message below 4 GiB"))?;
    out.put(&len.to_be_bytes())?;
    out.put(bytes)
}

#[cfg(test)]
mod tests {
    use super::super::message::Ack;
    use super::super::out::SliceOut;
    use super::*;

    #[test]
    fn round_trip_every_format() {
        let msgs = [
            Message::Published(Ack { request: 1, id: 2 }),
            Message::Registered(Ack { request: 3, id: 4 }),
        ];
        for format in Format::ALL.into_iter().filter(|f| f.enabled()) {
            for sep in [JsonSeparator::Autobahn, JsonSeparator::Spec] {
                let mut buf = [0u8; 64];
                let mut out = SliceOut::new(&mut buf);
                for m in &msgs {
                    encode(m, format, sep, &mut out).unwrap();
                }
                let got: [Message<'_>; 2] = {
                    let mut it = split(format, out.as_slice())
                        .map(|b| Message::decode(format, b.unwrap()).unwrap());
                    [it.next().unwrap(), it.next().unwrap()]
                };
                assert_eq!(got, msgs, "{format}");
            }
        }
        let both = b"[17,1,2]\x18[65,3,4]\x1e";
        assert_eq!(split(Format::Json, both).count(), 2);
        assert!(split(Format::Cbor, &[0, 0, 0, 9, 1])
            .next()
            .unwrap()
            .is_err());
    }
}
