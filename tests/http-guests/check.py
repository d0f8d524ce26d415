#!/usr/bin/env python3
"""Runs the wasi:http test guests under an HTTP server and checks what README.md says
they do: an end-to-end check of a wasi:http host, over real HTTP on the loopback.

    tests/http-guests/check.py --serve 'target/release/weld serve --addr 127.0.0.1:{port} {wasm}'
    tests/http-guests/check.py --serve 'npx --prefix /tmp/jco jco serve --port {port} {wasm}' \\
        --skip echo-multi-value,echo-trailers,echo-method-other,trap-survives

--serve is a shell command line with {wasm} (the guest's path) and {port} (a free loopback
port) in it: check.py starts it once per guest (again after it dies), waits up to
--start-timeout seconds for the port to accept connections, runs that guest's cases, and
ends it (its process group, which check.py made); a failed case also restarts it. The
server's output goes to $TMPDIR/http-guests-PID.log. Cases can be left out by name (--skip)
and guests chosen with --only. For fetch, check.py runs the upstream HTTP server itself on
127.0.0.1; with --fetch-denied the server under test is expected to deny outgoing requests,
so every fetch must answer 502 HTTP-request-denied.

Prints PASS/FAIL/SKIP per case and ends with "N passed, N failed, N skipped"; the exit
status is 1 if a case failed. Python 3 standard library only.
"""
import argparse
import hashlib
import http.client
import http.server
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
http.client._MAXHEADERS = 1000  # echo-100-headers gets more than http.client's default 100 back


class CheckFailed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


