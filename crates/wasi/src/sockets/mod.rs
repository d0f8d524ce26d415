//! `wasi:sockets`: TCP and UDP sockets and name lookup over the host's network, denied unless
//! the embedder allows them (per protocol, and per address with a check function).

use std::net::SocketAddr;
use std::sync::Arc;

/// What a socket address is being used for, as the address check sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketAddrUse {
    /// Binding a TCP socket to a local address.
    TcpBind,
    /// Listening on a TCP socket's local address.
    TcpListen,
    /// Accepting a TCP connection from a remote address.
    TcpAccept,
    /// Connecting a TCP socket to a remote address.
    TcpConnect,
    /// Binding a UDP socket to a local address.
    UdpBind,
    /// Sending a UDP datagram to a remote address.
    UdpSend,
    /// Receiving a UDP datagram from a remote address.
    UdpReceive,
}

/// Decides whether a guest may use an address.
pub type SocketAddrCheck = Arc<dyn Fn(SocketAddr, SocketAddrUse) -> bool + Send + Sync>;

/// The network policy of a context.
#[derive(Clone)]
pub(crate) struct SocketsCtx {
    pub addr_check: SocketAddrCheck,
    pub tcp: bool,
    pub udp: bool,
    pub ip_name_lookup: bool,
}

impl Default for SocketsCtx {
    fn default() -> SocketsCtx {
        SocketsCtx { addr_check: Arc::new(|_, _| false), tcp: false, udp: false, ip_name_lookup: false }
    }
}

/// The value behind a `network` handle: the capability to use the context's network policy.
pub struct Network {
    _private: (),
}

/// The value behind a `tcp-socket` handle.
pub struct TcpSocket {
    _todo: (),
}

/// The value behind a `udp-socket` handle.
pub struct UdpSocket {
    _todo: (),
}

/// The value behind an `incoming-datagram-stream` handle.
pub struct IncomingDatagramStream {
    _todo: (),
}

/// The value behind an `outgoing-datagram-stream` handle.
pub struct OutgoingDatagramStream {
    _todo: (),
}

/// The value behind a `resolve-address-stream` handle.
pub struct ResolveAddressStream {
    _todo: (),
}
