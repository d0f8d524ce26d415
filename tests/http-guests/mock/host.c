/*
 * mock/host.c: a native stand-in for a wasi:http host, to test the guests' C
 * logic without WebAssembly. mock/run.sh compiles each guest's NAME.c natively
 * (gcc) against the same generated guest.h and links it with this file, which
 * implements every binding function the guests call, on a table of handles.
 *
 * The mock enforces what a strict host (Wasmtime) enforces and reports any
 * breach as "FAIL GUEST/SCENARIO: VIOLATION: ..." (then aborts): a dead or wrong-kind handle, a drop
 * of a resource whose children are alive (streams, pollables, header and
 * trailer fields are children), incoming-body.finish or outgoing-body.finish
 * with a live stream, a write over the check-write budget, a
 * blocking-write-and-flush over 4096 bytes, changing immutable fields. After
 * each handle() it also checks that the guest leaked no handle.
 *
 * Each scenario sets up a request (method, path, headers, body, trailers), how
 * the host behaves (blocking-read sizes, check-write budgets, failures, the
 * outgoing-handler's answer) and checks what the guest did: the response it
 * set, the body bytes, finish and trailers, stderr, the outgoing request.
 *
 *   mock/run.sh            builds and runs every guest's scenarios
 *   ./mock-NAME [SCENARIO] one guest (run.sh builds them in a temporary dir)
 *
 * Prints "ok NAME/SCENARIO" or "FAIL NAME/SCENARIO: why" per scenario and a
 * closing "N passed, N failed".
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

/* ---- the handle table ------------------------------------------------------- */

enum kind {
    K_NONE, K_FIELDS, K_INREQ, K_OUTPARAM, K_OUTRESP, K_OUTBODY, K_OUTSTREAM, K_INBODY, K_INSTREAM,
    K_FTRAILERS, K_POLLABLE, K_ERROR, K_OUTREQ, K_FINRESP, K_INRESP, K_STDERR,
};
static const char *kind_name[] = {"none", "fields", "incoming-request", "response-outparam",
    "outgoing-response", "outgoing-body", "output-stream", "incoming-body", "input-stream", "future-trailers",
    "pollable", "error", "outgoing-request", "future-incoming-response", "incoming-response", "stderr"};

typedef struct {
    char *name;
    uint8_t *val;
    size_t len;
} entry;

typedef struct {
    int kind;
    bool alive;
    int parent;         /* a child must be dropped before its parent (0: none) */
    int link;           /* outgoing-response/request -> its headers; body -> its stream; etc. */
    /* fields */
    entry *e;
    size_t n;
    bool immutable;
    /* streams and bodies */
    uint8_t *data;      /* input: what to read; output body: what was written */
    size_t len, pos, cap;
    uint64_t budget;    /* output: what the last check-write allowed and is left */
    bool body_taken, stream_taken, finished;
    int trailers;       /* outgoing-body: the trailers fields given to finish (0: none) */
    uint16_t status;
    bool ready;         /* pollable: has been waited on */
} obj;

#define MAX_OBJ 20000
static obj T[MAX_OBJ];
static int nT;

static const char *current = "?"; /* the scenario running */

static void violation(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "FAIL %s/%s: VIOLATION: ", GUEST_NAME, current);
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
    fflush(stdout);
    abort();
}

static int new_obj(int kind, int parent) {
    if (nT + 1 >= MAX_OBJ)
        violation("too many handles");
    int h = ++nT;
    memset(&T[h], 0, sizeof T[h]);
    T[h].kind = kind;
    T[h].alive = true;
    T[h].parent = parent;
    return h;
}

static obj *get(int h, int kind, const char *what) {
    if (h <= 0 || h > nT || !T[h].alive)
        violation("%s: handle %d is not alive", what, h);
    if (T[h].kind != kind)
        violation("%s: handle %d is a %s, not a %s", what, h, kind_name[T[h].kind], kind_name[kind]);
    return &T[h];
}

/* Ends handle H (a drop, or a move into the host) after checking its children. */
static void end_obj(int h, int kind, const char *what) {
    get(h, kind, what);
    for (int i = 1; i <= nT; i++)
        if (T[i].alive && T[i].parent == h)
            violation("%s: handle %d (%s) still has child %d (%s)", what, h, kind_name[kind], i,
                      kind_name[T[i].kind]);
    T[h].alive = false;
}

/* ---- the scenario ----------------------------------------------------------- */

typedef struct {
    const char *name, *value;
} header_t;

static struct {
    /* the request */
    int method;              /* WASI_HTTP_TYPES_METHOD_* */
    const char *method_other;
    const char *path;        /* NULL: none */
    header_t headers[1100];
    size_t nheaders;
    const uint8_t *body;
    size_t body_len;
    size_t read_max;         /* the most one blocking-read returns */
    size_t read_fail_at;     /* blocking-read fails once this many bytes were read (0: never) */
    int trailers;            /* 0: none, 1: an empty set, 2: the list below */
    header_t trailer_list[4];
    size_t ntrailers;
    /* the host */
    const uint64_t *budgets; /* check-write answers, cycled (NULL: 1 MiB always) */
    size_t nbudgets, next_budget;
    size_t write_close_at;   /* the response body closes after this many bytes (0: never) */
    int handle_error;        /* outgoing-handler.handle returns this error-code (-1: none) */
    int future_error;        /* the future resolves to this error-code (-1: none) */
    uint16_t fetched_status;
    const uint8_t *fetched_body;
    size_t fetched_len;
} sc;

