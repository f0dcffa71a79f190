/* vit-impl.h — libvit internals shared between the engine's files. Not installed; the app and
 * the CLI include only vit.h. */
#ifndef VIT_IMPL_H
#define VIT_IMPL_H

#include "vit.h"
#include "vit-quant.h" /* vit_kernel */

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Errors and logging (vit.c) */

/* Fill err (may be NULL) with status and a printf-style message; returns status. */
/* Log levels for vit_log (the host's callback decides what to show). */
#define VIT_LOG_ERROR 0
#define VIT_LOG_WARN 1
#define VIT_LOG_INFO 2
#define VIT_LOG_DEBUG 3

vit_status vit_fail(vit_error *err, vit_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vit_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last path component, for messages ("dir/model.safetensors" -> "model.safetensors"). */
const char *vit_basename(const char *path);

/* Overflow-checked size arithmetic: return false on overflow. */
static inline bool vit_mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* Little-endian fields of our file headers (.vitq, .vitl): read and write, any alignment. */
static inline uint32_t vit_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t vit_rd64(const uint8_t *p)
{
    return (uint64_t)vit_rd32(p) | (uint64_t)vit_rd32(p + 4) << 32;
}
static inline float vit_rdf(const uint8_t *p)
{
    uint32_t u = vit_rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline void vit_wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void vit_wr64(uint8_t *p, uint64_t v)
{
    vit_wr32(p, (uint32_t)v);
    vit_wr32(p + 4, (uint32_t)(v >> 32));
}
static inline void vit_wrf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    vit_wr32(p, u);
}

/* 64-byte aligned allocation (cache lines and AVX-512 loads); NULL on failure. */
void *vit_alloc(size_t bytes);
void vit_free(void *p);
/* Hands the whole pages inside [p, p + bytes) back to the kernel (madvise MADV_DONTNEED): in a
 * file mapping they are read again from the file if touched, in anonymous memory they then read
 * as zeros. Advice: a failure only keeps the pages. */
void vit_release_pages(const void *p, size_t bytes);

/* ---------------------------------------------------------------------------------------------
 * The model: weights as in timm's state dict, all fp32 after load. */

typedef struct {
    float *norm1_w, *norm1_b; /* (D) */
    float *qkv_w;             /* (3D, D)  rows: q for all heads, then k, then v */
    float *qkv_b;             /* (3D) */
    float *proj_w;            /* (D, D) */
    float *proj_b;            /* (D) */
    float *norm2_w, *norm2_b; /* (D) */
    float *fc1_w;             /* (H, D)  H = mlp hidden */
    float *fc1_b;             /* (H) */
    float *fc2_w;             /* (D, H) */
    float *fc2_b;             /* (D) */
} vit_block_weights;

typedef struct {
    float *patch_w;           /* (D, C*P*P)  conv weight (D, C, P, P) flattened */
    float *patch_b;           /* (D) */
    float *cls_token;         /* (D) */
    float *dist_token;        /* (D), NULL unless distilled */
    float *pos_embed;         /* (T, D)  T = num_tokens */
    vit_block_weights *blocks;/* (depth) */
    float *norm_w, *norm_b;   /* (D) */
    float *head_w;            /* (K, D) */
    float *head_b;            /* (K) */
    float *head_dist_w;       /* (K, D), NULL unless distilled */
    float *head_dist_b;       /* (K) */
} vit_weights;

struct vit_quant_model;  /* int8 weights, vit-quant.h */
struct vit_sgemm_model;  /* fp32 weights packed for our GEMM, vit-sgemm.h */
struct vit_sgemm_ops;
struct vit_pool;
struct vit_lite;         /* a .vitl file's mapping and prepacked weights, vit-lite.c */

/* A model is immutable once loaded and prepared: nothing below changes behind a const pointer.
 * Its derived weights are built by vit_model_prepare (vit-prepare.c), on a non-const model,
 * before it is shared; a .vitq's int8 weights and a .vitl's mapping are made by loading. */
struct vit_model {
    vit_model_info info;
    vit_weights w;
    float *arena;         /* every fp32 tensor above points into this one allocation */
    int32_t has_fp32_linears; /* 0 for .vitq models: their Linear weights exist only in int8 */
    size_t arena_floats;
    char **labels;        /* (num_classes) or NULL */
    int32_t num_labels;
    char *label_storage;  /* the strings labels[] point into */

    /* The int8 Linears per [per_channel][vit_kernel]: from vit_model_prepare, or a .vitq's (for
     * the best kernel), else NULL. */
    struct vit_quant_model *q[2][VIT_KERNEL_COUNT];
    /* The fp32 Linears packed for vit_sgemm (vit_model_prepare for fp32), or NULL. */
    struct vit_sgemm_model *f32p;
    /* vit_model_release_linears handed the arena's Linear weights back to the kernel: only f32p
     * and the prepared int8 weights hold them now. */
    int32_t linears_released;
    /* A model loaded from a .vitl: its mapping and weights (freed by vit_model_free), else NULL. */
    struct vit_lite *lite;
};

/* Labels (vit-labels.c): set from names (copied), or read from a file, one per line. */
vit_status vit_model_alloc_labels(vit_model *m, const char *const *names, int32_t n, vit_error *err);
vit_status vit_model_read_labels_file(vit_model *m, const char *path, vit_error *err);

/* ---------------------------------------------------------------------------------------------
 * Files (vit-io.c): what every model reader shares */

/* A whole regular, non-empty file, read into private, page-aligned memory: never a mapping, so
 * that nothing another process does to the file can crash us or change our weights; a change
 * while it is being read fails the read (see vit-io.c). */
typedef struct {
    const uint8_t *data;
    size_t size;
} vit_file_data;

vit_status vit_file_read(const char *path, vit_file_data *f, vit_error *err);
void vit_file_data_free(vit_file_data *f); /* and zeroes *f; nothing for a zeroed one */
/* CRC-32 (IEEE, zlib's): of data, or continued from crc over more data (crc 0 to start). */
uint32_t vit_crc32(const void *data, size_t n);
uint32_t vit_crc32_update(uint32_t crc, const void *data, size_t n);
/* Read a whole small file; *out is NUL-terminated. VIT_ERR_IO when it does not exist. */
vit_status vit_read_small_file(const char *path, size_t limit, char **out, size_t *len,
                               vit_error *err);

/* vit-limits.c: the model's shape and preprocessing against the limits of vit.h (every loader,
 * before sizing anything); name goes in front of the message. */
vit_status vit_model_info_check(const vit_model_info *info, const char *name, vit_error *err);
vit_status vit_preprocess_cfg_check(const vit_preprocess_cfg *cfg, const char *name,
                                    vit_error *err);

/* ---------------------------------------------------------------------------------------------
 * The readers, which vit_model_load (vit-load.c) dispatches to by the file's magic. Each reads
 * the mapping and leaves it to the caller, except where it says. */

/* vit-model.c: a timm safetensors file, with config.json and labels.txt beside `path`. */
vit_status vit_model_from_safetensors_file(const vit_file_data *map, const char *path,
                                           vit_model **out, vit_error *err);
/* vit-file.c: .vitq */
int vit_file_is_vitq(const uint8_t *data, size_t size);
/* file_backed: data is the file's private copy (its pages may be dropped once copied). */
vit_status vit_model_from_vitq(const uint8_t *data, size_t size, const char *path, int file_backed,
                               vit_model **out, vit_error *err);
/* vit-lite.c: .vitl. On success the model keeps the mapping (its weights point into it) and
 * *map is zeroed; on failure *map is left to the caller. */
int vit_file_is_vitl(const uint8_t *data, size_t size);
/* The 64-bit checksum each .vitl tensor's data carries (tests and the fuzzer recompute it). */
uint64_t vit_lite_checksum(const uint8_t *p, size_t n);
vit_status vit_model_from_vitl(vit_file_data *map, const char *path, vit_model **out,
                               vit_error *err);

/* ---------------------------------------------------------------------------------------------
 * Profile (vit-profile.c; vit_session_opts.profile): the session's, made at vit_session_new only
 * when it is on. The forward marks the end of each op with its class: the time since the last
 * mark goes to that class, so the classes of a run sum to its forward. Off, the variants run
 * forwards (or steps) that contain no marks. */

typedef struct vit_prof {
    vit_profile clock;     /* WALL or CPU (this thread's) */
    double t0, mark;       /* this run's start, the last mark */
    double cur[VIT_OP_COUNT];
    vit_profile_stats stats;
} vit_prof;

double vit_prof_now(const vit_prof *p);
static inline void vit_prof_mark(vit_prof *p, vit_op op)
{
    double t = vit_prof_now(p);
    p->cur[op] += t - p->mark;
    p->mark = t;
}
/* In a forward instantiated twice, with prof NULL (a constant: the mark compiles to nothing)
 * and with the session's profile */
#define VIT_PROF_MARK(prof, op)                                                                \
    do {                                                                                       \
        if (prof)                                                                              \
            vit_prof_mark(prof, op);                                                           \
    } while (0)
/* Around each forward (vit_session_run): end puts the time since the last mark in OTHER and
 * the run in stats. */
void vit_prof_begin(vit_prof *p);
void vit_prof_end(vit_prof *p);
/* stats.ops from the shapes */
void vit_prof_count_ops(vit_prof *p, const vit_model_info *i);

/* ---------------------------------------------------------------------------------------------
 * The fp32 forward pass (vit-forward.c): run state allocated once per session. */

typedef struct {
    int32_t T, D, H, heads, hd; /* tokens, dim, mlp hidden, heads, head dim */
    float eps;     /* LayerNorm epsilon, the model's ln_eps */
    float *x;      /* (T, D)   residual stream */
    float *xn;     /* (T, D)   normalized input of a sublayer */
    float *qkv;    /* (T, 3D) */
    float *att;    /* (heads, T, T) scores, then probabilities */
    float *ctx;    /* (T, D)   attention output before proj */
    float *hid;    /* (T, H)   mlp hidden */
    float *patches;/* (NP, C*P*P) im2col of the input */
    float *logits2;/* (K)      head_dist output */
    /* The plan (vit_fp32_state_plan): our GEMM and kernels, or ops == NULL for OpenBLAS. */
    const struct vit_sgemm_ops *ops;
    const struct vit_sgemm_model *packed; /* the model's packed Linears */
    struct vit_pool *pool;
    float *kpack;  /* (heads, packed (hd, T))  each head's k^T, packed per run */
    float *vpack;  /* (heads, packed (T, hd))  each head's v */
    float *roll;   /* (depth, T, T) the session's rollout buffer (opts.rollout), else NULL */
    vit_prof *prof; /* the session's profile (opts.profile): the marked forward; else NULL */
} vit_fp32_state;

vit_status vit_fp32_state_new(const vit_model *m, vit_fp32_state *s, vit_error *err);
/* Run the fp32 pass with our GEMM (ops, the model's packed weights) on `threads` threads; without
 * this call, it runs through OpenBLAS. */
vit_status vit_fp32_state_plan(vit_fp32_state *s, const struct vit_sgemm_ops *ops,
                               const struct vit_sgemm_model *packed, int32_t threads,
                               vit_error *err);
void vit_fp32_state_free(vit_fp32_state *s);
void vit_forward_fp32(const vit_model *m, vit_fp32_state *s, const float *input, float *logits);
/* Multi-head attention, qkv -> ctx, and LayerNorm of rows of (rows, D), with the state's plan
 * and pool (the int8 variant uses them too). */
void vit_fp32_attention(vit_fp32_state *s);
void vit_fp32_layernorm(const vit_fp32_state *s, const float *x, const float *w, const float *b,
                        float *y, int32_t rows);

/* Shared fp32 building blocks (vit-forward.c), used by every variant. */
void vit_layernorm(const float *x, const float *w, const float *b, float *y, int32_t rows,
                   int32_t dim, float eps);
void vit_gelu_inplace(float *x, size_t n);
void vit_im2col_patches(const float *input, int32_t C, int32_t img, int32_t P, float *patches);
void vit_embed_tokens(const vit_model *m, const float *patch_out, float *x);
void vit_softmax_rows(float *x, int32_t rows, int32_t cols, float scale);
void vit_softmax_rows_exp(float *x, int32_t rows, int32_t cols, int32_t ld, float scale,
                          float (*expfn)(float));

/* ---------------------------------------------------------------------------------------------
 * Attention rollout (vit-rollout.c; definition in vit.h, vit_session_rollout) */

struct vit_pool;
/* mean (T, T) = the mean over heads of att (heads, T, T), its rows [0, rows) (T; the last
 * block's prefix), split over the pool (the fp32 and int8 variants, after their attention) */
void vit_rollout_mean_heads(struct vit_pool *pool, const float *att, int32_t heads, int32_t T,
                            int32_t rows, float *mean);
/* y[c] += alpha * sum_{i < rows} r[i] * a[i][c] for c in [0, T): a, rows of T bf16 (the
 * optimized variant's head means, vit-opt.h's roll_gemv) */
typedef void vit_bf16_gemv_op(const uint16_t *a, int32_t rows, int32_t T, const float *r,
                              float alpha, float *y);
/* The rollout row r (T) of att (depth, T, T), head means: att's values floats (gemv NULL), or
 * bf16 multiplied by gemv; row: 2T floats, r in one half (returned). Of the last block only the
 * prefix rows are read. */
const float *vit_rollout_row(const void *att, vit_bf16_gemv_op *gemv, int32_t depth, int32_t T,
                             int32_t prefix, float *row);
/* grid (T - prefix) = r over the patch tokens, divided by its max */
void vit_rollout_normalize(const float *r, int32_t T, int32_t prefix, float *grid);

#endif /* VIT_IMPL_H */
