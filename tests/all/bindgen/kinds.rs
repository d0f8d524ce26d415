//! Every kind of WIT type through generated bindings, both ways: the guest's exported
//! `test:kinds/guest` forwards each call to the host's `test:kinds/host`, so each value
//! goes through a typed export call and the host trait, and the host changes it on the way
//! (a value passed straight back would hide a binding that drops it).

#![deny(warnings)]

use super::forward::{Bridge, forward, func};
use weld::component::{Component, HasSelf, Linker};
use weld::{Engine, Store};

weld::component::bindgen!("kinds" in "tests/all/bindgen/wit/kinds/kinds.wit");

use exports::test::kinds::guest::Guest;
use test::kinds::host::{Color, Perms, Point, Shape};

/// The component: each function of `guest` calls the same of `host`.
pub fn kinds_component() -> String {
    let types = [
        ("point", r#"(record (field "x" s32) (field "y" s32))"#),
        ("shape", r#"(variant (case "circle" f64) (case "rect" $point) (case "none"))"#),
        ("color", r#"(enum "red" "green" "blue-ish")"#),
        ("perms", r#"(flags "read" "write" "exec-all")"#),
        ("points", "(list $point)"),
    ];
    let funcs = [
        func("add", r#"(param "a" u32) (param "b" u32) (result u32)"#, &["i32", "i32"], false),
        func("greet", r#"(param "name" string) (result string)"#, &["i32", "i32"], true),
        func("mirror", r#"(param "p" $point) (result $point)"#, &["i32", "i32"], true),
        func("grow", r#"(param "s" $shape) (result $shape)"#, &["i32", "i64", "i32"], true),
        func("next-color", r#"(param "c" $color) (result $color)"#, &["i32"], false),
        func("toggle", r#"(param "p" $perms) (result $perms)"#, &["i32"], false),
        func("maybe", r#"(param "x" (option u16)) (result (option u16))"#, &["i32", "i32"], true),
        func(
            "checked",
            r#"(param "x" (result u8 (error string))) (result (result u8 (error string)))"#,
            &["i32", "i32", "i32"],
            true,
        ),
        func("pair", r#"(param "t" (tuple u8 string)) (result (tuple string u8))"#, &["i32", "i32", "i32"], true),
        func("sums", r#"(param "xs" (list u32)) (result (list u32))"#, &["i32", "i32"], true),
        func("shift", r#"(param "ps" $points) (result $points)"#, &["i32", "i32"], true),
        func(
            "scalars",
            r#"(param "c" char) (param "f" f32) (param "g" f64) (param "s" s64) (result s64)"#,
            &["i32", "f32", "f64", "i64"],
            false,
        ),
    ];
    forward(&[Bridge { host: Some("test:kinds/host"), guest: Some("test:kinds/guest"), types: &types, funcs: &funcs }])
}

/// The host: changes every value in a way the tests can tell.
#[derive(Default)]
struct Host {
    calls: u32,
}

impl test::kinds::host::Host for Host {
    fn add(&mut self, a: u32, b: u32) -> u32 {
        self.calls += 1;
        a + b + 1000
    }
    fn greet(&mut self, name: String) -> String {
        format!("hello, {name}!")
    }
    fn mirror(&mut self, p: Point) -> Point {
        Point { x: -p.y, y: p.x }
    }
    fn grow(&mut self, s: Shape) -> Shape {
        match s {
            Shape::Circle(r) => Shape::Circle(r * 2.0),
            Shape::Rect(p) => Shape::Rect(Point { x: p.x * 2, y: p.y * 3 }),
            Shape::None => Shape::Circle(0.5),
        }
    }
    fn next_color(&mut self, c: Color) -> Color {
        match c {
            Color::Red => Color::Green,
            Color::Green => Color::BlueIsh,
            Color::BlueIsh => Color::Red,
        }
    }
    fn toggle(&mut self, p: Perms) -> Perms {
        p ^ (Perms::READ | Perms::EXEC_ALL)
    }
    fn maybe(&mut self, x: Option<u16>) -> Option<u16> {
        Some(x.map_or(0, |x| x + 1))
    }
    fn checked(&mut self, x: Result<u8, String>) -> Result<u8, String> {
        match x {
            Ok(n) => Err(format!("was {n}")),
            Err(s) => Ok(s.len() as u8),
        }
    }
    fn pair(&mut self, t: (u8, String)) -> (String, u8) {
        (format!("{}!", t.1), t.0 * 2)
    }
    fn sums(&mut self, xs: Vec<u32>) -> Vec<u32> {
        xs.iter()
            .scan(0, |acc, x| {
                *acc += x;
                Some(*acc)
            })
            .collect()
    }
    fn shift(&mut self, ps: Vec<Point>) -> Vec<Point> {
        ps.into_iter().map(|p| Point { x: p.x + 1, y: p.y }).collect()
    }
    fn scalars(&mut self, c: char, f: f32, g: f64, s: i64) -> i64 {
        c as i64 * 1_000_000 + f as i64 * 1000 + g as i64 + s
    }
}

fn setup() -> (Store<Host>, Kinds) {
    let engine = Engine::default();
    let component = Component::new(&engine, kinds_component()).expect("the component compiles");
    let mut linker = Linker::new(&engine);
    Kinds::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::default());
    let kinds = Kinds::instantiate(&mut store, &component, &linker).unwrap();
    (store, kinds)
}

#[test]
fn scalars_and_strings() {
    let (mut store, kinds) = setup();
    let guest: &Guest = kinds.test_kinds_guest();
    assert_eq!(guest.call_add(&mut store, 2, 3).unwrap(), 1005);
    // The host trait ran, on the store's data.
    assert_eq!(store.data().calls, 1);
    assert_eq!(guest.call_greet(&mut store, "weld").unwrap(), "hello, weld!");
    assert_eq!(guest.call_scalars(&mut store, 'a', 2.5, 7.9, -4).unwrap(), 97_000_000 + 2000 + 7 - 4);
    // Calls can follow each other: post-return ran.
    assert_eq!(guest.call_add(&mut store, 0, 0).unwrap(), 1000);
}

#[test]
fn records_variants_enums_flags() {
    let (mut store, kinds) = setup();
    let guest = kinds.test_kinds_guest();
    let p = guest.call_mirror(&mut store, Point { x: 3, y: 4 }).unwrap();
    assert_eq!((p.x, p.y), (-4, 3));
    let Shape::Circle(r) = guest.call_grow(&mut store, Shape::Circle(1.5)).unwrap() else { panic!() };
    assert_eq!(r, 3.0);
    let Shape::Rect(p) = guest.call_grow(&mut store, Shape::Rect(Point { x: 1, y: 1 })).unwrap() else { panic!() };
    assert_eq!((p.x, p.y), (2, 3));
    assert!(matches!(guest.call_grow(&mut store, Shape::None).unwrap(), Shape::Circle(r) if r == 0.5));
    assert_eq!(guest.call_next_color(&mut store, Color::Green).unwrap(), Color::BlueIsh);
    assert_eq!(guest.call_next_color(&mut store, Color::BlueIsh).unwrap(), Color::Red);
    assert_eq!(guest.call_toggle(&mut store, Perms::READ | Perms::WRITE).unwrap(), Perms::WRITE | Perms::EXEC_ALL);
}

#[test]
fn options_results_tuples_lists() {
    let (mut store, kinds) = setup();
    let guest = kinds.test_kinds_guest();
    assert_eq!(guest.call_maybe(&mut store, Some(41)).unwrap(), Some(42));
    assert_eq!(guest.call_maybe(&mut store, None).unwrap(), Some(0));
    assert_eq!(guest.call_checked(&mut store, Ok(7)).unwrap(), Err("was 7".to_string()));
    assert_eq!(guest.call_checked(&mut store, Err("four".into())).unwrap(), Ok(4));
    assert_eq!(guest.call_pair(&mut store, (21, "hi")).unwrap(), ("hi!".to_string(), 42));
    assert_eq!(guest.call_sums(&mut store, &[1, 2, 3, 4]).unwrap(), [1, 3, 6, 10]);
    assert_eq!(guest.call_sums(&mut store, &[]).unwrap(), Vec::<u32>::new());
    let shifted = guest.call_shift(&mut store, &vec![Point { x: 1, y: 2 }, Point { x: -1, y: 5 }]).unwrap();
    assert_eq!(shifted.iter().map(|p| (p.x, p.y)).collect::<Vec<_>>(), [(2, 2), (0, 5)]);
}

#[test]
fn docs_and_names_follow_the_wit() {
    // Kebab-case names are Rust names; the type alias is one.
    let _: test::kinds::host::Points = vec![Point { x: 0, y: 0 }];
    let _: exports::test::kinds::guest::Points = Vec::new();
    // A component missing an export is refused when the bindings load, naming it.
    let engine = Engine::default();
    let component = Component::new(&engine, "(component)").unwrap();
    let mut store = Store::new(&engine, Host::default());
    let linker = Linker::new(&engine);
    let err = Kinds::instantiate(&mut store, &component, &linker).err().expect("no export");
    assert_eq!(err.to_string(), "the instance has no export named `test:kinds/guest`");
}
