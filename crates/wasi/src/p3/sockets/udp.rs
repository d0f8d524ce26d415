//! `wasi:sockets/types@0.3.0`'s `udp-socket`: the resource ([`UdpSocket`]) and its functions.
//!
//! A `udp-socket` is WASI 0.2's socket (`crate::sockets::UdpSocket`: the same system socket,
//! argument checks and address policy, and the same filtering of received datagrams by the
//! connected peer and the policy). 0.3 has no datagram streams: `connect` and `disconnect`
//! set and dissolve the peer on the socket itself, and `send` and `receive` are async
//! methods of the socket, one datagram each. `connect` and `send` bind an unbound socket to
//! the unspecified address first, as 0.3 requires (checked by the policy as such a bind;
//! `connect` checks its argument before binding, `send` leaves that to the send).
//!
//! `send` and `receive` try at once; when the kernel would block, they wait in their future
//! for the socket to become writable or readable (through the readiness thread, `reactor`)
//! and try again. Each round that finds nothing (a datagram from an unwanted sender is
//! discarded unseen) waits for readiness again, so neither spins.

use super::reactor;
use super::types::{Answer, ErrorCode, answer, method};
use crate::bindings::wasi::sockets::network::{ErrorCode as P2ErrorCode, IpAddressFamily, IpSocketAddress};
use crate::sockets::{family_matches, from_std, is_usable_remote, to_std};
use crate::view::{WasiCtxView, WasiView};
use rustix::event::PollFlags;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use weld::component::{Accessor, LinkerInstance, Resource, ResourceType, StoreContextMut};

/// The value behind a WASI 0.3 `udp-socket` handle. See the module documentation.
pub struct UdpSocket {
    inner: crate::sockets::UdpSocket,
}

/// A handle.
type Sock = Resource<UdpSocket>;

/// The 0.2 socket behind `s`.
fn socket<'a>(view: &'a mut WasiCtxView<'_>, s: &Sock) -> weld::Result<&'a mut crate::sockets::UdpSocket> {
    Ok(&mut view.table.get_mut(s)?.inner)
}

/// `connect`: the argument checked, then an implicit bind if the socket is not bound, then
/// the peer set.
fn connect(socket: &mut crate::sockets::UdpSocket, addr: IpSocketAddress) -> Result<(), P2ErrorCode> {
    let addr = to_std(addr);
    if !family_matches(addr.ip(), socket.address_family()) || !is_usable_remote(addr) {
        return Err(P2ErrorCode::InvalidArgument);
    }
    if !socket.is_bound() {
        socket.bind_unspecified()?;
    }
    socket.set_remote(Some(addr))
}

/// Defines `udp-socket` and its functions in `types` (the `wasi:sockets/types` instance).
pub(crate) fn add_udp<T: WasiView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    types.resource("udp-socket", ResourceType::host::<UdpSocket>(), |mut store: StoreContextMut<'_, T>, rep| {
        store.data_mut().ctx().table.delete(Sock::new_own(rep))?;
        Ok(())
    })?;
    method(types, "[static]udp-socket.create", |view, (family,): (IpAddressFamily,)| -> Answer<Sock> {
        if !view.ctx.sockets.udp {
            return Ok(Err(ErrorCode::AccessDenied));
        }
        match crate::sockets::UdpSocket::new(family, view.ctx.sockets.addr_check.clone()) {
            Ok(inner) => Ok(Ok(view.table.push(UdpSocket { inner })?)),
            Err(code) => answer(Err(code)),
        }
    })?;
    method(types, "[method]udp-socket.bind", |view, (s, addr): (Sock, IpSocketAddress)| -> Answer<()> {
        let socket = socket(view, &s)?;
        answer(socket.start_bind(to_std(addr)).and_then(|()| socket.finish_bind()))
    })?;
    method(types, "[method]udp-socket.connect", |view, (s, addr): (Sock, IpSocketAddress)| -> Answer<()> {
        answer(connect(socket(view, &s)?, addr))
    })?;
    method(types, "[method]udp-socket.disconnect", |view, (s,): (Sock,)| -> Answer<()> {
        let socket = socket(view, &s)?;
        answer(socket.remote_address().and_then(|_| socket.set_remote(None)))
    })?;
    types.func_wrap_concurrent(
        "[method]udp-socket.send",
        |accessor: &Accessor<T>, (s, data, to): (Sock, Vec<u8>, Option<IpSocketAddress>)| {
            Box::pin(async move { Ok((send(accessor, s, data, to).await?,)) })
        },
    )?;
    types.func_wrap_concurrent("[method]udp-socket.receive", |accessor: &Accessor<T>, (s,): (Sock,)| {
        Box::pin(async move { Ok((receive(accessor, s).await?,)) })
    })?;
    add_queries(types)
}

