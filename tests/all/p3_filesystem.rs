//! WASI 0.3 `wasi:filesystem` (weld-wasi's `p3::filesystem`): jco's p3 filesystem programs
//! (wasmtime's `p3_file_write`, `p3_filesystem_file_read_write` and `p3_readdir`, EXPECT.md
//! section 4) run on a writable temporary directory preopened as `/`, with what they leave
//! there checked; and a small WAT component that opens files and reads them through
//! `read-via-stream`, so that the host's answers are checked exactly.

use crate::real_components::components_dir;
use std::path::{Path, PathBuf};
use weld::component::{Component, Linker, Resource, Val};
use weld::{Engine, Store};
use weld_wasi::FsPerms;
use weld_wasi::filesystem::Descriptor;
use weld_wasi::p3::filesystem::{DescriptorFlags, ErrorCode, OpenFlags};

/// The path of a jco p3 filesystem fixture.
fn fixture(name: &str) -> PathBuf {
    components_dir().join(format!("jco/packages__jco-transpile__test__fixtures__components__p3__fs__{name}.wasm"))
}

/// A new empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weld-p3-fs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

/// A linker with WASI 0.2 (the programs' preview-1 adapter imports it) and 0.3.
fn linker(engine: &Engine) -> Linker<crate::wasi::Host> {
    let mut linker = Linker::new(engine);
    weld_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    weld_wasi::p3::add_to_linker(&mut linker).unwrap();
    linker
}

/// A store whose one preopen is `dir`, writable, as `/`.
fn store_with_preopen(engine: &Engine, dir: &Path) -> (Store<crate::wasi::Host>, weld_wasi::pipe::MemoryOutputPipe) {
    let (mut builder, _stdout, stderr) = crate::wasi::captured(b"");
    builder.preopened_dir(dir, "/", FsPerms::ReadWrite).unwrap();
    (crate::wasi::store(engine, builder), stderr)
}

