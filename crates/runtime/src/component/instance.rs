//! A component instance as the embedder sees it ([`Instance`]): its exported functions, by name,
//! by [`ComponentExportIndex`] inside exported instances, or typed.
//!
//! Only lookup: creating an instance is `instantiate.rs`, and what it owns in the store is
//! `state.rs`.

use super::compiled::{ExportItem, LinkedComponent};
use super::component_type::ComponentNamedList;
use super::func::{Func, TypedFunc};
use super::lift::Lift;
use super::lower::Lower;
use super::state::InstanceState;
use crate::handles::ComponentInstanceId;
use crate::handles::StoreId;
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use anyhow::{Context, Result, anyhow};

/// An instance of a component in a store.
#[derive(Clone, Copy, Debug)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: ComponentInstanceId,
}

/// A path to a nested export, from [`Instance::get_export_index`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentExportIndex {
    pub(crate) instance: ComponentInstanceId,
    pub(crate) path: Vec<usize>,
}

impl Instance {
    #[inline]
    fn state<'a>(&self, s: &'a StoreOpaque) -> &'a InstanceState {
        s.check_owner(self.store);
        s.component_instance(self.index)
    }

    /// The exported function `name` at the top level of the instance.
    pub fn get_func(&self, store: impl AsContext, name: &str) -> Option<Func> {
        let state = self.state(store.as_context().opaque());
        match state.component.export_items().get(name)? {
            ExportItem::Func(i) => Some(Func { store: self.store, instance: self.index, index: *i }),
            _ => None,
        }
    }

    /// The exported function at `index` (see [`Instance::get_export_index`]).
    pub fn get_func_by_index(&self, store: impl AsContext, index: &ComponentExportIndex) -> Option<Func> {
        let state = self.state(store.as_context().opaque());
        if index.instance != self.index {
            return None;
        }
        let mut items = state.component.export_items();
        let (last, inner) = index.path.split_last()?;
        for i in inner {
            match items.get_index(*i)?.1 {
                ExportItem::Instance(map) => items = map,
                _ => return None,
            }
        }
        match items.get_index(*last)?.1 {
            ExportItem::Func(f) => Some(Func { store: self.store, instance: self.index, index: *f }),
            _ => None,
        }
    }

    /// The index of export `name`, inside the exported instance `parent` if given. Use it with
    /// [`Instance::get_func_by_index`] to reach functions of nested instances.
    pub fn get_export_index(
        &self,
        store: impl AsContext,
        parent: Option<&ComponentExportIndex>,
        name: &str,
    ) -> Option<ComponentExportIndex> {
        let state = self.state(store.as_context().opaque());
        let mut items = state.component.export_items();
        let mut path = Vec::new();
        if let Some(parent) = parent {
            if parent.instance != self.index {
                return None;
            }
            for i in &parent.path {
                match items.get_index(*i)?.1 {
                    ExportItem::Instance(map) => items = map,
                    _ => return None,
                }
                path.push(*i);
            }
        }
        path.push(items.get_index_of(name)?);
        Some(ComponentExportIndex { instance: self.index, path })
    }

    /// The exported function `name` with Rust parameter and result types, checked against its
    /// component type.
    #[inline]
    pub fn get_typed_func<Params, Results>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>>
    where
        Params: ComponentNamedList + Lower,
        Results: ComponentNamedList + Lift,
    {
        let func = self
            .get_func(store.as_context_mut(), name)
            .ok_or_else(|| anyhow!("the instance has no exported function named `{name}`"))?;
        func.typed(store).with_context(|| format!("the function `{name}` does not have the requested type"))
    }

    /// Every exported function, nested ones written `instance#name`, with its type.
    pub fn exported_functions(&self, store: impl AsContext) -> Vec<(String, super::types::FuncType)> {
        let state = self.state(store.as_context().opaque());
        fn walk(
            c: &LinkedComponent,
            prefix: &str,
            items: &indexmap::IndexMap<String, ExportItem>,
            out: &mut Vec<(String, super::types::FuncType)>,
        ) {
            for (name, item) in items {
                let full = if prefix.is_empty() { name.clone() } else { format!("{prefix}#{name}") };
                match item {
                    ExportItem::Func(i) => out.push((full, c.lifted(*i).ty.clone())),
                    ExportItem::Instance(inner) => walk(c, &full, inner, out),
                    ExportItem::Module(_) => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&state.component, "", state.component.export_items(), &mut out);
        out
    }
}
