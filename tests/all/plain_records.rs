//! Derived records whose fields are all scalars are lowered and lifted at offsets computed at
//! compile time (`plain_record.rs`): flat, through memory, in a list (lowered a chunk at a
//! time) and as parameters passed in memory. Every case is checked against the dynamic path
//! (`Func::call` with `Val`s), which walks the component type: the same values, or the same
//! trap and message for what the guest gets wrong (a bad `char`, an unaligned or
//! out-of-bounds pointer).

use weld::component::*;
use weld::{Engine, Store};

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(record)]
struct Mixed {
    a: u8,
    b: i16,
    c: bool,
    d: char,
    e: f32,
    f: i64,
    g: u32,
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(record)]
struct One {
    x: u32,
}

/// Twenty fields: more flat values than a call passes flat, so parameters go through memory.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Default)]
#[component(record)]
struct Twenty {
    f0: u32,
    f1: u16,
    f2: u32,
    f3: u8,
    f4: u64,
    f5: u32,
    f6: u32,
    f7: i8,
    f8: u32,
    f9: u32,
    f10: u32,
    f11: u32,
    f12: u32,
    f13: u32,
    f14: u32,
    f15: u32,
    f16: u32,
    f17: u32,
    f18: u32,
    f19: u32,
}

/// `mixed` is `record { a: u8, b: s16, c: bool, d: char, e: f32, f: s64, g: u32 }`, laid out
/// a@0 b@2 c@4 d@8 e@12 f@16 g@24 (32 bytes, aligned to 8). `echo` stores its flat
/// parameters in that layout at 128 and returns 128; `at(p)` returns `p` (the guest's
/// memory holds a bad `char` at 512 and a `bool` of 2 at 576); `first` echoes the first
/// element of a `list<mixed>` and `id` returns its argument (params in memory come back as
/// the result; `make-one` returns `record { x: u32 }` flat).
const GUEST: &str = r#"(component
  (core module $M
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (data (i32.const 512) "\01\00\02\00\01\00\00\00\00\d8\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00")
    (data (i32.const 576) "\01\00\02\00\02\00\00\00\41\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00")
    (func (export "echo") (param i32 i32 i32 i32 f32 i64 i32) (result i32)
      (i32.store8 (i32.const 128) (local.get 0))
      (i32.store16 (i32.const 130) (local.get 1))
      (i32.store8 (i32.const 132) (local.get 2))
      (i32.store (i32.const 136) (local.get 3))
      (f32.store (i32.const 140) (local.get 4))
      (i64.store (i32.const 144) (local.get 5))
      (i32.store (i32.const 152) (local.get 6))
      (i32.const 128))
    (func (export "at") (param i32) (result i32) (local.get 0))
    (func (export "first") (param i32 i32) (result i32) (local.get 0))
    (func (export "id") (param i32) (result i32) (local.get 0)))
  (core instance $m (instantiate $M))
  (alias core export $m "mem" (core memory $mem))
  (alias core export $m "realloc" (core func $realloc))
  (type $mixed' (record (field "a" u8) (field "b" s16) (field "c" bool) (field "d" char) (field "e" f32)
    (field "f" s64) (field "g" u32)))
  (export $mixed "mixed" (type $mixed'))
  (type $one' (record (field "x" u32)))
  (export $one "one" (type $one'))
  (type $twenty' (record (field "f0" u32) (field "f1" u16) (field "f2" u32) (field "f3" u8) (field "f4" u64)
    (field "f5" u32) (field "f6" u32) (field "f7" s8) (field "f8" u32) (field "f9" u32) (field "f10" u32)
    (field "f11" u32) (field "f12" u32) (field "f13" u32) (field "f14" u32) (field "f15" u32) (field "f16" u32)
    (field "f17" u32) (field "f18" u32) (field "f19" u32)))
  (export $twenty "twenty" (type $twenty'))
  (func (export "echo") (param "m" $mixed) (result $mixed)
    (canon lift (core func $m "echo") (memory $mem) (realloc $realloc)))
  (func (export "at") (param "p" u32) (result $mixed) (canon lift (core func $m "at") (memory $mem)))
  (func (export "first") (param "l" (list $mixed)) (result $mixed)
    (canon lift (core func $m "first") (memory $mem) (realloc $realloc)))
  (func (export "make-one") (param "x" u32) (result $one) (canon lift (core func $m "id")))
  (func (export "echo-twenty") (param "t" $twenty) (result $twenty)
    (canon lift (core func $m "id") (memory $mem) (realloc $realloc))))"#;

fn setup() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    (store, instance)
}

fn dynamic(store: &mut Store<()>, instance: &Instance, name: &str, arg: Val) -> anyhow::Result<Val> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut out = [Val::Bool(false)];
    f.call(&mut *store, &[arg], &mut out)?;
    Ok(out[0].clone())
}

const SAMPLE: Mixed = Mixed { a: 200, b: -2, c: true, d: 'é', e: -1.5, f: -(1 << 40), g: 0xdead_beef };

#[test]
fn a_record_of_scalars_crosses_flat_and_through_memory() {
    let (mut store, instance) = setup();
    let echo = instance.get_typed_func::<(Mixed,), (Mixed,)>(&mut store, "echo").unwrap();
    let (back,) = echo.call(&mut store, (SAMPLE,)).unwrap();
    assert_eq!(back, SAMPLE);
    let val = dynamic(&mut store, &instance, "echo", SAMPLE.to_val()).unwrap();
    assert_eq!(Mixed::from_val(val).unwrap(), SAMPLE, "the dynamic path agrees");

    let one = instance.get_typed_func::<(u32,), (One,)>(&mut store, "make-one").unwrap();
    assert_eq!(one.call(&mut store, (0x1234_5678,)).unwrap(), (One { x: 0x1234_5678 },));

    let mut twenty = Twenty { f4: u64::MAX - 3, f7: -100, f1: 65535, f3: 255, ..Twenty::default() };
    twenty.f19 = 19;
    twenty.f0 = 1;
    let f = instance.get_typed_func::<(Twenty,), (Twenty,)>(&mut store, "echo-twenty").unwrap();
    assert_eq!(f.call(&mut store, (twenty,)).unwrap(), (twenty,), "parameters through memory");
    let val = dynamic(&mut store, &instance, "echo-twenty", twenty.to_val()).unwrap();
    assert_eq!(Twenty::from_val(val).unwrap(), twenty);
}

#[test]
fn a_list_of_records_of_scalars_lowers_in_chunks() {
    let (mut store, instance) = setup();
    let list: Vec<Mixed> = (0..300).map(|i| Mixed { g: i, a: i as u8, ..SAMPLE }).collect();
    let first = instance.get_typed_func::<(&[Mixed],), (Mixed,)>(&mut store, "first").unwrap();
    assert_eq!(first.call(&mut store, (&list[..],)).unwrap(), (list[0],));
    let val = dynamic(&mut store, &instance, "first", Val::List(list.iter().map(Lower::to_val).collect())).unwrap();
    assert_eq!(Mixed::from_val(val).unwrap(), list[0]);
}

/// What the guest returns at `p`, typed and dynamically: the same value, or the same error.
fn at_both(p: u32) -> (Result<Mixed, String>, Result<Mixed, String>) {
    let (mut store, instance) = setup();
    let at = instance.get_typed_func::<(u32,), (Mixed,)>(&mut store, "at").unwrap();
    let typed = at.call(&mut store, (p,)).map(|(m,)| m).map_err(|e| format!("{e:#}"));
    let (mut store, instance) = setup();
    let dynamic = dynamic(&mut store, &instance, "at", Val::U32(p))
        .map(|v| Mixed::from_val(v).unwrap())
        .map_err(|e| format!("{e:#}"));
    (typed, dynamic)
}

#[test]
fn bad_guest_records_fail_the_same_way_on_both_paths() {
    let (typed, dynamic) = at_both(576);
    assert_eq!(typed, dynamic);
    let m = typed.unwrap();
    assert!(m.c && m.d == 'A' && m.b == 2, "a bool of 2 is true: {m:?}");
    for (p, says) in [(512, "invalid `char`"), (129, "unaligned"), (65536 - 16, "out of bounds")] {
        let (typed, dynamic) = at_both(p);
        let (typed, dynamic) = (typed.unwrap_err(), dynamic.unwrap_err());
        assert_eq!(typed, dynamic, "at {p}");
        assert!(typed.to_lowercase().contains(says), "at {p}: {typed}");
    }
}
