//! [`TcpSocket`], the value behind a `tcp-socket` handle: a non-blocking system socket and the
//! state machine of `wasi:sockets/tcp` around it (unbound, bind-in-progress, bound,
//! listen-in-progress, listening, connect-in-progress, connected, closed), with the WIT's
//! argument checks and the context's address policy applied before each system call.
//!
//! The `start-*`/`finish-*` pairs exist so that a host may finish an operation later. Here
//! `bind` and `listen` happen in their `start-*`, and their `finish-*` only completes the
//! state change. A connect is non-blocking: `start-connect` issues it, and `finish-connect`
//! reports `would-block` until the socket is writable, then reads the outcome (`SO_ERROR`).
//! As in Wasmtime, whatever makes a connect fail after its arguments were accepted (the
//! address policy included) is reported by `finish-connect`, and leaves the socket closed.
//!
//! What this does not do: apply options a listener had to accepted sockets itself (Linux
//! and the other Unix systems this runs on copy them), or run anything in the background.
//! The socket's [`Pollable`] readiness says when a pending operation can finish: a connect
//! when the socket is writable, an `accept` when the listener is readable.
//!
//! WASI 0.3's `tcp-socket` (`crate::p3::sockets`) drives the same state machine; its
//! `listen` stream accepts through a [`Listener`] (the listening descriptor, shared), and its
//! connection streams use the connected descriptor ([`TcpSocket::connected_fd`]).

use super::addr::{family_matches, is_unicast, is_usable_remote, os_family, unspecified};
use super::errors::from_errno;
use super::policy::{SocketAddrCheck, SocketAddrUse, allow};
use super::tcp_stream::{ReadHalf, WriteHalf, halves};
use crate::bindings::wasi::sockets::network::{ErrorCode, IpAddressFamily};
use crate::poll::{Pollable, Readiness};
use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::net::{SocketFlags, SocketType, sockopt};
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The listen backlog used unless the guest sets one (the value Rust's standard library uses).
pub const DEFAULT_BACKLOG: u32 = 128;

/// The most denied connections one `accept` discards before it answers `would-block`, so that
/// a flood of denied peers cannot keep the guest's thread in the host.
const MAX_DENIED_PER_ACCEPT: usize = 256;

/// Which `start-*` awaits its `finish-*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InProgress {
    Bind,
    Listen,
    Connect,
}

/// Where the socket stands, with what each state owns.
enum State {
    /// Created, possibly bound (`bound`), neither connecting nor listening.
    Fresh { fd: Arc<OwnedFd>, bound: bool },
    /// `connect(2)` was issued and has not completed.
    Connecting { fd: Arc<OwnedFd> },
    /// The connect failed before or at `connect(2)`; `finish-connect` reports this error.
    ConnectFailed(ErrorCode),
    /// Listening (or listen-in-progress while `in_progress` is `Listen`).
    Listening { fd: Arc<OwnedFd> },
    /// Connected, with the two halves its streams share.
    Connected { fd: Arc<OwnedFd>, read: Arc<Mutex<ReadHalf>>, write: Arc<Mutex<WriteHalf>> },
    /// After a failed connect: only dropping is left.
    Closed,
}

/// The value behind a `tcp-socket` handle. See the module documentation.
pub struct TcpSocket {
    state: State,
    in_progress: Option<InProgress>,
    family: IpAddressFamily,
    backlog: u32,
    check: SocketAddrCheck,
}

/// A connection's pieces, for the host to turn into streams.
pub(crate) struct Connection {
    pub read: Arc<Mutex<ReadHalf>>,
    pub write: Arc<Mutex<WriteHalf>>,
}

/// A listening socket's descriptor with what accepting on it needs: shared by the socket
/// and whoever accepts (WASI 0.3's `listen` stream), so that either may outlive the other.
#[derive(Clone)]
pub(crate) struct Listener {
    fd: Arc<OwnedFd>,
    family: IpAddressFamily,
    check: SocketAddrCheck,
}

impl Listener {
    /// The listening descriptor (readable when a connection is waiting).
    pub(crate) fn fd(&self) -> &Arc<OwnedFd> {
        &self.fd
    }

