//! The runtime functions that JIT code calls through the VMContext's libcall table, in the
//! order of `weld_environ::Libcall::ALL`. Those that can trap record the trap as pending and
//! return 1; the JIT code then raises the pending trap.

use crate::const_eval::element_items;
use crate::store::StoreOpaque;
use crate::vm::exception_heap::Exception;
use crate::vm::traphandlers::{set_pending_error, set_pending_panic};
use crate::vm::valraw::ValRaw;
use crate::vm::vmcontext::{InstanceData, StoreIndex};
use std::sync::LazyLock;
use weld_environ::{DataIndex, ElemIndex, GROW_TRAPPED, Libcall, MemoryIndex, TableIndex, TagIndex, Trap};

/// The libcall table shared by every instance.
pub fn libcall_table() -> &'static [usize] {
    static TABLE: LazyLock<Vec<usize>> = LazyLock::new(|| {
        Libcall::ALL
            .iter()
            .map(|l| match l {
                Libcall::MemoryGrow => memory_grow as *const () as usize,
                Libcall::MemoryFill => memory_fill as *const () as usize,
                Libcall::MemoryCopy => memory_copy as *const () as usize,
                Libcall::MemoryInit => memory_init as *const () as usize,
                Libcall::DataDrop => data_drop as *const () as usize,
                Libcall::TableGrow => table_grow as *const () as usize,
                Libcall::TableFill => table_fill as *const () as usize,
                Libcall::TableCopy => table_copy as *const () as usize,
                Libcall::TableInit => table_init as *const () as usize,
                Libcall::ElemDrop => elem_drop as *const () as usize,
                Libcall::OutOfFuel => out_of_fuel as *const () as usize,
                Libcall::NewEpoch => new_epoch as *const () as usize,
                Libcall::ExnNew => exn_new as *const () as usize,
                Libcall::ExnTakePayload => exn_take_payload as *const () as usize,
                Libcall::ExnKeep => exn_keep as *const () as usize,
                Libcall::Throw => crate::vm::unwind::weld_throw_shim as *const () as usize,
            })
            .collect()
    });
    &TABLE
}

/// The instance and store of a libcall's caller.
///
/// # Safety
/// `vmctx` must be a live instance's VMContext, passed by JIT code of that instance.
pub(crate) unsafe fn context<'a>(vmctx: *mut u8) -> (&'a mut InstanceData, &'a mut StoreOpaque) {
    // SAFETY: per the contract, the instance is alive and its store pointer is valid (it is the
    // `StoreOpaque` that created the instance, see `StoreOpaque::push_instance`); JIT code
    // holds no Rust references into either while the libcall runs.
    unsafe {
        let inst = InstanceData::from_vmctx(vmctx);
        let store = &mut *inst.store.cast::<StoreOpaque>();
        (inst, store)
    }
}

#[inline]
fn trap(t: Trap) -> u32 {
    set_pending_error(anyhow::Error::new(t));
    1
}

/// `end = start + len`, if it fits within `bound`.
#[inline]
fn range(start: u64, len: u64, bound: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= bound as u64).then_some(start as usize..end as usize)
}

unsafe extern "C" fn memory_grow(vmctx: *mut u8, memory: u32, delta: u64) -> u64 {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, s) = unsafe { context(vmctx) };
    let index = inst.memories[MemoryIndex::from_u32(memory)];
    grow_result(|| s.grow_memory(index, delta))
}

/// What a grow libcall returns for `grow`'s result: the old size, -1, or (with the error or
/// the limiter's panic pending) [`GROW_TRAPPED`].
#[inline]
fn grow_result(grow: impl FnOnce() -> anyhow::Result<Option<u64>>) -> u64 {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(grow)) {
        Ok(Ok(Some(old))) => old,
        Ok(Ok(None)) => u64::MAX,
        Ok(Err(e)) => {
            set_pending_error(e);
            GROW_TRAPPED
        }
        Err(panic) => {
            set_pending_panic(panic);
            GROW_TRAPPED
        }
    }
}

