//! Waiting on many results at once: the first to finish, or all of them.
//!
//! The calling thread registers itself with every pending result and parks
//! once; whichever decides first unparks it. No thread per result, no
//! polling loop.

use std::time::{Duration, Instant};

use crate::completion::{self, Status};
use crate::context;
use crate::error::WaitError;
use crate::eventual::EventualResult;
use crate::sync;

/// Blocks until one of `results` is decided, for at most `timeout`, and
/// takes its outcome: returns its index in `results` and its outcome.
///
/// Results that a wait already read (a value taken, a failure reported)
/// are skipped, so calling it again on the same slice gets the next one to
/// finish. When several are decided
/// already, the first in `results` wins.
///
/// # Errors
///
/// [`WaitError::Timeout`] when none is decided in time (nothing is taken);
/// [`WaitError::AlreadyRetrieved`] when every result was already taken (or
/// `results` is empty); [`WaitError::WaitInReactor`] on a reactor thread.
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
/// let (index, outcome) = crochet_core::wait_any(&results, Duration::from_secs(5))?;
/// assert_eq!((index, outcome?), (1, "fast"));
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
pub fn wait_any<T, E>(
    results: &[EventualResult<T, E>],
    timeout: Duration,
) -> Result<(usize, Result<T, WaitError<E>>), WaitError<E>> {
    let blocking = context::blocking().map_err(WaitError::widen)?;
    let deadline = completion::deadline_after(timeout);
    blocking.run(|| wait_any_blocking(results, deadline, timeout))
}

fn wait_any_blocking<T, E>(
    results: &[EventualResult<T, E>],
    deadline: Option<Instant>,
    timeout: Duration,
) -> Result<(usize, Result<T, WaitError<E>>), WaitError<E>> {
    loop {
        let mut candidates = 0;
        for (index, result) in results.iter().enumerate() {
            match result.cell().status() {
                Status::Taken => {}
                status if !status.is_published() => candidates += 1,
                // Published and not yet read by any wait: take it, unless
                // another thread just read it (then it is out of the
                // running).
                _ => {
                    if let Some(outcome) = result.cell().try_read_unobserved(completion::take) {
                        return Ok((index, outcome));
                    }
                }
            }
        }
        if candidates == 0 {
            return Err(WaitError::AlreadyRetrieved);
        }
        // Results read before are published too, but are not what we wait
        // for.
        let one_to_take = || results.iter().any(|result| result.cell().is_unobserved());
        if !park_until(results, deadline, one_to_take) {
            return Err(timeout_error(results, timeout));
        }
    }
}

/// Blocks until every one of `results` is decided, for at most `timeout`,
/// then takes every outcome, in order.
///
/// # Errors
///
/// [`WaitError::Timeout`] when not all are decided in time: nothing is taken,
/// and they stay waitable; [`WaitError::WaitInReactor`] on a reactor thread. A
/// result already taken before has [`WaitError::AlreadyRetrieved`] as its
/// outcome.
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
/// let all = crochet_core::wait_all(&results, Duration::from_secs(5))?;
/// let values: Vec<u32> = all.into_iter().collect::<Result<_, _>>()?;
/// assert_eq!(values, [10, 20, 30]);
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
pub fn wait_all<T, E>(
    results: &[EventualResult<T, E>],
    timeout: Duration,
) -> Result<Vec<Result<T, WaitError<E>>>, WaitError<E>> {
    let blocking = context::blocking().map_err(WaitError::widen)?;
    let deadline = completion::deadline_after(timeout);
    if !blocking.run(|| park_until(results, deadline, || all_decided(results))) {
        return Err(timeout_error(results, timeout));
    }
    Ok(results
        .iter()
        .map(|result| {
            result
                .cell()
                .try_read(completion::take)
                .unwrap_or(Err(WaitError::AlreadyRetrieved))
        })
        .collect())
}

fn all_decided<T, E>(results: &[EventualResult<T, E>]) -> bool {
    results.iter().all(|result| result.cell().is_done())
}

/// Registers with every pending result, parks until `ready()` or the
/// deadline, and unregisters. Returns `false` on timeout.
fn park_until<T, E>(
    results: &[EventualResult<T, E>],
    deadline: Option<Instant>,
    ready: impl Fn() -> bool,
) -> bool {
    // Register first, then check: a decision after the check unparks us,
    // and the park token absorbs one that lands before we park.
    let keys: Vec<Option<u32>> = results
        .iter()
        .map(|result| result.cell().register_thread())
        .collect();
    let reached = loop {
        if ready() {
            break true;
        }
        match deadline {
            None => sync::park(),
            Some(deadline) => {
                let now = sync::now();
                if now >= deadline {
                    break false;
                }
                sync::park_timeout(deadline - now);
            }
        }
    };
    for (result, key) in results.iter().zip(keys) {
        if let Some(key) = key {
            result.cell().unregister_thread(key);
        }
    }
    reached
}

fn timeout_error<T, E>(results: &[EventualResult<T, E>], timeout: Duration) -> WaitError<E> {
    // One wait timed out, counted once (on the first result's reactor).
    if let Some(first) = results.first() {
        first.cell().note_timed_out_wait();
    }
    WaitError::Timeout {
        after: timeout,
        cancelled: false,
    }
}
