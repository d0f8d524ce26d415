//! weld-wast: runs `.wast` test scripts on the `weld` embedder API.
//!
//! A [`WastRunner`] parses a script with the `wast` crate and executes its directives one by one
//! against a fresh [`weld::Store`] per file: modules (binary, text, quoted, named, module
//! definitions and `module instance`), `register`, `invoke`, `get` and every core assertion
//! (`assert_return`, `assert_trap`, `assert_exhaustion`, `assert_invalid`, `assert_malformed`,
//! `assert_unlinkable`, and `assert_trap` on a module, i.e. "uninstantiable"). Imports named
//! `spectest` come from [`spectest`].
//!
//! Components work the same way: `(component ...)`, `(component definition ...)` and
//! `(component instance ...)` compile and instantiate with a component linker that defines
//! nothing yet, and `invoke`/`assert_return`/`assert_trap` on a component instance call its
//! exported functions with component values (each successful call is finished with
//! `post_return`). The current instance is whichever module or component was instantiated
//! last. `assert_invalid`/`assert_malformed`/`assert_unlinkable` accept components too, except
//! that a rejection for something weld does not support yet does not count as a pass.
//!
//! Counting: every `assert_*` directive and every module that must compile or instantiate is one
//! assertion, which passes or fails. A failing `register` or `invoke` is also reported as a
//! failure (but a succeeding one is not counted as a pass). A file that cannot be parsed counts
//! every top-level assertion form found by [`count_directives`] as failed. One directive's
//! failure, even a panic inside the runtime, never stops the rest of the file.
//!
//! Not supported (reported as failures): registering component instances, host definitions
//! for component imports, `map` values, threads, exceptions (`assert_exception`), stack
//! switching (`assert_suspension`) and GC reference patterns. Error messages of `assert_invalid`/`assert_malformed`/`assert_unlinkable` are not
//! compared with the script's (only that an error happens); trap messages are.

mod component;
mod context;
mod scan;
pub mod spectest;
mod values;

pub use scan::{TopLevelForm, count_directives};
pub use values::HostRef;

/// Keeps the first `max` lines of `text`, saying how many were left out: a trap from a deep
/// recursion carries a backtrace of thousands of frames.
pub fn elide_lines(text: &str, max: usize) -> String {
    let total = text.lines().count();
    if total <= max {
        return text.to_string();
    }
    let mut kept: Vec<&str> = text.lines().take(max).collect();
    let more = format!("... ({} more lines)", total - max);
    kept.push(&more);
    kept.join("\n")
}

use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};
use weld::{Config, Engine};

/// One failed assertion (or failed directive) of a script.
#[derive(Clone, Debug)]
pub struct Failure {
    /// 1-based line of the directive.
    pub line: u32,
    /// 1-based column of the directive.
    pub col: u32,
    /// The directive, e.g. `"assert_return"`, `"module"`, `"invoke"`, or `"parse"`.
    pub kind: &'static str,
    /// What went wrong.
    pub message: String,
}

/// The outcome of running one script.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The script's path, as given to the runner.
    pub path: PathBuf,
    /// How many assertions passed.
    pub passed: u32,
    /// Every failure, in the order of the script.
    pub failures: Vec<Failure>,
}

impl FileReport {
    /// How many assertions (or directives) failed.
    pub fn failed(&self) -> u32 {
        self.failures.len() as u32
    }
}

/// Runs `.wast` scripts with one [`Engine`].
///
/// Creating a runner wraps the process's panic hook (once) so that a panic caught in a
/// directive is reported with its source location; the previous hook still runs.
#[derive(Clone)]
pub struct WastRunner {
    engine: Engine,
}

impl WastRunner {
    /// A runner whose engine is built from `config`.
    pub fn new(config: &Config) -> Result<WastRunner> {
        Ok(WastRunner::from_engine(Engine::new(config)?))
    }

    /// A runner that uses an existing engine.
    pub fn from_engine(engine: Engine) -> WastRunner {
        record_panic_locations();
        WastRunner { engine }
    }

    /// The engine that compiles the scripts' modules.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Reads and runs the script at `path`. Only failing to read the file is an error; everything
    /// that goes wrong inside the script is in the report.
    pub fn run_file(&self, path: impl AsRef<Path>) -> Result<FileReport> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                return Ok(unparsable(path, &text, "the file is not valid UTF-8"));
            }
        };
        Ok(self.run_source(path, &text))
    }

    /// Runs the script `text`; `path` only names it in the report and in error messages.
    pub fn run_source(&self, path: impl AsRef<Path>, text: &str) -> FileReport {
        let path = path.as_ref();
        // The spec's names.wast deliberately uses bidi overrides and other confusing characters.
        let mut lexer = wast::lexer::Lexer::new(text);
        lexer.allow_confusing_unicode(true);
        let buf = match wast::parser::ParseBuffer::new_with_lexer(lexer) {
            Ok(buf) => buf,
            Err(mut e) => {
                e.set_path(path);
                e.set_text(text);
                return unparsable(path, text, &e.to_string());
            }
        };
        let script = match wast::parser::parse::<wast::Wast>(&buf) {
            Ok(script) => script,
            Err(mut e) => {
                e.set_path(path);
                e.set_text(text);
                return unparsable(path, text, &e.to_string());
            }
        };
        context::run_script(&self.engine, path, text, script)
    }
}

/// The report of a file that could not be parsed: every assertion it seems to hold failed.
fn unparsable(path: &Path, text: &str, message: &str) -> FileReport {
    let message = format!("the script failed to parse: {message}");
    let mut failures: Vec<Failure> = count_directives(text)
        .into_iter()
        .map(|f| Failure { line: f.line, col: f.col, kind: "parse", message: message.clone() })
        .collect();
    if failures.is_empty() {
        failures.push(Failure { line: 0, col: 0, kind: "parse", message });
    }
    FileReport { path: path.to_path_buf(), passed: 0, failures }
}

thread_local! {
    /// Where the last panic on this thread happened, recorded by the hook of
    /// [`record_panic_locations`].
    static LAST_PANIC_LOCATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Wraps the current panic hook (once per process) so that the runner can say where a caught
/// panic happened. The previous hook still runs, so panics print as before.
fn record_panic_locations() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(loc) = info.location() {
                let loc = format!("{}:{}", loc.file(), loc.line());
                LAST_PANIC_LOCATION.with(|l| *l.borrow_mut() = Some(loc));
            }
            previous(info);
        }));
    });
}

/// The message of a caught panic payload, with the place it happened if it is known.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    };
    match LAST_PANIC_LOCATION.with(|l| l.borrow_mut().take()) {
        Some(loc) => format!("{message} (at {loc})"),
        None => message,
    }
}
