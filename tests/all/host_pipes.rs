//! Streams and futures whose two ends the host holds: a stream or future the host made
//! (`StreamReader::new`, `FutureReader::new`, `FutureReader::from_producer`) whose readable
//! end the host pipes into its own consumer, straight away or after a guest passed it back.
//! The store's loop moves the elements between them; and a `FutureProducer` gives its value
//! with the store at hand.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use weld::component::{
    Component, Destination, FutureConsumer, FutureProducer, FutureReader, Linker, Source, StoreContextMut,
    StreamConsumer, StreamProducer, StreamReader, StreamResult, Val,
};
use weld::{Engine, Store};

/// A guest that hands back the stream and the future it is given (`pass`, `pass-future`),
/// and reads a `future<u32>` to its value (`get`, blocking until the value is there).
const GUEST: &str = r#"
(component
  (type $ST (stream u8))
  (type $FT (future u32))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (canon future.read $FT (memory (core memory $mem "mem")) (core func $future.read))
  (canon future.drop-readable $FT (core func $future.drop-readable))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "future.read" (func $future.read (param i32 i32) (result i32)))
    (import "" "future.drop-readable" (func $drop (param i32)))
    (func (export "pass") (param i32) (result i32) (local.get 0))
    (func (export "get") (param $f i32) (result i32)
      (drop (call $future.read (local.get $f) (i32.const 16)))
      (call $drop (local.get $f))
      (i32.load (i32.const 16))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "future.read" (func $future.read))
    (export "future.drop-readable" (func $future.drop-readable))))))
  (func (export "pass") (param "s" $ST) (result $ST) (canon lift (core func $m "pass")))
  (func (export "pass-future") (param "f" $FT) (result $FT) (canon lift (core func $m "pass")))
  (func (export "get") async (param "f" $FT) (result u32) (canon lift (core func $m "get"))))
"#;

/// What a test's ends saw: the bytes or values the consumer took, whether it ended (was
/// dropped), and whether the producer was dropped.
#[derive(Default)]
struct Seen {
    bytes: Vec<u8>,
    values: Vec<Val>,
    consumer_dropped: bool,
    producer_dropped: bool,
}

type Shared = Arc<Mutex<Seen>>;

/// Writes its chunks one per poll, pending (and waking at once) before each, then ends.
struct Chunks {
    chunks: Vec<&'static [u8]>,
    waited: bool,
    seen: Shared,
    /// Whether it writes in place ([`Destination::as_direct`]) rather than from a slice.
    direct: bool,
}

