//! The canonical built-ins as core functions of a component instance: the resource
//! intrinsics (`resource.new`, `resource.rep`, `resource.drop`, with destructors run as the
//! spec's `canon_resource_drop` does), the async and threads built-ins (only `context.*` and
//! `backpressure.*` run; see `async_builtin_func`), and [`ResourceAny::resource_drop`] for handles the host
//! holds.

use super::core_defs::core_func;
use super::handle_table::Slot;
use super::host::HostDtor;
use super::resources::ResourceAny;
use super::state::{GlobalCell, SharedGlobal};
use crate::func::call_raw_trapping_on_throw;
use crate::handles::ComponentInstanceId;
use crate::handles::Func;
use crate::store::{AsContextMut, StoreInner};
use crate::{Trap, ValRaw};
use anyhow::{Result, bail};
use std::sync::Arc;
use weld_environ::PrimaryMap;
use weld_environ::component::info::RuntimeResourceIndex;
use weld_environ::component::info::{AsyncBuiltin, AsyncBuiltinOp, Intrinsic, IntrinsicKind, ResourceDef};

/// The core function of an async or threads built-in of component instance `index`.
///
/// `context.get` and `context.set` read and write the current task's context (see
/// `InstanceState::task_context`). `backpressure.inc` and `backpressure.dec` keep the
/// instance's counter as the spec says
/// (trapping past 2^16 - 1 and below 0); with only synchronous calls nothing waits on it.
/// weld does not run the other built-ins yet: each does what the spec's definition does first,
/// trapping if the instance may not leave (inside `post-return`) where the spec checks that,
/// and then fails with a message that names it.
pub(crate) fn async_builtin_func<T: 'static>(
    store: &mut StoreInner<T>,
    index: ComponentInstanceId,
    builtin: &AsyncBuiltin,
) -> Result<Func> {
    let (op, instance) = (builtin.op, builtin.instance);
    let name = op.name();
    // The spec's definitions of these read or change only the current task or instance, and
    // do not check `may_leave`.
    let guarded = !matches!(
        name,
        "context.get" | "context.set" | "backpressure.inc" | "backpressure.dec" | "thread.available-parallelism"
    );
    // An `i32` slot's value is the low half of the `i64` the context keeps.
    let wide = builtin.ty.params.first().or(builtin.ty.results.first()) == Some(&crate::ValType::I64);
    let slot_value = move |v: u64| if wide { v } else { u64::from(v as u32) };
    let call = move |store: &mut StoreInner<T>, _caller, slots: &mut [ValRaw]| -> Result<()> {
        if guarded && !store.opaque().may_leave(index, instance) {
            return Err(Trap::CannotLeaveComponent.into());
        }
        let state = store.opaque_mut().component_instance_mut(index);
        match op {
            AsyncBuiltinOp::ContextGet { slot } => {
                let value = context_cell(&state.task_context, slot)?.get_i64() as u64;
                slots[0] = ValRaw::u64(slot_value(value));
                return Ok(());
            }
            AsyncBuiltinOp::ContextSet { slot } => {
                context_cell(&state.task_context, slot)?.set_i64(slot_value(slots[0].get_u64()) as i64);
                return Ok(());
            }
            AsyncBuiltinOp::Other(_) => {}
        }
        let counter = &mut state.backpressure[instance];
        match name {
            "backpressure.inc" if *counter + 1 == 1 << 16 => bail!("backpressure counter overflow"),
            "backpressure.inc" => *counter += 1,
            "backpressure.dec" if *counter == 0 => bail!("backpressure counter underflow"),
            "backpressure.dec" => *counter -= 1,
            _ => bail!(
                "the canonical built-in `{name}` needs component-model async or threads, which weld does not \
                 support yet"
            ),
        }
        Ok(())
    };
    Func::from_host_fn(store, &builtin.ty, Arc::new(call))
}

/// The cell of slot `slot` of the current task's context.
fn context_cell(context: &[SharedGlobal], slot: u32) -> Result<GlobalCell> {
    match context.get(slot as usize) {
        Some(g) => Ok(g.cell),
        None => bail!("bug: the task context has no slot {slot}"),
    }
}

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
                    Slot::Free => unreachable!("get never returns a free slot"),
                };
                slots[0] = ValRaw::u64(u64::from(rep));
            }
            IntrinsicKind::ResourceDrop => {
                if let Slot::Own { rep, .. } = state.handles[instance].remove(arg, resource, &names)? {
                    store.opaque_mut().enter_from_host(index, &dtor_enters)?;
                    run_dtor(store, index, resource, rep, host_dtors[resource].as_deref())?;
                    store.opaque_mut().leave_to_host(index, &dtor_enters);
                }
            }
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
