//! The host reading futures that guests write: `FutureReader::pipe` and `FutureAny::pipe`
//! with a `FutureConsumer`, typed and untyped, with the value written and with the writer
//! dropped unwritten (a trap); and a future of resource handles passed by the host from one
//! component to another, whose numbers for the resource differ.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use weld::component::{Component, FutureAny, FutureConsumer, FutureReader, Linker, Source, StoreContextMut, Val};
use weld::{Engine, Store};

/// A guest whose stackful `run(x, write)` makes a `future<u32>`, hands its readable end to the
/// host's `take`, then either writes `x + 1` into it (blocking until the host has read it) or
/// drops the writable end unwritten (which traps); it returns what its write returned
/// (COMPLETED 0, DROPPED 1).
const GIVE_FUTURE: &str = r#"
(component
  (type $FT (future u32))
  (import "take" (func $take (param "f" $FT)))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (core func $take' (canon lower (func $take)))
  (canon future.new $FT (core func $future.new))
  (canon future.write $FT (memory (core memory $mem "mem")) (core func $future.write))
  (canon future.drop-writable $FT (core func $future.drop-writable))
  (canon task.return (result u32) (core func $task.return))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "take" (func $take (param i32)))
    (import "" "future.new" (func $future.new (result i64)))
    (import "" "future.write" (func $future.write (param i32 i32) (result i32)))
    (import "" "future.drop-writable" (func $future.drop-writable (param i32)))
    (import "" "task.return" (func $task.return (param i32)))
    (func (export "run") (param $x i32) (param $write i32)
      (local $ends i64) (local $w i32) (local $ret i32)
      (local.set $ends (call $future.new))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (call $take (i32.wrap_i64 (local.get $ends)))
      (local.set $ret (i32.const 2))
      (if (local.get $write) (then
        (i32.store (i32.const 16) (i32.add (local.get $x) (i32.const 1)))
        (local.set $ret (call $future.write (local.get $w) (i32.const 16)))))
      (call $future.drop-writable (local.get $w))
      (call $task.return (local.get $ret))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "take" (func $take'))
    (export "future.new" (func $future.new))
    (export "future.write" (func $future.write))
    (export "future.drop-writable" (func $future.drop-writable))
    (export "task.return" (func $task.return))))))
  (func (export "run") async (param "x" u32) (param "write" bool) (result u32)
    (canon lift (core func $m "run") async)))
"#;

/// What the consumers saw: `Some(v)` per value read, `None` per consumer dropped unread.
type Seen = Arc<Mutex<Vec<Option<Val>>>>;

/// Reads the guest's value (typed `u32` or as a `Val`) into `seen`; records `None` if it is
/// dropped without one.
struct Record<T> {
    seen: Seen,
    read: bool,
    _item: std::marker::PhantomData<fn() -> T>,
}

impl<T> Record<T> {
    fn new(seen: &Seen) -> Self {
        Record { seen: seen.clone(), read: false, _item: std::marker::PhantomData }
    }
}

impl<T> Drop for Record<T> {
    fn drop(&mut self) {
        if !self.read {
            self.seen.lock().unwrap().push(None);
        }
    }
}

impl<D> FutureConsumer<D> for Record<u32> {
    type Item = u32;
    fn poll_consume(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, u32>,
        _: bool,
    ) -> Poll<weld::Result<()>> {
        let mut buf = Vec::new();
        source.read(store, &mut buf)?;
        assert_eq!(buf.len(), 1, "a future's write offers one value");
        self.read = true;
        self.seen.lock().unwrap().push(Some(Val::U32(buf[0])));
        Poll::Ready(Ok(()))
    }
}

impl<D> FutureConsumer<D> for Record<Val> {
    type Item = Val;
    fn poll_consume(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, Val>,
        _: bool,
    ) -> Poll<weld::Result<()>> {
        let mut buf = Vec::new();
        source.read_vals(store, &mut buf)?;
        self.read = true;
        self.seen.lock().unwrap().extend(buf.into_iter().map(Some));
        Poll::Ready(Ok(()))
    }
}

/// Runs `run(x, write)`; returns its result and what the consumer saw once the store is gone.
fn run(typed: bool, x: u32, write: bool) -> (Result<u32, String>, Vec<Option<Val>>) {
    let engine = Engine::default();
    let component = Component::new(&engine, GIVE_FUTURE).unwrap();
    let seen: Seen = Arc::default();
    let mut linker = Linker::<()>::new(&engine);
    let consumers = seen.clone();
    if typed {
        linker
            .root()
            .func_wrap("take", move |store: StoreContextMut<'_, ()>, (f,): (FutureReader<u32>,)| {
                f.pipe(store, Record::<u32>::new(&consumers))
            })
            .unwrap();
    } else {
        linker
            .root()
            .func_new("take", move |store, _ty, params, _| {
                let Val::Future(f) = &params[0] else { panic!("`take` got {:?}", params[0]) };
                FutureAny::pipe(*f, store, Record::<Val>::new(&consumers))
            })
            .unwrap();
    }
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_typed_func::<(u32, bool), (u32,)>(&mut store, "run").unwrap();
    let ret = run.call(&mut store, (x, write)).map(|(r,)| r).map_err(|e| format!("{e:#}"));
    drop(store);
    let seen = seen.lock().unwrap().clone();
    (ret, seen)
}

