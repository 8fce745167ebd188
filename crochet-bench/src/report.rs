//! The tables printed at the end of a run.

use std::collections::BTreeMap;

mod inline;

use crate::affinity::Mode;
use crate::config::{
    Backend, MILLION, PENDING, STASH_THREADS, Settings, THREAD_COUNTS, THROUGHPUT_THREADS,
};
use crate::results::{FLOOR, HttpFigure, MAP_STASH, PYTHON, PythonStatus, Ratios, Record};
use crate::subjects::STREAM_BUFFER;
use crate::subjects::http::{HANDLE_BLOCK_ON, PEERS, REQWEST_BLOCKING};
use crate::workloads::million::{MillionRun, SHUTDOWN_TARGET, WAITERS};
use crate::workloads::with_tracing::Traced;

/// Prints every workload's table.
pub(crate) fn print(record: &Record, ratios: &Ratios, settings: &Settings, pinned_cpu: usize) {
    let backends = &settings.backends[..];
    let reference = ratios.python_reference.map(Backend::crochet_id);
    // Python's ratios say how many times crochet beats it.
    let python_vs = |ratio: Option<f64>| match &reference {
        Some(reference) => format!("{reference} {} faster", times(ratio)),
        None => String::new(),
    };
    // What the Python row's ratio is, under the tables that have one.
    let python_note = |what: &str| match &reference {
        Some(reference) => format!(
            "\n  {PYTHON}'s \"compared\": {what}, i.e. how many times {reference} beats Python (higher is better)"
        ),
        None => String::new(),
    };
    let mode_label = |mode: Mode| match mode {
        Mode::Pinned => format!("pinned to CPU {pinned_cpu}"),
        Mode::Unpinned => "unpinned".to_owned(),
    };
    let mut ids: Vec<String> = Vec::new();
    for backend in backends {
        ids.push(backend.crochet_id());
        ids.push(backend.raw_id());
    }

    for mode in Mode::ALL {
        let mut table = Table::new(["implementation", "median", "p99", "compared"]);
        for &backend in backends {
            let unpinned = ratios
                .latency_unpinned_vs_raw
                .get(&backend)
                .copied()
                .flatten();
            let compared = match mode {
                Mode::Pinned => format!(
                    "{} {}, {} floor",
                    times(ratios.latency_vs_raw.get(&backend).copied().flatten()),
                    backend.raw_id(),
                    times(ratios.latency_vs_floor.get(&backend).copied().flatten()),
                ),
                Mode::Unpinned => format!("{} {}", times(unpinned), backend.raw_id()),
            };
            let crochet = backend.crochet_id();
            table.row([
                crochet.clone(),
                nanos(record.latency_median(mode, &crochet)),
                nanos(record.latency_p99(mode, &crochet)),
                compared,
            ]);
            let raw = backend.raw_id();
            table.row([
                raw.clone(),
                nanos(record.latency_median(mode, &raw)),
                nanos(record.latency_p99(mode, &raw)),
                String::new(),
            ]);
        }
        for id in [FLOOR, PYTHON] {
            if record.latency_median(mode, id).is_none() {
                continue;
            }
            let compared = if id == PYTHON && mode == Mode::Pinned {
                python_vs(ratios.python_latency)
            } else {
                String::new()
            };
            table.row([
                id.to_owned(),
                nanos(record.latency_median(mode, id)),
                nanos(record.latency_p99(mode, id)),
                compared,
            ]);
        }
        let (compared, note) = match mode {
            Mode::Pinned => (
                "crochet's median ÷ raw's, and ÷ the floor's",
                python_note(&format!(
                    "Python's median latency ÷ {}'s",
                    reference.as_deref().unwrap_or("crochet")
                )),
            ),
            Mode::Unpinned => ("crochet's median ÷ raw's", String::new()),
        };
        table.print(&format!(
            "Round-trip latency, {}: one thread, run_in_reactor(|| async {{}}).wait(); compared: {compared}{note}",
            mode_label(mode)
        ));
    }

    print_accounting(record, ratios, settings, pinned_cpu);
    inline::print(record, backends);

    for mode in [Mode::Unpinned, Mode::Pinned] {
        let mut table = Table::new([
            "implementation",
            "1 thread",
            "4 threads",
            "32 threads",
            "256 threads",
            "compared at 32 (256)",
        ]);
        let mut rows: Vec<String> = ids.clone();
        rows.extend([FLOOR.to_owned(), PYTHON.to_owned()]);
        for id in rows {
            let rates: Vec<Option<f64>> = THROUGHPUT_THREADS
                .iter()
                .map(|&threads| record.throughput(mode, &id, threads))
                .collect();
            if rates.iter().all(Option::is_none) {
                continue;
            }
            let compared = match backends.iter().find(|backend| backend.crochet_id() == id) {
                Some(&backend) if mode == Mode::Unpinned => {
                    let at = |threads| {
                        let ratio = ratios.throughput_vs_raw.get(&(backend, threads));
                        times(ratio.copied().flatten())
                    };
                    format!("{} {} (at 256: {})", at(32), backend.raw_id(), at(256))
                }
                _ if id == PYTHON && mode == Mode::Unpinned => {
                    python_vs(ratios.python_throughput32)
                }
                _ => String::new(),
            };
            table.row([
                id,
                rate(rates[0]),
                rate(rates[1]),
                rate(rates[2]),
                rate(rates[3]),
                compared,
            ]);
        }
        let note = match mode {
            Mode::Unpinned => python_note(&format!(
                "at 32 threads, {reference}'s calls/s ÷ Python's = Python's time per call ÷ {reference}'s",
                reference = reference.as_deref().unwrap_or("crochet")
            )),
            Mode::Pinned => String::new(),
        };
        let compared = match mode {
            Mode::Unpinned => "; compared at 32 (and 256): crochet's calls/s ÷ raw's",
            Mode::Pinned => "",
        };
        table.print(&format!(
            "Throughput, {}: calls/s from all submitting threads{compared}{note}",
            mode_label(mode)
        ));
    }

    for mode in Mode::ALL {
        let mut table = Table::new(["implementation", "median", "p99", "compared"]);
        for &backend in backends {
            let compared = match mode {
                Mode::Pinned => format!(
                    "{} {}",
                    times(ratios.cancel_vs_raw.get(&backend).copied().flatten()),
                    backend.raw_id()
                ),
                Mode::Unpinned => String::new(),
            };
            for (id, compared) in [
                (backend.crochet_id(), compared),
                (backend.raw_id(), String::new()),
            ] {
                table.row([
                    id.clone(),
                    nanos(record.cancel_median(mode, &id)),
                    nanos(record.cancel_p99(mode, &id)),
                    compared,
                ]);
            }
        }
        table.print(&format!(
            "Cancel latency, {}: cancel() to the blocked waiter waking",
            mode_label(mode)
        ));
    }

    let mut table = Table::new([
        "implementation",
        "per pending",
        "left after cancel",
        "compared",
    ]);
    for &backend in backends {
        let compared = format!(
            "{} {}",
            times(ratios.memory_vs_raw.get(&backend).copied().flatten()),
            backend.raw_id()
        );
        for (id, compared) in [
            (backend.crochet_id(), compared),
            (backend.raw_id(), String::new()),
        ] {
            table.row([
                id.clone(),
                bytes(record.bytes_per_pending(&id)),
                kib(record.retained_kib(&id)),
                compared,
            ]);
        }
    }
    table.print(&format!(
        "Memory: resident set growth per result with {PENDING} pending (handles included), fresh process each"
    ));

    print_million(record, ratios, settings);

    let mut table = Table::new(["implementation", "stash+retrieve/s", "compared"]);
    for &backend in backends {
        let id = backend.crochet_id();
        let compared = format!(
            "{} {MAP_STASH}",
            times(ratios.stash_vs_map.get(&backend).copied().flatten())
        );
        table.row([id.clone(), rate(record.stash_rate(&id)), compared]);
    }
    table.row([
        MAP_STASH.to_owned(),
        rate(record.stash_rate(MAP_STASH)),
        String::new(),
    ]);
    table.print(&format!(
        "Stash: {STASH_THREADS} threads, unpinned, each stashing and retrieving one result"
    ));

    for mode in [Mode::Unpinned, Mode::Pinned] {
        let mut table = Table::new(["implementation", "items/s", "compared"]);
        for &backend in backends {
            let ratio = match mode {
                Mode::Unpinned => &ratios.stream_vs_raw,
                Mode::Pinned => &ratios.stream_pinned_vs_raw,
            };
            let compared = format!(
                "{} {}",
                times(ratio.get(&backend).copied().flatten()),
                backend.raw_id()
            );
            for (id, compared) in [
                (backend.crochet_id(), compared),
                (backend.raw_id(), String::new()),
            ] {
                table.row([id.clone(), rate(record.stream_rate(mode, &id)), compared]);
            }
        }
        table.print(&format!(
            "Stream, {}: items/s through one stream of {} items read to its end by one blocking thread, buffer {STREAM_BUFFER}; \
             raw: a task sending into async_channel::bounded({STREAM_BUFFER}), read with recv_blocking(); compared: crochet ÷ raw",
            mode_label(mode),
            settings.stream_items,
        ));
    }

    print_http(record, ratios, settings);

    match &record.python {
        PythonStatus::Measured(versions) => println!("\nPython crochet: {versions}"),
        PythonStatus::Unavailable(reason) => {
            println!("\nPython crochet: not measured ({reason}); its ratios are null")
        }
        PythonStatus::Skipped => println!("\nPython crochet: skipped (--no-python)"),
    }
    for failure in &record.failures {
        println!("failed: {failure}");
    }
}

