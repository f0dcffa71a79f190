/* vit-pool.c — persistent pthread pool (see vit-pool.h).
 *
 * One job at a time. A job is published as a single 64-bit atomic word
 *     gen (32 bits) | chunks (16 bits) | next (16 bits)
 * next to a slot holding fn, ctx and n. A thread claims chunk `next` with one fetch_add on the
 * word: the claim is valid if the returned next < chunks, and then the slot is known to hold
 * that job, because a job cannot finish (and the slot be rewritten) while one of its chunks is
 * claimed and not done. A late worker that claims nothing just goes back to waiting, so no
 * worker has to take part in a job: the caller takes any chunk nobody else took. Failed claims
 * bump next past chunks by at most one per thread per job, far from the 16-bit limit.
 *
 * Waiting: workers spin on the word for a short while (back-to-back jobs in a forward pass are
 * microseconds apart, and a condition-variable wake-up costs tens of microseconds) and then
 * sleep on a condition variable. The caller waits for the job the same way.
 */
#include "vit-pool.h"
#include "vit-impl.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define VIT_CPU_RELAX() __builtin_ia32_pause()
#else
#define VIT_CPU_RELAX() ((void)0)
#endif

/* How long an idle thread spins before sleeping. Long enough to cover the gaps between the
 * parallel loops of one forward pass, short enough not to steal much from other processes. */
#define VIT_POOL_SPIN_NS 200000LL

struct vit_pool;

typedef struct {
    struct vit_pool *pool;
    int32_t index; /* 1 .. threads-1 */
    pthread_t tid;
} vit_worker;

struct vit_pool {
    int32_t threads;
    vit_worker *workers; /* (threads - 1) */
    int32_t started;     /* workers successfully created */

    _Atomic uint64_t word; /* gen | chunks | next, see above */
    _Atomic int32_t pending; /* chunks of the current job not yet done */
    _Atomic int32_t stop;
    _Atomic int32_t hold; /* vit_pool_hold: idle threads spin instead of sleeping */

    /* the current job; written by the caller before it publishes the word */
    vit_pool_fn fn;
    void *ctx;
    int64_t n;

    pthread_mutex_t lock; /* guards the sleeps below */
    pthread_cond_t wake;  /* workers: a new job or stop */
    pthread_cond_t done;  /* caller: pending reached 0 */
    pthread_mutex_t run_lock; /* serializes vit_pool_run callers */
};

/* Set while this thread runs a chunk, so that a nested vit_pool_run runs inline instead of
 * waiting for itself. */
static _Thread_local int vit_pool_depth;

#define WORD_GEN(w) ((uint32_t)((w) >> 32))
#define WORD_CHUNKS(w) ((uint32_t)(((w) >> 16) & 0xffffu))
#define WORD_NEXT(w) ((uint32_t)((w)&0xffffu))

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Claim and run chunks of the current job until none is left. */
static void run_chunks(struct vit_pool *pool, int32_t thread)
{
    for (;;) {
        uint64_t w = atomic_fetch_add_explicit(&pool->word, 1, memory_order_acq_rel);
        uint32_t chunks = WORD_CHUNKS(w), c = WORD_NEXT(w);
        if (c >= chunks)
            return;
        int64_t begin, end;
        vit_pool_chunk(pool->n, chunks, c, &begin, &end);
        vit_pool_depth++;
        pool->fn(pool->ctx, begin, end, thread);
        vit_pool_depth--;
        if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_broadcast(&pool->done);
            pthread_mutex_unlock(&pool->lock);
        }
    }
}

static void *worker_main(void *arg)
{
    vit_worker *self = arg;
    struct vit_pool *pool = self->pool;
    uint32_t seen = WORD_GEN(atomic_load(&pool->word));

    for (;;) {
        /* wait for a new generation: spin, then sleep */
        uint64_t w = atomic_load_explicit(&pool->word, memory_order_acquire);
        if (WORD_GEN(w) == seen && !atomic_load(&pool->stop)) {
            int64_t deadline = now_ns() + VIT_POOL_SPIN_NS;
            for (int i = 0;; i++) {
                VIT_CPU_RELAX();
                w = atomic_load_explicit(&pool->word, memory_order_acquire);
                if (WORD_GEN(w) != seen || atomic_load(&pool->stop))
                    break;
                if ((i & 255) == 255 && now_ns() > deadline &&
                    atomic_load_explicit(&pool->hold, memory_order_relaxed)) {
                    sched_yield(); /* held: keep polling, but let a busy machine's others run */
                    continue;
                }
                if ((i & 255) == 255 && now_ns() > deadline) {
                    pthread_mutex_lock(&pool->lock);
                    while (WORD_GEN(atomic_load(&pool->word)) == seen && !atomic_load(&pool->stop))
                        pthread_cond_wait(&pool->wake, &pool->lock);
                    pthread_mutex_unlock(&pool->lock);
                    w = atomic_load_explicit(&pool->word, memory_order_acquire);
                    break;
                }
            }
        }
        if (atomic_load(&pool->stop))
            break;
        seen = WORD_GEN(w);
        run_chunks(pool, self->index);
    }
    return NULL;
}

