//! `wasi:sockets` driven through its host traits, as a guest's calls would drive it, against
//! peers made with `std::net` on 127.0.0.1 (ports chosen by the system). Every wait is
//! bounded: guest-side waits poll with a deadline pollable beside the one waited on, and
//! host-side sockets have read timeouts.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket as StdUdp};
use std::time::{Duration, Instant};
use weld::component::{Resource, ResourceTable};
use weld_wasi::p2::bindings::sockets::instance_network::Host as _;
use weld_wasi::p2::bindings::sockets::ip_name_lookup::{Host as _, HostResolveAddressStream};
use weld_wasi::p2::bindings::sockets::network::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
};
use weld_wasi::p2::bindings::sockets::tcp::{HostTcpSocket, ShutdownType};
use weld_wasi::p2::bindings::sockets::tcp_create_socket::Host as _;
use weld_wasi::p2::bindings::sockets::udp::{
    HostIncomingDatagramStream, HostOutgoingDatagramStream, HostUdpSocket, OutgoingDatagram,
};
use weld_wasi::p2::bindings::sockets::udp_create_socket::Host as _;
use weld_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, StreamError};
use weld_wasi::poll::{deadline_pollable, poll_list};
use weld_wasi::sockets::{Network, SocketAddrUse, TcpSocket, UdpSocket};
use weld_wasi::streams::blocking_read;
use weld_wasi::{WasiCtx, WasiCtxView};

/// How long any single wait in these tests may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

struct Guest {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl Guest {
    fn new(ctx: WasiCtx) -> Guest {
        Guest { ctx, table: ResourceTable::new() }
    }

    /// A guest allowed TCP, UDP and lookups, on every address.
    fn open() -> Guest {
        Guest::new(
            WasiCtx::builder().inherit_network().allow_tcp(true).allow_udp(true).allow_ip_name_lookup(true).build(),
        )
    }

    fn view(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }

    fn network(&mut self) -> Resource<Network> {
        self.view().instance_network().unwrap()
    }

    fn tcp(&mut self) -> Resource<TcpSocket> {
        self.view().create_tcp_socket(IpAddressFamily::Ipv4).unwrap().unwrap()
    }

    fn udp(&mut self) -> Resource<UdpSocket> {
        self.view().create_udp_socket(IpAddressFamily::Ipv4).unwrap().unwrap()
    }

    /// Waits until `pollable` is ready; false if [`PATIENCE`] ran out first.
    fn wait(&mut self, pollable: &Resource<DynPollable>) -> bool {
        let deadline = deadline_pollable(&mut self.table, Some(Instant::now() + PATIENCE)).unwrap();
        let ready = poll_list(&mut self.table, &[*pollable, deadline]).unwrap();
        self.table.delete(deadline).unwrap();
        ready.contains(&0)
    }

    /// Binds `socket` to 127.0.0.1 with a free port and returns the address.
    fn bind_tcp(&mut self, socket: &Resource<TcpSocket>) -> SocketAddr {
        let net = self.network();
        let mut v = self.view();
        HostTcpSocket::start_bind(&mut v, *socket, net, wit(localhost(0))).unwrap().unwrap();
        HostTcpSocket::finish_bind(&mut v, *socket).unwrap().unwrap();
        addr_of(HostTcpSocket::local_address(&mut v, *socket).unwrap().unwrap())
    }

    /// Connects `socket` to `to`, waiting for the connect to finish.
    fn connect(
        &mut self,
        socket: &Resource<TcpSocket>,
        to: SocketAddr,
    ) -> Result<(Resource<DynInputStream>, Resource<DynOutputStream>), ErrorCode> {
        let net = self.network();
        HostTcpSocket::start_connect(&mut self.view(), *socket, net, wit(to)).unwrap()?;
        let ready = HostTcpSocket::subscribe(&mut self.view(), *socket).unwrap();
        let outcome = loop {
            match HostTcpSocket::finish_connect(&mut self.view(), *socket).unwrap() {
                Err(ErrorCode::WouldBlock) => assert!(self.wait(&ready), "the connect did not finish in time"),
                other => break other,
            }
        };
        self.table.delete(ready).unwrap();
        outcome
    }

