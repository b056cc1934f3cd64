//! Throughput of the WebSocket masking kernels against `copy_from_slice`.
//!
//! `cargo bench --bench mask -- --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrobahn_core::mask::{apply_mask, kernels};

const SIZES: [(&str, usize); 5] = [
    ("16B", 16),
    ("125B", 125),
    ("4KiB", 4 << 10),
    ("64KiB", 64 << 10),
    ("1MiB", 1 << 20),
];

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A `len`-byte slice of `storage` that starts `offset` bytes past a 64-byte boundary.
fn aligned_slice(storage: &mut Vec<u8>, len: usize, offset: usize) -> &mut [u8] {
    storage.clear();
    storage.resize(len + offset + 64, 0xa5);
    let base = storage.as_ptr().align_offset(64) + offset;
    &mut storage[base..base + len]
}

fn mask(c: &mut Criterion) {
    eprintln!("apply_mask uses the {} kernel", kernels::selected());
    let mut storage = Vec::new();
    let mut src_storage = Vec::new();
    for (label, len) in SIZES {
        let mut group = c.benchmark_group(format!("mask_{label}"));
        group.throughput(Throughput::Bytes(len as u64));

        let src = aligned_slice(&mut src_storage, len, 0);
        let buf = aligned_slice(&mut storage, len, 0);
        group.bench_function("copy_from_slice", |b| {
            b.iter(|| {
                black_box(&mut *buf).copy_from_slice(black_box(&*src));
            })
        });
        for (name, kernel) in kernels::available() {
            group.bench_function(name, |b| {
                b.iter(|| kernel(black_box(&mut *buf), black_box(KEY), black_box(0)))
            });
        }
        group.bench_function("apply_mask", |b| {
            b.iter(|| apply_mask(black_box(&mut *buf), black_box(KEY), black_box(0)))
        });

        // A payload right after a 2-byte frame header: the usual, unaligned case.
        let buf = aligned_slice(&mut storage, len, 2);
        group.bench_function("apply_mask_offset2", |b| {
            b.iter(|| apply_mask(black_box(&mut *buf), black_box(KEY), black_box(0)))
        });
        group.finish();
    }
}

criterion_group!(benches, mask);
criterion_main!(benches);
