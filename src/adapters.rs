//! `weld adapters FILE`: generates a component's fused adapters with FACT, exactly as
//! instantiation would, and prints each adapter module as WAT, every function headed by the
//! component type it translates and the canonical options of both sides. Calls between
//! components that use component-model async are made by the runtime as tasks, not by an
//! adapter: each is listed with its options and the bookkeeping the runtime does for it. It runs the
//! compile-time crates directly (no runtime, no code generation), so it also works on
//! components whose imports nothing on this machine could satisfy.

use anyhow::{Context as _, Result, anyhow, bail};
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct AdaptersCommand {
    /// The component (binary or text).
    file: std::path::PathBuf,
    /// Provides a component for one of its component imports, as for `weld run`:
    /// `NAME=FILE`, or `INSTANCE#NAME=FILE`. The adapters printed are then those of the
    /// component linked with the ones given. Repeatable.
    #[arg(long = "component", value_name = "NAME=FILE")]
    components: Vec<String>,
}

/// `weld adapters`: generates the component's adapter modules with FACT and prints them.
pub fn adapters(cmd: AdaptersCommand) -> Result<ExitCode> {
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
    if info.adapter_modules.is_empty() && info.async_calls.is_empty() {
        println!(";; {} has no calls from one component into another: no adapters", cmd.file.display());
        return Ok(ExitCode::SUCCESS);
    }
    for i in info.async_calls.keys() {
        for line in weld_fact::describe_async_call(&info, i).lines() {
            println!(";; {line}");
        }
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
