//! R7, E4, W5, W8: every kind of wait hears an end only once the future is
//! gone, and shutdown's `Ok` means that nothing it was given still runs.
//!
//! Each case pins a way the promise used to break: a wait that published
//! the end itself during shutdown, work that shutdown's bound left
//! undecided, a stream reader that shutdown could not reach, a `wait_for`
//! that claimed a cancel while the future lived, `!Send` work whose result
//! was published before its closure was dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crochet_core::OperationState;
use crochet_core::{
    EventualResult, Reactor, SharedResult, ShutdownError, WaitError, WaitSet, wait_all, wait_any,
};

use crate::support::{Flag, PROMPTLY, eventually};
use crate::{Fixture, Running};

/// How long a first poll blocks its thread.
const SLOW_POLL: Duration = Duration::from_millis(500);
/// A shutdown bound shorter than what blocks the reactor.
const BOUND: Duration = Duration::from_millis(300);
/// What a loaded machine may add to a bound.
const SLACK: Duration = Duration::from_secs(2);

/// Releases a future that blocks its thread however the case ends.
#[derive(Default)]
struct Release(Arc<AtomicBool>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Blocks the calling thread for `at_most`, or until `release` is set.
fn block_thread(release: &AtomicBool, at_most: Duration) {
    let until = Instant::now() + at_most;
    while !release.load(Ordering::Acquire) && Instant::now() < until {
        thread::sleep(Duration::from_millis(5));
    }
}

/// An operation whose first poll blocks its thread for `block` (or until
/// released), then waits for ever; `polling` is set as the poll begins,
/// `dropped` once its future is dropped.
fn slow_first_poll(
    running: &Reactor,
    block: Duration,
    release: &Release,
    polling: &Flag,
    dropped: &Flag,
) -> EventualResult<u32> {
    let guard = dropped.on_drop();
    let polling = polling.clone();
    let release = Arc::clone(&release.0);
    running.run_in_reactor(move || async move {
        let _guard = guard;
        polling.set();
        block_thread(&release, block);
        std::future::pending::<u32>().await
    })
}

/// A wait's outcome, and whether the future was dropped when it returned.
type Heard = (String, bool);

fn heard<T: std::fmt::Debug, E: std::fmt::Debug>(
    outcome: Result<T, WaitError<E>>,
    dropped: &Flag,
) -> Heard {
    let dropped_then = dropped.is_set();
    let outcome = match outcome {
        Err(WaitError::ReactorStopped) => "ReactorStopped".to_owned(),
        other => format!("{other:?}"),
    };
    (outcome, dropped_then)
}

/// R7/A1: shutdown begins while an operation is in a slow first poll; a
/// blocking wait, `wait_all`, `wait_any`, a `WaitSet` and an `.await`
/// started then each hear `ReactorStopped` only once the future is
/// dropped (none publishes the end itself), and shutdown returns `Ok`,
/// every future gone within its bound. (`wait_any` skips a result another
/// wait read, so it waits on an operation of its own, submitted behind
/// the first.)
pub fn r7_every_kind_of_wait_hears_shutdown_only_after_the_drop(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (release, polling, dropped) = (Release::default(), Flag::new(), Flag::new());
    let shared: SharedResult<u32> =
        slow_first_poll(&running, SLOW_POLL, &release, &polling, &dropped).shared();
    let (other_polling, other_dropped) = (Flag::new(), Flag::new());
    let other = slow_first_poll(
        &running,
        SLOW_POLL,
        &release,
        &other_polling,
        &other_dropped,
    );
    assert!(polling.wait(PROMPTLY), "{}: never polled", fixture.name());
    let stopping = {
        let reactor = running.reactor.clone();
        thread::spawn(move || reactor.shutdown(PROMPTLY))
    };
    assert!(eventually(PROMPTLY, || !running.is_running()));
    // Shutdown has closed the registry by now.
    thread::sleep(Duration::from_millis(50));
    let waits: Vec<(&str, thread::JoinHandle<Heard>)> = vec![
        ("wait", {
            let (shared, dropped) = (shared.clone(), dropped.clone());
            thread::spawn(move || heard(shared.wait_timeout(PROMPTLY), &dropped))
        }),
        ("wait_all", {
            let (shared, dropped) = (shared.clone(), dropped.clone());
            thread::spawn(move || {
                let all = wait_all(PROMPTLY, [&shared]).map(|mut all| all.remove(0));
                heard(all.map_err(WaitError::widen).and_then(|one| one), &dropped)
            })
        }),
        ("wait_any", {
            let dropped = other_dropped.clone();
            thread::spawn(move || {
                let any = wait_any(PROMPTLY, [&other]).map(|any| any.expect("one result").1);
                heard(any.map_err(WaitError::widen).and_then(|one| one), &dropped)
            })
        }),
        ("WaitSet", {
            let (shared, dropped) = (shared.clone(), dropped.clone());
            thread::spawn(move || {
                let mut set = WaitSet::new([shared]);
                let next = set.wait_next_timeout(PROMPTLY);
                let next = next.map(|next| next.expect("one member").1);
                heard(next.map_err(WaitError::widen).and_then(|one| one), &dropped)
            })
        }),
        (".await", {
            let (shared, dropped) = (shared.clone(), dropped.clone());
            thread::spawn(move || heard(futures_lite::future::block_on(shared), &dropped))
        }),
    ];
    for (kind, wait) in waits {
        let (outcome, dropped_then) = wait.join().expect("a waiter");
        assert_eq!(outcome, "ReactorStopped", "{}: {kind}", fixture.name());
        assert!(
            dropped_then,
            "{}: {kind} heard the end before the future was dropped",
            fixture.name()
        );
    }
    let outcome = stopping.join().expect("shutdown");
    assert!(
        outcome.is_ok(),
        "{}: the future was dropped in time, yet: {outcome:?}",
        fixture.name()
    );
}

/// R7/A2: an operation still in its first poll when shutdown's bound runs
/// out is completed with `ReactorStopped` then (nothing is left pending),
/// shutdown says it abandoned it, and its future, once its poll returns,
/// changes nothing.
pub fn r7_shutdown_at_its_bound_ends_every_undecided_operation(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (release, polling, dropped) = (Release::default(), Flag::new(), Flag::new());
    let guard = dropped.on_drop();
    let (signal, released) = (polling.clone(), Arc::clone(&release.0));
    let result = running.run_in_reactor(move || async move {
        let _guard = guard;
        signal.set();
        block_thread(&released, SLOW_POLL * 10);
        7
    });
    assert!(polling.wait(PROMPTLY), "{}: never polled", fixture.name());
    let started = Instant::now();
    let outcome = running.shutdown(BOUND);
    let took = started.elapsed();
    assert!(
        matches!(
            outcome,
            Err(ShutdownError::Abandoned {
                operations: 1,
                after: BOUND
            })
        ),
        "{}: {outcome:?}",
        fixture.name()
    );
    assert!(took < BOUND + SLACK, "{}: took {took:?}", fixture.name());
    assert!(!dropped.is_set(), "the future still blocks its thread");
    assert!(
        matches!(result.try_result(), Some(Err(WaitError::ReactorStopped))),
        "{}: undecided at the bound",
        fixture.name()
    );
    assert_eq!(running.pending_operations(), 0, "{}", fixture.name());
    // Its poll returns with a value that nobody can take any more.
    drop(release);
    assert!(dropped.wait(PROMPTLY), "{}: never dropped", fixture.name());
    assert!(matches!(
        result.wait_timeout(PROMPTLY),
        Err(WaitError::ReactorStopped)
    ));
}

/// R7/A3: a stream reader blocked on an empty stream whose runtime no
/// longer polls it (its thread is blocked) wakes at shutdown's bound with
/// `ReactorStopped`, as a plain wait does.
pub fn r7_shutdown_reaches_a_blocked_stream_reader(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let mut stream = running.stream_in_reactor(futures_lite::stream::pending::<u32>);
    let (read_tx, read_rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        let _ = read_tx.send(stream.next());
    });
    thread::sleep(Duration::from_millis(50));
    let (release, hogging, dropped) = (Release::default(), Flag::new(), Flag::new());
    let hog = slow_first_poll(&running, SLOW_POLL * 10, &release, &hogging, &dropped);
    assert!(hogging.wait(PROMPTLY), "{}: never polled", fixture.name());
    let started = Instant::now();
    let outcome = running.shutdown(BOUND);
    let read = read_rx.recv_timeout((BOUND + SLACK).saturating_sub(started.elapsed()));
    drop(release);
    let read = read.unwrap_or_else(|_| {
        panic!(
            "{}: the reader was not woken by shutdown ({outcome:?})",
            fixture.name()
        )
    });
    assert!(
        matches!(read, Some(Err(WaitError::ReactorStopped))),
        "{}: {read:?}",
        fixture.name()
    );
    assert!(
        matches!(outcome, Err(ShutdownError::Abandoned { .. })),
        "{}: the hog was alive at the bound: {outcome:?}",
        fixture.name()
    );
    reader.join().expect("the reader");
    drop(hog);
}

