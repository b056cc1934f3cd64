//! Per-message compression: every method Autobahn|Python speaks, behind one negotiation
//! path and one codec type.
//!
//! ```text
//!  client: ClientBuilder::offer(Offer) … in order of preference
//!          → Sec-WebSocket-Extensions: permessage-brotli, permessage-deflate; …
//!  server: each offer in the client's order (or in ServerConfig::compression_order)
//!          → the first whose method has a policy that accepts it → response header
//!  client: the response must name one of its offers and grant only what it allowed
//!  both:   Negotiated::compression → Codec (send and receive halves) → RSV1 messages
//! ```
//!
//! | method | Cargo feature | crate | on the wire |
//! |---|---|---|---|
//! | `permessage-deflate` (RFC 7692) | always (std) | miniz_oxide, in `ferrobahn-core` | raw DEFLATE, sync-flush tail stripped |
//! | `permessage-brotli` | `brotli` | brotli | one brotli stream per message |
//! | `permessage-bzip2` | `bzip2` | bzip2 (libbz2-rs-sys, pure Rust) | one bzip2 stream per message |
//! | `permessage-snappy` | `snappy` | snap, crc32c | Snappy framing format chunks |
//!
//! The three non-RFC methods are Autobahn's; their parameters and wire formats follow
//! Autobahn|Python 26 (`autobahn/websocket/compress_*.py`), checked against it both ways by
//! `scripts/interop.sh` (`tests/interop/autobahn_compress_client.py`,
//! `tests/interop/autobahn_echo_server.py`, `examples/compress_check.rs`). They live here rather than in the `no_std` core
//! because their crates need `std` (brotli's and bzip2's allocators, snap's API).
//!
//! Every decompressor writes into the caller's buffer and stops one byte past the message
//! limit (`max_message_payload`): the connection then closes with 1009. Corrupt or truncated
//! data closes it with 1002 (an extension error), as for deflate.

#[cfg(feature = "brotli")]
pub mod brotli;
#[cfg(feature = "bzip2")]
pub mod bzip2;
#[cfg(feature = "snappy")]
pub mod snappy;
pub mod takeover;

use ferrobahn_core::deflate::{
    self, ClientOffer, DeflateAccept, DeflateCodec, DeflateError, DeflateOffer, DeflateParams,
};
use ferrobahn_core::handshake::{ClientHandshake, ExtensionOffer};

use crate::server::ServerConfig;
pub use takeover::{TakeoverAccept, TakeoverOffer, TakeoverParams};

/// A compression method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `permessage-deflate` (RFC 7692).
    Deflate,
    /// `permessage-brotli`.
    Brotli,
    /// `permessage-bzip2`.
    Bzip2,
    /// `permessage-snappy`.
    Snappy,
}

impl Method {
    /// The extension token.
    pub fn name(self) -> &'static str {
        match self {
            Method::Deflate => deflate::NAME,
            Method::Brotli => "permessage-brotli",
            Method::Bzip2 => "permessage-bzip2",
            Method::Snappy => "permessage-snappy",
        }
    }

    /// Every method this build can use, deflate first.
    pub fn available() -> &'static [Method] {
        &[
            Method::Deflate,
            #[cfg(feature = "brotli")]
            Method::Brotli,
            #[cfg(feature = "bzip2")]
            Method::Bzip2,
            #[cfg(feature = "snappy")]
            Method::Snappy,
        ]
    }

    fn from_name(name: &str) -> Option<Method> {
        Method::available()
            .iter()
            .copied()
            .find(|m| m.name() == name)
    }
}

/// What the opening handshake agreed on, with our own settings for what we send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// permessage-deflate and our level (0..=9).
    Deflate {
        /// The agreed parameters.
        params: DeflateParams,
        /// Our compression level.
        level: u8,
    },
    /// permessage-brotli and our quality (0..=11).
    #[cfg(feature = "brotli")]
    Brotli {
        /// The agreed flags (no effect on the wire, see [`brotli`]).
        params: TakeoverParams,
        /// Our quality.
        quality: u8,
    },
    /// permessage-bzip2 and our level (1..=9, within the agreed bound).
    #[cfg(feature = "bzip2")]
    Bzip2 {
        /// The agreed bounds.
        params: bzip2::Bzip2Params,
        /// Our level.
        level: u8,
    },
    /// permessage-snappy.
    #[cfg(feature = "snappy")]
    Snappy {
        /// The agreed flags.
        params: TakeoverParams,
    },
}

