//! Dynamically typed component values ([`Val`]) and checking them against an interface type.
//!
//! A [`Val`] carries no type of its own beyond its shape: a record is a list of named fields,
//! a variant a case name and maybe a payload, flags the set of names that are set. Whether it
//! fits a type is decided by [`Val::typecheck`], which lifting and lowering call before
//! touching memory. `Val::record`, `Val::variant`, `Val::flags`, ... (in `val_builders.rs`)
//! build compound values checked against a type.
//!
//! A resource handle ([`Val::Resource`]) typechecks against any `own` or `borrow` type here;
//! its resource type is checked when it is lowered into an instance. [`Val::Bytes`]
//! typechecks against `list<u8>` only. No value has a `future`, `stream` or `error-context`
//! type yet: lifting or lowering one fails with an error naming the type.
//!
//! # Error messages
//!
//! A typecheck error reads `<path>: <problem>`, or just `<problem>` at the top level. The
//! path names where in the value the problem is, innermost first, each step joined with
//! ` of `:
//!
//! - `field "name" of record` — a record's field;
//! - `element 3 of list<u8>` — an element of a list (printed with its type), of a fixed-length
//!   list (`element 0 of list<u8, 4>`) or of a tuple (`element 1 of tuple`);
//! - `case "b" of variant` — the payload of a variant's case, and likewise
//!   `case "some" of option`, `case "ok" of result` and `case "error" of result`.
//!
//! Problems are:
//!
//! - `expected <type>, found <kind>`, `<kind>` being the value's shape (`u32`, `string`,
//!   `list`, `bytes`, `record`, `variant`, ...), e.g.
//!   `field "name" of record: expected string, found u32`;
//! - `expected <n> fields, found <m>` (records), `expected <n> elements, found <m>` (tuples,
//!   fixed-length lists);
//! - `unknown field "x" in <record type>`, or `expected field "a", found "b"` when a field
//!   of the type is given in the wrong place (fields are given in the type's order);
//! - `unknown case "x" in <type>` (variants, enums), `unknown flag "x" in <type>`;
//! - `case "a" has no payload, found one` and `case "a" needs a payload of <type>, found none`;
//! - ``lowering a `stream<u8>` is not supported yet`` (and likewise for `future` and
//!   `error-context`), whatever the value.

use super::types::InterfaceType;
use anyhow::{Result, anyhow};
use std::fmt;

/// A component value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// `bool`.
    Bool(bool),
    /// `s8`.
    S8(i8),
    /// `u8`.
    U8(u8),
    /// `s16`.
    S16(i16),
    /// `u16`.
    U16(u16),
    /// `s32`.
    S32(i32),
    /// `u32`.
    U32(u32),
    /// `s64`.
    S64(i64),
    /// `u64`.
    U64(u64),
    /// `f32`.
    Float32(f32),
    /// `f64`.
    Float64(f64),
    /// `char`.
    Char(char),
    /// `string`.
    String(String),
    /// `list<T>` or `list<T, N>`.
    List(Vec<Val>),
    /// A `list<u8>` as its bytes: 1 byte a element instead of a `Val` each, lowered with one
    /// copy. Accepted wherever a `list<u8>` is; results and host function parameters of
    /// that type are lifted as this instead of [`Val::List`] when
    /// [`Config::component_val_bytes`](crate::Config::component_val_bytes) is on. It is a
    /// different value from the `Val::List` of the same bytes (`==` says so).
    Bytes(Vec<u8>),
    /// `record { ... }`: fields with their names, in the type's order.
    Record(Vec<(String, Val)>),
    /// `tuple<...>`.
    Tuple(Vec<Val>),
    /// `variant { ... }`: a case name and its payload, if the case has one.
    Variant(String, Option<Box<Val>>),
    /// `enum { ... }`: a case name.
    Enum(String),
    /// `option<T>`.
    Option(Option<Box<Val>>),
    /// `result<T, E>`: payloads are present exactly when the type has them.
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// `flags { ... }`: the names of the flags that are set.
    Flags(Vec<String>),
    /// `own<R>` or `borrow<R>`: a resource handle. Whether its resource type is `R` is checked
    /// when it is lowered, where the instance's resource types are known.
    Resource(super::resources::ResourceAny),
    /// `future<T>`: the readable end of a future.
    Future(super::async_values::FutureAny),
    /// `stream<T>`: the readable end of a stream.
    Stream(super::async_values::StreamAny),
    /// `error-context`.
    ErrorContext(super::async_values::ErrorContextAny),
}

