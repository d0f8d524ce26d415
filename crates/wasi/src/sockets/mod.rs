//! `wasi:sockets`: TCP and UDP sockets and name lookup over the host's network, denied unless
//! the embedder allows them (per protocol, and per address with a check function).
//!
//! Sockets are the system's own, non-blocking, driven by the guest's calls and waited on with
//! `poll(2)` through [`crate::poll`]; nothing runs in the background. The modules:
//!
//! - `policy`: what the embedder allows ([`SocketAddrUse`], the address check);
//! - `addr`, `errors`, `options`: the WIT's address records and argument checks, the one
//!   errno-to-error-code table, and the socket options TCP and UDP share;
//! - `tcp`, `tcp_stream`, `tcp_host`: TCP sockets, their byte streams, and their interfaces;
//! - `udp`, `udp_host`: UDP sockets, their datagram streams, and their interfaces;
//! - `lookup`: `ip-name-lookup`; `network`: the `network` capability.
//!
//! The host is Linux-first: it relies on accepted sockets inheriting the listener's options,
//! as they do there (and on the other Unix systems rustix serves, macOS aside for a few).

mod addr;
mod errors;
mod lookup;
mod network;
mod options;
mod policy;
mod tcp;
mod tcp_host;
mod tcp_stream;
mod udp;
mod udp_host;

pub use lookup::ResolveAddressStream;
pub use network::Network;
pub(crate) use policy::SocketsCtx;
pub use policy::{SocketAddrCheck, SocketAddrUse};
pub use tcp::{DEFAULT_BACKLOG, TcpSocket};
pub use tcp_stream::DRAIN_ON_DROP;
pub use udp::{IncomingDatagramStream, MAX_DATAGRAM_SIZE, MAX_DATAGRAMS, OutgoingDatagramStream, UdpSocket};
