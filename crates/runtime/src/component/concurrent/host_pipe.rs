//! Futures and streams whose two ends the host holds: the host made one with a producer
//! (`StreamReader::new`, `FutureReader::new`), its readable end came back to the host (maybe
//! through guests, which lift it out of a call as a value), and the host pipes it into a
//! consumer. With no guest buffer between them, a [`Pump`] moves the elements: a host task
//! of the loop that lets the producer write into a [`HostBuffer`] while it is empty, then
//! the consumer read from it until it is empty, until one of them is done.
//!
//! The pump waits as its two ends do: each is polled with the loop's waker and says
//! `Pending` until it can go on. An end that reports `Completed` having moved nothing is
//! asked again on the loop's next turn (the pump wakes the loop and yields), so a producer or
//! consumer that never moves anything costs the loop a turn each time but never blocks it.
//!
//! When the producer is done, what it wrote still goes to the consumer, which is then
//! dropped (it learns the end as it does from a guest's drop); when the consumer is done, the
//! producer is dropped. Either way the shared state goes with the pump.

use super::host_poll::with_current_store;
use super::host_work::{Completion, EndBuffer, EndOutcome, HostBuffer, HostEndDriver};
use crate::store::StoreInner;
use anyhow::{Result, anyhow};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// How many bytes a pump of a `stream<u8>` moves at a time.
const BYTES_AT_ONCE: usize = 64 * 1024;

/// How many values a pump of any other stream moves at a time.
const VALUES_AT_ONCE: usize = 64;

/// A driver of one end, boxed as the loop keeps them.
type Driver<T> = Box<dyn HostEndDriver<StoreInner<T>>>;

/// Moves elements from the host's writable end of `shared` (its driver `producer`) to its
/// readable end (`consumer`), as a host task of `store`. `bytes` says whether the elements
/// are bytes; `future` whether it is a future (one value).
pub(crate) fn start<T: 'static>(
    store: &mut StoreInner<T>,
    shared: usize,
    producer: Driver<T>,
    consumer: Driver<T>,
    bytes: bool,
    future: bool,
) {
    let room = if future {
        1
    } else if bytes {
        BYTES_AT_ONCE
    } else {
        VALUES_AT_ONCE
    };
    let pump = Pump {
        shared,
        producer: Some(producer),
        consumer: Some(consumer),
        buffer: HostBuffer::new(bytes, room),
        future,
        _data: PhantomData,
    };
    store.host_work.tasks.insert(Some(Box::pin(pump)));
}

/// A host task moving the elements of one future or stream from the host's producer to the
/// host's consumer.
struct Pump<T> {
    shared: usize,
    /// `None` once it is done (dropped).
    producer: Option<Driver<T>>,
    /// `None` once it is done (dropped).
    consumer: Option<Driver<T>>,
    buffer: HostBuffer,
    /// Whether it is a future's: the consumer is done once it took the value.
    future: bool,
    _data: PhantomData<fn() -> T>,
}

impl<T: 'static> Pump<T> {
    /// Moves what it can; `Ready` once one of the ends is done and nothing is left to move.
    fn pump(&mut self, cx: &mut Context<'_>, store: &mut StoreInner<T>) -> Poll<Result<()>> {
        loop {
            if self.buffer.len() > 0 {
                let Some(consumer) = &mut self.consumer else { return Poll::Ready(Ok(())) };
                let before = self.buffer.len();
                match consumer.poll(cx, store, self.shared, EndBuffer::Host(&mut self.buffer)) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(Ok(EndOutcome::Dropped)) => return Poll::Ready(Ok(())),
                    Poll::Ready(Ok(EndOutcome::Completed)) if self.future => return Poll::Ready(Ok(())),
                    Poll::Ready(Ok(EndOutcome::Completed)) if self.buffer.len() == before => return yield_turn(cx),
                    Poll::Ready(Ok(EndOutcome::Completed)) => {}
                }
            } else {
                let Some(producer) = &mut self.producer else { return Poll::Ready(Ok(())) };
                match producer.poll(cx, store, self.shared, EndBuffer::Host(&mut self.buffer)) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    // What it wrote before it went still goes to the consumer.
                    Poll::Ready(Ok(EndOutcome::Dropped)) => self.producer = None,
                    Poll::Ready(Ok(EndOutcome::Completed)) if self.buffer.len() == 0 => return yield_turn(cx),
                    Poll::Ready(Ok(EndOutcome::Completed)) => {}
                }
            }
        }
    }
}

/// Lets the loop take a turn before this task is polled again.
fn yield_turn(cx: &mut Context<'_>) -> Poll<Result<()>> {
    cx.waker().wake_by_ref();
    Poll::Pending
}

impl<T: 'static> Future for Pump<T> {
    type Output = Result<Completion<StoreInner<T>>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let polled = with_current_store(|store: &mut StoreInner<T>| {
            let r = this.pump(cx, store);
            if r.is_ready() {
                // Both ends go now (a consumer learns the end by being dropped), and the
                // shared state with them.
                this.producer = None;
                this.consumer = None;
                store.host_work.ends.remove(&this.shared);
                store.opaque_mut().concurrent.shared.try_remove(this.shared);
            }
            r
        });
        match polled {
            None => Poll::Ready(Err(anyhow!("bug: a host pipe was polled outside its store's loop"))),
            Some(Poll::Pending) => Poll::Pending,
            Some(Poll::Ready(r)) => Poll::Ready(r.map(|()| Box::new(|_: &mut StoreInner<T>| Ok(())) as Completion<_>)),
        }
    }
}