impl Val {
    /// The value's shape: a primitive type's name, or `list`, `record`, `variant`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::S8(_) => "s8",
            Val::U8(_) => "u8",
            Val::S16(_) => "s16",
            Val::U16(_) => "u16",
            Val::S32(_) => "s32",
            Val::U32(_) => "u32",
            Val::S64(_) => "s64",
            Val::U64(_) => "u64",
            Val::Float32(_) => "f32",
            Val::Float64(_) => "f64",
            Val::Char(_) => "char",
            Val::String(_) => "string",
            Val::List(_) => "list",
            Val::Bytes(_) => "bytes",
            Val::Record(_) => "record",
            Val::Tuple(_) => "tuple",
            Val::Variant(..) => "variant",
            Val::Enum(_) => "enum",
            Val::Option(_) => "option",
            Val::Result(_) => "result",
            Val::Flags(_) => "flags",
            Val::Resource(_) => "resource",
            Val::Future(_) => "future",
            Val::Stream(_) => "stream",
            Val::ErrorContext(_) => "error-context",
        }
    }

    /// Checks that this value has type `ty`; see the module documentation for the errors.
    #[inline]
    pub fn typecheck(&self, ty: &InterfaceType) -> Result<()> {
        check(self, ty).map_err(|e| anyhow!("{e}"))
    }
}

/// What an operation (`doing`: "lifting", "lowering", ...) says when it meets a value of
/// `future`, `stream` or `error-context` type, which no [`Val`] or Rust type represents yet.
pub(crate) fn async_value_unsupported(doing: &str, ty: &InterfaceType) -> String {
    let article = if matches!(ty, InterfaceType::ErrorContext) { "an" } else { "a" };
    format!("{doing} {article} `{ty}` is not supported yet")
}

/// A typecheck failure: the problem, and the path to it, innermost step first.
struct Mismatch {
    path: Vec<String>,
    problem: String,
}

impl Mismatch {
    #[inline]
    fn new(problem: String) -> Mismatch {
        Mismatch { path: Vec::new(), problem }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.path.iter().enumerate() {
            if i > 0 {
                f.write_str(" of ")?;
            }
            f.write_str(step)?;
        }
        if !self.path.is_empty() {
            f.write_str(": ")?;
        }
        f.write_str(&self.problem)
    }
}

type Checked = std::result::Result<(), Mismatch>;

/// Checks `val` against `ty`, then on failure appends `step` to the path.
#[inline]
fn within(val: &Val, ty: &InterfaceType, step: impl FnOnce() -> String) -> Checked {
    check(val, ty).map_err(|mut e| {
        e.path.push(step());
        e
    })
}

#[inline]
fn fail<T>(problem: String) -> std::result::Result<T, Mismatch> {
    Err(Mismatch::new(problem))
}

/// Whether `val` is a number (or `bool`) of type `ty`.
#[inline(always)]
fn is_number_of(val: &Val, ty: &InterfaceType) -> bool {
    use InterfaceType as T;
    matches!(
        (ty, val),
        (T::Bool, Val::Bool(_))
            | (T::S8, Val::S8(_))
            | (T::U8, Val::U8(_))
            | (T::S16, Val::S16(_))
            | (T::U16, Val::U16(_))
            | (T::S32, Val::S32(_))
            | (T::U32, Val::U32(_))
            | (T::S64, Val::S64(_))
            | (T::U64, Val::U64(_))
            | (T::F32, Val::Float32(_))
            | (T::F64, Val::Float64(_))
    )
}

