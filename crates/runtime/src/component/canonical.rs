//! Host-side lifting and lowering of component values, as CanonicalABI.md defines them:
//! [`store`] and [`load`] move a [`Val`] to and from linear memory, [`lower_flat`] and
//! [`lift_flat`] to and from flat core values. They are pure functions over a
//! [`GuestMemory`], which gives the bytes of the memory and its `realloc`.
//!
//! Flat core values are raw `u64` bits: an `i32` zero-extended, an `f32` as its bits
//! zero-extended, an `i64` or `f64` as is. With that representation the spec's conversions
//! between a variant's joined flat types and its payload's own are a truncation to the low 32
//! bits when the payload wants `i32`/`f32` from an `i64` slot, and nothing otherwise.
//!
//! What is checked, with an error and never a panic: the alignment and bounds of every
//! pointer (top-level pointers too), the pointers `realloc` returns, string and list byte
//! lengths against the spec's maxima, UTF-8 and UTF-16 validity, `char` values (surrogates
//! and values past 0x10FFFF), and discriminants. Lifting `bool` maps any nonzero to `true`,
//! narrow integers lifted from an `i32` keep their low bits, and flags ignore unknown bits,
//! as the spec does. NaNs are passed through unchanged in both directions, which the spec
//! allows ("or even to the original value of the NaN").
//!
//! Lowering first typechecks the value ([`Val::typecheck`]), so mismatches are reported with a
//! path into the value. Resource handles go through the [`GuestMemory`]'s handle methods
//! (which know the instance's handle table). Not covered: flat
//! lifting/lowering of a type that flattens to more than `MAX_FLAT_PARAMS` values (which the
//! canonical ABI always passes through memory) is refused.

use super::resources::ResourceAny;
use super::types::InterfaceType;
use super::values::Val;
use anyhow::{Result, anyhow, bail};
use std::cell::RefCell;
use weld_environ::component::translate::StringEncoding;
use weld_environ::component::{FlatType, MemoryWidth, flags_i32_count, flatten};

/// A guest's linear memory and its `realloc`, as lifting and lowering see them.
pub trait GuestMemory {
    /// The memory's bytes.
    fn bytes(&self) -> &[u8];
    /// The memory's bytes, writable.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Calls the guest's `realloc(old_ptr, old_size, align, new_size)`. The result is checked
    /// for alignment and bounds by the caller.
    fn realloc(&mut self, old_ptr: u64, old_size: u64, align: u32, new_size: u64) -> Result<u64>;
    /// Whether the memory is a 64-bit one (pointers and lengths are `i64`).
    fn memory64(&self) -> bool;
    /// Lowers a resource handle of type `ty` (`own` or `borrow`) into the guest's handle
    /// table, returning its index (or, for a borrow of the guest's own resource, its rep).
    fn lower_handle(&mut self, ty: &InterfaceType, handle: &ResourceAny) -> Result<u32> {
        let _ = handle;
        Err(unsupported_handle(ty))
    }
    /// Lifts the handle at `index` of the guest's handle table as type `ty`: an `own` is
    /// removed from the table, a `borrow` stays.
    fn lift_handle(&mut self, ty: &InterfaceType, index: u32) -> Result<ResourceAny> {
        let _ = index;
        Err(unsupported_handle(ty))
    }
}

/// The canonical options that matter to lifting and lowering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// How strings are encoded in the guest's memory.
    pub string_encoding: StringEncoding,
}

/// The spec's `MAX_STRING_BYTE_LENGTH`.
pub(crate) const MAX_STRING_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The spec's `MAX_LIST_BYTE_LENGTH`.
const MAX_LIST_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The spec's `REALLOC_I32_MAX`.
const REALLOC_I32_MAX: u64 = (1 << 32) - 1;

fn width_of(memory64: bool) -> MemoryWidth {
    MemoryWidth::from_memory64(memory64)
}

/// The high bit of a pointer-sized length marks a `latin1+utf16` string as UTF-16.
pub(crate) fn utf16_tag(width: MemoryWidth) -> u64 {
    1 << (width.ptr_size() * 8 - 1)
}

/// Checks that `len` bytes at `ptr` lie inside a memory of `mem_len` bytes.
pub(crate) fn check_bounds(mem_len: usize, what: &str, ptr: u64, len: u64) -> Result<usize> {
    match ptr.checked_add(len) {
        Some(end) if end <= mem_len as u64 => Ok(ptr as usize),
        _ => bail!("{what} out-of-bounds: {len} bytes at {ptr:#x} do not fit in a memory of {mem_len} bytes"),
    }
}

