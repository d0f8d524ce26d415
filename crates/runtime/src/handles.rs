//! Handles: the small copyable values by which the embedder names what a store owns
//! ([`Func`], [`Global`], [`Memory`], [`Table`], [`Instance`], and [`Extern`], any one of them),
//! each tagged with the [`StoreId`] of its store.
//!
//! Only the handles' data and what can be read from the handle alone live here; what needs the
//! store (types, calls, reads and writes) is in the module of each kind (`func.rs`,
//! `externals.rs`, `exports.rs`, ...). Keeping the data apart lets the store, values and
//! component state name handles without depending on the code that uses them.

use crate::vm::vmcontext::{InstanceId, StoreIndex, VMFuncRef};
use std::ptr::NonNull;
use weld_environ::VMHOST_CONTEXT_MAGIC;

/// A store's unique id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoreId(pub(crate) u64);

weld_environ::entity_index! {
    /// A component instance in its store (an index of the store's component instances).
    pub(crate) struct ComponentInstanceId;
}

/// A function in a store: defined by a wasm instance or by the host.
#[derive(Clone, Copy, Debug)]
pub struct Func {
    store: StoreId,
    func_ref: NonNull<VMFuncRef>,
}

// SAFETY: a Func is an identifier; the pointer is only dereferenced with its store, which
// `check_owner` verifies.
unsafe impl Send for Func {}
// SAFETY: as above.
unsafe impl Sync for Func {}

impl Func {
    #[inline]
    pub(crate) fn from_raw(store: StoreId, func_ref: NonNull<VMFuncRef>) -> Func {
        Func { store, func_ref }
    }

    #[inline]
    pub(crate) fn store_id(&self) -> StoreId {
        self.store
    }

    #[inline]
    pub(crate) fn func_ref_ptr(&self) -> *mut VMFuncRef {
        self.func_ref.as_ptr()
    }

    /// The function's `VMFuncRef`, copied.
    #[inline]
    pub(crate) fn func_ref(&self) -> VMFuncRef {
        // SAFETY: the VMFuncRef lives as long as the store that owns this Func, and callers
        // have checked the store (or reached this Func through it).
        unsafe { *self.func_ref.as_ref() }
    }

    #[inline]
    pub(crate) fn type_id(&self) -> u32 {
        self.func_ref().type_id
    }

    /// Whether this is a host function.
    #[inline]
    pub(crate) fn is_host(&self) -> bool {
        // SAFETY: see `func_ref`; a context always starts with its magic u32.
        unsafe { *self.func_ref().vmctx.cast::<u32>() == VMHOST_CONTEXT_MAGIC }
    }
}

/// An instance of a module in a store.
#[derive(Clone, Copy, Debug)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) id: InstanceId,
}

impl Instance {
    #[inline]
    pub(crate) fn from_id(store: StoreId, id: InstanceId) -> Instance {
        Instance { store, id }
    }
}

/// A global variable in a store.
#[derive(Clone, Copy, Debug)]
pub struct Global {
    pub(crate) store: StoreId,
    pub(crate) index: StoreIndex,
}

/// A linear memory in a store.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    pub(crate) store: StoreId,
    pub(crate) index: StoreIndex,
}

/// A table in a store.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub(crate) store: StoreId,
    pub(crate) index: StoreIndex,
}

/// An exception tag in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    pub(crate) store: StoreId,
    pub(crate) index: StoreIndex,
}

/// A reference to an exception a wasm handler caught with `catch_ref`/`catch_all_ref` (the
/// only way wasm gets a non-null `exnref`, and one that keeps the exception for the store's
/// life), as the host sees it in a `Val`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExnRef {
    pub(crate) store: StoreId,
    /// The `exnref` as compiled code holds it.
    pub(crate) raw: u64,
}

/// An entity that can be imported or exported.
#[derive(Clone, Debug)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A global.
    Global(Global),
    /// A table.
    Table(Table),
    /// A linear memory.
    Memory(Memory),
    /// An exception tag.
    Tag(Tag),
}

impl Extern {
    /// The function, if it is one.
    #[inline]
    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self { Some(f) } else { None }
    }
    /// The global, if it is one.
    #[inline]
    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self { Some(g) } else { None }
    }
    /// The table, if it is one.
    #[inline]
    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self { Some(t) } else { None }
    }
    /// The memory, if it is one.
    #[inline]
    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self { Some(m) } else { None }
    }
    /// The tag, if it is one.
    #[inline]
    pub fn into_tag(self) -> Option<Tag> {
        if let Extern::Tag(t) = self { Some(t) } else { None }
    }
}

impl From<Func> for Extern {
    #[inline]
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}
impl From<Global> for Extern {
    #[inline]
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}
impl From<Table> for Extern {
    #[inline]
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
impl From<Memory> for Extern {
    #[inline]
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
impl From<Tag> for Extern {
    #[inline]
    fn from(t: Tag) -> Extern {
        Extern::Tag(t)
    }
}
