//! A latency histogram: log-linear buckets (eight per power of two of nanoseconds, so a
//! percentile read from it is within 12.5% of the true value) for the snapshot's p50/p95/p99,
//! and the fixed Prometheus buckets for the exposition.

use std::time::Duration;

/// Upper bounds, in seconds, of the Prometheus buckets (`le`), after the Prometheus client
/// libraries' defaults, extended to five minutes for agent runs.
pub(crate) const PROMETHEUS_BUCKETS: [f64; 15] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Upper bounds of [`PROMETHEUS_BUCKETS`] in nanoseconds.
const PROMETHEUS_BUCKETS_NS: [u64; 15] = [
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
    30_000_000_000,
    60_000_000_000,
    120_000_000_000,
    300_000_000_000,
];

/// Sub-buckets per power of two, as a bit count (8 = 2^3).
const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;

#[derive(Debug, Clone, Default)]
pub(crate) struct Histogram {
    /// Counts per log-linear bucket, grown on demand.
    fine: Vec<u64>,
    /// Counts per Prometheus bucket (not cumulative); the last slot is `+Inf`.
    coarse: [u64; PROMETHEUS_BUCKETS.len() + 1],
    pub(crate) count: u64,
    pub(crate) sum_ns: u128,
    pub(crate) min_ns: u64,
    pub(crate) max_ns: u64,
}

/// The log-linear bucket of a value: values below 8 ns get one bucket each; above, the power of
/// two and the next three bits.
fn index(ns: u64) -> usize {
    if ns < SUB {
        return ns as usize;
    }
    let exp = 63 - ns.leading_zeros(); // >= SUB_BITS
    let sub = (ns >> (exp - SUB_BITS)) & (SUB - 1);
    ((exp - SUB_BITS + 1) as u64 * SUB + sub) as usize
}

/// The smallest and largest value of a bucket.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, i);
    }
    let exp = i / SUB - 1 + SUB_BITS as u64;
    let sub = i % SUB;
    let width = 1u64 << (exp - SUB_BITS as u64);
    let low = (SUB + sub) * width;
    (low, low.saturating_add(width - 1))
}

impl Histogram {
    pub(crate) fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = index(ns);
        if self.fine.len() <= i {
            self.fine.resize(i + 1, 0);
        }
        self.fine[i] += 1;
        let c = PROMETHEUS_BUCKETS_NS
            .iter()
            .position(|&b| ns <= b)
            .unwrap_or(PROMETHEUS_BUCKETS_NS.len());
        self.coarse[c] += 1;
        if self.count == 0 || ns < self.min_ns {
            self.min_ns = ns;
        }
        self.max_ns = self.max_ns.max(ns);
        self.count += 1;
        self.sum_ns += u128::from(ns);
    }

    /// The `q` quantile (0..=1): the middle of the bucket holding it, kept within the observed
    /// minimum and maximum (exactly the minimum for 0, the maximum for 1). Zero when empty.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        if q <= 0.0 {
            return Duration::from_nanos(self.min_ns);
        }
        if q >= 1.0 {
            return Duration::from_nanos(self.max_ns);
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.fine.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let (lo, hi) = bounds(i);
                let mid = lo + (hi - lo) / 2;
                return Duration::from_nanos(mid.clamp(self.min_ns, self.max_ns));
            }
        }
        Duration::from_nanos(self.max_ns)
    }

    /// `(upper bound in seconds, count)` per Prometheus bucket, not cumulative, `+Inf` last.
    pub(crate) fn prometheus_buckets(&self) -> Vec<(f64, u64)> {
        PROMETHEUS_BUCKETS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(self.coarse.iter().copied())
            .collect()
    }

    pub(crate) fn sum_seconds(&self) -> f64 {
        self.sum_ns as f64 / 1e9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_inside_its_bucket() {
        for ns in (0..5000u64).chain([u64::MAX, 1 << 40, (1 << 40) - 1, 123_456_789]) {
            let (lo, hi) = bounds(index(ns));
            assert!(lo <= ns && ns <= hi, "{ns} not in [{lo}, {hi}]");
        }
    }

    #[test]
    fn quantiles_are_within_an_eighth() {
        let mut h = Histogram::default();
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms));
        }
        for (q, want) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let got = h.quantile(q).as_secs_f64() * 1000.0;
            assert!((got - want).abs() / want <= 0.125, "q{q}: {got} vs {want}");
        }
        assert_eq!(h.quantile(0.0), Duration::from_millis(1));
        assert_eq!(h.quantile(1.0), Duration::from_millis(1000));
    }

    #[test]
    fn prometheus_buckets_count_each_value_once() {
        let mut h = Histogram::default();
        for s in [0.001, 0.005, 0.3, 7.0, 1000.0] {
            h.record(Duration::from_secs_f64(s));
        }
        let b = h.prometheus_buckets();
        assert_eq!(b.iter().map(|(_, n)| n).sum::<u64>(), 5);
        assert_eq!(b[0], (0.005, 2)); // 1 ms and 5 ms (le is inclusive)
        assert_eq!(b.last().copied(), Some((f64::INFINITY, 1)));
    }
}
