//! The stream oracle: values of any type that the host writes into a `stream<T>` come back
//! equal and in order after a guest read them into its memory and wrote them into a new
//! stream that the host reads. With `two`, the host's stream goes to an outer component that
//! hands a new stream to an inner one and copies between them both ways, so every value is
//! copied host -> outer -> inner -> outer -> host, between two memories with their own string
//! encodings.
//!
//! Each copy lowers the elements into a guest's buffer (with its `realloc` for strings and
//! lists) or lifts them out of one, which is what the oracle checks. The guests copy in lock
//! step, one read of at most [`CAPACITY`] elements followed by writes of those, so that a
//! single-threaded guest never waits on itself. Memories are 32-bit (the stream built-ins of
//! 64-bit memories are not generated).

use super::common::{
    ENCODINGS, SharedReceived, echo_core, end_received, options, receive, return_options, run_and_receive,
    type_and_values,
};
use crate::types::NamedTypes;
use anyhow::{Context as _, Result, bail};
use arbitrary::Unstructured;
use std::pin::Pin;
use std::task::{Context, Poll};
use weld::component::{
    Destination, InterfaceType, Source, StoreContextMut, StreamAny, StreamConsumer, StreamProducer, StreamResult, Val,
};

/// The most elements a guest reads (or writes) at once.
pub const CAPACITY: u32 = 3;

/// Where a guest's buffer of elements is: at 768 KiB, above what the bump allocator of
/// [`echo_core`] hands out for the few values of a case.
const BUFFER: u32 = 0xc0000;

/// A type, values of it, and the string encodings of the guests that copy them.
#[derive(Debug)]
pub struct StreamCase {
    pub ty: InterfaceType,
    pub values: Vec<Val>,
    pub outer: &'static str,
    pub inner: &'static str,
    /// Whether the values go through the inner component too.
    pub two: bool,
}

impl StreamCase {
    /// An arbitrary case: a type within the default limits (not `char`), one to four values
    /// of it, and arbitrary encodings.
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<StreamCase> {
        let (mut ty, mut values) = type_and_values(u)?;
        // `stream<char>` is not valid (for now: a `stream<u8>` and an encoding instead).
        while ty == InterfaceType::Char {
            (ty, values) = type_and_values(u)?;
        }
        let outer = ENCODINGS[u.choose_index(ENCODINGS.len())?];
        let inner = ENCODINGS[u.choose_index(ENCODINGS.len())?];
        Ok(StreamCase { ty, values, outer, inner, two: u.arbitrary()? })
    }

    /// The component the case runs (see [`stream_component`]).
    pub fn component(&self) -> String {
        stream_component(&self.ty, self.outer, self.two.then_some(self.inner))
    }
}

/// The canonical built-ins for stream type `$ST` of core instance `$m`, and the core module
/// text of `copy(from, to)`: reads at most [`CAPACITY`] elements of size `size` from `from`
/// into its buffer and writes them to `to` (`write-all`, which the outer copier's `relay`
/// uses too), until `from` ends; then drops both.
fn copier(m: &str, encoding: &str, size: u32) -> (String, String) {
    let opts = options(m, encoding);
    let canon = format!(
        r#"
    (core func $stream.new (canon stream.new $ST))
    (core func $stream.read (canon stream.read $ST {opts}))
    (core func $stream.write (canon stream.write $ST {opts}))
    (core func $stream.drop-readable (canon stream.drop-readable $ST))
    (core func $stream.drop-writable (canon stream.drop-writable $ST))"#
    );
    let module = format!(
        r#"
    (import "" "stream.read" (func $read (param i32 i32 i32) (result i32)))
    (import "" "stream.write" (func $write (param i32 i32 i32) (result i32)))
    (import "" "stream.drop-readable" (func $drop-readable (param i32)))
    (import "" "stream.drop-writable" (func $drop-writable (param i32)))
    ;; Writes the `n` elements at the buffer to `to`, in as many writes as the reader takes;
    ;; 0 if the reader dropped its end first, else 1.
    (func $write-all (param $to i32) (param $n i32) (result i32)
      (local $done i32) (local $w i32)
      (block $written
        (loop $write
          (br_if $written (i32.ge_u (local.get $done) (local.get $n)))
          (local.set $w (call $write (local.get $to)
            (i32.add (i32.const {BUFFER}) (i32.mul (local.get $done) (i32.const {size})))
            (i32.sub (local.get $n) (local.get $done))))
          ;; DROPPED: nobody reads any more.
          (if (i32.eq (i32.and (local.get $w) (i32.const 15)) (i32.const 1)) (then (return (i32.const 0))))
          (local.set $done (i32.add (local.get $done) (i32.shr_u (local.get $w) (i32.const 4))))
          (br $write)))
      (i32.const 1))
    (func $copy (param $from i32) (param $to i32)
      (local $r i32)
      (block $end
        (loop $more
          (local.set $r (call $read (local.get $from) (i32.const {BUFFER}) (i32.const {CAPACITY})))
          (br_if $end (i32.eqz (call $write-all (local.get $to) (i32.shr_u (local.get $r) (i32.const 4)))))
          ;; COMPLETED (0): read on; DROPPED (1): the writer is done.
          (br_if $more (i32.eqz (i32.and (local.get $r) (i32.const 15))))))
      (call $drop-readable (local.get $from))
      (call $drop-writable (local.get $to)))"#
    );
    (canon, module)
}

