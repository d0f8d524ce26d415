//! Every oracle on a fixed number of seeded inputs, so that `cargo test` always exercises the
//! generators and the oracles (the fuzz targets in fuzz/ explore further).

use arbitrary::Unstructured;
use weld_fuzzing::oracles::{EchoCase, component_api};
use weld_fuzzing::seeded_bytes;

/// How many seeds each oracle runs: 300, or `WELD_FUZZ_SEEDS`.
fn seeds() -> std::ops::Range<u64> {
    0..std::env::var("WELD_FUZZ_SEEDS").ok().and_then(|n| n.parse().ok()).unwrap_or(300)
}

#[test]
fn component_api_round_trips() {
    let mut kinds = std::collections::BTreeSet::new();
    for seed in seeds() {
        let bytes = seeded_bytes(seed, 4096);
        let mut u = Unstructured::new(&bytes);
        let case = EchoCase::arbitrary(&mut u).expect("4 KiB of input is enough for a case");
        kinds.insert(format!("{:?}", std::mem::discriminant(&case.ty)));
        if let Err(e) = component_api(&case) {
            panic!("seed {seed}: {e:#}\n{}", weld_fuzzing::oracles::echo_component(&case.ty, case.encoding));
        }
    }
    // The generator must reach every kind of top-level type it knows.
    assert!(kinds.len() >= 18, "only {} kinds of types were generated", kinds.len());
}

#[test]
fn fact_round_trips() {
    use weld_fuzzing::oracles::{FusedCase, fact_roundtrip, fused_component};
    for seed in seeds() {
        let bytes = seeded_bytes(seed, 4096);
        let mut u = Unstructured::new(&bytes);
        let case = FusedCase::arbitrary(&mut u).expect("4 KiB of input is enough for a case");
        if let Err(e) = fact_roundtrip(&case) {
            panic!("seed {seed}: {e:#}\n{}", fused_component(&case.ty, case.caller, case.callee));
        }
    }
}
