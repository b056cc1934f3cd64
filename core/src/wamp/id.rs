//! WAMP IDs: integers in 1..=2^53 (so that they survive a trip through a JavaScript or JSON
//! double), drawn from two scopes.
//!
//! - Session scope (request IDs): [`SequentialIds`], 1, 2, 3, ... per session and direction.
//! - Global and router scope (session, publication, subscription, registration IDs):
//!   [`RandomIds`], uniform over the range, from entropy the caller supplies (the core has no
//!   random source of its own).

/// The largest ID: 2^53.
pub const MAX_ID: u64 = 1 << 53;

/// Whether `v` is a valid ID (1..=2^53).
pub const fn is_valid(v: u64) -> bool {
    v >= 1 && v <= MAX_ID
}

/// Request IDs of one session: 1, 2, 3, ... wrapping back to 1 after 2^53.
#[derive(Clone, Debug, Default)]
pub struct SequentialIds {
    last: u64,
}

impl SequentialIds {
    /// Starts at 1.
    pub const fn new() -> Self {
        Self { last: 0 }
    }

    /// The next ID.
    pub fn next_id(&mut self) -> u64 {
        self.last = if self.last >= MAX_ID {
            1
        } else {
            self.last + 1
        };
        self.last
    }
}

/// A source of random 64-bit values (an RNG, a hardware TRNG, `getrandom`).
pub trait Entropy {
    /// 64 random bits.
    fn next_u64(&mut self) -> u64;
}

impl<F: FnMut() -> u64> Entropy for F {
    fn next_u64(&mut self) -> u64 {
        self()
    }
}

/// Global- and router-scope IDs, uniform over 1..=2^53.
#[derive(Clone, Debug)]
pub struct RandomIds<E> {
    entropy: E,
}

impl<E: Entropy> RandomIds<E> {
    /// IDs from `entropy`.
    pub fn new(entropy: E) -> Self {
        Self { entropy }
    }

    /// The next ID: the top 53 bits of a random value, plus one.
    pub fn next_id(&mut self) -> u64 {
        (self.entropy.next_u64() >> 11) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_wraps_to_one() {
        let mut ids = SequentialIds { last: MAX_ID - 1 };
        assert_eq!(ids.next_id(), MAX_ID);
        assert_eq!(ids.next_id(), 1);
    }

    #[test]
    fn random_ids_stay_in_range() {
        for raw in [0u64, 1, u64::MAX, 1 << 11, (1 << 11) - 1] {
            let mut ids = RandomIds::new(move || raw);
            let id = ids.next_id();
            assert!(is_valid(id), "{raw:#x} -> {id}");
        }
        assert_eq!(RandomIds::new(|| u64::MAX).next_id(), MAX_ID);
    }
}
