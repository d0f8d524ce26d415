//! Instantiation: imports and their errors, memories, tables, globals, and copy-on-write data.

use super::instantiate;
use weld::*;

#[test]
fn import_errors_say_what_is_wrong() {
    let engine = Engine::default();
    let module =
        Module::new(&engine, r#"(module (import "env" "mem" (memory 2)) (import "env" "f" (func (param i32))))"#)
            .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown import: `env::mem` has not been defined (expected a memory with limits 2.. pages; define it with \
         `linker.define(&store, \"env\", \"mem\", ...)`)"
    );
    let small = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    linker.define(&store, "env", "mem", small).unwrap();
    linker.func_wrap("env", "f", |_: i64| {}).unwrap();
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(
        err.to_string(),
        "incompatible import type for `env::mem`: expected memory with limits 2.. pages, found memory with limits 1.. pages"
    );
    small.grow(&mut store, 1).unwrap();
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(
        err.to_string(),
        "incompatible import type for `env::f`: expected function of type (func (param i32)), found function of type (func (param i64))"
    );
}

#[test]
fn memories_globals_and_tables_are_shared() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(3))).unwrap();
    let global = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(5)).unwrap();
    let table = Table::new(&mut store, TableType::new(RefType::FUNCREF, 2, None), Val::FuncRef(None)).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "mem" (memory 1 3))
            (import "env" "g" (global $g (mut i32)))
            (import "env" "t" (table 2 funcref))
            (func $seven (result i32) i32.const 7)
            (elem (i32.const 1) $seven)
            (func (export "poke") (i32.store8 (i32.const 3) (global.get $g)) (global.set $g (i32.const 9)))
            (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker.define(&store, "env", "mem", memory).unwrap();
    linker.define(&store, "env", "g", global).unwrap();
    linker.define(&store, "env", "t", table).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    instance.get_typed_func::<(), ()>(&mut store, "poke").unwrap().call(&mut store, ()).unwrap();
    assert_eq!(memory.data(&store)[3], 5);
    assert_eq!(global.get(&mut store).i32(), Some(9));
    let seven = table.get(&mut store, 1).unwrap();
    let Val::FuncRef(Some(seven)) = seven else { panic!("expected a function") };
    assert_eq!(seven.typed::<(), i32>(&store).unwrap().call(&mut store, ()).unwrap(), 7);
    let grow = instance.get_typed_func::<(), i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, ()).unwrap(), 1);
    assert_eq!(grow.call(&mut store, ()).unwrap(), 2);
    assert_eq!(grow.call(&mut store, ()).unwrap(), -1);
    assert_eq!(memory.size(&store), 3);
    memory.data_mut(&mut store)[70000] = 1;
}

#[test]
fn copy_on_write_data_is_private_to_each_instance() {
    let engine = Engine::default();
    let wat = format!(
        r#"(module (memory (export "memory") 2) (data (i32.const 100) "{}")
            (func (export "set") (param i32 i32) local.get 0 local.get 1 i32.store8))"#,
        "\\07".repeat(10_000)
    );
    let module = Module::new(&engine, &wat).unwrap();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let a = linker.instantiate(&mut store, &module).unwrap();
    let b = linker.instantiate(&mut store, &module).unwrap();
    let set = a.get_typed_func::<(i32, i32), ()>(&mut store, "set").unwrap();
    set.call(&mut store, (150, 1)).unwrap();
    set.call(&mut store, (70000, 2)).unwrap();
    let ma = a.get_memory(&mut store, "memory").unwrap();
    let mb = b.get_memory(&mut store, "memory").unwrap();
    assert_eq!(ma.data(&store)[150], 1);
    assert_eq!(mb.data(&store)[150], 7);
    assert_eq!(mb.data(&store)[99], 0);
    assert_eq!(mb.data(&store)[10_099], 7);
    assert_eq!(mb.data(&store)[10_100], 0);
    assert_eq!(ma.data(&store)[70000], 2);
}

#[test]
fn failed_segment_initialization_is_a_trap() {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (memory 1) (data (i32.const 65535) "ab"))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine).instantiate(&mut store, &module).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
}

#[test]
fn exports_are_listed_in_order() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(
        &engine,
        r#"(module (func (export "b")) (memory (export "a") 1) (global (export "c") i32 (i32.const 1)))"#,
    );
    let names: Vec<String> = instance.exports(&mut store).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["b", "a", "c"]);
    assert_eq!(instance.get_global(&mut store, "c").unwrap().get(&mut store).i32(), Some(1));
}

#[test]
fn components_are_not_mistaken_for_modules() {
    let engine = Engine::default();
    let err = Module::new(&engine, "(component)").unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected a core module, found a component (compile it with `weld::component::Component::new`)"
    );
}

#[test]
fn components_compile_and_describe_themselves() {
    let engine = Engine::default();
    let bench = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/bench/fused-scalar.wat");
    let component = weld::component::Component::new(&engine, std::fs::read(bench).unwrap()).unwrap();
    assert_eq!(component.num_core_modules(), 2);
    assert_eq!(component.num_fused_calls(), 1);
    assert_eq!(component.exported_functions(), [("run".to_string(), "func(n: u32) -> u32".to_string())]);
    let c = weld::component::Component::new(
        &engine,
        r#"(component (import "log" (func (param "msg" string)))
            (import "i" (instance (export "f" (func)))))"#,
    )
    .unwrap();
    assert_eq!(
        c.imports(),
        [("log".to_string(), "func(msg: string)".to_string()), ("i".to_string(), "instance".to_string())]
    );
    let err = weld::component::Component::new(&engine, "(module)").unwrap_err();
    assert!(format!("{err:#}").contains("expected a component"), "{err:#}");
}

/// Function and tag imports must be of the declared type itself: a type of a recursion group
/// of two is not a host signature of the same shape (which is a type declared alone).
#[test]
fn imports_of_another_recursion_group_are_refused() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", || {}).unwrap();
    let tag = Tag::new(&mut store, &TagType::new(FuncType::new([ValType::I32], []))).unwrap();
    linker.define(&store, "env", "tag", tag).unwrap();

    let grouped_func =
        Module::new(&engine, r#"(module (rec (type $a (func)) (type $b (func))) (import "env" "f" (func (type $a))))"#)
            .unwrap();
    let err = linker.instantiate(&mut store, &grouped_func).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "incompatible import type for `env::f`: expected function of type (func), found one of the same shape \
             but a different type"
        ),
        "{err}"
    );
    let grouped_tag = Module::new(
        &engine,
        r#"(module (rec (type $a (func (param i32))) (type (func))) (import "env" "tag" (tag (type $a))))"#,
    )
    .unwrap();
    let err = linker.instantiate(&mut store, &grouped_tag).unwrap_err().to_string();
    assert!(err.starts_with("incompatible import type for `env::tag`: expected tag with payload"), "{err}");

    // Declared alone, the same shapes link.
    let alone = Module::new(
        &engine,
        r#"(module (type (func)) (type (func (param i32)))
             (import "env" "f" (func (type 0))) (import "env" "tag" (tag (type 1))))"#,
    )
    .unwrap();
    linker.instantiate(&mut store, &alone).unwrap();
}
