//! [`ResourceTable`]: where a host keeps the Rust values behind the resources it gives to
//! guests. A value pushed in gets a [`Resource<T>`] whose rep is its slot; the host's trait
//! methods get and delete it by that handle. Entries may have a parent (`push_child`), and a
//! parent cannot be deleted while it has children, so a child can keep a reference (by
//! handle) to its parent's state.
//!
//! Values are stored as `Box<dyn Any + Send>` and checked against the handle's `T` at each
//! access: a handle of the wrong type, or to a deleted slot, is a [`ResourceTableError`]
//! that says which, never a panic. Freed slots are reused (most recently freed first), so a
//! stale handle may name a newer value of the same type; the table does not keep
//! generations, as the handle tables of the canonical ABI already reject a guest's stale
//! handles before the host sees them.
//!
//! This is host state, owned by the embedder (usually a field of the store's data): the
//! runtime never looks into it, and dropping a resource's guest handle only calls the host's
//! destructor, which decides whether to `delete` from here.

use super::resources::Resource;
use std::any::Any;
use std::collections::BTreeSet;
use std::fmt;

/// What went wrong with a [`ResourceTable`] operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceTableError {
    /// The table has as many entries as it may hold ([`ResourceTable::set_max_capacity`]).
    Full,
    /// No value is stored under the handle's rep (never pushed, or deleted).
    NotPresent,
    /// The value stored under the handle's rep is not of the handle's type.
    WrongType,
    /// The entry still has children, so it cannot be deleted.
    HasChildren,
}

impl fmt::Display for ResourceTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceTableError::Full => "the resource table is full",
            ResourceTableError::NotPresent => "no resource is stored under this handle (never pushed, or deleted)",
            ResourceTableError::WrongType => {
                "the resource stored under this handle is of another type than the handle's"
            }
            ResourceTableError::HasChildren => "the resource still has children, delete them first",
        })
    }
}

impl std::error::Error for ResourceTableError {}

/// One slot of the table.
enum Slot {
    /// Free, with the next free slot.
    Free {
        next: Option<u32>,
    },
    Occupied(Entry),
}

/// A stored value with its place in the parent/child tree.
struct Entry {
    value: Box<dyn Any + Send>,
    parent: Option<u32>,
    children: BTreeSet<u32>,
}

/// Host values behind resource handles, each found by its handle's rep. See the module
/// documentation.
pub struct ResourceTable {
    slots: Vec<Slot>,
    /// The most recently freed slot.
    free_head: Option<u32>,
    /// The number of occupied slots.
    len: usize,
    max_capacity: usize,
}

impl ResourceTable {
    /// An empty table.
    #[inline]
    pub fn new() -> ResourceTable {
        ResourceTable { slots: Vec::new(), free_head: None, len: 0, max_capacity: u32::MAX as usize }
    }

    /// An empty table with room for `capacity` entries before it reallocates.
    #[inline]
    pub fn with_capacity(capacity: usize) -> ResourceTable {
        ResourceTable { slots: Vec::with_capacity(capacity), ..ResourceTable::new() }
    }

    /// Whether the table holds no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of values held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// The most entries the table holds before `push` fails with [`ResourceTableError::Full`].
    #[inline]
    pub fn max_capacity(&self) -> usize {
        self.max_capacity
    }

    /// Sets [`ResourceTable::max_capacity`] (at most `u32::MAX`, the number of reps).
    #[inline]
    pub fn set_max_capacity(&mut self, max: usize) {
        self.max_capacity = max.min(u32::MAX as usize);
    }

