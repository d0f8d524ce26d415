//! Calling components with Rust types: records, variants, enums and flags declared in Rust
//! with `#[derive(ComponentType, Lift, Lower)]` and `flags!`, checked against the bundled
//! components' types once, when the typed functions are looked up.
//!
//!     cargo run --example derive
//!
//! `cargo test` runs it too (as a test that checks what it prints).
//! Only `weld::component::*` is needed in scope for the derives.

use weld::component::*;
use weld::{Engine, Store};

/// `record size { width: f64, height: f64 }` in examples/shapes.wat.
#[derive(ComponentType, Lift, Lower, Debug, Clone, Copy, PartialEq)]
struct Size {
    width: f64,
    height: f64,
}

/// `variant shape { circle(f64), rect(size), point }`.
#[derive(ComponentType, Lift, Lower, Debug, Clone, Copy, PartialEq)]
#[component(variant)]
enum Shape {
    Circle(f64),
    Rect(Size),
    Point,
}

/// `enum sign { negative, zero, positive }`.
#[derive(ComponentType, Lift, Lower, Debug, Clone, Copy, PartialEq)]
#[component(enum)]
enum Sign {
    Negative,
    Zero,
    Positive,
}

flags! {
    /// `flags permissions { read, write, execute }`.
    Permissions {
        const READ;
        const WRITE;
        const EXECUTE;
    }
}

/// `record summary { count: u32, sum: s64, min: option<s32>, max: option<s32> }` in
/// examples/greet.wat.
#[derive(ComponentType, Lift, Lower, Debug)]
struct Summary {
    count: u32,
    sum: i64,
    min: Option<i32>,
    max: Option<i32>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for line in run()? {
        println!("{line}");
    }
    Ok(())
}

/// Calls the components, returning what to print.
fn run() -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);

    let shapes = Component::new(&engine, include_str!("shapes.wat"))?;
    let shapes = linker.instantiate(&mut store, &shapes)?;
    let area = shapes.get_typed_func::<(Shape,), (f64,)>(&mut store, "area")?;
    for shape in [Shape::Circle(1.0), Shape::Rect(Size { width: 2.0, height: 3.5 }), Shape::Point] {
        let (a,) = area.call(&mut store, (shape,))?;
        out.push(format!("area({shape:?}) = {a}"));
    }
    let classify = shapes.get_typed_func::<(i32,), (Sign,)>(&mut store, "classify")?;
    for n in [-4, 0, 9] {
        let (sign,) = classify.call(&mut store, (n,))?;
        out.push(format!("classify({n}) = {sign:?}"));
    }
    let grant = shapes.get_typed_func::<(Permissions, Permissions), (Permissions,)>(&mut store, "grant")?;
    let (granted,) = grant.call(&mut store, (Permissions::READ, Permissions::WRITE | Permissions::EXECUTE))?;
    out.push(format!("grant(READ, WRITE | EXECUTE) = {granted:?}"));
    let scale = shapes.get_typed_func::<(Size, f64), (Size,)>(&mut store, "scale")?;
    let (scaled,) = scale.call(&mut store, (Size { width: 1.0, height: 2.0 }, 3.0))?;
    out.push(format!("scale(1 x 2, 3) = {scaled:?}"));

    let greet = Component::new(&engine, include_str!("greet.wat"))?;
    let greet = linker.instantiate(&mut store, &greet)?;
    let summarize = greet.get_typed_func::<(Vec<i32>,), (Summary,)>(&mut store, "summarize")?;
    let (summary,) = summarize.call(&mut store, (vec![3, -1, 4],))?;
    out.push(format!("summarize([3, -1, 4]) = {summary:?}"));

    // A Rust type that does not match is refused when the function is looked up, with the
    // field that differs.
    #[derive(ComponentType, Lift, Lower, Debug)]
    struct WrongSummary {
        count: u64,
        sum: i64,
        min: Option<i32>,
        max: Option<i32>,
    }
    if let Err(e) = greet.get_typed_func::<(Vec<i32>,), (WrongSummary,)>(&mut store, "summarize") {
        out.push(format!("WrongSummary: {e:#}"));
    }
    Ok(out)
}

#[cfg(test)]
#[test]
fn prints_what_the_components_compute() {
    let out = run().unwrap();
    assert_eq!(
        out,
        [
            "area(Circle(1.0)) = 3.141592653589793",
            "area(Rect(Size { width: 2.0, height: 3.5 })) = 7",
            "area(Point) = 0",
            "classify(-4) = Negative",
            "classify(0) = Zero",
            "classify(9) = Positive",
            "grant(READ, WRITE | EXECUTE) = Permissions(READ | WRITE | EXECUTE)",
            "scale(1 x 2, 3) = Size { width: 3.0, height: 6.0 }",
            "summarize([3, -1, 4]) = Summary { count: 3, sum: 6, min: Some(-1), max: Some(4) }",
            "WrongSummary: the function `summarize` does not have the requested type: the result types differ: \
         in result 0: in field \"count\" of the Rust record `WrongSummary`: type mismatch: expected u32, \
         found a Rust type for u64",
        ]
    );
}