impl Compression {
    /// The method.
    pub fn method(&self) -> Method {
        match self {
            Compression::Deflate { .. } => Method::Deflate,
            #[cfg(feature = "brotli")]
            Compression::Brotli { .. } => Method::Brotli,
            #[cfg(feature = "bzip2")]
            Compression::Bzip2 { .. } => Method::Bzip2,
            #[cfg(feature = "snappy")]
            Compression::Snappy { .. } => Method::Snappy,
        }
    }

    /// The deflate parameters, when the method is deflate.
    pub fn deflate(&self) -> Option<&DeflateParams> {
        match self {
            Compression::Deflate { params, .. } => Some(params),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// One offer a client makes (several, in order of preference, make its header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Offer {
    /// permessage-deflate.
    Deflate(DeflateOffer),
    /// permessage-brotli, with the quality we compress at.
    #[cfg(feature = "brotli")]
    Brotli {
        /// The flags offered.
        offer: TakeoverOffer,
        /// Our quality (0..=11).
        quality: u8,
    },
    /// permessage-bzip2.
    #[cfg(feature = "bzip2")]
    Bzip2(bzip2::Bzip2Offer),
    /// permessage-snappy.
    #[cfg(feature = "snappy")]
    Snappy(TakeoverOffer),
}

impl From<DeflateOffer> for Offer {
    fn from(o: DeflateOffer) -> Self {
        Offer::Deflate(o)
    }
}

impl Offer {
    /// The offer of `method` with Autobahn's default parameters.
    pub fn default_for(method: Method) -> Option<Offer> {
        Some(match method {
            Method::Deflate => Offer::Deflate(DeflateOffer::default()),
            #[cfg(feature = "brotli")]
            Method::Brotli => Offer::Brotli {
                offer: TakeoverOffer::default(),
                quality: brotli::DEFAULT_QUALITY,
            },
            #[cfg(feature = "bzip2")]
            Method::Bzip2 => Offer::Bzip2(bzip2::Bzip2Offer::default()),
            #[cfg(feature = "snappy")]
            Method::Snappy => Offer::Snappy(TakeoverOffer::default()),
            #[allow(unreachable_patterns)]
            _ => return None,
        })
    }

    /// The method offered.
    pub fn method(&self) -> Method {
        match self {
            Offer::Deflate(_) => Method::Deflate,
            #[cfg(feature = "brotli")]
            Offer::Brotli { .. } => Method::Brotli,
            #[cfg(feature = "bzip2")]
            Offer::Bzip2(_) => Method::Bzip2,
            #[cfg(feature = "snappy")]
            Offer::Snappy(_) => Method::Snappy,
        }
    }

    /// Writes this offer as one element of a `Sec-WebSocket-Extensions` value.
    pub fn write(&self, out: &mut String) {
        let _ = match self {
            Offer::Deflate(o) => o.write(out),
            #[cfg(feature = "brotli")]
            Offer::Brotli { offer, .. } => offer.write(brotli::NAME, out),
            #[cfg(feature = "bzip2")]
            Offer::Bzip2(o) => o.write(out),
            #[cfg(feature = "snappy")]
            Offer::Snappy(o) => o.write(snappy::NAME, out),
        };
    }

    /// The agreement, if `response` (same method) is a valid answer to this offer.
    fn accept_response(&self, response: &ExtensionOffer<'_>) -> Option<Compression> {
        match self {
            Offer::Deflate(o) => {
                o.accept_response(response)
                    .ok()
                    .map(|params| Compression::Deflate {
                        params,
                        level: o.level,
                    })
            }
            #[cfg(feature = "brotli")]
            Offer::Brotli { offer, quality } => {
                offer
                    .accept_response(response)
                    .ok()
                    .map(|params| Compression::Brotli {
                        params,
                        quality: *quality,
                    })
            }
            #[cfg(feature = "bzip2")]
            Offer::Bzip2(o) => o
                .accept_response(response)
                .ok()
                .map(|(params, level)| Compression::Bzip2 { params, level }),
            #[cfg(feature = "snappy")]
            Offer::Snappy(o) => o
                .accept_response(response)
                .ok()
                .map(|params| Compression::Snappy { params }),
        }
    }
}

/// The `Sec-WebSocket-Extensions` value for `offers`.
pub(crate) fn offer_header(offers: &[Offer]) -> String {
    let mut s = String::new();
    for (i, o) in offers.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        o.write(&mut s);
    }
    s
}

/// Checks the server's extensions (client side): none, or exactly one that answers one of
/// our offers of its method (the first such offer that the response fits).
pub(crate) fn accept_response<'a>(
    offers: &[Offer],
    extensions: impl Iterator<Item = ExtensionOffer<'a>>,
) -> Result<Option<Compression>, ()> {
    let mut agreed = None;
    for ext in extensions {
        if agreed.is_some() {
            return Err(());
        }
        let c = offers
            .iter()
            .filter(|o| o.method().name() == ext.name)
            .find_map(|o| o.accept_response(&ext));
        agreed = Some(c.ok_or(())?);
    }
    Ok(agreed)
}

