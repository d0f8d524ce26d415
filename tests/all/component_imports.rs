//! Components provided by the host (`LinkerInstance::component`): the importing component
//! instantiates them with its own arguments, and calls between the two go through fused
//! adapters. Each instantiation is a separate instance with its own state; functions that
//! cross between the two are checked against the receiving side's types at instantiation.

use std::sync::{Arc, Mutex};
use weld::component::{Component, Linker, ResourceAny, Val};
use weld::{Engine, Store};

/// A component exporting `add(a: u32, b: u32) -> u32`, computing `a + b + bias`.
fn adder(bias: u32) -> String {
    format!(
        r#"(component
             (core module $m
               (func (export "add") (param i32 i32) (result i32)
                 (i32.add (i32.add (local.get 0) (local.get 1)) (i32.const {bias}))))
             (core instance $i (instantiate $m))
             (func (export "add") (param "a" u32) (param "b" u32) (result u32)
               (canon lift (core func $i "add"))))"#
    )
}

/// Imports an adder as `lib`, instantiates it and exports `run(n) = add(n, 1)`.
const USES_ADDER: &str = r#"
(component
  (import "lib" (component $Lib
    (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
  (instance $l (instantiate $Lib))
  (core func $add (canon lower (func $l "add")))
  (core module $m
    (import "lib" "add" (func $add (param i32 i32) (result i32)))
    (func (export "run") (param i32) (result i32)
      (call $add (local.get 0) (i32.const 1))))
  (core instance $i (instantiate $m (with "lib" (instance (export "add" (func $add))))))
  (func (export "run") (param "n" u32) (result u32) (canon lift (core func $i "run"))))
"#;

/// Instantiates `component` with `lib` provided at the root, and calls `run(n)`.
fn run_with(component: &Component, lib: &Component, n: u32) -> anyhow::Result<u32> {
    let mut linker = Linker::new(component.engine());
    linker.root().component("lib", lib)?;
    let mut store = Store::new(component.engine(), ());
    let instance = linker.instantiate(&mut store, component)?;
    let run = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "run")?;
    let (out,) = run.call(&mut store, (n,))?;
    Ok(out)
}

#[test]
fn a_provided_component_is_called_through_a_fused_adapter() {
    let engine = Engine::default();
    let main = Component::new(&engine, USES_ADDER).unwrap();
    assert!(main.imports_components());
    assert_eq!(main.imports(), [("lib".to_string(), "component".to_string())]);
    assert_eq!(main.exported_functions(), [("run".to_string(), "func(n: u32) -> u32".to_string())]);
    let lib = Component::new(&engine, adder(0)).unwrap();
    assert!(!lib.imports_components());
    assert_eq!(run_with(&main, &lib, 41).unwrap(), 42);
}

#[test]
fn each_set_of_provided_components_gets_its_own_flattening() {
    let engine = Engine::default();
    let main = Component::new(&engine, USES_ADDER).unwrap();
    let plain = Component::new(&engine, adder(0)).unwrap();
    let biased = Component::new(&engine, adder(100)).unwrap();
    // Alternating between the two checks that a cached flattening is only reused for the
    // same provided component.
    for _ in 0..2 {
        assert_eq!(run_with(&main, &plain, 1).unwrap(), 2);
        assert_eq!(run_with(&main, &biased, 1).unwrap(), 102);
    }
    // A recompiled component is another component, with a flattening of its own.
    let plain_again = Component::new(&engine, adder(0)).unwrap();
    assert_eq!(run_with(&main, &plain_again, 5).unwrap(), 6);
}

#[test]
fn a_provided_component_can_sit_inside_an_imported_instance() {
    let engine = Engine::default();
    let main = Component::new(
        &engine,
        r#"(component
             (import "pkg" (instance $pkg
               (export "lib" (component
                 (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))))
             (alias export $pkg "lib" (component $Lib))
             (instance $l (instantiate $Lib))
             (export "l" (instance $l)))"#,
    )
    .unwrap();
    assert!(main.imports_components());
    let lib = Component::new(&engine, adder(7)).unwrap();
    let mut linker = Linker::new(&engine);
    linker.instance("pkg").unwrap().component("lib", &lib).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &main).unwrap();
    // The provided component's export, re-exported through an instance, is called from the
    // host directly.
    let l = instance.get_export_index(&store, None, "l").unwrap();
    let add = instance.get_export_index(&store, Some(&l), "add").unwrap();
    let add = instance.get_func_by_index(&store, &add).unwrap();
    let mut out = [Val::U32(0)];
    add.call(&mut store, &[Val::U32(1), Val::U32(2)], &mut out).unwrap();
    assert_eq!(out, [Val::U32(10)]);
}

/// A counter component: `bump` increments its own global and logs the new value through
/// its import `log`.
const COUNTER: &str = r#"
(component
  (import "log" (func $log (param "n" u32)))
  (core func $log (canon lower (func $log)))
  (core module $m
    (import "host" "log" (func $log (param i32)))
    (global $count (mut i32) (i32.const 0))
    (func (export "bump") (result i32)
      (global.set $count (i32.add (global.get $count) (i32.const 1)))
      (call $log (global.get $count))
      (global.get $count)))
  (core instance $i (instantiate $m (with "host" (instance (export "log" (func $log))))))
  (func (export "bump") (result u32) (canon lift (core func $i "bump"))))
"#;

#[test]
fn each_instantiation_of_a_provided_component_has_its_own_state() {
    let engine = Engine::default();
    // Instance `a` logs through the host's function, passed on by the importing component;
    // instance `b` logs through a function the importing component lifts itself.
    let main = Component::new(
        &engine,
        r#"(component
             (import "log" (func $log (param "n" u32)))
             (import "counter" (component $C
               (import "log" (func (param "n" u32)))
               (export "bump" (func (result u32)))))
             (instance $a (instantiate $C (with "log" (func $log))))
             (core func $host_log (canon lower (func $log)))
             (core module $own
               (import "host" "log" (func $log (param i32)))
               (func (export "log") (param i32)
                 (call $log (i32.mul (local.get 0) (i32.const 1000)))))
             (core instance $own (instantiate $own (with "host" (instance (export "log" (func $host_log))))))
             (func $own_log (param "n" u32) (canon lift (core func $own "log")))
             (instance $b (instantiate $C (with "log" (func $own_log))))
             (export "a" (instance $a))
             (export "b" (instance $b)))"#,
    )
    .unwrap();
    let counter = Component::new(&engine, COUNTER).unwrap();
    let logged = Arc::new(Mutex::new(Vec::new()));
    let mut linker = Linker::new(&engine);
    let sink = logged.clone();
    linker
        .root()
        .func_wrap("log", move |_, (n,): (u32,)| {
            sink.lock().unwrap().push(n);
            Ok(())
        })
        .unwrap();
    linker.root().component("counter", &counter).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &main).unwrap();
    let bump = |store: &mut Store<()>, inst: &str| -> u32 {
        let parent = instance.get_export_index(&*store, None, inst).unwrap();
        let f = instance.get_export_index(&*store, Some(&parent), "bump").unwrap();
        let f = instance.get_func_by_index(&*store, &f).unwrap();
        let mut out = [Val::U32(0)];
        f.call(&mut *store, &[], &mut out).unwrap();
        match out[0] {
            Val::U32(n) => n,
            ref other => panic!("unexpected result {other:?}"),
        }
    };
    assert_eq!(bump(&mut store, "a"), 1);
    assert_eq!(bump(&mut store, "a"), 2);
    assert_eq!(bump(&mut store, "b"), 1);
    assert_eq!(bump(&mut store, "a"), 3);
    assert_eq!(*logged.lock().unwrap(), [1, 2, 1000, 3]);
}

