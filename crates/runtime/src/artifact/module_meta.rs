//! A module's description in its artifact: weld's translated metadata
//! ([`weld_environ::Module`]: types, functions, tables, memories, globals and their
//! initializers, imports, exports, start, element segments, data segments, names) and which
//! data segments its memory images hold, written with the artifact's own encoding, so that
//! loading a module neither keeps nor translates its WebAssembly binary.
//!
//! Bytes that the loader need not read are not in the description but placed apart in the
//! artifact, and the description refers to them: data segments (in a blob, or, for a
//! segment whose bytes are those of its memory's image, in that image) and the name
//! section's function names (an index and a text, see [`FuncNames`]). The loaded module
//! refers to them where they lie in the artifact's mapping ([`SharedBytes`]), so loading
//! copies none of them.
//!
//! The description is covered by the artifact's checksum, and it is read with bounds checks
//! and then checked for consistency (every index in range, every constant expression
//! well-formed, every image within its memory's minimum size), so that a description that
//! is damaged, or forged with a recomputed checksum, is refused before anything uses it
//! rather than making the runtime panic later. Components do not use it: they are
//! translated again from their binary (which is more code to describe, not slower to load
//! for the components weld runs today).

use super::encoding::{Reader, Writer};
use crate::vm::memory_image::{max_image_len, plan_images};
use crate::vm::mmap::ReadOnlyMapping;
use anyhow::{Result, bail};
use std::ops::Range;
use std::sync::Arc;
use weld_environ::{
    ActiveData, ConstExpr, ConstOp, DataSegment, ElementItems, ElementMode, ElementSegment, EntityIndex, EntityRef,
    FuncIndex, FuncNames, FuncType, GlobalIndex, GlobalType, GroupType, HeapType, Import, MemoryIndex, MemoryType,
    Module, RecGroup, RefType, SharedBytes, TableIndex, TablePlan, TableType, TypeIndex, ValType,
};

/// A module's description, encoded, with the bytes it refers to.
pub(crate) struct Encoded<'a> {
    /// The description.
    pub(crate) description: Vec<u8>,
    /// Bytes it refers to as blobs.
    pub(crate) blobs: Vec<&'a [u8]>,
    /// Memory images it refers to.
    pub(crate) images: Vec<Vec<u8>>,
}

/// A module's description, read.
pub(crate) struct Decoded {
    /// The module.
    pub(crate) env: Module,
    /// For each defined memory, the number of its image in the artifact, if it has one.
    pub(crate) images: Vec<Option<usize>>,
    /// Whether each data segment is in its memory's image.
    pub(crate) in_image: Vec<bool>,
}

/// Where bytes the description refers to lie: a part of a blob or of an image.
const IN_BLOB: u8 = 0;
const IN_IMAGE: u8 = 1;

