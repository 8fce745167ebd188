//! R7, X2, L5 under faults: shutdown with ten thousand blocked waiters or
//! with a task that never gives its thread back, and user panics in the
//! places where crochet holds a lock or calls back.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crochet_core::{ShutdownError, WaitError};

use crate::support::{
    Flag, Gate, Live, Logs, PROMPTLY, crochet_threads, eventually, thread_states,
};
use crate::{Fixture, Running};

/// How many threads block in `wait()` at once.
const BLOCKED_WAITERS: usize = 10_000;
/// Their stacks: a blocking wait needs little, and 10,000 default (2 MiB)
/// stacks would reserve 20 GiB of address space.
const WAITER_STACK: usize = 64 * 1024;
const WAITER_NAME: &str = "blocked-waiter";
/// The bound given to shutdown in these cases.
const SHUTDOWN_BOUND: Duration = Duration::from_secs(5);
/// The bound given to shutdown while a task holds its thread: short, since
/// it is expected to run out on a single-threaded managed reactor.
const STUCK_SHUTDOWN_BOUND: Duration = Duration::from_millis(500);
/// What a loaded debug build may take beyond a bound.
const SLACK: Duration = Duration::from_millis(1_500);

/// R7: a shutdown with 10,000 threads blocked in `wait()` (no timeout),
/// each on a pending result of its own, wakes every one of them with
/// `ReactorStopped` within the shutdown bound.
pub fn r7_shutdown_wakes_ten_thousand_blocked_waiters(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let live = Live::new();
    let gate = Gate::new();
    let entered = Arc::new(AtomicUsize::new(0));
    let (woke_tx, woke_rx) = mpsc::channel::<(Result<(), WaitError>, Instant)>();
    let spawning = Instant::now();
    let mut waiters = Vec::with_capacity(BLOCKED_WAITERS);
    for index in 0..BLOCKED_WAITERS {
        let token = live.token();
        let opened = gate.opened();
        let result = running.run_in_reactor(move || async move {
            let _token = token;
            opened.await;
        });
        let entered = Arc::clone(&entered);
        let woke = woke_tx.clone();
        let spawned = thread::Builder::new()
            .name(WAITER_NAME.into())
            .stack_size(WAITER_STACK)
            .spawn(move || {
                entered.fetch_add(1, Ordering::SeqCst);
                let outcome = result.wait();
                let _ = woke.send((outcome, Instant::now()));
            });
        match spawned {
            Ok(waiter) => waiters.push(waiter),
            // The machine's limit is the finding: say where it is rather
            // than test fewer. (Dropping `running` wakes those spawned.)
            Err(error) => panic!(
                "{}: could spawn only {index} of {BLOCKED_WAITERS} waiter threads \
                 ({} KiB stacks): {error}",
                fixture.name(),
                WAITER_STACK / 1024
            ),
        }
    }
    let spawn_took = spawning.elapsed();
    // Every waiter is in `wait()` and asleep in it (a waiter that had not
    // parked yet would find the result stopped, which proves less).
    let all_entered = || entered.load(Ordering::SeqCst) == BLOCKED_WAITERS;
    assert!(
        eventually(PROMPTLY, all_entered),
        "{}: not every waiter started",
        fixture.name()
    );
    assert!(
        eventually(PROMPTLY, || {
            let states = thread_states(WAITER_NAME);
            states.len() == BLOCKED_WAITERS && states.iter().all(|state| *state == 'S')
        }),
        "{}: not every waiter is asleep",
        fixture.name()
    );

    let started = Instant::now();
    let outcome = running.shutdown(SHUTDOWN_BOUND);
    let shutdown_took = started.elapsed();
    let mut stopped = 0;
    let mut last_woke = started;
    while stopped < BLOCKED_WAITERS {
        let left = (started + SHUTDOWN_BOUND).saturating_duration_since(Instant::now());
        match woke_rx.recv_timeout(left) {
            Ok((Err(WaitError::ReactorStopped), woke)) => {
                stopped += 1;
                last_woke = last_woke.max(woke);
            }
            Ok(other) => panic!("{}: a waiter woke with {other:?}", fixture.name()),
            Err(_) => panic!(
                "{}: only {stopped} of {BLOCKED_WAITERS} waiters woke within {SHUTDOWN_BOUND:?}",
                fixture.name()
            ),
        }
    }
    let all_woke = last_woke - started;
    assert!(outcome.is_ok(), "{}: shutdown: {outcome:?}", fixture.name());
    assert!(shutdown_took < SHUTDOWN_BOUND);
    for waiter in waiters {
        waiter.join().expect("a waiter thread");
    }
    assert!(
        eventually(PROMPTLY, || live.count() == 0),
        "{}: {} futures never dropped",
        fixture.name(),
        live.count()
    );
    eprintln!(
        "{}: {BLOCKED_WAITERS} threads blocked in wait() (spawned in {spawn_took:?}) all woke \
         with ReactorStopped {all_woke:?} after shutdown began; shutdown returned in {shutdown_took:?}",
        fixture.name()
    );
}

