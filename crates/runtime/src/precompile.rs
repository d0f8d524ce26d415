//! Precompiling without running: [`Engine::precompile_module`] and
//! [`Engine::precompile_component`] (for this machine or, with [`Config::target`], another
//! one), and [`Engine::detect_precompiled`], which tells an artifact from a binary.
//!
//! [`Config::target`]: crate::Config::target

use crate::artifact::{self, ArtifactKind};
use crate::binary::Binary;
use crate::component::Component;
use crate::{Engine, Module};
use anyhow::{Context as _, Result};
use std::path::Path;

/// What kind of artifact some bytes are ([`Engine::detect_precompiled`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precompiled {
    /// A precompiled core module ([`Module::deserialize`]).
    Module,
    /// A precompiled component ([`Component::deserialize`]).
    Component,
}

impl Engine {
    /// Compiles a core module (binary or text) into an ahead-of-time artifact for this
    /// engine's target, which [`Module::deserialize`] loads on a machine of that target with
    /// an engine of the same settings.
    pub fn precompile_module(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        let binary = wat::parse_bytes(bytes).context("failed to parse the module text")?;
        Module::compile(self, Binary::owned(&*binary))?.serialize()
    }

    /// Compiles a component (binary or text) into an ahead-of-time artifact for this engine's
    /// target, which [`Component::deserialize`] loads on a machine of that target with an
    /// engine of the same settings.
    pub fn precompile_component(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        let binary = wat::parse_bytes(bytes).context("failed to parse the component text")?;
        Component::build(self, Binary::owned(&*binary), None)?.serialize()
    }

    /// Whether `bytes` are a weld artifact, and of what: `None` for anything else (a
    /// WebAssembly binary, text, other bytes). Only the header is looked at; loading checks
    /// the rest.
    pub fn detect_precompiled(&self, bytes: &[u8]) -> Option<Precompiled> {
        match artifact::peek_kind(bytes)? {
            ArtifactKind::Module => Some(Precompiled::Module),
            ArtifactKind::Component => Some(Precompiled::Component),
            ArtifactKind::CacheEntry => None,
        }
    }

    /// [`Engine::detect_precompiled`] of the start of a file.
    pub fn detect_precompiled_file(&self, path: impl AsRef<Path>) -> Result<Option<Precompiled>> {
        use std::io::Read;
        let path = path.as_ref();
        let mut header = Vec::with_capacity(artifact::HEADER_LEN);
        std::fs::File::open(path)
            .and_then(|f| f.take(artifact::HEADER_LEN as u64).read_to_end(&mut header))
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        Ok(self.detect_precompiled(&header))
    }
}

/// What an artifact holds, as [`PrecompiledInfo::read`] finds it (for tools that report on
/// artifacts, such as `weld compile`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrecompiledInfo {
    /// A module or a component.
    pub kind: Precompiled,
    /// The build of weld that wrote it.
    pub built_by: String,
    /// The target triple its code is for.
    pub target: String,
    /// The number of core modules compiled (for a component, those in its binary).
    pub core_modules: usize,
    /// The number of adapter modules compiled for its fused calls.
    pub adapter_modules: usize,
    /// The number of functions compiled, over all modules.
    pub functions: usize,
    /// The bytes of machine code, over all modules.
    pub code_bytes: usize,
    /// The number of instructions that may trap, over all modules.
    pub trap_sites: usize,
}

impl PrecompiledInfo {
    /// Reads what the artifact `bytes` holds, checking that it is whole (its length and
    /// checksum) but not that this build or machine can load it.
    pub fn read(bytes: &[u8]) -> Result<PrecompiledInfo> {
        let parsed = artifact::parse(bytes).context("failed to read the artifact")?;
        let kind = match parsed.kind {
            ArtifactKind::Module => Precompiled::Module,
            ArtifactKind::Component => Precompiled::Component,
            ArtifactKind::CacheEntry => anyhow::bail!("it is a compile-cache entry, not an artifact"),
        };
        let codes = || parsed.modules.iter().chain(&parsed.adapters);
        Ok(PrecompiledInfo {
            kind,
            built_by: parsed.stamp.build.clone(),
            target: parsed.stamp.code.triple.clone(),
            core_modules: parsed.modules.len(),
            adapter_modules: parsed.adapters.len(),
            functions: codes().map(|c| c.num_functions()).sum(),
            code_bytes: codes().map(|c| c.code_len()).sum(),
            trap_sites: codes().map(|c| c.num_traps()).sum(),
        })
    }
}
