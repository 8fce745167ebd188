//! Periodic tasks: run now, then every period, in the reactor. Crochet's
//! counterpart of Twisted's `LoopingCall`.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Failure, Unsupported, WaitError};
use crate::eventual::EventualResult;
use crate::panic::{self, Panic};
use crate::reactor::Reactor;
use crate::registry::Config;
use crate::report::{self, Origin};
use crate::task::Decided;

/// The shortest period: faster ticks would starve the reactor.
pub const MIN_PERIOD: Duration = Duration::from_millis(1);

/// What a periodic tick may return: `()`, or `Result<(), E>` whose error is
/// logged.
pub trait TickOutcome: Send + 'static {
    /// The tick's failure, if it failed.
    fn into_failure(self) -> Option<Box<dyn StdError + Send + Sync + 'static>>;
}

impl TickOutcome for () {
    fn into_failure(self) -> Option<Box<dyn StdError + Send + Sync + 'static>> {
        None
    }
}

impl<E> TickOutcome for Result<(), E>
where
    E: Into<Box<dyn StdError + Send + Sync + 'static>> + Send + 'static,
{
    fn into_failure(self) -> Option<Box<dyn StdError + Send + Sync + 'static>> {
        self.err().map(Into::into)
    }
}

/// A task running in the reactor every period, made by
/// [`Reactor::every`].
///
/// Dropping it stops the task (as [`Periodic::stop`] does); call
/// [`Periodic::detach`] to let it run until the reactor shuts down.
#[must_use = "dropping a Periodic stops it; call detach() to keep it running"]
pub struct Periodic {
    /// The loop's own result; `None` once detached.
    looping: Option<EventualResult<()>>,
    ticks: Arc<AtomicU64>,
}

impl Periodic {
    /// Stops the task: the tick in progress, if any, is dropped, and no
    /// other starts. Synchronous and idempotent; callable from any thread.
    /// Returns whether this call stopped it.
    pub fn stop(&self) -> bool {
        self.looping.as_ref().is_some_and(EventualResult::cancel)
    }

    /// Whether the task is still scheduled (not stopped, not ended by a
    /// reactor shutdown or a backend without a timer).
    pub fn is_running(&self) -> bool {
        self.looping
            .as_ref()
            .is_some_and(|looping| !looping.is_ready())
    }

    /// How many ticks have finished, failed ones included.
    pub fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Acquire)
    }

    /// How the task ended, if it has: [`WaitError::Cancelled`] after
    /// [`Periodic::stop`], [`WaitError::ReactorStopped`] after shutdown,
    /// [`WaitError::Unsupported`] on a backend without a timer. A getter: every
    /// call gives the same answer.
    pub fn ended(&self) -> Option<WaitError> {
        let looping = self.looping.as_ref()?;
        if !looping.is_ready() {
            return None;
        }
        looping.try_result().and_then(Result::err)
    }

    /// Lets the task run until the reactor shuts down, with no handle.
    pub fn detach(mut self) {
        // Dropping the loop's result does not cancel it.
        drop(self.looping.take());
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Periodic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Periodic")
            .field("running", &self.is_running())
            .field("ticks", &self.ticks())
            .finish()
    }
}

