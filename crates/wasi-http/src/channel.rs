//! The byte channel that carries an HTTP body between hyper, which runs on tokio, and a guest,
//! which runs synchronously on its own thread and waits in `poll(2)`.
//!
//! A channel has one writer and one reader; either may be the asynchronous side. A body that
//! arrives from the network (an incoming request's, an incoming response's) is written by a
//! tokio task and read by the guest through an `input-stream`; a body the guest writes (an
//! outgoing response's, an outgoing request's) is written through an `output-stream` and read
//! by hyper as an [`http_body::Body`].
//!
//! The channel holds at most [`CAPACITY`] bytes: a writer past it waits, so a 64 MiB body
//! streams through in bounded memory, and a slow reader slows the writer down to its pace
//! (back to TCP flow control on the network side). A tokio side waits with a [`Waker`]; the
//! guest's side waits on an eventfd, made the first time the guest has to wait, which the
//! other side signals, so that weld-wasi's `poll` over many pollables sleeps in one
//! `poll(2)`. Chunks move as [`Bytes`] without copying.
//!
//! The end of a body is explicit: complete (with trailers, perhaps) or failed. A writer
//! dropped without ending the body fails it, which hyper turns into an aborted message, as
//! HTTP requires for a body cut short.

use bytes::Bytes;
use http::HeaderMap;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use weld_wasi::p2::{InputStream, OutputStream, Readiness, StreamError, StreamResult};

/// The most bytes a channel buffers before its writer must wait.
pub const CAPACITY: usize = 256 * 1024;

/// How a body ended.
#[derive(Clone, Debug)]
pub enum End {
    /// All of it arrived; these are its trailers, if it had any.
    Complete(Option<HeaderMap>),
    /// It was cut short: the writer failed or went away without finishing it.
    Failed(String),
}

/// A wake-up for the guest's side: an eventfd, made on first use (`None` if it could not be).
#[derive(Default)]
struct EventFd(OnceLock<Option<Arc<OwnedFd>>>);

impl EventFd {
    fn get(&self) -> Option<&Arc<OwnedFd>> {
        self.0
            .get_or_init(|| {
                let flags = rustix::event::EventfdFlags::NONBLOCK | rustix::event::EventfdFlags::CLOEXEC;
                rustix::event::eventfd(0, flags).ok().map(Arc::new)
            })
            .as_ref()
    }

    /// Signals the guest's side, if it ever waited.
    fn signal(&self) {
        if let Some(Some(fd)) = self.0.get() {
            // A full counter (EAGAIN) is still a signal; nothing else can fail here.
            let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
        }
    }

    /// Makes the eventfd if need be and clears pending signals: called before the state is
    /// checked again, so that a signal sent after that check is never lost.
    fn clear(&self) {
        if let Some(fd) = self.get() {
            let mut buf = [0u8; 8];
            let _ = rustix::io::read(fd, &mut buf);
        }
    }

    /// Ready if `ready()` says so, or else what to wait for. The state is asked first without
    /// the eventfd (none is made for what is ready at once, as most are), then again once the
    /// eventfd exists and is cleared, so that a signal sent in between is never lost.
    fn readiness_unless(&self, ready: impl Fn() -> bool) -> Readiness {
        if ready() {
            return Readiness::Ready;
        }
        self.clear();
        if ready() {
            return Readiness::Ready;
        }
        self.readiness()
    }

    /// Ready when signalled; if no eventfd could be made, asked again soon rather than never.
    fn readiness(&self) -> Readiness {
        match self.get() {
            Some(fd) => Readiness::fd(fd.clone(), rustix::event::PollFlags::IN),
            None => Readiness::at(std::time::Instant::now() + std::time::Duration::from_millis(1)),
        }
    }
}

/// The shared state of one channel.
struct State {
    chunks: VecDeque<Bytes>,
    buffered: usize,
    end: Option<End>,
    /// How many [`BodyReader`]s share the channel.
    readers: usize,
    /// The last reader went away, or the readers want the rest discarded (they wait only for
    /// the trailers).
    reader_gone: bool,
    discard: bool,
    reader_waker: Option<Waker>,
    writer_waker: Option<Waker>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when there is something to read (or the end).
    readable: EventFd,
    /// Signalled when there is room to write (or the reader is gone).
    writable: EventFd,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock is held leaves the state consistent (every change is one
        // assignment), so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake_reader(&self, state: &mut State) {
        if let Some(w) = state.reader_waker.take() {
            w.wake();
        }
        self.readable.signal();
    }

    fn wake_writer(&self, state: &mut State) {
        if let Some(w) = state.writer_waker.take() {
            w.wake();
        }
        self.writable.signal();
    }
}

/// Makes a channel: its writing end and its reading end.
pub fn channel() -> (BodyWriter, BodyReader) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            chunks: VecDeque::new(),
            buffered: 0,
            end: None,
            readers: 1,
            reader_gone: false,
            discard: false,
            reader_waker: None,
            writer_waker: None,
        }),
        readable: EventFd::default(),
        writable: EventFd::default(),
    });
    (
        BodyWriter { shared: shared.clone(), budget: 0, primary: true },
        BodyReader { shared, trailers_sent: false, flushed_before_failure: false },
    )
}

