//! A sync web server showing a value that a periodic task keeps fresh in
//! the reactor: Python crochet's exchange-rate example.
//!
//! ```text
//! cargo run --example exchange_rate                     # a loopback rate source, every 30 s
//! cargo run --example exchange_rate -- --port 8080 --every 5
//! cargo run --example exchange_rate -- --source http://127.0.0.1:9000/eurusd
//! ```
//!
//! `ExchangeRate::start` downloads the rate at once and then every period
//! with `crochet::every` (Twisted's `LoopingCall`); each download runs in
//! the reactor through a `#[crochet::run_in_reactor]` method. The web
//! server is tiny_http with a thread per request: its threads only read
//! the latest value, they never wait for the network. A failed download
//! is logged by crochet, clears the value ("unavailable, please refresh
//! the page") and does not stop the loop.
//!
//! The first line on stdout is the address the server listens on.

use std::error::Error;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

const USAGE: &str = "usage: exchange_rate [--port PORT] [--every SECONDS] [--source URL]";

/// What the page shows in place of a rate when there is none.
const UNAVAILABLE: &str = "unavailable, please refresh the page";

type FetchError = Box<dyn Error + Send + Sync>;

/// The latest EUR/USD rate, downloaded in the background.
struct ExchangeRate {
    client: reqwest::Client,
    source: reqwest::Url,
    latest: Mutex<Option<f64>>,
}

impl ExchangeRate {
    fn new(client: reqwest::Client, source: reqwest::Url) -> Arc<Self> {
        Arc::new(ExchangeRate {
            client,
            source,
            latest: Mutex::new(None),
        })
    }

    /// The latest rate: `None` before the first download, and after a
    /// failed one. Never waits for the network, so any thread may call it.
    fn latest_value(&self) -> Option<f64> {
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Downloads the rate now and then every `period`, in the reactor,
    /// until the returned `Periodic` is dropped.
    fn start(self: &Arc<Self>, period: Duration) -> crochet::Periodic {
        let rate = Arc::clone(self);
        crochet::every(period, move || {
            let download = Arc::clone(&rate).download();
            // The tick fails when the download does (or cannot run): crochet
            // logs the failure and runs the next tick on schedule.
            async move { download.await.map(|_rate| ()).map_err(crochet::Error::from) }
        })
    }

    /// Downloads the rate once and keeps it. On failure the old rate is
    /// dropped too: a stale rate would be worse than none. The caller gets
    /// an `EventualResult<f64, FetchError>`: the download's own error comes
    /// back typed, as `WaitError::Failed`.
    #[crochet::run_in_reactor]
    async fn download(self: Arc<Self>) -> Result<f64, FetchError> {
        let downloaded = fetch_rate(&self.client, &self.source).await;
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) =
            downloaded.as_ref().ok().copied();
        if let Ok(rate) = &downloaded {
            tracing::info!(source = %self.source, "downloaded the EUR/USD rate: {rate:.4}");
        }
        downloaded
    }
}

/// Fetches one rate: the whole body, a number in plain text.
async fn fetch_rate(client: &reqwest::Client, source: &reqwest::Url) -> Result<f64, FetchError> {
    let fetched = async {
        client
            .get(source.clone())
            .send()
            .await?
            .error_for_status()?
            .text()
            .await
    };
    // The error's causes go in its message: the log shows only that.
    let text = fetched.await.map_err(|error| one_line(&error))?;
    let rate = text
        .trim()
        .parse::<f64>()
        .map_err(|error| format!("{source} answered {text:?}, not a rate: {error}"))?;
    Ok(rate)
}

struct Options {
    port: u16,
    every: Duration,
    source: Option<reqwest::Url>,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}; {USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&*error));
            ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> Result<(), Box<dyn Error>> {
    // crochet logs through `tracing`: failed ticks show up on stderr.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    // reqwest is built without a default TLS crypto provider (see the
    // README): pick rustls' `ring` one. An error only means a provider is
    // installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    crochet::setup()?;
    let _shutdown = crochet::shutdown_guard(Duration::from_secs(5));

    let source = match options.source {
        Some(source) => source,
        None => start_rate_source()?,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let rate = ExchangeRate::new(client, source);
    let _refresh = rate.start(options.every);

    let server = tiny_http::Server::http(("127.0.0.1", options.port))
        .map_err(|error| format!("listening on port {}: {error}", options.port))?;
    let address = server
        .server_addr()
        .to_ip()
        .ok_or("the server has no IP address")?;
    println!("listening on http://{address}");
    // One thread per request, as a threaded WSGI server would do.
    for request in server.incoming_requests() {
        let rate = Arc::clone(&rate);
        std::thread::spawn(move || respond(request, &rate));
    }
    Ok(())
}

fn respond(request: tiny_http::Request, rate: &ExchangeRate) {
    let path = request.url().split('?').next().unwrap_or_default();
    let (status, body) = if path == "/" {
        let rate = rate
            .latest_value()
            .map_or_else(|| UNAVAILABLE.to_owned(), |rate| format!("{rate:.4}"));
        (200, format!("Current EUR/USD exchange rate is {rate}."))
    } else {
        (404, "Not found.".to_owned())
    };
    let content_type = tiny_http::Header::from_bytes("Content-Type", "text/html; charset=utf-8")
        .expect("a valid header");
    let response = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(content_type);
    if let Err(error) = request.respond(response) {
        tracing::debug!(%error, "the client went away before the page was sent");
    }
}

/// A loopback rate source on a thread of its own, standing in for a
/// financial data service: each request gets another EUR/USD rate, as
/// plain text (`1.0837`).
fn start_rate_source() -> Result<reqwest::Url, Box<dyn Error>> {
    let server = tiny_http::Server::http("127.0.0.1:0")
        .map_err(|error| format!("starting the rate source: {error}"))?;
    let address = server
        .server_addr()
        .to_ip()
        .ok_or("the rate source has no IP address")?;
    std::thread::Builder::new()
        .name("rate-source".into())
        .spawn(move || {
            for (served, request) in (0_u32..).zip(server.incoming_requests()) {
                // 1.0800 to 1.0899, never the same twice in a row.
                let basis_points = 10_800 + served.wrapping_mul(37) % 100;
                let rate = format!("{}.{:04}", basis_points / 10_000, basis_points % 10_000);
                // A client that hung up is no concern of this server's.
                let _ = request.respond(tiny_http::Response::from_string(rate));
            }
        })?;
    Ok(reqwest::Url::parse(&format!("http://{address}/eurusd"))?)
}

/// Parses the arguments: `Ok(None)` for `--help`, `Err` with a one-line
/// message for anything it does not understand.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        port: 0,
        every: Duration::from_secs(30),
        source: None,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => {
                let text = value()?;
                options.port = text
                    .parse()
                    .map_err(|_| format!("--port needs a port number (0 for any), not `{text}`"))?;
            }
            "--every" => {
                let text = value()?;
                options.every = text
                    .parse::<f64>()
                    .ok()
                    .filter(|seconds| *seconds > 0.0)
                    .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
                    .ok_or_else(|| {
                        format!("--every needs a positive number of seconds, not `{text}`")
                    })?;
            }
            "--source" => {
                let text = value()?;
                let url = reqwest::Url::parse(&text)
                    .map_err(|error| format!("--source needs a URL, not `{text}`: {error}"))?;
                options.source = Some(url);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(options))
}

/// An error and its causes on one line, each message once.
fn one_line(error: &dyn Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !line.contains(&message) {
            line.push_str(": ");
            line.push_str(&message);
        }
        source = cause.source();
    }
    line
}
