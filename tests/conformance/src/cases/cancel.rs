//! E4 and W5: cancellation, and `wait_for` cancelling on timeout.

use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crochet_core::OperationState;
use crochet_core::WaitError;

use futures_lite::StreamExt;

use crate::support::{
    Flag, Gate, HeldPort, Holding, PROMPTLY, assert_port_free, eventually, free_address,
};
use crate::{Fixture, Running};

/// E4: `cancel` decides a pending result's outcome at once (`Cancelled`),
/// is idempotent, and the waiter hears it once the reactor has dropped the
/// future, promptly.
pub fn e4_cancel_completes_pending_and_drops_future(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let dropped = Flag::new();
    let guard = dropped.on_drop();
    let gate = Gate::new();
    let opened = gate.opened();
    let result = running.run_in_reactor(move || async move {
        let _guard = guard;
        opened.await;
        "finished"
    });
    assert!(result.cancel(), "the first cancel cancels");
    assert!(!result.cancel(), "a second cancel does nothing");
    assert!(matches!(
        result.wait_timeout(PROMPTLY),
        Err(WaitError::Cancelled)
    ));
    assert!(result.is_finished());
    assert!(
        dropped.is_set(),
        "Cancelled was heard before the future was dropped"
    );
    assert!(eventually(PROMPTLY, || running.pending_operations() == 0));
    gate.open();
}

/// E4: cancelling a finished result is best effort: the value stays.
pub fn e4_cancel_after_completion_keeps_value(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let result = running.run_in_reactor(|| async { 20 });
    assert!(eventually(PROMPTLY, || result.is_finished()));
    assert!(!result.cancel());
    assert_eq!(result.wait_timeout(PROMPTLY).expect("value kept"), 20);
    assert!(!result.cancel(), "cancel after the value was taken");
}

/// E4: `cancel` may be called from any thread, reactor threads included,
/// and wakes a thread blocked in `wait`.
pub fn e4_cancel_from_another_thread_wakes_blocked_waiter(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let result = Arc::new(running.run_in_reactor(move || opened));
    let waiter = {
        let result = Arc::clone(&result);
        thread::spawn(move || result.wait())
    };
    thread::sleep(Duration::from_millis(20));
    let canceller = {
        let result = Arc::clone(&result);
        thread::spawn(move || result.cancel())
    };
    assert!(canceller.join().expect("canceller"));
    let woke = waiter.join().expect("waiter");
    assert!(matches!(woke, Err(WaitError::Cancelled)), "{woke:?}");

    // From a reactor thread.
    let gate = Gate::new();
    let opened = gate.opened();
    let target = running.run_in_reactor(move || opened).shared();
    let remote = target.clone();
    let cancelled = running.run_in_reactor(move || {
        let cancelled = remote.cancel();
        async move { cancelled }
    });
    assert!(cancelled.wait_timeout(PROMPTLY).expect("ran"));
    let outcome = target.wait_timeout(PROMPTLY);
    assert!(matches!(outcome, Err(WaitError::Cancelled)), "{outcome:?}");
}

/// W5: `wait_for` blocks at most `timeout`, then cancels the operation
/// (its future is dropped) and returns `Timeout`.
pub fn w5_wait_for_times_out_and_cancels(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let dropped = Flag::new();
    let guard = dropped.on_drop();
    let gate = Gate::new();
    let opened = gate.opened();
    let outcome = running.wait_for(Duration::from_millis(50), move || async move {
        let _guard = guard;
        opened.await;
        "too late"
    });
    match outcome {
        Err(error @ WaitError::Timeout { .. }) => {
            assert!(
                matches!(error, WaitError::Timeout { after, state: OperationState::Cancelled } if after >= Duration::from_millis(50) && after < PROMPTLY),
                "{error:?}"
            );
            assert!(
                error.to_string().contains("the operation was cancelled"),
                "{error}"
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        dropped.wait(PROMPTLY),
        "the timed-out operation was not dropped"
    );
    assert!(eventually(PROMPTLY, || running.pending_operations() == 0));
    gate.open();
}

#[derive(Debug, PartialEq)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refused by the server")
    }
}

impl std::error::Error for Refused {}

/// W5: in time, `wait_for` returns the value; with `wait_for_fallible`, a
/// fallible operation's error comes back owned and typed.
pub fn w5_wait_for_returns_value_or_operation_error(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let value = running.wait_for(PROMPTLY, move || {
        let sleep = fixture.sleep(Duration::from_millis(5));
        async move {
            sleep.await;
            21
        }
    });
    assert_eq!(value.expect("value"), 21);
    let failed = running.wait_for_fallible(PROMPTLY, || async { Err::<u8, _>(Refused) });
    let error: WaitError<Refused> = failed.expect_err("the operation's error");
    assert_eq!(
        error.to_string(),
        "the operation failed: refused by the server"
    );
    assert_eq!(error.into_failed().ok(), Some(Refused));
    assert_eq!(
        running
            .wait_for_fallible(PROMPTLY, || async { Ok::<_, Refused>(22) })
            .expect("value"),
        22
    );
    // The timeout and the cancellation are the same as `wait_for`'s.
    let late = running.wait_for_fallible(Duration::from_millis(20), || async {
        std::future::pending::<Result<u8, Refused>>().await
    });
    assert!(
        matches!(
            late,
            Err(WaitError::Timeout {
                state: OperationState::Cancelled,
                ..
            })
        ),
        "{late:?}"
    );
}

