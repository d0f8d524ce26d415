//! Tables of references. Elements are 8-byte raw references: the address of a `VMFuncRef` for
//! funcref tables, an externref handle for externref tables, 0 for null.
//!
//! A table's elements are a vector of its own (on-demand allocation, and tables the host
//! creates), or under the pooling allocator a slot of the engine's table pool
//! (`pool_slots.rs`): preallocated, so instantiating allocates nothing, and bounded by the
//! pool's `table_elements`. Either way `VMTableDefinition` describes the elements exactly, and
//! the accessors read them through it.

use super::pool_slots::TableSlot;
use anyhow::{Result, bail};
use weld_environ::TableType;

/// `VMTableDefinition`: what JIT code reads (layout in weld_environ::table_def).
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDefinition {
    /// The first element.
    pub base: *mut u64,
    /// The number of elements.
    pub current_elements: usize,
}

/// The most elements a table may have in weld.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A table.
#[derive(Debug)]
pub struct VmTable {
    /// Read by JIT code; boxed so its address is stable. Always the storage's first element
    /// and its length.
    pub def: Box<VMTableDefinition>,
    storage: Storage,
    ty: TableType,
}

/// Where a table's elements are.
#[derive(Debug)]
enum Storage {
    /// A vector of its own.
    Vec(Vec<u64>),
    /// A slot of the pooling allocator, reset and freed when dropped.
    Slot(TableSlot),
}

// SAFETY: the raw pointer refers into the storage, owned by this value.
unsafe impl Send for VmTable {}

impl VmTable {
    /// Creates a table of type `ty` with every element set to `init`.
    pub fn new(ty: TableType, init: u64) -> Result<VmTable> {
        if ty.minimum > MAX_TABLE_ELEMENTS {
            bail!("table minimum size of {} elements exceeds the limit of {MAX_TABLE_ELEMENTS}", ty.minimum);
        }
        let mut elements = vec![init; ty.minimum as usize];
        let def = Box::new(VMTableDefinition { base: elements.as_mut_ptr(), current_elements: elements.len() });
        Ok(VmTable { def, storage: Storage::Vec(elements), ty })
    }

    /// Creates a table of type `ty` with every element set to `init`, in a slot of the pooling
    /// allocator (which bounds how far it can grow).
    pub fn in_slot(ty: TableType, mut slot: TableSlot, init: u64) -> Result<VmTable> {
        let min = usize::try_from(ty.minimum).ok().filter(|m| *m as u64 <= MAX_TABLE_ELEMENTS);
        let Some(min) = min.filter(|m| *m <= slot.capacity()) else {
            bail!("table minimum size of {} elements exceeds the {} its pool slot holds", ty.minimum, slot.capacity());
        };
        slot.fill(0, min, init);
        let def = Box::new(VMTableDefinition { base: slot.base(), current_elements: min });
        Ok(VmTable { def, storage: Storage::Slot(slot), ty })
    }

    /// The table's type, with its current minimum.
    #[inline]
    pub fn ty(&self) -> TableType {
        TableType { minimum: self.def.current_elements as u64, ..self.ty }
    }

    /// The elements.
    #[inline]
    pub fn elements(&self) -> &[u64] {
        // SAFETY: `def` describes the storage's elements exactly (every constructor and `grow`
        // keep it so), and the storage lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.current_elements) }
    }

    /// The elements, writable.
    #[inline]
    pub fn elements_mut(&mut self) -> &mut [u64] {
        // SAFETY: as in `elements`, with exclusive access through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.current_elements) }
    }

    /// The number of elements.
    #[inline]
    pub fn size(&self) -> u64 {
        self.def.current_elements as u64
    }

    /// The most elements this table may have, as a limiter is told it: `None` when only
    /// weld's own bound on tables applies.
    #[inline]
    pub fn maximum_for_limiter(&self) -> Option<usize> {
        let max = self.maximum();
        (max < MAX_TABLE_ELEMENTS || self.ty.maximum.is_some()).then(|| usize::try_from(max).unwrap_or(usize::MAX))
    }

    /// The most elements this table may have.
    #[inline]
    pub fn maximum(&self) -> u64 {
        let slot = match &self.storage {
            Storage::Vec(_) => u64::MAX,
            Storage::Slot(slot) => slot.capacity() as u64,
        };
        self.ty.maximum.unwrap_or(u64::MAX).min(MAX_TABLE_ELEMENTS).min(slot)
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or why it cannot grow.
    pub fn grow(&mut self, delta: u64, init: u64) -> Result<u64> {
        let old = self.size();
        let max = self.maximum();
        let new = match old.checked_add(delta) {
            Some(n) if n <= max => n,
            _ => bail!("a table of {old} elements cannot grow by {delta} elements: it may have at most {max}"),
        };
        match &mut self.storage {
            Storage::Vec(elements) => {
                elements.resize(new as usize, init);
                self.def.base = elements.as_mut_ptr();
            }
            Storage::Slot(slot) => {
                if slot.fill(old as usize, new as usize, init).is_none() {
                    bail!("a table of {old} elements cannot grow by {delta} elements: its pool slot is full");
                }
            }
        }
        self.def.current_elements = new as usize;
        Ok(old)
    }
}
