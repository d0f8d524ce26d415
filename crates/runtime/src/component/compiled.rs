//! `Component`: a compiled component. Compiling translates the binary and compiles every core
//! module in it; flattening its nested instantiations into initializers (weld-environ's
//! inliner) and compiling the fused adapters gives a [`LinkedComponent`], what instances run.
//!
//! A component that imports no component is flattened once, when it is compiled. One that
//! imports components is flattened when it is instantiated, with the components the linker
//! provides inlined into it (from their own static translations, which every `Component`
//! keeps for that): calls between them are then fused calls like any other. The last few
//! flattenings are cached by the identity of the provided components.
//!
//! The exported functions are numbered once per flattening, so that a component `Func` is a
//! small copyable index.

use super::export_names::{ComponentExportIndex, ExportLookup, ExportNames};
use super::item_types::ComponentFunc;
use super::types::FuncType;
use crate::artifact::{CodeSupply, LoadedArtifact};
use crate::binary::Binary;
use crate::{Engine, Module};
use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use weld_environ::PrimaryMap;
use weld_environ::component::convert::TypeConverter;
use weld_environ::component::info::{
    AdapterModuleIndex, ComponentInfo, Export, ImportPath, Initializer, LiftedFunc, ModuleRef, Options,
    RuntimeComponentInstanceIndex,
};
use weld_environ::component::inline::{InlineInput, Source, SourceIndex, component_imports, inline_linked};
use weld_environ::component::translate::{
    ComponentItem, StaticComponent, StaticComponentIndex, StaticModuleIndex, translate_component,
};
use weld_environ::component::{AbiContext, CoreSignature, FlatType, InterfaceType, MemoryWidth};
use weld_fact::AdapterModuleCode;

/// How many flattenings with different provided components a component keeps.
const LINK_CACHE_SIZE: usize = 8;

/// A compiled component.
#[derive(Clone)]
pub struct Component {
    inner: Arc<ComponentInner>,
}

struct ComponentInner {
    engine: Engine,
    /// The static translation of every component in the binary (the root first): what the
    /// inliner reads, for this component and wherever it is provided for a component import.
    statics: PrimaryMap<StaticComponentIndex, StaticComponent>,
    /// The binary's core modules, compiled, in the binary's order.
    modules: PrimaryMap<StaticModuleIndex, Module>,
    /// The root's component imports, which a linker must provide.
    component_imports: Vec<ImportPath>,
    /// The flattened component, if it imports no component.
    linked: Option<Arc<LinkedComponent>>,
    /// Flattenings with provided components, oldest first.
    links: Mutex<Vec<Link>>,
    /// The numbered names of its exports.
    export_names: Arc<ExportNames>,
    /// Its imports and exports with their types.
    ty: super::types::Component,
    /// The binary it was compiled from (for `serialize`).
    binary: Binary,
}

/// A flattening of a component with the components provided for its component imports.
struct Link {
    provided: Vec<Component>,
    linked: Arc<LinkedComponent>,
}

weld_environ::entity_index! {
    /// An exported lifted function of a linked component, numbered in export order (nested
    /// instances included).
    pub(crate) struct ExportedFuncIndex;
}

/// A component with every import of a component resolved: the flattened plan, the core
/// modules its initializers name (its own, then those of the provided components) and the
/// adapter modules FACT generated for it, compiled.
pub(crate) struct LinkedComponent {
    info: ComponentInfo,
    modules: PrimaryMap<StaticModuleIndex, Module>,
    /// Every exported lifted function, numbered in export order (nested instances included).
    lifted: PrimaryMap<ExportedFuncIndex, LiftedFunc>,
    /// The export tree with functions replaced by their number in `lifted`.
    exports: IndexMap<String, ExportItem>,
    /// The instances a call from the host into each lifted function enters.
    entering_sets: PrimaryMap<ExportedFuncIndex, Vec<RuntimeComponentInstanceIndex>>,
    /// How a host call of each lifted function is laid out.
    shapes: PrimaryMap<ExportedFuncIndex, CallShape>,
    /// The component's numbered export names, and what each number is in this flattening.
    export_names: Arc<ExportNames>,
    by_index: Vec<Option<ExportItem>>,
    /// The adapter modules FACT generated, compiled, with what they import.
    adapters: PrimaryMap<AdapterModuleIndex, (Module, AdapterModuleCode)>,
    /// How each lowered host import is called, in the order of the `LowerImport`
    /// initializers.
    import_shapes: Vec<Arc<ImportShape>>,
}