/// A body that is complete and empty.
pub fn empty() -> BodyReader {
    let (mut writer, reader) = channel();
    writer.finish(None);
    reader
}

/// The writing end of a channel.
///
/// The first writer (from [`channel`]) owns the end of the body: dropping it without
/// [`finish`](BodyWriter::finish) fails the body. The writers [`BodyWriter::stream`] makes
/// (the `output-stream` a guest writes through) only write.
pub struct BodyWriter {
    shared: Arc<Shared>,
    /// What the last `check_write` allowed and `write` has not used.
    budget: usize,
    primary: bool,
}

impl BodyWriter {
    /// Another writer of the same body, which does not own its end.
    pub fn stream(&self) -> BodyWriter {
        BodyWriter { shared: self.shared.clone(), budget: 0, primary: false }
    }

    /// Room for how many more bytes, or `None` when the reader is gone.
    fn room(state: &State) -> Option<usize> {
        if state.reader_gone && !state.discard { None } else { Some(CAPACITY.saturating_sub(state.buffered)) }
    }

    fn push(&self, state: &mut State, chunk: Bytes) {
        if !state.discard && !chunk.is_empty() {
            state.buffered += chunk.len();
            state.chunks.push_back(chunk);
        }
        self.shared.wake_reader(state);
    }

