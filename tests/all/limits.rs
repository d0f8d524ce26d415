//! Store limits: `ResourceLimiter` and `StoreLimits` bounding how far memories and tables grow
//! and how many instances, memories and tables a store creates, and the store's bound on live
//! component handles.

use std::sync::{Arc, Mutex};
use weld::component::{Component, Linker as ComponentLinker};
use weld::{
    Engine, Instance, Linker, Memory, MemoryType, Module, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder,
    Table, TableType, Trap, Val,
};

/// A memory of one page that grows one page at a time until `memory.grow` returns -1, then
/// returns its size in pages; and a table doing the same.
pub(crate) const GROWER: &str = r#"(module
  (memory (export "memory") 1)
  (table (export "table") 1 funcref)
  (func (export "grow-memory-until-it-fails") (result i32)
    (block $done (loop $again
      (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $again)))
    (memory.size))
  (func (export "grow-memory") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "grow-table-until-it-fails") (result i32)
    (block $done (loop $again
      (br_if $done (i32.eq (table.grow (ref.null func) (i32.const 1)) (i32.const -1)))
      (br $again)))
    (table.size))
  (func (export "answer") (result i32) (i32.const 42)))"#;

fn call_i32(store: &mut Store<StoreLimits>, instance: &Instance, name: &str, args: &[Val]) -> weld::Result<i32> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut *store, args, &mut out)?;
    Ok(out[0].unwrap_i32())
}

fn limited(limits: StoreLimits) -> (Store<StoreLimits>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER).unwrap();
    let mut store = Store::new(&engine, limits);
    store.limiter(|limits| limits);
    let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    (store, instance)
}

#[test]
fn memory_grow_fails_at_the_memory_size_limit() {
    let (mut store, instance) = limited(StoreLimitsBuilder::new().memory_size(64 << 20).build());
    // 64 MiB is 1024 pages: the 1024th page is the last that fits.
    assert_eq!(call_i32(&mut store, &instance, "grow-memory-until-it-fails", &[]).unwrap(), 1024);
    assert_eq!(call_i32(&mut store, &instance, "grow-memory", &[Val::I32(1)]).unwrap(), -1);
    // Growing by nothing is no growth: it succeeds at the limit.
    assert_eq!(call_i32(&mut store, &instance, "grow-memory", &[Val::I32(0)]).unwrap(), 1024);
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert_eq!(memory.size(&store), 1024);
    let err = memory.grow(&mut store, 1).unwrap_err().to_string();
    assert!(err.contains("failed to grow memory by 1 pages"), "{err}");
}

#[test]
fn without_a_limiter_memory_grows_to_its_maximum() {
    // The same guest with no limiter goes past 64 MiB: the test above is not vacuous.
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER).unwrap();
    let mut store = Store::new(&engine, StoreLimits::default());
    let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    assert_eq!(call_i32(&mut store, &instance, "grow-memory", &[Val::I32(2000)]).unwrap(), 1);
}

#[test]
fn table_grow_fails_at_the_table_elements_limit() {
    let (mut store, instance) = limited(StoreLimitsBuilder::new().table_elements(100).build());
    assert_eq!(call_i32(&mut store, &instance, "grow-table-until-it-fails", &[]).unwrap(), 100);
    let table = instance.get_table(&mut store, "table").unwrap();
    assert!(table.grow(&mut store, 1, Val::FuncRef(None)).is_err());
    assert_eq!(table.size(&store), 100);
}

#[test]
fn trap_on_grow_failure_traps_and_the_store_stays_usable() {
    let (mut store, instance) =
        limited(StoreLimitsBuilder::new().memory_size(4 << 16).table_elements(3).trap_on_grow_failure(true).build());
    let err = call_i32(&mut store, &instance, "grow-memory-until-it-fails", &[]).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("a memory may not grow to 327680 bytes: the store's limit is 262144 bytes"), "{text}");
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert_eq!(memory.size(&store), 4);
    let err = call_i32(&mut store, &instance, "grow-table-until-it-fails", &[]).unwrap_err();
    assert!(format!("{err:#}").contains("a table may not grow to 4 elements"), "{err:#}");
    // Beyond the declared maximum is a failure too, and so a trap.
    assert_eq!(call_i32(&mut store, &instance, "answer", &[]).unwrap(), 42);
}

