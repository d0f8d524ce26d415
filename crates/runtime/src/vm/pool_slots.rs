//! The slots of the pooling instance allocator (`vm/pooling.rs`): one mapping for all memory
//! slots and one for all table slots, each reserved once when the engine is created, and the
//! free lists that hand slots out and take them back.
//!
//! A slot is owned by the memory or table built on it ([`MemorySlot`], [`TableSlot`]); when
//! that is dropped (with its store), the slot is reset and goes back on its free list: written
//! pages are discarded with `madvise(MADV_DONTNEED)` (or zeroed with `memset`, up to the
//! configured keep-resident size, so that they stay in memory), a memory image mapped over the
//! start of a memory slot is replaced by fresh zero pages, and nothing is unmapped. So a free
//! slot reads as zeros everywhere, and only its first `accessible` bytes are accessible; the
//! next memory changes the protection of the pages whose accessibility differs, and nothing
//! else. A slot whose reset fails is never handed out again (the pool shrinks by one rather
//! than leak one guest's data to another).
//!
//! Deliberately not here: which memory or table may take a slot (the limits per module and the
//! sizes are checked in `vm/pooling.rs` before a slot is taken), and any affinity between a
//! slot and the module that last used it (Wasmtime keeps a module's image mapped in a slot for
//! its next instance; weld removes the image at every reset, so every slot is alike and the
//! free lists are plain stacks: the most recently freed, warmest slot goes out first).

use super::memory_image::MemoryImage;
use super::mmap::{Mmap, page_size, round_up};
use anyhow::{Result, bail};
use std::sync::{Arc, Mutex, MutexGuard};

/// "1st", "2nd", "3rd", "11th", "21st": the ordinal of `n`, for limit errors.
pub fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The error of a pool of `total` things (slots, instances) all in use: the next would be
/// the `total + 1`th.
pub fn exhausted(what: &str, limit: &str, total: u32) -> anyhow::Error {
    anyhow::anyhow!(
        "pooling allocator: the {} concurrent {what} exceeds {limit} = {total}",
        ordinal(u64::from(total) + 1)
    )
}

/// Locks `m`, ignoring poisoning: the free lists are consistent after every operation.
#[inline]
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reserves `total` slots of `slot_len` bytes in one mapping, naming `what` on failure.
fn reserve_slots(total: u32, slot_len: usize, what: &str) -> Result<Mmap> {
    let Some(len) = (total as usize).checked_mul(slot_len) else {
        bail!("pooling allocator: {total} {what} slots of {slot_len} bytes do not fit in the address space");
    };
    Mmap::reserve(len).map_err(|e| {
        anyhow::anyhow!(
            "pooling allocator: reserving {total} {what} slots of {slot_len} bytes ({len} bytes) failed: {e}"
        )
    })
}

/// The memory slots of an engine: `total` slots of `slot_len` bytes in one reservation.
#[derive(Debug)]
pub struct MemoryPool {
    mapping: Mmap,
    slot_len: usize,
    total: u32,
    /// How many bytes at the start of a slot are zeroed with `memset` rather than discarded
    /// (page-aligned).
    keep_resident: usize,
    /// Free slots, the last freed on top, each with how many of its first bytes are
    /// accessible (and zero).
    free: Mutex<Vec<(u32, usize)>>,
}

impl MemoryPool {
    /// Reserves `total` slots of `slot_len` bytes (rounded up to pages), nothing accessible.
    pub fn new(total: u32, slot_len: usize, keep_resident: usize) -> Result<MemoryPool> {
        let slot_len = round_up(slot_len.max(1), page_size());
        let mapping = reserve_slots(total, slot_len, "memory")?;
        let keep_resident = (keep_resident / page_size()) * page_size();
        Ok(MemoryPool {
            mapping,
            slot_len,
            total,
            keep_resident,
            free: Mutex::new((0..total).rev().map(|i| (i, 0)).collect()),
        })
    }

    /// Takes a free slot, or fails naming `total_memories` when all are in use.
    #[inline]
    pub fn acquire(self: &Arc<Self>) -> Result<MemorySlot> {
        let Some((index, accessible)) = lock(&self.free).pop() else {
            return Err(exhausted("memory", "total_memories", self.total));
        };
        Ok(MemorySlot { pool: self.clone(), index, accessible, image_len: 0 })
    }

