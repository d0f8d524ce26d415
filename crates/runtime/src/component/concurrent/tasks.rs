//! Calls into tasks: the spec's `canon_lift` (a task's implicit thread, on its own fiber:
//! backpressure, arguments, the core call, the callback loop, `task.return`), a call from the
//! host into an async export (`Store.invoke`, then the event loop until the result), and
//! the runtime's side of a component's call through an
//! [`AsyncCall`](weld_environ::component::info::AsyncCall) (the spec's `canon_lower`: a
//! subtask whose arguments are lifted from the caller when the callee starts, and whose
//! result is lowered back when it returns).
//!
//! Values cross between the two components as `Val`s, lifted with the caller's options and
//! lowered with the callee's (and back): these calls are not the fused fast path.

use super::scheduler::{is_ready, resume, run_sync_until, run_until, wait_until};
use super::state::{
    Callee, Caller, ConcurrentState, InstanceKey, PendingEvent, Subtask, SubtaskState, Task, TaskFunc, TaskId,
    TaskState, Thread, ThreadId, ThreadStack, Wait, Waitable, WaitableKind, event, subtask_mut,
};
use crate::ValRaw;
use crate::component::canonical;
use crate::component::core_defs::core_func;
use crate::component::handle_table::Slot;
use crate::component::lift::read_flat;
use crate::component::store_memory::guest_memory;
use crate::component::values::{Val, tuple_elements};
use crate::func::call_raw_trapping_on_throw;
use crate::handles::{ComponentInstanceId, Func};
use crate::store::StoreInner;
use crate::trap::trap_with;
use crate::vm::fiber::{Fiber, FiberStack};
use anyhow::{Result, bail};
use std::sync::Arc;
use weld_environ::Trap;
use weld_environ::component::adapt::{CallSide, FLAG_MAY_LEAVE};
use weld_environ::component::info::{AsyncCallIndex, LiftedFunc};
use weld_environ::component::{
    AbiContext, CoreSignature, InterfaceType, MAX_FLAT_ASYNC_PARAMS, MAX_FLAT_PARAMS, MemoryWidth, flatten_types,
};

/// The resolved core functions of a lifted function of root instance `root`.
pub(crate) fn task_func<T>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    lift: &LiftedFunc,
) -> Result<TaskFunc> {
    let core = core_func(store, root, &lift.core)?;
    let callback = lift.options.callback.as_ref().map(|c| core_func(store, root, c)).transpose()?;
    let post_return = lift.options.post_return.map(|p| store.opaque().component_instance(root).post_returns[p]);
    Ok(TaskFunc { ty: lift.ty.clone(), options: lift.options.clone(), core, callback, post_return })
}

/// A new task in `instance`, not started.
fn new_task<T>(store: &mut StoreInner<T>, instance: InstanceKey, func: Option<TaskFunc>, caller: Caller) -> TaskId {
    store.opaque_mut().concurrent.tasks.insert(Task {
        instance,
        func,
        state: TaskState::Initial,
        caller,
        implicit_thread: None,
        threads: Vec::new(),
        num_borrows: 0,
    })
}

/// A raw pointer to the store (a `StoreInner<T>`) that a fiber's closure carries.
struct StorePtr(*mut u8);

// SAFETY: the store is `Send` when its data is, and a fiber runs only while the thread that
// resumes it holds the store mutably (it resumes from code that has `&mut StoreInner<T>`).
unsafe impl Send for StorePtr {}

/// What a thread's fiber runs: the task's `canon_lift`, with its outcome kept for whoever
/// resumed the fiber last.
fn thread_entry<T>(store: *mut u8, task: TaskId, t: ThreadId) {
    // SAFETY: `store` is the `StoreInner<T>` that `spawn_implicit_thread::<T>` was given; the
    // resumer holds it mutably and lends it to the fiber while it runs.
    let store = unsafe { &mut *store.cast::<StoreInner<T>>() };
    let outcome = match store.opaque().concurrent.threads[t].start {
        Some((f, arg)) => run_explicit(store, task, t, f, arg),
        None => run_lifted(store, task),
    };
    store.opaque_mut().concurrent.threads[t].outcome = Some(outcome);
}

