//! Macros for weld's component API, re-exported from `weld::component`:
//! `#[derive(ComponentType, Lift, Lower)]` maps a Rust struct to a component `record` and a
//! Rust enum to a `variant` or an `enum`, `flags!` defines a Rust type for a `flags` type, and
//! `bindgen!` generates the bindings of a whole WIT world (see `bindgen/mod.rs`).
//!
//! ```ignore
//! use weld::component::*;
//!
//! #[derive(ComponentType, Lift, Lower)]
//! struct Person {
//!     first_name: String, // the field `first-name`
//!     age: u8,
//! }
//!
//! #[derive(ComponentType, Lift, Lower)]
//! #[component(variant)]
//! enum Shape {
//!     Circle(f32),
//!     #[component(name = "nothing")]
//!     Empty,
//! }
//!
//! #[derive(ComponentType, Lift, Lower)]
//! #[component(enum)]
//! enum Color { Red, Green, Blue }
//!
//! flags! {
//!     Permissions { const READ; const WRITE; }
//! }
//! ```
//!
//! A struct is a `record` (`#[component(record)]` may be written, and is implied); an enum
//! must say whether it is a `#[component(variant)]` or a `#[component(enum)]`. The component
//! name of a field, case or flag is its Rust name in kebab case (`first_name` and `FirstName`
//! are `first-name`, `READ_ALL` is `read-all`), or the one given with
//! `#[component(name = "...")]`.
//!
//! The generated code refers to the `weld` crate by that name, so the crate that uses the
//! derives must depend on weld under its own name. Values go through `Val`, so a derived type
//! has exactly the layout and the checks of the dynamic path. This crate only generates code:
//! type checks and their messages live in `weld::component`.

#![forbid(unsafe_code)]

mod attrs;
mod bindgen;
mod expand;
mod flags;
mod names;
mod shape;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `ComponentType`: the component type of a struct (a `record`) or an enum (a
/// `variant` or an `enum`), and the check of that type against a component's.
#[proc_macro_derive(ComponentType, attributes(component))]
pub fn derive_component_type(input: TokenStream) -> TokenStream {
    derive(input, expand::component_type)
}

/// Implements `Lift`: building the Rust value from a component value.
#[proc_macro_derive(Lift, attributes(component))]
pub fn derive_lift(input: TokenStream) -> TokenStream {
    derive(input, expand::lift)
}

/// Implements `Lower`: turning the Rust value into a component value.
#[proc_macro_derive(Lower, attributes(component))]
pub fn derive_lower(input: TokenStream) -> TokenStream {
    derive(input, expand::lower)
}

fn derive(input: TokenStream, generate: fn(&DeriveInput, &shape::Shape) -> proc_macro2::TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match shape::analyze(&input) {
        Ok(shape) => generate(&input, &shape).into(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// Defines Rust types for component `flags` types: a struct with a constant per flag, set
/// operations (`|`, `&`, `^`, `!`, `contains`, `insert`, `remove`), `Debug`, and the
/// `ComponentType`, `Lift` and `Lower` traits. Any number of flags is supported.
///
/// ```ignore
/// flags! {
///     /// What a user may do.
///     pub Permissions {
///         const READ;
///         #[component(name = "write-all")]
///         const WRITE;
///     }
/// }
/// let rw = Permissions::READ | Permissions::WRITE;
/// ```
#[proc_macro]
pub fn flags(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as flags::FlagsInput);
    match flags::expand(input) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// Generates Rust bindings for a WIT world: types, `Host` traits and `add_to_linker` for
/// its imports, and a `<World>` struct with typed calls for its exports, shaped like
/// Wasmtime's `bindgen!`.
///
/// ```ignore
/// bindgen!("my-world" in "wit/my-world.wit");
/// bindgen!({
///     world: "my-world",          // optional when the package has one world
///     path: "wit",                // a file, or a directory with a `deps/` folder
///     inline: "package a:b; world w { ... }",
///     with: { "wasi:io/poll": crate::poll, "a:b/c.res": crate::MyRes },
///     trappable_imports: true,    // or ["f", "a:b/c.g"]: `Result<_>` returns that trap
///     additional_derives: [PartialEq, Hash],
///     ownership: Borrowing { duplicate_if_necessary: false },
/// });
/// ```
///
/// Paths are relative to `CARGO_MANIFEST_DIR`. Problems with the input (a missing file, WIT
/// that does not parse, an unknown world, a `with` key that names nothing) are compile errors
/// at the macro. The generated code refers to the `weld` crate by that name.
#[proc_macro]
pub fn bindgen(input: TokenStream) -> TokenStream {
    bindgen::expand(input.into()).into()
}
