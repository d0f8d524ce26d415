//! Waitables and waitable sets: finding them in handle tables, joining sets, waiting for
//! and delivering events (the spec's `Waitable`, `WaitableSet`, `get_pending_event`, and the
//! events of subtasks and of copies).

use super::scheduler::block;
use super::state::{
    ConcurrentState, CopyEnd, CopyState, InstanceKey, PendingEvent, SetId, Wait, Waitable, WaitableId, WaitableKind,
    copy_result, end, end_mut, event, subtask_mut,
};
use crate::component::handle_table::Slot;
use crate::store::StoreInner;
use crate::trap::trap_with;
use anyhow::{Result, bail};
use weld_environ::Trap;
use weld_environ::component::InterfaceType;
use weld_environ::component::info::{AsyncBuiltin, Options};

/// The trap of a handle of the wrong kind.
pub(crate) fn wrong_handle(index: u32, expected: &str) -> anyhow::Error {
    trap_with(Trap::HandleWrongType, format!("handle index {index} used with the wrong type: expected {expected}"))
}

/// The canonical options of built-in `b`, which its definition requires.
pub(crate) fn builtin_options(b: &AsyncBuiltin) -> Result<&Options> {
    match &b.options {
        Some(o) => Ok(o),
        None => bail!("bug: the built-in `{}` has no canonical options", b.op.name()),
    }
}

/// The waitable at handle `index` of `instance`'s table.
pub(crate) fn waitable<T>(store: &StoreInner<T>, instance: InstanceKey, index: u32) -> Result<usize> {
    match store.opaque().component_instance(instance.0).handles[instance.1].slot(index)? {
        Slot::Waitable(w) => Ok(w as usize),
        _ => Err(wrong_handle(index, "a waitable")),
    }
}

/// The waitable set at handle `index` of `instance`'s table.
pub(crate) fn waitable_set<T>(store: &StoreInner<T>, instance: InstanceKey, index: u32) -> Result<SetId> {
    match store.opaque().component_instance(instance.0).handles[instance.1].slot(index)? {
        Slot::WaitableSet(s) => Ok(s as usize),
        _ => Err(wrong_handle(index, "a waitable set")),
    }
}

/// The spec's `Waitable.join`: moves waitable `w` into `set` (or out of any).
pub(crate) fn join(c: &mut ConcurrentState, w: usize, set: Option<SetId>) {
    if let Some(old) = c.waitables[w].set.take() {
        c.sets[old].elems.retain(|x| *x != w);
    }
    c.waitables[w].set = set;
    if let Some(set) = set {
        c.sets[set].elems.push(w);
    }
}

/// The spec's `WaitableSet.wait_for_event_and`: waits for an event in `set` (and, for a
/// callback-mode task, for its instance not to be held exclusively), then delivers it.
pub(crate) fn wait_for_event<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    set: SetId,
    exclusive: Option<InstanceKey>,
    cancellable: bool,
) -> Result<(u32, u32, u32)> {
    store.opaque_mut().concurrent.sets[set].num_waiting += 1;
    let cancelled = block(store, instance, Wait::Event { set, exclusive }, cancellable);
    store.opaque_mut().concurrent.sets[set].num_waiting -= 1;
    if cancelled? {
        return Ok((event::TASK_CANCELLED, 0, 0));
    }
    match pending_event_of_set(store, set) {
        Some(ev) => Ok(ev),
        None => bail!("bug: woken for an event in a waitable set that has none"),
    }
}

/// The spec's `WaitableSet.get_pending_event`: the event of the first waitable of `set` that
/// has one.
pub(crate) fn pending_event_of_set<T>(store: &mut StoreInner<T>, set: SetId) -> Option<(u32, u32, u32)> {
    let c = &store.opaque().concurrent;
    let w = c.sets[set].elems.iter().copied().find(|w| c.waitables[*w].pending.is_some())?;
    Some(deliver_event(store, w))
}

/// Delivers the pending event of waitable `w` (the spec's `get_pending_event`).
pub(crate) fn deliver_event<T>(store: &mut StoreInner<T>, w: usize) -> (u32, u32, u32) {
    let c = &mut store.opaque_mut().concurrent;
    let waitable = &mut c.waitables[w];
    let pending = waitable.pending.take().expect("bug: delivering an event that is not pending");
    let handle = waitable.handle;
    match pending {
        PendingEvent::Subtask => {
            let WaitableKind::Subtask(s) = &waitable.kind else { unreachable!("a subtask event of a subtask") };
            let state = s.state;
            if state.resolved() && !s.resolve_delivered {
                deliver_resolve(store, w);
            }
            (event::SUBTASK, handle, state as u32)
        }
        PendingEvent::Copy { result, reclaim } => deliver_copy_event(store, w, result, reclaim),
    }
}