    /// The next pending connection whose peer the policy allows (others are reset and
    /// skipped), as a connected socket and its halves; `would-block` when there is none.
    pub(crate) fn accept(&self) -> Result<(TcpSocket, Connection), ErrorCode> {
        for _ in 0..MAX_DENIED_PER_ACCEPT {
            let accepted = rustix::net::acceptfrom_with(&*self.fd, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC);
            let (client, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(Errno::INTR) => continue,
                Err(e) => return Err(accept_error(e)),
            };
            let peer = peer.and_then(|p| SocketAddr::try_from(p).ok());
            match peer {
                Some(peer) if allow(&self.check, peer, SocketAddrUse::TcpAccept).is_ok() => {
                    let mut socket = TcpSocket {
                        state: State::Closed,
                        in_progress: None,
                        family: self.family,
                        backlog: DEFAULT_BACKLOG,
                        check: self.check.clone(),
                    };
                    let connection = socket.connected(Arc::new(client));
                    return Ok((socket, connection));
                }
                _ => {
                    // Reset rather than close gracefully: the peer learns at once.
                    let _ = sockopt::set_socket_linger(&client, Some(Duration::ZERO));
                }
            }
        }
        Err(ErrorCode::WouldBlock)
    }
}

impl TcpSocket {
    /// A new unbound socket of `family`, checked against `check` for every later address use.
    pub(crate) fn new(family: IpAddressFamily, check: SocketAddrCheck) -> Result<TcpSocket, ErrorCode> {
        let fd = rustix::net::socket_with(
            os_family(family),
            SocketType::STREAM,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            None,
        )
        .map_err(from_errno)?;
        if family == IpAddressFamily::Ipv6 {
            // The WIT: IPv6 sockets are IPv6-only, and this cannot be changed.
            sockopt::set_ipv6_v6only(&fd, true).map_err(from_errno)?;
        }
        Ok(TcpSocket {
            state: State::Fresh { fd: Arc::new(fd), bound: false },
            in_progress: None,
            family,
            backlog: DEFAULT_BACKLOG,
            check,
        })
    }

    /// The socket's descriptor, in every state but closed (`invalid-state`, as the WIT allows).
    fn fd(&self) -> Result<&Arc<OwnedFd>, ErrorCode> {
        match &self.state {
            State::Fresh { fd, .. }
            | State::Connecting { fd }
            | State::Listening { fd }
            | State::Connected { fd, .. } => Ok(fd),
            State::ConnectFailed(_) | State::Closed => Err(ErrorCode::InvalidState),
        }
    }

    /// `concurrency-conflict` while another operation is in progress.
    fn not_busy(&self) -> Result<(), ErrorCode> {
        match self.in_progress {
            Some(_) => Err(ErrorCode::ConcurrencyConflict),
            None => Ok(()),
        }
    }

    fn finish(&mut self, op: InProgress) -> Result<(), ErrorCode> {
        if self.in_progress != Some(op) {
            return Err(ErrorCode::NotInProgress);
        }
        self.in_progress = None;
        Ok(())
    }

    /// `start-bind`: checks and binds now.
    pub(crate) fn start_bind(&mut self, addr: SocketAddr) -> Result<(), ErrorCode> {
        self.not_busy()?;
        let State::Fresh { fd, bound: false } = &self.state else {
            return Err(ErrorCode::InvalidState);
        };
        if !is_unicast(addr.ip()) || !family_matches(addr.ip(), self.family) {
            return Err(ErrorCode::InvalidArgument);
        }
        allow(&self.check, addr, SocketAddrUse::TcpBind)?;
        // The WIT: a recently closed socket in TIME_WAIT must not keep the port from being
        // bound again.
        let _ = sockopt::set_socket_reuseaddr(&**fd, true);
        rustix::net::bind(&**fd, &addr).map_err(|e| match e {
            // Our own checks catch a wrong family; should the system still see one, it is the
            // argument that is wrong, not the protocol that is missing.
            Errno::AFNOSUPPORT => ErrorCode::InvalidArgument,
            e => from_errno(e),
        })?;
        self.state = State::Fresh { fd: fd.clone(), bound: true };
        self.in_progress = Some(InProgress::Bind);
        Ok(())
    }

    /// `finish-bind`.
    pub(crate) fn finish_bind(&mut self) -> Result<(), ErrorCode> {
        self.finish(InProgress::Bind)
    }

