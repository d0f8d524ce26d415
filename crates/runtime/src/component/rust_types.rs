//! Rust's own types as component types: the implementations of [`ComponentType`], [`Lift`]
//! and [`Lower`] for the Rust types that have an obvious component counterpart. (The traits
//! are in `component_type.rs`, `lift.rs` and `lower.rs`; [`TypedFunc`](super::TypedFunc), which
//! calls with these types, is in `func.rs`.)
//!
//! | component type | Rust type |
//! |---|---|
//! | `bool`, `s8` .. `u64`, `f32`, `f64`, `char` | `bool`, `i8` .. `u64`, `f32`, `f64`, `char` |
//! | `string` | `String` (both ways), `&str` and `Box<str>` (lowered only), `WasmStr` (lifted only) |
//! | any of these | `&T` (lowered only, as the `T` it points to) |
//! | `list<T>` | `Vec<T>` (both ways), `&[T]` (lowered only), `WasmList<T>` (lifted only) |
//! | `map<K, V>` | `HashMap<K, V>`, `BTreeMap<K, V>`, `Vec<(K, V)>` (its entries, in order) |
//! | `option<T>` | `Option<T>` |
//! | `result<T, E>` | `Result<T, E>`, `()` for a missing side |
//! | `tuple<A, B, ..>` | `(A, B, ..)`, up to 17 elements |
//! | `own<R>`, `borrow<R>` | `Resource<T>` (host-defined `R`), `ResourceAny` (any `R`) |
//!
//! Parameter lists and results are tuples: a function `(a: u32, b: string) -> bool` is a
//! `TypedFunc<(u32, String), (bool,)>`, and one without result has `()` as results. Tuples go
//! up to 17 elements, so that a function of 16 parameters (as `bindgen!` generates) has one.
//!
//! Values lift and lower straight between the Rust value and the guest's flat values or
//! memory ([`Lift::lift`], [`Lower::lower`]), with the checks, traps and layout of
//! `canonical/`, so a typed call behaves exactly as a dynamic one without building a [`Val`]:
//! scalars, strings, lists (`list<u8>` as one copy of its bytes), tuples, options, results and
//! the derived records, variants and enums. Maps and `flags!` types still go through their
//! `Val`; so does any value whose component type is not the one its Rust type stands for,
//! which is how a mismatch gets the dynamic path's error.

use super::component_type::{ComponentNamedList, ComponentType};
use super::lift::{
    FieldLifter, Lift, LiftContext, LiftSource, lift_byte_list, lift_list_in_place, lift_through_val,
    lift_variant_in_place,
};
use super::lower::{Lower, LowerContext, LowerDest};
use super::resources::{Resource, ResourceAny};
use super::types::{InterfaceType, ResourceId};
use super::values::Val;
use anyhow::{Context, Result, anyhow, bail};

#[inline]
fn mismatch(expected: &str, found: &Val) -> anyhow::Error {
    anyhow!("expected a {expected} value, found {}", found.kind())
}

/// `ComponentType` and `Lower` for the primitives: lowered straight to their flat bits or
/// their little-endian bytes (as `canonical/store.rs` lowers their `Val`s: floats as their
/// bits, signed integers sign-extended to `i32` when flat).
macro_rules! primitives {
    ($($rust:ty => $variant:ident, $ty:ident, $size:literal, |$x:ident| $flat:expr, $memory:expr;)*) => {$(
        impl ComponentType for $rust {
            const SCALAR_SIZE: u32 = $size;
            #[inline]
            fn ty() -> InterfaceType {
                InterfaceType::$ty
            }
        }
        impl Lower for $rust {
            #[inline]
            fn to_val(&self) -> Val {
                Val::$variant(*self)
            }
            #[inline]
            fn scalar_bits(&self) -> (u64, u64) {
                let $x = *self;
                ($flat, $memory)
            }
            #[inline]
            fn lower(&self, cx: &mut LowerContext<'_>, ty: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
                if !matches!(ty, InterfaceType::$ty) {
                    return cx.lower_val(&self.to_val(), ty, dst);
                }
                let $x = *self;
                cx.lower_scalar($flat, $size, $memory, dst)
            }
        }
    )*};
}

