//! Wasm exceptions through the embedder API: uncaught exceptions as `ThrownException`, tags
//! shared between modules and with the host, the host throwing into wasm, traps that handlers
//! do not catch, precompiling, and the legacy instructions (`try`, `catch`, `catch_all`,
//! `delegate`, `rethrow`), whose text syntax the wast 0.263 parser no longer reads, built here
//! with wasm-encoder.

use wasm_encoder::{
    BlockType, CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, Module as Encoder,
    TagKind, TagSection, TagType as EncodedTagType, TypeSection, ValType as EncodedValType,
};
use weld::{Engine, FuncType, Linker, Module, Store, Tag, TagType, ThrownException, Val, ValType};

fn instantiate(engine: &Engine, linker: &Linker<()>, store: &mut Store<()>, wasm: impl AsRef<[u8]>) -> weld::Instance {
    let module = Module::new(engine, wasm).unwrap();
    linker.instantiate(&mut *store, &module).unwrap()
}

/// A new store of the default engine and an instance of `wat` in it, with no imports.
fn instance_of(wat: &str) -> (Store<()>, weld::Instance) {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let instance = instantiate(&engine, &Linker::new(&engine), &mut store, wat);
    (store, instance)
}

fn call_i32(store: &mut Store<()>, instance: &weld::Instance, name: &str, arg: i32) -> anyhow::Result<i32> {
    instance.get_typed_func::<i32, i32>(&mut *store, name).unwrap().call(&mut *store, arg)
}

const THROWER: &str = r#"(module
    (tag $e (export "e") (param i32))
    (func (export "throw") (param i32) (throw $e (local.get 0)))
    (func (export "catch") (param i32) (result i32)
        (block $h (result i32)
            (try_table (catch $e $h) (call 0 (local.get 0)))
            (i32.const -1))))"#;

#[test]
fn an_uncaught_exception_reaches_the_host_with_its_tag_and_payload() {
    let (mut store, instance) = instance_of(THROWER);
    let err = instance.get_typed_func::<i32, ()>(&mut store, "throw").unwrap().call(&mut store, 42).unwrap_err();
    let thrown = err.downcast_ref::<ThrownException>().expect("the error is the exception");
    assert_eq!(thrown.tag(), instance.get_export(&mut store, "e").unwrap().into_tag().unwrap());
    assert!(matches!(thrown.payload(), [Val::I32(42)]), "{:?}", thrown.payload());
    assert!(format!("{err:#}").contains("not caught"), "{err:#}");
    // The store is still usable, and a caught exception returns normally.
    assert_eq!(call_i32(&mut store, &instance, "catch", 7).unwrap(), 7);
}

#[test]
fn tags_are_identities_shared_through_imports() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let a = instantiate(&engine, &linker, &mut store, THROWER);
    linker.instance(&mut store, "a", a).unwrap();
    let b = instantiate(
        &engine,
        &linker,
        &mut store,
        r#"(module
            (tag $imported (import "a" "e") (param i32))
            (tag $own (param i32))
            (func $throw (import "a" "throw") (param i32))
            (func (export "by_import") (param i32) (result i32)
                (block $h (result i32)
                    (try_table (catch $imported $h) (call $throw (local.get 0)))
                    (i32.const -1)))
            (func (export "by_lookalike") (param i32) (result i32)
                (block $h (result i32)
                    (try_table (catch $own $h) (call $throw (local.get 0)))
                    (i32.const -1))))"#,
    );
    assert_eq!(call_i32(&mut store, &b, "by_import", 5).unwrap(), 5);
    // A tag of the same type defined elsewhere is another tag: nothing catches the exception.
    let err = call_i32(&mut store, &b, "by_lookalike", 5).unwrap_err();
    assert!(err.downcast_ref::<ThrownException>().is_some(), "{err:#}");
}

#[test]
fn the_host_defines_tags_and_throws_into_wasm() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let tag = Tag::new(&mut store, &TagType::new(FuncType::new([ValType::I32, ValType::I64], []))).unwrap();
    let mut linker = Linker::new(&engine);
    linker.define(&store, "host", "tag", tag).unwrap();
    linker
        .func_wrap("host", "fail", move |mut caller: weld::Caller<'_, ()>, x: i32| -> anyhow::Result<i32> {
            let _ = &mut caller;
            if x < 0 {
                return Err(anyhow::Error::new(ThrownException::new(tag, vec![Val::I32(x), Val::I64(-1)])));
            }
            Ok(x)
        })
        .unwrap();
    let instance = instantiate(
        &engine,
        &linker,
        &mut store,
        r#"(module
            (tag $t (import "host" "tag") (param i32 i64))
            (func $fail (import "host" "fail") (param i32) (result i32))
            (func (export "run") (param i32) (result i32)
                (block $h (result i32 i64)
                    (return (try_table (result i32) (catch $t $h) (call $fail (local.get 0)))))
                (drop)
                (i32.add (i32.const 1000))))"#,
    );
    assert_eq!(call_i32(&mut store, &instance, "run", 3).unwrap(), 3);
    assert_eq!(call_i32(&mut store, &instance, "run", -5).unwrap(), 995);
}

