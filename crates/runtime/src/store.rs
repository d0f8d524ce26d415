//! `Store<T>`: owns every instance, memory, table, global and host function created in it,
//! together with the embedder's data `T`. Handles (`Func`, `Memory`, ...) are indices into a
//! store, checked against its id on use.

use crate::component::InstanceState;
use crate::component::handle_table::HandleBudget;
use crate::externref::ExternRef;
use crate::handles::ComponentInstanceId;
use crate::handles::StoreId;
use crate::limit_state::{DEFAULT_MAX_COMPONENT_HANDLES, StoreLimitState};
use crate::pooling::InstanceCounts;
use crate::signature_cache::{CachedSignature, SignatureCache};
use crate::vm::memory::LinearMemory;
use crate::vm::memory_image::MemoryImage;
use crate::vm::table::VmTable;
use crate::vm::vmcontext::{InstanceData, InstanceId, StoreIndex, VMStoreContext, VmGlobal};
use crate::{Engine, MemoryType, TableType};
use anyhow::Result;
use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use weld_environ::{Libcall, PrimaryMap};

/// A collection of instances and host state. Everything created in a store lives until the
/// store is dropped.
pub struct Store<T> {
    inner: Box<StoreInner<T>>,
}

/// The contents of a store: what `AsContext` gives access to.
pub struct StoreInner<T> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
    /// The host's futures and stream ends that component-model async's event loop polls.
    pub(crate) host_work: crate::component::concurrent::host_work::HostWork<StoreInner<T>>,
}

/// The part of a store that does not depend on `T`.
pub struct StoreOpaque {
    id: StoreId,
    engine: Engine,
    pub(crate) store_context: Box<VMStoreContext>,
    // Boxed: each VMContext points back at its InstanceData, so it must not move.
    #[allow(clippy::vec_box)]
    instances: PrimaryMap<InstanceId, Box<InstanceData>>,
    memories: PrimaryMap<StoreIndex, LinearMemory>,
    tables: PrimaryMap<StoreIndex, VmTable>,
    globals: PrimaryMap<StoreIndex, VmGlobal>,
    /// Exception tags, created by instances and by the host.
    pub(crate) tags: PrimaryMap<StoreIndex, crate::vm::exception_heap::VmTag>,
    /// Exception objects.
    pub(crate) exceptions: crate::vm::exception_heap::ExceptionHeap,
    host_funcs: Vec<Box<dyn Any + Send>>,
    externrefs: Vec<ExternRef>,
    /// Component instances; their core instances live in `instances`.
    pub(crate) component_instances: PrimaryMap<ComponentInstanceId, InstanceState>,
    /// Fuel set beyond what the counter in `store_context` holds (it holds at most
    /// `i64::MAX`), poured in when the counter runs out.
    pub(crate) fuel_reserve: u64,
    /// What to do when the epoch deadline is reached: `None` traps.
    pub(crate) epoch_callback: Option<EpochCallback>,
    /// The resource limiter and the counts it bounds.
    pub(crate) limits: StoreLimitState,
    /// The live component handles of all component instances, and their bound.
    pub(crate) handle_budget: Arc<HandleBudget>,
    /// The instances counted against the pooling allocator's totals, given back when the
    /// store is dropped (see `pooling.rs`).
    pool_counts: InstanceCounts,
    /// The signatures `Func::call` has called, with their entry trampolines.
    signature_cache: SignatureCache,
    /// Component-model async: tasks, threads, waitables (`component/concurrent`).
    pub(crate) concurrent: crate::component::concurrent::state::ConcurrentState,
}

impl StoreOpaque {
    /// The parameter and result types of signature `type_id`, with its entry trampoline unless
    /// the function called is a `host` function (see `signature_cache.rs`).
    #[inline]
    pub(crate) fn call_signature(&mut self, type_id: u32, host: bool) -> Result<&CachedSignature> {
        self.signature_cache.lookup(&self.engine, type_id, host)
    }

    /// Signature `type_id` as [`call_signature`](Self::call_signature) filled it.
    #[inline]
    pub(crate) fn called_signature(&self, type_id: u32) -> Option<&CachedSignature> {
        self.signature_cache.get(type_id)
    }
}

impl<T> Drop for Store<T> {
    /// Ends the component-model threads still suspended (`concurrent::unwind`), whose
    /// frames point into the store, before the store goes.
    fn drop(&mut self) {
        crate::component::concurrent::unwind::unwind_suspended(&mut *self.inner);
    }
}

