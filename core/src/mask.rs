//! WebSocket payload masking (RFC 6455 §5.3).
//!
//! Every frame a client sends carries a 4-byte masking key; each payload byte `i`
//! is XORed with `key[i % 4]`. Masking and unmasking are the same operation.
//!
//! [`apply_mask`] picks the fastest kernel for the CPU:
//!
//! * without the `std` feature, at compile time from the enabled target features
//!   (`avx2`, then `sse2`, then `neon`, else the portable word-at-a-time kernel);
//! * with `std`, once at run time (`is_x86_feature_detected!` and friends), with
//!   the choice cached in an atomic.
//!
//! Buffers shorter than [`SMALL`] bytes always take the byte-at-a-time loop.
//!
//! The individual kernels are reachable through the hidden [`kernels`] module
//! for benchmarks and tests. The SIMD ones are handed out only as
//! `Option<Kernel>`, which is `Some` only when the CPU supports them, so safe
//! code can never run an instruction the CPU lacks.

// The SIMD kernels are `unsafe fn`s; every unsafe operation inside them still
// needs its own `unsafe {}` block with a `SAFETY:` justification.
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "std")]
extern crate std;

/// Buffers shorter than this go straight to the byte-at-a-time loop: the SIMD
/// set-up (key broadcast, head alignment) is not worth it below this size.
pub const SMALL: usize = 16;

/// The signature shared by [`apply_mask`] and every kernel in [`kernels`].
pub type Kernel = fn(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize;

/// XORs `buf` in place with the 4-byte masking `key`, where `buf[0]` lines up with `key[phase % 4]`.
///
/// Masking and unmasking are the same operation. Returns the phase for the byte after `buf`,
/// i.e. `(phase + buf.len()) % 4`, so a payload split across reads can be unmasked piecewise.
///
/// ```
/// use ferrobahn_core::mask::apply_mask;
///
/// // RFC 6455 §5.7: a masked "Hello".
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut payload = *b"Hello";
/// assert_eq!(apply_mask(&mut payload, key, 0), 1);
/// assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
///
/// // Unmasking in pieces, carrying the phase along.
/// let phase = apply_mask(&mut payload[..3], key, 0);
/// apply_mask(&mut payload[3..], key, phase);
/// assert_eq!(&payload, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    if buf.len() < SMALL {
        return kernels::scalar(buf, key, phase);
    }
    dispatch::run(buf, key, phase)
}

/// The phase after `len` more bytes, reduced mod 4 (`usize` wraps at a multiple of 4).
#[inline(always)]
const fn next_phase(phase: usize, len: usize) -> usize {
    phase.wrapping_add(len) & 3
}

/// `N` bytes of the key stream starting at `phase`: `key[(phase + i) % 4]`.
/// With `N` a multiple of 4 this is the key rotated by `phase` and replicated,
/// ready to XOR against any `N`-byte block that starts at that phase.
#[inline(always)]
fn key_stream<const N: usize>(key: [u8; 4], phase: usize) -> [u8; N] {
    let mut out = [0u8; N];
    let phase = phase & 3;
    for (i, b) in out.iter_mut().enumerate() {
        *b = key[(phase + i) & 3];
    }
    out
}

/// Kernel selection. The index constants name the kernels; an index is only
/// ever produced after the matching CPU feature has been established, which is
/// what the `unsafe` calls in [`dispatch::run`] rely on.
mod dispatch {
    use super::kernels;
    #[cfg(feature = "std")]
    use super::std;
    #[cfg(feature = "std")]
    use core::sync::atomic::{AtomicU8, Ordering};

    const WORD: u8 = 1;
    #[cfg(target_arch = "x86_64")]
    const SSE2: u8 = 2;
    #[cfg(target_arch = "x86_64")]
    const AVX2: u8 = 3;
    #[cfg(target_arch = "aarch64")]
    const NEON: u8 = 4;

