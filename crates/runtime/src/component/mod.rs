//! The component model on the host: compiling components ([`Component`]), linking host
//! functions, resources, core modules and components ([`Linker`]), instantiating and calling them with dynamic values
//! ([`Val`], [`Func`]) or Rust types ([`TypedFunc`], the [`ComponentType`], [`Lift`] and
//! [`Lower`] traits and their derives, [`flags!`]), and the canonical ABI's lifting and
//! lowering on the host side ([`canonical`]).
//!
//! Layout (sizes, alignments, offsets, flattening) is not defined here: it comes from
//! `weld_environ::component`, the one definition shared with the adapter compiler, whose
//! adapters run calls between components without going through the host.

#[doc(hidden)]
#[path = "derive_support.rs"]
pub mod __derive;
mod adapters;
mod borrowed;
pub mod canonical;
mod compiled;
mod direct;
mod func;
mod host;
mod host_module;
mod instance;
mod linker;
mod resources;
mod store_memory;
mod transcode;
mod typed;
pub mod types;
mod val_builders;
pub mod values;

#[cfg(test)]
mod tests;

#[doc(hidden)]
pub use borrowed::{LiftContext, LiftSource};
pub use borrowed::{WasmList, WasmStr};
pub use canonical::{GuestMemory, Options, lift_flat, load, lower_flat, store};
pub use compiled::Component;
#[doc(hidden)]
pub use direct::{LowerContext, LowerDest};
pub use func::Func;
pub(crate) use instance::InstanceState;
pub use instance::{ComponentExportIndex, Instance, InstancePre};
pub use linker::{Linker, LinkerInstance, StoreContextMut};
pub use resources::{Resource, ResourceAny, ResourceType};
pub use typed::{ComponentNamedList, ComponentType, Lift, Lower, TypedFunc};
pub use types::*;
pub use values::Val;
pub use weld_component_macro::{ComponentType, Lift, Lower, flags};
