//! The two views of guest memory: [`WasmStr`] and [`WasmList`], which a typed function's
//! result or a host function's parameter can be instead of `String` and `Vec<T>`, to read the
//! guest's data in place.
//!
//! A view is checked when it is lifted, as the canonical ABI requires (bounds, alignment,
//! length limits, and for a string its encoding), and holds only its address: it shows what
//! the guest's memory holds when it is read. A typed call's results are lifted before the
//! callee's post-return runs (inside the same `call`), so a view in a result is read after
//! post-return: if that freed or overwrote the value, the view gives the new bytes. Reading
//! checks the bounds (and a string's encoding) again, so a stale view gives other data or an
//! error, never undefined behaviour; lift `String` or `Vec<T>` to keep the returned value.

use super::canonical::{self, MemoryBounds, Pointee, StringAt, StringBytes, check_bounds, string_range};
use super::component_type::ComponentType;
use super::lift::{Lift, LiftContext, LiftSource, MemoryOrigin};
use super::store_memory::guest_memory;
use super::types::InterfaceType;
use super::values::Val;
use crate::store::{AsContext, AsContextMut};
use anyhow::{Context, Result, anyhow, bail};
use std::borrow::Cow;
use std::marker::PhantomData;

fn not_from_val(what: &str) -> anyhow::Error {
    anyhow!(
        "a {what} is a view of guest memory: it can only be lifted from a guest (as a typed function's \
         result or a host function's parameter, directly or inside a tuple, option, result or list), \
         not converted from a `Val`"
    )
}

/// A string in a guest's memory, lifted without copying (the component type `string`).
///
/// Its encoding was checked when it was lifted. [`WasmStr::to_str`] borrows it from the
/// memory when it is UTF-8, and decodes it when it is UTF-16 or Latin-1.
#[derive(Clone, Debug)]
pub struct WasmStr {
    ptr: u64,
    byte_len: u64,
    encoding: StringBytes,
    origin: MemoryOrigin,
}

impl WasmStr {
    /// The string, borrowed from the guest's memory when it is UTF-8.
    pub fn to_str<'a, T: 'a>(&self, store: &'a impl AsContext<Data = T>) -> Result<Cow<'a, str>> {
        let bytes = self.bytes(store.as_context())?;
        let at = StringAt { ptr: self.ptr, side: Some(self.origin.side) };
        match self.encoding {
            StringBytes::Utf8 => Ok(Cow::Borrowed(canonical::check_utf8(bytes, at)?)),
            other => Ok(Cow::Owned(canonical::decode_string(bytes, other, at)?)),
        }
    }

    /// The string's bytes in the guest's encoding (UTF-8, UTF-16LE or Latin-1).
    #[inline]
    pub fn as_bytes<'a, T: 'a>(&self, store: &'a impl AsContext<Data = T>) -> Result<&'a [u8]> {
        self.bytes(store.as_context())
    }

    /// The length of the string in the guest's memory, in bytes.
    #[inline]
    pub fn byte_len(&self) -> usize {
        self.byte_len as usize
    }

    #[inline]
    fn bytes<'a, T>(&self, store: &'a crate::StoreInner<T>) -> Result<&'a [u8]> {
        let data = self.origin.memory_bytes(store)?;
        let at = check_bounds(self.origin.bounds(data), Pointee::String, self.ptr, self.byte_len)?;
        Ok(&data[at..at + self.byte_len as usize])
    }
}

impl MemoryOrigin {
    /// The bounds of `data`, this origin's memory, for checks.
    #[inline]
    fn bounds(&self, data: &[u8]) -> MemoryBounds {
        MemoryBounds { len: data.len(), side: Some(self.side) }
    }

    /// The bytes of the memory, from the store it lives in.
    fn memory_bytes<'a, T>(&self, store: &'a crate::StoreInner<T>) -> Result<&'a [u8]> {
        let s = store.opaque();
        if s.id() != self.store {
            bail!("the view of guest memory is used with another store than its own");
        }
        let memory = self.options.memory.map(|m| s.component_instance(self.instance).memories[m]);
        Ok(memory.map_or(&[], |m| s.memory(m.index).data()))
    }
}

