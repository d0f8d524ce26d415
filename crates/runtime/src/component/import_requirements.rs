//! What a component's imports require of a [`Linker`], read from the import types
//! (`Component::component_type`): checking that a linker's definitions satisfy them, with
//! errors that name the missing item's full path (`wasi:io/streams@0.2.0#[method]output-stream.write`),
//! its type, and the call that would define it; and defining stand-ins for the imports a
//! linker lacks (`define_unknown_imports_as_traps`, `define_unknown_imports_as_default_values`).
//!
//! Type imports need no definition: a value type (`(type (eq ...))`) is the component's own
//! business, and an instance that exports only such types is satisfied by nothing. What needs
//! one: functions, `(sub resource)` types, core modules, components, and instances that
//! contain any of those. The check does not compare function types (`func_wrap` functions are
//! checked against the import's type when they are lowered, in `instantiate.rs`).

use super::compiled::Component;
use super::host::Definition;
use super::item_types::ComponentItem;
use super::linker::{Linker, LinkerInstance};
use super::resources::ResourceType;
use super::values::Val;
use anyhow::{Context, Result, bail};
use std::collections::HashSet;
use std::fmt::Write;

/// Checks that `def`, what a linker defines at `path` (the names from the root), satisfies the
/// import `item`: present where needed, of the right kind, and for an instance, every item in
/// it that needs a definition.
///
/// `known` holds the resource types met in earlier imports (call this for a component's
/// imports in order, with one set): a resource met again is an alias (`(eq ...)`, as an
/// interface's `use` of another's resource), already bound, and needs no definition there.
pub(crate) fn check_definition<T>(
    path: &[&str],
    item: &ComponentItem,
    def: Option<&Definition<T>>,
    known: &mut HashSet<ResourceType>,
) -> Result<()> {
    if let ComponentItem::Resource(r) = item
        && !known.insert(*r)
        && def.is_none()
    {
        return Ok(());
    }
    let full = path.join("#");
    let (what, define) = match item {
        ComponentItem::Type(_) | ComponentItem::CoreFunc(_) => return Ok(()),
        ComponentItem::ComponentInstance(instance) => {
            let map = match def {
                _ if !item.requires_definition() => return Ok(()),
                Some(Definition::Instance(map)) => Some(map),
                Some(other) => bail!("import `{full}` must be an instance, but it is a {}", other.kind()),
                None => None,
            };
            for export in instance.exports.iter() {
                let mut inner = path.to_vec();
                inner.push(&export.name);
                check_definition(&inner, &export.item, map.and_then(|m| m.get(&export.name)), known)?;
            }
            return Ok(());
        }
        ComponentItem::ComponentFunc(f) => (format!("a function `{f}`"), "func_wrap"),
        ComponentItem::Resource(_) => ("a resource type".to_string(), "resource"),
        ComponentItem::Module(_) => ("a core module".to_string(), "module"),
        ComponentItem::Component(_) => ("a component".to_string(), "component"),
    };
    let kind_matches = |d: &Definition<T>| {
        matches!(
            (item, d),
            (ComponentItem::ComponentFunc(_), Definition::Func(_))
                | (ComponentItem::Resource(_), Definition::Resource(..))
                | (ComponentItem::Module(_), Definition::Module(_))
                | (ComponentItem::Component(_), Definition::Component(_))
        )
    };
    match def {
        Some(d) if kind_matches(d) => Ok(()),
        Some(d) => bail!("import `{full}` must be {what}, but the linker defines a {}", d.kind()),
        None => {
            let (name, parents) = path.split_last().expect("an import path has a name");
            let mut call = String::from("linker");
            match parents.split_first() {
                None => call.push_str(".root()"),
                Some((first, rest)) => {
                    let _ = write!(call, ".instance(\"{first}\")?");
                    for p in rest {
                        let _ = write!(call, ".instance(\"{p}\")?");
                    }
                }
            }
            let stand_in = match item {
                ComponentItem::ComponentFunc(_) | ComponentItem::Resource(_) => {
                    ", or let `Linker::define_unknown_imports_as_traps` stand in for it"
                }
                _ => "",
            };
            bail!(
                "import `{full}` has not been defined: the component expects {what}; define it with \
                 `{call}.{define}(\"{name}\", ...)`{stand_in}"
            )
        }
    }
}

/// What a stand-in for an undefined function does when called.
#[derive(Clone, Copy)]
enum StandIn {
    /// Fails, naming the import.
    Trap,
    /// Returns the default value of its result type.
    Default,
}

