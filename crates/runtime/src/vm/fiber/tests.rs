//! Fibers alone (suspend and resume, nesting, panics, stack reuse), and wasm on fibers: host
//! functions that suspend in the middle of a call, traps and host errors and panics after a
//! resumption, stack overflow, and fibers interleaved in one store, resumed from the host's
//! stack and from inside wasm.

use super::{Fiber, FiberStack, Resumed, on_fiber, suspend};
use crate::{AsContextMut, Caller, Config, Engine, Instance, Linker, Module, Store, Trap, WasmTyList};
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;

/// Larger than the default `max_wasm_stack` (512 KiB), with room for the host's frames.
const WASM_STACK: usize = 2 << 20;

fn stack() -> FiberStack {
    FiberStack::new(64 << 10).unwrap()
}

#[test]
fn a_fiber_suspends_twice_and_finishes_with_its_values() {
    let resumes = Rc::new(Cell::new(0u32));
    let log = Rc::new(RefCell::new(Vec::new()));
    let (seen, out) = (resumes.clone(), log.clone());
    let mut fiber = Fiber::new(stack(), move || {
        assert!(on_fiber());
        // `x` lives on the fiber's stack across both suspensions; `seen` is what the resumer
        // changed in between.
        let mut x = 7u64;
        for _ in 0..2 {
            x = x * 10 + u64::from(seen.get());
            out.borrow_mut().push(x);
            suspend().unwrap();
        }
        out.borrow_mut().push(x * 10 + u64::from(seen.get()));
    });
    assert!(!on_fiber());
    let mut states = Vec::new();
    loop {
        resumes.set(resumes.get() + 1);
        let state = fiber.resume();
        states.push(state);
        if state == Resumed::Finished {
            break;
        }
    }
    assert_eq!(states, [Resumed::Suspended, Resumed::Suspended, Resumed::Finished]);
    assert_eq!(*log.borrow(), [71, 712, 7123]);
    assert!(fiber.is_finished());
    let again = catch_unwind(AssertUnwindSafe(|| fiber.resume())).unwrap_err();
    assert!(again.downcast_ref::<String>().unwrap().contains("Finished"));

    // The stack goes on to the next fiber, as many times as needed; an unstarted fiber's too.
    let mut stack = fiber.into_stack().expect("a finished fiber gives its stack back");
    for i in 0..100u64 {
        let sum = Rc::new(Cell::new(0));
        let s = sum.clone();
        let mut fiber = Fiber::new(stack, move || {
            s.set(i);
            suspend().unwrap();
            s.set(s.get() + i);
        });
        assert_eq!(fiber.resume(), Resumed::Suspended);
        assert_eq!(fiber.resume(), Resumed::Finished);
        assert_eq!(sum.get(), 2 * i);
        stack = fiber.into_stack().unwrap();
    }
    let unstarted = Fiber::new(stack, || unreachable!());
    assert!(unstarted.into_stack().is_some());
}

#[test]
fn suspending_off_a_fiber_is_an_error() {
    let error = suspend().unwrap_err();
    assert!(error.to_string().contains("does not run on a fiber"), "{error}");
}

#[test]
fn fibers_nest_and_suspend_to_their_own_resumer() {
    let log = Rc::new(RefCell::new(Vec::new()));
    // The inner fiber, once the outer one hands it over.
    let parked: Rc<RefCell<Option<Fiber>>> = Rc::default();
    let (out, park) = (log.clone(), parked.clone());
    let mut outer = Fiber::new(stack(), move || {
        let inner_log = out.clone();
        let mut inner = Fiber::new(stack(), move || {
            inner_log.borrow_mut().push("inner 1");
            suspend().unwrap();
            inner_log.borrow_mut().push("inner 2");
            suspend().unwrap();
            inner_log.borrow_mut().push("inner 3");
        });
        out.borrow_mut().push("outer 1");
        // The inner fiber's suspension comes back here, not to the test's stack.
        assert_eq!(inner.resume(), Resumed::Suspended);
        assert!(on_fiber());
        out.borrow_mut().push("outer 2");
        suspend().unwrap();
        assert_eq!(inner.resume(), Resumed::Suspended);
        out.borrow_mut().push("outer 3");
        // From now on the test's stack resumes the inner fiber.
        *park.borrow_mut() = Some(inner);
    });
    assert_eq!(outer.resume(), Resumed::Suspended);
    assert_eq!(*log.borrow(), ["outer 1", "inner 1", "outer 2"]);
    assert_eq!(outer.resume(), Resumed::Finished);
    let mut inner = parked.borrow_mut().take().unwrap();
    assert_eq!(inner.resume(), Resumed::Finished);
    assert_eq!(*log.borrow(), ["outer 1", "inner 1", "outer 2", "inner 2", "outer 3", "inner 3"]);
    assert!(!on_fiber());
}

