//! Unwinding a thrown wasm exception to its handler.
//!
//! Compiled code throws by calling `weld_throw_shim(vmctx, exnref)` (the `Throw` libcall)
//! with Cranelift's `tail` convention. The shim hands the runtime the call's return address and
//! the caller's frame pointer, which is where the walk starts: for each frame of JIT code,
//! innermost first, the return address is looked up among the module's exception sites (calls
//! made inside a handler's scope, see cranelift's `translate/exceptions.rs`); a site's handlers
//! are checked in order, a tag matching when the tag slot of the frame's `vmctx` holds the
//! thrown exception's tag identity. The first match resumes there (`weld_resume`: the frame's
//! stack and frame pointers restored, the `exnref` in the first payload register, the pinned
//! register as it was at the throw). A `tail`-convention call site keeps nothing in registers
//! across the call on its exceptional edge, so nothing else needs restoring, and every frame
//! skipped is JIT code, which owns no Rust resources.
//!
//! When the walk leaves JIT code (the host entry that started this activation) no handler
//! caught the exception: it becomes the host's error (`ThrownException`) through the same
//! path as a trap. An exception never crosses a host frame while unwinding, and never a fused
//! adapter's: code marked as a component boundary turns it into `Trap::UncaughtException`.

use super::code_memory::lookup_code;
use super::traphandlers::{TrapRecord, set_pending_error, unwind_to_entry};
use weld_cranelift::ExceptionHandler;
use weld_environ::Trap;

unsafe extern "C" {
    /// The `Throw` libcall as compiled code calls it: `fn(vmctx, exnref)`, `tail` convention.
    pub fn weld_throw_shim();
    /// Resumes JIT code at `pc` with the given stack and frame pointers, `exn` in the first
    /// exception payload register and `pinned` in Cranelift's pinned register.
    fn weld_resume(pc: usize, sp: usize, fp: usize, exn: u64, pinned: u64) -> !;
}

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".text",
    ".globl weld_throw_shim",
    ".type weld_throw_shim,@function",
    "weld_throw_shim:",
    // rdi = vmctx, rsi = exnref; [rsp] = the return address into the thrower, rbp its frame.
    "mov rdx, [rsp]",
    "mov rcx, rbp",
    "mov r8, r15",
    // Realign the stack for the call (it is 8 past a multiple of 16 after the caller's call).
    "sub rsp, 8",
    "call {unwind}",
    "ud2",
    ".size weld_throw_shim, . - weld_throw_shim",
    ".globl weld_resume",
    ".type weld_resume,@function",
    "weld_resume:",
    "mov rsp, rsi",
    "mov rbp, rdx",
    "mov rax, rcx",
    "mov r15, r8",
    "jmp rdi",
    ".size weld_resume, . - weld_resume",
    unwind = sym throw_unwind,
);

#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    ".text",
    ".globl weld_throw_shim",
    ".type weld_throw_shim,@function",
    "weld_throw_shim:",
    // x0 = vmctx, x1 = exnref; x30 = the return address into the thrower, x29 its frame.
    "mov x2, x30",
    "mov x3, x29",
    "mov x4, x21",
    "bl {unwind}",
    "brk #0",
    ".size weld_throw_shim, . - weld_throw_shim",
    ".globl weld_resume",
    ".type weld_resume,@function",
    "weld_resume:",
    "mov sp, x1",
    "mov x29, x2",
    "mov x21, x4",
    "mov x16, x0",
    "mov x0, x3",
    "br x16",
    ".size weld_resume, . - weld_resume",
    unwind = sym throw_unwind,
);

/// Where an unwind ends.
enum Landing {
    /// A handler: its code address, stack pointer and frame pointer.
    Handler { pc: usize, sp: usize, fp: usize },
    /// A component boundary (a fused adapter's frame): the exception becomes a trap.
    Boundary,
    /// The host entry of this activation: nothing caught the exception.
    Host,
}

/// Finds the handler of an exception whose tag identity is `tag`, walking from the call that
/// returns to `pc` in the frame `fp`; also collects the frames' program counters.
///
/// # Safety
/// `pc` and `fp` must be a return address into JIT code and that frame's frame pointer, on
/// this thread's live stack.
unsafe fn find_handler(mut pc: usize, mut fp: usize, tag: usize, pcs: &mut Vec<usize>) -> Landing {
    for _ in 0..1_000_000 {
        let Some((info, offset)) = lookup_code(pc) else { return Landing::Host };
        pcs.push(pc);
        if info.exception_barrier.load(std::sync::atomic::Ordering::Relaxed) {
            return Landing::Boundary;
        }
        if let Some(site) = info.exception_site(offset) {
            let base = pc - offset as usize;
            let sp = fp - site.frame_size as usize;
            let mut context = 0usize;
            for handler in &site.handlers {
                let target = match *handler {
                    ExceptionHandler::Context { sp_offset } => {
                        // SAFETY: Cranelift saved the frame's vmctx at this offset from the
                        // call's stack pointer, inside the live frame.
                        context = unsafe { *((sp + sp_offset as usize) as *const usize) };
                        continue;
                    }
                    ExceptionHandler::Tag { tag_slot, target } => {
                        // SAFETY: `context` is the frame's vmctx (a `Context` item always comes
                        // first), and `tag_slot` one of its tag slots.
                        if unsafe { *((context + tag_slot as usize) as *const usize) } != tag {
                            continue;
                        }
                        target
                    }
                    ExceptionHandler::CatchAll { target } => target,
                };
                return Landing::Handler { pc: base + target as usize, sp, fp };
            }
        }
        // SAFETY: JIT frames keep frame pointers: `fp` points at the caller's frame pointer,
        // followed by the return address into the caller.
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if next <= fp {
            return Landing::Host;
        }
        fp = next;
        pc = ret;
    }
    Landing::Host
}

/// The `Throw` libcall, reached from `weld_throw_shim` with the thrower's return address,
/// frame pointer and pinned register.
unsafe extern "C" fn throw_unwind(vmctx: *mut u8, exn: u64, pc: usize, fp: usize, pinned: u64) -> ! {
    // SAFETY: the shim passes the thrower's vmctx, and `exn` is a live exnref of its store
    // (compiled code checks null before throwing).
    let tag = unsafe { crate::exceptions::thrown_tag_identity(vmctx, exn) };
    let mut pcs = Vec::new();
    // SAFETY: the shim passes the return address into the thrower and its frame pointer.
    let error = match unsafe { find_handler(pc, fp, tag, &mut pcs) } {
        Landing::Handler { pc, sp, fp } => {
            drop(pcs);
            // SAFETY: the landing is a handler of a live frame of this activation; everything
            // between here and it is JIT code or this function's frame, which holds nothing
            // that needs dropping any more.
            unsafe { weld_resume(pc, sp, fp, exn, pinned) }
        }
        // SAFETY: as above.
        Landing::Boundary => crate::exceptions::trap_at_boundary(unsafe { crate::exceptions::uncaught(vmctx, exn) }),
        // SAFETY: as above.
        Landing::Host => unsafe { crate::exceptions::uncaught(vmctx, exn) },
    };
    set_pending_error(error);
    // SAFETY: this thread is inside a wasm call (the thrower's activation).
    unsafe { unwind_to_entry(TrapRecord { trap: Trap::HostError, pcs, pinned_register: pinned }) }
}
