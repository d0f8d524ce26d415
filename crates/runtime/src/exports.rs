//! The exports of a module instance: [`Instance::get_export`] and its typed shorthands.
//!
//! Only reading: an instance's exports are handles made from what its VMContext holds, so
//! this needs the store and the handles and nothing of instantiation or calls (a host
//! function's `Caller` reads exports through here while the instance is running).

use crate::handles::{Extern, Func, Global, Instance, Memory, Table};
use crate::store::{AsContext, StoreOpaque};
use std::ptr::NonNull;
use weld_environ::{EntityIndex, FuncIndex};

impl Instance {
    /// Function `f` of the instance.
    #[inline]
    pub(crate) fn func(&self, s: &StoreOpaque, f: FuncIndex) -> Func {
        let ptr = s.instance(self.id).func_ref(f);
        Func::from_raw(self.store, NonNull::new(ptr).unwrap())
    }

    #[inline]
    fn extern_for(&self, s: &StoreOpaque, e: EntityIndex) -> Extern {
        let inst = s.instance(self.id);
        match e {
            EntityIndex::Func(f) => Extern::Func(self.func(s, f)),
            EntityIndex::Memory(m) => Extern::Memory(Memory { store: self.store, index: inst.memories[m] }),
            EntityIndex::Table(t) => Extern::Table(Table { store: self.store, index: inst.tables[t] }),
            EntityIndex::Global(g) => Extern::Global(Global { store: self.store, index: inst.globals[g] }),
            EntityIndex::Tag(t) => Extern::Tag(crate::Tag { store: self.store, index: inst.tags[t] }),
        }
    }

    /// The export named `name`.
    #[inline]
    pub fn get_export(&self, store: impl AsContext, name: &str) -> Option<Extern> {
        let s = store.as_context().opaque();
        s.check_owner(self.store);
        let e = s.instance(self.id).module.export(name)?;
        Some(self.extern_for(s, e))
    }

    /// Every export, in order.
    #[inline]
    pub fn exports(&self, store: impl AsContext) -> Vec<(String, Extern)> {
        let s = store.as_context().opaque();
        s.check_owner(self.store);
        let module = s.instance(self.id).module.clone();
        module.env().exports.iter().map(|(n, e)| (n.clone(), self.extern_for(s, *e))).collect()
    }

    /// The exported function `name`.
    #[inline]
    pub fn get_func(&self, store: impl AsContext, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported memory `name`.
    #[inline]
    pub fn get_memory(&self, store: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported table `name`.
    #[inline]
    pub fn get_table(&self, store: impl AsContext, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global `name`.
    #[inline]
    pub fn get_global(&self, store: impl AsContext, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }
}
