//! What a component *is* once flattened: the ordered list of initializers that instantiation
//! runs, and the exports, with every name already resolved to an index. Produced by the
//! inliner; consumed by the runtime.

pub use super::async_builtins::{AsyncBuiltinOp, CONTEXT_SLOTS};
use super::translate::{LocalImportIndex, StaticModuleIndex, StringEncoding};
use super::types::{FuncType, InterfaceType};
use crate::PrimaryMap;
use indexmap::IndexMap;
use std::sync::Arc;

crate::entity_index! {
    /// A core module instance created while instantiating the component, in creation order.
    pub struct RuntimeInstanceIndex;
    /// A host import lowered into a core function.
    pub struct LoweredIndex;
    /// A core memory used by canonical options.
    pub struct RuntimeMemoryIndex;
    /// A core `realloc` function used by canonical options.
    pub struct RuntimeReallocIndex;
    /// A core `post-return` function used by canonical options.
    pub struct RuntimePostReturnIndex;
    /// One of the root component's imports.
    pub struct ImportIndex;
    /// A component-to-component call that needs a fused adapter.
    pub struct FusedIndex;
    /// A component instance inside the flattened component (the root is 0); each has its own
    /// handle table.
    pub struct RuntimeComponentInstanceIndex;
    /// A resource type created at run time: each instantiation of a component that defines a
    /// resource type creates a new one, and each host resource import is one.
    pub struct RuntimeResourceIndex;
    /// A resource intrinsic (`resource.new`, `resource.rep`, `resource.drop`).
    pub struct IntrinsicIndex;
    /// A core module of fused adapters, compiled by FACT.
    pub struct AdapterModuleIndex;
    /// A built-in of component-model async or threads.
    pub struct AsyncBuiltinIndex;
    /// A component-to-component call that the runtime makes (one side async, or async
    /// values passed): see [`AsyncCall`].
    pub struct AsyncCallIndex;
}

impl ImportIndex {
    /// The root import that the root component numbers `import`.
    pub fn of_root(import: LocalImportIndex) -> ImportIndex {
        ImportIndex(import.as_u32())
    }

    /// The number the root component gives this import.
    pub fn in_root(self) -> LocalImportIndex {
        LocalImportIndex::from_u32(self.0)
    }
}

/// Where a resource type comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceDef {
    /// Defined by a component instance, with its destructor if it has one.
    Guest {
        /// The defining instance.
        instance: RuntimeComponentInstanceIndex,
        /// The destructor, called with the representation when an owned handle is dropped.
        dtor: Option<CoreDef>,
    },
    /// Imported from the host through this path.
    Host(ImportPath),
}

/// Which resource intrinsic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntrinsicKind {
    /// `resource.new`: `(rep: i32) -> i32`.
    ResourceNew,
    /// `resource.rep`: `(handle: i32) -> i32`.
    ResourceRep,
    /// `resource.drop`: `(handle: i32)`.
    ResourceDrop,
}

/// A resource intrinsic of one component instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Intrinsic {
    /// Which one.
    pub kind: IntrinsicKind,
    /// Its resource type.
    pub resource: RuntimeResourceIndex,
    /// The instance whose handle table it works on.
    pub instance: RuntimeComponentInstanceIndex,
}

/// An export of a core instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CoreExport {
    /// The instance.
    pub instance: RuntimeInstanceIndex,
    /// The export's name.
    pub name: String,
}

/// A core function, as an import argument or a lifted function's code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CoreDef {
    /// An export of a core instance.
    Export(CoreExport),
    /// A lowered host import.
    Lowered(LoweredIndex),
    /// A lowered function of another component (a fused call).
    Fused(FusedIndex),
    /// A resource intrinsic.
    Intrinsic(IntrinsicIndex),
    /// A built-in of component-model async or threads.
    AsyncBuiltin(AsyncBuiltinIndex),
    /// A lowered function of another component, called through the runtime.
    AsyncCall(AsyncCallIndex),
}

