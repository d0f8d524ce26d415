//! Executes the directives of one parsed script against one store.
//!
//! The [`Context`] holds the per-file state: the store, a linker preloaded with `spectest` and
//! every `register`ed instance, the current (most recent) instance, named instances and named
//! module definitions. [`run_script`] drives it, one directive at a time, catching errors and
//! panics so that each directive's outcome is recorded independently.
//!
//! It deliberately knows nothing about output formats or baselines; it only fills a
//! [`FileReport`].

use crate::values;
use crate::{Failure, FileReport, panic_message};
use anyhow::{Context as _, Error, Result, anyhow, bail};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use wast::token::{Id, Span};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, WastRet, Wat};
use weld::{Engine, Instance, Linker, Module, Store, Val};

/// What running a directive produced.
enum Outcome {
    /// An assertion: counts as one pass or one failure.
    Assertion(Result<()>),
    /// A plain step (`register`, `invoke`, ...): only a failure is reported.
    Step(Result<()>),
}

/// Why executing an action failed: before running wasm (a bad script or a module that does not
/// compile), or while running it (a trap or an instantiation failure).
enum ExecError {
    Setup(Error),
    Run(Error),
}

impl ExecError {
    fn into_error(self) -> Error {
        match self {
            ExecError::Setup(e) | ExecError::Run(e) => e,
        }
    }
}

/// Runs every directive of `script` and reports the outcome.
pub(crate) fn run_script(engine: &Engine, path: &Path, text: &str, script: Wast<'_>) -> FileReport {
    let mut report = FileReport { path: path.to_path_buf(), passed: 0, failures: Vec::new() };
    let mut cx = match catch_unwind(AssertUnwindSafe(|| Context::new(engine))) {
        Ok(cx) => cx,
        Err(p) => {
            let message = format!("creating the store panicked: {}", panic_message(&*p));
            for d in &script.directives {
                let (line, col) = linecol(d.span(), text);
                report.failures.push(Failure { line, col, kind: kind_of(d), message: message.clone() });
            }
            return report;
        }
    };
    for directive in script.directives {
        let (line, col) = linecol(directive.span(), text);
        let kind = kind_of(&directive);
        log::debug!("{}:{line}:{col}: {kind}", path.display());
        let outcome = catch_unwind(AssertUnwindSafe(|| cx.run(directive, text)))
            .unwrap_or_else(|p| Outcome::Assertion(Err(anyhow!("panicked: {}", panic_message(&*p)))));
        match outcome {
            Outcome::Assertion(Ok(())) => report.passed += 1,
            Outcome::Step(Ok(())) => {}
            Outcome::Assertion(Err(e)) | Outcome::Step(Err(e)) => {
                let message = shorten(&format!("{e:#}"));
                log::debug!("{}:{line}:{col}: {kind} failed: {message}", path.display());
                report.failures.push(Failure { line, col, kind, message });
            }
        }
    }
    report
}

/// Keeps a failure message readable: a trap from a deep recursion carries a backtrace of
/// thousands of frames.
fn shorten(message: &str) -> String {
    const MAX_LINES: usize = 20;
    let total = message.lines().count();
    if total <= MAX_LINES {
        return message.to_string();
    }
    let mut kept: Vec<&str> = message.lines().take(MAX_LINES).collect();
    let more = format!("... ({} more lines)", total - MAX_LINES);
    kept.push(&more);
    kept.join("\n")
}

fn linecol(span: Span, text: &str) -> (u32, u32) {
    let (line, col) = span.linecol_in(text);
    (line as u32 + 1, col as u32 + 1)
}

