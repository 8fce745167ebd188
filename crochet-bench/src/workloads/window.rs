//! The timed window that throughput-style workloads share: threads started
//! first, released together, running their step uncounted for a warm-up,
//! then counted until a shared deadline.

use std::sync::{Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// When counting starts and stops; set just before the threads are
/// released, so that thread start-up is in neither phase.
pub(crate) struct Window {
    barrier: Barrier,
    schedule: OnceLock<(Instant, Instant)>,
}

impl Window {
    /// Waits for the release, runs `step` until counting starts, then
    /// counts its runs until the window closes.
    pub(crate) fn run(&self, mut step: impl FnMut()) -> u64 {
        self.barrier.wait();
        let (counting_from, until) = *self.schedule.get().expect("set before the barrier");
        while Instant::now() < counting_from {
            step();
        }
        let mut count = 0_u64;
        while Instant::now() < until {
            step();
            count += 1;
        }
        count
    }
}

/// Steps per second from `threads` threads, each running `body(index,
/// window)`, which calls [`Window::run`] once and returns its count:
/// `warmup` uncounted, then `window` counted.
pub(crate) fn per_second(
    threads: usize,
    warmup: Duration,
    window: Duration,
    body: impl Fn(usize, &Window) -> u64 + Sync,
) -> f64 {
    let shared = Window {
        barrier: Barrier::new(threads + 1),
        schedule: OnceLock::new(),
    };
    let total: u64 = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                let (shared, body) = (&shared, &body);
                scope.spawn(move || body(index, shared))
            })
            .collect();
        let counting_from = Instant::now() + warmup;
        let _ = shared.schedule.set((counting_from, counting_from + window));
        shared.barrier.wait();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a measuring thread panicked"))
            .sum()
    });
    total as f64 / window.as_secs_f64()
}
