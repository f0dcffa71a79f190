/* test-util.h — the tiny harness every tests/test-<area>.c uses: named checks, one line each,
 * a non-zero exit when any fails, and small file helpers. */
#ifndef VITLENS_TEST_UTIL_H
#define VITLENS_TEST_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Named tolerances: what each variant promises against the fp32 reference / PyTorch. */
#define VIT_TOL_FP32 1e-4f

static int test_failures, test_checks;

static void test_check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void test_check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    test_checks++;
    if (!ok)
        test_failures++;
}

static int test_done(void)
{
    printf("%d checks, %d failed\n", test_checks, test_failures);
    return test_failures ? 1 : 0;
}

/* Read a whole file; NULL if absent. */
__attribute__((unused)) static void *test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        ((char *)buf)[n] = 0;
    fclose(f);
    if (size)
        *size = (size_t)n;
    return buf;
}

/* A file of exactly n floats (a golden tensor); NULL if absent or of another size. */
__attribute__((unused)) static float *test_read_f32(const char *path, size_t n)
{
    size_t size;
    float *f = test_read_file(path, &size);
    if (f && size != n * sizeof(float)) {
        free(f);
        return NULL;
    }
    return f;
}

__attribute__((unused)) static int test_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

/* The fixtures directory: argv[1], else $VITLENS_FIXTURES; NULL (after "usage: PROG
 * FIXTURES_DIR ARGS" on stderr) when neither is given. */
__attribute__((unused)) static const char *test_fixtures_dir(int argc, char **argv,
                                                             const char *prog, const char *args)
{
    const char *dir = argc > 1 ? argv[1] : getenv("VITLENS_FIXTURES");
    if (!dir)
        fprintf(stderr, "usage: %s FIXTURES_DIR%s%s\n", prog, *args ? " " : "", args);
    return dir;
}

/* 1 when built with a sanitizer (address-space limits and timings do not apply there). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                    \
    __has_feature(memory_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

#endif
