//! The pooling instance allocator (`Config::allocation_strategy` with a
//! `PoolingAllocationConfig`): every limit refuses what exceeds it with an error naming the
//! limit, a dropped store gives its slots and counts back, and a reused slot holds exactly what
//! a fresh memory or table would (zeros, its image, its init values; its own size). Reuse of
//! the very same slot is checked (the memory's address, or a pool of one slot), so that the
//! fresh-contents checks cannot pass on a slot that was never used before.

use weld::component::{Component, Linker as ComponentLinker};
use weld::{Config, Engine, Instance, Linker, Memory, MemoryType, Module, PoolingAllocationConfig, Store};
use weld::{RefType, Table, TableType, Val};

/// An engine with the pooling allocator: small totals (4 memories and tables, 10 instances),
/// then whatever `configure` changes.
fn pooled(configure: impl FnOnce(&mut PoolingAllocationConfig)) -> Engine {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(10).total_component_instances(10).total_memories(4).total_tables(4);
    configure(&mut pool);
    let mut config = Config::new();
    config.allocation_strategy(pool);
    Engine::new(&config).expect("a pooled engine")
}

fn instantiate(engine: &Engine, module: &Module) -> anyhow::Result<(Store<()>, Instance)> {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, module)?;
    Ok((store, instance))
}

/// Asserts that `result` failed with an error whose text contains `expected`.
#[track_caller]
fn assert_fails<T>(result: anyhow::Result<T>, expected: &str) {
    match result {
        Ok(_) => panic!("succeeded, expected an error containing {expected:?}"),
        Err(e) => assert!(format!("{e:#}").contains(expected), "expected {expected:?} in: {e:#}"),
    }
}

const ONE_MEMORY: &str = r#"(module (memory (export "mem") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;

const ONE_TABLE: &str = r#"(module (table (export "t") 2 funcref)
  (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))"#;

#[test]
fn total_memories_is_enforced_and_a_dropped_store_frees_its_slots() {
    let engine = pooled(|p| {
        p.total_memories(3);
    });
    let module = Module::new(&engine, ONE_MEMORY).unwrap();
    // Two instances in one store take two slots; a third store takes the last.
    let mut first = Store::new(&engine, ());
    Linker::new(&engine).instantiate(&mut first, &module).unwrap();
    Linker::new(&engine).instantiate(&mut first, &module).unwrap();
    let second = instantiate(&engine, &module).unwrap();
    assert_fails(
        instantiate(&engine, &module),
        "pooling allocator: the 4th concurrent memory exceeds total_memories = 3",
    );
    // The host's own memories never come from the pool.
    Memory::new(&mut first, MemoryType::new(1, None)).unwrap();
    drop(first);
    let third = instantiate(&engine, &module).unwrap();
    let fourth = instantiate(&engine, &module).unwrap();
    assert_fails(instantiate(&engine, &module), "exceeds total_memories = 3");
    drop((second, third, fourth));
    for _ in 0..3 {
        instantiate(&engine, &module).unwrap();
    }
}

#[test]
fn total_tables_is_enforced_and_a_dropped_store_frees_its_slots() {
    let engine = pooled(|p| {
        p.total_tables(2);
    });
    let module = Module::new(&engine, ONE_TABLE).unwrap();
    let first = instantiate(&engine, &module).unwrap();
    let second = instantiate(&engine, &module).unwrap();
    assert_fails(instantiate(&engine, &module), "pooling allocator: the 3rd concurrent table exceeds total_tables = 2");
    let (mut store, _) = second;
    Table::new(&mut store, TableType::new(RefType::FUNCREF, 3, None), Val::FuncRef(None))
        .expect("the host's own tables never come from the pool");
    drop(store);
    let _third = instantiate(&engine, &module).unwrap();
    assert_fails(instantiate(&engine, &module), "exceeds total_tables = 2");
    drop(first);
    instantiate(&engine, &module).unwrap();
}

