//! Component-model values in scripts: converting the `wast` crate's component values
//! ([`WastVal`]) to weld's [`Val`] for calls, checking results against expectations, and
//! calling a component instance's exported function.
//!
//! Arguments are converted with the parameter's type at hand: it orders a record's fields as
//! the type does, and lets an `enum.const` stand for a payload-less variant case (and the
//! reverse). The value is then typechecked, so a bad script argument is reported before
//! anything runs. A top-level `(f32.const ...)`/`(f64.const ...)` is parsed by `wast` as a
//! core value; it stands for a component `f32`/`f64`.
//!
//! Results compare structurally: floats bit for bit, except that an expected NaN (a NaN
//! value, `nan:canonical` or `nan:arithmetic`) matches any NaN, since the canonical ABI does
//! not preserve NaN payloads across a call; record fields by name; flags as sets. A mismatch
//! prints both values in the script's syntax, and where in them the first difference is.
//! `map` values have no weld counterpart and are reported as unsupported.

use crate::exec_error::ExecError;
use anyhow::{Context as _, Result, anyhow, bail};
use wast::component::WastVal;
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastInvoke, WastRet};
use weld::Store;
use weld::component::{Instance, Type, Val};

/// Calls the exported function `invoke.name` of `instance` with the script's arguments (the
/// call runs the callee's post-return too).
pub(crate) fn invoke(
    store: &mut Store<()>,
    instance: Instance,
    invoke: &WastInvoke<'_>,
) -> Result<Vec<Val>, ExecError> {
    let name = invoke.name;
    let func = instance
        .get_func(&*store, name)
        .ok_or_else(|| ExecError::Setup(anyhow!("the component instance has no exported function named {name:?}")))?;
    let params = func.params(&*store);
    if params.len() != invoke.args.len() {
        let ty = func.ty(&*store);
        return Err(ExecError::Setup(anyhow!(
            "{name:?} takes {} arguments ({ty}), but the script gives {}",
            params.len(),
            invoke.args.len()
        )));
    }
    let args = invoke
        .args
        .iter()
        .zip(params.iter())
        .enumerate()
        .map(|(i, (a, (pname, ty)))| arg(a, ty).with_context(|| format!("argument {i} (`{pname}`) of {name:?}")))
        .collect::<Result<Vec<_>>>()
        .map_err(ExecError::Setup)?;
    let mut results = vec![Val::Bool(false); func.results(&*store).len()];
    func.call(&mut *store, &args, &mut results)
        .with_context(|| format!("calling {name:?} failed"))
        .map_err(ExecError::Run)?;
    Ok(results)
}

/// Converts a script argument to a value of type `ty`, and checks that it has that type.
pub(crate) fn arg(a: &WastArg<'_>, ty: &Type) -> Result<Val> {
    let val = match a {
        WastArg::Component(v) => convert(v, Some(ty))?,
        WastArg::Core(WastArgCore::F32(x)) => Val::Float32(f32::from_bits(x.bits)),
        WastArg::Core(WastArgCore::F64(x)) => Val::Float64(f64::from_bits(x.bits)),
        WastArg::Core(other) => bail!("a core value ({other:?}) cannot be passed to a component function"),
        _ => bail!("unknown kind of script argument"),
    };
    val.typecheck(ty).with_context(|| format!("the script's value {} does not fit {ty}", display(&val)))?;
    Ok(val)
}

