//! A component instance's handle table, with the spec's rules: index 0 is never used, freed
//! indices are reused last-freed-first, every access checks the index and the resource type,
//! and an owned handle cannot be removed while it is lent. Borrow scopes of calls are counted
//! here too. Each broken rule is a trap ([`Trap::UnknownHandle`], [`Trap::HandleWrongType`],
//! [`Trap::HandleLent`], [`Trap::BorrowedHandleNotOwned`], [`Trap::BorrowsRemain`],
//! [`Trap::HandleTableFull`]), the same whether a fused adapter, a host call or a resource
//! intrinsic found it, since they all use this table.
//!
//! Only the table: the intrinsics that use it (`resource.new`, `resource.rep`,
//! `resource.drop`) are made in `intrinsics.rs`, and handles are lifted and lowered against it in
//! `store_memory.rs`.

use crate::trap::trap_with;
use anyhow::Result;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use weld_environ::Trap;
use weld_environ::component::info::RuntimeResourceIndex;

/// The call a borrowed handle was lent for: the table's synchronous call in progress (its
/// count is the table's), or a task (whose count is the task's, which dropping the handle
/// from any task decreases: the spec's `borrow_scope`). A number rather than an enum, to
/// keep a slot at 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BorrowScope(u32);

impl BorrowScope {
    /// The synchronous call in progress in the table's instance.
    pub(crate) const SYNC_CALL: BorrowScope = BorrowScope(u32::MAX);

    /// Task number `task` (of the store's `ConcurrentState`).
    pub(crate) fn task(task: usize) -> BorrowScope {
        BorrowScope(u32::try_from(task).unwrap_or(u32::MAX - 1).min(u32::MAX - 1))
    }

    /// The task it names, if it names one.
    pub(crate) fn as_task(self) -> Option<usize> {
        (self != Self::SYNC_CALL).then_some(self.0 as usize)
    }
}

/// One entry of a handle table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Free,
    /// An owned handle, lent out `lends` times.
    Own {
        resource: RuntimeResourceIndex,
        rep: u32,
        lends: u32,
    },
    /// A borrowed handle, lent for a call that it must not outlive (`scope`): the table's
    /// synchronous call, or a task.
    Borrow {
        resource: RuntimeResourceIndex,
        rep: u32,
        scope: BorrowScope,
    },
    /// A waitable of component-model async (a subtask, or an end of a stream or future):
    /// its number in the store's `ConcurrentState`.
    Waitable(u32),
    /// A waitable set (its number in the store's `ConcurrentState`).
    WaitableSet(u32),
    /// An error context (its number in the store's `ConcurrentState`).
    ErrorContext(u32),
}

impl Slot {
    /// What the entry holds, for messages.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Slot::Free => "nothing",
            Slot::Own { .. } => "an owned resource handle",
            Slot::Borrow { .. } => "a borrowed resource handle",
            Slot::Waitable(_) => "a waitable",
            Slot::WaitableSet(_) => "a waitable set",
            Slot::ErrorContext(_) => "an error context",
        }
    }
}

/// The live handles of all the handle tables of one store, and how many there may be
/// ([`Store::set_max_component_handles`](crate::Store::set_max_component_handles)): one guest
/// calling `resource.new` in a loop must not make the host allocate without bound.
///
/// Shared by the store and each of its tables. The counters are atomics rather than `Cell`s
/// so as not to stand in the way of a `Send` store (as Wasmtime's is); a store is used by one
/// thread at a time, so plain loads and stores suffice (no read-modify-write).
#[derive(Debug)]
pub(crate) struct HandleBudget {
    live: AtomicUsize,
    limit: AtomicUsize,
}

impl HandleBudget {
    /// A budget of `limit` handles, none live.
    #[inline]
    pub(crate) fn new(limit: usize) -> HandleBudget {
        HandleBudget { live: AtomicUsize::new(0), limit: AtomicUsize::new(limit) }
    }

    /// How many handles may be live at once.
    #[inline]
    pub(crate) fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Sets how many handles may be live at once (those live beyond it stay).
    #[inline]
    pub(crate) fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Counts one more live handle, or says why there may not be one.
    #[inline]
    fn take(&self) -> Result<()> {
        let live = self.live.load(Ordering::Relaxed);
        let limit = self.limit();
        if live >= limit {
            return Err(trap_with(
                Trap::HandleTableFull,
                format!(
                    "the store already holds {live} live component handles, its limit (raise it with \
                     Store::set_max_component_handles or `-S max-component-handles=N`)"
                ),
            ));
        }
        self.live.store(live + 1, Ordering::Relaxed);
        Ok(())
    }

    /// Counts one handle fewer.
    #[inline]
    fn give_back(&self) {
        let live = self.live.load(Ordering::Relaxed);
        self.live.store(live.saturating_sub(1), Ordering::Relaxed);
    }
}

/// A component instance's handle table.
#[derive(Debug)]
pub(crate) struct HandleTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Borrowed handles lent for the current call that are still in the table.
    call_borrows: u32,
    /// The store's count of live handles.
    budget: Arc<HandleBudget>,
}

/// The spec's `Table.MAX_LENGTH` + 1: indices are below it.
const MAX_HANDLES: usize = 1 << 28;

impl HandleTable {
    /// An empty table whose handles count in `budget`.
    #[inline]
    pub(crate) fn new(budget: Arc<HandleBudget>) -> HandleTable {
        HandleTable { slots: vec![Slot::Free], free: Vec::new(), call_borrows: 0, budget }
    }

