/*
 * fs.c: test guest for wasi:filesystem through wasi-libc (and the preview1
 * adapter). Run it with the fixture directory preopened at /sandbox:
 *
 *   P/outside.txt            "outside\n"       (must stay unreachable)
 *   P/sandbox/               --dir P/sandbox::/sandbox
 *   P/sandbox/hello.txt      "hello sandbox\n"
 *   P/sandbox/sub/inner.txt  "inner\n"
 *   P/sandbox/link-out  -> ..                  (symlink to the sandbox's parent)
 *   P/sandbox/link-abs  -> P/outside.txt       (absolute host path)
 *
 * Cases: ls DIR, create-write-read, rename, delete, seek, stat, mkdir-nested,
 * append, truncate; escape-dotdot, escape-absolute, escape-symlink,
 * escape-guest-symlink, escape-hardlink, escape-rename; readonly-write (with
 * /sandbox preopened read-only), bad-fd.
 *
 * An escape case prints one line per attempt, "<what>: refused: <ERRNO>" when
 * the host refused it, and exits 0 if all were refused; an attempt that reached
 * outside the sandbox prints "ESCAPED: ..." and the case exits 1.
 * See README.md for the exact expected output of each case.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#include "common.h"

#define SANDBOX "/sandbox"

/* ---- small file helpers ------------------------------------------------ */

/* Writes all of TEXT to FD; returns 0, or -1 with errno set. */
static int write_all(int fd, const char *text) {
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Creates (or replaces) PATH holding TEXT; returns 0, or -1 with errno set. */
static int put_file(const char *path, const char *text) {
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        return -1;
    if (write_all(fd, text) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return close(fd);
}

/* Reads at most CAP-1 bytes of PATH into BUF, NUL-terminated; returns the
 * length, or -1 with errno set. */
static ssize_t get_file(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        if (n == 0 || (len += (size_t)n) == cap - 1)
            break;
    }
    buf[len] = '\0';
    if (close(fd) != 0)
        return -1;
    return (ssize_t)len;
}

/* Prints TEXT with its newlines written as \n, so a line shows a whole file. */
static void print_escaped(const char *text) {
    for (; *text; text++) {
        if (*text == '\n')
            fputs("\\n", stdout);
        else if (*text == '\0' || (unsigned char)*text < 0x20)
            printf("\\x%02x", (unsigned char)*text);
        else
            putchar(*text);
    }
}

/* Prints "<label>: \"<contents>\"" for PATH; returns 0, or 1 after a FAIL line. */
static int show_file(const char *label, const char *path) {
    char buf[256];
    if (get_file(path, buf, sizeof buf) < 0)
        return fail_errno(path);
    printf("%s: \"", label);
    print_escaped(buf);
    printf("\"\n");
    return 0;
}

/* Expects CALL_RESULT to be -1 with errno WANT; prints "<what>: <ERRNO>". */
static int expect_errno(const char *what, int call_result, int want) {
    int got = errno; /* printf may change errno */
    if (call_result != -1) {
        printf("FAIL: %s: succeeded, expected %s\n", what, errno_name(want));
        return 1;
    }
    printf("%s: %s\n", what, errno_name(got));
    return got == want ? 0 : 1;
}

static char type_letter(mode_t mode) {
    if (S_ISDIR(mode))
        return 'd';
    if (S_ISREG(mode))
        return 'f';
    if (S_ISLNK(mode))
        return 'l';
    return '?';
}

/* ---- ordinary cases ------------------------------------------------------ */

/* A directory entry as ls prints it. (wasi-libc's struct dirent ends in a
 * flexible d_name, so entries are copied out of it.) */
struct entry {
    char type;
    char name[256];
};

static int compare_entries(const void *a, const void *b) {
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static char dirent_type_letter(unsigned char d_type) {
    return d_type == DT_DIR ? 'd' : d_type == DT_REG ? 'f' : d_type == DT_LNK ? 'l' : '?';
}

/* Prints DIR's entries, sorted, as "<d|f|l|?> <name>"; "." and ".." skipped. */
static int list_dir(const char *path) {
    static struct entry entries[256];
    size_t n = 0;
    DIR *dir = opendir(path);
    if (!dir)
        return fail_errno(path);
    struct dirent *e;
    errno = 0;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == sizeof entries / sizeof entries[0] || strlen(e->d_name) >= sizeof entries[0].name) {
            closedir(dir);
            return fail("too many directory entries, or too long a name");
        }
        entries[n].type = dirent_type_letter(e->d_type);
        strcpy(entries[n].name, e->d_name);
        n++;
    }
    if (errno != 0)
        return fail_errno("readdir");
    if (closedir(dir) != 0)
        return fail_errno("closedir");
    qsort(entries, n, sizeof entries[0], compare_entries);
    for (size_t i = 0; i < n; i++)
        printf("%c %s\n", entries[i].type, entries[i].name);
    return 0;
}