/// A thread made by `thread.new-indirect`: runs its start function, then leaves its task
/// (the spec's `thread_func` of `canon_thread_new_indirect`).
fn run_explicit<T>(store: &mut StoreInner<T>, task: TaskId, t: ThreadId, f: Func, arg: u32) -> Result<()> {
    let mut slots = [ValRaw::u32(arg)];
    call_core(store, f, &mut slots)?;
    unregister_thread(store, task, t)
}

/// Creates a thread of `task` that runs core function `f` with `arg` (`thread.new-indirect`),
/// registered in its instance's threads table and suspended. Returns its index there.
pub(crate) fn spawn_explicit_thread<T>(store: &mut StoreInner<T>, task: TaskId, f: Func, arg: u32) -> Result<u32> {
    let t = spawn_thread(store, task)?;
    store.opaque_mut().concurrent.threads[t].start = Some((f, arg));
    register_thread(&mut store.opaque_mut().concurrent, task, t);
    Ok(store.opaque().concurrent.threads[t].index.expect("a registered thread has an index"))
}

/// A synchronous call enters `instance`, which uses thread built-ins (the `EnterSyncTask`
/// libcall of a fused adapter, or a call from the host): gives the call the spec's task and
/// implicit thread, the thread running on the call's own stack, registered in the
/// instance's threads table.
pub(crate) fn enter_sync_task<T>(store: &mut StoreInner<T>, instance: InstanceKey) {
    let task = new_task(store, instance, None, Caller::Sync);
    let c = &mut store.opaque_mut().concurrent;
    c.tasks[task].state = TaskState::Started;
    let t = c.threads.insert(Thread::new(task, ThreadStack::Native { blocked: false }));
    c.tasks[task].implicit_thread = Some(t);
    register_thread(c, task, t);
    c.instances.entry(instance).or_default().sync_thread = Some(t);
}

/// The synchronous call that [`enter_sync_task`] entered returns: its task resolves and its
/// implicit thread leaves (the task stays while threads it started are left).
pub(crate) fn exit_sync_task<T>(store: &mut StoreInner<T>, instance: InstanceKey) -> Result<()> {
    let c = &mut store.opaque_mut().concurrent;
    let Some(t) = c.instances.get_mut(&instance).and_then(|i| i.sync_thread.take()) else {
        bail!("bug: a synchronous call returned from an instance it had not entered");
    };
    let task = c.threads[t].task;
    c.tasks[task].state = TaskState::Resolved;
    let left = unregister_thread(store, task, t);
    store.opaque_mut().concurrent.threads.remove(t);
    left
}

/// The size of a thread's fiber stack: room for `max_wasm_stack` of wasm and for the host
/// frames under and between it.
fn stack_size(max_wasm_stack: usize) -> usize {
    (max_wasm_stack + (1 << 20)).max(2 << 20)
}

/// Creates the implicit thread of `task` (suspended, not yet run), whose fiber runs the
/// spec's `canon_lift` thread function.
fn spawn_implicit_thread<T>(store: &mut StoreInner<T>, task: TaskId) -> Result<ThreadId> {
    let t = spawn_thread(store, task)?;
    store.opaque_mut().concurrent.tasks[task].implicit_thread = Some(t);
    Ok(t)
}

/// Creates a thread of `task` on a fiber, not yet run.
fn spawn_thread<T>(store: &mut StoreInner<T>, task: TaskId) -> Result<ThreadId> {
    let size = stack_size(store.opaque().engine().config().max_wasm_stack);
    let stack = match store.opaque_mut().concurrent.stacks.pop() {
        Some(s) => s,
        None => FiberStack::new(size)?,
    };
    let t = store.opaque().concurrent.threads.vacant_key();
    // The closure must not name `T` (which need not be `'static`): it carries the store as
    // a byte pointer and the entry as a plain function pointer.
    let ptr = StorePtr(store as *mut StoreInner<T> as *mut u8);
    let entry: fn(*mut u8, TaskId, ThreadId) = thread_entry::<T>;
    let fiber = Fiber::new(stack, move || {
        let ptr = ptr;
        entry(ptr.0, task, t)
    });
    let inserted = store.opaque_mut().concurrent.threads.insert(Thread::new(task, ThreadStack::Fiber(Some(fiber))));
    debug_assert_eq!(inserted, t);
    Ok(t)
}