    /// The best kernel the compile-time target features guarantee.
    const STATIC: u8 = {
        #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
        let k = AVX2;
        #[cfg(all(
            target_arch = "x86_64",
            target_feature = "sse2",
            not(target_feature = "avx2")
        ))]
        let k = SSE2;
        #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
        let k = NEON;
        #[cfg(not(any(
            all(target_arch = "x86_64", target_feature = "sse2"),
            all(target_arch = "aarch64", target_feature = "neon")
        )))]
        let k = WORD;
        k
    };

    /// Run-time choice; 0 until the first call detects the CPU.
    #[cfg(feature = "std")]
    static CHOSEN: AtomicU8 = AtomicU8::new(0);

    #[cfg(feature = "std")]
    #[cold]
    fn detect() -> u8 {
        #[cfg(target_arch = "x86_64")]
        let k = if std::is_x86_feature_detected!("avx2") {
            AVX2
        } else if std::is_x86_feature_detected!("sse2") {
            SSE2
        } else {
            STATIC
        };
        #[cfg(target_arch = "aarch64")]
        let k = if std::arch::is_aarch64_feature_detected!("neon") {
            NEON
        } else {
            STATIC
        };
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        let k = STATIC;
        // Racing first calls all store the same value.
        CHOSEN.store(k, Ordering::Relaxed);
        k
    }

    /// The index of the kernel [`run`] uses.
    #[inline(always)]
    fn chosen() -> u8 {
        #[cfg(feature = "std")]
        {
            match CHOSEN.load(Ordering::Relaxed) {
                0 => detect(),
                k => k,
            }
        }
        #[cfg(not(feature = "std"))]
        {
            STATIC
        }
    }

    /// The name of the kernel [`super::apply_mask`] uses for large buffers.
    pub(super) fn chosen_name() -> &'static str {
        match chosen() {
            #[cfg(target_arch = "x86_64")]
            AVX2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            SSE2 => "sse2",
            #[cfg(target_arch = "aarch64")]
            NEON => "neon",
            _ => "word",
        }
    }

    #[inline]
    pub(super) fn run(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
        let k = chosen();
        match k {
            #[cfg(target_arch = "x86_64")]
            AVX2 => {
                // SAFETY: `AVX2` is only chosen when AVX2 is enabled at compile time
                // (`STATIC`) or `is_x86_feature_detected!("avx2")` returned true (`detect`).
                unsafe { super::x86::avx2(buf, key, phase) }
            }
            #[cfg(target_arch = "x86_64")]
            SSE2 => {
                // SAFETY: `SSE2` is only chosen when SSE2 is enabled at compile time
                // (`STATIC`) or `is_x86_feature_detected!("sse2")` returned true (`detect`).
                unsafe { super::x86::sse2(buf, key, phase) }
            }
            #[cfg(target_arch = "aarch64")]
            NEON => {
                // SAFETY: `NEON` is only chosen when NEON is enabled at compile time
                // (`STATIC`) or `is_aarch64_feature_detected!("neon")` returned true (`detect`).
                unsafe { super::arm::neon(buf, key, phase) }
            }
            _ => {
                debug_assert_eq!(k, WORD);
                kernels::word(buf, key, phase)
            }
        }
    }
}

/// The individual masking kernels, for benchmarks and tests.
///
/// [`scalar`](kernels::scalar) and [`word`](kernels::word) are plain functions.
/// The SIMD kernels are returned as `Option<Kernel>`: `Some` only when the CPU
/// supports the instructions (detected at run time with the `std` feature,
/// otherwise from the compile-time target features), so they cannot be called
/// from safe code on a CPU that lacks them.
#[doc(hidden)]
pub mod kernels {
    pub use super::Kernel;

    /// Byte at a time. The reference every other kernel is tested against.
    pub fn scalar(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
        let mut p = phase & 3;
        for b in buf.iter_mut() {
            *b ^= key[p];
            p = (p + 1) & 3;
        }
        p
    }

