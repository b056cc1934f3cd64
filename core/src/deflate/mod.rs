//! permessage-deflate (RFC 7692): negotiation in both roles and the per-message codec.
//!
//! # Negotiation (§7.1)
//! A client sends one or more [`DeflateOffer`]s in order of preference (Autobahn's
//! `PerMessageDeflateOffer`); a server parses each with [`ClientOffer::parse`] and answers
//! the first it can accept under its [`DeflateAccept`] policy (Autobahn's
//! `PerMessageDeflateOfferAccept`). An offer with an unknown, duplicated or invalid parameter
//! is declined (the server just does not pick it); a response with such a parameter, or one
//! that grants what was not offered, fails the client's handshake (§7.1.1–§7.1.2). The agreed
//! [`DeflateParams`] then configure a [`DeflateCodec`] per connection.
//!
//! # Compression and windows (§7.2)
//! Each message is compressed as raw DEFLATE ending in a sync flush whose `00 00 FF FF`
//! tail is stripped; the receiver appends it back before inflating. When the peer limits our
//! window to `N` < 15 bits, its decoder only keeps 2^N bytes of history, so no
//! back-reference may reach further. `miniz_oxide` (pure Rust, `no_std` + `alloc`, the
//! backend) always matches over 32 KiB, so:
//! - `N` = 12..=15: miniz_oxide. Below 15 we compress in runs of at most 2^N input bytes,
//!   each ending in a *full* flush, which makes miniz forget its dictionary: every distance
//!   stays below 2^N. Runs of 4 KiB and more cost little (ratio 4.7 instead of 5.5 at 12 bits
//!   on JSON-like text).
//! - `N` = 8..=11: our `small_window` encoder, a greedy LZ77 whose hash chains never
//!   reach past the window, with fixed Huffman codes. Runs of 256..2048 bytes made miniz
//!   clear 128 KiB and build a Huffman table per run (15 MB/s at 8 bits); this encoder
//!   searches inside the window itself, and holds 5–27 KiB instead of 312 KiB.
//!
//! zlib cannot compress with 8 bits at all (it uses 9); we honour 8 like any other size.
//! The window test in `tests/` inflates our output with zlib limited to each window 8..=15,
//! one output byte per call. Decompression needs no such care: a 32 KiB inflate window
//! accepts every smaller one.
//!
//! # Memory (per connection, measured by `core/tests/deflate_memory.rs`)
//! | state | bytes |
//! |---|---:|
//! | compressor, windows 12..=15 (miniz_oxide) | 319,326 |
//! | compressor, window 11 / 9 / 8 (ours: hash table, chains, history) | 26,624 / 10,752 / 5,376 |
//! | decompressor, any window (miniz_oxide: 32 KiB window + tables) | 43,296 |
//!
//! Nothing is allocated before the first compressed message in a direction. With context
//! takeover the state lives as long as the connection. Without it (in that direction) the
//! state is cleared after every message, or, with [`DeflateCodec::set_free_idle`], freed and
//! allocated again for the next message, so an idle connection holds none.
//! [`DeflateCodec::memory`] reports what is held now.
//!
//! # Bombs
//! [`DeflateCodec::decompress`] inflates into the caller's `Vec` and stops as soon as the
//! output would pass the caller's limit (`max_message_payload`): memory stays bounded by it,
//! and the connection closes with 1009.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt::Write;

use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use crate::handshake::ExtensionOffer;

mod small_window;
use small_window::SmallWindow;

/// The extension token.
pub const NAME: &str = "permessage-deflate";

/// The bytes a sync flush ends with, stripped on send and appended on receive.
const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// What both ends agreed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server starts every message with an empty window.
    pub server_no_context_takeover: bool,
    /// The client starts every message with an empty window.
    pub client_no_context_takeover: bool,
    /// Largest window the server compresses with (8..=15).
    pub server_max_window_bits: u8,
    /// Largest window the client compresses with (8..=15).
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

