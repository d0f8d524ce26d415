//! A value of an arbitrary type, passed to an echoing guest with `Func::call`, comes back
//! equal (weld_fuzzing::oracles::component_api).
#![no_main]

use libfuzzer_sys::fuzz_target;
use weld_fuzzing::oracles::{EchoCase, component_api};

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(case) = EchoCase::arbitrary(&mut u) else { return };
    if let Err(e) = component_api(&case) {
        panic!("{e:#}\n{}", weld_fuzzing::oracles::echo_component(&case.ty, case.encoding));
    }
});
