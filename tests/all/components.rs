//! Components called from the host: values of every type echoed through a guest, the exact
//! messages of type mismatches, typed calls, host imports, post-return and the traps the
//! canonical ABI requires.

use weld::component::{Component, Linker, Type, Val};
use weld::{Engine, Store};

/// A memory and a bump-allocating `realloc` over it, as core module fields: shrinking keeps
/// the block, growing copies into a new one.
macro_rules! memory_and_realloc {
    () => {
        r#"
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32)
      (result i32)
      (local $p i32)
      ;; Shrinking keeps the block; otherwise a new block gets the old contents.
      (if (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.le_u (local.get $size) (local.get $old_size)))
        (then (return (local.get $old))))
      (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $p) (local.get $size)))
      (memory.copy (local.get $p) (local.get $old) (local.get $old_size))
      (local.get $p))"#
    };
}

/// A core module with a memory, a bump-allocating `realloc`, and identity functions: `echo-mem` returns
/// its pointer argument, `echo-<t>` its scalar argument.
pub(crate) const ECHO_MODULE: &str = concat!(
    r#"
  (core module $m"#,
    memory_and_realloc!(),
    r#"
    (func (export "echo-mem") (param i32) (result i32) local.get 0)
    (func (export "echo-i32") (param i32) (result i32) local.get 0)
    (func (export "echo-i64") (param i64) (result i64) local.get 0)
    (func (export "echo-f32") (param f32) (result f32) local.get 0)
    (func (export "echo-f64") (param f64) (result f64) local.get 0)
  )
  (core instance $i (instantiate $m))
"#
);

