//! WASI 0.3 `wasi:sockets` (weld-wasi's `p3::sockets`): jco's p3 socket programs (wasmtime's
//! `p3_sockets_*` test programs) run with WASI 0.2 and 0.3 from weld-wasi on a context that
//! allows TCP, UDP and lookups, binding anywhere the system lets them (their tests bind
//! `0.0.0.0` and `::`, and expect a bind to an address the host lacks to fail with
//! `address-not-bindable`, not `access-denied`) and talking to loopback addresses only.
//! Each program asserts its own expectations and returns `ok` when they all held.
//!
//! And the same programs under a policy that refuses what they need, failing the way that
//! policy says they must.

use crate::real_components::components_dir;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;
use weld::Engine;
use weld::component::{Component, Linker, Val};
use weld_wasi::WasiCtxBuilder;
use weld_wasi::sockets::SocketAddrUse;

/// How long one program may run before its test fails (they take well under a second).
const PATIENCE: Duration = Duration::from_secs(120);

/// The path of a jco p3 sockets fixture (`tcp__p3-sockets-tcp-bind`, say).
fn fixture(name: &str) -> PathBuf {
    components_dir().join(format!("jco/packages__jco-transpile__test__fixtures__components__p3__sockets__{name}.wasm"))
}

/// The policy these tests run under: binds (and listens) wherever the system allows, every
/// other use of an address only with loopback addresses.
fn loopback(addr: SocketAddr, usage: SocketAddrUse) -> bool {
    match usage {
        SocketAddrUse::TcpBind | SocketAddrUse::TcpListen | SocketAddrUse::UdpBind => true,
        _ => addr.ip().to_canonical().is_loopback(),
    }
}

/// How a program's run ended: whether `run` returned `ok`, or the error (a trap: the
/// guest's assertion failed), with what the guest wrote to stderr.
type Ran = Result<bool, String>;

/// Runs program `name`'s `wasi:cli/run@0.3.0#run` on a context that allows TCP, UDP and
/// lookups with the address check `check`, on a thread of its own, for at most
/// [`PATIENCE`].
fn run(name: &str, check: fn(SocketAddr, SocketAddrUse) -> bool) -> Ran {
    let path = fixture(name);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run_here(path, check, |builder| {
            builder.allow_tcp(true).allow_udp(true).allow_ip_name_lookup(true);
        }));
    });
    rx.recv_timeout(PATIENCE).unwrap_or_else(|_| panic!("{name} did not finish within {PATIENCE:?}"))
}

