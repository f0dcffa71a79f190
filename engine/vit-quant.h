/* vit-quant.h — int8 Linear layers: weight quantization and packing, dynamic activation
 * quantization, the u8·s8→s32 GEMM kernels (scalar reference, AVX2, AVX-512 VNNI) and their
 * runtime dispatch. Internal to libvit.
 *
 * Usage:
 *
 *     vit_qlinear fc;
 *     vit_qlinear_init(&fc, w, b, n, k, 0, vit_kernel_select(NULL), &err); // quantize + pack once
 *     void *scratch = vit_alloc(vit_qlinear_scratch_bytes(m, k));
 *     vit_qlinear_forward(&fc, x, m, y, scratch, pool);                  // y (m,n) from x (m,k)
 *     vit_qlinear_free(&fc);
 *
 * Semantics follow PyTorch's quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8) on its
 * x86 engines (fbgemm, onednn), checked against torch 1.13:
 *   weights   qint8 symmetric, per tensor (default_weight_observer) or per output channel
 *             (default_per_channel_weight_observer): scale = max|w| / 127.5 in float, at least
 *             FLT_EPSILON; q = clamp(nearbyint(w * (1/scale)), -128, 127). So q spans
 *             [-128, 127] ([-127.5, 127.5] rounded), not the [-127, 127] of some other stacks;
 *             our kernels are exact for -128 (see the AVX2 notes in vit-kernels-avx2.c).
 *   inputs    quint8 asymmetric per tensor, from the min and max of the layer's whole input,
 *             range extended to include 0 (quant_utils::ChooseQuantizationParams):
 *             scale = (max - min) / qmax, zero_point = nearbyint(-min / scale) clamped to
 *             [0, qmax]; q = clamp(nearbyint(x * (1/scale)) + zero_point, 0, 255).
 *             torch's dynamic Linear passes reduce_range=True, so on fbgemm and onednn
 *             qmax = 127 (7-bit activations, to keep fbgemm's vpmaddubsw from saturating);
 *             qnnpack ignores it (qmax = 255). vit_qlinear.act_qmax picks: 127 (default, equal
 *             to torch on x86 up to float rounding in the output) or 255 (one more bit of input
 *             precision; our kernels are exact for the whole u8 range, so nothing forces 127).
 *   output    y[m][n] = (float)(acc - zp * row_sum[n]) * (x_scale * w_scale[n]) + bias[n], one
 *             fused multiply-add in fp32, acc the exact int32 sum over k of q_x * q_w.
 * Every kernel gives the same int32 sums and the same float outputs, bit for bit.
 */
#ifndef VIT_QUANT_H
#define VIT_QUANT_H

#include "vit.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vit_pool;

typedef enum {
    VIT_KERNEL_SCALAR = 0,  /* portable C: the reference */
    VIT_KERNEL_AVX2,        /* x86-64 AVX2 (+FMA, F16C): Haswell, Zen 1+ */
    VIT_KERNEL_AVX512_VNNI, /* AVX-512 F/BW/VL/DQ + VNNI: Cascade Lake, Ice Lake, Zen 4+ */
    VIT_KERNEL_COUNT,
} vit_kernel;

const char *vit_kernel_name(vit_kernel k); /* "scalar", "avx2", "avx512-vnni" */
/* What kernel k's GEMM runs on this (capped) CPU, for display: its name, or "avx-vnni" for the
 * AVX2 packing where the CPU has AVX-VNNI (vit_gemm_u8s8s32_avx2 then uses vpdpbusd). */
const char *vit_kernel_runs(vit_kernel k);
/* Parse a name from vit_kernel_name; VIT_ERR_ARG for anything else. */
vit_status vit_kernel_parse(const char *name, vit_kernel *out);
/* 1 when this CPU and OS can run kernel k (CPUID and XCR0), within the VIT_CPU cap (vit-cpu.h). */
int vit_kernel_supported(vit_kernel k);
/* The kernel `name` (scalar|avx2|avx512-vnni, vit_session_opts.kernel) when this CPU has it;
 * NULL or "" gives the best supported one, and so does an unsupported or unknown name, after a
 * warning in the log. */
vit_kernel vit_kernel_select(const char *name);

/* nearbyint for |t| < 2^22 in the default rounding mode (half to even, as cvtps2dq): adding
 * 1.5 * 2^23 leaves no fraction bits. Unlike lrintf (a libm call without -fno-math-errno) it
 * vectorizes: weight quantization 2.8x faster. Valid only without -ffast-math (which would fold
 * it to t), and the engine is never built with it. */
static inline float vit_round_even(float t)
{
    const float magic = 12582912.0f;
    return (t + magic) - magic;
}

