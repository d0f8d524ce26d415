//! weld-cranelift: WebAssembly function bodies to machine code through Cranelift.
//!
//! [`compile_module`] validates and translates every defined function of a module to Cranelift
//! IR (in parallel), compiles it for the host or a named target, and links the results into one
//! position-independent blob of code ([`CompiledCode`]) with its trap table. It also compiles the
//! per-signature trampolines between the host and wasm ([`trampolines`]).
//!
//! The crate knows the VMContext layout (from weld-environ) but nothing of instances, stores or
//! components, and it never executes the code it produces.

#![forbid(unsafe_code)]

mod code;
mod compiler;
mod config;
mod fingerprint;
mod isa;
pub mod trampolines;
mod translate;

pub use code::{CompiledCode, ExceptionHandler, ExceptionSite, FunctionLoc, TrapSite};
pub use compiler::compile_module;
pub use config::{CompilerConfig, OptLevel, Target};
pub use fingerprint::CodeFingerprint;
pub use isa::build_isa;
pub use trampolines::Compiler;