pub(crate) fn check_align(ptr: u64, align: u32) -> Result<()> {
    if !ptr.is_multiple_of(u64::from(align.max(1))) {
        bail!("unaligned pointer: {ptr:#x} is not aligned to {align}");
    }
    Ok(())
}

/// Checks a pointer `realloc` returned for `size` bytes aligned to `align` (the spec's traps
/// after `allocate` and `reallocate`).
pub fn check_realloc_result(mem_len: usize, ptr: u64, align: u32, size: u64) -> Result<()> {
    if !ptr.is_multiple_of(u64::from(align.max(1))) {
        bail!("realloc return: result not aligned ({ptr:#x} is not aligned to {align})");
    }
    if ptr.checked_add(size).is_none_or(|end| end > mem_len as u64) {
        bail!("realloc return: beyond end of memory ({size} bytes at {ptr:#x}, memory of {mem_len} bytes)");
    }
    Ok(())
}

/// Reads `n` (at most 8) little-endian bytes at `ptr`.
pub(crate) fn read_uint(bytes: &[u8], ptr: u64, n: u32) -> Result<u64> {
    let at = check_bounds(bytes.len(), "value", ptr, u64::from(n))?;
    let mut buf = [0u8; 8];
    buf[..n as usize].copy_from_slice(&bytes[at..at + n as usize]);
    Ok(u64::from_le_bytes(buf))
}

/// Writes the low `n` (at most 8) bytes of `value`, little-endian, at `ptr`.
pub(crate) fn write_uint(bytes: &mut [u8], ptr: u64, n: u32, value: u64) -> Result<()> {
    let at = check_bounds(bytes.len(), "value", ptr, u64::from(n))?;
    bytes[at..at + n as usize].copy_from_slice(&value.to_le_bytes()[..n as usize]);
    Ok(())
}

fn char_from(i: u32) -> Result<char> {
    char::from_u32(i).ok_or_else(|| anyhow!("invalid `char` bit pattern {i:#x}"))
}

fn unsupported_handle(ty: &InterfaceType) -> anyhow::Error {
    anyhow!("resource handles ({ty}) cannot be passed here: there is no handle table")
}

/// Index of the case named `name` in `names`.
fn case_index<'a>(mut names: impl Iterator<Item = &'a str>, name: &str) -> Result<u64> {
    names.position(|n| n == name).map(|i| i as u64).ok_or_else(|| anyhow!("unknown case \"{name}\""))
}

/// The payload type of case `index` of a variant-like type, and its case count and layout.
pub(crate) fn variant_case(
    ty: &InterfaceType,
    index: u64,
) -> Result<(Option<&InterfaceType>, &weld_environ::component::VariantLayout)> {
    let (count, payload, layout) = match ty {
        InterfaceType::Variant(v) => {
            let c = v.cases().get(index as usize);
            (v.cases().len(), c.and_then(|c| c.ty.as_ref()), v.layout())
        }
        InterfaceType::Option(o) => (2, (index == 1).then(|| o.some()), o.layout()),
        InterfaceType::Result(r) => (2, if index == 0 { r.ok() } else { r.err() }, r.layout()),
        _ => bail!("{ty} is not a variant"),
    };
    if index >= count as u64 {
        bail!("invalid variant discriminant {index} for {ty} of {count} cases");
    }
    Ok((payload, layout))
}

/// Case index and payload of a variant-like value (the value has been typechecked).
fn variant_value<'a>(ty: &InterfaceType, val: &'a Val) -> Result<(u64, Option<&'a Val>)> {
    Ok(match (ty, val) {
        (InterfaceType::Variant(v), Val::Variant(name, payload)) => {
            (case_index(v.cases().iter().map(|c| c.name.as_str()), name)?, payload.as_deref())
        }
        (InterfaceType::Option(_), Val::Option(payload)) => (u64::from(payload.is_some()), payload.as_deref()),
        (InterfaceType::Result(_), Val::Result(Ok(payload))) => (0, payload.as_deref()),
        (InterfaceType::Result(_), Val::Result(Err(payload))) => (1, payload.as_deref()),
        _ => bail!("expected {ty}, found {}", val.kind()),
    })
}

/// Flags as 32-bit words, label `i` being bit `i % 32` of word `i / 32`.
fn flags_words(names: &[String], set: &[String]) -> Vec<u32> {
    let mut words = vec![0u32; flags_i32_count(names.len()) as usize];
    for (i, name) in names.iter().enumerate() {
        if set.contains(name) {
            words[i / 32] |= 1 << (i % 32);
        }
    }
    words
}