#[test]
fn a_panic_on_a_fiber_goes_on_in_its_resumer() {
    let mut fiber = Fiber::new(stack(), || {
        suspend().unwrap();
        panic!("inside the fiber");
    });
    assert_eq!(fiber.resume(), Resumed::Suspended);
    let panic = catch_unwind(AssertUnwindSafe(|| fiber.resume())).unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"inside the fiber"));
    assert!(fiber.is_finished() && !on_fiber());
    // A panic in a nested fiber reaches the fiber that resumed it, which can catch it.
    let mut outer = Fiber::new(stack(), || {
        let mut inner = Fiber::new(stack(), || panic!("inner"));
        let panic = catch_unwind(AssertUnwindSafe(|| inner.resume())).unwrap_err();
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"inner"));
        suspend().unwrap();
    });
    assert_eq!(outer.resume(), Resumed::Suspended);
    assert_eq!(outer.resume(), Resumed::Finished);
}

/// Sets its flag when dropped: whether a fiber's frames dropped what they own.
struct Flag(Rc<Cell<bool>>);

impl Drop for Flag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn a_suspended_fiber_can_be_dropped() {
    let dropped = Rc::new(Cell::new(false));
    let flag = Flag(dropped.clone());
    let mut fiber = Fiber::new(stack(), move || {
        let _flag = flag;
        suspend().unwrap();
    });
    assert_eq!(fiber.resume(), Resumed::Suspended);
    drop(fiber);
    // Its frames are leaked, not dropped (nothing can unwind them).
    assert!(!dropped.get());
    // An unstarted fiber's closure is dropped with it.
    let flag = Flag(dropped.clone());
    drop(Fiber::new(stack(), move || drop(flag)));
    assert!(dropped.get());
}

#[test]
fn unwinding_a_suspended_fiber_returns_its_frames() {
    let dropped = Rc::new(Cell::new(false));
    let flag = Flag(dropped.clone());
    let errors = Rc::new(RefCell::new(Vec::new()));
    let seen = errors.clone();
    let mut fiber = Fiber::new(stack(), move || {
        let _flag = flag;
        // Suspends until `suspend` fails; then suspending again fails at once.
        while suspend().is_ok() {}
        seen.borrow_mut().push(suspend().unwrap_err().to_string());
    });
    assert_eq!(fiber.resume(), Resumed::Suspended);
    assert_eq!(fiber.resume(), Resumed::Suspended);
    assert!(fiber.is_suspended() && !dropped.get());
    assert_eq!(fiber.unwind(), Resumed::Finished);
    assert!(dropped.get(), "the frames returned and dropped what they own");
    assert!(errors.borrow()[0].contains("store was dropped"), "{:?}", errors.borrow());
    // Its stack is free again.
    assert!(fiber.into_stack().is_some());
}

// ---------------------------------------------------------------------------------------------
// Wasm on fibers.

