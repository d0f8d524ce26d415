//! Runs `.wast` scripts through the `weld wast` command and checks the results.
//!
//! - `core_1`, `core_2`, `core_3`, `cm_sync` and `cm_async`: every file of the core-1, core-2
//!   (SIMD), core-3 (tail calls, typed function references, exceptions), cm-sync and cm-async
//!   (component-model async) tiers (`../shared/tests/tiers/<tier>.list`). A tier's failures, as `path:line` keys, must
//!   be exactly those listed in its baseline (`tests/expected-failures.txt` for core-1,
//!   `tests/expected-failures-<tier>.txt` for the others; a missing file lists nothing): a
//!   new failure fails the test, and so
//!   does a listed failure that now passes (so the list can only shrink). `WELD_BLESS=1`
//!   rewrites the list from the current results instead. `WELD_WAST_FILTER=SUBSTRING` runs only
//!   the matching files (and compares/blesses only their entries).
//! - `core_2_relaxed_deterministic`: core-2's relaxed-SIMD files again, compiled with
//!   `--relaxed-simd-deterministic`; all must pass.
//! - `misc_testsuite`: every `tests/misc_testsuite/**/*.wast`, all of which must pass.
//!
//! Each file runs in its own `weld wast` process (two at a time), so that a crash or a hang in
//! the runtime costs that file only: a file whose process dies or exceeds the time limit
//! (`WELD_WAST_TIMEOUT` seconds, default 600) counts every assertion in it as failed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const WORKERS: usize = 2;

/// The outcome of one file.
struct FileResult {
    /// The path as given to `weld wast` (relative to the directory it ran in).
    path: String,
    passed: u64,
    /// `(line, reason)` of every failure.
    failures: Vec<(u32, String)>,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `weld wast -v [OPTIONS] PATH` in `dir` and parses its report.
fn run_file(dir: &Path, path: &str, options: &[&str]) -> FileResult {
    let timeout = std::env::var("WELD_WAST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(Duration::from_secs(600), Duration::from_secs);
    let mut child = Command::new(env!("CARGO_BIN_EXE_weld"))
        .args(["wast", "-v"])
        .args(options)
        .arg(path)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start the weld binary");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait().expect("failed to wait for weld") {
            Some(status) => break Ok(status),
            None if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("timed out after {}s", timeout.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let stdout = out.join().unwrap();
    let stderr = err.join().unwrap();
    let problem = match status {
        Ok(s) if s.success() => {
            parse_report(path, &stdout).map(Ok).unwrap_or_else(|| Err("its report could not be parsed".to_string()))
        }
        Ok(s) => Err(format!("weld exited with {s}")),
        Err(e) => Err(e),
    };
    match problem {
        Ok(result) => result,
        Err(why) => {
            // Count every assertion of the file as failed.
            let mut tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).rev().take(3).collect();
            tail.reverse();
            let reason = if tail.is_empty() {
                format!("crashed: {why}")
            } else {
                format!("crashed: {why}; stderr: {}", tail.join(" / "))
            };
            let text = std::fs::read(dir.join(path)).unwrap_or_default();
            let forms = weld_wast::count_directives(&String::from_utf8_lossy(&text));
            let mut failures: Vec<(u32, String)> = forms.iter().map(|f| (f.line, reason.clone())).collect();
            if failures.is_empty() {
                failures.push((0, reason));
            }
            FileResult { path: path.to_string(), passed: 0, failures }
        }
    }
}

/// Parses `PATH: N passed, M failed` and the `  PATH:LINE:COL: KIND: MESSAGE` lines.
fn parse_report(path: &str, stdout: &str) -> Option<FileResult> {
    let summary = format!("{path}: ");
    let failure = format!("  {path}:");
    let mut counts = None;
    let mut failures = Vec::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix(&summary) {
            let (p, f) = rest.split_once(" passed, ")?;
            let f = f.strip_suffix(" failed")?;
            counts = Some((p.parse::<u64>().ok()?, f.parse::<u64>().ok()?));
        } else if let Some(rest) = line.strip_prefix(&failure) {
            let (line_no, rest) = rest.split_once(':')?;
            let (_col, rest) = rest.split_once(':')?;
            failures.push((line_no.parse::<u32>().ok()?, rest.trim().to_string()));
        } else if line.starts_with("    ")
            && let Some((_, reason)) = failures.last_mut()
        {
            // A continuation of the last failure's message (e.g. a backtrace frame).
            reason.push(' ');
            reason.push_str(line.trim());
        }
    }
    let (passed, failed) = counts?;
    if failed != failures.len() as u64 {
        return None;
    }
    Some(FileResult { path: path.to_string(), passed, failures })
}

/// Runs `files` (relative to `dir`, with `weld wast` options `options`) on [`WORKERS`]
/// threads; results are in the order of `files`.
fn run_all(dir: &Path, files: &[String], options: &[&str]) -> Vec<FileResult> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<FileResult>>> = Mutex::new(files.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..WORKERS.min(files.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let result = run_file(dir, file, options);
                    results.lock().unwrap()[i] = Some(result);
                }
            });
        }
    });
    results.into_inner().unwrap().into_iter().map(|r| r.unwrap()).collect()
}

