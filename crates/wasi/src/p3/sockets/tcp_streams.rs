//! The streams of WASI 0.3's TCP sockets, as weld's host stream ends: [`Acceptor`] gives a
//! guest the connections a listener accepts (`listen`'s `stream<tcp-socket>`, each made a
//! handle by the function it is given),
//! [`Receiver`] the bytes a connection receives (`receive`), and [`Sender`] sends what a
//! guest writes (`send`).
//!
//! Each holds the socket's descriptor (an `Arc`), not the socket's handle: the WIT says the
//! streams keep working after the socket is dropped, and the descriptor closes when the last
//! of them goes. Each does its system calls non-blocking when the store's loop polls it, and
//! when one would block, waits for the descriptor's readiness through the readiness thread
//! ([`Waiter`]), returning `Pending`; nothing blocks the store's thread.
//!
//! A zero-length read (the guest asking whether data is there) completes once the socket is
//! readable, moving nothing. A [`Sender`] takes the bytes of each guest write and completes
//! the write only once the kernel took them all, so a write's completion means its bytes are
//! in the socket; its end dropped, it shuts the socket down for sending (the peer sees the
//! end of the stream) and resolves `send`'s future. The one case where it still holds bytes
//! when dropped is a write the guest cancelled after the bytes were taken (the guest was told
//! they were written): a short-lived thread then finishes sending them, waiting at most
//! [`crate::sockets::DRAIN_ON_DROP`], before shutting down and resolving the future.
//!
//! Each reports how its stream ended to the future returned beside it ([`Reporter`]): `ok`
//! at the peer's end of stream or when the guest drops its end, the error otherwise.

use super::reactor::Waiter;
use super::types::ErrorCode;
use crate::bindings::wasi::sockets::network::ErrorCode as P2ErrorCode;
use crate::p3::oneshot::Reporter;
use crate::sockets::{DRAIN_ON_DROP, Listener};
use crate::view::{WasiCtxView, WasiView};
use rustix::event::PollFlags;
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags, Shutdown};
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use weld::component::{Destination, Lower, Source, StoreContextMut, StreamConsumer, StreamProducer, StreamResult};

/// How a connection's stream ended, for the future returned beside it.
pub(crate) type Outcome = Result<(), ErrorCode>;

/// The most bytes one read takes from the kernel.
const MAX_READ: usize = 64 * 1024;

/// The most transient `accept` failures one poll skips before it lets the loop go round.
const MAX_SKIPPED_PER_POLL: usize = 64;

/// Ready once `fd` is readable (zero-length reads and writes wait for it).
fn poll_readable(waiter: &mut Waiter, cx: &mut Context<'_>, fd: &Arc<OwnedFd>) -> Poll<weld::Result<StreamResult>> {
    waiter.poll_ready(cx, fd, PollFlags::IN).map(|r| r.map(|()| StreamResult::Completed))
}

