/* vit-backend.h — the variants behind one interface (ggml's backends, smaller): a session picks
 * its backend once, from its variant, and calls through it; nothing is guessed from which state
 * is there. One file per variant, each ending in its vit_backend: vit-forward.c (fp32),
 * vit-forward-int8.c (int8), vit-forward-opt.c (optimized). Internal to libvit. */
#ifndef VIT_BACKEND_H
#define VIT_BACKEND_H

#include "vit-impl.h"

/* What every variant shares; `state` is the backend's own (its weights and run state). */
struct vit_session {
    const vit_model *model;
    vit_session_opts opts;
    int32_t threads;
    vit_kernel kernel;                /* opts.kernel resolved for this CPU */
    const struct vit_backend *backend;
    void *state;                      /* made by backend->init, freed by backend->free */
    float *input;  /* (C, S, S) preprocessed image */
    float *logits; /* (K) */
    float *probs;  /* (K) */
    /* opts.rollout (vit-rollout.c), else NULL: what the backend's forward fills, block by
     * block, and what vit_session_run makes of it */
    void *roll_att;    /* (depth, T, T) each block's probabilities averaged over heads: floats,
                        * or (roll_bf16, the optimized variant) bf16, half the memory traffic */
    int32_t roll_bf16;
    float *roll_row;   /* (2, T) the rollout row, and the next one */
    float *roll_grid;  /* (NP) the last run's rollout, max 1 */
    int32_t roll_ready; /* roll_grid is the last run's */
    const float *roll_r; /* the last run's rollout row, when the forward made it (in roll_row) */
    vit_prof *prof;     /* opts.profile (vit-profile.c), else NULL: what the forward marks */
};

typedef struct vit_backend {
    const char *name; /* the variant's, vit_variant_name */
    /* Make s->state: weights (the model's prepared ones, or the session's own), the plan and
     * every buffer the forward uses. On failure free() is still called. */
    vit_status (*init)(vit_session *s, vit_error *err);
    /* in (C, S, S) -> logits (K); allocates nothing. */
    vit_status (*forward)(vit_session *s, const float *in, float *logits, vit_error *err);
    void (*free)(vit_session *s);
    /* The CPU kernel in use, for vit_session_kernel. */
    const char *(*kernel)(const vit_session *s);
} vit_backend;

extern const vit_backend vit_backend_fp32; /* vit-forward.c */
extern const vit_backend vit_backend_int8; /* vit-forward-int8.c */
extern const vit_backend vit_backend_opt;  /* vit-forward-opt.c */

#endif /* VIT_BACKEND_H */
