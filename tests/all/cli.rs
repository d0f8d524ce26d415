//! The `weld` command on the bundled examples: `weld run` calls a component's functions with
//! arguments and results in WAVE syntax, reports bad calls clearly, and still runs core modules.

use std::process::Command;

/// What a `weld` run printed, and whether it succeeded.
struct Output {
    success: bool,
    /// The exit status, if the process exited (rather than being killed by a signal).
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn weld(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_weld"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .env("XDG_CACHE_HOME", crate::test_cache_home())
        .output()
        .expect("the weld binary runs");
    Output {
        success: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// `weld run --invoke CALL examples/greet.wat`.
fn invoke(call: &str) -> Output {
    weld(&["run", "--invoke", call, "examples/greet.wat"])
}

/// Asserts that `call` fails with exactly `stderr` and prints nothing on stdout.
fn fails(call: &str, stderr: &str) {
    let out = invoke(call);
    assert!(!out.success, "`{call}` succeeded: {}", out.stdout);
    assert_eq!(out.stdout, "", "`{call}`");
    assert_eq!(out.stderr, stderr, "`{call}`");
}

const EXPORTS: &str = "  add: func(a: u32, b: u32) -> u32
  greet: func(name: string) -> string
  summarize: func(values: list<s32>) -> record { count: u32, sum: s64, min: option<s32>, max: option<s32> }
  divide: func(a: u32, b: u32) -> result<u32, string>
  math#mul: func(a: u32, b: u32) -> u32
  math#div: func(a: u32, b: u32) -> u32
";

#[test]
fn component_calls_print_wave() {
    let cases = [
        ("add(1, 2)", "3\n"),
        ("add(4294967295, 1)", "0\n"),
        ("greet(\"world\")", "\"Hello, world!\"\n"),
        ("greet(\"a, (b) \\\"c\\\" 😀\")", "\"Hello, a, (b) \\\"c\\\" 😀!\"\n"),
        ("greet(\"\")", "\"Hello, !\"\n"),
        ("summarize([3, -1, 4])", "{count: 3, sum: 6, min: some(-1), max: some(4)}\n"),
        ("summarize([])", "{count: 0, sum: 0}\n"),
        (
            "summarize([2147483647, 2147483647])",
            "{count: 2, sum: 4294967294, min: some(2147483647), max: some(2147483647)}\n",
        ),
        ("divide(7, 2)", "ok(3)\n"),
        ("divide(7, 0)", "err(\"division by zero\")\n"),
        ("math#mul(6, 7)", "42\n"),
        ("  add ( 1 , 2 , ) ", "3\n"),
    ];
    for (call, expected) in cases {
        let out = invoke(call);
        assert!(out.success, "`{call}` failed: {}", out.stderr);
        assert_eq!(out.stdout, expected, "`{call}`");
    }
}

#[test]
fn arguments_after_the_name() {
    let out = weld(&["run", "--invoke", "greet", "examples/greet.wat", "\"positional\""]);
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, "\"Hello, positional!\"\n");
    let out = weld(&["run", "--invoke", "summarize", "examples/greet.wat", "[-1, -2]"]);
    assert_eq!(out.stdout, "{count: 2, sum: -3, min: some(-2), max: some(-1)}\n");
}

#[test]
fn large_values() {
    let name = "é".repeat(50_000);
    let out = invoke(&format!("greet(\"{name}\")"));
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, format!("\"Hello, {name}!\"\n"));
    let values: Vec<String> = (0..10_000).map(|i| (i - 5000).to_string()).collect();
    let out = invoke(&format!("summarize([{}])", values.join(", ")));
    assert_eq!(out.stdout, "{count: 10000, sum: -5000, min: some(-5000), max: some(4999)}\n");
}

#[test]
fn modules_still_run() {
    let out = weld(&["run", "--invoke", "fib", "examples/hello.wat", "20"]);
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, "6765\n");
}

#[test]
fn unknown_function() {
    let message =
        format!("error: the component exports no function named `nope`; its exported functions are:\n{EXPORTS}");
    fails("nope(1)", &message);
    let message =
        format!("error: the component exports no function named `math#nope`; its exported functions are:\n{EXPORTS}");
    fails("math#nope()", &message);
    let out = weld(&["run", "examples/greet.wat"]);
    assert!(!out.success);
    assert_eq!(
        out.stderr,
        format!(
            "error: no --invoke given, and the component does not export `wasi:cli/run`; its exported functions \
             are:\n{EXPORTS}"
        )
    );
}

