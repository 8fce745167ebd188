//! The round trip with a tracing subscriber installed: a
//! `tracing_subscriber` fmt subscriber writing to `std::io::sink` at
//! `INFO`, so that crochet's own events (`trace!` and `debug!`) are
//! filtered out. One thread's round trips are timed three times in one
//! process, pinned as the latency workload is: before the subscriber is
//! installed, with it installed but no span entered, and inside a caller's
//! `info_span!` (entered around each call), which crochet carries into the
//! reactor.
//!
//! A global subscriber can be installed once per process, and it must see
//! the reactor thread's events too (a scoped one would not), so each
//! implementation runs in a fresh child process (this same binary,
//! `--tracing-child <id>`).

use std::io;

use serde_json::{Value, json};
use tracing::{Level, Span};

use crate::affinity::{Affinity, Mode};
use crate::child;
use crate::config::Backend;
use crate::stats::LatencyRun;
use crate::subjects::{Crochet, RawAsyncStd, RawSmol, RawTokio, RoundTrip};
use crate::workloads::latency;

/// When a round trip was timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Traced {
    /// No subscriber installed yet.
    Without,
    /// The subscriber installed, no span entered.
    Subscriber,
    /// The subscriber installed and the caller inside a span.
    InSpan,
}

impl Traced {
    pub(crate) const ALL: [Traced; 3] = [Traced::Without, Traced::Subscriber, Traced::InSpan];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Traced::Without => "without",
            Traced::Subscriber => "subscriber",
            Traced::InSpan => "in_span",
        }
    }
}

/// One child's three timings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TracingRun {
    pub(crate) without: LatencyRun,
    pub(crate) subscriber: LatencyRun,
    pub(crate) in_span: LatencyRun,
}

impl TracingRun {
    pub(crate) fn get(&self, traced: Traced) -> &LatencyRun {
        match traced {
            Traced::Without => &self.without,
            Traced::Subscriber => &self.subscriber,
            Traced::InSpan => &self.in_span,
        }
    }
}

/// Measures `id` in a child process, which pins itself to the first CPU
/// this process may use (so this one should be unpinned).
pub(crate) fn measure(id: &str, warmup: usize, calls: usize) -> Result<TracingRun, String> {
    let args = [
        "--tracing-child",
        id,
        "--warmup-calls",
        &warmup.to_string(),
        "--calls",
        &calls.to_string(),
    ]
    .map(String::from);
    let output = child::run("tracing", id, &args)?;
    let run = |traced: Traced| {
        let run = &output.value[traced.name()];
        let number = |name: &str| output.number(run, "tracing", name);
        Ok::<_, String>(LatencyRun {
            median_ns: number("median_ns")?,
            p99_ns: number("p99_ns")?,
            samples: number("samples")? as usize,
        })
    };
    Ok(TracingRun {
        without: run(Traced::Without)?,
        subscriber: run(Traced::Subscriber)?,
        in_span: run(Traced::InSpan)?,
    })
}

/// The child's side: pin, measure `id`, print one JSON line.
pub(crate) fn child(id: &str, warmup: usize, calls: usize) -> Result<(), String> {
    Affinity::current()
        .and_then(|affinity| affinity.apply(Mode::Pinned))
        .map_err(|error| format!("cannot pin the tracing child: {error}"))?;
    let to_string = |error: io::Error| error.to_string();
    let backend = |id: &str, of: fn(Backend) -> String| {
        Backend::ALL.into_iter().find(|&backend| of(backend) == id)
    };
    let run = if let Some(backend) = backend(id, Backend::crochet_id) {
        let crochet = Crochet::start(backend).map_err(|error| error.to_string())?;
        let run = in_this_process(&crochet, warmup, calls);
        crochet.shutdown().map_err(|error| error.to_string())?;
        run
    } else {
        match backend(id, Backend::raw_id) {
            Some(Backend::Tokio) => {
                let raw = RawTokio::start().map_err(to_string)?;
                let run = in_this_process(&raw, warmup, calls);
                raw.shutdown();
                run
            }
            Some(Backend::Smol) => {
                let raw = RawSmol::start().map_err(to_string)?;
                let run = in_this_process(&raw, warmup, calls);
                raw.shutdown();
                run
            }
            Some(Backend::AsyncStd) => in_this_process(&RawAsyncStd, warmup, calls),
            None => Err(format!("no implementation named {id:?}")),
        }
    }?;
    let latency = |run: &LatencyRun| json!({ "median_ns": run.median_ns, "p99_ns": run.p99_ns, "samples": run.samples });
    let line: serde_json::Map<String, Value> = Traced::ALL
        .into_iter()
        .map(|traced| (traced.name().to_owned(), latency(run.get(traced))))
        .collect();
    println!("{}", Value::Object(line));
    Ok(())
}

fn in_this_process(
    subject: &impl RoundTrip,
    warmup: usize,
    calls: usize,
) -> Result<TracingRun, String> {
    let without = latency::run(subject, warmup, calls);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(io::sink)
        .with_max_level(Level::INFO)
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|error| format!("cannot install the tracing subscriber: {error}"))?;
    let traced = latency::run(subject, warmup, calls);
    let span = tracing::info_span!("caller");
    if span.is_disabled() {
        return Err("the subscriber filtered out the caller's span".to_owned());
    }
    let in_span = latency::run(&InSpan { subject, span }, warmup, calls);
    Ok(TracingRun {
        without,
        subscriber: traced,
        in_span,
    })
}

/// A round trip made inside the caller's span.
struct InSpan<'a, S> {
    subject: &'a S,
    span: Span,
}

impl<S: RoundTrip> RoundTrip for InSpan<'_, S> {
    fn round_trip(&self) {
        self.span.in_scope(|| self.subject.round_trip());
    }
}