/// Calls the core function `f` with `slots`.
fn call_core<T>(store: &mut StoreInner<T>, f: Func, slots: &mut [ValRaw]) -> Result<()> {
    // SAFETY: component validation checked each lifted function, callback and post-return
    // against the core signature its canonical options give, which is how every caller in
    // this module sized and filled `slots`.
    unsafe { call_raw_trapping_on_throw(store, f, None, slots) }
}

/// The spec's `canon_lift` thread function, on the task's implicit thread.
fn run_lifted<T>(store: &mut StoreInner<T>, task: TaskId) -> Result<()> {
    let c = &store.opaque().concurrent;
    let t = c.current.expect("bug: a task runs outside its thread");
    let (instance, func) = (c.tasks[task].instance, c.tasks[task].func.clone());
    let Some(func) = func else { bail!("bug: a synchronous call's task on a fiber") };
    if !enter_implicit_thread(store, task, t)? {
        return Ok(());
    }
    let args = on_start(store, task)?;
    let width = MemoryWidth::from_memory64(func.options.memory64);
    let flat = lower_args(store, instance.0, task, &func, width, &args)?;
    let mut slots = [ValRaw::default(); MAX_FLAT_PARAMS];
    for (s, v) in slots.iter_mut().zip(&flat) {
        *s = ValRaw::u64(*v);
    }
    if !func.options.async_ {
        let sig = func.ty.core_signature(width, AbiContext::Lift);
        let len = flat.len().max(sig.results.len());
        call_core(store, func.core, &mut slots[..len])?;
        let core_result = sig.results.first().map(|t| read_flat(slots[0], *t));
        let result = match &func.ty.result {
            Some(rt) => {
                let bits = core_result.expect("a function with a result has a core result");
                let (mut mem, opts) = guest_memory(store, instance.0, &func.options, CallSide::Callee);
                Some(if sig.results_in_memory {
                    canonical::load(&mut mem, &opts, rt, bits)?
                } else {
                    canonical::lift_flat(&mut mem, &opts, rt, &mut std::iter::once(bits))?
                })
            }
            None => None,
        };
        task_return(store, task, result)?;
        if let Some(post_return) = func.post_return {
            store.opaque_mut().set_component_flag(instance.0, instance.1, FLAG_MAY_LEAVE, false);
            let mut raw = [slots[0]];
            call_core(store, post_return, &mut raw[..usize::from(core_result.is_some())])?;
            store.opaque_mut().set_component_flag(instance.0, instance.1, FLAG_MAY_LEAVE, true);
        }
        return exit_implicit_thread(store, task, t);
    }
    let Some(callback) = func.callback else {
        call_core(store, func.core, &mut slots[..flat.len()])?;
        return exit_implicit_thread(store, task, t);
    };
    call_core(store, func.core, &mut slots[..flat.len().max(1)])?;
    let mut packed = slots[0].get_u32();
    loop {
        let (code, set_index) = (packed & 0xf, packed >> 4);
        log::trace!("task {task}'s callback returned code {code} (waitable set {set_index})");
        let exclusive = &mut store.opaque_mut().concurrent.instances.entry(instance).or_default().exclusive;
        match code {
            0 => break,
            1 | 2 => *exclusive = None,
            _ => {
                return Err(trap_with(
                    Trap::UnsupportedCallbackCode,
                    format!("the callback of an async export returned code {code}, which is not EXIT, YIELD or WAIT"),
                ));
            }
        }
        let (code, index, payload) = if code == 1 {
            let cancelled = wait_until(store, Wait::NotExclusive(instance), true)?;
            (if cancelled { event::TASK_CANCELLED } else { event::NONE }, 0, 0)
        } else {
            let set = super::waitables::waitable_set(store, instance, set_index)?;
            super::waitables::wait_for_event(store, instance, set, Some(instance), true)?
        };
        store.opaque_mut().concurrent.instances.entry(instance).or_default().exclusive = Some(t);
        let mut raw = [ValRaw::u32(code), ValRaw::u32(index), ValRaw::u32(payload)];
        log::trace!("task {task}'s callback gets event {code} (waitable {index}, payload {payload})");
        call_core(store, callback, &mut raw)?;
        packed = raw[0].get_u32();
    }
    exit_implicit_thread(store, task, t)
}