/* Activation ranges (vit_qlinear.act_qmax). */
#define VIT_ACT_QMAX_TORCH 127 /* torch's reduce_range=True on fbgemm/onednn: the default */
#define VIT_ACT_QMAX_FULL 255  /* the whole u8 range, as torch's qnnpack */

/* Largest in-features: keeps |sum_k q_x*q_w| (<= k * 255 * 128) and zp * row_sum in int32. */
#define VIT_QLINEAR_MAX_K 65536

typedef struct {
    int32_t n, k;        /* out features, in features */
    int32_t per_channel; /* 1: one weight scale per output row; 0: one for the tensor */
    int32_t act_qmax;    /* VIT_ACT_QMAX_TORCH (default) or VIT_ACT_QMAX_FULL; may be changed */
    float *scale;        /* (n) weight scales (all equal when per-tensor) */
    int8_t *q;           /* (n, k) int8 weights, row-major: the portable form stored in files */
    int32_t *row_sum;    /* (n) sum_k q[n][k], for the activation zero point */
    float *bias;         /* (n) zeros when the layer has none */
    vit_kernel kernel;   /* the kernel `packed` was made for */
    /* Packed weights: column panels of pack_panel vectors of pack_vec columns; inside a panel,
     * for each group of 4 k (k padded with zeros to a multiple of 4), the panel's columns with
     * their 4 bytes each, so that one vector load gives pack_vec columns x 4 k. NULL for the
     * scalar kernel, which reads q. */
    void *packed;
    size_t packed_bytes;
    int32_t pack_vec;   /* columns per vector: 16 (avx512-vnni), 8 (avx2), 0 (none) */
    int32_t pack_panel; /* vectors per panel */
} vit_qlinear;

/* Quantize w (n, k) fp32 (and copy b (n), which may be NULL) and pack for `kernel`. An
 * unsupported kernel fails with VIT_ERR_CPU. */
vit_status vit_qlinear_init(vit_qlinear *ql, const float *w, const float *b, int32_t n, int32_t k,
                            int per_channel, vit_kernel kernel, vit_error *err);
/* From already quantized weights (a .vitq file): q (n, k), scale (n) or (1) when per-tensor. */
vit_status vit_qlinear_init_quantized(vit_qlinear *ql, const int8_t *q, const float *scale,
                                      const float *b, int32_t n, int32_t k, int per_channel,
                                      vit_kernel kernel, vit_error *err);
void vit_qlinear_free(vit_qlinear *ql);
/* The same int8 weights, scales and bias packed for another kernel (from src->q, or unpacked
 * from src->packed when src has no q: a lite file's). */
vit_status vit_qlinear_repack(const vit_qlinear *src, vit_kernel kernel, vit_qlinear *dst,
                              vit_error *err);

/* Weight quantization alone (what vit_qlinear_init does): scale (n) and q (n, k). */
void vit_quantize_weights_s8(const float *w, int32_t n, int32_t k, int per_channel, float *scale,
                             int8_t *q);

typedef struct {
    float scale;
    int32_t zero_point;
} vit_qparams;

/* torch's ChooseQuantizationParams(min, max, 0, qmax) on the min and max of x (NaNs ignored);
 * qmax is VIT_ACT_QMAX_TORCH or VIT_ACT_QMAX_FULL. */
vit_qparams vit_choose_qparams_u8(const float *x, size_t count, int32_t qmax);
vit_qparams vit_qparams_from_range_u8(float min, float max, int32_t qmax);
/* out[i] = clamp(nearbyint(x[i] * (1 / qp.scale)) + qp.zero_point, 0, 255); NaN gives 0. */
void vit_quantize_u8(const float *x, size_t count, vit_qparams qp, uint8_t *out);
/* out[i] = (q[i] - qp.zero_point) * qp.scale */
void vit_dequantize_u8(const uint8_t *q, size_t count, vit_qparams qp, float *out);

/* y (m, n) = dequant(quant(x) (m, k) · q^T) + bias. x and y are row-major, contiguous.
 * scratch: vit_qlinear_scratch_bytes(m, k) bytes (any alignment). pool may be NULL. The layer
 * is only read, so one vit_qlinear may serve several threads at once, each with its own
 * scratch and output. The result does not depend on the pool or its thread count. */
size_t vit_qlinear_scratch_bytes(int32_t m, int32_t k);
void vit_qlinear_forward(const vit_qlinear *ql, const float *x, int32_t m, float *y, void *scratch,
                         struct vit_pool *pool);
/* Same with the input already quantized: a (m, k) u8 with row stride lda, parameters qp. */
void vit_qlinear_forward_u8(const vit_qlinear *ql, const uint8_t *a, int32_t lda, vit_qparams qp,
                            int32_t m, float *y, struct vit_pool *pool);

