//! E1, E2, E5, E6, E7: waiting for results.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crochet_core::OperationState;
use crochet_core::{EventualResult, WaitError};

use crate::support::{Gate, PROMPTLY, assert_timed_out_running, gated};
use crate::{Fixture, Running};

/// E1: a wait with a timeout returns `Timeout` when the time runs out, and
/// the result stays waitable.
pub fn e1_timeout_leaves_result_waitable(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (gate, result) = gated(&running, "late");
    let started = Instant::now();
    let timed_out = result.wait_timeout(Duration::from_millis(50));
    assert!(started.elapsed() >= Duration::from_millis(50));
    match timed_out {
        Err(WaitError::Timeout { after, state }) => {
            assert_eq!(after, Duration::from_millis(50));
            assert_eq!(state, OperationState::Running);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        !result.is_finished(),
        "a timed-out wait cancelled the operation"
    );
    let deadline = Instant::now() + Duration::from_millis(20);
    let again = result.wait_deadline(deadline);
    assert_timed_out_running(&again, "a second wait on a running operation");
    gate.open();
    assert_eq!(result.wait_timeout(PROMPTLY).expect("a later wait"), "late");
}

/// E2: many threads may wait on a shared result, and every wait returns
/// the same value; a timed-out wait consumes nothing.
pub fn e2_every_shared_waiter_gets_the_value(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let shared = running
        .run_in_reactor(move || async move {
            opened.await;
            String::from("for everyone")
        })
        .shared();
    let early = shared.wait_timeout(Duration::from_millis(10));
    assert_timed_out_running(&early, "a shared result of a running operation");
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let mine = shared.clone();
            thread::spawn(move || mine.wait_timeout(PROMPTLY))
        })
        .collect();
    gate.open();
    for waiter in waiters {
        assert_eq!(
            waiter.join().expect("waiter").expect("value"),
            "for everyone"
        );
    }
    assert_eq!(shared.wait().expect("again"), "for everyone");
    assert_eq!(
        shared.try_result().expect("ready").expect("value"),
        "for everyone"
    );

    // Errors are shared too.
    let failed = running
        .run_in_reactor(|| async { panic!("shared panic") })
        .shared();
    let first: Result<(), WaitError> = failed.wait_timeout(PROMPTLY);
    let second: Result<(), WaitError> = failed.clone().wait_timeout(PROMPTLY);
    for outcome in [first, second] {
        assert!(
            matches!(&outcome, Err(WaitError::Panicked(panic)) if panic.message() == "shared panic"),
            "{outcome:?}"
        );
    }
}

/// E2: a consuming wait takes the value; a later one gets a typed
/// `AlreadyRetrieved`, never a default.
pub fn e2_taken_value_is_already_retrieved(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let result = running.run_in_reactor(|| async { 10 });
    assert_eq!(result.wait_timeout(PROMPTLY).expect("value"), 10);
    assert!(matches!(result.wait(), Err(WaitError::AlreadyRetrieved)));
    assert!(matches!(
        result.try_result(),
        Some(Err(WaitError::AlreadyRetrieved))
    ));
    assert!(matches!(
        result.wait_timeout(Duration::ZERO),
        Err(WaitError::AlreadyRetrieved)
    ));
}

/// E5: `is_finished` and `try_result` answer at once.
pub fn e5_is_ready_and_try_result_never_block(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (gate, result) = gated(&running, 11);
    let started = Instant::now();
    assert!(!result.is_finished());
    assert!(result.try_result().is_none());
    assert!(started.elapsed() < PROMPTLY);
    gate.open();
    assert!(crate::support::eventually(PROMPTLY, || result.is_finished()));
    assert_eq!(result.try_result().expect("ready").expect("value"), 11);
    assert!(result.is_finished(), "a taken result is still decided");
}

