//! Allocations per round trip: how many allocations, and how many bytes,
//! one `run_in_reactor(|| async {}).wait()` (or a baseline's equivalent)
//! costs, counted from every thread (the reactor's included) by the
//! benchmark's global allocator.

use std::thread;

use crate::alloc_count;
use crate::subjects::RoundTrip;

/// What `calls` round trips allocated, after `warmup` uncounted ones.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AllocRun {
    pub(crate) calls: usize,
    pub(crate) allocations: u64,
    pub(crate) bytes: u64,
}

impl AllocRun {
    pub(crate) fn allocations_per_call(&self) -> f64 {
        self.allocations as f64 / self.calls as f64
    }

    pub(crate) fn bytes_per_call(&self) -> f64 {
        self.bytes as f64 / self.calls as f64
    }
}

/// Counts the allocations of `calls` round trips, one after the other, on
/// a thread started for the purpose (as `latency::run` does), after
/// `warmup` uncounted ones, so that the runtime's queues and the thread's
/// own lazily made state already exist.
pub(crate) fn run(subject: &impl RoundTrip, warmup: usize, calls: usize) -> AllocRun {
    thread::scope(|scope| {
        scope
            .spawn(|| {
                for _ in 0..warmup {
                    subject.round_trip();
                }
                let counts = alloc_count::during(|| {
                    for _ in 0..calls {
                        subject.round_trip();
                    }
                });
                AllocRun {
                    calls,
                    allocations: counts.allocations,
                    bytes: counts.bytes,
                }
            })
            .join()
            .expect("the allocation-counting thread panicked")
    })
}
