//! Core modules provided by the host (`LinkerInstance::module`): a component instantiates
//! them with its own arguments and lifts their exports; the host's module may import less and
//! export more than the component's type for it says; anything else is refused at
//! instantiation, with a message that names the module and the item.

use weld::component::{Component, Linker, Val};
use weld::{Engine, Module, Store};

/// The type the components below give the host's module `m`.
macro_rules! module_type {
    () => {
        r#"(core type $mt (module
             (import "host" "base" (func (result i32)))
             (export "double" (func (param i32) (result i32)))
             (export "mem" (memory 1))))"#
    };
}

/// Instantiates `$m` with a `base` returning `$base`, and lifts its `double` as `run`.
macro_rules! run_of_m {
    ($base:literal) => {
        concat!(
            r#"(core module $base' (func (export "base") (result i32) (i32.const "#,
            $base,
            r#")))
               (core instance $base (instantiate $base'))
               (core instance $i (instantiate $m (with "host" (instance $base))))
               (func (export "run") (param "x" u32) (result u32)
                 (canon lift (core func $i "double") (memory (core memory $i "mem"))))"#
        )
    };
}

/// A component that imports core module `m` (exporting `double` and `mem`, importing
/// `host::base`), instantiates it with its own `base`, and lifts `double` as `run`.
const COMPONENT: &str =
    concat!("(component ", module_type!(), r#"(import "m" (core module $m (type $mt)))"#, run_of_m!("100"), ")");

/// The host's module: `double(x) = 2x + base()`.
const MODULE: &str = r#"
(module
  (import "host" "base" (func $base (result i32)))
  (memory (export "mem") 1)
  (func (export "double") (param i32) (result i32)
    (i32.add (i32.mul (local.get 0) (i32.const 2)) (call $base))))
"#;

/// Instantiates `component` with core module `module` defined as `m` (at the root, or in
/// instance `inst` when given), returning the error if instantiation fails.
fn instantiate_with(
    component: &str,
    module: &str,
    inst: Option<&str>,
) -> anyhow::Result<(Store<()>, weld::component::Instance)> {
    let engine = Engine::default();
    let component = Component::new(&engine, component)?;
    let module = Module::new(&engine, module)?;
    let mut linker = Linker::new(&engine);
    match inst {
        Some(name) => linker.instance(name)?.module("m", &module)?,
        None => linker.root().module("m", &module)?,
    }
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component)?;
    Ok((store, instance))
}

fn run(store: &mut Store<()>, instance: &weld::component::Instance, x: u32) -> Val {
    let f = instance.get_func(&mut *store, "run").expect("run is exported");
    let mut results = [Val::Bool(false)];
    f.call(&mut *store, &[Val::U32(x)], &mut results).expect("run succeeds");
    let [r] = results;
    r
}

#[test]
fn host_module_is_instantiated_with_the_components_arguments() {
    let (mut store, instance) = instantiate_with(COMPONENT, MODULE, None).unwrap();
    assert_eq!(run(&mut store, &instance, 21), Val::U32(142));
}

#[test]
fn host_module_may_import_less_and_export_more() {
    let module = r#"
    (module
      (memory (export "mem") 1)
      (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
      (func (export "extra")))"#;
    let (mut store, instance) = instantiate_with(COMPONENT, module, None).unwrap();
    assert_eq!(run(&mut store, &instance, 21), Val::U32(42));
}

#[test]
fn host_module_from_an_imported_instance() {
    let component = concat!(
        "(component ",
        module_type!(),
        r#"(import "lib" (instance $lib (export "m" (core module (type $mt)))))
           (alias export $lib "m" (core module $m))"#,
        run_of_m!("7"),
        ")"
    );
    let (mut store, instance) = instantiate_with(component, MODULE, Some("lib")).unwrap();
    assert_eq!(run(&mut store, &instance, 1), Val::U32(9));
}

#[test]
fn host_module_passed_to_a_nested_component() {
    let component = concat!(
        "(component ",
        module_type!(),
        r#"(import "m" (core module $m (type $mt)))
           (component $inner "#,
        module_type!(),
        r#"(import "m" (core module $m (type $mt)))"#,
        run_of_m!("1000"),
        r#")
           (instance $inner (instantiate $inner (with "m" (core module $m))))
           (export "run" (func $inner "run")))"#
    );
    let (mut store, instance) = instantiate_with(component, MODULE, None).unwrap();
    assert_eq!(run(&mut store, &instance, 3), Val::U32(1006));
}

#[test]
fn host_module_errors_name_the_module_and_the_item() {
    let cases = [
        (
            // No `double` at all.
            r#"(module (memory (export "mem") 1))"#,
            "core module `m` must export `double`, a function of type (func (param i32) (result i32)), but it does not",
        ),
        (
            // `double` of another type.
            r#"(module (memory (export "mem") 1) (func (export "double") (param i64) (result i32) (i32.const 0)))"#,
            "core module `m`: export `double` must be a function of type (func (param i32) (result i32)), \
             but it is a function of type (func (param i64) (result i32))",
        ),
        (
            // An import the component does not pass.
            r#"(module (import "host" "other" (func)) (memory (export "mem") 1)
                 (func (export "double") (param i32) (result i32) (local.get 0)))"#,
            "core module `m` imports `host::other`, which the component does not pass it",
        ),
        (
            // An import of another type than the component passes.
            r#"(module (import "host" "base" (func (result i64))) (memory (export "mem") 1)
                 (func (export "double") (param i32) (result i32) (local.get 0)))"#,
            "core module `m`: import `host::base` must be a function of type (func (result i64)), \
             but the component passes a function of type (func (result i32))",
        ),
    ];
    for (module, expected) in cases {
        let err = instantiate_with(COMPONENT, module, None).err().expect("instantiation fails");
        assert_eq!(format!("{err:#}"), expected);
    }
    // Not defined, and defined as something else.
    let engine = Engine::default();
    let component = Component::new(&engine, COMPONENT).unwrap();
    let err = Linker::new(&engine).instantiate(&mut Store::new(&engine, ()), &component).err().unwrap();
    assert_eq!(
        format!("{err:#}"),
        "import `m` has not been defined: the component expects a core module; define it with \
         `linker.root().module(\"m\", ...)`"
    );
    let mut linker = Linker::new(&engine);
    linker.root().func_new("m", |_, _, _, _| Ok(())).unwrap();
    let err = linker.instantiate(&mut Store::new(&engine, ()), &component).err().unwrap();
    assert_eq!(format!("{err:#}"), "import `m` must be a core module, but the linker defines a function");
}