/// E6: async code can `.await` the same handle, in the reactor or on any
/// executor, without blocking a thread.
pub fn e6_result_can_be_awaited_from_async_code(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (gate, inner) = gated(&running, 12);
    // Awaited by another crochet operation, in the reactor.
    let outer = running.run_in_reactor(move || async move { inner.await.map(|v| v + 1) });
    gate.open();
    assert_eq!(
        outer.wait_timeout(PROMPTLY).expect("outer").expect("inner"),
        13
    );

    // Awaited outside any runtime, by a minimal executor on this thread.
    let gate = Gate::new();
    let opened = gate.opened();
    let mut result = running.run_in_reactor(move || async move {
        opened.await;
        14
    });
    let opener = {
        let gate = gate.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            gate.open();
        })
    };
    assert_eq!(block_on(&mut result).expect("value"), 14);
    opener.join().expect("opener");
    // A handle polled to completion has given its value away.
    assert!(matches!(
        result.try_result(),
        Some(Err(WaitError::AlreadyRetrieved))
    ));

    let shared = running.run_in_reactor(|| async { 15 }).shared();
    assert_eq!(block_on(shared.clone()).expect("value"), 15);
    assert_eq!(block_on(shared).expect("value"), 15);
}

/// E7: a zero timeout checks once; a timeout too large to represent waits
/// as long as it takes; neither panics.
pub fn e7_zero_checks_once_and_huge_timeouts_wait(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (gate, result) = gated(&running, 16);
    let started = Instant::now();
    match result.wait_timeout(Duration::ZERO) {
        Err(WaitError::Timeout {
            after,
            state: OperationState::Running,
        }) => assert_eq!(after, Duration::ZERO),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < PROMPTLY);
    let past = Instant::now()
        .checked_sub(Duration::from_secs(1))
        .unwrap_or_else(Instant::now);
    let past_deadline = result.wait_deadline(past);
    assert_timed_out_running(&past_deadline, "a wait whose deadline has passed");

    let opener = {
        let gate = gate.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(30));
            gate.open();
        })
    };
    assert_eq!(result.wait_timeout(Duration::MAX).expect("value"), 16);
    opener.join().expect("opener");

    let ready = running.run_in_reactor(|| async { 17 });
    assert!(crate::support::eventually(PROMPTLY, || ready.is_finished()));
    assert_eq!(
        ready.wait_timeout(Duration::ZERO).expect("ready at once"),
        17
    );
    assert_eq!(
        running
            .wait_for(Duration::MAX, || async { 18 })
            .expect("wait_for with a huge timeout"),
        18
    );
}

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` to completion on this thread, parking in between.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut context = Context::from_waker(&waker);
    let deadline = Instant::now() + PROMPTLY;
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        assert!(
            Instant::now() < deadline,
            "the awaited result never woke its task"
        );
        thread::park_timeout(PROMPTLY);
    }
}

/// Three reads of `result`: two waits, then a poll.
type ThreeReads<T, E> = (
    Result<T, WaitError<E>>,
    Result<T, WaitError<E>>,
    Option<Result<T, WaitError<E>>>,
);

fn three_reads<T, E>(result: &EventualResult<T, E>) -> ThreeReads<T, E> {
    let first = result.wait_timeout(PROMPTLY);
    let second = result.wait_timeout(PROMPTLY);
    let polled = result.try_result();
    (first, second, polled)
}

/// E9: crochet's own failures are reported to every wait on their result,
/// as Python crochet re-raises a failure on every `wait()`: a panic, a
/// cancellation and a stopped reactor alike. Only a value that an earlier
/// wait took says `AlreadyRetrieved`. (The operation's own error moves out
/// once: see `e9_operation_error_goes_to_the_first_wait_only`.)
pub fn e9_failure_is_reported_to_every_wait(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let every_wait = |result: &EventualResult<u8>, is: fn(&WaitError) -> bool, what: &str| {
        let (first, second, polled) = three_reads(result);
        assert!(
            first.as_ref().err().is_some_and(is),
            "{what}: first wait {first:?}"
        );
        assert!(
            second.as_ref().err().is_some_and(is),
            "{what}: second wait {second:?}"
        );
        assert!(
            polled
                .as_ref()
                .and_then(|r| r.as_ref().err())
                .is_some_and(is),
            "{what}: try_result {polled:?}"
        );
    };
    let panicked = running.run_in_reactor(|| async { panic!("every wait sees this") });
    every_wait(
        &panicked,
        |e| matches!(e, WaitError::Panicked(panic) if panic.message() == "every wait sees this"),
        "panicked",
    );
    let (gate, cancelled) = gated(&running, 0_u8);
    assert!(cancelled.cancel());
    every_wait(
        &cancelled,
        |e| matches!(e, WaitError::Cancelled),
        "cancelled",
    );
    gate.open();

    let value = running.run_in_reactor(|| async { 7_u8 });
    let (first, second, polled) = three_reads(&value);
    assert_eq!(first.expect("the value"), 7);
    assert!(
        matches!(second, Err(WaitError::AlreadyRetrieved)),
        "{second:?}"
    );
    assert!(
        matches!(polled, Some(Err(WaitError::AlreadyRetrieved))),
        "{polled:?}"
    );

    let (gate, stopped) = gated(&running, 0_u8);
    running.shutdown(PROMPTLY).expect("shutdown");
    every_wait(
        &stopped,
        |e| matches!(e, WaitError::ReactorStopped),
        "stopped",
    );
    gate.open();
}

/// An operation's own error, owned by whoever waits for it.
#[derive(Debug, Clone, PartialEq)]
struct Refused {
    code: u16,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused with {}", self.code)
    }
}

impl std::error::Error for Refused {}

/// E9: the operation's own error is owned, like a value: the first wait
/// that reads it (`wait*`, `try_result` or `.await`) gets `Failed(e)`, and
/// every later wait on the same result gets `FailureTaken`. A
/// `SharedResult` gives every wait, on every clone, `Failed` with a clone
/// of the error.
pub fn e9_operation_error_goes_to_the_first_wait_only(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let refused = |code| move || async move { Err::<u8, _>(Refused { code }) };

    // Read first by a blocking wait.
    let failed = running.run_in_reactor_fallible(refused(1));
    let (first, second, polled) = three_reads(&failed);
    assert!(
        matches!(first, Err(WaitError::Failed(Refused { code: 1 }))),
        "{first:?}"
    );
    assert!(matches!(second, Err(WaitError::FailureTaken)), "{second:?}");
    assert!(
        matches!(polled, Some(Err(WaitError::FailureTaken))),
        "{polled:?}"
    );
    assert!(matches!(failed.wait(), Err(WaitError::FailureTaken)));

    // Read first by a poll.
    let failed = running.run_in_reactor_fallible(refused(2));
    assert!(crate::support::eventually(PROMPTLY, || failed.is_finished()));
    let polled = failed.try_result();
    assert!(
        matches!(polled, Some(Err(WaitError::Failed(Refused { code: 2 })))),
        "{polled:?}"
    );
    let waited = failed.wait_timeout(PROMPTLY);
    assert!(matches!(waited, Err(WaitError::FailureTaken)), "{waited:?}");

    // Read first by `.await`.
    let mut failed = running.run_in_reactor_fallible(refused(3));
    let awaited = block_on(&mut failed);
    assert!(
        matches!(awaited, Err(WaitError::Failed(Refused { code: 3 }))),
        "{awaited:?}"
    );
    let waited = failed.wait_timeout(PROMPTLY);
    assert!(matches!(waited, Err(WaitError::FailureTaken)), "{waited:?}");

    // Shared: every wait, on every clone and from every thread, gets a
    // clone of the error.
    let shared = running.run_in_reactor_fallible(refused(4)).shared();
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let mine = shared.clone();
            thread::spawn(move || mine.wait_timeout(PROMPTLY))
        })
        .collect();
    for waiter in waiters {
        let outcome = waiter.join().expect("waiter");
        assert!(
            matches!(outcome, Err(WaitError::Failed(Refused { code: 4 }))),
            "{outcome:?}"
        );
    }
    for outcome in [
        shared.wait_timeout(PROMPTLY),
        shared.wait(),
        shared.try_result().expect("ready"),
        block_on(shared.clone()),
    ] {
        assert!(
            matches!(outcome, Err(WaitError::Failed(Refused { code: 4 }))),
            "{outcome:?}"
        );
    }
}