/// Runs the program at `path` on this thread, with the context `configure` shapes.
fn run_here(
    path: PathBuf,
    check: fn(SocketAddr, SocketAddrUse) -> bool,
    configure: impl FnOnce(&mut WasiCtxBuilder),
) -> Ran {
    let engine = Engine::default();
    let mut linker = Linker::<crate::wasi::Host>::new(&engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    weld_wasi::p3::add_to_linker(&mut linker).unwrap();
    let component = Component::from_file(&engine, &path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let (mut builder, _stdout, stderr) = crate::wasi::captured(b"");
    builder.socket_addr_check(check);
    configure(&mut builder);
    let mut store = crate::wasi::store(&engine, builder);
    let instance = linker.instantiate(&mut store, &component).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let run_iface = instance.get_export_index(&mut store, None, "wasi:cli/run@0.3.0").expect("exports wasi:cli/run");
    let run = instance.get_export_index(&mut store, Some(&run_iface), "run").expect("exports run");
    let run = instance.get_func(&mut store, run).expect("run is a function");
    let mut results = [Val::Bool(false)];
    match run.call(&mut store, &[], &mut results) {
        Ok(()) => Ok(matches!(&results[0], Val::Result(Ok(_)))),
        Err(e) => Err(format!("{e:?}\nstderr: {}", String::from_utf8_lossy(&stderr.contents()))),
    }
}

/// Asserts that program `name` returned `ok` under the loopback policy.
fn passes(name: &str) {
    match run(name, loopback) {
        Ok(true) => {}
        Ok(false) => panic!("{name}: run returned an error"),
        Err(e) => panic!("{name}: {e}"),
    }
}

/// The public names the lookup program resolves first, needing one of them to resolve.
const PUBLIC_NAMES: [&str; 5] =
    ["example.com", "api.github.com", "docs.wasmtime.dev", "bytecodealliance.org", "www.rust-lang.org"];

/// `resolve-addresses`: one of five public names resolves; IP literals come back as
/// themselves; `""`, `" "`, `"a.b<&>"`, `"127.0.0.1:80"`, `"[::]:80"` and
/// `"http://example.com/"` are `invalid-argument`.
///
/// The program's first check needs the host to resolve a public name. On a host that cannot
/// (offline), it fails that check and runs nothing after it: then what is checked is that it
/// failed there, each public name answered `name-unresolvable`. (The literals and invalid
/// names are checked without a resolver by weld-wasi's unit tests.)
#[test]
fn p3_sockets_ip_name_lookup() {
    use std::net::ToSocketAddrs;
    let online = PUBLIC_NAMES.iter().any(|name| (*name, 0).to_socket_addrs().is_ok_and(|mut a| a.next().is_some()));
    if online {
        return passes("p3-sockets-ip-name-lookup");
    }
    eprintln!("p3_sockets_ip_name_lookup: this host resolves no public name; checking the offline failure");
    let err = run("p3-sockets-ip-name-lookup", loopback).expect_err("no public name resolves offline");
    assert!(err.contains("should have been able to resolve at least one domain"), "{err}");
    for name in PUBLIC_NAMES {
        assert!(err.contains(&format!("failed to resolve `{name}`: ErrorCode::NameUnresolvable")), "{name}: {err}");
    }
}

/// `bind`: an ephemeral port on loopback and unspecified addresses of both families; a
/// chosen port; `SO_REUSEADDR` (a listener with a connection in `TIME_WAIT` does not keep its
/// port from the next bind); `address-in-use`; `address-not-bindable` for 192.0.2.0 and
/// 2001:db8::; `invalid-argument` for the wrong family, non-unicast and IPv4-mapped addresses.
#[test]
fn p3_sockets_tcp_bind() {
    passes("tcp__p3-sockets-tcp-bind");
}

/// `connect`: `invalid-argument` for an unspecified address, port 0, the wrong family, a
/// non-unicast address and an IPv4 or IPv4-mapped address on an IPv6 socket; a client
/// bound explicitly connects to a listener, which accepts it.
#[test]
fn p3_sockets_tcp_connect() {
    passes("tcp__p3-sockets-tcp-connect");
}

/// `listen` binds an unbound socket implicitly, and keeps the address of a bound one.
#[test]
fn p3_sockets_tcp_listen() {
    passes("tcp__p3-sockets-tcp-listen");
}

/// Two clients connect to a listener (IPv4, then IPv6) and send a message each (after an
/// empty write, which completes with 0); the accepted sockets receive the message, then the
/// end of the stream, and `receive`'s future resolves `ok`.
#[test]
fn p3_sockets_tcp_sample_application() {
    passes("tcp__p3-sockets-tcp-sample-application");
}

/// A connected pair: ping and pong; the peer's close ends `receive`'s stream and resolves its
/// future `ok`; dropping the streams resolves their futures; a send after the peer closed
/// ends the stream and resolves `send`'s future to `connection-broken`; a second `send` or
/// `receive` is `invalid-state`; the streams work after their sockets are dropped; and 2 MiB
/// sent through a 1 KiB send buffer arrive whole while the reader polls each read once and
/// cancels it if it is pending (fewer than 10 cancellations in a row).
#[test]
fn p3_sockets_tcp_streams() {
    passes("tcp__p3-sockets-tcp-streams");
}

/// `bind` for UDP: ephemeral and chosen ports, `address-in-use`, `address-not-bindable`,
/// `invalid-argument` for the wrong family and an IPv4-mapped address.
#[test]
fn p3_sockets_udp_bind() {
    passes("udp__p3-sockets-udp-bind");
}

/// `connect`/`disconnect`: `invalid-state` when not connected; reconnecting changes the
/// remote address; `invalid-argument` for an unspecified address, port 0, the wrong family;
/// `connect` binds implicitly.
#[test]
fn p3_sockets_udp_connect() {
    passes("udp__p3-sockets-udp-connect");
}

/// A server receives an empty datagram and a message from a connected client (with the
/// client's address), and a message from a second, unconnected one; IPv4 and IPv6.
#[test]
fn p3_sockets_udp_sample_application() {
    passes("udp__p3-sockets-udp-sample-application");
}

/// A policy that allows binds but no traffic, not even with loopback: the sample
/// application's first `connect` is `access-denied`, which the program unwraps, so it
/// traps with that error on its stderr.
#[test]
fn p3_sockets_denied_loopback_fails_the_sample_application() {
    fn binds_only(_: SocketAddr, usage: SocketAddrUse) -> bool {
        matches!(usage, SocketAddrUse::TcpBind | SocketAddrUse::TcpListen | SocketAddrUse::UdpBind)
    }
    let err = run("tcp__p3-sockets-tcp-sample-application", binds_only).expect_err("the connect must be refused");
    assert!(err.contains("AccessDenied"), "{err}");
}

/// Without `allow_tcp`, creating a TCP socket is `access-denied`.
#[test]
fn p3_sockets_tcp_off_refuses_sockets() {
    let path = fixture("tcp__p3-sockets-tcp-listen");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run_here(path, loopback, |builder| {
            builder.allow_udp(true);
        }));
    });
    let ran = rx.recv_timeout(PATIENCE).expect("the program finishes");
    let err = ran.expect_err("creating a socket must be refused");
    assert!(err.contains("AccessDenied"), "{err}");
}
