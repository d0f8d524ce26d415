/*
 * echo.c: answers every request with itself.
 *
 * Response head (status 200), sent before any of the body is read:
 *   - every request header, as is: the same names, values and order, all of
 *     them (fields.entries, then one fields.append each); a field the host
 *     refuses as `forbidden` is left out and its name listed in x-echo-forbidden
 *   - x-echo-method: GET, POST, ... (for method `other`, its text)
 *   - x-echo-path: the path-with-query (absent if the request has none)
 *   - x-echo-forbidden: the names left out, joined by ", " (absent if none)
 * Response body: the request body, streamed: blocking-read of up to 64 KiB at a
 * time, each chunk written as it arrives (check-write budgets, write, flush),
 * so a body of any size is never held whole.
 * Response trailers: the request's trailers, if it had any
 * (incoming-body.finish -> future-trailers), copied (fields.clone) and given to
 * outgoing-body.finish; with no trailers (none, or an empty set), finish gets none.
 *
 * Errors before the head goes out answer 500 with a text/plain message; errors
 * after it are logged on stderr and the body is dropped unfinished (the host
 * should abort the response).
 */
#define GUEST "echo"
#include "common.h"

/* The method's name as a malloc'd C string. */
static char *method_name(incoming_request req) {
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                        "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    wasi_http_types_method_t m;
    wasi_http_types_method_incoming_request_method(req, &m);
    char *s;
    if (m.tag == WASI_HTTP_TYPES_METHOD_OTHER) {
        s = malloc(m.val.other.len + 1);
        if (s) {
            memcpy(s, m.val.other.ptr, m.val.other.len);
            s[m.val.other.len] = 0;
        }
    } else {
        s = strdup(m.tag < sizeof names / sizeof names[0] ? names[m.tag] : "?");
    }
    wasi_http_types_method_free(&m);
    return s;
}

/* Appends ", NAME" (or "NAME" at first) to the malloc'd list *LIST. */
static bool list_add(char **list, const uint8_t *name, size_t len) {
    size_t old = *list ? strlen(*list) : 0;
    char *grown = realloc(*list, old + 2 + len + 1);
    if (!grown)
        return false;
    if (old) {
        memcpy(grown + old, ", ", 2);
        old += 2;
    }
    memcpy(grown + old, name, len);
    grown[old + len] = 0;
    *list = grown;
    return true;
}

/* Builds the response headers (see the top of the file) into *OUT. */
static bool echo_headers(incoming_request req, own_fields *out, char *why, size_t cap) {
    own_fields reqh = wasi_http_types_method_incoming_request_headers(req);
    wasi_http_types_list_tuple2_field_name_field_value_t entries;
    wasi_http_types_method_fields_entries(wasi_http_types_borrow_fields(reqh), &entries);
    wasi_http_types_fields_drop_own(reqh);

    own_fields resp = wasi_http_types_constructor_fields();
    fields h = wasi_http_types_borrow_fields(resp);
    char *forbidden = NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < entries.len; i++) {
        wasi_http_types_header_error_t err;
        if (wasi_http_types_method_fields_append(h, &entries.ptr[i].f0, &entries.ptr[i].f1, &err))
            continue;
        if (err.tag == WASI_HTTP_TYPES_HEADER_ERROR_FORBIDDEN) {
            if (!list_add(&forbidden, entries.ptr[i].f0.ptr, entries.ptr[i].f0.len)) {
                format(why, cap, "out of memory");
                ok = false;
            }
        } else {
            format(why, cap, "fields.append %.*s: header-error %s", (int)entries.ptr[i].f0.len,
                     (const char *)entries.ptr[i].f0.ptr, header_error_name(err));
            ok = false;
        }
    }
    wasi_http_types_list_tuple2_field_name_field_value_free(&entries);

    char *method = ok ? method_name(req) : NULL;
    if (ok && !method) {
        format(why, cap, "out of memory");
        ok = false;
    }
    ok = ok && add_header(h, "x-echo-method", method, why, cap);
    guest_string_t path;
    if (ok && wasi_http_types_method_incoming_request_path_with_query(req, &path)) {
        wasi_http_types_field_value_t v = {path.ptr, path.len};
        guest_string_t name = {(uint8_t *)"x-echo-path", strlen("x-echo-path")};
        wasi_http_types_header_error_t err;
        if (!wasi_http_types_method_fields_append(h, &name, &v, &err)) {
            format(why, cap, "fields.append x-echo-path: header-error %s", header_error_name(err));
            ok = false;
        }
        guest_string_free(&path);
    }
    if (ok && forbidden)
        ok = add_header(h, "x-echo-forbidden", forbidden, why, cap);
    free(method);
    free(forbidden);
    if (!ok) {
        wasi_http_types_fields_drop_own(resp);
        return false;
    }
    *out = resp;
    return true;
}

