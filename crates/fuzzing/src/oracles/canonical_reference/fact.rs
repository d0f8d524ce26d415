//! weld's fused adapters against the reference: a value the reference lowers as a caller's
//! parameters (its `lower_flat_values`, on the caller's options) is carried by weld's adapter
//! into the callee, and the reference must lift the same value from what the callee received
//! (its `lift_flat_values`, on the callee's options).
//!
//! The component: a caller `$B` whose `run(image: list<u8>, flat: list<u64>)` copies `image`
//! (the reference's caller memory) to address 0 of its memory and calls the callee's `take`
//! (a fused call) with the reference's flat values; the callee `$A`'s `take` records the core
//! values it receives, and its `dump()` returns its memory up to its allocator's end.
//! Resource handles are not covered (the components define no resources), nor results.

use super::super::common::{compile_cached, engine};
use super::case::STRING_ENCODINGS;
use super::json::{encoding_name, hex, hex_bytes, type_json, val_json};
use super::worker::{Answer, Reference};
use crate::types::{NamedTypes, TypeLimits, arbitrary_type};
use crate::values::arbitrary_val;
use anyhow::{Context, Result, bail};
use arbitrary::Unstructured;
use serde_json::{Value, json};
use weld::Store;
use weld::component::{InterfaceType, Linker, Val};
use weld_environ::component::abi::{AbiContext, core_signature};
use weld_environ::component::translate::StringEncoding;
use weld_environ::component::{FlatType, MemoryWidth};

/// Where the caller's memory image ends and its allocator (for the image and the flat values
/// the host passes) starts.
const CALLER_HEAP: u64 = 32768;
/// Where the callee records the core values it receives (8 bytes each).
const RECORD: u64 = 64;
/// Where the callee's allocator starts.
const CALLEE_HEAP: u64 = 1024;
/// The size of the callee's memory (one page; the caller's has two, for the image and the
/// host's copy of it).
const PAGE: u64 = 65536;

/// A value and the options of the caller and of the callee.
#[derive(Debug)]
pub struct FactCase {
    pub ty: InterfaceType,
    pub value: Val,
    pub caller: (StringEncoding, bool),
    pub callee: (StringEncoding, bool),
}

impl FactCase {
    /// An arbitrary case: a type without handles or fixed-length lists, a value of it, and
    /// arbitrary string encodings and memory widths on either side.
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<FactCase> {
        let ty = arbitrary_type(u, TypeLimits { wide_cases: true, ..TypeLimits::default() })?;
        let value = arbitrary_val(u, &ty)?;
        let mut side = || -> arbitrary::Result<(StringEncoding, bool)> {
            Ok((STRING_ENCODINGS[u.choose_index(3)?], u.arbitrary()?))
        };
        Ok(FactCase { ty, value, caller: side()?, callee: side()? })
    }
}

/// The core parameters a function taking one `ty` has, lowered (the caller's) or lifted (the
/// callee's), with a memory of `width`.
fn core_params(ty: &InterfaceType, width: MemoryWidth, context: AbiContext) -> Vec<FlatType> {
    core_signature([ty], None, width, context).params
}

fn options(inst: &str, encoding: StringEncoding) -> String {
    format!(
        "(memory (core memory ${inst} \"mem\")) (realloc (core func ${inst} \"realloc\")) string-encoding={}",
        encoding_name(encoding)
    )
}

