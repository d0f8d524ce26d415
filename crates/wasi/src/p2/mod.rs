//! WASI 0.2 (preview 2) for components: the generated bindings, and the functions that
//! define every WASI 0.2 interface in a component linker.
//!
//! Definitions are made under the version of the WIT weld-wasi was generated from (0.2.12);
//! the linker gives them to imports of any compatible 0.2.x version, so a component built
//! against 0.2.0 links as one built against 0.2.12 does.

pub mod bindings;

pub use crate::io_host::IoError;
pub use crate::poll::{DynPollable, Pollable, Readiness, subscribe};
pub use crate::streams::{DynInputStream, DynOutputStream, InputStream, OutputStream, StreamError, StreamResult};
pub use crate::{pipe, sockets::Network};

use crate::view::{HasIo, HasWasi, WasiView};
use bindings::sync::wasi;
use weld::component::Linker;

/// Defines every WASI 0.2 interface (cli, io, clocks, random, filesystem, sockets) in
/// `linker`, calling the [`WasiView`] of the store's data.
pub fn add_to_linker_sync<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    add_io_to_linker(linker)?;
    add_cli_to_linker(linker)?;
    add_clocks_to_linker(linker)?;
    add_random_to_linker(linker)?;
    add_filesystem_to_linker(linker)?;
    add_sockets_to_linker(linker)?;
    Ok(())
}

fn view<T: WasiView>(data: &mut T) -> crate::WasiCtxView<'_> {
    data.ctx()
}

fn table<T: WasiView>(data: &mut T) -> &mut weld::component::ResourceTable {
    data.ctx().table
}

/// Defines `wasi:io` (error, poll, streams).
pub fn add_io_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    wasi::io::error::add_to_linker::<T, HasIo>(linker, table::<T>)?;
    wasi::io::poll::add_to_linker::<T, HasIo>(linker, table::<T>)?;
    wasi::io::streams::add_to_linker::<T, HasIo>(linker, table::<T>)?;
    Ok(())
}

/// Defines `wasi:cli` (environment, exit, stdin, stdout, stderr, terminal-*).
pub fn add_cli_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    use wasi::cli::*;
    environment::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    exit::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    stdin::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    stdout::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    stderr::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    terminal_input::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    terminal_output::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    terminal_stdin::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    terminal_stdout::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    terminal_stderr::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    Ok(())
}

/// Defines `wasi:clocks` (wall-clock, monotonic-clock).
pub fn add_clocks_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    wasi::clocks::wall_clock::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    wasi::clocks::monotonic_clock::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    Ok(())
}

/// Defines `wasi:random` (random, insecure, insecure-seed).
pub fn add_random_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    wasi::random::random::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    wasi::random::insecure::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    wasi::random::insecure_seed::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    Ok(())
}

/// Defines `wasi:filesystem` (types, preopens).
pub fn add_filesystem_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    wasi::filesystem::types::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    wasi::filesystem::preopens::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    Ok(())
}

/// Defines `wasi:sockets` (network, instance-network, tcp, tcp-create-socket, udp,
/// udp-create-socket, ip-name-lookup).
pub fn add_sockets_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    use wasi::sockets::*;
    network::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    instance_network::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    tcp::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    tcp_create_socket::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    udp::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    udp_create_socket::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    ip_name_lookup::add_to_linker::<T, HasWasi>(linker, view::<T>)?;
    Ok(())
}
