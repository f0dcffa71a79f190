/* vit-forward-int8.c — the int8 variant: PyTorch's quantize_dynamic(model, {nn.Linear}, qint8),
 * done natively. Every Linear (qkv, proj, fc1, fc2, head, head_dist) runs as u8 x s8 -> s32
 * through vit_qlinear (vit-quant.c); the patch embedding (a Conv2d), LayerNorm, the attention
 * matmuls, softmax and GELU stay fp32, as in PyTorch. The data flow is the fp32 pass's.
 *
 * Where we differ from PyTorch, and why:
 *   - activations use torch's x86 range (reduce_range: 0..127, VIT_ACT_QMAX_TORCH) by default so
 *     results track torch's fbgemm/onednn engines; our kernels are exact over the full u8 range,
 *     so the optimized variant may use 0..255 for one more bit of precision.
 *   - rounding: torch rounds x * (1/scale) with nearbyint; so do we. The dequantizing epilogue is
 *     one fmaf; torch's onednn path rounds in a different order, so logits differ in the last
 *     bits (the tests state the tolerance against torch's own quantized model).
 * Threads: the session's vit_pool splits each GEMM over output columns, and the attention over
 * heads (OpenBLAS limited to one thread inside each head, so the two pools never fight). */
#include "vit-backend.h"
#include "vit-int8.h"
#include "vit-opt.h" /* the vectorized GELU and exp */
#include "vit-sgemm.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Run state */

/* The best kernel level this CPU has, whatever kernel the session names. */
static vit_kernel best_cpu_kernel(void)
{
    for (int k = VIT_KERNEL_COUNT - 1; k > 0; k--)
        if (vit_kernel_supported((vit_kernel)k))
            return (vit_kernel)k;
    return VIT_KERNEL_SCALAR;
}

vit_status vit_int8_state_new(const vit_model *m, int32_t threads, vit_int8_state *s,
                              vit_error *err)
{
    memset(s, 0, sizeof *s);
    vit_status st = vit_fp32_state_new(m, &s->f, err);
    if (st != VIT_OK)
        return st;
    const vit_model_info *i = &m->info;
    int32_t kmax = i->embed_dim > i->mlp_hidden ? i->embed_dim : i->mlp_hidden;
    s->scratch = vit_alloc(vit_qlinear_scratch_bytes(i->num_tokens, kmax));
    s->tmp = vit_alloc((size_t)i->num_tokens * i->embed_dim * sizeof(float));
    if (!s->scratch || !s->tmp) {
        vit_int8_state_free(s);
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for the int8 run state");
    }
    /* attention (fp32 in this variant, as in torch) runs through the fp32 pass's kernels, chosen
     * by what the CPU has rather than by the forced GEMM kernel, so that naming a kernel still
     * gives bit-identical logits; the fp32 state's pool is this variant's pool */
    st = vit_fp32_state_plan(&s->f, vit_sgemm_ops_for(best_cpu_kernel()), NULL, threads, err);
    if (st != VIT_OK) {
        vit_int8_state_free(s);
        return st;
    }
    s->pool = s->f.pool;
    return VIT_OK;
}

