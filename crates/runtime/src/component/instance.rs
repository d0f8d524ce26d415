//! Component instances: instantiation runs a component's initializers (weld-environ's
//! flattened plan) with the core API, and [`Instance`] looks up its exports.
//!
//! Each initializer becomes one action: a core module is instantiated with the items its
//! imports name, a host import is lowered into a core host function (see `host.rs`), and the
//! memories, reallocs and post-returns that canonical options name are recorded. What a
//! component instance owns at run time (those items, its core instances and its
//! reentrance flags) is an [`InstanceState`] kept in the store.
//!
//! A call from one component into another (a fused call) goes through an adapter that FACT
//! compiled into an adapter module; `Initializer::InstantiateAdapters` instantiates one (see
//! `adapters.rs`).

use super::compiled::{Component, ExportItem, LinkedComponent};
use super::func::Func;
use super::host::lower_import;
use super::linker::{Definition, HostDtor, HostFunc, Linker};
use super::resources::{HandleTable, ResourceAny, ResourceType, Slot};
use super::typed::{ComponentNamedList, Lift, Lower, TypedFunc};
use crate::func::call_raw;
use crate::store::{AsContext, AsContextMut, StoreId, StoreInner, StoreOpaque};
use crate::{Extern, Memory};
use crate::{Trap, ValRaw};
use anyhow::{Context, Result, anyhow, bail};
use std::sync::Arc;
use weld_environ::component::info::{
    AsyncBuiltin, CoreDef, CoreExport, CoreItemDef, ImportKind, ImportPath, Initializer, Intrinsic, IntrinsicKind,
    ResourceDef,
};

/// What a component instance owns in its store.
pub(crate) struct InstanceState {
    /// The flattened component it is an instance of.
    pub(crate) component: Arc<LinkedComponent>,
    /// Core instances in creation order.
    pub(crate) core: Vec<crate::Instance>,
    /// Lowered host imports.
    pub(crate) lowered: Vec<crate::Func>,
    pub(crate) memories: Vec<Memory>,
    pub(crate) reallocs: Vec<crate::Func>,
    pub(crate) post_returns: Vec<crate::Func>,
    /// The core function of each exported lifted function, by its number in the component.
    pub(crate) callees: Vec<crate::Func>,
    /// The address of the entry trampoline of each of `callees` (`None` for a host function).
    pub(crate) callee_entries: Vec<Option<usize>>,
    /// The address of the entry trampoline of each of `post_returns`.
    pub(crate) post_return_entries: Vec<Option<usize>>,
    /// Room for the flat parameters of a host call, kept between calls.
    pub(crate) flat_scratch: Vec<u64>,
    /// The flags (`may_leave`, `may_enter`) of each runtime component instance, as globals
    /// shared with the adapters. `may_enter` is cleared while a call is inside the instance
    /// and stays cleared after a trap in it, which leaves it unusable.
    pub(crate) flags: Vec<crate::Global>,
    /// The adapter of each fused call, once its adapter module is instantiated.
    pub(crate) fused: Vec<Option<crate::Func>>,
    /// The runtime functions adapters import, created on first use.
    pub(crate) libcalls: std::collections::HashMap<weld_environ::component::adapt::AdapterLibcall, crate::Func>,
    /// For each fused call in progress that lends handles: the (table, index) of each owned
    /// handle lent, returned when the call ends.
    pub(crate) call_scopes: Vec<Vec<(usize, u32)>>,
    /// A call whose results were returned but whose `post-return` has not run yet.
    pub(crate) pending_post_return: Option<PendingPostReturn>,
    /// One handle table per component instance inside the flattened component.
    pub(crate) handles: Vec<HandleTable>,
    /// The type of each runtime resource of the component.
    pub(crate) resource_types: Vec<ResourceType>,
    /// The core functions of the resource intrinsics.
    pub(crate) intrinsics: Vec<crate::Func>,
    /// The core functions of the async and threads built-ins (see [`async_builtin_func`]).
    pub(crate) async_builtins: Vec<crate::Func>,
    /// The `backpressure` counter of each runtime component instance.
    pub(crate) backpressure: Vec<u32>,
}

