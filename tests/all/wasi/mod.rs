//! WASI 0.2 components run through weld-wasi: the jco fixtures of EXPECT.md section 2
//! (`jco.rs`), the C guests of `tests/wasi-guests` (`guests.rs`), and `weld run` as a WASI
//! host (`cli.rs`).
//!
//! Components run through the embedding API with captured stdio (`run_command`), so each test
//! asserts exactly what the guest wrote and its exit status.

pub mod cli;
mod guest_commands;
mod guests;
mod jco;

use std::path::Path;
use weld::component::{Component, Linker};
use weld::{Engine, Store};
use weld_wasi::p2::bindings::sync::Command;
use weld_wasi::pipe::{MemoryInputPipe, MemoryOutputPipe};
use weld_wasi::{I32Exit, ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Store data with a WASI context.
pub struct Host {
    pub ctx: WasiCtx,
    pub table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }
}

/// What a guest did: its exit status (0 when `run` returned `ok`), and what it wrote.
#[derive(Debug)]
pub struct Outcome {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A builder with stdout and stderr captured, and the pipes to read them from.
pub fn captured(stdin: &[u8]) -> (WasiCtxBuilder, MemoryOutputPipe, MemoryOutputPipe) {
    let stdout = MemoryOutputPipe::new(64 << 20);
    let stderr = MemoryOutputPipe::new(64 << 20);
    let mut builder = WasiCtx::builder();
    builder.stdin(MemoryInputPipe::new(stdin.to_vec())).stdout(stdout.clone()).stderr(stderr.clone());
    (builder, stdout, stderr)
}

/// The engine, a linker with WASI, and the compiled component at `path`.
pub fn load(path: &Path) -> (Engine, Linker<Host>, Component) {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).expect("WASI is defined");
    let component = Component::from_file(&engine, path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    (engine, linker, component)
}

/// A store for `builder`'s context.
pub fn store(engine: &Engine, mut builder: WasiCtxBuilder) -> Store<Host> {
    Store::new(engine, Host { ctx: builder.build(), table: ResourceTable::new() })
}

/// Runs the command component at `path` (its `wasi:cli/run`) with the context `builder` makes
/// and stdout/stderr captured by `out`/`err`; the exit status is that of `wasi:cli/exit`, or 0
/// or 1 from `run`'s result. Any other failure (a trap) is an `Err`.
pub fn run_command(
    path: &Path,
    builder: WasiCtxBuilder,
    out: &MemoryOutputPipe,
    err: &MemoryOutputPipe,
) -> weld::Result<Outcome> {
    let (engine, linker, component) = load(path);
    let mut store = store(&engine, builder);
    let command = Command::instantiate(&mut store, &component, &linker)?;
    let status = match command.wasi_cli_run().call_run(&mut store) {
        Ok(Ok(())) => 0,
        Ok(Err(())) => 1,
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => exit.0,
            None => return Err(e),
        },
    };
    let text = |p: &MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
    Ok(Outcome { status, stdout: text(out), stderr: text(err) })
}
