//! The resource intrinsics as core functions of a component instance (`resource.new`,
//! `resource.rep`, `resource.drop`, with destructors run as the spec's `canon_resource_drop`
//! does), and [`ResourceAny::resource_drop`] for handles the host holds. The async and
//! threads built-ins are in `concurrent/builtins.rs`.

use super::core_defs::core_func;
use super::handle_table::Slot;
use super::host::HostDtor;
use super::resources::ResourceAny;
use crate::func::call_raw_trapping_on_throw;
use crate::handles::ComponentInstanceId;
use crate::handles::Func;
use crate::store::{AsContextMut, StoreInner};
use crate::{Trap, ValRaw};
use anyhow::{Result, bail};
use std::sync::Arc;
use weld_environ::PrimaryMap;
use weld_environ::component::info::RuntimeResourceIndex;
use weld_environ::component::info::{Intrinsic, IntrinsicKind, ResourceDef};

/// The core function of a resource intrinsic of component instance `index`.
pub(crate) fn intrinsic_func<T: 'static>(
    store: &mut StoreInner<T>,
    index: ComponentInstanceId,
    intrinsic: Intrinsic,
    host_dtors: Arc<PrimaryMap<RuntimeResourceIndex, Option<Arc<HostDtor<T>>>>>,
) -> Result<Func> {
    use crate::ValType::I32;
    let Intrinsic { kind, resource, instance } = intrinsic;
    let ty = match kind {
        IntrinsicKind::ResourceNew | IntrinsicKind::ResourceRep => crate::FuncType::new([I32], [I32]),
        IntrinsicKind::ResourceDrop => crate::FuncType::new([I32], []),
    };
    // `resource.drop` calls the destructor like a function lifted by the instance that
    // defines the resource (the spec's `canon_resource_drop`), which must not reenter it.
    let info = store.opaque().component_instance(index).component.info();
    let dtor_enters = match &info.resources[resource] {
        ResourceDef::Guest { instance: owner, .. } if kind == IntrinsicKind::ResourceDrop => {
            info.entering_set(*owner, Some(instance))
        }
        _ => Vec::new(),
    };
    let call = move |store: &mut StoreInner<T>, _caller, slots: &mut [ValRaw]| -> Result<()> {
        // `resource.rep` only reads the table, so the spec allows it where calling out is not.
        if kind != IntrinsicKind::ResourceRep && !store.opaque().may_leave(index, instance) {
            return Err(Trap::CannotLeaveComponent.into());
        }
        let state = store.opaque_mut().component_instance_mut(index);
        let arg = slots[0].get_u64() as u32;
        let types = &state.resource_types;
        let names = |r: RuntimeResourceIndex| types[r].to_string();
        match kind {
            IntrinsicKind::ResourceNew => {
                let h = state.handles[instance].add(Slot::Own { resource, rep: arg, lends: 0 })?;
                slots[0] = ValRaw::u64(u64::from(h));
            }
            IntrinsicKind::ResourceRep => {
                let rep = match state.handles[instance].get(arg, resource, &names)? {
                    Slot::Own { rep, .. } | Slot::Borrow { rep, .. } => rep,
                    _ => unreachable!("get returns only resource handles"),
                };
                slots[0] = ValRaw::u64(u64::from(rep));
            }
            IntrinsicKind::ResourceDrop => match state.handles[instance].remove(arg, resource, &names)? {
                Slot::Own { rep, .. } => {
                    store.opaque_mut().enter_from_host(index, &dtor_enters)?;
                    run_dtor(store, index, resource, rep, host_dtors[resource].as_deref())?;
                    store.opaque_mut().leave_to_host(index, &dtor_enters);
                }
                // A borrow lent to a task counts against that task, whichever drops it.
                Slot::Borrow { scope, .. } => {
                    if let Some(task) = scope.as_task().and_then(|t| store.opaque_mut().concurrent.tasks.get_mut(t)) {
                        task.num_borrows = task.num_borrows.saturating_sub(1);
                    }
                }
                _ => {}
            },
        }
        Ok(())
    };
    Func::from_host_fn(store, &ty, Arc::new(call))
}

/// Runs the destructor of resource `r` of component instance `index` for `rep`.
fn run_dtor<T>(
    store: &mut StoreInner<T>,
    index: ComponentInstanceId,
    r: RuntimeResourceIndex,
    rep: u32,
    host_dtor: Option<&HostDtor<T>>,
) -> Result<()> {
    let component = store.opaque().component_instance(index).component.clone();
    match &component.info().resources[r] {
        ResourceDef::Guest { dtor: Some(def), .. } => {
            let f = core_func(store, index, def)?;
            let mut slots = [ValRaw::u64(u64::from(rep))];
            // SAFETY: validation checked that a destructor has type (i32) -> ().
            unsafe { call_raw_trapping_on_throw(store, f, None, &mut slots) }
        }
        ResourceDef::Guest { dtor: None, .. } => Ok(()),
        ResourceDef::Host(_) => match host_dtor {
            Some(dtor) => dtor(store, rep),
            None => Ok(()),
        },
    }
}

/// `ResourceAny::resource_drop`: runs the destructor of an owned handle the host holds.
pub(crate) fn drop_host_handle(mut store: impl AsContextMut, handle: ResourceAny) -> Result<()> {
    if !handle.owned() {
        bail!("a borrowed handle cannot be dropped with `resource_drop`");
    }
    let store = store.as_context_mut();
    let Some((store_id, index, r)) = handle.ty().guest_parts() else {
        // Host-defined resources are the host's own; nothing runs in any guest.
        return Ok(());
    };
    store.opaque().check_owner(store_id);
    run_dtor::<_>(store, index, r, handle.rep(), None)
}

impl ResourceAny {
    /// Drops an owned handle, running the resource's destructor: the guest destructor of a
    /// guest-defined resource (the host's own resources are the host's to clean up).
    #[inline]
    pub fn resource_drop(self, store: impl crate::AsContextMut) -> Result<()> {
        drop_host_handle(store, self)
    }
}
