//! The bindings `bindgen!` generates from the WASI 0.2.12 WIT (in the crate's `wit/`) for the
//! world `wasi:http/proxy`: the `wasi:http` interfaces with their types and `Host` traits, and
//! [`sync::Proxy`] (with [`sync::ProxyPre`]) to instantiate a proxy component and call its
//! `wasi:http/incoming-handler#handle`.
//!
//! The interfaces that weld-wasi already defines (io, clocks, random, cli) are weld-wasi's
//! own bindings, so a pollable or a stream made here is the one weld-wasi's `wasi:io` knows.
//! The `wasi:http` resources are bound to this crate's types. Every host function may trap.

/// The synchronous bindings. Items carry the WIT's own documentation, and not every WIT item
/// has some, hence the `allow`.
#[allow(missing_docs)]
pub mod sync {
    weld::component::bindgen!({
        path: "wit",
        world: "weld:wasi-http/proxy",
        trappable_imports: true,
        with: {
            "wasi:io": weld_wasi::p2::bindings::io,
            "wasi:clocks": weld_wasi::p2::bindings::clocks,
            "wasi:random": weld_wasi::p2::bindings::random,
            "wasi:cli": weld_wasi::p2::bindings::cli,
            "wasi:http/types/fields": crate::fields::HostFields,
            "wasi:http/types/incoming-request": crate::types::HostIncomingRequest,
            "wasi:http/types/outgoing-request": crate::types::HostOutgoingRequest,
            "wasi:http/types/request-options": crate::types::HostRequestOptions,
            "wasi:http/types/response-outparam": crate::types::HostResponseOutparam,
            "wasi:http/types/incoming-response": crate::client::HostIncomingResponse,
            "wasi:http/types/incoming-body": crate::body::HostIncomingBody,
            "wasi:http/types/future-trailers": crate::body::HostFutureTrailers,
            "wasi:http/types/outgoing-response": crate::types::HostOutgoingResponse,
            "wasi:http/types/outgoing-body": crate::body::HostOutgoingBody,
            "wasi:http/types/future-incoming-response": crate::client::HostFutureIncomingResponse,
        },
    });
}

pub use sync::exports;
pub use sync::wasi::http;
pub use sync::{Proxy, ProxyPre};
