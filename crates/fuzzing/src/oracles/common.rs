//! What the component oracles share: one engine per process, a per-thread cache of compiled
//! components (a fuzzer mutating only the values reuses the compiled component), the echoing
//! guest's core module, canonical options (of lifts, lowers and `task.return`) and padding
//! parameters as component text, the call-and-compare loop, and the one-thread executor the
//! async oracles run the store's loop on.
//!
//! It holds no property of its own: each oracle module states one and builds its components
//! from these pieces. It is apart from `oracles/mod.rs`, which names and re-exports the
//! oracles, so that the oracles use these pieces without importing the module that imports
//! them.

use crate::types::{TypeLimits, arbitrary_type};
use crate::values::arbitrary_val;
use anyhow::{Context, Result, bail};
use arbitrary::Unstructured;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::task::{Poll, Waker};
use weld::component::{Component, InterfaceType, Linker, Val};
use weld::{Engine, Store};
use weld_environ::component::abi::{FlatType, MemoryWidth, flatten};

/// The string encodings of canonical options, as written in component text.
pub const ENCODINGS: [&str; 3] = ["utf8", "utf16", "latin1+utf16"];

/// The engine every oracle compiles with: one per process, so that its trampolines and
/// signatures are shared across inputs.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::default)
}

/// How many compiled components [`compile_cached`] keeps before it starts over.
const CACHE_CAPACITY: usize = 128;

/// The component of text `wat`, compiled once per thread and then reused.
pub fn compile_cached(wat: &str) -> Result<Component> {
    thread_local! {
        static CACHE: RefCell<HashMap<String, Component>> = RefCell::new(HashMap::new());
    }
    if let Some(c) = CACHE.with(|cache| cache.borrow().get(wat).cloned()) {
        return Ok(c);
    }
    let component = Component::new(engine(), wat).context("compiling")?;
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(wat.to_string(), component.clone());
    });
    Ok(component)
}

/// Sixteen `u64` parameters after the value push the parameters past the flat limit, so the
/// guest always receives a pointer to `(x, p0, ..., p15)`, with `x` at offset 0.
const PADDING: usize = 16;

pub(super) fn padding_params() -> String {
    (0..PADDING).map(|i| format!(" (param \"p{i}\" u64)")).collect()
}

