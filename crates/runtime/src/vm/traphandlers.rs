//! Trap handling: entering wasm under a catch point, the signal handlers that turn faults in
//! JIT code into traps, and unwinding back to the catch point with `weld_longjmp`.
//!
//! Each thread keeps a stack of active [`CallThreadState`]s (one per host-to-wasm entry). A
//! signal whose program counter is a trap site of registered JIT code records the trap (and a
//! frame-pointer backtrace) in the innermost state and jumps back to its entry. Any other signal
//! goes to the handler that was installed before weld's. The record keeps Cranelift's pinned
//! register too: with fuel on it holds the counter, which the entry trampoline had no chance to
//! write back (see cranelift's `translate/interrupt.rs`).
//!
//! The chain of states is per thread, but a fiber (`fiber.rs`) keeps its own entries on its
//! own stack: they are cut off the chain when it suspends and put back on top of its resumer's
//! when it goes on ([`detach_entries`], [`attach_entries`]), so a trap always unwinds to an
//! entry on the stack it happened on.

use super::code_memory::{lookup_code, lookup_trap};
use super::setjmp::{EntryTrampoline, JmpBuf, weld_enter_wasm, weld_longjmp};
use super::valraw::ValRaw;
use std::any::Any;
use std::cell::Cell;
use std::mem::MaybeUninit;
use std::sync::Once;
use weld_environ::Trap;

/// A trap recorded by the signal handler.
#[derive(Debug)]
pub struct TrapRecord {
    /// Why.
    pub trap: Trap,
    /// Program counters of the wasm frames, innermost first.
    pub pcs: Vec<usize>,
    /// The value of Cranelift's pinned register (`r15`, `x21`) where the trap happened: the
    /// fuel counter when the engine meters fuel (`func::call_raw` writes it back to the store).
    pub pinned_register: u64,
}

/// How a call into wasm ended abnormally.
pub enum Unwind {
    /// A trap raised by JIT code (including a libcall or host function that reported
    /// `pending`).
    Trap(TrapRecord, Option<anyhow::Error>),
    /// A host function panicked; the panic resumes in the caller.
    Panic(Box<dyn Any + Send>),
}

/// The state of one host-to-wasm entry on this thread.
pub struct CallThreadState {
    jmp_buf: JmpBuf,
    trap: Option<TrapRecord>,
    pending: Option<anyhow::Error>,
    panic: Option<Box<dyn Any + Send>>,
    capture_backtrace: bool,
    prev: *mut CallThreadState,
}

thread_local! {
    static CURRENT: Cell<*mut CallThreadState> = const { Cell::new(std::ptr::null_mut()) };
}

/// The wasm entries a fiber made (`fiber.rs`), kept while the fiber is not running: its
/// innermost entry (`top`, null when it has none), and the entry of the resumer that its
/// outermost entry was linked to (`base`, null when the resumer was in no wasm call).
///
/// A fiber's entries live on its own stack. They stay on this thread's chain only while the
/// fiber runs: when it suspends they are cut off (the thread goes back to `base`), and when it
/// is resumed they are put back on top of the resumer's innermost entry, which may be another
/// one than last time (a fiber may be resumed from the host's stack, then from another fiber).
#[derive(Debug)]
pub struct SuspendedEntries {
    top: *mut CallThreadState,
    base: *mut CallThreadState,
}

impl SuspendedEntries {
    /// The entries of a fiber that has made none.
    pub const NONE: SuspendedEntries = SuspendedEntries { top: std::ptr::null_mut(), base: std::ptr::null_mut() };
}

/// Puts a fiber's entries back on this thread's chain, on top of its innermost entry, just
/// before the fiber runs again: the outermost of them now returns to that entry.
///
/// # Safety
/// `entries` must be [`SuspendedEntries::NONE`] or filled by [`detach_entries`] when the fiber
/// last suspended, and the fiber must not have run since (its entries are live, on its stack).
pub unsafe fn attach_entries(entries: &mut SuspendedEntries) {
    let base = CURRENT.with(Cell::get);
    if !entries.top.is_null() {
        if entries.base != base {
            let mut outermost = entries.top;
            // SAFETY: per the contract, the chain from `top` is the fiber's live entries, the
            // outermost of which leads to `entries.base`; nothing else refers to them while the
            // fiber is suspended.
            unsafe {
                while (*outermost).prev != entries.base {
                    outermost = (*outermost).prev;
                    assert!(!outermost.is_null(), "a suspended fiber's wasm entries do not lead to their base");
                }
                (*outermost).prev = base;
            }
        }
        CURRENT.with(|c| c.set(entries.top));
    }
    entries.base = base;
}