fn kind_of(d: &WastDirective<'_>) -> &'static str {
    match d {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { exec: WastExecute::Wat(_), .. } => "assert_uninstantiable",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// The per-file state.
struct Context {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// The most recently instantiated module; `None` after a module failed to instantiate, so
    /// that later directives do not silently run against an older instance.
    current: Option<Instance>,
    instances: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
}

impl Context {
    fn new(engine: &Engine) -> Context {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new(engine);
        linker.allow_shadowing(true);
        crate::spectest::define(&mut linker, &mut store);
        Context {
            engine: engine.clone(),
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
        }
    }

    fn run(&mut self, directive: WastDirective<'_>, text: &str) -> Outcome {
        use Outcome::{Assertion, Step};
        match directive {
            WastDirective::Module(mut module) => Assertion(self.module(&mut module, text)),
            WastDirective::ModuleDefinition(mut module) => Assertion(self.definition(&mut module, text)),
            WastDirective::ModuleInstance { instance, module, .. } => Assertion(self.module_instance(instance, module)),
            WastDirective::Register { name, module, .. } => Step(self.register(name, module)),
            WastDirective::Invoke(invoke) => Step(self.invoke(&invoke).map(drop).map_err(ExecError::into_error)),
            WastDirective::AssertReturn { exec, results, .. } => Assertion(self.assert_return(exec, &results, text)),
            WastDirective::AssertTrap { exec, message, .. } => Assertion(self.assert_trap(exec, message, text)),
            WastDirective::AssertExhaustion { call, message, .. } => {
                Assertion(expect_trap(self.invoke(&call).map(drop), message))
            }
            WastDirective::AssertInvalid { mut module, message, .. } => {
                Assertion(self.assert_rejected(&mut module, message, "invalid"))
            }
            WastDirective::AssertMalformed { mut module, message, .. } => {
                Assertion(self.assert_rejected(&mut module, message, "malformed"))
            }
            WastDirective::AssertInvalidCustom { mut module, .. }
            | WastDirective::AssertMalformedCustom { mut module, .. } => {
                // A bad custom section or annotation never makes the module itself invalid.
                Assertion(self.compile(&mut module, text).map(drop))
            }
            WastDirective::AssertUnlinkable { module, message, .. } => {
                Assertion(self.assert_unlinkable(module, message, text))
            }
            WastDirective::AssertException { .. } => Assertion(Err(anyhow!("exceptions are not supported"))),
            WastDirective::AssertSuspension { .. } => Assertion(Err(anyhow!("stack switching is not supported"))),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => Step(Err(anyhow!("threads are not supported"))),
        }
    }

    /// Encodes a script module to a binary. Components are refused here.
    fn encode(module: &mut QuoteWat<'_>, text: &str) -> Result<Vec<u8>> {
        if matches!(module, QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..)) {
            bail!("components are not supported by the wast runner yet");
        }
        let quoted = matches!(module, QuoteWat::QuoteModule(..));
        module.encode().map_err(|mut e| {
            // Spans of quoted modules point into the quoted text, not the file.
            if !quoted {
                e.set_text(text);
            }
            anyhow!("{e}").context("the module's text failed to encode")
        })
    }

    /// Encodes and compiles a script module.
    fn compile(&mut self, module: &mut QuoteWat<'_>, text: &str) -> Result<Module> {
        let bytes = Self::encode(module, text)?;
        Module::from_binary(&self.engine, &bytes).context("the module failed to compile")
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance> {
        self.linker.instantiate(&mut self.store, module).context("the module failed to instantiate")
    }

    fn module(&mut self, module: &mut QuoteWat<'_>, text: &str) -> Result<()> {
        self.current = None;
        let name = module.name().map(|id| id.name().to_string());
        let compiled = self.compile(module, text)?;
        let instance = self.instantiate(&compiled)?;
        self.set_current(name, instance);
        Ok(())
    }

    fn set_current(&mut self, name: Option<String>, instance: Instance) {
        if let Some(name) = name {
            self.instances.insert(name, instance);
        }
        self.current = Some(instance);
    }

    fn definition(&mut self, module: &mut QuoteWat<'_>, text: &str) -> Result<()> {
        self.last_definition = None;
        let name = module.name().map(|id| id.name().to_string());
        let compiled = self.compile(module, text)?;
        if let Some(name) = name {
            self.definitions.insert(name, compiled.clone());
        }
        self.last_definition = Some(compiled);
        Ok(())
    }

    fn module_instance(&mut self, instance: Option<Id<'_>>, module: Option<Id<'_>>) -> Result<()> {
        self.current = None;
        let compiled = match module {
            Some(id) => self
                .definitions
                .get(id.name())
                .cloned()
                .ok_or_else(|| anyhow!("no module definition named ${}", id.name()))?,
            None => self.last_definition.clone().ok_or_else(|| anyhow!("no module definition to instantiate"))?,
        };
        let inst = self.instantiate(&compiled)?;
        self.set_current(instance.map(|id| id.name().to_string()), inst);
        Ok(())
    }

    /// The instance a directive refers to: a named one, or the current one.
    fn instance(&self, id: Option<Id<'_>>) -> Result<Instance> {
        match id {
            Some(id) => self
                .instances
                .get(id.name())
                .copied()
                .ok_or_else(|| anyhow!("no instance named ${} (did it fail to instantiate?)", id.name())),
            None => self.current.ok_or_else(|| anyhow!("no current instance (the last module failed to instantiate)")),
        }
    }

    fn register(&mut self, name: &str, module: Option<Id<'_>>) -> Result<()> {
        let instance = self.instance(module)?;
        self.linker
            .instance(&mut self.store, name, instance)
            .with_context(|| format!("failed to register the instance as {name:?}"))?;
        Ok(())
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, ExecError> {
        let instance = self.instance(invoke.module).map_err(ExecError::Setup)?;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| ExecError::Setup(anyhow!("no exported function named {:?}", invoke.name)))?;
        let args = invoke.args.iter().map(values::arg).collect::<Result<Vec<_>>>().map_err(ExecError::Setup)?;
        let ty = func.ty(&self.store);
        let mut results = vec![Val::I32(0); ty.results().len()];
        func.call(&mut self.store, &args, &mut results)
            .with_context(|| format!("calling {:?} failed", invoke.name))
            .map_err(ExecError::Run)?;
        Ok(results)
    }

    fn execute(&mut self, exec: WastExecute<'_>, text: &str) -> Result<Vec<Val>, ExecError> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(wat) => {
                let mut module = QuoteWat::Wat(wat);
                let compiled = self.compile(&mut module, text).map_err(ExecError::Setup)?;
                // The instance is not kept: these modules are expected to fail to instantiate.
                self.instantiate(&compiled).map_err(ExecError::Run)?;
                Ok(Vec::new())
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module).map_err(ExecError::Setup)?;
                let g = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| ExecError::Setup(anyhow!("no exported global named {global:?}")))?;
                Ok(vec![g.get(&mut self.store)])
            }
        }
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, expected: &[WastRet<'_>], text: &str) -> Result<()> {
        let actual = self.execute(exec, text).map_err(ExecError::into_error)?;
        if actual.len() != expected.len() {
            let shown: Vec<_> = actual.iter().map(values::display).collect();
            bail!("expected {} results, got {}: [{}]", expected.len(), actual.len(), shown.join(", "));
        }
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            values::check(a, e).with_context(|| format!("result {i} is wrong"))?;
        }
        Ok(())
    }

    fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str, text: &str) -> Result<()> {
        let result = self.execute(exec, text).map(drop);
        expect_trap(result, message)
    }

    /// `assert_invalid` / `assert_malformed`: the module must be rejected, either by the text
    /// encoder (for text that is malformed as text) or by weld.
    fn assert_rejected(&mut self, module: &mut QuoteWat<'_>, message: &str, what: &str) -> Result<()> {
        if matches!(module, QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..)) {
            bail!("components are not supported by the wast runner yet");
        }
        let bytes = match module.encode() {
            Ok(bytes) => bytes,
            Err(e) => {
                log::debug!("rejected by the text encoder (expected {message:?}): {e}");
                return Ok(());
            }
        };
        match Module::from_binary(&self.engine, &bytes) {
            Ok(_) => bail!("expected the module to be {what} ({message:?}), but it compiled"),
            Err(e) => {
                log::debug!("rejected as expected ({message:?}): {e:#}");
                Ok(())
            }
        }
    }

    fn assert_unlinkable(&mut self, module: Wat<'_>, message: &str, text: &str) -> Result<()> {
        let mut module = QuoteWat::Wat(module);
        let compiled = self.compile(&mut module, text)?;
        match self.linker.instantiate(&mut self.store, &compiled) {
            Ok(_) => bail!("expected the module to fail to link ({message:?}), but it instantiated"),
            Err(e) => {
                log::debug!("failed to link as expected ({message:?}): {e:#}");
                Ok(())
            }
        }
    }
}

