//! Fuel kept in Cranelift's pinned register (`r15` on x86_64, `x21` on aarch64) while wasm
//! runs: a trap anywhere loses none of the fuel consumed before it, the host's own value of
//! that callee-saved register survives every call into wasm (returning or trapping, nested
//! through a host function), and a deadline callback sees the fuel left.
//!
//! The figures are those of `interrupt.rs`'s counting (Wasmtime 48's costs). Rust frames
//! between the host's code and the entry trampoline may save `r15` themselves and hide a
//! trampoline that does not give it back: the runtime's unit test
//! `func::tests::the_entry_trampoline_gives_the_callers_r15_back` calls the trampoline
//! directly.

use anyhow::Result;
use weld::{Caller, Config, Engine, Linker, Module, Store, Trap, TypedFunc, UpdateDeadline};

/// `count` loops `n` times (2 before the loop and 5 per iteration, as in `interrupt.rs`) and
/// then traps in four ways, or returns; `nested` calls the host, which calls `count` back.
const GUEST: &str = r#"(module
  (import "host" "call-back" (func $call_back (param i32 i32) (result i32)))
  (memory 1)
  (func $count (export "count") (param $n i32) (param $how i32) (result i32)
    (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (block $ok
      (block $oob
        (block $div
          (block $unreachable
            (br_table $ok $oob $div $unreachable (local.get $how)))
          unreachable)
        (drop (i32.div_u (i32.const 1) (local.get $n))))
      (drop (i32.load (i32.const -4))))
    (local.get $n))
  (func (export "nested") (param i32 i32) (result i32)
    (call $call_back (local.get 0) (local.get 1))))"#;

/// The four endings of `count`, by its second argument.
const ENDINGS: [(i32, Option<Trap>); 4] = [
    (0, None),
    (1, Some(Trap::MemoryOutOfBounds)),
    (2, Some(Trap::IntegerDivisionByZero)),
    (3, Some(Trap::UnreachableCodeReached)),
];

fn fuel_engine() -> Engine {
    let mut config = Config::new();
    config.consume_fuel(true).epoch_interruption(true);
    Engine::new(&config).unwrap()
}

/// `count` and `nested`, both `(n, how) -> i32`.
type Count = TypedFunc<(i32, i32), i32>;

