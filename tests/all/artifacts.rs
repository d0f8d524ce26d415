//! Ahead-of-time artifacts: `serialize`/`deserialize` of modules and components, what loading
//! refuses (damage, truncation, another build, target or setting) and why, and precompiling
//! for another machine.

use std::hash::Hasher;
use weld::component::{Component, Linker as ComponentLinker, Val};
use weld::{Config, Engine, Instance, Linker, Module, OptLevel, Precompiled, Store};

/// A module whose result depends on code, a data segment and a table.
const MODULE: &str = r#"(module
    (memory 1)
    (data (i32.const 100) "\2a")
    (table 2 funcref)
    (elem (i32.const 0) $seven $six)
    (type $t (func (result i32)))
    (func $seven (result i32) i32.const 7)
    (func $six (result i32) i32.const 6)
    (func (export "run") (param i32) (result i32)
        (i32.add (i32.load8_u (i32.const 100)) (call_indirect (type $t) (local.get 0)))))"#;

fn run_module(engine: &Engine, module: &Module, arg: i32) -> i32 {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, module).unwrap();
    instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap().call(&mut store, arg).unwrap()
}

fn measure(engine: &Engine, component: &Component) -> Vec<Val> {
    let mut store = Store::new(engine, ());
    let instance = ComponentLinker::new(engine).instantiate(&mut store, component).unwrap();
    let f = instance.get_func(&mut store, "measure").unwrap();
    let mut results = vec![Val::Bool(false)];
    f.call(&mut store, &[Val::String("héllo ☃".into())], &mut results).unwrap();
    results
}

fn fused() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fused.wat")).unwrap()
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("weld-artifacts-{}-{name}", std::process::id()))
}

/// Where an artifact's metadata starts (the header's bytes 32..40); it runs to the end.
fn metadata_at(bytes: &[u8]) -> usize {
    u64::from_le_bytes(bytes[32..40].try_into().unwrap()) as usize
}

/// Recomputes an edited artifact's checksum, as someone editing it on purpose would: xxh3 of
/// the 48-byte header with the checksum (bytes 24..32) zeroed, followed by the metadata.
fn fix_checksum(bytes: &mut [u8]) {
    bytes[24..32].fill(0);
    let mut h = twox_hash::XxHash3_64::with_seed(0);
    h.write(&bytes[..48]);
    h.write(&bytes[metadata_at(bytes)..]);
    let sum = h.finish();
    bytes[24..32].copy_from_slice(&sum.to_le_bytes());
}

fn load_error(engine: &Engine, bytes: &[u8]) -> String {
    // SAFETY: the bytes are an artifact weld wrote (possibly damaged on purpose, which must be
    // refused before any code runs).
    let err = unsafe { Module::deserialize(engine, bytes) }.unwrap_err();
    format!("{err:#}")
}

#[test]
fn a_module_runs_the_same_after_a_round_trip() {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE).unwrap();
    let bytes = module.serialize().unwrap();
    assert_eq!(engine.detect_precompiled(&bytes), Some(Precompiled::Module));
    // SAFETY: `bytes` were just written by `serialize`.
    let loaded = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    assert_eq!((run_module(&engine, &loaded, 0), run_module(&engine, &loaded, 1)), (49, 48));
    assert_eq!(loaded.exports().map(|e| e.name().to_string()).collect::<Vec<_>>(), ["run"]);
    // The loaded module serializes to the same artifact.
    assert_eq!(loaded.serialize().unwrap(), bytes);

    let path = temp_path("module.cwasm");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(engine.detect_precompiled_file(&path).unwrap(), Some(Precompiled::Module));
    // SAFETY: the file holds `bytes` and is not changed while the module lives.
    let mapped = unsafe { Module::deserialize_file(&engine, &path) }.unwrap();
    assert_eq!(run_module(&engine, &mapped, 1), 48);
    drop(mapped);
    std::fs::remove_file(&path).unwrap();
}

