//! permessage-bzip2 (as Autobahn defines it): every message is one complete bzip2 stream;
//! the parameters bound the compression level (1..=9) each side uses.
//!
//! Offer: `client_max_compress_level` (bare: the client lets the server bound its level) and
//! `server_max_compress_level=N` (the client bounds the server's). Response:
//! `server_max_compress_level=N` echoes the client's bound, `client_max_compress_level=M`
//! bounds the client (only when it allowed that). A side without a bound compresses at its
//! own level (Autobahn: 9). Autobahn reads a bare `client_max_compress_level` in a response
//! as level 1 (`int(True)`); we never send one and refuse one.
//!
//! Memory: bzip2 works in blocks of 100 KiB × level; the compressor holds about 8× a block,
//! the decompressor about 4×. Both live only while a message is being (de)compressed.

use core::fmt::Write;

use bzip2::{Action, Compress, Decompress, Status};
use ferrobahn_core::deflate::NegotiationError;
use ferrobahn_core::handshake::ExtensionOffer;

use super::{decode_stream, end_stream, DecompressError, Step};

/// The extension token.
pub const NAME: &str = "permessage-bzip2";

/// What both ends agreed on: the bounds (0: none, the sender's own level).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bzip2Params {
    /// The server compresses at most at this level.
    pub server_max_compress_level: u8,
    /// The client compresses at most at this level.
    pub client_max_compress_level: u8,
}

/// A client's offer (Autobahn's `PerMessageBzip2Offer`) and its own level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bzip2Offer {
    /// Let the server bound our level (`client_max_compress_level`).
    pub accept_max_compress_level: bool,
    /// Bound the server's level (`server_max_compress_level=N`; 0: no bound).
    pub request_max_compress_level: u8,
    /// The level we compress at (1..=9), lowered to the server's bound.
    pub level: u8,
}

impl Default for Bzip2Offer {
    fn default() -> Self {
        Self {
            accept_max_compress_level: true,
            request_max_compress_level: 0,
            level: 9,
        }
    }
}

/// A server's policy (Autobahn's `PerMessageBzip2OfferAccept`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bzip2Accept {
    /// Bound the client's level (0: no bound; only when its offer allows it).
    pub request_max_compress_level: u8,
    /// The level we compress at (1..=9), lowered to the client's bound.
    pub level: u8,
}

impl Default for Bzip2Accept {
    fn default() -> Self {
        Self {
            request_max_compress_level: 0,
            level: 9,
        }
    }
}

/// A level parameter's value: one digit 1..=9.
fn level(v: Option<&str>) -> Result<u8, NegotiationError> {
    match v.map(str::as_bytes) {
        Some([d @ b'1'..=b'9']) => Ok(d - b'0'),
        _ => Err(NegotiationError::InvalidValue),
    }
}

/// The parameters of an offer or response: (client_max_compress_level, server_…), where a
/// bare client parameter (offer only) reads as `Some(0)`.
fn params(
    ext: &ExtensionOffer<'_>,
    bare_client_ok: bool,
) -> Result<(Option<u8>, Option<u8>), NegotiationError> {
    let (mut client, mut server) = (None, None);
    for p in ext.params() {
        let (name, value) = p.map_err(|_| NegotiationError::Malformed)?;
        let (slot, v) = match name {
            "client_max_compress_level" if bare_client_ok => {
                if value.is_some() {
                    return Err(NegotiationError::InvalidValue);
                }
                (&mut client, 0)
            }
            "client_max_compress_level" => (&mut client, level(value)?),
            "server_max_compress_level" => (&mut server, level(value)?),
            _ => return Err(NegotiationError::UnknownParameter),
        };
        if slot.replace(v).is_some() {
            return Err(NegotiationError::DuplicateParameter);
        }
    }
    Ok((client, server))
}

/// A bound applied to a level (0: no bound).
fn bounded(level: u8, bound: u8) -> u8 {
    let level = level.clamp(1, 9);
    if bound == 0 {
        level
    } else {
        level.min(bound)
    }
}

impl Bzip2Offer {
    /// Reads a client's offer (server side); `level` is left at its default.
    pub fn parse(ext: &ExtensionOffer<'_>) -> Result<Self, NegotiationError> {
        let (client, server) = params(ext, true)?;
        Ok(Self {
            accept_max_compress_level: client.is_some(),
            request_max_compress_level: server.unwrap_or(0),
            ..Self::default()
        })
    }

