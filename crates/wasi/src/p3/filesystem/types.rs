//! The value types of `wasi:filesystem/types@0.3.0` as Rust types that lift and lower
//! themselves (`descriptor-type`, `descriptor-flags`, `path-flags`, `open-flags`,
//! `descriptor-stat`, `new-timestamp`, `directory-entry`, `error-code`, `advice`,
//! `metadata-hash-value`), and their conversions to and from WASI 0.2's, which the shared
//! filesystem operations (`crate::filesystem`) take and return.
//!
//! The two versions differ in a few places, each converted here and nowhere else: 0.3's
//! `descriptor-type` and `error-code` end with `other(option<string>)` (0.2's `unknown`
//! becomes `other(none)`, and 0.2's `would-block`, which 0.3 dropped, becomes
//! `other(some("would-block"))`); 0.3's timestamps are `wasi:clocks` `instant`s, whose seconds
//! are signed. A `new-timestamp` before 1970 has no 0.2 form: it is `unsupported`.

use crate::bindings::wasi::clocks::wall_clock::Datetime as P2Datetime;
use crate::bindings::wasi::filesystem::types as p2;
use crate::p3::types::Instant;
use weld::component::{ComponentType, Lift, Lower, flags};

/// `descriptor-type`: the type of a filesystem object.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum DescriptorType {
    /// A block device.
    BlockDevice,
    /// A character device.
    CharacterDevice,
    /// A directory.
    Directory,
    /// A named pipe.
    Fifo,
    /// A symbolic link.
    SymbolicLink,
    /// A regular file.
    RegularFile,
    /// A socket.
    Socket,
    /// Anything else, perhaps with a name for it.
    Other(Option<String>),
}

flags! {
    /// `descriptor-flags`: how a descriptor was opened, and what it allows.
    pub DescriptorFlags {
        /// Data can be read.
        const READ;
        /// Data can be written.
        const WRITE;
        /// Writes are synchronized with file integrity (`O_SYNC`).
        const FILE_INTEGRITY_SYNC;
        /// Writes are synchronized with data integrity (`O_DSYNC`).
        const DATA_INTEGRITY_SYNC;
        /// Reads are synchronized as writes are (`O_RSYNC`).
        const REQUESTED_WRITE_SYNC;
        /// A directory's entries may be changed through it.
        const MUTATE_DIRECTORY;
    }

    /// `path-flags`: how a path is resolved.
    pub PathFlags {
        /// A symbolic link in the last component is followed.
        const SYMLINK_FOLLOW;
    }

    /// `open-flags`: what `open-at` does.
    pub OpenFlags {
        /// Create the file if it does not exist.
        const CREATE;
        /// Fail if the object is not a directory.
        const DIRECTORY;
        /// Fail if the file exists.
        const EXCLUSIVE;
        /// Truncate the file to 0 bytes.
        const TRUNCATE;
    }
}

/// `descriptor-stat`: the attributes of a file or directory.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct DescriptorStat {
    /// The object's type.
    pub type_: DescriptorType,
    /// How many hard links it has.
    pub link_count: u64,
    /// Its size in bytes (for a symbolic link, the length of its target).
    pub size: u64,
    /// When its data was last read, if the host keeps that.
    pub data_access_timestamp: Option<Instant>,
    /// When its data was last changed, if the host keeps that.
    pub data_modification_timestamp: Option<Instant>,
    /// When its status last changed, if the host keeps that.
    pub status_change_timestamp: Option<Instant>,
}

/// `new-timestamp`: what `set-times` sets a timestamp to.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum NewTimestamp {
    /// Leave it as it is.
    NoChange,
    /// The filesystem's current time.
    Now,
    /// This time.
    Timestamp(Instant),
}

/// `directory-entry`: one entry of a directory listing.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct DirectoryEntry {
    /// The type of the object the entry names.
    pub type_: DescriptorType,
    /// The entry's name.
    pub name: String,
}