/// The fields of a core module with an exported memory `mem` and a bump allocator `realloc`
/// (which copies the old contents when it moves an allocation).
macro_rules! memory_and_realloc {
    () => {
        r#"
    (memory (export "mem") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $ret i32)
      (local.set $ret (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get $align))))
      (global.set $heap (i32.add (local.get $ret) (local.get $size)))
      (if (local.get $old)
        (then (memory.copy (local.get $ret) (local.get $old)
                (select (local.get $old_size) (local.get $size) (i32.lt_u (local.get $old_size) (local.get $size))))))
      (local.get $ret))"#
    };
}

/// A component whose `echo(s: string) -> string` returns its argument, with UTF-16 strings
/// and a bump allocator.
const ECHO_UTF16: &str = concat!(
    r#"
(component
  (core module $m"#,
    memory_and_realloc!(),
    r#"
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory (core memory $i "mem"))
      (realloc (core func $i "realloc")) string-encoding=utf16)))
"#
);

#[test]
fn strings_cross_to_a_provided_component_with_another_encoding() {
    let engine = Engine::default();
    // The importing component's `run` is the same echo, in UTF-8, passing the string on to
    // the provided component and its result back.
    let main = Component::new(
        &engine,
        concat!(
            r#"(component
             (import "lib" (component $Lib (export "echo" (func (param "s" string) (result string)))))
             (instance $l (instantiate $Lib))
             (core module $mem"#,
            memory_and_realloc!(),
            r#")
             (core instance $mem (instantiate $mem))
             (core func $echo (canon lower (func $l "echo") (memory (core memory $mem "mem"))
               (realloc (core func $mem "realloc"))))
             (core module $m
               (import "lib" "echo" (func $echo (param i32 i32 i32)))
               (func (export "run") (param i32 i32) (result i32)
                 (call $echo (local.get 0) (local.get 1) (i32.const 8))
                 (i32.const 8)))
             (core instance $i (instantiate $m (with "lib" (instance (export "echo" (func $echo))))))
             (func (export "run") (param "s" string) (result string)
               (canon lift (core func $i "run") (memory (core memory $mem "mem"))
                 (realloc (core func $mem "realloc")))))"#
        ),
    )
    .unwrap();
    let lib = Component::new(&engine, ECHO_UTF16).unwrap();
    let mut linker = Linker::new(&engine);
    linker.root().component("lib", &lib).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &main).unwrap();
    let run = instance.get_typed_func::<(&str,), (String,)>(&mut store, "run").unwrap();
    for s in ["", "hello", "größer 🦀 ✓"] {
        let (out,) = run.call(&mut store, (s,)).unwrap();
        assert_eq!(out, s);
    }
}

