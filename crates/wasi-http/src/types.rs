//! The messages of `wasi:http/types`: the incoming request a handler receives, the outgoing
//! response it sets on its `response-outparam`, and the outgoing request and its options a
//! guest sends through `outgoing-handler` (whose answer, the incoming response, is in
//! `client.rs`).
//!
//! A message's headers, once the message exists, are handed out as immutable child `fields`
//! (the WIT's rule): a copy of the message's headers, so reading them never races the host.
//! A body is taken once (`consume`, `body`); the second time is an error, as the WIT says.

use crate::bindings::http::types::{
    Duration, ErrorCode, HostIncomingRequest as IncomingRequestTrait, HostOutgoingRequest as OutgoingRequestTrait,
    HostOutgoingResponse as OutgoingResponseTrait, HostRequestOptions as RequestOptionsTrait,
    HostResponseOutparam as ResponseOutparamTrait, Method, Scheme,
};
use crate::body::{HostIncomingBody, HostOutgoingBody};
use crate::channel::{self, BodyReader};
use crate::fields::{HostFields, strip_forbidden};
use crate::view::WasiHttpCtxView;
use http::HeaderMap;
use weld::component::Resource;

/// What the host's response out-parameter sends: the response the guest set (its body streams
/// on after this is sent), or the error code it set instead.
pub type ResponseSender = tokio::sync::oneshot::Sender<Result<http::Response<BodyReader>, ErrorCode>>;

/// A request that arrived from the network, as the guest's handler will see it.
pub struct IncomingRequestParts {
    /// The method.
    pub method: http::Method,
    /// The scheme it arrived with (`http` for a plain connection).
    pub scheme: Option<http::uri::Scheme>,
    /// The authority: the URI's, or the `host` header's.
    pub authority: Option<String>,
    /// The path and query.
    pub path_with_query: Option<String>,
    /// The headers (hop-by-hop headers are removed when the request is made).
    pub headers: HeaderMap,
    /// The body, streamed from the network.
    pub body: BodyReader,
}

impl IncomingRequestParts {
    /// The parts of a hyper request, with its body read into a channel by a task spawned on
    /// the current tokio runtime.
    pub fn from_hyper<B>(request: http::Request<B>, scheme: http::uri::Scheme) -> IncomingRequestParts
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: std::fmt::Display + Send,
    {
        let (parts, pump) = IncomingRequestParts::from_hyper_with_pump(request, scheme);
        if let Some(pump) = pump {
            tokio::spawn(pump);
        }
        parts
    }

    /// As [`IncomingRequestParts::from_hyper`], but the future that reads the body into the
    /// channel is handed back, for the caller to run (it must, or the body never arrives);
    /// `None` when the request has no body. A server can run it for a while itself and spawn
    /// it only if the body is still coming, saving a task for most small requests.
    pub fn from_hyper_with_pump<B>(
        request: http::Request<B>,
        scheme: http::uri::Scheme,
    ) -> (IncomingRequestParts, Option<BodyPump>)
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: std::fmt::Display + Send,
    {
        let (parts, body) = request.into_parts();
        let (mut writer, reader) = channel::channel();
        let pump: Option<BodyPump> = if body.is_end_stream() {
            writer.finish(None);
            None
        } else {
            Some(Box::pin(channel::pump(body, writer)))
        };
        let authority = parts
            .uri
            .authority()
            .map(|a| a.to_string())
            .or_else(|| parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string));
        let request = IncomingRequestParts {
            method: parts.method,
            scheme: Some(parts.uri.scheme().cloned().unwrap_or(scheme)),
            authority,
            path_with_query: parts.uri.path_and_query().map(|p| p.to_string()),
            headers: parts.headers,
            body: reader,
        };
        (request, pump)
    }
}

/// The future that moves a request's body from hyper into its channel.
pub type BodyPump = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The value behind an `incoming-request` handle.
pub struct HostIncomingRequest {
    parts: IncomingRequestParts,
    body_taken: bool,
}

impl HostIncomingRequest {
    /// The request of `parts`, its hop-by-hop headers removed.
    pub fn new(mut parts: IncomingRequestParts) -> HostIncomingRequest {
        strip_forbidden(&mut parts.headers);
        HostIncomingRequest { parts, body_taken: false }
    }
}

/// The value behind a `response-outparam` handle.
pub struct HostResponseOutparam {
    sender: Option<ResponseSender>,
}

