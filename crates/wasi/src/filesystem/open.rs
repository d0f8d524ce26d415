//! `open-at`: the rules that turn a guest's flags into an open request ([`plan`], decided
//! before any system call, so that it can be tested on its own), and the open itself,
//! through cap-std beneath the directory.
//!
//! The rules follow Wasmtime's: `create` and `truncate` imply writing; `directory` with
//! `create`, `exclusive` or `truncate` is `invalid`; the `*-sync` flags are `unsupported`
//! (cap-std cannot ask for them); a descriptor not opened for writing is opened for reading;
//! on a read-only tree anything that would write is `not-permitted`; the last path
//! component is followed only with `symlink-follow`. The host reports the rest: a
//! directory opened for writing is `is-directory`, a missing file without `create` is
//! `no-entry`. One addition: a directory opened with `mutate-directory` on a writable tree
//! reports that flag in `get-flags` (Wasmtime ignores the flag).

use super::errors::FsResult;
use super::{Descriptor, Dir, File, FsPerms, OpenMode};
use crate::bindings::wasi::filesystem::types::{DescriptorFlags, ErrorCode, OpenFlags, PathFlags};
use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use std::sync::Arc;

/// What `open-at` asks the host for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct OpenPlan {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Create the file if it does not exist.
    pub create: bool,
    /// Create the file, failing if it exists.
    pub create_new: bool,
    /// Truncate the file to 0 bytes.
    pub truncate: bool,
    /// Follow a symlink in the last component.
    pub follow: bool,
    /// The result must be a directory.
    pub directory: bool,
    /// If the result is a directory, its entries may be changed through it.
    pub mutate_directory: bool,
}

/// Decides what to ask the host for, or why not to ask at all.
pub(crate) fn plan(
    perms: FsPerms,
    path_flags: PathFlags,
    oflags: OpenFlags,
    flags: DescriptorFlags,
) -> Result<OpenPlan, ErrorCode> {
    let sync_flags = DescriptorFlags::FILE_INTEGRITY_SYNC
        | DescriptorFlags::DATA_INTEGRITY_SYNC
        | DescriptorFlags::REQUESTED_WRITE_SYNC;
    if !(flags & sync_flags).is_empty() {
        return Err(ErrorCode::Unsupported);
    }
    let create = oflags.contains(OpenFlags::CREATE);
    let exclusive = oflags.contains(OpenFlags::EXCLUSIVE);
    let truncate = oflags.contains(OpenFlags::TRUNCATE);
    let directory = oflags.contains(OpenFlags::DIRECTORY);
    if directory && (create || exclusive || truncate) {
        return Err(ErrorCode::Invalid);
    }
    let write = flags.contains(DescriptorFlags::WRITE) || create || truncate;
    if write && perms.write_not_permitted() {
        return Err(ErrorCode::NotPermitted);
    }
    Ok(OpenPlan {
        read: flags.contains(DescriptorFlags::READ) || !flags.contains(DescriptorFlags::WRITE),
        write,
        create: create && !exclusive,
        create_new: create && exclusive,
        truncate,
        follow: path_flags.contains(PathFlags::SYMLINK_FOLLOW),
        directory,
        mutate_directory: flags.contains(DescriptorFlags::MUTATE_DIRECTORY) && !perms.write_not_permitted(),
    })
}

