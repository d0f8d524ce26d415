//! How bindings reach a store's WASI state: the embedder implements [`WasiView`] for its store
//! data, returning a [`WasiCtxView`] (the [`WasiCtx`] and the [`ResourceTable`] that holds
//! the guest's streams, descriptors and sockets); the `wasi:*` host traits are implemented on
//! that view.

use crate::WasiCtx;
use weld::component::{HasData, ResourceTable};

/// Store data that holds a WASI context.
///
/// ```
/// use weld_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};
/// struct State { ctx: WasiCtx, table: ResourceTable }
/// impl WasiView for State {
///     fn ctx(&mut self) -> WasiCtxView<'_> {
///         WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
///     }
/// }
/// ```
pub trait WasiView: Send {
    /// The WASI context and the resource table of this store.
    fn ctx(&mut self) -> WasiCtxView<'_>;
}

/// A store's WASI context and resource table, borrowed together.
pub struct WasiCtxView<'a> {
    /// The WASI context.
    pub ctx: &'a mut WasiCtx,
    /// The table that holds the guest's WASI resources.
    pub table: &'a mut ResourceTable,
}

/// The [`HasData`] of the WASI interfaces: host functions see a [`WasiCtxView`].
pub struct HasWasi;

impl HasData for HasWasi {
    type Data<'a> = WasiCtxView<'a>;
}

/// The [`HasData`] of `wasi:io`: host functions see only the resource table.
pub struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}
