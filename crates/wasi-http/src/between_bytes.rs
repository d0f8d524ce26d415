//! The `between-bytes-timeout` of a request's options, for WASI 0.2 and 0.3 alike:
//! [`BetweenBytes`] wraps the body of a response from the network and fails it when its next
//! frame does not arrive in time.
//!
//! The clock runs only while the body's reader waits: it starts when a read finds nothing
//! ready, and stops when a frame arrives. A guest that stops reading for a while is not timed
//! out for it (what the server sent meanwhile waits in hyper's buffers and is ready at the
//! next read); a server that sends nothing while the guest waits is.
//!
//! The timer is tokio's, so a `BetweenBytes` must be made inside the tokio runtime that
//! drives the connection (where the request is sent); it may be read from anywhere.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Why a [`BetweenBytes`] body failed: its own body failed, or its timeout passed.
#[derive(Debug)]
pub(crate) enum BodyFailure<E> {
    /// The wrapped body failed.
    Body(E),
    /// No frame came within the timeout.
    TimedOut(Duration),
}

impl<E: fmt::Display> fmt::Display for BodyFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyFailure::Body(e) => e.fmt(f),
            BodyFailure::TimedOut(d) => write!(f, "{TIMED_OUT} ({d:?})"),
        }
    }
}

/// How a timed-out body's failure starts, as text: what 0.2's body channel carries, and
/// what [`failed_body`](crate::body::failed_body) maps to `connection-read-timeout`.
pub(crate) const TIMED_OUT: &str = "no bytes arrived within the request's between-bytes-timeout";

/// A response body that fails with [`BodyFailure::TimedOut`] when its reader has waited
/// `timeout` for the next frame.
pub(crate) struct BetweenBytes<B> {
    body: B,
    timeout: Duration,
    /// The deadline of the current wait, once a read found nothing ready.
    sleep: Pin<Box<Sleep>>,
    waiting: bool,
    timed_out: bool,
}

impl<B> BetweenBytes<B> {
    /// `body` with `timeout` between its frames. Must be called inside a tokio runtime.
    pub(crate) fn new(body: B, timeout: Duration) -> Self {
        let sleep = Box::pin(tokio::time::sleep(timeout));
        BetweenBytes { body, timeout, sleep, waiting: false, timed_out: false }
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for BetweenBytes<B> {
    type Data = Bytes;
    type Error = BodyFailure<B::Error>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.timed_out {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame.map(|f| f.map_err(BodyFailure::Body)))
            }
            Poll::Pending => {
                if !this.waiting {
                    this.waiting = true;
                    let deadline = Instant::now() + this.timeout;
                    this.sleep.as_mut().reset(deadline);
                }
                match this.sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.timed_out = true;
                        Poll::Ready(Some(Err(BodyFailure::TimedOut(this.timeout))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.timed_out || self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::convert::Infallible;

    /// A body that gives one frame after each of its delays, then ends.
    struct Paced {
        delays: Vec<Duration>,
        sleep: Option<Pin<Box<Sleep>>>,
    }

    impl Body for Paced {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            let Some(&delay) = self.delays.first() else { return Poll::Ready(None) };
            let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            std::task::ready!(sleep.as_mut().poll(cx));
            self.sleep = None;
            self.delays.remove(0);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"x")))))
        }
    }

    fn paced(ms: &[u64]) -> Paced {
        Paced { delays: ms.iter().map(|m| Duration::from_millis(*m)).collect(), sleep: None }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
    }

    #[test]
    fn frames_within_the_timeout_all_arrive() {
        runtime().block_on(async {
            let body = BetweenBytes::new(paced(&[10, 10, 10, 10]), Duration::from_millis(200));
            let bytes = body.collect().await.unwrap().to_bytes();
            assert_eq!(&bytes[..], b"xxxx");
        });
    }

    #[test]
    fn a_gap_longer_than_the_timeout_fails_the_body_after_what_came() {
        runtime().block_on(async {
            let mut body = BetweenBytes::new(paced(&[5, 5, 400]), Duration::from_millis(80));
            let mut got = 0;
            let err = loop {
                match body.frame().await {
                    Some(Ok(_)) => got += 1,
                    Some(Err(e)) => break e,
                    None => panic!("the body ended without timing out"),
                }
            };
            assert_eq!(got, 2, "the frames before the gap arrive");
            assert!(matches!(err, BodyFailure::TimedOut(_)), "{err}");
            assert!(err.to_string().starts_with(TIMED_OUT), "{err}");
            assert!(body.frame().await.is_none(), "a timed-out body ends");
        });
    }

    #[test]
    fn time_the_reader_spends_elsewhere_does_not_count() {
        runtime().block_on(async {
            let mut body = BetweenBytes::new(paced(&[5, 5]), Duration::from_millis(50));
            assert!(body.frame().await.unwrap().is_ok());
            // The reader is away for longer than the timeout; the next frame comes 5 ms after
            // it reads again.
            tokio::time::sleep(Duration::from_millis(120)).await;
            assert!(body.frame().await.unwrap().is_ok());
            assert!(body.frame().await.is_none());
        });
    }
}
