//! `wasi:io` for guests: the `error`, `poll` and `streams` interfaces, implemented on the
//! [`ResourceTable`] alone (they need nothing else of the context), over the stream traits of
//! [`crate::streams`] and the readiness of [`crate::poll`].

use crate::bindings::wasi::io::streams::StreamError as WitStreamError;
use crate::bindings::wasi::io::{error, poll, streams};
use crate::poll::{DynPollable, poll_list, ready_now, subscribe};
use crate::streams::{
    DynInputStream, DynOutputStream, MAX_READ_SIZE, StreamError, StreamResult, blocking_check_write, blocking_flush,
    blocking_read, blocking_write_and_flush, take_budget,
};
use weld::component::{Resource, ResourceTable};

/// The value behind a `wasi:io/error` handle.
pub type IoError = anyhow::Error;

/// A stream result as the guest receives it: closed, a failure as an `error` resource, or a
/// trap.
fn to_guest<T>(table: &mut ResourceTable, result: StreamResult<T>) -> weld::Result<Result<T, WitStreamError>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(StreamError::Closed) => Ok(Err(WitStreamError::Closed)),
        Err(StreamError::LastOperationFailed(e)) => Ok(Err(WitStreamError::LastOperationFailed(table.push(e)?))),
        Err(StreamError::Trap(e)) => Err(e),
    }
}

/// A guest's `u64` read length, as much as one read hands back.
fn read_len(len: u64) -> usize {
    usize::try_from(len).unwrap_or(usize::MAX).min(MAX_READ_SIZE)
}

impl error::HostError for ResourceTable {
    fn to_debug_string(&mut self, err: Resource<IoError>) -> weld::Result<String> {
        Ok(format!("{:?}", self.get(&err)?))
    }

    fn drop(&mut self, err: Resource<IoError>) -> weld::Result<()> {
        self.delete(err)?;
        Ok(())
    }
}

impl error::Host for ResourceTable {}

impl poll::HostPollable for ResourceTable {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> weld::Result<bool> {
        ready_now(self, &pollable)
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> weld::Result<()> {
        poll_list(self, &[pollable])?;
        Ok(())
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> weld::Result<()> {
        self.delete(pollable)?;
        Ok(())
    }
}

impl poll::Host for ResourceTable {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> weld::Result<Vec<u32>> {
        poll_list(self, &pollables)
    }
}

impl streams::HostInputStream for ResourceTable {
    fn read(&mut self, stream: Resource<DynInputStream>, len: u64) -> weld::Result<Result<Vec<u8>, WitStreamError>> {
        let result = self.get_mut(&stream)?.read(read_len(len));
        to_guest(self, result)
    }

    fn blocking_read(
        &mut self,
        stream: Resource<DynInputStream>,
        len: u64,
    ) -> weld::Result<Result<Vec<u8>, WitStreamError>> {
        let result = blocking_read(&mut **self.get_mut(&stream)?, read_len(len));
        to_guest(self, result)
    }

    fn skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> weld::Result<Result<u64, WitStreamError>> {
        let result = self.get_mut(&stream)?.skip(read_len(len)).map(|n| n as u64);
        to_guest(self, result)
    }

    fn blocking_skip(
        &mut self,
        stream: Resource<DynInputStream>,
        len: u64,
    ) -> weld::Result<Result<u64, WitStreamError>> {
        let stream = &mut **self.get_mut(&stream)?;
        let result = match blocking_read(stream, 0) {
            Ok(_) => stream.skip(read_len(len)).map(|n| n as u64),
            Err(e) => Err(e),
        };
        to_guest(self, result)
    }

    fn subscribe(&mut self, stream: Resource<DynInputStream>) -> weld::Result<Resource<DynPollable>> {
        subscribe(self, stream)
    }

    fn drop(&mut self, stream: Resource<DynInputStream>) -> weld::Result<()> {
        self.delete(stream)?;
        Ok(())
    }
}

impl streams::HostOutputStream for ResourceTable {
    fn check_write(&mut self, stream: Resource<DynOutputStream>) -> weld::Result<Result<u64, WitStreamError>> {
        let result = self.get_mut(&stream)?.check_write().map(|n| n as u64);
        to_guest(self, result)
    }

    fn write(
        &mut self,
        stream: Resource<DynOutputStream>,
        contents: Vec<u8>,
    ) -> weld::Result<Result<(), WitStreamError>> {
        let result = self.get_mut(&stream)?.write(contents);
        to_guest(self, result)
    }

    fn blocking_write_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        contents: Vec<u8>,
    ) -> weld::Result<Result<(), WitStreamError>> {
        let result = blocking_write_and_flush(&mut **self.get_mut(&stream)?, Some(contents), 0);
        to_guest(self, result)
    }

    fn flush(&mut self, stream: Resource<DynOutputStream>) -> weld::Result<Result<(), WitStreamError>> {
        let result = self.get_mut(&stream)?.flush();
        to_guest(self, result)
    }

    fn blocking_flush(&mut self, stream: Resource<DynOutputStream>) -> weld::Result<Result<(), WitStreamError>> {
        let result = blocking_flush(&mut **self.get_mut(&stream)?);
        to_guest(self, result)
    }

    fn subscribe(&mut self, stream: Resource<DynOutputStream>) -> weld::Result<Resource<DynPollable>> {
        subscribe(self, stream)
    }

    fn write_zeroes(
        &mut self,
        stream: Resource<DynOutputStream>,
        len: u64,
    ) -> weld::Result<Result<(), WitStreamError>> {
        // The length is the guest's: check it against the budget before anything is allocated.
        let out = &mut **self.get_mut(&stream)?;
        let result = out.check_write().and_then(|permit| {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            let mut budget = permit;
            take_budget(&mut budget, len)?;
            out.write_zeroes(len)
        });
        to_guest(self, result)
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        len: u64,
    ) -> weld::Result<Result<(), WitStreamError>> {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let result = blocking_write_and_flush(&mut **self.get_mut(&stream)?, None, len);
        to_guest(self, result)
    }

    fn splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> weld::Result<Result<u64, WitStreamError>> {
        let result = splice(self, &dst, &src, len, false);
        to_guest(self, result)
    }

    fn blocking_splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> weld::Result<Result<u64, WitStreamError>> {
        let result = splice(self, &dst, &src, len, true);
        to_guest(self, result)
    }

    fn drop(&mut self, stream: Resource<DynOutputStream>) -> weld::Result<()> {
        self.delete(stream)?;
        Ok(())
    }
}

impl streams::Host for ResourceTable {}

/// `splice`: moves up to `len` bytes from `src` to `dst`, as many as `dst` takes now (or,
/// when `blocking`, at least one byte after waiting for both).
fn splice(
    table: &mut ResourceTable,
    dst: &Resource<DynOutputStream>,
    src: &Resource<DynInputStream>,
    len: u64,
    blocking: bool,
) -> StreamResult<u64> {
    let trap = |e: weld::component::ResourceTableError| StreamError::Trap(e.into());
    let permit = {
        let out = &mut **table.get_mut(dst).map_err(trap)?;
        if blocking { blocking_check_write(out)? } else { out.check_write()? }
    };
    let want = read_len(len).min(permit);
    if want == 0 {
        return Ok(0);
    }
    let bytes = {
        let input = &mut **table.get_mut(src).map_err(trap)?;
        if blocking { blocking_read(input, want)? } else { input.read(want)? }
    };
    let n = bytes.len();
    if n > 0 {
        let mut budget = permit;
        take_budget(&mut budget, n)?;
        table.get_mut(dst).map_err(trap)?.write(bytes)?;
    }
    Ok(n as u64)
}
