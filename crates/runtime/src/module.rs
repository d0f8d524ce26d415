//! `Module`: a compiled core module, ready to instantiate any number of times, and its
//! ahead-of-time artifacts (`serialize`, `deserialize`).
//!
//! A module's artifact holds its translated description (`artifact/module_meta.rs`), not its
//! binary: loading one translates nothing, and copies nothing either, since its code, data,
//! names and memory images stay where they lie in the artifact's mapping.

use crate::artifact::{self, ArtifactContents, ArtifactKind, CodePart, CodeRef, module_meta};
use crate::binary::Binary;
use crate::cache::Cache;
use crate::vm::code_memory::{CodeMemory, ModuleNames};
use crate::vm::memory_image::{MemoryImage, build_images};
use crate::vm::mmap::ReadOnlyMapping;
use crate::{Engine, ExternType};
use anyhow::{Context, Result};
use std::path::Path;
use std::sync::Arc;
use weld_environ::EntityRef;
use weld_environ::{EntityIndex, FuncIndex, VMOffsets};

/// A compiled WebAssembly module.
#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

struct ModuleInner {
    engine: Engine,
    env: weld_environ::Module,
    offsets: VMOffsets,
    code: Arc<CodeMemory>,
    /// Engine-wide signature id of each of the module's types.
    type_ids: Box<[u32]>,
    /// Copy-on-write images of defined memories, where the data allows (none when
    /// `Config::memory_init_cow` is off).
    images: Vec<Option<MemoryImage>>,
    /// Which data segments are already in an image.
    in_image: Vec<bool>,
}

impl std::fmt::Debug for Module {
    #[inline]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").field("name", &self.inner.env.name).finish_non_exhaustive()
    }
}

