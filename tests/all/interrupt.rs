//! Stopping guests that run too long: fuel (`Config::consume_fuel`, `Store::set_fuel`) and
//! epochs (`Config::epoch_interruption`, `Engine::increment_epoch`, `Store::set_epoch_deadline`
//! and the deadline callback). Loops, recursion without loops, host functions calling back
//! into wasm, component exports, and the store still usable afterwards.
//!
//! The fuel figures are Wasmtime 48's: the same module run there consumes exactly as much.

use anyhow::{Result, anyhow};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use weld::component::{Component, Val as CVal};
use weld::{Caller, Config, Engine, Instance, Linker, Module, Store, Trap, UpdateDeadline, Val};

/// Loops and recursion that never end, a function that returns, and functions whose fuel
/// consumption is known.
const GUEST: &str = r#"(module
  (import "host" "fuel" (func $host_fuel (result i64)))
  (import "host" "call-back" (func $call_back (param i32) (result i32)))
  (memory 1)
  (func (export "spin") (loop (br 0)))
  (func (export "answer") (result i32) i32.const 42)
  (func $forever (export "forever") (return_call $forever))
  ;; 2^depth calls, the stack never deeper than depth: endless for depth 60, without a loop.
  (func $tree (export "tree") (param i32)
    (if (local.get 0) (then
      (call $tree (i32.sub (local.get 0) (i32.const 1)))
      (call $tree (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "empty"))
  (func (export "straight") (param i32) (result i32)
    local.get 0 i32.const 3 i32.add i32.const 2 i32.mul nop (block (drop (i32.const 5))))
  (func (export "count") (param i32) (result i32)
    (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    local.get 0)
  (func (export "branchy") (param i32) (result i32)
    (if (result i32) (local.get 0) (then (i32.const 1)) (else (i32.const 2) (i32.const 3) (i32.add))))
  (func $leaf (result i32) i32.const 1)
  (func (export "calls") (result i32) (i32.add (call $leaf) (call $leaf)))
  (func (export "host") (result i64) (drop (call $leaf)) (call $host_fuel))
  (func (export "fill") (param i32) (memory.fill (i32.const 0) (i32.const 0) (local.get 0)))
  (func (export "fill200") (memory.fill (i32.const 0) (i32.const 0) (i32.const 200)))
  (func (export "ret") (result i32) (i32.const 9) (return))
  (func (export "unreachable") unreachable)
  ;; Calls the host, which calls `answer` back.
  (func (export "via-host") (result i32) (call $call_back (i32.const 0)))
)"#;

/// An engine with fuel or epochs (or neither).
fn engine(fuel: bool, epochs: bool) -> Engine {
    let mut config = Config::new();
    config.consume_fuel(fuel).epoch_interruption(epochs);
    Engine::new(&config).unwrap()
}

/// `GUEST` instantiated in a new store of `engine`. The host's `fuel` returns the fuel it sees
/// (or -1 without fuel); `call-back` calls `answer` back and returns its result (setting the
/// fuel to its argument first when that is non-zero).
fn guest<T: Default + 'static>(engine: &Engine) -> (Store<T>, Instance) {
    let module = Module::new(engine, GUEST).unwrap();
    let mut store = Store::new(engine, T::default());
    let mut linker = Linker::new(engine);
    linker.func_wrap("host", "fuel", |caller: Caller<'_, T>| caller.get_fuel().map_or(-1, |f| f as i64)).unwrap();
    linker
        .func_wrap("host", "call-back", |mut caller: Caller<'_, T>, refuel: i32| -> Result<i32> {
            if refuel != 0 {
                caller.set_fuel(refuel as u64)?;
            }
            let answer = caller.get_export("answer").unwrap().into_func().unwrap();
            let mut result = [Val::I32(0)];
            answer.call(&mut caller, &[], &mut result)?;
            Ok(result[0].unwrap_i32())
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

/// The trap in `err`'s chain, failing the test if there is none.
fn trap(err: &anyhow::Error) -> Trap {
    *err.downcast_ref::<Trap>().unwrap_or_else(|| panic!("not a trap: {err:?}"))
}

/// Increments `engine`'s epoch every `every` until the returned flag is set.
fn ticker(engine: &Engine, every: Duration) -> (Arc<AtomicBool>, JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (engine, flag) = (engine.clone(), stop.clone());
    let handle = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            std::thread::sleep(every);
            engine.increment_epoch();
        }
    });
    (stop, handle)
}

fn stop(ticker: (Arc<AtomicBool>, JoinHandle<()>)) {
    ticker.0.store(true, Ordering::Relaxed);
    ticker.1.join().unwrap();
}

/// Calls the `()` -> `i32` export `name` through `Func::call` and through a `TypedFunc`, which
/// must agree.
fn answer(store: &mut Store<impl Sized>, instance: &Instance) -> Result<i32> {
    let f = instance.get_func(&mut *store, "answer").unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut *store, &[], &mut out)?;
    let typed = instance.get_typed_func::<(), i32>(&mut *store, "answer")?.call(&mut *store, ())?;
    assert_eq!(typed, out[0].unwrap_i32());
    Ok(typed)
}

#[test]
fn fuel_stops_an_infinite_loop_and_the_store_goes_on_after_refuelling() {
    let engine = engine(true, false);
    let (mut store, instance) = guest::<()>(&engine);
    store.set_fuel(10_000).unwrap();
    let spin = instance.get_func(&mut store, "spin").unwrap();
    let err = spin.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(trap(&err), Trap::OutOfFuel);
    assert_eq!(err.root_cause().to_string(), "all fuel consumed by WebAssembly");
    assert_eq!(store.get_fuel().unwrap(), 0);

    // Without fuel, nothing runs; with some, the store is as good as new.
    let err = answer(&mut store, &instance).unwrap_err();
    assert_eq!(trap(&err), Trap::OutOfFuel);
    store.set_fuel(100).unwrap();
    assert_eq!(answer(&mut store, &instance).unwrap(), 42);
    // Two calls of 2 each (entry and `i32.const`).
    assert_eq!(store.get_fuel().unwrap(), 96);

    // The typed path stops the same way.
    let typed = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
    assert_eq!(trap(&typed.call(&mut store, ()).unwrap_err()), Trap::OutOfFuel);
    store.set_fuel(10).unwrap();
    assert_eq!(answer(&mut store, &instance).unwrap(), 42);
}

#[test]
fn fuel_is_counted_as_wasmtime_counts_it() {
    let engine = engine(true, false);
    let (mut store, instance) = guest::<()>(&engine);
    const START: u64 = 1_000_000;
    let consumed = |store: &mut Store<()>, name: &str, arg: Option<i32>| -> u64 {
        store.set_fuel(START).unwrap();
        let f = instance.get_func(&mut *store, name).unwrap();
        let params: Vec<Val> = arg.into_iter().map(Val::I32).collect();
        let mut results = vec![Val::I64(0); f.ty(&*store).results().len()];
        f.call(&mut *store, &params, &mut results).unwrap();
        START - store.get_fuel().unwrap()
    };
    // Calling costs 1; `local.get`, `i32.const`, `i32.add`, `i32.mul` and `i32.const` 1 each;
    // `nop`, `block`, `drop` and `end` nothing.
    assert_eq!(consumed(&mut store, "empty", None), 1);
    assert_eq!(consumed(&mut store, "straight", Some(4)), 7);
    // 2 before the loop, 5 per iteration (`local.get`, `i32.const`, `i32.sub`, `local.tee`,
    // `br_if`).
    assert_eq!(consumed(&mut store, "count", Some(1)), 7);
    assert_eq!(consumed(&mut store, "count", Some(2)), 12);
    assert_eq!(consumed(&mut store, "count", Some(10)), 52);
    assert_eq!(consumed(&mut store, "branchy", Some(0)), 6);
    assert_eq!(consumed(&mut store, "branchy", Some(1)), 4);
    assert_eq!(consumed(&mut store, "calls", None), 8);
    assert_eq!(consumed(&mut store, "ret", None), 2);
    // Bulk operations cost one more per byte.
    assert_eq!(consumed(&mut store, "fill", Some(0)), 5);
    assert_eq!(consumed(&mut store, "fill", Some(1000)), 1005);
    assert_eq!(consumed(&mut store, "fill200", None), 205);

    // `unreachable` writes the counter back before trapping.
    store.set_fuel(START).unwrap();
    let err = instance.get_typed_func::<(), ()>(&mut store, "unreachable").unwrap().call(&mut store, ()).unwrap_err();
    assert_eq!(trap(&err), Trap::UnreachableCodeReached);
    assert_eq!(START - store.get_fuel().unwrap(), 1);

    // Checks are at entry and loop headers: the counter must stay below zero there.
    let empty = instance.get_typed_func::<(), ()>(&mut store, "empty").unwrap();
    for (fuel, ok, left) in [(0, false, 0), (1, false, 0), (2, true, 1), (3, true, 2)] {
        store.set_fuel(fuel).unwrap();
        assert_eq!(empty.call(&mut store, ()).is_ok(), ok, "empty with {fuel} fuel");
        assert_eq!(store.get_fuel().unwrap(), left);
    }
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count").unwrap();
    for (fuel, ok, left) in [(6, false, 0), (7, true, 0), (12, true, 0), (13, true, 1)] {
        store.set_fuel(fuel).unwrap();
        let result = count.call(&mut store, 2);
        assert_eq!(result.is_ok(), ok, "count(2) with {fuel} fuel: {result:?}");
        assert_eq!(store.get_fuel().unwrap(), left);
    }
    // A large bulk operation is checked before it runs.
    store.set_fuel(100).unwrap();
    let fill = instance.get_typed_func::<i32, ()>(&mut store, "fill").unwrap();
    assert_eq!(trap(&fill.call(&mut store, 1000).unwrap_err()), Trap::OutOfFuel);
}

#[test]
fn fuel_beyond_i64_max_is_kept_in_reserve() {
    let engine = engine(true, false);
    let (mut store, instance) = guest::<()>(&engine);
    store.set_fuel(u64::MAX).unwrap();
    assert_eq!(store.get_fuel().unwrap(), u64::MAX);
    assert_eq!(answer(&mut store, &instance).unwrap(), 42);
    assert_eq!(store.get_fuel().unwrap(), u64::MAX - 4);
}

#[test]
fn host_functions_see_and_change_the_same_fuel() {
    let engine = engine(true, false);
    let (mut store, instance) = guest::<()>(&engine);
    store.set_fuel(1_000_000).unwrap();
    // The host sees what wasm consumed up to its call: entry, `call $leaf` and its 2, and
    // the call of the host.
    let seen = instance.get_typed_func::<(), i64>(&mut store, "host").unwrap().call(&mut store, ()).unwrap();
    assert_eq!(seen, 1_000_000 - 5);
    assert_eq!(store.get_fuel().unwrap(), 1_000_000 - 5);

    // Wasm called by a host function consumes from the same fuel: 3 for `via-host` (entry,
    // `i32.const`, the call) and 2 for `answer`.
    let f = instance.get_typed_func::<(), i32>(&mut store, "via-host").unwrap();
    store.set_fuel(1_000_000).unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 42);
    assert_eq!(store.get_fuel().unwrap(), 1_000_000 - 5);
    // With 4, `answer`'s entry check finds the counter at 0 and traps inside the host call.
    store.set_fuel(4).unwrap();
    assert_eq!(trap(&f.call(&mut store, ()).unwrap_err()), Trap::OutOfFuel);
}

