/* vit-opt-steps.h — the optimized forward's run state and its steps: what vit-forward-opt.c
 * (plan, forward), vit-opt-steps.c (the fused steps and the parallel helpers under them),
 * vit-forward-opt-unfused.c (the unfused steps) and vit-opt-profile.c (the timed steps) share.
 * Internal to libvit.
 *
 * The forward calls a table of steps, one call per op, chosen once per session: the fused
 * steps; some replaced by their unfused versions (vit_session_opts.unfuse, a developer's
 * measurement); and with vit_session_opts.profile each wrapped in a timer. The forward itself
 * never asks which: with every fusion on and no profile it runs the fused steps and nothing
 * else. */
#ifndef VIT_OPT_STEPS_H
#define VIT_OPT_STEPS_H

#include "vit-opt.h"

typedef struct vit_opt_state vit_opt_state;

/* ---------------------------------------------------------------------------------------------
 * The steps */

typedef struct {
    /* x[prefix:] += patches @ Wpatch^T + b (int8 after quant_rows(patches); fp32 for small
     * patches, or unfused) */
    void (*patch)(vit_opt_state *s, const vit_model *m, const vit_opt_weights *w);
    /* a = quant_rows(LN(x)), LayerNorm weight g, bias b */
    void (*ln_quant)(vit_opt_state *s, const float *g, const float *b);
    /* q, k^T, v = dequant(a @ Wqkv^T) + b of block l, q scaled by hd^-0.5 */
    void (*qkv)(vit_opt_state *s, const vit_opt_weights *w, int32_t l);
    /* ctx = softmax(q k^T) v, per head, of block l (the rollout step also keeps its head mean) */
    void (*attention)(vit_opt_state *s, int32_t l);
    /* a = quant_rows(ctx) */
    void (*quant_ctx)(vit_opt_state *s);
    /* x += dequant(a @ W^T) + b */
    void (*linear_add)(vit_opt_state *s, const vit_qlinear *ql);
    /* hid = gelu(dequant(a @ W^T) + b) */
    void (*linear_gelu)(vit_opt_state *s, const vit_qlinear *ql);
    /* a = quant_rows(hid) */
    void (*quant_hid)(vit_opt_state *s);
    /* logits = head(LN(x[0])) (vit_opt_head) */
    void (*head)(vit_opt_state *s, const vit_model *m, const vit_opt_weights *w, float *logits);
    /* what the plan sizes for them: query rows of attention scores per thread (0: all T), and
     * whether the attention step reads bf16 q16, k16, v16 when the CPU has them */
    int32_t att_rows;
    int32_t bf16;
    /* the rollout step: a thread's accumulator for the head mean of its run of query rows */
    int32_t roll_acc;
} vit_opt_steps;

/* The fused steps for these weights (the patch embedding in fp32 when w has patch_f32). */
vit_opt_steps vit_opt_steps_fused(const vit_opt_weights *w);
/* With the attention rollout on (s->roll): the attention step that also adds each block's
 * probabilities, / heads, into roll (the fused tiles, one thread per block of query rows). */
void vit_opt_steps_rollout(vit_opt_steps *st);
/* Replace the steps of the fusions in `bits` (VIT_UNFUSE_*) by their unfused versions
 * (vit-forward-opt-unfused.c). */
void vit_opt_steps_unfuse(vit_opt_steps *st, uint32_t bits);
/* The fp32 patch embedding (fused steps for small patches; VIT_UNFUSE_PATCH). */
void vit_opt_patch_f32(vit_opt_state *s, const vit_model *m, const vit_opt_weights *w);
/* logits = head(quant_rows(LN(x[0]))); distilled: the mean with head_dist(quant_rows(LN(x[1]))),
 * on the calling thread. */
void vit_opt_head(vit_opt_state *s, const vit_model *m, const vit_opt_weights *w, float *logits);

/* ---------------------------------------------------------------------------------------------
 * Profile (vit-opt-profile.c): the same steps, each timed */

struct vit_opt_profile;
/* Replace s->steps by wrappers around them marking the session's profile prof (w: the weights
 * the steps run, which tell proj from fc2); s->prof is theirs. */
vit_status vit_opt_profile_new(vit_opt_state *s, vit_prof *prof, const vit_opt_weights *w,
                               vit_error *err);
/* NULL: nothing */
void vit_opt_profile_free(struct vit_opt_profile *p);

/* Blocks of VIT_OPT_ATT_ROWS query rows the rollout step's accumulator holds: the longest run
 * a thread takes head by head (a chunk of deit's 33 blocks on 2 threads is at most 5) */
#define VIT_OPT_ROLL_BLOCKS 8

/* ---------------------------------------------------------------------------------------------
 * Plan and run state: one arena, sized and carved at session creation. */

