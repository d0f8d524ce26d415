//! Bounds on what the guests of one store may take: how large each memory and table may grow
//! ([`ResourceLimiter`], installed with [`Store::limiter`]), how many instances, memories and
//! tables a store may create, and how many component handles may be live at once
//! ([`Store::set_max_component_handles`]). [`StoreLimits`] is the limiter for the common case
//! of fixed bounds, built with [`StoreLimitsBuilder`]. Names and defaults are Wasmtime's.
//!
//! A store keeps its limiter as a closure over the store's own data, with its type erased, so
//! that compiled code's `memory.grow` and `table.grow` (libcalls that only see the untyped part
//! of the store) can ask it. The counts of instances, memories and tables are read from the
//! limiter once, when it is installed, as in Wasmtime; they count what a store ever created
//! (nothing in a store is freed before the store), by instantiation only.
//!
//! This is not a memory accountant for the host: the store's own bookkeeping and whatever the
//! embedder allocates for a guest (WASI buffers, host resources: see
//! [`ResourceTable::set_max_capacity`](crate::component::ResourceTable::set_max_capacity)) are
//! bounded elsewhere.

use crate::limit_state::{DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT, LimiterCall};
use crate::store::{AsContext, AsContextMut, Store, StoreInner, StoreOpaque};
use crate::vm::vmcontext::StoreIndex;
use anyhow::{Result, bail};
use weld_environ::{MemoryType, TableType, WASM_PAGE_SIZE};

/// Decides whether the guests of a store may grow a memory or a table, and bounds how many
/// instances, tables and memories the store may create. Installed with [`Store::limiter`].
///
/// Sizes are in bytes for memories (always multiples of the 64 KiB page) and in elements for
/// tables. `maximum` is the largest size the memory or table may ever reach (its declared
/// maximum, or a bound of the engine), `None` when only the index type bounds it.
pub trait ResourceLimiter: Send {
    /// A memory asks to grow from `current` to `desired` bytes, or is being created with
    /// `desired` bytes (`current` is 0). `Ok(true)` allows it (it may still fail, e.g. beyond
    /// `maximum`); `Ok(false)` refuses it: `memory.grow` returns -1 as the spec says, creating
    /// the memory fails, and `Memory::grow` returns an error. `Err` makes `memory.grow` trap
    /// with that error (not what the spec says, but useful to find who asked for so much).
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> Result<bool>;

    /// Growing a memory, allowed by [`ResourceLimiter::memory_growing`], failed (beyond its
    /// maximum, or the system gave no memory). `Ok(())` lets `memory.grow` return -1; `Err`
    /// makes it trap.
    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        log::debug!("memory.grow failed, -1 returned to the guest: {error:#}");
        Ok(())
    }

    /// A table asks to grow from `current` to `desired` elements, or is being created with
    /// `desired` (`current` is 0); the answer means what it does for
    /// [`ResourceLimiter::memory_growing`].
    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> Result<bool>;

    /// Growing a table, allowed by [`ResourceLimiter::table_growing`], failed. `Ok(())` lets
    /// `table.grow` return -1; `Err` makes it trap.
    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        log::debug!("table.grow failed, -1 returned to the guest: {error:#}");
        Ok(())
    }

    /// How many instances the store may create (core module instances, including those a
    /// component instantiates). Read once, when the limiter is installed.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// How many tables the store's instances may define. Read once, when installed.
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// How many memories the store's instances may define. Read once, when installed.
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

