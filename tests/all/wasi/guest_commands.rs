//! The command-line cases of the C guests in `tests/wasi-guests` (hello, cli, the wasi:io
//! cases of wasi-direct, sockets), run as `weld run` with the very command line `EXPECTED.md`
//! records for Wasmtime 48, in the same environment (`PATH` and `HOST_VAR=from-host` only),
//! and compared with what Wasmtime printed. Servers and clients are on the loopback, and
//! every wait is bounded.

use super::guests::{Fixture, expected, guests};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The command line `EXPECTED.md` gives for `title`, after `wasmtime run`, split into words
/// as the shell would (`\ ` and `''` are the only quoting it uses), with `$P` and `$PORT`
/// replaced and a trailing `&` or `< FILE` dropped.
fn command_line(title: &str, p: &str, port: &str) -> Vec<String> {
    let text = std::fs::read_to_string(guests().join("EXPECTED.md")).unwrap();
    let start = text.find(&format!("\n### {title}\n")).unwrap_or_else(|| panic!("no case {title:?}"));
    let line = text[start..].lines().find(|l| l.starts_with("wasmtime run")).unwrap();
    let line = line.trim_start_matches("wasmtime run").replace("$PORT", port).replace("$P", p);
    let line = line.split(" < ").next().unwrap().trim_end_matches(" &");
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(word.take()),
            '\\' => word.get_or_insert_default().extend(chars.next()),
            '\'' => {
                let quoted: String = chars.by_ref().take_while(|&c| c != '\'').collect();
                word.get_or_insert_default().push_str(&quoted);
            }
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// Starts `weld run ARGS` in `tests/wasi-guests` with run-cases.sh's environment.
fn spawn(args: &[String]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_weld"))
        .arg("run")
        .args(args)
        .current_dir(guests())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOST_VAR", "from-host")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weld starts")
}

/// Runs the case `title` with `stdin`; its status, stdout and stderr, with `p` and `port`
/// shown as `$P` and `$PORT`.
fn run_case(title: &str, p: &str, port: &str, stdin: &[u8]) -> (i32, String, String) {
    let mut child = spawn(&command_line(title, p, port));
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let hide = |b: &[u8]| {
        let mut text = String::from_utf8_lossy(b).into_owned();
        for (value, shown) in [(p, "$P"), (port, "$PORT")] {
            if !value.is_empty() {
                text = text.replace(value, shown);
            }
        }
        text
    };
    (out.status.code().unwrap_or(-1), hide(&out.stdout), hide(&out.stderr))
}

#[test]
fn hello_and_cli_cases_print_what_they_print_under_wasmtime() {
    let fixture = Fixture::new();
    std::fs::create_dir_all(fixture.0.join("out")).unwrap();
    let p = fixture.0.display().to_string();
    let cases: &[(&str, &[u8])] = &[
        ("hello, with --dir and --env", b""),
        ("hello, no --dir", b""),
        ("cli args", b""),
        ("cli env: --env NAME=VALUE", b""),
        ("cli env: --env NAME takes the host's value", b""),
        ("cli env: none", b""),
        ("cli env: -S inherit-env", b""),
        ("cli exit 0", b""),
        ("cli exit 3", b""),
        ("cli exit 255", b""),
        ("cli libc-exit 0", b""),
        ("cli libc-exit 3", b""),
        ("cli cat", b"line one\nline two\n"),
        ("cli cat, empty stdin", b""),
        ("cli stderr", b""),
        ("cli clock", b""),
        ("cli random", b""),
        ("cli, no case (usage)", b""),
    ];
    for (title, stdin) in cases {
        let mut got = run_case(title, &p, "", stdin);
        let mut want = expected(title);
        if *title == "hello, no --dir" {
            // wasi-libc's own message, the same under both.
            assert!(got.2.contains("cannot create /out/hello.txt"), "{title}: {}", got.2);
            (got.2, want.2) = (String::new(), String::new());
        }
        assert_eq!(got, want, "{title}");
    }
    assert_eq!(std::fs::read_to_string(fixture.0.join("out/hello.txt")).unwrap(), "Hello from a WASI 0.2 component!\n");
}

