//! How a failure becomes what the guest sees: a host `io::Error` becomes an `error-code`
//! through one table of errnos ([`ERRNO_CODES`]), and the host functions' results become
//! either a WIT-level error or a trap ([`FsError`], [`to_guest`]).
//!
//! The errno decides first, as it is the most precise; an error without one (cap-std's
//! refusal of a path that leads outside its directory is a `PermissionDenied` error with no
//! errno) is mapped by its kind, and anything not covered is `io`. Traps are kept for what a
//! guest cannot cause through valid use of the interface: an unknown handle, a full table.

use crate::bindings::wasi::filesystem::types::ErrorCode;
use rustix::io::Errno;
use std::io;
use weld::component::ResourceTableError;

/// Each errno and the `error-code` it becomes. The first entry with a given errno wins:
/// some platforms give two names the same number (`EOPNOTSUPP` and `ENOTSUP` on Linux).
/// The pairs follow the POSIX equivalents the WIT documents for each `error-code`.
pub(crate) const ERRNO_CODES: &[(Errno, ErrorCode)] = &[
    (Errno::PERM, ErrorCode::NotPermitted),
    (Errno::NOENT, ErrorCode::NoEntry),
    (Errno::ACCESS, ErrorCode::Access),
    (Errno::BADF, ErrorCode::BadDescriptor),
    (Errno::NOTDIR, ErrorCode::NotDirectory),
    (Errno::ISDIR, ErrorCode::IsDirectory),
    (Errno::INVAL, ErrorCode::Invalid),
    (Errno::EXIST, ErrorCode::Exist),
    (Errno::NOTEMPTY, ErrorCode::NotEmpty),
    (Errno::LOOP, ErrorCode::Loop),
    (Errno::NAMETOOLONG, ErrorCode::NameTooLong),
    (Errno::NOSPC, ErrorCode::InsufficientSpace),
    (Errno::FBIG, ErrorCode::FileTooLarge),
    (Errno::SPIPE, ErrorCode::InvalidSeek),
    (Errno::MLINK, ErrorCode::TooManyLinks),
    (Errno::OVERFLOW, ErrorCode::Overflow),
    (Errno::ILSEQ, ErrorCode::IllegalByteSequence),
    (Errno::NOTSUP, ErrorCode::Unsupported),
    (Errno::OPNOTSUPP, ErrorCode::Unsupported),
    (Errno::NOSYS, ErrorCode::Unsupported),
    (Errno::BUSY, ErrorCode::Busy),
    (Errno::IO, ErrorCode::Io),
    (Errno::PIPE, ErrorCode::Pipe),
    (Errno::XDEV, ErrorCode::CrossDevice),
    (Errno::ROFS, ErrorCode::ReadOnly),
    (Errno::TXTBSY, ErrorCode::TextFileBusy),
    (Errno::DQUOT, ErrorCode::Quota),
    (Errno::AGAIN, ErrorCode::WouldBlock),
    (Errno::INTR, ErrorCode::Interrupted),
    (Errno::ALREADY, ErrorCode::Already),
    (Errno::INPROGRESS, ErrorCode::InProgress),
    (Errno::NOMEM, ErrorCode::InsufficientMemory),
    (Errno::DEADLK, ErrorCode::Deadlock),
    (Errno::NODEV, ErrorCode::NoDevice),
    (Errno::NXIO, ErrorCode::NoSuchDevice),
    (Errno::MSGSIZE, ErrorCode::MessageSize),
    (Errno::NOLCK, ErrorCode::NoLock),
    (Errno::NOTRECOVERABLE, ErrorCode::NotRecoverable),
    (Errno::NOTTY, ErrorCode::NoTty),
];

/// The `error-code` of a host error: by its errno when it has one listed in
/// [`ERRNO_CODES`], otherwise by its kind.
pub(crate) fn error_code(err: &io::Error) -> ErrorCode {
    if let Some(raw) = err.raw_os_error() {
        let errno = Errno::from_raw_os_error(raw);
        if let Some((_, code)) = ERRNO_CODES.iter().find(|(e, _)| *e == errno) {
            return *code;
        }
    }
    match err.kind() {
        // cap-std's refusal of a path that leads outside the directory.
        io::ErrorKind::PermissionDenied => ErrorCode::NotPermitted,
        io::ErrorKind::NotFound => ErrorCode::NoEntry,
        io::ErrorKind::AlreadyExists => ErrorCode::Exist,
        io::ErrorKind::InvalidInput => ErrorCode::Invalid,
        _ => ErrorCode::Io,
    }
}

/// Why a filesystem operation failed: an `error-code` for the guest, or a trap.
#[derive(Debug)]
pub(crate) enum FsError {
    /// Returned to the guest as `error-code`.
    Code(ErrorCode),
    /// Ends the guest's call with a trap.
    Trap(anyhow::Error),
}

impl From<ErrorCode> for FsError {
    fn from(code: ErrorCode) -> FsError {
        FsError::Code(code)
    }
}

impl From<io::Error> for FsError {
    fn from(err: io::Error) -> FsError {
        FsError::Code(error_code(&err))
    }
}

