//! Criterion benches of the embedding API for components, the figures of the "Embedding"
//! table of ../shared/bench/README.md: a host call of `add-one: func(x: u32) -> u32`, of
//! `echo: func(s: string) -> string` with 16 bytes, and of an echo of a record of 10 u32, each
//! through `TypedFunc` and through `Func::call` with `Val`s; and the instantiation of a small
//! component, on demand and with the pooling allocator.
//!
//! Issue 17's rows, on a second component (`guests/component_api_more.wat`): a `list<u8>` of
//! 64 KiB and 1 MiB (also as a `Val::Bytes`, with `Config::component_val_bytes`, which
//! Wasmtime has no equivalent of), a variant with a string payload, a `list<record>` of 100 records and a
//! `result<string, string>`, each echoed (lowered into the guest and lifted back), typed and
//! with `Val`s; and `call-host`, a host -> guest -> host round trip. The same rows for
//! Wasmtime 48 are in benches/reference/benches/calls.rs, with the same names.
//!
//! Issue 22's first row: `add-one` lifted `async` (callback mode and stackful), through
//! `Func::call` (no reference row yet).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use weld::component::{Component, ComponentType, Instance, Lift, Linker, Lower, Val};
use weld::{Config, Engine, InstanceAllocationStrategy, Store};

/// One component with the three exports. Strings and records come back through a return
/// area; `realloc` is a bump allocator that starts over at every call (nothing is kept).
const COMPONENT: &str = include_str!("guests/component_api.wat");
/// The echoes of lists, cases and results, and the round trip through the host.
const MORE: &str = include_str!("guests/component_api_more.wat");

/// `variant v { none, text(string) }`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
enum V {
    #[component(name = "none")]
    None,
    #[component(name = "text")]
    Text(String),
}

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

/// The rows of issue 17 (see the module docs).
fn more_calls(c: &mut Criterion) {
    let engine = Engine::default();
    let component = Component::new(&engine, MORE).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.root().func_wrap("host-add-one", |_, (x,): (u32,)| Ok((x + 1,))).unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let mut g = c.benchmark_group("component call");

    // The same echo through `Val::Bytes`, on an engine that lifts `list<u8>` as bytes.
    let mut config = weld::Config::new();
    config.component_val_bytes(true);
    let bytes_engine = Engine::new(&config).unwrap();
    let bytes_component = Component::new(&bytes_engine, MORE).unwrap();
    let mut bytes_store = Store::new(&bytes_engine, ());
    let mut bytes_linker = Linker::new(&bytes_engine);
    bytes_linker.root().func_wrap("host-add-one", |_, (x,): (u32,)| Ok((x + 1,))).unwrap();
    let bytes_instance = bytes_linker.instantiate(&mut bytes_store, &bytes_component).unwrap();
    let echo_bytes = bytes_instance.get_func(&mut bytes_store, "echo-bytes").unwrap();

    for (name, len) in [("64 KiB", 64 << 10), ("1 MiB", 1 << 20)] {
        let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let arg = [Val::Bytes(bytes.clone())];
        g.throughput(criterion::Throughput::Bytes(len as u64));
        g.bench_function(format!("echo list<u8> {name} Val::Bytes"), |b| {
            b.iter(|| {
                let mut out = [Val::Bool(false)];
                echo_bytes.call(&mut bytes_store, black_box(&arg), &mut out).unwrap();
                out
            })
        });
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
    g.bench_function("echo variant with a string typed", |b| {
        b.iter(|| echo.call(&mut store, black_box((&v,))).unwrap())
    });
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
    g.bench_function("echo result<string, string> typed", |b| {
        b.iter(|| echo.call(&mut store, black_box((&r,))).unwrap())
    });
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
    g.bench_function("host -> guest -> host typed", |b| {
        b.iter(|| call_host.call(&mut store, black_box((41,))).unwrap())
    });
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

/// Calls of `add-one` lifted with the async ABI (`guests/component_api_async.wat`): each call
/// makes a task and a thread (a fiber, its stack reused from the store) and runs the event
/// loop until the result is returned.
fn async_calls(c: &mut Criterion) {
    let engine = Engine::default();
    let component = Component::new(&engine, include_str!("guests/component_api_async.wat")).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let mut g = c.benchmark_group("component call");
    for (name, export) in [("callback", "add-one-callback"), ("stackful", "add-one-stackful")] {
        let f = instance.get_func(&mut store, export).unwrap();
        g.bench_function(format!("async add-one {name} Val"), |b| {
            b.iter(|| {
                let mut out = [Val::U32(0)];
                f.call(&mut store, black_box(&[Val::U32(41)]), &mut out).unwrap();
                out
            })
        });
    }
    g.finish();
}

criterion_group!(benches, calls, more_calls, instantiate, async_calls);
criterion_main!(benches);
