//! weld's types, values and canonical options in the worker's JSON encoding (described in
//! `python/canonical_worker.py`): types as nested objects, values directed by their type
//! (floats as bits, variants as `[case index, payload]`, records as arrays in field order,
//! handles as their reps).
//!
//! Only this direction is needed: the oracle compares the JSON of what weld lifted with the
//! JSON the reference returns. NaNs become the canonical NaN, the one the reference lifts
//! every NaN to (which the spec allows an implementation not to do).
//!
//! The async value types (`future`, `stream`, `error-context`) are not compared: the
//! generators make none, weld has no `Val` of them, and the worker does not read them. Their
//! types are still written (as the spec names them), their values refused.

use crate::values::handle_rep;
use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};
use weld::component::{InterfaceType, Val};
use weld_environ::component::translate::StringEncoding;

/// The canonical 32-bit NaN's bits.
pub const CANONICAL_NAN32: u32 = 0x7fc0_0000;
/// The canonical 64-bit NaN's bits.
pub const CANONICAL_NAN64: u64 = 0x7ff8_0000_0000_0000;

/// The JSON of a type.
pub fn type_json(ty: &InterfaceType) -> Value {
    use InterfaceType as T;
    let opt = |t: Option<&InterfaceType>| t.map_or(Value::Null, type_json);
    match ty {
        T::Bool => json!("bool"),
        T::S8 => json!("s8"),
        T::U8 => json!("u8"),
        T::S16 => json!("s16"),
        T::U16 => json!("u16"),
        T::S32 => json!("s32"),
        T::U32 => json!("u32"),
        T::S64 => json!("s64"),
        T::U64 => json!("u64"),
        T::F32 => json!("f32"),
        T::F64 => json!("f64"),
        T::Char => json!("char"),
        T::String => json!("string"),
        T::List(l) => json!({ "list": type_json(l.element()) }),
        T::FixedList(l) => json!({ "fixed-list": [type_json(l.element()), l.len()] }),
        T::Map(m) => json!({ "map": [type_json(m.key()), type_json(m.value())] }),
        T::Record(r) => {
            json!({ "record": r.fields().iter().map(|f| json!([f.name, type_json(&f.ty)])).collect::<Vec<_>>() })
        }
        T::Tuple(t) => json!({ "tuple": t.types().iter().map(type_json).collect::<Vec<_>>() }),
        T::Variant(v) => {
            json!({ "variant": v.cases().iter().map(|c| json!([c.name, opt(c.ty.as_ref())])).collect::<Vec<_>>() })
        }
        T::Enum(e) => json!({ "enum": e.names() }),
        T::Option(o) => json!({ "option": type_json(o.some()) }),
        T::Result(r) => json!({ "result": [opt(r.ok()), opt(r.err())] }),
        T::Flags(f) => json!({ "flags": f.names() }),
        T::Own(id) => json!({ "own": id.0 }),
        T::Borrow(id) => json!({ "borrow": id.0 }),
        T::Future(f) => json!({ "future": opt(f.payload()) }),
        T::Stream(s) => json!({ "stream": opt(s.payload()) }),
        T::ErrorContext => json!("error-context"),
    }
}

/// The encoding's name in canonical options.
pub fn encoding_name(encoding: StringEncoding) -> &'static str {
    match encoding {
        StringEncoding::Utf8 => "utf8",
        StringEncoding::Utf16 => "utf16",
        StringEncoding::CompactUtf16 => "latin1+utf16",
    }
}

