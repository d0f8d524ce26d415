//! One adapter function: the whole fused call from the caller's lowered signature to the
//! callee's lifted one and back, in the order of CanonicalABI.md's `canon_lower` and
//! `canon_lift`: the caller's `may_leave` check, entering the callee's instances, the borrow
//! scope, parameters (flat, or through memory allocated with the callee's `realloc`), the call,
//! results (flat, or through the caller's return pointer), the end of the borrow scope,
//! `post-return` with the callee's `may_leave` cleared, and leaving the instances again. When
//! the component uses `context.get`/`context.set`, the callee's task gets a context of zeros
//! and the caller's is put back at the end.

use crate::func::{FuncBuilder, Local};
use crate::module::ModuleBuilder;
use crate::values::{Dst, MemLoc, Pass, Side, Src, flat_locals, val_type};
use anyhow::{Context, Result};
use wasm_encoder::{Instruction as I, ValType};
use weld_environ::Trap;
use weld_environ::component::abi::{AbiContext, MemoryWidth};
use weld_environ::component::adapt::{AdapterImport, AdapterLibcall, CallSide, FLAG_MAY_ENTER, FLAG_MAY_LEAVE};
use weld_environ::component::info::{CONTEXT_SLOTS, ComponentInfo, FusedIndex, Options};
use weld_environ::component::types::InterfaceType;

fn side<'a>(m: &mut ModuleBuilder, side: CallSide, opts: &'a Options) -> Side<'a> {
    let width = MemoryWidth::from_memory64(opts.memory64);
    let memory = opts.memory.map(|mem| m.import_memory(AdapterImport::Memory(mem), opts.memory64));
    Side { side, opts, width, memory }
}

