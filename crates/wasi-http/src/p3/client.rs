//! `wasi:http/client@0.3.0#send`: a WASI 0.3 guest's requests to the outside, over the same
//! HTTP/1 client as WASI 0.2's (`crate::client`), on a tokio runtime (the calling thread's,
//! or weld-wasi-http's own: see `runtime.rs`).
//!
//! `send` is an async host function: it takes the request out of the table, checks it
//! against the context's [`OutgoingPolicy`](crate::OutgoingPolicy) (deny by default: a
//! request to an authority not allowed fails at once with `HTTP-request-denied`, before any
//! connection or lookup), and resolves with the response once its head arrives. The request's
//! body streams from the guest while the request is on its way (its stream and trailers are
//! piped into the body hyper reads, `body.rs`), and the response's body streams to the guest
//! when it consumes it. Only `http` is spoken; `https` fails with an `internal-error` that
//! says so. Cancelling the call aborts the request.
//!
//! The connect, first-byte and between-bytes timeouts of the request's options apply (600 s
//! each when not given); the last fails the response's body with `connection-read-timeout`.
//!
//! The future `request.new` returned resolves once hyper has taken the whole body, or with
//! the error the send failed with. A `GET`, `HEAD` or `CONNECT` without `content-length`
//! waits for the guest's body to show a first byte or end before it goes: hyper sends no
//! body for those methods unless told its framing, so an empty body goes as none, and any
//! other with `transfer-encoding: chunked`. (A guest that wants the response of such a
//! request before it ends the request's body waits forever.)

use super::body::{self, Body, HostBody, OutgoingBody, Settler};
use super::fields::strip_forbidden;
use super::message::{Request, Response};
use super::types::{ErrorCode, Scheme, hyper_error};
use crate::between_bytes::{BetweenBytes, BodyFailure};
use crate::client::{SendError, connect_and_send};
use crate::view::WasiHttpView;
use http_body_util::BodyExt;
use std::time::Duration;
use weld::component::{Accessor, LinkerInstance, Resource, StoreContextMut};

/// How long a request waits for its connection, for its response's head and between its
/// body's frames when its options do not say.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// A request ready to go: the message (its body apart), the authority it goes to, and its
/// timeouts.
struct Prepared {
    request: http::Request<()>,
    body: PreparedBody,
    authority: String,
    connect_timeout: Duration,
    first_byte_timeout: Duration,
    between_bytes_timeout: Duration,
}

/// The body of a request ready to go.
enum PreparedBody {
    /// A guest's, and what settles its outcome.
    Guest(OutgoingBody, Settler),
    /// The host's.
    Host(HostBody),
}

impl Prepared {
    /// The `http::Request` to send: a guest's body is given its framing first (see the
    /// module's documentation). Also what settles the outcome of a guest's body.
    async fn finish(self) -> (ReadyRequest, Option<Settler>) {
        let Prepared { mut request, body, authority, connect_timeout, first_byte_timeout, between_bytes_timeout } =
            self;
        let (body, settler) = match body {
            PreparedBody::Host(body) => (body, None),
            PreparedBody::Guest(body, settler) => {
                let framed = request.headers().contains_key(http::header::CONTENT_LENGTH);
                let bodyless =
                    matches!(*request.method(), http::Method::GET | http::Method::HEAD | http::Method::CONNECT);
                if bodyless && !framed {
                    if body.ends_empty().await {
                        body.finish_empty();
                        (http_body_util::Empty::new().map_err(|never| match never {}).boxed(), Some(settler))
                    } else {
                        let chunked = http::HeaderValue::from_static("chunked");
                        request.headers_mut().insert(http::header::TRANSFER_ENCODING, chunked);
                        (body.boxed(), Some(settler))
                    }
                } else {
                    (body.boxed(), Some(settler))
                }
            }
        };
        let request = request.map(|()| body);
        (ReadyRequest { request, authority, connect_timeout, first_byte_timeout, between_bytes_timeout }, settler)
    }
}

/// A request to send as it is.
struct ReadyRequest {
    request: http::Request<HostBody>,
    authority: String,
    connect_timeout: Duration,
    first_byte_timeout: Duration,
    between_bytes_timeout: Duration,
}

/// Takes request `req` out of the table and makes it an `http::Request`, or says why it
/// cannot be sent (the guest's body is then let go, and its outcome is that error).
fn prepare<T: WasiHttpView + 'static>(
    mut store: StoreContextMut<'_, T>,
    req: Resource<Request>,
) -> weld::Result<Result<Prepared, ErrorCode>> {
    let request = store.data_mut().http().table.delete(req)?;
    let Request { method, scheme, authority, path_with_query, mut headers, options, body } = request;
    let view = store.data_mut().http();
    let target = check_target(view.ctx, scheme, authority, path_with_query);
    let (uri, authority, host) = match target {
        Ok(target) => target,
        Err(code) => {
            if let Body::Guest { contents, trailers, outcome } = body {
                // The guest learns why from its outcome future too; nobody reads the body.
                let _ = outcome.send(Err(code.clone()));
                body::discard_guest(&mut store, contents, trailers)?;
            }
            return Ok(Err(code));
        }
    };
    strip_forbidden(view.ctx, &mut headers);
    headers.insert(http::header::HOST, host);
    let body = match body {
        Body::Guest { contents, trailers, outcome } => {
            let (outgoing, _done) = body::outgoing(&mut store, contents, trailers, Some(outcome), true)?;
            let settler = outgoing.settler();
            PreparedBody::Guest(outgoing, settler)
        }
        Body::Host { body, .. } => PreparedBody::Host(body),
    };
    let mut out = http::Request::new(());
    *out.method_mut() = method;
    *out.uri_mut() = uri;
    *out.headers_mut() = headers;
    let options = options.unwrap_or_default();
    Ok(Ok(Prepared {
        request: out,
        body,
        authority,
        connect_timeout: options.connect_timeout.unwrap_or(DEFAULT_TIMEOUT),
        first_byte_timeout: options.first_byte_timeout.unwrap_or(DEFAULT_TIMEOUT),
        between_bytes_timeout: options.between_bytes_timeout.unwrap_or(DEFAULT_TIMEOUT),
    }))
}