primitives! {
    bool => Bool, Bool, 1, |v| u64::from(v), u64::from(v);
    i8 => S8, S8, 1, |v| i32::from(v) as u32 as u64, v as u8 as u64;
    i16 => S16, S16, 2, |v| i32::from(v) as u32 as u64, v as u16 as u64;
    u16 => U16, U16, 2, |v| u64::from(v), u64::from(v);
    i32 => S32, S32, 4, |v| v as u32 as u64, v as u32 as u64;
    u32 => U32, U32, 4, |v| u64::from(v), u64::from(v);
    i64 => S64, S64, 8, |v| v as u64, v as u64;
    u64 => U64, U64, 8, |v| v, v;
    f32 => Float32, F32, 4, |v| u64::from(v.to_bits()), u64::from(v.to_bits());
    f64 => Float64, F64, 8, |v| v.to_bits(), v.to_bits();
    char => Char, Char, 4, |v| u64::from(v), u64::from(v);
}

impl ComponentType for u8 {
    const SCALAR_SIZE: u32 = 1;
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::U8
    }
}

/// A `list<u8>` is stored in one copy.
impl Lower for u8 {
    #[inline]
    fn to_val(&self) -> Val {
        Val::U8(*self)
    }

    #[inline]
    fn lower(&self, cx: &mut LowerContext<'_>, ty: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        if !matches!(ty, InterfaceType::U8) {
            return cx.lower_val(&self.to_val(), ty, dst);
        }
        cx.lower_scalar(u64::from(*self), 1, u64::from(*self), dst)
    }

    #[inline]
    fn scalar_bits(&self) -> (u64, u64) {
        (u64::from(*self), u64::from(*self))
    }

    #[inline]
    fn list_as_bytes(items: &[u8]) -> Option<&[u8]> {
        Some(items)
    }
}

/// `Lift` for integers, `bool`, floats and `char`, read straight from the core value or
/// memory: `lift_flat` and `load` of CanonicalABI.md keep the low bits (`bool` is any non-zero
/// value), and check `char`'s code point.
macro_rules! lift_scalars {
    ($($rust:ty => $variant:ident, $ty:ident, $size:literal, |$x:ident| $convert:expr;)*) => {$(
        impl Lift for $rust {
            #[inline]
            fn from_val(val: Val) -> Result<Self> {
                match val {
                    Val::$variant(v) => Ok(v),
                    other => Err(mismatch(stringify!($rust), &other)),
                }
            }

            #[inline]
            fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
                if !matches!(ty, InterfaceType::$ty) {
                    return lift_through_val(cx, ty, src);
                }
                Self::from_scalar_bits(cx.scalar_bits(src, $size)?)
            }

            #[inline]
            fn from_scalar_bits($x: u64) -> Result<Self> {
                $convert
            }
        }
    )*};
}

lift_scalars! {
    bool => Bool, Bool, 1, |x| Ok(x as u32 != 0);
    i8 => S8, S8, 1, |x| Ok(x as u8 as i8);
    i16 => S16, S16, 2, |x| Ok(x as u16 as i16);
    u16 => U16, U16, 2, |x| Ok(x as u16);
    i32 => S32, S32, 4, |x| Ok(x as u32 as i32);
    u32 => U32, U32, 4, |x| Ok(x as u32);
    i64 => S64, S64, 8, |x| Ok(x as i64);
    u64 => U64, U64, 8, |x| Ok(x);
    f32 => Float32, F32, 4, |x| Ok(f32::from_bits(x as u32));
    f64 => Float64, F64, 8, |x| Ok(f64::from_bits(x));
    char => Char, Char, 4, |x| super::canonical::char_from(x as u32);
}

/// A `list<u8>` is lifted in one copy.
impl Lift for u8 {
    const BYTES: bool = true;

    #[inline]
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::U8(v) => Ok(v),
            other => Err(mismatch("u8", &other)),
        }
    }

    fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
        if !matches!(ty, InterfaceType::U8) {
            return lift_through_val(cx, ty, src);
        }
        Self::from_scalar_bits(cx.scalar_bits(src, 1)?)
    }

    #[inline]
    fn from_scalar_bits(bits: u64) -> Result<Self> {
        Ok(bits as u8)
    }

    #[inline]
    fn list_from_bytes(bytes: &[u8]) -> Vec<u8> {
        bytes.to_vec()
    }

    #[inline]
    fn extend_from_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
        buf.extend_from_slice(bytes);
    }
}

