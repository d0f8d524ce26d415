//! The `weld` command on the bundled examples: `weld run` calls a component's functions with
//! arguments and results in WAVE syntax, reports bad calls clearly, and still runs core modules.

use std::process::Command;

/// What a `weld` run printed, and whether it succeeded.
struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

fn weld(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_weld"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .output()
        .expect("the weld binary runs");
    Output {
        success: out.status.success(),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// `weld run examples/greet.wat --invoke CALL`.
fn invoke(call: &str) -> Output {
    weld(&["run", "examples/greet.wat", "--invoke", call])
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
    let out = weld(&["run", "examples/greet.wat", "--invoke", "greet", "\"positional\""]);
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, "\"Hello, positional!\"\n");
    let out = weld(&["run", "examples/greet.wat", "--invoke", "summarize", "[-1, -2]"]);
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
    let out = weld(&["run", "examples/hello.wat", "--invoke", "fib", "20"]);
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
    assert_eq!(out.stderr, format!("error: no --invoke given; the component's exported functions are:\n{EXPORTS}"));
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
        let out = weld(&["run", "examples/shapes.wat", "--invoke", call]);
        assert!(out.success, "`{call}`: {}", out.stderr);
        assert_eq!(out.stdout, expected, "`{call}`");
    }
}

#[test]
fn run_goes_through_a_transcoding_adapter() {
    let out = weld(&["run", "examples/fused.wat", "--invoke", "measure(\"héllo ☃\")"]);
    assert!(out.success, "{}", out.stderr);
    // 10 bytes of UTF-8 in the caller; the callee, using UTF-16, receives 7 code units.
    assert_eq!(out.stdout, "(10, 7)\n");
}

#[test]
fn run_provides_components_for_component_imports() {
    let call = ["--invoke", "measure(\"héllo ☃\")"];
    let out = weld(&[&["run", "examples/measure.wat", "--component", "units=examples/units.wat"][..], &call].concat());
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, "(10, 7)\n");

    let missing = weld(&[&["run", "examples/measure.wat"][..], &call].concat());
    assert!(!missing.success);
    assert_eq!(
        missing.stderr,
        "error: `weld run` only runs components whose imports are components given with --component, \
         but examples/measure.wat imports: units (component)\n"
    );
    let wrong =
        weld(&[&["run", "examples/measure.wat", "--component", "units=examples/greet.wat"][..], &call].concat());
    assert!(!wrong.success);
    assert!(
        wrong.stderr.contains("the component provided for import `units` has no export named `units`"),
        "{}",
        wrong.stderr
    );
    let malformed = weld(&[&["run", "examples/measure.wat", "--component", "units"][..], &call].concat());
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