static int case_ls(int argc, char **argv) {
    (void)argc;
    return list_dir(argv[2]);
}

static int case_create_write_read(int argc, char **argv) {
    (void)argc, (void)argv;
    const char *path = SANDBOX "/created.txt", *text = "created by the guest\n";
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0)
        return fail_errno("create " SANDBOX "/created.txt");
    if (write_all(fd, text) != 0)
        return fail_errno("write");
    if (close(fd) != 0)
        return fail_errno("close");
    printf("wrote %zu bytes to %s\n", strlen(text), path);
    if (expect_errno("create it again with O_EXCL", open(path, O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST))
        return 1;
    char buf[64];
    if (get_file(path, buf, sizeof buf) < 0)
        return fail_errno("read back");
    if (strcmp(buf, text) != 0)
        return fail("read back other bytes than written");
    return show_file("read back", path);
}

static int case_rename(int argc, char **argv) {
    (void)argc, (void)argv;
    struct stat st;
    if (put_file(SANDBOX "/before.txt", "renamed\n") != 0)
        return fail_errno("create " SANDBOX "/before.txt");
    if (rename(SANDBOX "/before.txt", SANDBOX "/after.txt") != 0)
        return fail_errno("rename before.txt after.txt");
    printf("renamed before.txt to after.txt\n");
    if (expect_errno("stat before.txt", stat(SANDBOX "/before.txt", &st), ENOENT))
        return 1;
    if (show_file("after.txt", SANDBOX "/after.txt"))
        return 1;
    if (rename(SANDBOX "/after.txt", SANDBOX "/sub/moved.txt") != 0)
        return fail_errno("rename after.txt sub/moved.txt");
    printf("renamed after.txt to sub/moved.txt\n");
    if (show_file("sub/moved.txt", SANDBOX "/sub/moved.txt"))
        return 1;
    /* Renaming over an existing file replaces it. */
    if (put_file(SANDBOX "/other.txt", "replaced\n") != 0)
        return fail_errno("create " SANDBOX "/other.txt");
    if (rename(SANDBOX "/sub/moved.txt", SANDBOX "/other.txt") != 0)
        return fail_errno("rename sub/moved.txt other.txt");
    printf("renamed sub/moved.txt over other.txt\n");
    return show_file("other.txt", SANDBOX "/other.txt");
}

static int case_delete(int argc, char **argv) {
    (void)argc, (void)argv;
    struct stat st;
    int bad = 0;
    if (put_file(SANDBOX "/doomed.txt", "doomed\n") != 0)
        return fail_errno("create doomed.txt");
    if (unlink(SANDBOX "/doomed.txt") != 0)
        return fail_errno("unlink doomed.txt");
    printf("unlinked doomed.txt\n");
    bad |= expect_errno("stat doomed.txt", stat(SANDBOX "/doomed.txt", &st), ENOENT);
    bad |= expect_errno("unlink doomed.txt again", unlink(SANDBOX "/doomed.txt"), ENOENT);

    if (mkdir(SANDBOX "/doomed-dir", 0755) != 0)
        return fail_errno("mkdir doomed-dir");
    if (put_file(SANDBOX "/doomed-dir/file.txt", "x\n") != 0)
        return fail_errno("create doomed-dir/file.txt");
    bad |= expect_errno("rmdir non-empty doomed-dir", rmdir(SANDBOX "/doomed-dir"), ENOTEMPTY);
    bad |= expect_errno("rmdir a file", rmdir(SANDBOX "/doomed-dir/file.txt"), ENOTDIR);
    bad |= expect_errno("unlink a directory", unlink(SANDBOX "/doomed-dir"), EISDIR);
    if (unlink(SANDBOX "/doomed-dir/file.txt") != 0)
        return fail_errno("unlink doomed-dir/file.txt");
    if (rmdir(SANDBOX "/doomed-dir") != 0)
        return fail_errno("rmdir doomed-dir");
    printf("removed doomed-dir\n");
    bad |= expect_errno("stat doomed-dir", stat(SANDBOX "/doomed-dir", &st), ENOENT);
    return bad;
}