vit_status vit_pool_new(int32_t threads, struct vit_pool **out, vit_error *err)
{
    *out = NULL;
    if (threads < 0)
        return vit_fail(err, VIT_ERR_ARG, "thread pool: %d threads", (int)threads);
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (int32_t)(cpus < VIT_POOL_MAX_THREADS ? cpus : VIT_POOL_MAX_THREADS)
                           : 1;
    }
    if (threads > VIT_POOL_MAX_THREADS)
        return vit_fail(err, VIT_ERR_LIMIT, "thread pool: %d threads (at most %d)", (int)threads,
                        VIT_POOL_MAX_THREADS);

    struct vit_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return vit_fail(err, VIT_ERR_NOMEM, "thread pool: out of memory");
    pool->threads = threads;
    atomic_init(&pool->word, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->stop, 0);
    atomic_init(&pool->hold, 0);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);

    if (threads > 1) {
        pool->workers = calloc((size_t)threads - 1, sizeof *pool->workers);
        if (!pool->workers) {
            vit_pool_free(pool);
            return vit_fail(err, VIT_ERR_NOMEM, "thread pool: out of memory");
        }
        for (int32_t i = 0; i < threads - 1; i++) {
            vit_worker *wk = &pool->workers[i];
            wk->pool = pool;
            wk->index = i + 1;
            int rc = pthread_create(&wk->tid, NULL, worker_main, wk);
            if (rc != 0) {
                vit_pool_free(pool);
                return vit_fail(err, VIT_ERR_NOMEM,
                                "thread pool: cannot create thread %d of %d: %s", (int)i + 2,
                                (int)threads, strerror(rc));
            }
            pool->started++;
        }
    }
    *out = pool;
    return VIT_OK;
}

void vit_pool_free(struct vit_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int32_t i = 0; i < pool->started; i++)
        pthread_join(pool->workers[i].tid, NULL);
    free(pool->workers);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done);
    pthread_mutex_destroy(&pool->lock);
    pthread_mutex_destroy(&pool->run_lock);
    free(pool);
}

void vit_pool_hold(struct vit_pool *pool, int on)
{
    if (pool)
        atomic_store_explicit(&pool->hold, on ? 1 : 0, memory_order_relaxed);
}

int32_t vit_pool_threads(const struct vit_pool *pool)
{
    return pool ? pool->threads : 1;
}

void vit_pool_run(struct vit_pool *pool, int64_t n, int64_t grain, vit_pool_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    if (grain < 1)
        grain = 1;
    int64_t chunks = n / grain + (n % grain != 0);
    if (pool && chunks > pool->threads)
        chunks = pool->threads;
    vit_pool_run_chunks(pool, n, chunks, fn, ctx);
}

void vit_pool_run_chunks(struct vit_pool *pool, int64_t n, int64_t chunks, vit_pool_fn fn,
                         void *ctx)
{
    if (n <= 0)
        return;
    if (chunks > n)
        chunks = n;
    if (chunks > VIT_POOL_MAX_CHUNKS)
        chunks = VIT_POOL_MAX_CHUNKS;
    if (!pool || pool->threads == 1 || chunks <= 1 || vit_pool_depth > 0) {
        vit_pool_depth++;
        fn(ctx, 0, n, 0);
        vit_pool_depth--;
        return;
    }

    pthread_mutex_lock(&pool->run_lock);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n = n;
    atomic_store_explicit(&pool->pending, (int32_t)chunks, memory_order_relaxed);
    uint32_t gen = WORD_GEN(atomic_load(&pool->word)) + 1;
    /* release: the slot above is visible to whoever sees the new word */
    atomic_store_explicit(&pool->word, (uint64_t)gen << 32 | (uint64_t)chunks << 16,
                          memory_order_release);
    /* Sleeping workers check the word under the lock, so taking it here cannot miss one; the
     * broadcast is a no-op (no system call) when nobody sleeps. */
    pthread_mutex_lock(&pool->lock);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);

    run_chunks(pool, 0);

    if (atomic_load_explicit(&pool->pending, memory_order_acquire) != 0) {
        int64_t deadline = now_ns() + VIT_POOL_SPIN_NS;
        for (int i = 0; atomic_load_explicit(&pool->pending, memory_order_acquire) != 0; i++) {
            VIT_CPU_RELAX();
            if ((i & 255) == 255 && now_ns() > deadline) {
                pthread_mutex_lock(&pool->lock);
                while (atomic_load_explicit(&pool->pending, memory_order_acquire) != 0)
                    pthread_cond_wait(&pool->done, &pool->lock);
                pthread_mutex_unlock(&pool->lock);
                break;
            }
        }
    }
    pthread_mutex_unlock(&pool->run_lock);
}