static struct {
    int outparam, request;
    bool set, set_err;
    int err_tag;
    int response;            /* the outgoing-response given to set */
    int out_body;            /* its body */
    char stderr_text[8192];
    size_t stderr_len;
    size_t outstanding, max_outstanding, max_read; /* blocking-read lists not yet freed */
    int outgoing_request;    /* given to outgoing-handler.handle */
    size_t max_blocking_write;
    size_t writes, zero_budgets;
} rec;

static void reset(void) {
    for (int i = 1; i <= nT; i++) {
        for (size_t k = 0; k < T[i].n; k++) {
            free(T[i].e[k].name);
            free(T[i].e[k].val);
        }
        free(T[i].e);
        if (T[i].kind == K_OUTBODY) /* input streams and bodies point at scenario data */
            free(T[i].data);
    }
    nT = 0;
    memset(&sc, 0, sizeof sc);
    memset(&rec, 0, sizeof rec);
    sc.read_max = 64 * 1024;
    sc.handle_error = sc.future_error = -1;
}

/* ---- fields ----------------------------------------------------------------- */

static char *dupn(const uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

static void fields_add(obj *f, const char *name, const uint8_t *val, size_t len) {
    f->e = realloc(f->e, (f->n + 1) * sizeof *f->e);
    f->e[f->n].name = strdup(name);
    f->e[f->n].val = malloc(len ? len : 1);
    memcpy(f->e[f->n].val, val, len);
    f->e[f->n].len = len;
    f->n++;
}

static int fields_from(const header_t *h, size_t n, int parent, bool immutable) {
    int id = new_obj(K_FIELDS, parent);
    for (size_t i = 0; i < n; i++)
        fields_add(&T[id], h[i].name, (const uint8_t *)h[i].value, strlen(h[i].value));
    T[id].immutable = immutable;
    return id;
}

/* The value of NAME in fields F, as a C string ("" if absent), for checks. */
static const char *field(int f, const char *name) {
    static char buf[4][4096];
    static int k;
    char *b = buf[k++ % 4];
    b[0] = 0;
    for (size_t i = 0; i < T[f].n; i++)
        if (strcmp(T[f].e[i].name, name) == 0) {
            snprintf(b, 4096, "%.*s", (int)T[f].e[i].len, (char *)T[f].e[i].val);
            return b;
        }
    return NULL;
}

wasi_http_types_own_fields_t wasi_http_types_constructor_fields(void) {
    return (wasi_http_types_own_fields_t){new_obj(K_FIELDS, 0)};
}

wasi_http_types_borrow_fields_t wasi_http_types_borrow_fields(wasi_http_types_own_fields_t h) {
    return (wasi_http_types_borrow_fields_t){h.__handle};
}

void wasi_http_types_fields_drop_own(wasi_http_types_own_fields_t h) {
    end_obj(h.__handle, K_FIELDS, "fields drop");
}

bool wasi_http_types_method_fields_append(wasi_http_types_borrow_fields_t self, wasi_http_types_field_name_t *name,
                                          wasi_http_types_field_value_t *value, wasi_http_types_header_error_t *err) {
    obj *f = get(self.__handle, K_FIELDS, "fields.append");
    char *n = dupn(name->ptr, name->len);
    int e = -1;
    if (f->immutable)
        e = WASI_HTTP_TYPES_HEADER_ERROR_IMMUTABLE;
    else if (name->len == 0 || strpbrk(n, " :\r\n"))
        e = WASI_HTTP_TYPES_HEADER_ERROR_INVALID_SYNTAX;
    else if (strcmp(n, "x-forbidden") == 0 || strcmp(n, "connection") == 0)
        e = WASI_HTTP_TYPES_HEADER_ERROR_FORBIDDEN;
    if (e >= 0) {
        free(n);
        err->tag = (uint8_t)e;
        return false;
    }
    fields_add(f, n, value->ptr, value->len);
    free(n);
    return true;
}

void wasi_http_types_method_fields_get(wasi_http_types_borrow_fields_t self, wasi_http_types_field_name_t *name,
                                       wasi_http_types_list_field_value_t *ret) {
    obj *f = get(self.__handle, K_FIELDS, "fields.get");
    ret->ptr = malloc((f->n + 1) * sizeof *ret->ptr);
    ret->len = 0;
    for (size_t i = 0; i < f->n; i++)
        if (strlen(f->e[i].name) == name->len && memcmp(f->e[i].name, name->ptr, name->len) == 0) {
            ret->ptr[ret->len].ptr = (uint8_t *)dupn(f->e[i].val, f->e[i].len);
            ret->ptr[ret->len++].len = f->e[i].len;
        }
}

void wasi_http_types_method_fields_entries(wasi_http_types_borrow_fields_t self,
                                           wasi_http_types_list_tuple2_field_name_field_value_t *ret) {
    obj *f = get(self.__handle, K_FIELDS, "fields.entries");
    ret->ptr = malloc((f->n + 1) * sizeof *ret->ptr);
    ret->len = f->n;
    for (size_t i = 0; i < f->n; i++) {
        ret->ptr[i].f0.ptr = (uint8_t *)strdup(f->e[i].name);
        ret->ptr[i].f0.len = strlen(f->e[i].name);
        ret->ptr[i].f1.ptr = (uint8_t *)dupn(f->e[i].val, f->e[i].len);
        ret->ptr[i].f1.len = f->e[i].len;
    }
}

wasi_http_types_own_fields_t wasi_http_types_method_fields_clone(wasi_http_types_borrow_fields_t self) {
    int c = new_obj(K_FIELDS, 0);
    obj *f = get(self.__handle, K_FIELDS, "fields.clone");
    for (size_t i = 0; i < f->n; i++)
        fields_add(&T[c], f->e[i].name, f->e[i].val, f->e[i].len);
    return (wasi_http_types_own_fields_t){c};
}

void wasi_http_types_list_field_value_free(wasi_http_types_list_field_value_t *l) {
    for (size_t i = 0; i < l->len; i++)
        free(l->ptr[i].ptr);
    free(l->ptr);
}

void wasi_http_types_list_tuple2_field_name_field_value_free(wasi_http_types_list_tuple2_field_name_field_value_t *l) {
    for (size_t i = 0; i < l->len; i++) {
        free(l->ptr[i].f0.ptr);
        free(l->ptr[i].f1.ptr);
    }
    free(l->ptr);
}

/* ---- small things ----------------------------------------------------------- */

void guest_string_free(guest_string_t *s) {
    free(s->ptr);
}

void guest_list_u32_free(guest_list_u32_t *l) {
    free(l->ptr);
}

void guest_list_u8_free(guest_list_u8_t *l) {
    if (l->len > 0) /* only blocking-read makes u8 lists here */
        rec.outstanding--;
    free(l->ptr);
}

void wasi_http_types_method_free(wasi_http_types_method_t *m) {
    if (m->tag == WASI_HTTP_TYPES_METHOD_OTHER)
        free(m->val.other.ptr);
}

void wasi_http_types_error_code_free(wasi_http_types_error_code_t *e) {
    if (e->tag == WASI_HTTP_TYPES_ERROR_CODE_INTERNAL_ERROR && e->val.internal_error.is_some)
        free(e->val.internal_error.val.ptr);
}

static guest_string_t host_string(const char *s) {
    return (guest_string_t){(uint8_t *)strdup(s), strlen(s)};
}

/* ---- pollables and errors ----------------------------------------------------- */

wasi_io_poll_borrow_pollable_t wasi_io_poll_borrow_pollable(wasi_io_poll_own_pollable_t h) {
    return (wasi_io_poll_borrow_pollable_t){h.__handle};
}

void wasi_io_poll_pollable_drop_own(wasi_io_poll_own_pollable_t h) {
    end_obj(h.__handle, K_POLLABLE, "pollable drop");
}

void wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable_t self) {
    get(self.__handle, K_POLLABLE, "pollable.block")->ready = true;
}

