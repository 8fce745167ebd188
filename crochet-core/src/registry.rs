//! The pending operations of one reactor, so that shutdown can complete
//! every one of them with `ReactorStopped` even when the runtime cannot
//! drop them (an attached runtime, or a task blocking its thread).
//!
//! Sharded by submitting thread: under many submitting threads each shard
//! lock is mostly taken by one submitter and the reactor thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use slab::Slab;

use crate::completion::Completion;
use crate::error::Error;

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

// Each shard on its own cache lines, so neighbours do not false-share.
#[repr(align(128))]
struct Shard {
    entries: Mutex<Entries>,
}

struct Entries {
    live: Slab<Arc<dyn Interrupt>>,
    stopped: bool,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) struct Registry {
    shards: Box<[Arc<Shard>]>,
}

/// A pending operation's place in the registry; dropping it removes it.
pub(crate) struct Registration {
    shard: Arc<Shard>,
    key: usize,
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

impl Registry {
    pub(crate) fn new() -> Self {
        Registry {
            shards: (0..SHARDS)
                .map(|_| {
                    Arc::new(Shard {
                        entries: Mutex::new(Entries {
                            live: Slab::new(),
                            stopped: false,
                        }),
                    })
                })
                .collect(),
        }
    }

    /// Records a pending operation; `None` once [`Registry::stop_all`] ran.
    pub(crate) fn register(&self, cell: Arc<dyn Interrupt>) -> Option<Registration> {
        let shard = &self.shards[shard_index()];
        let mut entries = shard.lock();
        if entries.stopped {
            return None;
        }
        let key = entries.live.insert(cell);
        drop(entries);
        Some(Registration {
            shard: Arc::clone(shard),
            key,
        })
    }

    /// Refuses new registrations and stops every pending operation.
    pub(crate) fn stop_all(&self) {
        for shard in self.shards.iter() {
            let drained: Vec<_> = {
                let mut entries = shard.lock();
                entries.stopped = true;
                entries.live.drain().collect()
            };
            // Outside the shard lock: interrupting wakes tasks and threads.
            for cell in drained {
                cell.stop();
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
}

impl Drop for Registration {
    fn drop(&mut self) {
        let removed = self.shard.lock().live.try_remove(self.key);
        // Dropped outside the lock: it may be the cell's last reference.
        drop(removed);
    }
}