/// Records each question and answers from a script.
#[derive(Default)]
struct Recorder {
    asked: Arc<Mutex<Vec<String>>>,
    /// Memory sizes in bytes allowed; more is refused.
    memory_bytes: usize,
    /// Whether refusing is an error (a trap) rather than `false`.
    refuse_with_error: bool,
    failures: Arc<Mutex<Vec<String>>>,
}

impl ResourceLimiter for Recorder {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> weld::Result<bool> {
        self.asked.lock().unwrap().push(format!("memory {current} -> {desired} (max {maximum:?})"));
        if desired > self.memory_bytes && self.refuse_with_error {
            weld::bail!("the recorder refuses {desired} bytes");
        }
        Ok(desired <= self.memory_bytes)
    }
    fn memory_grow_failed(&mut self, error: weld::Error) -> weld::Result<()> {
        self.failures.lock().unwrap().push(error.to_string());
        Ok(())
    }
    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> weld::Result<bool> {
        self.asked.lock().unwrap().push(format!("table {current} -> {desired} (max {maximum:?})"));
        Ok(true)
    }
}

#[test]
fn a_limiter_is_asked_at_creation_and_at_each_growth() {
    let engine = Engine::default();
    let wat = r#"(module (memory (export "m") 1 3) (table 2 10 funcref)
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let recorder = Recorder { memory_bytes: 10 << 16, ..Recorder::default() };
    let (asked, failures) = (recorder.asked.clone(), recorder.failures.clone());
    let mut store = Store::new(&engine, recorder);
    store.limiter(|r| r);
    let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 0).unwrap(), 2);
    // Allowed by the limiter, beyond the declared maximum of 3 pages: fails, and says so.
    assert_eq!(grow.call(&mut store, 2).unwrap(), -1);
    assert_eq!(
        *asked.lock().unwrap(),
        [
            "memory 0 -> 65536 (max Some(196608))",
            "table 0 -> 2 (max Some(10))",
            "memory 65536 -> 131072 (max Some(196608))",
            "memory 131072 -> 262144 (max Some(196608))",
        ]
    );
    assert_eq!(failures.lock().unwrap().len(), 1);
    assert!(failures.lock().unwrap()[0].contains("at most 3 pages"), "{:?}", failures.lock().unwrap());
}

#[test]
fn a_limiter_refusing_creation_fails_instantiation_and_its_error_traps_growth() {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER).unwrap();
    let mut store = Store::new(&engine, Recorder { memory_bytes: 0, ..Recorder::default() });
    store.limiter(|r| r);
    let err = Linker::new(&engine).instantiate(&mut store, &module).unwrap_err();
    assert!(format!("{err:#}").contains("memory minimum size of 1 pages (65536 bytes) exceeds the store's limits"));
    assert!(Memory::new(&mut store, MemoryType::new(1, None)).is_err());
    assert!(Memory::new(&mut store, MemoryType::new(0, None)).is_ok());

    let recorder = Recorder { memory_bytes: 2 << 16, refuse_with_error: true, ..Recorder::default() };
    let mut store = Store::new(&engine, recorder);
    store.limiter(|r| r);
    let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow-memory").unwrap();
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    let err = grow.call(&mut store, 1).unwrap_err();
    assert!(format!("{err:#}").contains("the recorder refuses 196608 bytes"), "{err:#}");
    // The error is the limiter's, not a trap code of weld's.
    assert!(err.downcast_ref::<Trap>().is_none());
    assert_eq!(grow.call(&mut store, 0).unwrap(), 2);
}