/// The JSON of `val`, of type `ty` (which it has been checked against, or was lifted as).
pub fn val_json(val: &Val, ty: &InterfaceType) -> Result<Value> {
    use InterfaceType as T;
    let payload = |t: Option<&InterfaceType>, p: Option<&Val>| -> Result<Value> {
        match (t, p) {
            (Some(t), Some(p)) => val_json(p, t),
            (None, None) => Ok(Value::Null),
            _ => bail!("a payload that does not match its case's in {ty}"),
        }
    };
    Ok(match (ty, val) {
        (T::Bool, Val::Bool(b)) => json!(b),
        (T::S8, Val::S8(x)) => json!(x),
        (T::U8, Val::U8(x)) => json!(x),
        (T::S16, Val::S16(x)) => json!(x),
        (T::U16, Val::U16(x)) => json!(x),
        (T::S32, Val::S32(x)) => json!(x),
        (T::U32, Val::U32(x)) => json!(x),
        (T::S64, Val::S64(x)) => json!(x),
        (T::U64, Val::U64(x)) => json!(x),
        (T::F32, Val::Float32(x)) => json!(if x.is_nan() { CANONICAL_NAN32 } else { x.to_bits() }),
        (T::F64, Val::Float64(x)) => json!(if x.is_nan() { CANONICAL_NAN64 } else { x.to_bits() }),
        (T::Char, Val::Char(c)) => json!(u32::from(*c)),
        (T::String, Val::String(s)) => json!(s),
        (T::List(l), Val::List(es)) => elements(es, l.element())?,
        (T::FixedList(l), Val::List(es)) if es.len() == l.len() as usize => elements(es, l.element())?,
        (T::Map(m), Val::List(entries)) => {
            let pair = |e: &Val| match e {
                Val::Tuple(kv) if kv.len() == 2 => {
                    Ok(json!([val_json(&kv[0], m.key())?, val_json(&kv[1], m.value())?]))
                }
                _ => Err(anyhow!("a map entry that is not a pair: {e:?}")),
            };
            Value::Array(entries.iter().map(pair).collect::<Result<_>>()?)
        }
        (T::Record(r), Val::Record(fs)) if fs.len() == r.fields().len() => {
            Value::Array(r.fields().iter().zip(fs).map(|(f, (_, v))| val_json(v, &f.ty)).collect::<Result<_>>()?)
        }
        (T::Tuple(t), Val::Tuple(vs)) if vs.len() == t.types().len() => {
            Value::Array(t.types().iter().zip(vs).map(|(t, v)| val_json(v, t)).collect::<Result<_>>()?)
        }
        (T::Variant(v), Val::Variant(name, p)) => {
            let index = v.cases().iter().position(|c| c.name == *name).ok_or_else(|| anyhow!("no case {name}"))?;
            json!([index, payload(v.cases()[index].ty.as_ref(), p.as_deref())?])
        }
        (T::Enum(e), Val::Enum(name)) => {
            json!(e.names().iter().position(|n| n == name).ok_or_else(|| anyhow!("no case {name}"))?)
        }
        (T::Option(_), Val::Option(None)) => json!([0, null]),
        (T::Option(o), Val::Option(Some(p))) => json!([1, val_json(p, o.some())?]),
        (T::Result(r), Val::Result(Ok(p))) => json!([0, payload(r.ok(), p.as_deref())?]),
        (T::Result(r), Val::Result(Err(p))) => json!([1, payload(r.err(), p.as_deref())?]),
        (T::Flags(f), Val::Flags(set)) => json!(f.names().iter().map(|n| set.contains(n)).collect::<Vec<_>>()),
        (T::Own(_) | T::Borrow(_), h) => json!(handle_rep(h).ok_or_else(|| anyhow!("not a generated handle: {h:?}"))?),
        (T::Future(_) | T::Stream(_) | T::ErrorContext, _) => bail!("values of {ty} are not compared"),
        _ => bail!("{val:?} is not a value of {ty}"),
    })
}

fn elements(es: &[Val], element: &InterfaceType) -> Result<Value> {
    Ok(Value::Array(es.iter().map(|e| val_json(e, element)).collect::<Result<_>>()?))
}

/// Bytes as hex, as the worker exchanges memory.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of hex text.
pub fn hex_bytes(hex: &str) -> Result<Vec<u8>> {
    let digit = |i: usize| hex.get(i..i + 2).and_then(|d| u8::from_str_radix(d, 16).ok());
    (0..hex.len() / 2).map(|i| digit(2 * i).ok_or_else(|| anyhow!("not hex: {hex}"))).collect()
}
