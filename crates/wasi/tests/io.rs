//! The wasi:io layer on its own: pipes, the stream budget rules, the blocking operations and
//! `poll` over deadlines and resources, driven through the host traits as a guest would.

use std::time::{Duration, Instant};
use weld::component::{Resource, ResourceTable};
use weld_wasi::p2::bindings::io::poll::{Host as _, HostPollable as _};
use weld_wasi::p2::bindings::io::streams::{HostInputStream as _, HostOutputStream as _, StreamError};
use weld_wasi::pipe::{MemoryInputPipe, MemoryOutputPipe};
use weld_wasi::poll::{DynPollable, deadline_pollable};
use weld_wasi::streams::{DynInputStream, DynOutputStream};

fn input(table: &mut ResourceTable, bytes: &[u8]) -> Resource<DynInputStream> {
    table.push(Box::new(MemoryInputPipe::new(bytes.to_vec())) as DynInputStream).unwrap()
}

fn output(table: &mut ResourceTable, capacity: usize) -> (Resource<DynOutputStream>, MemoryOutputPipe) {
    let pipe = MemoryOutputPipe::new(capacity);
    (table.push(Box::new(pipe.clone()) as DynOutputStream).unwrap(), pipe)
}

fn after(table: &mut ResourceTable, ms: u64) -> Resource<DynPollable> {
    deadline_pollable(table, Some(Instant::now() + Duration::from_millis(ms))).unwrap()
}

#[test]
fn reads_are_bounded_and_end_closed() {
    let mut table = ResourceTable::new();
    let data = vec![7u8; 100_000];
    let stream = input(&mut table, &data);
    // A guest may ask for 2^64 bytes; it gets at most 64 KiB per read.
    let first = table.read(stream, u64::MAX).unwrap().unwrap();
    assert_eq!(first.len(), 64 * 1024);
    let rest = table.blocking_read(stream, u64::MAX).unwrap().unwrap();
    assert_eq!(rest.len(), 100_000 - 64 * 1024);
    assert!(matches!(table.read(stream, 1).unwrap(), Err(StreamError::Closed)));
    assert!(matches!(table.blocking_read(stream, 1).unwrap(), Err(StreamError::Closed)));
}

#[test]
fn writes_stay_within_the_budget() {
    let mut table = ResourceTable::new();
    let (stream, pipe) = output(&mut table, 10);
    assert_eq!(table.check_write(stream).unwrap().unwrap(), 10);
    table.write(stream, b"hello".to_vec()).unwrap().unwrap();
    // Past the budget is a trap, not a stream error.
    let err = table.write(stream, b"more than five".to_vec()).unwrap_err();
    assert!(err.to_string().contains("exceeds the 5 bytes check-write allowed"), "{err}");
    table.blocking_write_and_flush(stream, b"world".to_vec()).unwrap().unwrap();
    assert_eq!(pipe.contents(), b"helloworld");
    assert!(matches!(table.check_write(stream).unwrap(), Err(StreamError::Closed)));
}

#[test]
fn blocking_write_and_flush_takes_at_most_4096_bytes() {
    let mut table = ResourceTable::new();
    let (stream, pipe) = output(&mut table, 1 << 20);
    table.blocking_write_and_flush(stream, vec![1; 4096]).unwrap().unwrap();
    let err = table.blocking_write_and_flush(stream, vec![1; 4097]).unwrap_err();
    assert!(err.to_string().contains("4097 bytes, more than the 4096"), "{err}");
    table.blocking_write_zeroes_and_flush(stream, 10).unwrap().unwrap();
    assert_eq!(pipe.contents().len(), 4106);
}

#[test]
fn splice_moves_what_the_destination_takes() {
    let mut table = ResourceTable::new();
    let src = input(&mut table, b"abcdefgh");
    let (dst, pipe) = output(&mut table, 5);
    assert_eq!(table.splice(dst, src, 100).unwrap().unwrap(), 5);
    assert_eq!(pipe.contents(), b"abcde");
    assert!(matches!(table.blocking_splice(dst, src, 100).unwrap(), Err(StreamError::Closed)));
}

#[test]
fn poll_returns_the_first_deadline_without_spinning() {
    let mut table = ResourceTable::new();
    let late = after(&mut table, 500);
    let soon = after(&mut table, 30);
    let started = Instant::now();
    let ready = table.poll(vec![late, soon]).unwrap();
    let waited = started.elapsed();
    assert_eq!(ready, [1]);
    assert!(waited >= Duration::from_millis(30) && waited < Duration::from_millis(400), "{waited:?}");
    assert!(!table.ready(late).unwrap());
    assert!(table.ready(soon).unwrap());
}