/// `run(a, b)` keeps values in locals across two suspensions (the host's `suspend`), calling
/// a function between them, and returns `a * b * 31 + b + a * 3 / 2 + (a - b) * 1000`.
/// `after(how)` suspends, then traps (`unreachable`, out of bounds), has the host fail or
/// panic, or returns 7. `recurse` never ends (`depth` says how deep it went);
/// `nested(n)` returns `n * 100000 + run(n, 2)`, suspending inside a second entry (`reenter`
/// calls `run` back from the host); `resume-parked-then-trap` has the host resume the parked
/// fiber once, then traps.
const GUEST: &str = r#"(module
  (import "host" "suspend" (func $suspend (param i32)))
  (import "host" "fail" (func $fail))
  (import "host" "panic" (func $panic))
  (import "host" "reenter" (func $reenter (param i32 i32) (result i32)))
  (import "host" "resume-parked" (func $resume_parked))
  (memory 1)
  (global $depth (mut i32) (i32.const 0))
  (func $mix (export "mix") (param i32 i32) (result i32)
    (i32.add (i32.mul (local.get 0) (i32.const 31)) (local.get 1)))
  (func $run (export "run") (param $a i32) (param $b i32) (result i32)
    (local $x i32) (local $d i32) (local $f f64)
    (local.set $x (i32.mul (local.get $a) (local.get $b)))
    (local.set $d (i32.sub (local.get $a) (local.get $b)))
    (local.set $f (f64.convert_i32_s (local.get $a)))
    (call $suspend (i32.const 1))
    (local.set $x (call $mix (local.get $x) (local.get $b)))
    (call $suspend (i32.const 2))
    (i32.add
      (i32.add (local.get $x) (i32.trunc_f64_s (f64.mul (local.get $f) (f64.const 1.5))))
      (i32.mul (local.get $d) (i32.const 1000))))
  (func (export "after") (param $how i32) (result i32)
    (call $suspend (i32.const 1))
    (if (i32.eq (local.get $how) (i32.const 0)) (then unreachable))
    (if (i32.eq (local.get $how) (i32.const 1)) (then (drop (i32.load (i32.const 70000)))))
    (if (i32.eq (local.get $how) (i32.const 2)) (then (call $fail)))
    (if (i32.eq (local.get $how) (i32.const 3)) (then (call $panic)))
    (i32.const 7))
  (func $recurse (export "recurse")
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (call $recurse))
  (func (export "depth") (result i32)
    (global.get $depth)
    (global.set $depth (i32.const 0)))
  (func (export "suspend-then-recurse")
    (call $suspend (i32.const 1))
    (call $recurse))
  (func (export "nested") (param $n i32) (result i32)
    (local $keep i32)
    (local.set $keep (i32.mul (local.get $n) (i32.const 100000)))
    (i32.add (local.get $keep) (call $reenter (local.get $n) (i32.const 2))))
  (func (export "resume-parked-then-trap")
    (call $resume_parked)
    unreachable))"#;

fn expected_run(a: i32, b: i32) -> i32 {
    a * b * 31 + b + a * 3 / 2 + (a - b) * 1000
}

/// What the host functions record.
#[derive(Default)]
struct Host {
    /// The argument of every `suspend`, in order.
    suspensions: Vec<i32>,
}

thread_local! {
    /// A fiber that the host function `resume-parked` resumes once (from inside wasm), and
    /// parks again.
    static PARKED: RefCell<Option<Fiber>> = const { RefCell::new(None) };
}

/// [`GUEST`] instantiated in a store that the test's stack and its fibers share, as a
/// scheduler shares a store with the tasks it runs: each uses it through this pointer only
/// while the others are suspended, finished, or inside a host function they called (which
/// uses the store as any host function does). The test's own `Guest` frees the store;
/// fibers get copies ([`Guest::view`]).
struct Guest {
    store: *mut Store<Host>,
    instance: Instance,
    owner: bool,
}