/// How a lowered host import is called, computed once per linking so that instantiating
/// allocates no types, signatures or names for it.
pub(crate) struct ImportShape {
    /// The import's component function type.
    pub(crate) ty: FuncType,
    /// The canonical options it is lowered with.
    pub(crate) options: Options,
    /// Its full name, for errors.
    pub(crate) name: String,
    /// The core signature of the lowered function.
    pub(crate) sig: CoreSignature,
    /// The same as a core function type.
    pub(crate) core_ty: crate::FuncType,
    /// The type `Func::call`-style host functions are given.
    pub(crate) component_ty: ComponentFunc,
    /// The parameters as one tuple (their layout when passed through memory).
    pub(crate) params: InterfaceType,
    /// The result as a one-element tuple, as typed host functions lower it.
    pub(crate) result_tuple: Option<InterfaceType>,
}

impl ImportShape {
    fn new(info: &ComponentInfo, import: &ImportPath, ty: &FuncType, options: &Options) -> ImportShape {
        let width = MemoryWidth::from_memory64(options.memory64);
        // A host function lowered with `async` completes before it returns (it is called
        // synchronously), so its subtask is already `RETURNED`; only the core signature
        // differs.
        let sig = if options.async_ {
            ty.async_core_signature(width, AbiContext::Lower, false)
        } else {
            ty.core_signature(width, AbiContext::Lower)
        };
        let core_ty = crate::FuncType::new(
            sig.params.iter().map(|t| core_val_type(*t)),
            sig.results.iter().map(|t| core_val_type(*t)),
        );
        ImportShape {
            ty: ty.clone(),
            options: options.clone(),
            name: import_name(info, import),
            core_ty,
            component_ty: ComponentFunc::new(ty.clone()),
            params: InterfaceType::tuple(ty.param_types().cloned()),
            result_tuple: ty.result.clone().map(|r| InterfaceType::tuple([r])),
            sig,
        }
    }
}

/// The core value type of a flat type.
pub(crate) fn core_val_type(t: FlatType) -> crate::ValType {
    match t {
        FlatType::I32 => crate::ValType::I32,
        FlatType::I64 => crate::ValType::I64,
        FlatType::F32 => crate::ValType::F32,
        FlatType::F64 => crate::ValType::F64,
    }
}

/// The full name of the root import `import` leads to (with its path inside it).
pub(crate) fn import_name(info: &ComponentInfo, import: &ImportPath) -> String {
    import.full_name(
        info.imports.get_index(weld_environ::EntityRef::index(import.import)).map_or("?", |(n, _)| n.as_str()),
    )
}

/// How a host call of an exported function is laid out, computed once per linking so that a
/// call flattens nothing.
pub(crate) struct CallShape {
    /// The core signature of the lifted function.
    pub(crate) sig: CoreSignature,
    /// The parameters as one tuple (their layout when passed through memory).
    pub(crate) params: InterfaceType,
    /// The result as a one-element tuple, as typed calls lift it.
    pub(crate) result_tuple: Option<InterfaceType>,
    /// Whether the callee's instance uses thread built-ins, so that a call gets a task and
    /// implicit thread (`concurrent::tasks::enter_sync_task`).
    pub(crate) sync_task: bool,
}

impl CallShape {
    fn new(info: &ComponentInfo, f: &LiftedFunc) -> CallShape {
        let width = MemoryWidth::from_memory64(f.options.memory64);
        CallShape {
            sig: f.ty.core_signature(width, AbiContext::Lift),
            params: InterfaceType::tuple(f.ty.param_types().cloned()),
            result_tuple: f.ty.result.clone().map(|r| InterfaceType::tuple([r])),
            sync_task: info.uses_threads(f.options.instance),
        }
    }
}

