//! The host's ends of streams and futures, on Wasmtime's shapes: [`StreamReader`] and
//! [`FutureReader`] (the readable end, as a typed value that host functions take and
//! return), a [`StreamProducer`] that writes what a guest reads, a [`StreamConsumer`] that
//! reads what a guest writes, and the drivers through which the store's loop polls them.
//! The [`Source`] and [`Destination`] they move elements through are in `host_buffers.rs`.
//!
//! A producer or consumer is polled, with the store, when the guest on the other side
//! starts a copy (so that an `async` copy the host can serve at once completes at once),
//! and then by the store's event loop while that copy is pending
//! (`concurrent/host_work.rs`). It moves elements straight between the guest's buffer and
//! its own, `list<u8>`-style bulk copies for bytes and one value at a time otherwise. It
//! learns that the guest dropped its end by being dropped.
//!
//! The untyped [`StreamAny`] and [`FutureAny`] have the same ends, with elements as
//! [`Val`]s ([`Source::read_vals`], [`Destination::write_vals`]).
//!
//! A guest's future reaches the host the same way: a [`FutureConsumer`] takes its value, and
//! a [`FutureProducer`] gives one with the store at hand (to put a resource in a table, say).
//!
//! The host may also hold both ends: a stream or future it made whose readable end came back
//! to it and that it pipes into a consumer. The store's loop then moves the elements from
//! the producer to the consumer itself (`concurrent/host_pipe.rs`), through a host buffer
//! that [`Source`] and [`Destination`] read and write as they do a guest's.
//!
//! Not offered yet: a host writer of a stream or future handed to a guest other than through
//! a value (Wasmtime's `StreamWriter`).

use super::component_type::ComponentType;
use super::concurrent::host_pipe;
use super::concurrent::host_work::{EndBuffer, EndOutcome, HostEndDriver};
use super::concurrent::state::{HostEnd, Shared};
use super::host_buffers::{Destination, Source};
use super::lift::Lift;
use super::lower::Lower;
use super::types::{FutureType, InterfaceType, StreamType};
use super::values::Val;
use super::{FutureAny, StreamAny};
use crate::store::{AsContextMut, StoreContextMut, StoreInner};
use anyhow::{Result, anyhow, bail};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// How a producer's or consumer's turn ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamResult {
    /// It moved what it could and may move more later.
    Completed,
    /// It was cancelled before it moved anything.
    Cancelled,
    /// It is done: its end of the stream is dropped.
    Dropped,
}

/// The host's readable end of a stream whose writer is a guest: consumes what the guest
/// writes.
pub trait StreamConsumer<D>: Send + 'static {
    /// The stream's element type.
    type Item;

    /// Takes elements that the guest wrote from `source` (all, some or none of them), with
    /// the store. `Pending` holds the guest's write until a later poll is ready; the waker
    /// in `cx` says when. `finish` is never set by weld yet (it asks for an early end).
    fn poll_consume(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        source: Source<'_, Self::Item>,
        finish: bool,
    ) -> Poll<Result<StreamResult>>;
}

/// The host's writable end of a stream whose reader is a guest: produces what the guest
/// reads.
pub trait StreamProducer<D>: Send + 'static {
    /// The stream's element type.
    type Item;

    /// Writes elements into `destination` (the room the guest's read left), with the
    /// store. `Dropped` ends the stream after what was written; `Pending` holds the guest's
    /// read until a later poll is ready.
    fn poll_produce(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        destination: Destination<'_, Self::Item>,
        finish: bool,
    ) -> Poll<Result<StreamResult>>;
}

/// The host's readable end of a future whose writer is a guest: takes the value the guest
/// writes.
pub trait FutureConsumer<D>: Send + 'static {
    /// The future's value type.
    type Item;

    /// Takes the value the guest wrote from `source` (with [`Source::read`]), with the
    /// store. `Pending` holds the guest's write until a later poll is ready; the waker in
    /// `cx` says when. A consumer that returns `Ready(Ok(()))` is done: it is dropped once
    /// the guest drops its end. `finish` is never set by weld yet.
    fn poll_consume(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        source: Source<'_, Self::Item>,
        finish: bool,
    ) -> Poll<Result<()>>;
}

