//! Executes the directives of one parsed script against one store.
//!
//! The [`Context`] holds the per-file state: the store, a linker preloaded with `spectest` and
//! every `register`ed instance, a component linker, the current (most recent) instance, named
//! instances and named module and component definitions. An instance is a core module's or a
//! component's; directives on component instances go through [`crate::component`].
//! [`run_script`] drives it, one directive at a time, catching errors and panics so that each
//! directive's outcome is recorded independently.
//!
//! It deliberately knows nothing about output formats or baselines; it only fills a
//! [`FileReport`].

use crate::exec_error::ExecError;
use crate::panics::panic_message;
use crate::report::{Failure, FileReport, elide_lines};
use crate::{component, values};
use anyhow::{Context as _, Error, Result, anyhow, bail};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use wast::token::{Id, Span};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, WastRet, Wat};
use weld::component::{Component, Instance as ComponentInstance, Linker as ComponentLinker, Val as ComponentVal};
use weld::{Engine, Instance, Linker, Module, Store, Val};

/// What running a directive produced.
enum Outcome {
    /// An assertion: counts as one pass or one failure.
    Assertion(Result<()>),
    /// A plain step (`register`, `invoke`, ...): only a failure is reported.
    Step(Result<()>),
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
                report.failures.push(Failure { line, col, kind: kind_of(d, text), message: message.clone() });
            }
            return report;
        }
    };
    for directive in script.directives {
        let (line, col) = linecol(directive.span(), text);
        let kind = kind_of(&directive, text);
        log::debug!("{}:{line}:{col}: {kind}", path.display());
        let outcome = catch_unwind(AssertUnwindSafe(|| cx.run(directive, text)))
            .unwrap_or_else(|p| Outcome::Assertion(Err(anyhow!("panicked: {}", panic_message(&*p)))));
        match outcome {
            Outcome::Assertion(Ok(())) => report.passed += 1,
            Outcome::Step(Ok(())) => {}
            Outcome::Assertion(Err(e)) | Outcome::Step(Err(e)) => {
                let message = elide_lines(&format!("{e:#}"), 20);
                log::debug!("{}:{line}:{col}: {kind} failed: {message}", path.display());
                report.failures.push(Failure { line, col, kind, message });
            }
        }
    }
    report
}

fn linecol(span: Span, text: &str) -> (u32, u32) {
    let (line, col) = span.linecol_in(text);
    (line as u32 + 1, col as u32 + 1)
}