/// A core module `$name'` with a memory of `pages`, a bump `realloc` from `heap`, and `body`, instantiated
/// as `$name`.
fn core_with_memory(name: &str, mem64: bool, pages: u64, heap: u64, body: &str) -> String {
    let (p, mem) = if mem64 { ("i64", format!("i64 {pages}")) } else { ("i32", pages.to_string()) };
    let end = pages * PAGE;
    format!(
        r#"
    (core module ${name}'
      (memory (export "mem") {mem})
      (global $next (mut {p}) ({p}.const {heap}))
      (func $realloc (export "realloc") (param $old {p}) (param $old_size {p}) (param $align {p}) (param $size {p}) (result {p})
        (local $q {p})
        (local.set $q ({p}.and ({p}.add (global.get $next) ({p}.sub (local.get $align) ({p}.const 1)))
                               ({p}.sub ({p}.const 0) (local.get $align))))
        (global.set $next ({p}.add (local.get $q) (local.get $size)))
        (if ({p}.gt_u (global.get $next) ({p}.const {end})) (then unreachable))
        (memory.copy (local.get $q) (local.get $old) (local.get $old_size))
        (local.get $q))
      {body})
    (core instance ${name} (instantiate ${name}'))"#
    )
}

/// The component of a case (see the module's doc).
pub fn fact_component(case: &FactCase) -> String {
    let mut names = NamedTypes::default();
    let t = names.reference(&case.ty);
    let ((caller_enc, caller64), (callee_enc, callee64)) = (case.caller, case.callee);
    let (pb, pa) = (if caller64 { "i64" } else { "i32" }, if callee64 { "i64" } else { "i32" });
    let callee_params = core_params(&case.ty, MemoryWidth::from_memory64(callee64), AbiContext::Lift);
    let record: String = callee_params
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            let value = match ty {
                FlatType::I32 => format!("(i64.extend_i32_u (local.get {i}))"),
                FlatType::I64 => format!("(local.get {i})"),
                FlatType::F32 => format!("(i64.extend_i32_u (i32.reinterpret_f32 (local.get {i})))"),
                FlatType::F64 => format!("(i64.reinterpret_f64 (local.get {i}))"),
            };
            format!("(i64.store ({pa}.const {}) {value})\n", RECORD + 8 * i as u64)
        })
        .collect();
    let take_params: Vec<&str> = callee_params.iter().map(|t| t.name()).collect();
    let callee_body = format!(
        r#"(func (export "take") (param {params}) {record})
      (func (export "dump") (result {pa})
        ({pa}.store ({pa}.const 32) ({pa}.const 0))
        ({pa}.store ({pa}.const {len_at}) (global.get $next))
        ({pa}.const 32))"#,
        params = take_params.join(" "),
        len_at = 32 + if callee64 { 8 } else { 4 },
    );
    let caller_params = core_params(&case.ty, MemoryWidth::from_memory64(caller64), AbiContext::Lower);
    let args: String = caller_params
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            let load = format!("(i64.load ({pb}.add (local.get $flat) ({pb}.const {})))", 8 * i);
            match ty {
                FlatType::I32 => format!("(i32.wrap_i64 {load})"),
                FlatType::I64 => load,
                FlatType::F32 => format!("(f32.reinterpret_i32 (i32.wrap_i64 {load}))"),
                FlatType::F64 => format!("(f64.reinterpret_i64 {load})"),
            }
        })
        .collect();
    let import_params: Vec<&str> = caller_params.iter().map(|t| t.name()).collect();
    let caller_wat = format!(
        r#"(core module $run'
      (import "m" "mem" (memory {mem_b}))
      (import "a" "take" (func $take (param {import_params})))
      (func (export "run") (param $image {pb}) (param $len {pb}) (param $flat {pb}) (param $n {pb})
        (memory.copy ({pb}.const 0) (local.get $image) (local.get $len))
        (call $take {args})))
    (core instance $run (instantiate $run' (with "m" (instance $m)) (with "a" (instance (export "take" (func $take))))))"#,
        mem_b = if caller64 { "i64 2" } else { "2" },
        import_params = import_params.join(" "),
    );
    let sig = format!("(param \"x\" {t})");
    format!(
        r#"(component
  (component $A
    {core_a}
    {defs}
    (func (export "take") {sig} (canon lift (core func $i "take") {options_a}))
    (func (export "dump") (result (list u8)) (canon lift (core func $i "dump") {options_a})))
  (component $B
    (import "a" (instance $a
      {decls}
      (export "take" (func {sig}))))
    {aliases}
    {core_b}
    (core func $take (canon lower (func $a "take") {options_b}))
    {caller_wat}
    (func (export "run") (param "image" (list u8)) (param "flat" (list u64)) (canon lift (core func $run "run") {options_b})))
  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "a" (instance $a))))
  (export "run" (func $b "run"))
  (export "dump" (func $a "dump")))"#,
        core_a = core_with_memory("i", callee64, 1, CALLEE_HEAP, &callee_body),
        defs = names.exported_definitions(),
        options_a = options("i", callee_enc),
        decls = names.instance_type_declarations(),
        aliases = names.aliases("a"),
        core_b = core_with_memory("m", caller64, 2, CALLER_HEAP, ""),
        options_b = options("m", caller_enc),
    )
}

