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
//! The word and SIMD kernels work in place without a scalar head or tail loop:
//! the first and last vector (or word) of the buffer are loaded and masked
//! first, unaligned; the body then runs over aligned vectors (an in-place
//! read-modify-write that straddles cache lines costs about a third of the
//! throughput here); finally the first and last vectors are stored over the
//! body's edges. Every byte is read before it is written and only ever written
//! with its masked value, so the overlaps are harmless. All loads and stores
//! are the unaligned kind, so alignment matters for speed only, never for
//! soundness.
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

/// Buffers shorter than this go straight to the byte-at-a-time loop: below
/// this size the kernels' set-up (rotating and broadcasting the key, the
/// overlapping edges) does not pay for itself.
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

/// The four key bytes starting at `phase`, `key[(phase + i) % 4]` for `i` in
/// `0..4`, as a native-endian word: the key rotated by the phase. Any run of
/// bytes starting at that phase is masked by repeating this word.
#[inline(always)]
fn key_word(key: [u8; 4], phase: usize) -> u32 {
    let k = u32::from_ne_bytes(key);
    // `phase & 3` is at most 3, so the shift is at most 24.
    let bits = 8 * (phase & 3) as u32;
    if cfg!(target_endian = "little") {
        k.rotate_right(bits)
    } else {
        k.rotate_left(bits)
    }
}

/// `N` bytes of `word` repeated (`N` a multiple of 4): a vector's worth of key.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[inline(always)]
fn splat<const N: usize>(word: u32) -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_exact_mut(4) {
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    out
}

/// `word` twice, as a `u64` (the same in either byte order).
#[inline(always)]
fn splat64(word: u32) -> u64 {
    u64::from(word) << 32 | u64::from(word)
}

/// Bytes from `ptr` to the next `align`-byte boundary (`align` a power of two).
/// Only ever used for speed: every load and store below is unaligned, so
/// nothing depends on this for soundness.
#[inline(always)]
fn misalignment(ptr: *const u8, align: usize) -> usize {
    (align - (ptr as usize & (align - 1))) & (align - 1)
}

/// `N` bytes of `bytes` from `at`, as an array (the bounds are checked).
#[inline(always)]
fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[at..at + N]);
    out
}

/// Masks a buffer of fewer than 16 bytes with at most two overlapping words.
///
/// Both words are read before either is written back, so the bytes they share
/// are masked once, with the same value.
#[inline(always)]
fn short(buf: &mut [u8], key: [u8; 4], phase: usize) {
    let len = buf.len();
    debug_assert!(len < 16);
    if len >= 8 {
        let k = |offset: usize| splat64(key_word(key, phase.wrapping_add(offset)));
        let first = u64::from_ne_bytes(array(buf, 0)) ^ k(0);
        let last = u64::from_ne_bytes(array(buf, len - 8)) ^ k(len - 8);
        buf[..8].copy_from_slice(&first.to_ne_bytes());
        buf[len - 8..].copy_from_slice(&last.to_ne_bytes());
    } else if len >= 4 {
        let k = |offset: usize| key_word(key, phase.wrapping_add(offset));
        let first = u32::from_ne_bytes(array(buf, 0)) ^ k(0);
        let last = u32::from_ne_bytes(array(buf, len - 4)) ^ k(len - 4);
        buf[..4].copy_from_slice(&first.to_ne_bytes());
        buf[len - 4..].copy_from_slice(&last.to_ne_bytes());
    } else {
        for (b, k) in buf.iter_mut().zip(key_word(key, phase).to_ne_bytes()) {
            *b ^= k;
        }
    }
}

