//! The same guest misbehaviour raises the same [`Trap`] whether a fused adapter or the host's
//! canonical ABI finds it.
//!
//! Each case is one component in which a callee component's exports are reached two ways: by
//! the host (`Func::call`, so the host lowers the arguments into the callee and lifts its
//! result) and from a caller component through a fused adapter; and in which the caller's
//! imports are satisfied two ways: by host functions (the host lifts the arguments from the
//! caller and lowers results into it) and by the callee (the adapter does). A case makes one
//! side misbehave (a bad pointer, length, encoding, `realloc` result, handle...) and runs both
//! paths in fresh instances: both must trap with the expected `Trap`, found by
//! `downcast_ref`, and the host's error must say which check failed, in whose memory, at
//! which value.

use weld::component::{Component, Linker, Resource, ResourceType, Val};
use weld::{Engine, Store, Trap};

/// A bump-allocating `realloc` that copies the old block: the well-behaved one.
const GOOD_REALLOC: &str = r#"
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
        (global.set $next (i32.add (local.get $p) (local.get 3)))
        (memory.copy (local.get $p) (local.get 0) (local.get 1))
        (local.get $p))"#;

/// A `realloc` that always returns `ptr`.
fn bad_realloc(ptr: u32) -> String {
    format!(r#"(func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const {ptr}))"#)
}

/// The component of a value case: the callee exports `f: func() -> TY` and `g: func(x: TY)`,
/// the caller exports `run-f` and `run-g`, which call its imports `f` and `g`. Exported:
/// the callee's `f` and `g`, and `run-f`/`run-g` of the caller instantiated with the callee's
/// functions (`fused-`) and with the host's `host-f`/`host-g` (`hosted-`).
const VALUE_COMPONENT: &str = r#"
(component
  (import "host-f" (func $host-f (result TY)))
  (import "host-g" (func $host-g (param "x" TY)))
  (component $Callee
    (core module $m
      (memory (export "mem") 1)
      CALLEE_REALLOC
      CALLEE)
    (core instance $i (instantiate $m))
    (func (export "f") (result TY)
      (canon lift (core func $i "f") (memory (core memory $i "mem")) (realloc (core func $i "realloc")) string-encoding=ENC))
    (func (export "g") (param "x" TY)
      (canon lift (core func $i "g") (memory (core memory $i "mem")) (realloc (core func $i "realloc")) string-encoding=ENC)))
  (component $Caller
    (import "f" (func $f (result TY)))
    (import "g" (func $g (param "x" TY)))
    (core module $mm
      (memory (export "mem") 1)
      CALLER_REALLOC)
    (core instance $mi (instantiate $mm))
    (core func $f' (canon lower (func $f) (memory (core memory $mi "mem")) (realloc (core func $mi "realloc")) string-encoding=ENC))
    (core func $g' (canon lower (func $g) (memory (core memory $mi "mem")) (realloc (core func $mi "realloc")) string-encoding=ENC))
    (core module $rm
      (import "" "mem" (memory 1))
      (import "" "f" (func $f LOWERED_F))
      (import "" "g" (func $g LOWERED_G))
      CALLER)
    (core instance $r (instantiate $rm (with "" (instance
      (export "mem" (memory $mi "mem")) (export "f" (func $f')) (export "g" (func $g'))))))
    (func (export "run-f") (canon lift (core func $r "run-f")))
    (func (export "run-g") (canon lift (core func $r "run-g"))))
  (instance $callee (instantiate $Callee))
  (instance $fused (instantiate $Caller (with "f" (func $callee "f")) (with "g" (func $callee "g"))))
  (instance $hosted (instantiate $Caller (with "f" (func $host-f)) (with "g" (func $host-g))))
  (export "f" (func $callee "f"))
  (export "g" (func $callee "g"))
  (export "fused-run-f" (func $fused "run-f"))
  (export "fused-run-g" (func $fused "run-g"))
  (export "hosted-run-f" (func $hosted "run-f"))
  (export "hosted-run-g" (func $hosted "run-g")))
"#;

/// How a path is run: an export called with arguments.
type Call = (&'static str, Vec<Val>);

/// One misbehaviour, as a [`VALUE_COMPONENT`].
struct ValueCase {
    ty: &'static str,
    encoding: &'static str,
    /// The callee module's `f` and `g`.
    callee: String,
    /// The result pointer the callee's `f` returns (for a result through memory).
    ret: u32,
    callee_realloc: String,
    caller_realloc: String,
    /// The core types of the caller's lowered `f` and `g`.
    lowered_f: &'static str,
    lowered_g: &'static str,
    /// The caller module's `run-f` and `run-g`.
    caller: String,
    /// What the host's `host-f` returns.
    host_f: Val,
    /// The path where the host finds the misbehaviour, and the one where an adapter does.
    host: Call,
    fused: Call,
}

/// A case of a string or list type (a pointer and a length; results through memory): the
/// callee's `f` returns the pair (`ptr`, `len`) stored at 8, after running `init`; its `g`
/// accepts anything; the caller's `run-f` passes `retptr`, its `run-g` passes
/// (`g_ptr`, `g_len`).
fn pair_case(
    ty: &'static str,
    (ptr, len): (u32, u32),
    init: &str,
    retptr: u32,
    (g_ptr, g_len): (u32, u32),
) -> ValueCase {
    ValueCase {
        ty,
        encoding: "utf8",
        callee: format!(
            r#"(func (export "f") (result i32) {init}
                 (i32.store (i32.const 8) (i32.const {ptr})) (i32.store (i32.const 12) (i32.const {len}))
                 (i32.const RET_PTR))
               (func (export "g") (param i32 i32))"#
        ),
        ret: 8,
        callee_realloc: GOOD_REALLOC.to_string(),
        caller_realloc: GOOD_REALLOC.to_string(),
        lowered_f: "(param i32)",
        lowered_g: "(param i32 i32)",
        caller: format!(
            r#"(func (export "run-f") (call $f (i32.const {retptr})))
               (func (export "run-g") (call $g (i32.const {g_ptr}) (i32.const {g_len})))"#
        ),
        host_f: Val::String(String::new()),
        host: ("f", vec![]),
        fused: ("fused-run-f", vec![]),
    }
}

/// A well-behaved pair case: `f` returns an empty value at 32, `g` gets one.
fn good_pair(ty: &'static str) -> ValueCase {
    pair_case(ty, (32, 0), "", 16, (32, 0))
}

/// A case of a scalar flattening to one `i32`: the callee's `f` returns `f_value`, the
/// caller's `run-g` passes `g_value`.
fn scalar_case(ty: &'static str, f_value: u32, g_value: u32) -> ValueCase {
    ValueCase {
        ty,
        encoding: "utf8",
        callee: format!(
            r#"(func (export "f") (result i32) (i32.const {f_value}))
               (func (export "g") (param i32))"#
        ),
        ret: 8,
        callee_realloc: GOOD_REALLOC.to_string(),
        caller_realloc: GOOD_REALLOC.to_string(),
        lowered_f: "(result i32)",
        lowered_g: "(param i32)",
        caller: format!(
            r#"(func (export "run-f") (drop (call $f)))
               (func (export "run-g") (call $g (i32.const {g_value})))"#
        ),
        host_f: Val::Char('x'),
        host: ("f", vec![]),
        fused: ("fused-run-f", vec![]),
    }
}

impl ValueCase {
    fn text(&self) -> String {
        VALUE_COMPONENT
            .replace("CALLEE_REALLOC", &self.callee_realloc)
            .replace("CALLER_REALLOC", &self.caller_realloc)
            .replace("CALLEE", &self.callee)
            .replace("RET_PTR", &self.ret.to_string())
            .replace("CALLER", &self.caller)
            .replace("LOWERED_F", self.lowered_f)
            .replace("LOWERED_G", self.lowered_g)
            .replace("TY", self.ty)
            .replace("ENC", self.encoding)
    }

    /// Lifts from the caller (its `run-g` passes bad arguments): to `host-g`, and to the
    /// callee's `g`.
    fn params(mut self) -> Self {
        self.host = ("hosted-run-g", vec![]);
        self.fused = ("fused-run-g", vec![]);
        self
    }

    /// Lowers into the caller (through its `realloc` or its return pointer): from `host-f`
    /// returning `value`, and from the callee's (well-behaved) `f`.
    fn results_into_caller(mut self, value: Val) -> Self {
        self.host_f = value;
        self.host = ("hosted-run-f", vec![]);
        self.fused = ("fused-run-f", vec![]);
        self
    }

    /// Lowers into the callee (through its `realloc`): `value` passed to its `g` by the host,
    /// and the caller's `run-g` passing a good value through an adapter.
    fn params_into_callee(mut self, value: Val) -> Self {
        self.host = ("g", vec![value]);
        self.fused = ("fused-run-g", vec![]);
        self
    }

    /// Runs both paths and checks that each traps with `trap`, and that the host's error
    /// holds `detail`.
    fn check(&self, trap: Trap, detail: &str) {
        let text = self.text();
        let engine = Engine::default();
        let component = Component::new(&engine, &text).unwrap_or_else(|e| panic!("{e:#}\n{text}"));
        let run = |(name, params): &Call| {
            let mut linker = Linker::<()>::new(&engine);
            let value = self.host_f.clone();
            let mut root = linker.root();
            root.func_new("host-f", move |_, _, _, results| {
                results[0] = value.clone();
                Ok(())
            })
            .unwrap();
            root.func_new("host-g", |_, _, _, _| Ok(())).unwrap();
            call(&engine, &linker, &component, name, params)
        };
        let host = run(&self.host);
        let fused = run(&self.fused);
        assert_same_trap(&host, &fused, trap, detail);
    }
}

/// Instantiates `component` with `linker` in a fresh store and calls `name` with `params`,
/// which must fail.
fn call(engine: &Engine, linker: &Linker<()>, component: &Component, name: &str, params: &[Val]) -> anyhow::Error {
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, component).expect("the component instantiates");
    let f = instance.get_func(&mut store, name).unwrap_or_else(|| panic!("no export `{name}`"));
    let mut results = vec![Val::Bool(false); f.results(&store).len()];
    match f.call(&mut store, params, &mut results) {
        Ok(()) => panic!("calling `{name}` succeeded, but it should trap"),
        Err(e) => e,
    }
}

fn assert_same_trap(host: &anyhow::Error, fused: &anyhow::Error, trap: Trap, detail: &str) {
    assert_eq!(host.downcast_ref::<Trap>(), Some(&trap), "the host path: {host:?}");
    assert_eq!(fused.downcast_ref::<Trap>(), Some(&trap), "the adapter path: {fused:?}");
    let message = format!("{host:#}");
    assert!(message.contains(detail), "the host's message does not say {detail:?}: {message}");
}

#[test]
fn unaligned_pointer() {
    // A string result whose UTF-16 contents are misaligned.
    ValueCase { encoding: "utf16", ..pair_case("string", (1, 1), "", 16, (32, 0)) }
        .check(Trap::UnalignedPointer, "string pointer 0x1 is not aligned to 2 in the callee's memory");
    // A misaligned list argument.
    pair_case("(list u32)", (32, 0), "", 16, (2, 1))
        .params()
        .check(Trap::UnalignedPointer, "list pointer 0x2 is not aligned to 4 in the caller's memory");
    // A result pointer the callee returns misaligned.
    ValueCase { ret: 6, ..good_pair("string") }
        .check(Trap::UnalignedPointer, "value pointer 0x6 is not aligned to 4 in the callee's memory");
    // A misaligned return pointer from the caller.
    pair_case("string", (32, 0), "", 2, (32, 0))
        .results_into_caller(Val::String("x".into()))
        .check(Trap::UnalignedPointer, "value pointer 0x2 is not aligned to 4 in the caller's memory");
    // The callee's realloc returns a misaligned block for a list.
    ValueCase { callee_realloc: bad_realloc(1), ..good_pair("(list u32)") }
        .params_into_callee(Val::List(vec![Val::U32(1)]))
        .check(
            Trap::UnalignedPointer,
            "realloc return: result not aligned: 0x1, allocated for a list in the callee's memory, is not aligned to 4",
        );
    // The caller's realloc returns a misaligned block for a UTF-16 string.
    ValueCase { encoding: "utf16", caller_realloc: bad_realloc(1), ..pair_case("string", (32, 1), "", 16, (32, 0)) }
        .results_into_caller(Val::String("x".into()))
        .check(
            Trap::UnalignedPointer,
            "realloc return: result not aligned: 0x1, allocated for a string in the caller's memory, is not \
             aligned to 2",
        );
}

#[test]
fn pointer_out_of_bounds() {
    ValueCase { ret: 0xfffc, ..good_pair("string") }.check(
        Trap::PointerOutOfBounds,
        "value pointer out of bounds of memory: 8 bytes at 0xfffc do not fit in the callee's memory of 65536 bytes",
    );
    pair_case("string", (32, 0), "", 0xfffc, (32, 0)).results_into_caller(Val::String("x".into())).check(
        Trap::PointerOutOfBounds,
        "value pointer out of bounds of memory: 8 bytes at 0xfffc do not fit in the caller's memory of 65536 bytes",
    );
}

#[test]
fn string_out_of_bounds() {
    pair_case("string", (0xffff, 2), "", 16, (32, 0)).check(
        Trap::StringOutOfBounds,
        "string pointer/length out of bounds of memory: 2 bytes at 0xffff do not fit in the callee's memory of \
         65536 bytes",
    );
    pair_case("string", (32, 0), "", 16, (0xffff, 2)).params().check(
        Trap::StringOutOfBounds,
        "string pointer/length out of bounds of memory: 2 bytes at 0xffff do not fit in the caller's memory of \
         65536 bytes",
    );
    // Longer than MAX_STRING_BYTE_LENGTH.
    pair_case("string", (32, 0), "", 16, (0, 1 << 28))
        .params()
        .check(Trap::StringOutOfBounds, "string too long: 0x10000000 tagged code units at 0x0 in the caller's memory");
    // The callee's realloc returns a block past the end of its memory.
    ValueCase { callee_realloc: bad_realloc(0x20000), ..pair_case("string", (32, 0), "", 16, (32, 1)) }
        .params_into_callee(Val::String("x".into()))
        .check(
            Trap::StringOutOfBounds,
            "realloc return: beyond end of memory: 1 bytes at 0x20000, allocated for a string, do not fit in the \
             callee's memory of 65536 bytes",
        );
}

#[test]
fn list_out_of_bounds() {
    pair_case("(list u8)", (0xffff, 2), "", 16, (32, 0)).check(
        Trap::ListOutOfBounds,
        "list pointer/length out of bounds of memory: 2 bytes at 0xffff do not fit in the callee's memory of \
         65536 bytes",
    );
    // Longer than MAX_LIST_BYTE_LENGTH.
    pair_case("(list u32)", (32, 0), "", 16, (0, 1 << 26)).params().check(
        Trap::ListOutOfBounds,
        "list too long: 67108864 elements of 4 bytes at 0x0 in the caller's memory are more than MAX_LIST_BYTE_LENGTH",
    );
    // realloc returns a block past the end of memory: the callee's, then the caller's.
    ValueCase { callee_realloc: bad_realloc(0x20000), ..pair_case("(list u8)", (32, 0), "", 16, (32, 1)) }
        .params_into_callee(Val::List(vec![Val::U8(1)]))
        .check(
            Trap::ListOutOfBounds,
            "realloc return: beyond end of memory: 1 bytes at 0x20000, allocated for a list, do not fit in the \
             callee's memory of 65536 bytes",
        );
    ValueCase { caller_realloc: bad_realloc(0x20000), ..pair_case("(list u8)", (32, 1), "", 16, (32, 0)) }
        .results_into_caller(Val::List(vec![Val::U8(1)]))
        .check(
            Trap::ListOutOfBounds,
            "realloc return: beyond end of memory: 1 bytes at 0x20000, allocated for a list, do not fit in the \
             caller's memory of 65536 bytes",
        );
}

#[test]
fn invalid_char() {
    scalar_case("char", 0xd800, 0).check(Trap::InvalidChar, "char value 0xd800 is not a Unicode scalar value");
    scalar_case("char", 0, 0x110000)
        .params()
        .check(Trap::InvalidChar, "char value 0x110000 is not a Unicode scalar value");
}

#[test]
fn invalid_discriminant() {
    // option<u8> is two i32s: its result goes through memory.
    let case = pair_case("(option u8)", (2, 0), "", 16, (2, 0));
    case.check(Trap::InvalidDiscriminant, "discriminant 2 is past the last of the 2 cases of option<u8>");
    pair_case("(option u8)", (0, 0), "", 16, (7, 0))
        .params()
        .check(Trap::InvalidDiscriminant, "discriminant 7 is past the last of the 2 cases of option<u8>");
}

#[test]
fn invalid_utf8() {
    let bad = "(i32.store8 (i32.const 32) (i32.const 0xff))";
    pair_case("string", (32, 1), bad, 16, (32, 0))
        .check(Trap::InvalidUtf8, "invalid utf-8 sequence at byte 0 of the string at 0x20 in the callee's memory");
    // An incomplete sequence at the end, from the caller.
    let caller = r#"(func (export "run-f"))
        (func (export "run-g") (i32.store8 (i32.const 32) (i32.const 0xc3)) (call $g (i32.const 32) (i32.const 1)))"#;
    ValueCase { caller: caller.into(), ..good_pair("string") }.params().check(
        Trap::InvalidUtf8,
        "incomplete utf-8 byte sequence at the end of the string at 0x20 in the caller's memory",
    );
}

#[test]
fn invalid_utf16() {
    let lone = "(i32.store16 (i32.const 32) (i32.const 0xd800))";
    ValueCase { encoding: "utf16", ..pair_case("string", (32, 1), lone, 16, (32, 0)) }
        .check(Trap::InvalidUtf16, "lone surrogate 0xd800 in the utf-16 string at 0x20 in the callee's memory");
}

/// The component of the handle cases: host resource types `r` and `s`, a host constructor
/// `make` of `r`s, and a callee and a caller component as in [`VALUE_COMPONENT`].
const HANDLE_COMPONENT: &str = r#"
(component
  (import "r" (type $R (sub resource)))
  (import "s" (type $S (sub resource)))
  (import "make" (func $make (result (own $R))))
  (import "host-own" (func $host-own (param "x" (own $R))))
  (import "host-own-s" (func $host-own-s (param "x" (own $S))))
  (import "host-keep" (func $host-keep (param "x" (borrow $R))))
  (import "host-both" (func $host-both (param "b" (borrow $R)) (param "o" (own $R))))
  (component $Callee
    (import "r" (type $R (sub resource)))
    (import "s" (type $S (sub resource)))
    (core func $drop (canon resource.drop $R))
    (core module $m
      (import "" "drop" (func $drop (param i32)))
      (func (export "own") (param i32))
      (func (export "keep") (param i32))
      (func (export "both") (param i32 i32) (call $drop (local.get 0))))
    (core instance $i (instantiate $m (with "" (instance (export "drop" (func $drop))))))
    (func (export "own") (param "x" (own $R)) (canon lift (core func $i "own")))
    (func (export "own-s") (param "x" (own $S)) (canon lift (core func $i "own")))
    (func (export "keep") (param "x" (borrow $R)) (canon lift (core func $i "keep")))
    (func (export "both") (param "b" (borrow $R)) (param "o" (own $R)) (canon lift (core func $i "both"))))
  (component $Caller
    (import "r" (type $R (sub resource)))
    (import "s" (type $S (sub resource)))
    (import "make" (func $make (result (own $R))))
    (import "own" (func $own (param "x" (own $R))))
    (import "own-s" (func $own-s (param "x" (own $S))))
    (import "keep" (func $keep (param "x" (borrow $R))))
    (import "both" (func $both (param "b" (borrow $R)) (param "o" (own $R))))
    (core func $make' (canon lower (func $make)))
    (core func $own' (canon lower (func $own)))
    (core func $own-s' (canon lower (func $own-s)))
    (core func $keep' (canon lower (func $keep)))
    (core func $both' (canon lower (func $both)))
    (core module $m
      (import "" "make" (func $make (result i32)))
      (import "" "own" (func $own (param i32)))
      (import "" "own-s" (func $own-s (param i32)))
      (import "" "keep" (func $keep (param i32)))
      (import "" "both" (func $both (param i32 i32)))
      (func (export "unknown") (call $own (i32.const 5)))
      (func (export "wrong-type") (call $own-s (call $make)))
      (func (export "not-owned") (param i32) (call $own (local.get 0)))
      (func (export "lent") (local $h i32)
        (local.set $h (call $make))
        (call $both (local.get $h) (local.get $h)))
      (func (export "keep") (call $keep (call $make))))
    (core instance $i (instantiate $m (with "" (instance
      (export "make" (func $make')) (export "own" (func $own')) (export "own-s" (func $own-s'))
      (export "keep" (func $keep')) (export "both" (func $both'))))))
    (func (export "unknown") (canon lift (core func $i "unknown")))
    (func (export "wrong-type") (canon lift (core func $i "wrong-type")))
    (func (export "not-owned") (param "b" (borrow $R)) (canon lift (core func $i "not-owned")))
    (func (export "lent") (canon lift (core func $i "lent")))
    (func (export "keep") (canon lift (core func $i "keep"))))
  (instance $callee (instantiate $Callee (with "r" (type $R)) (with "s" (type $S))))
  (instance $fused (instantiate $Caller (with "r" (type $R)) (with "s" (type $S)) (with "make" (func $make))
    (with "own" (func $callee "own")) (with "own-s" (func $callee "own-s"))
    (with "keep" (func $callee "keep")) (with "both" (func $callee "both"))))
  (instance $hosted (instantiate $Caller (with "r" (type $R)) (with "s" (type $S)) (with "make" (func $make))
    (with "own" (func $host-own)) (with "own-s" (func $host-own-s))
    (with "keep" (func $host-keep)) (with "both" (func $host-both))))
  (export "keep" (func $callee "keep"))
  (export "fused-unknown" (func $fused "unknown"))
  (export "fused-wrong-type" (func $fused "wrong-type"))
  (export "fused-not-owned" (func $fused "not-owned"))
  (export "fused-lent" (func $fused "lent"))
  (export "fused-keep" (func $fused "keep"))
  (export "hosted-unknown" (func $hosted "unknown"))
  (export "hosted-wrong-type" (func $hosted "wrong-type"))
  (export "hosted-not-owned" (func $hosted "not-owned"))
  (export "hosted-lent" (func $hosted "lent")))
"#;

struct R;
struct S;

/// Runs the host path `host` and the adapter path `fused` of [`HANDLE_COMPONENT`] and checks
/// that both trap with `trap`, the host's error holding `detail`.
fn check_handles(host: Call, fused: Call, trap: Trap, detail: &str) {
    let engine = Engine::default();
    let component = Component::new(&engine, HANDLE_COMPONENT).unwrap_or_else(|e| panic!("{e:#}"));
    let mut linker = Linker::<()>::new(&engine);
    let mut root = linker.root();
    root.resource("r", ResourceType::host::<R>(), |_, _| Ok(())).unwrap();
    root.resource("s", ResourceType::host::<S>(), |_, _| Ok(())).unwrap();
    root.func_wrap("make", |_, ()| Ok((Resource::<R>::new_own(7),))).unwrap();
    for name in ["host-own", "host-own-s", "host-keep", "host-both"] {
        root.func_new(name, |_, _, _, _| Ok(())).unwrap();
    }
    let host = call(&engine, &linker, &component, host.0, &host.1);
    let fused = call(&engine, &linker, &component, fused.0, &fused.1);
    assert_same_trap(&host, &fused, trap, detail);
}

fn borrowed() -> Val {
    Val::Resource(Resource::<R>::new_borrow(3).into_any())
}

#[test]
fn unknown_handle() {
    check_handles(("hosted-unknown", vec![]), ("fused-unknown", vec![]), Trap::UnknownHandle, "unknown handle index 5");
}

#[test]
fn handle_of_the_wrong_type() {
    check_handles(
        ("hosted-wrong-type", vec![]),
        ("fused-wrong-type", vec![]),
        Trap::HandleWrongType,
        "handle index 1 used with the wrong type, expected host-defined resource but found a different \
         host-defined resource",
    );
}

#[test]
fn borrowed_handle_where_owned_expected() {
    check_handles(
        ("hosted-not-owned", vec![borrowed()]),
        ("fused-not-owned", vec![borrowed()]),
        Trap::BorrowedHandleNotOwned,
        "handle index 1 is a borrowed handle, but an owned handle (own<..>) is expected",
    );
}

#[test]
fn owned_handle_moved_while_lent() {
    // The same handle passed as a borrow and then as an own in one call.
    check_handles(
        ("hosted-lent", vec![]),
        ("fused-lent", vec![]),
        Trap::HandleLent,
        "cannot remove owned resource while borrowed: handle index 1 is lent to 1 call(s)",
    );
}

#[test]
fn borrows_left_at_the_end_of_a_call() {
    // The callee keeps the borrowed handle the host (or the caller) lent it.
    check_handles(
        ("keep", vec![borrowed()]),
        ("fused-keep", vec![]),
        Trap::BorrowsRemain,
        "the callee returned holding 1 borrowed handle(s) lent to it for the call",
    );
}

/// A caller whose `post-return` calls its import `f`, which is the callee's `f` (`fused-run`)
/// or the host's `host-f` (`hosted-run`); and a callee `f` that traps if told to.
const FLAGS_COMPONENT: &str = r#"
(component
  (import "host-f" (func $host-f (param "trap" bool)))
  (component $Callee
    (core module $m (func (export "f") (param i32) (if (local.get 0) (then unreachable))))
    (core instance $i (instantiate $m))
    (func (export "f") (param "trap" bool) (canon lift (core func $i "f"))))
  (component $Caller
    (import "f" (func $f (param "trap" bool)))
    (core func $f' (canon lower (func $f)))
    (core module $m
      (import "" "f" (func $f (param i32)))
      (func (export "call-f") (call $f (i32.const 0)))
      (func (export "run") (result i32) (i32.const 0))
      (func (export "post") (param i32) (call $f (i32.const 0))))
    (core instance $i (instantiate $m (with "" (instance (export "f" (func $f'))))))
    (func (export "call-f") (canon lift (core func $i "call-f")))
    (func (export "run") (result u32) (canon lift (core func $i "run") (post-return (core func $i "post")))))
  (instance $callee (instantiate $Callee))
  (instance $fused (instantiate $Caller (with "f" (func $callee "f"))))
  (instance $hosted (instantiate $Caller (with "f" (func $host-f))))
  (export "f" (func $callee "f"))
  (export "fused-call-f" (func $fused "call-f"))
  (export "fused-run" (func $fused "run"))
  (export "hosted-run" (func $hosted "run")))
"#;

/// Instantiates [`FLAGS_COMPONENT`] in a fresh store.
fn flags_instance(engine: &Engine) -> (Store<()>, weld::component::Instance) {
    let component = Component::new(engine, FLAGS_COMPONENT).unwrap_or_else(|e| panic!("{e:#}"));
    let mut linker = Linker::<()>::new(engine);
    linker.root().func_new("host-f", |_, _, _, _| Ok(())).unwrap();
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    (store, instance)
}

#[test]
fn leaving_an_instance_during_its_post_return() {
    let engine = Engine::default();
    let post_return_of = |name: &str| {
        let (mut store, instance) = flags_instance(&engine);
        let run = instance.get_func(&mut store, name).unwrap();
        run.call(&mut store, &[], &mut [Val::Bool(false)]).expect_err("calling out from post-return traps")
    };
    let host = post_return_of("hosted-run");
    let fused = post_return_of("fused-run");
    let detail = "the host function `host-f` was called while the caller may not leave its instance";
    assert_same_trap(&host, &fused, Trap::CannotLeaveComponent, detail);
}

#[test]
fn entering_an_instance_a_trap_left_unusable() {
    let engine = Engine::default();
    // The callee's `f` traps, which leaves the callee unusable; then it is entered again, by
    // the host or by the caller through an adapter.
    let enter_after_trap = |name: &str, params: &[Val]| {
        let (mut store, instance) = flags_instance(&engine);
        let f = instance.get_func(&mut store, "f").unwrap();
        let err = f.call(&mut store, &[Val::Bool(true)], &mut []).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached));
        let again = instance.get_func(&mut store, name).unwrap();
        again.call(&mut store, params, &mut []).expect_err("entering the callee again traps")
    };
    let host = enter_after_trap("f", &[Val::Bool(false)]);
    let fused = enter_after_trap("fused-call-f", &[]);
    let detail = "is being called, or a call into it trapped";
    assert_same_trap(&host, &fused, Trap::CannotEnterComponent, detail);
}
