//! What a function's translation knows of its surroundings: the VMContext layout, the
//! signatures it imports (of wasm functions and libcalls), and how to reach memories, tables,
//! globals and libcalls.

use super::{interrupt_stub_signature, wasm_signature};
use crate::CompilerConfig;
use cranelift_codegen::ir::{self, AbiParam, InstBuilder, Value, types};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::FunctionBuilder;
use std::collections::HashMap;
use weld_environ::{AbiType, Libcall, Module, TypeIndex, VMOffsets, store_context};

/// The translation environment of one function.
pub(crate) struct FuncEnv<'a> {
    pub isa: &'a dyn TargetIsa,
    pub module: &'a Module,
    pub offsets: &'a VMOffsets,
    pub config: &'a CompilerConfig,
    sig_refs: HashMap<TypeIndex, ir::SigRef>,
    libcall_sigs: HashMap<Libcall, ir::SigRef>,
    func_refs: HashMap<u32, ir::FuncRef>,
    interrupt_stub_sig: Option<ir::SigRef>,
    throw_sig: Option<ir::SigRef>,
}

impl<'a> FuncEnv<'a> {
    pub fn new(isa: &'a dyn TargetIsa, module: &'a Module, offsets: &'a VMOffsets, config: &'a CompilerConfig) -> Self {
        FuncEnv {
            isa,
            module,
            offsets,
            config,
            sig_refs: HashMap::new(),
            libcall_sigs: HashMap::new(),
            func_refs: HashMap::new(),
            interrupt_stub_sig: None,
            throw_sig: None,
        }
    }

    pub fn pointer_type(&self) -> ir::Type {
        self.isa.pointer_type()
    }

    /// Makes the prologue trap when the stack pointer is below the store's stack limit.
    pub fn install_stack_limit(&self, builder: &mut FunctionBuilder<'_>, _vmctx: Value) {
        let ptr = self.pointer_type();
        let flags = builder.func.dfg.mem_flags.insert_unchecked(ir::MemFlagsData::trusted().with_readonly());
        let vmctx = builder.func.create_global_value(ir::GlobalValueData::VMContext);
        let store = builder.func.create_global_value(ir::GlobalValueData::Load {
            base: vmctx,
            offset: (VMOffsets::STORE_CONTEXT as i32).into(),
            global_type: ptr,
            flags,
        });
        let flags = builder.func.dfg.mem_flags.insert_unchecked(ir::MemFlagsData::trusted());
        let limit = builder.func.create_global_value(ir::GlobalValueData::Load {
            base: store,
            offset: (store_context::STACK_LIMIT as i32).into(),
            global_type: ptr,
            flags,
        });
        builder.func.stack_limit = Some(limit);
    }

    /// Loads a pointer that never changes during the instance's life from `base + offset`.
    pub fn load_vmctx_ptr(&self, builder: &mut FunctionBuilder<'_>, base: Value, offset: u32) -> Value {
        let flags = ir::MemFlagsData::trusted().with_readonly().with_can_move();
        builder.ins().load(self.pointer_type(), flags, base, offset as i32)
    }

    /// The signature reference for calling a wasm function of type `ty` indirectly.
    pub fn sig_ref(&mut self, builder: &mut FunctionBuilder<'_>, ty: TypeIndex) -> ir::SigRef {
        if let Some(s) = self.sig_refs.get(&ty) {
            return *s;
        }
        let sig = wasm_signature(self.isa, &self.module.types[ty]);
        let s = builder.import_signature(sig);
        self.sig_refs.insert(ty, s);
        s
    }

