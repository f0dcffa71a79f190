/* vit-opt-profile.c — the optimized variant's profile (vit_session_opts.profile): wrappers that
 * mark each step of the table the forward calls (vit-opt-steps.h) with its op class (vit-impl.h,
 * vit_prof), put in its place at session creation only when the profile is on, so that without
 * it the forward runs the steps themselves and reads no clock. What runs between the steps (the
 * im2col, the class and position tokens) goes to "other". */
#include "vit-opt-steps.h"

#include <stdlib.h>

struct vit_opt_profile {
    vit_opt_steps inner;       /* the steps timed */
    vit_prof *prof;            /* the session's */
    const vit_qlinear *layers; /* the weights' layers: which Linear linear_add runs */
};

/* Each wrapper: the time since the last mark to "other", the inner step's to its class. */
#define TIMED(op, call)                                                                        \
    do {                                                                                       \
        struct vit_opt_profile *p = s->prof;                                                   \
        vit_prof_mark(p->prof, VIT_OP_OTHER);                                                  \
        p->inner.call;                                                                         \
        vit_prof_mark(p->prof, op);                                                            \
    } while (0)

static void patch(vit_opt_state *s, const vit_model *m, const vit_opt_weights *w)
{
    TIMED(VIT_OP_PATCH, patch(s, m, w));
}

static void ln_quant(vit_opt_state *s, const float *g, const float *b)
{
    TIMED(VIT_OP_LAYERNORM, ln_quant(s, g, b));
}

static void qkv(vit_opt_state *s, const vit_opt_weights *w, int32_t l)
{
    TIMED(VIT_OP_QKV, qkv(s, w, l));
}

static void attention(vit_opt_state *s, int32_t l)
{
    TIMED(VIT_OP_ATTENTION, attention(s, l));
}

static void quant_ctx(vit_opt_state *s)
{
    TIMED(VIT_OP_LAYERNORM, quant_ctx(s));
}

/* proj (layer 4l + 1) or fc2 (4l + 3) */
static void linear_add(vit_opt_state *s, const vit_qlinear *ql)
{
    TIMED((ql - s->prof->layers) % 4 == 1 ? VIT_OP_PROJ : VIT_OP_FC2, linear_add(s, ql));
}

static void linear_gelu(vit_opt_state *s, const vit_qlinear *ql)
{
    TIMED(VIT_OP_FC1, linear_gelu(s, ql));
}

static void quant_hid(vit_opt_state *s)
{
    TIMED(VIT_OP_LAYERNORM, quant_hid(s));
}

static void head(vit_opt_state *s, const vit_model *m, const vit_opt_weights *w, float *logits)
{
    TIMED(VIT_OP_HEAD, head(s, m, w, logits));
}

vit_status vit_opt_profile_new(vit_opt_state *s, vit_prof *prof, const vit_opt_weights *w,
                               vit_error *err)
{
    struct vit_opt_profile *p = calloc(1, sizeof *p);
    if (!p)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for the optimized variant's profile");
    p->inner = s->steps;
    p->prof = prof;
    p->layers = w->layers;
    s->steps.patch = patch;
    s->steps.ln_quant = ln_quant;
    s->steps.qkv = qkv;
    s->steps.attention = attention;
    s->steps.quant_ctx = quant_ctx;
    s->steps.linear_add = linear_add;
    s->steps.linear_gelu = linear_gelu;
    s->steps.quant_hid = quant_hid;
    s->steps.head = head;
    s->prof = p;
    return VIT_OK;
}

void vit_opt_profile_free(struct vit_opt_profile *p)
{
    free(p);
}
