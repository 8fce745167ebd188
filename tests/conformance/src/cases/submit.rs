//! W1–W4, W6, W8: running work in the reactor.

use std::fmt;
use std::rc::Rc;
use std::sync::Arc;
use std::thread;

use crochet_core::{EventualResult, Reactor, WaitError};

use crate::support::{Gate, PROMPTLY};
use crate::{Fixture, Running};

/// W1: the closure is called on a reactor thread, inside the runtime (it
/// may spawn runtime tasks), and `run_in_reactor` returns before the work
/// is done.
pub fn w1_closure_runs_in_reactor_with_runtime_context(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let caller = thread::current().id();
    let gate = Gate::new();
    let opened = gate.opened();
    let result = running.run_in_reactor(move || {
        let ran_on = thread::current().id();
        let in_reactor = crochet_core::backend::is_reactor_thread();
        // Needs the runtime's context right here, in the closure.
        let probe = fixture.runtime_context_probe();
        async move {
            opened.await;
            (ran_on, in_reactor, probe.await)
        }
    });
    assert!(!result.is_finished(), "run_in_reactor waited for the work");
    gate.open();
    let (ran_on, in_reactor, probe) = result.wait_timeout(PROMPTLY).expect("result");
    assert_ne!(ran_on, caller, "the closure ran on the caller's thread");
    assert!(in_reactor, "the closure did not run as reactor work");
    assert_eq!(probe, 42);
}

/// W2: a closure whose future is ready at once is just a value.
pub fn w2_ready_future_is_a_plain_value(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let ready = running.run_in_reactor(|| std::future::ready(7));
    assert_eq!(ready.wait_timeout(PROMPTLY).expect("value"), 7);
    let plain = running.run_in_reactor(|| async { String::from("plain") });
    assert_eq!(plain.wait_timeout(PROMPTLY).expect("value"), "plain");
    let unit = running.run_in_reactor(|| async {});
    assert_eq!(unit.wait_timeout(PROMPTLY).expect("value"), ());
}

/// W3: a panic in the closure or in its future becomes `Panicked` with the
/// message and payload; the reactor keeps running.
pub fn w3_panic_in_closure_or_future_is_panicked_and_reactor_survives(
    fixture: &'static dyn Fixture,
) {
    let running = Running::start(fixture);
    let in_closure =
        running.run_in_reactor(|| -> std::future::Ready<u8> { panic!("boom in the closure") });
    let error = in_closure.wait_timeout(PROMPTLY).expect_err("a panic");
    let WaitError::Panicked(panic) = &error else {
        panic!("expected Panicked, got {error:?}");
    };
    assert_eq!(panic.message(), "boom in the closure");
    assert_eq!(
        error.to_string(),
        "the operation panicked: boom in the closure"
    );
    let payload = panic.take_payload().expect("the payload");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in the closure"));

    let code = 7;
    let in_future = running.run_in_reactor(move || async move {
        if code == 7 {
            panic!("boom in the future: {code}");
        }
        code
    });
    let error = in_future.wait_timeout(PROMPTLY).expect_err("a panic");
    assert!(
        matches!(&error, WaitError::Panicked(panic) if panic.message() == "boom in the future: 7"),
        "{error:?}"
    );

    assert_eq!(
        running
            .wait_for(PROMPTLY, || async { "still running" })
            .expect("run"),
        "still running"
    );
}

#[derive(Debug, PartialEq)]
struct RateLimited {
    retry_after: u32,
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limited; retry after {}s", self.retry_after)
    }
}

impl std::error::Error for RateLimited {}

/// W4: a fallible operation's error reaches the waiter owned, with its
/// type, and the wait's message says that the operation failed, with the
/// error's own; through the umbrella `Error` it stays downcastable.
pub fn w4_operation_error_keeps_its_type(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let failed =
        running.run_in_reactor_fallible(|| async { Err::<u8, _>(RateLimited { retry_after: 3 }) });
    let error: WaitError<RateLimited> = failed
        .wait_timeout(PROMPTLY)
        .expect_err("the operation's error");
    assert_eq!(
        error.to_string(),
        "the operation failed: rate limited; retry after 3s"
    );
    assert!(
        std::error::Error::source(&error).is_none(),
        "the message is not repeated as a source"
    );
    let WaitError::Failed(owned) = error else {
        panic!("expected Failed, got {error:?}");
    };
    assert_eq!(owned, RateLimited { retry_after: 3 });

    // The same error through `?` into the umbrella `Error`: type-erased,
    // still downcastable, its message unchanged.
    let failed =
        running.run_in_reactor_fallible(|| async { Err::<u8, _>(RateLimited { retry_after: 4 }) });
    let umbrella = crochet_core::Error::from(failed.wait_timeout(PROMPTLY).expect_err("failed"));
    assert_eq!(
        umbrella.to_string(),
        "the operation failed: rate limited; retry after 4s"
    );
    match &umbrella {
        crochet_core::Error::Wait(WaitError::Failed(failure)) => assert_eq!(
            failure.downcast_ref::<RateLimited>(),
            Some(&RateLimited { retry_after: 4 })
        ),
        other => panic!("expected Wait(Failed), got {other:?}"),
    }
    assert!(std::error::Error::source(&umbrella).is_none());

    let ok = running.run_in_reactor_fallible(|| async { Ok::<_, RateLimited>(9) });
    assert_eq!(ok.wait_timeout(PROMPTLY).expect("value"), 9);

    // Errors that are not `std::error::Error` types: strings and boxes.
    let text = running.run_in_reactor_fallible(|| async { Err::<(), _>("plain text") });
    let error = text.wait_timeout(PROMPTLY).unwrap_err();
    assert_eq!(error.to_string(), "the operation failed: plain text");
    assert!(
        matches!(error, WaitError::Failed("plain text")),
        "{error:?}"
    );
    let boxed = running.run_in_reactor_fallible(|| async {
        Err::<(), Box<dyn std::error::Error + Send + Sync>>("boxed".into())
    });
    match boxed.wait_timeout(PROMPTLY) {
        Err(WaitError::Failed(error)) => assert_eq!(error.to_string(), "boxed"),
        other => panic!("expected Failed, got {other:?}"),
    }
}

