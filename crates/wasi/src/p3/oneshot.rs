//! A one-value channel whose receiver is a future: how a stream's consumer or producer tells
//! the future returned beside the stream how the stream ended. (Small enough not to need a
//! dependency for it.)

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

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
