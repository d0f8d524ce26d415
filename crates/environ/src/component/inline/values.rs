//! The inliner's values: what each index space of a component holds while the inliner runs it
//! (functions lifted or imported from the host, core instances that exist at run time or are
//! bags of exports, instances, component definitions closed over their outer scope, resource
//! types), and how items are found in them.
//!
//! Looking up and converting values is all it does: it records no initializer, converts no
//! type and decides nothing about fused calls; that is the inliner's (`inline`). It is apart
//! so that the inliner's run over a component's definitions reads as what it does with values,
//! and the vocabulary it does it with can be read on its own.

use crate::PrimaryMap;
use crate::component::info::{
    CoreDef, CoreExport, CoreItemDef, CoreModuleType, Export, ImportPath, LiftedFunc, ModuleRef, RuntimeInstanceIndex,
    RuntimeResourceIndex,
};
use crate::component::translate::{
    ComponentItem, LocalComponentIndex, LocalCoreFuncIndex, LocalCoreGlobalIndex, LocalCoreInstanceIndex,
    LocalCoreMemoryIndex, LocalCoreTableIndex, LocalCoreTagIndex, LocalFuncIndex, LocalInstanceIndex, LocalModuleIndex,
    LocalTypeIndex, StaticComponentIndex, StaticModuleIndex,
};
use crate::component::types::FuncType;
use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

crate::entity_index! {
    /// One of the binaries the inliner reads (see `InlineInput::sources`).
    pub struct SourceIndex;
}

impl SourceIndex {
    /// The binary of the root component.
    pub const ROOT: SourceIndex = SourceIndex(0);
}

#[derive(Clone, Debug)]
pub(super) enum FuncValue {
    Lifted(LiftedFunc),
    Import(ImportPath, FuncType),
}

impl FuncValue {
    pub(super) fn ty(&self) -> &FuncType {
        match self {
            FuncValue::Lifted(f) => &f.ty,
            FuncValue::Import(_, ty) => ty,
        }
    }
}

#[derive(Clone, Debug)]
pub(super) enum CoreInstanceValue {
    Runtime(RuntimeInstanceIndex),
    Bag(IndexMap<String, CoreItemDef>),
}

#[derive(Clone, Debug)]
pub(super) enum InstanceValue {
    Import(ImportPath),
    Bag(IndexMap<String, ItemValue>),
    /// An instance of a component the host provided for the named import: a bag whose
    /// items messages attribute to it.
    Provided {
        import: Rc<str>,
        exports: IndexMap<String, ItemValue>,
    },
}

/// Where the exports of a runtime core instance are known from.
#[derive(Clone, Debug)]
pub(super) enum InstanceExports {
    /// A module of the component.
    Static(StaticModuleIndex),
    /// A module of the host, through the type the component gave it.
    Imported(Arc<CoreModuleType>),
}

/// A component definition closed over the modules and components visible where it was defined.
#[derive(Clone, Debug)]
pub(super) struct ComponentValue {
    /// The binary it is defined in (an index into the inliner's sources).
    pub(super) source: SourceIndex,
    pub(super) index: StaticComponentIndex,
    pub(super) outer: Rc<OuterScope>,
}

/// What outer aliases can reach: modules and components of the enclosing components.
#[derive(Debug, Default)]
pub(super) struct OuterScope {
    pub(super) modules: PrimaryMap<LocalModuleIndex, ModuleRef>,
    pub(super) components: PrimaryMap<LocalComponentIndex, ComponentValue>,
    pub(super) parent: Option<Rc<OuterScope>>,
}

/// A type: resources are tracked, other types need nothing at run time.
#[derive(Clone, Copy, Debug)]
pub(super) enum TypeValue {
    Resource(RuntimeResourceIndex),
    Other,
}

#[derive(Clone, Debug)]
pub(super) enum ItemValue {
    Func(FuncValue),
    Instance(InstanceValue),
    Component(ComponentValue),
    Module(ModuleRef),
    Type(TypeValue),
    Value,
}

/// The values of one running component's index spaces.
#[derive(Default)]
pub(super) struct Scope {
    pub(super) modules: PrimaryMap<LocalModuleIndex, ModuleRef>,
    pub(super) core_instances: PrimaryMap<LocalCoreInstanceIndex, CoreInstanceValue>,
    pub(super) core_funcs: PrimaryMap<LocalCoreFuncIndex, CoreDef>,
    pub(super) core_memories: PrimaryMap<LocalCoreMemoryIndex, CoreExport>,
    pub(super) core_tables: PrimaryMap<LocalCoreTableIndex, CoreExport>,
    pub(super) core_globals: PrimaryMap<LocalCoreGlobalIndex, CoreExport>,
    pub(super) core_tags: PrimaryMap<LocalCoreTagIndex, CoreExport>,
    pub(super) funcs: PrimaryMap<LocalFuncIndex, FuncValue>,
    pub(super) instances: PrimaryMap<LocalInstanceIndex, InstanceValue>,
    pub(super) components: PrimaryMap<LocalComponentIndex, ComponentValue>,
    pub(super) types: PrimaryMap<LocalTypeIndex, TypeValue>,
}

