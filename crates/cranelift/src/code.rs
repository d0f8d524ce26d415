//! The output of compilation: machine code bytes, where each function starts, and where each
//! trapping instruction is. Linking of direct calls between functions also lives here.

use anyhow::{Result, bail};
use cranelift_codegen::binemit::Reloc;
use weld_environ::Trap;

/// Where one function lies in a [`CompiledCode`] blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionLoc {
    /// Offset of its first byte.
    pub start: u32,
    /// Its length in bytes.
    pub len: u32,
}

/// A trapping instruction: its offset in the blob and why it traps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapSite {
    /// Offset of the instruction.
    pub offset: u32,
    /// The trap it raises.
    pub trap: Trap,
}

/// A call that has exception handlers: where it returns to, how to find its frame, and the
/// handlers in the order wasm checks them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionSite {
    /// Offset of the call's return address.
    pub ret_offset: u32,
    /// Bytes from the stack pointer at the call up to the frame pointer: the stack pointer a
    /// handler starts with is the frame pointer minus this.
    pub frame_size: u32,
    /// The handlers, innermost first.
    pub handlers: Vec<ExceptionHandler>,
}

/// One entry of an [`ExceptionSite`]'s handler list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionHandler {
    /// The `vmctx` the following tags are resolved in is saved at this offset from the
    /// stack pointer at the call.
    Context {
        /// Offset from the stack pointer at the call.
        sp_offset: u32,
    },
    /// Exceptions of the tag whose pointer is at `tag_slot` in the current `vmctx` go to
    /// `target`.
    Tag {
        /// Offset of the tag's slot in the `vmctx`.
        tag_slot: u32,
        /// Offset of the handler in the code.
        target: u32,
    },
    /// Every exception goes to `target`.
    CatchAll {
        /// Offset of the handler in the code.
        target: u32,
    },
}

/// Linked, position-independent machine code for a set of functions.
#[derive(Clone, Debug, Default)]
pub struct CompiledCode {
    /// The code.
    pub bytes: Vec<u8>,
    /// Each function's location, in the order they were given.
    pub functions: Vec<FunctionLoc>,
    /// Trap sites, sorted by offset.
    pub traps: Vec<TrapSite>,
    /// Calls with exception handlers, sorted by return offset.
    pub exception_sites: Vec<ExceptionSite>,
}

impl CompiledCode {
    /// The trap raised by the instruction at `offset`, if it is a trap site.
    pub fn lookup_trap(&self, offset: u32) -> Option<Trap> {
        let i = self.traps.binary_search_by_key(&offset, |t| t.offset).ok()?;
        Some(self.traps[i].trap)
    }

    /// The exception site whose call returns to `offset`, if any.
    pub fn lookup_exception_site(&self, offset: u32) -> Option<&ExceptionSite> {
        let i = self.exception_sites.binary_search_by_key(&offset, |s| s.ret_offset).ok()?;
        Some(&self.exception_sites[i])
    }

    /// The index of the function containing `offset`, if any.
    pub fn lookup_function(&self, offset: u32) -> Option<usize> {
        let i = self.functions.partition_point(|f| f.start <= offset);
        let f = self.functions.get(i.checked_sub(1)?)?;
        (offset < f.start + f.len).then_some(i - 1)
    }
}

impl ExceptionSite {
    /// The site with its code offsets moved `by` bytes later (a function placed in a blob).
    pub(crate) fn moved_by(mut self, by: u32) -> ExceptionSite {
        self.ret_offset += by;
        for h in &mut self.handlers {
            match h {
                ExceptionHandler::Tag { target, .. } | ExceptionHandler::CatchAll { target } => *target += by,
                ExceptionHandler::Context { .. } => {}
            }
        }
        self
    }
}

/// A call from one function to another, to patch once both are placed.
#[derive(Clone, Debug)]
pub(crate) struct CallReloc {
    pub offset: u32,
    pub kind: Reloc,
    pub target: u32,
    pub addend: i64,
}

/// One compiled but unlinked function.
#[derive(Clone, Debug, Default)]
pub(crate) struct UnlinkedFunction {
    pub code: Vec<u8>,
    pub alignment: u32,
    pub relocs: Vec<CallReloc>,
    pub traps: Vec<(u32, Trap)>,
    pub exception_sites: Vec<ExceptionSite>,
}

/// Maps a Cranelift trap code to weld's.
pub(crate) fn trap_from_cranelift(code: cranelift_codegen::ir::TrapCode) -> Trap {
    use cranelift_codegen::ir::TrapCode;
    match code {
        TrapCode::STACK_OVERFLOW => Trap::StackOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivisionByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::BadConversionToInteger,
        other => Trap::from_code(other.as_raw().get()).unwrap_or(Trap::UnreachableCodeReached),
    }
}

/// Lays functions out one after another and patches the calls between them. `target` of a
/// relocation is an index into `funcs`.
pub(crate) fn link(funcs: Vec<UnlinkedFunction>) -> Result<CompiledCode> {
    let mut out = CompiledCode::default();
    let mut all_relocs = Vec::new();
    for f in funcs {
        let align = f.alignment.max(16) as usize;
        while out.bytes.len() % align != 0 {
            out.bytes.push(0);
        }
        let start = u32::try_from(out.bytes.len())?;
        out.bytes.extend_from_slice(&f.code);
        out.functions.push(FunctionLoc { start, len: f.code.len() as u32 });
        out.traps.extend(f.traps.iter().map(|&(o, trap)| TrapSite { offset: start + o, trap }));
        out.exception_sites.extend(f.exception_sites.into_iter().map(|site| site.moved_by(start)));
        all_relocs.extend(f.relocs.into_iter().map(|r| (start, r)));
    }
    for (start, r) in all_relocs {
        let at = (start + r.offset) as usize;
        let target = out.functions[r.target as usize].start as i64;
        let pc = at as i64;
        match r.kind {
            Reloc::X86CallPCRel4 | Reloc::X86PCRel4 => {
                let delta = i32::try_from(target + r.addend - pc)?;
                out.bytes[at..at + 4].copy_from_slice(&delta.to_le_bytes());
            }
            Reloc::Arm64Call => {
                let delta = target + r.addend - pc;
                if delta % 4 != 0 || !(-(1 << 27)..(1 << 27)).contains(&delta) {
                    bail!("aarch64 call out of range ({delta} bytes)");
                }
                let mut insn = u32::from_le_bytes(out.bytes[at..at + 4].try_into().unwrap());
                insn = (insn & 0xfc00_0000) | (((delta >> 2) as u32) & 0x03ff_ffff);
                out.bytes[at..at + 4].copy_from_slice(&insn.to_le_bytes());
            }
            other => bail!("unsupported relocation {other:?}"),
        }
    }
    out.traps.sort_by_key(|t| t.offset);
    Ok(out)
}
