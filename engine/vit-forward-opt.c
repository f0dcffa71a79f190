/* vit-forward-opt.c — the optimized variant: the int8 model (every Linear u8 x s8 -> s32 with the
 * int8 variant's weights) with per-token activation quantization fused into the ops that
 * produce the activations, fused GEMM epilogues, an L1-resident attention (bf16 products where
 * the CPU has them, else fp32), and one arena made at session creation. See vit-opt.h for the
 * semantics and the kernels.
 *
 * One block, as data flows (x is the fp32 residual stream, a the u8 input of the next GEMM):
 *     a  = quant_rows(LN1(x))                        ln_quant
 *     q, k^T, v = dequant(a @ Wqkv^T) + b            GEMM, QKV epilogue (q scaled by hd^-0.5)
 *     ctx = softmax(q k^T) v, per head               attention (fp32, or bf16 products)
 *     a  = quant_rows(ctx)                           quant_rows
 *     x += dequant(a @ Wproj^T) + b                  GEMM, ADD epilogue
 *     a  = quant_rows(LN2(x))                        ln_quant
 *     hid = gelu(dequant(a @ Wfc1^T) + b)            GEMM, GELU epilogue
 *     a  = quant_rows(hid)                           quant_rows
 *     x += dequant(a @ Wfc2^T) + b                   GEMM, ADD epilogue
 * Every step is split over the session's pool (GEMMs over a grid of 6-row x 64-column tiles,
 * attention over (head, 6-row block) items, the row-wise steps over rows), and every output
 * element is computed by one thread in a fixed order: results do not depend on the threads. */
#include "vit-backend.h"
#include "vit-cpu.h"
#include "vit-int8.h"
#include "vit-opt.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------------------------------------
 * Kernel table */

static const vit_opt_ops opt_ops[VIT_KERNEL_COUNT] = {
    [VIT_KERNEL_SCALAR] = {"scalar", VIT_KERNEL_SCALAR, VIT_ACT_QMAX_FULL, vit_opt_gemm_ref,
                           vit_ln_quant_ref, vit_quant_rows_ref, vit_attention_ref, vit_gelu_ref,
                           NULL, vit_quant_rows_mm_ref},
#if defined(VIT_HAVE_X86_SIMD)
    /* the AVX2 GEMM (vpmaddubsw, vit-kernels-avx2.c) is exact for 7-bit inputs only:
     * activations 0..127 */
    [VIT_KERNEL_AVX2] = {"avx2", VIT_KERNEL_AVX2, VIT_ACT_QMAX_TORCH, vit_opt_gemm_avx2,
                         vit_ln_quant_avx2, vit_quant_rows_avx2, vit_attention_avx2,
                         vit_gelu_avx2, NULL, vit_quant_rows_mm_avx2},
    [VIT_KERNEL_AVX512_VNNI] = {"avx512-vnni", VIT_KERNEL_AVX512_VNNI, VIT_ACT_QMAX_FULL,
                                vit_opt_gemm_avx512, vit_ln_quant_avx512, vit_quant_rows_avx512,
                                vit_attention_avx512, vit_gelu_avx512,
                                vit_attention_bf16_avx512, vit_quant_rows_mm_avx512},
#endif
};

#if defined(VIT_HAVE_X86_SIMD)
/* The AVX2 entry on CPUs with AVX-VNNI: the same packing and ops, the GEMM by vpdpbusd on ymm,
 * which is exact for any u8: activations use the whole 0..255, as on AVX-512 (one more bit of
 * input precision than the vpmaddubsw path can take). */
static const vit_opt_ops opt_ops_avx_vnni = {
    "avx-vnni", VIT_KERNEL_AVX2, VIT_ACT_QMAX_FULL, vit_opt_gemm_avx_vnni,
    vit_ln_quant_avx2, vit_quant_rows_avx2, vit_attention_avx2,
    vit_gelu_avx2, NULL, vit_quant_rows_mm_avx2};
#endif

const vit_opt_ops *vit_opt_ops_for(vit_kernel k)
{
    if ((unsigned)k >= VIT_KERNEL_COUNT || !opt_ops[k].gemm)
        return &opt_ops[VIT_KERNEL_SCALAR];
#if defined(VIT_HAVE_X86_SIMD)
    if (k == VIT_KERNEL_AVX2 && (vit_cpu_features() & VIT_CPU_AVX_VNNI))
        return &opt_ops_avx_vnni;
#endif
    return &opt_ops[k];
}

