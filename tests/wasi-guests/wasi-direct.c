/*
 * wasi-direct.c: test guest calling WASI 0.2 interfaces directly, through C
 * bindings from `wit-bindgen c` (world weld:guests/wasi-direct), for what libc
 * cannot express. wasi-libc is still used for printing and for main().
 *
 *   read-4gib                 descriptor.read and input-stream reads with huge lengths
 *   drop-stream-with-pollable drops stdin's input-stream before its pollable
 *   poll-mixed                polls a 30 ms timer together with stdout
 *   poll-timeout              polls a 200 ms and a 20 ms timer
 *   write-budget              1 MiB to stdout by check-write/write/flush and by
 *                             blocking-write-and-flush in 4096-byte calls
 *   blocking-write-4097       one blocking-write-and-flush of 4097 bytes (over
 *                             the 4096 the spec allows)
 *   stream-after-close        reads a file input-stream past its end
 *   write-readonly-preopen    write access through a read-only /sandbox
 *   descriptor-flags          get-flags of /sandbox and of a file in it
 *   escape-direct             open-at, stat-at, link-at, rename-at and symlinks
 *                             reaching out of /sandbox, with no libc in between
 *
 * Cases that use files expect /sandbox preopened with hello.txt holding
 * "hello sandbox\n" (the fs guest's fixture). Errors are printed by their WIT
 * names ("error-code: not-permitted"). Every line is flushed at once, so the
 * output before a trap is kept. See README.md for the expected output.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasi_direct.h"

typedef wasi_filesystem_types_own_descriptor_t own_descriptor;
typedef wasi_filesystem_types_borrow_descriptor_t descriptor;
typedef wasi_filesystem_types_error_code_t fs_error;
typedef wasi_io_streams_own_input_stream_t own_input;
typedef wasi_io_streams_own_output_stream_t own_output;
typedef wasi_io_poll_own_pollable_t own_pollable;

#define HELLO "hello sandbox\n"
#define MS 1000000ull /* nanoseconds */

/* ---- printing ---------------------------------------------------------------- */

/* printf, then flush: a later trap must not swallow the line. */
static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static int fail(const char *what) {
    say("FAIL: %s\n", what);
    return 1;
}

/* wasi:filesystem/types error-code names, in WIT order. */
static const char *fs_error_name(fs_error code) {
    static const char *const names[] = {
        "access", "would-block", "already", "bad-descriptor", "busy", "deadlock", "quota",
        "exist", "file-too-large", "illegal-byte-sequence", "in-progress", "interrupted",
        "invalid", "io", "is-directory", "loop", "too-many-links", "message-size",
        "name-too-long", "no-device", "no-entry", "no-lock", "insufficient-memory",
        "insufficient-space", "not-directory", "not-empty", "not-recoverable", "unsupported",
        "no-tty", "no-such-device", "overflow", "not-permitted", "pipe", "read-only",
        "invalid-seek", "text-file-busy", "cross-device",
    };
    return code < sizeof names / sizeof names[0] ? names[code] : "(unknown error-code)";
}

/* Names a stream-error and drops the error resource it may carry. */
static const char *stream_error_name(wasi_io_streams_stream_error_t *err) {
    if (err->tag == WASI_IO_STREAMS_STREAM_ERROR_CLOSED)
        return "closed";
    wasi_io_error_error_drop_own(err->val.last_operation_failed);
    return "last-operation-failed";
}

/* "read|mutate-directory" for descriptor flags; "(none)" for none. */
static const char *flags_text(wasi_filesystem_types_descriptor_flags_t flags) {
    static const char *const names[] = {
        "read", "write", "file-integrity-sync", "data-integrity-sync",
        "requested-write-sync", "mutate-directory",
    };
    static char text[128];
    text[0] = '\0';
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (flags & (1u << i)) {
            if (text[0])
                strcat(text, "|");
            strcat(text, names[i]);
        }
    }
    return text[0] ? text : "(none)";
}

