//! The core functions and items that a component's plan names (`CoreDef`, `CoreItemDef`),
//! resolved in a component instance: exports of its core instances, lowered imports,
//! adapters, intrinsics and built-ins.

use crate::handles::ComponentInstanceId;
use crate::handles::{Extern, Func};
use crate::store::StoreInner;
use anyhow::{Result, anyhow};
use weld_environ::component::info::{CoreDef, CoreExport, CoreItemDef};

/// The export of one of the instance's core instances.
#[inline]
pub(crate) fn core_export<T>(
    store: &mut StoreInner<T>,
    index: ComponentInstanceId,
    export: &CoreExport,
) -> Result<Extern> {
    let inst = store.opaque().component_instance(index).core[export.instance];
    inst.get_export(&*store, &export.name)
        .ok_or_else(|| anyhow!("core instance {} has no export `{}`", export.instance.as_u32(), export.name))
}

/// The core function `def` names in component instance `index`.
#[inline]
pub(crate) fn core_func<T>(store: &mut StoreInner<T>, index: ComponentInstanceId, def: &CoreDef) -> Result<Func> {
    match def {
        CoreDef::Export(e) => core_export(store, index, e)?
            .into_func()
            .ok_or_else(|| anyhow!("core export `{}` is not a function", e.name)),
        CoreDef::Lowered(i) => Ok(store.opaque().component_instance(index).lowered[*i]),
        CoreDef::Fused(f) => store.opaque().component_instance(index).fused[*f]
            .ok_or_else(|| anyhow!("bug: the adapter of fused call {} is used before its module exists", f.as_u32())),
        CoreDef::Intrinsic(i) => Ok(store.opaque().component_instance(index).intrinsics[*i]),
        CoreDef::AsyncBuiltin(i) => Ok(store.opaque().component_instance(index).async_builtins[*i]),
        CoreDef::AsyncCall(i) => Ok(store.opaque().component_instance(index).async_calls[*i]),
    }
}

/// The core item `def` names in component instance `index`.
#[inline]
pub(crate) fn core_item<T>(store: &mut StoreInner<T>, index: ComponentInstanceId, def: &CoreItemDef) -> Result<Extern> {
    match def {
        CoreItemDef::Func(f) => core_func(store, index, f).map(Extern::Func),
        CoreItemDef::Export(e) => core_export(store, index, e),
    }
}