/* ---------------------------------------------------------------------------------------------
 * Plan: one arena, carved once */

static size_t round64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

vit_status vit_opt_state_new(const vit_model *m, const vit_opt_ops *ops, int32_t threads,
                             const vit_session_opts *opts, vit_opt_state *s, vit_error *err)
{
    memset(s, 0, sizeof *s);
    const vit_model_info *i = &m->info;
    s->ops = ops;
    s->T = i->num_tokens;
    s->D = i->embed_dim;
    s->H = i->mlp_hidden;
    s->heads = i->num_heads;
    s->hd = i->embed_dim / i->num_heads;
    s->tpad = (s->T + 15) & ~15;
    s->NP = i->num_patches;
    s->cpp = i->in_chans * i->patch_size * i->patch_size;
    s->K = i->num_classes;
    s->prefix = 1 + i->distilled;
    int32_t kmax = s->D > s->H ? s->D : s->H;
    kmax = kmax > s->cpp ? kmax : s->cpp;
    s->lda = (int32_t)round64((size_t)kmax);

    vit_status st = vit_pool_new(threads, &s->pool, err);
    if (st != VIT_OK)
        return st;
    s->threads = vit_pool_threads(s->pool);

    s->unfuse = opts->unfuse & VIT_UNFUSE_ALL;
    if (s->unfuse)
        vit_log(VIT_LOG_INFO, "optimized: fusions off: 0x%x", (unsigned)s->unfuse);
    /* bf16 attention: AVX-512 BF16 on this CPU, head sizes it handles, not turned off by
     * VIT_ATTENTION_FP32 (nor by VIT_UNFUSE_ATTENTION) */
    s->bf16 = ops->attention_bf16 && s->D % 16 == 0 && s->hd % 16 == 0 &&
              !(s->unfuse & VIT_UNFUSE_ATTENTION) && opts->attention != VIT_ATTENTION_FP32;
    s->bf16 = s->bf16 && (vit_cpu_features() & VIT_CPU_AVX512_BF16);
    const size_t T = (size_t)s->T, D = (size_t)s->D, H = (size_t)s->H, F = sizeof(float);
    /* per thread: attention scores (6 x tpad, + bf16 probabilities; or T x tpad unfused), a
     * LayerNorm row (kmax), a GEMM int32 tile */
    size_t att_rows = s->unfuse & VIT_UNFUSE_ATTENTION ? T : VIT_OPT_ATT_ROWS;
    s->scratch_stride = round64(att_rows * (size_t)s->tpad * (F + 2)) + round64((size_t)kmax * F) +
                        round64(VIT_OPT_GEMM_SCRATCH);
    struct {
        void **p;
        size_t bytes;
    } parts[] = {
        {(void **)&s->x, T * D * F},
        {(void **)&s->a, T * (size_t)s->lda},
        {(void **)&s->a_scale, T * F},
        {(void **)&s->a_zp, T * sizeof(int32_t)},
        {(void **)&s->q, T * D * F},
        {(void **)&s->q16, T * D * 2},
        {(void **)&s->k16, D * (size_t)s->tpad * 2},
        {(void **)&s->v16, D * (size_t)s->tpad * 2},
        {(void **)&s->kt, D * (size_t)s->tpad * F},
        {(void **)&s->v, T * D * F},
        {(void **)&s->ctx, T * D * F},
        {(void **)&s->hid, T * H * F},
        {(void **)&s->patches, (size_t)s->NP * (size_t)s->cpp * F},
        {(void **)&s->hid_mm, T * (size_t)((s->H + VIT_OPT_PW - 1) / VIT_OPT_PW) * 2 * F},
        {(void **)&s->logits2, (size_t)s->K * F},
        {(void **)&s->scratch, (size_t)s->threads * s->scratch_stride},
    };
    size_t total = 0;
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
        total += round64(parts[k].bytes);
    s->arena = vit_alloc(total);
    if (!s->arena) {
        vit_opt_state_free(s);
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for the optimized run state (%zu bytes)",
                        total);
    }
    /* zeroed once: the k^T padding columns (keys T .. tpad) are read as zeros by the scores */
    memset(s->arena, 0, total);
    s->arena_bytes = total;
    /* time each kind of step (logged at VIT_LOG_INFO when the state is freed) */
    s->prof = opts->profile;
    uint8_t *p = s->arena;
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
        *parts[k].p = p;
        p += round64(parts[k].bytes);
    }
    return VIT_OK;
}

