//! Python crochet, for comparison: a virtualenv under `target/`, the
//! packages from `python/requirements.txt`, and `python/bench_crochet.py`
//! run in the same pinned or unpinned mode as the figures it is compared
//! with. When Python, venv or pip is not available, the reason is printed
//! and the run carries on without it.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::config::Settings;
use crate::stats::LatencyRun;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/bench_crochet.py");
const REQUIREMENTS: &str = include_str!("../python/requirements.txt");

/// A virtualenv with Python crochet installed.
#[derive(Debug)]
pub(crate) struct Python {
    interpreter: PathBuf,
}

/// What one run of the script measured.
#[derive(Debug)]
pub(crate) struct PythonRun {
    pub(crate) versions: String,
    pub(crate) latency: Vec<LatencyRun>,
    /// Calls per second, per thread count, per repeat.
    pub(crate) throughput: Vec<(usize, Vec<f64>)>,
}

impl Python {
    /// Makes (or reuses) the virtualenv in `dir` and installs the pinned
    /// packages into it. `Err` says why Python crochet is unavailable.
    pub(crate) fn prepare(dir: &Path) -> Result<Python, String> {
        let interpreter = dir.join("bin").join("python");
        let stamp = dir.join("crochet-bench-requirements.txt");
        let ready = interpreter.exists()
            && fs::read_to_string(&stamp).is_ok_and(|installed| installed == REQUIREMENTS)
            && quiet(Command::new(&interpreter).args(["-c", "import crochet, twisted"]));
        if ready {
            return Ok(Python { interpreter });
        }
        if !quiet(Command::new("python3").arg("--version")) {
            return Err("python3 is not installed".to_owned());
        }
        if dir.exists() {
            fs::remove_dir_all(dir)
                .map_err(|error| format!("cannot remove the old {}: {error}", dir.display()))?;
        }
        run_logged(
            Command::new("python3").args(["-m", "venv"]).arg(dir),
            "python3 -m venv",
        )?;
        let requirements = dir.join("requirements.txt");
        fs::write(&requirements, REQUIREMENTS)
            .map_err(|error| format!("cannot write {}: {error}", requirements.display()))?;
        run_logged(
            Command::new(&interpreter)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(["--timeout", "30", "--retries", "2", "-r"])
                .arg(&requirements),
            "pip install crochet Twisted",
        )?;
        fs::write(&stamp, REQUIREMENTS)
            .map_err(|error| format!("cannot write {}: {error}", stamp.display()))?;
        Ok(Python { interpreter })
    }

    /// Runs the script on `cpus`.
    pub(crate) fn measure(&self, settings: &Settings, cpus: &[usize]) -> Result<PythonRun, String> {
        let cpus: Vec<String> = cpus.iter().map(usize::to_string).collect();
        let threads: Vec<String> = crate::config::THREAD_COUNTS
            .iter()
            .map(usize::to_string)
            .collect();
        let child = Command::new(&self.interpreter)
            .arg(SCRIPT)
            .args(["--cpus", &cpus.join(",")])
            .args(["--calls", &settings.python_calls.to_string()])
            .args(["--warmup", &(settings.python_calls / 10).to_string()])
            .args(["--seconds", &settings.python_seconds.to_string()])
            .args(["--threads", &threads.join(",")])
            .args(["--repeats", &settings.python_repeats.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("cannot start {SCRIPT}: {error}"))?;
        let stdout = wait_with_timeout(child, settings.python_timeout)?;
        parse(&stdout)
    }
}

fn parse(stdout: &str) -> Result<PythonRun, String> {
    let line = stdout.lines().last().unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(line)
        .map_err(|error| format!("unreadable output from the Python script {line:?}: {error}"))?;
    let text = |name: &str| value[name].as_str().unwrap_or("?").to_owned();
    let versions = format!(
        "Python {}, crochet {}, Twisted {}",
        text("python"),
        text("crochet"),
        text("twisted")
    );
    let latency = value["latency_runs"]
        .as_array()
        .ok_or("the Python script printed no latency_runs")?
        .iter()
        .map(|run| {
            Some(LatencyRun {
                median_ns: run["median_ns"].as_f64()?,
                p99_ns: run["p99_ns"].as_f64()?,
                samples: run["samples"].as_u64()? as usize,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("malformed latency_runs from the Python script")?;
    let mut throughput = Vec::new();
    for &threads in &crate::config::THREAD_COUNTS {
        let runs = value["throughput_runs"][threads.to_string()]
            .as_array()
            .and_then(|runs| runs.iter().map(serde_json::Value::as_f64).collect())
            .ok_or("malformed throughput_runs from the Python script")?;
        throughput.push((threads, runs));
    }
    Ok(PythonRun {
        versions,
        latency,
        throughput,
    })
}

/// Whether `command` runs and succeeds, its output discarded.
fn quiet(command: &mut Command) -> bool {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs `command`, and on failure returns its output as the reason.
fn run_logged(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("{what} could not start: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last: Vec<&str> = stderr.lines().rev().take(3).collect();
    Err(format!(
        "{what} failed ({}): {}",
        output.status,
        last.into_iter().rev().collect::<Vec<_>>().join(" / ")
    ))
}

/// Collects `child`'s stdout, killing it if it outlives `timeout`.
fn wait_with_timeout(mut child: Child, timeout: Duration) -> Result<String, String> {
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the Python script did not finish within {timeout:?}"
                ));
            }
            Err(error) => return Err(format!("waiting for the Python script: {error}")),
        }
    };
    let text = reader.join().unwrap_or_default();
    if status.success() {
        Ok(text)
    } else {
        Err(format!("the Python script failed: {status}"))
    }
}
