//! Tokio's context for work on other runtimes: with the `tokio-compat`
//! feature, backends run each operation inside a tokio context, as
//! `async_compat::Compat` does, so that futures of tokio-based crates
//! (reqwest, tonic, sqlx, ...) find the tokio IO driver and timers they
//! need. Without the feature, these functions do nothing, and no tokio is
//! built.

#[cfg(not(feature = "tokio-compat"))]
use std::future::Future;

#[cfg(feature = "tokio-compat")]
pub use enabled::{TokioContext, hold_tokio_context, in_tokio_context};

/// `future` inside a tokio context when the `tokio-compat` feature is on;
/// without it, `future` as it is.
#[cfg(not(feature = "tokio-compat"))]
pub fn in_tokio_context<F: Future>(future: F) -> impl Future<Output = F::Output> {
    future
}

/// Holds tokio's context on the calling thread while the guard lives, when
/// the `tokio-compat` feature is on; without it, nothing.
#[cfg(not(feature = "tokio-compat"))]
pub fn hold_tokio_context() -> TokioContext {
    TokioContext(std::marker::PhantomData)
}

/// What [`hold_tokio_context`] returns: without the `tokio-compat`
/// feature, nothing.
#[cfg(not(feature = "tokio-compat"))]
#[derive(Debug)]
#[must_use = "the context is held only while the guard lives"]
pub struct TokioContext(std::marker::PhantomData<*const ()>);

/// Starts the tokio runtime that [`in_tokio_context`] falls back on, now
/// (when the feature is on), rather than in the first operation's first
/// poll: the one-time cost (a runtime and its thread) then falls on
/// starting the reactor, not on a request, and never on several executor
/// threads at once. Without the feature, nothing.
pub fn start_tokio_context() {
    #[cfg(feature = "tokio-compat")]
    let _ = enabled::fallback();
}

#[cfg(feature = "tokio-compat")]
mod enabled {
    use std::cell::Cell;
    use std::fmt;
    use std::future::Future;
    use std::marker::PhantomData;
    use std::pin::Pin;
    use std::sync::OnceLock;
    use std::task::{Context, Poll, Waker};

    use pin_project_lite::pin_project;
    use tokio::runtime::{EnterGuard, Handle};

    thread_local! {
        /// This thread holds the fallback runtime's context for good
        /// ([`hold_tokio_context`]): an operation polled here needs no
        /// enter of its own.
        static HELD: Cell<bool> = const { Cell::new(false) };
    }

