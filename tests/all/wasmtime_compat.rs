//! An embedding program written against Wasmtime 48's API, run against weld through the one
//! alias line below. `tests/wasmtime-compat/check.sh` compiles and runs this same file against
//! the real `wasmtime = "=48.0.10"` (with that line replaced by `use wasmtime;`), which proves
//! that everything here is valid Wasmtime code and behaves the same there.
//!
//! So the body must use only names that Wasmtime 48 has, with the same signatures, and assert
//! only what both runtimes guarantee (error texts are compared by the parts both say: the
//! import's name, "has not been defined", the host's own message). What weld does differently
//! is listed in docs/migrating-from-wasmtime.md; this file is the part that needs no change.

use weld as wasmtime;

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{ComponentType, Lift, Lower};
use wasmtime::{Caller, Config, Engine, Func, FuncType, Linker, Module, Store, StoreContextMut, Trap, Val, ValType};

/// The data every store of these tests holds.
#[derive(Default)]
struct Host {
    calls: u32,
    log: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Core modules
// ---------------------------------------------------------------------------------------------

const CORE_WAT: &str = r#"(module
  (import "host" "bump" (func $bump (param i32) (result i32)))
  (import "host" "double" (func $double (param i32) (result i32)))
  (import "host" "note" (func $note (param i32 i32)))
  (import "host" "check" (func $check (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello")
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "bump-twice") (param i32) (result i32) (call $bump (call $bump (local.get 0))))
  (func (export "double") (param i32) (result i32) (call $double (local.get 0)))
  (func (export "note-hello") (call $note (i32.const 16) (i32.const 5)))
  (func (export "check") (param i32) (result i32) (call $check (local.get 0)))
  (func (export "fail") unreachable)
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))))"#;

/// A linker with the four host functions `CORE_WAT` imports.
fn core_linker(engine: &Engine) -> wasmtime::Result<Linker<Host>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap("host", "bump", |mut caller: Caller<'_, Host>, x: i32| -> i32 {
        caller.data_mut().calls += 1;
        x + 1
    })?;
    // `FuncType::new` differs (Wasmtime takes the engine, weld does not): the type is taken
    // from a function instead.
    let mut scratch = Store::new(engine, ());
    let ty: FuncType = Func::wrap(&mut scratch, |x: i32| x).ty(&scratch);
    linker.func_new("host", "double", ty, |_caller, params, results| {
        results[0] = Val::I32(params[0].unwrap_i32() * 2);
        Ok(())
    })?;
    linker.func_wrap("host", "note", |mut caller: Caller<'_, Host>, ptr: i32, len: i32| -> wasmtime::Result<()> {
        let memory = match caller.get_export("memory") {
            Some(export) => export.into_memory().expect("`memory` is a memory"),
            None => wasmtime::bail!("the caller exports no memory"),
        };
        let bytes = memory.data(&caller)[ptr as usize..(ptr + len) as usize].to_vec();
        caller.data_mut().log.push(String::from_utf8(bytes)?);
        Ok(())
    })?;
    linker.func_wrap("host", "check", |x: i32| -> wasmtime::Result<i32> {
        if x < 0 {
            wasmtime::bail!("negative input {x}");
        }
        Ok(x)
    })?;
    Ok(linker)
}

#[test]
fn core_typed_and_dynamic_calls_with_host_functions() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, CORE_WAT)?;
    let linker = core_linker(&engine)?;
    let mut store = Store::new(&engine, Host::default());
    let instance = linker.instantiate(&mut store, &module)?;

    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
    assert_eq!(add.call(&mut store, (2, 3))?, 5);
    let bump_twice = instance.get_typed_func::<i32, i32>(&mut store, "bump-twice")?;
    assert_eq!(bump_twice.call(&mut store, 40)?, 42);
    assert_eq!(store.data().calls, 2, "the host function saw the store's data through its Caller");

    let double = instance.get_func(&mut store, "double").expect("`double` is exported");
    let ty = double.ty(&store);
    assert_eq!(ty.params().len(), 1);
    assert!(matches!(ty.results().next(), Some(ValType::I32)));
    let mut results = [Val::I32(0)];
    double.call(&mut store, &[Val::I32(21)], &mut results)?;
    assert_eq!(results[0].unwrap_i32(), 42);
    assert_eq!(results[0].i32(), Some(42));

    let note = instance.get_typed_func::<(), ()>(&mut store, "note-hello")?;
    note.call(&mut store, ())?;
    assert_eq!(store.data().log, ["hello"], "the host read the caller's memory");
    let memory = instance.get_memory(&mut store, "memory").expect("`memory` is exported");
    assert_eq!(&memory.data(&store)[16..21], b"hello");
    memory.data_mut(&mut store)[16] = b'j';
    note.call(&mut store, ())?;
    assert_eq!(store.data().log, ["hello", "jello"]);

    let check = instance.get_typed_func::<i32, i32>(&mut store, "check")?;
    assert_eq!(check.call(&mut store, 7)?, 7);
    let err = check.call(&mut store, -1).unwrap_err();
    assert!(err.chain().any(|e| e.to_string().contains("negative input -1")), "{err:?}");
    Ok(())
}

