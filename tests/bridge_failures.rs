//! The classic failures of a hand-written sync-to-async bridge over tokio,
//! each reproduced with the bridge people write, next to what crochet does
//! in the same situation. The README's table is this file.
//!
//! Panics are caught with `catch_unwind`; hangs are bounded by a timeout;
//! every test runs under a deadline on a thread of its own.
#![cfg(feature = "tokio")]

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crochet::backends::tokio::Tokio;
use crochet::{Reactor, WaitError};

/// The hard bound of one test.
const DEADLINE: Duration = Duration::from_secs(60);
const PROMPTLY: Duration = Duration::from_secs(10);
/// "At once": a refusal, not a wait.
const AT_ONCE: Duration = Duration::from_secs(1);

/// Runs `test` under a watchdog of [`DEADLINE`] (a hung call would
/// otherwise hang the suite).
fn with_deadline(test: impl FnOnce() + Send + 'static) {
    crochet_conformance::support::with_deadline("bridge-failure test", DEADLINE, test);
}

/// The panic message of `f`, which must panic.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("it should panic");
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn crochet_reactor() -> Reactor {
    Reactor::start(Tokio::builder()).expect("a reactor")
}

/// The bridge everyone writes first: a runtime per call.
fn naive_block_on<F: Future>(future: F) -> F::Output {
    current_thread().block_on(future)
}

