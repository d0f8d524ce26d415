//! The future oracle: a value of any type that the host gives a `future<T>` comes back equal
//! after a guest read it into its memory and wrote it into a new future that the host reads.
//! With `two`, the host's future goes to an outer component that passes the value to an
//! inner one through a new future and takes it back through the future the inner returns, so
//! the value is copied host -> outer -> inner -> outer -> host, between two memories with
//! their own string encodings.
//!
//! A future moves one value in one copy, so where the stream oracle checks batching and
//! partial copies, this one checks the future built-ins' own lowering and lifting (and their
//! `COMPLETED` codes, which carry no count). The guests copy synchronously, in stackful
//! tasks, as the stream oracle's do. Memories are 32-bit.

use super::common::{
    ENCODINGS, SharedReceived, echo_core, end_received, options, receive, return_options, run_and_receive,
    type_and_values,
};
use crate::types::NamedTypes;
use anyhow::{Context as _, Result, bail};
use arbitrary::Unstructured;
use std::pin::Pin;
use std::task::{Context, Poll};
use weld::component::{FutureAny, FutureConsumer, FutureProducer, InterfaceType, Source, StoreContextMut, Val};

/// Where a guest's buffer for the value is: at 768 KiB, above what the bump allocator of
/// [`echo_core`] hands out for the value's strings and lists.
const BUFFER: u32 = 0xc0000;

/// A type, a value of it, and the string encodings of the guests that pass it on.
#[derive(Debug)]
pub struct FutureCase {
    pub ty: InterfaceType,
    pub value: Val,
    pub outer: &'static str,
    pub inner: &'static str,
    /// Whether the value goes through the inner component too.
    pub two: bool,
}

impl FutureCase {
    /// An arbitrary case: a type within the default limits, a value of it, and arbitrary
    /// encodings.
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<FutureCase> {
        let (ty, mut values) = type_and_values(u)?;
        let value = values.swap_remove(0);
        let outer = ENCODINGS[u.choose_index(ENCODINGS.len())?];
        let inner = ENCODINGS[u.choose_index(ENCODINGS.len())?];
        Ok(FutureCase { ty, value, outer, inner, two: u.arbitrary()? })
    }

    /// The component the case runs (see [`future_component`]).
    pub fn component(&self) -> String {
        future_component(&self.ty, self.outer, self.two.then_some(self.inner))
    }
}

/// The canonical built-ins for future type `$FT` of core instance `$m` with string encoding
/// `encoding`, and their imports for a `(with "" (instance ...))`.
fn built_ins(m: &str, encoding: &str) -> (String, &'static str) {
    let opts = options(m, encoding);
    let canon = format!(
        r#"
    (core func $future.new (canon future.new $FT))
    (core func $future.read (canon future.read $FT {opts}))
    (core func $future.write (canon future.write $FT {opts}))
    (core func $future.drop-readable (canon future.drop-readable $FT))
    (core func $future.drop-writable (canon future.drop-writable $FT))
    (core func $task.return (canon task.return (result $FT) {return_opts}))"#,
        return_opts = return_options(m, encoding),
    );
    let imports = r#"(export "future.new" (func $future.new))
      (export "future.read" (func $future.read))
      (export "future.write" (func $future.write))
      (export "future.drop-readable" (func $future.drop-readable))
      (export "future.drop-writable" (func $future.drop-writable))
      (export "task.return" (func $task.return))"#;
    (canon, imports)
}

/// The core module text that imports [`built_ins`] and defines `pass(from, to)`: reads the
/// value of `from` into the buffer and writes it to `to` (if `from` had one; `COMPLETED` is
/// 0), then drops both ends.
const PASS: &str = r#"
    (import "" "future.new" (func $new (result i64)))
    (import "" "future.read" (func $read (param i32 i32) (result i32)))
    (import "" "future.write" (func $write (param i32 i32) (result i32)))
    (import "" "future.drop-readable" (func $drop-readable (param i32)))
    (import "" "future.drop-writable" (func $drop-writable (param i32)))
    (import "" "task.return" (func $task.return (param i32)))
    (func $pass (param $from i32) (param $to i32)
      (if (i32.eqz (call $read (local.get $from) (i32.const BUFFER)))
        (then (drop (call $write (local.get $to) (i32.const BUFFER)))))
      (call $drop-readable (local.get $from))
      (call $drop-writable (local.get $to)))"#;