impl Module {
    /// Compiles a module from its binary or text form.
    #[inline]
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        let binary = wat::parse_bytes(bytes).context("failed to parse the module text")?;
        Module::from_binary(engine, &binary)
    }

    /// Compiles a module from a file holding its binary or text form. Errors name the file.
    pub fn from_file(engine: &Engine, file: impl AsRef<Path>) -> Result<Module> {
        let path = file.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read the module file `{}`", path.display()))?;
        engine
            .check_runs_here()
            .and_then(|()| Module::compile(engine, Binary::from_text_or_binary(bytes, "module")?))
            .with_context(|| format!("failed to compile the module file `{}`", path.display()))
    }

    /// Compiles a module from its binary form.
    #[inline]
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        engine.check_runs_here()?;
        Module::compile(engine, Binary::owned(bytes))
    }

    /// Compiles `binary` for `engine`, which may target another machine (to precompile it).
    pub(crate) fn compile(engine: &Engine, binary: Binary) -> Result<Module> {
        if wasmparser::Parser::is_component(binary.bytes()) {
            anyhow::bail!(
                "expected a core module, found a component (compile it with `weld::component::Component::new`)"
            );
        }
        let translation = weld_environ::translate_module(binary.bytes(), engine.config().features)?;
        Module::from_translation(engine, translation, binary.clone(), None)
    }

    /// Makes a module of a translation (for example one found inside a component) whose
    /// binary is `binary`, compiling it, or finding it in the engine's cache, unless `code`
    /// gives its compiled code from an artifact.
    pub(crate) fn from_translation(
        engine: &Engine,
        translation: weld_environ::ModuleTranslation<'_>,
        binary: Binary,
        code: Option<(Arc<ReadOnlyMapping>, CodePart)>,
    ) -> Result<Module> {
        let env = translation.module;
        let code = match code {
            Some((mapping, part)) => code_of_part(&env, &mapping, part)?,
            None => compile_or_find_cached(engine, &env, translation.bodies, binary.bytes())?,
        };
        let (images, in_image) = if engine.config().memory_init_cow {
            build_images(&env)?
        } else {
            (Vec::new(), vec![false; env.data.len()])
        };
        Ok(Module::assemble(engine, env, code, images, in_image))
    }

    fn assemble(
        engine: &Engine,
        env: weld_environ::Module,
        code: Arc<CodeMemory>,
        images: Vec<Option<MemoryImage>>,
        in_image: Vec<bool>,
    ) -> Module {
        let type_ids = engine.module_type_ids(&env);
        let offsets = VMOffsets::new(&env);
        Module {
            inner: Arc::new(ModuleInner { engine: engine.clone(), env, offsets, code, type_ids, images, in_image }),
        }
    }

    /// Writes this module as an ahead-of-time artifact, which [`Module::deserialize`] and
    /// [`Module::deserialize_file`] load without compiling, with an engine of the same
    /// settings and the same build of weld.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let meta = module_meta::encode(&self.inner.env);
        Ok(artifact::write(&ArtifactContents {
            kind: ArtifactKind::Module,
            stamp: self.inner.engine.stamp(),
            binary: &[],
            modules: vec![CodeRef::of_memory(&self.inner.code)?],
            adapters: Vec::new(),
            blobs: meta.blobs,
            images: meta.images.iter().map(Vec::as_slice).collect(),
            description: &meta.description,
        }))
    }

    /// Loads a module from an artifact made by [`Module::serialize`] or
    /// [`Engine::precompile_module`]. An artifact from another build of weld, for another
    /// target, with other code-changing settings, truncated or damaged, is refused with an
    /// error that says which.
    ///
    /// # Safety
    ///
    /// The bytes must come from `serialize` or `precompile_module`: the artifact's machine
    /// code runs as it is, and a checksum catches damage to its metadata, not forgery, nor
    /// damage to its code.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let mapping = ReadOnlyMapping::copy_of(bytes.as_ref())?;
        Module::from_artifact(engine, Arc::new(mapping)).context("failed to load the precompiled module")
    }

    /// Loads a module from an artifact file, mapping it (its code runs where it lies in the
    /// file, and its memory images are mapped copy-on-write from it) instead of reading it.
    /// Errors name the file.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`]; moreover the file must not change while the module
    /// lives (it is mapped, not copied).
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        ReadOnlyMapping::map_path(path)
            .and_then(|mapping| Module::from_artifact(engine, Arc::new(mapping)))
            .with_context(|| format!("failed to load the precompiled module `{}`", path.display()))
    }

    fn from_artifact(engine: &Engine, mapping: Arc<ReadOnlyMapping>) -> Result<Module> {
        engine.check_runs_here()?;
        let loaded = artifact::load(mapping, ArtifactKind::Module, engine.stamp())?;
        let description = &loaded.mapping.bytes()[loaded.parts.description.clone()];
        let decoded = module_meta::decode(description, &loaded.mapping, &loaded.parts.blobs, &loaded.parts.images)?;
        let image_ranges = loaded.parts.images.clone();
        let (mut modules, adapters) = loaded.into_supplies();
        let (mapping, part) = modules.next()?;
        modules.finish()?;
        adapters.finish()?;
        let module_meta::Decoded { env, images, in_image } = decoded;
        let code = code_of_part(&env, &mapping, part)?;
        let (images, in_image) = if engine.config().memory_init_cow {
            let images = images
                .into_iter()
                .map(|k| k.map(|k| MemoryImage::in_artifact(&mapping, image_ranges[k].clone())).transpose())
                .collect::<Result<Vec<_>>>()?;
            (images, in_image)
        } else {
            (Vec::new(), vec![false; env.data.len()])
        };
        Ok(Module::assemble(engine, env, code, images, in_image))
    }

    /// The compiled code.
    #[inline]
    /// Makes this module's code a component boundary for exceptions: one unwinding into it
    /// traps (for fused adapters).
    pub(crate) fn make_exception_barrier(&self) {
        self.code().info().exception_barrier.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn code(&self) -> &CodeMemory {
        &self.inner.code
    }

    /// The engine it was compiled with.
    #[inline]
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The name from the name section.
    #[inline]
    pub fn name(&self) -> Option<&str> {
        self.inner.env.name.as_deref()
    }

    /// The module's imports in order.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> + '_ {
        self.inner.env.imports.iter().map(|i| ImportType {
            module: &i.module,
            name: &i.name,
            ty: ExternType::of_entity(self.env(), self.type_ids(), i.entity),
        })
    }

    /// The module's exports in order.
    #[inline]
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        self.inner
            .env
            .exports
            .iter()
            .map(|(name, e)| ExportType { name, ty: ExternType::of_entity(self.env(), self.type_ids(), *e) })
    }

    #[inline]
    pub(crate) fn env(&self) -> &weld_environ::Module {
        &self.inner.env
    }

    #[inline]
    pub(crate) fn offsets(&self) -> &VMOffsets {
        &self.inner.offsets
    }

    /// The copy-on-write image of defined memory `d`, if it has one.
    #[inline]
    pub(crate) fn memory_image(&self, d: usize) -> Option<&MemoryImage> {
        self.inner.images.get(d)?.as_ref()
    }

    /// Whether data segment `i` is part of a memory image.
    #[inline]
    pub(crate) fn data_in_image(&self, i: usize) -> bool {
        self.inner.in_image[i]
    }

    #[inline]
    pub(crate) fn type_ids(&self) -> &[u32] {
        &self.inner.type_ids
    }

    /// The code of defined function `f`.
    #[inline]
    pub(crate) fn function_code(&self, f: FuncIndex) -> *const u8 {
        let d = self.inner.env.defined_func_index(f).expect("a defined function");
        self.inner.code.function(d.index())
    }

    #[inline]
    pub(crate) fn export(&self, name: &str) -> Option<EntityIndex> {
        self.inner.env.exports.get(name).copied()
    }
}

