//! The calling-thread path's table: crochet's inline `wait_for` of a
//! ready future against the raw round trip and the runtime's `block_on`.

use super::{Table, nanos, rate, times, verdict};
use crate::affinity::Mode;
use crate::config::Backend;
use crate::results::Record;
use crate::subjects::BlockOn;
use crate::workloads::inline::{THREADS, wait_for_id};

/// One row per backend and mode, then the targets.
pub(super) fn print(record: &Record, backends: &[Backend]) {
    let mut table = Table::new([
        "backend, mode",
        "wait_for",
        "raw round trip",
        "block_on",
        "raw ÷ wait_for",
        "wait_for ÷ block_on",
    ]);
    let mut targets = Vec::new();
    for &backend in backends {
        let ids = (wait_for_id(backend), backend.raw_id(), BlockOn::id(backend));
        for mode in Mode::ALL {
            let wait_for = record.latency_median(mode, &ids.0);
            let raw = record.latency_median(mode, &ids.1);
            let block_on = record.latency_median(mode, &ids.2);
            let speedup = raw.zip(wait_for).map(|(raw, inline)| raw / inline);
            let against = wait_for.zip(block_on).map(|(inline, block)| inline / block);
            table.row([
                format!("{backend}, {mode}"),
                nanos(wait_for),
                nanos(raw),
                nanos(block_on),
                times(speedup),
                times(against),
            ]);
            if mode == Mode::Pinned {
                targets.push(format!(
                    "  target, {}: ≥ 5× faster than {} ({}), within 1.2× of {} ({})",
                    ids.0,
                    ids.1,
                    verdict(speedup, |r| r >= 5.0),
                    ids.2,
                    verdict(against, |r| r <= 1.2),
                ));
            }
        }
        let of = |id: &str| record.throughput(Mode::Unpinned, id, THREADS);
        let (inline, raw, block) = (of(&ids.0), of(&ids.1), of(&ids.2));
        targets.push(format!(
            "  {THREADS} threads, unpinned, per second: {} {}, {} {}, {} {}",
            ids.0,
            rate(inline),
            ids.1,
            rate(raw),
            ids.2,
            rate(block),
        ));
    }
    table.print(
        "The calling-thread path: median latency of one call on a ready future, \
         wait_for(timeout, || async { v }) run inline, against the raw round trip \
         (spawn, oneshot, blocking receive) and the runtime's block_on of the same future",
    );
    for line in targets {
        println!("{line}");
    }
}
