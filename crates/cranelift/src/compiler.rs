//! The compile driver: validates and translates every function body of a module in parallel,
//! compiles each with Cranelift, and links the results.

use crate::code::{CallReloc, ExceptionHandler, ExceptionSite, UnlinkedFunction, link, trap_from_cranelift};
use crate::translate::translate_function;
use crate::{CompiledCode, CompilerConfig, build_isa};
use anyhow::{Context as _, Result, anyhow};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, FinalizedRelocTarget, control::ControlPlane, ir};
use cranelift_frontend::FunctionBuilderContext;
use rayon::prelude::*;
use weld_environ::{DefinedFuncIndex, EntityRef, FunctionBodyData, Module, VMOffsets};

/// Validates and compiles every defined function of `module`. The result's functions are in
/// [`DefinedFuncIndex`] order.
pub fn compile_module(
    module: &Module,
    bodies: Vec<FunctionBodyData<'_>>,
    config: &CompilerConfig,
) -> Result<CompiledCode> {
    let isa = build_isa(config)?;
    let offsets = VMOffsets::new(module);
    let job = |state: &mut (Context, FunctionBuilderContext), (i, body): (usize, FunctionBodyData<'_>)| {
        let index = module.func_index(DefinedFuncIndex::new(i));
        compile_one(&*isa, module, &offsets, config, state, index.as_u32(), body)
            .with_context(|| format!("failed to compile function {}", module.func_display_name(index)))
    };
    let funcs: Vec<UnlinkedFunction> = if config.parallel {
        bodies
            .into_par_iter()
            .enumerate()
            .map_init(|| (Context::new(), FunctionBuilderContext::new()), job)
            .collect::<Result<_>>()?
    } else {
        let mut state = (Context::new(), FunctionBuilderContext::new());
        bodies.into_iter().enumerate().map(|x| job(&mut state, x)).collect::<Result<_>>()?
    };
    link(funcs)
}

fn compile_one(
    isa: &dyn TargetIsa,
    module: &Module,
    offsets: &VMOffsets,
    config: &CompilerConfig,
    (ctx, fctx): &mut (Context, FunctionBuilderContext),
    func_index: u32,
    body: FunctionBodyData<'_>,
) -> Result<UnlinkedFunction> {
    let mut validator = body.validator.into_validator(Default::default());
    ctx.clear();
    ctx.func.name = ir::UserFuncName::user(0, func_index);
    translate_function(isa, module, offsets, config, fctx, &mut ctx.func, func_index, &body.body, &mut validator)?;
    let mut f = finish_function(isa, ctx)?;
    // Calls name function indices; the linked code is laid out by defined-function index.
    for r in &mut f.relocs {
        r.target -= module.num_imported_funcs as u32;
    }
    Ok(f)
}

/// Compiles the function in `ctx` and extracts its code, relocations and traps.
pub(crate) fn finish_function(isa: &dyn TargetIsa, ctx: &mut Context) -> Result<UnlinkedFunction> {
    let mut ctrl = ControlPlane::default();
    // The callees' names, kept apart because compiling borrows the function.
    let names = ctx.func.params.user_named_funcs().clone();
    let compiled = ctx.compile(isa, &mut ctrl).map_err(|e| anyhow!("Cranelift failed: {:?}", e.inner))?;
    let alignment = compiled.buffer.alignment;
    let mut relocs = Vec::new();
    for r in compiled.buffer.relocs() {
        let target = match &r.target {
            FinalizedRelocTarget::ExternalName(ir::ExternalName::User(name)) => names[*name].index,
            other => return Err(anyhow!("unexpected relocation target {other:?}")),
        };
        relocs.push(CallReloc { offset: r.offset, kind: r.kind, target, addend: r.addend });
    }
    let traps = compiled.buffer.traps().iter().map(|t| (t.offset, trap_from_cranelift(t.code))).collect();
    let exception_sites = exception_sites(&compiled.buffer)?;
    Ok(UnlinkedFunction { code: compiled.buffer.data().to_vec(), alignment, relocs, traps, exception_sites })
}

/// The calls of a compiled function that have exception handlers, in weld's terms.
fn exception_sites(
    buffer: &cranelift_codegen::MachBufferFinalized<cranelift_codegen::Final>,
) -> Result<Vec<ExceptionSite>> {
    use cranelift_codegen::{ExceptionContextLoc, FinalizedMachExceptionHandler as H};
    let mut sites = Vec::new();
    for call in buffer.call_sites() {
        if call.exception_handlers.is_empty() {
            continue;
        }
        let frame_size =
            call.frame_offset.ok_or_else(|| anyhow!("a call with exception handlers has no frame offset"))?;
        let mut handlers = Vec::with_capacity(call.exception_handlers.len());
        for h in call.exception_handlers {
            handlers.push(match *h {
                H::Tag(tag, target) => ExceptionHandler::Tag { tag_slot: tag.as_u32(), target },
                H::Default(target) => ExceptionHandler::CatchAll { target },
                H::Context(ExceptionContextLoc::SPOffset(sp_offset)) => ExceptionHandler::Context { sp_offset },
                H::Context(ExceptionContextLoc::GPR(r)) => {
                    return Err(anyhow!("an exception context left in register {r}, not on the stack"));
                }
            });
        }
        sites.push(ExceptionSite { ret_offset: call.ret_addr, frame_size, handlers });
    }
    Ok(sites)
}