/// A component exporting `run: async func(f: future<ty>) -> future<ty>` (stackful), whose
/// guest returns a new future at once and then passes the value of `f` into it, with string
/// encoding `outer`. With `inner`, it passes the value to an inner component's `run` (the
/// same guest, with encoding `inner`) through a new future, and what comes back into its
/// own result.
pub fn future_component(ty: &InterfaceType, outer: &str, inner: Option<&str>) -> String {
    let mut names = NamedTypes::default();
    let t = names.reference(ty);
    let sig = format!("async (param \"f\" (future {t})) (result (future {t}))");
    let pass = PASS.replace("BUFFER", &BUFFER.to_string());
    let single = |m: &str, encoding: &str| {
        let (canon, imports) = built_ins(m, encoding);
        format!(
            r#"{core}
    (type $FT (future {t}))
    {canon}
    (core module $C
      {pass}
      (func (export "run") (param $f i32)
        (local $ends i64)
        (local.set $ends (call $new))
        (call $task.return (i32.wrap_i64 (local.get $ends)))
        (call $pass (local.get $f) (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))))
    (core instance $c (instantiate $C (with "" (instance
      {imports}))))"#,
            core = echo_core(m, false, ty),
        )
    };
    let Some(inner) = inner else {
        return format!(
            "(component\n  {defs}\n  {body}\n  (func (export \"run\") {sig} (canon lift (core func $c \"run\") async {opts})))",
            defs = names.exported_definitions(),
            body = single("m", outer),
            opts = options("m", outer),
        );
    };
    let (canon, imports) = built_ins("o", outer);
    format!(
        r#"(component
  (component $Inner
    {defs}
    {inner_body}
    (func (export "run") {sig} (canon lift (core func $c "run") async {inner_opts})))
  (instance $in (instantiate $Inner))
  {reexports}
  {core_o}
  (type $FT (future {t}))
  {canon}
  (core func $inner-run (canon lower (func $in "run")))
  (core module $C
    (import "" "inner-run" (func $inner-run (param i32) (result i32)))
    {pass}
    ;; host -> f -> [the inner's input] ... [the inner's output] -> result -> host.
    (func (export "run") (param $f i32)
      (local $out i64) (local $to-inner i64) (local $back i32)
      (local.set $out (call $new))
      (call $task.return (i32.wrap_i64 (local.get $out)))
      (local.set $to-inner (call $new))
      (local.set $back (call $inner-run (i32.wrap_i64 (local.get $to-inner))))
      (call $pass (local.get $f) (i32.wrap_i64 (i64.shr_u (local.get $to-inner) (i64.const 32))))
      (call $pass (local.get $back) (i32.wrap_i64 (i64.shr_u (local.get $out) (i64.const 32))))))
  (core instance $c (instantiate $C (with "" (instance
    {imports}
    (export "inner-run" (func $inner-run))))))
  (func (export "run") {sig} (canon lift (core func $c "run") async {outer_opts})))"#,
        defs = names.exported_definitions(),
        inner_body = single("m", inner),
        inner_opts = options("m", inner),
        reexports = names.reexports("in"),
        core_o = echo_core("o", false, ty),
        outer_opts = options("o", outer),
    )
}

/// Gives its value to the guest's read.
struct Give(Option<Val>);

impl<D> FutureProducer<D> for Give {
    type Item = Val;
    fn poll_produce(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: StoreContextMut<'_, D>,
        _: bool,
    ) -> Poll<Result<Option<Val>>> {
        Poll::Ready(Ok(self.0.take()))
    }
}

/// Takes the value the guest writes into a [`SharedReceived`].
struct Take(SharedReceived);

impl<D> FutureConsumer<D> for Take {
    type Item = Val;
    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, Val>,
        _: bool,
    ) -> Poll<Result<()>> {
        let mut buf = Vec::new();
        source.read_vals(store, &mut buf)?;
        receive(&self.0, buf);
        Poll::Ready(Ok(()))
    }
}

impl Drop for Take {
    fn drop(&mut self) {
        end_received(&self.0);
    }
}

/// Gives the case's value to `run` of [`future_component`] and checks that the same value
/// comes back.
pub fn future_roundtrip(case: &FutureCase) -> Result<()> {
    let what = || format!("{} ({} / {:?})", case.ty, case.outer, case.two.then_some(case.inner));
    let got = run_and_receive(
        &case.component(),
        |store, ty| Ok(Val::Future(FutureAny::new(store, ty, Give(Some(case.value.clone())))?)),
        |store, output, received| match output {
            Val::Future(output) => output.pipe(store, Take(received)),
            other => bail!("`run` returned {other:?}, not a future"),
        },
    )
    .with_context(what)?;
    if got.as_slice() != std::slice::from_ref(&case.value) {
        bail!("{}: sent {:?}, received {got:?}", what(), case.value);
    }
    Ok(())
}
