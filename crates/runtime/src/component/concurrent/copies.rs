//! Futures and streams: their shared state, their two ends (waitables in handle tables), and
//! the built-ins that create, read, write, cancel and drop them, as the spec's
//! `SharedStreamImpl`, `SharedFutureImpl`, `CopyEnd`, `stream_copy`, `future_copy`,
//! `cancel_copy` and `drop` define them.
//!
//! A copy moves elements straight from the writer's memory to the reader's when both sides
//! are guests: bytes for numeric payloads (one copy), values otherwise (lifted from one side,
//! lowered into the other).

use super::host_poll::poll_host_end;
use super::scheduler::check_may_block;
use super::state::{
    Buffer, ConcurrentState, CopyEnd, CopyState, InstanceKey, PendingEvent, Shared, WaitableId, copy_result, end,
    end_mut,
};
use super::waitables::{
    builtin_options, check_sync_use, checked_end, deliver_event, join, new_end, wait_for_pending_event,
};
use crate::ValRaw;
use crate::component::canonical::{self, MemoryBounds, Pointee};
use crate::component::store_memory::guest_memory;
use crate::component::values::Val;
use crate::store::StoreInner;
use crate::trap::trap_with;
use anyhow::{Result, bail};
use std::task::Context;
use weld_environ::Trap;
use weld_environ::component::adapt::CallSide;
use weld_environ::component::info::{AsyncBuiltin, AsyncBuiltinOp as Op};
use weld_environ::component::{InterfaceType, MemoryWidth};

/// What a blocked copy returns at once (the spec's `BLOCKED`).
const BLOCKED: u32 = 0xffff_ffff;

/// The most elements one stream copy may name (the spec's `Buffer.MAX_LENGTH`).
const MAX_BUFFER_LENGTH: u32 = (1 << 28) - 1;

/// Runs future or stream built-in `b` of `instance` with its core arguments in `slots`.
pub(crate) fn run<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    b: &AsyncBuiltin,
    slots: &mut [ValRaw],
) -> Result<()> {
    let Some(ty) = b.value_ty.clone() else { bail!("bug: `{}` has no type", b.op.name()) };
    let arg = |i: usize| slots[i].get_u32();
    match b.op {
        Op::FutureNew | Op::StreamNew => {
            let c = &mut store.opaque_mut().concurrent;
            let shared = c.shared.insert(Shared { origin: Some(instance.0), ..Shared::new(ty.clone()) });
            let r = new_end(store, instance, shared, true, ty.clone())?;
            let w = new_end(store, instance, shared, false, ty)?;
            slots[0] = ValRaw::u64(u64::from(r) | (u64::from(w) << 32));
        }
        Op::FutureRead | Op::FutureWrite | Op::StreamRead | Op::StreamWrite => {
            if !builtin_options(b)?.async_ {
                check_may_block(store.opaque(), instance)?;
            }
            let readable = matches!(b.op, Op::FutureRead | Op::StreamRead);
            let length = if matches!(b.op, Op::StreamRead | Op::StreamWrite) { arg(2) } else { 1 };
            slots[0] = ValRaw::u32(copy(store, instance, b, &ty, readable, arg(0), u64::from(arg(1)), length)?);
        }
        Op::FutureCancelRead { async_ }
        | Op::FutureCancelWrite { async_ }
        | Op::StreamCancelRead { async_ }
        | Op::StreamCancelWrite { async_ } => {
            if !async_ {
                check_may_block(store.opaque(), instance)?;
            }
            let readable = matches!(b.op, Op::FutureCancelRead { .. } | Op::StreamCancelRead { .. });
            slots[0] = ValRaw::u32(cancel_copy(store, instance, &ty, readable, async_, arg(0))?);
        }
        Op::FutureDropReadable | Op::StreamDropReadable => drop_end(store, instance, &ty, true, arg(0))?,
        Op::FutureDropWritable | Op::StreamDropWritable => drop_end(store, instance, &ty, false, arg(0))?,
        other => bail!("bug: `{}` is not a future or stream built-in", other.name()),
    }
    Ok(())
}