    /// Writes all of `bytes` to `output`, waiting for room as needed.
    fn write_all(&mut self, output: &Resource<DynOutputStream>, bytes: &[u8]) {
        let mut written = 0;
        while written < bytes.len() {
            let stream = self.table.get_mut(output).unwrap();
            let permit = stream.check_write().unwrap();
            if permit == 0 {
                let pollable = weld_wasi::p2::subscribe(&mut self.table, *output).unwrap();
                assert!(self.wait(&pollable), "the output stream did not drain in time");
                self.table.delete(pollable).unwrap();
                continue;
            }
            let n = permit.min(bytes.len() - written);
            self.table.get_mut(output).unwrap().write(bytes[written..written + n].to_vec()).unwrap();
            written += n;
        }
        self.table.get_mut(output).unwrap().flush().unwrap();
    }

    /// Reads exactly `len` bytes from `input`, waiting with a deadline before each blocking
    /// read so that a missing byte fails the test instead of hanging it.
    fn read_exact(&mut self, input: &Resource<DynInputStream>, len: usize) -> Vec<u8> {
        let mut got = Vec::new();
        while got.len() < len {
            let pollable = weld_wasi::p2::subscribe(&mut self.table, *input).unwrap();
            assert!(self.wait(&pollable), "no bytes arrived in time ({} of {len} so far)", got.len());
            self.table.delete(pollable).unwrap();
            let stream = self.table.get_mut(input).unwrap();
            got.extend(blocking_read(&mut **stream, len - got.len()).unwrap());
        }
        got
    }
}

fn localhost(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

fn wit(addr: SocketAddr) -> IpSocketAddress {
    match addr {
        SocketAddr::V4(v4) => {
            let [a, b, c, d] = v4.ip().octets();
            IpSocketAddress::Ipv4(Ipv4SocketAddress { port: v4.port(), address: (a, b, c, d) })
        }
        SocketAddr::V6(_) => unreachable!("these tests use IPv4"),
    }
}

fn addr_of(addr: IpSocketAddress) -> SocketAddr {
    match addr {
        IpSocketAddress::Ipv4(v4) => {
            let (a, b, c, d) = v4.address;
            SocketAddr::from((Ipv4Addr::new(a, b, c, d), v4.port))
        }
        IpSocketAddress::Ipv6(_) => panic!("expected an IPv4 address"),
    }
}

#[test]
fn tcp_client_echoes_through_a_host_listener() {
    let listener = TcpListener::bind(localhost(0)).unwrap();
    let server_addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut buf = [0u8; 4096];
        let mut echoed = 0;
        while echoed < 80_000 {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "the guest closed early");
            conn.write_all(&buf[..n]).unwrap();
            echoed += n;
        }
    });

    let mut g = Guest::open();
    let socket = g.tcp();
    let (input, output) = g.connect(&socket, server_addr).expect("connect");
    let v = &mut g.view();
    assert_eq!(addr_of(HostTcpSocket::remote_address(v, socket).unwrap().unwrap()), server_addr);
    assert!(!HostTcpSocket::is_listening(v, socket).unwrap());

    // More than one write's budget: several check-writes.
    let message: Vec<u8> = (0..80_000u32).map(|i| (i % 251) as u8).collect();
    g.write_all(&output, &message);
    let echoed = g.read_exact(&input, message.len());
    assert!(echoed == message, "the echo differs from what was sent");
    server.join().unwrap();

    // The server is gone: the stream reports the end, then the socket can be dropped once
    // its streams are.
    let pollable = weld_wasi::p2::subscribe(&mut g.table, input).unwrap();
    assert!(g.wait(&pollable));
    g.table.delete(pollable).unwrap();
    let end = g.table.get_mut(&input).unwrap().read(10);
    assert!(matches!(end, Err(StreamError::Closed)), "expected the end of stream, got {end:?}");
    assert!(HostTcpSocket::drop(&mut g.view(), socket).is_err(), "the streams are children of the socket");
    g.table.delete(input).unwrap();
    g.table.delete(output).unwrap();
    HostTcpSocket::drop(&mut g.view(), socket).unwrap();
}

