//! The canonical ABI's layout primitives: size, alignment, discriminant and flags widths,
//! record field offsets and variant payload offsets, exactly as CanonicalABI.md's "Alignment"
//! and "Element Size" sections define them (with the specialized types `tuple`, `enum`,
//! `option` and `result` despecialized), and the core value types values flatten to.
//!
//! Both widths of linear memory are covered. The spec parameterises layout by the memory's
//! `ptr_type`: `string` and `list<T>` are a pointer and a length of `ptr_size` bytes each
//! (4 for an `i32` memory, 8 for an `i64`/memory64 one), aligned to `ptr_size`, and flatten to
//! two values of the memory's pointer type. Nothing else depends on the memory width.
//!
//! Everything here is computed from the layouts of the parts ([`CanonicalAbiInfo`]), never
//! from types: this module knows nothing of the interface type tree. That is what lets the
//! tree (`types`) compute each node's layout once, when the node is built, without the tree
//! and the layout rules importing each other. Walking the tree (flattening a type, the core
//! signature of a function) is `abi`'s, on top of both.
//!
//! It neither loads nor stores values and knows nothing of string encodings. Types the spec's
//! validation rejects (empty records, tuples, variants or enums, fixed-length lists of length
//! 0, flags with 0 or more than 32 labels) still get a layout so that nothing here panics; see
//! [`discriminant_size`] and [`flags_size`] for how. Sizes saturate at `u32::MAX` rather than
//! overflow; validation bounds every valid type below 2^28 bytes, so valid types never
//! saturate.

/// At most this many flat core values are passed as parameters; more go through memory.
pub const MAX_FLAT_PARAMS: usize = 16;

/// The largest number of labels a `flags` type may have (Binary.md: `0 < |l*| <= 32`).
pub const MAX_FLAGS: usize = 32;

/// The address width of the linear memory a value lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryWidth {
    /// A 32-bit memory: pointers and lengths are `i32`, 4 bytes.
    Mem32,
    /// A 64-bit (memory64) memory: pointers and lengths are `i64`, 8 bytes.
    Mem64,
}

impl MemoryWidth {
    /// The width of a memory, given whether it is a memory64 memory.
    pub fn from_memory64(memory64: bool) -> MemoryWidth {
        if memory64 { MemoryWidth::Mem64 } else { MemoryWidth::Mem32 }
    }

    /// The spec's `ptr_size`: bytes in a pointer or a length.
    pub const fn ptr_size(self) -> u32 {
        match self {
            MemoryWidth::Mem32 => 4,
            MemoryWidth::Mem64 => 8,
        }
    }

    /// The spec's `ptr_type`: the core type of a pointer or a length.
    pub const fn ptr_type(self) -> FlatType {
        match self {
            MemoryWidth::Mem32 => FlatType::I32,
            MemoryWidth::Mem64 => FlatType::I64,
        }
    }
}

/// A core wasm value type that a component value flattens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlatType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

impl FlatType {
    /// The core type's name in WebAssembly text: `i32`, `i64`, `f32` or `f64`.
    pub const fn name(self) -> &'static str {
        match self {
            FlatType::I32 => "i32",
            FlatType::I64 => "i64",
            FlatType::F32 => "f32",
            FlatType::F64 => "f64",
        }
    }

    /// The spec's `join`: the narrowest core type both `self` and `other` can be bit-cast or
    /// zero-extended into, used where variant cases' flattenings overlap.
    pub const fn join(self, other: FlatType) -> FlatType {
        match (self, other) {
            (FlatType::I32, FlatType::I32) | (FlatType::I32, FlatType::F32) => FlatType::I32,
            (FlatType::F32, FlatType::I32) => FlatType::I32,
            (FlatType::F32, FlatType::F32) => FlatType::F32,
            (FlatType::F64, FlatType::F64) => FlatType::F64,
            _ => FlatType::I64,
        }
    }
}

/// Size, alignment and flat-value count of one type, for both memory widths.
///
/// `flat_count` is `Some(n)` when the type flattens to `n <= MAX_FLAT_PARAMS` core values and
/// `None` when it flattens to more. Such a type can never be passed flat (neither as
/// parameters nor as results), so its exact count is of no use and is not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CanonicalAbiInfo {
    /// Size in bytes in a 32-bit memory (the spec's `elem_size(t, 'i32')`).
    pub size32: u32,
    /// Alignment in bytes in a 32-bit memory (the spec's `alignment(t, 'i32')`).
    pub align32: u32,
    /// Size in bytes in a 64-bit memory.
    pub size64: u32,
    /// Alignment in bytes in a 64-bit memory.
    pub align64: u32,
    /// Number of flat core values, or `None` if more than [`MAX_FLAT_PARAMS`].
    pub flat_count: Option<u8>,
}