impl<D> StreamProducer<D> for Chunks {
    type Item = u8;
    fn poll_produce(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut destination: Destination<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        if !self.waited {
            self.waited = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.waited = false;
        if self.chunks.is_empty() {
            return Poll::Ready(Ok(StreamResult::Dropped));
        }
        let chunk = self.chunks.remove(0);
        let n = if self.direct {
            let mut direct = destination.as_direct(store, chunk.len());
            let room = direct.remaining();
            room.copy_from_slice(&chunk[..room.len()]);
            let n = room.len();
            direct.mark_written(n);
            n
        } else {
            destination.write_slice(store, chunk)?
        };
        assert_eq!(n, chunk.len(), "the host buffer has room for a small chunk");
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

impl Drop for Chunks {
    fn drop(&mut self) {
        self.seen.lock().unwrap().producer_dropped = true;
    }
}

/// Takes bytes (or `u8` values, untyped) into `seen`; with `stop_after`, ends the stream
/// itself once it has taken that many bytes.
struct Take<T> {
    seen: Shared,
    stop_after: Option<usize>,
    /// With `Some(n)`, reads bytes in place ([`Source::as_direct`]), at most `n` a turn.
    direct: Option<usize>,
    _item: std::marker::PhantomData<fn() -> T>,
}

impl<T> Take<T> {
    fn new(seen: &Shared, stop_after: Option<usize>) -> Self {
        Take { seen: seen.clone(), stop_after, direct: None, _item: std::marker::PhantomData }
    }
}

impl<T> Drop for Take<T> {
    fn drop(&mut self) {
        self.seen.lock().unwrap().consumer_dropped = true;
    }
}

impl<D> StreamConsumer<D> for Take<u8> {
    type Item = u8;
    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let mut buf = Vec::new();
        match self.direct {
            Some(most) => {
                let mut direct = source.as_direct(store);
                let offered = direct.remaining();
                let n = offered.len().min(most);
                buf.extend_from_slice(&offered[..n]);
                direct.mark_read(n);
            }
            None => source.read(store, &mut buf)?,
        }
        let mut seen = self.seen.lock().unwrap();
        seen.bytes.extend(buf);
        let stop = self.stop_after.is_some_and(|n| seen.bytes.len() >= n);
        Poll::Ready(Ok(if stop { StreamResult::Dropped } else { StreamResult::Completed }))
    }
}

impl<D> StreamConsumer<D> for Take<Val> {
    type Item = Val;
    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, Val>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let mut buf = Vec::new();
        source.read_vals(store, &mut buf)?;
        self.seen.lock().unwrap().values.extend(buf);
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

impl<D> FutureConsumer<D> for Take<u32> {
    type Item = u32;
    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, u32>,
        _: bool,
    ) -> Poll<weld::Result<()>> {
        let mut buf = Vec::new();
        source.read(store, &mut buf)?;
        self.seen.lock().unwrap().values.extend(buf.into_iter().map(Val::U32));
        Poll::Ready(Ok(()))
    }
}

/// Gives the store's data plus one, after being pending once.
struct DataPlusOne {
    waited: bool,
}

impl FutureProducer<u32> for DataPlusOne {
    type Item = u32;
    fn poll_produce(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, u32>,
        _: bool,
    ) -> Poll<weld::Result<Option<u32>>> {
        if !self.waited {
            self.waited = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Ok(Some(*store.data() + 1)))
    }
}

fn setup() -> (Store<u32>, weld::component::Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST).unwrap();
    let mut store = Store::new(&engine, 41u32);
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    (store, instance)
}

/// Runs the store's loop until `done` says so.
fn run_until(store: &mut Store<u32>, done: impl Fn() -> bool) {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let run = store
        .run_concurrent(async |_| std::future::poll_fn(|_| if done() { Poll::Ready(()) } else { Poll::Pending }).await);
    rt.block_on(run).unwrap();
}

fn chunks(seen: &Shared) -> Chunks {
    Chunks { chunks: vec![b"hello, ", b"pipes"], waited: false, seen: seen.clone(), direct: false }
}

/// Bytes written and read in place through the host buffer between two host ends, the
/// reader taking at most 3 a turn: the rest stays in the buffer for its next turn.
#[test]
fn host_ends_move_bytes_in_place() {
    let (mut store, _) = setup();
    let seen = Shared::default();
    let mut producer = chunks(&seen);
    producer.direct = true;
    let stream = StreamReader::new(&mut store, producer);
    let mut consumer = Take::<u8>::new(&seen, None);
    consumer.direct = Some(3);
    stream.pipe(&mut store, consumer).unwrap();
    let watch = seen.clone();
    run_until(&mut store, || watch.lock().unwrap().consumer_dropped);
    let seen = seen.lock().unwrap();
    assert_eq!(String::from_utf8_lossy(&seen.bytes), "hello, pipes");
    assert!(seen.producer_dropped);
}

#[test]
fn a_host_stream_piped_into_a_host_consumer_moves_its_bytes() {
    for through_guest in [false, true] {
        let (mut store, instance) = setup();
        let seen = Shared::default();
        let mut stream = StreamReader::new(&mut store, chunks(&seen));
        if through_guest {
            let pass = instance.get_typed_func::<(StreamReader<u8>,), (StreamReader<u8>,)>(&mut store, "pass").unwrap();
            stream = pass.call(&mut store, (stream,)).unwrap().0;
        }
        stream.pipe(&mut store, Take::<u8>::new(&seen, None)).unwrap();
        let watch = seen.clone();
        run_until(&mut store, || watch.lock().unwrap().consumer_dropped);
        let seen = seen.lock().unwrap();
        assert_eq!(String::from_utf8_lossy(&seen.bytes), "hello, pipes", "through a guest: {through_guest}");
        assert!(seen.producer_dropped);
    }
}

#[test]
fn an_untyped_consumer_takes_a_host_stream_as_values() {
    let (mut store, _) = setup();
    let seen = Shared::default();
    let stream = StreamReader::new(&mut store, chunks(&seen));
    stream.into_any().pipe(&mut store, Take::<Val>::new(&seen, None)).unwrap();
    let watch = seen.clone();
    run_until(&mut store, || watch.lock().unwrap().consumer_dropped);
    let seen = seen.lock().unwrap();
    let bytes: Vec<u8> = seen.values.iter().map(|v| if let Val::U8(b) = v { *b } else { panic!("{v:?}") }).collect();
    assert_eq!(bytes, b"hello, pipes");
}

#[test]
fn a_consumer_that_ends_the_stream_drops_the_producer() {
    let (mut store, _) = setup();
    let seen = Shared::default();
    let stream = StreamReader::new(&mut store, chunks(&seen));
    stream.pipe(&mut store, Take::<u8>::new(&seen, Some(3))).unwrap();
    let watch = seen.clone();
    run_until(&mut store, || watch.lock().unwrap().producer_dropped);
    let seen = seen.lock().unwrap();
    // The first chunk went whole; the second was never asked for.
    assert_eq!(String::from_utf8_lossy(&seen.bytes), "hello, ");
    assert!(seen.consumer_dropped);
}

#[test]
fn host_futures_reach_a_host_consumer() {
    for (from_producer, through_guest) in [(false, false), (false, true), (true, false), (true, true)] {
        let (mut store, instance) = setup();
        let seen = Shared::default();
        let mut future = if from_producer {
            FutureReader::from_producer(&mut store, DataPlusOne { waited: false })
        } else {
            FutureReader::new(&mut store, async { Ok(7u32) })
        };
        if through_guest {
            let pass = instance
                .get_typed_func::<(FutureReader<u32>,), (FutureReader<u32>,)>(&mut store, "pass-future")
                .unwrap();
            future = pass.call(&mut store, (future,)).unwrap().0;
        }
        future.pipe(&mut store, Take::<u32>::new(&seen, None)).unwrap();
        let watch = seen.clone();
        run_until(&mut store, || watch.lock().unwrap().consumer_dropped);
        let want = if from_producer { 42 } else { 7 };
        assert_eq!(seen.lock().unwrap().values, vec![Val::U32(want)], "{from_producer} {through_guest}");
    }
}

#[test]
fn a_future_producer_gives_a_guest_its_value_with_the_store() {
    let (mut store, instance) = setup();
    let future = FutureReader::from_producer(&mut store, DataPlusOne { waited: false });
    let get = instance.get_typed_func::<(FutureReader<u32>,), (u32,)>(&mut store, "get").unwrap();
    assert_eq!(get.call(&mut store, (future,)).unwrap(), (42,));
}
