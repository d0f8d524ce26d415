//! Every adapter FACT generates must validate: adapters for each kind of type, flat and
//! through memory, for each pair of memory widths and string encodings.

use super::*;
use weld_environ::PrimaryMap;
use weld_environ::component::info::*;
use weld_environ::component::translate::StringEncoding;
use weld_environ::component::types::{FuncType, InterfaceType as T, ResourceId};

fn sample_types() -> Vec<T> {
    let record = T::record([("a", T::U8), ("b", T::F64), ("c", T::String)]);
    let variant = T::variant([("u", Some(T::U32)), ("f", Some(T::F32)), ("l", Some(T::U64)), ("n", None)]);
    vec![
        T::Bool,
        T::S8,
        T::U16,
        T::S64,
        T::F32,
        T::Char,
        T::String,
        T::list(T::U8),
        T::list(T::list(T::String)),
        T::list(record.clone()),
        T::fixed_list(T::U32, 3),
        record,
        T::tuple([T::U8, T::String, T::F64]),
        variant,
        T::enumeration(["a", "b", "c"]),
        T::option(T::String),
        T::result(Some(T::U32), Some(T::String)),
        T::result(None, None),
        T::flags((0..32).map(|i| format!("f{i}"))),
        T::Own(ResourceId(0)),
        T::Borrow(ResourceId(0)),
    ]
}

fn options(instance: u32, memory64: bool, encoding: StringEncoding) -> Options {
    Options {
        instance: RuntimeComponentInstanceIndex::from_u32(instance),
        string_encoding: encoding,
        memory: Some(RuntimeMemoryIndex::from_u32(instance)),
        memory64,
        realloc: Some(RuntimeReallocIndex::from_u32(instance)),
        post_return: None,
        ..Options::default()
    }
}

fn info_for(calls: Vec<(FuncType, Options, Options)>) -> ComponentInfo {
    let fused: PrimaryMap<FusedIndex, FusedCall> = calls
        .into_iter()
        .enumerate()
        .map(|(i, (ty, lower, lift))| FusedCall {
            lift: LiftedFunc {
                ty,
                // Each callee is its own core function, with its own type.
                core: CoreDef::Export(CoreExport {
                    instance: RuntimeInstanceIndex::from_u32(0),
                    name: format!("f{i}"),
                }),
                options: lift,
            },
            lower,
            ready_after: 0,
        })
        .collect();
    ComponentInfo {
        adapter_modules: PrimaryMap::from_iter([AdapterModule { adapters: fused.keys().collect() }]),
        fused,
        instance_parents: PrimaryMap::from_iter([
            None,
            Some(RuntimeComponentInstanceIndex::from_u32(0)),
            Some(RuntimeComponentInstanceIndex::from_u32(0)),
        ]),
        resources: PrimaryMap::from_iter([ResourceDef::Guest {
            instance: RuntimeComponentInstanceIndex::from_u32(1),
            dtor: None,
        }]),
        ..ComponentInfo::default()
    }
}

#[test]
fn adapters_for_every_type_validate() {
    for (caller64, callee64) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut calls = Vec::new();
        for ty in sample_types() {
            // Flat parameters and a result.
            let result = if matches!(ty, T::Borrow(_)) { None } else { Some(ty.clone()) };
            let flat = FuncType { params: vec![("x".into(), ty.clone())], result: result.clone(), async_: false };
            // Parameters through memory: more than 16 flat values.
            let many =
                FuncType { params: (0..17).map(|i| (format!("p{i}"), ty.clone())).collect(), result, async_: false };
            for f in [flat, many] {
                let mut lift = options(1, callee64, StringEncoding::Utf8);
                // Each post-return function has the type of its lift's core results.
                lift.post_return = Some(RuntimePostReturnIndex::from_u32(calls.len() as u32));
                calls.push((f, options(2, caller64, StringEncoding::Utf8), lift));
            }
        }
        for call in &calls {
            let info = info_for(vec![call.clone()]);
            if let Err(e) = compile(&info, AdapterModuleIndex::from_u32(0)) {
                panic!("{} with 64-bit caller {caller64}, callee {callee64}: {e:#}", call.0);
            }
        }
        let info = info_for(calls);
        let code = compile(&info, AdapterModuleIndex::from_u32(0)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(code.adapters.len(), info.fused.len());
        assert!(code.imports.contains(&AdapterImport::Flags(RuntimeComponentInstanceIndex::from_u32(1))));
    }
}

#[test]
fn string_adapters_validate_for_every_pair_of_encodings() {
    let encodings = [StringEncoding::Utf8, StringEncoding::Utf16, StringEncoding::CompactUtf16];
    let mut calls = Vec::new();
    for from in encodings {
        for to in encodings {
            let ty = FuncType { params: vec![("s".into(), T::String)], result: Some(T::String), async_: false };
            calls.push((ty, options(2, false, from), options(1, true, to)));
        }
    }
    let info = info_for(calls);
    let code = compile(&info, AdapterModuleIndex::from_u32(0)).unwrap();
    let strings = code
        .imports
        .iter()
        .filter(|i| matches!(i, AdapterImport::Libcall(weld_environ::component::adapt::AdapterLibcall::String { .. })))
        .count();
    // One string copy per direction and pair (the two directions of a same-encoding pair
    // differ by memory width, so none are shared).
    assert_eq!(strings, 18);
}

#[test]
fn a_scalar_adapter_needs_no_runtime_call_but_the_trap() {
    let ty = FuncType { params: vec![("a".into(), T::U32), ("b".into(), T::U32)], result: Some(T::U32), async_: false };
    let mut lower = options(2, false, StringEncoding::Utf8);
    lower.memory = None;
    lower.realloc = None;
    let mut lift = options(1, false, StringEncoding::Utf8);
    lift.memory = None;
    lift.realloc = None;
    let info = info_for(vec![(ty, lower, lift)]);
    let code = compile(&info, AdapterModuleIndex::from_u32(0)).unwrap();
    for import in &code.imports {
        assert!(
            matches!(
                import,
                AdapterImport::Flags(_)
                    | AdapterImport::Callee(_)
                    | AdapterImport::Libcall(weld_environ::component::adapt::AdapterLibcall::Trap)
            ),
            "unexpected import {import:?}"
        );
    }
}

#[test]
fn async_values_are_refused_as_a_bug_not_a_panic() {
    for ty in [T::future(Some(T::U32)), T::stream(None), T::ErrorContext, T::list(T::stream(Some(T::U8)))] {
        for (params, result) in [(vec![("x".into(), ty.clone())], None), (vec![], Some(ty.clone()))] {
            let f = FuncType { params, result, async_: false };
            let call = (f.clone(), options(2, false, StringEncoding::Utf8), options(1, false, StringEncoding::Utf8));
            let err = compile(&info_for(vec![call]), AdapterModuleIndex::from_u32(0)).unwrap_err();
            let message = format!("{err:#}");
            assert!(message.contains("bug: FACT was asked to adapt a value of type `"), "{f}: {message}");
        }
    }
}