    /// Adds an entry, reusing the most recently freed index first.
    pub(crate) fn add(&mut self, slot: Slot) -> Result<u32> {
        self.budget.take()?;
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = slot;
            return Ok(i);
        }
        if self.slots.len() >= MAX_HANDLES {
            self.budget.give_back();
            return Err(trap_with(
                Trap::HandleTableFull,
                format!("a handle table holds at most {} handles", MAX_HANDLES - 1),
            ));
        }
        self.slots.push(slot);
        Ok(self.slots.len() as u32 - 1)
    }

    /// The entry at `index`, checked to be of `resource`.
    pub(crate) fn get(
        &self,
        index: u32,
        resource: RuntimeResourceIndex,
        names: &dyn Fn(RuntimeResourceIndex) -> String,
    ) -> Result<Slot> {
        let slot = match self.slots.get(index as usize) {
            Some(s) if index != 0 && *s != Slot::Free => *s,
            _ => return Err(trap_with(Trap::UnknownHandle, format!("invalid handle: unknown handle index {index}"))),
        };
        let found = match slot {
            Slot::Own { resource, .. } | Slot::Borrow { resource, .. } => resource,
            other => {
                return Err(trap_with(
                    Trap::HandleWrongType,
                    format!(
                        "handle index {index} used with the wrong type, expected {} but found {}",
                        names(resource),
                        other.kind()
                    ),
                ));
            }
        };
        if found != resource {
            let (expected, found) = (names(resource), names(found));
            let found = if found == expected { format!("a different {found}") } else { found };
            return Err(trap_with(
                Trap::HandleWrongType,
                format!("handle index {index} used with the wrong type, expected {expected} but found {found}"),
            ));
        }
        Ok(slot)
    }

    /// Removes the entry at `index` (checked as by [`HandleTable::get`]); an owned handle
    /// that is lent cannot be removed.
    pub(crate) fn remove(
        &mut self,
        index: u32,
        resource: RuntimeResourceIndex,
        names: &dyn Fn(RuntimeResourceIndex) -> String,
    ) -> Result<Slot> {
        let slot = self.get(index, resource, names)?;
        if let Slot::Own { lends, .. } = slot
            && lends != 0
        {
            return Err(trap_with(
                Trap::HandleLent,
                format!("cannot remove owned resource while borrowed: handle index {index} is lent to {lends} call(s)"),
            ));
        }
        if let Slot::Borrow { scope: BorrowScope::SYNC_CALL, .. } = slot {
            self.call_borrows -= 1;
        }
        self.slots[index as usize] = Slot::Free;
        self.free.push(index);
        self.budget.give_back();
        Ok(slot)
    }
}

impl HandleTable {
    /// The entry at `index`, whatever it holds (a trap if there is none).
    pub(crate) fn slot(&self, index: u32) -> Result<Slot> {
        match self.slots.get(index as usize) {
            Some(s) if index != 0 && *s != Slot::Free => Ok(*s),
            _ => Err(trap_with(Trap::UnknownHandle, format!("invalid handle: unknown handle index {index}"))),
        }
    }

    /// Removes the entry at `index`, which must be neither a resource handle nor free (those
    /// go through [`HandleTable::remove`]).
    pub(crate) fn remove_slot(&mut self, index: u32) -> Result<Slot> {
        let slot = self.slot(index)?;
        if matches!(slot, Slot::Own { .. } | Slot::Borrow { .. }) {
            return Err(trap_with(
                Trap::HandleWrongType,
                format!("handle index {index} used with the wrong type: it is {}", slot.kind()),
            ));
        }
        self.slots[index as usize] = Slot::Free;
        self.free.push(index);
        self.budget.give_back();
        Ok(slot)
    }

    /// Removes the owned handle at `index` and returns its representation: the spec's
    /// `lift_own`, which traps (in this order) on an unknown index, another resource type, a
    /// lent handle and a borrowed one.
    pub(crate) fn take_own(
        &mut self,
        index: u32,
        resource: RuntimeResourceIndex,
        names: &dyn Fn(RuntimeResourceIndex) -> String,
    ) -> Result<u32> {
        match self.get(index, resource, names)? {
            Slot::Own { .. } => match self.remove(index, resource, names)? {
                Slot::Own { rep, .. } => Ok(rep),
                _ => unreachable!("the slot was checked to be owned"),
            },
            _ => Err(trap_with(
                Trap::BorrowedHandleNotOwned,
                format!("handle index {index} is a borrowed handle, but an owned handle (own<..>) is expected"),
            )),
        }
    }

    /// Adds a borrowed handle lent for the synchronous call in progress: it must be dropped
    /// before the call returns (see [`HandleTable::end_call`]).
    #[inline]
    pub(crate) fn add_call_borrow(&mut self, resource: RuntimeResourceIndex, rep: u32) -> Result<u32> {
        let index = self.add(Slot::Borrow { resource, rep, scope: BorrowScope::SYNC_CALL })?;
        self.call_borrows += 1;
        Ok(index)
    }

    /// The end of a call into this table's instance: a trap if a handle lent for the call is
    /// still there (the count is reset, so the trap is raised once).
    pub(crate) fn end_call(&mut self) -> Result<()> {
        let left = std::mem::take(&mut self.call_borrows);
        if left != 0 {
            return Err(trap_with(
                Trap::BorrowsRemain,
                format!("the callee returned holding {left} borrowed handle(s) lent to it for the call"),
            ));
        }
        Ok(())
    }

    /// Ends one loan of the owned handle at `index` (lent for a call that has returned).
    #[inline]
    pub(crate) fn unlend(&mut self, index: u32) {
        if let Some(Slot::Own { lends, .. }) = self.slots.get_mut(index as usize) {
            *lends = lends.saturating_sub(1);
        }
    }

    /// Records one more loan of the owned handle at `index`.
    #[inline]
    pub(crate) fn lend(&mut self, index: u32) {
        if let Some(Slot::Own { lends, .. }) = self.slots.get_mut(index as usize) {
            *lends += 1;
        }
    }
}