impl Reactor {
    /// Runs `tick` in the reactor now, then every `period`, until the
    /// returned [`Periodic`] is stopped or dropped, or the reactor shuts
    /// down: Twisted's `LoopingCall`, on whichever backend runs.
    ///
    /// Each call of `tick` runs on a reactor thread, after the previous
    /// tick has finished. A tick that fails (returns `Err`) or panics is an
    /// unobserved failure: it goes to the failure hook (see
    /// [`Reactor::set_failure_hook`]), or is logged at error level (target
    /// `crochet`); the task goes on with the next tick. A `period` too long
    /// for the clock means the first tick is the only one. Ticks that would have started while one was still
    /// running are skipped, not queued: after a slow tick the schedule
    /// resumes at the next multiple of `period` from the start. A `period`
    /// shorter than [`MIN_PERIOD`] is raised to it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
    ///
    /// let refreshed = Arc::new(AtomicU32::new(0));
    /// let counter = Arc::clone(&refreshed);
    /// let refresher = reactor.every(Duration::from_millis(10), move || {
    ///     let counter = Arc::clone(&counter);
    ///     async move {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     }
    /// });
    /// while refresher.ticks() < 3 {
    ///     std::thread::sleep(Duration::from_millis(5));
    /// }
    /// refresher.stop();
    /// assert!(refreshed.load(Ordering::SeqCst) >= 3);
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    #[track_caller]
    pub fn every<F, Fut>(&self, period: Duration, tick: F) -> Periodic
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TickOutcome,
    {
        let origin = Origin::of::<F>();
        let period = period.max(MIN_PERIOD);
        let ticks = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&ticks);
        let spawner = self.spawner_slot();
        let config = self.shared_config();
        let looping = self.submit_as::<F, Decided, _, _, _, _>(
            move || async move {
                let spawner = spawner.get().cloned().ok_or(WaitError::NotSetUp)?;
                let report = |outcome| report_tick(outcome, origin, &config);
                run_loop(period, tick, &counter, report, |deadline| {
                    spawner.sleep_until(deadline).ok_or_else(|| {
                        WaitError::Unsupported(Unsupported::new(Unsupported::TIMER, spawner.name()))
                    })
                })
                .await
            },
            origin.location,
        );
        Periodic {
            looping: Some(looping),
            ticks,
        }
    }
}

async fn run_loop<F, Fut, R, S, Sleep>(
    period: Duration,
    mut tick: F,
    ticks: &AtomicU64,
    report: R,
    sleep_until: S,
) -> Result<(), WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future,
    Fut::Output: TickOutcome,
    R: Fn(Result<Fut::Output, Panic>),
    S: Fn(Instant) -> Result<Sleep, WaitError>,
    Sleep: Future<Output = ()>,
{
    let mut next = Instant::now();
    loop {
        let outcome = match panic::catch(&mut tick) {
            Ok(future) => panic::catch_future(future).await,
            Err(panic) => Err(panic),
        };
        report(outcome);
        ticks.fetch_add(1, Ordering::AcqRel);
        match next_deadline(next, period, Instant::now()) {
            Some(deadline) => {
                next = deadline;
                sleep_until(next)?.await;
            }
            // A period beyond the clock's range: no tick ever comes again,
            // but the task stays scheduled until stopped.
            None => std::future::pending::<()>().await,
        }
    }
}

/// A failed or panicked tick goes to the failure hook, or is logged.
fn report_tick<T: TickOutcome>(outcome: Result<T, Panic>, origin: Origin, config: &Config) {
    let error = match outcome {
        Ok(output) => match output.into_failure() {
            Some(failure) => WaitError::Failed(Failure::new(failure)),
            None => return,
        },
        Err(panic) => WaitError::Panicked(panic),
    };
    report::failed_tick(&error, &origin, Some(config));
}

/// The first deadline after `now` on the schedule `previous + k * period`:
/// missed ticks are skipped, not queued. `None` when it lies beyond what an
/// `Instant` can hold: never.
fn next_deadline(previous: Instant, period: Duration, now: Instant) -> Option<Instant> {
    let next = previous.checked_add(period)?;
    if next > now {
        return Some(next);
    }
    let behind = now.duration_since(next).as_nanos();
    let skipped = behind / period.as_nanos() + 1;
    let skip = u32::try_from(skipped).map_or(Duration::MAX, |skipped| period * skipped);
    next.checked_add(skip).or_else(|| now.checked_add(period))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_deadline_keeps_the_schedule_and_skips_missed_ticks() {
        let start = Instant::now();
        let period = Duration::from_millis(10);
        assert_eq!(next_deadline(start, period, start), Some(start + period));
        assert_eq!(next_deadline(start, Duration::MAX, start), None);
        // Slow tick: 35 ms late resumes at 40 ms, not 10, 20 and 30.
        let late = start + Duration::from_millis(35);
        assert_eq!(
            next_deadline(start, period, late),
            Some(start + Duration::from_millis(40))
        );
        // Exactly on a tick boundary skips to the next one.
        let on_boundary = start + Duration::from_millis(20);
        assert_eq!(
            next_deadline(start, period, on_boundary),
            Some(start + Duration::from_millis(30))
        );
    }
}
