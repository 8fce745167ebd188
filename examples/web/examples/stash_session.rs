//! A sync web app that starts a download per session and keeps its result
//! id in a cookie: Python crochet's session-stash example.
//!
//! ```text
//! cargo run --example stash_session                      # from a slow loopback server
//! cargo run --example stash_session -- --port 8080 --delay-ms 5000
//! cargo run --example stash_session -- --url http://127.0.0.1:9000/
//! ```
//!
//! The first request starts the download in the reactor, stashes its
//! `EventualResult` and sets the stash id as a cookie. Each refresh takes
//! the result back out of the stash, waits 0.1 s for it, and either shows
//! the page or stashes it again under a new id (a new cookie). A cookie
//! that names nothing (tampered with, malformed, already used, expired)
//! starts a fresh download. By default the download comes from a loopback
//! server that answers after `--delay-ms` (2000), so that a refresh can
//! see it in progress.
//!
//! The first line on stdout is the address the server listens on.

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crochet::{EventualResult, StashId};

const USAGE: &str = "usage: stash_session [--port PORT] [--delay-ms MS] [--url URL]";

/// The cookie that holds the session's stash id.
const COOKIE: &str = "download";

/// A download in the reactor: the page's text, or reqwest's own error.
type Download = EventualResult<String, reqwest::Error>;

/// How long a request waits for the download before saying it is in
/// progress.
const PATIENCE: Duration = Duration::from_millis(100);

struct App {
    client: reqwest::Client,
    url: reqwest::Url,
}

/// A page to send: status, HTML body and what to do with the cookie.
struct Page {
    status: u16,
    body: String,
    cookie: Cookie,
}

enum Cookie {
    Keep,
    Set(StashId),
    Clear,
}

impl App {
    /// Answers one request for `/`, given the request's cookie.
    fn page(&self, cookie: Option<&str>) -> Page {
        // A cookie that does not give a result back is as good as none.
        let Some(download) = cookie.and_then(retrieve) else {
            return self.start();
        };
        match download.wait_timeout(PATIENCE) {
            Ok(body) => Page::new(format!("Downloaded: {}", escape(&body))).clear_cookie(),
            Err(error) if error.is_timeout() => match download.stash() {
                Ok(id) => Page::new("Download in progress...".to_owned()).set_cookie(id),
                Err(full) => busy(full.into_result()),
            },
            Err(error) => {
                Page::new(format!("Download failed: {}", escape(&one_line(&error)))).clear_cookie()
            }
        }
    }

    /// Starts a download in the reactor and stashes it for the session.
    fn start(&self) -> Page {
        let (client, url) = (self.client.clone(), self.url.clone());
        let download = crochet::run_in_reactor_fallible(move || async move {
            client
                .get(url)
                .send()
                .await?
                .error_for_status()?
                .text()
                .await
        });
        match download.stash() {
            Ok(id) => {
                Page::new("Starting download, refresh to track progress.".to_owned()).set_cookie(id)
            }
            Err(full) => busy(full.into_result()),
        }
    }
}

/// Takes the download a cookie names out of the stash, if there is one.
fn retrieve(cookie: &str) -> Option<Download> {
    let stashed = cookie
        .parse::<StashId>()
        .map_err(crochet::Error::from)
        .and_then(|id| Ok(crochet::retrieve_result(id)?));
    match stashed {
        Ok(download) => Some(download),
        Err(error) => {
            tracing::info!("starting afresh: {error}");
            None
        }
    }
}

/// The stash is full (see `crochet::StashPolicy`): this download will not
/// be looked at again, so stop it.
fn busy(download: Download) -> Page {
    download.cancel();
    Page {
        status: 503,
        body: "Too many downloads in progress, please try again later.".to_owned(),
        cookie: Cookie::Clear,
    }
}

impl Page {
    fn new(body: String) -> Page {
        Page {
            status: 200,
            body,
            cookie: Cookie::Keep,
        }
    }

    fn set_cookie(self, id: StashId) -> Page {
        Page {
            cookie: Cookie::Set(id),
            ..self
        }
    }

    fn clear_cookie(self) -> Page {
        Page {
            cookie: Cookie::Clear,
            ..self
        }
    }