#[test]
fn total_core_instances_is_enforced_and_a_dropped_store_frees_its_count() {
    let engine = pooled(|p| {
        p.total_core_instances(2);
    });
    let module = Module::new(&engine, "(module (func (export \"f\")))").unwrap();
    let mut store = Store::new(&engine, ());
    Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    assert_fails(
        instantiate(&engine, &module),
        "pooling allocator: the 3rd concurrent core instance exceeds total_core_instances = 2",
    );
    drop(store);
    let _a = instantiate(&engine, &module).unwrap();
    let _b = instantiate(&engine, &module).unwrap();
    assert_fails(instantiate(&engine, &module), "exceeds total_core_instances = 2");
}

#[test]
fn memories_larger_than_max_memory_size_are_refused() {
    let engine = pooled(|p| {
        p.max_memory_size(2 << 16).total_core_instances(1);
    });
    let too_big = Module::new(&engine, "(module (memory 3))").unwrap();
    assert_fails(
        instantiate(&engine, &too_big),
        "pooling allocator: memory 0 of the module has a minimum of 3 pages (196608 bytes), more than \
         max_memory_size = 131072 bytes",
    );
    let named = Module::new(&engine, "(module $big (memory (import \"m\" \"m\") 1) (memory 3))").unwrap();
    let mut store = Store::new(&engine, ());
    let imported = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    assert_fails(
        Instance::new(&mut store, &named, &[imported.into()]),
        "memory 1 of module `big` has a minimum of 3 pages",
    );
    // A refused module took nothing: the one core instance allowed is still free.
    instantiate(&engine, &Module::new(&engine, "(module (memory 2))").unwrap()).unwrap();
}

#[test]
fn tables_larger_than_table_elements_are_refused() {
    let engine = pooled(|p| {
        p.table_elements(10).total_core_instances(1);
    });
    let too_big = Module::new(&engine, "(module (table 11 funcref))").unwrap();
    assert_fails(
        instantiate(&engine, &too_big),
        "pooling allocator: table 0 of the module has a minimum of 11 elements, more than table_elements = 10",
    );
    instantiate(&engine, &Module::new(&engine, "(module (table 10 funcref))").unwrap()).unwrap();
}

#[test]
fn modules_with_more_memories_or_tables_than_allowed_are_refused() {
    let two_memories = "(module (memory 1) (memory 1))";
    let two_tables = "(module (table 1 funcref) (table 1 externref))";
    let engine = pooled(|_| {});
    assert_fails(
        instantiate(&engine, &Module::new(&engine, two_memories).unwrap()),
        "pooling allocator: the module defines 2 memories, more than max_memories_per_module = 1",
    );
    assert_fails(
        instantiate(&engine, &Module::new(&engine, two_tables).unwrap()),
        "pooling allocator: the module defines 2 tables, more than max_tables_per_module = 1",
    );
    let engine = pooled(|p| {
        p.max_memories_per_module(2).max_tables_per_module(2);
    });
    let (_store, _) = instantiate(&engine, &Module::new(&engine, two_memories).unwrap()).unwrap();
    instantiate(&engine, &Module::new(&engine, two_tables).unwrap()).unwrap();
}

#[test]
fn memory_and_table_growth_stops_at_the_slot_limits() {
    let engine = pooled(|p| {
        p.max_memory_size(3 << 16).table_elements(5);
    });
    let (mut store, instance) = instantiate(&engine, &Module::new(&engine, ONE_MEMORY).unwrap()).unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 3).unwrap(), -1, "1 + 3 pages exceed max_memory_size");
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    let mem = instance.get_memory(&store, "mem").unwrap();
    assert_eq!(mem.size(&store), 3);
    assert!(mem.grow(&mut store, 1).is_err());
    assert_eq!(mem.data(&store).len(), 3 << 16);

    let (mut store, instance) = instantiate(&engine, &Module::new(&engine, ONE_TABLE).unwrap()).unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 4).unwrap(), -1, "2 + 4 elements exceed table_elements");
    assert_eq!(grow.call(&mut store, 3).unwrap(), 2);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert_eq!(instance.get_table(&store, "t").unwrap().size(&store), 5);
}

/// The path of the mapping that contains `addr` in /proc/self/maps ("" for an anonymous one).
fn mapping_path_at(addr: usize) -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let range = line.split(' ').next().unwrap();
        let (start, end) = range.split_once('-').unwrap();
        let (start, end) = (usize::from_str_radix(start, 16).unwrap(), usize::from_str_radix(end, 16).unwrap());
        if (start..end).contains(&addr) {
            return line.split_whitespace().nth(5).unwrap_or("").to_string();
        }
    }
    panic!("no mapping contains {addr:#x}");
}