/// Checks that running something trapped with (a message matching) `expected`.
fn expect_trap(result: Result<(), ExecError>, expected: &str) -> Result<()> {
    match result {
        Ok(()) => bail!("expected a trap ({expected:?}), but it returned normally"),
        Err(ExecError::Setup(e)) => Err(e.context(format!("expected a trap ({expected:?}) but could not run"))),
        Err(ExecError::Run(e)) => {
            if trap_matches(&e, expected) {
                Ok(())
            } else {
                Err(e.context(format!("expected a trap with message {expected:?}, got a different error")))
            }
        }
    }
}

/// Trap messages that mean the same thing: the spec interpreter's wording on the left, other
/// acceptable wordings on the right.
const TRAP_ALIASES: &[(&str, &[&str])] = &[
    // The spec distinguishes an index past the table's end from a null entry; engines may not.
    ("uninitialized element", &["undefined element"]),
    ("undefined element", &["uninitialized element"]),
    ("call stack exhausted", &["stack overflow"]),
];

/// Does the error (anywhere in its chain) carry the expected trap message?
///
/// The spec interpreter sometimes appends an index to the message (`uninitialized element 2`);
/// an error carrying the message without it matches too.
fn trap_matches(err: &Error, expected: &str) -> bool {
    let text = format!("{err:?}");
    let base = match expected.rsplit_once(' ') {
        Some((base, n)) if n.parse::<u64>().is_ok() => base,
        _ => expected,
    };
    if text.contains(expected) || text.contains(base) {
        return true;
    }
    TRAP_ALIASES.iter().filter(|(spec, _)| base == *spec).any(|(_, others)| others.iter().any(|o| text.contains(o)))
}