/// W5/A6: `wait_for` on a future that blocks its thread past the timeout
/// cannot drop it in time, and does not claim it did: `state` is
/// `Cancelled` only once the future is dropped, and `after` is how long
/// the call waited. Inline (the default), the caller's own thread is the
/// one blocked, so the call returns once the poll returns and the future
/// is dropped; on the reactor's thread, it returns after its grace with the
/// cancel still requested (`Cancelling`), and the future is dropped when
/// its poll returns.
pub fn w5_wait_for_never_claims_a_cancel_that_has_not_happened(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    for inline in [true, false] {
        running.set_wait_for_inline(inline);
        let dropped = Flag::new();
        let guard = dropped.on_drop();
        let timeout = Duration::from_millis(100);
        let started = Instant::now();
        let outcome = running.wait_for(timeout, move || async move {
            let _guard = guard;
            // Blocks its thread: it cannot be dropped before this returns.
            thread::sleep(Duration::from_millis(1_500));
            std::future::pending::<()>().await
        });
        let waited = started.elapsed();
        let dropped_then = dropped.is_set();
        match outcome {
            Err(WaitError::Timeout { after, state }) => {
                assert!(
                    !state.is_cancelled() || dropped_then,
                    "{} (inline: {inline}): claimed a cancel while the future was alive",
                    fixture.name()
                );
                assert!(
                    after >= timeout && after <= waited,
                    "{} (inline: {inline}): after {after:?}, waited {waited:?}",
                    fixture.name()
                );
                let expected = if inline {
                    OperationState::Cancelled
                } else {
                    OperationState::Cancelling
                };
                assert_eq!(state, expected, "{} (inline: {inline})", fixture.name());
            }
            other => panic!("{}: expected a timeout, got {other:?}", fixture.name()),
        }
        assert!(dropped.wait(PROMPTLY), "{}: never dropped", fixture.name());
    }
}

