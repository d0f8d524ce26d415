//! The data of the host's side of the event loop ([`HostWork`], which the store holds):
//! futures of host functions called concurrently and of host tasks, and the drivers of the
//! host's ends of streams and futures; and the waker that tells a blocked loop to look
//! again ([`LoopWaker`]). Polling them is `host_poll.rs`.
//!
//! A host end is not a waitable: it has no handle and no event. The guest end's copy stays
//! pending in the shared state until the host end's driver moves elements (or reports that
//! the host dropped its end); the loop then gives the guest end its event. When the host
//! holds both ends, a driver moves elements through a [`HostBuffer`] instead
//! (`host_pipe.rs`).

use super::state::WaitableId;
use crate::component::values::Val;
use anyhow::Result;
use slab::Slab;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// What a host future leaves to do with the store `S` (a `StoreInner<T>`) once it resolves
/// (lower a result into its caller, write a future's value).
pub(crate) type Completion<S> = Box<dyn FnOnce(&mut S) -> Result<()>>;

/// A host future the loop polls.
pub(crate) type HostTask<S> = Pin<Box<dyn Future<Output = Result<Completion<S>>>>>;

/// A host task's number in [`HostWork::tasks`].
pub(crate) type HostTaskId = usize;

/// What the driver of a host end reports when it is done with the guest's copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndOutcome {
    /// It moved what it could (maybe nothing, for a zero-length copy); the host end stays.
    Completed,
    /// The host dropped its end (after moving what it moved).
    Dropped,
}

/// Where a host end's driver moves elements to or from.
pub(crate) enum EndBuffer<'a> {
    /// The buffer of this guest end, whose copy is pending.
    Guest(WaitableId),
    /// A buffer between the host's two ends of one future or stream.
    Host(&'a mut HostBuffer),
}

/// Elements on their way from the host's writable end of a future or stream to its readable
/// end, when the host holds both: bytes for a `stream<u8>`, values otherwise.
pub(crate) struct HostBuffer {
    pub(crate) items: HostItems,
    /// How many elements it holds at most.
    pub(crate) room: usize,
}

/// The elements of a [`HostBuffer`].
pub(crate) enum HostItems {
    Bytes(Vec<u8>),
    Vals(Vec<Val>),
}

impl HostBuffer {
    /// An empty buffer of at most `room` elements, of bytes if `bytes`.
    pub(crate) fn new(bytes: bool, room: usize) -> HostBuffer {
        let items = if bytes { HostItems::Bytes(Vec::new()) } else { HostItems::Vals(Vec::new()) };
        HostBuffer { items, room }
    }

    /// How many elements it holds.
    pub(crate) fn len(&self) -> usize {
        match &self.items {
            HostItems::Bytes(b) => b.len(),
            HostItems::Vals(v) => v.len(),
        }
    }

    /// How many more it has room for.
    pub(crate) fn free(&self) -> usize {
        self.room.saturating_sub(self.len())
    }
}

/// The host's end of a future or stream: a consumer of what a guest writes or a producer of
/// what a guest reads, over the guest end's buffer (or a [`HostBuffer`]).
pub(crate) trait HostEndDriver<S> {
    /// Moves elements between the host and `at`: the buffer of the guest end of `shared`
    /// whose copy is pending, or a host buffer.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        store: &mut S,
        shared: usize,
        at: EndBuffer<'_>,
    ) -> Poll<Result<EndOutcome>>;
}

/// The host work of a store `S` (a `StoreInner<T>`: named by a parameter so that this data
/// does not name the store that holds it).
pub(crate) struct HostWork<S> {
    /// Host futures, each taken out while it is polled.
    pub(crate) tasks: Slab<Option<HostTask<S>>>,
    /// The drivers of host ends, by the shared state of their future or stream; taken out
    /// while polled.
    pub(crate) ends: HashMap<usize, Option<Box<dyn HostEndDriver<S>>>>,
    /// Wakes a loop blocked in [`park`](Self::park).
    pub(crate) waker: Arc<LoopWaker>,
}

impl<S> Default for HostWork<S> {
    fn default() -> Self {
        HostWork { tasks: Slab::new(), ends: HashMap::new(), waker: Arc::new(LoopWaker::default()) }
    }
}

impl<S> HostWork<S> {
    /// A waker that unblocks [`park`](Self::park).
    pub(crate) fn thread_waker(&self) -> Waker {
        Waker::from(self.waker.clone())
    }

    /// Blocks this thread until the loop's waker is woken (at once if it was, since the
    /// last park).
    pub(crate) fn park(&self) {
        self.waker.wait();
    }
}

/// The waker of a loop that blocks its thread: wakes it by unparking it.
#[derive(Default)]
pub(crate) struct LoopWaker {
    woken: AtomicBool,
    thread: Mutex<Option<std::thread::Thread>>,
}

impl LoopWaker {
    fn wait(&self) {
        *self.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::thread::current());
        while !self.woken.swap(false, Ordering::AcqRel) {
            std::thread::park();
        }
    }
}

impl Wake for LoopWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        if let Some(t) = &*self.thread.lock().unwrap_or_else(|e| e.into_inner()) {
            t.unpark();
        }
    }
}
