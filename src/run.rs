//! `weld run [OPTIONS] FILE [ARGS...]`: instantiates a module or a component and calls one of
//! its exports, with Wasmtime's command-line shape: options come before the file, and
//! everything after the file is the program's (here: the called function's arguments).
//!
//! A component's function is found by its export path (`INSTANCE#NAME`), by Wasmtime's
//! spelling of a function inside an interface (`ns:pkg/iface.name@version`), or by its bare
//! name when exactly one exported function has it. Without `--invoke`, a component that
//! exports `wasi:cli/run` is run; any other lists what it exports.
//!
//! Imports: WASI 0.2 is defined by weld-wasi (`wasi_host.rs` builds its context from `-S`,
//! `--dir` and `--env`); `--component NAME=FILE` supplies component imports;
//! `-W unknown-imports-trap=y` and `-W unknown-imports-default=y` define everything else.
//!
//! Exit status, as Wasmtime's: the guest's own when it exits through `wasi:cli/exit` (or 1
//! when `run` returns an error), 134 after a trap, 1 for any other failure.

use crate::codegen::CodegenOptions;
use crate::options::{HostOptions, RunSettings};
use crate::precompiled::{Loaded, load_if_precompiled};
use crate::wasi_host::{HostState, WasiSettings};
use crate::wave;
use anyhow::{Context as _, Result, anyhow, bail};
use clap::Args;
use std::path::Path;
use std::process::ExitCode;
use weld::{Engine, Linker, Module, Store, Val, ValType, component};

#[derive(Args)]
#[command(
    override_usage = "weld run [OPTIONS] FILE [ARGS]...",
    after_help = "Examples:\n  \
    weld run --invoke fib examples/hello.wat 20\n  \
    weld run --invoke 'greet(\"world\")' examples/greet.wat\n  \
    weld run --invoke 'summarize([3, -1, 4])' examples/greet.wat\n  \
    weld run --invoke 'math#mul(6, 7)' examples/greet.wat\n  \
    weld run -W unknown-imports-trap=y --invoke 'add(1, 2)' adder.wasm"
)]
pub struct RunCommand {
    /// The exported function to call. For a module: its name (default: `_start` or `main`).
    /// For a component: a call with the arguments in WAVE syntax, e.g. 'add(1, 2)',
    /// 'greet("world")' or 'echo({name: "x", age: 3})'. A function of an exported instance is
    /// `INSTANCE#NAME` (e.g. 'math#mul(6, 7)'), or `ns:pkg/iface.NAME@VERSION` as Wasmtime
    /// writes it, or just NAME when no other exported function has that name. Without it, a
    /// component exporting `wasi:cli/run` is run. The result is printed in WAVE.
    #[arg(long, value_name = "NAME | CALL")]
    invoke: Option<String>,
    /// Provides a component for one of the component's component imports:
    /// `NAME=FILE` (.wasm or .wat), where NAME is the import's name, or
    /// `INSTANCE#NAME` for a component exported by an imported instance. Repeatable.
    #[arg(long = "component", value_name = "NAME=FILE")]
    components: Vec<String>,
    #[command(flatten)]
    host: HostOptions,
    /// The program name the guest sees as its first argument (default: the file's name).
    #[arg(long, value_name = "NAME")]
    argv0: Option<String>,
    /// Runs FILE even if it is a precompiled artifact (`weld compile`); its machine code runs
    /// as it is, so only for artifacts you trust.
    #[arg(long)]
    allow_precompiled: bool,
    /// Compiles without the compile cache (by default compiled code is kept in, and taken
    /// from, `$XDG_CACHE_HOME/weld` or `~/.cache/weld`).
    #[arg(long)]
    no_cache: bool,
    #[command(flatten)]
    codegen: CodegenOptions,
    /// The module or component (a .wasm binary or .wat text), then everything for the
    /// program: arguments of a module's function, parsed by its parameter types (integers in
    /// decimal or 0x hex, floats in decimal, `inf`, `-inf` or `nan`), or for a component whose
    /// --invoke has no parentheses, one WAVE value each. Nothing after the file is read as an
    /// option of `weld run`.
    #[arg(value_name = "FILE [ARGS]...", required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    file_and_args: Vec<String>,
}

