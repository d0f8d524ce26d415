//! Where a lowered value's meaning lies: the places of every scalar, discriminant, pointer,
//! length and string of a value in flat core values and in memory, found by walking its type
//! over what was lowered. The oracle uses them twice: the bytes they cover are the bytes a
//! store must agree on (the rest is padding, or allocated and never written), and each is a
//! place to inject garbage into, with garbage chosen for what the spec checks there
//! (discriminants past the last case, surrogate `char`s, misaligned or out-of-bounds
//! pointers, overlong lengths, a `latin1+utf16` tag flipped, invalid UTF-8 or UTF-16).
//!
//! The walk trusts nothing it reads: a pointer or length that leads outside the memory ends
//! the walk there.

use arbitrary::{Result, Unstructured};
use weld::component::InterfaceType;
use weld_environ::component::translate::StringEncoding;
use weld_environ::component::{FlatType, MemoryWidth, flatten};

/// Where a site is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// Flat value `n`, of core type `core`.
    Flat(usize, FlatType),
    /// Bytes at this offset in memory.
    Mem(u64),
}

/// What a site holds, which decides the garbage injected there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// An integer, `bool` or flags word: any bits.
    Bits,
    /// A float.
    Float,
    /// A `char`.
    Char,
    /// A discriminant of `cases` cases.
    Discriminant(u32),
    /// A handle index.
    Handle,
    /// A pointer to a string or list whose elements are aligned to `align`.
    Pointer(u32),
    /// A string's tagged length in code units, or a list's length in elements of `size`.
    Length { string: bool, size: u32 },
    /// A string's bytes.
    StringBytes { utf16: bool },
}

/// One place: where, how many bytes (for memory), and what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Site {
    pub at: At,
    pub len: u64,
    pub what: What,
}

/// Walks values over one memory.
pub struct Walker<'a> {
    pub bytes: &'a [u8],
    pub width: MemoryWidth,
    pub encoding: StringEncoding,
    pub sites: Vec<Site>,
}

