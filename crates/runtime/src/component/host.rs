//! Host functions in a component: the types of what a linker defines ([`Definition`],
//! [`HostFunc`] with its [`HostCallKind`], [`RawParams`], [`HostDtor`]), and lowering a host
//! function into a component: the core function a component's `canon lower` of an import
//! becomes. Called from wasm with the flattened core arguments, it
//! lifts them into component values (from the caller's memory past `MAX_FLAT_PARAMS`), calls
//! the host function, checks its result against the import's type and lowers it back, into a
//! core result or through the caller's result pointer.
//!
//! The spec's `canon lower` traps when the caller may not leave its instance (during its
//! `post-return`); that is checked first. Owned handles whose borrows the host function
//! receives are lent to the call until it returns, as they are to a fused callee.

use super::canonical;
use super::compiled::{Component, ImportShape};
use super::concurrent::host_calls::{self, HostCallFuture};
use super::item_types::ComponentFunc;
use super::lift::{LiftContext, LiftSource, MemoryOrigin, read_flat};
use super::lower::{Lower, LowerContext, LowerDest};
use super::resources::ResourceType;
use super::store_memory::{begin_borrow_scope, end_borrow_scope, guest_memory};
use super::types::FuncType;
use super::types::InterfaceType;
use super::values::Val;
use super::values::tuple_elements;
use crate::handles::ComponentInstanceId;
use crate::store::StoreInner;
use crate::trap::trap_with;
use crate::{Module, Trap, ValRaw};
use anyhow::{Context, Result};
use indexmap::IndexMap;
use std::sync::Arc;
use weld_environ::component::adapt::CallSide;
use weld_environ::component::info::Options;

/// A host function over component values: the type it is imported with, its parameters, and
/// room for its results.
pub(crate) type HostCall<T> =
    dyn Fn(&mut StoreInner<T>, &ComponentFunc, &[Val], &mut [Val]) -> Result<()> + Send + Sync;

/// A host function with Rust types (`func_wrap`): it lifts its parameters from where they are
/// (in place where its types allow, so views of the caller's memory and byte lists need no
/// `Val`), and lowers its result to where `ResultPlace` says, in the result's flat value
/// (returned) or at the caller's result pointer. The outer error is a failure of the
/// canonical ABI (a trap), the inner one the host function's own.
pub(crate) type TypedHostCall<T> =
    dyn Fn(&mut StoreInner<T>, RawParams<'_>, ResultPlace<'_>) -> Result<Result<Option<u64>>> + Send + Sync;

/// Where a typed host function's result goes.
pub(crate) struct ResultPlace<'a> {
    /// The results as one tuple type; `None` when the function has no result.
    pub(crate) ty: Option<&'a InterfaceType>,
    /// The caller's result pointer, when the result is returned through memory.
    pub(crate) retptr: Option<u64>,
}

/// Where a lowered import's parameters are, for a host function that lifts them itself.
pub(crate) struct RawParams<'a> {
    /// The calling component instance (in the store).
    pub(crate) instance: ComponentInstanceId,
    /// The caller's canonical options.
    pub(crate) options: &'a Options,
    /// The parameters as one tuple type.
    pub(crate) ty: &'a InterfaceType,
    /// The flat core parameters (without a result pointer).
    pub(crate) flat: &'a [u64],
    /// Whether `flat` is one pointer to the parameters in memory.
    pub(crate) in_memory: bool,
}

/// A host function called concurrently (`func_wrap_concurrent`, `func_new_concurrent`):
/// lifts its parameters, given where they are and the type of its results (as one tuple),
/// and returns the future of its result.
pub(crate) type ConcurrentHostCall<T> =
    dyn Fn(&mut StoreInner<T>, RawParams<'_>, ResultTypes<'_>) -> Result<HostCallFuture<T>> + Send + Sync;

/// The result type of a host function, as itself and as a tuple of it (or of nothing).
#[derive(Clone, Copy)]
pub(crate) struct ResultTypes<'a> {
    pub(crate) results: Option<&'a InterfaceType>,
    pub(crate) tuple: Option<&'a InterfaceType>,
}

/// How a host function receives its parameters.
pub(crate) enum HostCallKind<T> {
    /// As `Val`s.
    Vals(Arc<HostCall<T>>),
    /// Lifted and lowered by the function itself, with its Rust types.
    Typed(Arc<TypedHostCall<T>>),
    /// As the function lifts them, returning a future that the store's loop polls.
    Concurrent(Arc<ConcurrentHostCall<T>>),
}