/* ---- small wrappers ----------------------------------------------------------- */

static wasi_direct_string_t str(const char *s) {
    wasi_direct_string_t w;
    wasi_direct_string_set(&w, s);
    return w;
}

static uint64_t now_ns(void) {
    return wasi_clocks_monotonic_clock_now();
}

/* The preopen whose guest path is NAME; false if there is none. The other
 * preopens' descriptors are dropped. */
static bool find_preopen(const char *name, own_descriptor *out) {
    wasi_filesystem_preopens_list_tuple2_own_descriptor_string_t list;
    wasi_filesystem_preopens_get_directories(&list);
    bool found = false;
    for (size_t i = 0; i < list.len; i++) {
        wasi_direct_string_t *path = &list.ptr[i].f1;
        if (!found && path->len == strlen(name) && memcmp(path->ptr, name, path->len) == 0) {
            *out = list.ptr[i].f0;
            found = true;
        } else {
            wasi_filesystem_types_descriptor_drop_own(list.ptr[i].f0);
        }
        wasi_direct_string_free(path);
    }
    free(list.ptr);
    return found;
}

/* /sandbox's descriptor, or a FAIL line and false. */
static bool sandbox(own_descriptor *out) {
    if (find_preopen("/sandbox", out))
        return true;
    fail("no preopen at /sandbox");
    return false;
}

/* open-at(DIR, follow symlinks, PATH, OFLAGS, FLAGS). */
static bool open_at(own_descriptor dir, const char *path, wasi_filesystem_types_open_flags_t oflags,
                    wasi_filesystem_types_descriptor_flags_t flags, own_descriptor *out, fs_error *err) {
    wasi_direct_string_t p = str(path);
    return wasi_filesystem_types_method_descriptor_open_at(
        wasi_filesystem_types_borrow_descriptor(dir), WASI_FILESYSTEM_TYPES_PATH_FLAGS_SYMLINK_FOLLOW,
        &p, oflags, flags, out, err);
}

/* /sandbox/hello.txt opened for reading, or a FAIL line and false. */
static bool open_hello(own_descriptor *out) {
    own_descriptor dir;
    fs_error err;
    if (!sandbox(&dir))
        return false;
    bool ok = open_at(dir, "hello.txt", 0, WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_READ, out, &err);
    wasi_filesystem_types_descriptor_drop_own(dir);
    if (!ok)
        say("FAIL: open-at hello.txt: error-code: %s\n", fs_error_name(err));
    return ok;
}

/* Blocks until POLLABLE is ready, then drops it. */
static void block_on(own_pollable pollable) {
    wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(pollable));
    wasi_io_poll_pollable_drop_own(pollable);
}

/* poll() over N pollables; prints "<label> ready: [i, ...]" and returns
 * whether the ready list is exactly the one index WANT. */
static bool poll_expect(const char *label, own_pollable *pollables, size_t n, uint32_t want) {
    wasi_io_poll_borrow_pollable_t borrows[8];
    for (size_t i = 0; i < n; i++)
        borrows[i] = wasi_io_poll_borrow_pollable(pollables[i]);
    wasi_io_poll_list_borrow_pollable_t in = {borrows, n};
    wasi_direct_list_u32_t ready;
    wasi_io_poll_poll(&in, &ready);
    printf("%s ready: [", label);
    for (size_t i = 0; i < ready.len; i++)
        printf("%s%u", i ? ", " : "", (unsigned)ready.ptr[i]);
    say("]\n");
    bool ok = ready.len == 1 && ready.ptr[0] == want;
    wasi_direct_list_u32_free(&ready);
    return ok;
}

/* ---- cases ---------------------------------------------------------------------- */

