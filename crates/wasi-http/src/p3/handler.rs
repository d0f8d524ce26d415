//! The embedder's side of a WASI 0.3 handler: [`Handler`] finds a component instance's
//! `wasi:http/handler@0.3.0#handle` and calls it with a [`Request`] made from an
//! `http::Request` ([`Request::from_http`]); the [`Response`] it returns becomes an
//! `http::Response` ([`Response::into_http`]). The other two conversions
//! ([`Request::into_http`], [`Response::from_http`]) are for an embedder that handles a
//! guest's request itself, and [`Handler::call`] forwards one from guest to guest.
//!
//! A call runs inside [`Store::run_concurrent`](weld::Store::run_concurrent), with its
//! [`Accessor`]. `handle` resolves when the guest returns its response, which may be before
//! the guest has written its body: the body moves only while the store's loop runs, so the
//! caller keeps the loop running (stays inside `run_concurrent`) until the [`BodyDone`] that
//! `into_http` gives resolves. What is left in the body's pipe then needs no store.
//! Likewise the request's body, when the guest reads it: [`Request::from_http_watched`]
//! gives a future that resolves once the guest has read it to its end or let it go.

use super::body::{self, Body, BodyDone, HostBody};
use super::fields::strip_forbidden;
use super::message::{Request, Response};
use super::types::{ErrorCode, Scheme};
use crate::view::WasiHttpView;
use anyhow::{Context as _, anyhow};
use bytes::Bytes;
use http_body::Frame;
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use weld::AsContextMut;
use weld::component::{Accessor, Instance, Resource, StoreContextMut, TypedFunc};

/// The exported interface a WASI 0.3 handler serves requests through.
pub const HANDLER_INTERFACE: &str = "wasi:http/handler@0.3.0";

/// The type of `handle`.
type HandleFunc = TypedFunc<(Resource<Request>,), (Result<Resource<Response>, ErrorCode>,)>;

/// A component instance's `wasi:http/handler@0.3.0#handle`.
#[derive(Clone)]
pub struct Handler {
    handle: HandleFunc,
}

impl Handler {
    /// The handler `instance` exports.
    pub fn new(mut store: impl AsContextMut, instance: &Instance) -> anyhow::Result<Handler> {
        let iface = instance
            .get_export_index(&mut store, None, HANDLER_INTERFACE)
            .ok_or_else(|| anyhow!("the component does not export `{HANDLER_INTERFACE}`"))?;
        let func = instance
            .get_export_index(&mut store, Some(&iface), "handle")
            .ok_or_else(|| anyhow!("`{HANDLER_INTERFACE}` exports no `handle`"))?;
        let handle = instance
            .get_typed_func(&mut store, func)
            .with_context(|| format!("`{HANDLER_INTERFACE}#handle` does not have the type the WIT gives it"))?;
        Ok(Handler { handle })
    }

    /// Calls `handle` with `request` (the headers the context forbids are taken out first);
    /// resolves with the guest's response, or the error code it returned instead. Must be
    /// called inside [`Store::run_concurrent`](weld::Store::run_concurrent).
    pub async fn handle<T: WasiHttpView + 'static>(
        &self,
        accessor: &Accessor<T>,
        mut request: Request,
    ) -> anyhow::Result<Result<Response, ErrorCode>> {
        let req = accessor.with(|mut store| {
            let view = store.data_mut().http();
            strip_forbidden(view.ctx, &mut request.headers);
            view.table.push(request)
        })?;
        match self.call(accessor, req).await? {
            Ok(res) => Ok(Ok(accessor.with(|mut store| store.data_mut().http().table.delete(res))?)),
            Err(code) => Ok(Err(code)),
        }
    }

    /// Calls `handle` with a request already in the table, handing on what it returns as
    /// it is: how an embedder forwards a request one guest made to another guest's handler
    /// (a middleware's next hop).
    pub async fn call<T: WasiHttpView + 'static>(
        &self,
        accessor: &Accessor<T>,
        request: Resource<Request>,
    ) -> anyhow::Result<Result<Resource<Response>, ErrorCode>> {
        let (result,) = self.handle.call_concurrent(accessor, (request,)).await.context("calling the handler")?;
        Ok(result)
    }
}

