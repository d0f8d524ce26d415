//! The components of `../shared/components/EXPECT.md` sections 1 and 3, run through
//! `bindgen!`-generated bindings with the results EXPECT.md lists: jco's copies of
//! wit-bindgen's runtime tests (C++ and Rust guests, built with the wasip1 adapter) and the
//! import-free Rust components.
//!
//! Each world below is the component's own world (as `wasm-tools component wit` prints it)
//! without its WASI imports: the guests import WASI 0.2 through the adapter but do not call it
//! in these cases, so the test defines those imports with `define_unknown_imports_as_traps`,
//! and a call that did reach WASI would trap naming the import. The host side of each test
//! interface does what jco's test host does (`packages/jco-transpile/test/fixtures/runtime/`).

use crate::real_components::components_dir;
use weld::Engine;
use weld::component::{Component, Linker};

/// The component `jco/packages__jco-transpile__test__fixtures__components__runtime__<name>`.
pub fn runtime_component(engine: &Engine, name: &str) -> Component {
    let path =
        components_dir().join(format!("jco/packages__jco-transpile__test__fixtures__components__runtime__{name}"));
    Component::from_file(engine, &path).unwrap_or_else(|e| panic!("loading {}: {e:#}", path.display()))
}

/// A linker for `component` in which the world's own imports are already added by `add`, and
/// every other import (WASI) traps.
pub fn linker_with<T: 'static>(
    engine: &Engine,
    component: &Component,
    add: impl FnOnce(&mut Linker<T>) -> anyhow::Result<()>,
) -> Linker<T> {
    let mut linker = Linker::new(engine);
    add(&mut linker).expect("the world's imports are added");
    linker.define_unknown_imports_as_traps(component).expect("the other imports are defined as traps");
    linker
}

/// What a host that checks the parameters it receives found wrong, to be asserted empty after
/// the guest's calls (a host function has no way to fail the test itself).
#[derive(Default)]
pub struct Mismatches(pub Vec<String>);

impl Mismatches {
    /// Records a mismatch unless `got` is `want`.
    pub fn expect<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        if got != want {
            self.0.push(format!("{what}: got {got:?}, expected {want:?}"));
        }
    }
}

mod collections;
mod resources;
mod scalars;