void wasi_io_poll_poll(wasi_io_poll_list_borrow_pollable_t *in, guest_list_u32_t *ret) {
    ret->ptr = malloc(in->len * sizeof(uint32_t) + 1);
    ret->len = in->len;
    for (size_t i = 0; i < in->len; i++) {
        get(in->ptr[i].__handle, K_POLLABLE, "poll")->ready = true;
        ret->ptr[i] = (uint32_t)i;
    }
}

wasi_io_error_borrow_error_t wasi_io_error_borrow_error(wasi_io_error_own_error_t h) {
    return (wasi_io_error_borrow_error_t){h.__handle};
}

void wasi_io_error_error_drop_own(wasi_io_error_own_error_t h) {
    end_obj(h.__handle, K_ERROR, "error drop");
}

void wasi_io_error_method_error_to_debug_string(wasi_io_error_borrow_error_t self, guest_string_t *ret) {
    get(self.__handle, K_ERROR, "error.to-debug-string");
    *ret = host_string("mock io error");
}

static void failed(wasi_io_streams_stream_error_t *err) {
    err->tag = WASI_IO_STREAMS_STREAM_ERROR_LAST_OPERATION_FAILED;
    err->val.last_operation_failed = (wasi_io_error_own_error_t){new_obj(K_ERROR, 0)};
}

/* ---- streams ------------------------------------------------------------------ */

wasi_io_streams_borrow_input_stream_t wasi_io_streams_borrow_input_stream(wasi_io_streams_own_input_stream_t h) {
    return (wasi_io_streams_borrow_input_stream_t){h.__handle};
}

