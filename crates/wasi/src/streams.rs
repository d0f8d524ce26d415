//! The host's side of `wasi:io/streams`: the [`InputStream`] and [`OutputStream`] traits that
//! every stream (stdio, pipes, files, sockets) implements, the [`StreamError`] they fail
//! with, and the blocking operations built once on top of them.
//!
//! The traits are non-blocking, as the WIT's `read`, `check-write` and `write` are: a read
//! returns what is there (possibly nothing), a write stays within the budget `check-write`
//! gave. Blocking variants wait on the stream's [`Readiness`](crate::poll::Readiness) between
//! attempts, here, so that no stream has to implement waiting itself.

use crate::poll::{Pollable, Readiness, block_until};

/// The largest number of bytes one `read` hands to a guest, whatever it asks for: a guest
/// may ask for 2^64 bytes, and the host must not try to allocate them.
pub const MAX_READ_SIZE: usize = 64 * 1024;

/// The most bytes `blocking-write-and-flush` accepts, as wasi:io/streams specifies.
pub const MAX_BLOCKING_WRITE: usize = 4096;

/// How a stream operation failed.
#[derive(Debug)]
pub enum StreamError {
    /// The stream is closed: no more bytes will be read, or written.
    Closed,
    /// The last operation failed; the guest receives this error as a `wasi:io/error` resource,
    /// and the stream is closed afterwards.
    LastOperationFailed(anyhow::Error),
    /// The guest misused the stream (for example wrote past its budget): a trap.
    Trap(anyhow::Error),
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::Closed => f.write_str("the stream is closed"),
            StreamError::LastOperationFailed(e) => write!(f, "the last operation failed: {e}"),
            StreamError::Trap(e) => write!(f, "trap: {e}"),
        }
    }
}

impl std::error::Error for StreamError {}

impl From<std::io::Error> for StreamError {
    /// A broken pipe closes the stream; any other error is a failed operation.
    fn from(e: std::io::Error) -> StreamError {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            StreamError::Closed
        } else {
            StreamError::LastOperationFailed(e.into())
        }
    }
}

/// The result of a stream operation.
pub type StreamResult<T> = std::result::Result<T, StreamError>;

/// A source of bytes a guest reads through an `input-stream`.
pub trait InputStream: Send + 'static {
    /// Up to `size` bytes that are available now, without blocking; empty when none are
    /// (the stream's readiness then says what to wait for). `Closed` at the end.
    fn read(&mut self, size: usize) -> StreamResult<Vec<u8>>;

    /// Whether a `read` would return bytes (or an error) now, or what to wait for.
    fn readiness(&mut self) -> Readiness;

    /// Skips up to `size` available bytes without returning them; how many were skipped.
    fn skip(&mut self, size: usize) -> StreamResult<usize> {
        Ok(self.read(size.min(MAX_READ_SIZE))?.len())
    }
}

/// A sink of bytes a guest writes through an `output-stream`.
pub trait OutputStream: Send + 'static {
    /// How many bytes the next `write` may take now (0: wait for readiness).
    fn check_write(&mut self) -> StreamResult<usize>;

    /// Writes `bytes`, which must not be more than the last `check_write` allowed.
    fn write(&mut self, bytes: Vec<u8>) -> StreamResult<()>;

    /// Starts flushing what was written; `check_write` may return 0 until it is done, and
    /// readiness says when it is.
    fn flush(&mut self) -> StreamResult<()>;

    /// Whether `check_write` would allow a write (or report an error) now, or what to wait
    /// for.
    fn readiness(&mut self) -> Readiness;

    /// Writes `len` zero bytes, within the same budget as `write`. The host checks `len`
    /// against `check_write` before calling this, so it is never more than the stream allows.
    fn write_zeroes(&mut self, len: usize) -> StreamResult<()> {
        self.write(vec![0; len])
    }
}

/// The Rust value behind an `input-stream` handle.
pub type DynInputStream = Box<dyn InputStream>;
/// The Rust value behind an `output-stream` handle.
pub type DynOutputStream = Box<dyn OutputStream>;

impl Pollable for DynInputStream {
    fn readiness(&mut self) -> Readiness {
        (**self).readiness()
    }
}

impl Pollable for DynOutputStream {
    fn readiness(&mut self) -> Readiness {
        (**self).readiness()
    }
}

