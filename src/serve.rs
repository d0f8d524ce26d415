//! `weld serve`: serves HTTP with a `wasi:http/incoming-handler` component (WASI 0.2) or a
//! `wasi:http/handler@0.3.0` one (WASI 0.3, `serve_p3.rs`), as `wasmtime serve` does, with its
//! flags (`--addr`, `-O`, `-W`, `-S`, `--dir`, `--env`). What follows is the 0.2 path; the
//! 0.3 one shares the server, the store of each request and its answers to failures.
//!
//! A hyper HTTP/1 server on a multi-threaded tokio runtime accepts connections; every request
//! gets a fresh store and instance, made from one `InstancePre` with the pooling allocator, in
//! a task of its own on the tokio worker that read the request. weld's WASI host is
//! synchronous: most handlers never wait (their request body came with the head, their
//! response fits the body channel) and run to their end there, with no hand-off between
//! threads; a guest about to sleep in `poll(2)` (for more of a body, a clock, an outgoing
//! response) does it inside `block_in_place` (weld-wasi's blocking wrapper), so the worker's
//! other tasks, among them the connection feeding that body, move to another thread. Bodies
//! stream both ways through weld-wasi-http's byte channels; the response is sent as soon as
//! the guest sets it, while the guest may still be writing its body.
//!
//! A guest computing for long holds its worker meanwhile (`-W timeout` bounds it), as file
//! system calls do while the disk answers.
//!
//! A guest that traps, or returns without setting a response, gets its client a 500, and the
//! error is printed; the server goes on. A trap after the response was sent cuts the body
//! short (the connection is closed mid-body, as HTTP requires). Malformed requests are
//! answered by hyper (400) without reaching a guest. SIGINT or SIGTERM stops accepting and
//! waits for the requests in flight (at most [`SHUTDOWN_GRACE`]) before exiting.

use crate::codegen::CodegenOptions;
use crate::options::{HostOptions, RunSettings};
use crate::run::{check_component_imports, component_store, engine_config};
use crate::wasi_host::{HostState, WasiSettings};
use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::service::service_fn;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use weld::component::{Component, Linker};
use weld::{Engine, InstanceAllocationStrategy};
use weld_wasi_http::bindings::ProxyPre;
use weld_wasi_http::channel::BodyError;
use weld_wasi_http::{IncomingRequestParts, WasiHttpView};

/// How long a request's start waits for its body to be buffered (see `handle`).
pub const BODY_HEAD_START: Duration = Duration::from_millis(2);

/// How long a shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How much of each pooled memory and table slot stays resident between requests.
pub const KEEP_RESIDENT: usize = 1 << 20;

/// The most header fields a request may have (hyper's default is 100); more get a 431.
pub const MAX_HEADERS: usize = 1000;