    /// Resets slot `index`, whose first `accessible` bytes are accessible and may have been
    /// written, with an image mapped over its first `image_len`, and frees it.
    fn release(&self, index: u32, accessible: usize, image_len: usize) {
        let start = index as usize * self.slot_len;
        let keep = self.keep_resident.min(accessible);
        let reset = || -> Result<()> {
            if image_len > 0 && keep <= image_len {
                // One call: the file mapping and every written page give way to fresh zero
                // pages, still accessible.
                return self.mapping.zero_fill(start, accessible);
            }
            // The file mapping (if any) goes, the pages to keep are zeroed in place, the rest
            // are discarded.
            self.mapping.zero_fill(start, image_len)?;
            if keep > image_len {
                // SAFETY: `[image_len, keep)` is accessible, anonymous, inside this slot, and
                // no longer used by anyone: its memory was dropped.
                unsafe { std::ptr::write_bytes(self.mapping.as_ptr().add(start + image_len), 0, keep - image_len) };
            }
            let from = keep.max(image_len);
            self.mapping.discard_range(start + from, accessible - from)
        };
        if reset().is_ok() {
            lock(&self.free).push((index, accessible));
        }
    }
}

/// A memory slot taken from a [`MemoryPool`], given back (reset) when dropped.
#[derive(Debug)]
pub struct MemorySlot {
    pool: Arc<MemoryPool>,
    index: u32,
    /// How many of the first bytes are accessible (a multiple of the page size).
    accessible: usize,
    /// How many of the first bytes are a memory image's file mapping.
    image_len: usize,
}

impl MemorySlot {
    /// The slot's first byte.
    #[inline]
    pub fn base(&self) -> *mut u8 {
        // SAFETY: `index < total`, so the slot lies inside the pool's mapping.
        unsafe { self.pool.mapping.as_ptr().add(self.index as usize * self.pool.slot_len) }
    }

    /// The slot's size in bytes.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.pool.slot_len
    }

    /// Makes exactly the first `len` bytes (rounded up to pages) accessible. Bytes that become
    /// accessible read as zeros.
    #[inline]
    pub fn set_accessible(&mut self, len: usize) -> Result<()> {
        let len = round_up(len, page_size());
        if len > self.capacity() {
            bail!("{len} bytes do not fit in a memory slot of {} bytes", self.capacity());
        }
        let start = self.index as usize * self.pool.slot_len;
        if len > self.accessible {
            self.pool.mapping.make_accessible(start + self.accessible, len - self.accessible)?;
        } else if len < self.accessible {
            // Those pages stay zero (a slot is zero when it is handed out), so making them
            // accessible again later shows zeros as a fresh mapping would.
            self.pool.mapping.make_inaccessible(start + len, self.accessible - len)?;
        }
        self.accessible = len;
        Ok(())
    }

    /// Maps `image` over the start of the slot, which must already be accessible that far.
    pub fn map_image(&mut self, image: &MemoryImage) -> Result<()> {
        if image.size() > self.accessible {
            bail!("a memory image of {} bytes is larger than the memory's {} bytes", image.size(), self.accessible);
        }
        // SAFETY: the image's range is inside this slot, which this value owns, and holds
        // nothing yet (it was just handed out, all zeros).
        unsafe { image.map_at(self.base())? };
        self.image_len = image.size();
        Ok(())
    }
}

impl Drop for MemorySlot {
    #[inline]
    fn drop(&mut self) {
        self.pool.release(self.index, self.accessible, self.image_len);
    }
}

/// The table slots of an engine: `total` slots of `elements` 8-byte elements in one mapping,
/// all of it readable and writable (pages are only backed once written).
#[derive(Debug)]
pub struct TablePool {
    mapping: Mmap,
    /// The size of a slot in bytes (a multiple of the page size).
    slot_len: usize,
    elements: usize,
    total: u32,
    /// How many bytes at the start of a slot are zeroed with `memset` rather than discarded
    /// (page-aligned).
    keep_resident: usize,
    /// Free slots, the last freed on top.
    free: Mutex<Vec<u32>>,
}

impl TablePool {
    /// Reserves `total` slots of `elements` elements.
    pub fn new(total: u32, elements: usize, keep_resident: usize) -> Result<TablePool> {
        let Some(bytes) = elements.checked_mul(8) else {
            bail!("pooling allocator: table_elements = {elements} is too large");
        };
        let slot_len = round_up(bytes.max(1), page_size());
        let mapping = reserve_slots(total, slot_len, "table")?;
        mapping.make_accessible(0, mapping.len())?;
        let keep_resident = (keep_resident / page_size()) * page_size();
        Ok(TablePool {
            mapping,
            slot_len,
            elements,
            total,
            keep_resident,
            free: Mutex::new((0..total).rev().collect()),
        })
    }

