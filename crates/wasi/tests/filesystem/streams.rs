//! File streams, through `wasi:io/streams` as a guest uses them: positional reads that
//! advance, the end of the file, writes and appends, the `check-write` budget, and stream
//! errors that `filesystem-error-code` explains.

use crate::common::Sandbox;
use weld::component::Resource;
use weld_wasi::FsPerms;
use weld_wasi::p2::bindings::filesystem::types::{
    DescriptorFlags as DF, ErrorCode, Host as _, HostDescriptor, OpenFlags as OF, PathFlags as PF,
};
use weld_wasi::p2::bindings::io::streams::{HostInputStream, HostOutputStream, StreamError};
use weld_wasi::p2::{DynInputStream, DynOutputStream};

fn read(sb: &mut Sandbox, s: &Resource<DynInputStream>, len: u64) -> Result<Vec<u8>, StreamError> {
    HostInputStream::read(&mut sb.table, *s, len).unwrap()
}

fn write(sb: &mut Sandbox, s: &Resource<DynOutputStream>, bytes: &[u8]) -> Result<(), StreamError> {
    HostOutputStream::write(&mut sb.table, *s, bytes.to_vec()).unwrap()
}

#[test]
fn reads_advance_from_their_own_offset_until_the_end() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    std::fs::write(sb.pre().join("digits"), b"0123456789").unwrap();
    let f = sb.open_read("digits");
    let a = sb.view().read_via_stream(f, 2).unwrap().unwrap();
    let b = sb.view().read_via_stream(f, 7).unwrap().unwrap();
    assert_eq!(read(&mut sb, &a, 3).unwrap(), b"234");
    assert_eq!(read(&mut sb, &b, 100).unwrap(), b"789");
    assert_eq!(read(&mut sb, &a, 0).unwrap(), b"");
    assert_eq!(read(&mut sb, &a, 2).unwrap(), b"56");
    assert!(matches!(read(&mut sb, &b, 1), Err(StreamError::Closed)));
    assert_eq!(HostInputStream::skip(&mut sb.table, a, 2).unwrap().unwrap(), 2);
    assert_eq!(HostInputStream::blocking_read(&mut sb.table, a, u64::MAX).unwrap().unwrap(), b"9");
    assert!(matches!(read(&mut sb, &a, 1), Err(StreamError::Closed)));
    // The descriptor's reads are unaffected by the streams.
    assert_eq!(sb.view().read(f, 3, 0).unwrap().unwrap().0, b"012");
    // A stream from past the end is closed at once; the stream outlives its descriptor.
    let c = sb.view().read_via_stream(f, 0).unwrap().unwrap();
    let past = sb.view().read_via_stream(f, 1 << 40).unwrap().unwrap();
    sb.view().drop(f).unwrap();
    assert!(matches!(read(&mut sb, &past, 1), Err(StreamError::Closed)));
    assert_eq!(read(&mut sb, &c, 4).unwrap(), b"0123");
}

#[test]
fn huge_stream_reads_are_capped() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    std::fs::write(sb.pre().join("big"), vec![1u8; 200_000]).unwrap();
    let f = sb.open_read("big");
    let s = sb.view().read_via_stream(f, 0).unwrap().unwrap();
    assert_eq!(read(&mut sb, &s, u64::MAX).unwrap().len(), 64 * 1024);
    let bytes = HostInputStream::blocking_read(&mut sb.table, s, u64::MAX).unwrap().unwrap();
    assert_eq!(bytes.len(), 64 * 1024);
}