fn check(val: &Val, ty: &InterfaceType) -> Checked {
    use InterfaceType as T;
    match (ty, val) {
        _ if is_number_of(val, ty) => Ok(()),
        (T::Char, Val::Char(_)) | (T::Own(_) | T::Borrow(_), Val::Resource(_)) | (T::String, Val::String(_)) => Ok(()),
        (T::Future(_), Val::Future(_)) | (T::Stream(_), Val::Stream(_)) | (T::ErrorContext, Val::ErrorContext(_)) => {
            Ok(())
        }
        (T::List(list), Val::List(elements)) => {
            for (i, element) in elements.iter().enumerate() {
                // Lists of numbers are long: their elements are matched inline.
                if !is_number_of(element, list.element()) {
                    within(element, list.element(), || format!("element {i} of {ty}"))?;
                }
            }
            Ok(())
        }
        (T::List(list), Val::Bytes(_)) if matches!(list.element(), T::U8) => Ok(()),
        (T::Map(map), Val::List(entries)) => {
            let InterfaceType::List(list) = map.entries() else { unreachable!("a map's entries are a list") };
            for (i, e) in entries.iter().enumerate() {
                within(e, list.element(), || format!("entry {i} of {ty}"))?;
            }
            Ok(())
        }
        (T::FixedList(list), Val::List(elements)) => {
            if elements.len() != list.len() as usize {
                return fail(format!("expected {} elements, found {}", list.len(), elements.len()));
            }
            for (i, element) in elements.iter().enumerate() {
                within(element, list.element(), || format!("element {i} of {ty}"))?;
            }
            Ok(())
        }
        (T::Record(record), Val::Record(fields)) => {
            let expected = record.fields();
            // The usual case, the type's fields in its order, takes one comparison a field;
            // the searches below only find what to say about a mismatch.
            let in_order =
                fields.len() == expected.len() && expected.iter().zip(fields).all(|(f, (n, _))| same_name(&f.name, n));
            if in_order {
                for (field, (name, value)) in expected.iter().zip(fields) {
                    // Scalar fields are matched inline, without a call a field.
                    if !is_number_of(value, &field.ty) {
                        within(value, &field.ty, || format!("field \"{name}\" of record"))?;
                    }
                }
                return Ok(());
            }
            for (name, _) in fields {
                if !expected.iter().any(|f| f.name == *name) {
                    return fail(format!("unknown field \"{name}\" in {ty}"));
                }
            }
            if fields.len() != expected.len() {
                return fail(format!("expected {} fields, found {}", expected.len(), fields.len()));
            }
            for (field, (name, value)) in expected.iter().zip(fields) {
                if field.name != *name {
                    return fail(format!("expected field \"{}\", found \"{name}\"", field.name));
                }
                within(value, &field.ty, || format!("field \"{name}\" of record"))?;
            }
            Ok(())
        }
        (T::Tuple(tuple), Val::Tuple(elements)) => {
            if elements.len() != tuple.types().len() {
                return fail(format!("expected {} elements, found {}", tuple.types().len(), elements.len()));
            }
            for (i, (element, ety)) in elements.iter().zip(tuple.types()).enumerate() {
                if !is_number_of(element, ety) {
                    within(element, ety, || format!("element {i} of tuple"))?;
                }
            }
            Ok(())
        }
        (T::Variant(variant), Val::Variant(name, payload)) => {
            let Some(case) = variant.cases().iter().find(|c| c.name == *name) else {
                return fail(format!("unknown case \"{name}\" in {ty}"));
            };
            check_payload(name, "variant", case.ty.as_ref(), payload.as_deref())
        }
        (T::Enum(e), Val::Enum(name)) => {
            if e.names().iter().any(|n| n == name) {
                Ok(())
            } else {
                fail(format!("unknown case \"{name}\" in {ty}"))
            }
        }
        (T::Option(option), Val::Option(payload)) => match payload {
            None => Ok(()),
            Some(v) => within(v, option.some(), || "case \"some\" of option".to_string()),
        },
        (T::Result(result), Val::Result(r)) => match r {
            Ok(payload) => check_payload("ok", "result", result.ok(), payload.as_deref()),
            Err(payload) => check_payload("error", "result", result.err(), payload.as_deref()),
        },
        (T::Flags(flags), Val::Flags(names)) => {
            for name in names {
                if !flags.names().iter().any(|n| n == name) {
                    return fail(format!("unknown flag \"{name}\" in {ty}"));
                }
            }
            Ok(())
        }
        _ => fail(format!("expected {ty}, found {}", val.kind())),
    }
}