/* descriptor.read(LEN, OFFSET) on FILE; prints what came back. */
static int descriptor_read(own_descriptor file, uint64_t len, const char *len_text, uint64_t offset,
                           const char *want) {
    wasi_direct_tuple2_list_u8_bool_t got;
    fs_error err;
    if (!wasi_filesystem_types_method_descriptor_read(wasi_filesystem_types_borrow_descriptor(file),
                                                      len, offset, &got, &err)) {
        say("FAIL: descriptor.read(len %s, offset %llu): error-code: %s\n", len_text,
            (unsigned long long)offset, fs_error_name(err));
        return 1;
    }
    say("descriptor.read(len %s, offset %llu): %zu bytes, end-of-file %s\n", len_text,
        (unsigned long long)offset, got.f0.len, got.f1 ? "true" : "false");
    bool ok = got.f0.len == strlen(want) && memcmp(got.f0.ptr, want, got.f0.len) == 0;
    wasi_direct_list_u8_free(&got.f0);
    return ok ? 0 : fail("descriptor.read returned other bytes than the file's");
}

/* Reads STREAM to its end with read(LEN) (BLOCKING: blocking-read(LEN)),
 * waiting on its pollable when a non-blocking read returns nothing. */
static int read_stream_to_end(own_input stream, bool blocking, const char *label) {
    wasi_io_streams_borrow_input_stream_t s = wasi_io_streams_borrow_input_stream(stream);
    char all[64];
    size_t total = 0, calls = 0;
    for (;;) {
        wasi_direct_list_u8_t bytes;
        wasi_io_streams_stream_error_t err;
        bool ok = blocking ? wasi_io_streams_method_input_stream_blocking_read(s, UINT64_MAX, &bytes, &err)
                           : wasi_io_streams_method_input_stream_read(s, UINT64_MAX, &bytes, &err);
        if (!ok) {
            const char *why = stream_error_name(&err);
            say("%s(len 0xFFFFFFFFFFFFFFFF) until closed: %zu bytes, then %s\n", label, total, why);
            if (strcmp(why, "closed") != 0)
                return 1;
            break;
        }
        if (bytes.len == 0 && !blocking)
            block_on(wasi_io_streams_method_input_stream_subscribe(s));
        if (total + bytes.len > sizeof all || ++calls > 1000) {
            wasi_direct_list_u8_free(&bytes);
            return fail("the stream gave more than the file holds");
        }
        memcpy(all + total, bytes.ptr, bytes.len);
        total += bytes.len;
        wasi_direct_list_u8_free(&bytes);
    }
    return total == strlen(HELLO) && memcmp(all, HELLO, total) == 0 ? 0 : fail("stream bytes differ from the file's");
}

static int case_read_4gib(void) {
    own_descriptor file;
    if (!open_hello(&file))
        return 1;
    int bad = 0;
    bad |= descriptor_read(file, 1ull << 32, "4 GiB", 0, HELLO);
    bad |= descriptor_read(file, UINT64_MAX, "0xFFFFFFFFFFFFFFFF", 0, HELLO);
    bad |= descriptor_read(file, 1ull << 32, "4 GiB", strlen(HELLO), "");
    for (int blocking = 1; blocking >= 0; blocking--) {
        own_input stream;
        fs_error err;
        if (!wasi_filesystem_types_method_descriptor_read_via_stream(
                wasi_filesystem_types_borrow_descriptor(file), 0, &stream, &err)) {
            say("FAIL: read-via-stream: error-code: %s\n", fs_error_name(err));
            return 1;
        }
        bad |= read_stream_to_end(stream, blocking, blocking ? "input-stream.blocking-read" : "input-stream.read");
        wasi_io_streams_input_stream_drop_own(stream);
    }
    wasi_filesystem_types_descriptor_drop_own(file);
    return bad;
}

