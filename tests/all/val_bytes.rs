//! `Val::Bytes`: a `list<u8>` as its bytes in dynamic calls. It is accepted for a
//! `list<u8>` parameter (or a field of one) whatever the configuration, refused for any
//! other list, and what `list<u8>` results and host function parameters lift as when
//! `Config::component_val_bytes` is on; off, they stay `Val::List`s of `Val::U8`s.

use weld::component::{Component, Linker, Val};
use weld::{Config, Engine, Store};

/// Exports `echo(list<u8>) -> list<u8>`, `echo-rec(record { tag: u8, data: list<u8> })`
/// returning the same record, `sum16(list<u16>) -> u32`, and `via-host() -> u32`, which calls
/// the host's `count(list<u8>) -> u32` with the bytes 7, 8, 9.
const GUEST: &str = r#"(component
  (type $rec0 (record (field "tag" u8) (field "data" (list u8))))
  (export $rec "rec" (type $rec0))
  (import "count" (func $count (param "b" (list u8)) (result u32)))
  (core module $Mem
    (memory (export "mem") 64)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $mem-inst (instantiate $Mem))
  (alias core export $mem-inst "mem" (core memory $mem))
  (alias core export $mem-inst "realloc" (core func $realloc))
  (core func $count (canon lower (func $count) (memory $mem)))
  (core module $M
    (import "" "count" (func $count (param i32 i32) (result i32)))
    (import "" "mem" (memory 64))
    (data (i32.const 16) "\07\08\09")
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0))
    (func (export "echo-rec") (param i32 i32 i32) (result i32)
      (i32.store8 (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.store (i32.const 8) (local.get 2))
      (i32.const 0))
    (func (export "sum16") (param $p i32) (param $n i32) (result i32)
      (local $s i32)
      (block $done (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (i32.load16_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
      (local.get $s))
    (func (export "via-host") (result i32) (call $count (i32.const 16) (i32.const 3))))
  (core instance $m (instantiate $M (with "" (instance (export "count" (func $count)) (export "mem" (memory $mem))))))
  (func (export "echo") (param "b" (list u8)) (result (list u8))
    (canon lift (core func $m "echo") (memory $mem) (realloc $realloc)))
  (func (export "echo-rec") (param "r" $rec) (result $rec)
    (canon lift (core func $m "echo-rec") (memory $mem) (realloc $realloc)))
  (func (export "sum16") (param "l" (list u16)) (result u32)
    (canon lift (core func $m "sum16") (memory $mem) (realloc $realloc)))
  (func (export "via-host") (result u32) (canon lift (core func $m "via-host"))))"#;

/// Instantiates the guest with an engine that lifts bytes as `Val::Bytes` or not; the host's
/// `count` answers the number of bytes, times 100 when they came as a `Val::Bytes`.
fn setup(val_bytes: bool) -> (Store<()>, weld::component::Instance) {
    let mut config = Config::new();
    config.component_val_bytes(val_bytes);
    let engine = Engine::new(&config).unwrap();
    let component = Component::new(&engine, GUEST).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new("count", |_, _, params, results| {
            results[0] = match &params[0] {
                Val::Bytes(b) => Val::U32(b.len() as u32 * 100),
                Val::List(l) => Val::U32(l.len() as u32),
                other => anyhow::bail!("unexpected {other:?}"),
            };
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    (store, instance)
}

fn call(
    store: &mut Store<()>,
    instance: &weld::component::Instance,
    name: &str,
    arg: Option<Val>,
) -> anyhow::Result<Val> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut out = [Val::Bool(false)];
    let args: Vec<Val> = arg.into_iter().collect();
    f.call(&mut *store, &args, &mut out)?;
    Ok(out[0].clone())
}

fn u8s(bytes: &[u8]) -> Val {
    Val::List(bytes.iter().map(|b| Val::U8(*b)).collect())
}

#[test]
fn bytes_lower_as_a_list_of_u8_and_lift_as_configured() {
    let data: Vec<u8> = (0..=255).cycle().take(100_000).map(|b: u32| b as u8).collect();
    let (mut store, instance) = setup(false);
    let out = call(&mut store, &instance, "echo", Some(Val::Bytes(data.clone()))).unwrap();
    assert_eq!(out, u8s(&data), "off: results are lists of u8s");
    assert_eq!(call(&mut store, &instance, "via-host", None).unwrap(), Val::U32(3));

    let (mut store, instance) = setup(true);
    let out = call(&mut store, &instance, "echo", Some(Val::Bytes(data.clone()))).unwrap();
    assert_eq!(out, Val::Bytes(data.clone()));
    // A list of u8 `Val`s lowers the same bytes, and they come back as bytes.
    let out = call(&mut store, &instance, "echo", Some(u8s(&data[..5]))).unwrap();
    assert_eq!(out, Val::Bytes(data[..5].to_vec()));
    assert_eq!(call(&mut store, &instance, "echo", Some(Val::Bytes(Vec::new()))).unwrap(), Val::Bytes(Vec::new()));
    assert_eq!(call(&mut store, &instance, "via-host", None).unwrap(), Val::U32(300), "host parameters lift as bytes");
}

#[test]
fn bytes_inside_a_record_cross_both_ways() {
    let record = |data: Val| Val::Record(vec![("tag".into(), Val::U8(9)), ("data".into(), data)]);
    for val_bytes in [false, true] {
        let (mut store, instance) = setup(val_bytes);
        let out = call(&mut store, &instance, "echo-rec", Some(record(Val::Bytes(vec![1, 2, 3])))).unwrap();
        let expected = if val_bytes { Val::Bytes(vec![1, 2, 3]) } else { u8s(&[1, 2, 3]) };
        assert_eq!(out, record(expected));
    }
}

#[test]
fn bytes_are_refused_for_other_lists() {
    let (mut store, instance) = setup(true);
    let err = call(&mut store, &instance, "sum16", Some(Val::Bytes(vec![1, 2]))).unwrap_err();
    assert!(format!("{err:#}").contains("expected list<u16>, found bytes"), "{err:#}");
    let ok = call(&mut store, &instance, "sum16", Some(Val::List(vec![Val::U16(300), Val::U16(2)]))).unwrap();
    assert_eq!(ok, Val::U32(302));
}