/// A module with a memory image (its data fills more than a page), a passive segment and
/// named functions: its image is mapped from the artifact file, copied from bytes, or not
/// used (`memory_init_cow` off), and all give the same memory; names survive for backtraces.
#[test]
fn a_module_with_a_memory_image_and_names_round_trips_every_way() {
    let wat = format!(
        r#"(module
            (memory (export "m") 2)
            (data (i32.const 8) "{}")
            (data (i32.const 9000) "tail")
            (data $p "passive")
            (func $copy_passive (export "init") (memory.init $p (i32.const 20000) (i32.const 0) (i32.const 7)))
            (func $boom (export "boom") unreachable))"#,
        "ab".repeat(3000)
    );
    let check = |engine: &Engine, module: &Module| {
        let mut store = Store::new(engine, ());
        let instance = Linker::new(engine).instantiate(&mut store, module).unwrap();
        instance.get_typed_func::<(), ()>(&mut store, "init").unwrap().call(&mut store, ()).unwrap();
        let memory = instance.get_memory(&mut store, "m").unwrap();
        let data = memory.data(&store);
        assert_eq!(&data[8..12], b"abab");
        assert_eq!(&data[6004..6008], b"abab");
        assert_eq!(&data[9000..9004], b"tail");
        assert_eq!(&data[20000..20007], b"passive");
        assert!(data[6008..9000].iter().all(|b| *b == 0));
        let err = instance.get_typed_func::<(), ()>(&mut store, "boom").unwrap().call(&mut store, ()).unwrap_err();
        let trace = err.downcast_ref::<weld::WasmBacktrace>().expect("a backtrace");
        assert_eq!(trace.frames[0].func_name, "boom");
    };
    let engine = Engine::default();
    let bytes = engine.precompile_module(wat.as_bytes()).unwrap();
    let path = temp_path("image.cwasm");
    std::fs::write(&path, &bytes).unwrap();
    for cow in [true, false] {
        let mut config = Config::new();
        config.memory_init_cow(cow);
        let engine = Engine::new(&config).unwrap();
        // SAFETY: written by `precompile_module`; the file is not changed while it is used.
        let (from_bytes, mapped) = unsafe {
            (Module::deserialize(&engine, &bytes).unwrap(), Module::deserialize_file(&engine, &path).unwrap())
        };
        check(&engine, &from_bytes);
        check(&engine, &mapped);
        // A loaded module writes the artifact it was loaded from.
        assert_eq!(mapped.serialize().unwrap(), bytes);
        assert_eq!(from_bytes.serialize().unwrap(), bytes);
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_trap_in_deserialized_code_is_a_trap() {
    let engine = Engine::default();
    let module =
        Module::new(&engine, r#"(module (func (export "run") (param i32) (result i32) unreachable))"#).unwrap();
    // SAFETY: written by `serialize` just before.
    let loaded = unsafe { Module::deserialize(&engine, module.serialize().unwrap()) }.unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &loaded).unwrap();
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
    let err = run.call(&mut store, 0).unwrap_err();
    assert_eq!(err.downcast_ref::<weld::Trap>(), Some(&weld::Trap::UnreachableCodeReached), "{err:?}");
}

#[test]
fn a_component_with_adapters_runs_the_same_after_a_round_trip() {
    let engine = Engine::default();
    let component = Component::new(&engine, fused()).unwrap();
    assert!(component.num_fused_calls() > 0);
    let expected = measure(&engine, &component);
    assert_eq!(expected, [Val::Tuple(vec![Val::U32(10), Val::U32(7)])]);
    let bytes = component.serialize().unwrap();
    assert_eq!(engine.detect_precompiled(&bytes), Some(Precompiled::Component));
    // SAFETY: written by `serialize` just before.
    let loaded = unsafe { Component::deserialize(&engine, &bytes) }.unwrap();
    assert_eq!(loaded.num_fused_calls(), component.num_fused_calls());
    assert_eq!(measure(&engine, &loaded), expected);

    let path = temp_path("fused.cwasm");
    std::fs::write(&path, engine.precompile_component(&fused()).unwrap()).unwrap();
    // SAFETY: the file was written by `precompile_component` and is left alone.
    let mapped = unsafe { Component::deserialize_file(&engine, &path) }.unwrap();
    assert_eq!(measure(&engine, &mapped), expected);
    drop(mapped);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn damaged_and_truncated_artifacts_are_refused() {
    let engine = Engine::default();
    let bytes = engine.precompile_module(MODULE.as_bytes()).unwrap();
    // The checksum covers the header and the metadata (what the loader interprets), not the
    // code, trap tables or memory images (see `artifact/mod.rs`).
    let meta = metadata_at(&bytes);
    for at in [28, 36, 40, meta, (meta + bytes.len()) / 2, bytes.len() - 1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        let err = load_error(&engine, &damaged);
        assert!(err.contains("checksum does not match"), "byte {at}: {err}");
    }
    let err = load_error(&engine, &bytes[..bytes.len() - 100]);
    assert!(err.contains("truncated"), "{err}");
    let err = load_error(&engine, &bytes[..20]);
    assert!(err.contains("not a weld artifact"), "{err}");
    let err = load_error(&engine, &[]);
    assert!(err.contains("not a weld artifact"), "{err}");
    let wasm = wat::parse_str(MODULE).unwrap();
    let err = load_error(&engine, &wasm);
    assert!(err.contains("is a WebAssembly binary, not a precompiled artifact"), "{err}");
    assert_eq!(engine.detect_precompiled(&wasm), None);
}

#[test]
fn a_damaged_component_binary_is_refused() {
    let engine = Engine::default();
    let mut bytes = engine.precompile_component(&fused()).unwrap();
    // A component's binary follows the header, and is translated again when it is loaded.
    bytes[48 + 20] ^= 0x10;
    // SAFETY: written by `precompile_component`, damaged on purpose: refused before anything runs.
    let err = unsafe { Component::deserialize(&engine, &bytes) }.unwrap_err();
    assert!(format!("{err:#}").contains("checksum does not match"), "{err:#}");
}

#[test]
fn an_artifact_of_another_build_is_refused() {
    let engine = Engine::default();
    let mut bytes = engine.precompile_module(MODULE.as_bytes()).unwrap();
    let marker = b" (build ";
    let at =
        bytes.windows(marker.len()).position(|w| w == marker).expect("the artifact names its build") + marker.len();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    fix_checksum(&mut bytes);
    let err = load_error(&engine, &bytes);
    assert!(err.contains("it was compiled by weld") && err.contains("compile it again"), "{err}");
}

#[test]
fn an_artifact_of_other_settings_is_refused_naming_the_setting() {
    let bytes = Engine::default().precompile_module(MODULE.as_bytes()).unwrap();
    let mut config = Config::new();
    config.cranelift_opt_level(OptLevel::None);
    let err = load_error(&Engine::new(&config).unwrap(), &bytes);
    assert!(err.contains("opt_level=speed") && err.contains("opt_level=none"), "{err}");

    let mut config = Config::new();
    config.explicit_bounds_checks(true);
    let err = load_error(&Engine::new(&config).unwrap(), &bytes);
    assert!(err.contains("explicit_bounds_checks=false"), "{err}");

    let mut config = Config::new();
    config.consume_fuel(true);
    let err = load_error(&Engine::new(&config).unwrap(), &bytes);
    assert!(err.contains("consume_fuel=false") && err.contains("consume_fuel=true"), "{err}");

    // Settings that do not change code do not matter.
    let mut config = Config::new();
    config.parallel_compilation(false).memory_init_cow(false);
    let engine = Engine::new(&config).unwrap();
    // SAFETY: written by `precompile_module`.
    let module = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    assert_eq!(run_module(&engine, &module, 0), 49);
}

#[test]
fn an_artifact_for_another_target_is_refused_and_cannot_be_run_by_its_engine() {
    let other = if cfg!(target_arch = "aarch64") { "x86_64" } else { "aarch64" };
    let mut config = Config::new();
    config.target(other).unwrap();
    let cross = Engine::new(&config).unwrap();
    let bytes = cross.precompile_module(MODULE.as_bytes()).unwrap();
    let err = load_error(&Engine::default(), &bytes);
    assert!(err.contains("compiled for the target") && err.contains(other), "{err}");
    let component = cross.precompile_component(&fused()).unwrap();
    assert_eq!(cross.detect_precompiled(&component), Some(Precompiled::Component));
    let err = Module::new(&cross, MODULE).unwrap_err().to_string();
    assert!(err.contains("not for this machine"), "{err}");
    // SAFETY: written by `precompile_module` (and refused before anything runs).
    let err = unsafe { Module::deserialize(&cross, &bytes) }.unwrap_err();
    assert!(format!("{err:#}").contains("not for this machine"), "{err:#}");
}

#[test]
fn a_module_artifact_is_not_a_component() {
    let engine = Engine::default();
    let bytes = engine.precompile_module(MODULE.as_bytes()).unwrap();
    // SAFETY: written by `precompile_module`; refused by its kind.
    let err = unsafe { Component::deserialize(&engine, &bytes) }.unwrap_err();
    assert!(format!("{err:#}").contains("it is a precompiled module"), "{err:#}");
    let component = engine.precompile_component(&fused()).unwrap();
    let err = load_error(&engine, &component);
    assert!(err.contains("it is a precompiled component"), "{err}");
    let err = format!("{:#}", engine.precompile_module(&fused()).unwrap_err());
    assert!(err.contains("found a component"), "{err}");
}

/// A loaded artifact keeps its types' recursion groups: its exports are still of the types
/// of an equal group, and only of those.
#[test]
fn a_module_keeps_its_recursion_groups_through_an_artifact() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (rec (type $a (func (result i32))) (type $b (func (result i32))))
             (func (export "fb") (type $b) (i32.const 7)))"#,
    )
    .unwrap();
    // SAFETY: the bytes were just written by `serialize`.
    let loaded = unsafe { Module::deserialize(&engine, module.serialize().unwrap()) }.unwrap();
    let mut store = Store::new(&engine, ());
    let exporter = Instance::new(&mut store, &loaded, &[]).unwrap();
    let fb = exporter.get_func(&mut store, "fb").unwrap();
    let importer = |place: &str| {
        let wat = format!(
            r#"(module (rec (type $a (func (result i32))) (type $b (func (result i32))))
                 (import "m" "fb" (func $fb (type {place}))) (func (export "run") (result i32) (call $fb)))"#
        );
        Module::new(&engine, wat).unwrap()
    };
    let same = Instance::new(&mut store, &importer("$b"), &[fb.into()]).unwrap();
    let run = same.get_typed_func::<(), i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 7);
    let err = Instance::new(&mut store, &importer("$a"), &[fb.into()]).unwrap_err();
    assert!(err.to_string().contains("a different type"), "{err}");
}