/// Converts a script value to a [`Val`], guided by its type where there is one.
fn convert(v: &WastVal<'_>, ty: Option<&Type>) -> Result<Val> {
    Ok(match v {
        WastVal::Bool(b) => Val::Bool(*b),
        WastVal::U8(x) => Val::U8(*x),
        WastVal::S8(x) => Val::S8(*x),
        WastVal::U16(x) => Val::U16(*x),
        WastVal::S16(x) => Val::S16(*x),
        WastVal::U32(x) => Val::U32(*x),
        WastVal::S32(x) => Val::S32(*x),
        WastVal::U64(x) => Val::U64(*x),
        WastVal::S64(x) => Val::S64(*x),
        WastVal::F32(x) => Val::Float32(f32::from_bits(x.bits)),
        WastVal::F64(x) => Val::Float64(f64::from_bits(x.bits)),
        WastVal::Char(c) => Val::Char(*c),
        WastVal::String(s) => Val::String(s.to_string()),
        WastVal::List(items) => {
            let element = match ty {
                Some(Type::List(l)) => Some(l.element()),
                Some(Type::FixedList(l)) => Some(l.element()),
                Some(Type::Map(m)) => match m.entries() {
                    Type::List(l) => Some(l.element()),
                    _ => None,
                },
                _ => None,
            };
            Val::List(items.iter().map(|v| convert(v, element)).collect::<Result<_>>()?)
        }
        // A map value is its list of entries, as `Val` holds maps.
        WastVal::Map(entries) => {
            let (key, value) = match ty {
                Some(Type::Map(m)) => (Some(m.key()), Some(m.value())),
                _ => (None, None),
            };
            let entry =
                |(k, v): &(WastVal<'_>, WastVal<'_>)| Ok(Val::Tuple(vec![convert(k, key)?, convert(v, value)?]));
            Val::List(entries.iter().map(entry).collect::<Result<_>>()?)
        }
        WastVal::Record(fields) => {
            let typed = match ty {
                Some(Type::Record(r))
                    if r.fields().len() == fields.len()
                        && r.fields().iter().all(|f| fields.iter().any(|(n, _)| *n == f.name)) =>
                {
                    Some(r)
                }
                _ => None,
            };
            match typed {
                // The script may give fields in any order; the value lists them in the type's.
                Some(r) => Val::Record(
                    r.fields()
                        .iter()
                        .map(|f| {
                            let (_, v) = fields.iter().find(|(n, _)| *n == f.name).expect("checked above");
                            Ok((f.name.clone(), convert(v, Some(&f.ty))?))
                        })
                        .collect::<Result<_>>()?,
                ),
                None => Val::Record(
                    fields.iter().map(|(n, v)| Ok((n.to_string(), convert(v, None)?))).collect::<Result<_>>()?,
                ),
            }
        }
        WastVal::Tuple(items) => {
            let types = match ty {
                Some(Type::Tuple(t)) => Some(t.types()),
                _ => None,
            };
            Val::Tuple(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| convert(v, types.and_then(|t| t.get(i))))
                    .collect::<Result<_>>()?,
            )
        }
        WastVal::Variant(name, None) if matches!(ty, Some(Type::Enum(_))) => Val::Enum(name.to_string()),
        WastVal::Variant(name, payload) => {
            let case_ty = match ty {
                Some(Type::Variant(v)) => v.cases().iter().find(|c| c.name == *name).and_then(|c| c.ty.as_ref()),
                _ => None,
            };
            Val::Variant(name.to_string(), payload.as_deref().map(|p| convert(p, case_ty).map(Box::new)).transpose()?)
        }
        WastVal::Enum(name) if matches!(ty, Some(Type::Variant(_))) => Val::Variant(name.to_string(), None),
        WastVal::Enum(name) => Val::Enum(name.to_string()),
        WastVal::Option(payload) => {
            let some = match ty {
                Some(Type::Option(o)) => Some(o.some()),
                _ => None,
            };
            Val::Option(payload.as_deref().map(|p| convert(p, some).map(Box::new)).transpose()?)
        }
        WastVal::Result(r) => {
            let (ok, err) = match ty {
                Some(Type::Result(r)) => (r.ok(), r.err()),
                _ => (None, None),
            };
            let payload =
                |p: &Option<Box<WastVal<'_>>>, t| p.as_deref().map(|p| convert(p, t).map(Box::new)).transpose();
            Val::Result(match r {
                Ok(p) => Ok(payload(p, ok)?),
                Err(p) => Err(payload(p, err)?),
            })
        }
        WastVal::Flags(names) => Val::Flags(names.iter().map(|n| n.to_string()).collect()),
    })
}