/// Encodes `env`, planning its memory images (they are written whatever the engine's
/// `memory_init_cow`: the engine that loads the artifact decides whether to use them).
pub(crate) fn encode(env: &Module) -> Encoded<'_> {
    let mut w = Writer::default();
    let mut blobs: Vec<&[u8]> = Vec::new();
    let mut images = Vec::new();
    let mut image_of_memory = Vec::new();
    let mut in_image = vec![None; env.data.len()];
    for plan in plan_images(env) {
        image_of_memory.push(plan.map(|plan| {
            for i in &plan.segments {
                in_image[i.index()] = Some(images.len());
            }
            images.push(plan.bytes);
            images.len() - 1
        }));
    }
    opt(&mut w, env.name.as_deref(), |w, n| w.str(n));
    // The recursion groups hold the types (`types` is them with concrete references erased).
    w.len(env.rec_groups.len());
    for group in &env.rec_groups {
        w.len(group.types.len());
        for t in group.types.iter() {
            func_type(&mut w, &t.ty);
            w.u8(t.is_final.into());
        }
    }
    w.len(env.functions.len());
    for ty in env.functions.values() {
        w.u32(ty.as_u32());
    }
    w.len(env.tables.len());
    for t in env.tables.values() {
        table_type(&mut w, &t.ty);
        opt(&mut w, t.init.as_ref(), const_expr);
    }
    w.len(env.memories.len());
    for m in env.memories.values() {
        memory_type(&mut w, m);
    }
    w.len(env.globals.len());
    for g in env.globals.values() {
        val_type(&mut w, g.ty);
        w.u8(g.mutable.into());
    }
    w.len(env.global_inits.len());
    for e in &env.global_inits {
        const_expr(&mut w, e);
    }
    w.len(env.tags.len());
    for t in env.tags.values() {
        w.u32(t.as_u32());
    }
    for n in [
        env.num_imported_funcs,
        env.num_imported_tables,
        env.num_imported_memories,
        env.num_imported_globals,
        env.num_imported_tags,
    ] {
        w.len(n);
    }
    w.len(env.imports.len());
    for i in &env.imports {
        w.str(&i.module);
        w.str(&i.name);
        entity(&mut w, i.entity);
    }
    w.len(env.exports.len());
    for (name, e) in &env.exports {
        w.str(name);
        entity(&mut w, *e);
    }
    opt(&mut w, env.start.as_ref(), |w, f| w.u32(f.as_u32()));
    w.len(env.elements.len());
    for e in env.elements.values() {
        match &e.mode {
            ElementMode::Passive => w.u8(0),
            ElementMode::Active { table, offset } => {
                w.u8(1);
                w.u32(table.as_u32());
                const_expr(&mut w, offset);
            }
            ElementMode::Declared => w.u8(2),
        }
        ref_type(&mut w, e.ty);
        match &e.items {
            ElementItems::Functions(fs) => {
                w.u8(0);
                w.len(fs.len());
                fs.iter().for_each(|f| w.u32(f.as_u32()));
            }
            ElementItems::Expressions(es) => {
                w.u8(1);
                w.len(es.len());
                es.iter().for_each(|e| const_expr(&mut w, e));
            }
        }
    }
    w.len(env.data.len());
    for (i, seg) in env.data.iter() {
        opt(&mut w, seg.active.as_ref(), |w, a| {
            w.u32(a.memory.as_u32());
            const_expr(w, &a.offset);
        });
        // A segment in an image is usually the image's bytes at its offset (unless a later
        // segment overwrote some of them): then it refers to them instead of a copy.
        let at = match (in_image[i.index()], seg.active.as_ref().map(|a| a.offset.ops.as_slice())) {
            (Some(k), Some([ConstOp::I32Const(o)])) => Some((k, *o as u32 as usize)),
            (Some(k), Some([ConstOp::I64Const(o)])) => Some((k, *o as u64 as usize)),
            _ => None,
        };
        match at {
            Some((k, o)) if images[k].get(o..o + seg.data.len()) == Some(&seg.data[..]) => {
                w.u8(IN_IMAGE);
                w.len(k);
                w.len(o);
                w.len(seg.data.len());
            }
            _ => blob(&mut w, &mut blobs, &seg.data),
        }
    }
    let (index, text) = env.func_names.parts();
    blob(&mut w, &mut blobs, index);
    blob(&mut w, &mut blobs, text);
    for image in &image_of_memory {
        opt(&mut w, image.as_ref(), |w, k| w.len(*k));
    }
    for i in &in_image {
        w.u8(i.is_some().into());
    }
    Encoded { description: w.bytes, blobs, images }
}

/// Refers to `bytes` as the next blob.
fn blob<'a>(w: &mut Writer, blobs: &mut Vec<&'a [u8]>, bytes: &'a [u8]) {
    w.u8(IN_BLOB);
    w.len(blobs.len());
    w.len(0);
    w.len(bytes.len());
    blobs.push(bytes);
}