impl<T> crate::component::concurrent::unwind::UnwindParts for StoreInner<T> {
    fn unwind_parts(&mut self) -> (&mut crate::component::concurrent::state::ConcurrentState, &mut usize) {
        let s = &mut self.opaque;
        (&mut s.concurrent, &mut s.store_context.stack_limit)
    }
}

impl Drop for StoreOpaque {
    fn drop(&mut self) {
        if let Some(pool) = self.engine.instance_pool() {
            // Slots first, counts after: a store that sees the count go down must find the
            // slots free too.
            self.component_instances = PrimaryMap::new();
            self.instances = PrimaryMap::new();
            self.memories = PrimaryMap::new();
            self.tables = PrimaryMap::new();
            self.pool_counts.give_back(pool);
        }
    }
}

/// A store's epoch deadline callback, with the store it was set on bound in: returns by how
/// many ticks to extend the deadline, or `None` to trap.
pub(crate) type EpochCallback = Box<dyn FnMut() -> Result<Option<u64>>>;

impl<T> Store<T> {
    /// The number of wasm exception objects the store holds: exceptions caught by `catch` or
    /// `catch_all` are freed, those ever handed out as an `exnref` stay as long as the store.
    pub fn live_exceptions(&self) -> usize {
        self.inner.opaque.exceptions.live()
    }

    /// Creates a store holding `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let opaque = StoreOpaque {
            id: StoreId(NEXT_ID.fetch_add(1, Ordering::Relaxed)),
            engine: engine.clone(),
            store_context: Box::new(VMStoreContext {
                stack_limit: usize::MAX,
                fuel_consumed: 0,
                epoch_deadline: 0,
                epoch_counter: engine.epoch_counter(),
                out_of_fuel_stub: engine.interrupt_stub(Libcall::OutOfFuel),
                new_epoch_stub: engine.interrupt_stub(Libcall::NewEpoch),
            }),
            instances: PrimaryMap::new(),
            memories: PrimaryMap::new(),
            tables: PrimaryMap::new(),
            globals: PrimaryMap::new(),
            tags: PrimaryMap::new(),
            exceptions: Default::default(),
            host_funcs: Vec::new(),
            externrefs: Vec::new(),
            component_instances: PrimaryMap::new(),
            fuel_reserve: 0,
            epoch_callback: None,
            limits: StoreLimitState::default(),
            handle_budget: Arc::new(HandleBudget::new(DEFAULT_MAX_COMPONENT_HANDLES)),
            pool_counts: InstanceCounts::default(),
            signature_cache: SignatureCache::default(),
            concurrent: Default::default(),
        };
        Store { inner: Box::new(StoreInner { opaque, data, host_work: Default::default() }) }
    }

    /// The embedder's data.
    #[inline]
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The embedder's data, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Consumes the store, returning the data.
    #[inline]
    pub fn into_data(self) -> T {
        let mut store = std::mem::ManuallyDrop::new(self);
        crate::component::concurrent::unwind::unwind_suspended(&mut *store.inner);
        // SAFETY: `store` is never used or dropped again (it is a `ManuallyDrop`), so its box
        // is read out exactly once and dropped here, after the data is moved out of it.
        let inner = unsafe { std::ptr::read(&store.inner) };
        inner.data
    }

    /// The engine.
    #[inline]
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }
}

impl<T> StoreInner<T> {
    /// The embedder's data.
    #[inline]
    pub fn data(&self) -> &T {
        &self.data
    }
    /// The embedder's data, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }
    #[inline]
    pub(crate) fn opaque(&self) -> &StoreOpaque {
        &self.opaque
    }
    #[inline]
    pub(crate) fn opaque_mut(&mut self) -> &mut StoreOpaque {
        &mut self.opaque
    }
}

impl StoreOpaque {
    #[inline]
    pub(crate) fn id(&self) -> StoreId {
        self.id
    }

    #[inline]
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Panics if a handle from store `id` is used with this store: that is a bug in the
    /// embedder's program, like indexing a slice out of bounds.
    #[inline]
    pub(crate) fn check_owner(&self, id: StoreId) {
        assert_eq!(self.id, id, "object used with the wrong store");
    }

    #[inline]
    pub(crate) fn push_instance(&mut self, make: impl FnOnce(InstanceId, *mut u8) -> Box<InstanceData>) -> InstanceId {
        let id = self.instances.next_key();
        let this: *mut StoreOpaque = self;
        self.instances.push(make(id, this.cast()));
        id
    }

    #[inline]
    pub(crate) fn instance(&self, id: InstanceId) -> &InstanceData {
        &self.instances[id]
    }

    #[inline]
    pub(crate) fn instance_mut(&mut self, id: InstanceId) -> &mut InstanceData {
        &mut self.instances[id]
    }

