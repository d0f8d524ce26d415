//! Oracles: properties weld must have for any generated input. Each returns an error that
//! describes the input when the property does not hold.
//!
//! - [`echo`]: a value of any type passed to a guest and echoed back comes back equal, through
//!   `Func::call` with `Val`s and through `TypedFunc` with Rust types.
//! - [`fused`]: the same through a fused adapter between two components, with any string
//!   encoding and memory width on either side.
//! - [`streams`]: values of any type written into a `stream<T>` come back equal after one or
//!   two guests copied them through their memories.
//! - [`futures`]: a value of any type given to a `future<T>` comes back equal after one or
//!   two guests passed it on through their memories.
//! - [`fact_valid`](mod@fact_valid): FACT turns any adapter signature with any canonical options into a valid
//!   core module.
//! - [`canonical_reference`]: weld's host-side canonical ABI (and its fused adapters) agree
//!   with the Component Model's executable definition of the ABI, run by a Python worker.
//! - [`core_diff`]: a random core module gives the same results, traps and memory on weld as
//!   on a reference engine.
//!
//! What they share (one engine per process, a cache of compiled components, the guest's core
//! module and the call-and-compare loop) is in `common`; this module only names the oracles
//! and re-exports what callers use.

pub mod canonical_reference;
mod common;
pub mod core_diff;
pub mod echo;
pub mod fact_valid;
pub mod fused;
pub mod futures;
pub mod streams;

pub use common::{ENCODINGS, compile_cached, engine};
pub use core_diff::{
    CallOutcome, CaseFeatures, CoreCase, CoreEngine, CoreOutcome, CoreValue, Trap, core_differential,
    opt_level_engines, run_case, weld_outcome,
};
pub use echo::{EchoCase, TypedCase, component_api, echo_component, typed_component_api};
pub use fact_valid::{AdapterCase, adapter_component, fact_valid};
pub use fused::{FusedCase, Side, fact_roundtrip, fused_component};
pub use futures::{FutureCase, future_component, future_roundtrip};
pub use streams::{StreamCase, stream_component, stream_roundtrip};
