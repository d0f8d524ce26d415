//! The Rust-side shapes of the structures JIT code reads, matching the offsets in
//! weld_environ's `vmoffsets` (checked by the tests at the bottom), and the instance data that
//! owns a VMContext.

use crate::module::Module;
use std::sync::atomic::AtomicU64;
use weld_environ::{
    DataIndex, ElemIndex, FuncIndex, GlobalIndex, GlobalType, MemoryIndex, PrimaryMap, SecondaryMap, TableIndex,
    VMOffsets,
};

/// A function reference: how to call a function and its signature id.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFuncRef {
    /// Code with the wasm calling convention.
    pub wasm_call: *const u8,
    /// The callee's context (an instance's VMContext or a host function's context).
    pub vmctx: *mut u8,
    /// The engine-wide signature id.
    pub type_id: u32,
    _pad: u32,
}

impl VMFuncRef {
    /// Builds a function reference.
    #[inline]
    pub fn new(wasm_call: *const u8, vmctx: *mut u8, type_id: u32) -> VMFuncRef {
        VMFuncRef { wasm_call, vmctx, type_id, _pad: 0 }
    }
}

/// Storage of one global (16 bytes, enough for a v128).
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VMGlobalDefinition {
    /// The little-endian bytes of the value.
    pub bytes: [u8; 16],
}

/// A global owned by a store.
#[derive(Debug)]
pub struct VmGlobal {
    /// Read and written by JIT code; the box gives it a stable address.
    pub def: Box<VMGlobalDefinition>,
    /// Its type.
    pub ty: GlobalType,
}

/// Per-store state that JIT code reads (and, for fuel, writes).
#[repr(C)]
#[derive(Debug)]
pub struct VMStoreContext {
    /// The lowest stack address wasm may use; `usize::MAX` when no wasm is running.
    pub stack_limit: usize,
    /// Minus the fuel wasm may still consume (out of fuel at `>= 0`). JIT code keeps it in a
    /// register and writes it back before calls and checks, so the host sees it current
    /// whenever wasm calls out.
    pub fuel_consumed: i64,
    /// The engine epoch at which wasm is interrupted.
    pub epoch_deadline: u64,
    /// The engine's epoch counter (the engine outlives every store of it).
    pub epoch_counter: *const AtomicU64,
    /// The engine's preserve-all stub calling the `OutOfFuel` libcall (null without fuel).
    pub out_of_fuel_stub: *const u8,
    /// The engine's preserve-all stub calling the `NewEpoch` libcall (null without epochs).
    pub new_epoch_stub: *const u8,
}

weld_environ::entity_index! {
    /// Identifies an instance inside its store.
    pub struct InstanceId;
    /// Identifies a memory, table or global inside its store.
    pub struct StoreIndex;
}

/// A module instance: the VMContext and what it refers to.
pub struct InstanceData {
    /// The instance's id in its store.
    pub id: InstanceId,
    /// The module it instantiates.
    pub module: Module,
    /// The VMContext, 16-byte aligned.
    vmctx: Box<[u128]>,
    /// Store indices of its memories, tables and globals (imported ones first).
    pub memories: PrimaryMap<MemoryIndex, StoreIndex>,
    /// See `memories`.
    pub tables: PrimaryMap<TableIndex, StoreIndex>,
    /// See `memories`.
    pub globals: PrimaryMap<GlobalIndex, StoreIndex>,
    /// Store indices of its exception tags (imported ones first).
    pub tags: PrimaryMap<weld_environ::TagIndex, StoreIndex>,
    /// Which passive data segments were dropped.
    pub dropped_data: SecondaryMap<DataIndex, bool>,
    /// Which element segments were dropped.
    pub dropped_elems: SecondaryMap<ElemIndex, bool>,
    /// The store that owns this instance: a `*mut StoreOpaque`, erased so that `vm/` does not
    /// name the store; only the libcalls read it back.
    pub store: *mut u8,
}

impl InstanceData {
    /// A new instance with a zeroed VMContext.
    pub fn new(id: InstanceId, module: Module, store: *mut u8) -> Box<InstanceData> {
        let size = module.offsets().size() as usize;
        let n = module.env().data.len();
        let e = module.env().elements.len();
        Box::new(InstanceData {
            id,
            vmctx: vec![0u128; size.div_ceil(16)].into_boxed_slice(),
            module,
            memories: PrimaryMap::new(),
            tables: PrimaryMap::new(),
            globals: PrimaryMap::new(),
            tags: PrimaryMap::new(),
            dropped_data: SecondaryMap::from(vec![false; n]),
            dropped_elems: SecondaryMap::from(vec![false; e]),
            store,
        })
    }

