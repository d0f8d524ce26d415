//! Criterion benches of the embedding API for components, the figures of the "Embedding"
//! table of ../shared/bench/README.md: a host call of `add-one: func(x: u32) -> u32`, of
//! `echo: func(s: string) -> string` with 16 bytes, and of an echo of a record of 10 u32, each
//! through `TypedFunc` and through `Func::call` with `Val`s; and the instantiation of a small
//! component, on demand and with the pooling allocator.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use weld::component::{Component, ComponentType, Instance, Lift, Linker, Lower, Val};
use weld::{Config, Engine, InstanceAllocationStrategy, Store};

/// One component with the three exports. Strings and records come back through a return
/// area; `realloc` is a bump allocator that starts over at every call (nothing is kept).
const COMPONENT: &str = r#"(component
  (type $r (record (field "a" u32) (field "b" u32) (field "c" u32) (field "d" u32) (field "e" u32)
                   (field "f" u32) (field "g" u32) (field "h" u32) (field "i" u32) (field "j" u32)))
  (export $r' "r10" (type $r))
  (core module $m
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "reset") (param i32) (global.set $next (i32.const 1024)))
    (func (export "add-one") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0))
    (func (export "echo-r10") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0)) (i32.store (i32.const 20) (local.get 1))
      (i32.store (i32.const 24) (local.get 2)) (i32.store (i32.const 28) (local.get 3))
      (i32.store (i32.const 32) (local.get 4)) (i32.store (i32.const 36) (local.get 5))
      (i32.store (i32.const 40) (local.get 6)) (i32.store (i32.const 44) (local.get 7))
      (i32.store (i32.const 48) (local.get 8)) (i32.store (i32.const 52) (local.get 9))
      (i32.const 16)))
  (core instance $i (instantiate $m))
  (func (export "add-one") (param "x" u32) (result u32) (canon lift (core func $i "add-one")))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      (post-return (core func $i "reset"))))
  (func (export "echo-r10") (param "r" $r') (result $r')
    (canon lift (core func $i "echo-r10") (memory (core memory $i "mem")))))"#;

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(record)]
struct R10 {
    a: u32,
    b: u32,
    c: u32,
    d: u32,
    e: u32,
    f: u32,
    g: u32,
    h: u32,
    i: u32,
    j: u32,
}

fn setup() -> (Store<()>, Instance, Component) {
    let engine = Engine::default();
    let component = Component::new(&engine, COMPONENT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    (store, instance, component)
}

fn calls(c: &mut Criterion) {
    let (mut store, instance, _) = setup();
    let mut g = c.benchmark_group("component call");

    let add_one = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "add-one").unwrap();
    g.bench_function("add-one typed", |b| b.iter(|| add_one.call(&mut store, black_box((41,))).unwrap()));
    let add_one = instance.get_func(&mut store, "add-one").unwrap();
    g.bench_function("add-one Val", |b| {
        b.iter(|| {
            let mut out = [Val::U32(0)];
            add_one.call(&mut store, black_box(&[Val::U32(41)]), &mut out).unwrap();
            out
        })
    });

    let text = "sixteen bytes!!!";
    let echo = instance.get_typed_func::<(&str,), (String,)>(&mut store, "echo").unwrap();
    g.bench_function("echo string 16 B typed", |b| b.iter(|| echo.call(&mut store, black_box((text,))).unwrap()));
    let echo = instance.get_func(&mut store, "echo").unwrap();
    let arg = [Val::String(text.into())];
    g.bench_function("echo string 16 B Val", |b| {
        b.iter(|| {
            let mut out = [Val::Bool(false)];
            echo.call(&mut store, black_box(&arg), &mut out).unwrap();
            out
        })
    });

    let r = R10 { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10 };
    let echo_r = instance.get_typed_func::<(R10,), (R10,)>(&mut store, "echo-r10").unwrap();
    g.bench_function("echo record of 10 u32 derived", |b| b.iter(|| echo_r.call(&mut store, black_box((r,))).unwrap()));
    let echo_r = instance.get_func(&mut store, "echo-r10").unwrap();
    let fields = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    let arg = [Val::Record(fields.iter().zip(1..).map(|(n, v)| (n.to_string(), Val::U32(v))).collect())];
    g.bench_function("echo record of 10 u32 Val", |b| {
        b.iter(|| {
            let mut out = [Val::Bool(false)];
            echo_r.call(&mut store, black_box(&arg), &mut out).unwrap();
            out
        })
    });
    g.finish();
}

fn instantiate(c: &mut Criterion) {
    let mut g = c.benchmark_group("component instantiate");
    let mut pooling = Config::new();
    pooling.allocation_strategy(InstanceAllocationStrategy::pooling());
    // On demand, then with the pooling allocator (default limits).
    for (engine, suffix) in [(Engine::default(), ""), (Engine::new(&pooling).unwrap(), ", pooling")] {
        let component = Component::new(&engine, COMPONENT).unwrap();
        let linker = Linker::<()>::new(&engine);
        let pre = linker.instantiate_pre(&component).unwrap();
        g.bench_function(format!("small component{suffix}"), |b| {
            b.iter(|| {
                let mut store = Store::new(&engine, ());
                black_box(linker.instantiate(&mut store, &component).unwrap())
            })
        });
        g.bench_function(format!("small component, InstancePre{suffix}"), |b| {
            b.iter(|| {
                let mut store = Store::new(&engine, ());
                black_box(pre.instantiate(&mut store).unwrap())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, calls, instantiate);
criterion_main!(benches);