/// A built-in of component-model async or threads (`task.return`, `stream.read`, ...), with
/// its immediates resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsyncBuiltin {
    /// Which built-in, with its immediates that are plain numbers.
    pub op: AsyncBuiltinOp,
    /// The component instance that defines it.
    pub instance: RuntimeComponentInstanceIndex,
    /// Its core function type.
    pub ty: crate::FuncType,
    /// The `stream<T>` or `future<T>` type of a stream or future built-in.
    pub value_ty: Option<InterfaceType>,
    /// The result type of `task.return` (`None` also for a function without a result).
    pub result: Option<InterfaceType>,
    /// The canonical options it was given (`task.return`, `stream.read`, the memory of
    /// `waitable-set.wait`, ...).
    pub options: Option<Options>,
    /// The core table of `thread.new-indirect`.
    pub table: Option<CoreExport>,
}

/// A call from one component to another that the runtime makes rather than a fused adapter:
/// one where either side uses the async ABI, the callee's type is `async`, or values only
/// the runtime can pass (streams, futures, error contexts) cross. The runtime lifts the
/// caller's arguments and lowers them into the callee when the callee's task starts, and
/// back for the result, with the tasks and subtasks of the spec's `canon_lift` and
/// `canon_lower`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsyncCall {
    /// The callee side.
    pub lift: LiftedFunc,
    /// The caller's options.
    pub lower: Options,
}

impl AsyncCall {
    /// Whether a call from `lower` into `lift` must be an [`AsyncCall`] rather than a
    /// [`FusedCall`].
    pub fn needed(lift: &LiftedFunc, lower: &Options) -> bool {
        lift.options.async_ || lower.async_ || lift.ty.async_ || lift.ty.contains_async_value()
    }
}

/// A core item passed as a module import.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CoreItemDef {
    /// A function.
    Func(CoreDef),
    /// A memory, table or global: always an export of some instance.
    Export(CoreExport),
}

/// Canonical options with every core item resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Options {
    /// The component instance the lift or lower belongs to (whose handle table handles go
    /// through).
    pub instance: RuntimeComponentInstanceIndex,
    /// The string encoding.
    pub string_encoding: StringEncoding,
    /// The memory, if given.
    pub memory: Option<RuntimeMemoryIndex>,
    /// Whether that memory is 64-bit.
    pub memory64: bool,
    /// The realloc function, if given.
    pub realloc: Option<RuntimeReallocIndex>,
    /// The post-return function, if given.
    pub post_return: Option<RuntimePostReturnIndex>,
    /// The `async` option.
    pub async_: bool,
    /// The `callback` of an async lift.
    pub callback: Option<CoreDef>,
}

/// A host import reached through the root's import `import`, then the export names in `path`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImportPath {
    /// The root import.
    pub import: ImportIndex,
    /// Export names inside it (empty for a function imported directly).
    pub path: Vec<String>,
}

impl ImportPath {
    /// The path written `root#name#...` (as `--invoke` and Wasmtime spell an instance's export),
    /// given the name of its root import, for messages.
    pub fn full_name(&self, root: &str) -> String {
        std::iter::once(root).chain(self.path.iter().map(String::as_str)).collect::<Vec<_>>().join("#")
    }

    /// The export `name` of the instance this path leads to.
    pub fn child(&self, name: &str) -> ImportPath {
        let mut path = self.path.clone();
        path.push(name.to_string());
        ImportPath { import: self.import, path }
    }
}

/// A lifted function: its type, code and options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiftedFunc {
    /// The component-level type.
    pub ty: FuncType,
    /// The core function implementing it.
    pub core: CoreDef,
    /// The canonical options of the lift.
    pub options: Options,
}

/// A component-to-component call: a lift on one side and a lower on the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FusedCall {
    /// The callee side.
    pub lift: LiftedFunc,
    /// The caller's options.
    pub lower: Options,
    /// How many initializers existed when the `canon lower` was reached: everything the
    /// adapter imports exists once that many initializers have run.
    pub ready_after: usize,
}

