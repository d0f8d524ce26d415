//! Criterion benches of the WASI host, whole-process next to the reference when it is
//! installed (`WASMTIME=/path/to/wasmtime`, or `wasmtime` on the PATH; Wasmtime 48 is the
//! yardstick), so that both are measured in the same run:
//!
//! - `wasi-startup/hello_stdout`: `weld run` of jco's hello_stdout (a 2 MB Rust command),
//!   from process start to exit;
//! - `wasi-copy/256MiB`: the C guest `tests/wasi-guests/copy.wasm` copying a 256 MiB file to
//!   stdout (which is /dev/null here) through wasi:filesystem and wasi:io streams;
//! - `wasi-api/hello_stdout`: instantiating and running hello_stdout through the embedding API
//!   with a precompiled component and captured stdio (no process, no compilation).

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const HELLO: &str = "../shared/components/jco/packages__jco__test__fixtures__components__hello_stdout.component.wasm";
const COPY: &str = "tests/wasi-guests/copy.wasm";
const COPY_SIZE: usize = 256 << 20;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The reference's command line, if it is installed.
fn wasmtime() -> Option<PathBuf> {
    let candidate = std::env::var_os("WASMTIME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("wasmtime"));
    let ok = Command::new(&candidate).arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    if ok {
        Some(candidate)
    } else {
        eprintln!("note: no Wasmtime found (set WASMTIME=...); only weld is measured");
        None
    }
}

/// Runs `program ARGS` to completion with stdout and stderr discarded, and checks it succeeded.
fn run_process(program: &Path, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the program starts");
    assert!(status.success(), "{} {args:?} failed: {status}", program.display());
}

/// The 256 MiB input of the copy bench, made once.
fn copy_input() -> PathBuf {
    let dir = root().join("target/bench-wasi");
    let file = dir.join("input.bin");
    if std::fs::metadata(&file).map(|m| m.len() as usize).ok() != Some(COPY_SIZE) {
        std::fs::create_dir_all(&dir).unwrap();
        let block: Vec<u8> = (0..1 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        let mut data = Vec::with_capacity(COPY_SIZE);
        while data.len() < COPY_SIZE {
            data.extend_from_slice(&block);
        }
        std::fs::write(&file, data).unwrap();
    }
    dir
}

fn whole_process(c: &mut Criterion) {
    let weld = PathBuf::from(env!("CARGO_BIN_EXE_weld"));
    let reference = wasmtime();
    let mut group = c.benchmark_group("wasi-startup");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("hello_stdout/weld", |b| b.iter(|| run_process(&weld, &["run", HELLO])));
    if let Some(wasmtime) = &reference {
        group.bench_function("hello_stdout/wasmtime", |b| b.iter(|| run_process(wasmtime, &["run", HELLO])));
    }
    group.finish();

    let dir = copy_input();
    let dir_arg = format!("{}::/data", dir.display());
    let args = ["run", "--dir", &dir_arg, COPY, "copy", "/data/input.bin"];
    let mut group = c.benchmark_group("wasi-copy");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    group.throughput(criterion::Throughput::Bytes(COPY_SIZE as u64));
    group.bench_function("256MiB/weld", |b| b.iter(|| run_process(&weld, &args)));
    if let Some(wasmtime) = &reference {
        group.bench_function("256MiB/wasmtime", |b| b.iter(|| run_process(wasmtime, &args)));
    }
    group.finish();
}

fn embedded(c: &mut Criterion) {
    use weld::component::{Component, Linker};
    use weld::{Engine, Store};
    use weld_wasi::p2::bindings::sync::Command as WasiCommand;
    use weld_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

    struct Host(WasiCtx, ResourceTable);
    impl WasiView for Host {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView { ctx: &mut self.0, table: &mut self.1 }
        }
    }
    let engine = Engine::default();
    let component = Component::from_file(&engine, root().join(HELLO)).expect("hello_stdout compiles");
    let mut linker = Linker::new(&engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let pre = linker.instantiate_pre(&component).unwrap();
    c.bench_function("wasi-api/hello_stdout", |b| {
        b.iter(|| {
            let ctx = WasiCtx::builder()
                .stdout(weld_wasi::pipe::MemoryOutputPipe::new(1024))
                .stderr(weld_wasi::pipe::MemoryOutputPipe::new(1024))
                .build();
            let mut store = Store::new(&engine, Host(ctx, ResourceTable::new()));
            let instance = pre.instantiate(&mut store).unwrap();
            let command = WasiCommand::new(&mut store, &instance).unwrap();
            command.wasi_cli_run().call_run(&mut store).unwrap().unwrap();
        })
    });
}

criterion_group!(benches, whole_process, embedded);
criterion_main!(benches);