impl ComponentType for String {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::String
    }
}
impl Lower for String {
    #[inline]
    fn lower(&self, cx: &mut LowerContext<'_>, _: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        cx.lower_str(self, dst)
    }
    #[inline]
    fn to_val(&self) -> Val {
        Val::String(self.clone())
    }
}
impl Lift for String {
    #[inline]
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::String(s) => Ok(s),
            other => Err(mismatch("string", &other)),
        }
    }

    #[inline]
    fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
        if !matches!(ty, InterfaceType::String) {
            return lift_through_val(cx, ty, src);
        }
        cx.lift_string(src, ty)
    }
}
impl ComponentType for &str {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::String
    }
}
impl Lower for &str {
    #[inline]
    fn lower(&self, cx: &mut LowerContext<'_>, _: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        cx.lower_str(self, dst)
    }
    #[inline]
    fn to_val(&self) -> Val {
        Val::String(self.to_string())
    }
}
/// A reference lowers as the value it points to: generated bindings pass records and other
/// owning values to exported functions by reference, as Wasmtime's do.
impl<T: ComponentType> ComponentType for &T {
    const IS_UNIT: bool = T::IS_UNIT;
    #[inline]
    fn ty() -> InterfaceType {
        T::ty()
    }
    #[inline]
    fn typecheck(ty: &InterfaceType) -> Result<()> {
        T::typecheck(ty)
    }
}
impl<T: Lower> Lower for &T {
    #[inline]
    fn lower(&self, cx: &mut LowerContext<'_>, ty: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        (**self).lower(cx, ty, dst)
    }
    #[inline]
    fn to_val(&self) -> Val {
        (**self).to_val()
    }
}
impl ComponentType for Box<str> {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::String
    }
}
impl Lower for Box<str> {
    #[inline]
    fn lower(&self, cx: &mut LowerContext<'_>, _: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        cx.lower_str(self, dst)
    }
    #[inline]
    fn to_val(&self) -> Val {
        Val::String(self.to_string())
    }
}

fn typecheck_list_of<T: ComponentType>(ty: &InterfaceType) -> Result<()> {
    match ty {
        InterfaceType::List(l) => T::typecheck(l.element()).context("in the element type of a list"),
        // A map's value is its entry list: a list of (key, value) tuples stands for it.
        InterfaceType::Map(m) => match m.entries() {
            InterfaceType::List(l) => T::typecheck(l.element()).context("in the entry type of a map"),
            _ => unreachable!("a map's entries are a list"),
        },
        _ => bail!("type mismatch: expected {ty}, found a Rust list type"),
    }
}

impl<T: ComponentType> ComponentType for Vec<T> {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::list(T::ty())
    }
    #[inline]
    fn typecheck(ty: &InterfaceType) -> Result<()> {
        typecheck_list_of::<T>(ty)
    }
}
impl<T: Lower> Lower for Vec<T> {
    #[inline]
    fn to_val(&self) -> Val {
        Val::List(self.iter().map(Lower::to_val).collect())
    }

    #[inline]
    fn lower(&self, cx: &mut LowerContext<'_>, ty: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        self.as_slice().lower(cx, ty, dst)
    }
}
impl<T: Lift> Lift for Vec<T> {
    const IN_PLACE: bool = T::IN_PLACE || T::BYTES;

    #[inline]
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::List(items) => items.into_iter().map(T::from_val).collect(),
            Val::Bytes(bytes) => bytes.into_iter().map(|b| T::from_val(Val::U8(b))).collect(),
            other => Err(mismatch("list", &other)),
        }
    }

    #[inline]
    fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
        if T::BYTES {
            return Ok(T::list_from_bytes(lift_byte_list(cx, ty, src)?));
        }
        // Element by element, each as its type lifts (in place for records, tuples, integers
        // and views; through a `Val` of the element for the rest), never a `Val` of the list.
        lift_list_in_place(cx, ty, src)
    }
}
impl<T: ComponentType> ComponentType for &[T] {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::list(T::ty())
    }
    #[inline]
    fn typecheck(ty: &InterfaceType) -> Result<()> {
        typecheck_list_of::<T>(ty)
    }
}
impl<T: Lower> Lower for &[T] {
    #[inline]
    fn to_val(&self) -> Val {
        Val::List(self.iter().map(Lower::to_val).collect())
    }

    #[inline]
    fn lower(&self, cx: &mut LowerContext<'_>, ty: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        let InterfaceType::List(list) = ty.despecialized() else { return cx.lower_val(&self.to_val(), ty, dst) };
        match T::list_as_bytes(self) {
            Some(bytes) if matches!(list.element(), InterfaceType::U8) => cx.lower_bytes(bytes, dst),
            // Element by element, in place: no `Val` of the whole list.
            _ => cx.lower_list(list.element(), self.len(), dst, |cx, i, ty, dst| self[i].lower(cx, ty, dst)),
        }
    }
}

