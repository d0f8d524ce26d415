//! Executable memory for compiled code, and the process-wide registry of code ranges that the
//! signal handler consults to tell wasm faults from host faults.
//!
//! Code is copied into a fresh mapping while it is writable, then the mapping becomes
//! read+execute; it is never writable and executable at once.

use super::mmap::{Mmap, page_size, round_up};
use anyhow::Result;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use weld_cranelift::{CompiledCode, FunctionLoc, TrapSite};
use weld_environ::Trap;

/// What the registry knows about one range of code.
#[derive(Debug)]
pub struct CodeInfo {
    /// Function locations, relative to the start of the code.
    pub functions: Vec<FunctionLoc>,
    /// Trap sites, relative to the start of the code.
    pub traps: Vec<TrapSite>,
    /// For wasm modules, the name of each function (for backtraces); empty for trampolines.
    pub names: Vec<String>,
    /// The module's name, if it has one.
    pub module_name: Option<String>,
}

/// Compiled code mapped executable.
#[derive(Debug)]
pub struct CodeMemory {
    mmap: Mmap,
    info: Arc<CodeInfo>,
}

impl CodeMemory {
    /// Maps `code` executable and registers it.
    pub fn new(code: &CompiledCode, names: Vec<String>, module_name: Option<String>) -> Result<Arc<CodeMemory>> {
        let len = code.bytes.len();
        let mmap = Mmap::reserve(round_up(len.max(1), page_size()))?;
        mmap.make_accessible(0, mmap.len())?;
        // SAFETY: the mapping is writable and at least `len` bytes long; nothing else uses it.
        unsafe { std::ptr::copy_nonoverlapping(code.bytes.as_ptr(), mmap.as_ptr(), len) };
        mmap.make_executable(0, mmap.len())?;
        let info =
            Arc::new(CodeInfo { functions: code.functions.clone(), traps: code.traps.clone(), names, module_name });
        let memory = Arc::new(CodeMemory { mmap, info });
        let start = memory.mmap.as_ptr() as usize;
        registry().write().unwrap().insert(start, (start + len, memory.info.clone()));
        Ok(memory)
    }

    /// The address of the first byte of code.
    #[inline]
    pub fn base(&self) -> *const u8 {
        self.mmap.as_ptr()
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
        let start = self.mmap.as_ptr() as usize;
        registry().write().unwrap().remove(&start);
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
    let i = info.traps.binary_search_by_key(&offset, |t| t.offset).ok()?;
    Some(info.traps[i].trap)
}
