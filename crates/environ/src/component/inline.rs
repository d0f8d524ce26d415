//! The inliner: instantiates the root component abstractly, following every nested component
//! instantiation with its actual arguments, and records the core work in order as
//! [`Initializer`]s. The result ([`ComponentInfo`]) has no nesting left: a list of module
//! instantiations and lowerings, plus exports that name core functions directly.
//!
//! A `canon lower` of a function that is a `canon lift` of another component becomes a
//! [`FusedCall`]: the adapter compiler's input.
//!
//! Every component instantiation is a runtime component instance with its own handle table,
//! and every resource type definition it runs creates a runtime resource; resource types are
//! followed through imports, exports and aliases like other items, so that a handle type in
//! any function signature names the runtime resource it really is. Core modules the host
//! provides are instantiated by name against the type the instantiating component gives them.
//!
//! A component the host provides for a component import is inlined like a nested component:
//! its static translation (another [`Source`]) is run with the arguments the importing
//! component gives it, so calls between the two are fused calls like any other. Since it was
//! validated apart from the component that imports it, every function crossing between the
//! two is checked against the type the receiving side declares, with
//! [`TypeConverter::check_func_type`]. Value imports and async functions are reported as
//! unsupported.
//!
//! What a component's index spaces hold while it runs, and how items are looked up in them, is
//! the child module `values`; this module is the run itself and what it records.

use super::convert::{TypeConverter, core_module_type};
use super::info::*;
use super::translate::*;
use super::types::{FuncType, ResourceId};
use crate::{EntityIndex, EntityRef, Module, PrimaryMap};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use values::{
    ComponentValue, CoreInstanceValue, FuncValue, InstanceExports, InstanceValue, ItemValue, OuterScope, Scope,
    TypeValue, core_export, core_item, item_value, lookup, module_arg, of, outer, root_export,
};
use wasmparser::component_types::ComponentAnyTypeId;

/// One binary the inliner reads: its components (the first is its root) and the description
/// of each of its core modules, in its own numbering.
#[derive(Clone)]
pub struct Source<'a> {
    /// The components of the binary.
    pub components: &'a PrimaryMap<StaticComponentIndex, StaticComponent>,
    /// Its core modules.
    pub modules: PrimaryMap<StaticModuleIndex, &'a Module>,
}

/// What [`inline_linked`] flattens: the root component's binary, the binaries of the
/// components the host provides, and which import each of those is provided for.
pub struct InlineInput<'a> {
    /// The binaries; the root component is the root of `sources[SourceIndex::ROOT]`.
    pub sources: PrimaryMap<SourceIndex, Source<'a>>,
    /// For each component import of the root (a root import, or an export of an imported
    /// instance), the source whose root component the host provides for it.
    pub provided: HashMap<ImportPath, SourceIndex>,
}

struct Inliner<'a> {
    sources: &'a PrimaryMap<SourceIndex, Source<'a>>,
    /// The number of the first core module of each source: modules are numbered across all
    /// sources, in order, in [`ModuleRef::Static`] and the initializers.
    first_module: PrimaryMap<SourceIndex, u32>,
    provided: &'a HashMap<ImportPath, SourceIndex>,
    info: ComponentInfo,
    /// What each runtime instance's exports are known from.
    instance_exports: PrimaryMap<RuntimeInstanceIndex, InstanceExports>,
    memories: HashMap<CoreExport, RuntimeMemoryIndex>,
    reallocs: HashMap<CoreDef, RuntimeReallocIndex>,
    post_returns: HashMap<CoreDef, RuntimePostReturnIndex>,
    host_resources: HashMap<ImportPath, RuntimeResourceIndex>,
}

/// Flattens a statically translated component that imports no component.
pub fn inline(translation: &ComponentTranslation<'_>) -> Result<ComponentInfo> {
    let source = Source {
        components: &translation.components,
        modules: translation.modules.values().map(|m| &m.module).collect(),
    };
    inline_linked(&InlineInput { sources: PrimaryMap::from_iter([source]), provided: HashMap::new() })
}

