//! Static translation of a component binary: one pass over the (nested) sections that records,
//! for every component in the binary, the definitions of its index spaces (core modules, core
//! instances, core functions, memories, tables, globals, functions, component instances,
//! components) exactly as written, plus every core module found anywhere. Each index space
//! is a [`PrimaryMap`] by its own index type (`LocalModuleIndex`, `LocalCoreFuncIndex`, ...),
//! numbered as the binary numbers it; wasmparser's raw `u32` indices become those here.
//!
//! Nothing is instantiated or resolved here: flattening nested instantiations into a list of
//! initializers is the inliner's job. Validation runs over the whole binary; each component
//! keeps the wasmparser type information of its own index spaces.

use super::async_builtins::{AsyncBuiltinOp, BuiltinImmediates, async_builtin};
use crate::{FunctionBodyData, Module, ModuleTranslation, PrimaryMap};
use anyhow::{Context as _, Result, bail};
use wasmparser::component_types::ComponentAnyTypeId;
use wasmparser::types::Types;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind, ComponentInstance,
    ComponentOuterAliasKind, ExternalKind, Instance, Parser, Payload, Validator, WasmFeatures,
};

crate::entity_index! {
    /// Index of a core module among all modules of a [`ComponentTranslation`].
    pub struct StaticModuleIndex;
    /// Index of a component among all components of a [`ComponentTranslation`].
    pub struct StaticComponentIndex;
    /// Index of an import of one component, in binary order.
    pub struct LocalImportIndex;
    /// Index in one component's core module index space, as written in its binary.
    pub struct LocalModuleIndex;
    /// Index in one component's core instance index space, as written in its binary.
    pub struct LocalCoreInstanceIndex;
    /// Index in one component's core function index space, as written in its binary.
    pub struct LocalCoreFuncIndex;
    /// Index in one component's core memory index space, as written in its binary.
    pub struct LocalCoreMemoryIndex;
    /// Index in one component's core table index space, as written in its binary.
    pub struct LocalCoreTableIndex;
    /// Index in one component's core global index space, as written in its binary.
    pub struct LocalCoreGlobalIndex;
    /// Index in one component's core tag index space, as written in its binary.
    pub struct LocalCoreTagIndex;
    /// Index in one component's function index space, as written in its binary.
    pub struct LocalFuncIndex;
    /// Index in one component's component instance index space, as written in its binary.
    pub struct LocalInstanceIndex;
    /// Index in one component's nested component index space, as written in its binary.
    pub struct LocalComponentIndex;
    /// Index in one component's type index space, as written in its binary.
    pub struct LocalTypeIndex;
    /// Index in one component's value index space, as written in its binary.
    pub struct LocalValueIndex;
}

impl StaticComponentIndex {
    /// The root component of a binary (the first one translated).
    pub const ROOT: StaticComponentIndex = StaticComponentIndex(0);
}

/// A string encoding of the canonical options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum StringEncoding {
    /// UTF-8 (the default).
    #[default]
    Utf8,
    /// UTF-16.
    Utf16,
    /// Latin-1 or UTF-16, chosen per string.
    CompactUtf16,
}

/// Canonical options as written: indices into the component's core index spaces.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CanonicalOptions {
    /// The string encoding.
    pub string_encoding: StringEncoding,
    /// The core memory.
    pub memory: Option<LocalCoreMemoryIndex>,
    /// The core `realloc` function.
    pub realloc: Option<LocalCoreFuncIndex>,
    /// The core `post-return` function.
    pub post_return: Option<LocalCoreFuncIndex>,
    /// The `async` option: the async ABI (a lift returns its result with `task.return`; a
    /// lower returns a subtask's state at once).
    pub async_: bool,
    /// The `callback` of an async lift: the core function its event loop calls.
    pub callback: Option<LocalCoreFuncIndex>,
}

