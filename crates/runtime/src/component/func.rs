//! A component's exported function ([`Func`], and [`TypedFunc`] for calls with Rust types)
//! and calling it from the host with component values: the arguments are lowered into the
//! callee's core parameters (or into its memory, past `MAX_FLAT_PARAMS` values), the core
//! function runs, its results are lifted back, and then the callee's `post-return` function
//! (if it has one) runs with the core results, all inside one `call`, as in Wasmtime since
//! version 42. [`Func::post_return`] is kept as a no-op for code written before that.
//!
//! Views of guest memory ([`WasmStr`](super::WasmStr), [`WasmList`](super::WasmList)) in a typed
//! result are checked when they are lifted, before `post-return` runs, but read the memory when
//! they are used, after it ran: a `post-return` that frees or overwrites the result leaves them
//! reading whatever is there now (still bounds-checked and, for a string, checked again for its
//! encoding, so never undefined behaviour). Lift `String` and `Vec<T>` to keep the values as
//! they were returned. A trap, in the callee, in lifting, or in `post-return`, leaves the
//! instance unusable.

use super::canonical;
use super::compiled::{ExportedFuncIndex, LinkedComponent};
use super::component_type::ComponentNamedList;
use super::concurrent::tasks::{enter_sync_task, exit_sync_task};
use super::item_types::ComponentFunc;
use super::lift::{Lift, LiftContext, LiftSource, MemoryOrigin, read_flat};
use super::lower::{Lower, LowerContext, LowerDest};
use super::store_memory::guest_memory;
use super::task_context::start_task_context;
use super::types::{FuncType, InterfaceType};
use super::values::Val;
use crate::ValRaw;
use crate::func::call_raw_trapping_on_throw;
use crate::handles::ComponentInstanceId;
use crate::handles::StoreId;
use crate::store::{AsContext, AsContextMut, StoreInner};
use anyhow::{Context, Result, bail};
use std::marker::PhantomData;
use std::sync::Arc;
use weld_environ::component::adapt::{CallSide, FLAG_MAY_LEAVE};
use weld_environ::component::{MAX_FLAT_PARAMS, MemoryWidth};

/// An exported function of a component instance.
#[derive(Clone, Copy, Debug)]
pub struct Func {
    pub(crate) store: StoreId,
    /// The component instance.
    pub(crate) instance: ComponentInstanceId,
    /// The function's number among the component's exported functions.
    pub(crate) index: ExportedFuncIndex,
}

/// The parameters of a host call.
pub(crate) enum CallParams<'a> {
    /// Component values, checked against the function's type before they are lowered.
    Vals(&'a [Val]),
    /// A typed function's parameters (checked against the function's type when it was
    /// made), lowered by this function as the tuple of all parameters.
    Typed(&'a dyn Fn(&mut LowerContext<'_>, &InterfaceType, LowerDest<'_>) -> Result<()>),
}

/// The result type of a called function, alone and as the one-element tuple that typed
/// results are.
#[derive(Clone, Copy)]
pub(crate) struct ResultType<'a> {
    pub(crate) ty: &'a InterfaceType,
    pub(crate) tuple: &'a InterfaceType,
}

