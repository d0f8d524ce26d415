//! The options of `bindgen!` and the shapes of worlds beyond one interface each way: a WIT
//! directory with `deps/`, two versions of an interface, the world's own imported and
//! exported functions, `trappable_imports`, `additional_derives`, `ownership: Borrowing`
//! and `with`.

#![deny(warnings)]

use super::forward::{Bridge, Func, forward, func};
use std::collections::HashSet;
use weld::component::{Component, HasSelf, Linker};
use weld::{Engine, Store};

mod top {
    weld::component::bindgen!({
        world: "top",
        path: "tests/all/bindgen/wit/top",
        trappable_imports: ["log"],
    });
}

#[derive(Default)]
struct TopHost {
    lines: Vec<String>,
}

impl top::test::dep0_1_0::iface::Host for TopHost {
    fn value(&mut self) -> u32 {
        1
    }
}

impl top::test::dep0_2_0::iface::Host for TopHost {
    fn value(&mut self) -> u32 {
        2
    }
    fn scale(&mut self, x: u32) -> u32 {
        x * 10
    }
}

impl top::TopImports for TopHost {
    fn log(&mut self, line: String) -> anyhow::Result<u32> {
        if line == "fail" {
            anyhow::bail!("no logging today");
        }
        let len = line.len() as u32;
        self.lines.push(line);
        Ok(len)
    }
}

fn top_component() -> String {
    let value = || func("value", "(result u32)", &[], false);
    forward(&[
        Bridge {
            host: Some("test:dep/iface@0.1.0"),
            guest: Some("test:dep/iface@0.1.0"),
            types: &[],
            funcs: &[value()],
        },
        Bridge {
            host: Some("test:dep/iface@0.2.0"),
            guest: Some("test:dep/iface@0.2.0"),
            types: &[],
            funcs: &[value(), func("scale", r#"(param "x" u32) (result u32)"#, &["i32"], false)],
        },
        Bridge {
            host: None,
            guest: None,
            types: &[],
            funcs: &[Func {
                import: Some("log"),
                ..func("run", r#"(param "line" string) (result u32)"#, &["i32", "i32"], false)
            }],
        },
    ])
}

#[test]
fn versions_side_by_side_and_world_functions() {
    let engine = Engine::default();
    let component = Component::new(&engine, top_component()).expect("the component compiles");
    let mut linker = Linker::new(&engine);
    top::Top::add_to_linker::<TopHost, HasSelf<TopHost>>(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, TopHost::default());
    let top = top::Top::instantiate(&mut store, &component, &linker).unwrap();

    // Each version's module calls its own export, which reaches its own host trait.
    assert_eq!(top.test_dep0_1_0_iface().call_value(&mut store).unwrap(), 1);
    assert_eq!(top.test_dep0_2_0_iface().call_value(&mut store).unwrap(), 2);
    assert_eq!(top.test_dep0_2_0_iface().call_scale(&mut store, 4).unwrap(), 40);

    // The world's own export calls its own import.
    assert_eq!(top.call_run(&mut store, "hello").unwrap(), 5);
    assert_eq!(store.data().lines, ["hello"]);

    // A trappable import's error is the call's error, which names it.
    let err = top.call_run(&mut store, "fail").unwrap_err();
    assert!(format!("{err:?}").contains("no logging today"), "{err:?}");
    assert!(format!("{err:?}").contains("`log`"), "{err:?}");
}

pub mod opts {
    weld::component::bindgen!({
        world: "opts",
        path: "tests/all/bindgen/wit/opts.wit",
        trappable_imports: true,
        additional_derives: [PartialEq, Eq, Hash],
        ownership: Borrowing { duplicate_if_necessary: false },
    });
}

use opts::test::opts::types::{Entry, Level};

struct OptsHost;

// An interface of types only has an empty `Host` trait, as in Wasmtime.
impl opts::test::opts::types::Host for OptsHost {}

impl opts::test::opts::host::Host for OptsHost {
    fn total(&mut self, names: Vec<String>, e: Entry, l: Level) -> anyhow::Result<u32> {
        if names.is_empty() {
            anyhow::bail!("no names");
        }
        let weight = if l == Level::High { 100 } else { 1 };
        Ok(names.iter().map(|n| n.len() as u32).sum::<u32>() + e.count * weight + e.key.len() as u32 * 1000)
    }
}

fn opts_component() -> String {
    let types =
        [("entry", r#"(record (field "key" string) (field "count" u32))"#), ("level", r#"(enum "low" "high")"#)];
    let total = r#"(param "names" (list string)) (param "e" $entry) (param "l" $level) (result u32)"#;
    forward(&[Bridge {
        host: Some("test:opts/host"),
        guest: Some("test:opts/guest"),
        types: &types,
        funcs: &[func("total", total, &["i32"; 6], false)],
    }])
}

fn opts_instance() -> (Store<OptsHost>, opts::Opts) {
    let engine = Engine::default();
    let component = Component::new(&engine, opts_component()).expect("the component compiles");
    let mut linker = Linker::new(&engine);
    opts::Opts::add_to_linker::<OptsHost, HasSelf<OptsHost>>(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, OptsHost);
    let opts = opts::Opts::instantiate(&mut store, &component, &linker).unwrap();
    (store, opts)
}

#[test]
fn trappable_derives_and_borrowing() {
    // The derives asked for are there.
    let a = Entry { key: "k".into(), count: 1 };
    assert_eq!(a, a.clone());
    let levels: HashSet<Level> = [Level::Low, Level::High, Level::Low].into_iter().collect();
    assert_eq!(levels.len(), 2);

    let (mut store, opts) = opts_instance();
    let guest = opts.test_opts_guest();
    // An exported function takes its list and its record by reference, and under
    // `ownership: Borrowing` the list's strings too.
    let names = ["ab", "cde"];
    let entry = Entry { key: "key".into(), count: 2 };
    assert_eq!(guest.call_total(&mut store, &names, &entry, Level::High).unwrap(), 3000 + 200 + 5);
    assert_eq!(guest.call_total(&mut store, &names[..1], &entry, Level::Low).unwrap(), 3000 + 2 + 2);
    // With `trappable_imports: true` the host's error is the call's error.
    let err = guest.call_total(&mut store, &[], &entry, Level::Low).unwrap_err();
    assert!(format!("{err:?}").contains("no names"), "{err:?}");
}

mod reuse {
    weld::component::bindgen!({
        world: "opts",
        path: "tests/all/bindgen/wit/opts.wit",
        // The whole package is already generated: its types and host trait are reused.
        with: { "test:opts": crate::bindgen::options::opts::test::opts },
        ownership: Borrowing { duplicate_if_necessary: true },
    });
}

#[test]
fn with_reuses_bindings_generated_elsewhere() {
    let engine = Engine::default();
    let component = Component::new(&engine, opts_component()).expect("the component compiles");
    let mut linker = Linker::new(&engine);
    // The host implements `opts`'s traits only; `reuse`'s linking calls them.
    reuse::Opts::add_to_linker::<OptsHost, HasSelf<OptsHost>>(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, OptsHost);
    let reuse = reuse::Opts::instantiate(&mut store, &component, &linker).unwrap();
    // The export's types are `opts`'s.
    let entry: reuse::exports::test::opts::guest::Entry = Entry { key: "k".into(), count: 7 };
    let total = reuse.test_opts_guest().call_total(&mut store, &["x"], &entry, Level::Low).unwrap();
    assert_eq!(total, 1000 + 7 + 1);
}