static int case_drop_stream_with_pollable(void) {
    own_input in = wasi_cli_stdin_get_stdin();
    own_pollable p = wasi_io_streams_method_input_stream_subscribe(wasi_io_streams_borrow_input_stream(in));
    say("subscribed to stdin's input-stream\n");
    say("dropping the input-stream before its pollable\n");
    wasi_io_streams_input_stream_drop_own(in);
    say("the input-stream was dropped; dropping the pollable\n");
    wasi_io_poll_pollable_drop_own(p);
    say("both dropped\n");
    return 0;
}

static int case_poll_mixed(void) {
    own_output out = wasi_cli_stdout_get_stdout();
    uint64_t start = now_ns();
    own_pollable p[2] = {
        wasi_clocks_monotonic_clock_subscribe_duration(30 * MS),
        wasi_io_streams_method_output_stream_subscribe(wasi_io_streams_borrow_output_stream(out)),
    };
    int bad = 0;
    if (!poll_expect("poll([30 ms timer, stdout])", p, 2, 1))
        bad |= fail("stdout was not the only one ready");
    else
        say("ok: stdout was ready first\n");
    if (!poll_expect("poll([30 ms timer])", p, 1, 0))
        bad |= fail("the timer was not ready");
    if (now_ns() - start < 30 * MS)
        bad |= fail("the 30 ms timer fired early");
    else
        say("ok: the timer fired after >= 30 ms\n");
    wasi_io_poll_pollable_drop_own(p[0]);
    wasi_io_poll_pollable_drop_own(p[1]);
    wasi_io_streams_output_stream_drop_own(out);
    return bad;
}

static int case_poll_timeout(void) {
    uint64_t start = now_ns();
    own_pollable p[2] = {
        wasi_clocks_monotonic_clock_subscribe_duration(200 * MS),
        wasi_clocks_monotonic_clock_subscribe_duration(20 * MS),
    };
    int bad = 0;
    /* (Wasmtime's 0 ms timer answers ready() with false once, to yield to its
     * event loop, so the guest polls it rather than asking ready().) */
    own_pollable zero = wasi_clocks_monotonic_clock_subscribe_duration(0);
    if (!poll_expect("poll([0 ms timer])", &zero, 1, 0))
        bad |= fail("the 0 ms timer was not ready");
    wasi_io_poll_pollable_drop_own(zero);
    if (wasi_io_poll_method_pollable_ready(wasi_io_poll_borrow_pollable(p[0])))
        bad |= fail("the 200 ms timer is ready at once");
    else
        say("ok: the 200 ms timer is not ready at once\n");

    if (!poll_expect("poll([200 ms timer, 20 ms timer])", p, 2, 1))
        bad |= fail("the 20 ms timer was not the only one ready");
    uint64_t first = now_ns() - start;
    if (first < 20 * MS || first >= 200 * MS)
        bad |= fail("the 20 ms timer fired too early or too late");
    else
        say("ok: after >= 20 ms and < 200 ms\n");
    if (!poll_expect("poll([200 ms timer])", p, 1, 0))
        bad |= fail("the 200 ms timer was not ready");
    if (now_ns() - start < 200 * MS)
        bad |= fail("the 200 ms timer fired early");
    else
        say("ok: after >= 200 ms\n");
    wasi_io_poll_pollable_drop_own(p[0]);
    wasi_io_poll_pollable_drop_own(p[1]);
    return bad;
}

#define PAYLOAD (1024 * 1024)
#define LINE 64

/* Byte I of write-budget's payload: 64-byte lines, line k = 63 x ('a' + k % 26), '\n'. */
static void fill_payload(char *buf, size_t from, size_t len) {
    for (size_t i = 0; i < len; i++) {
        size_t at = from + i;
        buf[i] = at % LINE == LINE - 1 ? '\n' : (char)('a' + (at / LINE) % 26);
    }
}

