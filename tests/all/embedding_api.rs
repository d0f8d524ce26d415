//! The embedding API's Wasmtime-shaped entry points: compiling from files, `memory_init_cow`,
//! core `InstancePre`, stand-ins for unknown imports (core and component), imports of types
//! that need no definition and the messages for those that do, export indices, and the types
//! of a component's imports and exports.

use weld::component::types::ComponentItem;
use weld::component::{self, Component, Val};
use weld::{Config, Engine, Linker, Module, Store};

/// A fresh file in the target's temporary directory.
fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("weld-embedding-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn modules_and_components_compile_from_files_binary_or_text() {
    let engine = Engine::default();
    let text = r#"(module (func (export "seven") (result i32) (i32.const 7)))"#;
    let binary = wat::parse_str(text).unwrap();
    for path in [temp_file("seven.wat", text.as_bytes()), temp_file("seven.wasm", &binary)] {
        let module = Module::from_file(&engine, &path).unwrap();
        let (mut store, instance) = {
            let mut store = Store::new(&engine, ());
            let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
            (store, instance)
        };
        let seven = instance.get_typed_func::<(), i32>(&mut store, "seven").unwrap();
        assert_eq!(seven.call(&mut store, ()).unwrap(), 7, "{}", path.display());
    }
    let component = r#"(component
      (core module $m (func (export "f") (result i32) (i32.const 3)))
      (core instance $i (instantiate $m))
      (func (export "three") (result u32) (canon lift (core func $i "f"))))"#;
    let path = temp_file("three.wat", component.as_bytes());
    let component = Component::from_file(&engine, &path).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = component::Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let three = instance.get_typed_func::<(), (u32,)>(&mut store, "three").unwrap();
    assert_eq!(three.call(&mut store, ()).unwrap(), (3,));

    // Errors name the file.
    let missing = std::env::temp_dir().join("weld-no-such-file.wasm");
    let err = Module::from_file(&engine, &missing).unwrap_err();
    assert!(format!("{err:#}").contains("weld-no-such-file.wasm"), "{err:#}");
    let bad = temp_file("bad.wat", b"(module (func (export \"f\") (result i32)))");
    let err = Component::from_file(&engine, &bad).unwrap_err();
    assert!(format!("{err:#}").contains("bad.wat"), "{err:#}");
    let err = Module::from_file(&engine, &bad).unwrap_err();
    assert!(format!("{err:#}").contains("bad.wat") && format!("{err:#}").contains("type mismatch"), "{err:#}");
}

#[test]
fn memory_init_cow_on_and_off_give_the_same_memory() {
    // Two pages of data in several segments (overlapping ones included), enough for an image,
    // and a segment at an offset that is a global, which no image can hold.
    let wat = r#"(module
      (import "env" "base" (global $base i32))
      (memory (export "memory") 2)
      (data (i32.const 0) "start")
      (data (i32.const 4096) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
      (data (i32.const 4100) "overwritten")
      (data (i32.const 70000) "second page")
      (data (global.get $base) "from a global"))"#;
    let contents = |cow: bool| {
        let mut config = Config::new();
        config.memory_init_cow(cow);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let base = weld::Global::new(
            &mut store,
            weld::GlobalType { ty: weld::ValType::I32, mutable: false },
            weld::Val::I32(100),
        )
        .unwrap();
        let mut linker = Linker::new(&engine);
        linker.define(&store, "env", "base", base).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let bytes = memory.data(&store).to_vec();
        // The memory is private to the instance either way: writing does not touch the image.
        memory.data_mut(&mut store)[0] = b'S';
        let again = linker.instantiate(&mut store, &module).unwrap();
        let fresh = again.get_memory(&mut store, "memory").unwrap().data(&store)[0];
        (bytes, fresh)
    };
    let (with_image, fresh_with) = contents(true);
    let (copied, fresh_without) = contents(false);
    assert_eq!(with_image.len(), 2 * 65536);
    assert!(with_image == copied, "the two ways of initializing memory differ");
    assert_eq!(&copied[4096..4100], &[1, 2, 3, 4]);
    assert_eq!(&copied[4100..4111], b"overwritten");
    assert_eq!(&copied[70000..70011], b"second page");
    assert_eq!(&copied[100..113], b"from a global");
    assert_eq!((fresh_with, fresh_without), (b's', b's'));
}

const CORE_IMPORTS: &str = r#"(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "g" (func $g (result i64 f32)))
  (import "env" "counter" (global $c (mut i32)))
  (import "env" "mem" (memory 1))
  (import "env" "tab" (table 2 funcref))
  (func (export "call-f") (param i32) (result i32) (call $f (local.get 0)))
  (func (export "call-g") (result i64 f32) (call $g))
  (func (export "read") (result i32) (i32.add (global.get $c) (i32.add (i32.load (i32.const 0)) (table.size)))))"#;