#[test]
fn wrong_number_of_arguments() {
    fails("add(1)", "error: `add` takes 2 arguments but 1 was given; its type is `add: func(a: u32, b: u32) -> u32`\n");
    fails(
        "greet()",
        "error: `greet` takes 1 argument but 0 were given; its type is `greet: func(name: string) -> string`\n",
    );
    fails(
        "math#mul(1, 2, 3)",
        "error: `math#mul` takes 2 arguments but 3 were given; its type is `math#mul: func(a: u32, b: u32) -> u32`\n",
    );
}

#[test]
fn ill_typed_arguments() {
    fails("add(1, \"x\")", "error: argument 2 of `add` (`b: u32`): cannot parse `\"x\"` as u32: invalid value type\n");
    fails("add(-1, 2)", "error: argument 1 of `add` (`a: u32`): cannot parse `-1` as u32: invalid value\n");
    fails(
        "greet(3)",
        "error: argument 1 of `greet` (`name: string`): cannot parse `3` as string: invalid value type\n",
    );
    fails(
        "summarize([1, \"2\"])",
        "error: argument 1 of `summarize` (`values: list<s32>`): cannot parse `[1, \"2\"]` as list<s32>: \
         invalid value type at `\"2\"`\n",
    );
    fails(
        "summarize([1, 2)",
        "error: cannot read the arguments `([1, 2)` as WAVE values: unexpected token: ParenClose at `)`\n",
    );
}

#[test]
fn traps() {
    fails(
        "math#div(1, 0)",
        "error: calling `math#div` failed\n\nCaused by:\n    0: error while executing at wasm backtrace:\n    \
         \x20      0: m!div\n    1: integer divide by zero\n",
    );
}

#[test]
fn records_variants_enums_and_flags_in_wave() {
    let cases = [
        ("area(rect({width: 2.0, height: 3.5}))", "7\n"),
        ("area(circle(1.0))", "3.141592653589793\n"),
        ("area(point)", "0\n"),
        ("classify(-4)", "negative\n"),
        ("classify(7)", "positive\n"),
        ("grant({read}, {write, execute})", "{read, write, execute}\n"),
        ("grant({}, {})", "{}\n"),
        ("scale({width: 1.0, height: 2.0}, 3.0)", "{width: 3, height: 6}\n"),
    ];
    for (call, expected) in cases {
        let out = weld(&["run", "--invoke", call, "examples/shapes.wat"]);
        assert!(out.success, "`{call}`: {}", out.stderr);
        assert_eq!(out.stdout, expected, "`{call}`");
    }
}

#[test]
fn run_goes_through_a_transcoding_adapter() {
    let out = weld(&["run", "--invoke", "measure(\"héllo ☃\")", "examples/fused.wat"]);
    assert!(out.success, "{}", out.stderr);
    // 10 bytes of UTF-8 in the caller; the callee, using UTF-16, receives 7 code units.
    assert_eq!(out.stdout, "(10, 7)\n");
}

#[test]
fn run_provides_components_for_component_imports() {
    let call = ["--invoke", "measure(\"héllo ☃\")"];
    let out =
        weld(&[&["run", "--component", "units=examples/units.wat"][..], &call, &["examples/measure.wat"]].concat());
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, "(10, 7)\n");

    let missing = weld(&[&["run"][..], &call, &["examples/measure.wat"]].concat());
    assert!(!missing.success);
    assert_eq!(
        missing.stderr,
        "error: examples/measure.wat has imports that nothing defines:\n  \
         units: import `units` has not been defined: the component expects a component (give it with \
         `--component units=FILE`)\n\
         run with `-W unknown-imports-trap=y` to make them trap when called, or `-W unknown-imports-default=y` \
         to make them return default values\n"
    );
    let wrong =
        weld(&[&["run", "--component", "units=examples/greet.wat"][..], &call, &["examples/measure.wat"]].concat());
    assert!(!wrong.success);
    assert!(
        wrong.stderr.contains("the component provided for import `units` has no export named `units`"),
        "{}",
        wrong.stderr
    );
    let malformed = weld(&[&["run", "--component", "units"][..], &call, &["examples/measure.wat"]].concat());
    assert_eq!(malformed.stderr, "error: --component `units` is not of the form NAME=FILE\n");

    // `weld adapters` links the same way, and prints the adapter linking makes.
    let adapters = weld(&["adapters", "examples/measure.wat", "--component", "units=examples/units.wat"]);
    assert!(adapters.success, "{}", adapters.stderr);
    assert!(adapters.stdout.contains(";; adapter0: func(s: string) -> u32"), "{}", adapters.stdout);
    assert!(adapters.stdout.contains("encoding: Utf16"), "{}", adapters.stdout);
    let unlinked = weld(&["adapters", "examples/measure.wat"]);
    assert!(!unlinked.success);
    assert_eq!(unlinked.stderr, "error: the component imports the component `units`: give it with --component\n");
}