#[test]
fn core_traps_are_errors_that_downcast_to_trap() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, CORE_WAT)?;
    let mut store = Store::new(&engine, Host::default());
    let instance = core_linker(&engine)?.instantiate(&mut store, &module)?;
    let fail = instance.get_typed_func::<(), ()>(&mut store, "fail")?;
    let err = fail.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached));
    let div = instance.get_typed_func::<(i32, i32), i32>(&mut store, "div")?;
    let err = div.call(&mut store, (1, 0)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::IntegerDivisionByZero));
    assert_eq!(div.call(&mut store, (9, 3))?, 3, "a core instance is usable after a trap");
    Ok(())
}

#[test]
fn core_instance_pre_and_func_wrap_in_a_store() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config.memory_init_cow(false);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, CORE_WAT)?;
    let pre = core_linker(&engine)?.instantiate_pre(&module)?;
    assert_eq!(pre.module().imports().len(), 4);
    for n in 0..3 {
        let mut store = Store::new(&engine, Host::default());
        let instance = pre.instantiate(&mut store)?;
        let bump_twice = instance.get_typed_func::<i32, i32>(&mut store, "bump-twice")?;
        assert_eq!(bump_twice.call(&mut store, n)?, n + 2);
        assert_eq!(store.data().calls, 2, "each store has its own data");
    }

    let mut store = Store::new(&engine, Host::default());
    let triple = Func::wrap(&mut store, |x: i32| x * 3);
    assert_eq!(triple.typed::<i32, i32>(&store)?.call(&mut store, 5)?, 15);
    let mut linker = Linker::new(&engine);
    linker.define(&store, "env", "triple", triple)?;
    let user = Module::new(
        &engine,
        r#"(module (import "env" "triple" (func $t (param i32) (result i32)))
             (func (export "nine") (result i32) (call $t (i32.const 3))))"#,
    )?;
    let instance = linker.instantiate(&mut store, &user)?;
    assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "nine")?.call(&mut store, ())?, 9);

    // An instance's exports, defined in a linker under a module name, satisfy another's imports.
    let mut linker = Linker::new(&engine);
    linker.instance(&mut store, "provider", instance)?;
    let consumer = Module::new(
        &engine,
        r#"(module (import "provider" "nine" (func $nine (result i32)))
             (func (export "eighteen") (result i32) (i32.add (call $nine) (call $nine))))"#,
    )?;
    let consumer = linker.instantiate(&mut store, &consumer)?;
    assert_eq!(consumer.get_typed_func::<(), i32>(&mut store, "eighteen")?.call(&mut store, ())?, 18);
    Ok(())
}

/// A module that loops forever, and one whose fuel consumption is known.
const SPIN_WAT: &str = r#"(module
  (func (export "spin") (loop (br 0)))
  (func (export "count") (param i32) (result i32)
    (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    local.get 0))"#;