#[test]
fn fuel_set_by_a_host_function_is_what_wasm_goes_on_with() {
    // The host function sets the fuel to 50 before calling `answer` (2); the rest of `run`
    // goes on with what is left.
    let wat = r#"(module
      (import "host" "call-back" (func $call_back (param i32) (result i32)))
      (func (export "answer") (result i32) i32.const 42)
      (func (export "run") (result i32) (call $call_back (i32.const 50))))"#;
    let engine = engine(true, false);
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "call-back", |mut caller: Caller<'_, ()>, refuel: i32| -> Result<i32> {
            caller.set_fuel(refuel as u64)?;
            let answer = caller.get_export("answer").unwrap().into_func().unwrap();
            let answer = answer.typed::<(), i32>(&caller)?;
            answer.call(&mut caller, ())
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    store.set_fuel(1_000_000).unwrap();
    let run = instance.get_typed_func::<(), i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 42);
    // 50, less 2 for `answer`; the rest of `run` (its `end`) costs nothing.
    assert_eq!(store.get_fuel().unwrap(), 48);
}

#[test]
fn fuel_stops_recursion_without_loops() {
    let engine = engine(true, false);
    let (mut store, instance) = guest::<()>(&engine);
    store.set_fuel(100_000).unwrap();
    let forever = instance.get_typed_func::<(), ()>(&mut store, "forever").unwrap();
    assert_eq!(trap(&forever.call(&mut store, ()).unwrap_err()), Trap::OutOfFuel);
    store.set_fuel(100_000).unwrap();
    let tree = instance.get_typed_func::<i32, ()>(&mut store, "tree").unwrap();
    assert_eq!(trap(&tree.call(&mut store, 60).unwrap_err()), Trap::OutOfFuel);
    store.set_fuel(100).unwrap();
    assert_eq!(answer(&mut store, &instance).unwrap(), 42);
}