/* Waits until OUT's check-write is positive; returns it, or 0 on a stream error. */
static uint64_t wait_for_budget(wasi_io_streams_borrow_output_stream_t out) {
    for (;;) {
        uint64_t budget;
        wasi_io_streams_stream_error_t err;
        if (!wasi_io_streams_method_output_stream_check_write(out, &budget, &err)) {
            say("FAIL: check-write: stream-error: %s\n", stream_error_name(&err));
            return 0;
        }
        if (budget > 0)
            return budget;
        block_on(wasi_io_streams_method_output_stream_subscribe(out));
    }
}

static int case_write_budget(void) {
    static char buf[64 * 1024];
    own_output own = wasi_cli_stdout_get_stdout();
    wasi_io_streams_borrow_output_stream_t out = wasi_io_streams_borrow_output_stream(own);
    wasi_io_streams_stream_error_t err;
    size_t half = PAYLOAD / 2, done = 0;

    say("write-budget: %d payload bytes follow\n", PAYLOAD);
    /* First half: check-write, write at most that much, flush, wait. */
    while (done < half) {
        uint64_t budget = wait_for_budget(out);
        if (budget == 0)
            return 1;
        size_t n = half - done;
        if (n > budget)
            n = (size_t)budget;
        if (n > sizeof buf)
            n = sizeof buf;
        fill_payload(buf, done, n);
        wasi_direct_list_u8_t bytes = {(uint8_t *)buf, n};
        if (!wasi_io_streams_method_output_stream_write(out, &bytes, &err)) {
            say("FAIL: write: stream-error: %s\n", stream_error_name(&err));
            return 1;
        }
        done += n;
    }
    if (!wasi_io_streams_method_output_stream_flush(out, &err)) {
        say("FAIL: flush: stream-error: %s\n", stream_error_name(&err));
        return 1;
    }
    if (wait_for_budget(out) == 0) /* the flush has completed */
        return 1;
    /* Second half: blocking-write-and-flush, 4096 bytes a call (the spec's most). */
    while (done < PAYLOAD) {
        size_t n = 4096;
        fill_payload(buf, done, n);
        wasi_direct_list_u8_t bytes = {(uint8_t *)buf, n};
        if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(out, &bytes, &err)) {
            say("FAIL: blocking-write-and-flush: stream-error: %s\n", stream_error_name(&err));
            return 1;
        }
        done += n;
    }
    wasi_io_streams_output_stream_drop_own(own);
    say("wrote %zu bytes: %zu by check-write/write/flush, %zu by blocking-write-and-flush\n",
        done, half, done - half);
    return 0;
}

static int case_blocking_write_4097(void) {
    static char buf[4097];
    own_output own = wasi_cli_stdout_get_stdout();
    wasi_io_streams_stream_error_t err;
    memset(buf, 'x', sizeof buf - 1);
    buf[sizeof buf - 1] = '\n';
    wasi_direct_list_u8_t bytes = {(uint8_t *)buf, sizeof buf};
    say("blocking-write-and-flush of 4097 bytes (the spec allows at most 4096)\n");
    if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
            wasi_io_streams_borrow_output_stream(own), &bytes, &err)) {
        say("stream-error: %s\n", stream_error_name(&err));
        return 0;
    }
    say("accepted\n");
    return 0;
}

/* One blocking-read(LEN) of STREAM, printed as "<label>: N bytes" or "<label>: <error>". */
static const char *read_once(own_input stream, bool blocking, const char *label) {
    wasi_direct_list_u8_t bytes;
    wasi_io_streams_stream_error_t err;
    wasi_io_streams_borrow_input_stream_t s = wasi_io_streams_borrow_input_stream(stream);
    bool ok = blocking ? wasi_io_streams_method_input_stream_blocking_read(s, 1024, &bytes, &err)
                       : wasi_io_streams_method_input_stream_read(s, 1024, &bytes, &err);
    if (!ok) {
        const char *why = stream_error_name(&err);
        say("%s: %s\n", label, why);
        return why;
    }
    say("%s: %zu bytes\n", label, bytes.len);
    wasi_direct_list_u8_free(&bytes);
    return "data";
}

