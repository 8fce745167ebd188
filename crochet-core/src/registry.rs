//! The pending operations of one reactor, and its counters.
//!
//! Shutdown completes every pending operation with `ReactorStopped` from
//! here, even when the runtime cannot drop them (an attached runtime, or a
//! task blocking its thread). The counters behind `Reactor::stats` live
//! beside the entries, updated under the same short lock that registering
//! and unregistering take anyway.
//!
//! Sharded by submitting thread: under many submitting threads each shard
//! lock is mostly taken by one submitter and the reactor thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::completion::{Completion, Status};
use crate::error::Error;
use crate::report::{Hook, Origin};

const SHARDS: usize = 16;

/// A pending operation's cell, as shutdown sees it.
pub(crate) trait Interrupt: Send + Sync {
    fn stop(&self);
}

impl<T: Send> Interrupt for Completion<T> {
    fn stop(&self) {
        self.interrupt(Error::ReactorStopped);
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

// Each shard on its own cache lines, so neighbours do not false-share.
#[repr(align(128))]
pub(crate) struct Shard {
    entries: Mutex<Entries>,
    epoch: Instant,
    timed_out_waits: AtomicU64,
    pub(crate) config: Arc<Config>,
}

struct Entry {
    cell: Arc<dyn Interrupt>,
    /// When it was submitted, in nanoseconds since the shard's epoch: half
    /// the size of an `Instant`, on every pending operation.
    submitted_at: u64,
}

#[derive(Default)]
struct Entries {
    live: Slab<Entry>,
    stopped: bool,
    counts: Counts,
}

/// Operations by how they ended.
#[derive(Clone, Copy, Default)]
struct Counts {
    submitted: u64,
    completed: u64,
    failed: u64,
    panicked: u64,
    cancelled: u64,
    stopped: u64,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> u64 {
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
        self.timed_out_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// Removes a finished operation, counts how it ended, and logs it if
    /// it was slow.
    pub(crate) fn unregister(&self, key: &AtomicUsize, status: Status, origin: &Origin) {
        let removed = {
            let mut entries = self.lock();
            let key = key.swap(usize::MAX, Ordering::Relaxed);
            let removed = (key != usize::MAX)
                .then(|| entries.live.try_remove(key))
                .flatten();
            if removed.is_some() {
                let counts = &mut entries.counts;
                match status {
                    Status::Ready | Status::Taken => counts.completed += 1,
                    Status::Cancelled => counts.cancelled += 1,
                    Status::Stopped | Status::Pending => counts.stopped += 1,
                    Status::Panicked => counts.panicked += 1,
                    Status::Failed => counts.failed += 1,
                }
            }
            removed
        };
        // Dropped outside the lock: it may be the cell's last reference.
        let Some(entry) = removed else {
            return;
        };
        if let Some(threshold) = self.config.slow_threshold() {
            let took = Duration::from_nanos(self.now().saturating_sub(entry.submitted_at));
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
                        epoch,
                        timed_out_waits: AtomicU64::new(0),
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
        entries.counts.submitted += 1;
        let submitted_at = shard.now();
        let inserted = entries.live.insert(Entry { cell, submitted_at });
        // Under the shard lock, like `unregister`'s read: a cancel racing
        // with this registration finds the key.
        key.store(inserted, Ordering::Relaxed);
        true
    }

    /// Refuses new registrations and stops every pending operation.
    pub(crate) fn stop_all(&self) {
        for shard in self.shards.iter() {
            let drained: Vec<Entry> = {
                let mut entries = shard.lock();
                entries.stopped = true;
                let drained: Vec<Entry> = entries.live.drain().collect();
                entries.counts.stopped += drained.len() as u64;
                drained
            };
            // Outside the shard lock: interrupting wakes tasks and threads.
            // (An operation that finished meanwhile keeps its outcome; it
            // is counted as stopped all the same.)
            for entry in drained {
                entry.cell.stop();
            }
        }
    }

    /// How many operations are pending.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().live.len())
            .sum()
    }

    /// Adds up every shard's counters.
    pub(crate) fn totals(&self) -> Totals {
        let mut totals = Totals {
            submitted: 0,
            completed: 0,
            failed: 0,
            panicked: 0,
            cancelled: 0,
            stopped: 0,
            pending: 0,
            timed_out_waits: 0,
            oldest_pending: None,
        };
        for shard in self.shards.iter() {
            totals.timed_out_waits += shard.timed_out_waits.load(Ordering::Relaxed);
            let entries = shard.lock();
            let counts = entries.counts;
            totals.submitted += counts.submitted;
            totals.completed += counts.completed;
            totals.failed += counts.failed;
            totals.panicked += counts.panicked;
            totals.cancelled += counts.cancelled;
            totals.stopped += counts.stopped;
            totals.pending += entries.live.len();
            let oldest = entries
                .live
                .iter()
                .map(|(_, entry)| entry.submitted_at)
                .min()
                .map(|nanos| shard.instant(nanos));
            totals.oldest_pending = match (totals.oldest_pending, oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        totals
    }
}