/// Adds the adapter of fused call `index` to `m`, exported as `adapter{index}`.
pub(crate) fn adapter(m: &mut ModuleBuilder, info: &ComponentInfo, index: FusedIndex) -> Result<()> {
    let call = &info.fused[index];
    let ty = &call.lift.ty;
    let caller = side(m, CallSide::Caller, &call.lower);
    let callee = side(m, CallSide::Callee, &call.lift.options);
    let lower = ty.core_signature(caller.width, AbiContext::Lower);
    let lift = ty.core_signature(callee.width, AbiContext::Lift);
    let params: Vec<ValType> = lower.params.iter().map(|t| val_type(*t)).collect();
    let results: Vec<ValType> = lower.results.iter().map(|t| val_type(*t)).collect();
    let lift_params: Vec<ValType> = lift.params.iter().map(|t| val_type(*t)).collect();
    let lift_results: Vec<ValType> = lift.results.iter().map(|t| val_type(*t)).collect();
    let type_index = m.type_index(&params, &results);
    let (caller_i, callee_i) = (call.lower.instance, call.lift.options.instance);

    let mut f = FuncBuilder::new(m, &params);
    let args: Vec<Local> = params.iter().enumerate().map(|(i, t)| Local { index: i as u32, ty: *t }).collect();

    f.check_flag(caller_i, FLAG_MAY_LEAVE, Trap::CannotLeaveComponent);
    let enter = info.entering_set(callee_i, Some(caller_i));
    for i in &enter {
        f.check_flag(*i, FLAG_MAY_ENTER, Trap::CannotEnterComponent);
    }
    for i in &enter {
        f.set_flag(*i, FLAG_MAY_ENTER, false);
    }
    // The callee's task starts with a context of zeros; the caller's comes back after it
    // (post-return included, which runs in the callee's task).
    let contexts: Vec<(u32, Local)> = if info.uses_task_context() {
        (0..CONTEXT_SLOTS as u32)
            .map(|slot| {
                let g = f.module.import_global(AdapterImport::TaskContext(slot), ValType::I64);
                let saved = f.local(ValType::I64);
                f.ins(I::GlobalGet(g));
                f.set(saved);
                f.ins(I::I64Const(0));
                f.ins(I::GlobalSet(g));
                (g, saved)
            })
            .collect()
    } else {
        Vec::new()
    };
    // A callee that uses thread built-ins gets its call's task and implicit thread.
    let sync_task = info.uses_threads(callee_i);
    if sync_task {
        let enter = f.module.import_func(AdapterImport::Libcall(AdapterLibcall::EnterSyncTask(callee_i)), &[], &[]);
        f.ins(I::Call(enter));
    }
    let borrows = ty.param_types().any(InterfaceType::contains_borrow);
    if borrows {
        let enter_call = f.module.import_func(AdapterImport::Libcall(AdapterLibcall::EnterCall), &[], &[]);
        f.ins(I::Call(enter_call));
    }

    // Parameters.
    let down = Pass { from: &caller, to: &callee };
    let mut callee_args = Vec::new();
    if lower.params_in_memory {
        let tuple = InterfaceType::tuple(ty.param_types().cloned());
        let abi = tuple.abi();
        let ptr = args[0];
        f.check_align(ptr, abi.align(caller.width), Trap::UnalignedPointer);
        f.check_range_const(caller.mem()?, ptr, abi.size(caller.width), Trap::PointerOutOfBounds);
        let size = f.local(callee.ptr());
        f.ptr_const(callee.wide(), u64::from(abi.size(callee.width)));
        f.set(size);
        let realloc = callee.opts.realloc.context("parameters go through memory, but the callee has no `realloc`")?;
        let q = f.allocate(realloc, callee_i, abi.align(callee.width), size);
        f.check_align(q, abi.align(callee.width), Trap::UnalignedPointer);
        f.check_range_const(callee.mem()?, q, abi.size(callee.width), Trap::PointerOutOfBounds);
        down.translate(
            &mut f,
            &tuple,
            &Src::Mem(MemLoc { addr: ptr, offset: 0 }),
            &Dst::Mem(MemLoc { addr: q, offset: 0 }),
        )?;
        callee_args.push(q);
    } else {
        let mut at = 0;
        for pty in ty.param_types() {
            let n = usize::from(pty.abi().flat_count.unwrap_or(0));
            let src = Src::Flat(args[at..at + n].to_vec());
            at += n;
            let d = flat_locals(&mut f, pty, callee.width);
            down.translate(&mut f, pty, &src, &Dst::Flat(d.clone()))?;
            callee_args.extend(d);
        }
    }

    // The call.
    let callee_fn = f.module.import_func(AdapterImport::Callee(call.lift.core.clone()), &lift_params, &lift_results);
    for a in &callee_args {
        f.get(*a);
    }
    f.ins(I::Call(callee_fn));
    let core_results: Vec<Local> = lift_results.iter().map(|t| f.local(*t)).collect();
    for r in core_results.iter().rev() {
        f.set(*r);
    }

    // Results.
    let up = Pass { from: &callee, to: &caller };
    let mut out = Vec::new();
    if let Some(rt) = &ty.result {
        if lift.results_in_memory {
            let abi = rt.abi();
            let ptr = core_results[0];
            f.check_align(ptr, abi.align(callee.width), Trap::UnalignedPointer);
            f.check_range_const(callee.mem()?, ptr, abi.size(callee.width), Trap::PointerOutOfBounds);
            let retptr = *args.last().context("a result through memory needs a return pointer")?;
            f.check_align(retptr, abi.align(caller.width), Trap::UnalignedPointer);
            f.check_range_const(caller.mem()?, retptr, abi.size(caller.width), Trap::PointerOutOfBounds);
            up.translate(
                &mut f,
                rt,
                &Src::Mem(MemLoc { addr: ptr, offset: 0 }),
                &Dst::Mem(MemLoc { addr: retptr, offset: 0 }),
            )?;
        } else {
            let d = flat_locals(&mut f, rt, caller.width);
            up.translate(&mut f, rt, &Src::Flat(core_results.clone()), &Dst::Flat(d.clone()))?;
            out = d;
        }
    }
    if borrows {
        let exit = f.module.import_func(AdapterImport::Libcall(AdapterLibcall::ExitCall(callee_i)), &[], &[]);
        f.ins(I::Call(exit));
    }
    if let Some(pr) = call.lift.options.post_return {
        let func = f.module.import_func(AdapterImport::PostReturn(pr), &lift_results, &[]);
        f.set_flag(callee_i, FLAG_MAY_LEAVE, false);
        for r in &core_results {
            f.get(*r);
        }
        f.ins(I::Call(func));
        f.set_flag(callee_i, FLAG_MAY_LEAVE, true);
    }
    if sync_task {
        let exit = f.module.import_func(AdapterImport::Libcall(AdapterLibcall::ExitSyncTask(callee_i)), &[], &[]);
        f.ins(I::Call(exit));
    }
    for (g, saved) in contexts {
        f.get(saved);
        f.ins(I::GlobalSet(g));
    }
    for i in &enter {
        f.set_flag(*i, FLAG_MAY_ENTER, true);
    }
    for o in &out {
        f.get(*o);
    }
    let body = f.finish();
    m.add_exported_func(format!("adapter{}", index.as_u32()), type_index, body);
    Ok(())
}