impl<T: ComponentType> ComponentType for Option<T> {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::option(T::ty())
    }
    #[inline]
    fn typecheck(ty: &InterfaceType) -> Result<()> {
        match ty {
            InterfaceType::Option(o) => T::typecheck(o.some()).context("in the payload type of an option"),
            _ => bail!("type mismatch: expected {ty}, found a Rust Option"),
        }
    }
}
impl<T: Lower> Lower for Option<T> {
    #[inline]
    fn to_val(&self) -> Val {
        Val::Option(self.as_ref().map(|v| Box::new(v.to_val())))
    }

    fn lower(&self, cx: &mut LowerContext<'_>, ty: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        if !matches!(ty, InterfaceType::Option(_)) {
            return cx.lower_val(&self.to_val(), ty, dst);
        }
        cx.lower_case(ty, u64::from(self.is_some()), dst, |cx, pty, dst| match self {
            Some(v) => v.lower(cx, pty, dst),
            None => Ok(()),
        })
    }
}
impl<T: Lift> Lift for Option<T> {
    const IN_PLACE: bool = T::IN_PLACE;

    #[inline]
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Option(v) => v.map(|v| T::from_val(*v)).transpose(),
            other => Err(mismatch("option", &other)),
        }
    }

    fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
        if !matches!(ty, InterfaceType::Option(_)) {
            return lift_through_val(cx, ty, src);
        }
        lift_variant_in_place(cx, ty, src, |cx, _, payload, src| match payload {
            Some(p) => T::lift(cx, p, src).map(Some),
            None => Ok(None),
        })
    }
}

/// `map<K, V>` as a Rust map: lowered as its entries in the map's order, lifted by inserting
/// the entries in order (so the last of repeated keys wins, as the spec's explainer asks of
/// bindings that deduplicate).
macro_rules! maps {
    ($($map:ident, $($bound:path),*;)*) => {$(
        impl<K: ComponentType, V: ComponentType> ComponentType for std::collections::$map<K, V> {
            #[inline]
            fn ty() -> InterfaceType {
                InterfaceType::map(K::ty(), V::ty())
            }
            fn typecheck(ty: &InterfaceType) -> Result<()> {
                match ty {
                    InterfaceType::Map(m) => {
                        K::typecheck(m.key()).context("in the key type of a map")?;
                        V::typecheck(m.value()).context("in the value type of a map")
                    }
                    _ => bail!("type mismatch: expected {ty}, found a Rust map type"),
                }
            }
        }
        impl<K: Lower, V: Lower> Lower for std::collections::$map<K, V> {
            #[inline]
            fn to_val(&self) -> Val {
                Val::List(self.iter().map(|(k, v)| Val::Tuple(vec![k.to_val(), v.to_val()])).collect())
            }
        }
        impl<K: Lift $(+ $bound)*, V: Lift> Lift for std::collections::$map<K, V> {
            fn from_val(val: Val) -> Result<Self> {
                let Val::List(entries) = val else { return Err(mismatch("map", &val)) };
                entries
                    .into_iter()
                    .map(|entry| match entry {
                        Val::Tuple(kv) if kv.len() == 2 => {
                            let mut kv = kv.into_iter();
                            let k = K::from_val(kv.next().expect("two elements"))?;
                            Ok((k, V::from_val(kv.next().expect("two elements"))?))
                        }
                        other => Err(mismatch("map entry (a 2-tuple)", &other)),
                    })
                    .collect()
            }
        }
    )*};
}

maps! {
    HashMap, std::hash::Hash, Eq;
    BTreeMap, Ord;
}

/// The payload type of a side of a `result` whose Rust type is `T`: `()` stands for none.
#[inline]
fn side_ty<T: ComponentType>() -> Option<InterfaceType> {
    if T::IS_UNIT { None } else { Some(T::ty()) }
}

fn side_typecheck<T: ComponentType>(ty: Option<&InterfaceType>) -> Result<()> {
    match (side_ty::<T>(), ty) {
        (None, None) => Ok(()),
        (Some(_), Some(ty)) => T::typecheck(ty),
        (None, Some(ty)) => bail!("type mismatch: expected a payload of {ty}, found `()`"),
        (Some(mine), None) => bail!("type mismatch: expected no payload, found a Rust type for {mine}"),
    }
}