/// W6: `EventualResult` is `Send + Sync`; it can be handed to another
/// thread and waited there, or shared and waited from several.
pub fn w6_result_is_send_sync_and_waitable_from_another_thread(fixture: &'static dyn Fixture) {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let running = Running::start(fixture);
    let result = running.run_in_reactor(|| async { vec![1, 2, 3] });
    send_sync(&result);
    let moved = thread::spawn(move || result.wait_timeout(PROMPTLY));
    assert_eq!(moved.join().expect("waiter").expect("value"), vec![1, 2, 3]);

    let gate = Gate::new();
    let opened = gate.opened();
    let result: Arc<EventualResult<u8>> = Arc::new(running.run_in_reactor(move || async move {
        opened.await;
        8
    }));
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let result = Arc::clone(&result);
            thread::spawn(move || result.wait_timeout(PROMPTLY))
        })
        .collect();
    gate.open();
    let outcomes: Vec<_> = waiters
        .into_iter()
        .map(|w| w.join().expect("waiter"))
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| matches!(o, Ok(8))).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, Err(WaitError::AlreadyRetrieved)))
            .count(),
        3,
        "{outcomes:?}"
    );
}

/// W8: on a managed reactor, a `Send` closure may build a `!Send` future,
/// which runs pinned to a reactor thread. Where the fixture's own reactor
/// does not offer it, the refusal is typed.
pub fn w8_non_send_work_runs_pinned_to_managed_reactor_thread(fixture: &'static dyn Fixture) {
    let reactor = Reactor::new();
    fixture.start_managed(&reactor).expect("setup");
    let result = reactor.run_in_reactor_local(move || {
        let started_on = thread::current().id();
        let shared = Rc::new(20);
        let sleep = fixture.sleep(std::time::Duration::from_millis(5));
        async move {
            sleep.await;
            let finished_on = thread::current().id();
            (
                started_on == finished_on,
                *shared + 1,
                thread::current().name().map(str::to_owned),
            )
        }
    });
    let (same_thread, value, name) = result.wait_timeout(PROMPTLY).expect("local work ran");
    assert!(same_thread, "!Send work moved threads");
    assert_eq!(value, 21);
    assert!(name.unwrap_or_default().starts_with("crochet-"));
    reactor.shutdown(PROMPTLY).expect("shutdown");

    let running = Running::start(fixture);
    let local = running.run_in_reactor_local(|| async { Rc::new(1).as_ref() + 1 });
    match local.wait_timeout(PROMPTLY) {
        Ok(value) => {
            assert!(fixture.supports_local());
            assert_eq!(value, 2);
        }
        Err(error) => {
            assert!(!fixture.supports_local(), "{error}");
            let WaitError::Unsupported(unsupported) = &error else {
                panic!("expected Unsupported, got {error:?}");
            };
            assert_eq!(Some(unsupported.backend()), running.backend_name());
            assert!(unsupported.capability().contains("!Send work"), "{error}");
            assert!(error.to_string().contains("does not support !Send work"));
            assert!(error.to_string().contains("does not support !Send work"));
        }
    }
}

/// An error whose conversion into `Box<dyn Error>` panics: user code that
/// crochet runs while finishing an operation.
#[derive(Debug)]
struct ConversionPanics;

impl From<ConversionPanics> for Box<dyn std::error::Error + Send + Sync> {
    fn from(_: ConversionPanics) -> Self {
        panic!("the error conversion panicked")
    }
}

/// An error whose `Display` panics, reported when nobody observes it.
#[derive(Debug)]
struct DisplayPanics;

impl fmt::Display for DisplayPanics {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("the error's Display panicked")
    }
}

impl std::error::Error for DisplayPanics {}

/// W3/L1: user code that crochet calls after the future finishes (the
/// error's conversion for the report, its `Display` in the report) may
/// panic: the report is contained and the reactor survives. A waiter gets
/// the error itself, owned: nothing converts it on its way.
pub fn w3_panics_in_error_conversion_and_display_are_contained(fixture: &'static dyn Fixture) {
    let logs = crate::support::Logs::capture();
    let running = Running::start(fixture);
    let converted = running.run_in_reactor_fallible(|| async { Err::<(), _>(ConversionPanics) });
    let error = converted.wait_timeout(PROMPTLY).expect_err("the error");
    assert!(
        matches!(error, WaitError::Failed(ConversionPanics)),
        "{error:?}"
    );

    // Unobserved, it is converted for the report: that panic is contained.
    let unconverted = running.run_in_reactor_fallible(|| async { Err::<(), _>(ConversionPanics) });
    assert!(crate::support::eventually(PROMPTLY, || unconverted.is_finished()));
    drop(unconverted);
    assert!(
        logs.wait_for(
            PROMPTLY,
            &["ERROR", "the error conversion panicked", "contained"]
        ),
        "{}",
        logs.text()
    );

    let unobserved = running.run_in_reactor_fallible(|| async { Err::<(), _>(DisplayPanics) });
    assert!(crate::support::eventually(PROMPTLY, || unobserved.is_finished()));
    drop(unobserved);
    assert!(logs.wait_for(PROMPTLY, &["reporting an unobserved failure panicked"]));
    assert_eq!(
        running
            .wait_for(PROMPTLY, || async { 1 })
            .expect("still running"),
        1
    );
}