#[test]
fn core_fuel_and_epoch_deadlines() -> wasmtime::Result<()> {
    // Fuel: exact counts (2 before the loop, 5 per iteration), a trap when it runs out, and
    // the store usable once refuelled.
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, SPIN_WAT)?;
    let mut store = Store::new(&engine, Host::default());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    store.set_fuel(1_000)?;
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    assert_eq!(count.call(&mut store, 10)?, 0);
    assert_eq!(store.get_fuel()?, 1_000 - 52);
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
    assert_eq!(store.get_fuel()?, 0);
    store.set_fuel(100)?;
    assert_eq!(count.call(&mut store, 2)?, 0);
    assert_eq!(store.get_fuel()?, 88);
    let plain = Store::new(&Engine::default(), ());
    assert!(plain.get_fuel().is_err(), "fuel needs Config::consume_fuel");

    // Epochs: a deadline one tick away, another thread ticking; the callback extends the
    // deadline three times and then fails, which the call returns.
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, SPIN_WAT)?;
    let mut store = Store::new(&engine, Host::default());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    store.set_epoch_deadline(1);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = {
        let (engine, stop) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(5));
                engine.increment_epoch();
            }
        })
    };
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    store.epoch_deadline_callback(|mut cx: StoreContextMut<'_, Host>| {
        cx.data_mut().calls += 1;
        if cx.data().calls <= 3 {
            Ok(wasmtime::UpdateDeadline::Continue(1))
        } else {
            wasmtime::bail!("spun long enough")
        }
    });
    store.set_epoch_deadline(1);
    let err = spin.call(&mut store, ()).unwrap_err();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    ticker.join().unwrap();
    assert!(err.chain().any(|e| e.to_string() == "spun long enough"), "{err:?}");
    assert_eq!(store.data().calls, 4);
    store.epoch_deadline_trap();
    store.set_epoch_deadline(1);
    assert_eq!(instance.get_typed_func::<i32, i32>(&mut store, "count")?.call(&mut store, 3)?, 0);
    Ok(())
}

/// Store limits: a memory stops growing at `memory_size`, instantiation at `instances`, and
/// the bound on component handles is set on the store.
#[test]
fn core_store_limits() -> wasmtime::Result<()> {
    struct Limited {
        limits: wasmtime::StoreLimits,
    }
    let engine = Engine::default();
    let wat = r#"(module (memory (export "m") 1)
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    let module = Module::new(&engine, wat)?;
    let limits = wasmtime::StoreLimitsBuilder::new().memory_size(4 << 16).instances(2).build();
    let mut store = Store::new(&engine, Limited { limits });
    store.limiter(|l| &mut l.limits);
    let linker = Linker::new(&engine);
    let instance = linker.instantiate(&mut store, &module)?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 3)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1);
    assert_eq!(instance.get_memory(&mut store, "m").unwrap().size(&store), 4);
    linker.instantiate(&mut store, &module)?;
    assert!(linker.instantiate(&mut store, &module).is_err());
    assert_eq!(store.max_component_handles(), 100_000);
    store.set_max_component_handles(10);
    assert_eq!(store.max_component_handles(), 10);
    Ok(())
}

