//! The runtimes crochet spawns on directly: an operation goes to the
//! runtime as its own type, in the runtime's task allocation, instead of
//! boxed behind [`Spawner::spawn`]. Crochet's backends say which runtime
//! they are ([`Spawner::runtime`]); any other backend is spawned on
//! through the trait, boxed.
//!
//! tokio is spawned on through the trait, boxed, on purpose: its task
//! cells are 128-byte aligned, so an operation inside the cell costs more
//! memory than the box does (746 B against 569 B per pending result,
//! measured), and glibc handed that memory back less readily (the
//! memory test turned flaky). smol's and async-std's tasks take the
//! operation as its own type.
//!
//! [`Spawner::spawn`]: crate::backend::Spawner::spawn
//! [`Spawner::runtime`]: crate::backend::Spawner::runtime

#[cfg(feature = "async-executor")]
use std::sync::Arc;

/// A runtime that crochet spawns on without boxing each operation, as a
/// backend reports it with [`Spawner::runtime`](crate::backend::Spawner::runtime).
///
/// Each variant is there when crochet-core is built with the cargo feature
/// of the same name, which the backend crate that needs it turns on.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum Runtime {
    /// An async-executor, through references that shutdown takes out.
    #[cfg(feature = "async-executor")]
    Executor(Arc<ExecutorSlots>),
    /// async-std's global executor: `async_std::task::spawn(operation)`.
    #[cfg(feature = "async-std")]
    AsyncStd,
}

#[cfg(feature = "async-executor")]
pub use slots::ExecutorSlots;

#[cfg(feature = "async-executor")]
mod slots {
    use std::fmt;
    use std::future::Future;
    use std::sync::{Arc, PoisonError, RwLock};

    use async_executor::Executor;

    // Sharded as the registry is, by the same per-thread index.
    use crate::sync::{SHARDS, shard_index};

    #[repr(align(128))]
    struct Slot(RwLock<Option<Arc<Executor<'static>>>>);

    /// A spawner's references to its async-executor: one per shard of
    /// submitting threads, each behind a lock on a cache line of its own.
    /// A spawn takes the read lock of its thread's shard, which no other
    /// thread contends for (unless more threads submit than there are
    /// shards); [`ExecutorSlots::take`] takes them all out at shutdown, so
    /// that the executor can be dropped on a reactor thread.
    pub struct ExecutorSlots(Box<[Slot]>);

    impl ExecutorSlots {
        /// References to `executor`.
        pub fn new(executor: &Arc<Executor<'static>>) -> Self {
            ExecutorSlots(
                (0..SHARDS)
                    .map(|_| Slot(RwLock::new(Some(Arc::clone(executor)))))
                    .collect(),
            )
        }

        /// Spawns `future` on the executor and detaches it (inside tokio's
        /// context with the `tokio-compat` feature); once the references
        /// were taken out, drops it instead.
        pub fn spawn<F>(&self, future: F)
        where
            F: Future<Output = ()> + Send + 'static,
        {
            let slot = self.0[shard_index()]
                .0
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            match slot.as_ref() {
                Some(executor) => executor
                    .spawn(crate::compat::in_tokio_context(future))
                    .detach(),
                // Stopped: dropping the task completes its result as
                // stopped.
                None => drop(future),
            }
        }

        /// The executor, through the calling thread's reference (`None`
        /// once they were taken out at shutdown).
        pub fn executor(&self) -> Option<Arc<Executor<'static>>> {
            self.0[shard_index()]
                .0
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }

        /// Takes every reference out; returns the last one (`None` if
        /// taken before). The others are let go here: whoever runs the
        /// executor holds it on its own, so none of them is the last.
        pub fn take(&self) -> Option<Arc<Executor<'static>>> {
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

    impl fmt::Debug for ExecutorSlots {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("ExecutorSlots").finish_non_exhaustive()
        }
    }
}