fn side_json((encoding, mem64): (StringEncoding, bool)) -> Value {
    json!({ "encoding": encoding_name(encoding), "mem64": mem64, "realloc": { "next": 16 } })
}

/// Checks one case: the reference lowers, weld's adapter carries, the reference lifts.
/// `Ok(false)` when the reference could not lower the value (its memory was too small).
pub fn fact_reference(reference: &mut Reference, case: &FactCase) -> Result<bool> {
    let ty_json = type_json(&case.ty);
    let original = val_json(&case.value, &case.ty)?;
    let lowered = reference.ask(&json!({
        "op": "lower_values",
        "types": [ty_json],
        "values": [original],
        "opts": side_json(case.caller),
        "memory": { "size": CALLER_HEAP },
    }))?;
    let Answer::Done(lowered) = lowered else { return Ok(false) };
    let image = hex_bytes(lowered["memory"].as_str().unwrap_or_default())?;
    let flat: Vec<u64> = lowered["flat"].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();

    let wat = fact_component(case);
    let component = compile_cached(&wat).context("compiling the component")?;
    let mut store = Store::new(engine(), ());
    let instance = Linker::new(engine()).instantiate(&mut store, &component).context("instantiating")?;
    let run = instance.get_func(&mut store, "run").context("`run` is exported")?;
    let dump = instance.get_func(&mut store, "dump").context("`dump` is exported")?;
    let params =
        [Val::List(image.into_iter().map(Val::U8).collect()), Val::List(flat.iter().copied().map(Val::U64).collect())];
    run.call(&mut store, &params, &mut []).context("weld's adapter carrying what the reference lowered")?;
    let mut results = [Val::Bool(false)];
    dump.call(&mut store, &[], &mut results).context("dumping the callee's memory")?;
    let Val::List(bytes) = &results[0] else { bail!("dump returned {:?}", results[0]) };
    let callee_memory: Vec<u8> = bytes.iter().map(|b| if let Val::U8(b) = b { *b } else { 0 }).collect();

    let width = MemoryWidth::from_memory64(case.callee.1);
    let count = core_params(&case.ty, width, AbiContext::Lift).len();
    let received: Vec<u64> = (0..count)
        .map(|i| {
            let at = (RECORD + 8 * i as u64) as usize;
            callee_memory.get(at..at + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
        })
        .collect();
    let lifted = reference.ask(&json!({
        "op": "lift_values",
        "types": [ty_json],
        "flat": received,
        "opts": side_json(case.callee),
        "memory": { "size": PAGE, "bytes": hex(&callee_memory) },
    }))?;
    match lifted {
        Answer::Done(answer) if answer["values"][0] == original => Ok(true),
        Answer::Done(answer) => bail!(
            "the reference lowered {original} for the caller, and lifted {} from what the callee received",
            answer["values"][0]
        ),
        Answer::Trap { kind, detail } => {
            bail!(
                "the reference lowered {original} for the caller, and trapped lifting what the callee received: {kind} ({detail})"
            )
        }
    }
}
