/* vit-kernels-opt-avx2-rows.c — the optimized variant's AVX2 kernels for everything but the
 * GEMM: LayerNorm + per-row quantization, per-row quantization, attention, and the vectorized
 * GELU and exp (the last also serves the int8 variant's softmax). Built with -mavx2 -mfma and
 * entered only when vit_kernel_supported(VIT_KERNEL_AVX2). Each matches its _ref in
 * vit-kernels-opt-ref.c: GELU, exp and the quantized bytes bit for bit (same operations in the
 * same order; vit_minmax_f32_avx2 / vit_quantize_u8_avx2 are bit-exact with theirs), LayerNorm
 * and attention to float rounding (their sums run in 8 lanes).
 *
 * These replace the reference file compiled a second time with -mavx2 -mfma, which left them
 * to GCC's auto-vectorizer: it vectorized the per-element loops but kept every reduction scalar
 * (a serial add chain per LayerNorm row and per softmax row) and ran attention one query row
 * at a time, re-reading all of k^T and v for each row.
 *
 * Attention, per head and block of (at most) 6 query rows: s (6 x T rounded up to 8) = q k^T in
 * tiles of 6 rows x 16 keys (12 ymm accumulators, 2 k^T vectors, 1 broadcast: 15 of the 16 ymm;
 * k^T rows are contiguous over keys, as the qkv epilogue wrote them), softmax on the rows of s
 * while they are in L1, then ctx (6 x hd) = p v in tiles of 6 rows x 16 head dims, scaled by
 * 1 / sum at the store. Every score and every p v sum is accumulated in the reference's order
 * (one fma per d, resp. per key, from 0), so only the softmax sums differ from it. The tile was
 * measured against 3 x 32, 4 x 24, 2 x 32 and 6 x 8 (tools/bench_opt_ops.c, DeiT T = 197,
 * hd = 64): 3 x 32 within a few percent (it needs 17 registers: the compiler reloads k^T from
 * L1), the others 15-30% slower (fewer accumulators than the 2 FMA pipes x 4 cycles of latency
 * need, or split tiles). */
#include "vit-opt.h"
#include "vit-math-avx2.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#ifndef ALWAYS_INLINE
#define ALWAYS_INLINE inline __attribute__((always_inline))
#endif