#[test]
fn core_unknown_imports_as_traps() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, CORE_WAT)?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "check", |x: i32| x)?;
    linker.define_unknown_imports_as_traps(&module)?;
    let mut store = Store::new(&engine, Host::default());
    let instance = linker.instantiate(&mut store, &module)?;
    let check = instance.get_typed_func::<i32, i32>(&mut store, "check")?;
    assert_eq!(check.call(&mut store, 4)?, 4, "defined imports are kept");
    let bump_twice = instance.get_typed_func::<i32, i32>(&mut store, "bump-twice")?;
    let err = bump_twice.call(&mut store, 1).unwrap_err();
    let message = format!("{err:?}");
    assert!(message.contains("host::bump") && message.contains("has not been defined"), "{message}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Components
// ---------------------------------------------------------------------------------------------

/// A component that imports an interface instance with `log` and a root function `next`, and
/// exports an interface instance (`docs:adder/add@0.1.0`) and functions over records, enums,
/// variants, flags, options, results, lists and strings.
const COMPONENT_WAT: &str = r#"(component
  (type $point (record (field "x" s32) (field "y" s32)))
  (export $point' "point" (type $point))
  (type $color (enum "red" "green" "blue"))
  (export $color' "color" (type $color))
  (type $shape (variant (case "circle" u32) (case "square" u32) (case "dot")))
  (export $shape' "shape" (type $shape))
  (type $perms (flags "read" "write" "exec"))
  (export $perms' "perms" (type $perms))

  (import "docs:calc/host" (instance $host (export "log" (func (param "msg" string)))))
  (import "next" (func $next (result u32)))

  (core module $libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $libc (instantiate $libc))
  (alias export $host "log" (func $log))
  (core func $log' (canon lower (func $log) (memory (core memory $libc "memory"))))
  (core func $next' (canon lower (func $next)))

  (core module $m
    (import "libc" "memory" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "host" "log" (func $log (param i32 i32)))
    (import "host" "next" (func $next (result i32)))
    (data (i32.const 64) "hello, ")
    (data (i32.const 80) "division by zero")
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "greet") (param $ptr i32) (param $len i32) (result i32)
      (local $out i32)
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1)
        (i32.add (local.get $len) (i32.const 7))))
      (memory.copy (local.get $out) (i32.const 64) (i32.const 7))
      (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $ptr) (local.get $len))
      (i32.store (i32.const 16) (local.get $out))
      (i32.store (i32.const 20) (i32.add (local.get $len) (i32.const 7)))
      (i32.const 16))
    (func (export "move") (param $x i32) (param $y i32) (param $dx i32) (result i32)
      (i32.store (i32.const 24) (i32.add (local.get $x) (local.get $dx)))
      (i32.store (i32.const 28) (local.get $y))
      (i32.const 24))
    (func (export "color-of") (param i32) (result i32) (i32.rem_u (local.get 0) (i32.const 3)))
    (func (export "half") (param $n i32) (result i32)
      (if (i32.and (local.get $n) (i32.const 1))
        (then (i32.store8 (i32.const 32) (i32.const 0)))
        (else (i32.store8 (i32.const 32) (i32.const 1))
              (i32.store (i32.const 36) (i32.shr_u (local.get $n) (i32.const 1)))))
      (i32.const 32))
    (func (export "checked-div") (param $a i32) (param $b i32) (result i32)
      (if (i32.eqz (local.get $b))
        (then (i32.store8 (i32.const 40) (i32.const 1))
              (i32.store (i32.const 44) (i32.const 80))
              (i32.store (i32.const 48) (i32.const 16)))
        (else (i32.store8 (i32.const 40) (i32.const 0))
              (i32.store (i32.const 44) (i32.div_u (local.get $a) (local.get $b)))))
      (i32.const 40))
    (func (export "toggle") (param i32) (result i32) (i32.xor (local.get 0) (i32.const 7)))
    (func (export "sum") (param $ptr i32) (param $len i32) (result i32)
      (local $acc i32)
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $acc (i32.add (local.get $acc) (i32.load (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $next)))
      (local.get $acc))
    (func (export "shape-size") (param $case i32) (param $v i32) (result i32)
      (if (result i32) (i32.eqz (local.get $case))
        (then (i32.mul (i32.const 3) (i32.mul (local.get $v) (local.get $v))))
        (else (if (result i32) (i32.eq (local.get $case) (i32.const 1))
          (then (i32.mul (local.get $v) (local.get $v)))
          (else (i32.const 0))))))
    (func (export "run") (param $ptr i32) (param $len i32) (result i32)
      (call $log (local.get $ptr) (local.get $len))
      (i32.add (call $next) (i32.const 1)))
    (func (export "boom") unreachable))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "host" (instance (export "log" (func $log')) (export "next" (func $next'))))))

  (func $add (param "x" u32) (param "y" u32) (result u32) (canon lift (core func $i "add")))
  (instance $adder (export "add" (func $add)))
  (export "docs:adder/add@0.1.0" (instance $adder))
  (func (export "greet") (param "name" string) (result string)
    (canon lift (core func $i "greet") (memory (core memory $libc "memory"))
      (realloc (core func $libc "realloc"))))
  (func (export "move") (param "p" $point') (param "dx" s32) (result $point')
    (canon lift (core func $i "move") (memory (core memory $libc "memory"))))
  (func (export "color-of") (param "n" u32) (result $color')
    (canon lift (core func $i "color-of")))
  (func (export "half") (param "n" u32) (result (option u32))
    (canon lift (core func $i "half") (memory (core memory $libc "memory"))))
  (func (export "checked-div") (param "a" u32) (param "b" u32) (result (result u32 (error string)))
    (canon lift (core func $i "checked-div") (memory (core memory $libc "memory"))))
  (func (export "toggle") (param "p" $perms') (result $perms')
    (canon lift (core func $i "toggle")))
  (func (export "sum") (param "xs" (list u32)) (result u32)
    (canon lift (core func $i "sum") (memory (core memory $libc "memory"))
      (realloc (core func $libc "realloc"))))
  (func (export "shape-size") (param "s" $shape') (result u32)
    (canon lift (core func $i "shape-size")))
  (func (export "run") (param "msg" string) (result u32)
    (canon lift (core func $i "run") (memory (core memory $libc "memory"))
      (realloc (core func $libc "realloc"))))
  (func (export "boom") (canon lift (core func $i "boom"))))"#;

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(record)]
struct Point {
    #[component(name = "x")]
    x: i32,
    #[component(name = "y")]
    y: i32,
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(enum)]
#[repr(u8)]
enum Color {
    #[component(name = "red")]
    Red,
    #[component(name = "green")]
    Green,
    #[component(name = "blue")]
    Blue,
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(variant)]
enum Shape {
    #[component(name = "circle")]
    Circle(u32),
    #[component(name = "square")]
    Square(u32),
    #[component(name = "dot")]
    Dot,
}