impl RunCommand {
    /// The module or component to run.
    fn file(&self) -> &Path {
        Path::new(&self.file_and_args[0])
    }

    /// What follows the file.
    fn args(&self) -> &[String] {
        &self.file_and_args[1..]
    }

    /// The guest's arguments: its name (`--argv0`, or the file's name), then what follows the
    /// file.
    fn argv(&self) -> Vec<String> {
        let name = match &self.argv0 {
            Some(name) => name.clone(),
            None => self
                .file()
                .file_name()
                .map_or_else(|| self.file_and_args[0].clone(), |n| n.to_string_lossy().into_owned()),
        };
        std::iter::once(name).chain(self.args().iter().cloned()).collect()
    }
}

/// The exit status Wasmtime gives a trapped guest (128 + SIGABRT).
const TRAP_EXIT_STATUS: u8 = 134;

/// Runs `weld run`.
pub fn run(cmd: RunCommand) -> Result<ExitCode> {
    let wasi = WasiSettings::parse(&cmd.host.wasi)?;
    if wasi.help {
        print!("{}", WasiSettings::help_text());
        return Ok(ExitCode::SUCCESS);
    }
    if cmd.invoke.is_none()
        && let Some(flag) = cmd.args().iter().find(|a| a.starts_with("--") || (a.starts_with('-') && a.len() == 2))
    {
        bail!(
            "`{flag}` comes after the file, so it is an argument of the program, not an option of \
             `weld run`; options go before the file, e.g. `weld run --invoke NAME {} ARGS...`",
            cmd.file().display()
        );
    }
    let settings = RunSettings::parse(&cmd.host.optimize, &cmd.host.wasm)?;
    let engine = engine(&cmd.codegen, &settings, !cmd.no_cache)?;
    let file = cmd.file().display();
    match load_if_precompiled(&engine, cmd.file(), cmd.allow_precompiled)? {
        Some(Loaded::Module(module)) => return run_module(&cmd, &settings, &engine, &module),
        Some(Loaded::Component(component)) => return run_component(&cmd, &settings, &wasi, &engine, &component),
        None => {}
    }
    // A binary is read by `from_file`, which keeps the bytes it reads (no copy); text is read
    // here, to tell a component from a module.
    let head = file_head(cmd.file()).with_context(|| format!("failed to read {file}"))?;
    if head.starts_with(b"\0asm") {
        if wasmparser::Parser::is_component(&head) {
            let component = component::Component::from_file(&engine, cmd.file())
                .with_context(|| format!("failed to compile {file}"))?;
            return run_component(&cmd, &settings, &wasi, &engine, &component);
        }
        let module = Module::from_file(&engine, cmd.file()).with_context(|| format!("failed to compile {file}"))?;
        return run_module(&cmd, &settings, &engine, &module);
    }
    let bytes = std::fs::read(cmd.file()).with_context(|| format!("failed to read {file}"))?;
    // A module keeps taking the path it always took (with its own parse errors); only text
    // that is a component goes to `run_component`.
    if let Ok(binary) = wat::parse_bytes(&bytes)
        && wasmparser::Parser::is_component(&binary)
    {
        let component =
            component::Component::new(&engine, binary).with_context(|| format!("failed to compile {file}"))?;
        return run_component(&cmd, &settings, &wasi, &engine, &component);
    }
    let module = Module::new(&engine, &bytes).with_context(|| format!("failed to compile {file}"))?;
    run_module(&cmd, &settings, &engine, &module)
}

/// The first 8 bytes of `path` (fewer if it is shorter): a binary's magic number and version.
fn file_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(path)?.take(8).read_to_end(&mut head)?;
    Ok(head)
}

/// The exit status for a guest whose call failed with `error`: the status it exited with
/// through `wasi:cli/exit` (nothing printed), or 134 after a trap (printed as an error).
fn failure_status(error: anyhow::Error) -> Result<ExitCode> {
    if let Some(exit) = error.downcast_ref::<weld_wasi::I32Exit>() {
        return Ok(ExitCode::from(u8::try_from(exit.0).unwrap_or(1)));
    }
    if error.downcast_ref::<weld::Trap>().is_some() {
        crate::report::print_error(&error);
        return Ok(ExitCode::from(TRAP_EXIT_STATUS));
    }
    Err(error)
}

