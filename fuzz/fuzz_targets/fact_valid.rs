//! FACT turns any adapter signature, with any canonical options on either side, into a core
//! module that validates (weld_fuzzing::oracles::fact_valid).
#![no_main]

use libfuzzer_sys::fuzz_target;
use weld_fuzzing::oracles::{AdapterCase, adapter_component, fact_valid};

fuzz_target!(|data: &[u8]| {
    let data = weld_fuzzing::fuzz_input(data);
    let mut u = arbitrary::Unstructured::new(&data);
    let Ok(case) = AdapterCase::arbitrary(&mut u) else { return };
    if let Err(e) = fact_valid(&case) {
        panic!("{e:#}\n{}", adapter_component(&case));
    }
});