wasmtime::component::flags! {
    Perms {
        #[component(name = "read")]
        const READ;
        #[component(name = "write")]
        const WRITE;
        #[component(name = "exec")]
        const EXEC;
    }
}

/// A component linker with the two imports of `COMPONENT_WAT`: `log` inside the interface
/// instance (typed), and `next` at the root (over `Val`s).
fn component_linker(engine: &Engine) -> wasmtime::Result<wasmtime::component::Linker<Host>> {
    let mut linker = wasmtime::component::Linker::new(engine);
    linker.instance("docs:calc/host")?.func_wrap(
        "log",
        |mut store: StoreContextMut<'_, Host>, (msg,): (String,)| -> wasmtime::Result<()> {
            store.data_mut().log.push(msg);
            Ok(())
        },
    )?;
    linker.root().func_new("next", |mut store, ty, params, results| {
        assert_eq!(ty.params().len(), 0);
        assert_eq!(ty.results().len(), 1);
        assert!(params.is_empty());
        store.data_mut().calls += 1;
        results[0] = wasmtime::component::Val::U32(store.data().calls * 10);
        Ok(())
    })?;
    Ok(linker)
}

fn component_instance(
    engine: &Engine,
) -> wasmtime::Result<(Store<Host>, wasmtime::component::Instance, wasmtime::component::Component)> {
    let component = wasmtime::component::Component::new(engine, COMPONENT_WAT)?;
    let mut store = Store::new(engine, Host::default());
    let instance = component_linker(engine)?.instantiate(&mut store, &component)?;
    Ok((store, instance, component))
}

#[test]
fn component_typed_calls_with_derived_types() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let (mut store, instance, _) = component_instance(&engine)?;

    let greet = instance.get_typed_func::<(&str,), (String,)>(&mut store, "greet")?;
    assert_eq!(greet.call(&mut store, ("compat",))?.0, "hello, compat");
    // Wasmtime runs post-return inside `call`: the instance is ready for the next call.
    assert_eq!(greet.call(&mut store, ("again",))?.0, "hello, again");

    let moved = instance.get_typed_func::<(Point, i32), (Point,)>(&mut store, "move")?;
    assert_eq!(moved.call(&mut store, (Point { x: 1, y: 2 }, 10))?.0, Point { x: 11, y: 2 });
    let color_of = instance.get_typed_func::<(u32,), (Color,)>(&mut store, "color-of")?;
    assert_eq!(color_of.call(&mut store, (0,))?.0, Color::Red);
    assert_eq!(color_of.call(&mut store, (4,))?.0, Color::Green);
    assert_eq!(color_of.call(&mut store, (5,))?.0, Color::Blue);
    let half = instance.get_typed_func::<(u32,), (Option<u32>,)>(&mut store, "half")?;
    assert_eq!(half.call(&mut store, (8,))?.0, Some(4));
    assert_eq!(half.call(&mut store, (7,))?.0, None);
    let checked_div = instance.get_typed_func::<(u32, u32), (Result<u32, String>,)>(&mut store, "checked-div")?;
    assert_eq!(checked_div.call(&mut store, (9, 3))?.0, Ok(3));
    assert_eq!(checked_div.call(&mut store, (9, 0))?.0, Err("division by zero".to_string()));
    let toggle = instance.get_typed_func::<(Perms,), (Perms,)>(&mut store, "toggle")?;
    assert_eq!(toggle.call(&mut store, (Perms::READ,))?.0, Perms::WRITE | Perms::EXEC);
    assert_eq!(toggle.call(&mut store, (Perms::READ | Perms::WRITE | Perms::EXEC,))?.0, Perms::empty());
    let sum = instance.get_typed_func::<(Vec<u32>,), (u32,)>(&mut store, "sum")?;
    assert_eq!(sum.call(&mut store, (vec![1, 2, 3, 4],))?.0, 10);
    let shape_size = instance.get_typed_func::<(Shape,), (u32,)>(&mut store, "shape-size")?;
    assert_eq!(shape_size.call(&mut store, (Shape::Circle(2),))?.0, 12);
    assert_eq!(shape_size.call(&mut store, (Shape::Square(3),))?.0, 9);
    assert_eq!(shape_size.call(&mut store, (Shape::Dot,))?.0, 0);

    // A typed function of the wrong type is refused when it is looked up.
    assert!(instance.get_typed_func::<(u32,), (String,)>(&mut store, "half").is_err());
    Ok(())
}

