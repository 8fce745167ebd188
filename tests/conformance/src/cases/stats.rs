//! Live statistics, slow-operation warnings, and reactors that keep their
//! failures to themselves.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use std::convert::Infallible;

use crochet_core::{Reactor, RetrieveError};

use crate::support::{Logs, PROMPTLY, eventually, gated};
use crate::{Fixture, Running};

/// `stats()` counts every outcome: submitted = pending + every way of
/// ending; timed-out waits and the oldest pending operation show.
pub fn stats_count_every_outcome(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    running
        .wait_for(PROMPTLY, || async { 1 })
        .expect("completed");
    let failed = running.run_in_reactor_fallible(|| async { Err::<(), _>("failed") });
    let _ = failed.wait_timeout(PROMPTLY);
    let panicked = running.run_in_reactor(|| async { panic!("panicked") });
    let _ = panicked.wait_timeout(PROMPTLY);
    let cancelled = running.run_in_reactor(std::future::pending::<()>);
    cancelled.cancel();
    let (gate, pending) = gated(&running, ());
    assert!(pending.wait_timeout(Duration::from_millis(10)).is_err());
    thread::sleep(Duration::from_millis(20));

    let stats = running.stats();
    assert_eq!(stats.submitted, 5, "{stats:?}");
    assert_eq!(
        (
            stats.completed,
            stats.failed,
            stats.panicked,
            stats.cancelled,
            stats.pending
        ),
        (1, 1, 1, 1, 1),
        "{stats:?}"
    );
    assert_eq!(stats.timed_out_waits, 1);
    assert!(
        stats
            .oldest_pending
            .is_some_and(|age| age >= Duration::from_millis(20))
    );
    let line = stats.to_string();
    assert!(
        line.starts_with("submitted 5, pending 1 (oldest "),
        "{line}"
    );
    assert!(
        line.contains("completed 1, failed 1, panicked 1, cancelled 1"),
        "{line}"
    );

    gate.open();
    assert!(eventually(PROMPTLY, || running.stats().pending == 0));
    let stats = running.stats();
    assert_eq!(stats.completed, 2);
    assert!(stats.oldest_pending.is_none());
    let submitted = stats.submitted;
    running.shutdown(PROMPTLY).expect("shutdown");
    let after = running.stats();
    assert_eq!(
        after.completed + after.failed + after.panicked + after.cancelled + after.stopped,
        submitted
    );
}

/// Operations over the slow threshold are logged, with their origin.
pub fn slow_operations_are_logged(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let running = Running::start(fixture);
    running.set_slow_threshold(Some(Duration::from_millis(20)));
    running
        .wait_for(PROMPTLY, move || fixture.sleep(Duration::from_millis(40)))
        .expect("slow");
    running.wait_for(PROMPTLY, || async {}).expect("fast");
    assert!(logs.wait_for(PROMPTLY, &["WARN", "slow operation", "stats.rs"]));
    assert_eq!(
        logs.lines_with(&["slow operation"]).len(),
        1,
        "{}",
        logs.text()
    );
    running.set_slow_threshold(None);
    running
        .wait_for(PROMPTLY, move || fixture.sleep(Duration::from_millis(40)))
        .expect("slow");
    assert_eq!(logs.lines_with(&["slow operation"]).len(), 1);
}

/// Two libraries, each with a reactor of its own on this backend, do not
/// interfere: each hook sees only its own failures, stopping one leaves
/// the other running, and the global reactor is untouched.
pub fn library_reactors_never_interfere(fixture: &'static dyn Fixture) {
    fn library(fixture: &dyn Fixture) -> (Reactor, Arc<Mutex<Vec<String>>>) {
        let reactor = Reactor::new();
        fixture
            .start_managed(&reactor)
            .expect("the library's reactor");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        reactor.set_failure_hook(move |failure| {
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(failure.error().to_string());
        });
        (reactor, seen)
    }
    let (first, first_seen) = library(fixture);
    let (second, second_seen) = library(fixture);
    first.spawn(|| async { panic!("first library's failure") });
    second.spawn(|| async { panic!("second library's failure") });
    let seen =
        |log: &Arc<Mutex<Vec<String>>>| log.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert!(eventually(PROMPTLY, || seen(&first_seen).len() == 1
        && seen(&second_seen).len() == 1));
    assert!(seen(&first_seen)[0].contains("first library"));
    assert!(seen(&second_seen)[0].contains("second library"));

    let first_stash = first
        .run_in_reactor(|| async { 1_u8 })
        .stash()
        .expect("stash");
    let second_stash = second
        .run_in_reactor(|| async { 2_u8 })
        .stash()
        .expect("stash");
    first.shutdown(PROMPTLY).expect("the first library stops");
    assert_eq!(
        second
            .wait_for(PROMPTLY, || async { 3 })
            .expect("the second runs"),
        3
    );
    let mine = second
        .retrieve_result::<u8, Infallible>(second_stash)
        .expect("the second's entry");
    assert_eq!(mine.wait_timeout(PROMPTLY).expect("value"), 2);
    // Each library's stash is its own: the first's went with its shutdown.
    assert!(matches!(
        second.retrieve_result::<u8, Infallible>(first_stash),
        Err(RetrieveError::NotFound { .. })
    ));
    assert!(matches!(
        first.retrieve_result::<u8, Infallible>(first_stash),
        Err(RetrieveError::NotFound { .. })
    ));
    assert_eq!(first.stats().submitted, 2);
    assert_eq!(second.stats().submitted, 3);
    assert!(
        !crochet_core::global().is_running(),
        "a library set up the global reactor"
    );
    second.shutdown(PROMPTLY).expect("shutdown");
}
