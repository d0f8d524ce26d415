//! Lifting Rust values straight from a guest, and the two views of guest memory that need it:
//! [`WasmStr`] and [`WasmList`], which a typed function's result or a host function's
//! parameter can be instead of `String` and `Vec<T>`, to read the guest's data in place.
//!
//! Other types lift through [`Val`]; [`LiftContext`] and [`LiftSource`] let the containers of
//! a view (tuples, `Option`, `Result`, `Vec`) lift it in place too. A view is checked when it
//! is lifted, as the canonical ABI requires (bounds, alignment, length limits, and for a
//! string its encoding), and holds only its address: it stays valid until the guest changes
//! that memory, which it may do once `post_return` has run. Reading it again checks the bounds
//! again, so a stale view gives wrong data or an error, never undefined behaviour.

use super::canonical::{
    self, GuestMemory, StringBytes, check_bounds, check_list_range, check_value_at, read_uint, string_range,
};
use super::func::guest_memory;
use super::typed::{ComponentType, Lift};
use super::types::InterfaceType;
use super::values::Val;
use crate::store::{AsContext, AsContextMut, StoreId};
use anyhow::{Context, Result, anyhow, bail};
use std::borrow::Cow;
use std::marker::PhantomData;
use weld_environ::component::MemoryWidth;
use weld_environ::component::info::Options;

/// Where a lifted value comes from.
#[doc(hidden)]
pub enum LiftSource<'a> {
    /// Flat core values (raw `u64` bits), consumed in order.
    Flat(&'a mut dyn Iterator<Item = u64>),
    /// Linear memory at this address.
    Memory(u64),
}

/// What lifting a Rust value from a guest has at hand: the guest's memory and the canonical
/// options of the lift.
#[doc(hidden)]
pub struct LiftContext<'a> {
    pub(crate) mem: &'a mut dyn GuestMemory,
    pub(crate) opts: canonical::Options,
    /// Where the memory is, for views that outlive the lift.
    pub(crate) origin: MemoryOrigin,
}

/// The memory a view reads, and how to find it again in the store.
#[derive(Clone, Debug)]
pub(crate) struct MemoryOrigin {
    pub(crate) store: StoreId,
    /// The component instance (in the store).
    pub(crate) instance: usize,
    /// The canonical options of the lift.
    pub(crate) options: Options,
}

impl LiftContext<'_> {
    pub(crate) fn width(&self) -> MemoryWidth {
        MemoryWidth::from_memory64(self.mem.memory64())
    }

    /// Lifts a value of type `ty` as a [`Val`], with the canonical ABI's checks.
    pub(crate) fn lift_val(&mut self, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Val> {
        match src {
            LiftSource::Flat(mut flat) => canonical::lift_flat(self.mem, &self.opts, ty, &mut flat),
            LiftSource::Memory(ptr) => canonical::load(self.mem, &self.opts, ty, ptr),
        }
    }

    /// The raw bits of an integer (or `bool`) of `size` bytes, whose size is its alignment:
    /// the next flat value, or the little-endian value at a memory address (checked for
    /// alignment and bounds, as `load` does).
    pub(crate) fn scalar_bits(&mut self, src: LiftSource<'_>, size: u32) -> Result<u64> {
        match src {
            LiftSource::Flat(flat) => flat.next().ok_or_else(|| anyhow!("too few flat values")),
            LiftSource::Memory(ptr) => {
                canonical::check_align(ptr, size)?;
                read_uint(self.mem.bytes(), ptr, size)
            }
        }
    }

    /// A pointer-sized value: from the flat values (an `i32` keeps its low 32 bits) or from
    /// memory at `ptr`.
    fn pointer(&mut self, src: &mut LiftSource<'_>, index: u64) -> Result<u64> {
        let w = self.width();
        match src {
            LiftSource::Flat(flat) => {
                let x = flat.next().ok_or_else(|| anyhow!("too few flat values"))?;
                Ok(if w == MemoryWidth::Mem32 { u64::from(x as u32) } else { x })
            }
            LiftSource::Memory(ptr) => {
                read_uint(self.mem.bytes(), *ptr + index * u64::from(w.ptr_size()), w.ptr_size())
            }
        }
    }

    /// Checks that a value of `ty` at `ptr` is aligned and inside the memory.
    pub(crate) fn check_value_at(&self, ty: &InterfaceType, ptr: u64) -> Result<()> {
        check_value_at(self.mem.bytes().len(), ty, self.width(), ptr)
    }

    /// The spec's checks of `load_list_from_range`; returns the element size.
    fn check_list_range(&self, element: &InterfaceType, ptr: u64, len: u64) -> Result<u64> {
        check_list_range(self.mem.bytes().len(), element, self.width(), ptr, len)
    }

    /// A (pointer, length) pair, as strings and lists are passed.
    fn pointer_pair(&mut self, mut src: LiftSource<'_>, ty: &InterfaceType) -> Result<(u64, u64)> {
        if let LiftSource::Memory(ptr) = src {
            self.check_value_at(ty, ptr)?;
        }
        Ok((self.pointer(&mut src, 0)?, self.pointer(&mut src, 1)?))
    }
}

