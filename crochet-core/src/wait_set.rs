//! `WaitSet`: many results, handed out one by one as they finish.
//!
//! The set registers once with every pending result; each result, as its
//! outcome is published, pushes its index to the set's ready queue and
//! unparks the thread waiting on the set. A wait pops the queue: it never
//! looks at the results still pending. Handing out n results costs O(n)
//! in all (one registration, one push and one read per result), however
//! many waits it takes.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::context;
use crate::error::{OperationState, WaitError};
use crate::eventual::EventualResult;
use crate::fork::ForkCheck;
use crate::outcome;
use crate::shared::SharedResult;
use crate::sync::deadline_after;
use crate::wait::timed_out;
use crate::waiters::{Party, ReadyQueue};

mod sealed {
    use std::sync::Arc;

    use crate::completion::Completion;
    use crate::outcome::Extract;

    /// Keeps [`WaitHandle`](super::WaitHandle) to crochet's own handles.
    pub trait Sealed {}

    /// What a wait needs of a handle: its cell, and how a wait reads it.
    // Only ever built and read inside crochet; it has nothing to show.
    #[allow(missing_debug_implementations)]
    pub struct Member<'a, T, E> {
        pub(crate) cell: &'a Arc<Completion<T, E>>,
        pub(crate) extract: Extract<T, E>,
    }
}

pub(crate) use sealed::Member;

/// A handle that [`wait_any`](crate::wait_any), [`wait_all`](crate::wait_all)
/// and [`WaitSet`] wait on: an [`EventualResult`] (a wait takes the value)
/// or a [`SharedResult`] (a wait clones it), owned or borrowed.
///
/// Sealed: only crochet's handles implement it.
pub trait WaitHandle: sealed::Sealed {
    /// The value a wait on this handle returns.
    type Output;
    /// The operation's own error ([`WaitError::Failed`]).
    type Error;

    #[doc(hidden)]
    fn member(&self) -> Member<'_, Self::Output, Self::Error>;
}

impl<T, E> sealed::Sealed for EventualResult<T, E> {}

impl<T, E> WaitHandle for EventualResult<T, E> {
    type Output = T;
    type Error = E;

    fn member(&self) -> Member<'_, T, E> {
        Member {
            cell: self.cell(),
            extract: outcome::take,
        }
    }
}

impl<T: Clone, E: Clone> sealed::Sealed for SharedResult<T, E> {}

impl<T: Clone, E: Clone> WaitHandle for SharedResult<T, E> {
    type Output = T;
    type Error = E;

    fn member(&self) -> Member<'_, T, E> {
        Member {
            cell: self.cell(),
            extract: outcome::clone,
        }
    }
}

impl<H: WaitHandle> sealed::Sealed for &H {}

impl<H: WaitHandle> WaitHandle for &H {
    type Output = H::Output;
    type Error = H::Error;

    fn member(&self) -> Member<'_, H::Output, H::Error> {
        (**self).member()
    }
}

/// What one wait on a set's queue found.
pub(crate) enum Next {
    /// The member at this index is published.
    Ready(usize),
    /// Every member was handed out already.
    Exhausted,
    /// The deadline passed first; nothing was taken.
    TimedOut,
}

/// A set of results that hands each one out as it finishes, with its
/// index: the way to drain many results.
///
/// The set owns its handles ([`EventualResult`]s or [`SharedResult`]s, or
/// references to them). It registers once with each pending result; each
/// wait then returns the next result to finish, and never looks at the
/// others, so draining n results costs O(n) in all, where n calls to
/// [`wait_any`](crate::wait_any) cost O(n²). Every member is handed out
/// exactly once, in the order the results finished (those finished already
/// when the set was made come first, in order), read as a wait on its
/// handle reads it: an `EventualResult`'s value is taken (or
/// [`WaitError::AlreadyRetrieved`] if a wait took it before), a
/// `SharedResult`'s is cloned, a failure is reported.
///
/// Dropping the set drops its handles, which cancels nothing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use crochet_core::WaitSet;
/// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
///
/// let mut set: WaitSet<_> = (0..100_u32)
///     .map(|n| reactor.run_in_reactor(move || async move { n * 2 }))
///     .collect();
/// let mut total = 0;
/// while let Some((index, outcome)) = set.wait_next_timeout(Duration::from_secs(5))? {
///     assert_eq!(outcome?, index as u32 * 2);
///     total += 1;
/// }
/// assert_eq!(total, 100);
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
pub struct WaitSet<H: WaitHandle> {
    handles: Vec<H>,
    /// Each member's registration with its result, until its publication
    /// consumes it.
    keys: Vec<Option<u32>>,
    queue: Arc<ReadyQueue>,
    /// Members not yet handed out.
    remaining: usize,
}

