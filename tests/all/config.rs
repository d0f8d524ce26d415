//! Each `Config` switch changes behavior observably.

use super::instantiate;
use weld::{Config, Engine, OptLevel, Trap, WasmBacktrace};

const RECURSE: &str = r#"(module
    (global $depth (mut i32) (i32.const 0))
    (func $f (export "f") global.get $depth i32.const 1 i32.add global.set $depth call $f)
    (func (export "depth") (result i32) global.get $depth))"#;

fn max_depth(config: &Config) -> i32 {
    let engine = Engine::new(config).unwrap();
    let (mut store, instance) = instantiate(&engine, RECURSE);
    let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
    instance.get_typed_func::<(), i32>(&mut store, "depth").unwrap().call(&mut store, ()).unwrap()
}

#[test]
fn max_wasm_stack_limits_recursion() {
    let small = max_depth(Config::new().max_wasm_stack(64 * 1024));
    let large = max_depth(Config::new().max_wasm_stack(256 * 1024));
    assert!(small > 100, "{small}");
    assert!(large > 3 * small, "{small} vs {large}");
}

#[test]
fn wasm_backtrace_can_be_turned_off() {
    for on in [true, false] {
        let engine = Engine::new(Config::new().wasm_backtrace(on)).unwrap();
        let (mut store, instance) = instantiate(&engine, r#"(module (func (export "f") unreachable))"#);
        let err = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap().call(&mut store, ()).unwrap_err();
        assert_eq!(err.downcast_ref::<WasmBacktrace>().is_some(), on);
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached));
    }
}

#[test]
fn explicit_bounds_checks_still_trap() {
    let engine = Engine::new(Config::new().explicit_bounds_checks(true)).unwrap();
    let (mut store, instance) = instantiate(
        &engine,
        r#"(module (memory 1) (func (export "load") (param i32) (result i32) local.get 0 i32.load offset=4))"#,
    );
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    assert_eq!(load.call(&mut store, 65528).unwrap(), 0);
    let err = load.call(&mut store, 65529).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
}

#[test]
fn nan_canonicalization_changes_nan_bits() {
    let wat = r#"(module (func (export "f") (result i32)
        f32.const nan:0x200000 f32.const 1 f32.add i32.reinterpret_f32))"#;
    let bits = |canon: bool| {
        let engine = Engine::new(Config::new().cranelift_nan_canonicalization(canon)).unwrap();
        let (mut store, instance) = instantiate(&engine, wat);
        instance.get_typed_func::<(), i32>(&mut store, "f").unwrap().call(&mut store, ()).unwrap() as u32
    };
    assert_eq!(bits(true), 0x7fc0_0000);
    // Without canonicalization the hardware propagates the payload.
    assert_ne!(bits(false), 0x7fc0_0000);
}

#[test]
fn opt_levels_and_regalloc_checker_compile_correct_code() {
    let wat = r#"(module (func $fib (export "fib") (param i32) (result i32)
        local.get 0 i32.const 2 i32.lt_u
        if (result i32) local.get 0
        else local.get 0 i32.const 1 i32.sub call $fib local.get 0 i32.const 2 i32.sub call $fib i32.add end))"#;
    for level in [OptLevel::None, OptLevel::Speed, OptLevel::SpeedAndSize] {
        for checker in [false, true] {
            let engine = Engine::new(Config::new().cranelift_opt_level(level).regalloc_checker(checker)).unwrap();
            let (mut store, instance) = instantiate(&engine, wat);
            let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib").unwrap();
            assert_eq!(fib.call(&mut store, 20).unwrap(), 6765, "{level:?} checker={checker}");
        }
    }
}

#[test]
fn disabled_features_reject_modules() {
    let engine = Engine::new(Config::new().wasm_multi_memory(false)).unwrap();
    let err = weld::Module::new(&engine, "(module (memory 1) (memory 1))").unwrap_err();
    assert!(format!("{err:?}").contains("multiple memories"), "{err:?}");
}