/// `error-code`: why a filesystem operation failed (the POSIX errno each resembles is in
/// the WIT).
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum ErrorCode {
    /// Permission denied (`EACCES`).
    Access,
    /// Connection already in progress (`EALREADY`).
    Already,
    /// Bad descriptor (`EBADF`).
    BadDescriptor,
    /// Device or resource busy (`EBUSY`).
    Busy,
    /// Resource deadlock would occur (`EDEADLK`).
    Deadlock,
    /// Storage quota exceeded (`EDQUOT`).
    Quota,
    /// File exists (`EEXIST`).
    Exist,
    /// File too large (`EFBIG`).
    FileTooLarge,
    /// Illegal byte sequence (`EILSEQ`).
    IllegalByteSequence,
    /// Operation in progress (`EINPROGRESS`).
    InProgress,
    /// Interrupted function (`EINTR`).
    Interrupted,
    /// Invalid argument (`EINVAL`).
    Invalid,
    /// I/O error (`EIO`).
    Io,
    /// Is a directory (`EISDIR`).
    IsDirectory,
    /// Too many levels of symbolic links (`ELOOP`).
    Loop,
    /// Too many links (`EMLINK`).
    TooManyLinks,
    /// Message too large (`EMSGSIZE`).
    MessageSize,
    /// Filename too long (`ENAMETOOLONG`).
    NameTooLong,
    /// No such device (`ENODEV`).
    NoDevice,
    /// No such file or directory (`ENOENT`).
    NoEntry,
    /// No locks available (`ENOLCK`).
    NoLock,
    /// Not enough space (`ENOMEM`).
    InsufficientMemory,
    /// No space left on device (`ENOSPC`).
    InsufficientSpace,
    /// Not a directory (`ENOTDIR`).
    NotDirectory,
    /// Directory not empty (`ENOTEMPTY`).
    NotEmpty,
    /// State not recoverable (`ENOTRECOVERABLE`).
    NotRecoverable,
    /// Not supported (`ENOTSUP`, `ENOSYS`).
    Unsupported,
    /// Inappropriate I/O control operation (`ENOTTY`).
    NoTty,
    /// No such device or address (`ENXIO`).
    NoSuchDevice,
    /// Value too large for its type (`EOVERFLOW`).
    Overflow,
    /// Operation not permitted (`EPERM`).
    NotPermitted,
    /// Broken pipe (`EPIPE`).
    Pipe,
    /// Read-only file system (`EROFS`).
    ReadOnly,
    /// Invalid seek (`ESPIPE`).
    InvalidSeek,
    /// Text file busy (`ETXTBSY`).
    TextFileBusy,
    /// Cross-device link (`EXDEV`).
    CrossDevice,
    /// Anything else, perhaps with a description.
    Other(Option<String>),
}

/// `advice`: how a guest expects to access a file's data.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
#[component(enum)]
pub enum Advice {
    /// No advice.
    Normal,
    /// From lower offsets to higher ones.
    Sequential,
    /// In no particular order.
    Random,
    /// Soon.
    WillNeed,
    /// Not soon.
    DontNeed,
    /// Once, and not again.
    NoReuse,
}

/// `metadata-hash-value`: a 128-bit hash in two halves.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
#[component(record)]
pub struct MetadataHashValue {
    /// The low 64 bits.
    pub lower: u64,
    /// The high 64 bits.
    pub upper: u64,
}

/// The `error-code` cases both versions have, under the same names.
macro_rules! shared_error_codes {
    ($($case:ident)*) => {
        impl From<p2::ErrorCode> for ErrorCode {
            fn from(code: p2::ErrorCode) -> ErrorCode {
                match code {
                    $(p2::ErrorCode::$case => ErrorCode::$case,)*
                    p2::ErrorCode::WouldBlock => ErrorCode::Other(Some("would-block".to_string())),
                }
            }
        }
    };
}

shared_error_codes! {
    Access Already BadDescriptor Busy Deadlock Quota Exist FileTooLarge IllegalByteSequence
    InProgress Interrupted Invalid Io IsDirectory Loop TooManyLinks MessageSize NameTooLong
    NoDevice NoEntry NoLock InsufficientMemory InsufficientSpace NotDirectory NotEmpty
    NotRecoverable Unsupported NoTty NoSuchDevice Overflow NotPermitted Pipe ReadOnly
    InvalidSeek TextFileBusy CrossDevice
}

impl From<p2::DescriptorType> for DescriptorType {
    fn from(ty: p2::DescriptorType) -> DescriptorType {
        match ty {
            p2::DescriptorType::BlockDevice => DescriptorType::BlockDevice,
            p2::DescriptorType::CharacterDevice => DescriptorType::CharacterDevice,
            p2::DescriptorType::Directory => DescriptorType::Directory,
            p2::DescriptorType::Fifo => DescriptorType::Fifo,
            p2::DescriptorType::SymbolicLink => DescriptorType::SymbolicLink,
            p2::DescriptorType::RegularFile => DescriptorType::RegularFile,
            p2::DescriptorType::Socket => DescriptorType::Socket,
            p2::DescriptorType::Unknown => DescriptorType::Other(None),
        }
    }
}

/// A 0.2 datetime as an `instant`; past what a signed second count holds (never, for a
/// time read from the host), as absent.
fn instant(t: P2Datetime) -> Option<Instant> {
    Some(Instant { seconds: i64::try_from(t.seconds).ok()?, nanoseconds: t.nanoseconds })
}