/* The raw kernel, for tests and benchmarks: C (m, n) int32 = A (m, k) u8 · B^T on the columns
 * [n0, n1) of b (any n0 <= n1 <= b->n); c points at C's column 0. kern must be b->kernel or
 * VIT_KERNEL_SCALAR (which reads b->q and works for every b). */
void vit_gemm_u8s8s32(vit_kernel kern, int32_t m, int32_t k, const uint8_t *a, int32_t lda,
                      const vit_qlinear *b, int32_t *c, int32_t ldc, int32_t n0, int32_t n1);

/* ---------------------------------------------------------------------------------------------
 * Kernel entry points (one set per vit-kernels-*.c file; _ref in vit-kernels-ref.c). */

/* The dequantizing epilogue: when given to a GEMM kernel, it writes
 * y[i*ldy + j] = fmaf((float)(acc - a_zp * row_sum[j]), a_scale * w_scale[j], bias[j])
 * instead of the int32 sums. */
typedef struct {
    float a_scale;
    int32_t a_zp;
    const float *w_scale;   /* (n) */
    const int32_t *row_sum; /* (n) */
    const float *bias;      /* (n) */
    float *y;               /* points at column 0 of row 0 */
    int32_t ldy;
} vit_qepilogue;

/* C or the epilogue on columns [n0, n1); k == b->k. */
typedef void vit_gemm_op(int32_t m, const uint8_t *a, int32_t lda, const vit_qlinear *b,
                         int32_t n0, int32_t n1, int32_t *c, int32_t ldc, const vit_qepilogue *ep);
typedef vit_gemm_op *vit_gemm_fn;
/* min and max of x over count floats, NaNs skipped; (+inf, -inf) when there is nothing. */
typedef void vit_minmax_op(const float *x, size_t count, float *min, float *max);
typedef vit_minmax_op *vit_minmax_fn;
/* out[i] = clamp(nearbyint(clamp(x[i] * inv_scale, -zp, 255 - zp)) + zp): NaN maps to 0 */
typedef void vit_quantize_op(const float *x, size_t count, float inv_scale, int32_t zp,
                             uint8_t *out);
typedef vit_quantize_op *vit_quantize_fn;

/* A kernel's own passes (NULL when that kernel is not built in), for tests and benchmarks: the
 * callers need not know which SIMD files this build has. */
vit_minmax_fn vit_kernel_minmax_fn(vit_kernel k);
vit_quantize_fn vit_kernel_quantize_fn(vit_kernel k);

vit_gemm_op vit_gemm_u8s8s32_ref;
vit_minmax_op vit_minmax_f32_ref;
vit_quantize_op vit_quantize_u8_ref;

#if defined(VIT_HAVE_X86_SIMD)
vit_gemm_op vit_gemm_u8s8s32_avx2;
vit_minmax_op vit_minmax_f32_avx2;
vit_quantize_op vit_quantize_u8_avx2;

vit_gemm_op vit_gemm_u8s8s32_avx512;
vit_minmax_op vit_minmax_f32_avx512;
vit_quantize_op vit_quantize_u8_avx512;
#endif

/* vit_gemm_u8s8s32_avx2 with the inner product chosen by the caller instead of by
 * vit_cpu_features(): vnni = 1, AVX-VNNI's vpdpbusd (only on CPUs that have it); 0, vpmaddubsw
 * (with its exact split for bytes > 127). For the tests, which check both paths on one CPU.
 * x86-64 builds only. */
void vit_gemm_u8s8s32_avx2_path(int vnni, int32_t m, const uint8_t *a, int32_t lda,
                                const vit_qlinear *b, int32_t n0, int32_t n1, int32_t *c,
                                int32_t ldc, const vit_qepilogue *ep);

/* Packed-layout and micro-tile constants of the SIMD kernels. */
#define VIT_AVX512_VEC 16  /* int32 columns per zmm */
#define VIT_AVX512_PANEL 4 /* zmm column vectors per micro-tile: 64 columns */
#define VIT_AVX512_MR 6    /* rows per micro-tile (6 x 4 zmm accumulators) */
#define VIT_AVX2_VEC 8     /* int32 columns per ymm */
#define VIT_AVX2_PANEL 3   /* ymm column vectors per micro-tile: 24 columns */
#define VIT_AVX2_MR 4      /* rows per micro-tile (4 x 3 ymm accumulators) */

/* Byte offset of column `col`'s panel in a packed matrix of kgroups groups of 4 k. */
static inline size_t vit_pack_panel_offset(int32_t col, int32_t vec, int32_t panel,
                                           int32_t kgroups)
{
    int32_t pw = vec * panel;
    return (size_t)(col / pw) * (size_t)kgroups * (size_t)pw * 4;
}

#ifdef __cplusplus
}
#endif
#endif /* VIT_QUANT_H */
