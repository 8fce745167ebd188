//! L1–L5: logs and diagnostics.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use crochet_core::WaitError;

use crate::support::{Gate, HookedFailures, Logs, PROMPTLY, eventually, gated};
use crate::{Fixture, Running};

const THIS_FILE: &str = "logs.rs";

/// L1: a failure that nobody observed is logged once, at error level,
/// under target `crochet`, with where the operation was submitted.
pub fn l1_unobserved_failure_is_logged_once_with_its_origin(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let running = Running::start(fixture);
    let lost = running.run_in_reactor(|| async { panic!("nobody saw this panic") });
    assert!(eventually(PROMPTLY, || lost.is_finished()));
    assert!(
        logs.lines_with(&["unobserved failure"]).is_empty(),
        "reported while a handle could still observe it"
    );
    drop(lost);
    let lines = logs.lines_with(&["unobserved failure", "nobody saw this panic"]);
    assert_eq!(lines.len(), 1, "{}", logs.text());
    let line = &lines[0];
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("crochet:"), "target `crochet`: {line}");
    assert!(line.contains(THIS_FILE), "the submitting location: {line}");
    assert!(
        line.contains("l1_unobserved_failure_is_logged_once"),
        "the operation: {line}"
    );

    let failed =
        running.run_in_reactor_fallible(|| async { Err::<(), _>("nobody saw this error") });
    assert!(eventually(PROMPTLY, || failed.is_finished()));
    drop(failed);
    assert_eq!(
        logs.lines_with(&["unobserved failure", "nobody saw this error"])
            .len(),
        1
    );
}

/// L1: a failure that arrives after every handle was dropped is logged,
/// once, by the reactor.
pub fn l1_failure_after_every_handle_is_gone_is_logged(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let result = running.run_in_reactor_fallible(move || async move {
        opened.await;
        Err::<(), _>("failed after everyone left")
    });
    let shared = result.shared();
    let other = shared.clone();
    drop(shared);
    drop(other);
    gate.open();
    assert!(logs.wait_for(
        PROMPTLY,
        &["unobserved failure", "failed after everyone left"]
    ));
    thread::sleep(Duration::from_millis(50));
    assert_eq!(
        logs.lines_with(&["failed after everyone left"]).len(),
        1,
        "{}",
        logs.text()
    );
}

/// L1: observed failures, cancellations the caller asked for, timed-out
/// waits and shutdown are not logged as failures.
pub fn l1_observed_cancelled_timed_out_and_stopped_are_not_logged(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let running = Running::start(fixture);

    let observed = running.run_in_reactor(|| async { panic!("observed panic") });
    assert!(observed.wait_timeout(PROMPTLY).is_err());
    drop(observed);

    let shared = running
        .run_in_reactor(|| async { panic!("observed shared panic") })
        .shared();
    assert!(shared.wait_timeout(PROMPTLY).is_err());
    drop(shared);

    let (_gate, cancelled) = gated(&running, ());
    assert!(cancelled.wait_timeout(Duration::from_millis(10)).is_err());
    cancelled.cancel();
    drop(cancelled);
    assert!(
        running
            .wait_for(Duration::from_millis(10), std::future::pending::<()>)
            .is_err()
    );

    let (_gate, stopped) = gated(&running, ());
    drop(stopped);
    running.shutdown(PROMPTLY).expect("shutdown");
    thread::sleep(Duration::from_millis(50));
    assert!(
        logs.lines_with(&["unobserved failure"]).is_empty(),
        "{}",
        logs.text()
    );
    assert!(logs.lines_with(&["ERROR"]).is_empty(), "{}", logs.text());
}

/// L2: the caller's span follows the work into the reactor.
pub fn l2_caller_span_follows_work_into_reactor(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let running = Running::start(fixture);
    let span = tracing::info_span!("request", id = 7);
    let entered = span.enter();
    let result = running.run_in_reactor(move || {
        tracing::info!("closure ran in the reactor");
        let sleep = fixture.sleep(Duration::from_millis(1));
        async move {
            sleep.await;
            tracing::info!("future ran in the reactor");
        }
    });
    drop(entered);
    result.wait_timeout(PROMPTLY).expect("ran");
    for message in ["closure ran in the reactor", "future ran in the reactor"] {
        let lines = logs.lines_with(&[message]);
        assert_eq!(lines.len(), 1, "{}", logs.text());
        assert!(lines[0].contains("request{id=7}"), "{}", lines[0]);
    }
}

