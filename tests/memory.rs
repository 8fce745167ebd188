//! Memory: after a million operations, and after a hundred thousand
//! pending ones are cancelled, resident memory comes back near where it
//! was after a warm-up, on every backend.
//!
//! Each test runs in a fresh process (resident memory is process-wide,
//! and libtest runs tests in parallel) and prints its figures; run with
//! `--nocapture` to see them. `CROCHET_MEMORY_OPERATIONS` overrides the
//! number of operations (default 1,000,000).
#![cfg(any(feature = "tokio", feature = "smol", feature = "async-std"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crochet::{EventualResult, Reactor};
use crochet_conformance::support::{Gate, Live, PROMPTLY, eventually, in_fresh_process};

const OPERATIONS_VAR: &str = "CROCHET_MEMORY_OPERATIONS";
const OPERATIONS: usize = 1_000_000;
/// Operations in flight at once: submitted together, then all waited.
const BATCH: usize = 1_000;
/// Operations left pending on a gate, then all cancelled.
const CANCELLED: usize = 100_000;
const MIB: u64 = 1024 * 1024;
/// How far above the baseline resident memory may stay.
///
/// The allocator keeps freed memory for reuse (glibc holds freed chunks in
/// its arenas and returns pages to the system only from the top of a heap),
/// so resident memory rarely falls back exactly, and the reactor's own
/// structures (a runtime's task slabs, the registry's slabs) keep their
/// high-water capacity. The warm-up reaches the same peaks as the measured
/// runs, so that this caching is already in the baseline and what remains
/// is growth: a leak. 32 MiB is generous against that noise (a few MiB
/// measured) and still catches a leak of 34 bytes per operation over the
/// million, or of 336 bytes per cancelled operation: about half of what a
/// pending operation holds (100,000 pending take 55 to 70 MiB, by backend).
const BOUND: u64 = 32 * MIB;

/// A field of `/proc/self/status` (`VmRSS`, `VmHWM`), in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    let kib: u64 = line
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("a size in kB");
    kib * 1024
}

fn resident() -> u64 {
    status_bytes("VmRSS")
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

/// `count` operations, `BATCH` in flight at a time, each waited for.
fn run_operations(reactor: &Reactor, count: usize) {
    let mut batch: Vec<EventualResult<usize>> = Vec::with_capacity(BATCH);
    let mut submitted = 0;
    while submitted < count {
        let size = BATCH.min(count - submitted);
        batch.extend(
            (submitted..submitted + size).map(|i| reactor.run_in_reactor(move || async move { i })),
        );
        for (offset, result) in batch.drain(..).enumerate() {
            assert_eq!(
                result.wait_timeout(PROMPTLY).expect("an operation"),
                submitted + offset
            );
        }
        submitted += size;
    }
}

/// `count` operations pending on a gate, all cancelled, and waited until
/// every future is gone. Returns the resident memory while they pended.
fn cancel_pending(reactor: &Reactor, count: usize) -> u64 {
    let live = Live::new();
    let started = Arc::new(AtomicUsize::new(0));
    let gate = Gate::new();
    let results: Vec<EventualResult<()>> = (0..count)
        .map(|_| {
            let token = live.token();
            let started = Arc::clone(&started);
            let opened = gate.opened();
            reactor.run_in_reactor(move || async move {
                let _token = token;
                started.fetch_add(1, Ordering::Relaxed);
                opened.await;
            })
        })
        .collect();
    // Pending for real: every future has run up to the gate.
    assert!(
        eventually(PROMPTLY, || started.load(Ordering::Relaxed) == count),
        "the pending operations never started"
    );
    let pending = resident();
    for result in &results {
        assert!(result.cancel());
    }
    drop(results);
    assert!(
        eventually(PROMPTLY, || live.count() == 0),
        "{} cancelled futures were never dropped",
        live.count()
    );
    assert!(eventually(PROMPTLY, || reactor.pending_operations() == 0));
    // The gate holds the wakers of the dropped futures until it goes.
    drop(gate);
    pending
}

fn measure(backend: &str, reactor: Reactor) {
    let operations = std::env::var(OPERATIONS_VAR)
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(OPERATIONS);

    // Warm-up: the same peaks as the measured runs, smaller totals.
    let initial = resident();
    run_operations(&reactor, 20 * BATCH);
    let warm_pending = cancel_pending(&reactor, CANCELLED);
    let baseline = resident();

    let started = Instant::now();
    run_operations(&reactor, operations);
    let operations_took = started.elapsed();
    let after_operations = resident();

    let started = Instant::now();
    let pending = cancel_pending(&reactor, CANCELLED);
    let cancel_took = started.elapsed();
    let after_cancel = resident();
    let peak = status_bytes("VmHWM");

    reactor.shutdown(PROMPTLY).expect("shutdown");
    eprintln!(
        "memory [{backend}]: {:.1} MiB at start, {:.1} MiB with {CANCELLED} pending in the warm-up; baseline {:.1} MiB; after {operations} operations ({BATCH} in flight, {:.1}s) {:.1} MiB ({:+.1}); {:.1} MiB with {CANCELLED} pending again, after they are cancelled ({:.1}s) {:.1} MiB ({:+.1}); peak {:.1} MiB; bound +{} MiB",
        mib(initial),
        mib(warm_pending),
        mib(baseline),
        operations_took.as_secs_f64(),
        mib(after_operations),
        mib(after_operations) - mib(baseline),
        mib(pending),
        cancel_took.as_secs_f64(),
        mib(after_cancel),
        mib(after_cancel) - mib(baseline),
        mib(peak),
        BOUND / MIB,
    );
    assert!(
        after_operations <= baseline + BOUND,
        "{backend}: {:.1} MiB resident after {operations} operations, from {:.1} MiB",
        mib(after_operations),
        mib(baseline)
    );
    assert!(
        after_cancel <= baseline + BOUND,
        "{backend}: {:.1} MiB resident after {CANCELLED} cancelled operations, from {:.1} MiB",
        mib(after_cancel),
        mib(baseline)
    );
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_resident_memory_returns_near_baseline_after_churn() {
    in_fresh_process(
        concat!(
            module_path!(),
            "::tokio_resident_memory_returns_near_baseline_after_churn"
        ),
        || {
            let reactor =
                Reactor::start(crochet::backends::tokio::Tokio::builder()).expect("tokio");
            measure("tokio", reactor);
        },
    );
}

#[cfg(feature = "smol")]
#[test]
fn smol_resident_memory_returns_near_baseline_after_churn() {
    in_fresh_process(
        concat!(
            module_path!(),
            "::smol_resident_memory_returns_near_baseline_after_churn"
        ),
        || {
            let reactor = Reactor::start(crochet::backends::smol::Smol::builder()).expect("smol");
            measure("smol", reactor);
        },
    );
}

#[cfg(feature = "async-std")]
#[test]
fn async_std_resident_memory_returns_near_baseline_after_churn() {
    in_fresh_process(
        concat!(
            module_path!(),
            "::async_std_resident_memory_returns_near_baseline_after_churn"
        ),
        || {
            let reactor = Reactor::start(crochet::backends::async_std::AsyncStd::builder())
                .expect("async-std");
            measure("async-std", reactor);
        },
    );
}
