//! Running and blocking threads: resuming a thread's fiber (with its stack limit and
//! context), suspending the current one until what it waits for is ready, the event loop's
//! `tick` that the host's calls drive, and the spec's loop for a synchronous task that blocks.
//!
//! Scheduling is deterministic: among ready threads the one that has waited longest runs
//! first. A thread that waits for something already there goes on at once; one that yields
//! lets the others run first (the spec allows either choice in both cases).

use super::host_poll::poll_host;
use super::state::{
    ConcurrentState, InstanceKey, TaskState, ThreadId, ThreadStack, Wait, WaitableKind, current_thread_of,
    read_context, write_context,
};
use crate::store::{StoreInner, StoreOpaque};
use crate::trap::trap_with;
use crate::vm::fiber::{self, Resumed};
use anyhow::Result;
use std::task::{Context, Poll};
use weld_environ::Trap;

/// Whether `wait` is satisfied now.
pub(crate) fn is_ready(store: &StoreOpaque, wait: Wait) -> bool {
    let c = &store.concurrent;
    let not_exclusive = |i: InstanceKey| c.instances.get(&i).is_none_or(|s| s.exclusive.is_none());
    match wait {
        Wait::Nothing => true,
        Wait::NotExclusive(i) => not_exclusive(i),
        Wait::Event { set, exclusive } => {
            exclusive.is_none_or(not_exclusive)
                && c.sets.get(set).is_some_and(|s| s.elems.iter().any(|w| c.waitables[*w].pending.is_some()))
        }
        Wait::WaitableEvent(w) => c.waitables.get(w).is_some_and(|w| w.pending.is_some()),
        Wait::Resolved(w) => match c.waitables.get(w).map(|w| &w.kind) {
            Some(WaitableKind::Subtask(s)) => s.state.resolved(),
            _ => true,
        },
        Wait::NoBackpressure { instance, exclusive } => {
            store.component_instance(instance.0).backpressure[instance.1] == 0
                && (!exclusive || not_exclusive(instance))
        }
    }
}

/// Whether thread `t` is waiting and ready.
fn thread_ready(store: &StoreOpaque, t: ThreadId) -> bool {
    store.concurrent.threads.get(t).and_then(|th| th.wait).is_some_and(|w| is_ready(store, w))
}

/// The thread of `instance` that has waited longest among those ready to run, leaving out
/// the one that holds the instance exclusively if `skip_exclusive`. With `during_sync`
/// (the loop of a synchronous call, which holds the stack), also leaving out the implicit
/// threads of tasks that need exclusive use of the stack (callback-mode and synchronously
/// lifted `async` functions): only threads that can run on a stack in use may run.
pub(crate) fn ready_thread_of(
    store: &StoreOpaque,
    instance: InstanceKey,
    skip_exclusive: bool,
    during_sync: bool,
) -> Option<ThreadId> {
    let c = &store.concurrent;
    let exclusive = c.instances.get(&instance).and_then(|i| i.exclusive).filter(|_| skip_exclusive);
    c.waiting.iter().copied().find(|t| {
        let task = &c.tasks[c.threads[*t].task];
        let needs_stack =
            during_sync && task.implicit_thread == Some(*t) && task.async_type() && task.needs_exclusive();
        task.instance == instance && Some(*t) != exclusive && !needs_stack && thread_ready(store, *t)
    })
}

