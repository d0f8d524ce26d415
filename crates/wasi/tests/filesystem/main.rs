//! `wasi:filesystem` through weld-wasi's host traits, called directly on a `WasiCtxView`
//! over a temporary directory: confinement to the preopens, read-only trees, files,
//! directories and streams.

mod common;
mod dirs;
mod escape;
mod files;
mod readonly;
mod streams;

/// The filesystem interfaces are defined in a linker next to the rest of WASI 0.2.
#[test]
fn filesystem_links_with_the_rest_of_wasi() {
    struct State {
        ctx: weld_wasi::WasiCtx,
        table: weld_wasi::ResourceTable,
    }
    impl weld_wasi::WasiView for State {
        fn ctx(&mut self) -> weld_wasi::WasiCtxView<'_> {
            weld_wasi::WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
        }
    }
    let engine = weld::Engine::default();
    let mut linker = weld::component::Linker::<State>::new(&engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
}
