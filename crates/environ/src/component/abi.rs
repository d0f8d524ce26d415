//! The canonical ABI's static layout rules: size, alignment, discriminant and flags widths,
//! record field offsets, variant payload offsets, and flattening into core wasm values,
//! exactly as CanonicalABI.md's "Alignment", "Element Size" and "Flattening" sections define
//! them (with the specialized types `tuple`, `enum`, `option` and `result` despecialized).
//!
//! Both widths of linear memory are covered. The spec parameterises layout by the memory's
//! `ptr_type`: `string` and `list<T>` are a pointer and a length of `ptr_size` bytes each
//! (4 for an `i32` memory, 8 for an `i64`/memory64 one), aligned to `ptr_size`, and flatten to
//! two values of the memory's pointer type. Nothing else depends on the memory width.
//!
//! This module computes layout only. It neither loads nor stores values, knows nothing of
//! string encodings, and covers synchronous functions only (no `async` lowering limits, no
//! `stream`/`future`/`error-context`). Types the spec's validation rejects (empty records,
//! tuples, variants or enums, fixed-length lists of length 0, flags with 0 or more than 32
//! labels) still get a layout so that nothing here panics; see [`discriminant_size`] and
//! [`flags_size`] for how. Sizes saturate at `u32::MAX` rather than overflow; validation
//! bounds every valid type below 2^28 bytes, so valid types never saturate.

use super::types::{FuncType, InterfaceType};

/// At most this many flat core values are passed as parameters; more go through memory.
pub const MAX_FLAT_PARAMS: usize = 16;

/// At most this many flat core values are returned as results; more go through memory.
pub const MAX_FLAT_RESULTS: usize = 1;

/// The spec's `MAX_STRING_BYTE_LENGTH`: lifting a longer string traps.
pub const MAX_STRING_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The spec's `MAX_LIST_BYTE_LENGTH`: lifting a longer list traps.
pub const MAX_LIST_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The spec's `REALLOC_I32_MAX`: no byte length passed to `realloc` exceeds it.
pub const REALLOC_I32_MAX: u64 = (1 << 32) - 1;

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

/// Offsets of the fields of a record (or tuple, or a function's parameters stored in memory)
/// with fields of these types, in order. Records and tuples also cache theirs
/// ([`RecordType::field_offsets`](super::RecordType::field_offsets)).
pub fn field_offsets(types: &[InterfaceType], width: MemoryWidth) -> Vec<u32> {
    let mut offset = 0u32;
    let mut offsets = Vec::with_capacity(types.len());
    for ty in types {
        let abi = ty.abi();
        offset = align_to(offset, abi.align(width));
        offsets.push(offset);
        offset = offset.saturating_add(abi.size(width));
    }
    offsets
}

/// The spec's `flatten_type`: the core values a value of `ty` is passed as, or `None` if it
/// flattens to more than [`MAX_FLAT_PARAMS`] values (and so is only ever passed in memory).
pub fn flatten(ty: &InterfaceType, width: MemoryWidth) -> Option<Vec<FlatType>> {
    let count = ty.abi().flat_count?;
    let mut flat = Vec::with_capacity(usize::from(count));
    push_flat(ty, width, &mut flat);
    debug_assert_eq!(flat.len(), usize::from(count));
    Some(flat)
}

/// The spec's `flatten_types` with a limit: the core values of all of `types` in order, or
/// `None` if there are more than `max`.
pub fn flatten_types<'a, I>(types: I, width: MemoryWidth, max: usize) -> Option<Vec<FlatType>>
where
    I: IntoIterator<Item = &'a InterfaceType>,
    I::IntoIter: Clone,
{
    let types = types.into_iter();
    let mut total = 0usize;
    for ty in types.clone() {
        total += usize::from(ty.abi().flat_count?);
        if total > max {
            return None;
        }
    }
    let mut flat = Vec::with_capacity(total);
    for ty in types {
        push_flat(ty, width, &mut flat);
    }
    Some(flat)
}

