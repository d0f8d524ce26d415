//! A random core module (wasm-smith) gives the same results, traps, memories and globals on
//! weld as on wasmi, an interpreter (weld_fuzzing::oracles::core_diff). wasmi is used here
//! only, as an oracle; weld's product never depends on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weld_fuzzing::oracles::{
    CallOutcome, CoreCase, CoreEngine, CoreOutcome, CoreValue, Trap, core_differential, engine, run_case, weld_outcome,
};

fuzz_target!(|data: &[u8]| {
    let data = weld_fuzzing::fuzz_input(data);
    let mut u = arbitrary::Unstructured::new(&data);
    let Ok(case) = CoreCase::arbitrary(&mut u) else { return };
    let actual = weld_outcome(engine(), &case);
    let expected = wasmi_outcome(&case);
    if let Err(e) = core_differential(&case, &actual, &expected) {
        let text = wasmprinter::print_bytes(&case.wasm).unwrap_or_default();
        panic!("{e:#}\n{text}");
    }
});

/// wasmi with the features weld supports (wasm-smith is configured to the same set).
fn wasmi_engine() -> wasmi::Engine {
    let mut config = wasmi::Config::default();
    config
        .wasm_multi_value(true)
        .wasm_multi_memory(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_tail_call(true)
        .wasm_extended_const(true)
        .wasm_memory64(true)
        .wasm_sign_extension(true)
        .wasm_saturating_float_to_int(true)
        .wasm_simd(true)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false);
    wasmi::Engine::new(&config)
}

/// wasmi with one store per case.
struct Wasmi {
    engine: wasmi::Engine,
    store: wasmi::Store<()>,
}

impl CoreEngine for Wasmi {
    type Instance = wasmi::Instance;

    fn instantiate(&mut self, wasm: &[u8]) -> Result<wasmi::Instance, CallOutcome> {
        wasmi::Module::new(&self.engine, wasm)
            .and_then(|module| wasmi::Linker::<()>::new(&self.engine).instantiate_and_start(&mut self.store, &module))
            .map_err(|e| wasmi_error(&e))
    }

    fn call(&mut self, instance: &wasmi::Instance, name: &str, args: &[CoreValue]) -> CallOutcome {
        let func = instance.get_func(&self.store, name).expect("the case's functions are exported");
        let ty = func.ty(&self.store);
        let params: Vec<wasmi::Val> = args.iter().zip(ty.params()).map(|(a, t)| to_wasmi(*a, *t)).collect();
        let mut results: Vec<wasmi::Val> = ty.results().iter().map(|t| wasmi::Val::default_for_ty(*t)).collect();
        match func.call(&mut self.store, &params, &mut results) {
            Ok(()) => CallOutcome::Returned(results.iter().map(from_wasmi).collect()),
            Err(e) => wasmi_error(&e),
        }
    }

    fn exports(&mut self, instance: &wasmi::Instance, out: &mut CoreOutcome) {
        let exports: Vec<(String, wasmi::Extern)> =
            instance.exports(&self.store).map(|e| (e.name().to_string(), e.into_extern())).collect();
        for (name, export) in exports {
            if let Some(memory) = export.clone().into_memory() {
                out.push_memory(name.clone(), memory.data(&self.store));
            }
            if let Some(global) = export.into_global() {
                out.globals.push((name, from_wasmi(&global.get(&self.store))));
            }
        }
    }
}

fn wasmi_outcome(case: &CoreCase) -> CoreOutcome {
    let engine = wasmi_engine();
    let store = wasmi::Store::new(&engine, ());
    run_case(&mut Wasmi { engine, store }, case)
}

/// wasmi's trap codes that weld also has bear the same names as weld's (`MemoryOutOfBounds`,
/// `UnreachableCodeReached`, ...), so they map by name, through the name list generated
/// from weld's one list of traps; the others (e.g. `OutOfFuel`) are kept as text.
fn wasmi_error(e: &wasmi::Error) -> CallOutcome {
    let Some(code) = e.as_trap_code() else {
        // wasmi reports an active segment that does not fit its table or memory as an
        // instantiation error, where the spec (and weld) trap.
        let text = e.to_string();
        if text.contains("out of bounds table access") {
            return CallOutcome::Trapped(Trap::TableOutOfBounds);
        }
        if text.contains("out of bounds memory access") {
            return CallOutcome::Trapped(Trap::MemoryOutOfBounds);
        }
        return CallOutcome::Failed(text);
    };
    let name = format!("{code:?}");
    match Trap::from_name(&name) {
        Some(trap) => CallOutcome::Trapped(trap),
        None => CallOutcome::OtherTrap(name),
    }
}

fn to_wasmi(v: CoreValue, ty: wasmi::ValType) -> wasmi::Val {
    match v {
        CoreValue::I32(x) => wasmi::Val::I32(x),
        CoreValue::I64(x) => wasmi::Val::I64(x),
        CoreValue::F32(x) => wasmi::Val::F32(wasmi::F32::from_bits(x)),
        CoreValue::F64(x) => wasmi::Val::F64(wasmi::F64::from_bits(x)),
        CoreValue::V128(x) => wasmi::Val::V128(wasmi::V128::from(x)),
        CoreValue::Ref(_) => wasmi::Val::default_for_ty(ty),
    }
}

fn from_wasmi(v: &wasmi::Val) -> CoreValue {
    match v {
        wasmi::Val::I32(x) => CoreValue::I32(*x),
        wasmi::Val::I64(x) => CoreValue::I64(*x),
        wasmi::Val::F32(x) => CoreValue::F32(x.to_bits()),
        wasmi::Val::F64(x) => CoreValue::F64(x.to_bits()),
        wasmi::Val::V128(x) => CoreValue::V128(x.as_u128()),
        wasmi::Val::FuncRef(r) => CoreValue::Ref(r.is_null()),
        wasmi::Val::ExternRef(r) => CoreValue::Ref(r.is_null()),
    }
}
