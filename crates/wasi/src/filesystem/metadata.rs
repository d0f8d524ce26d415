//! Conversions between the host's file metadata and times and their WIT forms:
//! `descriptor-type`, `descriptor-stat`, `metadata-hash-value`, and the guest's
//! `new-timestamp`s for `set-times`.
//!
//! Timestamps the WIT cannot represent (before 1970) are reported as absent rather than
//! failing the whole `stat`. The status-change time is the inode's `ctime`. The metadata
//! hash identifies an object by device and inode, keyed per process so that a guest cannot
//! read host inode numbers back from it.

use crate::bindings::wasi::filesystem::types::{
    Datetime, DescriptorStat, DescriptorType, ErrorCode, MetadataHashValue, NewTimestamp,
};
use crate::clocks::datetime;
use cap_std::fs::{FileType, FileTypeExt, Metadata, MetadataExt};
use fs_set_times::SystemTimeSpec;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// The WIT type of a host file type.
pub(crate) fn descriptor_type(ft: FileType) -> DescriptorType {
    if ft.is_dir() {
        DescriptorType::Directory
    } else if ft.is_symlink() {
        DescriptorType::SymbolicLink
    } else if ft.is_file() {
        DescriptorType::RegularFile
    } else if ft.is_block_device() {
        DescriptorType::BlockDevice
    } else if ft.is_char_device() {
        DescriptorType::CharacterDevice
    } else if ft.is_fifo() {
        DescriptorType::Fifo
    } else if ft.is_socket() {
        DescriptorType::Socket
    } else {
        DescriptorType::Unknown
    }
}

/// `descriptor-stat` of host metadata.
pub(crate) fn descriptor_stat(meta: &Metadata) -> DescriptorStat {
    DescriptorStat {
        type_: descriptor_type(meta.file_type()),
        link_count: meta.nlink(),
        size: meta.len(),
        data_access_timestamp: meta.accessed().ok().and_then(|t| since_epoch(t.into_std())),
        data_modification_timestamp: meta.modified().ok().and_then(|t| since_epoch(t.into_std())),
        status_change_timestamp: status_change(meta),
    }
}

fn since_epoch(t: SystemTime) -> Option<Datetime> {
    t.duration_since(SystemTime::UNIX_EPOCH).ok().map(datetime)
}

fn status_change(meta: &Metadata) -> Option<Datetime> {
    let seconds = u64::try_from(meta.ctime()).ok()?;
    let nanoseconds = u32::try_from(meta.ctime_nsec()).ok().filter(|ns| *ns < 1_000_000_000)?;
    Some(Datetime { seconds, nanoseconds })
}

/// Whether two metadata describe the same object (same device and inode).
pub(crate) fn same_object(a: &Metadata, b: &Metadata) -> bool {
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

/// The hash of the object `meta` describes: two independent keyed hashes of its device and
/// inode. The keys are drawn once per process, so a hash is stable for as long as the host
/// runs and says nothing about the host's inode numbers.
pub(crate) fn metadata_hash(meta: &Metadata) -> MetadataHashValue {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    let keys = KEYS.get_or_init(RandomState::new);
    let identity = (meta.dev(), meta.ino());
    MetadataHashValue { lower: keys.hash_one((identity, 0u8)), upper: keys.hash_one((identity, 1u8)) }
}

/// The time a `new-timestamp` asks for: `None` to leave it, the symbolic "now" (the host
/// kernel's clock at the moment of the change), or an absolute time; `overflow` when it
/// cannot be represented on the host.
pub(crate) fn new_timestamp(t: NewTimestamp) -> Result<Option<SystemTimeSpec>, ErrorCode> {
    match t {
        NewTimestamp::NoChange => Ok(None),
        NewTimestamp::Now => Ok(Some(SystemTimeSpec::SymbolicNow)),
        NewTimestamp::Timestamp(t) => Ok(Some(SystemTimeSpec::Absolute(system_time(t)?))),
    }
}

/// A guest's datetime as a host time (nanoseconds of a second or more carry into the
/// seconds); `overflow` past what the host's file times hold.
fn system_time(t: Datetime) -> Result<SystemTime, ErrorCode> {
    const NANOS_PER_SEC: u32 = 1_000_000_000;
    let seconds = t.seconds.checked_add(u64::from(t.nanoseconds / NANOS_PER_SEC)).ok_or(ErrorCode::Overflow)?;
    if i64::try_from(seconds).is_err() {
        return Err(ErrorCode::Overflow);
    }
    let since_epoch = Duration::new(seconds, t.nanoseconds % NANOS_PER_SEC);
    SystemTime::UNIX_EPOCH.checked_add(since_epoch).ok_or(ErrorCode::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_convert_without_panicking() {
        let t = |seconds, nanoseconds| system_time(Datetime { seconds, nanoseconds });
        assert_eq!(t(1, 5).unwrap(), SystemTime::UNIX_EPOCH + Duration::new(1, 5));
        assert_eq!(t(1, 2_500_000_000).unwrap(), SystemTime::UNIX_EPOCH + Duration::new(3, 500_000_000));
        assert_eq!(t(u64::MAX, u32::MAX), Err(ErrorCode::Overflow));
        assert_eq!(t(u64::MAX, 0), Err(ErrorCode::Overflow));
        assert_eq!(t(i64::MAX as u64 + 1, 0), Err(ErrorCode::Overflow));
    }

    #[test]
    fn new_timestamps_map_to_specs() {
        assert!(new_timestamp(NewTimestamp::NoChange).unwrap().is_none());
        assert!(matches!(new_timestamp(NewTimestamp::Now), Ok(Some(SystemTimeSpec::SymbolicNow))));
        let at = Datetime { seconds: 10, nanoseconds: 0 };
        assert!(matches!(new_timestamp(NewTimestamp::Timestamp(at)), Ok(Some(SystemTimeSpec::Absolute(_)))));
    }
}