/// A group of fused calls compiled into one core module (see `adapt.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterModule {
    /// The calls, in creation order; the module exports `adapter{i}` for each [`FusedIndex`] `i`.
    pub adapters: Vec<FusedIndex>,
}

/// A core module that a component instantiates or exports.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ModuleRef {
    /// Defined inside the component.
    Static(StaticModuleIndex),
    /// Provided by the host through this import path.
    Import(ImportPath),
}

/// The type of a core item, as a component declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreEntityType {
    /// A function.
    Func(crate::FuncType),
    /// A table.
    Table(crate::TableType),
    /// A memory.
    Memory(crate::MemoryType),
    /// A global.
    Global(crate::GlobalType),
    /// An exception tag, by the function type of its payload.
    Tag(crate::FuncType),
}

/// The type a component gives a core module that the host provides: what the component
/// passes it and what it uses of it. The host's module may import less and export more.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CoreModuleType {
    /// Imports as (module, name, type), in the declared order.
    pub imports: Vec<(String, String, CoreEntityType)>,
    /// Exports the component may use.
    pub exports: Vec<(String, CoreEntityType)>,
}

/// One step of instantiation, run in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Initializer {
    /// Instantiates a module with its imports in the module's import order; creates the next
    /// [`RuntimeInstanceIndex`].
    InstantiateModule {
        /// The module.
        module: StaticModuleIndex,
        /// One item per module import.
        args: Vec<CoreItemDef>,
    },
    /// Instantiates a core module the host provides; creates the next
    /// [`RuntimeInstanceIndex`]. The runtime checks the module against `ty` and passes each
    /// of its imports the argument of the same name.
    InstantiateImportedModule {
        /// Where the module comes from.
        import: ImportPath,
        /// The type the instantiating component gives it.
        ty: Arc<CoreModuleType>,
        /// One item per import of `ty`, in its order.
        args: Vec<CoreItemDef>,
    },
    /// Lowers a host import into core function `index`.
    LowerImport {
        /// The lowered function.
        index: LoweredIndex,
        /// Which host function.
        import: ImportPath,
        /// Its component-level type.
        ty: FuncType,
        /// The caller's options.
        options: Options,
    },
    /// Records a memory for canonical options.
    ExtractMemory {
        /// Its index.
        index: RuntimeMemoryIndex,
        /// Where it comes from.
        export: CoreExport,
    },
    /// Records a realloc function.
    ExtractRealloc {
        /// Its index.
        index: RuntimeReallocIndex,
        /// The function.
        def: CoreDef,
    },
    /// Records a post-return function.
    ExtractPostReturn {
        /// Its index.
        index: RuntimePostReturnIndex,
        /// The function.
        def: CoreDef,
    },
    /// Instantiates an adapter module: from here on its fused calls exist as core functions.
    InstantiateAdapters(AdapterModuleIndex),
}

/// An export of the root component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Export {
    /// A lifted function.
    Func(LiftedFunc),
    /// An instance with named exports.
    Instance(IndexMap<String, Export>),
    /// A core module.
    Module(ModuleRef),
}

/// What an import of the root component is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportKind {
    /// A function of this type.
    Func(FuncType),
    /// A resource type.
    Resource,
    /// A type that is not a resource: the host provides nothing for it.
    Type,
    /// An instance (its exports are found by name when lowered).
    Instance,
    /// A core module (checked against its type when instantiated).
    Module,
    /// A component, which the host provides and the importing component instantiates.
    Component,
    /// Something weld does not support importing yet.
    Unsupported(&'static str),
}

