/* vit-forward.c — the fp32 forward pass of a timm ViT/DeiT, the reference every faster variant
 * is judged against. Plain and readable on purpose: one function, top to bottom, in timm's
 * order. Each Linear, LayerNorm and attention head goes through one of two back ends, chosen at
 * plan time: our GEMM and kernels (vit-sgemm.h: AVX-512 or AVX2, weights packed once, bias /
 * residual add / GELU fused into the GEMM, work split in our pool), or, on CPUs with neither,
 * cblas_sgemm and the plain loops below. Every buffer comes from vit_fp32_state, allocated once
 * per session. */
#include "vit-backend.h"
#include "vit-pool.h"
#include "vit-sgemm.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Building blocks shared by the variants */

/* input (C, S, S) -> patches (NP, C*P*P): row p = patch (gy, gx), columns in the conv weight's
 * (c, ky, kx) order, so the patch conv becomes patches @ W^T. */
void vit_im2col_patches(const float *input, int32_t C, int32_t img, int32_t P, float *patches)
{
    int32_t G = img / P;
    size_t cols = (size_t)C * P * P;
    for (int32_t gy = 0; gy < G; gy++)
        for (int32_t gx = 0; gx < G; gx++) {
            float *row = patches + ((size_t)gy * G + gx) * cols;
            for (int32_t c = 0; c < C; c++)
                for (int32_t ky = 0; ky < P; ky++) {
                    const float *src = input + ((size_t)c * img + (size_t)gy * P + ky) * img +
                                       (size_t)gx * P;
                    memcpy(row + ((size_t)c * P + ky) * P, src, (size_t)P * sizeof(float));
                }
        }
}

/* x = [cls, (dist,) patch_out] + pos_embed */
void vit_embed_tokens(const vit_model *m, const float *patch_out, float *x)
{
    const vit_model_info *i = &m->info;
    int32_t D = i->embed_dim, prefix = 1 + i->distilled;
    memcpy(x, m->w.cls_token, (size_t)D * sizeof(float));
    if (i->distilled)
        memcpy(x + D, m->w.dist_token, (size_t)D * sizeof(float));
    memcpy(x + (size_t)prefix * D, patch_out, (size_t)i->num_patches * D * sizeof(float));
    size_t n = (size_t)i->num_tokens * D;
    for (size_t k = 0; k < n; k++)
        x[k] += m->w.pos_embed[k];
}

/* y (M, N) = x (M, K) @ W^T (K, N) + b, W stored (N, K) as nn.Linear (packed: pw), then
 * STORE y, ADD into y (the residual add), or GELU. */
static void linear(const vit_fp32_state *s, const float *x, const float *W, const vit_sgemm_b *pw,
                   const float *b, float *y, int32_t M, int32_t N, int32_t K, vit_sgemm_mode mode)
{
    if (s->ops) {
        vit_sgemm(s->ops, s->pool, M, x, K, pw, b, mode, y, N);
        return;
    }
    float beta = mode == VIT_SEP_ADD ? 1.0f : 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K, W, K, beta, y, N);
    for (int32_t r = 0; r < M; r++) {
        float *yr = y + (size_t)r * N;
        for (int32_t c = 0; c < N; c++)
            yr[c] += b[c];
    }
    if (mode == VIT_SEP_GELU)
        vit_gelu_inplace(y, (size_t)M * N);
}

typedef struct {
    const vit_fp32_state *s;
    const float *x, *w, *b;
    float *y;
    int32_t dim;
} ln_job;

/* Rows [begin, end) with the plan's LayerNorm, or the plain one (double sums) without a plan. */
static void layernorm_rows(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const ln_job *j = ctx;
    vit_layernorm_fn ln = j->s->ops ? j->s->ops->layernorm : vit_layernorm;
    ln(j->x + begin * j->dim, j->w, j->b, j->y + begin * j->dim, (int32_t)(end - begin), j->dim,
       j->s->eps);
}

void vit_fp32_layernorm(const vit_fp32_state *s, const float *x, const float *w, const float *b,
                        float *y, int32_t rows)
{
    ln_job j = {s, x, w, b, y, s->D};
    vit_pool_run(s->pool, rows, 16, layernorm_rows, &j);
}

/* ---------------------------------------------------------------------------------------------
 * Run state */

