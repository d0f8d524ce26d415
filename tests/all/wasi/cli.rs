//! `weld run` as a WASI host, as a user meets it: exit statuses, traps, `-S` keys, `--env`,
//! `--dir`, stdin and stdout of the process.

use std::io::Write;
use std::process::{Command, Stdio};

/// What a `weld` process did.
pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `weld ARGS` in the crate's directory with `stdin` as its input.
pub fn weld_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weld"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .env("XDG_CACHE_HOME", crate::test_cache_home())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the weld binary runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().expect("weld finishes");
    writer.join().expect("the stdin writer finishes");
    Run {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `weld ARGS` with an empty stdin.
pub fn weld(args: &[&str]) -> Run {
    weld_with_stdin(args, b"")
}

/// A command component whose `run` calls `wasi:cli/exit@0.2.0#exit` with `err` when `fail`
/// is set (else `ok`), or `exit-with-code(code)` of 0.2.12 when `code` is given, or traps
/// with `unreachable` when `trap` is set.
fn exiting_component(body: &str) -> String {
    format!(
        r#"(component
            (import "wasi:cli/exit@0.2.0" (instance $exit
                (export "exit" (func (param "status" (result))))))
            (import "wasi:cli/exit@0.2.12" (instance $exit12
                (export "exit-with-code" (func (param "status-code" u8)))))
            (alias export $exit "exit" (func $exit-f))
            (alias export $exit12 "exit-with-code" (func $code-f))
            (core func $exit' (canon lower (func $exit-f)))
            (core func $code' (canon lower (func $code-f)))
            (core module $m
                (import "" "exit" (func $exit (param i32)))
                (import "" "code" (func $code (param i32)))
                (func (export "run") (result i32) {body}))
            (core instance $i (instantiate $m (with "" (instance (export "exit" (func $exit')) (export "code" (func $code'))))))
            (func $run (result (result)) (canon lift (core func $i "run")))
            (instance $api (export "run" (func $run)))
            (export "wasi:cli/run@0.2.0" (instance $api)))"#
    )
}

/// Writes `wat` to a fresh file under the target directory and returns its path.
fn wat_file(name: &str, wat: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasi-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, wat).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn the_exit_status_is_the_guests() {
    let cases = [
        ("ok.wat", "(call $exit (i32.const 0)) (i32.const 0)", Some(0)),
        ("err.wat", "(call $exit (i32.const 1)) (i32.const 0)", Some(1)),
        ("code.wat", "(call $code (i32.const 42)) (i32.const 0)", Some(42)),
        ("run-err.wat", "(i32.const 1)", Some(1)),
        ("run-ok.wat", "(i32.const 0)", Some(0)),
    ];
    for (name, body, status) in cases {
        let run = weld(&["run", &wat_file(name, &exiting_component(body))]);
        assert_eq!(run.status, status, "{name}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{name}: an exit prints nothing");
    }
}

#[test]
fn a_trap_exits_with_134_and_says_why() {
    let run = weld(&["run", &wat_file("trap.wat", &exiting_component("unreachable"))]);
    assert_eq!(run.status, Some(134), "{}", run.stderr);
    assert!(run.stderr.starts_with("error: calling `wasi:cli/run@0.2.0#run` failed"), "{}", run.stderr);
    assert!(run.stderr.contains("unreachable"), "{}", run.stderr);
}

#[test]
fn wasi_help_lists_the_keys_and_unknown_keys_are_refused() {
    let run = weld(&["run", "-S", "help", "examples/greet.wat"]);
    assert_eq!(run.status, Some(0));
    assert!(run.stdout.starts_with("Available wasi options:\n"), "{}", run.stdout);
    for key in ["inherit-env", "inherit-network", "tcp", "udp", "allow-ip-name-lookup", "cwd"] {
        assert!(run.stdout.contains(key), "{key}: {}", run.stdout);
    }
    let run = weld(&["run", "-S", "frobnicate", "examples/greet.wat"]);
    assert_eq!(run.status, Some(1));
    assert!(run.stderr.starts_with("error: -S frobnicate: unknown option; the options weld knows here are: cli,"));
}

#[test]
fn a_core_module_importing_wasi_preview1_is_refused_clearly() {
    let wat = r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start")))"#;
    let run = weld(&["run", &wat_file("p1.wat", wat)]);
    assert_eq!(run.status, Some(1));
    assert!(
        run.stderr.contains("is a core module that imports WASI preview 1 (`wasi_snapshot_preview1::proc_exit`)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("wasm-tools component new"), "{}", run.stderr);
}

/// The README's first command runs as written and prints what the README shows.
#[test]
fn the_readme_example_runs_as_documented() {
    let readme = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("## Getting started").expect("the README has a Getting started section");
    let section = &readme[start..];
    let command = section.lines().find(|l| l.starts_with("cargo run --release -- ")).expect("a cargo run line");
    let args: Vec<&str> = command.trim_start_matches("cargo run --release -- ").split_whitespace().collect();
    // The output block is the first unlabelled fence opened after the command's block.
    let after = &section[section.find("\n\n```\n").expect("an output block") + 6..];
    let expected = &after[..after.find("```").expect("the output block ends")];
    std::fs::create_dir_all(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target")).unwrap();
    let run = weld(&args);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, expected);
    let written = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/hello.txt");
    assert_eq!(std::fs::read_to_string(written).unwrap(), "Hello from a WASI 0.2 component!\n");
}
