//! `EventualStream`: an async stream running in the reactor, consumed by a
//! blocking thread as an iterator.
//!
//! The reactor side polls the stream into a bounded buffer and stops
//! polling while it is full (backpressure); the blocking side takes items
//! out, waking the reactor side when it makes room. A timeout loses
//! nothing: the item that arrives later is the next one taken.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::iter::FusedIterator;
use std::panic::Location;
use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use futures_core::Stream;

use crate::context;
use crate::error::{TryNextError, WaitError};
use crate::eventual::EventualResult;
use crate::reactor::Reactor;
use crate::task::Decided;

/// How long a reader waits for the reactor side's outcome once it closed.
const ENDING_GRACE: Duration = Duration::from_secs(5);

/// How many items a stream buffers by default before it stops polling.
pub const DEFAULT_STREAM_BUFFER: usize = 16;

struct State<T> {
    buffer: VecDeque<T>,
    capacity: usize,
    /// The stream returned `None`.
    finished: bool,
    /// The reactor side is gone (finished, failed, cancelled or stopped).
    closed: bool,
    /// The handle is gone, or cancelled: stop polling.
    abandoned: bool,
    /// The reactor side, waiting for room in the buffer.
    producer: Option<Waker>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled when an item arrives or the reactor side closes.
    changed: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Marks the reactor side closed when dropped: when the stream ends, and
/// equally when its future is dropped by a panic, a cancel or shutdown.
struct CloseOnDrop<T>(Arc<Shared<T>>);

impl<T> Drop for CloseOnDrop<T> {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.changed.notify_all();
    }
}

/// A stream running in the reactor, read from a blocking thread: an
/// [`Iterator`] of `Result<T, WaitError>`, with
/// [`EventualStream::next_timeout`] and [`EventualStream::next_deadline`]
/// for a bounded wait, and [`EventualStream::try_next`] for none.
///
/// Made by [`Reactor::stream_in_reactor`]. The stream is polled on a
/// reactor thread into a bounded buffer, and not polled while the buffer is
/// full. The iterator yields each item as `Ok`; if the stream panics, or is
/// cancelled or stopped, it yields that error once and then ends. Dropping
/// the handle drops the stream, on the reactor. The iterator is fused:
/// after its end, `next` keeps returning `None`.
///
/// A read that finds an item buffered (or the end) returns it on any
/// thread; a read that would wait is refused on a reactor thread with
/// [`WaitError::WaitInReactor`], as waits are. [`EventualStream::try_next`]
/// never waits.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
///
/// let numbers = reactor.stream_in_reactor(|| futures_lite::stream::iter(1..=3));
/// let collected: Vec<u32> = numbers.collect::<Result<_, _>>()?;
/// assert_eq!(collected, [1, 2, 3]);
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[must_use = "a stream runs until its handle is dropped; read it or drop it"]
pub struct EventualStream<T> {
    shared: Arc<Shared<T>>,
    producer: EventualResult<()>,
    /// The end (or error) was already yielded.
    done: bool,
}

impl Reactor {
    /// Runs the stream that `f` builds in the reactor, buffering up to
    /// [`DEFAULT_STREAM_BUFFER`] items, and returns a blocking handle to
    /// it at once. See [`EventualStream`].
    #[track_caller]
    pub fn stream_in_reactor<F, S>(&self, f: F) -> EventualStream<S::Item>
    where
        F: FnOnce() -> S + Send + 'static,
        S: Stream + Send + 'static,
        S::Item: Send + 'static,
    {
        self.stream_in_reactor_buffered(DEFAULT_STREAM_BUFFER, f)
    }

    /// As [`Reactor::stream_in_reactor`], with a buffer of `capacity`
    /// items (at least one).
    #[track_caller]
    pub fn stream_in_reactor_buffered<F, S>(&self, capacity: usize, f: F) -> EventualStream<S::Item>
    where
        F: FnOnce() -> S + Send + 'static,
        S: Stream + Send + 'static,
        S::Item: Send + 'static,
    {
        let capacity = capacity.max(1);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                buffer: VecDeque::with_capacity(capacity.min(1024)),
                capacity,
                finished: false,
                closed: false,
                abandoned: false,
                producer: None,
            }),
            changed: Condvar::new(),
        });
        // Made here, so that the reactor side closes even if `f` is never
        // called (shutdown) or panics.
        let closing = CloseOnDrop(Arc::clone(&shared));
        let producer = self.submit_as::<F, Decided, _, _, _, _>(
            move || {
                let stream = f();
                async move {
                    let shared = Arc::clone(&closing.0);
                    drive(stream, &shared).await;
                    drop(closing);
                    Ok(())
                }
            },
            Location::caller(),
        );
        EventualStream {
            shared,
            producer,
            done: false,
        }
    }
}

