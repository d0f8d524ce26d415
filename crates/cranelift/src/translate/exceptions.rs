//! Exception handling: `throw`, `throw_ref`, `try_table` and the legacy `try`/`catch`/
//! `catch_all`/`delegate`/`rethrow`, on Cranelift's `try_call`.
//!
//! Every call made inside a handler's scope is a `try_call` whose exception table lists the
//! handlers in effect, innermost first: a `Context` item with the function's `vmctx`, then one
//! `Tag` item per `catch` (its tag given as the offset of the tag's slot in the `vmctx`, so the
//! runtime reads the tag's identity without knowing the module) and a `Default` item for a
//! catch-all (nothing after it can match). The runtime's unwinder (`vm/unwind.rs`) walks the
//! frames from the throw, checks each call site's list in order and resumes at the first match
//! with the exception's `exnref` in the first payload register. Throwing is itself a call (the
//! runtime's `Throw` through an assembly shim), so a throw inside a handler's scope in the same
//! function takes the same path.
//!
//! Handler scopes form a tree (`HandlerScope::parent`): each control frame records the
//! innermost scope in effect in its body, so `delegate` (whose body uses the handlers of an
//! outer label) and legacy `catch` bodies (which use the handlers outside their `try`) need no
//! copying. The clauses of a legacy `try` come after its body, so they are read ahead when the
//! `try` is met (`handlers::scan_legacy_try`).
//!
//! A handler's landing block takes the `exnref`. For `catch`/`catch_all` the runtime copies
//! the payload out and frees the exception (`ExnTakePayload`); `catch_ref`/`catch_all_ref`
//! and legacy clauses whose body may `rethrow` keep it (`ExnKeep`), as the `exnref` may live on.

use super::env::trap_code;
use super::handlers::{Clause, ClauseAction, HandlerScope, LegacyClauses, scan_legacy_try};
use super::{FrameKind, FuncTranslator, block_args, ir_type};
use anyhow::{Result, bail};
use cranelift_codegen::ir::{self, BlockArg, ExceptionTableData, ExceptionTableItem, InstBuilder, Value, types};
use wasmparser::{Catch, Operator, OperatorsReader};
use weld_environ::{Libcall, TagIndex, Trap, VAL_RAW_SIZE, wasmparser};

impl FuncTranslator<'_, '_> {
    /// The innermost handler scope in effect at this point.
    fn current_chain(&self) -> Option<usize> {
        self.control.last().and_then(|f| f.chain)
    }

    /// The exception-table items of a call made here, marking the clauses they use; empty
    /// when no handler is in effect.
    pub(super) fn exception_items(&mut self) -> Vec<ExceptionTableItem> {
        let mut items = Vec::new();
        let mut scope = self.current_chain();
        while let Some(s) = scope {
            for c in &mut self.scopes[s].clauses {
                if items.is_empty() {
                    items.push(ExceptionTableItem::Context(self.vmctx));
                }
                c.used = true;
                let call = self.builder.func.dfg.block_call(c.landing, &[BlockArg::TryCallExn(0)]);
                match c.tag {
                    Some(tag) => {
                        let slot = self.env.offsets.tag(tag.as_u32());
                        items.push(ExceptionTableItem::Tag(ir::ExceptionTag::from_u32(slot), call));
                    }
                    None => {
                        items.push(ExceptionTableItem::Default(call));
                        return items;
                    }
                }
            }
            scope = self.scopes[s].parent;
        }
        items
    }

    /// Emits a call to `callee` (a direct reference or an address) of signature `sig`, as a
    /// `try_call` if handlers are in effect; returns its results.
    pub(super) fn emit_call(&mut self, sig: ir::SigRef, callee: Callee, args: &[Value]) -> Vec<Value> {
        let items = self.exception_items();
        if items.is_empty() {
            let call = match callee {
                Callee::Direct(f) => self.builder.ins().call(f, args),
                Callee::Indirect(code) => self.builder.ins().call_indirect(sig, code, args),
            };
            return self.builder.inst_results(call).to_vec();
        }
        let returns: Vec<ir::Type> =
            self.builder.func.dfg.signatures[sig].returns.iter().map(|r| r.value_type).collect();
        let cont = self.builder.create_block();
        let rets: Vec<BlockArg> = (0..returns.len() as u32).map(BlockArg::TryCallRet).collect();
        for t in &returns {
            self.builder.append_block_param(cont, *t);
        }
        let normal = self.builder.func.dfg.block_call(cont, &rets);
        let table = ExceptionTableData::new(sig, normal, items);
        let table = self.builder.func.dfg.exception_tables.push(table);
        match callee {
            Callee::Direct(f) => self.builder.ins().try_call(f, args, table),
            Callee::Indirect(code) => self.builder.ins().try_call_indirect(code, args, table),
        };
        self.builder.seal_block(cont);
        self.builder.switch_to_block(cont);
        self.builder.block_params(cont).to_vec()
    }

