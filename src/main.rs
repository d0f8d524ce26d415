//! The `weld` command line.
//!
//! - `weld wast FILE...` runs `.wast` scripts (through weld-wast) and prints per-file and total
//!   pass/fail counts.
//! - `weld run FILE --invoke NAME [ARG...]` instantiates a module that has no imports and calls
//!   one of its exported functions with arguments parsed from the command line. Given a
//!   component, `weld run FILE --invoke 'NAME(ARGS)'` calls an exported function with
//!   arguments and result in WAVE syntax (`wave.rs`).
//! - `weld compile FILE` translates and compiles a module with weld-environ and weld-cranelift
//!   directly (no runtime involved), for any supported target, and reports sizes and timing.
//!
//! Errors are printed with their whole chain of causes and give exit code 1; the command never
//! panics on bad input. Logging goes through `env_logger` (`RUST_LOG=debug weld ...`).

#![forbid(unsafe_code)]

use anyhow::{Context as _, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use weld::{Config, Engine, Instance, Module, Store, Val, ValType, component};

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
    Run(RunCommand),
    /// Compile a module to machine code without running it, and report sizes and timing.
    Compile(CompileCommand),
    /// Print the fused adapters of a component as WAT, each headed by the component type it
    /// translates and the canonical options of both sides.
    Adapters(AdaptersCommand),
}

#[derive(Args)]
struct AdaptersCommand {
    /// The component (binary or text).
    file: std::path::PathBuf,
    /// Provides a component for one of its component imports, as for `weld run`:
    /// `NAME=FILE`, or `INSTANCE#NAME=FILE`. The adapters printed are then those of the
    /// component linked with the ones given. Repeatable.
    #[arg(long = "component", value_name = "NAME=FILE")]
    components: Vec<String>,
}

