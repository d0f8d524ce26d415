//! What a store keeps of its bounds (see `limits.rs` for the API that sets them): the
//! limiter with the store's data type erased, the counts of instances, memories and tables it
//! allows and those made so far, and the default bounds. Apart from `limits.rs` so that
//! `store.rs` can hold it without the two importing each other.

use anyhow::{Result, bail};

/// The number of instances a store may create when its limiter does not say
/// ([`ResourceLimiter::instances`](crate::ResourceLimiter::instances)).
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// The number of tables a store may create when its limiter does not say.
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
/// The number of memories a store may create when its limiter does not say.
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;
/// The number of component handles (owned and borrowed resource handles in the handle tables
/// of all component instances) a store may hold at once unless
/// [`Store::set_max_component_handles`](crate::Store::set_max_component_handles) says otherwise.
pub const DEFAULT_MAX_COMPONENT_HANDLES: usize = 100_000;

/// A question for a store's limiter.
#[derive(Debug)]
pub(crate) enum LimiterCall {
    MemoryGrowing { current: usize, desired: usize, maximum: Option<usize> },
    MemoryGrowFailed(anyhow::Error),
    TableGrowing { current: usize, desired: usize, maximum: Option<usize> },
    TableGrowFailed(anyhow::Error),
}

/// A store's limiter with the store's data type erased: answers a [`LimiterCall`] (`true` for
/// the `*Failed` calls that did not ask for a trap).
pub(crate) type ErasedLimiter = Box<dyn FnMut(LimiterCall) -> Result<bool>>;

/// What a store knows of its bounds: the limiter, the counts it allows and the counts so far.
pub(crate) struct StoreLimitState {
    pub(crate) limiter: Option<ErasedLimiter>,
    pub(crate) instance_limit: usize,
    pub(crate) memory_limit: usize,
    pub(crate) table_limit: usize,
    instances: usize,
    memories: usize,
    tables: usize,
}

impl Default for StoreLimitState {
    #[inline]
    fn default() -> StoreLimitState {
        StoreLimitState {
            limiter: None,
            instance_limit: DEFAULT_INSTANCE_LIMIT,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            table_limit: DEFAULT_TABLE_LIMIT,
            instances: 0,
            memories: 0,
            tables: 0,
        }
    }
}

impl StoreLimitState {
    /// Counts one more instance defining `memories` memories and `tables` tables, or says
    /// which of the store's bounds that would pass. `what` names the instance for the message.
    pub(crate) fn count_instance(
        &mut self,
        what: &dyn std::fmt::Display,
        memories: usize,
        tables: usize,
    ) -> Result<()> {
        let l = self;
        let check = |count: usize, more: usize, limit: usize, noun: &str| -> Result<usize> {
            let new = count.saturating_add(more);
            if new > limit {
                bail!(
                    "cannot instantiate {what}: the store may create at most {limit} {noun} and this would make \
                     {new} (see ResourceLimiter::{noun} and StoreLimitsBuilder::{noun})"
                );
            }
            Ok(new)
        };
        let instances = check(l.instances, 1, l.instance_limit, "instances")?;
        let new_memories = check(l.memories, memories, l.memory_limit, "memories")?;
        let new_tables = check(l.tables, tables, l.table_limit, "tables")?;
        (l.instances, l.memories, l.tables) = (instances, new_memories, new_tables);
        Ok(())
    }

    /// Takes back what [`StoreLimitState::count_instance`] counted, for an instance that was
    /// refused after all (by the pooling allocator).
    pub(crate) fn uncount_instance(&mut self, memories: usize, tables: usize) {
        self.instances -= 1;
        self.memories -= memories;
        self.tables -= tables;
    }
}
