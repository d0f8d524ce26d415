//! Copy-on-write images of a memory's initial contents.
//!
//! When every data segment of a defined memory has a constant offset and fits in the memory's
//! minimum size, the memory's initial bytes are an image: each instantiation maps it privately
//! over the start of the memory, so pages are shared until written and instantiating does not
//! copy the data. A compiled module builds its images once into a memfd; a module loaded from
//! an artifact file maps the image where it lies in the file (the artifact places it at a page
//! boundary, padded to whole pages), so loading copies nothing. An artifact without a file
//! (`Module::deserialize` of bytes), or whose image is not at a host page boundary, copies the
//! image into a memfd instead.

use super::mmap::{ReadOnlyMapping, page_size, round_up};
use anyhow::{Result, bail};
use std::ops::Range;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use weld_environ::EntityRef;
use weld_environ::{ConstOp, DataIndex, Module, WASM_PAGE_SIZE};

/// A memory's initial contents, `len` bytes (a multiple of the page size) of a file.
#[derive(Debug)]
pub struct MemoryImage {
    source: Source,
    len: usize,
}

/// The file an image's pages come from.
#[derive(Debug)]
enum Source {
    /// A memfd holding the image from its start.
    Memfd(OwnedFd),
    /// An artifact file holding the image at `offset` (page-aligned), followed by at least
    /// enough bytes to fill its last page.
    Artifact { mapping: Arc<ReadOnlyMapping>, offset: usize },
}

impl MemoryImage {
    /// Writes `bytes` into a new memfd.
    fn new(bytes: &[u8]) -> Result<MemoryImage> {
        let len = round_up(bytes.len(), page_size());
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
        Ok(MemoryImage { source: Source::Memfd(fd), len })
    }

    /// The image whose bytes lie at `range` of an artifact's `mapping`: mapped from the
    /// artifact's file where it lies when the file is there and the range starts at a page
    /// boundary with whole pages in the file, copied into a memfd otherwise.
    pub fn in_artifact(mapping: &Arc<ReadOnlyMapping>, range: Range<usize>) -> Result<MemoryImage> {
        let Some(bytes) = mapping.bytes().get(range.clone()) else {
            bail!("its memory image ({range:?}) lies outside the file");
        };
        let len = round_up(bytes.len(), page_size());
        let whole_pages = range.start.checked_add(len).is_some_and(|end| end <= mapping.bytes().len());
        if mapping.file().is_some() && range.start.is_multiple_of(page_size()) && whole_pages {
            return Ok(MemoryImage { source: Source::Artifact { mapping: mapping.clone(), offset: range.start }, len });
        }
        MemoryImage::new(bytes)
    }

    /// Whether the image's pages come straight from an artifact's file.
    #[cfg(test)]
    pub(crate) fn is_in_artifact(&self) -> bool {
        matches!(self.source, Source::Artifact { .. })
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
        let (fd, offset) = match &self.source {
            Source::Memfd(fd) => (fd.as_raw_fd(), 0),
            Source::Artifact { mapping, offset } => match mapping.file() {
                Some(file) => (file.as_raw_fd(), *offset),
                None => bail!("bug: a memory image in an artifact without its file"),
            },
        };
        let Ok(offset) = libc::off_t::try_from(offset) else { bail!("a memory image's offset is too large") };
        // SAFETY: per the contract, the range is ours to replace; `fd` is open (owned by
        // `self`), and `offset..offset + len` lies in its file.
        let p = unsafe {
            libc::mmap(
                base.cast(),
                self.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                fd,
                offset,
            )
        };
        if p == libc::MAP_FAILED {
            bail!("mapping a memory image failed: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }
}

/// The planned image of one defined memory: its contents, and the data segments in it.
pub struct ImagePlan {
    /// The memory's initial bytes (from its start to the end of its last segment).
    pub bytes: Vec<u8>,
    /// The data segments the image holds.
    pub segments: Vec<DataIndex>,
}

/// The images that the defined memories of `module` can have.
pub fn plan_images(module: &Module) -> Vec<Option<ImagePlan>> {
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
        match (offset, end, &mut contents[d]) {
            (Some(o), Some(end), Some(bytes)) if end <= max_image_len(&ty) => {
                if bytes.len() < end as usize {
                    bytes.resize(end as usize, 0);
                }
                bytes[o as usize..end as usize].copy_from_slice(&seg.data);
                segments[d].push(i);
            }
            _ => contents[d] = None,
        }
    }
    contents
        .into_iter()
        .zip(segments)
        .map(|(bytes, segments)| match bytes {
            // Small images are not worth a mapping.
            Some(bytes) if bytes.len() >= 4096 => Some(ImagePlan { bytes, segments }),
            _ => None,
        })
        .collect()
}

/// The largest image a memory of type `ty` can have: its minimum size, at most 1 GiB.
pub fn max_image_len(ty: &weld_environ::MemoryType) -> u64 {
    ty.minimum.saturating_mul(WASM_PAGE_SIZE).min(1 << 30)
}

/// Images for the defined memories of `module` where possible, and which data segments they
/// contain (those need no copy at instantiation).
pub fn build_images(module: &Module) -> Result<(Vec<Option<MemoryImage>>, Vec<bool>)> {
    let mut in_image = vec![false; module.data.len()];
    let mut images = Vec::new();
    for plan in plan_images(module) {
        images.push(match plan {
            Some(plan) => {
                for i in &plan.segments {
                    in_image[i.index()] = true;
                }
                Some(MemoryImage::new(&plan.bytes)?)
            }
            None => None,
        });
    }
    Ok((images, in_image))
}
