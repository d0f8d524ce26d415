//! Shapes the derives and `flags!` refuse, and `bindgen!` inputs it refuses (a missing WIT
//! file, WIT that does not parse, an unknown world, option or trappable import, a `with` that
//! names nothing, a WIT type weld has no Rust type for), each with the message a user sees
//! (checked against the `.stderr` file next to it; `TRYBUILD=overwrite` rewrites them after a
//! deliberate change).

#[test]
fn unsupported_shapes_give_clear_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