/// The names `env`'s code is registered with, for backtraces.
fn names_of(env: &weld_environ::Module) -> Option<ModuleNames> {
    Some(ModuleNames { names: env.func_names.clone(), imported: env.num_imported_funcs })
}

/// The code of `env` that `part` of an artifact's `mapping` holds.
fn code_of_part(env: &weld_environ::Module, mapping: &Arc<ReadOnlyMapping>, part: CodePart) -> Result<Arc<CodeMemory>> {
    part.check_functions(env.num_defined_funcs())?;
    part.into_code_memory(mapping, names_of(env), env.name.clone())
}

/// Compiles `env`'s `bodies`, or maps their code from the engine's cache when it holds the
/// code of the same `wasm` (storing it there after compiling otherwise).
fn compile_or_find_cached(
    engine: &Engine,
    env: &weld_environ::Module,
    bodies: Vec<weld_environ::FunctionBodyData<'_>>,
    wasm: &[u8],
) -> Result<Arc<CodeMemory>> {
    let Some(cache) = &engine.config().cache else {
        let compiled = engine.inner.compiler.compile_module(env, bodies)?;
        return CodeMemory::new(&compiled, names_of(env), env.name.clone());
    };
    let key = Cache::key(engine.stamp_text(), wasm);
    if let Some((mapping, part)) = cache.load(&key, engine.stamp(), env.num_defined_funcs()) {
        return part.into_code_memory(&mapping, names_of(env), env.name.clone());
    }
    let compiled = engine.inner.compiler.compile_module(env, bodies)?;
    cache.store(&key, engine.stamp(), &compiled);
    CodeMemory::new(&compiled, names_of(env), env.name.clone())
}

/// An import of a module: where it comes from and its type.
#[derive(Debug, Clone)]
pub struct ImportType<'a> {
    module: &'a str,
    name: &'a str,
    ty: ExternType,
}

impl ImportType<'_> {
    /// The module name.
    #[inline]
    pub fn module(&self) -> &str {
        self.module
    }
    /// The field name.
    #[inline]
    pub fn name(&self) -> &str {
        self.name
    }
    /// The expected type.
    #[inline]
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// An export of a module: its name and type.
#[derive(Debug, Clone)]
pub struct ExportType<'a> {
    name: &'a str,
    ty: ExternType,
}

impl ExportType<'_> {
    /// The export's name.
    #[inline]
    pub fn name(&self) -> &str {
        self.name
    }
    /// Its type.
    #[inline]
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::Module;
    use crate::{Config, Engine};

    /// `Config::memory_init_cow` decides whether a memory gets an image: the integration test
    /// `memory_init_cow_on_and_off_give_the_same_memory` shows both give the same contents.
    #[test]
    fn memory_init_cow_switches_images_on_and_off() {
        let wat = r#"(module (memory 1) (data (i32.const 0) "a") (data (i32.const 8000) "b"))"#;
        let module = |cow: bool| {
            let mut config = Config::new();
            config.memory_init_cow(cow);
            Module::new(&Engine::new(&config).unwrap(), wat).unwrap()
        };
        let with = module(true);
        assert!(with.memory_image(0).is_some());
        assert!(with.data_in_image(0) && with.data_in_image(1));
        let without = module(false);
        assert!(without.memory_image(0).is_none());
        assert!(!without.data_in_image(0) && !without.data_in_image(1));
    }

    /// A module loaded from an artifact file maps its memory image from the file; one loaded
    /// from bytes copies it into a memfd.
    #[test]
    fn an_artifact_file_lends_its_memory_image() {
        let wat = format!(r#"(module (memory 1) (data (i32.const 0) "{}"))"#, "x".repeat(5000));
        let engine = Engine::default();
        let bytes = engine.precompile_module(wat.as_bytes()).unwrap();
        let path = std::env::temp_dir().join(format!("weld-image-{}.cwasm", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        // SAFETY: written by `precompile_module`; the file is not changed while it is used.
        let (mapped, copied) = unsafe {
            (Module::deserialize_file(&engine, &path).unwrap(), Module::deserialize(&engine, &bytes).unwrap())
        };
        std::fs::remove_file(&path).unwrap();
        assert_eq!(mapped.memory_image(0).unwrap().is_in_artifact(), crate::vm::mmap::page_size() <= 16384);
        assert!(!copied.memory_image(0).unwrap().is_in_artifact());
        assert!(mapped.data_in_image(0) && copied.data_in_image(0));
    }
}