/// What an export of the root component is for the host, or `None` for an item the host does
/// not use (a component, a type, a value).
pub(super) fn root_export(item: ItemValue) -> Result<Option<Export>> {
    Ok(Some(match item {
        ItemValue::Func(FuncValue::Lifted(f)) => Export::Func(f),
        ItemValue::Func(FuncValue::Import(..)) => bail!("re-exporting a host import is not supported yet"),
        ItemValue::Instance(InstanceValue::Bag(items) | InstanceValue::Provided { exports: items, .. }) => {
            let mut map = IndexMap::new();
            for (name, item) in items {
                if let Some(e) = root_export(item)? {
                    map.insert(name, e);
                }
            }
            Export::Instance(map)
        }
        ItemValue::Instance(InstanceValue::Import(_)) => bail!("re-exporting a host instance is not supported yet"),
        ItemValue::Module(m) => Export::Module(m),
        ItemValue::Component(_) | ItemValue::Type(_) | ItemValue::Value => return Ok(None),
    }))
}

pub(super) fn outer<T>(scope: &Rc<OuterScope>, count: u32, get: impl Fn(&OuterScope) -> Option<T>) -> Result<T> {
    let mut s = scope.clone();
    for _ in 1..count {
        s = s.parent.clone().context("outer alias beyond the outermost component")?;
    }
    get(&s).context("outer alias to an item that does not exist")
}

pub(super) fn core_item(instance: &CoreInstanceValue, name: &str) -> Result<CoreItemDef> {
    match instance {
        CoreInstanceValue::Runtime(i) => Ok(CoreItemDef::Export(CoreExport { instance: *i, name: name.to_string() })),
        CoreInstanceValue::Bag(items) => {
            items.get(name).cloned().with_context(|| format!("no core export named `{name}`"))
        }
    }
}

/// The argument for a module's import `module::name` (a function if `func`) among the
/// instances it is instantiated with.
pub(super) fn module_arg(
    args: &HashMap<&str, &CoreInstanceValue>,
    module: &str,
    name: &str,
    func: bool,
) -> Result<CoreItemDef> {
    let instance = args.get(module).with_context(|| format!("no instance given for the module's import `{module}`"))?;
    Ok(match core_item(instance, name)? {
        CoreItemDef::Export(e) if func => CoreItemDef::Func(CoreDef::Export(e)),
        item => item,
    })
}

pub(super) fn core_export(s: &Scope, (instance, name): &(LocalCoreInstanceIndex, String)) -> Result<CoreExport> {
    match core_item(&s.core_instances[*instance], name)? {
        CoreItemDef::Export(e) => Ok(e),
        CoreItemDef::Func(_) => bail!("core export `{name}` is a function"),
    }
}

/// ` of the component provided for import `x`` for an instance of one, nothing otherwise.
pub(super) fn of(instance: &InstanceValue) -> String {
    match instance {
        InstanceValue::Provided { import, .. } => format!(" of the component provided for import `{import}`"),
        _ => String::new(),
    }
}

pub(super) fn lookup(instance: &InstanceValue, name: &str) -> Result<ItemValue> {
    match instance {
        InstanceValue::Bag(items) => items.get(name).cloned().with_context(|| format!("no export named `{name}`")),
        InstanceValue::Provided { import, exports } => exports
            .get(name)
            .cloned()
            .with_context(|| format!("the component provided for import `{import}` has no export named `{name}`")),
        InstanceValue::Import(_) => bail!("using `{name}` of a host instance this way is not supported yet"),
    }
}

pub(super) fn item_value(s: &Scope, item: ComponentItem) -> ItemValue {
    match item {
        ComponentItem::Func(i) => ItemValue::Func(s.funcs[i].clone()),
        ComponentItem::Instance(i) => ItemValue::Instance(s.instances[i].clone()),
        ComponentItem::Component(i) => ItemValue::Component(s.components[i].clone()),
        ComponentItem::Module(i) => ItemValue::Module(s.modules[i].clone()),
        ComponentItem::Type(i) => ItemValue::Type(s.types[i]),
        ComponentItem::Value(_) => ItemValue::Value,
    }
}
