//! `wasi:sockets/types@0.3.0`'s `tcp-socket`: the resource ([`TcpSocket`]) and its functions.
//!
//! A `tcp-socket` is WASI 0.2's socket (`crate::sockets::TcpSocket`: the same system socket,
//! state machine, argument checks and address policy), with what 0.3 adds: `send` and
//! `receive` may each succeed once. The 0.2 operations come in `start-*`/`finish-*` pairs;
//! here `bind` and `listen` call both at once (0.2 does their work in the `start-*`), and
//! `listen` first binds an unbound socket to the unspecified address, as 0.3 requires. The
//! async `connect` issues a non-blocking connect and waits in its future for the socket to
//! become writable (through the readiness thread, `reactor`), then finishes it; a connect
//! that fails leaves the socket closed, as in 0.2.
//!
//! `listen`, `send` and `receive` hand out streams (`tcp_streams`) that hold the system
//! socket themselves, so they outlive the handle as the WIT says. A `send` or `receive` that
//! cannot start (not connected, or called before) returns a future already resolved to
//! `invalid-state` and a stream that ends at once.

use super::reactor;
use super::tcp_streams::{Acceptor, Outcome, Receiver, Sender};
use super::types::{Answer, ErrorCode, answer, method};
use crate::bindings::wasi::sockets::network::{ErrorCode as P2ErrorCode, IpAddressFamily, IpSocketAddress};
use crate::p3::oneshot::{self, Reporter};
use crate::sockets::{Listener, from_std, to_std, unspecified};
use crate::view::{WasiCtxView, WasiView};
use rustix::event::PollFlags;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use weld::component::{Accessor, FutureReader, LinkerInstance, Resource, ResourceType, StoreContextMut, StreamReader};

/// The value behind a WASI 0.3 `tcp-socket` handle. See the module documentation.
pub struct TcpSocket {
    inner: crate::sockets::TcpSocket,
    sending: bool,
    receiving: bool,
}

impl TcpSocket {
    /// A 0.3 socket over a 0.2 one.
    fn new(inner: crate::sockets::TcpSocket) -> TcpSocket {
        TcpSocket { inner, sending: false, receiving: false }
    }

    /// The connection's descriptor for a `send` (`send`) or a `receive`: `invalid-state`
    /// unless the socket is connected and this is the first.
    fn stream_fd(&mut self, send: bool) -> Result<Arc<OwnedFd>, ErrorCode> {
        let fd = self.inner.connected_fd().ok_or(ErrorCode::InvalidState)?;
        let taken = if send { &mut self.sending } else { &mut self.receiving };
        if std::mem::replace(taken, true) {
            return Err(ErrorCode::InvalidState);
        }
        Ok(fd)
    }
}

/// A handle.
type Sock = Resource<TcpSocket>;

/// The handle of a connection a listener accepted.
fn accepted(view: &mut WasiCtxView<'_>, socket: crate::sockets::TcpSocket) -> weld::Result<Sock> {
    Ok(view.table.push(TcpSocket::new(socket))?)
}

/// `listen` on the 0.2 socket: an implicit bind first if it is not bound.
fn listen(socket: &mut crate::sockets::TcpSocket) -> Result<Listener, P2ErrorCode> {
    if socket.is_unbound() {
        socket.start_bind(unspecified(socket.address_family()))?;
        socket.finish_bind()?;
    }
    socket.start_listen()?;
    socket.finish_listen()?;
    socket.listener().ok_or(P2ErrorCode::InvalidState)
}

/// The future returned beside a connection's stream: what the stream's end reports, or
/// `failed` at once.
fn outcome_future<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    failed: Option<ErrorCode>,
    outcome: oneshot::Receiver<Outcome>,
) -> FutureReader<Outcome> {
    match failed {
        Some(code) => FutureReader::new(store, async move { Ok(Err(code)) }),
        None => FutureReader::new(store, async move { Ok(outcome.await.unwrap_or(Ok(()))) }),
    }
}

