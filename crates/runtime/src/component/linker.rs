//! `Linker<T>` for components: a tree of named host definitions (functions over component
//! values, instances nesting more definitions, core modules, components, resource types) that satisfies a component's
//! imports when it is instantiated. Matching the definitions against the component happens in
//! `instance.rs`; this module only stores them.

use super::Component;
use super::host::lift_params;
use super::instance::{Instance, InstancePre, instantiate};
use super::resources::ResourceType;
use super::typed::{ComponentNamedList, Lift, Lower, tuple_elements};
use super::types::FuncType;
use super::types::InterfaceType;
use super::values::Val;
use crate::store::{AsContextMut, StoreInner};
use crate::{Engine, Module};
use anyhow::{Result, bail};
use indexmap::IndexMap;
use indexmap::map::Entry;
use std::sync::Arc;
use weld_environ::component::info::Options;

/// The store as a host function sees it: its data (`data()`, `data_mut()`) and everything in it.
pub type StoreContextMut<'a, T> = &'a mut StoreInner<T>;

/// A host function over component values: its parameters, and room for its results.
pub(crate) type HostCall<T> = dyn Fn(&mut StoreInner<T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync;

/// A host function whose parameters are lifted in place (they contain views of the caller's
/// memory): it gets where they are rather than `Val`s. The outer error is a failure to lift
/// them (a trap of the canonical ABI), the inner one the host function's own.
pub(crate) type InPlaceHostCall<T> =
    dyn Fn(&mut StoreInner<T>, RawParams<'_>, &mut [Val]) -> Result<Result<()>> + Send + Sync;

/// Where a lowered import's parameters are, for a host function that lifts them itself.
pub(crate) struct RawParams<'a> {
    /// The calling component instance (in the store).
    pub(crate) instance: usize,
    /// The caller's canonical options.
    pub(crate) options: &'a Options,
    /// The parameters as one tuple type.
    pub(crate) ty: &'a InterfaceType,
    /// The flat core parameters (without a result pointer).
    pub(crate) flat: &'a [u64],
    /// Whether `flat` is one pointer to the parameters in memory.
    pub(crate) in_memory: bool,
}

/// How a host function receives its parameters.
pub(crate) enum HostCallKind<T> {
    /// As `Val`s.
    Vals(Arc<HostCall<T>>),
    /// Lifted by the function itself.
    InPlace(Arc<InPlaceHostCall<T>>),
}

/// Checks a component function type against a host function's Rust types.
pub(crate) type HostTypecheck = fn(&FuncType) -> Result<()>;

/// A host function defined in a linker.
pub(crate) struct HostFunc<T> {
    /// Checks the type the component imports it with, when the host gave Rust types
    /// (`func_wrap`); `func_new` functions are checked at each call instead.
    pub(crate) typecheck: Option<HostTypecheck>,
    pub(crate) call: HostCallKind<T>,
}

/// The destructor of a host-defined resource, called with the representation when a guest
/// drops an owned handle.
pub(crate) type HostDtor<T> = dyn Fn(&mut StoreInner<T>, u32) -> Result<()> + Send + Sync;

/// Something a name in a linker is defined as.
pub(crate) enum Definition<T> {
    Func(Arc<HostFunc<T>>),
    Instance(IndexMap<String, Definition<T>>),
    Resource(ResourceType, Arc<HostDtor<T>>),
    Module(Module),
    Component(Component),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Func(f) => Definition::Func(f.clone()),
            Definition::Instance(map) => Definition::Instance(map.clone()),
            Definition::Resource(ty, dtor) => Definition::Resource(*ty, dtor.clone()),
            Definition::Module(m) => Definition::Module(m.clone()),
            Definition::Component(c) => Definition::Component(c.clone()),
        }
    }
}

impl<T> Definition<T> {
    /// What kind of item this is, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Definition::Func(_) => "function",
            Definition::Instance(_) => "instance",
            Definition::Module(_) => "core module",
            Definition::Resource(..) => "resource type",
            Definition::Component(_) => "component",
        }
    }
}

/// Host definitions for instantiating components in stores with data `T`.
pub struct Linker<T> {
    engine: Engine,
    root: IndexMap<String, Definition<T>>,
    allow_shadowing: bool,
}

/// A place in a [`Linker`]'s tree of names: the root, or a nested instance.
pub struct LinkerInstance<'a, T> {
    map: &'a mut IndexMap<String, Definition<T>>,
    /// The names leading here, for error messages.
    path: String,
    allow_shadowing: bool,
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker { engine: engine.clone(), root: IndexMap::new(), allow_shadowing: false }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether defining a name again replaces it (default: an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// The root of the name tree, where a component's top-level imports are found.
    pub fn root(&mut self) -> LinkerInstance<'_, T> {
        LinkerInstance { map: &mut self.root, path: String::new(), allow_shadowing: self.allow_shadowing }
    }

    /// The instance named `name` at the root, created if it does not exist.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        self.root().into_instance(name)
    }

    pub(crate) fn definitions(&self) -> &IndexMap<String, Definition<T>> {
        &self.root
    }

    /// Instantiates `component` in `store`, satisfying its imports from this linker.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>, component: &Component) -> Result<Instance> {
        instantiate(store.as_context_mut(), self, component)
    }

    /// Resolves `component`'s imports in this linker once, for instantiating it many times:
    /// every import is looked up and checked for its kind, and the components this linker
    /// provides are linked in (adapters compiled). Later changes to the linker do not affect
    /// the result.
    pub fn instantiate_pre(&self, component: &Component) -> Result<InstancePre<T>> {
        InstancePre::new(self, component)
    }
}

