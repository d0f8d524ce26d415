//! Tables of references. Elements are 8-byte raw references: the address of a `VMFuncRef` for
//! funcref tables, an externref handle for externref tables, 0 for null.

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
    /// Read by JIT code; boxed so its address is stable.
    pub def: Box<VMTableDefinition>,
    elements: Vec<u64>,
    ty: TableType,
}

// SAFETY: the raw pointer refers into `elements`, owned by this value.
unsafe impl Send for VmTable {}

impl VmTable {
    /// Creates a table of type `ty` with every element set to `init`.
    pub fn new(ty: TableType, init: u64) -> Result<VmTable> {
        if ty.minimum > MAX_TABLE_ELEMENTS {
            bail!("table minimum size of {} elements exceeds the limit of {MAX_TABLE_ELEMENTS}", ty.minimum);
        }
        let mut elements = vec![init; ty.minimum as usize];
        let def = Box::new(VMTableDefinition { base: elements.as_mut_ptr(), current_elements: elements.len() });
        Ok(VmTable { def, elements, ty })
    }

    /// The table's type, with its current minimum.
    #[inline]
    pub fn ty(&self) -> TableType {
        TableType { minimum: self.elements.len() as u64, ..self.ty }
    }

    /// The elements.
    #[inline]
    pub fn elements(&self) -> &[u64] {
        &self.elements
    }

    /// The elements, writable.
    #[inline]
    pub fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }

    /// The number of elements.
    #[inline]
    pub fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    /// The most elements this table may have.
    #[inline]
    pub fn maximum(&self) -> u64 {
        self.ty.maximum.unwrap_or(u64::MAX).min(MAX_TABLE_ELEMENTS)
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or why it cannot grow.
    pub fn grow(&mut self, delta: u64, init: u64) -> Result<u64> {
        let old = self.size();
        let max = self.maximum();
        let new = match old.checked_add(delta) {
            Some(n) if n <= max => n,
            _ => bail!("a table of {old} elements cannot grow by {delta} elements: it may have at most {max}"),
        };
        self.elements.resize(new as usize, init);
        self.def.base = self.elements.as_mut_ptr();
        self.def.current_elements = self.elements.len();
        Ok(old)
    }
}