/// Why a negotiation step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NegotiationError {
    /// A parameter this extension does not define.
    UnknownParameter,
    /// A parameter given twice.
    DuplicateParameter,
    /// A value out of range or malformed (window bits outside 8..=15, a value where none is
    /// allowed).
    InvalidValue,
    /// The server granted something the client did not offer (e.g. `client_max_window_bits`
    /// without the client offering it, or a larger server window than requested).
    NotOffered,
    /// The server accepted more than one permessage-deflate offer, or the header is malformed.
    Malformed,
}

impl core::fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "permessage-deflate negotiation: {self:?}")
    }
}

/// A window-bits value: 8..=15. zlib itself cannot compress with 8 bits (it silently uses 9),
/// but our small-window encoder honours 8 like any other size.
fn window_bits(v: Option<&str>) -> Result<u8, NegotiationError> {
    let v = v.ok_or(NegotiationError::InvalidValue)?;
    if v.len() > 2 || v.starts_with('0') || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NegotiationError::InvalidValue);
    }
    match v.parse::<u8>() {
        Ok(b @ 8..=15) => Ok(b),
        _ => Err(NegotiationError::InvalidValue),
    }
}

/// A client's offer as the server reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientOffer {
    /// `server_no_context_takeover`: the client asks the server not to keep context.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover`: the client will not keep context.
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N`: the client limits the server's window.
    pub server_max_window_bits: Option<u8>,
    /// `client_max_window_bits[=N]`: the client lets the server limit its window (`Some(None)`
    /// without a value; `Some(Some(N))` with the client's own limit).
    pub client_max_window_bits: Option<Option<u8>>,
}

impl ClientOffer {
    /// Reads and validates an offer (an `ExtensionOffer` named `permessage-deflate`).
    pub fn parse(offer: &ExtensionOffer<'_>) -> Result<Self, NegotiationError> {
        let mut o = Self::default();
        let mut seen = 0u8;
        for p in offer.params() {
            let (name, value) = p.map_err(|_| NegotiationError::Malformed)?;
            let bit = match name {
                "server_no_context_takeover" => 1,
                "client_no_context_takeover" => 2,
                "server_max_window_bits" => 4,
                "client_max_window_bits" => 8,
                _ => return Err(NegotiationError::UnknownParameter),
            };
            if seen & bit != 0 {
                return Err(NegotiationError::DuplicateParameter);
            }
            seen |= bit;
            match bit {
                1 | 2 if value.is_some() => return Err(NegotiationError::InvalidValue),
                1 => o.server_no_context_takeover = true,
                2 => o.client_no_context_takeover = true,
                4 => o.server_max_window_bits = Some(window_bits(value)?),
                _ => {
                    o.client_max_window_bits =
                        Some(value.map(|v| window_bits(Some(v))).transpose()?)
                }
            }
        }
        Ok(o)
    }
}

/// A server's policy for accepting offers (Autobahn's `PerMessageDeflateOfferAccept`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateAccept {
    /// Ask the client not to keep context (`client_no_context_takeover` in the response).
    pub request_no_context_takeover: bool,
    /// Ask the client to compress with at most this window (needs the client to have offered
    /// `client_max_window_bits`; 0: don't ask).
    pub request_max_window_bits: u8,
    /// Announce that we keep no context (`server_no_context_takeover`), even unasked.
    pub no_context_takeover: bool,
    /// Compress with at most this window (`server_max_window_bits`, 9..=15; 0: 15 unless the
    /// client asked for less).
    pub window_bits: u8,
    /// Compression level 0..=9 (Autobahn's `mem_level` has no miniz equivalent; the level
    /// trades speed for ratio instead).
    pub level: u8,
}

impl Default for DeflateAccept {
    fn default() -> Self {
        Self {
            request_no_context_takeover: false,
            request_max_window_bits: 0,
            no_context_takeover: false,
            window_bits: 0,
            level: 1,
        }
    }
}

impl DeflateAccept {
    /// The parameters to accept `offer` with (every offer that parsed can be honoured, 8-bit
    /// windows included); `Option` so a stricter policy can decline.
    pub fn accept(&self, offer: &ClientOffer) -> Option<DeflateParams> {
        let mut p = DeflateParams {
            server_no_context_takeover: offer.server_no_context_takeover
                || self.no_context_takeover,
            client_no_context_takeover: offer.client_no_context_takeover
                || self.request_no_context_takeover,
            ..DeflateParams::default()
        };
        let ours = if self.window_bits == 0 {
            15
        } else {
            self.window_bits
        };
        let server_bits = offer.server_max_window_bits.map_or(ours, |b| b.min(ours));
        p.server_max_window_bits = server_bits;
        if let Some(client_limit) = offer.client_max_window_bits {
            let mut bits = client_limit.unwrap_or(15);
            if self.request_max_window_bits != 0 {
                bits = bits.min(self.request_max_window_bits);
            }
            p.client_max_window_bits = bits;
        }
        Some(p)
    }

    /// The `Sec-WebSocket-Extensions` response value for `params`, given the offer.
    pub fn response(
        params: &DeflateParams,
        offer: &ClientOffer,
        out: &mut impl Write,
    ) -> core::fmt::Result {
        out.write_str(NAME)?;
        if params.server_no_context_takeover {
            out.write_str("; server_no_context_takeover")?;
        }
        if params.client_no_context_takeover {
            out.write_str("; client_no_context_takeover")?;
        }
        if offer.server_max_window_bits.is_some() || params.server_max_window_bits < 15 {
            write!(
                out,
                "; server_max_window_bits={}",
                params.server_max_window_bits
            )?;
        }
        if offer.client_max_window_bits.is_some() && params.client_max_window_bits < 15 {
            write!(
                out,
                "; client_max_window_bits={}",
                params.client_max_window_bits
            )?;
        }
        Ok(())
    }
}

/// A client's offer (Autobahn's `PerMessageDeflateOffer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateOffer {
    /// Offer `client_no_context_takeover` (as Autobahn's `accept_no_context_takeover` does):
    /// by RFC 7692 §7.1.1.2 a hint that we will not keep context, so we then don't, whatever
    /// the response says. Either way a server may ask for it, and we comply.
    pub accept_no_context_takeover: bool,
    /// Offer `client_max_window_bits` so the server may limit our window.
    pub accept_max_window_bits: bool,
    /// Ask the server not to keep context (`server_no_context_takeover`).
    pub request_no_context_takeover: bool,
    /// Ask the server for at most this window (`server_max_window_bits`, 9..=15; 0: don't).
    pub request_max_window_bits: u8,
    /// Our compression level 0..=9.
    pub level: u8,
}