/* Reads exactly LEN bytes at FD's position and checks they are WANT. */
static int expect_read(int fd, const char *want) {
    char buf[32];
    size_t len = strlen(want);
    ssize_t n = read(fd, buf, len);
    if (n < 0)
        return fail_errno("read");
    buf[n] = '\0';
    printf("read %zd bytes: \"%s\"\n", n, buf);
    return (size_t)n == len && memcmp(buf, want, len) == 0 ? 0 : fail("read other bytes");
}

/* lseek(FD, OFF, WHENCE) must return WANT. */
static int expect_seek(int fd, off_t off, int whence, const char *name, off_t want) {
    off_t got = lseek(fd, off, whence);
    if (got < 0)
        return fail_errno("lseek");
    printf("lseek(%lld, %s) = %lld\n", (long long)off, name, (long long)got);
    return got == want ? 0 : fail("lseek returned another position");
}

static int case_seek(int argc, char **argv) {
    (void)argc, (void)argv;
    if (put_file(SANDBOX "/seek.txt", "0123456789abcdef") != 0)
        return fail_errno("create seek.txt");
    int fd = open(SANDBOX "/seek.txt", O_RDWR);
    if (fd < 0)
        return fail_errno("open seek.txt");
    if (expect_seek(fd, 4, SEEK_SET, "SEEK_SET", 4) || expect_read(fd, "4567"))
        return 1;
    if (expect_seek(fd, 2, SEEK_CUR, "SEEK_CUR", 10) || expect_read(fd, "abc"))
        return 1;
    if (expect_seek(fd, -2, SEEK_END, "SEEK_END", 14) || expect_read(fd, "ef"))
        return 1;
    char rest[8];
    ssize_t at_end = read(fd, rest, sizeof rest);
    if (at_end < 0)
        return fail_errno("read at the end");
    printf("read(8) at the end: %zd bytes\n", at_end);
    if (at_end != 0)
        return 1;
    if (expect_seek(fd, 0, SEEK_CUR, "SEEK_CUR", 16))
        return 1;
    if (expect_errno("lseek(-1, SEEK_SET)", (int)lseek(fd, -1, SEEK_SET), EINVAL))
        return 1;
    char buf[8] = {0};
    if (pread(fd, buf, 2, 8) != 2)
        return fail_errno("pread");
    printf("pread(2 bytes at 8): \"%s\"\n", buf);
    /* Writing past the end leaves a hole of zeros. */
    if (expect_seek(fd, 20, SEEK_SET, "SEEK_SET", 20) || write_all(fd, "X") != 0)
        return 1;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail_errno("fstat");
    printf("size after writing at 20: %lld\n", (long long)st.st_size);
    char hole[5];
    if (pread(fd, hole, 5, 16) != 5)
        return fail_errno("pread hole");
    printf("bytes 16..21: %02x %02x %02x %02x %c\n", hole[0], hole[1], hole[2], hole[3], hole[4]);
    if (close(fd) != 0)
        return fail_errno("close");
    return st.st_size == 21 && memcmp(hole, "\0\0\0\0X", 5) == 0 ? 0 : fail("hole");
}