/// A component exporting `echo: func(x: t) -> t` for the component type `ty` (written in
/// the text format), with strings in `encoding`.
///
/// Types that flatten to one core value are echoed by an identity function of that core type.
/// Others get 16 extra `u64` parameters, which push the parameters into memory: the guest
/// receives a pointer to the tuple `(x, ...)`, whose first element is at offset 0, and returns
/// that pointer as the pointer to its result.
fn echo_component(ty: &str, flat: Option<&str>, encoding: &str) -> String {
    let (core, pad) = match flat {
        Some(core) => (format!("echo-{core}"), String::new()),
        None => ("echo-mem".to_string(), (0..16).map(|i| format!(r#"(param "p{i}" u64) "#)).collect()),
    };
    format!(
        r#"(component {ECHO_MODULE}
          (type $t' {ty})
          (export $t "t" (type $t'))
          (func (export "echo") (param "x" $t) {pad}(result $t)
            (canon lift (core func $i "{core}") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
              string-encoding={encoding})))"#
    )
}

pub(crate) fn instantiate(wat: &str) -> (Store<()>, weld::component::Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, wat).expect("the component compiles");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).expect("the component instantiates");
    (store, instance)
}

/// Calls `echo` with `val` (and the padding parameters), returning the result.
fn echo(store: &mut Store<()>, instance: &weld::component::Instance, val: &Val) -> anyhow::Result<Val> {
    let f = instance.get_func(&mut *store, "echo").expect("echo is exported");
    let mut params = vec![val.clone()];
    params.extend((1..f.params(&*store).len()).map(|i| Val::U64(i as u64)));
    let mut results = [Val::Bool(false)];
    f.call(&mut *store, &params, &mut results)?;
    let [result] = results;
    Ok(result)
}

/// Echoes each value through a guest for type `ty`, in every string encoding, and checks
/// that it comes back equal.
fn round_trip(ty: &str, flat: Option<&str>, vals: &[Val]) {
    for encoding in ["utf8", "utf16", "latin1+utf16"] {
        let (mut store, instance) = instantiate(&echo_component(ty, flat, encoding));
        for val in vals {
            let back = echo(&mut store, &instance, val).unwrap_or_else(|e| panic!("{ty} {val:?} ({encoding}): {e:#}"));
            assert_eq!(&back, val, "{ty} in {encoding}");
        }
    }
}

fn s(x: &str) -> Val {
    Val::String(x.to_string())
}

fn some(v: Val) -> Val {
    Val::Option(Some(Box::new(v)))
}

#[test]
fn scalars_round_trip() {
    round_trip("bool", Some("i32"), &[Val::Bool(true), Val::Bool(false)]);
    round_trip("s8", Some("i32"), &[Val::S8(i8::MIN), Val::S8(-1), Val::S8(i8::MAX)]);
    round_trip("u8", Some("i32"), &[Val::U8(0), Val::U8(u8::MAX)]);
    round_trip("s16", Some("i32"), &[Val::S16(i16::MIN), Val::S16(i16::MAX)]);
    round_trip("u16", Some("i32"), &[Val::U16(u16::MAX)]);
    round_trip("s32", Some("i32"), &[Val::S32(i32::MIN), Val::S32(-7)]);
    round_trip("u32", Some("i32"), &[Val::U32(u32::MAX)]);
    round_trip("s64", Some("i64"), &[Val::S64(i64::MIN), Val::S64(-1)]);
    round_trip("u64", Some("i64"), &[Val::U64(u64::MAX)]);
    round_trip("f32", Some("f32"), &[Val::Float32(1.5), Val::Float32(-0.0), Val::Float32(f32::INFINITY)]);
    round_trip("f64", Some("f64"), &[Val::Float64(-2.25e300), Val::Float64(f64::MIN_POSITIVE)]);
    round_trip("char", Some("i32"), &[Val::Char('a'), Val::Char('\u{10FFFF}'), Val::Char('é')]);
}

#[test]
fn nan_bits_pass_through() {
    let (mut store, instance) = instantiate(&echo_component("f32", Some("f32"), "utf8"));
    let nan = f32::from_bits(0x7fc0_1234);
    match echo(&mut store, &instance, &Val::Float32(nan)).unwrap() {
        Val::Float32(x) => assert_eq!(x.to_bits(), 0x7fc0_1234),
        other => panic!("{other:?}"),
    }
}

#[test]
fn strings_round_trip_in_every_encoding() {
    let long = "weld ".repeat(2000);
    round_trip(
        "string",
        None,
        &[s(""), s("hello"), s("latin1 ÿé"), s("ünïcödé ✓ 𝄞 emoji 🦀"), s(&long), s("\u{0}nul")],
    );
}

#[test]
fn compound_types_round_trip() {
    round_trip("(list u8)", None, &[Val::List(vec![]), Val::List((0..=255).map(Val::U8).collect())]);
    round_trip("(list string)", None, &[Val::List(vec![s("a"), s(""), s("ccc ✓")])]);
    round_trip(
        "(list (list u16))",
        None,
        &[Val::List(vec![Val::List(vec![Val::U16(1), Val::U16(2)]), Val::List(vec![])])],
    );
    round_trip(
        r#"(record (field "name" string) (field "age" u8) (field "score" f64))"#,
        None,
        &[Val::Record(vec![
            ("name".into(), s("Ada")),
            ("age".into(), Val::U8(36)),
            ("score".into(), Val::Float64(9.5)),
        ])],
    );
    round_trip("(tuple u8 u64 string)", None, &[Val::Tuple(vec![Val::U8(1), Val::U64(1 << 40), s("t")])]);
    round_trip(
        r#"(variant (case "none") (case "small" u8) (case "big" u64) (case "text" string) (case "f" f32))"#,
        None,
        &[
            Val::Variant("none".into(), None),
            Val::Variant("small".into(), Some(Box::new(Val::U8(200)))),
            Val::Variant("big".into(), Some(Box::new(Val::U64(u64::MAX)))),
            Val::Variant("text".into(), Some(Box::new(s("payload")))),
            Val::Variant("f".into(), Some(Box::new(Val::Float32(-3.5)))),
        ],
    );
    round_trip(r#"(enum "red" "green" "blue")"#, Some("i32"), &[Val::Enum("red".into()), Val::Enum("blue".into())]);
    round_trip("(option u32)", None, &[Val::Option(None), some(Val::U32(7))]);
    round_trip("(option (option string))", None, &[some(Val::Option(None)), some(some(s("x"))), Val::Option(None)]);
    round_trip(
        "(result u32 (error string))",
        None,
        &[Val::Result(Ok(Some(Box::new(Val::U32(3))))), Val::Result(Err(Some(Box::new(s("bad")))))],
    );
    round_trip("(result)", Some("i32"), &[Val::Result(Ok(None)), Val::Result(Err(None))]);
    round_trip(r#"(flags "a" "b" "c")"#, Some("i32"), &[Val::Flags(vec![]), Val::Flags(vec!["a".into(), "c".into()])]);
    // The spec allows at most 32 flags: they always fit one i32.
    let names: Vec<String> = (0..32).map(|i| format!("f{i}")).collect();
    let flags = format!("(flags {})", names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(" "));
    round_trip(&flags, Some("i32"), &[Val::Flags(vec!["f0".into(), "f15".into(), "f31".into()])]);
}

#[test]
fn mismatches_name_the_parameter_and_the_path() {
    let ty = r#"(record (field "name" string) (field "tags" (list string)))"#;
    let (mut store, instance) = instantiate(&echo_component(ty, None, "utf8"));
    let bad = Val::Record(vec![("name".into(), Val::U32(1)), ("tags".into(), Val::List(vec![]))]);
    let err = echo(&mut store, &instance, &bad).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "parameter 0 (`x`) has the wrong type: field \"name\" of record: expected string, found u32"
    );
    let bad = Val::Record(vec![("name".into(), s("n")), ("tags".into(), Val::List(vec![s("a"), Val::Bool(true)]))]);
    let err = echo(&mut store, &instance, &bad).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "parameter 0 (`x`) has the wrong type: element 1 of list<string> of field \"tags\" of record: \
         expected string, found bool"
    );
    let f = instance.get_func(&mut store, "echo").unwrap();
    let err = f.call(&mut store, &[s("x")], &mut [Val::Bool(false)]).unwrap_err();
    assert!(err.to_string().starts_with("the function takes 17 parameters"), "{err}");
    // A failed typecheck does not enter the instance: the next call works.
    let good = Val::Record(vec![("name".into(), s("n")), ("tags".into(), Val::List(vec![s("t")]))]);
    assert_eq!(echo(&mut store, &instance, &good).unwrap(), good);
}

#[test]
fn typed_calls() {
    let (mut store, instance) = instantiate(&echo_component("string", None, "utf16"));
    // The string echo has 17 parameters: a typed view with one is refused.
    let err = instance.get_typed_func::<(String,), (String,)>(&mut store, "echo").err().unwrap();
    assert!(format!("{err:#}").contains("expected 17 parameters, found a Rust tuple of 1"), "{err:#}");

    let (mut store, instance) = instantiate(&echo_component("u32", Some("i32"), "utf8"));
    let f = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "echo").unwrap();
    assert_eq!(f.call(&mut store, (41,)).unwrap(), (41,));
    let err = instance.get_typed_func::<(u64,), (u32,)>(&mut store, "echo").err().unwrap();
    assert_eq!(
        format!("{err:#}"),
        "the function `echo` does not have the requested type: the parameter types differ: in parameter 0: \
         type mismatch: expected u32, found a Rust type for u64"
    );

    let (mut store, instance) = instantiate(&echo_component("(option (list char))", None, "utf8"));
    let f = instance.get_func(&mut store, "echo").unwrap();
    assert!(f.typed::<(Option<Vec<char>>,), (Option<Vec<char>>,)>(&store).is_err());
}

/// A component that imports `host-fn: func(s: string, n: u32) -> string` and exports
/// `run: func(s: string) -> string`, which calls the import with `(s, 3)`.
const CALLS_HOST: &str = concat!(
    r#"(component
  (import "host-fn" (func $h (param "s" string) (param "n" u32) (result string)))
  (core module $mem"#,
    memory_and_realloc!(),
    r#")
  (core instance $mi (instantiate $mem))
  (core func $h' (canon lower (func $h) (memory (core memory $mi "mem")) (realloc (core func $mi "realloc"))))
  (core module $main
    (import "host" "h" (func $h (param i32 i32 i32 i32)))
    (import "mem" "mem" (memory 1))
    (func (export "run") (param i32 i32) (result i32)
      (call $h (local.get 0) (local.get 1) (i32.const 3) (i32.const 512))
      (i32.const 512)))
  (core instance $main (instantiate $main
    (with "host" (instance (export "h" (func $h'))))
    (with "mem" (instance $mi))))
  (func (export "run") (param "s" string) (result string)
    (canon lift (core func $main "run") (memory (core memory $mi "mem")) (realloc (core func $mi "realloc"))))
)"#
);

#[test]
fn host_functions_dynamic_and_typed() {
    let engine = Engine::default();
    let component = Component::new(&engine, CALLS_HOST).unwrap();

    let mut linker = Linker::<u32>::new(&engine);
    linker
        .root()
        .func_new("host-fn", |mut store, _, params, results| {
            *store.data_mut() += 1;
            let (Val::String(s), Val::U32(n)) = (&params[0], &params[1]) else { panic!("{params:?}") };
            results[0] = Val::String(s.repeat(*n as usize));
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, 0u32);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_typed_func::<(&str,), (String,)>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ("ab✓",)).unwrap().0, "ab✓ab✓ab✓");
    assert_eq!(*store.data(), 1);

    let mut linker = Linker::<()>::new(&engine);
    linker.root().func_wrap("host-fn", |_store, (s, n): (String, u32)| Ok((format!("{s}:{n}"),))).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let mut out = [Val::Bool(false)];
    run.call(&mut store, &[s("x")], &mut out).unwrap();
    assert_eq!(out[0], s("x:3"));

    // A typed host function of another type is refused at instantiation.
    let mut linker = Linker::<()>::new(&engine);
    linker.root().func_wrap("host-fn", |_store, (n,): (u32,)| Ok((n,))).unwrap();
    let err = linker.instantiate(&mut Store::new(&engine, ()), &component).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "import `host-fn` has the wrong type: the component expects func(s: string, n: u32) -> string, \
         which the host function's Rust types do not match: type mismatch: expected 2 parameters, \
         found a Rust tuple of 1"
    );
    // So is an `InstancePre` of it: the check runs once, when the imports are resolved.
    let err = linker.instantiate_pre(&component).err().expect("instantiate_pre checks host function types");
    assert!(format!("{err:#}").starts_with("import `host-fn` has the wrong type"), "{err:#}");
    // A missing import is named.
    let err = Linker::<()>::new(&engine).instantiate(&mut Store::new(&engine, ()), &component).unwrap_err();
    assert_eq!(
        err.to_string(),
        "import `host-fn` has not been defined: the component expects a function `func(s: string, n: u32) -> string`; \
         define it with `linker.root().func_wrap(\"host-fn\", ...)`, or let `Linker::define_unknown_imports_as_traps` \
         stand in for it"
    );

    // A dynamic host function returning the wrong type is caught, naming it.
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new("host-fn", |_store, _, _params, results| {
            results[0] = Val::U8(1);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let err = run.call(&mut store, &[s("x")], &mut out).unwrap_err();
    assert!(format!("{err:?}").contains("host function `host-fn` returned a value of the wrong type"), "{err:?}");
    // The trap left the instance unusable.
    let err = run.call(&mut store, &[s("x")], &mut out).unwrap_err();
    assert!(format!("{err:?}").contains("cannot enter component instance"), "{err:?}");
}

#[test]
fn host_errors_and_reentrance() {
    let engine = Engine::default();
    let component = Component::new(&engine, CALLS_HOST).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.root().func_new("host-fn", |_store, _, _params, _results| anyhow::bail!("the host says no")).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let err = run.call(&mut store, &[s("x")], &mut [Val::Bool(false)]).unwrap_err();
    assert!(format!("{err:?}").contains("the host says no"), "{err:?}");
}

#[test]
fn post_return_runs_inside_call_with_the_core_result() {
    // `get` returns how much `cleanup` has counted; `cleanup` adds its argument (the core
    // result of the call it follows) plus one.
    let wat = r#"(component
      (core module $m
        (global $cleaned (mut i32) (i32.const 0))
        (func (export "get") (result i32) (global.get $cleaned))
        (func (export "cleanup") (param i32)
          (global.set $cleaned (i32.add (global.get $cleaned) (i32.add (local.get 0) (i32.const 1))))))
      (core instance $i (instantiate $m))
      (func (export "get") (result u32)
        (canon lift (core func $i "get") (post-return (core func $i "cleanup")))))"#;
    let (mut store, instance) = instantiate(wat);
    let get = instance.get_func(&mut store, "get").unwrap();
    let mut out = [Val::Bool(false)];
    get.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(0), "the result is lifted before post-return runs");
    get.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(1), "post-return ran after the first call, with its result 0");
    let typed = get.typed::<(), (u32,)>(&store).unwrap();
    assert_eq!(typed.call(&mut store, ()).unwrap(), (3,), "post-return got 1 after the second call");
    // The old explicit call is a no-op now: it neither runs post-return again nor fails.
    #[allow(deprecated)]
    {
        get.post_return(&mut store).unwrap();
        typed.post_return(&mut store).unwrap();
    }
    assert_eq!(typed.call(&mut store, ()).unwrap(), (7,));
}

#[test]
fn invalid_strings_from_the_guest_trap() {
    // `bad` returns a pointer to (ptr, len) for a string whose bytes are invalid: utf-8 0xff,
    // or a utf-16 lone surrogate.
    let component = |encoding: &str, bytes: &str, len: u32| {
        format!(
            r#"(component
          (core module $m
            (memory (export "mem") 1)
            (data (i32.const 16) "{bytes}")
            (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
            (func (export "bad") (result i32)
              (i32.store (i32.const 0) (i32.const 16))
              (i32.store (i32.const 4) (i32.const {len}))
              (i32.const 0)))
          (core instance $i (instantiate $m))
          (func (export "bad") (result string)
            (canon lift (core func $i "bad") (memory (core memory $i "mem")) string-encoding={encoding})))"#
        )
    };
    for (encoding, bytes, len, message) in [
        ("utf8", "a\\ffb", 3, "invalid utf-8"),
        ("utf8", "ab\\e2\\82", 4, "incomplete utf-8 byte sequence"),
        ("utf16", "a\\00\\00\\d8", 2, "invalid utf-16"),
    ] {
        let (mut store, instance) = instantiate(&component(encoding, bytes, len));
        let f = instance.get_func(&mut store, "bad").unwrap();
        let err = f.call(&mut store, &[], &mut [Val::Bool(false)]).unwrap_err();
        assert!(format!("{err:#}").contains(message), "{encoding}: {err:#}");
    }
}

#[test]
fn results_out_of_bounds_trap() {
    let wat = r#"(component
      (core module $m
        (memory (export "mem") 1)
        (func (export "f") (result i32) (i32.const 65535)))
      (core instance $i (instantiate $m))
      (func (export "f") (result (tuple u32 u32)) (canon lift (core func $i "f") (memory (core memory $i "mem")))))"#;
    let (mut store, instance) = instantiate(wat);
    let f = instance.get_func(&mut store, "f").unwrap();
    let err = f.call(&mut store, &[], &mut [Val::Bool(false)]).unwrap_err();
    assert_eq!(err.downcast_ref::<weld::Trap>(), Some(&weld::Trap::UnalignedPointer));
    assert_eq!(err.to_string(), "value pointer 0xffff is not aligned to 4 in the callee's memory");
}

#[test]
fn fused_calls_run_through_adapters() {
    let wat = r#"(component
      (component $a
        (core module $m (func (export "f") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3))))
        (core instance $i (instantiate $m))
        (func (export "f") (param "x" u8) (result u32) (canon lift (core func $i "f"))))
      (component $b
        (import "f" (func $f (param "x" u8) (result u32)))
        (core func $f' (canon lower (func $f)))
        (core module $m
          (import "" "f" (func $f (param i32) (result i32)))
          ;; 0x1ff is masked to the u8 0xff on the way into $a.
          (func (export "run") (result i32) (call $f (i32.const 0x1ff))))
        (core instance $i (instantiate $m (with "" (instance (export "f" (func $f'))))))
        (func (export "run") (result u32) (canon lift (core func $i "run"))))
      (instance $a (instantiate $a))
      (instance $b (instantiate $b (with "f" (func $a "f"))))
      (export "run" (func $b "run")))"#;
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap();
    assert_eq!(component.num_fused_calls(), 1);
    let modules = component.adapter_modules();
    assert_eq!(modules.len(), 1);
    assert!(modules[0].1[0].contains("adapter0: func(x: u8) -> u32"), "{:?}", modules[0].1);
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine).instantiate(&mut store, &component).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let mut out = [Val::Bool(false)];
    run.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(0xff * 3));
}

#[test]
fn exports_of_nested_instances() {
    let wat = r#"(component
      (core module $m (func (export "f") (result i32) (i32.const 7)))
      (core instance $i (instantiate $m))
      (func $f (result u32) (canon lift (core func $i "f")))
      (instance $inner (export "seven" (func $f)))
      (export "api" (instance $inner)))"#;
    let (mut store, instance) = instantiate(wat);
    assert!(instance.get_func(&mut store, "api").is_none());
    let api = instance.get_export_index(&store, None, "api").unwrap();
    let seven = instance.get_export_index(&store, Some(&api), "seven").unwrap();
    let f = instance.get_func_by_index(&store, &seven).unwrap();
    let mut out = [Val::Bool(false)];
    f.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(7));
    let names: Vec<String> = instance.exported_functions(&store).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["api#seven"]);
    let _: Type = f.results(&store)[0].clone();
}
