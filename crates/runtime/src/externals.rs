//! What can be done with the handles of globals, memories and tables ([`Global`], [`Memory`],
//! [`Table`]) and with an [`Extern`]: create, read, write, grow, ask the type. The handles
//! themselves are in `handles.rs`; functions are in `func.rs`; types in `extern_type.rs`.

use crate::extern_type::ExternType;
use crate::handles::{Extern, Global, Memory, Table};
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::vm::vmcontext::{VMGlobalDefinition, VmGlobal};
use crate::{GlobalType, MemoryType, TableType, Val, ValType};
use anyhow::{Result, bail};
use weld_environ::Mutability;

impl Extern {
    /// Its type.
    #[inline]
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        self.ty_in(store.as_context().opaque())
    }

    pub(crate) fn ty_in(&self, s: &StoreOpaque) -> ExternType {
        match self {
            Extern::Func(f) => ExternType::Func(f.ty_in(s)),
            Extern::Global(g) => ExternType::Global(g.ty_in(s)),
            Extern::Table(t) => ExternType::Table(s.table(t.index).ty()),
            Extern::Memory(m) => ExternType::Memory(s.memory(m.index).ty()),
            Extern::Tag(t) => {
                s.check_owner(t.store);
                ExternType::Tag(crate::TagType::new(s.tags[t.index].ty.clone()))
            }
        }
    }
}

impl Global {
    /// Creates a global of type `ty` holding `init`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, init: Val) -> Result<Global> {
        let s = store.as_context_mut().opaque_mut();
        if !init.matches(ty.ty) {
            bail!("global of type {} cannot hold a value of type {}", ty.ty, init.ty());
        }
        let raw = init.to_raw(s)?;
        let index = s.push_global(VmGlobal { def: Box::new(VMGlobalDefinition { bytes: raw.0 }), ty });
        Ok(Global { store: s.id(), index })
    }

    #[inline]
    pub(crate) fn ty_in(&self, s: &StoreOpaque) -> GlobalType {
        s.global(self.index).ty
    }

    /// The global's type.
    #[inline]
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        self.ty_in(store.as_context().opaque())
    }

    /// The current value.
    #[inline]
    pub fn get(&self, store: impl AsContext) -> Val {
        let s = store.as_context().opaque();
        s.check_owner(self.store);
        let g = s.global(self.index);
        Val::from_raw(s, crate::ValRaw(g.def.bytes), g.ty.ty)
    }

    /// Sets the value of a mutable global.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let s = store.as_context_mut().opaque_mut();
        s.check_owner(self.store);
        let ty = s.global(self.index).ty;
        if ty.mutability() == Mutability::Const {
            bail!("cannot set an immutable global");
        }
        if !value.matches(ty.ty) {
            bail!("global of type {} cannot hold a value of type {}", ty.ty, value.ty());
        }
        let raw = value.to_raw(s)?;
        s.global_mut(self.index).def.bytes = raw.0;
        Ok(())
    }
}

impl Memory {
    /// Creates a memory of type `ty`.
    #[inline]
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let s = store.as_context_mut().opaque_mut();
        let index = s.new_memory(ty, None)?;
        Ok(Memory { store: s.id(), index })
    }

    /// The memory's type with its current size as minimum.
    #[inline]
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        store.as_context().opaque().memory(self.index).ty()
    }

    /// The contents.
    #[inline]
    pub fn data<'a, T: 'a>(&self, store: impl Into<crate::store::StoreContext<'a, T>>) -> &'a [u8] {
        let s = store.into().0;
        s.opaque().check_owner(self.store);
        s.opaque().memory(self.index).data()
    }

    /// The contents, writable.
    #[inline]
    pub fn data_mut<'a, T: 'a>(&self, store: impl Into<crate::store::StoreContextMut<'a, T>>) -> &'a mut [u8] {
        let s = store.into().0;
        s.opaque().check_owner(self.store);
        s.opaque_mut().memory_mut(self.index).data_mut()
    }

    /// The size in pages.
    #[inline]
    pub fn size(&self, store: impl AsContext) -> u64 {
        store.as_context().opaque().memory(self.index).size_pages()
    }

    /// Grows by `delta` pages, returning the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let s = store.as_context_mut().opaque_mut();
        s.check_owner(self.store);
        match s.grow_memory(self.index, delta)? {
            Some(old) => Ok(old),
            None => {
                bail!("failed to grow memory by {delta} pages (beyond its maximum, or refused by the store's limiter)")
            }
        }
    }
}

impl Table {
    /// Creates a table of type `ty` with every element set to `init`.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let s = store.as_context_mut().opaque_mut();
        if !init.matches(ValType::Ref(ty.element)) {
            bail!("table of {} cannot hold a value of type {}", ValType::Ref(ty.element), init.ty());
        }
        let raw = init.to_raw(s)?.get_u64();
        let index = s.new_table(ty, raw)?;
        Ok(Table { store: s.id(), index })
    }

    /// The table's type with its current size as minimum.
    #[inline]
    pub fn ty(&self, store: impl AsContext) -> TableType {
        store.as_context().opaque().table(self.index).ty()
    }

    /// The number of elements.
    #[inline]
    pub fn size(&self, store: impl AsContext) -> u64 {
        store.as_context().opaque().table(self.index).size()
    }

    /// Element `index`, if in bounds.
    pub fn get(&self, store: impl AsContext, index: u64) -> Option<Val> {
        let s = store.as_context().opaque();
        s.check_owner(self.store);
        let t = s.table(self.index);
        let raw = *t.elements().get(usize::try_from(index).ok()?)?;
        Some(Val::from_raw(s, crate::ValRaw::u64(raw), ValType::Ref(t.ty().element)))
    }

    /// Sets element `index`.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, value: Val) -> Result<()> {
        let s = store.as_context_mut().opaque_mut();
        s.check_owner(self.store);
        let elem = ValType::Ref(s.table(self.index).ty().element);
        if !value.matches(elem) {
            bail!("table of {elem} cannot hold a value of type {}", value.ty());
        }
        let raw = value.to_raw(s)?.get_u64();
        let t = s.table_mut(self.index);
        match usize::try_from(index).ok().and_then(|i| t.elements_mut().get_mut(i)) {
            Some(slot) => *slot = raw,
            None => bail!("table index {index} is out of bounds"),
        }
        Ok(())
    }

    /// Grows by `delta` elements set to `init`, returning the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64> {
        let s = store.as_context_mut().opaque_mut();
        s.check_owner(self.store);
        let raw = init.to_raw(s)?.get_u64();
        match s.grow_table(self.index, delta, raw)? {
            Some(old) => Ok(old),
            None => bail!(
                "failed to grow table by {delta} elements (beyond its maximum, or refused by the store's limiter)"
            ),
        }
    }
}