vit_status vit_fp32_state_new(const vit_model *m, vit_fp32_state *s, vit_error *err)
{
    memset(s, 0, sizeof *s);
    const vit_model_info *i = &m->info;
    s->T = i->num_tokens;
    s->D = i->embed_dim;
    s->H = i->mlp_hidden;
    s->heads = i->num_heads;
    s->hd = i->embed_dim / i->num_heads;
    s->eps = i->ln_eps;
    size_t T = (size_t)s->T, D = (size_t)s->D, H = (size_t)s->H;
    size_t cpp = (size_t)i->in_chans * i->patch_size * i->patch_size;
    s->x = vit_alloc(T * D * sizeof(float));
    s->xn = vit_alloc(T * D * sizeof(float));
    s->qkv = vit_alloc(T * 3 * D * sizeof(float));
    s->att = vit_alloc((size_t)s->heads * T * T * sizeof(float));
    s->ctx = vit_alloc(T * D * sizeof(float));
    s->hid = vit_alloc(T * H * sizeof(float));
    s->patches = vit_alloc((size_t)i->num_patches * cpp * sizeof(float));
    s->logits2 = vit_alloc((size_t)i->num_classes * sizeof(float));
    if (!s->x || !s->xn || !s->qkv || !s->att || !s->ctx || !s->hid || !s->patches || !s->logits2) {
        vit_fp32_state_free(s);
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for the fp32 run state");
    }
    return VIT_OK;
}

vit_status vit_fp32_state_plan(vit_fp32_state *s, const vit_sgemm_ops *ops,
                               const vit_sgemm_model *packed, int32_t threads, vit_error *err)
{
    size_t heads = (size_t)s->heads;
    s->kpack = vit_alloc(heads * vit_sgemm_packed_floats(s->hd, s->T) * sizeof(float));
    s->vpack = vit_alloc(heads * vit_sgemm_packed_floats(s->T, s->hd) * sizeof(float));
    if (!s->kpack || !s->vpack)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for the fp32 run state");
    vit_status st = vit_pool_new(threads, &s->pool, err);
    if (st != VIT_OK)
        return st;
    s->ops = ops;
    s->packed = packed;
    return VIT_OK;
}

void vit_fp32_state_free(vit_fp32_state *s)
{
    vit_free(s->x);
    vit_free(s->xn);
    vit_free(s->qkv);
    vit_free(s->att);
    vit_free(s->ctx);
    vit_free(s->hid);
    vit_free(s->patches);
    vit_free(s->logits2);
    vit_free(s->kpack);
    vit_free(s->vpack);
    vit_pool_free(s->pool);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------------------------------------
 * The forward pass */

/* Multi-head self-attention on qkv (T, 3D) -> ctx (T, D) through OpenBLAS, one head at a time,
 * reading q, k, v in place through strides (no transposing copies). */
static void attention_blas(vit_fp32_state *s)
{
    int32_t T = s->T, D = s->D, hd = s->hd;
    float scale = 1.0f / sqrtf((float)hd);
    for (int32_t h = 0; h < s->heads; h++) {
        const float *q = s->qkv + (size_t)h * hd;
        const float *k = s->qkv + D + (size_t)h * hd;
        const float *v = s->qkv + 2 * (size_t)D + (size_t)h * hd;
        float *att = s->att + (size_t)h * T * T;
        // att (T, T) = q (T, hd) @ k^T (hd, T)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, 1.0f, q, 3 * D, k, 3 * D,
                    0.0f, att, T);
        // att = softmax(att * hd^-0.5) per row
        vit_softmax_rows(att, T, T, scale);
        // ctx[:, h] (T, hd) = att (T, T) @ v (T, hd)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, att, T, v, 3 * D,
                    0.0f, s->ctx + (size_t)h * hd, D);
    }
}

/* The same with our kernels: first each head's k^T and v packed for the GEMM, then work items of
 * (head, block of query rows), each its scores, softmax and weighted sum of v. */
#define ATT_ROWS 24

static void pack_heads(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    vit_fp32_state *s = ctx;
    int32_t T = s->T, D = s->D, hd = s->hd;
    for (int64_t h = begin; h < end; h++) {
        vit_sgemm_pack_t(s->qkv + D + h * hd, 3 * D, T, hd,
                         s->kpack + h * vit_sgemm_packed_floats(hd, T));
        vit_sgemm_pack_n(s->qkv + 2 * (size_t)D + h * hd, 3 * D, T, hd,
                         s->vpack + h * vit_sgemm_packed_floats(T, hd));
    }
}