/// The spec's `Task.enter_implicit_thread`: waits out backpressure for an `async` function,
/// takes the instance exclusively if the task needs it, and registers the thread. Returns
/// `false` if the task was cancelled while it waited (and so is over).
fn enter_implicit_thread<T>(store: &mut StoreInner<T>, task: TaskId, t: ThreadId) -> Result<bool> {
    let c = &store.opaque().concurrent;
    let (instance, exclusive, async_ty) =
        (c.tasks[task].instance, c.tasks[task].needs_exclusive(), c.tasks[task].async_type());
    if async_ty {
        let wait = Wait::NoBackpressure { instance, exclusive };
        let queued = c.instances.get(&instance).is_some_and(|i| i.waiting_to_enter > 0);
        if !is_ready(store.opaque(), wait) || queued {
            store.opaque_mut().concurrent.instances.entry(instance).or_default().waiting_to_enter += 1;
            let cancelled = wait_until(store, wait, true)?;
            store.opaque_mut().concurrent.instances.entry(instance).or_default().waiting_to_enter -= 1;
            if cancelled {
                task_cancel(store, task)?;
                return Ok(false);
            }
        }
        if exclusive {
            store.opaque_mut().concurrent.instances.entry(instance).or_default().exclusive = Some(t);
        }
    }
    register_thread(&mut store.opaque_mut().concurrent, task, t);
    Ok(true)
}

/// The spec's `Task.register_thread`: `t` joins `task` and gets an index in its instance's
/// threads table.
fn register_thread(c: &mut ConcurrentState, task: TaskId, t: ThreadId) {
    let instance = c.tasks[task].instance;
    c.tasks[task].threads.push(t);
    let slots = c.instances.entry(instance).or_default();
    let index = match slots.free_threads.pop() {
        Some(i) => {
            slots.threads[i as usize] = Some(t);
            i
        }
        None => {
            if slots.threads.is_empty() {
                slots.threads.push(None);
            }
            slots.threads.push(Some(t));
            slots.threads.len() as u32 - 1
        }
    };
    c.threads[t].index = Some(index);
}

/// The spec's `Task.exit_implicit_thread`.
fn exit_implicit_thread<T>(store: &mut StoreInner<T>, task: TaskId, t: ThreadId) -> Result<()> {
    unregister_thread(store, task, t)?;
    let c = &mut store.opaque_mut().concurrent;
    if c.tasks.get(task).is_some_and(|task| task.async_type() && task.needs_exclusive()) {
        let instance = c.tasks[task].instance;
        c.instances.entry(instance).or_default().exclusive = None;
    }
    Ok(())
}

/// The spec's `Task.unregister_thread`: a task whose last thread leaves must have returned.
fn unregister_thread<T>(store: &mut StoreInner<T>, task: TaskId, t: ThreadId) -> Result<()> {
    let c = &mut store.opaque_mut().concurrent;
    let instance = c.tasks[task].instance;
    c.tasks[task].threads.retain(|x| *x != t);
    if let Some(index) = c.threads[t].index.take() {
        let slots = c.instances.entry(instance).or_default();
        slots.threads[index as usize] = None;
        slots.free_threads.push(index);
    }
    let done = c.tasks[task].threads.is_empty();
    if done && c.tasks[task].state != TaskState::Resolved {
        return Err(trap_with(
            Trap::AsyncMisuse,
            "an async export's task finished without calling `task.return` or `task.cancel`".to_string(),
        ));
    }
    if done {
        // The exclusive hold goes with the implicit thread (`exit_implicit_thread`), which
        // may be this one: release it before the task may go.
        if c.tasks[task].async_type() && c.tasks[task].needs_exclusive() && c.tasks[task].implicit_thread == Some(t) {
            c.instances.entry(instance).or_default().exclusive = None;
        }
        release_task(c, task);
    }
    Ok(())
}

