//! `Config` (how code is generated and run) and `Engine` (a compiler plus the shared state of
//! everything compiled with it: signature ids, trampolines, the epoch and the stubs through
//! which fuel and epoch checks call the runtime, and the pooling allocator's pools when it is
//! configured).

use crate::artifact::stamp::EngineStamp;
use crate::cache::Cache;
use crate::pooling::{InstanceAllocationStrategy, InstancePool};
use crate::type_registry::TypeRegistry;
use crate::vm::code_memory::CodeMemory;
use crate::vm::memory::LinearMemory;
use crate::vm::reservations::ReservationPool;
use anyhow::Result;
use rustc_hash::FxBuildHasher;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use weld_cranelift::{Compiler, CompilerConfig};
use weld_environ::{FuncType, Libcall, wasmparser::WasmFeatures};

pub use weld_cranelift::OptLevel;

/// Settings for an [`Engine`].
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) compiler: CompilerConfig,
    pub(crate) features: WasmFeatures,
    pub(crate) wasm_backtrace: bool,
    pub(crate) max_wasm_stack: usize,
    pub(crate) memory_init_cow: bool,
    pub(crate) cache: Option<Cache>,
    pub(crate) allocation_strategy: InstanceAllocationStrategy,
    pub(crate) component_val_bytes: bool,
    pub(crate) sync_cancel_in_waitable_set: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            compiler: CompilerConfig::default(),
            features: weld_environ::supported_features(),
            wasm_backtrace: true,
            max_wasm_stack: 512 * 1024,
            memory_init_cow: true,
            cache: None,
            allocation_strategy: InstanceAllocationStrategy::OnDemand,
            component_val_bytes: false,
            sync_cancel_in_waitable_set: true,
        }
    }
}

impl Config {
    /// The default configuration.
    #[inline]
    pub fn new() -> Config {
        Config::default()
    }

    /// Whether traps carry a backtrace of wasm frames (default on).
    #[inline]
    pub fn wasm_backtrace(&mut self, enable: bool) -> &mut Self {
        self.wasm_backtrace = enable;
        self
    }