#[test]
fn core_instance_pre_resolves_once() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func $f (param i32) (result i32)))
        (func (export "run") (param i32) (result i32) (call $f (local.get 0))))"#,
    )
    .unwrap();
    let mut linker = Linker::<u32>::new(&engine);
    let err = linker.instantiate_pre(&module).err().expect("`env::f` is missing");
    assert!(err.to_string().contains("`env::f` has not been defined"), "{err}");
    linker
        .func_wrap("env", "f", |mut caller: weld::Caller<'_, u32>, x: i32| {
            *caller.data_mut() += 1;
            x * 10
        })
        .unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();
    // Later definitions do not change what was resolved.
    linker.allow_shadowing(true);
    linker.func_wrap("env", "f", |x: i32| x).unwrap();
    for n in 1..=3 {
        let mut store = Store::new(&engine, 0u32);
        let instance = pre.clone().instantiate(&mut store).unwrap();
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
        assert_eq!(run.call(&mut store, n).unwrap(), n * 10);
        assert_eq!(*store.data(), 1);
    }
    assert_eq!(pre.module().imports().len(), 1);
}

#[test]
fn core_unknown_imports_become_traps_or_default_values() {
    let engine = Engine::default();
    let module = Module::new(&engine, CORE_IMPORTS).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.define_unknown_imports_as_traps(&module).unwrap();
    // Only functions are stood in for: the global, memory and table are still missing.
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(err.to_string().contains("`env::counter` has not been defined"), "{err}");
    linker.define_unknown_imports_as_default_values(&mut store, &module).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let call_f = instance.get_typed_func::<i32, i32>(&mut store, "call-f").unwrap();
    let err = call_f.call(&mut store, 1).unwrap_err();
    assert!(format!("{err:?}").contains("unknown import `env::f` has not been defined"), "{err:?}");
    let read = instance.get_typed_func::<(), i32>(&mut store, "read").unwrap();
    assert_eq!(read.call(&mut store, ()).unwrap(), 2, "a zero global, a zeroed memory, a table of 2");

    // Default values for functions too, in a linker without the trap stand-ins.
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", |x: i32| x + 1).unwrap();
    linker.define_unknown_imports_as_default_values(&mut store, &module).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let call_f = instance.get_typed_func::<i32, i32>(&mut store, "call-f").unwrap();
    assert_eq!(call_f.call(&mut store, 1).unwrap(), 2, "a defined import is kept");
    let call_g = instance.get_typed_func::<(), (i64, f32)>(&mut store, "call-g").unwrap();
    assert_eq!(call_g.call(&mut store, ()).unwrap(), (0, 0.0));
}