/// Picks what to accept from a client's offers under the server's policies: the first
/// acceptable offer in the client's order, or, with `compression_order`, the acceptable
/// offer whose method comes first there. Malformed offers are declined, not failed (RFC
/// 7692 §5). Returns the agreement and the response header value.
pub(crate) fn choose(
    req: &ClientHandshake<'_, '_>,
    config: &ServerConfig,
) -> (Option<Compression>, String) {
    let rank = |m: Method| {
        if config.compression_order.is_empty() {
            0
        } else {
            config
                .compression_order
                .iter()
                .position(|&o| o == m)
                .unwrap_or(usize::MAX)
        }
    };
    let mut best: Option<(usize, Compression, String)> = None;
    let mut deflate_done = false;
    for ext in req.extensions().flatten() {
        let Some(method) = Method::from_name(ext.name) else {
            continue;
        };
        let r = rank(method);
        if r == usize::MAX || best.as_ref().is_some_and(|b| b.0 <= r) {
            continue;
        }
        let mut value = String::new();
        let agreed = match method {
            Method::Deflate if deflate_done => None,
            Method::Deflate => {
                deflate_done = config.deflate_select.is_some();
                accept_deflate(req, &ext, config, &mut value)
            }
            #[cfg(feature = "brotli")]
            Method::Brotli => config.brotli.and_then(|policy| {
                let offer = TakeoverOffer::parse(&ext).ok()?;
                let params = policy.takeover.accept(&offer);
                let _ = TakeoverAccept::response(brotli::NAME, &params, &mut value);
                Some(Compression::Brotli {
                    params,
                    quality: policy.quality,
                })
            }),
            #[cfg(feature = "bzip2")]
            Method::Bzip2 => config.bzip2.and_then(|policy| {
                let offer = bzip2::Bzip2Offer::parse(&ext).ok()?;
                let (params, level) = policy.accept(&offer);
                let _ = bzip2::Bzip2Accept::response(&params, &mut value);
                Some(Compression::Bzip2 { params, level })
            }),
            #[cfg(feature = "snappy")]
            Method::Snappy => config.snappy.and_then(|policy| {
                let offer = TakeoverOffer::parse(&ext).ok()?;
                let params = policy.accept(&offer);
                let _ = TakeoverAccept::response(snappy::NAME, &params, &mut value);
                Some(Compression::Snappy { params })
            }),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some(c) = agreed {
            best = Some((r, c, value));
        }
    }
    match best {
        Some((_, c, value)) => (Some(c), value),
        None => (None, String::new()),
    }
}

/// A deflate offer under the server's deflate policy, or (with `deflate_select`) the
/// callback's pick among all the client's deflate offers.
fn accept_deflate(
    req: &ClientHandshake<'_, '_>,
    ext: &ExtensionOffer<'_>,
    config: &ServerConfig,
    value: &mut String,
) -> Option<Compression> {
    let level = config.deflate.map_or(1, |p| p.level);
    if let Some(select) = &config.deflate_select {
        let offers: Vec<ClientOffer> = req
            .extensions()
            .flatten()
            .filter(|e| e.name == deflate::NAME)
            .filter_map(|e| ClientOffer::parse(&e).ok())
            .collect();
        let (i, params) = select(&offers).filter(|(i, _)| *i < offers.len())?;
        let _ = DeflateAccept::response(&params, &offers[i], value);
        return Some(Compression::Deflate { params, level });
    }
    let policy = config.deflate.as_ref()?;
    let offer = ClientOffer::parse(ext).ok()?;
    let params = policy.accept(&offer)?;
    let _ = DeflateAccept::response(&params, &offer, value);
    Some(Compression::Deflate { params, level })
}

/// A server's permessage-brotli policy.
#[cfg(feature = "brotli")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrotliAccept {
    /// The context-takeover flags.
    pub takeover: TakeoverAccept,
    /// Our quality (0..=11).
    pub quality: u8,
}