void vit_opt_state_free(vit_opt_state *s)
{
    if (s->prof && s->runs > 0)
        vit_log(VIT_LOG_INFO,
                "optimized, %d threads, mean of %d runs: GEMMs %.3f ms, attention %.3f ms, "
                "LayerNorm + quantization %.3f ms, other %.3f ms",
                (int)s->threads, (int)s->runs, s->t_gemm / s->runs, s->t_att / s->runs,
                s->t_ln / s->runs, s->t_other / s->runs);
    vit_pool_free(s->pool);
    vit_free(s->arena);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------------------------------------
 * Parallel steps */

static float *scores_buf(const vit_opt_state *s, int32_t thread)
{
    return (float *)(s->scratch + (size_t)thread * s->scratch_stride);
}

static float *row_buf(const vit_opt_state *s, int32_t thread)
{
    size_t att_rows = s->unfuse & VIT_UNFUSE_ATTENTION ? (size_t)s->T : VIT_OPT_ATT_ROWS;
    return (float *)(s->scratch + (size_t)thread * s->scratch_stride +
                     round64(att_rows * (size_t)s->tpad * (sizeof(float) + 2)));
}

static void *tile_buf(const vit_opt_state *s, int32_t thread)
{
    return s->scratch + (size_t)thread * s->scratch_stride + s->scratch_stride -
           round64(VIT_OPT_GEMM_SCRATCH);
}

/* Run fn over [0, n) in chunks of at least `grain` items, up to VIT_OPT_CHUNKS_PER_THREAD per
 * thread: more chunks than threads, taken as threads come free, so that a thread the OS has
 * descheduled (a busy machine) holds up a small part of the step, not half of it. Results do
 * not depend on the chunks: every output element is computed whole inside one. */
#define VIT_OPT_CHUNKS_PER_THREAD 4
static void par(const vit_opt_state *s, int64_t n, int64_t grain, vit_pool_fn fn, void *ctx)
{
    int64_t chunks = (n + grain - 1) / (grain > 0 ? grain : 1);
    int64_t most = (int64_t)s->threads * VIT_OPT_CHUNKS_PER_THREAD;
    vit_pool_run_chunks(s->pool, n, chunks < most ? chunks : most, fn, ctx);
}

typedef struct {
    const vit_opt_state *s;
    const float *x;   /* ln: (rows, D); quant: (rows, ldx) */
    int32_t ldx, dim;
    const float *w, *b; /* LayerNorm weights, NULL for plain quantization */
    const float *mm;    /* per-panel min/max partials (rows, panels, 2), or NULL */
    int32_t panels;
} rows_job;

static void rows_chunk(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const rows_job *j = ctx;
    const vit_opt_state *s = j->s;
    if (j->w)
        s->ops->ln_quant(j->x, j->dim, (int32_t)begin, (int32_t)end, j->w, j->b, s->ops->qmax,
                         s->a, s->lda, s->a_scale, s->a_zp, row_buf(s, thread));
    else if (j->mm)
        s->ops->quant_rows_mm(j->x, j->ldx, j->dim, (int32_t)begin, (int32_t)end, s->ops->qmax,
                              s->a, s->lda, s->a_scale, s->a_zp, j->mm, j->panels);
    else
        s->ops->quant_rows(j->x, j->ldx, j->dim, (int32_t)begin, (int32_t)end, s->ops->qmax, s->a,
                           s->lda, s->a_scale, s->a_zp);
}

/* a, a_scale, a_zp (rows [0, rows)) = quant_rows(LN(x)) or quant_rows(x) */
static void quantize_rows(vit_opt_state *s, const float *x, int32_t ldx, int32_t dim, int32_t rows,
                          const float *w, const float *b)
{
    rows_job j = {s, x, ldx, dim, w, b, NULL, 0};
    int64_t grain = (16384 + dim - 1) / dim; /* ~16k elements per chunk at least */
    par(s, rows, grain, rows_chunk, &j);
}

/* a, a_scale, a_zp = quant_rows(hid), min and max from fc1's epilogue */
static void quantize_rows_mm(vit_opt_state *s, const float *x, int32_t ld, int32_t rows)
{
    rows_job j = {s, x, ld, ld, NULL, NULL, s->hid_mm, (ld + VIT_OPT_PW - 1) / VIT_OPT_PW};
    int64_t grain = (16384 + ld - 1) / ld;
    par(s, rows, grain, rows_chunk, &j);
}

typedef struct {
    const vit_opt_state *s;
    const vit_qlinear *ql;
    vit_oepilogue ep;
    int32_t m;
    int64_t row_blocks;
} gemm_job;

/* Items are (panel, row block) tiles numbered panel by panel, as in vit-quant.c: a chunk is a
 * run of row blocks through consecutive panels, so B streams one panel at a time. */
static void gemm_chunk(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const gemm_job *g = ctx;
    const vit_opt_state *s = g->s;
    const int32_t n = g->ql->n, m = g->m;
    const int64_t blocks = g->row_blocks;
    void *scratch = tile_buf(s, thread);
#define PCOL(pn) ((int32_t)((pn)*VIT_OPT_PW < n ? (pn)*VIT_OPT_PW : n))
#define BROW(bk) ((int32_t)((bk)*VIT_OPT_MR < m ? (bk)*VIT_OPT_MR : m))
    for (int64_t it = begin; it < end;) {
        int64_t pn = it / blocks, b0 = it % blocks;
        int64_t b1 = end - pn * blocks < blocks ? end - pn * blocks : blocks;
        s->ops->gemm(BROW(b0), BROW(b1), s->a, s->lda, g->ql, PCOL(pn), PCOL(pn + 1), &g->ep,
                     scratch);
        it = pn * blocks + b1;
    }
#undef PCOL
#undef BROW
}

#define MACS_GRAIN 1000000

static void gemm(vit_opt_state *s, const vit_qlinear *ql, int32_t m, const vit_oepilogue *ep)
{
    gemm_job g = {s, ql, *ep, m, (m + VIT_OPT_MR - 1) / VIT_OPT_MR};
    int64_t panels = (ql->n + VIT_OPT_PW - 1) / VIT_OPT_PW;
    int64_t per_item = (int64_t)(m < VIT_OPT_MR ? m : VIT_OPT_MR) * VIT_OPT_PW * ql->k;
    int64_t grain = per_item >= MACS_GRAIN ? 1 : MACS_GRAIN / per_item;
    par(s, panels * g.row_blocks, grain, gemm_chunk, &g);
}

static vit_oepilogue epilogue(const vit_opt_state *s, const vit_qlinear *ql, vit_oep_mode mode,
                              float *y, int32_t ldy)
{
    return (vit_oepilogue){.mode = mode,
                           .a_scale = s->a_scale,
                           .a_zp = s->a_zp,
                           .w_scale = ql->scale,
                           .row_sum = ql->row_sum,
                           .bias = ql->bias,
                           .y = y,
                           .ldy = ldy};
}

typedef struct {
    const vit_opt_state *s;
    int64_t blocks; /* row blocks per head */
} att_job;

static void att_chunk(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const att_job *j = ctx;
    const vit_opt_state *s = j->s;
    float *sbuf = scores_buf(s, thread);
    for (int64_t it = begin; it < end;) {
        int32_t h = (int32_t)(it / j->blocks);
        int64_t b0 = it % j->blocks;
        int64_t b1 = end - (int64_t)h * j->blocks < j->blocks ? end - (int64_t)h * j->blocks
                                                               : j->blocks;
        int32_t i0 = (int32_t)(b0 * VIT_OPT_ATT_ROWS);
        int32_t i1 = (int32_t)(b1 * VIT_OPT_ATT_ROWS < s->T ? b1 * VIT_OPT_ATT_ROWS : s->T);
        if (s->bf16)
            s->ops->attention_bf16(s->q16, s->k16, s->v16, s->ctx, s->T, s->tpad, s->D, s->hd, h,
                                   i0, i1, sbuf);
        else
            s->ops->attention(s->q, s->kt, s->v, s->ctx, s->T, s->tpad, s->D, s->hd, h, i0, i1,
                              sbuf);
        it = (int64_t)h * j->blocks + b1;
    }
}

/* ---------------------------------------------------------------------------------------------
 * The unfused steps (vit_session_opts.unfuse), for measuring what each fusion pays */

typedef struct {
    const vit_opt_state *s;
    float *x;
    const float *y, *w, *b;
    int32_t dim;
} unf_job;

static void unf_ln(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const unf_job *j = ctx;
    vit_layernorm(j->y + begin * j->dim, j->w, j->b, j->x + begin * j->dim, (int32_t)(end - begin),
                  j->dim);
}

static void unf_gelu(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const unf_job *j = ctx;
    j->s->ops->gelu(j->x + begin, j->x + begin, (size_t)(end - begin));
}

static void unf_add(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const unf_job *j = ctx;
    for (int64_t k = begin; k < end; k++)
        j->x[k] += j->y[k];
}

static void unf_att(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const vit_opt_state *s = ((const unf_job *)ctx)->s;
    const int32_t T = s->T, D = s->D, hd = s->hd, tp = s->tpad;
    float *S = scores_buf(s, thread);
    for (int64_t h = begin; h < end; h++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, T, hd, 1.0f, s->q + h * hd, D,
                    s->kt + h * hd * tp, tp, 0.0f, S, tp);
        for (int32_t i = 0; i < T; i++)
            vit_softmax_rows(S + (size_t)i * tp, 1, T, 1.0f);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, S, tp,
                    s->v + h * hd, D, 0.0f, s->ctx + h * hd, D);
    }
}