impl Default for DeflateOffer {
    fn default() -> Self {
        Self {
            accept_no_context_takeover: false,
            accept_max_window_bits: true,
            request_no_context_takeover: false,
            request_max_window_bits: 0,
            level: 1,
        }
    }
}

impl DeflateOffer {
    /// Writes this offer as one element of a `Sec-WebSocket-Extensions` value.
    pub fn write(&self, out: &mut impl Write) -> core::fmt::Result {
        out.write_str(NAME)?;
        if self.accept_no_context_takeover {
            out.write_str("; client_no_context_takeover")?;
        }
        if self.accept_max_window_bits {
            out.write_str("; client_max_window_bits")?;
        }
        if self.request_no_context_takeover {
            out.write_str("; server_no_context_takeover")?;
        }
        if self.request_max_window_bits != 0 {
            write!(
                out,
                "; server_max_window_bits={}",
                self.request_max_window_bits
            )?;
        }
        Ok(())
    }

    /// Checks a server's response against this offer and returns the agreed parameters.
    pub fn accept_response(
        &self,
        response: &ExtensionOffer<'_>,
    ) -> Result<DeflateParams, NegotiationError> {
        let r = ClientOffer::parse(response)?;
        if r.client_max_window_bits.is_some() && !self.accept_max_window_bits {
            return Err(NegotiationError::NotOffered);
        }
        if self.request_no_context_takeover && !r.server_no_context_takeover {
            return Err(NegotiationError::NotOffered);
        }
        let server_bits = r.server_max_window_bits.unwrap_or(15);
        if self.request_max_window_bits != 0 && server_bits > self.request_max_window_bits {
            return Err(NegotiationError::NotOffered);
        }
        let client_bits = match r.client_max_window_bits {
            None => 15,
            Some(None) => return Err(NegotiationError::InvalidValue),
            Some(Some(b)) => b,
        };
        Ok(DeflateParams {
            server_no_context_takeover: r.server_no_context_takeover,
            client_no_context_takeover: r.client_no_context_takeover
                || self.accept_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        })
    }
}

