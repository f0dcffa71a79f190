/* vit-opt-steps.c — the optimized variant's steps: the table of its kernels per instruction set,
 * the helpers that split a kernel over the session's pool, and the fused steps the forward
 * (vit-forward-opt.c) calls, each one line of its block:
 *     a  = quant_rows(LN1(x))                        ln_quant
 *     q, k^T, v = dequant(a @ Wqkv^T) + b            qkv: GEMM, QKV epilogue (q scaled by hd^-0.5)
 *     ctx = softmax(q k^T) v, per head               attention (fp32, or bf16 products)
 *     a  = quant_rows(ctx)                           quant_ctx
 *     x += dequant(a @ Wproj^T) + b                  linear_add: GEMM, ADD epilogue
 *     a  = quant_rows(LN2(x))                        ln_quant
 *     hid = gelu(dequant(a @ Wfc1^T) + b)            linear_gelu: GEMM, GELU epilogue
 *     a  = quant_rows(hid)                           quant_hid (min/max from fc1's epilogue)
 *     x += dequant(a @ Wfc2^T) + b                   linear_add: GEMM, ADD epilogue
 * Every step is split over the session's pool (GEMMs over a grid of 6-row x 64-column tiles,
 * attention over (head, 6-row block) items, the row-wise steps over rows), and every output
 * element is computed by one thread in a fixed order: results do not depend on the threads. */
#include "vit-cpu.h"
#include "vit-opt-steps.h"

#include <cblas.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Kernel table */

static const vit_opt_ops opt_ops[VIT_KERNEL_COUNT] = {
    [VIT_KERNEL_SCALAR] = {"scalar", VIT_KERNEL_SCALAR, VIT_ACT_QMAX_FULL, vit_opt_gemm_ref,
                           vit_ln_quant_ref, vit_quant_rows_ref, vit_attention_ref, vit_gelu_ref,
                           NULL, vit_quant_rows_mm_ref, vit_roll_add_ref,
                           vit_roll_gemv_ref},
#if defined(VIT_HAVE_X86_SIMD)
    /* the AVX2 GEMM (vpmaddubsw, vit-kernels-avx2.c) is exact for 7-bit inputs only:
     * activations 0..127 */
    [VIT_KERNEL_AVX2] = {"avx2", VIT_KERNEL_AVX2, VIT_ACT_QMAX_TORCH, vit_opt_gemm_avx2,
                         vit_ln_quant_avx2, vit_quant_rows_avx2, vit_attention_avx2,
                         vit_gelu_avx2, NULL, vit_quant_rows_mm_avx2, vit_roll_add_avx2,
                         vit_roll_gemv_avx2},
    [VIT_KERNEL_AVX512_VNNI] = {"avx512-vnni", VIT_KERNEL_AVX512_VNNI, VIT_ACT_QMAX_FULL,
                                vit_opt_gemm_avx512, vit_ln_quant_avx512, vit_quant_rows_avx512,
                                vit_attention_avx512, vit_gelu_avx512,
                                vit_attention_bf16_avx512, vit_quant_rows_mm_avx512,
                                vit_roll_add_avx512, vit_roll_gemv_avx512},
#endif
};

#if defined(VIT_HAVE_X86_SIMD)
/* The AVX2 entry on CPUs with AVX-VNNI: the same packing and ops, the GEMM by vpdpbusd on ymm,
 * which is exact for any u8: activations use the whole 0..255, as on AVX-512 (one more bit of
 * input precision than the vpmaddubsw path can take). */
static const vit_opt_ops opt_ops_avx_vnni = {
    "avx-vnni", VIT_KERNEL_AVX2, VIT_ACT_QMAX_FULL, vit_opt_gemm_avx_vnni,
    vit_ln_quant_avx2, vit_quant_rows_avx2, vit_attention_avx2,
    vit_gelu_avx2, NULL, vit_quant_rows_mm_avx2, vit_roll_add_avx2,
    vit_roll_gemv_avx2};
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
 * Parallel helpers */

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
        s->ops->ln_quant(j->x, j->dim, (int32_t)begin, (int32_t)end, j->w, j->b, s->eps,
                         s->ops->qmax, s->a, s->lda, s->a_scale, s->a_zp,
                         vit_opt_row_buf(s, thread));
    else if (j->mm)
        s->ops->quant_rows_mm(j->x, j->ldx, j->dim, (int32_t)begin, (int32_t)end, s->ops->qmax,
                              s->a, s->lda, s->a_scale, s->a_zp, j->mm, j->panels);
    else
        s->ops->quant_rows(j->x, j->ldx, j->dim, (int32_t)begin, (int32_t)end, s->ops->qmax, s->a,
                           s->lda, s->a_scale, s->a_zp);
}

