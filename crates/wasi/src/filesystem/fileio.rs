//! Positional reads and writes on a host file: what `read`, `write` and the file streams
//! are made of.
//!
//! Nothing here uses or moves the file's own cursor: WASI descriptors have none, and several
//! streams over one file each keep their own position. Reads allocate at most
//! [`MAX_READ_SIZE`] bytes, whatever length the guest asks for. Appends are atomic where the
//! host allows it (`pwritev2` with `RWF_APPEND` on Linux).

use crate::streams::MAX_READ_SIZE;
use cap_std::fs::FileExt;
use std::io;

/// Up to `size` bytes (at most [`MAX_READ_SIZE`]) from `offset`; empty at or past the end.
pub(crate) fn read_at(file: &cap_std::fs::File, size: usize, offset: u64) -> io::Result<Vec<u8>> {
    // Read into the vector's spare capacity: no zeroing of a buffer the read overwrites.
    let mut buf = Vec::with_capacity(size.min(MAX_READ_SIZE));
    retry_interrupted(|| rustix::io::pread(file, rustix::buffer::spare_capacity(&mut buf), offset))?;
    Ok(buf)
}

/// Reads into `buf` from `offset` (one `pread`, retried when interrupted); how many bytes,
/// 0 at or past the end. For readers that fill a buffer they do not own, such as a guest's.
pub(crate) fn read_into(file: &cap_std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    retry_interrupted(|| rustix::io::pread(file, &mut *buf, offset))
}

/// Runs `op` (one system call) again for as long as a signal interrupts it.
fn retry_interrupted<T>(mut op: impl FnMut() -> rustix::io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(rustix::io::Errno::INTR) => continue,
            result => return result.map_err(io::Error::from),
        }
    }
}

/// Writes `bytes` at `offset`, repeating short writes until all are written; how many were.
/// An error after some bytes were written reports those bytes rather than the error (the
/// next write meets the error again), as `pwrite` itself does.
pub(crate) fn write_at(file: &cap_std::fs::File, bytes: &[u8], offset: u64) -> io::Result<usize> {
    write_all_with(bytes, |rest, written| {
        let at = offset.checked_add(written as u64).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        file.write_at(rest, at)
    })
}

/// Writes `bytes` with `write_once` (given what is left and how much was written) until all
/// is written, nothing more is taken, or an error comes; how many were written. An error is
/// returned only when nothing was written, retried when it is an interruption.
fn write_all_with(bytes: &[u8], mut write_once: impl FnMut(&[u8], usize) -> io::Result<usize>) -> io::Result<usize> {
    let mut written = 0;
    while written < bytes.len() {
        match write_once(&bytes[written..], written) {
            Ok(0) => break,
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if written == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(written)
}

/// Writes all of `bytes` at the end of the file, as `O_APPEND` writes do; how many were
/// written (short only when an error follows some progress).
pub(crate) fn append(file: &cap_std::fs::File, bytes: &[u8]) -> io::Result<usize> {
    write_all_with(bytes, |rest, _| append_once(file, rest))
}

/// One append: `pwritev2(RWF_APPEND)`, which writes at the end atomically without changing
/// the descriptor's flags.
#[cfg(target_os = "linux")]
fn append_once(file: &cap_std::fs::File, bytes: &[u8]) -> io::Result<usize> {
    use rustix::io::{Errno, ReadWriteFlags, pwritev2};
    match pwritev2(file, &[io::IoSlice::new(bytes)], 0, ReadWriteFlags::APPEND) {
        Ok(n) => Ok(n),
        // Kernels before 4.16 lack RWF_APPEND.
        Err(Errno::NOSYS) | Err(Errno::NOTSUP) => append_with_flag(file, bytes),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn append_once(file: &cap_std::fs::File, bytes: &[u8]) -> io::Result<usize> {
    append_with_flag(file, bytes)
}

/// An append through the file description's `O_APPEND` flag, set for the one write and
/// cleared again. Other users of the same description could see the flag meanwhile; weld's
/// WASI host runs one guest call at a time per store, so only other stores sharing the
/// description (none, as descriptors are not shared between contexts) could.
fn append_with_flag(file: &cap_std::fs::File, bytes: &[u8]) -> io::Result<usize> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    fcntl_setfl(file, flags | OFlags::APPEND)?;
    let result = rustix::io::write(file, bytes);
    let restored = fcntl_setfl(file, flags);
    let n = result?;
    restored?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cap_std::ambient_authority;

    fn scratch(name: &str) -> (std::path::PathBuf, cap_std::fs::Dir) {
        let path = std::env::temp_dir().join(format!("weld-wasi-fileio-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        let dir = cap_std::fs::Dir::open_ambient_dir(&path, ambient_authority()).unwrap();
        (path, dir)
    }

    #[test]
    fn reads_are_positional_and_capped() {
        let (path, dir) = scratch("read");
        dir.write("f", vec![7u8; MAX_READ_SIZE + 10]).unwrap();
        let f = dir.open("f").unwrap();
        assert_eq!(read_at(&f, usize::MAX, 0).unwrap().len(), MAX_READ_SIZE);
        assert_eq!(read_at(&f, usize::MAX, MAX_READ_SIZE as u64).unwrap().len(), 10);
        assert!(read_at(&f, 5, 1 << 40).unwrap().is_empty());
        assert!(read_at(&f, 5, u64::MAX).is_err());
        std::fs::remove_dir_all(path).unwrap();
    }

    #[test]
    fn writes_and_appends_land_where_they_should() {
        let (path, dir) = scratch("write");
        dir.write("f", b"hello").unwrap();
        let f = dir.open_with("f", cap_std::fs::OpenOptions::new().read(true).write(true)).unwrap();
        assert_eq!(write_at(&f, b"J", 0).unwrap(), 1);
        assert_eq!(append(&f, b" world").unwrap(), 6);
        assert_eq!(write_at(&f, b"!", 13).unwrap(), 1);
        assert_eq!(dir.read("f").unwrap(), b"Jello world\0\0!");
        assert!(write_at(&f, b"x", u64::MAX).is_err());
        std::fs::remove_dir_all(path).unwrap();
    }
}
