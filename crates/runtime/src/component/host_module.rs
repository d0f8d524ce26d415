//! Core modules a host provides to a component (`Linker::module`): checking one against the
//! type the component gives it, and ordering the component's arguments as its imports.
//!
//! The component model lets the host's module be a subtype of the declared type: it may
//! import less than the component passes and export more than the component uses. Instance
//! creation itself is the core `Instance::new`.

use super::item_types::extern_type;
use crate::extern_type::extern_type_matches;
use crate::{Extern, Module};
use anyhow::{Result, anyhow, bail};
use weld_environ::component::info::CoreModuleType;

/// Checks the host's `module` (imported as `name`) against the component's type `ty` for it.
pub(crate) fn check_module(name: &str, module: &Module, ty: &CoreModuleType) -> Result<()> {
    for (export, declared) in &ty.exports {
        let declared = extern_type(declared);
        let Some(actual) = module.exports().find(|e| e.name() == export).map(|e| e.ty()) else {
            bail!("core module `{name}` must export `{export}`, a {}, but it does not", declared.describe());
        };
        if !extern_type_matches(&declared, &actual) {
            bail!(
                "core module `{name}`: export `{export}` must be a {}, but it is a {}",
                declared.describe(),
                actual.describe()
            );
        }
    }
    for import in module.imports() {
        let declared = ty.imports.iter().find(|(m, n, _)| m == import.module() && n == import.name());
        let Some((_, _, declared)) = declared else {
            bail!(
                "core module `{name}` imports `{}::{}`, which the component does not pass it",
                import.module(),
                import.name()
            );
        };
        let (required, given) = (import.ty(), extern_type(declared));
        if !extern_type_matches(&required, &given) {
            bail!(
                "core module `{name}`: import `{}::{}` must be a {}, but the component passes a {}",
                import.module(),
                import.name(),
                required.describe(),
                given.describe()
            );
        }
    }
    Ok(())
}

/// The component's arguments (one per import of `ty`, in its order) as `module`'s imports,
/// in the module's order.
pub(crate) fn module_imports(module: &Module, ty: &CoreModuleType, args: Vec<Extern>) -> Result<Vec<Extern>> {
    module
        .imports()
        .map(|import| {
            ty.imports
                .iter()
                .position(|(m, n, _)| m == import.module() && n == import.name())
                .map(|i| args[i].clone())
                .ok_or_else(|| anyhow!("no argument for import `{}::{}`", import.module(), import.name()))
        })
        .collect()
}
