//! [`ComponentType`]: a Rust type that stands for a component type, and
//! [`ComponentNamedList`], the tuples that are parameter lists and results. What lifting and
//! lowering add on top is in `lift.rs` and `lower.rs`; the implementations for Rust's own
//! types are in `rust_types.rs`.

use super::types::InterfaceType;
use anyhow::{Result, bail};

/// A Rust type that corresponds to a component type.
pub trait ComponentType {
    /// Whether this is `()`, which stands for a missing payload of a `result` (and for an empty
    /// parameter or result list) rather than for a component type of its own.
    #[doc(hidden)]
    const IS_UNIT: bool = false;

    /// When every value of this type is one flat core value kept in this many bytes of
    /// memory (integers, `bool`, floats, `char`): that size; 0 otherwise. A derived record
    /// whose fields all have one is lowered and lifted at offsets computed at compile time
    /// (see `derive_support::PlainLayout`).
    #[doc(hidden)]
    const SCALAR_SIZE: u32 = 0;

    /// The component type this Rust type stands for.
    fn ty() -> InterfaceType;

    /// Checks that `ty` is a type this Rust type can stand for; the error says what differs.
    #[inline]
    fn typecheck(ty: &InterfaceType) -> Result<()> {
        let mine = Self::ty();
        if &mine == ty { Ok(()) } else { bail!("type mismatch: expected {ty}, found a Rust type for {mine}") }
    }
}

/// A tuple used as a parameter list or as results.
pub trait ComponentNamedList: ComponentType {
    /// The number of elements.
    const LEN: usize;

    /// The type of each element.
    fn types() -> Vec<InterfaceType>;

    /// Checks the elements against `types`, naming the element that differs.
    fn typecheck_list(types: &[InterfaceType], what: &str) -> Result<()>;
}
