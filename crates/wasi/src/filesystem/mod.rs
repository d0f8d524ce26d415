//! `wasi:filesystem`: descriptors over host files and directories, confined to the
//! preopened directories, with the permissions they were opened with.
//!
//! Every path a guest gives is resolved by cap-std beneath a directory descriptor, so `..`,
//! absolute paths and symlinks that lead out of a preopen are refused (on Linux with
//! `openat2(RESOLVE_BENEATH)`), never followed.

use std::sync::Arc;

/// What a preopened directory lets a guest do beneath it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FsPerms {
    /// Read files and list directories only.
    ReadOnly,
    /// Also create, write, rename and delete.
    ReadWrite,
}

impl FsPerms {
    /// Whether writes of any kind are refused.
    pub fn write_not_permitted(&self) -> bool {
        *self == FsPerms::ReadOnly
    }
}

/// How a descriptor was opened: for reading, writing or both.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OpenMode {
    /// Opened for reading.
    pub read: bool,
    /// Opened for writing.
    pub write: bool,
}

/// An open directory and what it allows.
#[derive(Clone)]
pub struct Dir {
    /// The directory, through which every path beneath it is resolved.
    pub dir: Arc<cap_std::fs::Dir>,
    /// What the preopen it comes from allows.
    pub perms: FsPerms,
    /// How this descriptor was opened.
    pub open_mode: OpenMode,
}

/// An open file and what it allows.
#[derive(Clone)]
pub struct File {
    /// The file.
    pub file: Arc<cap_std::fs::File>,
    /// What the preopen it comes from allows.
    pub perms: FsPerms,
    /// How this descriptor was opened.
    pub open_mode: OpenMode,
}

/// The value behind a `descriptor` handle.
pub enum Descriptor {
    /// A regular file (or anything else that is not a directory).
    File(File),
    /// A directory.
    Dir(Dir),
}

/// The value behind a `directory-entry-stream` handle.
pub struct ReaddirIterator {
    _todo: (),
}

/// The preopened directories of a context, each with its guest path.
#[derive(Default, Clone)]
pub(crate) struct FilesystemCtx {
    pub preopens: Vec<(Dir, String)>,
}
