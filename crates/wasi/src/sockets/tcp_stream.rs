//! The byte streams of a connected TCP socket: [`TcpReader`] (its `input-stream`) and
//! [`TcpWriter`] (its `output-stream`), over the socket's descriptor, non-blocking.
//!
//! A read takes what the kernel has (up to [`MAX_READ_SIZE`]); nothing yet is an empty read,
//! and the peer's end of stream closes the stream. A write hands the bytes to the kernel at
//! once and keeps whatever it did not take in a buffer of the stream's own; `check-write`
//! allows [`MAX_READ_SIZE`] more bytes only once that buffer has drained, so the buffer never
//! holds more than one write. Draining happens whenever the guest asks the stream anything
//! (`check-write`, `write`, `flush`, or its readiness before a wait), as there is no
//! background thread to do it; `flush` therefore has nothing to start, and is ready when the
//! buffer is empty.
//!
//! Each half's state is shared (`Arc<Mutex<_>>`) with the socket, so that
//! `tcp-socket.shutdown` can close it while the guest still holds the stream. Dropping the
//! input stream shuts down the receiving side; dropping the output stream first waits (for
//! at most [`DRAIN_ON_DROP`]) for the buffer to drain, so that bytes the guest already wrote
//! are not silently lost, then shuts down the sending side (the peer sees the end of stream).

use super::errors::stream_failure;
use crate::poll::{Readiness, SharedFd, block_until};
use crate::streams::{InputStream, MAX_READ_SIZE, OutputStream, StreamError, StreamResult, take_budget};
use rustix::event::PollFlags;
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags, Shutdown};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long dropping an output stream waits, at most, for its unsent bytes to leave.
pub const DRAIN_ON_DROP: Duration = Duration::from_secs(10);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn shared(fd: &Arc<OwnedFd>) -> SharedFd {
    fd.clone()
}

/// The receiving half of a connection.
pub(crate) struct ReadHalf {
    fd: Arc<OwnedFd>,
    open: bool,
}

impl ReadHalf {
    /// Closes the half and shuts the socket down for receiving (once).
    pub(crate) fn shutdown(&mut self) {
        if self.open {
            self.open = false;
            let _ = rustix::net::shutdown(&*self.fd, Shutdown::Read);
        }
    }
}

/// Where the sending half stands.
enum WriteState {
    /// Bytes may be written.
    Open,
    /// `shutdown(send)` was asked while bytes were still buffered: no more writes; the
    /// socket's sending side is shut down once the buffer drains.
    Closing,
    /// A send failed; the guest gets the error once, then the stream is closed.
    Failed(anyhow::Error),
    /// No more bytes will be written.
    Closed,
}

/// The sending half of a connection.
pub(crate) struct WriteHalf {
    fd: Arc<OwnedFd>,
    state: WriteState,
    /// Bytes written by the guest that the kernel has not taken yet.
    pending: Vec<u8>,
    /// How many bytes the last `check-write` allowed and no write has used yet.
    budget: usize,
}

impl WriteHalf {
    /// Hands buffered bytes to the kernel until it takes no more; then, if a shutdown is
    /// waiting for the buffer, does it.
    fn drain(&mut self) {
        while !self.pending.is_empty() && matches!(self.state, WriteState::Open | WriteState::Closing) {
            match rustix::net::send(&*self.fd, &self.pending, SendFlags::NOSIGNAL) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) => return,
                Err(e) => self.fail(e),
            }
        }
        if self.pending.is_empty() && matches!(self.state, WriteState::Closing) {
            self.state = WriteState::Closed;
            let _ = rustix::net::shutdown(&*self.fd, Shutdown::Write);
        }
    }

    /// Records a failed send: a peer that is gone (`EPIPE`) closes the stream, anything else
    /// is an error for the guest. Unsent bytes are dropped either way.
    fn fail(&mut self, errno: Errno) {
        self.pending.clear();
        self.state = if errno == Errno::PIPE {
            WriteState::Closed
        } else {
            WriteState::Failed(stream_failure(errno, "sending on a TCP connection"))
        };
    }

    /// The error to report for a stream that is not open, if it is not: a failure once, then
    /// `Closed`.
    fn closed_error(&mut self) -> Option<StreamError> {
        match std::mem::replace(&mut self.state, WriteState::Closed) {
            WriteState::Open => {
                self.state = WriteState::Open;
                None
            }
            WriteState::Failed(e) => Some(StreamError::LastOperationFailed(e)),
            WriteState::Closing => {
                self.state = WriteState::Closing;
                Some(StreamError::Closed)
            }
            WriteState::Closed => Some(StreamError::Closed),
        }
    }

    /// Closes the half for sending: at once when nothing is buffered, else once the buffer
    /// drains (idempotent).
    pub(crate) fn shutdown(&mut self) {
        if matches!(self.state, WriteState::Open) {
            self.state = WriteState::Closing;
            self.drain();
        }
    }
}

