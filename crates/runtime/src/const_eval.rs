//! Constant expressions and element segment items, evaluated in an instance: what
//! instantiation needs for globals, tables and active segments, and what `table.init` needs at
//! run time.

use crate::store::StoreOpaque;
use crate::vm::vmcontext::InstanceId;
use anyhow::{Result, bail};
use weld_environ::{ConstExpr, ConstOp, ElementItems, ElementSegment};

/// Evaluates a constant expression in the context of instance `id`, returning the raw bits.
#[inline]
pub(crate) fn eval_const(s: &StoreOpaque, id: InstanceId, expr: &ConstExpr) -> Result<u128> {
    let inst = s.instance(id);
    let mut stack: Vec<u128> = Vec::with_capacity(2);
    let i32s = |stack: &mut Vec<u128>, f: fn(i32, i32) -> i32| {
        let b = stack.pop().unwrap() as u32 as i32;
        let a = stack.pop().unwrap() as u32 as i32;
        stack.push(f(a, b) as u32 as u128);
    };
    let i64s = |stack: &mut Vec<u128>, f: fn(i64, i64) -> i64| {
        let b = stack.pop().unwrap() as u64 as i64;
        let a = stack.pop().unwrap() as u64 as i64;
        stack.push(f(a, b) as u64 as u128);
    };
    for op in &expr.ops {
        match *op {
            ConstOp::I32Const(v) => stack.push(v as u32 as u128),
            ConstOp::I64Const(v) => stack.push(v as u64 as u128),
            ConstOp::F32Const(v) => stack.push(v as u128),
            ConstOp::F64Const(v) => stack.push(v as u128),
            ConstOp::V128Const(v) => stack.push(v),
            ConstOp::RefNull => stack.push(0),
            ConstOp::RefFunc(f) => stack.push(inst.func_ref(f) as usize as u128),
            ConstOp::GlobalGet(g) => {
                let Some(index) = inst.globals.get(g) else {
                    bail!("constant expression reads global {} before it is defined", g.as_u32())
                };
                stack.push(u128::from_le_bytes(s.global(*index).def.bytes));
            }
            ConstOp::I32Add => i32s(&mut stack, i32::wrapping_add),
            ConstOp::I32Sub => i32s(&mut stack, i32::wrapping_sub),
            ConstOp::I32Mul => i32s(&mut stack, i32::wrapping_mul),
            ConstOp::I64Add => i64s(&mut stack, i64::wrapping_add),
            ConstOp::I64Sub => i64s(&mut stack, i64::wrapping_sub),
            ConstOp::I64Mul => i64s(&mut stack, i64::wrapping_mul),
        }
    }
    Ok(stack.pop().unwrap_or(0))
}

/// The raw references of an element segment's items.
#[inline]
pub(crate) fn element_items(s: &StoreOpaque, id: InstanceId, seg: &ElementSegment) -> Result<Vec<u64>> {
    let inst = s.instance(id);
    match &seg.items {
        ElementItems::Functions(fs) => Ok(fs.iter().map(|f| inst.func_ref(*f) as usize as u64).collect()),
        ElementItems::Expressions(es) => es.iter().map(|e| eval_const(s, id, e).map(|v| v as u64)).collect(),
    }
}
