//! Fibers: a closure running on a stack of its own, which can suspend itself ([`suspend`])
//! and be resumed later ([`Fiber::resume`]) by whoever holds it.
//!
//! This is what component-model async needs: each component-model thread (an async task)
//! runs on a fiber; a built-in that must wait (`waitable-set.wait`, say) is a host function,
//! called by wasm on the fiber, that calls [`suspend`], which switches back to the scheduler
//! (on the host's stack, or on another fiber: fibers nest, and [`suspend`] returns to whoever
//! resumed the innermost one). The scheduler resumes the fiber when it may go on, and the host
//! function returns to its wasm caller as if nothing had happened.
//!
//! A switch saves the callee-saved registers on the stack being left, and loads them from the
//! stack being entered (`weld_fiber_switch`): a few nanoseconds, no system call. A fiber's stack
//! ([`FiberStack`]) is an anonymous mapping with an inaccessible guard page below it, and can be
//! given to fiber after fiber ([`Fiber::into_stack`]).
//!
//! What a switch does not carry is per-thread and per-store state, which the fiber's code shares
//! with its resumer:
//!
//! - The trap handler's chain of wasm entries (`traphandlers.rs`): the entries a fiber makes
//!   live on its stack, so they are cut off the thread's chain when it suspends or finishes and
//!   put back on top of its resumer's when it is resumed (`detach_entries`, `attach_entries`).
//!   A trap, a host function's error or panic, always unwinds to the entry made on the stack
//!   where it happened, however often the call was suspended in the middle.
//! - The store's stack limit (`VMStoreContext::stack_limit`): `call_raw` sets it from the stack
//!   pointer only at the outermost wasm entry (when it reads `usize::MAX`), and wasm checks it in
//!   function prologues. Wasm on a fiber must see a limit on the fiber's stack, and its resumer
//!   its own, so **whoever resumes a fiber that runs wasm of a store must give it its own
//!   limit**: [`Fiber::swap_stack_limit`] with the store's `stack_limit` just before
//!   [`Fiber::resume`] and again just after it returns (or panics). A fiber keeps `usize::MAX`
//!   until it has run, so its first call into wasm computes a limit on its own stack; in
//!   between it keeps the limit it had when it suspended. Without the swap, wasm on the fiber
//!   checks against its resumer's limit (a spurious stack overflow, or no check at all), and
//!   the resumer's wasm against the fiber's. A fiber keeps one limit: one that runs wasm of
//!   several stores (a component-model task runs in one) needs one per store, kept by its
//!   resumer.
//! - Fuel and epochs are the store's and go on counting across fibers; nothing to do.
//!
//! A fiber's stack holds the wasm frames (at most `Config::max_wasm_stack` bytes, which the
//! prologue check enforces: unbounded recursion traps with `Trap::StackOverflow`) and the
//! host's frames below and between them, so it must be larger than `max_wasm_stack` with room
//! to spare: 2 MiB for the default 512 KiB. Host code that overflows it hits the guard page and
//! the process dies of a `SIGSEGV` (Rust's "stack overflow" message only knows thread stacks).
//!
//! Deliberately not here, and why:
//!
//! - Moving fibers between threads: [`Fiber`] is neither `Send` nor `Sync`, and the closure
//!   need not be `Send` (it may capture raw pointers to a store). What a suspended fiber's stack
//!   holds (host frames with an `Rc`, a lock guard, a reference into a thread-local) is out of
//!   reach of the type system, so no bound on the closure could make a move sound; a store's
//!   tasks are scheduled on the thread that uses the store.
//! - Futures and executors: awaiting a host future from a task builds on [`Fiber::resume`] and
//!   [`suspend`], in the scheduler.
//! - Cancellation: nothing unwinds a suspended fiber's frames from outside (wasm frames cannot
//!   be unwound by a panic). [`Fiber::unwind`] ends a suspended fiber instead: its `suspend`
//!   fails, and its frames return the error (a store does so to its suspended threads when
//!   it is dropped). Dropping a fiber that is still suspended leaks its stack, and what its
//!   frames own, rather than free memory they may point into.
//! - Suspending outside a fiber is an error, not a panic: a built-in called by wasm on the
//!   host's stack can turn it into a trap. So is suspending while panicking (the panic count
//!   is per thread, and the resumer would run as if it were panicking too).
//! - The floating-point control registers (MXCSR, FPCR) are not switched: neither Rust nor
//!   compiled wasm changes them.

