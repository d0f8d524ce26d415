//! How interface and function types are written: `Display` for [`InterfaceType`],
//! [`FuncType`] and [`ResourceId`], in WIT-like syntax (`record { a: u32, b: string }`,
//! `async func(x: u32) -> string`, `own<resource-3>`, `stream<u8>`, `error-context`), for
//! error messages and tests.
//!
//! It only prints: it parses nothing, and a resource is printed by its opaque id since the type
//! tree does not know resource names. It is a child of `types` so that it can read the nodes'
//! fields directly, and apart from it because printing is not part of what a type is.

use super::{FuncType, InterfaceType, ResourceId};
use std::fmt;

/// Writes `items` separated by `, `.
fn comma_list<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    item: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        item(f, x)?;
    }
    Ok(())
}

/// Writes `keyword { items }`, or `keyword {}` without items.
fn braced<T>(
    f: &mut fmt::Formatter<'_>,
    keyword: &str,
    items: &[T],
    item: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    if items.is_empty() {
        return write!(f, "{keyword} {{}}");
    }
    write!(f, "{keyword} {{ ")?;
    comma_list(f, items, item)?;
    f.write_str(" }")
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "resource-{}", self.0)
    }
}

impl fmt::Display for InterfaceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keyword = match self {
            InterfaceType::Bool => "bool",
            InterfaceType::S8 => "s8",
            InterfaceType::U8 => "u8",
            InterfaceType::S16 => "s16",
            InterfaceType::U16 => "u16",
            InterfaceType::S32 => "s32",
            InterfaceType::U32 => "u32",
            InterfaceType::S64 => "s64",
            InterfaceType::U64 => "u64",
            InterfaceType::F32 => "f32",
            InterfaceType::F64 => "f64",
            InterfaceType::Char => "char",
            InterfaceType::String => "string",
            InterfaceType::List(t) => return write!(f, "list<{}>", t.element),
            InterfaceType::FixedList(t) => return write!(f, "list<{}, {}>", t.element, t.len),
            InterfaceType::Map(t) => return write!(f, "map<{}, {}>", t.key, t.value),
            InterfaceType::Record(t) => {
                return braced(f, "record", &t.fields, |f, field| write!(f, "{}: {}", field.name, field.ty));
            }
            InterfaceType::Tuple(t) => {
                f.write_str("tuple<")?;
                comma_list(f, &t.types, |f, ty| write!(f, "{ty}"))?;
                return f.write_str(">");
            }
            InterfaceType::Variant(t) => {
                return braced(f, "variant", &t.cases, |f, case| match &case.ty {
                    Some(ty) => write!(f, "{}({ty})", case.name),
                    None => f.write_str(&case.name),
                });
            }
            InterfaceType::Enum(t) => return braced(f, "enum", &t.names, |f, name| f.write_str(name)),
            InterfaceType::Option(t) => return write!(f, "option<{}>", t.some),
            InterfaceType::Result(t) => {
                return match (&t.ok, &t.err) {
                    (None, None) => f.write_str("result"),
                    (Some(ok), None) => write!(f, "result<{ok}>"),
                    (None, Some(err)) => write!(f, "result<_, {err}>"),
                    (Some(ok), Some(err)) => write!(f, "result<{ok}, {err}>"),
                };
            }
            InterfaceType::Flags(t) => return braced(f, "flags", &t.names, |f, name| f.write_str(name)),
            InterfaceType::Own(id) => return write!(f, "own<{id}>"),
            InterfaceType::Borrow(id) => return write!(f, "borrow<{id}>"),
            InterfaceType::Future(t) => return with_payload(f, "future", t.payload()),
            InterfaceType::Stream(t) => return with_payload(f, "stream", t.payload()),
            InterfaceType::ErrorContext => "error-context",
        };
        f.write_str(keyword)
    }
}