/// A core module and its instance `$name`: a memory (64-bit if `mem64`), a bump `realloc`,
/// and `echo`, which returns a value of `ty` whose parameters arrive through memory at the
/// pointer it is given: the pointer itself when results go through memory, else the one core
/// value loaded from it.
pub(super) fn echo_core(name: &str, mem64: bool, ty: &InterfaceType) -> String {
    let width = if mem64 { MemoryWidth::Mem64 } else { MemoryWidth::Mem32 };
    let (p, mem) = if mem64 { ("i64", "i64 16") } else { ("i32", "16") };
    let (result, load) = match flat_result(ty, width) {
        Some("i32") => match ty.abi().size(width) {
            1 => ("i32", "(i32.load8_u (local.get 0))"),
            2 => ("i32", "(i32.load16_u (local.get 0))"),
            _ => ("i32", "(i32.load (local.get 0))"),
        },
        Some("i64") => ("i64", "(i64.load (local.get 0))"),
        Some("f32") => ("f32", "(f32.load (local.get 0))"),
        Some(_) => ("f64", "(f64.load (local.get 0))"),
        None => (p, "(local.get 0)"),
    };
    format!(
        r#"
  (core module ${name}'
    (memory (export "mem") {mem})
    (global $next (mut {p}) ({p}.const 1024))
    (func (export "realloc") (param $old {p}) (param $old_size {p}) (param $align {p}) (param $size {p}) (result {p})
      (local $q {p})
      (local.set $q ({p}.and ({p}.add (global.get $next) ({p}.sub (local.get $align) ({p}.const 1)))
                             ({p}.sub ({p}.const 0) (local.get $align))))
      (global.set $next ({p}.add (local.get $q) (local.get $size)))
      (if ({p}.gt_u (global.get $next) ({p}.const 0x100000)) (then unreachable))
      (memory.copy (local.get $q) (local.get $old) (local.get $old_size))
      (local.get $q))
    (func (export "echo") (param {p}) (result {result}) {load}))
  (core instance ${name} (instantiate ${name}'))
"#
    )
}

/// The core type of a value of `ty` returned flat, or `None` when it is returned through
/// memory (as a pointer).
pub(super) fn flat_result(ty: &InterfaceType, width: MemoryWidth) -> Option<&'static str> {
    match flatten(ty, width).as_deref() {
        Some([FlatType::I32]) => Some("i32"),
        Some([FlatType::I64]) => Some("i64"),
        Some([FlatType::F32]) => Some("f32"),
        Some([FlatType::F64]) => Some("f64"),
        _ => None,
    }
}

/// `(canon lift|lower ...)` options for a memory and realloc of instance `inst`.
pub(super) fn options(inst: &str, encoding: &str) -> String {
    format!(
        "(memory (core memory ${inst} \"mem\")) (realloc (core func ${inst} \"realloc\")) string-encoding={encoding}"
    )
}

/// A type within the default limits and one to four values of it.
pub(super) fn type_and_values(u: &mut Unstructured) -> arbitrary::Result<(InterfaceType, Vec<Val>)> {
    let ty = arbitrary_type(u, TypeLimits::default())?;
    let n = u.int_in_range(1..=4)?;
    let values = (0..n).map(|_| arbitrary_val(u, &ty)).collect::<arbitrary::Result<_>>()?;
    Ok((ty, values))
}

/// Instantiates the component `wat`, calls its export `func` (which takes a value and the
/// padding parameters, and returns the value) with each of `values`, and checks that each
/// comes back equal; `what` describes the case in the error.
pub(super) fn round_trip(wat: &str, func: &str, values: &[Val], what: impl Fn() -> String) -> Result<()> {
    let component = compile_cached(wat)?;
    let mut store = Store::new(engine(), ());
    let instance = Linker::new(engine()).instantiate(&mut store, &component).context("instantiating")?;
    let f = instance.get_func(&mut store, func).with_context(|| format!("`{func}` is exported"))?;
    for value in values {
        let mut params = vec![value.clone()];
        params.extend((0..PADDING as u64).map(Val::U64));
        let mut results = [Val::Bool(false)];
        f.call(&mut store, &params, &mut results).with_context(|| format!("passing {value:?} ({})", what()))?;
        if results[0] != *value {
            bail!("{}: sent {value:?}, received {:?}", what(), results[0]);
        }
    }
    Ok(())
}

/// The options of a `task.return` for a lift with [`options`]`(inst, encoding)`: the same
/// memory and encoding (the spec's `LiftOptions`), without `realloc`.
pub(super) fn return_options(inst: &str, encoding: &str) -> String {
    format!("(memory (core memory ${inst} \"mem\")) string-encoding={encoding}")
}

/// Runs `fut` to its end on this thread, parking the thread while it is pending.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// What a host consumer of an async oracle took from the guest, and whether it has ended (the
/// consumer was dropped: the guest dropped its end), with the waker of the host future that
/// waits for that.
#[derive(Default)]
pub(super) struct Received {
    values: Vec<Val>,
    ended: bool,
    waker: Option<Waker>,
}

/// A [`Received`] shared between a consumer and the host future waiting for it.
pub(super) type SharedReceived = Arc<std::sync::Mutex<Received>>;

/// Adds `values` to what `r` received.
pub(super) fn receive(r: &SharedReceived, values: Vec<Val>) {
    r.lock().unwrap_or_else(|e| e.into_inner()).values.extend(values);
}

/// Marks `r` ended and wakes whoever waits for it (from a consumer's `Drop`).
pub(super) fn end_received(r: &SharedReceived) {
    let mut r = r.lock().unwrap_or_else(|e| e.into_inner());
    r.ended = true;
    if let Some(w) = r.waker.take() {
        w.wake();
    }
}

/// Runs an async oracle's component: calls its export `run` with the value `input` makes
/// (given the store and `run`'s parameter type), hands the value `run` returns to `pipe`
/// (with where its consumer records what it takes), waits until that consumer has ended,
/// and returns what it received.
pub(super) fn run_and_receive(
    component: &str,
    input: impl FnOnce(&mut Store<()>, &InterfaceType) -> Result<Val>,
    pipe: impl FnOnce(weld::component::StoreContextMut<'_, ()>, Val, SharedReceived) -> Result<()>,
) -> Result<Vec<Val>> {
    let component = compile_cached(component)?;
    let mut store = Store::new(engine(), ());
    let instance = Linker::new(engine()).instantiate(&mut store, &component).context("instantiating")?;
    let run = instance.get_func(&mut store, "run").context("`run` is exported")?;
    let ty = run.params(&store)[0].1.clone();
    let input = input(&mut store, &ty)?;
    let received = SharedReceived::default();
    let seen = received.clone();
    block_on(store.run_concurrent(async move |accessor| -> Result<()> {
        let mut results = [Val::Bool(false)];
        run.call_concurrent(accessor, &[input], &mut results).await?;
        let [output] = results;
        accessor.with(|store| pipe(store, output, seen.clone()))?;
        std::future::poll_fn(|cx| {
            let mut r = seen.lock().unwrap_or_else(|e| e.into_inner());
            if r.ended {
                return Poll::Ready(());
            }
            r.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        Ok(())
    }))??;
    let values = std::mem::take(&mut received.lock().unwrap_or_else(|e| e.into_inner()).values);
    Ok(values)
}
