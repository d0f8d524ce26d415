//! The data of component-model async that the store keeps ([`ConcurrentState`]): tasks,
//! threads, waitables (subtasks and the ends of futures and streams), waitable sets, the
//! shared state of futures and streams, and error contexts, each addressed by its number.
//!
//! Plain data with the few accessors that keep its invariants in one place: no behaviour,
//! so that the store can own it without depending on the code that schedules tasks.

use crate::component::state::SharedGlobal;
use crate::component::values::Val;
use crate::handles::{ComponentInstanceId, Func};
use crate::vm::fiber::{Fiber, FiberStack};
use slab::Slab;
use weld_environ::component::info::{AsyncCallIndex, CONTEXT_SLOTS, Options, RuntimeComponentInstanceIndex};
use weld_environ::component::{FuncType, InterfaceType};

/// A component instance inside a root component instance: whose handle table, backpressure
/// and exclusive thread a task uses.
pub(crate) type InstanceKey = (ComponentInstanceId, RuntimeComponentInstanceIndex);

/// A task's number in [`ConcurrentState::tasks`].
pub(crate) type TaskId = usize;
/// A thread's number in [`ConcurrentState::threads`].
pub(crate) type ThreadId = usize;
/// A waitable's number in [`ConcurrentState::waitables`].
pub(crate) type WaitableId = usize;
/// A waitable set's number in [`ConcurrentState::sets`].
pub(crate) type SetId = usize;

/// The store's component-model async state.
#[derive(Default)]
pub(crate) struct ConcurrentState {
    pub(crate) tasks: Slab<Task>,
    pub(crate) threads: Slab<Thread>,
    pub(crate) waitables: Slab<Waitable>,
    pub(crate) sets: Slab<WaitableSet>,
    pub(crate) shared: Slab<Shared>,
    pub(crate) error_contexts: Slab<ErrorContext>,
    /// Threads waiting for something (the spec's `Store.waiting`), oldest first.
    pub(crate) waiting: Vec<ThreadId>,
    /// The thread running now, if the code running is a thread's own (not a synchronous
    /// call made on its stack into another instance).
    pub(crate) current: Option<ThreadId>,
    /// Fiber stacks of finished threads, for the next ones.
    pub(crate) stacks: Vec<FiberStack>,
    /// The thread that the thread suspending now asked to run in its place
    /// (`thread.*-then-resume`), resumed by whoever resumed the suspending one.
    pub(crate) switch_to: Option<ThreadId>,
    /// The per-instance state of async (exclusive thread, threads table), by instance.
    pub(crate) instances: std::collections::HashMap<InstanceKey, InstanceTasks>,
}

/// What an instance keeps of async besides its handle table and backpressure counter.
#[derive(Default)]
pub(crate) struct InstanceTasks {
    /// The thread that holds the instance exclusively (a callback-mode or synchronous task
    /// running), if any.
    pub(crate) exclusive: Option<ThreadId>,
    /// Tasks waiting to start because of backpressure.
    pub(crate) waiting_to_enter: u32,
    /// The instance's threads table (`thread.index`): index 0 unused.
    pub(crate) threads: Vec<Option<ThreadId>>,
    /// Free indices of `threads`, last freed first.
    pub(crate) free_threads: Vec<u32>,
    /// The implicit thread of the synchronous call in progress in the instance, if the
    /// instance uses thread built-ins (only such calls get one: `EnterSyncTask`). At most
    /// one: the instance may not be entered again until that call returns.
    pub(crate) sync_thread: Option<ThreadId>,
}

/// The spec's `Task.State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskState {
    Initial,
    Started,
    PendingCancel,
    CancelDelivered,
    Resolved,
}

/// What a task runs: the lifted function.
#[derive(Clone)]
pub(crate) struct TaskFunc {
    pub(crate) ty: FuncType,
    pub(crate) options: Options,
    pub(crate) core: Func,
    pub(crate) callback: Option<Func>,
    pub(crate) post_return: Option<Func>,
}

/// Who called a task, and so where its arguments come from and its result goes.
pub(crate) enum Caller {
    /// The host: the arguments are given, and the result is kept here until taken.
    Host { params: Option<Vec<Val>>, result: Option<Option<Val>> },
    /// A component, through an async call: the subtask it holds.
    Guest { subtask: WaitableId },
    /// Whoever made a synchronous call on its own stack (the host or a fused adapter),
    /// which lifts and lowers the values itself: the task only keeps the call's threads.
    Sync,
}

/// A call into a component (the spec's `Task`).
pub(crate) struct Task {
    pub(crate) instance: InstanceKey,
    /// What it runs; `None` for the task of a synchronous call ([`Caller::Sync`]), which
    /// runs on its caller's stack.
    pub(crate) func: Option<TaskFunc>,
    pub(crate) state: TaskState,
    pub(crate) caller: Caller,
    pub(crate) implicit_thread: Option<ThreadId>,
    pub(crate) threads: Vec<ThreadId>,
    pub(crate) num_borrows: u32,
}