static int case_stat(int argc, char **argv) {
    (void)argc, (void)argv;
    static const char *const paths[] = {SANDBOX "/hello.txt", SANDBOX "/sub", SANDBOX "/link-out"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct stat st;
        if (lstat(paths[i], &st) != 0)
            return fail_errno(paths[i]);
        printf("%s: type %c", paths[i], type_letter(st.st_mode));
        if (S_ISREG(st.st_mode))
            printf(", size %lld", (long long)st.st_size);
        printf(", mtime %s\n", st.st_mtim.tv_sec > 1577836800 ? "after 2020" : "NOT SET");
        if (st.st_mtim.tv_sec <= 1577836800)
            return 1;
    }
    int fd = open(SANDBOX "/hello.txt", O_RDONLY);
    struct stat by_path, by_fd;
    if (fd < 0 || fstat(fd, &by_fd) != 0 || stat(SANDBOX "/hello.txt", &by_path) != 0)
        return fail_errno("fstat hello.txt");
    close(fd);
    printf("fstat and stat agree: %s\n",
           by_fd.st_size == by_path.st_size && by_fd.st_ino == by_path.st_ino ? "yes" : "no");
    struct stat missing;
    return expect_errno("stat missing.txt", stat(SANDBOX "/missing.txt", &missing), ENOENT);
}

static int case_mkdir_nested(int argc, char **argv) {
    (void)argc, (void)argv;
    static const char *const dirs[] = {SANDBOX "/a", SANDBOX "/a/b", SANDBOX "/a/b/c"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (mkdir(dirs[i], 0755) != 0)
            return fail_errno(dirs[i]);
        printf("mkdir %s\n", dirs[i]);
    }
    if (put_file(SANDBOX "/a/b/c/deep.txt", "deep\n") != 0)
        return fail_errno("create a/b/c/deep.txt");
    if (show_file("a/b/c/deep.txt", SANDBOX "/a/b/c/deep.txt"))
        return 1;
    int bad = 0;
    bad |= expect_errno("mkdir a/b again", mkdir(SANDBOX "/a/b", 0755), EEXIST);
    bad |= expect_errno("mkdir x/y (no x)", mkdir(SANDBOX "/x/y", 0755), ENOENT);
    printf("ls a:\n");
    return bad | list_dir(SANDBOX "/a");
}

static int case_append(int argc, char **argv) {
    (void)argc, (void)argv;
    const char *path = SANDBOX "/append.txt";
    if (put_file(path, "one\n") != 0)
        return fail_errno("create append.txt");
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd < 0)
        return fail_errno("open O_APPEND");
    if (write_all(fd, "two\n") != 0)
        return fail_errno("append two");
    /* With O_APPEND every write goes to the end, wherever the offset was. */
    if (lseek(fd, 0, SEEK_SET) != 0)
        return fail_errno("lseek");
    if (write_all(fd, "three\n") != 0)
        return fail_errno("append three");
    if (close(fd) != 0)
        return fail_errno("close");
    FILE *f = fopen(path, "a");
    if (!f || fputs("four\n", f) == EOF || fclose(f) != 0)
        return fail_errno("fopen(\"a\")");
    char buf[64];
    if (get_file(path, buf, sizeof buf) < 0)
        return fail_errno("read");
    if (show_file("append.txt", path))
        return 1;
    return strcmp(buf, "one\ntwo\nthree\nfour\n") == 0 ? 0 : fail("appended text");
}

static int show_size(int fd, long long want) {
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail_errno("fstat");
    printf("size %lld\n", (long long)st.st_size);
    return st.st_size == want ? 0 : fail("size");
}

static int case_truncate(int argc, char **argv) {
    (void)argc, (void)argv;
    const char *path = SANDBOX "/trunc.txt";
    if (put_file(path, "0123456789") != 0)
        return fail_errno("create trunc.txt");
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return fail_errno("open");
    if (ftruncate(fd, 4) != 0)
        return fail_errno("ftruncate 4");
    printf("ftruncate 4: ");
    if (show_size(fd, 4))
        return 1;
    if (ftruncate(fd, 8) != 0)
        return fail_errno("ftruncate 8");
    printf("ftruncate 8: ");
    if (show_size(fd, 8))
        return 1;
    char buf[8];
    if (pread(fd, buf, 8, 0) != 8)
        return fail_errno("pread");
    printf("contents: \"");
    for (int i = 0; i < 8; i++)
        buf[i] ? putchar(buf[i]) : printf("\\0");
    printf("\"\n");
    if (close(fd) != 0)
        return fail_errno("close");
    fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0)
        return fail_errno("open O_TRUNC");
    printf("open O_TRUNC: ");
    if (show_size(fd, 0))
        return 1;
    if (close(fd) != 0)
        return fail_errno("close");
    return memcmp(buf, "0123\0\0\0\0", 8) == 0 ? 0 : fail("contents");
}