/// Cuts the running fiber's entries off this thread's chain as it suspends or finishes: the
/// thread goes back to the entries its resumer had.
///
/// # Panics
/// If the innermost entry is neither the resumer's nor on the fiber's stack (`stack`, its
/// address range): the chain was broken, and resuming the fiber would follow it. Nothing
/// has changed then.
///
/// # Safety
/// Must be called on the fiber's stack, after [`attach_entries`] with the same `entries` was
/// called for this run of the fiber.
pub unsafe fn detach_entries(entries: &mut SuspendedEntries, stack: std::ops::Range<usize>) {
    let top = CURRENT.with(Cell::get);
    let top = if top == entries.base { std::ptr::null_mut() } else { top };
    assert!(
        top.is_null() || stack.contains(&(top as usize)),
        "a fiber's innermost wasm entry ({top:p}) is not on its stack ({:#x}..{:#x})",
        stack.start,
        stack.end
    );
    entries.top = top;
    CURRENT.with(|c| c.set(entries.base));
}

/// Records an error (a host function's, or a libcall's trap) to be returned when the JIT code
/// that called the host raises its "pending" trap.
pub fn set_pending_error(error: anyhow::Error) {
    let state = CURRENT.with(|c| c.get());
    assert!(!state.is_null(), "pending error outside of a wasm call");
    // SAFETY: `state` is the innermost live CallThreadState of this thread (it is popped before
    // its frame returns), and no other reference to it is active while host code runs.
    unsafe { (*state).pending = Some(error) };
}

/// Records a panic of a host function, to be resumed once wasm has been unwound.
pub fn set_pending_panic(panic: Box<dyn Any + Send>) {
    let state = CURRENT.with(|c| c.get());
    assert!(!state.is_null(), "pending panic outside of a wasm call");
    // SAFETY: as in `set_pending_error`.
    unsafe {
        (*state).panic = Some(panic);
        (*state).pending = Some(anyhow::anyhow!("host function panicked"));
    }
}

/// Ends the innermost wasm activation of this thread as a trap described by `record` (with
/// any pending error recorded beforehand), jumping back to its entry.
///
/// # Safety
/// This thread must be inside a wasm call, and every frame above the entry must be JIT code
/// or own nothing that needs dropping.
pub unsafe fn unwind_to_entry(record: TrapRecord) -> ! {
    let state = CURRENT.with(|c| c.get());
    assert!(!state.is_null(), "unwinding outside of a wasm call");
    // SAFETY: `state` is the innermost live CallThreadState of this thread; per the contract
    // nothing above its entry needs dropping.
    unsafe {
        (*state).trap = Some(record);
        weld_longjmp(&(*state).jmp_buf)
    }
}

/// Calls the entry trampoline `entry(code, callee_vmctx, caller_vmctx, values)`, catching
/// traps.
///
/// # Safety
/// `entry` must be the entry trampoline of the signature of the wasm function `code`, whose
/// context is `callee_vmctx`, and `values` must have room for its parameters and results.
#[inline]
pub unsafe fn enter_wasm(
    capture_backtrace: bool,
    entry: EntryTrampoline,
    code: *const u8,
    callee_vmctx: *mut u8,
    caller_vmctx: *mut u8,
    values: *mut ValRaw,
) -> Result<(), Unwind> {
    let mut state = CallThreadState {
        jmp_buf: JmpBuf::new(),
        trap: None,
        pending: None,
        panic: None,
        capture_backtrace,
        prev: CURRENT.with(|c| c.get()),
    };
    CURRENT.with(|c| c.set(&mut state));
    // SAFETY: `state.jmp_buf` lives until this function returns, after the call below; the
    // caller vouches for the trampoline and its arguments. JIT code never unwinds: a host
    // function's panic is caught where wasm calls it and carried in `state.panic`.
    let jumped = unsafe { weld_enter_wasm(&mut state.jmp_buf, entry, code, callee_vmctx, caller_vmctx, values) };
    CURRENT.with(|c| c.set(state.prev));
    // Taken apart so that each field's drop is a test inline, not a call of the whole
    // state's drop on every return.
    let CallThreadState { trap, pending, panic, .. } = state;
    if let Some(panic) = panic {
        return Err(Unwind::Panic(panic));
    }
    if jumped != 0 {
        let record = trap.expect("a trap was recorded before unwinding");
        return Err(Unwind::Trap(record, pending));
    }
    Ok(())
}

