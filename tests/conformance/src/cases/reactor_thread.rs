//! E3: blocking waits on reactor threads are refused, not deadlocked.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crochet_core::OperationState;
use crochet_core::WaitError;

use crate::support::{Flag, Gate, PROMPTLY};
use crate::{Fixture, RawTaskWait, Running};

/// E3: waiting inside a crochet task (in the closure or in its future)
/// returns `WaitInReactor` at once, naming the thread.
pub fn e3_wait_inside_crochet_task_is_wait_in_reactor(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let never = running.run_in_reactor(move || opened).shared();
    let in_closure = never.clone();
    let in_future = never.clone();
    let outcome = running.run_in_reactor(move || {
        let from_closure = in_closure.wait_timeout(PROMPTLY);
        async move {
            let from_future = in_future.wait();
            (from_closure, from_future)
        }
    });
    let (from_closure, from_future) = outcome.wait_timeout(PROMPTLY * 3).expect("outcome");
    for refused in [from_closure, from_future] {
        match refused {
            Err(WaitError::WaitInReactor { thread }) => assert!(!thread.is_empty()),
            other => panic!("expected WaitInReactor, got {other:?}"),
        }
    }
    assert!(
        !never.is_finished(),
        "a refused wait must not consume or cancel"
    );
    gate.open();
    never
        .wait_timeout(PROMPTLY)
        .expect("the value, once the gate opens");
}

/// E3: a wait on a thread that drives the runtime, in a runtime task that
/// crochet did not make, is refused too, unless the runtime hands the
/// thread's work off (then it waits, here until its short timeout).
pub fn e3_wait_on_runtime_thread_outside_crochet_task_is_refused(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let never = running.run_in_reactor(move || opened).shared();
    let (report, outcome) = mpsc::channel();
    let waited = never.clone();
    let spawned = running.run_in_reactor(move || {
        fixture.spawn_raw(Box::new(move || {
            let outcome = waited.wait_timeout(Duration::from_millis(50));
            let _ = report.send(outcome);
        }));
        async {}
    });
    spawned
        .wait_timeout(PROMPTLY)
        .expect("spawned the runtime task");
    let refused = outcome
        .recv_timeout(PROMPTLY * 3)
        .expect("the runtime task reported");
    let expected = match fixture.raw_task_wait() {
        RawTaskWait::Refused => matches!(refused, Err(WaitError::WaitInReactor { .. })),
        RawTaskWait::Completes => matches!(
            refused,
            Err(WaitError::Timeout {
                state: OperationState::Running,
                ..
            })
        ),
    };
    assert!(expected, "{}: {refused:?}", fixture.name());
    gate.open();
}

/// E3: `wait_for` on a reactor thread refuses before submitting anything
/// (Python crochet would still run the work).
pub fn e3_wait_for_in_reactor_refuses_before_submitting(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let ran = Flag::new();
    let reactor = running.reactor.clone();
    let probe = ran.clone();
    let outcome = running.run_in_reactor(move || {
        let refused = reactor.wait_for(PROMPTLY, move || {
            probe.set();
            async {}
        });
        let pending = reactor.pending_operations();
        async move { (refused, pending) }
    });
    let (refused, pending_then) = outcome.wait_timeout(PROMPTLY).expect("outcome");
    match refused {
        Err(error @ WaitError::WaitInReactor { .. }) => {
            assert!(error.to_string().contains("use `.await`"), "{error}");
        }
        other => panic!("expected WaitInReactor, got {other:?}"),
    }
    // Only the outer operation itself was pending.
    assert_eq!(pending_then, 1);
    assert!(
        !ran.wait(std::time::Duration::from_millis(100)),
        "the refused work ran"
    );
}

/// How long a wait in a runtime task is given before it counts as a stall.
const STALL: Duration = Duration::from_secs(3);

/// E3: a blocking wait inside a runtime task (one crochet did not make) on
/// work that the task itself just submitted either completes (a
/// multi-thread runtime hands the worker off) or is refused at once: it
/// never stalls until its timeout. Every kind of blocking wait: `wait*`,
/// `wait_for`, `wait_any`, `wait_all` and stream reads.
pub fn e3_wait_in_a_runtime_task_completes_or_is_refused_at_once(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (report, outcomes) = mpsc::channel();
    let reactor = running.reactor.clone();
    let spawned = running.run_in_reactor(move || {
        fixture.spawn_raw(Box::new(move || {
            let started = Instant::now();
            let waited = reactor.run_in_reactor(|| async { 1 }).wait_timeout(STALL);
            let waited_for = reactor.wait_for(STALL, || async { 2 });
            let any = crochet_core::wait_any(STALL, &[reactor.run_in_reactor(|| async { 3 })])
                .and_then(|any| {
                    any.map_or(Err(WaitError::AlreadyRetrieved), |(_, outcome)| outcome)
                });
            let all = crochet_core::wait_all(STALL, &[reactor.run_in_reactor(|| async { 4 })])
                .and_then(|mut all| all.remove(0));
            // The item comes late: a read that finds it buffered is not
            // refused, and this one must have to wait.
            let mut stream = reactor.stream_in_reactor(move || {
                let sleep = fixture.sleep(Duration::from_millis(20));
                futures_lite::stream::once_future(async move {
                    sleep.await;
                    5
                })
            });
            let read = stream
                .next_timeout(STALL)
                .map(|item| item.unwrap_or_default());
            let _ = report.send(([waited, waited_for, any, all, read], started.elapsed()));
        }));
        async {}
    });
    spawned
        .wait_timeout(PROMPTLY)
        .expect("spawned the runtime task");
    let (outcomes, took) = outcomes
        .recv_timeout(PROMPTLY * 3)
        .expect("the runtime task reported");
    let as_expected = match fixture.raw_task_wait() {
        RawTaskWait::Completes => outcomes
            .iter()
            .zip(1..)
            .all(|(outcome, value)| matches!(outcome, Ok(got) if *got == value)),
        RawTaskWait::Refused => outcomes
            .iter()
            .all(|outcome| matches!(outcome, Err(WaitError::WaitInReactor { .. }))),
    };
    assert!(as_expected, "{}: {outcomes:?}", fixture.name());
    assert!(
        took < STALL,
        "{}: the waits took {took:?}: one of them stalled",
        fixture.name()
    );
}