void vit_int8_state_free(vit_int8_state *s)
{
    vit_fp32_state_free(&s->f); /* frees the pool too */
    vit_free(s->scratch);
    vit_free(s->tmp);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------------------------------------
 * Parallel fp32 pieces */

typedef struct {
    float *x;
    const float *add;
    void (*fn)(const float *x, float *y, size_t n); /* gelu_span's GELU */
} span_job;

/* GELU and exp: the optimized variant's vectorized functions (|err| < 4e-7 and rel. < 2e-7,
 * far below int8's own error), chosen by what the CPU has — not by the GEMM kernel, so forcing
 * a named kernel still gives bit-identical logits on one machine. They cost 20–30% of this variant's
 * time as scalar erff / expf. */
typedef void (*vec_fn)(const float *x, float *y, size_t n);

static vec_fn best_gelu(void)
{
#if defined(VIT_HAVE_X86_SIMD)
    if (vit_kernel_supported(VIT_KERNEL_AVX512_VNNI))
        return vit_gelu_avx512;
    if (vit_kernel_supported(VIT_KERNEL_AVX2))
        return vit_gelu_avx2;
#endif
    return vit_gelu_ref;
}

static vec_fn best_exp(void)
{
#if defined(VIT_HAVE_X86_SIMD)
    if (vit_kernel_supported(VIT_KERNEL_AVX512_VNNI))
        return vit_exp_avx512;
    if (vit_kernel_supported(VIT_KERNEL_AVX2))
        return vit_exp_avx2;
#endif
    return NULL; /* expf */
}

static void gelu_span(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    span_job *j = ctx;
    j->fn(j->x + begin, j->x + begin, (size_t)(end - begin));
}

/* Row-wise softmax of scale * x, with the vectorized exp when there is one. */
static void softmax_rows(float *x, int32_t rows, int32_t cols, float scale, vec_fn vexp)
{
    if (!vexp) {
        vit_softmax_rows(x, rows, cols, scale);
        return;
    }
    for (int32_t r = 0; r < rows; r++) {
        float *xr = x + (size_t)r * cols;
        float max = xr[0];
        for (int32_t i = 1; i < cols; i++)
            max = xr[i] > max ? xr[i] : max;
        for (int32_t i = 0; i < cols; i++)
            xr[i] = (xr[i] - max) * scale;
        vexp(xr, xr, (size_t)cols);
        float sum = 0.0f;
        for (int32_t i = 0; i < cols; i++)
            sum += xr[i];
        float inv = 1.0f / sum;
        for (int32_t i = 0; i < cols; i++)
            xr[i] *= inv;
    }
}

static void add_span(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    span_job *j = ctx;
    for (int64_t k = begin; k < end; k++)
        j->x[k] += j->add[k];
}

typedef struct {
    vit_fp32_state *s;
    vec_fn vexp;
} att_job;

/* One head: scores, softmax, weighted sum — the fp32 pass's math, a head per chunk. */
static void attention_heads(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    vit_fp32_state *s = ((att_job *)ctx)->s;
    vec_fn vexp = ((att_job *)ctx)->vexp;
    int32_t T = s->T, D = s->D, hd = s->hd;
    float scale = 1.0f / sqrtf((float)hd);
    for (int64_t h = begin; h < end; h++) {
        const float *q = s->qkv + h * hd;
        const float *k = s->qkv + D + h * hd;
        const float *v = s->qkv + 2 * (size_t)D + h * hd;
        float *att = s->att + (size_t)h * T * T;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, 1.0f, q, 3 * D, k, 3 * D,
                    0.0f, att, T);
        softmax_rows(att, T, T, scale, vexp);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, att, T, v, 3 * D,
                    0.0f, s->ctx + h * hd, D);
    }
}

/* ---------------------------------------------------------------------------------------------
 * The forward pass */

/* The int8 pass; MARK(op) ends each op when profiled (vit-impl.h, VIT_PROF_MARK) */
#define MARK(op) VIT_PROF_MARK(prof, op)