fn flags_from_words(names: &[String], words: &[u32]) -> Val {
    let set = names.iter().enumerate().filter(|(i, _)| words[i / 32] & (1 << (i % 32)) != 0);
    Val::Flags(set.map(|(_, n)| n.clone()).collect())
}

// ---------------------------------------------------------------------------------------------
// Loading

struct Loader<'a> {
    /// Borrowed briefly for each read; mutably only to lift handles.
    mem: RefCell<&'a mut dyn GuestMemory>,
    opts: &'a Options,
    width: MemoryWidth,
}

/// Lifts a value of type `ty` from memory at `ptr` (the spec's `load`).
pub fn load(mem: &mut dyn GuestMemory, opts: &Options, ty: &InterfaceType, ptr: u64) -> Result<Val> {
    let width = width_of(mem.memory64());
    check_value_at(mem.bytes().len(), ty, width, ptr)?;
    let cx = Loader { mem: RefCell::new(mem), opts, width };
    cx.load(ty, ptr)
}

impl Loader<'_> {
    fn uint(&self, ptr: u64, n: u32) -> Result<u64> {
        read_uint(self.mem.borrow().bytes(), ptr, n)
    }

    fn handle(&self, ty: &InterfaceType, index: u64) -> Result<Val> {
        Ok(Val::Resource(self.mem.borrow_mut().lift_handle(ty, index as u32)?))
    }

    fn load(&self, ty: &InterfaceType, ptr: u64) -> Result<Val> {
        use InterfaceType as T;
        let w = self.width;
        Ok(match ty {
            T::Bool => Val::Bool(self.uint(ptr, 1)? != 0),
            T::S8 => Val::S8(self.uint(ptr, 1)? as u8 as i8),
            T::U8 => Val::U8(self.uint(ptr, 1)? as u8),
            T::S16 => Val::S16(self.uint(ptr, 2)? as u16 as i16),
            T::U16 => Val::U16(self.uint(ptr, 2)? as u16),
            T::S32 => Val::S32(self.uint(ptr, 4)? as u32 as i32),
            T::U32 => Val::U32(self.uint(ptr, 4)? as u32),
            T::S64 => Val::S64(self.uint(ptr, 8)? as i64),
            T::U64 => Val::U64(self.uint(ptr, 8)?),
            T::F32 => Val::Float32(f32::from_bits(self.uint(ptr, 4)? as u32)),
            T::F64 => Val::Float64(f64::from_bits(self.uint(ptr, 8)?)),
            T::Char => Val::Char(char_from(self.uint(ptr, 4)? as u32)?),
            T::String => {
                let begin = self.uint(ptr, w.ptr_size())?;
                let units = self.uint(ptr + u64::from(w.ptr_size()), w.ptr_size())?;
                Val::String(self.string(begin, units)?)
            }
            T::List(list) => {
                let begin = self.uint(ptr, w.ptr_size())?;
                let len = self.uint(ptr + u64::from(w.ptr_size()), w.ptr_size())?;
                self.list(list.element(), begin, len)?
            }
            T::Map(map) => self.load(map.entries(), ptr)?,
            T::FixedList(list) => {
                let size = u64::from(list.element().abi().size(w));
                let elements = (0..u64::from(list.len())).map(|i| self.load(list.element(), ptr + i * size));
                Val::List(elements.collect::<Result<_>>()?)
            }
            T::Record(record) => {
                let offsets = record.field_offsets(w);
                let fields = record
                    .fields()
                    .iter()
                    .zip(offsets)
                    .map(|(f, off)| Ok((f.name.clone(), self.load(&f.ty, ptr + u64::from(*off))?)));
                Val::Record(fields.collect::<Result<_>>()?)
            }
            T::Tuple(tuple) => {
                let offsets = tuple.field_offsets(w);
                let elements = tuple.types().iter().zip(offsets).map(|(t, off)| self.load(t, ptr + u64::from(*off)));
                Val::Tuple(elements.collect::<Result<_>>()?)
            }
            T::Variant(_) | T::Option(_) | T::Result(_) => {
                let disc_size = match ty {
                    T::Variant(v) => v.layout().discriminant_size,
                    _ => 1,
                };
                let index = self.uint(ptr, disc_size)?;
                let (payload_ty, layout) = variant_case(ty, index)?;
                let payload = match payload_ty {
                    Some(pty) => Some(Box::new(self.load(pty, ptr + u64::from(layout.payload_offset(w)))?)),
                    None => None,
                };
                make_variant(ty, index, payload)
            }
            T::Enum(e) => {
                let index = self.uint(ptr, e.discriminant_size())?;
                enum_case(ty, e.names(), index)?
            }
            T::Flags(flags) => {
                let size = ty.abi().size(w);
                let words = if size <= 4 {
                    vec![self.uint(ptr, size)? as u32]
                } else {
                    let count = u64::from(size / 4);
                    (0..count).map(|i| Ok(self.uint(ptr + 4 * i, 4)? as u32)).collect::<Result<_>>()?
                };
                flags_from_words(flags.names(), &words)
            }
            T::Own(_) | T::Borrow(_) => self.handle(ty, self.uint(ptr, 4)?)?,
        })
    }

    /// The spec's `load_string_from_range`.
    fn string(&self, ptr: u64, tagged_units: u64) -> Result<String> {
        load_string(self.mem.borrow().bytes(), self.opts, self.width, ptr, tagged_units)
    }

    /// The spec's `load_list_from_range`.
    fn list(&self, element: &InterfaceType, ptr: u64, len: u64) -> Result<Val> {
        let size = check_list_range(self.mem.borrow().bytes().len(), element, self.width, ptr, len)?;
        let elements = (0..len).map(|i| self.load(element, ptr + i * size));
        Ok(Val::List(elements.collect::<Result<_>>()?))
    }
}