struct Records(Arc<Mutex<Vec<(log::Level, String, String)>>>);

impl log::Log for Records {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push((
            record.level(),
            record.target().to_owned(),
            record.args().to_string(),
        ));
    }

    fn flush(&self) {}
}

/// L3: an application that logs with the `log` crate (no `tracing`
/// subscriber) sees crochet's events, under target `crochet`.
pub fn l3_log_crate_users_see_crochet_events(fixture: &'static dyn Fixture) {
    let records = Arc::new(Mutex::new(Vec::new()));
    log::set_boxed_logger(Box::new(Records(Arc::clone(&records)))).expect("logger");
    log::set_max_level(log::LevelFilter::Trace);
    let running = Running::start(fixture);
    let lost = running.run_in_reactor(|| async { panic!("seen through log") });
    assert!(eventually(PROMPTLY, || lost.is_finished()));
    drop(lost);
    let records = records.lock().unwrap_or_else(PoisonError::into_inner);
    let found = records.iter().any(|(level, target, message)| {
        *level == log::Level::Error && target == "crochet" && message.contains("seen through log")
    });
    assert!(found, "{records:?}");
}

/// L4: `Debug` shows the state, and never blocks.
pub fn l4_debug_shows_state_without_blocking(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let pending = Arc::new(running.run_in_reactor(move || async move {
        opened.await;
        1
    }));
    let waiter = {
        let pending = Arc::clone(&pending);
        thread::spawn(move || pending.wait_timeout(PROMPTLY).map(|_| ()))
    };
    let text = format!("{pending:?}");
    assert!(text.contains("EventualResult"), "{text}");
    assert!(text.contains("state: pending"), "{text}");
    assert!(text.contains("logs.rs"), "the submitting location: {text}");
    gate.open();
    waiter.join().expect("waiter").expect("value");
    assert!(format!("{pending:?}").contains("state: taken"));

    let ready = running.run_in_reactor(|| async { 2 });
    assert!(eventually(PROMPTLY, || ready.is_finished()));
    assert!(format!("{ready:?}").contains("state: ready"));
    let failed = running.run_in_reactor(|| async { panic!("for debug") });
    assert!(eventually(PROMPTLY, || failed.is_finished()));
    assert!(format!("{failed:?}").contains("state: failed"));
    let _ = failed.wait();
    let cancelled = running.run_in_reactor(std::future::pending::<()>);
    cancelled.cancel();
    // Cancelling until the reactor has dropped the future, then cancelled.
    let text = format!("{cancelled:?}");
    assert!(
        text.contains("state: cancelling") || text.contains("state: cancelled"),
        "{text}"
    );
    assert!(eventually(PROMPTLY, || cancelled.is_finished()));
    assert!(format!("{cancelled:?}").contains("state: cancelled"));
    let shared = running.run_in_reactor(|| async { 3 }).shared();
    assert!(format!("{shared:?}").starts_with("SharedResult"));
    assert!(format!("{:?}", running.reactor).contains("running"));
}

/// L5: the report of unobserved failures can be replaced by a hook.
pub fn l5_failure_hook_replaces_the_report(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    crochet_core::set_failure_hook(move |failure| {
        sink.lock().unwrap_or_else(PoisonError::into_inner).push((
            failure.error().to_string(),
            failure.location().file().to_owned(),
        ));
    });
    let running = Running::start(fixture);
    let lost = running.run_in_reactor(|| async { panic!("to the hook") });
    assert!(eventually(PROMPTLY, || lost.is_finished()));
    drop(lost);
    {
        let seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].0, "the operation panicked: to the hook");
        assert!(seen[0].1.ends_with(THIS_FILE), "{}", seen[0].1);
    }
    assert!(logs.lines_with(&["unobserved failure"]).is_empty());

    crochet_core::set_failure_hook(|_| panic!("a hook that panics"));
    let lost = running.run_in_reactor(|| async { panic!("into a broken hook") });
    assert!(eventually(PROMPTLY, || lost.is_finished()));
    drop(lost);
    assert!(logs.wait_for(PROMPTLY, &["reporting an unobserved failure panicked"]));

    crochet_core::reset_failure_hook();
    let lost = running.run_in_reactor(|| async { panic!("back to the log") });
    assert!(eventually(PROMPTLY, || lost.is_finished()));
    drop(lost);
    assert_eq!(
        logs.lines_with(&["unobserved failure", "back to the log"])
            .len(),
        1
    );
}