/// A component importing what wit-component worlds import: a type (`point`), an instance of
/// types only, and an interface with a resource, a method and a plain function.
const WORLD: &str = r#"(component
  (type $p (record (field "x" u32) (field "y" u32)))
  (import "point" (type $point (eq $p)))
  (import "docs:types/defs@0.1.0" (instance $defs
    (type $c (enum "red" "green"))
    (export "color" (type (eq $c)))))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (export "output-stream" (type $os (sub resource)))
    (export "[method]output-stream.write" (func (param "self" (borrow $os)) (param "contents" (list u8)) (result u32)))
    (export "ready" (func (result bool)))))
  (alias export $streams "ready" (func $ready))
  (core func $ready' (canon lower (func $ready)))
  (core module $m
    (import "host" "ready" (func $ready (result i32)))
    (func (export "ready") (result i32) (call $ready))
    (func (export "seven") (result i32) (i32.const 7)))
  (core instance $i (instantiate $m (with "host" (instance (export "ready" (func $ready'))))))
  (func (export "seven") (result u32) (canon lift (core func $i "seven")))
  (func (export "ready") (result bool) (canon lift (core func $i "ready"))))"#;

#[test]
fn type_imports_need_no_definition_and_missing_ones_are_named() {
    let engine = Engine::default();
    let component = Component::new(&engine, WORLD).unwrap();
    let mut linker = component::Linker::<()>::new(&engine);
    let mut store = Store::new(&engine, ());
    // The first import that needs a definition is the resource type in `wasi:io/streams`.
    let err = linker.instantiate(&mut store, &component).unwrap_err();
    assert_eq!(
        err.to_string(),
        "import `wasi:io/streams@0.2.0#output-stream` has not been defined: the component expects a \
         resource type; define it with `linker.instance(\"wasi:io/streams@0.2.0\")?.resource(\"output-stream\", ...)`, \
         or let `Linker::define_unknown_imports_as_traps` stand in for it"
    );
    struct Stream;
    let mut streams = linker.instance("wasi:io/streams@0.2.0").unwrap();
    streams.resource("output-stream", component::ResourceType::host::<Stream>(), |_, _| Ok(())).unwrap();
    let err = linker.instantiate_pre(&component).err().expect("the method is missing");
    let message = err.to_string();
    assert!(
        message.starts_with(
            "import `wasi:io/streams@0.2.0#[method]output-stream.write` has not been defined: the component \
             expects a function `func(self: borrow<"
        ),
        "{message}"
    );
    assert!(message.contains("contents: list<u8>) -> u32`"), "{message}");
    assert!(
        message
            .contains("`linker.instance(\"wasi:io/streams@0.2.0\")?.func_wrap(\"[method]output-stream.write\", ...)`"),
        "{message}"
    );
    let mut streams = linker.instance("wasi:io/streams@0.2.0").unwrap();
    streams
        .func_new("[method]output-stream.write", |_, _, _, results| {
            results[0] = Val::U32(0);
            Ok(())
        })
        .unwrap();
    streams.func_wrap("ready", |_, (): ()| Ok((true,))).unwrap();
    // `point` and `docs:types/defs@0.1.0` are types only: nothing more is needed.
    let pre = linker.instantiate_pre(&component).unwrap();
    let instance = pre.instantiate(&mut store).unwrap();
    let ready = instance.get_typed_func::<(), (bool,)>(&mut store, "ready").unwrap();
    assert_eq!(ready.call(&mut store, ()).unwrap(), (true,));

    // A definition of the wrong kind is named too.
    let mut linker = component::Linker::<()>::new(&engine);
    linker.instance("wasi:io/streams@0.2.0").unwrap().func_wrap("output-stream", |_, (): ()| Ok(())).unwrap();
    let err = linker.instantiate(&mut store, &component).unwrap_err();
    assert_eq!(
        err.to_string(),
        "import `wasi:io/streams@0.2.0#output-stream` must be a resource type, but the linker defines a function"
    );
}

#[test]
fn component_unknown_imports_as_traps_and_default_values() {
    let engine = Engine::default();
    let component = Component::new(&engine, WORLD).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = component::Linker::<()>::new(&engine);
    linker.define_unknown_imports_as_traps(&component).unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let seven = instance.get_typed_func::<(), (u32,)>(&mut store, "seven").unwrap();
    assert_eq!(seven.call(&mut store, ()).unwrap(), (7,), "what calls no import works");
    let ready = instance.get_typed_func::<(), (bool,)>(&mut store, "ready").unwrap();
    let err = ready.call(&mut store, ()).unwrap_err();
    assert!(
        format!("{err:?}").contains("unknown import `wasi:io/streams@0.2.0#ready` has not been defined"),
        "{err:?}"
    );

    let mut linker = component::Linker::<()>::new(&engine);
    linker.define_unknown_imports_as_default_values(&component).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let ready = instance.get_typed_func::<(), (bool,)>(&mut store, "ready").unwrap();
    assert_eq!(ready.call(&mut store, ()).unwrap(), (false,));
}

#[test]
fn default_values_of_component_types() {
    use weld::component::InterfaceType as T;
    let cases = [
        (T::U32, Val::U32(0)),
        (T::String, Val::String(String::new())),
        (T::list(T::U8), Val::List(Vec::new())),
        (T::option(T::String), Val::Option(None)),
        (T::result(Some(T::Bool), Some(T::String)), Val::Result(Ok(Some(Box::new(Val::Bool(false)))))),
        (T::enumeration(["b", "a"]), Val::Enum("b".into())),
        (T::variant([("none", None), ("some", Some(T::U8))]), Val::Variant("none".into(), None)),
        (T::variant([("n", Some(T::S64))]), Val::Variant("n".into(), Some(Box::new(Val::S64(0))))),
        (T::flags(["x"]), Val::Flags(Vec::new())),
        (
            T::record([("a", T::Char), ("b", T::F64)]),
            Val::Record(vec![("a".into(), Val::Char('\0')), ("b".into(), Val::Float64(0.0))]),
        ),
        (
            T::tuple([T::S8, T::fixed_list(T::U16, 2)]),
            Val::Tuple(vec![Val::S8(0), Val::List(vec![Val::U16(0), Val::U16(0)])]),
        ),
    ];
    for (ty, expected) in cases {
        let value = Val::default_for(&ty).unwrap();
        assert_eq!(value, expected, "{ty}");
        value.typecheck(&ty).unwrap();
    }
    assert!(Val::default_for(&T::Own(weld::component::ResourceId(0))).is_err());
}

/// A component exporting an interface instance with two functions, and a type.
const EXPORTS: &str = r#"(component
  (core module $m
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "neg") (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0))))
  (core instance $i (instantiate $m))
  (func $add (param "a" s32) (param "b" s32) (result s32) (canon lift (core func $i "add")))
  (func $neg (param "a" s32) (result s32) (canon lift (core func $i "neg")))
  (instance $adder (export "add" (func $add)) (export "neg" (func $neg)))
  (export "docs:adder/add@0.1.0" (instance $adder))
  (type $t (tuple u8 u8))
  (export "pair" (type $t)))"#;

#[test]
fn export_indices_reach_functions_of_exported_interfaces() {
    let engine = Engine::default();
    let component = Component::new(&engine, EXPORTS).unwrap();
    let interface = component.get_export_index(None, "docs:adder/add@0.1.0").unwrap();
    let neg = component.get_export_index(Some(&interface), "neg").unwrap();
    assert!(component.get_export_index(Some(&neg), "x").is_none(), "a function has no exports");
    assert!(component.get_export_index(None, "add").is_none(), "`add` is only inside the interface");
    let pair = component.get_export_index(None, String::from("pair")).unwrap();

    let mut store = Store::new(&engine, ());
    let instance = component::Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let neg_fn = instance.get_typed_func::<(i32,), (i32,)>(&mut store, neg).unwrap();
    assert_eq!(neg_fn.call(&mut store, (5,)).unwrap(), (-5,));
    let step = instance.get_export_index(&store, None, "docs:adder/add@0.1.0").unwrap();
    assert_eq!(step, interface, "the instance gives the component's indices");
    let add = instance.get_export_index(&store, Some(&step), "add").unwrap();
    let add_fn = instance.get_func(&store, add).unwrap();
    let mut out = [Val::S32(0)];
    add_fn.call(&mut store, &[Val::S32(2), Val::S32(3)], &mut out).unwrap();
    assert_eq!(out[0], Val::S32(5));
    assert!(instance.get_func(&store, pair).is_none(), "a type is not a function");
    assert!(instance.get_func(&store, interface).is_none(), "an instance is not a function");
    let err = instance.get_typed_func::<(i32,), (i32,)>(&mut store, add).err().unwrap();
    assert!(format!("{err:#}").contains("`docs:adder/add@0.1.0#add` does not have the requested type"), "{err:#}");

    // An index of another component finds nothing.
    let other = Component::new(&engine, EXPORTS).unwrap();
    let foreign = other.get_export_index(None, "docs:adder/add@0.1.0").unwrap();
    let foreign = other.get_export_index(Some(&foreign), "neg").unwrap();
    assert!(instance.get_func(&store, foreign).is_none());
    assert!(component.get_export_index(Some(&foreign), "neg").is_none());
}

#[test]
fn component_type_describes_imports_and_exports() {
    let engine = Engine::default();
    let component = Component::new(&engine, WORLD).unwrap();
    let ty = component.component_type();
    let imports: Vec<&str> = ty.imports(&engine).map(|(name, _)| name).collect();
    assert_eq!(imports, ["point", "docs:types/defs@0.1.0", "wasi:io/streams@0.2.0"]);
    assert!(matches!(ty.get_import(&engine, "point").unwrap().ty, ComponentItem::Type(_)));
    let Some(ComponentItem::ComponentInstance(streams)) = ty.get_import(&engine, "wasi:io/streams@0.2.0").map(|e| e.ty)
    else {
        panic!("an instance")
    };
    let kinds: Vec<String> = streams
        .exports(&engine)
        .map(|(name, e)| match e.ty {
            ComponentItem::Resource(_) => format!("{name}: resource"),
            ComponentItem::ComponentFunc(f) => format!("{name}: {f}"),
            other => format!("{name}: {other:?}"),
        })
        .collect();
    assert_eq!(kinds[0], "output-stream: resource");
    assert_eq!(kinds[2], "ready: func() -> bool");
    let Some(ComponentItem::ComponentFunc(write)) =
        streams.get_export(&engine, "[method]output-stream.write").map(|e| e.ty)
    else {
        panic!("a function")
    };
    let params: Vec<&str> = write.params().map(|(name, _)| name).collect();
    assert_eq!(params, ["self", "contents"]);
    assert_eq!(write.results().collect::<Vec<_>>(), [weld::component::Type::U32]);

    let component = Component::new(&engine, EXPORTS).unwrap();
    let ty = component.component_type();
    let Some(ComponentItem::ComponentInstance(adder)) = ty.get_export(&engine, "docs:adder/add@0.1.0").map(|e| e.ty)
    else {
        panic!("an instance")
    };
    assert_eq!(adder.exports(&engine).map(|(n, _)| n).collect::<Vec<_>>(), ["add", "neg"]);
    assert!(matches!(ty.get_export(&engine, "pair").unwrap().ty, ComponentItem::Type(_)));
}
