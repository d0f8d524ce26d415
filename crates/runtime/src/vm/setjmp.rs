//! A minimal setjmp/longjmp in assembly, used to unwind from a trap back to the host entry.
//!
//! `weld_enter_wasm(buf, entry, code, callee_vmctx, caller_vmctx, values)` saves the
//! callee-saved registers and stack pointer in `buf`, calls the entry trampoline
//! `entry(code, callee_vmctx, caller_vmctx, values)` and returns 0; `weld_longjmp(buf)`
//! restores them and makes that call return 1 instead. Only frames of JIT code (which own no
//! Rust resources) are ever jumped over.
//!
//! The trampoline is called from the assembly directly, not through a Rust closure: the call
//! of a host-to-wasm entry is on the path of every call into wasm, and a closure's frame (with
//! its `catch_unwind`, useless here since JIT code never unwinds) cost a typed call a tenth of
//! its time.

use super::valraw::ValRaw;

/// Saved registers; large enough for x86_64 and aarch64. Filled by `weld_enter_wasm` before
/// anything reads it, so it starts uninitialized (it is on every call's path).
#[repr(C, align(16))]
pub struct JmpBuf(std::mem::MaybeUninit<[u64; 24]>);

impl JmpBuf {
    /// A buffer for `weld_enter_wasm` to fill.
    #[inline]
    pub const fn new() -> JmpBuf {
        JmpBuf(std::mem::MaybeUninit::uninit())
    }
}

/// An entry trampoline: `extern "C" fn(code, callee_vmctx, caller_vmctx, values)`.
pub type EntryTrampoline = unsafe extern "C" fn(*const u8, *mut u8, *mut u8, *mut ValRaw);

unsafe extern "C" {
    /// Calls `entry(code, callee_vmctx, caller_vmctx, values)`; returns 0 when it returns, 1
    /// when `weld_longjmp(buf)` was called inside.
    pub fn weld_enter_wasm(
        buf: *mut JmpBuf,
        entry: EntryTrampoline,
        code: *const u8,
        callee_vmctx: *mut u8,
        caller_vmctx: *mut u8,
        values: *mut ValRaw,
    ) -> i32;
    /// Resumes at the `weld_enter_wasm` that filled `buf`.
    pub fn weld_longjmp(buf: *const JmpBuf) -> !;
}

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".text",
    ".globl weld_enter_wasm",
    ".type weld_enter_wasm,@function",
    "weld_enter_wasm:",
    "push rbp",
    "mov rbp, rsp",
    "mov [rdi + 0], rbx",
    "mov [rdi + 8], rbp",
    "mov [rdi + 16], r12",
    "mov [rdi + 24], r13",
    "mov [rdi + 32], r14",
    "mov [rdi + 40], r15",
    "mov [rdi + 48], rsp",
    "lea rax, [rip + 2f]",
    "mov [rdi + 56], rax",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "mov rdx, r8",
    "mov rcx, r9",
    "call rax",
    "xor eax, eax",
    "pop rbp",
    "ret",
    "2:",
    "mov eax, 1",
    "pop rbp",
    "ret",
    ".size weld_enter_wasm, . - weld_enter_wasm",
    ".globl weld_longjmp",
    ".type weld_longjmp,@function",
    "weld_longjmp:",
    "mov rbx, [rdi + 0]",
    "mov rbp, [rdi + 8]",
    "mov r12, [rdi + 16]",
    "mov r13, [rdi + 24]",
    "mov r14, [rdi + 32]",
    "mov r15, [rdi + 40]",
    "mov rsp, [rdi + 48]",
    "jmp qword ptr [rdi + 56]",
    ".size weld_longjmp, . - weld_longjmp",
);

#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    ".text",
    ".globl weld_enter_wasm",
    ".type weld_enter_wasm,%function",
    "weld_enter_wasm:",
    "stp x29, x30, [sp, #-16]!",
    "mov x29, sp",
    "stp x19, x20, [x0, #0]",
    "stp x21, x22, [x0, #16]",
    "stp x23, x24, [x0, #32]",
    "stp x25, x26, [x0, #48]",
    "stp x27, x28, [x0, #64]",
    "stp x29, x30, [x0, #80]",
    "mov x9, sp",
    "str x9, [x0, #96]",
    "stp d8, d9, [x0, #104]",
    "stp d10, d11, [x0, #120]",
    "stp d12, d13, [x0, #136]",
    "stp d14, d15, [x0, #152]",
    "adr x9, 2f",
    "str x9, [x0, #168]",
    "mov x9, x1",
    "mov x0, x2",
    "mov x1, x3",
    "mov x2, x4",
    "mov x3, x5",
    "blr x9",
    "mov w0, #0",
    "ldp x29, x30, [sp], #16",
    "ret",
    "2:",
    "mov w0, #1",
    "ldp x29, x30, [sp], #16",
    "ret",
    ".size weld_enter_wasm, . - weld_enter_wasm",
    ".globl weld_longjmp",
    ".type weld_longjmp,%function",
    "weld_longjmp:",
    "ldp x19, x20, [x0, #0]",
    "ldp x21, x22, [x0, #16]",
    "ldp x23, x24, [x0, #32]",
    "ldp x25, x26, [x0, #48]",
    "ldp x27, x28, [x0, #64]",
    "ldp x29, x30, [x0, #80]",
    "ldr x9, [x0, #96]",
    "mov sp, x9",
    "ldp d8, d9, [x0, #104]",
    "ldp d10, d11, [x0, #120]",
    "ldp d12, d13, [x0, #136]",
    "ldp d14, d15, [x0, #152]",
    "ldr x9, [x0, #168]",
    "br x9",
    ".size weld_longjmp, . - weld_longjmp",
);
