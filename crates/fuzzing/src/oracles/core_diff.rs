//! The core differential oracle: a random core module (wasm-smith), instantiated and called
//! with random arguments, gives the same results, traps, memory contents and global values on
//! weld as on a reference engine.
//!
//! The reference engine is a parameter: fuzz/ compares weld against an interpreter (wasmi),
//! which is allowed only there; `cargo test` compares two configurations of weld (optimized
//! code with guard pages against unoptimized code with explicit bounds checks), which needs no
//! other engine. Generated modules import nothing and terminate: wasm-smith adds a fuel
//! counter that traps when it runs out. A stack overflow ends the comparison (engines may
//! overflow at different depths; what happened before it is still compared).

use anyhow::{Result, bail};
use arbitrary::Unstructured;
pub use weld::Trap;
use weld::{Engine, Instance, Module, Store, Val, ValType};
use weld_environ::wasmparser::{self, Parser, Payload};

/// The fuel wasm-smith's termination counter starts with: function entries and loop
/// iterations it allows over all calls. It also bounds the recursion depth, so that a stack
/// overflow (which ends a comparison) needs frames of more than 256 bytes.
const FUEL: u32 = 2000;

/// A module and the calls to make to it, in order.
#[derive(Debug)]
pub struct CoreCase {
    pub wasm: Vec<u8>,
    /// Exported function names and the arguments to pass.
    pub calls: Vec<(String, Vec<CoreValue>)>,
}

/// A core value as both engines can represent it: floats as bits, references only as null
/// or not.
#[derive(Clone, Copy, Debug)]
pub enum CoreValue {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    /// A reference: `true` if null. Arguments are always null references.
    Ref(bool),
}

impl PartialEq for CoreValue {
    /// Bits must be equal, except that any two NaNs are (the spec lets their payloads differ).
    fn eq(&self, other: &CoreValue) -> bool {
        use CoreValue::*;
        match (*self, *other) {
            (F32(a), F32(b)) => a == b || (f32::from_bits(a).is_nan() && f32::from_bits(b).is_nan()),
            (F64(a), F64(b)) => a == b || (f64::from_bits(a).is_nan() && f64::from_bits(b).is_nan()),
            (I32(a), I32(b)) => a == b,
            (I64(a), I64(b)) => a == b,
            (V128(a), V128(b)) => a == b,
            (Ref(a), Ref(b)) => a == b,
            _ => false,
        }
    }
}

/// Proposals a case may use beyond what the reference interpreter runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct CaseFeatures {
    /// Relaxed SIMD (weld must then be deterministic for two runs to agree).
    pub relaxed_simd: bool,
    /// Exception handling (tags, `throw`, `throw_ref`, `try_table`, `exnref`).
    pub exceptions: bool,
}

/// Two weld engines that must agree on every case: one optimizing, one not, both with
/// deterministic relaxed SIMD and NaN canonicalization (so float NaN payloads, which the spec
/// leaves open and optimization may change, agree too).
pub fn opt_level_engines() -> &'static (Engine, Engine) {
    static ENGINES: std::sync::OnceLock<(Engine, Engine)> = std::sync::OnceLock::new();
    ENGINES.get_or_init(|| {
        let make = |level: weld::OptLevel| {
            let mut config = weld::Config::new();
            config.cranelift_opt_level(level).relaxed_simd_deterministic(true).cranelift_nan_canonicalization(true);
            Engine::new(&config).expect("a valid configuration")
        };
        (make(weld::OptLevel::Speed), make(weld::OptLevel::None))
    })
}

/// What a call did.
#[derive(Clone, Debug, PartialEq)]
pub enum CallOutcome {
    Returned(Vec<CoreValue>),
    /// A trap, as weld names it (a reference engine maps its own trap codes to these, see
    /// [`Trap::from_name`]).
    Trapped(Trap),
    /// A trap of the reference engine that weld has no name for, as the engine describes it.
    OtherTrap(String),
    /// An exception no handler caught, with its payload.
    Thrown(Vec<CoreValue>),
    /// An error that is not a trap (e.g. a resource limit), as the engine describes it.
    Failed(String),
}

