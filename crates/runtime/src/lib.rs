//! weld: a WebAssembly runtime that compiles modules to native code with Cranelift.
//!
//! The embedder API follows Wasmtime's names and shapes: an [`Engine`] compiles [`Module`]s;
//! a [`Store`] owns instances and host state; a [`Linker`] resolves imports; [`Func::call`]
//! calls with dynamic [`Val`]s and [`TypedFunc::call`] with Rust types. A trap comes back as an
//! `anyhow::Error` from which [`Trap`] can be downcast; it carries a [`WasmBacktrace`] when
//! [`Config::wasm_backtrace`] is on.
//!
//! Compiled code can be kept: [`Module::serialize`] and [`Engine::precompile_module`] (and
//! their component twins) write an ahead-of-time artifact that `deserialize` loads without
//! compiling, and [`Config::cache`] keeps every compiled module in a [`Cache`] on disk.
//!
//! ```
//! use weld::{Engine, Linker, Module, Store};
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module (func (export "double") (param i32) (result i32)
//!     local.get 0  i32.const 2  i32.mul))"#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
//! let double = instance.get_typed_func::<i32, i32>(&mut store, "double")?;
//! assert_eq!(double.call(&mut store, 21)?, 42);
//! # Ok::<(), anyhow::Error>(())
//! ```

#![deny(missing_docs)]
// `unsafe` is allowed in this crate only where the VM needs it (see `vm/mod.rs`); every
// block must say why it is sound, and every unsafe function what its callers must ensure.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

// Generated code names `::weld`; this lets weld's own tests use the derives.
extern crate self as weld;

mod artifact;
mod binary;
mod cache;
mod caller;
pub mod component;
mod config;
mod const_eval;
mod exceptions;
mod exports;
mod extern_type;
mod externals;
mod externref;
mod func;
mod handles;
mod instance;
mod instance_pre;
mod interrupt;
mod libcalls;
mod limit_state;
mod limits;
mod linker;
mod module;
mod pooling;
mod precompile;
mod signature_cache;
mod store;
mod trap;
mod type_registry;
mod typed;
mod values;
mod vm;

/// Errors are `anyhow`'s: these are the names Wasmtime gives its error type and macros.
pub use anyhow::{Error, Result, bail, ensure, format_err};
pub use cache::{Cache, CacheConfig};
pub use caller::Caller;
pub use config::{Config, Engine, OptLevel};
pub use exceptions::ThrownException;
pub use extern_type::{ExternType, TagType};
pub use externref::ExternRef;
pub use handles::{ExnRef, Extern, Func, Global, Instance, Memory, Table, Tag};
pub use instance_pre::InstancePre;
pub use interrupt::UpdateDeadline;
pub use limit_state::{
    DEFAULT_INSTANCE_LIMIT, DEFAULT_MAX_COMPONENT_HANDLES, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT,
};
pub use limits::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
pub use linker::Linker;
pub use module::{ExportType, ImportType, Module};
pub use pooling::{InstanceAllocationStrategy, PoolingAllocationConfig};
pub use precompile::{Precompiled, PrecompiledInfo};
pub use store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut, StoreInner};
pub use trap::{FrameInfo, Trap, WasmBacktrace};
pub use typed::{IntoFunc, TypedFunc, WasmRet, WasmTy, WasmTyList};
pub use values::{V128, Val};
pub use vm::valraw::ValRaw;
pub use weld_environ::{FuncType, GlobalType, HeapType, MemoryType, Mutability, RefType, TableType, ValType};
