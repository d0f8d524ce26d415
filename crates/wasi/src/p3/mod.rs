//! WASI 0.3 for components: `wasi:cli` (environment, exit, the standard streams as
//! `stream<u8>`, terminals), `wasi:clocks` (monotonic and system clocks, `wait-for` and
//! `wait-until` as async functions), `wasi:filesystem` ([`filesystem`]: the 0.2 host's
//! descriptors and preopens, file contents and listings as streams), `wasi:random` and
//! `wasi:sockets` ([`sockets`]: the 0.2 host's sockets and policy, with connections as
//! streams and waits on a readiness thread), on the same [`WasiCtx`](crate::WasiCtx) as
//! WASI 0.2.
//!
//! The standard streams move through weld's host stream ends: the guest's writes to stdout
//! or stderr go to a [`StreamConsumer`] that writes them to the context's stream, and stdin
//! comes from a [`StreamProducer`] that reads the context's. The future each returns
//! resolves when the stream ends. Reading stdin blocks the thread while no input is there,
//! as WASI 0.2's blocking reads do.
//!
//! `wasi:http` at 0.3 is `weld_wasi_http::p3`, in the HTTP crate. Not here yet:
//! `wasi:clocks/timezone`.

pub mod filesystem;
mod oneshot;
mod sleep;
pub mod sockets;
mod types;

pub use types::Instant;

use crate::streams::{InputStream, OutputStream, StreamError};
use crate::view::WasiView;
use crate::{I32Exit, cli::TerminalInput, cli::TerminalOutput};
use sleep::Sleep;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use weld::component::{
    ComponentType, Destination, FutureReader, Lift, Linker, LinkerInstance, Lower, Resource, ResourceType, Source,
    StoreContextMut, StreamConsumer, StreamProducer, StreamReader, StreamResult,
};

/// The version of the WASI 0.3 interfaces defined here.
const VERSION: &str = "0.3.0";

/// `wasi:cli/types#error-code`: why reading or writing a standard stream failed.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
#[component(enum)]
pub enum ErrorCode {
    /// Input/output error.
    Io,
    /// Invalid or incomplete multibyte or wide character.
    IllegalByteSequence,
    /// Broken pipe.
    Pipe,
}

/// What a standard stream's future resolves to.
type StreamOutcome = Result<(), ErrorCode>;

/// Defines the WASI 0.3 interfaces of this module in `linker`, calling the [`WasiView`] of
/// the store's data.
pub fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    add_cli_to_linker(linker)?;
    add_clocks_to_linker(linker)?;
    add_filesystem_to_linker(linker)?;
    add_random_to_linker(linker)?;
    add_sockets_to_linker(linker)
}