fn make_variant(ty: &InterfaceType, index: u64, payload: Option<Box<Val>>) -> Val {
    match ty {
        InterfaceType::Variant(v) => Val::Variant(v.cases()[index as usize].name.clone(), payload),
        InterfaceType::Option(_) if index == 0 => Val::Option(None),
        InterfaceType::Option(_) => Val::Option(payload),
        InterfaceType::Result(_) if index == 0 => Val::Result(Ok(payload)),
        _ => Val::Result(Err(payload)),
    }
}

fn enum_case(ty: &InterfaceType, names: &[String], index: u64) -> Result<Val> {
    match usize::try_from(index).ok().and_then(|i| names.get(i)) {
        Some(name) => Ok(Val::Enum(name.clone())),
        _ => bail!("invalid variant discriminant {index} for {ty} of {} cases", names.len()),
    }
}

/// How a string's bytes are encoded once the tag of a `latin1+utf16` string is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StringBytes {
    Utf8,
    Utf16,
    Latin1,
}

/// The first part of the spec's `load_string_from_range`: the byte encoding, alignment and
/// byte length of a string of `tagged_units` code units in `encoding`; `None` if it is longer
/// than `MAX_STRING_BYTE_LENGTH`.
pub(crate) fn string_bytes(
    encoding: StringEncoding,
    width: MemoryWidth,
    tagged_units: u64,
) -> Option<(StringBytes, u32, u64)> {
    let tag = utf16_tag(width);
    let (enc, align, byte_len) = match encoding {
        StringEncoding::Utf8 => (StringBytes::Utf8, 1, Some(tagged_units)),
        StringEncoding::Utf16 => (StringBytes::Utf16, 2, tagged_units.checked_mul(2)),
        StringEncoding::CompactUtf16 if tagged_units & tag != 0 => {
            (StringBytes::Utf16, 2, (tagged_units ^ tag).checked_mul(2))
        }
        StringEncoding::CompactUtf16 => (StringBytes::Latin1, 2, Some(tagged_units)),
    };
    byte_len.filter(|n| *n <= MAX_STRING_BYTE_LENGTH).map(|n| (enc, align, n))
}

/// Checks that the string bytes at `ptr` are valid UTF-8.
pub(crate) fn check_utf8(raw: &[u8], ptr: u64) -> Result<&str> {
    std::str::from_utf8(raw).map_err(|e| utf8_error(e, 0, ptr))
}

/// Checks that `raw`, found at `ptr`, is UTF-8, without making a `&str` of it: an ASCII
/// prefix is checked 64 bytes at a time (several times faster than `str::from_utf8` on long
/// ASCII strings), and the rest by `str::from_utf8`. Errors are those of [`check_utf8`].
pub(crate) fn validate_utf8(raw: &[u8], ptr: u64) -> Result<()> {
    const BLOCK: usize = 64;
    let mut ascii = 0;
    for block in raw.chunks_exact(BLOCK) {
        let mut bits = 0u64;
        for word in block.chunks_exact(8) {
            bits |= u64::from_le_bytes(word.try_into().expect("8-byte words"));
        }
        if bits & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        ascii += BLOCK;
    }
    // The prefix ends after an ASCII byte, so the rest starts on a character boundary.
    std::str::from_utf8(&raw[ascii..]).map(|_| ()).map_err(|e| utf8_error(e, ascii, ptr))
}

