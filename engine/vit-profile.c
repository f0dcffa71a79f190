/* vit-profile.c — a session's profile (vit_session_opts.profile): the time per op class of each
 * run (vit-impl.h, vit_prof), read by vit_session_profile. The variants mark the end of each op
 * (fp32, int8: a second instance of their forward with the marks; optimized: wrappers around its
 * steps, vit-opt-profile.c), each chosen at session creation. */
#include "vit-impl.h"

#include <time.h>

static const char *const op_names[VIT_OP_COUNT] = {
    "patch", "layernorm", "qkv", "attention", "proj", "fc1", "fc2", "head", "other",
};

const char *vit_op_name(vit_op op)
{
    return op >= 0 && op < VIT_OP_COUNT ? op_names[op] : NULL;
}

/* VIT_PROFILE_WALL: wall clock; VIT_PROFILE_CPU: this thread's CPU time */
double vit_prof_now(const vit_prof *p)
{
    if (p->clock == VIT_PROFILE_CPU) {
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
    }
    return vit_now_ms();
}

void vit_prof_begin(vit_prof *p)
{
    for (int k = 0; k < VIT_OP_COUNT; k++)
        p->cur[k] = 0.0;
    p->t0 = p->mark = vit_prof_now(p);
}

void vit_prof_end(vit_prof *p)
{
    vit_prof_mark(p, VIT_OP_OTHER);
    vit_profile_stats *st = &p->stats;
    st->runs++;
    st->forward_ms = p->mark - p->t0;
    st->total_forward_ms += st->forward_ms;
    for (int k = 0; k < VIT_OP_COUNT; k++) {
        st->ms[k] = p->cur[k];
        st->total_ms[k] += p->cur[k];
    }
}

void vit_prof_count_ops(vit_prof *p, const vit_model_info *i)
{
    double T = i->num_tokens, D = i->embed_dim, H = i->mlp_hidden, L = i->depth;
    double cpp = (double)i->in_chans * i->patch_size * i->patch_size;
    double *ops = p->stats.ops;
    ops[VIT_OP_PATCH] = 2.0 * i->num_patches * D * cpp;
    ops[VIT_OP_QKV] = L * 2.0 * T * 3.0 * D * D;
    ops[VIT_OP_ATTENTION] = L * 2.0 * (2.0 * T * T * D); /* q k^T and p v, over the heads */
    ops[VIT_OP_PROJ] = L * 2.0 * T * D * D;
    ops[VIT_OP_FC1] = L * 2.0 * T * H * D;
    ops[VIT_OP_FC2] = L * 2.0 * T * D * H;
    ops[VIT_OP_HEAD] = 2.0 * (1 + i->distilled) * i->num_classes * D;
}
