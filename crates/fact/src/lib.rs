//! FACT, the Fused Adapter Compiler of Trampolines: turns the fused calls of one adapter
//! module (planned by weld-environ's `adapt.rs`) into a core wasm module.
//!
//! Each fused call becomes one exported function, `adapter{i}`, whose type is the caller's
//! lowered signature. It lifts every value from the caller's representation and lowers it
//! into the callee's in one pass (no intermediate values), calls the callee, and does the same
//! for the results, following CanonicalABI.md. What the module imports (memories, `realloc`s,
//! `post-return`s, callees, instance flags and runtime functions) is returned beside the bytes
//! as a list of `AdapterImport`s, one per import in order.
//!
//! The output always validates; [`compile`] checks it with wasmparser and reports a failure
//! as a bug. FACT does not compile the module to machine code: the runtime does, with the
//! same backend as user modules.

#![forbid(unsafe_code)]

mod func;
mod lists;
mod module;
mod trampoline;
mod values;

use anyhow::{Context, Result, anyhow};
use weld_environ::component::adapt::AdapterImport;
use weld_environ::component::info::{AdapterModuleIndex, ComponentInfo, FusedIndex, Options};
use weld_environ::wasmparser::{Validator, WasmFeatures};

/// A compiled adapter module.
#[derive(Clone, Debug)]
pub struct AdapterModuleCode {
    /// The core wasm binary.
    pub wasm: Vec<u8>,
    /// What each of its imports is, in import order.
    pub imports: Vec<AdapterImport>,
    /// The fused calls it implements; call `i` is exported as `adapter{i}`.
    pub adapters: Vec<FusedIndex>,
}

/// Generates adapter module `module` of `info`.
pub fn compile(info: &ComponentInfo, module: AdapterModuleIndex) -> Result<AdapterModuleCode> {
    let plan = info.adapter_modules.get(module).context("no such adapter module")?;
    let mut m = module::ModuleBuilder::default();
    for f in &plan.adapters {
        trampoline::adapter(&mut m, info, *f).with_context(|| {
            format!("generating the adapter of fused call {} ({})", f.as_u32(), info.fused[*f].lift.ty)
        })?;
    }
    let (wasm, imports) = m.finish();
    let features = WasmFeatures::default() | WasmFeatures::MULTI_MEMORY | WasmFeatures::MEMORY64;
    Validator::new_with_features(features)
        .validate_all(&wasm)
        .map_err(|e| anyhow!("bug: FACT generated an invalid adapter module: {e}"))?;
    Ok(AdapterModuleCode { wasm, imports, adapters: plan.adapters.clone() })
}

/// The name of the export implementing fused call `index`.
pub fn export_name(index: FusedIndex) -> String {
    format!("adapter{}", index.as_u32())
}

fn describe_options(o: &Options) -> String {
    let mut s = format!("instance {}, {:?}", o.instance.as_u32(), o.string_encoding);
    if let Some(m) = o.memory {
        s += &format!(", memory {}{}", m.as_u32(), if o.memory64 { " (64-bit)" } else { "" });
    }
    if let Some(r) = o.realloc {
        s += &format!(", realloc {}", r.as_u32());
    }
    if let Some(p) = o.post_return {
        s += &format!(", post-return {}", p.as_u32());
    }
    s
}

/// A description of fused call `index` for people reading adapters: its component type and
/// the canonical options on each side.
pub fn describe(info: &ComponentInfo, index: FusedIndex) -> String {
    let call = &info.fused[index];
    format!(
        "adapter{}: {}\n  caller (lower): {}\n  callee (lift):  {}",
        index.as_u32(),
        call.lift.ty,
        describe_options(&call.lower),
        describe_options(&call.lift.options)
    )
}

#[cfg(test)]
mod tests;