#[test]
fn fuel_apis_need_consume_fuel() {
    let engine = engine(false, false);
    let (mut store, instance) = guest::<()>(&engine);
    assert_eq!(store.get_fuel().unwrap_err().to_string(), "fuel is not configured in this store");
    assert_eq!(store.set_fuel(10).unwrap_err().to_string(), "fuel is not configured in this store");
    // The host function sees the same error (and returns -1).
    let seen = instance.get_typed_func::<(), i64>(&mut store, "host").unwrap().call(&mut store, ()).unwrap();
    assert_eq!(seen, -1);
    // And code runs without counting.
    assert_eq!(answer(&mut store, &instance).unwrap(), 42);
}

#[test]
fn an_epoch_deadline_stops_an_infinite_loop() {
    let engine = engine(false, true);
    let (mut store, instance) = guest::<()>(&engine);
    store.set_epoch_deadline(1);
    let ticking = ticker(&engine, Duration::from_millis(20));
    let spin = instance.get_func(&mut store, "spin").unwrap();
    let err = spin.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(trap(&err), Trap::Interrupt);
    assert_eq!(err.root_cause().to_string(), "interrupt");
    let typed = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
    store.set_epoch_deadline(1);
    assert_eq!(trap(&typed.call(&mut store, ()).unwrap_err()), Trap::Interrupt);
    stop(ticking);

    // The deadline stays reached until it is set again.
    assert_eq!(trap(&answer(&mut store, &instance).unwrap_err()), Trap::Interrupt);
    store.set_epoch_deadline(1);
    assert_eq!(answer(&mut store, &instance).unwrap(), 42);
}

