//! The command line, and how long each workload runs in each mode.

use std::fmt;
use std::time::Duration;

use crate::workloads::http::ChildArgs;

/// A crochet backend, and the runtime its raw baseline uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Backend {
    Tokio,
    Smol,
    AsyncStd,
}

impl Backend {
    pub(crate) const ALL: [Backend; 3] = [Backend::Tokio, Backend::Smol, Backend::AsyncStd];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Tokio => "tokio",
            Backend::Smol => "smol",
            Backend::AsyncStd => "async-std",
        }
    }

    fn parse(name: &str) -> Option<Backend> {
        Backend::ALL
            .into_iter()
            .find(|backend| backend.name() == name)
    }

    /// The implementation id of crochet on this backend.
    pub(crate) fn crochet_id(self) -> String {
        format!("crochet-{}", self.name())
    }

    /// The implementation id of the hand-written baseline on this runtime.
    pub(crate) fn raw_id(self) -> String {
        format!("raw-{}", self.name())
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the command line asked for.
#[derive(Debug)]
pub(crate) enum Command {
    /// The benchmark itself.
    Run(Settings),
    /// A child process measuring the memory of one implementation.
    MemoryChild {
        id: String,
        count: usize,
    },
    /// A child process measuring memory and shutdown with many pending, on
    /// one implementation.
    MillionChild {
        id: String,
        count: usize,
    },
    /// A child process measuring one approach of the HTTP workload.
    HttpChild(ChildArgs),
    /// A child process measuring the round trip of one implementation
    /// with and without a tracing subscriber.
    TracingChild {
        id: String,
        warmup: usize,
        calls: usize,
    },
    Help,
}

pub(crate) const USAGE: &str = "\
usage: cargo run --release -p crochet-bench -- [--quick] [--backend tokio|smol|async-std] [--no-python]
                                                [--http-only | --accounting-only | --million-only]

  --quick        a smoke run (under two minutes): one repetition, short windows
  --backend B    measure only backend B (repeatable; default: all three)
  --no-python    skip the Python crochet comparison
  --http-only    run only the HTTP workload (crochet's blocking client against
                 reqwest::blocking, Handle::block_on and a runtime per thread)
  --accounting-only
                 run only the allocations per round trip and the round trip
                 with a tracing subscriber
  --million-only run only memory per pending and shutdown time with 1,000,000
                 pending on tokio (100,000 with --quick)

Results: a table per workload on stdout, target/crochet-bench/results.json
and target/crochet-bench/throughput.svg.";

pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mut quick = false;
    let mut python = true;
    let mut backends = Vec::new();
    let mut http_only = false;
    let mut accounting_only = false;
    let mut million_only = false;
    let mut child = None;
    let mut million_child = None;
    let mut count = None;
    let mut http_child = None;
    let (mut tracing_child, mut warmup_calls, mut calls) = (None, None, None);
    let (mut url, mut callers, mut warmup_ms, mut window_ms) = (None, None, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--no-python" => python = false,
            "--http-only" => http_only = true,
            "--accounting-only" => accounting_only = true,
            "--million-only" => million_only = true,
            "--million-child" => {
                million_child = Some(args.next().ok_or("--million-child needs a value")?);
            }
            "--http-child" => {
                http_child = Some(args.next().ok_or("--http-child needs a value")?);
            }
            "--tracing-child" => {
                tracing_child = Some(args.next().ok_or("--tracing-child needs a value")?);
            }
            "--warmup-calls" => warmup_calls = Some(number(&mut args, "--warmup-calls")?),
            "--calls" => calls = Some(number(&mut args, "--calls")?),
            "--url" => url = Some(args.next().ok_or("--url needs a value")?),
            "--callers" => callers = Some(number(&mut args, "--callers")?),
            "--warmup-ms" => warmup_ms = Some(number(&mut args, "--warmup-ms")?),
            "--window-ms" => window_ms = Some(number(&mut args, "--window-ms")?),
            "--backend" => {
                let name = args.next().ok_or("--backend needs a value")?;
                let backend = Backend::parse(&name).ok_or_else(|| {
                    format!("unknown backend {name:?}: expected tokio, smol or async-std")
                })?;
                if !backends.contains(&backend) {
                    backends.push(backend);
                }
            }
            "--memory-child" => child = Some(args.next().ok_or("--memory-child needs a value")?),
            "--count" => {
                let value = args.next().ok_or("--count needs a value")?;
                count = Some(
                    value
                        .parse()
                        .map_err(|_| format!("bad --count {value:?}"))?,
                );
            }
            "-h" | "--help" => return Ok(Command::Help),
            // `cargo bench` passes `--bench`; accept it so both ways work.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    if let Some(id) = http_child {
        let missing = |flag: &str| format!("--http-child needs {flag}");
        return Ok(Command::HttpChild(ChildArgs {
            id,
            url: url.ok_or_else(|| missing("--url"))?,
            callers: callers.ok_or_else(|| missing("--callers"))?,
            warmup: Duration::from_millis(warmup_ms.ok_or_else(|| missing("--warmup-ms"))? as u64),
            window: Duration::from_millis(window_ms.ok_or_else(|| missing("--window-ms"))? as u64),
        }));
    }
    if let Some(id) = tracing_child {
        let missing = |flag: &str| format!("--tracing-child needs {flag}");
        return Ok(Command::TracingChild {
            id,
            warmup: warmup_calls.ok_or_else(|| missing("--warmup-calls"))?,
            calls: calls.ok_or_else(|| missing("--calls"))?,
        });
    }
    if let Some(id) = child {
        return Ok(Command::MemoryChild {
            id,
            count: count.unwrap_or(PENDING),
        });
    }
    if let Some(id) = million_child {
        return Ok(Command::MillionChild {
            id,
            count: count.unwrap_or(MILLION),
        });
    }
    backends.sort();
    if million_only && !backends.is_empty() && !backends.contains(&Backend::Tokio) {
        return Err("--million-only measures tokio: --backend must include it".to_owned());
    }
    if backends.is_empty() {
        backends = Backend::ALL.to_vec();
    }
    let mut settings = Settings::new(quick, backends, python);
    if [http_only, accounting_only, million_only]
        .into_iter()
        .filter(|only| *only)
        .count()
        > 1
    {
        return Err(
            "--http-only, --accounting-only and --million-only exclude each other".to_owned(),
        );
    }
    settings.http_only = http_only;
    settings.accounting_only = accounting_only;
    settings.million_only = million_only;
    Ok(Command::Run(settings))
}

