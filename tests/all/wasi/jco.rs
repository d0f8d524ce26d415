//! EXPECT.md section 2: jco's WASI 0.2 fixtures, each with the output EXPECT.md lists.

use super::{captured, load, run_command, store};
use crate::real_components::components_dir;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    components_dir().join("jco").join(name)
}

#[test]
fn hello_stdout_writes_to_both_streams() {
    let (builder, out, err) = captured(b"");
    let outcome = run_command(
        &fixture("packages__jco__test__fixtures__components__hello_stdout.component.wasm"),
        builder,
        &out,
        &err,
    )
    .unwrap();
    assert_eq!(outcome.status, 0);
    assert_eq!(outcome.stdout, "writing to stdout: hello, world\n");
    assert_eq!(outcome.stderr, "writing to stderr: hello, world\n");
}

#[test]
fn dir_virt_lists_its_virtual_directory() {
    let (mut builder, out, err) = captured(b"");
    builder.args(&["dir.virt.wasm", "/foo"]);
    let outcome =
        run_command(&fixture("packages__jco__test__fixtures__commands__dir.virt.wasm"), builder, &out, &err).unwrap();
    assert_eq!(outcome.status, 0);
    assert_eq!(outcome.stdout, "Listing directory: /foo\n - .\n - ..\n - foo\n");
    assert_eq!(outcome.stderr, "");
}

#[test]
fn utf8_utf16_composition_round_trips_its_argument() {
    let (mut builder, out, err) = captured(b"");
    builder.args(&["utf8-utf16.composed.wasm", "asdf中文🀄️⏰"]);
    let outcome = run_command(
        &fixture("packages__jco__test__fixtures__components__utf8-utf16.composed.wasm"),
        builder,
        &out,
        &err,
    )
    .unwrap();
    assert_eq!(outcome.status, 0);
    assert_eq!(outcome.stdout, "ret: asdf中文🀄️⏰asdf中文🀄️⏰\n");
    assert_eq!(outcome.stderr, "");
}

#[test]
fn stdout_pollable_does_not_hang() {
    let (builder, out, err) = captured(b"");
    let path = fixture("packages__jco__test__fixtures__components__stdout-pollable-hang.component.wasm");
    let started = std::time::Instant::now();
    let outcome = run_command(&path, builder, &out, &err).unwrap();
    assert_eq!(outcome.status, 0, "stderr: {}", outcome.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
}

/// Calls the exported function `name` (no parameters) of the instance of `file`.
fn call_export(file: &str, name: &str, builder: weld_wasi::WasiCtxBuilder) -> weld::Result<Vec<weld::component::Val>> {
    let (engine, linker, component) = load(&fixture(file));
    let mut store = store(&engine, builder);
    let instance = linker.instantiate(&mut store, &component)?;
    let func = instance.get_func(&mut store, name).unwrap_or_else(|| panic!("{file} exports `{name}`"));
    let mut results = vec![weld::component::Val::Bool(false); func.results(&store).len()];
    func.call(&mut store, &[], &mut results)?;
    Ok(results)
}

#[test]
fn env_allow_sees_only_its_virtualized_environment() {
    use weld::component::Val;
    let (mut builder, _out, _err) = captured(b"");
    // The host's variable must not leak through the virtualization.
    builder.env("HOST_ONLY", "nope");
    let results =
        call_export("packages__jco__test__fixtures__components__env-allow.composed.wasm", "test-get-env", builder)
            .unwrap();
    let expected = Val::List(vec![Val::Tuple(vec![Val::String("CUSTOM".into()), Val::String("VAL".into())])]);
    assert_eq!(results, [expected]);
}

#[test]
fn stdio_composition_passes_stream_resources_across() {
    let (builder, out, _err) = captured(b"");
    call_export("packages__jco__test__fixtures__components__stdio.composed.wasm", "test-stdio", builder).unwrap();
    // Its C half writes through the stdout stream its Rust half was given.
    assert_eq!(String::from_utf8(out.contents()).unwrap(), "Hello world\n");
}
