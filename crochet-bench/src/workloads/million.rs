//! Pending at scale: memory per pending result, and how long a shutdown
//! takes, with [`MILLION`](crate::config::MILLION) operations pending on
//! one backend (tokio), crochet against raw tokio.
//!
//! Every operation runs the memory workload's [`Gate`] future (shared,
//! never released) and holds a [`DropGuard`] that counts its future's drop.
//! In a fresh child process per implementation (`--million-child <id>`),
//! as in the memory workload: warm up, submit `count` operations and keep
//! their handles, read the growth of the resident set. Then [`WAITERS`]
//! threads block on one handle each, the runtime is stopped (crochet:
//! `Reactor::shutdown`; raw: `Runtime::shutdown_timeout` on its thread),
//! and the shutdown is timed until the stop has returned, every waiter has
//! woken (crochet: with `WaitError::ReactorStopped`; raw: its oneshot
//! closed) and every future has been dropped, whichever comes last.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crochet::EventualResult;
use serde_json::json;
use tokio::sync::oneshot;

use crate::child;
use crate::config::Backend;
use crate::subjects::{Crochet, Gate, Pending, RawTokio, RoundTrip};
use crate::workloads::memory::rss_kib;

/// Threads blocked in a wait on one pending result each while the runtime
/// stops; the other results are only held.
pub(crate) const WAITERS: usize = 4;

/// The shutdown's target, with a million pending.
pub(crate) const SHUTDOWN_TARGET: Duration = Duration::from_secs(2);

/// How long starting the operations, or the shutdown, may take before the
/// child gives up.
const TIMEOUT: Duration = Duration::from_secs(120);

/// One child's figures.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MillionRun {
    pub(crate) count: usize,
    /// Resident set after start-up and a warm-up batch, in KiB.
    pub(crate) baseline_kib: u64,
    /// With `count` operations pending, their handles included.
    pub(crate) pending_kib: u64,
    /// From asking the runtime to stop to that call returning, ns.
    pub(crate) stop_returned_ns: f64,
    /// ... to the last blocked waiter waking.
    pub(crate) waiters_woken_ns: f64,
    /// ... to the last future dropped.
    pub(crate) futures_dropped_ns: f64,
}

impl MillionRun {
    pub(crate) fn bytes_per_pending(&self) -> f64 {
        (self.pending_kib as f64 - self.baseline_kib as f64) * 1024.0 / self.count as f64
    }

    /// Until the stop has returned, every waiter woken and every future
    /// dropped.
    pub(crate) fn shutdown_ns(&self) -> f64 {
        self.stop_returned_ns
            .max(self.waiters_woken_ns)
            .max(self.futures_dropped_ns)
    }
}

/// The two implementations measured: crochet and raw, on tokio.
pub(crate) fn ids() -> [String; 2] {
    [Backend::Tokio.crochet_id(), Backend::Tokio.raw_id()]
}

/// Measures `id` in a child process.
pub(crate) fn measure(id: &str, count: usize) -> Result<MillionRun, String> {
    let args = ["--million-child", id, "--count", &count.to_string()].map(String::from);
    let output = child::run("million", id, &args)?;
    let kib = |name: &str| {
        output.value[name]
            .as_u64()
            .ok_or_else(|| format!("million child output lacks {name}: {}", output.line))
    };
    let nanos = |name: &str| output.number(&output.value, "million", name);
    Ok(MillionRun {
        count,
        baseline_kib: kib("baseline_kib")?,
        pending_kib: kib("pending_kib")?,
        stop_returned_ns: nanos("stop_returned_ns")?,
        waiters_woken_ns: nanos("waiters_woken_ns")?,
        futures_dropped_ns: nanos("futures_dropped_ns")?,
    })
}

/// The child's side: measure `id` and print one JSON line.
pub(crate) fn child(id: &str, count: usize) -> Result<(), String> {
    let [crochet_id, raw_id] = ids();
    let run = if id == crochet_id {
        let crochet = Crochet::start(Backend::Tokio).map_err(|error| error.to_string())?;
        in_this_process(crochet, count)
    } else if id == raw_id {
        in_this_process(RawTokio::start().map_err(|error| error.to_string())?, count)
    } else {
        Err(format!(
            "the million workload measures {crochet_id} and {raw_id}, not {id:?}"
        ))
    }?;
    let line = json!({
        "baseline_kib": run.baseline_kib,
        "pending_kib": run.pending_kib,
        "stop_returned_ns": run.stop_returned_ns,
        "waiters_woken_ns": run.waiters_woken_ns,
        "futures_dropped_ns": run.futures_dropped_ns,
    });
    println!("{line}");
    Ok(())
}

/// A subject whose runtime is stopped with operations pending.
trait Stop: Pending + RoundTrip + Sized {
    /// Stops the runtime and returns once it has stopped.
    fn stop(self) -> Result<(), String>;

    /// Blocks on one operation; whether it ended because the runtime
    /// stopped.
    fn wait_stopped(waiter: Self::Waiter) -> bool;

    /// Without blocking: whether the operation ended because the runtime
    /// stopped.
    fn ended_stopped(handle: &mut Self::Handle) -> bool;
}

impl Stop for Crochet {
    fn stop(self) -> Result<(), String> {
        self.reactor()
            .shutdown(TIMEOUT)
            .map_err(|error| format!("crochet-tokio did not shut down: {error}"))
    }