/// What one attempt at a datagram left to do: nothing more (the answer), or wait for the
/// descriptor.
enum Attempt<R> {
    Done(Result<R, P2ErrorCode>),
    Wait(Arc<OwnedFd>),
}

/// `send`: an implicit bind if needed, then the datagram, waiting while the kernel would
/// block.
async fn send<T: WasiView + 'static>(
    accessor: &Accessor<T>,
    s: Sock,
    data: Vec<u8>,
    to: Option<IpSocketAddress>,
) -> weld::Result<Result<(), ErrorCode>> {
    let to = to.map(to_std);
    loop {
        let attempt = accessor.with(|mut store| -> weld::Result<Attempt<()>> {
            let mut view = store.data_mut().ctx();
            let socket = socket(&mut view, &s)?;
            if !socket.is_bound()
                && let Err(code) = socket.bind_unspecified()
            {
                return Ok(Attempt::Done(Err(code)));
            }
            Ok(match socket.send_one(&data, to) {
                Err(P2ErrorCode::WouldBlock) => Attempt::Wait(socket.fd().clone()),
                done => Attempt::Done(done),
            })
        })?;
        match attempt {
            Attempt::Done(done) => return answer(done),
            Attempt::Wait(fd) => reactor::ready(fd, PollFlags::OUT).await?,
        }
    }
}

/// `receive`: the next datagram the socket wants, waiting while there is none.
async fn receive<T: WasiView + 'static>(
    accessor: &Accessor<T>,
    s: Sock,
) -> weld::Result<Result<(Vec<u8>, IpSocketAddress), ErrorCode>> {
    loop {
        let attempt = accessor.with(|mut store| -> weld::Result<Attempt<(Vec<u8>, IpSocketAddress)>> {
            let mut view = store.data_mut().ctx();
            let socket = socket(&mut view, &s)?;
            if !socket.is_bound() {
                return Ok(Attempt::Done(Err(P2ErrorCode::InvalidState)));
            }
            Ok(match socket.receive_one() {
                Ok(Some((data, from))) => Attempt::Done(Ok((data, from_std(from)))),
                Ok(None) => Attempt::Wait(socket.fd().clone()),
                Err(code) => Attempt::Done(Err(code)),
            })
        })?;
        match attempt {
            Attempt::Done(done) => return answer(done),
            Attempt::Wait(fd) => reactor::ready(fd, PollFlags::IN).await?,
        }
    }
}

/// The functions that read the socket's state, and its options (hop limit and buffer
/// sizes, as 0.2 reads and sets them).
fn add_queries<T: WasiView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    use crate::sockets::Buffer::{Receive, Send};
    const P: &str = "[method]udp-socket.";
    method(types, &format!("{P}get-local-address"), |view, (s,): (Sock,)| -> Answer<IpSocketAddress> {
        answer(socket(view, &s)?.local_address().map(from_std))
    })?;
    method(types, &format!("{P}get-remote-address"), |view, (s,): (Sock,)| -> Answer<IpSocketAddress> {
        answer(socket(view, &s)?.remote_address().map(from_std))
    })?;
    method(types, &format!("{P}get-address-family"), |view, (s,): (Sock,)| -> weld::Result<IpAddressFamily> {
        Ok(socket(view, &s)?.address_family())
    })?;
    method(types, &format!("{P}get-unicast-hop-limit"), |view, (s,): (Sock,)| -> Answer<u8> {
        answer(socket(view, &s)?.hop_limit())
    })?;
    method(types, &format!("{P}set-unicast-hop-limit"), |view, (s, v): (Sock, u8)| -> Answer<()> {
        answer(socket(view, &s)?.set_hop_limit(v))
    })?;
    method(types, &format!("{P}get-receive-buffer-size"), |view, (s,): (Sock,)| -> Answer<u64> {
        answer(socket(view, &s)?.buffer_size(Receive))
    })?;
    method(types, &format!("{P}set-receive-buffer-size"), |view, (s, v): (Sock, u64)| -> Answer<()> {
        answer(socket(view, &s)?.set_buffer_size(Receive, v))
    })?;
    method(types, &format!("{P}get-send-buffer-size"), |view, (s,): (Sock,)| -> Answer<u64> {
        answer(socket(view, &s)?.buffer_size(Send))
    })?;
    method(types, &format!("{P}set-send-buffer-size"), |view, (s, v): (Sock, u64)| -> Answer<()> {
        answer(socket(view, &s)?.set_buffer_size(Send, v))
    })
}
