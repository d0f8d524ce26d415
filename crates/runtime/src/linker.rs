//! `Linker<T>`: a name table of host functions and store items used to satisfy a module's
//! imports by `module::name`, and the stand-ins it can define for imports nobody provides
//! (functions that fail naming the import, or default values).
//!
//! Resolving a module's imports against the table is here (`resolve`); instantiating with the
//! result once (`Linker::instantiate`) is here too, and many times (`InstancePre`) is in
//! `instance_pre.rs`.

use crate::func::{HostFn, host_fn_from_vals};
use crate::store::{AsContext, AsContextMut};
use crate::typed::IntoFunc;
use crate::{
    Caller, Engine, Extern, ExternType, Func, FuncType, Global, Instance, Memory, Module, Table, Val, ValType,
};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::sync::Arc;

/// What a name is defined as: an item of a store, or a host function made anew in each store
/// that instantiates with it.
pub(crate) enum Definition<T> {
    Extern(Extern),
    HostFunc(FuncType, Arc<HostFn<T>>),
}

impl<T> Clone for Definition<T> {
    #[inline]
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(e.clone()),
            Definition::HostFunc(t, f) => Definition::HostFunc(t.clone(), f.clone()),
        }
    }
}

/// Resolves imports by name.
pub struct Linker<T> {
    engine: Engine,
    map: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    #[inline]
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker { engine: engine.clone(), map: HashMap::new(), allow_shadowing: false }
    }

    /// The engine.
    #[inline]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a later definition of a name replaces an earlier one (default: an error).
    #[inline]
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<&mut Self> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.map.contains_key(&key) {
            bail!("`{module}::{name}` is already defined in this linker");
        }
        self.map.insert(key, def);
        Ok(self)
    }

    /// Defines `module::name` as `item`.
    #[inline]
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let _ = store;
        self.insert(module, name, Definition::Extern(item.into()))
    }

    /// Defines `module::name` as a host function from a Rust closure.
    #[inline]
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self> {
        let (ty, raw) = func.into_func();
        self.insert(module, name, Definition::HostFunc(ty, Arc::from(raw)))
    }

    /// Defines `module::name` as a host function of type `ty` over dynamic values.
    #[inline]
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let raw = host_fn_from_vals(ty.clone(), func);
        self.insert(module, name, Definition::HostFunc(ty, raw))
    }

    /// Defines every export of `instance` under the module name `module`.
    #[inline]
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        for (name, item) in instance.exports(store.as_context_mut()) {
            self.insert(module, &name, Definition::Extern(item))?;
        }
        Ok(self)
    }

    /// The definition of `module::name` as an item of `store`.
    #[inline]
    pub fn get(&self, mut store: impl AsContextMut<Data = T>, module: &str, name: &str) -> Option<Extern> {
        let def = self.map.get(&(module.to_string(), name.to_string()))?;
        Self::materialize(store.as_context_mut(), def).ok()
    }

    /// `def` as an item of `store`.
    #[inline]
    pub(crate) fn materialize(store: &mut crate::store::StoreInner<T>, def: &Definition<T>) -> Result<Extern> {
        Ok(match def {
            Definition::Extern(e) => e.clone(),
            Definition::HostFunc(ty, f) => Extern::Func(Func::from_host_fn(store, ty, f.clone())?),
        })
    }

    /// The definition of each of `module`'s imports, in order; an error names the first import
    /// that has none, with its type.
    pub(crate) fn resolve(&self, module: &Module) -> Result<Vec<&Definition<T>>> {
        if !Engine::same(module.engine(), &self.engine) {
            bail!("the module was compiled with a different engine than the linker's");
        }
        module
            .imports()
            .map(|import| {
                let key = (import.module().to_string(), import.name().to_string());
                self.map.get(&key).with_context(|| {
                    let (m, n) = (import.module(), import.name());
                    let define = match import.ty() {
                        ExternType::Func(_) => format!(
                            "define it with `linker.func_wrap(\"{m}\", \"{n}\", ...)` or `func_new`, or let \
                             `Linker::define_unknown_imports_as_traps` stand in for it"
                        ),
                        _ => format!("define it with `linker.define(&store, \"{m}\", \"{n}\", ...)`"),
                    };
                    format!(
                        "unknown import: `{m}::{n}` has not been defined (expected a {}; {define})",
                        import.ty().describe()
                    )
                })
            })
            .collect()
    }

    /// Instantiates `module`, taking each import from this linker.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>, module: &Module) -> Result<Instance> {
        let store = store.as_context_mut();
        let imports =
            self.resolve(module)?.into_iter().map(|def| Self::materialize(store, def)).collect::<Result<Vec<_>>>()?;
        Instance::new(store, module, &imports)
    }

    /// Defines every function import of `module` that this linker does not define as a host
    /// function that fails when called, with an error naming the import ("unknown import
    /// `env::f` has not been defined"), so that the module instantiates and fails only if it
    /// really calls one. Imports of other kinds are left alone.
    pub fn define_unknown_imports_as_traps(&mut self, module: &Module) -> Result<()> {
        for import in module.imports() {
            let (m, n) = (import.module().to_string(), import.name().to_string());
            if self.map.contains_key(&(m.clone(), n.clone())) {
                continue;
            }
            if let ExternType::Func(ty) = import.ty() {
                let full = format!("{m}::{n}");
                self.func_new(&m, &n, ty, move |_, _, _| bail!("unknown import `{full}` has not been defined"))?;
            }
        }
        Ok(())
    }

    /// Defines every import of `module` that this linker does not define as a default value:
    /// a function that ignores its arguments and returns zeros and null references, a global
    /// holding zero or null, a memory or table of the import's minimum size (a table filled
    /// with null). Items are created in `store`.
    pub fn define_unknown_imports_as_default_values(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<()> {
        let store = store.as_context_mut();
        for import in module.imports() {
            let (m, n) = (import.module().to_string(), import.name().to_string());
            if self.map.contains_key(&(m.clone(), n.clone())) {
                continue;
            }
            let item: Extern = match import.ty() {
                ExternType::Func(ty) => {
                    let results: Vec<ValType> = ty.results().collect();
                    self.func_new(&m, &n, ty, move |_, _, out| {
                        for (slot, t) in out.iter_mut().zip(&results) {
                            *slot = Val::default_for(*t);
                        }
                        Ok(())
                    })?;
                    continue;
                }
                ExternType::Global(ty) => Global::new(&mut *store, ty, Val::default_for(ty.ty))?.into(),
                ExternType::Tag(ty) => crate::Tag::new(&mut *store, &ty)?.into(),
                ExternType::Memory(ty) => Memory::new(&mut *store, ty)?.into(),
                ExternType::Table(ty) => {
                    Table::new(&mut *store, ty, Val::default_for(ValType::Ref(ty.element)))?.into()
                }
            };
            self.insert(&m, &n, Definition::Extern(item))
                .with_context(|| format!("defining a default value for import `{m}::{n}`"))?;
        }
        Ok(())
    }
}