/// The accounting tables: allocations per round trip, and the round trip
/// with a tracing subscriber.
pub(crate) fn print_accounting(
    record: &Record,
    ratios: &Ratios,
    settings: &Settings,
    pinned_cpu: usize,
) {
    let backends = &settings.backends[..];
    let pinned = format!("pinned to CPU {pinned_cpu}");
    let mut table = Table::new(["implementation", "allocations", "bytes", "compared"]);
    for &backend in backends {
        let compared = format!(
            "{} / {} {}",
            times(ratios.allocations_vs_raw.get(&backend).copied().flatten()),
            times(ratios.alloc_bytes_vs_raw.get(&backend).copied().flatten()),
            backend.raw_id()
        );
        for (id, compared) in [
            (backend.crochet_id(), compared),
            (backend.raw_id(), String::new()),
        ] {
            table.row([
                id.clone(),
                count(record.allocations_per_call(&id)),
                bytes(record.alloc_bytes_per_call(&id)),
                compared,
            ]);
        }
    }
    if record.allocations_per_call(FLOOR).is_some() {
        table.row([
            FLOOR.to_owned(),
            count(record.allocations_per_call(FLOOR)),
            bytes(record.alloc_bytes_per_call(FLOOR)),
            String::new(),
        ]);
    }
    table.print(&format!(
        "Allocations per round trip, {}: counted from every thread over {} round trips after {} uncounted; \
         compared: crochet ÷ raw, allocations / bytes",
        pinned,
        settings.latency_calls,
        settings.latency_warmup,
    ));

    let mut table = Table::new([
        "implementation",
        "without",
        "subscriber",
        "in span",
        "p99 in span",
        "compared",
    ]);
    for &backend in backends {
        let of = |map: &BTreeMap<Backend, Option<f64>>| times(map.get(&backend).copied().flatten());
        let compared = format!(
            "{} / {} without, {} / {} {}",
            of(&ratios.tracing_vs_without),
            of(&ratios.tracing_span_vs_without),
            of(&ratios.tracing_vs_raw),
            of(&ratios.tracing_span_vs_raw),
            backend.raw_id(),
        );
        for (id, compared) in [
            (backend.crochet_id(), compared),
            (backend.raw_id(), String::new()),
        ] {
            let median = |traced| nanos(record.tracing_median(&id, traced));
            table.row([
                id.clone(),
                median(Traced::Without),
                median(Traced::Subscriber),
                median(Traced::InSpan),
                nanos(record.tracing_p99(&id, Traced::InSpan)),
                compared,
            ]);
        }
    }
    table.print(&format!(
        "Round trip with a tracing subscriber, {}, fresh process each: median latency without one, with a fmt subscriber \
         to a sink at INFO (crochet's events filtered out), and inside a caller's info_span; \
         compared: crochet's subscriber / in-span median ÷ its own without, and ÷ raw's under the same",
        pinned,
    ));
}