/// Where a request goes: its request-line URI (the origin form: the path and query), its
/// authority, and the `host` header for it; or why it cannot go (an authority the policy
/// does not allow, a scheme the client does not speak).
fn check_target(
    ctx: &crate::WasiHttpCtx,
    scheme: Option<Scheme>,
    authority: Option<String>,
    path_with_query: Option<String>,
) -> Result<(http::Uri, String, http::HeaderValue), ErrorCode> {
    let authority = authority.ok_or(ErrorCode::HttpRequestUriInvalid)?;
    if !ctx.policy().allows(&authority) {
        return Err(ErrorCode::HttpRequestDenied);
    }
    match scheme.unwrap_or(Scheme::Http) {
        Scheme::Http => {}
        Scheme::Https => {
            return Err(ErrorCode::InternalError(Some("https is not supported by weld's wasi:http client yet".into())));
        }
        Scheme::Other(s) => return Err(ErrorCode::InternalError(Some(format!("the scheme `{s}` is not supported")))),
    }
    // The authority goes in the `host` header, as HTTP/1.1 asks of a request to an origin
    // server; an absent path is the empty one, `/`.
    let path = path_with_query.unwrap_or_else(|| "/".to_string());
    let uri =
        http::Uri::builder().path_and_query(path.as_str()).build().map_err(|_| ErrorCode::HttpRequestUriInvalid)?;
    let host = http::HeaderValue::from_str(&authority).map_err(|_| ErrorCode::HttpRequestUriInvalid)?;
    Ok((uri, authority, host))
}

/// Sends a prepared request; the response's head, its body streaming from the network.
async fn send(p: ReadyRequest) -> Result<http::Response<HostBody>, ErrorCode> {
    match connect_and_send(p.request, &p.authority, p.connect_timeout, p.first_byte_timeout).await {
        Ok(response) => Ok(response.map(|body| {
            BetweenBytes::new(body, p.between_bytes_timeout)
                .map_err(|e| match e {
                    BodyFailure::Body(e) => hyper_error(&e),
                    BodyFailure::TimedOut(_) => ErrorCode::ConnectionReadTimeout,
                })
                .boxed()
        })),
        Err(SendError::ConnectTimeout) => Err(ErrorCode::ConnectionTimeout),
        Err(SendError::ConnectionRefused) => Err(ErrorCode::ConnectionRefused),
        Err(SendError::Connect(why)) => Err(ErrorCode::InternalError(Some(why))),
        Err(SendError::FirstByteTimeout) => Err(ErrorCode::ConnectionReadTimeout),
        Err(SendError::Hyper(e)) => Err(hyper_error(&e)),
    }
}

/// Aborts a spawned task when dropped (when the guest cancels its call).
struct AbortOnDrop<R>(tokio::task::JoinHandle<R>);

impl<R> Drop for AbortOnDrop<R> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Defines `send` in `client`.
pub(crate) fn add<T: WasiHttpView + 'static>(client: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    client.func_wrap_concurrent("send", |accessor: &Accessor<T>, (req,): (Resource<Request>,)| {
        Box::pin(async move {
            let prepared = match accessor.with(|store| prepare(store, req))? {
                Ok(p) => p,
                Err(code) => return Ok((Err(code),)),
            };
            let runtime = match crate::runtime::handle() {
                Ok(handle) => handle,
                Err(why) => return Ok((Err(ErrorCode::InternalError(Some(why))),)),
            };
            let (prepared, settler) = prepared.finish().await;
            let mut task = AbortOnDrop(runtime.spawn(send(prepared)));
            let sent = match (&mut task.0).await {
                Ok(sent) => sent,
                Err(e) => Err(ErrorCode::InternalError(Some(format!("the request's task failed: {e}")))),
            };
            if let Some(settler) = settler {
                settler.settle(sent.as_ref().map(|_| ()).map_err(Clone::clone));
            }
            let response = match sent {
                Ok(response) => response,
                Err(code) => return Ok((Err(code),)),
            };
            let (parts, body) = response.into_parts();
            let handle = accessor.with(|mut store| {
                let view = store.data_mut().http();
                let mut headers = parts.headers;
                strip_forbidden(view.ctx, &mut headers);
                view.table.push(Response::from_host(parts.status, headers, body))
            })?;
            Ok((Ok(handle),))
        })
    })
}
