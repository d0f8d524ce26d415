//! Lowering: [`store`] writes a [`Val`] into linear memory and [`lower_flat`] makes flat core
//! values of it, allocating strings and lists with the guest's `realloc` (and checking what
//! it returns).

use super::super::types::InterfaceType;
use super::super::values::Val;
use super::cases::{case_index, flags_words, variant_case, variant_value};
use super::flat::flat_count;
use super::integers::{integer_bits, integer_size, store_integers};
use super::memory::{
    GuestMemory, MemoryBounds, Options, Pointee, check_align, check_bounds, check_realloc_result, utf16_tag, width_of,
    write_uint,
};
use anyhow::{Result, bail};
use weld_environ::component::translate::StringEncoding;
use weld_environ::component::{MAX_STRING_BYTE_LENGTH, MemoryWidth, REALLOC_I32_MAX};

struct Storer<'a> {
    mem: &'a mut dyn GuestMemory,
    opts: &'a Options,
    width: MemoryWidth,
}

/// Lowers `val` of type `ty` into memory at `ptr` (the spec's `store`), allocating strings
/// and lists with the memory's `realloc`.
#[inline]
pub fn store(mem: &mut dyn GuestMemory, opts: &Options, val: &Val, ty: &InterfaceType, ptr: u64) -> Result<()> {
    val.typecheck(ty)?;
    store_unchecked(mem, opts, val, ty, ptr)
}

/// [`store`] of a value already checked against `ty`.
#[inline]
pub(crate) fn store_unchecked(
    mem: &mut dyn GuestMemory,
    opts: &Options,
    val: &Val,
    ty: &InterfaceType,
    ptr: u64,
) -> Result<()> {
    let width = width_of(mem.memory64());
    check_align(mem.side(), Pointee::Value, ptr, ty.abi().align(width))?;
    check_bounds(MemoryBounds::of(mem), Pointee::Value, ptr, u64::from(ty.abi().size(width)))?;
    Storer { mem, opts, width }.store(val, ty, ptr)
}

/// Stores `bytes` as a `list<u8>` (or `list<s8>`) in the guest's memory with its `realloc`,
/// in one copy; returns the pointer and the length.
pub(crate) fn store_bytes(mem: &mut dyn GuestMemory, opts: &Options, bytes: &[u8]) -> Result<(u64, u64)> {
    let width = width_of(mem.memory64());
    Storer { mem, opts, width }.bytes(bytes)
}

/// Allocates a list of `len` elements of type `element` with the guest's `realloc` (checked as
/// `store_list` checks it); returns its address and the size of one element. The elements are
/// then written by their Rust types.
pub(crate) fn allocate_list(
    mem: &mut dyn GuestMemory,
    opts: &Options,
    element: &InterfaceType,
    len: u64,
) -> Result<(u64, u64)> {
    let width = width_of(mem.memory64());
    let size = u64::from(element.abi().size(width));
    let Some(byte_len) = len.checked_mul(size).filter(|n| *n <= REALLOC_I32_MAX) else {
        bail!("list of {len} elements of {size} bytes is too long");
    };
    let mut storer = Storer { mem, opts, width };
    let ptr = storer.realloc(Pointee::List, 0, 0, element.abi().align(width), byte_len)?;
    Ok((ptr, size))
}

/// Room for one value of `ty` (parameters passed through memory, as their tuple), from the
/// guest's `realloc`, checked for alignment and bounds.
pub(crate) fn allocate_value(mem: &mut dyn GuestMemory, ty: &InterfaceType) -> Result<u64> {
    let width = width_of(mem.memory64());
    let (align, size) = (ty.abi().align(width), u64::from(ty.abi().size(width)));
    let ptr = mem.realloc(0, 0, align, size)?;
    check_realloc_result(MemoryBounds::of(mem), Pointee::Value, ptr, align, size)?;
    Ok(ptr)
}