#[test]
fn a_caught_exnref_reaches_the_host_and_can_be_thrown_again() {
    let (mut store, instance) = instance_of(
        r#"(module
            (tag $e (export "e") (param i32 i64))
            (func (export "catch_ref") (param i32) (result exnref)
                (block $h (result i32 i64 exnref)
                    (try_table (catch_ref $e $h) (throw $e (local.get 0) (i64.const -3)))
                    (unreachable))
                (return))
            (func (export "rethrow") (param exnref) (throw_ref (local.get 0))))"#,
    );
    let catch_ref = instance.get_func(&mut store, "catch_ref").unwrap();
    let mut results = [Val::I32(0)];
    catch_ref.call(&mut store, &[Val::I32(11)], &mut results).unwrap();
    let Val::ExnRef(Some(exn)) = results[0].clone() else { panic!("expected an exnref, got {:?}", results[0]) };
    let tag = instance.get_export(&mut store, "e").unwrap().into_tag().unwrap();
    assert_eq!(exn.tag(&store), tag);
    assert!(matches!(exn.payload(&store)[..], [Val::I32(11), Val::I64(-3)]));
    let rethrow = instance.get_func(&mut store, "rethrow").unwrap();
    let err = rethrow.call(&mut store, &[Val::ExnRef(Some(exn))], &mut []).unwrap_err();
    let thrown = err.downcast_ref::<ThrownException>().expect("the exception again");
    assert!(matches!(thrown.payload(), [Val::I32(11), Val::I64(-3)]));
    // An exnref handed out stays alive: the store keeps it.
    assert_eq!(store.live_exceptions(), 1);
}

#[test]
fn exceptions_can_be_turned_off() {
    let mut config = weld::Config::new();
    config.wasm_exceptions(false);
    let engine = Engine::new(&config).unwrap();
    let err = Module::new(&engine, THROWER).unwrap_err();
    assert!(format!("{err:#}").contains("exception"), "{err:#}");
}

#[test]
fn handlers_do_not_catch_traps_and_throw_ref_of_null_traps() {
    let (mut store, instance) = instance_of(
        r#"(module
            (func $trap unreachable)
            (func (export "trap_in_handler_scope") (param i32) (result i32)
                (block $h (try_table (catch_all $h) (call $trap))) (i32.const 1))
            (func (export "throw_null") (param i32) (result i32)
                (throw_ref (ref.null exn))))"#,
    );
    let err = call_i32(&mut store, &instance, "trap_in_handler_scope", 0).unwrap_err();
    assert_eq!(err.downcast_ref::<weld::Trap>(), Some(&weld::Trap::UnreachableCodeReached), "{err:#}");
    let err = call_i32(&mut store, &instance, "throw_null", 0).unwrap_err();
    assert_eq!(err.downcast_ref::<weld::Trap>(), Some(&weld::Trap::NullReference), "{err:#}");
}

#[test]
fn an_exception_uncaught_in_a_nested_call_propagates_through_the_host() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let inner = instantiate(&engine, &linker, &mut store, THROWER);
    let throw = inner.get_typed_func::<i32, ()>(&mut store, "throw").unwrap();
    // The host calls wasm that throws, and returns the error it gets: the outer wasm catches it.
    linker
        .func_wrap("host", "call_thrower", move |mut caller: weld::Caller<'_, ()>, x: i32| throw.call(&mut caller, x))
        .unwrap();
    linker.instance(&mut store, "inner", inner).unwrap();
    let outer = instantiate(
        &engine,
        &linker,
        &mut store,
        r#"(module
            (tag $e (import "inner" "e") (param i32))
            (func $via_host (import "host" "call_thrower") (param i32))
            (func (export "run") (param i32) (result i32)
                (block $h (result i32)
                    (try_table (catch $e $h) (call $via_host (local.get 0)))
                    (i32.const -1))))"#,
    );
    assert_eq!(call_i32(&mut store, &outer, "run", 9).unwrap(), 9);
}

#[test]
fn code_with_handlers_runs_the_same_after_precompiling() {
    let engine = Engine::default();
    let bytes = Module::new(&engine, THROWER).unwrap().serialize().unwrap();
    // SAFETY: the bytes were just made by this engine.
    let loaded = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &loaded).unwrap();
    assert_eq!(call_i32(&mut store, &instance, "catch", 31).unwrap(), 31);
    let err = instance.get_typed_func::<i32, ()>(&mut store, "throw").unwrap().call(&mut store, 1).unwrap_err();
    assert!(err.downcast_ref::<ThrownException>().is_some(), "{err:#}");
}

