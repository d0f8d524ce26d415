//! The guests of EXPECT.md section 4 that need a host speaking streams and futures
//! (wasmtime's `async-readiness`, `async-short-reads` and `async-synchronous-transmit`, as
//! jco's fixtures). Each asserts inside itself what its copies return, so a runtime that
//! reports a copy wrongly traps the guest and fails the call; the host here checks what
//! comes out of the guest's streams and futures.
//!
//! The host's ends wait a few turns of the loop before they move anything ([`YieldTimes`]),
//! so that the guest's first copy finds them not ready and blocks, as the guests expect.

use crate::async_components::{YieldTimes, export_of, p3, wasi_linker};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};
use weld::component::{Component, Instance};
use weld::component::{
    Destination, FutureConsumer, FutureProducer, FutureReader, ResourceAny, Source, StoreContextMut, StreamConsumer,
    StreamProducer, StreamReader, StreamResult,
};
use weld::{Engine, Store};
use weld_wasi::pipe::MemoryOutputPipe;

/// How many turns a host end waits before it moves anything.
const WAIT: u32 = 5;

/// Runs `fut` to its end on a one-thread tokio runtime, failing the test if that takes
/// more than a minute (a hang is a failure, not a stuck CI job).
fn block_on<F: Future>(fut: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    rt.block_on(async { tokio::time::timeout(std::time::Duration::from_secs(60), fut).await })
        .expect("the guest and host did not finish within a minute")
}

/// The jco p3 fixture `general/<name>` instantiated with WASI, in a store whose stderr is
/// kept (a guest's failed assertion prints there).
fn load(name: &str) -> (Store<crate::wasi::Host>, Instance, MemoryOutputPipe) {
    let engine = Engine::default();
    let linker = wasi_linker(&engine);
    let component = Component::from_file(&engine, p3("general", name)).expect("the fixture compiles");
    let (builder, _, stderr) = crate::wasi::captured(b"");
    let mut store = crate::wasi::store(&engine, builder);
    let instance = linker.instantiate(&mut store, &component).expect("the fixture instantiates");
    (store, instance, stderr)
}

/// `result` with the guest's stderr added to its error.
fn with_stderr<R>(result: weld::Result<R>, stderr: &MemoryOutputPipe) -> weld::Result<R> {
    result.map_err(|e| e.context(format!("guest stderr: {}", String::from_utf8_lossy(&stderr.contents()))))
}

/// What a host consumer took, and whether it was dropped (the guest dropped its end); a
/// future of that drop.
struct Taken<T>(Arc<Mutex<TakenState<T>>>);

impl<T> Clone for Taken<T> {
    fn clone(&self) -> Self {
        Taken(self.0.clone())
    }
}

impl<T> Default for Taken<T> {
    fn default() -> Self {
        Taken(Arc::default())
    }
}

struct TakenState<T> {
    items: Vec<T>,
    /// How many turns took something.
    turns: usize,
    ended: bool,
    waker: Option<Waker>,
}

impl<T> Default for TakenState<T> {
    fn default() -> Self {
        TakenState { items: Vec::new(), turns: 0, ended: false, waker: None }
    }
}

impl<T> Taken<T> {
    fn record(&self, items: impl IntoIterator<Item = T>) {
        let mut state = self.0.lock().unwrap();
        state.items.extend(items);
        state.turns += 1;
    }

    fn end(&self) {
        let mut state = self.0.lock().unwrap();
        state.ended = true;
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    }

