/*
 * hello.c: weld's first WASI 0.2 example.
 *
 * A plain C program built with wasi-libc and wrapped into a WASI 0.2 command
 * component (see build.sh). It shows the three things a host hands a guest:
 *   - arguments:   greets each one;
 *   - environment: prints GREETING_FROM, or says it is unset;
 *   - a directory: writes /out/hello.txt, which exists only if the host
 *                  preopened a directory at /out (weld run --dir HOST::/out).
 *
 * Exit status: 0 on success, 3 if /out/hello.txt could not be written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_PATH "/out/hello.txt"
#define EXIT_NO_FILE 3

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        printf("Hello, %s!\n", argv[i]);

    const char *from = getenv("GREETING_FROM");
    if (from)
        printf("GREETING_FROM is \"%s\"\n", from);
    else
        printf("GREETING_FROM is unset\n");

    const char *line = "Hello from a WASI 0.2 component!\n";
    FILE *f = fopen(OUT_PATH, "w");
    if (!f) {
        fprintf(stderr, "hello: cannot create %s: %s (did you pass --dir HOST_DIR::/out?)\n",
                OUT_PATH, strerror(errno));
        return EXIT_NO_FILE;
    }
    int failed = fputs(line, f) == EOF;
    failed |= fclose(f) != 0;
    if (failed) {
        fprintf(stderr, "hello: cannot write %s: %s\n", OUT_PATH, strerror(errno));
        return EXIT_NO_FILE;
    }
    printf("Wrote %zu bytes to %s: %s", strlen(line), OUT_PATH, line);
    return 0;
}
