//! The oracles themselves: each reports a real difference, and tolerates what engines may
//! legitimately do differently. Includes the regressions of what fuzzing found in the oracles.

use weld_fuzzing::oracles::*;

fn case(wat: &str, calls: &[(&str, Vec<CoreValue>)]) -> CoreCase {
    CoreCase {
        wasm: wat::parse_str(wat).unwrap(),
        calls: calls.iter().map(|(n, a)| (n.to_string(), a.clone())).collect(),
    }
}

fn engine_with_stack(bytes: usize) -> weld::Engine {
    let mut config = weld::Config::new();
    config.max_wasm_stack(bytes);
    weld::Engine::new(&config).unwrap()
}

/// Found by the seeded differential (seed 1341 of 3000): a start function recursing until its
/// fuel ran out overflowed the stack in optimized code (larger frames) but not in unoptimized
/// code. Engines may overflow at different depths, so a stack overflow anywhere, at
/// instantiation included, ends the comparison instead of failing it.
#[test]
fn stack_overflow_at_different_depths_is_not_a_difference() {
    let wat = r#"
    (module
      (global $fuel (mut i32) (i32.const 2000))
      (func $f (export "f") (result i32)
        (if (i32.eqz (global.get $fuel)) (then unreachable))
        (global.set $fuel (i32.sub (global.get $fuel) (i32.const 1)))
        (i32.add (call $f) (i32.const 1)))
      (func $start (drop (call $f)))
      (start $start))"#;
    let c = case(wat, &[("f", vec![])]);
    let shallow = weld_outcome(&engine_with_stack(16 * 1024), &c);
    let deep = weld_outcome(&engine_with_stack(8 * 1024 * 1024), &c);
    assert_eq!(shallow.instantiated, Some(CallOutcome::Trapped(Trap::StackOverflow)));
    assert_eq!(deep.instantiated, Some(CallOutcome::Trapped(Trap::UnreachableCodeReached)));
    core_differential(&c, &shallow, &deep).unwrap();
    core_differential(&c, &deep, &shallow).unwrap();
}

#[test]
fn core_differential_reports_each_kind_of_difference() {
    let c = case(
        r#"(module
             (memory (export "mem") 1)
             (global (export "g") (mut i32) (i32.const 0))
             (func (export "f") (param i32) (result i32)
               (i32.store (i32.const 8) (local.get 0))
               (global.set 0 (local.get 0))
               (i32.div_u (i32.const 100) (local.get 0))))"#,
        &[("f", vec![CoreValue::I32(5)]), ("f", vec![CoreValue::I32(0)])],
    );
    let actual = weld_outcome(engine(), &c);
    assert_eq!(
        actual.calls,
        [CallOutcome::Returned(vec![CoreValue::I32(20)]), CallOutcome::Trapped(Trap::IntegerDivisionByZero)]
    );
    core_differential(&c, &actual, &actual.clone()).unwrap();

    let mut other = actual.clone();
    other.calls[0] = CallOutcome::Returned(vec![CoreValue::I32(21)]);
    let e = core_differential(&c, &actual, &other).unwrap_err().to_string();
    assert!(
        e.starts_with("call 0 of `f` with [I32(5)]: weld Returned([I32(20)]), reference Returned([I32(21)])"),
        "{e}"
    );

    let mut other = actual.clone();
    other.calls[1] = CallOutcome::Trapped(Trap::IntegerOverflow);
    assert!(core_differential(&c, &actual, &other).unwrap_err().to_string().starts_with("call 1 of `f`"));

    let mut other = actual.clone();
    other.memories[0].2 ^= 1;
    assert!(core_differential(&c, &actual, &other).unwrap_err().to_string().starts_with("memories"));

    let mut other = actual.clone();
    other.globals[0].1 = CoreValue::I32(1);
    assert!(core_differential(&c, &actual, &other).unwrap_err().to_string().starts_with("globals"));

    let mut other = actual.clone();
    other.instantiated = Some(CallOutcome::Failed("refused".into()));
    assert!(core_differential(&c, &actual, &other).unwrap_err().to_string().starts_with("instantiation"));
}

#[test]
fn nans_compare_equal_whatever_their_payload() {
    assert_eq!(CoreValue::F32(0x7fc0_0000), CoreValue::F32(0xffc0_0001));
    assert_eq!(CoreValue::F64(0x7ff8_0000_0000_0000), CoreValue::F64(0x7ff0_0000_0000_0001));
    assert_ne!(CoreValue::F32(0), CoreValue::F32(0x8000_0000), "0.0 and -0.0 differ");
    assert_ne!(CoreValue::I32(1), CoreValue::I64(1));
}