#[test]
fn a_store_without_a_deadline_traps_at_once() {
    let engine = engine(false, true);
    let (mut store, instance) = guest::<()>(&engine);
    assert_eq!(trap(&answer(&mut store, &instance).unwrap_err()), Trap::Interrupt);
    store.set_epoch_deadline(2);
    engine.increment_epoch();
    assert_eq!(answer(&mut store, &instance).unwrap(), 42);
    engine.increment_epoch();
    assert_eq!(trap(&answer(&mut store, &instance).unwrap_err()), Trap::Interrupt);
}

#[test]
fn epochs_stop_recursion_without_loops() {
    let engine = engine(false, true);
    let (mut store, instance) = guest::<()>(&engine);
    let ticking = ticker(&engine, Duration::from_millis(20));
    store.set_epoch_deadline(1);
    let forever = instance.get_typed_func::<(), ()>(&mut store, "forever").unwrap();
    assert_eq!(trap(&forever.call(&mut store, ()).unwrap_err()), Trap::Interrupt);
    store.set_epoch_deadline(1);
    let tree = instance.get_typed_func::<i32, ()>(&mut store, "tree").unwrap();
    assert_eq!(trap(&tree.call(&mut store, 60).unwrap_err()), Trap::Interrupt);
    stop(ticking);
    store.set_epoch_deadline(1);
    assert_eq!(answer(&mut store, &instance).unwrap(), 42);
}

#[test]
fn an_epoch_callback_extends_the_deadline_until_it_fails() {
    const EXTENSIONS: u32 = 3;
    let engine = engine(false, true);
    let (mut store, instance) = guest::<u32>(&engine);
    store.epoch_deadline_callback(|mut cx| {
        *cx.data_mut() += 1;
        if *cx.data() <= EXTENSIONS { Ok(UpdateDeadline::Continue(1)) } else { Err(anyhow!("enough spinning")) }
    });
    store.set_epoch_deadline(1);
    let ticking = ticker(&engine, Duration::from_millis(5));
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
    let err = spin.call(&mut store, ()).unwrap_err();
    stop(ticking);
    // The callback's error is what the call returns, not a trap.
    assert!(err.downcast_ref::<Trap>().is_none(), "{err:?}");
    assert_eq!(err.root_cause().to_string(), "enough spinning");
    assert_eq!(*store.data(), EXTENSIONS + 1);

    // The store goes on: with a deadline ahead, code runs without calling the callback.
    store.set_epoch_deadline(10);
    assert_eq!(answer(&mut store, &instance).unwrap(), 42);
    assert_eq!(*store.data(), EXTENSIONS + 1);
}