impl CanonicalAbiInfo {
    /// A scalar whose size equals its alignment in both widths and flattens to one value.
    pub const fn scalar(size: u32) -> CanonicalAbiInfo {
        CanonicalAbiInfo { size32: size, align32: size, size64: size, align64: size, flat_count: Some(1) }
    }

    /// `bool`, `s8`, `u8`.
    pub const SCALAR1: CanonicalAbiInfo = CanonicalAbiInfo::scalar(1);
    /// `s16`, `u16`.
    pub const SCALAR2: CanonicalAbiInfo = CanonicalAbiInfo::scalar(2);
    /// `s32`, `u32`, `f32`, `char`, `own`, `borrow`.
    pub const SCALAR4: CanonicalAbiInfo = CanonicalAbiInfo::scalar(4);
    /// `s64`, `u64`, `f64`.
    pub const SCALAR8: CanonicalAbiInfo = CanonicalAbiInfo::scalar(8);
    /// `string` and `list<T>`: a pointer and a length, each `ptr_size` bytes.
    pub const POINTER_PAIR: CanonicalAbiInfo = CanonicalAbiInfo {
        size32: 2 * MemoryWidth::Mem32.ptr_size(),
        align32: MemoryWidth::Mem32.ptr_size(),
        size64: 2 * MemoryWidth::Mem64.ptr_size(),
        align64: MemoryWidth::Mem64.ptr_size(),
        flat_count: Some(2),
    };

    /// Size in bytes in a memory of the given width.
    pub const fn size(&self, width: MemoryWidth) -> u32 {
        match width {
            MemoryWidth::Mem32 => self.size32,
            MemoryWidth::Mem64 => self.size64,
        }
    }

    /// Alignment in bytes in a memory of the given width.
    pub const fn align(&self, width: MemoryWidth) -> u32 {
        match width {
            MemoryWidth::Mem32 => self.align32,
            MemoryWidth::Mem64 => self.align64,
        }
    }

    /// The layout of a record (or tuple) with fields of these layouts, in order.
    pub fn record<'a>(fields: impl IntoIterator<Item = &'a CanonicalAbiInfo>) -> CanonicalAbiInfo {
        record_layout(fields).0
    }

    /// The layout of a variant whose cases carry these payloads (`None`: no payload).
    pub fn variant<'a>(cases: impl IntoIterator<Item = Option<&'a CanonicalAbiInfo>>) -> CanonicalAbiInfo {
        variant_layout(cases).0
    }

    /// The layout of an `enum` with `cases` labels: a variant without payloads.
    pub fn enumeration(cases: usize) -> CanonicalAbiInfo {
        CanonicalAbiInfo::scalar(discriminant_size(cases))
    }

    /// The layout of a `flags` type with `count` labels.
    pub fn flags(count: usize) -> CanonicalAbiInfo {
        let size = flags_size(count);
        let align = flags_align(count);
        let flat = flags_i32_count(count);
        CanonicalAbiInfo {
            size32: size,
            align32: align,
            size64: size,
            align64: align,
            flat_count: u8::try_from(flat).ok().filter(|n| usize::from(*n) <= MAX_FLAT_PARAMS),
        }
    }

    /// The layout of `list<element, len>`: `len` elements back to back, like a tuple.
    pub fn fixed_list(element: &CanonicalAbiInfo, len: u32) -> CanonicalAbiInfo {
        let flat_count = match element.flat_count {
            Some(n) => u32::from(n).checked_mul(len).filter(|n| *n as usize <= MAX_FLAT_PARAMS).map(|n| n as u8),
            None if len == 0 => Some(0),
            None => None,
        };
        // The element size is already a multiple of its alignment, so no padding is needed.
        CanonicalAbiInfo {
            size32: element.size32.saturating_mul(len),
            align32: element.align32,
            size64: element.size64.saturating_mul(len),
            align64: element.align64,
            flat_count,
        }
    }
}

