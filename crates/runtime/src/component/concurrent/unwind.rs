//! Ending the threads still suspended on fibers when their store goes ([`unwind_suspended`]):
//! each is resumed to find its suspension failing ([`Fiber::unwind`]), so that its frames
//! return (dropping what they own) and its stack is freed, rather than leaked.
//!
//! Apart from `scheduler.rs` so that the store, which calls it as it is dropped, does not
//! import the scheduler (which imports the store): it reaches the store only through
//! [`UnwindParts`], which the store implements.

use super::state::{ConcurrentState, ThreadId, ThreadStack};

/// What unwinding needs of a store: its threads and its stack limit, borrowed anew after each
/// resumption (the fiber changes the store through its own pointer meanwhile).
pub(crate) trait UnwindParts {
    /// The store's async state and the stack limit its wasm sees.
    fn unwind_parts(&mut self) -> (&mut ConcurrentState, &mut usize);
}

/// Resumes every thread suspended on a fiber so that it ends; their tasks never finish, and
/// nothing is reported. A fiber that suspended again anyway is left to be dropped (and
/// leaked) with the store.
pub(crate) fn unwind_suspended<S: UnwindParts>(store: &mut S) {
    let (c, _) = store.unwind_parts();
    let suspended: Vec<ThreadId> = c
        .threads
        .iter()
        .filter(|(_, th)| matches!(&th.stack, ThreadStack::Fiber(Some(f)) if f.is_suspended()))
        .map(|(t, _)| t)
        .collect();
    for t in suspended {
        let (c, limit) = store.unwind_parts();
        let Some(ThreadStack::Fiber(fiber)) = c.threads.get_mut(t).map(|th| &mut th.stack) else { continue };
        let Some(mut f) = fiber.take() else { continue };
        let previous = c.current.replace(t);
        f.swap_stack_limit(limit);
        // As in `scheduler::resume`: nothing read from the store before the switch may be
        // reused after it.
        std::hint::black_box(&raw mut *store);
        let resumed = f.unwind();
        let (c, limit) = store.unwind_parts();
        f.swap_stack_limit(limit);
        c.current = previous;
        log::trace!("thread {t} unwound as its store goes: {resumed:?}");
        if let Some(th) = c.threads.get_mut(t) {
            th.stack = ThreadStack::Fiber(Some(f));
        }
    }
}
