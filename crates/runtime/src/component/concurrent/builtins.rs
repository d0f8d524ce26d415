//! The core functions of the async and threads built-ins (`task.return`, `waitable-set.wait`,
//! `subtask.drop`, `context.get`, ...), each doing what the spec's `canon_*` definition does,
//! in its order of checks: first whether the instance may leave (where the spec checks it),
//! then the handles, then the effect. Futures and streams are in `copies.rs`.

use super::scheduler::{block, block_native, check_may_block, deliver_pending_cancel, is_ready, suspend, switch_to};
use super::state::{
    Callee, ErrorContext, InstanceKey, TaskId, ThreadId, Wait, WaitableKind, WaitableSet, current_thread_of, event,
};
use super::tasks::{spawn_explicit_thread, task_cancel, task_return};
use super::waitables::{
    builtin_options, check_sync_use, deliver_event, join, pending_event_of_set, wait_for_event, wait_for_pending_event,
    waitable, waitable_set, wrong_handle,
};
use crate::ValRaw;
use crate::component::canonical::{self};
use crate::component::handle_table::Slot;
use crate::component::state::{GlobalCell, SharedGlobal};
use crate::component::store_memory::guest_memory;
use crate::component::values::{Val, tuple_elements};
use crate::handles::{ComponentInstanceId, Func};
use crate::store::StoreInner;
use crate::trap::trap_with;
use anyhow::{Result, bail};
use std::sync::Arc;
use weld_environ::Trap;
use weld_environ::component::adapt::CallSide;
use weld_environ::component::info::{AsyncBuiltin, AsyncBuiltinOp as Op};
use weld_environ::component::{InterfaceType, MAX_FLAT_PARAMS, MemoryWidth, flatten_types};

/// The core function of an async or threads built-in of component instance `root`.
pub(crate) fn async_builtin_func<T: 'static>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    builtin: &AsyncBuiltin,
) -> Result<Func> {
    let b = Arc::new(builtin.clone());
    // An `i32` context slot's value is the low half of the `i64` the context keeps.
    let wide = builtin.ty.params.first().or(builtin.ty.results.first()) == Some(&crate::ValType::I64);
    let call = move |store: &mut StoreInner<T>, _caller, slots: &mut [ValRaw]| -> Result<()> {
        run_builtin(store, root, &b, wide, slots)
    };
    Func::from_host_fn(store, &builtin.ty, Arc::new(call))
}