/// Reads the description `bytes` of an artifact `mapping` whose blobs and images lie at
/// `blobs` and `images`, and checks that it is consistent.
pub(crate) fn decode(
    bytes: &[u8],
    mapping: &Arc<ReadOnlyMapping>,
    blobs: &[Range<usize>],
    images: &[Range<usize>],
) -> Result<Decoded> {
    let owner: Arc<dyn AsRef<[u8]> + Send + Sync> = mapping.clone();
    let mut r = Reader::new(bytes, "module description");
    let r = &mut r;
    let mut env = Module { name: read_opt(r, |r| Ok(r.str()?.to_string()))?, ..Module::default() };
    for _ in 0..r.len()? {
        let mut types = Vec::new();
        for _ in 0..r.len()? {
            let ty = read_func_type(r)?;
            env.types.push(ty.without_concrete_refs());
            types.push(GroupType { ty, is_final: r.u8()? != 0 });
        }
        env.rec_groups.push(RecGroup { types: types.into() });
    }
    for _ in 0..r.len()? {
        env.functions.push(TypeIndex::from_u32(r.u32()?));
    }
    for _ in 0..r.len()? {
        let ty = read_table_type(r)?;
        env.tables.push(TablePlan { ty, init: read_opt(r, read_const_expr)? });
    }
    for _ in 0..r.len()? {
        env.memories.push(read_memory_type(r)?);
    }
    for _ in 0..r.len()? {
        env.globals.push(GlobalType { ty: read_val_type(r)?, mutable: read_bool(r)? });
    }
    for _ in 0..r.len()? {
        env.global_inits.push(read_const_expr(r)?);
    }
    for _ in 0..r.len()? {
        env.tags.push(TypeIndex::from_u32(r.u32()?));
    }
    env.num_imported_funcs = r.len()?;
    env.num_imported_tables = r.len()?;
    env.num_imported_memories = r.len()?;
    env.num_imported_globals = r.len()?;
    env.num_imported_tags = r.len()?;
    for _ in 0..r.len()? {
        let (module, name) = (r.str()?.to_string(), r.str()?.to_string());
        env.imports.push(Import { module, name, entity: read_entity(r)? });
    }
    let n = r.len()?;
    env.exports.reserve(n.min(bytes.len()));
    for _ in 0..n {
        let name = r.str()?.to_string();
        env.exports.insert(name, read_entity(r)?);
    }
    env.start = read_opt(r, |r| Ok(FuncIndex::from_u32(r.u32()?)))?;
    for _ in 0..r.len()? {
        let mode = match r.u8()? {
            0 => ElementMode::Passive,
            1 => ElementMode::Active { table: TableIndex::from_u32(r.u32()?), offset: read_const_expr(r)? },
            2 => ElementMode::Declared,
            m => bail!("its module description holds an unknown element mode ({m})"),
        };
        let ty = read_ref_type(r)?;
        let items = match r.u8()? {
            0 => {
                let n = r.len()?;
                let mut fs = Vec::with_capacity(n.min(bytes.len() / 4));
                for _ in 0..n {
                    fs.push(FuncIndex::from_u32(r.u32()?));
                }
                ElementItems::Functions(fs.into())
            }
            1 => {
                let n = r.len()?;
                let mut es = Vec::with_capacity(n.min(bytes.len()));
                for _ in 0..n {
                    es.push(read_const_expr(r)?);
                }
                ElementItems::Expressions(es.into())
            }
            k => bail!("its module description holds an unknown kind of element items ({k})"),
        };
        env.elements.push(ElementSegment { mode, ty, items });
    }
    let piece = |r: &mut Reader<'_>| -> Result<SharedBytes> {
        let (region, index, start, len) = (r.u8()?, r.len()?, r.len()?, r.len()?);
        let whole = match region {
            IN_BLOB => blobs.get(index),
            IN_IMAGE => images.get(index),
            _ => None,
        };
        let range = whole
            .and_then(|whole| {
                let at = whole.start.checked_add(start)?;
                let end = at.checked_add(len)?;
                (end <= whole.end).then_some(at..end)
            })
            .ok_or_else(|| anyhow::anyhow!("its module description refers to bytes outside the artifact's parts"))?;
        SharedBytes::new(owner.clone(), range)
            .ok_or_else(|| anyhow::anyhow!("its module description refers to bytes outside the file"))
    };
    for _ in 0..r.len()? {
        let active =
            read_opt(r, |r| Ok(ActiveData { memory: MemoryIndex::from_u32(r.u32()?), offset: read_const_expr(r)? }))?;
        env.data.push(DataSegment { active, data: piece(r)? });
    }
    let (index, text) = (piece(r)?, piece(r)?);
    env.func_names = FuncNames::from_parts(index, text);
    let defined_memories = env.memories.len().checked_sub(env.num_imported_memories);
    let mut image_of_memory = Vec::new();
    for _ in 0..defined_memories.unwrap_or(0) {
        image_of_memory.push(read_opt(r, |r| r.len())?);
    }
    let mut in_image = Vec::with_capacity(env.data.len());
    for _ in 0..env.data.len() {
        in_image.push(read_bool(r)?);
    }
    r.finish()?;
    let decoded = Decoded { env, images: image_of_memory, in_image };
    check(&decoded, images).map_err(|e| e.context("its module description is inconsistent"))?;
    Ok(decoded)
}

