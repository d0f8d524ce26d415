//! weld's host-side canonical ABI agrees with the Component Model's definitions.py (run by a
//! Python worker, started once per process) on an arbitrary type, value and options, garbage
//! included; now and then a value is carried by a fused adapter between two option sets
//! (weld_fuzzing::oracles::canonical_reference). Without python3 3.10+ every input passes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weld_fuzzing::oracles::canonical_reference::{
    CanonicalCase, FactCase, Stats, canonical_reference, fact_component, fact_reference, with_reference,
};

fuzz_target!(|data: &[u8]| {
    let data = weld_fuzzing::fuzz_input(data);
    let mut u = arbitrary::Unstructured::new(&data);
    let Ok(fused) = u.ratio(1u8, 16) else { return };
    let checked = if fused {
        let Ok(case) = FactCase::arbitrary(&mut u) else { return };
        with_reference(|r| fact_reference(r, &case).map(|_| ()))
            .map_err(|e| format!("{e:#}\n{}", fact_component(&case)))
    } else {
        let Ok(case) = CanonicalCase::arbitrary(&mut u) else { return };
        with_reference(|r| canonical_reference(r, &case, &mut Stats::default())).map_err(|e| format!("{e:#}"))
    };
    if let Err(e) = checked {
        panic!("{e}");
    }
});