    /// Takes a free slot, or fails naming `total_tables` when all are in use.
    #[inline]
    pub fn acquire(self: &Arc<Self>) -> Result<TableSlot> {
        let Some(index) = lock(&self.free).pop() else {
            return Err(exhausted("table", "total_tables", self.total));
        };
        Ok(TableSlot { pool: self.clone(), index, used: 0 })
    }

    /// Resets slot `index`, whose first `used` bytes may have been written, and frees it.
    fn release(&self, index: u32, used: usize) {
        let start = index as usize * self.slot_len;
        // Pages up to `keep` are zeroed in place, those after it up to `end` discarded.
        let end = round_up(used, page_size());
        let keep = self.keep_resident.min(end);
        // SAFETY: the first `used` bytes of the slot are writable, inside this pool's mapping,
        // and no longer used by anyone: its table was dropped.
        unsafe { std::ptr::write_bytes(self.mapping.as_ptr().add(start), 0, keep.min(used)) };
        if self.mapping.discard_range(start + keep, end - keep).is_ok() {
            lock(&self.free).push(index);
        }
    }
}

/// A table slot taken from a [`TablePool`], given back (reset) when dropped.
#[derive(Debug)]
pub struct TableSlot {
    pool: Arc<TablePool>,
    index: u32,
    /// How many of the first bytes have ever been part of the table (and may be written).
    used: usize,
}

impl TableSlot {
    /// The slot's first element.
    #[inline]
    pub fn base(&self) -> *mut u64 {
        // SAFETY: `index < total`, so the slot lies inside the pool's mapping; slots are
        // page-aligned, hence 8-byte aligned.
        unsafe { self.pool.mapping.as_ptr().add(self.index as usize * self.pool.slot_len).cast() }
    }

    /// The most elements the slot holds.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.pool.elements
    }

    /// Sets elements `[from, to)` to `init` and counts them as used; `None` past the slot's
    /// capacity.
    pub fn fill(&mut self, from: usize, to: usize, init: u64) -> Option<()> {
        if from > to || to > self.capacity() {
            return None;
        }
        // Elements never used are zero already (a slot is zero when it is handed out).
        if init != 0 || from * 8 < self.used {
            // SAFETY: `from <= to <= capacity`: inside this slot, which this value owns and
            // nothing else reads while it is borrowed mutably.
            unsafe { std::slice::from_raw_parts_mut(self.base().add(from), to - from).fill(init) };
        }
        self.used = self.used.max(to * 8);
        Some(())
    }
}

impl Drop for TableSlot {
    #[inline]
    fn drop(&mut self) {
        self.pool.release(self.index, self.used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].into_iter().map(ordinal).collect();
        assert_eq!(got, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]);
    }

    #[test]
    fn a_table_slot_comes_back_zero_and_a_full_pool_says_so() {
        for keep in [0, 4096] {
            let pool = Arc::new(TablePool::new(1, 2048, keep).unwrap());
            let mut slot = pool.acquire().unwrap();
            // A few elements only (less than a page), then the whole slot.
            slot.fill(0, 3, 7).unwrap();
            drop(slot);
            let mut slot = pool.acquire().unwrap();
            slot.fill(0, 2048, 7).unwrap();
            let err = pool.acquire().unwrap_err();
            assert_eq!(err.to_string(), "pooling allocator: the 2nd concurrent table exceeds total_tables = 1");
            let base = slot.base();
            drop(slot);
            let slot = pool.acquire().unwrap();
            assert_eq!(slot.base(), base, "the one slot is reused");
            // SAFETY: the slot's 2048 elements are readable and owned by `slot`.
            let all = unsafe { std::slice::from_raw_parts(slot.base(), 2048) };
            assert!(all.iter().all(|e| *e == 0), "keep_resident {keep}: a reused slot is zero");
        }
    }

    #[test]
    fn a_memory_slot_comes_back_zero_and_inaccessible_past_its_size() {
        for keep in [0, 8192] {
            let page = page_size();
            let pool = Arc::new(MemoryPool::new(1, 16 * page, keep).unwrap());
            let mut slot = pool.acquire().unwrap();
            slot.set_accessible(3 * page).unwrap();
            // SAFETY: the first three pages are accessible and owned by `slot`.
            unsafe { std::ptr::write_bytes(slot.base(), 0x5a, 3 * page) };
            drop(slot);
            let mut slot = pool.acquire().unwrap();
            assert!(pool.acquire().is_err());
            slot.set_accessible(page).unwrap();
            slot.set_accessible(3 * page).unwrap();
            // SAFETY: as above.
            let all = unsafe { std::slice::from_raw_parts(slot.base(), 3 * page) };
            assert!(all.iter().all(|b| *b == 0), "keep_resident {keep}: a reused slot is zero");
        }
    }
}