/// Checks what the runtime relies on without checking again: every index in range, counts
/// that agree, constant expressions that leave one value, images that fit their memories.
fn check(d: &Decoded, images: &[Range<usize>]) -> Result<()> {
    let env = &d.env;
    let imported_ok = env.num_imported_funcs <= env.functions.len()
        && env.num_imported_tables <= env.tables.len()
        && env.num_imported_memories <= env.memories.len()
        && env.num_imported_globals <= env.globals.len()
        && env.num_imported_tags <= env.tags.len()
        && env.global_inits.len() == env.globals.len() - env.num_imported_globals;
    if !imported_ok {
        bail!("its counts of imports and definitions disagree");
    }
    // A group's concrete references name its own types or earlier ones.
    let mut group_end = 0;
    for group in &env.rec_groups {
        group_end += group.types.len();
        let in_reach = |t: &ValType| match t {
            ValType::Ref(RefType { heap: HeapType::ConcreteFunc(i), .. }) => (*i as usize) < group_end,
            _ => true,
        };
        if !group.types.iter().all(|t| t.ty.params.iter().chain(t.ty.results.iter()).all(in_reach)) {
            bail!("a function type refers to a type after its recursion group");
        }
    }
    if env.functions.values().any(|t| t.index() >= env.types.len()) {
        bail!("a function has an unknown type");
    }
    if env.tags.values().any(|t| t.index() >= env.types.len()) {
        bail!("a tag has an unknown type");
    }
    let concrete_ok = |r: RefType| match r.heap {
        HeapType::ConcreteFunc(i) => (i as usize) < env.types.len(),
        _ => true,
    };
    let global_ok = |g: &GlobalType| match g.ty {
        ValType::Ref(r) => concrete_ok(r),
        _ => true,
    };
    if !env.globals.values().all(global_ok) || !env.tables.values().all(|t| concrete_ok(t.ty.element)) {
        bail!("a global or table has a reference to an unknown type");
    }
    let func = |f: FuncIndex| f.index() < env.functions.len();
    let entity_ok = |e: &EntityIndex| match *e {
        EntityIndex::Func(f) => func(f),
        EntityIndex::Table(t) => t.index() < env.tables.len(),
        EntityIndex::Memory(m) => m.index() < env.memories.len(),
        EntityIndex::Global(g) => g.index() < env.globals.len(),
        EntityIndex::Tag(t) => t.index() < env.tags.len(),
    };
    let expr_ok = |e: &ConstExpr| {
        let mut depth = 0usize;
        for op in &e.ops {
            depth = match *op {
                ConstOp::RefFunc(f) if !func(f) => return false,
                ConstOp::GlobalGet(g) if g.index() >= env.globals.len() => return false,
                ConstOp::I32Add
                | ConstOp::I32Sub
                | ConstOp::I32Mul
                | ConstOp::I64Add
                | ConstOp::I64Sub
                | ConstOp::I64Mul => match depth.checked_sub(1) {
                    Some(d) if d > 0 => d,
                    _ => return false,
                },
                _ => depth + 1,
            };
        }
        depth == 1
    };
    let imports_ok = env.imports.iter().all(|i| entity_ok(&i.entity));
    let exports_ok = env.exports.values().all(entity_ok);
    if !imports_ok || !exports_ok || env.start.is_some_and(|f| !func(f)) {
        bail!("an import, export or the start function refers to something that does not exist");
    }
    let tables_ok = env.tables.values().all(|t| t.init.as_ref().is_none_or(expr_ok));
    if !tables_ok || !env.global_inits.iter().all(expr_ok) {
        bail!("a table's or a global's initializer is malformed");
    }
    for e in env.elements.values() {
        let mode_ok = match &e.mode {
            ElementMode::Active { table, offset } => table.index() < env.tables.len() && expr_ok(offset),
            _ => true,
        };
        let items_ok = match &e.items {
            ElementItems::Functions(fs) => fs.iter().all(|f| func(*f)),
            ElementItems::Expressions(es) => es.iter().all(expr_ok),
        };
        if !mode_ok || !items_ok {
            bail!("an element segment refers to something that does not exist");
        }
    }
    for (i, seg) in env.data.iter() {
        let Some(active) = &seg.active else {
            if d.in_image[i.index()] {
                bail!("a passive data segment is said to be in an image");
            }
            continue;
        };
        if active.memory.index() >= env.memories.len() || !expr_ok(&active.offset) {
            bail!("a data segment refers to a memory that does not exist");
        }
        let image = active.memory.index().checked_sub(env.num_imported_memories).and_then(|m| d.images[m]);
        if d.in_image[i.index()] && image.is_none() {
            bail!("a data segment is said to be in an image its memory does not have");
        }
    }
    for (m, image) in d.images.iter().enumerate() {
        let Some(k) = image else { continue };
        let Some(range) = images.get(*k) else { bail!("a memory's image does not exist") };
        let ty = &env.memories[MemoryIndex::new(m + env.num_imported_memories)];
        if range.len() as u64 > max_image_len(ty) {
            bail!("a memory's image is larger than the memory");
        }
    }
    Ok(())
}