/// Drops a finished task once nothing needs it (the host has taken its result).
fn release_task(c: &mut ConcurrentState, task: TaskId) {
    let t = &c.tasks[task];
    if !t.threads.is_empty() || t.state != TaskState::Resolved {
        return;
    }
    match t.caller {
        Caller::Host { result: Some(_), .. } => {}
        Caller::Host { result: None, .. } | Caller::Sync => {
            c.tasks.remove(task);
        }
        Caller::Guest { subtask } => {
            if let Some(Waitable { kind: WaitableKind::Subtask(s), .. }) = c.waitables.get_mut(subtask) {
                s.task = None;
            }
            c.tasks.remove(task);
        }
    }
}

/// The spec's `Task.start`: the task's arguments, from its caller.
fn on_start<T>(store: &mut StoreInner<T>, task: TaskId) -> Result<Vec<Val>> {
    let c = &mut store.opaque_mut().concurrent;
    c.tasks[task].state = TaskState::Started;
    match &mut c.tasks[task].caller {
        Caller::Host { params, .. } => Ok(params.take().unwrap_or_default()),
        Caller::Sync => bail!("bug: a synchronous call's task started through the task path"),
        Caller::Guest { subtask } => {
            let w = *subtask;
            let s = subtask_mut(c, w);
            s.state = SubtaskState::Started;
            let (root, call, flat) = (s.caller, s.call, std::mem::take(&mut s.flat_args));
            let Callee::Guest(call) = call else { bail!("bug: a task called by a host subtask") };
            progress(c, w);
            let info = store.opaque().component_instance(root).component.clone();
            let call = &info.info().async_calls[call];
            let ty = &call.lift.ty;
            let width = MemoryWidth::from_memory64(call.lower.memory64);
            let max = if call.lower.async_ { MAX_FLAT_ASYNC_PARAMS } else { MAX_FLAT_PARAMS };
            let (mut mem, opts) = guest_memory(store, root, &call.lower, CallSide::Caller);
            if flatten_types(ty.param_types(), width, max).is_none() {
                let tuple = InterfaceType::tuple(ty.param_types().cloned());
                Ok(tuple_elements(canonical::load(&mut mem, &opts, &tuple, flat[0])?))
            } else {
                let mut it = flat.into_iter();
                ty.param_types().map(|t| canonical::lift_flat(&mut mem, &opts, t, &mut it)).collect()
            }
        }
    }
}

/// Lowers the arguments of task `task` into its callee: flat, or through memory past
/// `MAX_FLAT_PARAMS` values.
fn lower_args<T>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    task: TaskId,
    func: &TaskFunc,
    width: MemoryWidth,
    args: &[Val],
) -> Result<Vec<u64>> {
    let (mut mem, opts) = guest_memory(store, root, &func.options, CallSide::Callee);
    // Borrowed handles are lent to the task: it must drop them before it resolves.
    mem.borrow_task = Some(task);
    let mut flat = Vec::new();
    if flatten_types(func.ty.param_types(), width, MAX_FLAT_PARAMS).is_none() {
        let tuple = InterfaceType::tuple(func.ty.param_types().cloned());
        let ptr = canonical::allocate_value(&mut mem, &tuple)?;
        canonical::store(&mut mem, &opts, &Val::Tuple(args.to_vec()), &tuple, ptr)?;
        flat.push(ptr);
    } else {
        for (v, t) in args.iter().zip(func.ty.param_types()) {
            canonical::lower_flat(&mut mem, &opts, v, t, &mut flat)?;
        }
    }
    Ok(flat)
}

/// The spec's `Task.return_`: the task's result, for its caller.
pub(crate) fn task_return<T>(store: &mut StoreInner<T>, task: TaskId, result: Option<Val>) -> Result<()> {
    let t = &store.opaque().concurrent.tasks[task];
    if t.state == TaskState::Resolved {
        return Err(trap_with(Trap::AsyncMisuse, "the task has already returned its result".to_string()));
    }
    if t.num_borrows > 0 {
        return Err(trap_with(
            Trap::BorrowsRemain,
            "borrow handles still remain at the end of the call (the task returned holding them)".to_string(),
        ));
    }
    on_resolve(store, task, Some(result))?;
    store.opaque_mut().concurrent.tasks[task].state = TaskState::Resolved;
    Ok(())
}

