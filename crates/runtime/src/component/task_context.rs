//! The current task's context (`context.get`/`context.set`) at a call from the host.
//!
//! The spec gives every task's thread a context of its own, all zeros when the task starts.
//! weld keeps the current one in `i64` globals of the component instance
//! (`InstanceState::task_context`) that the built-ins read and write, and that fused
//! adapters save, clear and restore inline around each call (see FACT's `trampoline.rs`).
//! A call from the host only clears them: it enters the component's root instance, so no
//! other call into the same component can be under way to get its context back afterwards
//! (with synchronous calls only; async tasks will switch contexts when they switch).
//! Components that use no context built-in have no such globals, and their calls do none of
//! this.

use super::state::SharedGlobal;

/// Starts a task called from the host: its context `slots` start at zero.
#[inline]
pub(crate) fn start_task_context(slots: &[SharedGlobal]) {
    for slot in slots {
        slot.cell.set_i64(0);
    }
}
