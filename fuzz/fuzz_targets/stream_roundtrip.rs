//! Values of an arbitrary type written by the host into a `stream<T>` come back equal and in
//! order after one guest, or two with their own string encodings, copied them through their
//! memories (weld_fuzzing::oracles::stream_roundtrip).
#![no_main]

use libfuzzer_sys::fuzz_target;
use weld_fuzzing::oracles::{StreamCase, stream_roundtrip};

fuzz_target!(|data: &[u8]| {
    let data = weld_fuzzing::fuzz_input(data);
    let mut u = arbitrary::Unstructured::new(&data);
    let Ok(case) = StreamCase::arbitrary(&mut u) else { return };
    if let Err(e) = stream_roundtrip(&case) {
        panic!("{e:#}\n{}", case.component());
    }
});
