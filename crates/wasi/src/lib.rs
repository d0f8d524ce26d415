//! weld-wasi: a WASI 0.2 host for components run by weld, shaped like Wasmtime's
//! `wasmtime-wasi` so that embedders move between them by renaming the crate, and the
//! beginning of WASI 0.3 ([`p3`]: cli, clocks, filesystem, random and sockets).
//!
//! An embedder keeps a [`WasiCtx`] (made with [`WasiCtxBuilder`]) and a [`ResourceTable`] in
//! its store data, implements [`WasiView`] to hand them out, and calls
//! [`p2::add_to_linker_sync`]:
//!
//! ```no_run
//! use weld::component::{Component, Linker};
//! use weld::{Engine, Store};
//! use weld_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};
//!
//! struct State { ctx: WasiCtx, table: ResourceTable }
//! impl WasiView for State {
//!     fn ctx(&mut self) -> WasiCtxView<'_> {
//!         WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
//!     }
//! }
//!
//! # fn main() -> weld::Result<()> {
//! let engine = Engine::default();
//! let mut linker = Linker::<State>::new(&engine);
//! weld_wasi::p2::add_to_linker_sync(&mut linker)?;
//! let ctx = WasiCtx::builder().inherit_stdio().arg("hello").build();
//! let mut store = Store::new(&engine, State { ctx, table: ResourceTable::new() });
//! let component = Component::from_file(&engine, "hello.wasm")?;
//! let command = weld_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker)?;
//! let _ = command.wasi_cli_run().call_run(&mut store)?;
//! # Ok(())
//! # }
//! ```
//!
//! The host is synchronous: a guest that blocks (on a read, a sleep, a `poll`) blocks the
//! calling thread in `poll(2)` until something it waits for is ready. What is implemented
//! and how each part behaves is documented in its module; what differs from Wasmtime's is
//! listed in `docs/migrating-from-wasmtime.md`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod cli;
pub mod clocks;
mod ctx;
mod exit;
pub mod filesystem;
mod io_host;
pub mod p2;
pub mod p3;
pub mod pipe;
pub mod poll;
pub mod random;
pub mod sockets;
pub mod streams;
mod view;

pub(crate) use p2::bindings::sync as bindings;

pub use clocks::{HostMonotonicClock, HostWallClock};
pub use ctx::{WasiCtx, WasiCtxBuilder};
pub use exit::I32Exit;
pub use filesystem::{FsPerms, OpenMode};
pub use view::{HasIo, HasWasi, WasiCtxView, WasiView};
pub use weld::component::{ResourceTable, ResourceTableError};
