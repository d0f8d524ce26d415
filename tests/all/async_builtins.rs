//! Built-ins of component-model async and threads: components that define them compile and
//! instantiate. `backpressure.inc`/`dec` keep the instance's counter; `context.get`/`set`
//! keep each task's context (tested in tests/misc_testsuite/component-model/task-context.wast,
//! across fused calls and calls from the host); the others trap inside `post-return` (where
//! the spec checks `may_leave`), and those that need an async task trap in a synchronous one.
//! The rest of async is tested by the cm-async tier and
//! tests/misc_testsuite/component-model/async-*.wast.

use weld::component::{Component, Linker, Val};
use weld::{Engine, Store};

const GUEST: &str = r#"
(component
  (canon backpressure.inc (core func $inc))
  (canon backpressure.dec (core func $dec))
  (canon task.cancel (core func $cancel))
  (canon waitable-set.new (core func $ws.new))
  (core module $m
    (import "" "inc" (func $inc))
    (import "" "dec" (func $dec))
    (import "" "cancel" (func $cancel))
    (import "" "ws.new" (func $ws.new (result i32)))
    (func (export "inc-n") (param $n i32)
      (loop $l
        (if (local.get $n) (then (call $inc) (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $l)))))
    (func (export "dec") (call $dec))
    (func (export "cancel") (call $cancel))
    (func (export "ws-new") (result i32) (call $ws.new))
    (func (export "noop"))
    (func (export "pr-ws-new") (drop (call $ws.new))))
  (core instance $i (instantiate $m (with "" (instance
    (export "inc" (func $inc)) (export "dec" (func $dec))
    (export "cancel" (func $cancel)) (export "ws.new" (func $ws.new))))))
  (func (export "inc-n") (param "n" u32) (canon lift (core func $i "inc-n")))
  (func (export "dec") (canon lift (core func $i "dec")))
  (func (export "cancel") (canon lift (core func $i "cancel")))
  (func (export "ws-new") (result u32) (canon lift (core func $i "ws-new")))
  (func (export "ws-new-in-post-return") (canon lift (core func $i "noop") (post-return (core func $i "pr-ws-new")))))
"#;

fn call(name: &str, params: &[Val], results: usize) -> anyhow::Result<()> {
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component)?;
    // Two increments first, so that decrements have something to take back.
    let inc = instance.get_func(&mut store, "inc-n").unwrap();
    inc.call(&mut store, &[Val::U32(2)], &mut [])?;
    let f = instance.get_func(&mut store, name).unwrap();
    f.call(&mut store, params, &mut vec![Val::Bool(false); results])
}

#[test]
fn backpressure_counts_within_its_bounds() {
    call("dec", &[], 0).unwrap();
    call("inc-n", &[Val::U32(65533)], 0).unwrap();
    let err = call("inc-n", &[Val::U32(65534)], 0).unwrap_err();
    assert!(format!("{err:#}").contains("backpressure counter overflow"), "{err:#}");
    // The third decrement goes below zero.
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let dec = instance.get_func(&mut store, "dec").unwrap();
    let err = dec.call(&mut store, &[], &mut []).unwrap_err();
    assert!(format!("{err:#}").contains("backpressure counter underflow"), "{err:#}");
}

#[test]
fn builtins_check_their_task_and_trap_in_post_return() {
    let err = call("cancel", &[], 0).unwrap_err();
    assert!(format!("{err:#}").contains("`task.cancel` called by a task that was not lifted `async`"), "{err:#}");
    assert!(err.chain().any(|e| matches!(e.downcast_ref::<weld::Trap>(), Some(weld::Trap::AsyncMisuse))), "{err:#}");
    // A waitable set is the first entry of the instance's handle table.
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let ws_new = instance.get_func(&mut store, "ws-new").unwrap();
    let mut out = [Val::Bool(false)];
    ws_new.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(1));
    ws_new.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(2));
    let err = call("ws-new-in-post-return", &[], 0).unwrap_err();
    assert!(
        err.chain().any(|e| matches!(e.downcast_ref::<weld::Trap>(), Some(weld::Trap::CannotLeaveComponent))),
        "{err:#}"
    );
}