    /// Writes this offer as one element of a `Sec-WebSocket-Extensions` value.
    pub fn write(&self, out: &mut impl Write) -> core::fmt::Result {
        out.write_str(NAME)?;
        if self.accept_max_compress_level {
            out.write_str("; client_max_compress_level")?;
        }
        if self.request_max_compress_level != 0 {
            write!(
                out,
                "; server_max_compress_level={}",
                self.request_max_compress_level
            )?;
        }
        Ok(())
    }

    /// Checks a server's response (client side); returns the agreed bounds and our level.
    pub fn accept_response(
        &self,
        response: &ExtensionOffer<'_>,
    ) -> Result<(Bzip2Params, u8), NegotiationError> {
        let (client, server) = params(response, false)?;
        let client = client.unwrap_or(0);
        let server = server.unwrap_or(0);
        if (client != 0 && !self.accept_max_compress_level)
            || (self.request_max_compress_level != 0 && server != self.request_max_compress_level)
        {
            return Err(NegotiationError::NotOffered);
        }
        let params = Bzip2Params {
            server_max_compress_level: server,
            client_max_compress_level: client,
        };
        Ok((params, bounded(self.level, client)))
    }
}

impl Bzip2Accept {
    /// The bounds this policy agrees to for `offer`, and the level we will use.
    pub fn accept(&self, offer: &Bzip2Offer) -> (Bzip2Params, u8) {
        let client = if offer.accept_max_compress_level {
            self.request_max_compress_level.min(9)
        } else {
            0
        };
        let params = Bzip2Params {
            server_max_compress_level: offer.request_max_compress_level,
            client_max_compress_level: client,
        };
        (
            params,
            bounded(self.level, offer.request_max_compress_level),
        )
    }

    /// Writes the response for agreed `params`.
    pub fn response(params: &Bzip2Params, out: &mut impl Write) -> core::fmt::Result {
        out.write_str(NAME)?;
        if params.server_max_compress_level != 0 {
            write!(
                out,
                "; server_max_compress_level={}",
                params.server_max_compress_level
            )?;
        }
        if params.client_max_compress_level != 0 {
            write!(
                out,
                "; client_max_compress_level={}",
                params.client_max_compress_level
            )?;
        }
        Ok(())
    }
}

/// The per-connection bzip2 state: a compressor or decompressor exists only during a
/// message (each message is its own stream).
pub(crate) struct Codec {
    level: u8,
    tx: Option<Box<Compress>>,
    rx: Option<Box<Decompress>>,
    rx_done: bool,
}

impl Codec {
    pub(crate) fn new(level: u8) -> Self {
        Self {
            level: level.clamp(1, 9),
            tx: None,
            rx: None,
            rx_done: false,
        }
    }

    /// Our level.
    pub(crate) fn level(&self) -> u8 {
        self.level
    }