/* a, a_scale, a_zp = quant_rows(LN(x)), in two passes (LN into s->q, then quantize) */
static void ln_then_quant(vit_opt_state *s, const float *w, const float *b)
{
    unf_job j = {s, s->q, s->x, w, b, s->D};
    vit_pool_run(s->pool, s->T, 8, unf_ln, &j);
    quantize_rows(s, s->q, s->D, s->D, s->T, NULL, NULL);
}

static void add_into_x(vit_opt_state *s, const float *y)
{
    unf_job j = {s, s->x, y, NULL, NULL, 0};
    vit_pool_run(s->pool, (int64_t)s->T * s->D, 4096, unf_add, &j);
}

/* VIT_PROFILE_WALL: wall clock; VIT_PROFILE_CPU: this thread's CPU time */
static double prof_now(const vit_opt_state *s)
{
    if (s->prof == VIT_PROFILE_CPU) {
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
    }
    return vit_now_ms();
}

#define TIC(s) double t0_ = (s)->prof ? prof_now(s) : 0
#define TOC(s, field)                                                                          \
    do {                                                                                       \
        if ((s)->prof) {                                                                       \
            double t1_ = prof_now(s);                                                          \
            (s)->field += t1_ - t0_;                                                           \
            t0_ = t1_;                                                                         \
        }                                                                                      \
    } while (0)

