//! The value types of WASI 0.3's sockets that differ from WASI 0.2's: `wasi:sockets/types`'s
//! `error-code` ([`ErrorCode`]) and `ip-name-lookup`'s ([`LookupErrorCode`]), with their
//! conversions from 0.2's `error-code` and from system errors.
//!
//! The address types (`ip-address-family`, `ip-address`, `ip-socket-address` and its two
//! records) have the same shape in both versions, and component types are structural, so
//! the 0.3 functions take and return 0.2's Rust types for them: the shared sockets
//! (`crate::sockets`) convert those already.
//!
//! 0.3's `error-code` dropped codes that only 0.2's poll-based API needed, and ends with
//! `other(option<string>)`: 0.2's `unknown` becomes `other(none)`; `concurrency-conflict` and
//! `not-in-progress` (a second operation while one is under way) become `invalid-state`; the
//! codes 0.3 has no case for (`would-block`, `new-socket-limit`, and the lookup codes) become
//! `other(some(name))`. `EPIPE` is 0.3's `connection-broken` (0.2 had no such code).
//!
//! Also here, as both resources use it: [`method`], which defines a synchronous method.

use crate::bindings::wasi::sockets::network::ErrorCode as P2ErrorCode;
use crate::view::{WasiCtxView, WasiView};
use rustix::io::Errno;
use weld::component::{ComponentNamedList, ComponentType, Lift, LinkerInstance, Lower, StoreContextMut};

/// What an operation gives the guest: a value or an `error-code`, or a trap.
pub(crate) type Answer<R> = weld::Result<Result<R, ErrorCode>>;

/// A shared (0.2) socket operation's result as a 0.3 answer.
pub(crate) fn answer<R>(result: Result<R, P2ErrorCode>) -> Answer<R> {
    Ok(result.map_err(ErrorCode::from))
}

/// Defines the synchronous function `name` (`[method]tcp-socket.bind`, say), which `op` does
/// with the store's WASI view.
pub(crate) fn method<T, P, R>(
    types: &mut LinkerInstance<'_, T>,
    name: &str,
    op: fn(&mut WasiCtxView<'_>, P) -> weld::Result<R>,
) -> weld::Result<()>
where
    T: WasiView + 'static,
    P: ComponentNamedList + Lift + 'static,
    R: ComponentType + Lower + 'static,
{
    types.func_wrap(name, move |mut store: StoreContextMut<'_, T>, params: P| {
        Ok((op(&mut store.data_mut().ctx(), params)?,))
    })
}

/// `wasi:sockets/types#error-code`: why a socket operation failed (the POSIX errors each
/// stands for are in the WIT).
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum ErrorCode {
    /// Access denied (`EACCES`, `EPERM`), or the context's policy said no.
    AccessDenied,
    /// The operation is not supported.
    NotSupported,
    /// One of the arguments is invalid.
    InvalidArgument,
    /// Not enough memory.
    OutOfMemory,
    /// The operation timed out.
    Timeout,
    /// The operation is not valid in the socket's current state.
    InvalidState,
    /// The local address is not available (`EADDRNOTAVAIL`).
    AddressNotBindable,
    /// The address is in use, or no ephemeral port is free (`EADDRINUSE`).
    AddressInUse,
    /// The remote address is not reachable.
    RemoteUnreachable,
    /// The connection was refused (`ECONNREFUSED`).
    ConnectionRefused,
    /// A write failed because the connection was broken (`EPIPE`).
    ConnectionBroken,
    /// The connection was reset (`ECONNRESET`).
    ConnectionReset,
    /// The connection was aborted (`ECONNABORTED`).
    ConnectionAborted,
    /// A datagram was too large (`EMSGSIZE`).
    DatagramTooLarge,
    /// Anything else, perhaps with a name for it.
    Other(Option<String>),
}

impl From<P2ErrorCode> for ErrorCode {
    fn from(code: P2ErrorCode) -> ErrorCode {
        use P2ErrorCode as E;
        match code {
            E::Unknown => ErrorCode::Other(None),
            E::AccessDenied => ErrorCode::AccessDenied,
            E::NotSupported => ErrorCode::NotSupported,
            E::InvalidArgument => ErrorCode::InvalidArgument,
            E::OutOfMemory => ErrorCode::OutOfMemory,
            E::Timeout => ErrorCode::Timeout,
            E::ConcurrencyConflict | E::NotInProgress | E::InvalidState => ErrorCode::InvalidState,
            E::AddressNotBindable => ErrorCode::AddressNotBindable,
            E::AddressInUse => ErrorCode::AddressInUse,
            E::RemoteUnreachable => ErrorCode::RemoteUnreachable,
            E::ConnectionRefused => ErrorCode::ConnectionRefused,
            E::ConnectionReset => ErrorCode::ConnectionReset,
            E::ConnectionAborted => ErrorCode::ConnectionAborted,
            E::DatagramTooLarge => ErrorCode::DatagramTooLarge,
            E::WouldBlock => ErrorCode::Other(Some("would-block".into())),
            E::NewSocketLimit => ErrorCode::Other(Some("new-socket-limit".into())),
            E::NameUnresolvable => ErrorCode::Other(Some("name-unresolvable".into())),
            E::TemporaryResolverFailure => ErrorCode::Other(Some("temporary-resolver-failure".into())),
            E::PermanentResolverFailure => ErrorCode::Other(Some("permanent-resolver-failure".into())),
        }
    }
}

impl ErrorCode {
    /// The code of a system error from sending or receiving on a connection: the shared
    /// table's (`crate::sockets`), and `connection-broken` for `EPIPE`.
    pub(crate) fn from_errno(errno: Errno) -> ErrorCode {
        match errno {
            Errno::PIPE => ErrorCode::ConnectionBroken,
            e => crate::sockets::from_errno(e).into(),
        }
    }
}

/// `wasi:sockets/ip-name-lookup#error-code`: why a name was not resolved.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum LookupErrorCode {
    /// The context does not allow lookups.
    AccessDenied,
    /// The name is neither an IP address nor a syntactically valid domain name.
    InvalidArgument,
    /// The name does not exist or has no address (or the resolver failed without saying
    /// why: the system's `getaddrinfo`, as Rust's standard library calls it, does not).
    NameUnresolvable,
    /// A temporary failure of the resolver.
    TemporaryResolverFailure,
    /// A permanent failure of the resolver.
    PermanentResolverFailure,
    /// Anything else, perhaps with a name for it.
    Other(Option<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_0_3_lacks_become_invalid_state_or_other() {
        assert_eq!(ErrorCode::from(P2ErrorCode::ConcurrencyConflict), ErrorCode::InvalidState);
        assert_eq!(ErrorCode::from(P2ErrorCode::NotInProgress), ErrorCode::InvalidState);
        assert_eq!(ErrorCode::from(P2ErrorCode::Unknown), ErrorCode::Other(None));
        assert_eq!(ErrorCode::from(P2ErrorCode::WouldBlock), ErrorCode::Other(Some("would-block".into())));
        assert_eq!(ErrorCode::from_errno(Errno::PIPE), ErrorCode::ConnectionBroken);
        assert_eq!(ErrorCode::from_errno(Errno::CONNRESET), ErrorCode::ConnectionReset);
        assert_eq!(ErrorCode::from_errno(Errno::ADDRINUSE), ErrorCode::AddressInUse);
    }
}
