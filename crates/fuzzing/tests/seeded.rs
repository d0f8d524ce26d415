//! Every oracle on a fixed number of seeded inputs, so that `cargo test` always exercises the
//! generators and the oracles (the fuzz targets in fuzz/ explore further).

use arbitrary::Unstructured;
use weld_fuzzing::oracles::*;
use weld_fuzzing::seeded_bytes;

/// How many seeds each oracle runs: `default` (scaled to the oracle's cost), or
/// `WELD_FUZZ_SEEDS` for all of them.
fn seeds(default: u64) -> std::ops::Range<u64> {
    0..std::env::var("WELD_FUZZ_SEEDS").ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

/// The case of `seed`, from 4 KiB of seeded bytes.
fn case<T>(seed: u64, arbitrary: impl Fn(&mut Unstructured) -> arbitrary::Result<T>) -> T {
    let bytes = seeded_bytes(seed, 4096);
    arbitrary(&mut Unstructured::new(&bytes)).expect("4 KiB of input is enough for a case")
}

#[test]
fn component_api_round_trips() {
    let mut kinds = std::collections::BTreeSet::new();
    for seed in seeds(300) {
        let case = case(seed, EchoCase::arbitrary);
        kinds.insert(format!("{:?}", std::mem::discriminant(&case.ty)));
        if let Err(e) = component_api(&case) {
            panic!("seed {seed}: {e:#}\n{}", echo_component(&case.ty, case.encoding));
        }
    }
    // The generator must reach every kind of top-level type it knows.
    assert!(kinds.len() >= 18, "only {} kinds of types were generated", kinds.len());
}

#[test]
fn typed_component_api_round_trips() {
    let mut types = std::collections::BTreeSet::new();
    for seed in seeds(300) {
        let case = case(seed, TypedCase::arbitrary);
        types.insert(case.rust_type());
        if let Err(e) = typed_component_api(&case) {
            panic!("seed {seed}: {e:#}\n{}", case.component());
        }
    }
    // 300 seeds reach every Rust type of the menu.
    assert_eq!(types.len(), TypedCase::MENU_LEN, "Rust types reached: {types:?}");
}

/// Random modules with SIMD, relaxed SIMD and exception handling give the same outcome with
/// and without Cranelift's optimizations.
#[test]
fn optimization_does_not_change_what_modules_do() {
    let features = CaseFeatures { relaxed_simd: true, exceptions: true };
    let (optimized, unoptimized) = opt_level_engines();
    let mut throwing = 0;
    for seed in seeds(200) {
        let case = case(seed, |u| CoreCase::arbitrary_with(u, features));
        let a = weld_outcome(optimized, &case);
        let b = weld_outcome(unoptimized, &case);
        throwing += a.calls.iter().filter(|c| matches!(c, CallOutcome::Thrown(_))).count();
        if let Err(e) = core_differential(&case, &a, &b) {
            panic!("seed {seed}: {e:#}\n{}", wasmprinter::print_bytes(&case.wasm).unwrap_or_default());
        }
    }
    // The generator must reach uncaught exceptions, or the exception paths went untested.
    assert!(throwing > 0, "no call ended with an uncaught exception");
}

#[test]
fn fact_round_trips() {
    for seed in seeds(300) {
        let case = case(seed, FusedCase::arbitrary);
        if let Err(e) = fact_roundtrip(&case) {
            panic!("seed {seed}: {e:#}\n{}", fused_component(&case.ty, case.caller, case.callee));
        }
    }
}

/// The same round trips with `async` function types: the runtime's task path between the
/// components, with values, instead of a fused adapter.
#[test]
fn async_typed_calls_round_trip() {
    for seed in seeds(150) {
        let case = case(seed, FusedCase::arbitrary_async);
        if let Err(e) = fact_roundtrip(&case) {
            panic!("seed {seed}: {e:#}\n{}", case.component());
        }
    }
}

/// Values written into a `stream<T>` by the host come back after one or two guests copied
/// them through their memories.
#[test]
fn stream_values_round_trip() {
    let mut two = 0;
    for seed in seeds(150) {
        let case = case(seed, StreamCase::arbitrary);
        two += usize::from(case.two);
        if let Err(e) = stream_roundtrip(&case) {
            panic!("seed {seed}: {e:#}\n{}", case.component());
        }
    }
    assert!(two > 30, "only {two} cases went through two components");
}

/// A value given to a `future<T>` by the host comes back after one or two guests passed it
/// on through their memories.
#[test]
fn future_values_round_trip() {
    let mut two = 0;
    for seed in seeds(150) {
        let case = case(seed, FutureCase::arbitrary);
        two += usize::from(case.two);
        if let Err(e) = future_roundtrip(&case) {
            panic!("seed {seed}: {e:#}\n{}", case.component());
        }
    }
    assert!(two > 30, "only {two} cases went through two components");
}

#[test]
fn fact_adapters_validate() {
    let (mut without_realloc, mut with_post_return, mut without_memory) = (0, 0, 0);
    for seed in seeds(2000) {
        let case = case(seed, AdapterCase::arbitrary);
        without_realloc += usize::from(!case.caller.realloc || !case.callee.realloc);
        without_memory += usize::from(!case.caller.memory || !case.callee.memory);
        with_post_return += usize::from(case.callee.post_return);
        if let Err(e) = fact_valid(&case) {
            panic!("seed {seed}: {e:#}\n{}", adapter_component(&case));
        }
    }
    // Options are really varied, not forced on by the signatures.
    assert!(without_realloc > 100 && without_memory > 100 && with_post_return > 100);
}

/// weld against itself: optimized code with guard pages, and unoptimized code with explicit
/// bounds checks (fuzz/ compares weld with an interpreter).
#[test]
fn core_modules_agree_across_configurations() {
    let mut config = weld::Config::new();
    config.cranelift_opt_level(weld::OptLevel::None).explicit_bounds_checks(true);
    let other = weld::Engine::new(&config).unwrap();
    let (mut calls, mut returns) = (0, 0);
    for seed in seeds(300) {
        let case = case(seed, CoreCase::arbitrary);
        let optimized = weld_outcome(engine(), &case);
        let checked = weld_outcome(&other, &case);
        calls += optimized.calls.len();
        returns += optimized.calls.iter().filter(|c| matches!(c, CallOutcome::Returned(_))).count();
        if let Err(e) = core_differential(&case, &optimized, &checked) {
            panic!("seed {seed}: {e:#}");
        }
    }
    // The modules are called, and many calls return.
    assert!(calls > 600 && returns > 100, "{calls} calls, {returns} returned");
}