    /// The most stack, in bytes, that wasm may use before `call stack exhausted` (default
    /// 512 KiB).
    #[inline]
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self
    }

    /// Whether a module's defined memories start as copy-on-write mappings of an image of their
    /// initial contents, built once when the module is compiled (default on). When off, or for
    /// a memory whose data segments do not allow an image (an offset that is not a constant, a
    /// segment past the memory's minimum size, or less than a page of data), instantiation
    /// copies each active data segment into the new memory. The contents are the same either
    /// way; only the cost of instantiation differs.
    #[inline]
    pub fn memory_init_cow(&mut self, enable: bool) -> &mut Self {
        self.memory_init_cow = enable;
        self
    }

    /// Whether dynamic component calls lift each `list<u8>` as a
    /// [`Val::Bytes`](crate::component::Val::Bytes), one byte an element, instead of a
    /// [`Val::List`](crate::component::Val::List) of `Val::U8`s (default off, as in Wasmtime,
    /// whose `Val` has no such case). This is for results of [`Func::call`] and parameters of
    /// host functions defined with `func_new`; a `Val::Bytes` is accepted for a `list<u8>`
    /// either way. A megabyte lifts with one copy instead of a million `Val`s.
    ///
    /// [`Func::call`]: crate::component::Func::call
    #[inline]
    pub fn component_val_bytes(&mut self, enable: bool) -> &mut Self {
        self.component_val_bytes = enable;
        self
    }

    /// Whether a synchronous `stream.cancel-read`/`-write` or `future.cancel-read`/`-write`
    /// of an end that is in a waitable set is allowed when the cancellation finishes at once
    /// (default on). The spec makes any synchronous use of a waitable in a set a trap (a
    /// waitable is waited on in one place), and so does its test suite; but components built
    /// with wit-bindgen 0.58 and older cancel the read of their wake-up stream that way
    /// whenever a task slept, before leaving the set, so with this off every such task traps
    /// as it finishes. A cancellation that would have to wait still traps either way. The
    /// conformance runner (`weld wast`) turns this off.
    #[inline]
    pub fn component_model_async_sync_cancel_in_set(&mut self, allow: bool) -> &mut Self {
        self.sync_cancel_in_waitable_set = allow;
        self
    }

    /// Keeps compiled code in `cache` and looks for it there before compiling (default
    /// none). Core modules, including those of components and their adapter modules, are
    /// cached one by one, keyed by their binary and every setting that changes code.
    #[inline]
    pub fn cache(&mut self, cache: Option<Cache>) -> &mut Self {
        self.cache = cache;
        self
    }

    /// How instances get their memories and tables (default
    /// [`InstanceAllocationStrategy::OnDemand`]). With
    /// [`InstanceAllocationStrategy::Pooling`], [`Engine::new`] reserves every slot the
    /// [`PoolingAllocationConfig`](crate::PoolingAllocationConfig) describes, and instances
    /// beyond its limits fail to instantiate.
    #[inline]
    pub fn allocation_strategy(&mut self, strategy: impl Into<InstanceAllocationStrategy>) -> &mut Self {
        self.allocation_strategy = strategy.into();
        self
    }

    /// Compiles for another machine: `x86_64`, `aarch64` or a full target triple (default:
    /// this machine, with the CPU features it has). An engine for another machine can only
    /// precompile ([`Engine::precompile_module`], [`Engine::precompile_component`]); its
    /// code does not run here.
    pub fn target(&mut self, target: &str) -> Result<&mut Self> {
        self.compiler.target = weld_cranelift::Target::parse(target)?;
        Ok(self)
    }

    /// Cranelift's optimization level (default `Speed`).
    #[inline]
    pub fn cranelift_opt_level(&mut self, level: OptLevel) -> &mut Self {
        self.compiler.opt_level = level;
        self
    }

    /// Canonicalize NaNs produced by float arithmetic (default off).
    #[inline]
    pub fn cranelift_nan_canonicalization(&mut self, enable: bool) -> &mut Self {
        self.compiler.nan_canonicalization = enable;
        self
    }

    /// Run regalloc2's checker on every compiled function (slow; default off).
    #[inline]
    pub fn regalloc_checker(&mut self, enable: bool) -> &mut Self {
        self.compiler.regalloc_checker = enable;
        self
    }

    /// Check every memory access explicitly instead of relying on guard pages (default off).
    #[inline]
    pub fn explicit_bounds_checks(&mut self, enable: bool) -> &mut Self {
        self.compiler.explicit_bounds_checks = enable;
        self
    }

    /// Makes wasm consume fuel as it runs, and trap with [`Trap::OutOfFuel`](crate::Trap)
    /// when the store has none left (default off). A store starts with no fuel: give it some
    /// with [`Store::set_fuel`](crate::Store::set_fuel) before calling wasm.
    ///
    /// Most operators cost 1 unit; `nop`, `drop`, `block`, `loop`, `end`, `else`, `return`
    /// and `unreachable` cost 0; calling a function costs 1, and bulk memory and table
    /// operations 1 more per byte or element. Fuel is checked at function entry, at loop
    /// headers and before large bulk operations, so a function may run a little past the
    /// point where the fuel ran out (at most one straight-line stretch of code). The counts
    /// are Wasmtime's, so the same fuel stops a guest at the same point in both.
    #[inline]
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.compiler.consume_fuel = enable;
        self
    }

    /// Makes wasm check, at function entry and at loop headers, whether the engine's epoch
    /// ([`Engine::increment_epoch`]) has reached the store's deadline
    /// ([`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline)), and if so trap with
    /// [`Trap::Interrupt`](crate::Trap) or run the store's
    /// [`epoch_deadline_callback`](crate::Store::epoch_deadline_callback) (default off).
    ///
    /// A store's deadline starts at 0, which has always passed: set one before calling wasm.
    /// Cheaper than fuel, but not deterministic: meant for timeouts, with another thread
    /// incrementing the epoch.
    #[inline]
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Self {
        self.compiler.epoch_interruption = enable;
        self
    }

    /// Compile functions on several threads (default on).
    #[inline]
    pub fn parallel_compilation(&mut self, enable: bool) -> &mut Self {
        self.compiler.parallel = enable;
        self
    }

    /// Enables or disables the multi-memory proposal (default on).
    #[inline]
    pub fn wasm_multi_memory(&mut self, enable: bool) -> &mut Self {
        self.features.set(WasmFeatures::MULTI_MEMORY, enable);
        self
    }

    /// Enables or disables memory64 (default on).
    #[inline]
    pub fn wasm_memory64(&mut self, enable: bool) -> &mut Self {
        self.features.set(WasmFeatures::MEMORY64, enable);
        self
    }

    /// Enables or disables reference types (default on).
    #[inline]
    pub fn wasm_reference_types(&mut self, enable: bool) -> &mut Self {
        self.features.set(WasmFeatures::REFERENCE_TYPES, enable);
        self
    }

    /// Enables or disables bulk memory operations (default on).
    #[inline]
    pub fn wasm_bulk_memory(&mut self, enable: bool) -> &mut Self {
        self.features.set(WasmFeatures::BULK_MEMORY, enable);
        self
    }

    /// Enables or disables multi-value (default on).
    #[inline]
    pub fn wasm_multi_value(&mut self, enable: bool) -> &mut Self {
        self.features.set(WasmFeatures::MULTI_VALUE, enable);
        self
    }

    /// Enables or disables the 128-bit SIMD proposal (default on). Turning it off also turns
    /// off relaxed SIMD, which builds on it.
    #[inline]
    pub fn wasm_simd(&mut self, enable: bool) -> &mut Self {
        self.features.set(WasmFeatures::SIMD, enable);
        if !enable {
            self.features.set(WasmFeatures::RELAXED_SIMD, false);
        }
        self
    }

    /// Enables or disables the relaxed-SIMD proposal (default on). Enabling it also enables
    /// SIMD, which it builds on.
    #[inline]
    pub fn wasm_relaxed_simd(&mut self, enable: bool) -> &mut Self {
        self.features.set(WasmFeatures::RELAXED_SIMD, enable);
        if enable {
            self.features.set(WasmFeatures::SIMD, true);
        }
        self
    }

    /// Enables or disables exception handling (default on): tags, `throw`, `throw_ref`,
    /// `try_table`, `exnref`, and the legacy `try`/`catch`/`delegate`/`rethrow`.
    #[inline]
    pub fn wasm_exceptions(&mut self, enable: bool) -> &mut Self {
        self.features.set(WasmFeatures::EXCEPTIONS, enable);
        self.features.set(WasmFeatures::LEGACY_EXCEPTIONS, enable);
        self
    }

    /// Compile relaxed-SIMD operators to one behaviour that is the same on every host (default
    /// off: each operator takes the target's fastest behaviour the proposal allows, which can
    /// differ between x86_64 and aarch64 for edge inputs such as NaNs or out-of-range lanes).
    #[inline]
    pub fn relaxed_simd_deterministic(&mut self, enable: bool) -> &mut Self {
        self.compiler.relaxed_simd_deterministic = enable;
        self
    }
}

