//! Instantiation of a module (`Instance::new`); the exports of an instance are read in
//! `exports.rs`.
//!
//! `Instance::new` checks each import against the module's declared type, builds the
//! VMContext (function references, memories, tables, globals), evaluates constant
//! expressions, applies active element then data segments, and runs the start function.

use crate::const_eval::{element_items, eval_const};
use crate::extern_type::{ExternType, extern_type_matches};
use crate::func::call_raw;
use crate::handles::{Extern, Instance};
use crate::libcalls::libcall_table;
use crate::store::{AsContextMut, StoreOpaque};
use crate::vm::vmcontext::{InstanceData, InstanceId, StoreIndex, VMFuncRef, VMGlobalDefinition, VmGlobal};
use crate::{Engine, Module, Trap};
use anyhow::{Result, bail};
use weld_environ::*;

impl Instance {
    /// Instantiates `module` with `imports`, given in the order of the module's imports.
    pub fn new(mut store: impl AsContextMut, module: &Module, imports: &[Extern]) -> Result<Instance> {
        let store = store.as_context_mut();
        let id = instantiate(store.opaque_mut(), module, imports)?;
        let instance = Instance::from_id(store.opaque().id(), id);
        if let Some(start) = module.env().start {
            let f = instance.func(store.opaque(), start);
            // SAFETY: the start function takes no parameters and returns no results.
            unsafe { call_raw(store, f, None, &mut [])? };
        }
        Ok(instance)
    }
}

/// Checks an import of `module` against its declared type.
fn check_import(s: &StoreOpaque, module: &Module, import: &weld_environ::Import, actual: &Extern) -> Result<()> {
    let env = module.env();
    let expected = ExternType::of_entity(env, module.type_ids(), import.entity);
    // Functions and tags must be of the very type declared, not only of its shape: types of
    // two recursion groups are different types (see `type_registry`).
    let (expected_id, actual_id) = match (import.entity, actual) {
        (EntityIndex::Func(f), Extern::Func(func)) => {
            s.check_owner(func.store_id());
            (Some(module.type_ids()[env.functions[f].index()]), Some(func.type_id()))
        }
        (EntityIndex::Tag(t), Extern::Tag(tag)) => {
            s.check_owner(tag.store);
            (Some(module.type_ids()[env.tags[t].index()]), Some(s.tags[tag.index].type_id))
        }
        _ => (None, None),
    };
    let actual_ty = actual.ty_in(s);
    if !extern_type_matches(&expected, &actual_ty) {
        bail!(
            "incompatible import type for `{}::{}`: expected {}, found {}",
            import.module,
            import.name,
            expected.describe(),
            actual_ty.describe()
        );
    }
    if expected_id != actual_id {
        bail!(
            "incompatible import type for `{}::{}`: expected {}, found one of the same shape but a \
             different type (types declared in different recursion groups, or at different \
             places of one, are distinct)",
            import.module,
            import.name,
            expected.describe(),
        );
    }
    Ok(())
}

