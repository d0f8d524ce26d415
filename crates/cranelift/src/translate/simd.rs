//! Translation of the SIMD and relaxed-SIMD operators on `v128` values (other than loads and
//! stores, which are `simd_memory`'s) into Cranelift's vector IR.
//!
//! Every `v128` on the operand stack, in a local, a global, a block parameter or a call is an
//! `i8x16` value; an operator bitcasts its operands to the lane type it works on and its result
//! back to `i8x16`. Bitcasts between vector types cost nothing in the backends (the value stays
//! in its register), and keeping one type everywhere means block parameters, `select` and calls
//! never have to reconcile two lane views of the same value.
//!
//! Relaxed-SIMD operators have a deterministic form (the matching non-relaxed semantics, or a
//! fused multiply-add for `relaxed_madd`), used on every host when
//! [`SimdLowering::deterministic`] is set; otherwise, on x86_64, the few whose native
//! instruction differs from the deterministic form at the edges (`pshufb`, `cvttps2dq`,
//! `pmulhrsw`, `minps`/`maxps`, a separate multiply and add without FMA) use it, which is what
//! relaxed SIMD exists for.
//!
//! Like `numeric`, this module assumes a validated body and emits no explicit checks: no SIMD
//! operator traps.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F32X4, F64, F64X2, I8, I8X16, I16, I16X8, I32, I32X4, I64, I64X2};
use cranelift_codegen::ir::{self, InstBuilder, Type, Value};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// The IR type of a `v128` wherever it is stored or passed.
pub(crate) const V128: Type = I8X16;

/// How the relaxed-SIMD operators are compiled for one target: which native forms it may use
/// (none when deterministic), as the ISA reports them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SimdLowering {
    /// Compile relaxed operators to their deterministic form (the same results on every host).
    pub deterministic: bool,
    /// x86's `cvttps2dq` and `minps`/`maxps` forms (x86_64, not deterministic).
    x86: bool,
    /// x86's `pshufb` for `relaxed_swizzle`.
    pshufb: bool,
    /// x86's `pmulhrsw` for `relaxed_q15mulr`.
    pmulhrsw: bool,
    /// x86's `pmaddubsw` for the relaxed dot products.
    pmaddubsw: bool,
    /// The target has a fused multiply-add instruction.
    native_fma: bool,
}

impl SimdLowering {
    /// The lowering for `isa`, deterministic or not.
    pub fn for_isa(isa: &dyn TargetIsa, deterministic: bool) -> SimdLowering {
        let native = !deterministic;
        SimdLowering {
            deterministic,
            x86: native && isa.triple().architecture == target_lexicon::Architecture::X86_64,
            pshufb: native && isa.has_x86_pshufb_lowering(),
            pmulhrsw: native && isa.has_x86_pmulhrsw_lowering(),
            pmaddubsw: native && isa.has_x86_pmaddubsw_lowering(),
            native_fma: isa.has_native_fma(),
        }
    }
}