impl Task {
    /// The spec's `needs_exclusive`: a synchronous or callback-mode task holds its instance.
    pub(crate) fn needs_exclusive(&self) -> bool {
        self.func.as_ref().is_some_and(|f| !f.options.async_ || f.options.callback.is_some())
    }

    /// Whether its function type is `async`.
    pub(crate) fn async_type(&self) -> bool {
        self.func.as_ref().is_some_and(|f| f.ty.async_)
    }

    /// Whether its function is lifted `async`.
    pub(crate) fn async_lift(&self) -> bool {
        self.func.as_ref().is_some_and(|f| f.options.async_)
    }
}

/// Where a thread's code runs.
pub(crate) enum ThreadStack {
    /// On a fiber of its own, held here while the thread is not running (its resumer holds
    /// it otherwise).
    Fiber(Option<Fiber>),
    /// On the stack of the synchronous call whose implicit thread it is. `blocked` while it
    /// waits or is suspended, in its call's loop (`scheduler::block_native`); resuming it
    /// unblocks it, and that loop, further down the stack, lets it go on.
    Native { blocked: bool },
}

/// What a waiting thread waits for (the spec's `ready_func`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Nothing: ready at once (`yield`, `resume-later`).
    Nothing,
    /// The instance not to be held exclusively (a callback-mode task's `YIELD`).
    NotExclusive(InstanceKey),
    /// An event in the set, and (for a callback-mode task) the instance not held
    /// exclusively.
    Event { set: SetId, exclusive: Option<InstanceKey> },
    /// An event on this waitable (a synchronous wait on one waitable).
    WaitableEvent(WaitableId),
    /// The subtask to resolve (a synchronous lower of an async callee).
    Resolved(WaitableId),
    /// The instance to have no backpressure (a task waiting to start).
    NoBackpressure { instance: InstanceKey, exclusive: bool },
}

/// A spec thread.
pub(crate) struct Thread {
    pub(crate) task: TaskId,
    /// Its fiber, or the synchronous call's stack it runs on.
    pub(crate) stack: ThreadStack,
    /// What it waits for, while it waits (it is then in `ConcurrentState::waiting`).
    pub(crate) wait: Option<Wait>,
    /// Its context (`context.get`/`context.set`) while it is not running.
    pub(crate) context: [i64; CONTEXT_SLOTS],
    /// Its index in its instance's threads table.
    pub(crate) index: Option<u32>,
    /// Whether it may be woken by cancellation where it waits.
    pub(crate) cancellable: bool,
    /// Set when it is resumed because its task was cancelled.
    pub(crate) cancelled: bool,
    /// How it ended, once its fiber finished: a trap or host error to report.
    pub(crate) outcome: Option<anyhow::Result<()>>,
    /// For a thread made by `thread.new-indirect`: the core function it runs and its
    /// argument (a task's implicit thread runs the task's `canon_lift` instead).
    pub(crate) start: Option<(Func, u32)>,
}

impl Thread {
    /// A new thread of `task` on `stack`, not waiting, with no index yet.
    pub(crate) fn new(task: TaskId, stack: ThreadStack) -> Thread {
        Thread {
            task,
            stack,
            wait: None,
            context: Default::default(),
            index: None,
            cancellable: false,
            cancelled: false,
            outcome: None,
            start: None,
        }
    }

    /// Whether it is running (neither suspended nor waiting).
    pub(crate) fn running(&self) -> bool {
        match &self.stack {
            ThreadStack::Fiber(f) => f.is_none(),
            ThreadStack::Native { blocked } => !blocked,
        }
    }

    /// Whether it runs on a synchronous call's stack.
    pub(crate) fn native(&self) -> bool {
        matches!(self.stack, ThreadStack::Native { .. })
    }
}

/// The thread whose code runs now in `instance`: the current thread if it is one of the
/// instance's, otherwise the implicit thread of the synchronous call in progress there (if
/// the instance uses threads). `None`: a synchronous call into an instance that does not.
pub(crate) fn current_thread_of(c: &ConcurrentState, instance: InstanceKey) -> Option<ThreadId> {
    c.current
        .filter(|t| c.tasks[c.threads[*t].task].instance == instance)
        .or_else(|| c.instances.get(&instance).and_then(|i| i.sync_thread))
}

/// The spec's `Subtask.State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum SubtaskState {
    Starting = 0,
    Started = 1,
    Returned = 2,
    CancelledBeforeStarted = 3,
    CancelledBeforeReturned = 4,
}