impl ComponentType for WasmStr {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::String
    }
}

impl Lift for WasmStr {
    const IN_PLACE: bool = true;

    #[inline]
    fn from_val(_: Val) -> Result<Self> {
        Err(not_from_val("WasmStr"))
    }

    fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
        let (ptr, units) = cx.pointer_pair(src, ty)?;
        let mem = MemoryBounds::of(&*cx.mem);
        let (encoding, range) = string_range(mem, cx.opts.string_encoding, cx.width(), ptr, units)?;
        let byte_len = range.len() as u64;
        let raw = &cx.mem.bytes()[range];
        let at = StringAt { ptr, side: mem.side };
        match encoding {
            StringBytes::Utf8 => canonical::validate_utf8(raw, at)?,
            StringBytes::Utf16 => {
                canonical::decode_string(raw, encoding, at)?;
            }
            StringBytes::Latin1 => {}
        }
        Ok(WasmStr { ptr, byte_len, encoding, origin: cx.origin.clone() })
    }
}

/// A list in a guest's memory, lifted without copying (the component type `list<T>`).
/// Elements are lifted when they are read.
#[derive(Clone, Debug)]
pub struct WasmList<T> {
    ptr: u64,
    len: u64,
    element: InterfaceType,
    origin: MemoryOrigin,
    _marker: PhantomData<fn() -> T>,
}

impl<T: Lift> WasmList<T> {
    /// The number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Lifts element `index`, or `None` past the end. Lifting an `own` handle moves it out of
    /// the guest's table, so it can be done once.
    pub fn get(&self, mut store: impl AsContextMut, index: usize) -> Option<Result<T>> {
        let index = index as u64;
        if index >= self.len {
            return None;
        }
        let store = store.as_context_mut();
        if store.opaque().id() != self.origin.store {
            return Some(Err(anyhow!("the view of guest memory is used with another store than its own")));
        }
        let (mut mem, opts) = guest_memory(store, self.origin.instance, &self.origin.options, self.origin.side);
        let mut cx = LiftContext { mem: &mut mem, opts, origin: self.origin.clone() };
        let size = u64::from(self.element.abi().size(cx.width()));
        Some(
            T::lift(&mut cx, &self.element, LiftSource::Memory(self.ptr + index * size))
                .with_context(|| format!("lifting element {index} of a list")),
        )
    }

    /// Lifts every element, in order.
    #[inline]
    pub fn iter<'a, S: AsContextMut + 'a>(&'a self, mut store: S) -> impl Iterator<Item = Result<T>> + 'a {
        (0..self.len()).map(move |i| self.get(&mut store, i).expect("the index is below the length"))
    }
}

impl WasmList<u8> {
    /// The bytes, borrowed from the guest's memory.
    #[inline]
    pub fn as_le_slice<'a, T: 'a>(&self, store: &'a impl AsContext<Data = T>) -> Result<&'a [u8]> {
        let data = self.origin.memory_bytes(store.as_context())?;
        let at = check_bounds(self.origin.bounds(data), Pointee::List, self.ptr, self.len)?;
        Ok(&data[at..at + self.len as usize])
    }
}

impl<T: ComponentType> ComponentType for WasmList<T> {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::list(T::ty())
    }
    #[inline]
    fn typecheck(ty: &InterfaceType) -> Result<()> {
        match ty.despecialized() {
            InterfaceType::List(l) => T::typecheck(l.element()).context("in the element type of a list"),
            _ => bail!("type mismatch: expected {ty}, found a Rust list type"),
        }
    }
}

impl<T: Lift> Lift for WasmList<T> {
    const IN_PLACE: bool = true;

    #[inline]
    fn from_val(_: Val) -> Result<Self> {
        Err(not_from_val("WasmList"))
    }

    fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
        let ty = ty.despecialized();
        let InterfaceType::List(list) = ty else { bail!("type mismatch: expected a list, found {ty}") };
        let (ptr, len) = cx.pointer_pair(src, ty)?;
        cx.check_list_range(list.element(), ptr, len)?;
        Ok(WasmList { ptr, len, element: list.element().clone(), origin: cx.origin.clone(), _marker: PhantomData })
    }
}
