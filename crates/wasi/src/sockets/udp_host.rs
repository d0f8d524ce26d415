//! The `wasi:sockets/udp` and `udp-create-socket` interfaces on a [`WasiCtxView`]: the
//! resource-table side of [`UdpSocket`] and its datagram streams, and the context's switch
//! for UDP.
//!
//! The datagram streams are children of their socket in the table. `stream` while an
//! earlier pair is still in the table is a trap (the WIT allows one; Wasmtime does the
//! same), as is a `send` of more datagrams than `check-send` allowed (the WIT requires it).

use super::addr::{from_std, to_std};
use super::options::Buffer;
use super::udp::{IncomingDatagramStream, OutgoingDatagramStream, UdpSocket};
use crate::bindings::wasi::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress, Network};
use crate::bindings::wasi::sockets::udp::{self, IncomingDatagram, OutgoingDatagram};
use crate::bindings::wasi::sockets::udp_create_socket;
use crate::poll::{DynPollable, subscribe};
use crate::view::WasiCtxView;
use anyhow::bail;
use weld::component::Resource;

/// What UDP host functions return: a trap, or the WIT's result.
type UdpResult<T> = weld::Result<Result<T, ErrorCode>>;

impl udp_create_socket::Host for WasiCtxView<'_> {
    fn create_udp_socket(&mut self, address_family: IpAddressFamily) -> UdpResult<Resource<UdpSocket>> {
        if !self.ctx.sockets.udp {
            return Ok(Err(ErrorCode::AccessDenied));
        }
        match UdpSocket::new(address_family, self.ctx.sockets.addr_check.clone()) {
            Ok(socket) => Ok(Ok(self.table.push(socket)?)),
            Err(code) => Ok(Err(code)),
        }
    }
}

impl udp::Host for WasiCtxView<'_> {}

impl udp::HostUdpSocket for WasiCtxView<'_> {
    fn start_bind(
        &mut self,
        socket: Resource<UdpSocket>,
        network: Resource<Network>,
        local_address: IpSocketAddress,
    ) -> UdpResult<()> {
        self.table.get(&network)?;
        Ok(self.table.get_mut(&socket)?.start_bind(to_std(local_address)))
    }

    fn finish_bind(&mut self, socket: Resource<UdpSocket>) -> UdpResult<()> {
        Ok(self.table.get_mut(&socket)?.finish_bind())
    }

    fn stream(
        &mut self,
        socket: Resource<UdpSocket>,
        remote_address: Option<IpSocketAddress>,
    ) -> UdpResult<(Resource<udp::IncomingDatagramStream>, Resource<udp::OutgoingDatagramStream>)> {
        let streams_alive = self
            .table
            .iter_children(&socket)?
            .any(|child| child.is::<IncomingDatagramStream>() || child.is::<OutgoingDatagramStream>());
        if streams_alive {
            bail!("udp-socket.stream: the streams of the previous call must be dropped first");
        }
        match self.table.get_mut(&socket)?.stream(remote_address.map(to_std)) {
            Ok((incoming, outgoing)) => {
                let incoming = self.table.push_child(incoming, &socket)?;
                let outgoing = self.table.push_child(outgoing, &socket)?;
                Ok(Ok((incoming, outgoing)))
            }
            Err(code) => Ok(Err(code)),
        }
    }

    fn local_address(&mut self, socket: Resource<UdpSocket>) -> UdpResult<IpSocketAddress> {
        Ok(self.table.get(&socket)?.local_address().map(from_std))
    }

    fn remote_address(&mut self, socket: Resource<UdpSocket>) -> UdpResult<IpSocketAddress> {
        Ok(self.table.get(&socket)?.remote_address().map(from_std))
    }

    fn address_family(&mut self, socket: Resource<UdpSocket>) -> weld::Result<IpAddressFamily> {
        Ok(self.table.get(&socket)?.address_family())
    }

    fn unicast_hop_limit(&mut self, socket: Resource<UdpSocket>) -> UdpResult<u8> {
        Ok(self.table.get(&socket)?.hop_limit())
    }

    fn set_unicast_hop_limit(&mut self, socket: Resource<UdpSocket>, value: u8) -> UdpResult<()> {
        Ok(self.table.get(&socket)?.set_hop_limit(value))
    }

    fn receive_buffer_size(&mut self, socket: Resource<UdpSocket>) -> UdpResult<u64> {
        Ok(self.table.get(&socket)?.buffer_size(Buffer::Receive))
    }

    fn set_receive_buffer_size(&mut self, socket: Resource<UdpSocket>, value: u64) -> UdpResult<()> {
        Ok(self.table.get(&socket)?.set_buffer_size(Buffer::Receive, value))
    }

    fn send_buffer_size(&mut self, socket: Resource<UdpSocket>) -> UdpResult<u64> {
        Ok(self.table.get(&socket)?.buffer_size(Buffer::Send))
    }

    fn set_send_buffer_size(&mut self, socket: Resource<UdpSocket>, value: u64) -> UdpResult<()> {
        Ok(self.table.get(&socket)?.set_buffer_size(Buffer::Send, value))
    }

    fn subscribe(&mut self, socket: Resource<UdpSocket>) -> weld::Result<Resource<DynPollable>> {
        subscribe(self.table, socket)
    }

    fn drop(&mut self, socket: Resource<UdpSocket>) -> weld::Result<()> {
        self.table.delete(socket)?;
        Ok(())
    }
}

impl udp::HostIncomingDatagramStream for WasiCtxView<'_> {
    fn receive(
        &mut self,
        stream: Resource<IncomingDatagramStream>,
        max_results: u64,
    ) -> UdpResult<Vec<IncomingDatagram>> {
        let received = self.table.get_mut(&stream)?.receive(max_results);
        Ok(received.map(|datagrams| {
            datagrams
                .into_iter()
                .map(|(data, from)| IncomingDatagram { data, remote_address: from_std(from) })
                .collect()
        }))
    }

    fn subscribe(&mut self, stream: Resource<IncomingDatagramStream>) -> weld::Result<Resource<DynPollable>> {
        subscribe(self.table, stream)
    }

    fn drop(&mut self, stream: Resource<IncomingDatagramStream>) -> weld::Result<()> {
        self.table.delete(stream)?;
        Ok(())
    }
}

impl udp::HostOutgoingDatagramStream for WasiCtxView<'_> {
    fn check_send(&mut self, stream: Resource<OutgoingDatagramStream>) -> UdpResult<u64> {
        Ok(Ok(self.table.get_mut(&stream)?.check_send()))
    }

    fn send(&mut self, stream: Resource<OutgoingDatagramStream>, datagrams: Vec<OutgoingDatagram>) -> UdpResult<u64> {
        let count = datagrams.len();
        let datagrams = datagrams.into_iter().map(|d| (d.data, d.remote_address.map(to_std))).collect();
        match self.table.get_mut(&stream)?.send(datagrams) {
            Ok(sent) => Ok(Ok(sent)),
            Err(Some(code)) => Ok(Err(code)),
            Err(None) => bail!("outgoing-datagram-stream.send of {count} datagrams exceeds what check-send permitted"),
        }
    }

    fn subscribe(&mut self, stream: Resource<OutgoingDatagramStream>) -> weld::Result<Resource<DynPollable>> {
        subscribe(self.table, stream)
    }

    fn drop(&mut self, stream: Resource<OutgoingDatagramStream>) -> weld::Result<()> {
        self.table.delete(stream)?;
        Ok(())
    }
}