    #[inline]
    pub(crate) fn new_memory(&mut self, ty: MemoryType, image: Option<&MemoryImage>) -> Result<StoreIndex> {
        self.check_new_memory(&ty)?;
        let c = &self.engine.config().compiler;
        let m = LinearMemory::new(ty, !c.explicit_bounds_checks, c.guard_size, image, self.engine.reservations())?;
        Ok(self.memories.push(m))
    }

    #[inline]
    pub(crate) fn memory(&self, i: StoreIndex) -> &LinearMemory {
        &self.memories[i]
    }

    #[inline]
    pub(crate) fn memory_mut(&mut self, i: StoreIndex) -> &mut LinearMemory {
        &mut self.memories[i]
    }

    /// Creates a table of type `ty` with every element `init`, if the limiter allows it.
    #[inline]
    pub(crate) fn new_table(&mut self, ty: TableType, init: u64) -> Result<StoreIndex> {
        self.check_new_table(&ty)?;
        Ok(self.tables.push(VmTable::new(ty, init)?))
    }

    #[inline]
    pub(crate) fn table(&self, i: StoreIndex) -> &VmTable {
        &self.tables[i]
    }

    #[inline]
    pub(crate) fn table_mut(&mut self, i: StoreIndex) -> &mut VmTable {
        &mut self.tables[i]
    }

    /// Two distinct memories at once (for a stream copy between two components).
    #[inline]
    pub(crate) fn two_memories_mut(&mut self, a: StoreIndex, b: StoreIndex) -> (&mut LinearMemory, &mut LinearMemory) {
        let [a, b] = self.memories.get_disjoint_mut([a, b]).expect("two distinct memories of this store");
        (a, b)
    }

    /// Two distinct tables at once (for `table.copy` between tables).
    #[inline]
    pub(crate) fn two_tables_mut(&mut self, a: StoreIndex, b: StoreIndex) -> (&mut VmTable, &mut VmTable) {
        let [a, b] = self.tables.get_disjoint_mut([a, b]).expect("two distinct tables of this store");
        (a, b)
    }

    #[inline]
    pub(crate) fn push_global(&mut self, g: VmGlobal) -> StoreIndex {
        self.globals.push(g)
    }

    #[inline]
    pub(crate) fn global(&self, i: StoreIndex) -> &VmGlobal {
        &self.globals[i]
    }

    #[inline]
    pub(crate) fn global_mut(&mut self, i: StoreIndex) -> &mut VmGlobal {
        &mut self.globals[i]
    }

    #[inline]
    pub(crate) fn push_host_func(&mut self, f: Box<dyn Any + Send>) {
        self.host_funcs.push(f);
    }

    /// Registers an externref, returning its raw handle (never 0).
    #[inline]
    pub(crate) fn register_externref(&mut self, e: ExternRef) -> u64 {
        self.externrefs.push(e);
        self.externrefs.len() as u64
    }

    #[inline]
    pub(crate) fn component_instance(&self, index: ComponentInstanceId) -> &InstanceState {
        &self.component_instances[index]
    }

    #[inline]
    pub(crate) fn component_instance_mut(&mut self, index: ComponentInstanceId) -> &mut InstanceState {
        &mut self.component_instances[index]
    }

    /// The externref with raw handle `raw` (0 is null).
    #[inline]
    pub(crate) fn externref(&self, raw: u64) -> Option<ExternRef> {
        let i = usize::try_from(raw).ok()?.checked_sub(1)?;
        self.externrefs.get(i).cloned()
    }
}

/// What instantiation allocates: under the pooling allocator, from the engine's pools and
/// counted against its limits (`pooling.rs`); on demand, as the host's own memories and
/// tables are.
impl StoreOpaque {
    /// Before a core instance of `module` is created: checks that it fits the pooling
    /// allocator's limits and counts it (nothing on demand).
    #[inline]
    pub(crate) fn admit_core_instance(&mut self, module: &weld_environ::Module) -> Result<()> {
        match self.engine.instance_pool() {
            Some(pool) => self.pool_counts.admit_core(pool, module),
            None => Ok(()),
        }
    }

    /// Before a component instance is created: counts it against the pooling allocator's
    /// limit (nothing on demand).
    #[inline]
    pub(crate) fn admit_component_instance(&mut self) -> Result<()> {
        match self.engine.instance_pool() {
            Some(pool) => self.pool_counts.admit_component(pool),
            None => Ok(()),
        }
    }