#[test]
fn adapters_prints_each_adapter_with_its_types_and_options() {
    let out = weld(&["adapters", "examples/fused.wat"]);
    assert!(out.success, "{}", out.stderr);
    assert!(out.stdout.starts_with(";; adapter module 0: 1 adapter(s)\n(module"), "{}", out.stdout);
    assert!(out.stdout.contains(";; adapter0: func(s: string) -> u32"), "{}", out.stdout);
    assert!(out.stdout.contains(";;   caller (lower): instance 2, Utf8, memory 1"), "{}", out.stdout);
    assert!(out.stdout.contains(";;   callee (lift):  instance 1, Utf16, memory 0, realloc 0"), "{}", out.stdout);
    assert!(out.stdout.contains("encoding: Utf16"), "the string copy import is described: {}", out.stdout);

    let none = weld(&["adapters", "examples/greet.wat"]);
    assert!(none.success, "{}", none.stderr);
    assert!(none.stdout.contains("no adapters"), "{}", none.stdout);
}

/// The adder that cargo-component built: its function lives in the exported interface
/// `docs:adder/add@0.1.0`, and is found by its path, by Wasmtime's spelling and by bare name.
const ADDER: &str = "../shared/components/jco/examples__transpile__adder__adder.wasm";

#[test]
fn functions_inside_exported_interfaces_are_found_by_path_spelling_or_bare_name() {
    for call in ["docs:adder/add@0.1.0#add(1, 2)", "docs:adder/add.add@0.1.0(1, 2)", "add(1, 2)"] {
        let out = weld(&["run", "--invoke", call, ADDER]);
        assert!(out.success, "`{call}`: {}", out.stderr);
        assert_eq!(out.stdout, "3\n", "`{call}`");
    }
    let out = weld(&["run", "--invoke", "sub(1, 2)", ADDER]);
    assert!(!out.success);
    assert_eq!(
        out.stderr,
        "error: the component exports no function named `sub`; its exported functions are:\n  \
         docs:adder/add@0.1.0#add: func(x: u32, y: u32) -> u32\n"
    );
}

#[test]
fn options_after_the_file_are_named_as_misplaced() {
    let out = weld(&["run", "examples/greet.wat", "--invoke", "add(1, 2)"]);
    assert!(!out.success);
    assert_eq!(
        out.stderr,
        "error: `--invoke` comes after the file, so it is an argument of the program, not an option of `weld run`; \
         options go before the file, e.g. `weld run --invoke NAME examples/greet.wat ARGS...`\n"
    );
}