impl Guest {
    fn new(engine: &Engine) -> Guest {
        let module = Module::new(engine, GUEST).unwrap();
        let mut linker = Linker::<Host>::new(engine);
        linker
            .func_wrap("host", "suspend", |mut caller: Caller<'_, Host>, n: i32| -> anyhow::Result<()> {
                caller.data_mut().suspensions.push(n);
                suspend()
            })
            .unwrap()
            .func_wrap("host", "fail", || -> anyhow::Result<()> { anyhow::bail!("the host says no") })
            .unwrap()
            .func_wrap("host", "panic", || -> anyhow::Result<()> { panic!("the host panics") })
            .unwrap()
            .func_wrap("host", "reenter", |mut caller: Caller<'_, Host>, a: i32, b: i32| -> anyhow::Result<i32> {
                let run = caller.get_export("run").and_then(|e| e.into_func()).unwrap();
                run.typed::<(i32, i32), i32>(&caller)?.call(&mut caller, (a, b))
            })
            .unwrap()
            .func_wrap("host", "resume-parked", |caller: Caller<'_, Host>| {
                let mut fiber = PARKED.with(|p| p.borrow_mut().take()).expect("a parked fiber");
                let limit = &raw mut caller.store.opaque_mut().store_context.stack_limit;
                // SAFETY: the store outlives this call, and the fiber uses it only while this
                // host function waits for it.
                unsafe { resume_in(limit, &mut fiber) };
                PARKED.with(|p| *p.borrow_mut() = Some(fiber));
            })
            .unwrap();
        let mut store = Box::new(Store::new(engine, Host::default()));
        let instance = linker.instantiate(&mut *store, &module).unwrap();
        Guest { store: Box::into_raw(store), instance, owner: true }
    }

    /// A copy for a fiber, which must not outlive `self`.
    fn view(&self) -> Guest {
        Guest { store: self.store, instance: self.instance, owner: false }
    }

    /// Calls `name(params)` on whatever stack this runs on.
    fn call<P: WasmTyList, R: WasmTyList>(&self, name: &str, params: P) -> anyhow::Result<R> {
        // SAFETY: see the type's docs: nothing else uses the store during this call but the
        // host functions it calls and the fibers they resume.
        let store = unsafe { &mut *self.store };
        self.instance.get_typed_func::<P, R>(&mut *store, name)?.call(&mut *store, params)
    }

    /// A fiber running `body` with a view of the guest, on a stack of [`WASM_STACK`] bytes;
    /// its result goes in the cell returned.
    fn fiber<R: 'static>(&self, body: impl FnOnce(&Guest) -> R + 'static) -> (Fiber, Rc<RefCell<Option<R>>>) {
        let result = Rc::new(RefCell::new(None));
        let (out, guest) = (result.clone(), self.view());
        let fiber = Fiber::new(FiberStack::new(WASM_STACK).unwrap(), move || *out.borrow_mut() = Some(body(&guest)));
        (fiber, result)
    }

    /// The store's stack limit.
    fn stack_limit(&self) -> *mut usize {
        // SAFETY: the store is alive (see the type's docs); only a pointer is made.
        unsafe { &raw mut (*self.store).as_context_mut().opaque_mut().store_context.stack_limit }
    }

    /// Resumes `fiber` as a scheduler must: with its own stack limit in the store.
    fn resume(&self, fiber: &mut Fiber) -> Resumed {
        // SAFETY: the store outlives the test's fibers, and no fiber runs here.
        unsafe { resume_in(self.stack_limit(), fiber) }
    }

    /// Sets the store's fuel, or (with `None`) reads it.
    fn fuel(&self, set: Option<u64>) -> u64 {
        // SAFETY: called on the test's stack, where no wasm runs, while no fiber runs.
        let store = unsafe { &mut *self.store };
        if let Some(fuel) = set {
            store.set_fuel(fuel).unwrap();
        }
        store.get_fuel().unwrap()
    }

    /// Takes what the host's `suspend` recorded.
    fn suspensions(&self) -> Vec<i32> {
        // SAFETY: called on the test's stack, where no wasm runs, while no fiber runs.
        unsafe { std::mem::take(&mut (*self.store).data_mut().suspensions) }
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        if self.owner {
            // SAFETY: the owner's pointer came from `Box::into_raw`, and the test's fibers are
            // finished or dropped by now (or leaked with their views, which never run again).
            drop(unsafe { Box::from_raw(self.store) });
        }
    }
}

/// Gives `fiber` its stack limit, resumes it, and gives the resumer its own back (even when
/// the fiber panicked).
///
/// # Safety
/// `limit` must point at a live store's stack limit that nobody else uses until the fiber
/// suspends or finishes.
unsafe fn resume_in(limit: *mut usize, fiber: &mut Fiber) -> Resumed {
    // SAFETY: per the contract; no fiber runs here.
    fiber.swap_stack_limit(unsafe { &mut *limit });
    let result = catch_unwind(AssertUnwindSafe(|| fiber.resume()));
    // SAFETY: as above: the fiber is suspended or finished again.
    fiber.swap_stack_limit(unsafe { &mut *limit });
    result.unwrap_or_else(|panic| resume_unwind(panic))
}

