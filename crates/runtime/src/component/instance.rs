//! Component instances: instantiation runs a component's initializers (weld-environ's
//! flattened plan) with the core API, and [`Instance`] looks up its exports.
//!
//! Each initializer becomes one action: a core module is instantiated with the items its
//! imports name, a host import is lowered into a core host function (see `host.rs`), and the
//! memories, reallocs and post-returns that canonical options name are recorded. What a
//! component instance owns at run time (those items, its core instances and its
//! reentrance flags) is an [`InstanceState`] kept in the store.
//!
//! A call from one component into another (a fused call) needs an adapter, which weld does
//! not compile yet: instantiating such a component fails with an error saying so.

use super::compiled::{Component, ExportItem};
use super::func::Func;
use super::host::lower_import;
use super::linker::{Definition, HostFunc, Linker};
use super::typed::{ComponentNamedList, Lift, Lower, TypedFunc};
use crate::store::{AsContext, AsContextMut, StoreId, StoreInner, StoreOpaque};
use crate::{Extern, Memory};
use anyhow::{Context, Result, anyhow, bail};
use std::sync::Arc;
use weld_environ::component::info::{CoreDef, CoreExport, CoreItemDef, ImportKind, ImportPath, Initializer};

/// What a component instance owns in its store.
pub(crate) struct InstanceState {
    pub(crate) component: Component,
    /// Core instances in creation order.
    pub(crate) core: Vec<crate::Instance>,
    /// Lowered host imports.
    pub(crate) lowered: Vec<crate::Func>,
    pub(crate) memories: Vec<Memory>,
    pub(crate) reallocs: Vec<crate::Func>,
    pub(crate) post_returns: Vec<crate::Func>,
    /// The core function of each exported lifted function, by its number in the component.
    pub(crate) callees: Vec<crate::Func>,
    /// Cleared while a call is inside the instance and after a trap in it, which leaves the
    /// instance unusable (as the spec's trap does to the whole component).
    pub(crate) may_enter: bool,
    /// Cleared while the instance may not call out: during its `post-return` functions.
    pub(crate) may_leave: bool,
    /// A call whose results were returned but whose `post-return` has not run yet.
    pub(crate) pending_post_return: Option<PendingPostReturn>,
}

/// What `Func::post_return` must still do after a call.
pub(crate) struct PendingPostReturn {
    /// The exported function that was called.
    pub(crate) func: usize,
    /// Its `post-return` function and the core results to pass it, if it has one.
    pub(crate) call: Option<(crate::Func, Vec<crate::ValRaw>)>,
}

/// An instance of a component in a store.
#[derive(Clone, Copy, Debug)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

/// A path to a nested export, from [`Instance::get_export_index`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentExportIndex {
    instance: usize,
    path: Vec<usize>,
}

impl StoreOpaque {
    pub(crate) fn component_instance(&self, index: usize) -> &InstanceState {
        &self.component_instances[index]
    }

    pub(crate) fn component_instance_mut(&mut self, index: usize) -> &mut InstanceState {
        &mut self.component_instances[index]
    }
}

