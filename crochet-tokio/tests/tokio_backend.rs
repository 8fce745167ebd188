//! What only the tokio backend does: runtime flavours, thread names,
//! blocking threads, and recognising an attached runtime's driver. The
//! behaviour every backend shares is in the conformance suite.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crochet_core::{Reactor, WaitError};
use crochet_tokio::Tokio;
use tokio::runtime::Handle;

const PROMPTLY: Duration = Duration::from_secs(10);

fn thread_name() -> String {
    thread::current().name().unwrap_or_default().to_owned()
}

#[test]
fn current_thread_runs_everything_on_one_named_thread() {
    let reactor = Reactor::start(Tokio::builder().thread_name("crochet-custom")).expect("start");
    let names = reactor
        .run_in_reactor(|| async {
            let spawned = tokio::spawn(async { thread_name() }).await.expect("task");
            (thread_name(), spawned, Handle::current().runtime_flavor())
        })
        .wait_timeout(PROMPTLY)
        .expect("run");
    assert_eq!(names.0, "crochet-custom");
    assert_eq!(names.1, "crochet-custom");
    assert_eq!(names.2, tokio::runtime::RuntimeFlavor::CurrentThread);
    reactor.shutdown(PROMPTLY).expect("shutdown");
}

/// A managed reactor of each flavor this build offers.
fn builders() -> Vec<crochet_tokio::Builder> {
    #[cfg(feature = "multi-thread")]
    return vec![Tokio::builder(), Tokio::builder().multi_thread(2)];
    #[cfg(not(feature = "multi-thread"))]
    return vec![Tokio::builder()];
}

#[test]
#[cfg(feature = "multi-thread")]
fn multi_thread_workers_are_named_after_the_reactor() {
    let reactor = Reactor::start(Tokio::builder().multi_thread(2)).expect("start");
    let (flavor, worker) = reactor
        .wait_for(PROMPTLY, || async {
            let worker = tokio::spawn(async { thread_name() }).await.expect("task");
            (Handle::current().runtime_flavor(), worker)
        })
        .expect("run");
    assert_eq!(flavor, tokio::runtime::RuntimeFlavor::MultiThread);
    assert_eq!(worker, "crochet-tokio-worker");
    reactor.shutdown(PROMPTLY).expect("shutdown");
}

/// A blocking wait inside `spawn_blocking` is legitimate (that thread is
/// not driving the runtime) and must not be refused.
#[test]
fn waits_inside_spawn_blocking_are_allowed() {
    for builder in builders() {
        let reactor = Reactor::start(builder).expect("start");
        let other = reactor.clone();
        let outcome = reactor
            .wait_for(PROMPTLY, move || async move {
                tokio::task::spawn_blocking(move || {
                    other.wait_for(PROMPTLY, || async { "from a blocking thread" })
                })
                .await
                .expect("blocking task")
            })
            .expect("run");
        assert_eq!(outcome.expect("not refused"), "from a blocking thread");
        reactor.shutdown(PROMPTLY).expect("shutdown");
    }
}

/// `#[tokio::main(flavor = "current_thread")]`-style code that attaches
/// its runtime and then waits on the driver thread gets an error, not a
/// deadlock.
#[test]
fn waiting_on_the_attached_driver_thread_is_refused() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let reactor = Reactor::new();
    let outcome = runtime.block_on(async {
        reactor
            .attach(Tokio::from_handle(Handle::current()))
            .expect("attach");
        let result = reactor.run_in_reactor(|| async { 1 });
        let refused = result.wait_timeout(PROMPTLY);
        (refused, result.await)
    });
    assert!(
        matches!(outcome.0, Err(WaitError::WaitInReactor { .. })),
        "{:?}",
        outcome.0
    );
    assert_eq!(outcome.1.expect("awaiting works"), 1);
    reactor.shutdown(PROMPTLY).expect("shutdown");
}

/// Attached from outside the runtime, with the runtime driven elsewhere:
/// the attaching thread is an ordinary thread and may block.
#[test]
fn attaching_from_outside_leaves_the_caller_free_to_block() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let reactor = Reactor::new();
    reactor
        .attach(Tokio::from_handle(runtime.handle().clone()))
        .expect("attach");
    assert_eq!(reactor.wait_for(PROMPTLY, || async { 2 }).expect("run"), 2);
    let local = reactor.run_in_reactor_local(|| async { 3 });
    assert!(matches!(
        local.wait_timeout(PROMPTLY),
        Err(WaitError::Unsupported(unsupported)) if unsupported.backend() == "tokio"
    ));
    reactor.shutdown(PROMPTLY).expect("shutdown");
    // The application's runtime is left running.
    assert_eq!(
        runtime
            .block_on(async { tokio::spawn(async { 4 }).await })
            .expect("task"),
        4
    );
}