static int case_stream_after_close(void) {
    own_descriptor file;
    if (!open_hello(&file))
        return 1;
    int bad = 0;
    own_input s;
    fs_error err;
    if (!wasi_filesystem_types_method_descriptor_read_via_stream(wasi_filesystem_types_borrow_descriptor(file), 0, &s, &err)) {
        say("FAIL: read-via-stream: error-code: %s\n", fs_error_name(err));
        return 1;
    }
    bad |= strcmp(read_once(s, true, "blocking-read(1024) at offset 0"), "data") != 0;
    bad |= strcmp(read_once(s, true, "blocking-read(1024) at the end"), "closed") != 0;
    bad |= strcmp(read_once(s, true, "blocking-read(1024) again"), "closed") != 0;
    bad |= strcmp(read_once(s, false, "read(1024) after that"), "closed") != 0;
    wasi_io_streams_input_stream_drop_own(s);
    if (!wasi_filesystem_types_method_descriptor_read_via_stream(wasi_filesystem_types_borrow_descriptor(file), 1000, &s, &err)) {
        say("FAIL: read-via-stream(1000): error-code: %s\n", fs_error_name(err));
        return 1;
    }
    bad |= strcmp(read_once(s, true, "blocking-read(1024) of a stream from offset 1000"), "closed") != 0;
    wasi_io_streams_input_stream_drop_own(s);
    wasi_filesystem_types_descriptor_drop_own(file);
    return bad;
}

/* An attempt that a read-only preopen must refuse: prints its error-code, or
 * "ALLOWED: ..." (returning 1) when it succeeded. */
static int refused(const char *what, bool ok, fs_error err) {
    if (ok) {
        say("ALLOWED: %s\n", what);
        return 1;
    }
    say("%s: error-code: %s\n", what, fs_error_name(err));
    return 0;
}

static int try_open(own_descriptor dir, const char *what, const char *path,
                    wasi_filesystem_types_open_flags_t oflags, wasi_filesystem_types_descriptor_flags_t flags) {
    own_descriptor d;
    fs_error err;
    bool ok = open_at(dir, path, oflags, flags, &d, &err);
    if (ok)
        wasi_filesystem_types_descriptor_drop_own(d);
    return refused(what, ok, err);
}

static int case_write_readonly_preopen(void) {
    own_descriptor dir;
    if (!sandbox(&dir))
        return 1;
    const wasi_filesystem_types_descriptor_flags_t R = WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_READ,
                                                   W = WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_WRITE;
    descriptor b = wasi_filesystem_types_borrow_descriptor(dir);
    fs_error err;
    int bad = 0;

    /* Reading works; writing through the {read} descriptor does not. */
    own_descriptor file;
    if (!open_at(dir, "hello.txt", 0, R, &file, &err)) {
        say("FAIL: open-at hello.txt {read}: error-code: %s\n", fs_error_name(err));
        return 1;
    }
    say("open-at hello.txt {read}: ok\n");
    descriptor f = wasi_filesystem_types_borrow_descriptor(file);
    wasi_direct_list_u8_t x = {(uint8_t *)"x", 1};
    wasi_filesystem_types_filesize_t written;
    own_output out;
    bad |= refused("write to the {read} descriptor",
                   wasi_filesystem_types_method_descriptor_write(f, &x, 0, &written, &err), err);
    bad |= refused("set-size of the {read} descriptor",
                   wasi_filesystem_types_method_descriptor_set_size(f, 0, &err), err);
    bool ok = wasi_filesystem_types_method_descriptor_write_via_stream(f, 0, &out, &err);
    if (ok)
        wasi_io_streams_output_stream_drop_own(out);
    bad |= refused("write-via-stream of the {read} descriptor", ok, err);
    wasi_filesystem_types_descriptor_drop_own(file);

    /* Every way of changing the tree, the ones that destroy least first. */
    bad |= try_open(dir, "open-at new.txt {create} {write}", "new.txt", WASI_FILESYSTEM_TYPES_OPEN_FLAGS_CREATE, W);
    bad |= try_open(dir, "open-at hello.txt {write}", "hello.txt", 0, W);
    bad |= try_open(dir, "open-at hello.txt {read, write}", "hello.txt", 0, R | W);
    bad |= try_open(dir, "open-at hello.txt {truncate} {read}", "hello.txt", WASI_FILESYSTEM_TYPES_OPEN_FLAGS_TRUNCATE, R);
    wasi_direct_string_t p = str("newdir");
    bad |= refused("create-directory-at newdir", wasi_filesystem_types_method_descriptor_create_directory_at(b, &p, &err), err);
    wasi_direct_string_t target = str("hello.txt"), name = str("new-link");
    bad |= refused("symlink-at new-link -> hello.txt",
                   wasi_filesystem_types_method_descriptor_symlink_at(b, &target, &name, &err), err);
    p = str("sub");
    bad |= refused("remove-directory-at sub", wasi_filesystem_types_method_descriptor_remove_directory_at(b, &p, &err), err);
    p = str("sub/inner.txt");
    bad |= refused("unlink-file-at sub/inner.txt", wasi_filesystem_types_method_descriptor_unlink_file_at(b, &p, &err), err);
    wasi_direct_string_t from = str("hello.txt"), to = str("renamed.txt");
    bad |= refused("rename-at hello.txt renamed.txt",
                   wasi_filesystem_types_method_descriptor_rename_at(b, &from, b, &to, &err), err);
    wasi_filesystem_types_descriptor_drop_own(dir);
    return bad;
}