/// Lifts the fields of a record, or the elements of a tuple, one after another straight from
/// where the value is (flat core values or memory), without a `Val` for the whole: what
/// tuples' and derived records' `Lift::lift` do. Types were checked against the Rust types
/// when the typed function was made; record labels are checked again here, by position.
#[doc(hidden)]
pub struct FieldLifter<'c, 'a, 's> {
    cx: &'c mut LiftContext<'a>,
    /// A record or tuple type.
    ty: &'c InterfaceType,
    src: LiftSource<'s>,
    width: MemoryWidth,
    next: usize,
}

impl<'c, 'a, 's> FieldLifter<'c, 'a, 's> {
    /// Starts lifting a value of `ty`, a record or tuple type, from `src` (a memory address
    /// is checked for alignment and bounds first).
    pub(crate) fn new(cx: &'c mut LiftContext<'a>, ty: &'c InterfaceType, src: LiftSource<'s>) -> Result<Self> {
        if !matches!(ty, InterfaceType::Record(_) | InterfaceType::Tuple(_)) {
            bail!("type mismatch: expected a record or tuple, found {ty}");
        }
        if let LiftSource::Memory(ptr) = src {
            cx.check_value_at(ty, ptr)?;
        }
        let width = cx.width();
        Ok(FieldLifter { cx, ty, src, width, next: 0 })
    }

    /// The next field's label (records only), type and offset, if there is one.
    fn advance(&mut self) -> Option<(Option<&'c str>, &'c InterfaceType, u32)> {
        let (i, w) = (self.next, self.width);
        let next = match self.ty {
            InterfaceType::Record(r) => {
                let f = r.fields().get(i)?;
                (Some(f.name.as_str()), &f.ty, r.field_offsets(w)[i])
            }
            InterfaceType::Tuple(t) => (None, t.types().get(i)?, t.field_offsets(w)[i]),
            _ => return None,
        };
        self.next += 1;
        Some(next)
    }

    /// Lifts a `T` of type `ty` at `offset` in the value (the next flat values if flat).
    fn lift_at<T: Lift>(&mut self, ty: &InterfaceType, offset: u32) -> Result<T> {
        let src = match &mut self.src {
            LiftSource::Flat(flat) => LiftSource::Flat(&mut **flat),
            LiftSource::Memory(ptr) => LiftSource::Memory(*ptr + u64::from(offset)),
        };
        T::lift(self.cx, ty, src)
    }

    /// Lifts the next element of a tuple.
    pub(crate) fn element<T: Lift>(&mut self) -> Result<T> {
        let Some((_, ty, offset)) = self.advance() else { bail!("too few tuple elements") };
        self.lift_at(ty, offset)
    }

    /// Checks that a tuple has no elements left.
    pub(crate) fn finish_tuple(mut self) -> Result<()> {
        if self.advance().is_some() {
            bail!("too many tuple elements");
        }
        Ok(())
    }

    /// Lifts the next field of a record, which must be `label`.
    pub fn field<T: Lift>(&mut self, label: &str) -> Result<T> {
        let Some((name, ty, offset)) = self.advance() else { bail!("missing field \"{label}\"") };
        if let Some(name) = name
            && name != label
        {
            bail!("expected field \"{label}\", found \"{name}\"");
        }
        self.lift_at(ty, offset).with_context(|| format!("in field \"{label}\""))
    }
}

/// Lifts an `option` or `result` in place: reads the case, then lifts its payload (if it has
/// one) with `lift`, which gets the case index and the payload's type.
pub(crate) fn lift_variant_in_place<R>(
    cx: &mut LiftContext<'_>,
    ty: &InterfaceType,
    src: LiftSource<'_>,
    lift: impl FnOnce(&mut LiftContext<'_>, u64, Option<&InterfaceType>, LiftSource<'_>) -> Result<R>,
) -> Result<R> {
    let w = cx.width();
    match src {
        LiftSource::Flat(flat) => {
            let case = flat.next().ok_or_else(|| anyhow!("too few flat values"))?;
            let (payload, _) = canonical::variant_case(ty, case)?;
            // The payload takes the first of the joined slots; the rest are skipped.
            let count = |t: &InterfaceType| t.abi().flat_count.map_or(0, usize::from);
            let slots = count(ty).saturating_sub(1);
            let used = payload.map_or(0, count);
            let mut taken = (&mut *flat).take(used);
            let value = lift(cx, case, payload, LiftSource::Flat(&mut taken))?;
            for _ in used..slots {
                flat.next();
            }
            Ok(value)
        }
        LiftSource::Memory(ptr) => {
            cx.check_value_at(ty, ptr)?;
            let (_, layout) = canonical::variant_case(ty, 0)?;
            let case = read_uint(cx.mem.bytes(), ptr, layout.discriminant_size)?;
            let (payload, layout) = canonical::variant_case(ty, case)?;
            let at = ptr + u64::from(layout.payload_offset(w));
            lift(cx, case, payload, LiftSource::Memory(at))
        }
    }
}

