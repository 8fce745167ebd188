//! The examples, run as a user runs them: each is its own process on
//! loopback, driven with a real blocking HTTP client (ureq, with a cookie
//! jar) and checked by what it prints and serves: this package's (Python
//! crochet's three), and the `crochet` crate's own (`tour`,
//! `stream_lines`).
//!
//! `cargo test` builds the examples next to the test binaries. When one is
//! missing or older than its source (`cargo test --test examples` builds
//! no examples), the tests build it with `cargo build --example NAME`.
//! Every step has a deadline, and every process is killed when its test
//! ends.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The hard bound of one test, not counting building its example.
const TEST_DEADLINE: Duration = Duration::from_secs(90);
/// The bound of one step: a page, a line, a process that should exit.
const PROMPTLY: Duration = Duration::from_secs(20);
/// The bound of building an example that `cargo test` did not build.
const BUILD_DEADLINE: Duration = Duration::from_secs(900);

const UNAVAILABLE_PAGE: &str =
    "Current EUR/USD exchange rate is unavailable, please refresh the page.";
const STARTING_PAGE: &str = "Starting download, refresh to track progress.";
const IN_PROGRESS_PAGE: &str = "Download in progress...";

#[test]
fn tour_runs_every_step_and_its_cancel_drops_the_future() {
    let output = run_to_end("tour", &[]);
    assert!(output.status.success(), "{output:?}");
    assert!(output.stdout.contains("all steps done"), "{output:?}");
    let cancel = output
        .stdout
        .lines()
        .find(|line| line.contains("cancel()"))
        .unwrap_or_default();
    // What a newcomer should learn there: the cancelled future is gone by
    // the time the waiter hears `Cancelled`.
    assert!(
        cancel.contains("cancelled") && cancel.contains("future dropped: true ("),
        "{cancel}"
    );
}

#[test]
fn download_prints_the_page_of_its_own_loopback_server() {
    let output = run_to_end("download", &[]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        output.stdout,
        "Hello from crochet's loopback server: this page was downloaded in the reactor.\n"
    );
    assert!(
        output
            .stderr
            .starts_with("no URL given: downloading from a loopback server at http://127.0.0.1:"),
        "{output:?}"
    );
}

