//! The conversions between http's methods, schemes and hyper's errors and the WIT's, which
//! WASI 0.2 and 0.3 both need for their own `method`, `scheme` and `error-code` types: the
//! types are alike case for case but distinct (0.2's come from bindgen, 0.3's are derived),
//! so the conversions are written once here, as macros that each version instantiates for
//! its types and names.

/// Defines, for a WIT `method` type `$Method` and `scheme` type `$Scheme` (with the WIT's
/// cases), the functions `$method_to_http`, `$method_from_http`, `$scheme_from_http` and
/// `$valid_scheme`, with visibility `$vis`.
macro_rules! wit_conversions {
    (
        $vis:vis $Method:ident, $Scheme:ident,
        $method_to_http:ident, $method_from_http:ident, $scheme_from_http:ident, $valid_scheme:ident
    ) => {
        /// The WIT's method as http's, or `None` if an `other` name is not a valid method.
        $vis fn $method_to_http(method: &$Method) -> Option<http::Method> {
            Some(match method {
                $Method::Get => http::Method::GET,
                $Method::Head => http::Method::HEAD,
                $Method::Post => http::Method::POST,
                $Method::Put => http::Method::PUT,
                $Method::Delete => http::Method::DELETE,
                $Method::Connect => http::Method::CONNECT,
                $Method::Options => http::Method::OPTIONS,
                $Method::Trace => http::Method::TRACE,
                $Method::Patch => http::Method::PATCH,
                $Method::Other(m) => return http::Method::from_bytes(m.as_bytes()).ok(),
            })
        }

        /// http's method as the WIT's.
        $vis fn $method_from_http(method: &http::Method) -> $Method {
            match *method {
                http::Method::GET => $Method::Get,
                http::Method::HEAD => $Method::Head,
                http::Method::POST => $Method::Post,
                http::Method::PUT => $Method::Put,
                http::Method::DELETE => $Method::Delete,
                http::Method::CONNECT => $Method::Connect,
                http::Method::OPTIONS => $Method::Options,
                http::Method::TRACE => $Method::Trace,
                http::Method::PATCH => $Method::Patch,
                ref other => $Method::Other(other.as_str().to_string()),
            }
        }

        /// http's scheme as the WIT's.
        $vis fn $scheme_from_http(scheme: &http::uri::Scheme) -> $Scheme {
            if *scheme == http::uri::Scheme::HTTP {
                $Scheme::Http
            } else if *scheme == http::uri::Scheme::HTTPS {
                $Scheme::Https
            } else {
                $Scheme::Other(scheme.as_str().to_string())
            }
        }

        /// Whether a URI can carry `scheme`.
        $vis fn $valid_scheme(scheme: &$Scheme) -> bool {
            match scheme {
                $Scheme::Http | $Scheme::Https => true,
                $Scheme::Other(s) => http::uri::Scheme::try_from(s.as_str()).is_ok(),
            }
        }
    };
}

/// Defines `$name`, with visibility `$vis`: the `error-code` (of type `$ErrorCode`, with the
/// WIT's cases) a guest sees for hyper's error on a request or response it exchanged. The one
/// place that decides which case a failure of the host's HTTP stack is.
macro_rules! hyper_error_code {
    ($vis:vis $ErrorCode:ident, $name:ident) => {
        /// The error code a guest sees for hyper's error `e`.
        $vis fn $name(e: &hyper::Error) -> $ErrorCode {
            if e.is_timeout() {
                $ErrorCode::ConnectionReadTimeout
            } else if e.is_incomplete_message() {
                $ErrorCode::HttpResponseIncomplete
            } else if e.is_closed() || e.is_canceled() {
                $ErrorCode::ConnectionTerminated
            } else if e.is_parse() || e.is_parse_status() {
                $ErrorCode::HttpProtocolError
            } else {
                $ErrorCode::InternalError(Some(e.to_string()))
            }
        }
    };
}

pub(crate) use {hyper_error_code, wit_conversions};