    /// `start-connect`: rejects bad arguments and wrong states at once; any later failure
    /// (the policy's, or the system's) is kept for `finish-connect`.
    pub(crate) fn start_connect(&mut self, addr: SocketAddr) -> Result<(), ErrorCode> {
        self.not_busy()?;
        let State::Fresh { fd, bound } = &self.state else {
            return Err(ErrorCode::InvalidState);
        };
        if !is_unicast(addr.ip()) || !is_usable_remote(addr) || !family_matches(addr.ip(), self.family) {
            return Err(ErrorCode::InvalidArgument);
        }
        let fd = fd.clone();
        let checked = if *bound {
            Ok(())
        } else {
            // An unbound socket is bound by the system as part of the connect: that is a bind
            // to the unspecified address, and needs that permission too.
            allow(&self.check, unspecified(self.family), SocketAddrUse::TcpBind)
        };
        let checked = checked.and_then(|()| allow(&self.check, addr, SocketAddrUse::TcpConnect));
        self.state = match checked {
            Err(code) => State::ConnectFailed(code),
            Ok(()) => match rustix::net::connect(&*fd, &addr) {
                Ok(()) | Err(Errno::INPROGRESS) | Err(Errno::INTR) => State::Connecting { fd },
                Err(e) => State::ConnectFailed(from_errno(e)),
            },
        };
        self.in_progress = Some(InProgress::Connect);
        Ok(())
    }

    /// `finish-connect`: `would-block` until the connect completes; on success the socket is
    /// connected and the connection's halves are returned, on failure it is closed.
    pub(crate) fn finish_connect(&mut self) -> Result<Connection, ErrorCode> {
        if self.in_progress != Some(InProgress::Connect) {
            return Err(ErrorCode::NotInProgress);
        }
        let outcome = match &self.state {
            State::ConnectFailed(code) => Err(*code),
            State::Connecting { fd } => {
                if !poll_now(fd, PollFlags::OUT) {
                    return Err(ErrorCode::WouldBlock);
                }
                match sockopt::socket_error(&**fd) {
                    Ok(Ok(())) => Ok(fd.clone()),
                    Ok(Err(e)) | Err(e) => Err(from_errno(e)),
                }
            }
            // `in_progress` is `Connect` only in the two states above.
            _ => Err(ErrorCode::InvalidState),
        };
        self.in_progress = None;
        match outcome {
            Ok(fd) => Ok(self.connected(fd)),
            Err(code) => {
                self.state = State::Closed;
                Err(code)
            }
        }
    }

    /// Moves to `connected` over `fd` and returns the halves.
    fn connected(&mut self, fd: Arc<OwnedFd>) -> Connection {
        let (read, write) = halves(&fd);
        self.state = State::Connected { fd, read: read.clone(), write: write.clone() };
        Connection { read, write }
    }

    /// `start-listen`: the socket must be bound (WASI 0.2 has no implicit bind here).
    pub(crate) fn start_listen(&mut self) -> Result<(), ErrorCode> {
        self.not_busy()?;
        let State::Fresh { fd, bound: true } = &self.state else {
            return Err(ErrorCode::InvalidState);
        };
        let fd = fd.clone();
        let local = local_addr(&fd)?;
        allow(&self.check, local, SocketAddrUse::TcpListen)?;
        rustix::net::listen(&*fd, backlog_arg(self.backlog)).map_err(from_errno)?;
        self.state = State::Listening { fd };
        self.in_progress = Some(InProgress::Listen);
        Ok(())
    }

    /// `finish-listen`.
    pub(crate) fn finish_listen(&mut self) -> Result<(), ErrorCode> {
        self.finish(InProgress::Listen)
    }

    /// `accept`: the next pending connection whose peer the policy allows (others are reset
    /// and skipped), as a connected socket and its halves; `would-block` when there is none.
    pub(crate) fn accept(&mut self) -> Result<(TcpSocket, Connection), ErrorCode> {
        self.listener().ok_or(ErrorCode::InvalidState)?.accept()
    }

    /// What accepting connections needs, while the socket is listening (and no listen is
    /// in progress): the descriptor, shared, with the family and the address check.
    pub(crate) fn listener(&self) -> Option<Listener> {
        match &self.state {
            State::Listening { fd } if self.in_progress.is_none() => {
                Some(Listener { fd: fd.clone(), family: self.family, check: self.check.clone() })
            }
            _ => None,
        }
    }

    /// The descriptor of a connect in progress, to wait on until it is writable.
    pub(crate) fn connecting_fd(&self) -> Option<Arc<OwnedFd>> {
        match &self.state {
            State::Connecting { fd } => Some(fd.clone()),
            _ => None,
        }
    }