/// Adds two flat counts, giving `None` once the total exceeds [`MAX_FLAT_PARAMS`].
fn add_flat(a: Option<u8>, b: Option<u8>) -> Option<u8> {
    let sum = a? as usize + b? as usize;
    if sum <= MAX_FLAT_PARAMS { Some(sum as u8) } else { None }
}

/// The larger of two flat counts, where `None` (too many) is larger than any count.
fn max_flat(a: Option<u8>, b: Option<u8>) -> Option<u8> {
    Some(a?.max(b?))
}

/// The spec's `align_to`: rounds `offset` up to a multiple of `align` (a power of two),
/// saturating at `u32::MAX`.
pub const fn align_to(offset: u32, align: u32) -> u32 {
    match offset.checked_next_multiple_of(align) {
        Some(aligned) => aligned,
        None => u32::MAX,
    }
}

/// Bytes in the discriminant of a variant (or enum, option, result) with `cases` cases: the
/// smallest of 1, 2 or 4 that numbers cases `0..cases`.
///
/// The spec computes `ceil(log2(n) / 8)` and maps 0 and 1 to `u8`, 2 to `u16` and 3 to `u32`;
/// that is, up to 256 cases take 1 byte and up to 65536 take 2. For more than 2^24 cases the
/// formula gives 4, which the spec's `match` omits; 4 bytes is the only sensible reading, and
/// is used for everything above 65536. The spec asserts `cases > 0`; 0 cases gets 1 byte here.
pub const fn discriminant_size(cases: usize) -> u32 {
    if cases <= 1 << 8 {
        1
    } else if cases <= 1 << 16 {
        2
    } else {
        4
    }
}

/// Bytes a `flags` type with `count` labels takes in memory.
///
/// The spec allows 1 to 32 labels: up to 8 take 1 byte, up to 16 take 2 bytes, up to 32 take
/// 4 bytes. Outside that range (which validation rejects) this follows the spec's earlier
/// revision: 0 labels take no bytes, and more than 32 take one 4-byte word per 32 labels.
pub const fn flags_size(count: usize) -> u32 {
    match count {
        0 => 0,
        1..=8 => 1,
        9..=16 => 2,
        _ => 4 * flags_i32_count(count),
    }
}

/// Alignment of a `flags` type with `count` labels: 1, 2 or 4 as [`flags_size`] (never more
/// than 4).
pub const fn flags_align(count: usize) -> u32 {
    match count {
        0..=8 => 1,
        9..=16 => 2,
        _ => 4,
    }
}

/// Number of `i32`s a `flags` type with `count` labels flattens to: 1 for every valid type
/// (1 to 32 labels); per the earlier revision, 0 for no labels and one per 32 labels above 32.
pub const fn flags_i32_count(count: usize) -> u32 {
    count.div_ceil(32) as u32
}

/// Offset of a variant's payload: after the discriminant, aligned to the largest alignment of
/// any case payload (1 when no case has one).
pub const fn variant_payload_offset(discriminant_size: u32, max_case_align: u32) -> u32 {
    align_to(discriminant_size, max_case_align)
}

/// Offsets of a record's (or tuple's) fields, for both memory widths.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordLayout {
    offsets32: Box<[u32]>,
    offsets64: Box<[u32]>,
}

impl RecordLayout {
    /// Offset of each field, in order, from the start of the record.
    pub fn offsets(&self, width: MemoryWidth) -> &[u32] {
        match width {
            MemoryWidth::Mem32 => &self.offsets32,
            MemoryWidth::Mem64 => &self.offsets64,
        }
    }
}

/// The spec's `elem_size_record` and `alignment_record`, computed once for both widths along
/// with every field's offset. An empty record (not valid) has size 0 and alignment 1.
pub fn record_layout<'a>(fields: impl IntoIterator<Item = &'a CanonicalAbiInfo>) -> (CanonicalAbiInfo, RecordLayout) {
    let (mut offsets32, mut offsets64) = (Vec::new(), Vec::new());
    let (mut size32, mut size64, mut align32, mut align64) = (0u32, 0u32, 1u32, 1u32);
    let mut flat_count = Some(0u8);
    for field in fields {
        size32 = align_to(size32, field.align32);
        offsets32.push(size32);
        size32 = size32.saturating_add(field.size32);
        align32 = align32.max(field.align32);
        size64 = align_to(size64, field.align64);
        offsets64.push(size64);
        size64 = size64.saturating_add(field.size64);
        align64 = align64.max(field.align64);
        flat_count = add_flat(flat_count, field.flat_count);
    }
    let info = CanonicalAbiInfo {
        size32: align_to(size32, align32),
        align32,
        size64: align_to(size64, align64),
        align64,
        flat_count,
    };
    let layout = RecordLayout { offsets32: offsets32.into(), offsets64: offsets64.into() };
    (info, layout)
}

