//! Translation of a core module binary into a [`Module`] description.
//!
//! The binary is validated section by section with wasmparser. Function bodies are not
//! validated here: each comes back as a [`FunctionBodyData`] holding a validator for it, so the
//! compiler can validate and translate bodies in parallel.

use crate::*;
use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use wasmparser::{FuncToValidate, FunctionBody, Parser, Payload, Validator, ValidatorResources, WasmFeatures};

/// What an import or export refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityIndex {
    /// A function.
    Func(FuncIndex),
    /// A table.
    Table(TableIndex),
    /// A linear memory.
    Memory(MemoryIndex),
    /// A global.
    Global(GlobalIndex),
    /// An exception tag.
    Tag(TagIndex),
}

/// An import of a module.
#[derive(Clone, Debug)]
pub struct Import {
    /// The module name.
    pub module: String,
    /// The field name.
    pub name: String,
    /// The entity the import defines in this module's index spaces.
    pub entity: EntityIndex,
}

/// Where an active data segment goes.
#[derive(Clone, Debug)]
pub struct ActiveData {
    /// The memory written.
    pub memory: MemoryIndex,
    /// The offset in that memory.
    pub offset: ConstExpr,
}

/// A data segment.
#[derive(Clone, Debug)]
pub struct DataSegment {
    /// `Some` for an active segment, copied at instantiation.
    pub active: Option<ActiveData>,
    /// The bytes (shared: a module loaded from an artifact refers to them in its file).
    pub data: SharedBytes,
}

/// What an element segment holds.
#[derive(Clone, Debug)]
pub enum ElementItems {
    /// Function indices.
    Functions(Box<[FuncIndex]>),
    /// Constant expressions, each producing a reference.
    Expressions(Box<[ConstExpr]>),
}

impl ElementItems {
    /// The number of items.
    pub fn len(&self) -> usize {
        match self {
            ElementItems::Functions(f) => f.len(),
            ElementItems::Expressions(e) => e.len(),
        }
    }
    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The mode of an element segment.
#[derive(Clone, Debug)]
pub enum ElementMode {
    /// Available to `table.init` until dropped.
    Passive,
    /// Written to a table at instantiation, then dropped.
    Active {
        /// The table written.
        table: TableIndex,
        /// The offset in that table.
        offset: ConstExpr,
    },
    /// Only declares functions referenceable by `ref.func`; dropped at instantiation.
    Declared,
}

/// An element segment.
#[derive(Clone, Debug)]
pub struct ElementSegment {
    /// How the segment is used.
    pub mode: ElementMode,
    /// The element type.
    pub ty: RefType,
    /// The items.
    pub items: ElementItems,
}

/// A defined table: its type and, when given, the expression every element starts as.
#[derive(Clone, Debug)]
pub struct TablePlan {
    /// The table's type.
    pub ty: TableType,
    /// The initial element (null when absent).
    pub init: Option<ConstExpr>,
}

/// Everything about a module except its function bodies.
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// The module's name from the name section.
    pub name: Option<String>,
    /// Function types by type index, concrete references erased (as code generation and the
    /// host API see them).
    pub types: PrimaryMap<TypeIndex, FuncType>,
    /// The type section's recursion groups, which hold the same types as `types` (in the
    /// same order) with what gives each its identity.
    pub rec_groups: Vec<RecGroup>,
    /// The type of every function, imported ones first.
    pub functions: PrimaryMap<FuncIndex, TypeIndex>,
    /// Every table, imported ones first.
    pub tables: PrimaryMap<TableIndex, TablePlan>,
    /// Every memory, imported ones first.
    pub memories: PrimaryMap<MemoryIndex, MemoryType>,
    /// Every global, imported ones first.
    pub globals: PrimaryMap<GlobalIndex, GlobalType>,
    /// Initializers of the defined globals, in order.
    pub global_inits: Vec<ConstExpr>,
    /// The function type of every exception tag (its parameters are the payload), imported
    /// ones first.
    pub tags: PrimaryMap<TagIndex, TypeIndex>,
    /// Number of imported tags.
    pub num_imported_tags: usize,
    /// Number of imported functions.
    pub num_imported_funcs: usize,
    /// Number of imported tables.
    pub num_imported_tables: usize,
    /// Number of imported memories.
    pub num_imported_memories: usize,
    /// Number of imported globals.
    pub num_imported_globals: usize,
    /// Imports in declaration order.
    pub imports: Vec<Import>,
    /// Exports by name, in declaration order.
    /// (Hashed with foldhash, seeded per map: export names are looked up at every
    /// instantiation of a component, where SipHash was a tenth of the time, and a random seed
    /// keeps a module from choosing colliding names.)
    pub exports: IndexMap<String, EntityIndex, foldhash::fast::RandomState>,
    /// The start function.
    pub start: Option<FuncIndex>,
    /// Data segments.
    pub data: PrimaryMap<DataIndex, DataSegment>,
    /// Element segments.
    pub elements: PrimaryMap<ElemIndex, ElementSegment>,
    /// Function names from the name section.
    pub func_names: FuncNames,
}

