//! How instances get their memories and tables: [`InstanceAllocationStrategy`], chosen with
//! [`Config::allocation_strategy`](crate::Config::allocation_strategy), and the pooling
//! instance allocator ([`PoolingAllocationConfig`], and `InstancePool` for the engine and
//! `InstanceCounts` for each store).
//!
//! On demand (the default), each memory of an instance reserves its own address space and
//! each table allocates a vector. The engine keeps a few free reservations of guarded 32-bit
//! memories (`vm/reservations.rs`), which spares most `mmap`/`munmap` pairs without bounding
//! anything: it is a cache, filled lazily, that never refuses a memory.
//!
//! Pooling, as in Wasmtime, trades that freedom for fixed costs: the engine reserves the
//! address space of every memory slot and of every table slot once, when it is created
//! (`vm/pool_slots.rs`), and instantiation takes free slots, never mapping or unmapping
//! anything. When a store is dropped, its memories' and tables' slots are reset (discarded
//! with `madvise`, a memory image's mapping replaced by zero pages) and freed, and its count
//! of live core and component instances is given back. Everything is bounded: more live
//! instances, memories or tables than the pool's totals, a memory or table whose minimum does
//! not fit a slot, or a module with more memories or tables than allowed, fails to
//! instantiate with an error naming the limit; `memory.grow` and `table.grow` past a slot
//! return -1.
//!
//! Only instances take slots and count: memories, tables and globals the host creates
//! (`Memory::new`, `Table::new`) are allocated on demand under either strategy, as in
//! Wasmtime. Deliberately left out of weld's pooling allocator: Wasmtime's limits on the size
//! of an instance's `VMContext` (weld allocates those on the heap), per-component totals,
//! async stacks and GC heaps (weld has neither), memory protection keys, keeping a module's
//! memory image mapped in a slot for its next instance, and checking the per-module limits
//! when a module is compiled (weld checks them when it is instantiated, before any slot is
//! taken).

use crate::vm::memory::{LinearMemory, MAX_RESERVATION};
use crate::vm::memory_image::MemoryImage;
use crate::vm::mmap::{page_size, round_up};
use crate::vm::pool_slots::{MemoryPool, TablePool, exhausted};
use crate::vm::table::VmTable;
use anyhow::{Result, bail};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use weld_environ::{MemoryType, TableType, WASM_PAGE_SIZE};

/// How an engine allocates the memories and tables of the instances in its stores.
#[derive(Clone, Debug, Default)]
pub enum InstanceAllocationStrategy {
    /// Each memory and table is allocated when its instance is created and freed when its
    /// store is dropped (the default).
    #[default]
    OnDemand,
    /// Memories and tables come from pools the engine reserves when it is created, with the
    /// limits of the given configuration.
    Pooling(PoolingAllocationConfig),
}

impl InstanceAllocationStrategy {
    /// Pooling with the default limits ([`PoolingAllocationConfig::default`]).
    #[inline]
    pub fn pooling() -> InstanceAllocationStrategy {
        InstanceAllocationStrategy::Pooling(PoolingAllocationConfig::default())
    }
}

impl From<PoolingAllocationConfig> for InstanceAllocationStrategy {
    #[inline]
    fn from(config: PoolingAllocationConfig) -> InstanceAllocationStrategy {
        InstanceAllocationStrategy::Pooling(config)
    }
}

/// The limits of the pooling instance allocator (Wasmtime's names and defaults).
///
/// The engine reserves `total_memories` memory slots and `total_tables` table slots when it is
/// created. With the default (guarded) code, a memory slot is 4 GiB plus the guard region
/// whatever `max_memory_size` says, because compiled code relies on that much address space
/// after a 32-bit memory's base: the defaults reserve about 6 TiB of address space (not of
/// memory: nothing is backed until used). With
/// [`Config::explicit_bounds_checks`](crate::Config::explicit_bounds_checks), a slot is
/// `max_memory_size` bytes. A table slot is `table_elements` 8-byte elements.
#[derive(Clone, Debug)]
pub struct PoolingAllocationConfig {
    total_core_instances: u32,
    total_component_instances: u32,
    total_memories: u32,
    total_tables: u32,
    max_memory_size: usize,
    table_elements: usize,
    max_memories_per_module: u32,
    max_tables_per_module: u32,
    linear_memory_keep_resident: usize,
    table_keep_resident: usize,
}

impl Default for PoolingAllocationConfig {
    fn default() -> Self {
        PoolingAllocationConfig {
            total_core_instances: 1000,
            total_component_instances: 1000,
            total_memories: 1000,
            total_tables: 1000,
            max_memory_size: 4 << 30,
            table_elements: 20_000,
            max_memories_per_module: 1,
            max_tables_per_module: 1,
            linear_memory_keep_resident: 0,
            table_keep_resident: 0,
        }
    }
}