use super::mmap::{Mmap, page_size};
use super::traphandlers::{SuspendedEntries, attach_entries, detach_entries};
use anyhow::{Context as _, Result, bail};
use std::any::Any;
use std::cell::Cell;
use std::ops::Range;

/// The stack of a fiber: `size` usable bytes above an inaccessible guard page. The pages a
/// fiber touched stay for the next fiber given the stack ([`Fiber::into_stack`]).
#[derive(Debug)]
pub(crate) struct FiberStack {
    mapping: Mmap,
}

impl FiberStack {
    /// A stack of at least `size` bytes (rounded up to whole pages, at least one), with a
    /// guard page below it.
    pub(crate) fn new(size: usize) -> Result<FiberStack> {
        let page = page_size();
        let total = size
            .max(page)
            .checked_next_multiple_of(page)
            .and_then(|usable| usable.checked_add(page))
            .with_context(|| format!("a fiber stack of {size} bytes is too large"))?;
        let mapping = Mmap::reserve(total).context("failed to reserve a fiber stack")?;
        mapping.make_accessible(page, total - page).context("failed to make a fiber stack accessible")?;
        Ok(FiberStack { mapping })
    }

    /// The usable size in bytes (the guard page left out).
    pub(crate) fn size(&self) -> usize {
        self.mapping.len() - page_size()
    }

    /// The highest address of the stack (stacks grow down); page-aligned.
    fn top(&self) -> *mut u8 {
        self.mapping.as_ptr().wrapping_add(self.mapping.len())
    }
}

/// How a fiber handed control back to [`Fiber::resume`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resumed {
    /// It called [`suspend`]; resume it again to go on.
    Suspended,
    /// Its closure returned (or panicked, and `resume` panicked with its payload).
    Finished,
}

/// Where a fiber is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Made, not resumed yet.
    Ready,
    /// Between a switch into it and the switch out.
    Running,
    /// In [`suspend`].
    Suspended,
    /// Its closure has returned or panicked.
    Finished,
}

/// The part of a fiber that the fiber's own stack points to (its first frame, and every
/// [`suspend`] through `RUNNING`): allocated once, at a fixed address, freed when the [`Fiber`]
/// is dropped.
struct FiberInner {
    state: State,
    /// The fiber's stack pointer while it is not running (its initial frame before it starts).
    fiber_sp: *mut u8,
    /// The resumer's stack pointer while the fiber runs.
    resumer_sp: *mut u8,
    /// What the fiber runs; taken when it starts.
    func: Option<Box<dyn FnOnce()>>,
    /// A panic of the closure, for `resume` to go on with.
    panic: Option<Box<dyn Any + Send>>,
    /// The wasm entries the fiber made, while they are off the thread's chain.
    entries: SuspendedEntries,
    /// The addresses of the fiber's stack, where its entries must be.
    stack: Range<usize>,
    /// Set by [`Fiber::unwind`]: every [`suspend`] fails from then on, so that the fiber's
    /// frames return and its closure ends.
    unwinding: bool,
}

/// A closure on a stack of its own; see the module docs. Neither `Send` nor `Sync` (it holds
/// a raw pointer): a fiber runs on the thread that made it.
pub(crate) struct Fiber {
    /// From `Box::into_raw`, freed in `drop`; all access goes through this pointer, which is
    /// also the one the fiber's stack holds.
    inner: *mut FiberInner,
    /// `None` only once `drop` leaked it (the fiber was suspended) or `into_stack` took it.
    stack: Option<FiberStack>,
    /// The store stack limit the fiber's wasm sees, while the fiber is not running (see
    /// [`Fiber::swap_stack_limit`]).
    stack_limit: usize,
}

thread_local! {
    /// The innermost fiber running on this thread (null on the thread's own stack): the one
    /// [`suspend`] suspends.
    static RUNNING: Cell<*mut FiberInner> = const { Cell::new(std::ptr::null_mut()) };
}