/// How a task keeps its thread from the executor.
#[derive(Clone, Copy, Debug)]
enum Hog {
    /// A CPU-bound loop that never returns `Pending`.
    Spin,
    /// `std::thread::sleep`, a syscall the executor cannot interrupt.
    Sleep,
}

/// Ends a hogging task when dropped.
#[derive(Default)]
struct Release(Arc<AtomicBool>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The longest the sleeping task would block its thread if not released.
const SLEEP_FOR: Duration = Duration::from_secs(3);

/// R7: a future that never yields (a CPU-bound loop) does not hang
/// shutdown past its bound, and every waiter wakes with `ReactorStopped`.
pub fn r7_shutdown_is_bounded_when_a_future_never_yields(fixture: &'static dyn Fixture) {
    shutdown_despite(fixture, Hog::Spin);
}

/// R7: a future that blocks its thread (`std::thread::sleep`) does not
/// hang shutdown past its bound, and every waiter wakes with
/// `ReactorStopped`.
pub fn r7_shutdown_is_bounded_when_a_future_blocks_its_thread(fixture: &'static dyn Fixture) {
    shutdown_despite(fixture, Hog::Sleep);
}

fn shutdown_despite(fixture: &'static dyn Fixture, hog: Hog) {
    let running = Running::start(fixture);
    let live = Live::new();
    // Released however this case ends, so that no thread spins on.
    let release = Release::default();
    let hogging = Flag::new();
    let stuck = {
        let token = live.token();
        let release = Arc::clone(&release.0);
        let hogging = hogging.clone();
        running.run_in_reactor(move || async move {
            let _token = token;
            hogging.set();
            match hog {
                Hog::Spin => {
                    while !release.load(Ordering::Acquire) {
                        std::hint::spin_loop();
                    }
                }
                Hog::Sleep => {
                    // Sleeps in slices only so that the test can end it
                    // early; each slice blocks the thread as one long
                    // sleep would.
                    let until = Instant::now() + SLEEP_FOR;
                    while !release.load(Ordering::Acquire) && Instant::now() < until {
                        thread::sleep(Duration::from_millis(10));
                    }
                }
            }
        })
    };
    assert!(
        hogging.wait(PROMPTLY),
        "{}: the hogging task never started",
        fixture.name()
    );
    // Work behind it, each result with a thread blocked in `wait()`: on a
    // single-threaded reactor it never even starts.
    let gate = Gate::new();
    let (woke_tx, woke_rx) = mpsc::channel();
    let mut results = vec![stuck];
    for _ in 0..8 {
        let token = live.token();
        let opened = gate.opened();
        results.push(running.run_in_reactor(move || async move {
            let _token = token;
            opened.await;
        }));
    }
    let waiters: Vec<_> = results
        .into_iter()
        .map(|result| {
            let woke = woke_tx.clone();
            thread::spawn(move || {
                let outcome = result.wait();
                let _ = woke.send((outcome, Instant::now()));
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(50));

    let started = Instant::now();
    let outcome = running.shutdown(STUCK_SHUTDOWN_BOUND);
    let took = started.elapsed();
    let mut woken = Vec::new();
    let mut last_woke = started;
    for _ in 0..waiters.len() {
        let left =
            (started + STUCK_SHUTDOWN_BOUND + SLACK).saturating_duration_since(Instant::now());
        match woke_rx.recv_timeout(left) {
            Ok((outcome, woke)) => {
                woken.push(outcome);
                last_woke = last_woke.max(woke);
            }
            Err(_) => break,
        }
    }
    // Waiters wake as shutdown begins, not when it gives up on the thread.
    let all_woke = last_woke - started;
    // The hogging task's thread was left running, detached from crochet:
    // shutdown cannot preempt a poll. Released, the poll returns, the task
    // finds its result decided and ends, and a managed runtime finishes
    // stopping on that thread: what it still held is dropped, and its
    // threads exit.
    drop(release);
    // The hogging future was alive at the bound: shutdown says so, and how
    // many it abandoned (the work behind it too, where the same thread
    // would have run it).
    assert!(
        matches!(outcome, Err(ShutdownError::Abandoned { operations, .. }) if (1..=9).contains(&operations)),
        "{}: shutdown with a {hog:?} task: {outcome:?}",
        fixture.name()
    );
    assert!(
        took < STUCK_SHUTDOWN_BOUND + SLACK,
        "{}: shutdown with a {hog:?} task took {took:?}",
        fixture.name()
    );
    assert!(
        woken.len() == waiters.len()
            && woken
                .iter()
                .all(|outcome| matches!(outcome, Err(WaitError::ReactorStopped))),
        "{}: the waiters, {all_woke:?} after shutdown began: {woken:?}",
        fixture.name()
    );
    for waiter in waiters {
        waiter.join().expect("a waiter thread");
    }
    assert!(
        eventually(PROMPTLY, || live.count() == 0),
        "{}: {} futures never dropped once the {hog:?} task was released",
        fixture.name(),
        live.count()
    );
    assert!(
        eventually(PROMPTLY, || crochet_threads().is_empty()),
        "{}: threads alive once the {hog:?} task was released: {:?}",
        fixture.name(),
        crochet_threads()
    );
    eprintln!(
        "{}: shutdown with a {hog:?} task returned {:?} in {took:?}; waiters woke within {all_woke:?}",
        fixture.name(),
        outcome
    );
}

const CLONE_PANIC: &str = "a clone panicked on purpose";

/// A value whose first clone panics.
struct CloneBomb {
    value: u32,
    armed: Arc<AtomicBool>,
}

impl Clone for CloneBomb {
    fn clone(&self) -> Self {
        if self.armed.swap(false, Ordering::SeqCst) {
            panic!("{CLONE_PANIC}");
        }
        CloneBomb {
            value: self.value,
            armed: Arc::clone(&self.armed),
        }
    }
}

/// X2: a `SharedResult` whose `T::clone` panics (while crochet holds the
/// result's lock) hands that panic to the one waiter that cloned, and
/// every other wait, then and later, still works.
pub fn x2_panicking_clone_reaches_only_its_waiter_and_later_waits_work(
    fixture: &'static dyn Fixture,
) {
    let running = Running::start(fixture);
    let armed = Arc::new(AtomicBool::new(true));
    let gate = Gate::new();
    let opened = gate.opened();
    let shared = running
        .run_in_reactor(move || async move {
            opened.await;
            CloneBomb { value: 7, armed }
        })
        .shared();
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let shared = shared.clone();
            thread::spawn(move || {
                panic::catch_unwind(AssertUnwindSafe(|| {
                    shared.wait_timeout(PROMPTLY).map(|bomb| bomb.value)
                }))
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(20));
    gate.open();
    let mut values = 0;
    let mut panics = Vec::new();
    for waiter in waiters {
        match waiter.join().expect("the waiter caught its panic") {
            Ok(Ok(7)) => values += 1,
            Ok(other) => panic!("{}: a waiter got {other:?}", fixture.name()),
            Err(payload) => panics.push(
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_default(),
            ),
        }
    }
    assert_eq!(panics, vec![CLONE_PANIC.to_owned()], "{}", fixture.name());
    assert_eq!(values, 3, "{}", fixture.name());

    // Every path through the result's lock still works.
    assert_eq!(shared.wait_timeout(PROMPTLY).expect("wait").value, 7);
    assert_eq!(shared.wait().expect("wait").value, 7);
    assert!(matches!(
        shared.try_result(),
        Some(Ok(CloneBomb { value: 7, .. }))
    ));
    assert!(shared.is_finished());
    assert!(!shared.cancel());
    assert!(format!("{shared:?}").contains("ready"), "{shared:?}");
    let remote = shared.clone();
    let awaited =
        running.run_in_reactor(move || async move { remote.await.map(|bomb| bomb.value) });
    assert_eq!(
        awaited.wait_timeout(PROMPTLY).expect("ran").expect("value"),
        7
    );
    drop(shared);
    // And the reactor serves new work.
    assert_eq!(
        running
            .wait_for(PROMPTLY, || async { 8 })
            .expect("new work"),
        8
    );
}

const HOOK_PANIC: &str = "the failure hook panicked on purpose";

/// L5/X2: a failure hook that panics, on the dropping thread or on a
/// reactor thread, is contained and logged; work goes on, and the hook can
/// be replaced.
pub fn l5_panicking_failure_hook_is_contained_and_work_continues(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    crochet_core::set_failure_hook(|failure| panic!("{HOOK_PANIC}: {}", failure.error()));
    let running = Running::start(fixture);

    // Reported on this thread: the last handle is dropped after it failed.
    let lost = running.run_in_reactor(|| async { panic!("lost on the dropping thread") });
    assert!(eventually(PROMPTLY, || lost.is_finished()));
    drop(lost);
    // Reported on a reactor thread: it fails after every handle is gone.
    let gate = Gate::new();
    let opened = gate.opened();
    let later = running.run_in_reactor_fallible(move || async move {
        opened.await;
        Err::<(), _>("lost on a reactor thread")
    });
    drop(later);
    gate.open();
    for origin in ["lost on the dropping thread", "lost on a reactor thread"] {
        assert!(
            logs.wait_for(
                PROMPTLY,
                &["ERROR", "reporting an unobserved failure panicked", origin]
            ),
            "{}: {origin}\n{}",
            fixture.name(),
            logs.text()
        );
    }

    // Work goes on: values, observed panics, fire-and-forget.
    assert_eq!(
        running
            .wait_for(PROMPTLY, || async { 5 })
            .expect("new work"),
        5
    );
    let observed = running.run_in_reactor(|| async { panic!("observed after the hook panicked") });
    let outcome = observed.wait_timeout(PROMPTLY);
    assert!(
        matches!(&outcome, Err(WaitError::Panicked(panic)) if panic.message() == "observed after the hook panicked"),
        "{outcome:?}"
    );
    // The hook can be replaced, and the new one hears of the next failure.
    let seen = Arc::new(AtomicUsize::new(0));
    {
        let seen = Arc::clone(&seen);
        crochet_core::set_failure_hook(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        });
    }
    running.spawn(|| async { panic!("fire and forget, after the hook panicked") });
    assert!(eventually(PROMPTLY, || seen.load(Ordering::SeqCst) == 1));
    crochet_core::reset_failure_hook();
}

/// A value whose clone looks at the result it is cloned from.
#[derive(Default)]
struct Reentrant {
    owner: Arc<std::sync::OnceLock<crochet_core::SharedResult<Reentrant>>>,
}

impl Clone for Reentrant {
    fn clone(&self) -> Self {
        if let Some(owner) = self.owner.get() {
            // What `SharedResult`'s docs allow in a clone: the lock-free
            // inspections.
            assert!(owner.is_finished());
            assert!(format!("{owner:?}").contains("ready"));
        }
        Reentrant::default()
    }
}

/// X2: a `SharedResult` clones the value under its lock, as its docs say
/// (clones of a `!Sync` value must not race); what the docs allow a clone
/// to do with its own result (`is_finished`, `Debug`) does not deadlock.
pub fn x2_a_clone_that_looks_at_its_own_result_does_not_deadlock(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let owner = Arc::new(std::sync::OnceLock::new());
    let value = Reentrant {
        owner: Arc::clone(&owner),
    };
    let shared = running
        .run_in_reactor(move || async move { value })
        .shared();
    let _ = owner.set(shared.clone());
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let waited = shared.wait_timeout(PROMPTLY).map(|_| ());
        let _ = done.send(waited);
    });
    let finished = finished.recv_timeout(PROMPTLY);
    assert!(
        matches!(finished, Ok(Ok(()))),
        "{}: the wait deadlocked in the value's clone: {finished:?}",
        fixture.name()
    );
}
