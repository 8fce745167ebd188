//! E1, E2, E5, E6, E7: waiting for results.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crochet_core::{Error, ErrorKind};

use crate::support::{Gate, PROMPTLY, gated};
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
        Err(Error::Timeout { after, cancelled }) => {
            assert_eq!(after, Duration::from_millis(50));
            assert!(!cancelled);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        !result.is_ready(),
        "a timed-out wait cancelled the operation"
    );
    let deadline = Instant::now() + Duration::from_millis(20);
    assert_eq!(
        result.wait_deadline(deadline).map_err(|e| e.kind()),
        Err(ErrorKind::Timeout)
    );
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
    assert_eq!(
        shared
            .wait_timeout(Duration::from_millis(10))
            .map_err(|e| e.kind()),
        Err(ErrorKind::Timeout)
    );
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
    let first: Result<(), Error> = failed.wait_timeout(PROMPTLY);
    let second: Result<(), Error> = failed.clone().wait_timeout(PROMPTLY);
    assert_eq!(first.unwrap_err().kind(), ErrorKind::Panicked);
    assert_eq!(second.unwrap_err().kind(), ErrorKind::Panicked);
}

/// E2: a consuming wait takes the value; a later one gets a typed
/// `AlreadyRetrieved`, never a default.
pub fn e2_taken_value_is_already_retrieved(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let result = running.run_in_reactor(|| async { 10 });
    assert_eq!(result.wait_timeout(PROMPTLY).expect("value"), 10);
    assert!(matches!(result.wait(), Err(Error::AlreadyRetrieved)));
    assert!(matches!(
        result.try_result(),
        Some(Err(Error::AlreadyRetrieved))
    ));
    assert!(matches!(
        result.wait_timeout(Duration::ZERO),
        Err(Error::AlreadyRetrieved)
    ));
}

/// E5: `is_ready` and `try_result` answer at once.
pub fn e5_is_ready_and_try_result_never_block(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (gate, result) = gated(&running, 11);
    let started = Instant::now();
    assert!(!result.is_ready());
    assert!(result.try_result().is_none());
    assert!(started.elapsed() < PROMPTLY);
    gate.open();
    assert!(crate::support::eventually(PROMPTLY, || result.is_ready()));
    assert_eq!(result.try_result().expect("ready").expect("value"), 11);
    assert!(result.is_ready(), "a taken result is still decided");
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
        Some(Err(Error::AlreadyRetrieved))
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
        Err(Error::Timeout { after, .. }) => assert_eq!(after, Duration::ZERO),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < PROMPTLY);
    let past = Instant::now()
        .checked_sub(Duration::from_secs(1))
        .unwrap_or_else(Instant::now);
    assert_eq!(
        result.wait_deadline(past).map_err(|e| e.kind()),
        Err(ErrorKind::Timeout)
    );

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
    assert!(crate::support::eventually(PROMPTLY, || ready.is_ready()));
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

/// E9: a failure is reported to every wait on its result, as Python
/// crochet re-raises it on every `wait()`: a panic, the operation's own
/// error, a cancellation and a stopped reactor alike. Only a value that an
/// earlier wait took says `AlreadyRetrieved`.
pub fn e9_failure_is_reported_to_every_wait(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let twice = |result: &crochet_core::EventualResult<u8>| {
        let first = result.wait_timeout(PROMPTLY).map_err(|e| e.kind());
        let second = result.wait_timeout(PROMPTLY).map_err(|e| e.kind());
        let polled = result.try_result().map(|r| r.map_err(|e| e.kind()));
        (first, second, polled)
    };
    let panicked = running.run_in_reactor(|| async { panic!("every wait sees this") });
    let failed = running.try_run_in_reactor(|| async { Err::<u8, _>("refused") });
    let (gate, cancelled) = gated(&running, 0_u8);
    assert!(cancelled.cancel());
    for (result, kind) in [
        (panicked, ErrorKind::Panicked),
        (failed, ErrorKind::Failed),
        (cancelled, ErrorKind::Cancelled),
    ] {
        assert_eq!(twice(&result), (Err(kind), Err(kind), Some(Err(kind))));
    }
    gate.open();

    let value = running.run_in_reactor(|| async { 7_u8 });
    assert_eq!(
        twice(&value),
        (
            Ok(7),
            Err(ErrorKind::AlreadyRetrieved),
            Some(Err(ErrorKind::AlreadyRetrieved))
        )
    );

    let (gate, stopped) = gated(&running, 0_u8);
    running.shutdown(PROMPTLY).expect("shutdown");
    let stop = Err(ErrorKind::ReactorStopped);
    assert_eq!(twice(&stopped), (stop, stop, Some(stop)));
    gate.open();
}
