//! WAVE, the WebAssembly Value Encoding (the `wasm-wave` crate), for weld's component values:
//! [`WaveType`] and [`WaveVal`] wrap weld's [`Type`] and [`Val`] and implement wasm-wave's
//! `WasmType` and `WasmValue` traits, so that `weld run` parses a component function's
//! arguments ([`parse`]) and prints its result ([`to_string`]) in WAVE syntax.
//!
//! The traits are implemented here, in the command line, so that the runtime does not depend
//! on wasm-wave. Two things follow from wrapping rather than implementing on `Val` itself:
//!
//! - wasm-wave reads nested values as `Cow<WaveVal>`, and a `WaveVal` cannot be borrowed out
//!   of a `Val`, so nested values are cloned while printing (time proportional to the value's
//!   size times its depth, which is fine for command-line values).
//! - wasm-wave's parser has no fixed-length list kind, so `list<T, N>` is presented to it as a
//!   `list<T>`, and building the value checks the length.
//!
//! Resource handles (`own`, `borrow`) and the async values (`future`, `stream`,
//! `error-context`) have no WAVE form and are reported as unsupported.

use std::borrow::Cow;
use wasm_wave::parser::ParserError;
use wasm_wave::wasm::{WasmType, WasmTypeKind, WasmValue, WasmValueError};
use weld::component::{Type, Val};

/// A component value type, as wasm-wave sees it.
#[derive(Clone, Debug)]
pub struct WaveType(pub Type);

/// A component value, as wasm-wave sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct WaveVal(pub Val);

/// Parses `text` as a WAVE value of type `ty`. An error gives wasm-wave's message and the part
/// of `text` it is about (see [`describe_error`]).
pub fn parse(ty: &Type, text: &str) -> anyhow::Result<Val> {
    if ty.contains_async_value() {
        anyhow::bail!(
            "values of type {ty} cannot be written in WAVE (future, stream and error-context values are not supported)"
        );
    }
    if has_handle(ty) {
        anyhow::bail!("values of type {ty} cannot be written in WAVE (resource handles are not supported)");
    }
    wasm_wave::from_str::<WaveVal>(&WaveType(ty.clone()), text)
        .map(|v| v.0)
        .map_err(|e| anyhow::anyhow!("{}", describe_error(&e, text)))
}

/// Whether `ty` has a resource handle anywhere in it.
fn has_handle(ty: &Type) -> bool {
    match ty {
        Type::Own(_) | Type::Borrow(_) => true,
        Type::List(t) => has_handle(t.element()),
        Type::FixedList(t) => has_handle(t.element()),
        Type::Map(t) => has_handle(t.value()),
        Type::Record(t) => t.fields().iter().any(|f| has_handle(&f.ty)),
        Type::Tuple(t) => t.types().iter().any(has_handle),
        Type::Variant(t) => t.cases().iter().any(|c| c.ty.as_ref().is_some_and(has_handle)),
        Type::Option(t) => has_handle(t.some()),
        Type::Result(t) => t.ok().is_some_and(has_handle) || t.err().is_some_and(has_handle),
        _ => false,
    }
}

/// Prints `val` in WAVE syntax.
pub fn to_string(val: &Val) -> anyhow::Result<String> {
    Ok(wasm_wave::to_string(&WaveVal(val.clone()))?)
}

/// Describes a WAVE parse error of `text`: the problem, and where it is unless it is the whole
/// text. (wasm-wave's own `Display` gives the place as a byte range.)
pub fn describe_error(e: &ParserError, text: &str) -> String {
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message = format!("{message}: {detail}");
    } else if let Some(source) = std::error::Error::source(e) {
        message = format!("{message}: {source}");
    }
    let span = e.span();
    match text.get(span.clone()) {
        Some(part) if span != (0..text.len()) && !part.trim().is_empty() => format!("{message} at `{part}`"),
        Some(_) if span.start >= text.trim_end().len() => format!("{message} at the end"),
        _ => message,
    }
}

