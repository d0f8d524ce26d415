/*
 * sockets.c: test guest for wasi:sockets, through C bindings from
 * `wit-bindgen c` (world weld:guests/sockets). Debian's wasi-libc (2022,
 * preview 1) has no socket calls, so the guest calls WASI 0.2 directly; libc
 * is used for printing and for parsing/printing IP addresses.
 *
 *   tcp-echo-client HOST PORT  connects, sends "ping weld\n", shuts down its
 *                              sending side, reads the echo to the end, prints it
 *   tcp-echo-server PORT       binds 127.0.0.1:PORT (0: any free port), prints
 *                              "listening on 127.0.0.1:P", accepts one
 *                              connection, echoes it until EOF, prints
 *                              "served N bytes"
 *   udp-echo-client HOST PORT  sends "ping weld\n" in one datagram and prints
 *                              the datagram that comes back (2 s timeout)
 *   lookup NAME                ip-name-lookup: prints the addresses, sorted
 *
 * HOST is an IPv4 or IPv6 literal. Exit status: 0 ok; 1 a check failed; 2 the
 * host returned a wasi:sockets error, printed as "error-code: <name>" (for
 * example "error-code: access-denied" when the network is not allowed); 3 the
 * UDP echo timed out; 64 usage. See README.md for the expected output.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sockets.h"

typedef wasi_sockets_network_error_code_t net_error;
typedef wasi_sockets_network_ip_socket_address_t socket_address;
typedef wasi_sockets_network_own_network_t own_network;
typedef wasi_io_poll_own_pollable_t own_pollable;

#define PING "ping weld\n"
#define EXIT_NET_ERROR 2
#define EXIT_TIMEOUT 3

/* ---- printing ------------------------------------------------------------------ */

static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* wasi:sockets/network error-code names, in WIT order. */
static const char *net_error_name(net_error code) {
    static const char *const names[] = {
        "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory",
        "timeout", "concurrency-conflict", "not-in-progress", "would-block", "invalid-state",
        "new-socket-limit", "address-not-bindable", "address-in-use", "remote-unreachable",
        "connection-refused", "connection-reset", "connection-aborted", "datagram-too-large",
        "name-unresolvable", "temporary-resolver-failure", "permanent-resolver-failure",
    };
    return code < sizeof names / sizeof names[0] ? names[code] : "(unknown error-code)";
}

/* Prints "<what>: error-code: <name>" and returns exit status 2. */
static int net_failed(const char *what, net_error code) {
    say("%s: error-code: %s\n", what, net_error_name(code));
    return EXIT_NET_ERROR;
}

static int check_failed(const char *what) {
    say("FAIL: %s\n", what);
    return 1;
}

/* Names a stream-error and drops the error resource it may carry. */
static const char *stream_error_name(wasi_io_streams_stream_error_t *err) {
    if (err->tag == WASI_IO_STREAMS_STREAM_ERROR_CLOSED)
        return "closed";
    wasi_io_error_error_drop_own(err->val.last_operation_failed);
    return "last-operation-failed";
}

/* ---- addresses -------------------------------------------------------------------- */

