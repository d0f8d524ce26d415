//! Lowering: the [`Lower`] trait, and lowering typed Rust values straight into a guest
//! ([`LowerContext`], [`LowerDest`]), what [`Lower::lower`] does: primitives, tuples, lists,
//! options, results, derived records, variants and enums, and strings write their parts
//! where they go, without first building a [`Val`] (whose records and strings own their
//! labels and bytes). Every other type (maps, `flags!` types) is lowered through its `Val`,
//! by the canonical ABI code of `canonical/`, so the checks and layout are the same either
//! way.
//!
//! The types were checked when the typed function was made; values are not checked again.

use super::canonical::{self, GuestMemory};
use super::component_type::ComponentType;
use super::types::InterfaceType;
use super::values::Val;
use anyhow::{Result, bail};
use weld_environ::component::MemoryWidth;
use weld_environ::component::adapt::CallSide;

/// How many bytes of a list's elements [`LowerContext::lower_list`] lowers apart from the
/// guest's memory before copying them in.
const LIST_CHUNK: usize = 2048;

/// Whether values of `ty` lower without calling `realloc` or touching the handle table: no
/// strings, lists, maps or handles (async ones included) inside.
fn lowers_apart_from_memory(ty: &InterfaceType) -> bool {
    use InterfaceType as T;
    match ty {
        T::Bool | T::S8 | T::U8 | T::S16 | T::U16 | T::S32 | T::U32 | T::S64 | T::U64 => true,
        T::F32 | T::F64 | T::Char | T::Enum(_) | T::Flags(_) => true,
        T::String | T::List(_) | T::Map(_) | T::Own(_) | T::Borrow(_) => false,
        T::Future(_) | T::Stream(_) | T::ErrorContext => false,
        T::FixedList(list) => lowers_apart_from_memory(list.element()),
        T::Record(r) => r.fields().iter().all(|f| lowers_apart_from_memory(&f.ty)),
        T::Tuple(t) => t.types().iter().all(lowers_apart_from_memory),
        T::Variant(v) => v.cases().iter().filter_map(|c| c.ty.as_ref()).all(lowers_apart_from_memory),
        T::Option(o) => lowers_apart_from_memory(o.some()),
        T::Result(r) => r.ok().into_iter().chain(r.err()).all(lowers_apart_from_memory),
    }
}

/// A value's bytes apart from the guest's memory, starting at address 0: where a value with
/// a [`LowerDest::Bytes`] destination is stored when it is lowered through its `Val`.
struct ChunkMemory<'b> {
    bytes: &'b mut [u8],
    memory64: bool,
    side: Option<CallSide>,
}

impl GuestMemory for ChunkMemory<'_> {
    fn bytes(&self) -> &[u8] {
        self.bytes
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self.bytes
    }

    fn realloc(&mut self, _: u64, _: u64, _: u32, _: u64) -> Result<u64> {
        bail!("bug: an element lowered apart from the guest's memory called realloc")
    }

    fn memory64(&self) -> bool {
        self.memory64
    }

    fn side(&self) -> Option<CallSide> {
        self.side
    }
}

/// A Rust value that can be lowered into a component (passed to a guest).
pub trait Lower: ComponentType {
    /// The value as a component value.
    fn to_val(&self) -> Val;

    /// Lowers the value, of type `ty` (checked against `Self::ty()` beforehand), into a guest.
    /// The default goes through a [`Val`]; the std types and derived records, variants and
    /// enums write their parts directly.
    #[doc(hidden)]
    #[inline]
    fn lower(&self, cx: &mut LowerContext<'_>, ty: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        cx.lower_val(&self.to_val(), ty, dst)
    }

    /// For a type with a [`ComponentType::SCALAR_SIZE`]: the value's flat bits and the bits
    /// whose low `SCALAR_SIZE` bytes are its little-endian bytes in memory (they differ for
    /// signed integers narrower than 32 bits, sign-extended when flat). Unused otherwise.
    #[doc(hidden)]
    #[inline]
    fn scalar_bits(&self) -> (u64, u64) {
        (0, 0)
    }

    /// `items` as bytes, when a list of this type is stored as one copy of them (`u8`); lists
    /// of other types are lowered element by element.
    #[doc(hidden)]
    #[inline]
    fn list_as_bytes(items: &[Self]) -> Option<&[u8]>
    where
        Self: Sized,
    {
        let _ = items;
        None
    }
}

