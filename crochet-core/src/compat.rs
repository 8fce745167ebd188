//! Tokio's context for work on other runtimes: with the `tokio-compat`
//! feature, backends run each operation inside `async_compat::Compat`, so
//! that futures of tokio-based crates (reqwest, tonic, sqlx, ...) find the
//! tokio IO driver and timers they need. Without the feature, both
//! functions do nothing, and no tokio is built.

use std::future::Future;

/// `future` inside a tokio context when the `tokio-compat` feature is on:
/// each poll (and its drop) enters the calling thread's tokio runtime, or
/// else the one runtime async-compat keeps for the process on a thread of
/// its own. Without the feature, `future` as it is.
#[cfg(feature = "tokio-compat")]
pub fn in_tokio_context<F: Future>(future: F) -> impl Future<Output = F::Output> {
    async_compat::Compat::new(future)
}

/// `future` inside a tokio context when the `tokio-compat` feature is on;
/// without it, `future` as it is.
#[cfg(not(feature = "tokio-compat"))]
pub fn in_tokio_context<F: Future>(future: F) -> impl Future<Output = F::Output> {
    future
}

/// Starts the tokio runtime that [`in_tokio_context`] falls back on, now
/// (when the feature is on and the calling thread is not in a tokio
/// runtime already), rather than in the first operation's first poll: the
/// one-time cost (a runtime and its thread) then falls on starting the
/// reactor, not on a request, and never on several executor threads at
/// once. Without the feature, nothing.
pub fn start_tokio_context() {
    #[cfg(feature = "tokio-compat")]
    {
        // Polling any `Compat` future enters (and so first builds) the
        // runtime.
        let mut ready = std::pin::pin!(async_compat::Compat::new(std::future::ready(())));
        let _ = ready
            .as_mut()
            .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    }
}
