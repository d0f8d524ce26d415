/*
 * mock/scenarios.h: the scenarios mock/host.c runs, per guest. Each sets up the
 * request and the host's behaviour in `sc`, calls run_handler() (or
 * run_trapping()), and checks what the guest did, with CHECK.
 */

/* Whether fields F have NAME with VALUE (the first such field). */
static bool field_is(int f, const char *name, const char *value) {
    const char *v = field(f, name);
    return v && strcmp(v, value) == 0;
}

static void req_header(const char *name, const char *value) {
    sc.headers[sc.nheaders++] = (header_t){name, value};
}

static bool stderr_has(const char *text) {
    return strstr(rec.stderr_text, text) != NULL;
}

/* ---- hello -------------------------------------------------------------------- */

static bool hello_get(void) {
    sc.method = WASI_HTTP_TYPES_METHOD_POST;
    sc.path = "/anything";
    sc.body = (const uint8_t *)"ignored";
    sc.body_len = 7;
    run_handler();
    if (!responded(200, "hello, world\n"))
        return false;
    CHECK(T[resp_headers()].n == 1, "%zu response headers, want 1", T[resp_headers()].n);
    CHECK(field_is(resp_headers(), "content-type", "text/plain"), "content-type");
    CHECK(T[rec.out_body].trailers == 0, "trailers sent");
    return true;
}

/* ---- echo --------------------------------------------------------------------- */

static bool echo_basic(void) {
    sc.method = WASI_HTTP_TYPES_METHOD_GET;
    sc.path = "/p/a?q=1&r=2";
    req_header("x-a", "1");
    req_header("x-a", "2");
    req_header("content-type", "text/x");
    run_handler();
    if (!responded(200, ""))
        return false;
    obj *h = &T[resp_headers()];
    const char *want[][2] = {{"x-a", "1"}, {"x-a", "2"}, {"content-type", "text/x"}, {"x-echo-method", "GET"},
                             {"x-echo-path", "/p/a?q=1&r=2"}};
    CHECK(h->n == 5, "%zu response headers, want 5", h->n);
    for (size_t i = 0; i < 5; i++)
        CHECK(strcmp(h->e[i].name, want[i][0]) == 0 && h->e[i].len == strlen(want[i][1]) &&
                  memcmp(h->e[i].val, want[i][1], h->e[i].len) == 0,
              "header %zu is %s: %.*s, want %s: %s", i, h->e[i].name, (int)h->e[i].len, (char *)h->e[i].val,
              want[i][0], want[i][1]);
    CHECK(T[rec.out_body].trailers == 0, "trailers sent for a request without");
    return true;
}

static bool echo_forbidden(void) {
    sc.path = "/f";
    req_header("x-ok", "1");
    req_header("x-forbidden", "a");
    req_header("connection", "close");
    run_handler();
    if (!responded(200, ""))
        return false;
    CHECK(field_is(resp_headers(), "x-ok", "1"), "x-ok");
    CHECK(field(resp_headers(), "x-forbidden") == NULL, "x-forbidden copied");
    const char *f = field(resp_headers(), "x-echo-forbidden");
    CHECK(f && strcmp(f, "x-forbidden, connection") == 0, "x-echo-forbidden %s", f ? f : "(absent)");
    return true;
}

static bool echo_invalid_header(void) {
    sc.path = "/i";
    req_header("bad name", "1"); /* the mock's fields.append calls this invalid-syntax */
    run_handler();
    return responded(500, "fields.append bad name: header-error invalid-syntax\n");
}

static bool echo_many_headers(void) {
    static char names[1000][16], values[1000][16];
    sc.path = "/";
    for (int i = 0; i < 1000; i++) {
        snprintf(names[i], 16, "x-h-%d", i);
        snprintf(values[i], 16, "v%d", i * 7);
        req_header(names[i], values[i]);
    }
    run_handler();
    if (!responded(200, ""))
        return false;
    CHECK(T[resp_headers()].n == 1002, "%zu headers, want 1002", T[resp_headers()].n);
    for (int i = 0; i < 1000; i++)
        CHECK(field_is(resp_headers(), names[i], values[i]), "%s", names[i]);
    return true;
}

