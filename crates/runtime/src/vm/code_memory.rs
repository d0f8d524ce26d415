//! Executable memory for compiled code, and the process-wide registry of code ranges that the
//! signal handler consults to tell wasm faults from host faults.
//!
//! Code is either copied into a fresh mapping while it is writable, then the mapping becomes
//! read+execute, or it lies in a read-only mapping of an ahead-of-time artifact whose pages
//! are made read+execute where they are; it is never writable and executable at once.

use super::mmap::{Mmap, ReadOnlyMapping, page_size, round_up};
use super::trap_table::TrapTable;
use anyhow::Result;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use weld_cranelift::{CompiledCode, FunctionLoc};
use weld_environ::Trap;

/// What the registry knows about one range of code.
#[derive(Debug)]
pub struct CodeInfo {
    /// Function locations, relative to the start of the code.
    pub functions: Vec<FunctionLoc>,
    /// Trap sites, relative to the start of the code.
    pub traps: TrapTable,
    /// For wasm modules, the names of its functions (for backtraces); `None` for trampolines.
    pub names: Option<ModuleNames>,
    /// The module's name, if it has one.
    pub module_name: Option<String>,
    /// Calls with exception handlers, sorted by return offset.
    pub exception_sites: Vec<weld_cranelift::ExceptionSite>,
    /// Whether an exception unwinding into this code traps instead of going on (the code of
    /// fused adapters, which stand at a component boundary).
    pub exception_barrier: std::sync::atomic::AtomicBool,
}

/// The function names of a module's code: the name section's names (looked up when a
/// backtrace asks, not decoded beforehand), and the number of imported functions, which
/// the code does not hold.
#[derive(Debug)]
pub struct ModuleNames {
    /// The name section's function names.
    pub names: weld_environ::FuncNames,
    /// The number of imported functions.
    pub imported: usize,
}

impl CodeInfo {
    /// The call with exception handlers that returns to `offset`, if any.
    #[inline]
    pub fn exception_site(&self, offset: u32) -> Option<&weld_cranelift::ExceptionSite> {
        let i = self.exception_sites.binary_search_by_key(&offset, |s| s.ret_offset).ok()?;
        Some(&self.exception_sites[i])
    }

    /// The name of the code's function `i` (its name, or `func[N]`), unless this is not
    /// the code of a wasm module.
    pub fn function_name(&self, i: usize) -> Option<String> {
        let names = self.names.as_ref()?;
        let f = u32::try_from(names.imported + i).ok()?;
        Some(match names.names.get(weld_environ::FuncIndex::from_u32(f)) {
            Some(name) => name.to_string(),
            None => format!("func[{f}]"),
        })
    }
}

/// Compiled code mapped executable.
#[derive(Debug)]
pub struct CodeMemory {
    /// Keeps the mapping alive (the code is reached through `base`).
    _backing: Backing,
    /// The first byte of code.
    base: *const u8,
    /// The code's length in bytes.
    len: usize,
    info: Arc<CodeInfo>,
}

// SAFETY: the code is immutable once mapped; `base` points into `_backing`, which this value
// owns or shares, and is only read.
unsafe impl Send for CodeMemory {}
// SAFETY: as above.
unsafe impl Sync for CodeMemory {}