/// Resumes `fiber` until it finishes; how many times it suspended.
fn finish(guest: &Guest, fiber: &mut Fiber) -> usize {
    let mut suspended = 0;
    while guest.resume(fiber) == Resumed::Suspended {
        suspended += 1;
    }
    suspended
}

fn trap_of(error: &anyhow::Error) -> Trap {
    *error.downcast_ref::<Trap>().unwrap_or_else(|| panic!("not a trap: {error:?}"))
}

#[test]
fn wasm_on_a_fiber_suspends_in_a_host_function_and_goes_on() {
    let engine = Engine::default();
    let guest = Guest::new(&engine);
    let (mut fiber, result) = guest.fiber(|g| g.call::<(i32, i32), i32>("run", (12, 5)));
    assert_eq!(guest.resume(&mut fiber), Resumed::Suspended);
    assert_eq!(guest.suspensions(), [1]);
    // Suspended in wasm, the fiber keeps a limit on its own stack; the store has its
    // resumer's (none: no wasm runs on the test's stack).
    // SAFETY: no fiber runs.
    assert_eq!(unsafe { *guest.stack_limit() }, usize::MAX);
    let stack = fiber.stack.as_ref().unwrap();
    let bottom = stack.top() as usize - stack.size();
    assert!((bottom..stack.top() as usize).contains(&fiber.stack_limit), "{:#x}", fiber.stack_limit);

    // Meanwhile wasm on this stack calls the host's `suspend`, which fails here: a trap, at
    // this stack's entry.
    let error = guest.call::<(i32, i32), i32>("run", (1, 1)).unwrap_err();
    assert!(format!("{error:?}").contains("does not run on a fiber"), "{error:?}");
    assert_eq!(guest.suspensions(), [1]);

    assert_eq!(guest.resume(&mut fiber), Resumed::Suspended);
    assert_eq!(guest.resume(&mut fiber), Resumed::Finished);
    assert_eq!(guest.suspensions(), [2]);
    assert_eq!(result.take().unwrap().unwrap(), expected_run(12, 5));
    assert_eq!(fiber.stack_limit, usize::MAX, "the fiber's calls are over");

    // Suspended inside a second entry (wasm -> host -> wasm -> host), on the same stack.
    let stack = fiber.into_stack().unwrap();
    let view = guest.view();
    let result = Rc::new(Cell::new(0));
    let out = result.clone();
    let mut fiber = Fiber::new(stack, move || out.set(view.call::<i32, i32>("nested", 4).unwrap()));
    assert_eq!(finish(&guest, &mut fiber), 2);
    assert_eq!(result.get(), 400_000 + expected_run(4, 2));
}

#[test]
fn a_trap_after_a_resumption_unwinds_to_the_fibers_entry() {
    let engine = Engine::default();
    let guest = Guest::new(&engine);
    for (how, trap) in [(0, Trap::UnreachableCodeReached), (1, Trap::MemoryOutOfBounds)] {
        let (mut fiber, result) = guest.fiber(move |g| g.call::<i32, i32>("after", how));
        assert_eq!(finish(&guest, &mut fiber), 1);
        let error = result.take().unwrap().unwrap_err();
        assert_eq!(trap_of(&error), trap, "{error:?}");
    }
    // A host function's error after the resumption.
    let (mut fiber, result) = guest.fiber(|g| g.call::<i32, i32>("after", 2));
    assert_eq!(finish(&guest, &mut fiber), 1);
    let error = result.take().unwrap().unwrap_err();
    assert!(format!("{error:?}").contains("the host says no"), "{error:?}");
    // A host function's panic: through wasm, out of the fiber, into its resumer.
    let (mut fiber, result) = guest.fiber(|g| g.call::<i32, i32>("after", 3));
    assert_eq!(guest.resume(&mut fiber), Resumed::Suspended);
    let panic = catch_unwind(AssertUnwindSafe(|| guest.resume(&mut fiber))).unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"the host panics"));
    assert!(fiber.is_finished() && result.borrow().is_none());
    // SAFETY: no fiber runs.
    assert_eq!(unsafe { *guest.stack_limit() }, usize::MAX, "the resumer's limit is back");

    // Wasm on this stack still works, traps included.
    assert_eq!(guest.call::<(i32, i32), i32>("mix", (2, 3)).unwrap(), 65);
    assert_eq!(trap_of(&guest.call::<(), ()>("recurse", ()).unwrap_err()), Trap::StackOverflow);
    assert_eq!(guest.suspensions(), [1, 1, 1, 1]);
}

