//! Statically typed calls: [`WasmTy`] (Rust types that are wasm values), [`WasmTyList`]
//! (parameter and result lists: `()`, a single type, or tuples), [`TypedFunc`] (a checked,
//! allocation-free call), and [`IntoFunc`] (Rust closures as host functions); with them
//! `Func::wrap`, `Func::typed` and `Instance::get_typed_func`.

use crate::caller::Caller;
use crate::func::{HostFn, call_raw};
use crate::handles::Instance;
use crate::store::{AsContext, AsContextMut, StoreInner, StoreOpaque};
use crate::vm::valraw::call_slots;
use crate::vm::vmcontext::InstanceId;
use crate::{ExternRef, Func, FuncType, ValRaw, ValType};
use anyhow::{Context, Result, bail};
use std::marker::PhantomData;
use std::sync::Arc;

/// A Rust type that is a wasm value type.
pub trait WasmTy: Sized + 'static {
    /// The wasm type.
    fn valtype() -> ValType;
    /// Reads a value from a slot.
    fn from_raw(raw: ValRaw, store: &StoreOpaque) -> Self;
    /// Writes a value to a slot.
    fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw>;
}

macro_rules! int_ty {
    ($($t:ty => $vt:ident as $bits:ty;)*) => {$(
        impl WasmTy for $t {
            #[inline]
            fn valtype() -> ValType { ValType::$vt }
            #[inline]
            fn from_raw(raw: ValRaw, _: &StoreOpaque) -> Self { raw.get_u64() as $bits as $t }
            #[inline]
            fn into_raw(self, _: &mut StoreOpaque) -> Result<ValRaw> { Ok(ValRaw::u64(self as $bits as u64)) }
        }
    )*};
}

int_ty! {
    i32 => I32 as u32;
    u32 => I32 as u32;
    i64 => I64 as u64;
    u64 => I64 as u64;
}

impl WasmTy for f32 {
    #[inline]
    fn valtype() -> ValType {
        ValType::F32
    }
    #[inline]
    fn from_raw(raw: ValRaw, _: &StoreOpaque) -> Self {
        f32::from_bits(raw.get_u64() as u32)
    }
    #[inline]
    fn into_raw(self, _: &mut StoreOpaque) -> Result<ValRaw> {
        Ok(ValRaw::u64(u64::from(self.to_bits())))
    }
}

impl WasmTy for f64 {
    #[inline]
    fn valtype() -> ValType {
        ValType::F64
    }
    #[inline]
    fn from_raw(raw: ValRaw, _: &StoreOpaque) -> Self {
        f64::from_bits(raw.get_u64())
    }
    #[inline]
    fn into_raw(self, _: &mut StoreOpaque) -> Result<ValRaw> {
        Ok(ValRaw::u64(self.to_bits()))
    }
}

impl WasmTy for crate::V128 {
    #[inline]
    fn valtype() -> ValType {
        ValType::V128
    }
    #[inline]
    fn from_raw(raw: ValRaw, _: &StoreOpaque) -> Self {
        crate::V128::from(raw.get_v128())
    }
    #[inline]
    fn into_raw(self, _: &mut StoreOpaque) -> Result<ValRaw> {
        Ok(ValRaw::v128(self.as_u128()))
    }
}

impl WasmTy for Option<Func> {
    #[inline]
    fn valtype() -> ValType {
        ValType::FUNCREF
    }
    #[inline]
    fn from_raw(raw: ValRaw, store: &StoreOpaque) -> Self {
        std::ptr::NonNull::new(raw.get_u64() as usize as *mut _).map(|p| Func::from_raw(store.id(), p))
    }
    #[inline]
    fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw> {
        crate::Val::FuncRef(self).to_raw(store)
    }
}

impl WasmTy for Option<ExternRef> {
    #[inline]
    fn valtype() -> ValType {
        ValType::EXTERNREF
    }
    #[inline]
    fn from_raw(raw: ValRaw, store: &StoreOpaque) -> Self {
        store.externref(raw.get_u64())
    }
    #[inline]
    fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw> {
        crate::Val::ExternRef(self).to_raw(store)
    }
}

