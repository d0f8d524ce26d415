//! `InstancePre<T>`: a core module whose imports were resolved against a [`Linker`] once, to be
//! instantiated any number of times without looking names up again (`Linker::instantiate_pre`).
//!
//! Only the resolution is shared. Host functions defined with `func_wrap`/`func_new` are made
//! anew in each store that instantiates, as `Linker::instantiate` does; items defined with
//! `Linker::define` belong to one store, so an `InstancePre` holding one instantiates only in
//! that store (another store is refused when the items are checked).

use crate::linker::{Definition, Linker};
use crate::store::AsContextMut;
use crate::{Instance, Module};
use anyhow::Result;
use std::sync::Arc;

/// A module with its imports resolved in a linker, ready to instantiate (from
/// [`Linker::instantiate_pre`]).
pub struct InstancePre<T> {
    module: Module,
    /// The definition of each import, in the module's order.
    imports: Arc<[Definition<T>]>,
}

impl<T> Clone for InstancePre<T> {
    #[inline]
    fn clone(&self) -> Self {
        InstancePre { module: self.module.clone(), imports: self.imports.clone() }
    }
}

impl<T: 'static> InstancePre<T> {
    /// The module this instantiates.
    #[inline]
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Instantiates the module in `store` with the imports resolved when this was made.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let store = store.as_context_mut();
        let imports = self.imports.iter().map(|def| Linker::materialize(store, def)).collect::<Result<Vec<_>>>()?;
        Instance::new(store, &self.module, &imports)
    }
}

impl<T: 'static> Linker<T> {
    /// Resolves `module`'s imports in this linker once, for instantiating it many times with
    /// [`InstancePre::instantiate`]. A missing import is an error now, naming it and its type;
    /// later changes to the linker do not affect the result.
    pub fn instantiate_pre(&self, module: &Module) -> Result<InstancePre<T>> {
        let imports = self.resolve(module)?.into_iter().cloned().collect();
        Ok(InstancePre { module: module.clone(), imports })
    }
}
