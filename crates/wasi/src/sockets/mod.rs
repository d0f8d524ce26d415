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
//! WASI 0.3's sockets (`crate::p3::sockets`) use the same sockets, policy, address checks
//! and error table, through the crate-visible items re-exported here.
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

pub(crate) use addr::{family_matches, from_std, ip_from_std, is_usable_remote, to_std, unspecified};
pub(crate) use errors::from_errno;
pub use lookup::ResolveAddressStream;
pub(crate) use lookup::{MAX_NAME_LEN, domain_to_ascii, parse_ip};
pub use network::Network;
pub(crate) use options::Buffer;
pub(crate) use policy::SocketsCtx;
pub use policy::{SocketAddrCheck, SocketAddrUse};
pub(crate) use tcp::Listener;
pub use tcp::{DEFAULT_BACKLOG, TcpSocket};
pub use tcp_stream::DRAIN_ON_DROP;
pub use udp::{IncomingDatagramStream, MAX_DATAGRAM_SIZE, MAX_DATAGRAMS, OutgoingDatagramStream, UdpSocket};
