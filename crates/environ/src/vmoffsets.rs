//! The layout of the VMContext and of the structures it points to, computed once from a
//! module's entity counts. Compiled code and the runtime both read offsets from here.
//!
//! ```text
//! VMContext
//!   +0   magic: u32                    (VMCONTEXT_MAGIC)
//!   +8   store_context: *mut VMStoreContext
//!   +16  libcalls: *const [fn ptr; Libcall::ALL.len()]
//!   +24  type_ids: *const [u32; module types]   engine-wide signature ids
//!   +32  instance: *mut runtime Instance         back-pointer for libcalls
//!   +40  memories: [*mut VMMemoryDefinition; memories]
//!        tables:   [*mut VMTableDefinition; tables]
//!        globals:  [*mut VMGlobalDefinition; globals]
//!        tags:     [*const VMTagIdentity; tags]    the defining instance's, when imported
//!        func_refs: [VMFuncRef; functions]        imported and defined
//!
//! VMStoreContext (one per store, shared by all its instances)
//!   +0   stack_limit: usize                lowest stack address wasm may use
//!   +8   fuel_consumed: i64                minus the fuel left; out of fuel at >= 0
//!   +16  epoch_deadline: u64               the engine epoch at which wasm is interrupted
//!   +24  epoch_counter: *const AtomicU64   the engine's epoch
//!   +32  out_of_fuel: fn(vmctx)            preserve-all stub calling Libcall::OutOfFuel
//!   +40  new_epoch: fn(vmctx)              preserve-all stub calling Libcall::NewEpoch
//! ```

use crate::Module;

/// The value at offset 0 of every instance's VMContext.
pub const VMCONTEXT_MAGIC: u32 = u32::from_le_bytes(*b"weld");
/// The value at offset 0 of a host function's context.
pub const VMHOST_CONTEXT_MAGIC: u32 = u32::from_le_bytes(*b"host");

/// Offsets inside a `VMMemoryDefinition { base: *mut u8, current_length: usize }`.
pub mod memory_def {
    /// Offset of the base pointer.
    pub const BASE: u32 = 0;
    /// Offset of the current length in bytes.
    pub const CURRENT_LENGTH: u32 = 8;
}

/// Offsets inside a `VMTableDefinition { base: *mut usize, current_elements: usize }`.
pub mod table_def {
    /// Offset of the base pointer.
    pub const BASE: u32 = 0;
    /// Offset of the current number of elements.
    pub const CURRENT_ELEMENTS: u32 = 8;
    /// Size of one element (a pointer or an externref handle).
    pub const ELEMENT_SIZE: u32 = 8;
}

/// Offsets inside a `VMFuncRef { wasm_call, vmctx, type_id }`.
pub mod func_ref {
    /// Offset of the code pointer with the wasm calling convention.
    pub const WASM_CALL: u32 = 0;
    /// Offset of the callee's context.
    pub const VMCTX: u32 = 8;
    /// Offset of the engine-wide signature id (u32).
    pub const TYPE_ID: u32 = 16;
    /// Size of the structure.
    pub const SIZE: u32 = 24;
}

/// Offsets inside a `VMStoreContext`.
pub mod store_context {
    /// The lowest address the wasm stack may reach.
    pub const STACK_LIMIT: u32 = 0;
    /// The fuel counter (`i64`): minus the fuel that compiled code may still consume, so that
    /// consuming adds and the check is a comparison with zero (out of fuel at `>= 0`).
    /// Compiled code keeps it in a register and writes it back before calls and checks.
    pub const FUEL_CONSUMED: u32 = 8;
    /// The epoch deadline (`u64`): compiled code is interrupted once the engine's epoch is
    /// at or past it.
    pub const EPOCH_DEADLINE: u32 = 16;
    /// A pointer to the engine's epoch counter (a `u64` incremented atomically by the
    /// engine); it never changes during the store's life.
    pub const EPOCH_COUNTER: u32 = 24;
    /// The engine's stub for [`Libcall::OutOfFuel`](crate::Libcall::OutOfFuel): a function
    /// `fn(vmctx)` of Cranelift's `preserve_all` convention, which calls the libcall and traps
    /// if it reports a trap. Compiled code calls it on its slow path without giving up any
    /// register; null unless the engine consumes fuel.
    pub const OUT_OF_FUEL_STUB: u32 = 32;
    /// The engine's stub for [`Libcall::NewEpoch`](crate::Libcall::NewEpoch), as
    /// `OUT_OF_FUEL_STUB`; null unless the engine interrupts on epochs.
    pub const NEW_EPOCH_STUB: u32 = 40;
}

