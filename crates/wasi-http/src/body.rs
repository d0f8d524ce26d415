//! The bodies of `wasi:http/types`: `incoming-body` (read through an `input-stream`, then
//! `finish`ed for its trailers, a `future-trailers`) and `outgoing-body` (written through an
//! `output-stream`, then `finish`ed with optional trailers). Each is one end of a byte channel
//! (`channel.rs`); the other end is hyper's.
//!
//! The streams are child resources of their body, as the WIT says: finishing a body while
//! its stream is alive traps (the resource table refuses to delete a parent with children).
//! A body dropped without `finish` is cut short: an outgoing one fails the message, an
//! incoming one stops being read.

use crate::bindings::http::types::{
    ErrorCode, HostFutureTrailers as FutureTrailersTrait, HostIncomingBody as IncomingBodyTrait,
    HostOutgoingBody as OutgoingBodyTrait,
};
use crate::channel::{BodyReader, BodyWriter, End};
use crate::fields::HostFields;
use crate::view::WasiHttpCtxView;
use weld::component::Resource;
use weld_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, Pollable, Readiness};

/// The value behind an `incoming-body` handle.
pub struct HostIncomingBody {
    reader: BodyReader,
    stream_taken: bool,
}

impl HostIncomingBody {
    /// A body read from `reader`.
    pub fn new(reader: BodyReader) -> HostIncomingBody {
        HostIncomingBody { reader, stream_taken: false }
    }
}

/// The value behind a `future-trailers` handle: ready when the body has ended.
pub struct HostFutureTrailers {
    reader: BodyReader,
    taken: bool,
}

impl Pollable for HostFutureTrailers {
    fn readiness(&mut self) -> Readiness {
        if self.taken { Readiness::Ready } else { self.reader.end_readiness() }
    }
}

/// The value behind an `outgoing-body` handle.
pub struct HostOutgoingBody {
    writer: BodyWriter,
    stream_taken: bool,
}

impl HostOutgoingBody {
    /// A body written to `writer`.
    pub fn new(writer: BodyWriter) -> HostOutgoingBody {
        HostOutgoingBody { writer, stream_taken: false }
    }
}

/// The error code of a body that failed with `why`.
pub(crate) fn failed_body(why: String) -> ErrorCode {
    if why.starts_with(crate::between_bytes::TIMED_OUT) {
        return ErrorCode::ConnectionReadTimeout;
    }
    ErrorCode::InternalError(Some(why))
}

impl IncomingBodyTrait for WasiHttpCtxView<'_> {
    fn stream(&mut self, body: Resource<HostIncomingBody>) -> weld::Result<Result<Resource<DynInputStream>, ()>> {
        let b = self.table.get_mut(&body)?;
        if b.stream_taken {
            return Ok(Err(()));
        }
        b.stream_taken = true;
        let stream: DynInputStream = Box::new(b.reader.share());
        Ok(Ok(self.table.push_child(stream, &body)?))
    }

    fn finish(&mut self, body: Resource<HostIncomingBody>) -> weld::Result<Resource<HostFutureTrailers>> {
        let body = self.table.delete(body)?;
        body.reader.discard_rest();
        Ok(self.table.push(HostFutureTrailers { reader: body.reader, taken: false })?)
    }

    fn drop(&mut self, body: Resource<HostIncomingBody>) -> weld::Result<()> {
        self.table.delete(body)?;
        Ok(())
    }
}

impl FutureTrailersTrait for WasiHttpCtxView<'_> {
    fn subscribe(&mut self, trailers: Resource<HostFutureTrailers>) -> weld::Result<Resource<DynPollable>> {
        weld_wasi::p2::subscribe(self.table, trailers)
    }

    #[allow(clippy::type_complexity)]
    fn get(
        &mut self,
        trailers: Resource<HostFutureTrailers>,
    ) -> weld::Result<Option<Result<Result<Option<Resource<HostFields>>, ErrorCode>, ()>>> {
        let t = self.table.get_mut(&trailers)?;
        if t.taken {
            return Ok(Some(Err(())));
        }
        let Some(end) = t.reader.end() else { return Ok(None) };
        t.taken = true;
        Ok(Some(Ok(match end {
            End::Complete(None) => Ok(None),
            End::Complete(Some(map)) => Ok(Some(self.table.push(HostFields::immutable(map))?)),
            End::Failed(why) => Err(failed_body(why)),
        })))
    }

    fn drop(&mut self, trailers: Resource<HostFutureTrailers>) -> weld::Result<()> {
        self.table.delete(trailers)?;
        Ok(())
    }
}

impl OutgoingBodyTrait for WasiHttpCtxView<'_> {
    fn write(&mut self, body: Resource<HostOutgoingBody>) -> weld::Result<Result<Resource<DynOutputStream>, ()>> {
        let b = self.table.get_mut(&body)?;
        if b.stream_taken {
            return Ok(Err(()));
        }
        b.stream_taken = true;
        let stream: DynOutputStream = Box::new(b.writer.stream());
        Ok(Ok(self.table.push_child(stream, &body)?))
    }

    fn finish(
        &mut self,
        body: Resource<HostOutgoingBody>,
        trailers: Option<Resource<HostFields>>,
    ) -> weld::Result<Result<(), ErrorCode>> {
        let mut body = self.table.delete(body)?;
        let trailers = match trailers {
            Some(t) => Some(self.table.delete(t)?.map),
            None => None,
        };
        body.writer.finish(trailers);
        Ok(Ok(()))
    }

    fn drop(&mut self, body: Resource<HostOutgoingBody>) -> weld::Result<()> {
        self.table.delete(body)?;
        Ok(())
    }
}
