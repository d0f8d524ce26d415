//! `Component`: a compiled component. Compiling translates the binary, flattens its nested
//! instantiations into initializers (weld-environ's inliner) and compiles every core module in
//! it. Instantiating and calling components is not available yet.

use crate::{Engine, Module};
use anyhow::{Context, Result};
use std::sync::Arc;
use weld_environ::component::info::{ComponentInfo, Export, ImportKind};
use weld_environ::component::{inline::inline, translate::translate_component};

/// A compiled component.
#[derive(Clone)]
pub struct Component {
    inner: Arc<ComponentInner>,
}

struct ComponentInner {
    engine: Engine,
    info: ComponentInfo,
    modules: Vec<Module>,
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
        Ok(Component { inner: Arc::new(ComponentInner { engine: engine.clone(), info, modules }) })
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
