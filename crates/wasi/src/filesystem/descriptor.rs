//! What a guest can do with an open descriptor itself, as opposed to paths beneath it: the
//! operations valid on both files and directories (`stat`, `get-type`, `get-flags`,
//! `set-times`, `sync`, `sync-data`, `is-same-object`, `metadata-hash`) and those valid on
//! files only (`read`, `write`, `set-size`, `advise`).
//!
//! Mutating operations check the descriptor's [`FsPerms`](super::FsPerms) before any system
//! call. Whether the descriptor was opened for reading or writing is left to the host to
//! enforce: a file opened read-only is an `O_RDONLY` descriptor, and writing through it
//! fails there (`bad-descriptor`), as in Wasmtime.

use super::errors::FsResult;
use super::metadata::{descriptor_stat, descriptor_type, metadata_hash, new_timestamp, same_object};
use super::{Descriptor, File, fileio};
use crate::bindings::wasi::filesystem::types::{
    Advice, DescriptorFlags, DescriptorStat, DescriptorType, MetadataHashValue, NewTimestamp,
};
use cap_fs_ext::DirExt;
use cap_std::fs::Metadata;
use fs_set_times::SetTimes;
use std::io;

impl Descriptor {
    /// The metadata of the open object (never of a symlink: descriptors are never opened on
    /// one).
    fn metadata(&self) -> io::Result<Metadata> {
        match self {
            Descriptor::File(f) => f.file.metadata(),
            Descriptor::Dir(d) => d.dir.dir_metadata(),
        }
    }

    /// `stat`.
    pub(crate) fn stat(&self) -> FsResult<DescriptorStat> {
        Ok(descriptor_stat(&self.metadata()?))
    }

    /// `get-type`.
    pub(crate) fn get_type(&self) -> FsResult<DescriptorType> {
        match self {
            Descriptor::File(f) => Ok(descriptor_type(f.file.metadata()?.file_type())),
            Descriptor::Dir(_) => Ok(DescriptorType::Directory),
        }
    }

    /// `get-flags`: a file reports how it was opened (`read`, `write`); a directory reports
    /// `read`, and `mutate-directory` when its entries may be changed through it.
    pub(crate) fn get_flags(&self) -> DescriptorFlags {
        let (mode, write_flag) = match self {
            Descriptor::File(f) => (f.open_mode, DescriptorFlags::WRITE),
            Descriptor::Dir(d) => (d.open_mode, DescriptorFlags::MUTATE_DIRECTORY),
        };
        let mut flags = DescriptorFlags::empty();
        if mode.read {
            flags |= DescriptorFlags::READ;
        }
        if mode.write {
            flags |= write_flag;
        }
        flags
    }

    /// `set-times`: refused on a read-only tree.
    pub(crate) fn set_times(&self, atime: NewTimestamp, mtime: NewTimestamp) -> FsResult<()> {
        match self {
            Descriptor::File(f) => f.perms.require_write()?,
            Descriptor::Dir(d) => d.perms.require_write()?,
        }
        let (atime, mtime) = (new_timestamp(atime)?, new_timestamp(mtime)?);
        match self {
            Descriptor::File(f) => SetTimes::set_times(&*f.file, atime, mtime)?,
            // A directory handle may be a path-only descriptor (cap-std opens them with
            // `O_PATH` on Linux), on which `futimens` fails: set the times through its path
            // `.` instead.
            Descriptor::Dir(d) => {
                let spec = |t: Option<fs_set_times::SystemTimeSpec>| t.map(cap_fs_ext::SystemTimeSpec::from_std);
                DirExt::set_times(&*d.dir, ".", spec(atime), spec(mtime))?
            }
        }
        Ok(())
    }

    /// `sync`: data and metadata to the disk.
    pub(crate) fn sync(&self) -> FsResult<()> {
        match self {
            Descriptor::File(f) => f.file.sync_all()?,
            Descriptor::Dir(d) => d.dir.open(".")?.sync_all()?,
        }
        Ok(())
    }

    /// `sync-data`: data (and the metadata needed to read it back) to the disk. A
    /// directory is synced through a readable handle of its own, as its descriptor may be
    /// path-only.
    pub(crate) fn sync_data(&self) -> FsResult<()> {
        match self {
            Descriptor::File(f) => f.file.sync_data()?,
            Descriptor::Dir(d) => d.dir.open(".")?.sync_data()?,
        }
        Ok(())
    }

    /// `is-same-object`: the same device and inode. Two descriptors whose metadata cannot
    /// be read are not known to be the same, so they are reported different rather than
    /// trapping (the WIT gives this function no error).
    pub(crate) fn is_same_object(&self, other: &Descriptor) -> bool {
        match (self.metadata(), other.metadata()) {
            (Ok(a), Ok(b)) => same_object(&a, &b),
            _ => false,
        }
    }

    /// `metadata-hash`.
    pub(crate) fn metadata_hash(&self) -> FsResult<MetadataHashValue> {
        Ok(metadata_hash(&self.metadata()?))
    }
}

impl File {
    /// `read`: up to `len` bytes from `offset` (at most 64 KiB, whatever `len` is), and
    /// whether the end of the file was reached, which is reported once a read finds no
    /// bytes, as Wasmtime does. A read of 0 bytes reports whether `offset` is at or past the
    /// end.
    pub(crate) fn read(&self, len: u64, offset: u64) -> FsResult<(Vec<u8>, bool)> {
        if len == 0 {
            let size = self.file.metadata()?.len();
            return Ok((Vec::new(), offset >= size));
        }
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let bytes = fileio::read_at(&self.file, len, offset)?;
        let eof = bytes.is_empty();
        Ok((bytes, eof))
    }

    /// `write`: all of `bytes` at `offset` (extending the file as needed); how many were
    /// written. Refused on a read-only tree.
    pub(crate) fn write(&self, bytes: &[u8], offset: u64) -> FsResult<u64> {
        self.perms.require_write()?;
        Ok(fileio::write_at(&self.file, bytes, offset)? as u64)
    }

    /// `set-size`: truncates or extends with zeros. Refused on a read-only tree.
    pub(crate) fn set_size(&self, size: u64) -> FsResult<()> {
        self.perms.require_write()?;
        self.file.set_len(size)?;
        Ok(())
    }

    /// `advise`: passed to `posix_fadvise` on Linux, ignored elsewhere (it is only advice).
    pub(crate) fn advise(&self, offset: u64, len: u64, advice: Advice) -> FsResult<()> {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::Advice as Host;
            let advice = match advice {
                Advice::Normal => Host::Normal,
                Advice::Sequential => Host::Sequential,
                Advice::Random => Host::Random,
                Advice::WillNeed => Host::WillNeed,
                Advice::DontNeed => Host::DontNeed,
                Advice::NoReuse => Host::NoReuse,
            };
            rustix::fs::fadvise(&*self.file, offset, std::num::NonZeroU64::new(len), advice)
                .map_err(io::Error::from)?;
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (offset, len, advice);
        Ok(())
    }
}