void vit_opt_quantize_rows(vit_opt_state *s, const float *x, int32_t ldx, int32_t dim,
                           int32_t rows, const float *w, const float *b)
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
    vit_opt_state *s;
    const vit_qlinear *ql;
    vit_oepilogue ep;
    int32_t m;
    int64_t row_blocks;
    int64_t first; /* items before the tiles: 1 for the rollout row (gemm_chunk), else 0 */
} gemm_job;

/* The rollout's row, r = e_cls Â_L ... Â_1, from the head means in roll */
static void rollout_row(vit_opt_state *s)
{
    s->roll_r = vit_rollout_row(s->roll, s->ops->roll_gemv, s->depth, s->T, s->prefix,
                                s->roll_row);
}

/* Items are (panel, row block) tiles numbered panel by panel, as in vit-quant.c: a chunk is a
 * run of row blocks through consecutive panels, so B streams one panel at a time. */
static void gemm_chunk(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const gemm_job *g = ctx;
    vit_opt_state *s = g->s;
    if (begin < g->first) /* item 0, the first chunk's, the first the pool hands out */
        rollout_row(s);
    begin = begin > g->first ? begin - g->first : 0;
    end -= g->first;
    const int32_t n = g->ql->n, m = g->m;
    const int64_t blocks = g->row_blocks;
    void *scratch = vit_opt_tile_buf(s, thread);
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

static void gemm_split(vit_opt_state *s, const vit_qlinear *ql, int32_t m, const vit_oepilogue *ep,
                       int64_t first)
{
    gemm_job g = {s, ql, *ep, m, (m + VIT_OPT_MR - 1) / VIT_OPT_MR, first};
    int64_t panels = (ql->n + VIT_OPT_PW - 1) / VIT_OPT_PW;
    int64_t per_item = (int64_t)(m < VIT_OPT_MR ? m : VIT_OPT_MR) * VIT_OPT_PW * ql->k;
    int64_t grain = per_item >= MACS_GRAIN ? 1 : MACS_GRAIN / per_item;
    par(s, first + panels * g.row_blocks, grain, gemm_chunk, &g);
}

void vit_opt_gemm_split(vit_opt_state *s, const vit_qlinear *ql, int32_t m,
                        const vit_oepilogue *ep)
{
    gemm_split(s, ql, m, ep, 0);
}

typedef struct {
    const vit_opt_state *s;
    int64_t blocks; /* row blocks per head */
} att_job;

static void att_chunk(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const att_job *j = ctx;
    const vit_opt_state *s = j->s;
    float *sbuf = vit_opt_scores_buf(s, thread);
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

typedef struct {
    const vit_opt_state *s;
    uint16_t *roll;    /* (T, T) this block's head mean, bf16 */
    int32_t keep_rows; /* its rows the rollout reads: T, or the last block's cls (and dist) */
} att_roll_job;

/* Rollout on: a chunk is a run of blocks of VIT_OPT_ATT_ROWS query rows, all of them through
 * every head, so that one thread owns those rows of the head mean and sums them in a fixed
 * order; head by head, so that a head's k and v serve the whole run from the near caches (block
 * by block through every head, they came from L2 once per block). After each tile the scratch
 * holds the block's exp(s - max) (the kernels' contract, vit-opt.h; bf16 with the bf16
 * attention): each row normalized by its sum, / heads, summed over the heads in the thread's
 * own accumulator, the last head's share with the sum straight into roll in bf16. roll's lines
 * are then written once per run, not once per head (their stores, missing the caches, were most
 * of what the head mean cost), and they are half as many. */
static void att_roll_run(const att_roll_job *j, int64_t begin, int64_t end, int32_t thread)
{
    const vit_opt_state *s = j->s;
    const int32_t T = s->T, tp = s->tpad;
    float *sbuf = vit_opt_scores_buf(s, thread), *acc = vit_opt_roll_buf(s, thread);
    const uint16_t *p16 = (const uint16_t *)(sbuf + (size_t)VIT_OPT_ATT_ROWS * tp);
    const int32_t r0 = (int32_t)begin * VIT_OPT_ATT_ROWS;
    const int32_t r1 = (int32_t)end * VIT_OPT_ATT_ROWS < T ? (int32_t)end * VIT_OPT_ATT_ROWS : T;
    const int32_t keep = r1 < j->keep_rows ? r1 : j->keep_rows; /* rows [r0, keep) of roll */
    for (int32_t h = 0; h < s->heads; h++)
        for (int32_t i0 = r0; i0 < r1; i0 += VIT_OPT_ATT_ROWS) {
            const int32_t i1 = i0 + VIT_OPT_ATT_ROWS < T ? i0 + VIT_OPT_ATT_ROWS : T;
            if (s->bf16)
                s->ops->attention_bf16(s->q16, s->k16, s->v16, s->ctx, T, tp, s->D, s->hd, h, i0,
                                       i1, sbuf);
            else
                s->ops->attention(s->q, s->kt, s->v, s->ctx, T, tp, s->D, s->hd, h, i0, i1, sbuf);
            if (i0 >= keep)
                continue;
            /* bf16: the kernel left each row's 1 / sum at sbuf[r]; the last head's share goes
             * with the sum into roll, rounded to bf16 */
            float *mine = acc + (size_t)(i0 - r0) * T;
            s->ops->roll_add(s->bf16 ? NULL : sbuf, p16, s->bf16 ? sbuf : NULL, i1 - i0, T, tp,
                             s->heads, h == 0 ? NULL : mine, mine,
                             h == s->heads - 1 ? j->roll + (size_t)i0 * T : NULL);
        }
}

/* blocks [begin, end) in runs the accumulator holds (VIT_OPT_ROLL_BLOCKS: a chunk on several
 * threads is usually one run; on one thread the pool runs the whole range at once) */
static void att_roll_chunk(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    for (int64_t b = begin; b < end; b += VIT_OPT_ROLL_BLOCKS)
        att_roll_run(ctx, b, end - b < VIT_OPT_ROLL_BLOCKS ? end : b + VIT_OPT_ROLL_BLOCKS,
                     thread);
}

/* ctx = softmax(q k^T) v as attention_tiles, and roll[l] (T, T) = the mean over heads of the
 * probabilities (of the last block only the rows the rollout reads: vit_rollout_row) */
static void attention_rollout(vit_opt_state *s, int32_t l)
{
    att_roll_job j = {s, s->roll + (size_t)l * s->T * s->T, l == s->depth - 1 ? s->prefix : s->T};
    par(s, (s->T + VIT_OPT_ATT_ROWS - 1) / VIT_OPT_ATT_ROWS, 1, att_roll_chunk, &j);
    s->roll_pending = l == s->depth - 1;
}

void vit_opt_steps_rollout(vit_opt_steps *st)
{
    st->attention = attention_rollout;
    st->roll_acc = 1;
}

/* ---------------------------------------------------------------------------------------------
 * The fused steps */

/* x[prefix:] += dequant(quant_rows(patches) @ Wpatch^T) + b */
static void patch_int8(vit_opt_state *s, const vit_model *m, const vit_opt_weights *w)
{
    vit_opt_quantize_rows(s, s->patches, s->cpp, s->cpp, s->NP, NULL, NULL);
    vit_oepilogue ep = vit_opt_epilogue_for(s, w->patch, VIT_OEP_ADD,
                                            s->x + (size_t)s->prefix * s->D, s->D);
    vit_opt_gemm_split(s, w->patch, s->NP, &ep);
}

/* x[prefix:] += patches @ Wpatch^T + b in fp32: ctx (NP, D) = patches (NP, cpp) @ W^T, then
 * the add with the bias */
void vit_opt_patch_f32(vit_opt_state *s, const vit_model *m, const vit_opt_weights *w)
{
    const int32_t D = s->D, NP = s->NP, prefix = s->prefix;
    const float *W = w->patch_f32 ? w->patch_f32 : m->w.patch_w;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, NP, D, s->cpp, 1.0f, s->patches, s->cpp,
                W, s->cpp, 0.0f, s->ctx, D);
    for (int32_t p = 0; p < NP; p++)
        for (int32_t c = 0; c < D; c++)
            s->x[(size_t)(prefix + p) * D + c] += s->ctx[(size_t)p * D + c] + m->w.patch_b[c];
}

static void ln_quant(vit_opt_state *s, const float *g, const float *b)
{
    vit_opt_quantize_rows(s, s->x, s->D, s->D, s->T, g, b);
}

static void qkv(vit_opt_state *s, const vit_opt_weights *w, int32_t l)
{
    const vit_qlinear *ql = &w->layers[4 * l];
    vit_oepilogue ep = vit_opt_epilogue_for(s, ql, VIT_OEP_QKV, NULL, 0);
    ep.w_scale = w->qkv_scale + (size_t)l * 3 * s->D;
    ep.bias = w->qkv_bias + (size_t)l * 3 * s->D;
    ep.q = s->q;
    ep.kt = s->kt;
    ep.v = s->v;
    ep.dim = s->D;
    ep.hd = s->hd;
    ep.tpad = s->tpad;
    ep.bf16 = s->bf16;
    ep.rows = s->T;
    ep.q16 = s->q16;
    ep.k16 = s->k16;
    ep.v16 = s->v16;
    vit_opt_gemm_split(s, ql, s->T, &ep);
}

/* per (head, block of VIT_OPT_ATT_ROWS query rows): scores, softmax and sum in L1 */
static void attention_tiles(vit_opt_state *s, int32_t l)
{
    att_job aj = {s, (s->T + VIT_OPT_ATT_ROWS - 1) / VIT_OPT_ATT_ROWS};
    par(s, s->heads * aj.blocks, 1, att_chunk, &aj);
}

static void quant_ctx(vit_opt_state *s)
{
    vit_opt_quantize_rows(s, s->ctx, s->D, s->D, s->T, NULL, NULL);
}

static void linear_add(vit_opt_state *s, const vit_qlinear *ql)
{
    vit_oepilogue ep = vit_opt_epilogue_for(s, ql, VIT_OEP_ADD, s->x, s->D);
    vit_opt_gemm_split(s, ql, s->T, &ep);
}

/* with each row's min/max per panel into hid_mm, for quant_hid */
static void linear_gelu(vit_opt_state *s, const vit_qlinear *ql)
{
    vit_oepilogue ep = vit_opt_epilogue_for(s, ql, VIT_OEP_GELU, s->hid, s->H);
    ep.row_mm = s->hid_mm;
    ep.mm_ld = (s->H + VIT_OPT_PW - 1) / VIT_OPT_PW;
    /* the last block's head means done (rollout on): the rollout's row, a chain of vector-matrix
     * products on one thread, as the first item of this GEMM, the largest of the block, while
     * the other threads take its tiles, rather than alone after the forward */
    gemm_split(s, ql, s->T, &ep, s->roll_pending);
    s->roll_pending = 0;
}

static void quant_hid_mm(vit_opt_state *s)
{
    quantize_rows_mm(s, s->hid, s->H, s->T);
}

vit_opt_steps vit_opt_steps_fused(const vit_opt_weights *w)
{
    return (vit_opt_steps){
        .patch = w->patch_f32 ? vit_opt_patch_f32 : patch_int8,
        .ln_quant = ln_quant,
        .qkv = qkv,
        .attention = attention_tiles,
        .quant_ctx = quant_ctx,
        .linear_add = linear_add,
        .linear_gelu = linear_gelu,
        .quant_hid = quant_hid_mm,
        .head = vit_opt_head,
        .att_rows = VIT_OPT_ATT_ROWS,
        .bf16 = 1,
    };
}

/* ---------------------------------------------------------------------------------------------
 * The head: the class token(s) only, on the calling thread */

void vit_opt_head(vit_opt_state *s, const vit_model *m, const vit_opt_weights *w, float *logits)
{
    const int32_t depth = m->info.depth;
    s->ops->ln_quant(s->x, s->D, 0, s->prefix, m->w.norm_w, m->w.norm_b, s->eps, s->ops->qmax,
                     s->a, s->lda, s->a_scale, s->a_zp, vit_opt_row_buf(s, 0));
    const vit_qlinear *head = &w->layers[4 * depth];
    vit_oepilogue ep = vit_opt_epilogue_for(s, head, VIT_OEP_STORE, logits, 0);
    s->ops->gemm(0, 1, s->a, s->lda, head, 0, head->n, &ep, vit_opt_tile_buf(s, 0));
    if (m->info.distilled) {
        const vit_qlinear *hd = &w->layers[4 * depth + 1];
        ep = vit_opt_epilogue_for(s, hd, VIT_OEP_STORE, s->logits2, 0); /* row 1, ldy 0 */
        s->ops->gemm(1, 2, s->a, s->lda, hd, 0, hd->n, &ep, vit_opt_tile_buf(s, 0));
        for (int32_t c = 0; c < s->K; c++)
            logits[c] = 0.5f * (logits[c] + s->logits2[c]);
    }
}
