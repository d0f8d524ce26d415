//! Criterion benches of fused calls between components: the workloads of ../shared/bench
//! (fused-scalar, fused-list, fused-string, fused-string-utf16), each timed per fused call,
//! a record of 10 fields, and memcpy of 1 MiB as the bound for the copies.
//!
//! Each iteration calls the outer component's `run(n, ...)` once, so the host-to-guest call is
//! amortized over `n` fused calls: 1000 for the scalar and the record, 16 for the 1 MiB copies
//! (whose guest also fills its 1 MiB source once per `run`, one sixteenth of it per call).
//! Throughput is per fused call: criterion's time divided by `n`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use weld::component::{Component, Linker, Val};
use weld::{Engine, Store};

const MIB: u32 = 1 << 20;

fn workload(name: &str) -> Option<String> {
    std::fs::read_to_string(format!("{}/../shared/bench/{name}", env!("CARGO_MANIFEST_DIR"))).ok()
}

/// Times `run(args)` of `wat`'s component; `per_iter` fused calls happen per iteration.
fn bench_run(c: &mut Criterion, group: &str, wat: &str, args: &[Val], throughput: Throughput) {
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine).instantiate(&mut store, &component).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let mut g = c.benchmark_group("fused");
    g.throughput(throughput);
    g.bench_function(group, |b| {
        b.iter(|| {
            let mut out = [Val::U32(0)];
            run.call(&mut store, black_box(args), &mut out).unwrap();
            out
        })
    });
    g.finish();
}

fn scalar(c: &mut Criterion) {
    if let Some(wat) = workload("fused-scalar.wat") {
        bench_run(c, "scalar (u32, u32) -> u32, 1000 calls", &wat, &[Val::U32(1000)], Throughput::Elements(1000));
    }
}

fn copies(c: &mut Criterion) {
    for (file, name) in [
        ("fused-list.wat", "list<u8> 1 MiB"),
        ("fused-string.wat", "string utf8 -> utf8 1 MiB"),
        ("fused-string-utf16.wat", "string utf8 -> utf16 1 MiB"),
    ] {
        if let Some(wat) = workload(file) {
            let n = 16;
            let name = format!("{name}, {n} calls");
            bench_run(c, &name, &wat, &[Val::U32(n), Val::U32(MIB)], Throughput::Bytes(u64::from(n * MIB)));
        }
    }
    let src = vec![7u8; MIB as usize];
    let mut dst = vec![0u8; MIB as usize];
    let mut g = c.benchmark_group("fused");
    g.throughput(Throughput::Bytes(u64::from(MIB)));
    g.bench_function("memcpy 1 MiB (bound)", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&dst);
        })
    });
    g.finish();
}

/// `$A.take(record of 10 u32) -> u32`, called 1000 times by `$B.run(n)`.
const RECORD10: &str = r#"(component
  (component $A
    (type $r (record (field "a" u32) (field "b" u32) (field "c" u32) (field "d" u32) (field "e" u32)
                     (field "f" u32) (field "g" u32) (field "h" u32) (field "i" u32) (field "j" u32)))
    (export $r' "r" (type $r))
    (core module $m
      (func (export "take") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
        (i32.add (local.get 0) (local.get 9))))
    (core instance $i (instantiate $m))
    (func (export "take") (param "r" $r') (result u32) (canon lift (core func $i "take"))))
  (instance $a (instantiate $A))
  (component $B
    (type $rec (record (field "a" u32) (field "b" u32) (field "c" u32) (field "d" u32) (field "e" u32)
                       (field "f" u32) (field "g" u32) (field "h" u32) (field "i" u32) (field "j" u32)))
    (import "r" (type $r (eq $rec)))
    (import "take" (func $take (param "r" $r) (result u32)))
    (core func $take' (canon lower (func $take)))
    (core module $main
      (import "a" "take" (func $take (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
      (func (export "run") (param $n i32) (result i32)
        (local $sum i32)
        (block $done
          (loop $next
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $sum (i32.add (local.get $sum)
              (call $take (local.get $n) (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4)
                          (i32.const 5) (i32.const 6) (i32.const 7) (i32.const 8) (i32.const 9))))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $next)))
        (local.get $sum)))
    (core instance $main (instantiate $main (with "a" (instance (export "take" (func $take'))))))
    (func (export "run") (param "n" u32) (result u32) (canon lift (core func $main "run"))))
  (instance $b (instantiate $B (with "r" (type $a "r")) (with "take" (func $a "take"))))
  (export "run" (func $b "run")))"#;

fn record(c: &mut Criterion) {
    bench_run(c, "record of 10 u32, 1000 calls", RECORD10, &[Val::U32(1000)], Throughput::Elements(1000));
}

criterion_group!(benches, scalar, copies, record);
criterion_main!(benches);
