//! The adapter validity oracle: for any function signature and any canonical options on
//! either side (string encoding, memory width, memory, `realloc` and `post-return` present or
//! absent where the spec allows), FACT emits a core module that validates.
//!
//! Only translation and FACT run (no machine code), so this oracle is fast; the run-time
//! correctness of adapters is [`super::fused`]'s job.

use super::common::ENCODINGS;
use crate::types::{NamedTypes, TypeLimits, arbitrary_type};
use anyhow::{Context, Result, anyhow, bail};
use arbitrary::Unstructured;
use weld::component::InterfaceType;
use weld_environ::component::abi::{AbiContext, CoreSignature, FlatType, MemoryWidth, core_signature};
use weld_environ::component::inline::inline;
use weld_environ::component::translate::translate_component;
use weld_environ::wasmparser::{Validator, WasmFeatures};

/// The canonical options of one side of an adapter. `realloc` and `memory` are only what the
/// input asked for; [`AdapterCase::arbitrary`] turns them on where the signature requires.
#[derive(Clone, Copy, Debug)]
pub struct AdapterOptions {
    pub encoding: &'static str,
    pub mem64: bool,
    pub memory: bool,
    pub realloc: bool,
    /// Only meaningful on the callee (lift) side.
    pub post_return: bool,
}

impl AdapterOptions {
    fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<AdapterOptions> {
        Ok(AdapterOptions {
            encoding: ENCODINGS[u.choose_index(ENCODINGS.len())?],
            mem64: u.arbitrary()?,
            memory: u.arbitrary()?,
            realloc: u.arbitrary()?,
            post_return: u.arbitrary()?,
        })
    }

    fn width(&self) -> MemoryWidth {
        if self.mem64 { MemoryWidth::Mem64 } else { MemoryWidth::Mem32 }
    }
}

/// A function signature and the options of the caller (lower) and callee (lift) of an
/// adapter for it.
#[derive(Debug)]
pub struct AdapterCase {
    pub params: Vec<InterfaceType>,
    pub result: Option<InterfaceType>,
    pub caller: AdapterOptions,
    pub callee: AdapterOptions,
}

impl AdapterCase {
    /// An arbitrary case: zero to five parameters, an optional result, arbitrary options on
    /// each side, with a memory and `realloc` wherever the spec requires them.
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<AdapterCase> {
        let limits = TypeLimits::default();
        let params =
            (0..u.int_in_range(0..=5)?).map(|_| arbitrary_type(u, limits)).collect::<arbitrary::Result<Vec<_>>>()?;
        let result = if u.arbitrary()? { Some(arbitrary_type(u, limits)?) } else { None };
        let mut case = AdapterCase {
            params,
            result,
            caller: AdapterOptions::arbitrary(u)?,
            callee: AdapterOptions::arbitrary(u)?,
        };
        case.require_options();
        Ok(case)
    }

    /// Turns on a memory and `realloc` where validation requires them: a side needs a memory
    /// when anything it passes goes through memory or contains a string or list, and a
    /// `realloc` when it receives such a value (the callee its parameters, the caller its
    /// result) or its parameters arrive in memory it must allocate (the callee).
    fn require_options(&mut self) {
        let pointers = self.params.iter().chain(&self.result).any(contains_pointers);
        let lower = self.signature(AbiContext::Lower);
        let lift = self.signature(AbiContext::Lift);
        self.caller.realloc |= self.result.iter().any(contains_pointers);
        self.callee.realloc |= self.params.iter().any(contains_pointers) || lift.params_in_memory;
        for (side, sig) in [(&mut self.caller, &lower), (&mut self.callee, &lift)] {
            side.memory |= side.realloc || pointers || sig.params_in_memory || sig.results_in_memory;
        }
    }

    /// The core signature of the lowered (caller) or lifted (callee) function.
    pub fn signature(&self, context: AbiContext) -> CoreSignature {
        let width = match context {
            AbiContext::Lower => self.caller.width(),
            AbiContext::Lift => self.callee.width(),
        };
        core_signature(&self.params, self.result.as_ref(), width, context)
    }
}

/// Whether a value of `ty` can hold a string or a list (whose contents live in memory).
fn contains_pointers(ty: &InterfaceType) -> bool {
    match ty {
        InterfaceType::String | InterfaceType::List(_) | InterfaceType::Map(_) => true,
        InterfaceType::FixedList(t) => contains_pointers(t.element()),
        InterfaceType::Record(t) => t.fields().iter().any(|f| contains_pointers(&f.ty)),
        InterfaceType::Tuple(t) => t.types().iter().any(contains_pointers),
        InterfaceType::Variant(t) => t.cases().iter().any(|c| c.ty.as_ref().is_some_and(contains_pointers)),
        InterfaceType::Option(t) => contains_pointers(t.some()),
        InterfaceType::Result(t) => t.ok().into_iter().chain(t.err()).any(contains_pointers),
        _ => false,
    }
}

