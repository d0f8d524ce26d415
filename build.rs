//! Generates, for the integration tests (tests/all/derive.rs), Rust enums with 256, 257 and
//! 65537 cases: too many to write by hand, and exactly at the canonical ABI's discriminant
//! width boundaries (u8, u16, u32).

use std::fmt::Write;

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut src = String::new();
    for count in [256usize, 257, 65537] {
        writeln!(src, "/// An enum of {count} cases, `c0` to `c{}`.", count - 1).unwrap();
        writeln!(src, "#[derive(ComponentType, Lift, Lower, Clone, Copy, PartialEq, Eq)]").unwrap();
        writeln!(src, "#[component(enum)]").unwrap();
        writeln!(src, "pub enum Cases{count} {{").unwrap();
        for i in 0..count {
            writeln!(src, "    C{i},").unwrap();
        }
        writeln!(src, "}}").unwrap();
    }
    std::fs::write(std::path::Path::new(&out_dir).join("big_enums.rs"), src).expect("OUT_DIR is writable");
    println!("cargo::rerun-if-changed=build.rs");
}