fn kind_of(d: &WastDirective<'_>, text: &str) -> &'static str {
    match d {
        WastDirective::Module(m) if is_component(m) => "component",
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(m) if is_component(m) => "component definition",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { span, .. } if names_component(*span, text) => "component instance",
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

/// An instance a directive can refer to: a core module's or a component's.
#[derive(Clone, Copy)]
enum AnyInstance {
    Core(Instance),
    Component(ComponentInstance),
}

/// A compiled script module or component.
enum Compiled {
    Module(Module),
    Component(Component),
}

/// What running an action returned: core values, or the result of a component function.
enum Results {
    Core(Vec<Val>),
    Component(Vec<ComponentVal>),
}

/// Is this script module a component?
fn is_component(module: &QuoteWat<'_>) -> bool {
    matches!(module, QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..))
}

/// Does the error say that weld lacks support for something, or that the engine does not enable
/// a proposal or feature the component uses? Such an error is no evidence that a component is
/// invalid or unlinkable.
fn weld_lacks_support(e: &Error) -> bool {
    const PHRASES: &[&str] = &[
        "not supported",
        "does not support",
        "unsupported",
        // wasmparser's errors for proposals and component-model features that are off.
        "proposal not enabled",
        "feature is not active",
        "feature not enabled",
        "requires the component model",
        "require the component model",
    ];
    let text = format!("{e:#}");
    PHRASES.iter().any(|s| text.contains(s))
}

/// The per-file state.
struct Context {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// Instantiates components; it defines nothing yet, so only components without imports
    /// instantiate.
    component_linker: ComponentLinker<()>,
    /// The most recently instantiated module or component; `None` after one failed to
    /// instantiate, so that later directives do not silently run against an older instance.
    current: Option<AnyInstance>,
    instances: HashMap<String, AnyInstance>,
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
    component_definitions: HashMap<String, Component>,
    last_component_definition: Option<Component>,
    /// Why each named component definition that failed to compile failed.
    failed_component_definitions: HashMap<String, String>,
    /// Why the last component failed to instantiate, if it was the last module or component
    /// that a directive tried to instantiate.
    component_failure: Option<String>,
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
            component_linker: ComponentLinker::new(engine),
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            component_definitions: HashMap::new(),
            last_component_definition: None,
            failed_component_definitions: HashMap::new(),
            component_failure: None,
        }
    }

    fn run(&mut self, directive: WastDirective<'_>, text: &str) -> Outcome {
        use Outcome::{Assertion, Step};
        match directive {
            WastDirective::Module(mut module) => Assertion(self.module(&mut module, text)),
            WastDirective::ModuleDefinition(mut module) => Assertion(self.definition(&mut module, text)),
            WastDirective::ModuleInstance { instance, module, span } => {
                Assertion(self.module_instance(instance, module, names_component(span, text)))
            }
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
            WastDirective::AssertException { exec, .. } => Assertion(self.assert_exception(exec, text)),
            WastDirective::AssertSuspension { .. } => Assertion(Err(anyhow!("stack switching is not supported"))),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => Step(Err(anyhow!("threads are not supported"))),
        }
    }

    /// Encodes a script module or component to a binary.
    fn encode(module: &mut QuoteWat<'_>, text: &str) -> Result<Vec<u8>> {
        let quoted = matches!(module, QuoteWat::QuoteModule(..) | QuoteWat::QuoteComponent(..));
        let what = if is_component(module) { "component" } else { "module" };
        module.encode().map_err(|mut e| {
            // Spans of quoted modules point into the quoted text, not the file.
            if !quoted {
                e.set_text(text);
            }
            anyhow!("{e}").context(format!("the {what}'s text failed to encode"))
        })
    }

    /// Compiles a binary module, or component if `component`.
    fn compile_binary(&self, bytes: &[u8], component: bool) -> Result<Compiled> {
        if component {
            Component::from_binary(&self.engine, bytes)
                .map(Compiled::Component)
                .context("the component failed to compile")
        } else {
            Module::from_binary(&self.engine, bytes).map(Compiled::Module).context("the module failed to compile")
        }
    }

    /// Encodes and compiles a script module or component.
    fn compile(&mut self, module: &mut QuoteWat<'_>, text: &str) -> Result<Compiled> {
        let component = is_component(module);
        let bytes = Self::encode(module, text)?;
        self.compile_binary(&bytes, component)
    }

    fn instantiate(&mut self, compiled: &Compiled) -> Result<AnyInstance> {
        match compiled {
            Compiled::Module(module) => self
                .linker
                .instantiate(&mut self.store, module)
                .map(AnyInstance::Core)
                .context("the module failed to instantiate"),
            Compiled::Component(component) => self
                .component_linker
                .instantiate(&mut self.store, component)
                .map(AnyInstance::Component)
                .context("the component failed to instantiate"),
        }
    }

    fn module(&mut self, module: &mut QuoteWat<'_>, text: &str) -> Result<()> {
        self.current = None;
        let component = is_component(module);
        let name = module.name().map(|id| id.name().to_string());
        let instance = self.compile(module, text).and_then(|compiled| self.instantiate(&compiled));
        self.set_current(name, instance, component)
    }

    /// Makes the outcome of instantiating a module (or a component, if `component`) the
    /// current instance, and records it under `name`.
    fn set_current(&mut self, name: Option<String>, instance: Result<AnyInstance>, component: bool) -> Result<()> {
        self.component_failure = None;
        let instance = match instance {
            Ok(instance) => instance,
            Err(e) => {
                if component {
                    self.component_failure = Some(first_line(&e));
                }
                return Err(e);
            }
        };
        if let Some(name) = name {
            self.instances.insert(name, instance);
        }
        self.current = Some(instance);
        Ok(())
    }

    fn definition(&mut self, module: &mut QuoteWat<'_>, text: &str) -> Result<()> {
        if is_component(module) {
            self.last_component_definition = None;
        } else {
            self.last_definition = None;
        }
        let name = module.name().map(|id| id.name().to_string());
        let compiled = match self.compile(module, text) {
            Ok(compiled) => compiled,
            Err(e) => {
                if let Some(name) = name.filter(|_| is_component(module)) {
                    self.component_definitions.remove(&name);
                    self.failed_component_definitions.insert(name, first_line(&e));
                }
                return Err(e);
            }
        };
        match compiled {
            Compiled::Module(compiled) => {
                if let Some(name) = name {
                    self.definitions.insert(name, compiled.clone());
                }
                self.last_definition = Some(compiled);
            }
            Compiled::Component(compiled) => {
                if let Some(name) = name {
                    self.failed_component_definitions.remove(&name);
                    self.component_definitions.insert(name, compiled.clone());
                }
                self.last_component_definition = Some(compiled);
            }
        }
        Ok(())
    }

    /// `(module instance $i $M)`, or `(component instance $i $C)` if `component`.
    fn module_instance(&mut self, instance: Option<Id<'_>>, module: Option<Id<'_>>, component: bool) -> Result<()> {
        self.current = None;
        let inst = self.find_definition(module, component).and_then(|compiled| self.instantiate(&compiled));
        self.set_current(instance.map(|id| id.name().to_string()), inst, component)
    }

    /// The definition `(module instance)` or `(component instance)` names, or the last one.
    fn find_definition(&self, name: Option<Id<'_>>, component: bool) -> Result<Compiled> {
        Ok(match (name, component) {
            (Some(id), false) => Compiled::Module(
                self.definitions
                    .get(id.name())
                    .cloned()
                    .ok_or_else(|| anyhow!("no module definition named ${}", id.name()))?,
            ),
            (Some(id), true) => match self.component_definitions.get(id.name()) {
                Some(c) => Compiled::Component(c.clone()),
                None => match self.failed_component_definitions.get(id.name()) {
                    Some(reason) => bail!("the component definition ${} failed: {reason}", id.name()),
                    None => bail!("no component definition named ${}", id.name()),
                },
            },
            (None, false) => Compiled::Module(
                self.last_definition.clone().ok_or_else(|| anyhow!("no module definition to instantiate"))?,
            ),
            (None, true) => Compiled::Component(
                self.last_component_definition
                    .clone()
                    .ok_or_else(|| anyhow!("no component definition to instantiate"))?,
            ),
        })
    }

    /// The instance a directive refers to: a named one, or the current one.
    fn instance(&self, id: Option<Id<'_>>) -> Result<AnyInstance> {
        match id {
            Some(id) => self
                .instances
                .get(id.name())
                .copied()
                .ok_or_else(|| anyhow!("no instance named ${} (did it fail to instantiate?)", id.name())),
            None => self.current.ok_or_else(|| match &self.component_failure {
                Some(reason) => anyhow!("no current instance (the last component failed: {reason})"),
                None => anyhow!("no current instance (the last module failed to instantiate)"),
            }),
        }
    }

    /// Like [`Context::instance`], for directives that only apply to core instances.
    fn core_instance(&self, id: Option<Id<'_>>, what: &str) -> Result<Instance> {
        match self.instance(id)? {
            AnyInstance::Core(instance) => Ok(instance),
            AnyInstance::Component(_) => bail!("{what} a component instance is not supported"),
        }
    }

    fn register(&mut self, name: &str, module: Option<Id<'_>>) -> Result<()> {
        let instance = self.core_instance(module, "registering")?;
        self.linker
            .instance(&mut self.store, name, instance)
            .with_context(|| format!("failed to register the instance as {name:?}"))?;
        Ok(())
    }

    /// `assert_exception`: the action must end with a wasm exception that nothing caught.
    fn assert_exception(&mut self, exec: WastExecute<'_>, text: &str) -> Result<()> {
        match self.execute(exec, text) {
            Ok(_) => bail!("expected an uncaught exception, but the action completed"),
            Err(ExecError::Run(e)) if e.downcast_ref::<weld::ThrownException>().is_some() => Ok(()),
            Err(e) => Err(e.into_error().context("expected an uncaught exception")),
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Results, ExecError> {
        let instance = match self.instance(invoke.module).map_err(ExecError::Setup)? {
            AnyInstance::Core(instance) => instance,
            AnyInstance::Component(instance) => {
                return component::invoke(&mut self.store, instance, invoke).map(Results::Component);
            }
        };
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| ExecError::Setup(anyhow!("no exported function named {:?}", invoke.name)))?;
        let args = invoke.args.iter().map(values::arg).collect::<Result<Vec<_>>>().map_err(ExecError::Setup)?;
        let ty = func.ty(&self.store);
        let mut results = vec![Val::I32(0); ty.results().len()];
        func.call(&mut self.store, &args, &mut results)
            .with_context(|| format!("calling {:?} failed", invoke.name))
            .map_err(ExecError::Run)?;
        Ok(Results::Core(results))
    }

    fn execute(&mut self, exec: WastExecute<'_>, text: &str) -> Result<Results, ExecError> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(wat) => {
                let mut module = QuoteWat::Wat(wat);
                let compiled = self.compile(&mut module, text).map_err(ExecError::Setup)?;
                // The instance is not kept: these modules are expected to fail to instantiate.
                self.instantiate(&compiled).map_err(ExecError::Run)?;
                Ok(Results::Core(Vec::new()))
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.core_instance(module, "`get` on").map_err(ExecError::Setup)?;
                let g = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| ExecError::Setup(anyhow!("no exported global named {global:?}")))?;
                Ok(Results::Core(vec![g.get(&mut self.store)]))
            }
        }
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, expected: &[WastRet<'_>], text: &str) -> Result<()> {
        match self.execute(exec, text).map_err(ExecError::into_error)? {
            Results::Core(actual) => check_all(&actual, expected, values::display, values::check),
            Results::Component(actual) => check_all(&actual, expected, component::display, component::check),
        }
    }

    fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str, text: &str) -> Result<()> {
        let result = self.execute(exec, text).map(drop);
        expect_trap(result, message)
    }

    /// `assert_invalid` / `assert_malformed`: the module or component must be rejected, either
    /// by the text encoder (for text that is malformed as text) or by weld. A component that
    /// weld rejects only because it does not support something in it does not count.
    fn assert_rejected(&mut self, module: &mut QuoteWat<'_>, message: &str, what: &str) -> Result<()> {
        let component = is_component(module);
        let kind = if component { "component" } else { "module" };
        let bytes = match module.encode() {
            Ok(bytes) => bytes,
            Err(e) => {
                log::debug!("rejected by the text encoder (expected {message:?}): {e}");
                return Ok(());
            }
        };
        match self.compile_binary(&bytes, component) {
            Ok(_) => bail!("expected the {kind} to be {what} ({message:?}), but it compiled"),
            Err(e) if component && weld_lacks_support(&e) => Err(e.context(format!(
                "expected the component to be {what} ({message:?}); weld rejected it, but only for \
                 something it does not support yet"
            ))),
            Err(e) => {
                log::debug!("rejected as expected ({message:?}): {e:#}");
                Ok(())
            }
        }
    }

    fn assert_unlinkable(&mut self, module: Wat<'_>, message: &str, text: &str) -> Result<()> {
        let mut module = QuoteWat::Wat(module);
        let component = is_component(&module);
        let compiled = self.compile(&mut module, text)?;
        match self.instantiate(&compiled) {
            Ok(_) => {
                let kind = if component { "component" } else { "module" };
                bail!("expected the {kind} to fail to link ({message:?}), but it instantiated")
            }
            Err(e) if component && weld_lacks_support(&e) => Err(e.context(format!(
                "expected the component to fail to link ({message:?}); it did, but only for something weld \
                 does not support yet"
            ))),
            Err(e) => {
                log::debug!("failed to link as expected ({message:?}): {e:#}");
                Ok(())
            }
        }
    }
}