/// Makes an accepted connection the handle a guest receives (a new `tcp-socket`).
pub(crate) type MakeHandle<R> = fn(&mut WasiCtxView<'_>, crate::sockets::TcpSocket) -> weld::Result<R>;

/// Gives a guest the connections a listening socket accepts, as the handles `make` makes.
pub(crate) struct Acceptor<R> {
    listener: Listener,
    make: MakeHandle<R>,
    waiter: Waiter,
}

impl<R> Acceptor<R> {
    /// Accepts on `listener`.
    pub(crate) fn new(listener: Listener, make: MakeHandle<R>) -> Acceptor<R> {
        Acceptor { listener, make, waiter: Waiter::new() }
    }
}

impl<D: WasiView + 'static, R: Lower + Send + 'static> StreamProducer<D> for Acceptor<R> {
    type Item = R;

    fn poll_produce(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        mut destination: Destination<'_, R>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let this = &mut *self;
        let fd = this.listener.fd().clone();
        if destination.remaining(&mut store) == 0 {
            return poll_readable(&mut this.waiter, cx, &fd);
        }
        let mut skipped = 0;
        loop {
            match this.listener.accept() {
                Ok((socket, _)) => {
                    let socket = (this.make)(&mut store.data_mut().ctx(), socket)?;
                    // There is room for it: the guest's read asked for at least one.
                    destination.write(&mut store, &mut vec![socket])?;
                    return Poll::Ready(Ok(StreamResult::Completed));
                }
                Err(P2ErrorCode::WouldBlock) => match this.waiter.poll_ready(cx, &fd, PollFlags::IN) {
                    Poll::Ready(Ok(())) => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                },
                // The WIT: a connection that died while queued is skipped, and the stream
                // goes on.
                Err(P2ErrorCode::ConnectionAborted) if skipped < MAX_SKIPPED_PER_POLL => {
                    log::debug!("wasi:sockets: skipped a connection that was aborted before it was accepted");
                    skipped += 1;
                }
                Err(P2ErrorCode::ConnectionAborted) => {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Err(code) => {
                    log::debug!("wasi:sockets: accepting failed ({code:?}); the listen stream ends");
                    return Poll::Ready(Ok(StreamResult::Dropped));
                }
            }
        }
    }
}

/// Gives a guest the bytes a connection receives, until the peer's end of stream or an
/// error; or, made already failed, nothing.
pub(crate) struct Receiver {
    fd: Option<Arc<OwnedFd>>,
    waiter: Waiter,
    report: Reporter<ErrorCode>,
}

impl Receiver {
    /// Receives on `fd`; with `None` (a `receive` that failed, whose future already has its
    /// error) ends the stream at its first read.
    pub(crate) fn new(fd: Option<Arc<OwnedFd>>, report: Reporter<ErrorCode>) -> Receiver {
        Receiver { fd, waiter: Waiter::new(), report }
    }
}

impl<D> StreamProducer<D> for Receiver {
    type Item = u8;

    fn poll_produce(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        destination: Destination<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let this = &mut *self;
        let Some(fd) = this.fd.clone() else { return Poll::Ready(Ok(StreamResult::Dropped)) };
        // Straight into the guest's buffer.
        let mut direct = destination.as_direct(store, MAX_READ);
        if direct.remaining().is_empty() {
            return poll_readable(&mut this.waiter, cx, &fd);
        }
        loop {
            match rustix::net::recv(&*fd, direct.remaining(), RecvFlags::empty()) {
                Ok((0, _)) => return this.report.finish(Ok(())),
                Ok((n, _)) => {
                    direct.mark_written(n);
                    return Poll::Ready(Ok(StreamResult::Completed));
                }
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => match this.waiter.poll_ready(cx, &fd, PollFlags::IN) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                },
                Err(e) => return this.report.finish(Err(ErrorCode::from_errno(e))),
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // The WIT: dropping the stream is `shutdown(SHUT_RD)`.
        if let Some(fd) = &self.fd {
            let _ = rustix::net::shutdown(&**fd, Shutdown::Read);
        }
    }
}

/// Sends what a guest writes on a connection; or, made already failed, takes nothing.
pub(crate) struct Sender {
    fd: Option<Arc<OwnedFd>>,
    waiter: Waiter,
    /// Bytes of the guest's current write that the kernel has not taken yet.
    pending: Vec<u8>,
    /// How many of `pending` the kernel took.
    sent: usize,
    report: Option<Reporter<ErrorCode>>,
}

impl Sender {
    /// Sends on `fd`; with `None` (a `send` that failed, whose future already has its error)
    /// ends the stream at the guest's first write, taking nothing.
    pub(crate) fn new(fd: Option<Arc<OwnedFd>>, report: Reporter<ErrorCode>) -> Sender {
        Sender { fd, waiter: Waiter::new(), pending: Vec::new(), sent: 0, report: Some(report) }
    }

    /// Hands `pending` to the kernel: `None` once it took it all, else what the poll
    /// returns (`Pending` while the kernel takes no more, or the stream's end on an error).
    fn flush(&mut self, cx: &mut Context<'_>, fd: &Arc<OwnedFd>) -> Option<Poll<weld::Result<StreamResult>>> {
        while self.sent < self.pending.len() {
            match rustix::net::send(&**fd, &self.pending[self.sent..], SendFlags::NOSIGNAL) {
                Ok(n) => self.sent += n,
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => match self.waiter.poll_ready(cx, fd, PollFlags::OUT) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Some(Poll::Ready(Err(e))),
                    Poll::Pending => return Some(Poll::Pending),
                },
                Err(e) => return Some(self.fail(ErrorCode::from_errno(e))),
            }
        }
        self.pending.clear();
        self.sent = 0;
        None
    }

    /// Ends the stream with `code`, which `send`'s future reports.
    fn fail(&mut self, code: ErrorCode) -> Poll<weld::Result<StreamResult>> {
        self.pending.clear();
        self.sent = 0;
        match &mut self.report {
            Some(report) => report.finish(Err(code)),
            None => Poll::Ready(Ok(StreamResult::Dropped)),
        }
    }
}

impl<D> StreamConsumer<D> for Sender {
    type Item = u8;

    fn poll_consume(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let this = &mut *self;
        let Some(fd) = this.fd.clone() else { return Poll::Ready(Ok(StreamResult::Dropped)) };
        // What an earlier poll took goes first (the rest of this write, or of one the guest
        // cancelled); then what the guest offers now. The write completes once the kernel
        // has all of it.
        if let Some(done) = this.flush(cx, &fd) {
            return done;
        }
        source.read(store, &mut this.pending)?;
        match this.flush(cx, &fd) {
            Some(done) => done,
            None => Poll::Ready(Ok(StreamResult::Completed)),
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let Some(fd) = self.fd.take() else { return };
        let report = self.report.take();
        let sent = self.sent.min(self.pending.len());
        let rest = std::mem::take(&mut self.pending).split_off(sent);
        if rest.is_empty() {
            // The WIT: ending the stream is `shutdown(SHUT_WR)`.
            let _ = rustix::net::shutdown(&*fd, Shutdown::Write);
            drop(report);
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("weld-wasi-tcp-drain".into())
            .spawn(move || finish_sending(fd, rest, report));
        if let Err(e) = spawned {
            log::debug!("wasi:sockets: no thread to finish a cancelled send on ({e}); its bytes are lost");
        }
    }
}

/// Sends `rest` on `fd`, blocking this (dedicated) thread for at most
/// [`DRAIN_ON_DROP`], then shuts the socket down for sending and reports.
fn finish_sending(fd: Arc<OwnedFd>, rest: Vec<u8>, report: Option<Reporter<ErrorCode>>) {
    let deadline = Instant::now() + DRAIN_ON_DROP;
    let mut sent = 0;
    let mut outcome = Ok(());
    while sent < rest.len() {
        match rustix::net::send(&*fd, &rest[sent..], SendFlags::NOSIGNAL) {
            Ok(n) => sent += n,
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) if Instant::now() < deadline => {
                let shared: crate::poll::SharedFd = fd.clone();
                let wait =
                    crate::poll::Readiness::Wait { fd: Some((shared, PollFlags::OUT)), deadline: Some(deadline) };
                if crate::poll::block_until(wait).is_err() {
                    outcome = Err(ErrorCode::Other(Some("waiting to send failed".into())));
                    break;
                }
            }
            Err(Errno::AGAIN) => {
                outcome = Err(ErrorCode::Timeout);
                break;
            }
            Err(e) => {
                outcome = Err(ErrorCode::from_errno(e));
                break;
            }
        }
    }
    let _ = rustix::net::shutdown(&*fd, Shutdown::Write);
    if let Some(mut report) = report {
        let _ = report.finish(outcome);
    }
}
