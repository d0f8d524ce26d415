//! Polling the host's side of the event loop (`host_work.rs`): every host task and every
//! host end with a pending guest copy, when no guest thread is ready ([`poll_host`]), and
//! one host end when a guest's copy starts on it ([`poll_host_end`], from `copies.rs`); and
//! the store that a host future may reach while it is polled (the
//! [`Accessor`](crate::component::Accessor) of host functions).
//!
//! Every poll polls all host work: simple, and cheap while a store has a few host futures
//! at a time, as WASI programs do. Waking only the futures whose wakers fired would need a
//! waker per future; that can come when a workload shows the need.

use super::host_work::{EndBuffer, EndOutcome, HostTaskId};
use super::state::{PendingEvent, copy_result};
use crate::store::StoreInner;
use anyhow::Result;
use std::cell::Cell;
use std::task::{Context, Poll};

thread_local! {
    /// The store that the host future being polled on this thread may reach. Its data type
    /// is that of the linker that defined the host function the future came from (and of an
    /// [`Accessor`](crate::component::Accessor) that reaches it), since only that store's
    /// loop polls the future.
    static CURRENT_STORE: Cell<Option<*mut u8>> = const { Cell::new(None) };
}

/// Runs `f` (which polls a host future, and must not use the store otherwise) with
/// `store` reachable through [`with_current_store`].
pub(crate) fn with_store_reachable<T, R>(store: &mut StoreInner<T>, f: impl FnOnce() -> R) -> R {
    let ptr = (store as *mut StoreInner<T>).cast::<u8>();
    let previous = CURRENT_STORE.replace(Some(ptr));
    struct Restore(Option<*mut u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT_STORE.set(self.0);
        }
    }
    let _restore = Restore(previous);
    f()
}

/// Calls `f` with the store of the host future being polled, if any. `T` must be the data
/// type of that store: callers reach here through an `Accessor<T>`, which only host
/// functions of a `Linker<T>` receive. The store is not reachable again from inside `f`.
pub(crate) fn with_current_store<T, R>(f: impl FnOnce(&mut StoreInner<T>) -> R) -> Option<R> {
    let ptr = CURRENT_STORE.get()?;
    CURRENT_STORE.set(None);
    struct Restore(*mut u8);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT_STORE.set(Some(self.0));
        }
    }
    let _restore = Restore(ptr);
    // SAFETY: `with_store_reachable` set the pointer from a `&mut StoreInner<T>` (of this `T`,
    // as said above) that its caller lent for the poll it wraps and does not use until that
    // poll returns; the pointer is unset while this reference lives, so no second one is made.
    Some(f(unsafe { &mut *ptr.cast::<StoreInner<T>>() }))
}

/// What one poll of the host work found.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HostPoll {
    /// Some host work finished or moved elements.
    pub(crate) progress: bool,
    /// Some host work is still under way, and its waker will say when it can go on.
    pub(crate) pending: bool,
}

/// Polls every host task and every host end with a pending guest copy once, applying what
/// the finished ones leave to do.
pub(crate) fn poll_host<T>(store: &mut StoreInner<T>, cx: &mut Context<'_>) -> Result<HostPoll> {
    let mut progress = false;
    let mut pending = false;
    let ids: Vec<HostTaskId> = store.host_work.tasks.iter().map(|(id, _)| id).collect();
    for id in ids {
        let Some(mut task) = store.host_work.tasks.get_mut(id).and_then(Option::take) else { continue };
        match with_store_reachable(store, || task.as_mut().poll(cx)) {
            Poll::Pending => {
                // Put it back, unless it was cancelled while it was polled (code it called
                // into may have dropped its subtask).
                if let Some(slot @ None) = store.host_work.tasks.get_mut(id) {
                    *slot = Some(task);
                    pending = true;
                }
            }
            Poll::Ready(done) => {
                progress = true;
                // A task cancelled while it was polled is not finished: its subtask is.
                if let Some(None) = store.host_work.tasks.get(id) {
                    store.host_work.tasks.remove(id);
                    done?(store)?;
                }
            }
        }
    }
    let shared_ids: Vec<usize> = store.host_work.ends.keys().copied().collect();
    for shared in shared_ids {
        match poll_host_end(store, shared, cx)? {
            EndPoll::Idle => {}
            EndPoll::Pending => pending = true,
            EndPoll::Progress => progress = true,
        }
    }
    Ok(HostPoll { progress, pending })
}

/// What one poll of a host end found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndPoll {
    /// No guest copy waits on it (or its event is out already): it was not polled.
    Idle,
    /// It is under way; its waker will say when it can go on.
    Pending,
    /// It moved elements, or dropped its end: the guest end has its event.
    Progress,
}

/// Polls the host's end of `shared` once, if a guest copy waits on it and that copy's event
/// is not out yet, giving the guest end its event if the host end finished.
pub(crate) fn poll_host_end<T>(store: &mut StoreInner<T>, shared: usize, cx: &mut Context<'_>) -> Result<EndPoll> {
    let c = &store.opaque().concurrent;
    let Some(guest) = c.shared.get(shared).and_then(|s| s.pending) else { return Ok(EndPoll::Idle) };
    if c.waitables[guest].pending.is_some() {
        return Ok(EndPoll::Idle);
    }
    let Some(mut driver) = store.host_work.ends.get_mut(&shared).and_then(Option::take) else {
        return Ok(EndPoll::Idle);
    };
    match driver.poll(cx, store, shared, EndBuffer::Guest(guest)) {
        Poll::Pending => {
            if let Some(slot @ None) = store.host_work.ends.get_mut(&shared) {
                *slot = Some(driver);
                return Ok(EndPoll::Pending);
            }
            Ok(EndPoll::Idle)
        }
        Poll::Ready(outcome) => {
            match outcome? {
                EndOutcome::Completed => {
                    if let Some(slot @ None) = store.host_work.ends.get_mut(&shared) {
                        *slot = Some(driver);
                    }
                    // (The guest end may have gone while the driver ran.)
                    if let Some(w) = store.opaque_mut().concurrent.waitables.get_mut(guest) {
                        w.pending = Some(PendingEvent::Copy { result: copy_result::COMPLETED, reclaim: true });
                    }
                }
                EndOutcome::Dropped => {
                    drop(driver);
                    host_end_dropped(store, shared);
                }
            }
            Ok(EndPoll::Progress)
        }
    }
}

/// The host dropped its end of `shared`: the guest end's pending copy (if any) learns it,
/// and the shared state goes once neither end is left.
pub(crate) fn host_end_dropped<T>(store: &mut StoreInner<T>, shared: usize) {
    store.host_work.ends.remove(&shared);
    let c = &mut store.opaque_mut().concurrent;
    let Some(s) = c.shared.get_mut(shared) else { return };
    s.dropped = true;
    s.host_end = None;
    if let Some(p) = s.pending.take() {
        // A copy that the host end already completed keeps its result (the next one learns
        // of the drop); one still pending ends `DROPPED`, with what it moved (a producer
        // that writes its last elements and ends the stream in one turn, say).
        let w = &mut c.waitables[p];
        if w.pending.is_none() {
            w.pending = Some(PendingEvent::Copy { result: copy_result::DROPPED, reclaim: false });
        }
    }
    let s = &mut c.shared[shared];
    s.live_ends -= 1;
    if s.live_ends == 0 {
        c.shared.remove(shared);
    }
}