/* ---- escape attempts ----------------------------------------------------- */

/* Reports an attempt that the host let through: it reached outside. */
static int escaped(const char *what, const char *detail) {
    printf("ESCAPED: %s: %s\n", what, detail);
    return 1;
}

/* Reports a refused attempt; returns 0. */
static int refused(const char *what) {
    printf("%s: refused: %s\n", what, errno_name(errno));
    return 0;
}

/* openat(DIRFD, PATH, FLAGS) must fail. If it opens, reads (or writes) through
 * it to show what leaked, and reports the escape. */
static int try_open(const char *what, int dirfd, const char *path, int flags) {
    int fd = openat(dirfd, path, flags, 0644);
    if (fd < 0)
        return refused(what);
    char detail[160];
    if ((flags & O_ACCMODE) == O_RDONLY) {
        char buf[64] = {0};
        ssize_t n = read(fd, buf, sizeof buf - 1);
        snprintf(detail, sizeof detail, "opened, read %zd bytes: %.*s", n, (int)strcspn(buf, "\n"), buf);
    } else {
        snprintf(detail, sizeof detail, "opened for writing, write: %s",
                 write_all(fd, "ESCAPED\n") == 0 ? "ok" : errno_name(errno));
    }
    close(fd);
    return escaped(what, detail);
}

/* A call (stat, mkdir, link, ...) whose success means an escape. */
static int try_call(const char *what, int result) {
    return result == 0 ? escaped(what, "succeeded") : refused(what);
}

/* A control: an access that must succeed because it stays inside. */
static int must_open(const char *what, const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("FAIL: %s: %s\n", what, errno_name(errno));
        return 1;
    }
    close(fd);
    printf("%s: ok (inside the sandbox)\n", what);
    return 0;
}

static int case_escape_dotdot(int argc, char **argv) {
    (void)argc, (void)argv;
    int bad = 0;
    bad |= must_open("open /sandbox/sub/../hello.txt", SANDBOX "/sub/../hello.txt");
    bad |= try_open("open /sandbox/../outside.txt", AT_FDCWD, SANDBOX "/../outside.txt", O_RDONLY);
    bad |= try_open("open /sandbox/sub/../../outside.txt", AT_FDCWD, SANDBOX "/sub/../../outside.txt", O_RDONLY);
    bad |= try_open("create /sandbox/../escaped.txt", AT_FDCWD, SANDBOX "/../escaped.txt",
                    O_CREAT | O_WRONLY);
    bad |= try_call("mkdir /sandbox/sub/../../escaped-dir", mkdir(SANDBOX "/sub/../../escaped-dir", 0755));
    struct stat st;
    bad |= try_call("stat /sandbox/../outside.txt", stat(SANDBOX "/../outside.txt", &st));
    DIR *d = opendir(SANDBOX "/..");
    if (d) {
        closedir(d);
        bad |= escaped("opendir /sandbox/..", "listed the sandbox's parent");
    } else {
        refused("opendir /sandbox/..");
    }
    return bad;
}

/* preview1's path_open(DIRFD, PATH) straight to the adapter (and so to the
 * host), bypassing wasi-libc's own handling of absolute paths. */
static int try_raw_path_open(const char *what, int dirfd, const char *path, __wasi_oflags_t oflags,
                             __wasi_rights_t rights) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open((__wasi_fd_t)dirfd, 0, path, oflags, rights, 0, 0, &fd);
    if (e != 0) {
        errno = e; /* wasi-libc's errno values are preview1's */
        return refused(what);
    }
    if ((rights & __WASI_RIGHTS_FD_WRITE) == 0) {
        char buf[64] = {0};
        ssize_t n = read((int)fd, buf, sizeof buf - 1);
        char detail[128];
        snprintf(detail, sizeof detail, "opened, read %zd bytes: %.*s", n, (int)strcspn(buf, "\n"), buf);
        close((int)fd);
        return escaped(what, detail);
    }
    close((int)fd);
    return escaped(what, "opened for writing");
}

