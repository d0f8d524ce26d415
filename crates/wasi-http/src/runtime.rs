//! The tokio runtime outgoing requests run on: the one the calling thread belongs to (a guest
//! served by `weld serve` runs on a blocking thread of the server's runtime), or else one of
//! weld-wasi-http's own, made on first use and kept for the life of the process, so that an
//! embedder without tokio can still let its guests send requests.

use std::sync::OnceLock;
use tokio::runtime::{Builder, Handle, Runtime};

static OWN: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The runtime to spawn an outgoing request's task on, or why there is none.
pub(crate) fn handle() -> Result<Handle, String> {
    if let Ok(handle) = Handle::try_current() {
        return Ok(handle);
    }
    let own = OWN.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("weld-wasi-http")
            .enable_all()
            .build()
            .map_err(|e| format!("no tokio runtime could be made for outgoing requests: {e}"))
    });
    own.as_ref().map(|r| r.handle().clone()).map_err(Clone::clone)
}