/// The first line of an error's message (with its causes).
fn first_line(e: &Error) -> String {
    format!("{e:#}").lines().next().unwrap_or_default().to_string()
}

/// Does the directive keyword at `span` say `component` (rather than `module`)?
fn names_component(span: Span, text: &str) -> bool {
    text.get(span.offset()..).is_some_and(|rest| rest.starts_with("component"))
}

/// Checks every result against its expected value; `display` and `check` are the value
/// kind's.
fn check_all<V>(
    actual: &[V],
    expected: &[WastRet<'_>],
    display: fn(&V) -> String,
    check: fn(&V, &WastRet<'_>) -> Result<()>,
) -> Result<()> {
    if actual.len() != expected.len() {
        let shown: Vec<_> = actual.iter().map(display).collect();
        bail!("expected {} results, got {}: [{}]", expected.len(), actual.len(), shown.join(", "));
    }
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        check(a, e).with_context(|| format!("result {i} is wrong"))?;
    }
    Ok(())
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
    // Component tests write Wasmtime's wording of `unreachable`.
    ("wasm `unreachable` instruction executed", &["unreachable"]),
];

/// Does the error (anywhere in its chain) carry the expected trap message?
///
/// The spec interpreter sometimes appends an index to the message (`uninitialized element 2`);
/// an error carrying the message without it matches too.
///
/// Some component tests write the message as `wasm trap: <message>`, the way some engines
/// print traps: that form matches an error that is a wasm trap (a [`weld::Trap`] in its chain)
/// carrying `<message>`.
fn trap_matches(err: &Error, expected: &str) -> bool {
    if let Some(message) = expected.strip_prefix("wasm trap: ") {
        return err.chain().any(|e| e.downcast_ref::<weld::Trap>().is_some()) && trap_matches(err, message);
    }
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