#[test]
fn unwinding_a_fiber_suspended_in_wasm_makes_its_call_fail() {
    let engine = Engine::default();
    let guest = Guest::new(&engine);
    let (mut fiber, result) = guest.fiber(|g| g.call::<(i32, i32), i32>("run", (12, 5)));
    assert_eq!(guest.resume(&mut fiber), Resumed::Suspended);
    // As `resume_in` does, with the fiber's own stack limit in the store while it runs.
    let limit = guest.stack_limit();
    // SAFETY: the store outlives the fiber, and no fiber runs here.
    fiber.swap_stack_limit(unsafe { &mut *limit });
    let resumed = fiber.unwind();
    // SAFETY: as above: the fiber has finished.
    fiber.swap_stack_limit(unsafe { &mut *limit });
    assert_eq!(resumed, Resumed::Finished);
    let error = result.take().unwrap().unwrap_err();
    assert!(format!("{error:?}").contains("store was dropped"), "{error:?}");
    // Wasm on this stack still works.
    assert_eq!(guest.call::<(i32, i32), i32>("mix", (2, 3)).unwrap(), 65);
}

#[test]
fn unbounded_recursion_on_a_fiber_is_a_stack_overflow_trap() {
    let engine = Engine::default();
    let guest = Guest::new(&engine);
    assert_eq!(trap_of(&guest.call::<(), ()>("recurse", ()).unwrap_err()), Trap::StackOverflow);
    let here = guest.call::<(), i32>("depth", ()).unwrap();
    for name in ["recurse", "suspend-then-recurse"] {
        let (mut fiber, result) = guest.fiber(move |g| {
            let error = g.call::<(), ()>(name, ()).unwrap_err();
            // The fiber's next call computes its limit afresh, and works.
            (error, g.call::<(), i32>("depth", ()).unwrap(), g.call::<(i32, i32), i32>("mix", (1, 1)).unwrap())
        });
        finish(&guest, &mut fiber);
        let (error, depth, mixed) = result.take().unwrap();
        assert_eq!(trap_of(&error), Trap::StackOverflow, "{name}: {error:?}");
        assert_eq!(mixed, 32);
        // `max_wasm_stack` bounds wasm on a fiber as it does on a thread's stack.
        assert!(depth.abs_diff(here) < here as u32 / 10, "{name}: depth {depth} on the fiber, {here} on the thread");
    }
}

#[test]
fn interleaved_fibers_keep_their_own_entries() {
    let engine = Engine::default();
    let guest = Guest::new(&engine);
    // A suspends inside its second entry; B runs to its end meanwhile (a trap included).
    let (mut a, a_result) = guest.fiber(|g| g.call::<i32, i32>("nested", 3));
    let (mut b, b_result) = guest.fiber(|g| {
        let ran = g.call::<(i32, i32), i32>("run", (9, 2));
        let trapped = g.call::<i32, i32>("after", 0);
        (ran.unwrap(), trap_of(&trapped.unwrap_err()), g.call::<(i32, i32), i32>("run", (1, 8)).unwrap())
    });
    assert_eq!(guest.resume(&mut a), Resumed::Suspended);
    assert_eq!(finish(&guest, &mut b), 5);
    assert_eq!(b_result.take().unwrap(), (expected_run(9, 2), Trap::UnreachableCodeReached, expected_run(1, 8)));
    assert_eq!(finish(&guest, &mut a), 1);
    assert_eq!(a_result.take().unwrap().unwrap(), 300_000 + expected_run(3, 2));
    guest.suspensions();

    // Round robin: each fiber goes on by one suspension in turn.
    let mut fibers: Vec<_> = (0..6)
        .map(|i| {
            guest.fiber(move |g| match i % 3 {
                0 => g.call::<(i32, i32), i32>("run", (i, 7)).map_err(|e| trap_of(&e)),
                1 => g.call::<i32, i32>("nested", i).map_err(|e| trap_of(&e)),
                _ => g.call::<i32, i32>("after", i % 2).map_err(|e| trap_of(&e)),
            })
        })
        .collect();
    while fibers.iter().any(|(fiber, _)| !fiber.is_finished()) {
        for (fiber, _) in fibers.iter_mut().filter(|(fiber, _)| !fiber.is_finished()) {
            guest.resume(fiber);
        }
    }
    let results: Vec<_> = fibers.iter().map(|(_, result)| result.take().unwrap()).collect();
    assert_eq!(
        results,
        [
            Ok(expected_run(0, 7)),
            Ok(100_000 + expected_run(1, 2)),
            Err(Trap::UnreachableCodeReached),
            Ok(expected_run(3, 7)),
            Ok(400_000 + expected_run(4, 2)),
            Err(Trap::MemoryOutOfBounds),
        ]
    );
}

