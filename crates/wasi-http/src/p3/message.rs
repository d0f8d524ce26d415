//! The messages of `wasi:http/types@0.3.0`: `request`, `request-options` and `response`, the
//! values behind their handles, and their functions.
//!
//! A message owns its headers (taken from the `fields` given to `new`, which go) and its
//! body (`body.rs`). `get-headers` and `get-options` hand out copies, immutable, that live on
//! their own. `consume-body` takes the message. Setters check what they are given as a URI
//! would carry it, and refuse it (`err`) otherwise; what makes a request unsendable (no
//! authority, a scheme the client does not speak) is found when it is sent.

use super::body::{self, Body, Outcome, TrailersResult};
use super::fields::Fields;
use super::types::{
    Method, RequestOptionsError, Scheme, method_from_http, method_to_http, scheme_from_http, valid_authority,
    valid_path_with_query, valid_scheme,
};
use crate::view::WasiHttpView;
use http::HeaderMap;
use std::time::Duration;
use weld::component::{FutureReader, LinkerInstance, Resource, ResourceType, StoreContextMut, StreamReader};

/// The value behind a WASI 0.3 `request` handle.
pub struct Request {
    /// The method.
    pub method: http::Method,
    /// The scheme, if set.
    pub scheme: Option<Scheme>,
    /// The authority, if set.
    pub authority: Option<String>,
    /// The path and query, if set.
    pub path_with_query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The options for sending it, if given.
    pub options: Option<RequestOptions>,
    pub(crate) body: Body,
}

/// The value behind a WASI 0.3 `request-options` handle: timeouts of the transport.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// How long to wait for the connection.
    pub connect_timeout: Option<Duration>,
    /// How long to wait for the response's first byte.
    pub first_byte_timeout: Option<Duration>,
    /// How long the response's body may keep its reader waiting for its next bytes.
    pub between_bytes_timeout: Option<Duration>,
    /// Whether the setters may change them (not those handed out by `get-options`).
    pub mutable: bool,
}

/// The value behind a WASI 0.3 `response` handle.
pub struct Response {
    /// The status code.
    pub status: http::StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    pub(crate) body: Body,
}

impl Request {
    /// A request from the host, as a handler receives it: `body` streams from `parts`'
    /// message (forbidden headers are taken out when the guest gets it).
    pub fn from_parts(parts: http::request::Parts, body: body::HostBody) -> Request {
        let authority = parts
            .uri
            .authority()
            .map(|a| a.to_string())
            .or_else(|| parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string));
        Request {
            method: parts.method,
            scheme: Some(parts.uri.scheme().map_or(Scheme::Http, scheme_from_http)),
            authority,
            path_with_query: parts.uri.path_and_query().map(|p| p.to_string()),
            headers: parts.headers,
            options: None,
            body: Body::Host { body, outcome: None },
        }
    }
}

impl Response {
    /// A response from the host (the client's): `body` streams from the network.
    pub(crate) fn from_host(status: http::StatusCode, headers: HeaderMap, body: body::HostBody) -> Response {
        Response { status, headers, body: Body::Host { body, outcome: None } }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

type Req = Resource<Request>;
type Res = Resource<Response>;
type Opts = Resource<RequestOptions>;

/// The headers of handle `headers`, which the message takes.
fn take_headers<T: WasiHttpView>(
    store: &mut StoreContextMut<'_, T>,
    headers: Resource<Fields>,
) -> weld::Result<HeaderMap> {
    Ok(store.data_mut().http().table.delete(headers)?.map)
}

/// A guest's body given to `new`, and the future of its transmission's outcome.
fn guest_body<T: WasiHttpView + 'static>(
    store: &mut StoreContextMut<'_, T>,
    contents: Option<StreamReader<u8>>,
    trailers: FutureReader<TrailersResult>,
) -> (Body, FutureReader<Outcome>) {
    let (outcome, receiver) = tokio::sync::oneshot::channel();
    (Body::Guest { contents, trailers, outcome }, body::outcome_future(store, receiver))
}

/// Changes request `req` with `f` if `ok`; the guest's `result` says whether it did.
fn set_request<T: WasiHttpView>(
    mut store: StoreContextMut<'_, T>,
    req: &Req,
    ok: bool,
    f: impl FnOnce(&mut Request),
) -> weld::Result<(Result<(), ()>,)> {
    if !ok {
        return Ok((Err(()),));
    }
    f(store.data_mut().http().table.get_mut(req)?);
    Ok((Ok(()),))
}

/// Defines `request`, `request-options` and `response` and their functions in `types`.
pub(crate) fn add<T: WasiHttpView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    add_request(types)?;
    add_options(types)?;
    add_response(types)
}