/// `weld serve`'s flags.
#[derive(Args)]
#[command(
    override_usage = "weld serve [OPTIONS] FILE",
    after_help = "Examples:\n  \
    weld serve --addr 127.0.0.1:8080 hello.wasm\n  \
    weld serve -S allow-http=127.0.0.1:9000 proxy.wasm"
)]
pub struct ServeCommand {
    /// The address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, value_name = "SOCKADDR", default_value = "0.0.0.0:8080")]
    addr: SocketAddr,
    /// `-O`, `-W`, `-S`, `--dir` and `--env`, as for `weld run`: `-S cli=n` defines only what
    /// a proxy may import (wasi:http, io, clocks, random, stdio); `-S allow-http=HOST:PORT` and
    /// `-S inherit-network` let the guest send requests.
    #[command(flatten)]
    host: HostOptions,
    /// Compiles without the compile cache.
    #[arg(long)]
    no_cache: bool,
    #[command(flatten)]
    codegen: CodegenOptions,
    /// The component (a .wasm binary or .wat text) exporting `wasi:http/incoming-handler` or
    /// `wasi:http/handler@0.3.0`.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// The handler every request calls, by the WASI version the component serves.
enum Handlers {
    /// `wasi:http/incoming-handler` (0.2).
    P2(ProxyPre<HostState>),
    /// `wasi:http/handler@0.3.0`.
    P3(weld::component::InstancePre<HostState>),
}

/// What every request shares.
struct Server {
    engine: Engine,
    pre: Handlers,
    settings: RunSettings,
    wasi: WasiSettings,
    /// The `--dir` and `--env` options (and the option groups already read).
    host: HostOptions,
    argv0: String,
}

/// The body of every response: the guest's, streaming, or one the server made.
type ServeBody = BoxBody<Bytes, BodyError>;

/// Runs `weld serve`.
pub fn serve(cmd: ServeCommand) -> Result<ExitCode> {
    let wasi = WasiSettings::parse(&cmd.host.wasi)?;
    if wasi.help {
        print!("{}", WasiSettings::help_text());
        return Ok(ExitCode::SUCCESS);
    }
    let settings = RunSettings::parse(&cmd.host.optimize, &cmd.host.wasm)?;
    let mut config = engine_config(&cmd.codegen, &settings, !cmd.no_cache)?;
    // Slots are reused request after request: their first pages stay resident and are
    // zeroed rather than given back to the kernel, whose `madvise` costs every core a TLB
    // flush per request.
    let mut pooling = weld::PoolingAllocationConfig::new();
    pooling.linear_memory_keep_resident(KEEP_RESIDENT).table_keep_resident(KEEP_RESIDENT);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    let engine = Engine::new(&config).context("failed to create the engine")?;
    let file = cmd.file.display();
    let component = load_component(&engine, &cmd.file).with_context(|| format!("failed to compile {file}"))?;

    let mut linker = Linker::<HostState>::new(&engine);
    if wasi.cli { weld_wasi_http::add_to_linker_sync(&mut linker) } else { add_proxy_imports(&mut linker) }
        .context("failed to define WASI in the linker")?;
    add_p3_imports(&mut linker, wasi.cli).context("failed to define WASI 0.3 in the linker")?;
    check_component_imports(&linker, &component, &file)?;
    let p3 = component.get_export_index(None, weld_wasi_http::p3::HANDLER_INTERFACE).is_some();
    let pre = linker.instantiate_pre(&component).with_context(|| format!("failed to prepare {file}"))?;
    let pre = if p3 {
        Handlers::P3(pre)
    } else {
        Handlers::P2(ProxyPre::new(pre).with_context(|| {
            format!("{file} exports neither wasi:http/incoming-handler nor {}", weld_wasi_http::p3::HANDLER_INTERFACE)
        })?)
    };
    let argv0 = cmd.file.file_name().map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned());
    let server = Arc::new(Server { engine, pre, settings, wasi, host: cmd.host, argv0 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("weld-serve")
        // Guests run on the workers: their WASI waits must let the runtime go on elsewhere.
        .on_thread_start(|| weld_wasi::poll::set_blocking_wrapper(Some(|sleep| tokio::task::block_in_place(sleep))))
        .build()
        .context("failed to start the server's threads")?;
    runtime.block_on(accept_loop(server, cmd.addr))?;
    Ok(ExitCode::SUCCESS)
}

/// Reads a component from a binary or text file.
fn load_component(engine: &Engine, path: &std::path::Path) -> Result<Component> {
    let bytes = std::fs::read(path)?;
    if bytes.starts_with(b"\0asm") {
        return Component::new(engine, &bytes);
    }
    let binary = wat::parse_bytes(&bytes)?;
    if !wasmparser::Parser::is_component(&binary) {
        bail!("it is a core module; `weld serve` needs a component exporting wasi:http/incoming-handler");
    }
    Component::new(engine, &binary)
}

/// Defines only what the `wasi:http/proxy` world imports (`-S cli=n`).
fn add_proxy_imports(linker: &mut Linker<HostState>) -> weld::Result<()> {
    weld_wasi::p2::add_io_to_linker(linker)?;
    weld_wasi::p2::add_clocks_to_linker(linker)?;
    weld_wasi::p2::add_random_to_linker(linker)?;
    weld_wasi::p2::add_cli_to_linker(linker)?;
    weld_wasi_http::add_only_http_to_linker_sync(linker)
}

/// Defines WASI 0.3 and its HTTP: everything weld-wasi has, or (`-S cli=n`) what the
/// `wasi:http/service` world imports (clocks, random, cli's stdio, which weld-wasi defines
/// with the rest of cli).
fn add_p3_imports(linker: &mut Linker<HostState>, cli: bool) -> weld::Result<()> {
    if cli {
        weld_wasi::p3::add_to_linker(linker)?;
    } else {
        weld_wasi::p3::add_clocks_to_linker(linker)?;
        weld_wasi::p3::add_random_to_linker(linker)?;
        weld_wasi::p3::add_cli_to_linker(linker)?;
    }
    weld_wasi_http::p3::add_to_linker(linker)
}

/// Accepts connections until SIGINT or SIGTERM, then waits for those in flight.
async fn accept_loop(server: Arc<Server>, addr: SocketAddr) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("failed to listen on {addr}"))?;
    let local = listener.local_addr()?;
    eprintln!("Serving HTTP on http://{local}/");
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of descriptors, a connection reset before accept: keep serving.
                        log::warn!("accepting a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let server = server.clone();
                let service = service_fn(move |request| handle(server.clone(), request));
                let connection = hyper::server::conn::http1::Builder::new()
                    .max_headers(MAX_HEADERS)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        log::debug!("HTTP connection: {e}");
                    }
                });
            }
            signal = &mut shutdown => {
                eprintln!("{signal}: no longer accepting connections; waiting for those open");
                break;
            }
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
            eprintln!("gave up waiting for open connections after {} s", SHUTDOWN_GRACE.as_secs());
        }
    }
    Ok(())
}