/// A flattened component.
#[derive(Clone, Debug, Default)]
pub struct ComponentInfo {
    /// The root's imports, by name.
    pub imports: IndexMap<String, ImportKind>,
    /// Instantiation steps in order.
    pub initializers: Vec<Initializer>,
    /// The component-to-component calls, by index.
    pub fused: PrimaryMap<FusedIndex, FusedCall>,
    /// The adapter modules, by index (each instantiated by one initializer).
    pub adapter_modules: PrimaryMap<AdapterModuleIndex, AdapterModule>,
    /// The parent of each component instance (`None` for the root).
    pub instance_parents: PrimaryMap<RuntimeComponentInstanceIndex, Option<RuntimeComponentInstanceIndex>>,
    /// The root's exports.
    pub exports: IndexMap<String, Export>,
    /// Number of core instances created.
    pub num_runtime_instances: u32,
    /// Number of lowered host imports.
    pub num_lowered: u32,
    /// Number of extracted memories.
    pub num_memories: u32,
    /// Number of extracted reallocs.
    pub num_reallocs: u32,
    /// Number of extracted post-returns.
    pub num_post_returns: u32,
    /// Number of component instances (handle tables).
    pub num_component_instances: u32,
    /// Resource types, by runtime index; `InterfaceType::Own(ResourceId(i))` names the `i`th.
    pub resources: PrimaryMap<RuntimeResourceIndex, ResourceDef>,
    /// Resource intrinsics, by index.
    pub intrinsics: PrimaryMap<IntrinsicIndex, Intrinsic>,
    /// Async and threads built-ins, by index.
    pub async_builtins: PrimaryMap<AsyncBuiltinIndex, AsyncBuiltin>,
    /// Component-to-component calls the runtime makes, by index.
    pub async_calls: PrimaryMap<AsyncCallIndex, AsyncCall>,
}

impl ComponentInfo {
    /// Whether some instance uses `context.get` or `context.set`: only then do calls into
    /// the component give each task a context of its own (a cost on every call).
    pub fn uses_task_context(&self) -> bool {
        self.async_builtins
            .values()
            .any(|b| matches!(b.op, AsyncBuiltinOp::ContextGet { .. } | AsyncBuiltinOp::ContextSet { .. }))
    }

    /// Whether `instance` defines a built-in that names or switches threads (`thread.index`,
    /// `thread.new-indirect`, `thread.suspend`, `thread.resume-later`, the `*-then-resume`
    /// and `*-then-promote` switches): only synchronous calls into such an instance get a
    /// task and thread of their own (a cost on each of them).
    pub fn uses_threads(&self, instance: RuntimeComponentInstanceIndex) -> bool {
        use AsyncBuiltinOp as Op;
        self.async_builtins.values().any(|b| {
            b.instance == instance
                && matches!(
                    b.op,
                    Op::ThreadIndex
                        | Op::ThreadNewIndirect
                        | Op::ThreadResumeLater
                        | Op::ThreadSuspend
                        | Op::ThreadSuspendThenResume
                        | Op::ThreadYieldThenResume
                        | Op::ThreadSuspendThenPromote
                        | Op::ThreadYieldThenPromote
                )
        })
    }

    /// Whether `instance` is the component instance that defines `resource` (a borrow of it
    /// is then lowered as the bare representation).
    pub fn defines_resource(&self, instance: RuntimeComponentInstanceIndex, resource: RuntimeResourceIndex) -> bool {
        matches!(self.resources.get(resource), Some(ResourceDef::Guest { instance: i, .. }) if *i == instance)
    }

    /// Component instance `instance` and all its ancestors, innermost first.
    pub fn self_and_ancestors(&self, instance: RuntimeComponentInstanceIndex) -> Vec<RuntimeComponentInstanceIndex> {
        let mut out = vec![instance];
        let mut at = instance;
        while let Some(Some(parent)) = self.instance_parents.get(at) {
            out.push(*parent);
            at = *parent;
        }
        out
    }

    /// The spec's `entering_set`: the instances a call into `callee` enters, given the
    /// calling instance (`None` for the host). Calls between instances that share ancestors
    /// do not enter those again.
    pub fn entering_set(
        &self,
        callee: RuntimeComponentInstanceIndex,
        caller: Option<RuntimeComponentInstanceIndex>,
    ) -> Vec<RuntimeComponentInstanceIndex> {
        let mut set = self.self_and_ancestors(callee);
        if let Some(caller) = caller {
            let held = self.self_and_ancestors(caller);
            set.retain(|i| !held.contains(i));
        }
        set
    }
}