const SIGNALS: [i32; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];
static mut PREVIOUS: [MaybeUninit<libc::sigaction>; 4] = [MaybeUninit::uninit(); 4];

/// Installs the signal handlers (once per process; every engine calls this when it is made,
/// before any of its code can run).
pub fn install_handlers() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        for (i, sig) in SIGNALS.iter().enumerate() {
            // SAFETY: a zeroed sigaction is a valid starting point; we fill in the handler and
            // flags, and save the previous action in PREVIOUS[i] exactly once, before any
            // handler can read it (the Once orders this).
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = trap_handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let prev = (&raw mut PREVIOUS[i]).cast::<libc::sigaction>();
                if libc::sigaction(*sig, &action, prev) != 0 {
                    panic!("failed to install the handler for signal {sig}: {}", std::io::Error::last_os_error());
                }
            }
        }
    });
}

unsafe extern "C" fn trap_handler(signum: i32, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let state = CURRENT.with(|c| c.get());
    if !state.is_null() {
        // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO handlers.
        let (pc, fp, pinned_register) = unsafe { interrupted_registers(context) };
        if let Some(trap) = lookup_trap(pc) {
            // SAFETY: `state` is this thread's innermost live entry; the JIT code that faulted
            // holds no reference to it.
            unsafe {
                let pcs = if (*state).capture_backtrace { walk_frames(pc, fp) } else { vec![pc] };
                (*state).trap = Some(TrapRecord { trap, pcs, pinned_register });
                weld_longjmp(&(*state).jmp_buf);
            }
        }
    }
    // Not a wasm trap: hand the signal to whoever handled it before us.
    let i = SIGNALS.iter().position(|s| *s == signum).unwrap();
    // SAFETY: PREVIOUS[i] was initialized before this handler was installed.
    unsafe {
        let prev = &*(&raw const PREVIOUS[i]).cast::<libc::sigaction>();
        if prev.sa_sigaction == libc::SIG_DFL || prev.sa_sigaction == libc::SIG_IGN {
            // Restore the default action and return: the faulting instruction runs again and
            // the signal is delivered with the default disposition.
            libc::sigaction(signum, prev, std::ptr::null_mut());
        } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void) = std::mem::transmute(prev.sa_sigaction);
            f(signum, info, context);
        } else {
            let f: extern "C" fn(i32) = std::mem::transmute(prev.sa_sigaction);
            f(signum);
        }
    }
}

/// The program counter, frame pointer and pinned register of an interrupted context.
unsafe fn interrupted_registers(context: *mut libc::c_void) -> (usize, usize, u64) {
    let uc = context.cast::<libc::ucontext_t>();
    // SAFETY: `uc` is the valid ucontext the kernel passed to the handler.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        {
            let g = &(*uc).uc_mcontext.gregs;
            (g[libc::REG_RIP as usize] as usize, g[libc::REG_RBP as usize] as usize, g[libc::REG_R15 as usize] as u64)
        }
        #[cfg(target_arch = "aarch64")]
        {
            let m = &(*uc).uc_mcontext;
            (m.pc as usize, m.regs[29] as usize, m.regs[21])
        }
    }
}

/// Walks the frame-pointer chain from a trapping wasm frame while return addresses lie in JIT
/// code, collecting the program counters.
unsafe fn walk_frames(pc: usize, mut fp: usize) -> Vec<usize> {
    let mut pcs = vec![pc];
    for _ in 0..100_000 {
        if fp == 0 || !fp.is_multiple_of(8) {
            break;
        }
        // SAFETY: `fp` is a frame pointer of JIT code (all of which keeps frame pointers), so
        // it points at the saved caller frame pointer followed by the return address.
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if lookup_code(ret).is_none() {
            break;
        }
        pcs.push(ret);
        if next <= fp {
            break;
        }
        fp = next;
    }
    pcs
}