/// Panics when asked about memory.
struct Panicker;

impl ResourceLimiter for Panicker {
    fn memory_growing(&mut self, current: usize, _: usize, _: Option<usize>) -> weld::Result<bool> {
        assert!(current == 0, "the limiter panics");
        Ok(true)
    }
    fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> weld::Result<bool> {
        Ok(true)
    }
}

#[test]
fn a_limiter_that_panics_panics_in_the_host_not_through_wasm() {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER).unwrap();
    let mut store = Store::new(&engine, Panicker);
    store.limiter(|p| p);
    let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow-memory").unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| grow.call(&mut store, 1))).unwrap_err();
    let message = panic.downcast_ref::<&str>().copied().or(panic.downcast_ref::<String>().map(String::as_str));
    assert_eq!(message, Some("the limiter panics"));
    // The limiter is still installed afterwards.
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| grow.call(&mut store, 1)));
    assert!(panic.is_err());
}

#[test]
fn instance_memory_and_table_counts_are_bounded() {
    let engine = Engine::default();
    let plain = Module::new(&engine, "(module)").unwrap();
    let with_memory = Module::new(&engine, "(module (memory 0))").unwrap();
    let with_tables = Module::new(&engine, "(module (table 0 funcref) (table 0 funcref))").unwrap();
    let linker = Linker::new(&engine);

    let mut store = Store::new(&engine, StoreLimitsBuilder::new().instances(3).build());
    store.limiter(|l| l);
    for _ in 0..3 {
        linker.instantiate(&mut store, &plain).unwrap();
    }
    let err = linker.instantiate(&mut store, &plain).unwrap_err().to_string();
    assert_eq!(
        err,
        "cannot instantiate a module: the store may create at most 3 instances and this would make 4 (see \
         ResourceLimiter::instances and StoreLimitsBuilder::instances)"
    );

    let mut store = Store::new(&engine, StoreLimitsBuilder::new().memories(1).tables(3).build());
    store.limiter(|l| l);
    linker.instantiate(&mut store, &with_memory).unwrap();
    let err = linker.instantiate(&mut store, &with_memory).unwrap_err().to_string();
    assert!(err.contains("at most 1 memories and this would make 2"), "{err}");
    linker.instantiate(&mut store, &with_tables).unwrap();
    let err = linker.instantiate(&mut store, &with_tables).unwrap_err().to_string();
    assert!(err.contains("at most 3 tables and this would make 4"), "{err}");
    // A refused instantiation counts nothing: a module without tables still fits.
    linker.instantiate(&mut store, &plain).unwrap();
}

#[test]
fn a_store_without_a_limiter_makes_at_most_10000_instances() {
    let engine = Engine::default();
    let module = Module::new(&engine, "(module (func (export \"f\")))").unwrap();
    let linker = Linker::new(&engine);
    let mut store = Store::new(&engine, ());
    for _ in 0..weld::DEFAULT_INSTANCE_LIMIT {
        linker.instantiate(&mut store, &module).unwrap();
    }
    let err = linker.instantiate(&mut store, &module).unwrap_err().to_string();
    assert!(err.contains("at most 10000 instances"), "{err}");
}

#[test]
fn host_created_tables_ask_the_limiter() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, StoreLimitsBuilder::new().table_elements(5).build());
    store.limiter(|l| l);
    let ty = |min| TableType::new(weld::RefType::FUNCREF, min, None);
    assert!(Table::new(&mut store, ty(5), Val::FuncRef(None)).is_ok());
    let err = Table::new(&mut store, ty(6), Val::FuncRef(None)).unwrap_err().to_string();
    assert!(err.contains("table minimum size of 6 elements exceeds the store's limits"), "{err}");
}

