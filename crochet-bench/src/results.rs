//! Everything measured in one run, the ratios drawn from it, and
//! `results.json`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::affinity::Mode;
use crate::config::{Backend, Settings, THREAD_COUNTS, THROUGHPUT_THREADS};
use crate::stats::{LatencyRun, median, ratio};
use crate::subjects::http::PEERS;
use crate::workloads::allocs::AllocRun;
use crate::workloads::http::HttpRun;
use crate::workloads::memory::MemoryRun;
use crate::workloads::million::MillionRun;
use crate::workloads::with_tracing::{Traced, TracingRun};

/// The implementation id of the floor (std thread + mpsc).
pub(crate) const FLOOR: &str = "floor";
/// The implementation id of Python crochet.
pub(crate) const PYTHON: &str = "python-crochet";
/// The implementation id of the hand-written stash.
pub(crate) const MAP_STASH: &str = "mutex-hashmap";

/// Whether Python crochet took part.
#[derive(Debug)]
pub(crate) enum PythonStatus {
    Skipped,
    Unavailable(String),
    Measured(String),
}

/// Every run of every workload, by mode and implementation id.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) latency: BTreeMap<(Mode, String), Vec<LatencyRun>>,
    pub(crate) cancel: BTreeMap<(Mode, String), Vec<LatencyRun>>,
    pub(crate) throughput: BTreeMap<(Mode, String, usize), Vec<f64>>,
    /// Allocations per round trip (pinned).
    pub(crate) allocs: BTreeMap<String, Vec<AllocRun>>,
    pub(crate) memory: BTreeMap<String, Vec<MemoryRun>>,
    /// Memory and shutdown with many pending, on tokio.
    pub(crate) million: BTreeMap<String, Vec<MillionRun>>,
    /// Round trips with a tracing subscriber (pinned, fresh process each).
    pub(crate) tracing: BTreeMap<String, Vec<TracingRun>>,
    pub(crate) stash: BTreeMap<String, Vec<f64>>,
    /// Items per second through one stream.
    pub(crate) stream: BTreeMap<(Mode, String), Vec<f64>>,
    /// The HTTP workload (unpinned), by approach and callers.
    pub(crate) http: BTreeMap<(String, usize), Vec<HttpRun>>,
    pub(crate) python: PythonStatus,
    /// Measurements that failed, and why.
    pub(crate) failures: Vec<String>,
}

impl Record {
    pub(crate) fn new() -> Record {
        Record {
            latency: BTreeMap::new(),
            cancel: BTreeMap::new(),
            throughput: BTreeMap::new(),
            allocs: BTreeMap::new(),
            memory: BTreeMap::new(),
            million: BTreeMap::new(),
            tracing: BTreeMap::new(),
            stash: BTreeMap::new(),
            stream: BTreeMap::new(),
            http: BTreeMap::new(),
            python: PythonStatus::Skipped,
            failures: Vec::new(),
        }
    }

    pub(crate) fn push_latency(&mut self, mode: Mode, id: &str, run: LatencyRun) {
        self.latency
            .entry((mode, id.to_owned()))
            .or_default()
            .push(run);
    }

    pub(crate) fn push_cancel(&mut self, mode: Mode, id: &str, run: LatencyRun) {
        self.cancel
            .entry((mode, id.to_owned()))
            .or_default()
            .push(run);
    }

    pub(crate) fn push_throughput(&mut self, mode: Mode, id: &str, threads: usize, rate: f64) {
        let key = (mode, id.to_owned(), threads);
        self.throughput.entry(key).or_default().push(rate);
    }

    pub(crate) fn push_allocs(&mut self, id: &str, run: AllocRun) {
        self.allocs.entry(id.to_owned()).or_default().push(run);
    }

    pub(crate) fn push_stream(&mut self, mode: Mode, id: &str, rate: f64) {
        self.stream
            .entry((mode, id.to_owned()))
            .or_default()
            .push(rate);
    }

    /// The median over repeats of each run's median latency.
    pub(crate) fn latency_median(&self, mode: Mode, id: &str) -> Option<f64> {
        median_of(self.latency.get(&(mode, id.to_owned())), |run| {
            run.median_ns
        })
    }