impl WasmType for WaveType {
    fn kind(&self) -> WasmTypeKind {
        match &self.0 {
            Type::Bool => WasmTypeKind::Bool,
            Type::S8 => WasmTypeKind::S8,
            Type::U8 => WasmTypeKind::U8,
            Type::S16 => WasmTypeKind::S16,
            Type::U16 => WasmTypeKind::U16,
            Type::S32 => WasmTypeKind::S32,
            Type::U32 => WasmTypeKind::U32,
            Type::S64 => WasmTypeKind::S64,
            Type::U64 => WasmTypeKind::U64,
            Type::F32 => WasmTypeKind::F32,
            Type::F64 => WasmTypeKind::F64,
            Type::Char => WasmTypeKind::Char,
            Type::String => WasmTypeKind::String,
            // A map is written as its entry list, `[(key, value), ...]`, as `Val` holds it.
            Type::List(_) | Type::FixedList(_) | Type::Map(_) => WasmTypeKind::List,
            Type::Record(_) => WasmTypeKind::Record,
            Type::Tuple(_) => WasmTypeKind::Tuple,
            Type::Variant(_) => WasmTypeKind::Variant,
            Type::Enum(_) => WasmTypeKind::Enum,
            Type::Option(_) => WasmTypeKind::Option,
            Type::Result(_) => WasmTypeKind::Result,
            Type::Flags(_) => WasmTypeKind::Flags,
            Type::Own(_) | Type::Borrow(_) => WasmTypeKind::Unsupported,
            Type::Future(_) | Type::Stream(_) | Type::ErrorContext => WasmTypeKind::Unsupported,
        }
    }

    fn list_element_type(&self) -> Option<Self> {
        match &self.0 {
            Type::List(t) => Some(WaveType(t.element().clone())),
            Type::FixedList(t) => Some(WaveType(t.element().clone())),
            Type::Map(t) => Some(WaveType(Type::tuple([t.key().clone(), t.value().clone()]))),
            _ => None,
        }
    }