fn add_request<T: WasiHttpView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    types.resource("request", ResourceType::host::<Request>(), |mut store: StoreContextMut<'_, T>, rep| {
        let request = store.data_mut().http().table.delete(Req::new_own(rep))?;
        body::discard(&mut store, request.body)
    })?;
    types.func_wrap(
        "[static]request.new",
        #[allow(clippy::type_complexity)]
        |mut store: StoreContextMut<'_, T>,
         (headers, contents, trailers, options): (
            Resource<Fields>,
            Option<StreamReader<u8>>,
            FutureReader<TrailersResult>,
            Option<Opts>,
        )| {
            let headers = take_headers(&mut store, headers)?;
            let options = match options {
                Some(o) => Some(store.data_mut().http().table.delete(o)?),
                None => None,
            };
            let (body, outcome) = guest_body(&mut store, contents, trailers);
            let request = Request {
                method: http::Method::GET,
                scheme: None,
                authority: None,
                path_with_query: None,
                headers,
                options,
                body,
            };
            Ok(((store.data_mut().http().table.push(request)?, outcome),))
        },
    )?;
    types.func_wrap("[method]request.get-method", |mut store: StoreContextMut<'_, T>, (req,): (Req,)| {
        Ok((method_from_http(&store.data_mut().http().table.get(&req)?.method),))
    })?;
    types.func_wrap("[method]request.set-method", |store: StoreContextMut<'_, T>, (req, m): (Req, Method)| {
        let method = method_to_http(&m);
        set_request(store, &req, method.is_some(), |r| r.method = method.unwrap_or_default())
    })?;
    types.func_wrap("[method]request.get-path-with-query", |mut store: StoreContextMut<'_, T>, (req,): (Req,)| {
        Ok((store.data_mut().http().table.get(&req)?.path_with_query.clone(),))
    })?;
    types.func_wrap(
        "[method]request.set-path-with-query",
        |store: StoreContextMut<'_, T>, (req, p): (Req, Option<String>)| {
            let ok = p.as_deref().is_none_or(valid_path_with_query);
            set_request(store, &req, ok, |r| r.path_with_query = p)
        },
    )?;
    types.func_wrap("[method]request.get-scheme", |mut store: StoreContextMut<'_, T>, (req,): (Req,)| {
        Ok((store.data_mut().http().table.get(&req)?.scheme.clone(),))
    })?;
    types.func_wrap(
        "[method]request.set-scheme",
        |store: StoreContextMut<'_, T>, (req, s): (Req, Option<Scheme>)| {
            let ok = s.as_ref().is_none_or(valid_scheme);
            set_request(store, &req, ok, |r| r.scheme = s)
        },
    )?;
    types.func_wrap("[method]request.get-authority", |mut store: StoreContextMut<'_, T>, (req,): (Req,)| {
        Ok((store.data_mut().http().table.get(&req)?.authority.clone(),))
    })?;
    types.func_wrap(
        "[method]request.set-authority",
        |store: StoreContextMut<'_, T>, (req, a): (Req, Option<String>)| {
            let ok = a.as_deref().is_none_or(valid_authority);
            set_request(store, &req, ok, |r| r.authority = a)
        },
    )?;
    types.func_wrap("[method]request.get-options", |mut store: StoreContextMut<'_, T>, (req,): (Req,)| {
        let view = store.data_mut().http();
        let options = view.table.get(&req)?.options;
        let handle = match options {
            Some(o) => Some(view.table.push(RequestOptions { mutable: false, ..o })?),
            None => None,
        };
        Ok((handle,))
    })?;
    types.func_wrap("[method]request.get-headers", |mut store: StoreContextMut<'_, T>, (req,): (Req,)| {
        let view = store.data_mut().http();
        let map = view.table.get(&req)?.headers.clone();
        Ok((view.table.push(Fields::immutable(map))?,))
    })?;
    types.func_wrap(
        "[static]request.consume-body",
        |mut store: StoreContextMut<'_, T>, (req, res): (Req, FutureReader<Outcome>)| {
            let request = store.data_mut().http().table.delete(req)?;
            Ok((body::consume(&mut store, request.body, res)?,))
        },
    )?;
    Ok(())
}

