//! Conversions between the `wast` crate's argument/result syntax and weld's [`Val`].
//!
//! Arguments (`(i32.const 1)`, `(ref.extern 3)`, `(ref.null func)`, ...) become `Val`s; results
//! are checked against the expected patterns, including `nan:canonical`, `nan:arithmetic`, per-lane
//! v128 patterns and reference patterns. `(ref.extern N)` is represented by an [`ExternRef`]
//! holding the `u32` N, `(ref.host N)` by one holding a [`HostRef`].
//!
//! GC references (`ref.any`, `ref.struct`, ...) are not supported: they produce an error saying
//! so, which the runner records as a failure. Component values belong to component functions
//! (see `component.rs`); given to or expected from a core function they are an error too.

use anyhow::{Result, bail};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};
use weld::{ExternRef, Val};

/// The payload of an externref created for `(ref.host N)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostRef(pub u32);

/// Is this heap type in the function hierarchy (as opposed to the extern one)?
fn is_func_heap(ty: &HeapType<'_>) -> Option<bool> {
    match ty {
        HeapType::Abstract { ty: AbstractHeapType::Func | AbstractHeapType::NoFunc, .. } => Some(true),
        HeapType::Abstract { ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern, .. } => Some(false),
        HeapType::Concrete(_) | HeapType::Exact(_) => Some(true),
        _ => None,
    }
}

/// Whether `ty` is in the exception hierarchy.
fn is_exn_heap(ty: &HeapType<'_>) -> bool {
    matches!(ty, HeapType::Abstract { ty: AbstractHeapType::Exn | AbstractHeapType::NoExn, .. })
}

/// Converts a script argument to a value.
pub fn arg(a: &WastArg<'_>) -> Result<Val> {
    let core = match a {
        WastArg::Core(core) => core,
        _ => bail!("a component value cannot be passed to a core function"),
    };
    Ok(match core {
        WastArgCore::I32(x) => Val::I32(*x),
        WastArgCore::I64(x) => Val::I64(*x),
        WastArgCore::F32(x) => Val::F32(x.bits),
        WastArgCore::F64(x) => Val::F64(x.bits),
        WastArgCore::V128(x) => Val::V128(u128::from_le_bytes(x.to_le_bytes()).into()),
        WastArgCore::RefNull(ty) if is_exn_heap(ty) => Val::ExnRef(None),
        WastArgCore::RefNull(ty) => match is_func_heap(ty) {
            Some(true) => Val::FuncRef(None),
            Some(false) => Val::ExternRef(None),
            None => bail!("unsupported null reference type {ty:?}"),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(*n))),
        WastArgCore::RefHost(n) => Val::ExternRef(Some(ExternRef::new(HostRef(*n)))),
    })
}

/// Checks one result against its expected pattern; the error says what differs.
pub fn check(actual: &Val, expected: &WastRet<'_>) -> Result<()> {
    let expected = match expected {
        WastRet::Core(core) => core,
        _ => bail!("a component value cannot match the result of a core function"),
    };
    check_core(actual, expected)
}

fn check_core(actual: &Val, expected: &WastRetCore<'_>) -> Result<()> {
    let ok = match (expected, actual) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(e), Val::F32(a)) => f32_matches(e, *a),
        (WastRetCore::F64(e), Val::F64(a)) => f64_matches(e, *a),
        (WastRetCore::V128(e), Val::V128(a)) => v128_matches(e, a.as_u128()),
        (WastRetCore::RefNull(ty), Val::FuncRef(r)) => {
            r.is_none() && ty.as_ref().is_none_or(|t| is_func_heap(t) != Some(false))
        }
        (WastRetCore::RefNull(ty), Val::ExternRef(r)) => {
            r.is_none() && ty.as_ref().is_none_or(|t| is_func_heap(t) != Some(true))
        }
        (WastRetCore::RefNull(ty), Val::ExnRef(r)) => r.is_none() && ty.as_ref().is_none_or(is_exn_heap),
        (WastRetCore::RefExtern(n), Val::ExternRef(Some(r))) => match n {
            None => true,
            Some(n) => r.data().downcast_ref::<u32>() == Some(n),
        },
        (WastRetCore::RefHost(n), Val::ExternRef(Some(r))) => r.data().downcast_ref::<HostRef>() == Some(&HostRef(*n)),
        // The index of the function cannot be observed through the API; any non-null funcref
        // matches.
        (WastRetCore::RefFunc(_), Val::FuncRef(Some(_))) => true,
        (WastRetCore::Either(options), _) => options.iter().any(|o| check_core(actual, o).is_ok()),
        (
            WastRetCore::RefAny
            | WastRetCore::RefEq
            | WastRetCore::RefArray
            | WastRetCore::RefStruct
            | WastRetCore::RefI31
            | WastRetCore::RefI31Shared,
            _,
        ) => bail!("GC reference patterns are not supported (got {})", display(actual)),
        _ => false,
    };
    if ok { Ok(()) } else { bail!("expected {}, got {}", display_expected(expected), display(actual)) }
}