unsafe extern "C" fn memory_fill(vmctx: *mut u8, memory: u32, dst: u64, byte: u32, len: u64) -> u32 {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, s) = unsafe { context(vmctx) };
    let data = s.memory_mut(inst.memories[MemoryIndex::from_u32(memory)]).data_mut();
    match range(dst, len, data.len()) {
        Some(r) => {
            data[r].fill(byte as u8);
            0
        }
        None => trap(Trap::MemoryOutOfBounds),
    }
}

unsafe extern "C" fn memory_copy(vmctx: *mut u8, dst_mem: u32, dst: u64, src_mem: u32, src: u64, len: u64) -> u32 {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, s) = unsafe { context(vmctx) };
    let (d, sm) = (inst.memories[MemoryIndex::from_u32(dst_mem)], inst.memories[MemoryIndex::from_u32(src_mem)]);
    let dst_len = s.memory(d).data().len();
    let src_data = s.memory(sm).data();
    let (Some(dr), Some(sr)) = (range(dst, len, dst_len), range(src, len, src_data.len())) else {
        return trap(Trap::MemoryOutOfBounds);
    };
    let src_ptr = src_data[sr].as_ptr();
    let dst_ptr = s.memory_mut(d).data_mut()[dr].as_mut_ptr();
    // SAFETY: both ranges were checked against their memories; `copy` allows overlap.
    unsafe { std::ptr::copy(src_ptr, dst_ptr, len as usize) };
    0
}

unsafe extern "C" fn memory_init(vmctx: *mut u8, memory: u32, data: u32, dst: u64, src: u32, len: u32) -> u32 {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, s) = unsafe { context(vmctx) };
    let module = inst.module.clone();
    let segment: &[u8] = if inst.dropped_data[DataIndex::from_u32(data)] {
        &[]
    } else {
        &module.env().data[DataIndex::from_u32(data)].data
    };
    let mem = s.memory_mut(inst.memories[MemoryIndex::from_u32(memory)]).data_mut();
    let (Some(dr), Some(sr)) = (range(dst, len.into(), mem.len()), range(src.into(), len.into(), segment.len())) else {
        return trap(Trap::MemoryOutOfBounds);
    };
    mem[dr].copy_from_slice(&segment[sr]);
    0
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, _) = unsafe { context(vmctx) };
    inst.dropped_data[DataIndex::from_u32(data)] = true;
}

unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, init: u64, delta: u64) -> u64 {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, s) = unsafe { context(vmctx) };
    grow_result(|| s.grow_table(inst.tables[TableIndex::from_u32(table)], delta, init))
}

unsafe extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u64, value: u64, len: u64) -> u32 {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, s) = unsafe { context(vmctx) };
    let elems = s.table_mut(inst.tables[TableIndex::from_u32(table)]).elements_mut();
    match range(dst, len, elems.len()) {
        Some(r) => {
            elems[r].fill(value);
            0
        }
        None => trap(Trap::TableOutOfBounds),
    }
}

unsafe extern "C" fn table_copy(vmctx: *mut u8, dst_table: u32, src_table: u32, dst: u64, src: u64, len: u64) -> u32 {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, s) = unsafe { context(vmctx) };
    let (d, sr): (StoreIndex, StoreIndex) =
        (inst.tables[TableIndex::from_u32(dst_table)], inst.tables[TableIndex::from_u32(src_table)]);
    if d == sr {
        let elems = s.table_mut(d).elements_mut();
        let (Some(dr), Some(srr)) = (range(dst, len, elems.len()), range(src, len, elems.len())) else {
            return trap(Trap::TableOutOfBounds);
        };
        elems.copy_within(srr, dr.start);
    } else {
        let (dt, st) = s.two_tables_mut(d, sr);
        let (Some(dr), Some(srr)) = (range(dst, len, dt.elements().len()), range(src, len, st.elements().len())) else {
            return trap(Trap::TableOutOfBounds);
        };
        dt.elements_mut()[dr].copy_from_slice(&st.elements()[srr]);
    }
    0
}

