//! The canonical ABI reference oracle: weld's host-side canonical ABI
//! (`weld::component::canonical`) against the Component Model's executable definition of it
//! (`definitions.py`, run by a Python worker), on any type, value and canonical options.
//!
//! For each case, weld and the reference must agree on:
//! - layout and flattening: size, alignment and flat types of the type, and the core
//!   signatures of a function type lifted and lowered (past the flat limits included);
//! - `lower_flat` and `store`: the flat values, the bytes written (padding excluded: only the
//!   bytes the value's sites cover are compared, in a memory that starts as junk so that a
//!   byte not written shows) and every `realloc` call with what it returned;
//! - `lift_flat` and `load` of what was lowered, and of it with garbage injected at one of its
//!   sites (`sites.rs`): both return the same value (NaNs compared as NaNs), or both trap with
//!   the same kind (`traps.rs`).
//!
//! A value lowered and lifted back must also be the value it was. `fact.rs` carries values
//! through weld's fused adapters between two option sets: the reference lowers on the
//! caller's side and must lift the same value on the callee's.
//!
//! The parts: `case.rs` (what a case is, and its generator), `worker.rs` (the Python process), `json.rs` (weld's types and values in its
//! encoding), `memory.rs` (the memory, realloc and handle table weld sees), `sites.rs`,
//! `traps.rs`, `checks.rs` (each operation on both sides, compared), `fact.rs`.

mod case;
mod checks;
mod fact;
mod json;
mod memory;
mod sites;
mod traps;
mod worker;

pub use case::{CanonicalCase, STRING_ENCODINGS};
pub use checks::{Stats, canonical_reference};
pub use fact::{FactCase, fact_component, fact_reference};
pub use memory::{Fault, ReallocPlan};
pub use worker::{Answer, Reference, Started, spec_dir};

use anyhow::Result;
use std::cell::RefCell;

thread_local! {
    static SHARED: RefCell<Option<Result<Reference, String>>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's worker, started the first time; `Ok(None)` when the worker
/// cannot run here (the reason is printed once).
pub fn with_reference<R>(f: impl FnOnce(&mut Reference) -> Result<R>) -> Result<Option<R>> {
    SHARED.with(|shared| {
        let mut shared = shared.borrow_mut();
        if shared.is_none() {
            *shared = Some(match Reference::start()? {
                Started::Ready(r) => Ok(r),
                Started::Skipped(why) => {
                    eprintln!("canonical ABI reference oracle skipped: {why}");
                    Err(why)
                }
            });
        }
        match shared.as_mut() {
            Some(Ok(reference)) => f(reference).map(Some),
            _ => Ok(None),
        }
    })
}