/// Checks that a value of `ty` may be stored at `ptr` (aligned, inside the memory): what
/// [`store`] checks before writing, for values written by their Rust types.
pub(crate) fn check_store_at(mem: &dyn GuestMemory, ty: &InterfaceType, ptr: u64) -> Result<()> {
    let width = width_of(mem.memory64());
    check_align(mem.side(), Pointee::Value, ptr, ty.abi().align(width))?;
    check_bounds(MemoryBounds::of(mem), Pointee::Value, ptr, u64::from(ty.abi().size(width))).map(|_| ())
}

/// Stores string `s` in the guest's memory with its `realloc` (the spec's `store_string`),
/// returning the pointer and the (tagged) length in code units.
#[inline]
pub(crate) fn store_string(mem: &mut dyn GuestMemory, opts: &Options, s: &str) -> Result<(u64, u64)> {
    let width = width_of(mem.memory64());
    Storer { mem, opts, width }.string(s)
}

impl Storer<'_> {
    #[inline]
    fn uint(&mut self, ptr: u64, n: u32, value: u64) -> Result<()> {
        write_uint(self.mem.bytes_mut(), ptr, n, value)
    }

    fn store(&mut self, val: &Val, ty: &InterfaceType, ptr: u64) -> Result<()> {
        use InterfaceType as T;
        let w = self.width;
        let ps = w.ptr_size();
        if let (Some(size), Some(bits)) = (integer_size(ty), integer_bits(ty, val)) {
            return self.uint(ptr, size, bits);
        }
        match (ty, val) {
            (T::F32, Val::Float32(v)) => self.uint(ptr, 4, u64::from(v.to_bits())),
            (T::F64, Val::Float64(v)) => self.uint(ptr, 8, v.to_bits()),
            (T::Char, Val::Char(c)) => self.uint(ptr, 4, u64::from(*c)),
            (T::String, Val::String(s)) => {
                let (begin, units) = self.string(s)?;
                self.uint(ptr, ps, begin)?;
                self.uint(ptr + u64::from(ps), ps, units)
            }
            (T::List(list), Val::List(elements)) => {
                let (begin, len) = self.list(list.element(), elements)?;
                self.uint(ptr, ps, begin)?;
                self.uint(ptr + u64::from(ps), ps, len)
            }
            (T::List(_), Val::Bytes(bytes)) => {
                let (begin, len) = self.bytes(bytes)?;
                self.uint(ptr, ps, begin)?;
                self.uint(ptr + u64::from(ps), ps, len)
            }
            (T::Map(map), val) => self.store(val, map.entries(), ptr),
            (T::FixedList(list), Val::List(elements)) => {
                let size = u64::from(list.element().abi().size(w));
                for (i, e) in elements.iter().enumerate() {
                    self.store(e, list.element(), ptr + i as u64 * size)?;
                }
                Ok(())
            }
            (T::Record(record), Val::Record(fields)) => {
                let offsets = record.field_offsets(w);
                for ((f, (_, v)), off) in record.fields().iter().zip(fields).zip(offsets) {
                    self.store(v, &f.ty, ptr + u64::from(*off))?;
                }
                Ok(())
            }
            (T::Tuple(tuple), Val::Tuple(elements)) => {
                for ((t, v), off) in tuple.types().iter().zip(elements).zip(tuple.field_offsets(w)) {
                    self.store(v, t, ptr + u64::from(*off))?;
                }
                Ok(())
            }
            (T::Variant(_) | T::Option(_) | T::Result(_), _) => {
                let (index, payload) = variant_value(ty, val)?;
                let (payload_ty, layout) = variant_case(ty, index)?;
                self.uint(ptr, layout.discriminant_size, index)?;
                match (payload_ty, payload) {
                    (Some(pty), Some(p)) => self.store(p, pty, ptr + u64::from(layout.payload_offset(w))),
                    _ => Ok(()),
                }
            }
            (T::Enum(e), Val::Enum(name)) => {
                let index = case_index(e.names().iter().map(String::as_str), name)?;
                self.uint(ptr, e.discriminant_size(), index)
            }
            (T::Flags(flags), Val::Flags(set)) => {
                let words = flags_words(flags.names(), set);
                let size = ty.abi().size(w);
                if size <= 4 {
                    self.uint(ptr, size, u64::from(words.first().copied().unwrap_or(0)))
                } else {
                    for (i, word) in words.iter().enumerate() {
                        self.uint(ptr + 4 * i as u64, 4, u64::from(*word))?;
                    }
                    Ok(())
                }
            }
            (T::Own(_) | T::Borrow(_), Val::Resource(h)) => {
                let index = self.mem.lower_handle(ty, h)?;
                self.uint(ptr, 4, u64::from(index))
            }
            (T::Future(_), Val::Future(_))
            | (T::Stream(_), Val::Stream(_))
            | (T::ErrorContext, Val::ErrorContext(_)) => {
                let index = self.mem.lower_async_value(ty, val)?;
                self.uint(ptr, 4, u64::from(index))
            }
            _ => bail!("expected {ty}, found {}", val.kind()),
        }
    }

    /// Calls `realloc` for a `what` and checks the pointer it returns (the spec's traps after
    /// `allocate` and `reallocate`).
    #[inline]
    fn realloc(&mut self, what: Pointee, old: u64, old_size: u64, align: u32, new_size: u64) -> Result<u64> {
        let ptr = self.mem.realloc(old, old_size, align, new_size)?;
        check_realloc_result(MemoryBounds::of(self.mem), what, ptr, align, new_size)?;
        Ok(ptr)
    }

    /// Stores a host (UTF-8) string in the options' encoding; returns the pointer and the
    /// (tagged) number of code units.
    fn string(&mut self, s: &str) -> Result<(u64, u64)> {
        let units = s.len() as u64;
        if units > MAX_STRING_BYTE_LENGTH {
            bail!("string of {units} bytes is longer than {MAX_STRING_BYTE_LENGTH} bytes");
        }
        match self.opts.string_encoding {
            // store_string_copy
            StringEncoding::Utf8 => {
                let ptr = self.realloc(Pointee::String, 0, 0, 1, units)?;
                let at = ptr as usize;
                self.mem.bytes_mut()[at..at + s.len()].copy_from_slice(s.as_bytes());
                Ok((ptr, units))
            }
            // store_utf8_to_utf16
            StringEncoding::Utf16 => {
                let worst = 2 * units;
                let ptr = self.realloc(Pointee::String, 0, 0, 2, worst)?;
                let written = self.write_utf16(ptr, s.encode_utf16())?;
                let ptr = if written < worst { self.realloc(Pointee::String, ptr, worst, 2, written)? } else { ptr };
                Ok((ptr, written / 2))
            }
            StringEncoding::CompactUtf16 => self.latin1_or_utf16(s, units),
        }
    }

    fn write_utf16(&mut self, ptr: u64, units: impl Iterator<Item = u16>) -> Result<u64> {
        let bytes = self.mem.bytes_mut();
        let mut at = ptr as usize;
        for unit in units {
            bytes[at..at + 2].copy_from_slice(&unit.to_le_bytes());
            at += 2;
        }
        Ok(at as u64 - ptr)
    }

    /// The spec's `store_string_to_latin1_or_utf16`.
    fn latin1_or_utf16(&mut self, s: &str, units: u64) -> Result<(u64, u64)> {
        let ptr = self.realloc(Pointee::String, 0, 0, 2, units)?;
        let mut latin1_len = 0u64;
        for c in s.chars() {
            if u32::from(c) < 0x100 {
                self.mem.bytes_mut()[(ptr + latin1_len) as usize] = u32::from(c) as u8;
                latin1_len += 1;
                continue;
            }
            let worst = 2 * units;
            let ptr = self.realloc(Pointee::String, ptr, units, 2, worst)?;
            // Inflate the Latin-1 prefix in place, back to front, then encode the rest.
            let bytes = self.mem.bytes_mut();
            for j in (0..latin1_len as usize).rev() {
                let b = bytes[ptr as usize + j];
                bytes[ptr as usize + 2 * j] = b;
                bytes[ptr as usize + 2 * j + 1] = 0;
            }
            let rest = s.chars().skip(latin1_len as usize).collect::<String>();
            let written = 2 * latin1_len + self.write_utf16(ptr + 2 * latin1_len, rest.encode_utf16())?;
            let ptr = if worst > written { self.realloc(Pointee::String, ptr, worst, 2, written)? } else { ptr };
            return Ok((ptr, (written / 2) | utf16_tag(self.width)));
        }
        let ptr = if latin1_len < units { self.realloc(Pointee::String, ptr, units, 2, latin1_len)? } else { ptr };
        Ok((ptr, latin1_len))
    }

    /// The spec's `store_list_into_range` for a `list<u8>` (or `list<s8>`) given as its
    /// bytes: one copy (what `Val::Bytes` and typed byte lists are stored with).
    fn bytes(&mut self, bytes: &[u8]) -> Result<(u64, u64)> {
        let len = bytes.len() as u64;
        if len > REALLOC_I32_MAX {
            bail!("list of {len} elements of 1 byte is too long");
        }
        let ptr = self.realloc(Pointee::List, 0, 0, 1, len)?;
        // `realloc`'s result was checked: the whole range is inside the memory.
        self.mem.bytes_mut()[ptr as usize..][..bytes.len()].copy_from_slice(bytes);
        Ok((ptr, len))
    }

    /// The spec's `store_list_into_range`.
    fn list(&mut self, element: &InterfaceType, elements: &[Val]) -> Result<(u64, u64)> {
        let size = u64::from(element.abi().size(self.width));
        let len = elements.len() as u64;
        let byte_len = len.checked_mul(size).filter(|n| *n <= REALLOC_I32_MAX);
        let Some(byte_len) = byte_len else {
            bail!("list of {len} elements of {size} bytes is too long");
        };
        let ptr = self.realloc(Pointee::List, 0, 0, element.abi().align(self.width), byte_len)?;
        if let Some(integer) = integer_size(element) {
            // `realloc`'s result was checked: the whole range is inside the memory.
            let at = ptr as usize;
            let bytes = &mut self.mem.bytes_mut()[at..at + byte_len as usize];
            store_integers(bytes, elements, element, integer as usize)?;
            return Ok((ptr, len));
        }
        for (i, e) in elements.iter().enumerate() {
            self.store(e, element, ptr + i as u64 * size)?;
        }
        Ok((ptr, len))
    }
}

