//! The types of a component's imports and exports as an embedder inspects them
//! ([`Component::component_type`](super::Component::component_type), a component host
//! function's type): [`Component`], [`ComponentInstance`], [`ComponentFunc`], [`Module`] and
//! [`ComponentItem`], with Wasmtime's names and shapes.
//!
//! It is an owned tree built once from the validator's type information (`build`), so that it
//! can be walked with no borrow of the component. Value types are weld's [`Type`] (environ's
//! `InterfaceType`), not Wasmtime's handle-based `Type`; a resource type is numbered in the
//! order the tree meets it ([`ResourceType`] of an uninstantiated component). Items whose types
//! weld cannot run yet (async functions, `future`, `stream`, `error-context`, values) are left
//! out of the tree rather than described wrongly. The `implements` and `external_id`
//! annotations are copied from the binary.

use super::resources::ResourceType;
use crate::{Engine, ExternType};
use std::sync::Arc;
use weld_environ::component::convert::{TypeConverter, core_module_type};
use weld_environ::component::info::CoreEntityType;
use weld_environ::component::{FuncType, InterfaceType as Type, ResourceId};
use weld_environ::wasmparser::component_types::{
    ComponentAnyTypeId, ComponentEntityType, ComponentItem as WasmparserItem,
};

/// A named item with its type and annotations, as a component or instance imports or exports it.
#[derive(Clone, Debug)]
pub(crate) struct Named {
    pub(crate) name: String,
    pub(crate) item: ComponentItem,
    implements: Option<String>,
    external_id: Option<String>,
}

/// The type of a component: its imports and exports.
#[derive(Clone, Debug)]
pub struct Component {
    imports: Arc<[Named]>,
    exports: Arc<[Named]>,
}

/// The type of a component instance: its exports.
#[derive(Clone, Debug)]
pub struct ComponentInstance {
    pub(crate) exports: Arc<[Named]>,
}

/// The type of a component function.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentFunc {
    ty: Arc<FuncType>,
}

/// The type of a core module: its imports and exports.
#[derive(Clone, Debug)]
pub struct Module {
    imports: Arc<[((String, String), ExternType)]>,
    exports: Arc<[(String, ExternType)]>,
}

/// The type of an item a component imports or exports.
#[derive(Clone, Debug)]
pub enum ComponentItem {
    /// A component function.
    ComponentFunc(ComponentFunc),
    /// A core function.
    CoreFunc(crate::FuncType),
    /// A core module.
    Module(Module),
    /// A component.
    Component(Component),
    /// A component instance.
    ComponentInstance(ComponentInstance),
    /// A value type.
    Type(Type),
    /// A resource type.
    Resource(ResourceType),
}

impl ComponentItem {
    /// Whether a linker must define this item for a component that imports it to instantiate:
    /// everything but value types, and instances that export nothing else (as wit-component
    /// imports the interfaces whose types a world uses). A weld addition to Wasmtime's API.
    pub fn requires_definition(&self) -> bool {
        match self {
            ComponentItem::Type(_) | ComponentItem::CoreFunc(_) => false,
            ComponentItem::ComponentInstance(instance) => {
                instance.exports.iter().any(|export| export.item.requires_definition())
            }
            ComponentItem::ComponentFunc(_)
            | ComponentItem::Resource(_)
            | ComponentItem::Module(_)
            | ComponentItem::Component(_) => true,
        }
    }
}

/// An import or export of a [`Component`] or [`ComponentInstance`]: its type and the
/// annotations the binary gives it.
#[derive(Clone, Debug)]
pub struct ComponentExtern<'a> {
    /// The item's type.
    pub ty: ComponentItem,
    /// The `(implements "...")` annotation, if any.
    pub implements: Option<&'a str>,
    /// The `(external-id "...")` annotation, if any.
    pub external_id: Option<&'a str>,
}

impl Named {
    #[inline]
    fn as_extern(&self) -> (&str, ComponentExtern<'_>) {
        let ext = ComponentExtern {
            ty: self.item.clone(),
            implements: self.implements.as_deref(),
            external_id: self.external_id.as_deref(),
        };
        (&self.name, ext)
    }
}

