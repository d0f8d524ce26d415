//! `weld serve` with a real HTTP client (hyper's) on loopback: the C handlers of
//! tests/http-guests (echo of method, path, headers and body; a streamed body; traps; an
//! outgoing request) and a wasi:http component built by another toolchain (runwasi's
//! `fetch_rs`, Rust with the Spin SDK).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The directory of the test guests.
fn guest(name: &str) -> String {
    format!("{}/tests/http-guests/{name}.wasm", env!("CARGO_MANIFEST_DIR"))
}

/// A running `weld serve`, killed when dropped. Its log is what it and its guests print.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `weld serve ARGS... FILE` on a free loopback port and waits until it listens.
    pub(crate) fn start(file: &str, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_weld"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .arg(file)
            .env("XDG_CACHE_HOME", crate::test_cache_home())
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("weld serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("Serving HTTP on http://") {
                    let _ = tx.send(rest.trim_end_matches('/').parse::<SocketAddr>().ok());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Some(addr)) => Server { child, addr, log },
            _ => {
                let _ = child.kill();
                panic!("weld serve did not start listening: {}", log.lock().unwrap());
            }
        }
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until the server's log contains `text`.
    fn wait_for_log(&self, text: &str) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if self.log().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// The server's peak resident memory (VmHWM), in bytes.
    pub(crate) fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response read whole: head, body and trailers (or the error that cut the body short).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Result<Vec<u8>, String>,
    pub(crate) trailers: Option<http::HeaderMap>,
}

pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// Sends `request` to `addr` over a new connection with hyper's client.
pub(crate) fn send(addr: SocketAddr, request: http::Request<Body>) -> Reply {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .max_headers(1000)
            .handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let response = tokio::time::timeout(Duration::from_secs(120), sender.send_request(request))
            .await
            .expect("the response comes in time")
            .expect("the response arrives");
        let (parts, mut body) = response.into_parts();
        let mut data = Vec::new();
        let mut trailers = None;
        let mut error = None;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => match frame.into_data() {
                    Ok(d) => data.extend_from_slice(&d),
                    Err(frame) => trailers = frame.into_trailers().ok(),
                },
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        Reply { status: parts.status.as_u16(), headers: parts.headers, body: error.map_or(Ok(data), Err), trailers }
    })
}

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

pub(crate) fn get(addr: SocketAddr, path: &str) -> Reply {
    let request = http::Request::get(path).header("host", addr.to_string()).body(full(Bytes::new())).unwrap();
    send(addr, request)
}

#[test]
fn echo_returns_method_path_headers_and_body() {
    let server = Server::start(&guest("echo"), &[]);
    let mut request = http::Request::post("/some/path?q=1&r=two").header("host", server.addr.to_string());
    for i in 0..300 {
        request = request.header(format!("x-header-{i}"), format!("value {i}"));
    }
    let reply =
        send(server.addr, request.header("x-twice", "a").header("x-twice", "b").body(full("the body")).unwrap());
    assert_eq!(reply.status, 200, "{}", server.log());
    assert_eq!(reply.headers["x-echo-method"], "POST");
    assert_eq!(reply.headers["x-echo-path"], "/some/path?q=1&r=two");
    for i in 0..300 {
        assert_eq!(reply.headers[format!("x-header-{i}").as_str()], format!("value {i}").as_str());
    }
    let twice: Vec<_> = reply.headers.get_all("x-twice").iter().collect();
    assert_eq!(twice, ["a", "b"]);
    assert_eq!(reply.body.unwrap(), b"the body");
}

/// The byte at `offset` of the streamed test bodies.
pub(crate) fn pattern(offset: u64) -> u8 {
    (offset % 251) as u8
}

