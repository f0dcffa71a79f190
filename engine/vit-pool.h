/* vit-pool.h — a small persistent pthread pool for the engine's parallel loops.
 *
 * Usage:
 *
 *     struct vit_pool *pool = NULL;
 *     if (vit_pool_new(0, &pool, &err) != VIT_OK) ...   // 0 = one thread per online CPU
 *     vit_pool_run(pool, n, grain, fn, ctx);            // fn(ctx, begin, end, thread) over [0, n)
 *     vit_pool_free(pool);
 *
 * Threads are made once in vit_pool_new and wait (a short spin, then a condition variable) for
 * work; vit_pool_run never creates threads. The calling thread takes part as thread 0.
 */
#ifndef VIT_POOL_H
#define VIT_POOL_H

#include "vit.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Upper bound on threads per pool; also bounds per-thread scratch arrays indexed by `thread`. */
#define VIT_POOL_MAX_THREADS 256

struct vit_pool;

/* threads: total threads including the caller; 0 = number of online CPUs (capped at
 * VIT_POOL_MAX_THREADS). threads == 1 makes a pool without workers (everything runs inline). */
vit_status vit_pool_new(int32_t threads, struct vit_pool **out, vit_error *err);
void vit_pool_free(struct vit_pool *pool);
/* Threads including the caller; 1 for NULL. */
int32_t vit_pool_threads(const struct vit_pool *pool);

/* `thread` is the index (0 .. vit_pool_threads()-1) of the thread running the chunk: unique
 * among the chunks running at the same time, so it can index per-thread scratch. */
typedef void (*vit_pool_fn)(void *ctx, int64_t begin, int64_t end, int32_t thread);

/* Run fn over [0, n) split into contiguous chunks, on the pool's threads and the caller;
 * returns when every chunk is done. The chunk boundaries depend only on n, grain and the
 * pool's thread count (never on timing): chunks = min(threads, ceil(n / grain)), of near-equal
 * size, in order. Which thread runs which chunk is decided at run time (a sleeping worker's
 * chunk is taken by whoever is free). pool == NULL, a single chunk, or a call from inside a
 * running fn (nesting) runs fn(ctx, 0, n, 0) inline. Calls from several threads on one pool
 * are serialized. */
void vit_pool_run(struct vit_pool *pool, int64_t n, int64_t grain, vit_pool_fn fn, void *ctx);

/* While held (on = 1), idle workers keep polling (yielding the CPU between polls) instead of
 * going to sleep after the usual short spin: for a burst of jobs with uneven gaps, such as one forward pass, where a sleeping
 * worker would cost a wake-up (tens of microseconds) at the start of every job. Release with
 * on = 0 at the end of the burst; the pool must not be left held while idle. */
void vit_pool_hold(struct vit_pool *pool, int on);

/* The same with the number of chunks given (at most VIT_POOL_MAX_CHUNKS, and n), which may
 * exceed the thread count: threads take the next chunk as they finish one, so a thread that the
 * OS descheduled (a busy machine) holds up less work. Boundaries depend only on n and chunks. */
#define VIT_POOL_MAX_CHUNKS 4096
void vit_pool_run_chunks(struct vit_pool *pool, int64_t n, int64_t chunks, vit_pool_fn fn,
                         void *ctx);

/* The chunk boundaries vit_pool_run uses: chunk c of `chunks` over [0, n). */
static inline void vit_pool_chunk(int64_t n, int64_t chunks, int64_t c, int64_t *begin,
                                  int64_t *end)
{
    int64_t q = n / chunks, r = n % chunks;
    *begin = c * q + (c < r ? c : r);
    *end = *begin + q + (c < r ? 1 : 0);
}

#ifdef __cplusplus
}
#endif
#endif /* VIT_POOL_H */
