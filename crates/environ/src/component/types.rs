//! The component model's value types ([`InterfaceType`]) and function types ([`FuncType`]),
//! as a tree that is cheap to clone (aggregates sit behind `Arc`).
//!
//! Every aggregate node computes its canonical ABI layout once, in its constructor, for both
//! memory widths (with the rules of `layout`, which knows nothing of this tree), so that
//! [`InterfaceType::abi`] and offset queries are O(1) per node. That is why the nodes' fields
//! are private and read through accessors: a node cannot change after its layout is computed.
//! `Display` (in the child module `display`) prints WIT-like syntax.
//!
//! The async value types `future`, `stream` and `error-context` are in the tree (each passed
//! as an `i32` handle, like `own`), and so is a function's `async` effect; what their values
//! are at run time is not this module's concern. Predicates over the tree (which types contain
//! a `borrow` or an async value) are in the child module `predicates`.
//!
//! This module does not parse or validate types (translation does, with wasmparser), does not
//! resolve resource types (a handle names its resource by an opaque [`ResourceId`]), and does
//! not flatten types into core values (`abi` does).

use super::layout::{CanonicalAbiInfo, MemoryWidth, RecordLayout, VariantLayout, record_layout, variant_layout};
use std::sync::Arc;

/// A component-level value type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InterfaceType {
    /// `bool`.
    Bool,
    /// `s8`.
    S8,
    /// `u8`.
    U8,
    /// `s16`.
    S16,
    /// `u16`.
    U16,
    /// `s32`.
    S32,
    /// `u32`.
    U32,
    /// `s64`.
    S64,
    /// `u64`.
    U64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`: a Unicode scalar value.
    Char,
    /// `string`.
    String,
    /// `list<T>`.
    List(Arc<ListType>),
    /// `list<T, N>`: a list of fixed length.
    FixedList(Arc<FixedListType>),
    /// `map<K, V>`: laid out and passed exactly as `list<tuple<K, V>>`.
    Map(Arc<MapType>),
    /// `record { ... }`.
    Record(Arc<RecordType>),
    /// `tuple<...>`.
    Tuple(Arc<TupleType>),
    /// `variant { ... }`.
    Variant(Arc<VariantType>),
    /// `enum { ... }`.
    Enum(Arc<EnumType>),
    /// `option<T>`.
    Option(Arc<OptionType>),
    /// `result<T, E>`, either side optional.
    Result(Arc<ResultType>),
    /// `flags { ... }`.
    Flags(Arc<FlagsType>),
    /// `own<R>`: an owned handle to a resource.
    Own(ResourceId),
    /// `borrow<R>`: a borrowed handle to a resource.
    Borrow(ResourceId),
    /// `future<T>` or `future`: a handle to the readable end of a future, passed as an `i32`.
    Future(Arc<FutureType>),
    /// `stream<T>` or `stream`: a handle to the readable end of a stream, passed as an `i32`.
    Stream(Arc<StreamType>),
    /// `error-context`: a handle to an error context, passed as an `i32`.
    ErrorContext,
}

/// An opaque per-component index of a resource type. Two handles have the same resource type
/// exactly when their ids are equal; what the id indexes is up to the translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(pub u32);

impl InterfaceType {
    /// The canonical ABI layout of this type: size and alignment for both memory widths and
    /// the number of flat values. O(1): aggregates computed it when they were built.
    pub fn abi(&self) -> &CanonicalAbiInfo {
        match self {
            InterfaceType::Bool | InterfaceType::S8 | InterfaceType::U8 => &CanonicalAbiInfo::SCALAR1,
            InterfaceType::S16 | InterfaceType::U16 => &CanonicalAbiInfo::SCALAR2,
            InterfaceType::S32
            | InterfaceType::U32
            | InterfaceType::F32
            | InterfaceType::Char
            | InterfaceType::Own(_)
            | InterfaceType::Borrow(_)
            | InterfaceType::Future(_)
            | InterfaceType::Stream(_)
            | InterfaceType::ErrorContext => &CanonicalAbiInfo::SCALAR4,
            InterfaceType::S64 | InterfaceType::U64 | InterfaceType::F64 => &CanonicalAbiInfo::SCALAR8,
            InterfaceType::String | InterfaceType::List(_) => &CanonicalAbiInfo::POINTER_PAIR,
            InterfaceType::FixedList(t) => &t.abi,
            InterfaceType::Map(_) => &CanonicalAbiInfo::POINTER_PAIR,
            InterfaceType::Record(t) => &t.abi,
            InterfaceType::Tuple(t) => &t.abi,
            InterfaceType::Variant(t) => &t.abi,
            InterfaceType::Enum(t) => &t.abi,
            InterfaceType::Option(t) => &t.abi,
            InterfaceType::Result(t) => &t.abi,
            InterfaceType::Flags(t) => &t.abi,
        }
    }

    /// Whether `self` and `other` are the same type up to resources: every pair of handles
    /// at the same place (both `own` or both `borrow`) is passed to `resources`, which says
    /// whether those two resources may stand for each other. Labels, lengths and the presence
    /// of payloads (of `future` and `stream` too) must be equal, as component type equality
    /// requires.
    pub fn matches(&self, other: &InterfaceType, resources: &mut dyn FnMut(ResourceId, ResourceId) -> bool) -> bool {
        use InterfaceType as T;
        fn all(
            a: impl ExactSizeIterator<Item = Option<InterfaceType>>,
            b: impl ExactSizeIterator<Item = Option<InterfaceType>>,
            resources: &mut dyn FnMut(ResourceId, ResourceId) -> bool,
        ) -> bool {
            a.len() == b.len()
                && a.zip(b).all(|pair| match pair {
                    (None, None) => true,
                    (Some(a), Some(b)) => a.matches(&b, resources),
                    _ => false,
                })
        }
        match (self, other) {
            (T::Own(a), T::Own(b)) | (T::Borrow(a), T::Borrow(b)) => resources(*a, *b),
            (T::List(a), T::List(b)) => a.element.matches(&b.element, resources),
            (T::FixedList(a), T::FixedList(b)) => a.len == b.len && a.element.matches(&b.element, resources),
            (T::Map(a), T::Map(b)) => a.key.matches(&b.key, resources) && a.value.matches(&b.value, resources),
            (T::Record(a), T::Record(b)) => {
                a.fields.iter().map(|f| &f.name).eq(b.fields.iter().map(|f| &f.name))
                    && all(
                        a.fields.iter().map(|f| Some(f.ty.clone())),
                        b.fields.iter().map(|f| Some(f.ty.clone())),
                        resources,
                    )
            }
            (T::Tuple(a), T::Tuple(b)) => {
                all(a.types.iter().cloned().map(Some), b.types.iter().cloned().map(Some), resources)
            }
            (T::Variant(a), T::Variant(b)) => {
                a.cases.iter().map(|c| &c.name).eq(b.cases.iter().map(|c| &c.name))
                    && all(a.cases.iter().map(|c| c.ty.clone()), b.cases.iter().map(|c| c.ty.clone()), resources)
            }
            (T::Option(a), T::Option(b)) => a.some.matches(&b.some, resources),
            (T::Future(a), T::Future(b)) => {
                all([a.payload.clone()].into_iter(), [b.payload.clone()].into_iter(), resources)
            }
            (T::Stream(a), T::Stream(b)) => {
                all([a.payload.clone()].into_iter(), [b.payload.clone()].into_iter(), resources)
            }
            (T::Result(a), T::Result(b)) => {
                all([a.ok.clone(), a.err.clone()].into_iter(), [b.ok.clone(), b.err.clone()].into_iter(), resources)
            }
            (T::Enum(a), T::Enum(b)) => a.names == b.names,
            (T::Flags(a), T::Flags(b)) => a.names == b.names,
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b) && a.is_scalar(),
        }
    }

    /// Whether this is a type without parts (bool, numbers, char, string, error-context).
    fn is_scalar(&self) -> bool {
        use InterfaceType as T;
        matches!(
            self,
            T::Bool
                | T::S8
                | T::U8
                | T::S16
                | T::U16
                | T::S32
                | T::U32
                | T::S64
                | T::U64
                | T::F32
                | T::F64
                | T::Char
                | T::String
                | T::ErrorContext
        )
    }

    /// `list<element>`.
    pub fn list(element: InterfaceType) -> InterfaceType {
        InterfaceType::List(Arc::new(ListType::new(element)))
    }

    /// `list<element, len>`.
    pub fn fixed_list(element: InterfaceType, len: u32) -> InterfaceType {
        InterfaceType::FixedList(Arc::new(FixedListType::new(element, len)))
    }

    /// `map<key, value>`.
    pub fn map(key: InterfaceType, value: InterfaceType) -> InterfaceType {
        InterfaceType::Map(Arc::new(MapType::new(key, value)))
    }

    /// The type whose canonical ABI this one has: `list<tuple<K, V>>` for `map<K, V>` (the
    /// spec's `despecialize`), the type itself otherwise. Lifting, lowering and adapters
    /// treat a map as its entry list.
    pub fn despecialized(&self) -> &InterfaceType {
        match self {
            InterfaceType::Map(m) => &m.entries,
            other => other,
        }
    }

    /// `record { name: ty, ... }`.
    pub fn record<N: Into<String>>(fields: impl IntoIterator<Item = (N, InterfaceType)>) -> InterfaceType {
        let fields = fields.into_iter().map(|(name, ty)| Field { name: name.into(), ty }).collect();
        InterfaceType::Record(Arc::new(RecordType::new(fields)))
    }

    /// `tuple<types...>`.
    pub fn tuple(types: impl IntoIterator<Item = InterfaceType>) -> InterfaceType {
        InterfaceType::Tuple(Arc::new(TupleType::new(types.into_iter().collect())))
    }

    /// `variant { name(ty), name, ... }`.
    pub fn variant<N: Into<String>>(cases: impl IntoIterator<Item = (N, Option<InterfaceType>)>) -> InterfaceType {
        let cases = cases.into_iter().map(|(name, ty)| Case { name: name.into(), ty }).collect();
        InterfaceType::Variant(Arc::new(VariantType::new(cases)))
    }

    /// `enum { names... }`.
    pub fn enumeration<N: Into<String>>(names: impl IntoIterator<Item = N>) -> InterfaceType {
        InterfaceType::Enum(Arc::new(EnumType::new(names.into_iter().map(Into::into).collect())))
    }

    /// `option<some>`.
    pub fn option(some: InterfaceType) -> InterfaceType {
        InterfaceType::Option(Arc::new(OptionType::new(some)))
    }

    /// `result<ok, err>`.
    pub fn result(ok: Option<InterfaceType>, err: Option<InterfaceType>) -> InterfaceType {
        InterfaceType::Result(Arc::new(ResultType::new(ok, err)))
    }

    /// `flags { names... }`.
    pub fn flags<N: Into<String>>(names: impl IntoIterator<Item = N>) -> InterfaceType {
        InterfaceType::Flags(Arc::new(FlagsType::new(names.into_iter().map(Into::into).collect())))
    }

    /// `future<payload>`, or `future` without a payload.
    pub fn future(payload: Option<InterfaceType>) -> InterfaceType {
        InterfaceType::Future(Arc::new(FutureType::new(payload)))
    }

    /// `stream<payload>`, or `stream` without a payload.
    pub fn stream(payload: Option<InterfaceType>) -> InterfaceType {
        InterfaceType::Stream(Arc::new(StreamType::new(payload)))
    }
}

/// `list<T>`. Its layout does not depend on `T` (a pointer and a length).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListType {
    element: InterfaceType,
}

impl ListType {
    /// A list of `element`s.
    pub fn new(element: InterfaceType) -> ListType {
        ListType { element }
    }

    /// The element type.
    pub fn element(&self) -> &InterfaceType {
        &self.element
    }
}

/// `map<K, V>`: a list of key-value entries (the spec does not require keys to be unique).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MapType {
    key: InterfaceType,
    value: InterfaceType,
    /// `list<tuple<K, V>>`, the map's canonical ABI.
    entries: InterfaceType,
}

impl MapType {
    /// A map from `key`s to `value`s.
    pub fn new(key: InterfaceType, value: InterfaceType) -> MapType {
        let entries = InterfaceType::list(InterfaceType::tuple([key.clone(), value.clone()]));
        MapType { key, value, entries }
    }

    /// The key type.
    pub fn key(&self) -> &InterfaceType {
        &self.key
    }

    /// The value type.
    pub fn value(&self) -> &InterfaceType {
        &self.value
    }

    /// `list<tuple<K, V>>`: how the map is laid out and passed.
    pub fn entries(&self) -> &InterfaceType {
        &self.entries
    }
}

/// `list<T, N>`: exactly `N` elements, laid out in place like a tuple.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FixedListType {
    element: InterfaceType,
    len: u32,
    abi: CanonicalAbiInfo,
}

impl FixedListType {
    /// A list of exactly `len` `element`s (validation requires `len > 0`).
    pub fn new(element: InterfaceType, len: u32) -> FixedListType {
        let abi = CanonicalAbiInfo::fixed_list(element.abi(), len);
        FixedListType { element, len, abi }
    }

    /// The element type.
    pub fn element(&self) -> &InterfaceType {
        &self.element
    }

    /// The number of elements.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the list has no elements (never, for a valid type).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Offset of element `index` from the start of the list.
    pub fn element_offset(&self, index: u32, width: MemoryWidth) -> u32 {
        self.element.abi().size(width).saturating_mul(index)
    }
}

/// One named field of a record.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// The field's label.
    pub name: String,
    /// The field's type.
    pub ty: InterfaceType,
}

/// `record { ... }`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordType {
    fields: Vec<Field>,
    abi: CanonicalAbiInfo,
    layout: RecordLayout,
}

impl RecordType {
    /// A record of these fields, in order (validation requires at least one).
    pub fn new(fields: Vec<Field>) -> RecordType {
        let (abi, layout) = record_layout(fields.iter().map(|f| f.ty.abi()));
        RecordType { fields, abi, layout }
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Offset of each field from the start of the record, in order.
    pub fn field_offsets(&self, width: MemoryWidth) -> &[u32] {
        self.layout.offsets(width)
    }
}

/// `tuple<...>`: a record with unnamed fields.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TupleType {
    types: Vec<InterfaceType>,
    abi: CanonicalAbiInfo,
    layout: RecordLayout,
}

impl TupleType {
    /// A tuple of these types, in order (validation requires at least one).
    pub fn new(types: Vec<InterfaceType>) -> TupleType {
        let (abi, layout) = record_layout(types.iter().map(InterfaceType::abi));
        TupleType { types, abi, layout }
    }

    /// The element types, in order.
    pub fn types(&self) -> &[InterfaceType] {
        &self.types
    }

    /// Offset of each element from the start of the tuple, in order.
    pub fn field_offsets(&self, width: MemoryWidth) -> &[u32] {
        self.layout.offsets(width)
    }
}

/// One case of a variant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Case {
    /// The case's label.
    pub name: String,
    /// The case's payload, if it has one.
    pub ty: Option<InterfaceType>,
}

/// `variant { ... }`. Cases are numbered from 0 in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VariantType {
    cases: Vec<Case>,
    abi: CanonicalAbiInfo,
    layout: VariantLayout,
}

impl VariantType {
    /// A variant of these cases (validation requires at least one).
    pub fn new(cases: Vec<Case>) -> VariantType {
        let (abi, layout) = variant_layout(cases.iter().map(|c| c.ty.as_ref().map(InterfaceType::abi)));
        VariantType { cases, abi, layout }
    }

    /// The cases, in order.
    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// Where the discriminant and the payload are.
    pub fn layout(&self) -> &VariantLayout {
        &self.layout
    }
}

/// `enum { ... }`: a variant whose cases have no payloads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnumType {
    names: Vec<String>,
    abi: CanonicalAbiInfo,
}

impl EnumType {
    /// An enum of these labels (validation requires at least one).
    pub fn new(names: Vec<String>) -> EnumType {
        let abi = CanonicalAbiInfo::enumeration(names.len());
        EnumType { names, abi }
    }

    /// The labels, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Bytes in the discriminant (the whole value): 1, 2 or 4.
    pub fn discriminant_size(&self) -> u32 {
        self.abi.size32
    }
}

/// `option<T>`: `variant { none, some(T) }`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OptionType {
    some: InterfaceType,
    abi: CanonicalAbiInfo,
    layout: VariantLayout,
}

impl OptionType {
    /// An option of `some`.
    pub fn new(some: InterfaceType) -> OptionType {
        let (abi, layout) = variant_layout([None, Some(some.abi())]);
        OptionType { some, abi, layout }
    }

    /// The payload type of `some`.
    pub fn some(&self) -> &InterfaceType {
        &self.some
    }

    /// Where the discriminant (0 = none, 1 = some) and the payload are.
    pub fn layout(&self) -> &VariantLayout {
        &self.layout
    }
}

/// `result<T, E>`: `variant { ok(T?), error(E?) }`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResultType {
    ok: Option<InterfaceType>,
    err: Option<InterfaceType>,
    abi: CanonicalAbiInfo,
    layout: VariantLayout,
}

impl ResultType {
    /// A result with these (optional) payloads.
    pub fn new(ok: Option<InterfaceType>, err: Option<InterfaceType>) -> ResultType {
        let (abi, layout) = variant_layout([ok.as_ref().map(InterfaceType::abi), err.as_ref().map(InterfaceType::abi)]);
        ResultType { ok, err, abi, layout }
    }

    /// The payload of `ok`, if any.
    pub fn ok(&self) -> Option<&InterfaceType> {
        self.ok.as_ref()
    }

    /// The payload of `error`, if any.
    pub fn err(&self) -> Option<&InterfaceType> {
        self.err.as_ref()
    }

    /// Where the discriminant (0 = ok, 1 = error) and the payload are.
    pub fn layout(&self) -> &VariantLayout {
        &self.layout
    }
}

/// `flags { ... }`: a bit vector, label `i` being bit `i`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlagsType {
    names: Vec<String>,
    abi: CanonicalAbiInfo,
}

impl FlagsType {
    /// Flags with these labels (validation requires 1 to [`MAX_FLAGS`](super::MAX_FLAGS)).
    pub fn new(names: Vec<String>) -> FlagsType {
        let abi = CanonicalAbiInfo::flags(names.len());
        FlagsType { names, abi }
    }

    /// The labels, in bit order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// `future<T>`: a value of type `T` (or none, for `future`) that will be ready later. Its
/// layout does not depend on `T` (an `i32` handle).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FutureType {
    payload: Option<InterfaceType>,
}

impl FutureType {
    /// A future of `payload`, or of nothing.
    pub fn new(payload: Option<InterfaceType>) -> FutureType {
        FutureType { payload }
    }

    /// The type of the value the future delivers, if it has one.
    pub fn payload(&self) -> Option<&InterfaceType> {
        self.payload.as_ref()
    }
}

/// `stream<T>`: zero or more values of type `T` (or mere events, for `stream`) passed in one
/// direction over time. Its layout does not depend on `T` (an `i32` handle).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StreamType {
    payload: Option<InterfaceType>,
}

impl StreamType {
    /// A stream of `payload`s, or of nothing.
    pub fn new(payload: Option<InterfaceType>) -> StreamType {
        StreamType { payload }
    }

    /// The type of the stream's elements, if it has one.
    pub fn payload(&self) -> Option<&InterfaceType> {
        self.payload.as_ref()
    }
}

/// A component function type: named parameters, an optional result, and whether it declares
/// the `async` effect.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    /// Parameters, with their names, in order.
    pub params: Vec<(String, InterfaceType)>,
    /// The result, if any.
    pub result: Option<InterfaceType>,
    /// Whether the type declares the `async` effect (`async func(...)`): callers of such a
    /// function may be suspended. It says nothing of how the function is lifted or lowered
    /// (the `async` canonical option does).
    pub async_: bool,
}

impl FuncType {
    /// Whether `self` and `other` are the same function type up to resources (see
    /// [`InterfaceType::matches`]); parameter names and the `async` effect must be equal.
    pub fn matches(&self, other: &FuncType, resources: &mut dyn FnMut(ResourceId, ResourceId) -> bool) -> bool {
        self.async_ == other.async_
            && self.params.len() == other.params.len()
            && self.params.iter().zip(&other.params).all(|((an, at), (bn, bt))| an == bn && at.matches(bt, resources))
            && match (&self.result, &other.result) {
                (None, None) => true,
                (Some(a), Some(b)) => a.matches(b, resources),
                _ => false,
            }
    }

    /// The parameter types, in order.
    pub fn param_types(&self) -> impl ExactSizeIterator<Item = &InterfaceType> + Clone {
        self.params.iter().map(|(_, ty)| ty)
    }
}

mod display;
pub mod parse;
mod predicates;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{FlatType::*, MemoryWidth::*, flatten, variant_payload_offset};
    use InterfaceType as T;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    fn hash_of(ty: &T) -> u64 {
        let mut h = DefaultHasher::new();
        ty.hash(&mut h);
        h.finish()
    }

    /// (size, align) in a memory of `width`.
    fn sa(ty: &T, width: crate::component::MemoryWidth) -> (u32, u32) {
        (ty.abi().size(width), ty.abi().align(width))
    }

    /// A variant of `n` cases where only the first carries `payload`.
    fn variant_n(n: usize, payload: Option<T>) -> T {
        T::variant((0..n).map(|i| (format!("c{i}"), if i == 0 { payload.clone() } else { None })))
    }

    #[test]
    fn equal_structure_is_equal() {
        let mk = || T::record([("a", T::option(T::U64)), ("b", T::S8)]);
        let (x, y) = (mk(), mk());
        assert_eq!(x, y);
        assert_eq!(hash_of(&x), hash_of(&y));
        let z = T::record([("a", T::option(T::U64)), ("c", T::S8)]);
        assert_ne!(x, z);
        assert_ne!(T::Own(ResourceId(1)), T::Own(ResourceId(2)));
        assert_ne!(T::Own(ResourceId(1)), T::Borrow(ResourceId(1)));
        // A tuple and a record with the same layout are still different types.
        assert_ne!(T::tuple([T::U8]), T::record([("0", T::U8)]));
    }

    #[test]
    fn async_types_match_by_payload_and_functions_by_effect() {
        let same = |a: &T, b: &T| a.matches(b, &mut |x, y| x == y);
        let own = |i| T::Own(ResourceId(i));
        assert!(same(&T::future(Some(T::U32)), &T::future(Some(T::U32))));
        assert!(same(&T::stream(None), &T::stream(None)));
        assert!(same(&T::ErrorContext, &T::ErrorContext));
        assert!(!same(&T::future(Some(T::U32)), &T::future(Some(T::U8))));
        assert!(!same(&T::future(Some(T::U32)), &T::future(None)));
        assert!(!same(&T::stream(Some(T::U8)), &T::future(Some(T::U8))));
        assert!(!same(&T::stream(Some(T::U8)), &T::list(T::U8)));
        assert!(!same(&T::ErrorContext, &T::U32));
        // Resources inside a payload go through the callback.
        assert!(same(&T::stream(Some(own(1))), &T::stream(Some(own(1)))));
        assert!(!same(&T::future(Some(own(1))), &T::future(Some(own(2)))));
        assert!(T::future(Some(own(1))).matches(&T::future(Some(own(2))), &mut |_, _| true));

        let f = FuncType { params: vec![("s".into(), T::stream(Some(T::U8)))], result: None, async_: false };
        let g = FuncType { async_: true, ..f.clone() };
        assert!(f.matches(&f.clone(), &mut |x, y| x == y));
        assert!(g.matches(&g.clone(), &mut |x, y| x == y));
        assert!(!f.matches(&g, &mut |x, y| x == y) && !g.matches(&f, &mut |x, y| x == y));
        assert_ne!(f, g);
    }

    #[test]
    fn cached_layout_matches_nodes() {
        // record { a: u8, s: string, b: u16 }
        // 32-bit: a@0, s aligned to 4 -> @4 (8 bytes), b@12, end 14 -> size 16, align 4.
        // 64-bit: a@0, s aligned to 8 -> @8 (16 bytes), b@24, end 26 -> size 32, align 8.
        let ty = T::record([("a", T::U8), ("s", T::String), ("b", T::U16)]);
        let T::Record(rec) = &ty else { unreachable!() };
        assert_eq!(rec.field_offsets(Mem32), &[0, 4, 12]);
        assert_eq!(rec.field_offsets(Mem64), &[0, 8, 24]);
        assert_eq!((ty.abi().size(Mem32), ty.abi().align(Mem32)), (16, 4));
        assert_eq!((ty.abi().size(Mem64), ty.abi().align(Mem64)), (32, 8));
        // Flat: u8 -> i32, string -> 2 pointers, u16 -> i32.
        assert_eq!(flatten(&ty, Mem64).unwrap(), [I32, I64, I64, I32]);
        assert_eq!(ty.abi().flat_count, Some(4));

        // list<u32, 3>: elements at 0, 4, 8.
        let T::FixedList(list) = T::fixed_list(T::U32, 3) else { unreachable!() };
        assert_eq!(list.element_offset(2, Mem32), 8);
        assert_eq!(list.len(), 3);
        assert!(!list.is_empty());
    }

    #[test]
    fn variants() {
        // variant { c0(u32) }: 1 case -> 1-byte discriminant; payload aligned to 4 -> @4;
        // size 4 + 4 = 8, align max(1, 4) = 4.
        let one = variant_n(1, Some(T::U32));
        let T::Variant(v) = &one else { unreachable!() };
        assert_eq!((v.layout().discriminant_size, v.layout().payload_offset(Mem32)), (1, 4));
        assert_eq!(sa(&one, Mem32), (8, 4));
        assert_eq!(flatten(&one, Mem32).unwrap(), [I32, I32]);

        // 256 cases, payload u8: 1-byte discriminant, payload @1, size 2, align 1.
        let v256 = variant_n(256, Some(T::U8));
        let T::Variant(v) = &v256 else { unreachable!() };
        assert_eq!((v.layout().discriminant_size, v.layout().payload_offset(Mem32)), (1, 1));
        assert_eq!(sa(&v256, Mem32), (2, 1));

        // 257 cases, payload u8: 2-byte discriminant, payload @2 (max case align 1), end 3,
        // align max(2, 1) = 2 -> size 4.
        let v257 = variant_n(257, Some(T::U8));
        let T::Variant(v) = &v257 else { unreachable!() };
        assert_eq!((v.layout().discriminant_size, v.layout().payload_offset(Mem32)), (2, 2));
        assert_eq!(sa(&v257, Mem32), (4, 2));

        // variant { a(u8), b(u64), c }: discriminant 1, max case align 8 -> payload @8,
        // max case size 8 -> end 16, align 8.
        let mixed = T::variant([("a", Some(T::U8)), ("b", Some(T::U64)), ("c", None)]);
        let T::Variant(v) = &mixed else { unreachable!() };
        assert_eq!(v.layout().payload_offset(Mem32), 8);
        assert_eq!(sa(&mixed, Mem32), (16, 8));
        assert_eq!(variant_payload_offset(2, 8), 8);
        assert_eq!(variant_payload_offset(2, 1), 2);
        assert_eq!(variant_payload_offset(4, 2), 4);

        // variant { s(string), n }: 32-bit: payload @4, size 12, align 4;
        // 64-bit: payload @8, size 24, align 8.
        let s = T::variant([("s", Some(T::String)), ("n", None)]);
        let T::Variant(v) = &s else { unreachable!() };
        assert_eq!((v.layout().payload_offset(Mem32), v.layout().payload_offset(Mem64)), (4, 8));
        assert_eq!(sa(&s, Mem32), (12, 4));
        assert_eq!(sa(&s, Mem64), (24, 8));
    }

    #[test]
    fn options_and_results() {
        // option<u64> = variant { none, some(u64) }: discriminant 1 -> payload @8, size 16, align 8.
        let opt = T::option(T::U64);
        let T::Option(o) = &opt else { unreachable!() };
        assert_eq!(o.layout().payload_offset(Mem32), 8);
        assert_eq!(sa(&opt, Mem32), (16, 8));
        assert_eq!(flatten(&opt, Mem32).unwrap(), [I32, I64]);
        // option<u8>: 1 + 1 = 2, align 1.
        assert_eq!(sa(&T::option(T::U8), Mem64), (2, 1));

        // result<u8, u64>: discriminant 1, max case align 8 -> payload @8; max case size 8 ->
        // size 16, align 8. Flat: i32 discriminant, join(i32, i64) = i64.
        let res = T::result(Some(T::U8), Some(T::U64));
        let T::Result(r) = &res else { unreachable!() };
        assert_eq!(r.layout().payload_offset(Mem64), 8);
        assert_eq!(sa(&res, Mem32), (16, 8));
        assert_eq!(flatten(&res, Mem32).unwrap(), [I32, I64]);

        // result (no payloads): only the 1-byte discriminant.
        let unit = T::result(None, None);
        assert_eq!(sa(&unit, Mem32), (1, 1));
        assert_eq!(flatten(&unit, Mem32).unwrap(), [I32]);

        // result<_, string> in a 64-bit memory: payload @8, 8 + 16 = 24, align 8.
        let err = T::result(None, Some(T::String));
        assert_eq!(sa(&err, Mem64), (24, 8));
        assert_eq!(flatten(&err, Mem64).unwrap(), [I32, I64, I64]);
    }
}
