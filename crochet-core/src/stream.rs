//! `EventualStream`: an async stream running in the reactor, consumed by a
//! blocking thread as an iterator.
//!
//! The reactor side (the producer: an operation like any other) polls the
//! stream into a bounded buffer and stops polling while it is full
//! (backpressure); the blocking side takes items out, waking the producer
//! when it makes room. A timeout loses nothing: the item that arrives
//! later is the next one taken.
//!
//! The stream ends when its producer's outcome is published: the reader
//! listens to the producer's cell like any async waiter (a waker in its
//! waiter list, see the `completion` module's rules), so it hears a
//! cancel, a panic or a shutdown only after the stream was dropped, and
//! shutdown reaches it as it reaches every wait. Reading parks in the one
//! park loop of every blocking wait, with its fork check.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::iter::FusedIterator;
use std::pin::pin;
use std::sync::{Arc, PoisonError};
use std::task::{Poll, Wake, Waker};
use std::time::{Duration, Instant};

use futures_core::Stream;

use crate::context;
use crate::error::{TryNextError, WaitError};
use crate::eventual::EventualResult;
use crate::fork::{self, ForkCheck};
use crate::sync::{self, Mutex, MutexGuard, Thread, deadline_after};
use crate::wait::timed_out;
use crate::waiters::{Party, block_listening};

/// How many items a stream buffers by default before it stops polling.
pub const DEFAULT_STREAM_BUFFER: usize = 16;

struct State<T> {
    buffer: VecDeque<T>,
    capacity: usize,
    /// The stream returned `None`.
    finished: bool,
    /// The producer's outcome is published: nothing more arrives.
    ended: bool,
    /// Cancelled: the producer stops, and what is buffered is discarded.
    abandoned: bool,
    /// The producer, waiting for room in the buffer.
    producer: Option<Waker>,
    /// The reader, parked waiting for an item or the end.
    reader: Option<Thread>,
}

/// What the producer and the reader share.
pub(crate) struct Shared<T> {
    state: Mutex<State<T>>,
}

impl<T> Shared<T> {
    /// A stream's shared state, with room for `capacity` items (at least
    /// one).
    pub(crate) fn new(capacity: usize) -> Arc<Self> {
        let capacity = capacity.max(1);
        Arc::new(Shared {
            state: Mutex::new(State {
                buffer: VecDeque::with_capacity(capacity.min(1024)),
                capacity,
                finished: false,
                ended: false,
                abandoned: false,
                producer: None,
                reader: None,
            }),
        })
    }

    /// The lock, for the reader, which may run in a forked child.
    fn lock(&self, fork: &ForkCheck) -> Result<MutexGuard<'_, State<T>>, WaitError> {
        fork::lock(&self.state, fork)
    }

    /// The lock, for the producer: a reactor thread.
    fn lock_to_produce(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the end and unparks the reader.
    fn end(&self) {
        let mut state = self.lock_to_produce();
        state.ended = true;
        let reader = state.reader.take();
        drop(state);
        if let Some(reader) = reader {
            reader.unpark();
        }
    }
}

/// The producer's outcome is published: the waker the stream keeps in the
/// producer's waiter list.
impl<T: Send> Wake for Shared<T> {
    fn wake(self: Arc<Self>) {
        self.end();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.end();
    }
}