fn opt<T>(w: &mut Writer, v: Option<T>, f: impl FnOnce(&mut Writer, T)) {
    match v {
        None => w.u8(0),
        Some(v) => {
            w.u8(1);
            f(w, v);
        }
    }
}

fn read_opt<'a, T>(r: &mut Reader<'a>, f: impl FnOnce(&mut Reader<'a>) -> Result<T>) -> Result<Option<T>> {
    match r.u8()? {
        0 => Ok(None),
        1 => f(r).map(Some),
        b => bail!("its module description holds a bad option tag ({b})"),
    }
}

fn read_bool(r: &mut Reader<'_>) -> Result<bool> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        b => bail!("its module description holds a bad boolean ({b})"),
    }
}

fn ref_type(w: &mut Writer, t: RefType) {
    let heap = match t.heap {
        HeapType::Func => 0,
        HeapType::Extern => 1,
        HeapType::Exn => 2,
        HeapType::ConcreteFunc(_) => 3,
    };
    w.u8(u8::from(t.nullable) | (heap << 1));
    if let HeapType::ConcreteFunc(index) = t.heap {
        w.u32(index);
    }
}

fn read_ref_type(r: &mut Reader<'_>) -> Result<RefType> {
    match r.u8()? {
        b @ 0..=7 => {
            let heap = match b >> 1 {
                0 => HeapType::Func,
                1 => HeapType::Extern,
                2 => HeapType::Exn,
                _ => HeapType::ConcreteFunc(r.u32()?),
            };
            Ok(RefType { nullable: b & 1 != 0, heap })
        }
        b => bail!("its module description holds an unknown reference type ({b})"),
    }
}

fn val_type(w: &mut Writer, t: ValType) {
    match t {
        ValType::I32 => w.u8(0),
        ValType::I64 => w.u8(1),
        ValType::F32 => w.u8(2),
        ValType::F64 => w.u8(3),
        ValType::V128 => w.u8(4),
        ValType::Ref(r) => {
            w.u8(5);
            ref_type(w, r);
        }
    }
}

fn read_val_type(r: &mut Reader<'_>) -> Result<ValType> {
    Ok(match r.u8()? {
        0 => ValType::I32,
        1 => ValType::I64,
        2 => ValType::F32,
        3 => ValType::F64,
        4 => ValType::V128,
        5 => ValType::Ref(read_ref_type(r)?),
        b => bail!("its module description holds an unknown value type ({b})"),
    })
}

fn func_type(w: &mut Writer, t: &FuncType) {
    for list in [&t.params, &t.results] {
        w.len(list.len());
        list.iter().for_each(|t| val_type(w, *t));
    }
}