static int case_escape_absolute(int argc, char **argv) {
    (void)argc, (void)argv;
    int bad = 0;
    /* wasi-libc resolves an absolute path against the preopens' guest paths,
     * and openat() with an absolute path ignores its dirfd (POSIX): these
     * three are refused by libc itself (ENOTCAPABLE), the host never sees them. */
    bad |= try_open("open /etc/passwd", AT_FDCWD, "/etc/passwd", O_RDONLY);
    int dirfd = open(SANDBOX, O_RDONLY | O_DIRECTORY);
    if (dirfd < 0)
        return fail_errno("open " SANDBOX);
    bad |= try_open("openat(sandbox, /etc/passwd)", dirfd, "/etc/passwd", O_RDONLY);
    bad |= try_call("mkdirat(sandbox, /escaped-dir)", mkdirat(dirfd, "/escaped-dir", 0755));
    /* preview1 path_open with an absolute path does reach the host. */
    bad |= try_raw_path_open("path_open(sandbox, /etc/passwd)", dirfd, "/etc/passwd", 0, __WASI_RIGHTS_FD_READ);
    bad |= try_raw_path_open("path_open(sandbox, /escaped.txt, create)", dirfd, "/escaped.txt",
                             __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE);
    __wasi_errno_t e = __wasi_path_create_directory((__wasi_fd_t)dirfd, "/escaped-dir");
    errno = e;
    bad |= try_call("path_create_directory(sandbox, /escaped-dir)", e == 0 ? 0 : -1);
    close(dirfd);
    return bad;
}

static int case_escape_symlink(int argc, char **argv) {
    (void)argc, (void)argv;
    int bad = 0;
    struct stat st;
    char target[256];
    ssize_t n = readlink(SANDBOX "/link-out", target, sizeof target - 1);
    if (n < 0)
        return fail_errno("readlink link-out (is the fixture there?)");
    target[n] = '\0';
    printf("readlink /sandbox/link-out: %s\n", target);
    bad |= try_open("open /sandbox/link-out/outside.txt", AT_FDCWD, SANDBOX "/link-out/outside.txt", O_RDONLY);
    bad |= try_open("create /sandbox/link-out/escaped.txt", AT_FDCWD, SANDBOX "/link-out/escaped.txt",
                    O_CREAT | O_WRONLY);
    bad |= try_call("stat /sandbox/link-out/outside.txt", stat(SANDBOX "/link-out/outside.txt", &st));
    DIR *d = opendir(SANDBOX "/link-out");
    if (d) {
        closedir(d);
        bad |= escaped("opendir /sandbox/link-out", "listed the sandbox's parent");
    } else {
        refused("opendir /sandbox/link-out");
    }
    bad |= try_open("open /sandbox/link-abs", AT_FDCWD, SANDBOX "/link-abs", O_RDONLY);
    bad |= try_open("open /sandbox/link-abs for append", AT_FDCWD, SANDBOX "/link-abs", O_WRONLY | O_APPEND);
    bad |= try_call("stat /sandbox/link-abs", stat(SANDBOX "/link-abs", &st));
    return bad;
}

/* Creates symlink NAME -> TARGET in the sandbox; then opening through it must fail. */
static int guest_symlink(const char *target, const char *name, const char *through) {
    char what[128];
    snprintf(what, sizeof what, "symlink %s -> %s", name, target);
    if (symlink(target, name) != 0) {
        refused(what);
        return 0;
    }
    printf("%s: created\n", what);
    snprintf(what, sizeof what, "open %s", through);
    int bad = try_open(what, AT_FDCWD, through, O_RDONLY);
    snprintf(what, sizeof what, "open %s for append", through);
    return bad | try_open(what, AT_FDCWD, through, O_WRONLY | O_APPEND);
}

