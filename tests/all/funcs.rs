//! Calls from the host: typed and dynamic, argument checking, host functions and callers.

use super::instantiate;
use weld::{Caller, Engine, FuncType, Linker, Module, Store, Val, ValType};

const ADD: &str = r#"(module (func (export "add") (param i32 i64) (result i64)
    local.get 0 i64.extend_i32_s local.get 1 i64.add))"#;

#[test]
fn dynamic_calls_check_arguments() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(&engine, ADD);
    let add = instance.get_func(&mut store, "add").unwrap();
    let mut out = [Val::I64(0)];
    add.call(&mut store, &[Val::I32(-2), Val::I64(5)], &mut out).unwrap();
    assert_eq!(out[0].i64(), Some(3));
    let err = add.call(&mut store, &[Val::I32(1)], &mut out).unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected 2 arguments for a function of type (func (param i32 i64) (result i64)), got 1"
    );
    let err = add.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut out).unwrap_err();
    assert_eq!(
        err.to_string(),
        "argument 1 of a function of type (func (param i32 i64) (result i64)) must be i64, got i32"
    );
}

#[test]
fn typed_views_are_checked() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(&engine, ADD);
    let add = instance.get_typed_func::<(i32, i64), i64>(&mut store, "add").unwrap();
    assert_eq!(add.call(&mut store, (40, 2)).unwrap(), 42);
    let err = instance.get_typed_func::<(i32, i32), i64>(&mut store, "add").err().unwrap();
    assert!(format!("{err:#}").contains("the function has type (func (param i32 i64) (result i64)), but the typed view asks for (func (param i32 i32) (result i64))"), "{err:#}");
    let err = instance.get_typed_func::<(), ()>(&mut store, "missing").err().unwrap();
    assert_eq!(err.to_string(), "no exported function named `missing`");
}

#[test]
fn host_functions_see_their_caller() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "sum" (func $sum (param i32 i32) (result i32)))
            (import "host" "scale" (func $scale (param f64) (result f64 f64)))
            (memory (export "memory") 1)
            (data (i32.const 16) "\01\02\03\04")
            (func (export "run") (result i32) i32.const 16 i32.const 4 call $sum)
            (func (export "scale") (param f64) (result f64 f64) local.get 0 call $scale))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "sum", |mut caller: Caller<'_, u32>, ptr: i32, len: i32| -> i32 {
            *caller.data_mut() += 1;
            let memory = caller.get_export("memory").unwrap().into_memory().unwrap();
            memory.data(&caller)[ptr as usize..(ptr + len) as usize].iter().map(|b| i32::from(*b)).sum()
        })
        .unwrap();
    let ty = FuncType::new([ValType::F64], [ValType::F64, ValType::F64]);
    linker
        .func_new("host", "scale", ty, |_caller, params, results| {
            let x = params[0].f64().unwrap();
            results[0] = Val::from(x * 2.0);
            results[1] = Val::from(x * 3.0);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, 0u32);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<(), i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 10);
    assert_eq!(*store.data(), 1);
    let scale = instance.get_typed_func::<f64, (f64, f64)>(&mut store, "scale").unwrap();
    assert_eq!(scale.call(&mut store, 1.5).unwrap(), (3.0, 4.5));
}

#[test]
fn host_function_results_are_type_checked() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "h" "f" (func $f (result i32))) (func (export "run") (result i32) call $f))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_new("h", "f", FuncType::new([], [ValType::I32]), |_, _, results| {
            results[0] = Val::I64(1);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let err = instance.get_typed_func::<(), i32>(&mut store, "run").unwrap().call(&mut store, ()).unwrap_err();
    assert!(format!("{err:?}").contains("host function returned a i64 as result 0"), "{err:?}");
}

#[test]
fn many_parameters_and_results() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(
        &engine,
        r#"(module (func (export "swap") (param i32 i64 f32 f64 i32 i64 f32 f64 i32 i32)
            (result i32 i32 f64 f32 i64 i32 f64 f32 i64 i32)
            local.get 9 local.get 8 local.get 7 local.get 6 local.get 5
            local.get 4 local.get 3 local.get 2 local.get 1 local.get 0))"#,
    );
    let f = instance.get_func(&mut store, "swap").unwrap();
    let params = [
        Val::I32(1),
        Val::I64(2),
        Val::from(3.0f32),
        Val::from(4.0f64),
        Val::I32(5),
        Val::I64(6),
        Val::from(7.0f32),
        Val::from(8.0f64),
        Val::I32(9),
        Val::I32(10),
    ];
    let mut results = vec![Val::I32(0); 10];
    f.call(&mut store, &params, &mut results).unwrap();
    assert_eq!(results[0].i32(), Some(10));
    assert_eq!(results[2].f64(), Some(8.0));
    assert_eq!(results[8].i64(), Some(2));
    assert_eq!(results[9].i32(), Some(1));
}