/// Everything observable about running a [`CoreCase`].
#[derive(Clone, Debug, Default)]
pub struct CoreOutcome {
    /// Whether the module compiled and instantiated: `Err` with a trap if the start function
    /// or a segment trapped, or with a description of any other failure.
    pub instantiated: Option<CallOutcome>,
    /// Each call's outcome, in order; the calls stop at a trap that is a stack overflow.
    pub calls: Vec<CallOutcome>,
    /// Exported memories after the calls: name, size in bytes and a hash of the contents.
    pub memories: Vec<(String, u64, u64)>,
    /// Exported globals after the calls.
    pub globals: Vec<(String, CoreValue)>,
}

impl CoreCase {
    /// An arbitrary case: a module within the features weld and the reference interpreter
    /// both support with one behaviour (SIMD, but not relaxed SIMD, whose results may differ
    /// between engines; no threads, exceptions or GC), at most 1 MiB per memory and 1000 table elements, NaNs
    /// canonicalized, every item exported; then one call of each exported function and a
    /// few more at random.
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<CoreCase> {
        CoreCase::arbitrary_with(u, CaseFeatures::default())
    }

    /// An arbitrary case as [`CoreCase::arbitrary`] makes, with the extra proposals of
    /// `features` (which only weld runs: compare weld with itself, see [`opt_level_engines`]).
    pub fn arbitrary_with(u: &mut Unstructured, features: CaseFeatures) -> arbitrary::Result<CoreCase> {
        let config = wasm_smith::Config {
            max_imports: 0,
            export_everything: true,
            canonicalize_nans: true,
            simd_enabled: true,
            relaxed_simd_enabled: features.relaxed_simd,
            threads_enabled: false,
            exceptions_enabled: features.exceptions,
            gc_enabled: false,
            wide_arithmetic_enabled: false,
            custom_page_sizes_enabled: false,
            max_memories: 2,
            max_memory32_bytes: 1 << 20,
            max_memory64_bytes: 1 << 20,
            memory_max_size_required: true,
            max_table_elements: 1000,
            table_max_size_required: true,
            min_funcs: 2,
            max_funcs: 20,
            max_instructions: 200,
            ..wasm_smith::Config::default()
        };
        let mut module = wasm_smith::Module::new(config, u)?;
        module.ensure_termination(FUEL).map_err(|_| arbitrary::Error::IncorrectFormat)?;
        let wasm = module.to_bytes();
        let funcs = exported_funcs(&wasm).map_err(|_| arbitrary::Error::IncorrectFormat)?;
        let mut calls = Vec::new();
        let extra = if funcs.is_empty() { 0 } else { u.int_in_range(0..=4)? };
        let order = (0..funcs.len()).map(Ok).chain((0..extra).map(|_| u.choose_index(funcs.len())));
        for index in order.collect::<arbitrary::Result<Vec<_>>>()? {
            let (name, params) = &funcs[index];
            let args = params.iter().map(|t| arbitrary_value(u, *t)).collect::<arbitrary::Result<_>>()?;
            calls.push((name.clone(), args));
        }
        Ok(CoreCase { wasm, calls })
    }
}

fn arbitrary_value(u: &mut Unstructured, ty: wasmparser::ValType) -> arbitrary::Result<CoreValue> {
    Ok(match ty {
        wasmparser::ValType::I32 => CoreValue::I32(u.arbitrary()?),
        wasmparser::ValType::I64 => CoreValue::I64(u.arbitrary()?),
        wasmparser::ValType::F32 => CoreValue::F32(u.arbitrary()?),
        wasmparser::ValType::F64 => CoreValue::F64(u.arbitrary()?),
        wasmparser::ValType::V128 => CoreValue::V128(u.arbitrary()?),
        wasmparser::ValType::Ref(_) => CoreValue::Ref(true),
    })
}

