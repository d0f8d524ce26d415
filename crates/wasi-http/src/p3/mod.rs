//! WASI 0.3 HTTP: `wasi:http/types@0.3.0` and `wasi:http/client@0.3.0` for guests
//! ([`add_to_linker`]), and the embedder's side of `wasi:http/handler@0.3.0` ([`Handler`],
//! [`Request::from_http`], [`Response::into_http`]), on the same [`WasiHttpCtx`] (its
//! outgoing policy, deny by default) and resource table as WASI 0.2's.
//!
//! Unlike WASI 0.2's, this host is asynchronous throughout: bodies are `stream<u8>`s and
//! trailers `future`s moved by weld's host stream and future ends, which wait with wakers in
//! the store's event loop (`body.rs`), and `client.send` is an async host function whose
//! request runs on tokio (`client.rs`). Headers are checked and forbidden names refused as
//! the context says (`fields.rs`); messages are in `message.rs`, the WIT's value types in
//! `types.rs`.
//!
//! What it deliberately leaves out: TLS (an `https` request fails with an error code that
//! says so, as in 0.2) and HTTP/2.
//! The host does not supply an imported `wasi:http/handler` (a middleware's next hop): an
//! embedder defines it, for instance by calling another instance's [`Handler`].
//!
//! [`WasiHttpCtx`]: crate::WasiHttpCtx

mod body;
mod client;
mod fields;
mod handler;
mod message;
mod types;

pub use body::{BodyDone, HostBody, Outcome, OutgoingBody, PIPE_CAPACITY, TrailersResult};
pub use fields::Fields;
pub use handler::{BodyWatch, HANDLER_INTERFACE, Handler};
pub use message::{Request, RequestOptions, Response};
pub use types::{
    DnsErrorPayload, ErrorCode, FieldSizePayload, HeaderError, Method, RequestOptionsError, Scheme,
    TlsAlertReceivedPayload, hyper_error,
};

use crate::view::WasiHttpView;
use weld::component::Linker;

/// The version of the interfaces defined here.
const VERSION: &str = "0.3.0";

/// Defines `wasi:http/types@0.3.0` and `wasi:http/client@0.3.0` in `linker`. (A guest also
/// needs WASI 0.3's clocks, random and stdio: `weld_wasi::p3::add_to_linker`.)
pub fn add_to_linker<T: WasiHttpView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    let mut types = linker.instance(&format!("wasi:http/types@{VERSION}"))?;
    fields::add(&mut types)?;
    message::add(&mut types)?;
    client::add(&mut linker.instance(&format!("wasi:http/client@{VERSION}"))?)
}
