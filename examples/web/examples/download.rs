//! Download a page in the reactor and print it: Python crochet's first
//! example, with reqwest as the async HTTP client.
//!
//! ```text
//! cargo run --example download                          # from a loopback server it starts
//! cargo run --example download -- http://127.0.0.1:8000/
//! cargo run --example download -- --timeout 2 https://www.rust-lang.org/
//! ```
//!
//! The blocking `main` thread calls `download_page`, which returns an
//! `EventualResult` at once while the request runs in the reactor; it then
//! waits with a timeout, and cancels the download if the time runs out.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use crochet::WaitError;

const USAGE: &str = "usage: download [--timeout SECONDS] [URL]";

/// What the loopback server answers when no URL is given.
const GREETING: &str =
    "Hello from crochet's loopback server: this page was downloaded in the reactor.\n";

/// Downloads `url` in the reactor. Callers get an `EventualResult` at once
/// and wait for it as they see fit: `EventualResult<String,
/// reqwest::Error>`, whose wait gives the page or a `WaitError` (the
/// download's own error, owned, as `WaitError::Failed`).
#[crochet::run_in_reactor]
async fn download_page(
    client: reqwest::Client,
    url: reqwest::Url,
) -> Result<String, reqwest::Error> {
    client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await
}

struct Options {
    url: Option<reqwest::Url>,
    timeout: Duration,
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
    // reqwest is built without a default TLS crypto provider (see the
    // README): pick rustls' `ring` one, once, before building a client. An
    // error only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    crochet::setup()?;
    let _shutdown = crochet::shutdown_guard(Duration::from_secs(5));

    let url = match options.url {
        Some(url) => url,
        None => {
            let url = start_loopback_server()?;
            eprintln!("no URL given: downloading from a loopback server at {url}");
            url
        }
    };

    let client = reqwest::Client::builder().build()?;
    let page = download_page(client, url.clone());
    let body = match page.wait_timeout(options.timeout) {
        Ok(body) => body,
        Err(error) if error.is_timeout() => {
            // Nobody will read it now: stop the request in the reactor.
            page.cancel();
            let timeout = options.timeout;
            return Err(
                format!("no answer from {url} within {timeout:?}; download cancelled").into(),
            );
        }
        // The download's own error, with its causes (a refused
        // connection, say); or crochet's, which says what happened.
        Err(WaitError::Failed(error)) => return Err(error.into()),
        Err(error) => return Err(error.into()),
    };
    print!("{body}");
    if !body.ends_with('\n') {
        println!();
    }
    Ok(())
}

/// A loopback HTTP server on a thread of its own, standing in for the web.
fn start_loopback_server() -> Result<reqwest::Url, Box<dyn Error>> {
    let server = tiny_http::Server::http("127.0.0.1:0")
        .map_err(|error| format!("starting the loopback server: {error}"))?;
    let address = server
        .server_addr()
        .to_ip()
        .ok_or("the loopback server has no IP address")?;
    std::thread::Builder::new()
        .name("loopback-server".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                // A client that hung up is no concern of this server's.
                let _ = request.respond(tiny_http::Response::from_string(GREETING));
            }
        })?;
    Ok(reqwest::Url::parse(&format!("http://{address}/"))?)
}

/// Parses the arguments: `Ok(None)` for `--help`, `Err` with a one-line
/// message for anything it does not understand.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        url: None,
        timeout: Duration::from_secs(10),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--timeout" => {
                let value = args.next().ok_or("--timeout needs a number of seconds")?;
                options.timeout = value
                    .parse::<f64>()
                    .ok()
                    .filter(|seconds| *seconds > 0.0)
                    .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
                    .ok_or_else(|| {
                        format!("--timeout needs a positive number of seconds, not `{value}`")
                    })?;
            }
            flag if flag.starts_with('-') => return Err(format!("unknown flag `{flag}`")),
            text if options.url.is_none() => {
                let url = reqwest::Url::parse(text)
                    .map_err(|error| format!("invalid URL `{text}`: {error}"))?;
                options.url = Some(url);
            }
            extra => return Err(format!("unexpected argument `{extra}`: give one URL")),
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