/// The trap message for invalid UTF-8 found `offset` bytes into a string at `ptr`.
fn utf8_error(e: std::str::Utf8Error, offset: usize, ptr: u64) -> anyhow::Error {
    match e.error_len() {
        None => anyhow!("invalid utf-8: incomplete utf-8 byte sequence in the string at {ptr:#x}"),
        Some(_) => anyhow!("invalid utf-8 in the string at {ptr:#x} (byte {})", offset + e.valid_up_to()),
    }
}

/// Decodes the string bytes `raw` found at `ptr` (the end of `load_string_from_range`).
pub(crate) fn decode_string(raw: &[u8], enc: StringBytes, ptr: u64) -> Result<String> {
    match enc {
        StringBytes::Utf8 => check_utf8(raw, ptr).map(str::to_string),
        StringBytes::Utf16 => {
            let units = raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .map(|c| {
                    c.map_err(|e| {
                        anyhow!(
                            "invalid utf-16 in the string at {ptr:#x}: lone surrogate {:#x}",
                            e.unpaired_surrogate()
                        )
                    })
                })
                .collect()
        }
        StringBytes::Latin1 => Ok(raw.iter().map(|b| char::from(*b)).collect()),
    }
}

/// Decodes the string of `tagged_units` code units at `ptr` in the options' encoding.
fn load_string(bytes: &[u8], opts: &Options, width: MemoryWidth, ptr: u64, tagged_units: u64) -> Result<String> {
    let (enc, range) = string_range(bytes.len(), opts, width, ptr, tagged_units)?;
    decode_string(&bytes[range], enc, ptr)
}

/// The spec's checks of `load_string_from_range` before decoding: the string of
/// `tagged_units` code units at `ptr` is within the length limit, aligned and inside a
/// memory of `mem_len` bytes. Returns its byte encoding and the range of its bytes.
pub(crate) fn string_range(
    mem_len: usize,
    opts: &Options,
    width: MemoryWidth,
    ptr: u64,
    tagged_units: u64,
) -> Result<(StringBytes, std::ops::Range<usize>)> {
    let Some((enc, align, byte_len)) = string_bytes(opts.string_encoding, width, tagged_units) else {
        bail!("string of {tagged_units:#x} code units is longer than {MAX_STRING_BYTE_LENGTH} bytes")
    };
    check_align(ptr, align)?;
    let Ok(at) = check_bounds(mem_len, "string", ptr, byte_len) else {
        bail!(
            "string pointer/length out of bounds of memory: {byte_len} bytes at {ptr:#x} do not fit in a memory \
             of {mem_len} bytes"
        )
    };
    Ok((enc, at..at + byte_len as usize))
}

/// The spec's checks of `load_list_from_range` before loading: `len` elements of `element`
/// at `ptr` are within the length limit, aligned and inside a memory of `mem_len` bytes.
/// Returns the element size.
pub(crate) fn check_list_range(
    mem_len: usize,
    element: &InterfaceType,
    width: MemoryWidth,
    ptr: u64,
    len: u64,
) -> Result<u64> {
    let size = u64::from(element.abi().size(width));
    let Some(byte_len) = len.checked_mul(size).filter(|n| *n <= MAX_LIST_BYTE_LENGTH) else {
        bail!("list of {len} elements of {size} bytes is longer than {MAX_LIST_BYTE_LENGTH} bytes");
    };
    check_align(ptr, element.abi().align(width))?;
    check_bounds(mem_len, "list content", ptr, byte_len)?;
    Ok(size)
}

/// Checks that a value of `ty` at `ptr` is aligned and inside a memory of `mem_len` bytes.
pub(crate) fn check_value_at(mem_len: usize, ty: &InterfaceType, width: MemoryWidth, ptr: u64) -> Result<()> {
    check_align(ptr, ty.abi().align(width))?;
    check_bounds(mem_len, "value", ptr, u64::from(ty.abi().size(width)))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Storing

struct Storer<'a> {
    mem: &'a mut dyn GuestMemory,
    opts: &'a Options,
    width: MemoryWidth,
}

