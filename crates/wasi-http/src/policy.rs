//! Which outgoing requests a guest may send: deny by default, as weld-wasi's sockets; an
//! embedder (or `weld run`/`weld serve` with `-S allow-http` and `-S inherit-network`) opens
//! authorities one by one or all at once. And which headers a guest may never set: the
//! hop-by-hop ones ([`FORBIDDEN`]), which describe a connection rather than a message.

/// Hop-by-hop headers (RFC 9110, section 7.6.1, and the non-standard `keep-alive` and
/// `proxy-connection`), which a guest may not set and never sees.
pub const FORBIDDEN: &[&str] = &["connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade"];

/// Whether `name` is one of the [`FORBIDDEN`] headers.
pub fn is_forbidden(name: &http::HeaderName) -> bool {
    FORBIDDEN.contains(&name.as_str())
}

/// Which authorities a guest may send requests to.
#[derive(Clone, Debug, Default)]
pub enum OutgoingPolicy {
    /// None (the default).
    #[default]
    DenyAll,
    /// These authorities (`host:port`; a bare host means port 80).
    Allow(Vec<String>),
    /// Any.
    AllowAll,
}

impl OutgoingPolicy {
    /// Adds `authority` to those allowed.
    pub fn allow(&mut self, authority: String) {
        match self {
            OutgoingPolicy::AllowAll => {}
            OutgoingPolicy::Allow(list) => list.push(authority),
            OutgoingPolicy::DenyAll => *self = OutgoingPolicy::Allow(vec![authority]),
        }
    }

    /// Whether a request to `authority` (as the guest wrote it) may be sent.
    pub fn allows(&self, authority: &str) -> bool {
        let with_port =
            |a: &str| if a.contains(':') { a.to_ascii_lowercase() } else { format!("{}:80", a.to_ascii_lowercase()) };
        match self {
            OutgoingPolicy::DenyAll => false,
            OutgoingPolicy::AllowAll => true,
            OutgoingPolicy::Allow(list) => list.iter().any(|a| with_port(a) == with_port(authority)),
        }
    }
}