impl Walker<'_> {
    fn read(&self, at: u64, n: u32) -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let raw = self.bytes.get(at..at.checked_add(n as usize)?)?;
        let mut le = [0u8; 8];
        le[..raw.len()].copy_from_slice(raw);
        Some(u64::from_le_bytes(le))
    }

    fn push(&mut self, at: At, len: u64, what: What) {
        self.sites.push(Site { at, len, what });
    }

    /// The sites of a string of `units` tagged code units at `ptr` (its bytes, if they are
    /// in the memory).
    fn string_bytes(&mut self, ptr: u64, units: u64) {
        let tag = 1u64 << (self.width.ptr_size() * 8 - 1);
        let (len, utf16) = match self.encoding {
            StringEncoding::Utf8 => (Some(units), false),
            StringEncoding::Utf16 => (units.checked_mul(2), true),
            StringEncoding::CompactUtf16 if units & tag != 0 => ((units ^ tag).checked_mul(2), true),
            StringEncoding::CompactUtf16 => (Some(units), false),
        };
        if let Some(len) = len.filter(|n| *n > 0 && ptr.checked_add(*n).is_some_and(|e| e <= self.bytes.len() as u64)) {
            self.push(At::Mem(ptr), len, What::StringBytes { utf16 });
        }
    }

    /// The elements of a list of `len` elements at `ptr`, if they are in the memory.
    fn list_elements(&mut self, element: &InterfaceType, ptr: u64, len: u64) {
        let size = u64::from(element.abi().size(self.width));
        let fits = len.checked_mul(size).and_then(|n| ptr.checked_add(n)).is_some_and(|e| e <= self.bytes.len() as u64);
        if fits && len <= 4096 {
            for i in 0..len {
                self.mem(element, ptr + i * size);
            }
        }
    }

    /// The sites of a value of `ty` stored at `ptr`.
    pub fn mem(&mut self, ty: &InterfaceType, ptr: u64) {
        use InterfaceType as T;
        let w = self.width;
        let size = u64::from(ty.abi().size(w));
        if ptr.checked_add(size).is_none_or(|e| e > self.bytes.len() as u64) {
            return;
        }
        let ps = w.ptr_size();
        match ty {
            T::Bool | T::S8 | T::U8 | T::S16 | T::U16 | T::S32 | T::U32 | T::S64 | T::U64 | T::Flags(_) => {
                self.push(At::Mem(ptr), size, What::Bits)
            }
            T::F32 | T::F64 => self.push(At::Mem(ptr), size, What::Float),
            T::Char => self.push(At::Mem(ptr), 4, What::Char),
            // The async values are handles too (never generated: see `json.rs`).
            T::Own(_) | T::Borrow(_) | T::Future(_) | T::Stream(_) | T::ErrorContext => {
                self.push(At::Mem(ptr), 4, What::Handle)
            }
            T::String | T::List(_) | T::Map(_) => {
                let element = match ty {
                    T::List(l) => Some(l.element()),
                    T::Map(m) => Some(m.entries()),
                    _ => None,
                };
                let align = element.map_or(2, |e| e.abi().align(w));
                let elem_size = element.map_or(1, |e| e.abi().size(w));
                self.push(At::Mem(ptr), u64::from(ps), What::Pointer(align));
                self.push(
                    At::Mem(ptr + u64::from(ps)),
                    u64::from(ps),
                    What::Length { string: element.is_none(), size: elem_size },
                );
                let (Some(p), Some(n)) = (self.read(ptr, ps), self.read(ptr + u64::from(ps), ps)) else { return };
                match element {
                    Some(e) => self.list_elements(e, p, n),
                    None => self.string_bytes(p, n),
                }
            }
            T::FixedList(l) => {
                let size = u64::from(l.element().abi().size(w));
                for i in 0..u64::from(l.len()) {
                    self.mem(l.element(), ptr + i * size);
                }
            }
            T::Record(r) => {
                for (f, off) in r.fields().iter().zip(r.field_offsets(w)) {
                    self.mem(&f.ty, ptr + u64::from(*off));
                }
            }
            T::Tuple(t) => {
                for (t, off) in t.types().iter().zip(t.field_offsets(w)) {
                    self.mem(t, ptr + u64::from(*off));
                }
            }
            T::Enum(e) => {
                self.push(At::Mem(ptr), u64::from(e.discriminant_size()), What::Discriminant(e.names().len() as u32))
            }
            T::Variant(_) | T::Option(_) | T::Result(_) => {
                let (cases, layout) = variant_parts(ty);
                let disc = layout.discriminant_size;
                self.push(At::Mem(ptr), u64::from(disc), What::Discriminant(cases.len() as u32));
                let Some(index) = self.read(ptr, disc) else { return };
                if let Some(Some(payload)) = cases.get(index as usize) {
                    self.mem(payload, ptr + u64::from(layout.payload_offset(w)));
                }
            }
        }
    }

    /// The sites of a value of `ty` in `flat` from slot `*next` on (advanced past it), and
    /// of what its pointers point to.
    pub fn flat(&mut self, ty: &InterfaceType, flat: &[u64], next: &mut usize) {
        let Some(types) = flatten(ty, self.width) else { return };
        let start = *next;
        *next += types.len();
        self.flat_at(ty, flat, &types, start);
    }

    /// `ty`'s sites when its flat values are `flat[start..]`, of the (joined) core `types`.
    fn flat_at(&mut self, ty: &InterfaceType, flat: &[u64], types: &[FlatType], start: usize) {
        use InterfaceType as T;
        let slot = |i: usize| At::Flat(start + i, types.get(i).copied().unwrap_or(FlatType::I32));
        let value = |i: usize| flat.get(start + i).copied();
        let w = self.width;
        match ty {
            T::Bool | T::S8 | T::U8 | T::S16 | T::U16 | T::S32 | T::U32 | T::S64 | T::U64 => {
                self.push(slot(0), 0, What::Bits)
            }
            T::F32 | T::F64 => self.push(slot(0), 0, What::Float),
            T::Char => self.push(slot(0), 0, What::Char),
            T::Own(_) | T::Borrow(_) | T::Future(_) | T::Stream(_) | T::ErrorContext => {
                self.push(slot(0), 0, What::Handle)
            }
            T::Flags(f) => {
                for i in 0..weld_environ::component::flags_i32_count(f.names().len()) as usize {
                    self.push(slot(i), 0, What::Bits);
                }
            }
            T::String | T::List(_) | T::Map(_) => {
                let element = match ty {
                    T::List(l) => Some(l.element()),
                    T::Map(m) => Some(m.entries()),
                    _ => None,
                };
                self.push(slot(0), 0, What::Pointer(element.map_or(2, |e| e.abi().align(w))));
                let size = element.map_or(1, |e| e.abi().size(w));
                self.push(slot(1), 0, What::Length { string: element.is_none(), size });
                let (Some(p), Some(n)) = (value(0), value(1)) else { return };
                let mask = if w == MemoryWidth::Mem32 { u64::from(u32::MAX) } else { u64::MAX };
                match element {
                    Some(e) => self.list_elements(e, p & mask, n & mask),
                    None => self.string_bytes(p & mask, n & mask),
                }
            }
            T::FixedList(_) | T::Record(_) | T::Tuple(_) => {
                let parts: Vec<&InterfaceType> = match ty {
                    T::FixedList(l) => (0..l.len()).map(|_| l.element()).collect(),
                    T::Record(r) => r.fields().iter().map(|f| &f.ty).collect(),
                    T::Tuple(t) => t.types().iter().collect(),
                    _ => Vec::new(),
                };
                let mut i = 0;
                for part in parts {
                    let n = part.abi().flat_count.map_or(0, usize::from);
                    self.flat_at(part, flat, &types[i.min(types.len())..], start + i);
                    i += n;
                }
            }
            T::Enum(e) => self.push(slot(0), 0, What::Discriminant(e.names().len() as u32)),
            T::Variant(_) | T::Option(_) | T::Result(_) => {
                let (cases, _) = variant_parts(ty);
                self.push(slot(0), 0, What::Discriminant(cases.len() as u32));
                let Some(index) = value(0) else { return };
                if let Some(Some(payload)) = cases.get(index as u32 as usize) {
                    // The payload's own sites, in the joined slots (an i64 slot may hold
                    // an i32 payload: garbage in its high bits must be ignored).
                    self.flat_at(payload, flat, types.get(1..).unwrap_or_default(), start + 1);
                }
            }
        }
    }
}

