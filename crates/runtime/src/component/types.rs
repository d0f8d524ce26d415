//! The component-level types an embedder works with. They are environ's interface type tree,
//! re-exported as is: [`Type`] is [`InterfaceType`], built with its constructors
//! (`InterfaceType::record`, `InterfaceType::list`, ...) and printed in WIT-like syntax.
//!
//! Nothing is wrapped or redefined here, so the canonical ABI layout of a type is always the
//! one environ computed (`ty.abi()` and the node types' offset accessors). The types of whole
//! items (a component, an instance, a function, a core module), as `Component::component_type`
//! describes them, are in `item_types.rs` and re-exported here, where Wasmtime has them.

pub use weld_environ::component::{
    Case, EnumType, Field, FixedListType, FlagsType, FuncType, FutureType, InterfaceType, ListType, MapType,
    OptionType, RecordType, ResourceId, ResultType, StreamType, TupleType, VariantType,
};

pub use super::item_types::{Component, ComponentExtern, ComponentFunc, ComponentInstance, ComponentItem, Module};
pub use super::resources::ResourceType;

/// A component value type; the same tree as [`InterfaceType`].
pub type Type = InterfaceType;
