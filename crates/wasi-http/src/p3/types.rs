//! The value types of `wasi:http/types@0.3.0` (`method`, `scheme`, `error-code` and its
//! payloads, `header-error`, `request-options-error`), as Rust types that cross the
//! component boundary by derive, and their conversions to and from the `http` crate's.
//!
//! Only types live here: the resources and their functions are in the sibling modules, which
//! all name these.

use weld::component::{ComponentType, Lift, Lower};

/// `method`: an HTTP request method.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
    /// `CONNECT`.
    Connect,
    /// `OPTIONS`.
    Options,
    /// `TRACE`.
    Trace,
    /// `PATCH`.
    Patch,
    /// Any other method, by name.
    Other(String),
}

/// `scheme`: the scheme of a request's URI.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum Scheme {
    /// `http`.
    #[component(name = "HTTP")]
    Http,
    /// `https`.
    #[component(name = "HTTPS")]
    Https,
    /// Any other scheme, by name.
    Other(String),
}

/// `DNS-error-payload`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct DnsErrorPayload {
    /// The DNS response code, if any.
    pub rcode: Option<String>,
    /// The extended DNS error code, if any.
    pub info_code: Option<u16>,
}

/// `TLS-alert-received-payload`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct TlsAlertReceivedPayload {
    /// The alert's identifier, if known.
    pub alert_id: Option<u8>,
    /// The alert's message, if any.
    pub alert_message: Option<String>,
}

/// `field-size-payload`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct FieldSizePayload {
    /// The field's name, if known.
    pub field_name: Option<String>,
    /// The field's size, if known.
    pub field_size: Option<u32>,
}

/// `error-code`: why an HTTP exchange failed (the cases follow the proxy-status parameter
/// registry the WIT names).
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
#[allow(missing_docs)]
pub enum ErrorCode {
    #[component(name = "DNS-timeout")]
    DnsTimeout,
    #[component(name = "DNS-error")]
    DnsError(DnsErrorPayload),
    DestinationNotFound,
    DestinationUnavailable,
    #[component(name = "destination-IP-prohibited")]
    DestinationIpProhibited,
    #[component(name = "destination-IP-unroutable")]
    DestinationIpUnroutable,
    ConnectionRefused,
    ConnectionTerminated,
    ConnectionTimeout,
    ConnectionReadTimeout,
    ConnectionWriteTimeout,
    ConnectionLimitReached,
    #[component(name = "TLS-protocol-error")]
    TlsProtocolError,
    #[component(name = "TLS-certificate-error")]
    TlsCertificateError,
    #[component(name = "TLS-alert-received")]
    TlsAlertReceived(TlsAlertReceivedPayload),
    #[component(name = "HTTP-request-denied")]
    HttpRequestDenied,
    #[component(name = "HTTP-request-length-required")]
    HttpRequestLengthRequired,
    #[component(name = "HTTP-request-body-size")]
    HttpRequestBodySize(Option<u64>),
    #[component(name = "HTTP-request-method-invalid")]
    HttpRequestMethodInvalid,
    #[component(name = "HTTP-request-URI-invalid")]
    HttpRequestUriInvalid,
    #[component(name = "HTTP-request-URI-too-long")]
    HttpRequestUriTooLong,
    #[component(name = "HTTP-request-header-section-size")]
    HttpRequestHeaderSectionSize(Option<u32>),
    #[component(name = "HTTP-request-header-size")]
    HttpRequestHeaderSize(Option<FieldSizePayload>),
    #[component(name = "HTTP-request-trailer-section-size")]
    HttpRequestTrailerSectionSize(Option<u32>),
    #[component(name = "HTTP-request-trailer-size")]
    HttpRequestTrailerSize(FieldSizePayload),
    #[component(name = "HTTP-response-incomplete")]
    HttpResponseIncomplete,
    #[component(name = "HTTP-response-header-section-size")]
    HttpResponseHeaderSectionSize(Option<u32>),
    #[component(name = "HTTP-response-header-size")]
    HttpResponseHeaderSize(FieldSizePayload),
    #[component(name = "HTTP-response-body-size")]
    HttpResponseBodySize(Option<u64>),
    #[component(name = "HTTP-response-trailer-section-size")]
    HttpResponseTrailerSectionSize(Option<u32>),
    #[component(name = "HTTP-response-trailer-size")]
    HttpResponseTrailerSize(FieldSizePayload),
    #[component(name = "HTTP-response-transfer-coding")]
    HttpResponseTransferCoding(Option<String>),
    #[component(name = "HTTP-response-content-coding")]
    HttpResponseContentCoding(Option<String>),
    #[component(name = "HTTP-response-timeout")]
    HttpResponseTimeout,
    #[component(name = "HTTP-upgrade-failed")]
    HttpUpgradeFailed,
    #[component(name = "HTTP-protocol-error")]
    HttpProtocolError,
    LoopDetected,
    ConfigurationError,
    /// Anything else, with a message for people if there is one.
    InternalError(Option<String>),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorCode::InternalError(Some(why)) => write!(f, "internal error: {why}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for ErrorCode {}

impl ErrorCode {
    /// The error code of a failure of the host's HTTP stack, `e`: hyper's errors by kind,
    /// an `ErrorCode` as it is, anything else as an internal error with its message.
    pub fn from_body_error(e: Box<dyn std::error::Error + Send + Sync>) -> ErrorCode {
        match e.downcast::<ErrorCode>() {
            Ok(code) => *code,
            Err(e) => match e.downcast::<hyper::Error>() {
                Ok(e) => hyper_error(&e),
                Err(e) => ErrorCode::InternalError(Some(e.to_string())),
            },
        }
    }
}

crate::wit_conversions::hyper_error_code!(pub ErrorCode, hyper_error);

/// `header-error`: why a change to `fields` was refused.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum HeaderError {
    /// The name or a value is not valid HTTP.
    InvalidSyntax,
    /// The name is one the host does not let a guest set.
    Forbidden,
    /// The fields belong to a message and may not change.
    Immutable,
    /// The fields would be too large.
    SizeExceeded,
    /// Anything else.
    Other(Option<String>),
}

/// `request-options-error`: why a change to `request-options` was refused.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum RequestOptionsError {
    /// The host does not support this option.
    NotSupported,
    /// The options belong to a request and may not change.
    Immutable,
    /// Anything else.
    Other(Option<String>),
}

crate::wit_conversions::wit_conversions!(
    pub Method, Scheme, method_to_http, method_from_http, scheme_from_http, valid_scheme
);

/// Whether `authority` is a valid URI authority, with a port (if it has one) that fits in
/// 16 bits.
pub fn valid_authority(authority: &str) -> bool {
    if http::uri::Authority::try_from(authority).is_err() {
        return false;
    }
    // The port follows the last `:` that is not inside an IPv6 literal's brackets.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    match host_port.rsplit_once(':') {
        Some((_, port)) if !port.contains(']') => port.is_empty() || port.parse::<u16>().is_ok(),
        _ => true,
    }
}

/// Whether `path` is a valid path and query.
pub fn valid_path_with_query(path: &str) -> bool {
    http::uri::PathAndQuery::try_from(path).is_ok()
}