#[test]
fn tcp_listener_accepts_a_host_client() {
    let mut g = Guest::open();
    let listener = g.tcp();
    let addr = g.bind_tcp(&listener);
    assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
    assert_ne!(addr.port(), 0);
    let v = &mut g.view();
    HostTcpSocket::set_listen_backlog_size(v, listener, 16).unwrap().unwrap();
    HostTcpSocket::start_listen(v, listener).unwrap().unwrap();
    assert!(!HostTcpSocket::is_listening(v, listener).unwrap(), "listen is still in progress");
    HostTcpSocket::finish_listen(v, listener).unwrap().unwrap();
    assert!(HostTcpSocket::is_listening(v, listener).unwrap());
    assert_eq!(HostTcpSocket::accept(v, listener).unwrap().err(), Some(ErrorCode::WouldBlock));

    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.write_all(b"hello, guest").unwrap();

    let ready = HostTcpSocket::subscribe(&mut g.view(), listener).unwrap();
    assert!(g.wait(&ready), "no connection arrived in time");
    let (conn, input, output) = HostTcpSocket::accept(&mut g.view(), listener).unwrap().unwrap();
    let v = &mut g.view();
    assert_eq!(addr_of(HostTcpSocket::remote_address(v, conn).unwrap().unwrap()), client.local_addr().unwrap());
    assert_eq!(addr_of(HostTcpSocket::local_address(v, conn).unwrap().unwrap()), addr);
    assert_eq!(HostTcpSocket::address_family(v, conn).unwrap(), IpAddressFamily::Ipv4);

    assert_eq!(g.read_exact(&input, 12), b"hello, guest");
    g.write_all(&output, b"hello, host");
    let mut reply = [0u8; 11];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"hello, host");

    // Shutting down the sending side is seen by the peer as the end of the stream, and
    // closes the guest's output stream.
    HostTcpSocket::shutdown(&mut g.view(), conn, ShutdownType::Send).unwrap().unwrap();
    assert_eq!(client.read(&mut reply).unwrap(), 0);
    assert!(matches!(g.table.get_mut(&output).unwrap().check_write(), Err(StreamError::Closed)));
    HostTcpSocket::shutdown(&mut g.view(), conn, ShutdownType::Both).unwrap().unwrap();
    assert!(matches!(g.table.get_mut(&input).unwrap().read(1), Err(StreamError::Closed)));
}

#[test]
fn tcp_output_keeps_what_the_kernel_refuses() {
    let listener = TcpListener::bind(localhost(0)).unwrap();
    let server_addr = listener.local_addr().unwrap();
    let mut g = Guest::open();
    let socket = g.tcp();
    // Small kernel buffers on both ends, and a peer that does not read yet, so that a 64 KiB
    // write cannot all go to the kernel.
    HostTcpSocket::set_send_buffer_size(&mut g.view(), socket, 4096).unwrap().unwrap();
    let (_input, output) = g.connect(&socket, server_addr).expect("connect");
    let (mut peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(PATIENCE)).unwrap();

    let mut sent = Vec::new();
    let mut rounds = 0;
    loop {
        let stream = g.table.get_mut(&output).unwrap();
        let permit = stream.check_write().unwrap();
        if permit == 0 {
            break;
        }
        rounds += 1;
        assert!(rounds < 1000, "the kernel took {} bytes without pushing back", sent.len());
        let chunk: Vec<u8> = (0..permit).map(|i| (i * 7 + rounds) as u8).collect();
        sent.extend_from_slice(&chunk);
        stream.write(chunk).unwrap();
    }
    // Bytes are waiting in the stream: it is not ready, and a write without a budget traps.
    assert!(!weld_wasi::p2::OutputStream::readiness(&mut **g.table.get_mut(&output).unwrap()).is_ready());
    let over = g.table.get_mut(&output).unwrap().write(vec![1]);
    assert!(matches!(over, Err(StreamError::Trap(_))), "writing past check-write must trap, got {over:?}");
    let zeroes = g.table.get_mut(&output).unwrap().write_zeroes(usize::MAX);
    assert!(matches!(zeroes, Err(StreamError::Trap(_))), "zeroes past check-write must trap, got {zeroes:?}");

    // Dropping the stream waits until the peer has taken everything, then ends the stream.
    let expected = sent.len();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        peer.read_to_end(&mut got).unwrap();
        got
    });
    g.table.delete(output).unwrap();
    let got = reader.join().unwrap();
    assert_eq!(got.len(), expected);
    assert!(got == sent, "the peer received different bytes");
}

