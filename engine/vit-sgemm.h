/* vit-sgemm.h — the fp32 variant's own GEMM and the kernels around it. Internal to libvit.
 *
 *     c (m, n) = a (m, k) @ B (k, n) + bias, then store, add into c, or apply GELU
 *
 * B is packed once (weights at plan time, attention's k and v per run) into column panels of
 * VIT_SGEMM_NR = 32: panel p holds columns [32p, 32p + 32) as (k, 32) row-major, zero-padded
 * past n. A micro-kernel then reads one 32-float row of the panel per step of k and broadcasts
 * one element of each of its rows of a; a is read in place (row stride lda), never packed.
 *
 * Why our own and not OpenBLAS: the environment pins OpenBLAS to its Haswell (AVX2) kernels
 * (OPENBLAS_CORETYPE), half the fp32 peak of an AVX-512 CPU, and the fp32 pass spent 55% of its
 * time there. The kernels: AVX-512 (12 x 32 tile, 24 zmm accumulators), AVX2 (6 x 16 half-panel
 * tiles) and a scalar reference; CPUs with neither keep the OpenBLAS pass (vit-forward.c).
 *
 * Numerics: each c element is one fp32 FMA chain over k in order, so a result does not depend
 * on the tile, the split over threads or the thread count (bit-identical for any), and the
 * AVX-512 and AVX2 kernels agree with each other bit for bit on the GEMM itself; they differ
 * from the reference only by FMA contraction. GELU and exp are the optimized variant's
 * (|erf error| < 4e-7, rel. exp error < 2e-7), LayerNorm sums in fp32 lanes: logits stay within
 * 1e-6 of PyTorch's on the fixtures (tolerance 1e-4). */
#ifndef VIT_SGEMM_H
#define VIT_SGEMM_H

#include "vit-impl.h"
#include "vit-quant.h" /* vit_kernel */

#include <stddef.h>
#include <stdint.h>

#define VIT_SGEMM_NR 32

struct vit_pool;

/* B (k, n), packed: ceil(n / 32) panels of (k, 32) floats, 64-byte aligned. */
typedef struct {
    int32_t k, n;
    float *p;
} vit_sgemm_b;

static inline int32_t vit_sgemm_panels(int32_t n)
{
    return (n + VIT_SGEMM_NR - 1) / VIT_SGEMM_NR;
}
/* Floats a packed (k, n) B takes. */
static inline size_t vit_sgemm_packed_floats(int32_t k, int32_t n)
{
    return (size_t)vit_sgemm_panels(n) * (size_t)k * VIT_SGEMM_NR;
}
/* B = w^T for w (n, k), row stride ldw: an nn.Linear weight, or attention's k (tokens, hd). */
void vit_sgemm_pack_t(const float *w, int32_t ldw, int32_t n, int32_t k, float *p);
/* The inverse of vit_sgemm_pack_t: w (n, k), row stride ldw, from its packed B. */
void vit_sgemm_unpack_t(const float *p, int32_t n, int32_t k, float *w, int32_t ldw);
/* B = b (k, n), row stride ldb: attention's v (tokens, hd). */
void vit_sgemm_pack_n(const float *b, int32_t ldb, int32_t k, int32_t n, float *p);

typedef enum {
    VIT_SEP_STORE = 0, /* c = acc + bias */
    VIT_SEP_ADD,       /* c = c + (acc + bias)   (the residual add) */
    VIT_SEP_GELU,      /* c = gelu(acc + bias)   (exact-erf GELU, the fast erf) */
} vit_sgemm_mode;

/* Rows [0, m) of a times one panel bp (k, 32) of B, the first ncols (1..32) of its columns,
 * through the epilogue into c (row 0, the panel's first column). bias: the panel's first
 * column's bias, or NULL. */
typedef void (*vit_sgemm_panel_fn)(int32_t m, int32_t k, const float *a, int32_t lda,
                                   const float *bp, int32_t ncols, const float *bias,
                                   vit_sgemm_mode mode, float *c, int32_t ldc);