impl SubtaskState {
    pub(crate) fn resolved(self) -> bool {
        !matches!(self, SubtaskState::Starting | SubtaskState::Started)
    }
}

/// A call a component made through an [`AsyncCall`](weld_environ::component::info::AsyncCall)
/// (the spec's `Subtask`), from the caller's side.
pub(crate) struct Subtask {
    pub(crate) state: SubtaskState,
    /// What it calls.
    pub(crate) call: Callee,
    /// The calling component instance (its root) and the caller's core arguments.
    pub(crate) caller: ComponentInstanceId,
    pub(crate) flat_args: Vec<u64>,
    /// The callee's task.
    pub(crate) task: Option<TaskId>,
    /// The core results of a synchronous lower, once resolved.
    pub(crate) flat_results: Vec<u64>,
    /// The caller's result pointer, when the result goes through memory (the last core
    /// argument of such a lower).
    pub(crate) flat_results_ptr: Option<u64>,
    /// Owned handles lent to the callee, given back when the resolution is delivered.
    pub(crate) lenders: Vec<(RuntimeComponentInstanceIndex, u32)>,
    pub(crate) resolve_delivered: bool,
    pub(crate) cancellation_requested: bool,
}

impl Subtask {
    /// A subtask in `state` of `caller` calling `call`, with the caller's core arguments and
    /// result pointer, as the waitable it is (not yet in a handle table).
    pub(crate) fn waitable(
        state: SubtaskState,
        call: Callee,
        caller: ComponentInstanceId,
        flat_args: Vec<u64>,
        flat_results_ptr: Option<u64>,
    ) -> Waitable {
        let subtask = Subtask {
            state,
            call,
            caller,
            flat_args,
            task: None,
            flat_results: Vec::new(),
            flat_results_ptr,
            lenders: Vec::new(),
            resolve_delivered: false,
            cancellation_requested: false,
        };
        Waitable { kind: WaitableKind::Subtask(subtask), pending: None, set: None, has_sync_waiter: false, handle: 0 }
    }
}

/// What a subtask calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Callee {
    /// A component's lifted function, through this async call (for its types and options).
    Guest(AsyncCallIndex),
    /// A host function called concurrently: the number of its future among the store's host
    /// tasks while it runs.
    Host(Option<usize>),
}

/// What a waitable is.
pub(crate) enum WaitableKind {
    Subtask(Subtask),
    /// An end of a future or a stream.
    Copy(CopyEnd),
}

/// The spec's pending event of a waitable, computed when it is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PendingEvent {
    /// The subtask made progress.
    Subtask,
    /// A copy finished with this result (`reclaim`: and the buffer it left pending in the
    /// shared state is released when the event is delivered).
    Copy { result: u32, reclaim: bool },
}

/// A waitable (the spec's `Waitable`): in a handle table, maybe in a set.
pub(crate) struct Waitable {
    pub(crate) kind: WaitableKind,
    pub(crate) pending: Option<PendingEvent>,
    pub(crate) set: Option<SetId>,
    pub(crate) has_sync_waiter: bool,
    /// Its index in the handle table that holds it (0 before it is in one).
    pub(crate) handle: u32,
}

/// A waitable set (the spec's `WaitableSet`).
#[derive(Default)]
pub(crate) struct WaitableSet {
    /// Its waitables, in the order they joined.
    pub(crate) elems: Vec<WaitableId>,
    /// Threads waiting on it.
    pub(crate) num_waiting: u32,
}

/// An error context: its debug message.
pub(crate) struct ErrorContext {
    pub(crate) message: String,
    /// References from handle tables.
    pub(crate) refs: u32,
}

/// The spec's event codes.
pub(crate) mod event {
    pub(crate) const NONE: u32 = 0;
    pub(crate) const SUBTASK: u32 = 1;
    pub(crate) const STREAM_READ: u32 = 2;
    pub(crate) const STREAM_WRITE: u32 = 3;
    pub(crate) const FUTURE_READ: u32 = 4;
    pub(crate) const FUTURE_WRITE: u32 = 5;
    pub(crate) const TASK_CANCELLED: u32 = 6;
}

/// Reads the context slots of a root component instance.
pub(crate) fn read_context(slots: &[SharedGlobal]) -> [i64; CONTEXT_SLOTS] {
    let mut out = [0; CONTEXT_SLOTS];
    for (o, s) in out.iter_mut().zip(slots) {
        *o = s.cell.get_i64();
    }
    out
}

/// Writes the context slots of a root component instance.
pub(crate) fn write_context(slots: &[SharedGlobal], values: [i64; CONTEXT_SLOTS]) {
    for (s, v) in slots.iter().zip(values) {
        s.cell.set_i64(v);
    }
}