/// Checks a component function type against a host function's Rust types.
pub(crate) type HostTypecheck = fn(&FuncType) -> Result<()>;

/// A host function defined in a linker.
pub(crate) struct HostFunc<T> {
    /// Checks the type the component imports it with, when the host gave Rust types
    /// (`func_wrap`); `func_new` functions are checked at each call instead.
    pub(crate) typecheck: Option<HostTypecheck>,
    pub(crate) call: HostCallKind<T>,
}

/// The destructor of a host-defined resource, called with the representation when a guest
/// drops an owned handle.
pub(crate) type HostDtor<T> = dyn Fn(&mut StoreInner<T>, u32) -> Result<()> + Send + Sync;

/// Something a name in a linker is defined as.
pub(crate) enum Definition<T> {
    Func(Arc<HostFunc<T>>),
    Instance(IndexMap<String, Definition<T>>),
    Resource(ResourceType, Arc<HostDtor<T>>),
    Module(Module),
    Component(Component),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Func(f) => Definition::Func(f.clone()),
            Definition::Instance(map) => Definition::Instance(map.clone()),
            Definition::Resource(ty, dtor) => Definition::Resource(*ty, dtor.clone()),
            Definition::Module(m) => Definition::Module(m.clone()),
            Definition::Component(c) => Definition::Component(c.clone()),
        }
    }
}

impl<T> Definition<T> {
    /// What kind of item this is, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Definition::Func(_) => "function",
            Definition::Instance(_) => "instance",
            Definition::Module(_) => "core module",
            Definition::Resource(..) => "resource type",
            Definition::Component(_) => "component",
        }
    }
}

/// Creates the core function that calls `host` for component instance `instance`, for the
/// import `shape` describes.
pub(crate) fn lower_import<T: 'static>(
    store: &mut StoreInner<T>,
    instance: ComponentInstanceId,
    host: Arc<HostFunc<T>>,
    shape: Arc<ImportShape>,
) -> Result<crate::Func> {
    let shared = shape.clone();
    let call = move |store: &mut StoreInner<T>, _caller, slots: &mut [ValRaw]| -> Result<()> {
        let ImportShape { ty, options, name, sig, component_ty, params, result_tuple, .. } = &*shared;
        if !store.opaque().may_leave(instance, options.instance) {
            return Err(trap_with(
                Trap::CannotLeaveComponent,
                format!("the host function `{name}` was called while the caller may not leave its instance"),
            ));
        }
        let flat: Vec<u64> = sig.params.iter().zip(slots.iter()).map(|(t, v)| read_flat(*v, *t)).collect();
        let params_end = flat.len() - usize::from(sig.results_in_memory);
        let retptr = sig.results_in_memory.then(|| *flat.last().expect("a result pointer is the last parameter"));
        let raw =
            RawParams { instance, options, ty: params, flat: &flat[..params_end], in_memory: sig.params_in_memory };
        // Owned handles whose borrows are lifted are lent until the host function returns.
        begin_borrow_scope(store.opaque_mut().component_instance_mut(instance));
        // The outer error is a failure of the canonical ABI, the inner one the host's.
        let called = match &host.call {
            HostCallKind::Concurrent(call) => {
                let fut =
                    call(&mut *store, raw, ResultTypes { results: ty.result.as_ref(), tuple: result_tuple.as_ref() });
                end_borrow_scope(store.opaque_mut().component_instance_mut(instance));
                let fut = fut.with_context(|| format!("host function `{name}` failed"))?;
                return host_calls::call(
                    store,
                    (instance, options.instance),
                    options.async_,
                    ty.async_,
                    retptr,
                    fut,
                    slots,
                )
                .with_context(|| format!("host function `{name}` failed"));
            }
            HostCallKind::Typed(call) => {
                let place = ResultPlace { ty: result_tuple.as_ref(), retptr };
                call(&mut *store, raw, place).map(|r| r.map(Returned::Lowered))
            }
            HostCallKind::Vals(call) => {
                let mut results = vec![Val::Bool(false); usize::from(ty.result.is_some())];
                lift_params(store, &raw, |cx, ty, src| cx.lift_val(ty, src)).map(|params| {
                    call(&mut *store, component_ty, &tuple_elements(params), &mut results)
                        .map(|()| Returned::Vals(results))
                })
            }
        };
        end_borrow_scope(store.opaque_mut().component_instance_mut(instance));
        // An `async` lower returns the subtask's state, `RETURNED`: the host function is done.
        let returned = |slots: &mut [ValRaw]| {
            if options.async_ {
                slots[0] = ValRaw::u32(2);
            }
        };
        let results = match called?.with_context(|| format!("host function `{name}` failed"))? {
            Returned::Lowered(bits) => {
                if let Some(bits) = bits {
                    slots[0] = ValRaw::u64(bits);
                }
                returned(slots);
                return Ok(());
            }
            Returned::Vals(results) => results,
        };
        if let (Some(rt), Some(val)) = (&ty.result, results.first()) {
            val.typecheck(rt).with_context(|| format!("host function `{name}` returned a value of the wrong type"))?;
        }
        let flat = lower_val_result(store, instance, options, ty.result.as_ref(), results.first(), retptr)?;
        if let Some(bits) = flat {
            slots[0] = ValRaw::u64(bits);
        }
        returned(slots);
        Ok(())
    };
    crate::Func::from_host_fn(store, &shape.core_ty, Arc::new(call))
}

