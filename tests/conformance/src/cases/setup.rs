//! R1–R6: starting, declining to start, attaching, and reactor instances.

use std::thread;
use std::time::{Duration, Instant};

use crochet_core::{Reactor, SetupError, WaitError};

use crate::support::{
    Gate, OtherBackend, PROMPTLY, assert_timed_out_awaiting_attach, crochet_threads, eventually,
    gated, settled_crochet_threads,
};
use crate::{Fixture, Running};

fn thread_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_owned()
}

/// R1: `setup()` starts reactor threads named `crochet-…`, returns
/// quickly, and work runs there.
pub fn r1_setup_starts_named_threads_and_returns_quickly(fixture: &'static dyn Fixture) {
    assert!(
        crochet_threads().is_empty(),
        "a fresh process has no reactor"
    );
    let started = Instant::now();
    fixture
        .start_managed(crochet_core::global())
        .expect("setup");
    assert!(
        started.elapsed() < PROMPTLY,
        "setup took {:?}",
        started.elapsed()
    );
    // A thread names itself once it runs: give it the time to.
    assert!(
        eventually(PROMPTLY, || !crochet_threads().is_empty()),
        "setup started no crochet-… thread"
    );
    let ran_on = crochet_core::run_in_reactor(|| async { thread_name() })
        .wait_timeout(PROMPTLY)
        .expect("run");
    if fixture.runs_work_on_own_threads() {
        assert!(ran_on.starts_with("crochet-"), "work ran on {ran_on}");
    }
    // `wait_for` runs its future on the caller's thread, which blocks
    // anyway.
    let inline_on = crochet_core::wait_for(PROMPTLY, || async { thread_name() }).expect("run");
    assert_eq!(inline_on, thread_name(), "wait_for ran elsewhere");
}

/// R1: a backend that cannot start reports a typed error, not a panic; the
/// reactor stays idle and a later setup may succeed.
pub fn r1_start_failure_is_an_error_and_leaves_reactor_idle(fixture: &'static dyn Fixture) {
    let reactor = Reactor::new();
    let error = fixture
        .start_misconfigured(&reactor)
        .expect_err("a misconfigured backend must not start");
    assert!(matches!(error, SetupError::StartFailed(_)), "{error:?}");
    assert!(error.to_string().starts_with("failed to start the reactor"));
    assert!(
        std::error::Error::source(&error).is_some(),
        "the IO error is the source"
    );
    assert!(!reactor.is_running());
    let result = reactor.run_in_reactor(|| async { 1 });
    let polled = result.try_result();
    assert!(
        matches!(polled, Some(Err(WaitError::NotSetUp))),
        "{polled:?}"
    );

    fixture
        .start_managed(&reactor)
        .expect("a later setup works");
    assert_eq!(reactor.wait_for(PROMPTLY, || async { 2 }).expect("run"), 2);
    reactor.shutdown(PROMPTLY).expect("shutdown");
}

/// R2: any number of threads may call `setup()`; only the first starts
/// anything, and every later call is a harmless `Ok`.
pub fn r2_setup_is_idempotent_across_threads(fixture: &'static dyn Fixture) {
    let callers: Vec<_> = (0..8)
        .map(|_| thread::spawn(move || fixture.start_managed(crochet_core::global())))
        .collect();
    for caller in callers {
        caller.join().expect("setup thread").expect("setup");
    }
    assert!(eventually(PROMPTLY, || !crochet_threads().is_empty()));
    let threads = settled_crochet_threads();
    let first = crochet_core::wait_for(PROMPTLY, || async { thread::current().id() }).unwrap();

    for _ in 0..10 {
        fixture
            .start_managed(crochet_core::global())
            .expect("setup again");
    }
    assert_eq!(
        settled_crochet_threads(),
        threads,
        "a later setup started threads"
    );
    let again = crochet_core::wait_for(PROMPTLY, || async { thread::current().id() }).unwrap();
    let single_threaded = threads.len() == 1 && fixture.runs_work_on_own_threads();
    if single_threaded {
        assert_eq!(first, again, "work moved to another reactor");
    }
}

