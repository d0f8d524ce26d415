//! The error codes of `wasi:http/types` for what goes wrong in hyper: the one place that
//! decides which `error-code` case a guest sees for a failure of the host's HTTP stack.

use crate::bindings::http::types::ErrorCode;

/// The error code a guest receives for hyper's error `e` on a request it sent.
pub fn http_request_error(e: &hyper::Error) -> ErrorCode {
    if e.is_timeout() {
        ErrorCode::ConnectionReadTimeout
    } else if e.is_incomplete_message() {
        ErrorCode::HttpResponseIncomplete
    } else if e.is_closed() || e.is_canceled() {
        ErrorCode::ConnectionTerminated
    } else if e.is_parse() || e.is_parse_status() {
        ErrorCode::HttpProtocolError
    } else {
        ErrorCode::InternalError(Some(e.to_string()))
    }
}