/// Flattens the root component of `input.sources[SourceIndex::ROOT]`, inlining the components the host
/// provides for its component imports.
pub fn inline_linked(input: &InlineInput<'_>) -> Result<ComponentInfo> {
    let mut first_module = PrimaryMap::with_capacity(input.sources.len());
    let mut next = 0;
    for source in input.sources.values() {
        first_module.push(next);
        next += source.modules.len() as u32;
    }
    let mut inliner = Inliner {
        sources: &input.sources,
        first_module,
        provided: &input.provided,
        info: ComponentInfo::default(),
        instance_exports: PrimaryMap::new(),
        memories: HashMap::new(),
        reallocs: HashMap::new(),
        post_returns: HashMap::new(),
        host_resources: HashMap::new(),
    };
    let root = &input.sources[SourceIndex::ROOT].components[StaticComponentIndex::ROOT];
    for (name, item) in root.imports.values() {
        let kind = match item {
            // The type is converted when the inliner reaches the import, once the resources
            // it may name are known.
            ComponentItem::Func(_) => ImportKind::Func(FuncType { params: Vec::new(), result: None, async_: false }),
            ComponentItem::Instance(_) => ImportKind::Instance,
            ComponentItem::Type(t) if root.is_resource(*t) => ImportKind::Resource,
            ComponentItem::Type(_) => ImportKind::Type,
            ComponentItem::Module(_) => ImportKind::Module,
            ComponentItem::Component(_) => ImportKind::Component,
            ComponentItem::Value(_) => ImportKind::Unsupported("value"),
        };
        inliner.info.imports.insert(name.clone(), kind);
    }
    let root_value = ComponentValue {
        source: SourceIndex::ROOT,
        index: StaticComponentIndex::ROOT,
        outer: Rc::new(OuterScope::default()),
    };
    let exports = inliner.run(&root_value, None, None)?;
    for (name, item) in exports {
        if let Some(export) = root_export(item).with_context(|| format!("export `{name}`"))? {
            inliner.info.exports.insert(name, export);
        }
    }
    super::adapt::partition(&mut inliner.info);
    Ok(inliner.info)
}

/// The component imports of `root`: its imports of components, and the components that its
/// imported instances export (at any depth). The host must provide a component for each
/// before the root can be flattened with [`inline_linked`].
pub fn component_imports(root: &StaticComponent) -> Vec<ImportPath> {
    use wasmparser::component_types::ComponentEntityType as E;
    fn walk(types: wasmparser::types::TypesRef<'_>, ty: &E, path: ImportPath, out: &mut Vec<ImportPath>) {
        match ty {
            E::Component(_) => out.push(path),
            E::Instance(id) => {
                for (name, export) in &types[*id].exports {
                    walk(types, &export.ty, path.child(name), out);
                }
            }
            _ => {}
        }
    }
    let types = root.types().as_ref();
    let mut out = Vec::new();
    for (i, (_, item)) in root.imports.iter() {
        let path = ImportPath { import: ImportIndex::of_root(i), path: Vec::new() };
        match item {
            ComponentItem::Component(_) => out.push(path),
            ComponentItem::Instance(index) => {
                walk(types, &E::Instance(types.component_instance_at(index.as_u32())), path, &mut out)
            }
            _ => {}
        }
    }
    out
}

