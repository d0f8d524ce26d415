//! Entity index newtypes (`FuncIndex`, `MemoryIndex`, ...) and [`IndexVec`], a vector indexed
//! by one of them. Indices are never bare `usize` outside this module.

use std::marker::PhantomData;

/// An index newtype over `u32`.
pub trait EntityIndex: Copy + Eq + Ord + std::hash::Hash + std::fmt::Debug {
    /// Makes an index from its raw value.
    fn new(index: usize) -> Self;
    /// The raw value as a `usize`.
    fn index(self) -> usize;
}

macro_rules! entity_index {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
        pub struct $name(pub u32);
        impl $name {
            /// Makes an index from a raw `u32`.
            pub const fn from_u32(i: u32) -> Self { Self(i) }
            /// The raw `u32`.
            pub const fn as_u32(self) -> u32 { self.0 }
        }
        impl EntityIndex for $name {
            fn new(index: usize) -> Self { Self(u32::try_from(index).expect("index fits in u32")) }
            fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

entity_index! {
    /// Index of a function type in the module's type section.
    TypeIndex;
    /// Index of a function (imports first, then defined functions).
    FuncIndex;
    /// Index of a defined (not imported) function.
    DefinedFuncIndex;
    /// Index of a table (imports first).
    TableIndex;
    /// Index of a linear memory (imports first).
    MemoryIndex;
    /// Index of a global (imports first).
    GlobalIndex;
    /// Index of a data segment.
    DataIndex;
    /// Index of an element segment.
    ElemIndex;
}

/// A vector whose elements are addressed by the entity index `I`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexVec<I, T> {
    items: Vec<T>,
    marker: PhantomData<fn(I) -> I>,
}

impl<I, T> Default for IndexVec<I, T> {
    fn default() -> Self {
        Self { items: Vec::new(), marker: PhantomData }
    }
}

impl<I: EntityIndex, T> IndexVec<I, T> {
    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends `item` and returns its index.
    pub fn push(&mut self, item: T) -> I {
        let i = I::new(self.items.len());
        self.items.push(item);
        i
    }
    /// The item at `i`, if any.
    pub fn get(&self, i: I) -> Option<&T> {
        self.items.get(i.index())
    }
    /// The number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Iterates over `(index, item)` pairs.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (I, &T)> + '_ {
        self.items.iter().enumerate().map(|(i, t)| (I::new(i), t))
    }
    /// Iterates over the items.
    pub fn values(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }
    /// Iterates over the indices.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = I> + use<I, T> {
        (0..self.items.len()).map(I::new)
    }
    /// The items as a slice.
    pub fn as_slice(&self) -> &[T] {
        &self.items
    }
}

impl<I: EntityIndex, T> std::ops::Index<I> for IndexVec<I, T> {
    type Output = T;
    fn index(&self, i: I) -> &T {
        &self.items[i.index()]
    }
}

impl<I: EntityIndex, T> std::ops::IndexMut<I> for IndexVec<I, T> {
    fn index_mut(&mut self, i: I) -> &mut T {
        &mut self.items[i.index()]
    }
}

impl<I: EntityIndex, T> FromIterator<T> for IndexVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        Self { items: iter.into_iter().collect(), marker: PhantomData }
    }
}
