//! Cancel latency: from `cancel()` on a pending operation to the thread
//! blocked on it waking up.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::stats::LatencyRun;
use crate::subjects::{Gate, Pending};

/// One waiter thread blocks on a pending operation; this thread sleeps for
/// `settle` (so that the waiter is parked), notes the time, cancels, and
/// reads the time at which the waiter woke. `warmup` rounds are untimed.
/// Both are threads started for the purpose (see `latency::run`).
pub(crate) fn run<P: Pending>(
    subject: &P,
    gate: &Gate,
    warmup: usize,
    iterations: usize,
    settle: Duration,
) -> LatencyRun {
    let (work_tx, work_rx) = mpsc::channel::<P::Waiter>();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (woke_tx, woke_rx) = mpsc::channel::<(Instant, bool)>();
    thread::scope(|scope| {
        scope.spawn(move || {
            for waiter in work_rx {
                let _ = ready_tx.send(());
                let cancelled = subject.wait(waiter);
                let _ = woke_tx.send((Instant::now(), cancelled));
            }
        });
        let cancelling = scope.spawn(move || {
            let mut samples = Vec::with_capacity(iterations);
            for round in 0..warmup + iterations {
                let (canceller, waiter) = subject.split(subject.submit_pending(gate));
                work_tx.send(waiter).expect("the waiter thread is gone");
                ready_rx.recv().expect("the waiter thread is gone");
                thread::sleep(settle);
                let cancelled_at = Instant::now();
                subject.cancel(canceller);
                let (woke_at, cancelled) = woke_rx.recv().expect("the waiter thread is gone");
                assert!(cancelled, "the waiter woke, but not cancelled");
                if round >= warmup {
                    samples.push(woke_at.saturating_duration_since(cancelled_at));
                }
            }
            drop(work_tx);
            LatencyRun::from_samples(samples)
        });
        cancelling.join().expect("the cancelling thread panicked")
    })
}