static int case_escape_guest_symlink(int argc, char **argv) {
    (void)argc, (void)argv;
    int bad = 0;
    bad |= guest_symlink("..", SANDBOX "/guest-up", SANDBOX "/guest-up/outside.txt");
    bad |= guest_symlink("../outside.txt", SANDBOX "/guest-file", SANDBOX "/guest-file");
    bad |= guest_symlink("sub/../../outside.txt", SANDBOX "/guest-sneaky", SANDBOX "/guest-sneaky");
    bad |= guest_symlink("/etc/passwd", SANDBOX "/guest-abs", SANDBOX "/guest-abs");
    /* Control: a symlink that stays inside works. */
    if (symlink("sub/inner.txt", SANDBOX "/guest-inside") != 0)
        return fail_errno("symlink guest-inside -> sub/inner.txt");
    return bad | must_open("open /sandbox/guest-inside -> sub/inner.txt", SANDBOX "/guest-inside");
}

static int case_escape_hardlink(int argc, char **argv) {
    (void)argc, (void)argv;
    int bad = 0;
    bad |= try_call("link /sandbox/../outside.txt /sandbox/hard-in",
                    link(SANDBOX "/../outside.txt", SANDBOX "/hard-in"));
    bad |= try_call("link /sandbox/link-out/outside.txt /sandbox/hard-in2",
                    link(SANDBOX "/link-out/outside.txt", SANDBOX "/hard-in2"));
    bad |= try_call("link /sandbox/hello.txt /sandbox/../hard-out",
                    link(SANDBOX "/hello.txt", SANDBOX "/../hard-out"));
    bad |= try_call("link /sandbox/hello.txt /sandbox/link-out/hard-out2",
                    link(SANDBOX "/hello.txt", SANDBOX "/link-out/hard-out2"));
    int dirfd = open(SANDBOX, O_RDONLY | O_DIRECTORY);
    if (dirfd < 0)
        return fail_errno("open " SANDBOX);
    bad |= try_call("linkat(sandbox, /etc/passwd, sandbox, hard-abs)",
                    linkat(dirfd, "/etc/passwd", dirfd, "hard-abs", 0));
    close(dirfd);
    /* Control: a hard link inside the sandbox works. */
    if (link(SANDBOX "/hello.txt", SANDBOX "/hard-inside") != 0)
        return fail_errno("link hello.txt hard-inside");
    return bad | must_open("open /sandbox/hard-inside (link to hello.txt)", SANDBOX "/hard-inside");
}

static int case_escape_rename(int argc, char **argv) {
    (void)argc, (void)argv;
    int bad = 0;
    bad |= try_call("rename /sandbox/hello.txt /sandbox/../x",
                    rename(SANDBOX "/hello.txt", SANDBOX "/../x"));
    bad |= try_call("rename /sandbox/hello.txt /sandbox/link-out/x",
                    rename(SANDBOX "/hello.txt", SANDBOX "/link-out/x"));
    bad |= try_call("rename /sandbox/../outside.txt /sandbox/stolen.txt",
                    rename(SANDBOX "/../outside.txt", SANDBOX "/stolen.txt"));
    bad |= try_call("rename /sandbox/sub /sandbox/../sub",
                    rename(SANDBOX "/sub", SANDBOX "/../sub"));
    return bad | must_open("open /sandbox/hello.txt after the attempts", SANDBOX "/hello.txt");
}

/* ---- permissions and descriptors ------------------------------------------- */

/* A write access that a read-only preopen must refuse. */
static int must_refuse(const char *what, int result) {
    if (result == 0) {
        printf("ALLOWED: %s\n", what);
        return 1;
    }
    return refused(what);
}

