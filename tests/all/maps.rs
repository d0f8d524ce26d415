//! `map<K, V>`: passed as its entry list (`list<tuple<K, V>>`, the spec's despecialization),
//! held by `Val` as a list of 2-tuples, and by Rust as `HashMap`, `BTreeMap` or `Vec<(K, V)>`.

use std::collections::{BTreeMap, HashMap};
use weld::component::{Component, Linker, Val};
use weld::{Engine, Store};

/// `echo: func(m: map<string, u32>) -> map<string, u32>` returns its argument; `dup` returns
/// `[("a", 1), ("b", 5), ("a", 2)]`, a map with a repeated key.
const GUEST: &str = r#"
(component
  (core module $m
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      ;; realloc keeps the old contents
      (memory.copy (local.get $p) (local.get 0) (local.get 1))
      (local.get $p))
    (data (i32.const 100) "ab")
    ;; entries ("a", 1), ("b", 5), ("a", 2): 12 bytes each, at 200; the list at 240
    (data (i32.const 200) "\64\00\00\00\01\00\00\00\01\00\00\00"
                          "\65\00\00\00\01\00\00\00\05\00\00\00"
                          "\64\00\00\00\01\00\00\00\02\00\00\00")
    (data (i32.const 240) "\c8\00\00\00\03\00\00\00")
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 8) (local.get 0))
      (i32.store (i32.const 12) (local.get 1))
      (i32.const 8))
    (func (export "dup") (result i32) (i32.const 240)))
  (core instance $i (instantiate $m))
  (type $map (map string u32))
  (export $map' "string-to-u32" (type $map))
  (func (export "echo") (param "m" $map') (result $map')
    (canon lift (core func $i "echo") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
  (func (export "dup") (result $map')
    (canon lift (core func $i "dup") (memory (core memory $i "mem")))))
"#;

fn instantiate() -> (Store<()>, weld::component::Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST).expect("the component compiles");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).expect("the component instantiates");
    (store, instance)
}

fn entry(k: &str, v: u32) -> Val {
    Val::Tuple(vec![Val::String(k.into()), Val::U32(v)])
}

#[test]
fn maps_go_through_val_as_entry_lists() {
    let (mut store, instance) = instantiate();
    let echo = instance.get_func(&mut store, "echo").unwrap();
    assert_eq!(echo.ty(&store).to_string(), "func(m: map<string, u32>) -> map<string, u32>");
    for map in [vec![], vec![entry("one", 1)], vec![entry("x", 7), entry("y", 8), entry("x", 9)]] {
        let mut results = [Val::Bool(false)];
        echo.call(&mut store, &[Val::List(map.clone())], &mut results).unwrap();
        assert_eq!(results[0], Val::List(map));
    }
    let err = echo
        .call(
            &mut store,
            &[Val::List(vec![entry("a", 1), Val::Tuple(vec![Val::String("b".into()), Val::U8(2)])])],
            &mut [Val::Bool(false)],
        )
        .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "parameter 0 (`m`) has the wrong type: element 1 of tuple of entry 1 of map<string, u32>: \
         expected u32, found u8"
    );
}

#[test]
fn maps_as_rust_maps_and_entry_vectors() {
    let (mut store, instance) = instantiate();
    let echo =
        instance.get_typed_func::<(BTreeMap<String, u32>,), (BTreeMap<String, u32>,)>(&mut store, "echo").unwrap();
    let map: BTreeMap<String, u32> = [("a".to_string(), 1), ("b".to_string(), 2)].into();
    assert_eq!(echo.call(&mut store, (map.clone(),)).unwrap(), (map,));

    let echo = instance.get_typed_func::<(Vec<(String, u32)>,), (Vec<(String, u32)>,)>(&mut store, "echo").unwrap();
    let entries = vec![("z".to_string(), 26), ("a".to_string(), 1)];
    assert_eq!(echo.call(&mut store, (entries.clone(),)).unwrap(), (entries,));

    // Repeated keys: a Rust map keeps the last value, the entry list keeps them all.
    let dup = instance.get_typed_func::<(), (HashMap<String, u32>,)>(&mut store, "dup").unwrap();
    let (m,) = dup.call(&mut store, ()).unwrap();
    assert_eq!(m, HashMap::from([("a".to_string(), 2), ("b".to_string(), 5)]));
    let dup = instance.get_typed_func::<(), (Vec<(String, u32)>,)>(&mut store, "dup").unwrap();
    let (entries,) = dup.call(&mut store, ()).unwrap();
    assert_eq!(entries, [("a".to_string(), 1), ("b".to_string(), 5), ("a".to_string(), 2)]);

    // A Rust map of other key or value types is refused, naming the part that differs.
    let err = instance.get_typed_func::<(), (BTreeMap<String, u64>,)>(&mut store, "dup").err().unwrap();
    assert_eq!(
        format!("{err:#}"),
        "the function `dup` does not have the requested type: the result types differ: in result 0: \
         in the value type of a map: type mismatch: expected u32, found a Rust type for u64"
    );
}
