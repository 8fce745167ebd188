//! Live statistics of a reactor, and its per-reactor settings: a slow
//! operation threshold and its own unobserved-failure hook.

use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use crate::hook::UnobservedFailure;
use crate::reactor::Reactor;

/// A snapshot of what a reactor has done, from [`Reactor::stats`].
///
/// `submitted` equals `pending` plus every way of ending (`completed`,
/// `failed`, `panicked`, `cancelled`, `stopped`). Its `Display` is one line,
/// fit for a health page.
///
/// # Examples
///
/// ```
/// # use std::time::Duration;
/// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
/// reactor.wait_for(Duration::from_secs(5), || async { 1 })?;
/// let stats = reactor.stats();
/// assert_eq!((stats.submitted, stats.completed, stats.pending), (1, 1, 0));
/// println!("{stats}");
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Operations submitted; those refused at once (before setup, after
    /// shutdown) are counted too, and end as failed or stopped.
    pub submitted: u64,
    /// Operations not finished yet.
    pub pending: u64,
    /// Operations that produced their value.
    pub completed: u64,
    /// Operations that ended with their own error.
    pub failed: u64,
    /// Operations that panicked.
    pub panicked: u64,
    /// Operations cancelled (by `cancel`, or a `wait_for` timing out).
    pub cancelled: u64,
    /// Operations ended by shutdown (or by their runtime going away).
    pub stopped: u64,
    /// Waits on this reactor's results that timed out.
    pub timed_out_waits: u64,
    /// Results in this reactor's stash.
    pub stashed: u64,
    /// How long the oldest pending operation has been pending: since its
    /// first poll that did not finish it (since its submission, for one
    /// submitted while a slow threshold is set). Operations the runtime
    /// has not polled yet count in `pending` but are not aged here.
    pub oldest_pending: Option<Duration>,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "submitted {}, pending {}", self.submitted, self.pending)?;
        if let Some(oldest) = self.oldest_pending {
            write!(f, " (oldest {oldest:.1?})")?;
        }
        write!(
            f,
            ", completed {}, failed {}, panicked {}, cancelled {}, stopped {}, timed-out waits {}, stashed {}",
            self.completed,
            self.failed,
            self.panicked,
            self.cancelled,
            self.stopped,
            self.timed_out_waits,
            self.stashed
        )
    }
}

impl Reactor {
    /// A snapshot of this reactor's counters. Cheap: it adds up a few
    /// per-shard counters (and scans the pending operations for the oldest
    /// one); the hot path pays nothing extra for it.
    pub fn stats(&self) -> Stats {
        let totals = self.registry().totals();
        Stats {
            submitted: totals.submitted,
            pending: totals.pending as u64,
            completed: totals.completed,
            failed: totals.failed,
            panicked: totals.panicked,
            cancelled: totals.cancelled,
            stopped: totals.stopped,
            timed_out_waits: totals.timed_out_waits,
            stashed: self.stash_len() as u64,
            oldest_pending: totals.oldest_pending.map(|since| since.elapsed()),
        }
    }

    /// Logs operations that take longer than `threshold` from submission
    /// to their end, as one `tracing` warning each (target `crochet`, with
    /// where the operation was submitted). `None`, the default, turns it
    /// off. Operations submitted while a threshold is set are timed: a
    /// clock read each as it is submitted, and a look at its registry
    /// entry (a lock of its shard) as it ends.
    pub fn set_slow_threshold(&self, threshold: Option<Duration>) {
        self.registry().config.set_slow_threshold(threshold);
    }

    /// Replaces how this reactor reports failures that nobody observed
    /// (see [`set_failure_hook`](crate::set_failure_hook) for the
    /// process-wide one, which this one takes precedence over). A library
    /// with a reactor of its own can report its failures its way without
    /// touching the application's.
    pub fn set_failure_hook(&self, hook: impl Fn(&UnobservedFailure<'_>) + Send + Sync + 'static) {
        *self
            .registry()
            .config
            .hook
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
    }

    /// Takes this reactor's own failure hook away: its failures go to the
    /// process-wide hook again (see
    /// [`set_failure_hook`](crate::set_failure_hook)), or the default
    /// report.
    pub fn reset_failure_hook(&self) {
        *self
            .registry()
            .config
            .hook
            .write()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }
}
