//! Streaming UTF-8 validation (`ferrobahn_core::utf8::Utf8Validator`, fed in 4 KiB pieces as
//! socket reads would deliver them) against `simdutf8::basic::from_utf8` on the same whole
//! buffer. Target: ≥0.9× simdutf8's throughput.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrobahn::core::utf8::Utf8Validator;

fn texts() -> Vec<(&'static str, Vec<u8>)> {
    let ascii: Vec<u8> =
        b"The quick brown fox jumps over the lazy dog. 0123456789 {\"json\": true}\n"
            .iter()
            .copied()
            .cycle()
            .take(1 << 20)
            .collect();
    let multi_src = "Grüße, κόσμε, こんにちは世界, Привет мир, 🦀 Rust, ascii too. ";
    let mut multi = Vec::with_capacity(1 << 20);
    while multi.len() + multi_src.len() <= 1 << 20 {
        multi.extend_from_slice(multi_src.as_bytes());
    }
    vec![("ascii", ascii), ("multilingual", multi)]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("utf8");
    for (name, text) in texts() {
        for size in [4096usize, 65536, 1 << 20] {
            let mut end = size.min(text.len());
            while std::str::from_utf8(&text[..end]).is_err() {
                end -= 1;
            }
            let data = &text[..end];
            g.throughput(Throughput::Bytes(data.len() as u64));
            g.bench_with_input(
                BenchmarkId::new(format!("simdutf8_whole/{name}"), size),
                data,
                |b, d| b.iter(|| simdutf8::basic::from_utf8(std::hint::black_box(d)).is_ok()),
            );
            g.bench_with_input(
                BenchmarkId::new(format!("streaming_4k/{name}"), size),
                data,
                |b, d| {
                    b.iter(|| {
                        let mut v = Utf8Validator::new();
                        for piece in std::hint::black_box(d).chunks(4096) {
                            v.feed(piece).unwrap();
                        }
                        v.finish().is_ok()
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