impl Module {
    /// The signature of function `f`.
    pub fn func_type(&self, f: FuncIndex) -> &FuncType {
        &self.types[self.functions[f]]
    }
    /// Whether `f` is imported.
    pub fn is_imported_func(&self, f: FuncIndex) -> bool {
        f.index() < self.num_imported_funcs
    }
    /// The defined-function index of `f`, if it is defined here.
    pub fn defined_func_index(&self, f: FuncIndex) -> Option<DefinedFuncIndex> {
        f.index().checked_sub(self.num_imported_funcs).map(DefinedFuncIndex::new)
    }
    /// The function index of defined function `d`.
    pub fn func_index(&self, d: DefinedFuncIndex) -> FuncIndex {
        FuncIndex::new(d.index() + self.num_imported_funcs)
    }
    /// Number of functions defined (not imported) here.
    pub fn num_defined_funcs(&self) -> usize {
        self.functions.len() - self.num_imported_funcs
    }
    /// The payload types of tag `t`.
    pub fn tag_payload(&self, t: TagIndex) -> &[ValType] {
        &self.types[self.tags[t]].params
    }
    /// Whether global `g` is imported.
    pub fn is_imported_global(&self, g: GlobalIndex) -> bool {
        g.index() < self.num_imported_globals
    }
    /// A readable name for function `f`: its name-section name or `func[N]`.
    pub fn func_display_name(&self, f: FuncIndex) -> String {
        match self.func_names.get(f) {
            Some(n) => n.to_string(),
            None => format!("func[{}]", f.as_u32()),
        }
    }
}

/// A function body still to validate and compile.
pub struct FunctionBodyData<'a> {
    /// The body's bytes.
    pub body: FunctionBody<'a>,
    /// The validator for this body.
    pub validator: FuncToValidate<ValidatorResources>,
}

/// The result of translating a module binary.
pub struct ModuleTranslation<'a> {
    /// The module description.
    pub module: Module,
    /// Defined function bodies, in order.
    pub bodies: Vec<FunctionBodyData<'a>>,
    /// The module's binary (for a module inside a component, its part of the component's
    /// binary): what compiled code is cached and serialized by.
    pub wasm: &'a [u8],
}

/// The features weld's core engine implements.
pub fn supported_features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::RELAXED_SIMD
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::FUNCTION_REFERENCES
        | WasmFeatures::EXCEPTIONS
        | WasmFeatures::LEGACY_EXCEPTIONS
        // GC validation rules (e.g. `global.get` of defined globals in constant expressions);
        // GC types themselves are rejected when the type section is translated.
        | WasmFeatures::GC
}

/// Validates and translates a module binary with the given features.
pub fn translate_module(bytes: &[u8], features: WasmFeatures) -> Result<ModuleTranslation<'_>> {
    let mut validator = Validator::new_with_features(features);
    let mut t = ModuleTranslation { module: Module::default(), bodies: Vec::new(), wasm: bytes };
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        match validator.payload(&payload)? {
            wasmparser::ValidPayload::Ok => {}
            wasmparser::ValidPayload::Func(validator, body) => {
                t.bodies.push(FunctionBodyData { body, validator });
                continue;
            }
            wasmparser::ValidPayload::End(_) => break,
            wasmparser::ValidPayload::Parser(_) => bail!("a component cannot be loaded as a core module"),
        }
        translate_payload(&mut t.module, payload)?;
    }
    Ok(t)
}