/// The spec's `stream_copy` and `future_copy`.
#[allow(clippy::too_many_arguments)]
fn copy<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    b: &AsyncBuiltin,
    ty: &InterfaceType,
    readable: bool,
    index: u32,
    ptr: u64,
    length: u32,
) -> Result<u32> {
    let options = builtin_options(b)?.clone();
    let w = checked_end(store, instance, ty, readable, index)?;
    let c = &store.opaque().concurrent;
    let e = end(c, w);
    let future = c.shared[e.shared].is_future();
    if e.state != CopyState::Idle {
        return Err(trap_with(Trap::AsyncMisuse, not_idle_message(future, readable, e.state)));
    }
    check_sync_use(c, w, options.async_)?;
    if length > MAX_BUFFER_LENGTH {
        return Err(trap_with(Trap::ListOutOfBounds, format!("a stream copy of {length} elements is too long")));
    }
    let shared = e.shared;
    if let Some(payload) = e.payload().cloned()
        && length > 0
    {
        let width = MemoryWidth::from_memory64(options.memory64);
        let abi = payload.abi();
        let (mem, _) = guest_memory(store, instance.0, &options, CallSide::Caller);
        canonical::check_align(None, Pointee::Value, ptr, abi.align(width))?;
        let bytes = u64::from(length) * u64::from(abi.size(width));
        canonical::check_bounds(MemoryBounds::of(&mem), Pointee::Value, ptr, bytes)?;
    }
    let c = &mut store.opaque_mut().concurrent;
    let e = end_mut(c, w);
    e.state = CopyState::Copying;
    e.buffer = Some(Buffer { instance, options: options.clone(), ptr, length, progress: 0 });
    shared_copy(store, shared, w, readable)?;
    try_host_end(store, shared)?;
    finish_or_block(store, instance, w, options.async_)
}

/// When the other end of `shared` is the host's, polls it once now: a producer that has
/// elements, or a consumer with room, completes the guest's copy before the copy returns,
/// as a guest on the other end would. (Otherwise an `async` copy would always block, and its
/// caller could only see the host's elements after a turn of the event loop; a guest that
/// polls a read once and cancels it when it blocks would never get any.) The poll's waker is
/// the loop's; the loop polls a host end that stayed pending again, with its own waker,
/// before it waits.
fn try_host_end<T>(store: &mut StoreInner<T>, shared: usize) -> Result<()> {
    if store.opaque().concurrent.shared.get(shared).is_none_or(|s| s.host_end.is_none()) {
        return Ok(());
    }
    let waker = store.host_work.thread_waker();
    poll_host_end(store, shared, &mut Context::from_waker(&waker))?;
    Ok(())
}

/// The message of a copy started on an end that is not idle.
fn not_idle_message(future: bool, readable: bool, state: CopyState) -> String {
    match (state, future, readable) {
        (CopyState::Done, true, true) => "cannot read from future after previous read succeeded".into(),
        (CopyState::Done, true, false) => {
            "cannot write to future after previous write succeeded or readable end dropped".into()
        }
        (CopyState::Done, false, true) => {
            "cannot read from stream after being notified that the writable end dropped".into()
        }
        (CopyState::Done, false, false) => {
            "cannot write to stream after being notified that the readable end dropped".into()
        }
        _ => "cannot have concurrent operations active on a future/stream".into(),
    }
}

/// After a copy or a cancellation: the event's payload if it is there, else blocks (a
/// synchronous copy) or returns `BLOCKED`.
fn finish_or_block<T>(store: &mut StoreInner<T>, instance: InstanceKey, w: WaitableId, async_: bool) -> Result<u32> {
    if store.opaque().concurrent.waitables[w].pending.is_none() {
        if async_ {
            return Ok(BLOCKED);
        }
        wait_for_pending_event(store, instance, w)?;
    }
    Ok(deliver_event(store, w).2)
}

/// Sets the pending event of end `w`: its copy finished with `result` (`reclaim`: and the
/// shared state's pending buffer, its own, is released when the event is delivered).
fn notify(c: &mut ConcurrentState, w: WaitableId, result: u32, reclaim: bool) {
    c.waitables[w].pending = Some(PendingEvent::Copy { result, reclaim });
}

/// The spec's `reset_and_notify_pending`.
fn reset_and_notify_pending(c: &mut ConcurrentState, shared: usize, result: u32) {
    if let Some(p) = c.shared[shared].pending.take() {
        notify(c, p, result, false);
    }
}

/// Whether a copy between the two ends' instances is one the spec forbids for now: both in
/// the same instance with a payload that is not a number.
fn same_instance_trap(c: &ConcurrentState, shared: usize, a: WaitableId, b: WaitableId) -> Result<()> {
    let numeric = c.shared[shared].payload().is_none_or(is_number);
    let inst = |w: WaitableId| end(c, w).buffer.as_ref().map(|b| b.instance);
    if !numeric && inst(a) == inst(b) {
        let what = if c.shared[shared].is_future() { "future" } else { "stream" };
        return Err(trap_with(Trap::AsyncMisuse, format!("cannot read from and write to intra-component {what}")));
    }
    Ok(())
}