#[test]
fn many_caught_exceptions_do_not_accumulate() {
    let (mut store, instance) = instance_of(
        r#"(module
            (tag $e (param i32))
            (func $throw (param i32) (throw $e (local.get 0)))
            (func (export "loop") (param i32) (result i32)
                (local $sum i32)
                (loop $l
                    (block $h (result i32)
                        (try_table (catch $e $h) (call $throw (local.get 0)))
                        (i32.const 0))
                    (local.set $sum (i32.add (local.get $sum)))
                    (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                (local.get $sum)))"#,
    );
    assert_eq!(call_i32(&mut store, &instance, "loop", 100_000).unwrap(), 705_082_704);
    assert_eq!(store.live_exceptions(), 0);
}

/// A module of the legacy instructions: tags `$e` and `$f` (payload i32), `throw_e`/`throw_f`
/// at 0 and 1, and the exported functions built by `body`.
fn legacy_module(funcs: &[(&str, Vec<Instruction<'static>>)]) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([EncodedValType::I32], []);
    types.ty().function([EncodedValType::I32], [EncodedValType::I32]);
    let mut functions = FunctionSection::new();
    let mut tags = TagSection::new();
    for _ in 0..2 {
        tags.tag(EncodedTagType { kind: TagKind::Exception, func_type_idx: 0 });
    }
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for tag in 0..2 {
        functions.function(0);
        let mut f = Function::new([]);
        f.instruction(&Instruction::LocalGet(0)).instruction(&Instruction::Throw(tag)).instruction(&Instruction::End);
        code.function(&f);
    }
    for (i, (name, body)) in funcs.iter().enumerate() {
        functions.function(1);
        exports.export(name, ExportKind::Func, 2 + i as u32);
        let mut f = Function::new([]);
        for ins in body {
            f.instruction(ins);
        }
        f.instruction(&Instruction::End);
        code.function(&f);
    }
    let mut m = Encoder::new();
    m.section(&types).section(&functions).section(&tags).section(&exports).section(&code);
    m.finish()
}

#[test]
fn legacy_try_catch_catch_all_rethrow_and_delegate() {
    use Instruction::*;
    let i32_block = BlockType::Result(EncodedValType::I32);
    let wasm = legacy_module(&[
        // try (call throw_e x) catch $e: payload + 100; catch_all: -2.
        (
            "catch_e",
            vec![
                Try(i32_block),
                LocalGet(0),
                Call(0),
                I32Const(-1),
                Catch(0),
                I32Const(100),
                I32Add,
                CatchAll,
                I32Const(-2),
                End,
            ],
        ),
        // $f goes to catch_all.
        (
            "catch_all",
            vec![
                Try(i32_block),
                LocalGet(0),
                Call(1),
                I32Const(-1),
                Catch(0),
                I32Const(100),
                I32Add,
                CatchAll,
                I32Const(-2),
                End,
            ],
        ),
        // The inner clause rethrows; the outer try catches: payload + 1000.
        (
            "rethrow",
            vec![
                Try(i32_block),
                Try(i32_block),
                LocalGet(0),
                Call(0),
                I32Const(-1),
                Catch(0),
                Drop,
                Rethrow(0),
                End,
                Catch(0),
                I32Const(1000),
                I32Add,
                End,
            ],
        ),
        // The innermost try delegates past the middle one (whose catch_all gives -5) to the
        // outer one: payload + 10.
        (
            "delegate",
            vec![
                Try(i32_block),
                Try(i32_block),
                Try(i32_block),
                LocalGet(0),
                Call(0),
                I32Const(0),
                Delegate(1),
                CatchAll,
                I32Const(-5),
                End,
                Catch(0),
                I32Const(10),
                I32Add,
                End,
            ],
        ),
        // Delegating to the function's label: the caller sees the exception.
        (
            "delegate_out",
            vec![
                Try(i32_block),
                Try(i32_block),
                LocalGet(0),
                Call(0),
                I32Const(0),
                Delegate(1),
                CatchAll,
                I32Const(-7),
                End,
            ],
        ),
        // A catch_all clause rethrows what it caught: the caller sees the original payload.
        ("rethrow_all", vec![Try(i32_block), LocalGet(0), Call(0), I32Const(0), CatchAll, Rethrow(0), End]),
        // A clause body is outside its own try's handlers: the throw in it reaches the caller.
        (
            "throw_in_clause",
            vec![
                Try(i32_block),
                LocalGet(0),
                Call(0),
                I32Const(0),
                Catch(0),
                Call(1),
                I32Const(0),
                CatchAll,
                I32Const(-9),
                End,
            ],
        ),
    ]);
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let instance = instantiate(&engine, &Linker::new(&engine), &mut store, &wasm);
    assert_eq!(call_i32(&mut store, &instance, "catch_e", 5).unwrap(), 105);
    assert_eq!(call_i32(&mut store, &instance, "catch_all", 5).unwrap(), -2);
    assert_eq!(call_i32(&mut store, &instance, "rethrow", 5).unwrap(), 1005);
    assert_eq!(call_i32(&mut store, &instance, "delegate", 5).unwrap(), 15);
    for (name, payload) in [("delegate_out", 5), ("rethrow_all", 5), ("throw_in_clause", 5)] {
        let err = call_i32(&mut store, &instance, name, 5).unwrap_err();
        let thrown = err.downcast_ref::<ThrownException>().unwrap_or_else(|| panic!("{name}: {err:#}"));
        assert!(matches!(thrown.payload(), [Val::I32(p)] if *p == payload), "{name}: {:?}", thrown.payload());
    }
}
