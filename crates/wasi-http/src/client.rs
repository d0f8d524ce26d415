//! `wasi:http/outgoing-handler`: a guest's requests to the outside, sent by hyper's HTTP/1
//! client on a tokio runtime (the one the guest's thread belongs to, or weld-wasi-http's own,
//! see `runtime.rs`), and their answers (`future-incoming-response`, `incoming-response`).
//!
//! Every request is checked against the context's [`OutgoingPolicy`](crate::OutgoingPolicy) before anything is sent
//! or resolved: a request to an authority the policy does not allow fails at once with
//! `HTTP-request-denied`. That is the deny-by-default rule of weld-wasi's sockets, applied to
//! the authority the guest names. Only `http` is spoken: `https` fails with an error code
//! that says so (there is no TLS client in weld yet).
//!
//! The request's body streams from the guest's `outgoing-body`; the response arrives as soon
//! as its head does, and its body streams into the guest's `incoming-body`. The options'
//! connect, first-byte and between-bytes timeouts apply (600 s each when not given). Dropping the
//! future before it resolves aborts the request.

use crate::between_bytes::BetweenBytes;
use crate::bindings::http::outgoing_handler::Host as OutgoingHandlerTrait;
use crate::bindings::http::types::{
    ErrorCode, HostFutureIncomingResponse as FutureTrait, HostIncomingResponse as IncomingResponseTrait, Scheme,
};
use crate::body::HostIncomingBody;
use crate::channel::{self, BodyReader, Slot};
use crate::error::http_request_error;
use crate::fields::{HostFields, strip_forbidden};
use crate::types::{HostOutgoingRequest, HostRequestOptions};
use crate::view::WasiHttpCtxView;
use http::HeaderMap;
use std::time::Duration;
use weld::component::Resource;
use weld_wasi::p2::{DynPollable, Pollable, Readiness};

/// A response that arrived: its head, and its body streaming in.
pub struct HostIncomingResponse {
    status: u16,
    headers: HeaderMap,
    body: Option<BodyReader>,
}

/// The value behind a `future-incoming-response` handle.
pub struct HostFutureIncomingResponse {
    slot: std::sync::Arc<Slot<Result<HostIncomingResponse, ErrorCode>>>,
    taken: bool,
    /// The task sending the request, aborted if the guest drops the future.
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for HostFutureIncomingResponse {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Pollable for HostFutureIncomingResponse {
    fn readiness(&mut self) -> Readiness {
        if self.taken { Readiness::Ready } else { self.slot.readiness() }
    }
}

/// The `http::Request` of a guest's outgoing request, or why it cannot be sent.
fn build_request(request: HostOutgoingRequest) -> Result<(http::Request<BodyReader>, String), ErrorCode> {
    let scheme = request.scheme.unwrap_or(Scheme::Http);
    match scheme {
        Scheme::Http => {}
        Scheme::Https => {
            return Err(ErrorCode::InternalError(Some("https is not supported by weld's wasi:http client yet".into())));
        }
        Scheme::Other(s) => return Err(ErrorCode::InternalError(Some(format!("the scheme `{s}` is not supported")))),
    }
    let authority = request.authority.ok_or(ErrorCode::HttpRequestUriInvalid)?;
    let path = request.path_with_query.unwrap_or_else(|| "/".to_string());
    // The request line carries the origin form (the path and query); the authority goes in
    // the `host` header, as HTTP/1.1 asks of a request to an origin server.
    let uri =
        http::Uri::builder().path_and_query(path.as_str()).build().map_err(|_| ErrorCode::HttpRequestUriInvalid)?;
    http::uri::Authority::try_from(authority.as_str()).map_err(|_| ErrorCode::HttpRequestUriInvalid)?;
    let mut headers = request.headers;
    strip_forbidden(&mut headers);
    if let Ok(host) = http::HeaderValue::from_str(&authority) {
        headers.insert(http::header::HOST, host);
    }
    let mut out = http::Request::new(request.body.unwrap_or_else(channel::empty));
    *out.method_mut() = request.method;
    *out.uri_mut() = uri;
    *out.headers_mut() = headers;
    Ok((out, authority))
}

/// Why a request could not be sent, before it is an error code of one WASI version or the
/// other.
pub(crate) enum SendError {
    /// The connection was not made in time.
    ConnectTimeout,
    /// The server refused the connection.
    ConnectionRefused,
    /// Connecting failed otherwise (the message says how).
    Connect(String),
    /// The response's head did not come in time.
    FirstByteTimeout,
    /// hyper failed.
    Hyper(hyper::Error),
}

/// Connects to `authority`, sends `request` over HTTP/1 and waits for the response's head
/// (hyper's connection task is spawned on the current tokio runtime). Shared by both WASI
/// versions' clients.
pub(crate) async fn connect_and_send<B>(
    request: http::Request<B>,
    authority: &str,
    connect_timeout: Duration,
    first_byte_timeout: Duration,
) -> Result<http::Response<hyper::body::Incoming>, SendError>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connect = tokio::net::TcpStream::connect(authority);
    let stream = match tokio::time::timeout(connect_timeout, connect).await {
        Err(_) => return Err(SendError::ConnectTimeout),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Err(SendError::ConnectionRefused),
        Ok(Err(e)) => return Err(SendError::Connect(format!("connecting to {authority}: {e}"))),
        Ok(Ok(stream)) => stream,
    };
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(SendError::Hyper)?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            log::debug!("outgoing HTTP connection: {e}");
        }
    });
    match tokio::time::timeout(first_byte_timeout, sender.send_request(request)).await {
        Err(_) => Err(SendError::FirstByteTimeout),
        Ok(Err(e)) => Err(SendError::Hyper(e)),
        Ok(Ok(response)) => Ok(response),
    }
}

