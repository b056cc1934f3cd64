//! permessage-snappy (as Autobahn defines it): messages carry the Snappy *framing format*
//! (google/snappy `framing_format.txt`): a stream identifier chunk, then chunks of at most
//! 64 KiB of input, each compressed (type 0x00) or stored (0x01) with a masked CRC-32C.
//!
//! "Context takeover" only decides where the stream identifier goes: Autobahn keeps one
//! framing stream per direction while context is kept, so the identifier comes once, at the
//! start of the first message; without context takeover every message starts a new stream
//! and carries it. We send it the same way, and accept it (or not) at the start of any
//! message: chunks never refer to each other, so that is all a receiver needs to know.
//!
//! Memory: nothing between messages but the bytes of one incomplete chunk (≤ 76 KiB);
//! skippable chunks are skipped as they arrive, never buffered. Output is capped by the
//! message limit before a chunk is decompressed (its length is in its header).

use super::DecompressError;

/// The extension token.
pub const NAME: &str = "permessage-snappy";

/// The stream identifier chunk: type 0xff, length 6, "sNaPpY".
const IDENTIFIER: [u8; 10] = *b"\xff\x06\x00\x00sNaPpY";
/// The most input one data chunk holds.
const MAX_BLOCK: usize = 65_536;

/// The masked CRC-32C the framing format puts before each chunk's data.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// The largest chunk body we accept: a CRC and a block's worst-case compressed size.
fn max_chunk() -> usize {
    4 + snap::raw::max_compress_len(MAX_BLOCK)
}

/// The per-connection snappy state.
pub(crate) struct Codec {
    /// Whether each message we send starts a new stream (no context takeover).
    reset_tx: bool,
    /// The identifier went out (with context takeover, only once).
    tx_started: bool,
    encoder: snap::raw::Encoder,
    /// A message sent in parts is open.
    tx_open: bool,
    /// Input of a message sent in parts, not yet a full block.
    tx_pending: Vec<u8>,
    decoder: snap::raw::Decoder,
    /// Bytes of an incomplete chunk (header included).
    rx_pending: Vec<u8>,
    /// Bytes of a skippable chunk still to skip.
    rx_skip: usize,
}

impl Codec {
    pub(crate) fn new(reset_tx: bool) -> Self {
        Self {
            reset_tx,
            tx_started: false,
            encoder: snap::raw::Encoder::new(),
            tx_open: false,
            tx_pending: Vec::new(),
            decoder: snap::raw::Decoder::new(),
            rx_pending: Vec::new(),
            rx_skip: 0,
        }
    }

    /// Whether every message we send starts a new stream (no context takeover).
    pub(crate) fn resets(&self) -> bool {
        self.reset_tx
    }

    fn start_message(&mut self, out: &mut Vec<u8>) {
        if self.reset_tx || !self.tx_started {
            out.extend_from_slice(&IDENTIFIER);
            self.tx_started = true;
        }
    }

    /// One chunk for `block` (≤ 64 KiB): compressed when that saves an eighth, as
    /// python-snappy does, stored otherwise.
    fn chunk(&mut self, block: &[u8], out: &mut Vec<u8>) {
        let crc = masked_crc(block).to_le_bytes();
        let at = out.len();
        out.extend_from_slice(&[0; 8]);
        out.resize(at + 8 + snap::raw::max_compress_len(block.len()), 0);
        let n = self
            .encoder
            .compress(block, &mut out[at + 8..])
            .unwrap_or(usize::MAX);
        let kind = if n <= block.len() - block.len() / 8 {
            out.truncate(at + 8 + n);
            0x00
        } else {
            out.truncate(at + 8);
            out.extend_from_slice(block);
            0x01
        };
        let len = (out.len() - at - 4) as u32;
        out[at] = kind;
        out[at + 1..at + 4].copy_from_slice(&len.to_le_bytes()[..3]);
        out[at + 4..at + 8].copy_from_slice(&crc);
    }

