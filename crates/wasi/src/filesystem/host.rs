//! The generated `wasi:filesystem` traits (`types` and `preopens`) on a [`WasiCtxView`]:
//! each host function looks its handles up in the resource table, calls the operation of
//! the module that owns it, and returns the result as the bindings want it.
//!
//! Nothing here decides behaviour: a handle that is not in the table is a trap, a
//! descriptor of the wrong kind is the `error-code` of [`Descriptor::file`] or
//! [`Descriptor::dir`], and everything else is the operation's own result.

use super::errors::{FsResult, error_code, to_guest};
use super::streams::{FileInputStream, FileOutputStream};
use super::{Descriptor, Dir, File, ReaddirIterator};
use crate::bindings::wasi::filesystem::preopens;
use crate::bindings::wasi::filesystem::types::{
    self, Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode, Filesize,
    MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};
use crate::io_host::IoError;
use crate::streams::{DynInputStream, DynOutputStream};
use crate::view::WasiCtxView;
use weld::component::Resource;

/// What a host function returns.
type Guest<T> = weld::Result<Result<T, ErrorCode>>;

/// The lookups every host function starts with, shared with WASI 0.3 (`crate::p3`): a handle
/// the table does not know is a trap, a descriptor of the wrong kind an `error-code`.
impl WasiCtxView<'_> {
    /// The descriptor behind `fd`.
    pub(crate) fn descriptor(&self, fd: &Resource<Descriptor>) -> FsResult<&Descriptor> {
        Ok(self.table.get(fd)?)
    }

    /// The file behind `fd` (a cheap clone), so that the table is free again.
    pub(crate) fn file(&self, fd: &Resource<Descriptor>) -> FsResult<File> {
        Ok(self.descriptor(fd)?.file()?.clone())
    }

    /// The directory behind `fd` (a cheap clone).
    pub(crate) fn dir(&self, fd: &Resource<Descriptor>) -> FsResult<Dir> {
        Ok(self.descriptor(fd)?.dir()?.clone())
    }
}