/// A C++ component (wit-bindgen's `numbers` test) imports its test interface and WASI 0.2
/// through the preview1 adapter: WASI is defined by weld's WASI host, and for the test
/// interface, which nothing defines, `run` names the first missing function and the flags
/// that would satisfy it; with `-W unknown-imports-trap=y` a function that calls none of them
/// runs, and one that does traps naming the import.
#[test]
fn unknown_imports_are_named_or_defined_by_the_w_flags() {
    let numbers =
        "../shared/components/jco/packages__jco-transpile__test__fixtures__components__runtime__numbers.component.wasm";
    let out = weld(&["run", "--invoke", "roundtrip-u8(255)", numbers]);
    assert!(!out.success);
    assert!(out.stderr.starts_with("error: ../shared/components/"), "{}", out.stderr);
    assert!(out.stderr.contains("has imports that nothing defines:\n  test:numbers/test: import `test:numbers/test#roundtrip-u8` has not been defined: the component expects a function `func(a: u8) -> u8`\n"), "{}", out.stderr);
    assert!(!out.stderr.contains("wasi:"), "WASI is defined: {}", out.stderr);
    assert!(out.stderr.ends_with("run with `-W unknown-imports-trap=y` to make them trap when called, or `-W unknown-imports-default=y` to make them return default values\n"), "{}", out.stderr);
    // Without WASI (`-S cli=n`) its interfaces are listed, but not wasi:clocks/wall-clock,
    // which is imported only for its `datetime` type and needs no definition.
    let out = weld(&["run", "-S", "cli=n", "--invoke", "roundtrip-u8(255)", numbers]);
    assert!(
        out.stderr.contains("\n  wasi:io/error@0.2.0: import `wasi:io/error@0.2.0#error` has not been defined"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wall-clock"), "{}", out.stderr);

    let out =
        weld(&["run", "-W", "unknown-imports-trap=y", "--invoke", "test:numbers/test#roundtrip-u8(255)", numbers]);
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, "255\n");
    let out = weld(&["run", "-W", "unknown-imports-trap", "--invoke", "roundtrip-s64(-9223372036854775808)", numbers]);
    assert_eq!(out.stdout, "-9223372036854775808\n", "{}", out.stderr);

    let out = weld(&["run", "-W", "unknown-imports-trap=y", "--invoke", "test-imports()", numbers]);
    assert!(!out.success);
    assert!(out.stderr.contains("test:numbers/test#roundtrip-u8"), "the trap names the import: {}", out.stderr);

    let out = weld(&["run", "-W", "unknown-imports-trap=maybe", "--invoke", "test-imports()", numbers]);
    assert_eq!(out.stderr, "error: -W unknown-imports-trap: expected y or n, found `maybe`\n");
    let out = weld(&["run", "-S", "max-http-fields-size=100", "--invoke", "test-imports()", numbers]);
    assert_eq!(
        out.stderr,
        "error: -S max-http-fields-size: a bound on the size of wasi:http fields is not implemented yet in weld\n"
    );
}

/// A path in the temporary directory for one test's file.
fn temp_file(name: &str) -> String {
    std::env::temp_dir().join(format!("weld-cli-{}-{name}", std::process::id())).to_string_lossy().into_owned()
}

#[test]
fn compile_takes_components() {
    let out_path = temp_file("adder.cwasm");
    let out = weld(&["compile", ADDER, "-o", &out_path]);
    assert!(out.success, "{}", out.stderr);
    assert!(out.stdout.contains("modules:   1\n"), "{}", out.stdout);
    let out = weld(&["compile", "--target", "aarch64", "examples/fused.wat", "-o", &out_path]);
    assert!(out.success, "{}", out.stderr);
    assert!(out.stdout.contains("target:    aarch64"), "{}", out.stdout);
    // The three core modules of fused.wat and the adapter module of the call between its components.
    assert!(out.stdout.contains("modules:   4\nadapters:  1 adapter module(s) among them\n"), "{}", out.stdout);
    std::fs::remove_file(&out_path).unwrap();
}

#[test]
fn a_compiled_artifact_runs_only_when_allowed() {
    let artifact = temp_file("fused.cwasm");
    let out = weld(&["compile", "examples/fused.wat", "-o", &artifact]);
    assert!(out.success, "{}", out.stderr);
    assert!(out.stdout.starts_with(&format!("wrote:     {artifact} (")), "{}", out.stdout);
    let call = "measure(\"héllo ☃\")";
    let out = weld(&["run", "--invoke", call, &artifact]);
    assert!(!out.success);
    assert!(
        out.stderr.contains("is a precompiled artifact; running one requires the `--allow-precompiled` flag"),
        "{}",
        out.stderr
    );
    let out = weld(&["run", "--allow-precompiled", "--invoke", call, &artifact]);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("(10, 7)\n", ""));

    // A core module too, written by default to the input's name with `.cwasm` in the working
    // directory, as Wasmtime does.
    let dir = temp_file("compile-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let hello = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hello.wat");
    let status = Command::new(env!("CARGO_BIN_EXE_weld")).args(["compile", hello]).current_dir(&dir).output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let module = format!("{dir}/hello.cwasm");
    let out = weld(&["run", "--allow-precompiled", "--invoke", "fib", &module, "20"]);
    assert_eq!(out.stdout, "6765\n", "{}", out.stderr);

    let bytes = std::fs::read(&artifact).unwrap();
    std::fs::write(&artifact, &bytes[..bytes.len() / 2]).unwrap();
    let out = weld(&["run", "--allow-precompiled", "--invoke", call, &artifact]);
    assert!(!out.success);
    assert!(out.stderr.contains(&format!("failed to load the precompiled component `{artifact}`")), "{}", out.stderr);
    assert!(out.stderr.contains("it is truncated"), "{}", out.stderr);

    let other = if cfg!(target_arch = "aarch64") { "x86_64" } else { "aarch64" };
    assert!(weld(&["compile", "--target", other, "examples/fused.wat", "-o", &artifact]).success);
    let out = weld(&["run", "--allow-precompiled", "--invoke", call, &artifact]);
    assert!(out.stderr.contains(&format!("it was compiled for the target {other}")), "{}", out.stderr);
    std::fs::remove_file(artifact).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn run_keeps_compiled_code_in_the_cache_unless_told_not_to() {
    let home = temp_file("cache-home");
    let _ = std::fs::remove_dir_all(&home);
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_weld"))
            .arg("run")
            .args(extra)
            .args(["--invoke", "fib", "examples/hello.wat", "10"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("XDG_CACHE_HOME", &home)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "55\n", "{}", String::from_utf8_lossy(&out.stderr));
        let dir = std::path::Path::new(&home).join("weld");
        std::fs::read_dir(dir).map_or(0, |d| d.count())
    };
    assert_eq!(run(&["--no-cache"]), 0, "--no-cache writes nothing");
    assert_eq!(run(&[]), 1, "one entry for the module");
    assert_eq!(run(&[]), 1, "found again, not written twice");
    assert_eq!(run(&["-O", "opt-level=0"]), 2, "other settings, another entry");
    std::fs::remove_dir_all(&home).unwrap();
}

/// A component that imports an instance of types only (as wit-component writes the interfaces
/// whose types a world uses) runs with nothing defined for it.
#[test]
fn imports_of_types_only_need_no_definition() {
    let wat = r#"(component
        (import "x:y/types" (instance
            (type $p (record (field "x" u32) (field "y" u32)))
            (export "point" (type (eq $p)))))
        (core module $m (func (export "one") (result i32) i32.const 1))
        (core instance $i (instantiate $m))
        (func (export "one") (result u32) (canon lift (core func $i "one"))))"#;
    let path = std::env::temp_dir().join(format!("weld-cli-type-only-{}.wat", std::process::id()));
    std::fs::write(&path, wat).unwrap();
    let out = weld(&["run", "--invoke", "one()", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, "1\n");
}

/// `-W fuel=N` and `-W timeout=DURATION` stop a guest that loops forever: it exits as after any
/// trap (status 134, Wasmtime's), printing the trap; with enough fuel or time, a function that
/// returns prints its result.
#[test]
fn fuel_and_timeouts_stop_a_looping_guest() {
    let wat = r#"(module
        (func (export "spin") (loop (br 0)))
        (func (export "answer") (result i32) i32.const 42))"#;
    let path = std::env::temp_dir().join(format!("weld-cli-spin-{}.wat", std::process::id()));
    std::fs::write(&path, wat).unwrap();
    let file = path.to_str().unwrap();
    let run = |w: &str, func: &str| weld(&["run", "-W", w, "--invoke", func, file]);

    let out = run("fuel=1000", "spin");
    assert_eq!(out.code, Some(134), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.starts_with("error: calling `spin` failed\n"), "{}", out.stderr);
    assert!(out.stderr.ends_with("    1: all fuel consumed by WebAssembly\n"), "{}", out.stderr);

    let start = std::time::Instant::now();
    let out = run("timeout=200ms", "spin");
    let elapsed = start.elapsed();
    assert_eq!(out.code, Some(134), "{}", out.stderr);
    assert!(out.stderr.ends_with("    1: interrupt\n"), "{}", out.stderr);
    assert!(elapsed >= std::time::Duration::from_millis(200), "stopped after {elapsed:?}");

    for w in ["fuel=1000", "timeout=10s", "fuel=3,timeout=100"] {
        let out = run(w, "answer");
        assert!(out.success, "-W {w}: {}", out.stderr);
        assert_eq!(out.stdout, "42\n");
    }
    // `answer` needs more than 2 units (its entry check must leave some).
    let out = run("fuel=1", "answer");
    assert_eq!(out.code, Some(134), "{}", out.stderr);
    // Without a timeout, `epoch-interruption` leaves the deadline at 0: the first check traps.
    let out = run("epoch-interruption=y", "answer");
    assert_eq!(out.code, Some(134), "{}", out.stderr);
    assert!(out.stderr.ends_with("    1: interrupt\n"), "{}", out.stderr);
    let out = run("timeout=2m", "answer");
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "error: -W timeout: `2m` is not a duration; write N or Ns (seconds), Nms, Nus or Nns, e.g. 10s or 500ms\n"
    );
    std::fs::remove_file(&path).ok();
}

