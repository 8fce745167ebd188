//! The future that crochet wraps around every submitted operation before a
//! backend sees it.
//!
//! It calls the user's closure on the reactor thread, polls the future it
//! returns, catches panics in both, marks the thread as a reactor thread
//! while it runs, races cancellation, and completes the result on every
//! path, including being dropped unfinished. On every path it drops the
//! closure or future *first* and publishes the outcome after, so that a
//! waiter never hears of the end before what the future held is released.
//! Backends therefore differ in nothing observable.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tracing::Span;

use crate::completion::Completion;
use crate::context;
use crate::error::{Failure, WaitError};
use crate::outcome::Outcome;
use crate::panic;
use crate::spawner::{LocalBoxFuture, StartLocal};

/// The producing half of a completion cell. Dropping it before the outcome
/// is published completes the result with the requested end (`Cancelled`,
/// `ReactorStopped`), or `ReactorStopped` when none was requested: the
/// runtime dropped the task, or never ran it. Held after the future in
/// [`Operation`], so that it is dropped after it.
pub(crate) struct Completer<T, E> {
    cell: Arc<Completion<T, E>>,
}

impl<T, E> Completer<T, E> {
    pub(crate) fn new(cell: Arc<Completion<T, E>>) -> Self {
        Completer { cell }
    }
}

impl<T, E> Completer<T, E> {
    /// Publishes the end of an operation whose future (or closure) was
    /// just dropped: the requested end, if one was requested, else
    /// `default`.
    fn end(&self, default: WaitError) {
        self.cell.complete(Outcome::fault(default));
    }
}

impl<T, E> Drop for Completer<T, E> {
    fn drop(&mut self) {
        if !self.cell.is_done() {
            self.end(WaitError::ReactorStopped);
        }
    }
}

/// Maps the future's output `O` onto the result. A type, not a value, so
/// that operations carry nothing for it.
pub(crate) trait Finish<O, T, E>: 'static {
    fn finish(output: O) -> Outcome<T, E>;
}

/// Plain operations: the output is the value.
pub(crate) enum Plain {}

impl<T> Finish<T, T, Infallible> for Plain {
    fn finish(output: T) -> Outcome<T, Infallible> {
        Outcome::Value(output)
    }
}

/// Fallible operations: `Err(e)` is the operation's own error, kept typed.
pub(crate) enum Fallible {}

impl<T, E> Finish<Result<T, E>, T, E> for Fallible
where
    E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
{
    fn finish(output: Result<T, E>) -> Outcome<T, E> {
        match output {
            Ok(value) => Outcome::Value(value),
            Err(error) => Outcome::Failed(error, Failure::new::<E>),
        }
    }
}

/// crochet's own operations, whose output already is the result.
pub(crate) enum Decided {}

impl<T> Finish<Result<T, WaitError>, T, Infallible> for Decided {
    fn finish(output: Result<T, WaitError>) -> Outcome<T, Infallible> {
        match output {
            Ok(value) => Outcome::Value(value),
            Err(error) => Outcome::fault(error),
        }
    }
}

/// The caller's span, carried into the reactor; boxed, and only when
/// there is one, so that untraced operations do not carry its size.
pub(crate) type CallerSpan = Option<Box<Span>>;

/// The caller's current span, if any.
pub(crate) fn caller_span() -> CallerSpan {
    // No subscriber was ever set (global or scoped): there is no span, and
    // asking for the current one costs more than the rest of a submission's
    // bookkeeping.
    if !tracing::dispatcher::has_been_set() {
        return None;
    }
    let span = Span::current();
    (!span.is_none()).then(|| Box::new(span))
}

pin_project! {
    /// Where an operation is: the closure not called yet, its future
    /// running, or done. One field for both, since the future usually holds
    /// what the closure captured.
    #[project = StageProj]
    enum Stage<F, Fut> {
        Start { start: Option<F> },
        Running { #[pin] future: Fut },
        Done,
    }
}

pin_project! {
    pub(crate) struct Operation<T, E, M, F, Fut> {
        completer: Completer<T, E>,
        finish: PhantomData<fn() -> M>,
        span: CallerSpan,
        #[pin]
        stage: Stage<F, Fut>,
    }

    impl<T, E, M, F, Fut> PinnedDrop for Operation<T, E, M, F, Fut> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Marks the scope only: dropping a task does not make this
            // thread one that drives tasks (it may be a shutdown caller).
            let _reactor = context::enter_reactor();
            let _span = this.span.as_ref().map(|span| span.enter());
            // The future's destructor runs here, on the reactor thread, and
            // may panic (during shutdown, say): contain it. The completer,
            // dropped after this, then completes the result if needed.
            finish_stage(this.stage);
        }
    }
}