/// A component defining resource `r`, with `make(v) -> own<r>` and `get(borrow<r>) -> u32`.
const RESOURCE_LIB: &str = r#"
(component
  (type $r (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (core func $rep (canon resource.rep $r))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    ;; A borrow of its own resource reaches the defining component as the representation.
    (func (export "get") (param i32) (result i32) (local.get 0))
    (func (export "rep") (param i32) (result i32) (call $rep (local.get 0))))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new)) (export "rep" (func $rep))))))
  (export $R "r" (type $r))
  (func (export "make") (param "v" u32) (result (own $R)) (canon lift (core func $i "make")))
  (func (export "get") (param "h" (borrow $R)) (result u32) (canon lift (core func $i "get"))))
"#;

/// The import of a component `lib` exporting resource `r`, `make(v) -> own<r>` and
/// `get(borrow<r>) -> u32` (`RESOURCE_LIB`'s type).
macro_rules! import_resource_lib {
    () => {
        r#"(import "lib" (component $Lib
               (export "r" (type $r (sub resource)))
               (export "make" (func (param "v" u32) (result (own $r))))
               (export "get" (func (param "h" (borrow $r)) (result u32)))))"#
    };
}

#[test]
fn resources_of_a_provided_component_flow_to_the_importing_one() {
    let engine = Engine::default();
    // `run(v)` makes a resource in the provided component, reads it back through a borrow
    // and drops it; `keep(v)` hands the owned handle to the host.
    let main = Component::new(
        &engine,
        concat!(
            "(component ",
            import_resource_lib!(),
            r#"
             (instance $l (instantiate $Lib))
             (alias export $l "r" (type $r))
             (core func $make (canon lower (func $l "make")))
             (core func $get (canon lower (func $l "get")))
             (core func $drop (canon resource.drop $r))
             (core module $m
               (import "lib" "make" (func $make (param i32) (result i32)))
               (import "lib" "get" (func $get (param i32) (result i32)))
               (import "lib" "drop" (func $drop (param i32)))
               (func (export "run") (param i32) (result i32)
                 (local $h i32) (local $v i32)
                 (local.set $h (call $make (local.get 0)))
                 (local.set $v (call $get (local.get $h)))
                 (call $drop (local.get $h))
                 (local.get $v))
               (func (export "keep") (param i32) (result i32) (call $make (local.get 0))))
             (core instance $i (instantiate $m (with "lib" (instance
               (export "make" (func $make)) (export "get" (func $get)) (export "drop" (func $drop))))))
             (export $R "r" (type $r))
             (func (export "run") (param "v" u32) (result u32) (canon lift (core func $i "run")))
             (func (export "keep") (param "v" u32) (result (own $R)) (canon lift (core func $i "keep")))
             (export "lib" (instance $l)))"#
        ),
    )
    .unwrap();
    let lib = Component::new(&engine, RESOURCE_LIB).unwrap();
    assert_eq!(run_with(&main, &lib, 77).unwrap(), 77);

    let mut linker = Linker::new(&engine);
    linker.root().component("lib", &lib).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &main).unwrap();
    let keep = instance.get_typed_func::<(u32,), (ResourceAny,)>(&mut store, "keep").unwrap();
    let (handle,) = keep.call(&mut store, (5,)).unwrap();
    // The handle the importing component passes on is one of the provided component's `r`:
    // its `get`, called directly by the host, reads it.
    let lib_inst = instance.get_export_index(&store, None, "lib").unwrap();
    let get = instance.get_export_index(&store, Some(&lib_inst), "get").unwrap();
    let get = instance.get_func_by_index(&store, &get).unwrap();
    let mut out = [Val::U32(0)];
    get.call(&mut store, &[Val::Resource(handle)], &mut out).unwrap();
    assert_eq!(out, [Val::U32(5)]);
    handle.resource_drop(&mut store).unwrap();
}