    /// Eight bytes at a time through `u64`, in safe portable code. The key is
    /// rotated by `phase` and replicated to 8 bytes; since 8 is a multiple of 4
    /// every 8-byte chunk starts at the same phase.
    pub fn word(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
        let end = super::next_phase(phase, buf.len());
        let k = u64::from_ne_bytes(super::key_stream::<8>(key, phase));
        let mut chunks = buf.chunks_exact_mut(8);
        for chunk in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            chunk.copy_from_slice(&(u64::from_ne_bytes(w) ^ k).to_ne_bytes());
        }
        // The chunks covered a multiple of 8 bytes, so the tail starts at `phase` too.
        scalar(chunks.into_remainder(), key, phase);
        end
    }

    /// 16 bytes at a time with SSE2, if the CPU has it.
    #[cfg(target_arch = "x86_64")]
    pub fn sse2() -> Option<Kernel> {
        fn run(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
            // SAFETY: `run` can only be named inside `sse2()`, which hands it out
            // only after establishing that the CPU supports SSE2.
            unsafe { super::x86::sse2(buf, key, phase) }
        }
        if super::x86::has_sse2() {
            Some(run)
        } else {
            None
        }
    }

    /// 32 bytes at a time with AVX2, if the CPU has it.
    #[cfg(target_arch = "x86_64")]
    pub fn avx2() -> Option<Kernel> {
        fn run(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
            // SAFETY: `run` can only be named inside `avx2()`, which hands it out
            // only after establishing that the CPU supports AVX2.
            unsafe { super::x86::avx2(buf, key, phase) }
        }
        if super::x86::has_avx2() {
            Some(run)
        } else {
            None
        }
    }

    /// 16 bytes at a time with NEON, if the CPU has it.
    #[cfg(target_arch = "aarch64")]
    pub fn neon() -> Option<Kernel> {
        fn run(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
            // SAFETY: `run` can only be named inside `neon()`, which hands it out
            // only after establishing that the CPU supports NEON.
            unsafe { super::arm::neon(buf, key, phase) }
        }
        if super::arm::has_neon() {
            Some(run)
        } else {
            None
        }
    }

    /// Every kernel this CPU can run, by name, slowest first.
    pub fn available() -> impl Iterator<Item = (&'static str, Kernel)> {
        let simd: [Option<(&'static str, Kernel)>; 2] = [
            #[cfg(target_arch = "x86_64")]
            sse2().map(|k| ("sse2", k)),
            #[cfg(target_arch = "x86_64")]
            avx2().map(|k| ("avx2", k)),
            #[cfg(target_arch = "aarch64")]
            neon().map(|k| ("neon", k)),
            #[cfg(target_arch = "aarch64")]
            None,
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            None,
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            None,
        ];
        let portable: [(&'static str, Kernel); 2] = [("scalar", scalar), ("word", word)];
        portable.into_iter().chain(simd.into_iter().flatten())
    }

    /// The name of the kernel [`apply_mask`](super::apply_mask) uses for
    /// buffers of at least [`SMALL`](super::SMALL) bytes.
    pub fn selected() -> &'static str {
        super::dispatch::chosen_name()
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    #[cfg(feature = "std")]
    use super::std;
    use super::{kernels, key_stream, next_phase};
    use core::arch::x86_64::{
        __m128i, __m256i, _mm256_loadu_si256, _mm256_storeu_si256, _mm256_xor_si256,
        _mm_loadu_si128, _mm_storeu_si128, _mm_xor_si128,
    };

    #[inline]
    pub(super) fn has_sse2() -> bool {
        #[cfg(feature = "std")]
        {
            std::is_x86_feature_detected!("sse2")
        }
        #[cfg(not(feature = "std"))]
        {
            cfg!(target_feature = "sse2")
        }
    }

    #[inline]
    pub(super) fn has_avx2() -> bool {
        #[cfg(feature = "std")]
        {
            std::is_x86_feature_detected!("avx2")
        }
        #[cfg(not(feature = "std"))]
        {
            cfg!(target_feature = "avx2")
        }
    }

    /// Bytes to skip from `ptr` to reach an `align`-byte boundary (a power of two).
    /// Used for speed only: the loops below use unaligned loads and stores, so
    /// nothing depends on the result for soundness.
    #[inline(always)]
    fn misalignment(ptr: *const u8, align: usize) -> usize {
        (align - (ptr as usize & (align - 1))) & (align - 1)
    }

    /// XOR 16 bytes at `chunk` with `k`.
    ///
    /// # Safety
    /// The CPU must support SSE2.
    #[inline]
    #[target_feature(enable = "sse2")]
    unsafe fn xor16(chunk: &mut [u8; 16], k: __m128i) {
        let p = chunk.as_mut_ptr().cast::<__m128i>();
        // SAFETY: `p` points to 16 bytes that `chunk` lets us read and write;
        // `loadu`/`storeu` have no alignment requirement; SSE2 is enabled here.
        unsafe { _mm_storeu_si128(p, _mm_xor_si128(_mm_loadu_si128(p), k)) }
    }

    /// SSE2 kernel: scalar head up to a 16-byte boundary, then 64 bytes per
    /// iteration, then 16-byte blocks, then a scalar tail.
    ///
    /// # Safety
    /// The CPU must support SSE2.
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn sse2(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
        let end = next_phase(phase, buf.len());
        if buf.len() < 32 {
            kernels::word(buf, key, phase);
            return end;
        }
        let (head, body) = buf.split_at_mut(misalignment(buf.as_ptr(), 16));
        let phase = kernels::scalar(head, key, phase);
        let ks = key_stream::<16>(key, phase);
        // SAFETY: `ks` is 16 readable bytes; `loadu` has no alignment requirement.
        let k = unsafe { _mm_loadu_si128(ks.as_ptr().cast()) };

        let mut blocks = body.chunks_exact_mut(64);
        for block in &mut blocks {
            let (a, rest) = block.split_at_mut(16);
            let (b, rest) = rest.split_at_mut(16);
            let (c, d) = rest.split_at_mut(16);
            for q in [a, b, c, d] {
                // SAFETY: SSE2 is enabled in this function (caller's contract).
                unsafe { xor16(q.try_into().unwrap(), k) };
            }
        }
        let mut quads = blocks.into_remainder().chunks_exact_mut(16);
        for q in &mut quads {
            // SAFETY: SSE2 is enabled in this function (caller's contract).
            unsafe { xor16(q.try_into().unwrap(), k) };
        }
        // Everything since `head` was a multiple of 16 bytes: the tail is at `phase`.
        kernels::scalar(quads.into_remainder(), key, phase);
        end
    }

    /// XOR 32 bytes at `chunk` with `k`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn xor32(chunk: &mut [u8; 32], k: __m256i) {
        let p = chunk.as_mut_ptr().cast::<__m256i>();
        // SAFETY: `p` points to 32 bytes that `chunk` lets us read and write;
        // `loadu`/`storeu` have no alignment requirement; AVX2 is enabled here.
        unsafe { _mm256_storeu_si256(p, _mm256_xor_si256(_mm256_loadu_si256(p), k)) }
    }

    /// AVX2 kernel: scalar head up to a 32-byte boundary, then 128 bytes per
    /// iteration, then 32-byte blocks, then a scalar tail.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
        let end = next_phase(phase, buf.len());
        if buf.len() < 64 {
            kernels::word(buf, key, phase);
            return end;
        }
        let (head, body) = buf.split_at_mut(misalignment(buf.as_ptr(), 32));
        let phase = kernels::word(head, key, phase);
        let ks = key_stream::<32>(key, phase);
        // SAFETY: `ks` is 32 readable bytes; `loadu` has no alignment requirement.
        let k = unsafe { _mm256_loadu_si256(ks.as_ptr().cast()) };

        let mut blocks = body.chunks_exact_mut(128);
        for block in &mut blocks {
            let (a, rest) = block.split_at_mut(32);
            let (b, rest) = rest.split_at_mut(32);
            let (c, d) = rest.split_at_mut(32);
            for q in [a, b, c, d] {
                // SAFETY: AVX2 is enabled in this function (caller's contract).
                unsafe { xor32(q.try_into().unwrap(), k) };
            }
        }
        let mut quads = blocks.into_remainder().chunks_exact_mut(32);
        for q in &mut quads {
            // SAFETY: AVX2 is enabled in this function (caller's contract).
            unsafe { xor32(q.try_into().unwrap(), k) };
        }
        // Everything since `head` was a multiple of 32 bytes: the tail is at `phase`.
        kernels::word(quads.into_remainder(), key, phase);
        end
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    #[cfg(feature = "std")]
    use super::std;
    use super::{kernels, key_stream, next_phase};
    use core::arch::aarch64::{uint8x16_t, veorq_u8, vld1q_u8, vst1q_u8};

    #[inline]
    pub(super) fn has_neon() -> bool {
        #[cfg(feature = "std")]
        {
            std::arch::is_aarch64_feature_detected!("neon")
        }
        #[cfg(not(feature = "std"))]
        {
            cfg!(target_feature = "neon")
        }
    }

    /// XOR 16 bytes at `chunk` with `k`.
    ///
    /// # Safety
    /// The CPU must support NEON.
    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn xor16(chunk: &mut [u8; 16], k: uint8x16_t) {
        let p = chunk.as_mut_ptr();
        // SAFETY: `p` points to 16 bytes that `chunk` lets us read and write;
        // `vld1q_u8`/`vst1q_u8` need only byte alignment; NEON is enabled here.
        unsafe { vst1q_u8(p, veorq_u8(vld1q_u8(p), k)) }
    }

    /// NEON kernel: 64 bytes per iteration, then 16-byte blocks, then a word/scalar tail.
    ///
    /// # Safety
    /// The CPU must support NEON.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn neon(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
        let end = next_phase(phase, buf.len());
        let ks = key_stream::<16>(key, phase);
        // SAFETY: `ks` is 16 readable bytes; `vld1q_u8` needs only byte alignment.
        let k = unsafe { vld1q_u8(ks.as_ptr()) };

        let mut blocks = buf.chunks_exact_mut(64);
        for block in &mut blocks {
            let (a, rest) = block.split_at_mut(16);
            let (b, rest) = rest.split_at_mut(16);
            let (c, d) = rest.split_at_mut(16);
            for q in [a, b, c, d] {
                // SAFETY: NEON is enabled in this function (caller's contract).
                unsafe { xor16(q.try_into().unwrap(), k) };
            }
        }
        let mut quads = blocks.into_remainder().chunks_exact_mut(16);
        for q in &mut quads {
            // SAFETY: NEON is enabled in this function (caller's contract).
            unsafe { xor16(q.try_into().unwrap(), k) };
        }
        // Everything so far was a multiple of 16 bytes: the tail is at `phase`.
        kernels::word(quads.into_remainder(), key, phase);
        end
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::{apply_mask, kernels, Kernel};
    use std::vec;
    use std::vec::Vec;

    /// xorshift64: small, deterministic, good enough for test inputs.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn key(&mut self) -> [u8; 4] {
            (self.next() as u32).to_le_bytes()
        }
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                *b = self.next() as u8;
            }
        }
    }

    /// Every kernel under test: the ones the CPU can run, plus the dispatcher.
    fn all_kernels() -> Vec<(&'static str, Kernel)> {
        let mut v: Vec<(&'static str, Kernel)> = kernels::available().collect();
        v.push(("apply_mask", apply_mask));
        v
    }

    /// The definition from RFC 6455 §5.3, written independently of every kernel.
    fn reference(data: &[u8], key: [u8; 4], phase: usize) -> Vec<u8> {
        data.iter()
            .enumerate()
            .map(|(i, b)| b ^ key[(phase + i) % 4])
            .collect()
    }

    #[test]
    fn rfc6455_hello_example() {
        // RFC 6455 §5.7: "A single-frame masked text message".
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let masked = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        for (name, k) in all_kernels() {
            let mut buf = *b"Hello";
            assert_eq!(k(&mut buf, key, 0), 1, "{name}");
            assert_eq!(buf, masked, "{name}");
            assert_eq!(k(&mut buf, key, 0), 1, "{name}");
            assert_eq!(&buf, b"Hello", "{name}");
        }
    }

    #[test]
    fn scalar_matches_definition() {
        let mut rng = Rng(0x5eed_0001);
        for len in 0..300 {
            for phase in 0..8 {
                let key = rng.key();
                let mut data = vec![0u8; len];
                rng.fill(&mut data);
                let want = reference(&data, key, phase);
                let got_phase = kernels::scalar(&mut data, key, phase);
                assert_eq!(data, want, "len {len} phase {phase}");
                assert_eq!(got_phase, (phase + len) % 4);
            }
        }
    }

    /// Runs `kernel` on `buf[start..start + len]` where `buf` starts 64-byte aligned,
    /// and `scalar` on a copy; the whole buffer (guard bytes included) must match.
    fn check(name: &str, kernel: Kernel, rng: &mut Rng, start: usize, len: usize, phase: usize) {
        const GUARD: usize = 64;
        let mut storage = vec![0u8; 64 + start + len + GUARD];
        let base = storage.as_ptr().align_offset(64);
        let buf = &mut storage[base..base + start + len + GUARD];
        rng.fill(buf);
        let key = rng.key();
        let mut want = buf.to_vec();
        let want_phase = kernels::scalar(&mut want[start..start + len], key, phase);
        let got_phase = kernel(&mut buf[start..start + len], key, phase);
        assert_eq!(
            got_phase, want_phase,
            "{name}: phase after len {len} offset {start} phase {phase}"
        );
        if buf != &want[..] {
            let at = buf.iter().zip(&want).position(|(a, b)| a != b).unwrap();
            panic!(
                "{name}: len {len} offset {start} phase {phase} key {key:02x?}: first difference at byte {} of the region",
                at as isize - start as isize
            );
        }
    }

    #[test]
    fn kernels_match_scalar_every_alignment_and_phase() {
        let mut rng = Rng(0x5eed_0002);
        let kernels = all_kernels();
        assert!(kernels.len() >= 3);
        for &(name, kernel) in &kernels {
            for start in 0..64 {
                for phase in 0..4 {
                    for _ in 0..4 {
                        let len = rng.below(4096);
                        check(name, kernel, &mut rng, start, len, phase);
                    }
                    // Lengths around the head/body/tail boundaries of every kernel.
                    let len = rng.below(300);
                    check(name, kernel, &mut rng, start, len, phase);
                }
            }
        }
    }

    #[test]
    fn kernels_match_scalar_every_short_length() {
        let mut rng = Rng(0x5eed_0003);
        for (name, kernel) in all_kernels() {
            for len in 0..=300 {
                for start in [0, 1, 3, 8, 15, 16, 17, 31, 32, 33, 63] {
                    let phase = rng.below(4);
                    check(name, kernel, &mut rng, start, len, phase);
                }
            }
        }
    }

    #[test]
    fn twice_is_identity_and_phase_is_returned() {
        let mut rng = Rng(0x5eed_0004);
        for (name, kernel) in all_kernels() {
            for _ in 0..200 {
                let len = rng.below(5000);
                let mut data = vec![0u8; len];
                rng.fill(&mut data);
                let original = data.clone();
                let key = rng.key();
                // Any phase is accepted and read mod 4, up to usize::MAX.
                let phase = match rng.below(3) {
                    0 => rng.below(4),
                    1 => rng.next() as usize,
                    _ => usize::MAX - rng.below(4),
                };
                let want = ((phase % 4) + len) % 4;
                assert_eq!(kernel(&mut data, key, phase), want, "{name} len {len}");
                if len > 0 && key != [0; 4] {
                    assert_ne!(data, original, "{name}: masking changed nothing");
                }
                assert_eq!(kernel(&mut data, key, phase), want, "{name} len {len}");
                assert_eq!(data, original, "{name}: len {len} phase {phase}");
            }
        }
    }

    #[test]
    fn split_unmasking_matches_whole() {
        let mut rng = Rng(0x5eed_0005);
        for (name, kernel) in all_kernels() {
            for _ in 0..200 {
                let len = rng.below(8192);
                let mut payload = vec![0u8; len];
                rng.fill(&mut payload);
                let key = rng.key();
                let start_phase = rng.below(4);

                let mut whole = payload.clone();
                let whole_phase = kernel(&mut whole, key, start_phase);

                let mut pieces = payload.clone();
                let mut at = 0;
                let mut phase = start_phase;
                while at < len {
                    // Mostly small reads, sometimes large ones, sometimes empty.
                    let n = match rng.below(4) {
                        0 => 0,
                        1 => rng.below(20),
                        2 => rng.below(200),
                        _ => rng.below(3000),
                    }
                    .min(len - at);
                    phase = kernel(&mut pieces[at..at + n], key, phase);
                    at += n;
                }
                assert_eq!(phase, whole_phase, "{name}");
                assert_eq!(pieces, whole, "{name}: len {len}");
                assert_eq!(whole, reference(&payload, key, start_phase), "{name}");
            }
        }
    }

    #[test]
    fn dispatch_uses_the_best_available_kernel() {
        let best = kernels::available().last().unwrap().0;
        assert_eq!(kernels::selected(), best);
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        assert!(kernels::sse2().is_some());
        #[cfg(all(target_arch = "x86_64", feature = "std"))]
        assert_eq!(
            kernels::avx2().is_some(),
            std::is_x86_feature_detected!("avx2")
        );
        #[cfg(all(target_arch = "x86_64", not(feature = "std")))]
        assert_eq!(kernels::avx2().is_some(), cfg!(target_feature = "avx2"));
    }
}
