//! What can be done with a [`Func`] handle: ask its type, create a host function over
//! [`Val`]s, and call it; and the path from the host into wasm (`call_raw`: the entry
//! trampoline under a trap catch point) and from wasm into a host function (its array-call
//! entry). Typed calls and `Func::wrap` are in `typed.rs`; the handle itself in `handles.rs`.

use crate::caller::Caller;
use crate::handles::Func;
use crate::store::{AsContext, AsContextMut, StoreInner, StoreOpaque};
use crate::trap::trap_error;
use crate::vm::setjmp::EntryTrampoline;
use crate::vm::traphandlers::{Unwind, enter_wasm, set_pending_error, set_pending_panic};
use crate::vm::valraw::call_slots;
use crate::vm::vmcontext::{InstanceData, InstanceId, VMFuncRef, VMStoreContext};
use crate::{Engine, FuncType, Val, ValRaw, ValType};
use anyhow::{Result, anyhow, bail};
use std::ptr::NonNull;
use std::sync::Arc;
use weld_environ::{VMCONTEXT_MAGIC, VMHOST_CONTEXT_MAGIC};

/// A host function in raw form: reads its parameters from and writes its results to the slots.
pub(crate) type HostFn<T> = dyn Fn(&mut StoreInner<T>, Option<InstanceId>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// The context of a host function: a `VMFuncRef` whose `vmctx` points back at it.
#[repr(C)]
pub(crate) struct VMHostFuncContext<T> {
    magic: u32,
    _pad: u32,
    array_call: unsafe extern "C" fn(*mut u8, *mut u8, *mut ValRaw, usize) -> u32,
    store_context: *mut VMStoreContext,
    func_ref: VMFuncRef,
    store: *mut StoreInner<T>,
    func: Arc<HostFn<T>>,
}

// SAFETY: the context is owned by its store and used only on the thread that uses the store.
unsafe impl<T> Send for VMHostFuncContext<T> {}

impl Func {
    #[inline]
    pub(crate) fn comes_from(&self, s: &StoreOpaque) -> bool {
        self.store_id() == s.id()
    }

    #[inline]
    pub(crate) fn ty_in(&self, s: &StoreOpaque) -> FuncType {
        s.engine().signature(self.type_id())
    }

    /// The function's type.
    #[inline]
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let s = store.as_context().opaque();
        s.check_owner(self.store_id());
        self.ty_in(s)
    }

    /// Creates a host function of type `ty` over dynamic values.
    #[inline]
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<Func> {
        let raw = host_fn_from_vals(ty.clone(), func);
        Func::from_host_fn(store.as_context_mut(), &ty, raw)
    }

    pub(crate) fn from_host_fn<T: 'static>(
        store: &mut StoreInner<T>,
        ty: &FuncType,
        func: Arc<HostFn<T>>,
    ) -> Result<Func> {
        let engine = store.opaque().engine().clone();
        let type_id = engine.signature_id(ty);
        let trampoline = engine.host_trampoline(type_id)?;
        let mut ctx = Box::new(VMHostFuncContext {
            magic: VMHOST_CONTEXT_MAGIC,
            _pad: 0,
            array_call: host_array_call::<T>,
            store_context: &mut *store.opaque_mut().store_context,
            func_ref: VMFuncRef::new(trampoline, std::ptr::null_mut(), type_id),
            store: store as *mut StoreInner<T>,
            func,
        });
        let ctx_ptr: *mut VMHostFuncContext<T> = &mut *ctx;
        ctx.func_ref.vmctx = ctx_ptr.cast();
        let func_ref = NonNull::from(&mut ctx.func_ref);
        let id = store.opaque().id();
        store.opaque_mut().push_host_func(ctx);
        Ok(Func::from_raw(id, func_ref))
    }

    /// Calls the function with `params`, writing its results into `results`.
    pub fn call(&self, mut store: impl AsContextMut, params: &[Val], results: &mut [Val]) -> Result<()> {
        let store = store.as_context_mut();
        store.opaque().check_owner(self.store_id());
        let (type_id, host) = (self.type_id(), self.is_host());
        let sig = store.opaque_mut().call_signature(type_id, host)?;
        let entry = sig.entry(host);
        if let Some(problem) = argument_problem(sig.params(), sig.results(), params, results.len()) {
            let ty = self.ty_in(store.opaque());
            return Err(problem.describe(&ty));
        }
        // Small signatures use slots on the stack.
        let n = params.len().max(results.len());
        let (mut inline, mut heap) = ([ValRaw::default(); 8], Vec::new());
        let slots = call_slots(n, &mut inline, &mut heap);
        for (slot, p) in slots.iter_mut().zip(params) {
            *slot = p.to_raw(store.opaque_mut())?;
        }
        // SAFETY: `slots` has room for every parameter and result of this function's type,
        // and `entry` is the entry trampoline of that type.
        unsafe { call_raw(store, *self, entry, slots)? };
        let store = store.opaque();
        let sig = store.called_signature(type_id).expect("the signature was cached before the call");
        for ((r, t), raw) in results.iter_mut().zip(sig.results()).zip(slots.iter()) {
            *r = Val::from_raw(store, *raw, *t);
        }
        Ok(())
    }

    /// The entry trampoline to call this function from the host, if it is a wasm function.
    #[inline]
    pub(crate) fn entry_trampoline(&self, engine: &Engine) -> Result<Option<*const u8>> {
        if self.is_host() { Ok(None) } else { engine.entry_trampoline(self.type_id()).map(Some) }
    }
}

