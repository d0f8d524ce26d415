//! Traps come back as errors with their code and a wasm backtrace; nothing ends the process.

use super::instantiate;
use weld::{Engine, Trap, Val, WasmBacktrace};

fn trap_of(err: &anyhow::Error) -> Trap {
    *err.downcast_ref::<Trap>().unwrap_or_else(|| panic!("not a trap: {err:?}"))
}

#[test]
fn each_trap_kind_is_reported() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(
        &engine,
        r#"(module
            (memory 1)
            (table 2 funcref)
            (type $t (func (result i32)))
            (func $f (result i64) i64.const 0)
            (elem (i32.const 1) $f)
            (func (export "oob") (result i32) i32.const 65536 i32.load)
            (func (export "unreachable") unreachable)
            (func (export "div0") (result i32) i32.const 1 i32.const 0 i32.div_s)
            (func (export "overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
            (func (export "bad-conversion") (result i32) f32.const nan i32.trunc_f32_s)
            (func (export "null-call") (result i32) i32.const 0 call_indirect (type $t))
            (func (export "bad-signature") (result i32) i32.const 1 call_indirect (type $t))
            (func (export "table-oob") (result i32) i32.const 5 call_indirect (type $t))
            (func $rec (export "recurse") (result i32) call $rec i32.const 1 i32.add))"#,
    );
    let cases = [
        ("oob", Trap::MemoryOutOfBounds),
        ("unreachable", Trap::UnreachableCodeReached),
        ("div0", Trap::IntegerDivisionByZero),
        ("overflow", Trap::IntegerOverflow),
        ("bad-conversion", Trap::BadConversionToInteger),
        ("null-call", Trap::IndirectCallToNull),
        ("bad-signature", Trap::BadSignature),
        ("table-oob", Trap::TableOutOfBounds),
        ("recurse", Trap::StackOverflow),
    ];
    for (name, expected) in cases {
        let f = instance.get_func(&mut store, name).unwrap();
        let mut results = vec![Val::I32(0); f.ty(&store).results().len()];
        let err = f.call(&mut store, &[], &mut results).expect_err(name);
        assert_eq!(trap_of(&err), expected, "{name}: {err:?}");
        assert!(format!("{err:?}").contains(expected.message()), "{name}: {err:?}");
    }
    // The store stays usable after traps.
    let f = instance.get_typed_func::<(), i32>(&mut store, "div0").unwrap();
    assert!(f.call(&mut store, ()).is_err());
}

#[test]
fn backtrace_names_the_frames() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(
        &engine,
        r#"(module $m
            (func $inner (export "run") call $middle)
            (func $middle call $innermost)
            (func $innermost unreachable))"#,
    );
    let run = instance.get_typed_func::<(), ()>(&mut store, "run").unwrap();
    let err = run.call(&mut store, ()).unwrap_err();
    let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    let names: Vec<&str> = bt.frames.iter().map(|f| f.func_name.as_str()).collect();
    assert_eq!(names, ["innermost", "middle", "inner"]);
    assert_eq!(bt.frames[0].module_name.as_deref(), Some("m"));
    assert!(err.to_string().contains("m!innermost"), "{err}");
}

#[test]
fn deep_recursion_in_a_thread_is_a_trap() {
    let engine = Engine::default();
    std::thread::spawn(move || {
        let (mut store, instance) =
            instantiate(&engine, r#"(module (func $f (export "f") (param i64) (result i64) local.get 0 call $f))"#);
        let f = instance.get_typed_func::<i64, i64>(&mut store, "f").unwrap();
        for _ in 0..3 {
            assert_eq!(trap_of(&f.call(&mut store, 1).unwrap_err()), Trap::StackOverflow);
        }
    })
    .join()
    .unwrap();
}

#[test]
fn host_errors_pass_through_wasm() {
    let engine = Engine::default();
    let module = weld::Module::new(
        &engine,
        r#"(module (import "host" "fail" (func $fail (param i32)))
            (func (export "run") (param i32) local.get 0 call $fail))"#,
    )
    .unwrap();
    let mut linker = weld::Linker::new(&engine);
    linker.func_wrap("host", "fail", |x: i32| -> anyhow::Result<()> { anyhow::bail!("host says no to {x}") }).unwrap();
    let mut store = weld::Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<i32, ()>(&mut store, "run").unwrap();
    let err = run.call(&mut store, 7).unwrap_err();
    assert!(format!("{err:?}").contains("host says no to 7"), "{err:?}");
    assert!(err.downcast_ref::<Trap>().is_none());
}

#[test]
fn host_panics_resume_in_the_caller() {
    let engine = Engine::default();
    let module =
        weld::Module::new(&engine, r#"(module (import "host" "boom" (func $b)) (func (export "run") call $b))"#)
            .unwrap();
    let mut linker = weld::Linker::new(&engine);
    linker.func_wrap("host", "boom", || -> () { panic!("boom from the host") }).unwrap();
    let mut store = weld::Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<(), ()>(&mut store, "run").unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.call(&mut store, ()))).unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"boom from the host"));
    // And the store is still usable.
    assert!(run.func().ty(&store).params().len() == 0);
}