#[test]
fn component_dynamic_calls_with_vals() -> wasmtime::Result<()> {
    use wasmtime::component::Val;
    let engine = Engine::default();
    let (mut store, instance, _) = component_instance(&engine)?;
    let call = |store: &mut Store<Host>, name: &str, params: &[Val]| -> wasmtime::Result<Val> {
        let func = instance.get_func(&mut *store, name).expect("exported");
        let mut results = [Val::Bool(false)];
        func.call(&mut *store, params, &mut results)?;
        let [result] = results;
        Ok(result)
    };
    assert_eq!(call(&mut store, "greet", &[Val::String("vals".into())])?, Val::String("hello, vals".into()));
    let point = |x: i32, y: i32| Val::Record(vec![("x".into(), Val::S32(x)), ("y".into(), Val::S32(y))]);
    assert_eq!(call(&mut store, "move", &[point(1, 2), Val::S32(-1)])?, point(0, 2));
    assert_eq!(call(&mut store, "color-of", &[Val::U32(2)])?, Val::Enum("blue".into()));
    assert_eq!(call(&mut store, "half", &[Val::U32(6)])?, Val::Option(Some(Box::new(Val::U32(3)))));
    assert_eq!(call(&mut store, "half", &[Val::U32(5)])?, Val::Option(None));
    assert_eq!(
        call(&mut store, "checked-div", &[Val::U32(1), Val::U32(0)])?,
        Val::Result(Err(Some(Box::new(Val::String("division by zero".into())))))
    );
    assert_eq!(
        call(&mut store, "toggle", &[Val::Flags(vec!["read".into(), "exec".into()])])?,
        Val::Flags(vec!["write".into()])
    );
    assert_eq!(call(&mut store, "sum", &[Val::List(vec![Val::U32(5), Val::U32(6)])])?, Val::U32(11));
    assert_eq!(
        call(&mut store, "shape-size", &[Val::Variant("square".into(), Some(Box::new(Val::U32(5))))])?,
        Val::U32(25)
    );
    // A value of the wrong type is an error, not a trap, and the instance stays usable.
    assert!(call(&mut store, "sum", &[Val::String("not a list".into())]).is_err());
    assert_eq!(call(&mut store, "color-of", &[Val::U32(1)])?, Val::Enum("green".into()));

    let run = instance.get_func(&mut store, "run").expect("exported");
    let ty = run.ty(&store);
    assert_eq!(ty.params().map(|(name, _)| name.to_string()).collect::<Vec<_>>(), ["msg"]);
    assert_eq!(ty.results().len(), 1);
    Ok(())
}

#[test]
fn component_host_functions_see_the_store() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let (mut store, instance, _) = component_instance(&engine)?;
    let run = instance.get_typed_func::<(&str,), (u32,)>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ("first",))?.0, 11);
    assert_eq!(run.call(&mut store, ("second",))?.0, 21);
    assert_eq!(store.data().log, ["first", "second"]);
    assert_eq!(store.data().calls, 2);
    Ok(())
}

#[test]
fn component_traps_downcast_to_trap() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let (mut store, instance, _) = component_instance(&engine)?;
    let boom = instance.get_typed_func::<(), ()>(&mut store, "boom")?;
    let err = boom.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached));
    Ok(())
}

