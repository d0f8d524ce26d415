//! `read-directory` and the `directory-entry-stream` it returns: the entries of a directory,
//! one at a time, without `.` and `..`.
//!
//! The listing is read lazily from its own open handle of the directory (cap-std reopens
//! it), so that a large directory costs no memory up front and several listings of one
//! directory do not disturb each other. An entry's type is that of the entry itself (a
//! symlink is a `symbolic-link`, not what it points to). A name that is not UTF-8 cannot
//! cross the WIT boundary: its entry is reported as `illegal-byte-sequence` and the listing
//! goes on with the next one.

use super::errors::FsResult;
use super::metadata::descriptor_type;
use super::{Dir, ReaddirIterator};
use crate::bindings::wasi::filesystem::types::{DirectoryEntry, ErrorCode};

impl Dir {
    /// `read-directory`: a listing from the start of this directory.
    pub(crate) fn read_directory(&self) -> FsResult<ReaddirIterator> {
        Ok(ReaddirIterator { entries: Some(self.dir.entries()?) })
    }
}

impl ReaddirIterator {
    /// The next entry, `None` at the end (and after it, for good).
    pub(crate) fn next_entry(&mut self) -> FsResult<Option<DirectoryEntry>> {
        loop {
            let Some(entries) = &mut self.entries else { return Ok(None) };
            let entry = match entries.next() {
                None => {
                    self.entries = None;
                    return Ok(None);
                }
                Some(entry) => entry?,
            };
            let name = match entry.file_name().into_string() {
                Ok(name) => name,
                Err(_) => return Err(ErrorCode::IllegalByteSequence.into()),
            };
            if name == "." || name == ".." {
                continue;
            }
            let type_ = descriptor_type(entry.file_type()?);
            return Ok(Some(DirectoryEntry { type_, name }));
        }
    }
}
