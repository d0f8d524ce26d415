//! `wasi:http/types@0.3.0#fields`: headers and trailers as a WASI 0.3 guest sees them, kept
//! in an [`http::HeaderMap`] (names case-insensitive, stored lower-case; the values of one
//! name in order).
//!
//! Names and values are checked as HTTP defines them (a token; no CR, LF or NUL in a value):
//! anything else is `invalid-syntax`. The names the context forbids
//! ([`WasiHttpCtx::is_forbidden_header`](crate::WasiHttpCtx::is_forbidden_header): the
//! hop-by-hop headers, `host`, and the embedder's own) are `forbidden`. Fields handed out
//! from a message (`get-headers`, received trailers) are immutable: changing them is
//! `immutable`.
//!
//! Unlike WASI 0.2's, a message's headers are handed out as fields of their own, not as a
//! child of the message: the WIT says they stay valid after the message is consumed, and
//! guests pass them on to a new message.

use super::types::HeaderError;
use crate::view::{WasiHttpCtx, WasiHttpView};
use http::{HeaderMap, HeaderName, HeaderValue};
use weld::component::{LinkerInstance, Resource, ResourceType, StoreContextMut};

/// The value behind a WASI 0.3 `fields` handle.
#[derive(Clone, Debug, Default)]
pub struct Fields {
    /// The fields.
    pub map: HeaderMap,
    /// Whether `set`, `append` and `delete` may change them.
    pub mutable: bool,
}

impl Fields {
    /// Mutable fields holding `map`.
    pub fn mutable(map: HeaderMap) -> Fields {
        Fields { map, mutable: true }
    }

    /// Immutable fields holding `map`.
    pub fn immutable(map: HeaderMap) -> Fields {
        Fields { map, mutable: false }
    }
}

/// A field name a guest gives, checked.
fn name(ctx: &WasiHttpCtx, text: &str) -> Result<HeaderName, HeaderError> {
    let name = HeaderName::from_bytes(text.as_bytes()).map_err(|_| HeaderError::InvalidSyntax)?;
    if ctx.is_forbidden_header(&name) {
        return Err(HeaderError::Forbidden);
    }
    Ok(name)
}

/// A field value a guest gives, checked.
fn value(bytes: &[u8]) -> Result<HeaderValue, HeaderError> {
    HeaderValue::from_bytes(bytes).map_err(|_| HeaderError::InvalidSyntax)
}

/// Removes the names `ctx` forbids from `map` (for messages that arrive from the network).
pub(crate) fn strip_forbidden(ctx: &WasiHttpCtx, map: &mut HeaderMap) {
    let names: Vec<HeaderName> = map.keys().filter(|n| ctx.is_forbidden_header(n)).cloned().collect();
    for n in names {
        map.remove(n);
    }
}

type Handle = Resource<Fields>;

/// What a `fields` function that may fail gives the guest.
type Answer<R> = weld::Result<(Result<R, HeaderError>,)>;

/// The map of `fields` to change, with the name and values checked: `op` gets them, or the
/// guest gets the error.
fn change<T: WasiHttpView, R>(
    mut store: StoreContextMut<'_, T>,
    fields: &Handle,
    n: &str,
    op: impl FnOnce(&mut HeaderMap, HeaderName) -> Result<R, HeaderError>,
) -> Answer<R> {
    let view = store.data_mut().http();
    let n = match name(view.ctx, n) {
        Ok(n) => n,
        Err(e) => return Ok((Err(e),)),
    };
    let fields = view.table.get_mut(fields)?;
    if !fields.mutable {
        return Ok((Err(HeaderError::Immutable),));
    }
    Ok((op(&mut fields.map, n),))
}