wasi_io_streams_borrow_output_stream_t wasi_io_streams_borrow_output_stream(wasi_io_streams_own_output_stream_t h) {
    return (wasi_io_streams_borrow_output_stream_t){h.__handle};
}

void wasi_io_streams_input_stream_drop_own(wasi_io_streams_own_input_stream_t h) {
    end_obj(h.__handle, K_INSTREAM, "input-stream drop");
}

void wasi_io_streams_output_stream_drop_own(wasi_io_streams_own_output_stream_t h) {
    if (h.__handle > 0 && h.__handle <= nT && T[h.__handle].kind == K_STDERR)
        end_obj(h.__handle, K_STDERR, "stderr drop");
    else
        end_obj(h.__handle, K_OUTSTREAM, "output-stream drop");
}

bool wasi_io_streams_method_input_stream_blocking_read(wasi_io_streams_borrow_input_stream_t self, uint64_t len,
                                                       guest_list_u8_t *ret, wasi_io_streams_stream_error_t *err) {
    obj *s = get(self.__handle, K_INSTREAM, "input-stream.blocking-read");
    if (sc.read_fail_at && s->pos >= sc.read_fail_at && s->data == sc.body) {
        failed(err);
        return false;
    }
    if (s->pos >= s->len) {
        err->tag = WASI_IO_STREAMS_STREAM_ERROR_CLOSED;
        return false;
    }
    size_t n = s->len - s->pos;
    if (n > len)
        n = len;
    if (n > sc.read_max)
        n = sc.read_max;
    ret->ptr = malloc(n);
    memcpy(ret->ptr, s->data + s->pos, n);
    ret->len = n;
    s->pos += n;
    if (++rec.outstanding > rec.max_outstanding)
        rec.max_outstanding = rec.outstanding;
    if (n > rec.max_read)
        rec.max_read = n;
    return true;
}

/* Where output stream S's bytes go: its body's buffer (or stderr). */
static bool out_append(int h, const uint8_t *p, size_t n, wasi_io_streams_stream_error_t *err) {
    if (T[h].kind == K_STDERR) {
        for (size_t i = 0; i < n && rec.stderr_len + 1 < sizeof rec.stderr_text; i++)
            rec.stderr_text[rec.stderr_len++] = (char)p[i];
        return true;
    }
    obj *body = &T[T[h].parent];
    if (sc.write_close_at && body->len + n > sc.write_close_at && T[h].parent == rec.out_body) {
        err->tag = WASI_IO_STREAMS_STREAM_ERROR_CLOSED;
        return false;
    }
    if (body->len + n > body->cap) {
        body->cap = (body->len + n) * 2;
        body->data = realloc(body->data, body->cap);
    }
    memcpy(body->data + body->len, p, n);
    body->len += n;
    return true;
}

static obj *out_stream(int h, const char *what) {
    if (h > 0 && h <= nT && T[h].kind == K_STDERR)
        return get(h, K_STDERR, what);
    return get(h, K_OUTSTREAM, what);
}

bool wasi_io_streams_method_output_stream_check_write(wasi_io_streams_borrow_output_stream_t self, uint64_t *ret,
                                                      wasi_io_streams_stream_error_t *err) {
    obj *s = out_stream(self.__handle, "output-stream.check-write");
    (void)err;
    uint64_t b = 1 << 20;
    if (sc.budgets && !s->ready) {
        b = sc.budgets[sc.next_budget++ % sc.nbudgets];
        if (b == 0)
            rec.zero_budgets++;
    }
    s->ready = false;
    s->budget = b;
    *ret = b;
    return true;
}

bool wasi_io_streams_method_output_stream_write(wasi_io_streams_borrow_output_stream_t self,
                                                guest_list_u8_t *contents, wasi_io_streams_stream_error_t *err) {
    obj *s = out_stream(self.__handle, "output-stream.write");
    if (contents->len > s->budget)
        violation("output-stream.write of %zu bytes, check-write allowed %llu", contents->len,
                  (unsigned long long)s->budget);
    s->budget -= contents->len;
    rec.writes++;
    return out_append(self.__handle, contents->ptr, contents->len, err);
}

bool wasi_io_streams_method_output_stream_blocking_write_and_flush(wasi_io_streams_borrow_output_stream_t self,
                                                                   guest_list_u8_t *contents,
                                                                   wasi_io_streams_stream_error_t *err) {
    out_stream(self.__handle, "output-stream.blocking-write-and-flush");
    if (contents->len > 4096)
        violation("blocking-write-and-flush of %zu bytes (at most 4096)", contents->len);
    if (contents->len > rec.max_blocking_write)
        rec.max_blocking_write = contents->len;
    return out_append(self.__handle, contents->ptr, contents->len, err);
}

bool wasi_io_streams_method_output_stream_flush(wasi_io_streams_borrow_output_stream_t self,
                                                wasi_io_streams_stream_error_t *err) {
    (void)err;
    out_stream(self.__handle, "output-stream.flush");
    return true;
}

