//! `Linker<T>` for components: a tree of named host definitions (functions over component
//! values, instances nesting more definitions, core modules, components, resource types) that satisfies a component's
//! imports when it is instantiated. Matching the definitions against the component happens in
//! `instantiate.rs` (which also holds `Linker::instantiate`); this module only stores them,
//! and the types of what it stores are in `host.rs`.

use super::compiled::Component;
use super::component_type::ComponentNamedList;
use super::host::HostTypecheck;
use super::host::{Definition, HostCallKind, HostFunc, RawParams, ResultPlace, lift_params, lower_typed_results};
use super::item_types::ComponentFunc;
use super::lift::Lift;
use super::lower::Lower;
use super::resources::ResourceType;
use super::types::FuncType;
use super::values::Val;
use crate::store::StoreInner;
use crate::{Engine, Module};
use anyhow::{Result, bail};
use indexmap::IndexMap;
use indexmap::map::Entry;
use std::sync::Arc;

pub use crate::store::StoreContextMut;

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
    #[inline]
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker { engine: engine.clone(), root: IndexMap::new(), allow_shadowing: false }
    }

    /// The engine.
    #[inline]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether defining a name again replaces it (default: an error).
    #[inline]
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// The root of the name tree, where a component's top-level imports are found.
    #[inline]
    pub fn root(&mut self) -> LinkerInstance<'_, T> {
        LinkerInstance { map: &mut self.root, path: String::new(), allow_shadowing: self.allow_shadowing }
    }

    /// The instance named `name` at the root, created if it does not exist.
    #[inline]
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        self.root().into_instance(name)
    }

    /// The definition of the root import `name`: under that name, or under a semver-compatible
    /// version of it (`wasi:cli/stdout@0.2.12` for an import of `wasi:cli/stdout@0.2.0`).
    #[inline]
    pub(crate) fn definition(&self, name: &str) -> Option<&Definition<T>> {
        super::semver_names::get(&self.root, name)
    }
}

/// Checks a component function type against a host function's Rust parameter and result
/// tuples `P` and `R`.
pub(super) fn typecheck_wrapped<P: ComponentNamedList, R: ComponentNamedList>(ty: &FuncType) -> Result<()> {
    let params: Vec<_> = ty.param_types().cloned().collect();
    P::typecheck_list(&params, "parameter")?;
    R::typecheck_list(&ty.result.iter().cloned().collect::<Vec<_>>(), "result")
}

impl<'a, T: 'static> LinkerInstance<'a, T> {
    pub(super) fn insert(&mut self, name: &str, def: Definition<T>) -> Result<()> {
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

    /// What `name` is defined as here, if anything.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<&Definition<T>> {
        super::semver_names::get(self.map, name)
    }

    /// The name under which this instance defines `name` (a semver-compatible version of it,
    /// see `semver_names.rs`), or `name` itself if it defines nothing for it.
    pub(crate) fn defined_name(&self, name: &str) -> String {
        super::semver_names::resolve(self.map, name).unwrap_or(name).to_string()
    }

    #[inline]
    fn full_name(&self, name: &str) -> String {
        if self.path.is_empty() { name.to_string() } else { format!("{}/{name}", self.path) }
    }

    /// Defines `name` as a host function over dynamic values. It gets the type the component
    /// imports it with, its parameters lifted by that type, and `results` with room for its
    /// result (zero or one value); what it stores there is checked against that type.
    #[inline]
    pub fn func_new(
        &mut self,
        name: &str,
        func: impl Fn(StoreContextMut<'_, T>, ComponentFunc, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        let call = HostCallKind::Vals(Arc::new(
            move |store: &mut StoreInner<T>, ty: &ComponentFunc, params: &[Val], results: &mut [Val]| {
                func(StoreContextMut(store), ty.clone(), params, results)
            },
        ));
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
        let call = HostCallKind::Typed(Arc::new(
            move |store: &mut StoreInner<T>,
                  raw: RawParams<'_>,
                  place: ResultPlace<'_>|
                  -> Result<Result<Option<u64>>> {
                let params = lift_params(store, &raw, |cx, ty, src| Params::lift(cx, ty, src))?;
                let results = match func(StoreContextMut(&mut *store), params) {
                    Ok(results) => results,
                    Err(e) => return Ok(Err(e)),
                };
                lower_typed_results(store, raw.instance, raw.options, &place, &results).map(Ok)
            },
        ));
        let typecheck = Some(typecheck_wrapped::<Params, Results> as HostTypecheck);
        self.insert(name, Definition::Func(Arc::new(HostFunc { typecheck, call })))
    }

    /// Defines `name` as a resource type `ty` (from [`ResourceType::host`]), with the
    /// destructor that runs when a guest drops an owned handle to one.
    #[inline]
    pub fn resource(
        &mut self,
        name: &str,
        ty: ResourceType,
        dtor: impl Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        if !ty.is_host() {
            bail!("`{}`: only host-defined resource types can be defined in a linker", self.full_name(name));
        }
        let dtor = move |store: &mut StoreInner<T>, rep: u32| dtor(StoreContextMut(store), rep);
        self.insert(name, Definition::Resource(ty, Arc::new(dtor)))
    }

    /// Defines `name` as a core module, for components that import one.
    #[inline]
    pub fn module(&mut self, name: &str, module: &Module) -> Result<()> {
        self.insert(name, Definition::Module(module.clone()))
    }

    /// Defines `name` as a component, for components that import one. The importing
    /// component instantiates it (as many times as it says, with the arguments it gives),
    /// and calls between the two go through fused adapters, as between nested components.
    /// Its imports are the importing component's arguments, never this linker's definitions.
    /// Its type is checked where the importing component uses it: every function that
    /// crosses between the two must have the type the receiving side declares.
    #[inline]
    pub fn component(&mut self, name: &str, component: &Component) -> Result<()> {
        self.insert(name, Definition::Component(component.clone()))
    }

    /// The nested instance `name`, created if it does not exist.
    #[inline]
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
