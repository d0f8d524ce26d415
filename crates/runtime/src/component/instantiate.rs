//! Instantiation: a component's imports are resolved against a [`Linker`] (once, for an
//! [`InstancePre`]), components the linker provides are inlined, and the initializers of the
//! flattened plan (weld-environ's) run in order with the core API.
//!
//! Each initializer becomes one action: a core module is instantiated with the items its
//! imports name, a host import is lowered into a core host function (see `host.rs`), adapter
//! modules are instantiated where `Initializer::InstantiateAdapters` says (see `adapters.rs`),
//! and the memories, reallocs and post-returns that canonical options name are recorded in the
//! instance's [`InstanceState`].

use super::adapters::adapter_import;
use super::compiled::ExportedFuncIndex;
use super::compiled::{Component, LinkedComponent, import_name};
use super::concurrent::builtins::async_builtin_func;
use super::concurrent::tasks::async_call_func;
use super::core_defs::{core_export, core_func, core_item};
use super::flags::new_flags;
use super::handle_table::HandleTable;
use super::host::{Definition, HostDtor, HostFunc, lower_import};
use super::host_module::{check_module, module_imports};
use super::import_requirements::check_definition;
use super::instance::Instance;
use super::intrinsics::intrinsic_func;
use super::linker::Linker;
use super::resources::ResourceType;
use super::state::{GlobalCell, InstanceState, Realloc, SharedGlobal};
use crate::handles::Global;
use crate::store::{AsContextMut, StoreInner};
use crate::{GlobalType, Mutability, Val, ValType};
use anyhow::{Context, Result, anyhow, bail};
use std::sync::Arc;
use weld_environ::EntityRef;
use weld_environ::component::info::{CONTEXT_SLOTS, RuntimeResourceIndex};
use weld_environ::component::info::{ImportKind, ImportPath, Initializer, ResourceDef};
use weld_environ::{PrimaryMap, SecondaryMap};

/// A component whose imports have been resolved against a linker, ready to be instantiated
/// (any number of times, in any store of its engine) without looking anything up again:
/// from [`Linker::instantiate_pre`]. The components the linker provides are already
/// inlined and their adapters compiled.
pub struct InstancePre<T> {
    component: Component,
    linked: Arc<LinkedComponent>,
    /// The linker's definition of each root import (`None` for a type that is not a
    /// resource, which the host need not define).
    imports: Arc<Vec<Option<Definition<T>>>>,
}

impl<T> Clone for InstancePre<T> {
    #[inline]
    fn clone(&self) -> Self {
        InstancePre { component: self.component.clone(), linked: self.linked.clone(), imports: self.imports.clone() }
    }
}

impl<T: 'static> InstancePre<T> {
    /// Resolves `component`'s imports in `linker`.
    #[inline]
    fn new(linker: &Linker<T>, component: &Component) -> Result<InstancePre<T>> {
        let (linked, imports) = resolve(linker, component)?;
        typecheck_host_imports(linked.info(), &imports)?;
        let imports = imports.into_iter().map(|d| d.cloned()).collect();
        Ok(InstancePre { component: component.clone(), linked, imports: Arc::new(imports) })
    }

    /// The component this instantiates.
    #[inline]
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// The number of component-to-component calls that need a fused adapter, including those
    /// with the components the linker provided.
    #[inline]
    pub fn num_fused_calls(&self) -> usize {
        self.linked.info().fused.len()
    }

    /// Instantiates the component in `store`.
    #[inline]
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let imports: Vec<Option<&Definition<T>>> = self.imports.iter().map(Option::as_ref).collect();
        instantiate_resolved(store.as_context_mut(), &self.component, &self.linked, &imports)
    }
}

/// Instantiates `component` with imports from `linker`.
#[inline]
fn instantiate<T: 'static>(store: &mut StoreInner<T>, linker: &Linker<T>, component: &Component) -> Result<Instance> {
    let (linked, imports) = resolve(linker, component)?;
    typecheck_host_imports(linked.info(), &imports)?;
    instantiate_resolved(store, component, &linked, &imports)
}