/// Makes the two halves of a connection on `fd`.
pub(crate) fn halves(fd: &Arc<OwnedFd>) -> (Arc<Mutex<ReadHalf>>, Arc<Mutex<WriteHalf>>) {
    let read = ReadHalf { fd: fd.clone(), open: true };
    let write = WriteHalf { fd: fd.clone(), state: WriteState::Open, pending: Vec::new(), budget: 0 };
    (Arc::new(Mutex::new(read)), Arc::new(Mutex::new(write)))
}

/// A connection's `input-stream`.
pub(crate) struct TcpReader(pub(crate) Arc<Mutex<ReadHalf>>);

impl InputStream for TcpReader {
    fn read(&mut self, size: usize) -> StreamResult<Vec<u8>> {
        let mut half = lock(&self.0);
        if !half.open {
            return Err(StreamError::Closed);
        }
        if size == 0 {
            return Ok(Vec::new());
        }
        let mut buf = vec![0; size.min(MAX_READ_SIZE)];
        match rustix::net::recv(&*half.fd, &mut buf[..], RecvFlags::empty()) {
            Ok((0, _)) => {
                half.open = false;
                Err(StreamError::Closed)
            }
            Ok((n, _)) => {
                buf.truncate(n);
                Ok(buf)
            }
            Err(Errno::AGAIN | Errno::INTR) => Ok(Vec::new()),
            Err(e) => {
                half.open = false;
                Err(StreamError::LastOperationFailed(stream_failure(e, "receiving on a TCP connection")))
            }
        }
    }

    fn readiness(&mut self) -> Readiness {
        let half = lock(&self.0);
        if half.open { Readiness::fd(shared(&half.fd), PollFlags::IN) } else { Readiness::Ready }
    }
}

impl Drop for TcpReader {
    fn drop(&mut self) {
        lock(&self.0).shutdown();
    }
}

/// A connection's `output-stream`.
pub(crate) struct TcpWriter(pub(crate) Arc<Mutex<WriteHalf>>);

impl OutputStream for TcpWriter {
    fn check_write(&mut self) -> StreamResult<usize> {
        let mut half = lock(&self.0);
        half.drain();
        if let Some(e) = half.closed_error() {
            half.budget = 0;
            return Err(e);
        }
        half.budget = if half.pending.is_empty() { MAX_READ_SIZE } else { 0 };
        Ok(half.budget)
    }

    fn write(&mut self, bytes: Vec<u8>) -> StreamResult<()> {
        let mut half = lock(&self.0);
        if let Some(e) = half.closed_error() {
            return Err(e);
        }
        take_budget(&mut half.budget, bytes.len())?;
        if bytes.is_empty() {
            return Ok(());
        }
        half.pending.extend_from_slice(&bytes);
        half.drain();
        match half.closed_error() {
            // The bytes were accepted; a failure while sending them is reported next time.
            Some(StreamError::LastOperationFailed(e)) => {
                half.state = WriteState::Failed(e);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn write_zeroes(&mut self, len: usize) -> StreamResult<()> {
        // Check before allocating: `len` comes straight from the guest.
        {
            let mut half = lock(&self.0);
            if let Some(e) = half.closed_error() {
                return Err(e);
            }
            take_budget(&mut half.budget.clone(), len)?;
        }
        self.write(vec![0; len])
    }

    fn flush(&mut self) -> StreamResult<()> {
        let mut half = lock(&self.0);
        half.drain();
        match half.closed_error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn readiness(&mut self) -> Readiness {
        let mut half = lock(&self.0);
        half.drain();
        if half.pending.is_empty() || !matches!(half.state, WriteState::Open | WriteState::Closing) {
            Readiness::Ready
        } else {
            Readiness::fd(shared(&half.fd), PollFlags::OUT)
        }
    }
}

impl Drop for TcpWriter {
    fn drop(&mut self) {
        let mut half = lock(&self.0);
        let deadline = Instant::now() + DRAIN_ON_DROP;
        loop {
            half.drain();
            if half.pending.is_empty() || !matches!(half.state, WriteState::Open | WriteState::Closing) {
                break;
            }
            if Instant::now() >= deadline {
                log::debug!(
                    "wasi:sockets: dropping a TCP output stream with {} unsent bytes after waiting {DRAIN_ON_DROP:?}",
                    half.pending.len()
                );
                half.pending.clear();
                break;
            }
            let wait = Readiness::Wait { fd: Some((shared(&half.fd), PollFlags::OUT)), deadline: Some(deadline) };
            if block_until(wait).is_err() {
                break;
            }
        }
        if !matches!(half.state, WriteState::Closed) {
            half.state = WriteState::Closed;
            let _ = rustix::net::shutdown(&*half.fd, Shutdown::Write);
        }
    }
}
