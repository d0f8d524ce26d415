//! How executing a script's action (an `invoke`, a `get`, a module to instantiate) failed:
//! before any wasm ran ([`ExecError::Setup`]: a bad script, a module that does not compile) or
//! while running ([`ExecError::Run`]: a trap, a failed instantiation). `assert_trap` passes only
//! on the second.
//!
//! Only the distinction lives here; the messages are the errors' own. It is apart because core
//! and component actions (`context` and `component`) both produce it and neither should import
//! the other for it.

use anyhow::Error;

/// Why executing an action failed: before running wasm (a bad script or a module that does not
/// compile), or while running it (a trap or an instantiation failure).
pub(crate) enum ExecError {
    Setup(Error),
    Run(Error),
}

impl ExecError {
    pub(crate) fn into_error(self) -> Error {
        match self {
            ExecError::Setup(e) | ExecError::Run(e) => e,
        }
    }
}
