//! The body of one adapter function under construction: its locals and instructions, and the
//! small sequences every part of the adapter needs (traps, flag checks, pointer arithmetic,
//! bounds and alignment checks, calls to `realloc`). Nothing here knows interface types.

use crate::module::ModuleBuilder;
use wasm_encoder::{BlockType, Function, Instruction, MemArg, MemArgTarget, ValType};
use weld_environ::Trap;
use weld_environ::component::adapt::{AdapterImport, AdapterLibcall};
use weld_environ::component::info::{RuntimeComponentInstanceIndex, RuntimeReallocIndex};

/// A local of the function being built.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Local {
    pub(crate) index: u32,
    pub(crate) ty: ValType,
}

/// A function body under construction.
pub(crate) struct FuncBuilder<'m> {
    pub(crate) module: &'m mut ModuleBuilder,
    num_params: u32,
    locals: Vec<ValType>,
    code: Vec<Instruction<'static>>,
}

/// A memory operand: `memory`, static `offset`, no alignment promise.
pub(crate) fn memarg(memory: u32, offset: u32) -> MemArg {
    MemArg { offset: u64::from(offset), align: 0, target: MemArgTarget::Memory(memory), ordering: None }
}

impl<'m> FuncBuilder<'m> {
    pub(crate) fn new(module: &'m mut ModuleBuilder, params: &[ValType]) -> Self {
        FuncBuilder { module, num_params: params.len() as u32, locals: Vec::new(), code: Vec::new() }
    }

    /// A fresh local of type `ty`.
    pub(crate) fn local(&mut self, ty: ValType) -> Local {
        self.locals.push(ty);
        Local { index: self.num_params + self.locals.len() as u32 - 1, ty }
    }

    /// Appends an instruction.
    pub(crate) fn ins(&mut self, i: Instruction<'static>) {
        self.code.push(i);
    }

    pub(crate) fn get(&mut self, l: Local) {
        self.ins(Instruction::LocalGet(l.index));
    }

    pub(crate) fn set(&mut self, l: Local) {
        self.ins(Instruction::LocalSet(l.index));
    }

    /// Pushes a constant of pointer type (`i64` when `wide`).
    pub(crate) fn ptr_const(&mut self, wide: bool, value: u64) {
        if wide {
            self.ins(Instruction::I64Const(value as i64));
        } else {
            self.ins(Instruction::I32Const(value as u32 as i32));
        }
    }

    /// Pushes the zero of `ty`.
    pub(crate) fn zero(&mut self, ty: ValType) {
        self.ins(match ty {
            ValType::I32 => Instruction::I32Const(0),
            ValType::I64 => Instruction::I64Const(0),
            ValType::F32 => Instruction::F32Const(0.0.into()),
            ValType::F64 => Instruction::F64Const(0.0.into()),
            other => unreachable!("adapters use no {other:?} values"),
        });
    }

    /// Converts the pointer on the stack to `i64` (zero-extending a 32-bit one).
    pub(crate) fn ptr_to_i64(&mut self, wide: bool) {
        self.convert_ptr(wide, true);
    }

    /// Converts the `i64` on the stack to a pointer (wrapping for a 32-bit memory; callers
    /// have checked that it fits).
    pub(crate) fn i64_to_ptr(&mut self, wide: bool) {
        self.convert_ptr(true, wide);
    }

    /// Converts a pointer-typed value between widths: zero-extends or wraps.
    pub(crate) fn convert_ptr(&mut self, from_wide: bool, to_wide: bool) {
        match (from_wide, to_wide) {
            (false, true) => self.ins(Instruction::I64ExtendI32U),
            (true, false) => self.ins(Instruction::I32WrapI64),
            _ => {}
        }
    }

    /// Pushes the byte size of `memory` as an `i64`.
    pub(crate) fn memory_bytes(&mut self, memory: u32, wide: bool) {
        self.ins(Instruction::MemorySize(memory));
        self.ptr_to_i64(wide);
        self.ins(Instruction::I64Const(16));
        self.ins(Instruction::I64Shl);
    }

    /// Raises `trap` (through the runtime's trap function).
    pub(crate) fn trap(&mut self, trap: Trap) {
        let f = self.module.import_func(AdapterImport::Libcall(AdapterLibcall::Trap), &[ValType::I32], &[]);
        self.ins(Instruction::I32Const(i32::from(trap.code())));
        self.ins(Instruction::Call(f));
        self.ins(Instruction::Unreachable);
    }

    /// Pops an `i32` condition and raises `trap` if it is non-zero.
    pub(crate) fn trap_if(&mut self, trap: Trap) {
        self.ins(Instruction::If(BlockType::Empty));
        self.trap(trap);
        self.ins(Instruction::End);
    }

