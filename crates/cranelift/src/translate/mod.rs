//! Translation of one wasm function body to Cranelift IR.
//!
//! [`FuncTranslator`] keeps the operand stack of SSA values, the control stack, and the
//! function's locals. Operators are dispatched by family: numeric ones to [`numeric`], control
//! flow and calls to `control`, linear memory to `memory`, tables and references to `table`,
//! vector operators to `simd` and vector loads and stores to `simd_memory`;
//! locals, globals, `drop` and `select` are handled here. Fuel and epoch checks, when the
//! configuration asks for them, are placed by `interrupt` around the operators. The body is
//! validated operator by operator as it is translated.

mod control;
mod env;
mod exceptions;
mod handlers;
mod interrupt;
mod memory;
pub mod numeric;
mod signature;
mod simd;
mod simd_memory;
mod table;

use crate::CompilerConfig;
use anyhow::{Result, bail};
use cranelift_codegen::ir::{self, InstBuilder, Value, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
pub(crate) use env::{FuncEnv, pending_trap_code as pending_trap};
pub(crate) use signature::{interrupt_stub_signature, ir_type, wasm_signature};
use wasmparser::{FuncValidator, FunctionBody, Operator, ValidatorResources};
use weld_environ::{FuncIndex, GlobalIndex, Module, VMOffsets, ValType, wasmparser};

/// What kind of construct a control frame is.
pub(crate) enum FrameKind {
    Block,
    Loop {
        header: ir::Block,
    },
    If {
        else_block: ir::Block,
        else_seen: bool,
        params: Vec<Value>,
    },
    /// A `try_table` whose handlers are scope `scope` (see `exceptions`).
    TryTable {
        scope: usize,
    },
    /// A legacy `try` with catch clauses (scope `scope`), before its clause `next_clause`;
    /// `outer` is the scope around it (in effect in its clauses' bodies), `exn` the exception
    /// its current clause caught (for `rethrow`).
    LegacyTry {
        scope: usize,
        next_clause: usize,
        outer: Option<usize>,
        exn: Variable,
    },
}

/// An entry of the control stack.
pub(crate) struct ControlFrame {
    pub kind: FrameKind,
    /// The block after `end`, taking the frame's results as parameters.
    pub destination: ir::Block,
    pub num_params: usize,
    pub num_results: usize,
    /// The operand stack height below the frame's parameters.
    pub stack_base: usize,
    /// Whether some branch jumps to `destination`.
    pub exit_branched: bool,
    /// Whether the frame's start was reachable.
    pub reachable_at_start: bool,
    /// The innermost exception handler scope in effect in the frame's body (an index into
    /// `FuncTranslator::scopes`).
    pub chain: Option<usize>,
}

impl ControlFrame {
    /// The block a branch to this frame jumps to, and how many values it carries.
    pub fn branch_target(&self) -> (ir::Block, usize) {
        match self.kind {
            FrameKind::Loop { header } => (header, self.num_params),
            _ => (self.destination, self.num_results),
        }
    }
}

/// The state of translating one function.
pub(crate) struct FuncTranslator<'a, 'f> {
    pub builder: FunctionBuilder<'f>,
    pub env: FuncEnv<'a>,
    pub stack: Vec<Value>,
    pub control: Vec<ControlFrame>,
    pub reachable: bool,
    /// Nesting depth of blocks opened while unreachable.
    pub unreachable_depth: u32,
    pub locals: Vec<Variable>,
    pub vmctx: Value,
    /// Fuel metering state, when `consume_fuel` is on.
    pub fuel: Option<Fuel>,
    /// How relaxed-SIMD operators are compiled.
    pub simd: simd::SimdLowering,
    /// Every exception handler scope met so far (see `exceptions`).
    pub scopes: Vec<handlers::HandlerScope>,
}

/// The fuel state of the function being translated (see `interrupt`).
pub(crate) struct Fuel {
    /// The cost of the operators translated since the last addition to the counter (the
    /// pinned register). Calling the function costs 1, so translation starts with it.
    pending: i64,
}

/// Translates `body` (function `func_index` of `module`) into `func`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn translate_function(
    isa: &dyn TargetIsa,
    module: &Module,
    offsets: &VMOffsets,
    config: &CompilerConfig,
    fctx: &mut FunctionBuilderContext,
    func: &mut ir::Function,
    func_index: u32,
    body: &FunctionBody<'_>,
    validator: &mut FuncValidator<ValidatorResources>,
) -> Result<()> {
    let ty = module.func_type(FuncIndex::from_u32(func_index));
    func.signature = wasm_signature(isa, ty);
    let mut builder = FunctionBuilder::new(func, fctx);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let vmctx = builder.block_params(entry)[0];
    let env = FuncEnv::new(isa, module, offsets, config);
    env.install_stack_limit(&mut builder, vmctx);

    let mut t = FuncTranslator {
        builder,
        env,
        stack: Vec::new(),
        control: Vec::new(),
        reachable: true,
        unreachable_depth: 0,
        locals: Vec::new(),
        vmctx,
        fuel: None,
        simd: simd::SimdLowering::for_isa(isa, config.relaxed_simd_deterministic),
        scopes: Vec::new(),
    };
    let params: Vec<Value> = t.builder.block_params(entry)[2..].to_vec();
    for (value, ty) in params.into_iter().zip(ty.params.iter()) {
        let var = t.builder.declare_var(ir_type(*ty));
        t.builder.def_var(var, value);
        t.locals.push(var);
    }
    // Each operator is validated just before it is translated, in one pass over the body.
    let mut locals = body.get_locals_reader()?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, ty) = locals.read()?;
        validator.define_locals(offset, count, ty)?;
        let ty = ValType::from_wasmparser(ty)?;
        for _ in 0..count {
            let var = t.builder.declare_var(ir_type(ty));
            let zero = zero_value(&mut t.builder, ty);
            t.builder.def_var(var, zero);
            t.locals.push(var);
        }
    }

    t.interrupt_function_entry();

    let results: Vec<ir::Type> = ty.results.iter().map(|t| ir_type(*t)).collect();
    let exit = t.builder.create_block();
    for r in &results {
        t.builder.append_block_param(exit, *r);
    }
    t.control.push(ControlFrame {
        kind: FrameKind::Block,
        destination: exit,
        num_params: 0,
        num_results: results.len(),
        stack_base: 0,
        exit_branched: false,
        reachable_at_start: true,
        chain: None,
    });

    let mut binary = locals.get_binary_reader();
    binary.set_features(*validator.features());
    let mut reader = wasmparser::OperatorsReader::new(binary);
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset()?;
        validator.op(offset, &op)?;
        t.fuel_before_op(&op);
        t.translate_operator(&op, &reader)?;
    }
    reader.finish()?;
    // The final `end` switched to `exit` and left its parameters on the stack.
    if t.reachable {
        t.interrupt_function_exit();
        let rets = t.stack.clone();
        t.builder.ins().return_(&rets);
    }
    t.builder.seal_all_blocks();
    let frontend_config = isa.frontend_config();
    t.builder.finalize(frontend_config);
    Ok(())
}