/// The engine for the codegen flags and the `-O`/`-W` settings (which win where both speak),
/// with the user's compile cache when `cache` is set (and there is one: without a cache
/// directory weld compiles as if `--no-cache` were given, and says so in the log).
fn engine(codegen: &CodegenOptions, settings: &RunSettings, cache: bool) -> Result<Engine> {
    Engine::new(&engine_config(codegen, settings, cache)?).context("failed to create the engine")
}

/// The engine configuration of [`engine`], for commands that add to it (`weld serve`).
pub(crate) fn engine_config(codegen: &CodegenOptions, settings: &RunSettings, cache: bool) -> Result<weld::Config> {
    let mut config = codegen.config();
    if cache {
        match weld::Cache::new(weld::CacheConfig::new()) {
            Ok(cache) => {
                config.cache(Some(cache));
            }
            Err(e) => log::warn!("compiling without a cache: {e:#}"),
        }
    }
    if let Some(level) = settings.opt_level {
        config.cranelift_opt_level(level);
    }
    if let Some(enable) = settings.nan_canonicalization {
        config.cranelift_nan_canonicalization(enable);
    }
    if let Some(enable) = settings.simd {
        config.wasm_simd(enable);
    }
    if let Some(enable) = settings.relaxed_simd {
        config.wasm_relaxed_simd(enable);
    }
    if let Some(enable) = settings.relaxed_simd_deterministic {
        config.relaxed_simd_deterministic(enable);
    }
    if let Some(enable) = settings.exceptions {
        config.wasm_exceptions(enable);
    }
    if let Some(bytes) = settings.max_wasm_stack {
        config.max_wasm_stack(bytes);
    }
    if settings.fuel.is_some() {
        config.consume_fuel(true);
    }
    if let Some(enable) = settings.epoch_interruption {
        config.epoch_interruption(enable);
    }
    if settings.timeout.is_some() {
        config.epoch_interruption(true);
    }
    Ok(config)
}

/// Gives a new store its `limiter` (the `-W max-*` bounds, found in the store's data) and the
/// `-W fuel`, and starts the `-W timeout` clock, before anything is instantiated (start
/// functions count), as Wasmtime does: the deadline is one epoch away, and a thread advances
/// the epoch once the time is up.
fn limit_store<T: 'static>(
    store: &mut Store<T>,
    settings: &RunSettings,
    limiter: impl (FnMut(&mut T) -> &mut dyn weld::ResourceLimiter) + Send + Sync + 'static,
) -> Result<()> {
    store.limiter(limiter);
    if let Some(fuel) = settings.fuel {
        store.set_fuel(fuel)?;
    }
    if let Some(timeout) = settings.timeout {
        store.set_epoch_deadline(1);
        let engine = store.engine().clone();
        std::thread::spawn(move || {
            std::thread::sleep(timeout);
            engine.increment_epoch();
        });
    }
    Ok(())
}

/// A store for a component: the WASI state of `-S`, `--dir`, `--env` and `argv`, with the
/// `-W` bounds, fuel and timeout and the `-S max-component-handles` bound applied.
pub(crate) fn component_store(
    engine: &Engine,
    settings: &RunSettings,
    wasi: &WasiSettings,
    host: &HostOptions,
    argv: &[String],
) -> Result<Store<HostState>> {
    let mut state = wasi.host_state(&host.dirs, &host.envs, argv)?;
    state.limits = settings.store_limits();
    let mut store = Store::new(engine, state);
    limit_store(&mut store, settings, |state| &mut state.limits)?;
    if let Some(max) = wasi.max_component_handles {
        store.set_max_component_handles(max);
    }
    Ok(store)
}

/// What to tell a user whose module or component has imports nothing defines.
const UNDEFINED_IMPORTS_HINT: &str = "run with `-W unknown-imports-trap=y` to make them trap when called, or \
     `-W unknown-imports-default=y` to make them return default values";

