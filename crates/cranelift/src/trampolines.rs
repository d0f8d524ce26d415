//! Per-signature trampolines between the host and wasm.
//!
//! - The *entry* trampoline lets Rust call a wasm function of signature `S`:
//!   `extern "C" fn(wasm_call, callee_vmctx, caller_vmctx, values: *mut ValRaw)` reads the
//!   arguments from `values`, calls `wasm_call` with the wasm calling convention, and writes the
//!   results back into `values`. With fuel it also moves the counter from the store into the
//!   pinned register and back (see `translate/interrupt.rs`).
//! - The *host* trampoline lets wasm call a host function of signature `S`: it has the wasm
//!   calling convention, spills the arguments into a `ValRaw` array on its stack, calls the
//!   host context's array-call entry `fn(vmctx, caller_vmctx, values, len) -> u32`, traps if that
//!   reports an error, and returns the results read back from the array. With fuel it writes
//!   the pinned register's counter to the store before the call and reloads it after.
//!
//! And the engine's *interrupt stubs*, one per libcall that fuel and epoch checks call on their
//! slow path (`OutOfFuel`, `NewEpoch`): `fn(vmctx)` with Cranelift's `preserve_all`
//! convention, which calls the libcall through the caller's libcall table and traps if it
//! reports a trap (with fuel, writing the pinned register's counter to the store around the
//! libcall). A check inside a hot loop then clobbers no register, so the loop's values
//! stay in registers (with an ordinary call on the slow path, every value live across the
//! loop had to be spilled or kept in a callee-saved register, which made a tight loop 50%
//! slower).

use crate::code::link;
use crate::compiler::finish_function;
use crate::translate::{interrupt_stub_signature, ir_type, pending_trap, wasm_signature};
use crate::{CodeFingerprint, CompiledCode, CompilerConfig, build_isa, compile_module};
use anyhow::Result;
use cranelift_codegen::Context;
use cranelift_codegen::ir::{self, AbiParam, InstBuilder, condcodes::IntCC, types};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use weld_environ::{
    FuncType, FunctionBodyData, HOST_CALL_THREW, Libcall, Module, VAL_RAW_SIZE, VMOffsets, host_context, store_context,
};

/// A compiler for one configuration: modules and trampolines.
pub struct Compiler {
    isa: OwnedTargetIsa,
    config: CompilerConfig,
    fingerprint: CodeFingerprint,
}

impl Compiler {
    /// Builds the target ISA for `config`.
    pub fn new(config: CompilerConfig) -> Result<Compiler> {
        let isa = build_isa(&config)?;
        let fingerprint = CodeFingerprint::new(&*isa, &config);
        Ok(Compiler { isa, config, fingerprint })
    }

    /// What the code this compiler produces depends on.
    pub fn fingerprint(&self) -> &CodeFingerprint {
        &self.fingerprint
    }

    /// The configuration this compiler was built with.
    pub fn config(&self) -> &CompilerConfig {
        &self.config
    }

    /// Validates and compiles every defined function of `module`.
    pub fn compile_module(&self, module: &Module, bodies: Vec<FunctionBodyData<'_>>) -> Result<CompiledCode> {
        compile_module(module, bodies, &self.config)
    }