impl HostResponseOutparam {
    /// An out-parameter whose response is sent on `sender`.
    pub fn new(sender: ResponseSender) -> HostResponseOutparam {
        HostResponseOutparam { sender: Some(sender) }
    }
}

/// The value behind an `outgoing-response` handle.
pub struct HostOutgoingResponse {
    status: http::StatusCode,
    headers: HeaderMap,
    /// The reading end of the body, once the guest asked for the body.
    body: Option<BodyReader>,
}

/// The value behind an `outgoing-request` handle.
pub struct HostOutgoingRequest {
    pub(crate) method: http::Method,
    pub(crate) scheme: Option<Scheme>,
    pub(crate) authority: Option<String>,
    pub(crate) path_with_query: Option<String>,
    pub(crate) headers: HeaderMap,
    /// The reading end of the body, once the guest asked for the body.
    pub(crate) body: Option<BodyReader>,
}

/// The value behind a `request-options` handle.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostRequestOptions {
    /// How long to wait for the connection.
    pub connect_timeout: Option<std::time::Duration>,
    /// How long to wait for the response's first byte.
    pub first_byte_timeout: Option<std::time::Duration>,
    /// How long to wait between bytes of the response's body.
    pub between_bytes_timeout: Option<std::time::Duration>,
}

crate::wit_conversions::wit_conversions!(
    pub(crate) Method, Scheme, method_from_wit, method_to_wit, scheme_to_wit, valid_scheme
);

fn nanos(d: std::time::Duration) -> Duration {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl WasiHttpCtxView<'_> {
    /// Hands out `map` as immutable fields, a child of `parent`.
    pub(crate) fn child_headers<T: 'static>(
        &mut self,
        map: HeaderMap,
        parent: &Resource<T>,
    ) -> weld::Result<Resource<HostFields>> {
        Ok(self.table.push_child(HostFields::immutable(map), parent)?)
    }

    /// The body of an outgoing message whose body slot is `slot` (in the table): a new
    /// channel whose reading end goes in the slot, or an error if the body was taken before.
    fn outgoing_body(
        &mut self,
        slot: impl FnOnce(&mut Self) -> weld::Result<&mut Option<BodyReader>>,
    ) -> weld::Result<Result<Resource<HostOutgoingBody>, ()>> {
        let slot = slot(self)?;
        if slot.is_some() {
            return Ok(Err(()));
        }
        let (writer, reader) = channel::channel();
        *slot = Some(reader);
        Ok(Ok(self.table.push(HostOutgoingBody::new(writer))?))
    }
}

impl WasiHttpCtxView<'_> {
    /// Puts a request that arrived from the network in the table, for the guest's handler.
    pub fn new_incoming_request(
        &mut self,
        request: IncomingRequestParts,
    ) -> weld::Result<Resource<HostIncomingRequest>> {
        Ok(self.table.push(HostIncomingRequest::new(request))?)
    }

    /// Puts the out-parameter of a handler's response in the table: what the guest sets is
    /// sent on `sender`.
    pub fn new_response_outparam(&mut self, sender: ResponseSender) -> weld::Result<Resource<HostResponseOutparam>> {
        Ok(self.table.push(HostResponseOutparam::new(sender))?)
    }
}

impl crate::bindings::http::types::Host for WasiHttpCtxView<'_> {
    fn http_error_code(&mut self, err: Resource<weld_wasi::p2::IoError>) -> weld::Result<Option<ErrorCode>> {
        let err = self.table.get(&err)?;
        Ok(err.downcast_ref::<channel::BodyError>().map(|e| crate::body::failed_body(e.0.clone())))
    }
}

