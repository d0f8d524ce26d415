//! A value passed to an echoing guest comes back equal: a value of an arbitrary type through
//! `Func::call` with `Val`s, or a Rust value of a type of the typed menu through `TypedFunc`
//! (weld_fuzzing::oracles::echo).
#![no_main]

use libfuzzer_sys::fuzz_target;
use weld_fuzzing::oracles::{EchoCase, TypedCase, component_api, echo_component, typed_component_api};

fuzz_target!(|data: &[u8]| {
    let data = weld_fuzzing::fuzz_input(data);
    let mut u = arbitrary::Unstructured::new(&data);
    let Ok(typed) = u.arbitrary::<bool>() else { return };
    if typed {
        let Ok(case) = TypedCase::arbitrary(&mut u) else { return };
        if let Err(e) = typed_component_api(&case) {
            panic!("{e:#}\n{}", case.component());
        }
    } else {
        let Ok(case) = EchoCase::arbitrary(&mut u) else { return };
        if let Err(e) = component_api(&case) {
            panic!("{e:#}\n{}", echo_component(&case.ty, case.encoding));
        }
    }
});
