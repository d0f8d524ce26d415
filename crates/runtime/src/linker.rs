//! `Linker<T>`: a name table of host functions and store items used to satisfy a module's
//! imports by `module::name`.

use crate::func::{HostFn, host_fn_from_vals};
use crate::store::{AsContext, AsContextMut};
use crate::typed::IntoFunc;
use crate::{Caller, Engine, Extern, Func, FuncType, Instance, Module, Val};
use anyhow::{Result, bail};
use std::collections::HashMap;
use std::sync::Arc;

enum Definition<T> {
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
        self.materialize(store.as_context_mut(), def).ok()
    }

    #[inline]
    fn materialize(&self, store: &mut crate::store::StoreInner<T>, def: &Definition<T>) -> Result<Extern> {
        Ok(match def {
            Definition::Extern(e) => e.clone(),
            Definition::HostFunc(ty, f) => Extern::Func(Func::from_host_fn(store, ty, f.clone())?),
        })
    }

    /// Instantiates `module`, taking each import from this linker.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>, module: &Module) -> Result<Instance> {
        let store = store.as_context_mut();
        let mut imports = Vec::with_capacity(module.imports().len());
        for import in module.imports() {
            let key = (import.module().to_string(), import.name().to_string());
            let Some(def) = self.map.get(&key) else {
                bail!(
                    "unknown import: `{}::{}` has not been defined (expected a {})",
                    import.module(),
                    import.name(),
                    import.ty().describe()
                );
            };
            imports.push(self.materialize(store, def)?);
        }
        Instance::new(store, module, &imports)
    }
}
