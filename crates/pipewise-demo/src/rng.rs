//! A small deterministic random number generator (SplitMix64) and the few distributions the
//! generator draws from.
//!
//! Determinism rules: every draw comes from a [`Rng`] seeded from the demo seed, a stream tag
//! and an index, so one record's draws never depend on how many draws another record made.
//! Only IEEE-exact float operations are used (`+ - * /` and `sqrt`); [`exp`] is computed here
//! instead of by the platform's maths library, so the same seed gives the same data everywhere.

/// SplitMix64 (Steele, Lea and Flood 2014): one 64-bit state, good enough statistically for
/// synthetic data, and trivially seedable per stream.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    #[cfg(test)]
    pub fn new(seed: u64) -> Rng {
        Rng { state: mix(seed) }
    }

    /// An independent generator for record `index` of kind `stream`.
    pub fn stream(seed: u64, stream: Stream, index: u64) -> Rng {
        let tag = mix((stream as u64).wrapping_add(1).wrapping_mul(GOLDEN_GAMMA));
        Rng { state: mix(seed ^ tag).wrapping_add(mix(index ^ tag.rotate_left(17))) }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// Uniform in `0..n` (`n > 0`), without modulo bias worth measuring (Lemire's method).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a slice of length `len > 0`.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len.max(1) as u64) as usize
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        debug_assert!(low <= high);
        low + self.below((high - low) as u64 + 1) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// An index drawn with the given non-negative weights (at least one positive).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.unit() * total;
        for (index, weight) in weights.iter().enumerate() {
            if target < *weight {
                return index;
            }
            target -= weight;
        }
        weights.iter().rposition(|weight| *weight > 0.0).unwrap_or(0)
    }

    /// Approximately standard normal: the Irwin–Hall sum of twelve uniforms, minus six.
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }

    /// Log-normal with the given median and shape.
    pub fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * exp(sigma * self.normal())
    }

    /// Shuffles in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

/// Which kind of record a [`Rng::stream`] draws for. The numbers are part of the output: a
/// changed number changes every demo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    People = 1,
    Accounts = 2,
    Contacts = 3,
    Deal = 4,
    Activities = 5,
    Tasks = 6,
    Leads = 7,
    /// A deal of the scale data set (`crate::scale`): its lifecycle and edits.
    ScaleDeal = 8,
    /// A scale deal's activities.
    ScaleActivities = 9,
    /// The directors that large organisations put between the VP and the team managers.
    Directors = 10,
}

/// `e^x` from `+ - * /` only (so it is the same on every platform), accurate to about 1e-12
/// relative for `|x| <= 20`; larger arguments are clamped.
pub fn exp(x: f64) -> f64 {
    let x = x.clamp(-20.0, 20.0);
    // e^x = (e^(x / 1024))^1024; the small argument's Taylor series converges fast.
    let y = x / 1024.0;
    let mut result = 1.0 + y * (1.0 + y / 2.0 * (1.0 + y / 3.0 * (1.0 + y / 4.0 * (1.0 + y / 5.0))));
    for _ in 0..10 {
        result *= result;
    }
    result
}

/// A table for drawing many indices with fixed weights in `O(log n)` each.
#[derive(Clone, Debug)]
pub struct WeightedIndex {
    cumulative: Vec<f64>,
}

impl WeightedIndex {
    /// `None` when no weight is positive.
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Option<WeightedIndex> {
        let mut total = 0.0;
        let cumulative: Vec<f64> = weights
            .into_iter()
            .map(|weight| {
                total += weight.max(0.0);
                total
            })
            .collect();
        (total > 0.0).then_some(WeightedIndex { cumulative })
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().expect("built from at least one positive weight");
        let target = rng.unit() * total;
        self.cumulative.partition_point(|sum| *sum <= target).min(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers_and_streams_are_independent() {
        let mut a = Rng::stream(42, Stream::Deal, 7);
        let mut b = Rng::stream(42, Stream::Deal, 7);
        let first: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        assert_eq!(first, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::stream(42, Stream::Deal, 8).next_u64(), first[0]);
        assert_ne!(Rng::stream(42, Stream::Leads, 7).next_u64(), first[0]);
        assert_ne!(Rng::stream(43, Stream::Deal, 7).next_u64(), first[0]);
        // SplitMix64's published first output for seed 0 after one mix of the state.
        assert_eq!(Rng { state: 0 }.next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn distributions_stay_in_range() {
        let mut rng = Rng::new(1);
        let mut sum = 0.0;
        for _ in 0..10_000 {
            let unit = rng.unit();
            assert!((0.0..1.0).contains(&unit));
            sum += unit;
            assert!((3..=9).contains(&rng.between(3, 9)));
            assert!(rng.below(5) < 5);
        }
        assert!((sum / 10_000.0 - 0.5).abs() < 0.02);
        let heavy = (0..10_000).filter(|_| rng.weighted(&[1.0, 0.0, 3.0]) == 2).count();
        assert!((7_000..8_000).contains(&heavy), "{heavy}");
        assert!((0..1000).all(|_| rng.weighted(&[0.0, 2.0]) == 1));
        let table = WeightedIndex::new([0.0, 1.0, 0.0, 1.0]).unwrap();
        assert!((0..1000).all(|_| matches!(table.sample(&mut rng), 1 | 3)));
        assert!(WeightedIndex::new([0.0]).is_none());
    }

    #[test]
    fn exp_matches_the_platform_closely() {
        for x in [-20.0, -3.5, -1.0, 0.0, 0.3, 1.0, 2.5, 10.0] {
            let ours = exp(x);
            let platform = f64::exp(x);
            assert!(((ours - platform) / platform).abs() < 1e-9, "{x}: {ours} vs {platform}");
        }
    }
}