#[test]
fn tcp_is_refused_by_the_context() {
    // TCP not allowed at all.
    let mut g = Guest::new(WasiCtx::builder().inherit_network().build());
    assert_eq!(g.view().create_tcp_socket(IpAddressFamily::Ipv4).unwrap().err(), Some(ErrorCode::AccessDenied));
    assert_eq!(g.view().create_udp_socket(IpAddressFamily::Ipv4).unwrap().err(), Some(ErrorCode::AccessDenied));

    // TCP allowed, but not on 127.0.0.1.
    let listener = TcpListener::bind(localhost(0)).unwrap();
    let denied = |addr: SocketAddr, _: SocketAddrUse| addr.ip() != Ipv4Addr::LOCALHOST;
    let mut g = Guest::new(WasiCtx::builder().allow_tcp(true).socket_addr_check(denied).build());
    let socket = g.tcp();
    let net = g.network();
    let v = &mut g.view();
    let bind = HostTcpSocket::start_bind(v, socket, net, wit(localhost(0))).unwrap();
    assert_eq!(bind, Err(ErrorCode::AccessDenied));
    assert_eq!(HostTcpSocket::finish_bind(v, socket).unwrap(), Err(ErrorCode::NotInProgress));
    // As in Wasmtime, the policy's refusal of a connect is reported when it finishes, and
    // leaves the socket closed.
    let connect = g.connect(&socket, listener.local_addr().unwrap());
    assert_eq!(connect.err(), Some(ErrorCode::AccessDenied));
    let v = &mut g.view();
    assert_eq!(HostTcpSocket::local_address(v, socket).unwrap().err(), Some(ErrorCode::InvalidState));
    let again = HostTcpSocket::start_connect(v, socket, net, wit(listener.local_addr().unwrap())).unwrap();
    assert_eq!(again, Err(ErrorCode::InvalidState));
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "no connection may have been made");
}

#[test]
fn tcp_accept_drops_denied_peers() {
    let only_bind_and_listen = |_: SocketAddr, usage: SocketAddrUse| usage != SocketAddrUse::TcpAccept;
    let mut g = Guest::new(WasiCtx::builder().allow_tcp(true).socket_addr_check(only_bind_and_listen).build());
    let listener = g.tcp();
    let addr = g.bind_tcp(&listener);
    let v = &mut g.view();
    HostTcpSocket::start_listen(v, listener).unwrap().unwrap();
    HostTcpSocket::finish_listen(v, listener).unwrap().unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    let ready = HostTcpSocket::subscribe(&mut g.view(), listener).unwrap();
    assert!(g.wait(&ready));
    assert_eq!(HostTcpSocket::accept(&mut g.view(), listener).unwrap().err(), Some(ErrorCode::WouldBlock));
    // The denied client was reset.
    let mut byte = [0u8; 1];
    match client.read(&mut byte) {
        Ok(0) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        Ok(n) => panic!("read {n} bytes from a denied connection"),
    }
}

