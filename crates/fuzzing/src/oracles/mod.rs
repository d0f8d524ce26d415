//! Oracles: properties weld must have for any generated input.
//!
//! - [`component_api`]: a value of any type passed to a guest with `Func::call` and echoed
//!   back comes back equal, in every string encoding.
//! - [`fact_roundtrip`]: the same through a fused adapter: the host calls a caller component
//!   that passes the value to an echoing callee component, with any string encoding and
//!   memory width on either side; the value comes back equal (so the callee received it
//!   equal too: the echo returns exactly what it got).

use crate::types::{NamedTypes, TypeLimits, arbitrary_type};
use crate::values::arbitrary_val;
use anyhow::{Context, Result, bail};
use arbitrary::Unstructured;
use weld::component::{Component, InterfaceType, Linker, Val};
use weld::{Engine, Store};
use weld_environ::component::abi::{FlatType, MemoryWidth, flatten};

/// The string encodings of canonical options, as written in component text.
pub const ENCODINGS: [&str; 3] = ["utf8", "utf16", "latin1+utf16"];

/// A type, values of it, and the string encoding of the guest that echoes them.
#[derive(Debug)]
pub struct EchoCase {
    pub ty: InterfaceType,
    pub values: Vec<Val>,
    pub encoding: &'static str,
}

impl EchoCase {
    /// An arbitrary case: a type within the default limits and one to four values of it.
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<EchoCase> {
        let (ty, values) = type_and_values(u)?;
        let encoding = ENCODINGS[u.choose_index(ENCODINGS.len())?];
        Ok(EchoCase { ty, values, encoding })
    }
}

/// Sixteen `u64` parameters after the value push the parameters past the flat limit, so the
/// guest always receives a pointer to `(x, p0, ..., p15)`, with `x` at offset 0.
const PADDING: usize = 16;

/// A core module and its instance `$name`: a memory (64-bit if `mem64`), a bump `realloc`,
/// `echo-mem` (returns its pointer argument: the value at offset 0 is the result when results
/// go through memory) and `load-*` (return the value at the pointer when the result is one
/// core value).
fn echo_core(name: &str, mem64: bool) -> String {
    let (p, mem) = if mem64 { ("i64", "i64 16") } else { ("i32", "16") };
    format!(
        r#"
  (core module ${name}'
    (memory (export "mem") {mem})
    (global $next (mut {p}) ({p}.const 1024))
    (func (export "realloc") (param $old {p}) (param $old_size {p}) (param $align {p}) (param $size {p}) (result {p})
      (local $q {p})
      (local.set $q ({p}.and ({p}.add (global.get $next) ({p}.sub (local.get $align) ({p}.const 1)))
                             ({p}.sub ({p}.const 0) (local.get $align))))
      (global.set $next ({p}.add (local.get $q) (local.get $size)))
      (if ({p}.gt_u (global.get $next) ({p}.const 0x100000)) (then unreachable))
      (memory.copy (local.get $q) (local.get $old) (local.get $old_size))
      (local.get $q))
    (func (export "echo-mem") (param {p}) (result {p}) (local.get 0))
    (func (export "load-i32-1") (param {p}) (result i32) (i32.load8_u (local.get 0)))
    (func (export "load-i32-2") (param {p}) (result i32) (i32.load16_u (local.get 0)))
    (func (export "load-i32-4") (param {p}) (result i32) (i32.load (local.get 0)))
    (func (export "load-i64") (param {p}) (result i64) (i64.load (local.get 0)))
    (func (export "load-f32") (param {p}) (result f32) (f32.load (local.get 0)))
    (func (export "load-f64") (param {p}) (result f64) (f64.load (local.get 0))))
  (core instance ${name} (instantiate ${name}'))
"#
    )
}

/// The core type of a value of `ty` returned flat, or `None` when it is returned through
/// memory (as a pointer).
fn flat_result(ty: &InterfaceType, width: MemoryWidth) -> Option<&'static str> {
    match flatten(ty, width).as_deref() {
        Some([FlatType::I32]) => Some("i32"),
        Some([FlatType::I64]) => Some("i64"),
        Some([FlatType::F32]) => Some("f32"),
        Some([FlatType::F64]) => Some("f64"),
        _ => None,
    }
}

/// The `echo_core` function that echoes a value of `ty` whose parameters arrive through
/// memory.
fn echo_core_func(ty: &InterfaceType, width: MemoryWidth) -> String {
    match flat_result(ty, width) {
        Some("i32") => format!("load-i32-{}", ty.abi().size(width)),
        Some(core) => format!("load-{core}"),
        None => "echo-mem".into(),
    }
}

/// `(canon lift|lower ...)` options for a memory and realloc of instance `inst`.
fn options(inst: &str, encoding: &str) -> String {
    format!(
        "(memory (core memory ${inst} \"mem\")) (realloc (core func ${inst} \"realloc\")) string-encoding={encoding}"
    )
}

/// A component exporting `echo: func(x: ty, p0: u64, ..) -> ty` that returns `x`.
pub fn echo_component(ty: &InterfaceType, encoding: &str) -> String {
    let mut names = NamedTypes::default();
    let t = names.reference(ty);
    format!(
        "(component {core}\n{defs}\n  (func (export \"echo\") (param \"x\" {t}){padding} (result {t})\n    \
         (canon lift (core func $i \"{func}\") {options})))",
        core = echo_core("i", false),
        defs = names.exported_definitions(),
        padding = padding(),
        func = echo_core_func(ty, MemoryWidth::Mem32),
        options = options("i", encoding),
    )
}

fn padding() -> String {
    (0..PADDING).map(|i| format!(" (param \"p{i}\" u64)")).collect()
}

/// Passes each value to an echoing guest with `Func::call` and checks that it comes back
/// equal.
pub fn component_api(case: &EchoCase) -> Result<()> {
    let wat = echo_component(&case.ty, case.encoding);
    let what = || format!("{} in {}", case.ty, case.encoding);
    round_trip(&wat, "echo", &case.values, what).with_context(|| format!("the echo of {}", case.ty))
}

/// A type within the default limits and one to four values of it.
fn type_and_values(u: &mut Unstructured) -> arbitrary::Result<(InterfaceType, Vec<Val>)> {
    let ty = arbitrary_type(u, TypeLimits::default())?;
    let n = u.int_in_range(1..=4)?;
    let values = (0..n).map(|_| arbitrary_val(u, &ty)).collect::<arbitrary::Result<_>>()?;
    Ok((ty, values))
}

/// Instantiates the component `wat`, calls its export `func` (which takes a value and the
/// padding parameters, and returns the value) with each of `values`, and checks that each
/// comes back equal; `what` describes the case in the error.
fn round_trip(wat: &str, func: &str, values: &[Val], what: impl Fn() -> String) -> Result<()> {
    let engine = Engine::default();
    let component = Component::new(&engine, wat).context("compiling")?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).context("instantiating")?;
    let f = instance.get_func(&mut store, func).with_context(|| format!("`{func}` is exported"))?;
    for value in values {
        let mut params = vec![value.clone()];
        params.extend((0..PADDING as u64).map(Val::U64));
        let mut results = [Val::Bool(false)];
        f.call(&mut store, &params, &mut results).with_context(|| format!("passing {value:?} ({})", what()))?;
        f.post_return(&mut store)?;
        if results[0] != *value {
            bail!("{}: sent {value:?}, received {:?}", what(), results[0]);
        }
    }
    Ok(())
}

