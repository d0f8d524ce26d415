//! `Component`: a compiled component. Compiling translates the binary, flattens its nested
//! instantiations into initializers (weld-environ's inliner) and compiles every core module in
//! it. The exported functions are numbered once here, so that a component `Func` is a small
//! copyable index.

use crate::{Engine, Module};
use anyhow::{Context, Result};
use indexmap::IndexMap;
use std::sync::Arc;
use weld_environ::component::info::{
    AdapterModuleIndex, ComponentInfo, Export, ImportKind, LiftedFunc, ModuleRef, RuntimeComponentInstanceIndex,
};
use weld_environ::component::translate::StaticModuleIndex;
use weld_environ::component::{inline::inline, translate::translate_component};
use weld_fact::AdapterModuleCode;

/// A compiled component.
#[derive(Clone)]
pub struct Component {
    inner: Arc<ComponentInner>,
}

struct ComponentInner {
    engine: Engine,
    info: ComponentInfo,
    modules: Vec<Module>,
    /// Every exported lifted function, numbered in export order (nested instances included).
    lifted: Vec<LiftedFunc>,
    /// The export tree with functions replaced by their number in `lifted`.
    exports: IndexMap<String, ExportItem>,
    /// The instances a call from the host into each lifted function enters.
    entering_sets: Vec<Vec<RuntimeComponentInstanceIndex>>,
    /// The adapter modules FACT generated, compiled, with what they import.
    adapters: Vec<(Module, AdapterModuleCode)>,
}

/// An export of a component, as instances look it up.
#[derive(Clone, Debug)]
pub(crate) enum ExportItem {
    /// The lifted function with this number.
    Func(usize),
    /// A nested instance.
    Instance(IndexMap<String, ExportItem>),
    /// A core module (exports of modules are not reachable through the API yet).
    #[allow(dead_code)]
    Module(ModuleRef),
}

/// Numbers the lifted functions of `exports` into `lifted`.
fn number_exports(exports: &IndexMap<String, Export>, lifted: &mut Vec<LiftedFunc>) -> IndexMap<String, ExportItem> {
    exports
        .iter()
        .map(|(name, e)| {
            let item = match e {
                Export::Func(f) => {
                    lifted.push(f.clone());
                    ExportItem::Func(lifted.len() - 1)
                }
                Export::Instance(inner) => ExportItem::Instance(number_exports(inner, lifted)),
                Export::Module(m) => ExportItem::Module(m.clone()),
            };
            (name.clone(), item)
        })
        .collect()
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component").field("exports", &self.inner.info.exports.keys()).finish_non_exhaustive()
    }
}

impl Component {
    /// Compiles a component from its binary or text form.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component> {
        let binary = wat::parse_bytes(bytes.as_ref()).context("failed to parse the component text")?;
        Component::from_binary(engine, &binary)
    }

    /// Compiles a component from its binary form.
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Component> {
        let translation = translate_component(bytes, engine.config().features)?;
        let info = inline(&translation)?;
        let modules = translation
            .modules
            .into_iter()
            .enumerate()
            .map(|(i, m)| Module::from_translation(engine, m).with_context(|| format!("compiling core module {i}")))
            .collect::<Result<Vec<_>>>()?;
        let adapters = (0..info.adapter_modules.len())
            .map(|i| {
                let code = weld_fact::compile(&info, AdapterModuleIndex(i as u32))?;
                let translation = weld_environ::translate_module(&code.wasm, engine.config().features)
                    .with_context(|| format!("bug: translating adapter module {i}"))?;
                let module = Module::from_translation(engine, translation)
                    .with_context(|| format!("compiling adapter module {i}"))?;
                Ok((module, code))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut lifted = Vec::new();
        let exports = number_exports(&info.exports, &mut lifted);
        let entering_sets = lifted.iter().map(|f| info.entering_set(f.options.instance, None)).collect();
        Ok(Component {
            inner: Arc::new(ComponentInner {
                engine: engine.clone(),
                info,
                modules,
                lifted,
                exports,
                entering_sets,
                adapters,
            }),
        })
    }

    pub(crate) fn info(&self) -> &ComponentInfo {
        &self.inner.info
    }

    pub(crate) fn module(&self, index: StaticModuleIndex) -> &Module {
        &self.inner.modules[index.0 as usize]
    }

    pub(crate) fn adapter_module(&self, index: AdapterModuleIndex) -> (&Module, &AdapterModuleCode) {
        let (m, code) = &self.inner.adapters[index.0 as usize];
        (m, code)
    }

    /// The adapter modules as core wasm, each with a description of the fused calls it
    /// implements (for `weld adapters`).
    pub fn adapter_modules(&self) -> Vec<(Vec<u8>, Vec<String>)> {
        self.inner
            .adapters
            .iter()
            .map(|(_, code)| {
                let about = code.adapters.iter().map(|f| weld_fact::describe(&self.inner.info, *f)).collect();
                (code.wasm.clone(), about)
            })
            .collect()
    }

    pub(crate) fn lifted(&self, index: usize) -> &LiftedFunc {
        &self.inner.lifted[index]
    }

    /// The instances a host call of lifted function `index` enters.
    pub(crate) fn entering_set(&self, index: usize) -> &[RuntimeComponentInstanceIndex] {
        &self.inner.entering_sets[index]
    }

    pub(crate) fn num_lifted(&self) -> usize {
        self.inner.lifted.len()
    }

    pub(crate) fn export_items(&self) -> &IndexMap<String, ExportItem> {
        &self.inner.exports
    }

    /// The engine it was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The number of core modules compiled for it.
    pub fn num_core_modules(&self) -> usize {
        self.inner.modules.len()
    }

    /// The number of component-to-component calls that need a fused adapter.
    pub fn num_fused_calls(&self) -> usize {
        self.inner.info.fused.len()
    }

    /// The component's imports: each name with a description of what it expects.
    pub fn imports(&self) -> Vec<(String, String)> {
        self.inner
            .info
            .imports
            .iter()
            .map(|(name, kind)| {
                let what = match kind {
                    ImportKind::Func(ty) => ty.to_string(),
                    ImportKind::Instance => "instance".to_string(),
                    ImportKind::Module => "core module".to_string(),
                    ImportKind::Resource => "resource type".to_string(),
                    ImportKind::Type => "type".to_string(),
                    ImportKind::Unsupported(what) => format!("{what} (not supported yet)"),
                };
                (name.clone(), what)
            })
            .collect()
    }

    /// The component's exported functions, with nested instance exports written
    /// `instance#name`, each with its type.
    pub fn exported_functions(&self) -> Vec<(String, String)> {
        fn walk(prefix: &str, exports: &indexmap::IndexMap<String, Export>, out: &mut Vec<(String, String)>) {
            for (name, e) in exports {
                let full = if prefix.is_empty() { name.clone() } else { format!("{prefix}#{name}") };
                match e {
                    Export::Func(f) => out.push((full, f.ty.to_string())),
                    Export::Instance(inner) => walk(&full, inner, out),
                    Export::Module(_) => {}
                }
            }
        }
        let mut out = Vec::new();
        walk("", &self.inner.info.exports, &mut out);
        out
    }
}