impl Fiber {
    /// A fiber that will run `func` on `stack` when first resumed. `func` need not be `Send`
    /// (fibers do not move between threads; see the module docs) but must be `'static`: a
    /// fiber may outlive the frame that made it, and one dropped while suspended keeps its
    /// frames, with what they borrow, forever.
    pub(crate) fn new(stack: FiberStack, func: impl FnOnce() + 'static) -> Fiber {
        let inner = Box::into_raw(Box::new(FiberInner {
            state: State::Ready,
            fiber_sp: std::ptr::null_mut(),
            resumer_sp: std::ptr::null_mut(),
            func: Some(Box::new(func)),
            panic: None,
            entries: SuspendedEntries::NONE,
            stack: stack.top() as usize - stack.size()..stack.top() as usize,
            unwinding: false,
        }));
        // SAFETY: `inner` was just allocated and nothing else refers to it yet; the stack is
        // ours, mapped, page-aligned at its top and at least a page deep, which the initial
        // frame fits in.
        unsafe { (*inner).fiber_sp = initial_frame(stack.top(), inner) };
        Fiber { inner, stack: Some(stack), stack_limit: usize::MAX }
    }

    /// Runs the fiber until it calls [`suspend`] or its closure returns. A panic of the closure
    /// goes on here, once the fiber has finished.
    ///
    /// # Panics
    /// If the fiber has finished (or is running: resumed from its own code).
    pub(crate) fn resume(&mut self) -> Resumed {
        let fiber = self.inner;
        // SAFETY: `fiber` is this fiber's state, alive until `self` is dropped. The fiber is
        // not running (checked), so its stack is where `fiber_sp` says and its entries are the
        // ones `detach_entries` cut off (or none); the switch saves our registers in
        // `resumer_sp`, to which the fiber switches back when it suspends or finishes, having
        // cut its entries off the chain again.
        unsafe {
            let state = (*fiber).state;
            assert!(matches!(state, State::Ready | State::Suspended), "resumed a fiber that is {state:?}");
            attach_entries(&mut (*fiber).entries);
            (*fiber).state = State::Running;
            let resumer = RUNNING.with(|r| r.replace(fiber));
            weld_fiber_switch(&raw mut (*fiber).resumer_sp, (*fiber).fiber_sp);
            RUNNING.with(|r| r.set(resumer));
            if let Some(panic) = (*fiber).panic.take() {
                std::panic::resume_unwind(panic);
            }
            match (*fiber).state {
                State::Suspended => Resumed::Suspended,
                State::Finished => Resumed::Finished,
                state => unreachable!("a fiber switched back while {state:?}"),
            }
        }
    }

    /// Resumes a suspended fiber so that it ends: its [`suspend`] (and any later one) fails,
    /// and the code that called it is expected to return that error up to the closure, whose
    /// frames then return normally, dropping what they own. Returns how the fiber came back
    /// (`Suspended` only if its code ignored the error and returned to a loop that suspends
    /// again without failing, which `suspend` does not allow; so in practice `Finished`).
    pub(crate) fn unwind(&mut self) -> Resumed {
        // SAFETY: as in `is_finished`.
        unsafe { (*self.inner).unwinding = true };
        self.resume()
    }

    /// Whether the fiber is suspended (it has frames on its stack and is not running).
    pub(crate) fn is_suspended(&self) -> bool {
        // SAFETY: as in `is_finished`.
        unsafe { (*self.inner).state == State::Suspended }
    }

    /// Whether the closure has returned (or panicked).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn is_finished(&self) -> bool {
        // SAFETY: the state is alive until `self` is dropped; the fiber is not running while
        // its holder can call this (`resume` holds `&mut self` while it runs).
        unsafe { (*self.inner).state == State::Finished }
    }

    /// Exchanges `store_limit`, the store's stack limit, with the one this fiber keeps (see
    /// the module docs): call it just before [`resume`](Self::resume), which gives the fiber
    /// its own limit (`usize::MAX` before it has run) and keeps the resumer's here, and again
    /// just after `resume` returns or panics, which gives the resumer its limit back and keeps
    /// the fiber's for its next run.
    pub(crate) fn swap_stack_limit(&mut self, store_limit: &mut usize) {
        std::mem::swap(&mut self.stack_limit, store_limit);
    }

    /// The stack, for another fiber, unless the fiber is suspended (its frames are still
    /// there: it is leaked then, as on drop).
    pub(crate) fn into_stack(mut self) -> Option<FiberStack> {
        // SAFETY: as in `is_finished`.
        let state = unsafe { (*self.inner).state };
        if matches!(state, State::Ready | State::Finished) { self.stack.take() } else { None }
    }
}

