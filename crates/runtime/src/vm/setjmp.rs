//! A minimal setjmp/longjmp in assembly, used to unwind from a trap back to the host entry.
//!
//! `weld_setjmp_call(buf, f, arg)` saves the callee-saved registers and stack pointer in `buf`,
//! calls `f(arg)` and returns 0; `weld_longjmp(buf)` restores them and makes that call return
//! 1 instead. Only frames of JIT code (which own no Rust resources) are ever jumped over.

/// Saved registers; large enough for x86_64 and aarch64. Filled by `weld_setjmp_call` before
/// anything reads it, so it starts uninitialized (it is on every call's path).
#[repr(C, align(16))]
pub struct JmpBuf(std::mem::MaybeUninit<[u64; 24]>);

impl JmpBuf {
    /// A buffer for `weld_setjmp_call` to fill.
    #[inline]
    pub const fn new() -> JmpBuf {
        JmpBuf(std::mem::MaybeUninit::uninit())
    }
}

unsafe extern "C" {
    /// Calls `f(arg)`; returns 0 when it returns, 1 when `weld_longjmp(buf)` was called inside.
    pub fn weld_setjmp_call(buf: *mut JmpBuf, f: unsafe extern "C" fn(*mut u8), arg: *mut u8) -> i32;
    /// Resumes at the `weld_setjmp_call` that filled `buf`.
    pub fn weld_longjmp(buf: *const JmpBuf) -> !;
}

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".text",
    ".globl weld_setjmp_call",
    ".type weld_setjmp_call,@function",
    "weld_setjmp_call:",
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
    "call rax",
    "xor eax, eax",
    "pop rbp",
    "ret",
    "2:",
    "mov eax, 1",
    "pop rbp",
    "ret",
    ".size weld_setjmp_call, . - weld_setjmp_call",
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
    ".globl weld_setjmp_call",
    ".type weld_setjmp_call,%function",
    "weld_setjmp_call:",
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
    "blr x9",
    "mov w0, #0",
    "ldp x29, x30, [sp], #16",
    "ret",
    "2:",
    "mov w0, #1",
    "ldp x29, x30, [sp], #16",
    "ret",
    ".size weld_setjmp_call, . - weld_setjmp_call",
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
