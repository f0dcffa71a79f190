/* test-pool.c — the persistent thread pool (engine/vit-pool.c).
 *
 * One line per check ("/pool/coverage/threads3 ok"); exit status 1 when any check fails. Run it
 * under ASan/TSan builds too: it creates and frees many pools, runs many tiny jobs, lets the
 * workers fall asleep and wakes them, nests, and calls one pool from two threads. */
#include "vit-impl.h"
#include "vit-pool.h"

#include "test-util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>


static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Coverage: every index exactly once, chunks as documented, thread indices in range and never
 * shared by two chunks running at once */

#define MAX_CHUNKS VIT_POOL_MAX_THREADS

typedef struct {
    int64_t n;
    _Atomic int32_t *hits;       /* (n) */
    _Atomic int32_t busy[VIT_POOL_MAX_THREADS];
    _Atomic int32_t bad_thread;  /* out of range or used twice at once */
    _Atomic int32_t chunks_seen;
    int64_t begins[MAX_CHUNKS], ends[MAX_CHUNKS];
    int32_t threads;
} cover_ctx;

static void cover_fn(void *p, int64_t begin, int64_t end, int32_t thread)
{
    cover_ctx *c = p;
    if (thread < 0 || thread >= c->threads || atomic_exchange(&c->busy[thread], 1) != 0) {
        atomic_store(&c->bad_thread, 1);
        return;
    }
    int32_t slot = atomic_fetch_add(&c->chunks_seen, 1);
    if (slot < MAX_CHUNKS) {
        c->begins[slot] = begin;
        c->ends[slot] = end;
    }
    for (int64_t i = begin; i < end; i++)
        atomic_fetch_add_explicit(&c->hits[i], 1, memory_order_relaxed);
    atomic_store(&c->busy[thread], 0);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int run_cover(struct vit_pool *pool, int64_t n, int64_t grain)
{
    cover_ctx *c = calloc(1, sizeof *c);
    c->n = n;
    c->threads = vit_pool_threads(pool);
    c->hits = calloc((size_t)(n > 0 ? n : 1), sizeof *c->hits);
    vit_pool_run(pool, n, grain, cover_fn, c);
    int ok = !atomic_load(&c->bad_thread);
    for (int64_t i = 0; i < n; i++)
        ok &= atomic_load(&c->hits[i]) == 1;
    /* chunks: min(threads, ceil(n / grain)) of them, with vit_pool_chunk's boundaries */
    int64_t g = grain < 1 ? 1 : grain;
    int64_t want = n <= 0 ? 0 : (n + g - 1) / g;
    if (want > c->threads)
        want = c->threads;
    int32_t seen = atomic_load(&c->chunks_seen);
    ok &= seen == want;
    if (ok && seen > 0) {
        qsort(c->begins, (size_t)seen, sizeof(int64_t), cmp_i64);
        qsort(c->ends, (size_t)seen, sizeof(int64_t), cmp_i64);
        for (int32_t i = 0; i < seen; i++) {
            int64_t b, e;
            vit_pool_chunk(n, seen, i, &b, &e);
            ok &= c->begins[i] == b && c->ends[i] == e;
        }
    }
    free(c->hits);
    free(c);
    return ok;
}

static int bad_thread_counts_rejected(void)
{
    struct vit_pool *pool = (struct vit_pool *)1;
    vit_error err;
    int ok = vit_pool_new(-1, &pool, &err) == VIT_ERR_ARG && pool == NULL;
    pool = (struct vit_pool *)1;
    ok &= vit_pool_new(VIT_POOL_MAX_THREADS + 1, &pool, &err) == VIT_ERR_LIMIT && pool == NULL;
    return ok;
}

static void test_coverage(void)
{
    static const int32_t counts[] = {1, 2, 3, 4, 7, 16};
    static const int64_t ns[] = {0, 1, 2, 3, 5, 17, 100, 1000, 4097};
    static const int64_t grains[] = {0, 1, 2, 3, 64, 1000000};
    for (size_t t = 0; t < sizeof counts / sizeof counts[0]; t++) {
        struct vit_pool *pool = NULL;
        vit_error err;
        if (vit_pool_new(counts[t], &pool, &err) != VIT_OK) {
            test_check(0, "/pool/new threads%d: %s", (int)counts[t], err.msg);
            continue;
        }
        test_check(vit_pool_threads(pool) == counts[t], "/pool/threads%d/count", (int)counts[t]);
        int ok = 1;
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
            for (size_t j = 0; j < sizeof grains / sizeof grains[0]; j++)
                ok &= run_cover(pool, ns[i], grains[j]);
        test_check(ok, "/pool/threads%d/coverage-and-chunks", (int)counts[t]);
        vit_pool_free(pool);
    }
    test_check(run_cover(NULL, 1000, 1), "/pool/null-pool-runs-inline");

    struct vit_pool *pool = NULL;
    int ok = vit_pool_new(0, &pool, NULL) == VIT_OK;
    int32_t online = vit_pool_threads(pool);
    test_check(ok && online >= 1, "/pool/threads0-means-online-cpus (%d)", (int)online);
    vit_pool_free(pool);
    vit_pool_free(NULL);
    test_check(bad_thread_counts_rejected(), "/pool/bad-thread-counts");
}

/* ---------------------------------------------------------------------------------------------
 * Many tiny runs, and runs after the workers fell asleep */

typedef struct {
    _Atomic int64_t sum;
} sum_ctx;

static void sum_fn(void *p, int64_t begin, int64_t end, int32_t thread)
{
    (void)thread;
    sum_ctx *s = p;
    int64_t local = 0;
    for (int64_t i = begin; i < end; i++)
        local += i + 1;
    atomic_fetch_add(&s->sum, local);
}

static void test_repeat(void)
{
    static const int32_t counts[] = {2, 3, 8};
    for (size_t t = 0; t < sizeof counts / sizeof counts[0]; t++) {
        struct vit_pool *pool = NULL;
        vit_pool_new(counts[t], &pool, NULL);
        int ok = 1;
        for (int r = 0; r < 10000; r++) {
            int64_t n = 1 + r % 5;
            sum_ctx s = {0};
            vit_pool_run(pool, n, 1, sum_fn, &s);
            ok &= atomic_load(&s.sum) == n * (n + 1) / 2;
        }
        test_check(ok, "/pool/threads%d/10000-tiny-runs", (int)counts[t]);

        ok = 1;
        for (int r = 0; r < 3; r++) {
            sleep_ms(5); /* longer than the spin: the workers sleep on the condition variable */
            sum_ctx s = {0};
            vit_pool_run(pool, 1000, 1, sum_fn, &s);
            ok &= atomic_load(&s.sum) == 1000 * 1001 / 2;
        }
        test_check(ok, "/pool/threads%d/wake-after-sleep", (int)counts[t]);
        vit_pool_free(pool);
    }

    int ok = 1;
    for (int r = 0; r < 200; r++) {
        struct vit_pool *pool = NULL;
        if (vit_pool_new(1 + r % 6, &pool, NULL) != VIT_OK) {
            ok = 0;
            break;
        }
        if (r % 2) {
            sum_ctx s = {0};
            vit_pool_run(pool, 100, 1, sum_fn, &s);
            ok &= atomic_load(&s.sum) == 5050;
        }
        vit_pool_free(pool); /* also right after creation, before workers reached their wait */
    }
    test_check(ok, "/pool/200-create-free-cycles");
}

/* ---------------------------------------------------------------------------------------------
 * Nesting and concurrent callers */

typedef struct {
    struct vit_pool *pool;
    _Atomic int64_t sum;
} nest_ctx;

static void nest_fn(void *p, int64_t begin, int64_t end, int32_t thread)
{
    (void)thread;
    nest_ctx *c = p;
    for (int64_t i = begin; i < end; i++) {
        sum_ctx s = {0};
        vit_pool_run(c->pool, 10, 1, sum_fn, &s); /* runs inline: no deadlock */
        atomic_fetch_add(&c->sum, atomic_load(&s.sum));
    }
}

typedef struct {
    struct vit_pool *pool;
    int ok;
} caller_arg;

static void *caller_main(void *p)
{
    caller_arg *a = p;
    a->ok = 1;
    for (int r = 0; r < 2000; r++) {
        sum_ctx s = {0};
        vit_pool_run(a->pool, 64, 1, sum_fn, &s);
        a->ok &= atomic_load(&s.sum) == 64 * 65 / 2;
    }
    return NULL;
}

static void test_nesting(void)
{
    struct vit_pool *pool = NULL;
    vit_pool_new(3, &pool, NULL);
    nest_ctx c = {pool, 0};
    vit_pool_run(pool, 12, 1, nest_fn, &c);
    test_check(atomic_load(&c.sum) == 12 * 55, "/pool/nested-run-inline");

    pthread_t t[3];
    caller_arg args[3];
    for (int i = 0; i < 3; i++) {
        args[i].pool = pool;
        pthread_create(&t[i], NULL, caller_main, &args[i]);
    }
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        ok &= args[i].ok;
    }
    test_check(ok, "/pool/three-concurrent-callers");
    vit_pool_free(pool);
}

