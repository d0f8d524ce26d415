//! The types of what modules import and export ([`ExternType`]), and import matching: whether
//! an item of one type may be given where another is expected.
//!
//! Types only: nothing here looks at a store, so modules, instances and component linking
//! can all ask about types without depending on each other.

use crate::{FuncType, GlobalType, HeapType, MemoryType, RefType, TableType, ValType};
use weld_environ::EntityIndex;

/// The type of an exception tag: the function type whose parameters are its payload (and
/// whose results are empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagType {
    ty: FuncType,
}

impl TagType {
    /// The tag type of payload `ty`'s parameters.
    pub fn new(ty: FuncType) -> TagType {
        TagType { ty }
    }

    /// The function type (parameters are the payload).
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }
}

/// The type of an [`Extern`](crate::Extern).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function type.
    Func(FuncType),
    /// A global type.
    Global(GlobalType),
    /// A table type.
    Table(TableType),
    /// A memory type.
    Memory(MemoryType),
    /// An exception tag type.
    Tag(TagType),
}

impl ExternType {
    /// The type of entity `e` of a module, its concrete reference types named by the engine's
    /// signature ids (`type_ids`, by the module's type index).
    pub(crate) fn of_entity(env: &weld_environ::Module, type_ids: &[u32], e: EntityIndex) -> ExternType {
        match e {
            EntityIndex::Func(f) => ExternType::Func(env.func_type(f).clone()),
            EntityIndex::Global(g) => ExternType::Global(canonical_global(env.globals[g], type_ids)),
            EntityIndex::Table(t) => ExternType::Table(canonical_table(env.tables[t].ty, type_ids)),
            EntityIndex::Memory(m) => ExternType::Memory(env.memories[m]),
            EntityIndex::Tag(t) => ExternType::Tag(TagType::new(env.types[env.tags[t]].clone())),
        }
    }

    /// A short description, e.g. `func (param i32)` or `memory 1..2 pages`.
    pub fn describe(&self) -> String {
        match self {
            ExternType::Func(f) => format!("function of type {f}"),
            ExternType::Global(g) => {
                format!("global of type {}{}", if g.mutable { "mut " } else { "" }, g.ty)
            }
            ExternType::Table(t) => {
                format!("table of {} with limits {}", ValType::Ref(t.element), limits(t.minimum, t.maximum))
            }
            ExternType::Memory(m) => format!(
                "{}memory with limits {} pages",
                if m.memory64 { "64-bit " } else { "" },
                limits(m.minimum, m.maximum)
            ),
            ExternType::Tag(t) => format!("tag with payload {}", t.ty()),
        }
    }
}

#[inline]
fn limits(min: u64, max: Option<u64>) -> String {
    match max {
        Some(max) => format!("{min}..{max}"),
        None => format!("{min}.."),
    }
}

/// `ty` with a concrete function type's module index replaced by its engine signature id.
fn canonical_ref(r: RefType, type_ids: &[u32]) -> RefType {
    match r.heap {
        HeapType::ConcreteFunc(i) => RefType { heap: HeapType::ConcreteFunc(type_ids[i as usize]), ..r },
        _ => r,
    }
}

/// A module's global type as the store keeps it (see [`canonical_ref`]).
pub(crate) fn canonical_global(g: GlobalType, type_ids: &[u32]) -> GlobalType {
    match g.ty {
        ValType::Ref(r) => GlobalType { ty: ValType::Ref(canonical_ref(r, type_ids)), ..g },
        _ => g,
    }
}

/// A module's table type as the store keeps it (see [`canonical_ref`]).
pub(crate) fn canonical_table(t: TableType, type_ids: &[u32]) -> TableType {
    TableType { element: canonical_ref(t.element, type_ids), ..t }
}

/// Whether an item of type `actual` may be used where `expected` is (the core spec's import
/// matching: equal function types, global subtyping, limits within the expected ones).
pub(crate) fn extern_type_matches(expected: &ExternType, actual: &ExternType) -> bool {
    match (expected, actual) {
        (ExternType::Func(e), ExternType::Func(a)) => e == a,
        (ExternType::Global(e), ExternType::Global(a)) => {
            // A mutable global's type must match exactly; an immutable one may be a subtype.
            e.mutable == a.mutable && (e.ty == a.ty || (!e.mutable && is_subtype(a.ty, e.ty)))
        }
        (ExternType::Memory(e), ExternType::Memory(a)) => {
            e.memory64 == a.memory64 && e.shared == a.shared && limits_match(e.minimum, e.maximum, a.minimum, a.maximum)
        }
        (ExternType::Tag(e), ExternType::Tag(a)) => e == a,
        (ExternType::Table(e), ExternType::Table(a)) => {
            e.element == a.element && e.table64 == a.table64 && limits_match(e.minimum, e.maximum, a.minimum, a.maximum)
        }
        _ => false,
    }
}

/// Whether a value of type `a` may be used where `b` is expected.
#[inline]
fn is_subtype(a: ValType, b: ValType) -> bool {
    match (a, b) {
        (ValType::Ref(a), ValType::Ref(b)) => a.heap.is_subtype_of(b.heap) && (b.nullable || !a.nullable),
        _ => a == b,
    }
}

fn limits_match(e_min: u64, e_max: Option<u64>, a_min: u64, a_max: Option<u64>) -> bool {
    a_min >= e_min
        && match e_max {
            None => true,
            Some(e) => a_max.is_some_and(|a| a <= e),
        }
}