impl From<ResourceTableError> for FsError {
    /// A handle the table does not know, or a full table: the guest broke the canonical
    /// ABI's rules, or exhausted its resources.
    fn from(err: ResourceTableError) -> FsError {
        FsError::Trap(err.into())
    }
}

/// The result of a filesystem operation inside the host.
pub(crate) type FsResult<T> = Result<T, FsError>;

/// An operation's result as a host function returns it: traps outside, `error-code`s
/// inside.
pub(crate) fn to_guest<T>(result: FsResult<T>) -> weld::Result<Result<T, ErrorCode>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(FsError::Code(code)) => Ok(Err(code)),
        Err(FsError::Trap(err)) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_errno_maps_to_its_listed_code() {
        for (errno, code) in ERRNO_CODES {
            // Aliased errnos map to the first entry with their number.
            let (_, expected) = ERRNO_CODES.iter().find(|(e, _)| e == errno).unwrap();
            let err = io::Error::from_raw_os_error(errno.raw_os_error());
            assert_eq!(error_code(&err), *expected, "{errno:?}");
            if ERRNO_CODES.iter().filter(|(e, _)| e == errno).count() == 1 {
                assert_eq!(error_code(&err), *code, "{errno:?}");
            }
        }
    }

    /// The pairs checked against Linux's errno numbers written out, so that the test does not
    /// take them from the table it checks.
    #[cfg(target_os = "linux")]
    #[test]
    fn linux_errnos_map_as_the_wit_documents() {
        let cases = [
            (1, ErrorCode::NotPermitted),  // EPERM
            (2, ErrorCode::NoEntry),       // ENOENT
            (6, ErrorCode::NoSuchDevice),  // ENXIO
            (9, ErrorCode::BadDescriptor), // EBADF
            (11, ErrorCode::WouldBlock),   // EAGAIN
            (12, ErrorCode::InsufficientMemory),
            (13, ErrorCode::Access),       // EACCES
            (16, ErrorCode::Busy),         // EBUSY
            (17, ErrorCode::Exist),        // EEXIST
            (18, ErrorCode::CrossDevice),  // EXDEV
            (19, ErrorCode::NoDevice),     // ENODEV
            (20, ErrorCode::NotDirectory), // ENOTDIR
            (21, ErrorCode::IsDirectory),  // EISDIR
            (22, ErrorCode::Invalid),      // EINVAL
            (26, ErrorCode::TextFileBusy), // ETXTBSY
            (27, ErrorCode::FileTooLarge), // EFBIG
            (28, ErrorCode::InsufficientSpace),
            (29, ErrorCode::InvalidSeek),  // ESPIPE
            (30, ErrorCode::ReadOnly),     // EROFS
            (31, ErrorCode::TooManyLinks), // EMLINK
            (32, ErrorCode::Pipe),         // EPIPE
            (35, ErrorCode::Deadlock),     // EDEADLK
            (36, ErrorCode::NameTooLong),  // ENAMETOOLONG
            (38, ErrorCode::Unsupported),  // ENOSYS
            (39, ErrorCode::NotEmpty),     // ENOTEMPTY
            (40, ErrorCode::Loop),         // ELOOP
            (75, ErrorCode::Overflow),     // EOVERFLOW
            (84, ErrorCode::IllegalByteSequence),
            (95, ErrorCode::Unsupported), // ENOTSUP
            (114, ErrorCode::Already),    // EALREADY
            (115, ErrorCode::InProgress), // EINPROGRESS
            (122, ErrorCode::Quota),      // EDQUOT
            (4, ErrorCode::Interrupted),  // EINTR
            (5, ErrorCode::Io),           // EIO
        ];
        for (raw, code) in cases {
            assert_eq!(error_code(&io::Error::from_raw_os_error(raw)), code, "errno {raw}");
        }
    }

    #[test]
    fn errors_without_errno_map_by_kind() {
        let by_kind = [
            (io::ErrorKind::PermissionDenied, ErrorCode::NotPermitted),
            (io::ErrorKind::NotFound, ErrorCode::NoEntry),
            (io::ErrorKind::AlreadyExists, ErrorCode::Exist),
            (io::ErrorKind::InvalidInput, ErrorCode::Invalid),
            (io::ErrorKind::Other, ErrorCode::Io),
            (io::ErrorKind::UnexpectedEof, ErrorCode::Io),
        ];
        for (kind, code) in by_kind {
            assert_eq!(error_code(&io::Error::new(kind, "test")), code, "{kind:?}");
        }
    }

    #[test]
    fn an_unlisted_errno_falls_back_to_its_kind() {
        // ETIMEDOUT is not in the table; its kind is TimedOut, which is `io`.
        let err = io::Error::from_raw_os_error(Errno::TIMEDOUT.raw_os_error());
        assert_eq!(error_code(&err), ErrorCode::Io);
    }

    #[test]
    fn table_errors_trap_and_codes_do_not() {
        assert!(matches!(to_guest::<()>(Err(ErrorCode::Exist.into())), Ok(Err(ErrorCode::Exist))));
        assert!(to_guest::<()>(Err(ResourceTableError::NotPresent.into())).is_err());
    }
}
