//! Constructors of compound [`Val`]s checked against a type: the value they return always
//! passes [`Val::typecheck`] for that type, and an error says what does not fit, with the
//! same messages (see [`super::values`]).
//!
//! They also do what a host would otherwise do by hand: a record's fields may be given in
//! any order (they are put in the type's order), and flags are put in the type's order
//! without repeats. Nothing else is converted: an element must already be a `Val` of the
//! element type.

use super::types::InterfaceType;
use super::values::Val;
use anyhow::{Result, bail};

#[inline]
fn checked(val: Val, ty: &InterfaceType) -> Result<Val> {
    val.typecheck(ty)?;
    Ok(val)
}

impl Val {
    /// The default value of type `ty`: zero, `false`, `'\0'`, the empty string, list, map or
    /// flags, `none`, `ok` of the default `ok` value, the first case of a variant or enum
    /// (with the default payload), and a record or tuple of defaults. Handles have none: a
    /// type containing `own`, `borrow`, `future`, `stream` or `error-context` is an error.
    pub fn default_for(ty: &InterfaceType) -> Result<Val> {
        let default_payload = |t: Option<&InterfaceType>| t.map(|t| Val::default_for(t).map(Box::new)).transpose();
        Ok(match ty {
            InterfaceType::Bool => Val::Bool(false),
            InterfaceType::S8 => Val::S8(0),
            InterfaceType::U8 => Val::U8(0),
            InterfaceType::S16 => Val::S16(0),
            InterfaceType::U16 => Val::U16(0),
            InterfaceType::S32 => Val::S32(0),
            InterfaceType::U32 => Val::U32(0),
            InterfaceType::S64 => Val::S64(0),
            InterfaceType::U64 => Val::U64(0),
            InterfaceType::F32 => Val::Float32(0.0),
            InterfaceType::F64 => Val::Float64(0.0),
            InterfaceType::Char => Val::Char('\0'),
            InterfaceType::String => Val::String(String::new()),
            InterfaceType::List(_) | InterfaceType::Map(_) => Val::List(Vec::new()),
            InterfaceType::FixedList(l) => {
                Val::List((0..l.len()).map(|_| Val::default_for(l.element())).collect::<Result<_>>()?)
            }
            InterfaceType::Record(r) => Val::Record(
                r.fields().iter().map(|f| Ok((f.name.clone(), Val::default_for(&f.ty)?))).collect::<Result<_>>()?,
            ),
            InterfaceType::Tuple(t) => Val::Tuple(t.types().iter().map(Val::default_for).collect::<Result<_>>()?),
            InterfaceType::Variant(v) => match v.cases().first() {
                Some(case) => Val::Variant(case.name.clone(), default_payload(case.ty.as_ref())?),
                None => bail!("the variant type {ty} has no case"),
            },
            InterfaceType::Enum(e) => match e.names().first() {
                Some(name) => Val::Enum(name.clone()),
                None => bail!("the enum type {ty} has no case"),
            },
            InterfaceType::Option(_) => Val::Option(None),
            InterfaceType::Result(r) => Val::Result(Ok(default_payload(r.ok())?)),
            InterfaceType::Flags(_) => Val::Flags(Vec::new()),
            InterfaceType::Own(_) | InterfaceType::Borrow(_) => {
                bail!("a resource handle ({ty}) has no default value")
            }
            InterfaceType::Future(_) | InterfaceType::Stream(_) | InterfaceType::ErrorContext => {
                bail!("a handle ({ty}) has no default value")
            }
        })
    }

    /// A value of record type `ty` from its fields, by name, in any order.
    pub fn record<N: Into<String>>(ty: &InterfaceType, fields: impl IntoIterator<Item = (N, Val)>) -> Result<Val> {
        let InterfaceType::Record(record) = ty else { bail!("expected a record type, found {ty}") };
        let mut given: Vec<(String, Val)> = fields.into_iter().map(|(n, v)| (n.into(), v)).collect();
        for (i, (name, _)) in given.iter().enumerate() {
            if !record.fields().iter().any(|f| f.name == *name) {
                bail!("unknown field \"{name}\" in {ty}");
            }
            if given[..i].iter().any(|(n, _)| n == name) {
                bail!("field \"{name}\" is given twice");
            }
        }
        let mut ordered = Vec::with_capacity(record.fields().len());
        for field in record.fields() {
            let Some(at) = given.iter().position(|(n, _)| *n == field.name) else {
                bail!("field \"{}\" of {ty} is missing", field.name);
            };
            ordered.push(given.swap_remove(at));
        }
        checked(Val::Record(ordered), ty)
    }

    /// A value of variant type `ty`: case `case`, with `payload` exactly when the case has one.
    #[inline]
    pub fn variant(ty: &InterfaceType, case: &str, payload: Option<Val>) -> Result<Val> {
        if !matches!(ty, InterfaceType::Variant(_)) {
            bail!("expected a variant type, found {ty}");
        }
        checked(Val::Variant(case.to_string(), payload.map(Box::new)), ty)
    }

    /// A value of enum type `ty`: case `case`.
    #[inline]
    pub fn enumeration(ty: &InterfaceType, case: &str) -> Result<Val> {
        if !matches!(ty, InterfaceType::Enum(_)) {
            bail!("expected an enum type, found {ty}");
        }
        checked(Val::Enum(case.to_string()), ty)
    }

    /// A value of flags type `ty` with the flags `set`, in any order (repeats are ignored).
    pub fn flags<N: AsRef<str>>(ty: &InterfaceType, set: impl IntoIterator<Item = N>) -> Result<Val> {
        let InterfaceType::Flags(flags) = ty else { bail!("expected a flags type, found {ty}") };
        let set: Vec<N> = set.into_iter().collect();
        for name in &set {
            if !flags.names().iter().any(|n| n == name.as_ref()) {
                bail!("unknown flag \"{}\" in {ty}", name.as_ref());
            }
        }
        let names = flags.names().iter().filter(|n| set.iter().any(|s| s.as_ref() == n.as_str())).cloned().collect();
        checked(Val::Flags(names), ty)
    }

