/*
 * fetch.c: makes one outgoing request with wasi:http/outgoing-handler and
 * answers with what came back.
 *
 * The target comes from two request headers:
 *   x-fetch-authority  host:port, e.g. 127.0.0.1:8123
 *   x-fetch-path       path-with-query, e.g. /data?x=1 (default "/")
 * The outgoing request is GET http://<authority><path>, no headers, and no body
 * (outgoing-request.body is never taken).
 *
 * It waits for the future-incoming-response (subscribe, then wasi:io/poll.poll),
 * then answers:
 *   - 200, x-fetch-status: <the fetched status>, body: the fetched body,
 *     streamed through (64 KiB blocking-reads, each written as it arrives);
 *     the fetched response's headers and trailers are not passed on
 *   - 502, x-fetch-error: <name>, content-type: text/plain, body "<name>\n"
 *     when outgoing-handler.handle or the future returns an error-code: <name>
 *     is the case's name as spelled in the WIT (HTTP-request-denied,
 *     connection-refused, DNS-error, internal-error, ...)
 *   - 400 with a text/plain message when x-fetch-authority is missing
 *   - 500 with a text/plain message when the host refuses a request field
 */
#define GUEST "fetch"
#include "common.h"

/* Answers 502 naming CODE (in x-fetch-error and in the body), and frees CODE. */
static void respond_error_code(own_outparam outparam, error_code *code) {
    char why[300], body[64];
    const char *name = error_code_name(code);
    own_fields headers = wasi_http_types_constructor_fields();
    fields h = wasi_http_types_borrow_fields(headers);
    if (!add_header(h, "content-type", "text/plain", why, sizeof why) ||
        !add_header(h, "x-fetch-error", name, why, sizeof why))
        log_line(why);
    format(body, sizeof body, "%s\n", name);
    wasi_http_types_error_code_free(code);
    response_body rb;
    if (!start_response(outparam, 502, headers, &rb, why, sizeof why)) {
        log_line(why);
        return;
    }
    if (!write_blocking(wasi_io_streams_borrow_output_stream(rb.stream), (const uint8_t *)body, strlen(body),
                        why, sizeof why))
        abandon_response(&rb, why);
    else if (!finish_response(&rb, NULL, why, sizeof why))
        log_line(why);
}

/* The outgoing request GET http://AUTHORITY PATH, or false with WHY. */
static bool make_request(const char *authority, const char *path,
                         wasi_http_types_own_outgoing_request_t *out, char *why, size_t cap) {
    wasi_http_types_own_outgoing_request_t request =
        wasi_http_types_constructor_outgoing_request(wasi_http_types_constructor_fields());
    wasi_http_types_borrow_outgoing_request_t r = wasi_http_types_borrow_outgoing_request(request);
    wasi_http_types_method_t get = {.tag = WASI_HTTP_TYPES_METHOD_GET};
    wasi_http_types_scheme_t http = {.tag = WASI_HTTP_TYPES_SCHEME_HTTP};
    guest_string_t a = {(uint8_t *)authority, strlen(authority)};
    guest_string_t p = {(uint8_t *)path, strlen(path)};
    const char *refused = NULL;
    if (!wasi_http_types_method_outgoing_request_set_method(r, &get))
        refused = "set-method GET";
    else if (!wasi_http_types_method_outgoing_request_set_scheme(r, &http))
        refused = "set-scheme http";
    else if (!wasi_http_types_method_outgoing_request_set_authority(r, &a))
        refused = "set-authority";
    else if (!wasi_http_types_method_outgoing_request_set_path_with_query(r, &p))
        refused = "set-path-with-query";
    if (refused) {
        format(why, cap, "outgoing-request.%s refused (authority \"%s\", path \"%s\")\n", refused, authority,
                 path);
        wasi_http_types_outgoing_request_drop_own(request);
        return false;
    }
    *out = request;
    return true;
}