fn instantiate(s: &mut StoreOpaque, module: &Module, imports: &[Extern]) -> Result<InstanceId> {
    if !Engine::same(s.engine(), module.engine()) {
        bail!("the module was compiled with a different engine than the store's");
    }
    let env = module.env();
    if imports.len() != env.imports.len() {
        bail!("the module has {} imports, but {} were given", env.imports.len(), imports.len());
    }
    for (import, actual) in env.imports.iter().zip(imports) {
        check_import(s, module, import, actual)?;
    }

    let name = ModuleName(module.name());
    let (memories, tables) =
        (env.memories.len() - env.num_imported_memories, env.tables.len() - env.num_imported_tables);
    s.limits.count_instance(&name, memories, tables)?;
    if let Err(e) = s.admit_core_instance(env) {
        s.limits.uncount_instance(memories, tables);
        return Err(e);
    }
    let id = s.push_instance(|id, store| InstanceData::new(id, module.clone(), store));
    let offsets = module.offsets().clone();
    let vmctx = s.instance(id).vmctx();
    let store_context: *mut _ = &mut *s.store_context;
    {
        let inst = s.instance_mut(id);
        inst.write_u32(VMOffsets::MAGIC, VMCONTEXT_MAGIC);
        inst.write_usize(VMOffsets::STORE_CONTEXT, store_context as usize);
        inst.write_usize(VMOffsets::LIBCALLS, libcall_table().as_ptr() as usize);
        inst.write_usize(VMOffsets::TYPE_IDS, module.type_ids().as_ptr() as usize);
        let inst_ptr: *mut InstanceData = inst;
        inst.write_usize(VMOffsets::INSTANCE, inst_ptr as usize);
    }

    // Imports.
    for (import, actual) in env.imports.iter().zip(imports) {
        match (import.entity, actual) {
            (EntityIndex::Func(f), Extern::Func(func)) => {
                // SAFETY: the function belongs to this store (checked above), so its
                // VMFuncRef is alive; the destination is this instance's slot for `f`.
                unsafe { *s.instance(id).func_ref(f) = *func.func_ref_ptr() };
            }
            (EntityIndex::Memory(_), Extern::Memory(m)) => {
                s.instance_mut(id).memories.push(m.index);
            }
            (EntityIndex::Table(_), Extern::Table(t)) => {
                s.instance_mut(id).tables.push(t.index);
            }
            (EntityIndex::Global(_), Extern::Global(g)) => {
                s.instance_mut(id).globals.push(g.index);
            }
            (EntityIndex::Tag(_), Extern::Tag(t)) => {
                s.instance_mut(id).tags.push(t.index);
            }
            _ => unreachable!("import kinds were checked"),
        }
    }

    // Defined functions.
    for f in (env.num_imported_funcs..env.functions.len()).map(|i| FuncIndex::from_u32(i as u32)) {
        let type_id = module.type_ids()[env.functions[f].index()];
        let func_ref = VMFuncRef::new(module.function_code(f), vmctx, type_id);
        // SAFETY: the slot lies in this instance's VMContext.
        unsafe { *s.instance(id).func_ref(f) = func_ref };
    }

    // Defined memories.
    for (d, m) in env.memories.values().skip(env.num_imported_memories).enumerate() {
        let index = s.new_instance_memory(*m, module.memory_image(d))?;
        s.instance_mut(id).memories.push(index);
    }

    // Defined tags.
    for ty in env.tags.values().skip(env.num_imported_tags) {
        let tag = crate::vm::exception_heap::VmTag::new(env.types[*ty].clone(), module.type_ids()[ty.index()]);
        let index = s.tags.push(tag);
        s.instance_mut(id).tags.push(index);
    }

    // Defined globals, then tables (whose initializers may read globals).
    for (i, init) in env.global_inits.iter().enumerate() {
        let ty = env.globals[GlobalIndex::from_u32((env.num_imported_globals + i) as u32)];
        let ty = crate::extern_type::canonical_global(ty, module.type_ids());
        let value = eval_const(s, id, init)?;
        let index = s.push_global(VmGlobal { def: Box::new(VMGlobalDefinition { bytes: value.to_le_bytes() }), ty });
        s.instance_mut(id).globals.push(index);
    }
    for plan in env.tables.values().skip(env.num_imported_tables) {
        let init = match &plan.init {
            Some(e) => eval_const(s, id, e)? as u64,
            None => 0,
        };
        let index = s.new_instance_table(crate::extern_type::canonical_table(plan.ty, module.type_ids()), init)?;
        s.instance_mut(id).tables.push(index);
    }

    // Pointers to memories, tables and globals.
    for (i, index) in s.instance(id).memories.clone() {
        let def: *const _ = &*s.memory(index).def;
        s.instance_mut(id).write_usize(offsets.memory(i.as_u32()), def as usize);
    }
    for (i, index) in s.instance(id).tables.clone() {
        let def: *const _ = &*s.table(index).def;
        s.instance_mut(id).write_usize(offsets.table(i.as_u32()), def as usize);
    }
    for (i, index) in s.instance(id).globals.clone() {
        let def: *const _ = &*s.global(index).def;
        s.instance_mut(id).write_usize(offsets.global(i.as_u32()), def as usize);
    }
    for (i, index) in s.instance(id).tags.clone() {
        let identity = s.tags[index].identity();
        s.instance_mut(id).write_usize(offsets.tag(i.as_u32()), identity);
    }

    initialize_elements(s, id)?;
    initialize_data(s, id)?;
    Ok(id)
}

fn initialize_elements(s: &mut StoreOpaque, id: InstanceId) -> Result<()> {
    let module = s.instance(id).module.clone();
    for (i, seg) in module.env().elements.iter() {
        match &seg.mode {
            ElementMode::Passive => continue,
            ElementMode::Declared => {}
            ElementMode::Active { table, offset } => {
                let items = element_items(s, id, seg)?;
                let offset = eval_const(s, id, offset)? as u64;
                let index = s.instance(id).tables[*table];
                let t = s.table_mut(index);
                let start = offset as usize;
                match start.checked_add(items.len()).filter(|end| *end as u64 <= t.size()) {
                    Some(end) => t.elements_mut()[start..end].copy_from_slice(&items),
                    None => return Err(anyhow::Error::new(Trap::TableOutOfBounds)),
                }
            }
        }
        s.instance_mut(id).dropped_elems[i] = true;
    }
    Ok(())
}

fn initialize_data(s: &mut StoreOpaque, id: InstanceId) -> Result<()> {
    let module = s.instance(id).module.clone();
    for (i, seg) in module.env().data.iter() {
        let Some(active) = &seg.active else { continue };
        if module.data_in_image(i.index()) {
            s.instance_mut(id).dropped_data[i] = true;
            continue;
        }
        let offset = eval_const(s, id, &active.offset)? as u64;
        let index: StoreIndex = s.instance(id).memories[active.memory];
        let mem = s.memory_mut(index).data_mut();
        let start = offset as usize;
        match start.checked_add(seg.data.len()).filter(|end| *end <= mem.len() && offset <= usize::MAX as u64) {
            Some(end) => mem[start..end].copy_from_slice(&seg.data),
            None => return Err(anyhow::Error::new(Trap::MemoryOutOfBounds)),
        }
        s.instance_mut(id).dropped_data[i] = true;
    }
    Ok(())
}

/// A module's name for messages: `module `name`` or `a module`.
struct ModuleName<'a>(Option<&'a str>);

impl std::fmt::Display for ModuleName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(name) => write!(f, "module `{name}`"),
            None => f.write_str("a module"),
        }
    }
}
