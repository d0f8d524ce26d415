//! What running a script reports: each failed assertion ([`Failure`]), the outcome of a file
//! ([`FileReport`]), and [`elide_lines`], which keeps a failure's message readable.
//!
//! Plain data only: it runs nothing and prints nothing (the CLI and the tests format reports
//! as they need). It is apart so that the runner (`lib.rs`) and the directive
//! executor (`context`) both fill the same report without importing each other.

use std::path::PathBuf;

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