    /// The runtime async-compat keeps for the process (a current-thread
    /// runtime, driven on its `async-compat/tokio-1` thread), built on
    /// first use. Asked for on a thread of its own, outside any tokio
    /// context, where a `Compat` future enters that runtime and no other;
    /// `None` only if that thread could not be started.
    pub(super) fn fallback() -> Option<&'static Handle> {
        static FALLBACK: OnceLock<Option<Handle>> = OnceLock::new();
        FALLBACK
            .get_or_init(|| {
                std::thread::Builder::new()
                    .name("crochet-tokio-context".to_owned())
                    .spawn(|| {
                        let mut current =
                            std::pin::pin!(async_compat::Compat::new(async { Handle::current() }));
                        match current
                            .as_mut()
                            .poll(&mut Context::from_waker(Waker::noop()))
                        {
                            Poll::Ready(handle) => Some(handle),
                            Poll::Pending => None,
                        }
                    })
                    .ok()?
                    .join()
                    .ok()
                    .flatten()
            })
            .as_ref()
    }

    /// A tokio context for the calling thread, entered for the scope of
    /// the guard: none when the thread holds one for good or is in a tokio
    /// runtime already, else the fallback runtime's.
    fn enter() -> Option<EnterGuard<'static>> {
        if HELD.with(Cell::get) || Handle::try_current().is_ok() {
            return None;
        }
        fallback().map(Handle::enter)
    }

    pin_project! {
        /// A future polled and dropped inside a tokio context: the one the
        /// polling thread is in, else the runtime async-compat keeps for
        /// the process ([`in_tokio_context`]).
        struct InTokio<F> {
            #[pin]
            inner: Option<F>,
        }

        impl<F> PinnedDrop for InTokio<F> {
            fn drop(this: Pin<&mut Self>) {
                let mut inner = this.project().inner;
                if inner.is_some() {
                    let _context = enter();
                    inner.set(None);
                }
            }
        }
    }

    impl<F: Future> Future for InTokio<F> {
        type Output = F::Output;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            let Some(inner) = self.project().inner.as_pin_mut() else {
                // Only while it is dropped, never polled then.
                return Poll::Pending;
            };
            let _context = enter();
            inner.poll(cx)
        }
    }

    /// `future` inside a tokio context when the `tokio-compat` feature is
    /// on: each poll (and its drop) runs in the calling thread's tokio
    /// runtime, or else in the one runtime async-compat keeps for the
    /// process on a thread of its own, as inside `async_compat::Compat`.
    /// A thread that already is in a tokio context, or holds one for good
    /// ([`hold_tokio_context`]), enters nothing. Without the feature,
    /// `future` as it is.
    pub fn in_tokio_context<F: Future>(future: F) -> impl Future<Output = F::Output> {
        InTokio {
            inner: Some(future),
        }
    }

    /// Holds the fallback runtime's context on the calling thread while
    /// the guard lives, so that [`in_tokio_context`] futures polled here
    /// enter nothing of their own: for the threads of a managed reactor,
    /// which hold it around their whole run. The calling thread must not
    /// be in a tokio runtime; nothing is held if it is.
    pub fn hold_tokio_context() -> TokioContext {
        let entered = enter();
        if entered.is_some() {
            HELD.with(|held| held.set(true));
        }
        TokioContext {
            entered,
            not_send: PhantomData,
        }
    }

    /// The tokio context [`hold_tokio_context`] holds on its thread, until
    /// dropped (on that thread, after any context entered inside it).
    #[must_use = "the context is held only while the guard lives"]
    pub struct TokioContext {
        entered: Option<EnterGuard<'static>>,
        not_send: PhantomData<*const ()>,
    }

    impl Drop for TokioContext {
        fn drop(&mut self) {
            if let Some(entered) = self.entered.take() {
                drop(entered);
                HELD.with(|held| held.set(false));
            }
        }
    }

    impl fmt::Debug for TokioContext {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TokioContext")
                .field("held", &self.entered.is_some())
                .finish()
        }
    }
}

#[cfg(all(test, feature = "tokio-compat"))]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use tokio::runtime::Handle;

    use super::*;

    /// Polls once with a waker that does nothing.
    fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
        pin!(future).poll(&mut Context::from_waker(Waker::noop()))
    }

    /// Whether a drop runs in a tokio context.
    struct SeesContext(std::sync::mpsc::Sender<bool>);

    impl Drop for SeesContext {
        fn drop(&mut self) {
            let _ = self.0.send(Handle::try_current().is_ok());
        }
    }

    #[test]
    fn a_future_is_polled_and_dropped_in_the_fallback_context() {
        std::thread::spawn(|| {
            assert!(Handle::try_current().is_err(), "a plain thread");
            let polled = poll_once(in_tokio_context(async {
                Handle::try_current().map(|h| h.id())
            }));
            let Poll::Ready(Ok(id)) = polled else {
                panic!("polled outside a tokio context: {polled:?}");
            };
            assert_eq!(
                Some(id),
                enabled::fallback().map(Handle::id),
                "async-compat's runtime"
            );
            let (sender, dropped_in) = std::sync::mpsc::channel();
            let sees = SeesContext(sender);
            drop(in_tokio_context(async move {
                let _sees = sees;
            }));
            assert!(
                dropped_in.recv().expect("dropped"),
                "dropped outside a context"
            );
            assert!(Handle::try_current().is_err(), "nothing left entered");
        })
        .join()
        .expect("the test thread");
    }

    #[test]
    fn a_held_context_serves_every_poll_until_dropped() {
        std::thread::spawn(|| {
            let held = hold_tokio_context();
            assert_eq!(
                Handle::try_current().map(|h| h.id()).ok(),
                enabled::fallback().map(Handle::id),
                "held: {held:?}"
            );
            let polled = poll_once(in_tokio_context(async { Handle::try_current().is_ok() }));
            assert_eq!(polled, Poll::Ready(true));
            drop(held);
            assert!(Handle::try_current().is_err(), "released with the guard");
        })
        .join()
        .expect("the test thread");
    }
}
