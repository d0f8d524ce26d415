//! Tests of the inliner on small components, each checking the initializers and exports.

use super::*;
use crate::component::translate::translate_component;

fn info(wat: &str) -> ComponentInfo {
    let bytes = wat::parse_str(wat).unwrap();
    let t = translate_component(&bytes, crate::supported_features()).unwrap();
    inline(&t).unwrap()
}

fn export_func<'a>(info: &'a ComponentInfo, name: &str) -> &'a LiftedFunc {
    match &info.exports[name] {
        Export::Func(f) => f,
        other => panic!("{name} is {other:?}"),
    }
}

#[test]
fn one_module_one_export() {
    let info = info(
        r#"(component
            (core module $m (func (export "double") (param i32) (result i32) local.get 0 local.get 0 i32.add))
            (core instance $i (instantiate $m))
            (func (export "double") (param "x" u32) (result u32) (canon lift (core func $i "double"))))"#,
    );
    assert_eq!(
        info.initializers,
        [Initializer::InstantiateModule { module: StaticModuleIndex::from_u32(0), args: vec![] }]
    );
    let f = export_func(&info, "double");
    assert_eq!(f.ty.to_string(), "func(x: u32) -> u32");
    assert_eq!(
        f.core,
        CoreDef::Export(CoreExport { instance: RuntimeInstanceIndex::from_u32(0), name: "double".into() })
    );
    assert_eq!(f.options, Options::default());
}

