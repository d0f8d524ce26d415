//! The worlds of jco's runtime test components (extracted with `wasm-tools component wit`
//! into `tests/all/bindgen/wit/<name>/world.wit`): each expands and compiles, and the
//! generated API has the shape the tests that drive those components rely on. The
//! components themselves import WASI, so running them is left to the tests that stub it.

#![deny(warnings)]

use anyhow::Result;
use weld::Store;
use weld::component::{Component, HasData, HasSelf, Instance, Linker, Resource, ResourceAny};

/// The store these checks use.
type S<'a> = &'a mut Store<Host>;

/// Checks that `method` of `$ty` takes the store and the arguments given and returns
/// `Result<$ret>`.
macro_rules! calls {
    ($ty:ty, $method:ident($($arg:ident: $argty:ty),*) -> $ret:ty) => {{
        let check = |this: &$ty, store: S<'_>, $($arg: $argty),*| -> Result<$ret> { this.$method(store, $($arg),*) };
        let _ = check;
    }};
}

/// A host implementing the test interfaces (not WASI: `with` or per-interface
/// `add_to_linker` leaves WASI to whoever stubs it).
struct Host;

/// Checks that an interface's `add_to_linker` takes a linker and a getter for any
/// `D: HasData` whose data implements its `Host`.
macro_rules! links {
    ($($module:ident)::+) => {{
        #[allow(dead_code)]
        fn link<T: 'static, D: HasData>(linker: &mut Linker<T>, get: fn(&mut T) -> D::Data<'_>) -> Result<()>
        where
            for<'a> D::Data<'a>: $($module)::+::Host,
        {
            $($module)::+::add_to_linker::<T, D>(linker, get)
        }
    }};
}

/// Checks that the world's constructors exist with the expected types.
macro_rules! instantiates {
    ($world:ty) => {{
        let instantiate =
            |s: S<'_>, c: &Component, l: &Linker<Host>| -> Result<$world> { <$world>::instantiate(s, c, l) };
        let new = |s: S<'_>, i: &Instance| -> Result<$world> { <$world>::new(s, i) };
        let _ = (instantiate, new);
    }};
}

mod numbers {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/numbers/world.wit" });
}
mod records {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/records/world.wit" });
}
mod strings {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/strings/world.wit" });
}
mod many_arguments {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/many-arguments/world.wit" });
}
mod lists {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/lists/world.wit" });
}
mod variants {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/variants/world.wit" });
}
mod flavorful {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/flavorful/world.wit" });
}
mod smoke {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/smoke/world.wit" });
}
mod resource_borrow_simple {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/resource_borrow_simple/world.wit" });
}
mod resource_borrow_simple_dashed {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/resource-borrow-simple/world.wit" });
}
mod versions {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/versions/world.wit" });
}
mod example_guest_export {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/example_guest_export/world.wit" });
}
mod example_guest_import {
    weld::component::bindgen!({ world: "root", path: "tests/all/bindgen/wit/example_guest_import/world.wit" });
}

impl numbers::test::numbers::test::Host for Host {
    fn roundtrip_u8(&mut self, a: u8) -> u8 {
        a
    }
    fn roundtrip_s8(&mut self, a: i8) -> i8 {
        a
    }
    fn roundtrip_u16(&mut self, a: u16) -> u16 {
        a
    }
    fn roundtrip_s16(&mut self, a: i16) -> i16 {
        a
    }
    fn roundtrip_u32(&mut self, a: u32) -> u32 {
        a
    }
    fn roundtrip_s32(&mut self, a: i32) -> i32 {
        a
    }
    fn roundtrip_u64(&mut self, a: u64) -> u64 {
        a
    }
    fn roundtrip_s64(&mut self, a: i64) -> i64 {
        a
    }
    fn roundtrip_f32(&mut self, a: f32) -> f32 {
        a
    }
    fn roundtrip_f64(&mut self, a: f64) -> f64 {
        a
    }
    fn roundtrip_char(&mut self, a: char) -> char {
        a
    }
    fn set_scalar(&mut self, _: u32) {}
    fn get_scalar(&mut self) -> u32 {
        0
    }
}

#[test]
fn numbers_api() {
    use numbers::exports::test::numbers::test::Guest;
    links!(numbers::test::numbers::test);
    instantiates!(numbers::Root);
    calls!(numbers::Root, call_test_imports() -> ());
    calls!(Guest, call_roundtrip_u8(a: u8) -> u8);
    calls!(Guest, call_roundtrip_s64(a: i64) -> i64);
    calls!(Guest, call_roundtrip_char(a: char) -> char);
    calls!(Guest, call_set_scalar(a: u32) -> ());
    let guest = |w: &numbers::Root| -> Guest { w.test_numbers_test().clone() };
    let _ = guest;
}

