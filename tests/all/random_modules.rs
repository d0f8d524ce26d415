//! Random valid modules (wasm-smith) compile, instantiate and run without ending the process:
//! every outcome is a value or an error. A fixed seed sequence keeps the test deterministic.

use arbitrary::Unstructured;
use weld::{Config, Engine, Extern, Func, Linker, Module, Store, Val};

/// A small deterministic generator (xorshift), so no extra dependency is needed for seeds.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn config() -> wasm_smith::Config {
    wasm_smith::Config {
        max_memories: 2,
        max_tables: 2,
        max_funcs: 20,
        export_everything: true,
        min_funcs: 1,
        max_instructions: 200,
        max_memory32_bytes: 1 << 20,
        max_memory64_bytes: 1 << 20,
        multi_value_enabled: true,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        memory64_enabled: true,
        tail_call_enabled: true,
        simd_enabled: true,
        relaxed_simd_enabled: true,
        exceptions_enabled: true,
        gc_enabled: false,
        threads_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        canonicalize_nans: false,
        ..wasm_smith::Config::default()
    }
}

/// Returns how many exported functions were called.
fn run_one(engine: &Engine, wasm: &[u8]) -> usize {
    let module = match Module::from_binary(engine, wasm) {
        Ok(m) => m,
        Err(e) => panic!("a valid module failed to compile: {e:?}"),
    };
    let mut store = Store::new(engine, ());
    let mut linker = Linker::new(engine);
    // Satisfy function imports with host functions that return zeros; skip modules that import
    // anything else.
    for import in module.imports() {
        match import.ty() {
            weld::ExternType::Func(ty) => {
                let results: Vec<Val> = ty.results().map(Val::default_for).collect();
                let f = Func::new(&mut store, ty, move |_, _, out| {
                    out.clone_from_slice(&results);
                    Ok(())
                })
                .unwrap();
                linker.allow_shadowing(true).define(&store, import.module(), import.name(), f).unwrap();
            }
            _ => return 0,
        }
    }
    let Ok(instance) = linker.instantiate(&mut store, &module) else { return 0 };
    let mut calls = 0;
    for (_, export) in instance.exports(&mut store) {
        if let Extern::Func(f) = export {
            let ty = f.ty(&store);
            let params: Vec<Val> = ty.params().map(Val::default_for).collect();
            let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
            let _ = f.call(&mut store, &params, &mut results);
            calls += 1;
        }
    }
    calls
}

#[test]
fn random_modules_never_crash() {
    let engine = Engine::new(Config::new().max_wasm_stack(128 * 1024)).unwrap();
    let (mut ran, mut calls) = (0, 0);
    for seed in 0..400u64 {
        let data = bytes(seed, 4096);
        let Ok(mut module) = wasm_smith::Module::new(config(), &mut Unstructured::new(&data)) else { continue };
        // Loops and recursion count down a fuel global and trap when it runs out.
        if module.ensure_termination(10_000).is_err() {
            continue;
        }
        calls += run_one(&engine, &module.to_bytes());
        ran += 1;
    }
    assert!(ran > 300, "only {ran} modules were generated");
    assert!(calls > 150, "only {calls} functions were called");
}