#[test]
fn a_resource_type_is_learned_from_the_functions_that_use_it() {
    // The importing component never aliases the resource type: the type of `make` and `get`
    // as it sees them name a resource of the instance it only knows through them.
    let engine = Engine::default();
    let main = Component::new(
        &engine,
        concat!(
            "(component ",
            import_resource_lib!(),
            r#"
             (instance $l (instantiate $Lib))
             (core func $make (canon lower (func $l "make")))
             (core func $get (canon lower (func $l "get")))
             (core module $m
               (import "lib" "make" (func $make (param i32) (result i32)))
               (import "lib" "get" (func $get (param i32) (result i32)))
               (func (export "run") (param i32) (result i32) (call $get (call $make (local.get 0)))))
             (core instance $i (instantiate $m (with "lib" (instance (export "make" (func $make)) (export "get" (func $get))))))
             (func (export "run") (param "v" u32) (result u32) (canon lift (core func $i "run"))))"#
        ),
    )
    .unwrap();
    let lib = Component::new(&engine, RESOURCE_LIB).unwrap();
    assert_eq!(run_with(&main, &lib, 9).unwrap(), 9);
}

/// The error of instantiating `USES_ADDER`-like `main` with `lib`, in full.
fn link_error(main: &str, lib: &str) -> String {
    let engine = Engine::default();
    let main = Component::new(&engine, main).unwrap();
    let lib = Component::new(&engine, lib).unwrap();
    format!("{:#}", run_with(&main, &lib, 0).unwrap_err())
}