#[test]
fn an_epoch_callback_can_interrupt_and_be_removed() {
    let engine = engine(false, true);
    let (mut store, instance) = guest::<u32>(&engine);
    store.epoch_deadline_callback(|mut cx| {
        *cx.data_mut() += 1;
        Ok(UpdateDeadline::Interrupt)
    });
    // The deadline (0) has passed: the first check calls the callback.
    assert_eq!(trap(&answer(&mut store, &instance).unwrap_err()), Trap::Interrupt);
    assert_eq!(*store.data(), 1);
    store.epoch_deadline_trap();
    assert_eq!(trap(&answer(&mut store, &instance).unwrap_err()), Trap::Interrupt);
    assert_eq!(*store.data(), 1);
    store.set_epoch_deadline(1);
    assert_eq!(answer(&mut store, &instance).unwrap(), 42);
}

#[test]
fn fuel_and_epochs_together() {
    let engine = engine(true, true);
    let (mut store, instance) = guest::<()>(&engine);
    store.set_fuel(1_000).unwrap();
    store.set_epoch_deadline(u64::MAX);
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
    assert_eq!(trap(&spin.call(&mut store, ()).unwrap_err()), Trap::OutOfFuel);
    store.set_fuel(u64::MAX).unwrap();
    store.set_epoch_deadline(1);
    let ticking = ticker(&engine, Duration::from_millis(20));
    assert_eq!(trap(&spin.call(&mut store, ()).unwrap_err()), Trap::Interrupt);
    stop(ticking);
}

/// A component whose `spin` loops forever and whose `answer` returns 42.
const COMPONENT: &str = r#"(component
  (core module $m
    (func (export "spin") (loop (br 0)))
    (func (export "answer") (result i32) i32.const 42))
  (core instance $i (instantiate $m))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "answer") (result u32) (canon lift (core func $i "answer"))))"#;

/// Calls the component's `answer`.
fn component_answer(store: &mut Store<()>, instance: &weld::component::Instance) -> Result<CVal> {
    let mut out = [CVal::Bool(false)];
    instance.get_func(&mut *store, "answer").unwrap().call(&mut *store, &[], &mut out)?;
    Ok(out[0].clone())
}

/// Stops `spin` of a component instance with `prepare` (which sets fuel or a deadline) and
/// `expected`; the instance is then poisoned (the spec: a trap leaves it unenterable), but the
/// store goes on with new instances once `refill` ran.
fn stop_a_component(engine: &Engine, prepare: impl Fn(&mut Store<()>), expected: Trap) {
    let component = Component::new(engine, COMPONENT).unwrap();
    let linker = weld::component::Linker::new(engine);
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    prepare(&mut store);
    let spin = instance.get_func(&mut store, "spin").unwrap();
    assert_eq!(trap(&spin.call(&mut store, &[], &mut []).unwrap_err()), expected);
    assert_eq!(trap(&component_answer(&mut store, &instance).unwrap_err()), Trap::CannotEnterComponent);

    prepare(&mut store);
    let again = linker.instantiate(&mut store, &component).unwrap();
    assert_eq!(component_answer(&mut store, &again).unwrap(), CVal::U32(42));
    // The typed path stops the same way.
    prepare(&mut store);
    let spin = again.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
    assert_eq!(trap(&spin.call(&mut store, ()).unwrap_err()), expected);
}

#[test]
fn fuel_stops_a_component_export() {
    let engine = engine(true, false);
    stop_a_component(&engine, |store| store.set_fuel(10_000).unwrap(), Trap::OutOfFuel);
}

#[test]
fn an_epoch_deadline_stops_a_component_export() {
    let engine = engine(false, true);
    let ticking = ticker(&engine, Duration::from_millis(10));
    stop_a_component(&engine, |store| store.set_epoch_deadline(2), Trap::Interrupt);
    stop(ticking);
}

