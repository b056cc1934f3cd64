//! Frame header parse/emit and whole-frame decode (header + unmask + UTF-8 check) through the
//! sans-IO decoder, for small and large payloads.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrobahn::core::connection::write_frame;
use ferrobahn::core::{Config, Decoder, Event, FrameHeader, OpCode, Role};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame");
    let h = FrameHeader {
        fin: true,
        rsv: 0,
        opcode: OpCode::Text,
        mask: Some([1, 2, 3, 4]),
        payload_len: 1000,
    };
    let mut hb = [0u8; 14];
    let n = h.emit(&mut hb).unwrap();
    g.bench_function("header_parse", |b| {
        b.iter(|| FrameHeader::parse(std::hint::black_box(&hb[..n])))
    });
    g.bench_function("header_emit", |b| {
        let mut out = [0u8; 14];
        b.iter(|| std::hint::black_box(&h).emit(&mut out))
    });
    for size in [16usize, 1024, 65536, 1 << 20] {
        let payload: Vec<u8> = b"0123456789abcdef"
            .iter()
            .copied()
            .cycle()
            .take(size)
            .collect();
        let mut wire = vec![0u8; size + 14];
        let len = write_frame(
            &mut wire,
            OpCode::Text,
            true,
            0,
            &payload,
            Some([9, 8, 7, 6]),
        )
        .unwrap();
        wire.truncate(len);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(
            BenchmarkId::new("decode_text_frame", size),
            &wire,
            |b, wire| {
                let mut buf = wire.clone();
                b.iter(|| {
                    buf.copy_from_slice(wire);
                    let mut dec = Decoder::new(Role::Server, Config::DEFAULT);
                    let mut pos = 0;
                    let mut seen = 0;
                    loop {
                        let (n, ev) = dec.decode(&mut buf[pos..]).unwrap();
                        pos += n;
                        match ev {
                            Some(Event::Data(d)) => seen += d.len(),
                            Some(Event::FrameEnd { .. }) => break,
                            _ => {}
                        }
                    }
                    seen
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("encode_masked_frame", size),
            &payload,
            |b, p| {
                let mut out = vec![0u8; size + 14];
                b.iter(|| {
                    write_frame(&mut out, OpCode::Text, true, 0, p, Some([9, 8, 7, 6])).unwrap()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