    /// Stores `value` and returns an owned handle to it.
    pub fn push<T: Send + 'static>(&mut self, value: T) -> Result<Resource<T>, ResourceTableError> {
        let rep = self.insert(Entry { value: Box::new(value), parent: None, children: BTreeSet::new() })?;
        Ok(Resource::new_own(rep))
    }

    /// Stores `value` as a child of `parent`, which cannot be deleted until the child is.
    pub fn push_child<T: Send + 'static, U: 'static>(
        &mut self,
        value: T,
        parent: &Resource<U>,
    ) -> Result<Resource<T>, ResourceTableError> {
        self.get(parent)?;
        let entry = Entry { value: Box::new(value), parent: Some(parent.rep()), children: BTreeSet::new() };
        let rep = self.insert(entry)?;
        self.entry_mut(parent.rep())?.children.insert(rep);
        Ok(Resource::new_own(rep))
    }

    /// The value behind `handle`.
    pub fn get<T: 'static>(&self, handle: &Resource<T>) -> Result<&T, ResourceTableError> {
        self.entry(handle.rep())?.value.downcast_ref().ok_or(ResourceTableError::WrongType)
    }

    /// The value behind `handle`, mutably.
    pub fn get_mut<T: 'static>(&mut self, handle: &Resource<T>) -> Result<&mut T, ResourceTableError> {
        self.entry_mut(handle.rep())?.value.downcast_mut().ok_or(ResourceTableError::WrongType)
    }

    /// The value stored under `rep`, whatever its type.
    pub fn get_any_mut(&mut self, rep: u32) -> Result<&mut dyn Any, ResourceTableError> {
        Ok(&mut *self.entry_mut(rep)?.value)
    }

    /// Removes the value behind `handle` and returns it. Fails, leaving it in place, if it
    /// has children or is of another type.
    pub fn delete<T: 'static>(&mut self, handle: Resource<T>) -> Result<T, ResourceTableError> {
        let rep = handle.rep();
        let entry = self.entry(rep)?;
        if !entry.value.is::<T>() {
            return Err(ResourceTableError::WrongType);
        }
        if !entry.children.is_empty() {
            return Err(ResourceTableError::HasChildren);
        }
        let Slot::Occupied(entry) =
            std::mem::replace(&mut self.slots[rep as usize], Slot::Free { next: self.free_head })
        else {
            unreachable!("the slot was found occupied above")
        };
        self.free_head = Some(rep);
        self.len -= 1;
        if let Some(parent) = entry.parent
            && let Ok(parent) = self.entry_mut(parent)
        {
            parent.children.remove(&rep);
        }
        match entry.value.downcast() {
            Ok(value) => Ok(*value),
            Err(_) => unreachable!("the type was checked above"),
        }
    }

    /// The children of `parent`, in the order of their reps.
    pub fn iter_children<T: 'static>(
        &self,
        parent: &Resource<T>,
    ) -> Result<impl Iterator<Item = &(dyn Any + Send)>, ResourceTableError> {
        let entry = self.entry(parent.rep())?;
        Ok(entry.children.iter().filter_map(|child| self.entry(*child).ok().map(|e| &*e.value)))
    }

    /// Every value held, in the order of their reps.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut (dyn Any + Send)> {
        self.slots.iter_mut().filter_map(|slot| match slot {
            Slot::Occupied(entry) => Some(&mut *entry.value),
            Slot::Free { .. } => None,
        })
    }

    fn insert(&mut self, entry: Entry) -> Result<u32, ResourceTableError> {
        if self.len >= self.max_capacity {
            return Err(ResourceTableError::Full);
        }
        self.len += 1;
        if let Some(rep) = self.free_head {
            let Slot::Free { next } = self.slots[rep as usize] else {
                unreachable!("the free list holds only free slots")
            };
            self.free_head = next;
            self.slots[rep as usize] = Slot::Occupied(entry);
            return Ok(rep);
        }
        let rep = u32::try_from(self.slots.len()).map_err(|_| ResourceTableError::Full)?;
        self.slots.push(Slot::Occupied(entry));
        Ok(rep)
    }

    fn entry(&self, rep: u32) -> Result<&Entry, ResourceTableError> {
        match self.slots.get(rep as usize) {
            Some(Slot::Occupied(entry)) => Ok(entry),
            _ => Err(ResourceTableError::NotPresent),
        }
    }

    fn entry_mut(&mut self, rep: u32) -> Result<&mut Entry, ResourceTableError> {
        match self.slots.get_mut(rep as usize) {
            Some(Slot::Occupied(entry)) => Ok(entry),
            _ => Err(ResourceTableError::NotPresent),
        }
    }
}

impl Default for ResourceTable {
    #[inline]
    fn default() -> Self {
        ResourceTable::new()
    }
}

impl fmt::Debug for ResourceTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceTable").field("len", &self.len).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_delete_and_reuse() {
        let mut table = ResourceTable::new();
        let a = table.push(String::from("a")).unwrap();
        let b = table.push(7u32).unwrap();
        assert_eq!((a.rep(), b.rep()), (0, 1));
        assert_eq!(table.get(&a).unwrap(), "a");
        *table.get_mut(&b).unwrap() += 1;
        assert_eq!(*table.get(&b).unwrap(), 8);
        // A handle of another type to the same rep is refused.
        assert_eq!(table.get(&Resource::<u32>::new_own(a.rep())).unwrap_err(), ResourceTableError::WrongType);
        assert_eq!(table.delete(Resource::<u32>::new_own(a.rep())).unwrap_err(), ResourceTableError::WrongType);
        assert_eq!(table.delete(a).unwrap(), "a");
        assert_eq!(table.get(&a).unwrap_err(), ResourceTableError::NotPresent);
        assert_eq!(table.len(), 1);
        // The freed slot is reused.
        assert_eq!(table.push(1u8).unwrap().rep(), 0);
    }

    #[test]
    fn children_keep_their_parent() {
        let mut table = ResourceTable::new();
        let parent = table.push(1u32).unwrap();
        let c1 = table.push_child(2u32, &parent).unwrap();
        let c2 = table.push_child(3u32, &parent).unwrap();
        let children: Vec<u32> =
            table.iter_children(&parent).unwrap().map(|c| *c.downcast_ref::<u32>().unwrap()).collect();
        assert_eq!(children, [2, 3]);
        assert_eq!(table.delete(parent).unwrap_err(), ResourceTableError::HasChildren);
        table.delete(c1).unwrap();
        table.delete(c2).unwrap();
        assert_eq!(table.delete(parent).unwrap(), 1);
        assert!(table.is_empty());
        // A child of a missing parent is refused.
        assert_eq!(table.push_child(0u8, &parent).unwrap_err(), ResourceTableError::NotPresent);
    }

    #[test]
    fn a_full_table_says_so() {
        let mut table = ResourceTable::new();
        table.set_max_capacity(1);
        table.push(()).unwrap();
        assert_eq!(table.push(()).unwrap_err(), ResourceTableError::Full);
        assert_eq!(ResourceTableError::Full.to_string(), "the resource table is full");
    }
}