fn find<'a>(items: &'a [Named], name: &str) -> Option<ComponentExtern<'a>> {
    items.iter().find(|n| n.name == name).map(|n| n.as_extern().1)
}

impl Component {
    /// The import `name`, if the component has it. The engine is unused (Wasmtime's shape).
    #[inline]
    pub fn get_import<'a>(&'a self, engine: &'a Engine, name: &str) -> Option<ComponentExtern<'a>> {
        let _ = engine;
        find(&self.imports, name)
    }

    /// The imports, in order.
    #[inline]
    pub fn imports<'a>(
        &'a self,
        engine: &'a Engine,
    ) -> impl ExactSizeIterator<Item = (&'a str, ComponentExtern<'a>)> + 'a {
        let _ = engine;
        self.imports.iter().map(Named::as_extern)
    }

    /// The export `name`, if the component has it.
    #[inline]
    pub fn get_export<'a>(&'a self, engine: &'a Engine, name: &str) -> Option<ComponentExtern<'a>> {
        let _ = engine;
        find(&self.exports, name)
    }

    /// The exports, in order.
    #[inline]
    pub fn exports<'a>(
        &'a self,
        engine: &'a Engine,
    ) -> impl ExactSizeIterator<Item = (&'a str, ComponentExtern<'a>)> + 'a {
        let _ = engine;
        self.exports.iter().map(Named::as_extern)
    }
}

impl ComponentInstance {
    /// The export `name`, if the instance has it.
    #[inline]
    pub fn get_export<'a>(&'a self, engine: &'a Engine, name: &str) -> Option<ComponentExtern<'a>> {
        let _ = engine;
        find(&self.exports, name)
    }

    /// The exports, in order.
    #[inline]
    pub fn exports<'a>(
        &'a self,
        engine: &'a Engine,
    ) -> impl ExactSizeIterator<Item = (&'a str, ComponentExtern<'a>)> + 'a {
        let _ = engine;
        self.exports.iter().map(Named::as_extern)
    }
}

impl ComponentFunc {
    /// Wraps weld's function type.
    #[inline]
    pub(crate) fn new(ty: FuncType) -> ComponentFunc {
        ComponentFunc { ty: Arc::new(ty) }
    }

    /// The parameters' names and types, in order.
    #[inline]
    pub fn params(&self) -> impl ExactSizeIterator<Item = (&str, Type)> + '_ {
        self.ty.params.iter().map(|(n, t)| (n.as_str(), t.clone()))
    }

    /// The result types (none or one).
    #[inline]
    pub fn results(&self) -> impl ExactSizeIterator<Item = Type> + '_ {
        self.ty.result.iter().cloned()
    }

    /// Whether the function is async: never, since weld runs only synchronous functions.
    #[inline]
    pub fn async_(&self) -> bool {
        false
    }

    /// The same type as weld's [`FuncType`], with its layout helpers.
    #[inline]
    pub fn func_type(&self) -> &FuncType {
        &self.ty
    }
}

impl std::fmt::Display for ComponentFunc {
    #[inline]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.ty.fmt(f)
    }
}

impl Module {
    /// The imports, in order: (module, name) and type.
    #[inline]
    pub fn imports<'a>(
        &'a self,
        engine: &'a Engine,
    ) -> impl ExactSizeIterator<Item = ((&'a str, &'a str), ExternType)> + 'a {
        let _ = engine;
        self.imports.iter().map(|((m, n), t)| ((m.as_str(), n.as_str()), t.clone()))
    }

    /// The exports, in order.
    #[inline]
    pub fn exports<'a>(&'a self, engine: &'a Engine) -> impl ExactSizeIterator<Item = (&'a str, ExternType)> + 'a {
        let _ = engine;
        self.exports.iter().map(|(n, t)| (n.as_str(), t.clone()))
    }
}