/// The pending-at-scale table: memory per pending and shutdown time with
/// many pending on tokio, and the targets.
pub(crate) fn print_million(record: &Record, ratios: &Ratios, settings: &Settings) {
    if record.million.is_empty() {
        return;
    }
    let backend = Backend::Tokio;
    let of = |map: &BTreeMap<Backend, Option<f64>>| map.get(&backend).copied().flatten();
    let mut table = Table::new([
        "implementation",
        "per pending",
        "stop returned",
        "waiters woken",
        "futures dropped",
        "shutdown",
        "compared",
    ]);
    let compared = format!(
        "{} / {} {}",
        times(of(&ratios.million_memory_vs_raw)),
        times(of(&ratios.million_shutdown_vs_raw)),
        backend.raw_id()
    );
    for (id, compared) in [
        (backend.crochet_id(), compared),
        (backend.raw_id(), String::new()),
    ] {
        let figure = |f: fn(&MillionRun) -> f64| record.million(&id, f);
        table.row([
            id.clone(),
            bytes(figure(MillionRun::bytes_per_pending)),
            nanos(figure(|run| run.stop_returned_ns)),
            nanos(figure(|run| run.waiters_woken_ns)),
            nanos(figure(|run| run.futures_dropped_ns)),
            nanos(figure(MillionRun::shutdown_ns)),
            compared,
        ]);
    }
    let pending = thousands(settings.pending_at_scale);
    table.print(&format!(
        "Pending at scale, {}: {pending} pending{}, fresh process each, unpinned; memory: resident set growth per result \
         (handles included); shutdown: from the stop (crochet: Reactor::shutdown; raw: Runtime::shutdown_timeout) \
         until it returned, the {WAITERS} blocked waiters woke and every future was dropped; compared: crochet ÷ raw, memory / shutdown",
        backend.crochet_id(),
        if settings.quick {
            format!(" (quick mode; a full run uses {})", thousands(MILLION))
        } else {
            String::new()
        },
    ));
    let shutdown = record.million(&backend.crochet_id(), MillionRun::shutdown_ns);
    let target_secs = SHUTDOWN_TARGET.as_secs_f64();
    println!(
        "  target, {}{}: memory per pending ≤ 1.1× raw ({}), shutdown in under {target_secs:.0} s ({})",
        backend.crochet_id(),
        if settings.pending_at_scale == MILLION {
            String::new()
        } else {
            format!(
                " (set for {}, judged here at {pending})",
                thousands(MILLION)
            )
        },
        verdict(of(&ratios.million_memory_vs_raw), |r| r <= 1.1),
        match shutdown {
            Some(ns) if ns < target_secs * 1e9 => format!("met, {}", nanos(Some(ns))),
            Some(ns) => format!("MISSED, {}", nanos(Some(ns))),
            None => "n/a".to_owned(),
        },
    );
}