    /// Traps with `trap` unless the pointer in `ptr` is a multiple of `align`.
    pub(crate) fn check_align(&mut self, ptr: Local, align: u32, trap: Trap) {
        if align <= 1 {
            return;
        }
        let wide = ptr.ty == ValType::I64;
        self.get(ptr);
        self.ptr_const(wide, u64::from(align - 1));
        if wide {
            self.ins(Instruction::I64And);
            self.ins(Instruction::I64Const(0));
            self.ins(Instruction::I64Ne);
        } else {
            self.ins(Instruction::I32And);
        }
        self.trap_if(trap);
    }

    /// Traps with `trap` if `[ptr, ptr + len)` is not inside `memory`, where `len` is the `i64`
    /// in local `len` (at most 2^32, so the sum cannot overflow once `ptr` is checked).
    pub(crate) fn check_range(&mut self, memory: u32, ptr: Local, len: Local, trap: Trap) {
        let wide = ptr.ty == ValType::I64;
        let bytes = self.local(ValType::I64);
        self.memory_bytes(memory, wide);
        self.set(bytes);
        // ptr > bytes || len > bytes - ptr
        self.get(ptr);
        self.ptr_to_i64(wide);
        self.get(bytes);
        self.ins(Instruction::I64GtU);
        self.get(len);
        self.get(bytes);
        self.get(ptr);
        self.ptr_to_i64(wide);
        self.ins(Instruction::I64Sub);
        self.ins(Instruction::I64GtU);
        self.ins(Instruction::I32Or);
        self.trap_if(trap);
    }

    /// Like [`FuncBuilder::check_range`] with a constant length.
    pub(crate) fn check_range_const(&mut self, memory: u32, ptr: Local, len: u32, trap: Trap) {
        let l = self.local(ValType::I64);
        self.ins(Instruction::I64Const(i64::from(len)));
        self.set(l);
        self.check_range(memory, ptr, l, trap);
    }

    /// The global holding `instance`'s flags.
    pub(crate) fn flags(&mut self, instance: RuntimeComponentInstanceIndex) -> u32 {
        self.module.import_global(AdapterImport::Flags(instance), ValType::I32)
    }

    /// Traps with `trap` unless flag `bit` of `instance` is set.
    pub(crate) fn check_flag(&mut self, instance: RuntimeComponentInstanceIndex, bit: i32, trap: Trap) {
        let g = self.flags(instance);
        self.ins(Instruction::GlobalGet(g));
        self.ins(Instruction::I32Const(bit));
        self.ins(Instruction::I32And);
        self.ins(Instruction::I32Eqz);
        self.trap_if(trap);
    }

    /// Sets (`on`) or clears flag `bit` of `instance`.
    pub(crate) fn set_flag(&mut self, instance: RuntimeComponentInstanceIndex, bit: i32, on: bool) {
        let g = self.flags(instance);
        self.ins(Instruction::GlobalGet(g));
        if on {
            self.ins(Instruction::I32Const(bit));
            self.ins(Instruction::I32Or);
        } else {
            self.ins(Instruction::I32Const(!bit));
            self.ins(Instruction::I32And);
        }
        self.ins(Instruction::GlobalSet(g));
    }

    /// Calls `realloc(0, 0, align, size)` of `instance` (with its `may_leave` flag cleared, as
    /// the spec's `reallocate` does), where `size` is in local `size` of pointer type, and
    /// returns the new pointer in a fresh local.
    pub(crate) fn allocate(
        &mut self,
        realloc: RuntimeReallocIndex,
        instance: RuntimeComponentInstanceIndex,
        align: u32,
        size: Local,
    ) -> Local {
        let ptr = size.ty;
        let f = self.module.import_func(AdapterImport::Realloc(realloc), &[ptr, ptr, ptr, ptr], &[ptr]);
        let wide = ptr == ValType::I64;
        self.set_flag(instance, weld_environ::component::adapt::FLAG_MAY_LEAVE, false);
        self.ptr_const(wide, 0);
        self.ptr_const(wide, 0);
        self.ptr_const(wide, u64::from(align));
        self.get(size);
        self.ins(Instruction::Call(f));
        let out = self.local(ptr);
        self.set(out);
        self.set_flag(instance, weld_environ::component::adapt::FLAG_MAY_LEAVE, true);
        out
    }

    /// The finished body.
    pub(crate) fn finish(self) -> Function {
        let mut f = Function::new_with_locals_types(self.locals);
        for i in &self.code {
            f.instruction(i);
        }
        f.instruction(&Instruction::End);
        f
    }
}