/// Emits an instruction with one operand.
type UnaryFn = fn(&mut FunctionBuilder<'_>, Value) -> Value;

/// Emits an instruction with two operands (left, right).
type BinaryFn = fn(&mut FunctionBuilder<'_>, Value, Value) -> Value;

/// The flags of a bitcast between vector types (lanes are numbered in little-endian order).
fn vector_bitcast_flags() -> ir::MemFlagsData {
    ir::MemFlagsData::new().with_endianness(ir::Endianness::Little)
}

/// `v` viewed as a vector of type `ty` (a no-op if it already is one).
pub(crate) fn cast(builder: &mut FunctionBuilder<'_>, v: Value, ty: Type) -> Value {
    if builder.func.dfg.value_type(v) == ty { v } else { builder.ins().bitcast(ty, vector_bitcast_flags(), v) }
}

/// Pops a `v128` viewed as `ty`.
pub(crate) fn pop_as(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, ty: Type) -> Value {
    let v = stack.pop().expect("validated: operand stack underflow in a SIMD operator");
    cast(builder, v, ty)
}

/// Pushes a result: vectors as `i8x16`, scalars as they are.
pub(crate) fn push(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, v: Value) {
    let v = if builder.func.dfg.value_type(v).is_vector() { cast(builder, v, V128) } else { v };
    stack.push(v);
}

/// A `v128` constant.
pub(crate) fn vector_const(builder: &mut FunctionBuilder<'_>, ty: Type, bytes: [u8; 16]) -> Value {
    let c = builder.func.dfg.constants.insert(bytes.to_vec().into());
    builder.ins().vconst(ty, c)
}

/// Translates `op` if it is a SIMD operator other than a load or store; returns false
/// (touching nothing) otherwise.
pub(crate) fn translate_simd(
    op: &Operator<'_>,
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
    lowering: SimdLowering,
) -> bool {
    if let Some((ty, f)) = unary(op) {
        let v = pop_as(builder, stack, ty);
        let r = f(builder, v);
        push(builder, stack, r);
        return true;
    }
    if let Some((ty, f)) = binary(op) {
        let b = pop_as(builder, stack, ty);
        let a = pop_as(builder, stack, ty);
        let r = f(builder, a, b);
        push(builder, stack, r);
        return true;
    }
    if let Some((ty, cc)) = int_compare(op) {
        let b = pop_as(builder, stack, ty);
        let a = pop_as(builder, stack, ty);
        let r = builder.ins().icmp(cc, a, b);
        push(builder, stack, r);
        return true;
    }
    if let Some((ty, cc)) = float_compare(op) {
        let b = pop_as(builder, stack, ty);
        let a = pop_as(builder, stack, ty);
        let r = builder.ins().fcmp(cc, a, b);
        push(builder, stack, r);
        return true;
    }
    lanes(op, builder, stack) || tests_and_shifts(op, builder, stack) || relaxed(op, builder, stack, lowering)
}

/// Operators taking one vector to one vector.
fn unary(op: &Operator<'_>) -> Option<(Type, UnaryFn)> {
    use Operator::*;
    Some(match op {
        V128Not => (V128, |b, x| b.ins().bnot(x)),
        I8x16Abs => (I8X16, |b, x| b.ins().iabs(x)),
        I16x8Abs => (I16X8, |b, x| b.ins().iabs(x)),
        I32x4Abs => (I32X4, |b, x| b.ins().iabs(x)),
        I64x2Abs => (I64X2, |b, x| b.ins().iabs(x)),
        I8x16Neg => (I8X16, |b, x| b.ins().ineg(x)),
        I16x8Neg => (I16X8, |b, x| b.ins().ineg(x)),
        I32x4Neg => (I32X4, |b, x| b.ins().ineg(x)),
        I64x2Neg => (I64X2, |b, x| b.ins().ineg(x)),
        I8x16Popcnt => (I8X16, |b, x| b.ins().popcnt(x)),
        I16x8ExtendLowI8x16S => (I8X16, |b, x| b.ins().swiden_low(x)),
        I16x8ExtendHighI8x16S => (I8X16, |b, x| b.ins().swiden_high(x)),
        I16x8ExtendLowI8x16U => (I8X16, |b, x| b.ins().uwiden_low(x)),
        I16x8ExtendHighI8x16U => (I8X16, |b, x| b.ins().uwiden_high(x)),
        I32x4ExtendLowI16x8S => (I16X8, |b, x| b.ins().swiden_low(x)),
        I32x4ExtendHighI16x8S => (I16X8, |b, x| b.ins().swiden_high(x)),
        I32x4ExtendLowI16x8U => (I16X8, |b, x| b.ins().uwiden_low(x)),
        I32x4ExtendHighI16x8U => (I16X8, |b, x| b.ins().uwiden_high(x)),
        I64x2ExtendLowI32x4S => (I32X4, |b, x| b.ins().swiden_low(x)),
        I64x2ExtendHighI32x4S => (I32X4, |b, x| b.ins().swiden_high(x)),
        I64x2ExtendLowI32x4U => (I32X4, |b, x| b.ins().uwiden_low(x)),
        I64x2ExtendHighI32x4U => (I32X4, |b, x| b.ins().uwiden_high(x)),
        I16x8ExtAddPairwiseI8x16S => (I8X16, |b, x| extadd_pairwise(b, x, true)),
        I16x8ExtAddPairwiseI8x16U => (I8X16, |b, x| extadd_pairwise(b, x, false)),
        I32x4ExtAddPairwiseI16x8S => (I16X8, |b, x| extadd_pairwise(b, x, true)),
        I32x4ExtAddPairwiseI16x8U => (I16X8, |b, x| extadd_pairwise(b, x, false)),
        F32x4Ceil => (F32X4, |b, x| b.ins().ceil(x)),
        F32x4Floor => (F32X4, |b, x| b.ins().floor(x)),
        F32x4Trunc => (F32X4, |b, x| b.ins().trunc(x)),
        F32x4Nearest => (F32X4, |b, x| b.ins().nearest(x)),
        F32x4Abs => (F32X4, |b, x| b.ins().fabs(x)),
        F32x4Neg => (F32X4, |b, x| b.ins().fneg(x)),
        F32x4Sqrt => (F32X4, |b, x| b.ins().sqrt(x)),
        F64x2Ceil => (F64X2, |b, x| b.ins().ceil(x)),
        F64x2Floor => (F64X2, |b, x| b.ins().floor(x)),
        F64x2Trunc => (F64X2, |b, x| b.ins().trunc(x)),
        F64x2Nearest => (F64X2, |b, x| b.ins().nearest(x)),
        F64x2Abs => (F64X2, |b, x| b.ins().fabs(x)),
        F64x2Neg => (F64X2, |b, x| b.ins().fneg(x)),
        F64x2Sqrt => (F64X2, |b, x| b.ins().sqrt(x)),
        I32x4TruncSatF32x4S => (F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x)),
        I32x4TruncSatF32x4U => (F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x)),
        F32x4ConvertI32x4S => (I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x)),
        F32x4ConvertI32x4U => (I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x)),
        I32x4TruncSatF64x2SZero => (F64X2, |b, x| trunc_sat_f64x2_zero(b, x, true)),
        I32x4TruncSatF64x2UZero => (F64X2, |b, x| trunc_sat_f64x2_zero(b, x, false)),
        F64x2ConvertLowI32x4S => (I32X4, |b, x| {
            let wide = b.ins().swiden_low(x);
            b.ins().fcvt_from_sint(F64X2, wide)
        }),
        F64x2ConvertLowI32x4U => (I32X4, |b, x| {
            let wide = b.ins().uwiden_low(x);
            b.ins().fcvt_from_uint(F64X2, wide)
        }),
        F32x4DemoteF64x2Zero => (F64X2, |b, x| b.ins().fvdemote(x)),
        F64x2PromoteLowF32x4 => (F32X4, |b, x| b.ins().fvpromote_low(x)),
        _ => return None,
    })
}

