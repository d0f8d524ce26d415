//! Criterion benches of the core engine: compiling modules, instantiating a module with 1 MiB
//! of data (on demand and with the pooling allocator), and host-to-wasm calls of
//! `(i32) -> i32`, typed and untyped; and throwing a wasm exception through a call to a
//! `try_table` that catches it, 1000 times a sample.
//!
//! `WELD_LARGE_MODULE=path.wasm` adds the compilation of that module (for example the 18 MB
//! module that ../shared/bench/get-large-module.sh fetches).

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use weld::{Config, Engine, InstanceAllocationStrategy, Linker, Module, Store, Val};

fn kernels_wasm() -> Option<Vec<u8>> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/bench/kernels/kernels.wasm")).ok()
}

fn compile(c: &mut Criterion) {
    let engine = Engine::default();
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    if let Some(bytes) = kernels_wasm() {
        group.bench_function("kernels.wasm", |b| b.iter(|| Module::from_binary(&engine, black_box(&bytes)).unwrap()));
    }
    if let Ok(path) = std::env::var("WELD_LARGE_MODULE") {
        let bytes = std::fs::read(&path).expect("reading WELD_LARGE_MODULE");
        group.bench_function("large module", |b| b.iter(|| Module::from_binary(&engine, black_box(&bytes)).unwrap()));
    }
    group.finish();
}

fn instantiate(c: &mut Criterion) {
    let wat = format!(r#"(module (memory (export "memory") 17) (data (i32.const 0) "{}"))"#, "\\2a".repeat(1 << 20));
    let mut pooling = Config::new();
    pooling.allocation_strategy(InstanceAllocationStrategy::pooling());
    // Stores are dropped in batches of 64, outside the timing. (With `SmallInput` criterion
    // keeps a tenth of a sample's stores alive at once: during warm-up, over 10 000 memories
    // of about three mappings each, which ran into the kernel's limit of 65 530 mappings
    // (`mprotect failed: Cannot allocate memory`), and more than a bounded pool holds.)
    let runs = [("instantiate/1 MiB data", Config::new()), ("instantiate/1 MiB data, pooling", pooling)];
    for (name, config) in runs {
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, &wat).unwrap();
        let linker = Linker::<()>::new(&engine);
        c.bench_function(name, |b| {
            b.iter_batched(
                || Store::new(&engine, ()),
                |mut store| {
                    linker.instantiate(&mut store, &module).unwrap();
                    store
                },
                BatchSize::NumIterations(64),
            )
        });
    }
}

fn call(c: &mut Criterion) {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (func (export "inc") (param i32) (result i32) local.get 0 i32.const 1 i32.add))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    let typed = instance.get_typed_func::<i32, i32>(&mut store, "inc").unwrap();
    c.bench_function("call/typed (i32) -> i32", |b| b.iter(|| typed.call(&mut store, black_box(1)).unwrap()));
    let func = instance.get_func(&mut store, "inc").unwrap();
    let mut results = [Val::I32(0)];
    c.bench_function("call/untyped (i32) -> i32", |b| {
        b.iter(|| func.call(&mut store, black_box(&[Val::I32(1)]), &mut results).unwrap())
    });
}

fn throw(c: &mut Criterion) {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (tag $e (param i32))
            (func $thrower (param i32) (throw $e (local.get 0)))
            (func (export "run") (param $n i32) (result i32)
                (local $sum i32)
                (loop $l
                    (block $h (result i32)
                        (try_table (catch $e $h) (call $thrower (local.get $n)))
                        (i32.const 0))
                    (local.set $sum (i32.add (local.get $sum)))
                    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
                (local.get $sum)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, 1000).unwrap(), 500_500);
    c.bench_function("throw and catch x1000", |b| b.iter(|| run.call(&mut store, black_box(1000)).unwrap()));
}

criterion_group!(benches, compile, instantiate, call, throw);
criterion_main!(benches);
