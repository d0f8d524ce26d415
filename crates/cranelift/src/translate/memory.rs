//! Linear memory: loads, stores, `memory.size`/`grow`/`fill`/`copy`/`init` and `data.drop`.
//!
//! A 32-bit memory normally lives in a 4 GiB reservation followed by a guard region, so an
//! access whose static offset fits in the guard needs no check: an out-of-bounds address faults
//! and the signal handler reports the trap. Memory64 memories, accesses with large offsets, and
//! every access when `explicit_bounds_checks` is set are checked against the current length.
//! A memory's base never moves (the runtime reserves its maximum), so it is loaded as readonly.

use super::FuncTranslator;
use super::env::trap_code;
use anyhow::Result;
use cranelift_codegen::ir::{self, InstBuilder, Value, condcodes::IntCC, types};
use wasmparser::{MemArg, Operator};
use weld_environ::{Libcall, MemoryIndex, Trap, memory_def, wasmparser};

/// How a load extends a narrow value.
#[derive(Clone, Copy)]
enum LoadExt {
    None,
    Signed,
    Unsigned,
}

impl FuncTranslator<'_, '_> {
    /// Translates a memory operator; returns false if `op` is not one.
    pub(super) fn translate_memory(&mut self, op: &Operator<'_>) -> Result<bool> {
        use LoadExt::{Signed, Unsigned};
        use types::{F32, F64, I32, I64};
        match *op {
            Operator::I32Load { memarg } => self.load(memarg, I32, I32, LoadExt::None),
            Operator::I64Load { memarg } => self.load(memarg, I64, I64, LoadExt::None),
            Operator::F32Load { memarg } => self.load(memarg, F32, F32, LoadExt::None),
            Operator::F64Load { memarg } => self.load(memarg, F64, F64, LoadExt::None),
            Operator::I32Load8S { memarg } => self.load(memarg, types::I8, I32, Signed),
            Operator::I32Load8U { memarg } => self.load(memarg, types::I8, I32, Unsigned),
            Operator::I32Load16S { memarg } => self.load(memarg, types::I16, I32, Signed),
            Operator::I32Load16U { memarg } => self.load(memarg, types::I16, I32, Unsigned),
            Operator::I64Load8S { memarg } => self.load(memarg, types::I8, I64, Signed),
            Operator::I64Load8U { memarg } => self.load(memarg, types::I8, I64, Unsigned),
            Operator::I64Load16S { memarg } => self.load(memarg, types::I16, I64, Signed),
            Operator::I64Load16U { memarg } => self.load(memarg, types::I16, I64, Unsigned),
            Operator::I64Load32S { memarg } => self.load(memarg, I32, I64, Signed),
            Operator::I64Load32U { memarg } => self.load(memarg, I32, I64, Unsigned),
            Operator::I32Store { memarg }
            | Operator::I64Store { memarg }
            | Operator::F32Store { memarg }
            | Operator::F64Store { memarg } => self.store(memarg, None),
            Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => self.store(memarg, Some(types::I8)),
            Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => self.store(memarg, Some(types::I16)),
            Operator::I64Store32 { memarg } => self.store(memarg, Some(I32)),
            Operator::MemorySize { mem } => {
                let mem = MemoryIndex::from_u32(mem);
                let def = self.memory_def(mem);
                let len =
                    self.builder.ins().load(I64, ir::MemFlagsData::trusted(), def, memory_def::CURRENT_LENGTH as i32);
                let pages = self.builder.ins().ushr_imm_u(len, 16);
                let v = self.narrow_index(mem, pages);
                self.stack.push(v);
            }
            Operator::MemoryGrow { mem } => {
                let delta = self.pop();
                self.interrupt_bulk_op(delta, 0);
                let mem = MemoryIndex::from_u32(mem);
                let delta = self.widen_index(mem, delta);
                let index = self.builder.ins().iconst(I32, i64::from(mem.as_u32()));
                let old =
                    self.env.call_grow_libcall(&mut self.builder, self.vmctx, Libcall::MemoryGrow, &[index, delta]);
                let v = self.narrow_index(mem, old);
                self.stack.push(v);
            }
            Operator::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                self.interrupt_bulk_op(len, 1);
                let m = MemoryIndex::from_u32(mem);
                let dst = self.widen_index(m, dst);
                let len = self.widen_index(m, len);
                let index = self.builder.ins().iconst(I32, i64::from(mem));
                self.env.call_trapping_libcall(
                    &mut self.builder,
                    self.vmctx,
                    Libcall::MemoryFill,
                    &[index, dst, val, len],
                );
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                self.interrupt_bulk_op(len, 1);
                let (d, s) = (MemoryIndex::from_u32(dst_mem), MemoryIndex::from_u32(src_mem));
                let dst = self.widen_index(d, dst);
                let src = self.widen_index(s, src);
                // The length has the narrower of the two index types.
                let len = if self.is_memory64(d) && self.is_memory64(s) {
                    len
                } else if self.builder.func.dfg.value_type(len) == I32 {
                    self.builder.ins().uextend(I64, len)
                } else {
                    len
                };
                let di = self.builder.ins().iconst(I32, i64::from(dst_mem));
                let si = self.builder.ins().iconst(I32, i64::from(src_mem));
                self.env.call_trapping_libcall(
                    &mut self.builder,
                    self.vmctx,
                    Libcall::MemoryCopy,
                    &[di, dst, si, src, len],
                );
            }
            Operator::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                self.interrupt_bulk_op(len, 1);
                let dst = self.widen_index(MemoryIndex::from_u32(mem), dst);
                let mi = self.builder.ins().iconst(I32, i64::from(mem));
                let di = self.builder.ins().iconst(I32, i64::from(data_index));
                self.env.call_trapping_libcall(
                    &mut self.builder,
                    self.vmctx,
                    Libcall::MemoryInit,
                    &[mi, di, dst, src, len],
                );
            }
            Operator::DataDrop { data_index } => {
                let di = self.builder.ins().iconst(I32, i64::from(data_index));
                self.env.call_libcall(&mut self.builder, self.vmctx, Libcall::DataDrop, &[di]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(super) fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    fn is_memory64(&self, mem: MemoryIndex) -> bool {
        self.env.module.memories[mem].memory64
    }

    /// Widens an index operand of memory `mem` to i64.
    fn widen_index(&mut self, mem: MemoryIndex, v: Value) -> Value {
        if self.is_memory64(mem) { v } else { self.builder.ins().uextend(types::I64, v) }
    }

    /// Narrows an i64 result to the index type of memory `mem`.
    fn narrow_index(&mut self, mem: MemoryIndex, v: Value) -> Value {
        if self.is_memory64(mem) { v } else { self.builder.ins().ireduce(types::I32, v) }
    }

    fn memory_def(&mut self, mem: MemoryIndex) -> Value {
        let off = self.env.offsets.memory(mem.as_u32());
        self.env.load_vmctx_ptr(&mut self.builder, self.vmctx, off)
    }

    /// The native address of an access of `size` bytes at `index + offset` in memory `mem`,
    /// with whatever bounds check the memory's configuration needs.
    pub(super) fn heap_address(&mut self, mem: MemoryIndex, index: Value, offset: u64, size: u32) -> Value {
        let def = self.memory_def(mem);
        let base_flags = ir::MemFlagsData::trusted().with_readonly().with_can_move();
        let base = self.builder.ins().load(types::I64, base_flags, def, memory_def::BASE as i32);
        let memory64 = self.is_memory64(mem);
        let index = self.widen_index(mem, index);
        let end_offset = offset.checked_add(u64::from(size));
        let guarded = !memory64
            && !self.env.config.explicit_bounds_checks
            && end_offset.is_some_and(|e| e <= self.env.config.guard_size);
        if !guarded {
            let Some(end_offset) = end_offset else {
                // The access can never be in bounds; `trapnz` (not `trap`) keeps the block open
                // for the instructions that follow.
                let always = self.builder.ins().iconst(types::I8, 1);
                self.builder.ins().trapnz(always, trap_code(Trap::MemoryOutOfBounds));
                return base;
            };
            let len = self.builder.ins().load(
                types::I64,
                ir::MemFlagsData::trusted(),
                def,
                memory_def::CURRENT_LENGTH as i32,
            );
            let end_offset = self.builder.ins().iconst(types::I64, end_offset as i64);
            let end = self.builder.ins().uadd_overflow_trap(index, end_offset, trap_code(Trap::MemoryOutOfBounds));
            let oob = self.builder.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
            self.builder.ins().trapnz(oob, trap_code(Trap::MemoryOutOfBounds));
        }
        let addr = self.builder.ins().iadd(base, index);
        if offset == 0 {
            addr
        } else if let Ok(o) = i64::try_from(offset) {
            self.builder.ins().iadd_imm_s(addr, o)
        } else {
            let o = self.builder.ins().iconst(types::I64, offset as i64);
            self.builder.ins().iadd(addr, o)
        }
    }

    pub(super) fn heap_flags() -> ir::MemFlagsData {
        ir::MemFlagsData::new()
            .with_endianness(ir::Endianness::Little)
            .with_trap_code(Some(trap_code(Trap::MemoryOutOfBounds)))
    }

    fn load(&mut self, memarg: MemArg, mem_ty: ir::Type, result: ir::Type, extend: LoadExt) {
        let index = self.pop();
        let addr = self.heap_address(memarg_memory(&memarg), index, memarg.offset, mem_ty.bytes());
        let flags = Self::heap_flags();
        let ins = self.builder.ins();
        let v = match (extend, mem_ty.bytes(), result) {
            (LoadExt::None, _, _) => ins.load(result, flags, addr, 0),
            (LoadExt::Signed, 1, _) => ins.sload8(result, flags, addr, 0),
            (LoadExt::Unsigned, 1, _) => ins.uload8(result, flags, addr, 0),
            (LoadExt::Signed, 2, _) => ins.sload16(result, flags, addr, 0),
            (LoadExt::Unsigned, 2, _) => ins.uload16(result, flags, addr, 0),
            (LoadExt::Signed, 4, _) => ins.sload32(flags, addr, 0),
            (LoadExt::Unsigned, 4, _) => ins.uload32(flags, addr, 0),
            _ => unreachable!("no such load"),
        };
        self.stack.push(v);
    }

    pub(super) fn store(&mut self, memarg: MemArg, narrow: Option<ir::Type>) {
        let value = self.pop();
        let index = self.pop();
        let size = narrow.unwrap_or_else(|| self.builder.func.dfg.value_type(value)).bytes();
        let addr = self.heap_address(memarg_memory(&memarg), index, memarg.offset, size);
        let flags = Self::heap_flags();
        let ins = self.builder.ins();
        match size {
            1 if narrow.is_some() => ins.istore8(flags, value, addr, 0),
            2 if narrow.is_some() => ins.istore16(flags, value, addr, 0),
            4 if narrow.is_some() => ins.istore32(flags, value, addr, 0),
            _ => ins.store(flags, value, addr, 0),
        };
    }
}

/// The memory a `MemArg` addresses (GC array targets are not supported and never validate here).
pub(super) fn memarg_memory(memarg: &MemArg) -> MemoryIndex {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(m) => MemoryIndex::from_u32(m),
        wasmparser::MemArgTarget::Array(_) => unreachable!("validated: GC arrays are disabled"),
    }
}
