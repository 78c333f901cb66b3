//! [`Zipf`]: a rank sampler where rank `k` (from 0) is drawn with weight `1 / (k + 1)^s`.
//!
//! Real traffic is heavy-headed: a few URLs and clients make most of the lines, and a long tail is
//! seen once or twice. The table is a cumulative sum, sampled by binary search: 16 comparisons for a
//! population of 50,000, and no floating-point drift between platforms beyond IEEE arithmetic.

use crate::dice::Dice;

/// A Zipf-distributed rank in `0..n`.
#[derive(Clone, Debug)]
pub(crate) struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    /// A sampler over `n > 0` ranks with exponent `s` (1.0 is classic Zipf).
    pub(crate) fn new(n: usize, s: f64) -> Self {
        assert!(n > 0, "a Zipf population needs at least one member");
        let mut total = 0.0;
        let mut cumulative = Vec::with_capacity(n);
        for k in 0..n {
            total += 1.0 / ((k + 1) as f64).powf(s);
            cumulative.push(total);
        }
        for c in &mut cumulative {
            *c /= total;
        }
        Self { cumulative }
    }

    /// One rank; 0 is the most frequent.
    pub(crate) fn sample(&self, dice: &mut Dice) -> usize {
        let u = dice.unit();
        self.cumulative.partition_point(|&c| c <= u).min(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_heavier_than_tail() {
        let zipf = Zipf::new(1000, 1.0);
        let mut dice = Dice::new(1, 1);
        let mut counts = vec![0u32; 1000];
        for _ in 0..100_000 {
            counts[zipf.sample(&mut dice)] += 1;
        }
        assert!(counts[0] > counts[1]);
        assert!(counts[1] > counts[10]);
        assert!(counts[0] > 10 * counts[100]);
    }

    #[test]
    fn single_member_always_wins() {
        let zipf = Zipf::new(1, 1.0);
        let mut dice = Dice::new(1, 1);
        assert_eq!(zipf.sample(&mut dice), 0);
    }
}