/// What is wrong with the arguments of an untyped call, found while the signature is borrowed
/// and described once the function's type can be built.
enum ArgumentProblem {
    ParamCount(usize),
    ResultCount(usize),
    ParamType { index: usize, wanted: ValType, got: ValType },
}

/// Checks `params` and room for `results` results against a signature.
#[inline]
fn argument_problem(
    param_types: &[ValType],
    result_types: &[ValType],
    params: &[Val],
    results: usize,
) -> Option<ArgumentProblem> {
    if params.len() != param_types.len() {
        return Some(ArgumentProblem::ParamCount(params.len()));
    }
    if results != result_types.len() {
        return Some(ArgumentProblem::ResultCount(results));
    }
    let index = params.iter().zip(param_types).position(|(p, t)| !p.matches(*t))?;
    Some(ArgumentProblem::ParamType { index, wanted: param_types[index], got: params[index].ty() })
}

impl ArgumentProblem {
    #[cold]
    fn describe(self, ty: &FuncType) -> anyhow::Error {
        match self {
            ArgumentProblem::ParamCount(got) => {
                anyhow!("expected {} arguments for a function of type {ty}, got {got}", ty.params.len())
            }
            ArgumentProblem::ResultCount(got) => {
                anyhow!("expected room for {} results of a function of type {ty}, got {got}", ty.results.len())
            }
            ArgumentProblem::ParamType { index, wanted, got } => {
                anyhow!("argument {index} of a function of type {ty} must be {wanted}, got {got}")
            }
        }
    }
}

/// Calls `func` with its parameters in `slots`, leaving its results there.
///
/// # Safety
/// `slots` must hold the function's parameters and have room for its results.
pub(crate) unsafe fn call_raw<T>(
    store: &mut StoreInner<T>,
    func: Func,
    entry: Option<*const u8>,
    slots: &mut [ValRaw],
) -> Result<()> {
    let fr = func.func_ref();
    if func.is_host() {
        // SAFETY: a host context in this store was created by `from_host_fn` with this `T`.
        let ctx = unsafe { &*fr.vmctx.cast::<VMHostFuncContext<T>>() };
        let f = ctx.func.clone();
        return f(store, None, slots);
    }
    let entry = match entry {
        Some(e) => e,
        None => store.opaque().engine().entry_trampoline(fr.type_id)?,
    };
    let s = store.opaque_mut();
    let config = s.engine().config();
    let (backtrace, max_stack, fuel) = (config.wasm_backtrace, config.max_wasm_stack, config.compiler.consume_fuel);
    let limit: *mut usize = &mut s.store_context.stack_limit;
    // SAFETY: `limit` points into the store's boxed context, alive for this call.
    let previous = unsafe { *limit };
    if previous == usize::MAX {
        let here = &previous as *const usize as usize;
        // SAFETY: as above.
        unsafe { *limit = here.saturating_sub(max_stack) };
    }
    // SAFETY: `entry` is the entry trampoline for this function's signature, compiled with the
    // host calling convention `extern "C" fn(code, callee_vmctx, caller_vmctx, values)`.
    let entry: EntryTrampoline = unsafe { std::mem::transmute(entry) };
    // SAFETY: the function's code, context and the value slots are valid for the call; traps
    // unwind back to `enter_wasm`.
    let result = unsafe { enter_wasm(backtrace, entry, fr.wasm_call, fr.vmctx, fr.vmctx, slots.as_mut_ptr()) };
    // SAFETY: as above.
    unsafe { *limit = previous };
    match result {
        Ok(()) => Ok(()),
        Err(Unwind::Panic(panic)) => std::panic::resume_unwind(panic),
        Err(Unwind::Trap(record, pending)) => {
            if fuel {
                // The trap left the entry trampoline before it could write the counter back:
                // the register at the trap holds it (see cranelift's translate/interrupt.rs).
                store.opaque_mut().store_context.fuel_consumed = record.pinned_register as i64;
            }
            Err(trap_error(record, pending, backtrace))
        }
    }
}

/// [`call_raw`] for a core function that a component calls on the host's behalf (a lifted
/// export, its post-return, a `realloc`, a destructor): an exception that escapes it becomes
/// the canonical ABI's trap (`call_and_trap_on_throw`), as it does in fused adapters.
///
/// # Safety
/// As for [`call_raw`].
pub(crate) unsafe fn call_raw_trapping_on_throw<T>(
    store: &mut StoreInner<T>,
    func: Func,
    entry: Option<*const u8>,
    slots: &mut [ValRaw],
) -> Result<()> {
    // SAFETY: the caller vouches for `slots` and `entry` as `call_raw` requires.
    unsafe { call_raw(store, func, entry, slots) }.map_err(crate::exceptions::trap_at_boundary)
}