impl<'a, T: 'static> LinkerInstance<'a, T> {
    fn insert(&mut self, name: &str, def: Definition<T>) -> Result<()> {
        match self.map.entry(name.to_string()) {
            Entry::Occupied(_) if !self.allow_shadowing => {
                bail!("`{}` is already defined in this linker", self.full_name(name))
            }
            Entry::Occupied(mut e) => {
                e.insert(def);
            }
            Entry::Vacant(e) => {
                e.insert(def);
            }
        }
        Ok(())
    }

    fn full_name(&self, name: &str) -> String {
        if self.path.is_empty() { name.to_string() } else { format!("{}/{name}", self.path) }
    }

    /// Defines `name` as a host function over dynamic values. Its parameters are lifted by the
    /// type the component imports it with, and `results` has room for its result (zero or one
    /// value); what the function stores there is checked against that type.
    pub fn func_new(
        &mut self,
        name: &str,
        func: impl Fn(StoreContextMut<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        let call = HostCallKind::Vals(Arc::new(func));
        self.insert(name, Definition::Func(Arc::new(HostFunc { typecheck: None, call })))
    }

    /// Defines `name` as a host function with Rust parameter and result types: `Params` and
    /// `Results` are tuples, e.g. `(String, u32)` and `(bool,)`. Its component type is known,
    /// so instantiation checks it against the type the component imports it with.
    pub fn func_wrap<Params, Results>(
        &mut self,
        name: &str,
        func: impl Fn(StoreContextMut<'_, T>, Params) -> Result<Results> + Send + Sync + 'static,
    ) -> Result<()>
    where
        Params: ComponentNamedList + Lift + 'static,
        Results: ComponentNamedList + Lower + 'static,
    {
        if Results::LEN > 1 {
            bail!("a component function has at most one result; use a tuple type inside `(T,)`");
        }
        fn typecheck<P: ComponentNamedList, R: ComponentNamedList>(ty: &FuncType) -> Result<()> {
            let params: Vec<_> = ty.param_types().cloned().collect();
            P::typecheck_list(&params, "parameter")?;
            R::typecheck_list(&ty.result.iter().cloned().collect::<Vec<_>>(), "result")
        }
        let finish = move |store: &mut StoreInner<T>, params: Params, results: &mut [Val]| -> Result<()> {
            let out = tuple_elements(func(store, params)?.to_val());
            if out.len() != results.len() {
                bail!("the host function returned {} results where {} were expected", out.len(), results.len());
            }
            for (slot, v) in results.iter_mut().zip(out) {
                *slot = v;
            }
            Ok(())
        };
        let call = if Params::IN_PLACE {
            HostCallKind::InPlace(Arc::new(
                move |store: &mut StoreInner<T>, raw: RawParams<'_>, results: &mut [Val]| {
                    let params = lift_params(store, &raw, |cx, ty, src| Params::lift(cx, ty, src))?;
                    Ok(finish(store, params, results))
                },
            ))
        } else {
            HostCallKind::Vals(Arc::new(move |store: &mut StoreInner<T>, params: &[Val], results: &mut [Val]| {
                finish(store, Params::from_val(Val::Tuple(params.to_vec()))?, results)
            }))
        };
        let typecheck = Some(typecheck::<Params, Results> as HostTypecheck);
        self.insert(name, Definition::Func(Arc::new(HostFunc { typecheck, call })))
    }

    /// Defines `name` as a resource type `ty` (from [`ResourceType::host`]), with the
    /// destructor that runs when a guest drops an owned handle to one.
    pub fn resource(
        &mut self,
        name: &str,
        ty: ResourceType,
        dtor: impl Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        if !ty.is_host() {
            bail!("`{}`: only host-defined resource types can be defined in a linker", self.full_name(name));
        }
        self.insert(name, Definition::Resource(ty, Arc::new(dtor)))
    }

    /// Defines `name` as a core module, for components that import one.
    pub fn module(&mut self, name: &str, module: &Module) -> Result<()> {
        self.insert(name, Definition::Module(module.clone()))
    }

    /// Defines `name` as a component, for components that import one. The importing
    /// component instantiates it (as many times as it says, with the arguments it gives),
    /// and calls between the two go through fused adapters, as between nested components.
    /// Its imports are the importing component's arguments, never this linker's definitions.
    /// Its type is checked where the importing component uses it: every function that
    /// crosses between the two must have the type the receiving side declares.
    pub fn component(&mut self, name: &str, component: &Component) -> Result<()> {
        self.insert(name, Definition::Component(component.clone()))
    }

    /// The nested instance `name`, created if it does not exist.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        let this =
            LinkerInstance { map: &mut *self.map, path: self.path.clone(), allow_shadowing: self.allow_shadowing };
        this.into_instance(name)
    }

    /// Like [`LinkerInstance::instance`], consuming this one.
    pub fn into_instance(self, name: &str) -> Result<LinkerInstance<'a, T>> {
        let path = self.full_name(name);
        let allow_shadowing = self.allow_shadowing;
        let entry = self.map.entry(name.to_string()).or_insert_with(|| Definition::Instance(IndexMap::new()));
        match entry {
            Definition::Instance(map) => Ok(LinkerInstance { map, path, allow_shadowing }),
            other => bail!("`{path}` is already defined in this linker as a {}, not an instance", other.kind()),
        }
    }
}
