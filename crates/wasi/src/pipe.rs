//! Streams that live in memory, for embedders and tests: [`MemoryInputPipe`] (a guest's
//! stdin from bytes), [`MemoryOutputPipe`] (a guest's stdout captured, with a capacity),
//! and the trivial [`ClosedInputStream`], [`ClosedOutputStream`] and [`SinkOutputStream`].
//!
//! Pipes are cheap to clone and clones share their contents, so the embedder keeps one clone
//! to read what the guest wrote after the call. All of them are always ready.

use crate::poll::Readiness;
use crate::streams::{InputStream, OutputStream, StreamError, StreamResult, take_budget};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An input stream that yields fixed bytes, then is closed.
#[derive(Debug, Clone)]
pub struct MemoryInputPipe {
    buffer: Arc<Mutex<VecDeque<u8>>>,
}

impl MemoryInputPipe {
    /// A pipe that yields `bytes`.
    pub fn new(bytes: impl Into<Vec<u8>>) -> MemoryInputPipe {
        MemoryInputPipe { buffer: Arc::new(Mutex::new(bytes.into().into())) }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        lock(&self.buffer).is_empty()
    }
}

impl InputStream for MemoryInputPipe {
    fn read(&mut self, size: usize) -> StreamResult<Vec<u8>> {
        let mut buffer = lock(&self.buffer);
        if buffer.is_empty() {
            return Err(StreamError::Closed);
        }
        let n = size.min(buffer.len());
        Ok(buffer.drain(..n).collect())
    }

    fn readiness(&mut self) -> Readiness {
        Readiness::Ready
    }
}

/// An output stream that keeps what is written, up to a capacity.
#[derive(Debug, Clone)]
pub struct MemoryOutputPipe {
    capacity: usize,
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl MemoryOutputPipe {
    /// A pipe that accepts up to `capacity` bytes in all; once full, it is closed.
    pub fn new(capacity: usize) -> MemoryOutputPipe {
        MemoryOutputPipe { capacity, buffer: Arc::new(Mutex::new(Vec::new())) }
    }

    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        lock(&self.buffer).clone()
    }

    /// The bytes written, if this is the last clone of the pipe.
    pub fn try_into_inner(self) -> Option<Vec<u8>> {
        Arc::try_unwrap(self.buffer).ok().map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
    }
}

impl OutputStream for MemoryOutputPipe {
    fn check_write(&mut self) -> StreamResult<usize> {
        let room = self.capacity - lock(&self.buffer).len();
        if room == 0 { Err(StreamError::Closed) } else { Ok(room) }
    }

    fn write(&mut self, bytes: Vec<u8>) -> StreamResult<()> {
        let mut buffer = lock(&self.buffer);
        let mut room = self.capacity - buffer.len();
        take_budget(&mut room, bytes.len())?;
        buffer.extend_from_slice(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn readiness(&mut self) -> Readiness {
        Readiness::Ready
    }
}

/// An input stream that is closed from the start (the default stdin).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClosedInputStream;

impl InputStream for ClosedInputStream {
    fn read(&mut self, _size: usize) -> StreamResult<Vec<u8>> {
        Err(StreamError::Closed)
    }

    fn readiness(&mut self) -> Readiness {
        Readiness::Ready
    }
}

/// An output stream that is closed from the start.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClosedOutputStream;

impl OutputStream for ClosedOutputStream {
    fn check_write(&mut self) -> StreamResult<usize> {
        Err(StreamError::Closed)
    }

    fn write(&mut self, _bytes: Vec<u8>) -> StreamResult<()> {
        Err(StreamError::Closed)
    }

    fn flush(&mut self) -> StreamResult<()> {
        Err(StreamError::Closed)
    }

    fn readiness(&mut self) -> Readiness {
        Readiness::Ready
    }
}

/// An output stream that accepts everything and keeps nothing (the default stdout and
/// stderr).
#[derive(Debug, Clone, Copy, Default)]
pub struct SinkOutputStream;

impl OutputStream for SinkOutputStream {
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(crate::streams::MAX_READ_SIZE)
    }

    fn write(&mut self, _bytes: Vec<u8>) -> StreamResult<()> {
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn readiness(&mut self) -> Readiness {
        Readiness::Ready
    }
}