    /// Compresses a whole message.
    pub(crate) fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        self.start_message(out);
        for block in payload.chunks(MAX_BLOCK) {
            self.chunk(block, out);
        }
    }

    /// Compresses the next part of a message; `fin` ends it. Parts are gathered into full
    /// 64 KiB blocks, so the chunks are the same as for the whole message.
    pub(crate) fn compress_part(&mut self, input: &[u8], out: &mut Vec<u8>, fin: bool) {
        if !self.tx_open {
            self.start_message(out);
        }
        self.tx_pending.extend_from_slice(input);
        let mut pending = std::mem::take(&mut self.tx_pending);
        let whole = if fin {
            pending.len()
        } else {
            pending.len() / MAX_BLOCK * MAX_BLOCK
        };
        for block in pending[..whole].chunks(MAX_BLOCK) {
            self.chunk(block, out);
        }
        pending.drain(..whole);
        self.tx_pending = pending;
        self.tx_open = !fin;
    }

    /// Decompresses a piece of a message onto `out`, failing once `out` would pass `limit`.
    pub(crate) fn decompress(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DecompressError> {
        loop {
            if self.rx_skip > 0 {
                let n = self.rx_skip.min(input.len());
                self.rx_skip -= n;
                input = &input[n..];
            }
            if input.is_empty() {
                return Ok(());
            }
            // Gather the header, then the chunk's body.
            let need = if self.rx_pending.len() < 4 {
                4
            } else {
                4 + chunk_len(&self.rx_pending)
            };
            let n = (need - self.rx_pending.len()).min(input.len());
            self.rx_pending.extend_from_slice(&input[..n]);
            input = &input[n..];
            if self.rx_pending.len() < 4 {
                continue;
            }
            let (kind, len) = (self.rx_pending[0], chunk_len(&self.rx_pending));
            match kind {
                0xff if len != 6 => return Err(DecompressError::Corrupt),
                0x00 | 0x01 if len < 4 || len > max_chunk() => {
                    return Err(DecompressError::Corrupt)
                }
                0x02..=0x7f => return Err(DecompressError::Corrupt),
                0x80..=0xfe => {
                    // Skippable (0xfe: padding): skip without buffering.
                    self.rx_skip = len;
                    self.rx_pending.clear();
                    continue;
                }
                _ => {}
            }
            if self.rx_pending.len() < 4 + len {
                continue;
            }
            let chunk = std::mem::take(&mut self.rx_pending);
            let r = self.data_chunk(kind, &chunk[4..], out, limit);
            self.rx_pending = chunk;
            self.rx_pending.clear();
            r?;
        }
    }

    /// One whole chunk of type 0x00, 0x01 or 0xff.
    fn data_chunk(
        &mut self,
        kind: u8,
        body: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DecompressError> {
        if kind == 0xff {
            return if body == &IDENTIFIER[4..] {
                Ok(())
            } else {
                Err(DecompressError::Corrupt)
            };
        }
        let (crc, data) = body.split_at(4);
        let at = out.len();
        let len = if kind == 0x00 {
            snap::raw::decompress_len(data).map_err(|_| DecompressError::Corrupt)?
        } else {
            data.len()
        };
        if len > MAX_BLOCK {
            return Err(DecompressError::Corrupt);
        }
        if at + len > limit {
            return Err(DecompressError::TooLarge);
        }
        out.resize(at + len, 0);
        if kind == 0x00 {
            let n = self
                .decoder
                .decompress(data, &mut out[at..])
                .map_err(|_| DecompressError::Corrupt)?;
            out.truncate(at + n);
        } else {
            out[at..].copy_from_slice(data);
        }
        if masked_crc(&out[at..]).to_le_bytes() != crc {
            return Err(DecompressError::Corrupt);
        }
        Ok(())
    }

    /// Ends a message: it must end on a chunk boundary.
    pub(crate) fn finish(&mut self) -> Result<(), DecompressError> {
        let whole = self.rx_pending.is_empty() && self.rx_skip == 0;
        self.rx_pending = Vec::new();
        self.rx_skip = 0;
        if whole {
            Ok(())
        } else {
            Err(DecompressError::Corrupt)
        }
    }
}

/// The 24-bit little-endian length in a chunk header.
fn chunk_len(header: &[u8]) -> usize {
    usize::from(header[1]) | usize::from(header[2]) << 8 | usize::from(header[3]) << 16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(c: &mut Codec, wire: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
        let mut out = Vec::new();
        for piece in wire.chunks(5) {
            c.decompress(piece, &mut out, limit)?;
        }
        c.finish()?;
        Ok(out)
    }

    #[test]
    // The spec's formula, written out, not our rotate_right.
    #[allow(clippy::manual_rotate)]
    fn the_framing_format_matches_the_spec() {
        // "abc" is stored (too short to compress), behind its masked CRC-32C.
        let mut c = Codec::new(false);
        let mut wire = Vec::new();
        c.compress(b"abc", &mut wire);
        assert_eq!(&wire[..10], &IDENTIFIER);
        assert_eq!(&wire[10..14], &[0x01, 7, 0, 0]);
        let crc = crc32c::crc32c(b"abc");
        assert_eq!(crc, 0x364b_3fb7, "CRC-32C check value of \"abc\"");
        let masked = ((crc >> 15) | (crc << 17)).wrapping_add(0xa282_ead8);
        assert_eq!(&wire[14..18], &masked.to_le_bytes());
        assert_eq!(&wire[18..], b"abc");
        // With context takeover the next message has no identifier; without, it has.
        let mut next = Vec::new();
        c.compress(b"abc", &mut next);
        assert_eq!(next, &wire[10..]);
        let mut r = Codec::new(true);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        r.compress(b"abc", &mut a);
        r.compress(b"abc", &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn messages_round_trip_whole_and_in_parts() {
        let text: Vec<u8> = (0..40_000u32)
            .flat_map(|i| format!("{{\"i\":{i}}}").into_bytes())
            .collect();
        for reset in [false, true] {
            let mut tx = Codec::new(reset);
            let mut rx = Codec::new(false);
            for msg in [&b""[..], b"x", &text[..], &text[..]] {
                let mut wire = Vec::new();
                tx.compress(msg, &mut wire);
                assert_eq!(inflate(&mut rx, &wire, usize::MAX).unwrap(), msg);
                let mut wire = Vec::new();
                for part in msg.chunks(10_000) {
                    tx.compress_part(part, &mut wire, false);
                }
                tx.compress_part(b"", &mut wire, true);
                assert_eq!(inflate(&mut rx, &wire, usize::MAX).unwrap(), msg);
            }
        }
    }

    #[test]
    fn bad_chunks_bombs_and_truncation_are_refused() {
        let mut tx = Codec::new(true);
        let mut rx = Codec::new(false);
        let mut wire = Vec::new();
        tx.compress(&vec![7u8; 200_000], &mut wire);
        assert_eq!(
            inflate(&mut rx, &wire, 100_000),
            Err(DecompressError::TooLarge)
        );
        rx.finish().ok();
        assert_eq!(
            inflate(&mut rx, &wire[..wire.len() - 1], 1 << 20),
            Err(DecompressError::Corrupt)
        );
        // A wrong CRC (the first data chunk's, after the identifier and its header).
        let mut flipped = wire.clone();
        flipped[14] ^= 1;
        assert_eq!(
            inflate(&mut rx, &flipped, 1 << 20),
            Err(DecompressError::Corrupt)
        );
        rx.finish().ok();
        assert!(inflate(&mut rx, b"\x02\x00\x00\x00", 10).is_err());
        rx.finish().ok();
        // A skippable chunk is skipped; padding too.
        let mut skip = b"\x80\x03\x00\x00abc\xfe\x01\x00\x00z".to_vec();
        skip.extend_from_slice(&wire);
        assert_eq!(inflate(&mut rx, &skip, 1 << 20).unwrap().len(), 200_000);
    }
}
