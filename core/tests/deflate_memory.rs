//! What `DeflateCodec::memory()` reports is what the codec really holds: a counting global
//! allocator measures the heap each step allocates and keeps, per thread.
#![cfg(feature = "deflate")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ferrobahn_core::deflate::{DeflateCodec, DeflateParams};

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|l| l.set(l.get() + layout.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|l| l.set(l.get() - layout.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn live() -> isize {
    LIVE.with(|l| l.get())
}

fn params(bits: u8, no_context: bool) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: no_context,
        client_no_context_takeover: no_context,
        server_max_window_bits: bits,
        client_max_window_bits: bits,
    }
}

fn text(len: usize) -> Vec<u8> {
    let mut x = 7u32;
    let mut out = Vec::new();
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.extend_from_slice(format!("{{\"id\":{},\"v\":{}}},", x % 997, x % 13).as_bytes());
    }
    out.truncate(len);
    out
}

/// One message each way; returns (held after sending, held after receiving too) as measured,
/// next to what `memory()` said at those points.
fn measure(bits: u8, no_context: bool, free_idle: bool) -> [(isize, usize); 2] {
    let msg = text(20_000);
    let mut peer = DeflateCodec::new(params(bits, no_context), true, 1);
    let mut wire = Vec::new();
    peer.compress(&msg, &mut wire);
    let mut back = Vec::with_capacity(2 * msg.len());
    let mut out = Vec::with_capacity(2 * msg.len());

    let base = live();
    let mut codec = DeflateCodec::new(params(bits, no_context), false, 1);
    codec.set_free_idle(free_idle);
    assert_eq!(codec.memory(), 0, "nothing before the first message");
    assert_eq!(live() - base, 0);
    codec.compress(&msg, &mut back);
    let sent = (live() - base, codec.memory());
    codec.decompress(&wire, &mut out, 1 << 20).unwrap();
    codec.finish(&mut out, 1 << 20).unwrap();
    assert_eq!(out, msg);
    let both = (live() - base, codec.memory());
    drop(codec);
    assert_eq!(live(), base, "dropping the codec frees everything");
    [sent, both]
}

fn close(measured: isize, reported: usize) -> bool {
    let m = measured as f64;
    (m - reported as f64).abs() <= 0.02 * m.max(1024.0)
}

#[test]
fn reported_memory_is_measured_memory() {
    for bits in [8, 9, 11, 12, 15] {
        for no_context in [false, true] {
            let [sent, both] = measure(bits, no_context, false);
            println!("bits {bits:2} no_context {no_context:5}: compressor {sent:?}, both {both:?}");
            assert!(close(sent.0, sent.1), "bits {bits}: {sent:?}");
            assert!(close(both.0, both.1), "bits {bits}: {both:?}");
        }
    }
}

#[test]
fn small_windows_hold_less() {
    let big = measure(15, false, false)[0].0;
    let small = measure(9, false, false)[0].0;
    assert!(small * 10 < big, "9 bits: {small} B, 15 bits: {big} B");
}

#[test]
fn free_idle_without_context_holds_nothing_between_messages() {
    let [sent, both] = measure(15, true, true);
    assert_eq!(sent, (0, 0));
    assert_eq!(both, (0, 0));
}
