//! Resources across the host boundary: guest-defined resources held by the host, host-defined
//! resources held by guests, destructors, borrows and the handle table's traps.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use weld::component::{Component, Linker, Resource, ResourceAny, ResourceType, StoreContextMut, Val};
use weld::{Engine, Store};

/// A component defining resource `r` (rep i32) whose destructor counts drops.
const GUEST_RESOURCE: &str = r#"(component
  (core module $d
    (global $drops (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      (global.set $drops (i32.add (global.get $drops) (i32.const 1))))
    (func (export "drops") (result i32) (global.get $drops)))
  (core instance $d (instantiate $d))
  (type $r' (resource (rep i32) (dtor (core func $d "dtor"))))
  (export $r "r" (type $r'))
  (core func $new (canon resource.new $r))
  (core func $drop (canon resource.drop $r))
  (core func $rep (canon resource.rep $r))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "rep-of") (param i32) (result i32) (local.get 0))
    (func (export "take") (param i32) (result i32) (local.tee 0 (call $rep (local.get 0)))
      (call $drop (i32.const 1)) drop (local.get 0))
    (func (export "bad-rep") (param i32) (result i32) (call $rep (local.get 0))))
  (core instance $m (instantiate $m (with "" (instance
    (export "new" (func $new)) (export "drop" (func $drop)) (export "rep" (func $rep))))))
  (func (export "make") (param "rep" u32) (result (own $r)) (canon lift (core func $m "make")))
  (func (export "rep-of") (param "r" (borrow $r)) (result u32) (canon lift (core func $m "rep-of")))
  (func (export "take") (param "r" (own $r)) (result u32) (canon lift (core func $m "take")))
  (func (export "bad-rep") (param "h" u32) (result u32) (canon lift (core func $m "bad-rep")))
  (func (export "drops") (result u32) (canon lift (core func $d "drops")))
)"#;

fn call(store: &mut Store<()>, instance: &weld::component::Instance, name: &str, args: &[Val]) -> anyhow::Result<Val> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut out = [Val::Bool(false)];
    f.call(&mut *store, args, &mut out)?;
    let [out] = out;
    Ok(out)
}

#[test]
fn guest_resources_held_by_the_host() {
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST_RESOURCE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();

    let Val::Resource(a) = call(&mut store, &instance, "make", &[Val::U32(7)]).unwrap() else { panic!() };
    let Val::Resource(b) = call(&mut store, &instance, "make", &[Val::U32(9)]).unwrap() else { panic!() };
    assert!(a.owned());
    assert!(!a.ty().is_host());
    // A borrow of the instance's own resource reaches it as the rep.
    let borrow = |r: ResourceAny| Val::Resource(r);
    assert_eq!(call(&mut store, &instance, "rep-of", &[borrow(a)]).unwrap(), Val::U32(7));
    // Passing ownership back: the guest's table gets handle 1 again (both were removed when
    // lifted out), it reads the rep and drops it, running the destructor once.
    assert_eq!(call(&mut store, &instance, "take", &[Val::Resource(b)]).unwrap(), Val::U32(9));
    assert_eq!(call(&mut store, &instance, "drops", &[]).unwrap(), Val::U32(1));
    // The host drops the other one: the guest destructor runs.
    a.resource_drop(&mut store).unwrap();
    assert_eq!(call(&mut store, &instance, "drops", &[]).unwrap(), Val::U32(2));
}

#[test]
fn handle_table_traps() {
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST_RESOURCE).unwrap();
    for (arg, message) in [(0, "unknown handle index 0"), (5, "unknown handle index 5")] {
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
        let err = call(&mut store, &instance, "bad-rep", &[Val::U32(arg)]).unwrap_err();
        assert!(format!("{err:?}").contains(message), "{err:?}");
    }
    // A host resource cannot be passed where the guest's own is expected.
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let host = Resource::<u8>::new_own(1).into_any();
    let err = call(&mut store, &instance, "take", &[Val::Resource(host)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource type mismatch: expected a handle to a guest-defined resource, found one to a host-defined resource"
    );
}