/* Lanes [0, n) of a vector (n in 0..8): the mask for maskload / maskstore / blendv. */
static ALWAYS_INLINE __m256i tail_mask(size_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static ALWAYS_INLINE float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* max / min of the lanes; never given NaNs here (the inputs' NaNs are skipped on the way in) */
static ALWAYS_INLINE float hmax256(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static ALWAYS_INLINE float hmin256(__m256 v)
{
    __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_min_ps(s, _mm_movehl_ps(s, s));
    s = _mm_min_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* ---------------------------------------------------------------------------------------------
 * GELU and exp over arrays: two vectors per step (the erf division and the polynomial chains
 * are long: two independent chains keep both FMA pipes busy), masked tail. */

void vit_gelu_avx2(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = gelu256(_mm256_loadu_ps(x + i)), b = gelu256(_mm256_loadu_ps(x + i + 8));
        _mm256_storeu_ps(y + i, a);
        _mm256_storeu_ps(y + i + 8, b);
    }
    for (; i < n; i += 8) {
        if (n - i >= 8) {
            _mm256_storeu_ps(y + i, gelu256(_mm256_loadu_ps(x + i)));
        } else {
            /* masked-off lanes load as 0.0f and are not stored */
            const __m256i mk = tail_mask(n - i);
            _mm256_maskstore_ps(y + i, mk, gelu256(_mm256_maskload_ps(x + i, mk)));
        }
    }
}

void vit_exp_avx2(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = exp256(_mm256_loadu_ps(x + i)), b = exp256(_mm256_loadu_ps(x + i + 8));
        _mm256_storeu_ps(y + i, a);
        _mm256_storeu_ps(y + i + 8, b);
    }
    for (; i < n; i += 8) {
        if (n - i >= 8) {
            _mm256_storeu_ps(y + i, exp256(_mm256_loadu_ps(x + i)));
        } else {
            const __m256i mk = tail_mask(n - i);
            _mm256_maskstore_ps(y + i, mk, exp256(_mm256_maskload_ps(x + i, mk)));
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * LayerNorm + per-row quantization, per-row quantization */

static void quant_row(const float *y, int32_t dim, int32_t qmax, uint8_t *out, float *scale,
                      int32_t *zp)
{
    float mn, mx;
    vit_minmax_f32_avx2(y, (size_t)dim, &mn, &mx);
    vit_qparams qp = vit_qparams_from_range_u8(mn, mx, qmax);
    *scale = qp.scale;
    *zp = qp.zero_point;
    vit_quantize_u8_avx2(y, (size_t)dim, 1.0f / qp.scale, qp.zero_point, out);
}

void vit_quant_rows_mm_avx2(const float *x, int32_t ldx, int32_t dim, int32_t r0, int32_t r1,
                            int32_t qmax, uint8_t *out, int32_t ldo, float *scale, int32_t *zp,
                            const float *mm, int32_t panels)
{
    for (int32_t i = r0; i < r1; i++) {
        /* the row's min and max from the epilogue's per-panel partials (NaNs skipped, as in
         * the reference: the comparisons are false for them) */
        const float *m = mm + (size_t)i * panels * 2;
        float mn = INFINITY, mx = -INFINITY;
        for (int32_t p = 0; p < panels; p++) {
            mn = m[2 * p] < mn ? m[2 * p] : mn;
            mx = m[2 * p + 1] > mx ? m[2 * p + 1] : mx;
        }
        vit_qparams qp = vit_qparams_from_range_u8(mn, mx, qmax);
        scale[i] = qp.scale;
        zp[i] = qp.zero_point;
        vit_quantize_u8_avx2(x + (size_t)i * ldx, (size_t)dim, 1.0f / qp.scale, qp.zero_point,
                             out + (size_t)i * ldo);
    }
}

void vit_quant_rows_avx2(const float *x, int32_t ldx, int32_t dim, int32_t r0, int32_t r1,
                         int32_t qmax, uint8_t *out, int32_t ldo, float *scale, int32_t *zp)
{
    for (int32_t i = r0; i < r1; i++)
        quant_row(x + (size_t)i * ldx, dim, qmax, out + (size_t)i * ldo, &scale[i], &zp[i]);
}

/* The reference's formula (mean, then the variance of x - mean, inv = 1 / sqrt(var / dim +
 * 1e-6), y = fma((x - mean) * inv, w, b)) with the two sums in 4 x 8 lanes (four chains, so
 * the adds are not one serial dependency), and the min / max of y taken as it is written. */
void vit_ln_quant_avx2(const float *x, int32_t dim, int32_t r0, int32_t r1, const float *w,
                       const float *b, int32_t qmax, uint8_t *out, int32_t ldo, float *scale,
                       int32_t *zp, float *tmp)
{
    const int32_t full = dim & ~7;
    const __m256i tmk = tail_mask((size_t)(dim - full));
    for (int32_t i = r0; i < r1; i++) {
        const float *xr = x + (size_t)i * dim;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        int32_t k = 0;
        for (; k + 32 <= dim; k += 32) {
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + k));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(xr + k + 8));
            s2 = _mm256_add_ps(s2, _mm256_loadu_ps(xr + k + 16));
            s3 = _mm256_add_ps(s3, _mm256_loadu_ps(xr + k + 24));
        }
        for (; k < full; k += 8)
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + k));
        if (k < dim) /* masked lanes load as 0 */
            s1 = _mm256_add_ps(s1, _mm256_maskload_ps(xr + k, tmk));
        const float mean = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) /
                           (float)dim;
        const __m256 mv = _mm256_set1_ps(mean);
        s0 = s1 = s2 = s3 = _mm256_setzero_ps();
        for (k = 0; k + 32 <= dim; k += 32) {
            __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + k), mv);
            __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(xr + k + 8), mv);
            __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(xr + k + 16), mv);
            __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(xr + k + 24), mv);
            s0 = _mm256_fmadd_ps(d0, d0, s0);
            s1 = _mm256_fmadd_ps(d1, d1, s1);
            s2 = _mm256_fmadd_ps(d2, d2, s2);
            s3 = _mm256_fmadd_ps(d3, d3, s3);
        }
        for (; k < full; k += 8) {
            __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + k), mv);
            s0 = _mm256_fmadd_ps(d0, d0, s0);
        }
        if (k < dim) { /* the masked lanes' 0 - mean must not count: zero them */
            __m256 d0 = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + k, tmk), mv),
                                      _mm256_castsi256_ps(tmk));
            s1 = _mm256_fmadd_ps(d0, d0, s1);
        }
        const float var = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
        const __m256 inv = _mm256_set1_ps(1.0f / sqrtf(var / (float)dim + 1e-6f));
        /* y, and its min and max (min_ps(y, acc) keeps acc when y is NaN: NaNs skipped, as in
         * the reference's quant_row) */
        __m256 mn0 = _mm256_set1_ps(INFINITY), mx0 = _mm256_set1_ps(-INFINITY);
        __m256 mn1 = mn0, mx1 = mx0;
        for (k = 0; k + 16 <= dim; k += 16) {
            __m256 y0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + k), mv), inv),
                                        _mm256_loadu_ps(w + k), _mm256_loadu_ps(b + k));
            __m256 y1 = _mm256_fmadd_ps(
                _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + k + 8), mv), inv),
                _mm256_loadu_ps(w + k + 8), _mm256_loadu_ps(b + k + 8));
            _mm256_storeu_ps(tmp + k, y0);
            _mm256_storeu_ps(tmp + k + 8, y1);
            mn0 = _mm256_min_ps(y0, mn0);
            mx0 = _mm256_max_ps(y0, mx0);
            mn1 = _mm256_min_ps(y1, mn1);
            mx1 = _mm256_max_ps(y1, mx1);
        }
        for (; k < full; k += 8) {
            __m256 y0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + k), mv), inv),
                                        _mm256_loadu_ps(w + k), _mm256_loadu_ps(b + k));
            _mm256_storeu_ps(tmp + k, y0);
            mn0 = _mm256_min_ps(y0, mn0);
            mx0 = _mm256_max_ps(y0, mx0);
        }
        if (k < dim) {
            __m256 y0 = _mm256_fmadd_ps(
                _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + k, tmk), mv), inv),
                _mm256_maskload_ps(w + k, tmk), _mm256_maskload_ps(b + k, tmk));
            _mm256_maskstore_ps(tmp + k, tmk, y0);
            /* lanes past the row: +inf / -inf, which the min / max ignore */
            const __m256 m = _mm256_castsi256_ps(tmk);
            mn1 = _mm256_min_ps(_mm256_blendv_ps(_mm256_set1_ps(INFINITY), y0, m), mn1);
            mx1 = _mm256_max_ps(_mm256_blendv_ps(_mm256_set1_ps(-INFINITY), y0, m), mx1);
        }
        vit_qparams qp = vit_qparams_from_range_u8(hmin256(_mm256_min_ps(mn0, mn1)),
                                                   hmax256(_mm256_max_ps(mx0, mx1)), qmax);
        scale[i] = qp.scale;
        zp[i] = qp.zero_point;
        vit_quantize_u8_avx2(tmp, (size_t)dim, 1.0f / qp.scale, qp.zero_point,
                             out + (size_t)i * ldo);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Attention */

