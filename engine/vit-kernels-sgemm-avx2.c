/* vit-kernels-sgemm-avx2.c — the fp32 variant's AVX2 kernels: the GEMM panel, softmax rows and
 * LayerNorm. Built with -mavx2 -mfma and entered only after the runtime CPU check.
 *
 * The micro-tile: 6 rows of a times half a panel (16 columns, 2 ymm), 12 ymm accumulators; the
 * 32-column panel is two such halves. Per step of k: 6 broadcasts + 2 loads per 12 FMAs. The
 * GELU and exp are the scalar references' operation sequences in 8 lanes (bit-identical):
 * vit-math-avx2.h, which the optimized variant's AVX2 kernels share. */
#include "vit-sgemm.h"

#include "vit-math-avx2.h"
#include "vit-opt.h" /* vit_exp_fast_ref for the softmax tail */

#include <immintrin.h>
#include <math.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))
#define MR 6
#define NR VIT_SGEMM_NR

/* Lanes [0, n) set, n in 0..8. */
static ALWAYS_INLINE __m256i lane_mask(int32_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static ALWAYS_INLINE void tile(const int mr, int32_t k, const float *a, int32_t lda,
                               const float *bp, int32_t ncols, const float *bias,
                               vit_sgemm_mode mode, float *c, int32_t ldc)
{
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++) {
        c0[r] = _mm256_setzero_ps();
        c1[r] = _mm256_setzero_ps();
    }
    for (int32_t kk = 0; kk < k; kk++) {
        const __m256 b0 = _mm256_load_ps(bp + (size_t)kk * NR);
        const __m256 b1 = _mm256_load_ps(bp + (size_t)kk * NR + 8);
#pragma GCC unroll 6
        for (int r = 0; r < mr; r++) {
            const __m256 av = _mm256_broadcast_ss(a + (size_t)r * lda + kk);
            c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);
        }
    }
    const __m256i m0 = lane_mask(ncols), m1 = lane_mask(ncols - 8);
    const int full = ncols >= 16;
    __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
    if (bias) {
        bias0 = full ? _mm256_loadu_ps(bias) : _mm256_maskload_ps(bias, m0);
        bias1 = full ? _mm256_loadu_ps(bias + 8) : _mm256_maskload_ps(bias + 8, m1);
    }
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++) {
        float *cr = c + (size_t)r * ldc;
        __m256 v0 = _mm256_add_ps(c0[r], bias0), v1 = _mm256_add_ps(c1[r], bias1);
        if (mode == VIT_SEP_ADD) {
            v0 = _mm256_add_ps(full ? _mm256_loadu_ps(cr) : _mm256_maskload_ps(cr, m0), v0);
            v1 = _mm256_add_ps(full ? _mm256_loadu_ps(cr + 8) : _mm256_maskload_ps(cr + 8, m1),
                               v1);
        } else if (mode == VIT_SEP_GELU) {
            v0 = gelu256(v0);
            v1 = gelu256(v1);
        }
        if (full) {
            _mm256_storeu_ps(cr, v0);
            _mm256_storeu_ps(cr + 8, v1);
        } else {
            _mm256_maskstore_ps(cr, m0, v0);
            _mm256_maskstore_ps(cr + 8, m1, v1);
        }
    }
}

/* 16 columns (or fewer: ncols) of a panel, every row of a. */
static void half_panel(int32_t m, int32_t k, const float *a, int32_t lda, const float *bp,
                       int32_t ncols, const float *bias, vit_sgemm_mode mode, float *c,
                       int32_t ldc)
{
    int32_t i = 0;
    for (; i + MR <= m; i += MR)
        tile(MR, k, a + (size_t)i * lda, lda, bp, ncols, bias, mode, c + (size_t)i * ldc, ldc);
    const float *ai = a + (size_t)i * lda;
    float *ci = c + (size_t)i * ldc;
    switch (m - i) {
    case 1: tile(1, k, ai, lda, bp, ncols, bias, mode, ci, ldc); break;
    case 2: tile(2, k, ai, lda, bp, ncols, bias, mode, ci, ldc); break;
    case 3: tile(3, k, ai, lda, bp, ncols, bias, mode, ci, ldc); break;
    case 4: tile(4, k, ai, lda, bp, ncols, bias, mode, ci, ldc); break;
    case 5: tile(5, k, ai, lda, bp, ncols, bias, mode, ci, ldc); break;
    default: break;
    }
}

