//! X1, X2: errors are typed and say what to do; misuse never panics.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use crochet_core::OperationState;
use crochet_core::{Reactor, SetupError, StashId, WaitError};

use crate::support::{Gate, PROMPTLY};
use crate::{Fixture, Running};

fn typed<E: std::error::Error + Send + Sync + 'static>(_: &E) {}

/// X1: errors are `std::error::Error + Send + Sync + 'static`, matched by
/// variant, and their messages say what happened and what to do.
pub fn x1_errors_are_typed_and_say_what_to_do(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let pending = running.run_in_reactor(move || opened).shared();
    let inside = pending.clone();
    let refused = running
        .run_in_reactor(move || async move { inside.wait_timeout(PROMPTLY) })
        .wait_timeout(PROMPTLY)
        .expect("ran");
    let error = refused.expect_err("refused");
    typed(&error);
    let WaitError::WaitInReactor { thread } = &error else {
        panic!("expected WaitInReactor, got {error:?}");
    };
    let message = error.to_string();
    assert!(message.contains(&**thread), "names the thread: {message}");
    assert!(message.contains("deadlock"), "says why: {message}");
    assert!(
        message.contains("use `.await`"),
        "says what to do: {message}"
    );

    let timeout = pending
        .wait_timeout(Duration::from_millis(250))
        .expect_err("timeout");
    assert_eq!(
        timeout.to_string(),
        "timed out after 250ms waiting for the result; the operation is still running: wait again, or cancel it"
    );
    typed(&timeout);
    assert!(timeout.is_timeout());
    let cloned = timeout.clone();
    assert!(
        matches!(cloned, WaitError::Timeout { after, state: OperationState::Running } if after == Duration::from_millis(250)),
        "{cloned:?}"
    );
    gate.open();
}

/// X2: each misuse in the catalogue gives a typed error, loses nothing,
/// and never panics.
pub fn x2_misuse_gives_typed_errors_never_panics(fixture: &'static dyn Fixture) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let idle = Reactor::new();
        let unset = idle.run_in_reactor(|| async { 1 }).wait();
        assert!(matches!(unset, Err(WaitError::NotSetUp)), "{unset:?}");

        let running = Running::start(fixture);
        let taken = running.run_in_reactor(|| async { 1 });
        taken.wait_timeout(PROMPTLY).expect("value");
        let again = taken.wait();
        assert!(
            matches!(again, Err(WaitError::AlreadyRetrieved)),
            "{again:?}"
        );
        let again = taken.wait_timeout(Duration::MAX);
        assert!(
            matches!(again, Err(WaitError::AlreadyRetrieved)),
            "{again:?}"
        );

        // A zero timeout checks once: the value, if it already won, or a
        // timeout that cancelled the operation.
        match running.wait_for(Duration::ZERO, || async { 2 }) {
            Ok(2)
            | Err(WaitError::Timeout {
                state: OperationState::Cancelled,
                ..
            }) => {}
            other => panic!("zero timeout: {other:?}"),
        }
        assert_eq!(
            running
                .wait_for(Duration::MAX, || async { 3 })
                .expect("value"),
            3
        );

        let bad: Result<StashId, _> = "\u{0}\u{1}".parse();
        let bad = bad.expect_err("malformed");
        typed(&bad);
        assert_eq!(bad.text_len(), 2);

        let panicked = running.run_in_reactor(|| -> std::future::Ready<()> { panic!("misuse") });
        let panicked = panicked.wait_timeout(PROMPTLY);
        assert!(
            matches!(panicked, Err(WaitError::Panicked(_))),
            "{panicked:?}"
        );

        running.shutdown(PROMPTLY).expect("shutdown");
        let stopped = running.run_in_reactor(|| async { 4 }).wait();
        assert!(
            matches!(stopped, Err(WaitError::ReactorStopped)),
            "{stopped:?}"
        );
        let restart = fixture.start_managed(&running);
        assert!(
            matches!(restart, Err(SetupError::ReactorStopped)),
            "{restart:?}"
        );
        typed(&restart.unwrap_err());
    }));
    assert!(outcome.is_ok(), "a misuse panicked");
}