/// A reference to an item of a component's index spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComponentItem {
    /// A function.
    Func(LocalFuncIndex),
    /// A component instance.
    Instance(LocalInstanceIndex),
    /// A component.
    Component(LocalComponentIndex),
    /// A core module.
    Module(LocalModuleIndex),
    /// A type.
    Type(LocalTypeIndex),
    /// A value.
    Value(LocalValueIndex),
}

impl ComponentItem {
    fn new(kind: ComponentExternalKind, index: u32) -> ComponentItem {
        match kind {
            ComponentExternalKind::Func => ComponentItem::Func(LocalFuncIndex::from_u32(index)),
            ComponentExternalKind::Instance => ComponentItem::Instance(LocalInstanceIndex::from_u32(index)),
            ComponentExternalKind::Component => ComponentItem::Component(LocalComponentIndex::from_u32(index)),
            ComponentExternalKind::Module => ComponentItem::Module(LocalModuleIndex::from_u32(index)),
            ComponentExternalKind::Type => ComponentItem::Type(LocalTypeIndex::from_u32(index)),
            ComponentExternalKind::Value => ComponentItem::Value(LocalValueIndex::from_u32(index)),
        }
    }
}

/// A reference to an item of a component's core index spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreItem {
    /// A core function.
    Func(LocalCoreFuncIndex),
    /// A core table.
    Table(LocalCoreTableIndex),
    /// A core memory.
    Memory(LocalCoreMemoryIndex),
    /// A core global.
    Global(LocalCoreGlobalIndex),
    /// A core exception tag.
    Tag(LocalCoreTagIndex),
}

/// How a core module of the index space is defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleDef {
    /// Defined inline.
    Static(StaticModuleIndex),
    /// The component's import `i`.
    Import(LocalImportIndex),
    /// An outer alias: module `index` of the component `count` levels out.
    Outer { count: u32, index: LocalModuleIndex },
    /// An export of a component instance.
    Export { instance: LocalInstanceIndex, name: String },
    /// The same module as the one at this index (an export makes such an alias).
    Alias(LocalModuleIndex),
}

/// How a core instance is defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreInstanceDef {
    /// Instantiates a module; each argument names a core instance.
    Instantiate { module: LocalModuleIndex, args: Vec<(String, LocalCoreInstanceIndex)> },
    /// A bag of core items.
    FromExports(Vec<(String, CoreItem)>),
}

/// How a core function is defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreFuncDef {
    /// An export of a core instance.
    Export { instance: LocalCoreInstanceIndex, name: String },
    /// `canon lower` of a component function.
    Lower { func: LocalFuncIndex, options: CanonicalOptions },
    /// `canon resource.new` of a resource type.
    ResourceNew { ty: LocalTypeIndex },
    /// `canon resource.drop`.
    ResourceDrop { ty: LocalTypeIndex },
    /// `canon resource.rep`.
    ResourceRep { ty: LocalTypeIndex },
    /// A built-in of component-model async or threads (`task.return`, `stream.read`, ...).
    AsyncBuiltin { op: AsyncBuiltinOp, immediates: BuiltinImmediates },
}

/// How a component function is defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FuncDef {
    /// The component's import `i`.
    Import(LocalImportIndex),
    /// `canon lift` of a core function, with the type at `ty` in the type index space.
    Lift { core_func: LocalCoreFuncIndex, ty: LocalTypeIndex, options: CanonicalOptions },
    /// An export of a component instance.
    Export { instance: LocalInstanceIndex, name: String },
    /// The same function as the one at this index (an export makes such an alias).
    Alias(LocalFuncIndex),
}

/// How a component instance is defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstanceDef {
    /// The component's import `i`.
    Import(LocalImportIndex),
    /// Instantiates a component with named arguments.
    Instantiate { component: LocalComponentIndex, args: Vec<(String, ComponentItem)> },
    /// A bag of items.
    FromExports(Vec<(String, ComponentItem)>),
    /// An export of another instance.
    Export { instance: LocalInstanceIndex, name: String },
    /// The same instance as the one at this index (an export makes such an alias).
    Alias(LocalInstanceIndex),
}