/// A component whose `make-many` calls `resource.new` n times, returning the last handle, and
/// whose `drop-range` drops handles `from..to`.
pub(crate) const HANDLE_MAKER: &str = r#"(component
  (type $r' (resource (rep i32)))
  (export $r "r" (type $r'))
  (core func $new (canon resource.new $r))
  (core func $drop (canon resource.drop $r))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "make-many") (param $n i32) (result i32) (local $h i32)
      (block $done (loop $again
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $h (call $new (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $again)))
      (local.get $h))
    (func (export "drop-range") (param $from i32) (param $to i32)
      (block $done (loop $again
        (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
        (call $drop (local.get $from))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br $again)))))
  (core instance $m (instantiate $m (with "" (instance (export "new" (func $new)) (export "drop" (func $drop))))))
  (func (export "make-many") (param "n" u32) (result u32) (canon lift (core func $m "make-many")))
  (func (export "drop-range") (param "from" u32) (param "to" u32) (canon lift (core func $m "drop-range")))
)"#;

#[test]
fn component_handles_are_bounded_per_store() {
    let engine = Engine::default();
    let component = Component::new(&engine, HANDLE_MAKER).unwrap();
    let linker = ComponentLinker::new(&engine);
    let mut store = Store::new(&engine, ());
    assert_eq!(store.max_component_handles(), weld::DEFAULT_MAX_COMPONENT_HANDLES);
    store.set_max_component_handles(1000);
    // Two instances share the store's budget.
    let a = linker.instantiate(&mut store, &component).unwrap();
    let b = linker.instantiate(&mut store, &component).unwrap();
    let make = |store: &mut Store<()>, i: &weld::component::Instance, n: u32| {
        let f = i.get_typed_func::<(u32,), (u32,)>(&mut *store, "make-many").unwrap();
        f.call(&mut *store, (n,)).map(|(h,)| h)
    };
    assert_eq!(make(&mut store, &a, 600).unwrap(), 600);
    let err = make(&mut store, &b, 401).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::HandleTableFull), "{err:#}");
    assert!(format!("{err:#}").contains("already holds 1000 live component handles"), "{err:#}");
    // Dropping handles makes room again (in another instance of the same store).
    let drop_range = a.get_typed_func::<(u32, u32), ()>(&mut store, "drop-range").unwrap();
    drop_range.call(&mut store, (1, 101)).unwrap();
    let c = linker.instantiate(&mut store, &component).unwrap();
    assert_eq!(make(&mut store, &c, 100).unwrap(), 100);
    assert!(make(&mut store, &c, 1).is_err());
}

#[test]
fn the_default_handle_bound_stops_a_guest_making_handles_in_a_loop() {
    let engine = Engine::default();
    let component = Component::new(&engine, HANDLE_MAKER).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = ComponentLinker::new(&engine).instantiate(&mut store, &component).unwrap();
    let make = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "make-many").unwrap();
    let err = make.call(&mut store, (u32::MAX,)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::HandleTableFull), "{err:#}");
    assert!(format!("{err:#}").contains("already holds 100000 live"), "{err:#}");
}

#[test]
fn the_limiter_bounds_pooled_instances_too() {
    let mut config = weld::Config::new();
    config.allocation_strategy(weld::InstanceAllocationStrategy::Pooling(
        weld::PoolingAllocationConfig::new().total_memories(2).total_tables(2).total_core_instances(2).clone(),
    ));
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, GROWER).unwrap();
    let mut store = Store::new(&engine, StoreLimitsBuilder::new().memory_size(3 << 16).table_elements(0).build());
    store.limiter(|l| l);
    let err = Linker::new(&engine).instantiate(&mut store, &module).unwrap_err().to_string();
    assert!(err.contains("table minimum size of 1 elements exceeds the store's limits"), "{err}");
    let mut store = Store::new(&engine, StoreLimitsBuilder::new().memory_size(3 << 16).build());
    store.limiter(|l| l);
    let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    assert_eq!(call_i32(&mut store, &instance, "grow-memory-until-it-fails", &[]).unwrap(), 3);
}
