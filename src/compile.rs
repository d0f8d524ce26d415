//! `weld compile FILE [-o OUT]`: compiles a module, or every core module and fused adapter of
//! a component, into an ahead-of-time artifact (`.cwasm`) for this machine or another target,
//! and reports what it holds. `weld run --allow-precompiled OUT` runs the artifact, and the
//! API loads it with `Module::deserialize_file` or `Component::deserialize_file`.
//!
//! As Wasmtime's `compile`, the output defaults to the input's file name with the extension
//! `.cwasm`, in the current directory.

use crate::codegen::CodegenOptions;
use anyhow::{Context as _, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use weld::{Engine, Precompiled, PrecompiledInfo};

#[derive(Args)]
pub struct CompileCommand {
    /// The module or component: a .wasm binary or .wat text.
    file: PathBuf,
    /// Where to write the artifact (default: the input's file name with `.cwasm`, in the
    /// current directory).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,
    /// The target: x86_64, aarch64 or a full target triple (default: this machine).
    #[arg(long)]
    target: Option<String>,
    #[command(flatten)]
    codegen: CodegenOptions,
}

/// Runs `weld compile`.
pub fn compile(cmd: CompileCommand) -> Result<ExitCode> {
    let file = cmd.file.display();
    let bytes = std::fs::read(&cmd.file).with_context(|| format!("failed to read {file}"))?;
    let mut config = cmd.codegen.config();
    if let Some(target) = &cmd.target {
        config.target(target)?;
    }
    let engine = Engine::new(&config).context("failed to create the engine")?;
    let start = Instant::now();
    let wasm = wat::parse_bytes(&bytes).with_context(|| format!("failed to parse {file}"))?;
    let artifact = if wasmparser::Parser::is_component(&wasm) {
        engine.precompile_component(&wasm)
    } else {
        engine.precompile_module(&wasm)
    }
    .with_context(|| format!("failed to compile {file}"))?;
    let elapsed = start.elapsed();
    let output = cmd.output.unwrap_or_else(|| {
        let mut name = PathBuf::from(cmd.file.file_name().unwrap_or(cmd.file.as_os_str()));
        name.set_extension("cwasm");
        name
    });
    std::fs::write(&output, &artifact).with_context(|| format!("failed to write {}", output.display()))?;
    let info = PrecompiledInfo::read(&artifact)?;
    println!("wrote:     {} ({} bytes)", output.display(), artifact.len());
    println!("target:    {}", info.target);
    if info.kind == Precompiled::Component {
        println!("modules:   {}", info.core_modules + info.adapter_modules);
        if info.adapter_modules > 0 || !imports_components(&wasm) {
            println!("adapters:  {} adapter module(s) among them", info.adapter_modules);
        } else {
            println!("adapters:  none yet (the component imports components: they are made when it is linked)");
        }
    }
    println!("functions: {}", info.functions);
    println!("code size: {} bytes", info.code_bytes);
    println!("trap sites: {}", info.trap_sites);
    println!("time:      {:.3} ms", elapsed.as_secs_f64() * 1e3);
    Ok(ExitCode::SUCCESS)
}

/// Whether the component `wasm` imports a component (its adapters are made at linking).
fn imports_components(wasm: &[u8]) -> bool {
    use weld_environ::component::inline::component_imports;
    use weld_environ::component::translate::{StaticComponentIndex, translate_component};
    translate_component(wasm, weld_environ::supported_features())
        .is_ok_and(|t| !component_imports(&t.components[StaticComponentIndex::ROOT]).is_empty())
}
