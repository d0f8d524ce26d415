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
//! Issue 22's rows: `add-one` lifted `async` (callback mode and stackful), through
//! `Func::call`; and in the group "async" (`guests/component_api_async_more.wat`), the same
//! calls through `Func::call_async`, 1000 guest -> host calls of an async host function
//! (`func_wrap_concurrent`) lowered `async`, from a stackful and a callback-mode export, the
//! host function ready at once or pending once; and 1 MiB through a `stream<u8>` in 64 KiB
//! chunks, guest to host (`StreamConsumer`), host to guest (`StreamProducer`) and between two
//! components. The same rows for Wasmtime 48 are in benches/reference/benches/async_calls.rs.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use weld::component::{Accessor, Component, ComponentType, Instance, Lift, Linker, Lower, Val};
use weld::component::{
    Destination, Source, StoreContextMut, StreamConsumer, StreamProducer, StreamReader, StreamResult,
};
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
    let component = Component::new(&engine, ASYNC).unwrap();
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

/// `add-one` lifted with the async ABI, stackful and with a callback.
const ASYNC: &str = include_str!("guests/component_api_async.wat");
/// The guests of the "async" group.
const ASYNC_MORE: &str = include_str!("guests/component_api_async_more.wat");
/// How many guest -> host calls one iteration makes.
const CALLS: u32 = 1000;
/// How many bytes one iteration moves through a stream.
const MIB: u32 = 1 << 20;

#[path = "common/executor.rs"]
mod executor;
use executor::{Executor, PendingOnce};

/// What a [`Counter`] saw: how many bytes, and whether the stream ended (it was dropped).
#[derive(Default)]
struct Counted {
    bytes: u64,
    ended: bool,
    waker: Option<Waker>,
}

/// A host consumer of a `stream<u8>` that copies each write into its buffer and counts it.
struct Counter {
    counted: Arc<Mutex<Counted>>,
    buf: Vec<u8>,
}

impl<D> StreamConsumer<D> for Counter {
    type Item = u8;
    fn poll_consume(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        mut source: Source<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let this = &mut *self;
        this.buf.clear();
        source.read(&mut store, &mut this.buf)?;
        this.counted.lock().unwrap().bytes += this.buf.len() as u64;
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        let mut counted = self.counted.lock().unwrap();
        counted.ended = true;
        if let Some(waker) = counted.waker.take() {
            waker.wake();
        }
    }
}

/// Ready with the byte count once the stream a [`Counter`] reads has ended.
async fn ended(counted: &Mutex<Counted>) -> u64 {
    std::future::poll_fn(|cx| {
        let mut c = counted.lock().unwrap();
        if c.ended {
            return Poll::Ready(c.bytes);
        }
        c.waker = Some(cx.waker().clone());
        Poll::Pending
    })
    .await
}

/// A host producer of `left` bytes of a `stream<u8>`, copied from `data` (64 KiB), as much
/// as each read has room for, with `Destination::write_slice` (one copy).
struct Bytes {
    left: usize,
    data: Arc<Vec<u8>>,
}

impl<D> StreamProducer<D> for Bytes {
    type Item = u8;
    fn poll_produce(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        mut destination: Destination<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let this = &mut *self;
        let n = this.left.min(destination.remaining(&mut store)).min(this.data.len());
        this.left -= destination.write_slice(&mut store, &this.data[..n])?;
        Poll::Ready(Ok(if this.left == 0 { StreamResult::Dropped } else { StreamResult::Completed }))
    }
}

/// A store and an instance of `guests/component_api_async_more.wat` whose `host-add-one`
/// returns `x + 1`, at once or after being pending once.
fn async_more_instance(engine: &Engine, component: &Component, pending: bool) -> (Store<()>, Instance) {
    let mut linker = Linker::new(engine);
    linker
        .root()
        .func_wrap_concurrent("host-add-one", move |_: &Accessor<()>, (x,): (u32,)| {
            Box::pin(async move {
                if pending {
                    PendingOnce(false).await;
                }
                Ok((x + 1,))
            })
        })
        .unwrap();
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, component).unwrap();
    (store, instance)
}