/// Fixed bounds for a store: a [`ResourceLimiter`] made by [`StoreLimitsBuilder`].
#[derive(Clone, Debug)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    #[inline]
    fn default() -> StoreLimits {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

/// Builds [`StoreLimits`]: every bound starts at its default (sizes unbounded, 10,000
/// instances, tables and memories, growth failures return -1).
#[derive(Clone, Debug, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// Default bounds.
    #[inline]
    pub fn new() -> StoreLimitsBuilder {
        StoreLimitsBuilder::default()
    }

    /// The most bytes each linear memory may reach (each one separately).
    #[inline]
    pub fn memory_size(mut self, bytes: usize) -> StoreLimitsBuilder {
        self.0.memory_size = Some(bytes);
        self
    }

    /// The most elements each table may reach (each one separately).
    #[inline]
    pub fn table_elements(mut self, elements: usize) -> StoreLimitsBuilder {
        self.0.table_elements = Some(elements);
        self
    }

    /// How many instances the store may create.
    #[inline]
    pub fn instances(mut self, count: usize) -> StoreLimitsBuilder {
        self.0.instances = count;
        self
    }

    /// How many tables the store's instances may define.
    #[inline]
    pub fn tables(mut self, count: usize) -> StoreLimitsBuilder {
        self.0.tables = count;
        self
    }

    /// How many memories the store's instances may define.
    #[inline]
    pub fn memories(mut self, count: usize) -> StoreLimitsBuilder {
        self.0.memories = count;
        self
    }

    /// Whether a `memory.grow` or `table.grow` that fails traps instead of returning -1 (not
    /// what the spec says; for finding out which guest asked for too much).
    #[inline]
    pub fn trap_on_grow_failure(mut self, trap: bool) -> StoreLimitsBuilder {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The limits.
    #[inline]
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

impl StoreLimits {
    /// Whether growing to `desired` is allowed under `limit` and `maximum`, or the trap asked
    /// for when it is not.
    fn allow(&self, what: &str, desired: usize, limit: Option<usize>, maximum: Option<usize>) -> Result<bool> {
        let within = |bound: Option<usize>| bound.is_none_or(|b| desired <= b);
        let allowed = within(limit) && within(maximum);
        if !allowed && self.trap_on_grow_failure {
            let (noun, unit) = what.split_once(' ').unwrap_or((what, ""));
            match limit.filter(|l| desired > *l) {
                Some(l) => bail!(
                    "a {noun} may not grow to {desired} {unit}: the store's limit is {l} {unit} (trap on grow failure)"
                ),
                None => bail!("a {noun} may not grow to {desired} {unit}, beyond its maximum (trap on grow failure)"),
            }
        }
        Ok(allowed)
    }

    fn failed(&self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure {
            return Err(error.context("growing failed, and the store's limits make that a trap"));
        }
        Ok(())
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> Result<bool> {
        self.allow("memory bytes", desired, self.memory_size, maximum)
    }

    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        self.failed(error)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> Result<bool> {
        self.allow("table elements", desired, self.table_elements, maximum)
    }

    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        self.failed(error)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

impl StoreOpaque {
    /// Asks the store's limiter `call`; `None` if it has none. The limiter reaches the
    /// store's data through its own pointer, so it is taken out of the store while it runs.
    pub(crate) fn ask_limiter(&mut self, call: LimiterCall) -> Option<Result<bool>> {
        let mut limiter = self.limits.limiter.take()?;
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| limiter(call)));
        self.limits.limiter = Some(limiter);
        match answer {
            Ok(answer) => Some(answer),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl StoreOpaque {
    /// Grows memory `index` by `delta` pages as `memory.grow` does, asking the limiter first:
    /// the old size in pages, `None` when the growth is refused or fails (the guest sees -1),
    /// or the error the limiter turned that into (a trap).
    pub(crate) fn grow_memory(&mut self, index: StoreIndex, delta: u64) -> Result<Option<u64>> {
        let memory = self.memory(index);
        let old = memory.size_pages();
        if delta == 0 {
            return Ok(Some(old));
        }
        let current = memory.data().len();
        let desired = old.checked_add(delta).and_then(|p| p.checked_mul(WASM_PAGE_SIZE));
        let Some(desired) = desired.and_then(|b| usize::try_from(b).ok()) else { return Ok(None) };
        let maximum = memory.maximum_for_limiter();
        if let Some(answer) = self.ask_limiter(LimiterCall::MemoryGrowing { current, desired, maximum })
            && !answer?
        {
            return Ok(None);
        }
        match self.memory_mut(index).grow(delta) {
            Ok(old) => Ok(Some(old)),
            Err(e) => self.grow_failed(LimiterCall::MemoryGrowFailed(e)),
        }
    }

    /// Grows table `index` by `delta` elements set to `init` as `table.grow` does, asking the
    /// limiter first; the result means what [`StoreOpaque::grow_memory`]'s does.
    pub(crate) fn grow_table(&mut self, index: StoreIndex, delta: u64, init: u64) -> Result<Option<u64>> {
        let table = self.table(index);
        let old = table.size();
        if delta == 0 {
            return Ok(Some(old));
        }
        let desired = old.checked_add(delta).and_then(|n| usize::try_from(n).ok());
        let Some(desired) = desired else { return Ok(None) };
        let maximum = table.maximum_for_limiter();
        let current = old as usize;
        if let Some(answer) = self.ask_limiter(LimiterCall::TableGrowing { current, desired, maximum })
            && !answer?
        {
            return Ok(None);
        }
        match self.table_mut(index).grow(delta, init) {
            Ok(old) => Ok(Some(old)),
            Err(e) => self.grow_failed(LimiterCall::TableGrowFailed(e)),
        }
    }

    /// Tells the limiter a growth failed: `None` (-1 for the guest) unless it asks for a trap.
    fn grow_failed(&mut self, call: LimiterCall) -> Result<Option<u64>> {
        match self.ask_limiter(call) {
            Some(Err(e)) => Err(e),
            _ => Ok(None),
        }
    }

    /// Asks the limiter whether a memory of `ty` may be created; an error if not.
    pub(crate) fn check_new_memory(&mut self, ty: &MemoryType) -> Result<()> {
        let desired = ty.minimum.checked_mul(WASM_PAGE_SIZE).and_then(|b| usize::try_from(b).ok());
        let maximum =
            ty.maximum.and_then(|m| m.checked_mul(WASM_PAGE_SIZE)).map(|b| usize::try_from(b).unwrap_or(usize::MAX));
        let Some(desired) = desired else { bail!("memory minimum size of {} pages is too large", ty.minimum) };
        match self.ask_limiter(LimiterCall::MemoryGrowing { current: 0, desired, maximum }) {
            Some(Ok(false)) => bail!(
                "memory minimum size of {} pages ({desired} bytes) exceeds the store's limits (its ResourceLimiter \
                 refused it)",
                ty.minimum
            ),
            Some(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }

    /// Asks the limiter whether a table of `ty` may be created; an error if not.
    pub(crate) fn check_new_table(&mut self, ty: &TableType) -> Result<()> {
        let desired = usize::try_from(ty.minimum).unwrap_or(usize::MAX);
        let maximum = ty.maximum.map(|m| usize::try_from(m).unwrap_or(usize::MAX));
        match self.ask_limiter(LimiterCall::TableGrowing { current: 0, desired, maximum }) {
            Some(Ok(false)) => bail!(
                "table minimum size of {} elements exceeds the store's limits (its ResourceLimiter refused it)",
                ty.minimum
            ),
            Some(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }
}

impl<T> Store<T> {
    /// Installs `limiter`, which finds the store's [`ResourceLimiter`] in its data (often a
    /// [`StoreLimits`] field), replacing any other. Every memory and table created or grown
    /// from then on asks it, and its counts of instances, tables and memories are read now.
    pub fn limiter(&mut self, mut limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static)
    where
        T: 'static,
    {
        let inner: *mut StoreInner<T> = self.as_context_mut();
        let (instances, tables, memories) = {
            let l = limiter(self.data_mut());
            (l.instances(), l.tables(), l.memories())
        };
        let erased = move |call: LimiterCall| -> Result<bool> {
            // SAFETY: the limiter is owned by this store (whose contents are boxed, so `inner`
            // stays valid as long as it does) and only `StoreOpaque::ask_limiter` calls it,
            // with the limiter taken out of the store; only the data field is reached, which
            // no caller of `ask_limiter` borrows (they hold the untyped part of the store).
            let data = unsafe { &mut (*inner).data };
            let l = limiter(data);
            match call {
                LimiterCall::MemoryGrowing { current, desired, maximum } => l.memory_growing(current, desired, maximum),
                LimiterCall::TableGrowing { current, desired, maximum } => l.table_growing(current, desired, maximum),
                LimiterCall::MemoryGrowFailed(e) => l.memory_grow_failed(e).map(|()| true),
                LimiterCall::TableGrowFailed(e) => l.table_grow_failed(e).map(|()| true),
            }
        };
        let state = &mut self.as_context_mut().opaque_mut().limits;
        state.limiter = Some(Box::new(erased));
        (state.instance_limit, state.table_limit, state.memory_limit) = (instances, tables, memories);
    }
}

impl<T> Store<T> {
    /// How many component handles (owned and borrowed resource handles, in the handle tables
    /// of all the store's component instances) may be live at once:
    /// [`DEFAULT_MAX_COMPONENT_HANDLES`](crate::DEFAULT_MAX_COMPONENT_HANDLES) unless set.
    #[inline]
    pub fn max_component_handles(&self) -> usize {
        self.as_context().opaque().handle_budget.limit()
    }

    /// Sets how many component handles may be live at once in this store. Making one more
    /// (`resource.new`, passing an owned or borrowed handle into a component, ...) traps with
    /// [`Trap::HandleTableFull`](crate::Trap). Dropping handles makes room again; handles
    /// live beyond a lowered limit stay.
    #[inline]
    pub fn set_max_component_handles(&mut self, limit: usize) {
        self.as_context_mut().opaque_mut().handle_budget.set_limit(limit);
    }
}
