//! Calls from the host into exports lifted with the async ABI, through `Func::call`: each
//! call's task runs on a thread of its own (a fiber) and the store's event loop runs until
//! the task returns its result. More cases, with the spec's traps, are in
//! tests/misc_testsuite/component-model/async-host-calls.wast and the cm-async tier.

use weld::component::{Component, Linker, Val};
use weld::{Engine, Store};

const GUEST: &str = r#"
(component
  (core module $M
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "thread.yield" (func $thread.yield (result i32)))
    (global $n (mut i32) (i32.const 0))
    ;; callback mode: yields `x` times, then returns u32::MAX
    (func (export "countdown") (param $x i32) (result i32)
      (global.set $n (local.get $x))
      (i32.const 1 (; YIELD ;)))
    (func (export "countdown-cb") (param i32 i32 i32) (result i32)
      (if (i32.eqz (global.get $n)) (then unreachable))
      (global.set $n (i32.sub (global.get $n) (i32.const 1)))
      (if (global.get $n) (then (return (i32.const 1))))
      (call $task.return (i32.const -1))
      (i32.const 0))
    ;; stackful: yields, then returns x + 1
    (func (export "inc") (param $x i32)
      (drop (call $thread.yield))
      (call $task.return (i32.add (local.get $x) (i32.const 1))))
    (func (export "boom") (param i32) (drop (call $thread.yield)) unreachable)
  )
  (canon task.return (result u32) (core func $task.return))
  (canon thread.yield (core func $thread.yield))
  (core instance $m (instantiate $M (with "" (instance
    (export "task.return" (func $task.return))
    (export "thread.yield" (func $thread.yield))))))
  (func (export "countdown") async (param "x" u32) (result u32)
    (canon lift (core func $m "countdown") async (callback (core func $m "countdown-cb"))))
  (func (export "inc") async (param "x" u32) (result u32)
    (canon lift (core func $m "inc") async))
  (func (export "boom") async (param "x" u32) (result u32)
    (canon lift (core func $m "boom") async))
)
"#;

fn instance() -> (Store<()>, weld::component::Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    (store, instance)
}

#[test]
fn async_exports_return_through_the_event_loop() {
    let (mut store, instance) = instance();
    let inc = instance.get_func(&mut store, "inc").unwrap();
    let countdown = instance.get_func(&mut store, "countdown").unwrap();
    let mut out = [Val::U32(0)];
    // Many calls in a row, each on a thread of its own.
    for i in 0..300 {
        inc.call(&mut store, &[Val::U32(i)], &mut out).unwrap();
        assert_eq!(out[0], Val::U32(i + 1));
    }
    for x in [1, 5] {
        countdown.call(&mut store, &[Val::U32(x)], &mut out).unwrap();
        assert_eq!(out[0], Val::U32(u32::MAX));
    }
}

#[test]
fn a_trap_in_an_async_task_is_the_calls_error() {
    let (mut store, instance) = instance();
    let boom = instance.get_func(&mut store, "boom").unwrap();
    let err = boom.call(&mut store, &[Val::U32(1)], &mut [Val::U32(0)]).unwrap_err();
    assert!(
        err.chain().any(|e| matches!(e.downcast_ref::<weld::Trap>(), Some(weld::Trap::UnreachableCodeReached))),
        "{err:#}"
    );
}

#[test]
fn typed_calls_of_async_functions_run_as_tasks() {
    let (mut store, instance) = instance();
    let inc = instance.get_func(&mut store, "inc").unwrap();
    let typed = inc.typed::<(u32,), (u32,)>(&store).unwrap();
    for x in [0, 41, u32::MAX - 1] {
        assert_eq!(typed.call(&mut store, (x,)).unwrap(), (x + 1,));
    }
    let boom = instance.get_func(&mut store, "boom").unwrap().typed::<(u32,), (u32,)>(&store).unwrap();
    let err = boom.call(&mut store, (1,)).unwrap_err();
    assert!(err.chain().any(|e| matches!(e.downcast_ref::<weld::Trap>(), Some(weld::Trap::UnreachableCodeReached))));
}
