//! Measurements made in a fresh process: this program, run again with a
//! child flag, prints one JSON line of figures as its last line.

use std::process::{Command, Stdio};

use serde_json::Value;

/// What a child printed: its last line, parsed.
pub(crate) struct ChildOutput {
    /// The line itself, for messages.
    pub(crate) line: String,
    pub(crate) value: Value,
}

impl ChildOutput {
    /// The number under `name` in `figures` (the whole output, or a part of
    /// it), or an error naming the `what` child that lacks it.
    pub(crate) fn number(&self, figures: &Value, what: &str, name: &str) -> Result<f64, String> {
        figures[name]
            .as_f64()
            .ok_or_else(|| format!("{what} child output lacks {name}: {}", self.line))
    }
}

/// Runs this program with `args` (a child flag first), its stderr passed
/// through, and reads its last stdout line as JSON. `what` names the child
/// ("memory", "http", ...) and `which` what it measured, for messages.
pub(crate) fn run(what: &str, which: &str, args: &[String]) -> Result<ChildOutput, String> {
    let exe =
        std::env::current_exe().map_err(|error| format!("cannot find this program: {error}"))?;
    let output = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot start the {what} child: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "the {what} child for {which} failed: {}",
            output.status
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default().to_owned();
    let value = serde_json::from_str(&line)
        .map_err(|error| format!("unreadable {what} child output {line:?}: {error}"))?;
    Ok(ChildOutput { line, value })
}
