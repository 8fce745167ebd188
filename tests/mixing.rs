//! Backends side by side: a result from one reactor used from another's
//! work. Awaiting is fine across runtimes; a blocking wait in any reactor's
//! task is refused.
#![cfg(all(feature = "tokio", feature = "smol", feature = "async-std"))]

use std::time::Duration;

use crochet::backends::async_std::AsyncStd;
use crochet::backends::smol::Smol;
use crochet::backends::tokio::Tokio;
use crochet::{Reactor, WaitError};

const PROMPTLY: Duration = Duration::from_secs(10);

#[test]
fn results_from_one_backend_can_be_awaited_in_another() {
    let tokio = Reactor::start(Tokio::builder()).expect("tokio");
    let smol = Reactor::start(Smol::builder()).expect("smol");
    let async_std = Reactor::start(AsyncStd::builder()).expect("async-std");

    let from_tokio = tokio.run_in_reactor(|| async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        1
    });
    let in_smol = smol.run_in_reactor(move || async move { from_tokio.await.map(|v| v + 1) });
    let in_async_std = async_std.run_in_reactor(move || in_smol);
    assert_eq!(
        in_async_std
            .wait_timeout(PROMPTLY)
            .expect("ran")
            .expect("ran")
            .expect("ran"),
        2
    );

    for reactor in [tokio, smol, async_std] {
        reactor.shutdown(PROMPTLY).expect("shutdown");
    }
}

#[test]
fn blocking_on_another_backends_result_inside_a_task_is_refused() {
    let tokio = Reactor::start(Tokio::builder()).expect("tokio");
    let smol = Reactor::start(Smol::builder()).expect("smol");

    let slow = tokio.run_in_reactor(std::future::pending::<()>).shared();
    let waited = slow.clone();
    let refused = smol
        .wait_for(
            PROMPTLY,
            move || async move { waited.wait_timeout(PROMPTLY) },
        )
        .expect("ran");
    assert!(
        matches!(refused, Err(WaitError::WaitInReactor { .. })),
        "{refused:?}"
    );

    let other = smol.run_in_reactor(std::future::pending::<()>).shared();
    let waited = other.clone();
    let refused = tokio
        .wait_for(
            PROMPTLY,
            move || async move { waited.wait_timeout(PROMPTLY) },
        )
        .expect("ran");
    assert!(
        matches!(refused, Err(WaitError::WaitInReactor { .. })),
        "{refused:?}"
    );

    for reactor in [tokio, smol] {
        reactor.shutdown(PROMPTLY).expect("shutdown");
    }
}

#[test]
fn default_backend_prefers_tokio() {
    assert_eq!(crochet::DEFAULT_BACKEND, "tokio");
}
