//! A DEFLATE encoder for small windows (2^8 ..= 2^11 bytes): greedy LZ77 over a hash chain
//! that never reaches further back than the window, coded with the fixed Huffman codes of
//! RFC 1951 §3.2.6.
//!
//! Why our own: miniz_oxide always matches over 32 KiB. Bounding its distances means a full
//! flush every 2^N input bytes, and each full flush clears 128 KiB of hash chains and builds
//! a dynamic Huffman block for 256..2048 bytes of input. At 8 bits that ran at 15 MB/s with a
//! ratio of 2.1 on JSON-like text, and made our server spend 31 s of CPU on Autobahn's 18
//! cases 13.3.* (Autobahn|Python's zlib simply refuses 8 and uses 9). This encoder runs the
//! match search inside the window itself, keeps the history across messages (context
//! takeover) in a buffer of the window's size, and holds a few KiB instead of ~330 KiB, so
//! a small window also means small memory, as the peer that asked for it expects. Fixed codes
//! cost some ratio against dynamic ones, but at these window sizes a block's input is too
//! short for a dynamic table to pay for itself.
//!
//! Output of one message: one fixed-Huffman block (not final), its end-of-block code, then
//! the 3-bit header of an empty stored block padded to a byte: exactly a sync flush with its
//! `00 00 FF FF` already stripped (RFC 7692 §7.2.1).

use alloc::vec;
use alloc::vec::Vec;

/// Largest window this encoder serves; larger ones go to miniz_oxide.
pub(super) const MAX_BITS: u8 = 11;

/// Hash table size: 2^(window bits + 2) entries, at most 2^12 (16 KiB).
const MAX_HASH_BITS: u32 = 12;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
/// Input compressed per pass: positions in the hash chains are `u32`, so a giant message is
/// cut into segments, each carrying the window of the previous one as history.
const SEGMENT: usize = 1 << 30;

/// Matches longer than this index only their first and last positions.
const LONG_MATCH: usize = 32;

