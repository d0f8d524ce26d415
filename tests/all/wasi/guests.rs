//! The filesystem cases of the C guests in `tests/wasi-guests`, run through the embedding
//! API: each must print exactly what it printed under Wasmtime 48 (`EXPECTED.md`, read here),
//! escapes must leave everything outside the sandbox as it was, and the read-only cases, which
//! Wasmtime's CLI cannot run, must print what `README.md` derives from wasmtime-wasi's source.

use super::{captured, run_command};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use weld_wasi::FsPerms;

pub(super) fn guests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi-guests")
}

/// A fresh fixture as `run-cases.sh` makes it: `$P/outside.txt` next to the sandbox
/// `$P/sandbox` (with `hello.txt`, `sub/inner.txt`, `link-out -> ..` and `link-abs` to the
/// outside file by its absolute path). Removed on drop.
pub(super) struct Fixture(pub(super) PathBuf);

impl Fixture {
    pub(super) fn new() -> Fixture {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("weld-guest-fixture-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(p.join("sandbox/sub")).unwrap();
        std::fs::write(p.join("outside.txt"), "outside\n").unwrap();
        std::fs::write(p.join("sandbox/hello.txt"), "hello sandbox\n").unwrap();
        std::fs::write(p.join("sandbox/sub/inner.txt"), "inner\n").unwrap();
        std::os::unix::fs::symlink("..", p.join("sandbox/link-out")).unwrap();
        std::os::unix::fs::symlink(p.join("outside.txt"), p.join("sandbox/link-abs")).unwrap();
        Fixture(p)
    }

    /// Everything outside the sandbox: the paths and the outside file's contents.
    fn outside_state(&self) -> (Vec<PathBuf>, String) {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        (paths, std::fs::read_to_string(self.0.join("outside.txt")).unwrap())
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `guest` (a file of `tests/wasi-guests`) with `args` and the fixture's sandbox
/// preopened as `/sandbox` with `perms`; its status, stdout and stderr with the fixture's
/// path shown as `$P`.
fn run(fixture: &Fixture, perms: FsPerms, guest: &str, args: &[&str]) -> (i32, String, String) {
    let (mut builder, out, err) = captured(b"");
    builder.arg(guest).args(args);
    builder.preopened_dir(fixture.0.join("sandbox"), "/sandbox", perms).unwrap();
    let outcome = run_command(&guests().join(guest), builder, &out, &err).unwrap();
    let p = fixture.0.display().to_string();
    (outcome.status, outcome.stdout.replace(&p, "$P"), outcome.stderr.replace(&p, "$P"))
}

/// The status, stdout and stderr that `EXPECTED.md` records for the case titled `title`.
pub(super) fn expected(title: &str) -> (i32, String, String) {
    let text = std::fs::read_to_string(guests().join("EXPECTED.md")).unwrap();
    let start = text.find(&format!("\n### {title}\n")).unwrap_or_else(|| panic!("no case {title:?} in EXPECTED.md"));
    let mut lines = text[start..].lines().skip(2);
    let status = lines.find_map(|l| l.strip_prefix("exit status: ")).unwrap().parse().unwrap();
    let mut block = |name: &str| {
        lines.find(|l| *l == name).unwrap();
        match lines.next().unwrap() {
            "(empty)" => String::new(),
            "```" => {
                let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
                match body.split_last() {
                    Some((&"(no newline at the end)", rest)) => rest.join("\n"),
                    _ => body.iter().map(|l| format!("{l}\n")).collect(),
                }
            }
            other => panic!("{title}: {name} is a summary ({other}), not comparable"),
        }
    };
    let stdout = block("stdout:");
    let stderr = block("stderr:");
    (status, stdout, stderr)
}

#[test]
fn fs_cases_print_what_they_print_under_wasmtime() {
    let cases: &[&[&str]] = &[
        &["ls", "/sandbox"],
        &["ls", "/sandbox/sub"],
        &["create-write-read"],
        &["rename"],
        &["delete"],
        &["seek"],
        &["stat"],
        &["mkdir-nested"],
        &["append"],
        &["truncate"],
        &["bad-fd"],
    ];
    for args in cases {
        let fixture = Fixture::new();
        let title = format!("fs {}", args.join(" "));
        let want = expected(&title);
        assert!(!want.1.is_empty(), "{title}: EXPECTED.md has no output to compare");
        assert_eq!(run(&fixture, FsPerms::ReadWrite, "fs.wasm", args), want, "{title}");
    }
    let fixture = Fixture::new();
    run(&fixture, FsPerms::ReadWrite, "fs.wasm", &["create-write-read"]);
    assert_eq!(std::fs::read_to_string(fixture.0.join("sandbox/created.txt")).unwrap(), expected_host_file());
}

/// The host file `fs create-write-read` leaves, as EXPECTED.md shows it.
fn expected_host_file() -> String {
    let text = std::fs::read_to_string(guests().join("EXPECTED.md")).unwrap();
    let at = text.find("host file $P/sandbox/created.txt:\n```\n").unwrap();
    let body = &text[at..].split("```\n").nth(1).unwrap();
    body.to_string()
}

#[test]
fn escapes_are_refused_as_under_wasmtime_and_change_nothing_outside() {
    let cases = [
        ("fs.wasm", "escape-dotdot", "fs escape-dotdot"),
        ("fs.wasm", "escape-absolute", "fs escape-absolute"),
        ("fs.wasm", "escape-symlink", "fs escape-symlink"),
        ("fs.wasm", "escape-guest-symlink", "fs escape-guest-symlink"),
        ("fs.wasm", "escape-hardlink", "fs escape-hardlink"),
        ("fs.wasm", "escape-rename", "fs escape-rename"),
        ("wasi-direct.wasm", "escape-direct", "wasi-direct escape-direct"),
    ];
    for (guest, case, title) in cases {
        let fixture = Fixture::new();
        let before = fixture.outside_state();
        let want = expected(title);
        assert!(want.1.contains("not-permitted") || want.1.contains("EPERM"), "{title}: nothing refused?");
        assert_eq!(run(&fixture, FsPerms::ReadWrite, guest, &[case]), want, "{title}");
        assert_eq!(fixture.outside_state(), before, "{title} changed something outside the sandbox");
    }
}

#[test]
fn file_streams_and_copies_as_under_wasmtime() {
    for case in ["read-4gib", "stream-after-close"] {
        let fixture = Fixture::new();
        let title = format!("wasi-direct {case}");
        assert_eq!(run(&fixture, FsPerms::ReadWrite, "wasi-direct.wasm", &[case]), expected(&title), "{title}");
    }
    let fixture = Fixture::new();
    let copied = run(&fixture, FsPerms::ReadWrite, "copy.wasm", &["copy", "/sandbox/hello.txt"]);
    assert_eq!(copied, expected("copy copy (a 14-byte file)"));
    let missing = run(&fixture, FsPerms::ReadWrite, "copy.wasm", &["copy", "/sandbox/missing"]);
    assert_eq!(missing, expected("copy copy, missing file"));
    // 3 MiB and 17 bytes through a file stream and stdout.
    let big = vec![b'w'; 3 * 1024 * 1024 + 17];
    std::fs::write(fixture.0.join("sandbox/big.bin"), &big).unwrap();
    let (status, stdout, _) = run(&fixture, FsPerms::ReadWrite, "copy.wasm", &["copy", "/sandbox/big.bin"]);
    assert_eq!((status, stdout.len()), (0, big.len()));
    assert!(stdout.bytes().all(|b| b == b'w'));
}

/// What `README.md` ("Read-only preopens") says each case prints with `/sandbox` read-only.
const READONLY_FS: &str = "\
read hello.txt: 14 bytes
write to the O_RDONLY descriptor: refused: EPERM
ftruncate the O_RDONLY descriptor: refused: EPERM
create /sandbox/new.txt: refused: EPERM
open /sandbox/hello.txt O_WRONLY: refused: EPERM
open /sandbox/hello.txt O_RDWR: refused: EPERM
open /sandbox/hello.txt O_WRONLY|O_APPEND: refused: EPERM
open /sandbox/hello.txt O_WRONLY|O_TRUNC: refused: EPERM
mkdir /sandbox/newdir: refused: EPERM
symlink /sandbox/new-link -> hello.txt: refused: EPERM
link /sandbox/hello.txt /sandbox/new-hard: refused: EPERM
rmdir /sandbox/sub: refused: EPERM
unlink /sandbox/sub/inner.txt: refused: EPERM
rename /sandbox/hello.txt /sandbox/renamed.txt: refused: EPERM
";

const READONLY_DIRECT: &str = "\
open-at hello.txt {read}: ok
write to the {read} descriptor: error-code: not-permitted
set-size of the {read} descriptor: error-code: not-permitted
write-via-stream of the {read} descriptor: error-code: not-permitted
open-at new.txt {create} {write}: error-code: not-permitted
open-at hello.txt {write}: error-code: not-permitted
open-at hello.txt {read, write}: error-code: not-permitted
open-at hello.txt {truncate} {read}: error-code: not-permitted
create-directory-at newdir: error-code: not-permitted
symlink-at new-link -> hello.txt: error-code: not-permitted
remove-directory-at sub: error-code: not-permitted
unlink-file-at sub/inner.txt: error-code: not-permitted
rename-at hello.txt renamed.txt: error-code: not-permitted
";

const READONLY_FLAGS: &str = "\
get-flags /sandbox: read
get-flags hello.txt opened {read}: read
";

#[test]
fn a_read_only_preopen_refuses_every_write_as_wasmtime_wasi_does() {
    let cases = [
        ("fs.wasm", "readonly-write", READONLY_FS),
        ("wasi-direct.wasm", "write-readonly-preopen", READONLY_DIRECT),
        ("wasi-direct.wasm", "descriptor-flags", READONLY_FLAGS),
    ];
    for (guest, case, stdout) in cases {
        let fixture = Fixture::new();
        let sandbox = || {
            let mut all: Vec<_> = walk(&fixture.0.join("sandbox"));
            all.sort();
            all
        };
        let before = sandbox();
        let (status, out, err) = run(&fixture, FsPerms::ReadOnly, guest, &[case]);
        assert_eq!((status, out.as_str(), err.as_str()), (0, stdout, ""), "{guest} {case}");
        assert_eq!(sandbox(), before, "{guest} {case} changed the read-only sandbox");
    }
}

/// Every path under `dir` with its contents (files) or target (symlinks).
fn walk(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            out.push((path.clone(), format!("-> {}", std::fs::read_link(&path).unwrap().display())));
        } else if meta.is_dir() {
            out.push((path.clone(), "dir".into()));
            out.extend(walk(&path));
        } else {
            out.push((path.clone(), String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()));
        }
    }
    out
}
