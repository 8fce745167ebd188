//! Waiting on many results at once: the first to finish, or all of them.
//!
//! Each call makes a [`WaitSet`] of the results for the length of one wait:
//! the calling thread registers once with every pending result and parks
//! once; whichever finishes first unparks it. No thread per result, no
//! polling loop. One call costs O(n) for n results; to drain many results,
//! keep one [`WaitSet`] instead of calling [`wait_any`] again and again
//! (O(n) in all instead of O(n²)).

use std::time::Duration;

use crate::context;
use crate::error::WaitError;
use crate::outcome::Status;
use crate::sync::deadline_after;
use crate::wait_set::{Next, WaitHandle, WaitSet};

/// Blocks for at most `timeout` until one of `results` is decided, and
/// reads its outcome: returns its index in `results` and its outcome, or
/// `None` when there is nothing left to wait for.
///
/// `results` is any iterator of borrowed handles (`&results`,
/// `results.iter()`, `[&a, &b]`): [`EventualResult`]s (the value is taken)
/// or [`SharedResult`]s (the value is cloned). Borrowed, so that the
/// results not handed out stay with the caller (a [`WaitSet`] owns its
/// handles instead).
///
/// Results that a wait already read (a value taken, a failure reported; for
/// a `SharedResult`, a wait on any of its clones) are skipped, so calling
/// it again on the same results gets the next one to finish, and `None`
/// once every one was read. When several are decided already, the first in
/// `results` wins.
///
/// Each call looks at every result (O(n)); to drain many results, use a
/// [`WaitSet`], which does O(n) work in all.
///
/// [`EventualResult`]: crate::EventualResult
/// [`SharedResult`]: crate::SharedResult
///
/// # Errors
///
/// [`WaitError::Timeout`] when none is decided in time (nothing is read);
/// [`WaitError::WaitInReactor`] at once on a reactor thread (even when one is
/// decided, or `results` is empty); [`WaitError::Forked`] before it would park,
/// in a child forked after the reactor started. `Ok(None)` is not an error:
/// `results` is empty, or every one was read before.
///
/// # Blocking
///
/// Blocks the calling thread for up to `timeout`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
/// let results = vec![
///     reactor.run_in_reactor(std::future::pending::<&str>),
///     reactor.run_in_reactor(|| async { "fast" }),
/// ];
/// let first = crochet_core::wait_any(Duration::from_secs(5), &results)?;
/// let (index, outcome) = first.expect("two results to wait for");
/// assert_eq!((index, outcome?), (1, "fast"));
///
/// let nothing: [crochet_core::EventualResult<()>; 0] = [];
/// assert!(crochet_core::wait_any(Duration::from_secs(5), &nothing)?.is_none());
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[allow(clippy::type_complexity)] // spelled out: an alias is one more public name to learn
pub fn wait_any<'a, I, H>(
    timeout: Duration,
    results: I,
) -> Result<Option<(usize, Result<H::Output, WaitError<H::Error>>)>, WaitError>
where
    I: IntoIterator<Item = &'a H>,
    H: WaitHandle + 'a,
{
    let blocking = context::blocking()?;
    let deadline = deadline_after(timeout);
    let handles: Vec<&H> = results.into_iter().collect();
    // Decided already: the first in order wins. The status is read without
    // a lock; only published results not taken are locked.
    for (index, handle) in handles.iter().enumerate() {
        let member = handle.member();
        let status = member.cell.status();
        if status.is_published() && status != Status::Taken {
            if let Some(outcome) = member.cell.try_read_unobserved(member.extract) {
                return Ok(Some((index, outcome)));
            }
        }
    }
    let mut set = WaitSet::new(handles);
    blocking.run(|| {
        loop {
            match set.next_until(deadline)? {
                Next::Ready(index) => {
                    // Skipped if another wait read it first.
                    let member = set.handles()[index].member();
                    if let Some(outcome) = member.cell.try_read_unobserved(member.extract) {
                        return Ok(Some((index, outcome)));
                    }
                }
                Next::Exhausted => return Ok(None),
                Next::TimedOut => return Err(set.timed_out(timeout)),
            }
        }
    })
}

/// Blocks for at most `timeout` until every one of `results` is decided,
/// then reads every outcome, in order. An empty `results` gives an empty
/// `Vec` at once.
///
/// `results` is any iterator of handles, as for [`wait_any`].
///
/// # Errors
///
/// [`WaitError::Timeout`] when not all are decided in time: nothing is read,
/// and they stay waitable; [`WaitError::WaitInReactor`] at once on a reactor
/// thread; [`WaitError::Forked`] before it would park, in a child forked after
/// the reactor started. An `EventualResult` whose value was taken before
/// has [`WaitError::AlreadyRetrieved`] as its outcome.
///
/// # Blocking
///
/// Blocks the calling thread for up to `timeout`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
/// let results: Vec<_> = (1..=3).map(|n| reactor.run_in_reactor(move || async move { n * 10 })).collect();
/// let all = crochet_core::wait_all(Duration::from_secs(5), &results)?;
/// let values: Vec<u32> = all.into_iter().collect::<Result<_, _>>()?;
/// assert_eq!(values, [10, 20, 30]);
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[allow(clippy::type_complexity)] // as for `wait_any`
pub fn wait_all<I>(
    timeout: Duration,
    results: I,
) -> Result<
    Vec<Result<<I::Item as WaitHandle>::Output, WaitError<<I::Item as WaitHandle>::Error>>>,
    WaitError,
>
where
    I: IntoIterator,
    I::Item: WaitHandle,
{
    let blocking = context::blocking()?;
    let deadline = deadline_after(timeout);
    let mut set = WaitSet::new(results);
    // Counts the results as they finish, reading none, so that a timeout
    // leaves every one as it was.
    let all_decided = blocking.run(|| {
        loop {
            match set.next_until(deadline)? {
                Next::Ready(_) => {}
                Next::Exhausted => return Ok(true),
                Next::TimedOut => return Ok::<_, WaitError>(false),
            }
        }
    })?;
    if !all_decided {
        return Err(set.timed_out(timeout));
    }
    Ok((0..set.handles().len())
        .map(|index| set.read(index))
        .collect())
}
