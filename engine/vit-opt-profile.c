/* vit-opt-profile.c — the optimized variant's time per kind of step (vit_session_opts.profile):
 * wrappers that time each step of the table the forward calls (vit-opt-steps.h), put in its
 * place at session creation only when the profile is on, so that without it the forward runs
 * the steps themselves and reads no clock. "Other" is each run's time minus its steps' (the
 * im2col, the class tokens, the head). Logged at VIT_LOG_INFO when the session is freed. */
#include "vit-opt-steps.h"

#include <stdlib.h>
#include <time.h>

typedef enum { PROF_GEMM, PROF_ATT, PROF_LN, PROF_KINDS } prof_kind;

struct vit_opt_profile {
    vit_opt_steps inner; /* the steps timed */
    vit_profile clock;
    int32_t runs;
    double run_t0;
    double run_ms;          /* whole runs */
    double ms[PROF_KINDS];  /* the steps, by kind */
};

/* VIT_PROFILE_WALL: wall clock; VIT_PROFILE_CPU: this thread's CPU time */
static double now_ms(const struct vit_opt_profile *p)
{
    if (p->clock == VIT_PROFILE_CPU) {
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
    }
    return vit_now_ms();
}

/* Each wrapper: the inner step between two clock reads, added to its kind. */
#define TIMED(kind, call)                                                                      \
    do {                                                                                       \
        struct vit_opt_profile *p = s->prof;                                                   \
        double t0 = now_ms(p);                                                                 \
        p->inner.call;                                                                         \
        p->ms[kind] += now_ms(p) - t0;                                                         \
    } while (0)

static void patch(vit_opt_state *s, const vit_model *m, const vit_opt_weights *w)
{
    TIMED(PROF_GEMM, patch(s, m, w));
}

static void ln_quant(vit_opt_state *s, const float *g, const float *b)
{
    TIMED(PROF_LN, ln_quant(s, g, b));
}

static void qkv(vit_opt_state *s, const vit_opt_weights *w, int32_t l)
{
    TIMED(PROF_GEMM, qkv(s, w, l));
}

static void attention(vit_opt_state *s, int32_t l)
{
    TIMED(PROF_ATT, attention(s, l));
}

static void quant_ctx(vit_opt_state *s)
{
    TIMED(PROF_LN, quant_ctx(s));
}

static void linear_add(vit_opt_state *s, const vit_qlinear *ql)
{
    TIMED(PROF_GEMM, linear_add(s, ql));
}

static void linear_gelu(vit_opt_state *s, const vit_qlinear *ql)
{
    TIMED(PROF_GEMM, linear_gelu(s, ql));
}

static void quant_hid(vit_opt_state *s)
{
    TIMED(PROF_LN, quant_hid(s));
}

vit_status vit_opt_profile_new(vit_opt_state *s, vit_profile clock, struct vit_opt_profile **out,
                               vit_error *err)
{
    struct vit_opt_profile *p = calloc(1, sizeof *p);
    if (!p)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for the optimized variant's profile");
    p->inner = s->steps;
    p->clock = clock;
    s->steps.patch = patch;
    s->steps.ln_quant = ln_quant;
    s->steps.qkv = qkv;
    s->steps.attention = attention;
    s->steps.quant_ctx = quant_ctx;
    s->steps.linear_add = linear_add;
    s->steps.linear_gelu = linear_gelu;
    s->steps.quant_hid = quant_hid;
    *out = p;
    return VIT_OK;
}

void vit_opt_profile_begin(struct vit_opt_profile *p)
{
    p->runs++;
    p->run_t0 = now_ms(p);
}

void vit_opt_profile_end(struct vit_opt_profile *p)
{
    p->run_ms += now_ms(p) - p->run_t0;
}

void vit_opt_profile_free(struct vit_opt_profile *p, int32_t threads)
{
    if (!p)
        return;
    if (p->runs > 0) {
        double n = p->runs, other = p->run_ms - p->ms[PROF_GEMM] - p->ms[PROF_ATT] - p->ms[PROF_LN];
        vit_log(VIT_LOG_INFO,
                "optimized, %d threads, mean of %d runs: GEMMs %.3f ms, attention %.3f ms, "
                "LayerNorm + quantization %.3f ms, other %.3f ms",
                (int)threads, (int)p->runs, p->ms[PROF_GEMM] / n, p->ms[PROF_ATT] / n,
                p->ms[PROF_LN] / n, other / n);
    }
    free(p);
}