/// One side of a fused call: its string encoding and memory width.
#[derive(Clone, Copy, Debug)]
pub struct Side {
    pub encoding: &'static str,
    pub mem64: bool,
}

impl Side {
    fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<Side> {
        Ok(Side { encoding: ENCODINGS[u.choose_index(ENCODINGS.len())?], mem64: u.arbitrary()? })
    }

    fn width(self) -> MemoryWidth {
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
}

impl FusedCase {
    /// An arbitrary case: a type within the default limits, one to four values of it, and
    /// arbitrary options on each side.
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<FusedCase> {
        let (ty, values) = type_and_values(u)?;
        Ok(FusedCase { ty, values, caller: Side::arbitrary(u)?, callee: Side::arbitrary(u)? })
    }
}

/// A component exporting `run: func(x: ty, p0: u64, ..) -> ty`: its inner component `$B`
/// passes `x` to `echo` of its inner component `$A` (a fused call through an adapter) and
/// returns what comes back.
pub fn fused_component(ty: &InterfaceType, caller: Side, callee: Side) -> String {
    let mut names = NamedTypes::default();
    let t = names.reference(ty);
    let sig = format!("(param \"x\" {t}){} (result {t})", padding());
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
    (func (export "echo") {sig} (canon lift (core func $i "{func_a}") {options_a})))
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
        core_a = echo_core("i", callee.mem64),
        defs = names.exported_definitions(),
        func_a = echo_core_func(ty, callee.width()),
        options_a = options("i", callee.encoding),
        decls = names.instance_type_declarations(),
        aliases = names.aliases("a"),
        core_b = echo_core("m", caller.mem64),
        options_b = options("m", caller.encoding),
        reexports = names.reexports("a"),
    )
}

/// Calls `run` of [`fused_component`] with each value and checks that it comes back equal.
pub fn fact_roundtrip(case: &FusedCase) -> Result<()> {
    let wat = fused_component(&case.ty, case.caller, case.callee);
    let what = || format!("{} from {:?} to {:?}", case.ty, case.caller, case.callee);
    round_trip(&wat, "run", &case.values, what).with_context(|| format!("the fused call of {}", case.ty))
}
