//! permessage-deflate window sizes (RFC 7692 §7.1.2): what we compress after agreeing on a
//! window of N bits must inflate with a decoder that keeps only 2^N bytes of history.
//!
//! For every N in 8..=15 and compression levels 1 (miniz's fast path, our default) and 9,
//! the server-side `DeflateCodec` (server_max_window_bits = N, context takeover on)
//! compresses a series of messages: text and (partly) random bytes from 1 B to 256 KiB, full
//! of repeats at every distance up to 32 KiB, within a message and across messages. Python's
//! zlib inflates each series with `decompressobj(wbits=-N)` (a 2^N-byte window), appending
//! `00 00 FF FF` to each message, and compares with the originals.
//!
//! zlib only checks a distance against its window when the match reaches back past the
//! output of the current `inflate()` call: a decoder handed a whole message in one call
//! accepts references beyond its window as long as they land in output it has just produced.
//! The checker therefore asks for one byte of output per call, so that every back-reference
//! goes through the window and one that is too far fails with "invalid distance too far back".

use std::path::{Path, PathBuf};
use std::process::Command;

use ferrobahn::core::deflate::{DeflateCodec, DeflateParams};

const WINDOWS: std::ops::RangeInclusive<u8> = 8..=15;
const LEVELS: [u8; 2] = [1, 9];

/// xorshift64*: reproducible data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() >> 33) as usize % n
    }

    /// A distance spread evenly over the powers of two 1 ..= 32 KiB.
    fn distance(&mut self) -> usize {
        let bits = self.below(15);
        (1 << bits) + self.below(1 << bits)
    }
}

/// Appends a copy of `len` earlier bytes from `distance` back (overlapping like LZ77).
fn copy_back(buf: &mut Vec<u8>, distance: usize, len: usize) {
    let from = buf.len() - distance.min(buf.len());
    for i in 0..len {
        let b = buf[from + i];
        buf.push(b);
    }
}

/// JSON-like ASCII lines from a small vocabulary, with earlier pieces repeated from up to
/// 32 KiB back.
fn text(mut buf: Vec<u8>, n: usize, rng: &mut Rng) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "sensor", "window", "deflate", "message", "frame", "context", "takeover", "server",
        "client", "payload", "history", "distance", "literal", "length", "block", "stream",
    ];
    while buf.len() < n {
        if buf.len() > 64 && rng.below(3) == 0 {
            let d = rng.distance();
            copy_back(&mut buf, d, 8 + rng.below(120));
        } else {
            let line = format!(
                "{{\"id\": {}, \"name\": \"{} {}\", \"tags\": [\"{}\"], \"v\": {}}}\n",
                rng.below(100_000),
                WORDS[rng.below(16)],
                WORDS[rng.below(16)],
                WORDS[rng.below(16)],
                rng.below(1000),
            );
            buf.extend_from_slice(line.as_bytes());
        }
    }
    buf.truncate(n);
    buf
}

/// Random bytes; with `repeats`, interleaved with copies of earlier bytes from up to 32 KiB
/// back.
fn binary(mut buf: Vec<u8>, n: usize, repeats: bool, rng: &mut Rng) -> Vec<u8> {
    while buf.len() < n {
        if repeats && buf.len() > 64 && rng.below(2) == 0 {
            let d = rng.distance();
            copy_back(&mut buf, d, 8 + rng.below(300));
        } else {
            for _ in 0..1 + rng.below(200) {
                buf.push(rng.next() as u8);
            }
        }
    }
    buf.truncate(n);
    buf
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Random,
    Repeats,
}

/// The series of messages, sent in this order on one connection. Each one starts with up to
/// 2 KiB taken from about 20 KiB before the end of the previous message of its sort (text or
/// binary), so that the compressor finds matches in the previous messages too.
fn messages() -> Vec<Vec<u8>> {
    use Kind::*;
    let plan = [
        (Text, 1),
        (Random, 100),
        (Text, 1000),
        (Repeats, 4096),
        (Text, 20_000),
        (Random, 65_536),
        (Repeats, 100_000),
        (Text, 256 * 1024),
        (Repeats, 256 * 1024),
        (Text, 5000),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut last_text, mut last_binary) = (Vec::new(), Vec::<u8>::new());
    let mut out = Vec::new();
    for (kind, n) in plan {
        let prev = if matches!(kind, Text) {
            &last_text
        } else {
            &last_binary
        };
        let from = prev.len().saturating_sub(20_000);
        let take = (n / 2).min(2048).min(prev.len() - from);
        let start = prev[from..from + take].to_vec();
        let m = match kind {
            Text => text(start, n, &mut rng),
            Random => binary(start, n, false, &mut rng),
            Repeats => binary(start, n, true, &mut rng),
        };
        assert_eq!(m.len(), n);
        if matches!(kind, Text) {
            last_text = m.clone();
        } else {
            last_binary = m.clone();
        }
        out.push(m);
    }
    out
}

