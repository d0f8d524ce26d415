//! A random core module with SIMD, relaxed SIMD and exception handling (which the reference
//! interpreter of `core_differential` does not run) gives the same results, traps, uncaught
//! exceptions, memories and globals with and without Cranelift's optimizations
//! (weld_fuzzing::oracles::opt_level_engines).
#![no_main]

use libfuzzer_sys::fuzz_target;
use weld_fuzzing::oracles::{CaseFeatures, CoreCase, core_differential, opt_level_engines, weld_outcome};

fuzz_target!(|data: &[u8]| {
    let data = weld_fuzzing::fuzz_input(data);
    let mut u = arbitrary::Unstructured::new(&data);
    let features = CaseFeatures { relaxed_simd: true, exceptions: true };
    let Ok(case) = CoreCase::arbitrary_with(&mut u, features) else { return };
    let (optimized, unoptimized) = opt_level_engines();
    let actual = weld_outcome(optimized, &case);
    let expected = weld_outcome(unoptimized, &case);
    if let Err(e) = core_differential(&case, &actual, &expected) {
        let text = wasmprinter::print_bytes(&case.wasm).unwrap_or_default();
        panic!("{e:#}\n{text}");
    }
});