/// Whether two names are the same. Most names are short, and are compared inline rather than
/// by a call to `memcmp` each (ten of which were a tenth of checking a record of ten scalars).
#[inline(always)]
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len()
        && if a.len() <= 16 { a.iter().zip(b).fold(true, |same, (x, y)| same & (x == y)) } else { a == b }
}

/// Checks the payload of case `name` of a `container` (`variant` or `result`).
fn check_payload(name: &str, container: &str, ty: Option<&InterfaceType>, payload: Option<&Val>) -> Checked {
    match (ty, payload) {
        (None, None) => Ok(()),
        (None, Some(_)) => fail(format!("case \"{name}\" has no payload, found one")),
        (Some(ty), None) => fail(format!("case \"{name}\" needs a payload of {ty}, found none")),
        (Some(ty), Some(v)) => within(v, ty, || format!("case \"{name}\" of {container}")),
    }
}

/// Splits a parameter or result tuple into its elements.
#[inline]
pub(crate) fn tuple_elements(val: Val) -> Vec<Val> {
    match val {
        Val::Tuple(items) => items,
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InterfaceType as T;

    fn err(val: &Val, ty: &T) -> String {
        val.typecheck(ty).unwrap_err().to_string()
    }

    #[test]
    fn accepts_matching_values() {
        let ty = T::record([
            ("name", T::String),
            ("tags", T::list(T::tuple([T::U8, T::Char]))),
            ("v", T::variant([("a", None), ("b", Some(T::F64))])),
            ("r", T::result(None, Some(T::enumeration(["x", "y"])))),
            ("f", T::flags(["p", "q"])),
            ("o", T::option(T::fixed_list(T::Bool, 2))),
        ]);
        let val = Val::Record(vec![
            ("name".into(), Val::String("n".into())),
            ("tags".into(), Val::List(vec![Val::Tuple(vec![Val::U8(1), Val::Char('x')])])),
            ("v".into(), Val::Variant("b".into(), Some(Box::new(Val::Float64(1.5))))),
            ("r".into(), Val::Result(Err(Some(Box::new(Val::Enum("y".into())))))),
            ("f".into(), Val::Flags(vec!["q".into()])),
            ("o".into(), Val::Option(Some(Box::new(Val::List(vec![Val::Bool(true), Val::Bool(false)]))))),
        ]);
        val.typecheck(&ty).unwrap();
    }

    #[test]
    fn record_field_names_are_compared_whole() {
        // Names of equal length that differ only in their last byte, below, at and past the
        // length compared inline.
        for len in [1, 2, 15, 16, 17, 40] {
            let name = "n".repeat(len);
            let other = format!("{}m", "n".repeat(len - 1));
            let ty = T::record([(name.as_str(), T::U32)]);
            Val::Record(vec![(name.clone(), Val::U32(1))]).typecheck(&ty).unwrap();
            let v = Val::Record(vec![(other.clone(), Val::U32(1))]);
            assert_eq!(err(&v, &ty), format!("unknown field \"{other}\" in record {{ {name}: u32 }}"));
        }
    }

    #[test]
    fn scalar_fields_and_elements_of_another_type_are_named() {
        let ty = T::record([("a", T::U32), ("b", T::F64)]);
        let v = Val::Record(vec![("a".into(), Val::U32(1)), ("b".into(), Val::Float32(1.0))]);
        assert_eq!(err(&v, &ty), "field \"b\" of record: expected f64, found f32");
        let ty = T::tuple([T::S8, T::Char]);
        let v = Val::Tuple(vec![Val::S8(1), Val::U32(1)]);
        assert_eq!(err(&v, &ty), "element 1 of tuple: expected char, found u32");
    }

    #[test]
    fn exact_messages() {
        let person = T::record([("name", T::String), ("age", T::U32)]);
        let v = Val::Record(vec![("name".into(), Val::U32(3)), ("age".into(), Val::U32(3))]);
        assert_eq!(err(&v, &person), "field \"name\" of record: expected string, found u32");

        let list = T::list(T::U8);
        let v = Val::List(vec![Val::U8(0), Val::U8(1), Val::U8(2), Val::String("x".into())]);
        assert_eq!(err(&v, &list), "element 3 of list<u8>: expected u8, found string");

        let variant = T::variant([("a", None), ("b", Some(T::U16))]);
        let v = Val::Variant("b".into(), Some(Box::new(Val::S16(1))));
        assert_eq!(err(&v, &variant), "case \"b\" of variant: expected u16, found s16");
        let v = Val::Variant("z".into(), None);
        assert_eq!(err(&v, &variant), "unknown case \"z\" in variant { a, b(u16) }");
        let v = Val::Variant("a".into(), Some(Box::new(Val::U16(1))));
        assert_eq!(err(&v, &variant), "case \"a\" has no payload, found one");
        let v = Val::Variant("b".into(), None);
        assert_eq!(err(&v, &variant), "case \"b\" needs a payload of u16, found none");

        let v = Val::Record(vec![("name".into(), Val::String("x".into()))]);
        assert_eq!(err(&v, &person), "expected 2 fields, found 1");
        let v = Val::Record(vec![("nom".into(), Val::String("x".into())), ("age".into(), Val::U32(1))]);
        assert_eq!(err(&v, &person), "unknown field \"nom\" in record { name: string, age: u32 }");
        let v = Val::Record(vec![("age".into(), Val::U32(1)), ("name".into(), Val::String("x".into()))]);
        assert_eq!(err(&v, &person), "expected field \"name\", found \"age\"");

        let flags = T::flags(["read", "write"]);
        assert_eq!(err(&Val::Flags(vec!["exec".into()]), &flags), "unknown flag \"exec\" in flags { read, write }");
        assert_eq!(err(&Val::Enum("c".into()), &T::enumeration(["a"])), "unknown case \"c\" in enum { a }");
        assert_eq!(err(&Val::U8(1), &T::String), "expected string, found u8");
    }

    #[test]
    fn nested_paths() {
        let ty = T::record([("items", T::list(T::option(T::tuple([T::U8, T::Char]))))]);
        let bad = Val::Tuple(vec![Val::U8(1), Val::U32(2)]);
        let v =
            Val::Record(vec![("items".into(), Val::List(vec![Val::Option(None), Val::Option(Some(Box::new(bad)))]))]);
        assert_eq!(
            err(&v, &ty),
            "element 1 of tuple of case \"some\" of option of element 1 of list<option<tuple<u8, char>>> \
             of field \"items\" of record: expected char, found u32"
        );
        let ty = T::result(Some(T::String), None);
        let v = Val::Result(Ok(Some(Box::new(Val::Bool(true)))));
        assert_eq!(err(&v, &ty), "case \"ok\" of result: expected string, found bool");
        let v = Val::Result(Err(Some(Box::new(Val::Bool(true)))));
        assert_eq!(err(&v, &ty), "case \"error\" has no payload, found one");
        let ty = T::tuple([T::U8, T::U8]);
        assert_eq!(err(&Val::Tuple(vec![Val::U8(1)]), &ty), "expected 2 elements, found 1");
        let ty = T::fixed_list(T::U8, 3);
        assert_eq!(err(&Val::List(vec![Val::U8(1)]), &ty), "expected 3 elements, found 1");
        let ty = T::Own(super::super::types::ResourceId(0));
        assert_eq!(err(&Val::U32(1), &ty), "expected own<resource-0>, found u32");
    }
}
