//! Resources both ways (a host resource borrowed by C++ and Rust guests, a host resource
//! owned by a Rust guest, a guest resource held by the host), two versions of one interface,
//! and the import-free adders.

use super::{linker_with, runtime_component};
use crate::real_components::components_dir;
use weld::component::{Component, HasSelf, Linker, ResourceAny};
use weld::{Engine, Store};

/// A world-level resource `r` the host implements, and `test: func(r: borrow<r>)`: the C++ and
/// the Rust build of wit-bindgen's `resource-borrow-simple` test.
mod resource_borrow_simple {
    weld::component::bindgen!({
        inline: "
            package root:component;
            world resource-borrow-simple {
                resource r { constructor(); }
                import test: func(r: borrow<r>);
                export test-imports: func();
            }",
    });

    /// Counts constructions and records the rep each `test` call received.
    #[derive(Default)]
    pub struct Host {
        pub constructed: Vec<u32>,
        pub tested: Vec<(u32, bool)>,
        pub dropped: Vec<u32>,
    }

    impl HostR for Host {
        fn new(&mut self) -> weld::component::Resource<R> {
            let rep = 100 + self.constructed.len() as u32;
            self.constructed.push(rep);
            weld::component::Resource::new_own(rep)
        }
        fn drop(&mut self, r: weld::component::Resource<R>) -> anyhow::Result<()> {
            self.dropped.push(r.rep());
            Ok(())
        }
    }

    impl ResourceBorrowSimpleImports for Host {
        fn test(&mut self, r: weld::component::Resource<R>) {
            self.tested.push((r.rep(), r.owned()));
        }
    }
}

#[test]
fn resource_borrow_simple_cpp_and_rust() -> anyhow::Result<()> {
    use resource_borrow_simple::{Host, ResourceBorrowSimple};
    let engine = Engine::default();
    for file in ["resource-borrow-simple.component.wasm", "resource_borrow_simple.component.wasm"] {
        let component = runtime_component(&engine, file);
        let linker =
            linker_with(&engine, &component, |l| ResourceBorrowSimple::add_to_linker::<_, HasSelf<_>>(l, |h| h));
        let mut store = Store::new(&engine, Host::default());
        let world = ResourceBorrowSimple::instantiate(&mut store, &component, &linker)?;
        world.call_test_imports(&mut store)?;
        let host = store.data();
        assert_eq!(host.constructed, [100], "{file}: the guest constructed one `r` through the host");
        assert_eq!(host.tested, [(100, false)], "{file}: `test` received a borrow of the host's own object");
        assert_eq!(host.dropped, [100], "{file}: the guest dropped its `r`");
    }
    Ok(())
}

mod example_guest_import {
    weld::component::bindgen!({
        inline: "
            package example2:component@0.1.0;
            interface backend {
                resource scalars { get-b: func() -> u32; }
                fetch: func(x: borrow<scalars>) -> scalars;
            }
            interface front {
                use backend.{scalars};
                handle: func(x: scalars) -> u32;
            }
            world example-guest-import {
                import backend;
                export front;
            }",
    });

    use example2::component::backend::Scalars;
    use weld::component::Resource;

    /// jco's host: each `scalars` it creates remembers its creation index (from 0), which is
    /// what `get-b` returns; `fetch` makes a new one.
    #[derive(Default)]
    pub struct Host {
        pub created: u32,
        pub dropped: Vec<u32>,
    }

    impl Host {
        pub fn create(&mut self) -> Resource<Scalars> {
            self.created += 1;
            Resource::new_own(self.created - 1)
        }
    }

    impl example2::component::backend::HostScalars for Host {
        fn get_b(&mut self, this: Resource<Scalars>) -> u32 {
            this.rep()
        }
        fn drop(&mut self, this: Resource<Scalars>) -> anyhow::Result<()> {
            self.dropped.push(this.rep());
            Ok(())
        }
    }

    impl example2::component::backend::Host for Host {
        fn fetch(&mut self, _x: Resource<Scalars>) -> Resource<Scalars> {
            self.create()
        }
    }
}

#[test]
fn example_guest_import() -> anyhow::Result<()> {
    use example_guest_import::{ExampleGuestImport, Host};
    let engine = Engine::default();
    let path = components_dir()
        .join("jco/packages__jco-transpile__test__fixtures__components__runtime__example_guest_import.wasm");
    let component = Component::from_file(&engine, &path)?;
    let linker = linker_with(&engine, &component, |l| ExampleGuestImport::add_to_linker::<_, HasSelf<_>>(l, |h| h));
    let mut store = Store::new(&engine, Host::default());
    let world = ExampleGuestImport::instantiate(&mut store, &component, &linker)?;
    let front = world.example2_component_front();
    // As jco's test: two objects made first, then each handed to the guest, whose `handle`
    // adds its `get-b` to that of what `fetch` returns for it.
    let x = store.data_mut().create();
    let y = store.data_mut().create();
    assert_eq!(front.call_handle(&mut store, x)?, 2);
    assert_eq!(front.call_handle(&mut store, y)?, 4);
    assert_eq!(store.data().created, 4, "`fetch` ran once per call");
    let mut dropped = store.data().dropped.clone();
    dropped.sort();
    assert_eq!(dropped, [0, 1, 2, 3], "every host object given to or made for the guest was dropped");
    Ok(())
}