/// An export of a component, as instances look it up.
#[derive(Clone, Debug)]
pub(crate) enum ExportItem {
    /// The lifted function with this number.
    Func(ExportedFuncIndex),
    /// A nested instance.
    Instance(IndexMap<String, ExportItem>),
    /// A core module (exports of modules are not reachable through the API yet).
    #[allow(dead_code)]
    Module(ModuleRef),
}

/// Numbers the lifted functions of `exports` into `lifted`.
fn number_exports(
    exports: &IndexMap<String, Export>,
    lifted: &mut PrimaryMap<ExportedFuncIndex, LiftedFunc>,
) -> IndexMap<String, ExportItem> {
    exports
        .iter()
        .map(|(name, e)| {
            let item = match e {
                Export::Func(f) => ExportItem::Func(lifted.push(f.clone())),
                Export::Instance(inner) => ExportItem::Instance(number_exports(inner, lifted)),
                Export::Module(m) => ExportItem::Module(m.clone()),
            };
            (name.clone(), item)
        })
        .collect()
}

impl std::fmt::Debug for Component {
    #[inline]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let exports: Vec<&str> =
            self.inner.statics[StaticComponentIndex::ROOT].exports.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Component").field("exports", &exports).finish_non_exhaustive()
    }
}

impl Component {
    /// Compiles a component from its binary or text form.
    #[inline]
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component> {
        let binary = wat::parse_bytes(bytes.as_ref()).context("failed to parse the component text")?;
        Component::from_binary(engine, &binary)
    }

    /// Compiles a component from a file holding its binary or text form. Errors name the file.
    pub fn from_file(engine: &Engine, file: impl AsRef<std::path::Path>) -> Result<Component> {
        let path = file.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read the component file `{}`", path.display()))?;
        engine
            .check_runs_here()
            .and_then(|()| Component::build(engine, Binary::from_text_or_binary(bytes, "component")?, None))
            .with_context(|| format!("failed to compile the component file `{}`", path.display()))
    }

    /// Compiles a component from its binary form.
    #[inline]
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Component> {
        engine.check_runs_here()?;
        Component::build(engine, Binary::owned(bytes), None)
    }

    /// Makes a component of `binary`: compiles its core modules and adapter modules (or
    /// finds them in the engine's cache), or takes their code from `artifact`, which holds
    /// the code of this binary.
    pub(crate) fn build(engine: &Engine, binary: Binary, artifact: Option<LoadedArtifact>) -> Result<Component> {
        let translation = translate_component(binary.bytes(), engine.config().features)?;
        let (mut module_codes, adapter_codes) = artifact.map(LoadedArtifact::into_supplies).unzip();
        let statics = translation.components;
        let modules = translation
            .modules
            .into_iter()
            .map(|(i, m)| {
                let code = module_codes.as_mut().map(CodeSupply::next).transpose()?;
                let part = binary.part(m.wasm)?;
                Module::from_translation(engine, m, part, code)
                    .with_context(|| format!("compiling core module {}", i.as_u32()))
            })
            .collect::<Result<PrimaryMap<_, _>>>()?;
        module_codes.map(CodeSupply::finish).transpose()?;
        let component_imports = component_imports(&statics[StaticComponentIndex::ROOT]);
        let export_names = Arc::new(ExportNames::new(&statics[StaticComponentIndex::ROOT]));
        let ty = type_of(&statics[StaticComponentIndex::ROOT]);
        let linked = if component_imports.is_empty() {
            let source = Source { components: &statics, modules: modules.values().map(Module::env).collect() };
            let input = InlineInput { sources: PrimaryMap::from_iter([source]), provided: HashMap::new() };
            let linked = LinkedComponent::new(engine, &input, modules.clone(), export_names.clone(), adapter_codes)?;
            Some(Arc::new(linked))
        } else {
            // Its adapters are made when it is linked: an artifact of it holds none.
            adapter_codes.map(CodeSupply::finish).transpose()?;
            None
        };
        Ok(Component {
            inner: Arc::new(ComponentInner {
                engine: engine.clone(),
                statics,
                modules,
                component_imports,
                linked,
                links: Mutex::new(Vec::new()),
                export_names,
                ty,
                binary,
            }),
        })
    }

