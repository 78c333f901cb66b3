//! [`Dice`]: the one source of randomness behind every generator in this crate.
//!
//! The generators promise the same bytes for the same seed, on every platform and for as long as the
//! fixtures built from them are committed. `rand`'s distributions may change their algorithms between
//! releases; a ChaCha8 stream may not. So every draw here is built from raw `next_u64` words with simple
//! arithmetic that this file pins down.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// A seeded, value-stable random stream with the few draws the generators need.
#[derive(Clone, Debug)]
pub(crate) struct Dice {
    rng: ChaCha8Rng,
}

impl Dice {
    /// A stream for `purpose` (a constant per use site) under the user's `seed`: the populations and the
    /// line stream draw from different streams, so growing one never shifts the other.
    pub(crate) fn new(seed: u64, purpose: u64) -> Self {
        let mixed = seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self { rng: ChaCha8Rng::seed_from_u64(mixed) }
    }

    /// A uniform `f64` in `[0, 1)`, from the top 53 bits of one word.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform index in `0..n` (`n > 0`), by multiply-shift; the bias is below 2^-40 for our sizes.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0, "below(0) has no answer");
        ((u128::from(self.rng.next_u64()) * n as u128) >> 64) as usize
    }

    /// A uniform integer in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        let span = hi - lo + 1;
        if span == 0 {
            return self.rng.next_u64();
        }
        lo + ((u128::from(self.rng.next_u64()) * u128::from(span)) >> 64) as u64
    }

    /// `true` with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice, uniformly.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// One element of a non-empty `(weight, item)` table, with probability proportional to its weight.
    pub(crate) fn weighted<T: Copy>(&mut self, table: &[(u32, T)]) -> T {
        let total: u32 = table.iter().map(|(w, _)| w).sum();
        let mut x = self.below(total as usize) as u32;
        for (w, item) in table {
            if x < *w {
                return *item;
            }
            x -= w;
        }
        table[table.len() - 1].1
    }

    /// An exponential variate with mean 1.
    pub(crate) fn exponential(&mut self) -> f64 {
        -(1.0 - self.unit()).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Dice::new(7, 1);
        let mut b = Dice::new(7, 1);
        for _ in 0..100 {
            assert_eq!(a.below(1000), b.below(1000));
        }
    }

    #[test]
    fn draws_stay_in_range() {
        let mut d = Dice::new(1, 2);
        for _ in 0..10_000 {
            let u = d.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(d.below(3) < 3);
            assert!((5..=9).contains(&d.between(5, 9)));
        }
    }

    #[test]
    fn weighted_never_picks_zero_weight() {
        let mut d = Dice::new(3, 4);
        let table = [(0, 'a'), (5, 'b'), (0, 'c')];
        for _ in 0..1000 {
            assert_eq!(d.weighted(&table), 'b');
        }
    }
}
