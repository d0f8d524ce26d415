//! Typed results lift straight from the guest (strings, `char`s, floats, enums, options and
//! results, flat or in memory) with the same checks as a dynamic call: for every value the
//! guest returns, good or bad, a `TypedFunc` and `Func::call` agree on the value or on the
//! trap and its message. Typed lists of plain records lower a chunk at a time and must leave
//! the guest's memory as the dynamic path does, padding included.

use crate::components::instantiate;
use weld::Trap;
use weld::component::*;

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(enum)]
enum Three {
    Zero,
    One,
    Two,
}

/// The guest: `id` returns its argument; `pair` stores `(u64 7, x as its low byte)` and
/// returns its address; `str` stores the one-byte string `x` (or the two-byte UTF-16 string
/// `x`) and returns the address of its pointer and length; `res` stores `result<string,
/// string>` with discriminant `x` and the string "ok".
const COMPONENT: &str = r#"
(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 512))
    (func (export "id") (param i32) (result i32) (local.get 0))
    (func (export "f32") (param i32) (result f32) (f32.reinterpret_i32 (local.get 0)))
    (func (export "pair") (param i32) (result i32)
      (i64.store (i32.const 16) (i64.const 7))
      (i32.store8 (i32.const 24) (local.get 0))
      (i32.const 16))
    (func (export "str") (param i32) (result i32)
      (i32.store16 (i32.const 64) (local.get 0))
      (i32.store (i32.const 32) (i32.const 64))
      (i32.store (i32.const 36) (i32.const 1))
      (i32.const 32))
    (func (export "res") (param i32) (result i32)
      (i32.store (i32.const 96) (i32.const 0x6b6f))
      (i32.store8 (i32.const 40) (local.get 0))
      (i32.store (i32.const 44) (i32.const 96))
      (i32.store (i32.const 48) (i32.const 2))
      (i32.const 40)))
  (core instance $i (instantiate $m))
  (type $three' (enum "zero" "one" "two"))
  (export $three "three" (type $three'))
  (func (export "enum") (param "x" u32) (result $three) (canon lift (core func $i "id")))
  (func (export "enum-in-memory") (param "x" u32) (result (tuple u64 $three))
    (canon lift (core func $i "pair") (memory (core memory $i "mem"))))
  (func (export "char") (param "x" u32) (result char) (canon lift (core func $i "id")))
  (func (export "float") (param "x" u32) (result f32) (canon lift (core func $i "f32")))
  (func (export "string") (param "x" u32) (result string)
    (canon lift (core func $i "str") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
  (func (export "string16") (param "x" u32) (result string)
    (canon lift (core func $i "str") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      string-encoding=utf16))
  (func (export "result") (param "x" u32) (result (result string (error string)))
    (canon lift (core func $i "res") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
  (func (export "option") (param "x" u32) (result (option $three))
    (canon lift (core func $i "pair") (memory (core memory $i "mem")))))
"#;

/// Calls export `name` with `x` typed (returning `R`) and dynamically, each in a fresh
/// instance (a trap leaves an instance unusable); checks that both give the same value, or
/// the same trap with the same message, and returns the typed outcome.
fn both<R>(name: &str, x: u32) -> Result<R, (Trap, String)>
where
    R: ComponentType + Lift + Lower + std::fmt::Debug,
{
    let (mut store, instance) = instantiate(COMPONENT);
    let typed = instance.get_typed_func::<(u32,), (R,)>(&mut store, name).unwrap();
    let typed = typed.call(&mut store, (x,)).map(|(r,)| r);
    let (mut store, instance) = instantiate(COMPONENT);
    let dynamic = instance.get_func(&mut store, name).unwrap();
    let mut out = [Val::Bool(false)];
    let dynamic = dynamic.call(&mut store, &[Val::U32(x)], &mut out).map(|()| out[0].clone());
    let trap = |e: anyhow::Error| {
        let trap = *e.downcast_ref::<Trap>().unwrap_or_else(|| panic!("{name}({x:#x}): not a trap: {e:?}"));
        (trap, format!("{e:#}"))
    };
    match (typed, dynamic) {
        (Ok(t), Ok(d)) => {
            // Floats by their bits: a NaN's payload must come through too.
            let same = match (t.to_val(), &d) {
                (Val::Float32(a), Val::Float32(b)) => a.to_bits() == b.to_bits(),
                (a, b) => a == *b,
            };
            assert!(same, "{name}({x:#x}): typed {t:?} and dynamic {d:?} lifts differ");
            Ok(t)
        }
        (Err(t), Err(d)) => {
            let (t, d) = (trap(t), trap(d));
            assert_eq!(t, d, "{name}({x:#x}): typed and dynamic traps differ");
            Err(t)
        }
        (t, d) => panic!("{name}({x:#x}): typed {t:?}, dynamic {d:?}"),
    }
}

#[test]
fn enums_lift_in_place_and_check_their_discriminant() {
    assert_eq!(both::<Three>("enum", 2), Ok(Three::Two));
    for bad in [3, 0x100, u32::MAX] {
        let (trap, message) = both::<Three>("enum", bad).unwrap_err();
        assert_eq!(trap, Trap::InvalidDiscriminant, "{message}");
        assert!(message.contains(&format!("discriminant {bad} is past the last of the 3 cases")), "{message}");
    }
    assert_eq!(both::<(u64, Three)>("enum-in-memory", 1), Ok((7, Three::One)));
    // In memory only the discriminant's byte is read: 0x103 is the byte 3.
    let (trap, _) = both::<(u64, Three)>("enum-in-memory", 0x103).unwrap_err();
    assert_eq!(trap, Trap::InvalidDiscriminant);
    // option<three> at 16 is the u64 7's low byte: discriminant 7.
    assert_eq!(both::<Option<Three>>("option", 0).unwrap_err().0, Trap::InvalidDiscriminant);
}

#[test]
fn chars_floats_and_strings_lift_in_place_with_their_checks() {
    assert_eq!(both::<char>("char", 0x1f600), Ok('😀'));
    for bad in [0xd800, 0x110000] {
        assert_eq!(both::<char>("char", bad).unwrap_err().0, Trap::InvalidChar);
    }
    assert_eq!(both::<f32>("float", 1.5f32.to_bits()), Ok(1.5));
    assert_eq!(both::<f32>("float", 0xffc0_0001).unwrap().to_bits(), 0xffc0_0001);

    assert_eq!(both::<String>("string", u32::from(b'A')).as_deref(), Ok("A"));
    let (trap, message) = both::<String>("string", 0xff).unwrap_err();
    assert_eq!(trap, Trap::InvalidUtf8, "{message}");
    assert_eq!(both::<String>("string16", 0x263a).as_deref(), Ok("☺"));
    assert_eq!(both::<String>("string16", 0xdc00).unwrap_err().0, Trap::InvalidUtf16);

    type Outcome = Result<String, String>;
    assert_eq!(both::<Outcome>("result", 0), Ok(Ok("ok".into())));
    assert_eq!(both::<Outcome>("result", 1), Ok(Err("ok".into())));
    assert_eq!(both::<Outcome>("result", 2).unwrap_err().0, Trap::InvalidDiscriminant);
}

/// The guest's `realloc` fills what it hands out with 0xaa; `sum` adds up every byte of the
/// list it gets, padding included, so a lowering that wrote the padding would change it.
const BYTE_SUM: &str = r#"
(component
  (core module $m
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $next))
      (memory.fill (local.get $p) (i32.const 0xaa) (local.get 3))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "sum") (param $p i32) (param $n i32) (result i64)
      (local $end i32) (local $s i64)
      (local.set $end (i32.add (local.get $p) (i32.mul (local.get $n) (i32.const 8))))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $s (i64.add (local.get $s) (i64.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
      (local.get $s)))
  (core instance $i (instantiate $m))
  (func (export "sum") (param "xs" (list (tuple u8 u32))) (result u64)
    (canon lift (core func $i "sum") (memory (core memory $i "mem")) (realloc (core func $i "realloc")))))
"#;

#[test]
fn lists_of_plain_records_lower_in_chunks_and_keep_the_padding() {
    // 300 elements of 8 bytes: more than one chunk of lowering.
    let items: Vec<(u8, u32)> = (0..300u32).map(|i| (i as u8, i.wrapping_mul(0x0101_0101))).collect();
    let bytes_of = |(a, b): (u8, u32)| u64::from(a) + b.to_le_bytes().iter().map(|x| u64::from(*x)).sum::<u64>();
    let expected = items.iter().map(|x| bytes_of(*x) + 3 * 0xaa).sum::<u64>();

    let (mut store, instance) = instantiate(BYTE_SUM);
    let sum = instance.get_typed_func::<(&[(u8, u32)],), (u64,)>(&mut store, "sum").unwrap();
    assert_eq!(sum.call(&mut store, (&items,)).unwrap(), (expected,));

    let (mut store, instance) = instantiate(BYTE_SUM);
    let sum = instance.get_func(&mut store, "sum").unwrap();
    let list = items.iter().map(|(a, b)| Val::Tuple(vec![Val::U8(*a), Val::U32(*b)])).collect();
    let mut out = [Val::U64(0)];
    sum.call(&mut store, &[Val::List(list)], &mut out).unwrap();
    assert_eq!(out[0], Val::U64(expected));
}

/// A guest that calls the host's `pick: func(x: result<f64, f32>) -> u32` with flat arguments:
/// both cases' payloads travel in the `i64` slot they share, the `f32` as its bits.
const JOINED: &str = r#"
(component
  (import "pick" (func $pick (param "x" (result f64 (error f32))) (result u32)))
  (core func $pick' (canon lower (func $pick)))
  (core module $m
    (import "" "pick" (func $pick (param i32 i64) (result i32)))
    (func (export "err") (param $bits i32) (result i32)
      (call $pick (i32.const 1) (i64.extend_i32_u (local.get $bits))))
    (func (export "ok") (param $x i32) (result i32)
      (call $pick (i32.const 0) (i64.reinterpret_f64 (f64.convert_i32_u (local.get $x))))))
  (core instance $i (instantiate $m (with "" (instance (export "pick" (func $pick'))))))
  (func (export "err") (param "bits" u32) (result u32) (canon lift (core func $i "err")))
  (func (export "ok") (param "x" u32) (result u32) (canon lift (core func $i "ok"))))
"#;

#[test]
fn a_joined_flat_payload_lifts_in_place_as_its_own_type() {
    let engine = weld::Engine::default();
    let component = Component::new(&engine, JOINED).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("pick", |_: StoreContextMut<'_, ()>, (x,): (Result<f64, f32>,)| {
            Ok((match x {
                Ok(v) => v as u32,
                Err(e) => e.to_bits(),
            },))
        })
        .unwrap();
    let mut store = weld::Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let err = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "err").unwrap();
    for f in [1.5f32, -0.0, f32::MAX] {
        assert_eq!(err.call(&mut store, (f.to_bits(),)).unwrap(), (f.to_bits(),), "{f}");
    }
    let ok = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "ok").unwrap();
    assert_eq!(ok.call(&mut store, (12345,)).unwrap(), (12345,));
}
