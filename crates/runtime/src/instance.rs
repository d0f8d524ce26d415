//! Instantiation of a module and access to an instance's exports.
//!
//! `Instance::new` checks each import against the module's declared type, builds the
//! VMContext (function references, memories, tables, globals), evaluates constant
//! expressions, applies active element then data segments, and runs the start function.

use crate::func::call_raw;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::typed::{TypedFunc, WasmTyList};
use crate::vm::libcalls::libcall_table;
use crate::vm::table::VmTable;
use crate::vm::vmcontext::{InstanceData, InstanceId, StoreIndex, VMFuncRef, VMGlobalDefinition, VmGlobal};
use crate::{Engine, Extern, ExternType, Func, Global, Memory, Module, Table, Trap};
use anyhow::{Context, Result, bail};
use std::ptr::NonNull;
use weld_environ::*;

/// An instance of a module in a store.
#[derive(Clone, Copy, Debug)]
pub struct Instance {
    store: StoreId,
    id: InstanceId,
}

impl Instance {
    pub(crate) fn from_id(store: StoreId, id: InstanceId) -> Instance {
        Instance { store, id }
    }

    /// Instantiates `module` with `imports`, given in the order of the module's imports.
    pub fn new(mut store: impl AsContextMut, module: &Module, imports: &[Extern]) -> Result<Instance> {
        let store = store.as_context_mut();
        let id = instantiate(store.opaque_mut(), module, imports)?;
        let instance = Instance { store: store.opaque().id(), id };
        if let Some(start) = module.env().start {
            let f = instance.func(store.opaque(), start);
            // SAFETY: the start function takes no parameters and returns no results.
            unsafe { call_raw(store, f, None, &mut [])? };
        }
        Ok(instance)
    }

    fn func(&self, s: &StoreOpaque, f: FuncIndex) -> Func {
        let ptr = s.instance(self.id).func_ref(f);
        Func::from_raw(self.store, NonNull::new(ptr).unwrap())
    }

    fn extern_for(&self, s: &StoreOpaque, e: EntityRef) -> Extern {
        let inst = s.instance(self.id);
        match e {
            EntityRef::Func(f) => Extern::Func(self.func(s, f)),
            EntityRef::Memory(m) => Extern::Memory(Memory { store: self.store, index: inst.memories[m.0 as usize] }),
            EntityRef::Table(t) => Extern::Table(Table { store: self.store, index: inst.tables[t.0 as usize] }),
            EntityRef::Global(g) => Extern::Global(Global { store: self.store, index: inst.globals[g.0 as usize] }),
        }
    }

    /// The export named `name`.
    pub fn get_export(&self, store: impl AsContext, name: &str) -> Option<Extern> {
        let s = store.as_context().opaque();
        s.check_owner(self.store);
        let e = s.instance(self.id).module.export(name)?;
        Some(self.extern_for(s, e))
    }

    /// Every export, in order.
    pub fn exports(&self, store: impl AsContext) -> Vec<(String, Extern)> {
        let s = store.as_context().opaque();
        s.check_owner(self.store);
        let module = s.instance(self.id).module.clone();
        module.env().exports.iter().map(|(n, e)| (n.clone(), self.extern_for(s, *e))).collect()
    }

