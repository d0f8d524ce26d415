//! The `spectest` host module that the core test suite imports from.
//!
//! It provides the print functions (which do nothing), the globals `global_i32`/`global_i64`
//! (666) and `global_f32`/`global_f64` (666.6), a funcref `table` of 10..20 elements (and
//! `table64`, the same with 64-bit indices) and a `memory` of 1..2 pages, as the reference
//! interpreter defines them.
//!
//! Each item is defined on its own: if the runtime cannot yet create one of them, that item is
//! left out (and logged), and only the modules importing it fail to link.

use anyhow::{Result, anyhow};
use std::panic::{AssertUnwindSafe, catch_unwind};
use weld::{
    Global, GlobalType, Linker, Memory, MemoryType, Mutability, RefType, Store, Table, TableType, Val, ValType,
};

/// Defines one item; `Err` if the runtime cannot create it.
type DefineItem<'a, T> = &'a mut dyn FnMut(&mut Linker<T>, &mut Store<T>) -> Result<()>;

/// Defines every `spectest` item in `linker`. Returns the items that could not be defined,
/// with the reason, so that the caller can report them.
pub fn define<T: 'static>(linker: &mut Linker<T>, store: &mut Store<T>) -> Vec<(&'static str, anyhow::Error)> {
    let mut errors = Vec::new();
    let mut item = |name: &'static str, f: DefineItem<'_, T>| {
        let result = catch_unwind(AssertUnwindSafe(|| f(linker, store)))
            .unwrap_or_else(|p| Err(anyhow!("panicked: {}", crate::panics::panic_message(&*p))));
        if let Err(e) = result {
            log::warn!("spectest: cannot define `{name}`: {e:#}");
            errors.push((name, e));
        }
    };

    item("print", &mut |l, _| l.func_wrap("spectest", "print", || {}).map(drop));
    item("print_i32", &mut |l, _| l.func_wrap("spectest", "print_i32", |_: i32| {}).map(drop));
    item("print_i64", &mut |l, _| l.func_wrap("spectest", "print_i64", |_: i64| {}).map(drop));
    item("print_f32", &mut |l, _| l.func_wrap("spectest", "print_f32", |_: f32| {}).map(drop));
    item("print_f64", &mut |l, _| l.func_wrap("spectest", "print_f64", |_: f64| {}).map(drop));
    item("print_i32_f32", &mut |l, _| l.func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {}).map(drop));
    item("print_f64_f64", &mut |l, _| l.func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {}).map(drop));

    let globals: [(&'static str, ValType, Val); 4] = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, init) in globals {
        item(name, &mut |l, s| {
            let g = Global::new(&mut *s, GlobalType::new(ty, Mutability::Const), init.clone())?;
            l.define(&*s, "spectest", name, g).map(drop)
        });
    }

    item("table", &mut |l, s| {
        let t = Table::new(&mut *s, TableType::new(RefType::FUNCREF, 10, Some(20)), Val::FuncRef(None))?;
        l.define(&*s, "spectest", "table", t).map(drop)
    });
    item("table64", &mut |l, s| {
        let ty = TableType::new64(RefType::FUNCREF, 10, Some(20));
        let t = Table::new(&mut *s, ty, Val::FuncRef(None))?;
        l.define(&*s, "spectest", "table64", t).map(drop)
    });
    item("memory", &mut |l, s| {
        let m = Memory::new(&mut *s, MemoryType::new(1, Some(2)))?;
        l.define(&*s, "spectest", "memory", m).map(drop)
    });
    errors
}
