//! Resources through generated bindings: a host-defined resource (`Host<Name>` trait, kept in
//! a `ResourceTable`, given its Rust type with `with`) used by a guest, and a guest-defined
//! resource (`ResourceAny` handles, `Guest<Name>` calls) used by the host.

#![deny(warnings)]

use super::forward::{Bridge, Func, forward, func};
use weld::component::{Component, HasSelf, Linker, Resource, ResourceTable};
use weld::{Engine, Store};

/// What the host keeps for each counter.
pub struct CounterState {
    value: u32,
}

mod host_defined {
    weld::component::bindgen!({
        world: "res",
        inline: r#"
            package test:res;

            interface host {
                /// A counter the host keeps.
                resource counter {
                    constructor(start: u32);
                    get: func() -> u32;
                    bump: func(by: u32);
                    zero: static func() -> counter;
                }
            }

            interface guest {
                use host.{counter};
                make: func(start: u32) -> counter;
                read: func(c: borrow<counter>) -> u32;
                bump: func(c: borrow<counter>, by: u32);
                zero: func() -> counter;
                discard: func(c: counter);
            }

            world res {
                import host;
                export guest;
            }
        "#,
        with: { "test:res/host.counter": crate::bindgen::resources::CounterState },
    });
}

use host_defined::test::res::host::{Counter, HostCounter};

#[derive(Default)]
struct Host {
    table: ResourceTable,
    dropped: Vec<u32>,
}

impl HostCounter for Host {
    fn new(&mut self, start: u32) -> Resource<Counter> {
        self.table.push(CounterState { value: start }).unwrap()
    }
    fn get(&mut self, self_: Resource<Counter>) -> u32 {
        assert!(!self_.owned(), "a method gets a borrow");
        self.table.get(&self_).unwrap().value
    }
    fn bump(&mut self, self_: Resource<Counter>, by: u32) {
        self.table.get_mut(&self_).unwrap().value += by;
    }
    fn zero(&mut self) -> Resource<Counter> {
        self.table.push(CounterState { value: 0 }).unwrap()
    }
    fn drop(&mut self, rep: Resource<Counter>) -> anyhow::Result<()> {
        let state = self.table.delete(rep)?;
        self.dropped.push(state.value);
        Ok(())
    }
}

impl host_defined::test::res::host::Host for Host {}

fn host_defined_component() -> String {
    let funcs = [
        Func {
            import: Some("[constructor]counter"),
            ..func("make", r#"(param "start" u32) (result (own $counter))"#, &["i32"], false)
        },
        Func {
            import: Some("[method]counter.get"),
            import_ty: Some(r#"(param "self" (borrow $counter)) (result u32)"#),
            drops_borrow: Some("counter"),
            flat_result: Some("i32"),
            ..func("read", r#"(param "c" (borrow $counter)) (result u32)"#, &["i32"], false)
        },
        Func {
            import: Some("[method]counter.bump"),
            import_ty: Some(r#"(param "self" (borrow $counter)) (param "by" u32)"#),
            drops_borrow: Some("counter"),
            ..func("bump", r#"(param "c" (borrow $counter)) (param "by" u32)"#, &["i32", "i32"], false)
        },
        Func { import: Some("[static]counter.zero"), ..func("zero", r#"(result (own $counter))"#, &[], false) },
        Func {
            builtin: Some("(canon resource.drop $counter)"),
            ..func("discard", r#"(param "c" (own $counter))"#, &["i32"], false)
        },
    ];
    // The host's instance declares the resource type and its functions.
    let types = [("counter", "(sub resource)")];
    forward(&[Bridge { host: Some("test:res/host"), guest: Some("test:res/guest"), types: &types, funcs: &funcs }])
}

#[test]
fn host_resources_used_by_a_guest() {
    let engine = Engine::default();
    let component = Component::new(&engine, host_defined_component()).expect("the component compiles");
    let mut linker = Linker::new(&engine);
    host_defined::Res::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::default());
    let res = host_defined::Res::instantiate(&mut store, &component, &linker).unwrap();
    let guest = res.test_res_guest();

    // The constructor made the counter in the host's table; the guest gave the handle back.
    let a = guest.call_make(&mut store, 5).unwrap();
    assert!(a.owned());
    assert_eq!(store.data().table.get(&a).unwrap().value, 5);
    guest.call_bump(&mut store, a, 3).unwrap();
    assert_eq!(guest.call_read(&mut store, a).unwrap(), 8);
    let z = guest.call_zero(&mut store).unwrap();
    assert_eq!(guest.call_read(&mut store, z).unwrap(), 0);
    // Dropping it in the guest runs the host's `drop` once.
    guest.call_discard(&mut store, a).unwrap();
    assert_eq!(store.data().dropped, [8]);
    assert!(store.data().table.get(&a).is_err());
    assert_eq!(store.data().table.len(), 1);
}

mod guest_defined {
    weld::component::bindgen!({
        world: "owned",
        inline: r#"
            package test:owned;

            interface things {
                /// A thing the guest defines.
                resource thing {
                    constructor(rep: u32);
                    value: func() -> u32;
                    twice: static func(x: u32) -> u32;
                }
                consume: func(t: thing) -> u32;
            }

            world owned {
                export things;
                export drops: func() -> u32;
            }
        "#,
    });
}

#[test]
fn guest_resources_used_by_the_host() {
    let engine = Engine::default();
    let component = Component::new(&engine, include_str!("wat/owned.wat")).expect("the component compiles");
    let linker = Linker::new(&engine);
    let mut store = Store::new(&engine, ());
    let owned = guest_defined::Owned::instantiate(&mut store, &component, &linker).unwrap();
    let things = owned.test_owned_things();

    let thing = things.thing().call_constructor(&mut store, 7).unwrap();
    assert!(thing.owned());
    assert!(!thing.ty().is_host());
    assert_eq!(things.thing().call_value(&mut store, thing).unwrap(), 70);
    assert_eq!(things.thing().call_twice(&mut store, 21).unwrap(), 42);
    assert_eq!(owned.call_drops(&mut store).unwrap(), 0);
    // Giving the owned handle to the guest, which drops it, runs its destructor.
    assert_eq!(things.call_consume(&mut store, thing).unwrap(), 7);
    assert_eq!(owned.call_drops(&mut store).unwrap(), 1);
    // A handle the host still owns is dropped with `resource_drop`.
    let other = things.thing().call_constructor(&mut store, 9).unwrap();
    other.resource_drop(&mut store).unwrap();
    assert_eq!(owned.call_drops(&mut store).unwrap(), 2);
}
