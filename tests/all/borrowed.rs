//! `WasmStr` and `WasmList`: strings and lists read in place from a guest's memory, as typed
//! results (alone and inside tuples, options, results and lists) and as host function
//! parameters (flat and through memory), with the canonical ABI's checks at lift time, and
//! what a view returned by a call reads once the callee's post-return has changed its memory.

use std::borrow::Cow;
use weld::component::{Component, Linker, Val, WasmList, WasmStr};
use weld::{Engine, Store};

/// A component whose core module holds, at fixed addresses, the UTF-8 bytes
/// "hello wörld" (at 100, 12 bytes) and the results below (each function returns a
/// pointer to its result in memory).
const GUEST: &str = r#"
(component
  (core module $m
    (memory (export "mem") 1)
    (data (i32.const 100) "hello w\c3\b6rld")
    ;; string / list<u8>: (100, 12)
    (data (i32.const 200) "\64\00\00\00\0c\00\00\00")
    ;; list<string>: elements ("hello", "wörld") at 300, the list at 320
    (data (i32.const 300) "\64\00\00\00\05\00\00\00\6a\00\00\00\06\00\00\00")
    (data (i32.const 320) "\2c\01\00\00\02\00\00\00")
    ;; option<string>: some("hello")
    (data (i32.const 400) "\01\00\00\00\64\00\00\00\05\00\00\00")
    ;; result<string, u32>: err(7) at 420, ok("hello wörld") at 440
    (data (i32.const 420) "\01\00\00\00\07\00\00\00")
    (data (i32.const 440) "\00\00\00\00\64\00\00\00\0c\00\00\00")
    ;; tuple<string, u32>: ("hello", 42)
    (data (i32.const 460) "\64\00\00\00\05\00\00\00\2a\00\00\00")
    ;; string with invalid utf-8: (500, 2) = ff fe, its pair at 512
    (data (i32.const 500) "\ff\fe")
    (data (i32.const 512) "\f4\01\00\00\02\00\00\00")
    ;; string out of bounds: (65530, 100)
    (data (i32.const 528) "\fa\ff\00\00\64\00\00\00")
    (func (export "at") (param i32) (result i32) (local.get 0))
    (func (export "str") (result i32) (i32.const 200))
    (func (export "strs") (result i32) (i32.const 320))
    (func (export "opt") (result i32) (i32.const 400))
    (func (export "res-err") (result i32) (i32.const 420))
    (func (export "res-ok") (result i32) (i32.const 440))
    (func (export "pair") (result i32) (i32.const 460))
    (func (export "bad-utf8") (result i32) (i32.const 512))
    (func (export "out-of-bounds") (result i32) (i32.const 528)))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (func (export "str") (result string) (canon lift (core func $i "str") (memory $mem)))
  (func (export "bytes") (result (list u8)) (canon lift (core func $i "str") (memory $mem)))
  (func (export "strs") (result (list string)) (canon lift (core func $i "strs") (memory $mem)))
  (func (export "opt") (result (option string)) (canon lift (core func $i "opt") (memory $mem)))
  (func (export "res-err") (result (result string (error u32))) (canon lift (core func $i "res-err") (memory $mem)))
  (func (export "res-ok") (result (result string (error u32))) (canon lift (core func $i "res-ok") (memory $mem)))
  (func (export "pair") (result (tuple string u32)) (canon lift (core func $i "pair") (memory $mem)))
  (func (export "bad-utf8") (result string) (canon lift (core func $i "bad-utf8") (memory $mem)))
  (func (export "out-of-bounds") (result string) (canon lift (core func $i "out-of-bounds") (memory $mem))))
"#;

fn instantiate(wat: &str) -> (Store<()>, weld::component::Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, wat).expect("the component compiles");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).expect("the component instantiates");
    (store, instance)
}

#[test]
fn wasm_str_borrows_utf8_from_guest_memory() {
    let (mut store, instance) = instantiate(GUEST);
    let f = instance.get_typed_func::<(), (WasmStr,)>(&mut store, "str").unwrap();
    let (s,) = f.call(&mut store, ()).unwrap();
    assert_eq!(s.byte_len(), 12);
    assert!(matches!(s.to_str(&store).unwrap(), Cow::Borrowed("hello wörld")));
    assert_eq!(s.as_bytes(&store).unwrap(), "hello wörld".as_bytes());
}

