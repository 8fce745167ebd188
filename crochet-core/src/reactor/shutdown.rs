//! Stopping a reactor: [`Reactor::shutdown`], and the drop of its last
//! handle.
//!
//! One sequence for both: stop admitting work and request the end of
//! every operation the registry holds (its task drops the future, then
//! publishes); stop the runtime if crochet owns it; wait until every one
//! of those operations has published its end, or the bound; then abandon
//! what is still undecided (publish `ReactorStopped` without its task) and
//! say so.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use super::{Inner, Lifecycle, Reactor};
use crate::context;
use crate::error::ShutdownError;
use crate::registry::Member;

impl Reactor {
    /// Shuts the reactor down, for good.
    ///
    /// New submissions fail with [`WaitError::ReactorStopped`], and every
    /// pending operation is asked to end: its task is woken to drop its
    /// future (destructors run on the runtime's threads), then its result
    /// completes with `ReactorStopped` and its waiters wake. A managed
    /// runtime is then stopped on its own thread, and its threads are given
    /// until `timeout` to exit; an attached runtime is left to its
    /// application, which drops the futures as it runs the woken tasks.
    ///
    /// `Ok` means that every future this reactor was given has been
    /// dropped (and a managed runtime's threads have exited). When
    /// `timeout` runs out first, the results still pending (a future
    /// blocking its thread, or an attached runtime that no longer runs
    /// them) are completed with `ReactorStopped` regardless, so that no
    /// waiter is left hanging, and the error says how many were: their
    /// futures are dropped when their runtime gets to them. A second call
    /// does nothing.
    ///
    /// Results left in this reactor's stash are dropped too: running ones
    /// are cancelled, failures among them are reported as unobserved.
    ///
    /// # Errors
    ///
    /// [`ShutdownError::Abandoned`] when operations were still running at
    /// the deadline; [`ShutdownError::TimedOut`] when a managed thread was
    /// (a task of the runtime, not crochet's, is blocking it);
    /// [`ShutdownError::InReactor`] when called from one of the reactor's
    /// own threads (a task that shuts its reactor down): it cannot wait for
    /// the futures those threads would drop, nor for itself, so it
    /// completes every result at once and returns, and the threads exit
    /// when the task returns.
    ///
    /// In a child process forked after setup, it returns `Ok` at once (the
    /// threads and their work are the parent's), and takes none of the
    /// locks a parent thread may have held at the fork.
    ///
    /// # Blocking
    ///
    /// Blocks for up to `timeout`, waiting for futures to be dropped and
    /// for the reactor's threads.
    ///
    /// [`WaitError::ReactorStopped`]: crate::WaitError::ReactorStopped
    pub fn shutdown(&self, timeout: Duration) -> Result<(), ShutdownError> {
        let started = Instant::now();
        let deadline = started.checked_add(timeout);
        if self.config().fork.forked().is_some() {
            // A forked child: the parent's threads are not here, and the
            // locks below may be held forever by threads that are not here
            // either: only a lock that is free is taken.
            if let Ok(mut lifecycle) = self.inner.lifecycle.try_lock() {
                if let Lifecycle::Managed(driver) =
                    std::mem::replace(&mut *lifecycle, Lifecycle::Stopped)
                {
                    // Its threads exist only in the parent: nothing to stop
                    // or join here.
                    std::mem::forget(driver);
                }
            }
            return Ok(());
        }
        let previous = std::mem::replace(&mut *self.lock(), Lifecycle::Stopped);
        let pending = self.inner.registry.close();
        // On a thread that drives the runtime (a task that shuts its
        // reactor down), waiting for the runtime to drop futures would wait
        // for this very thread.
        let waiting = context::blocking();
        let threads = stop_runtime(previous, timeout.saturating_sub(started.elapsed()));
        let in_reactor = waiting.is_err();
        if let Ok(blocking) = waiting {
            // The runtime drops the futures of the woken tasks (a managed
            // one as it stops, an attached one as it runs them), and each
            // then publishes its end.
            blocking.run(|| {
                for cell in &pending {
                    if !cell.wait_ended(deadline) {
                        break;
                    }
                }
            });
        }
        let abandoned = abandon(&pending);
        drop(pending);
        self.config().stash.drain(&self.config().fork);
        tracing::trace!(target: "crochet", elapsed = ?started.elapsed(), abandoned, "reactor stopped");
        match abandoned {
            0 => threads,
            operations if in_reactor => Err(ShutdownError::InReactor { operations }),
            operations => Err(ShutdownError::Abandoned {
                operations,
                after: timeout,
            }),
        }
    }
}

/// Stops what runs the reactor's work: a managed runtime (its threads
/// given `timeout` to exit), or the work queued for an attach that never
/// came (dropping it publishes its results as stopped).
fn stop_runtime(lifecycle: Lifecycle, timeout: Duration) -> Result<(), ShutdownError> {
    match lifecycle {
        Lifecycle::Idle | Lifecycle::Stopped | Lifecycle::Attached => Ok(()),
        Lifecycle::AwaitingAttach(queue) => {
            // Dropping queued work completes its results (stopped) and runs
            // user destructors, which may panic.
            crate::panic::drop_quietly(queue);
            Ok(())
        }
        Lifecycle::Managed(driver) => driver.shutdown(timeout),
    }
}

/// Publishes `ReactorStopped` on every operation of `pending` that is still
/// undecided; how many were.
fn abandon(pending: &[Arc<dyn Member>]) -> usize {
    pending.iter().filter(|cell| cell.abandon()).count()
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle to a running reactor is gone: stop it as a
        // shutdown with a bound of zero, so that its threads do not outlive
        // every way to reach them, and no waiter is left hanging.
        let lifecycle = std::mem::replace(
            self.lifecycle
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
            Lifecycle::Stopped,
        );
        let config = &self.registry.config;
        if config.fork.forked().is_some() {
            // See `Reactor::shutdown`: nothing of the parent's to stop.
            if let Lifecycle::Managed(driver) = lifecycle {
                std::mem::forget(driver);
            }
            return;
        }
        let pending = self.registry.close();
        let _ = stop_runtime(lifecycle, Duration::ZERO);
        let abandoned = abandon(&pending);
        if abandoned > 0 {
            tracing::debug!(
                target: "crochet",
                abandoned,
                "the last handle to a reactor was dropped with operations still running; their results were completed with ReactorStopped"
            );
        }
        config.stash.drain(&config.fork);
    }
}
