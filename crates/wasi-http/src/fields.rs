//! `wasi:http/types#fields`: headers and trailers as the guest sees them, kept in an
//! [`http::HeaderMap`] (names are case-insensitive and stored lower-case; the values of one
//! name keep their order).
//!
//! Names and values are checked as HTTP defines them (a token; no CR, LF or NUL in a value):
//! anything else is `header-error.invalid-syntax`. The hop-by-hop headers, which describe one
//! connection and not the message ([`FORBIDDEN`]), are `header-error.forbidden`: the host
//! manages them, and strips them from messages that arrive. Fields that belong to a message
//! (a request's or a response's headers once they are attached) are immutable:
//! `header-error.immutable`.

use crate::bindings::http::types::{HeaderError, HostFields as HostFieldsTrait};
use crate::view::WasiHttpCtxView;
use http::{HeaderMap, HeaderName, HeaderValue};
use weld::component::Resource;

pub use crate::policy::{FORBIDDEN, is_forbidden};

/// Removes the [`FORBIDDEN`] headers from `map` (for messages that arrive from the network).
pub fn strip_forbidden(map: &mut HeaderMap) {
    for name in FORBIDDEN {
        map.remove(*name);
    }
}

/// The value behind a `fields` handle.
#[derive(Clone, Debug, Default)]
pub struct HostFields {
    /// The fields.
    pub map: HeaderMap,
    /// Whether `set`, `append` and `delete` may change them.
    pub mutable: bool,
}

impl HostFields {
    /// Mutable fields holding `map`.
    pub fn mutable(map: HeaderMap) -> HostFields {
        HostFields { map, mutable: true }
    }

    /// Immutable fields holding `map`.
    pub fn immutable(map: HeaderMap) -> HostFields {
        HostFields { map, mutable: false }
    }
}

fn name(text: &str) -> Result<HeaderName, HeaderError> {
    let name = HeaderName::from_bytes(text.as_bytes()).map_err(|_| HeaderError::InvalidSyntax)?;
    if is_forbidden(&name) {
        return Err(HeaderError::Forbidden);
    }
    Ok(name)
}

fn value(bytes: &[u8]) -> Result<HeaderValue, HeaderError> {
    HeaderValue::from_bytes(bytes).map_err(|_| HeaderError::InvalidSyntax)
}

impl WasiHttpCtxView<'_> {
    /// The fields of handle `fields`, to change: fails with `immutable` if they may not be.
    fn fields_mut(&mut self, fields: &Resource<HostFields>) -> weld::Result<Result<&mut HeaderMap, HeaderError>> {
        let fields = self.table.get_mut(fields)?;
        Ok(if fields.mutable { Ok(&mut fields.map) } else { Err(HeaderError::Immutable) })
    }
}

impl HostFieldsTrait for WasiHttpCtxView<'_> {
    fn new(&mut self) -> weld::Result<Resource<HostFields>> {
        Ok(self.table.push(HostFields::mutable(HeaderMap::new()))?)
    }

    fn from_list(
        &mut self,
        entries: Vec<(String, Vec<u8>)>,
    ) -> weld::Result<Result<Resource<HostFields>, HeaderError>> {
        let mut map = HeaderMap::new();
        for (n, v) in entries {
            match (name(&n), value(&v)) {
                (Ok(n), Ok(v)) => {
                    map.append(n, v);
                }
                (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
            }
        }
        Ok(Ok(self.table.push(HostFields::mutable(map))?))
    }

    fn get(&mut self, fields: Resource<HostFields>, name: String) -> weld::Result<Vec<Vec<u8>>> {
        let map = &self.table.get(&fields)?.map;
        Ok(match HeaderName::from_bytes(name.as_bytes()) {
            Ok(name) => map.get_all(name).iter().map(|v| v.as_bytes().to_vec()).collect(),
            Err(_) => Vec::new(),
        })
    }

    fn has(&mut self, fields: Resource<HostFields>, name: String) -> weld::Result<bool> {
        let map = &self.table.get(&fields)?.map;
        Ok(HeaderName::from_bytes(name.as_bytes()).is_ok_and(|name| map.contains_key(name)))
    }

    fn set(
        &mut self,
        fields: Resource<HostFields>,
        n: String,
        values: Vec<Vec<u8>>,
    ) -> weld::Result<Result<(), HeaderError>> {
        let n = match name(&n) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        let values = match values.iter().map(|v| value(v)).collect::<Result<Vec<_>, _>>() {
            Ok(values) => values,
            Err(e) => return Ok(Err(e)),
        };
        let map = match self.fields_mut(&fields)? {
            Ok(map) => map,
            Err(e) => return Ok(Err(e)),
        };
        map.remove(&n);
        for v in values {
            map.append(n.clone(), v);
        }
        Ok(Ok(()))
    }

    fn delete(&mut self, fields: Resource<HostFields>, n: String) -> weld::Result<Result<(), HeaderError>> {
        let n = match name(&n) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self.fields_mut(&fields)?.map(|map| {
            map.remove(n);
        }))
    }

    fn append(&mut self, fields: Resource<HostFields>, n: String, v: Vec<u8>) -> weld::Result<Result<(), HeaderError>> {
        let (n, v) = match (name(&n), value(&v)) {
            (Ok(n), Ok(v)) => (n, v),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
        };
        Ok(self.fields_mut(&fields)?.map(|map| {
            map.append(n, v);
        }))
    }

    fn entries(&mut self, fields: Resource<HostFields>) -> weld::Result<Vec<(String, Vec<u8>)>> {
        let map = &self.table.get(&fields)?.map;
        Ok(map.iter().map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec())).collect())
    }

    fn clone(&mut self, fields: Resource<HostFields>) -> weld::Result<Resource<HostFields>> {
        let map = self.table.get(&fields)?.map.clone();
        Ok(self.table.push(HostFields::mutable(map))?)
    }

    fn drop(&mut self, fields: Resource<HostFields>) -> weld::Result<()> {
        self.table.delete(fields)?;
        Ok(())
    }
}
