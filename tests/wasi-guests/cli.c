/*
 * cli.c: test guest for wasi:cli, wasi:clocks and wasi:random, through wasi-libc.
 *
 *   cli args [ARG...]  prints argc, then each argv[i] on its own line
 *   cli env            prints the environment, sorted, one NAME=VALUE a line
 *   cli exit N         exits with status N (via wasi:cli/exit's exit-with-code)
 *   cli libc-exit N    calls libc's exit(N): through the preview1 adapter the
 *                      host sees exit(ok) for 0 and exit(err), status 1, else
 *   cli cat            copies stdin to stdout until EOF
 *   cli stderr         writes one line to stderr and another to stdout
 *   cli clock          checks wall clock, monotonic clock and a 50 ms sleep
 *   cli random         checks two 64-byte getentropy() results
 *
 * See README.md for the exact expected output of each case.
 */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

extern char **environ;

static int case_args(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    return 0;
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int case_env(int argc, char **argv) {
    (void)argc, (void)argv;
    size_t n = 0;
    while (environ[n])
        n++;
    char **sorted = malloc((n + 1) * sizeof *sorted);
    if (!sorted)
        return fail("malloc");
    memcpy(sorted, environ, (n + 1) * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_strings);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", sorted[i]);
    free(sorted);
    return 0;
}

/* The status in TEXT, 0..255, or -1. */
static int parse_status(const char *text) {
    char *end;
    long status = strtol(text, &end, 10);
    return *end == '\0' && end != text && status >= 0 && status <= 255 ? (int)status : -1;
}

static int case_exit(int argc, char **argv) {
    (void)argc;
    int status = parse_status(argv[2]);
    if (status < 0)
        return fail("exit status must be 0..255");
    return status; /* main's finish() passes it to exit-with-code */
}

static int case_libc_exit(int argc, char **argv) {
    (void)argc;
    int status = parse_status(argv[2]);
    if (status < 0)
        return fail("exit status must be 0..255");
    exit(status);
}

static int case_cat(int argc, char **argv) {
    (void)argc, (void)argv;
    static char buf[64 * 1024];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0)
            return fail_errno("read stdin");
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(STDOUT_FILENO, buf + done, (size_t)(n - done));
            if (w <= 0)
                return fail_errno("write stdout");
            done += w;
        }
    }
}

static int case_stderr(int argc, char **argv) {
    (void)argc, (void)argv;
    if (fputs("this line goes to stderr\n", stderr) == EOF)
        return 1;
    printf("this line goes to stdout\n");
    return 0;
}

static int64_t ns_of(struct timespec ts) {
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int case_clock(int argc, char **argv) {
    (void)argc, (void)argv;
    struct timespec wall, m0, m1, m2;
    if (clock_gettime(CLOCK_REALTIME, &wall) != 0)
        return fail_errno("clock_gettime(CLOCK_REALTIME)");
    if (wall.tv_sec < 1577836800) /* 2020-01-01T00:00:00Z */
        return fail("wall clock is before 2020");
    printf("ok: wall clock is after 2020\n");

    if (clock_gettime(CLOCK_MONOTONIC, &m0) != 0 || clock_gettime(CLOCK_MONOTONIC, &m1) != 0)
        return fail_errno("clock_gettime(CLOCK_MONOTONIC)");
    if (ns_of(m1) < ns_of(m0))
        return fail("monotonic clock went backwards");
    printf("ok: monotonic clock is nondecreasing\n");

    struct timespec fifty_ms = {.tv_sec = 0, .tv_nsec = 50 * 1000000};
    if (nanosleep(&fifty_ms, NULL) != 0)
        return fail_errno("nanosleep");
    if (clock_gettime(CLOCK_MONOTONIC, &m2) != 0)
        return fail_errno("clock_gettime(CLOCK_MONOTONIC)");
    if (ns_of(m2) - ns_of(m1) < 50 * 1000000)
        return fail("nanosleep(50 ms) returned early");
    printf("ok: nanosleep(50 ms) took at least 50 ms\n");

    struct timespec res;
    if (clock_getres(CLOCK_MONOTONIC, &res) != 0)
        return fail_errno("clock_getres(CLOCK_MONOTONIC)");
    if (ns_of(res) <= 0)
        return fail("monotonic clock resolution is not positive");
    printf("ok: monotonic clock resolution is positive\n");
    return 0;
}

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static int case_random(int argc, char **argv) {
    (void)argc, (void)argv;
    unsigned char a[64], b[64];
    if (getentropy(a, sizeof a) != 0 || getentropy(b, sizeof b) != 0)
        return fail_errno("getentropy");
    if (all_zero(a, sizeof a) || all_zero(b, sizeof b))
        return fail("getentropy returned all zeros");
    if (memcmp(a, b, sizeof a) == 0)
        return fail("two getentropy calls returned the same bytes");
    printf("ok: 64 random bytes, twice, different and not all zero\n");
    return 0;
}

static const struct guest_case cases[] = {
    {"args", -1, "[ARG...]", case_args},
    {"env", 0, "", case_env},
    {"exit", 1, "N", case_exit},
    {"libc-exit", 1, "N", case_libc_exit},
    {"cat", 0, "", case_cat},
    {"stderr", 0, "", case_stderr},
    {"clock", 0, "", case_clock},
    {"random", 0, "", case_random},
};

int main(int argc, char **argv) {
    return finish(dispatch("cli", cases, sizeof cases / sizeof cases[0], argc, argv));
}