/// How a nested component of the index space is defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentDef {
    /// Defined inline.
    Static(StaticComponentIndex),
    /// The component's import `i`.
    Import(LocalImportIndex),
    /// An outer alias: component `index` of the component `count` levels out.
    Outer { count: u32, index: LocalComponentIndex },
    /// An export of a component instance.
    Export { instance: LocalInstanceIndex, name: String },
    /// The same component as the one at this index (an export makes such an alias).
    Alias(LocalComponentIndex),
}

/// How a type of the component type index space is defined. Only resource types matter at
/// run time (each definition creates a fresh resource per instance); other types are `Other`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeDef {
    /// `(type (resource (rep i32) (dtor ...)))`: the core function index of the destructor.
    Resource { dtor: Option<LocalCoreFuncIndex> },
    /// The component's import `i`.
    Import(LocalImportIndex),
    /// An export of a component instance.
    Export { instance: LocalInstanceIndex, name: String },
    /// The same type as the one at this index (an export makes such an alias).
    Alias(LocalTypeIndex),
    /// Any other type, or an outer alias from an enclosing component (which cannot name a
    /// resource).
    Other,
}

/// One definition of a component, naming the index space and the index it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Def {
    /// A core module.
    Module(LocalModuleIndex),
    /// A core instance.
    CoreInstance(LocalCoreInstanceIndex),
    /// A core function.
    CoreFunc(LocalCoreFuncIndex),
    /// A core memory.
    CoreMemory(LocalCoreMemoryIndex),
    /// A core table.
    CoreTable(LocalCoreTableIndex),
    /// A core global.
    CoreGlobal(LocalCoreGlobalIndex),
    /// A core exception tag.
    CoreTag(LocalCoreTagIndex),
    /// A component function.
    Func(LocalFuncIndex),
    /// A component instance.
    Instance(LocalInstanceIndex),
    /// A nested component.
    Component(LocalComponentIndex),
    /// A type.
    Type(LocalTypeIndex),
}

/// One component's definitions, in binary order within each index space.
#[derive(Default)]
pub struct StaticComponent {
    /// Every definition in binary order: instantiation runs in this order.
    pub order: Vec<Def>,
    /// Imports: name and what they define.
    pub imports: PrimaryMap<LocalImportIndex, (String, ComponentItem)>,
    /// Exports: name and the exported item.
    pub exports: Vec<(String, ComponentItem)>,
    /// Core modules.
    pub modules: PrimaryMap<LocalModuleIndex, ModuleDef>,
    /// Core instances.
    pub core_instances: PrimaryMap<LocalCoreInstanceIndex, CoreInstanceDef>,
    /// Core functions.
    pub core_funcs: PrimaryMap<LocalCoreFuncIndex, CoreFuncDef>,
    /// Core memories: `(core instance, export name)`.
    pub core_memories: PrimaryMap<LocalCoreMemoryIndex, (LocalCoreInstanceIndex, String)>,
    /// Core tables: `(core instance, export name)`.
    pub core_tables: PrimaryMap<LocalCoreTableIndex, (LocalCoreInstanceIndex, String)>,
    /// Core globals: `(core instance, export name)`.
    pub core_globals: PrimaryMap<LocalCoreGlobalIndex, (LocalCoreInstanceIndex, String)>,
    /// Core exception tags: `(core instance, export name)`.
    pub core_tags: PrimaryMap<LocalCoreTagIndex, (LocalCoreInstanceIndex, String)>,
    /// Component functions.
    pub funcs: PrimaryMap<LocalFuncIndex, FuncDef>,
    /// Component instances.
    pub instances: PrimaryMap<LocalInstanceIndex, InstanceDef>,
    /// Nested components.
    pub components: PrimaryMap<LocalComponentIndex, ComponentDef>,
    /// Types.
    pub types_defs: PrimaryMap<LocalTypeIndex, TypeDef>,
    /// The parent component, if nested.
    pub parent: Option<StaticComponentIndex>,
    /// The validator's types of this component's index spaces (set when it ends).
    pub types: Option<Types>,
}

