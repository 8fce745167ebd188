//! A failure that nobody waited for is never lost silently: with no
//! logging set up at all, it is written once to stderr; with a `tracing`
//! subscriber, or a `log` logger, it goes there only; a failure hook
//! replaces both. Each case runs in a process of its own (a subscriber, a
//! logger and the hook are process-wide), and this test reads what it
//! wrote.
#![cfg(feature = "tokio")]

use std::process::Command;
use std::time::Duration;

const CHILD: &str = "CROCHET_NEVER_SILENT_CHILD";
const MESSAGE: &str = "the answer was lost";

/// In the child: how logging is set up, then one failure nobody waits for.
fn lose_a_failure(setup: &str) {
    match setup {
        "nothing" => {}
        "tracing" => {
            tracing_subscriber::fmt()
                .with_writer(std::io::stdout)
                .with_ansi(false)
                .init();
        }
        "log" => {
            static LOGGER: StdoutLogger = StdoutLogger;
            log::set_logger(&LOGGER).expect("the only logger");
            log::set_max_level(log::LevelFilter::Info);
        }
        "hook" => crochet::set_failure_hook(|failure| {
            println!("hooked: {}", failure.error());
        }),
        other => panic!("unknown setup {other}"),
    }
    let reactor = crochet::Reactor::start(crochet::default_backend()).expect("start");
    let lost = reactor.run_in_reactor_fallible(|| async { Err::<(), _>(MESSAGE) });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !lost.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    // Dropped unobserved: reported now, on this thread.
    drop(lost);
    reactor.shutdown(Duration::from_secs(10)).expect("shutdown");
}

struct StdoutLogger;

impl log::Log for StdoutLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        println!("log {}: {}", record.level(), record.args());
    }

    fn flush(&self) {}
}

/// Runs `test` in a child process set up as `setup`; its stdout and stderr.
fn run_child(test: &str, setup: &str) -> (String, String) {
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, setup)
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{setup}: {stdout}\n{stderr}");
    (stdout, stderr)
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|line| line.contains(needle)).collect()
}

/// Runs the child for `setup`, or, in the child, loses a failure.
fn case(test: &str, setup: &str) -> Option<(String, String)> {
    if let Ok(setup) = std::env::var(CHILD) {
        lose_a_failure(&setup);
        return None;
    }
    Some(run_child(test, setup))
}

#[test]
fn with_no_logging_at_all_a_lost_failure_reaches_stderr_once() {
    let Some((stdout, stderr)) = case(
        "with_no_logging_at_all_a_lost_failure_reaches_stderr_once",
        "nothing",
    ) else {
        return;
    };
    let lines = lines_with(&stderr, MESSAGE);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("crochet: unobserved failure: the answer was lost (operation "),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("never_silent.rs"), "where: {}", lines[0]);
    assert!(lines_with(&stdout, MESSAGE).is_empty(), "{stdout}");
}

#[test]
fn with_a_tracing_subscriber_a_lost_failure_goes_there_only() {
    let Some((stdout, stderr)) = case(
        "with_a_tracing_subscriber_a_lost_failure_goes_there_only",
        "tracing",
    ) else {
        return;
    };
    let lines = lines_with(&stdout, MESSAGE);
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].contains("ERROR"), "{}", lines[0]);
    assert!(
        lines[0].contains("unobserved failure: the answer was lost"),
        "{}",
        lines[0]
    );
    assert!(lines_with(&stderr, MESSAGE).is_empty(), "{stderr}");
}

#[test]
fn with_a_log_logger_a_lost_failure_goes_there_only() {
    let Some((stdout, stderr)) = case("with_a_log_logger_a_lost_failure_goes_there_only", "log")
    else {
        return;
    };
    let lines = lines_with(&stdout, MESSAGE);
    assert_eq!(lines.len(), 1, "{stdout}");
    // (The test harness may print its own words before, on the line.)
    assert!(
        lines[0].contains("log ERROR: unobserved failure: the answer was lost"),
        "{}",
        lines[0]
    );
    assert!(lines_with(&stderr, MESSAGE).is_empty(), "{stderr}");
}

#[test]
fn a_failure_hook_replaces_both() {
    let Some((stdout, stderr)) = case("a_failure_hook_replaces_both", "hook") else {
        return;
    };
    let lines = lines_with(&stdout, MESSAGE);
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(
        lines[0].ends_with("hooked: the operation failed: the answer was lost"),
        "{}",
        lines[0]
    );
    assert!(lines_with(&stderr, MESSAGE).is_empty(), "{stderr}");
}
