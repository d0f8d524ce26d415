//! Entity indices: the one way to declare an index newtype ([`entity_index!`]), and the core
//! module's indices (`FuncIndex`, `MemoryIndex`, ...).
//!
//! An index is a `u32` newtype implementing `cranelift_entity`'s [`EntityRef`], so that a
//! vector addressed by it is a [`PrimaryMap`] (or a [`SecondaryMap`] beside another one) and
//! is indexed by the index itself, never by a bare `usize`. The raw number stays private:
//! `from_u32`/`as_u32` name the few places where one crosses into an encoding (a binary
//! index, a Cranelift name, a libcall argument).

pub use cranelift_entity::{EntityRef, PrimaryMap, SecondaryMap};

#[doc(hidden)]
pub use cranelift_entity as __cranelift_entity;

/// Declares entity index newtypes: each is a `u32` behind a private field, implementing
/// [`EntityRef`] (with `from_u32`/`as_u32`), ordered, hashable and printed as `Name(n)`.
///
/// ```
/// weld_environ::entity_index! {
///     /// Index of a widget.
///     pub struct WidgetIndex;
/// }
/// use weld_environ::{EntityRef, PrimaryMap};
/// let mut widgets: PrimaryMap<WidgetIndex, &str> = PrimaryMap::new();
/// let w = widgets.push("gear");
/// assert_eq!((w.index(), widgets[w]), (0, "gear"));
/// ```
#[macro_export]
macro_rules! entity_index {
    ($($(#[$doc:meta])* $vis:vis struct $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
        $vis struct $name(u32);
        $crate::__cranelift_entity::entity_impl!($name);
    )*};
}

entity_index! {
    /// Index of a function type in the module's type section.
    pub struct TypeIndex;
    /// Index of a function (imports first, then defined functions).
    pub struct FuncIndex;
    /// Index of a defined (not imported) function.
    pub struct DefinedFuncIndex;
    /// Index of a table (imports first).
    pub struct TableIndex;
    /// Index of a linear memory (imports first).
    pub struct MemoryIndex;
    /// Index of a global (imports first).
    pub struct GlobalIndex;
    /// Index of an exception tag (imports first).
    pub struct TagIndex;
    /// Index of a data segment.
    pub struct DataIndex;
    /// Index of an element segment.
    pub struct ElemIndex;
}