#[test]
fn wasm_list_of_bytes_and_of_strings() {
    let (mut store, instance) = instantiate(GUEST);
    let f = instance.get_typed_func::<(), (WasmList<u8>,)>(&mut store, "bytes").unwrap();
    let (bytes,) = f.call(&mut store, ()).unwrap();
    assert_eq!(bytes.len(), 12);
    assert_eq!(bytes.as_le_slice(&store).unwrap(), "hello wörld".as_bytes());
    assert_eq!(bytes.get(&mut store, 1).unwrap().unwrap(), b'e');
    assert!(bytes.get(&mut store, 12).is_none());

    let f = instance.get_typed_func::<(), (WasmList<String>,)>(&mut store, "strs").unwrap();
    let (strs,) = f.call(&mut store, ()).unwrap();
    let all: Vec<String> = strs.iter(&mut store).collect::<anyhow::Result<_>>().unwrap();
    assert_eq!(all, ["hello", "wörld"]);

    // A list of views: each element is lifted in place.
    let f = instance.get_typed_func::<(), (Vec<WasmStr>,)>(&mut store, "strs").unwrap();
    let (views,) = f.call(&mut store, ()).unwrap();
    let texts: Vec<_> = views.iter().map(|v| v.to_str(&store).unwrap().into_owned()).collect();
    assert_eq!(texts, ["hello", "wörld"]);
}

#[test]
fn views_inside_options_results_and_tuples() {
    let (mut store, instance) = instantiate(GUEST);
    let opt = instance.get_typed_func::<(), (Option<WasmStr>,)>(&mut store, "opt").unwrap();
    let (o,) = opt.call(&mut store, ()).unwrap();
    assert_eq!(o.unwrap().to_str(&store).unwrap(), "hello");

    let res = instance.get_typed_func::<(), (Result<WasmStr, u32>,)>(&mut store, "res-err").unwrap();
    let (r,) = res.call(&mut store, ()).unwrap();
    assert_eq!(r.unwrap_err(), 7);
    let res = instance.get_typed_func::<(), (Result<WasmStr, u32>,)>(&mut store, "res-ok").unwrap();
    let (r,) = res.call(&mut store, ()).unwrap();
    assert_eq!(r.unwrap().to_str(&store).unwrap(), "hello wörld");

    let pair = instance.get_typed_func::<(), ((WasmStr, u32),)>(&mut store, "pair").unwrap();
    let ((s, n),) = pair.call(&mut store, ()).unwrap();
    assert_eq!((s.to_str(&store).unwrap().as_ref(), n), ("hello", 42));
}

#[test]
fn views_are_checked_when_lifted() {
    let (mut store, instance) = instantiate(GUEST);
    let f = instance.get_typed_func::<(), (WasmStr,)>(&mut store, "bad-utf8").unwrap();
    let err = f.call(&mut store, ()).expect_err("invalid utf-8 traps");
    assert_eq!(err.downcast_ref::<weld::Trap>(), Some(&weld::Trap::InvalidUtf8));
    assert_eq!(
        format!("{err:#}"),
        "invalid utf-8 sequence at byte 0 of the string at 0x1f4 in the callee's memory: invalid utf-8"
    );

    let (mut store, instance) = instantiate(GUEST);
    let f = instance.get_typed_func::<(), (WasmStr,)>(&mut store, "out-of-bounds").unwrap();
    let err = f.call(&mut store, ()).expect_err("out of bounds traps");
    assert_eq!(err.downcast_ref::<weld::Trap>(), Some(&weld::Trap::StringOutOfBounds));
    assert_eq!(
        format!("{err:#}"),
        "string pointer/length out of bounds of memory: 100 bytes at 0xfffa do not fit in the callee's memory of \
         65536 bytes: string content out-of-bounds"
    );

    // A view cannot be made from a `Val`.
    use weld::component::Lift;
    let err = WasmStr::from_val(Val::String("x".into())).unwrap_err().to_string();
    assert!(err.starts_with("a WasmStr is a view of guest memory: it can only be lifted from a guest"), "{err}");
}

/// "héllo" in the guest's encoding, at 100, with (100, length) at 200; `length` is the
/// length's four bytes as wat string escapes.
fn encoded_guest(encoding: &str, bytes: &str, length: &str) -> String {
    format!(
        r#"(component
  (core module $m
    (memory (export "mem") 1)
    (data (i32.const 100) "{bytes}")
    (data (i32.const 200) "\64\00\00\00{length}")
    (func (export "str") (result i32) (i32.const 200)))
  (core instance $i (instantiate $m))
  (func (export "str") (result string)
    (canon lift (core func $i "str") (memory (core memory $i "mem")) string-encoding={encoding})))"#
    )
}