/// `push_X(def)`: records `def` as the next definition of index space `X` and its place in
/// the component's order of definitions, one method per index space.
macro_rules! push_definitions {
    ($($push:ident: $field:ident, $def:ident, $ty:ty;)*) => {
        impl StaticComponent {
            $(
                fn $push(&mut self, def: $ty) {
                    self.order.push(Def::$def(self.$field.next_key()));
                    self.$field.push(def);
                }
            )*
        }
    };
}

push_definitions! {
    push_funcs: funcs, Func, FuncDef;
    push_instances: instances, Instance, InstanceDef;
    push_components: components, Component, ComponentDef;
    push_types: types_defs, Type, TypeDef;
    push_modules: modules, Module, ModuleDef;
    push_core_instances: core_instances, CoreInstance, CoreInstanceDef;
    push_core_funcs: core_funcs, CoreFunc, CoreFuncDef;
    push_core_tables: core_tables, CoreTable, (LocalCoreInstanceIndex, String);
    push_core_memories: core_memories, CoreMemory, (LocalCoreInstanceIndex, String);
    push_core_globals: core_globals, CoreGlobal, (LocalCoreInstanceIndex, String);
    push_core_tags: core_tags, CoreTag, (LocalCoreInstanceIndex, String);
}

impl StaticComponent {
    /// The type information of this component.
    pub fn types(&self) -> &Types {
        self.types.as_ref().expect("types are recorded when the component ends")
    }

    /// Whether type `ty` of this component is a resource type.
    pub fn is_resource(&self, ty: LocalTypeIndex) -> bool {
        matches!(self.types().as_ref().component_any_type_at(ty.as_u32()), ComponentAnyTypeId::Resource(_))
    }

    /// The type of the function at index `func`, as wasmparser knows it.
    pub fn func_type(&self, func: LocalFuncIndex) -> wasmparser::component_types::ComponentFuncTypeId {
        self.types().as_ref().component_function_at(func.as_u32())
    }
}

/// Every component and core module of a binary.
pub struct ComponentTranslation<'a> {
    /// Core modules, in binary order.
    pub modules: PrimaryMap<StaticModuleIndex, ModuleTranslation<'a>>,
    /// Components; the root is index 0.
    pub components: PrimaryMap<StaticComponentIndex, StaticComponent>,
}

enum Frame {
    Component(StaticComponentIndex),
    Module(StaticModuleIndex),
}

