//! Component-model async: tasks, threads, waitables and the event loop, as the spec's
//! `definitions.py` defines them (`Thread`, `Task`, `Subtask`, `WaitableSet`, `Store.tick`).
//!
//! Shape:
//! - Each spec *thread* that may block runs on a fiber of its own (`vm/fiber.rs`): the
//!   implicit thread of a task whose lift is `async` or whose type is `async`, and every task
//!   a component starts through an [`AsyncCall`](weld_environ::component::info::AsyncCall).
//!   Blocking suspends the fiber; the event loop (`scheduler.rs`) resumes it once what it
//!   waits for is ready.
//! - A synchronous call (the host calling a synchronous export, a fused adapter) runs on its
//!   caller's stack as before, at the same cost, without a fiber. If such a call blocks (a
//!   `waitable-set.wait` in a function whose type is not `async`), it runs the spec's loop of
//!   `canon_lift` for synchronous types right there: other ready threads of its instance
//!   (those that may run while a stack is in use) run until it can go on, and with none it
//!   traps.
//! - Only a synchronous call into an instance that uses thread built-ins (`thread.index`,
//!   `thread.new-indirect`, the switches) gets the task and implicit thread the spec gives
//!   every call: a thread whose code runs on the call's own stack (`ThreadStack::Native`),
//!   made when the call enters (the `EnterSyncTask` libcall of its adapter, or the host's
//!   call) and gone when it returns. Switching away from it runs the other thread from the
//!   call's stack; switching back returns there (`scheduler::block_native`). Calls into
//!   other instances pay nothing for it.
//! - State lives in the store (`state.rs`), addressed by numbers: tasks, threads,
//!   waitables and waitable sets each in a slab. Handle tables hold waitables and waitable
//!   sets by these numbers (`Slot::Waitable`, `Slot::WaitableSet`).
//! - Readiness ("what a waiting thread waits for") is data ([`Wait`]), evaluated by the
//!   scheduler, rather than the spec's closures.
//!
//! The modules, each using only those listed before it: `state.rs` (the data), `unwind.rs`
//! (ending suspended threads when their store goes),
//! `host_work.rs` (host futures and the host's ends of streams and futures: data),
//! `host_poll.rs` (polling them when no thread is ready), `host_pipe.rs` (moving elements
//! between the host's two ends of one future or stream), `scheduler.rs` (running and blocking threads), `waitables.rs` (handles, waitable sets and
//! events), `copies.rs` (futures and streams), `transfer.rs` (futures, streams and error contexts
//! passed across calls), `tasks.rs` (calls into tasks), `host_calls.rs`
//! (host functions called concurrently), `builtins.rs` (the built-ins' core functions).

pub(crate) mod builtins;
pub(crate) mod copies;
pub(crate) mod host_calls;
pub(crate) mod host_pipe;
pub(crate) mod host_poll;
pub(crate) mod host_work;
pub(crate) mod scheduler;
pub(crate) mod state;
pub(crate) mod tasks;
pub(crate) mod transfer;
pub(crate) mod unwind;
pub(crate) mod waitables;

#[cfg(test)]
mod tests;