fn f32_matches(e: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    match e {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(e: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    match e {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn v128_matches(e: &V128Pattern, a: u128) -> bool {
    let b = a.to_le_bytes();
    match e {
        V128Pattern::I8x16(l) => l.iter().enumerate().all(|(i, x)| *x as u8 == b[i]),
        V128Pattern::I16x8(l) => {
            l.iter().enumerate().all(|(i, x)| *x as u16 == u16::from_le_bytes([b[2 * i], b[2 * i + 1]]))
        }
        V128Pattern::I32x4(l) => l.iter().enumerate().all(|(i, x)| *x as u32 == lane32(&b, i)),
        V128Pattern::I64x2(l) => l.iter().enumerate().all(|(i, x)| *x as u64 == lane64(&b, i)),
        V128Pattern::F32x4(l) => l.iter().enumerate().all(|(i, x)| f32_matches(x, lane32(&b, i))),
        V128Pattern::F64x2(l) => l.iter().enumerate().all(|(i, x)| f64_matches(x, lane64(&b, i))),
    }
}

fn lane32(b: &[u8; 16], i: usize) -> u32 {
    u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap())
}

fn lane64(b: &[u8; 16], i: usize) -> u64 {
    u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap())
}

/// Formats a value the way the script would write it, e.g. `f32.const 1.5 (0x3fc00000)`.
pub fn display(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("i32.const {x}"),
        Val::I64(x) => format!("i64.const {x}"),
        Val::F32(b) => format!("f32.const {} ({b:#010x})", f32::from_bits(*b)),
        Val::F64(b) => format!("f64.const {} ({b:#018x})", f64::from_bits(*b)),
        Val::V128(x) => format!("v128.const {:#034x}", x.as_u128()),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExnRef(None) => "ref.null exn".to_string(),
        Val::ExnRef(Some(_)) => "(ref exn)".to_string(),
        Val::ExternRef(Some(r)) => {
            if let Some(n) = r.data().downcast_ref::<u32>() {
                format!("ref.extern {n}")
            } else if let Some(HostRef(n)) = r.data().downcast_ref::<HostRef>() {
                format!("ref.host {n}")
            } else {
                "ref.extern (host value)".to_string()
            }
        }
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

fn display_nan<T>(p: &NanPattern<T>, value: impl Fn(&T) -> String) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => value(v),
    }
}

fn display_expected(e: &WastRetCore<'_>) -> String {
    let f32s = |v: &wast::token::F32| format!("{} ({:#010x})", f32::from_bits(v.bits), v.bits);
    let f64s = |v: &wast::token::F64| format!("{} ({:#018x})", f64::from_bits(v.bits), v.bits);
    match e {
        WastRetCore::I32(x) => format!("i32.const {x}"),
        WastRetCore::I64(x) => format!("i64.const {x}"),
        WastRetCore::F32(p) => format!("f32.const {}", display_nan(p, f32s)),
        WastRetCore::F64(p) => format!("f64.const {}", display_nan(p, f64s)),
        WastRetCore::V128(p) => match p {
            V128Pattern::I8x16(l) => format!("v128.const i8x16 {l:?}"),
            V128Pattern::I16x8(l) => format!("v128.const i16x8 {l:?}"),
            V128Pattern::I32x4(l) => format!("v128.const i32x4 {l:?}"),
            V128Pattern::I64x2(l) => format!("v128.const i64x2 {l:?}"),
            V128Pattern::F32x4(l) => {
                let lanes: Vec<_> = l.iter().map(|p| display_nan(p, f32s)).collect();
                format!("v128.const f32x4 [{}]", lanes.join(", "))
            }
            V128Pattern::F64x2(l) => {
                let lanes: Vec<_> = l.iter().map(|p| display_nan(p, f64s)).collect();
                format!("v128.const f64x2 [{}]", lanes.join(", "))
            }
        },
        WastRetCore::RefNull(None) => "ref.null".to_string(),
        WastRetCore::RefNull(Some(t)) => format!("ref.null {t:?}"),
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefHost(n) => format!("ref.host {n}"),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::Either(options) => {
            let o: Vec<_> = options.iter().map(display_expected).collect();
            format!("either({})", o.join(" | "))
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_patterns() {
        assert!(f32_matches(&NanPattern::CanonicalNan, 0x7fc0_0000));
        assert!(f32_matches(&NanPattern::CanonicalNan, 0xffc0_0000));
        assert!(!f32_matches(&NanPattern::CanonicalNan, 0x7fc0_0001));
        assert!(f32_matches(&NanPattern::ArithmeticNan, 0x7fc0_0001));
        assert!(!f32_matches(&NanPattern::ArithmeticNan, 0x7fa0_0000));
        assert!(f64_matches(&NanPattern::CanonicalNan, 0xfff8_0000_0000_0000));
        assert!(f64_matches(&NanPattern::ArithmeticNan, 0x7ff8_0000_0000_0001));
        assert!(!f64_matches(&NanPattern::ArithmeticNan, 0x7ff4_0000_0000_0000));
    }

    #[test]
    fn v128_lanes() {
        let v = u128::from_le_bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(v128_matches(&V128Pattern::I32x4([1, 2, 3, -1]), v));
        assert!(!v128_matches(&V128Pattern::I32x4([1, 2, 3, 4]), v));
        assert!(v128_matches(&V128Pattern::I16x8([1, 0, 2, 0, 3, 0, -1, -1]), v));
    }
}