impl Drop for Fiber {
    fn drop(&mut self) {
        // SAFETY: `inner` came from `Box::into_raw` and is freed only here; the fiber is not
        // running (whoever resumed it is inside `resume`, which borrows `self`), and a
        // suspended fiber's frames, which point at it, never run again.
        let inner = unsafe { Box::from_raw(self.inner) };
        if !matches!(inner.state, State::Ready | State::Finished)
            && let Some(stack) = self.stack.take()
        {
            // Frames of the closure are still on the stack, and nothing can unwind them from
            // here: leak the stack (and what they own) rather than free memory they may point
            // into (a pinned value, say).
            log::warn!("a suspended fiber was dropped: its stack ({} bytes) is leaked", stack.size());
            std::mem::forget(stack);
        }
    }
}

/// Suspends the fiber this code runs on, switching back to whoever resumed it; returns when
/// the fiber is resumed again. Code that a fiber runs may call it anywhere, in particular in a
/// host function called by wasm on the fiber.
///
/// Fails, without suspending anything, when not on a fiber, or while panicking.
pub(crate) fn suspend() -> Result<()> {
    let fiber = RUNNING.with(Cell::get);
    if fiber.is_null() {
        bail!("cannot suspend: this code does not run on a fiber (only code that `Fiber::resume` runs can suspend)");
    }
    if std::thread::panicking() {
        bail!("cannot suspend a fiber while it is panicking");
    }
    // SAFETY: a non-null `RUNNING` is the innermost fiber running on this thread (`resume`
    // sets it just before switching to the fiber, and puts the previous one back just after
    // the fiber switches back), so this code runs on that fiber's stack, and the fiber's state
    // is alive (its `Fiber` is borrowed by the `resume` that runs it).
    unsafe {
        if (*fiber).unwinding {
            bail!(UNWINDING);
        }
        switch_out(fiber, State::Suspended);
        if (*fiber).unwinding {
            bail!(UNWINDING);
        }
    }
    Ok(())
}

/// Why [`suspend`] fails in a fiber that [`Fiber::unwind`] ends.
const UNWINDING: &str = "the store was dropped while this thread was suspended: it unwinds";

/// Whether this code runs on a fiber.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn on_fiber() -> bool {
    RUNNING.with(|r| !r.get().is_null())
}

/// Leaves the running fiber `fiber` as `state`, cutting its wasm entries off the thread's
/// chain, and switches to its resumer; returns when it is resumed (never for `Finished`).
/// Panics, before anything changes, if the chain is broken (see `detach_entries`).
///
/// # Safety
/// `fiber` must be the fiber running on this thread, and this must run on its stack.
unsafe fn switch_out(fiber: *mut FiberInner, state: State) {
    // SAFETY: per the contract, `fiber` is alive and running, its entries were attached by the
    // `resume` that runs it, and `resumer_sp` is where that `resume` waits.
    unsafe {
        detach_entries(&mut (*fiber).entries, (*fiber).stack.clone());
        (*fiber).state = state;
        weld_fiber_switch(&raw mut (*fiber).fiber_sp, (*fiber).resumer_sp);
    }
}

/// The first Rust frame of every fiber: runs its closure, keeps a panic for the resumer, and
/// switches back for the last time. A panic out of that last switch (a broken chain of wasm
/// entries) aborts the process: there is nothing to unwind to.
extern "C" fn fiber_main(fiber: *mut FiberInner) -> ! {
    // SAFETY: `fiber` is the state `Fiber::new` put in the initial frame, alive while the fiber
    // runs; `resume` is running it, on this stack.
    unsafe {
        let func = (*fiber).func.take().expect("a fiber's closure runs once");
        if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(func)) {
            (*fiber).panic = Some(panic);
        }
        switch_out(fiber, State::Finished);
    }
    // `resume` refuses a finished fiber, so nothing switches back here.
    std::process::abort()
}