/// The imports of a copier module's built-ins, for its `(with "" (instance ...))`.
const COPIER_IMPORTS: &str = r#"(export "stream.new" (func $stream.new))
      (export "stream.read" (func $stream.read))
      (export "stream.write" (func $stream.write))
      (export "stream.drop-readable" (func $stream.drop-readable))
      (export "stream.drop-writable" (func $stream.drop-writable))
      (export "task.return" (func $task.return))"#;

/// A component exporting `run: async func(s: stream<ty>) -> stream<ty>` (stackful), whose
/// guest returns a new stream at once and then copies `s` into it, with string encoding
/// `outer`. With `inner`, it hands a new stream to an inner component's `run` (the same
/// guest, with encoding `inner`) and copies `s` into that one and what comes back into its
/// own result: one read and its writes at a time on each side, in lock step.
pub fn stream_component(ty: &InterfaceType, outer: &str, inner: Option<&str>) -> String {
    let mut names = NamedTypes::default();
    let t = names.reference(ty);
    let size = ty.abi().size(weld_environ::component::abi::MemoryWidth::Mem32);
    let sig = format!("async (param \"s\" (stream {t})) (result (stream {t}))");
    let single = |m: &str, encoding: &str| {
        let (canon, module) = copier(m, encoding, size);
        format!(
            r#"{core}
    (type $ST (stream {t}))
    {canon}
    (core func $task.return (canon task.return (result $ST) {return_opts}))
    (core module $C
      (import "" "stream.new" (func $new (result i64)))
      (import "" "task.return" (func $task.return (param i32)))
      {module}
      (func (export "run") (param $s i32)
        (local $ends i64)
        (local.set $ends (call $new))
        (call $task.return (i32.wrap_i64 (local.get $ends)))
        (call $copy (local.get $s) (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))))
    (core instance $c (instantiate $C (with "" (instance
      {COPIER_IMPORTS}
      (export "mem" (memory ${m} "mem"))))))"#,
            core = echo_core(m, false, ty),
            return_opts = return_options(m, encoding),
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
    let (canon, module) = copier("o", outer, size);
    format!(
        r#"(component
  (component $Inner
    {defs}
    {inner_body}
    (func (export "run") {sig} (canon lift (core func $c "run") async {inner_opts})))
  (instance $in (instantiate $Inner))
  {reexports}
  {core_o}
  (type $ST (stream {t}))
  {canon}
  (core func $task.return (canon task.return (result $ST) {outer_return_opts}))
  (core func $inner-run (canon lower (func $in "run")))
  (core module $C
    (import "" "stream.new" (func $new (result i64)))
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "inner-run" (func $inner-run (param i32) (result i32)))
    {module}
    ;; host -> s -> [to the inner's input] ... [the inner's output] -> result -> host, in lock
    ;; step: one read of s, its writes to the inner (which reads them at once), then one read
    ;; of what the inner wrote back, and its writes to the result.
    (func (export "run") (param $s i32)
      (local $out i64) (local $to-inner i64) (local $back i32)
      (local $r i32) (local $n i32)
      (local.set $out (call $new))
      (call $task.return (i32.wrap_i64 (local.get $out)))
      (local.set $to-inner (call $new))
      (local.set $back (call $inner-run (i32.wrap_i64 (local.get $to-inner))))
      (call $relay (local.get $s) (i32.wrap_i64 (i64.shr_u (local.get $to-inner) (i64.const 32)))
        (local.get $back) (i32.wrap_i64 (i64.shr_u (local.get $out) (i64.const 32)))))
    ;; Copies `from` to `to-inner` and `back` to `out`, a batch at a time.
    (func $relay (param $from i32) (param $to-inner i32) (param $back i32) (param $out i32)
      (local $r i32) (local $n i32) (local $got i32) (local $w i32)
      (block $end
        (loop $more
          (local.set $r (call $read (local.get $from) (i32.const {BUFFER}) (i32.const {CAPACITY})))
          (local.set $n (i32.shr_u (local.get $r) (i32.const 4)))
          (if (local.get $n) (then
            (drop (call $write-all (local.get $to-inner) (local.get $n)))
            ;; What the inner wrote back: as many as were sent, perhaps in several reads.
            (local.set $got (i32.const 0))
            (block $all
              (loop $collect
                (br_if $all (i32.ge_u (local.get $got) (local.get $n)))
                (local.set $w (call $read (local.get $back)
                  (i32.add (i32.const {BUFFER}) (i32.mul (local.get $got) (i32.const {size})))
                  (i32.sub (local.get $n) (local.get $got))))
                (local.set $got (i32.add (local.get $got) (i32.shr_u (local.get $w) (i32.const 4))))
                (br_if $all (i32.eq (i32.and (local.get $w) (i32.const 15)) (i32.const 1)))
                (br $collect)))
            (br_if $end (i32.eqz (call $write-all (local.get $out) (local.get $got))))))
          (br_if $more (i32.eqz (i32.and (local.get $r) (i32.const 15))))))
      (call $drop-readable (local.get $from))
      (call $drop-writable (local.get $to-inner))
      (call $drop-readable (local.get $back))
      (call $drop-writable (local.get $out))))
  (core instance $c (instantiate $C (with "" (instance
    {COPIER_IMPORTS}
    (export "inner-run" (func $inner-run))
    (export "mem" (memory $o "mem"))))))
  (func (export "run") {sig} (canon lift (core func $c "run") async {outer_opts})))"#,
        defs = names.exported_definitions(),
        inner_body = single("m", inner),
        inner_opts = options("m", inner),
        reexports = names.reexports("in"),
        core_o = echo_core("o", false, ty),
        outer_opts = options("o", outer),
        outer_return_opts = return_options("o", outer),
    )
}

