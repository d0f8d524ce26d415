//! [`UdpSocket`], the value behind a `udp-socket` handle, and its datagram streams
//! ([`IncomingDatagramStream`], [`OutgoingDatagramStream`]): a non-blocking system socket
//! with the WIT's argument checks and the context's address policy applied before each
//! system call.
//!
//! `start-bind` binds at once; `finish-bind` completes the state change. `stream` sets the
//! socket's peer (`connect(2)`, or dissolving the association when given none) and hands out
//! a new pair of streams, which share the socket's descriptor; a pair must be dropped before
//! the next `stream` (that is a trap otherwise, as in Wasmtime), since only the newest pair
//! may work. Receiving takes up to [`MAX_DATAGRAMS`] datagrams per call, what is there now;
//! datagrams from a peer the policy denies, or from another peer than the one the streams
//! were made for, are discarded unseen. Sending allows [`MAX_DATAGRAMS`] datagrams per
//! `check-send` when the socket is writable, none otherwise, and stops at the first datagram
//! the kernel would block on.
//!
//! WASI 0.3's `udp-socket` (`crate::p3::sockets`) is this socket without the streams: it
//! sets the peer with [`UdpSocket::set_remote`] and moves one datagram at a time with
//! [`UdpSocket::receive_one`] and [`UdpSocket::send_one`], which the streams' calls share.
//!
//! What this does not do: multicast, or any option beyond those the WIT has.

use super::addr::{family_matches, is_usable_remote, os_family, unspecified};
use super::errors::from_errno;
use super::policy::{SocketAddrCheck, SocketAddrUse, allow};
use crate::bindings::wasi::sockets::network::{ErrorCode, IpAddressFamily};
use crate::poll::{Pollable, Readiness};
use crate::streams::MAX_READ_SIZE;
use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags, SocketFlags, SocketType, sockopt};
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::Arc;

/// The most datagrams one `receive` returns, and one `check-send` allows.
pub const MAX_DATAGRAMS: usize = 16;

/// The largest UDP payload there is (the real limit, after headers, is lower).
pub const MAX_DATAGRAM_SIZE: usize = u16::MAX as usize;

/// The most datagrams one `receive` reads and discards (denied or from another peer) before
/// it returns what it has, so that a flood of unwanted datagrams cannot hold the guest.
const MAX_DISCARDED_PER_RECEIVE: usize = 256;

/// The value behind a `udp-socket` handle. See the module documentation.
pub struct UdpSocket {
    fd: Arc<OwnedFd>,
    family: IpAddressFamily,
    check: SocketAddrCheck,
    bound: bool,
    bind_in_progress: bool,
    /// The peer set by the last `stream`, if any.
    remote: Option<SocketAddr>,
}

impl UdpSocket {
    /// A new unbound socket of `family`, checked against `check` for every later address use.
    pub(crate) fn new(family: IpAddressFamily, check: SocketAddrCheck) -> Result<UdpSocket, ErrorCode> {
        let fd = rustix::net::socket_with(
            os_family(family),
            SocketType::DGRAM,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            None,
        )
        .map_err(from_errno)?;
        if family == IpAddressFamily::Ipv6 {
            sockopt::set_ipv6_v6only(&fd, true).map_err(from_errno)?;
        }
        Ok(UdpSocket { fd: Arc::new(fd), family, check, bound: false, bind_in_progress: false, remote: None })
    }

    /// `start-bind`: checks and binds now.
    pub(crate) fn start_bind(&mut self, addr: SocketAddr) -> Result<(), ErrorCode> {
        if self.bind_in_progress {
            return Err(ErrorCode::ConcurrencyConflict);
        }
        if self.bound {
            return Err(ErrorCode::InvalidState);
        }
        if !family_matches(addr.ip(), self.family) {
            return Err(ErrorCode::InvalidArgument);
        }
        allow(&self.check, addr, SocketAddrUse::UdpBind)?;
        rustix::net::bind(&*self.fd, &addr).map_err(|e| match e {
            Errno::AFNOSUPPORT => ErrorCode::InvalidArgument,
            e => from_errno(e),
        })?;
        self.bound = true;
        self.bind_in_progress = true;
        Ok(())
    }

    /// `finish-bind`.
    pub(crate) fn finish_bind(&mut self) -> Result<(), ErrorCode> {
        if !self.bind_in_progress {
            return Err(ErrorCode::NotInProgress);
        }
        self.bind_in_progress = false;
        Ok(())
    }