/// A compilation environment shared by modules and stores. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub config: Config,
    pub compiler: Compiler,
    signatures: Mutex<TypeRegistry>,
    /// Compiled trampolines by signature id (looked up at every instantiation, hence the fast
    /// hasher: the keys are small engine-made integers, not attacker-chosen).
    entry_trampolines: Mutex<TrampolineCache>,
    host_trampolines: Mutex<TrampolineCache>,
    /// Free reservations of guarded 32-bit memories, reused by later memories.
    reservations: Arc<ReservationPool>,
    /// The pooling allocator's slots and counts, when it is the allocation strategy.
    instance_pool: Option<Arc<InstancePool>>,
    /// What the code it compiles depends on (recorded in artifacts and cache entries).
    stamp: EngineStamp,
    /// The stamp as text, hashed into cache keys.
    stamp_text: String,
    /// Whether its code runs on this machine.
    runs_here: bool,
    /// The epoch, read by compiled code through each store's `VMStoreContext`.
    epoch: AtomicU64,
    /// The preserve-all stubs through which fuel and epoch checks call their libcalls, compiled
    /// when the configuration has those checks.
    out_of_fuel_stub: Option<Arc<CodeMemory>>,
    new_epoch_stub: Option<Arc<CodeMemory>>,
}

/// Compiled trampolines by signature id.
type TrampolineCache = HashMap<u32, Arc<CodeMemory>, FxBuildHasher>;

impl Default for Engine {
    #[inline]
    fn default() -> Self {
        Engine::new(&Config::default()).expect("the default configuration is valid on this host")
    }
}