/// The host's writable end of a future whose reader is a guest (or the host): gives its
/// value, with the store.
pub trait FutureProducer<D>: Send + 'static {
    /// The future's value type.
    type Item;

    /// The value once there is one (`Some`), or `None` to drop the future without a value
    /// (the reader learns that the writer went). `Pending` holds the reader's read until a
    /// later poll is ready; the waker in `cx` says when. Polled again after `Ready` only if
    /// the value could not be delivered yet. `finish` is never set by weld yet.
    fn poll_produce(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        finish: bool,
    ) -> Poll<Result<Option<Self::Item>>>;
}

/// Maps a producer's or consumer's result to the loop's.
fn outcome(r: Poll<Result<StreamResult>>) -> Poll<Result<EndOutcome>> {
    r.map(|r| {
        r.map(|r| match r {
            StreamResult::Completed | StreamResult::Cancelled => EndOutcome::Completed,
            StreamResult::Dropped => EndOutcome::Dropped,
        })
    })
}

struct ConsumerDriver<C>(Pin<Box<C>>);

impl<D, C: StreamConsumer<D>> HostEndDriver<StoreInner<D>> for ConsumerDriver<C> {
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        store: &mut StoreInner<D>,
        _shared: usize,
        at: EndBuffer<'_>,
    ) -> Poll<Result<EndOutcome>> {
        let source = Source::new(at);
        outcome(self.0.as_mut().poll_consume(cx, StoreContextMut(store), source, false))
    }
}

struct FutureConsumerDriver<C>(Pin<Box<C>>);

impl<D, C: FutureConsumer<D>> HostEndDriver<StoreInner<D>> for FutureConsumerDriver<C> {
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        store: &mut StoreInner<D>,
        _shared: usize,
        at: EndBuffer<'_>,
    ) -> Poll<Result<EndOutcome>> {
        let source = Source::new(at);
        self.0
            .as_mut()
            .poll_consume(cx, StoreContextMut(store), source, false)
            .map(|r| r.map(|()| EndOutcome::Completed))
    }
}

struct ProducerDriver<P>(Pin<Box<P>>);

impl<D, P: StreamProducer<D>> HostEndDriver<StoreInner<D>> for ProducerDriver<P> {
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        store: &mut StoreInner<D>,
        shared: usize,
        at: EndBuffer<'_>,
    ) -> Poll<Result<EndOutcome>> {
        let destination = Destination::new(shared, at);
        outcome(self.0.as_mut().poll_produce(cx, StoreContextMut(store), destination, false))
    }
}

/// Writes a host future's value into the guest's read once the future has it.
struct FutureDriver<T> {
    fut: Option<Pin<Box<dyn Future<Output = Result<T>> + Send>>>,
    value: Option<T>,
}

impl<D, T: Lower> HostEndDriver<StoreInner<D>> for FutureDriver<T> {
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        store: &mut StoreInner<D>,
        shared: usize,
        at: EndBuffer<'_>,
    ) -> Poll<Result<EndOutcome>> {
        if let Some(fut) = &mut self.fut {
            match fut.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(v)) => {
                    self.fut = None;
                    self.value = Some(v);
                }
            }
        }
        let Some(value) = self.value.take() else { return Poll::Ready(Ok(EndOutcome::Dropped)) };
        let mut destination = Destination::new(shared, at);
        let mut items = vec![value];
        Poll::Ready(destination.write(StoreContextMut(store), &mut items).map(|_| EndOutcome::Completed))
    }
}

/// Writes a [`FutureProducer`]'s value into the reader's read once it has one.
struct FutureProducerDriver<P, D> {
    producer: Pin<Box<P>>,
    /// Set once the producer gave its value: it is not polled again.
    done: bool,
    _data: PhantomData<fn() -> D>,
}