#[inline]
fn side_to_val<T: Lower>(v: &T) -> Option<Box<Val>> {
    side_ty::<T>().map(|_| Box::new(v.to_val()))
}

#[inline]
fn side_from_val<T: Lift>(val: Option<Box<Val>>) -> Result<T> {
    match val {
        Some(v) => T::from_val(*v),
        None => T::from_val(Val::Tuple(Vec::new())),
    }
}

impl<T: ComponentType, E: ComponentType> ComponentType for Result<T, E> {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::result(side_ty::<T>(), side_ty::<E>())
    }
    fn typecheck(ty: &InterfaceType) -> Result<()> {
        match ty {
            InterfaceType::Result(r) => {
                side_typecheck::<T>(r.ok()).context("in the ok type of a result")?;
                side_typecheck::<E>(r.err()).context("in the error type of a result")
            }
            _ => bail!("type mismatch: expected {ty}, found a Rust Result"),
        }
    }
}
impl<T: Lower, E: Lower> Lower for Result<T, E> {
    #[inline]
    fn to_val(&self) -> Val {
        Val::Result(match self {
            Ok(v) => Ok(side_to_val(v)),
            Err(e) => Err(side_to_val(e)),
        })
    }

    fn lower(&self, cx: &mut LowerContext<'_>, ty: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
        if !matches!(ty, InterfaceType::Result(_)) {
            return cx.lower_val(&self.to_val(), ty, dst);
        }
        let index = u64::from(self.is_err());
        cx.lower_case(ty, index, dst, |cx, pty, dst| match self {
            Ok(v) => v.lower(cx, pty, dst),
            Err(e) => e.lower(cx, pty, dst),
        })
    }
}
impl<T: Lift, E: Lift> Lift for Result<T, E> {
    const IN_PLACE: bool = T::IN_PLACE || E::IN_PLACE;

    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Result(Ok(v)) => Ok(Ok(side_from_val(v)?)),
            Val::Result(Err(e)) => Ok(Err(side_from_val(e)?)),
            other => Err(mismatch("result", &other)),
        }
    }

    fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
        if !matches!(ty, InterfaceType::Result(_)) {
            return lift_through_val(cx, ty, src);
        }
        lift_variant_in_place(cx, ty, src, |cx, case, payload, src| match (case, payload) {
            (0, Some(p)) => T::lift(cx, p, src).map(Ok),
            (0, None) => side_from_val(None).map(Ok),
            (_, Some(p)) => E::lift(cx, p, src).map(Err),
            (_, None) => side_from_val(None).map(Err),
        })
    }
}

macro_rules! one {
    ($t:ident) => {
        1
    };
}

/// In the `Lift` and `Lower` of a one-element tuple (every typed call's parameters or results
/// of one value): returns `$body`, given the element's type, when `$ty` is a tuple of one. The
/// element is where the tuple is (flat, or at offset 0 with the tuple's alignment), so it is
/// lifted or lowered as itself, without walking the tuple's fields. Expands to nothing for
/// other arities.
macro_rules! single_element {
    ($ty:ident, |$element:ident| $body:expr; $t:ident) => {
        if let InterfaceType::Tuple(tuple) = $ty {
            if let [$element] = tuple.types() {
                return $body;
            }
        }
    };
    ($ty:ident, |$element:ident| $body:expr; $($t:ident)*) => {};
}