/// Why (de)compression failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeflateError {
    /// The compressed data is corrupt (→ close 1007... RFC 7692 leaves it to the endpoint;
    /// we answer 1002 like Autobahn).
    Corrupt,
    /// Inflating would pass the message limit (→ close 1009).
    TooLarge,
}

/// The per-connection compression state for one role.
pub struct DeflateCodec {
    params: DeflateParams,
    /// We compress with this window and drop context after each message when `reset_tx`.
    tx_bits: u8,
    reset_tx: bool,
    reset_rx: bool,
    level: u8,
    compressor: Option<Compressor>,
    /// Input bytes since the last full flush (miniz with windows of 12..=14 bits).
    run: usize,
    inflater: Option<Box<InflateState>>,
    free_idle: bool,
}

/// The compressor for our direction: miniz_oxide for windows of 12 bits and more, our
/// [`SmallWindow`] encoder below.
enum Compressor {
    Miniz(Box<CompressorOxide>),
    Small(SmallWindow),
}

impl core::fmt::Debug for DeflateCodec {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeflateCodec")
            .field("params", &self.params)
            .field("memory", &self.memory())
            .finish()
    }
}

/// Heap bytes of a miniz_oxide 0.8 compressor: the box itself, its LZ dictionary, hash
/// chains, Huffman tables and output buffer (measured by `tests/deflate_memory.rs`).
const MINIZ_COMPRESSOR_BYTES: usize = 319_326;

impl DeflateCodec {
    /// The codec for `params` when we are the client (`is_client`) or the server.
    pub fn new(params: DeflateParams, is_client: bool, level: u8) -> Self {
        let (tx_bits, reset_tx, reset_rx) = if is_client {
            (
                params.client_max_window_bits,
                params.client_no_context_takeover,
                params.server_no_context_takeover,
            )
        } else {
            (
                params.server_max_window_bits,
                params.server_no_context_takeover,
                params.client_no_context_takeover,
            )
        };
        Self {
            params,
            tx_bits,
            reset_tx,
            reset_rx,
            level: level.min(9),
            compressor: None,
            run: 0,
            inflater: None,
            free_idle: false,
        }
    }

    /// Without context takeover, free the (de)compressor after every message instead of
    /// clearing it: an idle connection then holds no compression memory, at the cost of an
    /// allocation (up to ~355 KiB, mostly the compressor) per message.
    pub fn set_free_idle(&mut self, free: bool) {
        self.free_idle = free;
    }

    /// The agreed parameters.
    pub fn params(&self) -> &DeflateParams {
        &self.params
    }

    /// The window we compress with (bits).
    pub fn send_window_bits(&self) -> u8 {
        self.tx_bits
    }

    /// Whether we start every message we send with an empty window (no context takeover in
    /// our direction): then a message compresses the same for every connection with the
    /// same window and level, and can be compressed once for all of them.
    pub fn send_context_resets(&self) -> bool {
        self.reset_tx
    }

    /// Our compression level.
    pub fn level(&self) -> u8 {
        self.level
    }

    /// Heap bytes the codec holds now (compressor and decompressor state).
    pub fn memory(&self) -> usize {
        let tx = match &self.compressor {
            None => 0,
            Some(Compressor::Miniz(_)) => MINIZ_COMPRESSOR_BYTES,
            Some(Compressor::Small(s)) => s.memory(),
        };
        // The inflate state is one box: a 32 KiB window plus its tables.
        let rx = self
            .inflater
            .as_ref()
            .map_or(0, |_| core::mem::size_of::<InflateState>());
        tx + rx
    }

