//! permessage-brotli (Autobahn's recommended method): every message is one complete,
//! independent brotli stream (RFC 7932).
//!
//! Autobahn starts a new compressor and decompressor for every message whatever the
//! context-takeover flags say (a finished brotli stream cannot be continued), so the flags
//! are negotiated ([`super::takeover`]) but change nothing on the wire; we do the same. There
//! is no tail to strip, and an empty message is still a (one-byte) stream: a compressed
//! message with no bytes at all is truncated.
//!
//! Memory: a whole message is compressed in one call with its size as the encoder's hint, so
//! a 100-byte message does not set up a 4 MiB window. The decoder refuses brotli's large-window extension (windows up to 1 GiB), so its ring buffer
//! is at most 16 MiB, and smaller when the stream says its last block is short; its output is
//! capped by the message limit like deflate's.

use std::io::Write;

use brotli::enc::{BrotliEncoderParams, StandardAlloc};
use brotli::{BrotliDecompressStream, BrotliResult, BrotliState, CompressorWriter};

use super::{decode_stream, end_stream, DecompressError, Step};

/// The extension token.
pub const NAME: &str = "permessage-brotli";

/// Our default quality (0..=11). Autobahn|Python uses 11, which compresses ~10% smaller
/// than 5 at a hundredth of the speed (see benches/RESULTS.md); choose it per offer or policy.
pub const DEFAULT_QUALITY: u8 = 5;

/// The window (`lgwin`), brotli's and Autobahn's default. Smaller windows (≤ 16 bits) make
/// the encoder pick hashers that cost ~10× the time on small messages at quality ≥ 5 (500 µs
/// instead of 47 µs for 1 KiB), and the encoder's ring buffer only grows to what a message
/// needs (the size hint tells it).
const WINDOW: i32 = 22;

type State = BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>;

/// The per-connection brotli state.
pub(crate) struct Codec {
    quality: u8,
    /// A message being compressed in parts.
    tx: Option<Box<CompressorWriter<Vec<u8>>>>,
    /// The message being decompressed, and whether its stream has ended.
    rx: Option<Box<State>>,
    rx_done: bool,
}

impl Codec {
    pub(crate) fn new(quality: u8) -> Self {
        Self {
            quality: quality.min(11),
            tx: None,
            rx: None,
            rx_done: false,
        }
    }

    /// Our quality.
    pub(crate) fn quality(&self) -> u8 {
        self.quality
    }

    fn params(&self, size: Option<usize>) -> BrotliEncoderParams {
        BrotliEncoderParams {
            quality: i32::from(self.quality),
            lgwin: WINDOW,
            size_hint: size.unwrap_or(0),
            ..BrotliEncoderParams::default()
        }
    }

    /// Compresses a whole message into one stream.
    pub(crate) fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let params = self.params(Some(payload.len()));
        // Writing into a Vec cannot fail.
        let _ = brotli::BrotliCompress(&mut &payload[..], out, &params);
    }

    /// Compresses the next part of a message; `fin` ends its stream.
    pub(crate) fn compress_part(&mut self, input: &[u8], out: &mut Vec<u8>, fin: bool) {
        let params = self.params(None);
        let w = self.tx.get_or_insert_with(|| {
            Box::new(CompressorWriter::with_params(Vec::new(), 4096, &params))
        });
        let _ = w.write_all(input);
        if fin {
            if let Some(w) = self.tx.take() {
                out.extend_from_slice(&w.into_inner());
            }
        } else {
            out.append(w.get_mut());
        }
    }

    /// Decompresses a piece of a message onto `out`, failing once `out` would pass `limit`.
    pub(crate) fn decompress(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DecompressError> {
        let st = self.rx.get_or_insert_with(|| {
            let mut s = Box::new(State::new(
                StandardAlloc::default(),
                StandardAlloc::default(),
                StandardAlloc::default(),
            ));
            s.large_window = false;
            s
        });
        decode_stream(&mut self.rx_done, input, out, limit, |input, room| {
            let (mut avail_in, mut in_off) = (input.len(), 0);
            let (mut avail_out, mut out_off, mut total) = (room.len(), 0, 0);
            let r = BrotliDecompressStream(
                &mut avail_in,
                &mut in_off,
                input,
                &mut avail_out,
                &mut out_off,
                room,
                &mut total,
                st,
            );
            let (end, more_output) = match r {
                BrotliResult::ResultSuccess => (true, false),
                BrotliResult::NeedsMoreInput => (false, false),
                BrotliResult::NeedsMoreOutput => (false, true),
                BrotliResult::ResultFailure => return Err(DecompressError::Corrupt),
            };
            Ok(Step {
                used: in_off,
                made: out_off,
                end,
                more_output,
            })
        })
    }

    /// Ends a message: its stream must be complete. The next message starts a new one.
    pub(crate) fn finish(&mut self) -> Result<(), DecompressError> {
        end_stream(&mut self.rx_done, &mut self.rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(c: &mut Codec, wire: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
        let mut out = Vec::new();
        // In small pieces, as frames would bring them.
        for piece in wire.chunks(7) {
            c.decompress(piece, &mut out, limit)?;
        }
        c.finish()?;
        Ok(out)
    }

    #[test]
    fn messages_round_trip_whole_and_in_parts() {
        let mut tx = Codec::new(DEFAULT_QUALITY);
        let mut rx = Codec::new(0);
        let text: Vec<u8> = (0..50_000u32)
            .flat_map(|i| format!("{{\"n\":{i},\"k\":\"v\"}}").into_bytes())
            .collect();
        for msg in [&b""[..], b"a", &text[..]] {
            let mut wire = Vec::new();
            tx.compress(msg, &mut wire);
            assert!(!wire.is_empty());
            assert_eq!(inflate(&mut rx, &wire, usize::MAX).unwrap(), msg);
            let mut wire = Vec::new();
            for part in msg.chunks(1000) {
                tx.compress_part(part, &mut wire, false);
            }
            tx.compress_part(b"", &mut wire, true);
            assert_eq!(inflate(&mut rx, &wire, usize::MAX).unwrap(), msg);
        }
    }

    #[test]
    fn bombs_truncation_and_garbage_are_refused() {
        let mut tx = Codec::new(DEFAULT_QUALITY);
        let mut rx = Codec::new(0);
        let zeros = vec![0u8; 1 << 20];
        let mut wire = Vec::new();
        tx.compress(&zeros, &mut wire);
        assert!(wire.len() < 100);
        assert_eq!(
            inflate(&mut rx, &wire, 1000),
            Err(DecompressError::TooLarge)
        );
        rx.finish().ok();
        assert_eq!(inflate(&mut rx, &wire, 1 << 20).unwrap().len(), 1 << 20);
        assert_eq!(
            inflate(&mut rx, &wire[..wire.len() - 1], 1 << 20),
            Err(DecompressError::Corrupt)
        );
        assert_eq!(inflate(&mut rx, b"", 10), Err(DecompressError::Corrupt));
        let mut extra = wire.clone();
        extra.push(0);
        assert_eq!(
            inflate(&mut rx, &extra, 1 << 20),
            Err(DecompressError::Corrupt)
        );
        rx.finish().ok();
        assert!(inflate(&mut rx, &[0xff; 64], 1 << 20).is_err());
    }
}
