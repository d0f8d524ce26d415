//! The streams of WASI 0.3 descriptors: [`FileProducer`] gives a guest a file's bytes from
//! an offset (`read-via-stream`), [`FileConsumer`] writes what a guest sends at an offset or
//! at the end (`write-via-stream`, `append-via-stream`), and [`DirectoryProducer`] gives a
//! guest a directory's entries (`read-directory`).
//!
//! Each does its I/O synchronously when the store's loop polls it, with the positional
//! reads and writes and the listings that WASI 0.2's streams use (`crate::filesystem`), so
//! it is never pending. Each tells the future returned beside its stream how the stream
//! ended through a [`oneshot`] channel: `ok` when it ends normally (at the end of the file or
//! listing, or when the guest drops its end), the `error-code` of the first failure
//! otherwise, after which the stream is dropped. One that cannot start (a directory read as a
//! file, say) is made already failed: it moves nothing, drops its end when first polled, and
//! its future resolves to the error.
//!
//! What is read from a guest is written before the next read, so a write error ends the
//! stream with every byte before the failing write on disk; the failing write's bytes
//! themselves were taken from the guest, and are lost.

use super::types::{DirectoryEntry, ErrorCode};
use crate::filesystem::ReaddirIterator;
use crate::filesystem::errors::{FsError, error_code};
use crate::filesystem::fileio;
use crate::p3::oneshot::{self, Reporter};
use crate::streams::MAX_READ_SIZE;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use weld::component::{Destination, Source, StoreContextMut, StreamConsumer, StreamProducer, StreamResult};

/// How a descriptor's stream ended, for the future returned beside it.
pub(crate) type Outcome = Result<(), ErrorCode>;

/// A failure of the shared operations as a WASI 0.3 error, or a trap.
pub(crate) fn fs_error(err: FsError) -> weld::Result<ErrorCode> {
    match err {
        FsError::Code(code) => Ok(code.into()),
        FsError::Trap(trap) => Err(trap),
    }
}

/// Reads a file from an offset into the guest's reads.
pub(crate) struct FileProducer {
    file: Result<Arc<cap_std::fs::File>, ErrorCode>,
    position: u64,
    report: Reporter<ErrorCode>,
}

impl FileProducer {
    /// Reads `file` from `offset`, or fails at once with its error.
    pub(crate) fn new(
        file: Result<Arc<cap_std::fs::File>, ErrorCode>,
        offset: u64,
        done: oneshot::Sender<Outcome>,
    ) -> FileProducer {
        FileProducer { file, position: offset, report: Reporter::new(done) }
    }
}

impl<D> StreamProducer<D> for FileProducer {
    type Item = u8;

    fn poll_produce(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        destination: Destination<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let this = &mut *self;
        let file = match &this.file {
            Ok(file) => file,
            Err(code) => return this.report.finish(Err(code.clone())),
        };
        // Straight into the guest's buffer.
        let mut direct = destination.as_direct(store, MAX_READ_SIZE);
        let buf = direct.remaining();
        if buf.is_empty() {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        match fileio::read_into(file, buf, this.position) {
            Ok(0) => this.report.finish(Ok(())),
            Ok(n) => {
                direct.mark_written(n);
                this.position = this.position.saturating_add(n as u64);
                Poll::Ready(Ok(StreamResult::Completed))
            }
            Err(e) => this.report.finish(Err(error_code(&e).into())),
        }
    }
}

/// Where a [`FileConsumer`] writes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    /// From this offset, which advances with each write.
    At(u64),
    /// At the end of the file, wherever it is at each write.
    End,
}

/// Writes what a guest sends into a file.
pub(crate) struct FileConsumer {
    file: Result<Arc<cap_std::fs::File>, ErrorCode>,
    target: Target,
    report: Reporter<ErrorCode>,
}

impl FileConsumer {
    /// Writes into `file` at `target`, or fails at once with its error (taking nothing from
    /// the guest).
    pub(crate) fn new(
        file: Result<Arc<cap_std::fs::File>, ErrorCode>,
        target: Target,
        done: oneshot::Sender<Outcome>,
    ) -> FileConsumer {
        FileConsumer { file, target, report: Reporter::new(done) }
    }
}

impl<D> StreamConsumer<D> for FileConsumer {
    type Item = u8;

    fn poll_consume(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let this = &mut *self;
        let file = match &this.file {
            Ok(file) => file,
            Err(code) => return this.report.finish(Err(code.clone())),
        };
        let mut bytes = Vec::new();
        source.read(store, &mut bytes)?;
        if bytes.is_empty() {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        let written = match this.target {
            Target::At(offset) => fileio::write_at(file, &bytes, offset),
            Target::End => fileio::append(file, &bytes),
        };
        match written {
            Ok(n) if n == bytes.len() => {
                if let Target::At(offset) = &mut this.target {
                    *offset = offset.saturating_add(n as u64);
                }
                Poll::Ready(Ok(StreamResult::Completed))
            }
            // A short write stopped at an error the host did not describe (a full disk,
            // say): the next write would meet it.
            Ok(_) => this.report.finish(Err(ErrorCode::Io)),
            Err(e) => this.report.finish(Err(error_code(&e).into())),
        }
    }
}

/// Gives a guest the entries of a directory listing, as many per read as it has room for.
pub(crate) struct DirectoryProducer {
    entries: Result<ReaddirIterator, ErrorCode>,
    report: Reporter<ErrorCode>,
}

impl DirectoryProducer {
    /// Gives the entries of `entries`, or fails at once with its error.
    pub(crate) fn new(entries: Result<ReaddirIterator, ErrorCode>, done: oneshot::Sender<Outcome>) -> Self {
        DirectoryProducer { entries, report: Reporter::new(done) }
    }
}

impl<D> StreamProducer<D> for DirectoryProducer {
    type Item = DirectoryEntry;

    fn poll_produce(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        mut destination: Destination<'_, DirectoryEntry>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let this = &mut *self;
        let entries = match &mut this.entries {
            Ok(entries) => entries,
            Err(code) => return this.report.finish(Err(code.clone())),
        };
        let room = destination.remaining(&mut store);
        let mut batch = Vec::new();
        let mut ended = None;
        while batch.len() < room {
            match entries.next_entry() {
                Ok(Some(entry)) => batch.push(DirectoryEntry::from(entry)),
                Ok(None) => {
                    ended = Some(Ok(()));
                    break;
                }
                Err(e) => {
                    ended = Some(Err(fs_error(e)?));
                    break;
                }
            }
        }
        // Every entry taken fits: the batch is no larger than the room.
        destination.write(&mut store, &mut batch)?;
        match ended {
            Some(outcome) => this.report.finish(outcome),
            None => Poll::Ready(Ok(StreamResult::Completed)),
        }
    }
}
