//! The reentrance flags of each component instance (`may_leave`, `may_enter`), which adapters
//! and the host share.
//!
//! They live in a mutable `i32` core global per runtime component instance, so an adapter
//! tests and sets them with plain `global.get`/`global.set`, and the host reads and writes the
//! same global through the store. The host keeps each global's address (`state.rs`'s `GlobalCell`) so
//! that testing a flag on a call from the host is one load, not a walk through the store's
//! table of globals.

use crate::handles::ComponentInstanceId;
use crate::handles::Global;
use crate::store::{StoreInner, StoreOpaque};
use crate::trap::trap_with;
use crate::{GlobalType, Mutability, Trap, Val, ValType};
use anyhow::Result;
use weld_environ::component::adapt::{FLAG_MAY_ENTER, FLAG_MAY_LEAVE};
use weld_environ::component::info::RuntimeComponentInstanceIndex;

/// Creates the flags global of one component instance, with both flags set.
#[inline]
pub(crate) fn new_flags<T>(store: &mut StoreInner<T>) -> Result<Global> {
    Global::new(store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(FLAG_MAY_LEAVE | FLAG_MAY_ENTER))
}

impl StoreOpaque {
    /// The flags of runtime component instance `i` of component instance `instance`.
    #[inline]
    pub(crate) fn component_flags(&self, instance: ComponentInstanceId, i: RuntimeComponentInstanceIndex) -> i32 {
        self.component_instance(instance).flags[i].cell.get()
    }

    #[inline]
    fn set_component_flags(&mut self, instance: ComponentInstanceId, i: RuntimeComponentInstanceIndex, value: i32) {
        self.component_instance(instance).flags[i].cell.set(value)
    }

    /// Sets or clears `bit` of the flags of `i`.
    #[inline]
    pub(crate) fn set_component_flag(
        &mut self,
        instance: ComponentInstanceId,
        i: RuntimeComponentInstanceIndex,
        bit: i32,
        on: bool,
    ) {
        let v = self.component_flags(instance, i);
        self.set_component_flags(instance, i, if on { v | bit } else { v & !bit });
    }

    /// Whether instance `i` may call out.
    #[inline]
    pub(crate) fn may_leave(&self, instance: ComponentInstanceId, i: RuntimeComponentInstanceIndex) -> bool {
        self.component_flags(instance, i) & FLAG_MAY_LEAVE != 0
    }

    /// A call enters the instances in `set` (from the host, or from the runtime on behalf of
    /// a guest): traps if one of them may not be entered, otherwise clears their `may_enter`
    /// flags.
    #[inline]
    pub(crate) fn enter_from_host(
        &mut self,
        instance: ComponentInstanceId,
        set: &[RuntimeComponentInstanceIndex],
    ) -> Result<()> {
        let flags = &self.component_instance(instance).flags;
        if let Some(i) = set.iter().find(|i| flags[**i].cell.get() & FLAG_MAY_ENTER == 0) {
            return Err(cannot_enter(*i));
        }
        for i in set {
            let cell = flags[*i].cell;
            cell.set(cell.get() & !FLAG_MAY_ENTER);
        }
        Ok(())
    }

    /// A call into the instances in `set` has finished.
    #[inline(always)]
    pub(crate) fn leave_to_host(&mut self, instance: ComponentInstanceId, set: &[RuntimeComponentInstanceIndex]) {
        let flags = &self.component_instance(instance).flags;
        for i in set {
            let cell = flags[*i].cell;
            cell.set(cell.get() | FLAG_MAY_ENTER);
        }
    }
}

/// The trap of a call into instance `i`, which may not be entered.
#[cold]
#[inline(never)]
fn cannot_enter(i: RuntimeComponentInstanceIndex) -> anyhow::Error {
    trap_with(
        Trap::CannotEnterComponent,
        format!("component instance {} is being called, or a call into it trapped", i.as_u32()),
    )
}