#[test]
fn tcp_state_machine_errors() {
    let mut g = Guest::open();
    let socket = g.tcp();
    let net = g.network();
    let v = &mut g.view();
    assert_eq!(HostTcpSocket::finish_bind(v, socket).unwrap(), Err(ErrorCode::NotInProgress));
    assert_eq!(HostTcpSocket::finish_connect(v, socket).unwrap().err(), Some(ErrorCode::NotInProgress));
    assert_eq!(HostTcpSocket::finish_listen(v, socket).unwrap(), Err(ErrorCode::NotInProgress));
    assert_eq!(HostTcpSocket::start_listen(v, socket).unwrap(), Err(ErrorCode::InvalidState), "unbound");
    assert_eq!(HostTcpSocket::local_address(v, socket).unwrap().err(), Some(ErrorCode::InvalidState));
    assert_eq!(HostTcpSocket::remote_address(v, socket).unwrap().err(), Some(ErrorCode::InvalidState));
    assert_eq!(HostTcpSocket::accept(v, socket).unwrap().err(), Some(ErrorCode::InvalidState));
    assert_eq!(HostTcpSocket::shutdown(v, socket, ShutdownType::Both).unwrap(), Err(ErrorCode::InvalidState));
    let v6 = IpSocketAddress::Ipv6(Ipv6SocketAddress {
        port: 0,
        flow_info: 0,
        address: (0, 0, 0, 0, 0, 0, 0, 1),
        scope_id: 0,
    });
    assert_eq!(HostTcpSocket::start_bind(v, socket, net, v6).unwrap(), Err(ErrorCode::InvalidArgument));
    let broadcast = wit(SocketAddr::from(([255, 255, 255, 255], 80)));
    assert_eq!(HostTcpSocket::start_bind(v, socket, net, broadcast).unwrap(), Err(ErrorCode::InvalidArgument));
    assert_eq!(
        HostTcpSocket::start_connect(v, socket, net, wit(localhost(0))).unwrap(),
        Err(ErrorCode::InvalidArgument)
    );
    let any = wit(SocketAddr::from(([0, 0, 0, 0], 80)));
    assert_eq!(HostTcpSocket::start_connect(v, socket, net, any).unwrap(), Err(ErrorCode::InvalidArgument));
    // Options and their zero checks.
    assert_eq!(HostTcpSocket::set_listen_backlog_size(v, socket, 0).unwrap(), Err(ErrorCode::InvalidArgument));
    assert_eq!(HostTcpSocket::set_hop_limit(v, socket, 0).unwrap(), Err(ErrorCode::InvalidArgument));
    HostTcpSocket::set_hop_limit(v, socket, 42).unwrap().unwrap();
    assert_eq!(HostTcpSocket::hop_limit(v, socket).unwrap(), Ok(42));
    assert_eq!(HostTcpSocket::set_receive_buffer_size(v, socket, 0).unwrap(), Err(ErrorCode::InvalidArgument));
    HostTcpSocket::set_receive_buffer_size(v, socket, 32 * 1024).unwrap().unwrap();
    let size = HostTcpSocket::receive_buffer_size(v, socket).unwrap().unwrap();
    assert!(size >= 16 * 1024, "read back {size} after setting 32 KiB");
    HostTcpSocket::set_keep_alive_enabled(v, socket, true).unwrap().unwrap();
    assert_eq!(HostTcpSocket::keep_alive_enabled(v, socket).unwrap(), Ok(true));
    assert_eq!(HostTcpSocket::set_keep_alive_idle_time(v, socket, 0).unwrap(), Err(ErrorCode::InvalidArgument));
    HostTcpSocket::set_keep_alive_idle_time(v, socket, 30_000_000_000).unwrap().unwrap();
    assert_eq!(HostTcpSocket::keep_alive_idle_time(v, socket).unwrap(), Ok(30_000_000_000));
    assert_eq!(HostTcpSocket::set_keep_alive_count(v, socket, 0).unwrap(), Err(ErrorCode::InvalidArgument));
    HostTcpSocket::set_keep_alive_count(v, socket, 1000).unwrap().unwrap();
    assert_eq!(HostTcpSocket::keep_alive_count(v, socket).unwrap(), Ok(127), "clamped");

    // A bind in progress conflicts with every other start; once finished, binding again is
    // the wrong state.
    HostTcpSocket::start_bind(v, socket, net, wit(localhost(0))).unwrap().unwrap();
    assert_eq!(
        HostTcpSocket::start_bind(v, socket, net, wit(localhost(0))).unwrap(),
        Err(ErrorCode::ConcurrencyConflict)
    );
    assert_eq!(HostTcpSocket::start_listen(v, socket).unwrap(), Err(ErrorCode::ConcurrencyConflict));
    HostTcpSocket::finish_bind(v, socket).unwrap().unwrap();
    assert_eq!(HostTcpSocket::finish_bind(v, socket).unwrap(), Err(ErrorCode::NotInProgress));
    assert_eq!(HostTcpSocket::start_bind(v, socket, net, wit(localhost(0))).unwrap(), Err(ErrorCode::InvalidState));

    // The port of a closed listener refuses connections.
    let closed_port = TcpListener::bind(localhost(0)).unwrap().local_addr().unwrap();
    let fresh = g.tcp();
    assert_eq!(g.connect(&fresh, closed_port).err(), Some(ErrorCode::ConnectionRefused));
    let v = &mut g.view();
    assert_eq!(HostTcpSocket::finish_connect(v, fresh).unwrap().err(), Some(ErrorCode::NotInProgress));
}

