//! One case of the reference oracle: a value of a type, canonical options, where the value is
//! stored, how `realloc` behaves, and a function type, generated from arbitrary bytes.

use super::memory::{Fault, ReallocPlan};
use crate::types::{TypeLimits, arbitrary_type};
use crate::values::arbitrary_val;
use arbitrary::Unstructured;
use weld::component::{InterfaceType, Val};
use weld_environ::component::translate::StringEncoding;
use weld_environ::component::{MemoryWidth, align_to};

/// One case: a value of a type, canonical options, where it is stored, how `realloc` behaves,
/// and a function type for the flattening check.
#[derive(Debug)]
pub struct CanonicalCase {
    pub ty: InterfaceType,
    pub value: Val,
    pub encoding: StringEncoding,
    pub mem64: bool,
    /// Bytes of the memory.
    pub memory_size: usize,
    /// Where `store` and `load` put the value (not always aligned or inside the memory).
    pub ptr: u64,
    pub realloc: ReallocPlan,
    /// Parameters and result of the function type whose core signatures are compared.
    pub params: Vec<InterfaceType>,
    pub result: Option<InterfaceType>,
    /// Seeds the choice of garbage.
    pub garbage_seed: u64,
}

/// The string encodings of canonical options.
pub const STRING_ENCODINGS: [StringEncoding; 3] =
    [StringEncoding::Utf8, StringEncoding::Utf16, StringEncoding::CompactUtf16];

impl CanonicalCase {
    /// An arbitrary case, of any kind of type ([`TypeLimits::every_kind`]).
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<CanonicalCase> {
        let ty = arbitrary_type(u, TypeLimits::every_kind())?;
        let value = arbitrary_val(u, &ty)?;
        let encoding = STRING_ENCODINGS[u.choose_index(3)?];
        let mem64: bool = u.arbitrary()?;
        let memory_size = if u.ratio(1u8, 4)? { 4096 } else { 65536 };
        let width = MemoryWidth::from_memory64(mem64);
        let (size, align) = (u64::from(ty.abi().size(width)), ty.abi().align(width));
        let good = u64::from(align_to(u.int_in_range(0..=32)?, align));
        let ptr = match u.choose_index(16)? {
            0 if align > 1 => good + 1,
            1 => (memory_size as u64 + 1).saturating_sub(size),
            _ => good,
        };
        let fault = if u.ratio(1u8, 8)? {
            let fault = if u.arbitrary()? { Fault::Misalign } else { Fault::OutOfBounds };
            Some((fault, u.int_in_range(0..=2)?))
        } else {
            None
        };
        let realloc = ReallocPlan { next: good + size + u.int_in_range(0..=15)?, fault };
        let small = TypeLimits { max_depth: 2, ..TypeLimits::every_kind() };
        let params = (0..u.int_in_range(0..=5)?).map(|_| arbitrary_type(u, small)).collect::<arbitrary::Result<_>>()?;
        let result = if u.arbitrary()? { Some(arbitrary_type(u, small)?) } else { None };
        let garbage_seed = u.arbitrary()?;
        Ok(CanonicalCase { ty, value, encoding, mem64, memory_size, ptr, realloc, params, result, garbage_seed })
    }
}