/// The expected value of a result. A NaN pattern becomes a NaN, which matches any NaN.
fn expected_val(e: &WastRet<'_>) -> Result<Val> {
    Ok(match e {
        WastRet::Component(v) => convert(v, None)?,
        WastRet::Core(WastRetCore::F32(p)) => Val::Float32(match p {
            NanPattern::Value(v) => f32::from_bits(v.bits),
            NanPattern::CanonicalNan | NanPattern::ArithmeticNan => f32::NAN,
        }),
        WastRet::Core(WastRetCore::F64(p)) => Val::Float64(match p {
            NanPattern::Value(v) => f64::from_bits(v.bits),
            NanPattern::CanonicalNan | NanPattern::ArithmeticNan => f64::NAN,
        }),
        WastRet::Core(other) => bail!("a core result pattern ({other:?}) cannot match a component value"),
        _ => bail!("unknown kind of expected result"),
    })
}

/// Checks one result of a component function against its expected value.
pub(crate) fn check(actual: &Val, expected: &WastRet<'_>) -> Result<()> {
    let expected = expected_val(expected)?;
    let Err(d) = compare(&expected, actual) else { return Ok(()) };
    let head = format!("expected {}, got {}", display(&expected), display(actual));
    if d.path.is_empty() {
        // At the top level, a difference of the whole values says nothing more than `head`.
        if d.whole { bail!("{head}") } else { bail!("{head} ({})", d.problem) }
    }
    let path: Vec<&str> = d.path.iter().map(String::as_str).collect();
    bail!("{head} (at {}: {})", path.join(" of "), d.problem)
}

/// Where two values differ: the path to the difference (innermost step first) and what differs.
#[derive(Debug)]
struct Difference {
    path: Vec<String>,
    problem: String,
    /// The problem is just that the two values at the path differ as a whole.
    whole: bool,
}

impl Difference {
    fn new(problem: String) -> Difference {
        Difference { path: Vec::new(), problem, whole: false }
    }
}

fn differ(expected: &Val, actual: &Val) -> Result<(), Difference> {
    let problem = format!("expected {}, got {}", display(expected), display(actual));
    Err(Difference { path: Vec::new(), problem, whole: true })
}

fn within(expected: &Val, actual: &Val, step: impl FnOnce() -> String) -> Result<(), Difference> {
    compare(expected, actual).map_err(|mut d| {
        d.path.push(step());
        d
    })
}

fn compare_payload(
    e: Option<&Val>,
    a: Option<&Val>,
    whole: (&Val, &Val),
    step: impl FnOnce() -> String,
) -> Result<(), Difference> {
    match (e, a) {
        (None, None) => Ok(()),
        (Some(e), Some(a)) => within(e, a, step),
        _ => differ(whole.0, whole.1),
    }
}