impl Request {
    /// A request for a handler, from an `http::Request` whose body streams to the guest as
    /// it reads it.
    pub fn from_http<B>(request: http::Request<B>) -> Request
    where
        B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        Request::from_parts(parts, body.map_err(|e| ErrorCode::from_body_error(e.into())).boxed())
    }

    /// As [`from_http`](Self::from_http), with a future that resolves once the body has been
    /// read to its end (or failed) or dropped: until then, the guest may still read it, and
    /// the store's loop must run for it to move.
    pub fn from_http_watched<B>(request: http::Request<B>) -> (Request, BodyWatch)
    where
        B: http_body::Body<Data = Bytes> + Send + Sync + Unpin + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let flag = Arc::new(Mutex::new(Watch { done: false, waker: None }));
        let request = request.map(|body| Watched { body, flag: flag.clone() });
        (Request::from_http(request), BodyWatch(flag))
    }
}

impl Request {
    /// The request as an `http::Request` (its URI absolute when it has an authority), its
    /// body streaming from the guest, and the future that says when the store has no more
    /// to do for the body, as [`Response::into_http`].
    pub fn into_http<T: WasiHttpView + 'static>(
        self,
        mut store: impl AsContextMut<Data = T>,
    ) -> anyhow::Result<(http::Request<HostBody>, BodyDone)> {
        let (body, done) = http_body(&mut StoreContextMut::from(&mut store), self.body)?;
        let mut uri = http::Uri::builder();
        if let Some(authority) = &self.authority {
            let scheme = match &self.scheme {
                None | Some(Scheme::Http) => "http",
                Some(Scheme::Https) => "https",
                Some(Scheme::Other(s)) => s.as_str(),
            };
            uri = uri.scheme(scheme).authority(authority.as_str());
        }
        let uri = uri.path_and_query(self.path_with_query.as_deref().unwrap_or("/")).build()?;
        let mut request = http::Request::new(body);
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = self.headers;
        Ok((request, done))
    }
}

/// A message's body as an http body, with the future of the store's part in it.
fn http_body<T: WasiHttpView + 'static>(
    store: &mut StoreContextMut<'_, T>,
    body: Body,
) -> anyhow::Result<(HostBody, BodyDone)> {
    Ok(match body {
        Body::Guest { contents, trailers, outcome } => {
            let (body, done) = body::outgoing(store, contents, trailers, Some(outcome), false)?;
            (body.boxed(), done)
        }
        Body::Host { body, .. } => (body, BodyDone::ready()),
    })
}

impl Response {
    /// A response for a guest from an `http::Response` (what an embedder's own handler
    /// returns), its body streaming to the guest as it reads it.
    pub fn from_http<B>(response: http::Response<B>) -> Response
    where
        B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = response.into_parts();
        Response::from_host(parts.status, parts.headers, body.map_err(|e| ErrorCode::from_body_error(e.into())).boxed())
    }

    /// The response as an `http::Response`, its body streaming from the guest, and the
    /// future that says when the store has no more to do for the body (see the module's
    /// documentation). The future `new` returned to the guest resolves once the reader has
    /// taken the whole body, or with an error if it goes first.
    pub fn into_http<T: WasiHttpView + 'static>(
        self,
        mut store: impl AsContextMut<Data = T>,
    ) -> anyhow::Result<(http::Response<HostBody>, BodyDone)> {
        let (body, done) = http_body(&mut StoreContextMut::from(&mut store), self.body)?;
        let mut response = http::Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        Ok((response, done))
    }
}

struct Watch {
    done: bool,
    waker: Option<Waker>,
}

fn finish(flag: &Mutex<Watch>) {
    let mut w = flag.lock().unwrap_or_else(|e| e.into_inner());
    w.done = true;
    if let Some(waker) = w.waker.take() {
        waker.wake();
    }
}

/// A body that tells its [`BodyWatch`] when it ends or goes.
struct Watched<B> {
    body: B,
    flag: Arc<Mutex<Watch>>,
}

impl<B: http_body::Body + Unpin> http_body::Body for Watched<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let r = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(r, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            finish(&self.flag);
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl<B> Drop for Watched<B> {
    fn drop(&mut self) {
        finish(&self.flag);
    }
}

/// Resolves once a request's body (of [`Request::from_http_watched`]) was read to its end or
/// dropped.
pub struct BodyWatch(Arc<Mutex<Watch>>);

impl std::future::Future for BodyWatch {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut w = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if w.done {
            return Poll::Ready(());
        }
        w.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