/// The embedder's type of a core item a component type names.
pub(crate) fn extern_type(ty: &CoreEntityType) -> ExternType {
    match ty {
        CoreEntityType::Func(f) => ExternType::Func(f.clone()),
        CoreEntityType::Table(t) => ExternType::Table(*t),
        CoreEntityType::Memory(m) => ExternType::Memory(*m),
        CoreEntityType::Global(g) => ExternType::Global(*g),
        CoreEntityType::Tag(f) => ExternType::Tag(crate::TagType::new(f.clone())),
    }
}

/// Builds the type of a component from the validator's view of it: `imports` and `exports`
/// are its top-level items in order.
pub(crate) fn build<'a>(
    conv: &mut TypeConverter<'_>,
    imports: impl Iterator<Item = (&'a str, &'a WasmparserItem)>,
    exports: impl Iterator<Item = (&'a str, &'a WasmparserItem)>,
) -> Component {
    let mut resources = Vec::new();
    let imports = named_items(conv, &mut resources, imports);
    let exports = named_items(conv, &mut resources, exports);
    Component { imports, exports }
}

/// The resources met so far, numbered in order. A resource is identified by its underlying
/// id, not by the alias through which an item names it, so that an interface's `use` of
/// another's resource (an `(eq ...)` export) is the same resource type.
type Resources = Vec<weld_environ::wasmparser::component_types::ResourceId>;

fn named_items<'a>(
    conv: &mut TypeConverter<'_>,
    resources: &mut Resources,
    items: impl Iterator<Item = (&'a str, &'a WasmparserItem)>,
) -> Arc<[Named]> {
    items
        .filter_map(|(name, item)| {
            Some(Named {
                name: name.to_string(),
                item: convert(conv, resources, &item.ty)?,
                implements: item.implements.clone(),
                external_id: item.external_id.clone(),
            })
        })
        .collect()
}

/// One item's type, or `None` for a type weld cannot represent.
fn convert(conv: &mut TypeConverter<'_>, resources: &mut Resources, ty: &ComponentEntityType) -> Option<ComponentItem> {
    let types = conv.types();
    Some(match ty {
        ComponentEntityType::Func(f) => ComponentItem::ComponentFunc(ComponentFunc::new(conv.func_type(*f).ok()?)),
        ComponentEntityType::Instance(i) => {
            let exports = types[*i].exports.iter().map(|(n, item)| (n.as_str(), item));
            ComponentItem::ComponentInstance(ComponentInstance { exports: named_items(conv, resources, exports) })
        }
        ComponentEntityType::Component(c) => {
            let ty = &types[*c];
            let imports = named_items(conv, resources, ty.imports.iter().map(|(n, item)| (n.as_str(), item)));
            let exports = named_items(conv, resources, ty.exports.iter().map(|(n, item)| (n.as_str(), item)));
            ComponentItem::Component(Component { imports, exports })
        }
        ComponentEntityType::Module(m) => {
            let ty = core_module_type(types, *m).ok()?;
            ComponentItem::Module(Module {
                imports: ty.imports.iter().map(|(m, n, t)| ((m.clone(), n.clone()), extern_type(t))).collect(),
                exports: ty.exports.iter().map(|(n, t)| (n.clone(), extern_type(t))).collect(),
            })
        }
        ComponentEntityType::Type { referenced, .. } => match referenced {
            ComponentAnyTypeId::Resource(r) => {
                let n = resources.iter().position(|x| *x == r.resource()).unwrap_or_else(|| {
                    resources.push(r.resource());
                    resources.len() - 1
                });
                ComponentItem::Resource(ResourceType::uninstantiated(ResourceId(n as u32)))
            }
            ComponentAnyTypeId::Defined(d) => {
                let ty = weld_environ::wasmparser::component_types::ComponentValType::Type(*d);
                ComponentItem::Type(conv.val_type(&ty).ok()?)
            }
            ComponentAnyTypeId::Func(f) => ComponentItem::ComponentFunc(ComponentFunc::new(conv.func_type(*f).ok()?)),
            ComponentAnyTypeId::Instance(i) => {
                return convert(conv, resources, &ComponentEntityType::Instance(*i));
            }
            ComponentAnyTypeId::Component(c) => {
                return convert(conv, resources, &ComponentEntityType::Component(*c));
            }
        },
        ComponentEntityType::Value(_) => return None,
    })
}