fn compare(expected: &Val, actual: &Val) -> Result<(), Difference> {
    match (expected, actual) {
        (Val::Float32(e), Val::Float32(a)) => {
            if e.to_bits() == a.to_bits() || (e.is_nan() && a.is_nan()) {
                Ok(())
            } else {
                differ(expected, actual)
            }
        }
        (Val::Float64(e), Val::Float64(a)) => {
            if e.to_bits() == a.to_bits() || (e.is_nan() && a.is_nan()) {
                Ok(())
            } else {
                differ(expected, actual)
            }
        }
        (e, Val::Bytes(a)) => compare(e, &Val::List(a.iter().map(|b| Val::U8(*b)).collect())),
        (Val::List(e), Val::List(a)) | (Val::Tuple(e), Val::Tuple(a)) => {
            if e.len() != a.len() {
                return Err(Difference::new(format!("expected {} elements, got {}", e.len(), a.len())));
            }
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                within(e, a, || format!("element {i}"))?;
            }
            Ok(())
        }
        (Val::Record(e), Val::Record(a)) => {
            for (name, ev) in e {
                let Some((_, av)) = a.iter().find(|(n, _)| n == name) else {
                    return Err(Difference::new(format!("the result has no field {name:?}")));
                };
                within(ev, av, || format!("field {name:?}"))?;
            }
            if let Some((extra, _)) = a.iter().find(|(n, _)| !e.iter().any(|(en, _)| en == n)) {
                return Err(Difference::new(format!("unexpected field {extra:?}")));
            }
            Ok(())
        }
        (Val::Variant(en, ep), Val::Variant(an, ap)) => {
            if en != an {
                return differ(expected, actual);
            }
            compare_payload(ep.as_deref(), ap.as_deref(), (expected, actual), || format!("case {en:?}"))
        }
        (Val::Option(e), Val::Option(a)) => {
            compare_payload(e.as_deref(), a.as_deref(), (expected, actual), || "option.some".to_string())
        }
        (Val::Result(Ok(e)), Val::Result(Ok(a))) => {
            compare_payload(e.as_deref(), a.as_deref(), (expected, actual), || "result.ok".to_string())
        }
        (Val::Result(Err(e)), Val::Result(Err(a))) => {
            compare_payload(e.as_deref(), a.as_deref(), (expected, actual), || "result.err".to_string())
        }
        (Val::Flags(e), Val::Flags(a)) => {
            let mut e: Vec<&String> = e.iter().collect();
            let mut a: Vec<&String> = a.iter().collect();
            e.sort();
            e.dedup();
            a.sort();
            a.dedup();
            if e == a { Ok(()) } else { differ(expected, actual) }
        }
        _ => {
            if expected == actual {
                Ok(())
            } else {
                differ(expected, actual)
            }
        }
    }
}

/// How many elements of a list are printed before the rest is elided.
const MAX_SHOWN_ELEMENTS: usize = 32;
/// How many characters of a string are printed before the rest is elided.
const MAX_SHOWN_CHARS: usize = 200;