/// Writes `keyword<payload>`, or `keyword` without a payload.
fn with_payload(f: &mut fmt::Formatter<'_>, keyword: &str, payload: Option<&InterfaceType>) -> fmt::Result {
    match payload {
        Some(ty) => write!(f, "{keyword}<{ty}>"),
        None => f.write_str(keyword),
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.async_ {
            f.write_str("async ")?;
        }
        f.write_str("func(")?;
        comma_list(f, &self.params, |f, (name, ty)| write!(f, "{name}: {ty}"))?;
        f.write_str(")")?;
        match &self.result {
            Some(ty) => write!(f, " -> {ty}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use InterfaceType as T;

    #[test]
    fn display_primitives_and_handles() {
        let cases = [
            (T::Bool, "bool"),
            (T::S8, "s8"),
            (T::U64, "u64"),
            (T::F32, "f32"),
            (T::Char, "char"),
            (T::String, "string"),
            (T::Own(ResourceId(3)), "own<resource-3>"),
            (T::Borrow(ResourceId(0)), "borrow<resource-0>"),
            (T::ErrorContext, "error-context"),
            (T::future(None), "future"),
            (T::stream(None), "stream"),
        ];
        for (ty, text) in cases {
            assert_eq!(ty.to_string(), text);
        }
    }

    #[test]
    fn display_aggregates() {
        assert_eq!(T::list(T::U8).to_string(), "list<u8>");
        assert_eq!(T::fixed_list(T::U8, 4).to_string(), "list<u8, 4>");
        assert_eq!(T::map(T::String, T::list(T::U32)).to_string(), "map<string, list<u32>>");
        let rec = T::record([("a", T::U32), ("b", T::String)]);
        assert_eq!(rec.to_string(), "record { a: u32, b: string }");
        let var = T::variant([("a", Some(T::U32)), ("b", None)]);
        assert_eq!(var.to_string(), "variant { a(u32), b }");
        assert_eq!(T::option(T::String).to_string(), "option<string>");
        let res = T::result(Some(T::U32), Some(T::String));
        assert_eq!(res.to_string(), "result<u32, string>");
        assert_eq!(T::result(None, None).to_string(), "result");
        assert_eq!(T::result(Some(T::U8), None).to_string(), "result<u8>");
        assert_eq!(T::result(None, Some(T::U8)).to_string(), "result<_, u8>");
        assert_eq!(T::flags(["x", "y"]).to_string(), "flags { x, y }");
        assert_eq!(T::enumeration(["a", "b"]).to_string(), "enum { a, b }");
        assert_eq!(T::tuple([T::U8, T::U32]).to_string(), "tuple<u8, u32>");
        assert_eq!(T::future(Some(T::U32)).to_string(), "future<u32>");
        assert_eq!(T::stream(Some(T::U8)).to_string(), "stream<u8>");
        assert_eq!(T::stream(Some(T::future(Some(T::ErrorContext)))).to_string(), "stream<future<error-context>>");
    }

    #[test]
    fn display_nested() {
        let person = T::record([
            ("name", T::String),
            ("tags", T::list(T::option(T::tuple([T::U8, T::Char])))),
            ("status", T::result(Some(T::Own(ResourceId(1))), None)),
        ]);
        assert_eq!(
            person.to_string(),
            "record { name: string, tags: list<option<tuple<u8, char>>>, status: result<own<resource-1>> }"
        );
        let ty = T::variant([("p", Some(person)), ("none", None)]);
        assert!(ty.to_string().starts_with("variant { p(record { name: string, "));
        assert!(ty.to_string().ends_with("}), none }"));
    }

    #[test]
    fn display_func() {
        let f = FuncType {
            params: vec![("a".into(), T::U32), ("b".into(), T::String)],
            result: Some(T::String),
            async_: false,
        };
        assert_eq!(f.to_string(), "func(a: u32, b: string) -> string");
        assert_eq!(FuncType { params: vec![], result: None, async_: false }.to_string(), "func()");
        assert_eq!(f.param_types().cloned().collect::<Vec<_>>(), vec![T::U32, T::String]);
        let g = FuncType { async_: true, ..f };
        assert_eq!(g.to_string(), "async func(a: u32, b: string) -> string");
        assert_eq!(FuncType { params: vec![], result: None, async_: true }.to_string(), "async func()");
    }
}
