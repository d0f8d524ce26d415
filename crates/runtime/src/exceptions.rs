//! Wasm exceptions on the host side: tags ([`Tag`], [`TagType`]), the store's exception
//! objects, the libcalls that create and read them, and [`ThrownException`], the error an
//! uncaught exception becomes.
//!
//! A tag's identity is the address of a word the store owns for it, so comparing two tags is
//! comparing two pointers, which is what the unwinder does (`vm/unwind.rs`); a module that
//! imports a tag gets the exporter's pointer in its `vmctx`. An exception object holds its tag
//! and its payload as raw values; an `exnref` is its slot number plus one (0 is null). An
//! exception caught by `catch`/`catch_all` is freed when its payload is read; one that was
//! ever handed out as an `exnref` lives as long as the store (there is no collector), as do
//! `externref`s.

use crate::handles::{ExnRef, Tag};
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::vm::exception_heap::{Exception, VmTag};
use crate::vm::valraw::ValRaw;
use crate::vm::vmcontext::InstanceData;
use crate::{TagType, Val};
use anyhow::Result;
use std::fmt;
use weld_environ::TagIndex;

impl Tag {
    /// A new tag of type `ty`, distinct from every other.
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        let s = store.as_context_mut().opaque_mut();
        let index = s.tags.push(VmTag::new(ty.ty().clone()));
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
        let e = s.exceptions.get(self.raw);
        let types = &s.tags[e.tag].ty.params;
        e.payload.iter().zip(types.iter()).map(|(r, t)| Val::from_raw(s, *r, *t)).collect()
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

/// The instance and store of a libcall's caller.
///
/// # Safety
/// `vmctx` must be a live instance's VMContext, passed by JIT code of that instance.
unsafe fn context<'a>(vmctx: *mut u8) -> (&'a mut InstanceData, &'a mut StoreOpaque) {
    // SAFETY: as `libcalls::context`.
    unsafe {
        let inst = InstanceData::from_vmctx(vmctx);
        let store = &mut *inst.store.cast::<StoreOpaque>();
        (inst, store)
    }
}

/// `ExnNew`: a new exception of the caller's tag `tag` with the payload at `payload`.
pub(crate) unsafe extern "C" fn exn_new(vmctx: *mut u8, tag: u32, payload: *const ValRaw) -> u64 {
    // SAFETY: called by JIT code with its own vmctx.
    let (inst, s) = unsafe { context(vmctx) };
    let tag = inst.tags[TagIndex::from_u32(tag)];
    let n = s.tags[tag].ty.params.len();
    // SAFETY: compiled code stored the tag's `n` payload values at `payload`.
    let payload: Box<[ValRaw]> = unsafe { std::slice::from_raw_parts(payload, n) }.into();
    s.exceptions.alloc(Exception { tag, payload, kept: false })
}

/// `ExnTakePayload`: copies the payload of `exn` to `out` (unless null) and frees it unless it
/// was kept.
pub(crate) unsafe extern "C" fn exn_take_payload(vmctx: *mut u8, exn: u64, out: *mut ValRaw) {
    // SAFETY: called by JIT code with its own vmctx.
    let (_, s) = unsafe { context(vmctx) };
    let e = s.exceptions.get(exn);
    if !out.is_null() {
        // SAFETY: compiled code gives room for the tag's payload at `out`.
        unsafe { std::ptr::copy_nonoverlapping(e.payload.as_ptr(), out, e.payload.len()) };
    }
    if !e.kept {
        s.exceptions.free(exn);
    }
}

/// `ExnKeep`: marks `exn` as handed out and returns the address of its payload.
pub(crate) unsafe extern "C" fn exn_keep(vmctx: *mut u8, exn: u64) -> *const ValRaw {
    // SAFETY: called by JIT code with its own vmctx.
    let (_, s) = unsafe { context(vmctx) };
    let e = s.exceptions.get_mut(exn);
    e.kept = true;
    e.payload.as_ptr()
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
    let e = s.exceptions.get(exn);
    let tag = Tag { store: s.id(), index: e.tag };
    let types = s.tags[e.tag].ty.params.clone();
    let raw = e.payload.clone();
    if !e.kept {
        s.exceptions.free(exn);
    }
    let payload = raw.iter().zip(types.iter()).map(|(r, t)| Val::from_raw(s, *r, *t)).collect();
    anyhow::Error::new(ThrownException { tag, payload })
}
