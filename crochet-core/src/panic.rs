//! A panic caught in the reactor, kept with its payload.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

/// A panic that happened while running an operation in the reactor.
///
/// The reactor keeps running; the panic's message is shown by
/// [`WaitError::Panicked`](crate::WaitError::Panicked), and its original payload can
/// be taken once, to re-raise it on the caller's thread with
/// [`Panic::resume_unwind`].
#[derive(Clone)]
pub struct Panic(Arc<Inner>);

struct Inner {
    message: String,
    // A `Mutex` makes the `Send`-only payload shareable (`Sync`) without
    // unsafe code; it is taken at most once.
    payload: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Panic {
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Self {
        let message = with_hint(message_of(&*payload));
        Panic(Arc::new(Inner {
            message,
            payload: Mutex::new(Some(payload)),
        }))
    }

    /// The panic message (`panic!`'s formatted text), or a placeholder when
    /// the payload is not a string.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Takes the original panic payload; `None` if a clone of this panic
    /// already took it.
    pub fn take_payload(&self) -> Option<Box<dyn Any + Send>> {
        self.0
            .payload
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Re-raises the panic on the calling thread, with the original payload
    /// when it is still there (otherwise with the message).
    ///
    /// # Panics
    ///
    /// Always: that is what it is for.
    pub fn resume_unwind(self) -> ! {
        match self.take_payload() {
            Some(payload) => panic::resume_unwind(payload),
            None => panic::resume_unwind(Box::new(self.0.message.clone())),
        }
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("message", &self.0.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

/// Runs `f`, turning a panic into a [`Panic`].
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Panic> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(Panic::new)
}

pin_project_lite::pin_project! {
    /// A future that turns a panic in `inner`'s poll into a [`Panic`].
    pub(crate) struct CatchUnwind<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Panic>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match catch(|| inner.poll(cx)) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// Wraps `future` so that a panic while polling it becomes an error.
pub(crate) fn catch_future<F: Future>(future: F) -> CatchUnwind<F> {
    CatchUnwind { inner: future }
}

/// Drops `value` (an operation's value, a queued job, a stashed result),
/// swallowing (and logging) a panic in its destructor: a destructor that
/// panics during cancellation or shutdown must not take the reactor thread
/// down with it.
pub(crate) fn drop_quietly<T>(value: T) {
    if let Err(panic) = catch(move || drop(value)) {
        tracing::error!(
            target: "crochet",
            panic = panic.message(),
            "a destructor panicked (of an operation's value, queued work or a stashed result); the panic was contained"
        );
    }
}

fn message_of(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// Tokio's panic when a future of a tokio-based crate runs outside a tokio
/// runtime, which on crochet means on another backend.
const NO_TOKIO: &str = "must be called from the context of a Tokio 1.x runtime";

/// `message`, followed by what to do when it is [`NO_TOKIO`]'s panic.
fn with_hint(message: String) -> String {
    if message.contains(NO_TOKIO) {
        format!(
            "{message} (this future needs tokio, and the reactor's backend is not tokio: \
             use the tokio backend, or enable crochet's `tokio-compat` feature)"
        )
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_of_reads_str_and_string_payloads() {
        assert_eq!(message_of(&"static"), "static");
        assert_eq!(message_of(&String::from("owned")), "owned");
        assert_eq!(message_of(&42_u8), "<non-string panic payload>");
    }

    #[test]
    fn with_hint_says_what_to_do_about_a_missing_tokio_runtime() {
        let tokio =
            "there is no reactor running, must be called from the context of a Tokio 1.x runtime";
        let hinted = with_hint(tokio.to_owned());
        assert!(hinted.starts_with(tokio), "{hinted}");
        assert!(
            hinted.contains("enable crochet's `tokio-compat` feature"),
            "{hinted}"
        );
        assert_eq!(with_hint("boom".to_owned()), "boom");
    }
}
