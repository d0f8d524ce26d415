//! The canonical ABI reference oracle on seeded cases: weld's host-side canonical ABI against
//! definitions.py. Skipped, with a message, where there is no python3 3.10+ or no
//! definitions.py.
//!
//! `WELD_REFERENCE_CASES=N` sets the number of cases (100,000 take a few minutes in release:
//! `cargo test --release -p weld-fuzzing --test canonical_reference`).

use arbitrary::Unstructured;
use std::time::Instant;
use weld_fuzzing::oracles::canonical_reference::*;
use weld_fuzzing::seeded_bytes;

/// How many cases: `default`, or `WELD_REFERENCE_CASES`.
fn cases(default: u64) -> u64 {
    std::env::var("WELD_REFERENCE_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

fn start() -> Option<Reference> {
    match Reference::start().expect("starting the reference worker") {
        Started::Ready(r) => Some(r),
        Started::Skipped(why) => {
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// The case of `seed`.
fn case(seed: u64) -> CanonicalCase {
    let bytes = seeded_bytes(seed, 4096);
    CanonicalCase::arbitrary(&mut Unstructured::new(&bytes)).expect("4 KiB make a case")
}

/// The first disagreement in seeds `0..n`, if any.
fn first_disagreement(reference: &mut Reference, n: u64) -> Option<(u64, String)> {
    let mut stats = Stats::default();
    (0..n).find_map(|seed| {
        canonical_reference(reference, &case(seed), &mut stats).err().map(|e| (seed, format!("{e:#}")))
    })
}

#[test]
#[cfg_attr(feature = "planted-abi-bug", ignore = "weld has a planted fault")]
fn weld_agrees_with_the_reference_on_seeded_cases() {
    let Some(mut reference) = start() else { return };
    let n = cases(if cfg!(debug_assertions) { 4000 } else { 10_000 });
    let started = Instant::now();
    let mut stats = Stats::default();
    for seed in 0..n {
        if let Err(e) = canonical_reference(&mut reference, &case(seed), &mut stats) {
            panic!("seed {seed}: {e:#}");
        }
    }
    eprintln!(
        "{n} cases in {:.1?} (python {}): {} lowerings, {} lifts, traps agreed on: {:?}",
        started.elapsed(),
        reference.python,
        stats.lowerings,
        stats.lifts,
        stats.traps
    );
    if n >= 1000 {
        // The garbage reaches every check the spec makes on lifting.
        for kind in [
            "invalid-discriminant",
            "invalid-char",
            "invalid-string",
            "misaligned:list",
            "misaligned:string",
            "misaligned:value",
            "out-of-bounds:list",
            "out-of-bounds:string",
            "out-of-bounds:value",
            "too-long:list",
            "too-long:string",
            "handle",
        ] {
            assert!(stats.traps.contains_key(kind), "no {kind} trap in {n} cases: {:?}", stats.traps);
        }
    }
}

/// A fault planted in a copy of the reference (flags of 9 to 16 labels aligned to 1 byte, not
/// 2) is reported: the oracle sees a disagreement whichever side is wrong.
#[test]
fn a_fault_planted_in_the_reference_is_reported() {
    if start().is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("weld-planted-reference-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(spec_dir().join("definitions.py")).unwrap();
    let rule = "  if n <= 16: return 2\n";
    assert!(text.contains(rule), "alignment_flags has changed");
    std::fs::write(dir.join("definitions.py"), text.replacen(rule, "  if n <= 16: return 1\n", 1)).unwrap();
    let Started::Ready(mut planted) = Reference::start_with(&dir).unwrap() else { panic!("the copy starts") };
    let found = first_disagreement(&mut planted, 2000);
    drop(planted);
    std::fs::remove_dir_all(&dir).unwrap();
    let (seed, e) = found.expect("a disagreement in 2000 cases");
    assert!(e.contains("size and alignment") && e.contains("flags"), "seed {seed}: {e}");
}

/// With weld's planted fault (UTF-16 strings lifted without their alignment check), the
/// oracle reports a disagreement: `--features planted-abi-bug`.
#[cfg(feature = "planted-abi-bug")]
#[test]
fn the_fault_planted_in_weld_is_reported() {
    let Some(mut reference) = start() else { return };
    let (seed, e) = first_disagreement(&mut reference, 5000).expect("a disagreement in 5000 cases");
    assert!(e.contains("misaligned:string"), "seed {seed}: {e}");
    eprintln!("seed {seed}: {e}");
}

/// weld's fused adapters carry what the reference lowers on the caller's options to what the
/// reference lifts, as the same value, on the callee's.
#[test]
#[cfg_attr(feature = "planted-abi-bug", ignore = "weld has a planted fault")]
fn fused_adapters_carry_what_the_reference_lowers() {
    let Some(mut reference) = start() else { return };
    let n = cases(if cfg!(debug_assertions) { 500 } else { 1000 }) / 10;
    let started = Instant::now();
    let mut carried = 0;
    for seed in 0..n {
        let bytes = seeded_bytes(seed, 4096);
        let case = FactCase::arbitrary(&mut Unstructured::new(&bytes)).expect("4 KiB make a case");
        match fact_reference(&mut reference, &case) {
            Ok(done) => carried += usize::from(done),
            Err(e) => panic!("seed {seed}: {e:#}\n{}", fact_component(&case)),
        }
    }
    eprintln!("{carried} of {n} values carried in {:.1?}", started.elapsed());
    assert!(carried * 10 >= n as usize * 9, "only {carried} of {n} cases could be lowered");
}
