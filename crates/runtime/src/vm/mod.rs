//! The VM: raw memory (reservations, the pooling allocator's slots, linear memories, tables,
//! copy-on-write images), JIT code memory, the VMContext's Rust mirror, traps (signal
//! handlers, setjmp/longjmp), and fibers (stacks of their own for async tasks).
//!
//! It never names the store, a handle or anything of the embedder API: the store owns these
//! pieces and hands them out. Most of weld's `unsafe` lives here; the rest is in the call and
//! host-function paths (`func.rs`, `libcalls.rs`, `typed.rs`, the component call paths), each
//! block with the reason it is sound.

pub mod code_memory;
pub mod exception_heap;
pub mod fiber;
pub mod memory;
pub mod memory_image;
pub mod mmap;
pub mod pool_slots;
pub mod reservations;
pub mod setjmp;
pub mod table;
pub mod trap_table;
pub mod traphandlers;
pub mod unwind;
pub mod valraw;
pub mod vmcontext;
