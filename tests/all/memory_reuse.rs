//! Memory reservations are reused across stores of one engine (`vm/reservations.rs`): a
//! memory built on a reused reservation must look exactly like a fresh one: zero contents
//! (or its data segments), its own size, and traps past it.

use weld::{Engine, Instance, Linker, Module, Store, TypedFunc};

const MODULE: &str = r#"(module
  (memory (export "mem") 1)
  ;; At 4096, so that the initial contents are large enough for a copy-on-write image.
  (data (i32.const 4096) "abc")
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

/// The same without a data segment, so its memory has no image.
fn without_data() -> String {
    MODULE.replace(r#"(data (i32.const 4096) "abc")"#, "")
}

struct Exports {
    load: TypedFunc<i32, i32>,
    store: TypedFunc<(i32, i32), ()>,
    grow: TypedFunc<i32, i32>,
}

fn instantiate(engine: &Engine, module: &Module) -> (Store<()>, Exports) {
    let mut store = Store::new(engine, ());
    let instance: Instance = Linker::new(engine).instantiate(&mut store, module).unwrap();
    let exports = Exports {
        load: instance.get_typed_func(&mut store, "load").unwrap(),
        store: instance.get_typed_func(&mut store, "store").unwrap(),
        grow: instance.get_typed_func(&mut store, "grow").unwrap(),
    };
    (store, exports)
}

#[test]
fn a_reused_reservation_is_a_fresh_memory() {
    let engine = Engine::default();
    // The memory with an image comes first: its reservation must come back without the
    // image mapped, or the memory without data would see it.
    for (wat, first) in [(MODULE.to_string(), i32::from(b'a')), (without_data(), 0)] {
        let module = Module::new(&engine, &wat).unwrap();
        let beyond_one_page = 2 * 65536 + 100;
        for round in 0..4 {
            let (mut store, e) = instantiate(&engine, &module);
            assert_eq!(e.load.call(&mut store, 4096).unwrap(), first, "round {round}");
            for addr in [3, 100, 65535] {
                assert_eq!(e.load.call(&mut store, addr).unwrap(), 0, "round {round}, address {addr}");
            }
            // Only one page is accessible, however far an earlier memory grew.
            let err = e.load.call(&mut store, beyond_one_page).unwrap_err();
            assert!(format!("{err:#}").contains("out of bounds"), "round {round}: {err:#}");
            // Dirty everything before the store (and its memory) is dropped.
            assert_eq!(e.grow.call(&mut store, 2).unwrap(), 1);
            for addr in [0, 3, 100, 4096, 65535, beyond_one_page] {
                e.store.call(&mut store, (addr, 0x5a)).unwrap();
            }
        }
    }
}

#[test]
fn reservations_are_reused_while_memories_are_alive_elsewhere() {
    // Many stores alive at once take more reservations than the pool holds; dropping them
    // all and starting over still gives fresh memories.
    let engine = Engine::default();
    let module = Module::new(&engine, without_data()).unwrap();
    for _ in 0..2 {
        let mut alive = Vec::new();
        for i in 0..24 {
            let (mut store, e) = instantiate(&engine, &module);
            assert_eq!(e.load.call(&mut store, 10).unwrap(), 0);
            e.store.call(&mut store, (10, i)).unwrap();
            alive.push((store, e));
        }
        for (i, (store, e)) in alive.iter_mut().enumerate() {
            assert_eq!(e.load.call(&mut *store, 10).unwrap(), i as i32, "each store has its own memory");
        }
    }
}