static bool echo_big_body(void) {
    static const uint64_t budgets[] = {0, 1000, 65536, 4096, 0, 0, 200000, 1};
    size_t n = 5 * 1024 * 1024 + 17;
    uint8_t *body = make_pattern(n);
    sc.method = WASI_HTTP_TYPES_METHOD_PUT;
    sc.path = "/big";
    sc.body = body;
    sc.body_len = n;
    sc.read_max = 100000; /* more than the guest asks for: it must ask for 64 KiB */
    sc.budgets = budgets;
    sc.nbudgets = sizeof budgets / sizeof budgets[0];
    run_handler();
    bool ok = responded(200, NULL);
    size_t len;
    uint8_t *b = resp_body(&len);
    if (ok) {
        CHECK(len == n && is_pattern(b, len), "body: %zu bytes, want %zu of the pattern", len, n);
        CHECK(rec.max_outstanding == 1, "%zu blocking-read lists held at once", rec.max_outstanding);
        CHECK(rec.max_read == 65536, "largest blocking-read %zu, want 65536", rec.max_read);
        CHECK(rec.zero_budgets > 0, "the guest never met a zero budget");
        CHECK(field_is(resp_headers(), "x-echo-method", "PUT"), "x-echo-method");
    }
    free(body);
    return ok;
}

static bool echo_trailers(void) {
    sc.path = "/t";
    sc.method = WASI_HTTP_TYPES_METHOD_POST;
    sc.body = (const uint8_t *)"abc";
    sc.body_len = 3;
    sc.read_max = 1;
    sc.trailers = 2;
    sc.trailer_list[0] = (header_t){"x-checksum", "c0ffee"};
    sc.trailer_list[1] = (header_t){"x-other", "2"};
    sc.ntrailers = 2;
    run_handler();
    if (!responded(200, "abc"))
        return false;
    int t = T[rec.out_body].trailers;
    CHECK(t, "no trailers sent");
    CHECK(T[t].n == 2 && field_is(t, "x-checksum", "c0ffee") && field_is(t, "x-other", "2"),
          "trailers differ (%zu)", T[t].n);
    return true;
}

static bool echo_empty_trailers(void) {
    sc.path = "/t";
    sc.trailers = 1; /* some(empty fields), as some hosts answer for "no trailers" */
    run_handler();
    if (!responded(200, ""))
        return false;
    CHECK(T[rec.out_body].trailers == 0, "an empty trailers set was sent on");
    return true;
}

static bool echo_other_method_no_path(void) {
    sc.method = WASI_HTTP_TYPES_METHOD_OTHER;
    sc.method_other = "FROB";
    sc.path = NULL;
    run_handler();
    if (!responded(200, ""))
        return false;
    CHECK(field_is(resp_headers(), "x-echo-method", "FROB"), "x-echo-method");
    CHECK(field(resp_headers(), "x-echo-path") == NULL, "x-echo-path present");
    return true;
}

static bool echo_read_fails(void) {
    uint8_t *body = make_pattern(300000);
    sc.path = "/r";
    sc.body = body;
    sc.body_len = 300000;
    sc.read_fail_at = 131072;
    run_handler();
    free(body);
    CHECK(rec.set && !rec.set_err && T[rec.response].status == 200, "the head was not sent");
    CHECK(!T[rec.out_body].finished, "the body was finished after a failed read");
    CHECK(T[rec.out_body].len == 131072, "%zu bytes written, want 131072", T[rec.out_body].len);
    CHECK(stderr_has("echo: blocking-read: last-operation-failed: mock io error\n"), "stderr: %.500s", rec.stderr_text);
    return true;
}

static bool echo_client_gone(void) {
    uint8_t *body = make_pattern(300000);
    sc.path = "/c";
    sc.body = body;
    sc.body_len = 300000;
    sc.write_close_at = 100000;
    run_handler();
    free(body);
    CHECK(!T[rec.out_body].finished, "the body was finished after the stream closed");
    CHECK(stderr_has("echo: write: closed\n"), "stderr: %.500s", rec.stderr_text);
    return true;
}

