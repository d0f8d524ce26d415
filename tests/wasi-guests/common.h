/*
 * common.h: small helpers shared by the libc-based test guests.
 *
 * Every guest is one command program whose argv[1] names a case. A case
 * prints deterministic lines on stdout and returns the exit status (0 = the
 * case passed its own checks). Errors are printed by errno *name* ("ENOENT"),
 * never by strerror text or number, so a test can compare them exactly.
 */
#ifndef WELD_GUESTS_COMMON_H
#define WELD_GUESTS_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libc_guest.h" /* wit-bindgen's bindings of weld:guests/libc-guest */

/* The errno names wasi-libc defines (WASI's errno set). */
#define WELD_ERRNO_LIST(X) \
    X(E2BIG) X(EACCES) X(EADDRINUSE) X(EADDRNOTAVAIL) X(EAFNOSUPPORT) X(EAGAIN) \
    X(EALREADY) X(EBADF) X(EBADMSG) X(EBUSY) X(ECANCELED) X(ECHILD) \
    X(ECONNABORTED) X(ECONNREFUSED) X(ECONNRESET) X(EDEADLK) X(EDESTADDRREQ) \
    X(EDOM) X(EDQUOT) X(EEXIST) X(EFAULT) X(EFBIG) X(EHOSTUNREACH) X(EIDRM) \
    X(EILSEQ) X(EINPROGRESS) X(EINTR) X(EINVAL) X(EIO) X(EISCONN) X(EISDIR) \
    X(ELOOP) X(EMFILE) X(EMLINK) X(EMSGSIZE) X(EMULTIHOP) X(ENAMETOOLONG) \
    X(ENETDOWN) X(ENETRESET) X(ENETUNREACH) X(ENFILE) X(ENOBUFS) X(ENODEV) \
    X(ENOENT) X(ENOEXEC) X(ENOLCK) X(ENOLINK) X(ENOMEM) X(ENOMSG) \
    X(ENOPROTOOPT) X(ENOSPC) X(ENOSYS) X(ENOTCONN) X(ENOTDIR) X(ENOTEMPTY) \
    X(ENOTRECOVERABLE) X(ENOTSOCK) X(ENOTSUP) X(ENOTTY) X(ENXIO) X(EOVERFLOW) \
    X(EOWNERDEAD) X(EPERM) X(EPIPE) X(EPROTO) X(EPROTONOSUPPORT) X(EPROTOTYPE) \
    X(ERANGE) X(EROFS) X(ESPIPE) X(ESRCH) X(ESTALE) X(ETIMEDOUT) X(ETXTBSY) \
    X(EXDEV) X(ENOTCAPABLE)

/* "ENOENT" for ENOENT; "errno-N" for a value not in the list. */
static inline const char *errno_name(int e) {
#define WELD_ERRNO_CASE(name) case name: return #name;
    switch (e) {
        WELD_ERRNO_LIST(WELD_ERRNO_CASE)
    }
#undef WELD_ERRNO_CASE
    static char other[24];
    snprintf(other, sizeof other, "errno-%d", e);
    return other;
}

/* Prints "FAIL: <what>: <errno name>" on stdout and returns exit status 1. */
static inline int fail_errno(const char *what) {
    printf("FAIL: %s: %s\n", what, errno_name(errno));
    return 1;
}

/* Prints "FAIL: <what>" on stdout and returns exit status 1. */
static inline int fail(const char *what) {
    printf("FAIL: %s\n", what);
    return 1;
}

/* One case of a guest: its name, how many arguments it takes after the case
 * name (-1: any number), a usage hint for those, and the function running it.
 * `run` gets the whole argv: the case's own arguments start at argv[2]. */
struct guest_case {
    const char *name;
    int nargs;
    const char *usage;
    int (*run)(int argc, char **argv);
};

/* Ends the program with STATUS, 0..255, as the host's exit status. A nonzero
 * one goes through wasi:cli/exit's exit-with-code, because libc's exit() (and
 * returning from main) reaches the host through the preview1 adapter's exit,
 * which only says "failed": exit status 1. */
static inline int finish(int status) {
    fflush(NULL);
    if (status != 0)
        wasi_cli_exit_exit_with_code((uint8_t)status);
    return 0;
}

/* Runs the case named by argv[1]; exit status 64 on a usage error. */
static inline int dispatch(const char *prog, const struct guest_case *cases, size_t ncases,
                           int argc, char **argv) {
    if (argc >= 2) {
        for (size_t i = 0; i < ncases; i++) {
            if (strcmp(argv[1], cases[i].name) != 0)
                continue;
            if (cases[i].nargs >= 0 && argc - 2 != cases[i].nargs)
                break;
            return cases[i].run(argc, argv);
        }
    }
    fprintf(stderr, "usage: %s CASE [ARGS...]; cases:\n", prog);
    for (size_t i = 0; i < ncases; i++)
        fprintf(stderr, "  %s%s%s\n", cases[i].name, *cases[i].usage ? " " : "", cases[i].usage);
    return 64;
}

#endif
