/*
 * copy.c: test guest for bulk file and stdout throughput.
 *
 *   copy copy PATH   writes PATH's bytes to stdout, in 64 KiB read()/write()
 *                    chunks, and nothing else; exit 0. On an error it prints
 *                    "copy: <what>: <ERRNO>" to stderr and exits 1.
 *
 * Used for the 256 MiB throughput benchmark, so it does no per-byte work.
 */
#include <fcntl.h>
#include <unistd.h>

#include "common.h"

#define CHUNK (64 * 1024)

static int die(const char *what) {
    fprintf(stderr, "copy: %s: %s\n", what, errno_name(errno));
    return 1;
}

static int case_copy(int argc, char **argv) {
    (void)argc;
    static char buf[CHUNK];
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0)
        return die(argv[2]);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0)
            return die("read");
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(STDOUT_FILENO, buf + done, (size_t)(n - done));
            if (w <= 0)
                return die("write stdout");
            done += w;
        }
    }
    if (close(fd) != 0)
        return die("close");
    return 0;
}

static const struct guest_case cases[] = {
    {"copy", 1, "PATH", case_copy},
};

int main(int argc, char **argv) {
    return finish(dispatch("copy", cases, sizeof cases / sizeof cases[0], argc, argv));
}