/// The resource type of a `(sub resource)` import that a stand-in defines.
struct UnknownResource;

/// Defines a stand-in for `item`, imported at `path` (the names from the root, the last one
/// being `name` in `linker`), unless the linker already defines it; an instance's items are
/// stood in for one by one.
fn stand_in<T: 'static>(
    linker: &mut LinkerInstance<'_, T>,
    path: &[&str],
    item: &ComponentItem,
    how: StandIn,
) -> Result<()> {
    let (name, full) = (*path.last().expect("an import path has a name"), path.join("#"));
    match item {
        ComponentItem::ComponentInstance(instance) => {
            if !item.requires_definition()
                || matches!(linker.get(name), Some(d) if !matches!(d, Definition::Instance(_)))
            {
                return Ok(());
            }
            // Into the instance the linker already has for a compatible version, if any.
            let mut inner = linker.instance(&linker.defined_name(name))?;
            for export in instance.exports.iter() {
                let mut child = path.to_vec();
                child.push(&export.name);
                stand_in(&mut inner, &child, &export.item, how)?;
            }
            Ok(())
        }
        _ if linker.get(name).is_some() => Ok(()),
        ComponentItem::ComponentFunc(f) => match how {
            StandIn::Trap => {
                linker.func_new(name, move |_, _, _, _| bail!("unknown import `{full}` has not been defined"))
            }
            StandIn::Default => {
                let result = f.results().next();
                linker.func_new(name, move |_, _, _, results| {
                    if let (Some(ty), Some(slot)) = (&result, results.first_mut()) {
                        *slot = Val::default_for(ty)
                            .with_context(|| format!("the stand-in for import `{full}` has no value to return"))?;
                    }
                    Ok(())
                })
            }
        },
        ComponentItem::Resource(_) => linker.resource(name, ResourceType::host::<UnknownResource>(), |_, _| Ok(())),
        ComponentItem::Module(_) | ComponentItem::Component(_) => {
            bail!("import `{full}` is a core module or component, which cannot be stood in for")
        }
        ComponentItem::Type(_) | ComponentItem::CoreFunc(_) => Ok(()),
    }
}

impl<T: 'static> Linker<T> {
    /// The imports of `component` that this linker does not satisfy, each with its name and
    /// why (the first item in it that is missing or of the wrong kind); empty when it can be
    /// instantiated. Unlike `instantiate_pre`, which stops at the first, this lists them all,
    /// for messages that tell a user everything that is missing at once.
    pub fn unsatisfied_imports(&self, component: &Component) -> Vec<(String, anyhow::Error)> {
        let ty = component.component_type();
        let mut known = HashSet::new();
        ty.imports(component.engine())
            .filter_map(|(name, import)| {
                check_definition(&[name], &import.ty, self.definition(name), &mut known)
                    .err()
                    .map(|e| (name.to_string(), e))
            })
            .collect()
    }
}

impl<T: 'static> Linker<T> {
    fn define_stand_ins(&mut self, component: &Component, how: StandIn) -> Result<()> {
        let ty = component.component_type();
        for (name, import) in ty.imports(component.engine()) {
            stand_in(&mut self.root(), &[name], &import.ty, how)?;
        }
        Ok(())
    }

    /// Defines every import of `component` that this linker does not define with a stand-in,
    /// so that the component instantiates: a function fails when called with an error naming
    /// the import ("unknown import `wasi:cli/stdout@0.2.0#get-stdout` has not been defined"),
    /// and a `(sub resource)` type becomes a host resource type (one Rust type for all such
    /// stand-ins). Type imports need nothing; a core module or component import cannot be
    /// stood in for and is an error.
    #[inline]
    pub fn define_unknown_imports_as_traps(&mut self, component: &Component) -> Result<()> {
        self.define_stand_ins(component, StandIn::Trap)
    }

    /// Like [`Linker::define_unknown_imports_as_traps`], but each stand-in function ignores its
    /// arguments and returns the default value of its result type (`Val::default_for`: zero,
    /// `false`, `""`, an empty list, the first case of a variant or enum, `none`, `ok` of the
    /// default...). A result that contains a resource handle has no default: such a function
    /// fails when called, naming the import.
    #[inline]
    pub fn define_unknown_imports_as_default_values(&mut self, component: &Component) -> Result<()> {
        self.define_stand_ins(component, StandIn::Default)
    }
}
