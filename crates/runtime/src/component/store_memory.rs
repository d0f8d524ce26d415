//! The canonical ABI's view of a guest inside a store: [`StoreMemory`] gives lifting and
//! lowering ([`super::canonical`]) the bytes of the memory named by a function's canonical
//! options, calls the `realloc` they name, and moves resource handles in and out of the handle
//! table of the component instance the options belong to, lending owned handles to the call
//! in progress when their borrows are lifted (borrow scopes are kept here too). It knows whose memory it is in the
//! call (the caller's or the callee's), which trap messages name. Bounds and alignment of what
//! `realloc` returns are checked by the canonical ABI code, not here.

use super::canonical::{self, GuestMemory};
use super::handle_table::{BorrowScope, HandleTable, Slot};
use super::resources::ResourceAny;
use super::state::{InstanceState, Realloc};
use super::types::InterfaceType;
use crate::func::call_raw_trapping_on_throw;
use crate::handles::ComponentInstanceId;
use crate::store::StoreInner;
use crate::vm::memory::VMMemoryDefinition;
use crate::{Func, ValRaw};
use anyhow::{Result, bail};
use std::ptr::NonNull;
use weld_environ::component::adapt::CallSide;
use weld_environ::component::info::{
    Options, RuntimeComponentInstanceIndex, RuntimeReallocIndex, RuntimeResourceIndex,
};

/// A guest memory, `realloc` and handle table inside a store.
pub(crate) struct StoreMemory<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    /// Where the memory's base and length are kept (boxed by the store, at a fixed address,
    /// and updated in place when the memory grows): found once, rather than through the
    /// store's memories on every read.
    definition: Option<NonNull<VMMemoryDefinition>>,
    /// The `realloc` of the canonical options (which of the instance's it is, and a copy of
    /// it, whose entry trampoline is filled in on the first call).
    pub(crate) realloc: Option<(RuntimeReallocIndex, Realloc)>,
    pub(crate) memory64: bool,
    /// The component instance (in the store).
    pub(crate) instance: ComponentInstanceId,
    /// The handle table (the runtime component instance inside it).
    pub(crate) table: RuntimeComponentInstanceIndex,
    /// Whose memory it is in the call.
    pub(crate) side: CallSide,
    /// The task that borrowed handles lowered here are lent to (its arguments are being
    /// lowered); `None`: the synchronous call in progress.
    pub(crate) borrow_task: Option<usize>,
}

impl<T> StoreMemory<'_, T> {
    /// The entry trampoline of realloc `r` (`f`), looked up in the engine the first time this
    /// instance's `realloc` is called and kept in the instance from then on (instantiating
    /// does not look them up: most instances never call the host's lowering of a string).
    #[cold]
    fn first_realloc_entry(&mut self, r: RuntimeReallocIndex, f: Func) -> Result<Option<usize>> {
        let entry = f.entry_trampoline(self.store.opaque().engine())?.map(|e| e as usize);
        self.store.opaque_mut().component_instance_mut(self.instance).reallocs[r].entry = entry;
        Ok(entry)
    }

    /// The handle table and a namer of resource types for error messages.
    #[inline]
    fn table(&mut self) -> (&mut HandleTable, impl Fn(RuntimeResourceIndex) -> String + '_) {
        let state = self.store.opaque_mut().component_instance_mut(self.instance);
        let types = &state.resource_types;
        (&mut state.handles[self.table], move |r: RuntimeResourceIndex| types[r].to_string())
    }
}

/// The runtime resource a handle type names (`ResourceId(i)` is the component's `i`th), and
/// whether the handle is owned.
#[inline]
fn resource_of(ty: &InterfaceType) -> (RuntimeResourceIndex, bool) {
    match ty {
        InterfaceType::Own(r) => (RuntimeResourceIndex::from_u32(r.0), true),
        InterfaceType::Borrow(r) => (RuntimeResourceIndex::from_u32(r.0), false),
        _ => unreachable!("only handle types reach the handle methods"),
    }
}