/// Defines `tcp-socket` and its functions in `types` (the `wasi:sockets/types` instance).
pub(crate) fn add_tcp<T: WasiView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    types.resource("tcp-socket", ResourceType::host::<TcpSocket>(), |mut store: StoreContextMut<'_, T>, rep| {
        store.data_mut().ctx().table.delete(Sock::new_own(rep))?;
        Ok(())
    })?;
    method(types, "[static]tcp-socket.create", |view, (family,): (IpAddressFamily,)| -> Answer<Sock> {
        if !view.ctx.sockets.tcp {
            return Ok(Err(ErrorCode::AccessDenied));
        }
        match crate::sockets::TcpSocket::new(family, view.ctx.sockets.addr_check.clone()) {
            Ok(socket) => Ok(Ok(view.table.push(TcpSocket::new(socket))?)),
            Err(code) => answer(Err(code)),
        }
    })?;
    method(types, "[method]tcp-socket.bind", |view, (s, addr): (Sock, IpSocketAddress)| -> Answer<()> {
        let socket = &mut view.table.get_mut(&s)?.inner;
        answer(socket.start_bind(to_std(addr)).and_then(|()| socket.finish_bind()))
    })?;
    types.func_wrap_concurrent(
        "[method]tcp-socket.connect",
        |accessor: &Accessor<T>, (s, addr): (Sock, IpSocketAddress)| {
            Box::pin(async move { Ok((connect(accessor, s, addr).await?,)) })
        },
    )?;
    types.func_wrap("[method]tcp-socket.listen", |mut store: StoreContextMut<'_, T>, (s,): (Sock,)| {
        let listener = listen(&mut store.data_mut().ctx().table.get_mut(&s)?.inner);
        let stream = match listener {
            Ok(listener) => Ok(StreamReader::new(&mut store, Acceptor::new(listener, accepted))),
            Err(code) => Err(ErrorCode::from(code)),
        };
        Ok((stream,))
    })?;
    types.func_wrap(
        "[method]tcp-socket.send",
        |mut store: StoreContextMut<'_, T>, (s, data): (Sock, StreamReader<u8>)| {
            let fd = store.data_mut().ctx().table.get_mut(&s)?.stream_fd(true);
            let (done, outcome) = oneshot::channel();
            let future = outcome_future(&mut store, fd.clone().err(), outcome);
            data.pipe(&mut store, Sender::new(fd.ok(), Reporter::new(done)))?;
            Ok((future,))
        },
    )?;
    types.func_wrap("[method]tcp-socket.receive", |mut store: StoreContextMut<'_, T>, (s,): (Sock,)| {
        let fd = store.data_mut().ctx().table.get_mut(&s)?.stream_fd(false);
        let (done, outcome) = oneshot::channel();
        let future = outcome_future(&mut store, fd.clone().err(), outcome);
        let stream = StreamReader::new(&mut store, Receiver::new(fd.ok(), Reporter::new(done)));
        Ok(((stream, future),))
    })?;
    add_queries(types)?;
    add_options(types)
}

/// What `connect` does with the 0.2 socket at each of its steps.
type ConnectStep = fn(&mut crate::sockets::TcpSocket, SocketAddr) -> Result<Option<Arc<OwnedFd>>, P2ErrorCode>;

/// `connect`: starts a non-blocking connect, waits until the socket is writable, finishes.
async fn connect<T: WasiView + 'static>(
    accessor: &Accessor<T>,
    s: Sock,
    addr: IpSocketAddress,
) -> weld::Result<Result<(), ErrorCode>> {
    let addr = to_std(addr);
    let step = |f: ConnectStep| {
        accessor
            .with(|mut store| -> weld::Result<_> { Ok(f(&mut store.data_mut().ctx().table.get_mut(&s)?.inner, addr)) })
    };
    if let Err(code) = step(|socket, addr| socket.start_connect(addr).map(|()| None))? {
        return Ok(Err(code.into()));
    }
    // The socket becomes writable once the connect is done, either way; a second round
    // happens only if the readiness came and went (it cannot, short of a bug).
    loop {
        if let Ok(Some(fd)) = step(|socket, _| Ok(socket.connecting_fd()))? {
            reactor::ready(fd, PollFlags::OUT).await?;
        }
        match step(|socket, _| socket.finish_connect().map(|_| None))? {
            Err(P2ErrorCode::WouldBlock) => continue,
            Err(code) => return Ok(Err(code.into())),
            Ok(_) => return Ok(Ok(())),
        }
    }
}