mod example_guest_export {
    weld::component::bindgen!({
        inline: "
            package example:component@0.1.0;
            interface backend {
                resource scalars {
                    constructor();
                    get-a: static func() -> u32;
                    get-b: func() -> u32;
                }
                fetch: func(url: string) -> list<u8>;
                scalar-arg: func(x: borrow<scalars>) -> u32;
            }
            world example-guest-export {
                export backend;
            }",
    });
}

#[test]
fn example_guest_export() -> anyhow::Result<()> {
    use example_guest_export::ExampleGuestExport;
    let engine = Engine::default();
    let path = components_dir()
        .join("jco/packages__jco-transpile__test__fixtures__components__runtime__example_guest_export.wasm");
    let component = Component::from_file(&engine, &path)?;
    let linker = Linker::new(&engine);
    let mut store = Store::new(&engine, ());
    let world = ExampleGuestExport::instantiate(&mut store, &component, &linker)?;
    let backend = world.example_component_backend();
    let scalars = backend.scalars();
    assert_eq!(scalars.call_get_a(&mut store)?, 5);
    let r: ResourceAny = scalars.call_constructor(&mut store)?;
    assert_eq!(scalars.call_get_b(&mut store, r)?, 2);
    assert_eq!(backend.call_scalar_arg(&mut store, r)?, 7);
    r.resource_drop(&mut store)?;
    Ok(())
}

mod versions {
    weld::component::bindgen!({
        inline: "
            package root:component;
            world versions {
                import test:dep/test@0.1.0;
                import test:dep/test@0.2.0;
                export test-imports: func();
                export test:dep/test@0.1.0;
                export test:dep/test@0.2.0;
            }
            package test:dep@0.1.0 {
                interface test {
                    x: func() -> f32;
                    y: func(a: f32) -> f32;
                }
            }
            package test:dep@0.2.0 {
                interface test {
                    x: func() -> f32;
                    z: func(a: f32, b: f32) -> f32;
                }
            }",
    });

    /// The host side of both versions, as wit-bindgen's test defines them.
    pub struct Host;

    impl test::dep0_1_0::test::Host for Host {
        fn x(&mut self) -> f32 {
            1.0
        }
        fn y(&mut self, a: f32) -> f32 {
            1.0 + a
        }
    }

    impl test::dep0_2_0::test::Host for Host {
        fn x(&mut self) -> f32 {
            2.0
        }
        fn z(&mut self, a: f32, b: f32) -> f32 {
            2.0 + a + b
        }
    }
}

#[test]
fn versions_side_by_side() -> anyhow::Result<()> {
    use versions::Versions;
    let engine = Engine::default();
    let component = runtime_component(&engine, "versions.component.wasm");
    let linker = linker_with(&engine, &component, |l| Versions::add_to_linker::<_, HasSelf<_>>(l, |h| h));
    let mut store = Store::new(&engine, versions::Host);
    let world = Versions::instantiate(&mut store, &component, &linker)?;
    world.call_test_imports(&mut store)?;
    let v1 = world.test_dep0_1_0_test();
    let v2 = world.test_dep0_2_0_test();
    assert_eq!(v1.call_x(&mut store)?, 1.0);
    assert_eq!(v1.call_y(&mut store, 1.0)?, 2.0);
    assert_eq!(v2.call_x(&mut store)?, 2.0);
    assert_eq!(v2.call_z(&mut store, 1.0, 2.0)?, 5.0);
    Ok(())
}

mod adder {
    weld::component::bindgen!({
        inline: "
            package docs:adder@0.1.0;
            interface add { add: func(x: u32, y: u32) -> u32; }
            world adder { export add; }",
    });
}

#[test]
fn adders_built_by_cargo_component() -> anyhow::Result<()> {
    let engine = Engine::default();
    for file in [
        "jco/examples__transpile__adder__adder.wasm",
        "jco/packages__jco-transpile__test__fixtures__components__adder.component.wasm",
    ] {
        let component = Component::from_file(&engine, components_dir().join(file))?;
        let mut store = Store::new(&engine, ());
        let world = adder::Adder::instantiate(&mut store, &component, &Linker::new(&engine))?;
        assert_eq!(world.docs_adder_add().call_add(&mut store, 1, 2)?, 3, "{file}");
    }
    Ok(())
}

/// A world whose exports the component lacks, or has with other types, fails to instantiate
/// with an error naming the export (never a panic).
mod numbers_mistyped {
    weld::component::bindgen!({
        inline: "
            package test:numbers;
            interface test { roundtrip-u8: func(a: u16) -> u16; }
            world mistyped { export test; }",
    });
}

#[test]
fn a_world_that_does_not_match_the_component_is_a_clear_error() {
    let engine = Engine::default();
    let component = runtime_component(&engine, "numbers.component.wasm");
    let mut linker = Linker::<()>::new(&engine);
    linker.define_unknown_imports_as_traps(&component).unwrap();
    let mut store = Store::new(&engine, ());
    let missing =
        adder::Adder::instantiate(&mut store, &component, &linker).err().expect("the adder world does not match");
    assert_eq!(format!("{missing:#}"), "the instance has no export named `docs:adder/add@0.1.0`");
    let mistyped = numbers_mistyped::Mistyped::instantiate(&mut store, &component, &linker)
        .err()
        .expect("roundtrip-u8 takes a u8, not a u16");
    let message = format!("{mistyped:#}");
    assert!(
        message.starts_with("type-checking the export `roundtrip-u8` of the exported instance `test:numbers/test`: "),
        "{message}"
    );
    assert!(message.contains("u16") && message.contains("u8"), "{message}");
}