/// Lowers `val` of type `ty` into memory at `ptr` (the spec's `store`), allocating strings
/// and lists with the memory's `realloc`.
pub fn store(mem: &mut dyn GuestMemory, opts: &Options, val: &Val, ty: &InterfaceType, ptr: u64) -> Result<()> {
    val.typecheck(ty)?;
    store_unchecked(mem, opts, val, ty, ptr)
}

/// [`store`] of a value already checked against `ty`.
pub(crate) fn store_unchecked(
    mem: &mut dyn GuestMemory,
    opts: &Options,
    val: &Val,
    ty: &InterfaceType,
    ptr: u64,
) -> Result<()> {
    let width = width_of(mem.memory64());
    check_align(ptr, ty.abi().align(width))?;
    check_bounds(mem.bytes().len(), "value", ptr, u64::from(ty.abi().size(width)))?;
    Storer { mem, opts, width }.store(val, ty, ptr)
}

/// Stores string `s` in the guest's memory with its `realloc` (the spec's `store_string`),
/// returning the pointer and the (tagged) length in code units.
pub(crate) fn store_string(mem: &mut dyn GuestMemory, opts: &Options, s: &str) -> Result<(u64, u64)> {
    let width = width_of(mem.memory64());
    Storer { mem, opts, width }.string(s)
}

impl Storer<'_> {
    fn uint(&mut self, ptr: u64, n: u32, value: u64) -> Result<()> {
        write_uint(self.mem.bytes_mut(), ptr, n, value)
    }

    fn store(&mut self, val: &Val, ty: &InterfaceType, ptr: u64) -> Result<()> {
        use InterfaceType as T;
        let w = self.width;
        let ps = w.ptr_size();
        match (ty, val) {
            (T::Bool, Val::Bool(b)) => self.uint(ptr, 1, u64::from(*b)),
            (T::S8, Val::S8(v)) => self.uint(ptr, 1, *v as u8 as u64),
            (T::U8, Val::U8(v)) => self.uint(ptr, 1, u64::from(*v)),
            (T::S16, Val::S16(v)) => self.uint(ptr, 2, *v as u16 as u64),
            (T::U16, Val::U16(v)) => self.uint(ptr, 2, u64::from(*v)),
            (T::S32, Val::S32(v)) => self.uint(ptr, 4, *v as u32 as u64),
            (T::U32, Val::U32(v)) => self.uint(ptr, 4, u64::from(*v)),
            (T::S64, Val::S64(v)) => self.uint(ptr, 8, *v as u64),
            (T::U64, Val::U64(v)) => self.uint(ptr, 8, *v),
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
            _ => bail!("expected {ty}, found {}", val.kind()),
        }
    }

    /// Calls `realloc` and checks the pointer it returns (the spec's traps after `allocate`
    /// and `reallocate`).
    fn realloc(&mut self, old: u64, old_size: u64, align: u32, new_size: u64) -> Result<u64> {
        let ptr = self.mem.realloc(old, old_size, align, new_size)?;
        check_realloc_result(self.mem.bytes().len(), ptr, align, new_size)?;
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
                let ptr = self.realloc(0, 0, 1, units)?;
                let at = ptr as usize;
                self.mem.bytes_mut()[at..at + s.len()].copy_from_slice(s.as_bytes());
                Ok((ptr, units))
            }
            // store_utf8_to_utf16
            StringEncoding::Utf16 => {
                let worst = 2 * units;
                let ptr = self.realloc(0, 0, 2, worst)?;
                let written = self.write_utf16(ptr, s.encode_utf16())?;
                let ptr = if written < worst { self.realloc(ptr, worst, 2, written)? } else { ptr };
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
        let ptr = self.realloc(0, 0, 2, units)?;
        let mut latin1_len = 0u64;
        for c in s.chars() {
            if u32::from(c) < 0x100 {
                self.mem.bytes_mut()[(ptr + latin1_len) as usize] = u32::from(c) as u8;
                latin1_len += 1;
                continue;
            }
            let worst = 2 * units;
            let ptr = self.realloc(ptr, units, 2, worst)?;
            // Inflate the Latin-1 prefix in place, back to front, then encode the rest.
            let bytes = self.mem.bytes_mut();
            for j in (0..latin1_len as usize).rev() {
                let b = bytes[ptr as usize + j];
                bytes[ptr as usize + 2 * j] = b;
                bytes[ptr as usize + 2 * j + 1] = 0;
            }
            let rest = s.chars().skip(latin1_len as usize).collect::<String>();
            let written = 2 * latin1_len + self.write_utf16(ptr + 2 * latin1_len, rest.encode_utf16())?;
            let ptr = if worst > written { self.realloc(ptr, worst, 2, written)? } else { ptr };
            return Ok((ptr, (written / 2) | utf16_tag(self.width)));
        }
        let ptr = if latin1_len < units { self.realloc(ptr, units, 2, latin1_len)? } else { ptr };
        Ok((ptr, latin1_len))
    }

    /// The spec's `store_list_into_range`.
    fn list(&mut self, element: &InterfaceType, elements: &[Val]) -> Result<(u64, u64)> {
        let size = u64::from(element.abi().size(self.width));
        let len = elements.len() as u64;
        let byte_len = len.checked_mul(size).filter(|n| *n <= REALLOC_I32_MAX);
        let Some(byte_len) = byte_len else {
            bail!("list of {len} elements of {size} bytes is too long");
        };
        let ptr = self.realloc(0, 0, element.abi().align(self.width), byte_len)?;
        for (i, e) in elements.iter().enumerate() {
            self.store(e, element, ptr + i as u64 * size)?;
        }
        Ok((ptr, len))
    }
}

