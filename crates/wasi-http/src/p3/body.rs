//! The bodies of WASI 0.3 requests and responses, and how they move between the host's HTTP
//! stack and guests through weld's host stream and future ends.
//!
//! A message holds its body as a [`Body`]: a guest's (the `stream<u8>` and trailers future
//! the guest gave to `new`, as readable ends in transit) or the host's (an [`http_body`]
//! body from the network or the embedder). `consume-body` gives a guest a guest's body back
//! as it is, and the host's through an [`IncomingProducer`] (the bytes) and an
//! [`IncomingTrailers`] (the trailers, put in the table when they come). The host sends a
//! guest's body out ([`outgoing`]) through two consumers that fill a bounded [`Pipe`], which
//! hyper reads as an [`OutgoingBody`]. Dropped unconsumed, a guest's body is let go with
//! consumers that end its stream and take its trailers ([`discard`]), so the guest's writes
//! learn that nobody reads.
//!
//! Everything waits with wakers: a producer waits for hyper's next frame, a consumer for
//! room in the pipe, hyper for the pipe to fill. Nothing holds a whole body; the pipe holds
//! at most [`PIPE_CAPACITY`] bytes beyond the chunk being moved.
//!
//! The future that `new` returns resolves with how the body's transmission went: when the
//! host sends it, once hyper has taken all of it (or it failed); when a guest consumes it,
//! with the result that guest gives to `consume-body`.

use super::fields::Fields;
use super::types::ErrorCode;
use crate::view::WasiHttpView;
use bytes::{Buf, Bytes};
use http::HeaderMap;
use http_body::{Body as _, Frame};
use http_body_util::combinators::BoxBody;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use weld::component::{
    Destination, FutureConsumer, FutureProducer, FutureReader, Resource, Source, StoreContextMut, StreamConsumer,
    StreamProducer, StreamReader, StreamResult,
};

/// The body type the host's side uses: any body of bytes whose errors are error codes.
pub type HostBody = BoxBody<Bytes, ErrorCode>;

/// The value of a body's trailers future.
pub type TrailersResult = Result<Option<Resource<Fields>>, ErrorCode>;

/// How a body's transmission (or a guest's handling of it) went.
pub type Outcome = Result<(), ErrorCode>;

/// Where a body's [`Outcome`] goes.
pub(crate) type OutcomeSender = tokio::sync::oneshot::Sender<Outcome>;

/// How many bytes an [`OutgoingBody`]'s pipe holds before its consumer waits.
pub const PIPE_CAPACITY: usize = 64 * 1024;

/// A message's body.
pub(crate) enum Body {
    /// A guest's: its contents (`None`: empty) and trailers, readable ends on their way, and
    /// where the outcome of its transmission goes (the future `new` returned).
    Guest { contents: Option<StreamReader<u8>>, trailers: FutureReader<TrailersResult>, outcome: OutcomeSender },
    /// The host's, and who learns how the guest's handling of it went, if anyone.
    Host { body: HostBody, outcome: Option<OutcomeSender> },
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn wake(waker: &mut Option<Waker>) {
    if let Some(w) = waker.take() {
        w.wake();
    }
}

/// The outcome future of `new`: resolves with what reaches `receiver`, or with an error if
/// the message goes without its body being sent or consumed.
pub(crate) fn outcome_future<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    receiver: tokio::sync::oneshot::Receiver<Outcome>,
) -> FutureReader<Outcome> {
    FutureReader::new(store, async move {
        Ok(receiver.await.unwrap_or_else(|_| {
            Err(ErrorCode::InternalError(Some("the message was dropped before its body was sent".into())))
        }))
    })
}