/* Rows [0, rows) of x (row stride ld, cols used): x = softmax(scale * x) per row. */
typedef void (*vit_softmax_fn)(float *x, int32_t rows, int32_t cols, int32_t ld, float scale);
/* y = LayerNorm(x) per row with eps (the model's ln_eps), rows [0, rows) of (rows, dim). */
typedef void (*vit_layernorm_fn)(const float *x, const float *w, const float *b, float *y,
                                 int32_t rows, int32_t dim, float eps);

typedef struct vit_sgemm_ops {
    const char *name;
    vit_sgemm_panel_fn panel;
    vit_softmax_fn softmax;
    vit_layernorm_fn layernorm;
} vit_sgemm_ops;

/* The kernels for `k` on this CPU: AVX-512 (needs only AVX-512F, but is entered for
 * VIT_KERNEL_AVX512_VNNI, the engine's AVX-512 level), AVX2; NULL for VIT_KERNEL_SCALAR (the
 * fp32 pass then keeps OpenBLAS, which has SSE kernels for such CPUs). */
const vit_sgemm_ops *vit_sgemm_ops_for(vit_kernel k);
/* The scalar references (plain C, what the SIMD kernels are tested against). */
extern const vit_sgemm_ops vit_sgemm_ops_ref;

/* c = a @ B + bias through the epilogue, split over the pool's threads by (panel, row block):
 * every element is computed whole by one thread, so the result does not depend on the split. */
void vit_sgemm(const vit_sgemm_ops *ops, struct vit_pool *pool, int32_t m, const float *a,
               int32_t lda, const vit_sgemm_b *b, const float *bias, vit_sgemm_mode mode,
               float *c, int32_t ldc);

/* The kernels (vit-kernels-ref.c, vit-kernels-avx2.c, vit-kernels-avx512.c). */
void vit_sgemm_panel_ref(int32_t m, int32_t k, const float *a, int32_t lda, const float *bp,
                         int32_t ncols, const float *bias, vit_sgemm_mode mode, float *c,
                         int32_t ldc);
void vit_softmax_ref(float *x, int32_t rows, int32_t cols, int32_t ld, float scale);
#if defined(VIT_HAVE_X86_SIMD)
void vit_sgemm_panel_avx2(int32_t m, int32_t k, const float *a, int32_t lda, const float *bp,
                          int32_t ncols, const float *bias, vit_sgemm_mode mode, float *c,
                          int32_t ldc);
void vit_softmax_avx2(float *x, int32_t rows, int32_t cols, int32_t ld, float scale);
void vit_layernorm_avx2(const float *x, const float *w, const float *b, float *y, int32_t rows,
                        int32_t dim, float eps);
void vit_sgemm_panel_avx512(int32_t m, int32_t k, const float *a, int32_t lda, const float *bp,
                            int32_t ncols, const float *bias, vit_sgemm_mode mode, float *c,
                            int32_t ldc);
void vit_softmax_avx512(float *x, int32_t rows, int32_t cols, int32_t ld, float scale);
void vit_layernorm_avx512(const float *x, const float *w, const float *b, float *y,
                          int32_t rows, int32_t dim, float eps);
#endif

/* ---------------------------------------------------------------------------------------------
 * The model's Linear weights, packed once: by vit_model_prepare into the model (shared by its
 * fp32 sessions), or by a session on an unprepared model for itself. */
typedef struct vit_sgemm_model {
    vit_sgemm_b patch;   /* (C*P*P, D) */
    vit_sgemm_b *layers; /* per block: qkv, proj, fc1, fc2; then head, (head_dist) */
    int32_t num_layers;
    float *arena;
} vit_sgemm_model;

/* Pack the model's Linears; the model is only read. */
vit_status vit_sgemm_model_build(const vit_model *m, vit_sgemm_model **out, vit_error *err);
/* The same, handing each Linear's plain copy in the arena back to the kernel once it is packed
 * (vit_model_release_linears only). */
vit_status vit_sgemm_model_build_releasing(vit_model *m, vit_sgemm_model **out, vit_error *err);
/* Hand the arena's Linears back to the kernel: they read as zeros afterwards
 * (vit_model_release_linears only, once they are packed). */
void vit_sgemm_model_release_linears(vit_model *m);
void vit_sgemm_model_free(vit_sgemm_model *sm);

#endif /* VIT_SGEMM_H */
