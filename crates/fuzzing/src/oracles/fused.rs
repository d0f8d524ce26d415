//! The fused-call oracle: the host calls a caller component that passes a value to an
//! echoing callee component through a fused adapter, with any string encoding and memory
//! width on either side; the value comes back equal (so the callee received it equal too: the
//! echo returns exactly what it got).
//!
//! With `async_type`, both functions have `async` types: the call between the components is
//! then one the runtime makes as a task (an `AsyncCall`, lifting and lowering through values)
//! rather than a fused adapter, and the host's call runs in the store's event loop. The same
//! values must come back either way.

use super::common::{ENCODINGS, echo_core, flat_result, options, padding_params, round_trip, type_and_values};
use crate::types::NamedTypes;
use anyhow::{Context, Result};
use arbitrary::Unstructured;
use weld::component::{InterfaceType, Val};
use weld_environ::component::abi::MemoryWidth;

/// One side of a fused call: its string encoding and memory width.
#[derive(Clone, Copy, Debug)]
pub struct Side {
    pub encoding: &'static str,
    pub mem64: bool,
}

impl Side {
    pub(super) fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<Side> {
        Ok(Side { encoding: ENCODINGS[u.choose_index(ENCODINGS.len())?], mem64: u.arbitrary()? })
    }

    pub(super) fn width(self) -> MemoryWidth {
        if self.mem64 { MemoryWidth::Mem64 } else { MemoryWidth::Mem32 }
    }
}

/// A type, values of it, and the options of the caller and the callee of a fused call.
#[derive(Debug)]
pub struct FusedCase {
    pub ty: InterfaceType,
    pub values: Vec<Val>,
    pub caller: Side,
    pub callee: Side,
    /// Whether the functions have `async` types (the call is a task, not a fused adapter).
    pub async_type: bool,
}

impl FusedCase {
    /// An arbitrary case: a type within the default limits, one to four values of it, and
    /// arbitrary options on each side; a fused call.
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<FusedCase> {
        let (ty, values) = type_and_values(u)?;
        Ok(FusedCase { ty, values, caller: Side::arbitrary(u)?, callee: Side::arbitrary(u)?, async_type: false })
    }

    /// An arbitrary case whose functions have `async` types.
    pub fn arbitrary_async(u: &mut Unstructured) -> arbitrary::Result<FusedCase> {
        Ok(FusedCase { async_type: true, ..FusedCase::arbitrary(u)? })
    }

    /// The component the case runs (see [`fused_component`]).
    pub fn component(&self) -> String {
        component_text(&self.ty, self.caller, self.callee, self.async_type)
    }
}

/// A component exporting `run: func(x: ty, p0: u64, ..) -> ty`: its inner component `$B`
/// passes `x` to `echo` of its inner component `$A` (a fused call through an adapter) and
/// returns what comes back.
pub fn fused_component(ty: &InterfaceType, caller: Side, callee: Side) -> String {
    component_text(ty, caller, callee, false)
}

/// [`fused_component`], with `async` function types if `async_type`.
fn component_text(ty: &InterfaceType, caller: Side, callee: Side, async_type: bool) -> String {
    let mut names = NamedTypes::default();
    let t = names.reference(ty);
    let effect = if async_type { "async " } else { "" };
    let sig = format!("{effect}(param \"x\" {t}){} (result {t})", padding_params());
    let (p, mem_b) = if caller.mem64 { ("i64", "i64 16") } else { ("i32", "16") };
    // The lowered import takes a pointer to the parameters, and a pointer to room for the
    // result unless the result is one core value.
    let (import_sig, run_result, body) = match flat_result(ty, caller.width()) {
        Some(core) => {
            (format!("(param {p}) (result {core})"), core.to_string(), "(call $echo (local.get $p))".to_string())
        }
        None => {
            let (size, align) = (ty.abi().size(caller.width()), ty.abi().align(caller.width()));
            (
                format!("(param {p} {p})"),
                p.to_string(),
                format!(
                    "(local.set $r (call $realloc ({p}.const 0) ({p}.const 0) ({p}.const {align}) ({p}.const {size})))
        (call $echo (local.get $p) (local.get $r))
        (local.get $r)"
                ),
            )
        }
    };
    format!(
        r#"(component
  (component $A
    {core_a}
    {defs}
    (func (export "echo") {sig} (canon lift (core func $i "echo") {options_a})))
  (component $B
    (import "a" (instance $a
      {decls}
      (export "echo" (func {sig}))))
    {aliases}
    {core_b}
    (core func $echo (canon lower (func $a "echo") {options_b}))
    (core module $run'
      (import "m" "mem" (memory {mem_b}))
      (import "m" "realloc" (func $realloc (param {p} {p} {p} {p}) (result {p})))
      (import "a" "echo" (func $echo {import_sig}))
      (func (export "run") (param $p {p}) (result {run_result})
        (local $r {p})
        {body}))
    (core instance $run (instantiate $run' (with "m" (instance $m)) (with "a" (instance (export "echo" (func $echo))))))
    (func (export "run") {sig} (canon lift (core func $run "run") {options_b})))
  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "a" (instance $a))))
  {reexports}
  (export "run" (func $b "run") (func {sig})))"#,
        core_a = echo_core("i", callee.mem64, ty),
        defs = names.exported_definitions(),
        options_a = options("i", callee.encoding),
        decls = names.instance_type_declarations(),
        aliases = names.aliases("a"),
        core_b = echo_core("m", caller.mem64, ty),
        options_b = options("m", caller.encoding),
        reexports = names.reexports("a"),
    )
}

/// Calls `run` of [`fused_component`] with each value and checks that it comes back equal.
pub fn fact_roundtrip(case: &FusedCase) -> Result<()> {
    let wat = case.component();
    let what = || format!("{} from {:?} to {:?}", case.ty, case.caller, case.callee);
    let call = if case.async_type { "the async call" } else { "the fused call" };
    round_trip(&wat, "run", &case.values, what).with_context(|| format!("{call} of {}", case.ty))
}