unsafe extern "C" {
    /// Pushes the callee-saved registers on the current stack, stores the stack pointer in
    /// `*save`, loads `load` as the stack pointer, pops the registers saved there and returns
    /// to the code that switched away from that stack (or, the first time, to
    /// `weld_fiber_start`).
    fn weld_fiber_switch(save: *mut *mut u8, load: *mut u8);
    /// The bottom frame of every fiber, entered by `weld_fiber_switch` popping the initial
    /// frame: calls `fiber_main` with the argument the frame holds.
    fn weld_fiber_start();
}

/// Writes below `top` the frame that the first `weld_fiber_switch` into a fiber pops: the
/// registers that make `weld_fiber_start` call `fiber_main(fiber)`. Returns the stack pointer
/// to load.
///
/// # Safety
/// `top` must be the 16-byte-aligned top of a writable stack of at least 256 bytes that nothing
/// else uses.
unsafe fn initial_frame(top: *mut u8, fiber: *mut FiberInner) -> *mut u8 {
    let (main, start, fiber) =
        (fiber_main as *const () as usize, weld_fiber_start as *const () as usize, fiber as usize);
    // From the stack pointer up: r15, r14, r13 (`fiber_main`), r12 (its argument), rbx, rbp
    // (0: the end of the frame-pointer chain), the address `ret` goes to, and two words that
    // leave the stack 16-byte aligned where `weld_fiber_start` calls `fiber_main`.
    #[cfg(target_arch = "x86_64")]
    let frame: [usize; 9] = [0, 0, main, fiber, 0, 0, start, 0, 0];
    // From the stack pointer up: x19 (the argument), x20 (`fiber_main`), x21..=x28, x29 (0: the
    // end of the frame-record chain), x30 (where `ret` goes), d8..=d15.
    #[cfg(target_arch = "aarch64")]
    let frame: [usize; 20] = {
        let mut frame = [0; 20];
        (frame[0], frame[1], frame[11]) = (fiber, main, start);
        frame
    };
    // SAFETY: per the contract, the frame's bytes below `top` are ours to write, and `top`
    // minus a multiple of 16 bytes keeps the words aligned.
    unsafe {
        let sp = top.sub(size_of_val(&frame)).cast::<usize>();
        sp.copy_from_nonoverlapping(frame.as_ptr(), frame.len());
        sp.cast()
    }
}

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".text",
    ".globl weld_fiber_switch",
    ".type weld_fiber_switch,@function",
    "weld_fiber_switch:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size weld_fiber_switch, . - weld_fiber_switch",
    ".globl weld_fiber_start",
    ".type weld_fiber_start,@function",
    "weld_fiber_start:",
    ".cfi_startproc",
    // Nothing calls this frame: unwinders and debuggers stop here.
    ".cfi_undefined rip",
    "mov rdi, r12",
    "call r13",
    "ud2",
    ".cfi_endproc",
    ".size weld_fiber_start, . - weld_fiber_start",
);

#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    ".text",
    ".globl weld_fiber_switch",
    ".type weld_fiber_switch,%function",
    "weld_fiber_switch:",
    "sub sp, sp, #160",
    "stp x19, x20, [sp, #0]",
    "stp x21, x22, [sp, #16]",
    "stp x23, x24, [sp, #32]",
    "stp x25, x26, [sp, #48]",
    "stp x27, x28, [sp, #64]",
    "stp x29, x30, [sp, #80]",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    "mov x9, sp",
    "str x9, [x0]",
    "mov sp, x1",
    "ldp x19, x20, [sp, #0]",
    "ldp x21, x22, [sp, #16]",
    "ldp x23, x24, [sp, #32]",
    "ldp x25, x26, [sp, #48]",
    "ldp x27, x28, [sp, #64]",
    "ldp x29, x30, [sp, #80]",
    "ldp d8, d9, [sp, #96]",
    "ldp d10, d11, [sp, #112]",
    "ldp d12, d13, [sp, #128]",
    "ldp d14, d15, [sp, #144]",
    "add sp, sp, #160",
    "ret",
    ".size weld_fiber_switch, . - weld_fiber_switch",
    ".globl weld_fiber_start",
    ".type weld_fiber_start,%function",
    "weld_fiber_start:",
    ".cfi_startproc",
    // Nothing calls this frame: unwinders and debuggers stop here.
    ".cfi_undefined x30",
    "mov x0, x19",
    "blr x20",
    "brk #0",
    ".cfi_endproc",
    ".size weld_fiber_start, . - weld_fiber_start",
);

#[cfg(test)]
mod tests;
