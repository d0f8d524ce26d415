//! The VM: everything that touches raw memory, JIT code and signals. All of weld's `unsafe`
//! lives here and in the call paths of `func.rs`; each block says why it is sound.

pub mod code_memory;
pub mod libcalls;
pub mod memory;
pub mod memory_image;
pub mod mmap;
pub mod reservations;
pub mod setjmp;
pub mod table;
pub mod traphandlers;
pub mod vmcontext;