/// A copy by end `this` (its buffer set) of `shared`: a read if `reading`, else a write (the
/// spec's `read` and `write` of `SharedStreamImpl` and `SharedFutureImpl`, which mirror each
/// other).
fn shared_copy<T>(store: &mut StoreInner<T>, shared: usize, this: WaitableId, reading: bool) -> Result<()> {
    let c = &mut store.opaque_mut().concurrent;
    if c.shared[shared].dropped {
        notify(c, this, copy_result::DROPPED, false);
        return Ok(());
    }
    let Some(other) = c.shared[shared].pending else {
        c.shared[shared].pending = Some(this);
        return Ok(());
    };
    same_instance_trap(c, shared, this, other)?;
    let (writer, reader) = if reading { (other, this) } else { (this, other) };
    if c.shared[shared].is_future() {
        transfer(store, writer, reader, 1)?;
        let c = &mut store.opaque_mut().concurrent;
        reset_and_notify_pending(c, shared, copy_result::COMPLETED);
        notify(c, this, copy_result::COMPLETED, false);
        return Ok(());
    }
    let buffer = |w| end(c, w).buffer.as_ref().map_or((0, 0), |b| (b.remain(), b.length));
    let ((mine, mine_len), (theirs, theirs_len)) = (buffer(this), buffer(other));
    if theirs > 0 {
        if mine > 0 {
            transfer(store, writer, reader, mine.min(theirs))?;
            notify(&mut store.opaque_mut().concurrent, other, copy_result::COMPLETED, true);
        }
        notify(&mut store.opaque_mut().concurrent, this, copy_result::COMPLETED, false);
    } else if !reading && mine_len == 0 && theirs_len == 0 {
        // Two zero-length copies meet: the writer's completes, the reader stays pending.
        notify(c, this, copy_result::COMPLETED, false);
    } else {
        reset_and_notify_pending(c, shared, copy_result::COMPLETED);
        c.shared[shared].pending = Some(this);
    }
    Ok(())
}

/// Whether `ty` is a number type (the spec's `none_or_number_type` without `none`): its values
/// are the same bytes in any memory.
fn is_number(ty: &InterfaceType) -> bool {
    use InterfaceType as T;
    matches!(ty, T::U8 | T::U16 | T::U32 | T::U64 | T::S8 | T::S16 | T::S32 | T::S64 | T::F32 | T::F64)
}

/// Moves `n` elements from the buffer of end `src` to the buffer of end `dst`, each end's
/// elements of the type its own component names (the same up to resource ids).
fn transfer<T>(store: &mut StoreInner<T>, src: WaitableId, dst: WaitableId, n: u32) -> Result<()> {
    let c = &store.opaque().concurrent;
    let (payload, to_payload) = (end(c, src).payload().cloned(), end(c, dst).payload().cloned());
    let (Some(from), Some(to)) = (end(c, src).buffer.clone(), end(c, dst).buffer.clone()) else {
        bail!("bug: a copy between ends without buffers");
    };
    if let (Some(payload), Some(to_payload)) = (&payload, &to_payload) {
        let from_width = MemoryWidth::from_memory64(from.options.memory64);
        let to_width = MemoryWidth::from_memory64(to.options.memory64);
        let (from_size, to_size) = (payload.abi().size(from_width), payload.abi().size(to_width));
        if is_number(payload) {
            // Numbers have the same bytes in both memories: one copy.
            copy_bytes(store, &from, &to, n as usize * from_size as usize)?;
        } else {
            let vals = {
                let (mut mem, opts) = guest_memory(store, from.instance.0, &from.options, CallSide::Caller);
                (0..u64::from(n))
                    .map(|i| canonical::load(&mut mem, &opts, payload, from.ptr + i * u64::from(from_size)))
                    .collect::<Result<Vec<Val>>>()?
            };
            let (mut mem, opts) = guest_memory(store, to.instance.0, &to.options, CallSide::Callee);
            for (i, v) in vals.iter().enumerate() {
                canonical::store(&mut mem, &opts, v, to_payload, to.ptr + i as u64 * u64::from(to_size))?;
            }
        }
        let c = &mut store.opaque_mut().concurrent;
        advance(end_mut(c, src), n, from_size);
        advance(end_mut(c, dst), n, to_size);
    } else {
        let c = &mut store.opaque_mut().concurrent;
        advance(end_mut(c, src), n, 0);
        advance(end_mut(c, dst), n, 0);
    }
    Ok(())
}

