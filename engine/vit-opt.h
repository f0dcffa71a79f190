/* vit-opt.h — the optimized variant (vit-forward-opt.c): its weights and the kernels it
 * dispatches to (the references in vit-kernels-ref.c, the SIMD kernels in vit-kernels-avx2.c
 * and vit-kernels-avx512.c, one file per instruction set). Its run state and the steps of its
 * forward: vit-opt-steps.h. Internal to libvit.
 *
 * What it computes: the int8 variant's model (every Linear as u8 x s8 -> s32 with the same
 * weights), with three differences that make it both faster and closer to fp32:
 *   - activations are quantized per token (one scale and zero point per row) over the whole u8
 *     range (0..255; 0..127 on the AVX2 vpmaddubsw GEMM, which needs 7-bit inputs), straight
 *     from the LayerNorm / GELU / attention output that produces them;
 *   - the patch embedding is one more int8 GEMM (per-row quantized im2col patches, weights
 *     per output channel), except for small patches (C*P*P <= VIT_OPT_PATCH_F32_MAX, e.g. the
 *     28x28 gray model's 4x4), where it stays fp32: there it costs nothing and int8 costs accuracy
 *     (measured on the Fashion-MNIST model: max |logit - fp32| 0.074 int8, 0.054 fp32);
 *   - attention runs per (head, block of 6 query rows): scores, softmax and the weighted sum of
 *     V stay in L1, reading q, k^T and v in the layout the qkv GEMM's epilogue wrote; in bf16
 *     (vdpbf16ps, fp32 sums and softmax) on CPUs with AVX512_BF16, in fp32 elsewhere or with
 *     vit_session_opts.attention = VIT_ATTENTION_FP32 (bf16: attention 1.5x faster; top-1 agreement with fp32 on the
 *     Fashion-MNIST test set 99.84% vs 99.83% with fp32 attention; the tests bound it against
 *     the exact definition).
 * Every GEMM ends in a fused epilogue: dequantize + bias, then store, add into the residual
 * stream, apply GELU, or scatter into q / k^T / v.
 *
 * Determinism: every output element is computed by exactly one thread, in an order that does
 * not depend on the split, so results are bit-identical for any thread count. Kernels differ
 * from each other in the last bits (fp32 summation order in attention, LayerNorm), and the
 * AVX2 path by its 7-bit activations.
 */
#ifndef VIT_OPT_H
#define VIT_OPT_H

#include "vit-impl.h"
#include "vit-pool.h"
#include "vit-quant.h"
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Kernels */

/* What a GEMM epilogue does with v = (acc - a_zp[i] * row_sum[j]) * (a_scale[i] * w_scale[j])
 * + bias[j] (one cvt and one fma, as vit_qepilogue). */
typedef enum {
    VIT_OEP_STORE = 0, /* y[i][j] = v */
    VIT_OEP_ADD,       /* y[i][j] += v   (the residual add) */
    VIT_OEP_GELU,      /* y[i][j] = gelu(v) */
    VIT_OEP_QKV,       /* column j of (q | k | v): q[i][j] = v, kt[h][d][i] = v, v[i][j-2D] = v */
} vit_oep_mode;

typedef struct {
    vit_oep_mode mode;
    const float *a_scale;   /* (m) per-row activation scales */
    const int32_t *a_zp;    /* (m) per-row zero points */
    const float *w_scale;   /* (n) */
    const int32_t *row_sum; /* (n) */
    const float *bias;      /* (n) */
    float *y;               /* STORE / ADD / GELU: row 0, column 0 of the output */
    int32_t ldy;
    /* QKV: n == 3 * dim; q and v are (m, dim) row-major, kt is (heads, hd, tpad) */
    float *q, *kt, *v;
    int32_t dim, hd, tpad;
    /* QKV for the bf16 attention (AVX-512 BF16 only): q16 (m, dim); k16 (dim / 2, tpad, 2):
     * pairs of k^T rows interleaved; v16 (heads, tpad / 2, hd, 2): pairs of v rows interleaved
     * (v, above, is then scratch). Needs dim, hd multiples of 16 and row ranges [r0, r1) with
     * r0 even and r1 even or == rows. */
    int32_t bf16, rows;
    uint16_t *q16, *k16, *v16;
    /* GELU, when not NULL: each row's min and max over each 64-column panel of the output,
     * at row_mm[(row * mm_ld + col / 64) * 2 + {0, 1}], so that the next quantization needs no
     * min/max pass of its own (vit_quant_rows_mm_fn). Calls must cover whole panels. */
    float *row_mm;
    int32_t mm_ld;
} vit_oepilogue;

