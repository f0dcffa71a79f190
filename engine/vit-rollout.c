/* vit-rollout.c — attention rollout (Abnar & Zuidema, 2020; vit_session_rollout in vit.h): the
 * head mean the fp32 and int8 variants take after their attention (the optimized variant takes
 * it inside its attention tiles, vit-opt-steps.c), and the product of the blocks' matrices,
 * made once per run after the forward. Every buffer is the session's (vit-session.c). */
#include "vit-impl.h"
#include "vit-pool.h"

#include <cblas.h>

#include <string.h>

typedef struct {
    const float *att;
    float *mean;
    int32_t heads, T;
} mean_job;

/* rows [begin, end): mean[i][j] = sum_h att[h][i][j] / heads */
static void mean_rows(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const mean_job *j = ctx;
    const size_t T = (size_t)j->T, TT = T * T;
    const float w = 1.0f / (float)j->heads;
    for (int64_t i = begin; i < end; i++) {
        float *restrict m = j->mean + (size_t)i * T;
        const float *restrict a = j->att + (size_t)i * T;
        for (size_t c = 0; c < T; c++)
            m[c] = a[c];
        for (int32_t h = 1; h < j->heads; h++) {
            const float *restrict ah = a + (size_t)h * TT;
            for (size_t c = 0; c < T; c++)
                m[c] += ah[c];
        }
        for (size_t c = 0; c < T; c++)
            m[c] *= w;
    }
}

void vit_rollout_mean_heads(struct vit_pool *pool, const float *att, int32_t heads, int32_t T,
                            int32_t rows, float *mean)
{
    mean_job j = {att, mean, heads, T};
    vit_pool_run(pool, rows, 16, mean_rows, &j);
}

const float *vit_rollout_row(const void *att, vit_bf16_gemv_op *gemv, int32_t depth, int32_t T,
                             int32_t prefix, float *row)
{
    const size_t TT = (size_t)T * T;
    float *r = row, *next = row + T;
    // r = e_cls (distilled: (e_cls + e_dist) / 2)
    for (int32_t t = 0; t < T; t++)
        r[t] = t < prefix ? 1.0f / (float)prefix : 0.0f;
    // r = r A^_L ... A^_1, A^_l = 0.5 A_l + 0.5 I: r' = 0.5 r + 0.5 (r A_l). The first product,
    // e_cls A^_L, reads only the prefix rows (r is 0 past them): the variants leave A_L's others
    // unwritten.
    for (int32_t l = depth - 1; l >= 0; l--) {
        const int32_t n = l == depth - 1 ? prefix : T;
        for (int32_t t = 0; t < T; t++)
            next[t] = 0.5f * r[t];
        // next += 0.5 A_l^T r over rows [0, n) of A_l, in the CPU's vectors (this product is
        // most of what the rollout adds to a small model's forward): bf16 rows through the
        // optimized variant's kernel, floats through OpenBLAS
        if (gemv)
            gemv((const uint16_t *)att + (size_t)l * TT, n, T, r, 0.5f, next);
        else
            cblas_sgemv(CblasRowMajor, CblasTrans, n, T, 0.5f, (const float *)att + (size_t)l * TT,
                        T, r, 1, 1.0f, next, 1);
        float *tmp = r;
        r = next;
        next = tmp;
    }
    return r;
}

void vit_rollout_normalize(const float *r, int32_t T, int32_t prefix, float *grid)
{
    // grid = r over the patch tokens / its max
    const int32_t np = T - prefix;
    float mx = 0.0f;
    for (int32_t p = 0; p < np; p++)
        mx = r[prefix + p] > mx ? r[prefix + p] : mx;
    const float inv = mx > 0.0f ? 1.0f / mx : 0.0f;
    for (int32_t p = 0; p < np; p++)
        grid[p] = r[prefix + p] * inv;
}
