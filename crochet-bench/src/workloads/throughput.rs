//! Throughput: several threads submitting and waiting in a loop until a
//! shared deadline.

use std::sync::{Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::subjects::RoundTrip;

/// Round trips per second from `threads` threads, each looping over
/// `round_trip`: `warmup` uncounted, then `window` counted.
pub(crate) fn run(
    subject: &impl RoundTrip,
    threads: usize,
    warmup: Duration,
    window: Duration,
) -> f64 {
    let barrier = Barrier::new(threads + 1);
    // Set just before the threads are released, so that thread start-up is
    // in neither phase.
    let schedule: OnceLock<(Instant, Instant)> = OnceLock::new();
    let total: u64 = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let (counting_from, until) = *schedule.get().expect("set before the barrier");
                    while Instant::now() < counting_from {
                        subject.round_trip();
                    }
                    let mut calls = 0_u64;
                    while Instant::now() < until {
                        subject.round_trip();
                        calls += 1;
                    }
                    calls
                })
            })
            .collect();
        let counting_from = Instant::now() + warmup;
        let _ = schedule.set((counting_from, counting_from + window));
        barrier.wait();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a throughput thread panicked"))
            .sum()
    });
    total as f64 / window.as_secs_f64()
}
