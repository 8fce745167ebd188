//! A future polled only once something woke it.
//!
//! The managed reactor's first thread runs the executor around the local
//! executor and the mailbox (`Executor::run(local_part)`), and
//! `Executor::run` polls the future it is given each time the thread
//! wakes, whatever woke it: every operation would also pay for a look at
//! the local executor's queues and the mailbox. [`WhenWoken`] skips that
//! poll unless the local part's own waker was woken since its last poll.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use atomic_waker::AtomicWaker;
use pin_project_lite::pin_project;

pin_project! {
    /// `inner`, polled only when its own waker was woken (and on the
    /// first poll).
    pub(crate) struct WhenWoken<F> {
        #[pin]
        inner: F,
        flag: Arc<Flag>,
        waker: Waker,
    }
}

/// Whether the inner future was woken, and whom to tell.
struct Flag {
    woken: AtomicBool,
    outer: AtomicWaker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Set before the outer waker is woken: the poll it causes sees it.
        self.woken.store(true, Ordering::Release);
        self.outer.wake();
    }
}

impl<F> WhenWoken<F> {
    pub(crate) fn new(inner: F) -> Self {
        let flag = Arc::new(Flag {
            woken: AtomicBool::new(true),
            outer: AtomicWaker::new(),
        });
        WhenWoken {
            inner,
            waker: Waker::from(Arc::clone(&flag)),
            flag,
        }
    }
}

impl<F: Future> Future for WhenWoken<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        // Registered before the flag is read: a wake after the read wakes
        // the outer task again.
        this.flag.outer.register(cx.waker());
        if !this.flag.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        this.inner.poll(&mut Context::from_waker(this.waker))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// Counts its polls; ready on the third, waking itself on each.
    struct Counted<'a>(&'a AtomicUsize, Option<Waker>);

    impl Future for Counted<'_> {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0.fetch_add(1, Ordering::Relaxed) == 2 {
                return Poll::Ready(());
            }
            self.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    #[test]
    fn polls_the_inner_future_only_after_its_waker_was_woken() {
        let polls = AtomicUsize::new(0);
        let mut future = std::pin::pin!(WhenWoken::new(Counted(&polls, None)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::Relaxed), 1, "polled the first time");
        // Woken by something else (another task): not polled.
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::Relaxed), 1);
        // Its own waker: polled once more.
        let inner_waker = future.as_mut().project().inner.1.take().expect("a waker");
        inner_waker.wake();
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::Relaxed), 2);
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::Relaxed), 2);
        future
            .as_mut()
            .project()
            .inner
            .1
            .take()
            .expect("a waker")
            .wake();
        assert!(future.as_mut().poll(&mut cx).is_ready());
        assert_eq!(polls.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_wake_reaches_the_outer_waker() {
        struct Outer(AtomicUsize);
        impl Wake for Outer {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let outer = Arc::new(Outer(AtomicUsize::new(0)));
        let outer_waker = Waker::from(Arc::clone(&outer));
        let polls = AtomicUsize::new(0);
        let mut future = std::pin::pin!(WhenWoken::new(Counted(&polls, None)));
        assert!(
            future
                .as_mut()
                .poll(&mut Context::from_waker(&outer_waker))
                .is_pending()
        );
        future
            .as_mut()
            .project()
            .inner
            .1
            .take()
            .expect("a waker")
            .wake();
        assert_eq!(outer.0.load(Ordering::Relaxed), 1);
    }
}
