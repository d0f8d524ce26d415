//! How wasm values and functions look in Cranelift: the IR type of each wasm value type and the
//! signature of a wasm function (and of the engine's interrupt stubs).
//!
//! It knows nothing of a function being translated (that is `env`'s, which imports these
//! signatures into it) and nothing of operators. It stands alone because the translator, its
//! environment and the trampolines all need the same mapping, and none of them should have to
//! import another for it.

use cranelift_codegen::ir::{self, AbiParam, types};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use weld_environ::{FuncType, ValType};

/// The Cranelift type of a wasm value type.
pub(crate) fn ir_type(ty: ValType) -> ir::Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::Ref(_) => types::I64,
    }
}

/// The Cranelift signature of a wasm function of type `ty`: `(callee vmctx, caller vmctx,
/// params...) -> results`, with the tail calling convention.
pub(crate) fn wasm_signature(isa: &dyn TargetIsa, ty: &FuncType) -> ir::Signature {
    let ptr = isa.pointer_type();
    let mut sig = ir::Signature::new(CallConv::Tail);
    sig.params.push(AbiParam::special(ptr, ir::ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(ptr));
    sig.params.extend(ty.params.iter().map(|t| AbiParam::new(ir_type(*t))));
    sig.returns.extend(ty.results.iter().map(|t| AbiParam::new(ir_type(*t))));
    sig
}

/// The signature of the engine's interrupt stubs (`trampolines.rs`): `fn(vmctx)` with the
/// `preserve_all` convention, which clobbers no register.
pub(crate) fn interrupt_stub_signature(isa: &dyn TargetIsa) -> ir::Signature {
    let mut sig = ir::Signature::new(CallConv::PreserveAll);
    sig.params.push(AbiParam::new(isa.pointer_type()));
    sig
}