macro_rules! tuples {
    ($(($($t:ident $n:tt),*);)*) => {$(
        impl<$($t: ComponentType),*> ComponentType for ($($t,)*) {
            const IS_UNIT: bool = 0 $(+ one!($t))* == 0;
            #[inline]
            fn ty() -> InterfaceType {
                InterfaceType::tuple([$($t::ty()),*])
            }
            #[inline]
            fn typecheck(ty: &InterfaceType) -> Result<()> {
                match ty {
                    InterfaceType::Tuple(t) => Self::typecheck_list(t.types(), "element"),
                    _ => bail!("type mismatch: expected {ty}, found a Rust tuple"),
                }
            }
        }
        impl<$($t: ComponentType),*> ComponentNamedList for ($($t,)*) {
            const LEN: usize = 0 $(+ one!($t))*;
            #[inline]
            fn types() -> Vec<InterfaceType> {
                vec![$($t::ty()),*]
            }
            #[allow(unused_variables)]
            fn typecheck_list(types: &[InterfaceType], what: &str) -> Result<()> {
                let expected: &[&str] = &[$(stringify!($t)),*];
                if types.len() != expected.len() {
                    bail!("type mismatch: expected {} {what}s, found a Rust tuple of {}", types.len(), expected.len());
                }
                $($t::typecheck(&types[$n]).with_context(|| format!("in {what} {}", $n))?;)*
                Ok(())
            }
        }
        impl<$($t: Lower),*> Lower for ($($t,)*) {
            #[inline]
            fn to_val(&self) -> Val {
                Val::Tuple(vec![$(self.$n.to_val()),*])
            }
            #[allow(unused_variables)]
            fn lower(&self, cx: &mut LowerContext<'_>, ty: &InterfaceType, dst: LowerDest<'_>) -> Result<()> {
                single_element!(ty, |element| self.0.lower(cx, element, dst); $($t)*);
                // Element by element: no `Val` for the tuple itself.
                cx.lower_fields(ty, dst, |cx, i, t, dst| match i {
                    $($n => self.$n.lower(cx, t, dst),)*
                    _ => bail!("too many tuple elements"),
                })
            }
        }
        impl<$($t: Lift),*> Lift for ($($t,)*) {
            const IN_PLACE: bool = false $(|| $t::IN_PLACE)*;

            #[allow(unused_mut, unused_variables, clippy::let_unit_value)]
            #[inline]
            fn lift(cx: &mut LiftContext<'_>, ty: &InterfaceType, src: LiftSource<'_>) -> Result<Self> {
                // Element by element: no `Val` for the tuple itself.
                single_element!(ty, |element| Ok((A::lift(cx, element, src)?,)); $($t)*);
                if !matches!(ty, InterfaceType::Tuple(_)) {
                    bail!("type mismatch: expected a tuple, found {ty}");
                }
                let mut elements = FieldLifter::new(cx, ty, src)?;
                let value = ($(elements.element::<$t>()?,)*);
                elements.finish_tuple()?;
                Ok(value)
            }

            #[allow(unused_mut, unused_variables)]
            fn from_val(val: Val) -> Result<Self> {
                match val {
                    Val::Tuple(items) => {
                        let mut items = items.into_iter();
                        let mut next = || items.next().ok_or_else(|| anyhow!("too few tuple elements"));
                        Ok(($($t::from_val(next()?)?,)*))
                    }
                    other => Err(mismatch("tuple", &other)),
                }
            }
        }
    )*};
}

tuples! {
    ();
    (A 0);
    (A 0, B 1);
    (A 0, B 1, C 2);
    (A 0, B 1, C 2, D 3);
    (A 0, B 1, C 2, D 3, E 4);
    (A 0, B 1, C 2, D 3, E 4, F 5);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15, Q 16);
}

#[inline]
fn typecheck_handle(ty: &InterfaceType, owned: Option<bool>) -> Result<()> {
    match (ty, owned) {
        (InterfaceType::Own(_), None | Some(true)) | (InterfaceType::Borrow(_), None | Some(false)) => Ok(()),
        _ => bail!("type mismatch: expected {ty}, found a Rust resource handle type"),
    }
}

impl ComponentType for ResourceAny {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::Own(ResourceId(u32::MAX))
    }
    #[inline]
    fn typecheck(ty: &InterfaceType) -> Result<()> {
        typecheck_handle(ty, None)
    }
}
impl Lower for ResourceAny {
    #[inline]
    fn to_val(&self) -> Val {
        Val::Resource(*self)
    }
}
impl Lift for ResourceAny {
    #[inline]
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Resource(r) => Ok(r),
            other => Err(mismatch("resource", &other)),
        }
    }
}

impl<T: 'static> ComponentType for Resource<T> {
    #[inline]
    fn ty() -> InterfaceType {
        InterfaceType::Own(ResourceId(u32::MAX))
    }
    #[inline]
    fn typecheck(ty: &InterfaceType) -> Result<()> {
        typecheck_handle(ty, None)
    }
}
impl<T: 'static> Lower for Resource<T> {
    #[inline]
    fn to_val(&self) -> Val {
        Val::Resource(self.into_any())
    }
}
impl<T: 'static> Lift for Resource<T> {
    #[inline]
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Resource(r) => r.try_into_resource(),
            other => Err(mismatch("resource", &other)),
        }
    }
}
