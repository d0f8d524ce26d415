//! Fused adapters at run time: instantiating FACT's adapter modules with what they import, the
//! runtime functions they call (traps, borrow scopes, handle transfers, string copies), and
//! the per-instance flags (`may_leave`, `may_enter`) that adapters and the host share.
//!
//! The flags of each component instance live in a mutable `i32` core global, so an adapter
//! tests and sets them with plain `global.get`/`global.set`, and the host reads the same
//! global. Adapters themselves are compiled like any core module (see `compiled.rs`); nothing
//! here interprets them.

use super::instance::InstanceState;
use super::resources::Slot;
use super::transcode::{StringEnd, transfer_string};
use crate::store::{StoreInner, StoreOpaque};
use crate::{Extern, Global, GlobalType, Mutability, Trap, Val, ValRaw, ValType};
use anyhow::{Result, anyhow, bail};
use std::sync::Arc;
use weld_environ::component::adapt::{AdapterImport, AdapterLibcall, FLAG_MAY_ENTER, FLAG_MAY_LEAVE, StringSide};
use weld_environ::component::info::RuntimeComponentInstanceIndex;

/// Creates the flags global of one component instance, with both flags set.
pub(crate) fn new_flags<T>(store: &mut StoreInner<T>) -> Result<Global> {
    Global::new(store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(FLAG_MAY_LEAVE | FLAG_MAY_ENTER))
}

impl StoreOpaque {
    /// The flags of runtime component instance `i` of component instance `instance`.
    pub(crate) fn component_flags(&self, instance: usize, i: RuntimeComponentInstanceIndex) -> i32 {
        let g = self.component_instance(instance).flags[i.0 as usize];
        let bytes = self.global(g.index).def.bytes;
        i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    fn set_component_flags(&mut self, instance: usize, i: RuntimeComponentInstanceIndex, value: i32) {
        let g = self.component_instance(instance).flags[i.0 as usize];
        let def = &mut self.global_mut(g.index).def;
        def.bytes = [0; 16];
        def.bytes[..4].copy_from_slice(&value.to_le_bytes());
    }

    /// Sets or clears `bit` of the flags of `i`.
    pub(crate) fn set_component_flag(&mut self, instance: usize, i: RuntimeComponentInstanceIndex, bit: i32, on: bool) {
        let v = self.component_flags(instance, i);
        self.set_component_flags(instance, i, if on { v | bit } else { v & !bit });
    }

    /// Whether instance `i` may call out.
    pub(crate) fn may_leave(&self, instance: usize, i: RuntimeComponentInstanceIndex) -> bool {
        self.component_flags(instance, i) & FLAG_MAY_LEAVE != 0
    }

    /// A call enters the instances in `set` (from the host, or from the runtime on behalf of
    /// a guest): traps if one of them may not be entered, otherwise clears their `may_enter`
    /// flags.
    pub(crate) fn enter_from_host(&mut self, instance: usize, set: &[RuntimeComponentInstanceIndex]) -> Result<()> {
        if set.iter().any(|i| self.component_flags(instance, *i) & FLAG_MAY_ENTER == 0) {
            return Err(Trap::CannotEnterComponent.into());
        }
        for i in set {
            self.set_component_flag(instance, *i, FLAG_MAY_ENTER, false);
        }
        Ok(())
    }

    /// A call into the instances in `set` has finished.
    pub(crate) fn leave_to_host(&mut self, instance: usize, set: &[RuntimeComponentInstanceIndex]) {
        for i in set {
            self.set_component_flag(instance, *i, FLAG_MAY_ENTER, true);
        }
    }
}

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
        AdapterImport::Callee(def) => Extern::Func(super::instance::core_func(store, index, def)?),
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
                store.opaque_mut().component_instance_mut(index).call_scopes.push(Vec::new());
                Ok(())
            }),
        ),
        AdapterLibcall::ExitCall(callee) => (
            vec![],
            vec![],
            Box::new(move |store, _| {
                let state = store.opaque_mut().component_instance_mut(index);
                let lenders = state.call_scopes.pop().unwrap_or_default();
                for (table, h) in lenders {
                    state.handles[table].unlend(h);
                }
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
                let rep = match state.handles[from.0 as usize].remove(handle, resource.0, &names)? {
                    Slot::Own { rep, .. } => rep,
                    _ => bail!("handle index {handle} is a borrowed handle, but an owned handle (own<..>) is expected"),
                };
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
                        state.handles[from.0 as usize].lend(handle);
                        if let Some(scope) = state.call_scopes.last_mut() {
                            scope.push((from.0 as usize, handle));
                        }
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