fn wit6(ip: Ipv6Addr, port: u16) -> IpSocketAddress {
    let [a, b, c, d, e, f, g, h] = ip.segments();
    IpSocketAddress::Ipv6(Ipv6SocketAddress { port, flow_info: 0, address: (a, b, c, d, e, f, g, h), scope_id: 0 })
}

#[test]
fn ipv6_sockets_are_ipv6_only() {
    let mut g = Guest::open();
    let socket = match g.view().create_tcp_socket(IpAddressFamily::Ipv6).unwrap() {
        Ok(socket) => socket,
        Err(ErrorCode::NotSupported) => return, // no IPv6 on this machine
        Err(e) => panic!("creating an IPv6 socket: {e:?}"),
    };
    let net = g.network();
    let v = &mut g.view();
    assert_eq!(HostTcpSocket::address_family(v, socket).unwrap(), IpAddressFamily::Ipv6);
    let mapped: Ipv6Addr = "::ffff:127.0.0.1".parse().unwrap();
    let compatible: Ipv6Addr = "::127.0.0.1".parse().unwrap();
    for ip in [mapped, compatible] {
        assert_eq!(HostTcpSocket::start_bind(v, socket, net, wit6(ip, 0)).unwrap(), Err(ErrorCode::InvalidArgument));
        let connect = HostTcpSocket::start_connect(v, socket, net, wit6(ip, 80)).unwrap();
        assert_eq!(connect, Err(ErrorCode::InvalidArgument));
    }
    let v4 = wit(localhost(80));
    assert_eq!(HostTcpSocket::start_connect(v, socket, net, v4).unwrap(), Err(ErrorCode::InvalidArgument));
    let udp = g.view().create_udp_socket(IpAddressFamily::Ipv6).unwrap().unwrap();
    let v = &mut g.view();
    assert_eq!(HostUdpSocket::start_bind(v, udp, net, wit6(mapped, 0)).unwrap(), Err(ErrorCode::InvalidArgument));
    assert_eq!(HostUdpSocket::start_bind(v, udp, net, wit(localhost(0))).unwrap(), Err(ErrorCode::InvalidArgument));
}