#[cfg(feature = "brotli")]
impl Default for BrotliAccept {
    fn default() -> Self {
        Self {
            takeover: TakeoverAccept::default(),
            quality: brotli::DEFAULT_QUALITY,
        }
    }
}

/// Why a compressed message could not be decompressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecompressError {
    /// Corrupt or truncated data (→ close 1002).
    Corrupt,
    /// The message would pass the size limit (→ close 1009).
    TooLarge,
}

impl From<DeflateError> for DecompressError {
    fn from(e: DeflateError) -> Self {
        match e {
            DeflateError::TooLarge => DecompressError::TooLarge,
            _ => DecompressError::Corrupt,
        }
    }
}

/// What one call of a stream decoder did (see [`decode_stream`]).
#[cfg(any(feature = "brotli", feature = "bzip2"))]
pub(crate) struct Step {
    /// Input bytes consumed.
    pub(crate) used: usize,
    /// Output bytes written.
    pub(crate) made: usize,
    /// The stream ended.
    pub(crate) end: bool,
    /// The decoder holds more output than there was room for.
    pub(crate) more_output: bool,
}

/// Drives the decoder of a method whose every message is one complete stream (brotli,
/// bzip2) over a piece of a message: `step` decodes from its input into the room it is
/// given, which never reaches more than one byte past `limit` (that byte proves the limit
/// passed: 1009). After the stream's end (`done`), any further byte is corrupt.
#[cfg(any(feature = "brotli", feature = "bzip2"))]
pub(crate) fn decode_stream(
    done: &mut bool,
    mut input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
    mut step: impl FnMut(&[u8], &mut [u8]) -> Result<Step, DecompressError>,
) -> Result<(), DecompressError> {
    // Output the decoder still holds from the last step (it had no room for it).
    let mut pending = false;
    loop {
        if *done {
            return if input.is_empty() {
                Ok(())
            } else {
                Err(DecompressError::Corrupt)
            };
        }
        if input.is_empty() && !pending {
            return Ok(());
        }
        let at = out.len();
        let room = (input.len() * 4)
            .clamp(4096, 256 * 1024)
            .min(limit.saturating_sub(at).saturating_add(1));
        out.resize(at + room, 0);
        let s = step(input, &mut out[at..]);
        let s = s.inspect_err(|_| out.truncate(at))?;
        out.truncate(at + s.made);
        input = &input[s.used..];
        if out.len() > limit {
            return Err(DecompressError::TooLarge);
        }
        pending = s.more_output;
        if s.end {
            *done = true;
        } else if !pending && !input.is_empty() && s.used == 0 && s.made == 0 {
            return Err(DecompressError::Corrupt);
        }
    }
}

