//! Copy-on-write images of a memory's initial contents.
//!
//! When every data segment of a defined memory has a constant offset and fits in the memory's
//! minimum size, the module builds the memory's initial bytes once into a memfd. Each
//! instantiation then maps that file privately over the start of the memory: pages are shared
//! until written, so instantiating does not copy the data.

use anyhow::{Result, bail};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use weld_environ::EntityRef;
use weld_environ::{ConstOp, DataIndex, Module, WASM_PAGE_SIZE};

/// A memory's initial contents in a memfd, `len` bytes (a multiple of the page size).
#[derive(Debug)]
pub struct MemoryImage {
    fd: OwnedFd,
    len: usize,
}

impl MemoryImage {
    /// Writes `bytes` into a new memfd.
    fn new(bytes: &[u8]) -> Result<MemoryImage> {
        let len = super::mmap::round_up(bytes.len(), super::mmap::page_size());
        // SAFETY: the name is a valid C string; the flags are valid.
        let raw = unsafe { libc::memfd_create(c"weld-memory-image".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            bail!("memfd_create failed: {}", std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let file = std::fs::File::from(fd.try_clone()?);
        file.set_len(len as u64)?;
        use std::os::unix::fs::FileExt;
        file.write_all_at(bytes, 0)?;
        Ok(MemoryImage { fd, len })
    }

    /// The image's length in bytes.
    #[inline]
    pub fn size(&self) -> usize {
        self.len
    }

    /// Maps the image privately at `base`, replacing what was there.
    ///
    /// # Safety
    /// `[base, base + len)` must be part of a mapping owned by the caller, with nothing in it
    /// that anyone still needs.
    pub unsafe fn map_at(&self, base: *mut u8) -> Result<()> {
        // SAFETY: per the contract, the range is ours to replace.
        let p = unsafe {
            libc::mmap(
                base.cast(),
                self.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                self.fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            bail!("mapping a memory image failed: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }
}

/// Images for the defined memories of `module` where possible, and which data segments they
/// contain (those need no copy at instantiation).
pub fn build_images(module: &Module) -> Result<(Vec<Option<MemoryImage>>, Vec<bool>)> {
    let defined = module.memories.len() - module.num_imported_memories;
    let mut contents: Vec<Option<Vec<u8>>> = vec![Some(Vec::new()); defined];
    let mut segments: Vec<Vec<DataIndex>> = vec![Vec::new(); defined];
    for (i, seg) in module.data.iter() {
        let Some(active) = &seg.active else { continue };
        let Some(d) = active.memory.as_u32().checked_sub(module.num_imported_memories as u32) else { continue };
        let d = d as usize;
        let ty = module.memories[active.memory];
        let offset = match active.offset.ops.as_slice() {
            [ConstOp::I32Const(o)] => Some(u64::from(*o as u32)),
            [ConstOp::I64Const(o)] => Some(*o as u64),
            _ => None,
        };
        let end = offset.and_then(|o| o.checked_add(seg.data.len() as u64));
        let min_bytes = ty.minimum.saturating_mul(WASM_PAGE_SIZE);
        match (offset, end, &mut contents[d]) {
            (Some(o), Some(end), Some(bytes)) if end <= min_bytes && end <= 1 << 30 => {
                if bytes.len() < end as usize {
                    bytes.resize(end as usize, 0);
                }
                bytes[o as usize..end as usize].copy_from_slice(&seg.data);
                segments[d].push(i);
            }
            _ => contents[d] = None,
        }
    }
    let mut in_image = vec![false; module.data.len()];
    let mut images = Vec::with_capacity(defined);
    for (d, bytes) in contents.into_iter().enumerate() {
        match bytes {
            // Small images are not worth a mapping.
            Some(bytes) if bytes.len() >= 4096 => {
                images.push(Some(MemoryImage::new(&bytes)?));
                for i in &segments[d] {
                    in_image[i.index()] = true;
                }
            }
            _ => images.push(None),
        }
    }
    Ok((images, in_image))
}
