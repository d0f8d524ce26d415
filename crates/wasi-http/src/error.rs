//! The error codes of `wasi:http/types` 0.2 for what goes wrong in hyper (the mapping itself
//! is `wit_conversions.rs`'s, shared with 0.3).

use crate::bindings::http::types::ErrorCode;

crate::wit_conversions::hyper_error_code!(pub ErrorCode, http_request_error);
