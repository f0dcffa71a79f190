/* test-output.c — the one output writer (engine/vit-output.c): new and replaced files, symbolic
 * links written through, devices, FIFOs and folders refused and left as they were, failures that
 * keep the old file, long names, and no temporary file left behind in any case. */
#include "../engine/vit.h"
#include "test-util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[512];

static char *at(const char *name)
{
    static char paths[4][1024];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

/* Entries in the folder whose name starts with ".vitlens-" (temporaries left behind). */
static int temporaries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, ".vitlens-", 9) == 0;
    if (d)
        closedir(d);
    return n;
}

static vit_status write_text(const char *path, const char *text, vit_error *err)
{
    vit_output *o;
    vit_status s = vit_output_open(path, &o, err);
    if (s != VIT_OK)
        return s;
    fputs(text, vit_output_stream(o));
    return vit_output_commit(o, err);
}

static int has_text(const char *path, const char *text)
{
    size_t n;
    char *got = test_read_file(path, &n);
    int ok = got && n == strlen(text) && memcmp(got, text, n) == 0;
    free(got);
    return ok;
}

static void test_new_and_replace(void)
{
    vit_error err = {0};
    vit_status s = write_text(at("a.txt"), "one", &err);
    test_check(s == VIT_OK && has_text(at("a.txt"), "one"), "/output/new (%s)", err.msg);
    chmod(at("a.txt"), 0640);
    s = write_text(at("a.txt"), "two", &err);
    struct stat st;
    stat(at("a.txt"), &st);
    test_check(s == VIT_OK && has_text(at("a.txt"), "two") && (st.st_mode & 0777) == 0640,
               "/output/replace-keeps-mode (mode %o, %s)", st.st_mode & 0777, err.msg);

    /* aborted: the old file stays */
    vit_output *o;
    s = vit_output_open(at("a.txt"), &o, &err);
    fputs("half", vit_output_stream(o));
    test_check(s == VIT_OK && temporaries() == 0, "/output/unnamed-while-writing (%d)",
               temporaries());
    vit_output_abort(o);
    test_check(has_text(at("a.txt"), "two"), "/output/abort-keeps-old");

    /* a 255-byte name (the longest a file system takes) */
    char name[256];
    memset(name, 'n', 255);
    name[255] = 0;
    s = write_text(at(name), "long", &err);
    test_check(s == VIT_OK && has_text(at(name), "long"), "/output/255-byte-name (%s)", err.msg);
    unlink(at(name));
    test_check(temporaries() == 0, "/output/no-temporaries");
}

static void test_links(void)
{
    vit_error err = {0};
    write_text(at("target.txt"), "old", &err);
    symlink("target.txt", at("link1"));
    symlink(at("link1"), at("link2")); /* absolute, to a relative one */
    vit_status s = write_text(at("link2"), "new", &err);
    struct stat st;
    int links = lstat(at("link1"), &st) == 0 && S_ISLNK(st.st_mode) && lstat(at("link2"), &st) == 0 &&
                S_ISLNK(st.st_mode);
    test_check(s == VIT_OK && links && has_text(at("target.txt"), "new"),
               "/output/symlink-written-through (%s)", err.msg);
    symlink("loop-b", at("loop-a"));
    symlink("loop-a", at("loop-b"));
    s = write_text(at("loop-a"), "x", &err);
    test_check(s == VIT_ERR_IO && strstr(err.msg, "too many levels of symbolic links"),
               "/output/symlink-loop (%s)", err.msg);
    /* a dangling link: its target is created */
    symlink("made.txt", at("dangling"));
    s = write_text(at("dangling"), "made", &err);
    test_check(s == VIT_OK && has_text(at("made.txt"), "made") && lstat(at("dangling"), &st) == 0 &&
                   S_ISLNK(st.st_mode),
               "/output/dangling-symlink (%s)", err.msg);
}

static void test_refused(void)
{
    vit_error err = {0};
    mkfifo(at("fifo"), 0644);
    vit_status s = write_text(at("fifo"), "x", &err);
    struct stat st;
    test_check(s == VIT_ERR_IO && strstr(err.msg, "fifo: is a FIFO, not a regular file") &&
                   stat(at("fifo"), &st) == 0 && S_ISFIFO(st.st_mode),
               "/output/fifo-refused-and-kept (%s)", err.msg);
    mkdir(at("folder"), 0755);
    s = write_text(at("folder"), "x", &err);
    test_check(s == VIT_ERR_IO && strstr(err.msg, "is a folder"), "/output/folder-refused (%s)",
               err.msg);
    s = write_text("/dev/null", "x", &err);
    test_check(s == VIT_ERR_IO && strstr(err.msg, "null: is a device") &&
                   stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode),
               "/output/dev-null-refused-and-kept (%s)", err.msg);
    symlink("/dev/full", at("to-full"));
    s = write_text(at("to-full"), "x", &err);
    test_check(s == VIT_ERR_IO && strstr(err.msg, "is a device"),
               "/output/link-to-device-refused (%s)", err.msg);
    s = write_text(at("missing/x.txt"), "x", &err);
    test_check(s == VIT_ERR_IO && strstr(err.msg, "x.txt: cannot create"),
               "/output/missing-folder (%s)", err.msg);

    /* the PNG writer goes through it: a FIFO is refused and not deleted (eval --confusion-png
     * onto a device used to remove it when the write failed) */
    vit_image img;
    vit_image_new(4, 4, VIT_PIXEL_RGB8, &img, NULL);
    s = vit_image_save_png(&img, at("fifo"), &err);
    test_check(s == VIT_ERR_IO && stat(at("fifo"), &st) == 0 && S_ISFIFO(st.st_mode),
               "/output/png-onto-fifo (%s)", err.msg);
    s = vit_image_save_png(&img, at("img.png"), &err);
    test_check(s == VIT_OK, "/output/png (%s)", err.msg);
    vit_image_free(&img);
    test_check(temporaries() == 0, "/output/no-temporaries-after-refusals");
}

/* A write that fails (the file size limit stands in for a full disk): the old file stays and
 * nothing is left behind. In a child, since the limit is per process. */
static void test_failed_write(void)
{
    vit_error err = {0};
    write_text(at("big.bin"), "old", &err);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        setrlimit(RLIMIT_FSIZE, &rl);
        vit_output *o;
        if (vit_output_open(at("big.bin"), &o, &err) != VIT_OK)
            _exit(3);
        static char block[8192];
        fwrite(block, 1, sizeof block, vit_output_stream(o));
        vit_status s = vit_output_commit(o, &err);
        _exit(s == VIT_ERR_IO && strstr(err.msg, "big.bin: cannot write") ? 0 : 4);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    test_check(WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && has_text(at("big.bin"), "old") &&
                   temporaries() == 0,
               "/output/failed-write-keeps-old (child status %d)", WEXITSTATUS(ws));
}

int main(void)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/vitlens-output-XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_new_and_replace();
    test_links();
    test_refused();
    test_failed_write();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_done();
}
