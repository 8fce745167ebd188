//! The tables printed at the end of a run.

use crate::affinity::Mode;
use crate::config::{Backend, PENDING, STASH_THREADS, Settings, THREAD_COUNTS};
use crate::results::{FLOOR, MAP_STASH, PYTHON, PythonStatus, Ratios, Record};
use crate::subjects::STREAM_BUFFER;

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

    for mode in [Mode::Unpinned, Mode::Pinned] {
        let mut table = Table::new([
            "implementation",
            "1 thread",
            "4 threads",
            "32 threads",
            "compared at 32",
        ]);
        let mut rows: Vec<String> = ids.clone();
        rows.extend([FLOOR.to_owned(), PYTHON.to_owned()]);
        for id in rows {
            let rates: Vec<Option<f64>> = THREAD_COUNTS
                .iter()
                .map(|&threads| record.throughput(mode, &id, threads))
                .collect();
            if rates.iter().all(Option::is_none) {
                continue;
            }
            let compared = match backends.iter().find(|backend| backend.crochet_id() == id) {
                Some(&backend) if mode == Mode::Unpinned => format!(
                    "{} {}",
                    times(
                        ratios
                            .throughput_vs_raw
                            .get(&(backend, 32))
                            .copied()
                            .flatten()
                    ),
                    backend.raw_id()
                ),
                _ if id == PYTHON && mode == Mode::Unpinned => {
                    python_vs(ratios.python_throughput32)
                }
                _ => String::new(),
            };
            table.row([id, rate(rates[0]), rate(rates[1]), rate(rates[2]), compared]);
        }
        let note = match mode {
            Mode::Unpinned => python_note(&format!(
                "at 32 threads, {reference}'s calls/s ÷ Python's = Python's time per call ÷ {reference}'s",
                reference = reference.as_deref().unwrap_or("crochet")
            )),
            Mode::Pinned => String::new(),
        };
        let compared = match mode {
            Mode::Unpinned => "; compared at 32: crochet's calls/s ÷ raw's",
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
        Some(ns) => format!("{:.2} ms", ns / 1e6),
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
