//! Interruption points: fuel metering (`CompilerConfig::consume_fuel`) and epoch checks
//! (`CompilerConfig::epoch_interruption`), counted and placed as Wasmtime places them.
//!
//! **Fuel.** The counter holds minus the fuel left. While wasm code of a fuel-metered engine
//! runs, it lives in Cranelift's *pinned register* (`r15` on x86_64, `x21` on aarch64), which
//! the register allocator never hands out; whenever the host runs, it lives in the store's
//! context (`store_context::FUEL_CONSUMED`). The entry trampoline loads it into the register
//! (saving the host's value of that callee-saved register) and writes it back on return; the
//! host trampoline writes it back before calling the host and reloads it after; the trap
//! handler reads the register from the signal context, so a trap loses no fuel (see
//! `trampolines.rs` and the runtime's `traphandlers.rs`).
//!
//! Why a register rather than a variable written to the store around every call (Wasmtime's
//! scheme, which weld used first): the counter then forms a chain of stores and reloads
//! through memory across every call, and in call-heavy code (`fib`) each link costs a
//! store-to-load forwarding delay on the critical path (fib ran 1.6x slower with fuel). In a
//! register a call costs nothing and a check costs an addition, a test and a branch.
//!
//! The costs of a basic block are summed at translation time and added once, where the block
//! ends (a branch, `if`, `else`, `end`, `loop`, a call, `return`, `unreachable`). The counter
//! is checked at function entry, at loop headers, and before bulk operations whose size is not
//! a small constant: when it is `>= 0` the `OutOfFuel` libcall refills it from the store's
//! reserve or raises `Trap::OutOfFuel`. Calling a function costs 1; `nop`, `drop`, `block`,
//! `loop`, `end`, `else`, `return` and `unreachable` cost 0; every other operator 1; bulk
//! memory and table operations also cost one unit per byte or element (`memory.grow` nothing
//! per page).
//!
//! **Epochs.** At entry, at loop headers and before large bulk operations a function loads
//! the engine's epoch (through `store_context::EPOCH_COUNTER`) and the store's deadline
//! (`store_context::EPOCH_DEADLINE`) and compares them; when the epoch has reached the deadline
//! the `NewEpoch` libcall runs the store's deadline callback or raises `Trap::Interrupt`.
//! Unlike Wasmtime, which keeps the deadline in a register for the whole function, only the
//! store context's and the counter's addresses may be hoisted (Cranelift decides, as for any
//! invariant load): a check costs two loads, but holds no register across the function's
//! calls (in register-hungry code, such as SHA-256's rounds or a recursive function, a cached
//! deadline costs more in spills and saved registers than its load does).
//!
//! Both slow paths call the libcall through the engine's preserve-all stub
//! (`trampolines.rs`), which clobbers no register: a check in a hot loop then costs the loop
//! its test and branch only, not the spills an ordinary call would force. With fuel, a stub
//! writes the counter to the store before the libcall and reloads it after, so the libcall (and
//! a deadline callback) sees, and may change, the fuel left.

use super::{Fuel, FuncTranslator};
use cranelift_codegen::ir::{self, InstBuilder, Value, condcodes::IntCC, types};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;
use weld_environ::{VMOffsets, store_context, wasmparser};

/// Bulk operations whose cost is a constant at most this large are not preceded by a check
/// (Wasmtime's threshold).
const SMALL_BULK_OP_COST: i64 = 128;

/// What one operator costs in fuel (Wasmtime's default costs).
pub(crate) fn operator_cost(op: &Operator<'_>) -> i64 {
    match op {
        // No code of their own.
        Operator::Nop | Operator::Drop => 0,
        // Control flow is paid for by the operators around it (`if` pays for its test).
        Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::Unreachable
        | Operator::Return
        | Operator::Else
        | Operator::End => 0,
        _ => 1,
    }
}