/// Runs built-in `b` of `root` with its core arguments and results in `slots`.
fn run_builtin<T>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    b: &AsyncBuiltin,
    wide: bool,
    slots: &mut [ValRaw],
) -> Result<()> {
    let instance = (root, b.instance);
    // The spec's definitions of these read or change only the current thread or instance,
    // and do not check `may_leave`.
    let guarded =
        !matches!(b.op, Op::ContextGet { .. } | Op::ContextSet { .. } | Op::BackpressureInc | Op::BackpressureDec);
    if guarded && !store.opaque().may_leave(root, b.instance) {
        return Err(trap_with(
            Trap::CannotLeaveComponent,
            format!("`{}` was called while its instance may not leave (in `post-return`)", b.op.name()),
        ));
    }
    let arg = |i: usize| slots[i].get_u32();
    log::trace!(
        "built-in {:?} of instance {instance:?}, arguments {:?}",
        b.op,
        slots.iter().map(|s| s.get_u32()).collect::<Vec<_>>()
    );
    match b.op {
        Op::ContextGet { slot } => {
            let value = context_cell(&store.opaque().component_instance(root).task_context, slot)?.get_i64() as u64;
            slots[0] = ValRaw::u64(if wide { value } else { u64::from(value as u32) });
        }
        Op::ContextSet { slot } => {
            let v = slots[0].get_u64();
            let v = if wide { v } else { u64::from(v as u32) };
            context_cell(&store.opaque().component_instance(root).task_context, slot)?.set_i64(v as i64);
        }
        Op::BackpressureInc | Op::BackpressureDec => {
            let counter = &mut store.opaque_mut().component_instance_mut(root).backpressure[b.instance];
            match b.op {
                Op::BackpressureInc if *counter + 1 == 1 << 16 => bail!("backpressure counter overflow"),
                Op::BackpressureInc => *counter += 1,
                _ if *counter == 0 => bail!("backpressure counter underflow"),
                _ => *counter -= 1,
            }
        }
        Op::TaskReturn => {
            let task = current_async_task(store, instance, "task.return")?;
            let result = lift_task_result(store, root, b, task, slots)?;
            task_return(store, task, result)?;
        }
        Op::TaskCancel => {
            let task = current_async_task(store, instance, "task.cancel")?;
            task_cancel(store, task)?;
        }
        Op::ThreadYield => {
            let cancelled = block(store, instance, Wait::Nothing, false)?;
            slots[0] = ValRaw::u32(u32::from(cancelled));
        }
        Op::ThreadNewIndirect => {
            let Some(task) = current_task(store, instance) else {
                bail!("`thread.new-indirect` called from outside a call into the instance that defines it");
            };
            let f = start_function(store, root, b, arg(0))?;
            slots[0] = ValRaw::u32(spawn_explicit_thread(store, task, f, arg(1))?);
        }
        Op::ThreadResumeLater => {
            let other = suspended_thread(store, instance, arg(0))?;
            let c = &mut store.opaque_mut().concurrent;
            c.threads[other].wait = Some(Wait::Nothing);
            c.waiting.push(other);
        }
        Op::ThreadSuspend => {
            check_may_block(store.opaque(), instance)?;
            let cancelled = match current_thread_kind(store, instance) {
                Some((t, true)) => block_native(store, instance, t, None, None)?,
                Some((_, false)) => suspend(store)?,
                None => bail!("`thread.suspend` called from outside a call into the instance that defines it"),
            };
            slots[0] = ValRaw::u32(u32::from(cancelled));
        }
        Op::ThreadSuspendThenResume
        | Op::ThreadYieldThenResume
        | Op::ThreadSuspendThenPromote
        | Op::ThreadYieldThenPromote => {
            let Some((me, native)) = current_thread_kind(store, instance) else {
                bail!("`{}` called from outside a call into the instance that defines it", b.op.name());
            };
            // The current thread suspends (or, yielding, waits for nothing) and `other` runs
            // in its place.
            let switch = |store: &mut StoreInner<T>, other: ThreadId, wait: Option<Wait>| {
                if native {
                    block_native(store, instance, me, wait, Some(other))
                } else {
                    switch_to(store, other, wait)
                }
            };
            let yielding = matches!(b.op, Op::ThreadYieldThenResume | Op::ThreadYieldThenPromote);
            let promote = matches!(b.op, Op::ThreadSuspendThenPromote | Op::ThreadYieldThenPromote);
            let wait = yielding.then_some(Wait::Nothing);
            let cancelled = if promote {
                // Switch to the other thread only if it waits and is ready.
                let other = thread_at(store, instance, arg(0))?;
                let c = &store.opaque().concurrent;
                let ready = c.threads[other].wait.is_some_and(|w| is_ready(store.opaque(), w));
                if ready {
                    let c = &mut store.opaque_mut().concurrent;
                    c.threads[other].wait = None;
                    c.waiting.retain(|x| *x != other);
                    switch(store, other, wait)?
                } else if yielding {
                    block(store, instance, Wait::Nothing, false)?
                } else if native {
                    block_native(store, instance, me, None, None)?
                } else {
                    suspend(store)?
                }
            } else {
                let other = suspended_thread(store, instance, arg(0))?;
                switch(store, other, wait)?
            };
            slots[0] = ValRaw::u32(u32::from(cancelled));
        }
        Op::ThreadIndex => {
            let c = &store.opaque().concurrent;
            let Some(index) = current_thread_of(c, instance).and_then(|t| c.threads[t].index) else {
                bail!("`thread.index` called from outside a call into the instance that defines it");
            };
            slots[0] = ValRaw::u32(index);
        }
        Op::WaitableSetNew => {
            let id = store.opaque_mut().concurrent.sets.insert(WaitableSet::default());
            let h = store.opaque_mut().component_instance_mut(root).handles[b.instance]
                .add(Slot::WaitableSet(id as u32))?;
            slots[0] = ValRaw::u32(h);
        }
        Op::WaitableSetWait | Op::WaitableSetPoll => {
            if b.op == Op::WaitableSetWait {
                check_may_block(store.opaque(), instance)?;
            }
            let set = waitable_set(store, instance, arg(0))?;
            let ptr = slots[1].get_u32();
            let ev = if b.op == Op::WaitableSetWait {
                wait_for_event(store, instance, set, None, false)?
            } else if deliver_pending_cancel(&mut store.opaque_mut().concurrent, false) {
                (event::TASK_CANCELLED, 0, 0)
            } else {
                pending_event_of_set(store, set).unwrap_or((event::NONE, 0, 0))
            };
            store_event(store, root, b, u64::from(ptr), ev)?;
            slots[0] = ValRaw::u32(ev.0);
        }
        Op::WaitableSetDrop => {
            let table = &mut store.opaque_mut().component_instance_mut(root).handles[b.instance];
            let Slot::WaitableSet(id) = table.remove_slot(arg(0))? else {
                return Err(wrong_handle(arg(0), "a waitable set"));
            };
            let c = &mut store.opaque_mut().concurrent;
            let set = &c.sets[id as usize];
            if set.num_waiting > 0 || !set.elems.is_empty() {
                return Err(trap_with(Trap::AsyncMisuse, "cannot drop waitable set with waiters".into()));
            }
            c.sets.remove(id as usize);
        }
        Op::WaitableJoin => {
            let w = waitable(store, instance, arg(0))?;
            let set = match arg(1) {
                0 => None,
                si => Some(waitable_set(store, instance, si)?),
            };
            let c = &mut store.opaque_mut().concurrent;
            if c.waitables[w].has_sync_waiter {
                return Err(trap_with(Trap::AsyncMisuse, "waitable cannot be used synchronously while added to a waitable set (a thread waits on it synchronously)".into()));
            }
            join(c, w, set);
        }
        Op::SubtaskDrop => {
            let w = waitable(store, instance, arg(0))?;
            let c = &mut store.opaque_mut().concurrent;
            let WaitableKind::Subtask(s) = &c.waitables[w].kind else {
                return Err(wrong_handle(arg(0), "a subtask"));
            };
            if !s.resolve_delivered {
                return Err(trap_with(Trap::AsyncMisuse, "cannot drop a subtask which has not yet resolved".into()));
            }
            join(c, w, None);
            c.waitables.remove(w);
            store.opaque_mut().component_instance_mut(root).handles[b.instance].remove_slot(arg(0))?;
        }
        Op::SubtaskCancel { async_ } => {
            if !async_ {
                check_may_block(store.opaque(), instance)?;
            }
            slots[0] = ValRaw::u32(subtask_cancel(store, instance, async_, arg(0))?);
        }
        Op::ErrorContextNew => {
            let options = builtin_options(b)?;
            let (mut mem, opts) = guest_memory(store, root, options, CallSide::Caller);
            let message = match canonical::lift_flat(
                &mut mem,
                &opts,
                &InterfaceType::String,
                &mut [u64::from(arg(0)), u64::from(arg(1))].into_iter(),
            )? {
                Val::String(s) => s,
                _ => unreachable!("a string lifts as a string"),
            };
            let id = store.opaque_mut().concurrent.error_contexts.insert(ErrorContext { message, refs: 1 });
            let h = store.opaque_mut().component_instance_mut(root).handles[b.instance]
                .add(Slot::ErrorContext(id as u32))?;
            slots[0] = ValRaw::u32(h);
        }
        Op::ErrorContextDebugMessage => {
            let Slot::ErrorContext(id) = store.opaque().component_instance(root).handles[b.instance].slot(arg(0))?
            else {
                return Err(wrong_handle(arg(0), "an error context"));
            };
            let message = store.opaque().concurrent.error_contexts[id as usize].message.clone();
            let options = builtin_options(b)?;
            let (mut mem, opts) = guest_memory(store, root, options, CallSide::Caller);
            canonical::store(&mut mem, &opts, &Val::String(message), &InterfaceType::String, u64::from(arg(1)))?;
        }
        Op::ErrorContextDrop => {
            let table = &mut store.opaque_mut().component_instance_mut(root).handles[b.instance];
            let Slot::ErrorContext(id) = table.remove_slot(arg(0))? else {
                return Err(wrong_handle(arg(0), "an error context"));
            };
            let c = &mut store.opaque_mut().concurrent;
            let e = &mut c.error_contexts[id as usize];
            e.refs -= 1;
            if e.refs == 0 {
                c.error_contexts.remove(id as usize);
            }
        }
        Op::FutureNew
        | Op::FutureRead
        | Op::FutureWrite
        | Op::FutureCancelRead { .. }
        | Op::FutureCancelWrite { .. }
        | Op::FutureDropReadable
        | Op::FutureDropWritable
        | Op::StreamNew
        | Op::StreamRead
        | Op::StreamWrite
        | Op::StreamCancelRead { .. }
        | Op::StreamCancelWrite { .. }
        | Op::StreamDropReadable
        | Op::StreamDropWritable => super::copies::run(store, instance, b, slots)?,
        other => bail!(
            "the canonical built-in `{}` needs a part of component-model async or threads that weld does not \
             support yet",
            other.name()
        ),
    }
    Ok(())
}