/// A loop keeping integer and float values in registers, each iteration mixing them.
const MIX: &str = r#"(module
  (func (export "mix") (param $n i32) (result f64)
    (local $i i32) (local $a i64) (local $f f64) (local $g f64)
    (local.set $g (f64.const 1))
    (loop $l
      (local.set $a (i64.add (i64.mul (local.get $a) (i64.const 6364136223846793005))
                             (i64.extend_i32_u (local.get $i))))
      (local.set $f (f64.add (local.get $f) (f64.convert_i64_s (i64.shr_u (local.get $a) (i64.const 40)))))
      (local.set $g (f64.mul (local.get $g) (f64.const 0.9999999)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (f64.add (f64.add (local.get $f) (local.get $g)) (f64.convert_i64_s (local.get $a)))))"#;

/// The slow path of a check (here the deadline callback, called many times in the middle of
/// the loop) preserves every register: the loop computes exactly what it computes without
/// checks.
#[test]
fn checks_leave_the_loops_values_intact() {
    const N: i32 = 30_000_000;
    let run = |engine: &Engine, prepare: &dyn Fn(&mut Store<u32>)| -> (f64, u32) {
        let module = Module::new(engine, MIX).unwrap();
        let mut store = Store::new(engine, 0u32);
        prepare(&mut store);
        let instance = Linker::new(engine).instantiate(&mut store, &module).unwrap();
        let mix = instance.get_typed_func::<i32, f64>(&mut store, "mix").unwrap();
        let result = mix.call(&mut store, N).unwrap();
        (result, *store.data())
    };
    let (expected, _) = run(&engine(false, false), &|_| {});
    let (with_fuel, _) = run(&engine(true, false), &|store| store.set_fuel(u64::MAX).unwrap());
    assert_eq!(with_fuel.to_bits(), expected.to_bits());

    let epochs = engine(false, true);
    let ticking = ticker(&epochs, Duration::from_micros(500));
    let (with_epochs, callbacks) = run(&epochs, &|store| {
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut cx| {
            *cx.data_mut() += 1;
            Ok(UpdateDeadline::Continue(1))
        });
    });
    stop(ticking);
    assert!(callbacks > 0, "the callback never ran");
    assert_eq!(with_epochs.to_bits(), expected.to_bits(), "after {callbacks} callbacks");
}

/// Calls of every shape, with fuel: direct, indirect, through a tail call, of a host function
/// with five results, of a wasm function with six (too many results for the fuel counter to
/// come back in a register: it comes back through the store).
const CALL_SHAPES: &str = r#"(module
  (import "host" "five" (func $five (param i32) (result i32 i32 i32 i32 i32)))
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $inc $many_wrap)
  (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $many (param i32) (result i32 i32 i32 i32 i32 i32)
    (local.get 0) (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4) (i32.const 5))
  (func $many_wrap (param i32) (result i32)
    (call $many (local.get 0)) (drop) (drop) (drop) (drop) (drop))
  (func $tail (param i32) (result i32) (return_call $inc (local.get 0)))
  (func (export "shapes") (param i32) (result i32)
    (local.set 0 (call $inc (local.get 0)))
    (local.set 0 (call_indirect (type $t) (local.get 0) (i32.const 0)))
    (local.set 0 (call_indirect (type $t) (local.get 0) (i32.const 1)))
    (local.set 0 (call $tail (local.get 0)))
    (call $five (local.get 0)) (i32.add) (i32.add) (i32.add) (i32.add))
  (func (export "many") (param i32) (result i32 i32 i32 i32 i32 i32) (call $many (local.get 0))))"#;

/// Fuel goes through calls of every shape as in Wasmtime (the same figures: 46 and 10), and a
/// host function in the middle sees what was consumed before it.
#[test]
fn fuel_through_calls_of_every_shape() {
    let engine = engine(true, false);
    let module = Module::new(&engine, CALL_SHAPES).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "five", |caller: Caller<'_, ()>, x: i32| -> (i32, i32, i32, i32, i32) {
            (x, (caller.get_fuel().unwrap() & 0xff) as i32, 0, 0, 0)
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    store.set_fuel(1_000_000).unwrap();
    let shapes = instance.get_typed_func::<i32, i32>(&mut store, "shapes").unwrap();
    // 13 after the four calls, plus the low byte of the fuel the host saw: 1_000_000 - 42.
    assert_eq!(shapes.call(&mut store, 10).unwrap(), 13 + ((1_000_000 - 42) & 0xff));
    assert_eq!(store.get_fuel().unwrap(), 1_000_000 - 46);
    store.set_fuel(1_000_000).unwrap();
    let many = instance.get_typed_func::<i32, (i32, i32, i32, i32, i32, i32)>(&mut store, "many").unwrap();
    assert_eq!(many.call(&mut store, 7).unwrap(), (7, 1, 2, 3, 4, 5));
    assert_eq!(store.get_fuel().unwrap(), 1_000_000 - 10);
    // Dynamic calls agree.
    let mut results = vec![Val::I32(0); 6];
    store.set_fuel(1_000_000).unwrap();
    instance.get_func(&mut store, "many").unwrap().call(&mut store, &[Val::I32(7)], &mut results).unwrap();
    assert_eq!(results[5].unwrap_i32(), 5);
    assert_eq!(store.get_fuel().unwrap(), 1_000_000 - 10);
}