/// L5: fire-and-forget work exists, and its failures reach the hook.
pub fn l5_fire_and_forget_failures_reach_the_hook(fixture: &'static dyn Fixture) {
    let hooked = HookedFailures::install();
    let running = Running::start(fixture);
    let done = Gate::new();
    let ran = Arc::new(Mutex::new(false));
    let marker = Arc::clone(&ran);
    running.spawn(move || async move {
        *marker.lock().unwrap_or_else(PoisonError::into_inner) = true;
        done.open();
    });
    running.spawn(|| async { panic!("fire and forget") });
    running.spawn_fallible(|| async { Err::<(), _>("forgotten error") });
    let reported = || hooked.messages();
    assert!(eventually(PROMPTLY, || reported().len() == 2));
    let mut first = reported();
    first.sort();
    assert_eq!(
        first,
        [
            "the operation failed: forgotten error",
            "the operation panicked: fire and forget"
        ]
    );
    assert!(*ran.lock().unwrap_or_else(PoisonError::into_inner));

    // A submission error that nobody can see is reported too.
    crochet_core::Reactor::new().spawn(|| async {});
    let all = reported();
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all[2].starts_with("the reactor is not set up"), "{all:?}");
}

/// An operation's own error, for the failure hook to downcast.
#[derive(Debug, Clone, PartialEq)]
struct Declined {
    code: u16,
}

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "declined with code {}", self.code)
    }
}

impl std::error::Error for Declined {}

/// L5: an operation's own error that nobody took is reported once to the
/// reactor's failure hook as `WaitError::Failed(failure)`, and
/// `failure.downcast_ref` gives the typed error back: dropped after it
/// failed, dropped before, or fire-and-forget. An error a wait took (or a
/// shared one that a wait saw) is not reported.
pub fn l5_unobserved_operation_error_reaches_the_hook_typed(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    running.set_failure_hook(move |failure| {
        let declined = match failure.error() {
            WaitError::Failed(failure) => failure.downcast_ref::<Declined>().cloned(),
            _ => None,
        };
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((declined, failure.error().to_string()));
    });
    let declined = |code| move || async move { Err::<u8, _>(Declined { code }) };

    // Dropped once failed: reported on this thread.
    let lost = running.run_in_reactor_fallible(declined(1));
    assert!(eventually(PROMPTLY, || lost.is_finished()));
    drop(lost);
    // Dropped before it failed: reported on a reactor thread.
    let gate = Gate::new();
    let opened = gate.opened();
    let later = running.run_in_reactor_fallible(move || async move {
        opened.await;
        Err::<u8, _>(Declined { code: 2 })
    });
    drop(later);
    gate.open();
    // Fire and forget.
    running.spawn_fallible(|| async { Err::<(), _>(Declined { code: 3 }) });

    // Observed: the wait took the error, and nothing is left to report.
    let observed = running.run_in_reactor_fallible(declined(4));
    let taken = observed.wait_timeout(PROMPTLY);
    assert!(
        matches!(taken, Err(WaitError::Failed(Declined { code: 4 }))),
        "{taken:?}"
    );
    drop(observed);
    let shared = running.run_in_reactor_fallible(declined(5)).shared();
    let cloned = shared.wait_timeout(PROMPTLY);
    assert!(
        matches!(cloned, Err(WaitError::Failed(Declined { code: 5 }))),
        "{cloned:?}"
    );
    drop(shared);

    let reported = || seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert!(
        eventually(PROMPTLY, || reported().len() >= 3),
        "{}: {:?}",
        fixture.name(),
        reported()
    );
    thread::sleep(Duration::from_millis(50));
    let mut reports = reported();
    reports.sort_by_key(|(declined, _)| declined.as_ref().map(|declined| declined.code));
    let expected: Vec<_> = (1..=3)
        .map(|code| {
            (
                Some(Declined { code }),
                format!("the operation failed: declined with code {code}"),
            )
        })
        .collect();
    assert_eq!(reports, expected, "{}", fixture.name());
}