/// Resolves with the name of the signal that asks the server to stop.
async fn shutdown_signal() -> &'static str {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                log::warn!("SIGTERM will not stop the server gracefully: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = terminate => "SIGTERM",
    }
}

/// A response the server makes itself.
fn plain(status: http::StatusCode, text: String) -> http::Response<ServeBody> {
    let mut response = http::Response::new(Full::new(Bytes::from(text)).map_err(|never| match never {}).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
    response
}

/// Serves one request: runs the guest in a task of its own and answers with what it sets.
async fn handle(
    server: Arc<Server>,
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<ServeBody>, std::convert::Infallible> {
    if let Handlers::P3(_) = &server.pre {
        return Ok(handle_p3(server, request).await);
    }
    let (parts, pump) = IncomingRequestParts::from_hyper_with_pump(request, http::uri::Scheme::HTTP);
    if let Some(mut pump) = pump {
        // The body is moved here while it comes with the head: the guest then never waits for
        // it, and no task is spawned for it. What is still on its way after a moment, or past
        // what the channel holds, gets a task of its own.
        let moved = tokio::select! {
            biased;
            () = &mut pump => true,
            () = parts.body.filled() => false,
            () = tokio::time::sleep(BODY_HEAD_START) => false,
        };
        if !moved {
            tokio::spawn(pump);
        }
    }
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let guest = tokio::spawn(async move {
        // Errors are printed here, as the client may have had its response already.
        let result = run_guest(&server, parts, sender);
        if let Err(e) = &result {
            crate::report::print_error(e);
        }
        result.is_ok()
    });
    let response = match receiver.await {
        Ok(Ok(response)) => return Ok(response.map(|body| body.boxed())),
        Ok(Err(code)) => plain(http::StatusCode::INTERNAL_SERVER_ERROR, format!("the handler failed: {code:?}\n")),
        Err(_) => {
            match guest.await {
                Ok(true) => eprintln!("error: the handler returned without setting a response"),
                Ok(false) => {}
                Err(e) => eprintln!("error: the handler's task failed: {e}"),
            }
            plain(http::StatusCode::INTERNAL_SERVER_ERROR, "the handler failed; see the server's log\n".into())
        }
    };
    Ok(response)
}

/// Instantiates the component in a new store and calls its handler.
fn run_guest(server: &Server, parts: IncomingRequestParts, sender: weld_wasi_http::ResponseSender) -> Result<()> {
    let Handlers::P2(pre) = &server.pre else { bail!("bug: a WASI 0.3 handler on the WASI 0.2 path") };
    let argv = std::slice::from_ref(&server.argv0);
    let mut store = component_store(&server.engine, &server.settings, &server.wasi, &server.host, argv)?;
    let request = store.data_mut().http().new_incoming_request(parts)?;
    let out = store.data_mut().http().new_response_outparam(sender)?;
    let proxy = pre.instantiate(&mut store).context("failed to instantiate the component")?;
    proxy.wasi_http_incoming_handler().call_handle(&mut store, request, out)
}

/// Makes a store for a WASI 0.3 handler and runs one exchange in it (blocking).
fn run_guest_p3(
    server: &Server,
    request: http::Request<hyper::body::Incoming>,
    sender: crate::serve_p3::ResponseSender,
    runtime: &tokio::runtime::Handle,
) -> Result<()> {
    let Handlers::P3(pre) = &server.pre else { bail!("bug: a WASI 0.2 handler on the WASI 0.3 path") };
    let argv = std::slice::from_ref(&server.argv0);
    let store = component_store(&server.engine, &server.settings, &server.wasi, &server.host, argv)?;
    crate::serve_p3::exchange(store, pre, request, sender, server.settings.timeout, runtime)
}

/// Serves one request with a WASI 0.3 handler: its exchange runs on a blocking thread
/// (`serve_p3.rs`); the answer is the guest's response as soon as it returns one.
async fn handle_p3(server: Arc<Server>, request: http::Request<hyper::body::Incoming>) -> http::Response<ServeBody> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Handle::current();
    let guest = tokio::task::spawn_blocking(move || {
        let result = run_guest_p3(&server, request, sender, &runtime);
        // Errors are printed here, as the client may have had its response already.
        if let Err(e) = &result {
            crate::report::print_error(e);
        }
        result.is_ok()
    });
    match receiver.await {
        Ok(Ok(response)) => response.map(|body| body.map_err(|e| BodyError(e.to_string())).boxed()),
        Ok(Err(code)) => plain(http::StatusCode::INTERNAL_SERVER_ERROR, format!("the handler failed: {code:?}\n")),
        Err(_) => {
            match guest.await {
                Ok(true) => eprintln!("error: the handler returned without a response"),
                Ok(false) => {}
                Err(e) => eprintln!("error: the handler's task failed: {e}"),
            }
            plain(http::StatusCode::INTERNAL_SERVER_ERROR, "the handler failed; see the server's log\n".into())
        }
    }
}