/// Inflates every series in `dir` with Python's zlib limited to its window.
const CHECKER: &str = r#"
import os, sys, zlib

def inflate_strict(d, data):
    # One byte of output per inflate() call: every back-reference goes through the 2^N-byte
    # window (a bigger output buffer would also let it reach the output of the same call).
    out, pos, pending = bytearray(), 0, b""
    while True:
        if not pending:
            if pos >= len(data):
                break
            pending, pos = data[pos:pos + 64], pos + 64
        out += d.decompress(pending, 1)
        pending = d.unconsumed_tail
    while True:
        b = d.decompress(b"", 1)
        if not b:
            return bytes(out)
        out += b

d_dir, count = sys.argv[1], int(sys.argv[2])
windows, levels = [int(x) for x in sys.argv[3].split(",")], [int(x) for x in sys.argv[4].split(",")]
plain = [open(os.path.join(d_dir, f"plain-{i}"), "rb").read() for i in range(count)]
passed = failed = 0
for bits in windows:
    for level in levels:
        d = zlib.decompressobj(wbits=-bits)
        wire_total = 0
        try:
            for i in range(count):
                wire = open(os.path.join(d_dir, f"w{bits}-l{level}-{i}"), "rb").read()
                wire_total += len(wire)
                out = inflate_strict(d, wire + b"\x00\x00\xff\xff")
                if d.eof or d.unused_data:
                    raise ValueError("the stream ended inside the message")
                if out != plain[i]:
                    raise ValueError(f"inflated to {len(out)} bytes that differ from the {len(plain[i])} sent")
        except (zlib.error, ValueError) as e:
            failed += 1
            print(f"FAIL window {bits} level {level}: message {i} ({len(plain[i])} bytes): {e}")
            continue
        passed += 1
        print(f"ok   window {bits} level {level}: {count} messages, {sum(map(len, plain))} bytes as {wire_total}")
print(f"window check: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
"#;

fn scratch_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "ferrobahn-deflate-window-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Removes the scratch directory even when the test fails.
struct Cleanup<'a>(&'a Path);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0);
    }
}

#[test]
fn every_window_inflates_with_a_window_limited_zlib() {
    let dir = scratch_dir();
    let _cleanup = Cleanup(&dir);
    let msgs = messages();
    for (i, m) in msgs.iter().enumerate() {
        std::fs::write(dir.join(format!("plain-{i}")), m).unwrap();
    }
    for bits in WINDOWS {
        for level in LEVELS {
            let params = DeflateParams {
                server_max_window_bits: bits,
                ..DeflateParams::default()
            };
            // The server's codec: it compresses with the server's window.
            let mut codec = DeflateCodec::new(params, false, level);
            for (i, m) in msgs.iter().enumerate() {
                let mut wire = Vec::new();
                codec.compress(m, &mut wire);
                std::fs::write(dir.join(format!("w{bits}-l{level}-{i}")), &wire).unwrap();
            }
        }
    }

    let windows = WINDOWS.map(|b| b.to_string()).collect::<Vec<_>>();
    let levels = LEVELS.map(|l| l.to_string());
    let out = Command::new("python3")
        .args(["-c", CHECKER])
        .arg(&dir)
        .arg(msgs.len().to_string())
        .args([windows.join(","), levels.join(",")])
        .output()
        .expect("python3 is needed to run this test (any Python 3 with zlib)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    let expected = format!(
        "window check: {} passed, 0 failed",
        WINDOWS.count() * LEVELS.len()
    );
    assert!(
        out.status.success() && stdout.contains(&expected),
        "zlib limited to the negotiated window rejected our output:\n{stdout}{stderr}"
    );
}
