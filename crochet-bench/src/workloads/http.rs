//! Real requests: threads making blocking HTTP GETs to a loopback server
//! (keep-alive, a 31-byte body) through crochet's blocking-client example
//! and through its peers (`reqwest::blocking`, `Handle::block_on` on a
//! shared runtime, a runtime per caller thread).
//!
//! The server runs in this process; each approach runs in a fresh child
//! process (this same binary, `--http-child <id>`), so that the threads it
//! counts and the memory it reads are that approach's alone. Callers are
//! released together, make requests uncounted for a warm-up (connections
//! are opened then), then time every request until the window closes;
//! halfway through the window the child counts its threads and reads its
//! resident set.

use std::fs;
use std::sync::{Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::child;
use crate::config::Backend;
use crate::stats::LatencyRun;
use crate::subjects::http::{
    CrochetClient, CrochetOnReactorThread, HANDLE_BLOCK_ON, HandleBlockOn, HttpGet, REACTOR_THREAD,
    REQWEST_BLOCKING, RUNTIME_PER_THREAD, ReqwestBlocking, RuntimePerThread,
};
use crate::workloads::memory::rss_kib;

/// The name of the child's calling threads, which are not counted.
const CALLER_THREAD: &str = "http-caller";

/// One approach, one number of callers, one window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HttpRun {
    pub(crate) requests_per_s: f64,
    pub(crate) latency: LatencyRun,
    /// Threads of the child beyond its main thread and the callers.
    pub(crate) threads: u64,
    /// The child's resident set halfway through the window, and before
    /// the approach was built.
    pub(crate) rss_kib: u64,
    pub(crate) baseline_rss_kib: u64,
}

/// What a child is told to measure.
#[derive(Debug)]
pub(crate) struct ChildArgs {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) callers: usize,
    pub(crate) warmup: Duration,
    pub(crate) window: Duration,
}

/// Measures `args.id` in a child process.
pub(crate) fn measure(args: &ChildArgs) -> Result<HttpRun, String> {
    let child_args = [
        "--http-child",
        &args.id,
        "--url",
        &args.url,
        "--callers",
        &args.callers.to_string(),
        "--warmup-ms",
        &args.warmup.as_millis().to_string(),
        "--window-ms",
        &args.window.as_millis().to_string(),
    ]
    .map(String::from);
    let which = format!("{} with {} callers", args.id, args.callers);
    let output = child::run("http", &which, &child_args)?;
    let number = |name: &str| output.number(&output.value, "http", name);
    Ok(HttpRun {
        requests_per_s: number("requests_per_s")?,
        latency: LatencyRun {
            median_ns: number("p50_ns")?,
            p99_ns: number("p99_ns")?,
            samples: number("requests")? as usize,
        },
        threads: number("threads")? as u64,
        rss_kib: number("rss_kib")? as u64,
        baseline_rss_kib: number("baseline_rss_kib")? as u64,
    })
}

/// The child's side: build the approach, measure it, print one JSON line.
pub(crate) fn child(args: &ChildArgs) -> Result<(), String> {
    // reqwest is built without a TLS crypto provider (see the README).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let baseline_rss_kib = rss()?;
    let url: reqwest::Url = args
        .url
        .parse()
        .map_err(|error| format!("bad --url {:?}: {error}", args.url))?;
    let measured = match args.id.as_str() {
        REQWEST_BLOCKING => in_this_process(&ReqwestBlocking::start(url)?, args),
        HANDLE_BLOCK_ON => in_this_process(&HandleBlockOn::start(url)?, args),
        RUNTIME_PER_THREAD => in_this_process(&RuntimePerThread::new(url), args),
        REACTOR_THREAD => {
            let client = CrochetOnReactorThread::start(url)?;
            let measured = in_this_process(&client, args);
            client.shutdown()?;
            measured
        }
        crochet_id => {
            let backend = Backend::ALL
                .into_iter()
                .find(|backend| backend.crochet_id() == crochet_id)
                .ok_or_else(|| format!("no approach named {crochet_id:?}"))?;
            let client = CrochetClient::start(backend, url)?;
            let measured = in_this_process(&client, args);
            client.shutdown()?;
            measured
        }
    }?;
    let (samples, threads, rss_kib) = measured;
    let requests = samples.len();
    let latency = LatencyRun::from_samples(samples);
    let line = json!({
        "requests": requests,
        "requests_per_s": requests as f64 / args.window.as_secs_f64(),
        "p50_ns": latency.median_ns,
        "p99_ns": latency.p99_ns,
        "threads": threads,
        "rss_kib": rss_kib,
        "baseline_rss_kib": baseline_rss_kib,
    });
    println!("{line}");
    Ok(())
}

/// Every counted request's duration, the threads beyond the main one and
/// the callers, and the resident set, both read halfway through.
fn in_this_process(
    subject: &dyn HttpGet,
    args: &ChildArgs,
) -> Result<(Vec<Duration>, u64, u64), String> {
    let barrier = Barrier::new(args.callers + 1);
    let schedule = OnceLock::<(Instant, Instant)>::new();
    thread::scope(|scope| {
        let callers: Vec<_> = (0..args.callers)
            .map(|_| {
                let (barrier, schedule) = (&barrier, &schedule);
                thread::Builder::new()
                    .name(CALLER_THREAD.into())
                    .spawn_scoped(scope, move || {
                        let caller = subject.caller();
                        // Even a caller that could not start meets the
                        // others at the barrier, so that none waits for it.
                        barrier.wait();
                        let mut call = caller?;
                        let (counting_from, until) = *schedule.get().expect("set before release");
                        while Instant::now() < counting_from {
                            call()?;
                        }
                        // At least one counted request per caller: on a
                        // loaded machine a warm-up request can outlast the
                        // whole window, which must not leave it empty.
                        let mut samples = Vec::new();
                        loop {
                            let started = Instant::now();
                            call()?;
                            samples.push(started.elapsed());
                            if Instant::now() >= until {
                                return Ok(samples);
                            }
                        }
                    })
                    .expect("a calling thread")
            })
            .collect();
        let counting_from = Instant::now() + args.warmup;
        let _ = schedule.set((counting_from, counting_from + args.window));
        barrier.wait();
        thread::sleep((counting_from + args.window / 2).saturating_duration_since(Instant::now()));
        let threads = other_threads();
        let rss_kib = rss();
        let mut samples = Vec::new();
        for caller in callers {
            let caller: Result<Vec<Duration>, String> =
                caller.join().expect("a calling thread panicked");
            samples.extend(caller?);
        }
        if samples.is_empty() {
            return Err(format!("no request finished in {:?}", args.window));
        }
        Ok((samples, threads?, rss_kib?))
    })
}

fn rss() -> Result<u64, String> {
    rss_kib().map_err(|error| format!("cannot read the resident set size: {error}"))
}

/// This process's threads other than the main one and the callers.
fn other_threads() -> Result<u64, String> {
    let main = std::process::id().to_string();
    let tasks = fs::read_dir("/proc/self/task")
        .map_err(|error| format!("cannot list this process's threads: {error}"))?;
    let mut count = 0;
    for task in tasks.flatten() {
        if task.file_name().to_string_lossy() == main {
            continue;
        }
        let name = fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if name.trim_end() != CALLER_THREAD {
            count += 1;
        }
    }
    Ok(count)
}