/* ---- trap --------------------------------------------------------------------- */

static bool trap_ok(void) {
    sc.path = "/ok";
    run_handler();
    return responded(200, "ok\n");
}

static bool trap_before(void) {
    char state[512];
    sc.path = "/trap?x=1";
    CHECK(run_trapping(state, sizeof state), "did not trap");
    CHECK(strncmp(state, "0 ", 2) == 0, "the response was set before the trap: %s", state);
    return true;
}

static bool trap_after_headers(void) {
    char state[512];
    sc.path = "/trap-after-headers";
    CHECK(run_trapping(state, sizeof state), "did not trap");
    CHECK(strcmp(state, "1 0 200 0 partial body\n") == 0, "state at the trap: %s", state);
    return true;
}

static bool trap_prefix_is_not_trap(void) {
    sc.path = "/trapped";
    run_handler();
    return responded(200, "ok\n");
}

/* ---- stream ------------------------------------------------------------------- */

static bool stream_case(const char *path, size_t n, const uint64_t *budgets, size_t nb) {
    sc.path = path;
    sc.budgets = budgets;
    sc.nbudgets = nb;
    run_handler();
    if (!responded(200, NULL))
        return false;
    size_t len;
    uint8_t *b = resp_body(&len);
    CHECK(len == n && is_pattern(b, len), "%zu bytes, want %zu of the pattern", len, n);
    CHECK(field_is(resp_headers(), "content-type", "application/octet-stream"), "content-type");
    return true;
}

static bool stream_default(void) {
    static const uint64_t budgets[] = {4096, 0, 100000, 7};
    return stream_case("/", 1048576, budgets, 4);
}
static bool stream_no_path(void) { return stream_case(NULL, 1048576, NULL, 0); }
static bool stream_zero(void) { return stream_case("/?n=0", 0, NULL, 0); }
static bool stream_odd(void) { return stream_case("/x?a=b&n=70001&c", 70001, NULL, 0); }
static bool stream_blocking(void) {
    if (!stream_case("/?write=blocking&n=300001", 300001, NULL, 0))
        return false;
    CHECK(rec.writes == 0 && rec.max_blocking_write == 4096, "writes %zu, largest blocking write %zu", rec.writes,
          rec.max_blocking_write);
    return true;
}
static bool stream_bad(const char *path, const char *body) {
    sc.path = path;
    run_handler();
    return responded(400, body);
}
static bool stream_bad_letters(void) { return stream_bad("/?n=12x", "bad n: 12x\n"); }
static bool stream_bad_empty(void) { return stream_bad("/?n=", "bad n: \n"); }
static bool stream_bad_overflow(void) {
    return stream_bad("/?n=18446744073709551616", "bad n: 18446744073709551616\n");
}
static bool stream_max(void) {
    /* 2^64-1 parses; the mock's body closes after 1 MiB and the guest gives up. */
    sc.path = "/?n=18446744073709551615";
    sc.write_close_at = 1 << 20;
    run_handler();
    CHECK(rec.set && T[rec.response].status == 200, "no 200");
    CHECK(!T[rec.out_body].finished, "finished");
    CHECK(stderr_has("stream: after 1048576 of 18446744073709551615 bytes: write: closed\n"), "stderr: %.500s",
          rec.stderr_text);
    return true;
}

/* ---- fetch -------------------------------------------------------------------- */

static bool fetch_ok(void) {
    uint8_t *body = make_pattern(200000);
    req_header("x-fetch-authority", "127.0.0.1:8123");
    req_header("x-fetch-path", "/data?x=1");
    sc.fetched_status = 404;
    sc.fetched_body = body;
    sc.fetched_len = 200000;
    run_handler();
    bool ok = responded(200, NULL);
    size_t len;
    uint8_t *b = resp_body(&len);
    if (ok) {
        CHECK(len == 200000 && is_pattern(b, len), "body: %zu bytes", len);
        CHECK(field_is(resp_headers(), "x-fetch-status", "404"), "x-fetch-status");
        CHECK(outreq.method == WASI_HTTP_TYPES_METHOD_GET && outreq.scheme == WASI_HTTP_TYPES_SCHEME_HTTP,
              "method %d scheme %d", outreq.method, outreq.scheme);
        CHECK(strcmp(outreq.authority, "127.0.0.1:8123") == 0 && strcmp(outreq.path, "/data?x=1") == 0,
              "authority %s path %s", outreq.authority, outreq.path);
    }
    free(body);
    return ok;
}