static inline __attribute__((always_inline)) void
forward_int8(const vit_model *m, const vit_quant_model *q, vit_int8_state *st, const float *input,
             float *logits, vit_prof *prof)
{
    const vit_model_info *i = &m->info;
    vit_fp32_state *s = &st->f;
    vit_pool *pool = st->pool;
    int32_t T = s->T, D = s->D, H = s->H, NP = i->num_patches, K = i->num_classes;
    int32_t cpp = i->in_chans * i->patch_size * i->patch_size;
    size_t TD = (size_t)T * D;
    const vec_fn gelu = best_gelu(); /* chosen here, not lazily in the workers: no shared state */

    // patch embedding in fp32 (a Conv2d: quantize_dynamic leaves it alone)
    vit_im2col_patches(input, i->in_chans, i->img_size, i->patch_size, s->patches);
    MARK(VIT_OP_OTHER);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, NP, D, cpp, 1.0f, s->patches, cpp,
                m->w.patch_w, cpp, 0.0f, s->ctx, D);
    for (int32_t p = 0; p < NP; p++)
        for (int32_t c = 0; c < D; c++)
            s->ctx[(size_t)p * D + c] += m->w.patch_b[c];
    MARK(VIT_OP_PATCH);
    vit_embed_tokens(m, s->ctx, s->x);
    MARK(VIT_OP_OTHER);

    for (int32_t l = 0; l < i->depth; l++) {
        const vit_block_weights *b = &m->w.blocks[l];
        const vit_qlinear *ql = &q->layers[4 * l];
        // x = x + proj(attn(norm1(x)))            (qkv and proj in int8)
        vit_fp32_layernorm(s, s->x, b->norm1_w, b->norm1_b, s->xn, T);
        MARK(VIT_OP_LAYERNORM);
        vit_qlinear_forward(&ql[0], s->xn, T, s->qkv, st->scratch, pool);
        MARK(VIT_OP_QKV);
        if (s->ops) {
            vit_fp32_attention(s);
        } else {
            att_job aj = {s, best_exp()};
            vit_pool_run(pool, s->heads, 1, attention_heads, &aj);
        }
        // rollout on: roll[l] (T, T) = mean over heads of att
        if (s->roll)
            vit_rollout_mean_heads(pool, s->att, s->heads, T,
                                   l == i->depth - 1 ? 1 + i->distilled : T,
                                   s->roll + (size_t)l * T * T);
        MARK(VIT_OP_ATTENTION);
        vit_qlinear_forward(&ql[1], s->ctx, T, st->tmp, st->scratch, pool);
        span_job add = {s->x, st->tmp, NULL};
        vit_pool_run(pool, (int64_t)TD, 4096, add_span, &add);
        MARK(VIT_OP_PROJ);
        // x = x + fc2(gelu(fc1(norm2(x))))        (fc1 and fc2 in int8)
        vit_fp32_layernorm(s, s->x, b->norm2_w, b->norm2_b, s->xn, T);
        MARK(VIT_OP_LAYERNORM);
        vit_qlinear_forward(&ql[2], s->xn, T, s->hid, st->scratch, pool);
        span_job g = {s->hid, NULL, gelu};
        vit_pool_run(pool, (int64_t)T * H, 4096, gelu_span, &g);
        MARK(VIT_OP_FC1);
        vit_qlinear_forward(&ql[3], s->hid, T, st->tmp, st->scratch, pool);
        vit_pool_run(pool, (int64_t)TD, 4096, add_span, &add);
        MARK(VIT_OP_FC2);
    }

    int32_t prefix = 1 + i->distilled;
    vit_fp32_layernorm(s, s->x, m->w.norm_w, m->w.norm_b, s->xn, prefix);
    // heads in int8 too: each is its own dynamically quantized Linear, as in torch
    vit_qlinear_forward(&q->layers[4 * i->depth], s->xn, 1, logits, st->scratch, NULL);
    if (i->distilled) {
        vit_qlinear_forward(&q->layers[4 * i->depth + 1], s->xn + D, 1, s->logits2, st->scratch,
                            NULL);
        for (int32_t c = 0; c < K; c++)
            logits[c] = 0.5f * (logits[c] + s->logits2[c]);
    }
    MARK(VIT_OP_HEAD);
}

void vit_forward_int8(const vit_model *m, const vit_quant_model *q, vit_int8_state *st,
                      const float *input, float *logits)
{
    if (st->f.prof)
        forward_int8(m, q, st, input, logits, st->f.prof);
    else
        forward_int8(m, q, st, input, logits, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * The int8 backend */

typedef struct {
    vit_int8_state run;
    const vit_quant_model *q; /* the model's prepared int8 weights, or own_q */
    vit_quant_model *own_q;
} int8_backend;

static vit_status int8_init(vit_session *s, vit_error *err)
{
    int8_backend *b = calloc(1, sizeof *b);
    if (!b)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for a session");
    s->state = b;
    vit_status st = vit_model_quant_for(s->model, s->opts.per_channel, s->kernel, &b->q,
                                        &b->own_q, err);
    if (st == VIT_OK)
        st = vit_int8_state_new(s->model, s->threads, &b->run, err);
    b->run.f.roll = s->roll_att;
    b->run.f.prof = s->prof;
    return st;
}

static vit_status int8_forward(vit_session *s, const float *in, float *logits, vit_error *err)
{
    int8_backend *b = s->state;
    /* our pool splits the work; OpenBLAS runs single-threaded inside each attention head */
    openblas_set_num_threads(1);
    vit_forward_int8(s->model, b->q, &b->run, in, logits);
    return VIT_OK;
}

static void int8_free(vit_session *s)
{
    int8_backend *b = s->state;
    if (!b)
        return;
    vit_int8_state_free(&b->run);
    vit_quant_model_free(b->own_q);
    free(b);
}

static const char *int8_kernel(const vit_session *s)
{
    const int8_backend *b = s->state;
    return vit_kernel_runs(b->q->kernel);
}

const vit_backend vit_backend_int8 = {"int8", int8_init, int8_forward, int8_free, int8_kernel};