#[test]
fn wasi_io_cases_behave_as_under_wasmtime() {
    let fixture = Fixture::new();
    let p = fixture.0.display().to_string();
    for title in ["wasi-direct poll-mixed", "wasi-direct poll-timeout"] {
        assert_eq!(run_case(title, &p, "", b""), expected(title), "{title}");
    }
    // 1 MiB through check-write/write/flush and through blocking-write-and-flush.
    let (status, stdout, stderr) = run_case("wasi-direct write-budget", &p, "", b"");
    assert_eq!((status, stderr.as_str()), (0, ""));
    assert_eq!(stdout.len(), 1_048_710);
    assert!(stdout.starts_with("write-budget: 1048576 payload bytes follow\naaaa"), "{}", &stdout[..80]);
    assert!(
        stdout
            .ends_with("wrote 1048576 bytes: 524288 by check-write/write/flush, 524288 by blocking-write-and-flush\n")
    );
    // The guest's misuse stops it, after what it printed before; the message is weld's own.
    let cases = [
        ("wasi-direct drop-stream-with-pollable", "the resource still has children"),
        ("wasi-direct blocking-write-4097", "4097 bytes, more than the 4096 wasi:io/streams allows"),
    ];
    for (title, why) in cases {
        let (status, stdout, stderr) = run_case(title, &p, "", b"");
        let want = expected(title);
        assert_eq!((status, stdout), (want.0, want.1), "{title}");
        assert!(stderr.contains(why), "{title}: {stderr}");
    }
}

/// A loopback TCP echo server for one connection, on `host`; its port, or `None` when the
/// address family is not available here.
fn tcp_echo_server(host: &str) -> Option<(u16, std::thread::JoinHandle<()>)> {
    let listener = TcpListener::bind((host, 0)).ok()?;
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        if let Ok((mut conn, _)) = listener.accept() {
            conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = [0; 1024];
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 || conn.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    Some((port, server))
}

#[test]
fn socket_cases_behave_as_under_wasmtime() {
    let (port, server) = tcp_echo_server("127.0.0.1").unwrap();
    let title = "sockets tcp-echo-client, -S inherit-network";
    assert_eq!(run_case(title, "", &port.to_string(), b""), expected(title), "{title}");
    server.join().unwrap();
    match tcp_echo_server("::1") {
        Some((port, server)) => {
            let title = "sockets tcp-echo-client over IPv6, -S inherit-network";
            assert_eq!(run_case(title, "", &port.to_string(), b""), expected(title), "{title}");
            server.join().unwrap();
        }
        None => eprintln!("skipped the IPv6 echo: this machine has no ::1"),
    }
    // Refusals, and a closed port.
    for title in [
        "sockets tcp-echo-client, no network flags",
        "sockets tcp-echo-client, -S inherit-network -S tcp=n",
        "sockets tcp-echo-server, no network flags",
        "sockets udp-echo-client, no network flags",
        "sockets udp-echo-client, -S inherit-network -S udp=n",
        "sockets lookup localhost, -S allow-ip-name-lookup",
        "sockets lookup localhost, -S inherit-network -S allow-ip-name-lookup",
        "sockets lookup localhost, no flags",
        "sockets lookup 127.0.0.1 (an IP literal), -S allow-ip-name-lookup",
        "sockets lookup of a name that does not resolve, -S allow-ip-name-lookup",
    ] {
        assert_eq!(run_case(title, "", "", b""), expected(title), "{title}");
    }
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let title = "sockets tcp-echo-client to a closed port";
    assert_eq!(run_case(title, "", &closed.to_string(), b""), expected(title), "{title}");

    // UDP: one datagram echoed.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let port = udp.local_addr().unwrap().port();
    let echo = std::thread::spawn(move || {
        let mut buf = [0; 1024];
        if let Ok((n, from)) = udp.recv_from(&mut buf) {
            udp.send_to(&buf[..n], from).unwrap();
        }
    });
    let title = "sockets udp-echo-client, -S inherit-network";
    assert_eq!(run_case(title, "", &port.to_string(), b""), expected(title), "{title}");
    echo.join().unwrap();

    // The guest as a server: it says where it listens, a host client is echoed.
    let title = "sockets tcp-echo-server, -S inherit-network";
    let mut child = spawn(&command_line(title, "", ""));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let port = first.trim().rsplit(':').next().unwrap().to_string();
    let mut client = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    client.write_all(b"ping weld\n").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut echoed = Vec::new();
    client.read_to_end(&mut echoed).unwrap();
    assert_eq!(echoed, b"ping weld\n");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap().code();
    let want = expected(title);
    assert_eq!(Some(want.0), status);
    assert_eq!((first + &rest).replace(&port, "$PORT"), want.1);
}
