//! The benchmark's global allocator: `std::alloc::System`, counting the
//! allocations every thread makes while a measurement asks it to.
//!
//! Counting is off unless [`during`] is running, so that every other
//! workload pays one relaxed load of a flag nobody writes per allocation,
//! not a write to a counter shared between threads.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Allocations (a `realloc` is one, of its new size) and the bytes they
/// asked for, from every thread of the process.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counts {
    pub(crate) allocations: u64,
    pub(crate) bytes: u64,
}

struct Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

static ON: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

fn count(size: usize) {
    if ON.load(Ordering::Relaxed) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

// A global allocator is an `unsafe impl` whose methods are `unsafe fn`:
// there is no safe way to count allocations, and only this impl needs it.
#[allow(unsafe_code)]
// SAFETY: every method hands its arguments unchanged to `System`, whose
// implementation meets `GlobalAlloc`'s contract; counting only touches
// atomics, never allocates, and never unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: our caller meets `alloc`'s contract (a non-zero size),
        // which is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, that is by
        // `System`, with `layout`, as our caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: `ptr` and `layout` come from `System` through this
        // allocator, and `new_size` meets `realloc`'s contract, as our
        // caller guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and counts the allocations that every thread makes meanwhile.
///
/// Nothing else may be counting at the same time (the benchmark measures
/// one thing at a time).
pub(crate) fn during(f: impl FnOnce()) -> Counts {
    let before = Counts {
        allocations: ALLOCATIONS.load(Ordering::SeqCst),
        bytes: BYTES.load(Ordering::SeqCst),
    };
    ON.store(true, Ordering::SeqCst);
    f();
    ON.store(false, Ordering::SeqCst);
    Counts {
        allocations: ALLOCATIONS.load(Ordering::SeqCst) - before.allocations,
        bytes: BYTES.load(Ordering::SeqCst) - before.bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_while_asked() {
        let counts = during(|| {
            let boxed = std::hint::black_box(Box::new([0_u8; 64]));
            drop(boxed);
        });
        // Other test threads may allocate meanwhile: at least ours counts.
        assert!(counts.allocations >= 1 && counts.bytes >= 64, "{counts:?}");
        let idle = during(|| {});
        assert!(idle.allocations <= counts.allocations, "{idle:?}");
    }
}