/// Prints per-file lines and returns the totals line.
fn summarize(results: &[FileResult]) -> String {
    let (mut passed, mut failed) = (0, 0);
    for r in results {
        println!("{}: {} passed, {} failed", r.path, r.passed, r.failures.len());
        passed += r.passed;
        failed += r.failures.len() as u64;
    }
    let totals = format!("{passed} passed, {failed} failed");
    println!("{totals}");
    totals
}

/// Writes to stderr directly, bypassing the test harness's output capture, so that the totals
/// show up in every `cargo test` run.
fn always_show(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn filter() -> Option<String> {
    std::env::var("WELD_WAST_FILTER").ok().filter(|s| !s.is_empty())
}

/// What a failure needs, recognised from the full reason, so that the baseline says it even
/// when the reason is shortened.
fn category(reason: &str) -> Option<&'static str> {
    const CATEGORIES: &[(&str, &str)] = &[
        ("fused adapters", "needs fused adapters"),
        ("async feature", "needs component-model async"),
        ("async lifts", "needs component-model async"),
        ("async functions", "needs component-model async"),
        ("async or threads", "needs component-model async"),
        ("context.get", "needs component-model async"),
        ("context.set", "needs component-model async"),
        // The suite is newer than the validator of wasmparser 0.263 in these.
        ("conflicts with previous name", "wasmparser 0.263 disagrees"),
        ("invalid leading byte", "wasmparser 0.263 disagrees"),
        // `async/trap-on-reenter.wast` expects calls between a component instance and its
        // parent to trap ("for now"), as Wasmtime 48 does; the spec weld follows
        // (CanonicalABI.md `may_enter_from`, Linking.md "donut wrapping") allows them, and a
        // child calling its suspended parent reenters it.
        ("\"wasm trap: cannot enter component instance\"", "the spec allows donut wrapping"),
        ("exceptions proposal", "needs exceptions"),
        // wast 0.263 reads only the final exception instructions; the legacy ones are tested
        // with binaries built by wasm-encoder in tests/all/exceptions.rs.
        ("(do ", "the wast 0.263 parser has no legacy exception syntax"),
        ("gc proposal not supported", "needs GC"),
        ("the GC proposal is not supported", "needs GC"),
        ("typed references and GC are not supported", "needs GC"),
        ("importing core modules from the host", "needs module imports"),
        ("`map` types", "needs maps"),
    ];
    CATEGORIES.iter().find(|(needle, _)| reason.contains(needle)).map(|(_, what)| *what)
}

/// One reason per line, trimmed, led by its category if it has one.
fn short_reason(reason: &str) -> String {
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    let short = if reason.chars().count() > 100 {
        let cut: String = reason.chars().take(100).collect();
        format!("{cut}...")
    } else {
        reason.clone()
    };
    match category(&reason) {
        Some(what) => format!("[{what}] {short}"),
        None => short,
    }
}

/// Reads the baseline: `path:line` key -> reason.
fn read_baseline(path: &Path) -> BTreeMap<String, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    };
    let mut entries = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let (key, reason) = line.split_once('#').unwrap_or((line, ""));
        let key = key.trim();
        if key.is_empty() {
            continue;
        }
        let valid = key.rsplit_once(':').is_some_and(|(p, l)| !p.is_empty() && l.parse::<u32>().is_ok());
        assert!(valid, "{}:{}: expected `path:line  # reason`, found {line:?}", path.display(), n + 1);
        entries.insert(key.to_string(), reason.trim().to_string());
    }
    entries
}

fn key_path(key: &str) -> &str {
    key.rsplit_once(':').map_or(key, |(p, _)| p)
}

fn key_line(key: &str) -> u32 {
    key.rsplit_once(':').and_then(|(_, l)| l.parse().ok()).unwrap_or(0)
}

