//! Translation of WebAssembly's scalar numeric operators into Cranelift IR.
//!
//! This module handles every WebAssembly 2.0 numeric instruction that works on
//! plain `i32`, `i64`, `f32` and `f64` values: constants, integer and float
//! comparisons, integer and float arithmetic, bit counting, shifts and
//! rotations, and every conversion between the four numeric types (wrapping,
//! extension, sign extension, trapping and saturating float-to-int truncation,
//! int-to-float conversion, demotion, promotion and reinterpretation).
//!
//! The translation works directly on the wasm operand stack, which holds one
//! Cranelift SSA [`Value`] per wasm operand: the top of the stack is the last
//! element, so it is the rightmost operand of a binary operator.
//!
//! What this module does *not* do:
//!
//! - It does not handle SIMD (`v128`) operators, reference operators, memory
//!   accesses, locals, globals, or any control flow; for those operators
//!   [`translate_numeric`] returns `false` and leaves the builder and the stack
//!   untouched, so that the caller can dispatch them elsewhere.
//! - It does not validate the module: it assumes the operators come from a
//!   function body that `wasmparser` has already validated, so the operand
//!   stack always holds enough values of the right types.
//! - It emits no explicit trap checks. The WebAssembly traps of this group
//!   (division by zero, signed division overflow, invalid or out-of-range
//!   float-to-int truncation) are raised by the Cranelift instructions
//!   themselves (`sdiv`, `udiv`, `srem`, `urem`, `fcvt_to_sint`,
//!   `fcvt_to_uint`). `srem` is documented to trap only on a zero divisor, and
//!   every Cranelift backend yields 0 for `INT_MIN % -1`, which is exactly what
//!   wasm's `rem_s` requires.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self, InstBuilder, Value, types};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// Emits an instruction with one operand.
type UnaryFn = fn(&mut FunctionBuilder<'_>, Value) -> Value;

/// Emits an instruction with two operands (left, right).
type BinaryFn = fn(&mut FunctionBuilder<'_>, Value, Value) -> Value;

/// Translates `op` if it is a numeric operator; returns false (touching nothing) otherwise.
pub fn translate_numeric(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    constant(op, builder, stack)
        || int_test(op, builder, stack)
        || int_compare(op, builder, stack)
        || int_unary(op, builder, stack)
        || int_binary(op, builder, stack)
        || float_compare(op, builder, stack)
        || float_unary(op, builder, stack)
        || float_binary(op, builder, stack)
        || convert(op, builder, stack)
        || sign_extend(op, builder, stack)
}

/// Pops the top of the operand stack.
fn pop1(stack: &mut Vec<Value>) -> Value {
    stack.pop().expect("wasm operand stack underflow in numeric operator")
}

/// Pops the two topmost operands, returned in wasm operand order (left, right).
fn pop2(stack: &mut Vec<Value>) -> (Value, Value) {
    let right = pop1(stack);
    let left = pop1(stack);
    (left, right)
}

/// Replaces the top of the stack by `f(top)`.
fn apply_unary(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, f: UnaryFn) {
    let arg = pop1(stack);
    let result = f(builder, arg);
    stack.push(result);
}

/// Replaces the two topmost operands by `f(left, right)`.
fn apply_binary(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, f: BinaryFn) {
    let (left, right) = pop2(stack);
    let result = f(builder, left, right);
    stack.push(result);
}

/// Turns a Cranelift boolean (an `i8` that is 0 or 1) into a wasm `i32`.
fn bool_to_i32(builder: &mut FunctionBuilder<'_>, flag: Value) -> Value {
    builder.ins().uextend(types::I32, flag)
}

/// `i32.const`, `i64.const`, `f32.const`, `f64.const`.
fn constant(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    let value = match *op {
        // Cranelift wants narrow immediates zero-extended to 64 bits: a
        // sign-extended negative `i32` would fail verification.
        Operator::I32Const { value } => builder.ins().iconst(types::I32, i64::from(value.cast_unsigned())),
        Operator::I64Const { value } => builder.ins().iconst(types::I64, value),
        Operator::F32Const { value } => builder.ins().f32const(ir::immediates::Ieee32::with_bits(value.bits())),
        Operator::F64Const { value } => builder.ins().f64const(ir::immediates::Ieee64::with_bits(value.bits())),
        _ => return false,
    };
    stack.push(value);
    true
}

/// `i32.eqz` and `i64.eqz`.
fn int_test(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    match op {
        Operator::I32Eqz | Operator::I64Eqz => {}
        _ => return false,
    }
    let arg = pop1(stack);
    let flag = builder.ins().icmp_imm_u(IntCC::Equal, arg, 0);
    let result = bool_to_i32(builder, flag);
    stack.push(result);
    true
}

/// Maps an integer comparison operator to its Cranelift condition code.
fn int_condition(op: &Operator<'_>) -> Option<IntCC> {
    use Operator as O;
    let cc = match op {
        O::I32Eq | O::I64Eq => IntCC::Equal,
        O::I32Ne | O::I64Ne => IntCC::NotEqual,
        O::I32LtS | O::I64LtS => IntCC::SignedLessThan,
        O::I32LtU | O::I64LtU => IntCC::UnsignedLessThan,
        O::I32GtS | O::I64GtS => IntCC::SignedGreaterThan,
        O::I32GtU | O::I64GtU => IntCC::UnsignedGreaterThan,
        O::I32LeS | O::I64LeS => IntCC::SignedLessThanOrEqual,
        O::I32LeU | O::I64LeU => IntCC::UnsignedLessThanOrEqual,
        O::I32GeS | O::I64GeS => IntCC::SignedGreaterThanOrEqual,
        O::I32GeU | O::I64GeU => IntCC::UnsignedGreaterThanOrEqual,
        _ => return None,
    };
    Some(cc)
}

/// Binary integer comparisons; the result is an `i32` holding 0 or 1.
fn int_compare(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    let Some(cc) = int_condition(op) else {
        return false;
    };
    let (left, right) = pop2(stack);
    let flag = builder.ins().icmp(cc, left, right);
    let result = bool_to_i32(builder, flag);
    stack.push(result);
    true
}

/// `clz`, `ctz` and `popcnt` for both integer widths.
fn int_unary(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    use Operator as O;
    let f: UnaryFn = match op {
        O::I32Clz | O::I64Clz => |b, x| b.ins().clz(x),
        O::I32Ctz | O::I64Ctz => |b, x| b.ins().ctz(x),
        O::I32Popcnt | O::I64Popcnt => |b, x| b.ins().popcnt(x),
        _ => return false,
    };
    apply_unary(builder, stack, f);
    true
}

/// Integer arithmetic, bitwise logic, shifts and rotations.
///
/// Cranelift takes shift and rotate amounts modulo the bit width, exactly
/// like wasm, so no masking is needed. The division and remainder
/// instructions trap on their own where wasm requires it.
fn int_binary(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    use Operator as O;
    let f: BinaryFn = match op {
        O::I32Add | O::I64Add => |b, x, y| b.ins().iadd(x, y),
        O::I32Sub | O::I64Sub => |b, x, y| b.ins().isub(x, y),
        O::I32Mul | O::I64Mul => |b, x, y| b.ins().imul(x, y),
        O::I32DivS | O::I64DivS => |b, x, y| b.ins().sdiv(x, y),
        O::I32DivU | O::I64DivU => |b, x, y| b.ins().udiv(x, y),
        O::I32RemS | O::I64RemS => |b, x, y| b.ins().srem(x, y),
        O::I32RemU | O::I64RemU => |b, x, y| b.ins().urem(x, y),
        O::I32And | O::I64And => |b, x, y| b.ins().band(x, y),
        O::I32Or | O::I64Or => |b, x, y| b.ins().bor(x, y),
        O::I32Xor | O::I64Xor => |b, x, y| b.ins().bxor(x, y),
        O::I32Shl | O::I64Shl => |b, x, y| b.ins().ishl(x, y),
        O::I32ShrS | O::I64ShrS => |b, x, y| b.ins().sshr(x, y),
        O::I32ShrU | O::I64ShrU => |b, x, y| b.ins().ushr(x, y),
        O::I32Rotl | O::I64Rotl => |b, x, y| b.ins().rotl(x, y),
        O::I32Rotr | O::I64Rotr => |b, x, y| b.ins().rotr(x, y),
        _ => return false,
    };
    apply_binary(builder, stack, f);
    true
}

/// Maps a float comparison operator to its Cranelift condition code.
///
/// Every condition except `NotEqual` is ordered (false when either operand is
/// NaN); `NotEqual` is unordered-or-not-equal, so it is true for NaN, as wasm's
/// `ne` requires.
fn float_condition(op: &Operator<'_>) -> Option<FloatCC> {
    use Operator as O;
    let cc = match op {
        O::F32Eq | O::F64Eq => FloatCC::Equal,
        O::F32Ne | O::F64Ne => FloatCC::NotEqual,
        O::F32Lt | O::F64Lt => FloatCC::LessThan,
        O::F32Gt | O::F64Gt => FloatCC::GreaterThan,
        O::F32Le | O::F64Le => FloatCC::LessThanOrEqual,
        O::F32Ge | O::F64Ge => FloatCC::GreaterThanOrEqual,
        _ => return None,
    };
    Some(cc)
}

/// Float comparisons; the result is an `i32` holding 0 or 1.
fn float_compare(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    let Some(cc) = float_condition(op) else {
        return false;
    };
    let (left, right) = pop2(stack);
    let flag = builder.ins().fcmp(cc, left, right);
    let result = bool_to_i32(builder, flag);
    stack.push(result);
    true
}

/// Float sign manipulation, rounding and square root.
fn float_unary(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    use Operator as O;
    let f: UnaryFn = match op {
        O::F32Abs | O::F64Abs => |b, x| b.ins().fabs(x),
        O::F32Neg | O::F64Neg => |b, x| b.ins().fneg(x),
        O::F32Ceil | O::F64Ceil => |b, x| b.ins().ceil(x),
        O::F32Floor | O::F64Floor => |b, x| b.ins().floor(x),
        O::F32Trunc | O::F64Trunc => |b, x| b.ins().trunc(x),
        O::F32Nearest | O::F64Nearest => |b, x| b.ins().nearest(x),
        O::F32Sqrt | O::F64Sqrt => |b, x| b.ins().sqrt(x),
        _ => return false,
    };
    apply_unary(builder, stack, f);
    true
}

/// Float arithmetic, `min`/`max` and `copysign`.
///
/// Cranelift's `fmin`/`fmax` follow the wasm rules: NaN propagates and
/// `-0.0 < +0.0`.
fn float_binary(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    use Operator as O;
    let f: BinaryFn = match op {
        O::F32Add | O::F64Add => |b, x, y| b.ins().fadd(x, y),
        O::F32Sub | O::F64Sub => |b, x, y| b.ins().fsub(x, y),
        O::F32Mul | O::F64Mul => |b, x, y| b.ins().fmul(x, y),
        O::F32Div | O::F64Div => |b, x, y| b.ins().fdiv(x, y),
        O::F32Min | O::F64Min => |b, x, y| b.ins().fmin(x, y),
        O::F32Max | O::F64Max => |b, x, y| b.ins().fmax(x, y),
        O::F32Copysign | O::F64Copysign => |b, x, y| b.ins().fcopysign(x, y),
        _ => return false,
    };
    apply_binary(builder, stack, f);
    true
}

/// The kind of conversion a conversion operator performs.
#[derive(Clone, Copy)]
enum Conversion {
    /// Integer narrowing (`i32.wrap_i64`).
    Wrap,
    /// Integer widening with sign extension.
    ExtendSigned,
    /// Integer widening with zero extension.
    ExtendUnsigned,
    /// Float to signed integer, trapping on NaN or overflow.
    TruncSigned,
    /// Float to unsigned integer, trapping on NaN or overflow.
    TruncUnsigned,
    /// Float to signed integer, saturating (NaN becomes 0).
    TruncSatSigned,
    /// Float to unsigned integer, saturating (NaN becomes 0).
    TruncSatUnsigned,
    /// Signed integer to float.
    FromSigned,
    /// Unsigned integer to float.
    FromUnsigned,
    /// `f32.demote_f64`.
    Demote,
    /// `f64.promote_f32`.
    Promote,
    /// Bit-for-bit reinterpretation between an integer and a float (a
    /// `bitcast` with default flags; the byte order does not matter for
    /// scalars of equal size).
    Reinterpret,
}

/// Maps a conversion operator to its kind and its result type.
fn conversion(op: &Operator<'_>) -> Option<(Conversion, ir::Type)> {
    use Conversion as C;
    use Operator as O;
    use types::{F32, F64, I32, I64};
    let pair = match op {
        O::I32WrapI64 => (C::Wrap, I32),
        O::I64ExtendI32S => (C::ExtendSigned, I64),
        O::I64ExtendI32U => (C::ExtendUnsigned, I64),

        O::I32TruncF32S | O::I32TruncF64S => (C::TruncSigned, I32),
        O::I32TruncF32U | O::I32TruncF64U => (C::TruncUnsigned, I32),
        O::I64TruncF32S | O::I64TruncF64S => (C::TruncSigned, I64),
        O::I64TruncF32U | O::I64TruncF64U => (C::TruncUnsigned, I64),

        O::I32TruncSatF32S | O::I32TruncSatF64S => (C::TruncSatSigned, I32),
        O::I32TruncSatF32U | O::I32TruncSatF64U => (C::TruncSatUnsigned, I32),
        O::I64TruncSatF32S | O::I64TruncSatF64S => (C::TruncSatSigned, I64),
        O::I64TruncSatF32U | O::I64TruncSatF64U => (C::TruncSatUnsigned, I64),

        O::F32ConvertI32S | O::F32ConvertI64S => (C::FromSigned, F32),
        O::F32ConvertI32U | O::F32ConvertI64U => (C::FromUnsigned, F32),
        O::F64ConvertI32S | O::F64ConvertI64S => (C::FromSigned, F64),
        O::F64ConvertI32U | O::F64ConvertI64U => (C::FromUnsigned, F64),

        O::F32DemoteF64 => (C::Demote, F32),
        O::F64PromoteF32 => (C::Promote, F64),

        O::I32ReinterpretF32 => (C::Reinterpret, I32),
        O::I64ReinterpretF64 => (C::Reinterpret, I64),
        O::F32ReinterpretI32 => (C::Reinterpret, F32),
        O::F64ReinterpretI64 => (C::Reinterpret, F64),
        _ => return None,
    };
    Some(pair)
}

/// Conversions between the four numeric types.
fn convert(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    let Some((kind, ty)) = conversion(op) else {
        return false;
    };
    let arg = pop1(stack);
    let ins = builder.ins();
    let result = match kind {
        Conversion::Wrap => ins.ireduce(ty, arg),
        Conversion::ExtendSigned => ins.sextend(ty, arg),
        Conversion::ExtendUnsigned => ins.uextend(ty, arg),
        Conversion::TruncSigned => ins.fcvt_to_sint(ty, arg),
        Conversion::TruncUnsigned => ins.fcvt_to_uint(ty, arg),
        Conversion::TruncSatSigned => ins.fcvt_to_sint_sat(ty, arg),
        Conversion::TruncSatUnsigned => ins.fcvt_to_uint_sat(ty, arg),
        Conversion::FromSigned => ins.fcvt_from_sint(ty, arg),
        Conversion::FromUnsigned => ins.fcvt_from_uint(ty, arg),
        Conversion::Demote => ins.fdemote(ty, arg),
        Conversion::Promote => ins.fpromote(ty, arg),
        Conversion::Reinterpret => ins.bitcast(ty, ir::MemFlagsData::new(), arg),
    };
    stack.push(result);
    true
}

/// Sign-extension operators: `i32.extend8_s`, `i32.extend16_s`,
/// `i64.extend8_s`, `i64.extend16_s`, `i64.extend32_s`.
///
/// The operand is truncated to the narrow type, then sign-extended back to
/// its own width.
fn sign_extend(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    use Operator as O;
    use types::{I8, I16, I32, I64};
    let (narrow, wide) = match op {
        O::I32Extend8S => (I8, I32),
        O::I32Extend16S => (I16, I32),
        O::I64Extend8S => (I8, I64),
        O::I64Extend16S => (I16, I64),
        O::I64Extend32S => (I32, I64),
        _ => return false,
    };
    let arg = pop1(stack);
    let small = builder.ins().ireduce(narrow, arg);
    let result = builder.ins().sextend(wide, small);
    stack.push(result);
    true
}
