//! Host functions with Rust types (`func_wrap`) lift `list<u8>` parameters and lower their
//! results straight between Rust values and the guest's memory (a byte list in one copy,
//! `option`/`result` case by case): the values, the layout through a result pointer and
//! flat, and the canonical ABI's traps (a list, a result pointer or an allocation outside memory).

use weld::component::{Component, Linker, StoreContextMut};
use weld::{Engine, Store};

/// A guest with a bump `realloc`, importing `bytes(n) -> result<list<u8>, u32>` (ok: n bytes
/// 0, 1, 2...; err when n is 0), `sum(list<u8>) -> u32` and `half(x) -> option<u8>`, and
/// exporting calls that check what comes back.
const GUEST: &str = r#"(component
  (import "host" (instance $h
    (export "bytes" (func (param "n" u32) (result (result (list u8) (error u32)))))
    (export "sum" (func (param "b" (list u8)) (result u32)))
    (export "half" (func (param "x" u32) (result (option u8))))))
  (core module $mem
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $next))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $m (instantiate $mem))
  (alias core export $m "mem" (core memory $memory))
  (alias core export $m "realloc" (core func $realloc))
  (alias export $h "bytes" (func $bytes))
  (alias export $h "sum" (func $sum))
  (alias export $h "half" (func $half))
  (core func $bytes' (canon lower (func $bytes) (memory $memory) (realloc $realloc)))
  (core func $sum' (canon lower (func $sum) (memory $memory)))
  (core func $half' (canon lower (func $half) (memory $memory)))
  (core module $code
    (import "" "mem" (memory 1))
    (import "" "bytes" (func $bytes (param i32 i32)))
    (import "" "sum" (func $sum (param i32 i32) (result i32)))
    (import "" "half" (func $half (param i32 i32)))
    ;; bytes(n) through the result pointer 16, then the sum of the list the host wrote
    ;; (or 1000 + the error).
    (func (export "sum-of-bytes") (param $n i32) (result i32)
      (local $i i32) (local $acc i32) (local $ptr i32) (local $len i32)
      (call $bytes (local.get $n) (i32.const 16))
      (if (i32.load8_u (i32.const 16))
        (then (return (i32.add (i32.const 1000) (i32.load (i32.const 20))))))
      (local.set $ptr (i32.load (i32.const 20)))
      (local.set $len (i32.load (i32.const 24)))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $acc (i32.add (local.get $acc) (i32.load8_u (i32.add (local.get $ptr) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.get $acc))
    ;; sum of the list at (ptr, len) as the host sees it.
    (func (export "host-sum") (param i32 i32) (result i32) (call $sum (local.get 0) (local.get 1)))
    ;; half(x) through a misaligned or a good result pointer: case * 256 + payload.
    (func (export "half-at") (param $x i32) (param $at i32) (result i32)
      (call $half (local.get $x) (local.get $at))
      (i32.add (i32.mul (i32.load8_u (local.get $at)) (i32.const 256)) (i32.load8_u offset=1 (local.get $at)))))
  (core instance $c (instantiate $code (with "" (instance
    (export "mem" (memory $memory)) (export "bytes" (func $bytes')) (export "sum" (func $sum'))
    (export "half" (func $half'))))))
  (func (export "sum-of-bytes") (param "n" u32) (result u32) (canon lift (core func $c "sum-of-bytes")))
  (func (export "host-sum") (param "p" u32) (param "l" u32) (result u32) (canon lift (core func $c "host-sum")))
  (func (export "half-at") (param "x" u32) (param "at" u32) (result u32) (canon lift (core func $c "half-at"))))"#;

fn instance() -> (Store<()>, weld::component::Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    let mut host = linker.instance("host").unwrap();
    host.func_wrap("bytes", |_: StoreContextMut<'_, ()>, (n,): (u32,)| {
        Ok((if n == 0 { Err(7u32) } else { Ok((0..n).map(|i| i as u8).collect::<Vec<u8>>()) },))
    })
    .unwrap();
    host.func_wrap("sum", |_: StoreContextMut<'_, ()>, (b,): (Vec<u8>,)| {
        Ok((b.iter().map(|&x| u32::from(x)).sum::<u32>(),))
    })
    .unwrap();
    host.func_wrap("half", |_: StoreContextMut<'_, ()>, (x,): (u32,)| Ok(((x % 2 == 0).then_some((x / 2) as u8),)))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    (store, instance)
}

fn call(
    store: &mut Store<()>,
    instance: &weld::component::Instance,
    name: &str,
    args: (u32, u32),
) -> weld::Result<u32> {
    if name == "sum-of-bytes" {
        let f = instance.get_typed_func::<(u32,), (u32,)>(&mut *store, name)?;
        return Ok(f.call(&mut *store, (args.0,))?.0);
    }
    let f = instance.get_typed_func::<(u32, u32), (u32,)>(&mut *store, name)?;
    Ok(f.call(&mut *store, args)?.0)
}

#[test]
fn byte_lists_and_cases_cross_in_both_directions() {
    let (mut store, instance) = instance();
    // 0 + 1 + ... + 299, each byte wrapped to u8.
    let expected: u32 = (0..300u32).map(|i| i % 256).sum();
    assert_eq!(call(&mut store, &instance, "sum-of-bytes", (300, 0)).unwrap(), expected);
    assert_eq!(call(&mut store, &instance, "sum-of-bytes", (0, 0)).unwrap(), 1007, "err(7)");
    // The host reads the guest's bytes in place: the data segment-free memory holds zeros
    // except what `bytes` wrote at the bump pointer (1024...).
    assert_eq!(call(&mut store, &instance, "host-sum", (1024, 300)).unwrap(), expected);
    assert_eq!(call(&mut store, &instance, "half-at", (10, 32)).unwrap(), 256 + 5, "some(5)");
    // `none` writes only its case: the payload byte is left as it was (zero at a fresh address).
    assert_eq!(call(&mut store, &instance, "half-at", (3, 40)).unwrap(), 0, "none");
}

#[test]
fn a_byte_list_out_of_bounds_traps() {
    let (mut store, instance) = instance();
    let err = call(&mut store, &instance, "host-sum", (65530, 100)).unwrap_err();
    assert!(format!("{err:?}").contains("out of bounds"), "{err:?}");
}

#[test]
fn a_result_pointer_or_a_list_outside_memory_traps() {
    let (mut store, instance) = instance();
    // option<u8> has alignment 1, so any address inside memory works...
    assert_eq!(call(&mut store, &instance, "half-at", (4, 33)).unwrap(), 256 + 2);
    // ...but not past its end.
    let (mut store, instance) = self::instance();
    let err = call(&mut store, &instance, "half-at", (4, 65535)).unwrap_err();
    assert!(format!("{err:?}").contains("out of bounds"), "{err:?}");
    // A list the guest's realloc places past the end of its memory is refused.
    let (mut store, instance) = self::instance();
    let err = call(&mut store, &instance, "sum-of-bytes", (70_000, 0)).unwrap_err();
    assert!(format!("{err:?}").contains("realloc") || format!("{err:?}").contains("out of bounds"), "{err:?}");
}
