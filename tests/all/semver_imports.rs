//! Imports matched by semver compatibility: a component built against one version of an
//! interface runs on a linker that defines a compatible one (as WASI 0.2.0 components run on a
//! 0.2.x host), an incompatible version stays undefined, and stand-ins for unknown imports
//! fill the compatible instance instead of shadowing it.

use weld::component::{Component, Linker, StoreContextMut};
use weld::{Engine, Store};

/// A component importing `add` and `sub` from `test:x/math@VERSION` and exporting
/// `run(a, b) = add(a, b) * 1000 + sub(a, b)` (sub only when `use_sub`).
fn component(engine: &Engine, version: &str, use_sub: bool) -> Component {
    let body = if use_sub {
        "(i32.add (i32.mul (call $add (local.get 0) (local.get 1)) (i32.const 1000)) (call $sub (local.get 0) (local.get 1)))"
    } else {
        "(i32.mul (call $add (local.get 0) (local.get 1)) (i32.const 1000))"
    };
    let wat = format!(
        r#"(component
            (import "test:x/math@{version}" (instance $math
                (export "add" (func (param "a" u32) (param "b" u32) (result u32)))
                (export "sub" (func (param "a" u32) (param "b" u32) (result u32)))))
            (alias export $math "add" (func $add))
            (alias export $math "sub" (func $sub))
            (core func $add' (canon lower (func $add)))
            (core func $sub' (canon lower (func $sub)))
            (core module $m
                (import "" "add" (func $add (param i32 i32) (result i32)))
                (import "" "sub" (func $sub (param i32 i32) (result i32)))
                (func (export "run") (param i32 i32) (result i32) {body}))
            (core instance $i (instantiate $m (with "" (instance (export "add" (func $add')) (export "sub" (func $sub'))))))
            (func (export "run") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "run"))))"#
    );
    Component::new(engine, wat).expect("the component compiles")
}

/// A linker defining `add` (and `sub` unless `only_add`) in `test:x/math@version`.
fn linker(engine: &Engine, version: &str, only_add: bool) -> Linker<()> {
    let mut linker = Linker::new(engine);
    let mut math = linker.instance(&format!("test:x/math@{version}")).unwrap();
    math.func_wrap("add", |_: StoreContextMut<'_, ()>, (a, b): (u32, u32)| Ok((a + b,))).unwrap();
    if !only_add {
        math.func_wrap("sub", |_: StoreContextMut<'_, ()>, (a, b): (u32, u32)| Ok((a - b,))).unwrap();
    }
    linker
}

fn run(linker: &Linker<()>, component: &Component, engine: &Engine) -> anyhow::Result<u32> {
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, component)?;
    let run = instance.get_typed_func::<(u32, u32), (u32,)>(&mut store, "run")?;
    Ok(run.call(&mut store, (7, 2))?.0)
}

#[test]
fn a_compatible_version_satisfies_an_import() {
    let engine = Engine::default();
    for (import, defined) in [("0.2.0", "0.2.12"), ("0.2.12", "0.2.3"), ("1.0.0", "1.4.2"), ("0.2.1", "0.2.1")] {
        let c = component(&engine, import, true);
        assert_eq!(run(&linker(&engine, defined, false), &c, &engine).unwrap(), 9005, "{import} on {defined}");
    }
}

#[test]
fn an_incompatible_version_does_not() {
    let engine = Engine::default();
    for (import, defined) in [("0.3.0", "0.2.12"), ("2.0.0", "1.4.2"), ("0.0.1", "0.0.2"), ("1.0.0-rc1", "1.0.0")] {
        let c = component(&engine, import, true);
        let err = run(&linker(&engine, defined, false), &c, &engine).unwrap_err();
        assert!(format!("{err:#}").contains(&format!("test:x/math@{import}")), "{import} on {defined}: {err:#}");
    }
}

#[test]
fn stand_ins_fill_the_compatible_instance() {
    let engine = Engine::default();
    // The host defines `add` in 0.2.5; the component imports 0.2.0 and also needs `sub`.
    let mut l = linker(&engine, "0.2.5", true);
    let only_add = component(&engine, "0.2.0", false);
    l.define_unknown_imports_as_traps(&only_add).unwrap();
    assert_eq!(run(&l, &only_add, &engine).unwrap(), 9000, "the host's add is used, not a stand-in");
    let both = component(&engine, "0.2.0", true);
    let err = run(&l, &both, &engine).unwrap_err();
    assert!(format!("{err:#}").contains("unknown import `test:x/math@0.2.0#sub` has not been defined"), "{err:#}");
}

/// Exports are found by semver compatibility too: bindings generated for
/// `wasi:cli/run@0.2.12` find a component's `wasi:cli/run@0.2.0`, and an incompatible version
/// finds nothing.
#[test]
fn exports_are_found_by_compatible_versions() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
            (core module $m (func (export "f") (result i32) i32.const 7))
            (core instance $i (instantiate $m))
            (func $f (result u32) (canon lift (core func $i "f")))
            (instance $api (export "f" (func $f)))
            (export "test:x/api@0.2.0" (instance $api)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    for (version, found) in [("0.2.0", true), ("0.2.12", true), ("0.3.0", false), ("1.2.0", false)] {
        let name = format!("test:x/api@{version}");
        let api = instance.get_export_index(&mut store, None, &name);
        assert_eq!(api.is_some(), found, "{name}");
        if let Some(api) = api {
            let f = instance.get_export_index(&mut store, Some(&api), "f").unwrap();
            let f = instance.get_typed_func::<(), (u32,)>(&mut store, &f).unwrap();
            assert_eq!(f.call(&mut store, ()).unwrap(), (7,));
        }
    }
}