/* Parses an IPv4 or IPv6 literal and a port into ADDR. */
static bool parse_address(const char *host, const char *port_text, socket_address *addr) {
    char *end;
    unsigned long port = strtoul(port_text, &end, 10);
    if (*end != '\0' || port > 65535)
        return false;
    uint8_t b[16];
    memset(addr, 0, sizeof *addr);
    if (inet_pton(AF_INET, host, b) == 1) {
        addr->tag = WASI_SOCKETS_NETWORK_IP_SOCKET_ADDRESS_IPV4;
        addr->val.ipv4.port = (uint16_t)port;
        addr->val.ipv4.address = (wasi_sockets_network_ipv4_address_t){b[0], b[1], b[2], b[3]};
        return true;
    }
    if (inet_pton(AF_INET6, host, b) == 1) {
        addr->tag = WASI_SOCKETS_NETWORK_IP_SOCKET_ADDRESS_IPV6;
        addr->val.ipv6.port = (uint16_t)port;
        uint16_t *w = &addr->val.ipv6.address.f0;
        for (int i = 0; i < 8; i++)
            w[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
        return true;
    }
    return false;
}

static wasi_sockets_network_ip_address_family_t family_of(const socket_address *addr) {
    return addr->tag == WASI_SOCKETS_NETWORK_IP_SOCKET_ADDRESS_IPV4 ? WASI_SOCKETS_NETWORK_IP_ADDRESS_FAMILY_IPV4
                                                                   : WASI_SOCKETS_NETWORK_IP_ADDRESS_FAMILY_IPV6;
}

/* The 16 bytes of an IPv6 address (or 4 of an IPv4 one) in network order. */
static void ipv6_bytes(const wasi_sockets_network_ipv6_address_t *a, uint8_t out[16]) {
    const uint16_t *w = &a->f0;
    for (int i = 0; i < 8; i++) {
        out[2 * i] = (uint8_t)(w[i] >> 8);
        out[2 * i + 1] = (uint8_t)w[i];
    }
}

/* "127.0.0.1" or "::1" for an ip-address. */
static const char *ip_text(const wasi_sockets_network_ip_address_t *ip, char *buf, size_t cap) {
    uint8_t b[16];
    if (ip->tag == WASI_SOCKETS_NETWORK_IP_ADDRESS_IPV4) {
        const wasi_sockets_network_ipv4_address_t *a = &ip->val.ipv4;
        b[0] = a->f0, b[1] = a->f1, b[2] = a->f2, b[3] = a->f3;
        return inet_ntop(AF_INET, b, buf, (socklen_t)cap);
    }
    ipv6_bytes(&ip->val.ipv6, b);
    return inet_ntop(AF_INET6, b, buf, (socklen_t)cap);
}

/* "127.0.0.1:8080" or "[::1]:8080" for a socket address. */
static const char *address_text(const socket_address *addr) {
    static char text[64];
    char ip[INET6_ADDRSTRLEN];
    wasi_sockets_network_ip_address_t a;
    if (addr->tag == WASI_SOCKETS_NETWORK_IP_SOCKET_ADDRESS_IPV4) {
        a.tag = WASI_SOCKETS_NETWORK_IP_ADDRESS_IPV4;
        a.val.ipv4 = addr->val.ipv4.address;
        snprintf(text, sizeof text, "%s:%u", ip_text(&a, ip, sizeof ip), addr->val.ipv4.port);
    } else {
        a.tag = WASI_SOCKETS_NETWORK_IP_ADDRESS_IPV6;
        a.val.ipv6 = addr->val.ipv6.address;
        snprintf(text, sizeof text, "[%s]:%u", ip_text(&a, ip, sizeof ip), addr->val.ipv6.port);
    }
    return text;
}

/* ---- waiting ------------------------------------------------------------------------- */

static void block_on(own_pollable p) {
    wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(p));
    wasi_io_poll_pollable_drop_own(p);
}

/* Waits for P or for TIMEOUT_MS; drops P; returns whether P became ready. */
static bool wait_or_timeout(own_pollable p, uint64_t timeout_ms) {
    own_pollable timer = wasi_clocks_monotonic_clock_subscribe_duration(timeout_ms * 1000000ull);
    wasi_io_poll_borrow_pollable_t both[2] = {wasi_io_poll_borrow_pollable(p), wasi_io_poll_borrow_pollable(timer)};
    wasi_io_poll_list_borrow_pollable_t list = {both, 2};
    sockets_list_u32_t ready;
    wasi_io_poll_poll(&list, &ready);
    bool p_ready = false;
    for (size_t i = 0; i < ready.len; i++)
        p_ready |= ready.ptr[i] == 0;
    sockets_list_u32_free(&ready);
    wasi_io_poll_pollable_drop_own(timer);
    wasi_io_poll_pollable_drop_own(p);
    return p_ready;
}

/* ---- streams -------------------------------------------------------------------------- */

/* Writes LEN bytes with blocking-write-and-flush, 4096 bytes a call at most. */
static bool write_all(wasi_io_streams_own_output_stream_t out, const uint8_t *data, size_t len) {
    while (len > 0) {
        size_t n = len < 4096 ? len : 4096;
        sockets_list_u8_t bytes = {(uint8_t *)data, n};
        wasi_io_streams_stream_error_t err;
        if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
                wasi_io_streams_borrow_output_stream(out), &bytes, &err)) {
            say("write: stream-error: %s\n", stream_error_name(&err));
            return false;
        }
        data += n;
        len -= n;
    }
    return true;
}

/* blocking-read of up to 64 KiB; false at the end of the stream (or an error). */
static bool read_some(wasi_io_streams_own_input_stream_t in, sockets_list_u8_t *bytes) {
    wasi_io_streams_stream_error_t err;
    if (wasi_io_streams_method_input_stream_blocking_read(wasi_io_streams_borrow_input_stream(in), 64 * 1024,
                                                          bytes, &err))
        return true;
    const char *why = stream_error_name(&err);
    if (strcmp(why, "closed") != 0)
        say("read: stream-error: %s\n", why);
    return false;
}