impl Dir {
    /// `open-at`: opens `path` beneath this directory as [`plan`] decides; the new
    /// descriptor inherits this one's permissions.
    pub(crate) fn open_at(
        &self,
        path_flags: PathFlags,
        path: &str,
        oflags: OpenFlags,
        flags: DescriptorFlags,
    ) -> FsResult<Descriptor> {
        let plan = plan(self.perms, path_flags, oflags, flags)?;
        let mut options = cap_std::fs::OpenOptions::new();
        options
            .read(plan.read)
            .write(plan.write)
            .create(plan.create)
            .create_new(plan.create_new)
            .truncate(plan.truncate)
            .follow(if plan.follow { FollowSymlinks::Yes } else { FollowSymlinks::No });
        let file = self.dir.open_with(path, &options)?;
        if file.metadata()?.is_dir() {
            let dir = cap_std::fs::Dir::from_std_file(file.into_std());
            let open_mode = OpenMode { read: true, write: plan.mutate_directory };
            return Ok(Descriptor::Dir(Dir { dir: Arc::new(dir), perms: self.perms, open_mode }));
        }
        if plan.directory {
            return Err(ErrorCode::NotDirectory.into());
        }
        let open_mode = OpenMode { read: plan.read, write: plan.write };
        Ok(Descriptor::File(File { file: Arc::new(file), perms: self.perms, open_mode }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RW: FsPerms = FsPerms::ReadWrite;
    const RO: FsPerms = FsPerms::ReadOnly;

    fn p(perms: FsPerms, oflags: OpenFlags, flags: DescriptorFlags) -> Result<OpenPlan, ErrorCode> {
        plan(perms, PathFlags::empty(), oflags, flags)
    }

    #[test]
    fn create_and_truncate_imply_write() {
        let created = p(RW, OpenFlags::CREATE, DescriptorFlags::empty()).unwrap();
        assert!(created.write && created.create && !created.create_new);
        let truncated = p(RW, OpenFlags::TRUNCATE, DescriptorFlags::READ).unwrap();
        assert!(truncated.write && truncated.read && truncated.truncate);
        let exclusive = p(RW, OpenFlags::CREATE | OpenFlags::EXCLUSIVE, DescriptorFlags::WRITE).unwrap();
        assert!(exclusive.create_new && !exclusive.create && !exclusive.read);
    }

    #[test]
    fn a_descriptor_not_opened_for_writing_is_opened_for_reading() {
        let plan = p(RW, OpenFlags::empty(), DescriptorFlags::empty()).unwrap();
        assert_eq!(plan, OpenPlan { read: true, ..OpenPlan::default() });
    }

    #[test]
    fn directory_with_create_exclusive_or_truncate_is_invalid() {
        for extra in [OpenFlags::CREATE, OpenFlags::EXCLUSIVE, OpenFlags::TRUNCATE] {
            assert_eq!(p(RW, OpenFlags::DIRECTORY | extra, DescriptorFlags::READ), Err(ErrorCode::Invalid));
        }
        assert!(p(RW, OpenFlags::DIRECTORY, DescriptorFlags::READ).unwrap().directory);
    }

    #[test]
    fn sync_flags_are_unsupported() {
        for flag in [
            DescriptorFlags::FILE_INTEGRITY_SYNC,
            DescriptorFlags::DATA_INTEGRITY_SYNC,
            DescriptorFlags::REQUESTED_WRITE_SYNC,
        ] {
            assert_eq!(p(RW, OpenFlags::empty(), DescriptorFlags::READ | flag), Err(ErrorCode::Unsupported));
        }
    }

    #[test]
    fn a_read_only_tree_refuses_anything_that_writes() {
        assert_eq!(p(RO, OpenFlags::CREATE, DescriptorFlags::READ), Err(ErrorCode::NotPermitted));
        assert_eq!(p(RO, OpenFlags::TRUNCATE, DescriptorFlags::READ), Err(ErrorCode::NotPermitted));
        assert_eq!(p(RO, OpenFlags::empty(), DescriptorFlags::WRITE), Err(ErrorCode::NotPermitted));
        assert!(p(RO, OpenFlags::empty(), DescriptorFlags::READ).is_ok());
        let dir = p(RO, OpenFlags::DIRECTORY, DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY).unwrap();
        assert!(!dir.mutate_directory);
    }

    #[test]
    fn symlinks_are_followed_only_when_asked() {
        assert!(!p(RW, OpenFlags::empty(), DescriptorFlags::READ).unwrap().follow);
        let followed = plan(RW, PathFlags::SYMLINK_FOLLOW, OpenFlags::empty(), DescriptorFlags::READ).unwrap();
        assert!(followed.follow);
    }
}