impl From<p2::DescriptorStat> for DescriptorStat {
    fn from(stat: p2::DescriptorStat) -> DescriptorStat {
        DescriptorStat {
            type_: stat.type_.into(),
            link_count: stat.link_count,
            size: stat.size,
            data_access_timestamp: stat.data_access_timestamp.and_then(instant),
            data_modification_timestamp: stat.data_modification_timestamp.and_then(instant),
            status_change_timestamp: stat.status_change_timestamp.and_then(instant),
        }
    }
}

impl From<p2::DirectoryEntry> for DirectoryEntry {
    fn from(entry: p2::DirectoryEntry) -> DirectoryEntry {
        DirectoryEntry { type_: entry.type_.into(), name: entry.name }
    }
}

impl From<p2::MetadataHashValue> for MetadataHashValue {
    fn from(hash: p2::MetadataHashValue) -> MetadataHashValue {
        MetadataHashValue { lower: hash.lower, upper: hash.upper }
    }
}

impl From<Advice> for p2::Advice {
    fn from(advice: Advice) -> p2::Advice {
        match advice {
            Advice::Normal => p2::Advice::Normal,
            Advice::Sequential => p2::Advice::Sequential,
            Advice::Random => p2::Advice::Random,
            Advice::WillNeed => p2::Advice::WillNeed,
            Advice::DontNeed => p2::Advice::DontNeed,
            Advice::NoReuse => p2::Advice::NoReuse,
        }
    }
}

impl TryFrom<NewTimestamp> for p2::NewTimestamp {
    type Error = ErrorCode;

    /// `unsupported` for a time before 1970, which 0.2's unsigned seconds cannot hold.
    fn try_from(t: NewTimestamp) -> Result<p2::NewTimestamp, ErrorCode> {
        Ok(match t {
            NewTimestamp::NoChange => p2::NewTimestamp::NoChange,
            NewTimestamp::Now => p2::NewTimestamp::Now,
            NewTimestamp::Timestamp(t) => {
                let seconds = u64::try_from(t.seconds).map_err(|_| ErrorCode::Unsupported)?;
                p2::NewTimestamp::Timestamp(P2Datetime { seconds, nanoseconds: t.nanoseconds })
            }
        })
    }
}

/// Flags types whose flags have the same names in both versions, converted flag by flag.
macro_rules! same_flags {
    ($($ours:ident <=> $theirs:ident { $($flag:ident)* })*) => {$(
        impl From<$ours> for p2::$theirs {
            fn from(flags: $ours) -> p2::$theirs {
                let mut out = p2::$theirs::empty();
                $(if flags.contains($ours::$flag) { out |= p2::$theirs::$flag; })*
                out
            }
        }

        impl From<p2::$theirs> for $ours {
            fn from(flags: p2::$theirs) -> $ours {
                let mut out = $ours::empty();
                $(if flags.contains(p2::$theirs::$flag) { out |= $ours::$flag; })*
                out
            }
        }
    )*};
}

same_flags! {
    DescriptorFlags <=> DescriptorFlags {
        READ WRITE FILE_INTEGRITY_SYNC DATA_INTEGRITY_SYNC REQUESTED_WRITE_SYNC MUTATE_DIRECTORY
    }
    PathFlags <=> PathFlags { SYMLINK_FOLLOW }
    OpenFlags <=> OpenFlags { CREATE DIRECTORY EXCLUSIVE TRUNCATE }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_0_3_lacks_become_other() {
        assert_eq!(ErrorCode::from(p2::ErrorCode::NoEntry), ErrorCode::NoEntry);
        assert_eq!(ErrorCode::from(p2::ErrorCode::WouldBlock), ErrorCode::Other(Some("would-block".into())));
        assert_eq!(DescriptorType::from(p2::DescriptorType::Unknown), DescriptorType::Other(None));
    }

    #[test]
    fn flags_convert_both_ways() {
        let flags = DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY;
        let theirs = p2::DescriptorFlags::from(flags);
        assert!(theirs.contains(p2::DescriptorFlags::READ | p2::DescriptorFlags::MUTATE_DIRECTORY));
        assert!(!theirs.contains(p2::DescriptorFlags::WRITE));
        assert_eq!(DescriptorFlags::from(theirs), flags);
    }

    #[test]
    fn timestamps_before_1970_are_unsupported() {
        let before = NewTimestamp::Timestamp(Instant { seconds: -1, nanoseconds: 0 });
        assert_eq!(p2::NewTimestamp::try_from(before).err(), Some(ErrorCode::Unsupported));
        let after = NewTimestamp::Timestamp(Instant { seconds: 5, nanoseconds: 7 });
        assert!(matches!(
            p2::NewTimestamp::try_from(after),
            Ok(p2::NewTimestamp::Timestamp(P2Datetime { seconds: 5, nanoseconds: 7 }))
        ));
    }
}
