//! weld-environ: what a WebAssembly module *is*, as plain data.
//!
//! This crate parses and validates module binaries with wasmparser and turns them into a
//! [`Module`] description: its types, imports, exports, memories, tables, globals, segments and
//! function bodies. It also defines, once, the layouts that compiled code and the runtime must
//! agree on: the VMContext ([`VMOffsets`]), the table of runtime libcalls ([`Libcall`]) and the
//! trap codes ([`Trap`]).
//!
//! It generates no code and contains no `unsafe`.

#![forbid(unsafe_code)]

pub mod component;
mod const_expr;
mod index;
mod libcall;
mod module;
mod rec_group;
mod shared;
mod trap;
mod types;
mod vmoffsets;

pub use const_expr::{ConstExpr, ConstOp};
pub use index::*;
pub use libcall::{AbiType, GROW_TRAPPED, HOST_CALL_THREW, Libcall};
pub use module::*;
pub use rec_group::{GroupType, RecGroup};
pub use shared::{FuncNames, SharedBytes};
pub use trap::Trap;
pub use types::*;
pub use vmoffsets::*;
pub use wasmparser;