#[test]
fn a_fiber_resumed_from_inside_wasm_goes_on_that_calls_entries() {
    let engine = Engine::default();
    let guest = Guest::new(&engine);
    // C suspends in wasm twice, then outside wasm, then makes another call.
    let (c, c_result) = guest.fiber(|g| {
        let ran = g.call::<(i32, i32), i32>("run", (5, 6)).unwrap();
        suspend().unwrap();
        (ran, g.call::<(i32, i32), i32>("mix", (ran, 1)).unwrap())
    });
    PARKED.with(|p| *p.borrow_mut() = Some(c));
    // Wasm on this stack resumes C from a host function; C suspends, the host function
    // returns, and the trap after it unwinds to this stack's entry.
    let error = guest.call::<(), ()>("resume-parked-then-trap", ()).unwrap_err();
    assert_eq!(trap_of(&error), Trap::UnreachableCodeReached);
    assert_eq!(guest.suspensions(), [1]);
    // From this stack, outside wasm: C's entries, made on top of the wasm call that has
    // ended, now go on top of none; its call returns, and it suspends outside wasm.
    let mut c = PARKED.with(|p| p.borrow_mut().take()).unwrap();
    assert_eq!(guest.resume(&mut c), Resumed::Suspended);
    assert_eq!(guest.resume(&mut c), Resumed::Suspended);
    assert_eq!(guest.suspensions(), [2]);
    // And its last call runs inside another host function.
    PARKED.with(|p| *p.borrow_mut() = Some(c));
    let error = guest.call::<(), ()>("resume-parked-then-trap", ()).unwrap_err();
    assert_eq!(trap_of(&error), Trap::UnreachableCodeReached);
    let c = PARKED.with(|p| p.borrow_mut().take()).unwrap();
    assert!(c.is_finished());
    let ran = expected_run(5, 6);
    assert_eq!(c_result.take().unwrap(), (ran, ran * 31 + 1));
}

#[test]
fn fuel_goes_on_counting_across_interleaved_fibers() {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let guest = Guest::new(&engine);
    const FUEL: u64 = 1_000_000;
    let a = |g: &Guest| g.call::<i32, i32>("nested", 3).unwrap();
    let b = |g: &Guest| g.call::<(i32, i32), i32>("run", (9, 2)).unwrap();
    // Each alone, then both, one suspension at a time.
    let mut alone = Vec::new();
    for body in [a, b] {
        guest.fuel(Some(FUEL));
        let (mut fiber, _) = guest.fiber(body);
        finish(&guest, &mut fiber);
        alone.push(FUEL - guest.fuel(None));
    }
    assert!(alone.iter().all(|fuel| *fuel > 10), "{alone:?}");
    guest.fuel(Some(FUEL));
    let (mut fiber_a, result_a) = guest.fiber(a);
    let (mut fiber_b, result_b) = guest.fiber(b);
    while !(fiber_a.is_finished() && fiber_b.is_finished()) {
        for fiber in [&mut fiber_a, &mut fiber_b].into_iter().filter(|f| !f.is_finished()) {
            guest.resume(fiber);
        }
    }
    assert_eq!((result_a.take(), result_b.take()), (Some(300_000 + expected_run(3, 2)), Some(expected_run(9, 2))));
    assert_eq!(FUEL - guest.fuel(None), alone[0] + alone[1]);
}