fn add_options<T: WasiHttpView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    types.resource(
        "request-options",
        ResourceType::host::<RequestOptions>(),
        |mut store: StoreContextMut<'_, T>, rep| {
            store.data_mut().http().table.delete(Opts::new_own(rep))?;
            Ok(())
        },
    )?;
    types.func_wrap("[constructor]request-options", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().http().table.push(RequestOptions { mutable: true, ..RequestOptions::default() })?,))
    })?;
    type Field = fn(&mut RequestOptions) -> &mut Option<Duration>;
    let fields: [(&str, Field); 3] = [
        ("connect-timeout", |o| &mut o.connect_timeout),
        ("first-byte-timeout", |o| &mut o.first_byte_timeout),
        ("between-bytes-timeout", |o| &mut o.between_bytes_timeout),
    ];
    for (name, field) in fields {
        types.func_wrap(
            &format!("[method]request-options.get-{name}"),
            move |mut store: StoreContextMut<'_, T>, (o,): (Opts,)| {
                Ok((field(store.data_mut().http().table.get_mut(&o)?).map(nanos),))
            },
        )?;
        types.func_wrap(
            &format!("[method]request-options.set-{name}"),
            move |mut store: StoreContextMut<'_, T>, (o, d): (Opts, Option<u64>)| {
                let options = store.data_mut().http().table.get_mut(&o)?;
                if !options.mutable {
                    return Ok((Err(RequestOptionsError::Immutable),));
                }
                *field(options) = d.map(Duration::from_nanos);
                Ok((Ok(()),))
            },
        )?;
    }
    types.func_wrap("[method]request-options.clone", |mut store: StoreContextMut<'_, T>, (o,): (Opts,)| {
        let view = store.data_mut().http();
        let options = *view.table.get(&o)?;
        Ok((view.table.push(RequestOptions { mutable: true, ..options })?,))
    })?;
    Ok(())
}

fn add_response<T: WasiHttpView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    types.resource("response", ResourceType::host::<Response>(), |mut store: StoreContextMut<'_, T>, rep| {
        let response = store.data_mut().http().table.delete(Res::new_own(rep))?;
        body::discard(&mut store, response.body)
    })?;
    types.func_wrap(
        "[static]response.new",
        |mut store: StoreContextMut<'_, T>,
         (headers, contents, trailers): (Resource<Fields>, Option<StreamReader<u8>>, FutureReader<TrailersResult>)| {
            let headers = take_headers(&mut store, headers)?;
            let (body, outcome) = guest_body(&mut store, contents, trailers);
            let response = Response { status: http::StatusCode::OK, headers, body };
            Ok(((store.data_mut().http().table.push(response)?, outcome),))
        },
    )?;
    types.func_wrap("[method]response.get-status-code", |mut store: StoreContextMut<'_, T>, (res,): (Res,)| {
        Ok((store.data_mut().http().table.get(&res)?.status.as_u16(),))
    })?;
    types.func_wrap(
        "[method]response.set-status-code",
        |mut store: StoreContextMut<'_, T>, (res, code): (Res, u16)| {
            let Ok(status) = http::StatusCode::from_u16(code) else { return Ok((Err(()),)) };
            store.data_mut().http().table.get_mut(&res)?.status = status;
            Ok((Ok(()),))
        },
    )?;
    types.func_wrap("[method]response.get-headers", |mut store: StoreContextMut<'_, T>, (res,): (Res,)| {
        let view = store.data_mut().http();
        let map = view.table.get(&res)?.headers.clone();
        Ok((view.table.push(Fields::immutable(map))?,))
    })?;
    types.func_wrap(
        "[static]response.consume-body",
        |mut store: StoreContextMut<'_, T>, (res, result): (Res, FutureReader<Outcome>)| {
            let response = store.data_mut().http().table.delete(res)?;
            Ok((body::consume(&mut store, response.body, result)?,))
        },
    )?;
    Ok(())
}