/// Runs the program `name`'s `wasi:cli/run@0.3.0#run` with `dir` preopened; whether it
/// returned `ok`.
fn run_program(name: &str, dir: &Path) -> bool {
    let path = fixture(name);
    let engine = Engine::default();
    let component = Component::from_file(&engine, &path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let (mut store, stderr) = store_with_preopen(&engine, dir);
    let instance = linker(&engine).instantiate(&mut store, &component).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let run_iface = instance.get_export_index(&mut store, None, "wasi:cli/run@0.3.0").expect("exports wasi:cli/run");
    let run = instance.get_export_index(&mut store, Some(&run_iface), "run").expect("exports run");
    let run = instance.get_func(&mut store, run).expect("run is a function");
    let mut results = [Val::Bool(false)];
    run.call(&mut store, &[], &mut results)
        .unwrap_or_else(|e| panic!("{name}: {e:?}\nstderr: {}", String::from_utf8_lossy(&stderr.contents())));
    matches!(&results[0], Val::Result(Ok(_)))
}

#[test]
fn p3_file_write_writes_64k_and_refuses_a_read_only_handle() {
    let dir = scratch("file-write");
    assert!(run_program("p3-file-write", &dir), "run returned an error");
    // It writes "123456789 NNNNN " for N in 0..4096 and leaves the file there, with the
    // empty file it failed to write through a read-only handle.
    let expected: String = (0..4096).map(|n| format!("123456789 {n:05} ")).collect();
    assert_eq!(std::fs::read_to_string(dir.join("long_write.txt")).unwrap(), expected);
    assert_eq!(std::fs::read(dir.join("test-zero-write-fails.txt")).unwrap(), b"");
    assert_eq!(names(&dir), ["long_write.txt", "test-zero-write-fails.txt"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn p3_filesystem_file_read_write_cleans_up() {
    let dir = scratch("file-read-write");
    assert!(run_program("p3-filesystem-file-read-write", &dir), "run returned an error");
    // It writes `test.txt` at offset 5, reads it back, and unlinks it.
    assert!(names(&dir).is_empty(), "left behind: {:?}", names(&dir));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn p3_readdir_lists_and_removes_a_thousand_files() {
    let dir = scratch("readdir");
    assert!(run_program("p3-readdir", &dir), "run returned an error");
    assert!(names(&dir).is_empty(), "left behind: {:?}", names(&dir));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The cases of `error-code`, in order.
const ERROR_CASES: &[&str] = &[
    "access",
    "already",
    "bad-descriptor",
    "busy",
    "deadlock",
    "quota",
    "exist",
    "file-too-large",
    "illegal-byte-sequence",
    "in-progress",
    "interrupted",
    "invalid",
    "io",
    "is-directory",
    "loop",
    "too-many-links",
    "message-size",
    "name-too-long",
    "no-device",
    "no-entry",
    "no-lock",
    "insufficient-memory",
    "insufficient-space",
    "not-directory",
    "not-empty",
    "not-recoverable",
    "unsupported",
    "no-tty",
    "no-such-device",
    "overflow",
    "not-permitted",
    "pipe",
    "read-only",
    "invalid-seek",
    "text-file-busy",
    "cross-device",
];

/// A component with three async exports over imported descriptors:
/// `open(dir, path, open-flags, flags) -> result<descriptor, error-code>` calls `open-at`;
/// `cat(fd, offset) -> list<u8>` reads the file through `read-via-stream` in reads of 4096
/// bytes until the stream ends (trapping if its future says an error); and
/// `append(fd, data) -> result<_, error-code>` writes `data` into a stream given to
/// `append-via-stream` and returns what its future says. Each drops the descriptor it
/// borrowed before it returns.
fn reader_component() -> String {
    let cases: String = ERROR_CASES.iter().map(|c| format!("(case \"{c}\") ")).collect();
    let error_code = format!("(variant {cases}(case \"other\" (option string)))");
    format!(
        r#"
(component
  (import "wasi:filesystem/types@0.3.0" (instance $types
    (export "descriptor" (type $d (sub resource)))
    (type $ec0 {error_code})
    (export "error-code" (type $ec (eq $ec0)))
    (type $pf0 (flags "symlink-follow"))
    (export "path-flags" (type $pf (eq $pf0)))
    (type $of0 (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $of (eq $of0)))
    (type $df0 (flags "read" "write" "file-integrity-sync" "data-integrity-sync" "requested-write-sync"
      "mutate-directory"))
    (export "descriptor-flags" (type $df (eq $df0)))
    (export "[method]descriptor.read-via-stream"
      (func (param "self" (borrow $d)) (param "offset" u64) (result (tuple (stream u8) (future (result (error $ec)))))))
    (export "[method]descriptor.append-via-stream"
      (func (param "self" (borrow $d)) (param "data" (stream u8)) (result (future (result (error $ec))))))
    (export "[method]descriptor.open-at"
      (func async (param "self" (borrow $d)) (param "path-flags" $pf) (param "path" string) (param "open-flags" $of)
        (param "flags" $df) (result (result (own $d) (error $ec)))))
  ))
  (alias export $types "descriptor" (type $d))
  (alias export $types "error-code" (type $ec))
  (alias export $types "[method]descriptor.read-via-stream" (func $read-via-stream))
  (alias export $types "open-flags" (type $of))
  (alias export $types "descriptor-flags" (type $df))
  (alias export $types "[method]descriptor.open-at" (func $open-at))
  (alias export $types "[method]descriptor.append-via-stream" (func $append-via-stream))

  (core module $Memory
    (memory (export "mem") 4)
    (global $next (mut i32) (i32.const 1024))
    ;; A bump allocator below 64 KiB (the file buffer starts there).
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $next) (i32.const 65536)) (then unreachable))
      (local.get $p)))
  (core instance $memory (instantiate $Memory))
  (alias core export $memory "mem" (core memory $mem))
  (alias core export $memory "realloc" (core func $realloc))

  (type $ST (stream u8))
  (type $FT (future (result (error $ec))))
  (core func $read-via-stream (canon lower (func $read-via-stream) (memory $mem)))
  (core func $open-at (canon lower (func $open-at) (memory $mem) (realloc $realloc)))
  (core func $append-via-stream (canon lower (func $append-via-stream)))
  (core func $stream.new (canon stream.new $ST))
  (core func $stream.write (canon stream.write $ST (memory $mem)))
  (core func $stream.drop-writable (canon stream.drop-writable $ST))
  (core func $stream.read (canon stream.read $ST (memory $mem)))
  (core func $stream.drop-readable (canon stream.drop-readable $ST))
  (core func $future.read (canon future.read $FT (memory $mem) (realloc $realloc)))
  (core func $future.drop-readable (canon future.drop-readable $FT))
  (core func $return-bytes (canon task.return (result (list u8)) (memory $mem)))
  (core func $return-open (canon task.return (result (result (own $d) (error $ec))) (memory $mem)))
  (core func $return-unit (canon task.return (result (result (error $ec))) (memory $mem)))
  (core func $drop-d (canon resource.drop $d))

  (core module $M
    (import "" "read-via-stream" (func $read-via-stream (param i32 i64 i32)))
    (import "" "open-at" (func $open-at (param i32 i32 i32 i32 i32 i32 i32)))
    (import "" "append-via-stream" (func $append-via-stream (param i32 i32) (result i32)))
    (import "" "stream.new" (func $stream.new (result i64)))
    (import "" "stream.write" (func $stream.write (param i32 i32 i32) (result i32)))
    (import "" "stream.drop-writable" (func $stream.drop-writable (param i32)))
    (import "" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (import "" "stream.drop-readable" (func $stream.drop-readable (param i32)))
    (import "" "future.read" (func $future.read (param i32 i32) (result i32)))
    (import "" "future.drop-readable" (func $future.drop-readable (param i32)))
    (import "" "return-bytes" (func $return-bytes (param i32 i32)))
    (import "" "return-open" (func $return-open (param i32 i32 i32 i32 i32)))
    (import "" "return-unit" (func $return-unit (param i32 i32 i32 i32 i32)))
    (import "" "mem" (memory 4))
    ;; Each export drops the descriptor it borrowed before it returns, as a task must.
    (import "" "drop-d" (func $drop-d (param i32)))

    ;; The stream and future land at 0 and 4, the future's value at 16, the bytes at 65536.
    (func (export "cat") (param $fd i32) (param $offset i64)
      (local $s i32) (local $f i32) (local $len i32) (local $r i32)
      (call $read-via-stream (local.get $fd) (local.get $offset) (i32.const 0))
      (local.set $s (i32.load (i32.const 0)))
      (local.set $f (i32.load (i32.const 4)))
      (block $done
        (loop $more
          (local.set $r (call $stream.read (local.get $s) (i32.add (i32.const 65536) (local.get $len))
            (i32.const 4096)))
          (local.set $len (i32.add (local.get $len) (i32.shr_u (local.get $r) (i32.const 4))))
          ;; DROPPED: the file has ended.
          (br_if $done (i32.eq (i32.and (local.get $r) (i32.const 15)) (i32.const 1)))
          (br $more)))
      (call $stream.drop-readable (local.get $s))
      (drop (call $future.read (local.get $f) (i32.const 16)))
      (call $future.drop-readable (local.get $f))
      (if (i32.load8_u (i32.const 16)) (then unreachable))
      (call $drop-d (local.get $fd))
      (call $return-bytes (i32.const 65536) (local.get $len)))

    ;; open-at(dir, {{}}, path, open-flags, flags): its result lands at 16.
    (func (export "open") (param $dir i32) (param $ptr i32) (param $len i32) (param $oflags i32) (param $flags i32)
      (call $open-at (local.get $dir) (i32.const 0) (local.get $ptr) (local.get $len) (local.get $oflags)
        (local.get $flags) (i32.const 16))
      (call $drop-d (local.get $dir))
      (if (i32.load8_u (i32.const 16))
        (then (call $return-open (i32.const 1) (i32.load8_u (i32.const 20)) (i32.load8_u (i32.const 24))
          (i32.load (i32.const 28)) (i32.load (i32.const 32))))
        (else (call $return-open (i32.const 0) (i32.load (i32.const 20)) (i32.const 0) (i32.const 0)
          (i32.const 0)))))

    ;; Writes all of `data` to a new stream given to append-via-stream, ends the stream,
    ;; and returns the future's value (which lands at 16).
    (func (export "append") (param $fd i32) (param $ptr i32) (param $len i32)
      (local $ends i64) (local $w i32) (local $f i32)
      (local.set $ends (call $stream.new))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (local.set $f (call $append-via-stream (local.get $fd) (i32.wrap_i64 (local.get $ends))))
      (drop (call $stream.write (local.get $w) (local.get $ptr) (local.get $len)))
      (call $stream.drop-writable (local.get $w))
      (drop (call $future.read (local.get $f) (i32.const 16)))
      (call $future.drop-readable (local.get $f))
      (call $drop-d (local.get $fd))
      (call $return-unit (i32.load8_u (i32.const 16)) (i32.load8_u (i32.const 20)) (i32.load8_u (i32.const 24))
        (i32.load (i32.const 28)) (i32.load (i32.const 32))))
  )
  (core instance $m (instantiate $M (with "" (instance
    (export "read-via-stream" (func $read-via-stream))
    (export "append-via-stream" (func $append-via-stream))
    (export "stream.new" (func $stream.new))
    (export "stream.write" (func $stream.write))
    (export "stream.drop-writable" (func $stream.drop-writable))
    (export "open-at" (func $open-at))
    (export "stream.read" (func $stream.read))
    (export "stream.drop-readable" (func $stream.drop-readable))
    (export "future.read" (func $future.read))
    (export "future.drop-readable" (func $future.drop-readable))
    (export "return-bytes" (func $return-bytes))
    (export "return-open" (func $return-open))
    (export "return-unit" (func $return-unit))
    (export "mem" (memory $mem))
    (export "drop-d" (func $drop-d))
  ))))
  (func (export "cat") async (param "fd" (borrow $d)) (param "offset" u64) (result (list u8))
    (canon lift (core func $m "cat") async (memory $mem)))
  (func (export "open") async (param "dir" (borrow $d)) (param "path" string) (param "open-flags" $of)
    (param "flags" $df) (result (result (own $d) (error $ec)))
    (canon lift (core func $m "open") async (memory $mem) (realloc $realloc)))
  (func (export "append") async (param "fd" (borrow $d)) (param "data" (list u8)) (result (result (error $ec)))
    (canon lift (core func $m "append") async (memory $mem) (realloc $realloc)))
)
"#
    )
}

/// Calls into the reader component with `dir` preopened.
struct Reader {
    store: Store<crate::wasi::Host>,
    instance: weld::component::Instance,
    /// The preopen's descriptor.
    root: Resource<Descriptor>,
}

impl Reader {
    fn new(dir: &Path) -> Reader {
        let engine = Engine::default();
        let component = Component::new(&engine, reader_component()).unwrap();
        let (mut store, _) = store_with_preopen(&engine, dir);
        let instance = linker(&engine).instantiate(&mut store, &component).unwrap();
        let mut view = weld_wasi::WasiView::ctx(store.data_mut());
        let preopens = weld_wasi::p2::bindings::filesystem::preopens::Host::get_directories(&mut view).unwrap();
        Reader { store, instance, root: preopens[0].0 }
    }

    /// Opens `path` for reading.
    fn open(&mut self, path: &str) -> Result<Resource<Descriptor>, ErrorCode> {
        self.open_with(path, OpenFlags::empty(), DescriptorFlags::READ)
    }

    fn open_with(
        &mut self,
        path: &str,
        open_flags: OpenFlags,
        flags: DescriptorFlags,
    ) -> Result<Resource<Descriptor>, ErrorCode> {
        type Params = (Resource<Descriptor>, String, OpenFlags, DescriptorFlags);
        let open = self.instance.get_func(&mut self.store, "open").unwrap();
        let open = open.typed::<Params, (Result<Resource<Descriptor>, ErrorCode>,)>(&self.store).unwrap();
        open.call(&mut self.store, (self.root, path.to_string(), open_flags, flags)).unwrap().0
    }

    fn append(&mut self, fd: Resource<Descriptor>, data: &[u8]) -> Result<(), ErrorCode> {
        let append = self.instance.get_func(&mut self.store, "append").unwrap();
        let append = append.typed::<(Resource<Descriptor>, Vec<u8>), (Result<(), ErrorCode>,)>(&self.store).unwrap();
        append.call(&mut self.store, (fd, data.to_vec())).unwrap().0
    }

    fn cat(&mut self, fd: Resource<Descriptor>, offset: u64) -> Vec<u8> {
        let cat = self.instance.get_func(&mut self.store, "cat").unwrap();
        let cat = cat.typed::<(Resource<Descriptor>, u64), (Vec<u8>,)>(&self.store).unwrap();
        cat.call(&mut self.store, (fd, offset)).unwrap().0
    }
}

#[test]
fn read_via_stream_gives_the_file_from_its_offset() {
    let dir = scratch("read-via-stream");
    // More than one host read (64 KiB) and many guest reads (4 KiB).
    let contents: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("data.bin"), &contents).unwrap();
    std::fs::write(dir.join("empty"), b"").unwrap();
    let mut reader = Reader::new(&dir);
    let fd = reader.open("data.bin").expect("opens data.bin");
    assert_eq!(reader.cat(fd, 0), contents);
    assert_eq!(reader.cat(fd, 99_990), &contents[99_990..]);
    assert_eq!(reader.cat(fd, 100_000), b"");
    assert_eq!(reader.cat(fd, 1 << 40), b"");
    let empty = reader.open("empty").expect("opens empty");
    assert_eq!(reader.cat(empty, 0), b"");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn paths_outside_the_preopen_are_refused() {
    let dir = scratch("escape");
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/inside"), b"in").unwrap();
    let outside = dir.with_file_name(format!("{}-outside", dir.file_name().unwrap().to_str().unwrap()));
    std::fs::write(&outside, b"secret").unwrap();
    let mut reader = Reader::new(&dir);
    let outside_name = outside.file_name().unwrap().to_str().unwrap();
    assert_eq!(reader.open(&format!("../{outside_name}")).unwrap_err(), ErrorCode::NotPermitted);
    assert_eq!(reader.open(&format!("sub/../../{outside_name}")).unwrap_err(), ErrorCode::NotPermitted);
    assert_eq!(reader.open(outside.to_str().unwrap()).unwrap_err(), ErrorCode::NotPermitted);
    assert_eq!(reader.open("missing").unwrap_err(), ErrorCode::NoEntry);
    // A path that stays inside is fine, even through `..`.
    let fd = reader.open("sub/../sub/inside").expect("opens a file inside");
    assert_eq!(reader.cat(fd, 0), b"in");
    std::fs::remove_file(outside).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn append_via_stream_writes_at_the_end_and_needs_a_writable_handle() {
    let dir = scratch("append-via-stream");
    std::fs::write(dir.join("log"), b"a").unwrap();
    let mut reader = Reader::new(&dir);
    let fd = reader.open_with("log", OpenFlags::empty(), DescriptorFlags::WRITE).expect("opens log to write");
    assert_eq!(reader.append(fd, b"bc"), Ok(()));
    assert_eq!(reader.append(fd, b""), Ok(()));
    assert_eq!(reader.append(fd, b"de"), Ok(()));
    assert_eq!(std::fs::read(dir.join("log")).unwrap(), b"abcde");
    let created = reader.open_with("new", OpenFlags::CREATE, DescriptorFlags::WRITE).expect("creates new");
    assert_eq!(reader.append(created, b"x"), Ok(()));
    assert_eq!(std::fs::read(dir.join("new")).unwrap(), b"x");
    // Through a handle opened for reading only, nothing is written.
    let read_only = reader.open("log").unwrap();
    assert_eq!(reader.append(read_only, b"zz"), Err(ErrorCode::BadDescriptor));
    assert_eq!(std::fs::read(dir.join("log")).unwrap(), b"abcde");
    std::fs::remove_dir_all(dir).unwrap();
}
