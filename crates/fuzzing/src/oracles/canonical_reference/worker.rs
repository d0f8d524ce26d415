//! The reference worker: one `python3` process running `python/canonical_worker.py` over the
//! Component Model's `definitions.py`, started once and then asked one JSON line per request.
//!
//! Where definitions.py is: `WELD_CANONICAL_ABI_DIR` if set, else
//! `../shared/spec/component-model/canonical-abi` from the workspace root. Without `python3`
//! 3.10 or newer, or without definitions.py, [`Reference::start`] says why in
//! [`Started::Skipped`] instead of failing: the oracle is then skipped, not failed.
//!
//! It does not know what the requests mean; `json.rs` writes them and the oracle reads the
//! answers.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// A running worker.
pub struct Reference {
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
    /// The Python version the worker runs on.
    pub python: String,
}

/// What starting the worker gave.
pub enum Started {
    /// The worker is ready.
    Ready(Reference),
    /// It cannot run here, and why ("no python3", "python 3.10+ needed", no definitions.py).
    Skipped(String),
}

/// What the reference answered: a result, or a trap of a kind (see the worker's doc) with
/// the line of definitions.py that raised it.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// The operation completed; the object holds what it returns.
    Done(Value),
    /// The operation trapped.
    Trap { kind: String, detail: String },
}

/// The directory of definitions.py.
pub fn spec_dir() -> PathBuf {
    match std::env::var_os("WELD_CANONICAL_ABI_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/component-model/canonical-abi"),
    }
}

impl Reference {
    /// Starts the worker on definitions.py in [`spec_dir`] and waits for its first line.
    pub fn start() -> Result<Started> {
        Reference::start_with(&spec_dir())
    }

    /// Starts the worker on definitions.py in `dir`.
    pub fn start_with(dir: &Path) -> Result<Started> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/canonical_worker.py");
        let spawned = Command::new("python3")
            .arg(&script)
            .arg(dir)
            .env_remove("WELD_CANONICAL_ABI_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => return Ok(Started::Skipped(format!("no python3 3.10+: cannot run python3 ({e})"))),
        };
        let input = BufWriter::new(child.stdin.take().context("the worker's stdin")?);
        let output = BufReader::new(child.stdout.take().context("the worker's stdout")?);
        let mut reference = Reference { child, input, output, python: String::new() };
        let hello = reference.read_line().context("the worker's first line")?;
        if let Some(why) = hello.get("skip").and_then(Value::as_str) {
            return Ok(Started::Skipped(why.to_string()));
        }
        match hello.get("ready").and_then(Value::as_str) {
            Some(version) => reference.python = version.to_string(),
            None => bail!("the worker's first line is not `ready`: {hello}"),
        }
        Ok(Started::Ready(reference))
    }

    fn read_line(&mut self) -> Result<Value> {
        let mut line = String::new();
        if self.output.read_line(&mut line).context("reading from the worker")? == 0 {
            bail!("the worker exited");
        }
        serde_json::from_str(&line).with_context(|| format!("the worker's answer is not JSON: {line}"))
    }

    /// Sends `request` and reads the answer. A request the worker could not serve (an
    /// assertion of definitions.py failing: the request was not one the spec allows) is an
    /// error.
    pub fn ask(&mut self, request: &Value) -> Result<Answer> {
        serde_json::to_writer(&mut self.input, request).context("writing to the worker")?;
        self.input.write_all(b"\n").context("writing to the worker")?;
        self.input.flush().context("writing to the worker")?;
        let answer = self.read_line()?;
        if let Some(error) = answer.get("error") {
            return Err(anyhow!("the reference could not serve {request}: {}", error.as_str().unwrap_or_default()));
        }
        if let Some(kind) = answer.get("trap").and_then(Value::as_str) {
            let detail = answer.get("detail").and_then(Value::as_str).unwrap_or_default();
            return Ok(Answer::Trap { kind: kind.to_string(), detail: detail.to_string() });
        }
        Ok(Answer::Done(answer))
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        // The worker holds no state worth a clean exit: end it, and wait so that no zombie
        // is left.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