impl PoolingAllocationConfig {
    /// The default limits.
    #[inline]
    pub fn new() -> PoolingAllocationConfig {
        PoolingAllocationConfig::default()
    }

    /// How many core instances may be alive at once across all stores of the engine
    /// (default 1000). The core instances inside a component, its adapter modules' included,
    /// count one each.
    #[inline]
    pub fn total_core_instances(&mut self, count: u32) -> &mut Self {
        self.total_core_instances = count;
        self
    }

    /// How many component instances may be alive at once across all stores of the engine
    /// (default 1000).
    #[inline]
    pub fn total_component_instances(&mut self, count: u32) -> &mut Self {
        self.total_component_instances = count;
        self
    }

    /// How many memory slots the engine reserves: the most memories defined by live instances
    /// at once (default 1000).
    #[inline]
    pub fn total_memories(&mut self, count: u32) -> &mut Self {
        self.total_memories = count;
        self
    }

    /// How many table slots the engine reserves: the most tables defined by live instances at
    /// once (default 1000).
    #[inline]
    pub fn total_tables(&mut self, count: u32) -> &mut Self {
        self.total_tables = count;
        self
    }

    /// The most bytes a memory may have (default 4 GiB): a memory whose minimum is larger
    /// fails to instantiate, and `memory.grow` past it returns -1. At most 4 GiB with guarded
    /// code, at most 8 GiB (weld's limit) with explicit bounds checks.
    #[inline]
    pub fn max_memory_size(&mut self, bytes: usize) -> &mut Self {
        self.max_memory_size = bytes;
        self
    }

    /// The most elements a table may have (default 20 000): a table whose minimum is larger
    /// fails to instantiate, and `table.grow` past it returns -1.
    #[inline]
    pub fn table_elements(&mut self, elements: usize) -> &mut Self {
        self.table_elements = elements;
        self
    }

    /// The most memories a core module may define (default 1); imported memories do not
    /// count.
    #[inline]
    pub fn max_memories_per_module(&mut self, count: u32) -> &mut Self {
        self.max_memories_per_module = count;
        self
    }

    /// The most tables a core module may define (default 1); imported tables do not count.
    #[inline]
    pub fn max_tables_per_module(&mut self, count: u32) -> &mut Self {
        self.max_tables_per_module = count;
        self
    }

    /// How many bytes at the start of a freed memory slot are zeroed with `memset`, staying
    /// in memory for the next instance, rather than given back to the kernel with `madvise`
    /// (default 0; rounded down to pages). Worth it when instances touch their first pages and
    /// are short-lived; the rest of the slot is discarded either way.
    #[inline]
    pub fn linear_memory_keep_resident(&mut self, bytes: usize) -> &mut Self {
        self.linear_memory_keep_resident = bytes;
        self
    }

    /// As [`PoolingAllocationConfig::linear_memory_keep_resident`], for table slots.
    #[inline]
    pub fn table_keep_resident(&mut self, bytes: usize) -> &mut Self {
        self.table_keep_resident = bytes;
        self
    }
}

/// An engine's pools and its counts of live instances.
#[derive(Debug)]
pub(crate) struct InstancePool {
    config: PoolingAllocationConfig,
    memories: Arc<MemoryPool>,
    tables: Arc<TablePool>,
    /// The live instances of all stores: core instances in the low 32 bits, component
    /// instances in the high 32 (one word, so that a store gives both back at once).
    live: AtomicU64,
}

impl InstancePool {
    /// Reserves the slots `config` describes, for code that relies on guard pages after a
    /// 32-bit memory (`guarded`, with `guard_size` bytes of guard) or checks every access.
    pub fn new(config: &PoolingAllocationConfig, guarded: bool, guard_size: u64) -> Result<InstancePool> {
        let max = config.max_memory_size as u64;
        let (limit, what) =
            if guarded { (4 << 30, "guarded code") } else { (MAX_RESERVATION, "explicit bounds checks") };
        if max > limit {
            bail!(
                "pooling allocator: max_memory_size = {max} bytes is more than the {limit} bytes a memory can have with {what}"
            );
        }
        let slot_len = if guarded {
            LinearMemory::guarded_reservation_len(guard_size)
        } else {
            round_up(config.max_memory_size.max(1), page_size())
        };
        Ok(InstancePool {
            memories: Arc::new(MemoryPool::new(config.total_memories, slot_len, config.linear_memory_keep_resident)?),
            tables: Arc::new(TablePool::new(config.total_tables, config.table_elements, config.table_keep_resident)?),
            config: config.clone(),
            live: AtomicU64::new(0),
        })
    }