fn write_baseline(tier: &str, path: &Path, entries: &BTreeMap<String, String>, order: &[String]) {
    let rank: BTreeMap<&str, usize> = order.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect();
    let mut keys: Vec<&String> = entries.keys().collect();
    keys.sort_by_key(|k| (rank.get(key_path(k)).copied().unwrap_or(usize::MAX), key_path(k).to_string(), key_line(k)));
    let mut out = format!(
        "# Known failures of the {tier} tier, checked by tests/wast.rs: one `path:line  # reason`\n\
         # per line, paths relative to ../shared/tests. The list may only shrink; regenerate it\n\
         # with `WELD_BLESS=1 cargo test --test wast {}`.\n",
        tier.replace('-', "_")
    );
    for k in keys {
        out.push_str(&format!("{k}  # {}\n", entries[k]));
    }
    std::fs::write(path, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

#[test]
fn core_1() {
    run_tier("core-1", "tests/expected-failures.txt", &[]);
}

#[test]
fn core_3() {
    run_tier("core-3", "tests/expected-failures-core-3.txt", &[]);
}

#[test]
fn core_2() {
    run_tier("core-2", "tests/expected-failures-core-2.txt", &[]);
}

/// The relaxed-SIMD files again with each operator's deterministic form (the default run
/// above uses the host's native forms where they differ).
#[test]
fn core_2_relaxed_deterministic() {
    let relaxed = ["relaxed", "i16x8_relaxed", "i32x4_relaxed", "i8x16_relaxed"];
    let files = tier_files("core-2").into_iter().filter(|f| relaxed.iter().any(|r| f.contains(r))).collect::<Vec<_>>();
    assert!(files.len() >= 7, "expected the 7 relaxed-SIMD files of core-2, found {files:?}");
    let results = run_all(&manifest_dir().join("../shared/tests"), &files, &["--relaxed-simd-deterministic"]);
    let totals = summarize(&results);
    always_show(&format!("core-2 relaxed, deterministic: {totals}"));
    let failed: Vec<String> = results
        .iter()
        .flat_map(|r| r.failures.iter().map(move |(line, why)| format!("  {}:{line}  # {}", r.path, short_reason(why))))
        .collect();
    assert!(failed.is_empty(), "relaxed SIMD fails in deterministic mode:\n{}", failed.join("\n"));
}

#[test]
fn cm_sync() {
    run_tier("cm-sync", "tests/expected-failures-cm-sync.txt", &[]);
}

#[test]
fn cm_async() {
    run_tier("cm-async", "tests/expected-failures-cm-async.txt", &[]);
}

/// The files of tier `tier`, relative to `../shared/tests`.
fn tier_files(tier: &str) -> Vec<String> {
    let list = manifest_dir().join(format!("../shared/tests/tiers/{tier}.list"));
    assert!(
        list.is_file(),
        "the spec test suites are missing: expected {} (the shared test data must be checked out next to this repository, at ../shared/tests)",
        list.display()
    );
    let text = std::fs::read_to_string(&list).unwrap();
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect()
}

/// Runs tier `tier` (with `weld wast` options `options`) and compares its failures with the
/// baseline at `baseline` (relative to the project).
fn run_tier(tier: &str, baseline_file: &str, options: &[&str]) {
    let shared = manifest_dir().join("../shared/tests");
    let all = tier_files(tier);
    let files: Vec<String> = match filter() {
        Some(f) => all.iter().filter(|p| p.contains(&f)).cloned().collect(),
        None => all.clone(),
    };
    let results = run_all(&shared, &files, options);
    let totals = summarize(&results);
    always_show(&format!("{tier}: {totals}"));

    let baseline_path = manifest_dir().join(baseline_file);
    let baseline = read_baseline(&baseline_path);
    let ran: BTreeSet<&str> = files.iter().map(String::as_str).collect();
    let mut current = BTreeMap::new();
    for r in &results {
        for (line, reason) in &r.failures {
            current.entry(format!("{}:{line}", r.path)).or_insert_with(|| short_reason(reason));
        }
    }

    if std::env::var("WELD_BLESS").is_ok_and(|v| v == "1") {
        let mut entries: BTreeMap<String, String> =
            baseline.into_iter().filter(|(k, _)| !ran.contains(key_path(k))).collect();
        entries.extend(current);
        write_baseline(tier, &baseline_path, &entries, &all);
        always_show(&format!("wrote {} entries to {}", entries.len(), baseline_path.display()));
        return;
    }

    let new: Vec<String> = current
        .iter()
        .filter(|(k, _)| !baseline.contains_key(*k))
        .map(|(k, reason)| format!("  {k}  # {reason}"))
        .collect();
    let fixed: Vec<String> = baseline
        .keys()
        .filter(|k| ran.contains(key_path(k)) && !current.contains_key(*k))
        .map(|k| format!("  {k}"))
        .collect();
    let mut report = String::new();
    if !new.is_empty() {
        report.push_str(&format!("{} new failures (not in {baseline_file}):\n{}\n", new.len(), new.join("\n")));
    }
    if !fixed.is_empty() {
        report.push_str(&format!(
            "{} failures listed in {baseline_file} now pass; remove them (or run with WELD_BLESS=1):\n{}\n",
            fixed.len(),
            fixed.join("\n")
        ));
    }
    assert!(report.is_empty(), "{report}{tier}: {totals}");
}

fn find_wast(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_wast(&path, out);
        } else if path.extension().is_some_and(|e| e == "wast") {
            out.push(path);
        }
    }
}

#[test]
fn misc_testsuite() {
    let root = manifest_dir();
    let mut paths = Vec::new();
    find_wast(&root.join("tests/misc_testsuite"), &mut paths);
    paths.sort();
    let mut files: Vec<String> =
        paths.iter().map(|p| p.strip_prefix(&root).unwrap().to_string_lossy().into_owned()).collect();
    if let Some(f) = filter() {
        files.retain(|p| p.contains(&f));
    }
    let results = run_all(&root, &files, &[]);
    let totals = summarize(&results);
    always_show(&format!("misc_testsuite: {totals}"));
    let failures: Vec<String> = results
        .iter()
        .flat_map(|r| r.failures.iter().map(move |(line, reason)| format!("  {}:{line}: {reason}", r.path)))
        .collect();
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
