//! The built-ins of component-model async and threads (`task.return`, `stream.read`,
//! `context.get`, ...) as `canon` definitions name them: which one, with the immediates the
//! runtime needs. Kept apart from the translation that finds them, as the list of what the
//! runtime must implement.
//!
//! The list is written once, in `async_builtins!`, from which the operation enum, each
//! operation's canonical name and the reading of wasmparser's definitions are generated.
//! Immediates that are indices into the component's index spaces (a `stream<T>` type, the
//! canonical options of a `stream.read`, the table of `thread.new-indirect`) are returned
//! beside the operation as [`BuiltinImmediates`], as written, for the inliner to resolve.

use wasmparser::{CanonicalFunction, CanonicalOption, ComponentValType};

/// Declares every async or threads built-in: its variant, its canonical name, and how it is
/// read from wasmparser's `CanonicalFunction` (binding the immediates it keeps).
macro_rules! async_builtins {
    ($(
        $(#[$doc:meta])*
        $variant:ident $({ $($field:ident : $fty:ty),* })? = $name:literal
            <= $pat:pat => $fields:expr
    ;)*) => {
        /// Which async or threads built-in a `canon` definition is (see `info::AsyncBuiltin`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum AsyncBuiltinOp {
            $( $(#[$doc])* $variant $({ $(#[allow(missing_docs)] $field: $fty),* })?, )*
        }

        impl AsyncBuiltinOp {
            /// The built-in's canonical name.
            pub fn name(self) -> &'static str {
                match self {
                    $( AsyncBuiltinOp::$variant { .. } => $name, )*
                }
            }

            /// Every built-in's canonical name, in the list's order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];
        }

        /// The built-in of component-model async or threads that `f` is, with the immediates
        /// the inliner resolves.
        pub(crate) fn async_builtin(f: &CanonicalFunction) -> Option<(AsyncBuiltinOp, BuiltinImmediates)> {
            #[allow(unused_variables)]
            match f {
                $( $pat => {
                    let (op, imm): (AsyncBuiltinOp, BuiltinImmediates) = $fields;
                    Some((op, imm))
                } )*
                _ => None,
            }
        }
    };
}

/// The immediates of a built-in that name things of the component, as written (indices
/// into its index spaces): resolved by the inliner.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BuiltinImmediates {
    /// The `stream<T>`/`future<T>` type of a stream or future built-in (a type index).
    pub ty: Option<u32>,
    /// The result type of `task.return`.
    pub result: Option<ComponentValType>,
    /// Canonical options (`task.return`, `stream.read`, `waitable-set.wait`'s memory, ...).
    pub options: Option<Box<[CanonicalOption]>>,
    /// The core table of `thread.new-indirect` (a core table index).
    pub table: Option<u32>,
    /// The core function type index of `thread.new-indirect`.
    pub func_ty: Option<u32>,
}

fn none() -> BuiltinImmediates {
    BuiltinImmediates::default()
}

fn of_type(ty: u32) -> BuiltinImmediates {
    BuiltinImmediates { ty: Some(ty), ..none() }
}

fn typed_with(ty: u32, opts: &[CanonicalOption]) -> BuiltinImmediates {
    BuiltinImmediates { options: Some(opts.into()), ..of_type(ty) }
}

fn with_options(opts: &[CanonicalOption]) -> BuiltinImmediates {
    BuiltinImmediates { options: Some(opts.into()), ..none() }
}

fn with_memory(memory: u32) -> BuiltinImmediates {
    with_options(&[CanonicalOption::Memory(memory)])
}

use AsyncBuiltinOp as Op;
use CanonicalFunction as F;