/// The value of `value` if an `iconst` defines it.
fn constant(builder: &FunctionBuilder<'_>, value: Value) -> Option<u64> {
    let inst = builder.func.dfg.value_def(value).inst()?;
    match builder.func.dfg.insts[inst] {
        ir::InstructionData::UnaryImm { opcode: ir::Opcode::Iconst, imm } => {
            let bits = imm.bits() as u64;
            Some(if builder.func.dfg.value_type(value) == types::I32 { bits & 0xffff_ffff } else { bits })
        }
        _ => None,
    }
}

impl FuncTranslator<'_, '_> {
    /// The store context's address (it never changes during the instance's life).
    fn store_context(&mut self) -> Value {
        self.env.load_vmctx_ptr(&mut self.builder, self.vmctx, VMOffsets::STORE_CONTEXT)
    }

    /// Emits the function-entry work: charging for the call and checking the fuel counter,
    /// checking the epoch.
    pub(super) fn interrupt_function_entry(&mut self) {
        if self.env.config.consume_fuel {
            self.fuel = Some(Fuel { pending: 1 });
            self.fuel_check();
        }
        if self.env.config.epoch_interruption {
            self.epoch_check();
        }
    }

    /// Adds the cost still pending before the function returns by falling off its end.
    pub(super) fn interrupt_function_exit(&mut self) {
        if self.fuel.is_some() {
            self.fuel_flush();
        }
    }

    /// Emits the checks of a loop header (also used before large bulk operations).
    pub(super) fn interrupt_loop_header(&mut self) {
        if self.fuel.is_some() {
            self.fuel_check();
        }
        if self.env.config.epoch_interruption {
            self.epoch_check();
        }
    }

    /// Accounts for `op` before it is translated (reachable code only).
    pub(super) fn fuel_before_op(&mut self, op: &Operator<'_>) {
        let Some(fuel) = &mut self.fuel else { return };
        if !self.reachable {
            // What made the code unreachable added the pending cost already.
            debug_assert_eq!(fuel.pending, 0);
            return;
        }
        fuel.pending += operator_cost(op);
        match op {
            // The end of a basic block (`loop` so that the code before it is counted once), or
            // control leaves the function or enters another: the callee, the host and a trap
            // all read the register.
            Operator::Unreachable
            | Operator::Return
            | Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::ReturnCallRef { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::BrOnNull { .. }
            | Operator::BrOnNonNull { .. }
            | Operator::End
            | Operator::Else => {
                self.fuel_flush();
            }
            // Straight-line code: the cost waits in `pending`.
            _ => {}
        }
    }

    /// Before a bulk operation on `units` bytes or elements costing `cost_per_unit` each:
    /// consumes that fuel, and checks fuel and epoch unless the cost is a small constant.
    pub(super) fn interrupt_bulk_op(&mut self, units: Value, cost_per_unit: u8) {
        if self.fuel.is_none() && !self.env.config.epoch_interruption {
            return;
        }
        let constant_units = constant(&self.builder, units).map(|c| i64::try_from(c).unwrap_or(i64::MAX));
        let per_unit = i64::from(cost_per_unit);
        if cost_per_unit > 0
            && let Some(fuel) = &mut self.fuel
        {
            match constant_units {
                Some(units) => fuel.pending = fuel.pending.saturating_add(units.saturating_mul(per_unit)),
                None => {
                    // The cost is the guest's to choose: clamp it so the counter cannot wrap.
                    let cost = if self.builder.func.dfg.value_type(units) == types::I32 {
                        let wide = self.builder.ins().uextend(types::I64, units);
                        self.builder.ins().imul_imm_u(wide, per_unit)
                    } else {
                        let cost = self.builder.ins().imul_imm_u(units, per_unit);
                        let max = self.builder.ins().iconst(types::I64, i64::MAX);
                        let too_many =
                            self.builder.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, units, i64::MAX / per_unit);
                        self.builder.ins().select(too_many, max, cost)
                    };
                    self.fuel_flush();
                    self.fuel_add(cost);
                }
            }
        }
        if let Some(units) = constant_units
            && units.checked_mul(per_unit).is_some_and(|cost| cost <= SMALL_BULK_OP_COST)
        {
            return;
        }
        self.interrupt_loop_header();
    }

