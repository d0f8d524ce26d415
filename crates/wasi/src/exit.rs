//! [`I32Exit`], how `wasi:cli/exit` ends a guest: the host function fails with it, the call
//! unwinds as a trap, and the embedder finds the status with `error.downcast_ref::<I32Exit>()`.

/// A guest asked to exit with this status (`wasi:cli/exit`); an error, so that the call that
/// was running ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl std::fmt::Display for I32Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the guest exited with status {}", self.0)
    }
}

impl std::error::Error for I32Exit {}