fn number(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<usize, String> {
    let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
    value.parse().map_err(|_| format!("bad {flag} {value:?}"))
}

/// Pending results held at once in the memory workload.
pub(crate) const PENDING: usize = 100_000;

/// Pending results held at once in the pending-at-scale workload (on
/// tokio), whose memory per pending and shutdown time the targets are for;
/// a quick run uses [`PENDING`].
pub(crate) const MILLION: usize = 1_000_000;

/// Callers in the HTTP workload, and Python crochet's submitting threads.
pub(crate) const THREAD_COUNTS: [usize; 3] = [1, 4, 32];

/// Submitting threads in the throughput workload: up to 256, to show how
/// the cost grows with the callers.
pub(crate) const THROUGHPUT_THREADS: [usize; 4] = [1, 4, 32, 256];

/// Threads stashing and retrieving at once.
pub(crate) const STASH_THREADS: usize = 8;

/// How much of everything to do.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) quick: bool,
    pub(crate) backends: Vec<Backend>,
    pub(crate) python: bool,
    /// Only the HTTP workload.
    pub(crate) http_only: bool,
    /// Only the allocations per round trip and the tracing workload.
    pub(crate) accounting_only: bool,
    /// Only the pending-at-scale workload.
    pub(crate) million_only: bool,
    /// Pending results in the pending-at-scale workload.
    pub(crate) pending_at_scale: usize,
    /// Each measurement is repeated this many times; the median is kept.
    pub(crate) repeats: usize,
    pub(crate) latency_warmup: usize,
    pub(crate) latency_calls: usize,
    pub(crate) throughput_warmup: Duration,
    pub(crate) throughput_window: Duration,
    pub(crate) cancel_warmup: usize,
    pub(crate) cancel_iterations: usize,
    /// How long the canceller sleeps before cancelling, so that the waiter
    /// is parked by then.
    pub(crate) cancel_settle: Duration,
    pub(crate) stash_window: Duration,
    /// Items through the untimed stream before each timed one.
    pub(crate) stream_warmup: u64,
    /// Items through each timed stream.
    pub(crate) stream_items: u64,
    /// Requests made uncounted by each caller before the HTTP window
    /// (connections open then).
    pub(crate) http_warmup: Duration,
    pub(crate) http_window: Duration,
    pub(crate) python_calls: usize,
    pub(crate) python_seconds: f64,
    pub(crate) python_repeats: usize,
    pub(crate) python_timeout: Duration,
}

