//! `wasi:filesystem`: descriptors over host files and directories, confined to the
//! preopened directories, with the permissions they were opened with.
//!
//! Every path a guest gives is resolved by cap-std beneath a directory descriptor, so `..`,
//! absolute paths and symlinks that lead out of a preopen are refused (on Linux with
//! `openat2(RESOLVE_BENEATH)`), never followed; cap-std reports such an escape as a
//! permission error without an errno, which the guest sees as `not-permitted`. This module
//! never joins or normalises paths itself: doing so would be a second, weaker sandbox.
//!
//! On top of the operating system's own checks, a descriptor carries the [`FsPerms`] of the
//! preopen it comes from: on a read-only tree every operation that would change something
//! fails with `not-permitted` before any system call is made.
//!
//! The work is split by idea: `errors` maps host errors to `error-code`s, `open`
//! holds the rules of `open-at`, `dir` the other path operations, `descriptor` what works on
//! an open file or directory, `metadata` the conversions of stat results and timestamps,
//! `fileio` positional reads and writes, `streams` the file streams, `readdir` directory
//! listings, and `host` binds all of it to the generated `wasi:filesystem` traits. WASI 0.3
//! (`crate::p3`) calls the same operations, on the same [`Descriptor`]s, and converts their
//! WASI 0.2 types to its own: `errors` and `fileio` are open to it for that.
//!
//! Everything is synchronous: a slow disk blocks the calling thread, as every other part of
//! weld's WASI host does.

mod descriptor;
mod dir;
pub(crate) mod errors;
pub(crate) mod fileio;
mod host;
mod metadata;
mod open;
mod readdir;
mod streams;

use crate::bindings::wasi::filesystem::types::ErrorCode;
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

    /// `not-permitted` when writes are refused: the check every mutating operation makes
    /// before touching the host.
    pub(crate) fn require_write(&self) -> Result<(), ErrorCode> {
        if self.write_not_permitted() { Err(ErrorCode::NotPermitted) } else { Ok(()) }
    }
}

/// How a descriptor was opened: for reading, writing or both.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OpenMode {
    /// Opened for reading.
    pub read: bool,
    /// Opened for writing (for a directory: its entries may be changed through it, which
    /// `get-flags` reports as `mutate-directory`).
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
#[derive(Clone)]
pub enum Descriptor {
    /// A regular file (or anything else that is not a directory).
    File(File),
    /// A directory.
    Dir(Dir),
}

impl Descriptor {
    /// The file, or `bad-descriptor` for a directory (the error of file-only operations
    /// such as `read`, `set-size` or `advise` on one).
    pub(crate) fn file(&self) -> Result<&File, ErrorCode> {
        match self {
            Descriptor::File(f) => Ok(f),
            Descriptor::Dir(_) => Err(ErrorCode::BadDescriptor),
        }
    }

    /// The directory, or `not-directory` for a file (the error of path operations on one).
    pub(crate) fn dir(&self) -> Result<&Dir, ErrorCode> {
        match self {
            Descriptor::Dir(d) => Ok(d),
            Descriptor::File(_) => Err(ErrorCode::NotDirectory),
        }
    }
}

/// The value behind a `directory-entry-stream` handle: a listing of a directory, read as the
/// guest asks for entries (see `readdir`). Defined here, next to the descriptors, so that the
/// bindings find both in one place.
pub struct ReaddirIterator {
    /// The entries not read yet; `None` once the listing has ended.
    entries: Option<cap_std::fs::ReadDir>,
}

/// The preopened directories of a context, each with its guest path.
#[derive(Default, Clone)]
pub(crate) struct FilesystemCtx {
    pub preopens: Vec<(Dir, String)>,
}