    /// Compresses a whole message into one stream. The level is bzip2's block size (100 KB
    /// per step): a message that fits a smaller block gets that block and the same output
    /// but for the header digit, without setting up (and zeroing) ~8 MB of level-9 state,
    /// and the peer's decompressor allocates for the small block too.
    pub(crate) fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let fits = payload.len().div_ceil(100_000).clamp(1, 9) as u8;
        self.start(self.level.min(fits));
        self.compress_part(payload, out, true);
    }

    fn start(&mut self, level: u8) {
        self.tx = Some(Box::new(Compress::new(
            bzip2::Compression::new(u32::from(level)),
            30,
        )));
    }

    /// Compresses the next part of a message; `fin` ends its stream.
    pub(crate) fn compress_part(&mut self, mut input: &[u8], out: &mut Vec<u8>, fin: bool) {
        let level = self.level;
        let c = self.tx.get_or_insert_with(|| {
            Box::new(Compress::new(bzip2::Compression::new(u32::from(level)), 30))
        });
        let action = if fin { Action::Finish } else { Action::Run };
        loop {
            let at = out.len();
            let room = input.len() / 2 + 4096;
            out.resize(at + room, 0);
            let (in0, out0) = (c.total_in(), c.total_out());
            let r = c.compress(input, &mut out[at..], action);
            let (used, made) = (
                (c.total_in() - in0) as usize,
                (c.total_out() - out0) as usize,
            );
            out.truncate(at + made);
            input = &input[used..];
            match r {
                Ok(Status::StreamEnd) => {
                    self.tx = None;
                    return;
                }
                Ok(_) if !fin && input.is_empty() => return,
                Ok(_) => {}
                // A sequence error cannot happen on this path; start afresh if it does.
                Err(_) => {
                    self.tx = None;
                    return;
                }
            }
        }
    }

    /// Decompresses a piece of a message onto `out`, failing once `out` would pass `limit`.
    pub(crate) fn decompress(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DecompressError> {
        let d = self
            .rx
            .get_or_insert_with(|| Box::new(Decompress::new(false)));
        decode_stream(&mut self.rx_done, input, out, limit, |input, room| {
            let (in0, out0) = (d.total_in(), d.total_out());
            let r = d.decompress(input, room);
            let used = (d.total_in() - in0) as usize;
            let made = (d.total_out() - out0) as usize;
            match r {
                Ok(status) => Ok(Step {
                    used,
                    made,
                    end: status == Status::StreamEnd,
                    more_output: made == room.len(),
                }),
                Err(_) => Err(DecompressError::Corrupt),
            }
        })
    }

    /// Ends a message: its stream must be complete.
    pub(crate) fn finish(&mut self) -> Result<(), DecompressError> {
        end_stream(&mut self.rx_done, &mut self.rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrobahn_core::handshake::extensions;

    fn one(v: &str) -> ExtensionOffer<'_> {
        extensions(v.as_bytes()).next().unwrap().unwrap()
    }

    #[test]
    fn negotiation_bounds_levels_both_ways() {
        let offer = Bzip2Offer {
            accept_max_compress_level: true,
            request_max_compress_level: 3,
            level: 9,
        };
        let mut s = String::new();
        offer.write(&mut s).unwrap();
        assert_eq!(
            s,
            "permessage-bzip2; client_max_compress_level; server_max_compress_level=3"
        );
        let parsed = Bzip2Offer::parse(&one(&s)).unwrap();
        let policy = Bzip2Accept {
            request_max_compress_level: 2,
            level: 9,
        };
        let (params, server_level) = policy.accept(&parsed);
        assert_eq!(server_level, 3, "the client bounded us to 3");
        let mut r = String::new();
        Bzip2Accept::response(&params, &mut r).unwrap();
        assert_eq!(
            r,
            "permessage-bzip2; server_max_compress_level=3; client_max_compress_level=2"
        );
        assert_eq!(offer.accept_response(&one(&r)), Ok((params, 2)));
        // Bare or out-of-range values in a response, a bound the client did not allow, or a
        // missing echo of our request: the handshake fails.
        for bad in [
            "permessage-bzip2; server_max_compress_level=3; client_max_compress_level",
            "permessage-bzip2; server_max_compress_level=0",
            "permessage-bzip2; server_max_compress_level=10",
            "permessage-bzip2",
        ] {
            assert!(offer.accept_response(&one(bad)).is_err(), "{bad}");
        }
        let shy = Bzip2Offer {
            accept_max_compress_level: false,
            ..Bzip2Offer::default()
        };
        assert!(shy
            .accept_response(&one("permessage-bzip2; client_max_compress_level=1"))
            .is_err());
    }

    #[test]
    fn messages_round_trip_and_bombs_are_refused() {
        let mut tx = Codec::new(9);
        let mut rx = Codec::new(9);
        let text: Vec<u8> = (0..30_000u32)
            .flat_map(|i| format!("[{i},\"x\"]").into_bytes())
            .collect();
        for msg in [&b""[..], b"a", &text[..]] {
            let mut wire = Vec::new();
            tx.compress(msg, &mut wire);
            let mut out = Vec::new();
            for piece in wire.chunks(100) {
                rx.decompress(piece, &mut out, usize::MAX).unwrap();
            }
            rx.finish().unwrap();
            assert_eq!(out, msg);
        }
        let mut wire = Vec::new();
        tx.compress(&vec![b'a'; 1 << 20], &mut wire);
        let mut out = Vec::new();
        assert_eq!(
            rx.decompress(&wire, &mut out, 4096),
            Err(DecompressError::TooLarge)
        );
        assert!(out.len() <= 4097);
        rx.finish().ok();
        let mut out = Vec::new();
        rx.decompress(&wire[..wire.len() - 2], &mut out, 1 << 21)
            .unwrap();
        assert_eq!(rx.finish(), Err(DecompressError::Corrupt), "truncated");
        assert!(rx.decompress(b"BZh9garbage", &mut out, 1 << 21).is_err());
    }
}
