//! The built-ins of component-model async and threads (`task.return`, `stream.read`,
//! `context.get`, ...) as `canon` definitions name them: which one, with the immediates the
//! runtime needs. Kept apart from the translation that finds them, as the list of what the
//! runtime must implement.

use wasmparser::CanonicalFunction;

/// Which async or threads built-in a `canon` definition is (see `info::AsyncBuiltin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncBuiltinOp {
    /// `context.get`: reads slot `slot` of the current thread's context.
    ContextGet {
        /// The slot, below [`CONTEXT_SLOTS`].
        slot: u32,
    },
    /// `context.set`: writes slot `slot` of the current thread's context.
    ContextSet {
        /// The slot, below [`CONTEXT_SLOTS`].
        slot: u32,
    },
    /// Another built-in, by its canonical name (what weld does not run yet).
    Other(&'static str),
}

impl AsyncBuiltinOp {
    /// The built-in's canonical name.
    pub fn name(self) -> &'static str {
        match self {
            AsyncBuiltinOp::ContextGet { .. } => "context.get",
            AsyncBuiltinOp::ContextSet { .. } => "context.set",
            AsyncBuiltinOp::Other(name) => name,
        }
    }
}

/// The number of slots of a thread's context (`context.get`/`context.set`), as the spec's
/// `Thread.storage` has.
pub const CONTEXT_SLOTS: usize = 2;

/// The built-in of component-model async or threads that `f` is.
pub(crate) fn async_builtin(f: &CanonicalFunction) -> Option<AsyncBuiltinOp> {
    use CanonicalFunction as F;
    Some(AsyncBuiltinOp::Other(match *f {
        F::ContextGet { slot, .. } => return Some(AsyncBuiltinOp::ContextGet { slot }),
        F::ContextSet { slot, .. } => return Some(AsyncBuiltinOp::ContextSet { slot }),
        F::ThreadSpawnRef { .. } => "thread.spawn-ref",
        F::ThreadSpawnIndirect { .. } => "thread.spawn-indirect",
        F::ThreadAvailableParallelism => "thread.available-parallelism",
        F::BackpressureInc => "backpressure.inc",
        F::BackpressureDec => "backpressure.dec",
        F::TaskReturn { .. } => "task.return",
        F::TaskCancel => "task.cancel",
        F::ThreadYield => "thread.yield",
        F::SubtaskDrop => "subtask.drop",
        F::SubtaskCancel { .. } => "subtask.cancel",
        F::StreamNew { .. } => "stream.new",
        F::StreamRead { .. } => "stream.read",
        F::StreamWrite { .. } => "stream.write",
        F::StreamCancelRead { .. } => "stream.cancel-read",
        F::StreamCancelWrite { .. } => "stream.cancel-write",
        F::StreamDropReadable { .. } => "stream.drop-readable",
        F::StreamDropWritable { .. } => "stream.drop-writable",
        F::FutureNew { .. } => "future.new",
        F::FutureRead { .. } => "future.read",
        F::FutureWrite { .. } => "future.write",
        F::FutureCancelRead { .. } => "future.cancel-read",
        F::FutureCancelWrite { .. } => "future.cancel-write",
        F::FutureDropReadable { .. } => "future.drop-readable",
        F::FutureDropWritable { .. } => "future.drop-writable",
        F::ErrorContextNew { .. } => "error-context.new",
        F::ErrorContextDebugMessage { .. } => "error-context.debug-message",
        F::ErrorContextDrop => "error-context.drop",
        F::WaitableSetNew => "waitable-set.new",
        F::WaitableSetWait { .. } => "waitable-set.wait",
        F::WaitableSetPoll { .. } => "waitable-set.poll",
        F::WaitableSetDrop => "waitable-set.drop",
        F::WaitableJoin => "waitable.join",
        F::ThreadIndex => "thread.index",
        F::ThreadNewIndirect { .. } => "thread.new-indirect",
        F::ThreadResumeLater => "thread.resume-later",
        F::ThreadSuspend => "thread.suspend",
        F::ThreadSuspendThenResume => "thread.suspend-then-resume",
        F::ThreadYieldThenResume => "thread.yield-then-resume",
        F::ThreadSuspendThenPromote => "thread.suspend-then-promote",
        F::ThreadYieldThenPromote => "thread.yield-then-promote",
        _ => return None,
    }))
}