impl<'a> Inliner<'a> {
    /// Runs component `value` with `args` (None for the root, whose imports come from the host)
    /// and returns its exports.
    fn run(
        &mut self,
        value: &ComponentValue,
        args: Option<&HashMap<String, ItemValue>>,
        parent: Option<RuntimeComponentInstanceIndex>,
    ) -> Result<Vec<(String, ItemValue)>> {
        let c: &'a StaticComponent = &self.sources[value.source].components[value.index];
        let mut conv = TypeConverter::strict(c.types().as_ref());
        let mut s = Scope::default();
        let frame = RuntimeComponentInstanceIndex::from_u32(self.info.num_component_instances);
        self.info.num_component_instances += 1;
        self.info.instance_parents.push(parent);
        let import_arg = |i: LocalImportIndex| -> Result<ItemValue> {
            let name = &c.imports[i].0;
            match args {
                Some(args) => {
                    args.get(name).cloned().with_context(|| format!("missing instantiation argument `{name}`"))
                }
                None => Ok(ItemValue::Instance(InstanceValue::Import(ImportPath {
                    import: ImportIndex::of_root(i),
                    path: Vec::new(),
                }))),
            }
        };
        for def in &c.order {
            match *def {
                Def::Module(i) => {
                    let m = match &c.modules[i] {
                        ModuleDef::Static(m) => {
                            ModuleRef::Static(StaticModuleIndex::from_u32(self.first_module[value.source] + m.as_u32()))
                        }
                        ModuleDef::Alias(j) => s.modules[*j].clone(),
                        ModuleDef::Import(j) => match import_arg(*j)? {
                            ItemValue::Module(m) => m,
                            ItemValue::Instance(InstanceValue::Import(path)) if args.is_none() => {
                                ModuleRef::Import(path)
                            }
                            _ => bail!("argument `{}` is not a core module", c.imports[*j].0),
                        },
                        // `outer 0` is this component itself.
                        ModuleDef::Outer { count: 0, index } => {
                            s.modules.get(*index).cloned().context("outer alias to an item that does not exist")?
                        }
                        ModuleDef::Outer { count, index } => {
                            outer(&value.outer, *count, |o| o.modules.get(*index).cloned())?
                        }
                        ModuleDef::Export { instance, name } => match &s.instances[*instance] {
                            InstanceValue::Import(path) => ModuleRef::Import(path.child(name)),
                            bag => match lookup(bag, name)? {
                                ItemValue::Module(m) => m,
                                _ => bail!("`{name}`{} is not a module", of(bag)),
                            },
                        },
                    };
                    s.modules.push(m);
                }
                Def::CoreInstance(i) => {
                    let v = match &c.core_instances[i] {
                        CoreInstanceDef::Instantiate { module: index, args } => {
                            let args: HashMap<&str, &CoreInstanceValue> =
                                args.iter().map(|(n, i)| (n.as_str(), &s.core_instances[*i])).collect();
                            let instance = match &s.modules[*index] {
                                ModuleRef::Static(module) => self.instantiate_module(*module, &args)?,
                                ModuleRef::Import(path) => {
                                    let types = c.types().as_ref();
                                    let ty = core_module_type(types, types.module_at(index.as_u32()))?;
                                    self.instantiate_imported_module(path.clone(), ty, &args)?
                                }
                            };
                            CoreInstanceValue::Runtime(instance)
                        }
                        CoreInstanceDef::FromExports(items) => CoreInstanceValue::Bag(
                            items
                                .iter()
                                .map(|(n, item)| {
                                    let v = match *item {
                                        CoreItem::Func(f) => CoreItemDef::Func(s.core_funcs[f].clone()),
                                        CoreItem::Memory(m) => CoreItemDef::Export(s.core_memories[m].clone()),
                                        CoreItem::Table(t) => CoreItemDef::Export(s.core_tables[t].clone()),
                                        CoreItem::Global(g) => CoreItemDef::Export(s.core_globals[g].clone()),
                                        CoreItem::Tag(t) => CoreItemDef::Export(s.core_tags[t].clone()),
                                    };
                                    (n.clone(), v)
                                })
                                .collect(),
                        ),
                    };
                    s.core_instances.push(v);
                }
                Def::CoreFunc(i) => {
                    let def = match &c.core_funcs[i] {
                        CoreFuncDef::Export { instance, name } => {
                            match core_item(&s.core_instances[*instance], name)? {
                                CoreItemDef::Func(f) => f,
                                // The validator checked that the export is a function.
                                CoreItemDef::Export(e) => CoreDef::Export(e),
                            }
                        }
                        CoreFuncDef::Lower { func, options } => {
                            let lower = self.options(&s, options, frame)?;
                            match s.funcs[*func].clone() {
                                FuncValue::Import(import, ty) => {
                                    let index = LoweredIndex::from_u32(self.info.num_lowered);
                                    self.info.num_lowered += 1;
                                    self.info.initializers.push(Initializer::LowerImport {
                                        index,
                                        import,
                                        ty,
                                        options: lower,
                                    });
                                    CoreDef::Lowered(index)
                                }
                                FuncValue::Lifted(lift) if AsyncCall::needed(&lift, &lower) => {
                                    CoreDef::AsyncCall(self.info.async_calls.push(AsyncCall { lift, lower }))
                                }
                                FuncValue::Lifted(lift) => {
                                    let ready_after = self.info.initializers.len();
                                    CoreDef::Fused(self.info.fused.push(FusedCall { lift, lower, ready_after }))
                                }
                            }
                        }
                        CoreFuncDef::ResourceNew { ty } => {
                            self.intrinsic(&s, IntrinsicKind::ResourceNew, *ty, frame)?
                        }
                        CoreFuncDef::ResourceDrop { ty } => {
                            self.intrinsic(&s, IntrinsicKind::ResourceDrop, *ty, frame)?
                        }
                        CoreFuncDef::ResourceRep { ty } => {
                            self.intrinsic(&s, IntrinsicKind::ResourceRep, *ty, frame)?
                        }
                        CoreFuncDef::AsyncBuiltin { op, immediates } => {
                            let builtin = self
                                .async_builtin(&s, c, &mut conv, i, *op, immediates, frame)
                                .with_context(|| format!("the canonical built-in `{}`", op.name()))?;
                            CoreDef::AsyncBuiltin(self.info.async_builtins.push(builtin))
                        }
                    };
                    s.core_funcs.push(def);
                }
                Def::CoreMemory(i) => {
                    let e = core_export(&s, &c.core_memories[i])?;
                    s.core_memories.push(e);
                }
                Def::CoreTable(i) => {
                    let e = core_export(&s, &c.core_tables[i])?;
                    s.core_tables.push(e);
                }
                Def::CoreGlobal(i) => {
                    let e = core_export(&s, &c.core_globals[i])?;
                    s.core_globals.push(e);
                }
                Def::CoreTag(i) => {
                    let e = core_export(&s, &c.core_tags[i])?;
                    s.core_tags.push(e);
                }
                Def::Func(i) => {
                    let f = match &c.funcs[i] {
                        FuncDef::Lift { core_func, options, .. } => FuncValue::Lifted(LiftedFunc {
                            ty: conv
                                .func_type(c.func_type(i))
                                .with_context(|| format!("the type of lifted function {}", i.as_u32()))?,
                            core: s.core_funcs[*core_func].clone(),
                            options: self.options(&s, options, frame)?,
                        }),
                        FuncDef::Alias(j) => s.funcs[*j].clone(),
                        FuncDef::Import(j) => match import_arg(*j)? {
                            ItemValue::Func(f) => {
                                conv.check_func_type(c.func_type(i), f.ty())
                                    .with_context(|| format!("argument `{}` has the wrong type", c.imports[*j].0))?;
                                f
                            }
                            ItemValue::Instance(InstanceValue::Import(path)) if args.is_none() => {
                                let ty = conv.func_type(c.func_type(i)).with_context(|| {
                                    format!("the type of imported function `{}`", self.import_name(&path))
                                })?;
                                self.info.imports[j.index()] = ImportKind::Func(ty.clone());
                                FuncValue::Import(path, ty)
                            }
                            _ => bail!("argument `{}` is not a function", c.imports[*j].0),
                        },
                        FuncDef::Export { instance, name } => match &s.instances[*instance] {
                            InstanceValue::Import(path) => {
                                let path = path.child(name);
                                let ty = conv.func_type(c.func_type(i)).with_context(|| {
                                    format!("the type of imported function `{}`", self.import_name(&path))
                                })?;
                                FuncValue::Import(path, ty)
                            }
                            bag => match lookup(bag, name)? {
                                ItemValue::Func(f) => {
                                    conv.check_func_type(c.func_type(i), f.ty())
                                        .with_context(|| format!("export `{name}`{} has the wrong type", of(bag)))?;
                                    f
                                }
                                _ => bail!("`{name}`{} is not a function", of(bag)),
                            },
                        },
                    };
                    s.funcs.push(f);
                }
                Def::Instance(i) => {
                    let v = match &c.instances[i] {
                        InstanceDef::Import(j) => match import_arg(*j)? {
                            ItemValue::Instance(InstanceValue::Import(path)) if args.is_none() => {
                                let ty = c.types().as_ref().component_instance_at(i.as_u32());
                                self.bind_host_resources(&mut conv, ty, &path);
                                InstanceValue::Import(path)
                            }
                            ItemValue::Instance(v) => v,
                            _ => bail!("argument `{}` is not an instance", c.imports[*j].0),
                        },
                        InstanceDef::Alias(j) => s.instances[*j].clone(),
                        InstanceDef::Export { instance, name } => match &s.instances[*instance] {
                            InstanceValue::Import(path) => InstanceValue::Import(path.child(name)),
                            bag => match lookup(bag, name)? {
                                ItemValue::Instance(v) => v,
                                _ => bail!("`{name}`{} is not an instance", of(bag)),
                            },
                        },
                        InstanceDef::FromExports(items) => InstanceValue::Bag(
                            items.iter().map(|(n, item)| (n.clone(), item_value(&s, *item))).collect(),
                        ),
                        InstanceDef::Instantiate { component, args } => {
                            let callee = s.components[*component].clone();
                            let args: HashMap<String, ItemValue> =
                                args.iter().map(|(n, item)| (n.clone(), item_value(&s, *item))).collect();
                            let exports = self.run(&callee, Some(&args), Some(frame));
                            let provided = self.provided.iter().find(|(_, s)| **s == callee.source);
                            match provided {
                                // The root of a provided component's source.
                                Some((path, _)) if callee.index.as_u32() == 0 => {
                                    let import: Rc<str> = self.import_name(path).into();
                                    let exports = exports.with_context(|| {
                                        format!("instantiating the component provided for import `{import}`")
                                    })?;
                                    InstanceValue::Provided { import, exports: exports.into_iter().collect() }
                                }
                                _ => InstanceValue::Bag(exports?.into_iter().collect()),
                            }
                        }
                    };
                    s.instances.push(v);
                }
                Def::Type(i) => {
                    let v = match &c.types_defs[i] {
                        TypeDef::Resource { dtor } => {
                            let dtor = dtor.map(|f| s.core_funcs[f].clone());
                            TypeValue::Resource(self.info.resources.push(ResourceDef::Guest { instance: frame, dtor }))
                        }
                        TypeDef::Import(j) => match import_arg(*j)? {
                            ItemValue::Type(v) => v,
                            ItemValue::Instance(InstanceValue::Import(path)) if args.is_none() => {
                                match already_bound(&conv, c, i) {
                                    Some(v) => v,
                                    None if c.is_resource(i) => self.host_resource(path),
                                    None => TypeValue::Other,
                                }
                            }
                            _ => bail!("argument `{}` is not a type", c.imports[*j].0),
                        },
                        TypeDef::Export { instance, name } => match &s.instances[*instance] {
                            InstanceValue::Import(path) if c.is_resource(i) => match already_bound(&conv, c, i) {
                                Some(v) => v,
                                None => self.host_resource(path.child(name)),
                            },
                            InstanceValue::Import(_) => TypeValue::Other,
                            bag => match lookup(bag, name)? {
                                ItemValue::Type(v) => v,
                                _ => bail!("`{name}`{} is not a type", of(bag)),
                            },
                        },
                        TypeDef::Alias(j) => s.types[*j],
                        TypeDef::Other => TypeValue::Other,
                    };
                    if let ComponentAnyTypeId::Resource(id) = c.types().as_ref().component_any_type_at(i.as_u32()) {
                        // Only a component validated apart (one the host provides) can give a
                        // type that is not a resource, or another resource than the one its
                        // functions were found to use, where a resource type is declared.
                        let type_name = || match &c.types_defs[i] {
                            TypeDef::Import(j) => format!("`{}`", c.imports[*j].0),
                            TypeDef::Export { instance, name } => {
                                format!("`{name}`{}", of(&s.instances[*instance]))
                            }
                            _ => format!("type {}", i.as_u32()),
                        };
                        let TypeValue::Resource(r) = v else {
                            bail!("{} is not a resource type", type_name());
                        };
                        if conv.bound(id.resource()).is_some_and(|b| b != ResourceId(r.as_u32())) {
                            bail!("{} is not the resource type the functions using it have", type_name());
                        }
                        conv.bind(id.resource(), ResourceId(r.as_u32()));
                    }
                    s.types.push(v);
                }
                Def::Component(i) => {
                    let v = match &c.components[i] {
                        ComponentDef::Static(index) => ComponentValue {
                            source: value.source,
                            index: *index,
                            outer: Rc::new(OuterScope {
                                modules: s.modules.clone(),
                                components: s.components.clone(),
                                parent: Some(value.outer.clone()),
                            }),
                        },
                        ComponentDef::Alias(j) => s.components[*j].clone(),
                        ComponentDef::Import(j) => match import_arg(*j)? {
                            ItemValue::Component(v) => v,
                            ItemValue::Instance(InstanceValue::Import(path)) if args.is_none() => {
                                self.provided_component(&path)?
                            }
                            _ => bail!("argument `{}` is not a component", c.imports[*j].0),
                        },
                        ComponentDef::Outer { count: 0, index } => {
                            s.components.get(*index).cloned().context("outer alias to an item that does not exist")?
                        }
                        ComponentDef::Outer { count, index } => {
                            outer(&value.outer, *count, |o| o.components.get(*index).cloned())?
                        }
                        ComponentDef::Export { instance, name } => match &s.instances[*instance] {
                            InstanceValue::Import(path) => self.provided_component(&path.child(name))?,
                            bag => match lookup(bag, name)? {
                                ItemValue::Component(v) => v,
                                _ => bail!("`{name}`{} is not a component", of(bag)),
                            },
                        },
                    };
                    s.components.push(v);
                }
            }
        }
        Ok(c.exports.iter().map(|(n, item)| (n.clone(), item_value(&s, *item))).collect())
    }

