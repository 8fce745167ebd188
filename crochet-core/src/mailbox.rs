//! A mailbox for a backend's reactor thread: any thread sends, one async
//! task receives, with no runtime of its own (so a backend needs none of
//! its runtime's channel features for it).

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

struct State<T> {
    queue: VecDeque<T>,
    /// Live senders: none left, and nothing queued, ends the receiving.
    senders: usize,
    /// The receiver is gone: sending hands the message back.
    closed: bool,
    /// The receiving task, waiting for a message.
    waiting: Option<Waker>,
}

struct Shared<T>(Mutex<State<T>>);

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No user code runs under this lock.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A new mailbox: the sending half (cloneable, for any thread) and the
/// receiving half (for the one task that serves it).
///
/// # Examples
///
/// ```
/// let (sender, mut mailbox) = crochet_core::backend::mailbox::<u32>();
/// sender.send(7).expect("the mailbox is open");
/// drop(sender);
/// let received = futures_lite::future::block_on(async {
///     (mailbox.recv().await, mailbox.recv().await)
/// });
/// assert_eq!(received, (Some(7), None), "every sender is gone");
/// ```
pub fn mailbox<T>() -> (MailboxSender<T>, Mailbox<T>) {
    let shared = Arc::new(Shared(Mutex::new(State {
        queue: VecDeque::new(),
        senders: 1,
        closed: false,
        waiting: None,
    })));
    (MailboxSender(Arc::clone(&shared)), Mailbox(shared))
}

/// Sends messages to a [`Mailbox`], from any thread; see [`mailbox`].
pub struct MailboxSender<T>(Arc<Shared<T>>);

/// Receives the messages of its [`MailboxSender`]s, in the order they were
/// sent; see [`mailbox`].
pub struct Mailbox<T>(Arc<Shared<T>>);

impl<T> MailboxSender<T> {
    /// Queues `message` and wakes the receiving task.
    ///
    /// # Errors
    ///
    /// `message` itself, handed back, when the [`Mailbox`] is gone.
    pub fn send(&self, message: T) -> Result<(), T> {
        let mut state = self.0.lock();
        if state.closed {
            return Err(message);
        }
        state.queue.push_back(message);
        let waiting = state.waiting.take();
        drop(state);
        if let Some(waker) = waiting {
            waker.wake();
        }
        Ok(())
    }
}

impl<T> Clone for MailboxSender<T> {
    fn clone(&self) -> Self {
        self.0.lock().senders += 1;
        MailboxSender(Arc::clone(&self.0))
    }
}

impl<T> Drop for MailboxSender<T> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.senders -= 1;
        let waiting = (state.senders == 0).then(|| state.waiting.take()).flatten();
        drop(state);
        if let Some(waker) = waiting {
            waker.wake();
        }
    }
}

impl<T> Mailbox<T> {
    /// The next message; `None` once every sender is gone and every
    /// message was received.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            let mut state = self.0.lock();
            if let Some(message) = state.queue.pop_front() {
                return Poll::Ready(Some(message));
            }
            if state.senders == 0 {
                return Poll::Ready(None);
            }
            // Under the lock that `send` takes: a message sent after the
            // check wakes this waker.
            state.waiting = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl<T> Drop for Mailbox<T> {
    fn drop(&mut self) {
        // Sending fails from now on; what is queued is dropped here.
        let queued = {
            let mut state = self.0.lock();
            state.closed = true;
            std::mem::take(&mut state.queue)
        };
        drop(queued);
    }
}

impl<T> fmt::Debug for MailboxSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailboxSender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Mailbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("queued", &self.0.lock().queue.len())
            .finish()
    }
}