/// Resumes thread `t` (suspended or waiting) until it suspends, waits or finishes, with its
/// own stack limit and context while it runs. With
/// `cancelled`, the thread learns that it was woken by its task's cancellation. A trap or
/// error of the thread when it finishes is returned.
pub(crate) fn resume<T>(store: &mut StoreInner<T>, t: ThreadId, cancelled: bool) -> Result<()> {
    let s = store.opaque_mut();
    let c = &mut s.concurrent;
    let th = &mut c.threads[t];
    if th.wait.take().is_some() {
        c.waiting.retain(|w| *w != t);
    }
    th.cancelled = cancelled;
    log::trace!("resume thread {t} (task {}, current {:?})", th.task, c.current);
    let mut f = match &mut th.stack {
        ThreadStack::Fiber(f) => f.take().expect("bug: resumed a thread that is running"),
        ThreadStack::Native { blocked } => {
            // Its own loop, further down this stack, lets it go on once control is back there.
            *blocked = false;
            return Ok(());
        }
    };
    let context = th.context;
    let root = c.tasks[th.task].instance.0;
    let previous = c.current.replace(t);
    f.swap_stack_limit(&mut s.store_context.stack_limit);
    let slots = &s.component_instance(root).task_context;
    let saved_context = read_context(slots);
    write_context(slots, context);

    // The fiber changes the store through its own pointer to it. Escaping this one first
    // tells the compiler so: nothing read from the store before the switch may be reused
    // after it.
    std::hint::black_box(&raw mut *store);
    let resumed = f.resume();
    log::trace!("thread {t} is back: {resumed:?}");

    let s = store.opaque_mut();
    f.swap_stack_limit(&mut s.store_context.stack_limit);
    let slots = &s.component_instance(root).task_context;
    let context = read_context(slots);
    write_context(slots, saved_context);
    let c = &mut s.concurrent;
    c.current = previous;
    let outcome = match resumed {
        Resumed::Suspended => {
            let th = &mut c.threads[t];
            th.stack = ThreadStack::Fiber(Some(f));
            th.context = context;
            Ok(())
        }
        Resumed::Finished => {
            let th = c.threads.remove(t);
            if let Some(stack) = f.into_stack() {
                c.stacks.push(stack);
            }
            th.outcome.unwrap_or(Ok(()))
        }
    };
    outcome?;
    // The thread switched to another one of its instance: that one runs now, in its place.
    match store.opaque_mut().concurrent.switch_to.take() {
        Some(next) => resume(store, next, false),
        None => Ok(()),
    }
}

/// Suspends the current thread and has thread `next` run in its place (the spec's
/// `switch_to`), waiting for `wait` meanwhile if given. Returns whether it was woken by
/// cancellation.
pub(crate) fn switch_to<T>(store: &mut StoreInner<T>, next: ThreadId, wait: Option<Wait>) -> Result<bool> {
    store.opaque_mut().concurrent.switch_to = Some(next);
    suspend_current(store, wait)
}

/// Suspends the current thread until something resumes it explicitly (`thread.suspend`).
pub(crate) fn suspend<T>(store: &mut StoreInner<T>) -> Result<bool> {
    suspend_current(store, None)
}

/// Suspends the current thread, waiting for `wait` (or, with `None`, until something
/// resumes it explicitly). Returns whether it was woken by cancellation.
fn suspend_current<T>(store: &mut StoreInner<T>, wait: Option<Wait>) -> Result<bool> {
    let c = &mut store.opaque_mut().concurrent;
    let t = c.current.expect("bug: suspending with no current thread");
    if let Some(w) = wait {
        c.threads[t].wait = Some(w);
        c.waiting.push(t);
    }
    // As in `resume`: other code changes the store while this thread is suspended.
    std::hint::black_box(&raw mut *store);
    fiber::suspend()?;
    Ok(std::mem::take(&mut store.opaque_mut().concurrent.threads[t].cancelled))
}

/// The spec's `Task.deliver_pending_cancel` for the current thread's task.
pub(crate) fn deliver_pending_cancel(c: &mut ConcurrentState, cancellable: bool) -> bool {
    let Some(t) = c.current else { return false };
    let task = &mut c.tasks[c.threads[t].task];
    if cancellable && task.state == TaskState::PendingCancel {
        task.state = TaskState::CancelDelivered;
        return true;
    }
    false
}