#[test]
fn records_api() {
    use records::exports::test::records::test::{F1, Flag8, Flag16, Flag32, Guest, R1};
    links!(records::test::records::test);
    instantiates!(records::Root);
    calls!(Guest, call_roundtrip_flags1(a: F1) -> F1);
    calls!(Guest, call_roundtrip_flags3(a: Flag8, b: Flag16, c: Flag32) -> (Flag8, Flag16, Flag32));
    calls!(Guest, call_roundtrip_record1(a: R1) -> R1);
    calls!(Guest, call_swap_tuple(a: (u8, u32)) -> (u32, u8));
    calls!(Guest, call_tuple1(a: (u8,)) -> (u8,));
}

#[test]
fn strings_api() {
    links!(strings::test::strings::imports);
    instantiates!(strings::Root);
    calls!(strings::Root, call_roundtrip(s: &str) -> String);
    calls!(strings::Root, call_return_empty() -> String);
}

#[test]
fn many_arguments_api() {
    links!(many_arguments::imports);
    instantiates!(many_arguments::Root);
    calls!(many_arguments::Root, call_many_arguments(
        a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64, a7: u64, a8: u64,
        a9: u64, a10: u64, a11: u64, a12: u64, a13: u64, a14: u64, a15: u64, a16: u64) -> ());
}

#[test]
fn lists_api() {
    use lists::exports::test::lists::test::Guest;
    links!(lists::test::lists::test);
    instantiates!(lists::Root);
    calls!(Guest, call_list_param(a: &[u8]) -> ());
    calls!(Guest, call_list_param3(a: &[String]) -> ());
    calls!(Guest, call_empty_string_result() -> String);
    calls!(lists::Root, call_allocated_bytes() -> u32);
}

#[test]
fn variants_api() {
    use variants::exports::test::variants::test::{Casts, E1, Guest};
    links!(variants::test::variants::test);
    instantiates!(variants::Root);
    calls!(Guest, call_roundtrip_option(a: Option<f32>) -> Option<u8>);
    calls!(Guest, call_roundtrip_result(a: Result<u32, f32>) -> Result<f64, u8>);
    calls!(Guest, call_roundtrip_enum(a: E1) -> E1);
    calls!(Guest, call_variant_casts(a: Casts) -> Casts);
}

#[test]
fn flavorful_api() {
    use flavorful::exports::test::flavorful::test::{Guest, ListInRecord3};
    links!(flavorful::test::flavorful::test);
    instantiates!(flavorful::Root);
    calls!(Guest, call_f_list_in_record3(a: &ListInRecord3) -> ListInRecord3);
}

#[test]
fn smoke_api() {
    links!(smoke::test::smoke::imports);
    instantiates!(smoke::Root);
    calls!(smoke::Root, call_thunk() -> ());
}

#[test]
fn resource_borrow_simple_api() {
    // The world imports resource `r` and `test: func(r: borrow<r>)` itself.
    instantiates!(resource_borrow_simple::Root);
    calls!(resource_borrow_simple::Root, call_test_imports() -> ());
    let add = |linker: &mut Linker<Host>| -> Result<()> {
        resource_borrow_simple::Root::add_to_linker_imports::<Host, HasSelf<Host>>(linker, |h| h)
    };
    let _ = add;
    instantiates!(resource_borrow_simple_dashed::Root);
}

impl resource_borrow_simple::HostR for Host {
    fn new(&mut self) -> Resource<resource_borrow_simple::R> {
        Resource::new_own(1)
    }
    fn drop(&mut self, _: Resource<resource_borrow_simple::R>) -> Result<()> {
        Ok(())
    }
}

impl resource_borrow_simple::RootImports for Host {
    fn test(&mut self, _: Resource<resource_borrow_simple::R>) {}
}

#[test]
fn versions_api() {
    use versions::exports::test::{dep0_1_0, dep0_2_0};
    links!(versions::test::dep0_1_0::test);
    links!(versions::test::dep0_2_0::test);
    instantiates!(versions::Root);
    calls!(dep0_1_0::test::Guest, call_y(a: f32) -> f32);
    calls!(dep0_2_0::test::Guest, call_z(a: f32, b: f32) -> f32);
    let v1 = |w: &versions::Root| -> dep0_1_0::test::Guest { w.test_dep0_1_0_test().clone() };
    let v2 = |w: &versions::Root| -> dep0_2_0::test::Guest { w.test_dep0_2_0_test().clone() };
    let _ = (v1, v2);
}

#[test]
fn example_guest_api() {
    use example_guest_export::exports::example::component::backend::{Guest, GuestScalars};
    instantiates!(example_guest_export::Root);
    // Exported resources are `ResourceAny`s, with their functions on `Guest<Name>`.
    calls!(GuestScalars<'_>, call_get_b(self_: ResourceAny) -> u32);
    calls!(GuestScalars<'_>, call_get_a() -> u32);
    calls!(Guest, call_fetch(url: &str) -> Vec<u8>);
    calls!(Guest, call_scalar_arg(x: ResourceAny) -> u32);

    // An imported resource is a `Resource<T>` of the host, also in an exported function.
    use example_guest_import::example2::component::backend::Scalars;
    links!(example_guest_import::example2::component::backend);
    instantiates!(example_guest_import::Root);
    calls!(example_guest_import::exports::example2::component::front::Guest, call_handle(x: Resource<Scalars>) -> u32);
}
