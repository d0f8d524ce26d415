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

/* wasi:cli/exit's exit-with-code, imported straight from WASI 0.2 (hello.wit).
 * Returning 3 from main would not do: libc's exit goes through the preview1
 * adapter, whose exit only tells the host "failed", and the status becomes 1. */
__attribute__((import_module("wasi:cli/exit@0.2.12"), import_name("exit-with-code")))
_Noreturn void exit_with_code(int status);

static void cannot_write(const char *what) {
    fprintf(stderr, "hello: cannot %s %s: %s (did you pass --dir HOST_DIR::/out?)\n",
            what, OUT_PATH, strerror(errno));
    fflush(stderr);
    exit_with_code(EXIT_NO_FILE);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        printf("Hello, %s!\n", argv[i]);

    const char *from = getenv("GREETING_FROM");
    if (from)
        printf("GREETING_FROM is \"%s\"\n", from);
    else
        printf("GREETING_FROM is unset\n");
    fflush(stdout);

    const char *line = "Hello from a WASI 0.2 component!\n";
    FILE *f = fopen(OUT_PATH, "w");
    if (!f)
        cannot_write("create");
    if (fputs(line, f) == EOF || fclose(f) != 0)
        cannot_write("write");
    printf("Wrote %zu bytes to %s: %s", strlen(line), OUT_PATH, line);
    return 0;
}
