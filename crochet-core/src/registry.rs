//! The pending operations of one reactor, and its counters.
//!
//! Shutdown completes every pending operation with `ReactorStopped` from
//! here, even when the runtime cannot drop them (an attached runtime, or a
//! task blocking its thread). The counters behind `Reactor::stats` live
//! here too.
//!
//! Sharded by submitting thread. An operation is registered only once
//! something has to wait for it: its task's first poll that does not
//! finish it, an async or multi-result wait on it, or a blocking wait
//! still parked after 10 ms. One that finishes in its first poll (the
//! common round trip) never takes a registry lock. Shutdown reaches the rest through a reactor-wide
//! stopping flag: a task checks it before every poll, and a registration
//! after it is refused. A registered entry leaves under its shard's lock,
//! taken by whichever comes last of the operation's end and its last
//! handle's drop. Submissions and outcomes are counted without a lock, on
//! cache lines of each shard's own, so `stats()` costs O(shards).

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::completion::{Completion, Status};
use crate::error::WaitError;
use crate::report::{Hook, Origin};
use crate::stash::Stash;
use crate::sync::{AtomicUsize, Mutex, MutexGuard, TryLockError};

/// How many shards a reactor's registry has (and the sharded executor
/// references, `backend::ExecutorSlots`).
pub(crate) const SHARDS: usize = 16;

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
    /// Shutdown has begun: tasks end before their next poll, and nothing
    /// registers any more.
    stopping: AtomicBool,
    /// Shutdown is over: every registered operation was ended. A waiter
    /// whose operation was never registered ends it itself from then on.
    finished: AtomicBool,
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

    /// Whether shutdown has begun. One load of a line that is written once.
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Whether shutdown is over ([`Registry::force_all`] ran).
    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    pub(crate) fn set_slow_threshold(&self, threshold: Option<Duration>) {
        let nanos = threshold.map_or(0, |threshold| {
            u64::try_from(threshold.as_nanos())
                .unwrap_or(u64::MAX)
                .max(1)
        });
        self.slow_nanos.store(nanos, Ordering::Relaxed);
    }

    /// Whether operations are timed (a slow threshold is set): only then
    /// does a submission read the clock.
    pub(crate) fn times_operations(&self) -> bool {
        self.slow_nanos.load(Ordering::Relaxed) != 0
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

/// How many operations a shard admitted. Written by the submitting
/// threads of the shard, on a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
struct Submitted(AtomicU64);

impl Ended {
    /// How many operations ended, however.
    fn total(&self) -> u64 {
        self.completed.load(Ordering::Relaxed)
            + self.failed.load(Ordering::Relaxed)
            + self.panicked.load(Ordering::Relaxed)
            + self.cancelled.load(Ordering::Relaxed)
            + self.stopped.load(Ordering::Relaxed)
    }
}

// Each shard on its own cache lines, so neighbours do not false-share.
#[repr(align(128))]
pub(crate) struct Shard {
    entries: Mutex<Entries>,
    submitted: Submitted,
    ended: Ended,
    epoch: Instant,
    pub(crate) config: Arc<Config>,
}

/// A registered operation, and when it was registered (see
/// [`Shard::now`]): with its slab key, that names the registration, since
/// keys are reused.
struct Entry {
    cell: Arc<dyn Interrupt>,
    at: u64,
}

#[derive(Default)]
struct Entries {
    /// Registered operations: pending ones, and finished ones whose last
    /// handle is still alive (they leave with it).
    live: Slab<Entry>,
    /// Registered entries by registration time (their key, and when), for
    /// the oldest pending one without a scan: finished or removed ones are
    /// dropped from the front as they are met.
    order: VecDeque<(u64, usize)>,
    stopped: bool,
}

impl Entries {
    /// When the oldest registered operation that is still pending was
    /// registered. Amortised O(1): each entry leaves the front once.
    fn oldest_pending(&mut self) -> Option<u64> {
        while let Some(&(at, key)) = self.order.front() {
            match self.live.get(key) {
                Some(entry) if entry.at == at && !entry.cell.is_done() => return Some(at),
                _ => {
                    self.order.pop_front();
                }
            }
        }
        None
    }

    /// Whether `order`'s `(at, key)` is still a live registration.
    fn holds(&self, at: u64, key: usize) -> bool {
        self.live.get(key).is_some_and(|entry| entry.at == at)
    }

    /// Keeps `order` in proportion to the live entries: registrations of
    /// operations that left are dropped from the front as they are met,
    /// and all of them once the queue outgrows the live entries twice
    /// over (an operation registered early that stays pending would
    /// otherwise hold everything behind it). Amortised O(1).
    fn compact(&mut self) {
        while let Some(&(at, key)) = self.order.front() {
            if self.holds(at, key) {
                break;
            }
            self.order.pop_front();
        }
        if self.order.len() > 2 * self.live.len() + 64 {
            let live = &self.live;
            self.order
                .retain(|&(at, key)| live.get(key).is_some_and(|entry| entry.at == at));
        }
    }
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

    /// Counts an admitted operation. No lock.
    pub(crate) fn count_submission(&self) {
        self.submitted.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Records that a wait on one of this reactor's results timed out.
    pub(crate) fn note_timed_out_wait(&self) {
        self.ended.timed_out_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts how an operation ended (once, as it is decided), and logs it
    /// if it was slow (`submitted_at` is 0 when it was not timed), naming
    /// it by `origin`, asked only then. Takes no lock.
    pub(crate) fn ended(&self, status: Status, submitted_at: u64, origin: impl FnOnce() -> Origin) {
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
        if let Some(threshold) = self.config.slow_threshold().filter(|_| submitted_at != 0) {
            let took = Duration::from_nanos(self.now().saturating_sub(submitted_at));
            if took > threshold {
                let origin = origin();
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
                key => entries.live.try_remove(key).map(|entry| entry.cell),
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

/// The calling thread's shard, assigned round-robin on first use.
pub(crate) fn shard_index() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    SHARD_INDEX.with(|index| {
        if index.get() == usize::MAX {
            index.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        index.get()
    })
}

/// How many are pending, of `submitted` operations of which `ended` ended.
/// The counters are read one after the other while operations end: an
/// operation submitted after its shard was read may already be counted as
/// ended, hence the saturation.
fn pending(submitted: u64, ended: u64) -> usize {
    usize::try_from(submitted.saturating_sub(ended)).unwrap_or(usize::MAX)
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
                        submitted: Submitted::default(),
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

    /// Records a pending operation in `shard`, and its key in `key`. The
    /// caller holds the operation's cell lock, and
    /// has checked that it is pending.
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
        // Read under the lock: registration times grow along `order`.
        let now = shard.now();
        let inserted = entries.live.insert(Entry { cell, at: now });
        entries.compact();
        entries.order.push_back((now, inserted));
        // Under the shard lock, like `remove`'s swap: a removal racing with
        // this registration finds the key.
        key.store(inserted, Ordering::Relaxed);
        Ok(())
    }

    /// Refuses new registrations, requests the end of every pending
    /// operation (their tasks drop their futures, then publish), and
    /// returns them, to wait for.
    pub(crate) fn close(&self) -> Vec<Arc<dyn Interrupt>> {
        // First: a task polled from now on ends, whether or not it is
        // registered, and a registration is refused below.
        self.config.stopping.store(true, Ordering::Release);
        let mut pending = Vec::new();
        for shard in self.shards.iter() {
            let mut entries = shard.lock();
            entries.stopped = true;
            pending.extend(
                entries
                    .live
                    .iter()
                    .filter(|(_, entry)| !entry.cell.is_done())
                    .map(|(_, entry)| Arc::clone(&entry.cell)),
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
        // Stopping, if `close` did not run (the last handle's drop): a
        // task ends at its next poll, a wait registers at once.
        self.config.stopping.store(true, Ordering::Release);
        for shard in self.shards.iter() {
            let drained: Vec<Arc<dyn Interrupt>> = {
                let mut entries = shard.lock();
                entries.stopped = true;
                entries.order.clear();
                entries.live.drain().map(|entry| entry.cell).collect()
            };
            // Outside the shard lock: publishing wakes threads and counts
            // the operations as stopped. Finished ones keep their outcome.
            for cell in drained {
                cell.force_stop();
            }
        }
        // After the registered ones: a waiter that could not register
        // ends its operation itself once it sees this.
        self.config.finished.store(true, Ordering::Release);
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

    /// How many operations are pending: submitted and not ended, by the
    /// counters alone (O(shards), no lock).
    pub(crate) fn len(&self) -> usize {
        let (mut submitted, mut ended) = (0_u64, 0_u64);
        for shard in self.shards.iter() {
            submitted += shard.submitted.0.load(Ordering::Relaxed);
            ended += shard.ended.total();
        }
        pending(submitted, ended)
    }

    /// Waits (sleeping in short steps) until no operation is pending, or
    /// `deadline`: after [`Registry::close`], for the operations nobody
    /// registered (their task was not polled yet, and no wait registered
    /// them), which end at their next poll or when their runtime drops
    /// them. Whether none is pending.
    pub(crate) fn wait_idle(&self, deadline: Option<Instant>) -> bool {
        let mut step = Duration::from_micros(100);
        loop {
            if self.len() == 0 {
                return true;
            }
            let now = Instant::now();
            if deadline.is_some_and(|deadline| now >= deadline) {
                return false;
            }
            let nap = deadline.map_or(step, |deadline| step.min(deadline - now));
            std::thread::sleep(nap);
            step = (step * 2).min(Duration::from_millis(10));
        }
    }

    /// Adds up every shard's counters.
    pub(crate) fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        let mut oldest: Option<Instant> = None;
        for shard in self.shards.iter() {
            let oldest_here = shard.lock().oldest_pending();
            let ended = &shard.ended;
            totals.submitted += shard.submitted.0.load(Ordering::Relaxed);
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
        totals.pending = pending(totals.submitted, ended);
        totals.oldest_pending = oldest;
        totals
    }
}