    /// Translates an exception operator; returns false if `op` is not one.
    pub(super) fn translate_exception(
        &mut self,
        op: &Operator<'_>,
        ahead: Option<&OperatorsReader<'_>>,
    ) -> Result<bool> {
        match *op {
            Operator::Throw { tag_index } => {
                let tag = TagIndex::from_u32(tag_index);
                let n = self.env.module.tag_payload(tag).len();
                let payload = self.popn(n);
                let buffer = self.value_buffer(&payload);
                let index = self.builder.ins().iconst(types::I32, i64::from(tag_index));
                let exn = self.env.call_libcall(&mut self.builder, self.vmctx, Libcall::ExnNew, &[index, buffer]);
                let exn = exn.expect("ExnNew returns the exnref");
                self.builder.ins().trapz(exn, super::pending_trap());
                self.throw_exnref(exn);
            }
            Operator::ThrowRef => {
                let exn = self.pop();
                self.builder.ins().trapz(exn, trap_code(Trap::NullReference));
                self.throw_exnref(exn);
            }
            Operator::TryTable { ref try_table } => {
                let (params, results) = self.block_signature(try_table.ty)?;
                let destination = self.new_block_with_params(&results);
                let mut clauses = Vec::with_capacity(try_table.catches.len());
                for catch in &try_table.catches {
                    let (tag, label, with_ref) = match *catch {
                        Catch::One { tag, label } => (Some(TagIndex::from_u32(tag)), label, false),
                        Catch::OneRef { tag, label } => (Some(TagIndex::from_u32(tag)), label, true),
                        Catch::All { label } => (None, label, false),
                        Catch::AllRef { label } => (None, label, true),
                    };
                    let landing = self.new_block_with_params(&[types::I64]);
                    clauses.push(Clause {
                        tag,
                        landing,
                        used: false,
                        action: ClauseAction::Branch { label, with_ref },
                    });
                }
                let scope = self.push_scope(clauses);
                self.push_frame(FrameKind::TryTable { scope }, destination, params.len(), results.len());
                self.control.last_mut().unwrap().chain = Some(scope);
            }
            Operator::Try { blockty } => {
                let (params, results) = self.block_signature(blockty)?;
                let destination = self.new_block_with_params(&results);
                let ahead = ahead.expect("the translation loop reads legacy `try` clauses ahead").clone();
                let outer = self.current_chain();
                match scan_legacy_try(ahead)? {
                    LegacyClauses::Delegate(label) => {
                        // The body uses the handlers in effect inside the label's frame.
                        // Read ahead of the validator, which has not seen the `delegate` yet.
                        let Some(target) = (self.control.len() - 1).checked_sub(label as usize) else {
                            bail!("unknown label: `delegate {label}` names no enclosing block");
                        };
                        let chain = self.control[target].chain;
                        self.push_frame(FrameKind::Block, destination, params.len(), results.len());
                        self.control.last_mut().unwrap().chain = chain;
                    }
                    LegacyClauses::Catches(catches) => {
                        // Read ahead of the validator too: it checks these tags only when it
                        // reaches each `catch`, after the body that the tags' handlers cover.
                        let num_tags = self.env.module.tags.len();
                        if let Some(tag) = catches.iter().filter_map(|c| c.0).find(|t| *t as usize >= num_tags) {
                            bail!("unknown tag {tag}: `catch {tag}` names a tag the module does not have");
                        }
                        let clauses = catches
                            .iter()
                            .map(|&(tag, keep)| Clause {
                                tag: tag.map(TagIndex::from_u32),
                                landing: self.new_block_with_params(&[types::I64]),
                                used: false,
                                action: ClauseAction::LegacyBody { keep },
                            })
                            .collect();
                        let scope = self.push_scope(clauses);
                        let exn = self.builder.declare_var(types::I64);
                        let zero = self.builder.ins().iconst(types::I64, 0);
                        self.builder.def_var(exn, zero);
                        let kind = FrameKind::LegacyTry { scope, next_clause: 0, outer, exn };
                        self.push_frame(kind, destination, params.len(), results.len());
                        self.control.last_mut().unwrap().chain = Some(scope);
                    }
                }
            }
            Operator::Catch { .. } | Operator::CatchAll => self.translate_legacy_catch(),
            Operator::Delegate { .. } => self.translate_end(),
            Operator::Rethrow { relative_depth } => {
                let i = self.control.len() - 1 - relative_depth as usize;
                let FrameKind::LegacyTry { exn, .. } = self.control[i].kind else {
                    unreachable!("validated: rethrow names a catch clause")
                };
                let exn = self.builder.use_var(exn);
                self.throw_exnref(exn);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn push_scope(&mut self, clauses: Vec<Clause>) -> usize {
        let parent = self.current_chain();
        self.scopes.push(HandlerScope { parent, clauses });
        self.scopes.len() - 1
    }

    /// A stack buffer of `n` value slots (`ValRaw`s, as the runtime reads and writes them)
    /// and its address.
    fn value_slots(&mut self, n: usize) -> (ir::StackSlot, Value) {
        let size = n.max(1) as u32 * VAL_RAW_SIZE;
        let slot =
            self.builder.create_sized_stack_slot(ir::StackSlotData::new(ir::StackSlotKind::ExplicitSlot, size, 4));
        (slot, self.builder.ins().stack_addr(self.env.pointer_type(), slot, 0))
    }

    /// Stores `values` in a stack buffer of value slots and returns its address.
    fn value_buffer(&mut self, values: &[Value]) -> Value {
        let (slot, addr) = self.value_slots(values.len());
        let ptr = self.env.pointer_type();
        for (i, v) in values.iter().enumerate() {
            self.builder.ins().stack_store(ptr, *v, slot, (i as u32 * VAL_RAW_SIZE) as i32);
        }
        addr
    }

    /// Throws `exn` (not null) through the runtime; what follows is unreachable.
    fn throw_exnref(&mut self, exn: Value) {
        let (sig, callee) = self.env.throw_callee(&mut self.builder, self.vmctx);
        self.emit_call(sig, Callee::Indirect(callee), &[self.vmctx, exn]);
        self.builder.ins().trap(trap_code(Trap::UnreachableCodeReached));
        self.reachable = false;
    }

    /// The payload of the exception of a landing block for `tag`, taken (and the exception
    /// freed) unless `keep`.
    fn landing_payload(&mut self, tag: Option<TagIndex>, exn: Value, keep: bool) -> Vec<Value> {
        let Some(tag) = tag else {
            if keep {
                self.env.call_libcall(&mut self.builder, self.vmctx, Libcall::ExnKeep, &[exn]);
            } else {
                let none = self.builder.ins().iconst(self.env.pointer_type(), 0);
                self.env.call_libcall(&mut self.builder, self.vmctx, Libcall::ExnTakePayload, &[exn, none]);
            }
            return Vec::new();
        };
        let types: Vec<ir::Type> = self.env.module.tag_payload(tag).iter().map(|t| ir_type(*t)).collect();
        let flags = ir::MemFlagsData::trusted();
        let base = if keep {
            self.env.call_libcall(&mut self.builder, self.vmctx, Libcall::ExnKeep, &[exn]).expect("ExnKeep returns")
        } else {
            let (_, out) = self.value_slots(types.len());
            self.env.call_libcall(&mut self.builder, self.vmctx, Libcall::ExnTakePayload, &[exn, out]);
            out
        };
        let offset = |i: usize| (i as u32 * VAL_RAW_SIZE) as i32;
        types.iter().enumerate().map(|(i, t)| self.builder.ins().load(*t, flags, base, offset(i))).collect()
    }

    /// Fills the landing blocks of a `try_table` that just ended (its frame already popped, so
    /// labels resolve in the enclosing context), then returns to `resume`.
    pub(super) fn finish_try_table(&mut self, scope: usize, resume: ir::Block) {
        let count = self.scopes[scope].clauses.len();
        let mut any = false;
        for i in 0..count {
            let c = &self.scopes[scope].clauses[i];
            let (tag, landing, used, action) = (c.tag, c.landing, c.used, c.action);
            let ClauseAction::Branch { label, with_ref } = action else { unreachable!("try_table clauses branch") };
            if !used {
                continue;
            }
            any = true;
            self.builder.switch_to_block(landing);
            self.builder.seal_block(landing);
            let exn = self.builder.block_params(landing)[0];
            let mut args = self.landing_payload(tag, exn, with_ref);
            if with_ref {
                args.push(exn);
            }
            let (target, _) = self.frame_target(label);
            self.builder.ins().jump(target, &block_args(&args));
        }
        if any {
            self.builder.switch_to_block(resume);
        }
    }

    /// A legacy `catch`/`catch_all`: ends the body (or the previous clause) and starts the next
    /// clause's body in its landing block.
    fn translate_legacy_catch(&mut self) {
        self.end_arm();
        let frame = self.control.last_mut().unwrap();
        let FrameKind::LegacyTry { scope, ref mut next_clause, outer, exn } = frame.kind else {
            unreachable!("validated: catch inside try")
        };
        let clause = *next_clause;
        *next_clause += 1;
        frame.chain = outer;
        let c = &self.scopes[scope].clauses[clause];
        let (tag, landing, used, action) = (c.tag, c.landing, c.used, c.action);
        let ClauseAction::LegacyBody { keep } = action else { unreachable!("legacy clauses start bodies") };
        self.builder.switch_to_block(landing);
        self.builder.seal_block(landing);
        self.reachable = used;
        if used {
            let e = self.builder.block_params(landing)[0];
            self.builder.def_var(exn, e);
            let payload = self.landing_payload(tag, e, keep);
            self.stack.extend(payload);
        }
    }
}

/// What a call calls.
#[derive(Clone, Copy)]
pub(super) enum Callee {
    /// A function of this module, by reference.
    Direct(ir::FuncRef),
    /// Code at an address.
    Indirect(Value),
}