#[test]
fn wasm_str_decodes_utf16_and_latin1() {
    for (encoding, bytes, length) in [
        ("utf16", r"h\00\e9\00l\00l\00o\00", r"\05\00\00\00"),
        ("latin1+utf16", r"h\e9llo", r"\05\00\00\00"),
        // A latin1+utf16 string tagged as UTF-16 (the length's high bit).
        ("latin1+utf16", r"h\00\e9\00l\00l\00o\00", r"\05\00\00\80"),
    ] {
        let wat = encoded_guest(encoding, bytes, length);
        let (mut store, instance) = instantiate(&wat);
        let f = instance.get_typed_func::<(), (WasmStr,)>(&mut store, "str").unwrap();
        let (s,) = f.call(&mut store, ()).unwrap();
        let text = s.to_str(&store).unwrap();
        assert!(matches!(text, Cow::Owned(_)), "{encoding}: decoded, not borrowed");
        assert_eq!(text, "héllo", "{encoding}");
    }
}

#[test]
fn host_functions_take_views_as_parameters() {
    // `count` gets one string (flat parameters); `join` gets nine (18 flat values: through
    // memory); `maybe` an option and a result of strings (flat, the result's slots joined).
    let strings: String = (0..9).map(|i| format!(" (param \"s{i}\" string)")).collect();
    let wat = format!(
        r#"(component
  (import "count" (func $count (param "s" string) (result u32)))
  (import "join" (func $join{strings} (result u32)))
  (import "maybe" (func $maybe (param "o" (option string)) (param "r" (result string (error u64))) (result u32)))
  (core module $m
    (memory (export "mem") 1)
    (data (i32.const 100) "hello w\c3\b6rld")
    ;; nine (ptr, len) pairs for `join`: "hello" then eight times "l"
    (data (i32.const 200) "\64\00\00\00\05\00\00\00"
      "\66\00\00\00\01\00\00\00" "\66\00\00\00\01\00\00\00" "\66\00\00\00\01\00\00\00" "\66\00\00\00\01\00\00\00"
      "\66\00\00\00\01\00\00\00" "\66\00\00\00\01\00\00\00" "\66\00\00\00\01\00\00\00" "\66\00\00\00\01\00\00\00"))
  (core instance $i (instantiate $m))
  (core func $count (canon lower (func $count) (memory (core memory $i "mem"))))
  (core func $join (canon lower (func $join) (memory (core memory $i "mem"))))
  (core func $maybe (canon lower (func $maybe) (memory (core memory $i "mem"))))
  (core module $user
    (import "host" "count" (func $count (param i32 i32) (result i32)))
    (import "host" "join" (func $join (param i32) (result i32)))
    ;; option<string> flattens to (i32 i32 i32), result<string, u64> to (i32 i64 i32).
    (import "host" "maybe" (func $maybe (param i32 i32 i32 i32 i64 i32) (result i32)))
    (func (export "maybe") (result i32)
      (i32.add
        ;; some("hello"), err(40)
        (i32.mul (call $maybe (i32.const 1) (i32.const 100) (i32.const 5) (i32.const 1) (i64.const 40) (i32.const 0))
                 (i32.const 100))
        ;; none, ok("hello wörld"); the ok payload's pointer comes in the i64 slot
        (call $maybe (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 100) (i32.const 12))))
    (func (export "run") (result i32)
      (i32.add (i32.mul (call $count (i32.const 100) (i32.const 12)) (i32.const 1000))
               (call $join (i32.const 200)))))
  (core instance $u (instantiate $user (with "host" (instance
    (export "count" (func $count)) (export "join" (func $join)) (export "maybe" (func $maybe))))))
  (func (export "run") (result u32) (canon lift (core func $u "run")))
  (func (export "maybe") (result u32) (canon lift (core func $u "maybe"))))"#
    );
    let engine = Engine::default();
    let component = Component::new(&engine, &wat).unwrap();
    let mut linker = Linker::<Vec<String>>::new(&engine);
    linker
        .root()
        .func_wrap("count", |mut store, (s,): (WasmStr,)| {
            let text = s.to_str(&store)?.into_owned();
            let n = text.chars().count() as u32;
            store.data_mut().push(text);
            Ok((n,))
        })
        .unwrap();
    type Nine = (WasmStr, WasmStr, WasmStr, WasmStr, WasmStr, WasmStr, WasmStr, WasmStr, WasmStr);
    linker
        .root()
        .func_wrap("join", |mut store, all: Nine| {
            let parts = [&all.0, &all.1, &all.2, &all.3, &all.4, &all.5, &all.6, &all.7, &all.8];
            let text: String =
                parts.iter().map(|s| s.to_str(&store).map(|t| t.into_owned())).collect::<anyhow::Result<_>>()?;
            let n = text.len() as u32;
            store.data_mut().push(text);
            Ok((n,))
        })
        .unwrap();
    linker
        .root()
        .func_wrap("maybe", |store, (o, r): (Option<WasmStr>, Result<WasmStr, u64>)| {
            let o = match o {
                Some(s) => s.to_str(&store)?.chars().count() as u32,
                None => 0,
            };
            let r = match r {
                Ok(s) => s.to_str(&store)?.chars().count() as u32,
                Err(n) => n as u32,
            };
            Ok((o + r,))
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_typed_func::<(), (u32,)>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), (11 * 1000 + 13,));
    assert_eq!(store.data(), &["hello wörld".to_string(), "hellollllllll".to_string()]);
    // Options and results of views as flat parameters, with joined slots.
    let maybe = instance.get_typed_func::<(), (u32,)>(&mut store, "maybe").unwrap();
    assert_eq!(maybe.call(&mut store, ()).unwrap(), ((5 + 40) * 100 + 11,));
}