/// The spec's `Task.cancel`.
pub(crate) fn task_cancel<T>(store: &mut StoreInner<T>, task: TaskId) -> Result<()> {
    let t = &store.opaque().concurrent.tasks[task];
    if t.state != TaskState::CancelDelivered {
        return Err(trap_with(
            Trap::AsyncMisuse,
            "`task.cancel` of a task whose cancellation was not delivered".into(),
        ));
    }
    if t.num_borrows > 0 {
        return Err(trap_with(Trap::BorrowsRemain, "borrow handles still remain at the end of the call".into()));
    }
    on_resolve(store, task, None)?;
    store.opaque_mut().concurrent.tasks[task].state = TaskState::Resolved;
    Ok(())
}

/// Delivers a task's resolution to its caller: the result (`Some`), or its cancellation
/// (`None`).
fn on_resolve<T>(store: &mut StoreInner<T>, task: TaskId, result: Option<Option<Val>>) -> Result<()> {
    let c = &mut store.opaque_mut().concurrent;
    let w = match &mut c.tasks[task].caller {
        Caller::Host { result: slot, .. } => {
            *slot = Some(result.unwrap_or(None));
            return Ok(());
        }
        Caller::Guest { subtask } => *subtask,
        Caller::Sync => bail!("bug: a synchronous call's task resolved through the task path"),
    };
    let s = subtask_mut(c, w);
    let Some(result) = result else {
        s.state = match s.state {
            SubtaskState::Starting => SubtaskState::CancelledBeforeStarted,
            _ => SubtaskState::CancelledBeforeReturned,
        };
        progress(c, w);
        return Ok(());
    };
    let (root, call, retptr) = (s.caller, s.call, s.flat_results_ptr);
    let Callee::Guest(call) = call else { bail!("bug: a task resolved to a host subtask") };
    let info = store.opaque().component_instance(root).component.clone();
    let call = &info.info().async_calls[call];
    let mut flat_results = Vec::new();
    if let (Some(rt), Some(val)) = (&call.lift.ty.result, &result) {
        let (mut mem, opts) = guest_memory(store, root, &call.lower, CallSide::Caller);
        // A type too big to flatten has no flat count.
        let flat = rt.abi().flat_count.map_or(usize::MAX, usize::from);
        if !call.lower.async_ && flat <= weld_environ::component::MAX_FLAT_RESULTS {
            canonical::lower_flat(&mut mem, &opts, val, rt, &mut flat_results)?;
        } else if flat > 0 {
            let Some(ptr) = retptr else { bail!("bug: a result through memory without a result pointer") };
            canonical::store(&mut mem, &opts, val, rt, ptr)?;
        }
    }
    let c = &mut store.opaque_mut().concurrent;
    let s = subtask_mut(c, w);
    s.state = SubtaskState::Returned;
    s.flat_results = flat_results;
    progress(c, w);
    Ok(())
}

/// The spec's `on_progress`: a subtask in its caller's table has an event to deliver.
pub(crate) fn progress(c: &mut ConcurrentState, w: usize) {
    let waitable = &mut c.waitables[w];
    if waitable.handle != 0 {
        waitable.pending = Some(PendingEvent::Subtask);
    }
}

/// A call from the host into an export whose lift or type is `async`: runs its task on a
/// thread of its own, then the event loop until the task has returned its result.
pub(crate) fn call_from_host<T>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    lift: &LiftedFunc,
    params: Vec<Val>,
) -> Result<Option<Val>> {
    let task = start_from_host(store, root, lift, params)?;
    run_until(store, |s| host_task_resolved(s, task))?;
    Ok(take_host_result(store, task))
}

/// Starts the task of a call from the host into an export whose lift or type is `async`
/// (the spec's `Store.invoke`): it runs until it first blocks or returns.
pub(crate) fn start_from_host<T>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    lift: &LiftedFunc,
    params: Vec<Val>,
) -> Result<TaskId> {
    let func = task_func(store, root, lift)?;
    let instance = (root, lift.options.instance);
    let entering = store.opaque().component_instance(root).component.info().entering_set(instance.1, None);
    store.opaque_mut().enter_from_host(root, &entering)?;
    let task = new_task(store, instance, Some(func), Caller::Host { params: Some(params), result: None });
    let started = spawn_implicit_thread(store, task).and_then(|t| resume(store, t, false));
    store.opaque_mut().leave_to_host(root, &entering);
    started.map(|()| task)
}

