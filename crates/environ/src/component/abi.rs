//! The canonical ABI of interface types and functions: flattening a type into core wasm
//! values, exactly as CanonicalABI.md's "Flattening" section defines it (variant cases joined
//! with the spec's `join`), the field offsets of a sequence of types, and the core signature of
//! a lifted or lowered synchronous function (`flatten_functype` without `async`).
//!
//! Sizes, alignments and offsets themselves are `layout`'s, computed on layouts rather than
//! types so that the type tree can use them; this module is the layer that walks the tree, on
//! top of both. It re-exports the layout primitives, so that `component::abi` remains the one
//! place that names the whole canonical ABI (each rule is still defined once, here or there).
//!
//! It neither loads nor stores values, knows nothing of string encodings, and covers
//! synchronous functions only (no `async` lowering limits). `stream`, `future` and
//! `error-context` are laid out and flattened as the `i32` handles they are passed as.

pub use super::layout::{
    CanonicalAbiInfo, FlatType, MAX_FLAGS, MAX_FLAT_PARAMS, MemoryWidth, RecordLayout, VariantLayout, align_to,
    discriminant_size, flags_align, flags_i32_count, flags_size, record_layout, variant_layout, variant_payload_offset,
};
use super::types::{FuncType, InterfaceType};

/// At most this many flat core values are returned as results; more go through memory.
pub const MAX_FLAT_RESULTS: usize = 1;

/// The most flat parameters an `async` lower passes as core values; more go through memory.
pub const MAX_FLAT_ASYNC_PARAMS: usize = 4;

/// The spec's `MAX_STRING_BYTE_LENGTH`: lifting a longer string traps.
pub const MAX_STRING_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The spec's `MAX_LIST_BYTE_LENGTH`: lifting a longer list traps.
pub const MAX_LIST_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The spec's `REALLOC_I32_MAX`: no byte length passed to `realloc` exceeds it.
pub const REALLOC_I32_MAX: u64 = (1 << 32) - 1;

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
        | InterfaceType::Borrow(_)
        | InterfaceType::Future(_)
        | InterfaceType::Stream(_)
        | InterfaceType::ErrorContext => out.push(FlatType::I32),
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

    /// The core signature of this function lifted or lowered with the `async` option (the
    /// spec's `flatten_functype` with `async`): a lift takes its parameters as a synchronous
    /// one does and returns nothing (its result goes through `task.return`), or the callback
    /// code if it has a `callback`; a lower takes at most [`MAX_FLAT_ASYNC_PARAMS`] flat
    /// values, then a pointer for the result if there is one, and returns the subtask's
    /// state.
    pub fn async_core_signature(&self, width: MemoryWidth, context: AbiContext, callback: bool) -> CoreSignature {
        let ptr = width.ptr_type();
        let params = self.params.iter().map(|(_, ty)| ty);
        let max = if context == AbiContext::Lift { MAX_FLAT_PARAMS } else { MAX_FLAT_ASYNC_PARAMS };
        let (mut flat_params, params_in_memory) = match flatten_types(params, width, max) {
            Some(flat) => (flat, false),
            None => (vec![ptr], true),
        };
        // A result too big to flatten has no flat count, and goes through memory too.
        let results_in_memory =
            context == AbiContext::Lower && self.result.as_ref().is_some_and(|r| r.abi().flat_count != Some(0));
        if results_in_memory {
            flat_params.push(ptr);
        }
        let results = match context {
            AbiContext::Lift if !callback => Vec::new(),
            _ => vec![FlatType::I32],
        };
        CoreSignature { params: flat_params, results, params_in_memory, results_in_memory }
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
        // s64/u64/f64 8, own/borrow and the async handles (error-context, future, stream,
        // whatever their payload) 4; independent of the memory width; each flattens to one
        // value, i64 for the 64-bit integers.
        #[rustfmt::skip]
        let cases = [
            (T::Bool, 1, I32), (T::S8, 1, I32), (T::U8, 1, I32), (T::S16, 2, I32), (T::U16, 2, I32),
            (T::S32, 4, I32), (T::U32, 4, I32), (T::S64, 8, I64), (T::U64, 8, I64), (T::F32, 4, F32),
            (T::F64, 8, F64), (T::Char, 4, I32), (T::Own(ResourceId(0)), 4, I32),
            (T::Borrow(ResourceId(7)), 4, I32), (T::ErrorContext, 4, I32), (T::future(None), 4, I32),
            (T::future(Some(T::String)), 4, I32), (T::stream(None), 4, I32),
            (T::stream(Some(T::list(T::U64))), 4, I32),
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
    fn core_signatures() {
        // func(s: string) -> string: params [ptr, ptr]; the result needs memory:
        // lifted, it returns a pointer; lowered, the caller passes a pointer, returns nothing.
        let f = FuncType { params: vec![("s".into(), T::String)], result: Some(T::String), async_: false };
        let lift = f.core_signature(Mem32, AbiContext::Lift);
        assert_eq!((lift.params, lift.results), (vec![I32, I32], vec![I32]));
        assert!(!lift.params_in_memory && lift.results_in_memory);
        let lower = f.core_signature(Mem64, AbiContext::Lower);
        assert_eq!((lower.params, lower.results), (vec![I64, I64, I64], vec![]));

        // 17 parameters and a u64 result: params become one pointer, the result stays flat.
        let f = FuncType {
            params: (0..17).map(|i| (format!("p{i}"), T::U8)).collect(),
            result: Some(T::U64),
            async_: false,
        };
        let sig = f.core_signature(Mem64, AbiContext::Lower);
        assert_eq!((sig.params, sig.results), (vec![I64], vec![I64]));
        assert!(sig.params_in_memory && !sig.results_in_memory);
    }
}
