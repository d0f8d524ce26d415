//! Wasmtime 48 making the calls of weld's `cargo bench --bench core -- call/` and
//! `cargo bench --bench component_api -- "component call"`: the same guests (the component
//! texts are the files weld's benches include), the same arguments, the same group and
//! function names. Built without Wasmtime's `component-model-async` feature, its fastest
//! configuration for synchronous calls.
//!   cd benches/reference && cargo bench --bench calls

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use wasmtime::component::{self, Component, ComponentType, Lift, Lower};
use wasmtime::{Engine, Linker, Module, Store, Val};

const COMPONENT: &str = include_str!("../../guests/component_api.wat");
const MORE: &str = include_str!("../../guests/component_api_more.wat");

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

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
enum V {
    #[component(name = "none")]
    None,
    #[component(name = "text")]
    Text(String),
}

fn core_calls(c: &mut Criterion) {
    let engine = Engine::default();
    let wat = r#"(module (func (export "inc") (param i32) (result i32) local.get 0 i32.const 1 i32.add))"#;
    let module = Module::new(&engine, wat).unwrap();
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

fn component_calls(c: &mut Criterion) {
    use component::Val;
    let engine = Engine::default();
    let component = Component::new(&engine, COMPONENT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = component::Linker::new(&engine).instantiate(&mut store, &component).unwrap();
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

fn more_calls(c: &mut Criterion) {
    use component::Val;
    let engine = Engine::default();
    let component = Component::new(&engine, MORE).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = component::Linker::new(&engine);
    linker.root().func_wrap("host-add-one", |_, (x,): (u32,)| Ok((x + 1,))).unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let mut g = c.benchmark_group("component call");

    for (name, len) in [("64 KiB", 64 << 10), ("1 MiB", 1 << 20)] {
        let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
        g.throughput(criterion::Throughput::Bytes(len as u64));
        let echo = instance.get_typed_func::<(&[u8],), (Vec<u8>,)>(&mut store, "echo-bytes").unwrap();
        g.bench_function(format!("echo list<u8> {name} typed"), |b| {
            b.iter(|| echo.call(&mut store, black_box((&bytes[..],))).unwrap())
        });
        let echo = instance.get_func(&mut store, "echo-bytes").unwrap();
        let arg = [Val::List(bytes.iter().map(|b| Val::U8(*b)).collect())];
        g.bench_function(format!("echo list<u8> {name} Val"), |b| {
            b.iter(|| {
                let mut out = [Val::Bool(false)];
                echo.call(&mut store, black_box(&arg), &mut out).unwrap();
                out
            })
        });
    }
    g.throughput(criterion::Throughput::Elements(1));

    let v = V::Text("a string payload".to_string());
    let echo = instance.get_typed_func::<(&V,), (V,)>(&mut store, "echo-variant").unwrap();
    g.bench_function("echo variant with a string typed", |b| b.iter(|| echo.call(&mut store, black_box((&v,))).unwrap()));
    let echo = instance.get_func(&mut store, "echo-variant").unwrap();
    let arg = [Val::Variant("text".into(), Some(Box::new(Val::String("a string payload".into()))))];
    g.bench_function("echo variant with a string Val", |b| {
        b.iter(|| {
            let mut out = [Val::Bool(false)];
            echo.call(&mut store, black_box(&arg), &mut out).unwrap();
            out
        })
    });

    let records: Vec<R10> =
        (0..100).map(|i| R10 { a: i, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10 }).collect();
    let echo = instance.get_typed_func::<(&[R10],), (Vec<R10>,)>(&mut store, "echo-records").unwrap();
    g.bench_function("echo list<record> of 100 typed", |b| {
        b.iter(|| echo.call(&mut store, black_box((&records[..],))).unwrap())
    });
    let echo = instance.get_func(&mut store, "echo-records").unwrap();
    let fields = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    let record = |i: u32| Val::Record(fields.iter().zip(i..).map(|(n, v)| (n.to_string(), Val::U32(v))).collect());
    let arg = [Val::List((0..100).map(record).collect())];
    g.bench_function("echo list<record> of 100 Val", |b| {
        b.iter(|| {
            let mut out = [Val::Bool(false)];
            echo.call(&mut store, black_box(&arg), &mut out).unwrap();
            out
        })
    });

    let r: Result<String, String> = Err("an error message".to_string());
    let echo = instance
        .get_typed_func::<(&Result<String, String>,), (Result<String, String>,)>(&mut store, "echo-result")
        .unwrap();
    g.bench_function("echo result<string, string> typed", |b| b.iter(|| echo.call(&mut store, black_box((&r,))).unwrap()));
    let echo = instance.get_func(&mut store, "echo-result").unwrap();
    let arg = [Val::Result(Err(Some(Box::new(Val::String("an error message".into())))))];
    g.bench_function("echo result<string, string> Val", |b| {
        b.iter(|| {
            let mut out = [Val::Bool(false)];
            echo.call(&mut store, black_box(&arg), &mut out).unwrap();
            out
        })
    });

    let call_host = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "call-host").unwrap();
    g.bench_function("host -> guest -> host typed", |b| b.iter(|| call_host.call(&mut store, black_box((41,))).unwrap()));
    let call_host = instance.get_func(&mut store, "call-host").unwrap();
    g.bench_function("host -> guest -> host Val", |b| {
        b.iter(|| {
            let mut out = [Val::U32(0)];
            call_host.call(&mut store, black_box(&[Val::U32(41)]), &mut out).unwrap();
            out
        })
    });
    g.finish();
}

criterion_group!(benches, core_calls, component_calls, more_calls);
criterion_main!(benches);