/// Code generation options shared by the commands that compile.
#[derive(Args)]
struct CodegenOptions {
    /// Cranelift optimization level.
    #[arg(long, value_enum, default_value = "speed")]
    opt_level: OptLevelArg,
    /// Check every memory access explicitly instead of relying on guard pages.
    #[arg(long)]
    explicit_bounds_checks: bool,
    /// Canonicalize NaNs produced by float arithmetic.
    #[arg(long)]
    nan_canonicalization: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum OptLevelArg {
    None,
    Speed,
    #[value(name = "speed_and_size", alias = "speed-and-size")]
    SpeedAndSize,
}

impl OptLevelArg {
    fn to_cranelift(self) -> weld_cranelift::OptLevel {
        match self {
            OptLevelArg::None => weld_cranelift::OptLevel::None,
            OptLevelArg::Speed => weld_cranelift::OptLevel::Speed,
            OptLevelArg::SpeedAndSize => weld_cranelift::OptLevel::SpeedAndSize,
        }
    }
}

impl CodegenOptions {
    fn engine(&self) -> Result<Engine> {
        let mut config = Config::new();
        config
            .cranelift_opt_level(self.opt_level.to_cranelift())
            .explicit_bounds_checks(self.explicit_bounds_checks)
            .cranelift_nan_canonicalization(self.nan_canonicalization);
        Engine::new(&config).context("failed to create the engine")
    }
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

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    weld run examples/hello.wat --invoke fib 20\n  \
    weld run examples/greet.wat --invoke 'greet(\"world\")'\n  \
    weld run examples/greet.wat --invoke 'summarize([3, -1, 4])'\n  \
    weld run examples/greet.wat --invoke 'math#mul(6, 7)'")]
struct RunCommand {
    /// The module or component: a .wasm binary or .wat text.
    file: PathBuf,
    /// The exported function to call. For a module: its name (default: `_start` or `main`).
    /// For a component: a call with the arguments in WAVE syntax, e.g. 'add(1, 2)',
    /// 'greet("world")' or 'echo({name: "x", age: 3})'; a function of an exported instance
    /// is named `INSTANCE#NAME`, e.g. 'math#mul(6, 7)'. The result is printed in WAVE.
    #[arg(long, value_name = "NAME | CALL")]
    invoke: Option<String>,
    /// Arguments of a module's function, parsed by its parameter types: integers in decimal or
    /// 0x hex, floats in decimal, `inf`, `-inf` or `nan`. For a component, when --invoke has
    /// no parentheses, each argument is one WAVE value.
    #[arg(allow_hyphen_values = true)]
    args: Vec<String>,
    /// Provides a component for one of the component's component imports:
    /// `NAME=FILE` (.wasm or .wat), where NAME is the import's name, or
    /// `INSTANCE#NAME` for a component exported by an imported instance. Repeatable.
    #[arg(long = "component", value_name = "NAME=FILE")]
    components: Vec<String>,
    #[command(flatten)]
    codegen: CodegenOptions,
}

#[derive(Args)]
struct CompileCommand {
    /// The module: a .wasm binary or .wat text.
    file: PathBuf,
    /// The target: x86_64, aarch64 or a full target triple (default: this machine).
    #[arg(long)]
    target: Option<String>,
    #[command(flatten)]
    codegen: CodegenOptions,
}

fn main() -> ExitCode {
    env_logger::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Wast(c) => wast(c),
        Command::Run(c) => run(c),
        Command::Compile(c) => compile(c),
        Command::Adapters(c) => adapters(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            print_error(&e);
            ExitCode::FAILURE
        }
    }
}

/// Prints an error and its chain of causes (like anyhow's `{:?}`, but never with a Rust
/// backtrace, which says nothing to a user).
fn print_error(e: &anyhow::Error) {
    eprintln!("error: {e}");
    let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
    if !causes.is_empty() {
        eprintln!("\nCaused by:");
        for (i, cause) in causes.iter().enumerate() {
            let cause = weld_wast::elide_lines(cause, 40).replace('\n', "\n       ");
            if causes.len() == 1 {
                eprintln!("    {cause}");
            } else {
                eprintln!("    {i}: {cause}");
            }
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
    let runner = weld_wast::WastRunner::from_engine(cmd.codegen.engine()?);
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

fn run(cmd: RunCommand) -> Result<ExitCode> {
    let engine = cmd.codegen.engine()?;
    let bytes = std::fs::read(&cmd.file).with_context(|| format!("failed to read {}", cmd.file.display()))?;
    // A module keeps taking the path it always took (with its own parse errors); only text or
    // a binary that is a component goes to `run_component`.
    if let Ok(binary) = wat::parse_bytes(&bytes)
        && wasmparser::Parser::is_component(&binary)
    {
        return run_component(&cmd, &engine, &binary);
    }
    let module = Module::new(&engine, &bytes).with_context(|| format!("failed to compile {}", cmd.file.display()))?;
    let imports: Vec<String> = module.imports().map(|i| format!("{}::{}", i.module(), i.name())).collect();
    if !imports.is_empty() {
        bail!(
            "`weld run` only runs modules without imports, but {} imports: {}",
            cmd.file.display(),
            imports.join(", ")
        );
    }
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).context("failed to instantiate the module")?;
    let name = match &cmd.invoke {
        Some(name) => name.clone(),
        None => ["_start", "main"]
            .into_iter()
            .find(|n| instance.get_func(&mut store, n).is_some())
            .ok_or_else(|| anyhow!("no --invoke given, and the module exports neither `_start` nor `main`"))?
            .to_string(),
    };
    let func =
        instance.get_func(&mut store, &name).ok_or_else(|| anyhow!("the module exports no function named `{name}`"))?;
    let ty = func.ty(&store);
    let params: Vec<ValType> = ty.params().collect();
    if params.len() != cmd.args.len() {
        bail!("`{name}` takes {} arguments, but {} were given", params.len(), cmd.args.len());
    }
    let args = params
        .iter()
        .zip(&cmd.args)
        .enumerate()
        .map(|(i, (ty, s))| parse_arg(ty, s).with_context(|| format!("argument {} of `{name}`", i + 1)))
        .collect::<Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty.results().map(|_| Val::I32(0)).collect();
    func.call(&mut store, &args, &mut results).with_context(|| format!("calling `{name}` failed"))?;
    for r in &results {
        println!("{}", format_val(r));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a component: instantiates it (it must have no imports) and calls the function that
/// `--invoke` names, with arguments and result in WAVE syntax.
fn run_component(cmd: &RunCommand, engine: &Engine, binary: &[u8]) -> Result<ExitCode> {
    let file = cmd.file.display();
    let component = component::Component::new(engine, binary).with_context(|| format!("failed to compile {file}"))?;
    let linker = provided_components(engine, &cmd.components)?;
    let imports: Vec<String> = component
        .imports()
        .into_iter()
        .filter(|(name, what)| !(what == "component" || what == "instance") || !linker_defines(&cmd.components, name))
        .map(|(name, what)| format!("{name} ({what})"))
        .collect();
    if !imports.is_empty() {
        bail!(
            "`weld run` only runs components whose imports are components given with --component, \
             but {file} imports: {}",
            imports.join(", ")
        );
    }
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, &component).context("failed to instantiate the component")?;
    let exports = || {
        let list: Vec<String> =
            instance.exported_functions(&store).iter().map(|(name, ty)| format!("\n  {name}: {ty}")).collect();
        if list.is_empty() { " none".to_string() } else { list.concat() }
    };
    let Some(invoke) = &cmd.invoke else {
        bail!("no --invoke given; the component's exported functions are:{}", exports());
    };
    let call = parse_call(invoke, &cmd.args)?;
    let name = &call.name;
    let func = find_func(&instance, &store, name).ok_or_else(|| {
        anyhow!("the component exports no function named `{name}`; its exported functions are:{}", exports())
    })?;
    let params = func.params(&store);
    if params.len() != call.args.len() {
        bail!(
            "`{name}` takes {} but {} given; its type is `{name}: {}`",
            plural(params.len(), "argument"),
            match call.args.len() {
                1 => "1 was".to_string(),
                n => format!("{n} were"),
            },
            func.ty(&store)
        );
    }
    let args = params
        .iter()
        .zip(&call.args)
        .enumerate()
        .map(|(i, ((param, ty), text))| {
            wave::parse(ty, text).map_err(|e| {
                anyhow!("argument {} of `{name}` (`{param}: {ty}`): cannot parse `{text}` as {ty}: {e}", i + 1)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut results = vec![component::Val::Bool(false); func.results(&store).len()];
    func.call(&mut store, &args, &mut results).with_context(|| format!("calling `{name}` failed"))?;
    for result in &results {
        let text = wave::to_string(result).with_context(|| format!("cannot print the result of `{name}` in WAVE"))?;
        println!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A linker defining the components that `--component NAME=FILE` options give.
fn provided_components(engine: &Engine, options: &[String]) -> Result<component::Linker<()>> {
    let mut linker = component::Linker::new(engine);
    for option in options {
        let (name, file) =
            option.split_once('=').ok_or_else(|| anyhow!("--component `{option}` is not of the form NAME=FILE"))?;
        let bytes = std::fs::read(file).with_context(|| format!("failed to read {file} (--component {name})"))?;
        let provided = component::Component::new(engine, bytes)
            .with_context(|| format!("failed to compile {file} (--component {name})"))?;
        let mut parts: Vec<&str> = name.split('#').collect();
        let last = parts.pop().unwrap_or_default();
        let mut place = linker.root();
        for part in parts {
            place = place.into_instance(part)?;
        }
        place.component(last, &provided)?;
    }
    Ok(linker)
}

/// Whether a `--component` option defines something under the root import `name`.
fn linker_defines(options: &[String], name: &str) -> bool {
    options.iter().filter_map(|o| o.split_once('=')).any(|(n, _)| n.split('#').next() == Some(name))
}

/// `n` and `what`, with an `s` unless `n` is 1.
fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// A component function call given on the command line.
#[derive(Debug, PartialEq)]
struct Call {
    /// The export path: `name`, or `instance#name` for a function of an exported instance.
    name: String,
    /// Each argument's WAVE text.
    args: Vec<String>,
}

/// Reads `--invoke` as a call: `name(arg, ...)`, or `name` with each positional argument one
/// WAVE value. The argument list is split with WAVE's own parser, so commas inside strings,
/// lists and records stay inside their argument.
fn parse_call(invoke: &str, positional: &[String]) -> Result<Call> {
    let invoke = invoke.trim();
    let (name, args) = match invoke.find('(') {
        None => (invoke, positional.to_vec()),
        Some(open) => {
            if !positional.is_empty() {
                bail!(
                    "arguments given both inside `--invoke {invoke}` and after it ({}); \
                     write them all inside the parentheses",
                    positional.join(" ")
                );
            }
            (invoke[..open].trim_end(), split_args(&invoke[open..])?)
        }
    };
    if name.is_empty() {
        bail!("--invoke `{invoke}` names no function; write e.g. `--invoke 'add(1, 2)'`");
    }
    Ok(Call { name: name.to_string(), args })
}

/// Splits a parenthesized, comma-separated list of WAVE values into each value's text.
fn split_args(list: &str) -> Result<Vec<String>> {
    let bad = |e: &wasm_wave::parser::ParserError| {
        anyhow!("cannot read the arguments `{list}` as WAVE values: {}", wave::describe_error(e, list))
    };
    // WAVE has no empty tuple: `()` is the empty list.
    let inner = list.strip_prefix('(').and_then(|rest| rest.trim_end().strip_suffix(')'));
    if inner.is_some_and(|inner| inner.trim().is_empty()) {
        return Ok(Vec::new());
    }
    let value = wasm_wave::untyped::UntypedValue::parse(list).map_err(|e| bad(&e))?;
    let items = value.node().as_tuple().map_err(|e| bad(&e))?;
    Ok(items.map(|node| list[node.span()].to_string()).collect())
}

/// The exported function `name`, whose `#`-separated parts lead through exported instances.
fn find_func(instance: &component::Instance, store: &Store<()>, name: &str) -> Option<component::Func> {
    let mut index = None;
    for part in name.split('#') {
        index = Some(instance.get_export_index(store, index.as_ref(), part)?);
    }
    instance.get_func_by_index(store, index.as_ref()?)
}

/// Parses a command-line argument as a value of type `ty`.
fn parse_arg(ty: &ValType, s: &str) -> Result<Val> {
    let bad = || anyhow!("cannot parse {s:?} as {}", type_name(ty));
    Ok(match ty {
        ValType::I32 => Val::I32(parse_int(s, 32).ok_or_else(bad)? as i32),
        ValType::I64 => Val::I64(parse_int(s, 64).ok_or_else(bad)? as i64),
        ValType::F32 => Val::F32(s.parse::<f32>().map_err(|_| bad())?.to_bits()),
        ValType::F64 => Val::F64(s.parse::<f64>().map_err(|_| bad())?.to_bits()),
        ValType::V128 => {
            let hex = s.strip_prefix("0x").ok_or_else(bad)?;
            Val::V128(u128::from_str_radix(&hex.replace('_', ""), 16).map_err(|_| bad())?)
        }
        _ => bail!("arguments of type {} cannot be given on the command line", type_name(ty)),
    })
}

/// Parses a decimal (signed or unsigned) or `0x` hexadecimal integer of `bits` bits, returning
/// its two's-complement bit pattern.
fn parse_int(s: &str, bits: u32) -> Option<u64> {
    let s = s.replace('_', "");
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    let magnitude = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<u64>().ok()?,
    };
    let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    if negative {
        // The most negative value is 2^(bits-1).
        if magnitude > 1u64 << (bits - 1) {
            return None;
        }
        Some(magnitude.wrapping_neg() & mask)
    } else {
        (magnitude <= mask).then_some(magnitude)
    }
}

fn type_name(ty: &ValType) -> &'static str {
    match ty {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        _ => "a reference",
    }
}

fn format_val(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => f32::from_bits(*b).to_string(),
        Val::F64(b) => f64::from_bits(*b).to_string(),
        Val::V128(x) => format!("{x:#034x}"),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExternRef(Some(_)) => "ref.extern".to_string(),
    }
}

fn compile(cmd: CompileCommand) -> Result<ExitCode> {
    let bytes = std::fs::read(&cmd.file).with_context(|| format!("failed to read {}", cmd.file.display()))?;
    let start = Instant::now();
    let wasm = wat::parse_bytes(&bytes).with_context(|| format!("failed to parse {}", cmd.file.display()))?;
    let translation = weld_environ::translate_module(&wasm, weld_environ::supported_features())
        .with_context(|| format!("failed to translate {}", cmd.file.display()))?;
    let translated = start.elapsed();
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
    let code = compiler.compile_module(&translation.module, translation.bodies)?;
    let total = start.elapsed();
    println!("target:    {target_name}");
    println!("functions: {}", code.functions.len());
    println!("code size: {} bytes", code.bytes.len());
    println!("trap sites: {}", code.traps.len());
    println!(
        "time:      {:.3} ms ({:.3} ms parsing and translating)",
        total.as_secs_f64() * 1e3,
        translated.as_secs_f64() * 1e3
    );
    Ok(ExitCode::SUCCESS)
}

/// `weld adapters`: generates the component's adapter modules with FACT and prints them.
fn adapters(cmd: AdaptersCommand) -> Result<ExitCode> {
    let bytes = std::fs::read(&cmd.file).with_context(|| format!("failed to read {}", cmd.file.display()))?;
    let wasm = wat::parse_bytes(&bytes).with_context(|| format!("failed to parse {}", cmd.file.display()))?;
    let translation = translate_for_adapters(&wasm, &cmd.file.display())?;
    // The components given with --component, each translated, by the path of its import.
    let mut provided = Vec::new();
    for option in &cmd.components {
        let (name, file) =
            option.split_once('=').ok_or_else(|| anyhow!("--component `{option}` is not of the form NAME=FILE"))?;
        let bytes = std::fs::read(file).with_context(|| format!("failed to read {file} (--component {name})"))?;
        let wasm = wat::parse_bytes(&bytes).with_context(|| format!("failed to parse {file}"))?.into_owned();
        provided.push((name.split('#').map(str::to_string).collect::<Vec<_>>(), wasm));
    }
    let provided_translations = provided
        .iter()
        .map(|(name, wasm)| translate_for_adapters(wasm, &name.join("#")))
        .collect::<Result<Vec<_>>>()?;
    let info = link_statically(&translation, &provided, &provided_translations)?;
    if info.adapter_modules.is_empty() {
        println!(";; {} has no calls from one component into another: no adapters", cmd.file.display());
        return Ok(ExitCode::SUCCESS);
    }
    for i in info.adapter_modules.keys() {
        let code = weld_fact::compile(&info, i)?;
        println!(";; adapter module {}: {} adapter(s)", i.as_u32(), code.adapters.len());
        print!("{}", annotate_adapter_module(&info, &code)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// The static translation of a component binary, for `weld adapters`.
fn translate_for_adapters<'a>(
    wasm: &'a [u8],
    file: &dyn std::fmt::Display,
) -> Result<weld_environ::component::translate::ComponentTranslation<'a>> {
    weld_environ::component::translate::translate_component(wasm, weld_environ::supported_features())
        .with_context(|| format!("failed to translate {file}"))
}

/// Flattens `root` with the components `provided` (each a `#`-separated import name and its
/// binary, translated in `translations`) inlined for its component imports.
fn link_statically(
    root: &weld_environ::component::translate::ComponentTranslation<'_>,
    provided: &[(Vec<String>, Vec<u8>)],
    translations: &[weld_environ::component::translate::ComponentTranslation<'_>],
) -> Result<weld_environ::component::info::ComponentInfo> {
    use weld_environ::PrimaryMap;
    use weld_environ::component::inline::{InlineInput, Source, component_imports, inline_linked};
    use weld_environ::component::translate::ComponentTranslation;
    fn source<'a>(t: &'a ComponentTranslation<'_>) -> Source<'a> {
        Source { components: &t.components, modules: t.modules.values().map(|m| &m.module).collect() }
    }
    let root_component = &root.components[weld_environ::component::translate::StaticComponentIndex::ROOT];
    let mut input = InlineInput { sources: PrimaryMap::from_iter([source(root)]), provided: Default::default() };
    for path in component_imports(root_component) {
        let mut full = vec![root_component.imports[path.import.in_root()].0.clone()];
        full.extend(path.path.iter().cloned());
        let Some(i) = provided.iter().position(|(name, _)| *name == full) else {
            bail!("the component imports the component `{}`: give it with --component", full.join("#"));
        };
        let index = input.sources.push(source(&translations[i]));
        input.provided.insert(path, index);
    }
    inline_linked(&input)
}

/// The module as WAT, each import followed by what it is and each adapter function headed by
/// its description.
fn annotate_adapter_module(
    info: &weld_environ::component::info::ComponentInfo,
    code: &weld_fact::AdapterModuleCode,
) -> Result<String> {
    let text = wasmprinter::print_bytes(&code.wasm).context("printing an adapter module")?;
    let mut out = String::new();
    let (mut import, mut func) = (0usize, 0usize);
    for line in text.lines() {
        if line.starts_with("  (func ") {
            if let Some(f) = code.adapters.get(func) {
                for l in weld_fact::describe(info, *f).lines() {
                    out += &format!("  ;; {l}\n");
                }
            }
            func += 1;
        }
        out += line;
        if line.starts_with("  (import ") {
            if let Some(what) = code.imports.get(import) {
                out += &format!(" ;; {what:?}");
            }
            import += 1;
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_int("20", 32), Some(20));
        assert_eq!(parse_int("-1", 32), Some(0xffff_ffff));
        assert_eq!(parse_int("0xffffffff", 32), Some(0xffff_ffff));
        assert_eq!(parse_int("4294967296", 32), None);
        assert_eq!(parse_int("-2147483648", 32), Some(0x8000_0000));
        assert_eq!(parse_int("-2147483649", 32), None);
        assert_eq!(parse_int("-0x1", 64), Some(u64::MAX));
        assert_eq!(parse_int("x", 64), None);
    }

    #[test]
    fn calls() {
        let call = |s: &str| parse_call(s, &[]).unwrap();
        let args = |s: &str| call(s).args;
        assert_eq!(call("add(1, 2)"), Call { name: "add".into(), args: vec!["1".into(), "2".into()] });
        assert_eq!(args(r#"greet("a, b) \"c\"")"#), [r#""a, b) \"c\"""#]);
        assert_eq!(args("f()"), Vec::<String>::new());
        assert_eq!(call(" f ( ) "), Call { name: "f".into(), args: vec![] });
        let nested = call("math#mul({a: [1, 2], b: (3, ',')}, none, [])");
        assert_eq!(nested.name, "math#mul");
        assert_eq!(nested.args, ["{a: [1, 2], b: (3, ',')}", "none", "[]"]);
        let positional = parse_call("f", &["1".into(), "\"x\"".into()]).unwrap();
        assert_eq!(positional, Call { name: "f".into(), args: vec!["1".into(), "\"x\"".into()] });
        let err = |s: &str, positional: &[String]| parse_call(s, positional).unwrap_err().to_string();
        assert_eq!(
            err("f(1)", &["2".into()]),
            "arguments given both inside `--invoke f(1)` and after it (2); write them all inside the parentheses"
        );
        assert_eq!(err("(1)", &[]), "--invoke `(1)` names no function; write e.g. `--invoke 'add(1, 2)'`");
        assert_eq!(
            err("f(1", &[]),
            "cannot read the arguments `(1` as WAVE values: unexpected end of input at the end"
        );
        assert_eq!(
            err("f(1) x", &[]),
            "cannot read the arguments `(1) x` as WAVE values: trailing characters after value at `x`"
        );
    }

    #[test]
    fn floats() {
        assert_eq!(parse_arg(&ValType::F32, "inf").unwrap().f32(), Some(f32::INFINITY));
        assert!(parse_arg(&ValType::F64, "nan").unwrap().f64().unwrap().is_nan());
        assert_eq!(parse_arg(&ValType::F64, "-2.5").unwrap().f64(), Some(-2.5));
    }
}