/// The runtime is dropped on its own thread, outside any async context, even
/// when the last handle to the reactor goes away inside a reactor task.
#[test]
fn dropping_the_last_handle_inside_the_reactor_stops_it_cleanly() {
    let reactor = Reactor::start(Tokio::builder().thread_name("crochet-drop-test")).expect("start");
    let (done_tx, done_rx) = mpsc::channel();
    let moved = reactor.clone();
    reactor.spawn(move || async move {
        drop(moved);
        let _ = done_tx.send(());
    });
    drop(reactor);
    done_rx.recv_timeout(PROMPTLY).expect("the task ran");
    let gone = (0..500).any(|_| {
        thread::sleep(Duration::from_millis(10));
        !std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .flatten()
            .any(|task| {
                std::fs::read_to_string(task.path().join("comm"))
                    .is_ok_and(|name| name.trim() == "crochet-drop-test")
            })
    });
    assert!(gone, "the reactor thread outlived every handle");
}

/// A shutdown called from a `spawn_blocking` thread of the managed runtime
/// neither waits for itself nor makes the runtime wait for it.
#[test]
fn shutdown_from_spawn_blocking_returns_at_once() {
    for builder in builders() {
        let reactor = Reactor::start(builder).expect("start");
        let (done_tx, done_rx) = mpsc::channel();
        let inner = reactor.clone();
        reactor.spawn(move || async move {
            drop(tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                let outcome = inner.shutdown(Duration::MAX);
                let _ = done_tx.send((outcome.is_ok(), started.elapsed()));
            }));
        });
        let (ok, elapsed) = done_rx.recv_timeout(PROMPTLY).expect("shutdown returned");
        assert!(ok);
        assert!(elapsed < PROMPTLY, "waited {elapsed:?}");
        assert!(!reactor.is_running());
    }
}

/// Inside `block_on`, what decides is who runs the work: a `current_thread`
/// runtime's `block_on` drives it, so a blocking wait there is refused, even
/// when crochet was attached from outside; a `multi_thread` runtime's
/// workers run it, so a wait in its `block_on` simply completes.
#[test]
fn block_on_of_an_attached_runtime_refuses_only_when_it_drives_the_work() {
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let reactor = Reactor::new();
    reactor
        .attach(Tokio::from_handle(current.handle().clone()))
        .expect("attach");
    let refused = current.block_on(async { reactor.wait_for(PROMPTLY, || async { 1 }) });
    assert!(
        matches!(refused, Err(WaitError::WaitInReactor { .. })),
        "{refused:?}"
    );
    reactor.shutdown(PROMPTLY).expect("shutdown");

    let multi = tokio::runtime::Runtime::new().expect("runtime");
    let reactor = Reactor::new();
    reactor
        .attach(Tokio::from_handle(multi.handle().clone()))
        .expect("attach");
    let waited = multi.block_on(async { reactor.wait_for(PROMPTLY, || async { 2 }) });
    assert_eq!(waited.expect("completes"), 2);
    reactor.shutdown(PROMPTLY).expect("shutdown");
}

/// A plain thread that holds a runtime's `enter()` guard (as GUI and CLI
/// mains do, to build reqwest or tonic types) drives nothing: it may wait,
/// whether the reactor is managed or is that very runtime, attached.
#[test]
fn a_thread_holding_an_enter_guard_may_wait() {
    let app = tokio::runtime::Runtime::new().expect("runtime");
    let app_current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let managed = Reactor::start(Tokio::builder()).expect("start");
    let attached = Reactor::new();
    attached
        .attach(Tokio::from_handle(app.handle().clone()))
        .expect("attach");
    thread::scope(|scope| {
        scope.spawn(|| {
            let _guard = app.enter();
            assert_eq!(
                managed.wait_for(PROMPTLY, || async { 1 }).expect("managed"),
                1
            );
            assert_eq!(
                attached
                    .wait_for(PROMPTLY, || async { 2 })
                    .expect("attached"),
                2
            );
            let result = attached.run_in_reactor(|| async { 3 });
            assert_eq!(result.wait_timeout(PROMPTLY).expect("wait"), 3);
        });
        scope.spawn(|| {
            let _guard = app_current.enter();
            assert_eq!(
                managed.wait_for(PROMPTLY, || async { 4 }).expect("managed"),
                4
            );
        });
    });
    managed.shutdown(PROMPTLY).expect("shutdown");
    attached.shutdown(PROMPTLY).expect("shutdown");
}

/// Without the `multi-thread` feature, crochet cannot hand a
/// `multi_thread` worker off (`block_in_place` is tokio's
/// `rt-multi-thread`): a blocking wait in a task of such a runtime (the
/// application's, with tokio's feature on) is refused at once instead.
#[test]
#[cfg(not(feature = "multi-thread"))]
fn without_the_feature_a_wait_on_a_multi_thread_worker_is_refused() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let reactor = Reactor::new();
    reactor
        .attach(Tokio::from_handle(runtime.handle().clone()))
        .expect("attach");
    let result = reactor.run_in_reactor(|| async { 1 });
    let waited = runtime
        .block_on(async { tokio::spawn(async move { result.wait_timeout(PROMPTLY) }).await })
        .expect("the task");
    assert!(
        matches!(waited, Err(crochet_core::WaitError::WaitInReactor { .. })),
        "{waited:?}"
    );
    reactor.shutdown(PROMPTLY).expect("shutdown");
}