fn core_types(types: &[FlatType]) -> String {
    types
        .iter()
        .map(|t| match t {
            FlatType::I32 => " i32",
            FlatType::I64 => " i64",
            FlatType::F32 => " f32",
            FlatType::F64 => " f64",
        })
        .collect()
}

/// A core module and its instance `$name` with what options of `side` refer to: a memory,
/// a `realloc`, a `post-return` for results `results`, and `f` of core type `sig` (never
/// called: only the adapter's validity is at stake).
fn options_core(name: &str, side: &AdapterOptions, sig: &CoreSignature) -> String {
    let p = if side.mem64 { "i64" } else { "i32" };
    let memory = if side.mem64 { "(memory (export \"mem\") i64 1)" } else { "(memory (export \"mem\") 1)" };
    format!(
        r#"
  (core module ${name}'
    {memory}
    (func (export "realloc") (param {p} {p} {p} {p}) (result {p}) unreachable)
    (func (export "post-return") (param{results}))
    (func (export "f") (param{params}) (result{results}) unreachable))
  (core instance ${name} (instantiate ${name}'))"#,
        params = core_types(&sig.params),
        results = core_types(&sig.results),
    )
}

/// `(canon lift|lower ...)` options of `side`, from instance `inst`.
fn canon_options(inst: &str, side: &AdapterOptions, lift: bool) -> String {
    let mut s = format!("string-encoding={}", side.encoding);
    if side.memory {
        s += &format!(" (memory (core memory ${inst} \"mem\"))");
    }
    if side.realloc {
        s += &format!(" (realloc (core func ${inst} \"realloc\"))");
    }
    if lift && side.post_return {
        s += &format!(" (post-return (core func ${inst} \"post-return\"))");
    }
    s
}

/// A component whose inner component `$B` lowers `f` of its sibling `$A` and hands it to a
/// core instance, so that one fused call (one adapter) joins them.
pub fn adapter_component(case: &AdapterCase) -> String {
    let mut names = NamedTypes::default();
    let mut sig = String::new();
    for (i, ty) in case.params.iter().enumerate() {
        sig += &format!(" (param \"p{i}\" {})", names.reference(ty));
    }
    if let Some(ty) = &case.result {
        sig += &format!(" (result {})", names.reference(ty));
    }
    let lower = case.signature(AbiContext::Lower);
    format!(
        r#"(component
  (component $A
    {core_a}
    {defs}
    (func (export "f"){sig} (canon lift (core func $i "f") {options_a})))
  (component $B
    (import "a" (instance $a
      {decls}
      (export "f" (func{sig}))))
    {aliases}
    {core_b}
    (core func $f (canon lower (func $a "f") {options_b}))
    (core module $user'
      (import "a" "f" (func (param{lower_params}) (result{lower_results}))))
    (core instance (instantiate $user' (with "a" (instance (export "f" (func $f)))))))
  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "a" (instance $a)))))"#,
        core_a = options_core("i", &case.callee, &case.signature(AbiContext::Lift)),
        defs = names.exported_definitions(),
        options_a = canon_options("i", &case.callee, true),
        decls = names.instance_type_declarations(),
        aliases = names.aliases("a"),
        core_b = options_core("m", &case.caller, &lower),
        options_b = canon_options("m", &case.caller, false),
        lower_params = core_types(&lower.params),
        lower_results = core_types(&lower.results),
    )
}

/// Translates [`adapter_component`] and runs FACT on its adapter module; checks that there is
/// exactly one fused call and that the module validates (FACT checks it too; this is an
/// independent validator, with only the features an adapter may use).
pub fn fact_valid(case: &AdapterCase) -> Result<()> {
    let wat = adapter_component(case);
    let binary = wat::parse_str(&wat).context("assembling the component")?;
    let translation = translate_component(&binary, weld_environ::supported_features()).context("translating")?;
    let info = inline(&translation).context("inlining")?;
    let fused: usize = info.adapter_modules.values().map(|m| m.adapters.len()).sum();
    if fused != 1 {
        bail!("expected 1 fused call, found {fused} in {} adapter modules", info.adapter_modules.len());
    }
    for i in info.adapter_modules.keys() {
        let code = weld_fact::compile(&info, i)?;
        let features = WasmFeatures::WASM1
            | WasmFeatures::MULTI_VALUE
            | WasmFeatures::BULK_MEMORY
            | WasmFeatures::SIGN_EXTENSION
            | WasmFeatures::MULTI_MEMORY
            | WasmFeatures::MEMORY64;
        Validator::new_with_features(features)
            .validate_all(&code.wasm)
            .map_err(|e| anyhow!("adapter module {} is invalid: {e}", i.as_u32()))?;
    }
    Ok(())
}