/// Writes its values into the guest's reads, then ends the stream.
struct Producer(Vec<Val>);

impl<D> StreamProducer<D> for Producer {
    type Item = Val;
    fn poll_produce(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut destination: Destination<'_, Val>,
        _: bool,
    ) -> Poll<Result<StreamResult>> {
        if self.0.is_empty() {
            return Poll::Ready(Ok(StreamResult::Dropped));
        }
        destination.write_vals(store, &mut self.0)?;
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

/// Takes what the guest writes into a [`SharedReceived`].
struct Collector(SharedReceived);

impl<D> StreamConsumer<D> for Collector {
    type Item = Val;
    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, Val>,
        _: bool,
    ) -> Poll<Result<StreamResult>> {
        let mut buf = Vec::new();
        source.read_vals(store, &mut buf)?;
        receive(&self.0, buf);
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        end_received(&self.0);
    }
}

/// Sends the case's values through `run` of [`stream_component`] and checks that the same
/// values come back, in order.
pub fn stream_roundtrip(case: &StreamCase) -> Result<()> {
    let what = || format!("{} ({} / {:?})", case.ty, case.outer, case.two.then_some(case.inner));
    let got = run_and_receive(
        &case.component(),
        |store, ty| Ok(Val::Stream(StreamAny::new(store, ty, Producer(case.values.clone()))?)),
        |store, output, received| match output {
            Val::Stream(output) => output.pipe(store, Collector(received)),
            other => bail!("`run` returned {other:?}, not a stream"),
        },
    )
    .with_context(what)?;
    if got != case.values {
        bail!("{}: sent {:?}, received {got:?}", what(), case.values);
    }
    Ok(())
}
