//! The bindings `bindgen!` generates from the WASI 0.2.12 WIT (in the crate's `wit/`), for the
//! world `wasi:cli/command`: a module per interface with its types and `Host` traits, and
//! [`sync::Command`] to instantiate a command component and call its `run`.
//!
//! Resources are bound to weld-wasi's own types (streams, pollables, descriptors, sockets),
//! and every host function may trap. weld-wasi is synchronous, so `sync` is the only
//! flavour; the interface modules are also re-exported here, as Wasmtime's `bindings` has
//! them.

/// The synchronous bindings. Items carry the WIT's own documentation, and not every WIT item
/// has some, hence the `allow`.
#[allow(missing_docs)]
pub mod sync {
    weld::component::bindgen!({
        path: "wit",
        world: "wasi:cli/command",
        trappable_imports: true,
        with: {
            "wasi:io/error/error": crate::io_host::IoError,
            "wasi:io/poll/pollable": crate::poll::DynPollable,
            "wasi:io/streams/input-stream": crate::streams::DynInputStream,
            "wasi:io/streams/output-stream": crate::streams::DynOutputStream,
            "wasi:cli/terminal-input/terminal-input": crate::cli::TerminalInput,
            "wasi:cli/terminal-output/terminal-output": crate::cli::TerminalOutput,
            "wasi:filesystem/types/descriptor": crate::filesystem::Descriptor,
            "wasi:filesystem/types/directory-entry-stream": crate::filesystem::ReaddirIterator,
            "wasi:sockets/network/network": crate::sockets::Network,
            "wasi:sockets/tcp/tcp-socket": crate::sockets::TcpSocket,
            "wasi:sockets/udp/udp-socket": crate::sockets::UdpSocket,
            "wasi:sockets/udp/incoming-datagram-stream": crate::sockets::IncomingDatagramStream,
            "wasi:sockets/udp/outgoing-datagram-stream": crate::sockets::OutgoingDatagramStream,
            "wasi:sockets/ip-name-lookup/resolve-address-stream": crate::sockets::ResolveAddressStream,
        },
    });
}

pub use sync::wasi::{cli, clocks, filesystem, io, random, sockets};
pub use sync::{Command, CommandPre, exports};