    /// The descriptor of a connected socket.
    pub(crate) fn connected_fd(&self) -> Option<Arc<OwnedFd>> {
        match &self.state {
            State::Connected { fd, .. } => Some(fd.clone()),
            _ => None,
        }
    }

    /// Whether the socket is fresh and not bound (so a bind may be tried).
    pub(crate) fn is_unbound(&self) -> bool {
        matches!(self.state, State::Fresh { bound: false, .. }) && self.in_progress.is_none()
    }

    /// `local-address`: `invalid-state` until bound.
    pub(crate) fn local_address(&self) -> Result<SocketAddr, ErrorCode> {
        match &self.state {
            State::Fresh { bound: false, .. } | State::ConnectFailed(_) | State::Closed => Err(ErrorCode::InvalidState),
            State::Fresh { fd, .. }
            | State::Connecting { fd }
            | State::Listening { fd }
            | State::Connected { fd, .. } => local_addr(fd),
        }
    }

    /// `remote-address`: `invalid-state` unless connected.
    pub(crate) fn remote_address(&self) -> Result<SocketAddr, ErrorCode> {
        let State::Connected { fd, .. } = &self.state else {
            return Err(ErrorCode::InvalidState);
        };
        match rustix::net::getpeername(&**fd).map_err(from_errno)? {
            Some(addr) => SocketAddr::try_from(addr).map_err(|_| ErrorCode::Unknown),
            None => Err(ErrorCode::InvalidState),
        }
    }

    /// `is-listening`: in the `listening` state (not while listen is in progress).
    pub(crate) fn is_listening(&self) -> bool {
        matches!(self.state, State::Listening { .. }) && self.in_progress.is_none()
    }

    /// `address-family`.
    pub(crate) fn address_family(&self) -> IpAddressFamily {
        self.family
    }

    /// `set-listen-backlog-size`: kept for `listen` before it, applied by listening again
    /// after it (`not-supported` where the system refuses that).
    pub(crate) fn set_listen_backlog_size(&mut self, value: u64) -> Result<(), ErrorCode> {
        if value == 0 {
            return Err(ErrorCode::InvalidArgument);
        }
        let value = u32::try_from(value).unwrap_or(u32::MAX).min(i32::MAX as u32);
        match &self.state {
            State::Fresh { .. } => {}
            State::Listening { fd } => {
                rustix::net::listen(&**fd, backlog_arg(value)).map_err(|_| ErrorCode::NotSupported)?;
            }
            _ => return Err(ErrorCode::InvalidState),
        }
        self.backlog = value;
        Ok(())
    }

    /// `keep-alive-enabled`.
    pub(crate) fn keep_alive_enabled(&self) -> Result<bool, ErrorCode> {
        sockopt::socket_keepalive(&**self.fd()?).map_err(from_errno)
    }

    /// `set-keep-alive-enabled`.
    pub(crate) fn set_keep_alive_enabled(&self, value: bool) -> Result<(), ErrorCode> {
        sockopt::set_socket_keepalive(&**self.fd()?, value).map_err(from_errno)
    }

    /// `keep-alive-idle-time`, in nanoseconds.
    pub(crate) fn keep_alive_idle_time(&self) -> Result<u64, ErrorCode> {
        sockopt::tcp_keepidle(&**self.fd()?).map(nanos).map_err(from_errno)
    }

    /// `set-keep-alive-idle-time`: 0 is `invalid-argument`; clamped to what every platform
    /// takes (whole seconds, at least 1, at most Linux's limit).
    pub(crate) fn set_keep_alive_idle_time(&self, value: u64) -> Result<(), ErrorCode> {
        let fd = self.fd()?;
        let value = keep_alive_duration(value)?;
        sockopt::set_tcp_keepidle(&**fd, value).map_err(from_errno)
    }

    /// `keep-alive-interval`, in nanoseconds.
    pub(crate) fn keep_alive_interval(&self) -> Result<u64, ErrorCode> {
        sockopt::tcp_keepintvl(&**self.fd()?).map(nanos).map_err(from_errno)
    }

    /// `set-keep-alive-interval`: as `set-keep-alive-idle-time`.
    pub(crate) fn set_keep_alive_interval(&self, value: u64) -> Result<(), ErrorCode> {
        let fd = self.fd()?;
        let value = keep_alive_duration(value)?;
        sockopt::set_tcp_keepintvl(&**fd, value).map_err(from_errno)
    }

