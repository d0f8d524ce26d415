//! Futures, streams and error contexts passed across a call: lifting one out of a handle
//! table into a `Val` and lowering a `Val` into another table, as the spec's
//! `lift_future`/`lift_stream`/`lift_error_context` and their lowering counterparts do.

use super::state::{CopyState, InstanceKey, end};
use super::waitables::{checked_end, new_end, wrong_handle};
use crate::component::async_values::{ErrorContextAny, FutureAny, StreamAny};
use crate::component::handle_table::Slot;
use crate::component::values::Val;
use crate::handles::ComponentInstanceId;
use crate::store::{StoreInner, StoreOpaque};
use crate::trap::trap_with;
use anyhow::{Result, bail};
use weld_environ::Trap;
use weld_environ::component::InterfaceType;
use weld_environ::component::info::RuntimeResourceIndex;

/// The spec's `lift_future`/`lift_stream` (the readable end at `index` of `instance`'s table
/// leaves it), and `lift_error_context` (which stays).
pub(crate) fn lift_value<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    ty: &InterfaceType,
    index: u32,
) -> Result<Val> {
    let id = store.opaque().id();
    if let InterfaceType::ErrorContext = ty {
        let Slot::ErrorContext(e) = store.opaque().component_instance(instance.0).handles[instance.1].slot(index)?
        else {
            return Err(wrong_handle(index, "an error context"));
        };
        return Ok(Val::ErrorContext(ErrorContextAny { store: id, id: e }));
    }
    let w = checked_end(store, instance, ty, true, index)?;
    let c = &store.opaque().concurrent;
    let e = end(c, w);
    let shared = e.shared;
    let future = c.shared[shared].is_future();
    let what = if future { "future" } else { "stream" };
    match e.state {
        CopyState::Idle => {}
        CopyState::Done if future => {
            return Err(trap_with(Trap::AsyncMisuse, "cannot lift future after previous read succeeded".into()));
        }
        CopyState::Done => {
            return Err(trap_with(
                Trap::AsyncMisuse,
                "cannot lift stream after being notified that the writable end dropped".into(),
            ));
        }
        _ => return Err(trap_with(Trap::AsyncMisuse, format!("cannot lift {what} while a copy is in progress"))),
    }
    if c.waitables[w].set.is_some() {
        return Err(trap_with(Trap::AsyncMisuse, format!("cannot lift {what} while it's in a waitable set")));
    }
    store.opaque_mut().component_instance_mut(instance.0).handles[instance.1].remove_slot(index)?;
    let c = &mut store.opaque_mut().concurrent;
    c.waitables.remove(w);
    c.shared[shared].in_transit = true;
    let shared = shared as u32;
    Ok(if future { Val::Future(FutureAny { store: id, shared }) } else { Val::Stream(StreamAny { store: id, shared }) })
}

/// The spec's `lower_future`/`lower_stream` (a new readable end in `instance`'s table) and
/// `lower_error_context`.
pub(crate) fn lower_value<T>(
    store: &mut StoreInner<T>,
    instance: InstanceKey,
    ty: &InterfaceType,
    val: &Val,
) -> Result<u32> {
    let id = store.opaque().id();
    let (owner, shared) = match val {
        Val::ErrorContext(e) => {
            if e.store != id {
                bail!("an error context of another store was passed");
            }
            let c = &mut store.opaque_mut().concurrent;
            let Some(ctx) = c.error_contexts.get_mut(e.id as usize) else {
                bail!("the error context no longer exists")
            };
            ctx.refs += 1;
            let table = &mut store.opaque_mut().component_instance_mut(instance.0).handles[instance.1];
            return table.add(Slot::ErrorContext(e.id));
        }
        Val::Future(f) => (f.store, f.shared),
        Val::Stream(s) => (s.store, s.shared),
        other => bail!("expected {ty}, found {}", other.kind()),
    };
    if owner != id {
        bail!("a `{ty}` of another store was passed");
    }
    let s = store.opaque().concurrent.shared.get(shared as usize);
    let Some(s) = s else { bail!("the `{ty}` no longer exists") };
    // The host made it with the type its Rust type stands for, which was checked against
    // this one where the host function was defined: it takes the guest's. A guest's must be
    // the same type, resources compared by what they are, not by each component's numbers.
    let fits = s.host_created || same_type(store.opaque(), s.origin, &s.ty, instance.0, ty);
    match (fits, s.in_transit) {
        (true, true) => {}
        (true, false) => bail!("this `{ty}` was already passed on: a readable end goes to one place"),
        (false, _) => bail!("expected a `{ty}`, found a `{}`", s.ty),
    }
    let s = &mut store.opaque_mut().concurrent.shared[shared as usize];
    s.in_transit = false;
    if s.host_created {
        s.ty = ty.clone();
        s.origin = Some(instance.0);
    }
    new_end(store, instance, shared as usize, true, ty.clone())
}

/// Whether `a` (named by root instance `a_root`'s component) and `b` (named by `b_root`'s)
/// are the same type: equal within one component; across two, equal up to resource ids
/// that stand for the same resource type.
fn same_type(
    store: &StoreOpaque,
    a_root: Option<ComponentInstanceId>,
    a: &InterfaceType,
    b_root: ComponentInstanceId,
    b: &InterfaceType,
) -> bool {
    match a_root {
        Some(root) if root != b_root => {
            let (ra, rb) =
                (&store.component_instance(root).resource_types, &store.component_instance(b_root).resource_types);
            a.matches(b, &mut |x, y| {
                let (x, y) = (RuntimeResourceIndex::from_u32(x.0), RuntimeResourceIndex::from_u32(y.0));
                ra.get(x).is_some_and(|x| rb.get(y) == Some(x))
            })
        }
        _ => a == b,
    }
}