/// Where a variant's (or option's, result's) discriminant and payload live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VariantLayout {
    /// Bytes in the discriminant, at offset 0: 1, 2 or 4.
    pub discriminant_size: u32,
    /// Offset of the payload in a 32-bit memory.
    pub payload_offset32: u32,
    /// Offset of the payload in a 64-bit memory.
    pub payload_offset64: u32,
}

impl VariantLayout {
    /// Offset of the payload in a memory of the given width.
    pub const fn payload_offset(&self, width: MemoryWidth) -> u32 {
        match width {
            MemoryWidth::Mem32 => self.payload_offset32,
            MemoryWidth::Mem64 => self.payload_offset64,
        }
    }
}

/// The spec's `elem_size_variant` and `alignment_variant`, for both widths, with the payload
/// offset. Each item is one case's payload layout (`None`: the case has no payload).
pub fn variant_layout<'a>(
    cases: impl IntoIterator<Item = Option<&'a CanonicalAbiInfo>>,
) -> (CanonicalAbiInfo, VariantLayout) {
    let mut count = 0usize;
    let (mut case_align32, mut case_align64, mut case_size32, mut case_size64) = (1u32, 1u32, 0u32, 0u32);
    let mut payload_flat = Some(0u8);
    for case in cases {
        count += 1;
        if let Some(payload) = case {
            case_align32 = case_align32.max(payload.align32);
            case_align64 = case_align64.max(payload.align64);
            case_size32 = case_size32.max(payload.size32);
            case_size64 = case_size64.max(payload.size64);
            payload_flat = max_flat(payload_flat, payload.flat_count);
        }
    }
    let disc = discriminant_size(count);
    let payload_offset32 = variant_payload_offset(disc, case_align32);
    let payload_offset64 = variant_payload_offset(disc, case_align64);
    // The discriminant's alignment is its size.
    let align32 = disc.max(case_align32);
    let align64 = disc.max(case_align64);
    let info = CanonicalAbiInfo {
        size32: align_to(payload_offset32.saturating_add(case_size32), align32),
        align32,
        size64: align_to(payload_offset64.saturating_add(case_size64), align64),
        align64,
        flat_count: add_flat(Some(1), payload_flat),
    };
    (info, VariantLayout { discriminant_size: disc, payload_offset32, payload_offset64 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use FlatType::{F32, F64, I32, I64};

    #[test]
    fn discriminants() {
        // ceil(log2(n) / 8): 1 case -> 0 -> u8; 256 -> 8/8 = 1 -> u8; 257 -> ceil(8.006/8) = 2
        // -> u16; 65536 -> 16/8 = 2 -> u16; 65537 -> 3 -> u32; 2^24 + 1 -> 4 -> u32 (see doc).
        let cases = [(0, 1), (1, 1), (2, 1), (256, 1), (257, 2), (65536, 2), (65537, 4), ((1 << 24) + 1, 4)];
        for (n, size) in cases.into_iter().chain([(u32::MAX as usize, 4)]) {
            assert_eq!(discriminant_size(n), size, "{n} cases");
        }
    }

    #[test]
    fn join_rule() {
        // Equal types stay; i32 with f32 is i32; every other mix is i64.
        let cases = [(I32, F32, I32), (F32, I32, I32), (F32, F32, F32), (F64, F64, F64), (F32, F64, I64)];
        for (a, b, joined) in cases.into_iter().chain([(I32, I64, I64), (F64, I32, I64), (I64, F32, I64)]) {
            assert_eq!(a.join(b), joined, "join({a:?}, {b:?})");
        }
    }

    #[test]
    fn align_to_rounds_up() {
        for (offset, align, aligned) in [(0, 8, 0), (1, 8, 8), (8, 8, 8), (9, 4, 12), (u32::MAX - 1, 4, u32::MAX)] {
            assert_eq!(align_to(offset, align), aligned);
        }
    }
}