/// How many leading bytes `a` and `b` (of equal length) share, eight at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut n = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let d =
            u64::from_le_bytes(x.try_into().unwrap()) ^ u64::from_le_bytes(y.try_into().unwrap());
        if d != 0 {
            return n + (d.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + a[n..]
        .iter()
        .zip(&b[n..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Base length of each length code 257..=285, and its number of extra bits.
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distance of each distance code 0..=29, and its number of extra bits.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Length code index (0..=28) for each match length 3..=258.
const LEN_CODE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut code = 0;
    let mut len = 3;
    while len <= MAX_MATCH {
        while code + 1 < 29 && LEN_BASE[code + 1] as usize <= len {
            code += 1;
        }
        t[len - 3] = code as u8;
        len += 1;
    }
    t
};

/// Distance code (0..=29) for a distance 1..=32768.
fn dist_code(dist: usize) -> usize {
    let x = dist - 1;
    if x < 4 {
        x
    } else {
        let log = (usize::BITS - 1 - x.leading_zeros()) as usize;
        2 * log + ((x >> (log - 1)) & 1)
    }
}

/// The fixed literal/length code of `sym` (0..=287), bit-reversed for LSB-first output, and
/// its length.
fn fixed_code(sym: u16) -> (u32, u32) {
    let (code, len) = match sym {
        0..=143 => (0x30 + sym as u32, 8),
        144..=255 => (0x190 + (sym as u32 - 144), 9),
        256..=279 => (sym as u32 - 256, 7),
        _ => (0xC0 + (sym as u32 - 280), 8),
    };
    (reverse(code, len), len)
}

fn reverse(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

/// LSB-first bit output into a `Vec`.
struct Bits<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits<'_> {
    #[inline]
    fn put(&mut self, bits: u32, len: u32) {
        self.acc |= (bits as u64) << self.n;
        self.n += len;
        if self.n >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.n -= 32;
        }
    }

    /// Writes the pending bits, the last byte zero-padded.
    fn finish(self) {
        let bytes = self.n.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
    }

    /// Writes the whole pending bytes; returns the fewer than 8 bits left over.
    fn suspend(mut self) -> (u64, u32) {
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
        (self.acc, self.n)
    }

    fn literal(&mut self, b: u8) {
        let (c, l) = fixed_code(b as u16);
        self.put(c, l);
    }

    fn matched(&mut self, len: usize, dist: usize) {
        let lc = LEN_CODE[len - MIN_MATCH] as usize;
        let (c, l) = fixed_code(257 + lc as u16);
        self.put(c, l);
        if LEN_EXTRA[lc] > 0 {
            self.put((len - LEN_BASE[lc] as usize) as u32, LEN_EXTRA[lc] as u32);
        }
        let dc = dist_code(dist);
        self.put(reverse(dc as u32, 5), 5);
        if DIST_EXTRA[dc] > 0 {
            self.put(
                (dist - DIST_BASE[dc] as usize) as u32,
                DIST_EXTRA[dc] as u32,
            );
        }
    }
}

/// The encoder's state for one direction of one connection.
pub(super) struct SmallWindow {
    bits: u8,
    hash_bits: u32,
    max_probes: u32,
    /// The last (up to) 2^bits bytes sent: what the peer's window holds between messages.
    history: Vec<u8>,
    /// Hash of three bytes → last position + 1 (0: none), rebuilt per message.
    head: Vec<u32>,
    /// Position & (window - 1) → the previous position + 1 with the same hash.
    prev: Vec<u32>,
    /// A message is open: its block has begun and `acc`/`n` hold its last bits.
    open: bool,
    acc: u64,
    n: u32,
}

impl SmallWindow {
    /// An encoder for a window of 2^`bits` bytes (8..=[`MAX_BITS`]); `level` 1..=9 sets how
    /// many earlier positions a match search tries (2 to 64).
    pub(super) fn new(bits: u8, level: u8) -> Self {
        debug_assert!((8..=MAX_BITS).contains(&bits));
        Self {
            bits,
            hash_bits: (bits as u32 + 2).min(MAX_HASH_BITS),
            max_probes: 1 << (level.clamp(1, 6) as u32),
            history: Vec::new(),
            head: vec![0; 1 << (bits as u32 + 2).min(MAX_HASH_BITS)],
            prev: vec![0; 1 << bits],
            open: false,
            acc: 0,
            n: 0,
        }
    }

    /// Heap bytes held.
    pub(super) fn memory(&self) -> usize {
        self.history.capacity() + (self.head.capacity() + self.prev.capacity()) * 4
    }

    /// Forgets the history (no context takeover) and any message in progress.
    pub(super) fn reset(&mut self) {
        self.history.clear();
        (self.open, self.acc, self.n) = (false, 0, 0);
    }

    /// Compresses the next part of a message, appending the output to `out`; `fin` ends
    /// the message as a sync-flushed block with the `00 00 FF FF` tail left off. Parts end
    /// on a byte boundary; up to 7 bits wait in the encoder for the next part.
    pub(super) fn compress(&mut self, input: &[u8], out: &mut Vec<u8>, fin: bool) {
        let mut bits = Bits {
            out,
            acc: self.acc,
            n: self.n,
        };
        if !self.open {
            // BFINAL = 0, BTYPE = 01 (fixed Huffman codes).
            bits.put(0b010, 3);
            self.open = true;
        }
        let mut work = Vec::new();
        for segment in input.chunks(SEGMENT) {
            work.clear();
            work.extend_from_slice(&self.history);
            work.extend_from_slice(segment);
            self.encode(&work, self.history.len(), &mut bits);
            let keep = work.len().min(1 << self.bits);
            self.history.clear();
            self.history.extend_from_slice(&work[work.len() - keep..]);
        }
        if fin {
            // End of block, then an empty stored block's header (BFINAL 0, BTYPE 00) and
            // padding; its LEN/NLEN are the stripped tail.
            let (c, l) = fixed_code(256);
            bits.put(c, l);
            bits.put(0, 3);
            bits.finish();
            (self.open, self.acc, self.n) = (false, 0, 0);
        } else {
            (self.acc, self.n) = bits.suspend();
        }
    }

    /// Codes `buf[start..]`, matching against all of `buf` within the window.
    fn encode(&mut self, buf: &[u8], start: usize, bits: &mut Bits<'_>) {
        let window = 1usize << self.bits;
        let mask = window - 1;
        self.head.fill(0);
        let hash_bits = self.hash_bits;
        let hash = |p: usize| -> usize {
            let v = u32::from(buf[p]) | u32::from(buf[p + 1]) << 8 | u32::from(buf[p + 2]) << 16;
            (v.wrapping_mul(0x9E37_79B1) >> (32 - hash_bits)) as usize
        };
        let insert = |head: &mut [u32], prev: &mut [u32], p: usize| {
            if p + MIN_MATCH <= buf.len() {
                let h = hash(p);
                prev[p & mask] = head[h];
                head[h] = p as u32 + 1;
            }
        };
        for p in 0..start {
            insert(&mut self.head, &mut self.prev, p);
        }
        let mut p = start;
        while p < buf.len() {
            let (mut best_len, mut best_dist) = (0, 0);
            if p + MIN_MATCH <= buf.len() {
                let limit = (buf.len() - p).min(MAX_MATCH);
                let mut cand = self.head[hash(p)] as usize;
                let mut probes = self.max_probes;
                // Chain entries are positions + 1, strictly decreasing; stop at the window's
                // edge (distance at most window - 1) or when a slot was reused.
                while cand > 0 && probes > 0 {
                    let c = cand - 1;
                    if c >= p || p - c >= window {
                        break;
                    }
                    if buf[c + best_len.min(limit - 1)] == buf[p + best_len.min(limit - 1)] {
                        let len = common_prefix(&buf[c..c + limit], &buf[p..p + limit]);
                        if len > best_len {
                            best_len = len;
                            best_dist = p - c;
                            if len == limit {
                                break;
                            }
                        }
                    }
                    let next = self.prev[c & mask] as usize;
                    if next >= cand {
                        break;
                    }
                    cand = next;
                    probes -= 1;
                }
            }
            if best_len >= MIN_MATCH {
                bits.matched(best_len, best_dist);
                // Index every position of a short match; of a long one (a run, a repeated
                // record) only its ends, as zlib's fast levels do: the middle of a long
                // match rarely starts a better one, and indexing it costs most of the time.
                if best_len <= LONG_MATCH {
                    for q in p..p + best_len {
                        insert(&mut self.head, &mut self.prev, q);
                    }
                } else {
                    for q in (p..p + 4).chain(p + best_len - 4..p + best_len) {
                        insert(&mut self.head, &mut self.prev, q);
                    }
                }
                p += best_len;
            } else {
                bits.literal(buf[p]);
                insert(&mut self.head, &mut self.prev, p);
                p += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miniz_oxide::inflate::stream::InflateState;
    use miniz_oxide::{DataFormat, MZFlush};

    fn inflate(st: &mut InflateState, wire: &[u8]) -> Vec<u8> {
        let mut input = Vec::from(wire);
        input.extend_from_slice(&[0, 0, 0xFF, 0xFF]);
        let mut out = vec![0u8; 1 << 21];
        let r = miniz_oxide::inflate::stream::inflate(st, &input, &mut out, MZFlush::Sync);
        assert!(r.status.is_ok(), "{:?}", r.status);
        assert_eq!(r.bytes_consumed, input.len());
        out.truncate(r.bytes_written);
        out
    }

    /// JSON-like records with random numbers: repeats at short distances, like real traffic.
    fn text(seed: u32, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        let mut out = Vec::with_capacity(len + 64);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let rec = alloc::format!("{{\"id\":{},\"name\":\"sensor-{}\"}},", x % 9973, x % 89);
            out.extend_from_slice(rec.as_bytes());
        }
        out.truncate(len);
        out
    }

    #[test]
    fn common_prefix_counts_across_words() {
        let a = b"0123456789abcdefXYZ";
        for i in 0..a.len() {
            let mut b = *a;
            b[i] ^= 1;
            assert_eq!(common_prefix(a, &b), i);
        }
        assert_eq!(common_prefix(a, a), a.len());
    }

    #[test]
    fn codes_match_rfc1951() {
        assert_eq!(LEN_CODE[0], 0); // 3
        assert_eq!(LEN_CODE[11 - 3], 8);
        assert_eq!(LEN_CODE[12 - 3], 8);
        assert_eq!(LEN_CODE[257 - 3], 27);
        assert_eq!(LEN_CODE[258 - 3], 28);
        for d in 1..=32768 {
            let c = dist_code(d);
            assert!(DIST_BASE[c] as usize <= d, "{d}");
            assert!(d < DIST_BASE[c] as usize + (1 << DIST_EXTRA[c]), "{d}");
        }
        // 'A' is 0x30 + 65 = 0b01110001, sent from its most significant bit.
        assert_eq!(fixed_code(b'A' as u16), (0b10001110, 8));
    }

    #[test]
    fn round_trips_through_miniz_with_history() {
        for bits in 8..=MAX_BITS {
            for level in [1, 9] {
                let mut enc = SmallWindow::new(bits, level);
                let mut st = InflateState::new_boxed(DataFormat::Raw);
                let (mut total, mut sent) = (0, 0);
                for (i, len) in [0usize, 1, 2, 3, 300, 70_000, 5, 258, 259, 4096]
                    .iter()
                    .enumerate()
                {
                    let msg = text(i as u32 + 7, *len);
                    let mut wire = Vec::new();
                    enc.compress(&msg, &mut wire, true);
                    assert_eq!(inflate(&mut st, &wire), msg, "bits {bits} message {i}");
                    total += wire.len();
                    sent += len;
                }
                assert!(total < sent / 2, "bits {bits}: {sent} bytes as {total}");
            }
        }
    }

    #[test]
    fn reset_forgets_history() {
        let mut enc = SmallWindow::new(9, 1);
        let msg = text(3, 400);
        let mut first = Vec::new();
        enc.compress(&msg, &mut first, true);
        let mut again = Vec::new();
        enc.compress(&msg, &mut again, true);
        assert!(
            again.len() < first.len() / 4,
            "the repeat refers to the history"
        );
        enc.reset();
        let mut fresh = Vec::new();
        enc.compress(&msg, &mut fresh, true);
        assert_eq!(fresh, first);
        // A fresh decoder inflates it alone.
        let mut st = InflateState::new_boxed(DataFormat::Raw);
        assert_eq!(inflate(&mut st, &fresh), msg);
    }

    #[test]
    fn a_message_in_parts_equals_it_whole() {
        let msg = text(11, 30_000);
        for bits in [8, 11] {
            let mut whole = Vec::new();
            SmallWindow::new(bits, 1).compress(&msg, &mut whole, true);
            let mut enc = SmallWindow::new(bits, 1);
            let mut parts = Vec::new();
            for piece in msg.chunks(777) {
                enc.compress(piece, &mut parts, false);
            }
            enc.compress(&[], &mut parts, true);
            let mut st = InflateState::new_boxed(DataFormat::Raw);
            assert_eq!(inflate(&mut st, &parts), msg);
            // Cutting the input only cuts matches at the cuts.
            assert!(
                parts.len() < whole.len() * 11 / 10,
                "{} vs {}",
                parts.len(),
                whole.len()
            );
        }
    }

    #[test]
    fn long_runs_and_incompressible_bytes() {
        let mut enc = SmallWindow::new(8, 6);
        let mut st = InflateState::new_boxed(DataFormat::Raw);
        let zeros = vec![0u8; 100_000];
        let mut wire = Vec::new();
        enc.compress(&zeros, &mut wire, true);
        assert!(wire.len() < 1000);
        assert_eq!(inflate(&mut st, &wire), zeros);
        let mut x = 99u32;
        let noise: Vec<u8> = (0..50_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        wire.clear();
        enc.compress(&noise, &mut wire, true);
        assert_eq!(inflate(&mut st, &wire), noise);
    }
}
