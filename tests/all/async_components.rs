//! The component-model async programs of EXPECT.md section 4 (wasmtime's test programs, as
//! jco's fixtures), run with host functions whose results come from futures
//! (`func_wrap_concurrent`, `func_new_concurrent`), through `Func::call`, `TypedFunc::call`
//! and `Func::call_async`.

use crate::real_components::components_dir;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use weld::component::{Accessor, Component, Instance, Linker, Val};
use weld::{Engine, Store};

/// The path of a jco p3 fixture, by its directory and name.
pub(crate) fn p3(dir: &str, name: &str) -> std::path::PathBuf {
    components_dir().join(format!("jco/packages__jco-transpile__test__fixtures__components__p3__{dir}__{name}.wasm"))
}

/// A future that is pending `n` times (waking its waker each time) before it is ready: a
/// host function that does not finish on its first poll.
pub(crate) struct YieldTimes(pub(crate) u32);

impl Future for YieldTimes {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A linker with WASI 0.2 (the fixtures use the preview-1 adapter) and `baz#foo`, whose
/// future yields `yields` times.
fn round_trip_linker(engine: &Engine, interface: Option<&str>, yields: u32) -> Linker<crate::wasi::Host> {
    let mut linker = Linker::new(engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let root = linker.root();
    let mut inst = match interface {
        Some(name) => root.into_instance(name).unwrap(),
        None => root,
    };
    inst.func_wrap_concurrent("foo", move |accessor: &Accessor<crate::wasi::Host>, (s,): (String,)| {
        Box::pin(async move {
            let _ = accessor;
            YieldTimes(yields).await;
            Ok((format!("{s} - entered host - exited host"),))
        })
    })
    .unwrap();
    linker
}

pub(crate) fn instantiate(
    engine: &Engine,
    linker: &Linker<crate::wasi::Host>,
    path: &std::path::Path,
) -> (Store<crate::wasi::Host>, Instance) {
    let component = Component::from_file(engine, path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let (builder, _, _) = crate::wasi::captured(b"");
    let mut store = crate::wasi::store(engine, builder);
    let instance = linker.instantiate(&mut store, &component).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    (store, instance)
}

fn baz_foo(store: &mut Store<crate::wasi::Host>, instance: &Instance) -> weld::component::Func {
    let interface = instance.get_export_index(&mut *store, None, "local:local/baz").expect("exports baz");
    let func = instance.get_export_index(&mut *store, Some(&interface), "foo").expect("baz exports foo");
    instance.get_func(&mut *store, func).expect("foo is a function")
}

#[test]
fn round_trip_in_every_mode() {
    let engine = Engine::default();
    for mode in ["stackless", "stackful", "synchronous", "wait", "stackless-sync-import"] {
        for yields in [0, 3] {
            let linker = round_trip_linker(&engine, Some("local:local/baz"), yields);
            let (mut store, instance) =
                instantiate(&engine, &linker, &p3("round-trip", &format!("async-round-trip-{mode}")));
            let export = baz_foo(&mut store, &instance);
            for input in ["hello, world!", "¡hola, mundo!"] {
                let mut results = [Val::Bool(false)];
                export
                    .call(&mut store, &[Val::String(input.into())], &mut results)
                    .unwrap_or_else(|e| panic!("{mode}, host future yielding {yields} times: {e:?}"));
                let expected = format!("{input} - entered guest - entered host - exited host - exited guest");
                assert_eq!(results[0], Val::String(expected), "{mode}, host future yielding {yields} times");
            }
        }
    }
}

/// With the spec's strict rule (`component_model_async_sync_cancel_in_set(false)`), the
/// callback-mode fixtures built with wit-bindgen 0.58 trap when their import does not finish
/// at once: that wit-bindgen cancels the read of its wake-up stream synchronously while the
/// stream is still in its waitable set. (The default allows a cancellation that finishes at
/// once, which is what lets them run above.)
#[test]
fn the_strict_rule_traps_wit_bindgen_058_cancels() {
    let mut config = weld::Config::new();
    config.component_model_async_sync_cancel_in_set(false);
    let engine = Engine::new(&config).unwrap();
    for (yields, traps) in [(0, false), (3, true)] {
        let linker = round_trip_linker(&engine, Some("local:local/baz"), yields);
        let (mut store, instance) = instantiate(&engine, &linker, &p3("round-trip", "async-round-trip-stackless"));
        let export = baz_foo(&mut store, &instance);
        let called = export.call(&mut store, &[Val::String("x".into())], &mut [Val::Bool(false)]);
        match called {
            Err(e) if traps => assert!(
                format!("{e:#}").contains("waitable cannot be used synchronously while added to a waitable set"),
                "{e:#}"
            ),
            Ok(()) if !traps => {}
            other => panic!("host future yielding {yields} times: {other:?}"),
        }
    }
}

#[test]
fn round_trip_twice_in_one_store_typed_and_dynamic() {
    let engine = Engine::default();
    let linker = round_trip_linker(&engine, Some("local:local/baz"), 2);
    let (mut store, instance) = instantiate(&engine, &linker, &p3("round-trip", "async-round-trip-stackful"));
    let export = baz_foo(&mut store, &instance);
    let typed = export.typed::<(String,), (String,)>(&store).unwrap();
    for input in ["hello, world!", "second"] {
        let (out,) = typed.call(&mut store, (input.to_string(),)).unwrap();
        assert_eq!(out, format!("{input} - entered guest - entered host - exited host - exited guest"));
    }
}

#[test]
fn round_trip_with_a_dynamic_host_function() {
    let engine = Engine::default();
    let mut linker = Linker::<crate::wasi::Host>::new(&engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let mut baz = linker.instance("local:local/baz").unwrap();
    baz.func_new_concurrent("foo", |_accessor, params, results| {
        Box::pin(async move {
            YieldTimes(1).await;
            let Val::String(s) = &params[0] else { anyhow::bail!("expected a string, found {:?}", params[0]) };
            results[0] = Val::String(format!("{s} - entered host - exited host"));
            Ok(())
        })
    })
    .unwrap();
    let (mut store, instance) = instantiate(&engine, &linker, &p3("round-trip", "async-round-trip-synchronous"));
    let export = baz_foo(&mut store, &instance);
    let mut results = [Val::Bool(false)];
    export.call(&mut store, &[Val::String("dyn".into())], &mut results).unwrap();
    assert_eq!(results[0], Val::String("dyn - entered guest - entered host - exited host - exited guest".into()));
}

#[test]
fn a_dynamic_host_function_returning_the_wrong_type_fails_the_call() {
    let engine = Engine::default();
    let mut linker = Linker::<crate::wasi::Host>::new(&engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let mut baz = linker.instance("local:local/baz").unwrap();
    baz.func_new_concurrent("foo", |_accessor, _params, results| {
        Box::pin(async move {
            YieldTimes(1).await;
            results[0] = Val::U32(7);
            Ok(())
        })
    })
    .unwrap();
    let (mut store, instance) = instantiate(&engine, &linker, &p3("round-trip", "async-round-trip-stackful"));
    let export = baz_foo(&mut store, &instance);
    let err = export.call(&mut store, &[Val::String("x".into())], &mut [Val::Bool(false)]).unwrap_err();
    assert!(format!("{err:#}").contains("returned a value of the wrong type"), "{err:#}");
}

#[test]
fn call_async_returns_pending_while_the_host_future_is() {
    let engine = Engine::default();
    let linker = round_trip_linker(&engine, Some("local:local/baz"), 5);
    let (mut store, instance) = instantiate(&engine, &linker, &p3("round-trip", "async-round-trip-stackful"));
    let export = baz_foo(&mut store, &instance);
    // A hand-rolled executor that counts how often the call returned `Pending`.
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    let mut results = [Val::Bool(false)];
    let mut pending = 0;
    let params = [Val::String("a".into())];
    {
        let mut call = std::pin::pin!(export.call_async(&mut store, &params, &mut results));
        loop {
            match call.as_mut().poll(&mut cx) {
                Poll::Ready(r) => break r.unwrap(),
                Poll::Pending => pending += 1,
            }
            assert!(pending < 100, "the call never finished");
        }
    }
    // The host future is polled once at the call and again in each round of the loop, so
    // its five `Pending`s show as up to five.
    assert!((1..=5).contains(&pending), "the call was pending {pending} times");
    assert_eq!(results[0], Val::String("a - entered guest - entered host - exited host - exited guest".into()));
    let typed = export.typed::<(String,), (String,)>(&store).unwrap();
    let out = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(typed.call_async(&mut store, ("b".into(),)));
    assert_eq!(out.unwrap().0, "b - entered guest - entered host - exited host - exited guest");
}

/// Runs the WASI 0.3 command at `path` (its `wasi:cli/run@0.3.0#run`) with WASI 0.2 and 0.3
/// from weld-wasi, `args` and captured stdio; returns whether `run` returned `ok`, and stdout.
fn run_p3_command(path: &std::path::Path, args: &[&str]) -> (bool, String) {
    let engine = Engine::default();
    let mut linker = Linker::<crate::wasi::Host>::new(&engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    weld_wasi::p3::add_to_linker(&mut linker).unwrap();
    let component = Component::from_file(&engine, path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let (mut builder, stdout, stderr) = crate::wasi::captured(b"");
    builder.args(args).env("frabjous", "day").env("callooh", "callay");
    let mut store = crate::wasi::store(&engine, builder);
    let instance = linker.instantiate(&mut store, &component).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let run_iface = instance.get_export_index(&mut store, None, "wasi:cli/run@0.3.0").expect("exports wasi:cli/run");
    let run = instance.get_export_index(&mut store, Some(&run_iface), "run").expect("exports run");
    let run = instance.get_func(&mut store, run).expect("run is a function");
    let mut results = [Val::Bool(false)];
    run.call(&mut store, &[], &mut results).unwrap_or_else(|e| {
        panic!("{}: {e:?}\nstderr: {}", path.display(), String::from_utf8_lossy(&stderr.contents()))
    });
    let ok = matches!(&results[0], Val::Result(Ok(_)));
    (ok, String::from_utf8_lossy(&stdout.contents()).into_owned())
}

#[test]
fn p3_cli_hello_stdout() {
    for name in ["p3-cli-hello-stdout", "p3-cli-hello-stdout-post-return"] {
        let (ok, stdout) = run_p3_command(&p3("cli", name), &[name]);
        assert!(ok, "{name}: run returned an error");
        assert_eq!(stdout, "hello, world\n", "{name}");
    }
}

#[test]
fn p3_cli_much_stdout() {
    let (ok, stdout) =
        run_p3_command(&p3("cli", "p3-cli-much-stdout"), &["p3_cli_much_stdout.component", "hello, world\n", "3"]);
    assert!(ok);
    assert_eq!(stdout, "hello, world\n".repeat(3));
}

#[test]
fn p3_cli_clocks_and_random() {
    for (dir, name, args) in [
        ("cli", "p3-cli", &["p3_cli.component", "."][..]),
        ("clocks", "p3-clocks-sleep", &["p3-clocks-sleep"][..]),
        ("random", "p3-random-imports", &["p3-random-imports"][..]),
    ] {
        let (ok, _) = run_p3_command(&p3(dir, name), args);
        assert!(ok, "{name}: run returned an error");
    }
}

#[test]
fn weld_run_runs_wasi_0_3_commands() {
    let path = p3("cli", "p3-cli-much-stdout");
    let run = crate::wasi::cli::weld(&["run", path.to_str().unwrap(), "hi\n", "2"]);
    assert_eq!((run.status, run.stdout.as_str()), (Some(0), "hi\nhi\n"), "stderr: {}", run.stderr);
}

/// A function exported by interface `interface` of `instance`.
pub(crate) fn export_of(
    store: &mut Store<crate::wasi::Host>,
    instance: &Instance,
    interface: &str,
    name: &str,
) -> weld::component::Func {
    let i = instance.get_export_index(&mut *store, None, interface).unwrap_or_else(|| panic!("exports {interface}"));
    let f =
        instance.get_export_index(&mut *store, Some(&i), name).unwrap_or_else(|| panic!("{interface} exports {name}"));
    instance.get_func(&mut *store, f).expect("a function")
}

/// A linker with WASI 0.2 and 0.3 from weld-wasi.
pub(crate) fn wasi_linker(engine: &Engine) -> Linker<crate::wasi::Host> {
    let mut linker = Linker::new(engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    weld_wasi::p3::add_to_linker(&mut linker).unwrap();
    linker
}

#[test]
fn error_contexts_are_made_read_and_dropped() {
    let engine = Engine::default();
    let linker = wasi_linker(&engine);
    let (mut store, instance) = instantiate(&engine, &linker, &p3("error-context", "async-error-context"));
    let run = export_of(&mut store, &instance, "local:local/run", "run");
    run.call(&mut store, &[], &mut []).unwrap();
}

/// Polls two futures together until both are ready.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(r) = a.as_mut().poll(cx)
        {
            ra = Some(r);
        }
        if rb.is_none()
            && let Poll::Ready(r) = b.as_mut().poll(cx)
        {
            rb = Some(r);
        }
        if ra.is_some() && rb.is_some() { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

/// Two calls of `run` at once in one instance, which wake each other: run one at a time,
/// the first waits for the second forever, which is the spec's deadlock.
#[test]
fn intertask_communication_needs_two_concurrent_calls() {
    let engine = Engine::default();
    let linker = wasi_linker(&engine);
    let (mut store, instance) = instantiate(&engine, &linker, &p3("general", "async-intertask-communication"));
    let run = export_of(&mut store, &instance, "local:local/run", "run");
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let both = rt.block_on(store.run_concurrent(async |accessor| {
        let (a, b) =
            join(run.call_concurrent(accessor, &[], &mut []), run.call_concurrent(accessor, &[], &mut [])).await;
        a.and(b)
    }));
    both.unwrap().unwrap();
    let err = run.call(&mut store, &[], &mut []).unwrap_err();
    assert!(format!("{err:#}").contains("deadlock"), "{err:#}");
}

/// Records what a guest wrote to a stream, and whether the stream ended.
#[derive(Clone, Default)]
struct Recorded(std::sync::Arc<std::sync::Mutex<(Vec<u8>, bool)>>);

struct Recorder(Recorded);

impl<D> weld::component::StreamConsumer<D> for Recorder {
    type Item = u8;
    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: weld::component::StoreContextMut<'_, D>,
        mut source: weld::component::Source<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<weld::component::StreamResult>> {
        let mut bytes = Vec::new();
        source.read(store, &mut bytes)?;
        self.0.0.lock().unwrap().0.extend(bytes);
        Poll::Ready(Ok(weld::component::StreamResult::Completed))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.0.0.lock().unwrap().1 = true;
    }
}

#[test]
fn a_closed_stream_ends_before_any_data() {
    let engine = Engine::default();
    let linker = wasi_linker(&engine);
    let (mut store, instance) = instantiate(&engine, &linker, &p3("streams", "async-closed-stream"));
    let get = export_of(&mut store, &instance, "local:local/closed-stream", "get");
    let get = get.typed::<(), (weld::component::StreamReader<u8>,)>(&store).unwrap();
    let (stream,) = get.call(&mut store, ()).unwrap();
    let recorded = Recorded::default();
    stream.pipe(&mut store, Recorder(recorded.clone())).unwrap();
    let (bytes, ended) = recorded.0.lock().unwrap().clone();
    assert!(ended, "the consumer learns that the stream ended");
    assert!(bytes.is_empty(), "no data: {bytes:?}");
}

/// A composed pair of jco's async fixtures (`tests/async-guests/`, made by `compose.sh`).
fn composed(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/async-guests/{name}.composed.wasm"))
}

#[test]
fn composed_post_return_and_transmit_pairs_run() {
    let engine = Engine::default();
    let linker = wasi_linker(&engine);
    for name in ["post-return", "transmit"] {
        let (mut store, instance) = instantiate(&engine, &linker, &composed(name));
        let run = export_of(&mut store, &instance, "local:local/run", "run");
        run.call(&mut store, &[], &mut []).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

/// The host's `borrowing-types#x`: its representation is never read.
struct X;

#[test]
fn composed_borrowing_pair_lends_and_catches_a_borrow_used_too_late() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use weld::component::{Resource, ResourceType, StoreContextMut};
    let engine = Engine::default();
    let mut linker = wasi_linker(&engine);
    let foo_calls = Arc::new(AtomicU32::new(0));
    let mut types = linker.instance("local:local/borrowing-types").unwrap();
    types.resource("x", ResourceType::host::<X>(), |_, _| Ok(())).unwrap();
    types
        .func_wrap("[constructor]x", |_: StoreContextMut<'_, crate::wasi::Host>, (): ()| {
            Ok((Resource::<X>::new_own(7),))
        })
        .unwrap();
    let calls = foo_calls.clone();
    types
        .func_wrap("[method]x.foo", move |_: StoreContextMut<'_, crate::wasi::Host>, (x,): (Resource<X>,)| {
            assert_eq!(x.rep(), 7);
            calls.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    for (misbehave, expect_trap) in [(false, false), (true, true)] {
        foo_calls.store(0, Ordering::Relaxed);
        let (mut store, instance) = instantiate(&engine, &linker, &composed("borrowing"));
        let run = export_of(&mut store, &instance, "local:local/run-bool", "run");
        let called = run.call(&mut store, &[Val::Bool(misbehave)], &mut []);
        match called {
            Ok(()) if !expect_trap => assert_eq!(foo_calls.load(Ordering::Relaxed), 1, "x.foo is called once"),
            Err(e) if expect_trap => assert!(format!("{e:#}").contains("invalid handle"), "{e:#}"),
            other => panic!("run({misbehave}): {other:?}"),
        }
    }
}

#[test]
fn weld_adapters_lists_async_calls_with_their_bookkeeping() {
    let path = composed("transmit");
    let run = crate::wasi::cli::weld(&["adapters", path.to_str().unwrap()]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains(";; async call 0: async func(control: stream<"), "{}", run.stdout);
    assert!(run.stdout.contains("caller (lower): instance 4, Utf8, memory 1, async\n"), "{}", run.stdout);
    assert!(run.stdout.contains("callee (lift):  instance 1, Utf8, memory 0, async (callback)"), "{}", run.stdout);
    assert!(run.stdout.contains("a task, because the caller lowers it `async`"), "{}", run.stdout);
    assert!(!run.stdout.contains("no adapters"), "{}", run.stdout);
}

/// A guest that sums a `stream<u32>` the host writes: its stackful task reads the stream
/// synchronously, 3 elements at a time, until the writer drops it.
const SUM_STREAM: &str = r#"
(component
  (type $ST (stream u32))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (import "" "stream.drop-readable" (func $stream.drop-readable (param i32)))
    (import "" "task.return" (func $task.return (param i32)))
    (func (export "sum") (param $s i32)
      (local $ret i32) (local $n i32) (local $i i32) (local $sum i32)
      (loop $more
        (local.set $ret (call $stream.read (local.get $s) (i32.const 16) (i32.const 3)))
        (local.set $n (i32.shr_u (local.get $ret) (i32.const 4)))
        (local.set $i (i32.const 0))
        (block $done
          (loop $add
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $sum (i32.add (local.get $sum)
              (i32.load (i32.add (i32.const 16) (i32.mul (local.get $i) (i32.const 4))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $add)))
        ;; COMPLETED (0): read again; DROPPED (1): the writer is done
        (br_if $more (i32.eqz (i32.and (local.get $ret) (i32.const 0xf)))))
      (call $stream.drop-readable (local.get $s))
      (call $task.return (local.get $sum))))
  (canon stream.read $ST (memory (core memory $mem "mem")) (core func $stream.read))
  (canon stream.drop-readable $ST (core func $stream.drop-readable))
  (canon task.return (result u32) (core func $task.return))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "stream.read" (func $stream.read))
    (export "stream.drop-readable" (func $stream.drop-readable))
    (export "task.return" (func $task.return))))))
  (func (export "sum") async (param "s" $ST) (result u32)
    (canon lift (core func $m "sum") async)))
"#;

/// Writes its elements into a guest's reads, then ends the stream.
struct VecProducer<T>(Vec<T>);

impl<D> weld::component::StreamProducer<D> for VecProducer<u32> {
    type Item = u32;
    fn poll_produce(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: weld::component::StoreContextMut<'_, D>,
        mut destination: weld::component::Destination<'_, u32>,
        _: bool,
    ) -> Poll<weld::Result<weld::component::StreamResult>> {
        if self.0.is_empty() {
            return Poll::Ready(Ok(weld::component::StreamResult::Dropped));
        }
        destination.write(store, &mut self.0)?;
        Poll::Ready(Ok(weld::component::StreamResult::Completed))
    }
}

impl<D> weld::component::StreamProducer<D> for VecProducer<Val> {
    type Item = Val;
    fn poll_produce(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: weld::component::StoreContextMut<'_, D>,
        mut destination: weld::component::Destination<'_, Val>,
        _: bool,
    ) -> Poll<weld::Result<weld::component::StreamResult>> {
        if self.0.is_empty() {
            return Poll::Ready(Ok(weld::component::StreamResult::Dropped));
        }
        destination.write_vals(store, &mut self.0)?;
        Poll::Ready(Ok(weld::component::StreamResult::Completed))
    }
}

#[test]
fn host_streams_feed_a_guest_typed_and_untyped() {
    let engine = Engine::default();
    let component = Component::new(&engine, SUM_STREAM).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine).instantiate(&mut store, &component).unwrap();
    let sum = instance.get_func(&mut store, "sum").unwrap();
    // Typed: 1..=10 in reads of 3.
    let typed = sum.typed::<(weld::component::StreamReader<u32>,), (u32,)>(&store).unwrap();
    let stream = weld::component::StreamReader::new(&mut store, VecProducer((1..=10).collect::<Vec<u32>>()));
    assert_eq!(typed.call(&mut store, (stream,)).unwrap(), (55,));
    // Untyped, with the type the function declares; and an empty stream.
    let ty = sum.params(&store)[0].1.clone();
    for (items, expected) in [(vec![Val::U32(7), Val::U32(8)], 15), (vec![], 0)] {
        let stream = weld::component::StreamAny::new(&mut store, &ty, VecProducer(items)).unwrap();
        let mut out = [Val::Bool(false)];
        sum.call(&mut store, &[Val::Stream(stream)], &mut out).unwrap();
        assert_eq!(out[0], Val::U32(expected));
    }
    // A value of the wrong type fails the call, naming what was expected.
    let stream = weld::component::StreamAny::new(&mut store, &ty, VecProducer(vec![Val::String("x".into())])).unwrap();
    let err = sum.call(&mut store, &[Val::Stream(stream)], &mut [Val::Bool(false)]).unwrap_err();
    assert!(format!("{err:#}").contains("u32"), "{err:#}");
}

/// A guest that makes one `async` copy with a host end on the other side and returns the
/// copy's code (cancelling it first if it blocked): `read-once` reads up to 3 elements of a
/// `stream<u32>` the host writes; `write-once` hands the readable end of a new `stream<u8>`
/// to the host's `sink` and writes 2 bytes to it.
const COPY_ONCE: &str = r#"
(component
  (type $SR (stream u32))
  (type $SW (stream u8))
  (import "sink" (func $sink (param "s" $SW)))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (core func $sink' (canon lower (func $sink)))
  (core func $read (canon stream.read $SR async (memory (core memory $mem "mem"))))
  (core func $cancel-read (canon stream.cancel-read $SR))
  (core func $drop-readable (canon stream.drop-readable $SR))
  (core func $new (canon stream.new $SW))
  (core func $write (canon stream.write $SW async (memory (core memory $mem "mem"))))
  (core func $cancel-write (canon stream.cancel-write $SW))
  (core func $drop-writable (canon stream.drop-writable $SW))
  (core func $task.return (canon task.return (result u32)))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "sink" (func $sink (param i32)))
    (import "" "read" (func $read (param i32 i32 i32) (result i32)))
    (import "" "cancel-read" (func $cancel-read (param i32) (result i32)))
    (import "" "drop-readable" (func $drop-readable (param i32)))
    (import "" "new" (func $new (result i64)))
    (import "" "write" (func $write (param i32 i32 i32) (result i32)))
    (import "" "cancel-write" (func $cancel-write (param i32) (result i32)))
    (import "" "drop-writable" (func $drop-writable (param i32)))
    (import "" "task.return" (func $task.return (param i32)))
    (func (export "read-once") (param $s i32)
      (local $ret i32)
      (local.set $ret (call $read (local.get $s) (i32.const 16) (i32.const 3)))
      (if (i32.eq (local.get $ret) (i32.const -1)) (then (drop (call $cancel-read (local.get $s)))))
      (call $drop-readable (local.get $s))
      (call $task.return (local.get $ret)))
    (func (export "write-once")
      (local $ends i64) (local $w i32) (local $ret i32)
      (local.set $ends (call $new))
      (call $sink (i32.wrap_i64 (local.get $ends)))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (i32.store16 (i32.const 16) (i32.const 0x0605))
      (local.set $ret (call $write (local.get $w) (i32.const 16) (i32.const 2)))
      (if (i32.eq (local.get $ret) (i32.const -1)) (then (drop (call $cancel-write (local.get $w)))))
      (call $drop-writable (local.get $w))
      (call $task.return (local.get $ret))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "sink" (func $sink'))
    (export "read" (func $read))
    (export "cancel-read" (func $cancel-read))
    (export "drop-readable" (func $drop-readable))
    (export "new" (func $new))
    (export "write" (func $write))
    (export "cancel-write" (func $cancel-write))
    (export "drop-writable" (func $drop-writable))
    (export "task.return" (func $task.return))))))
  (func (export "read-once") async (param "s" $SR) (result u32) (canon lift (core func $m "read-once") async))
  (func (export "write-once") async (result u32) (canon lift (core func $m "write-once") async)))
"#;

/// Pending forever, waking no one.
struct NeverProducer;

impl<D> weld::component::StreamProducer<D> for NeverProducer {
    type Item = u32;
    fn poll_produce(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: weld::component::StoreContextMut<'_, D>,
        _: weld::component::Destination<'_, u32>,
        _: bool,
    ) -> Poll<weld::Result<weld::component::StreamResult>> {
        Poll::Pending
    }
}

/// An `async` copy whose other end is a host end that can move elements at once completes
/// inside the copy (the host end is polled when the copy starts), rather than blocking
/// until a turn of the event loop; one whose host end is pending blocks, and cancels.
#[test]
fn async_copies_with_a_ready_host_end_complete_at_once() {
    const BLOCKED: u32 = u32::MAX;
    let engine = Engine::default();
    let component = Component::new(&engine, COPY_ONCE).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::<()>::new(&engine);
    let recorded = Recorded::default();
    let sink = recorded.clone();
    linker
        .root()
        .func_wrap(
            "sink",
            move |mut store: weld::component::StoreContextMut<'_, ()>, (s,): (weld::component::StreamReader<u8>,)| {
                s.pipe(&mut store, Recorder(sink.clone()))
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let read_once = instance.get_func(&mut store, "read-once").unwrap();
    let read_once = read_once.typed::<(weld::component::StreamReader<u32>,), (u32,)>(&store).unwrap();
    let stream = weld::component::StreamReader::new(&mut store, VecProducer(vec![1, 2, 3, 4]));
    // COMPLETED (0) with 3 elements, from the copy itself.
    assert_eq!(read_once.call(&mut store, (stream,)).unwrap(), (3 << 4,));
    let stream = weld::component::StreamReader::new(&mut store, NeverProducer);
    assert_eq!(read_once.call(&mut store, (stream,)).unwrap(), (BLOCKED,));
    let write_once = instance.get_func(&mut store, "write-once").unwrap();
    let write_once = write_once.typed::<(), (u32,)>(&store).unwrap();
    assert_eq!(write_once.call(&mut store, ()).unwrap(), (2 << 4,));
    assert_eq!(recorded.0.lock().unwrap().0, [5, 6]);
}

/// A guest that calls an async host import with an async lower, and cancels the subtask
/// when it does not return at once; it returns the state `subtask.cancel` gave.
const CANCEL_HOST_CALL: &str = r#"
(component
  (import "slow" (func $slow async (result u32)))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (core func $slow' (canon lower (func $slow) async (memory (core memory $mem "mem"))))
  (canon subtask.cancel (core func $cancel))
  (canon subtask.drop (core func $drop))
  (canon task.return (result u32) (core func $task.return))
  (core module $M
    (import "" "slow" (func $slow (param i32) (result i32)))
    (import "" "subtask.cancel" (func $cancel (param i32) (result i32)))
    (import "" "subtask.drop" (func $drop (param i32)))
    (import "" "task.return" (func $task.return (param i32)))
    (func (export "run")
      (local $ret i32) (local $state i32)
      (local.set $ret (call $slow (i32.const 16)))
      ;; STARTED (1), with the subtask's handle above the low 4 bits
      (if (i32.ne (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 1)) (then unreachable))
      (local.set $state (call $cancel (i32.shr_u (local.get $ret) (i32.const 4))))
      (call $drop (i32.shr_u (local.get $ret) (i32.const 4)))
      (call $task.return (local.get $state))))
  (core instance $m (instantiate $M (with "" (instance
    (export "slow" (func $slow'))
    (export "subtask.cancel" (func $cancel))
    (export "subtask.drop" (func $drop))
    (export "task.return" (func $task.return))))))
  (func (export "run") async (result u32) (canon lift (core func $m "run") async)))
"#;

/// Sets its flag when dropped.
struct SetOnDrop(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn cancelling_a_pending_host_call_drops_its_future() {
    let engine = Engine::default();
    let component = Component::new(&engine, CANCEL_HOST_CALL).unwrap();
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut linker = Linker::<()>::new(&engine);
    let flag = dropped.clone();
    linker
        .root()
        .func_wrap_concurrent("slow", move |_, (): ()| {
            let guard = SetOnDrop(flag.clone());
            Box::pin(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok((1u32,))
            })
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let mut out = [Val::Bool(false)];
    run.call(&mut store, &[], &mut out).unwrap();
    // CANCELLED_BEFORE_RETURNED
    assert_eq!(out[0], Val::U32(4));
    assert!(dropped.load(std::sync::atomic::Ordering::SeqCst), "the host future was dropped");
}

/// A synchronous export calling a synchronous import that the host implements with a
/// future: the call waits for the future (the thread blocks on the store's waker), since to
/// the guest it is only a slow call.
#[test]
fn a_sync_import_may_be_implemented_with_a_future() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
          (import "slow" (func $slow (result u32)))
          (core func $slow' (canon lower (func $slow)))
          (core module $M
            (import "" "slow" (func $slow (result i32)))
            (func (export "run") (result i32) (i32.add (call $slow) (i32.const 1))))
          (core instance $m (instantiate $M (with "" (instance (export "slow" (func $slow'))))))
          (func (export "run") (result u32) (canon lift (core func $m "run"))))"#,
    )
    .unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap_concurrent("slow", |_, (): ()| {
            Box::pin(async move {
                YieldTimes(3).await;
                Ok((41u32,))
            })
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_typed_func::<(), (u32,)>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), (42,));
}