#[test]
fn host_imports_are_lowered_in_order() {
    let info = info(
        r#"(component
            (import "log" (func $log (param "msg" string)))
            (core module $libc (memory (export "mem") 1) (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
            (core instance $libc (instantiate $libc))
            (core func $log (canon lower (func $log) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
            (core module $m (import "host" "log" (func (param i32 i32))))
            (core instance (instantiate $m (with "host" (instance (export "log" (func $log)))))))"#,
    );
    let mem = CoreExport { instance: RuntimeInstanceIndex::from_u32(0), name: "mem".into() };
    let realloc = CoreDef::Export(CoreExport { instance: RuntimeInstanceIndex::from_u32(0), name: "realloc".into() });
    assert_eq!(
        info.initializers,
        [
            Initializer::InstantiateModule { module: StaticModuleIndex::from_u32(0), args: vec![] },
            Initializer::ExtractMemory { index: RuntimeMemoryIndex::from_u32(0), export: mem },
            Initializer::ExtractRealloc { index: RuntimeReallocIndex::from_u32(0), def: realloc },
            Initializer::LowerImport {
                index: LoweredIndex::from_u32(0),
                import: ImportPath { import: ImportIndex::from_u32(0), path: vec![] },
                ty: FuncType {
                    params: vec![("msg".into(), crate::component::InterfaceType::String)],
                    result: None,
                    async_: false,
                },
                options: Options {
                    memory: Some(RuntimeMemoryIndex::from_u32(0)),
                    realloc: Some(RuntimeReallocIndex::from_u32(0)),
                    ..Options::default()
                },
            },
            Initializer::InstantiateModule {
                module: StaticModuleIndex::from_u32(1),
                args: vec![CoreItemDef::Func(CoreDef::Lowered(LoweredIndex::from_u32(0)))],
            },
        ]
    );
    assert!(matches!(info.imports["log"], ImportKind::Func(_)));
}

#[test]
fn functions_of_imported_instances_have_paths() {
    let info = info(
        r#"(component
            (import "wasi:cli/stdout" (instance $i (export "write" (func (param "b" u8)))))
            (alias export $i "write" (func $write))
            (core func $w (canon lower (func $write)))
            (core module $m (import "" "w" (func (param i32))))
            (core instance (instantiate $m (with "" (instance (export "w" (func $w)))))))"#,
    );
    let Initializer::LowerImport { import, ty, .. } = &info.initializers[0] else { panic!("{:?}", info.initializers) };
    assert_eq!(import, &ImportPath { import: ImportIndex::from_u32(0), path: vec!["write".into()] });
    assert_eq!(ty.to_string(), "func(b: u8)");
    assert_eq!(info.imports["wasi:cli/stdout"], ImportKind::Instance);
}

#[test]
fn nested_components_instantiate_their_modules_each_time() {
    let info = info(
        r#"(component
            (component $c
                (core module $m (func (export "f") (result i32) i32.const 1))
                (core instance $i (instantiate $m))
                (func (export "f") (result u32) (canon lift (core func $i "f"))))
            (instance $a (instantiate $c))
            (instance $b (instantiate $c))
            (export "a" (instance $a))
            (export "g" (func $b "f")))"#,
    );
    assert_eq!(info.num_runtime_instances, 2);
    let Export::Instance(a) = &info.exports["a"] else { panic!() };
    let Export::Func(af) = &a["f"] else { panic!() };
    assert_eq!(af.core, CoreDef::Export(CoreExport { instance: RuntimeInstanceIndex::from_u32(0), name: "f".into() }));
    let g = export_func(&info, "g");
    assert_eq!(g.core, CoreDef::Export(CoreExport { instance: RuntimeInstanceIndex::from_u32(1), name: "f".into() }));
}

#[test]
fn a_lowered_lift_is_a_fused_call() {
    // The topology of ../shared/bench/fused-scalar.wat.
    let info = info(
        r#"(component
            (component $A
                (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
                (core instance $i (instantiate $m))
                (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))
            (component $B
                (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
                (core func $add_lowered (canon lower (func $add)))
                (core module $main
                    (import "a" "add" (func $add (param i32 i32) (result i32)))
                    (func (export "run") (param i32) (result i32) (call $add (local.get 0) (local.get 0))))
                (core instance $main (instantiate $main (with "a" (instance (export "add" (func $add_lowered))))))
                (func (export "run") (param "n" u32) (result u32) (canon lift (core func $main "run"))))
            (instance $a (instantiate $A))
            (instance $b (instantiate $B (with "add" (func $a "add"))))
            (export "run" (func $b "run")))"#,
    );
    assert_eq!(info.fused.len(), 1);
    let fused = &info.fused[FusedIndex::from_u32(0)];
    assert_eq!(
        fused.lift.core,
        CoreDef::Export(CoreExport { instance: RuntimeInstanceIndex::from_u32(0), name: "add".into() })
    );
    assert_eq!(fused.lift.ty.to_string(), "func(a: u32, b: u32) -> u32");
    // The adapter module is instantiated right before the module that imports the adapter.
    assert_eq!(info.initializers[1], Initializer::InstantiateAdapters(AdapterModuleIndex::from_u32(0)));
    assert_eq!(info.adapter_modules[AdapterModuleIndex::from_u32(0)].adapters, [FusedIndex::from_u32(0)]);
    assert_eq!(
        info.instance_parents.values().copied().collect::<Vec<_>>(),
        [None, Some(RuntimeComponentInstanceIndex::from_u32(0)), Some(RuntimeComponentInstanceIndex::from_u32(0))]
    );
    assert_eq!(
        info.entering_set(RuntimeComponentInstanceIndex::from_u32(1), Some(RuntimeComponentInstanceIndex::from_u32(2))),
        [RuntimeComponentInstanceIndex::from_u32(1)]
    );
    assert_eq!(
        info.initializers[2],
        Initializer::InstantiateModule {
            module: StaticModuleIndex::from_u32(1),
            args: vec![CoreItemDef::Func(CoreDef::Fused(FusedIndex::from_u32(0)))]
        }
    );
    let run = export_func(&info, "run");
    assert_eq!(
        run.core,
        CoreDef::Export(CoreExport { instance: RuntimeInstanceIndex::from_u32(1), name: "run".into() })
    );
}

#[test]
fn outer_aliases_reach_enclosing_modules() {
    let info = info(
        r#"(component
            (core module $shared (func (export "f")))
            (component $c
                (alias outer 1 $shared (core module $m))
                (core instance (instantiate $m)))
            (instance (instantiate $c)))"#,
    );
    assert_eq!(
        info.initializers,
        [Initializer::InstantiateModule { module: StaticModuleIndex::from_u32(0), args: vec![] }]
    );
}

#[test]
fn memory64_options_are_flagged() {
    let info = info(
        r#"(component
            (core module $m (memory (export "mem") i64 1) (func (export "f")))
            (core instance $i (instantiate $m))
            (func (export "f") (canon lift (core func $i "f") (memory (core memory $i "mem")))))"#,
    );
    let f = export_func(&info, "f");
    assert!(f.options.memory64);
    assert_eq!(f.options.memory, Some(RuntimeMemoryIndex::from_u32(0)));
}

#[test]
fn outer_zero_aliases_the_current_component() {
    let info = info(
        r#"(component
            (core module $m (func (export "f")))
            (alias outer 0 0 (core module $same))
            (core instance (instantiate $same))
            (component $d (core module $n) (core instance (instantiate $n)))
            (alias outer 0 0 (component $d2))
            (instance (instantiate $d2)))"#,
    );
    assert_eq!(
        info.initializers,
        [
            Initializer::InstantiateModule { module: StaticModuleIndex::from_u32(0), args: vec![] },
            Initializer::InstantiateModule { module: StaticModuleIndex::from_u32(1), args: vec![] },
        ]
    );
}

