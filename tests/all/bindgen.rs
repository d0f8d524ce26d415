//! `bindgen!`: generated bindings for WIT worlds driven against components written in WAT,
//! through both imports (the host implements the traits) and exports (typed calls).

mod jco_worlds;