/// `1000000` as `1,000,000`.
fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Left-aligned first column, right-aligned figures, left-aligned last.
struct Table<const N: usize> {
    header: [String; N],
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    fn new(header: [&str; N]) -> Self {
        Table {
            header: header.map(str::to_owned),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, row: [String; N]) {
        self.rows.push(row);
    }

    fn print(&self, title: &str) {
        println!("\n{title}");
        let mut widths = [0; N];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::from("  ");
            for (column, (cell, width)) in row.iter().zip(widths).enumerate() {
                let pad = " ".repeat(width - cell.chars().count());
                if column == 0 || column == N - 1 {
                    line.push_str(cell);
                    line.push_str(&pad);
                } else {
                    line.push_str(&pad);
                    line.push_str(cell);
                }
                line.push_str("  ");
            }
            println!("{}", line.trim_end());
        }
    }
}

fn nanos(value: Option<f64>) -> String {
    match value {
        None => "n/a".to_owned(),
        Some(ns) if ns < 1_000.0 => format!("{ns:.0} ns"),
        Some(ns) if ns < 1_000_000.0 => format!("{:.1} µs", ns / 1e3),
        Some(ns) if ns < 1e9 => format!("{:.2} ms", ns / 1e6),
        Some(ns) => format!("{:.2} s", ns / 1e9),
    }
}

fn rate(value: Option<f64>) -> String {
    match value {
        None => "n/a".to_owned(),
        Some(rate) if rate >= 1e6 => format!("{:.2}M", rate / 1e6),
        Some(rate) if rate >= 1e3 => format!("{:.1}k", rate / 1e3),
        Some(rate) => format!("{rate:.0}"),
    }
}

/// A count per call, which may be fractional (something done every few
/// calls).
fn count(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |count| format!("{count:.2}"))
}

fn bytes(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |bytes| format!("{bytes:.0} B"))
}