/// Lifts a `list<T>` in place, element by element.
pub(crate) fn lift_list_in_place<T: Lift>(
    cx: &mut LiftContext<'_>,
    ty: &InterfaceType,
    src: LiftSource<'_>,
) -> Result<Vec<T>> {
    let ty = ty.despecialized();
    let InterfaceType::List(list) = ty else { bail!("type mismatch: expected a list, found {ty}") };
    let (ptr, len) = cx.pointer_pair(src, ty)?;
    let size = cx.check_list_range(list.element(), ptr, len)?;
    (0..len).map(|i| T::lift(cx, list.element(), LiftSource::Memory(ptr + i * size))).collect()
}

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
        match self.encoding {
            StringBytes::Utf8 => Ok(Cow::Borrowed(canonical::check_utf8(bytes, self.ptr)?)),
            other => Ok(Cow::Owned(canonical::decode_string(bytes, other, self.ptr)?)),
        }
    }

    /// The string's bytes in the guest's encoding (UTF-8, UTF-16LE or Latin-1).
    pub fn as_bytes<'a, T: 'a>(&self, store: &'a impl AsContext<Data = T>) -> Result<&'a [u8]> {
        self.bytes(store.as_context())
    }

    /// The length of the string in the guest's memory, in bytes.
    pub fn byte_len(&self) -> usize {
        self.byte_len as usize
    }

    fn bytes<'a, T>(&self, store: &'a crate::StoreInner<T>) -> Result<&'a [u8]> {
        let data = self.origin.memory_bytes(store)?;
        let at = check_bounds(data.len(), "string", self.ptr, self.byte_len)?;
        Ok(&data[at..at + self.byte_len as usize])
    }
}

impl MemoryOrigin {
    /// The bytes of the memory, from the store it lives in.
    fn memory_bytes<'a, T>(&self, store: &'a crate::StoreInner<T>) -> Result<&'a [u8]> {
        let s = store.opaque();
        if s.id() != self.store {
            bail!("the view of guest memory is used with another store than its own");
        }
        let memory = self.options.memory.map(|m| s.component_instance(self.instance).memories[m.0 as usize]);
        Ok(memory.map_or(&[], |m| s.memory(m.index).data()))
    }
}

impl ComponentType for WasmStr {
    fn ty() -> InterfaceType {
        InterfaceType::String
    }
}

impl Lift for WasmStr {
    const IN_PLACE: bool = true;

    fn from_val(_: Val) -> Result<Self> {
        Err(not_from_val("WasmStr"))
    }

    fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
        let (ptr, units) = cx.pointer_pair(src, ty)?;
        let bytes = cx.mem.bytes();
        let (encoding, range) = string_range(bytes.len(), &cx.opts, cx.width(), ptr, units)?;
        let byte_len = range.len() as u64;
        let raw = &bytes[range];
        match encoding {
            StringBytes::Utf8 => canonical::validate_utf8(raw, ptr)?,
            StringBytes::Utf16 => {
                canonical::decode_string(raw, encoding, ptr)?;
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
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list is empty.
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
        let (mut mem, opts) = guest_memory(store, self.origin.instance, &self.origin.options);
        let mut cx = LiftContext { mem: &mut mem, opts, origin: self.origin.clone() };
        let size = u64::from(self.element.abi().size(cx.width()));
        Some(
            T::lift(&mut cx, &self.element, LiftSource::Memory(self.ptr + index * size))
                .with_context(|| format!("lifting element {index} of a list")),
        )
    }

    /// Lifts every element, in order.
    pub fn iter<'a, S: AsContextMut + 'a>(&'a self, mut store: S) -> impl Iterator<Item = Result<T>> + 'a {
        (0..self.len()).map(move |i| self.get(&mut store, i).expect("the index is below the length"))
    }
}

impl WasmList<u8> {
    /// The bytes, borrowed from the guest's memory.
    pub fn as_le_slice<'a, T: 'a>(&self, store: &'a impl AsContext<Data = T>) -> Result<&'a [u8]> {
        let data = self.origin.memory_bytes(store.as_context())?;
        let at = check_bounds(data.len(), "list content", self.ptr, self.len)?;
        Ok(&data[at..at + self.len as usize])
    }
}

impl<T: ComponentType> ComponentType for WasmList<T> {
    fn ty() -> InterfaceType {
        InterfaceType::list(T::ty())
    }
    fn typecheck(ty: &InterfaceType) -> Result<()> {
        match ty.despecialized() {
            InterfaceType::List(l) => T::typecheck(l.element()).context("in the element type of a list"),
            _ => bail!("type mismatch: expected {ty}, found a Rust list type"),
        }
    }
}

impl<T: Lift> Lift for WasmList<T> {
    const IN_PLACE: bool = true;

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