#[test]
fn component_imports_are_found_at_any_depth() {
    let bytes = wat::parse_str(
        r#"(component
            (import "f" (func))
            (import "c" (component))
            (import "i" (instance
              (export "d" (component))
              (export "j" (instance (export "e" (component)) (export "g" (func)))))))"#,
    )
    .unwrap();
    let t = translate_component(&bytes, crate::supported_features()).unwrap();
    let path = |i: u32, names: &[&str]| ImportPath {
        import: ImportIndex::from_u32(i),
        path: names.iter().map(|n| n.to_string()).collect(),
    };
    assert_eq!(
        component_imports(&t.components[StaticComponentIndex::ROOT]),
        [path(1, &[]), path(2, &["d"]), path(2, &["j", "e"])]
    );
}

#[test]
fn a_provided_component_is_inlined_with_its_modules_numbered_after_the_root() {
    let root = wat::parse_str(
        r#"(component
            (import "lib" (component $L (export "f" (func (result u32)))))
            (core module $m (func (export "g") (result i32) i32.const 1))
            (instance $l (instantiate $L))
            (export "f" (func $l "f")))"#,
    )
    .unwrap();
    let lib = wat::parse_str(
        r#"(component
            (core module $m (func (export "f") (result i32) i32.const 2))
            (core instance $i (instantiate $m))
            (func (export "f") (result u32) (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    let root = translate_component(&root, crate::supported_features()).unwrap();
    let lib = translate_component(&lib, crate::supported_features()).unwrap();
    fn source<'a>(t: &'a ComponentTranslation<'_>) -> Source<'a> {
        Source { components: &t.components, modules: t.modules.values().map(|m| &m.module).collect() }
    }
    let path = ImportPath { import: ImportIndex::from_u32(0), path: vec![] };
    let sources = PrimaryMap::from_iter([source(&root), source(&lib)]);
    let input = InlineInput { sources, provided: [(path.clone(), SourceIndex::from_u32(1))].into_iter().collect() };
    let info = inline_linked(&input).unwrap();
    assert_eq!(info.imports["lib"], ImportKind::Component);
    // The lib's module is module 1: the root's one module comes first.
    assert_eq!(
        info.initializers,
        [Initializer::InstantiateModule { module: StaticModuleIndex::from_u32(1), args: vec![] }]
    );
    assert_eq!(export_func(&info, "f").ty.to_string(), "func() -> u32");
    assert_eq!(
        info.instance_parents.values().copied().collect::<Vec<_>>(),
        [None, Some(RuntimeComponentInstanceIndex::from_u32(0))]
    );
    // Without the component, flattening names the import.
    let err = inline(&root).unwrap_err();
    assert_eq!(err.to_string(), "no component was provided for the component import `lib`");
}

#[test]
fn a_host_resource_declared_equal_to_another_is_that_resource() {
    let info = info(
        r#"(component
            (import "T1" (type $T1 (sub resource)))
            (import "T2" (type $T2 (eq $T1)))
            (import "f" (func (param "a" (own $T1)) (param "b" (own $T2)))))"#,
    );
    assert_eq!(info.resources.len(), 1);
    assert_eq!(
        info.imports["f"],
        ImportKind::Func(FuncType {
            params: vec![
                ("a".into(), crate::component::InterfaceType::Own(ResourceId(0))),
                ("b".into(), crate::component::InterfaceType::Own(ResourceId(0))),
            ],
            result: None,
            async_: false,
        })
    );
}

/// A function of an imported instance may name a resource of that instance (or of another
/// imported instance, through `eq`) that the component never aliases, or aliases only later, as
/// wit-component's output does for `wasi:http/types`.
#[test]
fn resources_of_imported_instances_are_known_before_they_are_aliased() {
    let info = info(
        r#"(component
            (import "wasi:io/poll" (instance $poll (export "pollable" (type (sub resource)))))
            (alias export $poll "pollable" (type $pollable))
            (import "wasi:http/types" (instance $http
                (export "pollable" (type $p (eq $pollable)))
                (export "fields" (type $fields (sub resource)))
                (export "response" (type $response (sub resource)))
                (export "[constructor]response" (func (param "headers" (own $fields)) (result (own $response))))
                (export "[method]response.subscribe" (func (param "self" (borrow $response)) (result (own $p))))))
            (alias export $http "[constructor]response" (func $new))
            (alias export $http "[method]response.subscribe" (func $subscribe))
            (core func (canon lower (func $new)))
            (core func (canon lower (func $subscribe)))
            (alias export $http "fields" (type $fields)))"#,
    );
    // pollable, fields, response: the http instance's pollable is the poll instance's.
    assert_eq!(info.resources.len(), 3);
    let lowered: Vec<String> = info
        .initializers
        .iter()
        .filter_map(|i| match i {
            Initializer::LowerImport { ty, .. } => Some(ty.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(lowered.len(), 2);
    assert_eq!(lowered[0], "func(headers: own<resource-1>) -> own<resource-2>");
    assert_eq!(lowered[1], "func(self: borrow<resource-2>) -> own<resource-0>");
}
