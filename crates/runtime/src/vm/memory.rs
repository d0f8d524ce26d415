//! Linear memories. Each memory reserves, up front, all the address space it may ever use
//! (4 GiB plus a guard region for a 32-bit memory with guard pages), so its base never moves;
//! growing only makes more pages accessible.
//!
//! The address space comes from one of two places: on demand, a reservation of its own (which
//! the engine's `ReservationPool` may have kept from an earlier memory), or under the pooling
//! allocator a slot of the engine's memory pool (`pool_slots.rs`), whose size bounds the
//! memory's. Either way the memory hands it back when dropped; what is reset, and how, is the
//! giver's business.

use super::memory_image::MemoryImage;
use super::mmap::{Mmap, page_size, round_up};
use super::pool_slots::MemorySlot;
use super::reservations::ReservationPool;
use anyhow::{Result, bail};
use std::sync::Arc;
use weld_environ::{MemoryType, WASM_PAGE_SIZE};

/// `VMMemoryDefinition`: what JIT code reads (layout in weld_environ::memory_def).
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    /// The first byte of the memory.
    pub base: *mut u8,
    /// The current size in bytes.
    pub current_length: usize,
}

/// The most a memory64 memory (or a memory in explicit-bounds mode) may grow to in weld.
pub const MAX_RESERVATION: u64 = 8 << 30;

/// A linear memory.
#[derive(Debug)]
pub struct LinearMemory {
    /// Read by JIT code; boxed so its address is stable.
    pub def: Box<VMMemoryDefinition>,
    backing: Backing,
    ty: MemoryType,
    /// The largest size in bytes this memory may reach.
    maximum_bytes: u64,
}

/// Where a memory's pages are.
#[derive(Debug)]
enum Backing {
    /// A reservation of its own (on-demand allocation).
    Reservation {
        /// The reservation (`None` only while dropping).
        mmap: Option<Mmap>,
        /// Where the reservation goes back when the memory is dropped.
        pool: Arc<ReservationPool>,
        /// Whether a memory image (a file) is mapped over the start of the reservation.
        file_backed: bool,
    },
    /// A slot of the pooling allocator, reset and freed when dropped.
    Slot(MemorySlot),
}

// SAFETY: the raw base pointer refers into the backing, owned by this value.
unsafe impl Send for LinearMemory {}

impl LinearMemory {
    /// Creates a memory of type `ty`. `guard_size` is the guard region after a 32-bit memory's
    /// 4 GiB reservation; `guarded` says whether compiled code relies on it.
    pub fn new(
        ty: MemoryType,
        guarded: bool,
        guard_size: u64,
        image: Option<&MemoryImage>,
        pool: &Arc<ReservationPool>,
    ) -> Result<LinearMemory> {
        let (min_bytes, max_bytes) = Self::declared_bytes(&ty)?;
        let reservation_len = if !ty.memory64 && guarded {
            Self::guarded_reservation_len(guard_size)
        } else {
            Self::reservation_len(max_bytes.min(MAX_RESERVATION))
        };
        let maximum_bytes = max_bytes.min(if !ty.memory64 && guarded { 4 << 30 } else { MAX_RESERVATION });
        if min_bytes > maximum_bytes {
            bail!("memory minimum size of {} pages exceeds the limit weld supports", ty.minimum);
        }
        let (mmap, accessible) = pool.acquire(reservation_len)?;
        let min = min_bytes as usize;
        if accessible < min {
            mmap.make_accessible(accessible, min - accessible)?;
        } else if accessible > min {
            mmap.make_inaccessible(min, accessible - min)?;
        }
        if let Some(image) = image {
            assert!(image.size() as u64 <= min_bytes);
            // SAFETY: the image fits in the accessible part of this fresh, unshared mapping.
            unsafe { image.map_at(mmap.as_ptr())? };
        }
        let def = Box::new(VMMemoryDefinition { base: mmap.as_ptr(), current_length: min_bytes as usize });
        let backing = Backing::Reservation { mmap: Some(mmap), pool: pool.clone(), file_backed: image.is_some() };
        Ok(LinearMemory { def, backing, ty, maximum_bytes })
    }

