//! Integration tests of weld's embedder API and of the `weld` command (`cli.rs`).

mod artifacts;
mod async_builtins;
mod async_calls;
mod async_components;
mod bindgen;
mod borrowed;
mod cli;
mod compile_cache;
mod component_imports;
mod components;
mod config;
mod derive;
mod embedding_api;
mod exceptions;
mod fuel_register;
mod funcs;
mod host_byte_lists;
mod host_futures;
mod host_pipes;
mod http_serve;
mod instances;
mod interrupt;
mod jco_runtime;
mod limits;
mod maps;
mod memory_reuse;
mod module_imports;
mod p3_filesystem;
mod p3_http;
mod p3_sockets;
mod plain_records;
mod pooling;
mod random_modules;
mod real_components;
mod resources;
mod semver_imports;
mod simd;
mod stream_guests;
mod trap_parity;
mod traps;
mod typed_lifts;
mod val_bytes;
mod wasi;
mod wasmtime_compat;

use weld::{Engine, Instance, Linker, Module, Store};

/// The compile cache of the `weld` commands the tests run (`XDG_CACHE_HOME` for them), so
/// that tests never write to the user's own cache.
pub fn test_cache_home() -> std::path::PathBuf {
    std::env::temp_dir().join("weld-test-cache-home")
}

/// Instantiates `wat` with no imports in a fresh store of `engine`.
pub fn instantiate(engine: &Engine, wat: &str) -> (Store<()>, Instance) {
    let module = Module::new(engine, wat).expect("module compiles");
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, &module).expect("module instantiates");
    (store, instance)
}