// The waits return `(index, outcome)` as `enumerate` would, spelled out:
// an alias would be one more public name to learn.
#[allow(clippy::type_complexity)]
impl<H: WaitHandle> WaitSet<H> {
    /// A set of `handles`, indexed in the order given. Never blocks; fine
    /// on a reactor thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
    /// let shared = reactor.run_in_reactor(|| async { "hi" }).shared();
    /// // Borrowed handles: the set clones each SharedResult's value.
    /// let mut set = crochet_core::WaitSet::new([&shared]);
    /// let (index, outcome) = set.wait_next_timeout(Duration::from_secs(5))?.expect("one member");
    /// assert_eq!((index, outcome?), (0, "hi"));
    /// assert_eq!(shared.wait_timeout(Duration::from_secs(5))?, "hi", "still there for others");
    /// assert!(set.wait_next()?.is_none(), "every member was handed out");
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    pub fn new(handles: impl IntoIterator<Item = H>) -> Self {
        let handles: Vec<H> = handles.into_iter().collect();
        let queue = Arc::new(ReadyQueue::new());
        let keys = handles
            .iter()
            .enumerate()
            .map(|(index, handle)| {
                let party = Party::Ready {
                    queue: Arc::clone(&queue),
                    index,
                };
                let key = handle.member().cell.register(party).unwrap_or_default();
                if key.is_none() {
                    // Published already: ready now. (Or a forked child
                    // whose cell lock is busy: reading it says `Forked`.)
                    queue.push(index);
                }
                key
            })
            .collect();
        WaitSet {
            remaining: handles.len(),
            handles,
            keys,
            queue,
        }
    }

    /// How many members were not handed out yet.
    pub fn len(&self) -> usize {
        self.remaining
    }

    /// Whether every member was handed out (or there were none): every
    /// wait returns `Ok(None)` at once.
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    /// The handles, by index (to cancel one, say).
    pub fn handles(&self) -> &[H] {
        &self.handles
    }

    /// Blocks until another member finishes, and returns its index and
    /// outcome; `Ok(None)` once every member was handed out.
    ///
    /// # Errors
    ///
    /// [`WaitError::WaitInReactor`] at once on a reactor thread, even when a
    /// member is ready (use [`WaitSet::try_next`] there);
    /// [`WaitError::Forked`] before it would park, in a child forked after the
    /// reactor started.
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread without a bound; never call it from async
    /// code. Prefer [`WaitSet::wait_next_timeout`] where a hang would hurt.
    pub fn wait_next(
        &mut self,
    ) -> Result<Option<(usize, Result<H::Output, WaitError<H::Error>>)>, WaitError> {
        self.wait_next_until(None, Duration::MAX)
    }

    /// As [`WaitSet::wait_next`], waiting for at most `timeout`.
    ///
    /// A zero timeout checks once; a timeout too large to represent waits
    /// forever.
    ///
    /// # Errors
    ///
    /// As [`WaitSet::wait_next`], plus [`WaitError::Timeout`] when no member
    /// finished in time: nothing is taken, and a later wait hands out the
    /// member that finishes next.
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread for up to `timeout`.
    pub fn wait_next_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<(usize, Result<H::Output, WaitError<H::Error>>)>, WaitError> {
        self.wait_next_until(deadline_after(timeout), timeout)
    }