#[test]
fn writes_go_to_their_offset_and_appends_to_the_end() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let f = sb.open_rw("file.txt");
    let w = sb.view().write_via_stream(f, 1).unwrap().unwrap();
    let permit = HostOutputStream::check_write(&mut sb.table, w).unwrap().unwrap();
    assert_eq!(permit, 64 * 1024);
    write(&mut sb, &w, b"EL").unwrap();
    write(&mut sb, &w, b"L").unwrap();
    HostOutputStream::flush(&mut sb.table, w).unwrap().unwrap();
    assert_eq!(std::fs::read(sb.pre().join("file.txt")).unwrap(), b"hELLo");

    let ap = sb.view().append_via_stream(f).unwrap().unwrap();
    HostOutputStream::blocking_write_and_flush(&mut sb.table, ap, b" world".to_vec()).unwrap().unwrap();
    // Another writer extends the file; the append stream follows the new end.
    sb.view().write(f, b"!!".to_vec(), 11).unwrap().unwrap();
    HostOutputStream::check_write(&mut sb.table, ap).unwrap().unwrap();
    write(&mut sb, &ap, b"?").unwrap();
    assert_eq!(std::fs::read(sb.pre().join("file.txt")).unwrap(), b"hELLo world!!?");

    // The positional stream continues where it was.
    HostOutputStream::check_write(&mut sb.table, w).unwrap().unwrap();
    write(&mut sb, &w, b"O").unwrap();
    HostOutputStream::write_zeroes(&mut sb.table, w, 2).unwrap().unwrap();
    assert_eq!(std::fs::read(sb.pre().join("file.txt")).unwrap(), b"hELLO\0\0orld!!?");
}

#[test]
fn writes_beyond_the_budget_trap() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let f = sb.open_rw("file.txt");
    let w = sb.view().write_via_stream(f, 0).unwrap().unwrap();
    let permit = HostOutputStream::check_write(&mut sb.table, w).unwrap().unwrap() as usize;
    write(&mut sb, &w, &vec![b'a'; permit - 1]).unwrap();
    assert!(HostOutputStream::write(&mut sb.table, w, b"bc".to_vec()).is_err(), "a trap");
    let w2 = sb.view().write_via_stream(f, 0).unwrap().unwrap();
    HostOutputStream::check_write(&mut sb.table, w2).unwrap().unwrap();
    assert!(HostOutputStream::write_zeroes(&mut sb.table, w2, u64::MAX).is_err(), "a trap, no allocation");
    let w3 = sb.view().write_via_stream(f, 0).unwrap().unwrap();
    assert!(HostOutputStream::write(&mut sb.table, w3, vec![0; 64 * 1024 + 1]).is_err());
}

#[test]
fn stream_errors_carry_their_error_code() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    // A stream writing a file opened for reading only fails in the host with EBADF.
    let r = sb.open_read("file.txt");
    let w = sb.view().write_via_stream(r, 0).unwrap().unwrap();
    HostOutputStream::check_write(&mut sb.table, w).unwrap().unwrap();
    let Err(StreamError::LastOperationFailed(err)) = write(&mut sb, &w, b"x") else { panic!("the write should fail") };
    assert_eq!(sb.view().filesystem_error_code(err).unwrap(), Some(ErrorCode::BadDescriptor));
    // The failure closed the stream.
    assert!(matches!(HostOutputStream::check_write(&mut sb.table, w).unwrap(), Err(StreamError::Closed)));

    // And a stream reading a file opened for writing only.
    let pre = sb.preopen();
    let wo = sb.open(&pre, PF::empty(), "file.txt", OF::empty(), DF::WRITE).unwrap();
    let s = sb.view().read_via_stream(wo, 0).unwrap().unwrap();
    let Err(StreamError::LastOperationFailed(err)) = read(&mut sb, &s, 1) else { panic!("the read should fail") };
    assert_eq!(sb.view().filesystem_error_code(err).unwrap(), Some(ErrorCode::BadDescriptor));
    assert!(matches!(read(&mut sb, &s, 1), Err(StreamError::Closed)));

    // An error that is not the host's I/O has no filesystem error code.
    let other = sb.table.push(anyhow::anyhow!("not a filesystem error")).unwrap();
    assert_eq!(sb.view().filesystem_error_code(other).unwrap(), None);
}
