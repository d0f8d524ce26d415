//! A per-engine pool of free linear-memory reservations. A guarded 32-bit memory reserves
//! 4 GiB plus its guard region; mapping and unmapping that much address space is most of what
//! instantiating a small module costs. When a memory is dropped, its reservation is kept for
//! the next memory of the same size, up to a bound, with its accessible pages discarded (they
//! read as zeros; nothing of the old contents survives) or, where a memory image was mapped
//! over them, replaced by fresh inaccessible pages. The next memory only changes the
//! protection of the pages whose accessibility differs.
//!
//! Only reservations of exactly the pooled size are kept; others are unmapped as usual.
//!
//! This is the on-demand strategy's cache, not the pooling instance allocator
//! (`pool_slots.rs`, `pooling.rs`): it reserves lazily, never refuses a memory and bounds
//! nothing, while the pooling allocator reserves every slot when the engine is created and
//! refuses instances beyond its limits. Both reset a memory the same way (discard what was
//! written, remove an image's file mapping), so a reused reservation or slot reads as fresh.

use super::mmap::Mmap;
use anyhow::Result;
use std::sync::Mutex;

/// How many free reservations an engine keeps.
const MAX_FREE: usize = 16;

/// Free reservations of one size.
#[derive(Debug)]
pub struct ReservationPool {
    /// The size of the reservations kept, in bytes (page-rounded).
    len: usize,
    /// Each free reservation, with how many of its first bytes are accessible (and zero).
    free: Mutex<Vec<(Mmap, usize)>>,
}

impl ReservationPool {
    /// A pool of reservations of `len` bytes.
    #[inline]
    pub fn new(len: usize) -> ReservationPool {
        ReservationPool { len, free: Mutex::new(Vec::new()) }
    }

    /// A reservation of `len` bytes whose first `accessible` bytes (the result's second
    /// part) are accessible and zero, the rest inaccessible: a pooled one if there is one of
    /// that size, else a fresh one with nothing accessible.
    pub fn acquire(&self, len: usize) -> Result<(Mmap, usize)> {
        if len == self.len
            && let Some(m) = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop()
        {
            return Ok(m);
        }
        Ok((Mmap::reserve(len)?, 0))
    }

    /// Takes back `mmap`, whose first `accessible` bytes may have been made accessible and
    /// written (with a file mapped over them if `file_backed`): they are discarded first.
    /// Reservations of another size, a full pool, or a failed reset unmap it instead.
    pub fn release(&self, mmap: Mmap, accessible: usize, file_backed: bool) {
        if mmap.len() != self.len {
            return;
        }
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() >= MAX_FREE {
            return;
        }
        let reset = if file_backed {
            mmap.reset(accessible).map(|()| 0)
        } else {
            mmap.discard(accessible).map(|()| accessible)
        };
        if let Ok(accessible) = reset {
            free.push((mmap, accessible));
        }
    }
}