    /// The median over repeats of each run's 99th percentile.
    pub(crate) fn latency_p99(&self, mode: Mode, id: &str) -> Option<f64> {
        median_of(self.latency.get(&(mode, id.to_owned())), |run| run.p99_ns)
    }

    pub(crate) fn cancel_median(&self, mode: Mode, id: &str) -> Option<f64> {
        median_of(self.cancel.get(&(mode, id.to_owned())), |run| run.median_ns)
    }

    pub(crate) fn cancel_p99(&self, mode: Mode, id: &str) -> Option<f64> {
        median_of(self.cancel.get(&(mode, id.to_owned())), |run| run.p99_ns)
    }

    /// Calls per second.
    pub(crate) fn throughput(&self, mode: Mode, id: &str, threads: usize) -> Option<f64> {
        median_of(
            self.throughput.get(&(mode, id.to_owned(), threads)),
            |rate| *rate,
        )
    }

    /// Allocations per round trip, the median over repeats.
    pub(crate) fn allocations_per_call(&self, id: &str) -> Option<f64> {
        median_of(self.allocs.get(id), AllocRun::allocations_per_call)
    }

    /// Bytes allocated per round trip, the median over repeats.
    pub(crate) fn alloc_bytes_per_call(&self, id: &str) -> Option<f64> {
        median_of(self.allocs.get(id), AllocRun::bytes_per_call)
    }

    /// The median over repeats of one tracing condition's median latency.
    pub(crate) fn tracing_median(&self, id: &str, traced: Traced) -> Option<f64> {
        median_of(self.tracing.get(id), |run| run.get(traced).median_ns)
    }

    pub(crate) fn tracing_p99(&self, id: &str, traced: Traced) -> Option<f64> {
        median_of(self.tracing.get(id), |run| run.get(traced).p99_ns)
    }

    pub(crate) fn bytes_per_pending(&self, id: &str) -> Option<f64> {
        median_of(self.memory.get(id), MemoryRun::bytes_per_pending)
    }

    pub(crate) fn retained_kib(&self, id: &str) -> Option<f64> {
        median_of(self.memory.get(id), MemoryRun::retained_kib)
    }

    /// The median over repeats of one figure of the pending-at-scale
    /// workload.
    pub(crate) fn million(&self, id: &str, figure: impl Fn(&MillionRun) -> f64) -> Option<f64> {
        median_of(self.million.get(id), figure)
    }

    /// Stream items per second.
    pub(crate) fn stream_rate(&self, mode: Mode, id: &str) -> Option<f64> {
        median_of(self.stream.get(&(mode, id.to_owned())), |rate| *rate)
    }

    /// The median over repeats of one HTTP figure.
    pub(crate) fn http(&self, id: &str, callers: usize, figure: HttpFigure) -> Option<f64> {
        median_of(
            self.http.get(&(id.to_owned(), callers)),
            |run| match figure {
                HttpFigure::RequestsPerS => run.requests_per_s,
                HttpFigure::P50 => run.latency.median_ns,
                HttpFigure::P99 => run.latency.p99_ns,
                HttpFigure::Threads => run.threads as f64,
                HttpFigure::RssKib => run.rss_kib as f64,
            },
        )
    }

    /// Stash-and-retrieve pairs per second.
    pub(crate) fn stash_rate(&self, id: &str) -> Option<f64> {
        median_of(self.stash.get(id), |rate| *rate)
    }

    /// The crochet backend Python crochet is compared with: the default
    /// backend (tokio) when it was measured, else the first measured.
    pub(crate) fn python_reference(&self, backends: &[Backend]) -> Option<Backend> {
        backends
            .iter()
            .copied()
            .find(|backend| *backend == Backend::Tokio)
            .or_else(|| backends.first().copied())
    }
}

/// One figure of an HTTP run.
#[derive(Clone, Copy, Debug)]
pub(crate) enum HttpFigure {
    RequestsPerS,
    /// Median latency, ns.
    P50,
    P99,
    Threads,
    RssKib,
}