/// The array-call entry of host functions, called by the wasm-to-host trampoline.
unsafe extern "C" fn host_array_call<T>(vmctx: *mut u8, caller_vmctx: *mut u8, values: *mut ValRaw, len: usize) -> u32 {
    // SAFETY: the trampoline passes the host context it was reached through, and the value
    // slots it allocated; the store outlives every call into its functions.
    let (ctx, store, slots) = unsafe {
        let ctx = &*vmctx.cast::<VMHostFuncContext<T>>();
        (ctx, &mut *ctx.store, std::slice::from_raw_parts_mut(values, len))
    };
    // SAFETY: a caller context is either an instance VMContext or a host context, each
    // starting with its magic.
    let caller = unsafe {
        (!caller_vmctx.is_null() && *caller_vmctx.cast::<u32>() == VMCONTEXT_MAGIC)
            .then(|| InstanceData::from_vmctx(caller_vmctx).id)
    };
    let f = ctx.func.clone();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(store, caller, slots))) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            // An exception the host returns is thrown into its wasm caller.
            if caller.is_some()
                && let Some(exnref) = crate::exceptions::rethrow_from_host(store.opaque_mut(), &e)
            {
                slots[0] = ValRaw::u64(exnref);
                return weld_environ::HOST_CALL_THREW;
            }
            set_pending_error(e);
            1
        }
        Err(panic) => {
            set_pending_panic(panic);
            1
        }
    }
}

/// Wraps a closure over `Val`s as a raw host function of type `ty`.
pub(crate) fn host_fn_from_vals<T: 'static>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> Arc<HostFn<T>> {
    Arc::new(move |store: &mut StoreInner<T>, caller: Option<InstanceId>, slots: &mut [ValRaw]| {
        let params: Vec<Val> =
            ty.params().enumerate().map(|(i, t)| Val::from_raw(store.opaque(), slots[i], t)).collect();
        let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
        func(Caller { store: &mut *store, caller }, &params, &mut results)?;
        for (i, (r, t)) in results.iter().zip(ty.results()).enumerate() {
            if !r.matches(t) {
                bail!("host function returned a {} as result {i}, but its type {ty} says {t}", r.ty());
            }
            slots[i] = r.to_raw(store.opaque_mut())?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::VMHostFuncContext;
    use std::mem::offset_of;
    use weld_environ::host_context;

    /// The trampolines read a host context at the offsets `host_context` names.
    #[test]
    fn host_context_layout_matches_the_offsets_compiled_code_uses() {
        assert_eq!(offset_of!(VMHostFuncContext<()>, magic) as u32, host_context::MAGIC);
        assert_eq!(offset_of!(VMHostFuncContext<()>, array_call) as u32, host_context::ARRAY_CALL);
        assert_eq!(offset_of!(VMHostFuncContext<()>, store_context) as u32, host_context::STORE_CONTEXT);
    }

    /// With fuel, wasm keeps its counter in `r15`, which the host's ABI makes callee-saved:
    /// the entry trampoline itself must give the caller's value back (through the public API,
    /// Rust frames between the caller and the trampoline may save `r15` and hide a mistake).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_entry_trampoline_gives_the_callers_r15_back() {
        use crate::{Config, Engine, Instance, Module, Store, ValRaw};
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config).unwrap();
        let wat = r#"(module (func (export "f") (param i32) (result i32)
            (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (i32.add (local.get 0) (i32.const 7))))"#;
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        store.set_fuel(1_000).unwrap();
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let func = instance.get_func(&mut store, "f").unwrap();
        let fr = func.func_ref();
        let entry = engine.entry_trampoline(func.type_id()).unwrap();
        let mut values = [ValRaw::u64(5)];
        const CHOSEN: u64 = 0x5eed_f00d_1234_5678;
        let r15: u64;
        // SAFETY: `entry` is the entry trampoline of `f`'s signature, `extern "C" fn(code,
        // callee_vmctx, caller_vmctx, values)`, called with `f`'s code and context and a slot
        // for its parameter and result; `f` cannot trap with this argument and fuel.
        unsafe {
            std::arch::asm!(
                "call {entry}",
                entry = in(reg) entry,
                in("rdi") fr.wasm_call,
                in("rsi") fr.vmctx,
                in("rdx") fr.vmctx,
                in("rcx") values.as_mut_ptr(),
                inout("r15") CHOSEN => r15,
                clobber_abi("C"),
            );
        }
        assert_eq!(values[0].get_u64() as u32, 7);
        assert_eq!(r15, CHOSEN, "the entry trampoline clobbered the caller's r15");
        // The call's fuel reached the store: entry 1, 5 per iteration, 3 after the loop.
        assert_eq!(store.get_fuel().unwrap(), 1_000 - (1 + 5 * 5 + 3));
    }
}