#[test]
fn download_of_a_malformed_url_fails_with_one_line() {
    let output = run_to_end("download", &["not a url"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_one_line_error(&output, "error: invalid URL `not a url`");
}

#[test]
fn download_from_a_refused_connection_fails_with_one_line() {
    let url = format!("http://{}/", closed_port());
    let output = run_to_end("download", &[&url]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_one_line_error(
        &output,
        &format!("error: error sending request for url ({url})"),
    );
}

#[test]
fn download_that_times_out_is_cancelled_with_one_line() {
    // Accepts connections (the kernel does) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind a silent listener");
    let url = format!("http://{}/", silent.local_addr().expect("its address"));
    let output = run_to_end("download", &["--timeout", "0.3", &url]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_one_line_error(
        &output,
        &format!("error: no answer from {url} within 300ms; download cancelled"),
    );
}

#[test]
fn exchange_rate_shows_a_rate_that_changes_over_time() {
    within_deadline("exchange_rate", || {
        let server = Running::start("exchange_rate", &["--port", "0", "--every", "1"]);
        let agent = agent();
        let mut rates = HashSet::new();
        let deadline = Instant::now() + PROMPTLY;
        while rates.len() < 2 {
            assert!(
                Instant::now() < deadline,
                "saw rates {rates:?} only; {}",
                server.stderr()
            );
            let (status, page) = get(&agent, &server.url("/"));
            assert_eq!(status, 200, "{page}");
            if page == UNAVAILABLE_PAGE {
                // Only before the first download: the source never fails.
                assert!(rates.is_empty(), "the rate went away: {}", server.stderr());
            } else {
                rates.insert(rate_of(&page));
            }
            thread::sleep(Duration::from_millis(100));
        }
        let (status, _) = get(&agent, &server.url("/elsewhere"));
        assert_eq!(status, 404);
    });
}

#[test]
fn exchange_rate_is_unavailable_while_its_source_is_unreachable() {
    within_deadline("exchange_rate", || {
        let source = format!("http://{}/eurusd", closed_port());
        let server = Running::start(
            "exchange_rate",
            &["--port", "0", "--every", "1", "--source", &source],
        );
        // Two failed ticks logged: the loop goes on after a failure.
        let failed = |log: &str| {
            log.lines()
                .filter(|line| line.contains("periodic tick failed") && line.contains(&source))
                .count()
        };
        server.wait_for_stderr(|log| failed(log) >= 2);
        let (status, page) = get(&agent(), &server.url("/"));
        assert_eq!((status, page.as_str()), (200, UNAVAILABLE_PAGE));
    });
}

#[test]
fn stash_session_starts_tracks_and_shows_the_download() {
    within_deadline("stash_session", || {
        let server = Running::start("stash_session", &["--port", "0", "--delay-ms", "3000"]);
        let agent = agent();
        let url = server.url("/");

        let (status, page) = get(&agent, &url);
        assert_eq!((status, page.as_str()), (200, STARTING_PAGE));
        let mut cookies = vec![session_cookie(&agent).expect("a cookie after the start")];

        // Each refresh in progress stashes the download under a new id.
        let deadline = Instant::now() + PROMPTLY;
        let page = loop {
            assert!(
                Instant::now() < deadline,
                "no download; {}",
                server.stderr()
            );
            let (status, page) = get(&agent, &url);
            assert_eq!(status, 200, "{page}");
            if page != IN_PROGRESS_PAGE {
                break page;
            }
            let cookie = session_cookie(&agent).expect("a cookie while in progress");
            assert!(
                !cookies.contains(&cookie),
                "{cookie} was used before: {cookies:?}"
            );
            cookies.push(cookie);
            thread::sleep(Duration::from_millis(200));
        };
        assert!(cookies.len() >= 2, "never in progress: {cookies:?}");
        assert_eq!(
            page,
            "Downloaded: &lt;p&gt;Hello from the slow server: this page took 3000 ms \
             &amp; was worth the wait.&lt;/p&gt;"
        );
        assert_eq!(
            session_cookie(&agent),
            None,
            "the cookie is cleared once shown"
        );

        // The session is done: the next visit starts another download.
        let (status, page) = get(&agent, &url);
        assert_eq!((status, page.as_str()), (200, STARTING_PAGE));
    });
}

#[test]
fn stash_session_starts_afresh_for_a_tampered_malformed_or_stale_cookie() {
    within_deadline("stash_session", || {
        let server = Running::start("stash_session", &["--port", "0", "--delay-ms", "10000"]);
        let url = server.url("/");
        let session = agent();
        get(&session, &url);
        let first = session_cookie(&session).expect("a cookie after the start");
        let (_, page) = get(&session, &url);
        assert_eq!(page, IN_PROGRESS_PAGE);
        let current = session_cookie(&session).expect("a cookie while in progress");

        let tampered = format!(
            "{}{}",
            &current[..31],
            if current.ends_with('0') { '1' } else { '0' }
        );
        for cookie in [tampered.as_str(), "not-a-stash-id", "", &first] {
            let (status, page, set_cookie) = get_with_cookie(&url, &format!("download={cookie}"));
            assert_eq!(
                (status, page.as_str()),
                (200, STARTING_PAGE),
                "cookie {cookie:?}"
            );
            let set_cookie = set_cookie.expect("a new cookie");
            let fresh = set_cookie
                .strip_prefix("download=")
                .and_then(|rest| rest.split(';').next())
                .unwrap_or_else(|| panic!("not the session cookie: {set_cookie}"));
            assert!(fresh.parse::<crochet::StashId>().is_ok(), "{set_cookie}");
            assert_ne!(fresh, cookie);
        }

        // None of that touched the real session's download.
        let (_, page) = get(&session, &url);
        assert_eq!(page, IN_PROGRESS_PAGE);
    });
}

#[test]
fn stream_lines_prints_every_line_and_the_stats() {
    let output = run_to_end(
        "stream_lines",
        &[
            "--lines",
            "7",
            "--interval-ms",
            "20",
            "--timeout-ms",
            "2000",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert!(
        lines[0].starts_with("reading 7 lines from 127.0.0.1:"),
        "{lines:?}"
    );
    let received: Vec<&str> = lines
        .iter()
        .filter_map(|line| line.split_once(" (at ").map(|(line, _)| line))
        .collect();
    let expected: Vec<String> = (1..=7)
        .map(|number| format!("line {number} of 7"))
        .collect();
    assert_eq!(received, expected, "{lines:?}");
    // Stats after line 5, and at the end, when everything has finished.
    let stats: Vec<&&str> = lines
        .iter()
        .filter(|line| line.starts_with("stats: "))
        .collect();
    assert_eq!(stats.len(), 2, "{lines:?}");
    assert!(
        stats[0].starts_with("stats: submitted 3, pending 1"),
        "{lines:?}"
    );
    assert!(
        lines[lines.len() - 2].starts_with("received 7 lines in "),
        "{lines:?}"
    );
    // The reader sees the end as the stream closes, which can be just
    // before its operation counts as completed: `pending` may be 0 or 1.
    let last = lines[lines.len() - 1];
    assert!(
        last.starts_with("stats: submitted 3, pending "),
        "{lines:?}"
    );
    assert!(
        last.contains(", failed 0, panicked 0, cancelled 0, stopped 0, "),
        "{lines:?}"
    );
}

#[test]
fn every_example_refuses_a_bad_flag_or_value_with_one_line() {
    let bad_value = [
        ("download", ["--timeout", "soon"]),
        ("exchange_rate", ["--every", "-1"]),
        ("stash_session", ["--delay-ms", "later"]),
        ("stream_lines", ["--lines", "many"]),
    ];
    for (name, value) in bad_value {
        let output = run_to_end(name, &["--bogus"]);
        assert_eq!(output.status.code(), Some(2), "{name}: {output:?}");
        assert_one_line_error(&output, "error: unknown");
        assert!(output.stderr.contains("usage: "), "{name}: {output:?}");

        let output = run_to_end(name, &value);
        assert_eq!(output.status.code(), Some(2), "{name}: {output:?}");
        assert_one_line_error(&output, &format!("error: {}", value[0]));
    }
}

#[test]
fn every_example_prints_its_usage_for_help() {
    for name in ["download", "exchange_rate", "stash_session", "stream_lines"] {
        let output = run_to_end(name, &["--help"]);
        assert!(output.status.success(), "{name}: {output:?}");
        assert!(
            output.stdout.starts_with(&format!("usage: {name} ")),
            "{output:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Support: finding and building the examples, running them with deadlines.

/// Where cargo puts the example `name` for the profile of this test binary:
/// `target/<profile>/examples/`, beside `target/<profile>/deps/` where this
/// binary is.
fn example_path(name: &str) -> (PathBuf, String) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary is in target/<profile>/deps");
    let profile = profile_dir
        .file_name()
        .and_then(|profile| profile.to_str())
        .expect("a profile directory")
        .to_owned();
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    (path, profile)
}

/// The directory of the package whose example `name` is: the `crochet`
/// crate's own, or this one's.
fn package_of(name: &str) -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match name {
        "tour" | "stream_lines" => here.join("../.."),
        _ => here,
    }
}

/// The example's executable, built first if `cargo test` did not build it
/// (or built it before the example's source last changed).
fn example(name: &str) -> PathBuf {
    // One build at a time: they would wait on cargo's lock anyway.
    static BUILDING: Mutex<()> = Mutex::new(());
    let _building = BUILDING.lock().unwrap_or_else(PoisonError::into_inner);
    let (path, profile) = example_path(name);
    let package = package_of(name);
    let source = package.join("examples").join(format!("{name}.rs"));
    let modified = |path: &PathBuf| path.metadata().and_then(|meta| meta.modified()).ok();
    // Older than its source: built before an edit, by a run that did not
    // build examples.
    if path.exists() && modified(&path) >= modified(&source) {
        return path;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--example", name, "--manifest-path"])
        .arg(package.join("Cargo.toml"));
    if profile != "debug" {
        build.args(["--profile", &profile]);
    }
    let output = finish(
        build
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        BUILD_DEADLINE,
    );
    assert!(
        output.status.success(),
        "cargo build --example {name} failed: {output:?}"
    );
    assert!(
        path.exists(),
        "cargo built {name}, but not at {}",
        path.display()
    );
    path
}

/// A process's exit status and everything it printed.
#[derive(Debug)]
struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs the example to its end, within [`PROMPTLY`].
fn run_to_end(name: &str, args: &[&str]) -> Output {
    let mut command = Command::new(example(name));
    command
        .args(args)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    finish(&mut command, PROMPTLY)
}

/// Runs `command` and collects its output, killing it after `deadline`.
fn finish(command: &mut Command, deadline: Duration) -> Output {
    let mut child = command.spawn().expect("start the process");
    let stdout = read_all(child.stdout.take().expect("piped stdout"));
    let stderr = read_all(child.stderr.take().expect("piped stderr"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the process") {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not exit within {deadline:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn read_all(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

fn assert_one_line_error(output: &Output, starts_with: &str) {
    assert!(!output.status.success(), "{output:?}");
    assert_eq!(output.stderr.lines().count(), 1, "{output:?}");
    assert!(output.stderr.starts_with(starts_with), "{output:?}");
}

/// A running example server, killed when dropped.
struct Running {
    child: Child,
    address: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    /// Starts the example and reads the address from its first line:
    /// `listening on http://127.0.0.1:PORT`.
    fn start(name: &str, args: &[&str]) -> Running {
        let mut child = Command::new(example(name))
            .args(args)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the example");
        let lines = stdout_lines(child.stdout.take().expect("piped stdout"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let log = Arc::clone(&stderr);
        let mut pipe = BufReader::new(child.stderr.take().expect("piped stderr"));
        thread::spawn(move || {
            let mut line = String::new();
            while matches!(pipe.read_line(&mut line), Ok(read) if read > 0) {
                log.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_str(&line);
                line.clear();
            }
        });
        let mut running = Running {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            stderr,
        };
        let first = lines
            .recv_timeout(PROMPTLY)
            .unwrap_or_else(|_| panic!("{name} printed no address; stderr: {}", running.stderr()));
        running.address = first
            .strip_prefix("listening on http://")
            .and_then(|address| address.parse().ok())
            .unwrap_or_else(|| panic!("{name}'s first line is not an address: {first:?}"));
        assert!(running.address.ip().is_loopback(), "{first}");
        running
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until the example's stderr satisfies `condition`.
    fn wait_for_stderr(&self, condition: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + PROMPTLY;
        while !condition(&self.stderr()) {
            assert!(
                Instant::now() < deadline,
                "stderr so far: {}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout_lines(stdout: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Builds the example `name` if need be, then runs a test's body on a
/// thread of its own and fails the test if it has not finished within
/// [`TEST_DEADLINE`]. Every step inside has a bound
/// of its own; this one catches what they would miss.
fn within_deadline(name: &str, body: impl FnOnce() + Send + 'static) {
    // Building is not the test: it has a bound of its own.
    example(name);
    let (done, finished) = mpsc::channel();
    let worker = thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    match finished.recv_timeout(TEST_DEADLINE) {
        Ok(()) => worker.join().expect("the test's thread"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test took over {TEST_DEADLINE:?}"),
    }
}

/// An address on loopback where nothing listens (it did a moment ago).
fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    listener.local_addr().expect("its address")
}

/// A blocking HTTP client with a cookie jar, bounded in time, that
/// returns error statuses as responses and ignores proxy settings.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(PROMPTLY))
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into()
}

fn get(agent: &ureq::Agent, url: &str) -> (u16, String) {
    let mut response = agent
        .get(url)
        .call()
        .unwrap_or_else(|error| panic!("GET {url}: {error}"));
    let page = response.body_mut().read_to_string().expect("a text page");
    (response.status().as_u16(), page)
}

/// A request from a fresh client that sends `cookie` and nothing else;
/// the answer's `Set-Cookie` header with the page.
fn get_with_cookie(url: &str, cookie: &str) -> (u16, String, Option<String>) {
    let mut response = agent()
        .get(url)
        .header("Cookie", cookie)
        .call()
        .unwrap_or_else(|error| panic!("GET {url}: {error}"));
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let page = response.body_mut().read_to_string().expect("a text page");
    (response.status().as_u16(), page, set_cookie)
}

/// The value of the `download` cookie in the agent's jar.
fn session_cookie(agent: &ureq::Agent) -> Option<String> {
    let jar = agent.cookie_jar_lock();
    let cookie = jar
        .iter()
        .find(|cookie| cookie.name() == "download")
        .map(|cookie| cookie.value().to_owned());
    jar.release();
    let cookie = cookie?;
    assert_eq!(cookie.len(), 32, "a stash id: {cookie}");
    assert!(
        cookie.bytes().all(|byte| byte.is_ascii_hexdigit()),
        "{cookie}"
    );
    Some(cookie)
}

/// The rate on an exchange-rate page, checked to be one.
fn rate_of(page: &str) -> String {
    let rate = page
        .strip_prefix("Current EUR/USD exchange rate is ")
        .and_then(|rest| rest.strip_suffix('.'))
        .unwrap_or_else(|| panic!("not an exchange-rate page: {page:?}"));
    let value: f64 = rate
        .parse()
        .unwrap_or_else(|_| panic!("not a rate: {page:?}"));
    assert!((1.08..1.09).contains(&value) && rate.len() == 6, "{page:?}");
    rate.to_owned()
}
