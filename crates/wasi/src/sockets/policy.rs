//! The network policy of a context: which protocols a guest may use ([`SocketsCtx`]) and
//! which addresses, per use ([`SocketAddrUse`], asked through a [`SocketAddrCheck`]).
//!
//! Everything here is denied by default. A socket keeps its own copy of the check (an `Arc`),
//! taken when it is created, so an accepted connection is checked by the same policy as the
//! listener that accepted it. The check is a plain function and is asked synchronously, on the
//! guest's thread, right before the system call it guards; it never sees an address the
//! WIT's own argument checks already rejected.

use crate::bindings::wasi::sockets::network::ErrorCode;
use std::net::SocketAddr;
use std::sync::Arc;

/// What a socket address is being used for, as the address check sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketAddrUse {
    /// Binding a TCP socket to a local address: the explicit address of `start-bind`, or the
    /// unspecified address (`0.0.0.0:0`, `[::]:0`) of the implicit bind of a `connect` on an
    /// unbound socket.
    TcpBind,
    /// Listening on a TCP socket: the socket's local address.
    TcpListen,
    /// Accepting a TCP connection: the client's address. A denied client is reset and never
    /// reaches the guest.
    TcpAccept,
    /// Connecting a TCP socket: the remote address.
    TcpConnect,
    /// Binding a UDP socket to a local address (the explicit address of `start-bind`).
    UdpBind,
    /// Sending a UDP datagram (or connecting the socket's streams): the remote address.
    UdpSend,
    /// Receiving a UDP datagram (or connecting the socket's streams): the remote address. A
    /// datagram from a denied address is discarded unseen.
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

/// `Ok` when `check` allows `addr` for `usage`, `access-denied` otherwise.
pub(crate) fn allow(check: &SocketAddrCheck, addr: SocketAddr, usage: SocketAddrUse) -> Result<(), ErrorCode> {
    if check(addr, usage) {
        Ok(())
    } else {
        log::debug!("wasi:sockets: the address check denied {addr} for {usage:?}");
        Err(ErrorCode::AccessDenied)
    }
}
