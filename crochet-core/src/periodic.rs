//! Periodic tasks: run now, then every period, in the reactor. Crochet's
//! counterpart of Twisted's `LoopingCall`.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::{Failure, Unsupported, WaitError};
use crate::eventual::EventualResult;
use crate::hook::{self, Origin};
use crate::panic::{self, Panic};
use crate::spawner::Spawner;

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
/// [`Reactor::every`](crate::Reactor::every).
///
/// Dropping it stops the task (as [`Periodic::stop`] does); call
/// [`Periodic::detach`] to let it run until the reactor shuts down.
#[must_use = "dropping a Periodic stops it; call detach() to keep it running"]
pub struct Periodic {
    /// The loop's own result; `None` once detached.
    looping: Option<EventualResult<()>>,
    schedule: Arc<Schedule>,
}

/// What the loop and its handle share.
#[derive(Default)]
pub(crate) struct Schedule {
    ticks: AtomicU64,
    /// `stop` was called: no tick starts after the loop has seen it.
    stopped: AtomicBool,
}

impl Periodic {
    /// Stops the task: no tick starts from now on (but one that the loop
    /// was starting at this very moment), and the loop is cancelled, so
    /// that the tick in progress, if any, is dropped on the reactor at its
    /// next poll (promptly, unless it blocks its thread).
    /// Like [`EventualResult::cancel`], it asks and does not wait: it
    /// never blocks, and is callable from any thread, reactor threads
    /// included. [`Periodic::ended`] says `Cancelled` once the tick in
    /// progress is dropped. Idempotent; returns whether this call stopped
    /// it.
    pub fn stop(&self) -> bool {
        // A detached task is no longer this handle's to stop.
        let Some(looping) = &self.looping else {
            return false;
        };
        self.schedule.stopped.store(true, Ordering::Release);
        looping.cancel()
    }

    /// Whether the task is still scheduled (not stopped, not ended by a
    /// reactor shutdown or a backend without a timer).
    pub fn is_running(&self) -> bool {
        self.looping
            .as_ref()
            .is_some_and(|looping| !looping.is_finished())
    }

    /// How many ticks have finished, failed ones included.
    pub fn ticks(&self) -> u64 {
        self.schedule.ticks.load(Ordering::Acquire)
    }

    /// How the task ended, if it has: [`WaitError::Cancelled`] after
    /// [`Periodic::stop`], [`WaitError::ReactorStopped`] after shutdown,
    /// [`WaitError::Unsupported`] on a backend without a timer. A getter: every
    /// call gives the same answer.
    pub fn ended(&self) -> Option<WaitError> {
        let looping = self.looping.as_ref()?;
        if !looping.is_finished() {
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

impl Periodic {
    /// A handle to the loop whose result is `looping`.
    pub(crate) fn new(looping: EventualResult<()>, schedule: Arc<Schedule>) -> Self {
        Periodic {
            looping: Some(looping),
            schedule,
        }
    }
}

/// The loop of a periodic task: `tick` now, then every `period` (at
/// least [`MIN_PERIOD`]) on the spawner's timer, each failure reported
/// through `config`'s hook as coming from `origin`.
pub(crate) fn looping<F, Fut>(
    period: Duration,
    tick: F,
    origin: Origin,
    spawner: Arc<OnceLock<Arc<dyn Spawner>>>,
    config: Arc<Config>,
) -> (
    Arc<Schedule>,
    impl Future<Output = Result<(), WaitError>> + Send + 'static,
)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: TickOutcome,
{
    let period = period.max(MIN_PERIOD);
    let schedule = Arc::new(Schedule::default());
    let shared = Arc::clone(&schedule);
    let looping = async move {
        let spawner = spawner.get().cloned().ok_or(WaitError::NotSetUp)?;
        let report = |outcome| report_tick(outcome, origin, &config);
        run_loop(period, tick, &shared, report, |deadline| {
            spawner.sleep_until(deadline).ok_or_else(|| {
                WaitError::Unsupported(Unsupported::new(Unsupported::TIMER, spawner.name()))
            })
        })
        .await
    };
    (schedule, looping)
}

async fn run_loop<F, Fut, R, S, Sleep>(
    period: Duration,
    mut tick: F,
    schedule: &Schedule,
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
    // Checked before each tick: after a `stop`, the next check ends it.
    while !schedule.stopped.load(Ordering::Acquire) {
        let outcome = match panic::catch(&mut tick) {
            Ok(future) => panic::catch_future(future).await,
            Err(panic) => Err(panic),
        };
        report(outcome);
        schedule.ticks.fetch_add(1, Ordering::AcqRel);
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
    // Stopped: the loop's cancellation ends it at its next poll.
    std::future::pending().await
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
    hook::failed_tick(&error, &origin, Some(&config.hook), &config.fork);
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