/* Rows [r0, r1) x columns [n0, n1) of A (u8, row i at a + i * lda) times B^T, through the
 * epilogue. Row indices are absolute: they index a, a_scale, a_zp, y and kt's columns. */
typedef void vit_opt_gemm_op(int32_t r0, int32_t r1, const uint8_t *a, int32_t lda,
                                const vit_qlinear *b, int32_t n0, int32_t n1,
                                const vit_oepilogue *ep, void *scratch);
typedef vit_opt_gemm_op *vit_opt_gemm_fn;

/* LayerNorm rows [r0, r1) of x (rows, dim) with w, b and eps (the model's ln_eps), then
 * quantize each row to u8 with its own parameters from its min and max (range widened to hold
 * 0): out row i at out + i * ldo, scale[i], zp[i]. tmp: dim floats of scratch. */
typedef void vit_ln_quant_op(const float *x, int32_t dim, int32_t r0, int32_t r1,
                                const float *w, const float *b, float eps, int32_t qmax,
                                uint8_t *out, int32_t ldo, float *scale, int32_t *zp, float *tmp);
typedef vit_ln_quant_op *vit_ln_quant_fn;
/* Quantize rows [r0, r1) of x (rows, dim, row stride ldx) the same way (no LayerNorm). */
typedef void vit_quant_rows_op(const float *x, int32_t ldx, int32_t dim, int32_t r0,
                                  int32_t r1, int32_t qmax, uint8_t *out, int32_t ldo,
                                  float *scale, int32_t *zp);
typedef vit_quant_rows_op *vit_quant_rows_fn;
/* The same with each row's min and max from the GEMM epilogue's partials (vit_oepilogue.row_mm,
 * `panels` per row): one pass over x instead of two. */
typedef void vit_quant_rows_mm_op(const float *x, int32_t ldx, int32_t dim, int32_t r0,
                                     int32_t r1, int32_t qmax, uint8_t *out, int32_t ldo,
                                     float *scale, int32_t *zp, const float *mm, int32_t panels);
typedef vit_quant_rows_mm_op *vit_quant_rows_mm_fn;
/* Attention of head h for query rows [i0, i1) (at most VIT_OPT_ATT_ROWS... any count):
 * ctx[i][h*hd + d] = sum_j softmax_j(q_i . k_j) v[j][h*hd + d], q already scaled by hd^-0.5.
 * q, v: (T, dim); kt: (heads, hd, tpad); ctx: (T, dim). s: scratch of VIT_OPT_ATT_ROWS * tpad
 * floats. On return s holds the unnormalized probabilities exp(s_ij - max_j) of the last block
 * of query rows (blocks of VIT_OPT_ATT_ROWS from i0): block row r at s + r * tpad, keys [0, T)
 * (what the rollout step reads, vit-opt-steps.c). */
typedef void vit_attention_op(const float *q, const float *kt, const float *v, float *ctx,
                                 int32_t T, int32_t tpad, int32_t dim, int32_t hd, int32_t h,
                                 int32_t i0, int32_t i1, float *s);
typedef vit_attention_op *vit_attention_fn;

/* The same with q, k, v in bf16 (vdpbf16ps: two products per lane and instruction), the
 * layouts of vit_oepilogue's q16, k16, v16; s: scratch of VIT_OPT_ATT_ROWS * tpad * 6 bytes
 * (fp32 scores, then bf16 probabilities). On return the bf16 unnormalized probabilities of the
 * last block of query rows are at (uint16_t *)(s + VIT_OPT_ATT_ROWS * tpad) + r * tpad, and
 * s[r] is 1 / their sum (taken in fp32 before the rounding to bf16: the factor ctx was scaled
 * by), for the rollout (vit-opt-steps.c). */
typedef void vit_attention_bf16_op(const uint16_t *q16, const uint16_t *k16,
                                      const uint16_t *v16, float *ctx, int32_t T, int32_t tpad,
                                      int32_t dim, int32_t hd, int32_t h, int32_t i0, int32_t i1,
                                      float *s);
typedef vit_attention_bf16_op *vit_attention_bf16_fn;