bool wasi_io_streams_method_output_stream_blocking_flush(wasi_io_streams_borrow_output_stream_t self,
                                                         wasi_io_streams_stream_error_t *err) {
    (void)err;
    out_stream(self.__handle, "output-stream.blocking-flush");
    return true;
}

wasi_io_streams_own_pollable_t wasi_io_streams_method_output_stream_subscribe(wasi_io_streams_borrow_output_stream_t self) {
    obj *s = out_stream(self.__handle, "output-stream.subscribe");
    s->ready = true; /* the next check-write answers with a budget */
    return (wasi_io_streams_own_pollable_t){new_obj(K_POLLABLE, self.__handle)};
}

wasi_cli_stderr_own_output_stream_t wasi_cli_stderr_get_stderr(void) {
    return (wasi_cli_stderr_own_output_stream_t){new_obj(K_STDERR, 0)};
}

/* ---- incoming requests -------------------------------------------------------- */

wasi_http_types_borrow_incoming_request_t wasi_http_types_borrow_incoming_request(wasi_http_types_own_incoming_request_t h) {
    return (wasi_http_types_borrow_incoming_request_t){h.__handle};
}

void wasi_http_types_incoming_request_drop_own(wasi_http_types_own_incoming_request_t h) {
    end_obj(h.__handle, K_INREQ, "incoming-request drop");
}

void wasi_http_types_method_incoming_request_method(wasi_http_types_borrow_incoming_request_t self,
                                                    wasi_http_types_method_t *ret) {
    get(self.__handle, K_INREQ, "incoming-request.method");
    ret->tag = (uint8_t)sc.method;
    if (sc.method == WASI_HTTP_TYPES_METHOD_OTHER)
        ret->val.other = host_string(sc.method_other);
}

bool wasi_http_types_method_incoming_request_path_with_query(wasi_http_types_borrow_incoming_request_t self,
                                                             guest_string_t *ret) {
    get(self.__handle, K_INREQ, "incoming-request.path-with-query");
    if (!sc.path)
        return false;
    *ret = host_string(sc.path);
    return true;
}

wasi_http_types_own_headers_t wasi_http_types_method_incoming_request_headers(wasi_http_types_borrow_incoming_request_t self) {
    get(self.__handle, K_INREQ, "incoming-request.headers");
    return (wasi_http_types_own_headers_t){fields_from(sc.headers, sc.nheaders, self.__handle, true)};
}

static int new_incoming_body(const uint8_t *data, size_t len) {
    int b = new_obj(K_INBODY, 0);
    T[b].data = (uint8_t *)data;
    T[b].len = len;
    return b;
}

bool wasi_http_types_method_incoming_request_consume(wasi_http_types_borrow_incoming_request_t self,
                                                     wasi_http_types_own_incoming_body_t *ret) {
    obj *r = get(self.__handle, K_INREQ, "incoming-request.consume");
    if (r->body_taken)
        return false;
    r->body_taken = true;
    *ret = (wasi_http_types_own_incoming_body_t){new_incoming_body(sc.body, sc.body_len)};
    return true;
}

wasi_http_types_borrow_incoming_body_t wasi_http_types_borrow_incoming_body(wasi_http_types_own_incoming_body_t h) {
    return (wasi_http_types_borrow_incoming_body_t){h.__handle};
}

void wasi_http_types_incoming_body_drop_own(wasi_http_types_own_incoming_body_t h) {
    end_obj(h.__handle, K_INBODY, "incoming-body drop");
}

bool wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body_t self,
                                                 wasi_http_types_own_input_stream_t *ret) {
    obj *b = get(self.__handle, K_INBODY, "incoming-body.stream");
    if (b->stream_taken)
        return false;
    b->stream_taken = true;
    int s = new_obj(K_INSTREAM, self.__handle);
    T[s].data = b->data;
    T[s].len = b->len;
    *ret = (wasi_http_types_own_input_stream_t){s};
    return true;
}

wasi_http_types_own_future_trailers_t wasi_http_types_static_incoming_body_finish(wasi_http_types_own_incoming_body_t this_) {
    end_obj(this_.__handle, K_INBODY, "incoming-body.finish");
    return (wasi_http_types_own_future_trailers_t){new_obj(K_FTRAILERS, 0)};
}

wasi_http_types_borrow_future_trailers_t wasi_http_types_borrow_future_trailers(wasi_http_types_own_future_trailers_t h) {
    return (wasi_http_types_borrow_future_trailers_t){h.__handle};
}

void wasi_http_types_future_trailers_drop_own(wasi_http_types_own_future_trailers_t h) {
    end_obj(h.__handle, K_FTRAILERS, "future-trailers drop");
}

wasi_http_types_own_pollable_t wasi_http_types_method_future_trailers_subscribe(wasi_http_types_borrow_future_trailers_t self) {
    get(self.__handle, K_FTRAILERS, "future-trailers.subscribe");
    return (wasi_http_types_own_pollable_t){new_obj(K_POLLABLE, self.__handle)};
}