/* The register tile: ATT_MR query rows x ATT_NV vectors of 8 (keys for the scores, head dims
 * for p v), ATT_MR * ATT_NV accumulators. 6 x 2 by default (see the file's comment and
 * tools/bench_opt_ops.c); other shapes can be compiled in for measuring. */
#ifndef ATT_MR
#define ATT_MR 6
#endif
#ifndef ATT_NV
#define ATT_NV 2
#endif
#if ATT_MR < 1 || ATT_MR > VIT_OPT_ATT_ROWS || ATT_NV < 1 || ATT_NV > 4
#error "attention tile: 1..6 rows of 1..4 vectors"
#endif
#define ATT_ROWS VIT_OPT_ATT_ROWS /* query rows per block: what the scratch s holds */

#define ACC_ROW(i) __m256 a##i##0, a##i##1, a##i##2, a##i##3
#define ZERO_ROW(i) a##i##0 = a##i##1 = a##i##2 = a##i##3 = _mm256_setzero_ps()
#define FMA_ROW(i, c0, c1, c2, c3, src)                                                        \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m256 x_ = _mm256_broadcast_ss(src);                                        \
            a##i##0 = _mm256_fmadd_ps(x_, c0, a##i##0);                                        \
            if (nv > 1)                                                                        \
                a##i##1 = _mm256_fmadd_ps(x_, c1, a##i##1);                                    \
            if (nv > 2)                                                                        \
                a##i##2 = _mm256_fmadd_ps(x_, c2, a##i##2);                                    \
            if (nv > 3)                                                                        \
                a##i##3 = _mm256_fmadd_ps(x_, c3, a##i##3);                                    \
        }                                                                                      \
    } while (0)