/// A list of wasm values as a Rust type: `()`, a single [`WasmTy`], or a tuple of them.
pub trait WasmTyList: Sized + 'static {
    /// The wasm types, in order.
    fn types() -> Vec<ValType>;
    /// How many values.
    fn len() -> usize;
    /// Writes the values to the first slots.
    fn store_raw(self, store: &mut StoreOpaque, slots: &mut [ValRaw]) -> Result<()>;
    /// Reads the values from the first slots.
    fn load_raw(store: &StoreOpaque, slots: &[ValRaw]) -> Self;
}

impl<A: WasmTy> WasmTyList for A {
    #[inline]
    fn types() -> Vec<ValType> {
        vec![A::valtype()]
    }
    #[inline]
    fn len() -> usize {
        1
    }
    #[inline]
    fn store_raw(self, store: &mut StoreOpaque, slots: &mut [ValRaw]) -> Result<()> {
        slots[0] = self.into_raw(store)?;
        Ok(())
    }
    #[inline]
    fn load_raw(store: &StoreOpaque, slots: &[ValRaw]) -> Self {
        A::from_raw(slots[0], store)
    }
}

macro_rules! tuple_list {
    ($n:expr; $($a:ident $i:tt)*) => {
        impl<$($a: WasmTy),*> WasmTyList for ($($a,)*) {
            #[inline]
            fn types() -> Vec<ValType> { vec![$($a::valtype()),*] }
            #[inline]
            fn len() -> usize { $n }
            #[allow(unused_variables)]
            #[inline]
            fn store_raw(self, store: &mut StoreOpaque, slots: &mut [ValRaw]) -> Result<()> {
                $(slots[$i] = self.$i.into_raw(store)?;)*
                Ok(())
            }
            #[allow(unused_variables, clippy::unused_unit)]
            #[inline]
            fn load_raw(store: &StoreOpaque, slots: &[ValRaw]) -> Self {
                ($($a::from_raw(slots[$i], store),)*)
            }
        }
    };
}

tuple_list!(0;);
tuple_list!(1; A 0);
tuple_list!(2; A 0 B 1);
tuple_list!(3; A 0 B 1 C 2);
tuple_list!(4; A 0 B 1 C 2 D 3);
tuple_list!(5; A 0 B 1 C 2 D 3 E 4);
tuple_list!(6; A 0 B 1 C 2 D 3 E 4 F 5);
tuple_list!(7; A 0 B 1 C 2 D 3 E 4 F 5 G 6);
tuple_list!(8; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7);
tuple_list!(9; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8);
tuple_list!(10; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9);
tuple_list!(11; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10);
tuple_list!(12; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11);
tuple_list!(13; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11 M 12);
tuple_list!(14; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11 M 12 N 13);
tuple_list!(15; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11 M 12 N 13 O 14);
tuple_list!(16; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11 M 12 N 13 O 14 P 15);
tuple_list!(17; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11 M 12 N 13 O 14 P 15 Q 16);

/// What a host closure may return: a [`WasmTyList`] or an `anyhow::Result` of one.
pub trait WasmRet: 'static {
    /// The values returned.
    type List: WasmTyList;
    /// The values, or the error the closure returned.
    fn into_result(self) -> Result<Self::List>;
}

impl<L: WasmTyList> WasmRet for L {
    type List = L;
    #[inline]
    fn into_result(self) -> Result<L> {
        Ok(self)
    }
}

impl<L: WasmTyList> WasmRet for Result<L> {
    type List = L;
    #[inline]
    fn into_result(self) -> Result<L> {
        self
    }
}

/// A Rust closure usable as a host function.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// The function's type and its raw form.
    #[doc(hidden)]
    fn into_func(self) -> (FuncType, Box<HostFn<T>>);
}

