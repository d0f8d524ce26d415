//! A store dropped while a guest thread is suspended on its fiber: the thread's frames are
//! unwound (its suspension fails) and its stack freed, rather than leaked.

use super::state::ThreadStack;
use super::unwind::unwind_suspended;
use crate::component::{Component, Linker, Val};
use crate::{AsContext, AsContextMut, Engine, Store};
use std::task::{Context, Poll};

/// A stackful async export that calls an async host import synchronously: its thread waits
/// on its fiber until the import's future (which never resolves) is done.
const WAITS_ON_THE_HOST: &str = r#"
(component
  (import "never" (func $never async))
  (core func $never' (canon lower (func $never)))
  (core module $M
    (import "" "never" (func $never))
    (func (export "run") (call $never)))
  (core instance $m (instantiate $M (with "" (instance (export "never" (func $never'))))))
  (func (export "run") async (canon lift (core func $m "run") async)))
"#;

/// A store with `run` started and pending, its thread suspended.
fn suspended_call() -> Store<()> {
    let engine = Engine::default();
    let component = Component::new(&engine, WAITS_ON_THE_HOST).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap_concurrent("never", |_, (): ()| Box::pin(std::future::pending::<crate::Result<()>>()))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut results: [Val; 0] = [];
    {
        let mut call = std::pin::pin!(run.call_async(&mut store, &[], &mut results));
        assert!(matches!(call.as_mut().poll(&mut cx), Poll::Pending));
    }
    store
}

/// The threads of `store` whose fibers are suspended.
fn suspended_threads(store: &Store<()>) -> usize {
    let c = &store.as_context().opaque().concurrent;
    c.threads.iter().filter(|(_, th)| matches!(&th.stack, ThreadStack::Fiber(Some(f)) if f.is_suspended())).count()
}

#[test]
fn a_suspended_thread_is_unwound_when_its_store_goes() {
    let mut store = suspended_call();
    assert_eq!(suspended_threads(&store), 1);
    unwind_suspended(store.as_context_mut());
    assert_eq!(suspended_threads(&store), 0);
    // Its call failed with the reason, as what it left says.
    let c = &store.as_context().opaque().concurrent;
    let outcomes: Vec<String> = c
        .threads
        .iter()
        .filter_map(|(_, th)| th.outcome.as_ref())
        .map(|o| format!("{:?}", o.as_ref().unwrap_err()))
        .collect();
    assert!(outcomes.iter().any(|o| o.contains("store was dropped")), "{outcomes:?}");
    // And a store dropped with a suspended thread goes without trouble.
    drop(suspended_call());
}
