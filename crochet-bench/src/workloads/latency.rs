//! Sequential round-trip latency: one thread, one call at a time.

use std::thread;
use std::time::{Duration, Instant};

use crate::stats::LatencyRun;
use crate::subjects::RoundTrip;

/// Times `calls` round trips one after the other, after `warmup` untimed
/// ones.
///
/// The calls run on a thread started for the purpose, as the throughput
/// threads are: the main thread keeps whatever CPU the previous (pinned)
/// phase left it on, which would make an unpinned figure depend on what
/// ran before.
pub(crate) fn run(subject: &impl RoundTrip, warmup: usize, calls: usize) -> LatencyRun {
    thread::scope(|scope| {
        scope
            .spawn(|| {
                for _ in 0..warmup {
                    subject.round_trip();
                }
                let mut samples: Vec<Duration> = Vec::with_capacity(calls);
                for _ in 0..calls {
                    let start = Instant::now();
                    subject.round_trip();
                    samples.push(start.elapsed());
                }
                LatencyRun::from_samples(samples)
            })
            .join()
            .expect("the latency thread panicked")
    })
}