    /// The flattened component, with `provide` giving the component for each component
    /// import: it gets the name of the root import, the export names leading from it to
    /// the component, and the import's full name for messages.
    pub(crate) fn link(
        &self,
        mut provide: impl FnMut(&str, &[String], &str) -> Result<Component>,
    ) -> Result<Arc<LinkedComponent>> {
        if let Some(linked) = &self.inner.linked {
            return Ok(linked.clone());
        }
        let mut provided = Vec::with_capacity(self.inner.component_imports.len());
        for path in &self.inner.component_imports {
            let name = self.import_name(path);
            let root = &self.inner.statics[StaticComponentIndex::ROOT].imports[path.import.in_root()].0;
            let c = provide(root, &path.path, &name)?;
            if !Engine::same(&c.inner.engine, &self.inner.engine) {
                bail!("the component provided for import `{name}` was compiled with a different engine");
            }
            provided.push(c);
        }
        let same = |a: &[Component], b: &[Component]| a.iter().zip(b).all(|(a, b)| Arc::ptr_eq(&a.inner, &b.inner));
        let mut links = self.inner.links.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(link) = links.iter().find(|l| same(&l.provided, &provided)) {
            return Ok(link.linked.clone());
        }
        // Each distinct provided component is one more source, its modules numbered after
        // those of the sources before it.
        let mut distinct: PrimaryMap<SourceIndex, &Component> = PrimaryMap::from_iter([self]);
        let mut source_of = HashMap::new();
        for (path, c) in self.inner.component_imports.iter().zip(&provided) {
            let source = match distinct.iter().find(|(_, d)| Arc::ptr_eq(&d.inner, &c.inner)) {
                Some((i, _)) => i,
                None => distinct.push(c),
            };
            source_of.insert(path.clone(), source);
        }
        let sources = distinct
            .values()
            .map(|c| Source {
                components: &c.inner.statics,
                modules: c.inner.modules.values().map(Module::env).collect(),
            })
            .collect();
        let modules = distinct.values().flat_map(|c| c.inner.modules.values().cloned()).collect();
        let input = InlineInput { sources, provided: source_of };
        let export_names = self.inner.export_names.clone();
        let linked = Arc::new(LinkedComponent::new(&self.inner.engine, &input, modules, export_names, None)?);
        if links.len() == LINK_CACHE_SIZE {
            links.remove(0);
        }
        links.push(Link { provided, linked: linked.clone() });
        Ok(linked)
    }

    /// The full name of an import path (`instance/name`), for messages.
    #[inline]
    fn import_name(&self, path: &ImportPath) -> String {
        let root = &self.inner.statics[StaticComponentIndex::ROOT];
        path.full_name(root.imports.get(path.import.in_root()).map_or("?", |(n, _)| n.as_str()))
    }

    /// The engine it was compiled with.
    #[inline]
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// What an artifact of it holds: its binary, its core modules in the binary's order, and
    /// its adapter modules (none when it imports components: those are made at linking).
    pub(crate) fn artifact_parts(&self) -> (&Binary, Vec<&Module>, Vec<&Module>) {
        let adapters = self.inner.linked.as_ref().map_or(Vec::new(), |l| l.adapters.values().map(|(m, _)| m).collect());
        (&self.inner.binary, self.inner.modules.values().collect(), adapters)
    }

    /// The number of core modules compiled for it.
    #[inline]
    pub fn num_core_modules(&self) -> usize {
        self.inner.modules.len()
    }

    /// Whether it imports components, which a linker must provide. Such a component is
    /// flattened, and its adapters compiled, when it is instantiated with them; until then it
    /// reports no fused calls and no adapter modules.
    #[inline]
    pub fn imports_components(&self) -> bool {
        self.inner.linked.is_none()
    }

    /// The number of component-to-component calls that need a fused adapter.
    #[inline]
    pub fn num_fused_calls(&self) -> usize {
        self.inner.linked.as_ref().map_or(0, |l| l.info.fused.len())
    }

    /// The adapter modules as core wasm, each with a description of the fused calls it
    /// implements (for `weld adapters`).
    pub fn adapter_modules(&self) -> Vec<(Vec<u8>, Vec<String>)> {
        let Some(linked) = &self.inner.linked else { return Vec::new() };
        linked
            .adapters
            .values()
            .map(|(_, code)| {
                let about = code.adapters.iter().map(|f| weld_fact::describe(&linked.info, *f)).collect();
                (code.wasm.clone(), about)
            })
            .collect()
    }

