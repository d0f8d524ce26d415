//! The component model as plain data: interface (component-level value) types and the
//! canonical ABI's layout of them, defined once here for both the adapter compiler (fact) and
//! the host-side lifting and lowering in the runtime.
//!
//! [`layout`] holds the layout rules (sizes, alignments, discriminants, flags and offsets, for
//! 32- and 64-bit memories), on layouts alone; [`types`] the type tree ([`InterfaceType`],
//! [`FuncType`]), each node laid out by those rules when built; [`abi`] what walks the tree
//! (flattening and core signatures) and re-exports the layout rules, so it names the whole
//! canonical ABI; [`translate`] the static parse of a component binary into each component's
//! index spaces. None of them generates code or moves values: loading, storing and
//! transcoding belong to fact and the runtime.

pub mod abi;
pub mod adapt;
mod async_builtins;
pub mod convert;
pub mod info;
pub mod inline;
pub mod layout;
pub mod translate;
pub mod types;

pub use abi::*;
pub use types::parse::TypeParseError;
pub use types::*;
