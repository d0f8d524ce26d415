//! What a component instance owns in its store ([`InstanceState`]): its core instances, the
//! core items its canonical options and lowered imports resolve to (memories, reallocs,
//! post-returns, lowered host functions, intrinsics, adapters), its handle tables and resource
//! types, its reentrance flags, and the bookkeeping of a call in progress (borrow scopes).
//!
//! Plain data that the store holds (`StoreOpaque::component_instance`): no behaviour, so that
//! the store can own it without depending on the code that instantiates or calls components.

use super::compiled::{ExportedFuncIndex, LinkedComponent};
use super::handle_table::HandleTable;
use super::resources::ResourceType;
use crate::handles::{Func, Global, Instance, Memory};
use crate::vm::vmcontext::VMGlobalDefinition;
use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::Arc;
use weld_environ::component::adapt::AdapterLibcall;
use weld_environ::component::info::{
    AsyncBuiltinIndex, AsyncCallIndex, FusedIndex, IntrinsicIndex, LoweredIndex, RuntimeComponentInstanceIndex,
    RuntimeInstanceIndex, RuntimeMemoryIndex, RuntimePostReturnIndex, RuntimeReallocIndex, RuntimeResourceIndex,
};
use weld_environ::{PrimaryMap, SecondaryMap};

/// What a component instance owns in its store.
pub(crate) struct InstanceState {
    /// The flattened component it is an instance of.
    pub(crate) component: Arc<LinkedComponent>,
    /// Core instances in creation order.
    pub(crate) core: PrimaryMap<RuntimeInstanceIndex, Instance>,
    /// Lowered host imports.
    pub(crate) lowered: PrimaryMap<LoweredIndex, Func>,
    /// The memories, reallocs and post-returns that canonical options name.
    pub(crate) memories: PrimaryMap<RuntimeMemoryIndex, Memory>,
    /// See `memories`.
    pub(crate) reallocs: PrimaryMap<RuntimeReallocIndex, Realloc>,
    /// See `memories`.
    pub(crate) post_returns: PrimaryMap<RuntimePostReturnIndex, Func>,
    /// The core function of each exported lifted function, by its number in the component.
    pub(crate) callees: PrimaryMap<ExportedFuncIndex, Func>,
    /// The address of the entry trampoline of each of `callees` (`None` for a host function).
    pub(crate) callee_entries: PrimaryMap<ExportedFuncIndex, Option<usize>>,
    /// The address of the entry trampoline of each of `post_returns`.
    pub(crate) post_return_entries: PrimaryMap<RuntimePostReturnIndex, Option<usize>>,
    /// Room for the flat parameters of a host call, kept between calls.
    pub(crate) flat_scratch: Vec<u64>,
    /// The flags (`may_leave`, `may_enter`) of each runtime component instance, as globals
    /// shared with the adapters. `may_enter` is cleared while a call is inside the instance
    /// and stays cleared after a trap in it, which leaves it unusable.
    pub(crate) flags: PrimaryMap<RuntimeComponentInstanceIndex, SharedGlobal>,
    /// The slots of the current task's context (`context.get`/`context.set`), as `i64`
    /// globals shared with the adapters, which give each call's task a context of zeros and
    /// put the caller's back after it; empty when the component uses no context built-in.
    pub(crate) task_context: Vec<SharedGlobal>,
    /// The adapter of each fused call, once its adapter module is instantiated.
    pub(crate) fused: SecondaryMap<FusedIndex, Option<Func>>,
    /// The runtime functions adapters import, created on first use.
    pub(crate) libcalls: HashMap<AdapterLibcall, Func>,
    /// For each fused call in progress that lends handles: the (table, index) of each owned
    /// handle lent, returned when the call ends.
    pub(crate) call_scopes: Vec<Vec<(RuntimeComponentInstanceIndex, u32)>>,
    /// One handle table per component instance inside the flattened component.
    pub(crate) handles: PrimaryMap<RuntimeComponentInstanceIndex, HandleTable>,
    /// The type of each runtime resource of the component.
    pub(crate) resource_types: PrimaryMap<RuntimeResourceIndex, ResourceType>,
    /// The core functions of the resource intrinsics.
    pub(crate) intrinsics: PrimaryMap<IntrinsicIndex, Func>,
    /// The core functions of the async and threads built-ins (see `intrinsics.rs`).
    pub(crate) async_builtins: PrimaryMap<AsyncBuiltinIndex, Func>,
    /// The `backpressure` counter of each runtime component instance.
    pub(crate) backpressure: SecondaryMap<RuntimeComponentInstanceIndex, u32>,
    /// The core functions of the calls between components that the runtime makes
    /// (`concurrent/tasks.rs`).
    pub(crate) async_calls: PrimaryMap<AsyncCallIndex, Func>,
}

/// A `realloc` that canonical options name.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Realloc {
    /// The core function.
    pub(crate) func: Func,
    /// The address of its entry trampoline, once the host has called it (`None` before, and
    /// for a host function): instantiating does not look it up, as most instances never
    /// have a string lowered into them by the host.
    pub(crate) entry: Option<usize>,
}

/// A global that adapters import and the host reads and writes: an instance's flags, or a
/// slot of the current task's context.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SharedGlobal {
    /// The global the adapters import.
    pub(crate) global: Global,
    /// Where that global keeps its value, for the host's reads and writes.
    pub(crate) cell: GlobalCell,
}

/// The value of a [`SharedGlobal`], where the store keeps it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GlobalCell(NonNull<VMGlobalDefinition>);

// SAFETY: the cell points into a global owned by the same store as the component instance
// that holds the cell, and is used only through that store, by whichever thread owns it.
unsafe impl Send for GlobalCell {}

impl GlobalCell {
    /// The cell of a global's definition, which the store keeps boxed.
    pub(crate) fn new(def: &mut VMGlobalDefinition) -> GlobalCell {
        GlobalCell(NonNull::from(def))
    }

    /// The value of an `i32` global.
    #[inline]
    pub(crate) fn get(self) -> i32 {
        // SAFETY: the definition is boxed by the store's globals, which never drop one before
        // the store itself, and the store is borrowed by whoever asks; an i32 global keeps its
        // value little-endian in its first four bytes.
        i32::from_le(unsafe { self.0.cast::<i32>().read() })
    }

    /// Sets the value of an `i32` global.
    #[inline]
    pub(crate) fn set(self, value: i32) {
        // SAFETY: as in `get`; the store is borrowed mutably by whoever sets it, and the other
        // bytes of an i32 global stay zero.
        unsafe { self.0.cast::<i32>().write(value.to_le()) }
    }

    /// The value of an `i64` global.
    #[inline]
    pub(crate) fn get_i64(self) -> i64 {
        // SAFETY: as in `get`; an i64 global keeps its value little-endian in its first eight
        // bytes (a definition is 16 bytes, aligned to 16).
        i64::from_le(unsafe { self.0.cast::<i64>().read() })
    }

    /// Sets the value of an `i64` global.
    #[inline]
    pub(crate) fn set_i64(self, value: i64) {
        // SAFETY: as in `get_i64`, with the store borrowed mutably by whoever sets it.
        unsafe { self.0.cast::<i64>().write(value.to_le()) }
    }
}