    /// The component's imports: each name with a description of what it expects.
    pub fn imports(&self) -> Vec<(String, String)> {
        let root = &self.inner.statics[StaticComponentIndex::ROOT];
        let mut conv = TypeConverter::new(root.types().as_ref());
        root.imports
            .values()
            .map(|(name, item)| {
                let what = match *item {
                    ComponentItem::Func(f) => match conv.func_type(root.func_type(f)) {
                        Ok(ty) => ty.to_string(),
                        Err(e) => format!("function ({e})"),
                    },
                    ComponentItem::Instance(_) => "instance".to_string(),
                    ComponentItem::Component(_) => "component".to_string(),
                    ComponentItem::Module(_) => "core module".to_string(),
                    ComponentItem::Type(t) if root.is_resource(t) => "resource type".to_string(),
                    ComponentItem::Type(_) => "type".to_string(),
                    ComponentItem::Value(_) => "value (not supported yet)".to_string(),
                };
                (name.clone(), what)
            })
            .collect()
    }

    /// The index of export `name`, inside the exported instance `parent` if given, for looking
    /// it up in instances of this component without a name (`Instance::get_func` and
    /// `get_typed_func` take it). Found before instantiation; `None` if there is no such export.
    #[inline]
    pub fn get_export_index(
        &self,
        parent: Option<&ComponentExportIndex>,
        name: impl ExportLookup,
    ) -> Option<ComponentExportIndex> {
        self.inner.export_names.resolve(parent, name.export_key())
    }

    /// The type of the component: its imports and exports, each with its type (see
    /// [`types::Component`](super::types::Component)).
    #[inline]
    pub fn component_type(&self) -> super::types::Component {
        self.inner.ty.clone()
    }

    /// The component's exported functions, with nested instance exports written
    /// `instance#name`, each with its type.
    pub fn exported_functions(&self) -> Vec<(String, String)> {
        use weld_environ::wasmparser::component_types::ComponentEntityType as E;
        fn walk(conv: &mut TypeConverter<'_>, name: String, ty: &E, out: &mut Vec<(String, String)>) {
            match ty {
                E::Func(f) => {
                    let ty = conv.func_type(*f).map_or_else(|e| format!("function ({e})"), |t| t.to_string());
                    out.push((name, ty));
                }
                E::Instance(id) => {
                    let types = conv.types();
                    for (inner, item) in &types[*id].exports {
                        walk(conv, format!("{name}#{inner}"), &item.ty, out);
                    }
                }
                _ => {}
            }
        }
        let root = &self.inner.statics[StaticComponentIndex::ROOT];
        let types = root.types().as_ref();
        let mut conv = TypeConverter::new(types);
        let mut out = Vec::new();
        for (name, item) in &root.exports {
            let ty = match *item {
                ComponentItem::Func(f) => E::Func(types.component_function_at(f.as_u32())),
                ComponentItem::Instance(i) => E::Instance(types.component_instance_at(i.as_u32())),
                _ => continue,
            };
            walk(&mut conv, name.clone(), &ty, &mut out);
        }
        out
    }
}

/// The type of the root component `root`: its imports and exports with their types.
fn type_of(root: &StaticComponent) -> super::types::Component {
    let types = root.types().as_ref();
    let mut conv = TypeConverter::new(types);
    let imports =
        root.imports.values().filter_map(|(name, _)| Some((name.as_str(), types.component_item_for_import(name)?)));
    let exports =
        root.exports.iter().filter_map(|(name, _)| Some((name.as_str(), types.component_item_for_export(name)?)));
    super::item_types::build(&mut conv, imports, exports)
}