/// `values` as the arguments of a jump.
pub(crate) fn block_args(values: &[Value]) -> Vec<ir::BlockArg> {
    values.iter().map(|v| ir::BlockArg::Value(*v)).collect()
}

fn zero_value(builder: &mut FunctionBuilder<'_>, ty: ValType) -> Value {
    match ty {
        ValType::I32 => builder.ins().iconst(types::I32, 0),
        ValType::I64 | ValType::Ref(_) => builder.ins().iconst(types::I64, 0),
        ValType::F32 => builder.ins().f32const(0.0),
        ValType::F64 => builder.ins().f64const(0.0),
        ValType::V128 => simd::vector_const(builder, simd::V128, [0; 16]),
    }
}

impl FuncTranslator<'_, '_> {
    pub fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated: operand stack underflow")
    }

    pub fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    pub fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    pub fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Translates `op`; `ahead` reads the operators after it (for a legacy `try`'s clauses).
    fn translate_operator(&mut self, op: &Operator<'_>, ahead: &wasmparser::OperatorsReader<'_>) -> Result<()> {
        if !self.reachable {
            return self.translate_unreachable(op);
        }
        if numeric::translate_numeric(op, &mut self.builder, &mut self.stack) {
            return Ok(());
        }
        if simd::translate_simd(op, &mut self.builder, &mut self.stack, self.simd) || self.translate_simd_memory(op) {
            return Ok(());
        }
        if self.translate_control(op)?
            || self.translate_memory(op)?
            || self.translate_table(op)?
            || self.translate_exception(op, Some(ahead))?
        {
            return Ok(());
        }
        match *op {
            Operator::LocalGet { local_index } => {
                let v = self.builder.use_var(self.locals[local_index as usize]);
                self.stack.push(v);
            }
            Operator::LocalSet { local_index } => {
                let v = self.pop();
                self.builder.def_var(self.locals[local_index as usize], v);
            }
            Operator::LocalTee { local_index } => {
                let v = *self.stack.last().unwrap();
                self.builder.def_var(self.locals[local_index as usize], v);
            }
            Operator::GlobalGet { global_index } => {
                let v = self.global_get(GlobalIndex::from_u32(global_index));
                self.stack.push(v);
            }
            Operator::GlobalSet { global_index } => {
                let v = self.pop();
                self.global_set(GlobalIndex::from_u32(global_index), v);
            }
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let cond = self.pop();
                let (a, b) = self.pop2();
                let v = self.builder.ins().select(cond, a, b);
                self.stack.push(v);
            }
            Operator::Nop => {}
            ref other => bail!("unsupported operator: {other:?}"),
        }
        Ok(())
    }

    fn global_get(&mut self, g: GlobalIndex) -> Value {
        let ty = self.env.module.globals[g];
        let ptr = self.env.load_vmctx_ptr(&mut self.builder, self.vmctx, self.env.offsets.global(g.as_u32()));
        let mut flags = ir::MemFlagsData::trusted();
        if !ty.mutable {
            flags = flags.with_readonly().with_can_move();
        }
        self.builder.ins().load(ir_type(ty.ty), flags, ptr, 0)
    }

    fn global_set(&mut self, g: GlobalIndex, v: Value) {
        let ptr = self.env.load_vmctx_ptr(&mut self.builder, self.vmctx, self.env.offsets.global(g.as_u32()));
        self.builder.ins().store(ir::MemFlagsData::trusted(), v, ptr, 0);
    }
}