fn read_func_type(r: &mut Reader<'_>) -> Result<FuncType> {
    let mut list = || -> Result<Box<[ValType]>> {
        let n = r.len()?;
        let mut v = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            v.push(read_val_type(r)?);
        }
        Ok(v.into())
    };
    let params = list()?;
    Ok(FuncType { params, results: list()? })
}

fn limits(w: &mut Writer, min: u64, max: Option<u64>) {
    w.u64(min);
    opt(w, max, Writer::u64);
}

fn read_limits(r: &mut Reader<'_>) -> Result<(u64, Option<u64>)> {
    Ok((r.u64()?, read_opt(r, Reader::u64)?))
}

fn table_type(w: &mut Writer, t: &TableType) {
    ref_type(w, t.element);
    limits(w, t.minimum, t.maximum);
    w.u8(t.table64.into());
}

fn read_table_type(r: &mut Reader<'_>) -> Result<TableType> {
    let element = read_ref_type(r)?;
    let (minimum, maximum) = read_limits(r)?;
    Ok(TableType { element, minimum, maximum, table64: read_bool(r)? })
}

fn memory_type(w: &mut Writer, m: &MemoryType) {
    limits(w, m.minimum, m.maximum);
    w.u8(m.memory64.into());
    w.u8(m.shared.into());
}

fn read_memory_type(r: &mut Reader<'_>) -> Result<MemoryType> {
    let (minimum, maximum) = read_limits(r)?;
    Ok(MemoryType { minimum, maximum, memory64: read_bool(r)?, shared: read_bool(r)? })
}

fn entity(w: &mut Writer, e: EntityIndex) {
    let (kind, index) = match e {
        EntityIndex::Func(i) => (0, i.as_u32()),
        EntityIndex::Table(i) => (1, i.as_u32()),
        EntityIndex::Memory(i) => (2, i.as_u32()),
        EntityIndex::Global(i) => (3, i.as_u32()),
        EntityIndex::Tag(i) => (4, i.as_u32()),
    };
    w.u8(kind);
    w.u32(index);
}

fn read_entity(r: &mut Reader<'_>) -> Result<EntityIndex> {
    let kind = r.u8()?;
    let i = r.u32()?;
    Ok(match kind {
        0 => EntityIndex::Func(FuncIndex::from_u32(i)),
        1 => EntityIndex::Table(TableIndex::from_u32(i)),
        2 => EntityIndex::Memory(MemoryIndex::from_u32(i)),
        3 => EntityIndex::Global(GlobalIndex::from_u32(i)),
        4 => EntityIndex::Tag(weld_environ::TagIndex::from_u32(i)),
        k => bail!("its module description holds an unknown kind of entity ({k})"),
    })
}

fn const_expr(w: &mut Writer, e: &ConstExpr) {
    w.len(e.ops.len());
    for op in &e.ops {
        match *op {
            ConstOp::I32Const(v) => {
                w.u8(0);
                w.u32(v as u32);
            }
            ConstOp::I64Const(v) => {
                w.u8(1);
                w.u64(v as u64);
            }
            ConstOp::F32Const(v) => {
                w.u8(2);
                w.u32(v);
            }
            ConstOp::F64Const(v) => {
                w.u8(3);
                w.u64(v);
            }
            ConstOp::V128Const(v) => {
                w.u8(4);
                w.bytes.extend_from_slice(&v.to_le_bytes());
            }
            ConstOp::RefNull => w.u8(5),
            ConstOp::RefFunc(f) => {
                w.u8(6);
                w.u32(f.as_u32());
            }
            ConstOp::GlobalGet(g) => {
                w.u8(7);
                w.u32(g.as_u32());
            }
            ConstOp::I32Add => w.u8(8),
            ConstOp::I32Sub => w.u8(9),
            ConstOp::I32Mul => w.u8(10),
            ConstOp::I64Add => w.u8(11),
            ConstOp::I64Sub => w.u8(12),
            ConstOp::I64Mul => w.u8(13),
        }
    }
}