#[test]
fn a_provided_component_of_the_wrong_type_is_refused() {
    let signed = r#"(component
        (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
        (core instance $i (instantiate $m))
        (func (export "add") (param "a" s32) (param "b" s32) (result s32) (canon lift (core func $i "add"))))"#;
    assert_eq!(
        link_error(USES_ADDER, signed),
        "export `add` of the component provided for import `lib` has the wrong type: \
         expected `func(a: u32, b: u32) -> u32`, found `func(a: s32, b: s32) -> s32`"
    );
    let renamed = adder(0).replace(r#"(param "b" u32)"#, r#"(param "c" u32)"#);
    assert_eq!(
        link_error(USES_ADDER, &renamed),
        "export `add` of the component provided for import `lib` has the wrong type: \
         expected `func(a: u32, b: u32) -> u32`, found `func(a: u32, c: u32) -> u32`"
    );
    let missing = adder(0).replace(r#"(func (export "add") (param "a""#, r#"(func (export "plus") (param "a""#);
    assert_eq!(link_error(USES_ADDER, &missing), "the component provided for import `lib` has no export named `add`");
    let not_a_func = r#"(component (instance (export "add")))"#;
    assert_eq!(
        link_error(USES_ADDER, not_a_func),
        "`add` of the component provided for import `lib` is not a function"
    );
    // The provided component needs an argument the importing component does not give.
    assert_eq!(
        link_error(USES_ADDER, &adder(0).replacen("(component", r#"(component (import "x" (func))"#, 1)),
        "instantiating the component provided for import `lib`: missing instantiation argument `x`"
    );
}

#[test]
fn arguments_given_to_a_provided_component_are_checked_against_its_imports() {
    let engine = Engine::default();
    let main = Component::new(
        &engine,
        r#"(component
             (import "log" (func $log (param "n" u32)))
             (import "counter" (component $C (import "log" (func (param "n" u32)))))
             (instance (instantiate $C (with "log" (func $log)))))"#,
    )
    .unwrap();
    // The counter declares `log` with a signed parameter: the argument does not fit.
    let counter = Component::new(&engine, COUNTER.replace(r#"(param "n" u32)"#, r#"(param "n" s32)"#)).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.root().func_new("log", |_, _, _, _| Ok(())).unwrap();
    linker.root().component("counter", &counter).unwrap();
    let mut store = Store::new(&engine, ());
    let err = linker.instantiate(&mut store, &main).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "instantiating the component provided for import `counter`: argument `log` has the wrong type: \
         expected `func(n: s32)`, found `func(n: u32)`"
    );
}

#[test]
fn a_missing_or_wrong_definition_is_named() {
    let engine = Engine::default();
    let main = Component::new(&engine, USES_ADDER).unwrap();
    let mut store = Store::new(&engine, ());
    let err = Linker::<()>::new(&engine).instantiate(&mut store, &main).unwrap_err();
    assert_eq!(format!("{err:#}"), "import `lib` has not been defined");
    let mut linker = Linker::<()>::new(&engine);
    linker.root().func_new("lib", |_, _, _, _| Ok(())).unwrap();
    let err = linker.instantiate(&mut store, &main).unwrap_err();
    assert_eq!(format!("{err:#}"), "import `lib` must be a component, but it is a function");
    let other_engine = Engine::default();
    let lib = Component::new(&other_engine, adder(0)).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.root().component("lib", &lib).unwrap();
    let err = linker.instantiate(&mut store, &main).unwrap_err();
    assert_eq!(format!("{err:#}"), "the component provided for import `lib` was compiled with a different engine");
}

/// Imports `lib` with a resource `r` and `make(v) -> own<r>`, aliasing `r` before `make` if
/// `alias_first`, and exports `run(v)`, which makes one and drops it.
fn uses_resource(alias_first: bool) -> String {
    let alias = r#"(alias export $l "r" (type $r))"#;
    let make = r#"(alias export $l "make" (func $make))"#;
    let (first, second) = if alias_first { (alias, make) } else { (make, alias) };
    format!(
        r#"(component
             (import "lib" (component $Lib
               (export "r" (type $r (sub resource)))
               (export "make" (func (param "v" u32) (result (own $r))))))
             (instance $l (instantiate $Lib))
             {first}
             {second}
             (core func $make (canon lower (func $make)))
             (core func $drop (canon resource.drop $r))
             (core module $m
               (import "lib" "make" (func $make (param i32) (result i32)))
               (import "lib" "drop" (func $drop (param i32)))
               (func (export "run") (param i32) (result i32)
                 (call $drop (call $make (local.get 0)))
                 (local.get 0)))
             (core instance $i (instantiate $m (with "lib" (instance (export "make" (func $make)) (export "drop" (func $drop))))))
             (func (export "run") (param "v" u32) (result u32) (canon lift (core func $i "run"))))"#
    )
}

/// A library with two resources: it exports `a` as `r`, but its `make` returns a `b`.
const TWO_RESOURCES: &str = r#"
(component
  (type $a (resource (rep i32)))
  (type $b (resource (rep i32)))
  (core func $new (canon resource.new $b))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0))))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
  (export $R "r" (type $a))
  (export $B "b" (type $b))
  (func (export "make") (param "v" u32) (result (own $B)) (canon lift (core func $i "make"))))