#[test]
fn udp_round_trip_with_a_host_socket() {
    let host = StdUdp::bind(localhost(0)).unwrap();
    host.set_read_timeout(Some(PATIENCE)).unwrap();
    let host_addr = host.local_addr().unwrap();

    let mut g = Guest::open();
    let socket = g.udp();
    let net = g.network();
    let v = &mut g.view();
    assert_eq!(HostUdpSocket::stream(v, socket, None).unwrap().err(), Some(ErrorCode::InvalidState));
    HostUdpSocket::start_bind(v, socket, net, wit(localhost(0))).unwrap().unwrap();
    HostUdpSocket::finish_bind(v, socket).unwrap().unwrap();
    let guest_addr = addr_of(HostUdpSocket::local_address(v, socket).unwrap().unwrap());
    let (incoming, outgoing) = HostUdpSocket::stream(v, socket, None).unwrap().unwrap();
    assert!(HostUdpSocket::stream(v, socket, None).is_err(), "a second pair while the first lives traps");

    host.send_to(b"ping", guest_addr).unwrap();
    let ready = HostIncomingDatagramStream::subscribe(&mut g.view(), incoming).unwrap();
    assert!(g.wait(&ready), "no datagram arrived in time");
    g.table.delete(ready).unwrap();
    let v = &mut g.view();
    let got = HostIncomingDatagramStream::receive(v, incoming, 10).unwrap().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, b"ping");
    assert_eq!(addr_of(got[0].remote_address), host_addr);
    assert!(HostIncomingDatagramStream::receive(v, incoming, 10).unwrap().unwrap().is_empty());

    let reply = || OutgoingDatagram { data: b"pong".to_vec(), remote_address: Some(wit(host_addr)) };
    assert!(HostOutgoingDatagramStream::send(v, outgoing, vec![reply()]).is_err(), "send before check-send traps");
    let permits = HostOutgoingDatagramStream::check_send(v, outgoing).unwrap().unwrap();
    assert!(permits >= 1);
    assert_eq!(HostOutgoingDatagramStream::send(v, outgoing, vec![reply()]).unwrap(), Ok(1));
    let mut buf = [0u8; 16];
    let (n, from) = host.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"pong"[..], guest_addr));
    HostOutgoingDatagramStream::check_send(v, outgoing).unwrap().unwrap();
    let no_address = OutgoingDatagram { data: b"x".to_vec(), remote_address: None };
    assert_eq!(
        HostOutgoingDatagramStream::send(v, outgoing, vec![no_address]).unwrap(),
        Err(ErrorCode::InvalidArgument)
    );

    // Streams for one peer: it is the socket's remote address, and datagrams from others are
    // discarded.
    HostIncomingDatagramStream::drop(v, incoming).unwrap();
    HostOutgoingDatagramStream::drop(v, outgoing).unwrap();
    let (incoming, outgoing) = HostUdpSocket::stream(v, socket, Some(wit(host_addr))).unwrap().unwrap();
    assert_eq!(addr_of(HostUdpSocket::remote_address(v, socket).unwrap().unwrap()), host_addr);
    let stranger = StdUdp::bind(localhost(0)).unwrap();
    stranger.send_to(b"spam", guest_addr).unwrap();
    host.send_to(b"second", guest_addr).unwrap();
    let ready = HostIncomingDatagramStream::subscribe(&mut g.view(), incoming).unwrap();
    let mut got = Vec::new();
    let give_up = Instant::now() + PATIENCE;
    while got.is_empty() && Instant::now() < give_up {
        assert!(g.wait(&ready));
        got = HostIncomingDatagramStream::receive(&mut g.view(), incoming, 16).unwrap().unwrap();
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, b"second");
    let v = &mut g.view();
    HostOutgoingDatagramStream::check_send(v, outgoing).unwrap().unwrap();
    let elsewhere = OutgoingDatagram { data: b"x".to_vec(), remote_address: Some(wit(localhost(9))) };
    assert_eq!(
        HostOutgoingDatagramStream::send(v, outgoing, vec![elsewhere]).unwrap(),
        Err(ErrorCode::InvalidArgument)
    );
    HostOutgoingDatagramStream::check_send(v, outgoing).unwrap().unwrap();
    let to_peer = OutgoingDatagram { data: b"third".to_vec(), remote_address: None };
    assert_eq!(HostOutgoingDatagramStream::send(v, outgoing, vec![to_peer]).unwrap(), Ok(1));
    let (n, _) = host.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"third");
}