    /// Compiles the host-to-wasm trampoline for signature `ty`.
    pub fn entry_trampoline(&self, ty: &FuncType) -> Result<CompiledCode> {
        let isa = &*self.isa;
        let ptr = isa.pointer_type();
        let mut ctx = Context::new();
        let mut sig = ir::Signature::new(isa.default_call_conv());
        sig.params.extend([AbiParam::new(ptr); 4]);
        ctx.func.signature = sig;
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let [code, callee_vmctx, caller_vmctx, values] = b.block_params(block).try_into().unwrap();
        let flags = ir::MemFlagsData::trusted();
        let mut args = vec![callee_vmctx, caller_vmctx];
        for (i, t) in ty.params.iter().enumerate() {
            args.push(b.ins().load(ir_type(*t), flags, values, (i as u32 * VAL_RAW_SIZE) as i32));
        }
        let wasm_sig = b.import_signature(wasm_signature(isa, ty));
        // With fuel, wasm keeps the counter in the pinned register, which is callee-saved for
        // the host: keep the host's value, and move the counter in from the store and back.
        let fuel = self.config.consume_fuel.then(|| {
            let store = b.ins().load(ptr, flags.with_readonly(), callee_vmctx, VMOffsets::STORE_CONTEXT as i32);
            let host_value = b.ins().get_pinned_reg(ptr);
            fuel_from_store(&mut b, store);
            (store, host_value)
        });
        let call = b.ins().call_indirect(wasm_sig, code, &args);
        if let Some((store, host_value)) = fuel {
            fuel_to_store(&mut b, store);
            b.ins().set_pinned_reg(host_value);
        }
        let results = b.inst_results(call).to_vec();
        for (i, r) in results.into_iter().enumerate() {
            b.ins().store(flags, r, values, (i as u32 * VAL_RAW_SIZE) as i32);
        }
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(isa.frontend_config());
        link(vec![finish_function(isa, &mut ctx)?])
    }

    /// Compiles the wasm-to-host trampoline for signature `ty`.
    pub fn host_trampoline(&self, ty: &FuncType) -> Result<CompiledCode> {
        let isa = &*self.isa;
        let ptr = isa.pointer_type();
        let mut ctx = Context::new();
        ctx.func.signature = wasm_signature(isa, ty);
        let slots = ty.params.len().max(ty.results.len()).max(1) as u32;
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let slot =
            b.create_sized_stack_slot(ir::StackSlotData::new(ir::StackSlotKind::ExplicitSlot, slots * VAL_RAW_SIZE, 4));
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let params = b.block_params(block).to_vec();
        let (callee_vmctx, caller_vmctx) = (params[0], params[1]);
        for (i, v) in params[2..].iter().enumerate() {
            b.ins().stack_store(ptr, *v, slot, (i as u32 * VAL_RAW_SIZE) as i32);
        }
        let values = b.ins().stack_addr(ptr, slot, 0);
        let len = b.ins().iconst(ptr, i64::from(slots));
        let mut host_sig = ir::Signature::new(isa.default_call_conv());
        host_sig.params.extend([AbiParam::new(ptr); 4]);
        host_sig.returns.push(AbiParam::new(types::I32));
        let host_sig = b.import_signature(host_sig);
        let entry = b.ins().load(
            ptr,
            ir::MemFlagsData::trusted().with_readonly(),
            callee_vmctx,
            host_context::ARRAY_CALL as i32,
        );
        // With fuel, the host reads and may change the counter in the store, not the register.
        let fuel_store = self.config.consume_fuel.then(|| {
            let flags = ir::MemFlagsData::trusted().with_readonly();
            let store = b.ins().load(ptr, flags, callee_vmctx, host_context::STORE_CONTEXT as i32);
            fuel_to_store(&mut b, store);
            store
        });
        let call = b.ins().call_indirect(host_sig, entry, &[callee_vmctx, caller_vmctx, values, len]);
        if let Some(store) = fuel_store {
            fuel_from_store(&mut b, store);
        }
        let status = b.inst_results(call)[0];
        // Any status but 0 leaves the fast path: 2 means the host returned a wasm exception,
        // thrown into the caller (whose vmctx leads the runtime to the store and to the
        // `Throw` shim); anything else raises the pending trap.
        let (failed, normal) = (b.create_block(), b.create_block());
        b.ins().brif(status, failed, &[], normal, &[]);
        b.switch_to_block(failed);
        let threw = b.ins().icmp_imm_u(IntCC::Equal, status, i64::from(HOST_CALL_THREW));
        b.ins().trapz(threw, pending_trap());
        let exn = b.ins().stack_load(ptr, types::I64, slot, 0);
        let flags = ir::MemFlagsData::trusted().with_readonly();
        let libcalls = b.ins().load(ptr, flags, caller_vmctx, VMOffsets::LIBCALLS as i32);
        let throw = b.ins().load(ptr, flags, libcalls, (Libcall::Throw.index() * 8) as i32);
        let mut throw_sig = ir::Signature::new(CallConv::Tail);
        throw_sig.params.extend([AbiParam::new(ptr), AbiParam::new(types::I64)]);
        let throw_sig = b.import_signature(throw_sig);
        b.ins().call_indirect(throw_sig, throw, &[caller_vmctx, exn]);
        b.ins().trap(pending_trap());
        b.switch_to_block(normal);
        let mut rets = Vec::new();
        for (i, t) in ty.results.iter().enumerate() {
            rets.push(b.ins().stack_load(ptr, ir_type(*t), slot, (i as u32 * VAL_RAW_SIZE) as i32));
        }
        b.ins().return_(&rets);
        b.seal_all_blocks();
        b.finalize(isa.frontend_config());
        link(vec![finish_function(isa, &mut ctx)?])
    }