struct vit_opt_state {
    const vit_opt_ops *ops;
    vit_opt_steps steps; /* what the forward calls */
    struct vit_pool *pool;
    int32_t threads;
    int32_t T, D, H, heads, hd, tpad, NP, cpp, K, prefix, depth;
    float eps;          /* LayerNorm epsilon, the model's ln_eps */
    int32_t lda;        /* row stride of a: max(D, H, cpp) rounded up to 64 */
    void *arena;        /* everything below points into it */
    size_t arena_bytes;
    float *x;           /* (T, D)   residual stream */
    uint8_t *a;         /* (T, lda) the quantized input of the next GEMM */
    float *a_scale;     /* (T)      its per-row scales */
    int32_t *a_zp;      /* (T)      and zero points */
    int32_t bf16;       /* attention in bf16 (q16, k16, v16) instead of fp32 (q, kt, v) */
    uint16_t *q16, *k16, *v16; /* bf16 layouts of vit_oepilogue */
    float *q;           /* (T, D)   queries, scaled by hd^-0.5 (unfused: also scratch) */
    float *kt;          /* (heads, hd, tpad) keys, transposed per head */
    float *v;           /* (T, D)   values */
    float *ctx;         /* (T, D)   attention output */
    float *hid;         /* (T, H)   GELU(fc1) */
    float *patches;     /* (NP, cpp) im2col of the input */
    float *hid_mm;      /* (T, H / 64, 2) per-panel min and max of hid, from fc1's epilogue */
    float *logits2;     /* (K)      head_dist output */
    uint8_t *scratch;   /* (threads, scratch_stride) per-thread: attention scores, LN row, tile */
    size_t scratch_stride;
    int32_t att_rows;   /* query rows of attention scores in it: VIT_OPT_ATT_ROWS, or T */
    int32_t roll_rows;  /* rows of T floats of the rollout's accumulator in it (0: none) */
    struct vit_opt_profile *prof; /* vit_session_opts.profile: the timed steps; or NULL */
    uint16_t *roll;     /* (depth, T, T) bf16, the session's rollout buffer (opts.rollout), or NULL */
    float *roll_row;    /* (2, T) the session's: the rollout row and the next */
    int32_t roll_pending; /* the head means are all in roll: the next fc1 makes the row */
    const float *roll_r;  /* the row, once made (in roll_row), else NULL */
};

/* ---------------------------------------------------------------------------------------------
 * Parallel helpers (vit-opt-steps.c), for the steps */

static inline size_t vit_opt_round64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

/* A thread's scratch: attention scores (att_rows x tpad fp32, + bf16 probabilities), then a
 * LayerNorm row, the rollout's accumulator (roll_rows x T, or nothing), a GEMM tile. */
static inline float *vit_opt_scores_buf(const vit_opt_state *s, int32_t thread)
{
    return (float *)(s->scratch + (size_t)thread * s->scratch_stride);
}

static inline float *vit_opt_row_buf(const vit_opt_state *s, int32_t thread)
{
    return (float *)(s->scratch + (size_t)thread * s->scratch_stride +
                     vit_opt_round64((size_t)s->att_rows * (size_t)s->tpad * (sizeof(float) + 2)));
}

static inline void *vit_opt_tile_buf(const vit_opt_state *s, int32_t thread)
{
    return s->scratch + (size_t)thread * s->scratch_stride + s->scratch_stride -
           vit_opt_round64(VIT_OPT_GEMM_SCRATCH);
}

/* The rollout's accumulator (roll_rows x T), between the LayerNorm row and the tile */
static inline float *vit_opt_roll_buf(const vit_opt_state *s, int32_t thread)
{
    return (float *)((uint8_t *)vit_opt_tile_buf(s, thread) -
                     vit_opt_round64((size_t)s->roll_rows * (size_t)s->T * sizeof(float)));
}

/* The epilogue reading a's row parameters and ql's: y (ldy) for STORE, ADD and GELU. */
static inline vit_oepilogue vit_opt_epilogue_for(const vit_opt_state *s, const vit_qlinear *ql,
                                                 vit_oep_mode mode, float *y, int32_t ldy)
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

/* a, a_scale, a_zp (rows [0, rows)) = quant_rows(LN(x)) with LayerNorm w, b, or quant_rows(x)
 * with w NULL; split over the pool */
void vit_opt_quantize_rows(vit_opt_state *s, const float *x, int32_t ldx, int32_t dim,
                           int32_t rows, const float *w, const float *b);
/* rows [0, m) of a @ ql^T through the epilogue, split over the pool in (panel, row block) tiles */
void vit_opt_gemm_split(vit_opt_state *s, const vit_qlinear *ql, int32_t m,
                        const vit_oepilogue *ep);

#endif /* VIT_OPT_STEPS_H */