// ---------------------------------------------------------------------------------------------
// Flat lifting and lowering

/// The flat types of `ty`, refusing types that flatten to too many values.
fn flat_types(ty: &InterfaceType, width: MemoryWidth) -> Result<Vec<FlatType>> {
    flatten(ty, width).ok_or_else(|| anyhow!("{ty} flattens to too many core values to be passed flat"))
}

/// The number of flat core values of `ty`, refusing types that flatten to too many (O(1):
/// the layout was computed with the type).
fn flat_count(ty: &InterfaceType) -> Result<usize> {
    ty.abi()
        .flat_count
        .map(usize::from)
        .ok_or_else(|| anyhow!("{ty} flattens to too many core values to be passed flat"))
}

/// Lowers `val` of type `ty` to flat core values appended to `out` (the spec's
/// `lower_flat`); strings and lists are stored in memory with `realloc`.
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
pub(crate) fn lower_flat_unchecked(
    mem: &mut dyn GuestMemory,
    opts: &Options,
    val: &Val,
    ty: &InterfaceType,
    out: &mut Vec<u64>,
) -> Result<()> {
    let width = width_of(mem.memory64());
    flat_count(ty)?;
    Storer { mem, opts, width }.lower(val, ty, out)
}

impl Storer<'_> {
    fn lower(&mut self, val: &Val, ty: &InterfaceType, out: &mut Vec<u64>) -> Result<()> {
        use InterfaceType as T;
        match (ty, val) {
            (T::Bool, Val::Bool(b)) => out.push(u64::from(*b)),
            (T::S8, Val::S8(v)) => out.push(i32::from(*v) as u32 as u64),
            (T::U8, Val::U8(v)) => out.push(u64::from(*v)),
            (T::S16, Val::S16(v)) => out.push(i32::from(*v) as u32 as u64),
            (T::U16, Val::U16(v)) => out.push(u64::from(*v)),
            (T::S32, Val::S32(v)) => out.push(*v as u32 as u64),
            (T::U32, Val::U32(v)) => out.push(u64::from(*v)),
            (T::S64, Val::S64(v)) => out.push(*v as u64),
            (T::U64, Val::U64(v)) => out.push(*v),
            (T::F32, Val::Float32(v)) => out.push(u64::from(v.to_bits())),
            (T::F64, Val::Float64(v)) => out.push(v.to_bits()),
            (T::Char, Val::Char(c)) => out.push(u64::from(*c)),
            (T::String, Val::String(s)) => {
                let (ptr, units) = self.string(s)?;
                out.extend([ptr, units]);
            }
            (T::List(list), Val::List(elements)) => {
                let (ptr, len) = self.list(list.element(), elements)?;
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
                    self.lower(v, &f.ty, out)?;
                }
            }
            (T::Tuple(tuple), Val::Tuple(elements)) => {
                for (t, v) in tuple.types().iter().zip(elements) {
                    self.lower(v, t, out)?;
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
            _ => bail!("expected {ty}, found {}", val.kind()),
        }
        Ok(())
    }
}

/// Lifts a value of type `ty` from flat core values (the spec's `lift_flat`), reading strings
/// and lists from memory.
pub fn lift_flat(
    mem: &mut dyn GuestMemory,
    opts: &Options,
    ty: &InterfaceType,
    flat: &mut impl Iterator<Item = u64>,
) -> Result<Val> {
    let width = width_of(mem.memory64());
    flat_count(ty)?;
    let cx = Loader { mem: RefCell::new(mem), opts, width };
    cx.lift(ty, flat)
}