static bool fetch_default_path(void) {
    req_header("x-fetch-authority", "example.test");
    sc.fetched_status = 200;
    sc.fetched_body = (const uint8_t *)"hi\n";
    sc.fetched_len = 3;
    run_handler();
    if (!responded(200, "hi\n"))
        return false;
    CHECK(outreq.has_path && strcmp(outreq.path, "/") == 0, "path %s", outreq.path);
    return true;
}

static bool fetch_denied(void) {
    req_header("x-fetch-authority", "127.0.0.1:8123");
    sc.handle_error = WASI_HTTP_TYPES_ERROR_CODE_HTTP_REQUEST_DENIED;
    run_handler();
    if (!responded(502, "HTTP-request-denied\n"))
        return false;
    CHECK(field_is(resp_headers(), "x-fetch-error", "HTTP-request-denied"), "x-fetch-error");
    return true;
}

static bool fetch_refused(void) {
    req_header("x-fetch-authority", "127.0.0.1:1");
    sc.future_error = WASI_HTTP_TYPES_ERROR_CODE_CONNECTION_REFUSED;
    run_handler();
    if (!responded(502, "connection-refused\n"))
        return false;
    CHECK(field_is(resp_headers(), "x-fetch-error", "connection-refused"), "x-fetch-error");
    return true;
}

static bool fetch_internal_error(void) {
    req_header("x-fetch-authority", "127.0.0.1:1");
    sc.future_error = WASI_HTTP_TYPES_ERROR_CODE_INTERNAL_ERROR;
    run_handler();
    return responded(502, "internal-error\n");
}

static bool fetch_no_authority(void) {
    req_header("x-fetch-path", "/x");
    run_handler();
    return responded(400, "missing header x-fetch-authority\n");
}

static bool fetch_bad_authority(void) {
    req_header("x-fetch-authority", "bad authority");
    run_handler();
    return responded(500, "outgoing-request.set-authority refused (authority \"bad authority\", path \"/\")\n");
}

static const struct {
    const char *guest, *name;
    bool (*run)(void);
} scenarios[] = {
    {"hello", "get", hello_get},
    {"echo", "basic", echo_basic},
    {"echo", "forbidden", echo_forbidden},
    {"echo", "invalid-header", echo_invalid_header},
    {"echo", "1000-headers", echo_many_headers},
    {"echo", "big-body", echo_big_body},
    {"echo", "trailers", echo_trailers},
    {"echo", "empty-trailers", echo_empty_trailers},
    {"echo", "other-method-no-path", echo_other_method_no_path},
    {"echo", "read-fails", echo_read_fails},
    {"echo", "client-gone", echo_client_gone},
    {"trap", "ok", trap_ok},
    {"trap", "trap", trap_before},
    {"trap", "trap-after-headers", trap_after_headers},
    {"trap", "trap-prefix", trap_prefix_is_not_trap},
    {"stream", "default", stream_default},
    {"stream", "no-path", stream_no_path},
    {"stream", "n-0", stream_zero},
    {"stream", "n-odd", stream_odd},
    {"stream", "blocking", stream_blocking},
    {"stream", "bad-letters", stream_bad_letters},
    {"stream", "bad-empty", stream_bad_empty},
    {"stream", "bad-overflow", stream_bad_overflow},
    {"stream", "max", stream_max},
    {"fetch", "ok", fetch_ok},
    {"fetch", "default-path", fetch_default_path},
    {"fetch", "denied", fetch_denied},
    {"fetch", "refused", fetch_refused},
    {"fetch", "internal-error", fetch_internal_error},
    {"fetch", "no-authority", fetch_no_authority},
    {"fetch", "bad-authority", fetch_bad_authority},
};
