//! Stress: 32 threads issue every kind of operation at once for a bounded
//! time, and the reactor is shut down under them near the end.
//!
//! Each thread draws its operations from a small deterministic generator
//! (xorshift64*) seeded from one base seed; a failure names the base seed
//! and the thread's, and `CROCHET_STRESS_SEED=<base>` replays the same
//! choices (the interleaving with the reactor still varies).
//! `CROCHET_STRESS_SECS` sets the duration for a soak run (default 2 s).

mod operations;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crochet_core::{Reactor, UnobservedFailure, WaitError};

use self::operations::{KINDS, Kind, OUTCOMES, Outcome, Rng};
use crate::support::{
    Live, LiveToken, PROMPTLY, crochet_threads, eventually, quiet_panics, stress_duration,
};
use crate::{Fixture, Running};

const THREADS: usize = 32;
const SEED_VAR: &str = "CROCHET_STRESS_SEED";
/// Every blocking wait's bound: an operation that has not ended by then is
/// a hang, and fails the run.
const WAIT_BOUND: Duration = PROMPTLY;
/// The bound given to the shutdown in the middle of the run.
const SHUTDOWN_BOUND: Duration = Duration::from_secs(5);
/// How many operations each thread still issues once it sees the reactor
/// stopped, so that submissions after shutdown are exercised too.
const AFTER_SHUTDOWN: usize = 16;

/// Every deliberate panic starts with this (and is kept off stderr).
const DELIBERATE: &str = "stress: deliberate panic";
const PANIC_OBSERVED: &str = "stress: deliberate panic (observed)";
const PANIC_DROPPED_PENDING: &str = "stress: deliberate panic (dropped pending)";
const PANIC_DROPPED_FINISHED: &str = "stress: deliberate panic (dropped finished)";

/// Where the run stands, for the operations whose expected report depends
/// on whether shutdown can race them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    /// Shutdown is coming: no new `DropPending` until it is done.
    Closing,
    Stopped,
}

/// Failure reports, by which deliberate panic they came from.
#[derive(Default)]
struct Reports {
    dropped_pending: AtomicUsize,
    dropped_finished: AtomicUsize,
    /// Anything else: an observed panic, a cancellation, a timeout or a
    /// shutdown reported as a failure would be a bug.
    unexpected: AtomicUsize,
}