static void attention_rows(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    vit_fp32_state *s = ctx;
    int32_t T = s->T, D = s->D, hd = s->hd, blocks = (T + ATT_ROWS - 1) / ATT_ROWS;
    float scale = 1.0f / sqrtf((float)hd);
    for (int64_t it = begin; it < end; it++) {
        int32_t h = (int32_t)(it / blocks), r0 = (int32_t)(it % blocks) * ATT_ROWS;
        int32_t rows = T - r0 < ATT_ROWS ? T - r0 : ATT_ROWS;
        vit_sgemm_b kt = {hd, T, s->kpack + h * vit_sgemm_packed_floats(hd, T)};
        vit_sgemm_b v = {T, hd, s->vpack + h * vit_sgemm_packed_floats(T, hd)};
        float *att = s->att + ((size_t)h * T + r0) * T;
        // att (rows, T) = q[r0 : r0 + rows] (rows, hd) @ k^T (hd, T)
        vit_sgemm(s->ops, NULL, rows, s->qkv + (size_t)r0 * 3 * D + (size_t)h * hd, 3 * D, &kt,
                  NULL, VIT_SEP_STORE, att, T);
        // att = softmax(att * hd^-0.5) per row
        s->ops->softmax(att, rows, T, T, scale);
        // ctx[r0 : r0 + rows, h] (rows, hd) = att (rows, T) @ v (T, hd)
        vit_sgemm(s->ops, NULL, rows, att, T, &v, NULL, VIT_SEP_STORE,
                  s->ctx + (size_t)r0 * D + (size_t)h * hd, D);
    }
}

void vit_fp32_attention(vit_fp32_state *s)
{
    if (!s->ops) {
        attention_blas(s);
        return;
    }
    vit_pool_run(s->pool, s->heads, 1, pack_heads, s);
    int64_t items = (int64_t)s->heads * ((s->T + ATT_ROWS - 1) / ATT_ROWS);
    int32_t threads = vit_pool_threads(s->pool);
    int64_t chunks = 4 * (int64_t)threads < items ? 4 * (int64_t)threads : items;
    vit_pool_run_chunks(s->pool, items, chunks, attention_rows, s);
}

/* The fp32 pass; MARK(op) ends each op when profiled (vit-impl.h, VIT_PROF_MARK) */
#define MARK(op) VIT_PROF_MARK(prof, op)

static inline __attribute__((always_inline)) void
forward_fp32(const vit_model *m, vit_fp32_state *s, const float *input, float *logits,
             vit_prof *prof)
{
    const vit_model_info *i = &m->info;
    const vit_sgemm_model *p = s->packed; /* NULL on the OpenBLAS back end */
    int32_t T = s->T, D = s->D, H = s->H, NP = i->num_patches, K = i->num_classes;
    int32_t cpp = i->in_chans * i->patch_size * i->patch_size, depth = i->depth;
    vit_pool_hold(s->pool, 1);

    // patch embedding: conv P×P stride P == patches (NP, C*P*P) @ W^T + b -> (NP, D)
    vit_im2col_patches(input, i->in_chans, i->img_size, i->patch_size, s->patches);
    MARK(VIT_OP_OTHER);
    linear(s, s->patches, m->w.patch_w, p ? &p->patch : NULL, m->w.patch_b, s->ctx, NP, D, cpp,
           VIT_SEP_STORE);
    MARK(VIT_OP_PATCH);
    // x (T, D) = [cls, (dist,) patches] + pos_embed
    vit_embed_tokens(m, s->ctx, s->x);
    MARK(VIT_OP_OTHER);

    for (int32_t l = 0; l < depth; l++) {
        const vit_block_weights *b = &m->w.blocks[l];
        const vit_sgemm_b *pl = p ? &p->layers[4 * l] : NULL;
        // x = x + proj(attn(norm1(x)))
        vit_fp32_layernorm(s, s->x, b->norm1_w, b->norm1_b, s->xn, T);
        MARK(VIT_OP_LAYERNORM);
        linear(s, s->xn, b->qkv_w, pl, b->qkv_b, s->qkv, T, 3 * D, D, VIT_SEP_STORE);
        MARK(VIT_OP_QKV);
        vit_fp32_attention(s);
        // rollout on: roll[l] (T, T) = mean over heads of att
        if (s->roll)
            vit_rollout_mean_heads(s->pool, s->att, s->heads, T,
                                   l == depth - 1 ? 1 + m->info.distilled : T,
                                   s->roll + (size_t)l * T * T);
        MARK(VIT_OP_ATTENTION);
        linear(s, s->ctx, b->proj_w, pl ? pl + 1 : NULL, b->proj_b, s->x, T, D, D, VIT_SEP_ADD);
        MARK(VIT_OP_PROJ);
        // x = x + fc2(gelu(fc1(norm2(x))))
        vit_fp32_layernorm(s, s->x, b->norm2_w, b->norm2_b, s->xn, T);
        MARK(VIT_OP_LAYERNORM);
        linear(s, s->xn, b->fc1_w, pl ? pl + 2 : NULL, b->fc1_b, s->hid, T, H, D, VIT_SEP_GELU);
        MARK(VIT_OP_FC1);
        linear(s, s->hid, b->fc2_w, pl ? pl + 3 : NULL, b->fc2_b, s->x, T, D, H, VIT_SEP_ADD);
        MARK(VIT_OP_FC2);
    }

    // final norm on the class token(s) only: the head reads nothing else
    int32_t prefix = 1 + i->distilled;
    vit_fp32_layernorm(s, s->x, m->w.norm_w, m->w.norm_b, s->xn, prefix);
    // logits = head(x[0]); distilled: (head(x[0]) + head_dist(x[1])) / 2
    linear(s, s->xn, m->w.head_w, p ? &p->layers[4 * depth] : NULL, m->w.head_b, logits, 1, K, D,
           VIT_SEP_STORE);
    if (i->distilled) {
        linear(s, s->xn + D, m->w.head_dist_w, p ? &p->layers[4 * depth + 1] : NULL,
               m->w.head_dist_b, s->logits2, 1, K, D, VIT_SEP_STORE);
        for (int32_t c = 0; c < K; c++)
            logits[c] = 0.5f * (logits[c] + s->logits2[c]);
    }
    MARK(VIT_OP_HEAD);
    vit_pool_hold(s->pool, 0);
}

