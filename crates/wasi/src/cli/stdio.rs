//! The process's own stdin, stdout and stderr as guest streams.
//!
//! Stdin is read straight from descriptor 0: a read first asks `poll(2)` whether bytes are
//! waiting, so that `read` never blocks, and `blocking-read` waits on the descriptor. Nothing
//! else in the process should read stdin meanwhile. Stdout and stderr write through the
//! standard library's handles (so they interleave correctly with the host's own output) and
//! block the guest while the write is in progress, as a terminal or pipe makes them.

use crate::poll::Readiness;
use crate::streams::{InputStream, MAX_READ_SIZE, OutputStream, StreamError, StreamResult};
use rustix::event::{PollFd, PollFlags, Timespec};
use std::io::Write;
use std::os::fd::AsFd;
use std::sync::Arc;

/// The process's stdin as an input stream.
pub struct InheritedStdin {
    stdin: Arc<std::io::Stdin>,
}

impl InheritedStdin {
    /// A stream over the process's stdin.
    pub fn new() -> InheritedStdin {
        InheritedStdin { stdin: Arc::new(std::io::stdin()) }
    }

    fn has_input(&self) -> bool {
        let mut fds = [PollFd::new(&*self.stdin, PollFlags::IN)];
        let now = Timespec { tv_sec: 0, tv_nsec: 0 };
        match rustix::event::poll(&mut fds, Some(&now)) {
            // Readable, at its end, or in error: a read will say which.
            Ok(n) => n > 0,
            Err(_) => true,
        }
    }
}

impl Default for InheritedStdin {
    fn default() -> InheritedStdin {
        InheritedStdin::new()
    }
}

impl InputStream for InheritedStdin {
    fn read(&mut self, size: usize) -> StreamResult<Vec<u8>> {
        if size == 0 || !self.has_input() {
            return Ok(Vec::new());
        }
        let mut buf = vec![0; size.min(MAX_READ_SIZE)];
        let n = loop {
            match rustix::io::read(self.stdin.as_fd(), &mut buf) {
                Ok(n) => break n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => return Ok(Vec::new()),
                Err(e) => return Err(StreamError::from(std::io::Error::from(e))),
            }
        };
        if n == 0 {
            return Err(StreamError::Closed);
        }
        buf.truncate(n);
        Ok(buf)
    }

    fn readiness(&mut self) -> Readiness {
        Readiness::fd(self.stdin.clone(), PollFlags::IN)
    }
}

/// The process's stdout or stderr as an output stream.
#[derive(Debug, Clone, Copy)]
pub enum InheritedStdout {
    /// Descriptor 1.
    Stdout,
    /// Descriptor 2.
    Stderr,
}

impl OutputStream for InheritedStdout {
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_READ_SIZE)
    }

    fn write(&mut self, bytes: Vec<u8>) -> StreamResult<()> {
        let result = match self {
            InheritedStdout::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes).and_then(|()| out.flush())
            }
            InheritedStdout::Stderr => std::io::stderr().lock().write_all(&bytes),
        };
        result.map_err(StreamError::from)
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn readiness(&mut self) -> Readiness {
        Readiness::Ready
    }
}