bool wasi_http_types_method_future_trailers_get(wasi_http_types_borrow_future_trailers_t self,
                                                wasi_http_types_result_result_option_own_trailers_error_code_void_t *ret) {
    obj *f = get(self.__handle, K_FTRAILERS, "future-trailers.get");
    if (f->body_taken) {
        ret->is_err = true;
        return true;
    }
    f->body_taken = true;
    ret->is_err = false;
    ret->val.ok.is_err = false;
    ret->val.ok.val.ok.is_some = sc.trailers != 0;
    if (sc.trailers)
        ret->val.ok.val.ok.val = (wasi_http_types_own_trailers_t){
            fields_from(sc.trailer_list, sc.trailers == 2 ? sc.ntrailers : 0, self.__handle, true)};
    return true;
}

/* ---- outgoing responses ------------------------------------------------------- */

wasi_http_types_own_outgoing_response_t wasi_http_types_constructor_outgoing_response(wasi_http_types_own_headers_t headers) {
    end_obj(headers.__handle, K_FIELDS, "outgoing-response constructor (moves headers)");
    int r = new_obj(K_OUTRESP, 0);
    T[r].link = headers.__handle; /* kept for the checks, though no longer alive */
    T[r].status = 200;
    return (wasi_http_types_own_outgoing_response_t){r};
}

wasi_http_types_borrow_outgoing_response_t wasi_http_types_borrow_outgoing_response(wasi_http_types_own_outgoing_response_t h) {
    return (wasi_http_types_borrow_outgoing_response_t){h.__handle};
}

void wasi_http_types_outgoing_response_drop_own(wasi_http_types_own_outgoing_response_t h) {
    end_obj(h.__handle, K_OUTRESP, "outgoing-response drop");
}

bool wasi_http_types_method_outgoing_response_set_status_code(wasi_http_types_borrow_outgoing_response_t self,
                                                              wasi_http_types_status_code_t status) {
    obj *r = get(self.__handle, K_OUTRESP, "outgoing-response.set-status-code");
    if (status < 100 || status > 999)
        return false;
    r->status = status;
    return true;
}

bool wasi_http_types_method_outgoing_response_body(wasi_http_types_borrow_outgoing_response_t self,
                                                   wasi_http_types_own_outgoing_body_t *ret) {
    obj *r = get(self.__handle, K_OUTRESP, "outgoing-response.body");
    if (r->body_taken)
        return false;
    r->body_taken = true;
    int b = new_obj(K_OUTBODY, 0);
    T[b].link = self.__handle;
    *ret = (wasi_http_types_own_outgoing_body_t){b};
    return true;
}

wasi_http_types_borrow_outgoing_body_t wasi_http_types_borrow_outgoing_body(wasi_http_types_own_outgoing_body_t h) {
    return (wasi_http_types_borrow_outgoing_body_t){h.__handle};
}

void wasi_http_types_outgoing_body_drop_own(wasi_http_types_own_outgoing_body_t h) {
    end_obj(h.__handle, K_OUTBODY, "outgoing-body drop");
}

bool wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body_t self,
                                                wasi_http_types_own_output_stream_t *ret) {
    obj *b = get(self.__handle, K_OUTBODY, "outgoing-body.write");
    if (b->stream_taken)
        return false;
    b->stream_taken = true;
    *ret = (wasi_http_types_own_output_stream_t){new_obj(K_OUTSTREAM, self.__handle)};
    return true;
}

bool wasi_http_types_static_outgoing_body_finish(wasi_http_types_own_outgoing_body_t this_,
                                                 wasi_http_types_own_trailers_t *maybe_trailers,
                                                 wasi_http_types_error_code_t *err) {
    (void)err;
    end_obj(this_.__handle, K_OUTBODY, "outgoing-body.finish");
    T[this_.__handle].finished = true;
    if (maybe_trailers) {
        end_obj(maybe_trailers->__handle, K_FIELDS, "outgoing-body.finish (moves trailers)");
        T[this_.__handle].trailers = maybe_trailers->__handle;
    }
    return true;
}

void wasi_http_types_static_response_outparam_set(wasi_http_types_own_response_outparam_t param,
                                                  wasi_http_types_result_own_outgoing_response_error_code_t *response) {
    end_obj(param.__handle, K_OUTPARAM, "response-outparam.set");
    rec.set = true;
    rec.set_err = response->is_err;
    if (response->is_err) {
        rec.err_tag = response->val.err.tag;
        return;
    }
    int r = response->val.ok.__handle;
    end_obj(r, K_OUTRESP, "response-outparam.set (moves the response)");
    rec.response = r;
    for (int i = 1; i <= nT; i++)
        if (T[i].kind == K_OUTBODY && T[i].link == r)
            rec.out_body = i;
}

/* ---- outgoing requests -------------------------------------------------------- */

static struct {
    int method;
    int scheme;
    char authority[256], path[256];
    bool has_authority, has_path;
} outreq;

wasi_http_types_own_outgoing_request_t wasi_http_types_constructor_outgoing_request(wasi_http_types_own_headers_t headers) {
    end_obj(headers.__handle, K_FIELDS, "outgoing-request constructor (moves headers)");
    memset(&outreq, 0, sizeof outreq);
    outreq.scheme = -1;
    return (wasi_http_types_own_outgoing_request_t){new_obj(K_OUTREQ, 0)};
}