/// What `Func::post_return` must still do after a call.
pub(crate) struct PendingPostReturn {
    /// The exported function that was called.
    pub(crate) func: usize,
    /// Its `post-return` function, if it has one.
    pub(crate) call: Option<PostReturnCall>,
}

/// A `post-return` function to call, with the core result of the call it follows (a lifted
/// function has at most `MAX_FLAT_RESULTS`, one, core result).
pub(crate) struct PostReturnCall {
    pub(crate) func: crate::Func,
    /// The address of its entry trampoline.
    pub(crate) entry: Option<usize>,
    pub(crate) result: Option<crate::ValRaw>,
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
    fn clone(&self) -> Self {
        InstancePre { component: self.component.clone(), linked: self.linked.clone(), imports: self.imports.clone() }
    }
}

impl<T: 'static> InstancePre<T> {
    /// Resolves `component`'s imports in `linker`.
    pub(crate) fn new(linker: &Linker<T>, component: &Component) -> Result<InstancePre<T>> {
        let (linked, imports) = resolve(linker, component)?;
        let imports = imports.into_iter().map(|d| d.cloned()).collect();
        Ok(InstancePre { component: component.clone(), linked, imports: Arc::new(imports) })
    }

    /// The component this instantiates.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// The number of component-to-component calls that need a fused adapter, including those
    /// with the components the linker provided.
    pub fn num_fused_calls(&self) -> usize {
        self.linked.info().fused.len()
    }

    /// Instantiates the component in `store`.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let imports: Vec<Option<&Definition<T>>> = self.imports.iter().map(Option::as_ref).collect();
        instantiate_resolved(store.as_context_mut(), &self.component, &self.linked, &imports)
    }
}