unsafe extern "C" fn table_init(vmctx: *mut u8, table: u32, elem: u32, dst: u64, src: u32, len: u32) -> u32 {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, s) = unsafe { context(vmctx) };
    let (id, module, index) = (inst.id, inst.module.clone(), inst.tables[TableIndex::from_u32(table)]);
    let items = if inst.dropped_elems[ElemIndex::from_u32(elem)] {
        Vec::new()
    } else {
        match element_items(s, id, &module.env().elements[ElemIndex::from_u32(elem)]) {
            Ok(items) => items,
            Err(e) => {
                set_pending_error(e);
                return 1;
            }
        }
    };
    let elems = s.table_mut(index).elements_mut();
    let (Some(dr), Some(sr)) = (range(dst, len.into(), elems.len()), range(src.into(), len.into(), items.len())) else {
        return trap(Trap::TableOutOfBounds);
    };
    elems[dr].copy_from_slice(&items[sr]);
    0
}

unsafe extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, _) = unsafe { context(vmctx) };
    inst.dropped_elems[ElemIndex::from_u32(elem)] = true;
}

unsafe extern "C" fn out_of_fuel(vmctx: *mut u8) -> u32 {
    // SAFETY: called by JIT code with its own vmctx.
    let (_, s) = unsafe { context(vmctx) };
    if s.refuel() { 0 } else { trap(Trap::OutOfFuel) }
}

unsafe extern "C" fn new_epoch(vmctx: *mut u8) -> u32 {
    // SAFETY: called by JIT code with its own vmctx.
    let (_, s) = unsafe { context(vmctx) };
    // Taken out while it runs (it may set another, which is then replaced, as in Wasmtime).
    let Some(mut callback) = s.epoch_callback.take() else {
        return trap(Trap::Interrupt);
    };
    // The callback reaches the store through its own pointer: `s` is not used while it runs.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut callback));
    // SAFETY: as above; the callback's borrow of the store has ended.
    let (_, s) = unsafe { context(vmctx) };
    s.epoch_callback = Some(callback);
    match result {
        Ok(Ok(Some(ticks))) => {
            s.set_epoch_deadline(ticks);
            0
        }
        Ok(Ok(None)) => trap(Trap::Interrupt),
        Ok(Err(e)) => {
            set_pending_error(e);
            1
        }
        Err(panic) => {
            set_pending_panic(panic);
            1
        }
    }
}

/// `ExnNew`: a new exception of the caller's tag `tag` with the payload at `payload`.
unsafe extern "C" fn exn_new(vmctx: *mut u8, tag: u32, payload: *const ValRaw) -> u64 {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, s) = unsafe { context(vmctx) };
    let tag = inst.tags[TagIndex::from_u32(tag)];
    let n = s.tags[tag].ty.params.len();
    // SAFETY: compiled code stored the tag's `n` payload values at `payload`.
    let payload: Box<[ValRaw]> = unsafe { std::slice::from_raw_parts(payload, n) }.into();
    s.exceptions.alloc(Exception { tag, payload, kept: false })
}

/// `ExnTakePayload`: copies the payload of `exn` to `out` (unless null) and frees it unless it
/// was kept.
unsafe extern "C" fn exn_take_payload(vmctx: *mut u8, exn: u64, out: *mut ValRaw) {
    // SAFETY: called by JIT code with its own vmctx.
    let (_, s) = unsafe { context(vmctx) };
    let e = s.exceptions.get(exn);
    if !out.is_null() {
        // SAFETY: compiled code gives room for the tag's payload at `out`.
        unsafe { std::ptr::copy_nonoverlapping(e.payload.as_ptr(), out, e.payload.len()) };
    }
    if !e.kept {
        s.exceptions.free(exn);
    }
}

/// `ExnKeep`: marks `exn` as handed out and returns the address of its payload.
unsafe extern "C" fn exn_keep(vmctx: *mut u8, exn: u64) -> *const ValRaw {
    // SAFETY: called by JIT code with its own vmctx.
    let (_, s) = unsafe { context(vmctx) };
    let e = s.exceptions.get_mut(exn);
    e.kept = true;
    e.payload.as_ptr()
}