impl Func {
    #[inline]
    fn lifted<'a>(&self, store: &'a StoreInner<impl Sized>) -> &'a weld_environ::component::info::LiftedFunc {
        let s = store.opaque();
        s.check_owner(self.store);
        s.component_instance(self.instance).component.lifted(self.index)
    }

    /// The function's component type.
    #[inline]
    pub fn ty(&self, store: impl AsContext) -> ComponentFunc {
        ComponentFunc::new(self.lifted(store.as_context()).ty.clone())
    }

    /// The parameters' names and types.
    #[inline]
    pub fn params(&self, store: impl AsContext) -> Box<[(String, InterfaceType)]> {
        self.lifted(store.as_context()).ty.params.clone().into_boxed_slice()
    }

    /// The result types (none or one).
    #[inline]
    pub fn results(&self, store: impl AsContext) -> Box<[InterfaceType]> {
        self.lifted(store.as_context()).ty.result.clone().into_iter().collect()
    }

    /// A typed view of this function, checked against its type.
    pub fn typed<Params, Results>(&self, store: impl AsContext) -> Result<TypedFunc<Params, Results>>
    where
        Params: ComponentNamedList + Lower,
        Results: ComponentNamedList + Lift,
    {
        let ty = &self.lifted(store.as_context()).ty;
        let params: Vec<InterfaceType> = ty.param_types().cloned().collect();
        Params::typecheck_list(&params, "parameter").context("the parameter types differ")?;
        let results: Vec<InterfaceType> = ty.result.iter().cloned().collect();
        Results::typecheck_list(&results, "result").context("the result types differ")?;
        Ok(TypedFunc::new_unchecked(*self))
    }

    /// Calls the function with `params`, writing its result (if it has one) into `results`.
    ///
    /// Every parameter is checked against the function's type first; an error names the
    /// parameter and the path into its value. The callee's `post-return` function runs after
    /// the result is lifted, before this returns.
    pub fn call(&self, mut store: impl AsContextMut, params: &[Val], results: &mut [Val]) -> Result<()> {
        let store = store.as_context_mut();
        let lifted = self.lifted(store);
        let num_results = usize::from(lifted.ty.result.is_some());
        if results.len() != num_results {
            let ty = &lifted.ty;
            bail!("the function has {num_results} results ({ty}), but room for {} was given", results.len());
        }
        if lifted.options.async_ || lifted.ty.async_ {
            return self.call_as_task(store, params, results);
        }
        self.call_and_lift(store, CallParams::Vals(params), &mut |cx, result, src| {
            results[0] = cx.lift_val(result.ty, src)?;
            Ok(())
        })
    }

    /// [`Func::call`] of a function whose lift or type is `async`: its task runs on a thread
    /// of its own, and the store's event loop runs until the task returns its result.
    fn call_as_task<T>(&self, store: &mut StoreInner<T>, params: &[Val], results: &mut [Val]) -> Result<()> {
        let lifted = self.lifted(store).clone();
        self.check_call(&lifted.ty, params, results)?;
        let result = super::concurrent::tasks::call_from_host(store, self.instance, &lifted, params.to_vec())?;
        if let (Some(slot), Some(v)) = (results.first_mut(), result) {
            *slot = v;
        }
        Ok(())
    }

    /// Calls the function as [`Func::call`] does, from async code: while the callee's tasks
    /// wait only for host futures (of [`func_wrap_concurrent`] functions, host streams and
    /// futures), this returns `Pending` with the executor's waker handed to those futures,
    /// instead of blocking the thread.
    ///
    /// A function that is neither lifted `async` nor of an `async` type runs synchronously,
    /// as with [`Func::call`].
    ///
    /// [`func_wrap_concurrent`]: super::LinkerInstance::func_wrap_concurrent
    pub async fn call_async(&self, mut store: impl AsContextMut, params: &[Val], results: &mut [Val]) -> Result<()> {
        let store = store.as_context_mut();
        use super::concurrent::{scheduler, tasks};
        let Some(task) = self.start_concurrent(store, params, results)? else { return Ok(()) };
        std::future::poll_fn(|cx| match scheduler::poll_until(store, &|s| tasks::host_task_resolved(s, task), cx) {
            Ok(std::task::Poll::Ready(())) => std::task::Poll::Ready(Ok(())),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(e) => std::task::Poll::Ready(Err(e)),
        })
        .await?;
        if let (Some(slot), Some(v)) = (results.first_mut(), tasks::take_host_result(store, task)) {
            *slot = v;
        }
        Ok(())
    }

    /// Starts a call of the function for [`Func::call_async`] and [`Func::call_concurrent`]:
    /// the task of an `async` function (returned), or the whole call of another (its result
    /// already in `results`).
    pub(crate) fn start_concurrent<T>(
        &self,
        store: &mut StoreInner<T>,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<Option<super::concurrent::state::TaskId>> {
        if !self.is_concurrent(store) {
            return self.call(store, params, results).map(|()| None);
        }
        let lifted = self.lifted(store).clone();
        self.check_call(&lifted.ty, params, results)?;
        super::concurrent::tasks::start_from_host(store, self.instance, &lifted, params.to_vec()).map(Some)
    }

    /// How many results the function has (0 or 1).
    pub(crate) fn result_count<T>(&self, store: &StoreInner<T>) -> usize {
        usize::from(self.lifted(store).ty.result.is_some())
    }

    /// Whether the function's lift or type is `async`: its calls run as tasks of the store's
    /// event loop.
    fn is_concurrent<T>(&self, store: &StoreInner<T>) -> bool {
        let lifted = self.lifted(store);
        lifted.options.async_ || lifted.ty.async_
    }

    /// Checks the number of `params` and `results` and the type of each parameter against
    /// the function type `ty`.
    fn check_call(&self, ty: &FuncType, params: &[Val], results: &[Val]) -> Result<()> {
        let num_results = usize::from(ty.result.is_some());
        if results.len() != num_results {
            bail!("the function has {num_results} results ({ty}), but room for {} was given", results.len());
        }
        if params.len() != ty.params.len() {
            bail!("the function takes {} parameters ({ty}), but {} were given", ty.params.len(), params.len());
        }
        for (i, (val, (name, t))) in params.iter().zip(&ty.params).enumerate() {
            val.typecheck(t).with_context(|| format!("parameter {i} (`{name}`) has the wrong type"))?;
        }
        Ok(())
    }

    /// Calls the function with `params`, lifts its result (if it has one) with `lift`, given
    /// the result type and where the value is, then runs the callee's `post-return`.
    pub(crate) fn call_and_lift<T>(
        &self,
        store: &mut StoreInner<T>,
        params: CallParams<'_>,
        lift: &mut dyn FnMut(&mut LiftContext<'_>, ResultType<'_>, LiftSource<'_>) -> Result<()>,
    ) -> Result<()> {
        // The component is reached through a pointer rather than a clone of its `Arc` (an
        // atomic increment and decrement on every call): the store is borrowed mutably below.
        store.opaque().check_owner(self.store);
        let component: *const LinkedComponent =
            Arc::as_ptr(&store.opaque().component_instance(self.instance).component);
        // SAFETY: the store's component instance holds that `Arc` until the store is dropped,
        // which cannot happen during this call (it borrows the store), and nothing replaces
        // an instance's component once it is instantiated.
        let component = unsafe { &*component };
        let lifted = component.lifted(self.index);
        let shape = component.call_shape(self.index);
        let ty = &lifted.ty;
        if lifted.options.async_ || ty.async_ {
            bail!("bug: `{ty}` is an async function, which runs as a task rather than a direct call");
        }
        if let CallParams::Vals(params) = params {
            if params.len() != ty.params.len() {
                bail!("the function takes {} parameters ({ty}), but {} were given", ty.params.len(), params.len());
            }
            for (i, (val, (name, t))) in params.iter().zip(&ty.params).enumerate() {
                val.typecheck(t).with_context(|| format!("parameter {i} (`{name}`) has the wrong type"))?;
            }
        }
        store.opaque_mut().enter_from_host(self.instance, component.entering_set(self.index))?;
        let sync_task = shape.sync_task.then_some((self.instance, lifted.options.instance));
        if let Some(instance) = sync_task {
            enter_sync_task(store, instance);
        }
        let state = store.opaque_mut().component_instance_mut(self.instance);
        start_task_context(&state.task_context);
        let (callee, entry) = (state.callees[self.index], state.callee_entries[self.index]);
        // With the callee's flags (the spec's `may_leave` is cleared while post-return runs),
        // found once here rather than through the store twice.
        let post_return = lifted
            .options
            .post_return
            .map(|p| (state.post_returns[p], state.post_return_entries[p], state.flags[lifted.options.instance].cell));
        let mut flat = std::mem::take(&mut state.flat_scratch);
        flat.clear();

        let width = MemoryWidth::from_memory64(lifted.options.memory64);
        let sig = &shape.sig;
        let (mut mem, opts) = guest_memory(store, self.instance, &lifted.options, CallSide::Callee);
        if sig.params_in_memory {
            let ptr = canonical::allocate_value(&mut mem, &shape.params)?;
            match params {
                CallParams::Vals(params) => {
                    canonical::store_unchecked(&mut mem, &opts, &Val::Tuple(params.to_vec()), &shape.params, ptr)?
                }
                CallParams::Typed(lower) => {
                    lower(&mut LowerContext { mem: &mut mem, opts }, &shape.params, LowerDest::Memory(ptr))?
                }
            }
            flat.push(ptr);
        } else {
            match params {
                CallParams::Vals(params) => {
                    for (val, t) in params.iter().zip(ty.param_types()) {
                        canonical::lower_flat_unchecked(&mut mem, &opts, val, t, &mut flat)?;
                    }
                }
                CallParams::Typed(lower) => {
                    lower(&mut LowerContext { mem: &mut mem, opts }, &shape.params, LowerDest::Flat(&mut flat))?
                }
            }
        }
        // At most MAX_FLAT_PARAMS core parameters and MAX_FLAT_RESULTS results.
        let mut slots = [ValRaw::default(); MAX_FLAT_PARAMS];
        for (slot, v) in slots.iter_mut().zip(&flat) {
            *slot = ValRaw::u64(*v);
        }
        let len = flat.len().max(sig.results.len());
        mem.store.opaque_mut().component_instance_mut(self.instance).flat_scratch = flat;
        // SAFETY: `slots` holds the callee's core parameters, flattened by the same signature
        // that validation checked the callee against, and has room for its results; `entry`
        // is the entry trampoline of the callee's signature.
        unsafe { call_raw_trapping_on_throw(mem.store, callee, entry.map(|e| e as *const u8), &mut slots[..len])? };
        mem.store.opaque_mut().component_instance_mut(self.instance).handles[mem.table].end_call()?;
        let core_result = sig.results.first().map(|_| slots[0]);
        if let Some(rt) = &ty.result {
            let origin = MemoryOrigin::new(self.store, self.instance, &lifted.options, CallSide::Callee);
            let mut cx = LiftContext { mem: &mut mem, opts, origin };
            let result = ResultType { ty: rt, tuple: shape.result_tuple.as_ref().unwrap_or(rt) };
            let (core, flat_ty) = match (core_result, sig.results.first()) {
                (Some(v), Some(t)) => (v, *t),
                _ => bail!("bug: a function with a result has no core result"),
            };
            if sig.results_in_memory {
                let ptr = read_flat(core, width.ptr_type());
                lift(&mut cx, result, LiftSource::Memory(ptr))?;
            } else {
                let mut it = std::iter::once(read_flat(core, flat_ty));
                lift(&mut cx, result, LiftSource::Flat(&mut it))?;
            }
        }
        // The spec's post-return: the callee may not leave its instance while it runs.
        if let Some((func, entry, flags)) = post_return {
            flags.set(flags.get() & !FLAG_MAY_LEAVE);
            let mut raw = [core_result.unwrap_or_default()];
            let raw = &mut raw[..usize::from(core_result.is_some())];
            // SAFETY: validation checked that post-return takes the callee's core results and
            // returns nothing; `raw` holds exactly those results, and `entry` is the entry
            // trampoline of its signature.
            unsafe { call_raw_trapping_on_throw(store, func, entry.map(|e| e as *const u8), raw)? };
            flags.set(flags.get() | FLAG_MAY_LEAVE);
        }
        if let Some(instance) = sync_task {
            exit_sync_task(store, instance)?;
        }
        store.opaque_mut().leave_to_host(self.instance, component.entering_set(self.index));
        Ok(())
    }

    /// Does nothing: [`Func::call`] runs the callee's `post-return` itself. Kept so that code
    /// written for Wasmtime before version 42, which had to call it after every call, still
    /// compiles.
    #[deprecated(note = "`call` runs post-return itself; this does nothing")]
    #[inline]
    pub fn post_return(&self, store: impl AsContextMut) -> Result<()> {
        let _ = store;
        Ok(())
    }
}

/// A component function with Rust parameter and result types, checked once when created.
pub struct TypedFunc<Params, Results> {
    func: Func,
    _marker: PhantomData<fn(Params) -> Results>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<Params, Results> TypedFunc<Params, Results>
where
    Params: ComponentNamedList + Lower,
    Results: ComponentNamedList + Lift,
{
    /// Wraps `func` without checking its type; [`Func::typed`] checks it.
    #[inline]
    pub(crate) fn new_unchecked(func: Func) -> Self {
        TypedFunc { func, _marker: PhantomData }
    }

    /// The untyped function.
    #[inline]
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function; as with [`Func::call`], the callee's `post-return` runs after the
    /// results are lifted, before this returns (see the module docs for what that means for
    /// views of guest memory in `Results`).
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let store = store.as_context_mut();
        if self.func.is_concurrent(store) {
            let (params, mut results) = self.vals_of(params, store);
            self.func.call(&mut *store, &params, &mut results)?;
            return Results::from_val(Val::Tuple(results));
        }
        // The parameters were checked against the function's type when this was made; they
        // lower as one tuple, element by element. The results tuple lifts element by
        // element too: straight from the core values for scalars, in place for views of the
        // guest's memory.
        let lower = |cx: &mut LowerContext<'_>, ty: &InterfaceType, dst: LowerDest<'_>| params.lower(cx, ty, dst);
        let mut out = None;
        self.func.call_and_lift(store, CallParams::Typed(&lower), &mut |cx, result, src| {
            out = Some(Results::lift(cx, result.tuple, src)?);
            Ok(())
        })?;
        match out {
            Some(results) => Ok(results),
            None => Results::from_val(Val::Tuple(Vec::new())),
        }
    }

    /// Calls the function as [`TypedFunc::call`] does, from async code (see
    /// [`Func::call_async`]).
    pub async fn call_async(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let store = store.as_context_mut();
        if !self.func.is_concurrent(store) {
            return self.call(store, params);
        }
        let (params, mut results) = self.vals_of(params, store);
        self.func.call_async(&mut *store, &params, &mut results).await?;
        Results::from_val(Val::Tuple(results))
    }

    /// The parameters of a call of an `async` function as `Val`s, and room for its result:
    /// such calls go through [`Func::call`], whose tasks keep their arguments as values.
    fn vals_of<T>(&self, params: Params, store: &StoreInner<T>) -> (Vec<Val>, Vec<Val>) {
        let room = usize::from(self.func.lifted(store).ty.result.is_some());
        (super::values::tuple_elements(params.to_val()), vec![Val::Bool(false); room])
    }

    /// Does nothing, like [`Func::post_return`]: [`TypedFunc::call`] runs `post-return`
    /// itself.
    #[deprecated(note = "`call` runs post-return itself; this does nothing")]
    #[inline]
    pub fn post_return(&self, store: impl AsContextMut) -> Result<()> {
        let _ = store;
        Ok(())
    }
}