/// What keeps the code mapped.
#[derive(Debug)]
enum Backing {
    /// A mapping of its own.
    Own(#[allow(dead_code, reason = "kept for its Drop")] Mmap),
    /// A part of an artifact's mapping, shared with the other code of that artifact.
    Artifact(#[allow(dead_code, reason = "kept for its Drop")] Arc<ReadOnlyMapping>),
}

impl CodeMemory {
    /// Maps `code` executable and registers it.
    pub fn new(
        code: &CompiledCode,
        names: Option<ModuleNames>,
        module_name: Option<String>,
    ) -> Result<Arc<CodeMemory>> {
        let traps = TrapTable::Owned(code.traps.clone());
        let info = CodeInfo {
            functions: code.functions.clone(),
            traps,
            names,
            module_name,
            exception_sites: code.exception_sites.clone(),
            exception_barrier: Default::default(),
        };
        CodeMemory::copied(&code.bytes, info)
    }

    /// Copies `code` into a fresh mapping, makes it executable and registers it with `info`.
    pub fn copied(code: &[u8], info: CodeInfo) -> Result<Arc<CodeMemory>> {
        let len = code.len();
        let mmap = Mmap::reserve(round_up(len.max(1), page_size()))?;
        mmap.make_accessible(0, mmap.len())?;
        // SAFETY: the mapping is writable and at least `len` bytes long; nothing else uses it.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), mmap.as_ptr(), len) };
        mmap.make_executable(0, mmap.len())?;
        Ok(CodeMemory::register(Backing::Own(mmap), 0, len, Arc::new(info)))
    }

    /// Runs the code that lies at `start..start + len` of an artifact's `mapping` where it
    /// is (`start` page-aligned), making those pages executable. `info`'s offsets are relative
    /// to `start`, and lie inside the code.
    pub fn in_artifact(mapping: &Arc<ReadOnlyMapping>, start: usize, len: usize, info: CodeInfo) -> Result<Arc<Self>> {
        mapping.make_executable(start, len)?;
        let backing = Backing::Artifact(mapping.clone());
        Ok(CodeMemory::register(backing, start, len, Arc::new(info)))
    }

    fn register(backing: Backing, offset: usize, len: usize, info: Arc<CodeInfo>) -> Arc<CodeMemory> {
        let base = match &backing {
            Backing::Own(m) => m.as_ptr().cast_const(),
            Backing::Artifact(m) => m.bytes()[offset..].as_ptr(),
        };
        let memory = Arc::new(CodeMemory { _backing: backing, base, len, info });
        // Empty code has no addresses for a fault to be at (and its start may be another's).
        if len > 0 {
            let start = base as usize;
            registry().write().unwrap().insert(start, (start + len, memory.info.clone()));
        }
        memory
    }

    /// The address of the first byte of code.
    #[inline]
    pub fn base(&self) -> *const u8 {
        self.base
    }

    /// The code's bytes (to serialize them).
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `base..base + len` lies in a mapping that is readable (read+execute) and
        // kept alive by `_backing`; code is never written once mapped.
        unsafe { std::slice::from_raw_parts(self.base, self.len) }
    }

    /// What the registry knows about this code: its functions, traps and names.
    #[inline]
    pub fn info(&self) -> &CodeInfo {
        &self.info
    }

    /// The address of function `i`.
    #[inline]
    pub fn function(&self, i: usize) -> *const u8 {
        // SAFETY: function offsets lie inside the code, which lies inside the mapping.
        unsafe { self.base().add(self.info.functions[i].start as usize) }
    }
}

impl Drop for CodeMemory {
    #[inline]
    fn drop(&mut self) {
        if self.len > 0 {
            registry().write().unwrap().remove(&(self.base as usize));
        }
    }
}

type Registry = RwLock<BTreeMap<usize, (usize, Arc<CodeInfo>)>>;

#[inline]
fn registry() -> &'static Registry {
    static REGISTRY: Registry = RwLock::new(BTreeMap::new());
    &REGISTRY
}

/// The code range containing `pc`: its info and `pc`'s offset in it. The trap handler calls
/// this too, so it must not fail while another thread registers or drops code: it waits for
/// that thread's write, which is short and never runs wasm (a thread running wasm never holds
/// the write lock, so a trap cannot wait for its own thread).
#[inline]
pub fn lookup_code(pc: usize) -> Option<(Arc<CodeInfo>, u32)> {
    let reg = registry().read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (start, (end, info)) = reg.range(..=pc).next_back()?;
    (pc < *end).then(|| (info.clone(), (pc - start) as u32))
}

/// The trap raised by the instruction at `pc`, if `pc` is a trap site of JIT code.
#[inline]
pub fn lookup_trap(pc: usize) -> Option<Trap> {
    let (info, offset) = lookup_code(pc)?;
    info.traps.lookup(offset)
}
