//! A value of an arbitrary type crosses a fused adapter between components with arbitrary
//! string encodings and memory widths, and comes back equal
//! (weld_fuzzing::oracles::fact_roundtrip).
#![no_main]

use libfuzzer_sys::fuzz_target;
use weld_fuzzing::oracles::{FusedCase, fact_roundtrip, fused_component};

fuzz_target!(|data: &[u8]| {
    let data = weld_fuzzing::fuzz_input(data);
    let mut u = arbitrary::Unstructured::new(&data);
    let Ok(case) = FusedCase::arbitrary(&mut u) else { return };
    if let Err(e) = fact_roundtrip(&case) {
        panic!("{e:#}\n{}", fused_component(&case.ty, case.caller, case.callee));
    }
});