/// Checks each host function that a lowered import names against the type the component
/// expects, where its Rust types say what they accept (`func_wrap`); once per
/// [`InstancePre`], not per instance.
fn typecheck_host_imports<T>(
    info: &weld_environ::component::info::ComponentInfo,
    imports: &[Option<&Definition<T>>],
) -> Result<()> {
    for init in &info.initializers {
        let Initializer::LowerImport { import, ty, .. } = init else { continue };
        if let Some(typecheck) = host_func(imports, info, import)?.typecheck {
            typecheck(ty).with_context(|| {
                format!(
                    "import `{}` has the wrong type: the component expects {ty}, which the host function's Rust \
                     types do not match",
                    import_name(info, import)
                )
            })?;
        }
    }
    Ok(())
}

/// The flattened component, and the linker's definition of each of its root imports, checked
/// to be of the kind the component imports.
#[allow(clippy::type_complexity)]
fn resolve<'a, T: 'static>(
    linker: &'a Linker<T>,
    component: &Component,
) -> Result<(Arc<LinkedComponent>, Vec<Option<&'a Definition<T>>>)> {
    if !crate::Engine::same(component.engine(), linker.engine()) {
        bail!("the component was compiled with a different engine than the linker's");
    }
    // Components provided for component imports are inlined first: the flattened component
    // is what runs.
    let linked = component.link(|root, path, name| {
        let root = linker.definition(root).ok_or_else(|| anyhow!("import `{name}` has not been defined"))?;
        match lookup(root, path, name)? {
            Definition::Component(c) => Ok(c.clone()),
            other => bail!("import `{name}` must be a component, but it is a {}", other.kind()),
        }
    })?;
    let info = linked.info();
    let ty = component.component_type();
    // Every import that needs a definition must have one, of the right kind, before anything
    // runs; imports of types (and instances of only types) need none.
    let mut imports = Vec::with_capacity(info.imports.len());
    let mut known_resources = std::collections::HashSet::new();
    for (name, kind) in &info.imports {
        let def = linker.definition(name);
        if let Some(import) = ty.get_import(component.engine(), name) {
            check_definition(&[name], &import.ty, def, &mut known_resources)?;
            if !import.ty.requires_definition() {
                imports.push(def);
                continue;
            }
        }
        if let ImportKind::Type = kind {
            imports.push(def);
            continue;
        }
        let def = def.ok_or_else(|| anyhow!("import `{name}` has not been defined"))?;
        match (kind, def) {
            (ImportKind::Func(_), Definition::Func(_))
            | (ImportKind::Module, Definition::Module(_))
            | (ImportKind::Instance, Definition::Instance(_))
            | (ImportKind::Component, Definition::Component(_))
            | (ImportKind::Resource, Definition::Resource(..)) => {}
            (ImportKind::Unsupported(what), _) => bail!("import `{name}`: importing a {what} is not supported yet"),
            (_, other) => bail!("import `{name}` must be {}, but it is a {}", kind_name(kind), other.kind()),
        }
        imports.push(Some(def));
    }
    Ok((linked, imports))
}

/// What an import of `kind` must be, for messages.
fn kind_name(kind: &ImportKind) -> &'static str {
    match kind {
        ImportKind::Func(_) => "a function",
        ImportKind::Module => "a core module",
        ImportKind::Instance => "an instance",
        ImportKind::Component => "a component",
        ImportKind::Resource => "a resource type",
        ImportKind::Type => "a type",
        ImportKind::Unsupported(_) => "something weld supports",
    }
}

