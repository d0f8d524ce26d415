//! Fused adapters at run time: what FACT's adapter modules import (memories, reallocs,
//! callees, flags, and the runtime functions they call: traps, borrow scopes, handle
//! transfers, string copies).
//!
//! Adapters themselves are compiled like any core module (see `compiled.rs`); nothing here
//! interprets them. The flags they test and set are `flags.rs`'s.

use super::core_defs::core_func;
use super::handle_table::Slot;
use super::state::InstanceState;
use super::store_memory::{begin_borrow_scope, end_borrow_scope, lend_for_call};
use super::transcode::{StringEnd, transfer_string};
use crate::handles::ComponentInstanceId;
use crate::store::StoreInner;
use crate::{Extern, Trap, ValRaw, ValType};
use anyhow::{Result, anyhow};
use std::sync::Arc;
use weld_environ::component::adapt::{AdapterImport, AdapterLibcall, StringSide};
use weld_environ::component::info::RuntimeResourceIndex;

/// The item the runtime supplies for an adapter module's import.
pub(crate) fn adapter_import<T: 'static>(
    store: &mut StoreInner<T>,
    index: ComponentInstanceId,
    import: &AdapterImport,
) -> Result<Extern> {
    let state = store.opaque().component_instance(index);
    Ok(match import {
        AdapterImport::Memory(m) => Extern::Memory(state.memories[*m]),
        AdapterImport::Realloc(r) => Extern::Func(state.reallocs[*r].func),
        AdapterImport::PostReturn(p) => Extern::Func(state.post_returns[*p]),
        AdapterImport::Flags(i) => Extern::Global(state.flags[*i].global),
        AdapterImport::TaskContext(slot) => match state.task_context.get(*slot as usize) {
            Some(g) => Extern::Global(g.global),
            None => anyhow::bail!("bug: an adapter imports context slot {slot}, which the component does not keep"),
        },
        AdapterImport::Callee(def) => Extern::Func(core_func(store, index, def)?),
        AdapterImport::Libcall(call) => {
            if let Some(f) = state.libcalls.get(call) {
                return Ok(Extern::Func(*f));
            }
            let f = libcall(store, index, call)?;
            store.opaque_mut().component_instance_mut(index).libcalls.insert(call.clone(), f);
            Extern::Func(f)
        }
    })
}

fn string_end(state: &InstanceState, side: &StringSide) -> StringEnd {
    StringEnd {
        side: side.side,
        memory: state.memories[side.memory],
        memory64: side.memory64,
        encoding: side.encoding,
        realloc: side.realloc.map(|r| state.reallocs[r].func),
        instance: side.instance,
    }
}

/// Creates the host function implementing `call` for component instance `index`.
fn libcall<T: 'static>(
    store: &mut StoreInner<T>,
    index: ComponentInstanceId,
    call: &AdapterLibcall,
) -> Result<crate::Func> {
    use ValType::{I32, I64};
    type Body<T> = Box<dyn Fn(&mut StoreInner<T>, &mut [ValRaw]) -> Result<()> + Send + Sync>;
    let (params, results, body): (Vec<ValType>, Vec<ValType>, Body<T>) = match call.clone() {
        AdapterLibcall::Trap => (
            vec![I32],
            vec![],
            Box::new(|_, slots| {
                let code = slots[0].get_u64() as u8;
                Err(Trap::from_code(code).map(anyhow::Error::from).unwrap_or_else(|| anyhow!("adapter trap {code}")))
            }),
        ),
        AdapterLibcall::EnterCall => (
            vec![],
            vec![],
            Box::new(move |store, _| {
                begin_borrow_scope(store.opaque_mut().component_instance_mut(index));
                Ok(())
            }),
        ),
        AdapterLibcall::ExitCall(callee) => (
            vec![],
            vec![],
            Box::new(move |store, _| {
                let state = store.opaque_mut().component_instance_mut(index);
                end_borrow_scope(state);
                state.handles[callee].end_call()
            }),
        ),
        AdapterLibcall::EnterSyncTask(callee) => (
            vec![],
            vec![],
            Box::new(move |store, _| {
                super::concurrent::tasks::enter_sync_task(store, (index, callee));
                Ok(())
            }),
        ),
        AdapterLibcall::ExitSyncTask(callee) => {
            (vec![], vec![], Box::new(move |store, _| super::concurrent::tasks::exit_sync_task(store, (index, callee))))
        }
        AdapterLibcall::TransferOwn { resource, from, to } => (
            vec![I32],
            vec![I32],
            Box::new(move |store, slots| {
                let state = store.opaque_mut().component_instance_mut(index);
                let types = &state.resource_types;
                let names = |r: RuntimeResourceIndex| types[r].to_string();
                let handle = slots[0].get_u64() as u32;
                let rep = state.handles[from].take_own(handle, resource, &names)?;
                let h = state.handles[to].add(Slot::Own { resource, rep, lends: 0 })?;
                slots[0] = ValRaw::u64(u64::from(h));
                Ok(())
            }),
        ),
        AdapterLibcall::TransferBorrow { resource, from, to } => (
            vec![I32],
            vec![I32],
            Box::new(move |store, slots| {
                let state = store.opaque_mut().component_instance_mut(index);
                let types = &state.resource_types;
                let names = |r: RuntimeResourceIndex| types[r].to_string();
                let handle = slots[0].get_u64() as u32;
                let rep = match state.handles[from].get(handle, resource, &names)? {
                    Slot::Own { rep, .. } => {
                        lend_for_call(state, from, handle);
                        rep
                    }
                    Slot::Borrow { rep, .. } => rep,
                    _ => unreachable!("get returns only resource handles"),
                };
                let out = if state.component.info().defines_resource(to, resource) {
                    rep
                } else {
                    state.handles[to].add_call_borrow(resource, rep)?
                };
                slots[0] = ValRaw::u64(u64::from(out));
                Ok(())
            }),
        ),
        AdapterLibcall::String { from, to } => {
            let state = store.opaque().component_instance(index);
            let (from_end, to_end) = (string_end(state, &from), string_end(state, &to));
            let ptr = |wide: bool| if wide { I64 } else { I32 };
            (
                vec![ptr(from.memory64); 2],
                vec![ptr(to.memory64); 2],
                Box::new(move |store, slots| {
                    let read = |v: ValRaw| if from.memory64 { v.get_u64() } else { u64::from(v.get_u64() as u32) };
                    let (p, n) = (read(slots[0]), read(slots[1]));
                    let (q, m) = transfer_string(store, index, &from_end, &to_end, p, n)?;
                    slots[0] = ValRaw::u64(q);
                    slots[1] = ValRaw::u64(m);
                    Ok(())
                }),
            )
        }
    };
    let ty = crate::FuncType::new(params, results);
    let call = move |store: &mut StoreInner<T>, _caller, slots: &mut [ValRaw]| body(store, slots);
    crate::Func::from_host_fn(store, &ty, Arc::new(call))
}