/// The cases (payload types) and layout of a variant-like type.
fn variant_parts(ty: &InterfaceType) -> (Vec<Option<&InterfaceType>>, &weld_environ::component::VariantLayout) {
    match ty {
        InterfaceType::Variant(v) => (v.cases().iter().map(|c| c.ty.as_ref()).collect(), v.layout()),
        InterfaceType::Option(o) => (vec![None, Some(o.some())], o.layout()),
        InterfaceType::Result(r) => (vec![r.ok(), r.err()], r.layout()),
        _ => unreachable!("variant_parts of a variant-like type"),
    }
}

/// Garbage for `site`, whose current value is `current`, in a memory of `mem_len` bytes with
/// pointers of `width` (pointers and lengths stay within the core type of the site).
pub fn garbage(u: &mut Unstructured, site: &Site, current: u64, mem_len: u64, width: MemoryWidth) -> Result<u64> {
    let tag = 1u64 << (width.ptr_size() * 8 - 1);
    let pick = |u: &mut Unstructured, options: &[u64]| -> Result<u64> { Ok(options[u.choose_index(options.len())?]) };
    let any: u64 = u.arbitrary()?;
    Ok(match site.what {
        What::Bits => {
            let bit = 1u64 << u.int_in_range(0..=63)?;
            pick(u, &[any, u64::MAX, current ^ bit, current | (any << 32)])?
        }
        What::Float => {
            pick(u, &[any, 0x7fc0_0000, 0x7f80_0001, 0xffc0_0001, 0x7ff8_0000_0000_0001, 0xfff0_0000_0000_0001])?
        }
        What::Char => pick(u, &[0xd800, 0xdfff, 0x11_0000, 0x10_ffff, 0xe000, u64::from(u32::MAX), any])?,
        What::Discriminant(n) => {
            let n = u64::from(n);
            pick(u, &[n, n + 1, n - 1, 0xff, 0x100, 0xffff, 0x1_0000, u64::from(u32::MAX), any])?
        }
        What::Handle => pick(u, &[0, 1, 2, 3, 4, current + 1, u64::from(u32::MAX)])?,
        What::Pointer(align) => {
            let a = u64::from(align);
            pick(
                u,
                &[current + 1, current + a / 2, current.wrapping_sub(a), mem_len, mem_len - 1, mem_len - a, any, tag],
            )?
        }
        What::Length { string, size } => {
            let limit = (1u64 << 28) / u64::from(size.max(1));
            let flip = if string { current ^ tag } else { current + 1 };
            pick(u, &[current + 1, flip, limit, limit + 1, mem_len, u64::from(u32::MAX), any, tag - 1])?
        }
        What::StringBytes { utf16 } => {
            if utf16 {
                pick(u, &[0xd800, 0xdc00, 0xdfff, 0xd83d])?
            } else {
                pick(u, &[0xff, 0xc0, 0x80, 0xed, 0xf4, 0xe2])?
            }
        }
    })
}
