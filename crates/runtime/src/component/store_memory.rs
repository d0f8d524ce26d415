//! The canonical ABI's view of a guest inside a store: [`StoreMemory`] gives lifting and
//! lowering ([`super::canonical`]) the bytes of the memory named by a function's canonical
//! options, and calls the `realloc` they name. It checks nothing itself: bounds and alignment
//! of what `realloc` returns are checked by the canonical ABI code.

use super::canonical::GuestMemory;
use crate::func::call_raw;
use crate::store::StoreInner;
use crate::{Func, Memory, ValRaw};
use anyhow::{Result, anyhow};

/// A guest memory and `realloc` inside a store.
pub(crate) struct StoreMemory<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    pub(crate) memory: Option<Memory>,
    pub(crate) realloc: Option<Func>,
    pub(crate) memory64: bool,
}

impl<T> GuestMemory for StoreMemory<'_, T> {
    fn bytes(&self) -> &[u8] {
        match self.memory {
            Some(m) => self.store.opaque().memory(m.index).data(),
            None => &[],
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self.memory {
            Some(m) => self.store.opaque_mut().memory_mut(m.index).data_mut(),
            None => &mut [],
        }
    }

    fn realloc(&mut self, old_ptr: u64, old_size: u64, align: u32, new_size: u64) -> Result<u64> {
        let f = self
            .realloc
            .ok_or_else(|| anyhow!("a string or list must be allocated, but the canonical options name no realloc"))?;
        let mut slots =
            [ValRaw::u64(old_ptr), ValRaw::u64(old_size), ValRaw::u64(u64::from(align)), ValRaw::u64(new_size)];
        // SAFETY: validation checked that `realloc` has type (ptr, ptr, i32, ptr) -> ptr for
        // this memory's pointer type, so four slots hold its parameters and its result.
        unsafe { call_raw(self.store, f, None, &mut slots)? };
        let result = slots[0].get_u64();
        Ok(if self.memory64 { result } else { u64::from(result as u32) })
    }

    fn memory64(&self) -> bool {
        self.memory64
    }
}