    /// Creates a memory of type `ty` in a slot of the pooling allocator, growable to at most
    /// `limit` bytes (the pool's `max_memory_size`, no more than the slot holds), with `image`
    /// mapped over its start.
    #[inline]
    pub fn in_slot(
        ty: MemoryType,
        mut slot: MemorySlot,
        limit: u64,
        image: Option<&MemoryImage>,
    ) -> Result<LinearMemory> {
        let (min_bytes, max_bytes) = Self::declared_bytes(&ty)?;
        let maximum_bytes = max_bytes.min(limit).min(slot.capacity() as u64);
        if min_bytes > maximum_bytes {
            bail!("memory minimum size of {} pages exceeds the {maximum_bytes} bytes its pool slot allows", ty.minimum);
        }
        slot.set_accessible(min_bytes as usize)?;
        if let Some(image) = image {
            slot.map_image(image)?;
        }
        let def = Box::new(VMMemoryDefinition { base: slot.base(), current_length: min_bytes as usize });
        Ok(LinearMemory { def, backing: Backing::Slot(slot), ty, maximum_bytes })
    }

    /// The minimum size of `ty` in bytes, and the most its maximum (or its index type) allows.
    fn declared_bytes(ty: &MemoryType) -> Result<(u64, u64)> {
        let index_max = ty.max_pages_for_index().saturating_mul(WASM_PAGE_SIZE);
        let declared_max = ty.maximum.map_or(index_max, |m| m.saturating_mul(WASM_PAGE_SIZE));
        let min_bytes = ty.minimum.checked_mul(WASM_PAGE_SIZE).filter(|b| *b <= index_max);
        let Some(min_bytes) = min_bytes else { bail!("memory minimum size of {} pages is too large", ty.minimum) };
        Ok((min_bytes, declared_max.min(index_max)))
    }

    /// The length of a reservation of `bytes`, rounded to pages.
    #[inline]
    fn reservation_len(bytes: u64) -> usize {
        round_up(bytes.max(page_size() as u64) as usize, page_size())
    }

    /// The reservation length of a guarded 32-bit memory with `guard_size`: what an engine pools.
    #[inline]
    pub fn guarded_reservation_len(guard_size: u64) -> usize {
        Self::reservation_len((4u64 << 30) + guard_size)
    }

    /// The memory's type, with its current minimum.
    #[inline]
    pub fn ty(&self) -> MemoryType {
        MemoryType { minimum: self.size_pages(), ..self.ty }
    }

    /// The current size in pages.
    #[inline]
    pub fn size_pages(&self) -> u64 {
        self.def.current_length as u64 / WASM_PAGE_SIZE
    }

    /// The contents.
    #[inline]
    pub fn data(&self) -> &[u8] {
        // SAFETY: `current_length` bytes from `base` are accessible and owned by this memory.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.current_length) }
    }

    /// The contents, writable.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, with exclusive access through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.current_length) }
    }

    /// The largest size in bytes this memory may reach, as a limiter is told it: `None` when
    /// only its index type bounds it.
    #[inline]
    pub fn maximum_for_limiter(&self) -> Option<usize> {
        let index_max = self.ty.max_pages_for_index().saturating_mul(WASM_PAGE_SIZE);
        (self.maximum_bytes < index_max).then(|| usize::try_from(self.maximum_bytes).unwrap_or(usize::MAX))
    }

    /// Grows by `delta` pages; returns the old size in pages, or why it cannot grow.
    pub fn grow(&mut self, delta: u64) -> Result<u64> {
        let old = self.size_pages();
        let new_bytes = old.checked_add(delta).and_then(|p| p.checked_mul(WASM_PAGE_SIZE));
        let new_bytes = match new_bytes {
            Some(b) if b <= self.maximum_bytes => b,
            _ => bail!(
                "a memory of {old} pages cannot grow by {delta} pages: it may have at most {} pages",
                self.maximum_bytes / WASM_PAGE_SIZE
            ),
        };
        match &mut self.backing {
            Backing::Reservation { mmap, .. } => {
                let Some(mmap) = mmap.as_ref() else { bail!("the memory is being dropped") };
                if new_bytes > mmap.len() as u64 {
                    bail!("a memory of {old} pages cannot grow by {delta} pages: its reservation is full");
                }
                let old_bytes = self.def.current_length;
                mmap.make_accessible(old_bytes, new_bytes as usize - old_bytes)?;
            }
            Backing::Slot(slot) => slot.set_accessible(new_bytes as usize)?,
        }
        self.def.current_length = new_bytes as usize;
        Ok(old)
    }
}

impl Drop for LinearMemory {
    #[inline]
    fn drop(&mut self) {
        // A slot resets and frees itself when dropped.
        if let Backing::Reservation { mmap, pool, file_backed } = &mut self.backing
            && let Some(mmap) = mmap.take()
        {
            pool.release(mmap, self.def.current_length, *file_backed);
        }
    }
}