    /// Ready once the consumer recording here was dropped.
    async fn ended(&self) {
        std::future::poll_fn(|cx| {
            let mut state = self.0.lock().unwrap();
            if state.ended {
                return Poll::Ready(());
            }
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    fn take(&self) -> (Vec<T>, usize) {
        let mut state = self.0.lock().unwrap();
        (std::mem::take(&mut state.items), state.turns)
    }
}

/// After [`WAIT`] turns, writes all its bytes in one turn, in place, and ends the stream. A read with
/// no room (a zero-length read, asking whether the writer is ready) completes with nothing;
/// a read with room for fewer bytes than it has fails the copy.
struct AllAtOnce {
    wait: YieldTimes,
    bytes: Vec<u8>,
}

impl AllAtOnce {
    fn new(bytes: &[u8]) -> Self {
        AllAtOnce { wait: YieldTimes(WAIT), bytes: bytes.to_vec() }
    }
}

impl<D> StreamProducer<D> for AllAtOnce {
    type Item = u8;
    fn poll_produce(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        destination: Destination<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        ready!(Pin::new(&mut self.wait).poll(cx));
        let room = destination.remaining(&mut store);
        if room == 0 {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        if room < self.bytes.len() {
            return Poll::Ready(Err(weld::Error::msg(format!("a read of {room} for {} bytes", self.bytes.len()))));
        }
        // In place, into the guest's memory.
        let mut direct = destination.as_direct(store, self.bytes.len());
        direct.remaining().copy_from_slice(&self.bytes);
        direct.mark_written(self.bytes.len());
        Poll::Ready(Ok(StreamResult::Dropped))
    }
}

/// After [`WAIT`] turns, takes everything the guest writes in one turn, in place, and ends the stream;
/// a write of nothing (a zero-length write, asking whether the reader is ready) completes.
struct TakeAllOnce {
    wait: YieldTimes,
    taken: Taken<u8>,
}

impl<D> StreamConsumer<D> for TakeAllOnce {
    type Item = u8;
    fn poll_consume(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        source: Source<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        ready!(Pin::new(&mut self.wait).poll(cx));
        if source.remaining(&mut store) == 0 {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        // In place, from the guest's memory.
        let mut direct = source.as_direct(store);
        let bytes = direct.remaining().to_vec();
        direct.mark_read(bytes.len());
        self.taken.record(bytes);
        Poll::Ready(Ok(StreamResult::Dropped))
    }
}

impl Drop for TakeAllOnce {
    fn drop(&mut self) {
        self.taken.end();
    }
}

/// `async-readiness`: `start(s, expected)` makes a zero-length read of `s` and a
/// zero-length write of a new stream, which must both block until the host's ends are
/// ready, then reads `expected` from `s` and writes `[1, 3, 5, 7, 11]` to the new stream,
/// each in one copy that must end the stream (`DROPPED` with all the elements).
#[test]
fn readiness_zero_length_copies_wait_for_the_host_ends() {
    let taken = run_readiness(&[2, 4, 6, 8, 9], &[2, 4, 6, 8, 9]).unwrap();
    assert_eq!(taken.take(), (vec![1, 3, 5, 7, 11], 1), "the guest's bytes, in one write");
}

/// The guest checks what it read: told to expect other bytes than the host writes, it
/// traps, and the call fails.
#[test]
fn readiness_guest_traps_on_bytes_it_did_not_expect() {
    let Err(err) = run_readiness(&[2, 4, 6, 8, 9], &[2, 4, 6, 8, 10]) else { panic!("the call succeeded") };
    let err = format!("{err:#}");
    assert!(err.contains("async_readiness.rs") && err.contains("assertion `left == right` failed"), "{err}");
}

fn run_readiness(written: &[u8], expected: &[u8]) -> weld::Result<Taken<u8>> {
    let (mut store, instance, stderr) = load("async-readiness");
    let start = export_of(&mut store, &instance, "local:local/readiness", "start");
    let start = start.typed::<(StreamReader<u8>, Vec<u8>), ((StreamReader<u8>, Vec<u8>),)>(&store)?;
    let input = StreamReader::new(&mut store, AllAtOnce::new(written));
    let taken = Taken::default();
    let expected = expected.to_vec();
    let ran = block_on(store.run_concurrent(async |accessor| {
        let ((output, guest_writes),) = start.call_concurrent(accessor, (input, expected)).await?;
        assert_eq!(guest_writes, [1, 3, 5, 7, 11], "what the guest says it will write");
        let consumer = TakeAllOnce { wait: YieldTimes(WAIT), taken: taken.clone() };
        accessor.with(|store| output.pipe(store, consumer))?;
        taken.ended().await;
        weld::Result::<()>::Ok(())
    }));
    with_stderr(ran.and_then(|r| r), &stderr)?;
    Ok(taken)
}

/// After [`WAIT`] turns (the first time only), writes as many of its elements as the read
/// has room for, and ends the stream with the last.
struct Elements<T> {
    wait: YieldTimes,
    items: Vec<T>,
}

impl<D, T: weld::component::Lower + Send + Unpin + 'static> StreamProducer<D> for Elements<T> {
    type Item = T;
    fn poll_produce(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut destination: Destination<'_, T>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        ready!(Pin::new(&mut self.wait).poll(cx));
        destination.write(store, &mut self.items)?;
        Poll::Ready(Ok(if self.items.is_empty() { StreamResult::Dropped } else { StreamResult::Completed }))
    }
}

/// Takes one element a turn (a short read: the guest keeps the rest of its write), after
/// [`WAIT`] turns each time.
struct OneAtATime<T> {
    wait: YieldTimes,
    taken: Taken<T>,
}

impl<D, T: weld::component::Lift + Send + 'static> StreamConsumer<D> for OneAtATime<T> {
    type Item = T;
    fn poll_consume(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, T>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        ready!(Pin::new(&mut self.wait).poll(cx));
        self.wait = YieldTimes(WAIT);
        let mut one = None;
        source.read(store, &mut one)?;
        self.taken.record(one);
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

impl<T> Drop for OneAtATime<T> {
    fn drop(&mut self) {
        self.taken.end();
    }
}

/// `async-short-reads`: `short-reads(s)` reads the guest's own `thing` resources from the
/// host one at a time, then writes them all back in one write, which the host reads one at
/// a time; every resource comes back, in order, still the guest's.
#[test]
fn short_reads_hand_resources_back_one_at_a_time() {
    let (mut store, instance, stderr) = load("async-short-reads");
    let interface = "local:local/short-reads";
    let new = export_of(&mut store, &instance, interface, "[constructor]thing");
    let new = new.typed::<(String,), (ResourceAny,)>(&store).unwrap();
    let get = export_of(&mut store, &instance, interface, "[method]thing.get");
    let get = get.typed::<(ResourceAny,), (String,)>(&store).unwrap();
    let short_reads = export_of(&mut store, &instance, interface, "short-reads");
    let short_reads = short_reads.typed::<(StreamReader<ResourceAny>,), (StreamReader<ResourceAny>,)>(&store).unwrap();
    let names = ["a", "b", "c", "d", "e"];
    let things: Vec<ResourceAny> = names.iter().map(|n| new.call(&mut store, (n.to_string(),)).unwrap().0).collect();
    let input = StreamReader::new(&mut store, Elements { wait: YieldTimes(WAIT), items: things });
    let taken = Taken::default();
    let ran = block_on(store.run_concurrent(async |accessor| {
        let (output,) = short_reads.call_concurrent(accessor, (input,)).await?;
        let consumer = OneAtATime { wait: YieldTimes(WAIT), taken: taken.clone() };
        accessor.with(|store| output.pipe(store, consumer))?;
        taken.ended().await;
        weld::Result::<()>::Ok(())
    }));
    with_stderr(ran.and_then(|r| r), &stderr).unwrap();
    let (things, turns) = taken.take();
    assert_eq!(turns, names.len(), "one element a turn");
    let back: Vec<String> = things.into_iter().map(|t| get.call(&mut store, (t,)).unwrap().0).collect();
    assert_eq!(back, names);
}

/// After [`WAIT`] turns, gives its value.
struct ValueLater(YieldTimes, u8);

impl<D> FutureProducer<D> for ValueLater {
    type Item = u8;
    fn poll_produce(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _: StoreContextMut<'_, D>,
        _: bool,
    ) -> Poll<weld::Result<Option<u8>>> {
        ready!(Pin::new(&mut self.0).poll(cx));
        Poll::Ready(Ok(Some(self.1)))
    }
}

/// After [`WAIT`] turns, takes the future's value.
struct TakeValue {
    wait: YieldTimes,
    taken: Taken<u8>,
}

impl<D> FutureConsumer<D> for TakeValue {
    type Item = u8;
    fn poll_consume(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<()>> {
        ready!(Pin::new(&mut self.wait).poll(cx));
        let mut value = None;
        source.read(store, &mut value)?;
        self.taken.record(value);
        Poll::Ready(Ok(()))
    }
}

impl Drop for TakeValue {
    fn drop(&mut self) {
        self.taken.end();
    }
}

/// `async-synchronous-transmit`: after returning a new stream and future, `start` reads the
/// host's stream and future and writes its own with synchronous copies, which block its
/// (callback-lifted) task until the host's ends, pending for a few turns, move the elements;
/// each copy must end with all of them (`DROPPED` for the streams, `COMPLETED` for the
/// futures).
#[test]
fn synchronous_copies_block_until_the_host_ends_move() {
    type Params = (StreamReader<u8>, Vec<u8>, FutureReader<u8>, u8);
    let (mut store, instance, stderr) = load("async-synchronous-transmit");
    let start = export_of(&mut store, &instance, "local:local/synchronous-transmit", "start");
    let start = start.typed::<Params, (Params,)>(&store).unwrap();
    let stream = StreamReader::new(&mut store, AllAtOnce::new(&[2, 4, 6, 8, 9]));
    let future = FutureReader::from_producer(&mut store, ValueLater(YieldTimes(WAIT), 10));
    let (bytes, value) = (Taken::default(), Taken::default());
    let ran = block_on(store.run_concurrent(async |accessor| {
        let ((stream, stream_expected, future, future_expected),) =
            start.call_concurrent(accessor, (stream, vec![2, 4, 6, 8, 9], future, 10)).await?;
        assert_eq!((&stream_expected[..], future_expected), (&[1, 3, 5, 7, 11][..], 13), "what the guest will write");
        accessor.with(|mut store| {
            stream.pipe(&mut store, TakeAllOnce { wait: YieldTimes(WAIT), taken: bytes.clone() })?;
            future.pipe(&mut store, TakeValue { wait: YieldTimes(WAIT), taken: value.clone() })
        })?;
        bytes.ended().await;
        value.ended().await;
        weld::Result::<()>::Ok(())
    }));
    with_stderr(ran.and_then(|r| r), &stderr).unwrap();
    assert_eq!(bytes.take(), (vec![1, 3, 5, 7, 11], 1), "the guest's bytes, in one write");
    assert_eq!(value.take(), (vec![13], 1), "the guest's value");
}
