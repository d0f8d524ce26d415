/*
 * trap.c: a handler that traps (executes `unreachable`) on purpose, to test
 * how the host reports a guest that dies before or while it responds.
 *
 *   /trap                traps before response-outparam.set: nothing was sent,
 *                        so the host must answer on its own (a 500)
 *   /trap-after-headers  sets the response (200, content-type: text/plain),
 *                        writes "partial body\n" (blocking-write-and-flush),
 *                        then traps: the head is (or may be) out, the body is
 *                        incomplete and never finished
 *   anything else        200, content-type: text/plain, body "ok\n"
 *
 * Only the path is compared: a query (/trap?x=1) does not matter.
 */
#define GUEST "trap"
#include "common.h"

static const char PARTIAL[] = "partial body\n";

/* Whether PATH_WITH_QUERY's path (what comes before any '?') is PATH. */
static bool path_is(const char *path_with_query, const char *path) {
    size_t n = strcspn(path_with_query, "?");
    return n == strlen(path) && memcmp(path_with_query, path, n) == 0;
}

void exports_wasi_http_incoming_handler_handle(own_incoming_request request, own_outparam outparam) {
    char *path = request_path(wasi_http_types_borrow_incoming_request(request));
    if (!path) {
        respond_text(outparam, 500, "out of memory\n");
    } else if (path_is(path, "/trap")) {
        __builtin_trap(); /* the outparam is never set */
    } else if (path_is(path, "/trap-after-headers")) {
        char why[300];
        own_fields headers = wasi_http_types_constructor_fields();
        if (!add_header(wasi_http_types_borrow_fields(headers), "content-type", "text/plain", why, sizeof why))
            log_line(why);
        response_body rb;
        if (start_response(outparam, 200, headers, &rb, why, sizeof why)) {
            if (!write_blocking(wasi_io_streams_borrow_output_stream(rb.stream), (const uint8_t *)PARTIAL,
                                sizeof PARTIAL - 1, why, sizeof why))
                log_line(why);
        } else {
            log_line(why);
        }
        __builtin_trap(); /* the body is never finished */
    } else {
        respond_text(outparam, 200, "ok\n");
    }
    free(path);
    wasi_http_types_incoming_request_drop_own(request);
}