/// Lowers `val` of type `ty` to flat core values appended to `out` (the spec's
/// `lower_flat`); strings and lists are stored in memory with `realloc`.
#[inline]
pub fn lower_flat(
    mem: &mut dyn GuestMemory,
    opts: &Options,
    val: &Val,
    ty: &InterfaceType,
    out: &mut Vec<u64>,
) -> Result<()> {
    val.typecheck(ty)?;
    lower_flat_unchecked(mem, opts, val, ty, out)
}

/// [`lower_flat`] of a value already checked against `ty`.
#[inline]
pub(crate) fn lower_flat_unchecked(
    mem: &mut dyn GuestMemory,
    opts: &Options,
    val: &Val,
    ty: &InterfaceType,
    out: &mut Vec<u64>,
) -> Result<()> {
    if let Some(bits) = flat_scalar(val, ty) {
        // The common case of a scalar parameter, without a storer.
        out.push(bits);
        return Ok(());
    }
    let width = width_of(mem.memory64());
    flat_count(ty)?;
    Storer { mem, opts, width }.lower(val, ty, out)
}

/// The flat value of a scalar (a number, `bool` or `char`) `val` of type `ty`; `None` for
/// other types, and for a value of another type (which the general path reports).
#[inline(always)]
fn flat_scalar(val: &Val, ty: &InterfaceType) -> Option<u64> {
    use InterfaceType as T;
    Some(match (ty, val) {
        (T::Bool, Val::Bool(b)) => u64::from(*b),
        (T::S8, Val::S8(v)) => i32::from(*v) as u32 as u64,
        (T::U8, Val::U8(v)) => u64::from(*v),
        (T::S16, Val::S16(v)) => i32::from(*v) as u32 as u64,
        (T::U16, Val::U16(v)) => u64::from(*v),
        (T::S32, Val::S32(v)) => *v as u32 as u64,
        (T::U32, Val::U32(v)) => u64::from(*v),
        (T::S64, Val::S64(v)) => *v as u64,
        (T::U64, Val::U64(v)) => *v,
        (T::F32, Val::Float32(v)) => u64::from(v.to_bits()),
        (T::F64, Val::Float64(v)) => v.to_bits(),
        (T::Char, Val::Char(c)) => u64::from(*c),
        _ => return None,
    })
}