pub(crate) fn translate_payload(m: &mut Module, payload: Payload<'_>) -> Result<()> {
    match payload {
        Payload::Version { encoding: wasmparser::Encoding::Component, .. } => {
            bail!("expected a core module, found a component")
        }
        Payload::TypeSection(s) => {
            for group in s {
                let group = crate::rec_group::read_rec_group(group?, m.types.len() as u32)?;
                for t in group.types.iter() {
                    m.types.push(t.ty.without_concrete_refs());
                }
                m.rec_groups.push(group);
            }
        }
        Payload::ImportSection(s) => {
            for import in s.into_imports() {
                let import = import?;
                let entity = match import.ty {
                    wasmparser::TypeRef::Func(t) | wasmparser::TypeRef::FuncExact(t) => {
                        m.num_imported_funcs += 1;
                        EntityIndex::Func(m.functions.push(TypeIndex::from_u32(t)))
                    }
                    wasmparser::TypeRef::Table(t) => {
                        m.num_imported_tables += 1;
                        EntityIndex::Table(m.tables.push(TablePlan { ty: TableType::from_module(&t)?, init: None }))
                    }
                    wasmparser::TypeRef::Memory(t) => {
                        m.num_imported_memories += 1;
                        EntityIndex::Memory(m.memories.push(MemoryType::from_wasmparser(&t)?))
                    }
                    wasmparser::TypeRef::Global(t) => {
                        m.num_imported_globals += 1;
                        EntityIndex::Global(m.globals.push(GlobalType::from_module(&t)?))
                    }
                    wasmparser::TypeRef::Tag(t) => {
                        m.num_imported_tags += 1;
                        EntityIndex::Tag(m.tags.push(TypeIndex::from_u32(t.func_type_idx)))
                    }
                };
                m.imports.push(Import { module: import.module.to_string(), name: import.name.to_string(), entity });
            }
        }
        Payload::FunctionSection(s) => {
            for ty in s {
                m.functions.push(TypeIndex::from_u32(ty?));
            }
        }
        Payload::TableSection(s) => {
            for table in s {
                let table = table?;
                let init = match table.init {
                    wasmparser::TableInit::RefNull => None,
                    wasmparser::TableInit::Expr(e) => Some(ConstExpr::from_wasmparser(&e)?),
                };
                m.tables.push(TablePlan { ty: TableType::from_module(&table.ty)?, init });
            }
        }
        Payload::MemorySection(s) => {
            for mem in s {
                m.memories.push(MemoryType::from_wasmparser(&mem?)?);
            }
        }
        Payload::TagSection(s) => {
            for tag in s {
                m.tags.push(TypeIndex::from_u32(tag?.func_type_idx));
            }
        }
        Payload::GlobalSection(s) => {
            for g in s {
                let g = g?;
                m.globals.push(GlobalType::from_module(&g.ty)?);
                m.global_inits.push(ConstExpr::from_wasmparser(&g.init_expr)?);
            }
        }
        Payload::ExportSection(s) => {
            for e in s {
                let e = e?;
                let entity = match e.kind {
                    wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                        EntityIndex::Func(FuncIndex::from_u32(e.index))
                    }
                    wasmparser::ExternalKind::Table => EntityIndex::Table(TableIndex::from_u32(e.index)),
                    wasmparser::ExternalKind::Memory => EntityIndex::Memory(MemoryIndex::from_u32(e.index)),
                    wasmparser::ExternalKind::Global => EntityIndex::Global(GlobalIndex::from_u32(e.index)),
                    wasmparser::ExternalKind::Tag => EntityIndex::Tag(TagIndex::from_u32(e.index)),
                };
                m.exports.insert(e.name.to_string(), entity);
            }
        }
        Payload::StartSection { func, .. } => m.start = Some(FuncIndex::from_u32(func)),
        Payload::ElementSection(s) => {
            for e in s {
                m.elements.push(translate_element(e?)?);
            }
        }
        Payload::DataSection(s) => {
            for d in s {
                let d = d?;
                let active = match d.kind {
                    wasmparser::DataKind::Passive => None,
                    wasmparser::DataKind::Active { memory_index, offset_expr } => Some(ActiveData {
                        memory: MemoryIndex::from_u32(memory_index),
                        offset: ConstExpr::from_wasmparser(&offset_expr)?,
                    }),
                };
                m.data.push(DataSegment { active, data: SharedBytes::from(d.data) });
            }
        }
        Payload::CustomSection(c) => {
            if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                // A malformed name section is ignored, as the spec asks.
                let _ = read_names(m, names);
            }
        }
        _ => {}
    }
    Ok(())
}

fn translate_element(e: wasmparser::Element<'_>) -> Result<ElementSegment> {
    let mode = match e.kind {
        wasmparser::ElementKind::Passive => ElementMode::Passive,
        wasmparser::ElementKind::Declared => ElementMode::Declared,
        wasmparser::ElementKind::Active { table_index, offset_expr } => ElementMode::Active {
            table: TableIndex::from_u32(table_index.unwrap_or(0)),
            offset: ConstExpr::from_wasmparser(&offset_expr)?,
        },
    };
    let (ty, items) = match e.items {
        wasmparser::ElementItems::Functions(f) => (
            RefType::FUNCREF,
            ElementItems::Functions(f.into_iter().map(|f| f.map(FuncIndex::from_u32)).collect::<Result<_, _>>()?),
        ),
        wasmparser::ElementItems::Expressions(ty, exprs) => (
            RefType::from_wasmparser(ty)?,
            ElementItems::Expressions(
                exprs.into_iter().map(|e| ConstExpr::from_wasmparser(&e?)).collect::<Result<_>>()?,
            ),
        ),
    };
    Ok(ElementSegment { mode, ty, items })
}

fn read_names(m: &mut Module, names: wasmparser::NameSectionReader<'_>) -> Result<()> {
    for name in names {
        match name? {
            wasmparser::Name::Module { name, .. } => m.name = Some(name.to_string()),
            wasmparser::Name::Function(map) => {
                let mut pairs = Vec::new();
                for n in map {
                    let n = n?;
                    pairs.push((n.index, n.name));
                }
                m.func_names = FuncNames::from_pairs(pairs);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Translates with [`supported_features`], adding context to errors.
pub fn translate_module_default(bytes: &[u8]) -> Result<ModuleTranslation<'_>> {
    translate_module(bytes, supported_features()).context("failed to translate the module")
}