/* ---------------------------------------------------------------------------------------------
 * The forward pass */

void vit_forward_opt(const vit_model *m, const vit_opt_weights *w, vit_opt_state *s,
                     const float *input, float *logits)
{
    const vit_model_info *i = &m->info;
    const int32_t T = s->T, D = s->D, H = s->H, NP = s->NP, prefix = s->prefix;
    s->runs++;
    /* workers spin between the ~110 steps of one pass instead of sleeping (a GEMM chunk can
     * leave one idle for longer than the pool's normal spin) */
    vit_pool_hold(s->pool, 1);
    TIC(s);

    // patch embedding: x[prefix:] = quant_rows(im2col(input)) @ Wpatch^T + b + pos_embed
    vit_im2col_patches(input, i->in_chans, i->img_size, i->patch_size, s->patches);
    for (int32_t t = 0; t < prefix; t++) {
        const float *tok = t == 0 ? m->w.cls_token : m->w.dist_token;
        for (int32_t c = 0; c < D; c++)
            s->x[(size_t)t * D + c] = tok[c] + m->w.pos_embed[(size_t)t * D + c];
    }
    memcpy(s->x + (size_t)prefix * D, m->w.pos_embed + (size_t)prefix * D,
           (size_t)NP * D * sizeof(float));
    TOC(s, t_other);
    const float *patch_f32 = w->patch_f32;
    if (!patch_f32 && (s->unfuse & VIT_UNFUSE_PATCH))
        patch_f32 = m->w.patch_w;
    if (patch_f32) {
        // small patches (or unfused): x[prefix:] += patches @ Wpatch^T + b in fp32
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, NP, D, s->cpp, 1.0f, s->patches,
                    s->cpp, patch_f32, s->cpp, 0.0f, s->ctx, D);
        for (int32_t p = 0; p < NP; p++)
            for (int32_t c = 0; c < D; c++)
                s->x[(size_t)(prefix + p) * D + c] += s->ctx[(size_t)p * D + c] + m->w.patch_b[c];
        TOC(s, t_gemm);
    } else {
        quantize_rows(s, s->patches, s->cpp, s->cpp, NP, NULL, NULL);
        TOC(s, t_ln);
        vit_oepilogue ep = epilogue(s, w->patch, VIT_OEP_ADD, s->x + (size_t)prefix * D, D);
        gemm(s, w->patch, NP, &ep);
        TOC(s, t_gemm);
    }

    const int64_t att_blocks = (T + VIT_OPT_ATT_ROWS - 1) / VIT_OPT_ATT_ROWS;
    const int32_t uf = s->unfuse;
    vit_oepilogue ep;
    for (int32_t l = 0; l < i->depth; l++) {
        const vit_block_weights *b = &m->w.blocks[l];
        const vit_qlinear *ql = &w->layers[4 * l];
        // a = quant_rows(LN1(x)); q, k^T, v = a @ Wqkv^T + b
        if (uf & VIT_UNFUSE_LN)
            ln_then_quant(s, b->norm1_w, b->norm1_b);
        else
            quantize_rows(s, s->x, D, D, T, b->norm1_w, b->norm1_b);
        TOC(s, t_ln);
        ep = epilogue(s, &ql[0], VIT_OEP_QKV, NULL, 0);
        ep.w_scale = w->qkv_scale + (size_t)l * 3 * D;
        ep.bias = w->qkv_bias + (size_t)l * 3 * D;
        ep.q = s->q;
        ep.kt = s->kt;
        ep.v = s->v;
        ep.dim = D;
        ep.hd = s->hd;
        ep.tpad = s->tpad;
        ep.bf16 = s->bf16;
        ep.rows = T;
        ep.q16 = s->q16;
        ep.k16 = s->k16;
        ep.v16 = s->v16;
        gemm(s, &ql[0], T, &ep);
        TOC(s, t_gemm);
        // ctx = softmax(q k^T) v per head
        if (uf & VIT_UNFUSE_ATTENTION) {
            unf_job uj = {s, NULL, NULL, NULL, NULL, 0};
            vit_pool_run(s->pool, s->heads, 1, unf_att, &uj);
        } else {
            att_job aj = {s, att_blocks};
            par(s, s->heads * att_blocks, 1, att_chunk, &aj);
        }
        TOC(s, t_att);
        // x += quant_rows(ctx) @ Wproj^T + b
        quantize_rows(s, s->ctx, D, D, T, NULL, NULL);
        TOC(s, t_ln);
        if (uf & VIT_UNFUSE_ADD) {
            ep = epilogue(s, &ql[1], VIT_OEP_STORE, s->q, D);
            gemm(s, &ql[1], T, &ep);
            add_into_x(s, s->q);
        } else {
            ep = epilogue(s, &ql[1], VIT_OEP_ADD, s->x, D);
            gemm(s, &ql[1], T, &ep);
        }
        TOC(s, t_gemm);
        // hid = gelu(quant_rows(LN2(x)) @ Wfc1^T + b)
        if (uf & VIT_UNFUSE_LN)
            ln_then_quant(s, b->norm2_w, b->norm2_b);
        else
            quantize_rows(s, s->x, D, D, T, b->norm2_w, b->norm2_b);
        TOC(s, t_ln);
        if (uf & VIT_UNFUSE_GELU) {
            ep = epilogue(s, &ql[2], VIT_OEP_STORE, s->hid, H);
            gemm(s, &ql[2], T, &ep);
            unf_job gj = {s, s->hid, NULL, NULL, NULL, 0};
            vit_pool_run(s->pool, (int64_t)T * H, 4096, unf_gelu, &gj);
        } else {
            ep = epilogue(s, &ql[2], VIT_OEP_GELU, s->hid, H);
            ep.row_mm = s->hid_mm; /* each row's min/max per panel, for the quantization */
            ep.mm_ld = (H + VIT_OPT_PW - 1) / VIT_OPT_PW;
            gemm(s, &ql[2], T, &ep);
        }
        TOC(s, t_gemm);
        // x += quant_rows(hid) @ Wfc2^T + b
        if (uf & VIT_UNFUSE_GELU)
            quantize_rows(s, s->hid, H, H, T, NULL, NULL);
        else
            quantize_rows_mm(s, s->hid, H, T);
        TOC(s, t_ln);
        if (uf & VIT_UNFUSE_ADD) {
            ep = epilogue(s, &ql[3], VIT_OEP_STORE, s->q, D);
            gemm(s, &ql[3], T, &ep);
            add_into_x(s, s->q);
        } else {
            ep = epilogue(s, &ql[3], VIT_OEP_ADD, s->x, D);
            gemm(s, &ql[3], T, &ep);
        }
        TOC(s, t_gemm);
    }

    // the class token(s): final norm, then head (and head_dist, averaged)
    s->ops->ln_quant(s->x, D, 0, prefix, m->w.norm_w, m->w.norm_b, s->ops->qmax, s->a, s->lda,
                     s->a_scale, s->a_zp, row_buf(s, 0));
    const vit_qlinear *head = &w->layers[4 * i->depth];
    ep = epilogue(s, head, VIT_OEP_STORE, logits, 0);
    s->ops->gemm(0, 1, s->a, s->lda, head, 0, head->n, &ep, tile_buf(s, 0));
    if (i->distilled) {
        const vit_qlinear *hd = &w->layers[4 * i->depth + 1];
        ep = epilogue(s, hd, VIT_OEP_STORE, s->logits2, 0); /* row 1, ldy 0: logits2 */
        s->ops->gemm(1, 2, s->a, s->lda, hd, 0, hd->n, &ep, tile_buf(s, 0));
        for (int32_t c = 0; c < s->K; c++)
            logits[c] = 0.5f * (logits[c] + s->logits2[c]);
    }
    vit_pool_hold(s->pool, 0);
    TOC(s, t_other);
}