    /// Records the instantiation of `module`, resolving its imports from `args`.
    fn instantiate_module(
        &mut self,
        module: StaticModuleIndex,
        args: &HashMap<&str, &CoreInstanceValue>,
    ) -> Result<RuntimeInstanceIndex> {
        let m: &Module = self.module(module);
        let items = m
            .imports
            .iter()
            .map(|i| module_arg(args, &i.module, &i.name, matches!(i.entity, EntityIndex::Func(_))))
            .collect::<Result<_>>()?;
        self.info.initializers.push(Initializer::InstantiateModule { module, args: items });
        Ok(self.next_runtime_instance(InstanceExports::Static(module)))
    }

    /// Records the instantiation of the host's module at `import`, whose imports the
    /// instantiating component declares as `ty`, resolving them from `args`.
    fn instantiate_imported_module(
        &mut self,
        import: ImportPath,
        ty: CoreModuleType,
        args: &HashMap<&str, &CoreInstanceValue>,
    ) -> Result<RuntimeInstanceIndex> {
        let items = ty
            .imports
            .iter()
            .map(|(module, name, entity)| module_arg(args, module, name, matches!(entity, CoreEntityType::Func(_))))
            .collect::<Result<_>>()?;
        let ty = Arc::new(ty);
        self.info.initializers.push(Initializer::InstantiateImportedModule { import, ty: ty.clone(), args: items });
        Ok(self.next_runtime_instance(InstanceExports::Imported(ty)))
    }