/// With a data segment of a page and more, so that the memory gets a copy-on-write image.
const WITH_IMAGE: &str = r#"(module (memory (export "mem") 1) (data (i32.const 4096) "image bytes")
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;

#[test]
fn a_reused_memory_slot_reads_as_fresh() {
    for keep_resident in [0, 1 << 16] {
        let engine = pooled(|p| {
            p.total_memories(1).linear_memory_keep_resident(keep_resident);
        });
        let plain = Module::new(&engine, ONE_MEMORY).unwrap();
        let two_pages = Module::new(&engine, "(module (memory (export \"mem\") 2))").unwrap();
        let image = Module::new(&engine, WITH_IMAGE).unwrap();
        let mut image_contents = vec![0u8; 1 << 16];
        image_contents[4096..4096 + 11].copy_from_slice(b"image bytes");
        let mut slot = None;
        // Each module after each other, the image's first and last: the image must be gone
        // for the others, and a written image must come back as it was.
        for (round, module) in [&image, &plain, &image, &two_pages, &image, &image, &plain].into_iter().enumerate() {
            let (mut store, instance) = instantiate(&engine, module).unwrap();
            let mem = instance.get_memory(&store, "mem").unwrap();
            let base = mem.data(&store).as_ptr() as usize;
            assert_eq!(*slot.get_or_insert(base), base, "round {round}: the one slot is reused");
            let expected_pages = if std::ptr::eq(module, &two_pages) { 2 } else { 1 };
            assert_eq!(mem.size(&store), expected_pages, "round {round}: the new minimum");
            if std::ptr::eq(module, &image) {
                assert_eq!(mem.data(&store), &image_contents[..], "round {round}: exactly the image");
                assert!(mapping_path_at(base).contains("weld-memory-image"), "round {round}: the image is mapped");
            } else {
                assert!(mem.data(&store).iter().all(|b| *b == 0), "round {round}: zeros");
                assert!(!mapping_path_at(base).contains("weld-memory-image"), "round {round}: no image is left");
            }
            // Past the minimum, the slot is inaccessible again, however far it grew before.
            if let Ok(load) = instance.get_typed_func::<i32, i32>(&mut store, "load") {
                let err = load.call(&mut store, 1 << 16).unwrap_err();
                assert!(format!("{err:#}").contains("out of bounds"), "round {round}: {err:#}");
            }
            // Dirty it all (three pages where the module can grow) before the store goes.
            if let Ok(grow) = instance.get_typed_func::<i32, i32>(&mut store, "grow") {
                assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
            }
            mem.data_mut(&mut store).fill(0x5a);
        }
    }
}

#[test]
fn a_reused_table_slot_holds_the_new_tables_init_values() {
    let filled = r#"(module (table (export "t") 4 funcref)
      (func $f (result i32) (i32.const 7))
      (elem (i32.const 0) func $f $f $f $f)
      (func (export "grow") (param i32) (result i32) (table.grow (ref.func $f) (local.get 0))))"#;
    let nulls = r#"(module (table (export "t") 3 funcref))"#;
    let initialized = r#"(module (table (export "t") 2 funcref (ref.func $g))
      (func $g (result i32) (i32.const 9))
      (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))"#;
    for keep_resident in [0, 4096] {
        let engine = pooled(|p| {
            p.total_tables(1).table_keep_resident(keep_resident);
        });
        let [filled, nulls, initialized] = [filled, nulls, initialized].map(|w| Module::new(&engine, w).unwrap());
        for round in 0..2 {
            {
                let (mut store, instance) = instantiate(&engine, &filled).unwrap();
                let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
                assert_eq!(grow.call(&mut store, 600).unwrap(), 4);
                let t = instance.get_table(&store, "t").unwrap();
                assert!(matches!(t.get(&store, 603), Some(Val::FuncRef(Some(_)))));
            }
            {
                // A pool of one table: this is the slot `filled` wrote.
                let (store, instance) = instantiate(&engine, &nulls).unwrap();
                let t = instance.get_table(&store, "t").unwrap();
                assert_eq!(t.size(&store), 3, "round {round}");
                for i in 0..3 {
                    assert!(matches!(t.get(&store, i), Some(Val::FuncRef(None))), "round {round}: element {i} is null");
                }
                assert!(t.get(&store, 3).is_none());
            }
            let (mut store, instance) = instantiate(&engine, &initialized).unwrap();
            let call = instance.get_typed_func::<i32, i32>(&mut store, "call").unwrap();
            assert_eq!(call.call(&mut store, 0).unwrap(), 9);
            assert_eq!(call.call(&mut store, 1).unwrap(), 9);
            assert_fails(call.call(&mut store, 2), "out of bounds");
        }
    }
}

