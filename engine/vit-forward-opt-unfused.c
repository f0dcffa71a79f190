/* vit-forward-opt-unfused.c — the optimized variant's steps with their fusions undone
 * (vit_session_opts.unfuse, VIT_UNFUSE_* bits): each fused step replaced by the plain steps it
 * stands for, so that a developer can measure what each fusion pays. Results stay within the
 * tests' tolerances of the fused ones. Chosen once per session (vit_opt_steps_unfuse); the
 * forward (vit-forward-opt.c) does not know which steps it runs.
 *     LN         a = quant_rows(LN(x)): LayerNorm into q (scratch), then a quantization pass
 *     GELU       fc1 stores hid, then a GELU pass, then quant_rows(hid) with its own min/max
 *     ADD        proj / fc2 store into q (scratch), then a residual-add pass
 *     ATTENTION  per head: scores by sgemm (OpenBLAS), softmax per row, sgemm with v; fp32
 *     PATCH      the patch embedding in fp32 (sgemm) instead of int8 */
#include "vit-opt-steps.h"

#include <cblas.h>

typedef struct {
    const vit_opt_state *s;
    float *x;
    const float *y, *w, *b;
    int32_t dim;
} unf_job;

static void ln_rows(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const unf_job *j = ctx;
    vit_layernorm(j->y + begin * j->dim, j->w, j->b, j->x + begin * j->dim, (int32_t)(end - begin),
                  j->dim, j->s->eps);
}

/* a = quant_rows(q = LN(x)) */
static void ln_then_quant(vit_opt_state *s, const float *g, const float *b)
{
    unf_job j = {s, s->q, s->x, g, b, s->D};
    vit_pool_run(s->pool, s->T, 8, ln_rows, &j);
    vit_opt_quantize_rows(s, s->q, s->D, s->D, s->T, NULL, NULL);
}

static void gelu_range(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const unf_job *j = ctx;
    j->s->ops->gelu(j->x + begin, j->x + begin, (size_t)(end - begin));
}

/* hid = dequant(a @ W^T) + b; hid = gelu(hid) */
static void linear_then_gelu(vit_opt_state *s, const vit_qlinear *ql)
{
    vit_oepilogue ep = vit_opt_epilogue_for(s, ql, VIT_OEP_STORE, s->hid, s->H);
    vit_opt_gemm_split(s, ql, s->T, &ep);
    unf_job j = {s, s->hid, NULL, NULL, NULL, 0};
    vit_pool_run(s->pool, (int64_t)s->T * s->H, 4096, gelu_range, &j);
}

/* a = quant_rows(hid), its min and max by a pass of its own */
static void quant_hid(vit_opt_state *s)
{
    vit_opt_quantize_rows(s, s->hid, s->H, s->H, s->T, NULL, NULL);
}

static void add_range(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const unf_job *j = ctx;
    for (int64_t k = begin; k < end; k++)
        j->x[k] += j->y[k];
}

/* q = dequant(a @ W^T) + b; x += q */
static void linear_then_add(vit_opt_state *s, const vit_qlinear *ql)
{
    vit_oepilogue ep = vit_opt_epilogue_for(s, ql, VIT_OEP_STORE, s->q, s->D);
    vit_opt_gemm_split(s, ql, s->T, &ep);
    unf_job j = {s, s->x, s->q, NULL, NULL, 0};
    vit_pool_run(s->pool, (int64_t)s->T * s->D, 4096, add_range, &j);
}

/* per head h: S (T, T) = q_h (T, hd) @ k^T_h (hd, T); softmax per row; ctx_h = S @ v_h */
static void attention_heads(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const vit_opt_state *s = ((const unf_job *)ctx)->s;
    const int32_t T = s->T, D = s->D, hd = s->hd, tp = s->tpad;
    float *S = vit_opt_scores_buf(s, thread);
    for (int64_t h = begin; h < end; h++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, T, hd, 1.0f, s->q + h * hd, D,
                    s->kt + h * hd * tp, tp, 0.0f, S, tp);
        for (int32_t i = 0; i < T; i++)
            vit_softmax_rows(S + (size_t)i * tp, 1, T, 1.0f);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, S, tp,
                    s->v + h * hd, D, 0.0f, s->ctx + h * hd, D);
    }
}

static void attention_blas(vit_opt_state *s, int32_t l)
{
    unf_job j = {s, NULL, NULL, NULL, NULL, 0};
    vit_pool_run(s->pool, s->heads, 1, attention_heads, &j);
}

void vit_opt_steps_unfuse(vit_opt_steps *st, uint32_t bits)
{
    if (bits & VIT_UNFUSE_LN)
        st->ln_quant = ln_then_quant;
    if (bits & VIT_UNFUSE_GELU) {
        st->linear_gelu = linear_then_gelu;
        st->quant_hid = quant_hid;
    }
    if (bits & VIT_UNFUSE_ADD)
        st->linear_add = linear_then_add;
    if (bits & VIT_UNFUSE_ATTENTION) {
        st->attention = attention_blas;
        st->att_rows = 0; /* scores for all T query rows of a head */
        st->bf16 = 0;     /* it reads q, k^T, v in fp32 */
    }
    if (bits & VIT_UNFUSE_PATCH)
        st->patch = vit_opt_patch_f32;
}
