//! Tests of the wast runner itself: every directive kind it supports, how it counts, and that
//! failures (and unparsable files) are reported with the right lines.

use weld_wast::WastRunner;

fn runner() -> WastRunner {
    WastRunner::new(&weld::Config::new()).unwrap()
}

const PASSING: &str = r#"
(module $A
  (import "spectest" "print_i32" (func $print (param i32)))
  (import "spectest" "global_i32" (global $g i32))
  (import "spectest" "memory" (memory 1))
  (import "spectest" "table" (table 10 funcref))
  (global (export "g") i32 (global.get $g))
  (global (export "h") (mut i64) (i64.const -7))
  (func (export "add") (param i32 i32) (result i32) (local.get 0) (local.get 1) (i32.add))
  (func (export "div") (param i32 i32) (result i32) (local.get 0) (local.get 1) (i32.div_s))
  (func (export "print") (param i32) (call $print (local.get 0)))
  (func (export "nan") (result f32 f64) (f32.div (f32.const 0) (f32.const 0)) (f64.const nan:0x8000000000001))
  (func (export "id-extern") (param externref) (result externref) (local.get 0))
  (func $f (export "func") (result funcref) (ref.func $f))
  (func (export "null") (result funcref externref) (ref.null func) (ref.null extern))
  (func $rec (export "rec") (call $rec))
)
(register "a" $A)
(invoke "print" (i32.const 1))
(assert_return (invoke "add" (i32.const 1) (i32.const -3)) (i32.const -2))
(assert_return (invoke $A "add" (i32.const 0x7fffffff) (i32.const 1)) (i32.const 0x80000000))
(assert_return (get "g") (i32.const 666))
(assert_return (get $A "h") (i64.const -7))
(assert_return (invoke "nan") (f32.const nan:canonical) (f64.const nan:arithmetic))
(assert_return (invoke "id-extern" (ref.extern 42)) (ref.extern 42))
(assert_return (invoke "id-extern" (ref.extern 42)) (ref.extern))
(assert_return (invoke "id-extern" (ref.null extern)) (ref.null extern))
(assert_return (invoke "func") (ref.func))
(assert_return (invoke "null") (ref.null func) (ref.null))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_exhaustion (invoke "rec") "call stack exhausted")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_malformed (module quote "(func (i32.const 0x1_0000_0000))") "constant out of range")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_unlinkable (module (import "a" "nope" (func))) "unknown import")
(assert_unlinkable (module (import "a" "add" (func (param i64)))) "incompatible import type")
(assert_trap (module (memory 1) (data (i32.const 65536) "x")) "out of bounds memory access")
(module definition $D (import "a" "add" (func (param i32 i32) (result i32)))
  (func (export "three") (result i32) (call 0 (i32.const 1) (i32.const 2))))
(module instance $I $D)
(assert_return (invoke $I "three") (i32.const 3))
(module instance $D)
(assert_return (invoke "three") (i32.const 3))
(module binary "\00asm" "\01\00\00\00")
"#;

#[test]
fn every_directive_passes() {
    let report = runner().run_source("passing.wast", PASSING);
    let failures: Vec<String> =
        report.failures.iter().map(|f| format!("{}:{}: {}: {}", f.line, f.col, f.kind, f.message)).collect();
    assert!(failures.is_empty(), "unexpected failures:\n{}", failures.join("\n"));
    // 1 module + 18 assertions + 1 definition + 2 instances + 2 assertions + 1 binary module.
    assert_eq!(report.passed, 25);
}

#[test]
fn failures_are_reported_and_do_not_stop_the_file() {
    let script = r#"(module
  (func (export "one") (result i32) (i32.const 1))
  (func (export "trap") unreachable))
(assert_return (invoke "one") (i32.const 2))
(assert_return (invoke "one") (i32.const 1))
(assert_trap (invoke "one") "unreachable")
(assert_trap (invoke "trap") "integer overflow")
(assert_trap (invoke "trap") "unreachable")
(assert_return (invoke "missing"))
(invoke "trap")
(assert_invalid (module (func)) "type mismatch")
(module (import "nowhere" "f" (func)))
(assert_return (invoke "one") (i32.const 1))
"#;
    let report = runner().run_source("failing.wast", script);
    let got: Vec<(u32, &str)> = report.failures.iter().map(|f| (f.line, f.kind)).collect();
    assert_eq!(
        got,
        vec![
            (4, "assert_return"),
            (6, "assert_trap"),
            (7, "assert_trap"),
            (9, "assert_return"),
            (10, "invoke"),
            (11, "assert_invalid"),
            (12, "module"),
            (13, "assert_return"),
        ]
    );
    assert_eq!(report.passed, 3);
    assert!(
        report.failures[0].message.contains("expected i32.const 2, got i32.const 1"),
        "{}",
        report.failures[0].message
    );
    // After a module fails, later directives do not silently use the previous instance.
    assert!(report.failures[7].message.contains("no current instance"), "{}", report.failures[7].message);
}

#[test]
fn unparsable_file_fails_every_assertion() {
    let script = "(module)\n(assert_return (invoke \"f\") (i32.const 1))\n(assert_bogus)\n";
    let report = runner().run_source("bad.wast", script);
    assert_eq!(report.passed, 0);
    let lines: Vec<u32> = report.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, vec![1, 2, 3]);
    assert!(report.failures.iter().all(|f| f.kind == "parse"));
}