    /// The reference for a direct call to defined function `func`.
    pub fn direct_func_ref(&mut self, builder: &mut FunctionBuilder<'_>, func: u32, ty: TypeIndex) -> ir::FuncRef {
        if let Some(f) = self.func_refs.get(&func) {
            return *f;
        }
        let signature = self.sig_ref(builder, ty);
        let name = builder.func.declare_imported_user_function(ir::UserExternalName { namespace: 0, index: func });
        let f = builder.import_function(ir::ExtFuncData {
            name: ir::ExternalName::User(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.func_refs.insert(func, f);
        f
    }

    /// The signature of the engine's interrupt stubs.
    pub fn interrupt_stub_sig(&mut self, builder: &mut FunctionBuilder<'_>) -> ir::SigRef {
        let isa = self.isa;
        *self.interrupt_stub_sig.get_or_insert_with(|| builder.import_signature(interrupt_stub_signature(isa)))
    }

    /// Calls `libcall` with the caller's vmctx first, returning its result if it has one.
    pub fn call_libcall(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        vmctx: Value,
        libcall: Libcall,
        args: &[Value],
    ) -> Option<Value> {
        let ptr = self.pointer_type();
        let sig = match self.libcall_sigs.get(&libcall) {
            Some(s) => *s,
            None => {
                let (params, ret) = libcall.signature();
                let abi = |t: &AbiType| match t {
                    AbiType::Pointer => AbiParam::new(ptr),
                    AbiType::I32 => AbiParam::new(types::I32),
                    AbiType::I64 => AbiParam::new(types::I64),
                };
                let mut sig = ir::Signature::new(self.isa.default_call_conv());
                sig.params.push(AbiParam::new(ptr));
                sig.params.extend(params.iter().map(abi));
                sig.returns.extend(ret.iter().map(abi));
                let s = builder.import_signature(sig);
                self.libcall_sigs.insert(libcall, s);
                s
            }
        };
        let table = self.load_vmctx_ptr(builder, vmctx, VMOffsets::LIBCALLS);
        let callee = self.load_vmctx_ptr(builder, table, (libcall.index() * 8) as u32);
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(vmctx);
        all.extend_from_slice(args);
        let call = builder.ins().call_indirect(sig, callee, &all);
        builder.inst_results(call).first().copied()
    }

    /// The signature and address of the runtime's `Throw` shim, `fn(vmctx, exnref)` with the
    /// `tail` convention: a `try_call` to it assumes every register clobbered on the
    /// exceptional edge, which is what the unwinder (which restores none) needs.
    pub fn throw_callee(&mut self, builder: &mut FunctionBuilder<'_>, vmctx: Value) -> (ir::SigRef, Value) {
        let ptr = self.pointer_type();
        let sig = *self.throw_sig.get_or_insert_with(|| {
            let mut sig = ir::Signature::new(CallConv::Tail);
            sig.params.push(AbiParam::new(ptr));
            sig.params.push(AbiParam::new(types::I64));
            builder.import_signature(sig)
        });
        let table = self.load_vmctx_ptr(builder, vmctx, VMOffsets::LIBCALLS);
        let callee = self.load_vmctx_ptr(builder, table, (Libcall::Throw.index() * 8) as u32);
        (sig, callee)
    }

    /// Calls a trapping libcall and traps if it reports a pending trap.
    pub fn call_trapping_libcall(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        vmctx: Value,
        libcall: Libcall,
        args: &[Value],
    ) {
        let status = self.call_libcall(builder, vmctx, libcall, args).expect("trapping libcalls return a status");
        builder.ins().trapnz(status, pending_trap_code());
    }

    /// Calls a grow libcall (`MemoryGrow`, `TableGrow`), returning the old size or -1, and
    /// traps if it returned [`GROW_TRAPPED`](weld_environ::GROW_TRAPPED) (the store's limiter
    /// made the failure a trap, which is pending).
    pub fn call_grow_libcall(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        vmctx: Value,
        libcall: Libcall,
        args: &[Value],
    ) -> Value {
        let old = self.call_libcall(builder, vmctx, libcall, args).expect("grow libcalls return the old size");
        let trapped = builder.ins().icmp_imm_u(ir::condcodes::IntCC::Equal, old, weld_environ::GROW_TRAPPED as i64);
        builder.ins().trapnz(trapped, pending_trap_code());
        old
    }
}

/// The trap code meaning "the runtime recorded which trap (or host error) is pending".
pub(crate) fn pending_trap_code() -> ir::TrapCode {
    ir::TrapCode::unwrap_user(weld_environ::Trap::HostError.code())
}

/// The trap code for a weld trap.
pub(crate) fn trap_code(trap: weld_environ::Trap) -> ir::TrapCode {
    ir::TrapCode::unwrap_user(trap.code())
}
