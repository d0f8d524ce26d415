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
use weld_environ::component::info::{AdapterModuleIndex, AsyncCallIndex, ComponentInfo, FusedIndex, Options};
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
    if o.async_ {
        s += if o.callback.is_some() { ", async (callback)" } else { ", async" };
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

/// A description of async call `index` for people reading `weld adapters`: a call between
/// components that the runtime makes as a task rather than through a fused adapter, with its
/// component type, the canonical options on each side, and the bookkeeping the runtime does
/// for it.
pub fn describe_async_call(info: &ComponentInfo, index: AsyncCallIndex) -> String {
    let call = &info.async_calls[index];
    let (lift, lower) = (&call.lift.options, &call.lower);
    let why = match (lower.async_, lift.async_, call.lift.ty.async_) {
        (true, _, _) => "the caller lowers it `async`",
        (_, true, _) => "the callee lifts it `async`",
        (_, _, true) => "its type is `async`",
        _ => "futures, streams or error contexts cross it",
    };
    let callee = match (lift.async_, lift.callback.is_some()) {
        (true, true) => {
            "callback mode: the callee's core function returns EXIT, YIELD or WAIT, and the callback runs for each event"
        }
        (true, false) => {
            "stackful: the callee's core function runs on its thread until it returns, calling task.return"
        }
        _ => "synchronous lift: the callee returns its result, then its post-return runs",
    };
    let caller = if lower.async_ {
        "the caller gets the subtask's state (RETURNED at once, or STARTED with a subtask handle and a SUBTASK event later); \
         its arguments are read when the callee starts, through a pointer past 4 flat values"
    } else {
        "the caller blocks until the subtask returns (its thread waits, or the synchronous-task loop runs other threads)"
    };
    format!(
        "async call {}: {}\n  caller (lower): {}\n  callee (lift):  {}\n  a task, because {why}:\n    \
         - a subtask in the caller's handle table, and a task of the callee on a thread of its own (a fiber)\n    \
         - {caller}\n    - {callee}\n    \
         - values cross as lifted values: the arguments with the caller's options, the result with the callee's at \
         task.return, lowered back with the caller's\n    \
         - borrowed handles passed to the callee are lent until the subtask resolves",
        index.as_u32(),
        call.lift.ty,
        describe_options(lower),
        describe_options(lift),
    )
}

#[cfg(test)]
mod tests;