    /// Whether the socket is bound (explicitly, or implicitly by a WASI 0.3 operation).
    pub(crate) fn is_bound(&self) -> bool {
        self.bound
    }

    /// Binds to the unspecified address of the socket's family, as an implicit bind does
    /// (checked by the policy as a `UdpBind` of that address).
    pub(crate) fn bind_unspecified(&mut self) -> Result<(), ErrorCode> {
        self.start_bind(unspecified(self.family))?;
        self.finish_bind()
    }

    /// The socket's descriptor (readable when a datagram waits, writable when one can go).
    pub(crate) fn fd(&self) -> &Arc<OwnedFd> {
        &self.fd
    }

    /// The socket side of `stream`: sets or dissolves the peer, and makes the streams. The
    /// caller has checked that no earlier pair is alive.
    pub(crate) fn stream(
        &mut self,
        remote: Option<SocketAddr>,
    ) -> Result<(IncomingDatagramStream, OutgoingDatagramStream), ErrorCode> {
        if !self.bound {
            return Err(ErrorCode::InvalidState);
        }
        self.set_remote(remote)?;
        let incoming = IncomingDatagramStream { fd: self.fd.clone(), remote: self.remote, check: self.check.clone() };
        let outgoing = OutgoingDatagramStream {
            fd: self.fd.clone(),
            family: self.family,
            remote: self.remote,
            check: self.check.clone(),
            permits: 0,
        };
        Ok((incoming, outgoing))
    }

    /// Sets the socket's peer (`connect(2)`, after the argument checks and the policy's), or
    /// with `None` dissolves the association if there is one. The socket must be bound.
    pub(crate) fn set_remote(&mut self, remote: Option<SocketAddr>) -> Result<(), ErrorCode> {
        match remote {
            Some(addr) => {
                if !family_matches(addr.ip(), self.family) || !is_usable_remote(addr) {
                    return Err(ErrorCode::InvalidArgument);
                }
                // Connecting only filters and defaults the peer, so it needs the permission
                // to send to it and to receive from it.
                allow(&self.check, addr, SocketAddrUse::UdpSend)?;
                allow(&self.check, addr, SocketAddrUse::UdpReceive)?;
                let result = self.connect(addr);
                self.remote = self.peer();
                result
            }
            None if self.remote.is_some() => {
                let result = rustix::net::connect_unspec(&*self.fd).map_err(from_errno);
                self.remote = self.peer();
                result
            }
            None => Ok(()),
        }
    }

