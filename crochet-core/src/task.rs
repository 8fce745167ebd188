//! The future that crochet wraps around every submitted operation before a
//! backend sees it.
//!
//! It calls the user's closure on the reactor thread, polls the future it
//! returns, catches panics in both, marks the thread as a reactor thread
//! while it runs, races cancellation, and completes the result on every
//! path, including being dropped unfinished. Backends therefore differ in
//! nothing observable.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tracing::Span;

use crate::completion::Completion;
use crate::context;
use crate::error::Error;
use crate::panic;
use crate::spawner::{LocalBoxFuture, StartLocal};

/// The producing half of a completion cell. Dropping it before the outcome
/// is decided completes the result with `ReactorStopped`: the runtime
/// dropped the task, or never ran it.
pub(crate) struct Completer<T> {
    cell: Arc<Completion<T>>,
}

impl<T> Completer<T> {
    pub(crate) fn new(cell: Arc<Completion<T>>) -> Self {
        Completer { cell }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if !self.cell.is_done() {
            self.cell.interrupt(Error::ReactorStopped);
        }
    }
}

/// Maps the future's output onto the result: the identity for plain
/// operations, `Err(e)` to [`Error::Failed`] for fallible ones.
pub(crate) type Finish<O, T> = fn(O) -> Result<T, Error>;

pin_project! {
    pub(crate) struct Operation<T, O, F, Fut> {
        completer: Completer<T>,
        finish: Finish<O, T>,
        span: Span,
        start: Option<F>,
        #[pin]
        future: Option<Fut>,
    }

    impl<T, O, F, Fut> PinnedDrop for Operation<T, O, F, Fut> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Marks the scope only: dropping a task does not make this
            // thread one that drives tasks (it may be a shutdown caller).
            let _reactor = context::enter_reactor();
            let _span = this.span.enter();
            // The future's destructor runs here, on the reactor thread, and
            // may panic (during shutdown, say): contain it. The completer,
            // dropped after this, then completes the result if needed.
            drop_future(this.future);
        }
    }
}

fn drop_future<Fut>(mut future: Pin<&mut Option<Fut>>) {
    if future.is_some() {
        if let Err(panic) = panic::catch(|| future.set(None)) {
            tracing::error!(
                target: "crochet",
                panic = panic.message(),
                "a future panicked in its destructor; the panic was contained"
            );
        }
    }
}

impl<T, O, F, Fut> Operation<T, O, F, Fut> {
    pub(crate) fn new(completer: Completer<T>, start: F, span: Span, finish: Finish<O, T>) -> Self {
        Operation {
            completer,
            finish,
            span,
            start: Some(start),
            future: None,
        }
    }
}

impl<T, O, F, Fut> Future for Operation<T, O, F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = O>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let _task = context::enter_task();
        let _span = this.span.enter();
        let cell = &this.completer.cell;

        if cell.is_done() {
            // Cancelled or stopped: drop the future now, on this thread.
            drop_future(this.future);
            return Poll::Ready(());
        }
        if let Some(start) = this.start.take() {
            match panic::catch(start) {
                Ok(future) => this.future.set(Some(future)),
                Err(panic) => {
                    cell.complete(Err(Error::Panicked(panic)));
                    return Poll::Ready(());
                }
            }
        }
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        // `finish` runs user code too (the error's `Into` conversion).
        let finish = *this.finish;
        match panic::catch(|| future.poll(cx).map(finish)) {
            Ok(Poll::Ready(result)) => {
                cell.complete(result);
                drop_future(this.future);
                Poll::Ready(())
            }
            Ok(Poll::Pending) => {
                cell.register_task(cx.waker());
                // Re-check after registering: a cancel that ran before the
                // registration could not wake this task.
                if cell.is_done() {
                    drop_future(this.future);
                    return Poll::Ready(());
                }
                Poll::Pending
            }
            Err(panic) => {
                cell.complete(Err(Error::Panicked(panic)));
                drop_future(this.future);
                Poll::Ready(())
            }
        }
    }
}

/// A `!Send` operation before it reaches its thread: everything in it is
/// `Send`; the future is built by [`StartLocal::start`] on the reactor
/// thread.
pub(crate) struct LocalStart<T, O, F> {
    pub(crate) completer: Completer<T>,
    pub(crate) start: F,
    pub(crate) span: Span,
    pub(crate) finish: Finish<O, T>,
}

impl<T, O, F, Fut> StartLocal for LocalStart<T, O, F>
where
    T: Send + 'static,
    O: 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = O> + 'static,
{
    fn start(self: Box<Self>) -> LocalBoxFuture {
        let LocalStart {
            completer,
            start,
            span,
            finish,
        } = *self;
        Box::pin(Operation::new(completer, start, span, finish))
    }

    fn fail(self: Box<Self>, error: Error) {
        self.completer.cell.complete(Err(error));
    }
}