/// The exported functions of `wasm` (which imports nothing) with their parameter types.
fn exported_funcs(wasm: &[u8]) -> Result<Vec<(String, Vec<wasmparser::ValType>)>> {
    let mut types = Vec::new();
    let mut funcs = Vec::new();
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::TypeSection(s) => {
                for ty in s.into_iter_err_on_gc_types() {
                    types.push(ty?.params().to_vec());
                }
            }
            Payload::FunctionSection(s) => {
                for f in s {
                    funcs.push(f?);
                }
            }
            Payload::ExportSection(s) => {
                for e in s {
                    let e = e?;
                    if e.kind == wasmparser::ExternalKind::Func {
                        let ty = funcs.get(e.index as usize).and_then(|t| types.get(*t as usize));
                        let Some(params) = ty else { bail!("export {} has no type", e.name) };
                        exports.push((e.name.to_string(), params.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(exports)
}

/// 64-bit FNV-1a, to compare memories without keeping them.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

/// An engine a [`CoreCase`] runs on: [`run_case`] drives it the same way whichever it is.
pub trait CoreEngine {
    /// An instance of the case's module.
    type Instance;
    /// Compiles and instantiates `wasm` (running its start function); the error is the
    /// outcome of the failed instantiation.
    fn instantiate(&mut self, wasm: &[u8]) -> Result<Self::Instance, CallOutcome>;
    /// Calls the exported function `name` with `args`.
    fn call(&mut self, instance: &Self::Instance, name: &str, args: &[CoreValue]) -> CallOutcome;
    /// The exported memories (name and contents) and globals (name and value).
    fn exports(&mut self, instance: &Self::Instance, out: &mut CoreOutcome);
}

/// Runs `case` on `engine`: instantiation, then the calls up to the first stack overflow,
/// then (if none overflowed) the exported memories and globals.
pub fn run_case<E: CoreEngine>(engine: &mut E, case: &CoreCase) -> CoreOutcome {
    let mut outcome = CoreOutcome::default();
    let instance = match engine.instantiate(&case.wasm) {
        Ok(instance) => instance,
        Err(failed) => {
            outcome.instantiated = Some(failed);
            return outcome;
        }
    };
    outcome.instantiated = Some(CallOutcome::Returned(Vec::new()));
    for (name, args) in &case.calls {
        let call = engine.call(&instance, name, args);
        let overflow = call == CallOutcome::Trapped(Trap::StackOverflow);
        outcome.calls.push(call);
        if overflow {
            return outcome;
        }
    }
    engine.exports(&instance, &mut outcome);
    outcome
}

impl CoreOutcome {
    /// Records the exported memory `name` with contents `data`.
    pub fn push_memory(&mut self, name: String, data: &[u8]) {
        self.memories.push((name, data.len() as u64, hash_bytes(data)));
    }
}

/// weld with one store per case.
struct WeldEngine {
    engine: Engine,
    store: Store<()>,
}

impl CoreEngine for WeldEngine {
    type Instance = Instance;

    fn instantiate(&mut self, wasm: &[u8]) -> Result<Instance, CallOutcome> {
        Module::from_binary(&self.engine, wasm)
            .and_then(|m| Instance::new(&mut self.store, &m, &[]))
            .map_err(|e| weld_error(&e))
    }

    fn call(&mut self, instance: &Instance, name: &str, args: &[CoreValue]) -> CallOutcome {
        let func = instance.get_func(&self.store, name).expect("the case's functions are exported");
        let ty = func.ty(&self.store);
        let params: Vec<Val> = args.iter().zip(ty.params()).map(|(a, t)| to_weld(*a, t)).collect();
        let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
        match func.call(&mut self.store, &params, &mut results) {
            Ok(()) => CallOutcome::Returned(results.iter().map(from_weld).collect()),
            Err(e) => weld_error(&e),
        }
    }

    fn exports(&mut self, instance: &Instance, out: &mut CoreOutcome) {
        for (name, export) in instance.exports(&self.store) {
            if let Some(memory) = export.clone().into_memory() {
                out.push_memory(name.clone(), memory.data(&self.store));
            }
            if let Some(global) = export.into_global() {
                out.globals.push((name, from_weld(&global.get(&self.store))));
            }
        }
    }
}

/// Runs `case` on weld with `engine`.
pub fn weld_outcome(engine: &Engine, case: &CoreCase) -> CoreOutcome {
    run_case(&mut WeldEngine { engine: engine.clone(), store: Store::new(engine, ()) }, case)
}

fn weld_error(e: &anyhow::Error) -> CallOutcome {
    if let Some(thrown) = e.downcast_ref::<weld::ThrownException>() {
        return CallOutcome::Thrown(thrown.payload().iter().map(from_weld).collect());
    }
    match e.chain().find_map(|e| e.downcast_ref::<Trap>()) {
        Some(trap) => CallOutcome::Trapped(*trap),
        None => CallOutcome::Failed(format!("{e:#}")),
    }
}

fn to_weld(v: CoreValue, ty: ValType) -> Val {
    match v {
        CoreValue::I32(x) => Val::I32(x),
        CoreValue::I64(x) => Val::I64(x),
        CoreValue::F32(x) => Val::F32(x),
        CoreValue::F64(x) => Val::F64(x),
        CoreValue::V128(x) => Val::V128(x.into()),
        CoreValue::Ref(_) => Val::default_for(ty),
    }
}

fn from_weld(v: &Val) -> CoreValue {
    match v {
        Val::I32(x) => CoreValue::I32(*x),
        Val::I64(x) => CoreValue::I64(*x),
        Val::F32(x) => CoreValue::F32(*x),
        Val::F64(x) => CoreValue::F64(*x),
        Val::V128(x) => CoreValue::V128(x.as_u128()),
        Val::FuncRef(f) => CoreValue::Ref(f.is_none()),
        Val::ExternRef(r) => CoreValue::Ref(r.is_none()),
        Val::ExnRef(r) => CoreValue::Ref(r.is_none()),
    }
}

/// Compares weld's outcome (`actual`) with the reference's (`expected`): instantiation, each
/// call up to the first stack overflow on either side, and, if neither overflowed, the final
/// memories and globals. A failure that is not a trap on both sides (e.g. both reject a
/// feature) counts as agreement, whatever the messages.
pub fn core_differential(case: &CoreCase, actual: &CoreOutcome, expected: &CoreOutcome) -> Result<()> {
    let agree =
        |a: &CallOutcome, e: &CallOutcome| a == e || matches!((a, e), (CallOutcome::Failed(_), CallOutcome::Failed(_)));
    let (Some(a), Some(e)) = (&actual.instantiated, &expected.instantiated) else {
        bail!("an outcome was not recorded");
    };
    let overflow = |c: &CallOutcome| *c == CallOutcome::Trapped(Trap::StackOverflow);
    if overflow(a) || overflow(e) {
        return Ok(());
    }
    if !agree(a, e) {
        bail!("instantiation: weld {a:?}, reference {e:?}");
    }
    for (i, (a, e)) in actual.calls.iter().zip(&expected.calls).enumerate() {
        if overflow(a) || overflow(e) {
            return Ok(());
        }
        if !agree(a, e) {
            let (name, args) = &case.calls[i];
            bail!("call {i} of `{name}` with {args:?}: weld {a:?}, reference {e:?}");
        }
    }
    if actual.calls.len() != expected.calls.len() {
        bail!("weld made {} calls, the reference {}", actual.calls.len(), expected.calls.len());
    }
    let sorted = |mut v: Vec<(String, u64, u64)>| {
        v.sort();
        v
    };
    if sorted(actual.memories.clone()) != sorted(expected.memories.clone()) {
        bail!("memories (name, size, hash): weld {:?}, reference {:?}", actual.memories, expected.memories);
    }
    let sorted = |mut v: Vec<(String, CoreValue)>| {
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    if sorted(actual.globals.clone()) != sorted(expected.globals.clone()) {
        bail!("globals: weld {:?}, reference {:?}", actual.globals, expected.globals);
    }
    Ok(())
}
