//! Loading ahead-of-time artifacts for `weld run`: the only place in the command with
//! `unsafe`, because loading an artifact runs its machine code as it is.
//!
//! The user vouches for an artifact by passing `--allow-precompiled` (Wasmtime's flag and
//! rule); without it an artifact is refused before anything of it is read beyond its header.

#![allow(unsafe_code)]

use anyhow::{Result, bail};
use std::path::Path;
use weld::component::Component;
use weld::{Engine, Module, Precompiled};

/// A loaded artifact.
pub enum Loaded {
    Module(Module),
    Component(Component),
}

/// Loads `path` if it is an artifact: `None` when it is not one (a binary or text to
/// compile), an error when it is one and `allowed` is false, or when loading refuses it.
pub fn load_if_precompiled(engine: &Engine, path: &Path, allowed: bool) -> Result<Option<Loaded>> {
    let Some(kind) = engine.detect_precompiled_file(path)? else { return Ok(None) };
    if !allowed {
        bail!(
            "{} is a precompiled artifact; running one requires the `--allow-precompiled` flag (its machine code \
             runs as it is, so use it only for artifacts you trust)",
            path.display()
        );
    }
    // SAFETY: the user passed `--allow-precompiled`, vouching that the file is an artifact
    // written by weld (`weld compile` or `serialize`), and weld does not change it while it
    // runs; loading still refuses damaged, truncated and mismatched artifacts.
    let loaded = unsafe {
        match kind {
            Precompiled::Module => Loaded::Module(Module::deserialize_file(engine, path)?),
            Precompiled::Component => Loaded::Component(Component::deserialize_file(engine, path)?),
        }
    };
    Ok(Some(loaded))
}