/* ---- cases ---------------------------------------------------------------------------- */

static int case_tcp_echo_client(char **args) {
    socket_address remote;
    if (!parse_address(args[0], args[1], &remote))
        return check_failed("HOST must be an IP address and PORT a number");
    own_network net = wasi_sockets_instance_network_instance_network();
    wasi_sockets_tcp_own_tcp_socket_t sock;
    net_error err;
    if (!wasi_sockets_tcp_create_socket_create_tcp_socket(family_of(&remote), &sock, &err))
        return net_failed("create-tcp-socket", err);
    wasi_sockets_tcp_borrow_tcp_socket_t s = wasi_sockets_tcp_borrow_tcp_socket(sock);
    if (!wasi_sockets_tcp_method_tcp_socket_start_connect(s, wasi_sockets_network_borrow_network(net), &remote, &err))
        return net_failed("start-connect", err);
    wasi_sockets_tcp_tuple2_own_input_stream_own_output_stream_t io;
    while (!wasi_sockets_tcp_method_tcp_socket_finish_connect(s, &io, &err)) {
        if (err != WASI_SOCKETS_NETWORK_ERROR_CODE_WOULD_BLOCK)
            return net_failed("finish-connect", err);
        block_on(wasi_sockets_tcp_method_tcp_socket_subscribe(s));
    }
    say("connected to %s\n", address_text(&remote));
    if (!write_all(io.f1, (const uint8_t *)PING, strlen(PING)))
        return 1;
    if (!wasi_sockets_tcp_method_tcp_socket_shutdown(s, WASI_SOCKETS_TCP_SHUTDOWN_TYPE_SEND, &err))
        return net_failed("shutdown send", err);
    char echo[256];
    size_t total = 0;
    sockets_list_u8_t bytes;
    while (read_some(io.f0, &bytes)) {
        size_t n = bytes.len < sizeof echo - 1 - total ? bytes.len : sizeof echo - 1 - total;
        memcpy(echo + total, bytes.ptr, n);
        total += n;
        sockets_list_u8_free(&bytes);
    }
    echo[total] = '\0';
    say("received %zu bytes: %s", total, echo);
    if (total == 0 || echo[total - 1] != '\n')
        say("\n");
    wasi_io_streams_input_stream_drop_own(io.f0);
    wasi_io_streams_output_stream_drop_own(io.f1);
    wasi_sockets_tcp_tcp_socket_drop_own(sock);
    wasi_sockets_network_network_drop_own(net);
    return strcmp(echo, PING) == 0 ? 0 : check_failed("the echo differs from what was sent");
}

static int case_tcp_echo_server(char **args) {
    socket_address local;
    if (!parse_address("127.0.0.1", args[0], &local))
        return check_failed("PORT must be a number");
    own_network net = wasi_sockets_instance_network_instance_network();
    wasi_sockets_tcp_own_tcp_socket_t sock;
    net_error err;
    if (!wasi_sockets_tcp_create_socket_create_tcp_socket(WASI_SOCKETS_NETWORK_IP_ADDRESS_FAMILY_IPV4, &sock, &err))
        return net_failed("create-tcp-socket", err);
    wasi_sockets_tcp_borrow_tcp_socket_t s = wasi_sockets_tcp_borrow_tcp_socket(sock);
    if (!wasi_sockets_tcp_method_tcp_socket_start_bind(s, wasi_sockets_network_borrow_network(net), &local, &err))
        return net_failed("start-bind", err);
    while (!wasi_sockets_tcp_method_tcp_socket_finish_bind(s, &err)) {
        if (err != WASI_SOCKETS_NETWORK_ERROR_CODE_WOULD_BLOCK)
            return net_failed("finish-bind", err);
        block_on(wasi_sockets_tcp_method_tcp_socket_subscribe(s));
    }
    if (!wasi_sockets_tcp_method_tcp_socket_start_listen(s, &err))
        return net_failed("start-listen", err);
    while (!wasi_sockets_tcp_method_tcp_socket_finish_listen(s, &err)) {
        if (err != WASI_SOCKETS_NETWORK_ERROR_CODE_WOULD_BLOCK)
            return net_failed("finish-listen", err);
        block_on(wasi_sockets_tcp_method_tcp_socket_subscribe(s));
    }
    socket_address bound;
    if (!wasi_sockets_tcp_method_tcp_socket_local_address(s, &bound, &err))
        return net_failed("local-address", err);
    say("listening on %s\n", address_text(&bound));

    wasi_sockets_tcp_tuple3_own_tcp_socket_own_input_stream_own_output_stream_t conn;
    while (!wasi_sockets_tcp_method_tcp_socket_accept(s, &conn, &err)) {
        if (err != WASI_SOCKETS_NETWORK_ERROR_CODE_WOULD_BLOCK)
            return net_failed("accept", err);
        block_on(wasi_sockets_tcp_method_tcp_socket_subscribe(s));
    }
    say("accepted a connection\n");
    size_t served = 0;
    sockets_list_u8_t bytes;
    while (read_some(conn.f1, &bytes)) {
        bool ok = write_all(conn.f2, bytes.ptr, bytes.len);
        served += bytes.len;
        sockets_list_u8_free(&bytes);
        if (!ok)
            return 1;
    }
    say("served %zu bytes\n", served);
    wasi_io_streams_input_stream_drop_own(conn.f1);
    wasi_io_streams_output_stream_drop_own(conn.f2);
    wasi_sockets_tcp_tcp_socket_drop_own(conn.f0);
    wasi_sockets_tcp_tcp_socket_drop_own(sock);
    wasi_sockets_network_network_drop_own(net);
    return 0;
}