void vit_forward_fp32(const vit_model *m, vit_fp32_state *s, const float *input, float *logits)
{
    if (s->prof)
        forward_fp32(m, s, input, logits, s->prof);
    else
        forward_fp32(m, s, input, logits, NULL);
}


/* ---------------------------------------------------------------------------------------------
 * The fp32 backend */

typedef struct {
    vit_fp32_state run;
    vit_sgemm_model *own_packed; /* the packed Linears, when the model has none prepared */
} fp32_backend;

/* The plan: our GEMM with the model's Linears packed for it (prepared on the model, or packed
 * for this session alone), or OpenBLAS where the CPU has neither AVX2 nor AVX-512 (or for the
 * scalar kernel), which reads the model's plain weights. */
static vit_status fp32_init(vit_session *s, vit_error *err)
{
    const vit_model *m = s->model;
    fp32_backend *b = calloc(1, sizeof *b);
    if (!b)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for a session");
    s->state = b;
    vit_status st = vit_fp32_state_new(m, &b->run, err);
    if (st != VIT_OK)
        return st;
    b->run.roll = s->roll_att;
    b->run.prof = s->prof;
    const vit_sgemm_ops *ops = vit_sgemm_ops_for(s->kernel);
    if (!ops) {
        if (m->linears_released)
            return vit_fail(err, VIT_ERR_UNSUPPORTED,
                            "%s: the fp32 Linear weights were released (vit_model_release_linears): "
                            "the OpenBLAS pass cannot run",
                            m->info.name);
        return VIT_OK;
    }
    const vit_sgemm_model *packed = m->f32p;
    if (!packed) {
        st = vit_sgemm_model_build(m, &b->own_packed, err);
        if (st != VIT_OK)
            return st;
        packed = b->own_packed;
    }
    return vit_fp32_state_plan(&b->run, ops, packed, s->threads, err);
}

static pthread_mutex_t fp32_blas_lock = PTHREAD_MUTEX_INITIALIZER;

static vit_status fp32_forward(vit_session *s, const float *in, float *logits, vit_error *err)
{
    fp32_backend *b = s->state;
    if (b->run.ops) {
        /* our GEMM, split in our pool */
        vit_forward_fp32(s->model, &b->run, in, logits);
        return VIT_OK;
    }
    /* OpenBLAS' thread count is process-wide: set it for this session before each run. Two fp32
     * runs at once would each compute with the other's count, and GEMMs split for 1 and for 2
     * threads round differently (logits up to 1e-6 apart; found by tests/test-reentrant.c), so
     * fp32 runs take turns, and leave the count at 1, the one the int8 and optimized variants
     * (which split the work in our pool) want. */
    pthread_mutex_lock(&fp32_blas_lock);
    openblas_set_num_threads(s->threads);
    vit_forward_fp32(s->model, &b->run, in, logits);
    openblas_set_num_threads(1);
    pthread_mutex_unlock(&fp32_blas_lock);
    return VIT_OK;
}

static void fp32_free(vit_session *s)
{
    fp32_backend *b = s->state;
    if (!b)
        return;
    vit_fp32_state_free(&b->run);
    vit_sgemm_model_free(b->own_packed);
    free(b);
}

static const char *fp32_kernel(const vit_session *s)
{
    const fp32_backend *b = s->state;
    return b->run.ops ? b->run.ops->name : "openblas";
}

const vit_backend vit_backend_fp32 = {"fp32", fp32_init, fp32_forward, fp32_free, fp32_kernel};