/// The functions that only read the socket's state: `get-local-address`,
/// `get-remote-address`, `get-is-listening` and `get-address-family`.
fn add_queries<T: WasiView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    fn socket<'a>(view: &'a mut WasiCtxView<'_>, s: &Sock) -> weld::Result<&'a crate::sockets::TcpSocket> {
        Ok(&view.table.get(s)?.inner)
    }
    method(types, "[method]tcp-socket.get-local-address", |view, (s,): (Sock,)| -> Answer<IpSocketAddress> {
        answer(socket(view, &s)?.local_address().map(from_std))
    })?;
    method(types, "[method]tcp-socket.get-remote-address", |view, (s,): (Sock,)| -> Answer<IpSocketAddress> {
        answer(socket(view, &s)?.remote_address().map(from_std))
    })?;
    method(types, "[method]tcp-socket.get-is-listening", |view, (s,): (Sock,)| -> weld::Result<bool> {
        Ok(socket(view, &s)?.is_listening())
    })?;
    method(types, "[method]tcp-socket.get-address-family", |view, (s,): (Sock,)| -> weld::Result<IpAddressFamily> {
        Ok(socket(view, &s)?.address_family())
    })
}

/// The socket options: the listen backlog, keep-alive, hop limit and buffer sizes, each as
/// 0.2 reads and sets it.
fn add_options<T: WasiView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    use crate::sockets::Buffer::{Receive, Send};
    fn socket<'a>(view: &'a mut WasiCtxView<'_>, s: &Sock) -> weld::Result<&'a mut crate::sockets::TcpSocket> {
        Ok(&mut view.table.get_mut(s)?.inner)
    }
    const P: &str = "[method]tcp-socket.";
    method(types, &format!("{P}set-listen-backlog-size"), |view, (s, v): (Sock, u64)| -> Answer<()> {
        answer(socket(view, &s)?.set_listen_backlog_size(v))
    })?;
    method(types, &format!("{P}get-keep-alive-enabled"), |view, (s,): (Sock,)| -> Answer<bool> {
        answer(socket(view, &s)?.keep_alive_enabled())
    })?;
    method(types, &format!("{P}set-keep-alive-enabled"), |view, (s, v): (Sock, bool)| -> Answer<()> {
        answer(socket(view, &s)?.set_keep_alive_enabled(v))
    })?;
    method(types, &format!("{P}get-keep-alive-idle-time"), |view, (s,): (Sock,)| -> Answer<u64> {
        answer(socket(view, &s)?.keep_alive_idle_time())
    })?;
    method(types, &format!("{P}set-keep-alive-idle-time"), |view, (s, v): (Sock, u64)| -> Answer<()> {
        answer(socket(view, &s)?.set_keep_alive_idle_time(v))
    })?;
    method(types, &format!("{P}get-keep-alive-interval"), |view, (s,): (Sock,)| -> Answer<u64> {
        answer(socket(view, &s)?.keep_alive_interval())
    })?;
    method(types, &format!("{P}set-keep-alive-interval"), |view, (s, v): (Sock, u64)| -> Answer<()> {
        answer(socket(view, &s)?.set_keep_alive_interval(v))
    })?;
    method(types, &format!("{P}get-keep-alive-count"), |view, (s,): (Sock,)| -> Answer<u32> {
        answer(socket(view, &s)?.keep_alive_count())
    })?;
    method(types, &format!("{P}set-keep-alive-count"), |view, (s, v): (Sock, u32)| -> Answer<()> {
        answer(socket(view, &s)?.set_keep_alive_count(v))
    })?;
    method(types, &format!("{P}get-hop-limit"), |view, (s,): (Sock,)| -> Answer<u8> {
        answer(socket(view, &s)?.hop_limit())
    })?;
    method(types, &format!("{P}set-hop-limit"), |view, (s, v): (Sock, u8)| -> Answer<()> {
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