static int case_udp_echo_client(char **args) {
    socket_address remote, local;
    if (!parse_address(args[0], args[1], &remote))
        return check_failed("HOST must be an IP address and PORT a number");
    /* Bind to the unspecified address of the same family, any port. */
    parse_address(remote.tag == WASI_SOCKETS_NETWORK_IP_SOCKET_ADDRESS_IPV4 ? "0.0.0.0" : "::", "0", &local);
    own_network net = wasi_sockets_instance_network_instance_network();
    wasi_sockets_udp_own_udp_socket_t sock;
    net_error err;
    if (!wasi_sockets_udp_create_socket_create_udp_socket(family_of(&remote), &sock, &err))
        return net_failed("create-udp-socket", err);
    wasi_sockets_udp_borrow_udp_socket_t s = wasi_sockets_udp_borrow_udp_socket(sock);
    if (!wasi_sockets_udp_method_udp_socket_start_bind(s, wasi_sockets_network_borrow_network(net), &local, &err))
        return net_failed("start-bind", err);
    while (!wasi_sockets_udp_method_udp_socket_finish_bind(s, &err)) {
        if (err != WASI_SOCKETS_NETWORK_ERROR_CODE_WOULD_BLOCK)
            return net_failed("finish-bind", err);
        block_on(wasi_sockets_udp_method_udp_socket_subscribe(s));
    }
    wasi_sockets_udp_tuple2_own_incoming_datagram_stream_own_outgoing_datagram_stream_t streams;
    if (!wasi_sockets_udp_method_udp_socket_stream(s, &remote, &streams, &err))
        return net_failed("stream", err);
    wasi_sockets_udp_borrow_outgoing_datagram_stream_t out = wasi_sockets_udp_borrow_outgoing_datagram_stream(streams.f1);
    wasi_sockets_udp_borrow_incoming_datagram_stream_t in = wasi_sockets_udp_borrow_incoming_datagram_stream(streams.f0);

    uint64_t permits = 0;
    while (permits == 0) {
        if (!wasi_sockets_udp_method_outgoing_datagram_stream_check_send(out, &permits, &err))
            return net_failed("check-send", err);
        if (permits == 0)
            block_on(wasi_sockets_udp_method_outgoing_datagram_stream_subscribe(out));
    }
    wasi_sockets_udp_outgoing_datagram_t dgram = {.data = {(uint8_t *)PING, strlen(PING)}};
    wasi_sockets_udp_list_outgoing_datagram_t list = {&dgram, 1};
    uint64_t sent;
    if (!wasi_sockets_udp_method_outgoing_datagram_stream_send(out, &list, &sent, &err))
        return net_failed("send", err);
    if (sent != 1)
        return check_failed("send did not send the datagram");
    say("sent %zu bytes to %s\n", strlen(PING), address_text(&remote));

    wasi_sockets_udp_list_incoming_datagram_t got = {0};
    while (got.len == 0) {
        if (!wasi_sockets_udp_method_incoming_datagram_stream_receive(in, 1, &got, &err))
            return net_failed("receive", err);
        if (got.len == 0 && !wait_or_timeout(wasi_sockets_udp_method_incoming_datagram_stream_subscribe(in), 2000)) {
            say("no echo within 2 s\n");
            return EXIT_TIMEOUT;
        }
    }
    char echo[256];
    size_t n = got.ptr[0].data.len < sizeof echo - 1 ? got.ptr[0].data.len : sizeof echo - 1;
    memcpy(echo, got.ptr[0].data.ptr, n);
    echo[n] = '\0';
    say("received %zu bytes from %s: %s", got.ptr[0].data.len, address_text(&got.ptr[0].remote_address), echo);
    if (n == 0 || echo[n - 1] != '\n')
        say("\n");
    wasi_sockets_udp_list_incoming_datagram_free(&got);
    wasi_sockets_udp_incoming_datagram_stream_drop_own(streams.f0);
    wasi_sockets_udp_outgoing_datagram_stream_drop_own(streams.f1);
    wasi_sockets_udp_udp_socket_drop_own(sock);
    wasi_sockets_network_network_drop_own(net);
    return strcmp(echo, PING) == 0 ? 0 : check_failed("the echo differs from what was sent");
}

