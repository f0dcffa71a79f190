/* vit-kernels-sgemm-avx512.c — the fp32 variant's AVX-512 kernels: the GEMM panel (12 x 32
 * micro-tile), softmax rows and LayerNorm. Built with AVX-512 flags and entered only after the
 * runtime CPU check (vit_sgemm_ops_for). References: vit-sgemm.c (GEMM, softmax) and
 * vit_layernorm in vit-forward.c.
 *
 * The micro-tile: 12 rows of a times one 32-column panel of B. Each step of k loads the panel's
 * row (2 zmm), broadcasts one element of each of the 12 rows of a and issues 24 FMAs into 24
 * zmm accumulators: 12 broadcasts + 2 loads per 24 FMAs keeps both FMA pipes busy, and 24
 * independent chains hide the FMA latency. The epilogue adds the bias and stores, adds into c,
 * or applies GELU, with masks for a partial last panel. */
#include "vit-sgemm.h"

#include "vit-math-avx512.h"

#include <immintrin.h>
#include <math.h>

#define MR 12
#define NR VIT_SGEMM_NR

static ALWAYS_INLINE void tile(const int mr, int32_t k, const float *a, int32_t lda,
                               const float *bp, __mmask16 m0, __mmask16 m1, const float *bias,
                               vit_sgemm_mode mode, float *c, int32_t ldc)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
        c0[r] = _mm512_setzero_ps();
        c1[r] = _mm512_setzero_ps();
    }
    for (int32_t kk = 0; kk < k; kk++) {
        const __m512 b0 = _mm512_load_ps(bp + (size_t)kk * NR);
        const __m512 b1 = _mm512_load_ps(bp + (size_t)kk * NR + 16);
#pragma GCC unroll 12
        for (int r = 0; r < mr; r++) {
            const __m512 av = _mm512_set1_ps(a[(size_t)r * lda + kk]);
            c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
            c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
        }
    }
    const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    const __m512 bias1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
        float *cr = c + (size_t)r * ldc;
        __m512 v0 = _mm512_add_ps(c0[r], bias0), v1 = _mm512_add_ps(c1[r], bias1);
        if (mode == VIT_SEP_ADD) {
            v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), v0);
            v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), v1);
        } else if (mode == VIT_SEP_GELU) {
            v0 = gelu512(v0);
            v1 = gelu512(v1);
        }
        _mm512_mask_storeu_ps(cr, m0, v0);
        _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
}

void vit_sgemm_panel_avx512(int32_t m, int32_t k, const float *a, int32_t lda, const float *bp,
                            int32_t ncols, const float *bias, vit_sgemm_mode mode, float *c,
                            int32_t ldc)
{
    const __mmask16 m0 = ncols >= 16 ? 0xffff : (__mmask16)((1u << ncols) - 1);
    const __mmask16 m1 = ncols >= 32   ? 0xffff
                         : ncols > 16 ? (__mmask16)((1u << (ncols - 16)) - 1)
                                      : 0;
    int32_t i = 0;
    for (; i + MR <= m; i += MR)
        tile(MR, k, a + (size_t)i * lda, lda, bp, m0, m1, bias, mode, c + (size_t)i * ldc, ldc);
    const float *ai = a + (size_t)i * lda;
    float *ci = c + (size_t)i * ldc;
    switch (m - i) {
#define TAIL(n)                                                                                    \
    case n: tile(n, k, ai, lda, bp, m0, m1, bias, mode, ci, ldc); break;
        TAIL(1) TAIL(2) TAIL(3) TAIL(4) TAIL(5) TAIL(6) TAIL(7) TAIL(8) TAIL(9) TAIL(10) TAIL(11)
#undef TAIL
    default: break;
    }
}

void vit_softmax_avx512(float *x, int32_t rows, int32_t cols, int32_t ld, float scale)
{
    const __m512 vs = _mm512_set1_ps(scale);
    const __mmask16 tail = (__mmask16)((1u << (cols % 16)) - 1);
    const int32_t full = cols - cols % 16;
    for (int32_t r = 0; r < rows; r++) {
        float *xr = x + (size_t)r * ld;
        __m512 mx = _mm512_set1_ps(-INFINITY);
        for (int32_t j = 0; j < full; j += 16)
            mx = _mm512_max_ps(mx, _mm512_loadu_ps(xr + j));
        if (tail)
            mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail, xr + full));
        const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
        __m512 sum = _mm512_setzero_ps();
        for (int32_t j = 0; j < full; j += 16) {
            const __m512 e = exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + j), vmax), vs));
            _mm512_storeu_ps(xr + j, e);
            sum = _mm512_add_ps(sum, e);
        }
        if (tail) {
            const __m512 e = _mm512_maskz_mov_ps(
                tail, exp512(_mm512_mul_ps(
                          _mm512_sub_ps(_mm512_maskz_loadu_ps(tail, xr + full), vmax), vs)));
            _mm512_mask_storeu_ps(xr + full, tail, e);
            sum = _mm512_add_ps(sum, e);
        }
        const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
        for (int32_t j = 0; j < full; j += 16)
            _mm512_storeu_ps(xr + j, _mm512_mul_ps(_mm512_loadu_ps(xr + j), inv));
        if (tail)
            _mm512_mask_storeu_ps(xr + full, tail,
                                  _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, xr + full), inv));
    }
}

/* Two passes in fp32 lanes: the mean, then the variance of the deviations (no E[x^2] - E[x]^2
 * cancellation). */
void vit_layernorm_avx512(const float *x, const float *w, const float *b, float *y,
                          int32_t rows, int32_t dim)
{
    const __mmask16 tail = (__mmask16)((1u << (dim % 16)) - 1);
    const int32_t full = dim - dim % 16;
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * dim;
        float *yr = y + (size_t)r * dim;
        __m512 s = _mm512_setzero_ps();
        for (int32_t j = 0; j < full; j += 16)
            s = _mm512_add_ps(s, _mm512_loadu_ps(xr + j));
        if (tail)
            s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(tail, xr + full));
        const float mean = _mm512_reduce_add_ps(s) / (float)dim;
        const __m512 vm = _mm512_set1_ps(mean);
        __m512 v = _mm512_setzero_ps();
        for (int32_t j = 0; j < full; j += 16) {
            const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(xr + j), vm);
            v = _mm512_fmadd_ps(d, d, v);
        }
        if (tail) {
            const __m512 d = _mm512_maskz_sub_ps(tail, _mm512_maskz_loadu_ps(tail, xr + full), vm);
            v = _mm512_fmadd_ps(d, d, v);
        }
        const float var = _mm512_reduce_add_ps(v) / (float)dim;
        const __m512 inv = _mm512_set1_ps(1.0f / sqrtf(var + 1e-6f));
        for (int32_t j = 0; j < full; j += 16) {
            const __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + j), vm), inv);
            _mm512_storeu_ps(yr + j, _mm512_fmadd_ps(d, _mm512_loadu_ps(w + j),
                                                     _mm512_loadu_ps(b + j)));
        }
        if (tail) {
            const __m512 d =
                _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, xr + full), vm), inv);
            _mm512_mask_storeu_ps(yr + full, tail,
                                  _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(tail, w + full),
                                                  _mm512_maskz_loadu_ps(tail, b + full)));
        }
    }
}