impl types::HostDescriptor for WasiCtxView<'_> {
    fn read_via_stream(&mut self, fd: Resource<Descriptor>, offset: Filesize) -> Guest<Resource<DynInputStream>> {
        let stream = match self.descriptor(&fd) {
            Ok(Descriptor::File(f)) => Ok(FileInputStream::new(f.file.clone(), offset)),
            Ok(Descriptor::Dir(_)) => Err(ErrorCode::IsDirectory.into()),
            Err(e) => Err(e),
        };
        let pushed = stream.and_then(|stream| {
            let stream: DynInputStream = Box::new(stream);
            Ok(self.table.push(stream)?)
        });
        to_guest(pushed)
    }

    fn write_via_stream(&mut self, fd: Resource<Descriptor>, offset: Filesize) -> Guest<Resource<DynOutputStream>> {
        let pushed = self.file(&fd).and_then(|f| {
            f.perms.require_write()?;
            let stream: DynOutputStream = Box::new(FileOutputStream::at(f.file, offset));
            Ok(self.table.push(stream)?)
        });
        to_guest(pushed)
    }

    fn append_via_stream(&mut self, fd: Resource<Descriptor>) -> Guest<Resource<DynOutputStream>> {
        let pushed = self.file(&fd).and_then(|f| {
            f.perms.require_write()?;
            let stream: DynOutputStream = Box::new(FileOutputStream::append(f.file));
            Ok(self.table.push(stream)?)
        });
        to_guest(pushed)
    }

    fn advise(&mut self, fd: Resource<Descriptor>, offset: Filesize, length: Filesize, advice: Advice) -> Guest<()> {
        to_guest(self.file(&fd).and_then(|f| f.advise(offset, length, advice)))
    }

    fn sync_data(&mut self, fd: Resource<Descriptor>) -> Guest<()> {
        to_guest(self.descriptor(&fd).and_then(Descriptor::sync_data))
    }

    fn get_flags(&mut self, fd: Resource<Descriptor>) -> Guest<DescriptorFlags> {
        to_guest(self.descriptor(&fd).map(Descriptor::get_flags))
    }

    fn get_type(&mut self, fd: Resource<Descriptor>) -> Guest<DescriptorType> {
        to_guest(self.descriptor(&fd).and_then(Descriptor::get_type))
    }

    fn set_size(&mut self, fd: Resource<Descriptor>, size: Filesize) -> Guest<()> {
        to_guest(self.file(&fd).and_then(|f| f.set_size(size)))
    }

    fn set_times(&mut self, fd: Resource<Descriptor>, atime: NewTimestamp, mtime: NewTimestamp) -> Guest<()> {
        to_guest(self.descriptor(&fd).and_then(|d| d.set_times(atime, mtime)))
    }

    fn read(&mut self, fd: Resource<Descriptor>, length: Filesize, offset: Filesize) -> Guest<(Vec<u8>, bool)> {
        to_guest(self.file(&fd).and_then(|f| f.read(length, offset)))
    }

    fn write(&mut self, fd: Resource<Descriptor>, buffer: Vec<u8>, offset: Filesize) -> Guest<Filesize> {
        to_guest(self.file(&fd).and_then(|f| f.write(&buffer, offset)))
    }

    fn read_directory(&mut self, fd: Resource<Descriptor>) -> Guest<Resource<ReaddirIterator>> {
        let pushed = self.dir(&fd).and_then(|d| {
            let entries = d.read_directory()?;
            Ok(self.table.push(entries)?)
        });
        to_guest(pushed)
    }

    fn sync(&mut self, fd: Resource<Descriptor>) -> Guest<()> {
        to_guest(self.descriptor(&fd).and_then(Descriptor::sync))
    }

    fn create_directory_at(&mut self, fd: Resource<Descriptor>, path: String) -> Guest<()> {
        to_guest(self.dir(&fd).and_then(|d| d.create_directory_at(&path)))
    }

    fn stat(&mut self, fd: Resource<Descriptor>) -> Guest<DescriptorStat> {
        to_guest(self.descriptor(&fd).and_then(Descriptor::stat))
    }

    fn stat_at(&mut self, fd: Resource<Descriptor>, path_flags: PathFlags, path: String) -> Guest<DescriptorStat> {
        to_guest(self.dir(&fd).and_then(|d| d.stat_at(path_flags, &path)))
    }

    fn set_times_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: PathFlags,
        path: String,
        atime: NewTimestamp,
        mtime: NewTimestamp,
    ) -> Guest<()> {
        to_guest(self.dir(&fd).and_then(|d| d.set_times_at(path_flags, &path, atime, mtime)))
    }

    fn link_at(
        &mut self,
        fd: Resource<Descriptor>,
        old_path_flags: PathFlags,
        old_path: String,
        new_descriptor: Resource<Descriptor>,
        new_path: String,
    ) -> Guest<()> {
        let linked = self.dir(&fd).and_then(|old| {
            let new = self.dir(&new_descriptor)?;
            old.link_at(old_path_flags, &old_path, &new, &new_path)
        });
        to_guest(linked)
    }

    fn open_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: PathFlags,
        path: String,
        open_flags: OpenFlags,
        flags: DescriptorFlags,
    ) -> Guest<Resource<Descriptor>> {
        let opened = self.dir(&fd).and_then(|d| {
            let descriptor = d.open_at(path_flags, &path, open_flags, flags)?;
            Ok(self.table.push(descriptor)?)
        });
        to_guest(opened)
    }

    fn readlink_at(&mut self, fd: Resource<Descriptor>, path: String) -> Guest<String> {
        to_guest(self.dir(&fd).and_then(|d| d.readlink_at(&path)))
    }

    fn remove_directory_at(&mut self, fd: Resource<Descriptor>, path: String) -> Guest<()> {
        to_guest(self.dir(&fd).and_then(|d| d.remove_directory_at(&path)))
    }

    fn rename_at(
        &mut self,
        fd: Resource<Descriptor>,
        old_path: String,
        new_descriptor: Resource<Descriptor>,
        new_path: String,
    ) -> Guest<()> {
        let renamed = self.dir(&fd).and_then(|old| {
            let new = self.dir(&new_descriptor)?;
            old.rename_at(&old_path, &new, &new_path)
        });
        to_guest(renamed)
    }

    fn symlink_at(&mut self, fd: Resource<Descriptor>, old_path: String, new_path: String) -> Guest<()> {
        to_guest(self.dir(&fd).and_then(|d| d.symlink_at(&old_path, &new_path)))
    }

    fn unlink_file_at(&mut self, fd: Resource<Descriptor>, path: String) -> Guest<()> {
        to_guest(self.dir(&fd).and_then(|d| d.unlink_file_at(&path)))
    }

    fn is_same_object(&mut self, fd: Resource<Descriptor>, other: Resource<Descriptor>) -> weld::Result<bool> {
        let a = self.table.get(&fd)?;
        let b = self.table.get(&other)?;
        Ok(a.is_same_object(b))
    }

    fn metadata_hash(&mut self, fd: Resource<Descriptor>) -> Guest<MetadataHashValue> {
        to_guest(self.descriptor(&fd).and_then(Descriptor::metadata_hash))
    }

    fn metadata_hash_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: PathFlags,
        path: String,
    ) -> Guest<MetadataHashValue> {
        to_guest(self.dir(&fd).and_then(|d| d.metadata_hash_at(path_flags, &path)))
    }

    fn drop(&mut self, fd: Resource<Descriptor>) -> weld::Result<()> {
        self.table.delete(fd)?;
        Ok(())
    }
}

impl types::HostDirectoryEntryStream for WasiCtxView<'_> {
    fn read_directory_entry(&mut self, stream: Resource<ReaddirIterator>) -> Guest<Option<DirectoryEntry>> {
        let next = match self.table.get_mut(&stream) {
            Ok(entries) => entries.next_entry(),
            Err(e) => Err(e.into()),
        };
        to_guest(next)
    }

    fn drop(&mut self, stream: Resource<ReaddirIterator>) -> weld::Result<()> {
        self.table.delete(stream)?;
        Ok(())
    }
}

impl types::Host for WasiCtxView<'_> {
    /// The `error-code` of a stream's `error`, when the error came from the host's I/O.
    fn filesystem_error_code(&mut self, err: Resource<IoError>) -> weld::Result<Option<ErrorCode>> {
        let err = self.table.get(&err)?;
        Ok(err.downcast_ref::<std::io::Error>().map(error_code))
    }
}

impl preopens::Host for WasiCtxView<'_> {
    /// A new descriptor for each preopened directory, in the order they were added.
    fn get_directories(&mut self) -> weld::Result<Vec<(Resource<Descriptor>, String)>> {
        let mut directories = Vec::with_capacity(self.ctx.filesystem.preopens.len());
        for (dir, guest_path) in &self.ctx.filesystem.preopens {
            let fd = self.table.push(Descriptor::Dir(dir.clone()))?;
            directories.push((fd, guest_path.clone()));
        }
        Ok(directories)
    }
}
