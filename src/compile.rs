//! `weld compile FILE`: compiles a module, or every core module and fused adapter of a
//! component, to machine code for any supported target, and reports sizes and timing.
//!
//! It drives the compile-time crates directly (weld-environ, weld-fact, weld-cranelift) rather
//! than the runtime, so that it can compile for another machine than this one. It writes no
//! artifact yet: ahead-of-time artifacts (`-o FILE.cwasm`) are a separate piece of work.

use crate::codegen::CodegenOptions;
use anyhow::{Context as _, Result};
use clap::Args;
use std::process::ExitCode;
use std::time::Instant;
use weld_environ::component::inline::{component_imports, inline};
use weld_environ::component::translate::{StaticComponentIndex, translate_component};

#[derive(Args)]
pub struct CompileCommand {
    /// The module or component: a .wasm binary or .wat text.
    file: std::path::PathBuf,
    /// The target: x86_64, aarch64 or a full target triple (default: this machine).
    #[arg(long)]
    target: Option<String>,
    #[command(flatten)]
    codegen: CodegenOptions,
}

/// What compiling produced, summed over the modules compiled.
#[derive(Default)]
struct Totals {
    modules: usize,
    functions: usize,
    code_bytes: usize,
    trap_sites: usize,
}

impl Totals {
    fn add(&mut self, code: &weld_cranelift::CompiledCode) {
        self.modules += 1;
        self.functions += code.functions.len();
        self.code_bytes += code.bytes.len();
        self.trap_sites += code.traps.len();
    }
}

/// Runs `weld compile`.
pub fn compile(cmd: CompileCommand) -> Result<ExitCode> {
    let file = cmd.file.display();
    let bytes = std::fs::read(&cmd.file).with_context(|| format!("failed to read {file}"))?;
    let start = Instant::now();
    let wasm = wat::parse_bytes(&bytes).with_context(|| format!("failed to parse {file}"))?;
    let target = match &cmd.target {
        Some(t) => weld_cranelift::Target::parse(t)?,
        None => weld_cranelift::Target::Host,
    };
    let target_name = match &target {
        weld_cranelift::Target::Host => "host".to_string(),
        weld_cranelift::Target::Triple(t) => t.to_string(),
    };
    let compiler = weld_cranelift::Compiler::new(weld_cranelift::CompilerConfig {
        target,
        opt_level: cmd.codegen.opt_level.to_cranelift(),
        explicit_bounds_checks: cmd.codegen.explicit_bounds_checks,
        nan_canonicalization: cmd.codegen.nan_canonicalization,
        ..Default::default()
    })?;
    let features = weld_environ::supported_features();
    let mut totals = Totals::default();
    let mut adapter_modules = None;
    let translated;
    let is_component = wasmparser::Parser::is_component(&wasm);
    if is_component {
        let mut translation =
            translate_component(&wasm, features).with_context(|| format!("failed to translate {file}"))?;
        translated = start.elapsed();
        for (i, module) in translation.modules.iter_mut() {
            let bodies = std::mem::take(&mut module.bodies);
            let code = compiler
                .compile_module(&module.module, bodies)
                .with_context(|| format!("failed to compile core module {} of {file}", i.as_u32()))?;
            totals.add(&code);
        }
        // Adapters exist only once every import is known: a component importing components
        // gets its adapters when it is linked with them.
        if component_imports(&translation.components[StaticComponentIndex::ROOT]).is_empty() {
            let info = inline(&translation).with_context(|| format!("failed to plan the instantiation of {file}"))?;
            for i in info.adapter_modules.keys() {
                let adapter = weld_fact::compile(&info, i)?;
                let module = weld_environ::translate_module(&adapter.wasm, features)
                    .context("failed to translate an adapter module FACT generated")?;
                totals.add(&compiler.compile_module(&module.module, module.bodies)?);
            }
            adapter_modules = Some(info.adapter_modules.len());
        }
    } else {
        let translation =
            weld_environ::translate_module(&wasm, features).with_context(|| format!("failed to translate {file}"))?;
        translated = start.elapsed();
        totals.add(&compiler.compile_module(&translation.module, translation.bodies)?);
    }
    let total = start.elapsed();
    println!("target:    {target_name}");
    if is_component {
        println!("modules:   {}", totals.modules);
        match adapter_modules {
            Some(n) => println!("adapters:  {n} adapter module(s) among them"),
            None => println!("adapters:  none yet (the component imports components: they are made when it is linked)"),
        }
    }
    println!("functions: {}", totals.functions);
    println!("code size: {} bytes", totals.code_bytes);
    println!("trap sites: {}", totals.trap_sites);
    println!(
        "time:      {:.3} ms ({:.3} ms parsing and translating)",
        total.as_secs_f64() * 1e3,
        translated.as_secs_f64() * 1e3
    );
    Ok(ExitCode::SUCCESS)
}