/// Drops the closure or the future, containing a panic in its destructor.
fn finish_stage<F, Fut>(mut stage: Pin<&mut Stage<F, Fut>>) {
    if matches!(stage.as_mut().project(), StageProj::Done) {
        return;
    }
    if let Err(panic) = panic::catch(|| stage.set(Stage::Done)) {
        tracing::error!(
            target: "crochet",
            panic = panic.message(),
            "a future panicked in its destructor; the panic was contained"
        );
    }
}

impl<T, E, M, F, Fut> Operation<T, E, M, F, Fut> {
    pub(crate) fn new(completer: Completer<T, E>, start: F, span: CallerSpan) -> Self {
        Operation {
            completer,
            finish: PhantomData,
            span,
            stage: Stage::Start { start: Some(start) },
        }
    }
}

impl<T, E, M, F, Fut> Future for Operation<T, E, M, F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future,
    M: Finish<Fut::Output, T, E>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let _task = context::enter_task();
        let _span = this.span.as_ref().map(|span| span.enter());
        let completer = &this.completer;
        let cell = &completer.cell;

        if cell.should_stop() {
            // Cancelled or stopped: drop the future now, on this thread,
            // then publish the requested end.
            finish_stage(this.stage);
            completer.end(WaitError::ReactorStopped);
            return Poll::Ready(());
        }
        let first = matches!(this.stage.as_mut().project(), StageProj::Start { .. });
        if let StageProj::Start { start } = this.stage.as_mut().project() {
            let Some(start) = start.take() else {
                return Poll::Ready(());
            };
            if let Some(forked) = cell.forked_here() {
                // A runtime that started threads in a forked child: the
                // work was submitted to the parent's reactor, and is refused
                // like any submission in the child.
                panic::drop_quietly(start);
                this.stage.set(Stage::Done);
                cell.complete(Outcome::fault(forked));
                return Poll::Ready(());
            }
            match panic::catch(start) {
                Ok(future) => this.stage.set(Stage::Running { future }),
                Err(panic) => {
                    this.stage.set(Stage::Done);
                    cell.complete(Outcome::fault(WaitError::Panicked(panic)));
                    return Poll::Ready(());
                }
            }
        }
        let StageProj::Running { future } = this.stage.as_mut().project() else {
            return Poll::Ready(());
        };
        // `finish` runs user code too (the error's `Into` conversion).
        let outcome = match panic::catch(|| future.poll(cx).map(M::finish)) {
            Ok(Poll::Ready(result)) => result,
            Ok(Poll::Pending) => {
                if first {
                    cell.note_pending();
                }
                cell.register_task(cx.waker());
                // Re-check after registering: a request that ran before the
                // registration could not wake this task.
                if cell.should_stop() {
                    finish_stage(this.stage);
                    completer.end(WaitError::ReactorStopped);
                    return Poll::Ready(());
                }
                return Poll::Pending;
            }
            Err(panic) => Outcome::fault(WaitError::Panicked(panic)),
        };
        // The future first, then the outcome: whoever hears of the end
        // finds what the future held released.
        finish_stage(this.stage);
        cell.complete(outcome);
        Poll::Ready(())
    }
}

/// A `!Send` operation before it reaches its thread: everything in it is
/// `Send`; the future is built by [`StartLocal::start`] on the reactor
/// thread.
///
/// Dropped unstarted (its runtime went away), it drops the closure first
/// and publishes after, as an operation does: the completer is the last
/// field, and fields drop in order.
pub(crate) struct LocalStart<T, F> {
    pub(crate) start: F,
    pub(crate) span: CallerSpan,
    pub(crate) completer: Completer<T, Infallible>,
}

impl<T, F, Fut> StartLocal for LocalStart<T, F>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T> + 'static,
{
    fn start(self: Box<Self>) -> LocalBoxFuture {
        let LocalStart {
            completer,
            start,
            span,
        } = *self;
        Box::pin(Operation::<T, Infallible, Plain, F, Fut>::new(
            completer, start, span,
        ))
    }

    fn fail(self: Box<Self>, error: WaitError) {
        let LocalStart {
            start,
            span,
            completer,
        } = *self;
        // The closure first, then the outcome.
        panic::drop_quietly(start);
        drop(span);
        completer.end(error);
    }
}

/// Work that was not admitted: its closure is dropped, then its result
/// published as `error` (as a task drops its future, then publishes).
pub(crate) fn refuse<F, T, E>(work: F, cell: &Completion<T, E>, error: WaitError) {
    panic::drop_quietly(work);
    cell.complete(Outcome::fault(error));
}