fn read_const_expr(r: &mut Reader<'_>) -> Result<ConstExpr> {
    let n = r.len()?;
    let mut ops = Vec::with_capacity(n.min(16));
    for _ in 0..n {
        ops.push(match r.u8()? {
            0 => ConstOp::I32Const(r.u32()? as i32),
            1 => ConstOp::I64Const(r.u64()? as i64),
            2 => ConstOp::F32Const(r.u32()?),
            3 => ConstOp::F64Const(r.u64()?),
            4 => ConstOp::V128Const(u128::from_le_bytes(r.take(16)?.try_into().unwrap())),
            5 => ConstOp::RefNull,
            6 => ConstOp::RefFunc(FuncIndex::from_u32(r.u32()?)),
            7 => ConstOp::GlobalGet(GlobalIndex::from_u32(r.u32()?)),
            8 => ConstOp::I32Add,
            9 => ConstOp::I32Sub,
            10 => ConstOp::I32Mul,
            11 => ConstOp::I64Add,
            12 => ConstOp::I64Sub,
            13 => ConstOp::I64Mul,
            b => bail!("its module description holds an unknown constant operation ({b})"),
        });
    }
    Ok(ConstExpr { ops })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with one of everything round-trips, and every cut of its description is
    /// refused without a panic.
    #[test]
    fn a_description_round_trips_and_cuts_are_refused() {
        let wasm = wat::parse_str(
            r#"(module $m
                (type (func (param i32 f64 v128 externref) (result funcref)))
                (import "a" "f" (func $f (type 0)))
                (import "a" "g" (global i64))
                (func $g (export "g") (param i32) (result i32) local.get 0)
                (table 3 10 funcref (ref.func $g))
                (memory 2 3)
                (global $x (mut i32) (i32.add (i32.const 1) (i32.const 2)))
                (export "x" (global $x))
                (elem (i32.const 0) func $g $f)
                (elem funcref (ref.null func) (ref.func $g))
                (elem declare func $g)
                (data (i32.const 5000) "hello")
                (data (i32.const 5002) "XY")
                (data "passive")
                (start $g2)
                (func $g2))"#,
        )
        .unwrap();
        let env = weld_environ::translate_module_default(&wasm).unwrap().module;
        let encoded = encode(&env);
        assert_eq!(encoded.images.len(), 1);
        // Lay the parts out in one file as an artifact would.
        let mut file = encoded.description.clone();
        let mut place = |bytes: &[u8]| {
            let at = file.len();
            file.extend_from_slice(bytes);
            at..file.len()
        };
        let blobs: Vec<_> = encoded.blobs.iter().map(|b| place(b)).collect();
        let images: Vec<_> = encoded.images.iter().map(|b| place(b)).collect();
        let mapping = Arc::new(ReadOnlyMapping::copy_of(&file).unwrap());
        let d = &encoded.description;
        let decoded = decode(d, &mapping, &blobs, &images).unwrap();
        let back = &decoded.env;
        assert_eq!(back.name.as_deref(), Some("m"));
        assert_eq!(back.types.values().collect::<Vec<_>>(), env.types.values().collect::<Vec<_>>());
        assert_eq!(format!("{:?}", back.exports), format!("{:?}", env.exports));
        assert_eq!(format!("{:?}", back.elements), format!("{:?}", env.elements));
        assert_eq!(format!("{:?}", back.tables), format!("{:?}", env.tables));
        assert_eq!(format!("{:?}", back.imports), format!("{:?}", env.imports));
        assert_eq!(back.global_inits, env.global_inits);
        assert_eq!(back.start, env.start);
        for (a, b) in back.data.values().zip(env.data.values()) {
            assert_eq!(&*a.data, &*b.data);
        }
        assert_eq!(decoded.in_image, [true, true, false]);
        assert_eq!(decoded.images, [Some(0)]);
        assert_eq!(back.func_names.get(FuncIndex::from_u32(1)), Some("g"));
        for cut in 0..d.len() {
            assert!(decode(&d[..cut], &mapping, &blobs, &images).is_err());
        }
        // An index out of range is refused.
        let mut bad = env.clone();
        bad.start = Some(FuncIndex::from_u32(99));
        let e = encode(&bad);
        let err = decode(&e.description, &mapping, &blobs, &images).err().unwrap();
        assert!(format!("{err:#}").contains("inconsistent"), "{err:#}");
    }
}