/// What a `!Send` operation's closure saw of its result when it was
/// dropped: `Some(true)` if the result was already published.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Option<bool>>>);

/// Dropped with the closure: records whether the result was published.
struct Probe {
    result: Arc<OnceLock<EventualResult<u32>>>,
    seen: Seen,
}

impl Drop for Probe {
    fn drop(&mut self) {
        let published = self.result.get().is_some_and(EventualResult::is_finished);
        *self.seen.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(published);
    }
}

/// `!Send` work on `reactor`, whose closure holds a probe of its result.
fn probed_local(reactor: &Reactor) -> (Arc<OnceLock<EventualResult<u32>>>, Seen) {
    let result = Arc::new(OnceLock::new());
    let seen = Seen::default();
    let probe = Probe {
        result: Arc::clone(&result),
        seen: seen.clone(),
    };
    let submitted = reactor.run_in_reactor_local(move || {
        let probe = probe;
        async move {
            let _probe = probe;
            1
        }
    });
    assert!(result.set(submitted).is_ok());
    (result, seen)
}

/// W8/A5: `!Send` work that never starts (dropped with the queue of an
/// attach that never came, or refused by an attached runtime that runs no
/// `!Send` work) drops its closure first, then publishes its end; work
/// that runs drops its future first, as every operation does.
pub fn w8_unstarted_local_work_drops_its_closure_before_its_end(fixture: &'static dyn Fixture) {
    let reactor = Reactor::new();
    reactor.no_setup().expect("no_setup");
    let (result, seen) = probed_local(&reactor);
    reactor.shutdown(PROMPTLY).expect("shutdown");
    let stopped = result.get().expect("set").wait_timeout(PROMPTLY);
    assert!(
        matches!(stopped, Err(WaitError::ReactorStopped)),
        "{stopped:?}"
    );
    assert_eq!(
        *seen.0.lock().unwrap_or_else(PoisonError::into_inner),
        Some(false),
        "published before its closure was dropped"
    );

    let reactor = Reactor::new();
    reactor.no_setup().expect("no_setup");
    let (result, seen) = probed_local(&reactor);
    let owner = fixture.attach(&reactor).expect("attach");
    let outcome = result.get().expect("set").wait_timeout(PROMPTLY);
    assert!(
        matches!(outcome, Ok(1) | Err(WaitError::Unsupported(_))),
        "{}: {outcome:?}",
        fixture.name()
    );
    assert_eq!(
        *seen.0.lock().unwrap_or_else(PoisonError::into_inner),
        Some(false),
        "{}: published ({outcome:?}) before its closure was dropped",
        fixture.name()
    );
    reactor.shutdown(PROMPTLY).expect("shutdown");
    drop(owner);
}
