//! Host functions that return futures, on Wasmtime's shapes: [`Accessor`], which reaches the
//! store from inside such a future, [`LinkerInstance::func_wrap_concurrent`] and
//! [`LinkerInstance::func_new_concurrent`], which define them, and
//! [`StoreContextMut::spawn`], which runs a host future in the background of a store. And
//! concurrent calls from the host: [`Store::run_concurrent`] runs a host future with an
//! [`Accessor`], in which [`Func::call_concurrent`] calls run side by side.
//!
//! Such a future runs in the store's event loop (`concurrent/host_work.rs`): the loop polls
//! it whenever no guest thread is ready, while a guest calls into the store
//! ([`Func::call`](super::Func::call), [`Func::call_async`](super::Func::call_async)). The
//! loop works under any executor: [`Func::call`] blocks its thread until a host waker fires,
//! and `call_async` hands the executor's waker to the futures and returns `Pending`.
//!
//! A component may call such a function with either ABI. Lowered `async`, the call returns
//! at once with a subtask the caller waits on; lowered synchronously, the caller blocks
//! (which the spec allows only in a function whose type is `async`).

use super::component_type::ComponentNamedList;
use super::concurrent::host_calls::{HostCallFuture, LowerResult};
use super::concurrent::host_poll::{with_current_store, with_store_reachable};
use super::concurrent::host_work::Completion;
use super::concurrent::scheduler::run_until_idle;
use super::concurrent::tasks::{host_task_resolved, take_host_result};
use super::func::{Func, TypedFunc};
use super::host::{Definition, HostCallKind, HostFunc, lift_params, lower_typed_results, lower_val_result};
use super::host::{HostTypecheck, RawParams, ResultPlace, ResultTypes};
use super::lift::Lift;
use super::linker::{LinkerInstance, StoreContextMut, typecheck_wrapped};
use super::lower::Lower;
use super::values::{Val, tuple_elements};
use crate::Store;
use crate::store::StoreInner;
use anyhow::{Context, Result};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

/// What a host function's future uses to reach the store between its awaits: the store is
/// lent to the future only while the store's event loop polls it, so it is reached through
/// [`Accessor::with`] rather than held.
pub struct Accessor<T> {
    _data: PhantomData<fn() -> T>,
}

impl<T: 'static> Accessor<T> {
    /// The accessor of stores with data `T`. (It holds nothing: which store it reaches is
    /// the one whose loop polls the future using it.)
    fn get() -> &'static Accessor<T> {
        // A zero-sized value: leaking its box allocates nothing.
        Box::leak(Box::new(Accessor { _data: PhantomData }))
    }

    /// Calls `f` with the store, from inside a future that the store's event loop is
    /// polling.
    ///
    /// # Panics
    ///
    /// If called outside such a poll (from another thread, or from a future polled by some
    /// other executor), or from inside another `with`.
    pub fn with<R>(&self, f: impl FnOnce(StoreContextMut<'_, T>) -> R) -> R {
        with_current_store(|store: &mut StoreInner<T>| f(StoreContextMut(store)))
            .expect("`Accessor::with` was called outside a poll of the store's event loop")
    }

    /// Runs `task` in the background of the store, polled by its event loop like the
    /// futures of host functions. An error it returns fails the call into the store during
    /// which it finished.
    ///
    /// # Panics
    ///
    /// As [`with`](Self::with).
    pub fn spawn(&self, task: impl Future<Output = Result<()>> + Send + 'static) {
        self.with(|mut store| store.spawn(task));
    }
}

impl<T> StoreContextMut<'_, T> {
    /// Runs `task` in the background of this store: its event loop polls it whenever no
    /// guest thread is ready, during calls into the store. An error it returns fails the
    /// call during which it finished.
    pub fn spawn(&mut self, task: impl Future<Output = Result<()>> + Send + 'static) {
        let task = Box::pin(async move {
            task.await?;
            Ok(Box::new(|_: &mut StoreInner<T>| Ok(())) as Completion<StoreInner<T>>)
        });
        self.0.host_work.tasks.insert(Some(task));
    }
}

/// The future a concurrent host function returns, borrowing its accessor (and, for
/// [`LinkerInstance::func_new_concurrent`], its parameters and results).
pub type HostFuture<'a, R> = Pin<Box<dyn Future<Output = Result<R>> + Send + 'a>>;