async_builtins! {
    /// `context.get`: reads slot `slot` of the current thread's context.
    ContextGet { slot: u32 } = "context.get" <= F::ContextGet { slot, .. } => (Op::ContextGet { slot: *slot }, none());
    /// `context.set`: writes slot `slot` of the current thread's context.
    ContextSet { slot: u32 } = "context.set" <= F::ContextSet { slot, .. } => (Op::ContextSet { slot: *slot }, none());
    /// `backpressure.inc`.
    BackpressureInc = "backpressure.inc" <= F::BackpressureInc => (Op::BackpressureInc, none());
    /// `backpressure.dec`.
    BackpressureDec = "backpressure.dec" <= F::BackpressureDec => (Op::BackpressureDec, none());
    /// `task.return`: the current task's result, with the lift's options.
    TaskReturn = "task.return" <= F::TaskReturn { result, options } =>
        (Op::TaskReturn, BuiltinImmediates { result: *result, ..with_options(options) });
    /// `task.cancel`.
    TaskCancel = "task.cancel" <= F::TaskCancel => (Op::TaskCancel, none());
    /// `thread.yield`.
    ThreadYield = "thread.yield" <= F::ThreadYield => (Op::ThreadYield, none());
    /// `subtask.drop`.
    SubtaskDrop = "subtask.drop" <= F::SubtaskDrop => (Op::SubtaskDrop, none());
    /// `subtask.cancel`, which blocks unless `async_`.
    SubtaskCancel { async_: bool } = "subtask.cancel" <= F::SubtaskCancel { async_ } =>
        (Op::SubtaskCancel { async_: *async_ }, none());
    /// `stream.new`.
    StreamNew = "stream.new" <= F::StreamNew { ty } => (Op::StreamNew, of_type(*ty));
    /// `stream.read`.
    StreamRead = "stream.read" <= F::StreamRead { ty, options } => (Op::StreamRead, typed_with(*ty, options));
    /// `stream.write`.
    StreamWrite = "stream.write" <= F::StreamWrite { ty, options } => (Op::StreamWrite, typed_with(*ty, options));
    /// `stream.cancel-read`.
    StreamCancelRead { async_: bool } = "stream.cancel-read" <= F::StreamCancelRead { ty, async_ } =>
        (Op::StreamCancelRead { async_: *async_ }, of_type(*ty));
    /// `stream.cancel-write`.
    StreamCancelWrite { async_: bool } = "stream.cancel-write" <= F::StreamCancelWrite { ty, async_ } =>
        (Op::StreamCancelWrite { async_: *async_ }, of_type(*ty));
    /// `stream.drop-readable`.
    StreamDropReadable = "stream.drop-readable" <= F::StreamDropReadable { ty } => (Op::StreamDropReadable, of_type(*ty));
    /// `stream.drop-writable`.
    StreamDropWritable = "stream.drop-writable" <= F::StreamDropWritable { ty } => (Op::StreamDropWritable, of_type(*ty));
    /// `future.new`.
    FutureNew = "future.new" <= F::FutureNew { ty } => (Op::FutureNew, of_type(*ty));
    /// `future.read`.
    FutureRead = "future.read" <= F::FutureRead { ty, options } => (Op::FutureRead, typed_with(*ty, options));
    /// `future.write`.
    FutureWrite = "future.write" <= F::FutureWrite { ty, options } => (Op::FutureWrite, typed_with(*ty, options));
    /// `future.cancel-read`.
    FutureCancelRead { async_: bool } = "future.cancel-read" <= F::FutureCancelRead { ty, async_ } =>
        (Op::FutureCancelRead { async_: *async_ }, of_type(*ty));
    /// `future.cancel-write`.
    FutureCancelWrite { async_: bool } = "future.cancel-write" <= F::FutureCancelWrite { ty, async_ } =>
        (Op::FutureCancelWrite { async_: *async_ }, of_type(*ty));
    /// `future.drop-readable`.
    FutureDropReadable = "future.drop-readable" <= F::FutureDropReadable { ty } => (Op::FutureDropReadable, of_type(*ty));
    /// `future.drop-writable`.
    FutureDropWritable = "future.drop-writable" <= F::FutureDropWritable { ty } => (Op::FutureDropWritable, of_type(*ty));
    /// `error-context.new`.
    ErrorContextNew = "error-context.new" <= F::ErrorContextNew { options } => (Op::ErrorContextNew, with_options(options));
    /// `error-context.debug-message`.
    ErrorContextDebugMessage = "error-context.debug-message" <= F::ErrorContextDebugMessage { options } =>
        (Op::ErrorContextDebugMessage, with_options(options));
    /// `error-context.drop`.
    ErrorContextDrop = "error-context.drop" <= F::ErrorContextDrop => (Op::ErrorContextDrop, none());
    /// `waitable-set.new`.
    WaitableSetNew = "waitable-set.new" <= F::WaitableSetNew => (Op::WaitableSetNew, none());
    /// `waitable-set.wait`, storing the event in the given memory.
    WaitableSetWait = "waitable-set.wait" <= F::WaitableSetWait { memory } => (Op::WaitableSetWait, with_memory(*memory));
    /// `waitable-set.poll`, storing the event in the given memory.
    WaitableSetPoll = "waitable-set.poll" <= F::WaitableSetPoll { memory } => (Op::WaitableSetPoll, with_memory(*memory));
    /// `waitable-set.drop`.
    WaitableSetDrop = "waitable-set.drop" <= F::WaitableSetDrop => (Op::WaitableSetDrop, none());
    /// `waitable.join`.
    WaitableJoin = "waitable.join" <= F::WaitableJoin => (Op::WaitableJoin, none());
    /// `thread.index`.
    ThreadIndex = "thread.index" <= F::ThreadIndex => (Op::ThreadIndex, none());
    /// `thread.new-indirect`.
    ThreadNewIndirect = "thread.new-indirect" <= F::ThreadNewIndirect { func_ty_index, table_index } =>
        (Op::ThreadNewIndirect, BuiltinImmediates {
            table: Some(*table_index),
            func_ty: Some(*func_ty_index),
            ..none()
        });
    /// `thread.resume-later`.
    ThreadResumeLater = "thread.resume-later" <= F::ThreadResumeLater => (Op::ThreadResumeLater, none());
    /// `thread.suspend`.
    ThreadSuspend = "thread.suspend" <= F::ThreadSuspend => (Op::ThreadSuspend, none());
    /// `thread.suspend-then-resume`.
    ThreadSuspendThenResume = "thread.suspend-then-resume" <= F::ThreadSuspendThenResume => (Op::ThreadSuspendThenResume, none());
    /// `thread.yield-then-resume`.
    ThreadYieldThenResume = "thread.yield-then-resume" <= F::ThreadYieldThenResume => (Op::ThreadYieldThenResume, none());
    /// `thread.suspend-then-promote`.
    ThreadSuspendThenPromote = "thread.suspend-then-promote" <= F::ThreadSuspendThenPromote => (Op::ThreadSuspendThenPromote, none());
    /// `thread.yield-then-promote`.
    ThreadYieldThenPromote = "thread.yield-then-promote" <= F::ThreadYieldThenPromote => (Op::ThreadYieldThenPromote, none());
    /// `thread.spawn-ref` (shared-everything threads).
    ThreadSpawnRef = "thread.spawn-ref" <= F::ThreadSpawnRef { .. } => (Op::ThreadSpawnRef, none());
    /// `thread.spawn-indirect` (shared-everything threads).
    ThreadSpawnIndirect = "thread.spawn-indirect" <= F::ThreadSpawnIndirect { .. } => (Op::ThreadSpawnIndirect, none());
    /// `thread.available-parallelism` (shared-everything threads).
    ThreadAvailableParallelism = "thread.available-parallelism" <= F::ThreadAvailableParallelism =>
        (Op::ThreadAvailableParallelism, none());
    /// `stream.forward`.
    StreamForward = "stream.forward" <= F::StreamForward { ty } => (Op::StreamForward, of_type(*ty));
    /// `future.forward`.
    FutureForward = "future.forward" <= F::FutureForward { ty } => (Op::FutureForward, of_type(*ty));
}

/// The number of slots of a thread's context (`context.get`/`context.set`), as the spec's
/// `Thread.storage` has.
pub const CONTEXT_SLOTS: usize = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_read_back() {
        let mut names = AsyncBuiltinOp::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AsyncBuiltinOp::NAMES.len());
        let (op, imm) = async_builtin(&F::StreamRead { ty: 3, options: Box::new([]) }).unwrap();
        assert_eq!(op.name(), "stream.read");
        assert_eq!(imm.ty, Some(3));
        assert!(imm.options.is_some());
        let (op, _) = async_builtin(&F::SubtaskCancel { async_: true }).unwrap();
        assert_eq!(op, Op::SubtaskCancel { async_: true });
        assert!(async_builtin(&F::ResourceNew { resource: 0 }).is_none());
    }
}