fn interface<'a, T: 'static>(linker: &'a mut Linker<T>, name: &str) -> weld::Result<LinkerInstance<'a, T>> {
    linker.instance(&format!("{name}@{VERSION}"))
}

/// Defines `wasi:cli` 0.3.
pub fn add_cli_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    let mut env = interface(linker, "wasi:cli/environment")?;
    env.func_wrap("get-environment", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().ctx().ctx.env.clone(),))
    })?;
    env.func_wrap("get-arguments", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().ctx().ctx.args.clone(),))
    })?;
    env.func_wrap("get-initial-cwd", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().ctx().ctx.initial_cwd.clone(),))
    })?;

    let mut exit = interface(linker, "wasi:cli/exit")?;
    exit.func_wrap("exit", |_: StoreContextMut<'_, T>, (status,): (Result<(), ()>,)| -> weld::Result<()> {
        Err(I32Exit(if status.is_ok() { 0 } else { 1 }).into())
    })?;
    exit.func_wrap("exit-with-code", |_: StoreContextMut<'_, T>, (code,): (u8,)| -> weld::Result<()> {
        Err(I32Exit(code.into()).into())
    })?;

    interface(linker, "wasi:cli/stdin")?.func_wrap(
        "read-via-stream",
        |mut store: StoreContextMut<'_, T>, (): ()| {
            let input = store.data_mut().ctx().ctx.stdin.p2_stream();
            let (done, outcome) = oneshot::channel();
            let stream = StreamReader::new(&mut store, InputProducer { input, report: oneshot::Reporter::new(done) });
            let future = FutureReader::new(&mut store, async move { Ok(outcome.await.unwrap_or(Ok(()))) });
            Ok(((stream, future),))
        },
    )?;
    for (name, stderr) in [("wasi:cli/stdout", false), ("wasi:cli/stderr", true)] {
        interface(linker, name)?.func_wrap(
            "write-via-stream",
            move |mut store: StoreContextMut<'_, T>, (data,): (StreamReader<u8>,)| {
                let ctx = store.data_mut().ctx().ctx;
                let output = if stderr { ctx.stderr.p2_stream() } else { ctx.stdout.p2_stream() };
                let (done, outcome) = oneshot::channel();
                data.pipe(&mut store, OutputConsumer { output, report: oneshot::Reporter::new(done) })?;
                let future: FutureReader<StreamOutcome> =
                    FutureReader::new(&mut store, async move { Ok(outcome.await.unwrap_or(Ok(()))) });
                Ok((future,))
            },
        )?;
    }

    interface(linker, "wasi:cli/terminal-input")?.resource(
        "terminal-input",
        ResourceType::host::<TerminalInput>(),
        |mut store: StoreContextMut<'_, T>, rep| {
            store.data_mut().ctx().table.delete(Resource::<TerminalInput>::new_own(rep))?;
            Ok(())
        },
    )?;
    interface(linker, "wasi:cli/terminal-output")?.resource(
        "terminal-output",
        ResourceType::host::<TerminalOutput>(),
        |mut store: StoreContextMut<'_, T>, rep| {
            store.data_mut().ctx().table.delete(Resource::<TerminalOutput>::new_own(rep))?;
            Ok(())
        },
    )?;
    interface(linker, "wasi:cli/terminal-stdin")?.func_wrap(
        "get-terminal-stdin",
        |mut store: StoreContextMut<'_, T>, (): ()| {
            let view = store.data_mut().ctx();
            let r = if view.ctx.stdin.is_terminal() { Some(view.table.push(TerminalInput)?) } else { None };
            Ok((r,))
        },
    )?;
    for (name, func, stderr) in [
        ("wasi:cli/terminal-stdout", "get-terminal-stdout", false),
        ("wasi:cli/terminal-stderr", "get-terminal-stderr", true),
    ] {
        interface(linker, name)?.func_wrap(func, move |mut store: StoreContextMut<'_, T>, (): ()| {
            let view = store.data_mut().ctx();
            let terminal = if stderr { view.ctx.stderr.is_terminal() } else { view.ctx.stdout.is_terminal() };
            let r = if terminal { Some(view.table.push(TerminalOutput)?) } else { None };
            Ok((r,))
        })?;
    }
    Ok(())
}

/// Defines `wasi:clocks` 0.3 (without `timezone`).
pub fn add_clocks_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    let mut mono = interface(linker, "wasi:clocks/monotonic-clock")?;
    mono.func_wrap("now", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().ctx().ctx.clocks.monotonic.now(),))
    })?;
    mono.func_wrap("get-resolution", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().ctx().ctx.clocks.monotonic.resolution(),))
    })?;
    mono.func_wrap_concurrent("wait-for", |_, (nanos,): (u64,)| {
        Box::pin(async move {
            Sleep::new(Duration::from_nanos(nanos)).await;
            Ok(())
        })
    })?;
    mono.func_wrap_concurrent("wait-until", |accessor, (when,): (u64,)| {
        Box::pin(async move {
            let now = accessor.with(|mut store| store.data_mut().ctx().ctx.clocks.monotonic.now());
            Sleep::new(Duration::from_nanos(when.saturating_sub(now))).await;
            Ok(())
        })
    })?;
    let mut system = interface(linker, "wasi:clocks/system-clock")?;
    system.func_wrap("now", |mut store: StoreContextMut<'_, T>, (): ()| {
        let t = store.data_mut().ctx().ctx.clocks.wall.now();
        Ok((Instant { seconds: t.as_secs() as i64, nanoseconds: t.subsec_nanos() },))
    })?;
    system.func_wrap("get-resolution", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().ctx().ctx.clocks.wall.resolution().as_nanos() as u64,))
    })?;
    Ok(())
}

