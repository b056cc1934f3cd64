//! Masking keys and handshake nonces from the OS's random source.
//!
//! RFC 6455 §5.3 wants masking keys a third party cannot predict. One `getrandom` call per
//! frame would be a syscall per message, so keys are drawn from a 256-byte pool refilled by
//! the OS 64 keys at a time.

use ferrobahn_core::MaskKeySource;

/// A pool of OS randomness that hands out masking keys.
#[derive(Debug)]
pub struct KeyPool {
    pool: [u8; 256],
    at: usize,
}

impl KeyPool {
    /// An empty pool; the first key fills it.
    pub fn new() -> Self {
        Self {
            pool: [0; 256],
            at: 256,
        }
    }
}

impl Default for KeyPool {
    fn default() -> Self {
        Self::new()
    }
}

impl MaskKeySource for KeyPool {
    fn next_mask_key(&mut self) -> [u8; 4] {
        if self.at + 4 > self.pool.len() {
            fill(&mut self.pool);
            self.at = 0;
        }
        let mut k = [0; 4];
        k.copy_from_slice(&self.pool[self.at..self.at + 4]);
        self.at += 4;
        k
    }
}

/// Fills `buf` from the OS random source.
pub fn fill(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        // The OS source does not fail on Linux once booted; if it ever does, fall back to
        // std's per-process random hash keys rather than sending predictable masks.
        use std::hash::{BuildHasher, RandomState};
        for (i, chunk) in buf.chunks_mut(8).enumerate() {
            let v = RandomState::new().hash_one(i).to_ne_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
