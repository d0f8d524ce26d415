//! Wasmtime 48 making the async calls of weld's `cargo bench --bench component_api -- async`:
//! the same guests (the component texts weld's benches include), the same arguments, the same
//! group and function names. Built with Wasmtime's `component-model-async` feature (this
//! package's `async` feature, so that the other benches keep the synchronous build).
//!   cd benches/reference && cargo bench --features async --bench async_calls
//!
//! Wasmtime's `Func::call` refuses functions lifted `async`, so the row "component call/async
//! add-one {callback,stackful} Val", which weld makes with `Func::call`, is made here with
//! `Func::call_async`. Every future runs under the same small executor as weld's side.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use wasmtime::component::{
    Accessor, Component, Destination, Instance, Linker, Source, StreamConsumer, StreamProducer, StreamReader,
    StreamResult, Val,
};
use wasmtime::{Config, Engine, Result, Store, StoreContextMut};

const ASYNC: &str = include_str!("../../guests/component_api_async.wat");
const ASYNC_MORE: &str = include_str!("../../guests/component_api_async_more.wat");
/// How many guest -> host calls one iteration makes.
const CALLS: u32 = 1000;
/// How many bytes one iteration moves through a stream.
const MIB: u32 = 1 << 20;

#[path = "../../common/executor.rs"]
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

impl<D: 'static> StreamConsumer<D> for Counter {
    type Item = u8;
    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<D>,
        source: Source<'_, u8>,
        _: bool,
    ) -> Poll<Result<StreamResult>> {
        let this = self.get_mut();
        let mut direct = source.as_direct(store);
        let bytes = direct.remaining();
        let n = bytes.len();
        this.buf.clear();
        this.buf.extend_from_slice(bytes);
        direct.mark_read(n);
        this.counted.lock().unwrap().bytes += n as u64;
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

/// A host producer of `left` bytes of a `stream<u8>`, copied from `data` (64 KiB) straight
/// into the guest's buffer, as much as each read has room for.
struct Bytes {
    left: usize,
    data: Arc<Vec<u8>>,
}

impl<D: 'static> StreamProducer<D> for Bytes {
    type Item = u8;
    type Buffer = Option<u8>;
    fn poll_produce<'a>(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'a, D>,
        destination: Destination<'a, u8, Option<u8>>,
        _: bool,
    ) -> Poll<Result<StreamResult>> {
        let this = self.get_mut();
        let mut direct = destination.as_direct(store, 0);
        let room = direct.remaining();
        let n = this.left.min(room.len()).min(this.data.len());
        room[..n].copy_from_slice(&this.data[..n]);
        direct.mark_written(n);
        this.left -= n;
        Poll::Ready(Ok(if this.left == 0 { StreamResult::Dropped } else { StreamResult::Completed }))
    }
}

fn engine() -> Engine {
    let mut config = Config::new();
    config.wasm_component_model_async(true);
    config.wasm_component_model_async_stackful(true);
    Engine::new(&config).unwrap()
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
    // With a concurrent host function in the linker, Wasmtime requires `instantiate_async`.
    let instance = Executor::new().block_on(linker.instantiate_async(&mut store, component)).unwrap();
    (store, instance)
}

/// weld's `async_calls` rows (weld makes them with `Func::call`).
fn async_calls(c: &mut Criterion) {
    let engine = engine();
    let exec = Executor::new();
    let component = Component::new(&engine, ASYNC).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let mut g = c.benchmark_group("component call");
    for (name, export) in [("callback", "add-one-callback"), ("stackful", "add-one-stackful")] {
        let f = instance.get_func(&mut store, export).unwrap();
        g.bench_function(format!("async add-one {name} Val"), |b| {
            b.iter(|| {
                let mut out = [Val::U32(0)];
                exec.block_on(f.call_async(&mut store, black_box(&[Val::U32(41)]), &mut out)).unwrap();
                out
            })
        });
    }
    g.finish();
}

/// weld's `async_more` rows.
fn async_more(c: &mut Criterion) {
    let engine = engine();
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
        exec.block_on(store.run_concurrent(async |acc: &Accessor<()>| -> Result<u64> {
            let (reader,) = produce.call_concurrent(acc, (MIB,)).await?;
            acc.with(|mut store| reader.pipe(&mut store, counter))?;
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
        exec.block_on(store.run_concurrent(async |acc: &Accessor<()>| -> Result<u32> {
            let bytes = Bytes { left: MIB as usize, data: data.clone() };
            let reader = acc.with(|mut store| StreamReader::<u8>::new(&mut store, bytes))?;
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

criterion_group!(benches, async_calls, async_more);
criterion_main!(benches);
