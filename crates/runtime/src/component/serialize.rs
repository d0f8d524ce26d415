//! Ahead-of-time artifacts of components: [`Component::serialize`], and
//! [`Component::deserialize`]/[`Component::deserialize_file`], which load one without
//! compiling anything: the component's binary is translated and flattened again, and each
//! core module and adapter module takes its code from the artifact, in order.
//!
//! Unlike a core module's artifact (which holds the module's translated description and no
//! binary, `artifact/module_meta.rs`), a component's holds its binary and translates it again
//! when it is loaded: describing a component's types, instances and adapters is much more
//! code, and the components weld runs are small next to the core modules that dominate load
//! time. Its core modules' data are copied out of the binary and their images built in
//! memfds, as for a compiled component.

use super::compiled::Component;
use crate::Engine;
use crate::artifact::{self, ArtifactContents, ArtifactKind, CodeRef};
use crate::binary::Binary;
use crate::vm::mmap::ReadOnlyMapping;
use anyhow::{Context as _, Result};
use std::path::Path;
use std::sync::Arc;

impl Component {
    /// Writes this component as an ahead-of-time artifact: its binary, and the code of each of
    /// its core modules and adapter modules. [`Component::deserialize`] loads it without
    /// compiling, with an engine of the same settings and the same build of weld.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let (binary, modules, adapters) = self.artifact_parts();
        Ok(artifact::write(&ArtifactContents {
            kind: ArtifactKind::Component,
            stamp: self.engine().stamp(),
            binary: binary.bytes(),
            modules: modules.into_iter().map(|m| CodeRef::of_memory(m.code())).collect::<Result<_>>()?,
            adapters: adapters.into_iter().map(|m| CodeRef::of_memory(m.code())).collect::<Result<_>>()?,
            blobs: Vec::new(),
            images: Vec::new(),
            description: &[],
        }))
    }

    /// Loads a component from an artifact made by [`Component::serialize`] or
    /// [`Engine::precompile_component`]. An artifact from another build of weld, for another
    /// target, with other code-changing settings, truncated or damaged, is refused with an
    /// error that says which.
    ///
    /// # Safety
    ///
    /// The bytes must come from `serialize` or `precompile_component`: the artifact's machine
    /// code runs as it is, and a checksum catches damage, not forgery.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component> {
        let mapping = ReadOnlyMapping::copy_of(bytes.as_ref())?;
        Component::from_artifact(engine, Arc::new(mapping)).context("failed to load the precompiled component")
    }

    /// Loads a component from an artifact file, mapping it (its code runs where it lies in
    /// the file) instead of reading it. Errors name the file.
    ///
    /// # Safety
    ///
    /// As for [`Component::deserialize`]; moreover the file must not change while the
    /// component lives (it is mapped, not copied).
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Component> {
        let path = path.as_ref();
        ReadOnlyMapping::map_path(path)
            .and_then(|mapping| Component::from_artifact(engine, Arc::new(mapping)))
            .with_context(|| format!("failed to load the precompiled component `{}`", path.display()))
    }

    fn from_artifact(engine: &Engine, mapping: Arc<ReadOnlyMapping>) -> Result<Component> {
        engine.check_runs_here()?;
        let loaded = artifact::load(mapping, ArtifactKind::Component, engine.stamp())?;
        let binary = Binary::in_artifact(&loaded.mapping, loaded.parts.binary.clone())?;
        Component::build(engine, binary, Some(loaded))
    }
}