    /// Compresses a whole message payload, appending the compressed bytes (sync-flushed,
    /// tail stripped) to `out`.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        self.compress_part(payload, out, true);
    }

    /// Compresses the next part of a message sent in pieces (the frame and streaming send
    /// APIs), appending what is ready to `out`; `fin` ends the message (sync flush, tail
    /// stripped). A part may produce no bytes yet: the compressor keeps input to find
    /// matches. The parts' outputs, concatenated, are the message's compressed payload.
    pub fn compress_part(&mut self, input: &[u8], out: &mut Vec<u8>, fin: bool) {
        let (level, bits) = (self.level, self.tx_bits);
        let compressor = self.compressor.get_or_insert_with(|| {
            if bits <= small_window::MAX_BITS {
                Compressor::Small(SmallWindow::new(bits, level))
            } else {
                // Raw deflate (negative window bits: no zlib header). Level 1 takes miniz's
                // fast path; the strategy is the default.
                Compressor::Miniz(Box::new(CompressorOxide::new(
                    create_comp_flags_from_zip_params(level as i32, -15, 0),
                )))
            }
        });
        match compressor {
            Compressor::Small(s) => s.compress(input, out, fin),
            Compressor::Miniz(c) => {
                let run_max = if bits < 15 {
                    1usize << bits
                } else {
                    usize::MAX
                };
                let start = out.len();
                let mut input = input;
                loop {
                    let room = run_max - self.run;
                    let (chunk, rest) = input.split_at(input.len().min(room));
                    let full = !rest.is_empty() || (self.run + chunk.len() == run_max);
                    let flush = if full {
                        MZFlush::Full
                    } else if fin {
                        MZFlush::Sync
                    } else {
                        MZFlush::None
                    };
                    deflate_all(c, chunk, out, flush);
                    self.run = if full { 0 } else { self.run + chunk.len() };
                    input = rest;
                    if input.is_empty() {
                        break;
                    }
                }
                // Sync and full flushes both end in the empty stored block `00 00 FF FF`.
                if fin && out[start..].ends_with(&TAIL) {
                    out.truncate(out.len() - TAIL.len());
                }
            }
        }
        if fin && self.reset_tx {
            // No context takeover: forget this message, by freeing the state (idle
            // connections then hold none) or by clearing it (no allocation per message).
            if self.free_idle {
                self.compressor = None;
            } else {
                match self.compressor.as_mut() {
                    Some(Compressor::Miniz(c)) => c.reset(),
                    Some(Compressor::Small(s)) => s.reset(),
                    None => {}
                }
            }
            self.run = 0;
        }
    }

    /// Inflates a piece of a compressed message into `out`, failing once `out` would grow
    /// past `limit` bytes. Call [`finish`](Self::finish) after the message's last piece.
    pub fn decompress(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DeflateError> {
        let st = self
            .inflater
            .get_or_insert_with(|| InflateState::new_boxed(DataFormat::Raw));
        inflate_all(st, input, out, limit)
    }

    /// Ends a compressed message: inflates the stripped tail; resets the window without
    /// context takeover.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), DeflateError> {
        let r = self.decompress(&TAIL, out, limit);
        if r.is_err() || (self.reset_rx && self.free_idle) {
            self.inflater = None;
        } else if self.reset_rx {
            if let Some(st) = self.inflater.as_mut() {
                st.reset(DataFormat::Raw);
            }
        }
        r
    }
}

fn deflate_all(c: &mut CompressorOxide, mut input: &[u8], out: &mut Vec<u8>, flush: MZFlush) {
    loop {
        let at = out.len();
        // Room for the whole output in one call (above zlib's deflateBound). When a sync flush
        // had to resume after filling a smaller buffer, miniz_oxide 0.8.9 lost the end of the
        // message (seen on 64 KiB of Autobahn's lena512.bmp, case 12.2.9), so we never let it.
        let room = input.len() + input.len() / 64 + 1024;
        out.resize(at + room, 0);
        let r = miniz_oxide::deflate::stream::deflate(c, input, &mut out[at..], flush);
        out.truncate(at + r.bytes_written);
        input = &input[r.bytes_consumed..];
        // Done when all input is taken and the flush did not fill the output.
        if input.is_empty() && r.bytes_written < room {
            return;
        }
        if r.status.is_err() && r.bytes_written == 0 && r.bytes_consumed == 0 {
            return;
        }
    }
}

