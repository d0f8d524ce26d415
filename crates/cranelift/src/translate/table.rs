//! Tables and references: `table.get`/`set`/`size`/`grow`/`fill`/`copy`/`init`, `elem.drop`,
//! `ref.null`, `ref.is_null` and `ref.func`.
//!
//! A funcref is the address of a `VMFuncRef` (null is 0); an externref is an opaque 64-bit
//! handle (null is 0). `table.get`, `table.set` and `table.size` are inline; the rest are
//! libcalls.

use super::FuncTranslator;
use super::env::trap_code;
use anyhow::Result;
use cranelift_codegen::ir::{self, InstBuilder, Value, condcodes::IntCC, types};
use wasmparser::Operator;
use weld_environ::{Libcall, TableIndex, Trap, table_def, wasmparser};

impl FuncTranslator<'_, '_> {
    /// Translates a table or reference operator; returns false if `op` is not one.
    pub(super) fn translate_table(&mut self, op: &Operator<'_>) -> Result<bool> {
        use types::{I32, I64};
        match *op {
            Operator::RefNull { .. } => {
                let v = self.builder.ins().iconst(I64, 0);
                self.stack.push(v);
            }
            Operator::RefIsNull => {
                let r = self.pop();
                let is_null = self.builder.ins().icmp_imm_u(IntCC::Equal, r, 0);
                let v = self.builder.ins().uextend(I32, is_null);
                self.stack.push(v);
            }
            Operator::RefFunc { function_index } => {
                let off = self.env.offsets.func_ref(function_index);
                let v = self.builder.ins().iadd_imm_u(self.vmctx, i64::from(off));
                self.stack.push(v);
            }
            Operator::TableGet { table } => {
                let index = self.pop();
                let addr = self.table_element_address(TableIndex::from_u32(table), index);
                let v = self.builder.ins().load(I64, ir::MemFlagsData::trusted(), addr, 0);
                self.stack.push(v);
            }
            Operator::TableSet { table } => {
                let value = self.pop();
                let index = self.pop();
                let addr = self.table_element_address(TableIndex::from_u32(table), index);
                self.builder.ins().store(ir::MemFlagsData::trusted(), value, addr, 0);
            }
            Operator::TableSize { table } => {
                let def = self.table_def(TableIndex::from_u32(table));
                let len =
                    self.builder.ins().load(I64, ir::MemFlagsData::trusted(), def, table_def::CURRENT_ELEMENTS as i32);
                let v = self.narrow_table_index(TableIndex::from_u32(table), len);
                self.stack.push(v);
            }
            Operator::TableGrow { table } => {
                let delta = self.pop();
                let init = self.pop();
                self.interrupt_bulk_op(delta, 1);
                let t = TableIndex::from_u32(table);
                let delta = self.widen_table_index(t, delta);
                let ti = self.builder.ins().iconst(I32, i64::from(table));
                let old =
                    self.env.call_grow_libcall(&mut self.builder, self.vmctx, Libcall::TableGrow, &[ti, init, delta]);
                let v = self.narrow_table_index(t, old);
                self.stack.push(v);
            }
            Operator::TableFill { table } => {
                let (dst, value, len) = self.pop3();
                self.interrupt_bulk_op(len, 1);
                let t = TableIndex::from_u32(table);
                let dst = self.widen_table_index(t, dst);
                let len = self.widen_table_index(t, len);
                let ti = self.builder.ins().iconst(I32, i64::from(table));
                self.env.call_trapping_libcall(
                    &mut self.builder,
                    self.vmctx,
                    Libcall::TableFill,
                    &[ti, dst, value, len],
                );
            }
            Operator::TableCopy { dst_table, src_table } => {
                let (dst, src, len) = self.pop3();
                self.interrupt_bulk_op(len, 1);
                let dst = self.widen_table_index(TableIndex::from_u32(dst_table), dst);
                let src = self.widen_table_index(TableIndex::from_u32(src_table), src);
                let len = if self.builder.func.dfg.value_type(len) == I32 {
                    self.builder.ins().uextend(I64, len)
                } else {
                    len
                };
                let d = self.builder.ins().iconst(I32, i64::from(dst_table));
                let s = self.builder.ins().iconst(I32, i64::from(src_table));
                self.env.call_trapping_libcall(
                    &mut self.builder,
                    self.vmctx,
                    Libcall::TableCopy,
                    &[d, s, dst, src, len],
                );
            }
            Operator::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                self.interrupt_bulk_op(len, 1);
                let dst = self.widen_table_index(TableIndex::from_u32(table), dst);
                let t = self.builder.ins().iconst(I32, i64::from(table));
                let e = self.builder.ins().iconst(I32, i64::from(elem_index));
                self.env.call_trapping_libcall(
                    &mut self.builder,
                    self.vmctx,
                    Libcall::TableInit,
                    &[t, e, dst, src, len],
                );
            }
            Operator::ElemDrop { elem_index } => {
                let e = self.builder.ins().iconst(I32, i64::from(elem_index));
                self.env.call_libcall(&mut self.builder, self.vmctx, Libcall::ElemDrop, &[e]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn is_table64(&self, t: TableIndex) -> bool {
        self.env.module.tables[t].ty.table64
    }

    fn widen_table_index(&mut self, t: TableIndex, v: Value) -> Value {
        if self.is_table64(t) { v } else { self.builder.ins().uextend(types::I64, v) }
    }

    fn narrow_table_index(&mut self, t: TableIndex, v: Value) -> Value {
        if self.is_table64(t) { v } else { self.builder.ins().ireduce(types::I32, v) }
    }

    fn table_def(&mut self, t: TableIndex) -> Value {
        let off = self.env.offsets.table(t.as_u32());
        self.env.load_vmctx_ptr(&mut self.builder, self.vmctx, off)
    }

    /// The address of element `index` of table `t`, trapping when out of bounds.
    fn table_element_address(&mut self, t: TableIndex, index: Value) -> Value {
        let def = self.table_def(t);
        let index = self.widen_table_index(t, index);
        let len =
            self.builder.ins().load(types::I64, ir::MemFlagsData::trusted(), def, table_def::CURRENT_ELEMENTS as i32);
        let oob = self.builder.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.builder.ins().trapnz(oob, trap_code(Trap::TableOutOfBounds));
        let base = self.builder.ins().load(types::I64, ir::MemFlagsData::trusted(), def, table_def::BASE as i32);
        let offset = self.builder.ins().imul_imm_u(index, i64::from(table_def::ELEMENT_SIZE));
        self.builder.ins().iadd(base, offset)
    }
}