    fn record_fields(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Self)> + '_> {
        match &self.0 {
            Type::Record(t) => {
                Box::new(t.fields().iter().map(|f| (Cow::from(f.name.as_str()), WaveType(f.ty.clone()))))
            }
            _ => Box::new(std::iter::empty()),
        }
    }

    fn tuple_element_types(&self) -> Box<dyn Iterator<Item = Self> + '_> {
        match &self.0 {
            Type::Tuple(t) => Box::new(t.types().iter().map(|ty| WaveType(ty.clone()))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn variant_cases(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Option<Self>)> + '_> {
        match &self.0 {
            Type::Variant(t) => {
                Box::new(t.cases().iter().map(|c| (Cow::from(c.name.as_str()), c.ty.clone().map(WaveType))))
            }
            _ => Box::new(std::iter::empty()),
        }
    }

    fn enum_cases(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match &self.0 {
            Type::Enum(t) => Box::new(t.names().iter().map(|n| Cow::from(n.as_str()))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn option_some_type(&self) -> Option<Self> {
        match &self.0 {
            Type::Option(t) => Some(WaveType(t.some().clone())),
            _ => None,
        }
    }

    fn result_types(&self) -> Option<(Option<Self>, Option<Self>)> {
        match &self.0 {
            Type::Result(t) => Some((t.ok().cloned().map(WaveType), t.err().cloned().map(WaveType))),
            _ => None,
        }
    }

    fn flags_names(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match &self.0 {
            Type::Flags(t) => Box::new(t.names().iter().map(|n| Cow::from(n.as_str()))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn map_key_value_types(&self) -> Option<(Self, Self)> {
        None
    }
}

/// The error for building a value of kind `kind` with type `ty`.
fn wrong_kind(kind: WasmTypeKind, ty: &WaveType) -> WasmValueError {
    WasmValueError::WrongTypeKind { kind, ty: ty.0.to_string() }
}

/// Checks a case's payload against the case's payload type.
fn check_payload(case: &str, ty: Option<&Type>, payload: Option<WaveVal>) -> Result<Option<Box<Val>>, WasmValueError> {
    match (ty, payload) {
        (None, None) => Ok(None),
        (Some(_), Some(v)) => Ok(Some(Box::new(v.0))),
        (None, Some(_)) => Err(WasmValueError::UnexpectedPayload(case.to_string())),
        (Some(_), None) => Err(WasmValueError::MissingPayload(case.to_string())),
    }
}

/// Returns the payload of `self.0` if it is a `Val::$case`; `unwrap_*` are only called on
/// values of the matching kind.
macro_rules! unwrap {
    ($val:expr, $case:ident) => {
        match &$val.0 {
            Val::$case(v) => v,
            other => panic!("unwrapping a {} as {}", other.kind(), stringify!($case)),
        }
    };
}

impl WasmValue for WaveVal {
    type Type = WaveType;

    fn kind(&self) -> WasmTypeKind {
        match &self.0 {
            Val::Bool(_) => WasmTypeKind::Bool,
            Val::S8(_) => WasmTypeKind::S8,
            Val::U8(_) => WasmTypeKind::U8,
            Val::S16(_) => WasmTypeKind::S16,
            Val::U16(_) => WasmTypeKind::U16,
            Val::S32(_) => WasmTypeKind::S32,
            Val::U32(_) => WasmTypeKind::U32,
            Val::S64(_) => WasmTypeKind::S64,
            Val::U64(_) => WasmTypeKind::U64,
            Val::Float32(_) => WasmTypeKind::F32,
            Val::Float64(_) => WasmTypeKind::F64,
            Val::Char(_) => WasmTypeKind::Char,
            Val::String(_) => WasmTypeKind::String,
            Val::List(_) | Val::Bytes(_) => WasmTypeKind::List,
            Val::Record(_) => WasmTypeKind::Record,
            Val::Tuple(_) => WasmTypeKind::Tuple,
            Val::Variant(..) => WasmTypeKind::Variant,
            Val::Enum(_) => WasmTypeKind::Enum,
            Val::Option(_) => WasmTypeKind::Option,
            Val::Result(_) => WasmTypeKind::Result,
            Val::Flags(_) => WasmTypeKind::Flags,
            // WAVE has no syntax for handles.
            Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => WasmTypeKind::Unsupported,
        }
    }

    fn make_bool(val: bool) -> Self {
        WaveVal(Val::Bool(val))
    }
    fn make_s8(val: i8) -> Self {
        WaveVal(Val::S8(val))
    }
    fn make_s16(val: i16) -> Self {
        WaveVal(Val::S16(val))
    }
    fn make_s32(val: i32) -> Self {
        WaveVal(Val::S32(val))
    }
    fn make_s64(val: i64) -> Self {
        WaveVal(Val::S64(val))
    }
    fn make_u8(val: u8) -> Self {
        WaveVal(Val::U8(val))
    }
    fn make_u16(val: u16) -> Self {
        WaveVal(Val::U16(val))
    }
    fn make_u32(val: u32) -> Self {
        WaveVal(Val::U32(val))
    }
    fn make_u64(val: u64) -> Self {
        WaveVal(Val::U64(val))
    }
    fn make_f32(val: f32) -> Self {
        WaveVal(Val::Float32(val))
    }
    fn make_f64(val: f64) -> Self {
        WaveVal(Val::Float64(val))
    }
    fn make_char(val: char) -> Self {
        WaveVal(Val::Char(val))
    }
    fn make_string(val: Cow<str>) -> Self {
        WaveVal(Val::String(val.into_owned()))
    }

    fn make_list(ty: &WaveType, vals: impl IntoIterator<Item = Self>) -> Result<Self, WasmValueError> {
        let elements: Vec<Val> = vals.into_iter().map(|v| v.0).collect();
        match &ty.0 {
            Type::List(_) | Type::Map(_) => {}
            Type::FixedList(t) if elements.len() == t.len() as usize => {}
            Type::FixedList(t) => {
                return Err(WasmValueError::Other(format!(
                    "expected {} elements for {}, found {}",
                    t.len(),
                    ty.0,
                    elements.len()
                )));
            }
            _ => return Err(wrong_kind(WasmTypeKind::List, ty)),
        }
        Ok(WaveVal(Val::List(elements)))
    }

    fn make_record<'a>(
        ty: &WaveType,
        fields: impl IntoIterator<Item = (&'a str, Self)>,
    ) -> Result<Self, WasmValueError> {
        let Type::Record(t) = &ty.0 else { return Err(wrong_kind(WasmTypeKind::Record, ty)) };
        let mut given: Vec<(&str, Val)> = fields.into_iter().map(|(name, v)| (name, v.0)).collect();
        if let Some((name, _)) = given.iter().find(|(name, _)| !t.fields().iter().any(|f| f.name == *name)) {
            return Err(WasmValueError::UnknownField(name.to_string()));
        }
        let mut out = Vec::with_capacity(t.fields().len());
        for field in t.fields() {
            let i = given
                .iter()
                .position(|(name, _)| *name == field.name)
                .ok_or_else(|| WasmValueError::MissingField(field.name.clone()))?;
            out.push((field.name.clone(), given.swap_remove(i).1));
        }
        if let Some((name, _)) = given.first() {
            return Err(WasmValueError::Other(format!("field {name:?} is given more than once")));
        }
        Ok(WaveVal(Val::Record(out)))
    }

    fn make_tuple(ty: &WaveType, vals: impl IntoIterator<Item = Self>) -> Result<Self, WasmValueError> {
        let Type::Tuple(t) = &ty.0 else { return Err(wrong_kind(WasmTypeKind::Tuple, ty)) };
        let elements: Vec<Val> = vals.into_iter().map(|v| v.0).collect();
        if elements.len() != t.types().len() {
            return Err(WasmValueError::WrongNumberOfTupleValues { want: t.types().len(), got: elements.len() });
        }
        Ok(WaveVal(Val::Tuple(elements)))
    }

    fn make_variant(ty: &WaveType, case: &str, val: Option<Self>) -> Result<Self, WasmValueError> {
        let Type::Variant(t) = &ty.0 else { return Err(wrong_kind(WasmTypeKind::Variant, ty)) };
        let c = t.cases().iter().find(|c| c.name == case).ok_or_else(|| WasmValueError::UnknownCase(case.into()))?;
        let payload = check_payload(case, c.ty.as_ref(), val)?;
        Ok(WaveVal(Val::Variant(case.to_string(), payload)))
    }

    fn make_enum(ty: &WaveType, case: &str) -> Result<Self, WasmValueError> {
        let Type::Enum(t) = &ty.0 else { return Err(wrong_kind(WasmTypeKind::Enum, ty)) };
        if !t.names().iter().any(|n| n == case) {
            return Err(WasmValueError::UnknownCase(case.to_string()));
        }
        Ok(WaveVal(Val::Enum(case.to_string())))
    }

    fn make_option(ty: &WaveType, val: Option<Self>) -> Result<Self, WasmValueError> {
        if !matches!(ty.0, Type::Option(_)) {
            return Err(wrong_kind(WasmTypeKind::Option, ty));
        }
        Ok(WaveVal(Val::Option(val.map(|v| Box::new(v.0)))))
    }

    fn make_result(ty: &WaveType, val: Result<Option<Self>, Option<Self>>) -> Result<Self, WasmValueError> {
        let Type::Result(t) = &ty.0 else { return Err(wrong_kind(WasmTypeKind::Result, ty)) };
        let r = match val {
            Ok(payload) => Ok(check_payload("ok", t.ok(), payload)?),
            Err(payload) => Err(check_payload("err", t.err(), payload)?),
        };
        Ok(WaveVal(Val::Result(r)))
    }

    fn make_flags<'a>(ty: &WaveType, names: impl IntoIterator<Item = &'a str>) -> Result<Self, WasmValueError> {
        let Type::Flags(t) = &ty.0 else { return Err(wrong_kind(WasmTypeKind::Flags, ty)) };
        let given: Vec<&str> = names.into_iter().collect();
        if let Some(name) = given.iter().find(|name| !t.names().iter().any(|n| n == *name)) {
            return Err(WasmValueError::Other(format!("unknown flag {name:?}")));
        }
        // In the type's order, each once.
        let set = t.names().iter().filter(|n| given.contains(&n.as_str())).cloned().collect();
        Ok(WaveVal(Val::Flags(set)))
    }

    fn unwrap_bool(&self) -> bool {
        *unwrap!(self, Bool)
    }
    fn unwrap_s8(&self) -> i8 {
        *unwrap!(self, S8)
    }
    fn unwrap_s16(&self) -> i16 {
        *unwrap!(self, S16)
    }
    fn unwrap_s32(&self) -> i32 {
        *unwrap!(self, S32)
    }
    fn unwrap_s64(&self) -> i64 {
        *unwrap!(self, S64)
    }
    fn unwrap_u8(&self) -> u8 {
        *unwrap!(self, U8)
    }
    fn unwrap_u16(&self) -> u16 {
        *unwrap!(self, U16)
    }
    fn unwrap_u32(&self) -> u32 {
        *unwrap!(self, U32)
    }
    fn unwrap_u64(&self) -> u64 {
        *unwrap!(self, U64)
    }
    fn unwrap_f32(&self) -> f32 {
        *unwrap!(self, Float32)
    }
    fn unwrap_f64(&self) -> f64 {
        *unwrap!(self, Float64)
    }
    fn unwrap_char(&self) -> char {
        *unwrap!(self, Char)
    }
    fn unwrap_string(&self) -> Cow<'_, str> {
        Cow::from(unwrap!(self, String).as_str())
    }

    fn unwrap_list(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        if let Val::Bytes(bytes) = &self.0 {
            return Box::new(bytes.iter().map(|b| Cow::Owned(WaveVal(Val::U8(*b)))));
        }
        Box::new(unwrap!(self, List).iter().map(|v| Cow::Owned(WaveVal(v.clone()))))
    }

    fn unwrap_record(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Cow<'_, Self>)> + '_> {
        Box::new(
            unwrap!(self, Record).iter().map(|(name, v)| (Cow::from(name.as_str()), Cow::Owned(WaveVal(v.clone())))),
        )
    }

    fn unwrap_tuple(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        Box::new(unwrap!(self, Tuple).iter().map(|v| Cow::Owned(WaveVal(v.clone()))))
    }

    fn unwrap_variant(&self) -> (Cow<'_, str>, Option<Cow<'_, Self>>) {
        match &self.0 {
            Val::Variant(case, payload) => {
                (Cow::from(case.as_str()), payload.as_deref().map(|v| Cow::Owned(WaveVal(v.clone()))))
            }
            other => panic!("unwrapping a {} as Variant", other.kind()),
        }
    }

    fn unwrap_enum(&self) -> Cow<'_, str> {
        Cow::from(unwrap!(self, Enum).as_str())
    }

    fn unwrap_option(&self) -> Option<Cow<'_, Self>> {
        unwrap!(self, Option).as_deref().map(|v| Cow::Owned(WaveVal(v.clone())))
    }

    fn unwrap_result(&self) -> Result<Option<Cow<'_, Self>>, Option<Cow<'_, Self>>> {
        let payload = |p: &Option<Box<Val>>| p.as_deref().map(|v| Cow::Owned(WaveVal(v.clone())));
        match unwrap!(self, Result) {
            Ok(p) => Ok(payload(p)),
            Err(p) => Err(payload(p)),
        }
    }

    fn unwrap_flags(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        Box::new(unwrap!(self, Flags).iter().map(|n| Cow::from(n.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Type as T;

    fn some(v: Val) -> Option<Box<Val>> {
        Some(Box::new(v))
    }

    /// Prints `val`, checks the text, parses it back as `ty` and checks it is `val` again.
    fn round_trip(val: Val, ty: Type, text: &str) {
        val.typecheck(&ty).unwrap();
        let printed = to_string(&val).unwrap();
        assert_eq!(printed, text, "printing {val:?}");
        let parsed = parse(&ty, &printed).unwrap_or_else(|e| panic!("parsing {printed} as {ty}: {e}"));
        assert_eq!(parsed, val, "parsing {printed} as {ty}");
    }

    #[test]
    fn bytes_print_as_a_list_of_u8() {
        assert_eq!(to_string(&Val::Bytes(vec![1, 2, 255])).unwrap(), "[1, 2, 255]");
        assert_eq!(to_string(&Val::Bytes(Vec::new())).unwrap(), "[]");
    }

    fn parse_err(ty: &Type, text: &str) -> String {
        parse(ty, text).unwrap_err().to_string()
    }

    #[test]
    fn scalars() {
        round_trip(Val::Bool(true), T::Bool, "true");
        round_trip(Val::Bool(false), T::Bool, "false");
        round_trip(Val::S8(-128), T::S8, "-128");
        round_trip(Val::U8(255), T::U8, "255");
        round_trip(Val::S16(-32768), T::S16, "-32768");
        round_trip(Val::U16(65535), T::U16, "65535");
        round_trip(Val::S32(i32::MIN), T::S32, "-2147483648");
        round_trip(Val::U32(u32::MAX), T::U32, "4294967295");
        round_trip(Val::S64(i64::MIN), T::S64, "-9223372036854775808");
        round_trip(Val::U64(u64::MAX), T::U64, "18446744073709551615");
        round_trip(Val::Float32(-1.5), T::F32, "-1.5");
        round_trip(Val::Float32(f32::INFINITY), T::F32, "inf");
        round_trip(Val::Float64(0.1), T::F64, "0.1");
        round_trip(Val::Float64(-123.25), T::F64, "-123.25");
        round_trip(Val::Float64(f64::NEG_INFINITY), T::F64, "-inf");
        round_trip(Val::Char('x'), T::Char, "'x'");
        round_trip(Val::Char('\''), T::Char, "'\\''");
        round_trip(Val::Char('😀'), T::Char, "'😀'");
        round_trip(Val::String("Hello, world!".into()), T::String, "\"Hello, world!\"");
        round_trip(Val::String("a \"quoted\"\nline\t\\".into()), T::String, r#""a \"quoted\"\nline\t\\""#);
        round_trip(Val::String(String::new()), T::String, "\"\"");
    }

    #[test]
    fn nan() {
        assert_eq!(to_string(&Val::Float32(f32::NAN)).unwrap(), "nan");
        assert_eq!(to_string(&Val::Float64(f64::NAN)).unwrap(), "nan");
        assert!(matches!(parse(&T::F32, "nan").unwrap(), Val::Float32(x) if x.is_nan()));
        assert!(matches!(parse(&T::F64, "nan").unwrap(), Val::Float64(x) if x.is_nan()));
    }

    #[test]
    fn lists_records_tuples() {
        round_trip(Val::List(vec![Val::U8(1), Val::U8(2)]), T::list(T::U8), "[1, 2]");
        round_trip(Val::List(vec![]), T::list(T::String), "[]");
        round_trip(Val::List(vec![Val::U16(3), Val::U16(4)]), T::fixed_list(T::U16, 2), "[3, 4]");
        let person = T::record([("name", T::String), ("age", T::U32)]);
        let val = Val::Record(vec![("name".into(), Val::String("x".into())), ("age".into(), Val::U32(3))]);
        round_trip(val.clone(), person.clone(), "{name: \"x\", age: 3}");
        // Fields may be given in any order; the value has them in the type's order.
        assert_eq!(parse(&person, "{age: 3, name: \"x\"}").unwrap(), val);
        // `none` fields are left out when printing and may be left out when parsing.
        let opt = T::record([("a", T::option(T::U8)), ("b", T::option(T::U8))]);
        let val = Val::Record(vec![("a".into(), Val::Option(None)), ("b".into(), Val::Option(some(Val::U8(1))))]);
        round_trip(val, opt.clone(), "{b: some(1)}");
        let val = Val::Record(vec![("a".into(), Val::Option(None)), ("b".into(), Val::Option(None))]);
        round_trip(val, opt, "{:}");
        let tuple = T::tuple([T::U64, T::Char, T::list(T::Bool)]);
        let val = Val::Tuple(vec![Val::U64(9), Val::Char('é'), Val::List(vec![Val::Bool(true)])]);
        round_trip(val, tuple, "(9, 'é', [true])");
    }

    #[test]
    fn variants_enums_options_results_flags() {
        let ty = T::variant([("none-yet", None), ("num", Some(T::S32)), ("text", Some(T::String))]);
        round_trip(Val::Variant("none-yet".into(), None), ty.clone(), "none-yet");
        round_trip(Val::Variant("num".into(), some(Val::S32(-7))), ty.clone(), "num(-7)");
        round_trip(Val::Variant("text".into(), some(Val::String("t".into()))), ty, "text(\"t\")");
        // A case named like a keyword is written with `%`.
        let ty = T::variant([("some", Some(T::U8)), ("other", None)]);
        round_trip(Val::Variant("some".into(), some(Val::U8(1))), ty, "%some(1)");

        let ty = T::enumeration(["red", "green", "blue"]);
        round_trip(Val::Enum("green".into()), ty, "green");

        let ty = T::option(T::option(T::U32));
        round_trip(Val::Option(None), ty.clone(), "none");
        round_trip(Val::Option(some(Val::Option(None))), ty.clone(), "some(none)");
        round_trip(Val::Option(some(Val::Option(some(Val::U32(5))))), ty, "some(some(5))");
        // An option's payload may be written without `some(...)`.
        assert_eq!(parse(&T::option(T::U32), "5").unwrap(), Val::Option(some(Val::U32(5))));

        let ty = T::result(Some(T::U32), Some(T::String));
        round_trip(Val::Result(Ok(some(Val::U32(1)))), ty.clone(), "ok(1)");
        round_trip(Val::Result(Err(some(Val::String("bad".into())))), ty, "err(\"bad\")");
        let ty = T::result(None, None);
        round_trip(Val::Result(Ok(None)), ty.clone(), "ok");
        round_trip(Val::Result(Err(None)), ty, "err");
        let ty = T::result(None, Some(T::U8));
        round_trip(Val::Result(Err(some(Val::U8(2)))), ty, "err(2)");

        let ty = T::flags(["read", "write", "exec"]);
        round_trip(Val::Flags(vec!["read".into(), "exec".into()]), ty.clone(), "{read, exec}");
        round_trip(Val::Flags(vec![]), ty.clone(), "{}");
        // Flags may be given in any order; the value has them in the type's order.
        assert_eq!(parse(&ty, "{exec, read}").unwrap(), Val::Flags(vec!["read".into(), "exec".into()]));
    }

    #[test]
    fn nested() {
        let ty = T::list(T::record([
            ("id", T::U64),
            ("tags", T::list(T::tuple([T::String, T::option(T::F64)]))),
            ("state", T::result(Some(T::enumeration(["on", "off"])), None)),
        ]));
        let item = |id: u64, tags: Vec<Val>, state| {
            Val::Record(vec![
                ("id".into(), Val::U64(id)),
                ("tags".into(), Val::List(tags)),
                ("state".into(), Val::Result(state)),
            ])
        };
        let tag = |s: &str, x: Option<f64>| {
            Val::Tuple(vec![Val::String(s.into()), Val::Option(x.map(|x| Box::new(Val::Float64(x))))])
        };
        let val = Val::List(vec![
            item(1, vec![tag("a", Some(0.5)), tag("b", None)], Ok(some(Val::Enum("on".into())))),
            item(2, vec![], Err(None)),
        ]);
        round_trip(
            val,
            ty,
            "[{id: 1, tags: [(\"a\", some(0.5)), (\"b\", none)], state: ok(on)}, {id: 2, tags: [], state: err}]",
        );
    }

    #[test]
    fn errors() {
        assert_eq!(parse_err(&T::U32, "\"x\""), "invalid value type");
        assert_eq!(parse_err(&T::U8, "256"), "invalid value");
        let person = T::record([("name", T::String), ("age", T::U32)]);
        assert_eq!(parse_err(&person, "{name: \"x\", age: \"3\"}"), "invalid value type at `\"3\"`");
        assert_eq!(parse_err(&person, "{name: \"x\"}"), "error converting Wasm value: missing field \"age\"");
        assert_eq!(parse_err(&person, "{name: \"x\", age: 3"), "unexpected end of input at the end");
        assert_eq!(
            parse_err(&T::fixed_list(T::U8, 2), "[1]"),
            "error converting Wasm value: expected 2 elements for list<u8, 2>, found 1"
        );
        assert_eq!(parse_err(&T::enumeration(["a", "b"]), "c"), "error converting Wasm value: unknown case \"c\"");
        assert_eq!(parse_err(&T::flags(["a"]), "{b}"), "error converting Wasm value: unknown flag \"b\"");
        let own = T::Own(weld::component::ResourceId(0));
        assert_eq!(
            parse_err(&T::list(own), "[]"),
            "values of type list<own<resource-0>> cannot be written in WAVE (resource handles are not supported)"
        );
        assert_eq!(
            parse_err(&T::option(T::stream(Some(T::U8))), "none"),
            "values of type option<stream<u8>> cannot be written in WAVE \
             (future, stream and error-context values are not supported)"
        );
    }
}