/// Kernel selection. The index constants name the kernels; an index is only
/// ever produced after the matching CPU feature has been established, which is
/// what the `unsafe` calls in [`dispatch::run`] rely on.
mod dispatch {
    use super::kernels;
    #[cfg(all(feature = "std", any(target_arch = "x86_64", target_arch = "aarch64")))]
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
                unsafe { super::x86::avx2::mask(buf, key, phase) }
            }
            #[cfg(target_arch = "x86_64")]
            SSE2 => {
                // SAFETY: `SSE2` is only chosen when SSE2 is enabled at compile time
                // (`STATIC`) or `is_x86_feature_detected!("sse2")` returned true (`detect`).
                unsafe { super::x86::sse2::mask(buf, key, phase) }
            }
            #[cfg(target_arch = "aarch64")]
            NEON => {
                // SAFETY: `NEON` is only chosen when NEON is enabled at compile time
                // (`STATIC`) or `is_aarch64_feature_detected!("neon")` returned true (`detect`).
                unsafe { super::arm::neon::mask(buf, key, phase) }
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

    /// Eight bytes at a time through `u64`, in safe portable code.
    ///
    /// The key is rotated by the phase and replicated to 8 bytes; 8 being a
    /// multiple of 4, every 8-byte chunk of a run starts at the same phase. The
    /// chunks start at a 16-byte boundary (the compiler may turn the loop into
    /// 16-byte vector code); the unaligned head and the tail are covered by
    /// words read before the loop and written back after it.
    pub fn word(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
        use super::array;
        let len = buf.len();
        let end = super::next_phase(phase, len);
        if len < 16 {
            super::short(buf, key, phase);
            return end;
        }
        let key_at =
            |offset: usize| super::splat64(super::key_word(key, phase.wrapping_add(offset)));
        let load = |buf: &[u8], at: usize| u64::from_ne_bytes(array(buf, at));

        // Everything is read before anything is written: the head and tail words
        // overlap the body, and each byte must be masked exactly once.
        let head0 = load(buf, 0) ^ key_at(0);
        let head1 = load(buf, 8) ^ key_at(8);
        let tail = load(buf, len - 8) ^ key_at(len - 8);

        let start = super::misalignment(buf.as_ptr(), 16); // < 16: inside the head words
        let k = key_at(start);
        let mask8 = |chunk: &mut [u8]| {
            let w = u64::from_ne_bytes(array(chunk, 0)) ^ k;
            chunk.copy_from_slice(&w.to_ne_bytes());
        };
        // Four words per iteration: with a plain 8-byte loop LLVM unrolls less
        // and the loop measured slower and noticeably less steady.
        let mut blocks = buf[start..].chunks_exact_mut(32);
        for block in &mut blocks {
            block.chunks_exact_mut(8).for_each(mask8);
        }
        // The body's last partial chunk (< 8 bytes) lies inside the tail word.
        blocks.into_remainder().chunks_exact_mut(8).for_each(mask8);

        buf[..8].copy_from_slice(&head0.to_ne_bytes());
        buf[8..16].copy_from_slice(&head1.to_ne_bytes());
        buf[len - 8..].copy_from_slice(&tail.to_ne_bytes());
        end
    }

    /// 16 bytes at a time with SSE2, if the CPU has it.
    #[cfg(target_arch = "x86_64")]
    pub fn sse2() -> Option<Kernel> {
        fn run(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
            // SAFETY: `run` can only be named inside `sse2()`, which hands it out
            // only after establishing that the CPU supports SSE2.
            unsafe { super::x86::sse2::mask(buf, key, phase) }
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
            unsafe { super::x86::avx2::mask(buf, key, phase) }
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
            unsafe { super::arm::neon::mask(buf, key, phase) }
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

/// The body of a SIMD kernel with `$w`-byte vectors, expanded inside an
/// `unsafe fn` with the right `#[target_feature]`, in a module two levels
/// below this one (`x86::avx2` and the like). The expansion site must
/// provide, for `V` its vector type:
///
/// * `unsafe fn load(bytes: &[u8; $w]) -> V`,
/// * `unsafe fn load_xor(bytes: &[u8; $w], k: V) -> V` (load, then XOR with `k`),
/// * `unsafe fn store(bytes: &mut [u8; $w], v: V)`,
///
/// each requiring only the kernel's own target feature, and `$below`, an
/// `unsafe fn` with the kernel signature that is sound to call from the kernel
/// (it requires at most the kernel's target feature), for buffers shorter
/// than `$w`.
///
/// For `$w` bytes or more: the first and the last vector are loaded and masked
/// up front (unaligned, overlapping the body), the body runs over `$w`-aligned
/// vectors (LLVM unrolls this loop four times; unrolling it by hand measured no
/// faster), and the first and last vectors are stored at the end. Every byte is read before it is written and
/// is only ever written with its correctly masked value, so the overlaps are
/// harmless, and no byte is left to a scalar loop.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
macro_rules! simd_kernel_body {
    ($w:literal, $buf:ident, $key:ident, $phase:ident, $below:path) => {{
        let buf: &mut [u8] = $buf;
        let len = buf.len();
        if len < $w {
            // SAFETY: `$below` requires at most the target feature this kernel
            // requires from its own caller (the macro's contract).
            return unsafe { $below(buf, $key, $phase) };
        }
        let end = super::super::next_phase($phase, len);
        // The key for a vector at byte `offset` of `buf`.
        let key_at = |offset: usize| -> [u8; $w] {
            super::super::splat(super::super::key_word($key, $phase.wrapping_add(offset)))
        };

        let last_at = len - $w;
        let start = super::super::misalignment(buf.as_ptr(), $w); // < $w: inside `first`
        // SAFETY: `load` and `load_xor` require only the target feature this
        // kernel requires from its caller; they take whole one-vector arrays
        // (bounds-checked slices of `buf`, or key arrays), so every read is in bounds.
        let (first, last, k) = unsafe {
            (
                load_xor(buf[..$w].try_into().unwrap(), load(&key_at(0))),
                load_xor(buf[last_at..].try_into().unwrap(), load(&key_at(last_at))),
                load(&key_at(start)),
            )
        };

        // The body's last partial vector (< $w bytes) lies inside `last`.
        for v in buf[start..].chunks_exact_mut($w) {
            let v: &mut [u8; $w] = v.try_into().unwrap();
            // SAFETY: as above; `v` is one whole vector of `buf`.
            unsafe { store(v, load_xor(v, k)) };
        }

        // SAFETY: `store` requires only this kernel's target feature and takes
        // whole one-vector arrays (bounds-checked slices of `buf`).
        unsafe {
            store((&mut buf[..$w]).try_into().unwrap(), first);
            store((&mut buf[last_at..]).try_into().unwrap(), last);
        }
        end
    }};
}

/// [`short`] (fewer than 16 bytes) with the kernel signature, as the
/// `$below` of the 16-byte SIMD kernels.
///
/// # Safety
/// None: `unsafe` only to fit `simd_kernel_body!`.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[inline(always)]
unsafe fn below16(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    short(buf, key, phase);
    next_phase(phase, buf.len())
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    #[cfg(feature = "std")]
    use super::std;

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

    pub(super) mod sse2 {
        use core::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_storeu_si128, _mm_xor_si128};

        /// # Safety
        /// The CPU must support SSE2.
        #[inline]
        #[target_feature(enable = "sse2")]
        unsafe fn load(bytes: &[u8; 16]) -> __m128i {
            // SAFETY: `bytes` is 16 readable bytes and `loadu` has no alignment
            // requirement; SSE2 is available (caller's contract).
            unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
        }

        /// # Safety
        /// The CPU must support SSE2.
        #[inline]
        #[target_feature(enable = "sse2")]
        unsafe fn load_xor(bytes: &[u8; 16], k: __m128i) -> __m128i {
            // SAFETY: as in `load`.
            unsafe { _mm_xor_si128(_mm_loadu_si128(bytes.as_ptr().cast()), k) }
        }

        /// # Safety
        /// The CPU must support SSE2.
        #[inline]
        #[target_feature(enable = "sse2")]
        unsafe fn store(bytes: &mut [u8; 16], v: __m128i) {
            // SAFETY: `bytes` is 16 writable bytes and `storeu` has no alignment
            // requirement; SSE2 is available (caller's contract).
            unsafe { _mm_storeu_si128(bytes.as_mut_ptr().cast(), v) }
        }

        /// The SSE2 kernel; see `simd_kernel_body!`.
        ///
        /// # Safety
        /// The CPU must support SSE2.
        #[target_feature(enable = "sse2")]
        pub(in super::super) unsafe fn mask(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
            simd_kernel_body!(16, buf, key, phase, super::super::below16)
        }
    }

    pub(super) mod avx2 {
        use core::arch::x86_64::{
            __m256i, _mm256_loadu_si256, _mm256_storeu_si256, _mm256_xor_si256,
        };

        /// # Safety
        /// The CPU must support AVX2.
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn load(bytes: &[u8; 32]) -> __m256i {
            // SAFETY: `bytes` is 32 readable bytes and `loadu` has no alignment
            // requirement; AVX2 is available (caller's contract).
            unsafe { _mm256_loadu_si256(bytes.as_ptr().cast()) }
        }

        /// # Safety
        /// The CPU must support AVX2.
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn load_xor(bytes: &[u8; 32], k: __m256i) -> __m256i {
            // SAFETY: as in `load`.
            unsafe { _mm256_xor_si256(_mm256_loadu_si256(bytes.as_ptr().cast()), k) }
        }

        /// # Safety
        /// The CPU must support AVX2.
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn store(bytes: &mut [u8; 32], v: __m256i) {
            // SAFETY: `bytes` is 32 writable bytes and `storeu` has no alignment
            // requirement; AVX2 is available (caller's contract).
            unsafe { _mm256_storeu_si256(bytes.as_mut_ptr().cast(), v) }
        }

        /// The AVX2 kernel; see `simd_kernel_body!`. Below 32 bytes it hands
        /// over to the SSE2 kernel (every AVX2 CPU has SSE2).
        ///
        /// # Safety
        /// The CPU must support AVX2.
        #[target_feature(enable = "avx2")]
        pub(in super::super) unsafe fn mask(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
            simd_kernel_body!(32, buf, key, phase, super::sse2::mask)
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    #[cfg(feature = "std")]
    use super::std;

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

    pub(super) mod neon {
        use core::arch::aarch64::{uint8x16_t, veorq_u8, vld1q_u8, vst1q_u8};

        /// # Safety
        /// The CPU must support NEON.
        #[inline]
        #[target_feature(enable = "neon")]
        unsafe fn load(bytes: &[u8; 16]) -> uint8x16_t {
            // SAFETY: `bytes` is 16 readable bytes and `vld1q_u8` needs only byte
            // alignment; NEON is available (caller's contract).
            unsafe { vld1q_u8(bytes.as_ptr()) }
        }

        /// # Safety
        /// The CPU must support NEON.
        #[inline]
        #[target_feature(enable = "neon")]
        unsafe fn load_xor(bytes: &[u8; 16], k: uint8x16_t) -> uint8x16_t {
            // SAFETY: as in `load`.
            unsafe { veorq_u8(vld1q_u8(bytes.as_ptr()), k) }
        }

        /// # Safety
        /// The CPU must support NEON.
        #[inline]
        #[target_feature(enable = "neon")]
        unsafe fn store(bytes: &mut [u8; 16], v: uint8x16_t) {
            // SAFETY: `bytes` is 16 writable bytes and `vst1q_u8` needs only byte
            // alignment; NEON is available (caller's contract).
            unsafe { vst1q_u8(bytes.as_mut_ptr(), v) }
        }

        /// The NEON kernel; see `simd_kernel_body!`.
        ///
        /// # Safety
        /// The CPU must support NEON.
        #[target_feature(enable = "neon")]
        pub(in super::super) unsafe fn mask(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
            simd_kernel_body!(16, buf, key, phase, super::super::below16)
        }
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
