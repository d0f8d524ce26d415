//! Lifting: the [`Lift`] trait, and what lifting a Rust value straight from a guest has at
//! hand ([`LiftContext`]: the guest's memory and the canonical options; [`LiftSource`]: flat
//! core values or an address), with the helpers that records, tuples, variants and lists use
//! to lift their parts in place.
//!
//! Integers, `bool`s, floats, `char`s, strings, tuples, lists (element by element), derived
//! records, variants and enums, options, results and views of guest memory (`views.rs`) lift
//! in place, with the checks and traps of `canonical/`; the rest (maps, `flags!` types) lift
//! through a [`Val`] with those same checks.
//!
//! A record, tuple or list element in memory is checked once for alignment and bounds, its
//! bytes (up to 128 of them, or a list's elements 512 bytes at a time) copied out of memory,
//! and its parts lifted from the copy ([`LiftSource::Copied`]): reading each field through
//! the memory's accessors, with an alignment check per field, was most of the cost of lifting
//! a record of integers.

use super::canonical::{
    self, GuestMemory, MemoryBounds, Pointee, check_list_range, check_value_at, read_pointer_pair, read_uint,
};
use super::component_type::ComponentType;
use super::types::{Field, InterfaceType};
use super::values::Val;
use crate::ValRaw;
use crate::handles::ComponentInstanceId;
use crate::handles::StoreId;
use anyhow::{Context, Result, anyhow, bail};
use weld_environ::component::adapt::CallSide;
use weld_environ::component::info::Options;
use weld_environ::component::{FlatType, MemoryWidth};

/// A Rust value that can be lifted out of a component (received from a guest).
pub trait Lift: ComponentType + Sized {
    /// Converts a component value that has been checked against `Self::ty()`.
    fn from_val(val: Val) -> Result<Self>;

    /// Whether this type must be lifted in place (it is or contains a view of guest memory,
    /// [`WasmStr`](super::WasmStr) or [`WasmList`](super::WasmList)) rather than through a
    /// [`Val`].
    #[doc(hidden)]
    const IN_PLACE: bool = false;

    /// Lifts a value of type `ty` from a guest. The default goes through a [`Val`]; the std
    /// types, views of guest memory and derived records, variants and enums lift in place.
    #[doc(hidden)]
    #[inline]
    fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
        lift_through_val(cx, ty, src)
    }

    /// For a type with a [`ComponentType::SCALAR_SIZE`]: the value of a flat core value, or
    /// of its `SCALAR_SIZE` bytes read from memory (zero-extended), with the checks `lift`
    /// makes (a `char`'s code point). Never called for other types.
    #[doc(hidden)]
    #[inline]
    fn from_scalar_bits(bits: u64) -> Result<Self> {
        let _ = bits;
        anyhow::bail!("bug: a type without a scalar size was lifted as a scalar")
    }

    /// Whether a list of this type is lifted as one copy of its bytes (`u8`), with
    /// [`Lift::list_from_bytes`].
    #[doc(hidden)]
    const BYTES: bool = false;

    /// The list whose bytes are `bytes`, for a type whose `BYTES` is true (others never get
    /// here, and return an empty list).
    #[doc(hidden)]
    #[inline]
    fn list_from_bytes(bytes: &[u8]) -> Vec<Self> {
        let _ = bytes;
        Vec::new()
    }

    /// Appends the elements whose bytes are `bytes` to `buf` (as [`Lift::list_from_bytes`],
    /// into a vector that keeps its room: `u8` copies straight in).
    #[doc(hidden)]
    #[inline]
    fn extend_from_bytes(buf: &mut Vec<Self>, bytes: &[u8]) {
        buf.extend(Self::list_from_bytes(bytes));
    }
}

/// Lifts a `T` through a [`Val`]: the default of [`Lift::lift`], and what containers do when
/// they hold no view of guest memory.
#[inline]
pub(crate) fn lift_through_val<T: Lift>(
    cx: &mut LiftContext<'_>,
    ty: &InterfaceType,
    src: LiftSource<'_>,
) -> Result<T> {
    T::from_val(cx.lift_val(ty, src)?)
}

/// The bits of a flat core value of type `ty` in a raw slot.
#[inline]
pub(crate) fn read_flat(slot: ValRaw, ty: FlatType) -> u64 {
    match ty {
        FlatType::I32 | FlatType::F32 => u64::from(slot.get_u64() as u32),
        FlatType::I64 | FlatType::F64 => slot.get_u64(),
    }
}