#define STORE_ROW(i, base, ld, scl)                                                            \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            float *p_ = (base) + (size_t)(i) * (ld);                                           \
            const __m256 f_ = (scl);                                                           \
            _mm256_storeu_ps(p_, _mm256_mul_ps(a##i##0, f_));                                  \
            if (nv > 1)                                                                        \
                _mm256_storeu_ps(p_ + 8, _mm256_mul_ps(a##i##1, f_));                          \
            if (nv > 2)                                                                        \
                _mm256_storeu_ps(p_ + 16, _mm256_mul_ps(a##i##2, f_));                         \
            if (nv > 3)                                                                        \
                _mm256_storeu_ps(p_ + 24, _mm256_mul_ps(a##i##3, f_));                         \
        }                                                                                      \
    } while (0)
#define ACC_ALL                                                                                \
    ACC_ROW(0);                                                                                \
    ACC_ROW(1);                                                                                \
    ACC_ROW(2);                                                                                \
    ACC_ROW(3);                                                                                \
    ACC_ROW(4);                                                                                \
    ACC_ROW(5);                                                                                \
    ZERO_ROW(0);                                                                               \
    ZERO_ROW(1);                                                                               \
    ZERO_ROW(2);                                                                               \
    ZERO_ROW(3);                                                                               \
    ZERO_ROW(4);                                                                               \
    ZERO_ROW(5)

/* s[r][0 .. 8 nv) = q_r . k_j for mr rows (kt at the tile's first key): the k^T rows are
 * vectors, each q element a broadcast; fma per d from 0, the reference's order. */
static ALWAYS_INLINE void scores_tile(const int mr, const int nv, const float *q, int32_t ldq,
                                      const float *kt, int32_t tpad, int32_t hd, float *s)
{
    ACC_ALL;
    __m256 k0, k1 = _mm256_setzero_ps(), k2 = k1, k3 = k1;
    for (int32_t d = 0; d < hd; d++) {
        const float *kd = kt + (size_t)d * tpad;
        k0 = _mm256_loadu_ps(kd);
        if (nv > 1)
            k1 = _mm256_loadu_ps(kd + 8);
        if (nv > 2)
            k2 = _mm256_loadu_ps(kd + 16);
        if (nv > 3)
            k3 = _mm256_loadu_ps(kd + 24);
        FMA_ROW(0, k0, k1, k2, k3, q + d);
        FMA_ROW(1, k0, k1, k2, k3, q + ldq + d);
        FMA_ROW(2, k0, k1, k2, k3, q + 2 * ldq + d);
        FMA_ROW(3, k0, k1, k2, k3, q + 3 * ldq + d);
        FMA_ROW(4, k0, k1, k2, k3, q + 4 * ldq + d);
        FMA_ROW(5, k0, k1, k2, k3, q + 5 * ldq + d);
    }
    const __m256 one = _mm256_set1_ps(1.0f);
    STORE_ROW(0, s, tpad, one);
    STORE_ROW(1, s, tpad, one);
    STORE_ROW(2, s, tpad, one);
    STORE_ROW(3, s, tpad, one);
    STORE_ROW(4, s, tpad, one);
    STORE_ROW(5, s, tpad, one);
}

/* ctx[r][0 .. 8 nv) = (sum_j p[r][j] v_j) * inv[r] for mr rows (v, ctx at the tile's first
 * head dim): fma per key from 0, the reference's order. */
static ALWAYS_INLINE void pv_tile(const int mr, const int nv, const float *p, int32_t tpad,
                                  const float *v, int32_t ldv, int32_t T, const float *inv,
                                  float *ctx, int32_t ldc)
{
    ACC_ALL;
    __m256 v0, v1 = _mm256_setzero_ps(), v2 = v1, v3 = v1;
    for (int32_t j = 0; j < T; j++) {
        const float *vj = v + (size_t)j * ldv;
        v0 = _mm256_loadu_ps(vj);
        if (nv > 1)
            v1 = _mm256_loadu_ps(vj + 8);
        if (nv > 2)
            v2 = _mm256_loadu_ps(vj + 16);
        if (nv > 3)
            v3 = _mm256_loadu_ps(vj + 24);
        FMA_ROW(0, v0, v1, v2, v3, p + j);
        FMA_ROW(1, v0, v1, v2, v3, p + tpad + j);
        FMA_ROW(2, v0, v1, v2, v3, p + 2 * tpad + j);
        FMA_ROW(3, v0, v1, v2, v3, p + 3 * tpad + j);
        FMA_ROW(4, v0, v1, v2, v3, p + 4 * tpad + j);
        FMA_ROW(5, v0, v1, v2, v3, p + 5 * tpad + j);
    }
    STORE_ROW(0, ctx, ldc, _mm256_set1_ps(inv[0]));
    STORE_ROW(1, ctx, ldc, _mm256_set1_ps(inv[mr > 1 ? 1 : 0]));
    STORE_ROW(2, ctx, ldc, _mm256_set1_ps(inv[mr > 2 ? 2 : 0]));
    STORE_ROW(3, ctx, ldc, _mm256_set1_ps(inv[mr > 3 ? 3 : 0]));
    STORE_ROW(4, ctx, ldc, _mm256_set1_ps(inv[mr > 4 ? 4 : 0]));
    STORE_ROW(5, ctx, ldc, _mm256_set1_ps(inv[mr > 5 ? 5 : 0]));
}

typedef void (*scores_fn)(const float *q, int32_t ldq, const float *kt, int32_t tpad, int32_t hd,
                          float *s);
typedef void (*pv_fn)(const float *p, int32_t tpad, const float *v, int32_t ldv, int32_t T,
                      const float *inv, float *ctx, int32_t ldc);
/* one function per (rows, vectors) shape, so that every branch on mr and nv folds away */
#define TILE(mr, nv)                                                                           \
    static void scores_##mr##x##nv(const float *q, int32_t ldq, const float *kt, int32_t tpad,   \
                                   int32_t hd, float *s)                                       \
    {                                                                                          \
        scores_tile(mr, nv, q, ldq, kt, tpad, hd, s);                                          \
    }                                                                                          \
    static void pv_##mr##x##nv(const float *p, int32_t tpad, const float *v, int32_t ldv,       \
                               int32_t T, const float *inv, float *ctx, int32_t ldc)           \
    {                                                                                          \
        pv_tile(mr, nv, p, tpad, v, ldv, T, inv, ctx, ldc);                                    \
    }
#if ATT_NV == 1
#define TILES(mr) TILE(mr, 1)
#define SROW(mr) {scores_##mr##x1}
#define PROW(mr) {pv_##mr##x1}
#elif ATT_NV == 2
#define TILES(mr) TILE(mr, 1) TILE(mr, 2)
#define SROW(mr) {scores_##mr##x1, scores_##mr##x2}
#define PROW(mr) {pv_##mr##x1, pv_##mr##x2}
#elif ATT_NV == 3
#define TILES(mr) TILE(mr, 1) TILE(mr, 2) TILE(mr, 3)
#define SROW(mr) {scores_##mr##x1, scores_##mr##x2, scores_##mr##x3}
#define PROW(mr) {pv_##mr##x1, pv_##mr##x2, pv_##mr##x3}
#else
#define TILES(mr) TILE(mr, 1) TILE(mr, 2) TILE(mr, 3) TILE(mr, 4)
#define SROW(mr) {scores_##mr##x1, scores_##mr##x2, scores_##mr##x3, scores_##mr##x4}
#define PROW(mr) {pv_##mr##x1, pv_##mr##x2, pv_##mr##x3, pv_##mr##x4}
#endif
TILES(1)
#if ATT_MR > 1
TILES(2)
#endif
#if ATT_MR > 2
TILES(3)
#endif
#if ATT_MR > 3
TILES(4)
#endif
#if ATT_MR > 4
TILES(5)
#endif
#if ATT_MR > 5
TILES(6)
#endif
static const scores_fn scores_tiles[ATT_MR][ATT_NV] = {
    SROW(1),
#if ATT_MR > 1
    SROW(2),
#endif
#if ATT_MR > 2
    SROW(3),
#endif
#if ATT_MR > 3
    SROW(4),
#endif
#if ATT_MR > 4
    SROW(5),
#endif
#if ATT_MR > 5
    SROW(6),
#endif
};
static const pv_fn pv_tiles[ATT_MR][ATT_NV] = {
    PROW(1),
#if ATT_MR > 1
    PROW(2),
#endif
#if ATT_MR > 2
    PROW(3),
#endif
#if ATT_MR > 3
    PROW(4),
#endif
#if ATT_MR > 4
    PROW(5),
#endif
#if ATT_MR > 5
    PROW(6),
#endif
};

/* Softmax of one row of scores over its T keys, in place: p_j = exp(s_j - max), returns
 * 1 / sum_j p_j. Lanes past T (up to the next multiple of 8, inside the row's tpad: the scores
 * computed them) are computed and stored but neither counted nor read by p v. */
static ALWAYS_INLINE float softmax_row(float *sr, int32_t T)
{
    const int32_t full = T & ~7;
    const __m256i tmk = tail_mask((size_t)(T - full));
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
    int32_t j = 0;
    for (; j + 16 <= full; j += 16) {
        m0 = _mm256_max_ps(_mm256_loadu_ps(sr + j), m0);
        m1 = _mm256_max_ps(_mm256_loadu_ps(sr + j + 8), m1);
    }
    if (j < full)
        m0 = _mm256_max_ps(_mm256_loadu_ps(sr + j), m0);
    if (full < T)
        m1 = _mm256_max_ps(_mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_loadu_ps(sr + full),
                                            _mm256_castsi256_ps(tmk)),
                           m1);
    const __m256 mx = _mm256_set1_ps(hmax256(_mm256_max_ps(m0, m1)));
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    for (j = 0; j + 16 <= full; j += 16) {
        __m256 e0 = exp256(_mm256_sub_ps(_mm256_loadu_ps(sr + j), mx));
        __m256 e1 = exp256(_mm256_sub_ps(_mm256_loadu_ps(sr + j + 8), mx));
        _mm256_storeu_ps(sr + j, e0);
        _mm256_storeu_ps(sr + j + 8, e1);
        s0 = _mm256_add_ps(s0, e0);
        s1 = _mm256_add_ps(s1, e1);
    }
    if (j < full) {
        __m256 e0 = exp256(_mm256_sub_ps(_mm256_loadu_ps(sr + j), mx));
        _mm256_storeu_ps(sr + j, e0);
        s0 = _mm256_add_ps(s0, e0);
    }
    if (full < T) {
        __m256 e1 = exp256(_mm256_sub_ps(_mm256_loadu_ps(sr + full), mx));
        _mm256_storeu_ps(sr + full, e1);
        s1 = _mm256_add_ps(s1, _mm256_and_ps(e1, _mm256_castsi256_ps(tmk)));
    }
    return 1.0f / hsum256(_mm256_add_ps(s0, s1));
}

void vit_attention_avx2(const float *q, const float *kt, const float *v, float *ctx, int32_t T,
                        int32_t tpad, int32_t dim, int32_t hd, int32_t h, int32_t i0, int32_t i1,
                        float *s)
{
    /* the tiles need whole vectors of head dims and of (padded) keys */
    if (hd % 8 != 0 || tpad % 8 != 0 || tpad < T) {
        vit_attention_ref(q, kt, v, ctx, T, tpad, dim, hd, h, i0, i1, s);
        return;
    }
    const float *kth = kt + (size_t)h * hd * tpad;
    const float *vh = v + (size_t)h * hd;
    const int32_t kw = 8 * ATT_NV;
    /* keys up to the next multiple of 8, not all of tpad: what the softmax reads */
    const int32_t t8 = (T + 7) & ~7;
    for (int32_t i = i0; i < i1; i += ATT_ROWS) {
        const int32_t rows = i1 - i < ATT_ROWS ? i1 - i : ATT_ROWS;
        // s (rows, t8) = q_i (rows, hd) @ k^T (hd, t8), over the keys padded to 8 (k^T's padding
        // columns are zeros: finite scores that the softmax then skips)
        for (int32_t r = 0; r < rows; r += ATT_MR) {
            const int32_t mr = rows - r < ATT_MR ? rows - r : ATT_MR;
            const float *qi = q + (size_t)(i + r) * dim + (size_t)h * hd;
            for (int32_t j = 0; j < t8; j += kw) {
                const int32_t nv = (t8 - j) / 8 < ATT_NV ? (t8 - j) / 8 : ATT_NV;
                scores_tiles[mr - 1][nv - 1](qi, dim, kth + j, tpad, hd, s + (size_t)r * tpad + j);
            }
        }
        float inv[ATT_ROWS];
        for (int32_t r = 0; r < rows; r++)
            inv[r] = softmax_row(s + (size_t)r * tpad, T);
        // ctx_i[:, h] (rows, hd) = p (rows, T) @ v[:, h] (T, hd) / sum
        for (int32_t r = 0; r < rows; r += ATT_MR) {
            const int32_t mr = rows - r < ATT_MR ? rows - r : ATT_MR;
            float *ci = ctx + (size_t)(i + r) * dim + (size_t)h * hd;
            for (int32_t d = 0; d < hd; d += kw) {
                const int32_t nv = (hd - d) / 8 < ATT_NV ? (hd - d) / 8 : ATT_NV;
                pv_tiles[mr - 1][nv - 1](s + (size_t)r * tpad, tpad, vh + d, dim, T, inv + r,
                                         ci + d, dim);
            }
        }
    }
}