/// Whether the host's task `task` has returned its result.
pub(crate) fn host_task_resolved(s: &crate::store::StoreOpaque, task: TaskId) -> bool {
    matches!(s.concurrent.tasks.get(task), Some(Task { caller: Caller::Host { result: Some(_), .. }, .. }))
}

/// Takes the result of the host's task `task`, which has returned it.
pub(crate) fn take_host_result<T>(store: &mut StoreInner<T>, task: TaskId) -> Option<Val> {
    let c = &mut store.opaque_mut().concurrent;
    let result = match &mut c.tasks[task].caller {
        Caller::Host { result, .. } => result.take().flatten(),
        Caller::Guest { .. } | Caller::Sync => unreachable!("the host's task has the host as caller"),
    };
    release_task(c, task);
    result
}

/// The core function a component calls for async call `index` (the spec's `canon_lower` of
/// a `canon lift`).
pub(crate) fn async_call_func<T: 'static>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    index: AsyncCallIndex,
) -> Result<Func> {
    let component = store.opaque().component_instance(root).component.clone();
    let call = &component.info().async_calls[index];
    let width = MemoryWidth::from_memory64(call.lower.memory64);
    let sig = if call.lower.async_ {
        call.lift.ty.async_core_signature(width, AbiContext::Lower, false)
    } else {
        call.lift.ty.core_signature(width, AbiContext::Lower)
    };
    let core_ty = crate::FuncType::new(
        sig.params.iter().map(|t| crate::component::compiled::core_val_type(*t)),
        sig.results.iter().map(|t| crate::component::compiled::core_val_type(*t)),
    );
    let sig = Arc::new(sig);
    let f = move |store: &mut StoreInner<T>, _caller, slots: &mut [ValRaw]| -> Result<()> {
        canon_lower(store, root, index, &sig, slots)
    };
    Func::from_host_fn(store, &core_ty, Arc::new(f))
}

/// The spec's `canon_lower` of a lifted function, for async call `index`.
fn canon_lower<T>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    index: AsyncCallIndex,
    sig: &CoreSignature,
    slots: &mut [ValRaw],
) -> Result<()> {
    let component = store.opaque().component_instance(root).component.clone();
    let info = component.info();
    let call = &info.async_calls[index];
    let caller = call.lower.instance;
    if !store.opaque().may_leave(root, caller) {
        return Err(trap_with(Trap::CannotLeaveComponent, "a call out of an instance that may not leave".into()));
    }
    if !call.lower.async_ && call.lift.ty.async_ {
        // A synchronous call of an `async` function may block.
        super::scheduler::check_may_block(store.opaque(), (root, caller))?;
    }
    let flat_args: Vec<u64> = sig.params.iter().zip(slots.iter()).map(|(t, v)| read_flat(*v, *t)).collect();
    let retptr = sig.results_in_memory.then(|| *flat_args.last().expect("a result pointer is the last argument"));
    let subtask = Subtask::waitable(SubtaskState::Starting, Callee::Guest(index), root, flat_args, retptr);
    let w = store.opaque_mut().concurrent.waitables.insert(subtask);
    // The spec's `Store.lift`: enter the callee (a trap if it may not be), start its task.
    let callee = (root, call.lift.options.instance);
    let entering = info.entering_set(callee.1, Some(caller));
    store.opaque_mut().enter_from_host(root, &entering)?;
    let started = (|| {
        let func = task_func(store, root, &call.lift)?;
        let async_ty = func.ty.async_;
        let task = new_task(store, callee, Some(func), Caller::Guest { subtask: w });
        subtask_mut(&mut store.opaque_mut().concurrent, w).task = Some(task);
        let t = spawn_implicit_thread(store, task)?;
        resume(store, t, false)?;
        // A callee that could not start (its instance is held, or has backpressure) gets
        // the chance to: the instance's ready threads run first, which may release it (the
        // spec lets the scheduler choose; the test suite expects this).
        run_ready_until_started(store, callee, task)?;
        if !async_ty {
            // A callee whose type is not `async` must return before the call does.
            let resolved = |s: &crate::store::StoreOpaque| {
                s.concurrent.tasks.get(task).is_none_or(|t| t.state == TaskState::Resolved)
            };
            run_sync_until(store, callee, resolved)?;
        }
        Ok::<_, anyhow::Error>(())
    })();
    store.opaque_mut().leave_to_host(root, &entering);
    started?;
    let c = &store.opaque().concurrent;
    let resolved = subtask_state(c, w).resolved();
    if !call.lower.async_ {
        if !resolved {
            super::scheduler::block(store, (root, caller), Wait::Resolved(w), false)?;
        }
        let c = &mut store.opaque_mut().concurrent;
        let results = std::mem::take(&mut subtask_mut(c, w).flat_results);
        super::waitables::deliver_resolve(store, w);
        store.opaque_mut().concurrent.waitables.remove(w);
        for (slot, v) in slots.iter_mut().zip(results) {
            *slot = ValRaw::u64(v);
        }
        return Ok(());
    }
    if resolved {
        super::waitables::deliver_resolve(store, w);
        store.opaque_mut().concurrent.waitables.remove(w);
        slots[0] = ValRaw::u32(SubtaskState::Returned as u32);
        return Ok(());
    }
    let handle = store.opaque_mut().component_instance_mut(root).handles[caller].add(Slot::Waitable(w as u32))?;
    let c = &mut store.opaque_mut().concurrent;
    c.waitables[w].handle = handle;
    let state = subtask_state(c, w) as u32;
    slots[0] = ValRaw::u32(state | (handle << 4));
    Ok(())
}

