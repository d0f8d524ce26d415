//! `wasi:sockets@0.3.0` (`types` and `ip-name-lookup`): TCP and UDP sockets and name lookup,
//! on the same sockets, policy and context as WASI 0.2's (`crate::sockets`), reached through
//! WASI 0.3's functions, streams and futures.
//!
//! Everything the 0.2 host checks holds here too: nothing is allowed unless the embedder
//! allows it ([`WasiCtxBuilder`](crate::WasiCtxBuilder)'s `allow_tcp`, `allow_udp`,
//! `allow_ip_name_lookup` and its address check, asked before each system call), and the
//! WIT's argument checks are done before the system sees an address. A `tcp-socket` or
//! `udp-socket` is a 0.2 socket with what 0.3 adds ([`tcp`], [`udp`]); 0.3's `error-code`s
//! are 0.2's, converted (`types`).
//!
//! Sockets are the system's, non-blocking. When an operation would block (a connect, an
//! accept, a read, a write, a datagram), its future or stream end waits for the socket's
//! readiness through one background thread per process that sleeps in `poll(2)` and wakes
//! the store's event loop (`reactor`); the store's thread never blocks on a socket. Name
//! lookups run the system's blocking resolver on a short-lived thread each (`lookup`).
//!
//! The modules: `types` (the error codes, and the shape of a method), `reactor` (readiness),
//! `tcp` and `tcp_streams` (`tcp-socket`, and its `listen`, `send` and `receive` streams),
//! `udp` (`udp-socket`), `lookup` (`resolve-addresses`).
//!
//! Not here: anything the 0.2 host does not do either (multicast, options beyond the WIT's),
//! and platforms without `poll(2)`.

mod lookup;
mod reactor;
pub mod tcp;
mod tcp_streams;
mod types;
pub mod udp;

pub use tcp::TcpSocket;
pub use types::{ErrorCode, LookupErrorCode};
pub use udp::UdpSocket;

use crate::view::WasiView;
use weld::component::LinkerInstance;

/// Defines `wasi:sockets/types` in `types`: `tcp-socket` and `udp-socket` and their
/// functions.
pub(crate) fn add_types<T: WasiView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    tcp::add_tcp(types)?;
    udp::add_udp(types)
}

/// Defines `wasi:sockets/ip-name-lookup` in `lookup`.
pub(crate) fn add_ip_name_lookup<T: WasiView + 'static>(lookup: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    lookup::add_lookup(lookup)
}