/// Where a lifted value comes from.
#[doc(hidden)]
pub enum LiftSource<'a> {
    /// Flat core values (raw `u64` bits), consumed in order.
    Flat(&'a mut dyn Iterator<Item = u64>),
    /// Linear memory at this address.
    Memory(u64),
    /// A copy of the bytes of a value whose address, `ptr`, was checked for alignment and
    /// bounds when it was copied: `bytes` starts with the value and holds at least its size.
    /// Records, tuples and lists copy a small value's bytes out of memory once and lift its
    /// parts from the copy, rather than checking and reading memory for each part.
    Copied {
        /// The value's bytes, and perhaps more after them.
        bytes: &'a [u8],
        /// Where the value is in linear memory.
        ptr: u64,
    },
}

/// The largest record or tuple whose bytes [`FieldLifter`] copies out of memory (larger ones
/// are read field by field, in place).
const COPY_LIMIT: usize = 128;

/// How many bytes of a list's elements are copied at once by [`lift_list_in_place`].
const LIST_CHUNK: usize = 512;

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
    pub(crate) instance: ComponentInstanceId,
    /// The canonical options of the lift.
    pub(crate) options: Options,
    /// Whose memory it is in the call the view was lifted in (for trap messages).
    pub(crate) side: CallSide,
}

impl MemoryOrigin {
    /// The origin of values lifted with `options` from instance `instance` of store `store`.
    /// Only what lifting reads is kept: the `callback` of an async lift is left out, which
    /// makes this a copy of a few words rather than a clone.
    #[inline]
    pub(crate) fn new(store: StoreId, instance: ComponentInstanceId, options: &Options, side: CallSide) -> Self {
        let options = Options {
            instance: options.instance,
            string_encoding: options.string_encoding,
            memory: options.memory,
            memory64: options.memory64,
            realloc: options.realloc,
            post_return: options.post_return,
            async_: options.async_,
            callback: None,
        };
        MemoryOrigin { store, instance, options, side }
    }
}