/// The cell of slot `slot` of the current task's context.
fn context_cell(context: &[SharedGlobal], slot: u32) -> Result<GlobalCell> {
    match context.get(slot as usize) {
        Some(g) => Ok(g.cell),
        None => bail!("bug: the task context has no slot {slot}"),
    }
}

/// The current thread's task, which must be an `async`-lifted task of `instance` (what
/// `task.return` and `task.cancel` require).
fn current_async_task<T>(store: &StoreInner<T>, instance: InstanceKey, what: &str) -> Result<TaskId> {
    let c = &store.opaque().concurrent;
    let task = c.current.map(|t| c.threads[t].task).filter(|task| c.tasks[*task].instance == instance);
    match task {
        Some(task) if c.tasks[task].async_lift() => Ok(task),
        _ => Err(trap_with(Trap::AsyncMisuse, format!("`{what}` called by a task that was not lifted `async`"))),
    }
}

/// `task.return`'s result, lifted from its core arguments, after the spec's checks that the
/// built-in's type and options are the task's.
fn lift_task_result<T>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    b: &AsyncBuiltin,
    task: TaskId,
    slots: &[ValRaw],
) -> Result<Option<Val>> {
    let Some(func) = &store.opaque().concurrent.tasks[task].func else {
        bail!("bug: `task.return` of a synchronous call's task");
    };
    let options = builtin_options(b)?.clone();
    if b.result != func.ty.result {
        return Err(trap_with(Trap::AsyncMisuse, "`task.return` of another result type than the task's".into()));
    }
    // The options say how the result is lifted, so they must be the lift's; without a
    // result there is nothing to lift (the test suite's `task.return`s without a result name
    // no memory even where the lift does).
    let lifted = &func.options;
    if b.result.is_some() && (options.memory != lifted.memory || options.string_encoding != lifted.string_encoding) {
        return Err(trap_with(Trap::AsyncMisuse, "`task.return` with other canonical options than the task's".into()));
    }
    let Some(rt) = b.result.clone() else { return Ok(None) };
    let width = MemoryWidth::from_memory64(options.memory64);
    let (mut mem, opts) = guest_memory(store, root, &options, CallSide::Callee);
    let flat: Vec<u64> = slots.iter().map(|s| s.get_u64()).collect();
    let val = if flatten_types([&rt], width, MAX_FLAT_PARAMS).is_none() {
        let tuple = InterfaceType::tuple([rt]);
        tuple_elements(canonical::load(&mut mem, &opts, &tuple, u64::from(flat[0] as u32))?).remove(0)
    } else {
        let types = b.ty.params.iter();
        let mut it = flat.iter().zip(types).map(|(v, t)| match t {
            crate::ValType::I32 | crate::ValType::F32 => u64::from(*v as u32),
            _ => *v,
        });
        canonical::lift_flat(&mut mem, &opts, &rt, &mut it)?
    };
    Ok(Some(val))
}

