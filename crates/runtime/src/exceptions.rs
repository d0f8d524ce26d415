//! Wasm exceptions on the host side: tags ([`Tag`], [`TagType`]), what the unwinder and the
//! host learn of the store's exception objects, and [`ThrownException`], the error an
//! uncaught exception becomes. The libcalls that create and read exceptions are in
//! `libcalls.rs` with the others.
//!
//! A tag's identity is the address of a word the store owns for it, so comparing two tags is
//! comparing two pointers, which is what the unwinder does (`vm/unwind.rs`); a module that
//! imports a tag gets the exporter's pointer in its `vmctx`. An exception object holds its tag
//! and its payload as raw values; an `exnref` is its slot number plus one (0 is null). An
//! exception caught by `catch`/`catch_all` is freed when its payload is read; one that was
//! ever handed out as an `exnref` lives as long as the store (there is no collector), as do
//! `externref`s.

use crate::handles::{ExnRef, Tag};
use crate::libcalls::context;
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::vm::exception_heap::{Exception, VmTag};
use crate::vm::valraw::ValRaw;
use crate::{TagType, Val};
use anyhow::Result;
use std::fmt;

impl Tag {
    /// A new tag of type `ty`, distinct from every other.
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        let s = store.as_context_mut().opaque_mut();
        let type_id = s.engine().signature_id(ty.ty());
        let index = s.tags.push(VmTag::new(ty.ty().clone(), type_id));
        Ok(Tag { store: s.id(), index })
    }

    /// The tag's type.
    pub fn ty(&self, store: impl AsContext) -> TagType {
        let s = store.as_context().opaque();
        s.check_owner(self.store);
        TagType::new(s.tags[self.index].ty.clone())
    }
}

impl ExnRef {
    /// The exception's tag.
    pub fn tag(&self, store: impl AsContext) -> Tag {
        let s = store.as_context().opaque();
        s.check_owner(self.store);
        Tag { store: self.store, index: s.exceptions.get(self.raw).tag }
    }

    /// The exception's payload.
    pub fn payload(&self, store: impl AsContext) -> Vec<Val> {
        let s = store.as_context().opaque();
        s.check_owner(self.store);
        payload_vals(s, self.raw)
    }
}

/// A wasm exception that no handler caught: the error a call into wasm returns.
#[derive(Debug)]
pub struct ThrownException {
    tag: Tag,
    payload: Vec<Val>,
}

impl ThrownException {
    /// An exception of `tag` with `payload`, for a host function to return: the wasm that
    /// called the function receives it as if a `throw` had happened at the call (a handler
    /// there may catch it). Returned where nothing can catch it (e.g. from a host call made
    /// by the host), it is just an error.
    pub fn new(tag: Tag, payload: Vec<Val>) -> ThrownException {
        ThrownException { tag, payload }
    }

    /// The exception's tag.
    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// The exception's payload values.
    pub fn payload(&self) -> &[Val] {
        &self.payload
    }
}

impl fmt::Display for ThrownException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a wasm exception was thrown and not caught (a tag with {} payload values", self.payload.len())?;
        if !self.payload.is_empty() {
            let values: Vec<String> = self.payload.iter().map(|v| format!("{v:?}")).collect();
            write!(f, ": {}", values.join(", "))?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for ThrownException {}

/// The `exnref` of a new exception of the store holding what `error` carries, if `error` is
/// (or wraps) a [`ThrownException`] of this store; for a host function that returned one to
/// its wasm caller.
pub(crate) fn rethrow_from_host(s: &mut StoreOpaque, error: &anyhow::Error) -> Option<u64> {
    let thrown = error.downcast_ref::<ThrownException>()?;
    if thrown.tag.store != s.id() {
        return None;
    }
    let types = s.tags[thrown.tag.index].ty.params.clone();
    if types.len() != thrown.payload.len() || thrown.payload.iter().zip(types.iter()).any(|(v, t)| !v.matches(*t)) {
        return None;
    }
    let payload: Box<[ValRaw]> = thrown.payload.iter().map(|v| v.to_raw(s)).collect::<Result<_>>().ok()?;
    Some(s.exceptions.alloc(Exception { tag: thrown.tag.index, payload, kept: false }))
}

/// `error`, unless it is an uncaught exception, which becomes the trap of an exception
/// reaching a component boundary (the canonical ABI's `call_and_trap_on_throw`).
pub(crate) fn trap_at_boundary(error: anyhow::Error) -> anyhow::Error {
    match error.downcast_ref::<ThrownException>() {
        Some(thrown) => {
            let message = thrown.to_string();
            anyhow::Error::new(weld_environ::Trap::UncaughtException).context(message)
        }
        None => error,
    }
}

/// The identity of the tag of exception `exn`, for the unwinder.
///
/// # Safety
/// `vmctx` must be a live instance's VMContext and `exn` a live exception of its store.
pub(crate) unsafe fn thrown_tag_identity(vmctx: *mut u8, exn: u64) -> usize {
    // SAFETY: per the contract.
    let (_, s) = unsafe { context(vmctx) };
    let tag = s.exceptions.get(exn).tag;
    s.tags[tag].identity()
}

/// The error of exception `exn`, which no handler caught; frees it unless it was kept.
///
/// # Safety
/// As [`thrown_tag_identity`].
pub(crate) unsafe fn uncaught(vmctx: *mut u8, exn: u64) -> anyhow::Error {
    // SAFETY: per the contract.
    let (_, s) = unsafe { context(vmctx) };
    let tag = Tag { store: s.id(), index: s.exceptions.get(exn).tag };
    let payload = payload_vals(s, exn);
    if !s.exceptions.get(exn).kept {
        s.exceptions.free(exn);
    }
    anyhow::Error::new(ThrownException { tag, payload })
}

/// The payload of live exception `exn` as values.
fn payload_vals(s: &StoreOpaque, exn: u64) -> Vec<Val> {
    let e = s.exceptions.get(exn);
    let types = &s.tags[e.tag].ty.params;
    e.payload.iter().zip(types.iter()).map(|(r, t)| Val::from_raw(s, *r, *t)).collect()
}
