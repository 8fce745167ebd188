//! The spawner's references to its executor: one per shard of submitting
//! threads, each behind a lock on a cache line of its own. A spawn takes
//! the read lock of its thread's shard, which no other thread contends for
//! (unless more threads submit than there are shards); shutdown takes them
//! all out, so that the executor is dropped on a reactor thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use async_executor::Executor;

const SHARDS: usize = 16;

#[repr(align(128))]
struct Slot(RwLock<Option<Arc<Executor<'static>>>>);

pub(crate) struct Slots(Box<[Slot]>);

impl Slots {
    pub(crate) fn new(executor: &Arc<Executor<'static>>) -> Self {
        Slots(
            (0..SHARDS)
                .map(|_| Slot(RwLock::new(Some(Arc::clone(executor)))))
                .collect(),
        )
    }

    /// Calls `f` with the executor, or with `None` once it was taken out.
    pub(crate) fn with<R>(&self, f: impl FnOnce(Option<&Arc<Executor<'static>>>) -> R) -> R {
        let slot = self.0[shard_index()]
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        f(slot.as_ref())
    }

    /// Takes every reference out; returns the last one (`None` if taken
    /// before). The others are let go here: the reactor threads hold the
    /// executor on their own, so none of them is the last.
    pub(crate) fn take(&self) -> Option<Arc<Executor<'static>>> {
        let mut last = None;
        for slot in self.0.iter() {
            let taken = slot
                .0
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(executor) = taken {
                drop(last.replace(executor));
            }
        }
        last
    }
}

/// The calling thread's shard, assigned round-robin on first use.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    INDEX.with(|index| {
        if index.get() == usize::MAX {
            index.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        index.get()
    })
}