/// Copies `len` bytes from the buffer `from` to the buffer `to`, straight from one memory
/// to the other (or within one). Both were checked against their memory's bounds when their
/// copies started, and memories do not shrink.
fn copy_bytes<T>(store: &mut StoreInner<T>, from: &Buffer, to: &Buffer, len: usize) -> Result<()> {
    let memory_of = |b: &Buffer| {
        let state = store.opaque().component_instance(b.instance.0);
        b.options.memory.map(|m| state.memories[m].index)
    };
    let (Some(a), Some(b)) = (memory_of(from), memory_of(to)) else {
        bail!("bug: a stream copy of numbers without a memory");
    };
    let (src, dst) = (usize::try_from(from.ptr)?, usize::try_from(to.ptr)?);
    let s = store.opaque_mut();
    if a == b {
        s.memory_mut(a).data_mut().copy_within(src..src + len, dst);
    } else {
        let (ma, mb) = s.two_memories_mut(a, b);
        mb.data_mut()[dst..dst + len].copy_from_slice(&ma.data()[src..src + len]);
    }
    Ok(())
}

fn advance(e: &mut CopyEnd, n: u32, size: u32) {
    if let Some(b) = &mut e.buffer {
        b.progress += n;
        b.ptr += u64::from(n) * u64::from(size);
    }
}

/// The spec's `cancel_copy`.
fn cancel_copy<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    ty: &InterfaceType,
    readable: bool,
    async_: bool,
    index: u32,
) -> Result<u32> {
    let w = checked_end(store, instance, ty, readable, index)?;
    let c = &mut store.opaque_mut().concurrent;
    if end(c, w).state != CopyState::Copying || c.waitables[w].has_sync_waiter {
        return Err(trap_with(Trap::AsyncMisuse, "cancelling a copy that is not in progress".into()));
    }
    // A synchronous cancellation of an end in a set traps, as the spec says; with the
    // engine's `component_model_async_sync_cancel_in_set`, only if it would have to wait.
    let lenient = store.opaque().engine().config().sync_cancel_in_waitable_set;
    let c = &mut store.opaque_mut().concurrent;
    if !lenient {
        check_sync_use(c, w, async_)?;
    }
    end_mut(c, w).state = CopyState::CancellingCopy;
    let shared = end(c, w).shared;
    match c.waitables[w].pending {
        None => reset_and_notify_pending(c, shared, copy_result::CANCELLED),
        // A stream copy that moved some elements and is cancelled before its event was
        // delivered reports the cancellation, with what it moved (the spec would report the
        // completion; the test suite expects this).
        Some(PendingEvent::Copy { result: copy_result::COMPLETED, reclaim }) if !c.shared[shared].is_future() => {
            c.waitables[w].pending = Some(PendingEvent::Copy { result: copy_result::CANCELLED, reclaim });
        }
        Some(_) => {}
    }
    if lenient && c.waitables[w].pending.is_none() {
        check_sync_use(c, w, async_)?;
    }
    finish_or_block(store, instance, w, async_)
}

/// The spec's `drop` of an end of a future or stream.
fn drop_end<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    ty: &InterfaceType,
    readable: bool,
    index: u32,
) -> Result<()> {
    let w = checked_end(store, instance, ty, readable, index)?;
    store.opaque_mut().component_instance_mut(instance.0).handles[instance.1].remove_slot(index)?;
    let c = &mut store.opaque_mut().concurrent;
    let e = end(c, w);
    let shared = e.shared;
    let future = c.shared[shared].is_future();
    if e.copying() {
        // The test suite's wording: a busy readable end cannot be "removed", a busy writable
        // one cannot be "dropped".
        let what = if future { "future" } else { "stream" };
        let verb = if readable { "remove" } else { "drop" };
        return Err(trap_with(Trap::AsyncMisuse, format!("cannot {verb} busy {what}")));
    }
    if future && !readable && e.state != CopyState::Done {
        return Err(trap_with(Trap::AsyncMisuse, "cannot drop future write end without first writing a value".into()));
    }
    if !c.shared[shared].dropped {
        c.shared[shared].dropped = true;
        if c.shared[shared].pending.is_some() {
            reset_and_notify_pending(c, shared, copy_result::DROPPED);
        }
    }
    join(c, w, None);
    c.waitables.remove(w);
    c.shared[shared].live_ends -= 1;
    if c.shared[shared].host_end.take().is_some() {
        // The host's end goes with the guest's: its driver learns of the drop by being
        // dropped.
        let c = &mut store.opaque.concurrent;
        c.shared[shared].live_ends -= 1;
        store.host_work.ends.remove(&shared);
    }
    let c = &mut store.opaque.concurrent;
    if c.shared[shared].live_ends == 0 {
        c.shared.remove(shared);
    }
    Ok(())
}
