//! `wasi:sockets/ip-name-lookup@0.3.0`: `resolve-addresses`, an async function.
//!
//! The context's switch for lookups is WASI 0.2's (`access-denied` when it is off). A name
//! is read as 0.2 reads it (`crate::sockets`): an IP address literal is the one result, with
//! no lookup; a name that is neither an address nor a syntactically valid domain name is
//! `invalid-argument`; a Unicode domain name is converted to ASCII. A domain name is
//! resolved by the system's resolver (`getaddrinfo`, through Rust's standard library), which
//! blocks: each lookup runs on a short-lived thread of its own, and the function's future
//! waits for its answer, so the store's thread and its other tasks go on meanwhile. A lookup
//! whose future is dropped runs to its end unseen.
//!
//! The answer has at least one address (none is `name-unresolvable`), in the resolver's
//! order, without duplicates, IPv4-mapped IPv6 addresses given as the IPv4 addresses they
//! are. The standard library does not say why `getaddrinfo` failed, so every failure is
//! `name-unresolvable`. Whether a name outside `/etc/hosts` resolves depends on the host
//! having a working resolver.

use super::types::LookupErrorCode;
use crate::bindings::wasi::sockets::network::IpAddress;
use crate::p3::oneshot;
use crate::sockets::{MAX_NAME_LEN, domain_to_ascii, ip_from_std, parse_ip};
use crate::view::WasiView;
use std::net::{IpAddr, ToSocketAddrs};
use weld::component::{Accessor, LinkerInstance};

/// What `resolve-addresses` answers.
type Lookup = Result<Vec<IpAddress>, LookupErrorCode>;

/// Defines `resolve-addresses` in `lookup` (the `wasi:sockets/ip-name-lookup` instance).
pub(crate) fn add_lookup<T: WasiView + 'static>(lookup: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    lookup.func_wrap_concurrent("resolve-addresses", |accessor: &Accessor<T>, (name,): (String,)| {
        Box::pin(async move {
            let allowed = accessor.with(|mut store| store.data_mut().ctx().ctx.sockets.ip_name_lookup);
            if !allowed {
                return Ok((Err(LookupErrorCode::AccessDenied),));
            }
            Ok((resolve(name).await,))
        })
    })
}

/// The addresses of `name` (see the module documentation).
async fn resolve(name: String) -> Lookup {
    if let Some(ip) = parse_ip(&name) {
        return Ok(vec![ip_from_std(ip)]);
    }
    // No resolver answers for a name this long, and encoding it would cost time quadratic
    // in its length.
    if name.len() > MAX_NAME_LEN {
        return Err(LookupErrorCode::NameUnresolvable);
    }
    let domain = domain_to_ascii(&name).ok_or(LookupErrorCode::InvalidArgument)?;
    let (done, answer) = oneshot::channel();
    let spawned = std::thread::Builder::new().name("weld-wasi-lookup".into()).spawn(move || {
        done.send(system_lookup(&domain));
    });
    if let Err(e) = spawned {
        return Err(LookupErrorCode::Other(Some(format!("no thread to resolve on: {e}"))));
    }
    answer
        .await
        .unwrap_or_else(|| Err(LookupErrorCode::Other(Some("the resolver's thread ended without an answer".into()))))
}

/// Resolves `domain` (ASCII) with the system's resolver, blocking.
fn system_lookup(domain: &str) -> Lookup {
    match (domain, 0).to_socket_addrs() {
        Ok(addrs) => {
            let mut ips: Vec<IpAddr> = Vec::new();
            for ip in addrs.map(|a| a.ip().to_canonical()) {
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
            if ips.is_empty() {
                return Err(LookupErrorCode::NameUnresolvable);
            }
            Ok(ips.into_iter().map(ip_from_std).collect())
        }
        Err(e) => {
            log::debug!("wasi:sockets: resolving `{domain}` failed: {e}");
            Err(LookupErrorCode::NameUnresolvable)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        // The lookup thread wakes no one here (the waker is a no-op): poll until it answered,
        // for at most ten seconds.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "the lookup took over ten seconds");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// A lookup's answer with `std`'s addresses, to compare.
    fn answer(name: &str) -> Result<Vec<IpAddr>, LookupErrorCode> {
        let ips = block_on(resolve(name.into()))?;
        Ok(ips
            .into_iter()
            .map(|ip| match ip {
                IpAddress::Ipv4((a, b, c, d)) => IpAddr::from([a, b, c, d]),
                IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::from([a, b, c, d, e, f, g, h]),
            })
            .collect())
    }

    #[test]
    fn literals_need_no_lookup_and_bad_names_are_refused() {
        assert_eq!(answer("127.0.0.1"), Ok(vec![IpAddr::from([127, 0, 0, 1])]));
        assert_eq!(answer("[::1]"), Ok(vec![std::net::Ipv6Addr::LOCALHOST.into()]));
        assert_eq!(answer("DEAD:BEEF::0"), Ok(vec![IpAddr::from([0xdead, 0xbeef, 0, 0, 0, 0, 0, 0])]));
        for bad in ["", " ", "a.b<&>", "127.0.0.1:80", "[::]:80", "http://example.com/"] {
            assert_eq!(answer(bad), Err(LookupErrorCode::InvalidArgument), "{bad:?}");
        }
    }

    #[test]
    fn localhost_resolves_on_a_thread() {
        let ips = answer("localhost").expect("localhost resolves");
        assert!(!ips.is_empty());
        assert!(ips.iter().all(|ip| ip.is_loopback()), "{ips:?}");
    }
}