impl<D, P: FutureProducer<D>> HostEndDriver<StoreInner<D>> for FutureProducerDriver<P, D>
where
    P::Item: FutureValue,
{
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        store: &mut StoreInner<D>,
        shared: usize,
        at: EndBuffer<'_>,
    ) -> Poll<Result<EndOutcome>> {
        if self.done {
            return Poll::Ready(Ok(EndOutcome::Dropped));
        }
        let value = match self.producer.as_mut().poll_produce(cx, StoreContextMut(store), false) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(None)) => return Poll::Ready(Ok(EndOutcome::Dropped)),
            Poll::Ready(Ok(Some(value))) => value,
        };
        self.done = true;
        let mut destination = Destination::new(shared, at);
        Poll::Ready(value.write_into(&mut destination, StoreContextMut(store)).map(|()| EndOutcome::Completed))
    }
}

/// A future's value as its host driver writes it: a Rust value by its [`Lower`], a [`Val`]
/// checked against the future's type.
trait FutureValue: Sized {
    fn write_into<D>(self, destination: &mut Destination<'_, Self>, store: StoreContextMut<'_, D>) -> Result<()>;
}

impl<T: Lower> FutureValue for T {
    fn write_into<D>(self, destination: &mut Destination<'_, T>, store: StoreContextMut<'_, D>) -> Result<()> {
        destination.write(store, &mut vec![self]).map(drop)
    }
}

impl FutureValue for Val {
    fn write_into<D>(self, destination: &mut Destination<'_, Val>, store: StoreContextMut<'_, D>) -> Result<()> {
        destination.write_vals(store, &mut vec![self]).map(drop)
    }
}

/// Creates the shared state of a future or stream of type `ty` whose writable end the host
/// holds (with `driver`), and whose readable end is a value on its way to a guest.
fn new_host_written<D>(
    store: &mut StoreInner<D>,
    ty: InterfaceType,
    driver: Box<dyn HostEndDriver<StoreInner<D>>>,
) -> u32 {
    let c = &mut store.opaque_mut().concurrent;
    let shared = c.shared.insert(Shared {
        in_transit: true,
        host_end: Some(HostEnd::Writable),
        host_created: true,
        ..Shared::new(ty)
    });
    store.host_work.ends.insert(shared, Some(driver));
    shared as u32
}

/// Makes the host the reader of the readable end `shared` of a future or stream, which a
/// guest passed out (it is a value on its way), with `driver`.
fn take_readable<D: 'static>(
    store: &mut StoreInner<D>,
    shared: u32,
    driver: Box<dyn HostEndDriver<StoreInner<D>>>,
) -> Result<()> {
    let c = &mut store.opaque_mut().concurrent;
    let s = c.shared.get_mut(shared as usize).ok_or_else(|| anyhow!("the stream or future no longer exists"))?;
    if !s.in_transit {
        bail!("this stream or future was already passed on: a readable end goes to one place");
    }
    s.in_transit = false;
    if s.host_end == Some(HostEnd::Writable) {
        // The host made it: its producer writes, the loop moves the elements to `driver`.
        s.host_end = Some(HostEnd::Both);
        let (bytes, future) = (matches!(s.payload(), Some(InterfaceType::U8)), s.is_future());
        let Some(Some(producer)) = store.host_work.ends.remove(&(shared as usize)) else {
            bail!("bug: a stream or future the host writes has no producer");
        };
        host_pipe::start(store, shared as usize, producer, driver, bytes, future);
        return Ok(());
    }
    if s.dropped {
        // The writer is gone already: the consumer learns it by being dropped, and the
        // shared state goes with this, its last end.
        s.live_ends -= 1;
        if s.live_ends == 0 {
            c.shared.remove(shared as usize);
        }
        drop(driver);
        return Ok(());
    }
    s.host_end = Some(HostEnd::Readable);
    store.host_work.ends.insert(shared as usize, Some(driver));
    Ok(())
}

/// The readable end of a `stream<T>` held by the host: received from a guest (then
/// [`pipe`](Self::pipe) it into a consumer) or made by the host with a producer (then pass
/// it to a guest).
pub struct StreamReader<T> {
    any: StreamAny,
    _items: PhantomData<fn() -> T>,
}

