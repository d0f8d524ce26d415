//! Resources: the runtime identity of a resource type ([`ResourceType`]), handles the host
//! holds ([`ResourceAny`] for any resource, [`Resource<T>`] for resources the host defines),
//! and the per-component-instance handle table with the spec's rules (index 0 is never used,
//! freed indices are reused last-freed-first, every access checks the index and the type, an
//! owned handle cannot be removed while it is lent).
//!
//! The intrinsics (`resource.new`, `resource.rep`, `resource.drop`) that work on these tables
//! are created in `instance.rs`; lifting and lowering handles is in `store_memory.rs`.

use anyhow::{Result, bail};
use std::any::TypeId;
use std::marker::PhantomData;

/// The identity of a resource type at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceType(ResourceTypeKind);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ResourceTypeKind {
    /// Defined by the host with Rust type `TypeId`.
    Host(TypeId),
    /// Defined by a guest: resource `resource` of component instance `instance` of a store.
    Guest { store: crate::store::StoreId, instance: usize, resource: u32 },
}

impl ResourceType {
    /// The resource type the host defines with the Rust type `T` (see [`Resource<T>`]).
    pub fn host<T: 'static>() -> ResourceType {
        ResourceType(ResourceTypeKind::Host(TypeId::of::<T>()))
    }

    pub(crate) fn guest(store: crate::store::StoreId, instance: usize, resource: u32) -> ResourceType {
        ResourceType(ResourceTypeKind::Guest { store, instance, resource })
    }

    /// The store, component instance and resource of a guest-defined resource type.
    pub(crate) fn guest_parts(&self) -> Option<(crate::store::StoreId, usize, u32)> {
        match self.0 {
            ResourceTypeKind::Guest { store, instance, resource } => Some((store, instance, resource)),
            ResourceTypeKind::Host(_) => None,
        }
    }

    /// Whether the host defines this resource type.
    pub fn is_host(&self) -> bool {
        matches!(self.0, ResourceTypeKind::Host(_))
    }
}

impl std::fmt::Display for ResourceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            ResourceTypeKind::Host(_) => f.write_str("host-defined resource"),
            ResourceTypeKind::Guest { .. } => f.write_str("guest-defined resource"),
        }
    }
}

/// A handle to a resource of any type, held by the host: an owned handle (which the host must
/// pass back to a guest or drop with [`ResourceAny::resource_drop`]) or a borrowed one (valid
/// during the call that gave it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceAny {
    ty: ResourceType,
    rep: u32,
    owned: bool,
}

impl ResourceAny {
    pub(crate) fn new(ty: ResourceType, rep: u32, owned: bool) -> ResourceAny {
        ResourceAny { ty, rep, owned }
    }

    /// The resource's type.
    pub fn ty(&self) -> ResourceType {
        self.ty
    }

    /// Whether this is an owned handle.
    pub fn owned(&self) -> bool {
        self.owned
    }

    /// The representation (for host-defined resources, the value the host chose).
    pub(crate) fn rep(&self) -> u32 {
        self.rep
    }

    /// Converts to a typed handle of a host-defined resource of Rust type `T`.
    pub fn try_into_resource<T: 'static>(self) -> Result<Resource<T>> {
        if self.ty != ResourceType::host::<T>() {
            bail!("the handle is to a {}, not to the host resource type asked for", self.ty);
        }
        Ok(Resource { rep: self.rep, owned: self.owned, _marker: PhantomData })
    }

    /// Drops an owned handle, running the resource's destructor: the guest destructor of a
    /// guest-defined resource (the host's own resources are the host's to clean up).
    pub fn resource_drop(self, store: impl crate::AsContextMut) -> Result<()> {
        super::instance::drop_host_handle(store, self)
    }
}

/// A handle to a resource the host defines with the Rust type `T`; `rep` is the host's own
/// number for it (an index into its own table, say).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Resource<T> {
    rep: u32,
    owned: bool,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Resource<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Resource<T> {}

impl<T: 'static> Resource<T> {
    /// An owned handle with representation `rep`.
    pub fn new_own(rep: u32) -> Resource<T> {
        Resource { rep, owned: true, _marker: PhantomData }
    }

    /// A borrowed handle with representation `rep`.
    pub fn new_borrow(rep: u32) -> Resource<T> {
        Resource { rep, owned: false, _marker: PhantomData }
    }

    /// The representation.
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// Whether this is an owned handle.
    pub fn owned(&self) -> bool {
        self.owned
    }

    /// As an untyped handle.
    pub fn into_any(self) -> ResourceAny {
        ResourceAny { ty: ResourceType::host::<T>(), rep: self.rep, owned: self.owned }
    }
}

