//! Unit tests of the expansion as text: it is the same every time (stable order), carries
//! the WIT's documentation, and has the items users name.

use super::expand;
use quote::quote;

const WIT: &str = r#"
    package a:b;

    /// Things the host does.
    interface host {
        /// A record.
        record point { x: u32, y: u32, HTTP-code: u32 }
        resource res {
            constructor();
            /// Reads it.
            get: func() -> u32;
        }
        /// Moves a point.
        move: func(p: point) -> point;
    }

    interface guest {
        use host.{point};
        enum mode { fast, slow-down }
        run: func(p: point, m: mode) -> u32;
    }

    world my-world {
        import host;
        export guest;
        import log: func(msg: string);
        export start: func();
    }
"#;

fn expanded() -> String {
    expand(quote!({ inline: #WIT })).to_string()
}

#[test]
fn expansion_is_stable() {
    assert_eq!(expanded(), expanded());
}

#[test]
fn expansion_has_the_items_and_docs() {
    let out = expanded();
    assert!(!out.contains("compile_error"), "{out}");
    for needle in [
        "pub mod a",
        "pub mod host",
        "pub mod exports",
        "pub trait Host : HostRes",
        "pub trait HostRes",
        "fn new (& mut self) -> :: weld :: component :: Resource < Res >",
        "fn move_ (& mut self , p : Point) -> Point",
        "pub type Point = super :: super :: super :: super :: a :: b :: host :: Point",
        "fn drop (& mut self , rep : :: weld :: component :: Resource < Res >)",
        "pub fn add_to_linker < T , D >",
        "linker . instance (\"a:b/host\")",
        "inst . func_wrap (\"[method]res.get\"",
        "pub struct MyWorld",
        "pub struct MyWorldPre < T : 'static >",
        "pub trait MyWorldImports",
        "pub fn call_start",
        "pub fn a_b_guest (& self)",
        "pub fn call_run",
        "SlowDown",
        "pub enum Mode { Fast , SlowDown , }",
        // A name the derive would not guess is given.
        "# [component (name = \"HTTP-code\")] pub http_code : u32",
        "\" Things the host does.\"",
        "\" A record.\"",
        "\" Reads it.\"",
        "\" Moves a point.\"",
    ] {
        assert!(out.contains(needle), "`{needle}` is missing from:\n{out}");
    }
    // The world's order is kept: the import's module comes before the export's.
    assert!(out.find("pub mod host").unwrap() < out.find("pub mod exports").unwrap());
}

#[test]
fn errors_are_compile_errors() {
    let out = expand(quote!({ inline: "package a:b; world w {}", world: "x" })).to_string();
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("no world named `x` in package `a:b`; the worlds are: `w`"), "{out}");
}