impl LiftContext<'_> {
    #[inline]
    pub(crate) fn width(&self) -> MemoryWidth {
        MemoryWidth::from_memory64(self.mem.memory64())
    }

    /// Lifts a value of type `ty` as a [`Val`], with the canonical ABI's checks.
    #[inline]
    pub(crate) fn lift_val(&mut self, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Val> {
        match src {
            LiftSource::Flat(mut flat) => canonical::lift_flat(self.mem, &self.opts, ty, &mut flat),
            LiftSource::Memory(ptr) | LiftSource::Copied { ptr, .. } => canonical::load(self.mem, &self.opts, ty, ptr),
        }
    }

    /// The raw bits of an integer (or `bool`) of `size` bytes, whose size is its alignment:
    /// the next flat value, or the little-endian value at a memory address (checked for
    /// alignment and bounds, as `load` does).
    #[inline]
    pub(crate) fn scalar_bits(&mut self, src: LiftSource<'_>, size: u32) -> Result<u64> {
        match src {
            LiftSource::Flat(flat) => flat.next().ok_or_else(|| anyhow!("too few flat values")),
            LiftSource::Memory(ptr) => {
                canonical::check_align(self.mem.side(), Pointee::Value, ptr, size)?;
                read_uint(self.mem.bytes(), ptr, size)
            }
            LiftSource::Copied { bytes, .. } => read_uint(bytes, 0, size),
        }
    }

    /// The string of `tagged_units` code units at `ptr`, in the options' encoding, with the
    /// spec's checks of `load_string_from_range`.
    #[inline]
    pub(crate) fn string(&self, ptr: u64, tagged_units: u64) -> Result<String> {
        canonical::load_string(self.mem.bytes(), self.mem.side(), &self.opts, self.width(), ptr, tagged_units)
    }

    /// A string lifted from `src` (its pointer and length, flat or in memory) with the spec's
    /// checks: what `String`'s `Lift` does. From memory, the bytes, the side and the width
    /// are asked for once (each is a dynamic call), not again by each step.
    #[inline]
    pub(crate) fn lift_string(&mut self, src: LiftSource<'_>, ty: &InterfaceType) -> Result<String> {
        if let LiftSource::Memory(at) = src {
            let w = self.width();
            let (bytes, side) = (self.mem.bytes(), self.mem.side());
            check_value_at(MemoryBounds { len: bytes.len(), side }, ty, w, at)?;
            let (ptr, units) = read_pointer_pair(bytes, at, w.ptr_size())?;
            return canonical::load_string(bytes, side, &self.opts, w, ptr, units);
        }
        let (ptr, units) = self.pointer_pair(src, ty)?;
        self.string(ptr, units)
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
            LiftSource::Copied { bytes, .. } => read_uint(bytes, index * u64::from(w.ptr_size()), w.ptr_size()),
        }
    }

    /// Checks that a value of `ty` at `ptr` is aligned and inside the memory.
    #[inline]
    pub(crate) fn check_value_at(&self, ty: &InterfaceType, ptr: u64) -> Result<()> {
        check_value_at(MemoryBounds::of(&*self.mem), ty, self.width(), ptr)
    }

    /// The spec's checks of `load_list_from_range`; returns the element size.
    #[inline]
    pub(crate) fn check_list_range(&self, element: &InterfaceType, ptr: u64, len: u64) -> Result<u64> {
        check_list_range(MemoryBounds::of(&*self.mem), element, self.width(), ptr, len)
    }

    /// A (pointer, length) pair, as strings and lists are passed.
    #[inline]
    pub(crate) fn pointer_pair(&mut self, mut src: LiftSource<'_>, ty: &InterfaceType) -> Result<(u64, u64)> {
        if let LiftSource::Memory(ptr) = src {
            self.check_value_at(ty, ptr)?;
            // Both read from one look at the memory.
            return read_pointer_pair(self.mem.bytes(), ptr, self.width().ptr_size());
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
    fields: Fields<'c>,
    /// The offset of each field in memory (as many as there are fields).
    offsets: &'c [u32],
    src: FieldSource<'s>,
    next: usize,
    /// The value's bytes, when `src` is [`FieldSource::Copied`].
    copy: [u8; COPY_LIMIT],
}

/// The fields of a record, or the elements of a tuple.
#[derive(Clone, Copy)]
enum Fields<'c> {
    Record(&'c [Field]),
    Tuple(&'c [InterfaceType]),
}

/// Where a [`FieldLifter`]'s fields come from.
enum FieldSource<'s> {
    Flat(&'s mut dyn Iterator<Item = u64>),
    /// A value too large to copy, at this (checked) address.
    Memory(u64),
    /// The copy of the caller's (from a [`LiftSource::Copied`]), and the value's address.
    Borrowed(&'s [u8], u64),
    /// The lifter's own copy of the value at this (checked) address.
    Copied(u64),
}

impl<'c, 'a, 's> FieldLifter<'c, 'a, 's> {
    /// Starts lifting a value of `ty`, a record or tuple type, from `src` (a memory address
    /// is checked for alignment and bounds first).
    #[inline(always)]
    pub(crate) fn new(cx: &'c mut LiftContext<'a>, ty: &'c InterfaceType, src: LiftSource<'s>) -> Result<Self> {
        let width = cx.width();
        let (fields, offsets) = match ty {
            InterfaceType::Record(r) => (Fields::Record(r.fields()), r.field_offsets(width)),
            InterfaceType::Tuple(t) => (Fields::Tuple(t.types()), t.field_offsets(width)),
            _ => bail!("type mismatch: expected a record or tuple, found {ty}"),
        };
        let mut copy = [0; COPY_LIMIT];
        let src = match src {
            LiftSource::Flat(flat) => FieldSource::Flat(flat),
            LiftSource::Copied { bytes, ptr } => FieldSource::Borrowed(bytes, ptr),
            LiftSource::Memory(ptr) => {
                cx.check_value_at(ty, ptr)?;
                let size = ty.abi().size(width) as usize;
                if size <= COPY_LIMIT {
                    copy[..size].copy_from_slice(&cx.mem.bytes()[ptr as usize..][..size]);
                    FieldSource::Copied(ptr)
                } else {
                    FieldSource::Memory(ptr)
                }
            }
        };
        Ok(FieldLifter { cx, fields, offsets, src, next: 0, copy })
    }

    /// The next field's label (records only), type and offset, if there is one.
    #[inline]
    fn advance(&mut self) -> Option<(Option<&'c str>, &'c InterfaceType, u32)> {
        let i = self.next;
        let offset = *self.offsets.get(i)?;
        self.next += 1;
        Some(match self.fields {
            Fields::Record(fields) => (Some(fields[i].name.as_str()), &fields[i].ty, offset),
            Fields::Tuple(types) => (None, &types[i], offset),
        })
    }

    /// Lifts a `T` of type `ty` at `offset` in the value (the next flat values if flat).
    #[inline]
    fn lift_at<T: Lift>(&mut self, ty: &InterfaceType, offset: u32) -> Result<T> {
        let at = offset as usize;
        let src = match &mut self.src {
            FieldSource::Flat(flat) => LiftSource::Flat(&mut **flat),
            FieldSource::Memory(ptr) => LiftSource::Memory(*ptr + u64::from(offset)),
            FieldSource::Borrowed(bytes, ptr) => {
                LiftSource::Copied { bytes: &bytes[at..], ptr: *ptr + u64::from(offset) }
            }
            FieldSource::Copied(ptr) => LiftSource::Copied { bytes: &self.copy[at..], ptr: *ptr + u64::from(offset) },
        };
        T::lift(self.cx, ty, src)
    }

    /// Lifts the next element of a tuple.
    #[inline]
    pub(crate) fn element<T: Lift>(&mut self) -> Result<T> {
        let Some((_, ty, offset)) = self.advance() else { bail!("too few tuple elements") };
        self.lift_at(ty, offset)
    }

    /// Checks that a tuple has no elements left.
    #[inline]
    pub(crate) fn finish_tuple(mut self) -> Result<()> {
        if self.advance().is_some() {
            bail!("too many tuple elements");
        }
        Ok(())
    }

    /// Lifts the next field of a record, which must be `label`.
    ///
    /// The names are not compared again: the derived type's `typecheck` compared them when the
    /// typed function or the host function was made (comparing ten names cost an echo of a
    /// record of ten `u32` a fifth of its time).
    pub fn field<T: Lift>(&mut self, label: &str) -> Result<T> {
        let Some((name, ty, offset)) = self.advance() else { bail!("missing field \"{label}\"") };
        debug_assert!(name.is_none_or(|name| name == label), "field {name:?} lifted as \"{label}\"");
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
        LiftSource::Copied { bytes, ptr } => {
            let (_, layout) = canonical::variant_case(ty, 0)?;
            let case = read_uint(bytes, 0, layout.discriminant_size)?;
            let (payload, layout) = canonical::variant_case(ty, case)?;
            let offset = layout.payload_offset(w);
            let src = LiftSource::Copied { bytes: &bytes[offset as usize..], ptr: ptr + u64::from(offset) };
            lift(cx, case, payload, src)
        }
    }
}

/// The bytes of a `list<u8>` in the guest's memory, with the spec's checks of the list's
/// range (alignment and bounds).
pub(crate) fn lift_byte_list<'m>(
    cx: &'m mut LiftContext<'_>,
    ty: &InterfaceType,
    src: LiftSource<'_>,
) -> Result<&'m [u8]> {
    let ty = ty.despecialized();
    let InterfaceType::List(list) = ty else { bail!("type mismatch: expected a list, found {ty}") };
    if !matches!(list.element(), InterfaceType::U8) {
        bail!("type mismatch: expected a list<u8>, found {ty}");
    }
    let (ptr, len) = cx.pointer_pair(src, ty)?;
    cx.check_list_range(list.element(), ptr, len)?;
    Ok(&cx.mem.bytes()[ptr as usize..(ptr + len) as usize])
}

/// Lifts a `list<T>` in place, element by element.
#[inline]
pub(crate) fn lift_list_in_place<T: Lift>(
    cx: &mut LiftContext<'_>,
    ty: &InterfaceType,
    src: LiftSource<'_>,
) -> Result<Vec<T>> {
    let ty = ty.despecialized();
    let InterfaceType::List(list) = ty else { bail!("type mismatch: expected a list, found {ty}") };
    let (ptr, len) = cx.pointer_pair(src, ty)?;
    let size = cx.check_list_range(list.element(), ptr, len)?;
    let element = list.element();
    if size == 0 || size > LIST_CHUNK as u64 {
        return (0..len).map(|i| T::lift(cx, element, LiftSource::Memory(ptr + i * size))).collect();
    }
    // The range was checked, so `len` elements of `size` bytes fit in memory.
    let mut out = Vec::with_capacity(len as usize);
    let mut chunk = [0; LIST_CHUNK];
    let per_chunk = LIST_CHUNK as u64 / size;
    let mut first = 0;
    while first < len {
        let count = per_chunk.min(len - first);
        let (start, bytes) = (ptr + first * size, (count * size) as usize);
        chunk[..bytes].copy_from_slice(&cx.mem.bytes()[start as usize..][..bytes]);
        for i in 0..count {
            let at = (i * size) as usize;
            out.push(T::lift(cx, element, LiftSource::Copied { bytes: &chunk[at..bytes], ptr: start + i * size })?);
        }
        first += count;
    }
    Ok(out)
}
