//! The memory weld lifts from and lowers into in the oracle, built to behave exactly as the
//! worker's: bytes that start as the same junk (so that a byte one side writes and the other
//! does not shows), a bump `realloc` that shrinks in place, records every call and misbehaves
//! on request, and a handle table with the spec's rules (`Table`, `lift_own`, `lift_borrow`,
//! `lower_own`, `lower_borrow` for resources another instance implements).
//!
//! Its errors are plain errors with fixed words ("test realloc", "test handle table") that
//! the oracle's trap kinds recognise.

use super::json::hex;
use crate::values::handle;
use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};
use weld::component::{GuestMemory, InterfaceType, ResourceAny, Val};

/// The byte at `i` of a fresh memory (the worker's `junk`).
#[inline]
pub fn junk(i: usize) -> u8 {
    ((i * 167 + 13) % 251) as u8
}

/// How `realloc` misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Returns a pointer 1 past the right one.
    Misalign,
    /// Returns a pointer whose allocation ends 1 byte past the memory.
    OutOfBounds,
}

/// A `realloc`: a bump allocator from `next`, misbehaving on one call if asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReallocPlan {
    /// Where the first allocation goes (aligned up).
    pub next: u64,
    /// A misbehaviour and the index of the call it happens on.
    pub fault: Option<(Fault, usize)>,
}

impl ReallocPlan {
    /// The worker's JSON of the plan.
    pub fn json(&self) -> Value {
        match self.fault {
            None => json!({ "next": self.next }),
            Some((fault, at)) => {
                let name = match fault {
                    Fault::Misalign => "misalign",
                    Fault::OutOfBounds => "out-of-bounds",
                };
                json!({ "next": self.next, "fault": name, "fault_at": at })
            }
        }
    }
}

/// One entry of a handle table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandleEntry {
    pub resource: u32,
    pub rep: u32,
    pub own: bool,
    pub lends: u32,
}

/// A linear memory with its realloc and handle table.
#[derive(Clone, Debug)]
pub struct TestMemory {
    pub bytes: Vec<u8>,
    pub mem64: bool,
    plan: ReallocPlan,
    next: u64,
    /// Each `realloc` call: old pointer, old size, alignment, new size, and what it returned.
    pub reallocs: Vec<[u64; 5]>,
    /// Slots 1, 2, ... (slot 0 is never used, as in the spec's `Table`).
    pub handles: Vec<Option<HandleEntry>>,
    free: Vec<u32>,
}

impl TestMemory {
    /// A fresh memory of `size` junk bytes.
    pub fn new(size: usize, mem64: bool, plan: ReallocPlan) -> TestMemory {
        TestMemory {
            bytes: (0..size).map(junk).collect(),
            mem64,
            plan,
            next: plan.next,
            reallocs: Vec::new(),
            handles: Vec::new(),
            free: Vec::new(),
        }
    }

    /// The end of the bytes that are no longer the junk they started as.
    pub fn dirty_end(&self) -> usize {
        (0..self.bytes.len()).rev().find(|i| self.bytes[*i] != junk(*i)).map_or(0, |i| i + 1)
    }

    /// The worker's JSON of the memory: its size and its bytes up to `end`.
    pub fn json(&self, end: usize) -> Value {
        json!({ "size": self.bytes.len(), "bytes": hex(&self.bytes[..end.min(self.bytes.len())]) })
    }

    /// The worker's JSON of the handle table.
    pub fn handles_json(&self) -> Value {
        Value::Array(
            self.handles.iter().map(|e| e.map_or(Value::Null, |e| json!([e.resource, e.rep, e.own]))).collect(),
        )
    }

    fn add(&mut self, entry: HandleEntry) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.handles[i as usize - 1] = Some(entry);
                i
            }
            None => {
                self.handles.push(Some(entry));
                self.handles.len() as u32
            }
        }
    }

    fn get(&mut self, index: u32) -> Result<&mut HandleEntry> {
        let slot = (index as usize).checked_sub(1).and_then(|i| self.handles.get_mut(i));
        slot.and_then(Option::as_mut).ok_or_else(|| anyhow!("test handle table: no handle {index}"))
    }
}

fn align_to(ptr: u64, align: u32) -> u64 {
    ptr.div_ceil(u64::from(align.max(1))) * u64::from(align.max(1))
}

fn resource_of(ty: &InterfaceType) -> Result<(u32, bool)> {
    match ty {
        InterfaceType::Own(id) => Ok((id.0, true)),
        InterfaceType::Borrow(id) => Ok((id.0, false)),
        _ => bail!("test handle table: {ty} is not a handle type"),
    }
}

impl GuestMemory for TestMemory {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    fn realloc(&mut self, old: u64, old_size: u64, align: u32, new_size: u64) -> Result<u64> {
        let len = self.bytes.len() as u64;
        let mut ret = if old != 0 && new_size < old_size {
            align_to(old, align)
        } else {
            let ret = align_to(self.next, align);
            if ret.checked_add(new_size).is_none_or(|end| end > len) {
                bail!("test realloc: out of memory");
            }
            self.next = ret + new_size;
            // Copy what fits (the worker's slice assignment copies the same bytes).
            let (from, to) = (old.min(len) as usize, ret as usize);
            let n = (old_size as usize).min(self.bytes.len() - from).min(self.bytes.len() - to);
            self.bytes.copy_within(from..from + n, to);
            ret
        };
        if let Some((fault, at)) = self.plan.fault
            && at == self.reallocs.len()
        {
            ret = match fault {
                Fault::Misalign => ret + 1,
                Fault::OutOfBounds => len + 1 - new_size,
            };
        }
        self.reallocs.push([old, old_size, u64::from(align), new_size, ret]);
        Ok(ret)
    }

    fn memory64(&self) -> bool {
        self.mem64
    }

    fn lower_handle(&mut self, ty: &InterfaceType, h: &ResourceAny) -> Result<u32> {
        let (resource, own) = resource_of(ty)?;
        let rep = crate::values::handle_rep(&Val::Resource(*h)).ok_or_else(|| anyhow!("not a generated handle"))?;
        Ok(self.add(HandleEntry { resource, rep, own, lends: 0 }))
    }

    fn lift_handle(&mut self, ty: &InterfaceType, index: u32) -> Result<ResourceAny> {
        let (resource, own) = resource_of(ty)?;
        let entry = if own {
            // `remove` first, then the checks, as the spec's lift_own does.
            let entry = *self.get(index)?;
            self.handles[index as usize - 1] = None;
            self.free.push(index);
            if entry.lends != 0 || !entry.own {
                bail!("test handle table: handle {index} is lent or not owned");
            }
            entry
        } else {
            let entry = self.get(index)?;
            if entry.resource == resource {
                entry.lends += 1;
            }
            *entry
        };
        if entry.resource != resource {
            bail!("test handle table: handle {index} is of resource {}, not {resource}", entry.resource);
        }
        match handle(ty, entry.rep) {
            Val::Resource(h) => Ok(h),
            _ => bail!("test handle table: not a handle"),
        }
    }
}
