//! How the `wasi:http` host functions reach a store's state: the embedder implements
//! [`WasiHttpView`] for its store data, returning a [`WasiHttpCtxView`] (the [`WasiHttpCtx`]
//! and the [`ResourceTable`] shared with weld-wasi); the host traits are implemented on that
//! view.

use crate::policy::OutgoingPolicy;
use weld::component::{HasData, ResourceTable};

/// The state of `wasi:http` in a store: which outgoing requests are allowed, and which
/// header names a WASI 0.3 guest may not set besides the hop-by-hop ones.
#[derive(Clone, Debug, Default)]
pub struct WasiHttpCtx {
    policy: OutgoingPolicy,
    forbidden: Vec<http::HeaderName>,
}

impl WasiHttpCtx {
    /// A context that allows no outgoing request.
    pub fn new() -> WasiHttpCtx {
        WasiHttpCtx::default()
    }

    /// Allows outgoing requests to `authority` (`host:port`, or `host` for port 80).
    pub fn allow_authority(&mut self, authority: impl Into<String>) -> &mut Self {
        self.policy.allow(authority.into());
        self
    }

    /// Allows every outgoing request.
    pub fn allow_all_outgoing(&mut self) -> &mut Self {
        self.policy = OutgoingPolicy::AllowAll;
        self
    }

    /// The policy outgoing requests are checked against.
    pub fn policy(&self) -> &OutgoingPolicy {
        &self.policy
    }

    /// Forbids WASI 0.3 guests to set the header `name` (`header-error.forbidden`), and
    /// removes it from the messages they receive, as the hop-by-hop headers and `host` are.
    pub fn forbid_header(&mut self, name: http::HeaderName) -> &mut Self {
        self.forbidden.push(name);
        self
    }

    /// Whether a WASI 0.3 guest may not set the header `name`: a hop-by-hop header, `host`
    /// (the request's authority says it), or one named with
    /// [`forbid_header`](Self::forbid_header).
    pub fn is_forbidden_header(&self, name: &http::HeaderName) -> bool {
        crate::policy::is_forbidden(name) || name == http::header::HOST || self.forbidden.contains(name)
    }
}

/// A store's `wasi:http` context and resource table, borrowed together: what the host
/// functions of `wasi:http` are implemented on.
pub struct WasiHttpCtxView<'a> {
    /// The `wasi:http` context.
    pub ctx: &'a mut WasiHttpCtx,
    /// The table that holds the guest's resources (shared with weld-wasi's).
    pub table: &'a mut ResourceTable,
}

/// Store data that holds a `wasi:http` context.
///
/// ```
/// use weld_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};
/// use weld_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};
///
/// struct State { wasi: WasiCtx, http: WasiHttpCtx, table: ResourceTable }
/// impl WasiView for State {
///     fn ctx(&mut self) -> WasiCtxView<'_> {
///         WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
///     }
/// }
/// impl WasiHttpView for State {
///     fn http(&mut self) -> WasiHttpCtxView<'_> {
///         WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table }
///     }
/// }
/// ```
pub trait WasiHttpView: Send {
    /// The `wasi:http` context and the resource table (the same table weld-wasi uses, so
    /// that streams and pollables are shared).
    fn http(&mut self) -> WasiHttpCtxView<'_>;
}

/// The [`HasData`] of the `wasi:http` interfaces: host functions see a [`WasiHttpCtxView`].
pub struct WasiHttp;

impl HasData for WasiHttp {
    type Data<'a> = WasiHttpCtxView<'a>;
}