/// The producer: polls the stream while there is room, waits while the
/// buffer is full, and returns when the stream ends or the handle is
/// abandoned (its operation then drops the stream, and publishes).
pub(crate) async fn drive<S: Stream>(stream: S, shared: &Shared<S::Item>) {
    let mut stream = pin!(stream);
    poll_fn(|cx| {
        loop {
            {
                let mut state = shared.lock_to_produce();
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
                    let mut state = shared.lock_to_produce();
                    if state.abandoned {
                        // Cancelled while the item was being made: nobody
                        // reads it any more.
                        drop(state);
                        drop(item);
                        return Poll::Ready(());
                    }
                    state.buffer.push_back(item);
                    let reader = state.reader.take();
                    drop(state);
                    if let Some(reader) = reader {
                        reader.unpark();
                    }
                }
                Poll::Ready(None) => {
                    shared.lock_to_produce().finished = true;
                    return Poll::Ready(());
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;
}

/// What a read finds.
enum Found<T> {
    Item(T),
    /// The producer ended; `finished` when the stream ran to its end.
    End {
        finished: bool,
    },
}

/// Looks for the next item or the end; with `listen`, leaves the calling
/// thread registered to be unparked when neither is there.
fn find<T>(
    shared: &Shared<T>,
    fork: &ForkCheck,
    listen: bool,
) -> Result<Option<Found<T>>, WaitError> {
    let mut state = shared.lock(fork)?;
    // A cancelled stream yields nothing more, only its end.
    if let Some(item) = (!state.abandoned)
        .then(|| state.buffer.pop_front())
        .flatten()
    {
        // Room now: wake the producer, outside the lock.
        let producer = state.producer.take();
        drop(state);
        if let Some(producer) = producer {
            producer.wake();
        }
        return Ok(Some(Found::Item(item)));
    }
    if state.ended {
        return Ok(Some(Found::End {
            finished: state.finished,
        }));
    }
    if listen {
        state.reader = Some(sync::current());
    }
    Ok(None)
}

/// A stream running in the reactor, read from a blocking thread: an
/// [`Iterator`] of `Result<T, WaitError>`, with
/// [`EventualStream::next_timeout`] and [`EventualStream::next_deadline`]
/// for a bounded wait, and [`EventualStream::try_next`] for none.
///
/// Made by [`Reactor::stream_in_reactor`](crate::Reactor::stream_in_reactor). The stream is polled on a
/// reactor thread into a bounded buffer, and not polled while the buffer is
/// full. The iterator yields each item as `Ok`; if the stream panics, or is
/// cancelled or stopped, it yields that error once and then ends. Dropping
/// the handle drops the stream, on the reactor. The iterator is fused:
/// after its end, `next` keeps returning `None`.
///
/// The stream's end is its producer's, the operation that polls it: a
/// read hears a cancel, a panic or a shutdown only once the stream has
/// been dropped on the reactor, and a shutdown whose bound runs out ends a
/// blocked read as it ends any wait.
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
    /// The stream's registration in its producer's waiter list.
    listening: Option<u32>,
    /// The end (or error) was already yielded.
    done: bool,
}

impl<T: Send + 'static> EventualStream<T> {
    /// The reader's side of a stream whose producer is `producer`: it
    /// listens to the producer's end.
    pub(crate) fn new(shared: Arc<Shared<T>>, producer: EventualResult<()>) -> Self {
        let listener = Party::Task(Waker::from(Arc::clone(&shared)));
        // A forked child whose cell lock is busy registers nothing.
        let listening = producer.cell().register(listener).unwrap_or_default();
        if listening.is_none() {
            // Ended already (refused at once), or a forked child: a read
            // finds the producer's outcome.
            shared.end();
        }
        EventualStream {
            shared,
            producer,
            listening,
            done: false,
        }
    }
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
        self.next_until(deadline_after(timeout), timeout)
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
        if self.done {
            return Err(TryNextError::Ended);
        }
        let found = find(&self.shared, self.producer.cell().fork(), false);
        match found {
            Ok(Some(Found::Item(item))) => Ok(item),
            Ok(Some(Found::End { finished })) => match self.end(finished) {
                Ok(_) => Err(TryNextError::Ended),
                Err(error) => Err(TryNextError::Failed(error)),
            },
            Ok(None) => Err(TryNextError::Empty),
            Err(forked) => Err(TryNextError::Failed(forked)),
        }
    }

    fn next_until(
        &mut self,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<Option<T>, WaitError> {
        if self.done {
            return Ok(None);
        }
        let fork = self.producer.cell().fork();
        // What is there already is read on any thread: only a read that
        // would wait is refused on a reactor thread.
        let found = match find(&self.shared, fork, false)? {
            Some(found) => Some(found),
            None => context::blocking()?.run(|| {
                let check = || find(&self.shared, fork, true);
                let unlisten = || {
                    if let Ok(mut state) = self.shared.lock(fork) {
                        state.reader = None;
                    }
                };
                block_listening(deadline, fork, check, unlisten)
            })?,
        };
        match found {
            Some(Found::Item(item)) => Ok(Some(item)),
            Some(Found::End { finished }) => self.end(finished),
            None => Err(timed_out(self.producer.cell(), timeout)),
        }
    }

    /// The end, once the buffer is drained and the producer's outcome is
    /// published: `None` after the stream's own end, else the error that
    /// ended it. Yielded once; the iterator is fused after it.
    fn end(&mut self, finished: bool) -> Result<Option<T>, WaitError> {
        self.done = true;
        if finished {
            return Ok(None);
        }
        match self.producer.try_result() {
            Some(Ok(())) => Ok(None),
            Some(Err(error)) => Err(error),
            // Published, since it ended: never here.
            None => Err(WaitError::ReactorStopped),
        }
    }

    /// Stops the stream: it is dropped on the reactor, items not yet read
    /// are discarded, and the next read returns [`WaitError::Cancelled`]
    /// once the stream is dropped. Idempotent; callable from any thread;
    /// never blocks. Returns whether this call cancelled it (`false` once
    /// it had ended or was cancelled).
    pub fn cancel(&self) -> bool {
        // The producer's end is requested first: a producer that sees the
        // stream abandoned must not end it as finished instead.
        let cancelled = self.producer.cancel();
        let discarded = match self.shared.lock(self.producer.cell().fork()) {
            Ok(mut state) => {
                state.abandoned = true;
                std::mem::take(&mut state.buffer)
            }
            Err(_forked) => VecDeque::new(),
        };
        // Dropped outside the lock: user destructors.
        drop(discarded);
        cancelled
    }

    /// How many items are buffered, ready to be read without waiting.
    pub fn buffered(&self) -> usize {
        self.shared
            .lock(self.producer.cell().fork())
            .map_or(0, |state| state.buffer.len())
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
        if let Some(key) = self.listening {
            self.producer.cell().unregister(key);
        }
    }
}

impl<T> fmt::Debug for EventualStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("EventualStream");
        // Never blocks: a busy lock shows as such.
        match self.shared.state.try_lock() {
            Ok(state) => out
                .field("buffered", &state.buffer.len())
                .field("capacity", &state.capacity)
                .field("finished", &state.finished)
                .field("ended", &state.ended),
            Err(_) => out.field("state", &format_args!("locked")),
        };
        out.field("producer", &self.producer).finish()
    }
}