/// Sends `request` to `authority` and waits for the response's head; its body is pumped into
/// a channel by a task of its own.
async fn send(
    request: http::Request<BodyReader>,
    authority: String,
    options: HostRequestOptions,
) -> Result<HostIncomingResponse, ErrorCode> {
    let connect_timeout = options.connect_timeout.unwrap_or(Duration::from_secs(600));
    let first_byte_timeout = options.first_byte_timeout.unwrap_or(Duration::from_secs(600));
    let between_bytes_timeout = options.between_bytes_timeout.unwrap_or(Duration::from_secs(600));
    let response = match connect_and_send(request, &authority, connect_timeout, first_byte_timeout).await {
        Ok(response) => response,
        Err(SendError::ConnectTimeout) => return Err(ErrorCode::ConnectionTimeout),
        Err(SendError::ConnectionRefused) => return Err(ErrorCode::ConnectionRefused),
        Err(SendError::Connect(why)) => return Err(ErrorCode::InternalError(Some(why))),
        Err(SendError::FirstByteTimeout) => return Err(ErrorCode::ConnectionReadTimeout),
        Err(SendError::Hyper(e)) => return Err(http_request_error(&e)),
    };
    let (parts, body) = response.into_parts();
    let (writer, reader) = channel::channel();
    tokio::spawn(channel::pump(BetweenBytes::new(body, between_bytes_timeout), writer));
    let mut headers = parts.headers;
    strip_forbidden(&mut headers);
    Ok(HostIncomingResponse { status: parts.status.as_u16(), headers, body: Some(reader) })
}

impl OutgoingHandlerTrait for WasiHttpCtxView<'_> {
    fn handle(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        options: Option<Resource<HostRequestOptions>>,
    ) -> weld::Result<Result<Resource<HostFutureIncomingResponse>, ErrorCode>> {
        let request = self.table.delete(request)?;
        let options = match options {
            Some(o) => self.table.delete(o)?,
            None => HostRequestOptions::default(),
        };
        if !request.authority.as_deref().is_some_and(|a| self.ctx.policy().allows(a)) {
            return Ok(Err(ErrorCode::HttpRequestDenied));
        }
        let (request, authority) = match build_request(request) {
            Ok(r) => r,
            Err(code) => return Ok(Err(code)),
        };
        let slot = std::sync::Arc::new(Slot::new());
        let filled = slot.clone();
        let runtime = match crate::runtime::handle() {
            Ok(handle) => handle,
            Err(why) => return Ok(Err(ErrorCode::InternalError(Some(why)))),
        };
        let task = runtime.spawn(async move {
            filled.set(send(request, authority, options).await);
        });
        let future = HostFutureIncomingResponse { slot, taken: false, task: Some(task) };
        Ok(Ok(self.table.push(future)?))
    }
}

impl FutureTrait for WasiHttpCtxView<'_> {
    fn subscribe(&mut self, future: Resource<HostFutureIncomingResponse>) -> weld::Result<Resource<DynPollable>> {
        weld_wasi::p2::subscribe(self.table, future)
    }

    #[allow(clippy::type_complexity)]
    fn get(
        &mut self,
        future: Resource<HostFutureIncomingResponse>,
    ) -> weld::Result<Option<Result<Result<Resource<HostIncomingResponse>, ErrorCode>, ()>>> {
        let f = self.table.get_mut(&future)?;
        if f.taken {
            return Ok(Some(Err(())));
        }
        let Some(result) = f.slot.take() else { return Ok(None) };
        f.taken = true;
        Ok(Some(Ok(match result {
            Ok(response) => Ok(self.table.push(response)?),
            Err(code) => Err(code),
        })))
    }

    fn drop(&mut self, future: Resource<HostFutureIncomingResponse>) -> weld::Result<()> {
        self.table.delete(future)?;
        Ok(())
    }
}

impl IncomingResponseTrait for WasiHttpCtxView<'_> {
    fn status(&mut self, response: Resource<HostIncomingResponse>) -> weld::Result<u16> {
        Ok(self.table.get(&response)?.status)
    }

    fn headers(&mut self, response: Resource<HostIncomingResponse>) -> weld::Result<Resource<HostFields>> {
        let map = self.table.get(&response)?.headers.clone();
        self.child_headers(map, &response)
    }

    fn consume(
        &mut self,
        response: Resource<HostIncomingResponse>,
    ) -> weld::Result<Result<Resource<HostIncomingBody>, ()>> {
        let r = self.table.get_mut(&response)?;
        let Some(body) = r.body.take() else { return Ok(Err(())) };
        // Not a child of the response: guests drop the response and keep reading its body.
        Ok(Ok(self.table.push(HostIncomingBody::new(body))?))
    }

    fn drop(&mut self, response: Resource<HostIncomingResponse>) -> weld::Result<()> {
        self.table.delete(response)?;
        Ok(())
    }
}