/// Validates and statically translates a component binary.
pub fn translate_component(bytes: &[u8], features: WasmFeatures) -> Result<ComponentTranslation<'_>> {
    // Async and threads are validated too, so that their built-ins can be translated (they
    // check `may_leave`, then report that they are not supported); async lifts and lowers,
    // and `stream`/`future` types in signatures, are refused by the inliner.
    let cm = WasmFeatures::COMPONENT_MODEL
        | WasmFeatures::CM64
        | WasmFeatures::CM_FIXED_LENGTH_LISTS
        | WasmFeatures::CM_MAP
        | WasmFeatures::CM_IMPLEMENTS
        | WasmFeatures::CM_ASYNC
        | WasmFeatures::CM_MORE_ASYNC_BUILTINS
        | WasmFeatures::CM_ASYNC_STACKFUL
        | WasmFeatures::CM_THREADING
        | WasmFeatures::CM_ERROR_CONTEXT;
    let mut validator = Validator::new_with_features(features | cm);
    let mut t = ComponentTranslation { modules: PrimaryMap::new(), components: PrimaryMap::new() };
    let mut stack: Vec<Frame> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        let valid = validator.payload(&payload)?;
        if let wasmparser::ValidPayload::Func(v, body) = valid {
            let Some(Frame::Module(m)) = stack.last() else { bail!("function body outside of a module") };
            t.modules[*m].bodies.push(FunctionBodyData { body, validator: v });
            continue;
        }
        match payload {
            Payload::Version { encoding, .. } => {
                if stack.is_empty() && encoding != wasmparser::Encoding::Component {
                    bail!("expected a component, found a core module");
                }
                // Nested modules and components were pushed by their section payloads.
                if stack.is_empty() {
                    let root = t.components.push(StaticComponent::default());
                    stack.push(Frame::Component(root));
                }
            }
            Payload::ModuleSection { unchecked_range, .. } => {
                let Some(Frame::Component(c)) = stack.last() else { bail!("module section outside a component") };
                let c = *c;
                let range = usize::try_from(unchecked_range.start)?..usize::try_from(unchecked_range.end)?;
                let wasm = bytes.get(range).context("a module section lies outside the component")?;
                let index = t.modules.push(ModuleTranslation { module: Module::default(), bodies: Vec::new(), wasm });
                t.components[c].push_modules(ModuleDef::Static(index));
                stack.push(Frame::Module(index));
            }
            Payload::ComponentSection { .. } => {
                let Some(Frame::Component(c)) = stack.last() else { bail!("component section outside a component") };
                let parent = *c;
                let index = t.components.push(StaticComponent { parent: Some(parent), ..Default::default() });
                t.components[parent].push_components(ComponentDef::Static(index));
                stack.push(Frame::Component(index));
            }
            Payload::End(_) => {
                match (stack.pop(), valid) {
                    (Some(Frame::Component(c)), wasmparser::ValidPayload::End(types)) => {
                        t.components[c].types = Some(types);
                    }
                    (Some(Frame::Module(_)), _) => {}
                    _ => bail!("unbalanced component structure"),
                }
                if stack.is_empty() {
                    break;
                }
            }
            payload => match stack.last() {
                Some(Frame::Module(m)) => crate::module::translate_payload(&mut t.modules[*m].module, payload)?,
                Some(Frame::Component(c)) => component_payload(&mut t.components[*c], payload)?,
                None => bail!("payload outside of any component"),
            },
        }
    }
    if t.components.is_empty() {
        bail!("empty input: expected a component");
    }
    Ok(t)
}

pub(crate) fn options(opts: &[CanonicalOption]) -> CanonicalOptions {
    let mut o = CanonicalOptions::default();
    for opt in opts {
        match *opt {
            CanonicalOption::UTF8 => o.string_encoding = StringEncoding::Utf8,
            CanonicalOption::UTF16 => o.string_encoding = StringEncoding::Utf16,
            CanonicalOption::CompactUTF16 => o.string_encoding = StringEncoding::CompactUtf16,
            CanonicalOption::Memory(m) => o.memory = Some(LocalCoreMemoryIndex::from_u32(m)),
            CanonicalOption::Realloc(f) => o.realloc = Some(LocalCoreFuncIndex::from_u32(f)),
            CanonicalOption::PostReturn(f) => o.post_return = Some(LocalCoreFuncIndex::from_u32(f)),
            CanonicalOption::Async => o.async_ = true,
            CanonicalOption::Callback(f) => o.callback = Some(LocalCoreFuncIndex::from_u32(f)),
            _ => {}
        }
    }
    o
}

