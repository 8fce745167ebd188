//! Medians and percentiles of measured runs.

use std::time::Duration;

/// The median and 99th percentile of one run's per-call durations.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LatencyRun {
    pub(crate) median_ns: f64,
    pub(crate) p99_ns: f64,
    pub(crate) samples: usize,
}

impl LatencyRun {
    /// Summarises per-call durations (nearest-rank percentiles).
    pub(crate) fn from_samples(mut samples: Vec<Duration>) -> LatencyRun {
        assert!(!samples.is_empty(), "a latency run needs samples");
        samples.sort_unstable();
        let ns = |d: Duration| d.as_nanos() as f64;
        LatencyRun {
            median_ns: ns(percentile(&samples, 50.0)),
            p99_ns: ns(percentile(&samples, 99.0)),
            samples: samples.len(),
        }
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile<T: Copy>(sorted: &[T], percent: f64) -> T {
    let rank = (percent / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of repeated measurements (the mean of the middle two for an
/// even count); `None` when there are none.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 0 {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

/// `a / b`, or `None` when either is missing or `b` is not positive.
pub(crate) fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_nanos).collect();
        let run = LatencyRun::from_samples(samples);
        assert_eq!(run.median_ns, 50.0);
        assert_eq!(run.p99_ns, 99.0);
        let one = LatencyRun::from_samples(vec![Duration::from_nanos(7)]);
        assert_eq!((one.median_ns, one.p99_ns), (7.0, 7.0));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ratio_needs_both_sides() {
        assert_eq!(ratio(Some(3.0), Some(2.0)), Some(1.5));
        assert_eq!(ratio(None, Some(2.0)), None);
        assert_eq!(ratio(Some(3.0), Some(0.0)), None);
    }
}
