//! [`Val`]: a core wasm value as the host sees it in dynamic calls, globals and tables, and
//! its conversion to and from the raw slots ([`ValRaw`](crate::ValRaw)) that compiled code
//! reads and writes.

use crate::externref::ExternRef;
use crate::store::StoreOpaque;
use crate::vm::valraw::ValRaw;
use crate::vm::vmcontext::VMFuncRef;
use crate::{Func, ValType};
use anyhow::{Result, bail};
use weld_environ::HeapType;

/// A `v128` value: 128 bits whose lanes are numbered from the least significant end (lane 0
/// of an `i32x4` is `as_u128() as u32`), as in wasm's little-endian memory layout.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct V128(u128);

impl V128 {
    /// The 128 bits as an integer.
    #[inline]
    pub fn as_u128(&self) -> u128 {
        self.0
    }

    /// The 16 bytes in memory order (lane 0 of an `i8x16` first).
    #[inline]
    pub fn to_le_bytes(&self) -> [u8; 16] {
        self.0.to_le_bytes()
    }
}

impl From<u128> for V128 {
    #[inline]
    fn from(bits: u128) -> V128 {
        V128(bits)
    }
}

impl From<V128> for u128 {
    #[inline]
    fn from(v: V128) -> u128 {
        v.0
    }
}

impl std::fmt::Debug for V128 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "V128({:#034x})", self.0)
    }
}

/// A WebAssembly value.
#[derive(Clone, Debug)]
pub enum Val {
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// A 32-bit float, as its bits (so NaN payloads are preserved).
    F32(u32),
    /// A 64-bit float, as its bits.
    F64(u64),
    /// A 128-bit vector.
    V128(V128),
    /// A function reference, or null.
    FuncRef(Option<Func>),
    /// An external reference, or null.
    ExternRef(Option<ExternRef>),
    /// A reference to a caught exception, or null.
    ExnRef(Option<crate::handles::ExnRef>),
}

impl Val {
    /// The value's type (references are nullable).
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
            Val::ExnRef(_) => ValType::EXNREF,
        }
    }

    /// The null reference of reference type `ty`, or zero of a numeric type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(V128::from(0)),
            ValType::Ref(r) if r.heap.is_func() => Val::FuncRef(None),
            ValType::Ref(r) if r.heap == HeapType::Exn => Val::ExnRef(None),
            ValType::Ref(_) => Val::ExternRef(None),
        }
    }

    /// Whether this value may be stored where `ty` is expected.
    #[inline]
    pub fn matches(&self, ty: ValType) -> bool {
        match (self, ty) {
            (Val::FuncRef(f), ValType::Ref(r)) => r.heap.is_func() && (r.nullable || f.is_some()),
            (Val::ExternRef(e), ValType::Ref(r)) => r.heap == HeapType::Extern && (r.nullable || e.is_some()),
            (Val::ExnRef(e), ValType::Ref(r)) => r.heap == HeapType::Exn && (r.nullable || e.is_some()),
            _ => self.ty() == ty,
        }
    }

    /// The i32, if it is one.
    #[inline]
    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self { Some(*v) } else { None }
    }
    /// The i64, if it is one.
    #[inline]
    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self { Some(*v) } else { None }
    }
    /// The f32, if it is one.
    #[inline]
    pub fn f32(&self) -> Option<f32> {
        if let Val::F32(v) = self { Some(f32::from_bits(*v)) } else { None }
    }
    /// The f64, if it is one.
    #[inline]
    pub fn f64(&self) -> Option<f64> {
        if let Val::F64(v) = self { Some(f64::from_bits(*v)) } else { None }
    }

    /// The v128, if it is one.
    #[inline]
    pub fn v128(&self) -> Option<V128> {
        if let Val::V128(v) = self { Some(*v) } else { None }
    }

    /// The i32; panics if it is not one.
    #[inline]
    pub fn unwrap_i32(&self) -> i32 {
        self.i32().unwrap_or_else(|| panic!("expected an i32, found {:?}", self.ty()))
    }
    /// The i64; panics if it is not one.
    #[inline]
    pub fn unwrap_i64(&self) -> i64 {
        self.i64().unwrap_or_else(|| panic!("expected an i64, found {:?}", self.ty()))
    }
    /// The f32; panics if it is not one.
    #[inline]
    pub fn unwrap_f32(&self) -> f32 {
        self.f32().unwrap_or_else(|| panic!("expected an f32, found {:?}", self.ty()))
    }
    /// The f64; panics if it is not one.
    #[inline]
    pub fn unwrap_f64(&self) -> f64 {
        self.f64().unwrap_or_else(|| panic!("expected an f64, found {:?}", self.ty()))
    }

    /// The v128; panics if it is not one.
    #[inline]
    pub fn unwrap_v128(&self) -> V128 {
        self.v128().unwrap_or_else(|| panic!("expected a v128, found {:?}", self.ty()))
    }

    /// Converts to the raw form, registering references with `store`.
    pub(crate) fn to_raw(&self, store: &mut StoreOpaque) -> Result<ValRaw> {
        Ok(match self {
            Val::I32(v) => ValRaw::u64(*v as u32 as u64),
            Val::I64(v) => ValRaw::u64(*v as u64),
            Val::F32(v) => ValRaw::u64(u64::from(*v)),
            Val::F64(v) => ValRaw::u64(*v),
            Val::V128(v) => ValRaw::v128(v.as_u128()),
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) => ValRaw::u64(0),
            Val::ExnRef(Some(e)) => {
                if e.store != store.id() {
                    bail!("an exception reference from another store cannot be used here");
                }
                ValRaw::u64(e.raw)
            }
            Val::FuncRef(Some(f)) => {
                if !f.comes_from(store) {
                    bail!("a function reference from another store cannot be used here");
                }
                ValRaw::u64(f.func_ref_ptr() as u64)
            }
            Val::ExternRef(Some(e)) => ValRaw::u64(store.register_externref(e.clone())),
        })
    }

    /// Reads a raw value of type `ty`.
    pub(crate) fn from_raw(store: &StoreOpaque, raw: ValRaw, ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw.get_u64() as u32 as i32),
            ValType::I64 => Val::I64(raw.get_u64() as i64),
            ValType::F32 => Val::F32(raw.get_u64() as u32),
            ValType::F64 => Val::F64(raw.get_u64()),
            ValType::V128 => Val::V128(V128::from(raw.get_v128())),
            ValType::Ref(r) if r.heap.is_func() => {
                let p = raw.get_u64() as usize as *mut VMFuncRef;
                Val::FuncRef(std::ptr::NonNull::new(p).map(|p| Func::from_raw(store.id(), p)))
            }
            ValType::Ref(r) if r.heap == HeapType::Exn => {
                let raw = raw.get_u64();
                Val::ExnRef((raw != 0).then(|| crate::handles::ExnRef { store: store.id(), raw }))
            }
            ValType::Ref(_) => Val::ExternRef(store.externref(raw.get_u64())),
        }
    }
}

impl From<i32> for Val {
    #[inline]
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i64> for Val {
    #[inline]
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f32> for Val {
    #[inline]
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}
impl From<f64> for Val {
    #[inline]
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}