/// A guest whose `text` returns "abc" at 100 and whose post-return then overwrites those bytes
/// with `fill` (WAT string text): `xyz` (valid UTF-8) or `\ff\ff\ff` (invalid).
fn overwriting_guest(fill: &str) -> String {
    format!(
        r#"(component
      (core module $m
        (memory (export "mem") 1)
        (data (i32.const 100) "abc")
        (data (i32.const 200) "\64\00\00\00\03\00\00\00")
        (data (i32.const 300) "{fill}")
        (func (export "text") (result i32) (i32.const 200))
        (func (export "scrub") (param i32) (memory.copy (i32.const 100) (i32.const 300) (i32.const 3))))
      (core instance $i (instantiate $m))
      (alias core export $i "mem" (core memory $mem))
      (func (export "text") (result string)
        (canon lift (core func $i "text") (memory $mem) (post-return (core func $i "scrub")))))"#
    )
}

#[test]
fn views_returned_by_a_call_read_memory_after_post_return() {
    // A `String` result is copied before post-return runs; a `WasmStr` is checked then but read
    // later, so it sees what post-return left (as in Wasmtime).
    let (mut store, instance) = instantiate(&overwriting_guest("xyz"));
    let owned = instance.get_typed_func::<(), (String,)>(&mut store, "text").unwrap();
    assert_eq!(owned.call(&mut store, ()).unwrap().0, "abc");
    let (mut store, instance) = instantiate(&overwriting_guest("xyz"));
    let mut out = [Val::Bool(false)];
    instance.get_func(&mut store, "text").unwrap().call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::String("abc".into()), "`Val`s are lifted before post-return too");
    let (mut store, instance) = instantiate(&overwriting_guest("xyz"));
    let view = instance.get_typed_func::<(), (WasmStr,)>(&mut store, "text").unwrap();
    let (s,) = view.call(&mut store, ()).unwrap();
    assert_eq!(s.byte_len(), 3);
    assert_eq!(s.to_str(&store).unwrap(), "xyz", "the view reads the bytes post-return wrote");

    // Bytes that are no longer UTF-8 are an error when the view is read, not undefined behaviour.
    let (mut store, instance) = instantiate(&overwriting_guest("\\ff\\ff\\ff"));
    let view = instance.get_typed_func::<(), (WasmStr,)>(&mut store, "text").unwrap();
    let (s,) = view.call(&mut store, ()).unwrap();
    assert_eq!(s.as_bytes(&store).unwrap(), [0xff, 0xff, 0xff]);
    let err = s.to_str(&store).unwrap_err();
    assert!(format!("{err:#}").contains("utf-8"), "{err:#}");
}