/// Rounds of each release check: a port released late shows up in one of
/// them.
const ROUNDS: usize = 40;

/// An operation that binds `address` and holds it until its gate opens
/// (returned, with the flag its port sets once released), once it holds it.
fn holding_the_port(
    running: &Running,
    address: std::net::SocketAddr,
) -> (crochet_core::EventualResult<()>, Gate, Flag) {
    let bound = Flag::new();
    let signal = bound.clone();
    let released = Flag::new();
    let port = released.clone();
    let gate = Gate::new();
    let opened = gate.opened();
    let result = running.run_in_reactor(move || {
        let held = HeldPort::bind(address, &port);
        signal.set();
        async move {
            let _held = held;
            opened.await;
        }
    });
    assert!(bound.wait(PROMPTLY), "the operation never bound {address}");
    (result, gate, released)
}

/// E4: when a waiter hears `Cancelled`, the operation's future has been
/// dropped, and what it held (here a listening port) is free: binding the
/// same address succeeds at once. As tokio's `JoinHandle` promises for an
/// aborted task.
pub fn e4_cancelled_means_the_future_is_gone_and_its_port_free(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let address = free_address();
    for round in 0..ROUNDS {
        let (result, _gate, released) = holding_the_port(&running, address);
        assert!(result.cancel());
        let outcome = result.wait_timeout(PROMPTLY);
        assert!(matches!(outcome, Err(WaitError::Cancelled)), "{outcome:?}");
        assert_port_free(
            address,
            &released,
            &format!("round {round}, after Cancelled"),
        );
    }
    // `wait_for` timing out cancels the same way.
    for round in 0..ROUNDS {
        let gate = Gate::new();
        let opened = gate.opened();
        // Checked only if the operation started: otherwise it held nothing.
        let released = Flag::new();
        let port = released.clone();
        let started = Flag::new();
        let running_now = started.clone();
        let timed_out = running.wait_for(Duration::from_millis(20), move || {
            running_now.set();
            let held = HeldPort::bind(address, &port);
            async move {
                let _held = held;
                opened.await;
            }
        });
        assert!(
            matches!(
                timed_out,
                Err(WaitError::Timeout {
                    state: OperationState::Cancelled,
                    ..
                })
            ),
            "{timed_out:?}"
        );
        if started.is_set() {
            assert_port_free(
                address,
                &released,
                &format!("round {round}, after wait_for timed out"),
            );
        }
    }
}

/// E4: a value, too, is handed out only once the future that produced it
/// is dropped: a future that keeps a port after returning has let go of it
/// by the time the waiter has the value.
pub fn e4_a_value_arrives_after_its_future_is_dropped(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let address = free_address();
    for round in 0..ROUNDS {
        let released = Flag::new();
        let port = released.clone();
        let result = running.run_in_reactor(move || Holding {
            held: HeldPort::bind(address, &port),
            value: Some(round),
        });
        assert_eq!(result.wait_timeout(PROMPTLY).expect("the value"), round);
        assert_port_free(
            address,
            &released,
            &format!("round {round}, after the value"),
        );
    }
}

/// E4/R7: the same for a cancelled stream and for shutdown.
pub fn e4_cancelled_streams_and_shutdown_release_what_they_held(fixture: &'static dyn Fixture) {
    let address = free_address();
    for round in 0..4 {
        let running = Running::start(fixture);
        let released = Flag::new();
        let port = released.clone();
        let mut lines = running.stream_in_reactor(move || {
            let held = HeldPort::bind(address, &port);
            futures_lite::stream::unfold(Some(held), |held| async move {
                let held = held?;
                Some((1, Some(held)))
            })
            .chain(futures_lite::stream::pending())
        });
        assert_eq!(lines.next_timeout(PROMPTLY).expect("an item"), Some(1));
        lines.cancel();
        let ended = lines.next();
        assert!(
            matches!(ended, Some(Err(WaitError::Cancelled))),
            "{ended:?}"
        );
        assert_port_free(
            address,
            &released,
            &format!("round {round}, after the stream's Cancelled"),
        );

        let (result, _gate, released) = holding_the_port(&running, address);
        running.shutdown(PROMPTLY).expect("shutdown");
        let outcome = result.wait_timeout(PROMPTLY);
        assert!(
            matches!(outcome, Err(WaitError::ReactorStopped)),
            "{outcome:?}"
        );
        assert_port_free(
            address,
            &released,
            &format!("round {round}, after ReactorStopped"),
        );
    }
}