/// Stores an event's two payload words at `ptr` in the memory of built-in `b`'s options.
fn store_event<T>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    b: &AsyncBuiltin,
    ptr: u64,
    (_, p1, p2): (u32, u32, u32),
) -> Result<()> {
    let options = builtin_options(b)?;
    let (mut mem, opts) = guest_memory(store, root, options, CallSide::Caller);
    let pair = InterfaceType::tuple([InterfaceType::U32, InterfaceType::U32]);
    canonical::store(&mut mem, &opts, &Val::Tuple(vec![Val::U32(p1), Val::U32(p2)]), &pair, ptr)
}

/// The spec's `canon_subtask_cancel`: returns the subtask's state once resolved, or
/// `BLOCKED` (async) if the callee has not acknowledged the cancellation yet.
fn subtask_cancel<T>(store: &mut StoreInner<T>, instance: InstanceKey, async_: bool, index: u32) -> Result<u32> {
    let w = waitable(store, instance, index)?;
    let c = &mut store.opaque_mut().concurrent;
    // Checked after the subtask's own state, as the spec orders the checks.
    let sync_use = check_sync_use(c, w, async_);
    let WaitableKind::Subtask(s) = &mut c.waitables[w].kind else { return Err(wrong_handle(index, "a subtask")) };
    if s.resolve_delivered {
        return Err(trap_with(Trap::AsyncMisuse, "cannot cancel a subtask whose resolution was delivered".into()));
    }
    if s.cancellation_requested {
        return Err(trap_with(Trap::AsyncMisuse, "cancellation of the subtask was already requested".into()));
    }
    sync_use?;
    if !s.state.resolved() {
        s.cancellation_requested = true;
        if let Some(task) = s.task {
            super::tasks::request_cancellation(store, task, instance)?;
        } else if let Callee::Host(Some(_)) = s.call {
            super::host_calls::cancel(store, w);
        }
        let c = &mut store.opaque_mut().concurrent;
        let resolved = matches!(&c.waitables[w].kind, WaitableKind::Subtask(s) if s.state.resolved());
        if !resolved {
            if async_ {
                return Ok(0xffff_ffff);
            }
            wait_for_pending_event(store, instance, w)?;
        }
    }
    let (_, _, state) = deliver_event(store, w);
    Ok(state)
}