    /// A value of `ty` that is a list, a fixed-length list or a map (whose elements are
    /// `(key, value)` tuples), from its elements.
    #[inline]
    pub fn list(ty: &InterfaceType, elements: impl IntoIterator<Item = Val>) -> Result<Val> {
        if !matches!(ty, InterfaceType::List(_) | InterfaceType::FixedList(_) | InterfaceType::Map(_)) {
            bail!("expected a list or map type, found {ty}");
        }
        checked(Val::List(elements.into_iter().collect()), ty)
    }

    /// A value of tuple type `ty` from its elements.
    #[inline]
    pub fn tuple(ty: &InterfaceType, elements: impl IntoIterator<Item = Val>) -> Result<Val> {
        if !matches!(ty, InterfaceType::Tuple(_)) {
            bail!("expected a tuple type, found {ty}");
        }
        checked(Val::Tuple(elements.into_iter().collect()), ty)
    }

    /// A value of option type `ty`.
    #[inline]
    pub fn option(ty: &InterfaceType, value: Option<Val>) -> Result<Val> {
        if !matches!(ty, InterfaceType::Option(_)) {
            bail!("expected an option type, found {ty}");
        }
        checked(Val::Option(value.map(Box::new)), ty)
    }

    /// A value of result type `ty`: `Ok` or `Err` with a payload exactly when that side of the
    /// type has one.
    #[inline]
    pub fn result(ty: &InterfaceType, value: Result<Option<Val>, Option<Val>>) -> Result<Val> {
        if !matches!(ty, InterfaceType::Result(_)) {
            bail!("expected a result type, found {ty}");
        }
        checked(Val::Result(value.map(|v| v.map(Box::new)).map_err(|e| e.map(Box::new))), ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InterfaceType as T;

    fn err(r: Result<Val>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn records_take_fields_in_any_order() {
        let ty = T::record([("name", T::String), ("age", T::U8)]);
        let v = Val::record(&ty, [("age", Val::U8(3)), ("name", Val::String("x".into()))]).unwrap();
        assert_eq!(v, Val::Record(vec![("name".into(), Val::String("x".into())), ("age".into(), Val::U8(3))]));
        assert_eq!(
            err(Val::record(&ty, [("name", Val::String("x".into()))])),
            format!("field \"age\" of {ty} is missing")
        );
        assert_eq!(
            err(Val::record(&ty, [("name", Val::U8(1)), ("age", Val::U8(3))])),
            "field \"name\" of record: expected string, found u8"
        );
        assert_eq!(err(Val::record(&ty, [("x", Val::U8(1))])), format!("unknown field \"x\" in {ty}"));
        let twice = [("age", Val::U8(1)), ("age", Val::U8(2)), ("name", Val::String("x".into()))];
        assert_eq!(err(Val::record(&ty, twice)), "field \"age\" is given twice");
        assert_eq!(err(Val::record(&T::U8, [("a", Val::U8(1))])), "expected a record type, found u8");
    }

    #[test]
    fn variants_enums_and_flags() {
        let v = T::variant([("a", None), ("b", Some(T::U32))]);
        assert_eq!(
            Val::variant(&v, "b", Some(Val::U32(1))).unwrap(),
            Val::Variant("b".into(), Some(Box::new(Val::U32(1))))
        );
        assert_eq!(err(Val::variant(&v, "b", None)), "case \"b\" needs a payload of u32, found none");
        assert_eq!(err(Val::variant(&v, "c", None)), format!("unknown case \"c\" in {v}"));
        let e = T::enumeration(["x", "y"]);
        assert_eq!(Val::enumeration(&e, "y").unwrap(), Val::Enum("y".into()));
        assert!(Val::enumeration(&e, "z").is_err());
        let f = T::flags(["r", "w", "x"]);
        assert_eq!(Val::flags(&f, ["x", "r", "x"]).unwrap(), Val::Flags(vec!["r".into(), "x".into()]));
        assert_eq!(err(Val::flags(&f, ["q"])), format!("unknown flag \"q\" in {f}"));
    }

    #[test]
    fn lists_tuples_options_results() {
        let l = T::list(T::U8);
        assert_eq!(Val::list(&l, [Val::U8(1)]).unwrap(), Val::List(vec![Val::U8(1)]));
        assert_eq!(err(Val::list(&l, [Val::U8(1), Val::U16(2)])), "element 1 of list<u8>: expected u8, found u16");
        let m = T::map(T::String, T::U8);
        assert!(Val::list(&m, [Val::Tuple(vec![Val::String("k".into()), Val::U8(1)])]).is_ok());
        assert!(Val::list(&m, [Val::U8(1)]).is_err());
        let t = T::tuple([T::Bool, T::Char]);
        assert!(Val::tuple(&t, [Val::Bool(true), Val::Char('c')]).is_ok());
        assert!(Val::tuple(&t, [Val::Bool(true)]).is_err());
        let o = T::option(T::String);
        assert_eq!(Val::option(&o, None).unwrap(), Val::Option(None));
        assert!(Val::option(&o, Some(Val::U8(0))).is_err());
        let r = T::result(None, Some(T::String));
        assert_eq!(Val::result(&r, Ok(None)).unwrap(), Val::Result(Ok(None)));
        assert!(Val::result(&r, Ok(Some(Val::U8(0)))).is_err());
        assert!(Val::result(&r, Err(Some(Val::String("e".into())))).is_ok());
    }
}