impl<T> GuestMemory for StoreMemory<'_, T> {
    #[inline]
    fn bytes(&self) -> &[u8] {
        match self.definition {
            // SAFETY: the definition belongs to a memory of the store this borrows, which
            // keeps it boxed until the store is dropped; its `current_length` bytes from `base`
            // are the memory's. Nothing can grow or write the memory while the returned slice
            // borrows `self` (that needs the store, which `self` holds mutably).
            Some(def) => unsafe {
                let def = def.as_ref();
                std::slice::from_raw_parts(def.base, def.current_length)
            },
            None => &[],
        }
    }

    #[inline]
    fn bytes_mut(&mut self) -> &mut [u8] {
        match self.definition {
            // SAFETY: as in `bytes`, with exclusive access through `&mut self`.
            Some(def) => unsafe {
                let def = def.as_ref();
                std::slice::from_raw_parts_mut(def.base, def.current_length)
            },
            None => &mut [],
        }
    }

    fn realloc(&mut self, old_ptr: u64, old_size: u64, align: u32, new_size: u64) -> Result<u64> {
        let Some((r, Realloc { func: f, mut entry })) = self.realloc else {
            bail!("a string or list must be allocated, but the canonical options name no realloc");
        };
        if entry.is_none() {
            entry = self.first_realloc_entry(r, f)?;
            self.realloc = Some((r, Realloc { func: f, entry }));
        }
        let mut slots =
            [ValRaw::u64(old_ptr), ValRaw::u64(old_size), ValRaw::u64(u64::from(align)), ValRaw::u64(new_size)];
        // SAFETY: validation checked that `realloc` has type (ptr, ptr, i32, ptr) -> ptr for
        // this memory's pointer type, so four slots hold its parameters and its result;
        // `entry` is the entry trampoline of that function (`None` for a host one).
        unsafe { call_raw_trapping_on_throw(self.store, f, entry.map(|e| e as *const u8), &mut slots)? };
        let result = slots[0].get_u64();
        Ok(if self.memory64 { result } else { u64::from(result as u32) })
    }

    #[inline]
    fn memory64(&self) -> bool {
        self.memory64
    }

    #[inline]
    fn side(&self) -> Option<CallSide> {
        Some(self.side)
    }

    fn lower_handle(&mut self, ty: &InterfaceType, handle: &ResourceAny) -> Result<u32> {
        let (resource, own) = resource_of(ty);
        let state = self.store.opaque().component_instance(self.instance);
        let expected = state.resource_types[resource];
        if handle.ty() != expected {
            bail!("resource type mismatch: expected a handle to a {expected}, found one to a {}", handle.ty());
        }
        let defined_here = state.component.info().defines_resource(self.table, resource);
        let rep = handle.rep();
        let borrow_task = self.borrow_task;
        let (table, _) = self.table();
        if own {
            if !handle.owned() {
                bail!("a borrowed handle cannot be passed where an owned one (own<..>) is expected");
            }
            return table.add(Slot::Own { resource, rep, lends: 0 });
        }
        // A borrow of a resource the receiving instance defines is passed as its rep.
        if defined_here {
            return Ok(rep);
        }
        match borrow_task {
            None => table.add_call_borrow(resource, rep),
            Some(task) => {
                let index = table.add(Slot::Borrow { resource, rep, scope: BorrowScope::task(task) })?;
                if let Some(t) = self.store.opaque_mut().concurrent.tasks.get_mut(task) {
                    t.num_borrows += 1;
                }
                Ok(index)
            }
        }
    }

    fn lift_async_value(&mut self, ty: &InterfaceType, index: u32) -> Result<super::values::Val> {
        super::concurrent::transfer::lift_value(self.store, (self.instance, self.table), ty, index)
    }

    fn lower_async_value(&mut self, ty: &InterfaceType, val: &super::values::Val) -> Result<u32> {
        super::concurrent::transfer::lower_value(self.store, (self.instance, self.table), ty, val)
    }

    fn lift_handle(&mut self, ty: &InterfaceType, index: u32) -> Result<ResourceAny> {
        let (resource, own) = resource_of(ty);
        let rtype = self.store.opaque().component_instance(self.instance).resource_types[resource];
        let (rep, owned) = {
            let (table, names) = self.table();
            if own {
                return Ok(ResourceAny::new(rtype, table.take_own(index, resource, &names)?, true));
            }
            match table.get(index, resource, &names)? {
                Slot::Own { rep, .. } => (rep, true),
                Slot::Borrow { rep, .. } => (rep, false),
                _ => unreachable!("get returns only resource handles"),
            }
        };
        if owned {
            // The spec's `lift_borrow`: the call borrows the owned handle until it ends.
            lend_for_call(self.store.opaque_mut().component_instance_mut(self.instance), self.table, index);
        }
        Ok(ResourceAny::new(rtype, rep, false))
    }
}

/// Opens the borrow scope of a call that may lend handles: the spec's subtask, as the lender
/// of the owned handles whose borrows are passed to the callee.
#[inline]
pub(crate) fn begin_borrow_scope(state: &mut InstanceState) {
    state.call_scopes.push(Vec::new());
}

/// Lends the owned handle at `index` of handle table `table` to the call in progress (the
/// spec's `add_lender`): it cannot be dropped or moved until the call ends. Outside a call
/// (a view of guest memory read after its call) nothing is lent.
#[inline]
pub(crate) fn lend_for_call(state: &mut InstanceState, table: RuntimeComponentInstanceIndex, index: u32) {
    if let Some(scope) = state.call_scopes.last_mut() {
        state.handles[table].lend(index);
        scope.push((table, index));
    }
}

/// Closes the innermost borrow scope: the handles lent in it are returned.
#[inline]
pub(crate) fn end_borrow_scope(state: &mut InstanceState) {
    for (table, index) in state.call_scopes.pop().unwrap_or_default() {
        state.handles[table].unlend(index);
    }
}

/// The canonical memory, realloc and string encoding that `options` name in instance
/// `instance`, whose memory is that of `side` in the call.
#[inline]
pub(crate) fn guest_memory<'a, T>(
    store: &'a mut StoreInner<T>,
    instance: ComponentInstanceId,
    options: &Options,
    side: CallSide,
) -> (StoreMemory<'a, T>, canonical::Options) {
    let state = store.opaque().component_instance(instance);
    let definition = options.memory.map(|m| NonNull::from(&*store.opaque().memory(state.memories[m].index).def));
    let realloc = options.realloc.map(|r| (r, state.reallocs[r]));
    let opts = canonical::Options {
        string_encoding: options.string_encoding,
        lift_bytes: store.opaque().engine().config().component_val_bytes,
    };
    let table = options.instance;
    let memory64 = options.memory64;
    (StoreMemory { store, definition, realloc, memory64, instance, table, side, borrow_task: None }, opts)
}