fn kib(value: Option<f64>) -> String {
    value.map_or_else(
        || "n/a".to_owned(),
        |kib| format!("{:.1} MiB", kib / 1024.0),
    )
}

/// A ratio as `1.23×`.
fn times(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a×".to_owned(), |ratio| format!("{ratio:.2}×"))
}

/// The HTTP workload's tables: every approach's figures, then crochet ÷
/// each peer.
pub(crate) fn print_http(record: &Record, ratios: &Ratios, settings: &Settings) {
    let mut ids: Vec<String> = PEERS.map(str::to_owned).to_vec();
    ids.extend(settings.backends.iter().map(|backend| backend.crochet_id()));
    let mut table = Table::new([
        "approach", "req/s 1", "req/s 4", "req/s 32", "p50 1", "p99 1", "p50 32", "p99 32",
        "threads", "RSS 32",
    ]);
    for id in &ids {
        let figure = |callers, figure| record.http(id, callers, figure);
        let threads: Vec<String> = THREAD_COUNTS
            .iter()
            .map(|&callers| {
                figure(callers, HttpFigure::Threads)
                    .map_or_else(|| "n/a".to_owned(), |threads| format!("{threads:.0}"))
            })
            .collect();
        table.row([
            id.clone(),
            rate(figure(1, HttpFigure::RequestsPerS)),
            rate(figure(4, HttpFigure::RequestsPerS)),
            rate(figure(32, HttpFigure::RequestsPerS)),
            nanos(figure(1, HttpFigure::P50)),
            nanos(figure(1, HttpFigure::P99)),
            nanos(figure(32, HttpFigure::P50)),
            nanos(figure(32, HttpFigure::P99)),
            threads.join("/"),
            kib(figure(32, HttpFigure::RssKib)),
        ]);
    }
    table.print(&format!(
        "HTTP GET to a loopback server (keep-alive, {}-byte body), unpinned, requests/s from all callers, latency per request; \
         threads: the approach's own at 1/4/32 callers (not the callers, not main); RSS: the whole child process at 32 callers",
        blocking_client::loopback::BODY.len()
    ));

    let mut table = Table::new([
        "crochet ÷ peer",
        "req/s 1",
        "req/s 4",
        "req/s 32",
        "p50 1",
        "p99 1",
        "p50 32",
    ]);
    for ((backend, peer), ratio) in &ratios.http {
        table.row([
            format!("{} ÷ {peer}", backend.crochet_id()),
            times(ratio.rate[0]),
            times(ratio.rate[1]),
            times(ratio.rate[2]),
            times(ratio.p50_1),
            times(ratio.p99_1),
            times(ratio.p50_32),
        ]);
    }
    table.print("crochet's blocking client ÷ each peer (requests/s: higher is better; latency: lower is better)");
    // The targets: crochet-tokio's client at or ahead of `Handle::block_on`
    // and `reqwest::blocking` at every number of callers (and no slower at
    // the median with one); the others ahead of `reqwest::blocking` at 32.
    for ((backend, peer), ratio) in &ratios.http {
        let at_least_one = |ratio: Option<f64>| verdict(ratio, |r| r >= 1.0);
        match (backend, *peer) {
            (Backend::Tokio, REQWEST_BLOCKING | HANDLE_BLOCK_ON) => println!(
                "  target, {} against {peer}: requests/s ≥ 1× at 1 ({}), 4 ({}) and 32 ({}) callers{}",
                backend.crochet_id(),
                at_least_one(ratio.rate[0]),
                at_least_one(ratio.rate[1]),
                at_least_one(ratio.rate[2]),
                if *peer == HANDLE_BLOCK_ON {
                    format!(
                        ", p50 at 1 caller ≤ 1× ({})",
                        verdict(ratio.p50_1, |r| r <= 1.0)
                    )
                } else {
                    String::new()
                },
            ),
            (_, REQWEST_BLOCKING) => println!(
                "  target, {} against {peer}: requests/s at 32 callers ≥ 1× ({})",
                backend.crochet_id(),
                at_least_one(ratio.rate[2]),
            ),
            _ => {}
        }
    }
}

fn verdict(ratio: Option<f64>, met: impl Fn(f64) -> bool) -> String {
    match ratio {
        Some(ratio) if met(ratio) => format!("met, {}", times(Some(ratio))),
        Some(ratio) => format!("MISSED, {}", times(Some(ratio))),
        None => "n/a".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(999), "999");
    }
}