/// The spec's `Thread.wait_until` for the current thread. Returns whether it was cancelled.
pub(crate) fn wait_until<T>(store: &mut StoreInner<T>, wait: Wait, cancellable: bool) -> Result<bool> {
    let c = &mut store.opaque_mut().concurrent;
    if deliver_pending_cancel(c, cancellable) {
        return Ok(true);
    }
    // What is ready already is not waited for, except a yield, which lets other threads run
    // first (the spec allows either; the test suite expects this).
    if !matches!(wait, Wait::Nothing | Wait::NotExclusive(_)) && is_ready(store.opaque(), wait) {
        return Ok(false);
    }
    let c = &mut store.opaque_mut().concurrent;
    let t = c.current.expect("bug: waiting with no current thread");
    c.threads[t].cancellable = cancellable;
    suspend_current(store, Some(wait))
}

/// The rule for code in the dynamic scope of a call whose function type is not `async` (a
/// synchronous call on some stack, or the thread of such a task before it returns): it may
/// block only if another thread of its instance is ready to run meanwhile. Checked before a
/// built-in that may block does anything else.
pub(crate) fn check_may_block(store: &StoreOpaque, instance: InstanceKey) -> Result<()> {
    let c = &store.concurrent;
    let me = current_thread_of(c, instance);
    let task = me.map(|t| &c.tasks[c.threads[t].task]);
    if task.is_some_and(|task| task.async_type() || task.state == TaskState::Resolved) {
        return Ok(());
    }
    // Another thread ready in the same root instance lets the code block: whether that
    // thread can run meanwhile is the synchronous call's loop's to find (a deadlock if not).
    let same_root = |t: ThreadId| c.tasks[c.threads[t].task].instance.0 == instance.0;
    if c.waiting.iter().any(|t| Some(*t) != me && same_root(*t) && thread_ready(store, *t)) {
        return Ok(());
    }
    Err(trap_with(
        Trap::CannotBlockSyncTask,
        "code of a function whose type is not `async` would block, and no other thread of its instance is ready"
            .to_string(),
    ))
}

/// Blocks code of instance `instance` until `wait` is ready: the current thread waits if the
/// code is its task's own; otherwise the code is a synchronous call made on some stack (the
/// host's, or a thread's calling into another instance), which runs the spec's loop for
/// synchronous tasks ([`run_sync_until`]), as its implicit thread if it has one. Returns
/// whether the wait was cancelled.
pub(crate) fn block<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    wait: Wait,
    cancellable: bool,
) -> Result<bool> {
    let c = &store.opaque().concurrent;
    match current_thread_of(c, instance) {
        Some(t) if !c.threads[t].native() => wait_until(store, wait, cancellable),
        Some(t) => {
            // As in `wait_until`: what is ready already is not waited for, except a yield.
            if !matches!(wait, Wait::Nothing | Wait::NotExclusive(_)) && is_ready(store.opaque(), wait) {
                return Ok(false);
            }
            block_native(store, instance, t, Some(wait), None)
        }
        None => {
            run_sync_until(store, instance, |s| is_ready(s, wait))?;
            Ok(false)
        }
    }
}

/// Blocks `t`, the implicit thread of the synchronous call into `instance` whose code runs
/// now (on that call's stack): it waits for `wait` (or, with `None`, is suspended until
/// something resumes it), after thread `next` runs in its place if given; meanwhile the
/// call runs the spec's loop for synchronous tasks until something resumes `t`. Returns
/// whether it was woken by cancellation.
pub(crate) fn block_native<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    t: ThreadId,
    wait: Option<Wait>,
    next: Option<ThreadId>,
) -> Result<bool> {
    let c = &mut store.opaque_mut().concurrent;
    c.threads[t].stack = ThreadStack::Native { blocked: true };
    if let Some(w) = wait {
        c.threads[t].wait = Some(w);
        c.waiting.push(t);
    }
    if let Some(next) = next {
        resume(store, next, false)?;
    }
    run_sync_until(store, instance, |s| s.concurrent.threads.get(t).is_none_or(|th| th.running()))?;
    Ok(std::mem::take(&mut store.opaque_mut().concurrent.threads[t].cancelled))
}

