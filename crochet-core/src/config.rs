//! The settings of one reactor that its operations consult: its own
//! failure hook, the slow-operation threshold, the process it was set up
//! in (to tell a forked child), and its stash.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::fork::ForkCheck;
use crate::hook::HookSlot;
use crate::store::Stash;

#[derive(Default)]
pub(crate) struct Config {
    /// This reactor's own unobserved-failure hook, if any.
    pub(crate) hook: HookSlot,
    /// Operations slower than this are logged (0: off), in nanoseconds.
    slow_nanos: AtomicU64,
    /// The process the reactor was set up in.
    pub(crate) fork: ForkCheck,
    /// This reactor's stash.
    pub(crate) stash: Stash,
    /// A runtime runs the reactor's work (set up, or attached).
    runtime: AtomicBool,
    /// `wait_for` runs on the reactor's thread, not inline (see
    /// `Reactor::set_wait_for_inline`).
    wait_for_on_reactor: AtomicBool,
}

impl Config {
    /// A runtime runs the reactor's work from now on.
    pub(crate) fn set_runtime(&self) {
        self.runtime.store(true, Ordering::Release);
    }

    /// Whether `wait_for` polls its future on the caller's thread.
    pub(crate) fn wait_for_inline(&self) -> bool {
        !self.wait_for_on_reactor.load(Ordering::Relaxed)
    }

    pub(crate) fn set_wait_for_inline(&self, inline: bool) {
        self.wait_for_on_reactor.store(!inline, Ordering::Relaxed);
    }

    /// Whether a runtime runs the reactor's work: `false` before setup,
    /// and between `no_setup` and the attach (work waits in a queue).
    pub(crate) fn has_runtime(&self) -> bool {
        self.runtime.load(Ordering::Acquire)
    }

    pub(crate) fn set_slow_threshold(&self, threshold: Option<Duration>) {
        let nanos = threshold.map_or(0, |threshold| {
            u64::try_from(threshold.as_nanos())
                .unwrap_or(u64::MAX)
                .max(1)
        });
        self.slow_nanos.store(nanos, Ordering::Relaxed);
    }

    pub(crate) fn slow_threshold(&self) -> Option<Duration> {
        match self.slow_nanos.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }
}