    /// The exported function `name`.
    pub fn get_func(&self, store: impl AsContext, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported memory `name`.
    pub fn get_memory(&self, store: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported table `name`.
    pub fn get_table(&self, store: impl AsContext, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global `name`.
    pub fn get_global(&self, store: impl AsContext, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// The exported function `name` as a typed function.
    pub fn get_typed_func<P: WasmTyList, R: WasmTyList>(
        &self,
        store: impl AsContext,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        let s = store.as_context();
        let f = self.get_func(s, name).with_context(|| format!("no exported function named `{name}`"))?;
        f.typed(s).with_context(|| format!("exported function `{name}`"))
    }
}

/// Checks an import against the module's declared type.
fn check_import(s: &StoreOpaque, import: &weld_environ::Import, expected: &ExternType, actual: &Extern) -> Result<()> {
    if let Extern::Func(f) = actual {
        s.check_owner(f.store_id());
    }
    let actual_ty = actual.ty_in(s);
    if !extern_type_matches(expected, &actual_ty) {
        bail!(
            "incompatible import type for `{}::{}`: expected {}, found {}",
            import.module,
            import.name,
            expected.describe(),
            actual_ty.describe()
        );
    }
    Ok(())
}

/// Whether an item of type `actual` may be used where `expected` is (the core spec's import
/// matching: equal function types, global subtyping, limits within the expected ones).
pub(crate) fn extern_type_matches(expected: &ExternType, actual: &ExternType) -> bool {
    match (expected, actual) {
        (ExternType::Func(e), ExternType::Func(a)) => e == a,
        (ExternType::Global(e), ExternType::Global(a)) => {
            // A mutable global's type must match exactly; an immutable one may be a subtype.
            e.mutable == a.mutable && (e.ty == a.ty || (!e.mutable && is_subtype(a.ty, e.ty)))
        }
        (ExternType::Memory(e), ExternType::Memory(a)) => {
            e.memory64 == a.memory64 && e.shared == a.shared && limits_match(e.minimum, e.maximum, a.minimum, a.maximum)
        }
        (ExternType::Table(e), ExternType::Table(a)) => {
            e.element == a.element && e.table64 == a.table64 && limits_match(e.minimum, e.maximum, a.minimum, a.maximum)
        }
        _ => false,
    }
}

/// Whether a value of type `a` may be used where `b` is expected.
fn is_subtype(a: ValType, b: ValType) -> bool {
    match (a, b) {
        (ValType::Ref(a), ValType::Ref(b)) => a.heap == b.heap && (b.nullable || !a.nullable),
        _ => a == b,
    }
}

fn limits_match(e_min: u64, e_max: Option<u64>, a_min: u64, a_max: Option<u64>) -> bool {
    a_min >= e_min
        && match e_max {
            None => true,
            Some(e) => a_max.is_some_and(|a| a <= e),
        }
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
        check_import(s, import, &ExternType::of_entity(module, import.entity), actual)?;
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
            (EntityRef::Func(f), Extern::Func(func)) => {
                // SAFETY: the function belongs to this store (checked above), so its
                // VMFuncRef is alive; the destination is this instance's slot for `f`.
                unsafe { *s.instance(id).func_ref(f) = *func.func_ref_ptr() };
            }
            (EntityRef::Memory(_), Extern::Memory(m)) => s.instance_mut(id).memories.push(m.index),
            (EntityRef::Table(_), Extern::Table(t)) => s.instance_mut(id).tables.push(t.index),
            (EntityRef::Global(_), Extern::Global(g)) => s.instance_mut(id).globals.push(g.index),
            _ => unreachable!("import kinds were checked"),
        }
    }

    // Defined functions.
    for f in (env.num_imported_funcs..env.functions.len()).map(|i| FuncIndex(i as u32)) {
        let type_id = module.type_ids()[env.functions[f].0 as usize];
        let func_ref = VMFuncRef::new(module.function_code(f), vmctx, type_id);
        // SAFETY: the slot lies in this instance's VMContext.
        unsafe { *s.instance(id).func_ref(f) = func_ref };
    }

    // Defined memories.
    for (d, m) in env.memories.values().skip(env.num_imported_memories).enumerate() {
        let index = s.new_memory(*m, module.memory_image(d))?;
        s.instance_mut(id).memories.push(index);
    }

    // Defined globals, then tables (whose initializers may read globals).
    for (i, init) in env.global_inits.iter().enumerate() {
        let ty = env.globals[GlobalIndex((env.num_imported_globals + i) as u32)];
        let value = eval_const(s, id, init)?;
        let index = s.push_global(VmGlobal { def: Box::new(VMGlobalDefinition { bytes: value.to_le_bytes() }), ty });
        s.instance_mut(id).globals.push(index);
    }
    for plan in env.tables.values().skip(env.num_imported_tables) {
        let init = match &plan.init {
            Some(e) => eval_const(s, id, e)? as u64,
            None => 0,
        };
        let index = s.push_table(VmTable::new(plan.ty, init)?);
        s.instance_mut(id).tables.push(index);
    }

    // Pointers to memories, tables and globals.
    for (i, index) in s.instance(id).memories.clone().into_iter().enumerate() {
        let def: *const _ = &*s.memory(index).def;
        s.instance_mut(id).write_usize(offsets.memory(i as u32), def as usize);
    }
    for (i, index) in s.instance(id).tables.clone().into_iter().enumerate() {
        let def: *const _ = &*s.table(index).def;
        s.instance_mut(id).write_usize(offsets.table(i as u32), def as usize);
    }
    for (i, index) in s.instance(id).globals.clone().into_iter().enumerate() {
        let def: *const _ = &*s.global(index).def;
        s.instance_mut(id).write_usize(offsets.global(i as u32), def as usize);
    }

    initialize_elements(s, id)?;
    initialize_data(s, id)?;
    Ok(id)
}

/// Evaluates a constant expression in the context of instance `id`, returning the raw bits.
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
                let Some(index) = inst.globals.get(g.0 as usize) else {
                    bail!("constant expression reads global {} before it is defined", g.0)
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
pub(crate) fn element_items(s: &StoreOpaque, id: InstanceId, seg: &ElementSegment) -> Result<Vec<u64>> {
    let inst = s.instance(id);
    match &seg.items {
        ElementItems::Functions(fs) => Ok(fs.iter().map(|f| inst.func_ref(*f) as usize as u64).collect()),
        ElementItems::Expressions(es) => es.iter().map(|e| eval_const(s, id, e).map(|v| v as u64)).collect(),
    }
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
                let index = s.instance(id).tables[table.0 as usize];
                let t = s.table_mut(index);
                let start = offset as usize;
                match start.checked_add(items.len()).filter(|end| *end as u64 <= t.size()) {
                    Some(end) => t.elements_mut()[start..end].copy_from_slice(&items),
                    None => return Err(anyhow::Error::new(Trap::TableOutOfBounds)),
                }
            }
        }
        s.instance_mut(id).dropped_elems[i.0 as usize] = true;
    }
    Ok(())
}

fn initialize_data(s: &mut StoreOpaque, id: InstanceId) -> Result<()> {
    let module = s.instance(id).module.clone();
    for (i, seg) in module.env().data.iter() {
        let Some(active) = &seg.active else { continue };
        if module.data_in_image(i.0 as usize) {
            s.instance_mut(id).dropped_data[i.0 as usize] = true;
            continue;
        }
        let offset = eval_const(s, id, &active.offset)? as u64;
        let index: StoreIndex = s.instance(id).memories[active.memory.0 as usize];
        let mem = s.memory_mut(index).data_mut();
        let start = offset as usize;
        match start.checked_add(seg.data.len()).filter(|end| *end <= mem.len() && offset <= usize::MAX as u64) {
            Some(end) => mem[start..end].copy_from_slice(&seg.data),
            None => return Err(anyhow::Error::new(Trap::MemoryOutOfBounds)),
        }
        s.instance_mut(id).dropped_data[i.0 as usize] = true;
    }
    Ok(())
}
