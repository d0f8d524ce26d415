/*
 * stream.c: answers with a generated body of N bytes, written in chunks as it
 * is generated, never held whole: for testing streaming responses.
 *
 * Query parameters (anything else in the query is ignored):
 *   n=N              the body's length in bytes, decimal (default 1048576)
 *   write=blocking   write with blocking-write-and-flush, 4096 bytes a call;
 *                    by default the guest writes 64 KiB chunks with write,
 *                    never more than check-write allows (waiting on the
 *                    stream's pollable when that is 0), then flush
 * Response: 200, content-type: application/octet-stream, no content-length;
 * body byte i (from 0) is i % 251, so any slice can be checked on its own.
 * A bad n (not all digits, empty, or over 2^64-1) answers 400, text/plain,
 * body "bad n: <value>\n".
 */
#define GUEST "stream"
#include "common.h"

#define DEFAULT_N (1024 * 1024)
#define CHUNK (64 * 1024)

static uint8_t chunk[CHUNK];

/* Parses all of S (LEN bytes) as a decimal u64. */
static bool parse_u64(const char *s, size_t len, uint64_t *out) {
    uint64_t v = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* Finds parameter NAME in QUERY ("a=1&b=2"); sets *VALUE and *LEN. */
static bool query_param(const char *query, const char *name, const char **value, size_t *len) {
    size_t nlen = strlen(name);
    for (const char *p = query; p && *p;) {
        size_t plen = strcspn(p, "&");
        if (plen > nlen && p[nlen] == '=' && memcmp(p, name, nlen) == 0) {
            *value = p + nlen + 1;
            *len = plen - nlen - 1;
            return true;
        }
        p = p[plen] ? p + plen + 1 : NULL;
    }
    return false;
}

void exports_wasi_http_incoming_handler_handle(own_incoming_request request, own_outparam outparam) {
    char why[300];
    char *path = request_path(wasi_http_types_borrow_incoming_request(request));
    wasi_http_types_incoming_request_drop_own(request);
    if (!path) {
        respond_text(outparam, 500, "out of memory\n");
        return;
    }
    const char *query = strchr(path, '?');
    query = query ? query + 1 : "";

    uint64_t n = DEFAULT_N;
    const char *value;
    size_t len;
    if (query_param(query, "n", &value, &len) && !parse_u64(value, len, &n)) {
        char msg[200];
        format(msg, sizeof msg, "bad n: %.*s\n", (int)(len < 100 ? len : 100), value);
        respond_text(outparam, 400, msg);
        free(path);
        return;
    }
    bool blocking = query_param(query, "write", &value, &len) && len == 8 && memcmp(value, "blocking", 8) == 0;
    free(path);

    own_fields headers = wasi_http_types_constructor_fields();
    if (!add_header(wasi_http_types_borrow_fields(headers), "content-type", "application/octet-stream", why,
                    sizeof why))
        log_line(why);
    response_body rb;
    if (!start_response(outparam, 200, headers, &rb, why, sizeof why)) {
        log_line(why);
        return;
    }
    output out = wasi_io_streams_borrow_output_stream(rb.stream);
    for (uint64_t off = 0; off < n;) {
        size_t k = n - off < CHUNK ? (size_t)(n - off) : CHUNK;
        uint8_t b = (uint8_t)(off % 251); /* byte i is i % 251 */
        for (size_t i = 0; i < k; i++) {
            chunk[i] = b;
            b = b == 250 ? 0 : b + 1;
        }
        bool ok = blocking ? write_blocking(out, chunk, k, why, sizeof why)
                           : write_budgeted(out, chunk, k, why, sizeof why);
        if (!ok) {
            char msg[340];
            format(msg, sizeof msg, "after %llu of %llu bytes: %s", (unsigned long long)off,
                     (unsigned long long)n, why);
            abandon_response(&rb, msg);
            return;
        }
        off += k;
    }
    if (!finish_response(&rb, NULL, why, sizeof why))
        log_line(why);
}