/// `consume-body`: the stream and trailers future a guest reads `body` through; `res`, the
/// guest's word on how its handling went, goes where the body's outcome goes.
pub(crate) fn consume<T: WasiHttpView + 'static>(
    store: &mut StoreContextMut<'_, T>,
    body: Body,
    res: FutureReader<Outcome>,
) -> weld::Result<(StreamReader<u8>, FutureReader<TrailersResult>)> {
    match body {
        Body::Guest { contents, trailers, outcome } => {
            let contents = match contents {
                Some(contents) => contents,
                None => StreamReader::new(&mut *store, Empty),
            };
            res.pipe(&mut *store, ForwardOutcome(Some(outcome)))?;
            Ok((contents, trailers))
        }
        Body::Host { body, outcome } => {
            let state = Arc::new(Mutex::new(Incoming {
                body,
                leftover: Bytes::new(),
                end: None,
                stream_gone: false,
                trailers_waker: None,
            }));
            let stream = StreamReader::new(&mut *store, IncomingProducer(state.clone()));
            let trailers = FutureReader::from_producer(&mut *store, IncomingTrailers(state));
            res.pipe(&mut *store, ForwardOutcome(outcome))?;
            Ok((stream, trailers))
        }
    }
}

/// Lets go of a body nobody will read: a guest's stream learns that its reader went, its
/// trailers are taken and dropped; the host's is dropped.
pub(crate) fn discard<T: WasiHttpView + 'static>(store: &mut StoreContextMut<'_, T>, body: Body) -> weld::Result<()> {
    match body {
        Body::Guest { contents, trailers, .. } => discard_guest(store, contents, trailers),
        Body::Host { .. } => Ok(()),
    }
}

/// Lets go of a guest's body: its stream learns that its reader went, its trailers are taken
/// and dropped.
pub(crate) fn discard_guest<T: WasiHttpView + 'static>(
    store: &mut StoreContextMut<'_, T>,
    contents: Option<StreamReader<u8>>,
    trailers: FutureReader<TrailersResult>,
) -> weld::Result<()> {
    if let Some(contents) = contents {
        contents.pipe(&mut *store, Refuse)?;
    }
    trailers.pipe(&mut *store, DropTrailers)
}

/// An empty stream.
struct Empty;

impl<D> StreamProducer<D> for Empty {
    type Item = u8;

    fn poll_produce(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: StoreContextMut<'_, D>,
        _: Destination<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        Poll::Ready(Ok(StreamResult::Dropped))
    }
}

/// Ends a stream at its writer's first write, taking nothing.
struct Refuse;

impl<D> StreamConsumer<D> for Refuse {
    type Item = u8;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: StoreContextMut<'_, D>,
        _: Source<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        Poll::Ready(Ok(StreamResult::Dropped))
    }
}

/// Takes trailers nobody wants, deleting the fields.
struct DropTrailers;

impl<D: WasiHttpView> FutureConsumer<D> for DropTrailers {
    type Item = TrailersResult;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        mut source: Source<'_, TrailersResult>,
        _: bool,
    ) -> Poll<weld::Result<()>> {
        let mut value = Vec::new();
        source.read(&mut store, &mut value)?;
        if let Some(Ok(Some(fields))) = value.pop() {
            store.data_mut().http().table.delete(fields)?;
        }
        Poll::Ready(Ok(()))
    }
}

/// Passes a guest's outcome on to where a body's outcome goes.
struct ForwardOutcome(Option<OutcomeSender>);

impl<D> FutureConsumer<D> for ForwardOutcome {
    type Item = Outcome;

    fn poll_consume(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, Outcome>,
        _: bool,
    ) -> Poll<weld::Result<()>> {
        let mut value = Vec::new();
        source.read(store, &mut value)?;
        if let (Some(sender), Some(outcome)) = (self.0.take(), value.pop()) {
            // The other side may be gone: nobody wants to know, then.
            let _ = sender.send(outcome);
        }
        Poll::Ready(Ok(()))
    }
}

