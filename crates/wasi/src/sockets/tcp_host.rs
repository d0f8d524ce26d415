//! The `wasi:sockets/tcp` and `tcp-create-socket` interfaces on a [`WasiCtxView`]: the
//! resource-table side of [`TcpSocket`] (finding sockets by handle, pushing the sockets and
//! streams a call makes) and the context's switch for TCP.
//!
//! The streams of a connection are children of its socket in the table, as in Wasmtime: the
//! socket cannot be dropped while its streams live, so a `shutdown` always finds them.
//! A socket's `subscribe` pollable is a child of the socket too (see [`crate::poll`]).

use super::addr::{from_std, to_std};
use super::options::Buffer;
use super::tcp::{Connection, TcpSocket};
use super::tcp_stream::{TcpReader, TcpWriter};
use crate::bindings::wasi::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress, Network};
use crate::bindings::wasi::sockets::tcp::{self, ShutdownType};
use crate::bindings::wasi::sockets::tcp_create_socket;
use crate::poll::{DynPollable, subscribe};
use crate::streams::{DynInputStream, DynOutputStream};
use crate::view::WasiCtxView;
use weld::component::{Resource, ResourceTable};

/// What TCP host functions return: a trap, or the WIT's result.
type TcpResult<T> = weld::Result<Result<T, ErrorCode>>;

/// Pushes a connection's streams as children of `socket`.
fn push_streams(
    table: &mut ResourceTable,
    socket: &Resource<TcpSocket>,
    connection: Connection,
) -> weld::Result<(Resource<DynInputStream>, Resource<DynOutputStream>)> {
    let input: DynInputStream = Box::new(TcpReader(connection.read));
    let output: DynOutputStream = Box::new(TcpWriter(connection.write));
    let input = table.push_child(input, socket)?;
    let output = table.push_child(output, socket)?;
    Ok((input, output))
}

impl tcp_create_socket::Host for WasiCtxView<'_> {
    fn create_tcp_socket(&mut self, address_family: IpAddressFamily) -> TcpResult<Resource<TcpSocket>> {
        if !self.ctx.sockets.tcp {
            return Ok(Err(ErrorCode::AccessDenied));
        }
        match TcpSocket::new(address_family, self.ctx.sockets.addr_check.clone()) {
            Ok(socket) => Ok(Ok(self.table.push(socket)?)),
            Err(code) => Ok(Err(code)),
        }
    }
}

impl tcp::Host for WasiCtxView<'_> {}

