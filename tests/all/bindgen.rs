//! `bindgen!`: generated bindings for WIT worlds driven against components written in WAT
//! (by `forward.rs`, or by hand), through both imports (the host implements the traits) and
//! exports (typed calls); and the worlds of jco's test components, which must expand.

mod forward;
mod jco_worlds;
mod kinds;
mod options;
mod resources;