/// Seventeen results are more than the calling convention has return registers of either class:
/// the rest travel through a return area, which every way into and out of wasm must agree on.
#[test]
fn more_results_than_return_registers() {
    type Seventeen = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f64, f64, f64, f64, f64);
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (type $many (func (param i64) (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64
                                                  f64 f64 f64 f64 f64)))
            (import "host" "typed" (func $typed (type $many)))
            (import "host" "dynamic" (func $dynamic (type $many)))
            (func $own (export "many") (type $many)
                (local.get 0) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5) (i64.const 6)
                (i64.const 7) (i64.const 8) (i64.const 9) (i64.const 10) (i64.const 11) (i64.const 12)
                (f64.const 13) (f64.const 14) (f64.const 15) (f64.const 16)
                (f64.convert_i64_s (local.get 0)))
            (func $sum (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 f64 f64 f64 f64 f64)
                       (result f64)
                (local $i i64) (local $f f64)
                (i64.add (local.get 0) (local.get 1)) (local.set $i)
                (i64.add (local.get $i) (i64.mul (local.get 11) (i64.const 100))) (local.set $i)
                (f64.add (local.get 12) (f64.mul (local.get 16) (f64.const 1000)))
                (f64.convert_i64_s (local.get $i))
                (f64.add))
            (func (export "sum_own") (param i64) (result f64) (call $sum (call $own (local.get 0))))
            (func (export "sum_typed") (param i64) (result f64) (call $sum (call $typed (local.get 0))))
            (func (export "sum_dynamic") (param i64) (result f64) (call $sum (call $dynamic (local.get 0))))
            (func (export "forward") (type $many) (return_call $typed (local.get 0))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "typed", |x: i64| -> Seventeen {
            (x, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 1.5, 2.5, 3.5, 4.5, x as f64 * 2.0)
        })
        .unwrap();
    let many = FuncType::new([ValType::I64], [[ValType::I64; 12].as_slice(), &[ValType::F64; 5]].concat());
    linker
        .func_new("host", "dynamic", many, |_, params, results| {
            let x = params[0].i64().unwrap();
            for (i, r) in results.iter_mut().enumerate() {
                *r = if i < 12 { Val::I64(x * (i as i64 + 1)) } else { Val::from(i as f64) };
            }
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();

    // wasm -> wasm, wasm -> typed host, wasm -> dynamic host: (r0 + r1 + 100 * r11) + r12 + 1000 * r16.
    let sum = |store: &mut Store<()>, name: &str, x: i64| {
        instance.get_typed_func::<i64, f64>(&mut *store, name).unwrap().call(store, x).unwrap()
    };
    assert_eq!(sum(&mut store, "sum_own", 7), (7 + 2 + 1200) as f64 + 13.0 + 7000.0);
    assert_eq!(sum(&mut store, "sum_typed", 7), (7 + 20 + 12000) as f64 + 1.5 + 14000.0);
    assert_eq!(sum(&mut store, "sum_dynamic", 7), (7 + 14 + 8400) as f64 + 12.0 + 16000.0);

    // host -> wasm, typed and dynamic, and a tail call that hands the return area on.
    let typed = instance.get_typed_func::<i64, Seventeen>(&mut store, "many").unwrap();
    let r = typed.call(&mut store, 5).unwrap();
    let ints = [r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11];
    assert_eq!(ints, [5, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert_eq!([r.12, r.13, r.14, r.15, r.16], [13.0, 14.0, 15.0, 16.0, 5.0]);
    let forward = instance.get_typed_func::<i64, Seventeen>(&mut store, "forward").unwrap();
    assert_eq!(forward.call(&mut store, 3).unwrap().16, 6.0);
    assert_eq!(forward.call(&mut store, 3).unwrap().11, 120);
    let dynamic = instance.get_func(&mut store, "many").unwrap();
    let mut results = vec![Val::I32(0); 17];
    dynamic.call(&mut store, &[Val::I64(9)], &mut results).unwrap();
    assert_eq!(results[0].i64(), Some(9));
    assert_eq!(results[11].i64(), Some(12));
    assert_eq!(results[16].f64(), Some(9.0));
}
