//! A component instance as the embedder sees it ([`Instance`]): its exported functions, by name,
//! by [`ComponentExportIndex`] (also inside exported instances), or typed.
//!
//! Only lookup: creating an instance is `instantiate.rs`, and what it owns in the store is
//! `state.rs`.

use super::compiled::{ExportItem, LinkedComponent};
use super::component_type::ComponentNamedList;
use super::export_names::{ComponentExportIndex, ExportKey, ExportLookup};
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

impl Instance {
    #[inline]
    fn state<'a>(&self, s: &'a StoreOpaque) -> &'a InstanceState {
        s.check_owner(self.store);
        s.component_instance(self.index)
    }

    /// The exported function `name`: a top-level name (`&str`, `String`), or a
    /// [`ComponentExportIndex`] of this instance's component for a function inside exported
    /// instances. `None` if there is none, or the export is not a function.
    pub fn get_func(&self, store: impl AsContext, name: impl ExportLookup) -> Option<Func> {
        let state = self.state(store.as_context().opaque());
        let item = match name.export_key() {
            ExportKey::Name(name) => state.component.export_items().get(name)?,
            ExportKey::Index(index) => {
                // An index of another component finds nothing here.
                let index = state.component.export_names().resolve(None, ExportKey::Index(index))?;
                state.component.export_at(&index)?
            }
        };
        match item {
            ExportItem::Func(i) => Some(Func { store: self.store, instance: self.index, index: *i }),
            _ => None,
        }
    }

    /// The exported function at `index` (see [`Instance::get_export_index`]); the same as
    /// [`Instance::get_func`] with an index.
    #[inline]
    pub fn get_func_by_index(&self, store: impl AsContext, index: &ComponentExportIndex) -> Option<Func> {
        self.get_func(store, index)
    }

    /// The index of export `name`, inside the exported instance `parent` if given: the two
    /// steps to a function of an exported interface are
    /// `get_export_index(store, None, "docs:adder/add@0.1.0")` then
    /// `get_export_index(store, Some(&that), "add")`. The index is the component's, the same
    /// as [`Component::get_export_index`](super::Component::get_export_index) gives.
    pub fn get_export_index(
        &self,
        store: impl AsContext,
        parent: Option<&ComponentExportIndex>,
        name: &str,
    ) -> Option<ComponentExportIndex> {
        let state = self.state(store.as_context().opaque());
        state.component.export_names().lookup(parent, name)
    }

    /// The exported function `name` (a name or a [`ComponentExportIndex`], as for
    /// [`Instance::get_func`]) with Rust parameter and result types, checked against its
    /// component type.
    #[inline]
    pub fn get_typed_func<Params, Results>(
        &self,
        mut store: impl AsContextMut,
        name: impl ExportLookup,
    ) -> Result<TypedFunc<Params, Results>>
    where
        Params: ComponentNamedList + Lower,
        Results: ComponentNamedList + Lift,
    {
        let describe = |store: &StoreOpaque| match name.export_key() {
            ExportKey::Name(name) => format!("`{name}`"),
            ExportKey::Index(index) => {
                let names = self.state(store).component.export_names();
                match names.resolve(None, ExportKey::Index(index)) {
                    Some(i) => format!("`{}`", names.path(i.index).join("#")),
                    None => "at an index of another component".to_string(),
                }
            }
        };
        let func = self.get_func(store.as_context_mut(), &name).ok_or_else(|| {
            anyhow!("the instance has no exported function {}", describe(store.as_context().opaque()))
        })?;
        let what = describe(store.as_context().opaque());
        func.typed(store).with_context(|| format!("the function {what} does not have the requested type"))
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