/// Offsets inside a host function's context, `VMHostFuncContext`.
pub mod host_context {
    /// Offset of the magic value.
    pub const MAGIC: u32 = 0;
    /// Offset of the array-call entry point, `fn(vmctx, caller_vmctx, values, len) -> u32`.
    pub const ARRAY_CALL: u32 = 8;
    /// Offset of the pointer to the owning store's `VMStoreContext` (the host trampoline
    /// writes the fuel counter there before calling the host).
    pub const STORE_CONTEXT: u32 = 16;
}

/// The size of a global's storage (enough for a v128).
pub const GLOBAL_SIZE: u32 = 16;
/// The size of one `ValRaw` slot in the array calling convention.
pub const VAL_RAW_SIZE: u32 = 16;

/// Offsets into the VMContext of one module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VMOffsets {
    num_memories: u32,
    num_tables: u32,
    num_globals: u32,
    num_tags: u32,
    num_funcs: u32,
}

impl VMOffsets {
    /// Offset of the magic value.
    pub const MAGIC: u32 = 0;
    /// Offset of the store context pointer.
    pub const STORE_CONTEXT: u32 = 8;
    /// Offset of the libcall table pointer.
    pub const LIBCALLS: u32 = 16;
    /// Offset of the type id array pointer.
    pub const TYPE_IDS: u32 = 24;
    /// Offset of the runtime instance back-pointer.
    pub const INSTANCE: u32 = 32;
    const HEADER: u32 = 40;

    /// The layout for `module`.
    pub fn new(module: &Module) -> VMOffsets {
        VMOffsets {
            num_memories: module.memories.len() as u32,
            num_tables: module.tables.len() as u32,
            num_globals: module.globals.len() as u32,
            num_tags: module.tags.len() as u32,
            num_funcs: module.functions.len() as u32,
        }
    }

    /// Offset of the pointer to memory `i`'s definition.
    pub fn memory(&self, i: u32) -> u32 {
        assert!(i < self.num_memories);
        Self::HEADER + 8 * i
    }
    /// Offset of the pointer to table `i`'s definition.
    pub fn table(&self, i: u32) -> u32 {
        assert!(i < self.num_tables);
        Self::HEADER + 8 * (self.num_memories + i)
    }
    /// Offset of the pointer to global `i`'s storage.
    pub fn global(&self, i: u32) -> u32 {
        assert!(i < self.num_globals);
        Self::HEADER + 8 * (self.num_memories + self.num_tables + i)
    }
    /// Offset of the pointer to tag `i`'s identity (the address of the defining instance's
    /// tag, the same in every module that imports it).
    pub fn tag(&self, i: u32) -> u32 {
        assert!(i < self.num_tags);
        Self::HEADER + 8 * (self.num_memories + self.num_tables + self.num_globals + i)
    }
    fn func_refs_start(&self) -> u32 {
        Self::HEADER + 8 * (self.num_memories + self.num_tables + self.num_globals + self.num_tags)
    }
    /// Offset of function `i`'s `VMFuncRef`.
    pub fn func_ref(&self, i: u32) -> u32 {
        assert!(i < self.num_funcs);
        self.func_refs_start() + func_ref::SIZE * i
    }
    /// Total size of the VMContext in bytes.
    pub fn size(&self) -> u32 {
        self.func_refs_start() + func_ref::SIZE * self.num_funcs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_do_not_overlap() {
        let o = VMOffsets { num_memories: 2, num_tables: 3, num_globals: 4, num_tags: 2, num_funcs: 5 };
        assert_eq!(o.memory(0), 40);
        assert_eq!(o.table(0), o.memory(1) + 8);
        assert_eq!(o.global(0), o.table(2) + 8);
        assert_eq!(o.tag(0), o.global(3) + 8);
        assert_eq!(o.func_ref(0), o.tag(1) + 8);
        assert_eq!(o.size(), o.func_ref(4) + func_ref::SIZE);
    }
}
