//! Host functions called concurrently (`func_wrap_concurrent`, `func_new_concurrent`): the
//! spec's `canon_lower` of a host function whose result comes from a Rust future.
//!
//! The future is polled once at the call. If it is ready, the call returns as a synchronous
//! host call does (an `async` lower reports `RETURNED`). Otherwise the call becomes a subtask
//! whose future the store's loop polls with its other host work: an `async` lower gets the
//! subtask's handle at once and a `SUBTASK` event when the result is in its memory; a
//! synchronous lower blocks its caller (its thread waits, or, on a stack with no thread, the
//! loop for synchronous tasks runs) until then.
//!
//! Borrowed handles among the parameters are lent only while the function is called, not
//! while its future runs: a future that keeps a borrow past its first poll uses it at its
//! own risk (the handle may be dropped meanwhile).

use super::host_poll::with_store_reachable;
use super::host_work::{Completion, HostTask};
use super::scheduler::{block, check_may_block};
use super::state::{Callee, InstanceKey, Subtask, SubtaskState, Wait, subtask_mut};
use super::tasks::progress;
use super::waitables::deliver_resolve;
use crate::ValRaw;
use crate::component::handle_table::Slot;
use crate::store::StoreInner;
use anyhow::Result;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// How a host function's result reaches its caller, once its future has it: given the
/// caller's result pointer (if the result goes through memory), lowers it there or returns
/// its one flat value.
pub(crate) type LowerResult<T> = Box<dyn FnOnce(&mut StoreInner<T>, Option<u64>) -> Result<Option<u64>>>;

/// The future of a host function called concurrently.
pub(crate) type HostCallFuture<T> = Pin<Box<dyn Future<Output = Result<LowerResult<T>>>>>;

/// The spec's `RETURNED` subtask state, which an `async` lower returns for a call that is done.
const RETURNED: u32 = SubtaskState::Returned as u32;

/// Calls a host function whose future is `fut`, for code of `instance` that lowered it with
/// `async_lower`, whose result pointer (if the result goes through memory) is `retptr`;
/// `slots` receive the core results. `async_type`: whether the function's type is `async`
/// (only then may the spec's rule for synchronous code forbid waiting for it; a host
/// function of another type that takes its time is, to the guest, just a slow call).
pub(crate) fn call<T: 'static>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    async_lower: bool,
    async_type: bool,
    retptr: Option<u64>,
    mut fut: HostCallFuture<T>,
    slots: &mut [ValRaw],
) -> Result<()> {
    let waker = store.host_work.thread_waker();
    let polled = with_store_reachable(store, || fut.as_mut().poll(&mut Context::from_waker(&waker)));
    if let Poll::Ready(lower) = polled {
        let flat = lower?(store, retptr)?;
        if async_lower {
            slots[0] = ValRaw::u32(RETURNED);
        } else if let Some(bits) = flat {
            slots[0] = ValRaw::u64(bits);
        }
        return Ok(());
    }
    if !async_lower && async_type {
        check_may_block(store.opaque(), instance)?;
    }
    let c = &mut store.opaque_mut().concurrent;
    let subtask = Subtask::waitable(SubtaskState::Started, Callee::Host(None), instance.0, Vec::new(), retptr);
    let w = c.waitables.insert(subtask);
    let task: HostTask<StoreInner<T>> = Box::pin(async move {
        let lower = fut.await?;
        Ok(Box::new(move |store: &mut StoreInner<T>| finish(store, w, lower)) as Completion<StoreInner<T>>)
    });
    let id = store.host_work.tasks.insert(Some(task));
    subtask_mut(&mut store.opaque_mut().concurrent, w).call = Callee::Host(Some(id));
    if async_lower {
        let handle =
            store.opaque_mut().component_instance_mut(instance.0).handles[instance.1].add(Slot::Waitable(w as u32))?;
        store.opaque_mut().concurrent.waitables[w].handle = handle;
        slots[0] = ValRaw::u32(SubtaskState::Started as u32 | (handle << 4));
        return Ok(());
    }
    block(store, instance, Wait::Resolved(w), false)?;
    let results = std::mem::take(&mut subtask_mut(&mut store.opaque_mut().concurrent, w).flat_results);
    deliver_resolve(store, w);
    store.opaque_mut().concurrent.waitables.remove(w);
    if let Some(bits) = results.first() {
        slots[0] = ValRaw::u64(*bits);
    }
    Ok(())
}

/// The host function of subtask `w` has its result: lowers it into the caller and resolves
/// the subtask.
fn finish<T>(store: &mut StoreInner<T>, w: usize, lower: LowerResult<T>) -> Result<()> {
    let retptr = subtask_mut(&mut store.opaque_mut().concurrent, w).flat_results_ptr;
    let flat = lower(store, retptr)?;
    let c = &mut store.opaque_mut().concurrent;
    let s = subtask_mut(c, w);
    s.state = SubtaskState::Returned;
    s.call = Callee::Host(None);
    s.flat_results = flat.into_iter().collect();
    progress(c, w);
    Ok(())
}

/// Cancels the host call of subtask `w` (`subtask.cancel`): its future is dropped, and the
/// subtask resolves as cancelled before it returned.
pub(crate) fn cancel<T>(store: &mut StoreInner<T>, w: usize) {
    let c = &mut store.opaque_mut().concurrent;
    let s = subtask_mut(c, w);
    if let Callee::Host(Some(id)) = s.call {
        s.call = Callee::Host(None);
        s.state = SubtaskState::CancelledBeforeReturned;
        progress(c, w);
        store.host_work.tasks.try_remove(id);
    }
}
