//! Criterion benches of components provided by the host (`LinkerInstance::component`): what
//! instantiating an importer costs the first time (flattening with the provided component and
//! compiling the adapters) and afterwards (the linking is cached), next to the same two
//! components nested in one binary, and a call through the adapter linking made.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use weld::component::{Component, Linker, Val};
use weld::{Engine, Store};

/// The callee: `add(a, b) = a + b`.
const LIB: &str = r#"(component
  (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))"#;

/// The caller's body, given the component `$Lib` to instantiate: `run(n)` calls `add` n times.
const CALLER: &str = r#"
  (instance $l (instantiate $Lib))
  (core func $add (canon lower (func $l "add")))
  (core module $m
    (import "lib" "add" (func $add (param i32 i32) (result i32)))
    (func (export "run") (param $n i32) (result i32)
      (local $sum i32)
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $sum (call $add (local.get $sum) (local.get $n)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
      (local.get $sum)))
  (core instance $i (instantiate $m (with "lib" (instance (export "add" (func $add))))))
  (func (export "run") (param "n" u32) (result u32) (canon lift (core func $i "run")))"#;

fn importer() -> String {
    format!(
        r#"(component (import "lib" (component $Lib (export "add" (func (param "a" u32) (param "b" u32) (result u32))))) {CALLER})"#
    )
}

fn nested() -> String {
    format!("(component (component $Lib {}) {CALLER})", &LIB["(component".len()..LIB.len() - 1])
}

fn linking(c: &mut Criterion) {
    let engine = Engine::default();
    let lib = Component::new(&engine, LIB).unwrap();
    let importer_text = importer();
    let importer = Component::new(&engine, &importer_text).unwrap();
    let nested = Component::new(&engine, nested()).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.root().component("lib", &lib).unwrap();

    let mut g = c.benchmark_group("linking");
    g.bench_function("instantiate, nested in one binary", |b| {
        b.iter(|| {
            let mut store = Store::new(&engine, ());
            black_box(linker.instantiate(&mut store, &nested).unwrap());
        })
    });
    g.bench_function("instantiate, component import (linking cached)", |b| {
        b.iter(|| {
            let mut store = Store::new(&engine, ());
            black_box(linker.instantiate(&mut store, &importer).unwrap());
        })
    });
    // A freshly compiled importer has no linking yet: the first instantiation flattens it
    // with the provided component and compiles the adapter module.
    g.bench_function("instantiate, component import (first linking)", |b| {
        b.iter_batched(
            || Component::new(&engine, &importer_text).unwrap(),
            |importer| {
                let mut store = Store::new(&engine, ());
                black_box(linker.instantiate(&mut store, &importer).unwrap());
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("linking");
    g.throughput(Throughput::Elements(1000));
    for (name, component) in [("nested", &nested), ("component import", &importer)] {
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, component).unwrap();
        let run = instance.get_func(&mut store, "run").unwrap();
        g.bench_function(format!("scalar fused call, {name}, 1000 calls"), |b| {
            b.iter(|| {
                let mut out = [Val::U32(0)];
                run.call(&mut store, black_box(&[Val::U32(1000)]), &mut out).unwrap();
                out
            })
        });
    }
    g.finish();
}

criterion_group!(benches, linking);
criterion_main!(benches);