/// The reactor side: poll the stream while there is room, park while the
/// buffer is full, stop when the stream ends or the handle is abandoned.
async fn drive<S: Stream>(stream: S, shared: &Shared<S::Item>) {
    let mut stream = pin!(stream);
    poll_fn(|cx| {
        loop {
            {
                let mut state = shared.lock();
                if state.abandoned {
                    return Poll::Ready(());
                }
                if state.buffer.len() >= state.capacity {
                    state.producer = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
            // Polled outside the lock; only this side adds items, so the room
            // seen above is still there.
            match stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    let mut state = shared.lock();
                    if state.abandoned {
                        // Cancelled while the item was being made: nobody
                        // reads it any more.
                        drop(state);
                        drop(item);
                        return Poll::Ready(());
                    }
                    state.buffer.push_back(item);
                    drop(state);
                    shared.changed.notify_one();
                }
                Poll::Ready(None) => {
                    shared.lock().finished = true;
                    return Poll::Ready(());
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;
}

impl<T> EventualStream<T> {
    /// The next item, waiting for at most `timeout`: `Ok(Some(item))`,
    /// `Ok(None)` once the stream has ended.
    ///
    /// A zero timeout checks once; a timeout too large to represent waits
    /// forever.
    ///
    /// # Errors
    ///
    /// [`WaitError::Timeout`] when no item arrived in time (nothing is lost:
    /// the next call gets it); the error that ended the stream
    /// ([`WaitError::Panicked`], [`WaitError::Cancelled`],
    /// [`WaitError::ReactorStopped`]), once; [`WaitError::WaitInReactor`] on a
    /// reactor thread when no item is buffered (a buffered item is
    /// returned there too).
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread for up to `timeout`; never call it from
    /// async code.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<T>, WaitError> {
        let deadline = crate::completion::deadline_after(timeout);
        self.next_until(deadline, timeout)
    }

    /// As [`EventualStream::next_timeout`], until `deadline` at most.
    ///
    /// # Errors
    ///
    /// As [`EventualStream::next_timeout`].
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread until `deadline`; never call it from
    /// async code.
    pub fn next_deadline(&mut self, deadline: Instant) -> Result<Option<T>, WaitError> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        self.next_until(Some(deadline), timeout)
    }

    /// The next item if one is buffered, without blocking; on any thread,
    /// reactor threads included.
    ///
    /// Modelled on [`std::sync::mpsc::Receiver::try_recv`]: what
    /// [`Iterator::next`] would return, without waiting for it.
    ///
    /// # Errors
    ///
    /// [`TryNextError::Empty`] when no item is buffered and the stream
    /// runs on (nothing is lost: a later read gets the next item);
    /// [`TryNextError::Failed`] with the error that ended the stream
    /// ([`WaitError::Panicked`], [`WaitError::Cancelled`],
    /// [`WaitError::ReactorStopped`]), once; then, and once a stream that
    /// finished is drained, [`TryNextError::Ended`], on every call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use crochet_core::TryNextError;
    /// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
    ///
    /// let mut numbers = reactor.stream_in_reactor(|| futures_lite::stream::iter([1, 2]));
    /// let mut read = Vec::new();
    /// loop {
    ///     match numbers.try_next() {
    ///         Ok(number) => read.push(number),
    ///         Err(TryNextError::Empty) => std::thread::sleep(Duration::from_millis(1)),
    ///         Err(TryNextError::Ended) => break,
    ///         Err(TryNextError::Failed(error)) => return Err(error.into()),
    ///     }
    /// }
    /// assert_eq!(read, [1, 2]);
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    pub fn try_next(&mut self) -> Result<T, TryNextError> {
        match self.read_now() {
            Some(Ok(Some(item))) => Ok(item),
            Some(Ok(None)) => Err(TryNextError::Ended),
            Some(Err(error)) => Err(TryNextError::Failed(error)),
            None => Err(TryNextError::Empty),
        }
    }

    fn next_until(
        &mut self,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<Option<T>, WaitError> {
        // What is there already is read on any thread: only a read that
        // would wait is refused on a reactor thread.
        if let Some(read) = self.read_now() {
            return read;
        }
        context::blocking()?.run(|| self.read_until(deadline, timeout))
    }

    /// What a read returns without waiting: a buffered item, or the end
    /// once the buffer is drained and the reactor side's outcome is
    /// decided; `None` when a read would have to wait.
    fn read_now(&mut self) -> Option<Result<Option<T>, WaitError>> {
        if self.done {
            return Some(Ok(None));
        }
        let state = match Self::pop(self.shared.lock()) {
            Ok(item) => return Some(Ok(Some(item))),
            Err(state) => state,
        };
        if !state.closed {
            return None;
        }
        let finished = state.finished;
        drop(state);
        let ending = if finished {
            Ok(None)
        } else {
            // Closed just before its outcome is decided (see `ending`):
            // not decided yet is a read that would wait.
            self.producer.try_result()?.map(|()| None)
        };
        self.done = true;
        Some(ending)
    }

    /// Takes the next buffered item, if any, releases the lock and wakes
    /// the reactor side, for which there is room now; or gives the lock
    /// back. A cancelled stream yields nothing more, only its end.
    fn pop(mut state: MutexGuard<'_, State<T>>) -> Result<T, MutexGuard<'_, State<T>>> {
        let next = if state.abandoned {
            None
        } else {
            state.buffer.pop_front()
        };
        let Some(item) = next else {
            return Err(state);
        };
        let producer = state.producer.take();
        drop(state);
        if let Some(producer) = producer {
            producer.wake();
        }
        Ok(item)
    }

    fn read_until(
        &mut self,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<Option<T>, WaitError> {
        let mut state = self.shared.lock();
        loop {
            state = match Self::pop(state) {
                Ok(item) => return Ok(Some(item)),
                Err(state) => state,
            };
            if state.closed {
                let finished = state.finished;
                drop(state);
                self.done = true;
                return self.ending(finished);
            }
            state = match deadline {
                None => self
                    .shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        self.producer.cell().note_timed_out_wait();
                        return Err(WaitError::Timeout {
                            after: timeout,
                            cancelled: false,
                        });
                    }
                    self.shared
                        .changed
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    /// How the reactor side ended, once its buffer is drained.
    fn ending(&self, finished: bool) -> Result<Option<T>, WaitError> {
        if finished {
            return Ok(None);
        }
        // The reactor side closes as its future is dropped, which can come
        // just before its result is decided: a panic unwinding through the
        // stream drops it first, and so does a runtime dropping the task.
        // The decision follows at once; the bound is only a safeguard.
        match self.producer.wait_timeout(ENDING_GRACE) {
            Ok(()) => Ok(None),
            Err(WaitError::Timeout { .. }) => Err(WaitError::ReactorStopped),
            Err(error) => Err(error),
        }
    }

    /// Stops the stream: it is dropped on the reactor, items not yet read
    /// are discarded, and the next read returns [`WaitError::Cancelled`].
    /// Idempotent; callable from any thread. Returns whether this call
    /// cancelled it (`false` once it had ended or was cancelled).
    pub fn cancel(&self) -> bool {
        // The producer's end is decided first: a reactor side that sees the
        // stream abandoned must not end it as finished instead.
        let cancelled = self.producer.cancel();
        let discarded = {
            let mut state = self.shared.lock();
            state.abandoned = true;
            std::mem::take(&mut state.buffer)
        };
        // Dropped outside the lock: user destructors.
        drop(discarded);
        cancelled
    }

    /// How many items are buffered, ready to be read without waiting.
    pub fn buffered(&self) -> usize {
        self.shared.lock().buffer.len()
    }
}

impl<T> Iterator for EventualStream<T> {
    type Item = Result<T, WaitError>;

    /// The next item, waiting as long as it takes.
    ///
    /// # Blocking
    ///
    /// Blocks without a bound: use [`EventualStream::next_timeout`] where
    /// a hang would hurt.
    fn next(&mut self) -> Option<Self::Item> {
        self.next_until(None, Duration::MAX).transpose()
    }
}

/// After the end (or the error that ended the stream), `next` returns
/// `None` on every call.
impl<T> FusedIterator for EventualStream<T> {}

impl<T> Drop for EventualStream<T> {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl<T> fmt::Debug for EventualStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("EventualStream")
            .field("buffered", &state.buffer.len())
            .field("capacity", &state.capacity)
            .field("finished", &state.finished)
            .field("closed", &state.closed)
            .field("producer", &self.producer)
            .finish()
    }
}