impl std::fmt::Debug for Engine {
    #[inline]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// Creates an engine with `config`.
    pub fn new(config: &Config) -> Result<Engine> {
        crate::vm::traphandlers::install_handlers();
        let compiler = Compiler::new(config.compiler.clone())?;
        let stamp = EngineStamp::current(compiler.fingerprint(), config.features.bits());
        let runs_here = match &config.compiler.target {
            weld_cranelift::Target::Host => true,
            weld_cranelift::Target::Triple(t) => *t == target_lexicon::Triple::host(),
        };
        let stub = |enabled: bool, libcall: Libcall| -> Result<Option<Arc<CodeMemory>>> {
            if !enabled {
                return Ok(None);
            }
            Ok(Some(CodeMemory::new(&compiler.interrupt_stub(libcall)?, None, None)?))
        };
        let out_of_fuel_stub = stub(config.compiler.consume_fuel, Libcall::OutOfFuel)?;
        let new_epoch_stub = stub(config.compiler.epoch_interruption, Libcall::NewEpoch)?;
        let instance_pool = match &config.allocation_strategy {
            InstanceAllocationStrategy::OnDemand => None,
            InstanceAllocationStrategy::Pooling(pooling) => Some(Arc::new(InstancePool::new(
                pooling,
                !config.compiler.explicit_bounds_checks,
                config.compiler.guard_size,
            )?)),
        };
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                compiler,
                stamp_text: stamp.canonical_text(),
                stamp,
                runs_here,
                signatures: Mutex::default(),
                entry_trampolines: Mutex::default(),
                host_trampolines: Mutex::default(),
                reservations: Arc::new(ReservationPool::new(LinearMemory::guarded_reservation_len(
                    config.compiler.guard_size,
                ))),
                instance_pool,
                epoch: AtomicU64::new(0),
                out_of_fuel_stub,
                new_epoch_stub,
            }),
        })
    }

    /// Advances the epoch by one. Wasm running in a store of this engine with
    /// [`Config::epoch_interruption`] on notices it at its next check (function entry or loop
    /// header) and, if the store's deadline has been reached, traps or runs the store's
    /// deadline callback. Callable from any thread; only an atomic increment.
    #[inline]
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// The current epoch.
    #[inline]
    pub(crate) fn current_epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Relaxed)
    }

    /// The epoch counter, whose address compiled code reads through each store.
    #[inline]
    pub(crate) fn epoch_counter(&self) -> *const AtomicU64 {
        &self.inner.epoch
    }

    /// The preserve-all stub calling `libcall` (`OutOfFuel` or `NewEpoch`), or null when the
    /// configuration makes no check that calls it.
    #[inline]
    pub(crate) fn interrupt_stub(&self, libcall: Libcall) -> *const u8 {
        let stub = match libcall {
            Libcall::OutOfFuel => &self.inner.out_of_fuel_stub,
            Libcall::NewEpoch => &self.inner.new_epoch_stub,
            other => unreachable!("{other:?} has no stub"),
        };
        stub.as_ref().map_or(std::ptr::null(), |code| code.base())
    }

    /// The pool of free memory reservations.
    #[inline]
    pub(crate) fn reservations(&self) -> &Arc<ReservationPool> {
        &self.inner.reservations
    }

    /// The pooling allocator's pools, if it is the allocation strategy.
    #[inline]
    pub(crate) fn instance_pool(&self) -> Option<&Arc<InstancePool>> {
        self.inner.instance_pool.as_ref()
    }

    /// What the code it compiles depends on.
    #[inline]
    pub(crate) fn stamp(&self) -> &EngineStamp {
        &self.inner.stamp
    }

    /// [`Engine::stamp`] as text.
    #[inline]
    pub(crate) fn stamp_text(&self) -> &str {
        &self.inner.stamp_text
    }

    /// Fails if the engine compiles for another machine, whose code cannot run here.
    pub(crate) fn check_runs_here(&self) -> Result<()> {
        if !self.inner.runs_here {
            anyhow::bail!(
                "this engine compiles for {}, not for this machine: it can precompile modules and components \
                 (`Engine::precompile_module`, `Engine::precompile_component`) but not run them",
                self.inner.stamp.code.triple
            );
        }
        Ok(())
    }

    /// The configuration.
    #[inline]
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether two handles are the same engine.
    #[inline]
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The engine-wide id of signature `ty` declared alone (a host function's type).
    pub(crate) fn signature_id(&self, ty: &FuncType) -> u32 {
        self.inner.signatures.lock().unwrap().func_type_id(ty)
    }

    /// The engine-wide ids of a module's types, by type index.
    pub(crate) fn module_type_ids(&self, module: &weld_environ::Module) -> Box<[u32]> {
        self.inner.signatures.lock().unwrap().module_type_ids(&module.rec_groups)
    }

    /// The signature with id `id`.
    #[inline]
    pub(crate) fn signature(&self, id: u32) -> FuncType {
        self.inner.signatures.lock().unwrap().get(id).clone()
    }

    /// The host-to-wasm trampoline for signature `id`.
    #[inline]
    pub(crate) fn entry_trampoline(&self, id: u32) -> Result<*const u8> {
        self.trampoline(id, &self.inner.entry_trampolines, |c, t| c.entry_trampoline(t))
    }

    /// The wasm-to-host trampoline for signature `id`.
    #[inline]
    pub(crate) fn host_trampoline(&self, id: u32) -> Result<*const u8> {
        self.trampoline(id, &self.inner.host_trampolines, |c, t| c.host_trampoline(t))
    }

    fn trampoline(
        &self,
        id: u32,
        cache: &Mutex<TrampolineCache>,
        compile: impl FnOnce(&Compiler, &FuncType) -> Result<weld_cranelift::CompiledCode>,
    ) -> Result<*const u8> {
        let mut cache = cache.lock().unwrap();
        if let Some(code) = cache.get(&id) {
            return Ok(code.base());
        }
        let ty = self.signature(id);
        let compiled = compile(&self.inner.compiler, &ty)?;
        let code = CodeMemory::new(&compiled, None, None)?;
        let base = code.base();
        cache.insert(id, code);
        Ok(base)
    }
}
