//! Tests of the wast runner's component directives: components, component definitions and
//! instances, calls with component values, their mixing with core modules, and the failures
//! that must be reported (not passed, not panicked on).

use weld_wast::WastRunner;

fn runner() -> WastRunner {
    WastRunner::new(&weld::Config::new()).unwrap()
}

/// A component whose functions cover scalars, floats, strings, records, enums and traps.
const COMPONENT: &str = r#"
(component $c
  (core module $M
    (memory (export "mem") 1)
    (data (i32.const 16) "hello")
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $r i32)
      (local.set $r (global.get $bump))
      (global.set $bump (i32.add (global.get $bump) (local.get 3)))
      (local.get $r))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "neg") (param f32) (result f32) (f32.neg (local.get 0)))
    (func (export "id64") (param f64) (result f64) (local.get 0))
    (func (export "hello") (result i32)
      (i32.store (i32.const 0) (i32.const 16))
      (i32.store (i32.const 4) (i32.const 5))
      (i32.const 0))
    (func (export "strlen") (param i32 i32) (result i32) (local.get 1))
    (func (export "trap") unreachable)
    (func (export "rec") (param i32 i32) (result i32)
      (i32.store8 (i32.const 32) (local.get 0))
      (i32.store (i32.const 36) (local.get 1))
      (i32.const 32))
    (func (export "pr") (param i32))
    (func (export "idx") (param i32) (result i32) (local.get 0))
  )
  (core instance $i (instantiate $M))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func (export "neg") (param "a" f32) (result f32) (canon lift (core func $i "neg")))
  (func (export "id64") (param "a" f64) (result f64) (canon lift (core func $i "id64")))
  (func (export "hello") (result string)
    (canon lift (core func $i "hello") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      (post-return (core func $i "pr"))))
  (func (export "strlen") (param "s" string) (result u32)
    (canon lift (core func $i "strlen") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
  (func (export "trap") (canon lift (core func $i "trap")))
  (type $r (record (field "a" u8) (field "b" u32)))
  (export $r2 "r" (type $r))
  (type $e (enum "x" "y" "z"))
  (export $e2 "e" (type $e))
  (func (export "rec") (param "a" u8) (param "b" u32) (result $r2)
    (canon lift (core func $i "rec") (memory (core memory $i "mem"))))
  (func (export "en") (param "a" u32) (result $e2) (canon lift (core func $i "idx")))
)
"#;

#[test]
fn component_directives_pass() {
    let script = format!(
        r#"
(module $m (func (export "one") (result i32) (i32.const 1)))
{COMPONENT}
(assert_return (invoke "add" (u32.const 1) (u32.const 2)) (u32.const 3))
(assert_return (invoke $c "add" (u32.const 0xffffffff) (u32.const 2)) (u32.const 1))
(assert_return (invoke "neg" (f32.const 1.5)) (f32.const -1.5))
(assert_return (invoke "neg" (f32.const nan)) (f32.const nan))
(assert_return (invoke "id64" (f64.const nan:0x1234)) (f64.const nan:canonical))
(assert_return (invoke "hello") (str.const "hello"))
(assert_return (invoke "hello") (str.const "hello"))
(assert_return (invoke "strlen" (str.const "abcd")) (u32.const 4))
(assert_return (invoke "rec" (u8.const 7) (u32.const 9)) (record.const (field "a" u8.const 7) (field "b" u32.const 9)))
(assert_return (invoke "rec" (u8.const 7) (u32.const 9)) (record.const (field "b" u32.const 9) (field "a" u8.const 7)))
(assert_return (invoke "en" (u32.const 1)) (enum.const "y"))
(invoke "add" (u32.const 1) (u32.const 1))
(assert_return (invoke $m "one") (i32.const 1))
(component definition $D
  (core module $M (func (export "f") (result i32) (i32.const 42)))
  (core instance $i (instantiate $M))
  (func (export "f") (result s32) (canon lift (core func $i "f"))))
(component instance $d1 $D)
(module definition $MD (func (export "one") (result i32) (i32.const 11)))
(component instance $d2 $D)
(assert_return (invoke $d1 "f") (s32.const 42))
(assert_return (invoke "f") (s32.const 42))
(module instance $mi $MD)
(assert_return (invoke "one") (i32.const 11))
(component instance $D)
(assert_return (invoke "f") (s32.const 42))
(assert_return (invoke $c "add" (u32.const 2) (u32.const 2)) (u32.const 4))
(assert_trap (invoke $c "trap") "unreachable")
(assert_trap (invoke $c "add" (u32.const 1) (u32.const 2)) "cannot enter component instance")
(assert_unlinkable (component (import "f" (func))) "missing import")
(assert_invalid
  (component
    (core module $m (func (export "f") (param i32)))
    (core instance $i (instantiate $m))
    (func (export "f") (result u32) (canon lift (core func $i "f"))))
  "type mismatch")
(assert_malformed (component quote "(func (export \"x\") oops)") "unexpected token")
(assert_malformed (component binary "\00asm\0d\00\01\00\ff") "malformed section id")
(assert_trap (component (core module $m (func $s unreachable) (start $s)) (core instance (instantiate $m))) "unreachable")
(component quote "(core module $m)")
"#
    );
    let report = runner().run_source("components.wast", &script);
    let failures: Vec<String> =
        report.failures.iter().map(|f| format!("{}:{}: {}: {}", f.line, f.col, f.kind, f.message)).collect();
    assert!(failures.is_empty(), "unexpected failures:\n{}", failures.join("\n"));
    // 2 instantiations, 12 assertions, 2 definitions, 4 instances, 3 assertions, 9 assertions
    // and the quoted component.
    assert_eq!(report.passed, 33);
}

#[test]
fn component_failures_are_reported() {
    let script = format!(
        r#"{COMPONENT}
(assert_return (invoke "add" (u32.const 1) (u32.const 2)) (u32.const 4))
(assert_return (invoke "neg" (f32.const 0)) (f32.const 0))
(assert_return (invoke "rec" (u8.const 7) (u32.const 9)) (record.const (field "a" u8.const 7) (field "b" u32.const 8)))
(assert_return (invoke "add" (u8.const 1) (u32.const 2)) (u32.const 3))
(assert_return (invoke "add" (u32.const 1)) (u32.const 1))
(assert_return (invoke "nope"))
(register "c" $c)
(assert_return (get $c "g") (i32.const 1))
(component instance $x $Nope)
(assert_return (invoke "add" (u32.const 1) (u32.const 2)) (u32.const 3))
(component definition $F (import "f" (func)))
(component instance $F)
(assert_return (invoke "anything"))
(assert_invalid (component) "not invalid")
(assert_unlinkable (component) "links fine")
(assert_trap (invoke $c "en" (u32.const 5)) "no such trap message")
(assert_trap (invoke $c "add" (u32.const 1) (u32.const 2)) "cannot enter component instance")
"#
    );
    let report = runner().run_source("failing.wast", &script);
    // The script's line of each failure, counted from the first line after the component.
    let lines = COMPONENT.lines().count() as u32 + 1;
    let got: Vec<(u32, &str)> = report.failures.iter().map(|f| (f.line - lines, f.kind)).collect();
    assert_eq!(
        got,
        vec![
            (1, "assert_return"),
            (2, "assert_return"),
            (3, "assert_return"),
            (4, "assert_return"),
            (5, "assert_return"),
            (6, "assert_return"),
            (7, "register"),
            (8, "assert_return"),
            (9, "component instance"),
            (10, "assert_return"),
            (12, "component instance"),
            (13, "assert_return"),
            (14, "assert_invalid"),
            (15, "assert_unlinkable"),
            (16, "assert_trap"),
        ]
    );
    // The definition and the last assert_trap pass.
    assert_eq!(report.passed, 3);
    let message = |i: usize| report.failures[i].message.as_str();
    assert_eq!(message(0), "result 0 is wrong: expected u32.const 4, got u32.const 3");
    assert_eq!(message(1), "result 0 is wrong: expected f32.const 0 (0x00000000), got f32.const -0 (0x80000000)");
    assert!(message(2).ends_with("(at field \"b\": expected u32.const 8, got u32.const 9)"), "{}", message(2));
    assert!(message(3).contains("argument 0 (`a`) of \"add\"") && message(3).contains("expected u32, found u8"));
    assert!(message(4).contains("takes 2 arguments"), "{}", message(4));
    assert!(message(5).contains("no exported function named \"nope\""), "{}", message(5));
    assert!(message(6).contains("registering a component instance is not supported"), "{}", message(6));
    assert!(message(7).contains("`get` on a component instance is not supported"), "{}", message(7));
    assert!(message(8).contains("no component definition named $Nope"), "{}", message(8));
    assert!(message(9).starts_with("no current instance"), "{}", message(9));
    assert!(message(10).contains("import `f` has not been defined"), "{}", message(10));
    assert!(message(11).contains("the last component failed"), "{}", message(11));
    assert!(message(12).contains("but it compiled"), "{}", message(12));
    assert!(message(13).contains("but it instantiated"), "{}", message(13));
    assert!(message(14).contains("expected a trap with message \"no such trap message\""), "{}", message(14));
}