/// 64 MiB streams through the echo handler, both ways at once, and the server's peak memory
/// stays far below the body's size.
#[test]
fn a_64_mib_body_streams_through_in_bounded_memory() {
    const SIZE: u64 = 64 << 20;
    const CHUNK: u64 = 256 << 10;
    let server = Server::start(&guest("echo"), &[]);
    let before = server.peak_rss();
    let body = PatternBody { next: 0, size: SIZE, chunk: CHUNK, trailers: None }.boxed();
    let request = http::Request::post("/").header("host", server.addr.to_string()).body(body).unwrap();
    let reply = send(server.addr, request);
    assert_eq!(reply.status, 200, "{}", server.log());
    let body = reply.body.unwrap();
    assert_eq!(body.len() as u64, SIZE);
    assert!(body.iter().enumerate().all(|(i, b)| *b == pattern(i as u64)), "the echoed bytes differ");
    let peak = server.peak_rss();
    eprintln!("weld serve peak RSS: {} MiB before, {} MiB after echoing 64 MiB", before >> 20, peak >> 20);
    assert!(
        peak < before + (24 << 20),
        "peak RSS {} MiB after streaming 64 MiB (was {} MiB)",
        peak >> 20,
        before >> 20
    );
}

/// A body of `size` bytes of [`pattern`], made a chunk at a time as hyper asks for it, with
/// `trailers` at the end.
pub(crate) struct PatternBody {
    pub(crate) next: u64,
    pub(crate) size: u64,
    pub(crate) chunk: u64,
    pub(crate) trailers: Option<http::HeaderMap>,
}

impl http_body::Body for PatternBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        if this.next < this.size {
            let end = (this.next + this.chunk).min(this.size);
            let chunk: Vec<u8> = (this.next..end).map(pattern).collect();
            this.next = end;
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(chunk)))));
        }
        std::task::Poll::Ready(this.trailers.take().map(|t| Ok(http_body::Frame::trailers(t))))
    }
}

/// Trailers sent with a request come back as the response's trailers (a client must say it
/// accepts them with `te: trailers`).
#[test]
fn trailers_come_back() {
    let server = Server::start(&guest("echo"), &[]);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-checksum", "12345".parse().unwrap());
    trailers.insert("x-count", "3".parse().unwrap());
    let body = PatternBody { next: 0, size: 100_000, chunk: 4096, trailers: Some(trailers) }.boxed();
    let request = http::Request::post("/")
        .header("host", server.addr.to_string())
        .header("te", "trailers")
        .header("trailer", "x-checksum, x-count")
        .body(body)
        .unwrap();
    let reply = send(server.addr, request);
    assert_eq!(reply.status, 200, "{}", server.log());
    assert_eq!(reply.body.unwrap().len(), 100_000);
    let trailers = reply.trailers.expect("the response has trailers");
    assert_eq!(trailers["x-checksum"], "12345");
    assert_eq!(trailers["x-count"], "3");
}

/// A handler that traps before answering gets its client a 500, the error is logged, and the
/// server goes on serving; one that traps after sending the head cuts the body short.
#[test]
fn a_trapping_handler_gets_a_500_and_the_next_request_is_served() {
    let server = Server::start(&guest("trap"), &[]);
    let reply = get(server.addr, "/trap");
    assert_eq!(reply.status, 500);
    assert!(server.wait_for_log("unreachable"), "the trap is logged: {}", server.log());
    let reply = get(server.addr, "/fine");
    assert_eq!((reply.status, reply.body.unwrap()), (200, b"ok\n".to_vec()), "{}", server.log());
    let reply = get(server.addr, "/trap-after-headers");
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_err(), "a body cut short by a trap must not look complete");
    for _ in 0..3 {
        assert_eq!(get(server.addr, "/fine").status, 200);
    }
}

/// Sends raw bytes on a new connection and returns what comes back before the server closes
/// it (or a second passes).
fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn malformed_requests_get_400_and_no_crash() {
    let server = Server::start(&guest("hello"), &[]);
    let bad: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nHost: x\r\nthis line has no colon\r\n\r\n",
        b"\x00\x01\x02 nonsense\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"GET /\xff HTTP/9.9\r\n\r\n",
    ];
    for request in bad {
        let answer = raw(server.addr, request);
        assert!(answer.starts_with("HTTP/1.1 400"), "{request:?} got {answer:?}");
    }
    let answer = raw(server.addr, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("hello, world\n"), "{answer:?}");
}

