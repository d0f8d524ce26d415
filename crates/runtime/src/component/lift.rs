//! Lifting: the [`Lift`] trait, and what lifting a Rust value straight from a guest has at
//! hand ([`LiftContext`]: the guest's memory and the canonical options; [`LiftSource`]: flat
//! core values or an address), with the helpers that records, tuples, variants and lists use
//! to lift their parts in place.
//!
//! Integers, `bool`s, tuples, lists (element by element), derived records and variants, views
//! of guest memory (`views.rs`) and the containers of views (`Option`, `Result`) lift in
//! place, with the checks and traps of `canonical/`; the rest (floats, `char`s, strings,
//! enums, flags, and options and results of those) lift through a [`Val`] with those same
//! checks.

use super::canonical::{self, GuestMemory, MemoryBounds, Pointee, check_list_range, check_value_at, read_uint};
use super::component_type::ComponentType;
use super::types::{FuncType, InterfaceType};
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

    /// Lifts a value of type `ty` from a guest. The default goes through a [`Val`]; views of
    /// guest memory and their containers lift in place.
    #[doc(hidden)]
    #[inline]
    fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
        lift_through_val(cx, ty, src)
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

/// A function's parameters as one tuple type.
#[inline]
pub(crate) fn params_tuple(ty: &FuncType) -> InterfaceType {
    InterfaceType::tuple(ty.param_types().cloned())
}

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
    pub(crate) instance: ComponentInstanceId,
    /// The canonical options of the lift.
    pub(crate) options: Options,
    /// Whose memory it is in the call the view was lifted in (for trap messages).
    pub(crate) side: CallSide,
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
                canonical::check_align(self.mem.side(), Pointee::Value, ptr, size)?;
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
    #[inline]
    fn lift_at<T: Lift>(&mut self, ty: &InterfaceType, offset: u32) -> Result<T> {
        let src = match &mut self.src {
            LiftSource::Flat(flat) => LiftSource::Flat(&mut **flat),
            LiftSource::Memory(ptr) => LiftSource::Memory(*ptr + u64::from(offset)),
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
    (0..len).map(|i| T::lift(cx, list.element(), LiftSource::Memory(ptr + i * size))).collect()
}