/// A host body being read by a guest: the body, the rest of the chunk being given, and how
/// it ended (its trailers, or the error), once it has.
struct Incoming {
    body: HostBody,
    leftover: Bytes,
    end: Option<Result<Option<HeaderMap>, ErrorCode>>,
    /// Whether the guest dropped the stream: the trailers future then reads the rest itself.
    stream_gone: bool,
    trailers_waker: Option<Waker>,
}

impl Incoming {
    /// Polls the body for its next frame: data is returned; the end is kept (and the
    /// trailers' reader woken).
    fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        loop {
            if self.end.is_some() {
                return Poll::Ready(None);
            }
            let end = match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => Ok(None),
                Poll::Ready(Some(Err(code))) => Err(code),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => return Poll::Ready(Some(data)),
                    Err(frame) => Ok(frame.into_trailers().ok()),
                },
            };
            self.end = Some(end);
            wake(&mut self.trailers_waker);
        }
    }
}

/// Gives a guest the bytes of a host body.
struct IncomingProducer(Arc<Mutex<Incoming>>);

impl<D> StreamProducer<D> for IncomingProducer {
    type Item = u8;

    fn poll_produce(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        mut destination: Destination<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let mut s = lock(&self.0);
        if destination.remaining(&mut store) == 0 {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        if s.leftover.is_empty() {
            match s.poll_data(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(StreamResult::Dropped)),
                Poll::Ready(Some(data)) => s.leftover = data,
            }
        }
        let n = destination.write_slice(&mut store, &s.leftover)?;
        s.leftover.advance(n);
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

impl Drop for IncomingProducer {
    fn drop(&mut self) {
        let mut s = lock(&self.0);
        s.stream_gone = true;
        wake(&mut s.trailers_waker);
    }
}

/// Gives a guest the trailers of a host body once the body has ended, as fields in the
/// table; reads what is left of the body itself if the guest dropped the stream.
struct IncomingTrailers(Arc<Mutex<Incoming>>);

impl<D: WasiHttpView> FutureProducer<D> for IncomingTrailers {
    type Item = TrailersResult;

    fn poll_produce(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        _: bool,
    ) -> Poll<weld::Result<Option<TrailersResult>>> {
        let mut s = lock(&self.0);
        while s.end.is_none() {
            if !s.stream_gone {
                s.trailers_waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            // Nobody reads the bytes: skip them.
            s.leftover = Bytes::new();
            if s.poll_data(cx).is_pending() {
                return Poll::Pending;
            }
        }
        let value = match s.end.take() {
            Some(Ok(Some(map))) => Ok(Some(store.data_mut().http().table.push(Fields::immutable(map))?)),
            Some(Ok(None)) | None => Ok(None),
            Some(Err(code)) => Err(code),
        };
        Poll::Ready(Ok(Some(value)))
    }
}

/// The shared state of a guest's body on its way out: chunks the guest wrote, waiting for
/// hyper, then how the body ended.
struct Pipe {
    chunks: VecDeque<Bytes>,
    buffered: usize,
    /// The guest ended the stream (or it failed).
    data_done: bool,
    /// The trailers, once the guest's future gave them; taken when sent.
    trailers: Option<Result<Option<HeaderMap>, ErrorCode>>,
    trailers_known: bool,
    /// The reader (hyper) is gone: the guest's writes learn it.
    reader_gone: bool,
    /// The reader took the whole body.
    finished: bool,
    outcome: Option<OutcomeSender>,
    /// Whether the outcome waits for the sender's word ([`Settler`]): a request whose send
    /// fails reports why, not that its body was dropped.
    deferred: bool,
    /// The body's outcome, kept while `deferred`.
    held: Option<Outcome>,
    reader_waker: Option<Waker>,
    writer_waker: Option<Waker>,
    done_waker: Option<Waker>,
}

impl Pipe {
    fn wake_all(&mut self) {
        wake(&mut self.reader_waker);
        wake(&mut self.writer_waker);
        wake(&mut self.done_waker);
    }

    fn report(&mut self, outcome: Outcome) {
        if self.deferred {
            self.held.get_or_insert(outcome);
        } else if let Some(sender) = self.outcome.take() {
            let _ = sender.send(outcome);
        }
    }
}

/// A guest's body as hyper reads it.
pub struct OutgoingBody(Arc<Mutex<Pipe>>);

/// Resolves once the store has no more to do for an [`OutgoingBody`]: the guest ended its
/// stream and gave its trailers (what is left sits in the pipe for hyper), or the reader
/// went. Until then the store's loop must run for the body to move.
pub struct BodyDone(Option<Arc<Mutex<Pipe>>>);

impl BodyDone {
    /// Done already (a body that needs no store).
    pub(crate) fn ready() -> BodyDone {
        BodyDone(None)
    }
}

impl std::future::Future for BodyDone {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(pipe) = &self.0 else { return Poll::Ready(()) };
        let mut p = lock(pipe);
        if (p.data_done && p.trailers_known) || p.reader_gone {
            return Poll::Ready(());
        }
        p.done_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Sends a guest's body out: its contents and trailers are piped into an [`OutgoingBody`];
/// `outcome` learns whether the reader took all of it (once a [`Settler`] says so, if
/// `deferred`).
pub(crate) fn outgoing<T: WasiHttpView + 'static>(
    store: &mut StoreContextMut<'_, T>,
    contents: Option<StreamReader<u8>>,
    trailers: FutureReader<TrailersResult>,
    outcome: Option<OutcomeSender>,
    deferred: bool,
) -> weld::Result<(OutgoingBody, BodyDone)> {
    let pipe = Arc::new(Mutex::new(Pipe {
        chunks: VecDeque::new(),
        buffered: 0,
        data_done: contents.is_none(),
        trailers: None,
        trailers_known: false,
        reader_gone: false,
        finished: false,
        outcome,
        deferred,
        held: None,
        reader_waker: None,
        writer_waker: None,
        done_waker: None,
    }));
    if let Some(contents) = contents {
        contents.pipe(&mut *store, PipeWriter(pipe.clone()))?;
    }
    trailers.pipe(&mut *store, PipeTrailers(pipe.clone()))?;
    Ok((OutgoingBody(pipe.clone()), BodyDone(Some(pipe))))
}

/// Takes what a guest writes into a pipe, waiting while the pipe is full.
struct PipeWriter(Arc<Mutex<Pipe>>);

impl<D> StreamConsumer<D> for PipeWriter {
    type Item = u8;

    fn poll_consume(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let mut p = lock(&self.0);
        if p.reader_gone {
            return Poll::Ready(Ok(StreamResult::Dropped));
        }
        if p.buffered >= PIPE_CAPACITY {
            p.writer_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let mut bytes = Vec::new();
        source.read(store, &mut bytes)?;
        if !bytes.is_empty() {
            p.buffered += bytes.len();
            p.chunks.push_back(Bytes::from(bytes));
            wake(&mut p.reader_waker);
        }
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        let mut p = lock(&self.0);
        p.data_done = true;
        p.wake_all();
    }
}

/// Takes a guest's trailers into a pipe (the fields leave the table).
struct PipeTrailers(Arc<Mutex<Pipe>>);

impl<D: WasiHttpView> FutureConsumer<D> for PipeTrailers {
    type Item = TrailersResult;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        mut source: Source<'_, TrailersResult>,
        _: bool,
    ) -> Poll<weld::Result<()>> {
        let mut value = Vec::new();
        source.read(&mut store, &mut value)?;
        let trailers = match value.pop() {
            Some(Ok(Some(fields))) => Ok(Some(store.data_mut().http().table.delete(fields)?.map)),
            Some(Ok(None)) => Ok(None),
            Some(Err(code)) => Err(code),
            None => Err(ErrorCode::InternalError(Some("a trailers future gave no value".into()))),
        };
        let mut p = lock(&self.0);
        p.trailers = Some(trailers);
        p.trailers_known = true;
        p.wake_all();
        Poll::Ready(Ok(()))
    }
}

impl Drop for PipeTrailers {
    fn drop(&mut self) {
        let mut p = lock(&self.0);
        if !p.trailers_known {
            p.trailers = Some(Err(ErrorCode::InternalError(Some("the trailers future ended without a value".into()))));
            p.trailers_known = true;
            p.wake_all();
        }
    }
}

impl OutgoingBody {
    /// Resolves once the guest wrote a first byte or ended its body: `true` if it ended
    /// empty (no bytes, no trailers, no error).
    pub(crate) fn ends_empty(&self) -> impl std::future::Future<Output = bool> + Send + '_ {
        std::future::poll_fn(move |cx| {
            let mut p = lock(&self.0);
            if !p.chunks.is_empty() || p.reader_gone {
                return Poll::Ready(false);
            }
            if p.data_done && p.trailers_known {
                let empty = match &p.trailers {
                    Some(Ok(None)) => true,
                    Some(Ok(Some(map))) => map.is_empty(),
                    _ => false,
                };
                return Poll::Ready(empty);
            }
            p.reader_waker = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    /// Ends a body that [`ends_empty`](Self::ends_empty) found empty, as taken whole.
    pub(crate) fn finish_empty(self) {
        let mut p = lock(&self.0);
        p.finished = true;
        p.report(Ok(()));
    }

    /// What gives the word on a deferred outcome.
    pub(crate) fn settler(&self) -> Settler {
        Settler(Some(self.0.clone()))
    }
}

/// Settles the outcome of a body made `deferred`: with the error of a send that failed, or
/// with what the body itself reports (now or once it ends). Dropped unsettled (the send was
/// cancelled), it reports what the body reported, or `connection-terminated`.
pub(crate) struct Settler(Option<Arc<Mutex<Pipe>>>);

impl Settler {
    /// The send went (`Ok`) or failed with `Err(code)`.
    pub(crate) fn settle(mut self, sent: Outcome) {
        if let Some(pipe) = self.0.take() {
            let mut p = lock(&pipe);
            p.deferred = false;
            match sent {
                Err(code) => p.report(Err(code)),
                Ok(()) => {
                    if let Some(held) = p.held.take() {
                        p.report(held);
                    }
                }
            }
        }
    }
}

impl Drop for Settler {
    fn drop(&mut self) {
        if let Some(pipe) = self.0.take() {
            let mut p = lock(&pipe);
            p.deferred = false;
            let outcome = p.held.take().unwrap_or(Err(ErrorCode::ConnectionTerminated));
            p.report(outcome);
        }
    }
}

impl http_body::Body for OutgoingBody {
    type Data = Bytes;
    type Error = ErrorCode;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, ErrorCode>>> {
        let mut p = lock(&self.0);
        if p.finished {
            return Poll::Ready(None);
        }
        if let Some(chunk) = p.chunks.pop_front() {
            p.buffered -= chunk.len();
            wake(&mut p.writer_waker);
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if !p.data_done || !p.trailers_known {
            p.reader_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        p.finished = true;
        match p.trailers.take() {
            Some(Err(code)) => {
                p.report(Err(code.clone()));
                Poll::Ready(Some(Err(code)))
            }
            Some(Ok(Some(map))) if !map.is_empty() => {
                p.report(Ok(()));
                Poll::Ready(Some(Ok(Frame::trailers(map))))
            }
            _ => {
                p.report(Ok(()));
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        lock(&self.0).finished
    }
}

impl Drop for OutgoingBody {
    fn drop(&mut self) {
        let mut p = lock(&self.0);
        if !p.finished {
            p.report(Err(ErrorCode::ConnectionTerminated));
        }
        p.reader_gone = true;
        p.wake_all();
    }
}