/// Ends a message of a one-stream-per-message method: the stream must have ended; the
/// decoder goes (the next message is a new stream).
#[cfg(any(feature = "brotli", feature = "bzip2"))]
pub(crate) fn end_stream<T>(
    done: &mut bool,
    decoder: &mut Option<T>,
) -> Result<(), DecompressError> {
    *decoder = None;
    if std::mem::take(done) {
        Ok(())
    } else {
        Err(DecompressError::Corrupt)
    }
}

/// One direction's (or both directions') compression state on a connection.
pub(crate) enum Codec {
    Deflate(DeflateCodec),
    #[cfg(feature = "brotli")]
    Brotli(brotli::Codec),
    #[cfg(feature = "bzip2")]
    Bzip2(bzip2::Codec),
    #[cfg(feature = "snappy")]
    Snappy(Box<snappy::Codec>),
}

/// A way of compressing whose output depends on the message alone, not on what the
/// connection sent before: the key under which a broadcast message keeps that output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Variant {
    /// Deflate without context takeover in our direction: (client role, window bits, level).
    Deflate(bool, u8, u8),
    #[cfg(feature = "brotli")]
    Brotli(u8),
    #[cfg(feature = "bzip2")]
    Bzip2(u8),
    /// Snappy without context takeover in our direction (the identifier in every message).
    #[cfg(feature = "snappy")]
    Snappy,
}

impl Codec {
    /// Whether (and as what) every message we send compresses the same whatever came
    /// before: deflate without context takeover our way, brotli and bzip2 always, snappy
    /// when every message restarts the stream.
    pub(crate) fn variant(&self, is_client: bool) -> Option<Variant> {
        match self {
            Codec::Deflate(c) if c.send_context_resets() => {
                Some(Variant::Deflate(is_client, c.send_window_bits(), c.level()))
            }
            Codec::Deflate(_) => None,
            #[cfg(feature = "brotli")]
            Codec::Brotli(c) => Some(Variant::Brotli(c.quality())),
            #[cfg(feature = "bzip2")]
            Codec::Bzip2(c) => Some(Variant::Bzip2(c.level())),
            #[cfg(feature = "snappy")]
            Codec::Snappy(c) => c.resets().then_some(Variant::Snappy),
        }
    }

    /// A fresh codec of `variant` for `compress`: an empty window, as a receiver
    /// without context expects.
    pub(crate) fn fresh(variant: Variant) -> Codec {
        match variant {
            Variant::Deflate(is_client, bits, level) => {
                // Only our direction's window and the reset matter for what we send.
                let params = DeflateParams {
                    server_no_context_takeover: true,
                    client_no_context_takeover: true,
                    server_max_window_bits: bits,
                    client_max_window_bits: bits,
                };
                Codec::Deflate(DeflateCodec::new(params, is_client, level))
            }
            #[cfg(feature = "brotli")]
            Variant::Brotli(q) => Codec::Brotli(brotli::Codec::new(q)),
            #[cfg(feature = "bzip2")]
            Variant::Bzip2(l) => Codec::Bzip2(bzip2::Codec::new(l)),
            #[cfg(feature = "snappy")]
            Variant::Snappy => Codec::Snappy(Box::new(snappy::Codec::new(true))),
        }
    }

    /// The codec for what was agreed, when we are the client (`is_client`) or the server.
    pub(crate) fn new(agreed: &Compression, is_client: bool) -> Self {
        match *agreed {
            Compression::Deflate { params, level } => {
                Codec::Deflate(DeflateCodec::new(params, is_client, level))
            }
            #[cfg(feature = "brotli")]
            Compression::Brotli { quality, .. } => Codec::Brotli(brotli::Codec::new(quality)),
            #[cfg(feature = "bzip2")]
            Compression::Bzip2 { level, .. } => Codec::Bzip2(bzip2::Codec::new(level)),
            #[cfg(feature = "snappy")]
            Compression::Snappy { params } => {
                Codec::Snappy(Box::new(snappy::Codec::new(if is_client {
                    params.client_no_context_takeover
                } else {
                    params.server_no_context_takeover
                })))
            }
        }
    }

