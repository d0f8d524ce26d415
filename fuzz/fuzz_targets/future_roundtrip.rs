//! A value of an arbitrary type given by the host to a `future<T>` comes back equal after one
//! guest, or two with their own string encodings, passed it on through their memories
//! (weld_fuzzing::oracles::future_roundtrip).
#![no_main]

use libfuzzer_sys::fuzz_target;
use weld_fuzzing::oracles::{FutureCase, future_roundtrip};

fuzz_target!(|data: &[u8]| {
    let data = weld_fuzzing::fuzz_input(data);
    let mut u = arbitrary::Unstructured::new(&data);
    let Ok(case) = FutureCase::arbitrary(&mut u) else { return };
    if let Err(e) = future_roundtrip(&case) {
        panic!("{e:#}\n{}", case.component());
    }
});