/* Waits for the request's trailers. Sets *HAVE and *TRAILERS (a fresh, mutable
 * copy, ready to be moved into outgoing-body.finish) when there are some. */
static bool take_trailers(own_incoming_body body, bool *have, own_fields *trailers, char *why, size_t cap) {
    own_future_trailers future = wasi_http_types_static_incoming_body_finish(body);
    wasi_http_types_borrow_future_trailers_t f = wasi_http_types_borrow_future_trailers(future);
    own_pollable ready = wasi_http_types_method_future_trailers_subscribe(f);
    wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
    wasi_io_poll_pollable_drop_own(ready);

    wasi_http_types_result_result_option_own_trailers_error_code_void_t got;
    bool ok = false;
    *have = false;
    if (!wasi_http_types_method_future_trailers_get(f, &got)) {
        format(why, cap, "future-trailers.get: none after its pollable was ready");
    } else if (got.is_err) {
        format(why, cap, "future-trailers.get: error (already taken)");
    } else if (got.val.ok.is_err) {
        format(why, cap, "request trailers: error-code %s", error_code_name(&got.val.ok.val.err));
        wasi_http_types_error_code_free(&got.val.ok.val.err);
    } else {
        ok = true;
        if (got.val.ok.val.ok.is_some) {
            /* The trailers we got are an immutable child of the future: copy
             * them, unless there are none (some hosts give an empty set rather
             * than `none` when the request had no trailers). */
            own_fields child = got.val.ok.val.ok.val;
            wasi_http_types_list_tuple2_field_name_field_value_t entries;
            wasi_http_types_method_fields_entries(wasi_http_types_borrow_fields(child), &entries);
            if (entries.len > 0) {
                *trailers = wasi_http_types_method_fields_clone(wasi_http_types_borrow_fields(child));
                *have = true;
            }
            wasi_http_types_list_tuple2_field_name_field_value_free(&entries);
            wasi_http_types_fields_drop_own(child);
        }
    }
    wasi_http_types_future_trailers_drop_own(future);
    return ok;
}

void exports_wasi_http_incoming_handler_handle(own_incoming_request request, own_outparam outparam) {
    char why[400], msg[420];
    incoming_request req = wasi_http_types_borrow_incoming_request(request);

    /* Everything that can fail with a 500 comes before the head goes out. */
    own_fields headers;
    if (!echo_headers(req, &headers, why, sizeof why)) {
        format(msg, sizeof msg, "%s\n", why);
        respond_text(outparam, 500, msg);
        wasi_http_types_incoming_request_drop_own(request);
        return;
    }
    own_incoming_body body;
    own_input in;
    if (!wasi_http_types_method_incoming_request_consume(req, &body)) {
        wasi_http_types_fields_drop_own(headers);
        respond_text(outparam, 500, "incoming-request.consume failed\n");
        wasi_http_types_incoming_request_drop_own(request);
        return;
    }
    if (!wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(body), &in)) {
        wasi_http_types_fields_drop_own(headers);
        wasi_http_types_incoming_body_drop_own(body);
        respond_text(outparam, 500, "incoming-body.stream failed\n");
        wasi_http_types_incoming_request_drop_own(request);
        return;
    }

    /* The head goes out now, before the body is read. */
    response_body rb;
    if (!start_response(outparam, 200, headers, &rb, why, sizeof why)) {
        log_line(why);
        wasi_io_streams_input_stream_drop_own(in);
        wasi_http_types_incoming_body_drop_own(body);
        wasi_http_types_incoming_request_drop_own(request);
        return;
    }

    uint64_t copied = 0;
    bool ok = copy_stream(wasi_io_streams_borrow_input_stream(in),
                          wasi_io_streams_borrow_output_stream(rb.stream), &copied, why, sizeof why);
    wasi_io_streams_input_stream_drop_own(in); /* before finish, which traps on a live stream */
    if (!ok) {
        wasi_http_types_incoming_body_drop_own(body);
        abandon_response(&rb, why);
    } else {
        bool have = false;
        own_fields trailers;
        if (!take_trailers(body, &have, &trailers, why, sizeof why))
            abandon_response(&rb, why);
        else if (!finish_response(&rb, have ? &trailers : NULL, why, sizeof why))
            log_line(why);
    }
    wasi_http_types_incoming_request_drop_own(request);
}
