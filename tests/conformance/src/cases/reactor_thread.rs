//! E3: blocking waits on reactor threads are refused, not deadlocked.

use std::sync::mpsc;

use crochet_core::{Error, ErrorKind};

use crate::support::{Flag, Gate, PROMPTLY};
use crate::{Fixture, Running};

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
            Err(Error::WaitInReactor { thread }) => assert!(!thread.is_empty()),
            other => panic!("expected WaitInReactor, got {other:?}"),
        }
    }
    assert!(
        !never.is_ready(),
        "a refused wait must not consume or cancel"
    );
    gate.open();
    assert_eq!(never.wait_timeout(PROMPTLY).map_err(|e| e.kind()), Ok(()));
}

/// E3: a wait on a thread that drives the runtime, in a runtime task that
/// crochet did not make, is refused too.
pub fn e3_wait_on_runtime_thread_outside_crochet_task_is_refused(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let never = running.run_in_reactor(move || opened).shared();
    let (report, outcome) = mpsc::channel();
    let waited = never.clone();
    let spawned = running.run_in_reactor(move || {
        fixture.spawn_raw(Box::new(move || {
            let _ = report.send(waited.wait_timeout(PROMPTLY).map_err(|e| e.kind()));
        }));
        async {}
    });
    spawned
        .wait_timeout(PROMPTLY)
        .expect("spawned the runtime task");
    let refused = outcome
        .recv_timeout(PROMPTLY * 3)
        .expect("the runtime task reported");
    assert_eq!(refused, Err(ErrorKind::WaitInReactor));
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
        Err(error @ Error::WaitInReactor { .. }) => {
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
