//! A value of an arbitrary type crosses between components through a call of an `async`
//! function type, which the runtime makes as a task lifting and lowering values (not a fused
//! adapter), with arbitrary string encodings and memory widths, and comes back equal
//! (weld_fuzzing::oracles::fact_roundtrip of FusedCase::arbitrary_async).
#![no_main]

use libfuzzer_sys::fuzz_target;
use weld_fuzzing::oracles::{FusedCase, fact_roundtrip};

fuzz_target!(|data: &[u8]| {
    let data = weld_fuzzing::fuzz_input(data);
    let mut u = arbitrary::Unstructured::new(&data);
    let Ok(case) = FusedCase::arbitrary_async(&mut u) else { return };
    if let Err(e) = fact_roundtrip(&case) {
        panic!("{e:#}\n{}", case.component());
    }
});