/* ---------------------------------------------------------------------------------------------
 * Determinism: per-element work gives the same bytes for every thread count, and a reduction
 * over chunks in chunk order gives the same bytes on every run (boundaries never depend on
 * timing). */

typedef struct {
    const float *x;
    float *y;
    double partial[VIT_POOL_MAX_THREADS];
    int64_t n, chunks;
} det_ctx;

static void det_map(void *p, int64_t begin, int64_t end, int32_t thread)
{
    (void)thread;
    det_ctx *c = p;
    for (int64_t i = begin; i < end; i++)
        c->y[i] = c->x[i] * 1.5f + 0.25f;
}

static void det_reduce(void *p, int64_t begin, int64_t end, int32_t thread)
{
    (void)thread;
    det_ctx *c = p;
    double s = 0;
    for (int64_t i = begin; i < end; i++)
        s += c->x[i];
    /* find this chunk's index from its begin (boundaries are those of vit_pool_chunk) */
    for (int64_t k = 0; k < c->chunks; k++) {
        int64_t b, e;
        vit_pool_chunk(c->n, c->chunks, k, &b, &e);
        if (b == begin)
            c->partial[k] = s;
    }
}

static void test_determinism(void)
{
    const int64_t n = 100003;
    float *x = malloc((size_t)n * sizeof(float)), *y0 = malloc((size_t)n * sizeof(float)),
          *y1 = malloc((size_t)n * sizeof(float));
    uint32_t r = 12345;
    for (int64_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = (float)(r >> 8) * (1.0f / 16777216.0f) - 0.5f;
    }
    det_ctx c = {x, y0, {0}, n, 1};
    vit_pool_run(NULL, n, 1, det_map, &c);
    static const int32_t counts[] = {1, 2, 3, 4, 8};
    for (size_t t = 0; t < sizeof counts / sizeof counts[0]; t++) {
        struct vit_pool *pool = NULL;
        vit_pool_new(counts[t], &pool, NULL);
        c.y = y1;
        memset(y1, 0, (size_t)n * sizeof(float));
        vit_pool_run(pool, n, 100, det_map, &c);
        test_check(memcmp(y0, y1, (size_t)n * sizeof(float)) == 0,
              "/pool/threads%d/map-same-as-1-thread", (int)counts[t]);

        c.chunks = counts[t]; /* n / grain is larger than the thread count */
        double first = 0;
        int ok = 1;
        for (int rep = 0; rep < 50; rep++) {
            vit_pool_run(pool, n, 100, det_reduce, &c);
            double total = 0;
            for (int64_t k = 0; k < c.chunks; k++)
                total += c.partial[k];
            if (rep == 0)
                first = total;
            ok &= memcmp(&total, &first, sizeof total) == 0;
        }
        test_check(ok, "/pool/threads%d/chunked-reduction-reproducible", (int)counts[t]);
        vit_pool_free(pool);
    }
    free(x);
    free(y0);
    free(y1);
}

/* ---------------------------------------------------------------------------------------------
 * Latency of one small job, for information (not a check: the machine may be loaded). */

static void noop_fn(void *p, int64_t begin, int64_t end, int32_t thread)
{
    (void)p;
    (void)begin;
    (void)end;
    (void)thread;
}

static void report_latency(void)
{
    struct vit_pool *pool = NULL;
    vit_pool_new(2, &pool, NULL);
    const int reps = 20000;
    double t0 = vit_now_ms();
    for (int r = 0; r < reps; r++)
        vit_pool_run(pool, 2, 1, noop_fn, NULL);
    double us = (vit_now_ms() - t0) * 1000.0 / reps;
    printf("# 2-thread dispatch of an empty job, back to back: %.2f us\n", us);
    vit_pool_free(pool);
}

int main(void)
{
    test_coverage();
    test_repeat();
    test_nesting();
    test_determinism();
    report_latency();
    if (test_failures)
        printf("%d test_check(s) failed\n", test_failures);
    return test_done();
}