#[test]
fn the_host_reads_a_guest_future_typed_and_untyped() {
    for typed in [true, false] {
        // The write completes (0) once the host's consumer has taken the value.
        assert_eq!(run(typed, 41, true), (Ok(0), vec![Some(Val::U32(42))]), "typed: {typed}");
        // Dropping a future's writable end unwritten traps (the spec's rule); the consumer
        // goes without a value, at the latest with the store.
        let (ret, seen) = run(typed, 41, false);
        let err = ret.unwrap_err();
        assert!(err.contains("without first writing a value"), "{err}");
        assert_eq!(seen, vec![None], "typed: {typed}");
    }
}

/// A component that makes a `future<own<thing>>`, hands its readable end to the host's
/// `take`, then writes the handle it was given into it (blocking until it is read).
const WRITE_THING: &str = r#"
(component
  (import "thing" (type $T (sub resource)))
  (type $FT (future (own $T)))
  (import "take" (func $take (param "f" $FT)))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (core func $take' (canon lower (func $take)))
  (canon future.new $FT (core func $future.new))
  (canon future.write $FT (memory (core memory $mem "mem")) (core func $future.write))
  (canon future.drop-writable $FT (core func $future.drop-writable))
  (canon task.return (core func $task.return))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "take" (func $take (param i32)))
    (import "" "future.new" (func $future.new (result i64)))
    (import "" "future.write" (func $future.write (param i32 i32) (result i32)))
    (import "" "future.drop-writable" (func $drop (param i32)))
    (import "" "task.return" (func $task.return))
    (func (export "run") (param $t i32)
      (local $ends i64) (local $w i32)
      (local.set $ends (call $future.new))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (call $take (i32.wrap_i64 (local.get $ends)))
      (i32.store (i32.const 16) (local.get $t))
      (drop (call $future.write (local.get $w) (i32.const 16)))
      (call $drop (local.get $w))
      (call $task.return)))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "take" (func $take'))
    (export "future.new" (func $future.new))
    (export "future.write" (func $future.write))
    (export "future.drop-writable" (func $future.drop-writable))
    (export "task.return" (func $task.return))))))
  (func (export "run") async (param "t" (own $T)) (canon lift (core func $m "run") async)))
"#;

/// A component that imports another resource before `thing` (so its number for `thing` is
/// not the writer's) and reads a `future<own<RESOURCE>>` to its handle.
fn read_handle(resource: &str) -> String {
    format!(
        r#"
(component
  (import "other" (type $O (sub resource)))
  (import "thing" (type $T (sub resource)))
  (type $FT (future (own ${resource})))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (canon future.read $FT (memory (core memory $mem "mem")) (core func $future.read))
  (canon future.drop-readable $FT (core func $future.drop-readable))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "future.read" (func $future.read (param i32 i32) (result i32)))
    (import "" "future.drop-readable" (func $drop (param i32)))
    (func (export "get") (param $f i32) (result i32)
      (drop (call $future.read (local.get $f) (i32.const 16)))
      (call $drop (local.get $f))
      (i32.load (i32.const 16)))
    (func (export "ignore") (param i32)))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "future.read" (func $future.read))
    (export "future.drop-readable" (func $future.drop-readable))))))
  (func (export "ignore") (param "o" (own $O)) (canon lift (core func $m "ignore")))
  (func (export "get") async (param "f" $FT) (result (own ${resource})) (canon lift (core func $m "get"))))
"#
    )
}

struct Thing;
struct Other;

/// Component A writes a handle into a future whose readable end goes, through the host, to
/// component B, another root instance in the same store whose number for the resource is
/// not A's. Returns what B's `get` returned.
fn pass_handle_between_components(resource: &str) -> weld::Result<weld::component::Resource<Thing>> {
    use weld::component::{Resource, ResourceType};
    let engine = Engine::default();
    let mut linker = Linker::<Option<FutureReader<Resource<Thing>>>>::new(&engine);
    let mut root = linker.root();
    root.resource("thing", ResourceType::host::<Thing>(), |_, _| Ok(()))?;
    root.resource("other", ResourceType::host::<Other>(), |_, _| Ok(()))?;
    root.func_wrap("take", |mut store: StoreContextMut<'_, _>, (f,): (FutureReader<Resource<Thing>>,)| {
        *store.data_mut() = Some(f);
        Ok(())
    })?;
    let mut store = Store::new(&engine, None);
    let a = linker.instantiate(&mut store, &Component::new(&engine, WRITE_THING)?)?;
    let b = linker.instantiate(&mut store, &Component::new(&engine, read_handle(resource))?)?;
    let run = a.get_typed_func::<(Resource<Thing>,), ()>(&mut store, "run")?;
    let get = b.get_typed_func::<(FutureReader<Resource<Thing>>,), (Resource<Thing>,)>(&mut store, "get")?;
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    rt.block_on(store.run_concurrent(async |accessor| {
        let mut run = std::pin::pin!(run.call_concurrent(accessor, (Resource::new_own(7),)));
        let future = std::future::poll_fn(|cx| {
            if let Poll::Ready(Err(e)) = run.as_mut().poll(cx) {
                return Poll::Ready(Err(e));
            }
            match accessor.with(|mut store| store.data_mut().take()) {
                Some(f) => Poll::Ready(Ok(f)),
                None => Poll::Pending,
            }
        })
        .await?;
        let (got,) = get.call_concurrent(accessor, (future,)).await?;
        run.await?;
        Ok(got)
    }))?
}

#[test]
fn a_future_of_handles_goes_between_two_components_through_the_host() {
    let got = pass_handle_between_components("T").unwrap();
    assert_eq!((got.rep(), got.owned()), (7, true));
    // A future of another resource type is refused where it is lowered.
    let err = format!("{:#}", pass_handle_between_components("O").unwrap_err());
    assert!(err.contains("expected a `future<own<"), "{err}");
}