/// Formats a value the way a script writes it, e.g. `record.const (field "a" u8.const 1)`.
pub(crate) fn display(v: &Val) -> String {
    let nested = |v: &Val| format!("({})", display(v));
    let payload = |p: &Option<Box<Val>>| p.as_deref().map(|p| format!(" {}", nested(p))).unwrap_or_default();
    match v {
        Val::Bool(b) => format!("bool.const {b}"),
        Val::S8(x) => format!("s8.const {x}"),
        Val::U8(x) => format!("u8.const {x}"),
        Val::S16(x) => format!("s16.const {x}"),
        Val::U16(x) => format!("u16.const {x}"),
        Val::S32(x) => format!("s32.const {x}"),
        Val::U32(x) => format!("u32.const {x}"),
        Val::S64(x) => format!("s64.const {x}"),
        Val::U64(x) => format!("u64.const {x}"),
        Val::Float32(x) => format!("f32.const {x} ({:#010x})", x.to_bits()),
        Val::Float64(x) => format!("f64.const {x} ({:#018x})", x.to_bits()),
        Val::Char(c) => format!("char.const \"{}\"", c.escape_debug()),
        Val::String(s) => {
            let count = s.chars().count();
            if count <= MAX_SHOWN_CHARS {
                format!("str.const \"{}\"", s.escape_debug())
            } else {
                let head: String = s.chars().take(MAX_SHOWN_CHARS).collect();
                format!("str.const \"{}\"... ({count} characters)", head.escape_debug())
            }
        }
        Val::Bytes(bytes) => display(&Val::List(bytes.iter().map(|b| Val::U8(*b)).collect())),
        Val::List(items) | Val::Tuple(items) => {
            let keyword = if matches!(v, Val::List(_)) { "list.const" } else { "tuple.const" };
            let mut out = keyword.to_string();
            for item in items.iter().take(MAX_SHOWN_ELEMENTS) {
                out.push(' ');
                out.push_str(&nested(item));
            }
            if items.len() > MAX_SHOWN_ELEMENTS {
                out.push_str(&format!(" ... ({} elements)", items.len()));
            }
            out
        }
        Val::Record(fields) => {
            let mut out = "record.const".to_string();
            for (name, v) in fields {
                // The script writes a field's value without parentheses.
                out.push_str(&format!(" (field {name:?} {})", display(v)));
            }
            out
        }
        Val::Variant(name, p) => format!("variant.const {name:?}{}", payload(p)),
        Val::Enum(name) => format!("enum.const {name:?}"),
        Val::Option(None) => "option.none".to_string(),
        Val::Option(Some(p)) => format!("option.some {}", nested(p)),
        Val::Result(Ok(p)) => format!("result.ok{}", payload(p)),
        Val::Result(Err(p)) => format!("result.err{}", payload(p)),
        Val::Flags(names) => {
            let mut out = "flags.const".to_string();
            for name in names {
                out.push_str(&format!(" {name:?}"));
            }
            out
        }
        Val::Resource(r) => format!("{} handle to a {}", if r.owned() { "owned" } else { "borrowed" }, r.ty()),
        Val::Future(_) => "a future".to_string(),
        Val::Stream(_) => "a stream".to_string(),
        Val::ErrorContext(_) => "an error context".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wast::parser::{self, ParseBuffer};

    /// Parses a script argument (without its parentheses) and converts it for `ty`.
    fn arg_of(text: &str, ty: &Type) -> Result<Val> {
        let buf = ParseBuffer::new(text).unwrap();
        let a = parser::parse::<WastArg<'_>>(&buf).unwrap();
        arg(&a, ty)
    }

    /// Checks `actual` against the expected result `text` (without its parentheses).
    fn check_text(actual: &Val, text: &str) -> Result<()> {
        let buf = ParseBuffer::new(text).unwrap();
        let e = parser::parse::<WastRet<'_>>(&buf).unwrap();
        check(actual, &e)
    }

    fn some(v: Val) -> Option<Box<Val>> {
        Some(Box::new(v))
    }

    #[test]
    fn scalar_arguments() {
        assert_eq!(arg_of("u8.const 255", &Type::U8).unwrap(), Val::U8(255));
        assert_eq!(arg_of("s64.const -1", &Type::S64).unwrap(), Val::S64(-1));
        assert_eq!(arg_of("char.const \"\u{1F600}\"", &Type::Char).unwrap(), Val::Char('\u{1F600}'));
        assert_eq!(arg_of("str.const \"hi\"", &Type::String).unwrap(), Val::String("hi".into()));
        // `wast` parses a top-level float as a core value.
        assert_eq!(arg_of("f32.const 1.5", &Type::F32).unwrap(), Val::Float32(1.5));
        assert_eq!(arg_of("f64.const -0", &Type::F64).unwrap().kind(), "f64");
        let e = arg_of("i32.const 1", &Type::U32).unwrap_err();
        assert!(format!("{e:#}").contains("cannot be passed to a component function"), "{e:#}");
    }

    #[test]
    fn arguments_are_typechecked() {
        let e = arg_of("u32.const 1", &Type::U8).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("u32.const 1") && msg.contains("expected u8, found u32"), "{msg}");
        let list = Type::list(Type::U8);
        let e = arg_of("list.const (u8.const 1) (u16.const 2)", &list).unwrap_err();
        assert!(format!("{e:#}").contains("element 1 of list<u8>: expected u8, found u16"), "{e:#}");
    }

    #[test]
    fn typed_aggregate_arguments() {
        // Fields in another order than the type's are reordered.
        let rec = Type::record([("a", Type::U8), ("b", Type::String)]);
        let v = arg_of("record.const (field \"b\" str.const \"x\") (field \"a\" u8.const 7)", &rec).unwrap();
        assert_eq!(v, Val::Record(vec![("a".into(), Val::U8(7)), ("b".into(), Val::String("x".into()))]));
        // An enum written as a payload-less variant, and the reverse.
        let e = Type::enumeration(["x", "y"]);
        assert_eq!(arg_of("variant.const \"y\"", &e).unwrap(), Val::Enum("y".into()));
        let var = Type::variant([("x", None), ("y", Some(Type::F32))]);
        assert_eq!(arg_of("enum.const \"x\"", &var).unwrap(), Val::Variant("x".into(), None));
        assert_eq!(
            arg_of("variant.const \"y\" (f32.const 2)", &var).unwrap(),
            Val::Variant("y".into(), some(Val::Float32(2.0)))
        );
        let e = arg_of("variant.const \"z\"", &var).unwrap_err();
        assert!(format!("{e:#}").contains("unknown case \"z\""), "{e:#}");
        // Nested payloads, fixed-length lists, results and flags.
        let ty = Type::option(Type::tuple([Type::fixed_list(Type::Bool, 2), Type::result(None, Some(Type::U16))]));
        let v = arg_of(
            "option.some (tuple.const (list.const (bool.const true) (bool.const false)) (result.err (u16.const 3)))",
            &ty,
        )
        .unwrap();
        let expected = Val::Option(some(Val::Tuple(vec![
            Val::List(vec![Val::Bool(true), Val::Bool(false)]),
            Val::Result(Err(some(Val::U16(3)))),
        ])));
        assert_eq!(v, expected);
        let flags = Type::flags(["r", "w"]);
        assert_eq!(arg_of("flags.const \"w\"", &flags).unwrap(), Val::Flags(vec!["w".into()]));
        // A map is its entry list.
        let map = Type::map(Type::String, Type::U32);
        let entries = arg_of("map.const (entry (str.const \"a\") (u32.const 1))", &map).unwrap();
        assert_eq!(entries, Val::List(vec![Val::Tuple(vec![Val::String("a".into()), Val::U32(1)])]));
        let e = arg_of("map.const", &Type::U8).unwrap_err();
        assert_eq!(format!("{e:#}"), "the script's value list.const does not fit u8: expected u8, found list");
    }

    #[test]
    fn float_results() {
        assert!(check_text(&Val::Float32(1.5), "f32.const 1.5").is_ok());
        // Bitwise: the signs of zero differ.
        let e = check_text(&Val::Float32(-0.0), "f32.const 0").unwrap_err();
        assert_eq!(e.to_string(), "expected f32.const 0 (0x00000000), got f32.const -0 (0x80000000)");
        // Any NaN matches an expected NaN, whatever its payload.
        let odd_nan = f32::from_bits(0x7fa0_0001);
        assert!(check_text(&Val::Float32(odd_nan), "f32.const nan").is_ok());
        assert!(check_text(&Val::Float32(odd_nan), "f32.const nan:canonical").is_ok());
        assert!(check_text(&Val::Float64(f64::NAN), "f64.const nan:arithmetic").is_ok());
        assert!(check_text(&Val::Float64(f64::NAN), "f64.const 1").is_err());
        assert!(check_text(&Val::Float64(1.0), "f64.const nan").is_err());
        // Nested floats follow the same rules.
        let v = Val::Variant("b".into(), some(Val::Float32(f32::from_bits(0xffc0_0000))));
        assert!(check_text(&v, "variant.const \"b\" (f32.const nan)").is_ok());
        // A float result is not an integer.
        assert!(check_text(&Val::Float32(1.0), "u32.const 1").is_err());
    }

    #[test]
    fn aggregate_results() {
        let rec = Val::Record(vec![("a".into(), Val::U8(1)), ("b".into(), Val::String("x".into()))]);
        assert!(check_text(&rec, "record.const (field \"b\" str.const \"x\") (field \"a\" u8.const 1)").is_ok());
        let e = check_text(&rec, "record.const (field \"a\" u8.const 2) (field \"b\" str.const \"x\")").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected record.const (field \"a\" u8.const 2) (field \"b\" str.const \"x\"), \
             got record.const (field \"a\" u8.const 1) (field \"b\" str.const \"x\") \
             (at field \"a\": expected u8.const 2, got u8.const 1)"
        );
        assert!(check_text(&rec, "record.const (field \"a\" u8.const 1)").is_err());

        let list = Val::List(vec![Val::Tuple(vec![Val::U8(1), Val::Char('z')])]);
        assert!(check_text(&list, "list.const (tuple.const (u8.const 1) (char.const \"z\"))").is_ok());
        let e = check_text(&list, "list.const (tuple.const (u8.const 1) (char.const \"y\"))").unwrap_err();
        assert!(
            e.to_string().ends_with("(at element 1 of element 0: expected char.const \"y\", got char.const \"z\")"),
            "{e}"
        );
        let e = check_text(&list, "list.const").unwrap_err();
        assert!(e.to_string().contains("expected 0 elements, got 1"), "{e}");

        let flags = Val::Flags(vec!["w".into(), "r".into()]);
        assert!(check_text(&flags, "flags.const \"r\" \"w\"").is_ok());
        assert!(check_text(&flags, "flags.const \"r\"").is_err());

        assert!(check_text(&Val::Enum("a".into()), "enum.const \"a\"").is_ok());
        assert!(check_text(&Val::Enum("a".into()), "enum.const \"b\"").is_err());
        assert!(check_text(&Val::Variant("a".into(), None), "variant.const \"a\"").is_ok());
        assert!(check_text(&Val::Variant("a".into(), some(Val::U8(1))), "variant.const \"a\"").is_err());
        assert!(check_text(&Val::Option(None), "option.none").is_ok());
        assert!(check_text(&Val::Option(some(Val::U8(1))), "option.none").is_err());
        assert!(check_text(&Val::Result(Ok(None)), "result.ok").is_ok());
        assert!(check_text(&Val::Result(Ok(None)), "result.err").is_err());
        let e = check_text(&Val::Result(Err(some(Val::S32(-1)))), "result.err (s32.const 1)").unwrap_err();
        assert!(e.to_string().ends_with("(at result.err: expected s32.const 1, got s32.const -1)"), "{e}");
        assert!(check_text(&Val::String("h\u{e9}\"".into()), "str.const \"h\u{e9}\\\"\"").is_ok());
    }

    #[test]
    fn unusable_expectations() {
        let e = check_text(&Val::U32(1), "i32.const 1").unwrap_err();
        assert!(e.to_string().contains("cannot match a component value"), "{e}");
        // Map expectations compare entry lists.
        let entries = Val::List(vec![Val::Tuple(vec![Val::String("a".into()), Val::U32(1)])]);
        assert!(check_text(&entries, "map.const (entry (str.const \"a\") (u32.const 1))").is_ok());
        assert!(check_text(&entries, "map.const (entry (str.const \"a\") (u32.const 2))").is_err());
    }

    #[test]
    fn display_is_script_syntax() {
        let v = Val::Record(vec![
            ("s".into(), Val::String("a\"b".into())),
            ("o".into(), Val::Option(some(Val::Variant("c".into(), some(Val::Char('\n')))))),
            ("f".into(), Val::Flags(vec!["x".into()])),
            ("r".into(), Val::Result(Ok(None))),
        ]);
        assert_eq!(
            display(&v),
            "record.const (field \"s\" str.const \"a\\\"b\") \
             (field \"o\" option.some (variant.const \"c\" (char.const \"\\n\"))) \
             (field \"f\" flags.const \"x\") (field \"r\" result.ok)"
        );
        let long = Val::List((0..40).map(Val::U32).collect());
        assert!(display(&long).ends_with("(u32.const 31) ... (40 elements)"));
    }
}
