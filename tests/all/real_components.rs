//! The components that real toolchains built (`../shared/components`, listed in its
//! INDEX.tsv): every one loads and instantiates (its WASI 0.2 imports from weld-wasi, any
//! other import defined as traps), those that use component-model async (async lifts and
//! lowers, `stream`, `future`) included. `async_components.rs` runs the async ones that
//! weld-wasi's WASI 0.3 and the test's host functions can serve.

use std::path::PathBuf;
use weld::component::{Component, Linker};
use weld::{Engine, Store};

/// The directory of the shared real components.
pub fn components_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/components")
}

/// One row of INDEX.tsv: the file (relative to the components directory) and whether it uses
/// component-model async (its features say `async`, or it is one of jco's WASI 0.3 builds,
/// whose `func async` types the index does not list as a feature).
struct Entry {
    file: String,
    uses_async: bool,
}

fn index() -> Vec<Entry> {
    let path = components_dir().join("INDEX.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("INDEX.tsv has a header").split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no `{name}` column"));
    let (file, features) = (column("file"), column("features"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            let file = cells[file].to_string();
            let uses_async = cells[features].split(',').any(|f| f == "async") || file.contains("__p3__");
            Entry { file, uses_async }
        })
        .collect()
}

/// How many of the 30 synchronous components need nothing but WASI 0.2 (the others import
/// the test interfaces that jco's hosts provide).
const WASI_ONLY: usize = 9;

#[test]
fn every_component_loads_and_instantiates() {
    let engine = Engine::default();
    let entries = index();
    assert_eq!(entries.len(), 84, "INDEX.tsv lists the 84 shared components");
    let (mut loaded, mut loaded_async, mut refused, mut wasi_only) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for entry in &entries {
        let path = components_dir().join(&entry.file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let result = Component::new(&engine, &bytes);
        if entry.uses_async {
            match result {
                Ok(_) => loaded_async += 1,
                Err(e) if format!("{e:#}").contains("not supported yet") => {
                    refused += 1;
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{}: refused with another error: {e:#}", entry.file));
                    continue;
                }
            }
        }
        let component = match result {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: {e:#}", entry.file));
                continue;
            }
        };
        // WASI from weld-wasi; anything else (the test interfaces jco's hosts provide) traps.
        let mut linker = Linker::<crate::wasi::Host>::new(&engine);
        weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
        if linker.unsatisfied_imports(&component).is_empty() && !entry.uses_async {
            wasi_only += 1;
        }
        let host = crate::wasi::Host { ctx: weld_wasi::WasiCtx::builder().build(), table: Default::default() };
        let mut store = Store::new(&engine, host);
        let instantiated = linker
            .define_unknown_imports_as_traps(&component)
            .and_then(|()| linker.instantiate(&mut store, &component));
        match instantiated {
            Ok(_) if !entry.uses_async => loaded += 1,
            Ok(_) => {}
            Err(e) => failures.push(format!("{}: instantiation: {e:#}", entry.file)),
        }
    }
    assert!(failures.is_empty(), "{} components failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(
        (loaded, loaded_async, refused),
        (30, 54, 0),
        "components without async loaded and instantiated, async ones loaded and instantiated, and \
         components refused as \"not supported yet\""
    );
    assert_eq!(wasi_only, WASI_ONLY, "components whose every import weld-wasi defines");
}