    fn wait_stopped(waiter: Arc<EventualResult<()>>) -> bool {
        waiter.wait().is_err_and(|error| error.is_reactor_stopped())
    }

    fn ended_stopped(handle: &mut EventualResult<()>) -> bool {
        handle
            .try_result()
            .is_some_and(|result| result.is_err_and(|error| error.is_reactor_stopped()))
    }
}

impl Stop for RawTokio {
    fn stop(self) -> Result<(), String> {
        self.shutdown();
        Ok(())
    }

    fn wait_stopped(rx: oneshot::Receiver<()>) -> bool {
        // Dropping the task drops its sender: the receiver sees it closed.
        rx.blocking_recv().is_err()
    }

    fn ended_stopped((_, rx): &mut Self::Handle) -> bool {
        matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Closed))
    }
}

/// Counts the dropped futures of one batch, and notes when the last of
/// them went.
struct Drops {
    dropped: AtomicUsize,
    expected: usize,
    all_dropped_at: OnceLock<Instant>,
}

impl Drops {
    fn new(expected: usize) -> Arc<Drops> {
        Arc::new(Drops {
            dropped: AtomicUsize::new(0),
            expected,
            all_dropped_at: OnceLock::new(),
        })
    }

    /// Blocks until every future of the batch has been dropped; when the
    /// last one was.
    fn wait_all(&self, timeout: Duration) -> Result<Instant, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(at) = self.all_dropped_at.get() {
                return Ok(*at);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "only {} of {} futures were dropped within {timeout:?} of the shutdown",
                    self.dropped.load(Ordering::Acquire),
                    self.expected
                ));
            }
            thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Held by each operation's future: counts its drop.
struct DropGuard(Arc<Drops>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        let drops = &self.0;
        if drops.dropped.fetch_add(1, Ordering::AcqRel) + 1 == drops.expected {
            let _ = drops.all_dropped_at.set(Instant::now());
        }
    }
}

/// The operation: the gate's future, holding a guard of `drops`.
fn operation(gate: &Gate, drops: &Arc<Drops>) -> impl Future<Output = ()> + Send + 'static {
    gate.wait_holding(DropGuard(Arc::clone(drops)))
}

fn in_this_process<S: Stop>(subject: S, count: usize) -> Result<MillionRun, String>
where
    S::Waiter: 'static,
{
    let rss = || rss_kib().map_err(|error| format!("cannot read the resident set size: {error}"));
    let settle = || thread::sleep(Duration::from_millis(100));
    let (key, gate) = Gate::new();

    // Warm up as the memory workload does, so that every thread's
    // allocator arena and the runtime's queues exist before the baseline.
    for _ in 0..1_000 {
        subject.round_trip();
    }
    const WARMUP: usize = 1_000;
    let warmup_drops = Drops::new(WARMUP);
    let warmup: Vec<_> = (0..WARMUP)
        .map(|_| subject.submit(operation(&gate, &warmup_drops)))
        .collect();
    gate.wait_started(WARMUP, TIMEOUT)?;
    subject.cancel_all(warmup);
    settle();
    let baseline_kib = rss()?;

    let drops = Drops::new(count);
    let mut handles = Vec::with_capacity(count);
    for _ in 0..count {
        handles.push(subject.submit(operation(&gate, &drops)));
    }
    gate.wait_started(WARMUP + count, TIMEOUT)?;
    settle();
    let pending_kib = rss()?;

    let split = handles.len().saturating_sub(WAITERS);
    let (held, waiters): (Vec<_>, Vec<_>) = handles
        .drain(split..)
        .map(|handle| subject.split(handle))
        .unzip();
    // Detached, not scoped: should the shutdown fail, a waiter never woken
    // must not hold this child up; it exits with the error.
    let (woke_tx, woke_rx) = mpsc::channel();
    for waiter in waiters {
        let woke = woke_tx.clone();
        thread::Builder::new()
            .name("million-waiter".to_owned())
            .spawn(move || {
                let stopped = S::wait_stopped(waiter);
                let _ = woke.send((Instant::now(), stopped));
            })
            .map_err(|error| format!("cannot start a waiter thread: {error}"))?;
    }
    drop(woke_tx);
    // So that every waiter is parked in its wait.
    settle();

    let started = Instant::now();
    let stopped = subject.stop();
    let returned = started.elapsed();
    stopped?;
    let mut woken = Duration::ZERO;
    for _ in 0..WAITERS.min(count) {
        let (at, stopped) = woke_rx
            .recv_timeout(TIMEOUT)
            .map_err(|_| format!("a waiter did not wake within {TIMEOUT:?} of the shutdown"))?;
        if !stopped {
            return Err("a waiter woke, but not because the runtime stopped".to_owned());
        }
        woken = woken.max(at.duration_since(started));
    }
    let dropped = drops.wait_all(TIMEOUT)?.duration_since(started);

    // Every result only held must say the same as the waited ones.
    let stranded = handles
        .iter_mut()
        .map(S::ended_stopped)
        .filter(|stopped| !stopped)
        .count();
    if stranded > 0 {
        return Err(format!(
            "{stranded} of {count} held results did not end stopped"
        ));
    }
    drop((held, handles));
    key.release();
    Ok(MillionRun {
        count,
        baseline_kib,
        pending_kib,
        stop_returned_ns: returned.as_nanos() as f64,
        waiters_woken_ns: woken.as_nanos() as f64,
        futures_dropped_ns: dropped.as_nanos() as f64,
    })
}
