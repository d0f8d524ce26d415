//! A one-value channel whose receiver is a future: how a stream's consumer or producer tells
//! the future returned beside the stream how the stream ended ([`Reporter`]). (Small enough
//! not to need a dependency for it.)

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use weld::component::StreamResult;

struct Slot<T> {
    value: Option<T>,
    sent: bool,
    waker: Option<Waker>,
}

/// The sending half: sends once, or, dropped unsent, tells the receiver so.
pub(crate) struct Sender<T>(Arc<Mutex<Slot<T>>>);

/// The receiving half: resolves to the value, or `None` if the sender went without one.
pub(crate) struct Receiver<T>(Arc<Mutex<Slot<T>>>);

/// A new channel.
pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot { value: None, sent: false, waker: None }));
    (Sender(slot.clone()), Receiver(slot))
}

fn lock<T>(slot: &Mutex<Slot<T>>) -> std::sync::MutexGuard<'_, Slot<T>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T> Sender<T> {
    /// Sends `value`, waking the receiver.
    pub(crate) fn send(self, value: T) {
        lock(&self.0).value = Some(value);
        // `Drop` marks it sent and wakes the receiver.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut slot = lock(&self.0);
        slot.sent = true;
        if let Some(w) = slot.waker.take() {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = lock(&self.0);
        if slot.sent {
            return Poll::Ready(slot.value.take());
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The end of a stream (a producer's or consumer's) that reports how it ended to the future
/// returned beside the stream, once: an error when [`finish`](Self::finish)ed with one, and
/// `ok` when dropped without a report (the stream ended normally, or the guest dropped its
/// end).
pub(crate) struct Reporter<E> {
    done: Option<Sender<Result<(), E>>>,
}

impl<E> Reporter<E> {
    pub(crate) fn new(done: Sender<Result<(), E>>) -> Reporter<E> {
        Reporter { done: Some(done) }
    }

    /// Reports `outcome` (only the first report counts) and drops the stream.
    pub(crate) fn finish(&mut self, outcome: Result<(), E>) -> Poll<weld::Result<StreamResult>> {
        if let Some(done) = self.done.take() {
            done.send(outcome);
        }
        Poll::Ready(Ok(StreamResult::Dropped))
    }
}

impl<E> Drop for Reporter<E> {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            done.send(Ok(()));
        }
    }
}
