/* vit-forward-opt.c — the optimized variant: the int8 model (every Linear u8 x s8 -> s32 with the
 * int8 variant's weights) with per-token activation quantization fused into the ops that
 * produce the activations, fused GEMM epilogues, an L1-resident attention (bf16 products where
 * the CPU has them, else fp32), and one arena made at session creation. See vit-opt.h for the
 * semantics and the kernels, vit-opt-steps.c for the steps the forward calls (one line of math
 * each, split over the session's pool; the unfused ones in vit-forward-opt-unfused.c, the timed
 * ones in vit-opt-profile.c, chosen once per session). */
#include "vit-backend.h"
#include "vit-cpu.h"
#include "vit-int8.h"
#include "vit-opt-steps.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Plan: the steps, one arena carved once */

static void opt_state_free(vit_opt_state *s)
{
    vit_opt_profile_free(s->prof);
    vit_pool_free(s->pool);
    vit_free(s->arena);
    memset(s, 0, sizeof *s);
}

static vit_status opt_state_new(const vit_model *m, const vit_opt_ops *ops, int32_t threads,
                                const vit_opt_steps *steps, const vit_session_opts *opts,
                                vit_opt_state *s, vit_error *err)
{
    memset(s, 0, sizeof *s);
    const vit_model_info *i = &m->info;
    s->ops = ops;
    s->steps = *steps;
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
    s->depth = i->depth;
    s->eps = i->ln_eps;
    int32_t kmax = s->D > s->H ? s->D : s->H;
    kmax = kmax > s->cpp ? kmax : s->cpp;
    s->lda = (int32_t)vit_opt_round64((size_t)kmax);

    vit_status st = vit_pool_new(threads, &s->pool, err);
    if (st != VIT_OK)
        return st;
    s->threads = vit_pool_threads(s->pool);

    /* bf16 attention: AVX-512 BF16 on this CPU, head sizes it handles, an attention step that
     * reads it (not the unfused one), not turned off by VIT_ATTENTION_FP32 */
    s->bf16 = ops->attention_bf16 && s->D % 16 == 0 && s->hd % 16 == 0 && steps->bf16 &&
              opts->attention != VIT_ATTENTION_FP32;
    s->bf16 = s->bf16 && (vit_cpu_features() & VIT_CPU_AVX512_BF16);
    const size_t T = (size_t)s->T, D = (size_t)s->D, H = (size_t)s->H, F = sizeof(float);
    /* per thread: attention scores (6 x tpad, + bf16 probabilities; or T x tpad unfused), a
     * LayerNorm row (kmax), the rollout's accumulator, a GEMM int32 tile */
    s->att_rows = steps->att_rows ? steps->att_rows : s->T;
    s->roll_rows = steps->roll_acc ? VIT_OPT_ROLL_BLOCKS * VIT_OPT_ATT_ROWS : 0;
    s->scratch_stride = vit_opt_round64((size_t)s->att_rows * (size_t)s->tpad * (F + 2)) +
                        vit_opt_round64((size_t)kmax * F) +
                        vit_opt_round64((size_t)s->roll_rows * T * F) +
                        vit_opt_round64(VIT_OPT_GEMM_SCRATCH);
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
        total += vit_opt_round64(parts[k].bytes);
    s->arena = vit_alloc(total);
    if (!s->arena) {
        opt_state_free(s);
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for the optimized run state (%zu bytes)",
                        total);
    }
    /* zeroed once: the k^T padding columns (keys T .. tpad) are read as zeros by the scores */
    memset(s->arena, 0, total);
    s->arena_bytes = total;
    uint8_t *p = s->arena;
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
        *parts[k].p = p;
        p += vit_opt_round64(parts[k].bytes);
    }
    return VIT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The forward pass */

/* x[:prefix] = [cls, (dist)] + pos_embed[:prefix], x[prefix:] = pos_embed[prefix:] */
static void embed_positions(const vit_model *m, vit_opt_state *s)
{
    const int32_t D = s->D;
    for (int32_t t = 0; t < s->prefix; t++) {
        const float *tok = t == 0 ? m->w.cls_token : m->w.dist_token;
        for (int32_t c = 0; c < D; c++)
            s->x[(size_t)t * D + c] = tok[c] + m->w.pos_embed[(size_t)t * D + c];
    }
    memcpy(s->x + (size_t)s->prefix * D, m->w.pos_embed + (size_t)s->prefix * D,
           (size_t)s->NP * D * sizeof(float));
}