wasi_http_types_borrow_outgoing_request_t wasi_http_types_borrow_outgoing_request(wasi_http_types_own_outgoing_request_t h) {
    return (wasi_http_types_borrow_outgoing_request_t){h.__handle};
}

void wasi_http_types_outgoing_request_drop_own(wasi_http_types_own_outgoing_request_t h) {
    end_obj(h.__handle, K_OUTREQ, "outgoing-request drop");
}

bool wasi_http_types_method_outgoing_request_set_method(wasi_http_types_borrow_outgoing_request_t self,
                                                        wasi_http_types_method_t *method) {
    get(self.__handle, K_OUTREQ, "outgoing-request.set-method");
    outreq.method = method->tag;
    return true;
}

bool wasi_http_types_method_outgoing_request_set_scheme(wasi_http_types_borrow_outgoing_request_t self,
                                                        wasi_http_types_scheme_t *scheme) {
    get(self.__handle, K_OUTREQ, "outgoing-request.set-scheme");
    outreq.scheme = scheme ? scheme->tag : -1;
    return true;
}

bool wasi_http_types_method_outgoing_request_set_authority(wasi_http_types_borrow_outgoing_request_t self,
                                                           guest_string_t *authority) {
    get(self.__handle, K_OUTREQ, "outgoing-request.set-authority");
    if (authority && memchr(authority->ptr, ' ', authority->len))
        return false; /* the mock's idea of an invalid authority */
    outreq.has_authority = authority != NULL;
    if (authority)
        snprintf(outreq.authority, sizeof outreq.authority, "%.*s", (int)authority->len, (char *)authority->ptr);
    return true;
}

bool wasi_http_types_method_outgoing_request_set_path_with_query(wasi_http_types_borrow_outgoing_request_t self,
                                                                 guest_string_t *path) {
    get(self.__handle, K_OUTREQ, "outgoing-request.set-path-with-query");
    outreq.has_path = path != NULL;
    if (path)
        snprintf(outreq.path, sizeof outreq.path, "%.*s", (int)path->len, (char *)path->ptr);
    return true;
}

bool wasi_http_outgoing_handler_handle(wasi_http_outgoing_handler_own_outgoing_request_t request,
                                       wasi_http_outgoing_handler_own_request_options_t *maybe_options,
                                       wasi_http_outgoing_handler_own_future_incoming_response_t *ret,
                                       wasi_http_outgoing_handler_error_code_t *err) {
    if (maybe_options)
        violation("fetch passes no request-options");
    end_obj(request.__handle, K_OUTREQ, "outgoing-handler.handle (moves the request)");
    rec.outgoing_request = request.__handle;
    if (sc.handle_error >= 0) {
        memset(err, 0, sizeof *err);
        err->tag = (uint8_t)sc.handle_error;
        return false;
    }
    *ret = (wasi_http_outgoing_handler_own_future_incoming_response_t){new_obj(K_FINRESP, 0)};
    return true;
}

wasi_http_types_borrow_future_incoming_response_t wasi_http_types_borrow_future_incoming_response(
    wasi_http_types_own_future_incoming_response_t h) {
    return (wasi_http_types_borrow_future_incoming_response_t){h.__handle};
}

void wasi_http_types_future_incoming_response_drop_own(wasi_http_types_own_future_incoming_response_t h) {
    end_obj(h.__handle, K_FINRESP, "future-incoming-response drop");
}

wasi_http_types_own_pollable_t wasi_http_types_method_future_incoming_response_subscribe(
    wasi_http_types_borrow_future_incoming_response_t self) {
    get(self.__handle, K_FINRESP, "future-incoming-response.subscribe");
    return (wasi_http_types_own_pollable_t){new_obj(K_POLLABLE, self.__handle)};
}

bool wasi_http_types_method_future_incoming_response_get(
    wasi_http_types_borrow_future_incoming_response_t self,
    wasi_http_types_result_result_own_incoming_response_error_code_void_t *ret) {
    obj *f = get(self.__handle, K_FINRESP, "future-incoming-response.get");
    if (f->body_taken) {
        ret->is_err = true;
        return true;
    }
    f->body_taken = true;
    ret->is_err = false;
    if (sc.future_error >= 0) {
        ret->val.ok.is_err = true;
        memset(&ret->val.ok.val.err, 0, sizeof ret->val.ok.val.err);
        ret->val.ok.val.err.tag = (uint8_t)sc.future_error;
        return true;
    }
    ret->val.ok.is_err = false;
    int r = new_obj(K_INRESP, 0);
    T[r].status = sc.fetched_status;
    ret->val.ok.val.ok = (wasi_http_types_own_incoming_response_t){r};
    return true;
}

wasi_http_types_borrow_incoming_response_t wasi_http_types_borrow_incoming_response(wasi_http_types_own_incoming_response_t h) {
    return (wasi_http_types_borrow_incoming_response_t){h.__handle};
}