/// Instantiates `component` with imports from `linker`.
pub(crate) fn instantiate<T: 'static>(
    store: &mut StoreInner<T>,
    linker: &Linker<T>,
    component: &Component,
) -> Result<Instance> {
    let (linked, imports) = resolve(linker, component)?;
    instantiate_resolved(store, component, &linked, &imports)
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
        let root = linker.definitions().get(root).ok_or_else(|| anyhow!("import `{name}` has not been defined"))?;
        match lookup(root, path, name)? {
            Definition::Component(c) => Ok(c.clone()),
            other => bail!("import `{name}` must be a component, but it is a {}", other.kind()),
        }
    })?;
    let info = linked.info();
    // Every import must be defined, with the right kind, before anything runs.
    let mut imports = Vec::with_capacity(info.imports.len());
    for (name, kind) in &info.imports {
        let def = linker.definitions().get(name);
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
            (ImportKind::Resource, other) => {
                bail!("import `{name}` must be a resource type, but it is a {}", other.kind())
            }
            (ImportKind::Type, _) => unreachable!("handled above"),
            (ImportKind::Unsupported(what), _) => bail!("import `{name}`: importing a {what} is not supported yet"),
            (ImportKind::Func(_), other) => bail!("import `{name}` must be a function, but it is a {}", other.kind()),
            (ImportKind::Module, other) => bail!("import `{name}` must be a core module, but it is a {}", other.kind()),
            (ImportKind::Instance, other) => {
                bail!("import `{name}` must be an instance, but it is a {}", other.kind())
            }
            (ImportKind::Component, other) => {
                bail!("import `{name}` must be a component, but it is a {}", other.kind())
            }
        }
        imports.push(Some(def));
    }
    Ok((linked, imports))
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
    let index = s.component_instances.len();
    let id = s.id();
    let mut resource_types = Vec::with_capacity(info.resources.len());
    let mut host_dtors: Vec<Option<Arc<HostDtor<T>>>> = Vec::with_capacity(info.resources.len());
    for (r, def) in info.resources.iter().enumerate() {
        match def {
            ResourceDef::Guest { .. } => {
                resource_types.push(ResourceType::guest(id, index, r as u32));
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
    s.component_instances.push(InstanceState {
        component: component.clone(),
        core: Vec::new(),
        lowered: Vec::new(),
        memories: Vec::new(),
        reallocs: Vec::new(),
        post_returns: Vec::new(),
        callees: Vec::new(),
        callee_entries: Vec::new(),
        post_return_entries: Vec::new(),
        flat_scratch: Vec::new(),
        flags: Vec::new(),
        fused: vec![None; info.fused.len()],
        libcalls: Default::default(),
        call_scopes: Vec::new(),
        pending_post_return: None,
        handles: (0..info.num_component_instances).map(|_| HandleTable::default()).collect(),
        resource_types,
        intrinsics: Vec::new(),
        async_builtins: Vec::new(),
        backpressure: vec![0; info.num_component_instances as usize],
    });
    let flags =
        (0..info.num_component_instances).map(|_| super::adapters::new_flags(store)).collect::<Result<Vec<_>>>()?;
    store.opaque_mut().component_instance_mut(index).flags = flags;
    let host_dtors = Arc::new(host_dtors);
    let intrinsics = info
        .intrinsics
        .iter()
        .map(|i| intrinsic_func(store, index, *i, host_dtors.clone()))
        .collect::<Result<Vec<_>>>()?;
    store.opaque_mut().component_instance_mut(index).intrinsics = intrinsics;
    let async_builtins =
        info.async_builtins.iter().map(|b| async_builtin_func(store, index, b)).collect::<Result<Vec<_>>>()?;
    store.opaque_mut().component_instance_mut(index).async_builtins = async_builtins;

    for init in &info.initializers {
        match init {
            Initializer::InstantiateModule { module, args } => {
                let externs = args.iter().map(|a| core_item(store, index, a)).collect::<Result<Vec<_>>>()?;
                let inst = crate::Instance::new(&mut *store, component.module(*module), &externs)
                    .with_context(|| format!("instantiating core module {} of the component", module.0))?;
                store.opaque_mut().component_instance_mut(index).core.push(inst);
            }
            Initializer::InstantiateImportedModule { import, ty, args } => {
                let name = import_name(info, import);
                let module = match definition(imports, info, import)? {
                    Definition::Module(m) => m,
                    other => bail!("import `{name}` must be a core module, but it is a {}", other.kind()),
                };
                super::host_module::check_module(&name, module, ty)?;
                let args = args.iter().map(|a| core_item(store, index, a)).collect::<Result<Vec<_>>>()?;
                let externs = super::host_module::module_imports(module, ty, args)?;
                let inst = crate::Instance::new(&mut *store, module, &externs)
                    .with_context(|| format!("instantiating core module `{name}`"))?;
                store.opaque_mut().component_instance_mut(index).core.push(inst);
            }
            Initializer::LowerImport { import, ty, options, .. } => {
                let host = host_func(imports, info, import)?;
                if let Some(typecheck) = host.typecheck {
                    typecheck(ty).with_context(|| {
                        format!(
                            "import `{}` has the wrong type: the component expects {ty}, \
                             which the host function's Rust types do not match",
                            import_name(info, import)
                        )
                    })?;
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
            Initializer::InstantiateAdapters(m) => {
                let (module, code) = component.adapter_module(*m);
                let externs = code
                    .imports
                    .iter()
                    .map(|i| super::adapters::adapter_import(store, index, i))
                    .collect::<Result<Vec<_>>>()?;
                let inst = crate::Instance::new(&mut *store, module, &externs)
                    .with_context(|| format!("instantiating adapter module {}", m.0))?;
                for f in &code.adapters {
                    let func = inst
                        .get_func(&*store, &weld_fact::export_name(*f))
                        .ok_or_else(|| anyhow!("adapter module {} lacks the adapter of fused call {}", m.0, f.0))?;
                    store.opaque_mut().component_instance_mut(index).fused[f.0 as usize] = Some(func);
                }
            }
        }
    }
    let callees: Vec<crate::Func> = (0..component.num_lifted())
        .map(|i| core_func(store, index, &component.lifted(i).core))
        .collect::<Result<_>>()?;
    let engine = store.opaque().engine().clone();
    let entry = |f: &crate::Func| -> Result<Option<usize>> { Ok(f.entry_trampoline(&engine)?.map(|p| p as usize)) };
    let callee_entries = callees.iter().map(entry).collect::<Result<_>>()?;
    let state = store.opaque_mut().component_instance_mut(index);
    let post_return_entries = state.post_returns.iter().map(entry).collect::<Result<_>>()?;
    state.callees = callees;
    state.callee_entries = callee_entries;
    state.post_return_entries = post_return_entries;
    Ok(Instance { store: id, index })
}

/// The import's full name, for error messages.
fn import_name(info: &weld_environ::component::info::ComponentInfo, import: &ImportPath) -> String {
    import.full_name(info.imports.get_index(import.import.0 as usize).map_or("?", |(n, _)| n.as_str()))
}

/// The host function an import path leads to.
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
fn definition<'a, T>(
    imports: &[Option<&'a Definition<T>>],
    info: &weld_environ::component::info::ComponentInfo,
    import: &ImportPath,
) -> Result<&'a Definition<T>> {
    let def = imports[import.import.0 as usize]
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

fn core_export<T>(store: &mut StoreInner<T>, index: usize, export: &CoreExport) -> Result<Extern> {
    let inst = store.opaque().component_instance(index).core[export.instance.0 as usize];
    inst.get_export(&*store, &export.name)
        .ok_or_else(|| anyhow!("core instance {} has no export `{}`", export.instance.0, export.name))
}

pub(crate) fn core_func<T>(store: &mut StoreInner<T>, index: usize, def: &CoreDef) -> Result<crate::Func> {
    match def {
        CoreDef::Export(e) => core_export(store, index, e)?
            .into_func()
            .ok_or_else(|| anyhow!("core export `{}` is not a function", e.name)),
        CoreDef::Lowered(i) => Ok(store.opaque().component_instance(index).lowered[i.0 as usize]),
        CoreDef::Fused(f) => store.opaque().component_instance(index).fused[f.0 as usize]
            .ok_or_else(|| anyhow!("bug: the adapter of fused call {} is used before its module exists", f.0)),
        CoreDef::Intrinsic(i) => Ok(store.opaque().component_instance(index).intrinsics[i.0 as usize]),
        CoreDef::AsyncBuiltin(i) => Ok(store.opaque().component_instance(index).async_builtins[i.0 as usize]),
    }
}

/// The core function of an async or threads built-in of component instance `index`.
///
/// `backpressure.inc` and `backpressure.dec` keep the instance's counter as the spec says
/// (trapping past 2^16 - 1 and below 0); with only synchronous calls nothing waits on it.
/// weld does not run the other built-ins yet: each does what the spec's definition does first,
/// trapping if the instance may not leave (inside `post-return`) where the spec checks that,
/// and then fails with a message that names it.
fn async_builtin_func<T: 'static>(
    store: &mut StoreInner<T>,
    index: usize,
    builtin: &AsyncBuiltin,
) -> Result<crate::Func> {
    let (name, instance) = (builtin.name, builtin.instance);
    // The spec's definitions of these read or change only the current task or instance, and
    // do not check `may_leave`.
    let guarded = !matches!(
        name,
        "context.get" | "context.set" | "backpressure.inc" | "backpressure.dec" | "thread.available-parallelism"
    );
    let call = move |store: &mut StoreInner<T>, _caller, _slots: &mut [ValRaw]| -> Result<()> {
        if guarded && !store.opaque().may_leave(index, instance) {
            return Err(Trap::CannotLeaveComponent.into());
        }
        let counter = &mut store.opaque_mut().component_instance_mut(index).backpressure[instance.0 as usize];
        match name {
            "backpressure.inc" if *counter + 1 == 1 << 16 => bail!("backpressure counter overflow"),
            "backpressure.inc" => *counter += 1,
            "backpressure.dec" if *counter == 0 => bail!("backpressure counter underflow"),
            "backpressure.dec" => *counter -= 1,
            _ => bail!(
                "the canonical built-in `{name}` needs component-model async or threads, which weld does not \
                 support yet"
            ),
        }
        Ok(())
    };
    crate::Func::from_host_fn(store, &builtin.ty, Arc::new(call))
}

/// The core function of a resource intrinsic of component instance `index`.
fn intrinsic_func<T: 'static>(
    store: &mut StoreInner<T>,
    index: usize,
    intrinsic: Intrinsic,
    host_dtors: Arc<Vec<Option<Arc<HostDtor<T>>>>>,
) -> Result<crate::Func> {
    use crate::ValType::I32;
    let Intrinsic { kind, resource, instance } = intrinsic;
    let (r, table) = (resource.0, instance.0 as usize);
    let ty = match kind {
        IntrinsicKind::ResourceNew | IntrinsicKind::ResourceRep => crate::FuncType::new([I32], [I32]),
        IntrinsicKind::ResourceDrop => crate::FuncType::new([I32], []),
    };
    // `resource.drop` calls the destructor like a function lifted by the instance that
    // defines the resource (the spec's `canon_resource_drop`), which must not reenter it.
    let info = store.opaque().component_instance(index).component.info();
    let dtor_enters = match &info.resources[r as usize] {
        ResourceDef::Guest { instance: owner, .. } if kind == IntrinsicKind::ResourceDrop => {
            info.entering_set(*owner, Some(instance))
        }
        _ => Vec::new(),
    };
    let call = move |store: &mut StoreInner<T>, _caller, slots: &mut [ValRaw]| -> Result<()> {
        // `resource.rep` only reads the table, so the spec allows it where calling out is not.
        if kind != IntrinsicKind::ResourceRep && !store.opaque().may_leave(index, instance) {
            return Err(Trap::CannotLeaveComponent.into());
        }
        let state = store.opaque_mut().component_instance_mut(index);
        let arg = slots[0].get_u64() as u32;
        let types = &state.resource_types;
        let names = |r: u32| types[r as usize].to_string();
        match kind {
            IntrinsicKind::ResourceNew => {
                let h = state.handles[table].add(Slot::Own { resource: r, rep: arg, lends: 0 })?;
                slots[0] = ValRaw::u64(u64::from(h));
            }
            IntrinsicKind::ResourceRep => {
                let rep = match state.handles[table].get(arg, r, &names)? {
                    Slot::Own { rep, .. } | Slot::Borrow { rep, .. } => rep,
                    Slot::Free => unreachable!("get never returns a free slot"),
                };
                slots[0] = ValRaw::u64(u64::from(rep));
            }
            IntrinsicKind::ResourceDrop => {
                if let Slot::Own { rep, .. } = state.handles[table].remove(arg, r, &names)? {
                    store.opaque_mut().enter_from_host(index, &dtor_enters)?;
                    run_dtor(store, index, r, rep, host_dtors[r as usize].as_deref())?;
                    store.opaque_mut().leave_to_host(index, &dtor_enters);
                }
            }
        }
        Ok(())
    };
    crate::Func::from_host_fn(store, &ty, Arc::new(call))
}

/// Runs the destructor of resource `r` of component instance `index` for `rep`.
fn run_dtor<T>(
    store: &mut StoreInner<T>,
    index: usize,
    r: u32,
    rep: u32,
    host_dtor: Option<&HostDtor<T>>,
) -> Result<()> {
    let component = store.opaque().component_instance(index).component.clone();
    match &component.info().resources[r as usize] {
        ResourceDef::Guest { dtor: Some(def), .. } => {
            let f = core_func(store, index, def)?;
            let mut slots = [ValRaw::u64(u64::from(rep))];
            // SAFETY: validation checked that a destructor has type (i32) -> ().
            unsafe { call_raw(store, f, None, &mut slots) }
        }
        ResourceDef::Guest { dtor: None, .. } => Ok(()),
        ResourceDef::Host(_) => match host_dtor {
            Some(dtor) => dtor(store, rep),
            None => Ok(()),
        },
    }
}

/// `ResourceAny::resource_drop`: runs the destructor of an owned handle the host holds.
pub(crate) fn drop_host_handle(mut store: impl AsContextMut, handle: ResourceAny) -> Result<()> {
    if !handle.owned() {
        bail!("a borrowed handle cannot be dropped with `resource_drop`");
    }
    let store = store.as_context_mut();
    let Some((store_id, index, r)) = handle.ty().guest_parts() else {
        // Host-defined resources are the host's own; nothing runs in any guest.
        return Ok(());
    };
    store.opaque().check_owner(store_id);
    run_dtor::<_>(store, index, r, handle.rep(), None)
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
