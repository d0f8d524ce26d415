//! `wasi:sockets/ip-name-lookup`: [`ResolveAddressStream`] and the interface's host
//! functions.
//!
//! `resolve-addresses` answers at once: `permanent-resolver-failure` when the context does
//! not allow lookups, `invalid-argument` for a name that is neither an IP address nor a
//! syntactically valid domain name, and otherwise a stream. An IP address in the name is the
//! stream's only result, without any lookup. A domain name is resolved by the system's
//! resolver (`getaddrinfo`, through `std::net::ToSocketAddrs`) on the stream's first
//! `resolve-next-address`, which blocks the guest's thread for as long as the resolver takes:
//! the host has no background thread to resolve on while the guest does something else, so
//! the stream's pollable is ready from the start, and `resolve-next-address` never answers
//! `would-block`. Any failure of the resolver is `name-unresolvable` (`std` does not say why
//! `getaddrinfo` failed); IPv4-mapped IPv6 results are returned as the IPv4 addresses they
//! are.
//!
//! Unicode domain names are converted to ASCII (`xn--` labels, RFC 3492 Punycode) after
//! lowercasing each character; the full IDNA mapping tables (UTS #46 normalisation of
//! compatibility characters) are deliberately not carried, so such rare names may be
//! spelled differently than a full IDNA implementation would and fail to resolve.

use super::addr::ip_from_std;
use crate::bindings::wasi::sockets::ip_name_lookup::{Host, HostResolveAddressStream};
use crate::bindings::wasi::sockets::network::{ErrorCode, IpAddress, Network};
use crate::poll::{DynPollable, Pollable, Readiness, subscribe};
use crate::view::WasiCtxView;
use std::net::{IpAddr, Ipv6Addr, ToSocketAddrs};
use weld::component::Resource;

/// Names longer than this (in UTF-8 bytes) are not looked up: a DNS name has at most 253
/// characters, and even its longest Unicode spelling stays far below this.
pub(crate) const MAX_NAME_LEN: usize = 1024;

/// The value behind a `resolve-address-stream` handle.
pub struct ResolveAddressStream {
    state: Lookup,
}

enum Lookup {
    /// A domain name, in ASCII, not looked up yet.
    Pending(String),
    /// The addresses not yet handed out.
    Done(std::vec::IntoIter<IpAddr>),
    /// The lookup failed; every call reports it.
    Failed(ErrorCode),
}

impl ResolveAddressStream {
    /// A stream for `name`, or `invalid-argument` when it is no IP address or domain name.
    pub(crate) fn new(name: &str) -> Result<ResolveAddressStream, ErrorCode> {
        let state = match parse_ip(name) {
            Some(ip) => Lookup::Done(vec![ip].into_iter()),
            // No resolver answers for a name this long, and encoding it would cost time
            // quadratic in its length.
            None if name.len() > MAX_NAME_LEN => Lookup::Failed(ErrorCode::NameUnresolvable),
            None => Lookup::Pending(domain_to_ascii(name).ok_or(ErrorCode::InvalidArgument)?),
        };
        Ok(ResolveAddressStream { state })
    }

    /// The next address, looking the name up first if it has not been; `None` at the end.
    pub(crate) fn next_address(&mut self) -> Result<Option<IpAddr>, ErrorCode> {
        if let Lookup::Pending(domain) = &self.state {
            self.state = match (domain.as_str(), 0).to_socket_addrs() {
                Ok(addrs) => {
                    let ips: Vec<IpAddr> = addrs.map(|a| a.ip().to_canonical()).collect();
                    Lookup::Done(ips.into_iter())
                }
                Err(e) => {
                    log::debug!("wasi:sockets: resolving `{domain}` failed: {e}");
                    Lookup::Failed(ErrorCode::NameUnresolvable)
                }
            };
        }
        match &mut self.state {
            Lookup::Done(ips) => Ok(ips.next()),
            Lookup::Failed(code) => Err(*code),
            Lookup::Pending(_) => Err(ErrorCode::Unknown),
        }
    }
}

impl Pollable for ResolveAddressStream {
    /// Always ready: the lookup happens, blocking, in `resolve-next-address`.
    fn readiness(&mut self) -> Readiness {
        Readiness::Ready
    }
}

/// An IP address literal: dotted IPv4, IPv6, or IPv6 in brackets.
pub(crate) fn parse_ip(name: &str) -> Option<IpAddr> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Some(ip);
    }
    let inner = name.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// Characters no host name may contain (the URL standard's forbidden domain code points).
fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, ' ' | '#' | '%' | '/' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '^' | '|')
}

/// `name` as an ASCII domain name, or `None` when it cannot be one: empty, with an empty
/// label (other than one trailing dot), or with a forbidden character.
pub(crate) fn domain_to_ascii(name: &str) -> Option<String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() || name.chars().any(is_forbidden) {
        return None;
    }
    let mut labels = Vec::new();
    for label in trimmed.split('.') {
        if label.is_empty() {
            return None;
        }
        if label.is_ascii() {
            labels.push(label.to_ascii_lowercase());
        } else {
            let lower: Vec<char> = label.chars().flat_map(char::to_lowercase).collect();
            labels.push(format!("xn--{}", punycode(&lower)?));
        }
    }
    Some(labels.join("."))
}