fn run_module(cmd: &RunCommand, settings: &RunSettings, engine: &Engine, module: &Module) -> Result<ExitCode> {
    let imports_wasi = module.imports().find(|i| matches!(i.module(), "wasi_snapshot_preview1" | "wasi_unstable"));
    if let Some(import) = imports_wasi
        && !settings.unknown_imports_trap
        && !settings.unknown_imports_default
    {
        bail!(
            "{} is a core module that imports WASI preview 1 (`{}::{}`); weld hosts WASI 0.2 components only, \
             so far. Make it a component with `wasm-tools component new {0} --adapt \
             wasi_snapshot_preview1.command.wasm -o component.wasm` and run that.",
            cmd.file().display(),
            import.module(),
            import.name()
        );
    }
    let mut store = Store::new(engine, settings.store_limits());
    limit_store(&mut store, settings, |limits| limits)?;
    let mut linker = Linker::new(engine);
    if settings.unknown_imports_trap {
        linker.define_unknown_imports_as_traps(module)?;
    }
    if settings.unknown_imports_default {
        linker.define_unknown_imports_as_default_values(&mut store, module)?;
    }
    let undefined: Vec<String> = module
        .imports()
        .filter(|i| linker.get(&mut store, i.module(), i.name()).is_none())
        .map(|i| format!("\n  {}::{} ({:?})", i.module(), i.name(), i.ty()))
        .collect();
    if !undefined.is_empty() {
        bail!(
            "{} has imports that nothing defines:{}\n{UNDEFINED_IMPORTS_HINT}",
            cmd.file().display(),
            undefined.concat()
        );
    }
    let instance = linker.instantiate(&mut store, module).context("failed to instantiate the module")?;
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
    if params.len() != cmd.args().len() {
        bail!("`{name}` takes {} arguments, but {} were given", params.len(), cmd.args().len());
    }
    let args = params
        .iter()
        .zip(cmd.args())
        .enumerate()
        .map(|(i, (ty, s))| parse_arg(ty, s).with_context(|| format!("argument {} of `{name}`", i + 1)))
        .collect::<Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty.results().map(|_| Val::I32(0)).collect();
    if let Err(e) = func.call(&mut store, &args, &mut results) {
        return failure_status(e.context(format!("calling `{name}` failed")));
    }
    for r in &results {
        println!("{}", format_val(r));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a component: defines its imports from `--component` and the `-W unknown-imports-*`
/// settings, instantiates it, and calls the function that `--invoke` names (or
/// `wasi:cli/run`), with arguments and result in WAVE syntax.
fn run_component(
    cmd: &RunCommand,
    settings: &RunSettings,
    wasi: &WasiSettings,
    engine: &Engine,
    component: &component::Component,
) -> Result<ExitCode> {
    let file = cmd.file().display();
    let mut linker = provided_components(engine, &cmd.components)?;
    if wasi.cli {
        weld_wasi::p2::add_to_linker_sync(&mut linker).context("failed to define WASI in the linker")?;
        weld_wasi::p3::add_to_linker(&mut linker).context("failed to define WASI 0.3 in the linker")?;
    }
    if wasi.http {
        weld_wasi_http::add_only_http_to_linker_sync(&mut linker)
            .context("failed to define wasi:http in the linker")?;
        weld_wasi_http::p3::add_to_linker(&mut linker).context("failed to define wasi:http 0.3 in the linker")?;
    }
    if settings.unknown_imports_trap {
        linker.define_unknown_imports_as_traps(component)?;
    }
    if settings.unknown_imports_default {
        linker.define_unknown_imports_as_default_values(component)?;
    }
    if !settings.unknown_imports_trap && !settings.unknown_imports_default {
        check_component_imports(&linker, component, &file)?;
    }
    let mut store = component_store(engine, settings, wasi, &cmd.host, &cmd.argv())?;
    let instance = linker.instantiate(&mut store, component).context("failed to instantiate the component")?;
    let exported = instance.exported_functions(&store);
    let listing = || {
        let list: Vec<String> = exported.iter().map(|(name, ty)| format!("\n  {name}: {ty}")).collect();
        if list.is_empty() { " none".to_string() } else { list.concat() }
    };
    let call = match &cmd.invoke {
        Some(invoke) => parse_call(invoke, cmd.args())?,
        None => match exported.iter().find(|(name, _)| is_cli_run(name)) {
            Some((name, _)) => Call { name: name.clone(), args: Vec::new() },
            None => bail!(
                "no --invoke given, and the component does not export `wasi:cli/run`; its exported functions \
                 are:{}",
                listing()
            ),
        },
    };
    let names: Vec<&str> = exported.iter().map(|(name, _)| name.as_str()).collect();
    let name =
        resolve_func_name(&names, &call.name).map_err(|e| anyhow!("{e}; its exported functions are:{}", listing()))?;
    let func = find_func(&instance, &store, &name).ok_or_else(|| {
        anyhow!("the component exports no function named `{name}`; its exported functions are:{}", listing())
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
    if let Err(e) = func.call(&mut store, &args, &mut results) {
        return failure_status(e.context(format!("calling `{name}` failed")));
    }
    if cmd.invoke.is_none() {
        // `wasi:cli/run#run` returns `result`: its error is the program's failure.
        return Ok(match results.first() {
            Some(component::Val::Result(Err(_))) => ExitCode::FAILURE,
            _ => ExitCode::SUCCESS,
        });
    }
    for result in &results {
        let text = wave::to_string(result).with_context(|| format!("cannot print the result of `{name}` in WAVE"))?;
        println!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether an exported function's path is `wasi:cli/run@0.2.x#run` or `@0.3.x#run`.
fn is_cli_run(path: &str) -> bool {
    let rest = path.strip_prefix("wasi:cli/run@0.2.").or_else(|| path.strip_prefix("wasi:cli/run@0.3."));
    rest.and_then(|rest| rest.split_once('#')).is_some_and(|(_, f)| f == "run")
}

/// Fails, naming each import that the linker (WASI, and the `--component` options) does not
/// satisfy, with why and what would satisfy it.
pub(crate) fn check_component_imports(
    linker: &component::Linker<HostState>,
    component: &component::Component,
    file: &dyn std::fmt::Display,
) -> Result<()> {
    let kinds: std::collections::HashMap<String, String> = component.imports().into_iter().collect();
    let undefined: Vec<String> = linker
        .unsatisfied_imports(component)
        .into_iter()
        .map(|(name, why)| {
            // The runtime's message ends with how an embedder would define the item; the
            // command line's ways are the hint below.
            let why = why.to_string();
            let why = why.split("; define it with").next().unwrap_or_default();
            let satisfy = if kinds.get(&name).is_some_and(|k| k == "component") {
                format!(" (give it with `--component {name}=FILE`)")
            } else {
                String::new()
            };
            format!("\n  {name}: {why}{satisfy}")
        })
        .collect();
    if !undefined.is_empty() {
        bail!("{file} has imports that nothing defines:{}\n{UNDEFINED_IMPORTS_HINT}", undefined.concat());
    }
    Ok(())
}

/// A linker defining the components that `--component NAME=FILE` options give.
fn provided_components(engine: &Engine, options: &[String]) -> Result<component::Linker<HostState>> {
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

/// `n` and `what`, with an `s` unless `n` is 1.
fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// A component function call given on the command line.
#[derive(Debug, PartialEq)]
pub struct Call {
    /// The function as written: `name`, `instance#name`, or `ns:pkg/iface.name@version`.
    pub name: String,
    /// Each argument's WAVE text.
    pub args: Vec<String>,
}

/// Reads `--invoke` as a call: `name(arg, ...)`, or `name` with each positional argument one
/// WAVE value. The argument list is split with WAVE's own parser, so commas inside strings,
/// lists and records stay inside their argument.
pub fn parse_call(invoke: &str, positional: &[String]) -> Result<Call> {
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

/// The export path (`a#b#c`) of the function that `written` names among `exported` (every
/// exported function's path): the path itself; Wasmtime's `ns:pkg/iface.name@version` for
/// function `name` of instance `ns:pkg/iface@version`; or a bare name that exactly one
/// exported function has as its last part.
pub fn resolve_func_name(exported: &[&str], written: &str) -> Result<String> {
    if exported.contains(&written) {
        return Ok(written.to_string());
    }
    if let Some(path) = from_item_name(written)
        && exported.contains(&path.as_str())
    {
        return Ok(path);
    }
    if !written.contains('#') {
        let matches: Vec<&str> =
            exported.iter().copied().filter(|path| path.rsplit('#').next() == Some(written)).collect();
        match matches.as_slice() {
            [one] => return Ok(one.to_string()),
            [] => {}
            many => bail!(
                "more than one exported function is named `{written}`: say which with one of {}",
                many.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
            ),
        }
    }
    bail!("the component exports no function named `{written}`")
}

/// `ns:pkg/iface.name@version` (Wasmtime's spelling of a function in an interface) as the
/// export path `ns:pkg/iface@version#name`, if `written` has that shape.
fn from_item_name(written: &str) -> Option<String> {
    let slash = written.rfind('/')?;
    let (package, rest) = written.split_at(slash + 1);
    let (item, version) = match rest.split_once('@') {
        Some((item, version)) => (item, Some(version)),
        None => (rest, None),
    };
    let (iface, name) = item.split_once('.')?;
    Some(match version {
        Some(v) => format!("{package}{iface}@{v}#{name}"),
        None => format!("{package}{iface}#{name}"),
    })
}

/// The exported function at `path`, whose `#`-separated parts lead through exported instances.
fn find_func(instance: &component::Instance, store: &Store<HostState>, path: &str) -> Option<component::Func> {
    let mut index = None;
    for part in path.split('#') {
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
            Val::V128(u128::from_str_radix(&hex.replace('_', ""), 16).map_err(|_| bad())?.into())
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
        Val::V128(x) => format!("{:#034x}", x.as_u128()),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExternRef(Some(_)) => "ref.extern".to_string(),
        Val::ExnRef(None) => "ref.null exn".to_string(),
        Val::ExnRef(Some(_)) => "ref.exn".to_string(),
    }
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
    fn function_names() {
        let exported = [
            "docs:adder/add@0.1.0#add",
            "wasi:cli/run@0.2.3#run",
            "x:y/other#run",
            "top",
            "e:c/b@0.1.0#[method]r.get-b",
        ];
        let resolve = |w: &str| resolve_func_name(&exported, w);
        assert_eq!(resolve("add").unwrap(), "docs:adder/add@0.1.0#add");
        assert_eq!(resolve("docs:adder/add@0.1.0#add").unwrap(), "docs:adder/add@0.1.0#add");
        assert_eq!(resolve("docs:adder/add.add@0.1.0").unwrap(), "docs:adder/add@0.1.0#add");
        assert_eq!(resolve("e:c/b.[method]r.get-b@0.1.0").unwrap(), "e:c/b@0.1.0#[method]r.get-b");
        assert_eq!(resolve("[method]r.get-b").unwrap(), "e:c/b@0.1.0#[method]r.get-b");
        assert_eq!(resolve("top").unwrap(), "top");
        assert_eq!(
            resolve("run").unwrap_err().to_string(),
            "more than one exported function is named `run`: say which with one of `wasi:cli/run@0.2.3#run`, `x:y/other#run`"
        );
        assert_eq!(resolve("sub").unwrap_err().to_string(), "the component exports no function named `sub`");
        assert!(resolve("docs:adder/add@0.1.0#sub").is_err());
        assert!(is_cli_run("wasi:cli/run@0.2.3#run"));
        assert!(is_cli_run("wasi:cli/run@0.3.0#run"));
        assert!(!is_cli_run("wasi:cli/run@0.4.0#run"));
        assert!(!is_cli_run("wasi:cli/run@0.3.0#other"));
        assert!(!is_cli_run("wasi:cli/run@0.2.3#runner"));
    }

    #[test]
    fn floats() {
        assert_eq!(parse_arg(&ValType::F32, "inf").unwrap().f32(), Some(f32::INFINITY));
        assert!(parse_arg(&ValType::F64, "nan").unwrap().f64().unwrap().is_nan());
        assert_eq!(parse_arg(&ValType::F64, "-2.5").unwrap().f64(), Some(-2.5));
    }
}
