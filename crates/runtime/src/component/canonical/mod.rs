//! Host-side lifting and lowering of component values, as CanonicalABI.md defines them:
//! [`store`] and [`load`] move a [`Val`](super::Val) to and from linear memory, [`lower_flat`] and
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
//! and values past 0x10FFFF), and discriminants. Each failure is a trap where the spec says
//! "trap": the error's chain holds the same [`Trap`](crate::Trap) a fused adapter raises for
//! the same check, under a message naming the check, whose memory it was made in
//! ([`GuestMemory::side`]) and the values. A host value that does not fit its type is a plain
//! error, not a trap. Lifting `bool` maps any nonzero to `true`,
//! narrow integers lifted from an `i32` keep their low bits, and flags ignore unknown bits,
//! as the spec does. NaNs are passed through unchanged in both directions, which the spec
//! allows ("or even to the original value of the NaN").
//!
//! Lowering first typechecks the value ([`Val::typecheck`](super::Val::typecheck)), so mismatches are reported with a
//! path into the value. Resource handles go through the [`GuestMemory`]'s handle methods
//! (which know the instance's handle table). Not covered: flat
//! lifting/lowering of a type that flattens to more than `MAX_FLAT_PARAMS` values (which the
//! canonical ABI always passes through memory) is refused, and so is lifting or lowering a
//! `future`, `stream` or `error-context` (with an error naming the type: no `Val` holds one
//! yet).
//!
//! The parts: `memory.rs` (the guest's memory, options, limits, pointer and range checks),
//! `cases.rs` (variants, enums, flags), `strings.rs`, `flat.rs` (flattening limits), `load.rs`
//! (lifting), `store.rs` (lowering), `integers.rs` (integer values and lists of them in bulk).

/// The pattern of the scalar interface types (numbers, `bool`, `char`): those lifted and
/// lowered as one value, whose fast paths skip the general loader and storer.
macro_rules! scalar_types {
    () => {
        InterfaceType::Bool
            | InterfaceType::S8
            | InterfaceType::U8
            | InterfaceType::S16
            | InterfaceType::U16
            | InterfaceType::S32
            | InterfaceType::U32
            | InterfaceType::S64
            | InterfaceType::U64
            | InterfaceType::F32
            | InterfaceType::F64
            | InterfaceType::Char
    };
}

mod cases;
mod flat;
mod integers;
mod load;
mod memory;
mod store;
mod strings;

pub(crate) use cases::{char_from, invalid_discriminant, variant_case};
pub use load::{lift_flat, load};
pub use memory::{GuestMemory, Options};
pub(crate) use memory::{
    MemoryBounds, Pointee, check_align, check_bounds, check_list_range, check_realloc_result, check_value_at,
    read_pointer_pair, read_uint, utf16_tag, write_uint,
};
pub(crate) use store::{
    allocate_list, allocate_value, check_store_at, lower_flat_unchecked, store_bytes, store_string, store_unchecked,
};
pub use store::{lower_flat, store};
pub(crate) use strings::{StringAt, StringBytes, check_utf8, decode_string, load_string, string_range, validate_utf8};
pub use weld_environ::component::adapt::CallSide;