/// Where a lowered value goes.
#[doc(hidden)]
pub enum LowerDest<'a> {
    /// Flat core values (raw `u64` bits), appended in order.
    Flat(&'a mut Vec<u64>),
    /// Linear memory at this address, which the caller checked for the value's size and
    /// alignment.
    Memory(u64),
    /// The value's bytes, which the caller copies into memory afterwards: what the elements
    /// of a list lowered a chunk at a time get (see [`LowerContext::lower_list`]).
    Bytes(&'a mut [u8]),
}

/// What lowering a Rust value into a guest has at hand: the guest's memory and `realloc`, and
/// the canonical options of the call.
#[doc(hidden)]
pub struct LowerContext<'a> {
    pub(crate) mem: &'a mut dyn GuestMemory,
    pub(crate) opts: canonical::Options,
}

impl LowerContext<'_> {
    #[inline]
    fn width(&self) -> MemoryWidth {
        MemoryWidth::from_memory64(self.mem.memory64())
    }

    /// Lowers `val`, of type `ty`, to `dst`: the default of `Lower::lower`.
    #[inline]
    pub(crate) fn lower_val(&mut self, val: &Val, ty: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        match dst {
            LowerDest::Flat(out) => canonical::lower_flat_unchecked(self.mem, &self.opts, val, ty, out),
            LowerDest::Memory(ptr) => canonical::store_unchecked(self.mem, &self.opts, val, ty, ptr),
            LowerDest::Bytes(bytes) => {
                let (memory64, side) = (self.mem.memory64(), self.mem.side());
                let mut apart = ChunkMemory { bytes, memory64, side };
                canonical::store_unchecked(&mut apart, &self.opts, val, ty, 0)
            }
        }
    }

    /// Lowers a primitive: `flat` as its core value, or its low `size` bytes of `in_memory`
    /// (little-endian) at the address.
    #[inline]
    pub(crate) fn lower_scalar(&mut self, flat: u64, size: u32, in_memory: u64, dst: LowerDest<'_>) -> Result<()> {
        match dst {
            LowerDest::Flat(out) => {
                out.push(flat);
                Ok(())
            }
            LowerDest::Memory(ptr) => canonical::write_uint(self.mem.bytes_mut(), ptr, size, in_memory),
            LowerDest::Bytes(bytes) => canonical::write_uint(bytes, 0, size, in_memory),
        }
    }

    /// Lowers a string: stored with `realloc`, then its pointer and length go to `dst`.
    pub(crate) fn lower_str(&mut self, s: &str, dst: LowerDest<'_>) -> Result<()> {
        let (ptr, len) = canonical::store_string(self.mem, &self.opts, s)?;
        self.pointer_pair(ptr, len, dst)
    }

    /// Lowers a `list<u8>`: stored with `realloc` in one copy, then its pointer and length go
    /// to `dst`.
    pub(crate) fn lower_bytes(&mut self, bytes: &[u8], dst: LowerDest<'_>) -> Result<()> {
        let (ptr, len) = canonical::store_bytes(self.mem, &self.opts, bytes)?;
        self.pointer_pair(ptr, len, dst)
    }

    /// Lowers a list of `len` elements of type `element`: allocated with `realloc`, each
    /// element written in place by `lower` (given its index), then the list's pointer and
    /// length go to `dst`.
    ///
    /// Elements that need neither `realloc` nor the handle table (records of numbers, say)
    /// are lowered into a buffer a chunk at a time and copied into memory at once: writing
    /// each field through the guest memory's accessors was most of the cost of such lists.
    /// No guest code runs while they are lowered, so no one can tell the difference.
    pub(crate) fn lower_list(
        &mut self,
        element: &InterfaceType,
        len: usize,
        dst: LowerDest<'_>,
        mut lower: impl FnMut(&mut Self, usize, &InterfaceType, LowerDest<'_>) -> Result<()>,
    ) -> Result<()> {
        let (ptr, size) = canonical::allocate_list(self.mem, &self.opts, element, len as u64)?;
        if len < 2 || size == 0 || size > LIST_CHUNK as u64 || !lowers_apart_from_memory(element) {
            for i in 0..len {
                lower(self, i, element, LowerDest::Memory(ptr + i as u64 * size))?;
            }
            return self.pointer_pair(ptr, len as u64, dst);
        }
        let per_chunk = LIST_CHUNK / size as usize;
        let mut chunk = [0; LIST_CHUNK];
        let mut first = 0;
        while first < len {
            let count = per_chunk.min(len - first);
            let (start, bytes) = ((ptr + first as u64 * size) as usize, count * size as usize);
            // `allocate_list` checked that the list is inside the memory. The chunk starts as
            // the memory's bytes, so that padding keeps whatever was there.
            chunk[..bytes].copy_from_slice(&self.mem.bytes()[start..][..bytes]);
            for (j, value) in chunk[..bytes].chunks_exact_mut(size as usize).enumerate() {
                lower(self, first + j, element, LowerDest::Bytes(value))?;
            }
            self.mem.bytes_mut()[start..][..bytes].copy_from_slice(&chunk[..bytes]);
            first += count;
        }
        self.pointer_pair(ptr, len as u64, dst)
    }

    fn pointer_pair(&mut self, ptr: u64, len: u64, dst: LowerDest<'_>) -> Result<()> {
        let size = self.width().ptr_size();
        let (bytes, at) = match dst {
            LowerDest::Flat(out) => {
                out.extend([ptr, len]);
                return Ok(());
            }
            LowerDest::Memory(at) => (self.mem.bytes_mut(), at),
            LowerDest::Bytes(bytes) => (bytes, 0),
        };
        canonical::write_uint(bytes, at, size, ptr)?;
        canonical::write_uint(bytes, at + u64::from(size), size, len)
    }

    /// Lowers case `index` of a variant, option or result of type `ty`: the discriminant, then
    /// (if the case has one) its payload with `payload`, given the payload's type; flat, the
    /// payload's slots are padded with zeros to the variant's joined ones (with raw bits,
    /// every joined conversion is the identity, as in `canonical::lower_flat`).
    pub(crate) fn lower_case(
        &mut self,
        ty: &InterfaceType,
        index: u64,
        dst: LowerDest<'_>,
        payload: impl FnOnce(&mut Self, &InterfaceType, LowerDest<'_>) -> Result<()>,
    ) -> Result<()> {
        let (payload_ty, layout) = canonical::variant_case(ty, index)?;
        match dst {
            LowerDest::Flat(out) => {
                let joined = ty.abi().flat_count.map_or(0, usize::from).saturating_sub(1);
                out.push(index);
                let start = out.len();
                if let Some(pty) = payload_ty {
                    payload(self, pty, LowerDest::Flat(&mut *out))?;
                }
                out.resize(start + joined, 0);
            }
            LowerDest::Memory(ptr) => {
                let offset = u64::from(layout.payload_offset(self.width()));
                canonical::write_uint(self.mem.bytes_mut(), ptr, layout.discriminant_size, index)?;
                if let Some(pty) = payload_ty {
                    payload(self, pty, LowerDest::Memory(ptr + offset))?;
                }
            }
            LowerDest::Bytes(bytes) => {
                let offset = layout.payload_offset(self.width()) as usize;
                canonical::write_uint(bytes, 0, layout.discriminant_size, index)?;
                if let Some(pty) = payload_ty {
                    let Some(payload_bytes) = bytes.get_mut(offset..) else {
                        bail!("bug: a variant's payload is past the bytes given for it");
                    };
                    payload(self, pty, LowerDest::Bytes(payload_bytes))?;
                }
            }
        }
        Ok(())
    }

    /// Lowers the fields of a record or the elements of a tuple of type `ty`, one after
    /// another, each with `lower` (given its index and type).
    pub(crate) fn lower_fields(
        &mut self,
        ty: &InterfaceType,
        dst: LowerDest<'_>,
        lower: impl FnMut(&mut Self, usize, &InterfaceType, LowerDest<'_>) -> Result<()>,
    ) -> Result<()> {
        let width = self.width();
        match ty {
            InterfaceType::Tuple(t) => self.lower_each(t.types().iter(), t.field_offsets(width), dst, lower),
            InterfaceType::Record(r) => {
                self.lower_each(r.fields().iter().map(|f| &f.ty), r.field_offsets(width), dst, lower)
            }
            other => bail!("type mismatch: expected a record or tuple, found {other}"),
        }
    }

    /// Lowers parts of types `types`, at `offsets` in memory or one after another flat.
    fn lower_each<'t>(
        &mut self,
        types: impl Iterator<Item = &'t InterfaceType>,
        offsets: &[u32],
        mut dst: LowerDest<'_>,
        mut lower: impl FnMut(&mut Self, usize, &InterfaceType, LowerDest<'_>) -> Result<()>,
    ) -> Result<()> {
        for (i, (t, offset)) in types.zip(offsets).enumerate() {
            let dst = match &mut dst {
                LowerDest::Flat(out) => LowerDest::Flat(out),
                LowerDest::Memory(ptr) => LowerDest::Memory(*ptr + u64::from(*offset)),
                LowerDest::Bytes(bytes) => match bytes.get_mut(*offset as usize..) {
                    Some(part) => LowerDest::Bytes(part),
                    None => bail!("bug: a field is past the bytes given for its record"),
                },
            };
            lower(self, i, t, dst)?;
        }
        Ok(())
    }
}