/// `-W max-memory-size`, `trap-on-grow-failure`, `max-instances` and
/// `-S max-component-handles` bound a guest as they do in Wasmtime.
#[test]
fn store_limits_bound_a_guest() {
    let grower = temp_file("grower.wat");
    std::fs::write(&grower, crate::limits::GROWER).unwrap();
    let handles = temp_file("handles.wat");
    std::fs::write(&handles, crate::limits::HANDLE_MAKER).unwrap();

    let out = weld(&["run", "-W", "max-memory-size=67108864", "--invoke", "grow-memory-until-it-fails", &grower]);
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, "1024\n");
    let out = weld(&[
        "run",
        "-W",
        "max-memory-size=0x20000,trap-on-grow-failure",
        "--invoke",
        "grow-memory-until-it-fails",
        &grower,
    ]);
    // The limiter's error is not one of weld's traps: exit status 1, as in Wasmtime.
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("a memory may not grow to 196608 bytes: the store's limit is 131072 bytes"),
        "{}",
        out.stderr
    );
    let out = weld(&["run", "-W", "max-instances=0", "--invoke", "answer", &grower]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("the store may create at most 0 instances"), "{}", out.stderr);

    let out = weld(&["run", "-S", "max-component-handles=1000", "--invoke", "make-many(5000)", &handles]);
    assert_eq!(out.code, Some(134), "{}", out.stderr);
    assert!(out.stderr.contains("already holds 1000 live component handles"), "{}", out.stderr);
    let out = weld(&["run", "--invoke", "make-many(1000)", &handles]);
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, "1000\n");
    std::fs::remove_file(&grower).ok();
    std::fs::remove_file(&handles).ok();
}