    /// One datagram that is there now and that the socket wants (see
    /// [`IncomingDatagramStream::receive`]), with its sender; `None` when there is none.
    pub(crate) fn receive_one(&self) -> Result<Option<(Vec<u8>, SocketAddr)>, ErrorCode> {
        let mut buf = vec![0u8; MAX_DATAGRAM_SIZE];
        let mut discarded = 0;
        match receive_wanted(&self.fd, self.remote, &self.check, &mut buf, &mut discarded) {
            Ok(Some((len, from))) => {
                buf.truncate(len);
                Ok(Some((buf, from)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(from_errno(e)),
        }
    }

    /// Sends one datagram to `to`, or to the peer (see [`OutgoingDatagramStream`]'s `send`);
    /// `would-block` when the kernel would block.
    pub(crate) fn send_one(&self, data: &[u8], to: Option<SocketAddr>) -> Result<(), ErrorCode> {
        send_datagram(&self.fd, self.family, self.remote, &self.check, data, to)
    }

    fn connect(&self, addr: SocketAddr) -> Result<(), ErrorCode> {
        match rustix::net::connect(&*self.fd, &addr) {
            Ok(()) => Ok(()),
            // Linux refuses to move a connected socket to a peer behind another interface;
            // dissolving the old association first lets it pick the new route.
            Err(Errno::INVAL) if self.remote.is_some() => {
                let _ = rustix::net::connect_unspec(&*self.fd);
                rustix::net::connect(&*self.fd, &addr).map_err(from_errno)
            }
            Err(Errno::AFNOSUPPORT) => Err(ErrorCode::InvalidArgument),
            Err(e) => Err(from_errno(e)),
        }
    }

    /// The connected peer, as the system reports it.
    fn peer(&self) -> Option<SocketAddr> {
        let addr = rustix::net::getpeername(&*self.fd).ok()??;
        SocketAddr::try_from(addr).ok().filter(|a| !a.ip().is_unspecified() || a.port() != 0)
    }

    /// `local-address`: `invalid-state` until bound.
    pub(crate) fn local_address(&self) -> Result<SocketAddr, ErrorCode> {
        if !self.bound {
            return Err(ErrorCode::InvalidState);
        }
        let addr = rustix::net::getsockname(&*self.fd).map_err(from_errno)?;
        SocketAddr::try_from(addr).map_err(|_| ErrorCode::Unknown)
    }

    /// `remote-address`: the peer of the last `stream`, `invalid-state` without one.
    pub(crate) fn remote_address(&self) -> Result<SocketAddr, ErrorCode> {
        self.remote.ok_or(ErrorCode::InvalidState)
    }

    /// `address-family`.
    pub(crate) fn address_family(&self) -> IpAddressFamily {
        self.family
    }

    /// `unicast-hop-limit`.
    pub(crate) fn hop_limit(&self) -> Result<u8, ErrorCode> {
        super::options::hop_limit(&*self.fd, self.family)
    }

    /// `set-unicast-hop-limit`.
    pub(crate) fn set_hop_limit(&self, value: u8) -> Result<(), ErrorCode> {
        super::options::set_hop_limit(&*self.fd, self.family, value)
    }

    /// `receive-buffer-size` / `send-buffer-size`.
    pub(crate) fn buffer_size(&self, which: super::options::Buffer) -> Result<u64, ErrorCode> {
        super::options::buffer_size(&*self.fd, which)
    }

    /// `set-receive-buffer-size` / `set-send-buffer-size`.
    pub(crate) fn set_buffer_size(&self, which: super::options::Buffer, value: u64) -> Result<(), ErrorCode> {
        super::options::set_buffer_size(&*self.fd, which, value)
    }
}

impl Pollable for UdpSocket {
    /// No socket-level operation of UDP waits for anything.
    fn readiness(&mut self) -> Readiness {
        Readiness::Ready
    }
}

/// The value behind an `incoming-datagram-stream` handle.
pub struct IncomingDatagramStream {
    fd: Arc<OwnedFd>,
    remote: Option<SocketAddr>,
    check: SocketAddrCheck,
}

impl IncomingDatagramStream {
    /// `receive`: up to `max` (at most [`MAX_DATAGRAMS`]) datagrams that are there now, with
    /// their senders. An error after some datagrams ends the batch instead.
    pub(crate) fn receive(&mut self, max: u64) -> Result<Vec<(Vec<u8>, SocketAddr)>, ErrorCode> {
        let max = usize::try_from(max).unwrap_or(usize::MAX).min(MAX_DATAGRAMS);
        let mut datagrams = Vec::new();
        if max == 0 {
            return Ok(datagrams);
        }
        let mut buf = vec![0u8; MAX_DATAGRAM_SIZE];
        let mut total = 0;
        let mut discarded = 0;
        while datagrams.len() < max && total < MAX_READ_SIZE {
            match receive_wanted(&self.fd, self.remote, &self.check, &mut buf, &mut discarded) {
                Ok(Some((len, from))) => {
                    total += len + 1;
                    datagrams.push((buf[..len].to_vec(), from));
                }
                Ok(None) => break,
                Err(_) if !datagrams.is_empty() => break,
                Err(e) => return Err(from_errno(e)),
            }
        }
        Ok(datagrams)
    }
}

impl Pollable for IncomingDatagramStream {
    fn readiness(&mut self) -> Readiness {
        Readiness::fd(self.fd.clone(), PollFlags::IN)
    }
}

/// The value behind an `outgoing-datagram-stream` handle.
pub struct OutgoingDatagramStream {
    fd: Arc<OwnedFd>,
    family: IpAddressFamily,
    remote: Option<SocketAddr>,
    check: SocketAddrCheck,
    /// How many datagrams the last `check-send` allowed; every `send` uses them all up.
    permits: usize,
}

impl OutgoingDatagramStream {
    /// `check-send`: [`MAX_DATAGRAMS`] when the socket is writable now, else 0.
    pub(crate) fn check_send(&mut self) -> u64 {
        let mut fds = [PollFd::new(&*self.fd, PollFlags::OUT)];
        let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
        let writable = matches!(rustix::event::poll(&mut fds, Some(&zero)), Ok(n) if n > 0);
        self.permits = if writable { MAX_DATAGRAMS } else { 0 };
        self.permits as u64
    }

    /// `send`: `Err(None)` when the guest sent more datagrams than `check-send` allowed (a
    /// trap), `Err(Some(code))` when the first datagram failed, else how many were sent.
    pub(crate) fn send(&mut self, datagrams: Vec<(Vec<u8>, Option<SocketAddr>)>) -> Result<u64, Option<ErrorCode>> {
        if datagrams.is_empty() {
            return Ok(0);
        }
        if datagrams.len() > self.permits {
            return Err(None);
        }
        self.permits = 0;
        let mut sent = 0;
        for (data, to) in datagrams {
            match self.send_one(&data, to) {
                Ok(()) => sent += 1,
                Err(ErrorCode::WouldBlock) => break,
                Err(_) if sent > 0 => break,
                Err(code) => return Err(Some(code)),
            }
        }
        Ok(sent)
    }

    fn send_one(&self, data: &[u8], to: Option<SocketAddr>) -> Result<(), ErrorCode> {
        send_datagram(&self.fd, self.family, self.remote, &self.check, data, to)
    }
}

impl Pollable for OutgoingDatagramStream {
    fn readiness(&mut self) -> Readiness {
        Readiness::fd(self.fd.clone(), PollFlags::OUT)
    }
}

/// Reads datagrams from `fd` into `buf` until one the socket wants: from `remote` when it is
/// set (the system filters by the connected peer when datagrams arrive, not when they are
/// read: some may have been queued before the socket was connected), and from a sender the
/// policy allows. Others are discarded unseen, at most [`MAX_DISCARDED_PER_RECEIVE`] in all
/// for one `discarded` count. `None` when nothing (wanted) is there now.
fn receive_wanted(
    fd: &OwnedFd,
    remote: Option<SocketAddr>,
    check: &SocketAddrCheck,
    buf: &mut [u8],
    discarded: &mut usize,
) -> Result<Option<(usize, SocketAddr)>, Errno> {
    while *discarded < MAX_DISCARDED_PER_RECEIVE {
        let (len, from) = match rustix::net::recvfrom(fd, &mut *buf, RecvFlags::empty()) {
            Ok((len, _, from)) => (len, from.and_then(|a| SocketAddr::try_from(a).ok())),
            Err(Errno::AGAIN | Errno::INTR) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(from) = from else {
            *discarded += 1;
            continue;
        };
        let wanted = remote.is_none_or(|remote| remote == from);
        if !wanted || allow(check, from, SocketAddrUse::UdpReceive).is_err() {
            *discarded += 1;
            continue;
        }
        return Ok(Some((len, from)));
    }
    Ok(None)
}

/// Sends one datagram on `fd` (of `family`, connected to `remote` if set) to `to`, or to
/// `remote`, after the WIT's argument checks and the policy's; `would-block` when the kernel
/// would block.
fn send_datagram(
    fd: &OwnedFd,
    family: IpAddressFamily,
    remote: Option<SocketAddr>,
    check: &SocketAddrCheck,
    data: &[u8],
    to: Option<SocketAddr>,
) -> Result<(), ErrorCode> {
    if data.len() > MAX_DATAGRAM_SIZE {
        return Err(ErrorCode::DatagramTooLarge);
    }
    let target = match (to, remote) {
        (Some(addr), remote) => {
            if !is_usable_remote(addr) || !family_matches(addr.ip(), family) {
                return Err(ErrorCode::InvalidArgument);
            }
            if remote.is_some_and(|remote| remote != addr) {
                return Err(ErrorCode::InvalidArgument);
            }
            addr
        }
        (None, Some(remote)) => remote,
        (None, None) => return Err(ErrorCode::InvalidArgument),
    };
    allow(check, target, SocketAddrUse::UdpSend)?;
    let result = if remote.is_some() {
        rustix::net::send(fd, data, SendFlags::NOSIGNAL)
    } else {
        rustix::net::sendto(fd, data, SendFlags::NOSIGNAL, &target)
    };
    match result {
        Ok(_) => Ok(()),
        Err(Errno::INTR) => Err(ErrorCode::WouldBlock),
        Err(e) => Err(from_errno(e)),
    }
}