/* Waits until FUTURE is ready: subscribe, then poll([pollable]). */
static void wait_for(wasi_http_types_borrow_future_incoming_response_t future) {
    own_pollable ready = wasi_http_types_method_future_incoming_response_subscribe(future);
    wasi_io_poll_borrow_pollable_t list[1] = {wasi_io_poll_borrow_pollable(ready)};
    wasi_io_poll_list_borrow_pollable_t in = {list, 1};
    guest_list_u32_t indexes;
    wasi_io_poll_poll(&in, &indexes); /* returns once the one pollable is ready */
    guest_list_u32_free(&indexes);
    wasi_io_poll_pollable_drop_own(ready);
}

/* Answers 200 with the fetched status and the fetched body. */
static void relay(own_outparam outparam, wasi_http_types_own_incoming_response_t response) {
    char why[300], status[8];
    wasi_http_types_borrow_incoming_response_t r = wasi_http_types_borrow_incoming_response(response);
    own_incoming_body body;
    own_input in;
    if (!wasi_http_types_method_incoming_response_consume(r, &body)) {
        respond_text(outparam, 500, "incoming-response.consume failed\n");
        wasi_http_types_incoming_response_drop_own(response);
        return;
    }
    if (!wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(body), &in)) {
        respond_text(outparam, 500, "incoming-body.stream failed\n");
        wasi_http_types_incoming_body_drop_own(body);
        wasi_http_types_incoming_response_drop_own(response);
        return;
    }
    format(status, sizeof status, "%u", wasi_http_types_method_incoming_response_status(r));
    own_fields headers = wasi_http_types_constructor_fields();
    if (!add_header(wasi_http_types_borrow_fields(headers), "x-fetch-status", status, why, sizeof why))
        log_line(why);

    response_body rb;
    if (start_response(outparam, 200, headers, &rb, why, sizeof why)) {
        uint64_t copied = 0;
        if (!copy_stream(wasi_io_streams_borrow_input_stream(in), wasi_io_streams_borrow_output_stream(rb.stream),
                         &copied, why, sizeof why))
            abandon_response(&rb, why);
        else if (!finish_response(&rb, NULL, why, sizeof why))
            log_line(why);
    } else {
        log_line(why);
    }
    wasi_io_streams_input_stream_drop_own(in);
    wasi_http_types_incoming_body_drop_own(body);
    wasi_http_types_incoming_response_drop_own(response);
}

void exports_wasi_http_incoming_handler_handle(own_incoming_request request, own_outparam outparam) {
    char why[400];
    own_fields reqh = wasi_http_types_method_incoming_request_headers(wasi_http_types_borrow_incoming_request(request));
    char *authority = get_header(wasi_http_types_borrow_fields(reqh), "x-fetch-authority");
    char *path = get_header(wasi_http_types_borrow_fields(reqh), "x-fetch-path");
    wasi_http_types_fields_drop_own(reqh);

    wasi_http_types_own_outgoing_request_t outgoing;
    wasi_http_types_own_future_incoming_response_t future;
    error_code code;
    if (!authority) {
        respond_text(outparam, 400, "missing header x-fetch-authority\n");
    } else if (!make_request(authority, path ? path : "/", &outgoing, why, sizeof why)) {
        respond_text(outparam, 500, why);
    } else if (!wasi_http_outgoing_handler_handle(outgoing, NULL, &future, &code)) {
        respond_error_code(outparam, &code); /* e.g. HTTP-request-denied */
    } else {
        wasi_http_types_borrow_future_incoming_response_t f = wasi_http_types_borrow_future_incoming_response(future);
        wait_for(f);
        wasi_http_types_result_result_own_incoming_response_error_code_void_t got;
        if (!wasi_http_types_method_future_incoming_response_get(f, &got))
            respond_text(outparam, 500, "future-incoming-response.get: none after its pollable was ready\n");
        else if (got.is_err)
            respond_text(outparam, 500, "future-incoming-response.get: error (already taken)\n");
        else if (got.val.ok.is_err)
            respond_error_code(outparam, &got.val.ok.val.err); /* e.g. connection-refused */
        else
            relay(outparam, got.val.ok.val.ok);
        wasi_http_types_future_incoming_response_drop_own(future);
    }
    free(authority);
    free(path);
    wasi_http_types_incoming_request_drop_own(request);
}