/* ---------------------------------------------------------------------------------------------
 * The optimized backend */

typedef struct {
    vit_opt_state run;
    const vit_opt_weights *w; /* own_w, or a lite file's */
    vit_opt_weights own_w;    /* made for this session: borrows q's layers */
    vit_quant_model *own_q;   /* the int8 layers, when the model has none prepared */
} opt_backend;

/* The weights (a lite file's, or the model's int8 layers plus the patch Linear) and the plan. A
 * lite file packed for a kernel other than the session's is repacked from its int8 weights
 * (vit_lite_weights_repack). */
static vit_status opt_init(vit_session *s, vit_error *err)
{
    const vit_model *m = s->model;
    opt_backend *b = calloc(1, sizeof *b);
    if (!b)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for a session");
    s->state = b;
    vit_status st = VIT_OK;
    const vit_opt_weights *lw = vit_lite_weights(m);
    b->w = &b->own_w;
    if (lw && lw->kernel == s->kernel) {
        b->w = lw;
    } else if (lw) {
        st = vit_lite_weights_repack(m, s->kernel, &b->own_w, err);
    } else {
        const vit_quant_model *q = NULL;
        st = vit_model_quant_for(m, s->opts.per_channel, s->kernel, &q, &b->own_q, err);
        if (st == VIT_OK)
            st = vit_opt_weights_from_model(m, q, &b->own_w, err);
    }
    if (st == VIT_OK)
        st = vit_opt_state_new(m, vit_opt_ops_for(b->w->kernel), s->threads, &s->opts, &b->run,
                               err);
    return st;
}

static vit_status opt_forward(vit_session *s, const float *in, float *logits, vit_error *err)
{
    opt_backend *b = s->state;
    /* our pool does everything (OpenBLAS only in the unfused attention measurement, one
     * thread per head) */
    openblas_set_num_threads(1);
    vit_forward_opt(s->model, b->w, &b->run, in, logits);
    return VIT_OK;
}

static void opt_free(vit_session *s)
{
    opt_backend *b = s->state;
    if (!b)
        return;
    vit_opt_state_free(&b->run);
    vit_opt_weights_free(&b->own_w); /* before own_q, whose layers it borrows */
    vit_quant_model_free(b->own_q);
    free(b);
}

static const char *opt_kernel(const vit_session *s)
{
    const opt_backend *b = s->state;
    return b->run.ops->name;
}

const vit_backend vit_backend_opt = {"optimized", opt_init, opt_forward, opt_free, opt_kernel};