    /// Fails, naming the limit, unless `module`'s defined memories and tables fit the pool.
    #[inline]
    fn check_module(&self, module: &weld_environ::Module) -> Result<()> {
        let c = &self.config;
        // Only an error names the module: no string is made for one that fits.
        let name = || match &module.name {
            Some(name) => format!("module `{name}`"),
            None => "the module".to_string(),
        };
        let memories = module.memories.len() - module.num_imported_memories;
        if memories > c.max_memories_per_module as usize {
            bail!(
                "pooling allocator: {} defines {memories} memories, more than max_memories_per_module = {}",
                name(),
                c.max_memories_per_module
            );
        }
        let tables = module.tables.len() - module.num_imported_tables;
        if tables > c.max_tables_per_module as usize {
            bail!(
                "pooling allocator: {} defines {tables} tables, more than max_tables_per_module = {}",
                name(),
                c.max_tables_per_module
            );
        }
        for (i, ty) in module.memories.iter().skip(module.num_imported_memories) {
            let min = ty.minimum.saturating_mul(WASM_PAGE_SIZE);
            if min > c.max_memory_size as u64 {
                bail!(
                    "pooling allocator: memory {} of {} has a minimum of {} pages ({min} bytes), more than \
                     max_memory_size = {} bytes",
                    i.as_u32(),
                    name(),
                    ty.minimum,
                    c.max_memory_size
                );
            }
        }
        for (i, plan) in module.tables.iter().skip(module.num_imported_tables) {
            if plan.ty.minimum > c.table_elements as u64 {
                bail!(
                    "pooling allocator: table {} of {} has a minimum of {} elements, more than table_elements = {}",
                    i.as_u32(),
                    name(),
                    plan.ty.minimum,
                    c.table_elements
                );
            }
        }
        Ok(())
    }

    /// A memory of type `ty` in a free slot, with `image` mapped over its start.
    #[inline]
    pub fn new_memory(&self, ty: MemoryType, image: Option<&MemoryImage>) -> Result<LinearMemory> {
        LinearMemory::in_slot(ty, self.memories.acquire()?, self.config.max_memory_size as u64, image)
    }

    /// A table of type `ty` in a free slot, every element set to `init`.
    #[inline]
    pub fn new_table(&self, ty: TableType, init: u64) -> Result<VmTable> {
        VmTable::in_slot(ty, self.tables.acquire()?, init)
    }
}

/// One core instance in [`InstancePool::live`].
const ONE_CORE: u64 = 1;
/// One component instance in [`InstancePool::live`].
const ONE_COMPONENT: u64 = 1 << 32;

impl InstancePool {
    /// Counts one more live instance (`one` is [`ONE_CORE`] or [`ONE_COMPONENT`]) unless
    /// `total` of its kind are live already; fails naming the limit.
    #[inline]
    fn take_one(&self, one: u64, total: u32, what: &str, limit: &str) -> Result<()> {
        let shift = one.trailing_zeros();
        let fits = |live: u64| ((live >> shift) as u32) < total;
        match self.live.fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| fits(live).then(|| live + one)) {
            Ok(_) => Ok(()),
            Err(_) => Err(exhausted(what, limit, total)),
        }
    }
}

/// The instances a store holds under the pooling allocator, given back to the engine's count
/// when the store is dropped (`StoreOpaque`'s `Drop`, after its memories and tables went back
/// to their pools). It holds no reference to the pool, so that making a store costs no
/// atomic operation: the store's engine holds the pool.
#[derive(Debug, Default)]
pub(crate) struct InstanceCounts {
    /// How much this store added to [`InstancePool::live`].
    live: u64,
}

impl InstanceCounts {
    /// Before a core instance of `module` is created: checks that the module fits `pool` and
    /// counts the instance against `total_core_instances`.
    #[inline]
    pub fn admit_core(&mut self, pool: &InstancePool, module: &weld_environ::Module) -> Result<()> {
        pool.check_module(module)?;
        pool.take_one(ONE_CORE, pool.config.total_core_instances, "core instance", "total_core_instances")?;
        self.live += ONE_CORE;
        Ok(())
    }

    /// Before a component instance is created: counts it against
    /// `total_component_instances`.
    #[inline]
    pub fn admit_component(&mut self, pool: &InstancePool) -> Result<()> {
        pool.take_one(
            ONE_COMPONENT,
            pool.config.total_component_instances,
            "component instance",
            "total_component_instances",
        )?;
        self.live += ONE_COMPONENT;
        Ok(())
    }

    /// Gives every instance counted back to `pool` (the store is being dropped).
    #[inline]
    pub fn give_back(&mut self, pool: &InstancePool) {
        if self.live != 0 {
            pool.live.fetch_sub(std::mem::take(&mut self.live), Ordering::AcqRel);
        }
    }
}
