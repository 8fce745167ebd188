//! The `tokio-compat` feature, seen from an application: without it, a
//! future of a tokio-based crate on smol or async-std fails with an error
//! that says what to do; with it, the future runs. (The conformance
//! suite's `tokio_compat` case runs tokio IO and timers on every fixture.)
#![cfg(any(feature = "smol", feature = "async-std"))]

use std::time::Duration;

use crochet::Reactor;
use crochet::backend::Backend;

const PROMPTLY: Duration = Duration::from_secs(10);

/// A reactor on each non-tokio backend this build has.
fn reactors() -> Vec<(&'static str, Reactor)> {
    #[cfg(feature = "smol")]
    let smol = Some(("smol", start(crochet::backends::smol::Smol::builder())));
    #[cfg(not(feature = "smol"))]
    let smol = None;
    #[cfg(feature = "async-std")]
    let async_std = Some((
        "async-std",
        start(crochet::backends::async_std::AsyncStd::builder()),
    ));
    #[cfg(not(feature = "async-std"))]
    let async_std = None;
    smol.into_iter().chain(async_std).collect()
}

fn start(backend: impl Backend) -> Reactor {
    Reactor::start(backend).expect("start a reactor")
}

/// What a tokio-based crate's future does: it needs tokio's timer.
async fn tokio_sleep() -> &'static str {
    tokio::time::sleep(Duration::from_millis(5)).await;
    "slept on tokio's timer"
}

#[cfg(not(feature = "tokio-compat"))]
#[test]
fn without_tokio_compat_a_tokio_future_fails_saying_what_to_do() {
    for (name, reactor) in reactors() {
        let error = reactor
            .wait_for(PROMPTLY, tokio_sleep)
            .expect_err("tokio's timer outside tokio");
        assert!(error.is_panic(), "{name}: {error:?}");
        let message = error.to_string();
        assert!(
            message.contains("must be called from the context of a Tokio 1.x runtime"),
            "{name}: {message}"
        );
        assert!(
            message.ends_with(
                "(this future needs tokio, and the reactor's backend is not tokio: \
                 use the tokio backend, or enable crochet's `tokio-compat` feature)"
            ),
            "{name}: {message}"
        );
        reactor.shutdown(PROMPTLY).expect("shut down");
    }
}

#[cfg(feature = "tokio-compat")]
#[test]
fn with_tokio_compat_a_tokio_future_runs_on_every_backend() {
    for (name, reactor) in reactors() {
        let slept = reactor.wait_for(PROMPTLY, tokio_sleep);
        assert_eq!(
            slept.unwrap_or_else(|error| panic!("{name}: {error}")),
            "slept on tokio's timer"
        );
        reactor.shutdown(PROMPTLY).expect("shut down");
    }
}