/// RFC 3492 Punycode encoding of one label; `None` on overflow.
fn punycode(input: &[char]) -> Option<String> {
    const BASE: u32 = 36;
    const T_MIN: u32 = 1;
    const T_MAX: u32 = 26;
    let digit = |d: u32| -> char {
        let byte = if d < 26 { b'a' + d as u8 } else { b'0' + (d - 26) as u8 };
        char::from(byte)
    };
    let mut out: String = input.iter().filter(|c| c.is_ascii()).collect();
    let basic = out.len() as u32;
    if basic > 0 {
        out.push('-');
    }
    let total = u32::try_from(input.len()).ok()?;
    let (mut n, mut delta, mut bias, mut handled) = (128u32, 0u32, 72u32, basic);
    while handled < total {
        let next = input.iter().map(|&c| c as u32).filter(|&c| c >= n).min()?;
        delta = delta.checked_add((next - n).checked_mul(handled + 1)?)?;
        n = next;
        for &c in input {
            let c = c as u32;
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        T_MIN
                    } else if k >= bias + T_MAX {
                        T_MAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta = delta.checked_add(1)?;
        n = n.checked_add(1)?;
    }
    Some(out)
}

/// RFC 3492's bias adaptation.
fn adapt(delta: u32, points: u32, first: bool) -> u32 {
    const BASE: u32 = 36;
    const T_MIN: u32 = 1;
    const T_MAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    let mut delta = if first { delta / DAMP } else { delta / 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((BASE - T_MIN) * T_MAX) / 2 {
        delta /= BASE - T_MIN;
        k += BASE;
    }
    k + (BASE - T_MIN + 1) * delta / (delta + SKEW)
}

impl Host for WasiCtxView<'_> {
    fn resolve_addresses(
        &mut self,
        network: Resource<Network>,
        name: String,
    ) -> weld::Result<Result<Resource<ResolveAddressStream>, ErrorCode>> {
        // The handle is the capability; it carries nothing else.
        self.table.get(&network)?;
        if !self.ctx.sockets.ip_name_lookup {
            return Ok(Err(ErrorCode::PermanentResolverFailure));
        }
        match ResolveAddressStream::new(&name) {
            Ok(stream) => Ok(Ok(self.table.push(stream)?)),
            Err(code) => Ok(Err(code)),
        }
    }
}

impl HostResolveAddressStream for WasiCtxView<'_> {
    fn resolve_next_address(
        &mut self,
        stream: Resource<ResolveAddressStream>,
    ) -> weld::Result<Result<Option<IpAddress>, ErrorCode>> {
        Ok(self.table.get_mut(&stream)?.next_address().map(|ip| ip.map(ip_from_std)))
    }

    fn subscribe(&mut self, stream: Resource<ResolveAddressStream>) -> weld::Result<Resource<DynPollable>> {
        subscribe(self.table, stream)
    }

    fn drop(&mut self, stream: Resource<ResolveAddressStream>) -> weld::Result<()> {
        self.table.delete(stream)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punycode_matches_known_encodings() {
        assert_eq!(domain_to_ascii("bücher.example").as_deref(), Some("xn--bcher-kva.example"));
        assert_eq!(domain_to_ascii("MÜNCHEN.de").as_deref(), Some("xn--mnchen-3ya.de"));
        // RFC 3492, section 7.1, sample (A): Arabic (Egyptian).
        let arabic = "\u{0644}\u{064A}\u{0647}\u{0645}\u{0627}\u{0628}\u{062A}\u{0643}\u{0644}\u{0645}\u{0648}\u{0634}\u{0639}\u{0631}\u{0628}\u{064A}\u{061F}";
        assert_eq!(domain_to_ascii(arabic).as_deref(), Some("xn--egbpdaj6bu4bxfgehfvwxn"));
        // RFC 3492, section 7.1, sample (B): Chinese (simplified).
        let chinese = "\u{4ED6}\u{4EEC}\u{4E3A}\u{4EC0}\u{4E48}\u{4E0D}\u{8BF4}\u{4E2D}\u{6587}";
        assert_eq!(domain_to_ascii(chinese).as_deref(), Some("xn--ihqwcrb4cv8a8dqg056pqjye"));
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(domain_to_ascii("Example.COM.").as_deref(), Some("example.com"));
        for bad in ["", ".", "a..b", "a b", "a/b", "exa%mple", "user@host", "a:80", "\u{0}x"] {
            assert_eq!(domain_to_ascii(bad), None, "{bad:?}");
        }
        assert_eq!(parse_ip("[::1]"), Some(Ipv6Addr::LOCALHOST.into()));
        assert_eq!(parse_ip("10.1.2.3"), Some(IpAddr::from([10, 1, 2, 3])));
        assert_eq!(parse_ip("::1"), Some(Ipv6Addr::LOCALHOST.into()));
        assert_eq!(parse_ip("[10.1.2.3]"), None);
        let long = "\u{e9}".repeat(MAX_NAME_LEN);
        let mut stream = ResolveAddressStream::new(&long).unwrap();
        assert_eq!(stream.next_address(), Err(ErrorCode::NameUnresolvable));
    }
}