    /// The index of the runtime core instance the initializer just recorded creates.
    fn next_runtime_instance(&mut self, exports: InstanceExports) -> RuntimeInstanceIndex {
        let index = RuntimeInstanceIndex::from_u32(self.info.num_runtime_instances);
        self.info.num_runtime_instances += 1;
        self.instance_exports.push(exports);
        index
    }

    /// The description of core module `index` (numbered across sources).
    fn module(&self, index: StaticModuleIndex) -> &'a Module {
        let source =
            SourceIndex::new(self.first_module.as_values_slice().partition_point(|f| *f <= index.as_u32()) - 1);
        self.sources[source].modules[StaticModuleIndex::from_u32(index.as_u32() - self.first_module[source])]
    }

    /// The component the host provides for the component import at `path`.
    fn provided_component(&self, path: &ImportPath) -> Result<ComponentValue> {
        match self.provided.get(path) {
            Some(source) => Ok(ComponentValue {
                source: *source,
                index: StaticComponentIndex::from_u32(0),
                outer: Rc::new(OuterScope::default()),
            }),
            None => bail!("no component was provided for the component import `{}`", self.import_name(path)),
        }
    }

    /// The full name of a root import path, for messages.
    fn import_name(&self, path: &ImportPath) -> String {
        let root = &self.sources[SourceIndex::ROOT].components[StaticComponentIndex::ROOT];
        path.full_name(root.imports.get(path.import.in_root()).map_or("?", |(n, _)| n.as_str()))
    }

    /// Binds every resource that the host's instance at `path` (of type `ty`) exports, at any
    /// depth, to its runtime resource, unless it is already bound (an `eq` to a resource the
    /// host gave before). A function of that instance may name any of them, whether or not the
    /// component ever aliases the type itself, and before it does.
    fn bind_host_resources(
        &mut self,
        conv: &mut TypeConverter<'_>,
        ty: wasmparser::component_types::ComponentInstanceTypeId,
        path: &ImportPath,
    ) {
        use wasmparser::component_types::ComponentEntityType as E;
        let types = conv.types();
        for (name, item) in &types[ty].exports {
            match &item.ty {
                E::Type { created: ComponentAnyTypeId::Resource(r), .. } if conv.bound(r.resource()).is_none() => {
                    if let TypeValue::Resource(runtime) = self.host_resource(path.child(name)) {
                        conv.bind(r.resource(), ResourceId(runtime.as_u32()));
                    }
                }
                E::Instance(inner) => self.bind_host_resources(conv, *inner, &path.child(name)),
                _ => {}
            }
        }
    }

    /// The runtime resource of the host import at `path`, created on first use.
    fn host_resource(&mut self, path: ImportPath) -> TypeValue {
        let next = self.info.resources.next_key();
        let r = *self.host_resources.entry(path.clone()).or_insert_with(|| {
            self.info.resources.push(ResourceDef::Host(path));
            next
        });
        TypeValue::Resource(r)
    }

    /// A resource intrinsic of instance `frame` for the resource type at `ty`.
    fn intrinsic(
        &mut self,
        s: &Scope,
        kind: IntrinsicKind,
        ty: LocalTypeIndex,
        frame: RuntimeComponentInstanceIndex,
    ) -> Result<CoreDef> {
        let TypeValue::Resource(resource) = s.types[ty] else {
            bail!("a resource intrinsic names a type that is not a resource");
        };
        Ok(CoreDef::Intrinsic(self.info.intrinsics.push(Intrinsic { kind, resource, instance: frame })))
    }

    /// An async or threads built-in of instance `frame` (core function `i` of `c`), with its
    /// immediates resolved.
    #[allow(clippy::too_many_arguments)]
    fn async_builtin(
        &mut self,
        s: &Scope,
        c: &StaticComponent,
        conv: &mut TypeConverter<'_>,
        i: LocalCoreFuncIndex,
        op: AsyncBuiltinOp,
        imm: &super::async_builtins::BuiltinImmediates,
        frame: RuntimeComponentInstanceIndex,
    ) -> Result<AsyncBuiltin> {
        let types = c.types().as_ref();
        let ty = types[types.core_function_at(i.as_u32())].unwrap_func();
        let ty = crate::FuncType::from_wasmparser(ty)?;
        let value_ty = match imm.ty {
            Some(t) => Some(conv.val_type(&defined_type(types, wasmparser::ComponentValType::Type(t))?)?),
            None => None,
        };
        let result = match imm.result {
            Some(r) => Some(conv.val_type(&defined_type(types, r)?)?),
            None => None,
        };
        let options = imm.options.as_ref().map(|o| self.options(s, &options(o), frame)).transpose()?;
        let table = imm.table.map(|t| core_export(s, &c.core_tables[LocalCoreTableIndex::from_u32(t)])).transpose()?;
        Ok(AsyncBuiltin { op, instance: frame, ty, value_ty, result, options, table })
    }

    /// Resolves canonical options to runtime indices, recording extractions on first use.
    fn options(&mut self, s: &Scope, o: &CanonicalOptions, instance: RuntimeComponentInstanceIndex) -> Result<Options> {
        let callback = o.callback.map(|f| s.core_funcs[f].clone());
        let mut out =
            Options { instance, string_encoding: o.string_encoding, async_: o.async_, callback, ..Options::default() };
        if let Some(m) = o.memory {
            let export = s.core_memories[m].clone();
            out.memory64 = self.is_memory64(&export);
            let next = RuntimeMemoryIndex::from_u32(self.memories.len() as u32);
            out.memory = Some(*self.memories.entry(export.clone()).or_insert_with(|| {
                self.info.initializers.push(Initializer::ExtractMemory { index: next, export });
                next
            }));
            self.info.num_memories = self.memories.len() as u32;
        }
        if let Some(r) = o.realloc {
            let def = s.core_funcs[r].clone();
            let next = RuntimeReallocIndex::from_u32(self.reallocs.len() as u32);
            out.realloc = Some(*self.reallocs.entry(def.clone()).or_insert_with(|| {
                self.info.initializers.push(Initializer::ExtractRealloc { index: next, def });
                next
            }));
            self.info.num_reallocs = self.reallocs.len() as u32;
        }
        if let Some(p) = o.post_return {
            let def = s.core_funcs[p].clone();
            let next = RuntimePostReturnIndex::from_u32(self.post_returns.len() as u32);
            out.post_return = Some(*self.post_returns.entry(def.clone()).or_insert_with(|| {
                self.info.initializers.push(Initializer::ExtractPostReturn { index: next, def });
                next
            }));
            self.info.num_post_returns = self.post_returns.len() as u32;
        }
        Ok(out)
    }

    fn is_memory64(&self, export: &CoreExport) -> bool {
        match &self.instance_exports[export.instance] {
            InstanceExports::Static(module) => {
                let module = self.module(*module);
                match module.exports.get(&export.name) {
                    Some(EntityIndex::Memory(m)) => module.memories[*m].memory64,
                    _ => false,
                }
            }
            InstanceExports::Imported(ty) => ty
                .exports
                .iter()
                .any(|(name, t)| *name == export.name && matches!(t, CoreEntityType::Memory(m) if m.memory64)),
        }
    }
}