/// Instantiates `component` with imports from `linker`.
pub(crate) fn instantiate<T: 'static>(
    store: &mut StoreInner<T>,
    linker: &Linker<T>,
    component: &Component,
) -> Result<Instance> {
    if !crate::Engine::same(component.engine(), store.opaque().engine()) {
        bail!("the component was compiled with a different engine than the store's");
    }
    let info = component.info();
    // Every import must be defined, with the right kind, before anything runs.
    let mut imports = Vec::with_capacity(info.imports.len());
    for (name, kind) in &info.imports {
        let def = linker.definitions().get(name).ok_or_else(|| anyhow!("import `{name}` has not been defined"))?;
        match (kind, def) {
            (ImportKind::Func(_), Definition::Func(_)) | (ImportKind::Instance, Definition::Instance(_)) => {}
            (ImportKind::Unsupported(what), _) => bail!("import `{name}`: importing a {what} is not supported yet"),
            (ImportKind::Func(_), other) => bail!("import `{name}` must be a function, but it is a {}", other.kind()),
            (ImportKind::Instance, other) => {
                bail!("import `{name}` must be an instance, but it is a {}", other.kind())
            }
        }
        imports.push(def);
    }
    if let Some(fused) = info.fused.first() {
        bail!(
            "this component calls from one component into another ({} such calls, the first of type {}); \
             such calls need fused adapters, which weld does not support yet",
            info.fused.len(),
            fused.lift.ty
        );
    }

    let s = store.opaque_mut();
    let index = s.component_instances.len();
    s.component_instances.push(InstanceState {
        component: component.clone(),
        core: Vec::new(),
        lowered: Vec::new(),
        memories: Vec::new(),
        reallocs: Vec::new(),
        post_returns: Vec::new(),
        callees: Vec::new(),
        may_enter: true,
        may_leave: true,
        pending_post_return: None,
    });
    let id = s.id();

    for init in &info.initializers {
        match init {
            Initializer::InstantiateModule { module, args } => {
                let externs = args.iter().map(|a| core_item(store, index, a)).collect::<Result<Vec<_>>>()?;
                let inst = crate::Instance::new(&mut *store, component.module(*module), &externs)
                    .with_context(|| format!("instantiating core module {} of the component", module.0))?;
                store.opaque_mut().component_instance_mut(index).core.push(inst);
            }
            Initializer::LowerImport { import, ty, options, .. } => {
                let host = host_func(&imports, info, import)?;
                if let Some(host_ty) = &host.ty
                    && !same_signature(host_ty, ty)
                {
                    bail!(
                        "import `{}` has the wrong type: the component expects {ty}, the host function is {host_ty}",
                        import_name(info, import)
                    );
                }
                let func = lower_import(store, index, host, ty.clone(), options.clone(), import_name(info, import))?;
                store.opaque_mut().component_instance_mut(index).lowered.push(func);
            }
            Initializer::ExtractMemory { export, .. } => {
                let memory = core_export(store, index, export)?
                    .into_memory()
                    .ok_or_else(|| anyhow!("core export `{}` is not a memory", export.name))?;
                store.opaque_mut().component_instance_mut(index).memories.push(memory);
            }
            Initializer::ExtractRealloc { def, .. } => {
                let f = core_func(store, index, def)?;
                store.opaque_mut().component_instance_mut(index).reallocs.push(f);
            }
            Initializer::ExtractPostReturn { def, .. } => {
                let f = core_func(store, index, def)?;
                store.opaque_mut().component_instance_mut(index).post_returns.push(f);
            }
        }
    }
    let callees = (0..component.num_lifted())
        .map(|i| core_func(store, index, &component.lifted(i).core))
        .collect::<Result<_>>()?;
    store.opaque_mut().component_instance_mut(index).callees = callees;
    Ok(Instance { store: id, index })
}

/// Whether two function types have the same parameter and result types (names aside).
fn same_signature(a: &super::types::FuncType, b: &super::types::FuncType) -> bool {
    a.result == b.result && a.param_types().eq(b.param_types())
}

/// The import's full name, for error messages.
fn import_name(info: &weld_environ::component::info::ComponentInfo, import: &ImportPath) -> String {
    let root = info.imports.get_index(import.import.0 as usize).map(|(n, _)| n.as_str()).unwrap_or("?");
    std::iter::once(root).chain(import.path.iter().map(String::as_str)).collect::<Vec<_>>().join("/")
}

/// The host function an import path leads to.
fn host_func<T>(
    imports: &[&Definition<T>],
    info: &weld_environ::component::info::ComponentInfo,
    import: &ImportPath,
) -> Result<Arc<HostFunc<T>>> {
    let mut def = imports[import.import.0 as usize];
    for name in &import.path {
        def = match def {
            Definition::Instance(map) => map.get(name).ok_or_else(|| {
                anyhow!("import `{}` has not been defined (no `{name}` in that instance)", import_name(info, import))
            })?,
            other => bail!("import `{}`: expected an instance, found a {}", import_name(info, import), other.kind()),
        };
    }
    match def {
        Definition::Func(f) => Ok(f.clone()),
        other => bail!("import `{}` must be a function, but it is a {}", import_name(info, import), other.kind()),
    }
}

fn core_export<T>(store: &mut StoreInner<T>, index: usize, export: &CoreExport) -> Result<Extern> {
    let inst = store.opaque().component_instance(index).core[export.instance.0 as usize];
    inst.get_export(&*store, &export.name)
        .ok_or_else(|| anyhow!("core instance {} has no export `{}`", export.instance.0, export.name))
}

fn core_func<T>(store: &mut StoreInner<T>, index: usize, def: &CoreDef) -> Result<crate::Func> {
    match def {
        CoreDef::Export(e) => core_export(store, index, e)?
            .into_func()
            .ok_or_else(|| anyhow!("core export `{}` is not a function", e.name)),
        CoreDef::Lowered(i) => Ok(store.opaque().component_instance(index).lowered[i.0 as usize]),
        CoreDef::Fused(_) => bail!("calls between components need fused adapters, which weld does not support yet"),
    }
}

fn core_item<T>(store: &mut StoreInner<T>, index: usize, def: &CoreItemDef) -> Result<Extern> {
    match def {
        CoreItemDef::Func(f) => core_func(store, index, f).map(Extern::Func),
        CoreItemDef::Export(e) => core_export(store, index, e),
    }
}

impl Instance {
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
            c: &Component,
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