impl LinkedComponent {
    /// Flattens `input` and compiles its adapters; `modules` are the compiled core modules of
    /// every source, in the inliner's numbering.
    fn new(
        engine: &Engine,
        input: &InlineInput<'_>,
        modules: PrimaryMap<StaticModuleIndex, Module>,
        export_names: Arc<ExportNames>,
        mut artifact_code: Option<CodeSupply>,
    ) -> Result<LinkedComponent> {
        let info = inline_linked(input)?;
        let adapters = info
            .adapter_modules
            .keys()
            .map(|i| {
                let n = i.as_u32();
                let code = weld_fact::compile(&info, i)?;
                let binary = Binary::owned(code.wasm.as_slice());
                let translation = weld_environ::translate_module(binary.bytes(), engine.config().features)
                    .with_context(|| format!("bug: translating adapter module {n}"))?;
                let compiled = artifact_code.as_mut().map(CodeSupply::next).transpose()?;
                let module = Module::from_translation(engine, translation, binary.clone(), compiled)
                    .with_context(|| format!("compiling adapter module {n}"))?;
                module.make_exception_barrier();
                Ok((module, code))
            })
            .collect::<Result<PrimaryMap<_, _>>>()?;
        artifact_code.map(CodeSupply::finish).transpose()?;
        let mut lifted = PrimaryMap::new();
        let exports = number_exports(&info.exports, &mut lifted);
        let entering_sets = lifted.values().map(|f| info.entering_set(f.options.instance, None)).collect();
        let shapes = lifted.values().map(|f| CallShape::new(&info, f)).collect();
        let by_index = (0..export_names.len() as u32)
            .map(|i| {
                let (first, rest) = export_names.path(i).split_first().map(|(f, r)| (*f, r.to_vec()))?;
                let mut item = exports.get(first)?;
                for name in rest {
                    match item {
                        ExportItem::Instance(map) => item = map.get(name)?,
                        _ => return None,
                    }
                }
                Some(item.clone())
            })
            .collect();
        let import_shapes = info
            .initializers
            .iter()
            .filter_map(|init| match init {
                Initializer::LowerImport { import, ty, options, .. } => {
                    Some(Arc::new(ImportShape::new(&info, import, ty, options)))
                }
                _ => None,
            })
            .collect();
        Ok(LinkedComponent {
            info,
            modules,
            lifted,
            exports,
            entering_sets,
            shapes,
            adapters,
            export_names,
            by_index,
            import_shapes,
        })
    }

    /// How the `n`th lowered host import (in initializer order) is called.
    #[inline]
    pub(crate) fn import_shape(&self, n: usize) -> &Arc<ImportShape> {
        &self.import_shapes[n]
    }

    #[inline]
    pub(crate) fn info(&self) -> &ComponentInfo {
        &self.info
    }

    #[inline]
    pub(crate) fn module(&self, index: StaticModuleIndex) -> &Module {
        &self.modules[index]
    }

    #[inline]
    pub(crate) fn adapter_module(&self, index: AdapterModuleIndex) -> (&Module, &AdapterModuleCode) {
        let (m, code) = &self.adapters[index];
        (m, code)
    }

    #[inline]
    pub(crate) fn lifted(&self, index: ExportedFuncIndex) -> &LiftedFunc {
        &self.lifted[index]
    }

    /// How a host call of lifted function `index` is laid out.
    #[inline]
    pub(crate) fn call_shape(&self, index: ExportedFuncIndex) -> &CallShape {
        &self.shapes[index]
    }

    /// The instances a host call of lifted function `index` enters.
    #[inline]
    pub(crate) fn entering_set(&self, index: ExportedFuncIndex) -> &[RuntimeComponentInstanceIndex] {
        &self.entering_sets[index]
    }

    /// The numbers of every lifted function.
    #[inline]
    pub(crate) fn lifted_keys(&self) -> impl Iterator<Item = ExportedFuncIndex> + '_ {
        self.lifted.keys()
    }

    #[inline]
    pub(crate) fn export_items(&self) -> &IndexMap<String, ExportItem> {
        &self.exports
    }

    /// The component's numbered export names.
    #[inline]
    pub(crate) fn export_names(&self) -> &ExportNames {
        &self.export_names
    }

    /// What export `index` (a number of [`LinkedComponent::export_names`]) is in this
    /// flattening.
    #[inline]
    pub(crate) fn export_at(&self, index: &ComponentExportIndex) -> Option<&ExportItem> {
        self.by_index.get(index.index as usize)?.as_ref()
    }
}