    /// A memory that an instance defines, in a slot of the pooling allocator or (on demand)
    /// as [`StoreOpaque::new_memory`] makes one.
    #[inline]
    pub(crate) fn new_instance_memory(&mut self, ty: MemoryType, image: Option<&MemoryImage>) -> Result<StoreIndex> {
        if self.engine.instance_pool().is_none() {
            return self.new_memory(ty, image);
        }
        self.check_new_memory(&ty)?;
        let pool = self.engine.instance_pool().expect("checked above");
        let m = pool.new_memory(ty, image)?;
        Ok(self.memories.push(m))
    }

    /// A table that an instance defines, every element set to `init`: in a slot of the
    /// pooling allocator, or (on demand) a table of its own.
    #[inline]
    pub(crate) fn new_instance_table(&mut self, ty: TableType, init: u64) -> Result<StoreIndex> {
        if self.engine.instance_pool().is_none() {
            return self.new_table(ty, init);
        }
        self.check_new_table(&ty)?;
        let pool = self.engine.instance_pool().expect("checked above");
        let t = pool.new_table(ty, init)?;
        Ok(self.tables.push(t))
    }
}

/// Access to a store's contents, for functions that only read it.
pub trait AsContext {
    /// The embedder's data type.
    type Data;
    /// The store's contents.
    fn as_context(&self) -> &StoreInner<Self::Data>;
}

/// Access to a store's contents, for functions that change it.
pub trait AsContextMut: AsContext {
    /// The store's contents, mutably.
    fn as_context_mut(&mut self) -> &mut StoreInner<Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    #[inline]
    fn as_context(&self) -> &StoreInner<T> {
        &self.inner
    }
}
impl<T> AsContextMut for Store<T> {
    #[inline]
    fn as_context_mut(&mut self) -> &mut StoreInner<T> {
        &mut self.inner
    }
}
impl<T> AsContext for StoreInner<T> {
    type Data = T;
    #[inline]
    fn as_context(&self) -> &StoreInner<T> {
        self
    }
}
impl<T> AsContextMut for StoreInner<T> {
    #[inline]
    fn as_context_mut(&mut self) -> &mut StoreInner<T> {
        self
    }
}
impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    #[inline]
    fn as_context(&self) -> &StoreInner<C::Data> {
        (**self).as_context()
    }
}
impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    #[inline]
    fn as_context(&self) -> &StoreInner<C::Data> {
        (**self).as_context()
    }
}
impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    #[inline]
    fn as_context_mut(&mut self) -> &mut StoreInner<C::Data> {
        (**self).as_context_mut()
    }
}

/// A shared borrow of a store's contents for the lifetime `'a`: what `Memory::data` borrows
/// from, made from `&store` (a `Store`, a `Caller`, another context).
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);
/// An exclusive borrow of a store's contents for the lifetime `'a`: what a component host
/// function receives, and what `Memory::data_mut` borrows from.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

impl<'a, T> StoreContext<'a, T> {
    /// The embedder's data.
    #[inline]
    pub fn data(&self) -> &'a T {
        self.0.data()
    }
    /// The engine.
    #[inline]
    pub fn engine(&self) -> &'a Engine {
        self.0.opaque().engine()
    }
}

impl<'a, T> StoreContextMut<'a, T> {
    /// The embedder's data.
    #[inline]
    pub fn data(&self) -> &T {
        self.0.data()
    }
    /// The embedder's data, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut T {
        self.0.data_mut()
    }
    /// The engine.
    #[inline]
    pub fn engine(&self) -> &Engine {
        self.0.opaque().engine()
    }
}

impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    #[inline]
    fn as_context(&self) -> &StoreInner<T> {
        self.0
    }
}
impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    #[inline]
    fn as_context(&self) -> &StoreInner<T> {
        self.0
    }
}
impl<T> AsContextMut for StoreContextMut<'_, T> {
    #[inline]
    fn as_context_mut(&mut self) -> &mut StoreInner<T> {
        self.0
    }
}

impl<'a, T, C: AsContext<Data = T>> From<&'a C> for StoreContext<'a, T> {
    #[inline]
    fn from(c: &'a C) -> Self {
        StoreContext(c.as_context())
    }
}
impl<'a, T, C: AsContext<Data = T>> From<&'a mut C> for StoreContext<'a, T> {
    #[inline]
    fn from(c: &'a mut C) -> Self {
        let c: &'a C = c;
        StoreContext(c.as_context())
    }
}
impl<'a, T, C: AsContextMut<Data = T>> From<&'a mut C> for StoreContextMut<'a, T> {
    #[inline]
    fn from(c: &'a mut C) -> Self {
        StoreContextMut(c.as_context_mut())
    }
}
