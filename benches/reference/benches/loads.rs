//! Wasmtime 48 loading a large core module and a WASI component three ways, for comparison
//! with `cargo bench --bench aot` of weld (same inputs, same group and function names):
//! compiling cold, `Module::from_file` with a warm compile cache, and `deserialize_file` of
//! an artifact. The inputs: `WELD_LARGE_MODULE` (default: where
//! `../shared/bench/get-large-module.sh` puts swc) and jco's hello_stdout component.

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasmtime::{Cache, CacheConfig, Config, Engine, Module, component::Component};

fn large_module() -> Option<PathBuf> {
    let path = std::env::var_os("WELD_LARGE_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/weld-bench-large/swc/package/wasm_bg.wasm"));
    path.exists().then_some(path)
}

const HELLO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/components/jco/packages__jco__test__fixtures__components__hello_stdout.component.wasm"
);

fn engine(cache_dir: Option<&Path>) -> Engine {
    let mut config = Config::new();
    if let Some(dir) = cache_dir {
        let mut cc = CacheConfig::new();
        cc.with_directory(dir);
        config.cache(Some(Cache::new(cc).unwrap()));
    }
    Engine::new(&config).unwrap()
}

fn loads(c: &mut Criterion) {
    let tmp = std::env::temp_dir().join(format!("wasmtime-loads-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    if let Some(path) = large_module() {
        let mut g = c.benchmark_group("aot-large-module");
        g.sample_size(10).measurement_time(Duration::from_secs(20));
        let plain = engine(None);
        g.bench_function("compile-cold", |b| b.iter(|| Module::from_file(&plain, &path).unwrap()));
        let cached = engine(Some(&tmp.join("cache")));
        Module::from_file(&cached, &path).unwrap();
        g.bench_function("from-file-warm-cache", |b| b.iter(|| Module::from_file(&cached, &path).unwrap()));
        let artifact = tmp.join("large.cwasm");
        std::fs::write(&artifact, plain.precompile_module(&std::fs::read(&path).unwrap()).unwrap()).unwrap();
        g.bench_function("deserialize-file", |b| {
            b.iter(|| unsafe { Module::deserialize_file(&plain, &artifact) }.unwrap())
        });
        g.finish();
    }
    let mut g = c.benchmark_group("aot-hello-stdout");
    let plain = engine(None);
    g.bench_function("compile-cold", |b| b.iter(|| Component::from_file(&plain, HELLO).unwrap()));
    let cached = engine(Some(&tmp.join("cache")));
    Component::from_file(&cached, HELLO).unwrap();
    g.bench_function("from-file-warm-cache", |b| b.iter(|| Component::from_file(&cached, HELLO).unwrap()));
    let artifact = tmp.join("hello.cwasm");
    std::fs::write(&artifact, plain.precompile_component(&std::fs::read(HELLO).unwrap()).unwrap()).unwrap();
    g.bench_function("deserialize-file", |b| b.iter(|| unsafe { Component::deserialize_file(&plain, &artifact) }.unwrap()));
    g.finish();
    std::fs::remove_dir_all(&tmp).unwrap();
}

criterion_group!(benches, loads);
criterion_main!(benches);
