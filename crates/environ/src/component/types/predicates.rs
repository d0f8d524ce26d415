//! Questions about what a type contains, anywhere inside it: the spec's type predicates
//! `contains_borrow` and `contains_async_value` (CanonicalABI.md, "Type Predicates"), on
//! [`InterfaceType`], and the latter on [`FuncType`].
//!
//! They walk the whole tree, through every aggregate and through the payloads of `future`
//! and `stream`; they say nothing of layouts or of values.

use super::{FuncType, InterfaceType};

impl InterfaceType {
    /// Whether a `borrow` handle occurs anywhere in this type (the spec's `contains_borrow`).
    pub fn contains_borrow(&self) -> bool {
        self.contains(&|ty| matches!(ty, InterfaceType::Borrow(_)))
    }

    /// Whether a `future`, `stream` or `error-context` occurs anywhere in this type.
    ///
    /// The spec's `contains_async_value` names only `future` and `stream`; this one counts
    /// `error-context` too, since all three are handles into tables of the async machinery
    /// that only it can move between instances (a fused adapter cannot carry them).
    pub fn contains_async_value(&self) -> bool {
        self.contains(&|ty| {
            matches!(ty, InterfaceType::Future(_) | InterfaceType::Stream(_) | InterfaceType::ErrorContext)
        })
    }

    /// The spec's `contains`: whether `p` holds of this type or of a type inside it.
    fn contains(&self, p: &dyn Fn(&InterfaceType) -> bool) -> bool {
        use InterfaceType as T;
        let opt = |ty: Option<&InterfaceType>| ty.is_some_and(|ty| ty.contains(p));
        p(self)
            || match self {
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
                | T::Enum(_)
                | T::Flags(_)
                | T::Own(_)
                | T::Borrow(_)
                | T::ErrorContext => false,
                T::List(l) => l.element().contains(p),
                T::FixedList(l) => l.element().contains(p),
                T::Map(m) => m.key().contains(p) || m.value().contains(p),
                T::Record(r) => r.fields().iter().any(|f| f.ty.contains(p)),
                T::Tuple(t) => t.types().iter().any(|ty| ty.contains(p)),
                T::Variant(v) => v.cases().iter().any(|c| opt(c.ty.as_ref())),
                T::Option(o) => o.some().contains(p),
                T::Result(r) => opt(r.ok()) || opt(r.err()),
                T::Future(f) => opt(f.payload()),
                T::Stream(s) => opt(s.payload()),
            }
    }
}

impl FuncType {
    /// Whether a `future`, `stream` or `error-context` occurs anywhere in the parameters or
    /// the result (see [`InterfaceType::contains_async_value`]). Unlike the spec's predicate
    /// on a function type, which looks at the top-level parameter and result types only, this
    /// looks inside them.
    pub fn contains_async_value(&self) -> bool {
        self.param_types().chain(&self.result).any(InterfaceType::contains_async_value)
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use InterfaceType as T;

    fn ty(text: &str) -> InterfaceType {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn async_values_are_found_anywhere() {
        for text in [
            "future",
            "future<u32>",
            "stream",
            "stream<u8>",
            "error-context",
            "list<stream<u8>>",
            "list<future, 2>",
            "map<string, error-context>",
            "record { a: u8, b: option<future<string>> }",
            "tuple<u8, result<_, error-context>>",
            "variant { a, b(stream) }",
            "result<list<future>>",
        ] {
            assert!(ty(text).contains_async_value(), "{text}");
            assert!(!ty(text).contains_borrow(), "{text}");
        }
        for text in ["u8", "string", "list<u32>", "own<r>", "borrow<r>", "record { a: flags { x } }", "result"] {
            assert!(!ty(text).contains_async_value(), "{text}");
        }
    }

    #[test]
    fn borrows_are_found_anywhere() {
        for text in [
            "borrow<r>",
            "list<borrow<r>>",
            "list<borrow<r>, 3>",
            "map<u32, borrow<r>>",
            "record { a: u8, b: borrow<r> }",
            "tuple<u8, borrow<r>>",
            "variant { a, b(borrow<r>) }",
            "option<borrow<r>>",
            "result<_, borrow<r>>",
            "future<borrow<r>>",
            "stream<option<borrow<r>>>",
        ] {
            assert!(ty(text).contains_borrow(), "{text}");
        }
        for text in ["own<r>", "enum { a }", "stream", "result<u8, string>", "future<own<r>>"] {
            assert!(!ty(text).contains_borrow(), "{text}");
        }
    }

    #[test]
    fn function_types_look_inside_params_and_result() {
        let f = |params: Vec<T>, result: Option<T>| FuncType {
            params: params.into_iter().enumerate().map(|(i, t)| (format!("p{i}"), t)).collect(),
            result,
            async_: false,
        };
        assert!(!f(vec![T::U8], Some(T::String)).contains_async_value());
        assert!(f(vec![T::U8, ty("list<stream<u8>>")], None).contains_async_value());
        assert!(f(vec![], Some(ty("result<future, string>"))).contains_async_value());
        // The `async` effect alone is not an async value.
        assert!(!FuncType { params: vec![], result: None, async_: true }.contains_async_value());
    }
}
