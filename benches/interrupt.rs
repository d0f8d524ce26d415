//! Criterion benches of what fuel and epoch checks cost in generated code: the four kernels of
//! ../shared/bench/kernels/kernels.wasm (`sieve 16000000`, `matmul 60`, `sha256 16`, `fib 37`)
//! run three ways: plain, with `consume_fuel` (the store holding `u64::MAX` fuel, so it never
//! runs out) and with `epoch_interruption` (the deadline never reached). The budget for either
//! is 10% over plain on each kernel.
//!
//! One iteration is one call of the kernel (tenths of a second), so each group takes ten flat
//! samples. `cargo bench --bench interrupt -- fib` runs one kernel.

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use weld::{Config, Engine, Linker, Module, Store, Val};

/// The kernels and their arguments (those of ../shared/bench/README.md).
const KERNELS: [(&str, i32); 4] = [("sieve", 16_000_000), ("matmul", 60), ("sha256", 16), ("fib", 37)];

/// How the kernel's module is compiled and its store set up.
#[derive(Clone, Copy)]
enum Mode {
    Plain,
    Fuel,
    Epoch,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Fuel => "fuel",
            Mode::Epoch => "epoch",
        }
    }

    fn engine(self) -> Engine {
        let mut config = Config::new();
        config.consume_fuel(matches!(self, Mode::Fuel)).epoch_interruption(matches!(self, Mode::Epoch));
        Engine::new(&config).unwrap()
    }

    fn prepare(self, store: &mut Store<()>) {
        match self {
            Mode::Plain => {}
            Mode::Fuel => store.set_fuel(u64::MAX).unwrap(),
            Mode::Epoch => store.set_epoch_deadline(u64::MAX),
        }
    }
}

fn kernels(c: &mut Criterion) {
    let Ok(bytes) = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/bench/kernels/kernels.wasm")) else {
        eprintln!("kernels.wasm not found: nothing to bench");
        return;
    };
    for (kernel, arg) in KERNELS {
        let mut group = c.benchmark_group(format!("interrupt/{kernel} {arg}"));
        group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_secs(1));
        for mode in [Mode::Plain, Mode::Fuel, Mode::Epoch] {
            let engine = mode.engine();
            let module = Module::from_binary(&engine, &bytes).unwrap();
            let mut store = Store::new(&engine, ());
            mode.prepare(&mut store);
            let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
            let func = instance.get_func(&mut store, kernel).unwrap();
            let mut results = [Val::I32(0)];
            group.bench_function(mode.name(), |b| {
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