/// The resource that type `ty` of `c` is already known to be: a type the host provides may
/// be declared equal (`eq`) to one imported before it, and is then that resource.
fn already_bound(conv: &TypeConverter<'_>, c: &StaticComponent, ty: LocalTypeIndex) -> Option<TypeValue> {
    match c.types().as_ref().component_any_type_at(ty.as_u32()) {
        ComponentAnyTypeId::Resource(id) => {
            conv.bound(id.resource()).map(|r| TypeValue::Resource(RuntimeResourceIndex::from_u32(r.0)))
        }
        _ => None,
    }
}

/// A value type as written (a primitive, or an index into the type index space) as the
/// validator's types name it.
fn defined_type(
    types: wasmparser::types::TypesRef<'_>,
    ty: wasmparser::ComponentValType,
) -> Result<wasmparser::component_types::ComponentValType> {
    use wasmparser::component_types::ComponentValType as Resolved;
    Ok(match ty {
        wasmparser::ComponentValType::Primitive(p) => Resolved::Primitive(p),
        wasmparser::ComponentValType::Type(i) => match types.component_any_type_at(i) {
            ComponentAnyTypeId::Defined(id) => Resolved::Type(id),
            _ => bail!("type {i} is not a value type"),
        },
    })
}

mod values;

pub use values::SourceIndex;

#[cfg(test)]
mod tests;