/// crochet's blocking client ÷ one peer, in the HTTP workload.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HttpRatios {
    /// Requests per second at 1, 4 and 32 callers (higher is better).
    pub(crate) rate: [Option<f64>; 3],
    /// Median latency at 1 caller, and at 32 (lower is better).
    pub(crate) p50_1: Option<f64>,
    pub(crate) p50_32: Option<f64>,
    pub(crate) p99_1: Option<f64>,
}

fn median_of<T>(runs: Option<&Vec<T>>, value: impl Fn(&T) -> f64) -> Option<f64> {
    median(&runs?.iter().map(value).collect::<Vec<_>>())
}

/// crochet ÷ baseline, as the JSON reports them; for Python, how many times
/// crochet (on [`Ratios::python_reference`]) beats it, higher being better:
/// Python's latency ÷ crochet's, and Python's time per call ÷ crochet's
/// (crochet's calls/s ÷ Python's).
pub(crate) struct Ratios {
    pub(crate) latency_vs_raw: BTreeMap<Backend, Option<f64>>,
    pub(crate) latency_vs_floor: BTreeMap<Backend, Option<f64>>,
    pub(crate) latency_unpinned_vs_raw: BTreeMap<Backend, Option<f64>>,
    pub(crate) throughput_vs_raw: BTreeMap<(Backend, usize), Option<f64>>,
    pub(crate) memory_vs_raw: BTreeMap<Backend, Option<f64>>,
    /// With many pending (tokio only): memory per pending, and the time
    /// until everything is shut down.
    pub(crate) million_memory_vs_raw: BTreeMap<Backend, Option<f64>>,
    pub(crate) million_shutdown_vs_raw: BTreeMap<Backend, Option<f64>>,
    /// Allocations, and bytes allocated, per round trip.
    pub(crate) allocations_vs_raw: BTreeMap<Backend, Option<f64>>,
    pub(crate) alloc_bytes_vs_raw: BTreeMap<Backend, Option<f64>>,
    pub(crate) cancel_vs_raw: BTreeMap<Backend, Option<f64>>,
    /// crochet's median round trip with a tracing subscriber (no span, and
    /// in a span) ÷ its own without one, in the same child process.
    pub(crate) tracing_vs_without: BTreeMap<Backend, Option<f64>>,
    pub(crate) tracing_span_vs_without: BTreeMap<Backend, Option<f64>>,
    /// The same ÷ raw's under the same subscriber (and span).
    pub(crate) tracing_vs_raw: BTreeMap<Backend, Option<f64>>,
    pub(crate) tracing_span_vs_raw: BTreeMap<Backend, Option<f64>>,
    pub(crate) stash_vs_map: BTreeMap<Backend, Option<f64>>,
    /// Items per second, crochet ÷ raw bridge, unpinned (what it is judged
    /// on) and pinned.
    pub(crate) stream_vs_raw: BTreeMap<Backend, Option<f64>>,
    pub(crate) stream_pinned_vs_raw: BTreeMap<Backend, Option<f64>>,
    /// crochet's blocking client on each backend ÷ each HTTP peer.
    pub(crate) http: BTreeMap<(Backend, &'static str), HttpRatios>,
    pub(crate) python_reference: Option<Backend>,
    /// Python's median latency ÷ crochet's, pinned.
    pub(crate) python_latency: Option<f64>,
    /// crochet's calls/s ÷ Python's at 32 threads, unpinned: Python's time
    /// per call ÷ crochet's.
    pub(crate) python_throughput32: Option<f64>,
}

impl Ratios {
    pub(crate) fn of(record: &Record, backends: &[Backend]) -> Ratios {
        let per_backend = |f: &dyn Fn(Backend) -> Option<f64>| {
            backends
                .iter()
                .map(|&backend| (backend, f(backend)))
                .collect()
        };
        let crochet = |backend: Backend| backend.crochet_id();
        let raw = |backend: Backend| backend.raw_id();
        let latency = |mode, id: String| record.latency_median(mode, &id);
        let mut throughput_vs_raw = BTreeMap::new();
        for &backend in backends {
            for threads in THROUGHPUT_THREADS {
                let of = |id: String| record.throughput(Mode::Unpinned, &id, threads);
                throughput_vs_raw.insert(
                    (backend, threads),
                    ratio(of(crochet(backend)), of(raw(backend))),
                );
            }
        }
        let python_reference = record
            .python_reference(backends)
            .filter(|_| matches!(record.python, PythonStatus::Measured(_)));
        let mut http = BTreeMap::new();
        for &backend in backends {
            for peer in PEERS {
                let of = |id: &str, callers, figure| record.http(id, callers, figure);
                let mine = crochet(backend);
                let versus =
                    |callers, figure| ratio(of(&mine, callers, figure), of(peer, callers, figure));
                let ratios = HttpRatios {
                    rate: THREAD_COUNTS.map(|callers| versus(callers, HttpFigure::RequestsPerS)),
                    p50_1: versus(1, HttpFigure::P50),
                    p50_32: versus(32, HttpFigure::P50),
                    p99_1: versus(1, HttpFigure::P99),
                };
                if ratios.rate.iter().any(Option::is_some) {
                    http.insert((backend, peer), ratios);
                }
            }
        }
        let million = |figure: fn(&MillionRun) -> f64| -> BTreeMap<Backend, Option<f64>> {
            let (mine, theirs) = (Backend::Tokio.crochet_id(), Backend::Tokio.raw_id());
            match ratio(
                record.million(&mine, figure),
                record.million(&theirs, figure),
            ) {
                Some(value) => BTreeMap::from([(Backend::Tokio, Some(value))]),
                None => BTreeMap::new(),
            }
        };
        let reference = python_reference.map(crochet);
        let reference = reference.as_deref().unwrap_or("");
        Ratios {
            latency_vs_raw: per_backend(&|b| {
                ratio(
                    latency(Mode::Pinned, crochet(b)),
                    latency(Mode::Pinned, raw(b)),
                )
            }),
            latency_vs_floor: per_backend(&|b| {
                ratio(
                    latency(Mode::Pinned, crochet(b)),
                    latency(Mode::Pinned, FLOOR.to_owned()),
                )
            }),
            latency_unpinned_vs_raw: per_backend(&|b| {
                ratio(
                    latency(Mode::Unpinned, crochet(b)),
                    latency(Mode::Unpinned, raw(b)),
                )
            }),
            throughput_vs_raw,
            memory_vs_raw: per_backend(&|b| {
                ratio(
                    record.bytes_per_pending(&crochet(b)),
                    record.bytes_per_pending(&raw(b)),
                )
            }),
            million_memory_vs_raw: million(MillionRun::bytes_per_pending),
            million_shutdown_vs_raw: million(MillionRun::shutdown_ns),
            allocations_vs_raw: per_backend(&|b| {
                ratio(
                    record.allocations_per_call(&crochet(b)),
                    record.allocations_per_call(&raw(b)),
                )
            }),
            alloc_bytes_vs_raw: per_backend(&|b| {
                ratio(
                    record.alloc_bytes_per_call(&crochet(b)),
                    record.alloc_bytes_per_call(&raw(b)),
                )
            }),
            tracing_vs_without: per_backend(&|b| {
                let of = |traced| record.tracing_median(&crochet(b), traced);
                ratio(of(Traced::Subscriber), of(Traced::Without))
            }),
            tracing_span_vs_without: per_backend(&|b| {
                let of = |traced| record.tracing_median(&crochet(b), traced);
                ratio(of(Traced::InSpan), of(Traced::Without))
            }),
            tracing_vs_raw: per_backend(&|b| {
                let of = |id: String| record.tracing_median(&id, Traced::Subscriber);
                ratio(of(crochet(b)), of(raw(b)))
            }),
            tracing_span_vs_raw: per_backend(&|b| {
                let of = |id: String| record.tracing_median(&id, Traced::InSpan);
                ratio(of(crochet(b)), of(raw(b)))
            }),
            cancel_vs_raw: per_backend(&|b| {
                ratio(
                    record.cancel_median(Mode::Pinned, &crochet(b)),
                    record.cancel_median(Mode::Pinned, &raw(b)),
                )
            }),
            stash_vs_map: per_backend(&|b| {
                ratio(record.stash_rate(&crochet(b)), record.stash_rate(MAP_STASH))
            }),
            stream_vs_raw: per_backend(&|b| {
                ratio(
                    record.stream_rate(Mode::Unpinned, &crochet(b)),
                    record.stream_rate(Mode::Unpinned, &raw(b)),
                )
            }),
            stream_pinned_vs_raw: per_backend(&|b| {
                ratio(
                    record.stream_rate(Mode::Pinned, &crochet(b)),
                    record.stream_rate(Mode::Pinned, &raw(b)),
                )
            }),
            http,
            python_reference,
            python_latency: ratio(
                record.latency_median(Mode::Pinned, PYTHON),
                record.latency_median(Mode::Pinned, reference),
            ),
            // Throughputs are calls/s, so crochet's over Python's: the same
            // way round as the latency ratio (Python's cost ÷ crochet's).
            python_throughput32: ratio(
                record.throughput(Mode::Unpinned, reference, 32),
                record.throughput(Mode::Unpinned, PYTHON, 32),
            ),
        }
    }

