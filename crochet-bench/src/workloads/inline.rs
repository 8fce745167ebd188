//! The calling-thread path: crochet's inline `wait_for` of a ready future
//! against the raw round trip (measured in the same run by the pair
//! workloads) and against the runtime's own `block_on` of the same future.
//! Latency pinned and unpinned; throughput from 32 threads, unpinned.

use crochet::Reactor;

use crate::affinity::{Affinity, Mode};
use crate::config::{Backend, Settings};
use crate::results::Record;
use crate::subjects::{BlockOn, RoundTrip, WaitForInline};
use crate::workloads::{latency, throughput};
use crate::{apply, progress};

/// The threads of the throughput figure.
pub(crate) const THREADS: usize = 32;

/// The id of crochet's inline `wait_for` on `backend`.
pub(crate) fn wait_for_id(backend: Backend) -> String {
    format!("{} wait_for", backend.crochet_id())
}

/// Measures `reactor`'s inline `wait_for` and `backend`'s `block_on`, who
/// goes first alternating over repeats.
pub(crate) fn bench(
    backend: Backend,
    reactor: &Reactor,
    settings: &Settings,
    affinity: &Affinity,
    record: &mut Record,
) -> Result<(), String> {
    let block_on = BlockOn::new(backend)
        .map_err(|error| format!("cannot build {backend}'s block_on baseline: {error}"))?;
    let wait_for = WaitForInline(reactor);
    let wait_for_id = wait_for_id(backend);
    let block_on_id = BlockOn::id(backend);
    let subjects: [(&str, &dyn RoundTrip); 2] =
        [(&wait_for_id, &wait_for), (&block_on_id, &block_on)];
    for repeat in 0..settings.repeats {
        let mut order = subjects;
        if repeat % 2 == 1 {
            order.reverse();
        }
        for mode in Mode::ALL {
            progress(&format!(
                "{backend}, inline wait_for and block_on, {mode}, repeat {}/{}",
                repeat + 1,
                settings.repeats
            ));
            apply(affinity, mode)?;
            for (id, subject) in order {
                let run = latency::run(&subject, settings.latency_warmup, settings.latency_calls);
                record.push_latency(mode, id, run);
                if mode == Mode::Unpinned {
                    let (warmup, window) = (settings.throughput_warmup, settings.throughput_window);
                    let rate = throughput::run(&subject, THREADS, warmup, window);
                    record.push_throughput(mode, id, THREADS, rate);
                }
            }
        }
    }
    apply(affinity, Mode::Unpinned)
}
