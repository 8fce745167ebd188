//! Memory per pending result: the growth of the resident set while
//! [`PENDING`](crate::config::PENDING) operations wait on the gate, and
//! what is left once they are cancelled.
//!
//! Each implementation is measured in a fresh child process (this same
//! binary, `--memory-child <id>`): in one process, whichever ran second
//! would reuse the heap the first freed and look cheaper.

use std::fs;
use std::io;
use std::thread;
use std::time::Duration;

use serde_json::json;

use crate::child;
use crate::config::Backend;
use crate::subjects::{Crochet, Gate, Pending, RawAsyncStd, RawSmol, RawTokio, RoundTrip};

/// Resident set sizes, in KiB, around one batch of pending operations.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemoryRun {
    pub(crate) count: usize,
    /// After start-up and a warm-up batch.
    pub(crate) baseline_kib: u64,
    /// With `count` operations pending (the handles held by the caller
    /// included).
    pub(crate) pending_kib: u64,
    /// After cancelling them all and dropping their handles.
    pub(crate) cancelled_kib: u64,
}

impl MemoryRun {
    pub(crate) fn bytes_per_pending(&self) -> f64 {
        (self.pending_kib as f64 - self.baseline_kib as f64) * 1024.0 / self.count as f64
    }

    /// What the process still holds above its baseline after the cancel.
    pub(crate) fn retained_kib(&self) -> f64 {
        self.cancelled_kib as f64 - self.baseline_kib as f64
    }
}

/// Measures `id` in a child process.
pub(crate) fn measure(id: &str, count: usize) -> Result<MemoryRun, String> {
    let args = ["--memory-child", id, "--count", &count.to_string()].map(String::from);
    let output = child::run("memory", id, &args)?;
    let field = |name: &str| {
        output.value[name]
            .as_u64()
            .ok_or_else(|| format!("memory child output lacks {name}: {}", output.line))
    };
    Ok(MemoryRun {
        count,
        baseline_kib: field("baseline_kib")?,
        pending_kib: field("pending_kib")?,
        cancelled_kib: field("cancelled_kib")?,
    })
}

/// The child's side: measure `id` and print one JSON line.
pub(crate) fn child(id: &str, count: usize) -> Result<(), String> {
    let run = match id {
        "raw-tokio" => {
            let raw = RawTokio::start().map_err(|error| error.to_string())?;
            let run = in_this_process(&raw, count);
            raw.shutdown();
            run
        }
        "raw-smol" => {
            let raw = RawSmol::start().map_err(|error| error.to_string())?;
            let run = in_this_process(&raw, count);
            raw.shutdown();
            run
        }
        "raw-async-std" => in_this_process(&RawAsyncStd, count),
        crochet_id => {
            let backend = Backend::ALL
                .into_iter()
                .find(|backend| backend.crochet_id() == crochet_id)
                .ok_or_else(|| format!("no implementation named {crochet_id:?}"))?;
            let crochet = Crochet::start(backend).map_err(|error| error.to_string())?;
            let run = in_this_process(&crochet, count);
            crochet.shutdown().map_err(|error| error.to_string())?;
            run
        }
    }?;
    let line = json!({
        "baseline_kib": run.baseline_kib,
        "pending_kib": run.pending_kib,
        "cancelled_kib": run.cancelled_kib,
    });
    println!("{line}");
    Ok(())
}

fn in_this_process<S: Pending + RoundTrip>(subject: &S, count: usize) -> Result<MemoryRun, String> {
    let rss = || rss_kib().map_err(|error| format!("cannot read the resident set size: {error}"));
    let timeout = Duration::from_secs(60);
    let (key, gate) = Gate::new();

    // Warm up: round trips, and a small batch pending then cancelled, so
    // that every thread's allocator arena and the runtime's queues exist
    // before the baseline is read.
    for _ in 0..1_000 {
        subject.round_trip();
    }
    const WARMUP: usize = 1_000;
    let warmup: Vec<_> = (0..WARMUP).map(|_| subject.submit_pending(&gate)).collect();
    gate.wait_started(WARMUP, timeout)?;
    subject.cancel_all(warmup);
    let settle = || thread::sleep(Duration::from_millis(100));
    settle();
    let baseline_kib = rss()?;

    let mut handles = Vec::with_capacity(count);
    for _ in 0..count {
        handles.push(subject.submit_pending(&gate));
    }
    gate.wait_started(WARMUP + count, timeout)?;
    settle();
    let pending_kib = rss()?;

    subject.cancel_all(handles);
    settle();
    let cancelled_kib = rss()?;
    key.release();
    Ok(MemoryRun {
        count,
        baseline_kib,
        pending_kib,
        cancelled_kib,
    })
}

/// The resident set size of this process, in KiB.
pub(crate) fn rss_kib() -> io::Result<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other("no VmRSS in /proc/self/status"))
}