impl Storer<'_> {
    /// [`Storer::lower`] of a field or element: scalars inline, without a call each.
    #[inline(always)]
    fn lower_element(&mut self, val: &Val, ty: &InterfaceType, out: &mut Vec<u64>) -> Result<()> {
        match flat_scalar(val, ty) {
            Some(bits) => {
                out.push(bits);
                Ok(())
            }
            None => self.lower(val, ty, out),
        }
    }

    fn lower(&mut self, val: &Val, ty: &InterfaceType, out: &mut Vec<u64>) -> Result<()> {
        use InterfaceType as T;
        match (ty, val) {
            (scalar_types!(), _) if let Some(bits) = flat_scalar(val, ty) => out.push(bits),
            (T::String, Val::String(s)) => {
                let (ptr, units) = self.string(s)?;
                out.extend([ptr, units]);
            }
            (T::List(list), Val::List(elements)) => {
                let (ptr, len) = self.list(list.element(), elements)?;
                out.extend([ptr, len]);
            }
            (T::List(_), Val::Bytes(bytes)) => {
                let (ptr, len) = self.bytes(bytes)?;
                out.extend([ptr, len]);
            }
            (T::Map(map), val) => self.lower(val, map.entries(), out)?,
            (T::FixedList(list), Val::List(elements)) => {
                for e in elements {
                    self.lower(e, list.element(), out)?;
                }
            }
            (T::Record(record), Val::Record(fields)) => {
                for (f, (_, v)) in record.fields().iter().zip(fields) {
                    self.lower_element(v, &f.ty, out)?;
                }
            }
            (T::Tuple(tuple), Val::Tuple(elements)) => {
                for (t, v) in tuple.types().iter().zip(elements) {
                    self.lower_element(v, t, out)?;
                }
            }
            (T::Variant(_) | T::Option(_) | T::Result(_), _) => {
                // lower_flat_variant: with raw bits, every have -> want conversion is the
                // identity (i32 and f32 bits are already zero-extended); pad with zeros.
                let joined = flat_count(ty)? - 1;
                let (index, payload) = variant_value(ty, val)?;
                let (payload_ty, _) = variant_case(ty, index)?;
                out.push(index);
                let start = out.len();
                if let (Some(pty), Some(p)) = (payload_ty, payload) {
                    self.lower(p, pty, out)?;
                }
                out.resize(start + joined, 0);
            }
            (T::Enum(e), Val::Enum(name)) => out.push(case_index(e.names().iter().map(String::as_str), name)?),
            (T::Flags(flags), Val::Flags(set)) => {
                out.extend(flags_words(flags.names(), set).into_iter().map(u64::from))
            }
            (T::Own(_) | T::Borrow(_), Val::Resource(h)) => out.push(u64::from(self.mem.lower_handle(ty, h)?)),
            (T::Future(_), Val::Future(_))
            | (T::Stream(_), Val::Stream(_))
            | (T::ErrorContext, Val::ErrorContext(_)) => out.push(u64::from(self.mem.lower_async_value(ty, val)?)),
            _ => bail!("expected {ty}, found {}", val.kind()),
        }
        Ok(())
    }
}