/// One entry of a handle table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Free,
    /// An owned handle, lent out `lends` times.
    Own {
        resource: u32,
        rep: u32,
        lends: u32,
    },
    /// A borrowed handle; `scoped` when it was lent for the current call (by the host or
    /// through an adapter) and so must be dropped before the call returns.
    Borrow {
        resource: u32,
        rep: u32,
        scoped: bool,
    },
}

/// A component instance's handle table.
#[derive(Debug)]
pub(crate) struct HandleTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Borrowed handles lent for the current call that are still in the table.
    call_borrows: u32,
}

impl Default for HandleTable {
    fn default() -> Self {
        HandleTable { slots: vec![Slot::Free], free: Vec::new(), call_borrows: 0 }
    }
}

/// The spec's limit on handle indices.
const MAX_HANDLES: usize = 1 << 28;

impl HandleTable {
    /// Adds an entry, reusing the most recently freed index first.
    pub(crate) fn add(&mut self, slot: Slot) -> Result<u32> {
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = slot;
            return Ok(i);
        }
        if self.slots.len() >= MAX_HANDLES {
            bail!("the handle table is full");
        }
        self.slots.push(slot);
        Ok(self.slots.len() as u32 - 1)
    }

    /// The entry at `index`, checked to be of `resource`.
    pub(crate) fn get(&self, index: u32, resource: u32, names: &dyn Fn(u32) -> String) -> Result<Slot> {
        let slot = match self.slots.get(index as usize) {
            Some(s) if index != 0 && *s != Slot::Free => *s,
            _ => bail!("unknown handle index {index}"),
        };
        let found = match slot {
            Slot::Own { resource, .. } | Slot::Borrow { resource, .. } => resource,
            Slot::Free => unreachable!(),
        };
        if found != resource {
            let (expected, found) = (names(resource), names(found));
            let found = if found == expected { format!("a different {found}") } else { found };
            bail!("handle index {index} used with the wrong type, expected {expected} but found {found}");
        }
        Ok(slot)
    }

    /// Removes the entry at `index` (checked as by [`HandleTable::get`]); an owned handle
    /// that is lent cannot be removed.
    pub(crate) fn remove(&mut self, index: u32, resource: u32, names: &dyn Fn(u32) -> String) -> Result<Slot> {
        let slot = self.get(index, resource, names)?;
        if let Slot::Own { lends, .. } = slot
            && lends != 0
        {
            bail!("cannot remove owned resource while borrowed");
        }
        if let Slot::Borrow { scoped: true, .. } = slot {
            self.call_borrows -= 1;
        }
        self.slots[index as usize] = Slot::Free;
        self.free.push(index);
        Ok(slot)
    }
}

impl HandleTable {
    /// Adds a borrowed handle lent for the current call: it must be dropped before the call
    /// returns (see [`HandleTable::end_call`]).
    pub(crate) fn add_call_borrow(&mut self, resource: u32, rep: u32) -> Result<u32> {
        let index = self.add(Slot::Borrow { resource, rep, scoped: true })?;
        self.call_borrows += 1;
        Ok(index)
    }

    /// The end of a call into this table's instance: an error if a handle lent for the call
    /// is still there (the count is reset, so the error is reported once).
    pub(crate) fn end_call(&mut self) -> Result<()> {
        if self.call_borrows != 0 {
            self.call_borrows = 0;
            return Err(borrows_remain());
        }
        Ok(())
    }

    /// Ends one loan of the owned handle at `index` (lent for a call that has returned).
    pub(crate) fn unlend(&mut self, index: u32) {
        if let Some(Slot::Own { lends, .. }) = self.slots.get_mut(index as usize) {
            *lends = lends.saturating_sub(1);
        }
    }

    /// Records one more loan of the owned handle at `index`.
    pub(crate) fn lend(&mut self, index: u32) {
        if let Some(Slot::Own { lends, .. }) = self.slots.get_mut(index as usize) {
            *lends += 1;
        }
    }
}

/// The error for a call into a guest that returned while still holding a borrowed handle.
fn borrows_remain() -> anyhow::Error {
    anyhow::anyhow!("borrow handles still remain at the end of the call")
}