/// How many times a blocking operation may find its stream "ready" and still make no
/// progress before it gives up with a trap, rather than spin.
const MAX_FRUITLESS_WAKEUPS: u32 = 1000;

/// Reads at least one byte (or fails), waiting for readiness as long as needed.
pub fn blocking_read(stream: &mut dyn InputStream, size: usize) -> StreamResult<Vec<u8>> {
    if size == 0 {
        wait(stream.readiness())?;
        return stream.read(0);
    }
    let mut fruitless = 0;
    loop {
        let bytes = stream.read(size)?;
        if !bytes.is_empty() {
            return Ok(bytes);
        }
        let readiness = stream.readiness();
        fruitless = count_fruitless(fruitless, &readiness, "input-stream.blocking-read")?;
        wait(readiness)?;
    }
}

/// Waits until `check_write` allows at least one byte, and returns how many.
pub fn blocking_check_write(stream: &mut dyn OutputStream) -> StreamResult<usize> {
    let mut fruitless = 0;
    loop {
        let permit = stream.check_write()?;
        if permit > 0 {
            return Ok(permit);
        }
        let readiness = stream.readiness();
        fruitless = count_fruitless(fruitless, &readiness, "output-stream.check-write")?;
        wait(readiness)?;
    }
}

/// Writes all of `bytes` (at most [`MAX_BLOCKING_WRITE`]) and flushes, waiting as needed;
/// `zeroes` writes that many zero bytes instead (`blocking-write-zeroes-and-flush`).
pub fn blocking_write_and_flush(
    stream: &mut dyn OutputStream,
    bytes: Option<Vec<u8>>,
    zeroes: usize,
) -> StreamResult<()> {
    let len = bytes.as_ref().map_or(zeroes, Vec::len);
    if len > MAX_BLOCKING_WRITE {
        return Err(StreamError::Trap(anyhow::anyhow!(
            "blocking-write-and-flush was given {len} bytes, more than the {MAX_BLOCKING_WRITE} wasi:io/streams allows"
        )));
    }
    let mut written = 0;
    let mut bytes = bytes;
    while written < len {
        let permit = blocking_check_write(stream)?;
        let n = permit.min(len - written);
        match bytes.take() {
            // All of it at once (the usual case): no copy.
            Some(all) if written == 0 && n == len => stream.write(all)?,
            Some(all) => {
                stream.write(all[written..written + n].to_vec())?;
                bytes = Some(all);
            }
            None => stream.write_zeroes(n)?,
        }
        written += n;
    }
    stream.flush()?;
    blocking_flush_wait(stream)
}

/// Flushes and waits until the flush is done.
pub fn blocking_flush(stream: &mut dyn OutputStream) -> StreamResult<()> {
    stream.flush()?;
    blocking_flush_wait(stream)
}

fn blocking_flush_wait(stream: &mut dyn OutputStream) -> StreamResult<()> {
    wait(stream.readiness())?;
    // A closed stream after a complete write is not an error of the write.
    match stream.check_write() {
        Ok(_) | Err(StreamError::Closed) => Ok(()),
        Err(e) => Err(e),
    }
}

fn count_fruitless(fruitless: u32, readiness: &Readiness, what: &str) -> StreamResult<u32> {
    if !readiness.is_ready() {
        return Ok(0);
    }
    if fruitless >= MAX_FRUITLESS_WAKEUPS {
        return Err(StreamError::Trap(anyhow::anyhow!(
            "{what}: the stream reported itself ready {MAX_FRUITLESS_WAKEUPS} times without making progress"
        )));
    }
    Ok(fruitless + 1)
}

fn wait(readiness: Readiness) -> StreamResult<()> {
    block_until(readiness).map_err(StreamError::Trap)
}

/// Checks a write of `len` bytes against the `budget` left by the last `check_write`, and
/// takes it from the budget; the trap every budgeted stream gives when a guest writes more.
pub fn take_budget(budget: &mut usize, len: usize) -> StreamResult<()> {
    if len > *budget {
        return Err(StreamError::Trap(anyhow::anyhow!(
            "output-stream.write of {len} bytes exceeds the {budget} bytes check-write allowed"
        )));
    }
    *budget -= len;
    Ok(())
}