/// Lowers a dynamic host function's result `val`, checked against its type `rt`, into
/// the caller (component instance `instance` with `options`): at `retptr` when the result goes
/// through memory, else as the flat value returned. An `async` lower without a result
/// pointer has no result to lower.
pub(crate) fn lower_val_result<T>(
    store: &mut StoreInner<T>,
    instance: ComponentInstanceId,
    options: &Options,
    rt: Option<&InterfaceType>,
    val: Option<&Val>,
    retptr: Option<u64>,
) -> Result<Option<u64>> {
    let (Some(rt), Some(val)) = (rt, val) else { return Ok(None) };
    let (mut mem, opts) = guest_memory(store, instance, options, CallSide::Caller);
    match retptr {
        Some(retptr) => canonical::store(&mut mem, &opts, val, rt, retptr).map(|()| None),
        None if options.async_ => Ok(None),
        None => {
            let mut out = Vec::with_capacity(1);
            canonical::lower_flat(&mut mem, &opts, val, rt, &mut out)?;
            Ok(out.first().copied())
        }
    }
}

/// What a host function gave back: its result already lowered by its Rust type (the flat
/// value, if returned flat), or as `Val`s still to be checked and lowered.
enum Returned {
    Lowered(Option<u64>),
    Vals(Vec<Val>),
}

/// Lowers a typed host function's `results` (a tuple of its one result, or of none) to
/// `place` in its caller, component instance `instance` with canonical options `options`: through the result pointer (checked for alignment and bounds
/// first), or as the flat value returned.
pub(crate) fn lower_typed_results<T, R: Lower>(
    store: &mut StoreInner<T>,
    instance: ComponentInstanceId,
    options: &Options,
    place: &ResultPlace<'_>,
    results: &R,
) -> Result<Option<u64>> {
    let Some(ty) = place.ty else { return Ok(None) };
    let (mut mem, opts) = guest_memory(store, instance, options, CallSide::Caller);
    let mut cx = LowerContext { mem: &mut mem, opts };
    match place.retptr {
        Some(ptr) => {
            canonical::check_store_at(cx.mem, ty, ptr)?;
            results.lower(&mut cx, ty, LowerDest::Memory(ptr))?;
            Ok(None)
        }
        None => {
            let mut out = Vec::with_capacity(1);
            results.lower(&mut cx, ty, LowerDest::Flat(&mut out))?;
            Ok(out.first().copied())
        }
    }
}

/// Lifts a lowered import's parameters `raw` from the caller with `lift`, given their tuple
/// type and where they are (flat values, or the caller's memory past `MAX_FLAT_PARAMS`).
pub(crate) fn lift_params<T, R>(
    store: &mut StoreInner<T>,
    raw: &RawParams<'_>,
    lift: impl FnOnce(&mut LiftContext<'_>, &InterfaceType, LiftSource<'_>) -> Result<R>,
) -> Result<R> {
    let origin = MemoryOrigin::new(store.opaque().id(), raw.instance, raw.options, CallSide::Caller);
    let (mut mem, opts) = guest_memory(store, raw.instance, raw.options, CallSide::Caller);
    let mut cx = LiftContext { mem: &mut mem, opts, origin };
    if raw.in_memory {
        lift(&mut cx, raw.ty, LiftSource::Memory(raw.flat[0]))
    } else {
        lift(&mut cx, raw.ty, LiftSource::Flat(&mut raw.flat.iter().copied()))
    }
}
