//! The component model on the host: compiling components ([`Component`]), linking host
//! functions, resources, core modules and components ([`Linker`]), instantiating and calling them with dynamic values
//! ([`Val`], [`Func`]) or Rust types ([`TypedFunc`], the [`ComponentType`], [`Lift`] and
//! [`Lower`] traits and their derives, [`flags!`], and [`bindgen!`] for a whole WIT world,
//! with [`HasData`] and [`ResourceTable`] for the host's side), and the canonical ABI's
//! lifting and lowering on the host side ([`canonical`]).
//!
//! Layout (sizes, alignments, offsets, flattening) is not defined here: it comes from
//! `weld_environ::component`, the one definition shared with the adapter compiler, whose
//! adapters run calls between components without going through the host.
//!
//! The modules, from the bottom up (each uses only those above it in this list):
//! - values and types: `resources` (resource types and handles), `item_types` (the types of
//!   imports and exports), `types` (environ's interface types and those), `values` (`Val`),
//!   `val_builders`, `handle_table`, `canonical` (lifting and lowering `Val`s over a
//!   `GuestMemory`), `export_names` (numbered export names, `ComponentExportIndex`), `compiled`
//!   (`Component`, the linked plan);
//! - per-instance state: `state` (what an instance owns in the store; the store holds it);
//! - guest memory and flags: `store_memory` (a store's guest memory, handles against its
//!   tables), `flags` (`may_leave`/`may_enter`), `transcode` (the adapters' string copies);
//! - typed values: `component_type`, `lift`, `lower`, `views` (`WasmStr`, `WasmList`),
//!   `rust_types`, `derive_support`, `plain_record` (records of scalars at fixed offsets);
//! - host state for generated bindings: `has_data` (`HasData`, `HasSelf`), `resource_table`
//!   (`ResourceTable`);
//! - calls: `func` (`Func`, `TypedFunc`), `host` (host functions and their lowering),
//!   `core_defs`, `intrinsics` (canonical built-ins), `task_context` (`context.get`/`set`
//!   slots at a call from the host), `adapters` (what adapter modules import);
//! - linking and instantiation: `linker`, `semver_names` (imports served by a compatible
//!   version), `host_module`, `import_requirements` (what imports need of a linker, stand-ins
//!   for missing ones), `instance` (exports), `instantiate`;
//! - what `bindgen!`'s code calls: `bindgen_support` (export lookups, typed calls);
//! - ahead-of-time artifacts: `serialize` (`Component::serialize`, `deserialize`).

#[doc(hidden)]
#[path = "bindgen_support.rs"]
pub mod __bindgen;
#[doc(hidden)]
#[path = "derive_support.rs"]
pub mod __derive;
mod adapters;
mod async_values;
pub mod canonical;
mod compiled;
mod component_type;
pub(crate) mod concurrent;
mod core_defs;
mod export_names;
mod flags;
mod func;
pub(crate) mod handle_table;
mod has_data;
mod host;
mod host_async;
mod host_buffers;
mod host_module;
mod host_streams;
mod import_requirements;
mod instance;
mod instantiate;
mod intrinsics;
mod item_types;
mod lift;
mod linker;
mod lower;
mod plain_record;
mod resource_table;
mod resources;
mod rust_types;
mod semver_names;
mod serialize;
mod state;
mod store_memory;
mod task_context;
mod transcode;
pub mod types;
mod val_builders;
pub mod values;
mod views;

#[cfg(test)]
mod tests;

pub use async_values::{ErrorContextAny, FutureAny, StreamAny};
pub use canonical::{GuestMemory, Options, lift_flat, load, lower_flat, store};
pub use compiled::Component;
pub use component_type::{ComponentNamedList, ComponentType};
#[doc(hidden)]
pub use export_names::ExportKey;
pub use export_names::{ComponentExportIndex, ExportLookup};
pub use func::{Func, TypedFunc};
pub use has_data::{HasData, HasSelf};
pub use host_async::{Accessor, HostFuture};
pub use host_buffers::{Destination, DirectDestination, DirectSource, ReadBuffer, Source};
pub use host_streams::{
    FutureConsumer, FutureProducer, FutureReader, StreamConsumer, StreamProducer, StreamReader, StreamResult,
};
pub use instance::Instance;
pub use instantiate::InstancePre;
pub use lift::Lift;
#[doc(hidden)]
pub use lift::{LiftContext, LiftSource};
pub use linker::{Linker, LinkerInstance, StoreContextMut};
pub use lower::Lower;
#[doc(hidden)]
pub use lower::{LowerContext, LowerDest};
pub use resource_table::{ResourceTable, ResourceTableError};
pub use resources::{Resource, ResourceAny, ResourceType};
pub(crate) use state::InstanceState;
pub use types::{
    Case, EnumType, Field, FixedListType, FlagsType, FuncType, InterfaceType, ListType, MapType, OptionType,
    RecordType, ResourceId, ResultType, TupleType, Type, VariantType,
};
pub use values::Val;
pub use views::{WasmList, WasmStr};
pub use weld_component_macro::{ComponentType, Lift, Lower, bindgen, flags};