    /// The VMContext's address.
    #[inline]
    pub fn vmctx(&self) -> *mut u8 {
        self.vmctx.as_ptr() as *mut u8
    }

    /// Writes a pointer-sized value at `offset` in the VMContext.
    #[inline]
    pub fn write_usize(&mut self, offset: u32, value: usize) {
        assert!(offset as usize + 8 <= self.vmctx.len() * 16);
        // SAFETY: checked in bounds above; the VMContext is 16-byte aligned and `offset` is a
        // multiple of 8 by construction of VMOffsets.
        unsafe { self.vmctx().add(offset as usize).cast::<usize>().write(value) }
    }

    /// Writes a u32 at `offset` in the VMContext.
    #[inline]
    pub fn write_u32(&mut self, offset: u32, value: u32) {
        assert!(offset as usize + 4 <= self.vmctx.len() * 16);
        // SAFETY: as in `write_usize`.
        unsafe { self.vmctx().add(offset as usize).cast::<u32>().write(value) }
    }

    /// The address of function `f`'s `VMFuncRef` in the VMContext.
    #[inline]
    pub fn func_ref(&self, f: FuncIndex) -> *mut VMFuncRef {
        let offset = self.module.offsets().func_ref(f.as_u32());
        // SAFETY: the offset lies inside the VMContext.
        unsafe { self.vmctx().add(offset as usize).cast() }
    }

    /// The instance whose VMContext is `vmctx`.
    ///
    /// # Safety
    /// `vmctx` must be the VMContext of a live instance.
    #[inline]
    pub unsafe fn from_vmctx<'a>(vmctx: *mut u8) -> &'a mut InstanceData {
        // SAFETY: the caller guarantees a live VMContext, whose INSTANCE slot points back to
        // its InstanceData.
        unsafe { &mut **vmctx.add(VMOffsets::INSTANCE as usize).cast::<*mut InstanceData>() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};
    use weld_environ::{func_ref, memory_def, store_context, table_def};

    #[test]
    fn layouts_match_environ() {
        assert_eq!(offset_of!(VMFuncRef, wasm_call) as u32, func_ref::WASM_CALL);
        assert_eq!(offset_of!(VMFuncRef, vmctx) as u32, func_ref::VMCTX);
        assert_eq!(offset_of!(VMFuncRef, type_id) as u32, func_ref::TYPE_ID);
        assert_eq!(size_of::<VMFuncRef>() as u32, func_ref::SIZE);
        use crate::vm::memory::VMMemoryDefinition;
        assert_eq!(offset_of!(VMMemoryDefinition, base) as u32, memory_def::BASE);
        assert_eq!(offset_of!(VMMemoryDefinition, current_length) as u32, memory_def::CURRENT_LENGTH);
        use crate::vm::table::VMTableDefinition;
        assert_eq!(offset_of!(VMTableDefinition, base) as u32, table_def::BASE);
        assert_eq!(offset_of!(VMTableDefinition, current_elements) as u32, table_def::CURRENT_ELEMENTS);
        assert_eq!(offset_of!(VMStoreContext, stack_limit) as u32, store_context::STACK_LIMIT);
        assert_eq!(offset_of!(VMStoreContext, fuel_consumed) as u32, store_context::FUEL_CONSUMED);
        assert_eq!(offset_of!(VMStoreContext, epoch_deadline) as u32, store_context::EPOCH_DEADLINE);
        assert_eq!(offset_of!(VMStoreContext, epoch_counter) as u32, store_context::EPOCH_COUNTER);
        assert_eq!(offset_of!(VMStoreContext, out_of_fuel_stub) as u32, store_context::OUT_OF_FUEL_STUB);
        assert_eq!(offset_of!(VMStoreContext, new_epoch_stub) as u32, store_context::NEW_EPOCH_STUB);
        assert_eq!(size_of::<VMGlobalDefinition>() as u32, weld_environ::GLOBAL_SIZE);
    }
}