impl IncomingRequestTrait for WasiHttpCtxView<'_> {
    fn method(&mut self, request: Resource<HostIncomingRequest>) -> weld::Result<Method> {
        Ok(method_to_wit(&self.table.get(&request)?.parts.method))
    }

    fn path_with_query(&mut self, request: Resource<HostIncomingRequest>) -> weld::Result<Option<String>> {
        Ok(self.table.get(&request)?.parts.path_with_query.clone())
    }

    fn scheme(&mut self, request: Resource<HostIncomingRequest>) -> weld::Result<Option<Scheme>> {
        Ok(self.table.get(&request)?.parts.scheme.as_ref().map(scheme_to_wit))
    }

    fn authority(&mut self, request: Resource<HostIncomingRequest>) -> weld::Result<Option<String>> {
        Ok(self.table.get(&request)?.parts.authority.clone())
    }

    fn headers(&mut self, request: Resource<HostIncomingRequest>) -> weld::Result<Resource<HostFields>> {
        let map = self.table.get(&request)?.parts.headers.clone();
        self.child_headers(map, &request)
    }

    fn consume(
        &mut self,
        request: Resource<HostIncomingRequest>,
    ) -> weld::Result<Result<Resource<HostIncomingBody>, ()>> {
        let r = self.table.get_mut(&request)?;
        if r.body_taken {
            return Ok(Err(()));
        }
        r.body_taken = true;
        // Not a child of the request: guests drop the request and keep reading its body.
        let body = HostIncomingBody::new(r.parts.body.share());
        Ok(Ok(self.table.push(body)?))
    }

    fn drop(&mut self, request: Resource<HostIncomingRequest>) -> weld::Result<()> {
        self.table.delete(request)?;
        Ok(())
    }
}

impl ResponseOutparamTrait for WasiHttpCtxView<'_> {
    fn set(
        &mut self,
        param: Resource<HostResponseOutparam>,
        response: Result<Resource<HostOutgoingResponse>, ErrorCode>,
    ) -> weld::Result<()> {
        let mut param = self.table.delete(param)?;
        let response = match response {
            Ok(r) => {
                let r = self.table.delete(r)?;
                let mut response = http::Response::new(r.body.unwrap_or_else(channel::empty));
                *response.status_mut() = r.status;
                *response.headers_mut() = r.headers;
                Ok(response)
            }
            Err(code) => Err(code),
        };
        match param.sender.take() {
            // The server may have stopped waiting (the client went away): nothing to do.
            Some(sender) => {
                let _ = sender.send(response);
            }
            None => weld::bail!("response-outparam.set: the response was already set"),
        }
        Ok(())
    }

    fn drop(&mut self, param: Resource<HostResponseOutparam>) -> weld::Result<()> {
        self.table.delete(param)?;
        Ok(())
    }
}

impl OutgoingResponseTrait for WasiHttpCtxView<'_> {
    fn new(&mut self, headers: Resource<HostFields>) -> weld::Result<Resource<HostOutgoingResponse>> {
        let headers = self.table.delete(headers)?.map;
        Ok(self.table.push(HostOutgoingResponse { status: http::StatusCode::OK, headers, body: None })?)
    }

    fn status_code(&mut self, response: Resource<HostOutgoingResponse>) -> weld::Result<u16> {
        Ok(self.table.get(&response)?.status.as_u16())
    }

    fn set_status_code(
        &mut self,
        response: Resource<HostOutgoingResponse>,
        status: u16,
    ) -> weld::Result<Result<(), ()>> {
        let Ok(status) = http::StatusCode::from_u16(status) else { return Ok(Err(())) };
        self.table.get_mut(&response)?.status = status;
        Ok(Ok(()))
    }

    fn headers(&mut self, response: Resource<HostOutgoingResponse>) -> weld::Result<Resource<HostFields>> {
        let map = self.table.get(&response)?.headers.clone();
        self.child_headers(map, &response)
    }

    fn body(
        &mut self,
        response: Resource<HostOutgoingResponse>,
    ) -> weld::Result<Result<Resource<HostOutgoingBody>, ()>> {
        self.outgoing_body(|view| Ok(&mut view.table.get_mut(&response)?.body))
    }

    fn drop(&mut self, response: Resource<HostOutgoingResponse>) -> weld::Result<()> {
        self.table.delete(response)?;
        Ok(())
    }
}