#[test]
fn ready_resources_are_returned_at_once_with_every_ready_index() {
    let mut table = ResourceTable::new();
    let stream = input(&mut table, b"x");
    let stream_ready = weld_wasi::p2::bindings::io::streams::HostInputStream::subscribe(&mut table, stream).unwrap();
    let timer = after(&mut table, 10_000);
    let past = deadline_pollable(&mut table, Some(Instant::now())).unwrap();
    let started = Instant::now();
    assert_eq!(table.poll(vec![timer, stream_ready, past]).unwrap(), [1, 2]);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn polls_that_could_never_end_fail_instead_of_hanging() {
    let mut table = ResourceTable::new();
    let err = table.poll(vec![]).unwrap_err();
    assert!(err.to_string().contains("empty list"), "{err}");
    let never = deadline_pollable(&mut table, None).unwrap();
    let err = table.poll(vec![never]).unwrap_err();
    assert!(err.to_string().contains("can ever become ready"), "{err}");
    let err = table.block(never).unwrap_err();
    assert!(err.to_string().contains("can ever become ready"), "{err}");
}

#[test]
fn a_stream_cannot_be_dropped_before_its_pollable() {
    let mut table = ResourceTable::new();
    let stream = input(&mut table, b"x");
    let pollable = weld_wasi::p2::bindings::io::streams::HostInputStream::subscribe(&mut table, stream).unwrap();
    // wasi:io/poll lets a host trap here; weld does, instead of leaving a dangling pollable.
    assert!(weld_wasi::p2::bindings::io::streams::HostInputStream::drop(&mut table, stream).is_err());
    weld_wasi::p2::bindings::io::poll::HostPollable::drop(&mut table, pollable).unwrap();
    weld_wasi::p2::bindings::io::streams::HostInputStream::drop(&mut table, stream).unwrap();
    assert!(table.is_empty());
}

#[test]
fn the_vendored_wit_is_wasi_0_2_12_unchanged() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/wasi/0.2");
    if !shared.exists() {
        eprintln!("skipped: {} is not present to compare with", shared.display());
        return;
    }
    let vendored = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wit/deps");
    let mut compared = 0;
    for package in std::fs::read_dir(&vendored).unwrap() {
        let package = package.unwrap().path();
        for file in std::fs::read_dir(&package).unwrap() {
            let file = file.unwrap().path();
            let name = file.strip_prefix(&vendored).unwrap();
            let original = std::fs::read(shared.join(name)).unwrap_or_else(|e| panic!("{}: {e}", name.display()));
            assert!(std::fs::read(&file).unwrap() == original, "{} differs from WASI 0.2.12", name.display());
            compared += 1;
        }
    }
    assert!(compared >= 25, "only {compared} files compared");
}

/// A stream over the read end of an OS pipe: its readiness is the descriptor's.
struct PipeStream(std::sync::Arc<std::io::PipeReader>);

impl weld_wasi::streams::InputStream for PipeStream {
    fn read(&mut self, size: usize) -> weld_wasi::streams::StreamResult<Vec<u8>> {
        use std::io::Read;
        let mut buf = vec![0; size];
        let n = (&*self.0).read(&mut buf)?;
        if n == 0 {
            return Err(weld_wasi::streams::StreamError::Closed);
        }
        buf.truncate(n);
        Ok(buf)
    }

    fn readiness(&mut self) -> weld_wasi::poll::Readiness {
        weld_wasi::poll::Readiness::fd(self.0.clone(), rustix::event::PollFlags::IN)
    }
}

#[test]
fn poll_sleeps_on_descriptors_until_they_are_ready() {
    use std::io::Write;
    let (reader, mut writer) = std::io::pipe().unwrap();
    let mut table = ResourceTable::new();
    let stream: DynInputStream = Box::new(PipeStream(std::sync::Arc::new(reader)));
    let stream = table.push(stream).unwrap();
    let readable = weld_wasi::p2::bindings::io::streams::HostInputStream::subscribe(&mut table, stream).unwrap();
    let timer = after(&mut table, 5_000);
    let started = Instant::now();
    let feeder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        writer.write_all(b"ping").unwrap();
    });
    assert!(!table.ready(readable).unwrap());
    assert_eq!(table.poll(vec![timer, readable]).unwrap(), [1]);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(40) && waited < Duration::from_secs(4), "{waited:?}");
    assert!(table.ready(readable).unwrap(), "the descriptor has data now");
    assert_eq!(table.read(stream, 100).unwrap().unwrap(), b"ping");
    feeder.join().unwrap();
}

#[test]
fn write_zeroes_is_checked_before_anything_is_allocated() {
    let mut table = ResourceTable::new();
    let (stream, pipe) = output(&mut table, 100);
    table.write_zeroes(stream, 10).unwrap().unwrap();
    // 2^62 zero bytes would abort the host if allocated; it is a trap instead.
    let err = table.write_zeroes(stream, 1 << 62).unwrap_err();
    assert!(err.to_string().contains("exceeds the 90 bytes check-write allowed"), "{err}");
    assert_eq!(pipe.contents(), vec![0; 10]);
}