/// Defines the `fields` resource and its functions in `types`.
pub(crate) fn add<T: WasiHttpView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    types.resource("fields", ResourceType::host::<Fields>(), |mut store: StoreContextMut<'_, T>, rep| {
        store.data_mut().http().table.delete(Handle::new_own(rep))?;
        Ok(())
    })?;
    types.func_wrap("[constructor]fields", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().http().table.push(Fields::mutable(HeaderMap::new()))?,))
    })?;
    types.func_wrap(
        "[static]fields.from-list",
        |mut store: StoreContextMut<'_, T>, (entries,): (Vec<(String, Vec<u8>)>,)| -> Answer<Handle> {
            let view = store.data_mut().http();
            let mut map = HeaderMap::new();
            for (n, v) in entries {
                match (name(view.ctx, &n), value(&v)) {
                    (Ok(n), Ok(v)) => {
                        map.append(n, v);
                    }
                    (Err(e), _) | (_, Err(e)) => return Ok((Err(e),)),
                }
            }
            Ok((Ok(view.table.push(Fields::mutable(map))?),))
        },
    )?;
    types.func_wrap("[method]fields.get", |mut store: StoreContextMut<'_, T>, (fields, n): (Handle, String)| {
        let map = &store.data_mut().http().table.get(&fields)?.map;
        let values: Vec<Vec<u8>> = match HeaderName::from_bytes(n.as_bytes()) {
            Ok(n) => map.get_all(n).iter().map(|v| v.as_bytes().to_vec()).collect(),
            Err(_) => Vec::new(),
        };
        Ok((values,))
    })?;
    types.func_wrap("[method]fields.has", |mut store: StoreContextMut<'_, T>, (fields, n): (Handle, String)| {
        let map = &store.data_mut().http().table.get(&fields)?.map;
        Ok((HeaderName::from_bytes(n.as_bytes()).is_ok_and(|n| map.contains_key(n)),))
    })?;
    types.func_wrap(
        "[method]fields.set",
        |store: StoreContextMut<'_, T>, (fields, n, values): (Handle, String, Vec<Vec<u8>>)| {
            let values = match values.iter().map(|v| value(v)).collect::<Result<Vec<_>, _>>() {
                Ok(values) => values,
                Err(e) => return Ok((Err(e),)),
            };
            change(store, &fields, &n, |map, n| {
                map.remove(&n);
                for v in values {
                    map.append(n.clone(), v);
                }
                Ok(())
            })
        },
    )?;
    types.func_wrap("[method]fields.delete", |store: StoreContextMut<'_, T>, (fields, n): (Handle, String)| {
        change(store, &fields, &n, |map, n| {
            map.remove(n);
            Ok(())
        })
    })?;
    types.func_wrap(
        "[method]fields.get-and-delete",
        |store: StoreContextMut<'_, T>, (fields, n): (Handle, String)| {
            change(store, &fields, &n, |map, n| {
                let values = map.get_all(&n).iter().map(|v| v.as_bytes().to_vec()).collect::<Vec<_>>();
                map.remove(n);
                Ok(values)
            })
        },
    )?;
    types.func_wrap(
        "[method]fields.append",
        |store: StoreContextMut<'_, T>, (fields, n, v): (Handle, String, Vec<u8>)| {
            let v = match value(&v) {
                Ok(v) => v,
                Err(e) => return Ok((Err(e),)),
            };
            change(store, &fields, &n, |map, n| {
                map.append(n, v);
                Ok(())
            })
        },
    )?;
    types.func_wrap("[method]fields.copy-all", |mut store: StoreContextMut<'_, T>, (fields,): (Handle,)| {
        let map = &store.data_mut().http().table.get(&fields)?.map;
        let all: Vec<(String, Vec<u8>)> =
            map.iter().map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec())).collect();
        Ok((all,))
    })?;
    types.func_wrap("[method]fields.clone", |mut store: StoreContextMut<'_, T>, (fields,): (Handle,)| {
        let view = store.data_mut().http();
        let map = view.table.get(&fields)?.map.clone();
        Ok((view.table.push(Fields::mutable(map))?,))
    })?;
    Ok(())
}
