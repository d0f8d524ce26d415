//! What a component instance owns in its store ([`InstanceState`]): its core instances, the
//! core items its canonical options and lowered imports resolve to (memories, reallocs,
//! post-returns, lowered host functions, intrinsics, adapters), its handle tables and resource
//! types, its reentrance flags, and the bookkeeping of a call in progress (post-return, borrow
//! scopes).
//!
//! Plain data that the store holds (`StoreOpaque::component_instance`): no behaviour, so that
//! the store can own it without depending on the code that instantiates or calls components.

use super::compiled::LinkedComponent;
use super::handle_table::HandleTable;
use super::resources::ResourceType;
use crate::handles::{Func, Global, Instance, Memory};
use crate::vm::valraw::ValRaw;
use std::collections::HashMap;
use std::sync::Arc;
use weld_environ::component::adapt::AdapterLibcall;

/// What a component instance owns in its store.
pub(crate) struct InstanceState {
    /// The flattened component it is an instance of.
    pub(crate) component: Arc<LinkedComponent>,
    /// Core instances in creation order.
    pub(crate) core: Vec<Instance>,
    /// Lowered host imports.
    pub(crate) lowered: Vec<Func>,
    pub(crate) memories: Vec<Memory>,
    pub(crate) reallocs: Vec<Func>,
    pub(crate) post_returns: Vec<Func>,
    /// The core function of each exported lifted function, by its number in the component.
    pub(crate) callees: Vec<Func>,
    /// The address of the entry trampoline of each of `callees` (`None` for a host function).
    pub(crate) callee_entries: Vec<Option<usize>>,
    /// The address of the entry trampoline of each of `post_returns`.
    pub(crate) post_return_entries: Vec<Option<usize>>,
    /// Room for the flat parameters of a host call, kept between calls.
    pub(crate) flat_scratch: Vec<u64>,
    /// The flags (`may_leave`, `may_enter`) of each runtime component instance, as globals
    /// shared with the adapters. `may_enter` is cleared while a call is inside the instance
    /// and stays cleared after a trap in it, which leaves it unusable.
    pub(crate) flags: Vec<Global>,
    /// The adapter of each fused call, once its adapter module is instantiated.
    pub(crate) fused: Vec<Option<Func>>,
    /// The runtime functions adapters import, created on first use.
    pub(crate) libcalls: HashMap<AdapterLibcall, Func>,
    /// For each fused call in progress that lends handles: the (table, index) of each owned
    /// handle lent, returned when the call ends.
    pub(crate) call_scopes: Vec<Vec<(usize, u32)>>,
    /// A call whose results were returned but whose `post-return` has not run yet.
    pub(crate) pending_post_return: Option<PendingPostReturn>,
    /// One handle table per component instance inside the flattened component.
    pub(crate) handles: Vec<HandleTable>,
    /// The type of each runtime resource of the component.
    pub(crate) resource_types: Vec<ResourceType>,
    /// The core functions of the resource intrinsics.
    pub(crate) intrinsics: Vec<Func>,
    /// The core functions of the async and threads built-ins (see `intrinsics.rs`).
    pub(crate) async_builtins: Vec<Func>,
    /// The `backpressure` counter of each runtime component instance.
    pub(crate) backpressure: Vec<u32>,
}

/// What `Func::post_return` must still do after a call.
pub(crate) struct PendingPostReturn {
    /// The exported function that was called.
    pub(crate) func: usize,
    /// Its `post-return` function, if it has one.
    pub(crate) call: Option<PostReturnCall>,
}

/// A `post-return` function to call, with the core result of the call it follows (a lifted
/// function has at most `MAX_FLAT_RESULTS`, one, core result).
pub(crate) struct PostReturnCall {
    pub(crate) func: Func,
    /// The address of its entry trampoline.
    pub(crate) entry: Option<usize>,
    pub(crate) result: Option<ValRaw>,
}
