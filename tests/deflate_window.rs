//! What we compress under a negotiated window of N bits (RFC 7692 §7.1.2) must inflate with a
//! decoder that keeps only 2^N bytes of history. For every N in 9..=15, several messages in a
//! row (context takeover) of text and of random bytes are compressed by the server-side codec
//! and inflated by Python's zlib with `decompressobj(wbits=-N)`, an independent decoder that
//! rejects any back-reference beyond its window ("invalid distance too far back").

use std::process::Command;

use ferrobahn::core::deflate::{DeflateCodec, DeflateParams};

fn messages() -> Vec<Vec<u8>> {
    let text: Vec<u8> = "Human readable text with repeats, {\"key\": [1, 2, 3]}, Grüße. "
        .bytes()
        .cycle()
        .take(200_000)
        .collect();
    let mut x = 0x9E37_79B9u32;
    let mut random = move |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                // Half random, half from a small alphabet: matches at every distance.
                if x & 0x100 != 0 {
                    x as u8
                } else {
                    b"abcd"[(x % 4) as usize]
                }
            })
            .collect()
    };
    vec![
        text[..1000].to_vec(),
        random(5000),
        text[..70_000].to_vec(),
        random(120_000),
        text.clone(),
        random(300),
    ]
}

#[test]
fn every_window_inflates_with_a_window_limited_zlib() {
    let dir = std::env::temp_dir().join(format!("ferrobahn-window-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let msgs = messages();
    for (i, m) in msgs.iter().enumerate() {
        std::fs::write(dir.join(format!("plain-{i}")), m).unwrap();
    }
    for bits in 9..=15u8 {
        let params = DeflateParams {
            server_max_window_bits: bits,
            ..DeflateParams::default()
        };
        let mut codec = DeflateCodec::new(params, false, 6);
        for (i, m) in msgs.iter().enumerate() {
            let mut wire = Vec::new();
            codec.compress(m, &mut wire);
            std::fs::write(dir.join(format!("w{bits}-{i}")), &wire).unwrap();
        }
    }
    let script = r#"
import sys, zlib, os
d, n = sys.argv[1], int(sys.argv[2])
bad = 0
for bits in range(9, 16):
    z = zlib.decompressobj(wbits=-bits)
    for i in range(n):
        plain = open(os.path.join(d, f"plain-{i}"), "rb").read()
        wire = open(os.path.join(d, f"w{bits}-{i}"), "rb").read()
        try:
            out = z.decompress(wire + b"\x00\x00\xff\xff")
        except zlib.error as e:
            print(f"window {bits} message {i}: {e}"); bad += 1; break
        if out != plain:
            print(f"window {bits} message {i}: content differs"); bad += 1; break
print(f"window check: {7 - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
"#;
    let out = Command::new("python3")
        .args(["-c", script, dir.to_str().unwrap(), &msgs.len().to_string()])
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "zlib rejected our output:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("7 passed, 0 failed"), "{text}");
}