/// Instantiates `linked`, the flattened `component`, with `imports`, the definitions of its
/// root imports.
fn instantiate_resolved<T: 'static>(
    store: &mut StoreInner<T>,
    component: &Component,
    linked: &Arc<LinkedComponent>,
    imports: &[Option<&Definition<T>>],
) -> Result<Instance> {
    if !crate::Engine::same(component.engine(), store.opaque().engine()) {
        bail!("the component was compiled with a different engine than the store's");
    }
    let component = linked;
    let info = component.info();
    let s = store.opaque_mut();
    let index = s.component_instances.next_key();
    let id = s.id();
    let mut resource_types = PrimaryMap::with_capacity(info.resources.len());
    let mut host_dtors: PrimaryMap<RuntimeResourceIndex, Option<Arc<HostDtor<T>>>> =
        PrimaryMap::with_capacity(info.resources.len());
    for (r, def) in info.resources.iter() {
        match def {
            ResourceDef::Guest { .. } => {
                resource_types.push(ResourceType::guest(id, index, r));
                host_dtors.push(None);
            }
            ResourceDef::Host(path) => match definition(imports, info, path)? {
                Definition::Resource(ty, dtor) => {
                    resource_types.push(*ty);
                    host_dtors.push(Some(dtor.clone()));
                }
                other => {
                    bail!("import `{}` must be a resource type, but it is a {}", import_name(info, path), other.kind())
                }
            },
        }
    }
    s.admit_component_instance()?;
    let budget = s.handle_budget.clone();
    s.component_instances.push(InstanceState {
        component: component.clone(),
        core: PrimaryMap::new(),
        lowered: PrimaryMap::new(),
        memories: PrimaryMap::new(),
        reallocs: PrimaryMap::new(),
        post_returns: PrimaryMap::new(),
        callees: PrimaryMap::new(),
        callee_entries: PrimaryMap::new(),
        post_return_entries: PrimaryMap::new(),
        flat_scratch: Vec::new(),
        flags: PrimaryMap::new(),
        task_context: Vec::new(),
        fused: SecondaryMap::from(vec![None; info.fused.len()]),
        libcalls: Default::default(),
        call_scopes: Vec::new(),
        handles: (0..info.num_component_instances).map(|_| HandleTable::new(budget.clone())).collect(),
        resource_types,
        intrinsics: PrimaryMap::new(),
        async_builtins: PrimaryMap::new(),
        backpressure: SecondaryMap::from(vec![0; info.num_component_instances as usize]),
        async_calls: PrimaryMap::new(),
    });
    let shared = |store: &mut StoreInner<T>, global: Global| {
        let cell = GlobalCell::new(&mut store.opaque_mut().global_mut(global.index).def);
        SharedGlobal { global, cell }
    };
    let flags = (0..info.num_component_instances)
        .map(|_| {
            let global = new_flags(store)?;
            Ok(shared(store, global))
        })
        .collect::<Result<PrimaryMap<_, _>>>()?;
    store.opaque_mut().component_instance_mut(index).flags = flags;
    let context_slots = if info.uses_task_context() { CONTEXT_SLOTS } else { 0 };
    let task_context = (0..context_slots)
        .map(|_| {
            let global = Global::new(&mut *store, GlobalType::new(ValType::I64, Mutability::Var), Val::I64(0))?;
            Ok(shared(store, global))
        })
        .collect::<Result<Vec<_>>>()?;
    store.opaque_mut().component_instance_mut(index).task_context = task_context;
    let host_dtors = Arc::new(host_dtors);
    let intrinsics = info
        .intrinsics
        .values()
        .map(|i| intrinsic_func(store, index, *i, host_dtors.clone()))
        .collect::<Result<PrimaryMap<_, _>>>()?;
    store.opaque_mut().component_instance_mut(index).intrinsics = intrinsics;
    let async_builtins = info
        .async_builtins
        .values()
        .map(|b| async_builtin_func(store, index, b))
        .collect::<Result<PrimaryMap<_, _>>>()?;
    store.opaque_mut().component_instance_mut(index).async_builtins = async_builtins;
    let async_calls =
        info.async_calls.keys().map(|i| async_call_func(store, index, i)).collect::<Result<PrimaryMap<_, _>>>()?;
    store.opaque_mut().component_instance_mut(index).async_calls = async_calls;

    let mut lowered_imports = 0;
    for init in &info.initializers {
        match init {
            Initializer::InstantiateModule { module, args } => {
                let externs = args.iter().map(|a| core_item(store, index, a)).collect::<Result<Vec<_>>>()?;
                let inst = crate::Instance::new(&mut *store, component.module(*module), &externs)
                    .with_context(|| format!("instantiating core module {} of the component", module.as_u32()))?;
                store.opaque_mut().component_instance_mut(index).core.push(inst);
            }
            Initializer::InstantiateImportedModule { import, ty, args } => {
                let name = import_name(info, import);
                let module = match definition(imports, info, import)? {
                    Definition::Module(m) => m,
                    other => bail!("import `{name}` must be a core module, but it is a {}", other.kind()),
                };
                check_module(&name, module, ty)?;
                let args = args.iter().map(|a| core_item(store, index, a)).collect::<Result<Vec<_>>>()?;
                let externs = module_imports(module, ty, args)?;
                let inst = crate::Instance::new(&mut *store, module, &externs)
                    .with_context(|| format!("instantiating core module `{name}`"))?;
                store.opaque_mut().component_instance_mut(index).core.push(inst);
            }
            Initializer::LowerImport { import, .. } => {
                // Its type was checked when the imports were resolved (`typecheck_host_imports`).
                let host = host_func(imports, info, import)?;
                let func = lower_import(store, index, host, component.import_shape(lowered_imports).clone())?;
                lowered_imports += 1;
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
                store.opaque_mut().component_instance_mut(index).reallocs.push(Realloc { func: f, entry: None });
            }
            Initializer::ExtractPostReturn { def, .. } => {
                let f = core_func(store, index, def)?;
                store.opaque_mut().component_instance_mut(index).post_returns.push(f);
            }
            Initializer::InstantiateAdapters(m) => {
                let (module, code) = component.adapter_module(*m);
                let externs =
                    code.imports.iter().map(|i| adapter_import(store, index, i)).collect::<Result<Vec<_>>>()?;
                let inst = crate::Instance::new(&mut *store, module, &externs)
                    .with_context(|| format!("instantiating adapter module {}", m.as_u32()))?;
                for f in &code.adapters {
                    let func = inst.get_func(&*store, &weld_fact::export_name(*f)).ok_or_else(|| {
                        anyhow!("adapter module {} lacks the adapter of fused call {}", m.as_u32(), f.as_u32())
                    })?;
                    store.opaque_mut().component_instance_mut(index).fused[*f] = Some(func);
                }
            }
        }
    }
    let callees: PrimaryMap<ExportedFuncIndex, crate::Func> =
        component.lifted_keys().map(|i| core_func(store, index, &component.lifted(i).core)).collect::<Result<_>>()?;
    let engine = store.opaque().engine().clone();
    let entry = |f: &crate::Func| -> Result<Option<usize>> { Ok(f.entry_trampoline(&engine)?.map(|p| p as usize)) };
    let callee_entries = callees.values().map(entry).collect::<Result<_>>()?;
    let state = store.opaque_mut().component_instance_mut(index);
    let post_return_entries = state.post_returns.values().map(entry).collect::<Result<_>>()?;
    state.callees = callees;
    state.callee_entries = callee_entries;
    state.post_return_entries = post_return_entries;
    Ok(Instance { store: id, index })
}

