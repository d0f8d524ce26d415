//! Page-granular virtual memory: reserve address space, make ranges accessible, free it.

use anyhow::{Result, bail};
use std::ptr::NonNull;

/// The host page size.
#[inline]
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n <= 0 { 4096 } else { n as usize }
}

/// An owned mapping of `len` bytes, inaccessible until parts are made accessible.
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; access is synchronized by its owner.
unsafe impl Send for Mmap {}
// SAFETY: as above; shared references only read the pointer and length.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Reserves `len` bytes (rounded up to pages) of address space with no access.
    pub fn reserve(len: usize) -> Result<Mmap> {
        let len = round_up(len.max(1), page_size());
        // SAFETY: an anonymous private mapping at a kernel-chosen address aliases nothing.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            bail!("failed to reserve {len} bytes of address space: {}", std::io::Error::last_os_error());
        }
        Ok(Mmap { ptr: NonNull::new(ptr.cast()).unwrap(), len })
    }

    /// The start of the mapping.
    #[inline]
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The mapping's length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Replaces the first `len` bytes (rounded up to pages) with fresh inaccessible pages, as
    /// if the mapping had just been reserved: their contents, and any file mapped over them,
    /// are gone.
    pub fn reset(&self, len: usize) -> Result<()> {
        let len = round_up(len, page_size()).min(self.len);
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range lies inside this mapping, which we own; MAP_FIXED replaces exactly
        // those pages with a new anonymous mapping and touches nothing else.
        let p = unsafe {
            libc::mmap(
                self.ptr.as_ptr().cast(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            bail!("resetting a reservation failed: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Discards the contents of the first `len` bytes (rounded up to pages) of this
    /// anonymous mapping: they read as zeros from now on, with their protection unchanged.
    /// Not for ranges a file is mapped over (use [`Mmap::reset`]).
    #[inline]
    pub fn discard(&self, len: usize) -> Result<()> {
        self.discard_range(0, round_up(len, page_size()).min(self.len))
    }

    /// Discards the contents of `[start, start + len)` (page-aligned) as [`Mmap::discard`]
    /// does for the start of the mapping.
    pub fn discard_range(&self, start: usize, len: usize) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.check_range(start, len)?;
        // SAFETY: the range lies inside this private anonymous mapping, which we own; after
        // MADV_DONTNEED its pages are zero-fill-on-demand.
        let r = unsafe { libc::madvise(self.ptr.as_ptr().add(start).cast(), len, libc::MADV_DONTNEED) };
        if r != 0 {
            bail!("madvise failed: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Replaces `[start, start + len)` (page-aligned) with fresh readable and writable zero
    /// pages: whatever was mapped there (a file, written pages) is gone.
    pub fn zero_fill(&self, start: usize, len: usize) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.check_range(start, len)?;
        // SAFETY: the range lies inside this mapping, which we own; MAP_FIXED replaces exactly
        // those pages with a new anonymous mapping and touches nothing else.
        let p = unsafe {
            libc::mmap(
                self.ptr.as_ptr().add(start).cast(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            bail!("replacing {len} bytes of a mapping with zero pages failed: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Fails unless `[start, start + len)` is a page-aligned range of the mapping.
    fn check_range(&self, start: usize, len: usize) -> Result<()> {
        let page = page_size();
        if !start.is_multiple_of(page)
            || !len.is_multiple_of(page)
            || start.checked_add(len).is_none_or(|end| end > self.len)
        {
            bail!("{start}..+{len} is not a page-aligned range of a mapping of {} bytes", self.len);
        }
        Ok(())
    }

    /// Makes `[start, start + len)` inaccessible again. Both must be page-aligned.
    #[inline]
    pub fn make_inaccessible(&self, start: usize, len: usize) -> Result<()> {
        self.protect(start, len, libc::PROT_NONE)
    }

    /// Makes `[start, start + len)` readable and writable. Both must be page-aligned.
    #[inline]
    pub fn make_accessible(&self, start: usize, len: usize) -> Result<()> {
        self.protect(start, len, libc::PROT_READ | libc::PROT_WRITE)
    }

    /// Makes `[start, start + len)` readable and executable, never writable.
    #[inline]
    pub fn make_executable(&self, start: usize, len: usize) -> Result<()> {
        self.protect(start, len, libc::PROT_READ | libc::PROT_EXEC)
    }

    fn protect(&self, start: usize, len: usize, prot: i32) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        assert!(start.checked_add(len).is_some_and(|end| end <= self.len));
        // SAFETY: the range lies inside this mapping, which we own.
        let r = unsafe { libc::mprotect(self.ptr.as_ptr().add(start).cast(), len, prot) };
        if r != 0 {
            bail!("mprotect failed: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for Mmap {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `reserve` or `ReadOnlyMapping::map_file` with this
        // length and is unmapped once.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// Flags of a file mapping: private, and not populated: loading an artifact reads only its
/// header and metadata, and the pages of code, trap tables and data are faulted in as they
/// are used (most of a large module's code never runs in a short-lived process).
const MAP_FILE_FLAGS: i32 = libc::MAP_PRIVATE;

/// A mapping that is readable in full and never writable: a file mapped read-only, or a
/// read-only copy of bytes. Parts of it can be made executable (still readable), which is how
/// the code in an ahead-of-time artifact runs where it lies in the file.
#[derive(Debug)]
pub struct ReadOnlyMapping {
    map: Mmap,
    /// The bytes mapped (the mapping itself is rounded up to pages).
    len: usize,
    /// The file mapped, if it is one: parts of it can be mapped again elsewhere (memory
    /// images map their pages copy-on-write straight from the artifact).
    file: Option<std::fs::File>,
}

impl ReadOnlyMapping {
    /// Maps the first `len` bytes of `file` read-only and private: the mapping can never
    /// write to the file.
    pub fn map_file(file: &std::fs::File, len: usize) -> Result<ReadOnlyMapping> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            bail!("cannot map an empty file");
        }
        // SAFETY: a private read-only mapping of a file at a kernel-chosen address aliases no
        // Rust memory; the descriptor is valid for the call.
        let ptr =
            unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, MAP_FILE_FLAGS, file.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED {
            bail!("failed to map {len} bytes of a file: {}", std::io::Error::last_os_error());
        }
        let map = Mmap { ptr: NonNull::new(ptr.cast()).unwrap(), len: round_up(len, page_size()) };
        Ok(ReadOnlyMapping { map, len, file: Some(file.try_clone()?) })
    }

    /// Maps the whole of `file` (see [`ReadOnlyMapping::map_file`]).
    pub fn map_whole(file: &std::fs::File) -> Result<ReadOnlyMapping> {
        ReadOnlyMapping::map_file(file, usize::try_from(file.metadata()?.len())?)
    }

    /// Maps the whole file at `path`.
    pub fn map_path(path: &std::path::Path) -> Result<ReadOnlyMapping> {
        ReadOnlyMapping::map_whole(&std::fs::File::open(path)?)
    }

    /// A fresh read-only mapping holding a copy of `bytes`.
    pub fn copy_of(bytes: &[u8]) -> Result<ReadOnlyMapping> {
        let map = Mmap::reserve(bytes.len())?;
        map.make_accessible(0, map.len())?;
        // SAFETY: the mapping is writable and at least `bytes.len()` long; nothing else uses it.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), map.as_ptr(), bytes.len()) };
        map.protect(0, map.len(), libc::PROT_READ)?;
        Ok(ReadOnlyMapping { map, len: bytes.len(), file: None })
    }

    /// The bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: both constructors leave every page readable, and `make_executable` keeps
        // them so; nothing writes to the mapping while it lives, and the slice borrows `self`.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr(), self.len) }
    }

    /// The file this maps (from its start), if it maps one.
    #[inline]
    pub fn file(&self) -> Option<&std::fs::File> {
        self.file.as_ref()
    }

    /// Makes the pages holding `[start, start + len)` readable and executable. `start` must
    /// be page-aligned.
    pub fn make_executable(&self, start: usize, len: usize) -> Result<()> {
        if !start.is_multiple_of(page_size()) || start.checked_add(len).is_none_or(|end| end > self.len) {
            bail!("code at {start}..+{len} is not a page-aligned range of the mapping");
        }
        self.map.make_executable(start, round_up(len, page_size()))
    }
}

impl AsRef<[u8]> for ReadOnlyMapping {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

/// Rounds `n` up to a multiple of `to` (a power of two).
#[inline]
pub fn round_up(n: usize, to: usize) -> usize {
    (n + to - 1) & !(to - 1)
}