/// R3: after `no_setup()`, `setup()` does nothing: no thread starts, and
/// work waits for an attach.
pub fn r3_no_setup_turns_setup_into_a_no_op(fixture: &'static dyn Fixture) {
    let global = crochet_core::global();
    crochet_core::no_setup().expect("no_setup");
    crochet_core::no_setup().expect("no_setup is idempotent");
    fixture
        .start_managed(global)
        .expect("setup after no_setup is Ok");
    assert!(
        crochet_threads().is_empty(),
        "setup after no_setup started threads"
    );
    let queued = crochet_core::run_in_reactor(|| async { "ran" });
    let early = queued.wait_timeout(Duration::from_millis(50));
    assert_timed_out_awaiting_attach(&early, "work queued before attach ended before it");
    fixture.attach(global).expect("attach").keep_forever();
    assert_eq!(
        queued.wait_timeout(PROMPTLY).expect("queued work ran"),
        "ran"
    );
}

/// R3: `no_setup()` or an attach after `setup()` is a typed error.
pub fn r3_no_setup_or_attach_after_setup_is_already_started(fixture: &'static dyn Fixture) {
    let reactor = Reactor::new();
    fixture.start_managed(&reactor).expect("setup");
    let declined = reactor.no_setup();
    assert!(
        matches!(declined, Err(SetupError::AlreadyStarted)),
        "{declined:?}"
    );
    let attached = fixture.attach(&reactor).err();
    assert!(
        matches!(attached, Some(SetupError::AlreadyStarted)),
        "{attached:?}"
    );
    // Nothing was disturbed.
    assert_eq!(reactor.wait_for(PROMPTLY, || async { 3 }).expect("run"), 3);
    reactor.shutdown(PROMPTLY).expect("shutdown");
}

/// R4: work submitted after `no_setup()` and before an attach is queued,
/// not lost, and runs once the runtime is attached.
pub fn r4_work_before_attach_is_queued_and_runs_after_attach(fixture: &'static dyn Fixture) {
    let reactor = Reactor::new();
    reactor.no_setup().expect("no_setup");
    let gate = Gate::new();
    let opened = gate.opened();
    let first = reactor.run_in_reactor(|| async { 1 });
    let second = reactor.run_in_reactor(move || async move {
        opened.await;
        2
    });
    let early = first.wait_timeout(Duration::from_millis(50));
    assert_timed_out_awaiting_attach(&early, "queued work ran before any runtime was attached");
    assert_eq!(reactor.pending_operations(), 2);

    let owner = fixture.attach(&reactor).expect("attach");
    assert_eq!(first.wait_timeout(PROMPTLY).expect("queued work ran"), 1);
    gate.open();
    assert_eq!(second.wait_timeout(PROMPTLY).expect("queued work ran"), 2);
    reactor.shutdown(PROMPTLY).expect("shutdown");
    drop(owner);
}

/// R4: a second attach is refused with a typed error, and the first
/// runtime keeps working.
pub fn r4_attaching_twice_is_already_attached(fixture: &'static dyn Fixture) {
    let reactor = Reactor::new();
    let owner = fixture.attach(&reactor).expect("attach");
    let again = fixture.attach(&reactor).err();
    assert!(
        matches!(again, Some(SetupError::AlreadyAttached)),
        "{again:?}"
    );
    reactor.no_setup().expect("no_setup after an attach is Ok");
    assert_eq!(reactor.wait_for(PROMPTLY, || async { 4 }).expect("run"), 4);
    reactor.shutdown(PROMPTLY).expect("shutdown");
    drop(owner);
}

/// R5: submitting to a reactor that was never set up fails at once with
/// `NotSetUp`, instead of hanging.
pub fn r5_submitting_before_setup_is_not_set_up_at_once(_fixture: &'static dyn Fixture) {
    let reactor = Reactor::new();
    let result = reactor.run_in_reactor(|| async { 5 });
    assert!(result.is_finished(), "the error must be there at once");
    assert!(matches!(
        result.try_result(),
        Some(Err(WaitError::NotSetUp))
    ));
    let waited = reactor.wait_for(Duration::MAX, || async { 5 });
    assert!(matches!(waited, Err(WaitError::NotSetUp)), "{waited:?}");
    let local = reactor.run_in_reactor_local(|| async { 5 });
    assert!(matches!(local.try_result(), Some(Err(WaitError::NotSetUp))));
    assert_eq!(reactor.pending_operations(), 0);
}