fn component_payload(c: &mut StaticComponent, payload: Payload<'_>) -> Result<()> {
    match payload {
        Payload::ComponentImportSection(s) => {
            for import in s {
                let import = import?;
                let i = c.imports.next_key();
                let item = match import.ty {
                    wasmparser::ComponentTypeRef::Func(_) => {
                        let f = c.funcs.next_key();
                        c.push_funcs(FuncDef::Import(i));
                        ComponentItem::Func(f)
                    }
                    wasmparser::ComponentTypeRef::Instance(_) => {
                        let instance = c.instances.next_key();
                        c.push_instances(InstanceDef::Import(i));
                        ComponentItem::Instance(instance)
                    }
                    wasmparser::ComponentTypeRef::Component(_) => {
                        let component = c.components.next_key();
                        c.push_components(ComponentDef::Import(i));
                        ComponentItem::Component(component)
                    }
                    wasmparser::ComponentTypeRef::Module(_) => {
                        let module = c.modules.next_key();
                        c.push_modules(ModuleDef::Import(i));
                        ComponentItem::Module(module)
                    }
                    wasmparser::ComponentTypeRef::Type(_) => {
                        let ty = c.types_defs.next_key();
                        c.push_types(TypeDef::Import(i));
                        ComponentItem::Type(ty)
                    }
                    wasmparser::ComponentTypeRef::Value(_) => bail!("value imports are not supported"),
                };
                c.imports.push((import.name.name.to_string(), item));
            }
        }
        Payload::InstanceSection(s) => {
            for instance in s {
                c.push_core_instances(match instance? {
                    Instance::Instantiate { module_index, args } => CoreInstanceDef::Instantiate {
                        module: LocalModuleIndex::from_u32(module_index),
                        args: args
                            .iter()
                            .map(|a| (a.name.to_string(), LocalCoreInstanceIndex::from_u32(a.index)))
                            .collect(),
                    },
                    Instance::FromExports(exports) => CoreInstanceDef::FromExports(
                        exports
                            .iter()
                            .map(|e| Ok((e.name.to_string(), core_item(e.kind, e.index)?)))
                            .collect::<Result<_>>()?,
                    ),
                });
            }
        }
        Payload::ComponentInstanceSection(s) => {
            for instance in s {
                c.push_instances(match instance? {
                    ComponentInstance::Instantiate { component_index, args } => InstanceDef::Instantiate {
                        component: LocalComponentIndex::from_u32(component_index),
                        args: args.iter().map(|a| (a.name.to_string(), ComponentItem::new(a.kind, a.index))).collect(),
                    },
                    ComponentInstance::FromExports(exports) => InstanceDef::FromExports(
                        exports
                            .iter()
                            .map(|e| (e.name.name.to_string(), ComponentItem::new(e.kind, e.index)))
                            .collect(),
                    ),
                });
            }
        }
        Payload::ComponentAliasSection(s) => {
            for alias in s {
                alias_item(c, alias?)?;
            }
        }
        Payload::ComponentCanonicalSection(s) => {
            for f in s {
                match f? {
                    CanonicalFunction::Lift { core_func_index, type_index, options: opts } => {
                        c.push_funcs(FuncDef::Lift {
                            core_func: LocalCoreFuncIndex::from_u32(core_func_index),
                            ty: LocalTypeIndex::from_u32(type_index),
                            options: options(&opts),
                        })
                    }
                    CanonicalFunction::Lower { func_index, options: opts } => c.push_core_funcs(CoreFuncDef::Lower {
                        func: LocalFuncIndex::from_u32(func_index),
                        options: options(&opts),
                    }),
                    CanonicalFunction::ResourceNew { resource } => {
                        c.push_core_funcs(CoreFuncDef::ResourceNew { ty: LocalTypeIndex::from_u32(resource) })
                    }
                    CanonicalFunction::ResourceDrop { resource } => {
                        c.push_core_funcs(CoreFuncDef::ResourceDrop { ty: LocalTypeIndex::from_u32(resource) })
                    }
                    CanonicalFunction::ResourceRep { resource } => {
                        c.push_core_funcs(CoreFuncDef::ResourceRep { ty: LocalTypeIndex::from_u32(resource) })
                    }
                    other => match async_builtin(&other) {
                        Some((op, immediates)) => c.push_core_funcs(CoreFuncDef::AsyncBuiltin { op, immediates }),
                        None => bail!("unsupported canonical function: {other:?}"),
                    },
                }
            }
        }
        Payload::ComponentExportSection(s) => {
            for export in s {
                let export = export?;
                let item = ComponentItem::new(export.kind, export.index);
                // An export introduces a new item in its index space that aliases the exported one.
                match item {
                    ComponentItem::Func(f) => c.push_funcs(FuncDef::Alias(f)),
                    ComponentItem::Instance(i) => c.push_instances(InstanceDef::Alias(i)),
                    ComponentItem::Component(i) => c.push_components(ComponentDef::Alias(i)),
                    ComponentItem::Module(i) => c.push_modules(ModuleDef::Alias(i)),
                    ComponentItem::Type(t) => c.push_types(TypeDef::Alias(t)),
                    ComponentItem::Value(_) => {}
                }
                c.exports.push((export.name.name.to_string(), item));
            }
        }
        Payload::ComponentStartSection { .. } => bail!("component start functions are not supported"),
        Payload::ComponentTypeSection(s) => {
            for ty in s {
                c.push_types(match ty? {
                    wasmparser::ComponentType::Resource { dtor, .. } => {
                        TypeDef::Resource { dtor: dtor.map(LocalCoreFuncIndex::from_u32) }
                    }
                    _ => TypeDef::Other,
                });
            }
        }
        Payload::CoreTypeSection(_) | Payload::CustomSection(_) => {}
        other => bail!("unexpected section in a component: {other:?}"),
    }
    Ok(())
}