fn instantiate(engine: &Engine) -> (Store<()>, Count, Count) {
    let module = Module::new(engine, GUEST).unwrap();
    let mut store = Store::new(engine, ());
    store.set_epoch_deadline(u64::MAX);
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("host", "call-back", |mut caller: Caller<'_, ()>, n: i32, how: i32| -> Result<i32> {
            let count = caller.get_export("count").unwrap().into_func().unwrap().typed::<(i32, i32), i32>(&caller)?;
            count.call(&mut caller, (n, how))
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let count = instance.get_typed_func(&mut store, "count").unwrap();
    let nested = instance.get_typed_func(&mut store, "nested").unwrap();
    (store, count, nested)
}

/// What `count(n, how)` consumes up to where it returns or traps: its entry (1), 5 per
/// iteration, then `local.get` + `br_table` (2), added when the `br_table` ends its block.
/// The trapping instructions after it are in a block not yet ended, so they are not counted
/// (as in Wasmtime).
fn consumed_by_count(n: i32, how: i32) -> u64 {
    let before_ending = 1 + 5 * n as u64 + 2;
    match how {
        // `local.get` and the function's `end`.
        0 => before_ending + 1,
        _ => before_ending,
    }
}

#[test]
fn a_trap_loses_none_of_the_fuel_consumed_before_it() {
    let engine = fuel_engine();
    let (mut store, count, _) = instantiate(&engine);
    const START: u64 = 1_000_000;
    for n in [1, 10, 1000] {
        for (how, trap) in ENDINGS {
            store.set_fuel(START).unwrap();
            let result = count.call(&mut store, (n, how));
            match trap {
                None => assert_eq!(result.unwrap(), 0),
                Some(trap) => assert_eq!(*result.unwrap_err().downcast_ref::<Trap>().unwrap(), trap),
            }
            let consumed = START - store.get_fuel().unwrap();
            assert_eq!(consumed, consumed_by_count(n, how), "count({n}, {how})");
        }
    }
}

#[test]
fn a_trap_in_wasm_called_by_the_host_is_charged_to_the_outer_call_too() {
    let engine = fuel_engine();
    let (mut store, _, nested) = instantiate(&engine);
    const START: u64 = 1_000_000;
    for (how, trap) in ENDINGS {
        store.set_fuel(START).unwrap();
        let result = nested.call(&mut store, (100, how));
        assert_eq!(result.is_err(), trap.is_some(), "nested(100, {how})");
        // `nested`: its entry, two `local.get`s and the call (4), then `count`'s own.
        let consumed = START - store.get_fuel().unwrap();
        assert_eq!(consumed, 4 + consumed_by_count(100, how), "nested(100, {how})");
    }
}

#[test]
fn a_deadline_callback_sees_the_fuel_left() {
    let engine = fuel_engine();
    let (mut store, count, _) = instantiate(&engine);
    store.set_fuel(1_000).unwrap();
    store.set_epoch_deadline(1);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    store.epoch_deadline_callback(move |store| {
        record.lock().unwrap().push(store.get_fuel().unwrap());
        Ok(UpdateDeadline::Continue(u64::MAX / 2))
    });
    engine.increment_epoch();
    assert_eq!(count.call(&mut store, (10, 0)).unwrap(), 0);
    // The entry's check runs first: the callback sees the call's cost (1) consumed, no more.
    assert_eq!(*seen.lock().unwrap(), [999]);
    assert_eq!(store.get_fuel().unwrap(), 1_000 - consumed_by_count(10, 0));
}

/// Calls `f` with `r15` (x86_64's pinned register, callee-saved for the host) set to a value
/// the host chose, and checks that `r15` holds it again when `f` returns.
#[cfg(target_arch = "x86_64")]
fn r15_kept_across(f: &mut dyn FnMut()) {
    type Call<'a> = (&'a mut dyn FnMut(), Option<Box<dyn std::any::Any + Send>>);
    extern "C" fn trampoline(call: *mut Call<'_>) {
        // SAFETY: `call` points at the pair on `r15_kept_across`'s frame, live for the call.
        let call = unsafe { &mut *call };
        call.1 = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut call.0)).err();
    }
    const CHOSEN: u64 = 0x5eed_f00d_1234_5678;
    let mut call: Call<'_> = (f, None);
    let arg: *mut Call<'_> = &mut call;
    let out: u64;
    // SAFETY: `trampoline` is an `extern "C"` function taking one pointer argument, which
    // never unwinds; it is called with the C ABI's clobbers declared. `r15` is callee-saved
    // in that ABI, so it must come back unchanged.
    unsafe {
        std::arch::asm!(
            "call {f}",
            f = sym trampoline,
            in("rdi") arg,
            inout("r15") CHOSEN => out,
            clobber_abi("C"),
        );
    }
    if let Some(panic) = call.1 {
        std::panic::resume_unwind(panic);
    }
    assert_eq!(out, CHOSEN, "r15 was clobbered");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn the_hosts_value_of_the_pinned_register_survives_calls_and_traps() {
    let engine = fuel_engine();
    let (mut store, count, nested) = instantiate(&engine);
    store.set_fuel(1_000_000).unwrap();
    for (how, trap) in ENDINGS {
        r15_kept_across(&mut || assert_eq!(count.call(&mut store, (50, how)).is_err(), trap.is_some()));
        r15_kept_across(&mut || assert_eq!(nested.call(&mut store, (50, how)).is_err(), trap.is_some()));
    }
    // Out of fuel, in the middle of the loop.
    store.set_fuel(100).unwrap();
    r15_kept_across(&mut || {
        let err = count.call(&mut store, (1000, 0)).unwrap_err();
        assert_eq!(*err.downcast_ref::<Trap>().unwrap(), Trap::OutOfFuel);
    });
}