"#;

#[test]
fn resource_types_of_a_provided_component_are_checked() {
    let engine = Engine::default();
    let lib = Component::new(&engine, RESOURCE_LIB).unwrap();
    for alias_first in [true, false] {
        let main = Component::new(&engine, uses_resource(alias_first)).unwrap();
        assert_eq!(run_with(&main, &lib, 3).unwrap(), 3);
    }
    assert_eq!(
        link_error(&uses_resource(true), TWO_RESOURCES),
        "export `make` of the component provided for import `lib` has the wrong type: \
         expected `func(v: u32) -> own<resource-0>`, found `func(v: u32) -> own<resource-1>`"
    );
    assert_eq!(
        link_error(&uses_resource(false), TWO_RESOURCES),
        "`r` of the component provided for import `lib` is not the resource type the functions using it have"
    );
    let not_a_resource = r#"(component
        (type $t (record (field "x" u32)))
        (export "r" (type $t))
        (core module $m (func (export "make") (param i32) (result i32) (local.get 0)))
        (core instance $i (instantiate $m))
        (func (export "make") (param "v" u32) (result u32) (canon lift (core func $i "make"))))"#;
    assert_eq!(
        link_error(&uses_resource(true), not_a_resource),
        "`r` of the component provided for import `lib` is not a resource type"
    );
}

#[test]
fn instance_pre_links_once_for_many_instantiations() {
    let engine = Engine::default();
    let main = Component::new(&engine, USES_ADDER).unwrap();
    assert_eq!(main.num_fused_calls(), 0, "an importer of components is flattened when linked");
    let lib = Component::new(&engine, adder(10)).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.allow_shadowing(true);
    linker.root().component("lib", &lib).unwrap();
    let pre = linker.instantiate_pre(&main).unwrap();
    assert_eq!(pre.num_fused_calls(), 1);
    // Redefining `lib` afterwards changes nothing for `pre`.
    linker.root().component("lib", &Component::new(&engine, adder(1000)).unwrap()).unwrap();
    for n in [1, 2] {
        let mut store = Store::new(&engine, ());
        let instance = pre.clone().instantiate(&mut store).unwrap();
        let run = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "run").unwrap();
        assert_eq!(run.call(&mut store, (n,)).unwrap(), (n + 11,));
    }
    assert_eq!(run_with(&main, &Component::new(&engine, adder(1000)).unwrap(), 1).unwrap(), 1002);
    // Resolution errors come from `instantiate_pre` itself.
    let err = Linker::<()>::new(&engine).instantiate_pre(&main).err().unwrap();
    assert_eq!(format!("{err:#}"), "import `lib` has not been defined");
}