/// A component importing host resource `file` with a constructor and a consumer, exporting
/// `run`: it opens two files, passes one back to the host and drops the other itself.
const HOST_RESOURCE: &str = r#"(component
  (import "file" (type $file (sub resource)))
  (import "open" (func $open (param "n" u32) (result (own $file))))
  (import "size" (func $size (param "f" (borrow $file)) (result u32)))
  (import "close" (func $close (param "f" (own $file))))
  (core func $open' (canon lower (func $open)))
  (core func $size' (canon lower (func $size)))
  (core func $close' (canon lower (func $close)))
  (core func $drop (canon resource.drop $file))
  (core module $m
    (import "" "open" (func $open (param i32) (result i32)))
    (import "" "size" (func $size (param i32) (result i32)))
    (import "" "close" (func $close (param i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "run") (result i32)
      (local $a i32) (local $b i32) (local $s i32)
      (local.set $a (call $open (i32.const 10)))
      (local.set $b (call $open (i32.const 20)))
      (local.set $s (call $size (local.get $b)))
      (call $close (local.get $a))
      (call $drop (local.get $b))
      (local.get $s)))
  (core instance $m (instantiate $m (with "" (instance
    (export "open" (func $open')) (export "size" (func $size'))
    (export "close" (func $close')) (export "drop" (func $drop))))))
  (func (export "run") (result u32) (canon lift (core func $m "run")))
)"#;

struct File;

#[test]
fn host_resources_with_destructors_run_once() {
    let engine = Engine::default();
    let component = Component::new(&engine, HOST_RESOURCE).unwrap();
    let dropped = Arc::new(AtomicU32::new(0));
    let closed = Arc::new(AtomicU32::new(0));
    let mut linker = Linker::<Vec<u32>>::new(&engine);
    let mut root = linker.root();
    let d = dropped.clone();
    root.resource("file", ResourceType::host::<File>(), move |mut store, rep| {
        store.data_mut().push(rep);
        d.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
    .unwrap();
    root.func_wrap("open", |_store, (n,): (u32,)| Ok((Resource::<File>::new_own(n),))).unwrap();
    root.func_wrap("size", |_store, (f,): (Resource<File>,)| {
        assert!(!f.owned());
        Ok((f.rep() * 2,))
    })
    .unwrap();
    let c = closed.clone();
    root.func_wrap("close", move |_store, (f,): (Resource<File>,)| {
        assert!(f.owned());
        assert_eq!(f.rep(), 10);
        c.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
    .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_typed_func::<(), (u32,)>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), (40,));
    // The guest dropped file 20 itself: the destructor ran once, for it; file 10 was given
    // back to the host, whose `close` saw it owned.
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    assert_eq!(closed.load(Ordering::SeqCst), 1);
    assert_eq!(store.data(), &[20]);

    // Without the resource defined, instantiation names it.
    let err = Linker::<()>::new(&engine).instantiate(&mut Store::new(&engine, ()), &component).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "import `file` has not been defined: the component expects a resource type; define it with \
             `linker.root().resource(\"file\", ...)`"
        ),
        "{err}"
    );
}

/// An interface that `use`s another's resource imports it as an alias (`(eq ...)`), as every
/// WASI 0.2 component does (`wasi:cli/stdin` re-exports `wasi:io/streams`' `input-stream`): the
/// linker need not define the alias, only the resource where it is first imported.
#[test]
fn an_aliased_resource_in_a_later_import_needs_no_definition() {
    struct R;
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
            (import "a:b/types" (instance $types
                (export "r" (type (sub resource)))))
            (alias export $types "r" (type $r))
            (import "a:b/user" (instance $user
                (alias outer 1 $r (type $outer-r))
                (export "r" (type $user-r (eq $outer-r)))
                (export "make" (func (result (own $user-r))))))
            (alias export $user "make" (func $make))
            (core func $make' (canon lower (func $make)))
            (core module $m
                (import "" "make" (func $make (result i32)))
                (func (export "run") (result i32) (call $make)))
            (core instance $i (instantiate $m (with "" (instance (export "make" (func $make'))))))
            (func (export "run") (result (own $r)) (canon lift (core func $i "run"))))"#,
    )
    .unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.instance("a:b/types").unwrap().resource("r", ResourceType::host::<R>(), |_, _| Ok(())).unwrap();
    linker
        .instance("a:b/user")
        .unwrap()
        .func_wrap("make", |_: StoreContextMut<'_, ()>, (): ()| Ok((Resource::<R>::new_own(42),)))
        .unwrap();
    assert!(linker.unsatisfied_imports(&component).is_empty());
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_typed_func::<(), (Resource<R>,)>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap().0.rep(), 42);
    // The first import of the resource still needs its definition.
    let mut without = Linker::<()>::new(&engine);
    without.instance("a:b/types").unwrap();
    without
        .instance("a:b/user")
        .unwrap()
        .func_wrap("make", |_: StoreContextMut<'_, ()>, (): ()| Ok((Resource::<R>::new_own(1),)))
        .unwrap();
    let missing = without.unsatisfied_imports(&component);
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].0, "a:b/types");
    assert!(missing[0].1.to_string().contains("a:b/types#r"), "{}", missing[0].1);
}
