//! The component model as plain data: interface (component-level value) types and the
//! canonical ABI's layout of them, defined once here for both the adapter compiler (fact) and
//! the host-side lifting and lowering in the runtime.
//!
//! [`types`] holds the type tree ([`InterfaceType`], [`FuncType`]); [`abi`] the layout rules
//! (sizes, alignments, discriminants, flags, offsets and flattening, for 32- and 64-bit
//! memories); [`translate`] the static parse of a component binary into each component's index
//! spaces. None of them generates code or moves values: loading, storing and transcoding belong
//! to fact and the runtime.

pub mod abi;
pub mod adapt;
pub mod convert;
pub mod info;
pub mod inline;
pub mod translate;
pub mod types;

pub use abi::*;
pub use types::*;
