//! Constant expressions (global initializers, segment offsets, element items) as a small list
//! of operations that the runtime evaluates at instantiation. Parsing only; no evaluation.

use crate::{FuncIndex, GlobalIndex};
use anyhow::{Result, bail};

/// One operation of a constant expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstOp {
    /// Push an i32.
    I32Const(i32),
    /// Push an i64.
    I64Const(i64),
    /// Push an f32 given by its bits.
    F32Const(u32),
    /// Push an f64 given by its bits.
    F64Const(u64),
    /// Push a v128.
    V128Const(u128),
    /// Push the null reference of a heap type.
    RefNull,
    /// Push a reference to a function.
    RefFunc(FuncIndex),
    /// Push the value of an (immutable) global.
    GlobalGet(GlobalIndex),
    /// Extended constant expressions.
    I32Add,
    /// `i32.sub`.
    I32Sub,
    /// `i32.mul`.
    I32Mul,
    /// `i64.add`.
    I64Add,
    /// `i64.sub`.
    I64Sub,
    /// `i64.mul`.
    I64Mul,
}

/// A validated constant expression.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ConstExpr {
    /// The operations in order; evaluating them leaves exactly one value.
    pub ops: Vec<ConstOp>,
}

impl ConstExpr {
    /// Converts a (validated) wasmparser constant expression.
    pub fn from_wasmparser(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr> {
        let mut ops = Vec::new();
        let mut reader = expr.get_operators_reader();
        while !reader.eof() {
            use wasmparser::Operator as O;
            let op = match reader.read()? {
                O::I32Const { value } => ConstOp::I32Const(value),
                O::I64Const { value } => ConstOp::I64Const(value),
                O::F32Const { value } => ConstOp::F32Const(value.bits()),
                O::F64Const { value } => ConstOp::F64Const(value.bits()),
                O::V128Const { value } => ConstOp::V128Const(u128::from_le_bytes(*value.bytes())),
                O::RefNull { .. } => ConstOp::RefNull,
                O::RefFunc { function_index } => ConstOp::RefFunc(FuncIndex::from_u32(function_index)),
                O::GlobalGet { global_index } => ConstOp::GlobalGet(GlobalIndex::from_u32(global_index)),
                O::I32Add => ConstOp::I32Add,
                O::I32Sub => ConstOp::I32Sub,
                O::I32Mul => ConstOp::I32Mul,
                O::I64Add => ConstOp::I64Add,
                O::I64Sub => ConstOp::I64Sub,
                O::I64Mul => ConstOp::I64Mul,
                O::End => continue,
                other => bail!("unsupported operator in constant expression: {other:?}"),
            };
            ops.push(op);
        }
        Ok(ConstExpr { ops })
    }

    /// The function this expression references, if it is exactly `ref.func`.
    pub fn as_ref_func(&self) -> Option<FuncIndex> {
        match self.ops.as_slice() {
            [ConstOp::RefFunc(f)] => Some(*f),
            _ => None,
        }
    }
}
