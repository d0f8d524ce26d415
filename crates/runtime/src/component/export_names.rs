//! The names of a component's exports, nested instances included, numbered once per component
//! ([`ExportNames`]), so that an export can be named by a small copyable
//! [`ComponentExportIndex`] found before instantiation (`Component::get_export_index`) or on an
//! instance (`Instance::get_export_index`), and the [`ExportLookup`] trait through which the
//! `get_*` functions accept a name or an index.
//!
//! The tree comes from the component's type, so it is known before the component is linked
//! (a component that imports components is flattened only when it is instantiated). What an
//! index leads to in an instance is resolved by each flattening (`LinkedComponent`), by name.

use std::sync::atomic::{AtomicU64, Ordering};
use weld_environ::component::translate::StaticComponent;
use weld_environ::wasmparser::component_types::{ComponentEntityType, ComponentItem};
use weld_environ::wasmparser::types::TypesRef;

/// The numbered export names of one component.
#[derive(Debug)]
pub(crate) struct ExportNames {
    /// Which component this numbering belongs to (unique in the process).
    id: u64,
    /// Every export, parents before children: its parent, its name, its children by name.
    entries: Vec<Entry>,
    /// The top-level exports by name.
    root: indexmap::IndexMap<String, u32>,
}

#[derive(Debug)]
struct Entry {
    parent: Option<u32>,
    name: String,
    children: indexmap::IndexMap<String, u32>,
}

/// An export of a component, possibly nested in exported instances: from
/// `Component::get_export_index` or `Instance::get_export_index`, usable with any instance of
/// that component (`Instance::get_func`, `Instance::get_typed_func`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ComponentExportIndex {
    pub(crate) component: u64,
    pub(crate) index: u32,
}

/// What an export can be looked up by: a name (`&str`, `String`, at the top level of the
/// component) or a [`ComponentExportIndex`] (anywhere in it). Implemented by weld only.
pub trait ExportLookup {
    /// The name or index this stands for.
    #[doc(hidden)]
    fn export_key(&self) -> ExportKey<'_>;
}

/// How an export is named, for [`ExportLookup`].
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum ExportKey<'a> {
    /// A top-level export's name.
    Name(&'a str),
    /// An index into the component's exports.
    Index(ComponentExportIndex),
}

impl ExportLookup for str {
    #[inline]
    fn export_key(&self) -> ExportKey<'_> {
        ExportKey::Name(self)
    }
}
impl ExportLookup for String {
    #[inline]
    fn export_key(&self) -> ExportKey<'_> {
        ExportKey::Name(self)
    }
}
impl ExportLookup for ComponentExportIndex {
    #[inline]
    fn export_key(&self) -> ExportKey<'_> {
        ExportKey::Index(*self)
    }
}
impl<T: ExportLookup + ?Sized> ExportLookup for &T {
    #[inline]
    fn export_key(&self) -> ExportKey<'_> {
        (**self).export_key()
    }
}

impl ExportNames {
    /// Numbers the exports of `root`, following exported instances through their types.
    pub(crate) fn new(root: &StaticComponent) -> ExportNames {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let types = root.types().as_ref();
        let mut names =
            ExportNames { id: NEXT_ID.fetch_add(1, Ordering::Relaxed), entries: Vec::new(), root: Default::default() };
        for (name, _) in &root.exports {
            let item = types.component_item_for_export(name);
            names.add(types, None, name, item);
        }
        names
    }

    fn add(&mut self, types: TypesRef<'_>, parent: Option<u32>, name: &str, item: Option<&ComponentItem>) {
        let index = self.entries.len() as u32;
        self.entries.push(Entry { parent, name: name.to_string(), children: Default::default() });
        match parent {
            Some(p) => self.entries[p as usize].children.insert(name.to_string(), index),
            None => self.root.insert(name.to_string(), index),
        };
        if let Some(ComponentEntityType::Instance(id)) = item.map(|i| &i.ty) {
            for (inner, item) in &types[*id].exports {
                self.add(types, Some(index), inner, Some(item));
            }
        }
    }

    /// The index of `name` inside `parent` (an index of this component), or at the top level:
    /// the export of that name, or else of the highest semver-compatible version of it (a
    /// binding for `wasi:cli/run@0.2.12` finds a component's `wasi:cli/run@0.2.0`), as with
    /// imports (`semver_names.rs`).
    pub(crate) fn lookup(&self, parent: Option<&ComponentExportIndex>, name: &str) -> Option<ComponentExportIndex> {
        let map = match parent {
            Some(p) if p.component != self.id => return None,
            Some(p) => &self.entries.get(p.index as usize)?.children,
            None => &self.root,
        };
        Some(ComponentExportIndex { component: self.id, index: *super::semver_names::get(map, name)? })
    }

    /// The index `key` stands for inside `parent` (as [`ExportNames::lookup`]), if it is one
    /// of this component's.
    #[inline]
    pub(crate) fn resolve(
        &self,
        parent: Option<&ComponentExportIndex>,
        key: ExportKey<'_>,
    ) -> Option<ComponentExportIndex> {
        match key {
            ExportKey::Name(name) => self.lookup(parent, name),
            ExportKey::Index(i) if i.component == self.id && (i.index as usize) < self.entries.len() => Some(i),
            ExportKey::Index(_) => None,
        }
    }

    /// The names leading to `index` from the top level.
    pub(crate) fn path(&self, index: u32) -> Vec<&str> {
        let mut path = Vec::new();
        let mut at = Some(index);
        while let Some(i) = at {
            let entry = &self.entries[i as usize];
            path.push(entry.name.as_str());
            at = entry.parent;
        }
        path.reverse();
        path
    }

    /// The number of exports, nested ones included.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}
