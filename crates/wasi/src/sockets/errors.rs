//! How system errors become `wasi:sockets` error codes: one table from `errno` to
//! `error-code`, used by every socket operation, so that an errno means the same thing
//! whichever call returned it.
//!
//! The table is the general mapping the WIT documents per code. Where one call gives an errno
//! a different meaning (an `EAFNOSUPPORT` from `bind` is a bad argument, not a missing
//! protocol; Linux's `accept` reporting a dead connection's error), the call site rewrites
//! the errno before it reaches the table. Errors with no better code are `unknown` and logged
//! at debug level, as the guest only ever sees the code.

use crate::bindings::wasi::sockets::network::ErrorCode;
use rustix::io::Errno;

/// The `error-code` of a system error.
pub(crate) fn from_errno(errno: Errno) -> ErrorCode {
    match errno {
        Errno::ACCESS | Errno::PERM => ErrorCode::AccessDenied,
        Errno::ADDRINUSE => ErrorCode::AddressInUse,
        Errno::ADDRNOTAVAIL => ErrorCode::AddressNotBindable,
        Errno::ALREADY => ErrorCode::ConcurrencyConflict,
        Errno::CONNREFUSED => ErrorCode::ConnectionRefused,
        Errno::CONNRESET => ErrorCode::ConnectionReset,
        Errno::CONNABORTED => ErrorCode::ConnectionAborted,
        Errno::TIMEDOUT => ErrorCode::Timeout,
        Errno::HOSTUNREACH | Errno::NETUNREACH | Errno::NETDOWN | Errno::HOSTDOWN => ErrorCode::RemoteUnreachable,
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Errno::NONET => ErrorCode::RemoteUnreachable,
        Errno::MSGSIZE => ErrorCode::DatagramTooLarge,
        Errno::NOMEM | Errno::NOBUFS => ErrorCode::OutOfMemory,
        Errno::AFNOSUPPORT
        | Errno::OPNOTSUPP
        | Errno::PROTONOSUPPORT
        | Errno::PFNOSUPPORT
        | Errno::PROTOTYPE
        | Errno::SOCKTNOSUPPORT
        | Errno::NOPROTOOPT => ErrorCode::NotSupported,
        Errno::INVAL => ErrorCode::InvalidArgument,
        Errno::ISCONN | Errno::NOTCONN | Errno::DESTADDRREQ => ErrorCode::InvalidState,
        Errno::MFILE | Errno::NFILE => ErrorCode::NewSocketLimit,
        Errno::AGAIN | Errno::INTR => ErrorCode::WouldBlock,
        #[allow(unreachable_patterns, reason = "EWOULDBLOCK is EAGAIN on most systems")]
        Errno::WOULDBLOCK => ErrorCode::WouldBlock,
        other => {
            log::debug!("wasi:sockets: no error code for the system error {other}; reporting `unknown`");
            ErrorCode::Unknown
        }
    }
}

/// The error a stream hands the guest (as a `wasi:io/error`) when a socket call fails: the
/// system error, with what was being done.
pub(crate) fn stream_failure(errno: Errno, doing: &str) -> anyhow::Error {
    anyhow::Error::new(std::io::Error::from(errno)).context(format!("{doing} failed ({:?})", from_errno(errno)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_wit() {
        let cases = [
            (Errno::ACCESS, ErrorCode::AccessDenied),
            (Errno::PERM, ErrorCode::AccessDenied),
            (Errno::ADDRINUSE, ErrorCode::AddressInUse),
            (Errno::ADDRNOTAVAIL, ErrorCode::AddressNotBindable),
            (Errno::CONNREFUSED, ErrorCode::ConnectionRefused),
            (Errno::CONNRESET, ErrorCode::ConnectionReset),
            (Errno::CONNABORTED, ErrorCode::ConnectionAborted),
            (Errno::TIMEDOUT, ErrorCode::Timeout),
            (Errno::HOSTUNREACH, ErrorCode::RemoteUnreachable),
            (Errno::NETUNREACH, ErrorCode::RemoteUnreachable),
            (Errno::NETDOWN, ErrorCode::RemoteUnreachable),
            (Errno::HOSTDOWN, ErrorCode::RemoteUnreachable),
            (Errno::MSGSIZE, ErrorCode::DatagramTooLarge),
            (Errno::NOMEM, ErrorCode::OutOfMemory),
            (Errno::NOBUFS, ErrorCode::OutOfMemory),
            (Errno::AFNOSUPPORT, ErrorCode::NotSupported),
            (Errno::OPNOTSUPP, ErrorCode::NotSupported),
            (Errno::PROTONOSUPPORT, ErrorCode::NotSupported),
            (Errno::INVAL, ErrorCode::InvalidArgument),
            (Errno::ISCONN, ErrorCode::InvalidState),
            (Errno::NOTCONN, ErrorCode::InvalidState),
            (Errno::AGAIN, ErrorCode::WouldBlock),
            (Errno::MFILE, ErrorCode::NewSocketLimit),
            (Errno::NOENT, ErrorCode::Unknown),
        ];
        for (errno, code) in cases {
            assert_eq!(from_errno(errno), code, "{errno:?}");
        }
    }
}