/* A bf16 value as the float it stands for (its 16 bits are the float's high half). */
static inline float vit_bf16_to_f32(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The attention rollout's head mean (vit-opt-steps.c), from what an attention tile leaves in its
 * scratch: for rows r in [0, rows), out[r][c] = prev[r][c] + p[r][c] * inv[r] / heads, c in
 * [0, T) (prev NULL: 0, the first head's share), with p the unnormalized probabilities at
 * p32 + r * tpad (fp32), or at p16 + r * tpad (bf16, when p32 is NULL), and inv[r] =
 * 1 / sum_c p[r][c] as the bf16 attention leaves it, or, with inv NULL, taken here (in 8 lanes:
 * ref, AVX2; in 16: AVX-512). prev may be out; rows of prev and out are T floats. With out16
 * (the last head's share, into the optimized variant's bf16 head means) the sums go there instead,
 * rounded as vit_to_bf16_ref, rows of T, and out is not written: the sums are not stored in fp32
 * only to be read back and rounded. */
typedef void vit_roll_add_op(const float *p32, const uint16_t *p16, const float *inv,
                             int32_t rows, int32_t T, int32_t tpad, int32_t heads,
                             const float *prev, float *out, uint16_t *out16);
typedef vit_roll_add_op *vit_roll_add_fn;

#define VIT_OPT_ATT_ROWS 6 /* query rows per attention tile */
#define VIT_OPT_PATCH_F32_MAX 64 /* patch embeddings with at most this many inputs run in fp32 */
#define VIT_OPT_MR 6       /* GEMM rows per micro-tile (the parallel split's row block) */
#define VIT_OPT_PW 64      /* GEMM columns per panel (the parallel split's column block) */

/* An elementwise op y[i] = f(x[i]) (GELU, exp). */
typedef void vit_gelu_op(const float *x, float *y, size_t n);
typedef vit_gelu_op *vit_gelu_fn;

typedef struct {
    const char *name;
    vit_kernel gemm_kernel; /* the packing the GEMM reads */
    int32_t qmax;           /* activation range: 255, or 127 where the kernel needs it */
    vit_opt_gemm_fn gemm;
    vit_ln_quant_fn ln_quant;
    vit_quant_rows_fn quant_rows;
    vit_attention_fn attention;
    vit_gelu_fn gelu; /* only for the unfused measurement path (VIT_UNFUSE_GELU) */
    vit_attention_bf16_fn attention_bf16; /* NULL: fp32 attention only */
    vit_quant_rows_mm_fn quant_rows_mm;
    vit_roll_add_fn roll_add;
    vit_bf16_gemv_op *roll_gemv; /* the rollout's products (vit_rollout_row) */
} vit_opt_ops;

/* The ops for a GEMM kernel (fused GEMMs on AVX-512 and AVX2; for AVX2 packing the
 * "avx-vnni" ops when vit_cpu_features() has AVX-VNNI; scalar: the references). */
const vit_opt_ops *vit_opt_ops_for(vit_kernel k);

/* The references: the definition of each op. */
vit_opt_gemm_op vit_opt_gemm_ref;
vit_ln_quant_op vit_ln_quant_ref;
vit_quant_rows_op vit_quant_rows_ref;
vit_quant_rows_mm_op vit_quant_rows_mm_ref;
vit_attention_op vit_attention_ref;
vit_roll_add_op vit_roll_add_ref;
/* y[i] = x[i] rounded to bf16 (to nearest, ties to even), as roll_add's out16: finite x */
void vit_to_bf16_ref(const float *x, uint16_t *y, size_t n);
vit_bf16_gemv_op vit_roll_gemv_ref;
/* The loop of every kernel's quant_rows (mm NULL) and quant_rows_mm, through its min/max and
 * quantization (vit-kernels-ref.c). */
void vit_quant_rows_with(vit_minmax_fn minmax, vit_quantize_fn quantize, const float *x,
                         int32_t ldx, int32_t dim, int32_t r0, int32_t r1, int32_t qmax,
                         uint8_t *out, int32_t ldo, float *scale, int32_t *zp, const float *mm,
                         int32_t panels);
/* The epilogue on an int32 tile acc (rows [r0, r1), columns [n0, n1), acc[(i-r0)*ldacc + j-n0]). */
void vit_opt_epilogue_ref(int32_t r0, int32_t r1, int32_t n0, int32_t n1, const int32_t *acc,
                          int32_t ldacc, const vit_oepilogue *ep);
/* Scratch bytes a GEMM call needs (the SIMD kernels' int32 tile for a QKV whose vectors would
 * straddle q, k and v: dim not a multiple of the vector width). */
#define VIT_OPT_GEMM_SCRATCH (8 * VIT_OPT_PW * sizeof(int32_t))

/* Fast exact-enough math (the same operation sequence in every kernel): erf with |err| < 4e-7
 * (a rational minimax fit, as Eigen's), exp with rel. err < 2e-7 (Cody-Waite + degree-6). */
float vit_gelu_fast_ref(float x);
float vit_exp_fast_ref(float x);
vit_gelu_op vit_gelu_ref;

#if defined(VIT_HAVE_X86_SIMD)
/* AVX2 (vit-kernels-avx2.c): GELU, exp and the quantized bytes of quant_rows(_mm) bit for bit
 * with the references, LayerNorm and attention to float rounding (their sums run in 8 lanes). */
vit_ln_quant_op vit_ln_quant_avx2;
vit_quant_rows_op vit_quant_rows_avx2;
vit_gelu_op vit_gelu_avx2;
vit_quant_rows_mm_op vit_quant_rows_mm_avx2;
vit_attention_op vit_attention_avx2;
vit_gelu_op vit_exp_avx2;
vit_roll_add_op vit_roll_add_avx2;
vit_bf16_gemv_op vit_roll_gemv_avx2;

/* The fused GEMM on AVX2 (vit-kernels-avx2.c): vpmaddubsw + vpmaddwd, bit-identical to
 * vit_opt_gemm_ref only when every byte of A is <= 127 (an s16 pair sum would saturate above:
 * the optimized variant quantizes to 0..127 on AVX2, ops qmax). */
vit_opt_gemm_op vit_opt_gemm_avx2;
/* The same GEMM with AVX-VNNI's VEX vpdpbusd: bit-identical to vit_opt_gemm_ref for any u8.
 * Only for CPUs with vit_cpu_features() & VIT_CPU_AVX_VNNI. */
vit_opt_gemm_op vit_opt_gemm_avx_vnni;

vit_opt_gemm_op vit_opt_gemm_avx512;
vit_ln_quant_op vit_ln_quant_avx512;
vit_quant_rows_op vit_quant_rows_avx512;
vit_quant_rows_mm_op vit_quant_rows_mm_avx512;
vit_attention_op vit_attention_avx512;
vit_attention_bf16_op vit_attention_bf16_avx512;
vit_gelu_op vit_gelu_avx512;
vit_gelu_op vit_exp_avx512;
vit_roll_add_op vit_roll_add_avx512;
vit_bf16_gemv_op vit_roll_gemv_avx512;
#endif

/* ---------------------------------------------------------------------------------------------
 * Weights: every Linear int8 and packed for one kernel, plus the patch embedding as a Linear
 * (D, C*P*P). Either borrowed (the model's int8 layers, a lite file's mapping) or owned. */

typedef struct vit_opt_weights {
    vit_kernel kernel;     /* what the packed layouts are for */
    int32_t per_channel;
    int32_t num_layers;    /* 4 * depth + 1 (+1 distilled) */
    const vit_qlinear *layers; /* per block: qkv, proj, fc1, fc2; then head, (head_dist) */
    const vit_qlinear *patch;  /* (D, C*P*P) */
    const float *patch_f32;    /* (D, C*P*P) fp32, when C*P*P <= VIT_OPT_PATCH_F32_MAX */
    /* qkv's scales and bias with the q rows pre-multiplied by hd^-0.5: (depth, 3D) each */
    const float *qkv_scale, *qkv_bias;
    /* owned storage (NULL when borrowed) */
    vit_qlinear *own_layers;
    vit_qlinear own_patch;
    float *own_qkv; /* (2, depth, 3D) */
} vit_opt_weights;

/* Weights from the model's fp32 / .vitq tensors and its int8 layers (q, made for `kernel`):
 * the patch Linear is quantized here, the layers are borrowed. */
vit_status vit_opt_weights_from_model(const vit_model *m, const struct vit_quant_model *q,
                                      vit_opt_weights *w, vit_error *err);
/* The q-scaled qkv scale/bias arrays (own_qkv) for layers already in w. */
vit_status vit_opt_weights_fold_qkv(const vit_model *m, vit_opt_weights *w, vit_error *err);
void vit_opt_weights_free(vit_opt_weights *w);

/* ---------------------------------------------------------------------------------------------
 * Lite files (vit-lite.c) */

/* The lite weights of a model loaded from a .vitl, or NULL. */
const vit_opt_weights *vit_lite_weights(const vit_model *m);
/* Weights for `kernel` made from a lite model's packed int8 weights (unpacked, then packed
 * again): the fallback for a file built for a kernel this CPU lacks. */
vit_status vit_lite_weights_repack(const vit_model *m, vit_kernel kernel, vit_opt_weights *w,
                                   vit_error *err);
/* Release what a .vitl model holds (called by vit_model_free). */
void vit_lite_release(vit_model *m);

#endif /* VIT_OPT_H */