/// The task of the thread whose code of `instance` runs now (`None`: a synchronous call
/// into an instance that does not use threads).
fn current_task<T>(store: &StoreInner<T>, instance: InstanceKey) -> Option<TaskId> {
    let c = &store.opaque().concurrent;
    current_thread_of(c, instance).map(|t| c.threads[t].task)
}

/// The thread whose code of `instance` runs now, and whether it is a synchronous call's
/// implicit thread (on that call's stack) rather than on a fiber.
fn current_thread_kind<T>(store: &StoreInner<T>, instance: InstanceKey) -> Option<(ThreadId, bool)> {
    let c = &store.opaque().concurrent;
    current_thread_of(c, instance).map(|t| (t, c.threads[t].native()))
}

/// The thread at index `index` of `instance`'s threads table.
fn thread_at<T>(store: &StoreInner<T>, instance: InstanceKey, index: u32) -> Result<ThreadId> {
    let c = &store.opaque().concurrent;
    match c.instances.get(&instance).and_then(|i| i.threads.get(index as usize)).copied().flatten() {
        Some(t) => Ok(t),
        None => Err(trap_with(Trap::AsyncMisuse, format!("unknown thread index {index}"))),
    }
}

/// The thread at index `index` of `instance`'s threads table, which must be suspended
/// (neither running nor waiting).
fn suspended_thread<T>(store: &StoreInner<T>, instance: InstanceKey, index: u32) -> Result<ThreadId> {
    let t = thread_at(store, instance, index)?;
    let th = &store.opaque().concurrent.threads[t];
    if th.wait.is_some() || th.running() {
        return Err(trap_with(Trap::AsyncMisuse, format!("thread {index} is not suspended")));
    }
    Ok(t)
}

/// The start function of `thread.new-indirect`: element `index` of its table, which must be
/// a function of type `(i32) -> ()`.
fn start_function<T>(
    store: &mut StoreInner<T>,
    root: ComponentInstanceId,
    b: &AsyncBuiltin,
    index: u32,
) -> Result<Func> {
    let Some(table) = &b.table else { bail!("bug: `thread.new-indirect` has no table") };
    let table = crate::component::core_defs::core_export(store, root, table)?
        .into_table()
        .ok_or_else(|| anyhow::anyhow!("bug: the table of `thread.new-indirect` is not a table"))?;
    let f = match table.get(&*store, u64::from(index)) {
        Some(crate::Val::FuncRef(Some(f))) => f,
        Some(_) => return Err(trap_with(Trap::IndirectCallToNull, format!("table element {index} is null"))),
        None => return Err(trap_with(Trap::TableOutOfBounds, format!("table element {index} is out of bounds"))),
    };
    let ty = f.ty(&*store);
    if ty.params().collect::<Vec<_>>() != [crate::ValType::I32] || ty.results().next().is_some() {
        return Err(trap_with(
            Trap::BadSignature,
            format!("the start function of a thread has type {ty}, not (func (param i32))"),
        ));
    }
    Ok(f)
}
