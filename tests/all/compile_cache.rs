//! The compile cache: a second compilation of the same module or component with the same
//! settings maps code from the cache instead of compiling; other settings or inputs miss; a
//! damaged entry is ignored; the directory stays under its bounds; threads racing on one
//! entry all get working code.

use std::path::{Path, PathBuf};
use weld::component::{Component, Linker as ComponentLinker, Val};
use weld::{Cache, CacheConfig, Config, Engine, Linker, Module, OptLevel, Store};

/// A fresh, empty cache directory for one test.
fn cache_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weld-cache-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn engine_with_cache(dir: &Path, tweak: impl FnOnce(&mut Config, &mut CacheConfig)) -> (Engine, Cache) {
    let mut config = Config::new();
    let mut cache_config = CacheConfig::new();
    cache_config.with_directory(dir);
    tweak(&mut config, &mut cache_config);
    let cache = Cache::new(cache_config).unwrap();
    config.cache(Some(cache.clone()));
    (Engine::new(&config).unwrap(), cache)
}

fn module_returning(n: i32) -> String {
    format!(r#"(module (func (export "run") (result i32) i32.const {n}))"#)
}

fn run(engine: &Engine, module: &Module) -> i32 {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, module).unwrap();
    instance.get_typed_func::<(), i32>(&mut store, "run").unwrap().call(&mut store, ()).unwrap()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wcode"))
        .collect();
    v.sort();
    v
}

