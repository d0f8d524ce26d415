//! SIMD through the embedder API: `v128` values in typed and dynamic calls, host functions
//! and globals; the SIMD and relaxed-SIMD switches; and what `relaxed_simd_deterministic`
//! changes.

use weld::{Config, Engine, Func, Global, GlobalType, Linker, Module, Mutability, Store, V128, Val, ValType};

const LANES: &str = r#"(module
    (import "host" "twice" (func $twice (param v128) (result v128)))
    (global (export "g") (mut v128) (v128.const i32x4 1 2 3 4))
    (func (export "add") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
    (func (export "twice_then_sum") (param v128) (result i32)
        (local $v v128)
        (local.set $v (call $twice (local.get 0)))
        (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
            (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))
    (func (export "bump_global") (global.set 0 (i32x4.mul (global.get 0) (i32x4.splat (i32.const 10))))))"#;

fn i32x4(lanes: [u32; 4]) -> V128 {
    let mut bits = 0u128;
    for (i, lane) in lanes.iter().enumerate() {
        bits |= u128::from(*lane) << (32 * i);
    }
    V128::from(bits)
}

fn instantiate(engine: &Engine, wat: &str, linker: &Linker<()>) -> (Store<()>, weld::Instance) {
    let module = Module::new(engine, wat).unwrap();
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

fn lanes_linker(engine: &Engine) -> Linker<()> {
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("host", "twice", |v: V128| {
            let mut out = [0u32; 4];
            for (i, lane) in out.iter_mut().enumerate() {
                *lane = ((v.as_u128() >> (32 * i)) as u32).wrapping_mul(2);
            }
            i32x4(out)
        })
        .unwrap();
    linker
}

#[test]
fn v128_values_cross_typed_and_dynamic_calls() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(&engine, LANES, &lanes_linker(&engine));
    let add = instance.get_typed_func::<(V128, V128), V128>(&mut store, "add").unwrap();
    let sum = add.call(&mut store, (i32x4([1, 2, 3, u32::MAX]), i32x4([10, 20, 30, 2]))).unwrap();
    assert_eq!(sum, i32x4([11, 22, 33, 1]));

    let add = instance.get_func(&mut store, "add").unwrap();
    let mut results = [Val::I32(0)];
    add.call(&mut store, &[Val::V128(i32x4([5, 6, 7, 8])), Val::V128(i32x4([1, 1, 1, 1]))], &mut results).unwrap();
    assert_eq!(results[0].unwrap_v128(), i32x4([6, 7, 8, 9]));
}

#[test]
fn a_host_function_takes_and_returns_v128() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(&engine, LANES, &lanes_linker(&engine));
    let f = instance.get_typed_func::<V128, i32>(&mut store, "twice_then_sum").unwrap();
    assert_eq!(f.call(&mut store, i32x4([1, 2, 3, 4])).unwrap(), 20);
}

#[test]
fn v128_globals_are_read_and_written_by_host_and_guest() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(&engine, LANES, &lanes_linker(&engine));
    let g = instance.get_global(&mut store, "g").unwrap();
    assert_eq!(g.get(&mut store).unwrap_v128(), i32x4([1, 2, 3, 4]));
    g.set(&mut store, Val::V128(i32x4([7, 0, 0, 1]))).unwrap();
    instance.get_typed_func::<(), ()>(&mut store, "bump_global").unwrap().call(&mut store, ()).unwrap();
    assert_eq!(g.get(&mut store).unwrap_v128(), i32x4([70, 0, 0, 10]));

    let host =
        Global::new(&mut store, GlobalType::new(ValType::V128, Mutability::Const), Val::V128(V128::from(9))).unwrap();
    assert_eq!(host.get(&mut store).unwrap_v128().as_u128(), 9);
}

#[test]
fn simd_can_be_turned_off() {
    let mut config = Config::new();
    config.wasm_simd(false);
    let engine = Engine::new(&config).unwrap();
    let err = Module::new(&engine, "(module (func (result v128) (v128.const i64x2 0 0)))").unwrap_err();
    assert!(format!("{err:#}").contains("SIMD"), "{err:#}");
    // Scalar code still compiles.
    Module::new(&engine, "(module (func (result i32) (i32.const 0)))").unwrap();
}

#[test]
fn relaxed_simd_can_be_turned_off_alone() {
    let mut config = Config::new();
    config.wasm_relaxed_simd(false);
    let engine = Engine::new(&config).unwrap();
    let relaxed = "(module (func (param v128 v128) (result v128) (i8x16.relaxed_swizzle (local.get 0) (local.get 1))))";
    let err = Module::new(&engine, relaxed).unwrap_err();
    assert!(format!("{err:#}").contains("relaxed SIMD"), "{err:#}");
    Module::new(&engine, "(module (func (param v128 v128) (result v128) (i8x16.swizzle (local.get 0) (local.get 1))))")
        .unwrap();
}

/// Relaxed operators whose native x86 behaviour differs from the deterministic one on these
/// inputs: a swizzle index of 17 (`pshufb` reads lane 1; the deterministic swizzle gives 0) and
/// a NaN truncated to i32 (`cvttps2dq` gives i32::MIN; saturation gives 0).
const RELAXED: &str = r#"(module
    (func (export "swizzle17") (result i32)
        (i8x16.extract_lane_u 0
            (i8x16.relaxed_swizzle (v128.const i8x16 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115)
                                   (v128.const i8x16 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0))))
    (func (export "trunc_nan") (result i32)
        (i32x4.extract_lane 0 (i32x4.relaxed_trunc_f32x4_s (f32x4.splat (f32.const nan))))))"#;

fn relaxed_results(deterministic: bool) -> (i32, i32) {
    let mut config = Config::new();
    config.relaxed_simd_deterministic(deterministic);
    let engine = Engine::new(&config).unwrap();
    let (mut store, instance) = instantiate(&engine, RELAXED, &Linker::new(&engine));
    let swizzle = instance.get_typed_func::<(), i32>(&mut store, "swizzle17").unwrap().call(&mut store, ()).unwrap();
    let trunc = instance.get_typed_func::<(), i32>(&mut store, "trunc_nan").unwrap().call(&mut store, ()).unwrap();
    (swizzle, trunc)
}

#[test]
fn deterministic_relaxed_simd_gives_the_non_relaxed_results() {
    assert_eq!(relaxed_results(true), (0, 0));
}

#[test]
fn relaxed_simd_is_native_unless_deterministic() {
    let native = relaxed_results(false);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(native, (101, i32::MIN));
    } else {
        assert_eq!(native, (0, 0));
    }
}

#[test]
fn host_functions_see_v128_in_dynamic_signatures() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let ty = weld::FuncType::new([ValType::V128], [ValType::V128]);
    let f = Func::new(&mut store, ty, |_, params, results| {
        let v = params[0].unwrap_v128().as_u128();
        results[0] = Val::V128(V128::from(v.rotate_left(8)));
        Ok(())
    })
    .unwrap();
    let mut results = [Val::I32(0)];
    f.call(&mut store, &[Val::V128(V128::from(0x0102))], &mut results).unwrap();
    assert_eq!(results[0].unwrap_v128().as_u128(), 0x010200);
}