/// Called from async code (here a current-thread runtime's `block_on`, as
/// in `#[tokio::main(flavor = "current_thread")]`), the
/// naive bridge panics; crochet refuses with a typed error.
#[test]
fn runtime_within_a_runtime_panics_where_crochet_refuses() {
    with_deadline(|| {
        let application = current_thread();
        let message = panic_message(|| {
            application.block_on(async { naive_block_on(async { 42 }) });
        });
        assert!(
            message.contains("Cannot start a runtime from within a runtime"),
            "{message}"
        );

        let reactor = crochet_reactor();
        let started = Instant::now();
        let refused = application.block_on(async { reactor.wait_for(PROMPTLY, || async { 42 }) });
        assert!(started.elapsed() < AT_ONCE);
        let error = refused.expect_err("refused");
        assert!(
            matches!(error, WaitError::WaitInReactor { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains(".await"), "{error}");
        reactor.shutdown(PROMPTLY).expect("shut down");
    });
}

/// A tokio-based future driven by another executor (`futures::executor`,
/// `futures_lite::future::block_on`, a hand-rolled one) panics; crochet
/// runs it inside its tokio runtime.
#[test]
fn no_reactor_running_panics_where_crochet_just_works() {
    with_deadline(|| {
        let message = panic_message(|| {
            futures_lite::future::block_on(tokio::time::sleep(Duration::from_millis(1)));
        });
        assert!(
            message.contains("there is no reactor running, must be called from the context of a Tokio 1.x runtime"),
            "{message}"
        );

        let reactor = crochet_reactor();
        let slept = reactor.wait_for(PROMPTLY, || async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            "slept"
        });
        assert_eq!(slept.expect("ran"), "slept");
        reactor.shutdown(PROMPTLY).expect("shut down");
    });
}

/// A blocking wrapper that owns a runtime, made and dropped in async code,
/// panics when dropped; a crochet reactor drops its runtime on its own
/// thread, so starting and stopping one there is fine.
#[test]
fn dropping_a_runtime_in_async_code_panics_where_crochet_shuts_down() {
    with_deadline(|| {
        let application = current_thread();
        let message = panic_message(|| {
            application.block_on(async {
                let wrapper = current_thread();
                drop(wrapper);
            });
        });
        assert!(
            message.contains("Cannot drop a runtime in a context where blocking is not allowed"),
            "{message}"
        );

        application.block_on(async {
            let reactor = crochet_reactor();
            let queued = reactor.run_in_reactor(|| async { 42 });
            assert_eq!(queued.await.expect("awaited"), 42);
            reactor.shutdown(PROMPTLY).expect("shut down");
            drop(crochet_reactor());
        });
    });
}

/// `blocking_recv` in async code panics; crochet's `wait` there is a
/// typed error, and `.await` on the same handle works.
#[test]
fn blocking_recv_in_a_runtime_panics_where_crochet_refuses() {
    with_deadline(|| {
        let application = current_thread();
        let message = panic_message(|| {
            application.block_on(async {
                let (sender, receiver) = tokio::sync::oneshot::channel::<u32>();
                let _ = sender.send(42);
                let _ = receiver.blocking_recv();
            });
        });
        assert!(
            message.contains("Cannot block the current thread from within a runtime"),
            "{message}"
        );

        let reactor = crochet_reactor();
        let answer = application.block_on(async {
            let result = reactor.run_in_reactor(|| async { 42 });
            let error = result.wait_timeout(PROMPTLY).expect_err("refused");
            assert!(
                matches!(error, WaitError::WaitInReactor { .. }),
                "{error:?}"
            );
            result.await
        });
        assert_eq!(answer.expect("awaited"), 42);
        reactor.shutdown(PROMPTLY).expect("shut down");
    });
}

/// A task whose `JoinHandle` was dropped panics and nobody hears of it
/// (tokio's default hook prints to stderr; the program cannot see it);
/// crochet hands a failure nobody waited for to the reactor's failure hook.
#[test]
fn panic_with_a_dropped_join_handle_is_lost_where_crochet_reports_it() {
    with_deadline(|| {
        let runtime = current_thread();
        let (ran, ran_rx) = mpsc::channel();
        drop(runtime.spawn(async move {
            let _ = ran.send(());
            panic!("lost in a detached tokio task");
        }));
        // The runtime carries on, and the panic went nowhere the program
        // can reach: the handle that would have said so is gone.
        let after = runtime.block_on(async {
            tokio::task::yield_now().await;
            "the runtime carries on"
        });
        assert_eq!(after, "the runtime carries on");
        ran_rx.recv_timeout(PROMPTLY).expect("the task ran");

        let reactor = crochet_reactor();
        let (reported, reports) = mpsc::channel();
        reactor.set_failure_hook(move |failure| {
            let _ = reported.send(failure.error().to_string());
        });
        reactor.spawn(|| async { panic!("reported by crochet") });
        let report = reports
            .recv_timeout(PROMPTLY)
            .expect("the hook heard of it");
        assert_eq!(report, "the operation panicked: reported by crochet");
        // A dropped handle is the same: the failure still reaches the hook.
        drop(reactor.run_in_reactor(|| async { panic!("dropped handle") }));
        let report = reports
            .recv_timeout(PROMPTLY)
            .expect("the hook heard of it");
        assert_eq!(report, "the operation panicked: dropped handle");
        reactor.shutdown(PROMPTLY).expect("shut down");
    });
}

/// In a current_thread runtime, a sync helper that spawns onto the same
/// runtime and blocks on a channel waits for a task that its own thread
/// would have to run: a deadlock (bounded here by a timeout). crochet on
/// that runtime refuses the wait at once.
#[test]
fn blocking_in_a_current_thread_task_deadlocks_where_crochet_refuses() {
    with_deadline(|| {
        let application = current_thread();
        let waited = application.block_on(async {
            let (sender, receiver) = mpsc::channel();
            tokio::spawn(async move {
                let _ = sender.send(42);
            });
            // `recv()` would hang forever: only this thread runs tasks.
            receiver.recv_timeout(Duration::from_millis(300))
        });
        assert_eq!(waited, Err(mpsc::RecvTimeoutError::Timeout));

        let reactor = Reactor::new();
        reactor
            .attach(Tokio::from_handle(application.handle().clone()))
            .expect("attached");
        let started = Instant::now();
        let refused = application.block_on(async {
            let result = reactor.run_in_reactor(|| async { 42 });
            let refused = result.wait_timeout(PROMPTLY);
            (refused, result.await)
        });
        assert!(started.elapsed() < AT_ONCE, "{:?}", started.elapsed());
        let error = refused.0.expect_err("refused");
        assert!(
            matches!(error, WaitError::WaitInReactor { .. }),
            "{error:?}"
        );
        assert_eq!(refused.1.expect("awaited"), 42);
        reactor.shutdown(PROMPTLY).expect("shut down");
    });
}