impl<T> StreamReader<T> {
    /// A stream whose elements `producer` writes, to pass to a guest.
    pub fn new<D, P: StreamProducer<D, Item = T>>(mut store: impl AsContextMut<Data = D>, producer: P) -> Self
    where
        T: ComponentType,
    {
        let store = store.as_context_mut();
        let id = store.opaque().id();
        let ty = InterfaceType::Stream(Arc::new(StreamType::new(Some(T::ty()))));
        let shared = new_host_written(store, ty, Box::new(ProducerDriver(Box::pin(producer))));
        StreamReader { any: StreamAny { store: id, shared }, _items: PhantomData }
    }

    /// Hands what the guest writes to `consumer`, until the guest drops its writable end
    /// (the consumer is then dropped) or the consumer returns [`StreamResult::Dropped`]. A
    /// stream the host made with [`new`](Self::new) is moved from its producer to `consumer`
    /// by the store's loop, the same way.
    pub fn pipe<D: 'static, C: StreamConsumer<D, Item = T>>(
        self,
        mut store: impl AsContextMut<Data = D>,
        consumer: C,
    ) -> Result<()> {
        let store = store.as_context_mut();
        take_readable(store, self.any.shared, Box::new(ConsumerDriver(Box::pin(consumer))))
    }

    /// The untyped end.
    pub fn into_any(self) -> StreamAny {
        self.any
    }
}

/// The readable end of a `future<T>` held by the host: received from a guest (then
/// [`pipe`](Self::pipe) it into a consumer) or made by the host from a Rust future (then
/// pass it to a guest).
pub struct FutureReader<T> {
    any: FutureAny,
    _value: PhantomData<fn() -> T>,
}

impl<T: ComponentType + Lower + Send + 'static> FutureReader<T> {
    /// A future whose value `fut` gives, to pass to a guest. The store's event loop polls
    /// `fut` once the guest reads.
    pub fn new<D>(
        mut store: impl AsContextMut<Data = D>,
        fut: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Self {
        let store = store.as_context_mut();
        let id = store.opaque().id();
        let ty = InterfaceType::Future(Arc::new(FutureType::new(Some(T::ty()))));
        let driver = FutureDriver::<T> { fut: Some(Box::pin(fut)), value: None };
        let shared = new_host_written(store, ty, Box::new(driver));
        FutureReader { any: FutureAny { store: id, shared }, _value: PhantomData }
    }

    /// A future whose value `producer` gives, with the store, to pass to a guest. The
    /// store's event loop polls `producer` once the reader reads.
    pub fn from_producer<D: 'static, P: FutureProducer<D, Item = T>>(
        mut store: impl AsContextMut<Data = D>,
        producer: P,
    ) -> Self {
        let store = store.as_context_mut();
        let id = store.opaque().id();
        let ty = InterfaceType::Future(Arc::new(FutureType::new(Some(T::ty()))));
        let driver = FutureProducerDriver { producer: Box::pin(producer), done: false, _data: PhantomData };
        let shared = new_host_written(store, ty, Box::new(driver));
        FutureReader { any: FutureAny { store: id, shared }, _value: PhantomData }
    }
}

impl<T> FutureReader<T> {
    /// Hands the value the guest writes to `consumer`. If the guest drops its writable end
    /// without writing, the consumer is dropped without a value. A future the host made is
    /// read from its Rust future or producer by the store's loop, the same way.
    pub fn pipe<D: 'static, C: FutureConsumer<D, Item = T>>(
        self,
        mut store: impl AsContextMut<Data = D>,
        consumer: C,
    ) -> Result<()> {
        let store = store.as_context_mut();
        take_readable(store, self.any.shared, Box::new(FutureConsumerDriver(Box::pin(consumer))))
    }

    /// The untyped end.
    pub fn into_any(self) -> FutureAny {
        self.any
    }
}

