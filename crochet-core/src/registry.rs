//! The pending operations of one reactor, and its counters.
//!
//! Shutdown completes every pending operation with `ReactorStopped` from
//! here, even when the runtime cannot drop them (an attached runtime, or a
//! task blocking its thread). The counters behind `Reactor::stats` live
//! here too.
//!
//! Sharded by submitting thread, and arranged so that the reactor thread
//! takes no shard lock on the way of an ordinary operation: it counts the
//! outcome on a cache line of its own, and the entry leaves with the last
//! handle, on the submitting thread that put it there.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::completion::{Completion, Status};
use crate::error::Error;
use crate::report::{Hook, Origin};

const SHARDS: usize = 16;

/// A registered operation's cell, as the registry sees it.
pub(crate) trait Interrupt: Send + Sync {
    /// Completes the operation with `ReactorStopped`, if still pending.
    fn stop(&self);
    /// Whether its outcome is decided.
    fn is_done(&self) -> bool;
    /// When it was submitted (see [`Shard::now`]).
    fn submitted_at(&self) -> u64;
}

impl<T: Send> Interrupt for Completion<T> {
    fn stop(&self) {
        self.interrupt(Error::ReactorStopped);
    }

    fn is_done(&self) -> bool {
        Completion::is_done(self)
    }

    fn submitted_at(&self) -> u64 {
        Completion::submitted_at(self)
    }
}

/// Settings of one reactor that its operations consult.
#[derive(Default)]
pub(crate) struct Config {
    /// This reactor's own unobserved-failure hook, if any.
    pub(crate) hook: RwLock<Option<Hook>>,
    /// Operations slower than this are logged (0: off), in nanoseconds.
    slow_nanos: AtomicU64,
}

impl Config {
    pub(crate) fn set_slow_threshold(&self, threshold: Option<Duration>) {
        let nanos = threshold.map_or(0, |threshold| {
            u64::try_from(threshold.as_nanos())
                .unwrap_or(u64::MAX)
                .max(1)
        });
        self.slow_nanos.store(nanos, Ordering::Relaxed);
    }

    fn slow_threshold(&self) -> Option<Duration> {
        match self.slow_nanos.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }
}

/// How a shard's operations ended. Written as each operation is decided,
/// almost always by the reactor thread: on a cache line of its own, away
/// from the entries that submitting threads write.
#[derive(Default)]
#[repr(align(128))]
struct Ended {
    completed: AtomicU64,
    failed: AtomicU64,
    panicked: AtomicU64,
    cancelled: AtomicU64,
    stopped: AtomicU64,
    timed_out_waits: AtomicU64,
}

// Each shard on its own cache lines, so neighbours do not false-share.
#[repr(align(128))]
pub(crate) struct Shard {
    entries: Mutex<Entries>,
    ended: Ended,
    epoch: Instant,
    pub(crate) config: Arc<Config>,
}

#[derive(Default)]
struct Entries {
    /// Registered operations: pending ones, and finished ones whose last
    /// handle is still alive (they leave with it).
    live: Slab<Arc<dyn Interrupt>>,
    stopped: bool,
    submitted: u64,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Now, in nanoseconds since the shard's epoch: half the size of an
    /// `Instant` on every operation.
    pub(crate) fn now(&self) -> u64 {
        // Seconds and nanoseconds, not `as_nanos`: no 128-bit arithmetic on
        // every submission (and 584 years before it saturates).
        let elapsed = self.epoch.elapsed();
        elapsed
            .as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(elapsed.subsec_nanos()))
    }

    fn instant(&self, nanos: u64) -> Instant {
        self.epoch + Duration::from_nanos(nanos)
    }

    /// Records that a wait on one of this reactor's results timed out.
    pub(crate) fn note_timed_out_wait(&self) {
        self.ended.timed_out_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts how an operation ended (once, as it is decided), and logs it
    /// if it was slow. Takes no lock.
    pub(crate) fn ended(&self, status: Status, submitted_at: u64, origin: &Origin) {
        let counter = match status {
            Status::Ready | Status::Taken => &self.ended.completed,
            Status::Cancelled => &self.ended.cancelled,
            Status::Stopped | Status::Pending => &self.ended.stopped,
            Status::Panicked => &self.ended.panicked,
            Status::Failed => &self.ended.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(threshold) = self.config.slow_threshold() {
            let took = Duration::from_nanos(self.now().saturating_sub(submitted_at));
            if took > threshold {
                tracing::warn!(
                    target: "crochet",
                    operation = origin.operation(),
                    location = %origin.location,
                    took = ?took,
                    "slow operation: it took {took:.1?}, over the {threshold:?} threshold"
                );
            }
        }
    }

    /// Takes a finished operation's entry out, once: the first call with
    /// `key` removes it, later ones find nothing. Called by whichever comes
    /// last of the decision and the last handle's drop; usually the latter,
    /// on the submitting thread, whose shard this is.
    pub(crate) fn remove(&self, key: &AtomicUsize) {
        let removed = {
            let mut entries = self.lock();
            match key.swap(usize::MAX, Ordering::Relaxed) {
                usize::MAX => None,
                key => entries.live.try_remove(key),
            }
        };
        // Dropped outside the lock: it may be the cell's last reference.
        drop(removed);
    }
}

pub(crate) struct Registry {
    shards: Box<[Arc<Shard>]>,
    pub(crate) config: Arc<Config>,
}

thread_local! {
    static SHARD_INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    SHARD_INDEX.with(|index| {
        if index.get() == usize::MAX {
            index.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        index.get()
    })
}

/// A snapshot of the counters of all shards.
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) submitted: u64,
    pub(crate) completed: u64,
    pub(crate) failed: u64,
    pub(crate) panicked: u64,
    pub(crate) cancelled: u64,
    pub(crate) stopped: u64,
    pub(crate) pending: usize,
    pub(crate) timed_out_waits: u64,
    pub(crate) oldest_pending: Option<Instant>,
}

