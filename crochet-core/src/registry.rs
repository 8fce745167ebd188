//! The pending operations of one reactor, and its counters.
//!
//! Shutdown completes every pending operation with `ReactorStopped` from
//! here, even when the runtime cannot drop them (an attached runtime, or a
//! task blocking its thread). The counters behind `Reactor::stats` live
//! here too.
//!
//! Sharded by submitting thread. Every admitted operation takes its
//! shard's lock to register; the entry leaves under the same lock, taken
//! by whichever comes last of the operation's end and its last handle's
//! drop (usually the submitting thread, on its own shard). Outcomes are
//! counted without a lock, on a cache line of each shard's own.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::completion::{Completion, Status};
use crate::error::WaitError;
use crate::report::{Hook, Origin};
use crate::stash::Stash;
use crate::sync::{AtomicUsize, Mutex, MutexGuard, TryLockError};

const SHARDS: usize = 16;

/// A registered operation's cell, as the registry sees it.
pub(crate) trait Interrupt: Send + Sync {
    /// Requests the operation's end with `ReactorStopped`, if still
    /// pending: its task drops the future, then publishes.
    fn request_stop(&self);
    /// Publishes its end now, without waiting for its task.
    fn force_stop(&self);
    /// Waits until its outcome is published, or `deadline`.
    fn wait_published(&self, deadline: Option<Instant>) -> bool;
    /// Whether its outcome is published.
    fn is_done(&self) -> bool;
    /// When it was submitted (see [`Shard::now`]).
    fn submitted_at(&self) -> u64;
}

impl<T: Send, E: Send> Interrupt for Completion<T, E> {
    fn request_stop(&self) {
        self.request(&WaitError::ReactorStopped);
    }

    fn force_stop(&self) {
        self.force(WaitError::ReactorStopped);
    }

    fn wait_published(&self, deadline: Option<Instant>) -> bool {
        Completion::wait_published(self, deadline)
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
    /// The process the reactor was set up in (0 before), to tell a forked
    /// child. Read only where a syscall is paid anyway (before parking, at
    /// shutdown) or where a lock is busy.
    pid: AtomicU32,
    /// This reactor's stash.
    pub(crate) stash: Stash,
}

impl Config {
    /// Remembers the process the reactor runs in.
    pub(crate) fn record_pid(&self) {
        self.pid.store(std::process::id(), Ordering::Relaxed);
    }

    /// [`WaitError::Forked`] in a child process forked after this reactor was
    /// set up in its parent. A syscall (`getpid`): never on the hot path.
    pub(crate) fn forked(&self) -> Option<WaitError> {
        self.forked_from(std::process::id())
    }

    /// [`Config::forked`] without the syscall on the common path, for the
    /// reactor side: by the process id the calling thread saw when it last
    /// asked. A thread that runs tasks in a forked child was started in the
    /// child (the parent's threads are not copied), so what it saw is the
    /// child's id. Only when that differs from the reactor's is the id
    /// asked again (a syscall): the one thread that is copied, the one that
    /// called `fork`, may remember its parent's id in a child that set up a
    /// reactor of its own.
    pub(crate) fn forked_per_thread(&self) -> Option<WaitError> {
        thread_local! {
            static PID: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        }
        let parent = self.pid.load(Ordering::Relaxed);
        if parent == 0 || PID.with(std::cell::Cell::get) == parent {
            return None;
        }
        let now = std::process::id();
        PID.with(|pid| pid.set(now));
        self.forked_from(now)
    }

    fn forked_from(&self, child: u32) -> Option<WaitError> {
        let parent = self.pid.load(Ordering::Relaxed);
        (parent != 0 && child != parent).then_some(WaitError::Forked { parent, child })
    }

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

    /// The shard's lock, unless it is busy in a forked child: there it may
    /// have been held by a parent thread at the fork, and would never be
    /// released. The fork check (a syscall) is paid only when it is busy.
    fn lock_unless_forked(&self) -> Result<MutexGuard<'_, Entries>, WaitError> {
        match self.entries.try_lock() {
            Ok(entries) => Ok(entries),
            Err(TryLockError::Poisoned(poisoned)) => Ok(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => match self.config.forked() {
                Some(forked) => Err(forked),
                None => Ok(self.lock()),
            },
        }
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
            Status::Stopped | Status::Pending | Status::Cancelling | Status::Stopping => {
                &self.ended.stopped
            }
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
        // Never registered (refused, or forked): no lock to take.
        if key.load(Ordering::Relaxed) == usize::MAX {
            return;
        }
        let removed = {
            let Ok(mut entries) = self.lock_unless_forked() else {
                return;
            };
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
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
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

    /// Records a pending operation in `shard`, its key in `key`.
    ///
    /// # Errors
    ///
    /// `ReactorStopped` once [`Registry::close`] ran; `Forked` in a child
    /// forked after the reactor started, when the shard's lock is busy
    /// there (a parent thread may have held it at the fork).
    pub(crate) fn register(
        shard: &Shard,
        cell: Arc<dyn Interrupt>,
        key: &AtomicUsize,
    ) -> Result<(), WaitError> {
        let mut entries = shard.lock_unless_forked()?;
        if entries.stopped {
            return Err(WaitError::ReactorStopped);
        }
        entries.submitted += 1;
        let inserted = entries.live.insert(cell);
        // Under the shard lock, like `remove`'s swap: a removal racing with
        // this registration finds the key.
        key.store(inserted, Ordering::Relaxed);
        Ok(())
    }

    /// Refuses new registrations, requests the end of every pending
    /// operation (their tasks drop their futures, then publish), and
    /// returns them, to wait for.
    pub(crate) fn close(&self) -> Vec<Arc<dyn Interrupt>> {
        let mut pending = Vec::new();
        for shard in self.shards.iter() {
            let mut entries = shard.lock();
            entries.stopped = true;
            pending.extend(
                entries
                    .live
                    .iter()
                    .filter(|(_, cell)| !cell.is_done())
                    .map(|(_, cell)| Arc::clone(cell)),
            );
        }
        // Outside the shard locks: requesting wakes tasks.
        for cell in &pending {
            cell.request_stop();
        }
        pending
    }

    /// Publishes the end of every operation still pending, without its
    /// task, and empties the registry.
    pub(crate) fn force_all(&self) {
        for shard in self.shards.iter() {
            let drained: Vec<Arc<dyn Interrupt>> = {
                let mut entries = shard.lock();
                entries.stopped = true;
                entries.live.drain().collect()
            };
            // Outside the shard lock: publishing wakes threads and counts
            // the operations as stopped. Finished ones keep their outcome.
            for cell in drained {
                cell.force_stop();
            }
        }
    }

    /// How many entries the registry holds, pending or not (for the loom
    /// model's leak check).
    #[cfg(all(test, loom))]
    pub(crate) fn entries(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().live.len())
            .sum()
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