/// `ComponentType`, `Lift` and `Lower` for the typed readable ends: they cross as the
/// `Val::Stream`/`Val::Future` they wrap, which the store's handle tables give and take.
macro_rules! readable_end {
    ($reader:ident, $any:ident, $variant:ident, $ty:ident, $what:literal, $field:ident) => {
        impl<T: ComponentType> ComponentType for $reader<T> {
            fn ty() -> InterfaceType {
                InterfaceType::$variant(Arc::new($ty::new(Some(T::ty()))))
            }

            fn typecheck(ty: &InterfaceType) -> Result<()> {
                match ty {
                    InterfaceType::$variant(t) => match t.payload() {
                        Some(p) => T::typecheck(p),
                        None => bail!(concat!("type mismatch: a ", $what, " without a payload")),
                    },
                    other => bail!(concat!("type mismatch: expected {}, found a Rust type for a ", $what), other),
                }
            }
        }

        impl<T: ComponentType> Lift for $reader<T> {
            fn from_val(val: Val) -> Result<Self> {
                match val {
                    Val::$variant(any) => Ok($reader { any, $field: PhantomData }),
                    other => bail!(concat!("expected a ", $what, ", found {}"), other.kind()),
                }
            }
        }

        impl<T: ComponentType> Lower for $reader<T> {
            fn to_val(&self) -> Val {
                Val::$variant(self.any)
            }
        }
    };
}

readable_end!(StreamReader, StreamAny, Stream, StreamType, "stream", _items);
readable_end!(FutureReader, FutureAny, Future, FutureType, "future", _value);

impl StreamAny {
    /// A stream of type `ty` (a `stream<T>` type, as [`Func::params`](super::Func::params)
    /// gives) whose elements `producer` writes as values, to pass to a guest.
    pub fn new<D, P: StreamProducer<D, Item = Val>>(
        mut store: impl AsContextMut<Data = D>,
        ty: &InterfaceType,
        producer: P,
    ) -> Result<StreamAny> {
        if !matches!(ty, InterfaceType::Stream(_)) {
            bail!("`StreamAny::new` needs a stream type, not `{ty}`");
        }
        let store = store.as_context_mut();
        let id = store.opaque().id();
        let shared = new_host_written(store, ty.clone(), Box::new(ProducerDriver(Box::pin(producer))));
        Ok(StreamAny { store: id, shared })
    }

    /// Hands what the guest writes, as values, to `consumer` (as [`StreamReader::pipe`]).
    pub fn pipe<D: 'static, C: StreamConsumer<D, Item = Val>>(
        self,
        mut store: impl AsContextMut<Data = D>,
        consumer: C,
    ) -> Result<()> {
        let store = store.as_context_mut();
        if self.store != store.opaque().id() {
            bail!("a stream of another store was given");
        }
        take_readable(store, self.shared, Box::new(ConsumerDriver(Box::pin(consumer))))
    }
}

impl FutureAny {
    /// A future of type `ty` (a `future<T>` type, as [`Func::params`](super::Func::params)
    /// gives) whose value `producer` gives, to pass to a guest. The value is checked against
    /// `T` when it is written.
    pub fn new<D: 'static, P: FutureProducer<D, Item = Val>>(
        mut store: impl AsContextMut<Data = D>,
        ty: &InterfaceType,
        producer: P,
    ) -> Result<FutureAny> {
        if !matches!(ty, InterfaceType::Future(_)) {
            bail!("`FutureAny::new` needs a future type, not `{ty}`");
        }
        let store = store.as_context_mut();
        let id = store.opaque().id();
        let driver = FutureProducerDriver { producer: Box::pin(producer), done: false, _data: PhantomData };
        let shared = new_host_written(store, ty.clone(), Box::new(driver));
        Ok(FutureAny { store: id, shared })
    }

    /// Hands the value the guest writes, as a value, to `consumer` (as
    /// [`FutureReader::pipe`]; it reads it with [`Source::read_vals`]).
    pub fn pipe<D: 'static, C: FutureConsumer<D, Item = Val>>(
        self,
        mut store: impl AsContextMut<Data = D>,
        consumer: C,
    ) -> Result<()> {
        let store = store.as_context_mut();
        if self.store != store.opaque().id() {
            bail!("a future of another store was given");
        }
        take_readable(store, self.shared, Box::new(FutureConsumerDriver(Box::pin(consumer))))
    }
}