    /// `keep-alive-count`.
    pub(crate) fn keep_alive_count(&self) -> Result<u32, ErrorCode> {
        sockopt::tcp_keepcnt(&**self.fd()?).map_err(from_errno)
    }

    /// `set-keep-alive-count`: 0 is `invalid-argument`; clamped to 1..=127 (Linux's limit).
    pub(crate) fn set_keep_alive_count(&self, value: u32) -> Result<(), ErrorCode> {
        let fd = self.fd()?;
        if value == 0 {
            return Err(ErrorCode::InvalidArgument);
        }
        sockopt::set_tcp_keepcnt(&**fd, value.min(i8::MAX as u32)).map_err(from_errno)
    }

    /// `hop-limit`.
    pub(crate) fn hop_limit(&self) -> Result<u8, ErrorCode> {
        super::options::hop_limit(&**self.fd()?, self.family)
    }

    /// `set-hop-limit`.
    pub(crate) fn set_hop_limit(&self, value: u8) -> Result<(), ErrorCode> {
        super::options::set_hop_limit(&**self.fd()?, self.family, value)
    }

    /// `receive-buffer-size` / `send-buffer-size`.
    pub(crate) fn buffer_size(&self, which: super::options::Buffer) -> Result<u64, ErrorCode> {
        super::options::buffer_size(&**self.fd()?, which)
    }

    /// `set-receive-buffer-size` / `set-send-buffer-size`.
    pub(crate) fn set_buffer_size(&self, which: super::options::Buffer, value: u64) -> Result<(), ErrorCode> {
        super::options::set_buffer_size(&**self.fd()?, which, value)
    }

    /// `shutdown`: closes the chosen halves (idempotent); `invalid-state` unless connected.
    pub(crate) fn shutdown(&self, receive: bool, send: bool) -> Result<(), ErrorCode> {
        let State::Connected { read, write, .. } = &self.state else {
            return Err(ErrorCode::InvalidState);
        };
        if receive {
            read.lock().unwrap_or_else(|p| p.into_inner()).shutdown();
        }
        if send {
            write.lock().unwrap_or_else(|p| p.into_inner()).shutdown();
        }
        Ok(())
    }
}

impl Pollable for TcpSocket {
    fn readiness(&mut self) -> Readiness {
        match (&self.state, self.in_progress) {
            (State::Connecting { fd }, Some(InProgress::Connect)) => Readiness::fd(fd.clone(), PollFlags::OUT),
            (State::Listening { fd }, None) => Readiness::fd(fd.clone(), PollFlags::IN),
            _ => Readiness::Ready,
        }
    }
}

/// Whether `fd` has one of `events` now, without waiting.
fn poll_now(fd: &Arc<OwnedFd>, events: PollFlags) -> bool {
    let mut fds = [PollFd::new(&**fd, events)];
    let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
    matches!(rustix::event::poll(&mut fds, Some(&zero)), Ok(n) if n > 0)
}

/// The local address of `fd`.
fn local_addr(fd: &OwnedFd) -> Result<SocketAddr, ErrorCode> {
    let addr = rustix::net::getsockname(fd).map_err(from_errno)?;
    SocketAddr::try_from(addr).map_err(|_| ErrorCode::Unknown)
}

fn backlog_arg(backlog: u32) -> i32 {
    i32::try_from(backlog).unwrap_or(i32::MAX)
}

/// An `accept` error, as the WIT names it. Linux reports on `accept` the errors of a
/// connection that died while queued; for the guest that connection was aborted.
fn accept_error(errno: Errno) -> ErrorCode {
    match errno {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Errno::CONNRESET
        | Errno::NETRESET
        | Errno::HOSTUNREACH
        | Errno::HOSTDOWN
        | Errno::NETDOWN
        | Errno::NETUNREACH
        | Errno::PROTO
        | Errno::NOPROTOOPT
        | Errno::NONET
        | Errno::OPNOTSUPP => ErrorCode::ConnectionAborted,
        e => from_errno(e),
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A keep-alive time in nanoseconds as the system takes it: 0 is `invalid-argument`, and
/// the rest is clamped to 1 s ..= 32767 s.
fn keep_alive_duration(value: u64) -> Result<Duration, ErrorCode> {
    if value == 0 {
        return Err(ErrorCode::InvalidArgument);
    }
    let secs = Duration::from_nanos(value).as_secs().clamp(1, i16::MAX as u64);
    Ok(Duration::from_secs(secs))
}