/// The state of the subtask that waitable `w` is.
fn subtask_state(c: &ConcurrentState, w: usize) -> SubtaskState {
    match &c.waitables[w].kind {
        WaitableKind::Subtask(s) => s.state,
        WaitableKind::Copy(_) => unreachable!("bug: not a subtask"),
    }
}

/// The spec's `Task.request_cancellation`, by component instance `caller`: wakes a thread
/// of the task that waits cancellably (or the task waiting to start) with the news, or
/// leaves the cancellation pending until one does.
pub(crate) fn request_cancellation<T>(store: &mut StoreInner<T>, task: TaskId, caller: InstanceKey) -> Result<()> {
    let c = &store.opaque().concurrent;
    let t = &c.tasks[task];
    if t.state == TaskState::Initial {
        let Some(thread) = t.implicit_thread else { bail!("bug: a task waiting to start has no thread") };
        store.opaque_mut().concurrent.tasks[task].state = TaskState::CancelDelivered;
        return resume(store, thread, true);
    }
    let instance = t.instance;
    let exclusive = c.instances.get(&instance).and_then(|i| i.exclusive);
    let candidate = t.threads.iter().copied().find(|th| {
        let thread = &c.threads[*th];
        let held_by_other = exclusive.is_some_and(|x| x != *th);
        thread.wait.is_some()
            && thread.cancellable
            && !(Some(*th) == t.implicit_thread && t.needs_exclusive() && held_by_other)
    });
    let entering =
        store.opaque().component_instance(instance.0).component.info().entering_set(instance.1, Some(caller.1));
    let Some(thread) = candidate else {
        store.opaque_mut().concurrent.tasks[task].state = TaskState::PendingCancel;
        return Ok(());
    };
    if store.opaque_mut().enter_from_host(instance.0, &entering).is_err() {
        store.opaque_mut().concurrent.tasks[task].state = TaskState::PendingCancel;
        return Ok(());
    }
    store.opaque_mut().concurrent.tasks[task].state = TaskState::CancelDelivered;
    let resumed = resume(store, thread, true);
    store.opaque_mut().leave_to_host(instance.0, &entering);
    resumed
}

/// Runs ready threads of `instance` while `task` waits to start, until it has started or no
/// thread of the instance is ready.
fn run_ready_until_started<T>(store: &mut StoreInner<T>, instance: InstanceKey, task: TaskId) -> Result<()> {
    loop {
        let s = store.opaque();
        let c = &s.concurrent;
        if c.tasks.get(task).is_none_or(|t| t.state != TaskState::Initial) {
            return Ok(());
        }
        match super::scheduler::ready_thread_of(s, instance, false, false) {
            Some(t) => resume(store, t, false)?,
            None => return Ok(()),
        }
    }
}