/// R5, through the process-wide functions.
pub fn r5_global_submission_before_setup_is_not_set_up(_fixture: &'static dyn Fixture) {
    let result = crochet_core::run_in_reactor(|| async { 5 });
    assert!(matches!(result.wait(), Err(WaitError::NotSetUp)));
    let waited = crochet_core::wait_for(PROMPTLY, || async { 5 });
    assert!(matches!(waited, Err(WaitError::NotSetUp)));
}

/// R6: reactor instances are independent: stopping one leaves another
/// running.
pub fn r6_reactor_instances_are_independent(fixture: &'static dyn Fixture) {
    let first = Running::start(fixture);
    let second = Running::start(fixture);
    let (_gate, pending) = gated(&first, ());
    first.shutdown(PROMPTLY).expect("shutdown the first");
    assert!(matches!(
        pending.wait_timeout(PROMPTLY),
        Err(WaitError::ReactorStopped)
    ));
    assert!(matches!(
        first.wait_for(PROMPTLY, || async { 0 }),
        Err(WaitError::ReactorStopped)
    ));
    assert_eq!(
        second
            .wait_for(PROMPTLY, || async { 6 })
            .expect("the second runs"),
        6
    );
    assert!(second.is_running());
}

/// R2: setting up a backend other than the one that runs is refused with
/// `BackendMismatch`, naming both (the other backend is never started),
/// and the reactor keeps running; setting up the backend that runs is a
/// harmless `Ok`, whether the reactor is managed or attached. Before an
/// attach, after `no_setup()`, any setup is a no-op.
pub fn r2_setup_with_another_backend_is_a_backend_mismatch(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let name = running
        .backend_name()
        .expect("a running reactor has a backend");
    let refused = running.setup(OtherBackend);
    match &refused {
        Err(SetupError::BackendMismatch { running, requested }) => {
            assert_eq!(*running, name);
            assert_eq!(*requested, "other");
        }
        other => panic!("expected BackendMismatch, got {other:?}"),
    }
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains(name) && message.contains("other"),
        "names both backends: {message}"
    );
    assert!(running.is_running());
    assert_eq!(running.wait_for(PROMPTLY, || async { 7 }).expect("run"), 7);

    fixture
        .start_managed(&running)
        .expect("setup of the backend that runs is Ok");
    assert_eq!(running.backend_name(), Some(name));
    assert_eq!(running.wait_for(PROMPTLY, || async { 8 }).expect("run"), 8);

    // Declined with `no_setup()`: nothing runs yet, and any setup is a
    // no-op until the attach; then another backend is a mismatch.
    let reactor = Reactor::new();
    reactor.no_setup().expect("no_setup");
    reactor
        .setup(OtherBackend)
        .expect("setup after no_setup does nothing");
    let owner = fixture.attach(&reactor).expect("attach");
    let refused = reactor.setup(OtherBackend);
    assert!(
        matches!(
            refused,
            Err(SetupError::BackendMismatch { running, requested: "other" }) if running == name
        ),
        "{refused:?}"
    );
    assert_eq!(reactor.wait_for(PROMPTLY, || async { 9 }).expect("run"), 9);
    reactor.shutdown(PROMPTLY).expect("shutdown");
    drop(owner);
}

/// R2, through the process-wide `setup_with`: once the global reactor
/// runs, `setup_with` of another backend is `BackendMismatch`, and of the
/// same backend is `Ok`; the global reactor keeps running.
pub fn r2_global_setup_with_another_backend_is_a_backend_mismatch(fixture: &'static dyn Fixture) {
    fixture
        .start(crochet_core::global())
        .expect("setup")
        .keep_forever();
    let name = crochet_core::global()
        .backend_name()
        .expect("a running reactor has a backend");
    let refused = crochet_core::setup_with(OtherBackend);
    assert!(
        matches!(
            refused,
            Err(SetupError::BackendMismatch { running, requested: "other" }) if running == name
        ),
        "{refused:?}"
    );
    fixture
        .start_managed(crochet_core::global())
        .expect("setup of the backend that runs is Ok");
    assert_eq!(
        crochet_core::wait_for(PROMPTLY, || async { 10 }).expect("run"),
        10
    );
}
