//! What only the smol backend does: its executor threads, the current
//! executor, and an attached executor that nobody runs. The behaviour every
//! backend shares is in the conformance suite.

use std::collections::HashSet;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use async_executor::Executor;
use crochet_core::OperationState;
use crochet_core::{Reactor, ShutdownError, WaitError};
use crochet_smol::Smol;

const PROMPTLY: Duration = Duration::from_secs(10);

#[test]
fn work_spreads_over_the_configured_threads() {
    let reactor =
        Reactor::start(Smol::builder().threads(3).thread_name("crochet-pool")).expect("start");
    let names: HashSet<String> = (0..30)
        .map(|_| {
            reactor.run_in_reactor(|| async {
                // Blocks its thread (on purpose, in a test): the queued work
                // can only go on on the others, however loaded the machine
                // is (a timer alone let one busy thread take everything).
                thread::sleep(Duration::from_millis(10));
                thread::current().name().unwrap_or_default().to_owned()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|result| result.wait_timeout(PROMPTLY).expect("ran"))
        .collect();
    assert!(
        names.iter().all(|name| name.starts_with("crochet-pool")),
        "{names:?}"
    );
    assert!(names.len() > 1, "only one thread ran work: {names:?}");
    reactor.shutdown(PROMPTLY).expect("shutdown");
}

#[test]
fn current_executor_is_only_set_on_reactor_threads() {
    assert!(crochet_smol::current_executor().is_none());
    let reactor = Reactor::start(Smol::builder()).expect("start");
    let inside = reactor
        .wait_for(PROMPTLY, || async {
            crochet_smol::current_executor().is_some()
        })
        .expect("ran");
    assert!(inside);
    reactor.shutdown(PROMPTLY).expect("shutdown");
}

/// An attached executor that the application never runs: work is not lost
/// (waits time out, and the result stays waitable), and shutdown still
/// completes it at its bound, saying that it abandoned it (its future was
/// never dropped: nobody ran the executor).
#[test]
fn work_on_an_executor_nobody_runs_times_out_then_stops() {
    let executor = Arc::new(Executor::new());
    let reactor = Reactor::new();
    reactor
        .attach(Smol::from_executor(Arc::clone(&executor)))
        .expect("attach");
    let result = reactor.run_in_reactor(|| async { 1 });
    assert!(matches!(
        result.wait_timeout(Duration::from_millis(50)),
        Err(WaitError::Timeout {
            state: OperationState::Running,
            ..
        })
    ));
    let outcome = reactor.shutdown(Duration::from_millis(100));
    assert!(
        matches!(outcome, Err(ShutdownError::Abandoned { operations: 1, .. })),
        "{outcome:?}"
    );
    let stopped = result.wait();
    assert!(
        matches!(stopped, Err(WaitError::ReactorStopped)),
        "{stopped:?}"
    );
    // The queued task is still in the executor; running it now finds its
    // result decided and drops the future.
    assert!(executor.try_tick());
}

/// `run` marks the thread only while it drives the executor.
#[test]
fn run_marks_the_driving_thread_only_while_it_runs() {
    let executor = Arc::new(Executor::new());
    let reactor = Reactor::new();
    reactor
        .attach(Smol::from_executor(Arc::clone(&executor)))
        .expect("attach");
    let pending = reactor.run_in_reactor(std::future::pending::<()>).shared();
    let waited = pending.clone();
    let raw = executor.spawn(async move { waited.wait_timeout(PROMPTLY) });
    let refused = async_io::block_on(crochet_smol::run(&executor, raw));
    assert!(
        matches!(refused, Err(WaitError::WaitInReactor { .. })),
        "{refused:?}"
    );
    assert!(!crochet_core::backend::is_reactor_thread());
    let waited = pending.wait_timeout(Duration::from_millis(10));
    assert!(
        matches!(waited, Err(WaitError::Timeout { .. })),
        "{waited:?}"
    );
    // Nobody runs the executor any more: shutdown abandons what is there.
    let outcome = reactor.shutdown(Duration::from_millis(100));
    assert!(
        matches!(outcome, Err(ShutdownError::Abandoned { operations: 1, .. })),
        "{outcome:?}"
    );
}