#[test]
fn udp_is_refused_by_the_policy() {
    let denied = |addr: SocketAddr, _: SocketAddrUse| addr.ip() != Ipv4Addr::LOCALHOST;
    let mut g = Guest::new(WasiCtx::builder().allow_udp(true).socket_addr_check(denied).build());
    let socket = g.udp();
    let net = g.network();
    let bind = HostUdpSocket::start_bind(&mut g.view(), socket, net, wit(localhost(0))).unwrap();
    assert_eq!(bind, Err(ErrorCode::AccessDenied));

    // Bound to the unspecified address (allowed), sending to 127.0.0.1 is not.
    let mut g = Guest::new(WasiCtx::builder().allow_udp(true).socket_addr_check(denied).build());
    let socket = g.udp();
    let net = g.network();
    let v = &mut g.view();
    let any = wit(SocketAddr::from(([0, 0, 0, 0], 0)));
    HostUdpSocket::start_bind(v, socket, net, any).unwrap().unwrap();
    HostUdpSocket::finish_bind(v, socket).unwrap().unwrap();
    assert_eq!(HostUdpSocket::stream(v, socket, Some(wit(localhost(9)))).unwrap().err(), Some(ErrorCode::AccessDenied));
    let (_incoming, outgoing) = HostUdpSocket::stream(v, socket, None).unwrap().unwrap();
    HostOutgoingDatagramStream::check_send(v, outgoing).unwrap().unwrap();
    let datagram = OutgoingDatagram { data: b"x".to_vec(), remote_address: Some(wit(localhost(9))) };
    assert_eq!(HostOutgoingDatagramStream::send(v, outgoing, vec![datagram]).unwrap(), Err(ErrorCode::AccessDenied));
}

fn ip_of(ip: IpAddress) -> IpAddr {
    match ip {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::from([a, b, c, d]),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::from([a, b, c, d, e, f, g, h]),
    }
}

fn resolve(g: &mut Guest, name: &str) -> Result<Vec<IpAddr>, ErrorCode> {
    let net = g.network();
    let v = &mut g.view();
    let stream = v.resolve_addresses(net, name.to_string()).unwrap()?;
    let ready = HostResolveAddressStream::subscribe(v, stream).unwrap();
    assert!(g.wait(&ready), "the resolve-address-stream's pollable is ready at once");
    g.table.delete(ready).unwrap();
    let mut found = Vec::new();
    for _ in 0..64 {
        match HostResolveAddressStream::resolve_next_address(&mut g.view(), stream).unwrap()? {
            Some(ip) => found.push(ip_of(ip)),
            None => return Ok(found),
        }
    }
    panic!("resolving {name} gave more than 64 addresses");
}

#[test]
fn name_lookup_follows_the_context() {
    let mut g = Guest::new(WasiCtx::builder().allow_tcp(true).build());
    assert_eq!(resolve(&mut g, "localhost").err(), Some(ErrorCode::PermanentResolverFailure));
    assert_eq!(resolve(&mut g, "127.0.0.1").err(), Some(ErrorCode::PermanentResolverFailure));

    let mut g = Guest::open();
    assert_eq!(resolve(&mut g, "127.0.0.1"), Ok(vec![IpAddr::from(Ipv4Addr::LOCALHOST)]));
    assert_eq!(resolve(&mut g, "[::1]"), Ok(vec![IpAddr::from(Ipv6Addr::LOCALHOST)]));
    assert_eq!(resolve(&mut g, "::1"), Ok(vec![IpAddr::from(Ipv6Addr::LOCALHOST)]));
    let local = resolve(&mut g, "localhost").unwrap();
    assert!(local.contains(&IpAddr::from(Ipv4Addr::LOCALHOST)), "localhost resolved to {local:?}");
    assert_eq!(resolve(&mut g, "not a name").err(), Some(ErrorCode::InvalidArgument));
    assert_eq!(resolve(&mut g, "").err(), Some(ErrorCode::InvalidArgument));
    assert_eq!(resolve(&mut g, "no-such-host.invalid").err(), Some(ErrorCode::NameUnresolvable));
}

#[test]
fn sockets_are_defined_in_a_linker() {
    struct State {
        ctx: WasiCtx,
        table: ResourceTable,
    }
    impl weld_wasi::WasiView for State {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
        }
    }
    let engine = weld::Engine::default();
    let mut linker = weld::component::Linker::<State>::new(&engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
}