/* open(PATH, FLAGS) must fail; a descriptor it returns is closed. */
static int open_result(const char *path, int flags) {
    int fd = open(path, flags, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int case_readonly_write(int argc, char **argv) {
    (void)argc, (void)argv;
    int bad = 0;
    /* Reading works; writing through the read-only descriptor does not. */
    int fd = open(SANDBOX "/hello.txt", O_RDONLY);
    if (fd < 0)
        return fail_errno("open hello.txt O_RDONLY");
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0)
        return fail_errno("read hello.txt");
    printf("read hello.txt: %zd bytes\n", n);
    bad |= must_refuse("write to the O_RDONLY descriptor", write(fd, "x", 1) == 1 ? 0 : -1);
    bad |= must_refuse("ftruncate the O_RDONLY descriptor", ftruncate(fd, 0));
    close(fd);
    /* Every way of changing the tree, the ones that destroy least first (so
     * that under a writable preopen each attempt still finds its target). */
    bad |= must_refuse("create /sandbox/new.txt", open_result(SANDBOX "/new.txt", O_CREAT | O_WRONLY));
    bad |= must_refuse("open /sandbox/hello.txt O_WRONLY", open_result(SANDBOX "/hello.txt", O_WRONLY));
    bad |= must_refuse("open /sandbox/hello.txt O_RDWR", open_result(SANDBOX "/hello.txt", O_RDWR));
    bad |= must_refuse("open /sandbox/hello.txt O_WRONLY|O_APPEND",
                       open_result(SANDBOX "/hello.txt", O_WRONLY | O_APPEND));
    bad |= must_refuse("open /sandbox/hello.txt O_WRONLY|O_TRUNC",
                       open_result(SANDBOX "/hello.txt", O_WRONLY | O_TRUNC));
    bad |= must_refuse("mkdir /sandbox/newdir", mkdir(SANDBOX "/newdir", 0755));
    bad |= must_refuse("symlink /sandbox/new-link -> hello.txt", symlink("hello.txt", SANDBOX "/new-link"));
    bad |= must_refuse("link /sandbox/hello.txt /sandbox/new-hard", link(SANDBOX "/hello.txt", SANDBOX "/new-hard"));
    bad |= must_refuse("rmdir /sandbox/sub", rmdir(SANDBOX "/sub"));
    bad |= must_refuse("unlink /sandbox/sub/inner.txt", unlink(SANDBOX "/sub/inner.txt"));
    bad |= must_refuse("rename /sandbox/hello.txt /sandbox/renamed.txt",
                       rename(SANDBOX "/hello.txt", SANDBOX "/renamed.txt"));
    return bad;
}

/* FD must be bad for read, write and close. */
static int bad_fd_calls(const char *label, int fd) {
    char buf[4];
    char what[64];
    int bad = 0;
    snprintf(what, sizeof what, "read %s", label);
    bad |= expect_errno(what, (int)read(fd, buf, sizeof buf), EBADF);
    snprintf(what, sizeof what, "write %s", label);
    bad |= expect_errno(what, (int)write(fd, "x", 1), EBADF);
    snprintf(what, sizeof what, "close %s", label);
    bad |= expect_errno(what, close(fd), EBADF);
    return bad;
}

static int case_bad_fd(int argc, char **argv) {
    (void)argc, (void)argv;
    int bad = bad_fd_calls("fd 99", 99);
    int fd = open(SANDBOX "/hello.txt", O_RDONLY);
    if (fd < 0)
        return fail_errno("open hello.txt");
    if (close(fd) != 0)
        return fail_errno("close");
    return bad | bad_fd_calls("a closed fd", fd);
}

static const struct guest_case cases[] = {
    {"ls", 1, "DIR", case_ls},
    {"create-write-read", 0, "", case_create_write_read},
    {"rename", 0, "", case_rename},
    {"delete", 0, "", case_delete},
    {"seek", 0, "", case_seek},
    {"stat", 0, "", case_stat},
    {"mkdir-nested", 0, "", case_mkdir_nested},
    {"append", 0, "", case_append},
    {"truncate", 0, "", case_truncate},
    {"escape-dotdot", 0, "", case_escape_dotdot},
    {"escape-absolute", 0, "", case_escape_absolute},
    {"escape-symlink", 0, "", case_escape_symlink},
    {"escape-guest-symlink", 0, "", case_escape_guest_symlink},
    {"escape-hardlink", 0, "", case_escape_hardlink},
    {"escape-rename", 0, "", case_escape_rename},
    {"readonly-write", 0, "", case_readonly_write},
    {"bad-fd", 0, "", case_bad_fd},
};

int main(int argc, char **argv) {
    return finish(dispatch("fs", cases, sizeof cases / sizeof cases[0], argc, argv));
}