/* Sort key of an address: IPv4 before IPv6, then by bytes. */
struct found {
    int family; /* 4 or 6 */
    uint8_t bytes[16];
    char text[INET6_ADDRSTRLEN];
};

static int compare_found(const void *a, const void *b) {
    const struct found *x = a, *y = b;
    if (x->family != y->family)
        return x->family - y->family;
    return memcmp(x->bytes, y->bytes, sizeof x->bytes);
}

static int case_lookup(char **args) {
    own_network net = wasi_sockets_instance_network_instance_network();
    sockets_string_t name;
    sockets_string_set(&name, args[0]);
    wasi_sockets_ip_name_lookup_own_resolve_address_stream_t stream;
    net_error err;
    if (!wasi_sockets_ip_name_lookup_resolve_addresses(wasi_sockets_network_borrow_network(net), &name, &stream, &err))
        return net_failed("resolve-addresses", err);
    wasi_sockets_ip_name_lookup_borrow_resolve_address_stream_t s =
        wasi_sockets_ip_name_lookup_borrow_resolve_address_stream(stream);
    struct found found[64];
    size_t n = 0;
    for (;;) {
        wasi_sockets_ip_name_lookup_option_ip_address_t next;
        if (!wasi_sockets_ip_name_lookup_method_resolve_address_stream_resolve_next_address(s, &next, &err)) {
            if (err != WASI_SOCKETS_NETWORK_ERROR_CODE_WOULD_BLOCK)
                return net_failed("resolve-next-address", err);
            block_on(wasi_sockets_ip_name_lookup_method_resolve_address_stream_subscribe(s));
            continue;
        }
        if (!next.is_some)
            break;
        if (n == sizeof found / sizeof found[0])
            return check_failed("too many addresses");
        struct found *f = &found[n++];
        memset(f, 0, sizeof *f);
        if (next.val.tag == WASI_SOCKETS_NETWORK_IP_ADDRESS_IPV4) {
            f->family = 4;
            memcpy(f->bytes, &next.val.val.ipv4, 4);
        } else {
            f->family = 6;
            ipv6_bytes(&next.val.val.ipv6, f->bytes);
        }
        ip_text(&next.val, f->text, sizeof f->text);
    }
    qsort(found, n, sizeof found[0], compare_found);
    say("%s: %zu address%s\n", args[0], n, n == 1 ? "" : "es");
    for (size_t i = 0; i < n; i++)
        say("ipv%d %s\n", found[i].family, found[i].text);
    wasi_sockets_ip_name_lookup_resolve_address_stream_drop_own(stream);
    wasi_sockets_network_network_drop_own(net);
    return 0;
}

static const struct {
    const char *name;
    int nargs;
    const char *usage;
    int (*run)(char **args);
} cases[] = {
    {"tcp-echo-client", 2, "HOST PORT", case_tcp_echo_client},
    {"tcp-echo-server", 1, "PORT", case_tcp_echo_server},
    {"udp-echo-client", 2, "HOST PORT", case_udp_echo_client},
    {"lookup", 1, "NAME", case_lookup},
};

/* Ends the program with STATUS: a nonzero one through exit-with-code, since
 * returning it from main reaches the host through the preview1 adapter's
 * exit, which only says "failed" (exit status 1). */
static int finish(int status) {
    fflush(NULL);
    if (status != 0)
        wasi_cli_exit_exit_with_code((uint8_t)status);
    return 0;
}

int main(int argc, char **argv) {
    for (size_t i = 0; argc >= 2 && i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(argv[1], cases[i].name) == 0 && argc - 2 == cases[i].nargs)
            return finish(cases[i].run(argv + 2));
    fprintf(stderr, "usage: sockets CASE ARGS...; cases:\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        fprintf(stderr, "  %s %s\n", cases[i].name, cases[i].usage);
    return finish(64);
}