static void opt_forward_pass(const vit_model *m, const vit_opt_weights *w, vit_opt_state *s,
                             const float *input, float *logits)
{
    const vit_model_info *i = &m->info;
    const vit_opt_steps *step = &s->steps;
    /* workers spin between the ~110 steps of one pass instead of sleeping (a GEMM chunk can
     * leave one idle for longer than the pool's normal spin) */
    vit_pool_hold(s->pool, 1);

    // patches (NP, C*P*P) = im2col(input): the P×P stride-P conv becomes patches @ Wpatch^T
    vit_im2col_patches(input, i->in_chans, i->img_size, i->patch_size, s->patches);
    // x (T, D) = [cls, (dist,) 0 ...] + pos_embed
    embed_positions(m, s);
    // x[prefix:] += patches (NP, C*P*P) @ Wpatch^T + b
    step->patch(s, m, w);

    for (int32_t l = 0; l < i->depth; l++) {
        const vit_block_weights *b = &m->w.blocks[l];
        const vit_qlinear *ql = &w->layers[4 * l]; /* qkv, proj, fc1, fc2 */
        // a (T, D) u8 = quant_rows(LN1(x))
        step->ln_quant(s, b->norm1_w, b->norm1_b);
        // q (T, D), k^T (heads, hd, T), v (T, D) = dequant(a @ Wqkv^T) + b
        step->qkv(s, w, l);
        // ctx (T, D) = softmax(q k^T) v, per head (rollout on: roll[l] = its head mean too)
        step->attention(s, l);
        // a = quant_rows(ctx)
        step->quant_ctx(s);
        // x += dequant(a @ Wproj^T) + b
        step->linear_add(s, &ql[1]);
        // a = quant_rows(LN2(x))
        step->ln_quant(s, b->norm2_w, b->norm2_b);
        // hid (T, H) = gelu(dequant(a @ Wfc1^T) + b)
        step->linear_gelu(s, &ql[2]);
        // a (T, H) u8 = quant_rows(hid)
        step->quant_hid(s);
        // x += dequant(a @ Wfc2^T) + b
        step->linear_add(s, &ql[3]);
    }

    // logits (K) = head(LN(x[0])); distilled: (head(LN(x[0])) + head_dist(LN(x[1]))) / 2
    step->head(s, m, w, logits);
    vit_pool_hold(s->pool, 0);
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
    if (st != VIT_OK)
        return st;
    /* the steps, chosen once: fused, with the fusions in opts.unfuse undone */
    vit_opt_steps steps = vit_opt_steps_fused(b->w);
    uint32_t unfuse = s->opts.unfuse & VIT_UNFUSE_ALL;
    if (unfuse)
        vit_log(VIT_LOG_INFO, "optimized: fusions off: 0x%x", (unsigned)unfuse);
    vit_opt_steps_unfuse(&steps, unfuse);
    if (s->roll_att) /* vit_session_new refused it with the unfused attention */
        vit_opt_steps_rollout(&steps);
    st = opt_state_new(m, vit_opt_ops_for(b->w->kernel), s->threads, &steps, &s->opts, &b->run,
                       err);
    b->run.roll = s->roll_att;
    b->run.roll_row = s->roll_row;
    /* the profile: every step above wrapped in one that marks its op class */
    if (st == VIT_OK && s->prof)
        st = vit_opt_profile_new(&b->run, s->prof, b->w, err);
    return st;
}

static vit_status opt_forward(vit_session *s, const float *in, float *logits, vit_error *err)
{
    opt_backend *b = s->state;
    /* our pool does everything (OpenBLAS only in the unfused attention measurement, one
     * thread per head) */
    openblas_set_num_threads(1);
    b->run.roll_r = NULL;
    opt_forward_pass(s->model, b->w, &b->run, in, logits);
    s->roll_r = b->run.roll_r; /* NULL (steps that do not make it): the session does */
    return VIT_OK;
}

static void opt_free(vit_session *s)
{
    opt_backend *b = s->state;
    if (!b)
        return;
    opt_state_free(&b->run);
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