/// A type's payload for a stream or future type, for messages and checks.
pub(crate) fn payload_of(ty: &InterfaceType) -> Option<&InterfaceType> {
    match ty {
        InterfaceType::Future(f) => f.payload(),
        InterfaceType::Stream(s) => s.payload(),
        _ => None,
    }
}

/// The spec's `CopyResult`.
pub(crate) mod copy_result {
    pub(crate) const COMPLETED: u32 = 0;
    pub(crate) const DROPPED: u32 = 1;
    pub(crate) const CANCELLED: u32 = 2;
}

/// The spec's `CopyState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CopyState {
    Idle,
    Copying,
    CancellingCopy,
    Done,
}

/// A guest's buffer of a copy in progress (the spec's `BufferGuestImpl`).
#[derive(Clone, Debug)]
pub(crate) struct Buffer {
    /// The instance whose memory it is in (and whose task made the copy).
    pub(crate) instance: InstanceKey,
    pub(crate) options: Options,
    pub(crate) ptr: u64,
    pub(crate) length: u32,
    pub(crate) progress: u32,
}

impl Buffer {
    pub(crate) fn remain(&self) -> u32 {
        self.length - self.progress
    }
}

/// The state two ends share (the spec's `SharedStreamImpl`/`SharedFutureImpl`).
pub(crate) struct Shared {
    /// The `future<T>` or `stream<T>` type, as the component of `origin` names it (each end
    /// has the type as its own component names it: resource ids are per root component).
    pub(crate) ty: InterfaceType,
    /// The root component instance whose resource ids `ty` uses: the writer's, or for a
    /// future or stream the host made, the last one its readable end was lowered into
    /// (`None` before that).
    pub(crate) origin: Option<ComponentInstanceId>,
    pub(crate) dropped: bool,
    /// The end whose copy waits for the other side (its buffer is in that end).
    pub(crate) pending: Option<WaitableId>,
    /// How many of its two ends are still somewhere.
    pub(crate) live_ends: u8,
    /// Whether its readable end was lifted out of a component and not yet lowered into one
    /// (it is then a `Val` on its way).
    pub(crate) in_transit: bool,
    /// Which end the host holds, if it holds one (its driver is in the store's host work).
    pub(crate) host_end: Option<HostEnd>,
    /// Whether the host made it, with a type of its own choosing: the first component it is
    /// lowered into gives it that component's type.
    pub(crate) host_created: bool,
}

/// An end of a future or stream that the host holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostEnd {
    Readable,
    Writable,
    /// Both: the host made it and took its readable end back (`host_pipe.rs`).
    Both,
}

impl Shared {
    /// A future's or stream's shared state, both ends in components.
    pub(crate) fn new(ty: InterfaceType) -> Shared {
        Shared {
            ty,
            origin: None,
            dropped: false,
            pending: None,
            live_ends: 2,
            in_transit: false,
            host_end: None,
            host_created: false,
        }
    }

    pub(crate) fn is_future(&self) -> bool {
        matches!(self.ty, InterfaceType::Future(_))
    }

    pub(crate) fn payload(&self) -> Option<&InterfaceType> {
        payload_of(&self.ty)
    }
}

/// One end of a future or stream (the spec's `CopyEnd`).
pub(crate) struct CopyEnd {
    pub(crate) shared: usize,
    /// The future's or stream's type as this end's component names it: what its elements
    /// are lifted and lowered with in its memory.
    pub(crate) ty: InterfaceType,
    pub(crate) readable: bool,
    pub(crate) state: CopyState,
    /// The buffer of its copy in progress, until the copy's event is delivered.
    pub(crate) buffer: Option<Buffer>,
}

impl CopyEnd {
    /// The element type, as this end's component names it.
    pub(crate) fn payload(&self) -> Option<&InterfaceType> {
        payload_of(&self.ty)
    }

    pub(crate) fn copying(&self) -> bool {
        matches!(self.state, CopyState::Copying | CopyState::CancellingCopy)
    }
}

pub(crate) fn end(c: &ConcurrentState, w: WaitableId) -> &CopyEnd {
    match &c.waitables[w].kind {
        WaitableKind::Copy(e) => e,
        WaitableKind::Subtask(_) => unreachable!("bug: not an end of a future or stream"),
    }
}

pub(crate) fn end_mut(c: &mut ConcurrentState, w: WaitableId) -> &mut CopyEnd {
    match &mut c.waitables[w].kind {
        WaitableKind::Copy(e) => e,
        WaitableKind::Subtask(_) => unreachable!("bug: not an end of a future or stream"),
    }
}

/// The subtask that waitable `w` is.
pub(crate) fn subtask_mut(c: &mut ConcurrentState, w: usize) -> &mut Subtask {
    match &mut c.waitables[w].kind {
        WaitableKind::Subtask(s) => s,
        WaitableKind::Copy(_) => unreachable!("bug: a task's caller is not a subtask"),
    }
}
