//! Core WebAssembly types as weld uses them: value types, function signatures, and the types
//! of memories, tables and globals. Converted from wasmparser's types, rejecting what weld
//! does not support yet with a clear message.

use anyhow::{Result, bail};
use std::fmt;

/// The heap type of a reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeapType {
    /// A function reference.
    Func,
    /// An external (host) reference.
    Extern,
    /// A reference to an exception (`exnref`).
    Exn,
    /// A reference to a function of one type (`(ref $t)`). In a module's globals, tables and
    /// recursion groups the number is the module's type index; in the runtime's types (of
    /// store items, of imports and exports) it is the engine's signature id, so that two
    /// modules' types compare. Elsewhere (`Module::types`, the host API's function
    /// signatures, components) such references are `Func`.
    ConcreteFunc(u32),
}

impl HeapType {
    /// Whether references of this heap type are function references.
    pub fn is_func(self) -> bool {
        matches!(self, HeapType::Func | HeapType::ConcreteFunc(_))
    }

    /// Whether a reference to `self` may be used where one to `other` is expected.
    pub fn is_subtype_of(self, other: HeapType) -> bool {
        self == other || (matches!(self, HeapType::ConcreteFunc(_)) && other == HeapType::Func)
    }
}

/// A reference type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    /// Whether `null` is a value of this type.
    pub nullable: bool,
    /// What it refers to.
    pub heap: HeapType,
}

impl RefType {
    /// `funcref`.
    pub const FUNCREF: RefType = RefType { nullable: true, heap: HeapType::Func };
    /// `externref`.
    pub const EXTERNREF: RefType = RefType { nullable: true, heap: HeapType::Extern };
    /// `exnref`.
    pub const EXNREF: RefType = RefType { nullable: true, heap: HeapType::Exn };
}

/// A WebAssembly value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// 128-bit vector.
    V128,
    /// A reference.
    Ref(RefType),
}

impl ValType {
    /// `funcref`.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);
    /// `exnref`.
    pub const EXNREF: ValType = ValType::Ref(RefType::EXNREF);

    /// Converts wasmparser's value type.
    pub fn from_wasmparser(ty: wasmparser::ValType) -> Result<ValType> {
        Ok(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => ValType::Ref(RefType::from_wasmparser(r)?),
        })
    }

    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::Ref(_))
    }
}

impl RefType {
    /// Converts a module's reference type, keeping a concrete function type's index (for the
    /// types of globals and tables, which import matching compares).
    pub fn from_module(r: wasmparser::RefType) -> Result<RefType> {
        use wasmparser::HeapType as H;
        match r.heap_type() {
            H::Concrete(i) | H::Exact(i) => match i.as_module_index() {
                Some(i) => Ok(RefType { nullable: r.is_nullable(), heap: HeapType::ConcreteFunc(i) }),
                None => RefType::from_wasmparser(r),
            },
            _ => RefType::from_wasmparser(r),
        }
    }

    /// Converts wasmparser's reference type (a concrete function type becomes `func`).
    pub fn from_wasmparser(r: wasmparser::RefType) -> Result<RefType> {
        use wasmparser::{AbstractHeapType, HeapType as H};
        // Typed function references are represented like `func` (a concrete index always names
        // a function type here, since GC types are rejected), and the bottom types like the top
        // type of their hierarchy.
        let heap = match r.heap_type() {
            H::Abstract { shared: false, ty: AbstractHeapType::Func | AbstractHeapType::NoFunc } => HeapType::Func,
            H::Abstract { shared: false, ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern } => {
                HeapType::Extern
            }
            H::Abstract { shared: false, ty: AbstractHeapType::Exn | AbstractHeapType::NoExn } => HeapType::Exn,
            H::Concrete(_) | H::Exact(_) => HeapType::Func,
            other => bail!("unsupported reference type `{other:?}` (typed references and GC are not supported yet)"),
        };
        Ok(RefType { nullable: r.is_nullable(), heap })
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(RefType { nullable: true, heap: HeapType::Func }) => f.write_str("funcref"),
            ValType::Ref(RefType { nullable: true, heap: HeapType::Extern }) => f.write_str("externref"),
            ValType::Ref(RefType { nullable: false, heap: HeapType::Func }) => f.write_str("(ref func)"),
            ValType::Ref(RefType { nullable: false, heap: HeapType::Extern }) => f.write_str("(ref extern)"),
            ValType::Ref(RefType { nullable: true, heap: HeapType::Exn }) => f.write_str("exnref"),
            ValType::Ref(RefType { nullable: false, heap: HeapType::Exn }) => f.write_str("(ref exn)"),
            ValType::Ref(RefType { nullable, heap: HeapType::ConcreteFunc(t) }) => {
                write!(f, "(ref {}{t})", if *nullable { "null " } else { "" })
            }
        }
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FuncType {
    /// Parameter types.
    pub params: Box<[ValType]>,
    /// Result types.
    pub results: Box<[ValType]>,
}

impl FuncType {
    /// Builds a signature.
    pub fn new(params: impl IntoIterator<Item = ValType>, results: impl IntoIterator<Item = ValType>) -> Self {
        FuncType { params: params.into_iter().collect(), results: results.into_iter().collect() }
    }

    /// The parameter types.
    pub fn params(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.params.iter().copied()
    }

    /// The result types.
    pub fn results(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.results.iter().copied()
    }

    /// Converts wasmparser's function type.
    pub fn from_wasmparser(ty: &wasmparser::FuncType) -> Result<FuncType> {
        Ok(FuncType {
            params: ty.params().iter().map(|t| ValType::from_wasmparser(*t)).collect::<Result<_>>()?,
            results: ty.results().iter().map(|t| ValType::from_wasmparser(*t)).collect::<Result<_>>()?,
        })
    }