    /// Writes `chunk` from a tokio task, waiting for room. Returns false when the reader is
    /// gone (the rest of the body is not wanted).
    pub async fn send(&mut self, chunk: Bytes) -> bool {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            match Self::room(&state) {
                None => Poll::Ready(false),
                // An empty channel takes any chunk, however large, so that progress is made.
                Some(room) if room > 0 || state.buffered == 0 => {
                    self.push(&mut state, chunk.clone());
                    Poll::Ready(true)
                }
                Some(_) => {
                    state.writer_waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Ends the body, complete with these trailers.
    pub fn finish(&mut self, trailers: Option<HeaderMap>) {
        self.end(End::Complete(trailers));
    }

    /// Ends the body as failed.
    pub fn fail(&mut self, why: impl Into<String>) {
        self.end(End::Failed(why.into()));
    }

    fn end(&mut self, end: End) {
        let mut state = self.shared.lock();
        if state.end.is_none() {
            state.end = Some(end);
            self.shared.wake_reader(&mut state);
        }
    }

    /// Whether the reader went away (nothing written now will be read).
    pub fn reader_gone(&self) -> bool {
        let state = self.shared.lock();
        state.reader_gone && !state.discard
    }
}

impl Drop for BodyWriter {
    fn drop(&mut self) {
        if self.primary {
            self.end(End::Failed("the body was dropped before it was finished".into()));
        }
    }
}

impl OutputStream for BodyWriter {
    fn check_write(&mut self) -> StreamResult<usize> {
        let state = self.shared.lock();
        if state.end.is_some() {
            return Err(StreamError::Closed);
        }
        match Self::room(&state) {
            None => Err(StreamError::Closed),
            Some(room) => {
                self.budget = room;
                Ok(room)
            }
        }
    }

    fn write(&mut self, bytes: Vec<u8>) -> StreamResult<()> {
        weld_wasi::streams::take_budget(&mut self.budget, bytes.len())?;
        let mut state = self.shared.lock();
        if state.end.is_some() || Self::room(&state).is_none() {
            return Err(StreamError::Closed);
        }
        self.push(&mut state, Bytes::from(bytes));
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn readiness(&mut self) -> Readiness {
        self.shared.writable.readiness_unless(|| Self::room(&self.shared.lock()) != Some(0))
    }
}

/// The reading end of a channel.
pub struct BodyReader {
    shared: Arc<Shared>,
    trailers_sent: bool,
    /// Whether hyper was given its chance to flush before a failure (see `poll_frame`).
    flushed_before_failure: bool,
}

impl BodyReader {
    /// Another reader of the same body: the body is wanted until the last reader goes.
    pub fn share(&self) -> BodyReader {
        self.shared.lock().readers += 1;
        BodyReader { shared: self.shared.clone(), trailers_sent: false, flushed_before_failure: false }
    }

    /// Up to `size` bytes that are there now (empty when none are), or the end.
    fn take(&mut self, size: usize) -> Result<Bytes, Option<End>> {
        let mut state = self.shared.lock();
        let Some(front) = state.chunks.front_mut() else {
            return Err(state.end.clone());
        };
        let chunk =
            if front.len() <= size { state.chunks.pop_front().unwrap_or_default() } else { front.split_to(size) };
        state.buffered -= chunk.len();
        self.shared.wake_writer(&mut state);
        Ok(chunk)
    }

    /// Stops reading: the rest of the body is discarded as it arrives, and the end (with its
    /// trailers) is still delivered. What `incoming-body.finish` does.
    pub fn discard_rest(&self) {
        let mut state = self.shared.lock();
        state.discard = true;
        state.chunks.clear();
        state.buffered = 0;
        self.shared.wake_writer(&mut state);
    }

    /// Resolves once the whole body is buffered (it has ended) or the channel is full: a guest
    /// started then reads what is there without waiting. `weld serve` awaits this (for a
    /// moment at most) before it starts a guest, so that a request whose body came with its
    /// head never has the guest wait for the task that moves it.
    pub async fn filled(&self) {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if state.end.is_some() || state.buffered >= CAPACITY {
                return Poll::Ready(());
            }
            state.reader_waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// How the body ended, if it has.
    pub fn end(&self) -> Option<End> {
        self.shared.lock().end.clone()
    }

    /// Whether the end has come; otherwise what to wait for.
    pub fn end_readiness(&self) -> Readiness {
        self.shared.readable.readiness_unless(|| self.shared.lock().end.is_some())
    }
}

impl Drop for BodyReader {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.readers -= 1;
        if state.readers > 0 {
            return;
        }
        state.reader_gone = true;
        state.chunks.clear();
        state.buffered = 0;
        self.shared.wake_writer(&mut state);
    }
}

impl InputStream for BodyReader {
    fn read(&mut self, size: usize) -> StreamResult<Vec<u8>> {
        match self.take(size) {
            Ok(chunk) => Ok(chunk.to_vec()),
            Err(None) => Ok(Vec::new()),
            Err(Some(End::Complete(_))) => Err(StreamError::Closed),
            Err(Some(End::Failed(why))) => Err(StreamError::LastOperationFailed(BodyError(why).into())),
        }
    }

    fn readiness(&mut self) -> Readiness {
        self.shared.readable.readiness_unless(|| {
            let state = self.shared.lock();
            !state.chunks.is_empty() || state.end.is_some()
        })
    }
}

/// Why a body sent to hyper failed.
#[derive(Debug)]
pub struct BodyError(pub String);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BodyError {}

impl http_body::Body for BodyReader {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        let mut state = this.shared.lock();
        if let Some(chunk) = state.chunks.pop_front() {
            state.buffered -= chunk.len();
            this.shared.wake_writer(&mut state);
            return Poll::Ready(Some(Ok(http_body::Frame::data(chunk))));
        }
        match &state.end {
            None => {
                state.reader_waker = Some(cx.waker().clone());
                Poll::Pending
            }
            // Before the failure is reported, hyper gets one chance to flush what it has (the
            // head, the data so far): reported at once, it would drop its buffer and close the
            // connection with nothing sent, and a body cut short would look like no response.
            Some(End::Failed(_)) if !this.flushed_before_failure => {
                this.flushed_before_failure = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(End::Failed(why)) => Poll::Ready(Some(Err(BodyError(why.clone())))),
            Some(End::Complete(trailers)) => {
                if this.trailers_sent {
                    return Poll::Ready(None);
                }
                this.trailers_sent = true;
                match trailers {
                    Some(t) if !t.is_empty() => Poll::Ready(Some(Ok(http_body::Frame::trailers(t.clone())))),
                    _ => Poll::Ready(None),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        let state = self.shared.lock();
        state.chunks.is_empty()
            && match &state.end {
                Some(End::Complete(t)) => self.trailers_sent || t.as_ref().is_none_or(HeaderMap::is_empty),
                _ => false,
            }
    }
}

/// Copies a hyper body into a channel from a tokio task: every data frame, then the
/// trailers or the failure. Stops early when the reader goes away.
pub async fn pump<B>(body: B, mut writer: BodyWriter)
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Display + Send,
{
    use http_body_util::BodyExt;
    let mut body = std::pin::pin!(body);
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => {
                    if !writer.send(data).await {
                        return;
                    }
                }
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        trailers.get_or_insert_with(HeaderMap::new).extend(t);
                    }
                }
            },
            Err(e) => {
                writer.fail(e.to_string());
                return;
            }
        }
    }
    writer.finish(trailers);
}

/// A value a tokio task hands to the guest once (the answer to an outgoing request): the
/// guest polls it as it polls a body, on an eventfd.
pub struct Slot<T> {
    value: Mutex<(Option<T>, bool)>,
    ready: EventFd,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot { value: Mutex::new((None, false)), ready: EventFd::default() }
    }
}

impl<T> Slot<T> {
    /// An empty slot.
    pub fn new() -> Slot<T> {
        Slot::default()
    }

    fn lock(&self) -> MutexGuard<'_, (Option<T>, bool)> {
        self.value.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fills the slot (once; later values are dropped) and wakes the guest.
    pub fn set(&self, value: T) {
        let mut v = self.lock();
        if !v.1 {
            *v = (Some(value), true);
        }
        drop(v);
        self.ready.signal();
    }

    /// The value, if it has come and was not taken.
    pub fn take(&self) -> Option<T> {
        self.lock().0.take()
    }

    /// Ready once the value has come.
    pub fn readiness(&self) -> Readiness {
        self.ready.readiness_unless(|| self.lock().1)
    }
}