impl tcp::HostTcpSocket for WasiCtxView<'_> {
    fn start_bind(
        &mut self,
        socket: Resource<TcpSocket>,
        network: Resource<Network>,
        local_address: IpSocketAddress,
    ) -> TcpResult<()> {
        self.table.get(&network)?;
        Ok(self.table.get_mut(&socket)?.start_bind(to_std(local_address)))
    }

    fn finish_bind(&mut self, socket: Resource<TcpSocket>) -> TcpResult<()> {
        Ok(self.table.get_mut(&socket)?.finish_bind())
    }

    fn start_connect(
        &mut self,
        socket: Resource<TcpSocket>,
        network: Resource<Network>,
        remote_address: IpSocketAddress,
    ) -> TcpResult<()> {
        self.table.get(&network)?;
        Ok(self.table.get_mut(&socket)?.start_connect(to_std(remote_address)))
    }

    fn finish_connect(
        &mut self,
        socket: Resource<TcpSocket>,
    ) -> TcpResult<(Resource<DynInputStream>, Resource<DynOutputStream>)> {
        match self.table.get_mut(&socket)?.finish_connect() {
            Ok(connection) => Ok(Ok(push_streams(self.table, &socket, connection)?)),
            Err(code) => Ok(Err(code)),
        }
    }

    fn start_listen(&mut self, socket: Resource<TcpSocket>) -> TcpResult<()> {
        Ok(self.table.get_mut(&socket)?.start_listen())
    }

    fn finish_listen(&mut self, socket: Resource<TcpSocket>) -> TcpResult<()> {
        Ok(self.table.get_mut(&socket)?.finish_listen())
    }

    fn accept(
        &mut self,
        socket: Resource<TcpSocket>,
    ) -> TcpResult<(Resource<TcpSocket>, Resource<DynInputStream>, Resource<DynOutputStream>)> {
        match self.table.get_mut(&socket)?.accept() {
            Ok((client, connection)) => {
                let client = self.table.push(client)?;
                let (input, output) = push_streams(self.table, &client, connection)?;
                Ok(Ok((client, input, output)))
            }
            Err(code) => Ok(Err(code)),
        }
    }

    fn local_address(&mut self, socket: Resource<TcpSocket>) -> TcpResult<IpSocketAddress> {
        Ok(self.table.get(&socket)?.local_address().map(from_std))
    }

    fn remote_address(&mut self, socket: Resource<TcpSocket>) -> TcpResult<IpSocketAddress> {
        Ok(self.table.get(&socket)?.remote_address().map(from_std))
    }

    fn is_listening(&mut self, socket: Resource<TcpSocket>) -> weld::Result<bool> {
        Ok(self.table.get(&socket)?.is_listening())
    }

    fn address_family(&mut self, socket: Resource<TcpSocket>) -> weld::Result<IpAddressFamily> {
        Ok(self.table.get(&socket)?.address_family())
    }

    fn set_listen_backlog_size(&mut self, socket: Resource<TcpSocket>, value: u64) -> TcpResult<()> {
        Ok(self.table.get_mut(&socket)?.set_listen_backlog_size(value))
    }

    fn keep_alive_enabled(&mut self, socket: Resource<TcpSocket>) -> TcpResult<bool> {
        Ok(self.table.get(&socket)?.keep_alive_enabled())
    }

    fn set_keep_alive_enabled(&mut self, socket: Resource<TcpSocket>, value: bool) -> TcpResult<()> {
        Ok(self.table.get(&socket)?.set_keep_alive_enabled(value))
    }

    fn keep_alive_idle_time(&mut self, socket: Resource<TcpSocket>) -> TcpResult<u64> {
        Ok(self.table.get(&socket)?.keep_alive_idle_time())
    }

    fn set_keep_alive_idle_time(&mut self, socket: Resource<TcpSocket>, value: u64) -> TcpResult<()> {
        Ok(self.table.get(&socket)?.set_keep_alive_idle_time(value))
    }

    fn keep_alive_interval(&mut self, socket: Resource<TcpSocket>) -> TcpResult<u64> {
        Ok(self.table.get(&socket)?.keep_alive_interval())
    }

    fn set_keep_alive_interval(&mut self, socket: Resource<TcpSocket>, value: u64) -> TcpResult<()> {
        Ok(self.table.get(&socket)?.set_keep_alive_interval(value))
    }

    fn keep_alive_count(&mut self, socket: Resource<TcpSocket>) -> TcpResult<u32> {
        Ok(self.table.get(&socket)?.keep_alive_count())
    }

    fn set_keep_alive_count(&mut self, socket: Resource<TcpSocket>, value: u32) -> TcpResult<()> {
        Ok(self.table.get(&socket)?.set_keep_alive_count(value))
    }

    fn hop_limit(&mut self, socket: Resource<TcpSocket>) -> TcpResult<u8> {
        Ok(self.table.get(&socket)?.hop_limit())
    }

    fn set_hop_limit(&mut self, socket: Resource<TcpSocket>, value: u8) -> TcpResult<()> {
        Ok(self.table.get(&socket)?.set_hop_limit(value))
    }

    fn receive_buffer_size(&mut self, socket: Resource<TcpSocket>) -> TcpResult<u64> {
        Ok(self.table.get(&socket)?.buffer_size(Buffer::Receive))
    }

    fn set_receive_buffer_size(&mut self, socket: Resource<TcpSocket>, value: u64) -> TcpResult<()> {
        Ok(self.table.get(&socket)?.set_buffer_size(Buffer::Receive, value))
    }

    fn send_buffer_size(&mut self, socket: Resource<TcpSocket>) -> TcpResult<u64> {
        Ok(self.table.get(&socket)?.buffer_size(Buffer::Send))
    }

    fn set_send_buffer_size(&mut self, socket: Resource<TcpSocket>, value: u64) -> TcpResult<()> {
        Ok(self.table.get(&socket)?.set_buffer_size(Buffer::Send, value))
    }

    fn subscribe(&mut self, socket: Resource<TcpSocket>) -> weld::Result<Resource<DynPollable>> {
        subscribe(self.table, socket)
    }

    fn shutdown(&mut self, socket: Resource<TcpSocket>, shutdown_type: ShutdownType) -> TcpResult<()> {
        let (receive, send) = match shutdown_type {
            ShutdownType::Receive => (true, false),
            ShutdownType::Send => (false, true),
            ShutdownType::Both => (true, true),
        };
        Ok(self.table.get(&socket)?.shutdown(receive, send))
    }

    fn drop(&mut self, socket: Resource<TcpSocket>) -> weld::Result<()> {
        self.table.delete(socket)?;
        Ok(())
    }
}
