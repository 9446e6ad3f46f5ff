//! Percentiles and medians of measured samples.

use std::time::Duration;

use serde_json::{Value, json};

/// The `q`-quantile (0 ≤ q ≤ 1) of sorted samples by the nearest-rank
/// method: the smallest sample with at least `q` of all samples at or
/// below it. `None` when there are no samples.
pub fn percentile<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The median of unsorted values (the lower one of the middle two).
pub fn median<T: Copy + PartialOrd>(values: &[T]) -> Option<T> {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    percentile(&sorted, 0.5)
}

/// Latency distribution of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latencies {
    /// How many samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// Largest sample.
    pub max: Duration,
    /// Arithmetic mean.
    pub mean: Duration,
}

impl Latencies {
    /// The distribution of `samples` (sorted in place); `None` if empty.
    pub fn of(samples: &mut [Duration]) -> Option<Self> {
        samples.sort_unstable();
        let total: Duration = samples.iter().sum();
        Some(Self {
            count: samples.len(),
            p50: percentile(samples, 0.50)?,
            p99: percentile(samples, 0.99)?,
            p999: percentile(samples, 0.999)?,
            max: *samples.last()?,
            mean: total / u32::try_from(samples.len()).unwrap_or(u32::MAX),
        })
    }

    /// As JSON, in milliseconds with microsecond precision.
    pub fn to_json(self) -> Value {
        json!({
            "count": self.count,
            "p50_ms": ms(self.p50),
            "p99_ms": ms(self.p99),
            "p999_ms": ms(self.p999),
            "max_ms": ms(self.max),
            "mean_ms": ms(self.mean),
        })
    }
}

/// A duration in milliseconds, rounded to the microsecond.
pub fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&samples, 0.5), Some(50));
        assert_eq!(percentile(&samples, 0.99), Some(99));
        assert_eq!(percentile(&samples, 1.0), Some(100));
        assert_eq!(percentile(&samples, 0.0), Some(1));
        assert_eq!(percentile(&[7], 0.99), Some(7));
        assert_eq!(percentile::<u32>(&[], 0.5), None);
        // 10 samples: p99 is the largest, p50 the fifth.
        let ten: Vec<u32> = (1..=10).collect();
        assert_eq!(percentile(&ten, 0.99), Some(10));
        assert_eq!(percentile(&ten, 0.5), Some(5));
    }

    #[test]
    fn medians_and_distributions() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4, 1, 3, 2]), Some(2));
        let mut samples: Vec<Duration> = [5, 1, 3, 2, 4].map(Duration::from_millis).into();
        let summary = Latencies::of(&mut samples).unwrap();
        assert_eq!(summary.count, 5);
        assert_eq!(summary.p50, Duration::from_millis(3));
        assert_eq!(summary.p99, Duration::from_millis(5));
        assert_eq!(summary.p999, Duration::from_millis(5));
        assert_eq!(summary.max, Duration::from_millis(5));
        assert_eq!(summary.mean, Duration::from_millis(3));
        assert_eq!(Latencies::of(&mut []), None);
        assert!((ms(Duration::from_micros(1_234_567)) - 1234.567).abs() < 1e-9);
    }
}