/// Defines `wasi:filesystem` 0.3 (`types` and `preopens`), over the same descriptors and
/// preopens as WASI 0.2's.
pub fn add_filesystem_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    filesystem::add_types(&mut interface(linker, "wasi:filesystem/types")?)?;
    filesystem::add_preopens(&mut interface(linker, "wasi:filesystem/preopens")?)
}

/// Defines `wasi:sockets` 0.3 (`types` and `ip-name-lookup`), over the same sockets and
/// network policy as WASI 0.2's.
pub fn add_sockets_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    sockets::add_types(&mut interface(linker, "wasi:sockets/types")?)?;
    sockets::add_ip_name_lookup(&mut interface(linker, "wasi:sockets/ip-name-lookup")?)
}

/// Defines `wasi:random` 0.3.
pub fn add_random_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> weld::Result<()> {
    let mut random = interface(linker, "wasi:random/random")?;
    random.func_wrap("get-random-bytes", |mut store: StoreContextMut<'_, T>, (len,): (u64,)| {
        Ok((store.data_mut().ctx().ctx.random.bytes(true, len)?,))
    })?;
    random.func_wrap("get-random-u64", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().ctx().ctx.random.secure.next_u64(),))
    })?;
    let mut insecure = interface(linker, "wasi:random/insecure")?;
    insecure.func_wrap("get-insecure-random-bytes", |mut store: StoreContextMut<'_, T>, (len,): (u64,)| {
        Ok((store.data_mut().ctx().ctx.random.bytes(false, len)?,))
    })?;
    insecure.func_wrap("get-insecure-random-u64", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().ctx().ctx.random.insecure.next_u64(),))
    })?;
    interface(linker, "wasi:random/insecure-seed")?.func_wrap(
        "get-insecure-seed",
        |mut store: StoreContextMut<'_, T>, (): ()| {
            let seed = store.data_mut().ctx().ctx.random.insecure_seed;
            Ok(((seed as u64, (seed >> 64) as u64),))
        },
    )?;
    Ok(())
}

/// Writes what a guest writes to stdout or stderr to the context's stream; its future
/// learns the outcome when the guest ends the stream (this is dropped) or a write fails.
struct OutputConsumer {
    output: Box<dyn OutputStream>,
    report: oneshot::Reporter<ErrorCode>,
}

impl<D> StreamConsumer<D> for OutputConsumer {
    type Item = u8;

    fn poll_consume(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let mut bytes = Vec::new();
        source.read(store, &mut bytes)?;
        match self.output.write(bytes).and_then(|()| self.output.flush()) {
            Ok(()) => Poll::Ready(Ok(StreamResult::Completed)),
            Err(e) => {
                let code = if matches!(e, StreamError::Closed) { ErrorCode::Pipe } else { ErrorCode::Io };
                self.report.finish(Err(code))
            }
        }
    }
}

/// Gives a guest reading stdin what the context's stdin has, blocking the thread while it
/// has nothing yet; its future learns the outcome when stdin ends or fails.
struct InputProducer {
    input: Box<dyn InputStream>,
    report: oneshot::Reporter<ErrorCode>,
}

impl<D> StreamProducer<D> for InputProducer {
    type Item = u8;

    fn poll_produce(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<'_, D>,
        mut destination: Destination<'_, u8>,
        _: bool,
    ) -> Poll<weld::Result<StreamResult>> {
        let room = destination.remaining(&mut store).max(1);
        loop {
            match self.input.read(room) {
                Ok(bytes) if bytes.is_empty() => crate::poll::block_until(self.input.readiness())?,
                Ok(mut bytes) => {
                    destination.write(&mut store, &mut bytes)?;
                    return Poll::Ready(Ok(StreamResult::Completed));
                }
                Err(e) => {
                    let outcome = if matches!(e, StreamError::Closed) { Ok(()) } else { Err(ErrorCode::Io) };
                    return self.report.finish(outcome);
                }
            }
        }
    }
}