/// Appends the flattening of `ty`, whose flat count must be known (not `None`).
fn push_flat(ty: &InterfaceType, width: MemoryWidth, out: &mut Vec<FlatType>) {
    match ty {
        InterfaceType::Bool
        | InterfaceType::S8
        | InterfaceType::U8
        | InterfaceType::S16
        | InterfaceType::U16
        | InterfaceType::S32
        | InterfaceType::U32
        | InterfaceType::Char
        | InterfaceType::Enum(_)
        | InterfaceType::Own(_)
        | InterfaceType::Borrow(_) => out.push(FlatType::I32),
        InterfaceType::S64 | InterfaceType::U64 => out.push(FlatType::I64),
        InterfaceType::F32 => out.push(FlatType::F32),
        InterfaceType::F64 => out.push(FlatType::F64),
        InterfaceType::String | InterfaceType::List(_) | InterfaceType::Map(_) => {
            out.push(width.ptr_type());
            out.push(width.ptr_type());
        }
        InterfaceType::FixedList(list) => {
            for _ in 0..list.len() {
                push_flat(list.element(), width, out);
            }
        }
        InterfaceType::Record(record) => {
            for field in record.fields() {
                push_flat(&field.ty, width, out);
            }
        }
        InterfaceType::Tuple(tuple) => {
            for ty in tuple.types() {
                push_flat(ty, width, out);
            }
        }
        InterfaceType::Variant(variant) => push_variant_flat(variant.cases().iter().map(|c| c.ty.as_ref()), width, out),
        InterfaceType::Option(option) => push_variant_flat([None, Some(option.some())], width, out),
        InterfaceType::Result(result) => push_variant_flat([result.ok(), result.err()], width, out),
        InterfaceType::Flags(flags) => {
            for _ in 0..flags_i32_count(flags.names().len()) {
                out.push(FlatType::I32);
            }
        }
    }
}

/// The spec's `flatten_variant`: an `i32` discriminant, then the case payloads' flattenings
/// joined position by position.
fn push_variant_flat<'a>(
    cases: impl IntoIterator<Item = Option<&'a InterfaceType>>,
    width: MemoryWidth,
    out: &mut Vec<FlatType>,
) {
    out.push(FlatType::I32);
    let start = out.len();
    let mut case_flat = Vec::new();
    for payload in cases.into_iter().flatten() {
        case_flat.clear();
        push_flat(payload, width, &mut case_flat);
        for (i, ft) in case_flat.iter().enumerate() {
            match out.get_mut(start + i) {
                Some(joined) => *joined = joined.join(*ft),
                None => out.push(*ft),
            }
        }
    }
}

/// How a function's parameters, or its result, cross into core wasm.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FlatAbi {
    /// As these core values.
    Flat(Vec<FlatType>),
    /// Too many flat values: stored in linear memory (laid out as a tuple of the values) and
    /// passed by a pointer of the memory's pointer type.
    Memory,
}

/// The parameters of a synchronous function: flat if they flatten to at most
/// [`MAX_FLAT_PARAMS`] values, otherwise through memory.
pub fn flatten_func_params<'a, I>(params: I, width: MemoryWidth) -> FlatAbi
where
    I: IntoIterator<Item = &'a InterfaceType>,
    I::IntoIter: Clone,
{
    match flatten_types(params, width, MAX_FLAT_PARAMS) {
        Some(flat) => FlatAbi::Flat(flat),
        None => FlatAbi::Memory,
    }
}

/// The result of a synchronous function: flat if it flattens to at most [`MAX_FLAT_RESULTS`]
/// values (so a function without result is flat, with no values), otherwise through memory.
pub fn flatten_func_results(result: Option<&InterfaceType>, width: MemoryWidth) -> FlatAbi {
    match flatten_types(result, width, MAX_FLAT_RESULTS) {
        Some(flat) => FlatAbi::Flat(flat),
        None => FlatAbi::Memory,
    }
}

/// Which side of the boundary a core signature is for: it differs in where a result that
/// goes through memory is placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AbiContext {
    /// `canon lift`: the callee returns a pointer to its results.
    Lift,
    /// `canon lower`: the caller passes, as an extra last parameter, a pointer to space
    /// for the results.
    Lower,
}

/// The core function type of a lifted or lowered synchronous function: the spec's
/// `flatten_functype` without `async`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CoreSignature {
    /// Core parameter types, including a trailing result pointer if `Lower` and
    /// `results_in_memory`.
    pub params: Vec<FlatType>,
    /// Core result types.
    pub results: Vec<FlatType>,
    /// Whether the parameters are passed as one pointer to memory.
    pub params_in_memory: bool,
    /// Whether the result is passed through memory.
    pub results_in_memory: bool,
}