/* An attempt to reach outside /sandbox: prints its error-code, or
 * "ESCAPED: ..." (returning 1) when the host let it through. */
static int escape_refused(const char *what, bool ok, fs_error err) {
    if (ok) {
        say("ESCAPED: %s: succeeded\n", what);
        return 1;
    }
    say("%s: error-code: %s\n", what, fs_error_name(err));
    return 0;
}

static int escape_open(own_descriptor dir, const char *path, wasi_filesystem_types_open_flags_t oflags,
                       wasi_filesystem_types_descriptor_flags_t flags, const char *flags_name) {
    char what[128];
    own_descriptor d;
    fs_error err;
    snprintf(what, sizeof what, "open-at %s %s", path, flags_name);
    bool ok = open_at(dir, path, oflags, flags, &d, &err);
    if (ok)
        wasi_filesystem_types_descriptor_drop_own(d);
    return escape_refused(what, ok, err);
}

static int case_escape_direct(void) {
    own_descriptor dir;
    if (!sandbox(&dir))
        return 1;
    descriptor b = wasi_filesystem_types_borrow_descriptor(dir);
    const wasi_filesystem_types_descriptor_flags_t R = WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_READ,
                                                   W = WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_WRITE;
    const wasi_filesystem_types_path_flags_t FOLLOW = WASI_FILESYSTEM_TYPES_PATH_FLAGS_SYMLINK_FOLLOW;
    int bad = 0;
    bad |= escape_open(dir, "/etc/passwd", 0, R, "{read}");
    bad |= escape_open(dir, "/escaped.txt", WASI_FILESYSTEM_TYPES_OPEN_FLAGS_CREATE, W, "{create} {write}");
    bad |= escape_open(dir, "..", WASI_FILESYSTEM_TYPES_OPEN_FLAGS_DIRECTORY, R, "{directory} {read}");
    bad |= escape_open(dir, "../outside.txt", 0, R, "{read}");
    bad |= escape_open(dir, "sub/../../outside.txt", 0, R, "{read}");
    bad |= escape_open(dir, "link-out/outside.txt", 0, R, "{read}");
    bad |= escape_open(dir, "link-abs", 0, R, "{read}");
    bad |= escape_open(dir, "link-abs", 0, W, "{write}");

    wasi_filesystem_types_descriptor_stat_t st;
    fs_error err;
    wasi_direct_string_t p = str("../outside.txt");
    bad |= escape_refused("stat-at ../outside.txt",
                          wasi_filesystem_types_method_descriptor_stat_at(b, 0, &p, &st, &err), err);
    p = str("link-abs");
    bad |= escape_refused("stat-at {symlink-follow} link-abs",
                          wasi_filesystem_types_method_descriptor_stat_at(b, FOLLOW, &p, &st, &err), err);
    wasi_direct_string_t target = str("/etc/passwd"), name = str("abs-link");
    bool made = wasi_filesystem_types_method_descriptor_symlink_at(b, &target, &name, &err);
    say("symlink-at abs-link -> /etc/passwd: %s%s\n", made ? "created" : "error-code: ",
        made ? "" : fs_error_name(err));
    if (made)
        bad |= escape_open(dir, "abs-link", 0, R, "{read}");
    wasi_direct_string_t from = str("../outside.txt"), to = str("stolen.txt");
    bad |= escape_refused("link-at ../outside.txt stolen.txt",
                          wasi_filesystem_types_method_descriptor_link_at(b, 0, &from, b, &to, &err), err);
    from = str("hello.txt"), to = str("../moved-out.txt");
    bad |= escape_refused("rename-at hello.txt ../moved-out.txt",
                          wasi_filesystem_types_method_descriptor_rename_at(b, &from, b, &to, &err), err);
    wasi_filesystem_types_descriptor_drop_own(dir);
    return bad;
}