#[test]
fn a_module_compiled_twice_is_found_the_second_time() {
    let dir = cache_dir("module");
    let (engine, cache) = engine_with_cache(&dir, |_, _| {});
    let first = Module::new(&engine, module_returning(5)).unwrap();
    assert_eq!((cache.cache_hits(), cache.cache_misses()), (0, 1));
    assert_eq!(entries(&dir).len(), 1);
    let second = Module::new(&engine, module_returning(5)).unwrap();
    assert_eq!((cache.cache_hits(), cache.cache_misses()), (1, 1));
    assert_eq!((run(&engine, &first), run(&engine, &second)), (5, 5));

    // Another engine with the same settings (as another process would) finds it too.
    let (other, other_cache) = engine_with_cache(&dir, |_, _| {});
    let third = Module::new(&other, module_returning(5)).unwrap();
    assert_eq!((other_cache.cache_hits(), other_cache.cache_misses()), (1, 0));
    assert_eq!(run(&other, &third), 5);

    // Another input misses.
    Module::new(&engine, module_returning(6)).unwrap();
    assert_eq!((cache.cache_hits(), cache.cache_misses()), (1, 2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn other_settings_do_not_find_the_entry() {
    let dir = cache_dir("settings");
    let (engine, cache) = engine_with_cache(&dir, |_, _| {});
    Module::new(&engine, module_returning(1)).unwrap();
    let (unoptimized, unoptimized_cache) = engine_with_cache(&dir, |c, _| {
        c.cranelift_opt_level(OptLevel::None);
    });
    let module = Module::new(&unoptimized, module_returning(1)).unwrap();
    assert_eq!((unoptimized_cache.cache_hits(), unoptimized_cache.cache_misses()), (0, 1));
    assert_eq!(run(&unoptimized, &module), 1);
    assert_eq!(entries(&dir).len(), 2);
    assert_eq!(cache.cache_hits(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_entry_is_ignored_and_replaced() {
    let dir = cache_dir("damaged");
    let (engine, cache) = engine_with_cache(&dir, |_, _| {});
    Module::new(&engine, module_returning(9)).unwrap();
    let [entry] = entries(&dir).try_into().unwrap();
    let mut bytes = std::fs::read(&entry).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&entry, &bytes).unwrap();
    let module = Module::new(&engine, module_returning(9)).unwrap();
    assert_eq!((cache.cache_hits(), cache.cache_misses()), (0, 2));
    assert_eq!(run(&engine, &module), 9);
    // The recompiled code replaced the damaged entry.
    Module::new(&engine, module_returning(9)).unwrap();
    assert_eq!(cache.cache_hits(), 1);
    std::fs::write(&entry, b"not an entry").unwrap();
    assert_eq!(run(&engine, &Module::new(&engine, module_returning(9)).unwrap()), 9);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_component_caches_its_core_modules_and_adapters() {
    let dir = cache_dir("component");
    let (engine, cache) = engine_with_cache(&dir, |_, _| {});
    let wat = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fused.wat")).unwrap();
    let component = Component::new(&engine, &wat).unwrap();
    let compiled = cache.cache_misses();
    // Three core modules and one adapter module.
    assert_eq!((compiled, cache.cache_hits()), (4, 0));
    let again = Component::new(&engine, &wat).unwrap();
    assert_eq!((cache.cache_misses(), cache.cache_hits()), (4, 4));
    for c in [component, again] {
        let mut store = Store::new(&engine, ());
        let instance = ComponentLinker::new(&engine).instantiate(&mut store, &c).unwrap();
        let f = instance.get_func(&mut store, "measure").unwrap();
        let mut results = vec![Val::Bool(false)];
        f.call(&mut store, &[Val::String("héllo ☃".into())], &mut results).unwrap();
        assert_eq!(results, [Val::Tuple(vec![Val::U32(10), Val::U32(7)])]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_cache_is_trimmed_to_its_bounds_oldest_first() {
    let dir = cache_dir("trim");
    let (engine, _) = engine_with_cache(&dir, |_, c| {
        c.with_file_count_soft_limit(4);
    });
    for n in 0..4 {
        Module::new(&engine, module_returning(n)).unwrap();
        // Entries are told apart by their modification time.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(entries(&dir).len(), 4);
    let (probe, probe_cache) = engine_with_cache(&dir, |_, _| {});
    // A hit refreshes the oldest entry, so the second oldest goes first.
    Module::new(&probe, module_returning(0)).unwrap();
    assert_eq!(probe_cache.cache_hits(), 1);
    std::thread::sleep(std::time::Duration::from_millis(20));
    // The fifth entry exceeds the bound: down to 70% of 4, i.e. 2 entries.
    Module::new(&engine, module_returning(4)).unwrap();
    assert_eq!(entries(&dir).len(), 2);
    let (check, check_cache) = engine_with_cache(&dir, |_, _| {});
    for n in [0, 4] {
        Module::new(&check, module_returning(n)).unwrap();
    }
    assert_eq!(check_cache.cache_hits(), 2, "the refreshed and the newest entries remain");

    let (sized, _) = engine_with_cache(&cache_dir("trim-size"), |_, c| {
        c.with_files_total_size_soft_limit(1);
    });
    Module::new(&sized, module_returning(1)).unwrap();
    assert!(entries(&cache_dir_path("trim-size")).is_empty(), "an entry over the size bound is removed at once");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(cache_dir_path("trim-size")).unwrap();
}

fn cache_dir_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("weld-cache-test-{}-{name}", std::process::id()))
}

#[test]
fn threads_racing_on_one_entry_all_get_working_code() {
    let dir = cache_dir("race");
    let (engine, cache) = engine_with_cache(&dir, |_, _| {});
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..5 {
                    let module = Module::new(&engine, module_returning(77)).unwrap();
                    assert_eq!(run(&engine, &module), 77);
                }
            });
        }
    });
    assert_eq!(cache.cache_hits() + cache.cache_misses(), 40);
    assert!(cache.cache_hits() >= 32, "at most one miss per thread: {}", cache.cache_hits());
    assert_eq!(entries(&dir).len(), 1);
    assert!(
        std::fs::read_dir(&dir).unwrap().all(|e| !e.unwrap().path().to_string_lossy().ends_with(".tmp")),
        "no temporary file is left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