const COMPONENT: &str = r#"(component
  (core module $m
    (memory (export "mem") 1)
    (data (i32.const 4096) "component data")
    (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
    (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "load") (param "a" u32) (result u32) (canon lift (core func $i "load")))
  (func (export "store") (param "a" u32) (param "v" u32) (canon lift (core func $i "store"))))"#;

#[test]
fn components_instantiate_under_pooling_and_count_their_instances() {
    let engine = pooled(|p| {
        p.total_component_instances(1).total_core_instances(1).total_memories(1);
    });
    let component = Component::new(&engine, COMPONENT).unwrap();
    let linker = ComponentLinker::<()>::new(&engine);
    let core = Module::new(&engine, "(module)").unwrap();
    for round in 0..3 {
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let load = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "load").unwrap();
        let write = instance.get_typed_func::<(u32, u32), ()>(&mut store, "store").unwrap();
        assert_eq!(load.call(&mut store, (4096,)).unwrap(), (u32::from(b'c'),), "round {round}: the image");
        assert_eq!(load.call(&mut store, (0,)).unwrap(), (0,), "round {round}: zeros");
        write.call(&mut store, (4096, 0x5a)).unwrap();
        write.call(&mut store, (0, 0x5a)).unwrap();
        assert_eq!(load.call(&mut store, (4096,)).unwrap(), (0x5a,));
        // The component holds the only component instance, core instance and memory.
        let mut other = Store::new(&engine, ());
        assert_fails(
            linker.instantiate(&mut other, &component),
            "the 2nd concurrent component instance exceeds total_component_instances = 1",
        );
        assert_fails(instantiate(&engine, &core), "the 2nd concurrent core instance exceeds total_core_instances = 1");
    }
}

#[test]
fn the_default_limits_and_on_demand_engines() {
    // On demand, nothing is limited: more memories than a small pool would hold.
    let engine = Engine::default();
    let module = Module::new(&engine, ONE_MEMORY).unwrap();
    let stores: Vec<_> = (0..5).map(|_| instantiate(&engine, &module).unwrap()).collect();
    drop(stores);
    // The default pool (1000 slots of each) can be reserved, and allows one memory per module.
    let mut config = Config::new();
    config.allocation_strategy(weld::InstanceAllocationStrategy::pooling());
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, ONE_MEMORY).unwrap();
    let _stores: Vec<_> = (0..5).map(|_| instantiate(&engine, &module).unwrap()).collect();
    assert_fails(
        instantiate(&engine, &Module::new(&engine, "(module (memory 1) (memory 1))").unwrap()),
        "max_memories_per_module = 1",
    );
}

#[test]
fn a_max_memory_size_the_code_cannot_use_is_refused() {
    let mut pool = PoolingAllocationConfig::new();
    pool.max_memory_size((4 << 30) + (1 << 16)).total_memories(1);
    let mut config = Config::new();
    config.allocation_strategy(pool);
    assert_fails(
        Engine::new(&config),
        "pooling allocator: max_memory_size = 4295032832 bytes is more than the 4294967296 bytes a memory can have with \
         guarded code",
    );
    // With explicit bounds checks a slot is max_memory_size bytes, and memories can be larger.
    config.explicit_bounds_checks(true);
    let engine = Engine::new(&config).unwrap();
    let (mut store, instance) = instantiate(&engine, &Module::new(&engine, ONE_MEMORY).unwrap()).unwrap();
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    assert_eq!(load.call(&mut store, 65535).unwrap(), 0);
    assert_fails(load.call(&mut store, 65536), "out of bounds");
}