/// Issue 22's rows next to Wasmtime's: host -> guest and guest -> host async calls, and
/// stream throughput. Every call goes through `call_async` or `run_concurrent` under the
/// same small executor as Wasmtime's side.
fn async_more(c: &mut Criterion) {
    let engine = Engine::default();
    let exec = Executor::new();
    let mut g = c.benchmark_group("async");

    let component = Component::new(&engine, ASYNC).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    for (name, export) in [("callback", "add-one-callback"), ("stackful", "add-one-stackful")] {
        let f = instance.get_func(&mut store, export).unwrap();
        g.bench_function(format!("host->guest add-one {name} call_async"), |b| {
            b.iter(|| {
                let mut out = [Val::U32(0)];
                exec.block_on(f.call_async(&mut store, black_box(&[Val::U32(41)]), &mut out)).unwrap();
                out
            })
        });
    }

    let component = Component::new(&engine, ASYNC_MORE).unwrap();
    g.throughput(Throughput::Elements(CALLS.into()));
    for (host, pending) in [("ready", false), ("pending once", true)] {
        let (mut store, instance) = async_more_instance(&engine, &component, pending);
        for mode in ["stackful", "callback"] {
            let f =
                instance.get_typed_func::<(u32,), (u32,)>(&mut store, format!("call-host-{mode}").as_str()).unwrap();
            let (sum,) = exec.block_on(f.call_async(&mut store, (CALLS,))).unwrap();
            assert_eq!(sum, CALLS * (CALLS + 1) / 2);
            g.bench_function(format!("guest->host add-one x{CALLS} {mode} host {host}"), |b| {
                b.iter(|| exec.block_on(f.call_async(&mut store, black_box((CALLS,)))).unwrap())
            });
        }
    }

    g.throughput(Throughput::Bytes(MIB.into()));
    let (mut store, instance) = async_more_instance(&engine, &component, false);
    let produce = instance.get_typed_func::<(u32,), (StreamReader<u8>,)>(&mut store, "produce").unwrap();
    let mut host_reads = || {
        let counted = Arc::new(Mutex::new(Counted::default()));
        let counter = Counter { counted: counted.clone(), buf: Vec::with_capacity(64 << 10) };
        exec.block_on(store.run_concurrent(async |acc: &Accessor<()>| -> weld::Result<u64> {
            let (reader,) = produce.call_concurrent(acc, (MIB,)).await?;
            acc.with(|store| reader.pipe(store, counter))?;
            Ok(ended(&counted).await)
        }))
        .unwrap()
        .unwrap()
    };
    assert_eq!(host_reads(), u64::from(MIB));
    g.bench_function("stream host<-guest 1 MiB", |b| b.iter(&mut host_reads));

    let consume = instance.get_typed_func::<(StreamReader<u8>,), (u32,)>(&mut store, "consume").unwrap();
    let data = Arc::new(vec![0x5a; 64 << 10]);
    let mut guest_reads = || {
        exec.block_on(store.run_concurrent(async |acc: &Accessor<()>| -> weld::Result<u32> {
            let bytes = Bytes { left: MIB as usize, data: data.clone() };
            let reader = acc.with(|store| StreamReader::<u8>::new(store, bytes));
            Ok(consume.call_concurrent(acc, (reader,)).await?.0)
        }))
        .unwrap()
        .unwrap()
    };
    assert_eq!(guest_reads(), MIB);
    g.bench_function("stream host->guest 1 MiB", |b| b.iter(&mut guest_reads));

    let g2g = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "guest-to-guest").unwrap();
    assert_eq!(exec.block_on(g2g.call_async(&mut store, (MIB,))).unwrap().0, MIB);
    g.bench_function("stream guest->guest 1 MiB", |b| {
        b.iter(|| exec.block_on(g2g.call_async(&mut store, black_box((MIB,)))).unwrap())
    });
    g.finish();
}

criterion_group!(benches, calls, more_calls, instantiate, async_calls, async_more);
criterion_main!(benches);
