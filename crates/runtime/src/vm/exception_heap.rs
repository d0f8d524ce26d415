//! The store's storage of exception tags and exception objects, as compiled code and the
//! unwinder see them: a tag is the address of a word owned here, an `exnref` is an object's
//! slot number plus one. What wasm and the host do with them is `crate::exceptions`'s.

use super::valraw::ValRaw;
use super::vmcontext::StoreIndex;
use weld_environ::FuncType;

/// A tag's storage: its identity word (whose address is the tag) and type.
pub(crate) struct VmTag {
    identity: Box<u64>,
    pub ty: FuncType,
    /// The engine's id of the type (what import matching compares).
    pub type_id: u32,
}

impl VmTag {
    pub(crate) fn new(ty: FuncType, type_id: u32) -> VmTag {
        VmTag { identity: Box::new(0), ty, type_id }
    }

    /// The tag's identity, as compiled code sees it.
    pub(crate) fn identity(&self) -> usize {
        &*self.identity as *const u64 as usize
    }
}

/// An exception object.
pub(crate) struct Exception {
    pub tag: StoreIndex,
    pub payload: Box<[ValRaw]>,
    /// Handed out as an `exnref`: it may be referred to again, so it is never freed.
    pub kept: bool,
}

/// The exceptions of a store.
#[derive(Default)]
pub(crate) struct ExceptionHeap {
    slots: Vec<Option<Exception>>,
    free: Vec<u32>,
}

impl ExceptionHeap {
    pub(crate) fn alloc(&mut self, e: Exception) -> u64 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(e);
                u64::from(i) + 1
            }
            None => {
                self.slots.push(Some(e));
                self.slots.len() as u64
            }
        }
    }

    pub(crate) fn get(&self, exnref: u64) -> &Exception {
        self.slots
            .get((exnref as usize).wrapping_sub(1))
            .and_then(Option::as_ref)
            .expect("compiled code passes live exnrefs of its store")
    }

    pub(crate) fn get_mut(&mut self, exnref: u64) -> &mut Exception {
        self.slots
            .get_mut((exnref as usize).wrapping_sub(1))
            .and_then(Option::as_mut)
            .expect("compiled code passes live exnrefs of its store")
    }

    /// The number of exceptions alive.
    pub(crate) fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub(crate) fn free(&mut self, exnref: u64) {
        let i = exnref as usize - 1;
        self.slots[i] = None;
        self.free.push(i as u32);
    }
}
