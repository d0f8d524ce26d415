//! A load test of `weld serve` on loopback, next to `wasmtime serve` when one is given: the
//! hello-world and echo handlers of tests/http-guests at 1, 16 and 64 concurrent connections
//! (HTTP/1.1 keep-alive, one request at a time per connection), reporting requests per second
//! and the p50 and p99 latencies, then three rounds of 100,000 requests to check for errors and
//! leaks (the server's RSS after each).
//!
//! Every run is bounded twice: by a count of requests and by a time limit, whichever comes
//! first. Servers listen on 127.0.0.1 only.
//!
//! `cargo bench --bench serve_load` runs weld only; with `WASMTIME=/path/to/wasmtime` (Wasmtime
//! 48's CLI, e.g. from `cargo install wasmtime-cli@48.0.8 --locked`) it runs the same loads
//! against `wasmtime serve` in the same session. `SERVE_LOAD_REQUESTS` and
//! `SERVE_LOAD_SECONDS` change the bounds of each measured run (default 20,000 and 10 s);
//! `SERVE_LOAD_ONLY=echo/1` runs only the rows whose `handler/connections` contain the text,
//! and skips the leak check.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A server under test, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts `PROGRAM serve --addr 127.0.0.1:PORT FILE` and waits until it answers.
    fn start(program: &str, file: &str) -> Server {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut child = Command::new(program)
            .args(["serve", "--addr", &addr.to_string(), file])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} serve: {e}"));
        // Drain the log so that the server never blocks on a full pipe.
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || for _ in BufReader::new(stderr).lines() {});
        let start = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(start.elapsed() < Duration::from_secs(120), "{program} serve did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { child, addr }
    }

    /// How many file descriptors the server has open.
    fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map_or(0, |d| d.count())
    }

    fn rss(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What one run measured.
struct Outcome {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Outcome {
    fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort_unstable();
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[index]
    }
}

/// Sends up to `count` requests over `connections` keep-alive connections, for at most
/// `limit`, and measures each.
fn load(addr: SocketAddr, connections: usize, count: u64, limit: Duration, body: &'static [u8]) -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async move {
        let issued = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (issued, errors) = (issued.clone(), errors.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
                tokio::spawn(conn);
                while issued.fetch_add(1, Ordering::Relaxed) < count && start.elapsed() < limit {
                    let method = if body.is_empty() { "GET" } else { "POST" };
                    let request = http::Request::builder()
                        .method(method)
                        .uri("/")
                        .header("host", addr.to_string())
                        .body(Full::new(Bytes::from_static(body)))
                        .unwrap();
                    let sent = Instant::now();
                    let ok = match sender.send_request(request).await {
                        Ok(response) => {
                            let ok = response.status() == 200;
                            let collected = response.into_body().collect().await;
                            ok && collected.is_ok_and(|b| b.to_bytes().len() >= body.len())
                        }
                        Err(_) => false,
                    };
                    latencies.push(sent.elapsed());
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    if sender.ready().await.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                latencies
            }));
        }
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.unwrap());
        }
        Outcome {
            requests: latencies.len() as u64,
            errors: errors.load(Ordering::Relaxed),
            elapsed: start.elapsed(),
            latencies,
        }
    })
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; rows are chosen with SERVE_LOAD_ONLY instead.
    let only = std::env::var("SERVE_LOAD_ONLY").ok();
    let guests = format!("{}/tests/http-guests", env!("CARGO_MANIFEST_DIR"));
    let count = env_number("SERVE_LOAD_REQUESTS", 20_000);
    let limit = Duration::from_secs(env_number("SERVE_LOAD_SECONDS", 10));
    let mut engines = vec![("weld", env!("CARGO_BIN_EXE_weld").to_string())];
    if let Ok(wasmtime) = std::env::var("WASMTIME") {
        engines.push(("wasmtime", wasmtime));
    }
    static ECHO_BODY: [u8; 1024] = [b'x'; 1024];
    println!("| handler | connections | engine | requests/s | p50 | p99 | requests | errors |");
    println!("|---|---|---|---|---|---|---|---|");
    for (handler, body) in [("hello", &[][..]), ("echo", &ECHO_BODY[..])] {
        let file = format!("{guests}/{handler}.wasm");
        for connections in [1, 16, 64] {
            if only.as_ref().is_some_and(|o| !format!("{handler}/{connections}").contains(o.as_str())) {
                continue;
            }
            for (name, program) in &engines {
                let server = Server::start(program, &file);
                // Warm up (compile caches, pools, connections), then measure.
                load(server.addr, connections, 500, Duration::from_secs(5), body);
                let mut outcome = load(server.addr, connections, count, limit, body);
                let (p50, p99) = (outcome.percentile(0.5), outcome.percentile(0.99));
                println!(
                    "| {handler} ({} B body) | {connections} | {name} | {:.0} | {:.0} µs | {:.0} µs | {} | {} |",
                    body.len(),
                    outcome.requests as f64 / outcome.elapsed.as_secs_f64(),
                    p50.as_secs_f64() * 1e6,
                    p99.as_secs_f64() * 1e6,
                    outcome.requests,
                    outcome.errors
                );
            }
        }
    }
    // 100,000 requests to one weld server, three times: no error, and the RSS after each
    // round (a leak grows with every round; warm-up does not).
    if only.is_some() {
        return;
    }
    let server = Server::start(env!("CARGO_BIN_EXE_weld"), &format!("{guests}/hello.wasm"));
    load(server.addr, 16, 1000, Duration::from_secs(10), &[]);
    println!(
        "\nweld serve, hello, 16 connections, after warm-up: RSS {:.1} MiB, {} descriptors",
        mib(server.rss("VmRSS:")),
        server.fds()
    );
    for round in 1..=3 {
        let outcome = load(server.addr, 16, 100_000, Duration::from_secs(300), &[]);
        println!(
            "round {round}: {} requests, {} errors, in {:.1} s; RSS {:.1} MiB (peak {:.1} MiB), {} descriptors",
            outcome.requests,
            outcome.errors,
            outcome.elapsed.as_secs_f64(),
            mib(server.rss("VmRSS:")),
            mib(server.rss("VmHWM:")),
            server.fds()
        );
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}
