//! The socket options TCP and UDP sockets share (hop limit, send and receive buffer sizes),
//! with the WIT's rules on top of the system's: a 0 is `invalid-argument` whatever the system
//! would say, other values are hints that may be clamped, and what is read back is in the
//! same units as what was set.
//!
//! Linux doubles a buffer size when it is set (for its own bookkeeping) and reports the
//! doubled value; it is halved when read here so that a guest reads back about what it set.
//! A buffer size the system finds too large (`ENOBUFS`, as the BSDs say) is not an error: the
//! WIT calls these sizes hints.

use super::errors::from_errno;
use crate::bindings::wasi::sockets::network::{ErrorCode, IpAddressFamily};
use rustix::io::Errno;
use rustix::net::sockopt;
use std::os::fd::AsFd;

/// `IP_TTL` or `IPV6_UNICAST_HOPS`.
pub(crate) fn hop_limit(fd: impl AsFd, family: IpAddressFamily) -> Result<u8, ErrorCode> {
    match family {
        IpAddressFamily::Ipv4 => {
            let ttl = sockopt::ip_ttl(fd).map_err(from_errno)?;
            u8::try_from(ttl).map_err(|_| ErrorCode::NotSupported)
        }
        IpAddressFamily::Ipv6 => sockopt::ipv6_unicast_hops(fd).map_err(from_errno),
    }
}

/// Sets `IP_TTL` or `IPV6_UNICAST_HOPS`; 0 is `invalid-argument`.
pub(crate) fn set_hop_limit(fd: impl AsFd, family: IpAddressFamily, value: u8) -> Result<(), ErrorCode> {
    if value == 0 {
        return Err(ErrorCode::InvalidArgument);
    }
    match family {
        IpAddressFamily::Ipv4 => sockopt::set_ip_ttl(fd, value.into()),
        IpAddressFamily::Ipv6 => sockopt::set_ipv6_unicast_hops(fd, Some(value)),
    }
    .map_err(from_errno)
}

/// Which of the two kernel buffers.
#[derive(Clone, Copy)]
pub(crate) enum Buffer {
    /// `SO_RCVBUF`.
    Receive,
    /// `SO_SNDBUF`.
    Send,
}

/// The size of a kernel buffer, as the guest set it (see the module documentation).
pub(crate) fn buffer_size(fd: impl AsFd, which: Buffer) -> Result<u64, ErrorCode> {
    let size = match which {
        Buffer::Receive => sockopt::socket_recv_buffer_size(fd),
        Buffer::Send => sockopt::socket_send_buffer_size(fd),
    }
    .map_err(from_errno)?;
    let size = if cfg!(any(target_os = "linux", target_os = "android")) { size / 2 } else { size };
    Ok(u64::try_from(size).unwrap_or(u64::MAX))
}

/// Sets the size of a kernel buffer: 0 is `invalid-argument`, anything else is clamped to
/// what the system call takes.
pub(crate) fn set_buffer_size(fd: impl AsFd, which: Buffer, value: u64) -> Result<(), ErrorCode> {
    if value == 0 {
        return Err(ErrorCode::InvalidArgument);
    }
    let value = usize::try_from(value).unwrap_or(usize::MAX).min(i32::MAX as usize);
    let result = match which {
        Buffer::Receive => sockopt::set_socket_recv_buffer_size(fd, value),
        Buffer::Send => sockopt::set_socket_send_buffer_size(fd, value),
    };
    match result {
        Ok(()) | Err(Errno::NOBUFS) => Ok(()),
        Err(e) => Err(from_errno(e)),
    }
}
