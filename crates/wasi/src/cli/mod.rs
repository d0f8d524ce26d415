//! The command-line world's host state: the process's standard streams as a guest sees them
//! ([`StdinStream`], [`StdoutStream`], implemented for the process's own stdio, for pipes
//! and for closed streams), the terminal resources, and (in `host`) the `wasi:cli`
//! interfaces: environment, exit, stdin/stdout/stderr and terminal-*.
//!
//! A guest's stdin and stdout are created when it asks for them (`get-stdin`), from the
//! [`StdinStream`]/[`StdoutStream`] in the context, so that each call gets its own stream
//! resource over the same source.

mod host;
mod stdio;

pub use stdio::{InheritedStdin, InheritedStdout};

use crate::pipe::{ClosedInputStream, ClosedOutputStream, MemoryInputPipe, MemoryOutputPipe, SinkOutputStream};
use crate::streams::{InputStream, OutputStream};

/// Whether a standard stream is a terminal (what `wasi:cli/terminal-*` report).
pub trait IsTerminal {
    /// True when the stream is attached to a terminal.
    fn is_terminal(&self) -> bool;
}

/// A source for the guest's stdin: makes an input stream each time the guest asks for it.
pub trait StdinStream: IsTerminal + Send {
    /// A new input stream over this source.
    fn p2_stream(&self) -> Box<dyn InputStream>;
}

/// A destination for the guest's stdout or stderr: makes an output stream each time the
/// guest asks for it.
pub trait StdoutStream: IsTerminal + Send {
    /// A new output stream over this destination.
    fn p2_stream(&self) -> Box<dyn OutputStream>;
}

/// The `terminal-input` resource (it has no methods in WASI 0.2).
pub struct TerminalInput;

/// The `terminal-output` resource (it has no methods in WASI 0.2).
pub struct TerminalOutput;

impl IsTerminal for std::io::Stdin {
    fn is_terminal(&self) -> bool {
        std::io::IsTerminal::is_terminal(self)
    }
}

impl StdinStream for std::io::Stdin {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(InheritedStdin::new())
    }
}

impl IsTerminal for std::io::Stdout {
    fn is_terminal(&self) -> bool {
        std::io::IsTerminal::is_terminal(self)
    }
}

impl StdoutStream for std::io::Stdout {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(InheritedStdout::Stdout)
    }
}

impl IsTerminal for std::io::Stderr {
    fn is_terminal(&self) -> bool {
        std::io::IsTerminal::is_terminal(self)
    }
}

impl StdoutStream for std::io::Stderr {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(InheritedStdout::Stderr)
    }
}

/// `std::io::Empty` is a closed stdin, and a stdout that discards everything.
impl IsTerminal for std::io::Empty {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for std::io::Empty {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(ClosedInputStream)
    }
}

impl StdoutStream for std::io::Empty {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(SinkOutputStream)
    }
}

/// Memory streams and closed streams are never terminals; each `p2_stream` is a clone that
/// shares the contents.
macro_rules! not_a_terminal {
    ($($ty:ty => $trait:ident($stream:ident),)*) => {$(
        impl IsTerminal for $ty {
            fn is_terminal(&self) -> bool {
                false
            }
        }
        impl $trait for $ty {
            fn p2_stream(&self) -> Box<dyn $stream> {
                Box::new(self.clone())
            }
        }
    )*};
}
not_a_terminal! {
    MemoryInputPipe => StdinStream(InputStream),
    ClosedInputStream => StdinStream(InputStream),
    MemoryOutputPipe => StdoutStream(OutputStream),
    ClosedOutputStream => StdoutStream(OutputStream),
    SinkOutputStream => StdoutStream(OutputStream),
}
