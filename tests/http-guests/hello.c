/*
 * hello.c: the minimal wasi:http/incoming-handler, for load tests and for a
 * host's first run: it calls as few functions as a response allows.
 *
 * Every request, whatever its method, path, headers or body, gets
 *   200, content-type: text/plain, body "hello, world\n" (13 bytes)
 * The status is the outgoing-response default (no set-status-code); the body is
 * one blocking-write-and-flush, then outgoing-body.finish. The request body is
 * never read. Nothing is logged: if the host refuses something before the
 * response is set, the response-outparam gets error-code internal-error; after
 * that, the body is dropped unfinished.
 */
#define GUEST "hello"
#include "common.h"

static const char HELLO[] = "hello, world\n";

void exports_wasi_http_incoming_handler_handle(own_incoming_request request, own_outparam outparam) {
    wasi_http_types_incoming_request_drop_own(request);

    own_fields headers = wasi_http_types_constructor_fields();
    guest_string_t name = {(uint8_t *)"content-type", 12};
    wasi_http_types_field_value_t value = {(uint8_t *)"text/plain", 10};
    wasi_http_types_header_error_t header_err;
    (void)wasi_http_types_method_fields_append(wasi_http_types_borrow_fields(headers), &name, &value, &header_err);

    own_outgoing_response response = wasi_http_types_constructor_outgoing_response(headers);
    own_outgoing_body body;
    own_output stream;
    wasi_http_types_result_own_outgoing_response_error_code_t result = {.is_err = false};
    if (!wasi_http_types_method_outgoing_response_body(wasi_http_types_borrow_outgoing_response(response), &body)) {
        result.is_err = true;
    } else if (!wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body(body), &stream)) {
        wasi_http_types_outgoing_body_drop_own(body);
        result.is_err = true;
    }
    if (result.is_err) {
        wasi_http_types_outgoing_response_drop_own(response);
        result.val.err = (error_code){.tag = WASI_HTTP_TYPES_ERROR_CODE_INTERNAL_ERROR};
        wasi_http_types_static_response_outparam_set(outparam, &result);
        return;
    }
    result.val.ok = response;
    wasi_http_types_static_response_outparam_set(outparam, &result);

    guest_list_u8_t bytes = {(uint8_t *)HELLO, sizeof HELLO - 1};
    stream_error err;
    bool written = wasi_io_streams_method_output_stream_blocking_write_and_flush(
        wasi_io_streams_borrow_output_stream(stream), &bytes, &err);
    wasi_io_streams_output_stream_drop_own(stream);
    if (!written) {
        if (err.tag == WASI_IO_STREAMS_STREAM_ERROR_LAST_OPERATION_FAILED)
            wasi_io_error_error_drop_own(err.val.last_operation_failed);
        wasi_http_types_outgoing_body_drop_own(body); /* unfinished: the host aborts the response */
        return;
    }
    error_code finish_err;
    if (!wasi_http_types_static_outgoing_body_finish(body, NULL, &finish_err))
        wasi_http_types_error_code_free(&finish_err);
}
