//! Host-side support for the component model: the interface types embedders see
//! ([`types`]), dynamically typed component values ([`Val`]) and the canonical ABI's lifting
//! and lowering of those values to and from a guest's linear memory and flat core values
//! ([`canonical`]).
//!
//! Layout (sizes, alignments, offsets, flattening) is not defined here: it comes from
//! `weld_environ::component`, the one definition shared with the adapter compiler.
//! [`Component`] compiles a component (translation, inlining, core modules). This module does
//! not instantiate components or call guest functions yet, and does not cover resource handles
//! (`own`/`borrow`).

mod adapters;
pub mod canonical;
mod compiled;
mod func;
mod host;
mod instance;
mod linker;
mod resources;
mod store_memory;
mod transcode;
mod typed;
pub mod types;
pub mod values;

#[cfg(test)]
mod tests;

pub use canonical::{GuestMemory, Options, lift_flat, load, lower_flat, store};
pub use compiled::Component;
pub use func::Func;
pub(crate) use instance::InstanceState;
pub use instance::{ComponentExportIndex, Instance};
pub use linker::{Linker, LinkerInstance, StoreContextMut};
pub use resources::{Resource, ResourceAny, ResourceType};
pub use typed::{ComponentNamedList, ComponentType, Lift, Lower, TypedFunc};
pub use types::*;
pub use values::Val;