    /// Compresses a whole message payload onto `out`.
    pub(crate) fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        match self {
            Codec::Deflate(c) => c.compress(payload, out),
            #[cfg(feature = "brotli")]
            Codec::Brotli(c) => c.compress(payload, out),
            #[cfg(feature = "bzip2")]
            Codec::Bzip2(c) => c.compress(payload, out),
            #[cfg(feature = "snappy")]
            Codec::Snappy(c) => c.compress(payload, out),
        }
    }

    /// Compresses the next part of a message onto `out`; `fin` ends the message.
    pub(crate) fn compress_part(&mut self, input: &[u8], out: &mut Vec<u8>, fin: bool) {
        match self {
            Codec::Deflate(c) => c.compress_part(input, out, fin),
            #[cfg(feature = "brotli")]
            Codec::Brotli(c) => c.compress_part(input, out, fin),
            #[cfg(feature = "bzip2")]
            Codec::Bzip2(c) => c.compress_part(input, out, fin),
            #[cfg(feature = "snappy")]
            Codec::Snappy(c) => c.compress_part(input, out, fin),
        }
    }

    /// Decompresses a piece of a message onto `out`, failing once `out` passes `limit`.
    pub(crate) fn decompress(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DecompressError> {
        match self {
            Codec::Deflate(c) => Ok(c.decompress(input, out, limit)?),
            #[cfg(feature = "brotli")]
            Codec::Brotli(c) => c.decompress(input, out, limit),
            #[cfg(feature = "bzip2")]
            Codec::Bzip2(c) => c.decompress(input, out, limit),
            #[cfg(feature = "snappy")]
            Codec::Snappy(c) => c.decompress(input, out, limit),
        }
    }

    /// Ends a compressed message (deflate inflates its stripped tail onto `out`).
    pub(crate) fn finish(
        &mut self,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DecompressError> {
        match self {
            Codec::Deflate(c) => Ok(c.finish(out, limit)?),
            #[cfg(feature = "brotli")]
            Codec::Brotli(c) => c.finish(),
            #[cfg(feature = "bzip2")]
            Codec::Bzip2(c) => c.finish(),
            #[cfg(feature = "snappy")]
            Codec::Snappy(c) => c.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Garbage, truncated and bit-flipped streams, in pieces of every size: never a panic,
    /// never more output than the limit allows.
    #[test]
    fn decoders_survive_garbage_and_damaged_streams() {
        let agreed = [
            #[cfg(feature = "brotli")]
            Compression::Brotli {
                params: TakeoverParams::default(),
                quality: 5,
            },
            #[cfg(feature = "bzip2")]
            Compression::Bzip2 {
                params: bzip2::Bzip2Params::default(),
                level: 9,
            },
            #[cfg(feature = "snappy")]
            Compression::Snappy {
                params: TakeoverParams::default(),
            },
        ];
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let text: Vec<u8> = (0..5_000u32)
            .flat_map(|i| format!("{{\"k\":{i}}}").into_bytes())
            .collect();
        for a in agreed {
            let mut tx = Codec::new(&a, true);
            let mut good = Vec::new();
            tx.compress(&text, &mut good);
            for round in 0..300 {
                let mut wire = match round % 3 {
                    0 => (0..rnd() % 200).map(|_| rnd() as u8).collect(),
                    1 => good[..(rnd() as usize % good.len())].to_vec(),
                    _ => good.clone(),
                };
                if round % 3 == 2 {
                    let i = rnd() as usize % wire.len();
                    wire[i] ^= 1 << (rnd() % 8);
                }
                let limit = 1 + rnd() as usize % (2 * text.len());
                let piece = 1 + rnd() as usize % 64;
                let mut rx = Codec::new(&a, false);
                let mut out = Vec::new();
                let r = wire
                    .chunks(piece)
                    .try_for_each(|p| rx.decompress(p, &mut out, limit))
                    .and_then(|()| rx.finish(&mut out, limit));
                assert!(out.len() <= limit + 1, "{a:?}: {} > {limit}", out.len());
                if r.is_ok() {
                    assert!(out.len() <= limit);
                }
            }
        }
    }
}