impl<T: 'static> LinkerInstance<'_, T> {
    /// Defines `name` as a host function with Rust parameter and result types (as
    /// [`func_wrap`](Self::func_wrap)) whose result comes from a future. The future reaches
    /// the store through its [`Accessor`]; other calls and tasks run while it is pending.
    pub fn func_wrap_concurrent<Params, Return, F>(&mut self, name: &str, f: F) -> Result<()>
    where
        F: for<'a> Fn(&'a Accessor<T>, Params) -> HostFuture<'a, Return> + Send + Sync + 'static,
        Params: ComponentNamedList + Lift + Send + 'static,
        Return: ComponentNamedList + Lower + Send + 'static,
    {
        if Return::LEN > 1 {
            anyhow::bail!("a component function has at most one result; use a tuple type inside `(T,)`");
        }
        let call = move |store: &mut StoreInner<T>, raw: RawParams<'_>, result: ResultTypes<'_>| {
            let params = lift_params(store, &raw, |cx, ty, src| Params::lift(cx, ty, src))?;
            let fut = f(Accessor::get(), params);
            let (instance, options, result_ty) = (raw.instance, raw.options.clone(), result.tuple.cloned());
            let fut: HostCallFuture<T> = Box::pin(async move {
                let results = fut.await?;
                let lower: LowerResult<T> = Box::new(move |store, retptr| {
                    let place = ResultPlace { ty: result_ty.as_ref(), retptr };
                    lower_typed_results(store, instance, &options, &place, &results)
                });
                Ok(lower)
            });
            Ok(fut)
        };
        let typecheck = Some(typecheck_wrapped::<Params, Return> as HostTypecheck);
        let call = HostCallKind::Concurrent(Arc::new(call));
        self.insert(name, Definition::Func(Arc::new(HostFunc { typecheck, call })))
    }

    /// Defines `name` as a host function over dynamic values (as
    /// [`func_new`](Self::func_new)) whose result comes from a future: it gets the parameters
    /// lifted by the type the component imports it with, and room for its result, which is
    /// checked against that type when the future is done.
    pub fn func_new_concurrent<F>(&mut self, name: &str, f: F) -> Result<()>
    where
        F: for<'a> Fn(&'a Accessor<T>, &'a [Val], &'a mut [Val]) -> HostFuture<'a, ()> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let call = move |store: &mut StoreInner<T>, raw: RawParams<'_>, result: ResultTypes<'_>| {
            let params = tuple_elements(lift_params(store, &raw, |cx, ty, src| cx.lift_val(ty, src))?);
            let (instance, options) = (raw.instance, raw.options.clone());
            let f = f.clone();
            let rt = result.results.cloned();
            let fut: HostCallFuture<T> = Box::pin(async move {
                let mut results = vec![Val::Bool(false); usize::from(rt.is_some())];
                f(Accessor::get(), &params, &mut results).await?;
                if let (Some(rt), Some(val)) = (&rt, results.first()) {
                    val.typecheck(rt).context("the host function returned a value of the wrong type")?;
                }
                let lower: LowerResult<T> = Box::new(move |store, retptr| {
                    lower_val_result(store, instance, &options, rt.as_ref(), results.first(), retptr)
                });
                Ok(lower)
            });
            Ok(fut)
        };
        let call = HostCallKind::Concurrent(Arc::new(call));
        self.insert(name, Definition::Func(Arc::new(HostFunc { typecheck: None, call })))
    }
}

impl<T: 'static> Store<T> {
    /// Runs `fun` with an [`Accessor`] to this store, together with the store's event loop:
    /// calls made in it with [`Func::call_concurrent`] run side by side, as tasks of the
    /// loop, and host futures make progress meanwhile. Returns what `fun` returns.
    ///
    /// Fails with the spec's deadlock trap when a task called this way waits for something
    /// that nothing can do.
    pub async fn run_concurrent<R>(&mut self, fun: impl AsyncFnOnce(&Accessor<T>) -> R) -> Result<R> {
        StoreContextMut(crate::store::AsContextMut::as_context_mut(self)).run_concurrent(fun).await
    }
}

impl<T: 'static> StoreContextMut<'_, T> {
    /// [`Store::run_concurrent`] on a context.
    pub async fn run_concurrent<R>(&mut self, fun: impl AsyncFnOnce(&Accessor<T>) -> R) -> Result<R> {
        let store: &mut StoreInner<T> = self.0;
        let mut fut = std::pin::pin!(fun(Accessor::get()));
        std::future::poll_fn(|cx| {
            loop {
                if let Poll::Ready(r) = with_store_reachable(store, || fut.as_mut().poll(cx)) {
                    return Poll::Ready(Ok(r));
                }
                match run_until_idle(store, cx) {
                    Ok(true) => continue,
                    Ok(false) => return Poll::Pending,
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
        })
        .await
    }
}

impl Func {
    /// Calls the function from inside [`Store::run_concurrent`], as a task of the store's
    /// event loop: other calls made this way run while it waits. `results` receive its
    /// result, as with [`Func::call`].
    pub async fn call_concurrent<T: 'static>(
        self,
        accessor: &Accessor<T>,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let started = accessor.with(|store| self.start_concurrent(store.0, params, results));
        let Some(task) = started? else { return Ok(()) };
        std::future::poll_fn(|_| {
            // `run_concurrent` polls this again whenever its loop made progress.
            let done = accessor.with(|store| host_task_resolved(store.0.opaque(), task));
            if done { Poll::Ready(()) } else { Poll::Pending }
        })
        .await;
        if let (Some(slot), Some(v)) = (results.first_mut(), accessor.with(|store| take_host_result(store.0, task))) {
            *slot = v;
        }
        Ok(())
    }
}

impl<Params, Results> TypedFunc<Params, Results>
where
    Params: ComponentNamedList + Lower,
    Results: ComponentNamedList + Lift,
{
    /// [`Func::call_concurrent`] with Rust types.
    pub async fn call_concurrent<T: 'static>(self, accessor: &Accessor<T>, params: Params) -> Result<Results> {
        let room = accessor.with(|store| usize::from(self.func().result_count(store.0) > 0));
        let params = tuple_elements(params.to_val());
        let mut results = vec![Val::Bool(false); room];
        self.func().call_concurrent(accessor, &params, &mut results).await?;
        Results::from_val(Val::Tuple(results))
    }
}