void vit_sgemm_panel_avx2(int32_t m, int32_t k, const float *a, int32_t lda, const float *bp,
                          int32_t ncols, const float *bias, vit_sgemm_mode mode, float *c,
                          int32_t ldc)
{
    half_panel(m, k, a, lda, bp, ncols < 16 ? ncols : 16, bias, mode, c, ldc);
    if (ncols > 16)
        half_panel(m, k, a, lda, bp + 16, ncols - 16, bias ? bias + 16 : NULL, mode, c + 16, ldc);
}

static ALWAYS_INLINE float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static ALWAYS_INLINE float hmax256(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

void vit_softmax_avx2(float *x, int32_t rows, int32_t cols, int32_t ld, float scale)
{
    const __m256 vs = _mm256_set1_ps(scale);
    const int32_t full = cols - cols % 8;
    for (int32_t r = 0; r < rows; r++) {
        float *xr = x + (size_t)r * ld;
        __m256 mx = _mm256_set1_ps(-INFINITY);
        for (int32_t j = 0; j < full; j += 8)
            mx = _mm256_max_ps(mx, _mm256_loadu_ps(xr + j));
        float max = hmax256(mx);
        for (int32_t j = full; j < cols; j++)
            max = xr[j] > max ? xr[j] : max;
        const __m256 vmax = _mm256_set1_ps(max);
        __m256 vsum = _mm256_setzero_ps();
        for (int32_t j = 0; j < full; j += 8) {
            const __m256 e = exp256(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), vmax), vs));
            _mm256_storeu_ps(xr + j, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        float sum = hsum256(vsum);
        for (int32_t j = full; j < cols; j++) {
            xr[j] = vit_exp_fast_ref((xr[j] - max) * scale);
            sum += xr[j];
        }
        const float inv = 1.0f / sum;
        const __m256 vinv = _mm256_set1_ps(inv);
        for (int32_t j = 0; j < full; j += 8)
            _mm256_storeu_ps(xr + j, _mm256_mul_ps(_mm256_loadu_ps(xr + j), vinv));
        for (int32_t j = full; j < cols; j++)
            xr[j] *= inv;
    }
}

void vit_layernorm_avx2(const float *x, const float *w, const float *b, float *y, int32_t rows,
                        int32_t dim)
{
    const int32_t full = dim - dim % 8;
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * dim;
        float *yr = y + (size_t)r * dim;
        __m256 s = _mm256_setzero_ps();
        for (int32_t j = 0; j < full; j += 8)
            s = _mm256_add_ps(s, _mm256_loadu_ps(xr + j));
        float sum = hsum256(s);
        for (int32_t j = full; j < dim; j++)
            sum += xr[j];
        const float mean = sum / (float)dim;
        const __m256 vm = _mm256_set1_ps(mean);
        __m256 v = _mm256_setzero_ps();
        for (int32_t j = 0; j < full; j += 8) {
            const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + j), vm);
            v = _mm256_fmadd_ps(d, d, v);
        }
        float var = hsum256(v);
        for (int32_t j = full; j < dim; j++)
            var += (xr[j] - mean) * (xr[j] - mean);
        var /= (float)dim;
        const float inv = 1.0f / sqrtf(var + 1e-6f);
        const __m256 vinv = _mm256_set1_ps(inv);
        for (int32_t j = 0; j < full; j += 8) {
            const __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), vm), vinv);
            _mm256_storeu_ps(yr + j,
                             _mm256_fmadd_ps(d, _mm256_loadu_ps(w + j), _mm256_loadu_ps(b + j)));
        }
        for (int32_t j = full; j < dim; j++)
            yr[j] = fmaf((xr[j] - mean) * inv, w[j], b[j]);
    }
}
