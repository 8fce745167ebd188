//! crochet-bench: measures crochet against what it replaces, in one run,
//! and prints ratios.
//!
//! For each backend (tokio, smol, async-std) it measures crochet and the
//! same work written by hand on the same runtime ("raw"), plus a floor
//! with no runtime at all (a std thread fed boxed closures over
//! `std::sync::mpsc`) and Python crochet on Twisted:
//!
//! 1. round-trip latency, one thread, median and p99 per call;
//! 2. throughput from 1, 4, 32 and 256 submitting threads;
//! 3. memory per pending result, with 100,000 pending, and after cancel;
//! 4. cancel latency, from `cancel()` to the blocked waiter waking;
//! 5. stash-and-retrieve pairs per second from 8 threads;
//! 6. stream throughput: items per second from a stream on the reactor to
//!    one blocking thread (crochet's `EventualStream` against a
//!    hand-written `async_channel` bridge of the same capacity);
//! 7. real requests: blocking HTTP GETs to a loopback server from 1, 4
//!    and 32 threads, through crochet's blocking-client example on each
//!    backend against `reqwest::blocking`, `Handle::block_on` and a
//!    runtime per thread (`--http-only` runs this one alone);
//! 8. allocations and bytes allocated per round trip, from every thread,
//!    counted by this program's global allocator;
//! 9. round-trip latency with a `tracing_subscriber` fmt subscriber
//!    installed, with no span and inside the caller's span, each
//!    implementation in a fresh process;
//! 10. pending at scale, on tokio: memory per pending result with
//!     1,000,000 pending (100,000 with `--quick`), then the time until a
//!     shutdown has woken every blocked waiter and dropped every future,
//!     each implementation in a fresh process (`--million-only` runs this
//!     one alone).
//!
//! Latency is measured with the whole process pinned to one CPU (what the
//! figures are judged on: a cross-CPU wake-up costs tens of microseconds
//! on small VMs) and unpinned; throughput unpinned (and pinned, for
//! reference); stream throughput likewise. Tables go to stdout, `results.json` and `throughput.svg` to
//! `target/crochet-bench/`.
//!
//! ```text
//! cargo run --release -p crochet-bench -- --quick   # smoke run, under two minutes
//! cargo run --release -p crochet-bench              # five repeats, medians
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod affinity;
mod alloc_count;
mod chart;
mod child;
mod config;
mod python;
mod report;
mod results;
mod stats;
mod subjects;
mod workloads;

use affinity::{Affinity, Mode};
use config::{
    Backend, Command, PENDING, STASH_THREADS, Settings, THREAD_COUNTS, THROUGHPUT_THREADS,
};
use python::Python;
use results::{FLOOR, MAP_STASH, PYTHON, PythonStatus, Ratios, Record};
use subjects::http::PEERS;
use subjects::{
    Crochet, Floor, Gate, Pending, RawAsyncStd, RawSmol, RawTokio, RoundTrip, StreamBridge,
};
use workloads::{
    allocs, cancel, http, inline, latency, memory, million, stash, stream, throughput, with_tracing,
};

fn main() -> ExitCode {
    let command = match config::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let outcome = match command {
        Command::Help => {
            println!("{}", config::USAGE);
            Ok(())
        }
        Command::MemoryChild { id, count } => memory::child(&id, count),
        Command::MillionChild { id, count } => million::child(&id, count),
        Command::HttpChild(args) => http::child(&args),
        Command::TracingChild { id, warmup, calls } => with_tracing::child(&id, warmup, calls),
        Command::Run(settings) => run(&settings),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("crochet-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Where results go: `CARGO_TARGET_DIR`, else the workspace's `target/`.
fn output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        },
        PathBuf::from,
    );
    target.join("crochet-bench")
}