impl Reports {
    fn record(&self, failure: &UnobservedFailure<'_>) {
        let message = match failure.error() {
            WaitError::Panicked(panic) => Some(panic.message()),
            _ => None,
        };
        let counter = match message {
            Some(PANIC_DROPPED_PENDING) => &self.dropped_pending,
            Some(PANIC_DROPPED_FINISHED) => &self.dropped_finished,
            _ => &self.unexpected,
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// What the threads share.
struct Shared {
    fixture: &'static dyn Fixture,
    reactor: Reactor,
    live: Live,
    futures_created: AtomicUsize,
    phase: RwLock<Phase>,
    stopped: AtomicBool,
    /// `DropPending` operations issued before shutdown: each must be
    /// reported exactly once.
    dropped_pending_open: AtomicUsize,
    reports: Arc<Reports>,
    deadline: Instant,
}

impl Shared {
    /// A token for one future (or closure): the run checks that every one
    /// was dropped.
    fn token(&self) -> LiveToken {
        self.futures_created.fetch_add(1, Ordering::Relaxed);
        self.live.token()
    }

    fn phase(&self) -> RwLockReadGuard<'_, Phase> {
        self.phase.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_phase(&self, phase: Phase) {
        *self.phase.write().unwrap_or_else(PoisonError::into_inner) = phase;
    }
}

/// One thread's counts, or all of them.
#[derive(Default)]
struct Tally {
    issued: [usize; KINDS.len()],
    ended: [[usize; OUTCOMES.len()]; KINDS.len()],
    after_shutdown: usize,
    expected_dropped_finished_reports: usize,
}

impl Tally {
    fn merge(&mut self, other: &Tally) {
        for kind in 0..KINDS.len() {
            self.issued[kind] += other.issued[kind];
            for outcome in 0..OUTCOMES.len() {
                self.ended[kind][outcome] += other.ended[kind][outcome];
            }
        }
        self.after_shutdown += other.after_shutdown;
        self.expected_dropped_finished_reports += other.expected_dropped_finished_reports;
    }

    fn ended(&self, kind: Kind, outcome: Outcome) -> usize {
        self.ended[kind.index()][outcome.index()]
    }

    fn operations(&self) -> usize {
        self.issued.iter().sum()
    }
}

/// The shutdown in the middle of the run, as the summary tells it.
struct Shutdown {
    managed: bool,
    in_flight: usize,
    took: Duration,
}

/// Stress: under 32 threads mixing every kind of operation, and a shutdown
/// while work is in flight, every operation ends exactly once with an
/// outcome legal for its kind; every wait is bounded and every thread
/// finishes; nothing is left in the stash; every future is dropped; the
/// failure hook hears of exactly the failures nobody observed; and a
/// managed reactor's threads are gone afterwards.
pub fn stress_every_operation_ends_once_with_a_legal_outcome(fixture: &'static dyn Fixture) {
    quiet_panics(DELIBERATE);
    let duration = stress_duration();
    let base_seed = std::env::var(SEED_VAR)
        .ok()
        .and_then(|seed| seed.parse::<u64>().ok())
        .unwrap_or_else(fresh_seed);
    let replay = format!(
        "{}, base seed {base_seed}; replay with {SEED_VAR}={base_seed}",
        fixture.name()
    );

    let reports = Arc::new(Reports::default());
    {
        let reports = Arc::clone(&reports);
        crochet_core::set_failure_hook(move |failure| reports.record(failure));
    }
    let running = Running::start(fixture);
    let stash_before = running.stats().stashed;
    let started = Instant::now();
    let shared = Arc::new(Shared {
        fixture,
        reactor: running.reactor.clone(),
        live: Live::new(),
        futures_created: AtomicUsize::new(0),
        phase: RwLock::new(Phase::Open),
        stopped: AtomicBool::new(false),
        dropped_pending_open: AtomicUsize::new(0),
        reports: Arc::clone(&reports),
        deadline: started + duration,
    });
    let workers = spawn_workers(&shared, base_seed);

    // Near the end, with work in flight: shutdown.
    thread::sleep((started + duration.mul_f64(0.9)).saturating_duration_since(Instant::now()));
    let shutdown = shut_down_under_load(&running, &shared, &replay);
    let tally = join_workers(workers, duration, &replay);
    let elapsed = started.elapsed();

    // Every operation ended exactly once, legally for its kind.
    for kind in KINDS {
        let ended: usize = OUTCOMES.iter().map(|o| tally.ended(kind, *o)).sum();
        assert_eq!(
            ended,
            tally.issued[kind.index()],
            "{} operations issued and ended ({replay})",
            kind.label()
        );
        for outcome in OUTCOMES {
            if !kind.legal().contains(&outcome) {
                assert_eq!(
                    tally.ended(kind, outcome),
                    0,
                    "{} ended {} ({replay})",
                    kind.label(),
                    outcome.label()
                );
            }
        }
    }
    assert_eq!(
        running.pending_operations(),
        0,
        "operations still registered ({replay})"
    );
    // The stash holds nothing the run did not leave (it leaves nothing).
    assert_eq!(
        running.stats().stashed,
        stash_before,
        "entries left in the stash ({replay})"
    );
    // Every future (and every closure never called) was dropped.
    assert!(
        eventually(PROMPTLY, || shared.live.count() == 0),
        "{} of {} futures were never dropped ({replay})",
        shared.live.count(),
        shared.futures_created.load(Ordering::SeqCst)
    );
    // The hook heard of exactly the failures nobody observed.
    let reported_pending = reports.dropped_pending.load(Ordering::SeqCst);
    assert_eq!(
        reported_pending,
        tally.ended(Kind::DropPending, Outcome::Reported),
        "reports of panics dropped pending ({replay})"
    );
    assert_eq!(
        reported_pending,
        shared.dropped_pending_open.load(Ordering::SeqCst),
        "reports of panics dropped pending, against those issued before shutdown ({replay})"
    );
    assert_eq!(
        reports.dropped_finished.load(Ordering::SeqCst),
        tally.expected_dropped_finished_reports,
        "reports of panics dropped after they failed ({replay})"
    );
    assert_eq!(
        reports.unexpected.load(Ordering::SeqCst),
        0,
        "reports of failures that were observed, cancelled, timed out or stopped ({replay})"
    );
    // A managed reactor's threads are gone; an attached runtime's threads
    // are its application's (and none of them is a `crochet-` thread).
    assert!(
        eventually(PROMPTLY, || crochet_threads().is_empty()),
        "threads alive after shutdown: {:?} ({replay})",
        crochet_threads()
    );
    crochet_core::reset_failure_hook();

    eprintln!(
        "{}",
        summary(&shared, &tally, elapsed, &shutdown, base_seed)
    );
}

fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    u64::from(nanos) ^ (u64::from(std::process::id()) << 32)
}

/// A worker thread, with its seed; it returns its tally, or its failure
/// (with the seed) as text.
type Worker = (u64, JoinHandle<Result<Tally, String>>);

fn spawn_workers(shared: &Arc<Shared>, base_seed: u64) -> Vec<Worker> {
    (0..THREADS)
        .map(|index| {
            let seed = Rng::new(base_seed ^ (index as u64).wrapping_mul(0x9e37_79b9)).next();
            let shared = Arc::clone(shared);
            let handle = thread::Builder::new()
                .name(format!("stress-{index}"))
                .spawn(move || {
                    panic::catch_unwind(AssertUnwindSafe(|| work(&shared, seed))).map_err(
                        |payload| {
                            let message = payload
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                                .unwrap_or_default();
                            format!("thread stress-{index} (seed {seed:#018x}): {message}")
                        },
                    )
                })
                .expect("spawn a stress thread");
            (seed, handle)
        })
        .collect()
}

/// Shuts the reactor down while the threads keep submitting.
fn shut_down_under_load(running: &Running, shared: &Shared, replay: &str) -> Shutdown {
    // No `DropPending` may start from here until shutdown is done (one in
    // progress holds the phase's read lock; this waits for it), and those
    // already issued must each have been reported: shutdown racing them
    // would turn their panic into `ReactorStopped`, which is not reported.
    shared.set_phase(Phase::Closing);
    let dropped_pending_open = shared.dropped_pending_open.load(Ordering::SeqCst);
    let reported = || shared.reports.dropped_pending.load(Ordering::SeqCst);
    assert!(
        eventually(WAIT_BOUND, || reported() >= dropped_pending_open),
        "{} of {dropped_pending_open} dropped panicking operations were reported ({replay})",
        reported()
    );
    let managed = !crochet_threads().is_empty();
    let in_flight = running.pending_operations();
    let started = Instant::now();
    let outcome = running.shutdown(SHUTDOWN_BOUND);
    let took = started.elapsed();
    shared.stopped.store(true, Ordering::SeqCst);
    shared.set_phase(Phase::Stopped);
    assert!(
        outcome.is_ok(),
        "shutdown under load: {outcome:?} ({replay})"
    );
    assert!(took < SHUTDOWN_BOUND, "shutdown took {took:?} ({replay})");
    Shutdown {
        managed,
        in_flight,
        took,
    }
}

/// Every thread finishes (its operations are bounded, and it stops soon
/// after it sees the reactor stopped) without failing.
fn join_workers(workers: Vec<Worker>, duration: Duration, replay: &str) -> Tally {
    let finished = eventually(duration + 2 * WAIT_BOUND, || {
        workers.iter().all(|(_, handle)| handle.is_finished())
    });
    let stuck: Vec<String> = workers
        .iter()
        .enumerate()
        .filter(|(_, (_, handle))| !handle.is_finished())
        .map(|(index, (seed, _))| format!("stress-{index} (seed {seed:#018x})"))
        .collect();
    assert!(finished, "threads never finished: {stuck:?} ({replay})");
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for (_, handle) in workers {
        match handle.join().expect("the stress thread caught its panic") {
            Ok(thread_tally) => tally.merge(&thread_tally),
            Err(failure) => failures.push(failure),
        }
    }
    assert!(
        failures.is_empty(),
        "{} thread(s) failed ({replay}):\n{}",
        failures.len(),
        failures.join("\n")
    );
    tally
}

/// One thread's run: operations until the deadline, or a few more once the
/// reactor is stopped.
fn work(shared: &Shared, seed: u64) -> Tally {
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let mut left_after_shutdown = AFTER_SHUTDOWN;
    loop {
        if shared.stopped.load(Ordering::SeqCst) {
            if left_after_shutdown == 0 {
                break;
            }
            left_after_shutdown -= 1;
            tally.after_shutdown += 1;
        } else if Instant::now() >= shared.deadline {
            break;
        }
        let mut kind = KINDS[rng.below(KINDS.len() as u64) as usize];
        if kind == Kind::DropPending && *shared.phase() == Phase::Closing {
            // No new unobserved panics while shutdown is coming (see
            // `shut_down_under_load`).
            kind = Kind::Plain;
        }
        tally.issued[kind.index()] += 1;
        let outcome = operations::operate(shared, &mut rng, kind, &mut tally);
        assert!(
            kind.legal().contains(&outcome),
            "{} ended {}",
            kind.label(),
            outcome.label()
        );
        tally.ended[kind.index()][outcome.index()] += 1;
    }
    tally
}

/// One line for a soak run's log: operations, and outcomes by kind.
fn summary(
    shared: &Shared,
    tally: &Tally,
    elapsed: Duration,
    shutdown: &Shutdown,
    base_seed: u64,
) -> String {
    let kinds: Vec<String> = KINDS
        .iter()
        .map(|kind| {
            let outcomes: Vec<String> = OUTCOMES
                .iter()
                .filter(|outcome| tally.ended(*kind, **outcome) > 0)
                .map(|outcome| format!("{} {}", outcome.label(), tally.ended(*kind, *outcome)))
                .collect();
            format!(
                "{} {} ({})",
                kind.label(),
                tally.issued[kind.index()],
                outcomes.join(", ")
            )
        })
        .collect();
    format!(
        "stress [{}]: {} ops by {THREADS} threads in {:.2}s, seed {base_seed}; shutdown with {} in flight took {:?}{}; {} ops after it; {} futures, all dropped; {} + {} failure reports, as expected | {}",
        shared.fixture.name(),
        tally.operations(),
        elapsed.as_secs_f64(),
        shutdown.in_flight,
        shutdown.took,
        if shutdown.managed {
            ", crochet threads gone"
        } else {
            ""
        },
        tally.after_shutdown,
        shared.futures_created.load(Ordering::SeqCst),
        shared.reports.dropped_pending.load(Ordering::SeqCst),
        shared.reports.dropped_finished.load(Ordering::SeqCst),
        kinds.join("; ")
    )
}
