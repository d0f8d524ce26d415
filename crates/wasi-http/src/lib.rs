//! weld-wasi-http: `wasi:http` 0.2 and 0.3 for components run by weld, shaped like Wasmtime's
//! `wasmtime-wasi-http` so that embedders move between them by renaming the crate.
//!
//! An embedder keeps a [`WasiHttpCtx`] next to weld-wasi's context in its store data,
//! implements [`WasiHttpView`] (and weld-wasi's `WasiView`), and calls
//! [`add_to_linker_sync`], which defines `wasi:http/types` and `wasi:http/outgoing-handler`
//! with everything of WASI 0.2 a proxy may import. To serve a request, it makes the
//! request and the response's out-parameter with [`WasiHttpCtxView::new_incoming_request`]
//! and [`WasiHttpCtxView::new_response_outparam`], and calls the component's handler through
//! [`bindings::Proxy`]. `weld serve` (in the CLI) is built so.
//!
//! Bodies stream: nothing holds a whole body (see `channel.rs`). The guest runs synchronously
//! on its own thread, as everywhere in weld's WASI host; hyper runs on tokio and meets the
//! guest in byte channels whose guest side waits in `poll(2)`, so a guest can wait on a body,
//! a response and a clock in one `wasi:io/poll#poll`.
//!
//! WASI 0.3's HTTP is in [`p3`], on the same context and table: asynchronous, with bodies as
//! streams that the store's event loop moves.
//!
//! Outgoing requests are denied unless the context allows them ([`WasiHttpCtx::allow_authority`],
//! [`WasiHttpCtx::allow_all_outgoing`]): the deny-by-default policy of weld-wasi's sockets.
//! Only `http` is spoken to the outside; an `https` request fails with an error code saying so.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod between_bytes;
pub mod bindings;
pub mod body;
pub mod channel;
pub mod client;
mod error;
pub mod fields;
pub mod p3;
mod policy;
mod runtime;
pub mod types;
mod view;
mod wit_conversions;

pub use error::http_request_error;
pub use policy::OutgoingPolicy;
pub use types::{
    BodyPump, HostIncomingRequest, HostOutgoingResponse, HostResponseOutparam, IncomingRequestParts, ResponseSender,
};
pub use view::{WasiHttp, WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use weld::component::Linker;

fn http_view<T: WasiHttpView>(data: &mut T) -> WasiHttpCtxView<'_> {
    data.http()
}

/// Defines `wasi:http/types` and `wasi:http/outgoing-handler` in `linker`, and every WASI 0.2
/// interface weld-wasi has (a proxy imports io, clocks, random and cli's stdio; a component
/// served with `-S cli` may import the rest).
pub fn add_to_linker_sync<T: WasiHttpView + weld_wasi::WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    weld_wasi::p2::add_to_linker_sync(linker)?;
    add_only_http_to_linker_sync(linker)
}

/// Defines only `wasi:http/types` and `wasi:http/outgoing-handler` in `linker`.
pub fn add_only_http_to_linker_sync<T: WasiHttpView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    bindings::http::types::add_to_linker::<T, WasiHttp>(linker, http_view::<T>)?;
    bindings::http::outgoing_handler::add_to_linker::<T, WasiHttp>(linker, http_view::<T>)?;
    Ok(())
}