    /// Adds the pending cost to the counter; returns the counter's new value if it changed.
    fn fuel_flush(&mut self) -> Option<Value> {
        let cost = std::mem::take(&mut self.fuel.as_mut().unwrap().pending);
        (cost != 0).then(|| {
            let counter = self.builder.ins().get_pinned_reg(types::I64);
            let counter = self.builder.ins().iadd_imm_s(counter, cost);
            self.builder.ins().set_pinned_reg(counter);
            counter
        })
    }

    /// Adds `cost` (a value) to the counter.
    fn fuel_add(&mut self, cost: Value) {
        let counter = self.builder.ins().get_pinned_reg(types::I64);
        let counter = self.builder.ins().iadd(counter, cost);
        self.builder.ins().set_pinned_reg(counter);
    }

    /// Adds the pending cost and, when the counter is `>= 0`, calls `OutOfFuel` (which refills
    /// the counter or traps) and reloads the counter.
    fn fuel_check(&mut self) {
        let counter = match self.fuel_flush() {
            Some(counter) => counter,
            None => self.builder.ins().get_pinned_reg(types::I64),
        };
        let out = self.builder.create_block();
        self.builder.set_cold_block(out);
        let continuation = self.builder.create_block();
        let exhausted = self.builder.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, counter, 0);
        self.builder.ins().brif(exhausted, out, &[], continuation, &[]);
        self.builder.seal_block(out);

        self.builder.switch_to_block(out);
        self.call_stub(store_context::OUT_OF_FUEL_STUB);
        self.builder.ins().jump(continuation, &[]);
        self.builder.seal_block(continuation);
        self.builder.switch_to_block(continuation);
    }

    /// Calls the engine's interrupt stub whose address is at `offset` in the store context
    /// (it calls the libcall and traps if told to, and clobbers no register).
    fn call_stub(&mut self, offset: u32) {
        let store = self.store_context();
        // Not `can_move`: the load stays on the slow path instead of keeping a register.
        let flags = ir::MemFlagsData::trusted().with_readonly();
        let stub = self.builder.ins().load(self.env.pointer_type(), flags, store, offset as i32);
        let sig = self.env.interrupt_stub_sig(&mut self.builder);
        self.builder.ins().call_indirect(sig, stub, &[self.vmctx]);
    }

    /// Compares the engine's epoch with the store's deadline and, when it has been reached,
    /// calls `NewEpoch` (which moves the deadline or traps).
    fn epoch_check(&mut self) {
        let reached = self.builder.create_block();
        self.builder.set_cold_block(reached);
        let continuation = self.builder.create_block();
        // The counter's address never changes in a store's life: that load may be moved out
        // of loops (and is, where a register is free; elsewhere it is reloaded from a spill
        // slot, no dearer than from the store). The epoch and the deadline are plain loads,
        // never moved (another thread increments the epoch, a callee may move the deadline);
        // the slow path's call, which may write any memory, keeps alias analysis from reusing
        // a load made before the loop.
        let flags = ir::MemFlagsData::trusted();
        let store = self.store_context();
        let counter = self.builder.ins().load(
            self.env.pointer_type(),
            flags.with_readonly().with_can_move(),
            store,
            store_context::EPOCH_COUNTER as i32,
        );
        let epoch = self.builder.ins().load(types::I64, flags, counter, 0);
        let deadline = self.builder.ins().load(types::I64, flags, store, store_context::EPOCH_DEADLINE as i32);
        let cmp = self.builder.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        self.builder.ins().brif(cmp, reached, &[], continuation, &[]);
        self.builder.seal_block(reached);

        self.builder.switch_to_block(reached);
        self.call_stub(store_context::NEW_EPOCH_STUB);
        self.builder.ins().jump(continuation, &[]);
        self.builder.seal_block(continuation);
        self.builder.switch_to_block(continuation);
    }
}