fn next(flat: &mut dyn Iterator<Item = u64>) -> Result<u64> {
    flat.next().ok_or_else(|| anyhow!("too few flat values"))
}

impl Loader<'_> {
    /// A pointer-sized flat value: an `i32` keeps its low 32 bits.
    fn next_ptr(&self, flat: &mut dyn Iterator<Item = u64>) -> Result<u64> {
        let x = next(flat)?;
        Ok(match self.width {
            MemoryWidth::Mem32 => u64::from(x as u32),
            MemoryWidth::Mem64 => x,
        })
    }

    fn lift(&self, ty: &InterfaceType, flat: &mut dyn Iterator<Item = u64>) -> Result<Val> {
        use InterfaceType as T;
        Ok(match ty {
            T::Bool => Val::Bool(next(flat)? as u32 != 0),
            T::S8 => Val::S8(next(flat)? as u8 as i8),
            T::U8 => Val::U8(next(flat)? as u8),
            T::S16 => Val::S16(next(flat)? as u16 as i16),
            T::U16 => Val::U16(next(flat)? as u16),
            T::S32 => Val::S32(next(flat)? as u32 as i32),
            T::U32 => Val::U32(next(flat)? as u32),
            T::S64 => Val::S64(next(flat)? as i64),
            T::U64 => Val::U64(next(flat)?),
            T::F32 => Val::Float32(f32::from_bits(next(flat)? as u32)),
            T::F64 => Val::Float64(f64::from_bits(next(flat)?)),
            T::Char => Val::Char(char_from(next(flat)? as u32)?),
            T::String => {
                let ptr = self.next_ptr(flat)?;
                let units = self.next_ptr(flat)?;
                Val::String(self.string(ptr, units)?)
            }
            T::List(list) => {
                let ptr = self.next_ptr(flat)?;
                let len = self.next_ptr(flat)?;
                self.list(list.element(), ptr, len)?
            }
            T::Map(map) => self.lift(map.entries(), flat)?,
            T::FixedList(list) => {
                Val::List((0..list.len()).map(|_| self.lift(list.element(), flat)).collect::<Result<_>>()?)
            }
            T::Record(record) => {
                let fields = record.fields().iter().map(|f| Ok((f.name.clone(), self.lift(&f.ty, flat)?)));
                Val::Record(fields.collect::<Result<_>>()?)
            }
            T::Tuple(tuple) => Val::Tuple(tuple.types().iter().map(|t| self.lift(t, flat)).collect::<Result<_>>()?),
            T::Variant(_) | T::Option(_) | T::Result(_) => self.lift_variant(ty, flat)?,
            T::Enum(e) => enum_case(ty, e.names(), u64::from(next(flat)? as u32))?,
            T::Flags(flags) => {
                let count = flags_i32_count(flags.names().len());
                let words = (0..count).map(|_| Ok(next(flat)? as u32)).collect::<Result<Vec<_>>>()?;
                flags_from_words(flags.names(), &words)
            }
            T::Own(_) | T::Borrow(_) => self.handle(ty, u64::from(next(flat)? as u32))?,
        })
    }

    /// The spec's `lift_flat_variant`: reads all the joined payload slots, converts those the
    /// case's payload uses from the joined type to the payload's own, and lifts the payload.
    fn lift_variant(&self, ty: &InterfaceType, flat: &mut dyn Iterator<Item = u64>) -> Result<Val> {
        let joined = flat_types(ty, self.width)?;
        let index = u64::from(next(flat)? as u32);
        let slots = (1..joined.len()).map(|_| next(flat)).collect::<Result<Vec<_>>>()?;
        let (payload_ty, _) = variant_case(ty, index)?;
        let payload = match payload_ty {
            None => None,
            Some(pty) => {
                let wanted = flat_types(pty, self.width)?;
                let coerced = slots.iter().zip(&joined[1..]).zip(&wanted).map(|((x, have), want)| match (have, want) {
                    (FlatType::I64, FlatType::I32 | FlatType::F32) => u64::from(*x as u32),
                    _ => *x,
                });
                let mut coerced = coerced.collect::<Vec<_>>().into_iter();
                Some(Box::new(self.lift(pty, &mut coerced)?))
            }
        };
        Ok(make_variant(ty, index, payload))
    }
}