void wasi_http_types_incoming_response_drop_own(wasi_http_types_own_incoming_response_t h) {
    end_obj(h.__handle, K_INRESP, "incoming-response drop");
}

wasi_http_types_status_code_t wasi_http_types_method_incoming_response_status(wasi_http_types_borrow_incoming_response_t self) {
    return get(self.__handle, K_INRESP, "incoming-response.status")->status;
}

bool wasi_http_types_method_incoming_response_consume(wasi_http_types_borrow_incoming_response_t self,
                                                      wasi_http_types_own_incoming_body_t *ret) {
    obj *r = get(self.__handle, K_INRESP, "incoming-response.consume");
    if (r->body_taken)
        return false;
    r->body_taken = true;
    *ret = (wasi_http_types_own_incoming_body_t){new_incoming_body(sc.fetched_body, sc.fetched_len)};
    return true;
}

/* ---- running scenarios -------------------------------------------------------- */

extern void exports_wasi_http_incoming_handler_handle(exports_wasi_http_incoming_handler_own_incoming_request_t,
                                                      exports_wasi_http_incoming_handler_own_response_outparam_t);

static void run_handler(void) {
    rec.request = new_obj(K_INREQ, 0);
    rec.outparam = new_obj(K_OUTPARAM, 0);
    exports_wasi_http_incoming_handler_handle((exports_wasi_http_incoming_handler_own_incoming_request_t){rec.request},
                                              (exports_wasi_http_incoming_handler_own_response_outparam_t){rec.outparam});
    for (int i = 1; i <= nT; i++)
        if (T[i].alive)
            violation("handle() returned with handle %d (%s) alive: leaked", i, kind_name[T[i].kind]);
    if (rec.outstanding)
        violation("%zu blocking-read lists never freed", rec.outstanding);
}

/* Checks. CHECK stops the scenario with a message. */
static char why[1024];
#define CHECK(cond, ...)                                         \
    do {                                                         \
        if (!(cond)) {                                           \
            snprintf(why, sizeof why, __VA_ARGS__);              \
            return false;                                        \
        }                                                        \
    } while (0)

static int resp_headers(void) {
    return T[rec.response].link;
}

static uint8_t *resp_body(size_t *len) {
    obj *b = &T[rec.out_body];
    *len = b->len;
    return b->data ? b->data : (uint8_t *)"";
}

static bool responded(int status, const char *body) {
    CHECK(rec.set && !rec.set_err, "response-outparam: %s", rec.set ? "error-code" : "never set");
    CHECK(T[rec.response].status == status, "status %u, want %d", T[rec.response].status, status);
    CHECK(rec.out_body && T[rec.out_body].finished, "the body was not finished");
    if (body) {
        size_t len;
        uint8_t *b = resp_body(&len);
        CHECK(len == strlen(body) && memcmp(b, body, len) == 0, "body \"%.*s\", want \"%s\"", (int)(len > 200 ? 200 : len),
              (char *)b, body);
    }
    return true;
}

static bool is_pattern(const uint8_t *b, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (b[i] != i % 251)
            return false;
    return true;
}

static uint8_t *make_pattern(size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i % 251);
    return p;
}

/* Runs the handler in a child process, for the trap scenarios: returns how the
 * child ended ("trap" for SIGILL/SIGTRAP, else "exit N" / "signal N") and, via
 * a pipe, what the child recorded up to the trap. */
static int trap_pipe[2];
static void on_trap(int sig) {
    (void)sig;
    char msg[512];
    size_t len = 0;
    int n = snprintf(msg, sizeof msg, "%d %d %u %d ", rec.set, rec.set_err,
                     rec.response ? T[rec.response].status : 0, rec.out_body ? T[rec.out_body].finished : 0);
    len = (size_t)n;
    if (rec.out_body && T[rec.out_body].data) {
        size_t k = T[rec.out_body].len < 200 ? T[rec.out_body].len : 200;
        memcpy(msg + len, T[rec.out_body].data, k);
        len += k;
    }
    if (write(trap_pipe[1], msg, len) < 0) {
    }
    _exit(77);
}

static bool run_trapping(char *state, size_t cap) {
    if (pipe(trap_pipe) != 0)
        return false;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(trap_pipe[0]);
        signal(SIGILL, on_trap);
        signal(SIGTRAP, on_trap);
        run_handler();
        _exit(0);
    }
    close(trap_pipe[1]);
    ssize_t n = read(trap_pipe[0], state, cap - 1);
    state[n > 0 ? n : 0] = 0;
    close(trap_pipe[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 77;
}

#include "scenarios.h"

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (strcmp(scenarios[i].guest, GUEST_NAME) != 0 || (argc > 1 && strcmp(argv[1], scenarios[i].name) != 0))
            continue;
        reset();
        why[0] = 0;
        current = scenarios[i].name;
        if (scenarios[i].run()) {
            printf("ok %s/%s\n", GUEST_NAME, scenarios[i].name);
            passed++;
        } else {
            printf("FAIL %s/%s: %s\n", GUEST_NAME, scenarios[i].name, why);
            failed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
