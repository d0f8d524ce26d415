//! `weld serve` for components that export `wasi:http/handler@0.3.0#handle` (WASI 0.3):
//! one request's exchange with its guest, through weld-wasi-http's `p3::Handler`.
//!
//! The exchange runs inside the store's event loop (`Store::run_concurrent`), on a thread of
//! the server's blocking pool that drives it with `Handle::block_on`: a weld `Store` is not
//! `Send` (it keeps host futures that need not be), so it cannot live in a tokio task that
//! may move between workers. hyper's side (the request body, the client's connections) runs
//! on the workers as usual, and meets the store's loop through wakers.
//!
//! `handle` may return the response before the guest has written its body, and the guest
//! may read the request's body after it returned: the loop runs on until the response's body
//! and trailers have left the store (what is left then sits in a pipe that hyper drains
//! without the store) and the request's body was read to its end or let go. A guest task
//! still waiting after that, on nothing the exchange needs, goes with the store.
//!
//! `-W timeout` bounds the whole exchange (a guest waiting is not running wasm, so the epoch
//! deadline alone would not stop it): past it the store is dropped, the client gets a 500 if
//! it had no response yet, or its response's body is cut short.

use crate::wasi_host::HostState;
use anyhow::{Context as _, Result, bail};
use std::time::Duration;
use weld::Store;
use weld::component::InstancePre;
use weld_wasi_http::p3::{ErrorCode, Handler, HostBody, Request};

/// Where the guest's response goes, or the error code it returned instead.
pub(crate) type ResponseSender = tokio::sync::oneshot::Sender<Result<http::Response<HostBody>, ErrorCode>>;

/// Runs one exchange: instantiates `pre` in `store`, calls its handler with `request`, sends
/// the response on `sender`, and keeps the store's loop running until the bodies are done
/// (see the module's documentation). Blocks the thread: call it on a blocking thread.
pub(crate) fn exchange(
    mut store: Store<HostState>,
    pre: &InstancePre<HostState>,
    request: http::Request<hyper::body::Incoming>,
    sender: ResponseSender,
    timeout: Option<Duration>,
    runtime: &tokio::runtime::Handle,
) -> Result<()> {
    let instance = pre.instantiate(&mut store).context("failed to instantiate the component")?;
    let handler = Handler::new(&mut store, &instance)?;
    let (request, request_read) = Request::from_http_watched(request);
    let run = store.run_concurrent(async |accessor| -> Result<()> {
        let response = match handler.handle(accessor, request).await? {
            Ok(response) => response,
            Err(code) => {
                let _ = sender.send(Err(code));
                return Ok(());
            }
        };
        let (response, response_sent) = accessor.with(|store| response.into_http(store))?;
        // The client may be gone already: the guest then learns it from its body's writes.
        let _ = sender.send(Ok(response));
        response_sent.await;
        request_read.await;
        Ok(())
    });
    match timeout {
        None => runtime.block_on(run)?,
        Some(limit) => match runtime.block_on(async { tokio::time::timeout(limit, run).await }) {
            Ok(done) => done?,
            Err(_) => bail!("the handler was stopped after {limit:?} (-W timeout)"),
        },
    }
}