    fn into_response(self) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
        let header = |name: &str, value: &str| {
            tiny_http::Header::from_bytes(name, value).expect("a valid header")
        };
        let mut response = tiny_http::Response::from_string(self.body)
            .with_status_code(self.status)
            .with_header(header("Content-Type", "text/html; charset=utf-8"));
        let attributes = "Path=/; HttpOnly; SameSite=Lax";
        match self.cookie {
            Cookie::Keep => {}
            Cookie::Set(id) => {
                response.add_header(header(
                    "Set-Cookie",
                    &format!("{COOKIE}={id}; {attributes}"),
                ));
            }
            Cookie::Clear => {
                let cleared = format!("{COOKIE}=; Max-Age=0; {attributes}");
                response.add_header(header("Set-Cookie", &cleared));
            }
        }
        response
    }
}

/// The value of the request's `download` cookie, if it sent one.
fn session_cookie(request: &tiny_http::Request) -> Option<&str> {
    request
        .headers()
        .iter()
        .filter(|header| header.field.equiv("Cookie"))
        .flat_map(|header| header.value.as_str().split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(name, value)| (name == COOKIE).then_some(value))
}

fn respond(request: tiny_http::Request, app: &App) {
    let path = request.url().split('?').next().unwrap_or_default();
    let page = if path == "/" {
        app.page(session_cookie(&request))
    } else {
        Page {
            status: 404,
            body: "Not found.".to_owned(),
            cookie: Cookie::Keep,
        }
    };
    if let Err(error) = request.respond(page.into_response()) {
        tracing::debug!(%error, "the client went away before the page was sent");
    }
}

/// HTML-escapes text for the page.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            other => escaped.push(other),
        }
    }
    escaped
}

struct Options {
    port: u16,
    delay: Duration,
    url: Option<reqwest::Url>,
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
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    // reqwest is built without a default TLS crypto provider (see the
    // README): pick rustls' `ring` one. An error only means a provider is
    // installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    crochet::setup()?;
    let _shutdown = crochet::shutdown_guard(Duration::from_secs(5));

    let url = match options.url {
        Some(url) => url,
        None => start_slow_server(options.delay)?,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let app = Arc::new(App { client, url });

    let server = tiny_http::Server::http(("127.0.0.1", options.port))
        .map_err(|error| format!("listening on port {}: {error}", options.port))?;
    let address = server
        .server_addr()
        .to_ip()
        .ok_or("the server has no IP address")?;
    println!("listening on http://{address}");
    // One thread per request, as a threaded WSGI server would do.
    for request in server.incoming_requests() {
        let app = Arc::clone(&app);
        std::thread::spawn(move || respond(request, &app));
    }
    Ok(())
}

/// A loopback server that answers each request after `delay`, standing in
/// for a slow web site.
fn start_slow_server(delay: Duration) -> Result<reqwest::Url, Box<dyn Error>> {
    let server = tiny_http::Server::http("127.0.0.1:0")
        .map_err(|error| format!("starting the slow server: {error}"))?;
    let address = server
        .server_addr()
        .to_ip()
        .ok_or("the slow server has no IP address")?;
    let body = format!(
        "<p>Hello from the slow server: this page took {} ms & was worth the wait.</p>",
        delay.as_millis()
    );
    std::thread::Builder::new()
        .name("slow-server".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                let body = body.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    // A client that hung up is no concern of this server's.
                    let _ = request.respond(tiny_http::Response::from_string(body));
                });
            }
        })?;
    Ok(reqwest::Url::parse(&format!("http://{address}/"))?)
}

/// Parses the arguments: `Ok(None)` for `--help`, `Err` with a one-line
/// message for anything it does not understand.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        port: 0,
        delay: Duration::from_millis(2000),
        url: None,
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
            "--delay-ms" => {
                let text = value()?;
                let millis = text.parse().map_err(|_| {
                    format!("--delay-ms needs a number of milliseconds, not `{text}`")
                })?;
                options.delay = Duration::from_millis(millis);
            }
            "--url" => {
                let text = value()?;
                let url = reqwest::Url::parse(&text)
                    .map_err(|error| format!("--url needs a URL, not `{text}`: {error}"))?;
                options.url = Some(url);
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