impl Settings {
    fn new(quick: bool, backends: Vec<Backend>, python: bool) -> Settings {
        if quick {
            Settings {
                quick,
                backends,
                python,
                http_only: false,
                accounting_only: false,
                million_only: false,
                pending_at_scale: PENDING,
                repeats: 1,
                latency_warmup: 200,
                latency_calls: 2_000,
                throughput_warmup: Duration::from_millis(50),
                throughput_window: Duration::from_millis(250),
                cancel_warmup: 20,
                cancel_iterations: 200,
                cancel_settle: Duration::from_micros(300),
                stash_window: Duration::from_millis(250),
                stream_warmup: 10_000,
                stream_items: 200_000,
                http_warmup: Duration::from_millis(100),
                http_window: Duration::from_millis(300),
                python_calls: 1_000,
                python_seconds: 0.25,
                python_repeats: 1,
                python_timeout: Duration::from_secs(60),
            }
        } else {
            Settings {
                quick,
                backends,
                python,
                http_only: false,
                accounting_only: false,
                million_only: false,
                pending_at_scale: MILLION,
                repeats: 5,
                latency_warmup: 2_000,
                latency_calls: 20_000,
                throughput_warmup: Duration::from_millis(200),
                throughput_window: Duration::from_secs(1),
                cancel_warmup: 50,
                cancel_iterations: 1_000,
                cancel_settle: Duration::from_micros(300),
                stash_window: Duration::from_secs(1),
                stream_warmup: 50_000,
                stream_items: 500_000,
                http_warmup: Duration::from_millis(300),
                http_window: Duration::from_secs(1),
                python_calls: 5_000,
                python_seconds: 1.0,
                python_repeats: 5,
                python_timeout: Duration::from_secs(600),
            }
        }
    }

    pub(crate) fn mode_name(&self) -> &'static str {
        if self.quick { "quick" } else { "full" }
    }

    /// Whether this run measures the pending-at-scale workload: on tokio,
    /// in a full or quick run, or alone.
    pub(crate) fn runs_million(&self) -> bool {
        self.backends.contains(&Backend::Tokio)
            && (self.million_only || !(self.http_only || self.accounting_only))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Settings {
        match parse(args.iter().map(|arg| (*arg).to_owned())) {
            Ok(Command::Run(settings)) => settings,
            other => panic!("expected a run, got {other:?}"),
        }
    }

    #[test]
    fn defaults_to_every_backend_in_full_mode() {
        let settings = run(&[]);
        assert!(!settings.quick);
        assert_eq!(settings.backends, Backend::ALL);
        assert_eq!(settings.repeats, 5);
    }

    #[test]
    fn backend_restricts_and_quick_shortens() {
        let settings = run(&["--quick", "--backend", "async-std", "--no-python"]);
        assert!(settings.quick && !settings.python);
        assert_eq!(settings.backends, [Backend::AsyncStd]);
        assert_eq!(settings.repeats, 1);
    }

    #[test]
    fn http_only_and_the_http_child_parse() {
        assert!(run(&["--http-only"]).http_only);
        assert!(run(&["--accounting-only"]).accounting_only);
        assert!(parse(["--http-only", "--accounting-only"].map(str::to_owned)).is_err());
        assert!(parse(["--million-only", "--http-only"].map(str::to_owned)).is_err());
        let args = [
            "--http-child",
            "reqwest-blocking",
            "--url",
            "http://127.0.0.1:1/",
        ]
        .into_iter()
        .chain(["--callers", "4", "--warmup-ms", "10", "--window-ms", "20"])
        .map(str::to_owned);
        match parse(args) {
            Ok(Command::HttpChild(child)) => {
                assert_eq!((child.id.as_str(), child.callers), ("reqwest-blocking", 4));
                assert_eq!(child.window, Duration::from_millis(20));
            }
            other => panic!("expected an http child, got {other:?}"),
        }
        assert!(parse(["--http-child".to_owned(), "x".to_owned()]).is_err());
    }

    #[test]
    fn million_runs_on_tokio_with_a_smaller_count_when_quick() {
        let settings = run(&["--million-only", "--quick"]);
        assert!(settings.million_only && settings.runs_million());
        assert_eq!(settings.pending_at_scale, PENDING);
        assert_eq!(run(&[]).pending_at_scale, MILLION);
        assert!(run(&["--quick"]).runs_million());
        assert!(!run(&["--accounting-only"]).runs_million());
        assert!(!run(&["--backend", "smol"]).runs_million());
        assert!(parse(["--million-only", "--backend", "smol"].map(str::to_owned)).is_err());
        match parse(["--million-child", "raw-tokio"].map(str::to_owned)) {
            Ok(Command::MillionChild { id, count }) => {
                assert_eq!((id.as_str(), count), ("raw-tokio", MILLION));
            }
            other => panic!("expected a million child, got {other:?}"),
        }
    }

    #[test]
    fn the_tracing_child_parses() {
        let args = [
            "--tracing-child",
            "raw-smol",
            "--warmup-calls",
            "5",
            "--calls",
            "9",
        ];
        match parse(args.map(str::to_owned)) {
            Ok(Command::TracingChild { id, warmup, calls }) => {
                assert_eq!((id.as_str(), warmup, calls), ("raw-smol", 5, 9));
            }
            other => panic!("expected a tracing child, got {other:?}"),
        }
        assert!(parse(["--tracing-child".to_owned(), "x".to_owned()]).is_err());
    }

    #[test]
    fn unknown_arguments_are_refused() {
        assert!(parse(["--backend".to_owned(), "glommio".to_owned()]).is_err());
        assert!(parse(["--fast".to_owned()]).is_err());
    }
}