/// Splits a shell command line the way the README's examples are written: words separated
/// by spaces, single- or double-quoted words taken as they are.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, ' ') => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// Every `$ weld abi ...` example of the README prints exactly the output written under it.
#[test]
fn readme_abi_examples() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut examples: Vec<(String, String)> = Vec::new();
    let mut in_block = false;
    for line in readme.lines().map(str::trim_start) {
        if line.starts_with("```") {
            in_block = line == "```console";
            continue;
        }
        if !in_block {
            continue;
        }
        match line.strip_prefix("$ weld ") {
            Some(command) => examples.push((command.to_string(), String::new())),
            None => {
                if let Some((_, expected)) = examples.last_mut() {
                    expected.push_str(line);
                    expected.push('\n');
                }
            }
        }
    }
    assert!(examples.len() >= 5, "the README's `weld abi` examples were not found");
    for (command, expected) in &examples {
        let args = shell_words(command);
        let out = weld(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.success, "weld {command}: {}", out.stderr);
        // The README indents its blocks; compare without leading spaces on each line.
        let printed: String = out.stdout.lines().map(|l| format!("{}\n", l.trim_start())).collect();
        assert_eq!(printed, *expected, "weld {command}");
    }
}

#[test]
fn readme_example_check_sees_a_wrong_output() {
    let out = weld(&["abi", "u32"]);
    assert!(out.stdout.contains("size                   4       4"), "{}", out.stdout);
    assert_ne!(out.stdout, weld(&["abi", "u64"]).stdout);
    assert_eq!(shell_words(r#"abi lower 'list<u8>' "[1, 2]" x"#), ["abi", "lower", "list<u8>", "[1, 2]", "x"]);
}
