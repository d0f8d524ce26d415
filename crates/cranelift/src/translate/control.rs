//! Control flow and calls: `block`, `loop`, `if`/`else`, `end`, branches, `return`,
//! `unreachable`, `call` and `call_indirect`. Also the skipping of unreachable code.

use super::env::trap_code;
use super::exceptions::Callee;
use super::{ControlFrame, FrameKind, FuncTranslator, block_args, ir_type};
use anyhow::Result;
use cranelift_codegen::ir::{self, InstBuilder, Value, condcodes::IntCC, types};
use wasmparser::{BlockType, Operator};
use weld_environ::{FuncIndex, TableIndex, Trap, TypeIndex, VMOffsets, ValType, func_ref, table_def, wasmparser};

impl FuncTranslator<'_, '_> {
    pub(super) fn block_signature(&self, ty: BlockType) -> Result<(Vec<ir::Type>, Vec<ir::Type>)> {
        Ok(match ty {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![ir_type(ValType::from_wasmparser(t)?)]),
            BlockType::FuncType(i) => {
                let f = &self.env.module.types[TypeIndex::from_u32(i)];
                (f.params.iter().map(|t| ir_type(*t)).collect(), f.results.iter().map(|t| ir_type(*t)).collect())
            }
        })
    }

    pub(super) fn new_block_with_params(&mut self, params: &[ir::Type]) -> ir::Block {
        let b = self.builder.create_block();
        for p in params {
            self.builder.append_block_param(b, *p);
        }
        b
    }

    /// Translates a control operator; returns false if `op` is not one.
    pub(super) fn translate_control(&mut self, op: &Operator<'_>) -> Result<bool> {
        match *op {
            Operator::Block { blockty } => {
                let (params, results) = self.block_signature(blockty)?;
                let destination = self.new_block_with_params(&results);
                self.push_frame(FrameKind::Block, destination, params.len(), results.len());
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_signature(blockty)?;
                let header = self.new_block_with_params(&params);
                let destination = self.new_block_with_params(&results);
                let args = block_args(self.peekn(params.len()));
                self.builder.ins().jump(header, &args);
                self.builder.switch_to_block(header);
                let n = params.len();
                self.popn(n);
                self.stack.extend_from_slice(self.builder.block_params(header));
                self.push_frame(FrameKind::Loop { header }, destination, n, results.len());
                self.interrupt_loop_header();
            }
            Operator::If { blockty } => {
                let cond = self.pop();
                let (params, results) = self.block_signature(blockty)?;
                let destination = self.new_block_with_params(&results);
                let then_block = self.builder.create_block();
                let else_block = self.builder.create_block();
                self.builder.ins().brif(cond, then_block, &[], else_block, &[]);
                self.builder.seal_block(then_block);
                self.builder.seal_block(else_block);
                self.builder.switch_to_block(then_block);
                let saved = self.peekn(params.len()).to_vec();
                self.push_frame(
                    FrameKind::If { else_block, else_seen: false, params: saved },
                    destination,
                    params.len(),
                    results.len(),
                );
            }
            Operator::Else => self.translate_else(),
            Operator::End => self.translate_end(),
            Operator::Br { relative_depth } => {
                self.branch(relative_depth);
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                let (target, n) = self.frame_target(relative_depth);
                let args = block_args(self.peekn(n));
                let next = self.builder.create_block();
                self.builder.ins().brif(cond, target, &args, next, &[]);
                self.builder.seal_block(next);
                self.builder.switch_to_block(next);
            }
            Operator::BrTable { ref targets } => {
                let index = self.pop();
                let mut calls = Vec::with_capacity(targets.len() as usize);
                let mut default = None;
                let depths: Vec<u32> = targets.targets().collect::<Result<_, _>>()?;
                for depth in depths.iter().copied().chain(std::iter::once(targets.default())) {
                    let (block, n) = self.frame_target(depth);
                    let args = block_args(self.peekn(n));
                    let call = self.builder.func.dfg.block_call(block, &args);
                    if calls.len() < depths.len() {
                        calls.push(call);
                    } else {
                        default = Some(call);
                    }
                }
                let jt = self.builder.create_jump_table(ir::JumpTableData::new(default.unwrap(), &calls));
                self.builder.ins().br_table(index, jt);
                self.reachable = false;
            }
            Operator::Return => {
                let n = self.control[0].num_results;
                let rets = self.peekn(n).to_vec();
                self.builder.ins().return_(&rets);
                self.reachable = false;
            }
            Operator::Unreachable => {
                self.builder.ins().trap(trap_code(Trap::UnreachableCodeReached));
                self.reachable = false;
            }
            Operator::Call { function_index } => self.call(FuncIndex::from_u32(function_index), false),
            Operator::CallIndirect { type_index, table_index } => {
                self.call_indirect(TypeIndex::from_u32(type_index), TableIndex::from_u32(table_index), false)
            }
            Operator::CallRef { type_index } => self.call_ref(TypeIndex::from_u32(type_index), false),
            Operator::ReturnCall { function_index } => self.call(FuncIndex::from_u32(function_index), true),
            Operator::ReturnCallIndirect { type_index, table_index } => {
                self.call_indirect(TypeIndex::from_u32(type_index), TableIndex::from_u32(table_index), true)
            }
            Operator::ReturnCallRef { type_index } => self.call_ref(TypeIndex::from_u32(type_index), true),
            Operator::RefAsNonNull => {
                let v = *self.stack.last().unwrap();
                self.builder.ins().trapz(v, trap_code(Trap::NullReference));
            }
            Operator::BrOnNull { relative_depth } => {
                let r = self.pop();
                let (target, n) = self.frame_target(relative_depth);
                let args = block_args(self.peekn(n));
                let next = self.builder.create_block();
                self.builder.ins().brif(r, next, &[], target, &args);
                self.builder.seal_block(next);
                self.builder.switch_to_block(next);
                self.stack.push(r);
            }
            Operator::BrOnNonNull { relative_depth } => {
                let r = *self.stack.last().unwrap();
                let (target, n) = self.frame_target(relative_depth);
                let args = block_args(self.peekn(n));
                let next = self.builder.create_block();
                self.builder.ins().brif(r, target, &args, next, &[]);
                self.builder.seal_block(next);
                self.builder.switch_to_block(next);
                self.pop();
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(super) fn push_frame(
        &mut self,
        kind: FrameKind,
        destination: ir::Block,
        num_params: usize,
        num_results: usize,
    ) {
        let stack_base = self.stack.len() - num_params;
        let chain = self.control.last().and_then(|f| f.chain);
        self.control.push(ControlFrame {
            kind,
            destination,
            num_params,
            num_results,
            stack_base,
            exit_branched: false,
            reachable_at_start: true,
            chain,
        });
    }

    /// The block a branch of `depth` goes to and its arity; marks the frame as branched to.
    pub(super) fn frame_target(&mut self, depth: u32) -> (ir::Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[i];
        if !matches!(frame.kind, FrameKind::Loop { .. }) {
            frame.exit_branched = true;
        }
        frame.branch_target()
    }

    fn branch(&mut self, depth: u32) {
        let (target, n) = self.frame_target(depth);
        let args = block_args(self.peekn(n));
        self.builder.ins().jump(target, &args);
    }

    /// Ends one arm of the innermost frame (an `if`'s then-arm, a legacy `try`'s body or
    /// clause): jumps to the frame's end with its results if the arm's end is reachable, and
    /// drops the arm's operands.
    pub(super) fn end_arm(&mut self) {
        let frame = self.control.last_mut().unwrap();
        let (destination, n, base) = (frame.destination, frame.num_results, frame.stack_base);
        if self.reachable {
            frame.exit_branched = true;
            let args = block_args(self.peekn(n));
            self.builder.ins().jump(destination, &args);
        }
        self.stack.truncate(base);
    }

    fn translate_else(&mut self) {
        self.end_arm();
        let frame = self.control.last_mut().unwrap();
        let FrameKind::If { else_block, ref mut else_seen, ref params } = frame.kind else {
            unreachable!("validated: else without if")
        };
        *else_seen = true;
        let params = params.clone();
        let start = frame.reachable_at_start;
        self.stack.extend_from_slice(&params);
        self.builder.switch_to_block(else_block);
        self.reachable = start;
    }

    pub(super) fn translate_end(&mut self) {
        let frame = self.control.pop().unwrap();
        let mut exit_reachable = frame.exit_branched;
        if self.reachable {
            let args = block_args(self.peekn(frame.num_results));
            self.builder.ins().jump(frame.destination, &args);
            exit_reachable = true;
        }
        match frame.kind {
            FrameKind::If { else_block, else_seen: false, ref params } => {
                // No else: the false edge carries the parameters through as results.
                self.builder.switch_to_block(else_block);
                let args = block_args(params);
                self.builder.ins().jump(frame.destination, &args);
                exit_reachable |= frame.reachable_at_start;
            }
            FrameKind::Loop { header } => self.builder.seal_block(header),
            _ => {}
        }
        self.builder.switch_to_block(frame.destination);
        self.builder.seal_block(frame.destination);
        self.stack.truncate(frame.stack_base);
        self.stack.extend_from_slice(self.builder.block_params(frame.destination));
        self.reachable = exit_reachable;
        if let FrameKind::TryTable { scope } = frame.kind {
            self.finish_try_table(scope, frame.destination);
        }
    }

    /// Skips an operator in unreachable code, keeping track of nesting.
    pub(super) fn translate_unreachable(&mut self, op: &Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::Try { .. }
            | Operator::TryTable { .. } => self.unreachable_depth += 1,
            Operator::Else if self.unreachable_depth == 0 => self.translate_else(),
            Operator::End | Operator::Delegate { .. } if self.unreachable_depth > 0 => self.unreachable_depth -= 1,
            Operator::End | Operator::Delegate { .. } => self.translate_end(),
            Operator::Catch { .. } | Operator::CatchAll if self.unreachable_depth == 0 => {
                self.translate_exception(op, None)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Emits a call (or a tail call when `tail`), pushing the results of a normal call.
    fn finish_call(
        &mut self,
        tail: bool,
        sig: ir::SigRef,
        code: Option<Value>,
        fref: Option<ir::FuncRef>,
        args: Vec<Value>,
    ) {
        match (tail, code, fref) {
            (true, Some(code), _) => {
                self.builder.ins().return_call_indirect(sig, code, &args);
                self.reachable = false;
            }
            (true, None, Some(fref)) => {
                self.builder.ins().return_call(fref, &args);
                self.reachable = false;
            }
            (false, Some(code), _) => {
                let results = self.emit_call(sig, Callee::Indirect(code), &args);
                self.stack.extend(results);
            }
            (false, None, Some(fref)) => {
                let results = self.emit_call(sig, Callee::Direct(fref), &args);
                self.stack.extend(results);
            }
            _ => unreachable!("a call has a callee"),
        }
    }

    /// Calls the (non-null) `VMFuncRef` at address `funcref`, of type `ty`.
    fn call_funcref(&mut self, funcref: Value, ty: TypeIndex, args: Vec<Value>, tail: bool) {
        let code =
            self.builder.ins().load(types::I64, ir::MemFlagsData::trusted(), funcref, func_ref::WASM_CALL as i32);
        let callee_vmctx =
            self.builder.ins().load(types::I64, ir::MemFlagsData::trusted(), funcref, func_ref::VMCTX as i32);
        let sig = self.env.sig_ref(&mut self.builder, ty);
        let mut all = vec![callee_vmctx, self.vmctx];
        all.extend(args);
        self.finish_call(tail, sig, Some(code), None, all);
    }

    fn call_ref(&mut self, ty: TypeIndex, tail: bool) {
        let funcref = self.pop();
        let n = self.env.module.types[ty].params.len();
        let args = self.popn(n);
        self.builder.ins().trapz(funcref, trap_code(Trap::NullFunctionReference));
        self.call_funcref(funcref, ty, args, tail);
    }

    fn call(&mut self, f: FuncIndex, tail: bool) {
        let module = self.env.module;
        let ty_index = module.functions[f];
        let n = module.types[ty_index].params.len();
        let args = self.popn(n);
        let sig = self.env.sig_ref(&mut self.builder, ty_index);
        if module.is_imported_func(f) {
            let base = self.env.offsets.func_ref(f.as_u32());
            let code = self.env.load_vmctx_ptr(&mut self.builder, self.vmctx, base + func_ref::WASM_CALL);
            let callee_vmctx = self.env.load_vmctx_ptr(&mut self.builder, self.vmctx, base + func_ref::VMCTX);
            let mut all = vec![callee_vmctx, self.vmctx];
            all.extend(args);
            self.finish_call(tail, sig, Some(code), None, all);
        } else {
            let fref = self.env.direct_func_ref(&mut self.builder, f.as_u32(), ty_index);
            let mut all = vec![self.vmctx, self.vmctx];
            all.extend(args);
            self.finish_call(tail, sig, None, Some(fref), all);
        }
    }

    fn call_indirect(&mut self, ty: TypeIndex, table: TableIndex, tail: bool) {
        let index = self.pop();
        let n = self.env.module.types[ty].params.len();
        let args = self.popn(n);
        let table64 = self.env.module.tables[table].ty.table64;
        let def = self.env.load_vmctx_ptr(&mut self.builder, self.vmctx, self.env.offsets.table(table.as_u32()));
        let index = if table64 { index } else { self.builder.ins().uextend(types::I64, index) };
        let len =
            self.builder.ins().load(types::I64, ir::MemFlagsData::trusted(), def, table_def::CURRENT_ELEMENTS as i32);
        let oob = self.builder.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.builder.ins().trapnz(oob, trap_code(Trap::TableOutOfBounds));
        let base = self.builder.ins().load(types::I64, ir::MemFlagsData::trusted(), def, table_def::BASE as i32);
        let offset = self.builder.ins().imul_imm_u(index, i64::from(table_def::ELEMENT_SIZE));
        let addr = self.builder.ins().iadd(base, offset);
        let funcref = self.builder.ins().load(types::I64, ir::MemFlagsData::trusted(), addr, 0);
        self.builder.ins().trapz(funcref, trap_code(Trap::IndirectCallToNull));
        let actual =
            self.builder.ins().load(types::I32, ir::MemFlagsData::trusted(), funcref, func_ref::TYPE_ID as i32);
        let ids = self.env.load_vmctx_ptr(&mut self.builder, self.vmctx, VMOffsets::TYPE_IDS);
        let flags = ir::MemFlagsData::trusted().with_readonly().with_can_move();
        let expected = self.builder.ins().load(types::I32, flags, ids, (ty.as_u32() * 4) as i32);
        let mismatch = self.builder.ins().icmp(IntCC::NotEqual, actual, expected);
        self.builder.ins().trapnz(mismatch, trap_code(Trap::BadSignature));
        self.call_funcref(funcref, ty, args, tail);
    }
}
