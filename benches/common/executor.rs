//! What the async benches of weld (`benches/component_api.rs`) and of the reference engine
//! (`benches/reference/benches/async_calls.rs`) share, included by both with `#[path]`: the
//! same thread-parking executor and the same host future, so that both engines are measured
//! under the same driver. Only `std`, so that it builds against either engine.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
/// Runs futures to completion on this thread, parking it while they are pending.
pub struct Executor(Waker);

struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl Executor {
    pub fn new() -> Self {
        Executor(Waker::from(Arc::new(Unpark(std::thread::current()))))
    }

    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        let mut cx = Context::from_waker(&self.0);
        loop {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
            std::thread::park();
        }
    }
}

/// Pending once (waking its waker), then ready: a host function that does not finish on
/// its first poll.
pub struct PendingOnce(pub bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
