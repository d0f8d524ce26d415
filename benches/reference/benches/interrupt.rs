//! Wasmtime 48 running the four kernels of ../shared/bench/kernels/kernels.wasm plain, with
//! `consume_fuel` (the store holding `u64::MAX` fuel) and with `epoch_interruption` (the
//! deadline never reached), for comparison with `cargo bench --bench interrupt` of weld (same
//! kernels, arguments, group and function names, sampling).
//!   cd benches/reference && cargo bench --bench interrupt

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use wasmtime::{Config, Engine, Linker, Module, Store, Val};

/// The kernels and their arguments (those of ../shared/bench/README.md).
const KERNELS: [(&str, i32); 4] = [("sieve", 16_000_000), ("matmul", 60), ("sha256", 16), ("fib", 37)];

const MODES: [&str; 3] = ["plain", "fuel", "epoch"];

fn engine(mode: &str) -> Engine {
    let mut config = Config::new();
    config.consume_fuel(mode == "fuel").epoch_interruption(mode == "epoch");
    Engine::new(&config).unwrap()
}

fn kernels(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/bench/kernels/kernels.wasm");
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("{path} not found: nothing to bench");
        return;
    };
    for (kernel, arg) in KERNELS {
        let mut group = c.benchmark_group(format!("interrupt/{kernel} {arg}"));
        group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_secs(1));
        for mode in MODES {
            let engine = engine(mode);
            let module = Module::from_binary(&engine, &bytes).unwrap();
            let mut store = Store::new(&engine, ());
            match mode {
                "fuel" => store.set_fuel(u64::MAX).unwrap(),
                "epoch" => store.set_epoch_deadline(u64::MAX),
                _ => {}
            }
            let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
            let func = instance.get_func(&mut store, kernel).unwrap();
            let mut results = [Val::I32(0)];
            group.bench_function(mode, |b| {
                b.iter(|| {
                    func.call(&mut store, black_box(&[Val::I32(arg)]), &mut results).unwrap();
                    results[0].clone()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