macro_rules! into_func {
    ($($a:ident)*) => {
        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
        impl<T: 'static, F, R, $($a,)*> IntoFunc<T, ($($a,)*), R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            $($a: WasmTy,)*
            R: WasmRet,
        {
            fn into_func(self) -> (FuncType, Box<HostFn<T>>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::List::types());
                let f = move |store: &mut StoreInner<T>, _caller: Option<InstanceId>, slots: &mut [ValRaw]| {
                    let mut i = 0;
                    $(let $a = $a::from_raw(slots[i], store.opaque()); i += 1;)*
                    let results = (self)($($a),*).into_result()?;
                    results.store_raw(store.opaque_mut(), slots)
                };
                (ty, Box::new(f))
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
        impl<T: 'static, F, R, $($a,)*> IntoFunc<T, (Caller<'_, T>, $($a,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
            $($a: WasmTy,)*
            R: WasmRet,
        {
            fn into_func(self) -> (FuncType, Box<HostFn<T>>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::List::types());
                let f = move |store: &mut StoreInner<T>, caller: Option<InstanceId>, slots: &mut [ValRaw]| {
                    let mut i = 0;
                    $(let $a = $a::from_raw(slots[i], store.opaque()); i += 1;)*
                    let results = (self)(Caller { store: &mut *store, caller }, $($a),*).into_result()?;
                    results.store_raw(store.opaque_mut(), slots)
                };
                (ty, Box::new(f))
            }
        }
    };
}

into_func!();
into_func!(A1);
into_func!(A1 A2);
into_func!(A1 A2 A3);
into_func!(A1 A2 A3 A4);
into_func!(A1 A2 A3 A4 A5);
into_func!(A1 A2 A3 A4 A5 A6);
into_func!(A1 A2 A3 A4 A5 A6 A7);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16 A17);

/// A function whose signature was checked once, called without allocating.
pub struct TypedFunc<P, R> {
    func: Func,
    entry: Option<*const u8>,
    marker: PhantomData<fn(P) -> R>,
}

// SAFETY: `entry` points at engine-owned code, immutable and valid as long as the engine.
unsafe impl<P, R> Send for TypedFunc<P, R> {}
// SAFETY: as above.
unsafe impl<P, R> Sync for TypedFunc<P, R> {}

impl<P, R> Clone for TypedFunc<P, R> {
    #[inline]
    fn clone(&self) -> Self {
        TypedFunc { func: self.func, entry: self.entry, marker: PhantomData }
    }
}

impl<P: WasmTyList, R: WasmTyList> TypedFunc<P, R> {
    pub(crate) fn new(store: &StoreOpaque, func: Func) -> Result<Self> {
        let ty = func.ty_in(store);
        let (params, results) = (P::types(), R::types());
        if *ty.params != *params || *ty.results != *results {
            let wanted = FuncType::new(params, results);
            bail!("type mismatch: the function has type {ty}, but the typed view asks for {wanted}");
        }
        let entry = func.entry_trampoline(store.engine())?;
        Ok(TypedFunc { func, entry, marker: PhantomData })
    }

    /// The untyped function.
    #[inline]
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R> {
        let store = store.as_context_mut();
        assert!(self.func.comes_from(store.opaque()), "object used with the wrong store");
        let n = P::len().max(R::len());
        // Small signatures use a few slots on the stack.
        let (mut inline, mut heap) = ([ValRaw::default(); 4], Vec::new());
        let slots = call_slots(n, &mut inline, &mut heap);
        params.store_raw(store.opaque_mut(), slots)?;
        // SAFETY: the signature was checked against P and R, so `slots` has room for all.
        unsafe { call_raw(store, self.func, self.entry, slots)? };
        Ok(R::load_raw(store.opaque(), slots))
    }
}

impl Instance {
    /// The exported function `name` as a typed function.
    #[inline]
    pub fn get_typed_func<P: WasmTyList, R: WasmTyList>(
        &self,
        store: impl AsContext,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        let s = store.as_context();
        let f = self.get_func(s, name).with_context(|| format!("no exported function named `{name}`"))?;
        f.typed(s).with_context(|| format!("exported function `{name}`"))
    }
}

impl Func {
    /// Creates a host function from a Rust closure whose parameter and result types give the
    /// signature.
    ///
    /// # Panics
    ///
    /// If the engine cannot compile the host trampoline of the signature, which would be a bug
    /// (infallible as in Wasmtime; `Linker::func_wrap` reports it as an error instead).
    #[inline]
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let (ty, raw) = func.into_func();
        Func::from_host_fn(store.as_context_mut(), &ty, Arc::from(raw))
            .unwrap_or_else(|e| panic!("bug: no host trampoline for signature {ty}: {e:#}"))
    }

    /// A typed view of this function, checked against its signature.
    #[inline]
    pub fn typed<P: WasmTyList, R: WasmTyList>(&self, store: impl AsContext) -> Result<TypedFunc<P, R>> {
        let s = store.as_context().opaque();
        s.check_owner(self.store_id());
        TypedFunc::new(s, *self)
    }
}