impl OutgoingRequestTrait for WasiHttpCtxView<'_> {
    fn new(&mut self, headers: Resource<HostFields>) -> weld::Result<Resource<HostOutgoingRequest>> {
        let headers = self.table.delete(headers)?.map;
        Ok(self.table.push(HostOutgoingRequest {
            method: http::Method::GET,
            scheme: None,
            authority: None,
            path_with_query: None,
            headers,
            body: None,
        })?)
    }

    fn body(&mut self, request: Resource<HostOutgoingRequest>) -> weld::Result<Result<Resource<HostOutgoingBody>, ()>> {
        self.outgoing_body(|view| Ok(&mut view.table.get_mut(&request)?.body))
    }

    fn method(&mut self, request: Resource<HostOutgoingRequest>) -> weld::Result<Method> {
        Ok(method_to_wit(&self.table.get(&request)?.method))
    }

    fn set_method(&mut self, request: Resource<HostOutgoingRequest>, method: Method) -> weld::Result<Result<(), ()>> {
        let Some(method) = method_from_wit(&method) else { return Ok(Err(())) };
        self.table.get_mut(&request)?.method = method;
        Ok(Ok(()))
    }

    fn path_with_query(&mut self, request: Resource<HostOutgoingRequest>) -> weld::Result<Option<String>> {
        Ok(self.table.get(&request)?.path_with_query.clone())
    }

    fn set_path_with_query(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        path: Option<String>,
    ) -> weld::Result<Result<(), ()>> {
        if let Some(p) = &path
            && http::uri::PathAndQuery::try_from(p.as_str()).is_err()
        {
            return Ok(Err(()));
        }
        self.table.get_mut(&request)?.path_with_query = path;
        Ok(Ok(()))
    }

    fn scheme(&mut self, request: Resource<HostOutgoingRequest>) -> weld::Result<Option<Scheme>> {
        Ok(self.table.get(&request)?.scheme.clone())
    }

    fn set_scheme(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        scheme: Option<Scheme>,
    ) -> weld::Result<Result<(), ()>> {
        if scheme.as_ref().is_some_and(|s| !valid_scheme(s)) {
            return Ok(Err(()));
        }
        self.table.get_mut(&request)?.scheme = scheme;
        Ok(Ok(()))
    }

    fn authority(&mut self, request: Resource<HostOutgoingRequest>) -> weld::Result<Option<String>> {
        Ok(self.table.get(&request)?.authority.clone())
    }

    fn set_authority(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        authority: Option<String>,
    ) -> weld::Result<Result<(), ()>> {
        if let Some(a) = &authority
            && http::uri::Authority::try_from(a.as_str()).is_err()
        {
            return Ok(Err(()));
        }
        self.table.get_mut(&request)?.authority = authority;
        Ok(Ok(()))
    }

    fn headers(&mut self, request: Resource<HostOutgoingRequest>) -> weld::Result<Resource<HostFields>> {
        let map = self.table.get(&request)?.headers.clone();
        self.child_headers(map, &request)
    }

    fn drop(&mut self, request: Resource<HostOutgoingRequest>) -> weld::Result<()> {
        self.table.delete(request)?;
        Ok(())
    }
}

impl RequestOptionsTrait for WasiHttpCtxView<'_> {
    fn new(&mut self) -> weld::Result<Resource<HostRequestOptions>> {
        Ok(self.table.push(HostRequestOptions::default())?)
    }

    fn connect_timeout(&mut self, options: Resource<HostRequestOptions>) -> weld::Result<Option<Duration>> {
        Ok(self.table.get(&options)?.connect_timeout.map(nanos))
    }

    fn set_connect_timeout(
        &mut self,
        options: Resource<HostRequestOptions>,
        d: Option<Duration>,
    ) -> weld::Result<Result<(), ()>> {
        self.table.get_mut(&options)?.connect_timeout = d.map(std::time::Duration::from_nanos);
        Ok(Ok(()))
    }

    fn first_byte_timeout(&mut self, options: Resource<HostRequestOptions>) -> weld::Result<Option<Duration>> {
        Ok(self.table.get(&options)?.first_byte_timeout.map(nanos))
    }

    fn set_first_byte_timeout(
        &mut self,
        options: Resource<HostRequestOptions>,
        d: Option<Duration>,
    ) -> weld::Result<Result<(), ()>> {
        self.table.get_mut(&options)?.first_byte_timeout = d.map(std::time::Duration::from_nanos);
        Ok(Ok(()))
    }

    fn between_bytes_timeout(&mut self, options: Resource<HostRequestOptions>) -> weld::Result<Option<Duration>> {
        Ok(self.table.get(&options)?.between_bytes_timeout.map(nanos))
    }

    fn set_between_bytes_timeout(
        &mut self,
        options: Resource<HostRequestOptions>,
        d: Option<Duration>,
    ) -> weld::Result<Result<(), ()>> {
        self.table.get_mut(&options)?.between_bytes_timeout = d.map(std::time::Duration::from_nanos);
        Ok(Ok(()))
    }

    fn drop(&mut self, options: Resource<HostRequestOptions>) -> weld::Result<()> {
        self.table.delete(options)?;
        Ok(())
    }
}