/// The spec's `Subtask.deliver_resolve`: gives back the handles lent to the callee.
pub(crate) fn deliver_resolve<T>(store: &mut StoreInner<T>, w: usize) {
    let c = &mut store.opaque_mut().concurrent;
    let s = subtask_mut(c, w);
    s.resolve_delivered = true;
    let (root, lenders) = (s.caller, std::mem::take(&mut s.lenders));
    for (table, index) in lenders {
        store.opaque_mut().component_instance_mut(root).handles[table].unlend(index);
    }
}

/// Delivers the event of end `w`'s finished copy (the spec's `stream_event`/`future_event`).
fn deliver_copy_event<T>(store: &mut StoreInner<T>, w: WaitableId, result: u32, reclaim: bool) -> (u32, u32, u32) {
    let c = &mut store.opaque_mut().concurrent;
    let handle = c.waitables[w].handle;
    let shared = end(c, w).shared;
    if reclaim && c.shared[shared].pending == Some(w) {
        c.shared[shared].pending = None;
    }
    let future = c.shared[shared].is_future();
    let e = end_mut(c, w);
    let progress = e.buffer.take().map_or(0, |b| b.progress);
    let done = result == copy_result::DROPPED || (future && result == copy_result::COMPLETED);
    e.state = if done { CopyState::Done } else { CopyState::Idle };
    let code = match (future, e.readable) {
        (true, true) => event::FUTURE_READ,
        (true, false) => event::FUTURE_WRITE,
        (false, true) => event::STREAM_READ,
        (false, false) => event::STREAM_WRITE,
    };
    let payload = if future { result } else { result | (progress << 4) };
    (code, handle, payload)
}

/// Adds a new end of `shared` to `instance`'s handle table.
pub(crate) fn new_end<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    shared: usize,
    readable: bool,
    ty: InterfaceType,
) -> Result<u32> {
    let c = &mut store.opaque_mut().concurrent;
    let w = c.waitables.insert(Waitable {
        kind: WaitableKind::Copy(CopyEnd { shared, ty, readable, state: CopyState::Idle, buffer: None }),
        pending: None,
        set: None,
        has_sync_waiter: false,
        handle: 0,
    });
    let h = store.opaque_mut().component_instance_mut(instance.0).handles[instance.1].add(Slot::Waitable(w as u32))?;
    store.opaque_mut().concurrent.waitables[w].handle = h;
    Ok(h)
}

/// The end of a future or stream at handle `index`, checked to be the readable or writable
/// end (`readable`) of type `ty`.
pub(crate) fn checked_end<T>(
    store: &StoreInner<T>,
    instance: InstanceKey,
    ty: &InterfaceType,
    readable: bool,
    index: u32,
) -> Result<WaitableId> {
    let w = waitable(store, instance, index)?;
    let c = &store.opaque().concurrent;
    let what = kind_name(ty, readable);
    let WaitableKind::Copy(e) = &c.waitables[w].kind else { return Err(wrong_handle(index, &what)) };
    if e.readable != readable || e.ty != *ty {
        return Err(wrong_handle(index, &what));
    }
    Ok(w)
}

fn kind_name(ty: &InterfaceType, readable: bool) -> String {
    format!("the {} end of a `{ty}`", if readable { "readable" } else { "writable" })
}

/// The spec's rule that a waitable in a set is used only asynchronously: a trap if `w` is in
/// a set and the use (`async_`) is synchronous.
pub(crate) fn check_sync_use(c: &ConcurrentState, w: WaitableId, async_: bool) -> Result<()> {
    if c.waitables[w].set.is_some() && !async_ {
        return Err(trap_with(
            Trap::AsyncMisuse,
            "waitable cannot be used synchronously while added to a waitable set".into(),
        ));
    }
    Ok(())
}

/// The spec's `Waitable.wait_for_pending_event`: code of `instance` waits synchronously for
/// an event on `w` (which no one may join to a set meanwhile).
pub(crate) fn wait_for_pending_event<T>(store: &mut StoreInner<T>, instance: InstanceKey, w: WaitableId) -> Result<()> {
    store.opaque_mut().concurrent.waitables[w].has_sync_waiter = true;
    let waited = block(store, instance, Wait::WaitableEvent(w), false);
    store.opaque_mut().concurrent.waitables[w].has_sync_waiter = false;
    waited.map(|_| ())
}