#[test]
fn a_body_that_comes_after_the_head_is_waited_for() {
    // The server moves a body that came with the head before it starts the guest; one that
    // comes later (here 300 ms, past that wait) is read by the guest as it arrives.
    let server = Server::start(&guest("echo"), &[]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
        .write_all(b"POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(b"world").unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    let answer = String::from_utf8_lossy(&out);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    assert_eq!(
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() },
        "helloworld",
        "{answer:?}"
    );
    // The server goes on: a request with no body at all.
    let reply = get(server.addr, "/no-body");
    assert_eq!(reply.status, 200);
}

/// The data of a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut data = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("a hexadecimal chunk size");
        if size == 0 {
            return data;
        }
        data.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

/// A loopback HTTP server that answers every request with `body` followed by the request
/// line it received, on its own thread.
fn origin(body: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100) {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head);
            let body = format!("{body}: {}", head.lines().next().unwrap_or(""));
            let answer =
                format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    addr
}

fn fetch(server: &Server, authority: &str) -> Reply {
    let request = http::Request::get("/")
        .header("host", server.addr.to_string())
        .header("x-fetch-authority", authority)
        .header("x-fetch-path", "/resource")
        .body(full(Bytes::new()))
        .unwrap();
    send(server.addr, request)
}

/// Outgoing requests are denied unless `-S allow-http` names the authority (or
/// `-S inherit-network` allows all).
#[test]
fn outgoing_requests_are_allowed_and_denied() {
    let allowed = origin("from the origin");
    let other = origin("never reached");
    let server = Server::start(&guest("fetch"), &["-S", &format!("allow-http={allowed}")]);
    let reply = fetch(&server, &allowed.to_string());
    assert_eq!(reply.status, 200, "{}", server.log());
    assert_eq!(reply.headers["x-fetch-status"], "200");
    assert_eq!(String::from_utf8(reply.body.unwrap()).unwrap(), "from the origin: GET /resource HTTP/1.1");
    let reply = fetch(&server, &other.to_string());
    assert_eq!(reply.status, 502);
    assert_eq!(String::from_utf8(reply.body.unwrap()).unwrap().trim_end(), "HTTP-request-denied");
    drop(server);

    let server = Server::start(&guest("fetch"), &[]);
    assert_eq!(fetch(&server, &allowed.to_string()).status, 502, "denied by default");
    drop(server);
    let server = Server::start(&guest("fetch"), &["-S", "inherit-network"]);
    assert_eq!(fetch(&server, &other.to_string()).body.unwrap(), b"never reached: GET /resource HTTP/1.1");
}

/// A body the guest writes in chunks arrives whole.
#[test]
fn a_streamed_response_body_arrives_whole() {
    let server = Server::start(&guest("stream"), &[]);
    let reply = get(server.addr, "/?n=5000000");
    assert_eq!(reply.status, 200, "{}", server.log());
    let body = reply.body.unwrap();
    assert_eq!(body.len(), 5_000_000);
    assert!(body.iter().enumerate().all(|(i, b)| *b == pattern(i as u64)));
}

/// runwasi's `fetch_rs` (Rust, Spin SDK, WASI 0.2.0) answers a request.
#[test]
fn a_spin_sdk_handler_is_served() {
    let file = format!(
        "{}/../shared/components/runwasi/crates__containerd-shim-wasm-test-modules__src__modules__fetch_rs.wasm",
        env!("CARGO_MANIFEST_DIR")
    );
    if !std::path::Path::new(&file).exists() {
        eprintln!("skipped: {file} is not here");
        return;
    }
    let server = Server::start(&file, &[]);
    let reply = get(server.addr, "/");
    assert_eq!(reply.status, 200, "{}", server.log());
    assert!(server.wait_for_log("Received request"), "{}", server.log());
}

/// SIGTERM stops the server: it stops accepting, and exits once its connections are done.
#[test]
fn sigterm_shuts_the_server_down() {
    let mut server = Server::start(&guest("hello"), &[]);
    assert_eq!(get(server.addr, "/").status, 200);
    let killed = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "still running 20 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}: {}", server.log());
    std::thread::sleep(Duration::from_millis(100));
    assert!(server.log().contains("SIGTERM"), "{}", server.log());
    assert!(TcpStream::connect(server.addr).is_err(), "still accepting connections");
}
