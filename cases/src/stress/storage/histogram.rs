//! The latency histogram of the random reads: exact below 32 ns, then 32 sub-buckets per power
//! of two (≈3 %), with quantiles taken from bucket middles.

/// Latency histogram: exact below 32 ns, then 32 sub-buckets per power of two (≈3 %).
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; 64 * 32],
            total: 0,
        }
    }
}

impl Histogram {
    fn index(v: u64) -> usize {
        if v < 32 {
            v as usize
        } else {
            let e = 63 - v.leading_zeros() as u64; // ≥ 5
            ((e - 4) * 32 + ((v >> (e - 5)) & 31)) as usize
        }
    }
    /// The middle of a bucket.
    fn value(i: usize) -> f64 {
        if i < 64 {
            i as f64
        } else {
            let e = (i / 32) as u64 + 4;
            let low = (32 + (i % 32) as u64) << (e - 5);
            low as f64 + ((1u64 << (e - 5)) as f64 - 1.0) / 2.0
        }
    }
    pub fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.total += 1;
    }
    pub fn count(&self) -> u64 {
        self.total
    }
    /// The value at quantile `q` (0–1), in the recorded unit.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::value(i);
            }
        }
        0.0
    }
    pub(super) fn merge(&mut self, o: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self.total += o.total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_within_its_resolution() {
        let mut h = Histogram::default();
        for us in 1..=1000u64 {
            h.record(us * 1000);
        }
        assert_eq!(h.count(), 1000);
        let p50 = h.quantile(0.5);
        let p99 = h.quantile(0.99);
        assert!((p50 / 500_000.0 - 1.0).abs() < 0.035, "{p50}");
        assert!((p99 / 990_000.0 - 1.0).abs() < 0.035, "{p99}");
        let mut small = Histogram::default();
        small.record(7);
        assert_eq!(small.quantile(0.5), 7.0);
        assert_eq!(Histogram::default().quantile(0.5), 0.0);
        for v in [31u64, 32, 33, 63, 64, 65, 1 << 40] {
            let mid = Histogram::value(Histogram::index(v));
            assert!((mid / v as f64 - 1.0).abs() < 0.035, "{v} → {mid}");
        }
    }

    #[test]
    fn merged_histograms_add_their_counts() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        (1..=10u64).for_each(|v| a.record(v));
        (11..=20u64).for_each(|v| b.record(v));
        a.merge(&b);
        assert_eq!(a.count(), 20);
        assert_eq!(a.quantile(0.5), 10.0);
        assert_eq!(a.quantile(1.0), 20.0);
    }
}