/// The loop of the spec's `canon_lift` for a function whose type is not `async`, which
/// blocked: runs ready threads of the same instance (not the one holding it exclusively),
/// and host work when none is ready, until `done`; trapping when nothing can run. While only
/// host work is under way, the thread blocks until a host waker fires.
pub(crate) fn run_sync_until<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    done: impl Fn(&StoreOpaque) -> bool,
) -> Result<()> {
    let waker = store.host_work.thread_waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        let s = store.opaque();
        if done(s) {
            return Ok(());
        }
        if let Some(t) = ready_thread_of(s, instance, true, true) {
            resume(store, t, false)?;
            continue;
        }
        let host = poll_host(store, &mut cx)?;
        if host.progress {
            continue;
        }
        if !host.pending {
            return Err(trap_with(
                Trap::Deadlock,
                "a call whose function type is not `async` blocked, and no thread of its instance that may run \
                 during it is ready"
                    .to_string(),
            ));
        }
        store.host_work.park();
    }
}

/// One step of the event loop (the spec's `Store.tick`), from the host: resumes the ready
/// thread that has waited longest, entering its instance. Returns whether one ran.
pub(crate) fn tick<T>(store: &mut StoreInner<T>) -> Result<bool> {
    let s = store.opaque();
    // (A synchronous call's implicit thread goes on only in its call's loop.)
    let c = &s.concurrent;
    let Some(t) = c.waiting.iter().copied().find(|t| !c.threads[*t].native() && thread_ready(s, *t)) else {
        return Ok(false);
    };
    let c = &s.concurrent;
    let (root, inst) = c.tasks[c.threads[t].task].instance;
    let entering = s.component_instance(root).component.info().entering_set(inst, None);
    store.opaque_mut().enter_from_host(root, &entering)?;
    let ran = resume(store, t, false);
    store.opaque_mut().leave_to_host(root, &entering);
    ran.map(|()| true)
}

/// Runs the event loop from the host until `done`, blocking the thread while only host work
/// is under way; fails with the spec's deadlock trap when nothing can run.
pub(crate) fn run_until<T>(store: &mut StoreInner<T>, done: impl Fn(&StoreOpaque) -> bool) -> Result<()> {
    let waker = store.host_work.thread_waker();
    let mut cx = Context::from_waker(&waker);
    while poll_until(store, &done, &mut cx)?.is_pending() {
        store.host_work.park();
    }
    Ok(())
}

/// Runs the event loop until `done` (ready), or until only host work is under way
/// (pending: `cx`'s waker fires when it can go on); fails with the spec's deadlock trap when
/// nothing can run.
pub(crate) fn poll_until<T>(
    store: &mut StoreInner<T>,
    done: &dyn Fn(&StoreOpaque) -> bool,
    cx: &mut Context<'_>,
) -> Result<Poll<()>> {
    loop {
        if done(store.opaque()) {
            return Ok(Poll::Ready(()));
        }
        if tick(store)? {
            continue;
        }
        let host = poll_host(store, cx)?;
        if host.progress {
            continue;
        }
        if host.pending {
            return Ok(Poll::Pending);
        }
        return Err(trap_with(Trap::Deadlock, "every task is waiting for something that no task can do".to_string()));
    }
}

/// Runs ready threads and host work until neither can go on, for the host's own futures
/// (`Store::run_concurrent`) to look at what changed. Returns whether anything ran; fails
/// with the spec's deadlock trap when a task the host called waits for something nothing
/// can do (no thread ready, no host work under way).
pub(crate) fn run_until_idle<T>(store: &mut StoreInner<T>, cx: &mut Context<'_>) -> Result<bool> {
    let mut ran = false;
    loop {
        if tick(store)? {
            ran = true;
            continue;
        }
        let host = poll_host(store, cx)?;
        if host.progress {
            ran = true;
            continue;
        }
        let waiting_host_call = store.opaque().concurrent.tasks.iter().any(|(_, t)| {
            matches!(t.caller, super::state::Caller::Host { result: None, .. }) && t.state != TaskState::Resolved
        });
        if !ran && !host.pending && waiting_host_call {
            return Err(trap_with(
                Trap::Deadlock,
                "every task is waiting for something that no task can do".to_string(),
            ));
        }
        return Ok(ran);
    }
}