impl FuncType {
    /// The core signature of this function lifted or lowered with a memory of `width`.
    pub fn core_signature(&self, width: MemoryWidth, context: AbiContext) -> CoreSignature {
        core_signature(self.params.iter().map(|(_, ty)| ty), self.result.as_ref(), width, context)
    }
}

/// The core signature of a synchronous function with these parameter and result types.
pub fn core_signature<'a, I>(
    params: I,
    result: Option<&InterfaceType>,
    width: MemoryWidth,
    context: AbiContext,
) -> CoreSignature
where
    I: IntoIterator<Item = &'a InterfaceType>,
    I::IntoIter: Clone,
{
    let ptr = width.ptr_type();
    let (mut flat_params, params_in_memory) = match flatten_func_params(params, width) {
        FlatAbi::Flat(flat) => (flat, false),
        FlatAbi::Memory => (vec![ptr], true),
    };
    let (results, results_in_memory) = match (flatten_func_results(result, width), context) {
        (FlatAbi::Flat(flat), _) => (flat, false),
        (FlatAbi::Memory, AbiContext::Lift) => (vec![ptr], true),
        (FlatAbi::Memory, AbiContext::Lower) => {
            flat_params.push(ptr);
            (Vec::new(), true)
        }
    };
    CoreSignature { params: flat_params, results, params_in_memory, results_in_memory }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::ResourceId;
    use FlatType::{F32, F64, I32, I64};
    use InterfaceType as T;
    use MemoryWidth::{Mem32, Mem64};

    /// (size, align) in a memory of `width`.
    fn sa(ty: &InterfaceType, width: MemoryWidth) -> (u32, u32) {
        (ty.abi().size(width), ty.abi().align(width))
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn primitives() {
        // Alignment and elem_size tables: bool/s8/u8 1, s16/u16 2, s32/u32/f32/char 4,
        // s64/u64/f64 8, own/borrow 4; independent of the memory width; each flattens to one
        // value, i64 for the 64-bit integers.
        #[rustfmt::skip]
        let cases = [
            (T::Bool, 1, I32), (T::S8, 1, I32), (T::U8, 1, I32), (T::S16, 2, I32), (T::U16, 2, I32),
            (T::S32, 4, I32), (T::U32, 4, I32), (T::S64, 8, I64), (T::U64, 8, I64), (T::F32, 4, F32),
            (T::F64, 8, F64), (T::Char, 4, I32), (T::Own(ResourceId(0)), 4, I32),
            (T::Borrow(ResourceId(7)), 4, I32),
        ];
        for (ty, size, flat) in cases {
            for width in [Mem32, Mem64] {
                assert_eq!(sa(&ty, width), (size, size), "{ty}");
                assert_eq!(flatten(&ty, width).unwrap(), [flat], "{ty}");
            }
        }
    }

    #[test]
    fn string_and_list() {
        // string and list<T>: 2 * ptr_size bytes aligned to ptr_size: 8/4 in an i32 memory,
        // 16/8 in an i64 memory; flattened to [ptr_type, ptr_type] whatever T is.
        for ty in [T::String, T::list(T::U8), T::list(T::list(T::F64))] {
            assert_eq!(sa(&ty, Mem32), (8, 4), "{ty}");
            assert_eq!(sa(&ty, Mem64), (16, 8), "{ty}");
            assert_eq!(flatten(&ty, Mem32).unwrap(), [I32, I32], "{ty}");
            assert_eq!(flatten(&ty, Mem64).unwrap(), [I64, I64], "{ty}");
        }
    }

    #[test]
    fn record_padding() {
        // record { a: u8, b: u32, c: u8 }: a@0, end 1; b aligned to 4 -> @4, end 8; c@8, end 9;
        // size align_to(9, 4) = 12, align 4.
        let types = [T::U8, T::U32, T::U8];
        let ty = T::record([("a", T::U8), ("b", T::U32), ("c", T::U8)]);
        for width in [Mem32, Mem64] {
            assert_eq!(sa(&ty, width), (12, 4));
            assert_eq!(field_offsets(&types, width), [0, 4, 8]);
        }
        assert_eq!(flatten(&ty, Mem32).unwrap(), [I32, I32, I32]);

        // record { a: u8, l: list<u8> }: 32-bit: l@4, size 12, align 4; 64-bit: l@8, size 24.
        let types = [T::U8, T::list(T::U8)];
        assert_eq!(field_offsets(&types, Mem32), [0, 4]);
        assert_eq!(field_offsets(&types, Mem64), [0, 8]);
        let abi = CanonicalAbiInfo::record(types.iter().map(InterfaceType::abi));
        assert_eq!((abi.size32, abi.align32, abi.size64, abi.align64), (12, 4, 24, 8));
    }

    #[test]
    fn tuple() {
        // tuple<u8, u64, u16>: u8@0; u64 aligned to 8 -> @8, end 16; u16@16, end 18;
        // align 8, size align_to(18, 8) = 24.
        let ty = T::tuple([T::U8, T::U64, T::U16]);
        let T::Tuple(tuple) = &ty else { unreachable!() };
        assert_eq!(tuple.field_offsets(Mem32), [0, 8, 16]);
        assert_eq!(sa(&ty, Mem32), (24, 8));
        assert_eq!(flatten(&ty, Mem32).unwrap(), [I32, I64, I32]);
        // tuple<u16, u8>: 2 + 1 = 3, rounded to align 2 -> 4.
        assert_eq!(sa(&T::tuple([T::U16, T::U8]), Mem64), (4, 2));
    }

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
    fn enums() {
        // An enum is a variant without payloads: just the discriminant, size = align.
        for (n, size) in [(1, 1), (2, 1), (256, 1), (257, 2), (65536, 2), (65537, 4)] {
            let ty = T::enumeration(names(n));
            let T::Enum(e) = &ty else { unreachable!() };
            assert_eq!(sa(&ty, Mem32), (size, size), "{n} cases");
            assert_eq!(sa(&ty, Mem64), (size, size), "{n} cases");
            assert_eq!(e.discriminant_size(), size);
            assert_eq!(flatten(&ty, Mem32).unwrap(), [I32]);
        }
    }

    #[test]
    fn flags() {
        // Spec (1..=32 labels): <= 8 -> 1 byte, <= 16 -> 2, <= 32 -> 4, size = align, one i32.
        // Outside it, the earlier revision: 0 -> 0 bytes, no flat values; > 32 -> one 4-byte
        // word (and one i32) per 32 labels, align 4: 33 and 64 -> 8 bytes.
        // (labels, size, align, i32s)
        #[rustfmt::skip]
        let cases = [
            (0, 0, 1, 0), (1, 1, 1, 1), (8, 1, 1, 1), (9, 2, 2, 1), (16, 2, 2, 1),
            (17, 4, 4, 1), (32, 4, 4, 1), (33, 8, 4, 2), (64, 8, 4, 2), (65, 12, 4, 3),
        ];
        for (n, size, align, i32s) in cases {
            assert_eq!(flags_size(n), size, "{n} flags");
            assert_eq!(flags_align(n), align, "{n} flags");
            assert_eq!(flags_i32_count(n), i32s, "{n} flags");
            let ty = T::flags(names(n));
            assert_eq!(sa(&ty, Mem32), (size, align), "{n} flags");
            assert_eq!(sa(&ty, Mem64), (size, align), "{n} flags");
            assert_eq!(flatten(&ty, Mem32).unwrap(), vec![I32; i32s as usize], "{n} flags");
        }
    }

    #[test]
    fn fixed_lists() {
        // list<u16, 3>: like tuple<u16, u16, u16>: 6 bytes, align 2, three i32s.
        let ty = T::fixed_list(T::U16, 3);
        assert_eq!(sa(&ty, Mem32), (6, 2));
        assert_eq!(flatten(&ty, Mem32).unwrap(), [I32, I32, I32]);
        // list<string, 2> in a 64-bit memory: 2 * 16 = 32 bytes, align 8, four i64s.
        let ty = T::fixed_list(T::String, 2);
        assert_eq!(sa(&ty, Mem64), (32, 8));
        assert_eq!(flatten(&ty, Mem64).unwrap(), [I64; 4]);
        // list<u8, 17> flattens to 17 values: more than MAX_FLAT_PARAMS.
        let ty = T::fixed_list(T::U8, 17);
        assert_eq!(ty.abi().flat_count, None);
        assert_eq!(flatten(&ty, Mem32), None);
        // A huge (invalid) length saturates instead of overflowing.
        assert_eq!(T::fixed_list(T::U64, u32::MAX).abi().size32, u32::MAX);
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
    fn variant_flattening() {
        // variant { a(u32), b(f32), c(u64) }: discriminant i32; payload position 0 joins
        // i32, f32 -> i32, then with i64 -> i64.
        let ty = T::variant([("a", Some(T::U32)), ("b", Some(T::F32)), ("c", Some(T::U64))]);
        assert_eq!(flatten(&ty, Mem32).unwrap(), [I32, I64]);
        // variant { a(u32), b(f32) }: join(i32, f32) = i32.
        let ty = T::variant([("a", Some(T::U32)), ("b", Some(T::F32))]);
        assert_eq!(flatten(&ty, Mem32).unwrap(), [I32, I32]);
        // variant { a(f32), b }: cases without payload add nothing, f32 stays f32.
        let ty = T::variant([("a", Some(T::F32)), ("b", None)]);
        assert_eq!(flatten(&ty, Mem32).unwrap(), [I32, F32]);
        // result<f32, f64>: join(f32, f64) = i64.
        let ty = T::result(Some(T::F32), Some(T::F64));
        assert_eq!(flatten(&ty, Mem32).unwrap(), [I32, I64]);
        // Payloads of different lengths: variant { a(tuple<f32, f32>), b(u64) }: position 0 is
        // join(f32, i64) = i64, position 1 only from a: f32.
        let ty = T::variant([("a", Some(T::tuple([T::F32, T::F32]))), ("b", Some(T::U64))]);
        assert_eq!(flatten(&ty, Mem32).unwrap(), [I32, I64, F32]);
        assert_eq!(ty.abi().flat_count, Some(3));
        // option<string> on a 64-bit memory: [i32, i64, i64].
        assert_eq!(flatten(&T::option(T::String), Mem64).unwrap(), [I32, I64, I64]);
    }

    #[test]
    fn flat_count_limit() {
        // 16 u8 fields flatten to 16 values (the limit); 17 are too many, and so is any
        // aggregate containing them.
        let sixteen = T::tuple(vec![T::U8; 16]);
        assert_eq!(sixteen.abi().flat_count, Some(16));
        assert_eq!(flatten(&sixteen, Mem32).unwrap().len(), 16);
        let seventeen = T::tuple(vec![T::U8; 17]);
        assert_eq!(seventeen.abi().flat_count, None);
        assert_eq!(flatten(&seventeen, Mem32), None);
        assert_eq!(T::option(seventeen.clone()).abi().flat_count, None);
        // 1 discriminant + 16 = 17.
        assert_eq!(T::option(sixteen).abi().flat_count, None);
        assert_eq!(T::tuple([T::String, seventeen]).abi().flat_count, None);
    }

    #[test]
    fn func_params_and_results() {
        // 16 u32 parameters are 16 flat values: passed flat. 17 go through memory.
        let p16 = vec![T::U32; 16];
        assert_eq!(flatten_func_params(&p16, Mem32), FlatAbi::Flat(vec![I32; 16]));
        let p17 = vec![T::U32; 17];
        assert_eq!(flatten_func_params(&p17, Mem32), FlatAbi::Memory);
        // 8 strings = 16 values: flat; one more u8 makes 17: memory.
        let mut strings = vec![T::String; 8];
        assert!(matches!(flatten_func_params(&strings, Mem64), FlatAbi::Flat(v) if v == [I64; 16]));
        strings.push(T::U8);
        assert_eq!(flatten_func_params(&strings, Mem32), FlatAbi::Memory);
        // Results: none -> flat, no values; one u32 -> flat; string (2 values) -> memory.
        assert_eq!(flatten_func_results(None, Mem32), FlatAbi::Flat(vec![]));
        assert_eq!(flatten_func_results(Some(&T::U32), Mem32), FlatAbi::Flat(vec![I32]));
        assert_eq!(flatten_func_results(Some(&T::String), Mem32), FlatAbi::Memory);
    }

    #[test]
    fn align_to_rounds_up() {
        for (offset, align, aligned) in [(0, 8, 0), (1, 8, 8), (8, 8, 8), (9, 4, 12), (u32::MAX - 1, 4, u32::MAX)] {
            assert_eq!(align_to(offset, align), aligned);
        }
    }
}