    fn to_json(&self) -> Value {
        let by_backend = |map: &BTreeMap<Backend, Option<f64>>| -> Value {
            map.iter()
                .map(|(backend, value)| (backend.name().to_owned(), json!(value)))
                .collect::<Map<_, _>>()
                .into()
        };
        let throughput = |threads: usize| -> Value {
            self.throughput_vs_raw
                .iter()
                .filter(|((_, n), _)| *n == threads)
                .map(|((backend, _), value)| (backend.name().to_owned(), json!(value)))
                .collect::<Map<_, _>>()
                .into()
        };
        let mut http = Map::new();
        for ((backend, peer), ratios) in &self.http {
            let entry = http
                .entry(backend.crochet_id())
                .or_insert_with(|| Value::Object(Map::new()));
            entry[*peer] = json!({
                "requests_per_s_1": ratios.rate[0],
                "requests_per_s_4": ratios.rate[1],
                "requests_per_s_32": ratios.rate[2],
                "p50_latency_1": ratios.p50_1,
                "p99_latency_1": ratios.p99_1,
                "p50_latency_32": ratios.p50_32,
            });
        }
        json!({
            "http_vs_peers": http,
            "latency_vs_raw": by_backend(&self.latency_vs_raw),
            "latency_vs_floor": by_backend(&self.latency_vs_floor),
            "throughput32_vs_raw": throughput(32),
            "memory_per_pending_vs_raw": by_backend(&self.memory_vs_raw),
            "memory_per_pending_at_scale_vs_raw": by_backend(&self.million_memory_vs_raw),
            "shutdown_at_scale_vs_raw": by_backend(&self.million_shutdown_vs_raw),
            "allocations_per_round_trip_vs_raw": by_backend(&self.allocations_vs_raw),
            "bytes_allocated_per_round_trip_vs_raw": by_backend(&self.alloc_bytes_vs_raw),
            "with_tracing_vs_without": by_backend(&self.tracing_vs_without),
            "with_tracing_in_span_vs_without": by_backend(&self.tracing_span_vs_without),
            "with_tracing_vs_raw": by_backend(&self.tracing_vs_raw),
            "with_tracing_in_span_vs_raw": by_backend(&self.tracing_span_vs_raw),
            "python_latency_vs_crochet": self.python_latency,
            "python_throughput32_vs_crochet": self.python_throughput32,
            "python_compared_with": self.python_reference.map(Backend::crochet_id),
            "latency_unpinned_vs_raw": by_backend(&self.latency_unpinned_vs_raw),
            "throughput1_vs_raw": throughput(1),
            "throughput4_vs_raw": throughput(4),
            "throughput256_vs_raw": throughput(256),
            "cancel_latency_vs_raw": by_backend(&self.cancel_vs_raw),
            "stash_vs_mutex_hashmap": by_backend(&self.stash_vs_map),
            "stream_vs_raw": by_backend(&self.stream_vs_raw),
            "stream_pinned_vs_raw": by_backend(&self.stream_pinned_vs_raw),
        })
    }
}

/// The whole `results.json`.
pub(crate) fn to_json(
    record: &Record,
    ratios: &Ratios,
    settings: &Settings,
    cpus: &[usize],
    pinned_cpu: usize,
) -> Value {
    let latency = |runs: &Vec<LatencyRun>| {
        let medians: Vec<f64> = runs.iter().map(|run| run.median_ns).collect();
        let p99s: Vec<f64> = runs.iter().map(|run| run.p99_ns).collect();
        json!({
            "median_ns": median(&medians),
            "p99_ns": median(&p99s),
            "runs": runs.iter().map(|run| json!({
                "median_ns": run.median_ns,
                "p99_ns": run.p99_ns,
                "samples": run.samples,
            })).collect::<Vec<_>>(),
        })
    };
    let mut modes = Map::new();
    for mode in Mode::ALL {
        let mut latencies = Map::new();
        for ((m, id), runs) in &record.latency {
            if *m == mode {
                latencies.insert(id.clone(), latency(runs));
            }
        }
        let mut cancels = Map::new();
        for ((m, id), runs) in &record.cancel {
            if *m == mode {
                cancels.insert(id.clone(), latency(runs));
            }
        }
        let mut throughput = Map::new();
        for ((m, id, threads), runs) in &record.throughput {
            if *m != mode {
                continue;
            }
            let entry = throughput
                .entry(id.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            entry[threads.to_string()] = json!({
                "calls_per_s": median(runs),
                "runs": runs,
            });
        }
        let stream: Map<_, _> = record
            .stream
            .iter()
            .filter(|((m, _), _)| *m == mode)
            .map(|((_, id), runs)| {
                let value = json!({ "items_per_s": median(runs), "runs": runs });
                (id.clone(), value)
            })
            .collect();
        let mut figures = json!({
            "round_trip_latency": latencies,
            "cancel_latency": cancels,
            "throughput": throughput,
            "stream": stream,
        });
        if mode == Mode::Pinned {
            figures["allocations_per_round_trip"] = record
                .allocs
                .iter()
                .map(|(id, runs)| {
                    let value = json!({
                        "allocations": record.allocations_per_call(id),
                        "bytes": record.alloc_bytes_per_call(id),
                        "runs": runs.iter().map(|run| json!({
                            "calls": run.calls,
                            "allocations": run.allocations,
                            "bytes": run.bytes,
                        })).collect::<Vec<_>>(),
                    });
                    (id.clone(), value)
                })
                .collect::<Map<_, _>>()
                .into();
        }
        if mode == Mode::Pinned {
            figures["with_tracing"] = record
                .tracing
                .iter()
                .map(|(id, runs)| {
                    let mut value = Map::new();
                    for traced in Traced::ALL {
                        let runs: Vec<LatencyRun> =
                            runs.iter().map(|run| *run.get(traced)).collect();
                        value.insert(traced.name().to_owned(), latency(&runs));
                    }
                    (id.clone(), Value::Object(value))
                })
                .collect::<Map<_, _>>()
                .into();
        }
        if mode == Mode::Unpinned {
            figures["memory"] = record
                .memory
                .iter()
                .map(|(id, runs)| {
                    let value = json!({
                        "pending": runs.first().map(|run| run.count),
                        "bytes_per_pending": record.bytes_per_pending(id),
                        "retained_kib_after_cancel": record.retained_kib(id),
                        "runs": runs.iter().map(|run| json!({
                            "baseline_kib": run.baseline_kib,
                            "pending_kib": run.pending_kib,
                            "cancelled_kib": run.cancelled_kib,
                        })).collect::<Vec<_>>(),
                    });
                    (id.clone(), value)
                })
                .collect::<Map<_, _>>()
                .into();
            figures["pending_at_scale"] = record
                .million
                .iter()
                .map(|(id, runs)| {
                    let figure = |f: fn(&MillionRun) -> f64| record.million(id, f);
                    let value = json!({
                        "pending": runs.first().map(|run| run.count),
                        "bytes_per_pending": figure(MillionRun::bytes_per_pending),
                        "shutdown_ns": figure(MillionRun::shutdown_ns),
                        "stop_returned_ns": figure(|run| run.stop_returned_ns),
                        "waiters_woken_ns": figure(|run| run.waiters_woken_ns),
                        "futures_dropped_ns": figure(|run| run.futures_dropped_ns),
                        "runs": runs.iter().map(|run| json!({
                            "baseline_kib": run.baseline_kib,
                            "pending_kib": run.pending_kib,
                            "stop_returned_ns": run.stop_returned_ns,
                            "waiters_woken_ns": run.waiters_woken_ns,
                            "futures_dropped_ns": run.futures_dropped_ns,
                        })).collect::<Vec<_>>(),
                    });
                    (id.clone(), value)
                })
                .collect::<Map<_, _>>()
                .into();
            figures["http"] = record
                .http
                .iter()
                .fold(Map::new(), |mut http, ((id, callers), runs)| {
                    let entry = http
                        .entry(id.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    let figure = |figure| record.http(id, *callers, figure);
                    entry[callers.to_string()] = json!({
                        "requests_per_s": figure(HttpFigure::RequestsPerS),
                        "p50_ns": figure(HttpFigure::P50),
                        "p99_ns": figure(HttpFigure::P99),
                        "threads": figure(HttpFigure::Threads),
                        "rss_kib": figure(HttpFigure::RssKib),
                        "runs": runs.iter().map(|run| json!({
                            "requests_per_s": run.requests_per_s,
                            "p50_ns": run.latency.median_ns,
                            "p99_ns": run.latency.p99_ns,
                            "requests": run.latency.samples,
                            "threads": run.threads,
                            "rss_kib": run.rss_kib,
                            "baseline_rss_kib": run.baseline_rss_kib,
                        })).collect::<Vec<_>>(),
                    });
                    http
                })
                .into();
            figures["stash"] = record
                .stash
                .iter()
                .map(|(id, runs)| {
                    let value = json!({ "ops_per_s": median(runs), "runs": runs });
                    (id.clone(), value)
                })
                .collect::<Map<_, _>>()
                .into();
        }
        modes.insert(mode.name().to_owned(), figures);
    }
    let python = match &record.python {
        PythonStatus::Skipped => json!({ "status": "skipped" }),
        PythonStatus::Unavailable(reason) => json!({ "status": "unavailable", "reason": reason }),
        PythonStatus::Measured(versions) => json!({ "status": "measured", "versions": versions }),
    };
    json!({
        "mode": settings.mode_name(),
        "ratios": ratios.to_json(),
        "raw": modes,
        "python": python,
        "failures": record.failures,
        "machine": {
            "cpus": cpus,
            "pinned_cpu": pinned_cpu,
        },
        "settings": {
            "backends": settings.backends.iter().map(|b| b.name()).collect::<Vec<_>>(),
            "repeats": settings.repeats,
            "latency_calls": settings.latency_calls,
            "throughput_window_s": settings.throughput_window.as_secs_f64(),
            "thread_counts": THREAD_COUNTS,
            "throughput_threads": THROUGHPUT_THREADS,
            "cancel_iterations": settings.cancel_iterations,
            "pending": crate::config::PENDING,
            "stash_threads": crate::config::STASH_THREADS,
            "stream_items": settings.stream_items,
            "stream_buffer": crate::subjects::STREAM_BUFFER,
            "http_only": settings.http_only,
            "accounting_only": settings.accounting_only,
            "million_only": settings.million_only,
            "pending_at_scale": settings.pending_at_scale,
            "pending_at_scale_waiters": crate::workloads::million::WAITERS,
            "http_window_s": settings.http_window.as_secs_f64(),
            "http_warmup_s": settings.http_warmup.as_secs_f64(),
        },
    })
}