#[test]
fn component_instance_pre_and_export_indices() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let component = wasmtime::component::Component::new(&engine, COMPONENT_WAT)?;
    let pre = component_linker(&engine)?.instantiate_pre(&component)?;

    // Looked up on the component, before any instance exists.
    let interface = component.get_export_index(None, "docs:adder/add@0.1.0").expect("the interface is exported");
    let add = component.get_export_index(Some(&interface), "add").expect("`add` is in the interface");
    assert!(component.get_export_index(Some(&interface), "sub").is_none());

    for n in 0..2u32 {
        let mut store = Store::new(&engine, Host::default());
        let instance = pre.instantiate(&mut store)?;
        let typed = instance.get_typed_func::<(u32, u32), (u32,)>(&mut store, &add)?;
        assert_eq!(typed.call(&mut store, (n, 40))?.0, n + 40);
        // The same two steps on the instance.
        let interface = instance.get_export_index(&mut store, None, "docs:adder/add@0.1.0").expect("exported");
        let index = instance.get_export_index(&mut store, Some(&interface), "add").expect("exported");
        let func = instance.get_func(&mut store, index).expect("a function");
        let mut results = [wasmtime::component::Val::U32(0)];
        func.call(&mut store, &[wasmtime::component::Val::U32(1), wasmtime::component::Val::U32(2)], &mut results)?;
        assert_eq!(results[0], wasmtime::component::Val::U32(3));
    }
    Ok(())
}

#[test]
fn component_type_lists_imports_and_exports() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let component = wasmtime::component::Component::new(&engine, COMPONENT_WAT)?;
    let ty = component.component_type();
    let imports: Vec<(String, bool)> = ty
        .imports(&engine)
        .map(|(name, item)| (name.to_string(), matches!(item.ty, ComponentItem::ComponentInstance(_))))
        .collect();
    assert_eq!(imports, [("docs:calc/host".to_string(), true), ("next".to_string(), false)]);
    let mut exported_funcs = Vec::new();
    for (name, item) in ty.exports(&engine) {
        match item.ty {
            ComponentItem::ComponentFunc(func) => {
                exported_funcs.push(format!("{name}/{}/{}", func.params().len(), func.results().len()))
            }
            ComponentItem::ComponentInstance(instance) => {
                for (inner, item) in instance.exports(&engine) {
                    assert!(matches!(item.ty, ComponentItem::ComponentFunc(_)));
                    exported_funcs.push(format!("{name}#{inner}"));
                }
            }
            ComponentItem::Type(_) => {}
            _ => panic!("unexpected export `{name}`"),
        }
    }
    assert_eq!(exported_funcs[0], "docs:adder/add@0.1.0#add");
    assert!(exported_funcs.contains(&"move/2/1".to_string()), "{exported_funcs:?}");
    assert!(exported_funcs.contains(&"boom/0/0".to_string()), "{exported_funcs:?}");
    Ok(())
}

#[test]
fn component_unknown_imports_as_traps() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let component = wasmtime::component::Component::new(&engine, COMPONENT_WAT)?;
    let mut linker = wasmtime::component::Linker::<Host>::new(&engine);
    // Without definitions, instantiation fails and names what is missing.
    let mut store = Store::new(&engine, Host::default());
    let err = linker.instantiate(&mut store, &component).unwrap_err();
    assert!(format!("{err:?}").contains("docs:calc/host"), "{err:?}");

    linker.root().func_wrap("next", |_: StoreContextMut<'_, Host>, (): ()| -> wasmtime::Result<(u32,)> { Ok((5,)) })?;
    linker.define_unknown_imports_as_traps(&component)?;
    let instance = linker.instantiate(&mut store, &component)?;
    let add = instance.get_typed_func::<(&str,), (String,)>(&mut store, "greet")?;
    assert_eq!(add.call(&mut store, ("x",))?.0, "hello, x", "functions that call no import work");
    let run = instance.get_typed_func::<(&str,), (u32,)>(&mut store, "run")?;
    let err = run.call(&mut store, ("logged",)).unwrap_err();
    let message = format!("{err:?}");
    assert!(message.contains("docs:calc/host#log") && message.contains("has not been defined"), "{message}");
    Ok(())
}
