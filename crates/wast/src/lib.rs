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
//! exported functions with component values (a call runs the callee's post-return too). The current instance is whichever module or component was instantiated
//! last. `assert_invalid`/`assert_malformed`/`assert_unlinkable` accept components too, except
//! that a rejection for something weld does not support yet does not count as a pass.
//!
//! Counting: every `assert_*` directive and every module that must compile or instantiate is one
//! assertion, which passes or fails. A failing `register` or `invoke` is also reported as a
//! failure (but a succeeding one is not counted as a pass). A file that cannot be parsed counts
//! every top-level assertion form found by [`count_directives`] as failed. One directive's
//! failure, even a panic inside the runtime, never stops the rest of the file.
//!
//! Scripts written with the legacy exception instructions' folded `try` form, which the `wast`
//! parser cannot read, are first rewritten into the flat form it can ([`legacy_try`]).
//!
//! Not supported (reported as failures): registering component instances, host definitions
//! for component imports, `map` values, threads, stack switching (`assert_suspension`) and GC
//! reference patterns. Error messages of `assert_invalid`/`assert_malformed`/`assert_unlinkable`
//! are not compared with the script's (only that an error happens); trap messages are.

#![forbid(unsafe_code)]

mod component;
mod context;
mod exec_error;
mod legacy_try;
mod panics;
mod report;
mod scan;
pub mod spectest;
mod values;

pub use report::{Failure, FileReport, elide_lines};
pub use scan::{TopLevelForm, count_directives};
pub use values::HostRef;

use anyhow::{Context as _, Result};
use std::path::Path;
use weld::{Config, Engine};

/// Runs `.wast` scripts with one [`Engine`].
///
/// Creating a runner wraps the process's panic hook (once) so that a panic caught in a
/// directive is reported with its source location; the previous hook still runs.
#[derive(Clone)]
pub struct WastRunner {
    engine: Engine,
}

impl WastRunner {
    /// A runner whose engine is built from `config`, with the spec's rule that a waitable in
    /// a waitable set is never used synchronously (see
    /// [`Config::component_model_async_sync_cancel_in_set`]), which the test suite checks.
    pub fn new(config: &Config) -> Result<WastRunner> {
        let mut config = config.clone();
        config.component_model_async_sync_cancel_in_set(false);
        Ok(WastRunner::from_engine(Engine::new(&config)?))
    }

    /// A runner that uses an existing engine.
    pub fn from_engine(engine: Engine) -> WastRunner {
        panics::record_panic_locations();
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
        let unfolded = legacy_try::unfold_legacy_try(text);
        let text = unfolded.as_deref().unwrap_or(text);
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