    /// Converts a module's function type, keeping a concrete reference's type index (what
    /// gives the type its identity, see [`RecGroup`](crate::RecGroup)).
    pub fn from_module(ty: &wasmparser::FuncType) -> Result<FuncType> {
        let convert = |t: &wasmparser::ValType| match *t {
            wasmparser::ValType::Ref(r) => Ok(ValType::Ref(RefType::from_module(r)?)),
            other => ValType::from_wasmparser(other),
        };
        Ok(FuncType {
            params: ty.params().iter().map(convert).collect::<Result<_>>()?,
            results: ty.results().iter().map(convert).collect::<Result<_>>()?,
        })
    }

    /// This type with every concrete reference `(ref $t)` shown as `(ref func)`: a signature
    /// as compiled code and the host API see it.
    pub fn without_concrete_refs(&self) -> FuncType {
        let erase = |t: &ValType| match *t {
            ValType::Ref(RefType { nullable, heap: HeapType::ConcreteFunc(_) }) => {
                ValType::Ref(RefType { nullable, heap: HeapType::Func })
            }
            other => other,
        };
        FuncType { params: self.params.iter().map(erase).collect(), results: self.results.iter().map(erase).collect() }
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        if !self.params.is_empty() {
            f.write_str(" (param")?;
            for p in self.params.iter() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if !self.results.is_empty() {
            f.write_str(" (result")?;
            for r in self.results.iter() {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

/// The WebAssembly page size, 64 KiB.
pub const WASM_PAGE_SIZE: u64 = 65536;

/// The type of a linear memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    /// Initial size in pages.
    pub minimum: u64,
    /// Maximum size in pages, if declared.
    pub maximum: Option<u64>,
    /// Whether addresses are 64-bit.
    pub memory64: bool,
    /// Whether the memory is shared between threads.
    pub shared: bool,
}

impl MemoryType {
    /// A 32-bit memory of `minimum` pages, growable to `maximum`.
    pub fn new(minimum: u32, maximum: Option<u32>) -> MemoryType {
        MemoryType { minimum: minimum.into(), maximum: maximum.map(Into::into), memory64: false, shared: false }
    }

    /// A 64-bit memory of `minimum` pages, growable to `maximum`.
    pub fn new64(minimum: u64, maximum: Option<u64>) -> MemoryType {
        MemoryType { minimum, maximum, memory64: true, shared: false }
    }

    /// Converts wasmparser's memory type; custom page sizes are rejected.
    pub fn from_wasmparser(ty: &wasmparser::MemoryType) -> Result<MemoryType> {
        if ty.page_size_log2.is_some_and(|l| l != 16) {
            bail!("custom page sizes are not supported yet");
        }
        Ok(MemoryType { minimum: ty.initial, maximum: ty.maximum, memory64: ty.memory64, shared: ty.shared })
    }

    /// The largest number of pages the index type allows.
    pub fn max_pages_for_index(&self) -> u64 {
        if self.memory64 { 1 << 48 } else { 1 << 16 }
    }
}

/// The type of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    /// The element type.
    pub element: RefType,
    /// Initial number of elements.
    pub minimum: u64,
    /// Maximum number of elements, if declared.
    pub maximum: Option<u64>,
    /// Whether indices are 64-bit.
    pub table64: bool,
}

impl TableType {
    /// A 32-bit table of `element`s, with `minimum` elements, growable to `maximum`.
    pub fn new(element: RefType, minimum: u32, maximum: Option<u32>) -> TableType {
        TableType { element, minimum: minimum.into(), maximum: maximum.map(Into::into), table64: false }
    }

    /// A 64-bit table of `element`s, with `minimum` elements, growable to `maximum`.
    pub fn new64(element: RefType, minimum: u64, maximum: Option<u64>) -> TableType {
        TableType { element, minimum, maximum, table64: true }
    }

    /// Converts a module's table type, keeping a concrete element type's index.
    pub fn from_module(ty: &wasmparser::TableType) -> Result<TableType> {
        Ok(TableType { element: RefType::from_module(ty.element_type)?, ..TableType::from_wasmparser(ty)? })
    }

    /// Converts wasmparser's table type.
    pub fn from_wasmparser(ty: &wasmparser::TableType) -> Result<TableType> {
        Ok(TableType {
            element: RefType::from_wasmparser(ty.element_type)?,
            minimum: ty.initial,
            maximum: ty.maximum,
            table64: ty.table64,
        })
    }
}

/// The type of a global.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    /// The value type.
    pub ty: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// Whether a global can change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable.
    Var,
}

impl GlobalType {
    /// A global of type `ty`.
    pub fn new(ty: ValType, mutability: Mutability) -> GlobalType {
        GlobalType { ty, mutable: mutability == Mutability::Var }
    }

    /// The value type.
    pub fn content(&self) -> ValType {
        self.ty
    }

    /// Whether it is mutable.
    pub fn mutability(&self) -> Mutability {
        if self.mutable { Mutability::Var } else { Mutability::Const }
    }

    /// Converts a module's global type, keeping a concrete reference type's index.
    pub fn from_module(ty: &wasmparser::GlobalType) -> Result<GlobalType> {
        let mut g = GlobalType::from_wasmparser(ty)?;
        if let wasmparser::ValType::Ref(r) = ty.content_type {
            g.ty = ValType::Ref(RefType::from_module(r)?);
        }
        Ok(g)
    }

    /// Converts wasmparser's global type.
    pub fn from_wasmparser(ty: &wasmparser::GlobalType) -> Result<GlobalType> {
        if ty.shared {
            bail!("shared globals are not supported yet");
        }
        Ok(GlobalType { ty: ValType::from_wasmparser(ty.content_type)?, mutable: ty.mutable })
    }
}
