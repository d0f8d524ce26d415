//! The path operations of a directory descriptor other than `open-at`: `stat-at`,
//! `metadata-hash-at`, `set-times-at`, `create-directory-at`, `remove-directory-at`,
//! `unlink-file-at`, `symlink-at`, `readlink-at`, `link-at` and `rename-at`.
//!
//! Each resolves its paths through cap-std beneath the directory (and, for `link-at` and
//! `rename-at`, beneath the other directory for the new path), so none can reach outside a
//! preopen. Each mutating one checks the tree's permissions first, on both sides when two
//! directories are involved. Symlinks are kept inside too: a guest may not create one with
//! an absolute target, nor read one back (`not-permitted` in both cases, as cap-std
//! refuses them); one whose relative target climbs out can be made but never followed.

use super::Dir;
use super::errors::FsResult;
use super::metadata::{descriptor_stat, metadata_hash, new_timestamp};
use crate::bindings::wasi::filesystem::types::{DescriptorStat, ErrorCode, MetadataHashValue, NewTimestamp, PathFlags};
use cap_fs_ext::{DirExt, SystemTimeSpec};
use cap_std::fs::Metadata;
use std::path::Path;

impl Dir {
    /// The metadata of `path`, of the symlink itself unless `symlink-follow` is set.
    fn metadata_at(&self, path_flags: PathFlags, path: &str) -> FsResult<Metadata> {
        let meta = if path_flags.contains(PathFlags::SYMLINK_FOLLOW) {
            self.dir.metadata(path)?
        } else {
            self.dir.symlink_metadata(path)?
        };
        Ok(meta)
    }

    /// `stat-at`.
    pub(crate) fn stat_at(&self, path_flags: PathFlags, path: &str) -> FsResult<DescriptorStat> {
        Ok(descriptor_stat(&self.metadata_at(path_flags, path)?))
    }

    /// `metadata-hash-at`.
    pub(crate) fn metadata_hash_at(&self, path_flags: PathFlags, path: &str) -> FsResult<MetadataHashValue> {
        Ok(metadata_hash(&self.metadata_at(path_flags, path)?))
    }

    /// `set-times-at`: of the symlink itself unless `symlink-follow` is set.
    pub(crate) fn set_times_at(
        &self,
        path_flags: PathFlags,
        path: &str,
        atime: NewTimestamp,
        mtime: NewTimestamp,
    ) -> FsResult<()> {
        self.perms.require_write()?;
        let atime = new_timestamp(atime)?.map(SystemTimeSpec::from_std);
        let mtime = new_timestamp(mtime)?.map(SystemTimeSpec::from_std);
        if path_flags.contains(PathFlags::SYMLINK_FOLLOW) {
            DirExt::set_times(&*self.dir, path, atime, mtime)?;
        } else {
            DirExt::set_symlink_times(&*self.dir, path, atime, mtime)?;
        }
        Ok(())
    }

    /// `create-directory-at`.
    pub(crate) fn create_directory_at(&self, path: &str) -> FsResult<()> {
        self.perms.require_write()?;
        self.dir.create_dir(path)?;
        Ok(())
    }

    /// `remove-directory-at`: an empty directory only.
    pub(crate) fn remove_directory_at(&self, path: &str) -> FsResult<()> {
        self.perms.require_write()?;
        self.dir.remove_dir(path)?;
        Ok(())
    }

    /// `unlink-file-at`: a file or a symlink (never what the symlink points to).
    pub(crate) fn unlink_file_at(&self, path: &str) -> FsResult<()> {
        self.perms.require_write()?;
        DirExt::remove_file_or_symlink(&*self.dir, path)?;
        Ok(())
    }

    /// `symlink-at`: a symlink at `link` whose target is `target`. An absolute target is
    /// refused here, whatever cap-std would do: no guest-made link may name a host path.
    pub(crate) fn symlink_at(&self, target: &str, link: &str) -> FsResult<()> {
        self.perms.require_write()?;
        if Path::new(target).has_root() {
            return Err(ErrorCode::NotPermitted.into());
        }
        self.dir.symlink(target, link)?;
        Ok(())
    }

    /// `readlink-at`: the target of the symlink at `path`; `not-permitted` for an absolute
    /// one (it would tell the guest about host paths), `illegal-byte-sequence` for one that
    /// is not UTF-8.
    pub(crate) fn readlink_at(&self, path: &str) -> FsResult<String> {
        let target = self.dir.read_link(path)?;
        if target.has_root() {
            return Err(ErrorCode::NotPermitted.into());
        }
        target.into_os_string().into_string().map_err(|_| ErrorCode::IllegalByteSequence.into())
    }

    /// `link-at`: a hard link at `new_path` beneath `new_dir` to the object at `old_path`.
    /// Both trees must be writable, and following a symlink for the old path is not
    /// supported (`invalid`), as in Wasmtime.
    pub(crate) fn link_at(&self, old_flags: PathFlags, old_path: &str, new_dir: &Dir, new_path: &str) -> FsResult<()> {
        self.perms.require_write()?;
        new_dir.perms.require_write()?;
        if old_flags.contains(PathFlags::SYMLINK_FOLLOW) {
            return Err(ErrorCode::Invalid.into());
        }
        self.dir.hard_link(old_path, &new_dir.dir, new_path)?;
        Ok(())
    }

    /// `rename-at`: moves `old_path` to `new_path` beneath `new_dir`. Both trees must be
    /// writable.
    pub(crate) fn rename_at(&self, old_path: &str, new_dir: &Dir, new_path: &str) -> FsResult<()> {
        self.perms.require_write()?;
        new_dir.perms.require_write()?;
        self.dir.rename(old_path, &new_dir.dir, new_path)?;
        Ok(())
    }
}