fn core_item(kind: ExternalKind, index: u32) -> Result<CoreItem> {
    Ok(match kind {
        ExternalKind::Func | ExternalKind::FuncExact => CoreItem::Func(LocalCoreFuncIndex::from_u32(index)),
        ExternalKind::Table => CoreItem::Table(LocalCoreTableIndex::from_u32(index)),
        ExternalKind::Memory => CoreItem::Memory(LocalCoreMemoryIndex::from_u32(index)),
        ExternalKind::Global => CoreItem::Global(LocalCoreGlobalIndex::from_u32(index)),
        ExternalKind::Tag => CoreItem::Tag(LocalCoreTagIndex::from_u32(index)),
    })
}

fn alias_item(c: &mut StaticComponent, alias: ComponentAlias<'_>) -> Result<()> {
    match alias {
        ComponentAlias::InstanceExport { kind, instance_index, name } => {
            let (instance, name) = (LocalInstanceIndex::from_u32(instance_index), name.to_string());
            match kind {
                ComponentExternalKind::Func => c.push_funcs(FuncDef::Export { instance, name }),
                ComponentExternalKind::Instance => c.push_instances(InstanceDef::Export { instance, name }),
                ComponentExternalKind::Component => c.push_components(ComponentDef::Export { instance, name }),
                ComponentExternalKind::Module => c.push_modules(ModuleDef::Export { instance, name }),
                ComponentExternalKind::Type => c.push_types(TypeDef::Export { instance, name }),
                ComponentExternalKind::Value => bail!("value aliases are not supported"),
            }
        }
        ComponentAlias::CoreInstanceExport { kind, instance_index, name } => {
            let (instance, name) = (LocalCoreInstanceIndex::from_u32(instance_index), name.to_string());
            match kind {
                ExternalKind::Func | ExternalKind::FuncExact => {
                    c.push_core_funcs(CoreFuncDef::Export { instance, name })
                }
                ExternalKind::Table => c.push_core_tables((instance, name)),
                ExternalKind::Memory => c.push_core_memories((instance, name)),
                ExternalKind::Global => c.push_core_globals((instance, name)),
                ExternalKind::Tag => c.push_core_tags((instance, name)),
            }
        }
        ComponentAlias::Outer { kind, count, index } => match kind {
            ComponentOuterAliasKind::CoreModule => {
                c.push_modules(ModuleDef::Outer { count, index: LocalModuleIndex::from_u32(index) })
            }
            ComponentOuterAliasKind::Component => {
                c.push_components(ComponentDef::Outer { count, index: LocalComponentIndex::from_u32(index) })
            }
            // `outer 0` is this component's own type, possibly a resource; validation keeps
            // resources from being aliased across a component boundary.
            ComponentOuterAliasKind::Type if count == 0 => {
                c.push_types(TypeDef::Alias(LocalTypeIndex::from_u32(index)))
            }
            ComponentOuterAliasKind::Type => c.push_types(TypeDef::Other),
            ComponentOuterAliasKind::CoreType => {}
        },
    }
    Ok(())
}

