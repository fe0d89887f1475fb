//! The command's random generator: SplitMix64 (SPEC §10).
#![allow(dead_code)]

/// SplitMix64 over unsigned 64-bit integers with wrapping arithmetic.
///
/// The state starts as the seed; each draw advances it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose state starts as `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// One draw: advances the state and returns the mixed value (SPEC §10).
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_zero_gives_the_spec_test_values() {
        let mut g = SplitMix64::new(0);
        assert_eq!(g.next_u64(), 16294208416658607535);
        assert_eq!(g.next_u64(), 7960286522194355700);
        assert_eq!(g.next_u64(), 487617019471545679);
    }

    #[test]
    fn same_seed_same_sequence_and_state_wraps() {
        let mut a = SplitMix64::new(u64::MAX);
        let mut b = SplitMix64::new(u64::MAX);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut c = SplitMix64::new(1);
        assert_ne!(SplitMix64::new(0).next_u64(), c.next_u64());
    }
}