fn run(settings: &Settings) -> Result<(), String> {
    let started = Instant::now();
    let affinity =
        Affinity::current().map_err(|error| format!("cannot read the CPU affinity: {error}"))?;
    let out = output_dir();
    fs::create_dir_all(&out)
        .map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    // `crochet-bench/../target` reads better without the `..`.
    let out = fs::canonicalize(&out).unwrap_or(out);
    let backends: Vec<&str> = settings.backends.iter().map(|b| b.name()).collect();
    println!(
        "crochet-bench, {} mode: {} repeat(s), medians kept; backends {}; CPUs {:?}, pinned mode on CPU {}",
        settings.mode_name(),
        settings.repeats,
        backends.join(", "),
        affinity.all_cpus(),
        affinity.pinned_cpu(),
    );
    if affinity.all_cpus().len() < 2 {
        println!("note: only one CPU is allowed, so unpinned figures are pinned ones too");
    }

    let mut record = Record::new();
    // Installing Python crochet is slow and busy: done before anything is
    // timed.
    let python = if settings.python
        && !settings.http_only
        && !settings.accounting_only
        && !settings.million_only
    {
        progress("python: preparing the virtualenv");
        match Python::prepare(&out.join("python-venv")) {
            Ok(python) => Some(python),
            Err(reason) => {
                println!("Python crochet unavailable: {reason}; carrying on without it");
                record.python = PythonStatus::Unavailable(reason);
                None
            }
        }
    } else {
        None
    };

    if !settings.http_only && !settings.million_only {
        bench_floor(settings, &affinity, &mut record)?;
        for &backend in &settings.backends {
            bench_backend(backend, settings, &affinity, &mut record)?;
        }
        if let Some(python) = &python {
            bench_python(python, settings, &affinity, &mut record);
        }
    }
    if settings.runs_million() {
        bench_million(settings, &affinity, &mut record)?;
    }
    if !settings.accounting_only && !settings.million_only {
        bench_http(settings, &affinity, &mut record)?;
    }

    let ratios = Ratios::of(&record, &settings.backends);
    if settings.http_only {
        report::print_http(&record, &ratios, settings);
    } else if settings.accounting_only {
        report::print_accounting(&record, &ratios, settings, affinity.pinned_cpu());
    } else if settings.million_only {
        report::print_million(&record, &ratios, settings);
        for failure in &record.failures {
            println!("failed: {failure}");
        }
    } else {
        report::print(&record, &ratios, settings, affinity.pinned_cpu());
    }

    let json = results::to_json(
        &record,
        &ratios,
        settings,
        affinity.all_cpus(),
        affinity.pinned_cpu(),
    );
    let json_path = out.join("results.json");
    let text = serde_json::to_string_pretty(&json).map_err(|error| error.to_string())?;
    fs::write(&json_path, text + "\n")
        .map_err(|error| format!("cannot write {}: {error}", json_path.display()))?;
    if settings.http_only || settings.accounting_only || settings.million_only {
        println!(
            "\nwrote {} in {:.1}s",
            json_path.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let svg_path = out.join("throughput.svg");
    chart::draw(&record, &settings.backends, &svg_path)?;
    println!(
        "\nwrote {} and {} in {:.1}s",
        json_path.display(),
        svg_path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The modes a run measures in: `--accounting-only` measures pinned only.
fn modes(settings: &Settings) -> &'static [Mode] {
    if settings.accounting_only {
        &[Mode::Pinned]
    } else {
        &Mode::ALL
    }
}

pub(crate) fn progress(message: &str) {
    eprintln!("[crochet-bench] {message}");
}

pub(crate) fn apply(affinity: &Affinity, mode: Mode) -> Result<(), String> {
    affinity
        .apply(mode)
        .map_err(|error| format!("cannot set the CPU affinity ({mode}): {error}"))
}

fn bench_floor(
    settings: &Settings,
    affinity: &Affinity,
    record: &mut Record,
) -> Result<(), String> {
    let floor =
        Floor::start().map_err(|error| format!("cannot start the floor thread: {error}"))?;
    for repeat in 0..settings.repeats {
        for &mode in modes(settings) {
            progress(&format!(
                "floor, {mode}, repeat {}/{}",
                repeat + 1,
                settings.repeats
            ));
            apply(affinity, mode)?;
            round_trips(FLOOR, &floor, mode, settings, record);
        }
    }
    apply(affinity, Mode::Unpinned)
}

/// Latency and throughput of one subject in one mode, and, pinned, its
/// allocations per round trip.
fn round_trips(
    id: &str,
    subject: &impl RoundTrip,
    mode: Mode,
    settings: &Settings,
    record: &mut Record,
) {
    if mode == Mode::Pinned {
        let run = allocs::run(subject, settings.latency_warmup, settings.latency_calls);
        record.push_allocs(id, run);
    }
    if settings.accounting_only {
        return;
    }
    let run = latency::run(subject, settings.latency_warmup, settings.latency_calls);
    record.push_latency(mode, id, run);
    for threads in THROUGHPUT_THREADS {
        let (warmup, window) = (settings.throughput_warmup, settings.throughput_window);
        let rate = throughput::run(subject, threads, warmup, window);
        record.push_throughput(mode, id, threads, rate);
    }
}

/// Runs `$body` for crochet and for its raw baseline, one right after the
/// other, in the order asked, with `$id` and `$subject` bound to each in
/// turn. A macro rather than a closure: the two subjects differ in type.
macro_rules! for_both {
    ($crochet_first:expr, $crochet:expr, $raw:expr, |$id:ident, $subject:ident| $body:block) => {
        if $crochet_first {
            let ($id, $subject) = $crochet;
            $body
            let ($id, $subject) = $raw;
            $body
        } else {
            let ($id, $subject) = $raw;
            $body
            let ($id, $subject) = $crochet;
            $body
        }
    };
}

fn bench_backend(
    backend: Backend,
    settings: &Settings,
    affinity: &Affinity,
    record: &mut Record,
) -> Result<(), String> {
    let crochet = Crochet::start(backend)
        .map_err(|error| format!("cannot start crochet on {backend}: {error}"))?;
    let cannot_start = |error: std::io::Error| format!("cannot start raw {backend}: {error}");
    match backend {
        Backend::Tokio => {
            let raw = RawTokio::start().map_err(cannot_start)?;
            bench_pair(backend, &crochet, &raw, settings, affinity, record)?;
            raw.shutdown();
        }
        Backend::Smol => {
            let raw = RawSmol::start().map_err(cannot_start)?;
            bench_pair(backend, &crochet, &raw, settings, affinity, record)?;
            raw.shutdown();
        }
        Backend::AsyncStd => {
            bench_pair(backend, &crochet, &RawAsyncStd, settings, affinity, record)?;
        }
    }
    if !settings.accounting_only {
        inline::bench(backend, crochet.reactor(), settings, affinity, record)?;
    }
    crochet
        .shutdown()
        .map_err(|error| format!("crochet on {backend} did not shut down: {error}"))
}

/// crochet and its raw baseline on one backend, side by side.
fn bench_pair<R: RoundTrip + Pending + StreamBridge>(
    backend: Backend,
    crochet: &Crochet,
    raw: &R,
    settings: &Settings,
    affinity: &Affinity,
    record: &mut Record,
) -> Result<(), String> {
    let (crochet_id, raw_id) = (backend.crochet_id(), backend.raw_id());
    let (key, gate) = Gate::new();
    let pair = ((crochet_id.as_str(), crochet), (raw_id.as_str(), raw));
    for repeat in 0..settings.repeats {
        // Each workload runs for both right after the other, and who goes
        // first alternates, so that neither always meets a warmer (or
        // busier) machine.
        let crochet_first = repeat % 2 == 0;
        for &mode in modes(settings) {
            progress(&format!(
                "{backend}, {mode}, repeat {}/{}",
                repeat + 1,
                settings.repeats
            ));
            apply(affinity, mode)?;
            if !settings.accounting_only {
                for_both!(crochet_first, pair.0, pair.1, |id, subject| {
                    let run =
                        latency::run(subject, settings.latency_warmup, settings.latency_calls);
                    record.push_latency(mode, id, run);
                });
            }
            if mode == Mode::Pinned {
                for_both!(crochet_first, pair.0, pair.1, |id, subject| {
                    let run = allocs::run(subject, settings.latency_warmup, settings.latency_calls);
                    record.push_allocs(id, run);
                });
            }
            if settings.accounting_only {
                continue;
            }
            for threads in THROUGHPUT_THREADS {
                let (warmup, window) = (settings.throughput_warmup, settings.throughput_window);
                for_both!(crochet_first, pair.0, pair.1, |id, subject| {
                    let rate = throughput::run(subject, threads, warmup, window);
                    record.push_throughput(mode, id, threads, rate);
                });
            }
            for_both!(crochet_first, pair.0, pair.1, |id, subject| {
                let run = cancel::run(
                    subject,
                    &gate,
                    settings.cancel_warmup,
                    settings.cancel_iterations,
                    settings.cancel_settle,
                );
                record.push_cancel(mode, id, run);
            });
            for_both!(crochet_first, pair.0, pair.1, |id, subject| {
                let rate = stream::run(subject, settings.stream_warmup, settings.stream_items);
                record.push_stream(mode, id, rate);
            });
        }
    }
    key.release();
    apply(affinity, Mode::Unpinned)?;

    for repeat in 0..settings.repeats {
        progress(&format!(
            "{backend}, round trips with a tracing subscriber, repeat {}/{}",
            repeat + 1,
            settings.repeats
        ));
        for id in [&crochet_id, &raw_id] {
            let (warmup, calls) = (settings.latency_warmup, settings.latency_calls);
            match with_tracing::measure(id, warmup, calls) {
                Ok(run) => record.tracing.entry(id.clone()).or_default().push(run),
                Err(error) => record.failures.push(error),
            }
        }
        if settings.accounting_only {
            continue;
        }
        progress(&format!(
            "{backend}, memory with {PENDING} pending, repeat {}/{}",
            repeat + 1,
            settings.repeats
        ));
        for id in [&crochet_id, &raw_id] {
            match memory::measure(id, PENDING) {
                Ok(run) => record.memory.entry(id.clone()).or_default().push(run),
                Err(error) => record.failures.push(error),
            }
        }
        progress(&format!("{backend}, stash from {STASH_THREADS} threads"));
        let reactor = crochet.reactor();
        let (warmup, window) = (settings.throughput_warmup, settings.stash_window);
        let rate = stash::run(
            &stash::CrochetStash(reactor),
            reactor,
            STASH_THREADS,
            warmup,
            window,
        );
        record
            .stash
            .entry(crochet_id.clone())
            .or_default()
            .push(rate);
        let map = stash::MapStash::default();
        let rate = stash::run(&map, reactor, STASH_THREADS, warmup, window);
        record
            .stash
            .entry(MAP_STASH.to_owned())
            .or_default()
            .push(rate);
    }
    Ok(())
}

/// The pending-at-scale workload: crochet-tokio and raw tokio, each in a
/// child process, unpinned, who goes first alternating over repeats.
fn bench_million(
    settings: &Settings,
    affinity: &Affinity,
    record: &mut Record,
) -> Result<(), String> {
    apply(affinity, Mode::Unpinned)?;
    let count = settings.pending_at_scale;
    for repeat in 0..settings.repeats {
        progress(&format!(
            "tokio, memory and shutdown with {count} pending, repeat {}/{}",
            repeat + 1,
            settings.repeats
        ));
        let mut ids = million::ids();
        if repeat % 2 == 1 {
            ids.reverse();
        }
        for id in ids {
            match million::measure(&id, count) {
                Ok(run) => record.million.entry(id).or_default().push(run),
                Err(error) => record.failures.push(error),
            }
        }
    }
    Ok(())
}

/// The HTTP workload: a loopback server here, each approach in a child
/// process, every approach at each number of callers before the next
/// number, the order reversed on every other repeat.
fn bench_http(settings: &Settings, affinity: &Affinity, record: &mut Record) -> Result<(), String> {
    apply(affinity, Mode::Unpinned)?;
    let server = blocking_client::loopback::Server::start()
        .map_err(|error| format!("cannot start the loopback HTTP server: {error}"))?;
    let mut ids: Vec<String> = PEERS.map(str::to_owned).to_vec();
    ids.extend(settings.backends.iter().map(|backend| backend.crochet_id()));
    for repeat in 0..settings.repeats {
        for callers in THREAD_COUNTS {
            progress(&format!(
                "http, {callers} caller(s), repeat {}/{}",
                repeat + 1,
                settings.repeats
            ));
            let mut order: Vec<&String> = ids.iter().collect();
            if repeat % 2 == 1 {
                order.reverse();
            }
            for id in order {
                let args = http::ChildArgs {
                    id: id.clone(),
                    url: server.url().to_string(),
                    callers,
                    warmup: settings.http_warmup,
                    window: settings.http_window,
                };
                match http::measure(&args) {
                    Ok(run) => record
                        .http
                        .entry((id.clone(), callers))
                        .or_default()
                        .push(run),
                    Err(error) => record.failures.push(error),
                }
            }
        }
    }
    Ok(())
}

fn bench_python(python: &Python, settings: &Settings, affinity: &Affinity, record: &mut Record) {
    for mode in Mode::ALL {
        progress(&format!("python crochet, {mode}"));
        match python.measure(settings, &affinity.cpus(mode)) {
            Ok(run) => {
                for latency in run.latency {
                    record.push_latency(mode, PYTHON, latency);
                }
                for (threads, rates) in run.throughput {
                    for rate in rates {
                        record.push_throughput(mode, PYTHON, threads, rate);
                    }
                }
                record.python = PythonStatus::Measured(run.versions);
            }
            Err(reason) => {
                println!("Python crochet ({mode}) failed: {reason}; carrying on without it");
                record.python = PythonStatus::Unavailable(reason);
                return;
            }
        }
    }
}
