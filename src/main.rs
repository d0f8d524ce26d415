//! The `weld` command line.
//!
//! - `weld wast FILE...` runs `.wast` scripts (through weld-wast) and prints per-file and total
//!   pass/fail counts.
//! - `weld run [OPTIONS] FILE [ARGS...]` (`run.rs`, with Wasmtime's `-O`/`-W`/`-S` groups in
//!   `options.rs`) instantiates a module or a component and calls one of its exports; a
//!   component's arguments and results are in WAVE syntax (`wave.rs`).
//! - `weld compile FILE` (`compile.rs`) compiles a module or a component for any supported
//!   target with the compile-time crates directly, and reports sizes and timing.
//! - `weld serve [OPTIONS] FILE` (`serve.rs`) serves HTTP with a `wasi:http/incoming-handler`
//!   component, one instance per request.
//! - `weld abi TYPE`, `weld abi lower TYPE VALUE`, `weld abi lift TYPE ...` (`abi.rs`) show
//!   the canonical ABI of a type and of its values.
//! - `weld adapters FILE` (`adapters.rs`) prints a component's fused adapters as WAT.
//!
//! Errors are printed with their whole chain of causes and give exit code 1 (`weld run` gives a
//! guest's own exit status, and 134 after a trap); the command never
//! panics on bad input. Logging goes through `env_logger` (`RUST_LOG=debug weld ...`).

// `unsafe` only where an artifact the user allowed is loaded (`precompiled.rs`).
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use codegen::CodegenOptions;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod abi;
mod adapters;
mod codegen;
mod compile;
mod options;
mod precompiled;
mod report;
mod run;
mod serve;
mod serve_p3;
mod wasi_host;
mod wave;

#[derive(Parser)]
#[command(name = "weld", version, about = "The weld WebAssembly runtime")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run .wast test scripts and report how many assertions pass.
    Wast(WastCommand),
    /// Instantiate a module or a component (binary or text) and call one of its exports.
    Run(run::RunCommand),
    /// Compile a module or a component to machine code without running it, and report sizes
    /// and timing.
    Compile(compile::CompileCommand),
    /// Serve HTTP with a component exporting wasi:http/incoming-handler.
    Serve(serve::ServeCommand),
    /// Show the canonical ABI of a type: its layout, what a value lowers to, what flat values
    /// or bytes lift to.
    Abi(abi::AbiCommand),
    /// Print the fused adapters of a component as WAT, each headed by the component type it
    /// translates and the canonical options of both sides.
    Adapters(adapters::AdaptersCommand),
}

#[derive(Args)]
struct WastCommand {
    /// The scripts to run.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print every failure (line:column, directive and message).
    #[arg(short, long)]
    verbose: bool,
    /// Exit with code 1 if any assertion fails.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    codegen: CodegenOptions,
}

fn main() -> ExitCode {
    env_logger::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Wast(c) => wast(c),
        Command::Run(c) => run::run(c),
        Command::Serve(c) => serve::serve(c),
        Command::Abi(c) => abi::abi(&c).map(|text| {
            print!("{text}");
            ExitCode::SUCCESS
        }),
        Command::Compile(c) => compile::compile(c),
        Command::Adapters(c) => adapters::adapters(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            report::print_error(&e);
            ExitCode::FAILURE
        }
    }
}

fn wast(cmd: WastCommand) -> Result<ExitCode> {
    // A panic inside the runtime becomes one failed directive (with its location) in the
    // report; print it as one line rather than a backtrace per panic.
    std::panic::set_hook(Box::new(|info| {
        let loc = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("panic at {loc}: {msg}");
    }));
    let runner = weld_wast::WastRunner::new(&cmd.codegen.config())?;
    let (mut passed, mut failed) = (0u64, 0u64);
    let mut unreadable = false;
    for file in &cmd.files {
        let report = match runner.run_file(file) {
            Ok(report) => report,
            Err(e) => {
                eprintln!("error: {e:#}");
                unreadable = true;
                continue;
            }
        };
        passed += u64::from(report.passed);
        failed += u64::from(report.failed());
        println!("{}: {} passed, {} failed", file.display(), report.passed, report.failed());
        if cmd.verbose {
            for f in &report.failures {
                print_failure(file, f);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if unreadable || (cmd.strict && failed > 0) { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Prints one failure as `  PATH:LINE:COL: KIND: MESSAGE`; further lines of a multi-line
/// message are indented below it.
fn print_failure(file: &Path, f: &weld_wast::Failure) {
    let mut lines = f.message.lines();
    let first = lines.next().unwrap_or("");
    println!("  {}:{}:{}: {}: {}", file.display(), f.line, f.col, f.kind, first);
    for line in lines {
        println!("      {line}");
    }
}