fn inflate_all(
    st: &mut InflateState,
    mut input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(), DeflateError> {
    loop {
        let at = out.len();
        let room = (input.len() * 4).clamp(4096, 256 * 1024);
        // Never more than one byte past the limit: that byte proves the limit is passed.
        let room = room.min(limit + 1 - at.min(limit + 1)).max(1);
        out.resize(at + room, 0);
        let r = miniz_oxide::inflate::stream::inflate(st, input, &mut out[at..], MZFlush::Sync);
        out.truncate(at + r.bytes_written);
        input = &input[r.bytes_consumed..];
        if out.len() > limit {
            return Err(DeflateError::TooLarge);
        }
        match r.status {
            Ok(MZStatus::Ok) | Ok(MZStatus::StreamEnd) => {}
            Err(MZError::Buf) => {}
            _ => return Err(DeflateError::Corrupt),
        }
        if input.is_empty() && r.bytes_written < room {
            return Ok(());
        }
        if r.bytes_consumed == 0 && r.bytes_written == 0 {
            // No progress with input left and room to write: the stream ended early.
            return if input.is_empty() {
                Ok(())
            } else {
                Err(DeflateError::Corrupt)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::extensions;
    use alloc::string::String;

    fn offer(s: &str) -> Result<ClientOffer, NegotiationError> {
        ClientOffer::parse(&extensions(s.as_bytes()).next().unwrap().unwrap())
    }

    #[test]
    fn offer_validation() {
        assert_eq!(offer("permessage-deflate").unwrap(), ClientOffer::default());
        let o =
            offer("permessage-deflate; client_max_window_bits; server_max_window_bits=10").unwrap();
        assert_eq!(
            (o.client_max_window_bits, o.server_max_window_bits),
            (Some(None), Some(10))
        );
        assert_eq!(
            offer("permessage-deflate; x=1"),
            Err(NegotiationError::UnknownParameter)
        );
        assert_eq!(
            offer("permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
            Err(NegotiationError::DuplicateParameter)
        );
        assert_eq!(
            offer("permessage-deflate; server_max_window_bits=16"),
            Err(NegotiationError::InvalidValue)
        );
        assert_eq!(
            offer("permessage-deflate; server_max_window_bits=010"),
            Err(NegotiationError::InvalidValue)
        );
        assert_eq!(
            offer("permessage-deflate; server_max_window_bits"),
            Err(NegotiationError::InvalidValue)
        );
        assert_eq!(
            offer("permessage-deflate; client_no_context_takeover=1"),
            Err(NegotiationError::InvalidValue)
        );
    }

    #[test]
    fn accept_and_client_check_agree() {
        let client = DeflateOffer {
            request_max_window_bits: 10,
            request_no_context_takeover: true,
            ..Default::default()
        };
        let mut header = String::new();
        client.write(&mut header).unwrap();
        let ext = extensions(header.as_bytes()).next().unwrap().unwrap();
        let o = ClientOffer::parse(&ext).unwrap();
        let policy = DeflateAccept {
            request_max_window_bits: 12,
            request_no_context_takeover: true,
            ..Default::default()
        };
        let p = policy.accept(&o).unwrap();
        assert_eq!(
            p,
            DeflateParams {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: 10,
                client_max_window_bits: 12
            }
        );
        let mut resp = String::new();
        DeflateAccept::response(&p, &o, &mut resp).unwrap();
        let ext = extensions(resp.as_bytes()).next().unwrap().unwrap();
        assert_eq!(client.accept_response(&ext).unwrap(), p);
        // A server granting a bigger window than requested is refused.
        let bad = extensions(
            b"permessage-deflate; server_no_context_takeover; server_max_window_bits=12",
        )
        .next()
        .unwrap()
        .unwrap();
        assert_eq!(
            client.accept_response(&bad),
            Err(NegotiationError::NotOffered)
        );
    }

    fn roundtrip(params: DeflateParams, messages: &[&[u8]]) {
        let mut tx = DeflateCodec::new(params, false, 6);
        let mut rx = DeflateCodec::new(params, true, 6);
        for m in messages {
            let mut wire = Vec::new();
            tx.compress(m, &mut wire);
            assert!(!wire.ends_with(&TAIL));
            let mut out = Vec::new();
            for piece in wire.chunks(7) {
                rx.decompress(piece, &mut out, 1 << 20).unwrap();
            }
            rx.finish(&mut out, 1 << 20).unwrap();
            assert_eq!(&out[..], *m);
        }
    }

    #[test]
    fn round_trips_with_and_without_context() {
        let text: Vec<u8> = b"Hello, permessage-deflate! "
            .iter()
            .copied()
            .cycle()
            .take(70_000)
            .collect();
        let msgs: [&[u8]; 4] = [b"", b"a", &text, &text[..5000]];
        for no_ctx in [false, true] {
            for bits in [9, 12, 15] {
                let p = DeflateParams {
                    server_no_context_takeover: no_ctx,
                    client_no_context_takeover: no_ctx,
                    server_max_window_bits: bits,
                    client_max_window_bits: bits,
                };
                roundtrip(p, &msgs);
            }
        }
    }

    #[test]
    fn messages_in_parts_round_trip() {
        let text: Vec<u8> = b"{\"topic\":\"com.example\",\"args\":[1,2,3]} "
            .iter()
            .copied()
            .cycle()
            .take(50_000)
            .collect();
        for bits in [8, 11, 12, 15] {
            for no_ctx in [false, true] {
                let p = DeflateParams {
                    server_no_context_takeover: no_ctx,
                    client_no_context_takeover: no_ctx,
                    server_max_window_bits: bits,
                    client_max_window_bits: bits,
                };
                let mut tx = DeflateCodec::new(p, false, 1);
                let mut rx = DeflateCodec::new(p, true, 1);
                for round in 0..3 {
                    let mut wire = Vec::new();
                    for piece in text.chunks(1000 + round * 3000) {
                        tx.compress_part(piece, &mut wire, false);
                    }
                    tx.compress_part(b"", &mut wire, true);
                    assert!(wire.len() < text.len() / 3, "bits {bits}: {}", wire.len());
                    let mut out = Vec::new();
                    rx.decompress(&wire, &mut out, 1 << 20).unwrap();
                    rx.finish(&mut out, 1 << 20).unwrap();
                    assert!(out == text, "bits {bits} round {round}");
                }
            }
        }
    }

    #[test]
    fn bomb_stops_at_the_limit() {
        let zeros = alloc::vec![0u8; 1 << 20];
        let mut tx = DeflateCodec::new(DeflateParams::default(), false, 9);
        let mut wire = Vec::new();
        tx.compress(&zeros, &mut wire);
        assert!(wire.len() < 4096);
        let mut rx = DeflateCodec::new(DeflateParams::default(), true, 9);
        let mut out = Vec::new();
        assert_eq!(
            rx.decompress(&wire, &mut out, 10_000),
            Err(DeflateError::TooLarge)
        );
        assert!(out.len() <= 10_001);
    }

    #[test]
    fn corrupt_input_is_an_error() {
        let mut rx = DeflateCodec::new(DeflateParams::default(), true, 1);
        let mut out = Vec::new();
        let r = rx
            .decompress(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF], &mut out, 1000)
            .and_then(|_| rx.finish(&mut out, 1000));
        assert_eq!(r, Err(DeflateError::Corrupt));
    }
}

#[cfg(test)]
mod stress {
    use super::*;

    #[test]
    fn many_large_messages_with_context() {
        let mut x = 12345u32;
        let mut tx = DeflateCodec::new(DeflateParams::default(), false, 1);
        let mut rx = DeflateCodec::new(DeflateParams::default(), true, 1);
        for i in 0..300 {
            let msg: Vec<u8> = (0..65536)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    b"abcdefghij klmnop"[(x % 17) as usize]
                })
                .collect();
            let mut wire = Vec::new();
            tx.compress(&msg, &mut wire);
            let mut out = Vec::new();
            rx.decompress(&wire, &mut out, 1 << 24).unwrap();
            rx.finish(&mut out, 1 << 24).unwrap();
            assert_eq!(out.len(), msg.len(), "message {i}");
            assert!(out == msg, "message {i}");
        }
    }
}
