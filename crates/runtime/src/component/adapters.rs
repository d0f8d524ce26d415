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
use crate::store::StoreInner;
use crate::{Extern, Trap, ValRaw, ValType};
use anyhow::{Result, anyhow};
use std::sync::Arc;
use weld_environ::component::adapt::{AdapterImport, AdapterLibcall, StringSide};

/// The item the runtime supplies for an adapter module's import.
pub(crate) fn adapter_import<T: 'static>(
    store: &mut StoreInner<T>,
    index: usize,
    import: &AdapterImport,
) -> Result<Extern> {
    let state = store.opaque().component_instance(index);
    Ok(match import {
        AdapterImport::Memory(m) => Extern::Memory(state.memories[m.0 as usize]),
        AdapterImport::Realloc(r) => Extern::Func(state.reallocs[r.0 as usize]),
        AdapterImport::PostReturn(p) => Extern::Func(state.post_returns[p.0 as usize]),
        AdapterImport::Flags(i) => Extern::Global(state.flags[i.0 as usize]),
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
        memory: state.memories[side.memory.0 as usize],
        memory64: side.memory64,
        encoding: side.encoding,
        realloc: side.realloc.map(|r| state.reallocs[r.0 as usize]),
        instance: side.instance,
    }
}

/// Creates the host function implementing `call` for component instance `index`.
fn libcall<T: 'static>(store: &mut StoreInner<T>, index: usize, call: &AdapterLibcall) -> Result<crate::Func> {
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
                state.handles[callee.0 as usize].end_call()
            }),
        ),
        AdapterLibcall::TransferOwn { resource, from, to } => (
            vec![I32],
            vec![I32],
            Box::new(move |store, slots| {
                let state = store.opaque_mut().component_instance_mut(index);
                let types = &state.resource_types;
                let names = |r: u32| types[r as usize].to_string();
                let handle = slots[0].get_u64() as u32;
                let rep = state.handles[from.0 as usize].take_own(handle, resource.0, &names)?;
                let h = state.handles[to.0 as usize].add(Slot::Own { resource: resource.0, rep, lends: 0 })?;
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
                let names = |r: u32| types[r as usize].to_string();
                let handle = slots[0].get_u64() as u32;
                let rep = match state.handles[from.0 as usize].get(handle, resource.0, &names)? {
                    Slot::Own { rep, .. } => {
                        lend_for_call(state, from.0 as usize, handle);
                        rep
                    }
                    Slot::Borrow { rep, .. } => rep,
                    Slot::Free => unreachable!("get never returns a free slot"),
                };
                let out = if state.component.info().defines_resource(to, resource) {
                    rep
                } else {
                    state.handles[to.0 as usize].add_call_borrow(resource.0, rep)?
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
