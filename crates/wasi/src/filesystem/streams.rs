//! The streams of `read-via-stream`, `write-via-stream` and `append-via-stream`: a file read
//! or written from a position of the stream's own, which advances with each read or write.
//!
//! Regular files never make a reader wait, so these streams are always ready and do their
//! I/O synchronously inside `read` and `write`: there is no background thread and nothing
//! to flush. A write may carry at most what `check-write` allowed (64 KiB since the last
//! `check-write`); more is a trap, as for every budgeted stream. The end of the file closes
//! an input stream, and a failed operation closes either kind after its error is reported
//! (the error holds the `io::Error`, which `filesystem-error-code` turns into an
//! `error-code`).

use super::fileio;
use crate::poll::Readiness;
use crate::streams::{InputStream, MAX_READ_SIZE, OutputStream, StreamError, StreamResult, take_budget};
use std::sync::Arc;

/// How much one `check-write` allows.
const WRITE_BUDGET: usize = MAX_READ_SIZE;

/// Reads a file from a position.
pub(crate) struct FileInputStream {
    file: Arc<cap_std::fs::File>,
    position: u64,
    closed: bool,
}

impl FileInputStream {
    /// A stream reading `file` from `position`.
    pub(crate) fn new(file: Arc<cap_std::fs::File>, position: u64) -> FileInputStream {
        FileInputStream { file, position, closed: false }
    }
}

impl InputStream for FileInputStream {
    fn read(&mut self, size: usize) -> StreamResult<Vec<u8>> {
        if self.closed {
            return Err(StreamError::Closed);
        }
        if size == 0 {
            return Ok(Vec::new());
        }
        match fileio::read_at(&self.file, size, self.position) {
            Ok(bytes) if bytes.is_empty() => {
                self.closed = true;
                Err(StreamError::Closed)
            }
            Ok(bytes) => {
                self.position = self.position.saturating_add(bytes.len() as u64);
                Ok(bytes)
            }
            Err(e) => {
                self.closed = true;
                Err(StreamError::LastOperationFailed(e.into()))
            }
        }
    }

    fn readiness(&mut self) -> Readiness {
        Readiness::Ready
    }
}

/// Where a file output stream writes.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// At this position, which advances.
    At(u64),
    /// At the end of the file, wherever it is at the time of each write.
    End,
}

/// Writes a file from a position, or appends to it.
pub(crate) struct FileOutputStream {
    file: Arc<cap_std::fs::File>,
    target: Target,
    /// What the last `check-write` allowed and has not been written yet.
    budget: usize,
    closed: bool,
}

impl FileOutputStream {
    /// A stream writing `file` from `position`.
    pub(crate) fn at(file: Arc<cap_std::fs::File>, position: u64) -> FileOutputStream {
        FileOutputStream { file, target: Target::At(position), budget: WRITE_BUDGET, closed: false }
    }

    /// A stream appending to `file`.
    pub(crate) fn append(file: Arc<cap_std::fs::File>) -> FileOutputStream {
        FileOutputStream { file, target: Target::End, budget: WRITE_BUDGET, closed: false }
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> StreamResult<()> {
        let result = match self.target {
            Target::At(position) => fileio::write_at(&self.file, bytes, position),
            Target::End => fileio::append(&self.file, bytes),
        };
        match result {
            Ok(n) if n == bytes.len() => {
                if let Target::At(position) = &mut self.target {
                    *position = position.saturating_add(n as u64);
                }
                Ok(())
            }
            // A short write is an error the host could not describe (the disk filled up
            // between two writes, say); the next write would meet it.
            Ok(_) => self.fail(std::io::Error::from(std::io::ErrorKind::WriteZero)),
            Err(e) => self.fail(e),
        }
    }

    fn fail(&mut self, e: std::io::Error) -> StreamResult<()> {
        self.closed = true;
        Err(StreamError::LastOperationFailed(e.into()))
    }
}

impl OutputStream for FileOutputStream {
    fn check_write(&mut self) -> StreamResult<usize> {
        if self.closed {
            return Err(StreamError::Closed);
        }
        self.budget = WRITE_BUDGET;
        Ok(self.budget)
    }

    fn write(&mut self, bytes: Vec<u8>) -> StreamResult<()> {
        if self.closed {
            return Err(StreamError::Closed);
        }
        take_budget(&mut self.budget, bytes.len())?;
        if bytes.is_empty() {
            return Ok(());
        }
        self.write_bytes(&bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        if self.closed { Err(StreamError::Closed) } else { Ok(()) }
    }

    fn readiness(&mut self) -> Readiness {
        Readiness::Ready
    }

    /// Checks the budget before allocating the zeros, so that a guest asking for 2^64 of
    /// them gets a trap, not a host allocation of that size.
    fn write_zeroes(&mut self, len: usize) -> StreamResult<()> {
        if self.closed {
            return Err(StreamError::Closed);
        }
        take_budget(&mut self.budget, len)?;
        if len == 0 {
            return Ok(());
        }
        self.write_bytes(&vec![0; len])
    }
}
