//! Socket addresses: conversions between the WIT's records (`ip-socket-address`,
//! `ip-address`) and `std::net`'s, and the argument checks the WIT documents for addresses
//! (family, unicast, usable as a remote end), done before any system call so that every
//! platform gives the same answer.
//!
//! IPv6 sockets are IPv6-only (the WIT makes `IPV6_V6ONLY` mandatory), so an IPv4-mapped
//! (`::ffff:a.b.c.d`) or the deprecated IPv4-compatible (`::a.b.c.d`) address is rejected on
//! them: it names an IPv4 endpoint such a socket can never reach.

use crate::bindings::wasi::sockets::network::{
    IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
};
use rustix::net::AddressFamily;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// The `std` form of a WIT socket address.
pub(crate) fn to_std(addr: IpSocketAddress) -> SocketAddr {
    match addr {
        IpSocketAddress::Ipv4(v4) => {
            let (a, b, c, d) = v4.address;
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), v4.port))
        }
        IpSocketAddress::Ipv6(v6) => {
            let (a, b, c, d, e, f, g, h) = v6.address;
            let ip = Ipv6Addr::new(a, b, c, d, e, f, g, h);
            SocketAddr::V6(SocketAddrV6::new(ip, v6.port, v6.flow_info, v6.scope_id))
        }
    }
}

/// The WIT form of a `std` socket address.
pub(crate) fn from_std(addr: SocketAddr) -> IpSocketAddress {
    match addr {
        SocketAddr::V4(v4) => {
            let [a, b, c, d] = v4.ip().octets();
            IpSocketAddress::Ipv4(Ipv4SocketAddress { port: v4.port(), address: (a, b, c, d) })
        }
        SocketAddr::V6(v6) => {
            let [a, b, c, d, e, f, g, h] = v6.ip().segments();
            IpSocketAddress::Ipv6(Ipv6SocketAddress {
                port: v6.port(),
                flow_info: v6.flowinfo(),
                address: (a, b, c, d, e, f, g, h),
                scope_id: v6.scope_id(),
            })
        }
    }
}

/// The WIT form of a `std` IP address.
pub(crate) fn ip_from_std(ip: IpAddr) -> IpAddress {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            IpAddress::Ipv4((a, b, c, d))
        }
        IpAddr::V6(v6) => {
            let [a, b, c, d, e, f, g, h] = v6.segments();
            IpAddress::Ipv6((a, b, c, d, e, f, g, h))
        }
    }
}

/// The system's address family for a WIT one.
pub(crate) fn os_family(family: IpAddressFamily) -> AddressFamily {
    match family {
        IpAddressFamily::Ipv4 => AddressFamily::INET,
        IpAddressFamily::Ipv6 => AddressFamily::INET6,
    }
}

/// The unspecified address of `family` with port 0: what an implicit bind binds to.
pub(crate) fn unspecified(family: IpAddressFamily) -> SocketAddr {
    match family {
        IpAddressFamily::Ipv4 => SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
        IpAddressFamily::Ipv6 => SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
    }
}

/// Whether `ip` can be used on a socket of `family`: the same family, and on IPv6 neither an
/// IPv4-mapped nor an IPv4-compatible address (see the module documentation).
pub(crate) fn family_matches(ip: IpAddr, family: IpAddressFamily) -> bool {
    match (family, ip) {
        (IpAddressFamily::Ipv4, IpAddr::V4(_)) => true,
        (IpAddressFamily::Ipv6, IpAddr::V6(v6)) => v6.to_ipv4_mapped().is_none() && !is_ipv4_compatible(v6),
        _ => false,
    }
}

/// `::a.b.c.d` (deprecated by RFC 4291), other than `::` and `::1`.
fn is_ipv4_compatible(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    s[..6].iter().all(|&x| x == 0) && ip != Ipv6Addr::UNSPECIFIED && ip != Ipv6Addr::LOCALHOST
}

/// Whether `ip` names one host: not multicast, not the IPv4 broadcast address.
pub(crate) fn is_unicast(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => !v4.is_multicast() && !v4.is_broadcast(),
        IpAddr::V6(v6) => !v6.is_multicast(),
    }
}

/// Whether `addr` can be the far end of a connection or a datagram: a specified address and
/// a non-zero port.
pub(crate) fn is_usable_remote(addr: SocketAddr) -> bool {
    !addr.ip().to_canonical().is_unspecified() && addr.port() != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        for text in ["127.0.0.1:80", "[::1]:443", "[fe80::1%3]:9", "0.0.0.0:0"] {
            let addr: SocketAddr = text.parse().unwrap();
            assert_eq!(to_std(from_std(addr)), addr, "{text}");
        }
        let v6 = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 7, 0x12345, 9));
        assert_eq!(to_std(from_std(v6)), v6);
    }

    #[test]
    fn families_and_mapped_addresses() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let compatible: IpAddr = "::10.0.0.1".parse().unwrap();
        assert!(family_matches(v4, IpAddressFamily::Ipv4));
        assert!(!family_matches(v4, IpAddressFamily::Ipv6));
        assert!(!family_matches(mapped, IpAddressFamily::Ipv6));
        assert!(!family_matches(mapped, IpAddressFamily::Ipv4));
        assert!(!family_matches(compatible, IpAddressFamily::Ipv6));
        assert!(family_matches(Ipv6Addr::LOCALHOST.into(), IpAddressFamily::Ipv6));
        assert!(family_matches(Ipv6Addr::UNSPECIFIED.into(), IpAddressFamily::Ipv6));
    }

    #[test]
    fn unicast_and_remote_checks() {
        assert!(!is_unicast("255.255.255.255".parse().unwrap()));
        assert!(!is_unicast("224.0.0.1".parse().unwrap()));
        assert!(!is_unicast("ff02::1".parse().unwrap()));
        assert!(is_unicast("127.0.0.1".parse().unwrap()));
        assert!(!is_usable_remote("0.0.0.0:80".parse().unwrap()));
        assert!(!is_usable_remote("[::]:80".parse().unwrap()));
        assert!(!is_usable_remote("[::ffff:0.0.0.0]:80".parse().unwrap()));
        assert!(!is_usable_remote("127.0.0.1:0".parse().unwrap()));
        assert!(is_usable_remote("127.0.0.1:80".parse().unwrap()));
    }
}