    /// As [`WaitSet::wait_next_timeout`], until `deadline` at most.
    ///
    /// # Errors
    ///
    /// As [`WaitSet::wait_next_timeout`].
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread until `deadline`.
    pub fn wait_next_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<(usize, Result<H::Output, WaitError<H::Error>>)>, WaitError> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        self.wait_next_until(Some(deadline), timeout)
    }

    /// The next member that finished, with its index, without blocking;
    /// `None` when none finished since the last one handed out (or none is
    /// left: see [`WaitSet::is_empty`]). Allowed on reactor threads.
    pub fn try_next(&mut self) -> Option<(usize, Result<H::Output, WaitError<H::Error>>)> {
        // `None` too in a forked child whose queue lock a parent thread
        // held: nothing can be handed out there (a wait says `Forked`).
        let index = self.queue.try_pop(self.fork()).ok().flatten()?;
        Some((index, self.take(index)))
    }

    /// The fork check for the set's own queue: the first member's
    /// reactor's. (In a set whose members belong to several reactors, a
    /// member of another one still answers `Forked` as it is read.)
    fn fork(&self) -> &ForkCheck {
        static NO_MEMBERS: ForkCheck = ForkCheck::new();
        self.handles
            .first()
            .map_or(&NO_MEMBERS, |handle| handle.member().cell.fork())
    }

    fn wait_next_until(
        &mut self,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<Option<(usize, Result<H::Output, WaitError<H::Error>>)>, WaitError> {
        let blocking = context::blocking()?;
        match blocking.run(|| self.next_until(deadline))? {
            Next::Ready(index) => Ok(Some((index, self.read(index)))),
            Next::Exhausted => Ok(None),
            Next::TimedOut => Err(self.timed_out(timeout)),
        }
    }

    /// Waits on the queue for the next published member, for a caller that
    /// already asked how it may block, and counts it handed out.
    pub(crate) fn next_until(&mut self, deadline: Option<Instant>) -> Result<Next, WaitError> {
        if self.remaining == 0 {
            return Ok(Next::Exhausted);
        }
        match self.queue.pop_until(deadline, self.fork())? {
            Some(index) => Ok(Next::Ready(self.handed_out(index))),
            None => Ok(Next::TimedOut),
        }
    }

    /// Counts the member at `index` handed out: its registration was
    /// consumed by its publication.
    fn handed_out(&mut self, index: usize) -> usize {
        self.remaining -= 1;
        self.keys[index] = None;
        index
    }

    fn take(&mut self, index: usize) -> Result<H::Output, WaitError<H::Error>> {
        self.handed_out(index);
        self.read(index)
    }

    /// Reads the (published) outcome of the member at `index`, as a wait
    /// on its handle does.
    pub(crate) fn read(&self, index: usize) -> Result<H::Output, WaitError<H::Error>> {
        let member = self.handles[index].member();
        member
            .cell
            .try_read(member.extract)
            .unwrap_or(Err(WaitError::AlreadyRetrieved))
    }

    /// The error of a wait on the set that timed out, counted once (on the
    /// first member's reactor).
    pub(crate) fn timed_out(&self, timeout: Duration) -> WaitError {
        match self.handles.first() {
            Some(first) => timed_out(first.member().cell, timeout),
            None => WaitError::Timeout {
                after: timeout,
                state: OperationState::Running,
            },
        }
    }
}

impl<H: WaitHandle> FromIterator<H> for WaitSet<H> {
    fn from_iter<I: IntoIterator<Item = H>>(handles: I) -> Self {
        WaitSet::new(handles)
    }
}

impl<H: WaitHandle> Drop for WaitSet<H> {
    fn drop(&mut self) {
        // Registrations not consumed yet hold the queue alive in their
        // results: take them back.
        for (handle, key) in self.handles.iter().zip(&self.keys) {
            if let Some(key) = key {
                handle.member().cell.unregister(*key);
            }
        }
    }
}

impl<H: WaitHandle> fmt::Debug for WaitSet<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitSet")
            .field("members", &self.handles.len())
            .field("remaining", &self.remaining)
            .finish()
    }
}
