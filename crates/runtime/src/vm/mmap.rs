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
    pub fn discard(&self, len: usize) -> Result<()> {
        let len = round_up(len, page_size()).min(self.len);
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range lies inside this private anonymous mapping, which we own; after
        // MADV_DONTNEED its pages are zero-fill-on-demand.
        let r = unsafe { libc::madvise(self.ptr.as_ptr().cast(), len, libc::MADV_DONTNEED) };
        if r != 0 {
            bail!("madvise failed: {}", std::io::Error::last_os_error());
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
        // SAFETY: the mapping was created by `reserve` with this length and is unmapped once.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// Rounds `n` up to a multiple of `to` (a power of two).
#[inline]
pub fn round_up(n: usize, to: usize) -> usize {
    (n + to - 1) & !(to - 1)
}
