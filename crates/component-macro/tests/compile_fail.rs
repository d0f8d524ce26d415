//! Shapes the derives and `flags!` refuse, each with the message a user sees (checked against
//! the `.stderr` file next to it; `TRYBUILD=overwrite` rewrites them after a deliberate change).

#[test]
fn unsupported_shapes_give_clear_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