/// Whether `ty` (from a type index space) is a function type.
pub fn is_func_type(types: &Types, ty: u32) -> bool {
    matches!(types.as_ref().component_any_type_at(ty), ComponentAnyTypeId::Func(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(wat: &str) -> ComponentTranslation<'static> {
        let bytes: &'static [u8] = Box::leak(wat::parse_str(wat).unwrap().into_boxed_slice());
        translate_component(bytes, crate::supported_features()).unwrap()
    }

    #[test]
    fn records_index_spaces() {
        let t = translate(
            r#"(component
                (import "log" (func $log (param "msg" string)))
                (core module $libc (memory (export "mem") 1))
                (core instance $libc (instantiate $libc))
                (core func $log_lowered (canon lower (func $log) (memory (core memory $libc "mem"))))
                (core module $m
                    (import "host" "log" (func (param i32 i32)))
                    (func (export "run") (param i32) (result i32) local.get 0))
                (core instance $host (export "log" (func $log_lowered)))
                (core instance $i (instantiate $m (with "host" (instance $host))))
                (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run")))
            )"#,
        );
        assert_eq!(t.modules.len(), 2);
        assert_eq!(t.modules[StaticModuleIndex::from_u32(1)].bodies.len(), 1);
        assert_eq!(t.modules[StaticModuleIndex::from_u32(1)].module.imports.len(), 1);
        let c = &t.components[StaticComponentIndex::from_u32(0)];
        assert_eq!(
            c.imports.values().collect::<Vec<_>>(),
            [&("log".to_string(), ComponentItem::Func(LocalFuncIndex::from_u32(0)))]
        );
        assert_eq!(
            c.core_memories.values().collect::<Vec<_>>(),
            [&(LocalCoreInstanceIndex::from_u32(0), "mem".to_string())]
        );
        let (f0, m0) = (LocalFuncIndex::from_u32(0), LocalCoreMemoryIndex::from_u32(0));
        assert!(
            matches!(&c.core_funcs[LocalCoreFuncIndex::from_u32(0)], CoreFuncDef::Lower { func, options } if *func == f0 && options.memory == Some(m0))
        );
        assert_eq!(
            c.core_instances[LocalCoreInstanceIndex::from_u32(2)],
            CoreInstanceDef::Instantiate {
                module: LocalModuleIndex::from_u32(1),
                args: vec![("host".into(), LocalCoreInstanceIndex::from_u32(1))]
            }
        );
        assert!(
            matches!(c.funcs[LocalFuncIndex::from_u32(1)], FuncDef::Lift { core_func, .. } if core_func == LocalCoreFuncIndex::from_u32(1))
        );
        assert_eq!(c.exports, [("run".to_string(), ComponentItem::Func(LocalFuncIndex::from_u32(1)))]);
        // The exported function is a new item in the function index space.
        assert_eq!(c.funcs.len(), 3);
        let ty = &c.types()[c.func_type(LocalFuncIndex::from_u32(2))];
        assert_eq!(ty.params.len(), 1);
    }

    #[test]
    fn nested_components_are_recorded_with_their_parent() {
        let t = translate(
            r#"(component
                (component $inner (core module $m) (core instance (instantiate $m)))
                (instance (instantiate $inner))
                (instance (instantiate $inner)))"#,
        );
        assert_eq!(t.components.len(), 2);
        assert_eq!(t.components[StaticComponentIndex::from_u32(1)].parent, Some(StaticComponentIndex::from_u32(0)));
        assert_eq!(
            t.components[StaticComponentIndex::from_u32(0)].components.values().collect::<Vec<_>>(),
            [&ComponentDef::Static(StaticComponentIndex::from_u32(1))]
        );
        assert_eq!(t.components[StaticComponentIndex::from_u32(0)].instances.len(), 2);
        assert_eq!(t.modules.len(), 1);
    }

    #[test]
    fn core_modules_are_rejected_with_a_clear_error() {
        let bytes = wat::parse_str("(module)").unwrap();
        let err = translate_component(&bytes, crate::supported_features()).err().unwrap();
        assert!(err.to_string().contains("expected a component"), "{err}");
    }
}