static int case_descriptor_flags(void) {
    own_descriptor dir, file;
    wasi_filesystem_types_descriptor_flags_t dir_flags, file_flags;
    fs_error err;
    if (!sandbox(&dir))
        return 1;
    if (!wasi_filesystem_types_method_descriptor_get_flags(wasi_filesystem_types_borrow_descriptor(dir), &dir_flags, &err)) {
        say("FAIL: get-flags /sandbox: error-code: %s\n", fs_error_name(err));
        return 1;
    }
    say("get-flags /sandbox: %s\n", flags_text(dir_flags));
    if (!open_at(dir, "hello.txt", 0, WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_READ, &file, &err)) {
        say("FAIL: open-at hello.txt {read}: error-code: %s\n", fs_error_name(err));
        return 1;
    }
    if (!wasi_filesystem_types_method_descriptor_get_flags(wasi_filesystem_types_borrow_descriptor(file), &file_flags, &err)) {
        say("FAIL: get-flags hello.txt: error-code: %s\n", fs_error_name(err));
        return 1;
    }
    say("get-flags hello.txt opened {read}: %s\n", flags_text(file_flags));
    wasi_filesystem_types_descriptor_drop_own(file);
    wasi_filesystem_types_descriptor_drop_own(dir);
    /* Passes when the preopen is read-only: read, and no write or mutate-directory. */
    return dir_flags == WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_READ
        && file_flags == WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_READ ? 0 : 1;
}

static const struct {
    const char *name;
    int (*run)(void);
} cases[] = {
    {"read-4gib", case_read_4gib},
    {"drop-stream-with-pollable", case_drop_stream_with_pollable},
    {"poll-mixed", case_poll_mixed},
    {"poll-timeout", case_poll_timeout},
    {"write-budget", case_write_budget},
    {"blocking-write-4097", case_blocking_write_4097},
    {"stream-after-close", case_stream_after_close},
    {"write-readonly-preopen", case_write_readonly_preopen},
    {"descriptor-flags", case_descriptor_flags},
    {"escape-direct", case_escape_direct},
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
    if (argc == 2)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            if (strcmp(argv[1], cases[i].name) == 0)
                return finish(cases[i].run());
    fprintf(stderr, "usage: wasi-direct CASE; cases:\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        fprintf(stderr, "  %s\n", cases[i].name);
    return finish(64);
}