    /// Compiles the interrupt stub that calls `libcall` (which takes only the vmctx and returns
    /// a trap status): a `preserve_all` function `fn(vmctx)`.
    pub fn interrupt_stub(&self, libcall: Libcall) -> Result<CompiledCode> {
        assert_eq!(libcall.signature(), (&[][..], Some(weld_environ::AbiType::I32)), "{libcall:?} is not a stub's");
        let isa = &*self.isa;
        let ptr = isa.pointer_type();
        let mut ctx = Context::new();
        ctx.func.signature = interrupt_stub_signature(isa);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let vmctx = b.block_params(block)[0];
        let flags = ir::MemFlagsData::trusted().with_readonly();
        let table = b.ins().load(ptr, flags, vmctx, VMOffsets::LIBCALLS as i32);
        let callee = b.ins().load(ptr, flags, table, (libcall.index() * 8) as i32);
        let mut sig = ir::Signature::new(isa.default_call_conv());
        sig.params.push(AbiParam::new(ptr));
        sig.returns.push(AbiParam::new(types::I32));
        let sig = b.import_signature(sig);
        // With fuel, the libcall reads (and may refill) the counter in the store.
        let fuel_store = self.config.consume_fuel.then(|| {
            let store = b.ins().load(ptr, flags, vmctx, VMOffsets::STORE_CONTEXT as i32);
            fuel_to_store(&mut b, store);
            store
        });
        let call = b.ins().call_indirect(sig, callee, &[vmctx]);
        if let Some(store) = fuel_store {
            fuel_from_store(&mut b, store);
        }
        let status = b.inst_results(call)[0];
        b.ins().trapnz(status, pending_trap());
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(isa.frontend_config());
        link(vec![finish_function(isa, &mut ctx)?])
    }

    /// The ISA code is generated for.
    pub fn isa(&self) -> &dyn TargetIsa {
        &*self.isa
    }
}

/// Writes the fuel counter in the pinned register to the store context at `store`, where the
/// host reads it.
fn fuel_to_store(b: &mut FunctionBuilder<'_>, store: ir::Value) {
    let counter = b.ins().get_pinned_reg(types::I64);
    b.ins().store(ir::MemFlagsData::trusted(), counter, store, store_context::FUEL_CONSUMED as i32);
}

/// Loads the fuel counter of the store context at `store` into the pinned register, where wasm
/// keeps it.
fn fuel_from_store(b: &mut FunctionBuilder<'_>, store: ir::Value) {
    let counter = b.ins().load(types::I64, ir::MemFlagsData::trusted(), store, store_context::FUEL_CONSUMED as i32);
    b.ins().set_pinned_reg(counter);
}