/// Operators taking two vectors (of the same type) to one vector.
fn binary(op: &Operator<'_>) -> Option<(Type, BinaryFn)> {
    use Operator::*;
    Some(match op {
        V128And => (V128, |b, x, y| b.ins().band(x, y)),
        V128AndNot => (V128, |b, x, y| b.ins().band_not(x, y)),
        V128Or => (V128, |b, x, y| b.ins().bor(x, y)),
        V128Xor => (V128, |b, x, y| b.ins().bxor(x, y)),
        I8x16Swizzle => (I8X16, |b, x, y| b.ins().swizzle(x, y)),
        I8x16Add => (I8X16, |b, x, y| b.ins().iadd(x, y)),
        I16x8Add => (I16X8, |b, x, y| b.ins().iadd(x, y)),
        I32x4Add => (I32X4, |b, x, y| b.ins().iadd(x, y)),
        I64x2Add => (I64X2, |b, x, y| b.ins().iadd(x, y)),
        I8x16Sub => (I8X16, |b, x, y| b.ins().isub(x, y)),
        I16x8Sub => (I16X8, |b, x, y| b.ins().isub(x, y)),
        I32x4Sub => (I32X4, |b, x, y| b.ins().isub(x, y)),
        I64x2Sub => (I64X2, |b, x, y| b.ins().isub(x, y)),
        I16x8Mul => (I16X8, |b, x, y| b.ins().imul(x, y)),
        I32x4Mul => (I32X4, |b, x, y| b.ins().imul(x, y)),
        I64x2Mul => (I64X2, |b, x, y| b.ins().imul(x, y)),
        I8x16AddSatS => (I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
        I8x16AddSatU => (I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
        I16x8AddSatS => (I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
        I16x8AddSatU => (I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
        I8x16SubSatS => (I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
        I8x16SubSatU => (I8X16, |b, x, y| b.ins().usub_sat(x, y)),
        I16x8SubSatS => (I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
        I16x8SubSatU => (I16X8, |b, x, y| b.ins().usub_sat(x, y)),
        I8x16MinS => (I8X16, |b, x, y| b.ins().smin(x, y)),
        I8x16MinU => (I8X16, |b, x, y| b.ins().umin(x, y)),
        I8x16MaxS => (I8X16, |b, x, y| b.ins().smax(x, y)),
        I8x16MaxU => (I8X16, |b, x, y| b.ins().umax(x, y)),
        I16x8MinS => (I16X8, |b, x, y| b.ins().smin(x, y)),
        I16x8MinU => (I16X8, |b, x, y| b.ins().umin(x, y)),
        I16x8MaxS => (I16X8, |b, x, y| b.ins().smax(x, y)),
        I16x8MaxU => (I16X8, |b, x, y| b.ins().umax(x, y)),
        I32x4MinS => (I32X4, |b, x, y| b.ins().smin(x, y)),
        I32x4MinU => (I32X4, |b, x, y| b.ins().umin(x, y)),
        I32x4MaxS => (I32X4, |b, x, y| b.ins().smax(x, y)),
        I32x4MaxU => (I32X4, |b, x, y| b.ins().umax(x, y)),
        I8x16AvgrU => (I8X16, |b, x, y| b.ins().avg_round(x, y)),
        I16x8AvgrU => (I16X8, |b, x, y| b.ins().avg_round(x, y)),
        I16x8Q15MulrSatS => (I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y)),
        I8x16NarrowI16x8S => (I16X8, |b, x, y| b.ins().snarrow(x, y)),
        I8x16NarrowI16x8U => (I16X8, |b, x, y| b.ins().unarrow(x, y)),
        I16x8NarrowI32x4S => (I32X4, |b, x, y| b.ins().snarrow(x, y)),
        I16x8NarrowI32x4U => (I32X4, |b, x, y| b.ins().unarrow(x, y)),
        I16x8ExtMulLowI8x16S => (I8X16, |b, x, y| extmul(b, x, y, false, true)),
        I16x8ExtMulHighI8x16S => (I8X16, |b, x, y| extmul(b, x, y, true, true)),
        I16x8ExtMulLowI8x16U => (I8X16, |b, x, y| extmul(b, x, y, false, false)),
        I16x8ExtMulHighI8x16U => (I8X16, |b, x, y| extmul(b, x, y, true, false)),
        I32x4ExtMulLowI16x8S => (I16X8, |b, x, y| extmul(b, x, y, false, true)),
        I32x4ExtMulHighI16x8S => (I16X8, |b, x, y| extmul(b, x, y, true, true)),
        I32x4ExtMulLowI16x8U => (I16X8, |b, x, y| extmul(b, x, y, false, false)),
        I32x4ExtMulHighI16x8U => (I16X8, |b, x, y| extmul(b, x, y, true, false)),
        I64x2ExtMulLowI32x4S => (I32X4, |b, x, y| extmul(b, x, y, false, true)),
        I64x2ExtMulHighI32x4S => (I32X4, |b, x, y| extmul(b, x, y, true, true)),
        I64x2ExtMulLowI32x4U => (I32X4, |b, x, y| extmul(b, x, y, false, false)),
        I64x2ExtMulHighI32x4U => (I32X4, |b, x, y| extmul(b, x, y, true, false)),
        I32x4DotI16x8S => (I16X8, dot_pairs),
        F32x4Add => (F32X4, |b, x, y| b.ins().fadd(x, y)),
        F32x4Sub => (F32X4, |b, x, y| b.ins().fsub(x, y)),
        F32x4Mul => (F32X4, |b, x, y| b.ins().fmul(x, y)),
        F32x4Div => (F32X4, |b, x, y| b.ins().fdiv(x, y)),
        F32x4Min => (F32X4, |b, x, y| b.ins().fmin(x, y)),
        F32x4Max => (F32X4, |b, x, y| b.ins().fmax(x, y)),
        F32x4PMin => (F32X4, |b, x, y| pseudo_min(b, x, y)),
        F32x4PMax => (F32X4, |b, x, y| pseudo_max(b, x, y)),
        F64x2Add => (F64X2, |b, x, y| b.ins().fadd(x, y)),
        F64x2Sub => (F64X2, |b, x, y| b.ins().fsub(x, y)),
        F64x2Mul => (F64X2, |b, x, y| b.ins().fmul(x, y)),
        F64x2Div => (F64X2, |b, x, y| b.ins().fdiv(x, y)),
        F64x2Min => (F64X2, |b, x, y| b.ins().fmin(x, y)),
        F64x2Max => (F64X2, |b, x, y| b.ins().fmax(x, y)),
        F64x2PMin => (F64X2, |b, x, y| pseudo_min(b, x, y)),
        F64x2PMax => (F64X2, |b, x, y| pseudo_max(b, x, y)),
        _ => return None,
    })
}

/// Integer lane comparisons: each result lane is all ones where the condition holds.
fn int_compare(op: &Operator<'_>) -> Option<(Type, IntCC)> {
    use IntCC::*;
    use Operator::*;
    Some(match op {
        I8x16Eq => (I8X16, Equal),
        I8x16Ne => (I8X16, NotEqual),
        I8x16LtS => (I8X16, SignedLessThan),
        I8x16LtU => (I8X16, UnsignedLessThan),
        I8x16GtS => (I8X16, SignedGreaterThan),
        I8x16GtU => (I8X16, UnsignedGreaterThan),
        I8x16LeS => (I8X16, SignedLessThanOrEqual),
        I8x16LeU => (I8X16, UnsignedLessThanOrEqual),
        I8x16GeS => (I8X16, SignedGreaterThanOrEqual),
        I8x16GeU => (I8X16, UnsignedGreaterThanOrEqual),
        I16x8Eq => (I16X8, Equal),
        I16x8Ne => (I16X8, NotEqual),
        I16x8LtS => (I16X8, SignedLessThan),
        I16x8LtU => (I16X8, UnsignedLessThan),
        I16x8GtS => (I16X8, SignedGreaterThan),
        I16x8GtU => (I16X8, UnsignedGreaterThan),
        I16x8LeS => (I16X8, SignedLessThanOrEqual),
        I16x8LeU => (I16X8, UnsignedLessThanOrEqual),
        I16x8GeS => (I16X8, SignedGreaterThanOrEqual),
        I16x8GeU => (I16X8, UnsignedGreaterThanOrEqual),
        I32x4Eq => (I32X4, Equal),
        I32x4Ne => (I32X4, NotEqual),
        I32x4LtS => (I32X4, SignedLessThan),
        I32x4LtU => (I32X4, UnsignedLessThan),
        I32x4GtS => (I32X4, SignedGreaterThan),
        I32x4GtU => (I32X4, UnsignedGreaterThan),
        I32x4LeS => (I32X4, SignedLessThanOrEqual),
        I32x4LeU => (I32X4, UnsignedLessThanOrEqual),
        I32x4GeS => (I32X4, SignedGreaterThanOrEqual),
        I32x4GeU => (I32X4, UnsignedGreaterThanOrEqual),
        I64x2Eq => (I64X2, Equal),
        I64x2Ne => (I64X2, NotEqual),
        I64x2LtS => (I64X2, SignedLessThan),
        I64x2GtS => (I64X2, SignedGreaterThan),
        I64x2LeS => (I64X2, SignedLessThanOrEqual),
        I64x2GeS => (I64X2, SignedGreaterThanOrEqual),
        _ => return None,
    })
}

/// Float lane comparisons: each result lane is all ones where the condition holds.
fn float_compare(op: &Operator<'_>) -> Option<(Type, FloatCC)> {
    use FloatCC::*;
    use Operator::*;
    Some(match op {
        F32x4Eq => (F32X4, Equal),
        F32x4Ne => (F32X4, NotEqual),
        F32x4Lt => (F32X4, LessThan),
        F32x4Gt => (F32X4, GreaterThan),
        F32x4Le => (F32X4, LessThanOrEqual),
        F32x4Ge => (F32X4, GreaterThanOrEqual),
        F64x2Eq => (F64X2, Equal),
        F64x2Ne => (F64X2, NotEqual),
        F64x2Lt => (F64X2, LessThan),
        F64x2Gt => (F64X2, GreaterThan),
        F64x2Le => (F64X2, LessThanOrEqual),
        F64x2Ge => (F64X2, GreaterThanOrEqual),
        _ => return None,
    })
}

/// The scalar type of a lane as a wasm operand (`i32` for 8- and 16-bit lanes) and the
/// vector type the lane belongs to.
fn lane_types(op: &Operator<'_>) -> Option<(Type, Type)> {
    use Operator::*;
    Some(match op {
        I8x16Splat | I8x16ExtractLaneS { .. } | I8x16ExtractLaneU { .. } | I8x16ReplaceLane { .. } => (I8, I8X16),
        I16x8Splat | I16x8ExtractLaneS { .. } | I16x8ExtractLaneU { .. } | I16x8ReplaceLane { .. } => (I16, I16X8),
        I32x4Splat | I32x4ExtractLane { .. } | I32x4ReplaceLane { .. } => (I32, I32X4),
        I64x2Splat | I64x2ExtractLane { .. } | I64x2ReplaceLane { .. } => (I64, I64X2),
        F32x4Splat | F32x4ExtractLane { .. } | F32x4ReplaceLane { .. } => (F32, F32X4),
        F64x2Splat | F64x2ExtractLane { .. } | F64x2ReplaceLane { .. } => (F64, F64X2),
        _ => return None,
    })
}

/// Constants, shuffles, splats and single-lane reads and writes.
fn lanes(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    use Operator::*;
    match *op {
        V128Const { value } => {
            let v = vector_const(builder, V128, *value.bytes());
            stack.push(v);
            return true;
        }
        I8x16Shuffle { lanes } => {
            let b = pop_as(builder, stack, I8X16);
            let a = pop_as(builder, stack, I8X16);
            let mask = builder.func.dfg.immediates.push(lanes.to_vec().into());
            let r = builder.ins().shuffle(a, b, mask);
            push(builder, stack, r);
            return true;
        }
        _ => {}
    }
    let Some((lane, vector)) = lane_types(op) else { return false };
    let narrow = lane.bits() < 32;
    match *op {
        I8x16Splat | I16x8Splat | I32x4Splat | I64x2Splat | F32x4Splat | F64x2Splat => {
            let mut x = stack.pop().expect("validated: splat operand");
            if narrow {
                x = builder.ins().ireduce(lane, x);
            }
            let r = builder.ins().splat(vector, x);
            push(builder, stack, r);
        }
        I8x16ExtractLaneS { lane: i } | I16x8ExtractLaneS { lane: i } => {
            let v = pop_as(builder, stack, vector);
            let x = builder.ins().extractlane(v, i);
            let r = builder.ins().sextend(I32, x);
            stack.push(r);
        }
        I8x16ExtractLaneU { lane: i } | I16x8ExtractLaneU { lane: i } => {
            let v = pop_as(builder, stack, vector);
            let x = builder.ins().extractlane(v, i);
            let r = builder.ins().uextend(I32, x);
            stack.push(r);
        }
        I32x4ExtractLane { lane: i }
        | I64x2ExtractLane { lane: i }
        | F32x4ExtractLane { lane: i }
        | F64x2ExtractLane { lane: i } => {
            let v = pop_as(builder, stack, vector);
            let r = builder.ins().extractlane(v, i);
            stack.push(r);
        }
        I8x16ReplaceLane { lane: i }
        | I16x8ReplaceLane { lane: i }
        | I32x4ReplaceLane { lane: i }
        | I64x2ReplaceLane { lane: i }
        | F32x4ReplaceLane { lane: i }
        | F64x2ReplaceLane { lane: i } => {
            let mut x = stack.pop().expect("validated: replace_lane operand");
            if narrow {
                x = builder.ins().ireduce(lane, x);
            }
            let v = pop_as(builder, stack, vector);
            let r = builder.ins().insertlane(v, x, i);
            push(builder, stack, r);
        }
        _ => unreachable!("lane_types covers only splats and lane accesses"),
    }
    true
}

/// `bitselect`, the all-lanes tests, bit masks and shifts.
fn tests_and_shifts(op: &Operator<'_>, builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>) -> bool {
    use Operator::*;
    match *op {
        V128Bitselect => {
            let mask = pop_as(builder, stack, V128);
            let if_false = pop_as(builder, stack, V128);
            let if_true = pop_as(builder, stack, V128);
            let r = builder.ins().bitselect(mask, if_true, if_false);
            push(builder, stack, r);
        }
        V128AnyTrue => {
            let v = pop_as(builder, stack, V128);
            let t = builder.ins().vany_true(v);
            let r = builder.ins().uextend(I32, t);
            stack.push(r);
        }
        I8x16AllTrue | I16x8AllTrue | I32x4AllTrue | I64x2AllTrue => {
            let v = pop_as(builder, stack, int_vector_of(op));
            let t = builder.ins().vall_true(v);
            let r = builder.ins().uextend(I32, t);
            stack.push(r);
        }
        I8x16Bitmask | I16x8Bitmask | I32x4Bitmask | I64x2Bitmask => {
            let v = pop_as(builder, stack, int_vector_of(op));
            let r = builder.ins().vhigh_bits(I32, v);
            stack.push(r);
        }
        I8x16Shl | I16x8Shl | I32x4Shl | I64x2Shl => {
            shift(builder, stack, int_vector_of(op), |b, x, y| b.ins().ishl(x, y))
        }
        I8x16ShrS | I16x8ShrS | I32x4ShrS | I64x2ShrS => {
            shift(builder, stack, int_vector_of(op), |b, x, y| b.ins().sshr(x, y))
        }
        I8x16ShrU | I16x8ShrU | I32x4ShrU | I64x2ShrU => {
            shift(builder, stack, int_vector_of(op), |b, x, y| b.ins().ushr(x, y))
        }
        _ => return false,
    }
    true
}

/// The integer vector type of a `iNxM.*` operator, by its name's prefix.
fn int_vector_of(op: &Operator<'_>) -> Type {
    use Operator::*;
    match op {
        I8x16AllTrue | I8x16Bitmask | I8x16Shl | I8x16ShrS | I8x16ShrU => I8X16,
        I16x8AllTrue | I16x8Bitmask | I16x8Shl | I16x8ShrS | I16x8ShrU => I16X8,
        I32x4AllTrue | I32x4Bitmask | I32x4Shl | I32x4ShrS | I32x4ShrU => I32X4,
        I64x2AllTrue | I64x2Bitmask | I64x2Shl | I64x2ShrS | I64x2ShrU => I64X2,
        _ => unreachable!("not an integer lane test or shift: {op:?}"),
    }
}

/// A vector shifted by an `i32` amount (taken modulo the lane width, as Cranelift and wasm both
/// define it).
fn shift(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, ty: Type, f: BinaryFn) {
    let amount = stack.pop().expect("validated: shift amount");
    let v = pop_as(builder, stack, ty);
    let r = f(builder, v, amount);
    push(builder, stack, r);
}

/// Adds adjacent lanes of `x`, widened to twice their width.
fn extadd_pairwise(b: &mut FunctionBuilder<'_>, x: Value, signed: bool) -> Value {
    let (low, high) = if signed {
        (b.ins().swiden_low(x), b.ins().swiden_high(x))
    } else {
        (b.ins().uwiden_low(x), b.ins().uwiden_high(x))
    };
    b.ins().iadd_pairwise(low, high)
}

/// Multiplies the low or high halves of `x` and `y`, widened to twice their width.
fn extmul(b: &mut FunctionBuilder<'_>, x: Value, y: Value, high: bool, signed: bool) -> Value {
    let widen = |b: &mut FunctionBuilder<'_>, v: Value| match (high, signed) {
        (false, true) => b.ins().swiden_low(v),
        (true, true) => b.ins().swiden_high(v),
        (false, false) => b.ins().uwiden_low(v),
        (true, false) => b.ins().uwiden_high(v),
    };
    let (x, y) = (widen(b, x), widen(b, y));
    b.ins().imul(x, y)
}

/// `i32x4.dot_i16x8_s` (and the deterministic `i16x8.relaxed_dot_i8x16_i7x16_s`): the signed
/// products of lanes, widened, summed in adjacent pairs.
fn dot_pairs(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    let low = extmul(b, x, y, false, true);
    let high = extmul(b, x, y, true, true);
    b.ins().iadd_pairwise(low, high)
}

/// `i32x4.trunc_sat_f64x2_{s,u}_zero`: two saturated lanes, then two zero lanes.
fn trunc_sat_f64x2_zero(b: &mut FunctionBuilder<'_>, x: Value, signed: bool) -> Value {
    let zero = vector_const(b, I64X2, [0; 16]);
    if signed {
        let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
        b.ins().snarrow(wide, zero)
    } else {
        let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
        b.ins().uunarrow(wide, zero)
    }
}

/// wasm's `pmin`: `y < x ? y : x` lane by lane (the shape x86's `minps` is matched on).
fn pseudo_min(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    let less = b.ins().fcmp(FloatCC::LessThan, y, x);
    let mask = cast(b, less, ty);
    b.ins().bitselect(mask, y, x)
}

/// wasm's `pmax`: `x < y ? y : x` lane by lane (the shape x86's `maxps` is matched on).
fn pseudo_max(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    let less = b.ins().fcmp(FloatCC::LessThan, x, y);
    let mask = cast(b, less, ty);
    b.ins().bitselect(mask, y, x)
}

/// The relaxed-SIMD operators.
fn relaxed(
    op: &Operator<'_>,
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
    lowering: SimdLowering,
) -> bool {
    use Operator::*;
    match *op {
        I8x16RelaxedSwizzle => {
            let s = pop_as(builder, stack, I8X16);
            let v = pop_as(builder, stack, I8X16);
            let r = if lowering.pshufb { builder.ins().x86_pshufb(v, s) } else { builder.ins().swizzle(v, s) };
            push(builder, stack, r);
        }
        I32x4RelaxedTruncF32x4S => {
            let v = pop_as(builder, stack, F32X4);
            let r = if lowering.x86 {
                builder.ins().x86_cvtt2dq(I32X4, v)
            } else {
                builder.ins().fcvt_to_sint_sat(I32X4, v)
            };
            push(builder, stack, r);
        }
        I32x4RelaxedTruncF32x4U => {
            let v = pop_as(builder, stack, F32X4);
            let r = builder.ins().fcvt_to_uint_sat(I32X4, v);
            push(builder, stack, r);
        }
        I32x4RelaxedTruncF64x2SZero | I32x4RelaxedTruncF64x2UZero => {
            let v = pop_as(builder, stack, F64X2);
            let r = trunc_sat_f64x2_zero(builder, v, matches!(op, I32x4RelaxedTruncF64x2SZero));
            push(builder, stack, r);
        }
        F32x4RelaxedMadd | F32x4RelaxedNmadd | F64x2RelaxedMadd | F64x2RelaxedNmadd => {
            let ty = if matches!(op, F32x4RelaxedMadd | F32x4RelaxedNmadd) { F32X4 } else { F64X2 };
            let c = pop_as(builder, stack, ty);
            let b = pop_as(builder, stack, ty);
            let mut a = pop_as(builder, stack, ty);
            if matches!(op, F32x4RelaxedNmadd | F64x2RelaxedNmadd) {
                a = builder.ins().fneg(a);
            }
            // Without a fused instruction, the fused form is a per-lane library call; an
            // unfused multiply and add is one of the results relaxed SIMD allows.
            let r = if lowering.deterministic || lowering.native_fma {
                builder.ins().fma(a, b, c)
            } else {
                let product = builder.ins().fmul(a, b);
                builder.ins().fadd(product, c)
            };
            push(builder, stack, r);
        }
        I8x16RelaxedLaneselect | I16x8RelaxedLaneselect | I32x4RelaxedLaneselect | I64x2RelaxedLaneselect => {
            let mask = pop_as(builder, stack, V128);
            let if_false = pop_as(builder, stack, V128);
            let if_true = pop_as(builder, stack, V128);
            let r = builder.ins().bitselect(mask, if_true, if_false);
            push(builder, stack, r);
        }
        F32x4RelaxedMin | F32x4RelaxedMax | F64x2RelaxedMin | F64x2RelaxedMax => {
            let ty = if matches!(op, F32x4RelaxedMin | F32x4RelaxedMax) { F32X4 } else { F64X2 };
            let y = pop_as(builder, stack, ty);
            let x = pop_as(builder, stack, ty);
            let min = matches!(op, F32x4RelaxedMin | F64x2RelaxedMin);
            // x86's `minps x, y` is `x < y ? x : y`, `maxps x, y` is `y < x ? x : y`: the
            // pseudo-min/max of the operands swapped.
            let r = match (lowering.x86, min) {
                (true, true) => pseudo_min(builder, y, x),
                (true, false) => pseudo_max(builder, y, x),
                (false, true) => builder.ins().fmin(x, y),
                (false, false) => builder.ins().fmax(x, y),
            };
            push(builder, stack, r);
        }
        I16x8RelaxedQ15mulrS => {
            let y = pop_as(builder, stack, I16X8);
            let x = pop_as(builder, stack, I16X8);
            let r =
                if lowering.pmulhrsw { builder.ins().x86_pmulhrsw(x, y) } else { builder.ins().sqmul_round_sat(x, y) };
            push(builder, stack, r);
        }
        I16x8RelaxedDotI8x16I7x16S => {
            let y = pop_as(builder, stack, I8X16);
            let x = pop_as(builder, stack, I8X16);
            let r = relaxed_dot_i8(builder, x, y, lowering.pmaddubsw);
            push(builder, stack, r);
        }
        I32x4RelaxedDotI8x16I7x16AddS => {
            let acc = pop_as(builder, stack, I32X4);
            let y = pop_as(builder, stack, I8X16);
            let x = pop_as(builder, stack, I8X16);
            let pairs = relaxed_dot_i8(builder, x, y, lowering.pmaddubsw);
            let quads = extadd_pairwise(builder, pairs, true);
            let r = builder.ins().iadd(quads, acc);
            push(builder, stack, r);
        }
        _ => return false,
    }
    true
}

/// `i16x8.relaxed_dot_i8x16_i7x16_s`: products of signed bytes of `x` and (7-bit) bytes of
/// `y`, summed in adjacent pairs. x86's `pmaddubsw` reads `y`'s bytes as unsigned and
/// saturates the sums, both among the results allowed when a byte of `y` has its top bit set.
fn relaxed_dot_i8(b: &mut FunctionBuilder<'_>, x: Value, y: Value, native: bool) -> Value {
    if native { b.ins().x86_pmaddubsw(x, y) } else { dot_pairs(b, x, y) }
}