impl Registry {
    pub(crate) fn new() -> Self {
        let config = Arc::new(Config::default());
        let epoch = Instant::now();
        Registry {
            shards: (0..SHARDS)
                .map(|_| {
                    Arc::new(Shard {
                        entries: Mutex::new(Entries::default()),
                        ended: Ended::default(),
                        epoch,
                        config: Arc::clone(&config),
                    })
                })
                .collect(),
            config,
        }
    }

    /// The calling thread's shard.
    pub(crate) fn shard(&self) -> Arc<Shard> {
        Arc::clone(&self.shards[shard_index()])
    }

    /// Records a pending operation in `shard`, its key in `key`; `false`
    /// once [`Registry::stop_all`] ran.
    pub(crate) fn register(shard: &Shard, cell: Arc<dyn Interrupt>, key: &AtomicUsize) -> bool {
        let mut entries = shard.lock();
        if entries.stopped {
            return false;
        }
        entries.submitted += 1;
        let inserted = entries.live.insert(cell);
        // Under the shard lock, like `remove`'s swap: a removal racing with
        // this registration finds the key.
        key.store(inserted, Ordering::Relaxed);
        true
    }

    /// Refuses new registrations and stops every pending operation.
    pub(crate) fn stop_all(&self) {
        for shard in self.shards.iter() {
            let drained: Vec<Arc<dyn Interrupt>> = {
                let mut entries = shard.lock();
                entries.stopped = true;
                entries.live.drain().collect()
            };
            // Outside the shard lock: interrupting wakes tasks and threads
            // (and counts the operations as stopped). Finished ones keep
            // their outcome.
            for cell in drained {
                cell.stop();
            }
        }
    }

    /// How many operations are pending.
    pub(crate) fn len(&self) -> usize {
        let totals = self.totals();
        totals.pending
    }

    /// Adds up every shard's counters.
    pub(crate) fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        let mut oldest: Option<Instant> = None;
        for shard in self.shards.iter() {
            let (submitted, oldest_here) = {
                let entries = shard.lock();
                let oldest_here = entries
                    .live
                    .iter()
                    .filter(|(_, cell)| !cell.is_done())
                    .map(|(_, cell)| cell.submitted_at())
                    .min();
                (entries.submitted, oldest_here)
            };
            let ended = &shard.ended;
            totals.submitted += submitted;
            totals.completed += ended.completed.load(Ordering::Relaxed);
            totals.failed += ended.failed.load(Ordering::Relaxed);
            totals.panicked += ended.panicked.load(Ordering::Relaxed);
            totals.cancelled += ended.cancelled.load(Ordering::Relaxed);
            totals.stopped += ended.stopped.load(Ordering::Relaxed);
            totals.timed_out_waits += ended.timed_out_waits.load(Ordering::Relaxed);
            if let Some(nanos) = oldest_here {
                let since = shard.instant(nanos);
                oldest = Some(oldest.map_or(since, |oldest| oldest.min(since)));
            }
        }
        let ended =
            totals.completed + totals.failed + totals.panicked + totals.cancelled + totals.stopped;
        // The counters are read one after the other while operations end:
        // an operation submitted after its shard was read may already be
        // counted as ended.
        totals.pending =
            usize::try_from(totals.submitted.saturating_sub(ended)).unwrap_or(usize::MAX);
        totals.oldest_pending = oldest;
        totals
    }
}