/// The host function an import path leads to.
#[inline]
fn host_func<T>(
    imports: &[Option<&Definition<T>>],
    info: &weld_environ::component::info::ComponentInfo,
    import: &ImportPath,
) -> Result<Arc<HostFunc<T>>> {
    match definition(imports, info, import)? {
        Definition::Func(f) => Ok(f.clone()),
        other => bail!("import `{}` must be a function, but it is a {}", import_name(info, import), other.kind()),
    }
}

/// The definition an import path leads to.
#[inline]
fn definition<'a, T>(
    imports: &[Option<&'a Definition<T>>],
    info: &weld_environ::component::info::ComponentInfo,
    import: &ImportPath,
) -> Result<&'a Definition<T>> {
    let def = imports[import.import.index()]
        .ok_or_else(|| anyhow!("import `{}` has not been defined", import_name(info, import)))?;
    lookup(def, &import.path, &import_name(info, import))
}

/// The definition at `path` inside `def`; `full_name` names the whole import in messages.
fn lookup<'a, T>(mut def: &'a Definition<T>, path: &[String], full_name: &str) -> Result<&'a Definition<T>> {
    for name in path {
        def = match def {
            Definition::Instance(map) => map
                .get(name)
                .ok_or_else(|| anyhow!("import `{full_name}` has not been defined (no `{name}` in that instance)"))?,
            other => bail!("import `{full_name}`: expected an instance, found a {}", other.kind()),
        };
    }
    Ok(def)
}

impl<T: 'static> Linker<T> {
    /// Instantiates `component` in `store`, satisfying its imports from this linker.
    #[inline]
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>, component: &Component) -> Result<Instance> {
        instantiate(store.as_context_mut(), self, component)
    }

    /// Resolves `component`'s imports in this linker once, for instantiating it many times:
    /// every import is looked up and checked for its kind, and the components this linker
    /// provides are linked in (adapters compiled). Later changes to the linker do not affect
    /// the result.
    #[inline]
    pub fn instantiate_pre(&self, component: &Component) -> Result<InstancePre<T>> {
        InstancePre::new(self, component)
    }
}