def pattern(n, start=0):
    """Bytes start..start+n of stream.wasm's body: byte i is i % 251."""
    one = bytes(range(251))
    reps = (start % 251 + n) // 251 + 1
    return (one * reps)[start % 251:start % 251 + n]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The server under test for one guest, started from --serve."""

    def __init__(self, template, wasm, timeout):
        self.template, self.wasm, self.timeout = template, wasm, timeout
        self.proc = None
        self.port = None

    def start(self):
        self.port = free_port()
        cmd = self.template.replace("{wasm}", shlex.quote(self.wasm)).replace("{port}", str(self.port))
        self.log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"http-guests-{os.getpid()}.log"), "ab")
        self.proc = subprocess.Popen(cmd, shell=True, stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CheckFailed(f"server exited with {self.proc.returncode} before listening: {cmd}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise CheckFailed(f"server not listening on {self.port} after {self.timeout} s: {cmd}")

    def alive(self):
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
            return True
        except OSError:
            return False

    def ensure(self):
        time.sleep(0.2)  # lets a server that dies in a case's aftermath die before the check
        if not self.alive():
            self.stop()
            self.start()

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group this process leads
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
            self.proc = None
            self.log.close()


def request(server, method, path, headers=None, body=None, timeout=60):
    """One request on a new connection: (status, list of (name, value), body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, [(k.lower(), v) for k, v in resp.getheaders()], data
    finally:
        conn.close()


def header(headers, name):
    values = [v for k, v in headers if k == name]
    return values[0] if values else None


def raw_chunked_exchange(port, head, chunks, trailers, timeout=30):
    """Sends a chunked request with trailers on a raw socket; returns (status, headers,
    body, trailers) of a chunked or content-length response."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = head.encode()
    for c in chunks:
        out += b"%x\r\n%s\r\n" % (len(c), c)
    out += b"0\r\n" + b"".join(b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in trailers) + b"\r\n"
    s.sendall(out)
    f = s.makefile("rb")
    status = int(f.readline().split()[1])
    headers = []
    while (line := f.readline().rstrip(b"\r\n")):
        k, v = line.split(b":", 1)
        headers.append((k.decode().lower(), v.strip().decode()))
    body, got_trailers = b"", []
    if (header(headers, "transfer-encoding") or "").lower() == "chunked":
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                break
            body += f.read(size)
            f.readline()
        while (line := f.readline().rstrip(b"\r\n")):
            k, v = line.split(b":", 1)
            got_trailers.append((k.decode().lower(), v.strip().decode()))
    else:
        body = f.read(int(header(headers, "content-length") or 0))
    s.close()
    return status, headers, body, got_trailers


# ---- the cases ----------------------------------------------------------------------------


def hello_cases(srv, args):
    def get():
        st, h, b = request(srv, "GET", "/")
        expect(st == 200, f"status {st}")
        expect(header(h, "content-type") == "text/plain", f"content-type {header(h, 'content-type')!r}")
        expect(b == b"hello, world\n", f"body {b!r}")

    def post():
        st, h, b = request(srv, "POST", "/anything?x=1", body=b"ignored" * 1000)
        expect((st, b) == (200, b"hello, world\n"), f"{st} {b!r}")

    def keepalive():
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        for i in range(200):
            conn.request("GET", f"/{i}")
            r = conn.getresponse()
            b = r.read()
            expect((r.status, b) == (200, b"hello, world\n"), f"request {i}: {r.status} {b!r}")
        conn.close()

    return [("hello-get", get), ("hello-post", post), ("hello-keepalive-200", keepalive)]


def echo_cases(srv, args):
    def basic():
        st, h, b = request(srv, "GET", "/p/a?q=1&r=two", headers={"x-a": "1", "X-Mixed-Case": "Value"})
        expect(st == 200, f"status {st}")
        expect(header(h, "x-echo-method") == "GET", f"x-echo-method {header(h, 'x-echo-method')!r}")
        expect(header(h, "x-echo-path") == "/p/a?q=1&r=two", f"x-echo-path {header(h, 'x-echo-path')!r}")
        expect(header(h, "x-a") == "1", f"x-a {header(h, 'x-a')!r}")
        expect(header(h, "x-mixed-case") == "Value", f"x-mixed-case {header(h, 'x-mixed-case')!r}")
        expect(b == b"", f"body {b[:50]!r}")

    def many_headers():
        sent = {f"x-h-{i}": f"value {i} " + "v" * (i % 50 + 1) for i in range(100)}
        st, h, b = request(srv, "POST", "/many", headers=sent, body=b"x")
        expect(st == 200, f"status {st}")
        for k, v in sent.items():
            expect(header(h, k) == v, f"{k}: {header(h, k)!r}, sent {v!r}")
        expect(b == b"x", f"body {b!r}")

    def multi_value():
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.putrequest("GET", "/dup")
        conn.putheader("x-dup", "one")
        conn.putheader("x-dup", "two")
        conn.endheaders()
        r = conn.getresponse()
        r.read()
        got = [v for k, v in r.getheaders() if k.lower() == "x-dup"]
        conn.close()
        expect(got == ["one", "two"] or got == ["one, two"], f"x-dup values {got!r}")

    def method_other():
        st, h, b = request(srv, "FROB", "/m", body=b"")
        expect((st, header(h, "x-echo-method")) == (200, "FROB"), f"{st} x-echo-method {header(h, 'x-echo-method')!r}")

    def big_body():
        # Full duplex, as an echo needs: one thread sends the body while this one reads
        # the response (http.client would send it all first, and a streaming echo
        # would stall once the unread response filled the socket buffers).
        data = os.urandom(args.echo_mib * 1024 * 1024)
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=300)
        head = (f"PUT /big HTTP/1.1\r\nhost: 127.0.0.1:{srv.port}\r\ncontent-length: {len(data)}\r\n"
                "connection: close\r\n\r\n").encode()
        sender = threading.Thread(target=lambda: sock.sendall(head + data), daemon=True)
        sender.start()
        resp = http.client.HTTPResponse(sock)
        try:
            resp.begin()
            b = resp.read()
        finally:
            sender.join(60)
            sock.close()
        expect(resp.status == 200, f"status {resp.status}")
        expect(len(b) == len(data), f"{len(b)} bytes back of {len(data)}")
        expect(hashlib.sha256(b).digest() == hashlib.sha256(data).digest(), "body differs")

    def chunked_body():
        head = f"POST /chunked HTTP/1.1\r\nhost: 127.0.0.1:{srv.port}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        chunks = [pattern(1000), pattern(70000, 1000), b"end"]
        st, h, body, tr = raw_chunked_exchange(srv.port, head, chunks, [])
        expect(st == 200, f"status {st}")
        expect(body == b"".join(chunks), f"body: {len(body)} bytes, differs")

    def trailers():
        head = (f"POST /trailers HTTP/1.1\r\nhost: 127.0.0.1:{srv.port}\r\ntransfer-encoding: chunked\r\n"
                "te: trailers\r\ntrailer: x-checksum, x-other\r\nconnection: close\r\n\r\n")
        st, h, body, tr = raw_chunked_exchange(srv.port, head, [b"hello ", b"trailers"],
                                               [("x-checksum", "abc123"), ("x-other", "2")])
        expect(st == 200, f"status {st}")
        expect(body == b"hello trailers", f"body {body!r}")
        expect(("x-checksum", "abc123") in tr and ("x-other", "2") in tr, f"trailers {tr!r}")

    return [("echo-basic", basic), ("echo-100-headers", many_headers), ("echo-multi-value", multi_value),
            ("echo-method-other", method_other), ("echo-big-body", big_body), ("echo-chunked-body", chunked_body),
            ("echo-trailers", trailers)]


def trap_cases(srv, args):
    def ok():
        st, h, b = request(srv, "GET", "/ok?x")
        expect((st, b) == (200, b"ok\n"), f"{st} {b!r}")

    def trap():
        try:
            st, h, b = request(srv, "GET", "/trap", timeout=30)
        except (ConnectionError, http.client.HTTPException) as e:
            raise CheckFailed(f"no response ({e.__class__.__name__}); a host should answer 500 itself")
        expect(500 <= st <= 599, f"status {st}, want 5xx")

    def after_headers():
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        try:
            conn.request("GET", "/trap-after-headers")
            r = conn.getresponse()
            if r.status >= 500:
                return  # the host had not sent the head yet: a 5xx is right too
            expect(r.status == 200, f"status {r.status}")
            try:
                body = r.read()
            except (http.client.IncompleteRead, ConnectionError) as e:
                body = getattr(e, "partial", b"")
            else:
                raise CheckFailed(f"the body ended cleanly ({body!r}); it must be cut off")
            expect(b"partial body\n".startswith(body), f"partial body {body!r}")
        finally:
            conn.close()

    def survives():
        for path in ("/trap", "/trap-after-headers"):
            try:
                request(srv, "GET", path, timeout=30)
            except Exception:
                pass
            expect(srv.alive(), f"server gone after {path}")
            st, h, b = request(srv, "GET", "/")
            expect((st, b) == (200, b"ok\n"), f"after {path}: {st} {b!r}")

    return [("trap-ok", ok), ("trap-before-response", trap), ("trap-after-headers", after_headers),
            ("trap-survives", survives)]


def stream_cases(srv, args):
    def check(query, n):
        st, h, b = request(srv, "GET", "/" + query, timeout=300)
        expect(st == 200, f"status {st}")
        expect(header(h, "content-type") == "application/octet-stream", f"content-type {header(h, 'content-type')!r}")
        expect(len(b) == n, f"{len(b)} bytes, want {n}")
        expect(b == pattern(n), "pattern differs")

    def bad():
        st, h, b = request(srv, "GET", "/?n=12x")
        expect((st, b) == (400, b"bad n: 12x\n"), f"{st} {b!r}")

    return [("stream-default", lambda: check("", 1048576)), ("stream-0", lambda: check("?n=0", 0)),
            ("stream-1", lambda: check("?x=y&n=1", 1)),
            ("stream-blocking", lambda: check("?n=100000&write=blocking", 100000)),
            ("stream-big", lambda: check(f"?n={args.stream_mib * 1048576}", args.stream_mib * 1048576)),
            ("stream-bad-n", bad)]


class Upstream(http.server.BaseHTTPRequestHandler):
    """fetch's target: /ok, /missing (404) and /big (3 MB of the stream pattern)."""
    protocol_version = "HTTP/1.1"
    paths = []

    def do_GET(self):
        Upstream.paths.append(self.path)
        status, body = {"/ok": (200, b"upstream ok\n"), "/": (200, b"root\n"),
                        "/big": (200, pattern(3_000_000))}.get(self.path, (404, b"nope\n"))
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def fetch_cases(srv, args):
    up = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=up.serve_forever, daemon=True).start()
    auth = f"127.0.0.1:{up.server_address[1]}"

    def fetch(path=None, authority=auth):
        h = {"x-fetch-authority": authority} if authority else {}
        if path is not None:
            h["x-fetch-path"] = path
        return request(srv, "GET", "/", headers=h, timeout=60)

    def relayed(path, status, body):
        def case():
            st, h, b = fetch(path)
            if args.fetch_denied:
                expect((st, header(h, "x-fetch-error"), b) == (502, "HTTP-request-denied", b"HTTP-request-denied\n"),
                       f"{st} x-fetch-error {header(h, 'x-fetch-error')!r} {b[:60]!r}")
                return
            expect(st == 200, f"status {st} {b[:100]!r}")
            expect(header(h, "x-fetch-status") == str(status), f"x-fetch-status {header(h, 'x-fetch-status')!r}")
            expect(b == body, f"body {b[:60]!r} ({len(b)} bytes)")
        return case

    def default_path():
        Upstream.paths.clear()
        relayed(None, 200, b"root\n")()
        expect(args.fetch_denied or Upstream.paths == ["/"], f"upstream saw {Upstream.paths}")

    def refused():
        st, h, b = fetch("/", authority=f"127.0.0.1:{free_port()}")
        name = header(h, "x-fetch-error")
        expect(st == 502 and name and b == (name + "\n").encode(), f"{st} x-fetch-error {name!r} body {b!r}")
        expect(args.fetch_denied or name == "connection-refused", f"x-fetch-error {name!r}, want connection-refused")

    def missing():
        st, h, b = fetch("/", authority=None)
        expect((st, b) == (400, b"missing header x-fetch-authority\n"), f"{st} {b!r}")

    cases = [("fetch-ok", relayed("/ok", 200, b"upstream ok\n")), ("fetch-404", relayed("/missing", 404, b"nope\n")),
             ("fetch-big", relayed("/big", 200, pattern(3_000_000))), ("fetch-default-path", default_path),
             ("fetch-refused", refused), ("fetch-no-authority", missing)]
    return cases, up


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve", required=True, help="server command line with {wasm} and {port}")
    ap.add_argument("--only", default="hello,echo,trap,stream,fetch", help="comma-separated guests")
    ap.add_argument("--skip", default="", help="comma-separated case names to leave out")
    ap.add_argument("--fetch-denied", action="store_true", help="the server denies outgoing requests")
    ap.add_argument("--echo-mib", type=int, default=16, help="echo-big-body size in MiB (default 16)")
    ap.add_argument("--stream-mib", type=int, default=16, help="stream-big size in MiB (default 16)")
    ap.add_argument("--start-timeout", type=float, default=60)
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    passed = failed = skipped = 0
    for guest in filter(None, args.only.split(",")):
        srv = Server(args.serve, os.path.join(HERE, f"{guest}.wasm"), args.start_timeout)
        upstream = None
        try:
            cases = {"hello": hello_cases, "echo": echo_cases, "trap": trap_cases, "stream": stream_cases,
                     "fetch": fetch_cases}[guest](srv, args)
            if guest == "fetch":
                cases, upstream = cases
            for name, case in cases:
                if name in skip:
                    print(f"SKIP {name}")
                    skipped += 1
                    continue
                try:
                    srv.ensure()
                    t = time.monotonic()
                    case()
                    print(f"PASS {name} ({time.monotonic() - t:.2f} s)")
                    passed += 1
                except (CheckFailed, OSError, http.client.HTTPException) as e:
                    print(f"FAIL {name}: {e.__class__.__name__ + ': ' if not isinstance(e, CheckFailed) else ''}{e}")
                    failed += 1
                    srv.stop()  # the next case gets a fresh server
                sys.stdout.flush()
        finally:
            srv.stop()
            if upstream:
                upstream.shutdown()
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
