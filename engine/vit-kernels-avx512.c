/* vit-kernels-avx512.c — every AVX-512 kernel of the engine, by the variant that uses it: the
 * fp32 GEMM panel, softmax and LayerNorm; the u8·s8→s32 micro-tile that the int8 and the
 * optimized variants share, with its epilogues; min/max and quantization; the optimized
 * variant's LayerNorm + quantization, attention (fp32 and bf16) and fast GELU / exp. Built with
 * -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mfma -mf16c and entered
 * only when vit_kernel_supported(VIT_KERNEL_AVX512_VNNI) (the bf16 attention only when the CPU
 * also has AVX512_BF16). Every function matches its _ref in vit-kernels-ref.c: bit for bit, or,
 * for sums that run in 16 lanes (LayerNorm, attention), to float rounding. The fast math is
 * vit-math-avx512.h. */
#include "vit-math-avx512.h"
#include "vit-opt.h"
#include "vit-quant.h"
#include "vit-sgemm.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * fp32: the GEMM panel (12 x 32 micro-tile), softmax rows and LayerNorm
 *
 * The micro-tile: 12 rows of a times one 32-column panel of B. Each step of k loads the panel's
 * row (2 zmm), broadcasts one element of each of the 12 rows of a and issues 24 FMAs into 24
 * zmm accumulators: 12 broadcasts + 2 loads per 24 FMAs keeps both FMA pipes busy, and 24
 * independent chains hide the FMA latency. The epilogue adds the bias and stores, adds into c,
 * or applies GELU, with masks for a partial last panel. */

#define SG_MR 12
#define NR VIT_SGEMM_NR

static ALWAYS_INLINE void sgemm_tile(const int mr, int32_t k, const float *a, int32_t lda,
                               const float *bp, __mmask16 m0, __mmask16 m1, const float *bias,
                               vit_sgemm_mode mode, float *c, int32_t ldc)
{
    __m512 c0[SG_MR], c1[SG_MR];
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
    for (; i + SG_MR <= m; i += SG_MR)
        sgemm_tile(SG_MR, k, a + (size_t)i * lda, lda, bp, m0, m1, bias, mode, c + (size_t)i * ldc, ldc);
    const float *ai = a + (size_t)i * lda;
    float *ci = c + (size_t)i * ldc;
    switch (m - i) {
#define TAIL(n)                                                                                    \
    case n: sgemm_tile(n, k, ai, lda, bp, m0, m1, bias, mode, ci, ldc); break;
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
                          int32_t rows, int32_t dim, float eps)
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
        const __m512 inv = _mm512_set1_ps(1.0f / sqrtf(var + eps));
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

/* ---------------------------------------------------------------------------------------------
 * int8 */

#define MR VIT_OPT_MR       /* rows per micro-tile: 6 (VIT_AVX512_MR for the int8 variant) */
#define NV VIT_AVX512_PANEL /* zmm vectors per tile: 4 (64 columns, one packed panel) */
#define VC VIT_AVX512_VEC   /* int32 columns per vector: 16 */
_Static_assert(VIT_OPT_MR == VIT_AVX512_MR, "the int8 and optimized variants share the tile");

static ALWAYS_INLINE int32_t load_u32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* acc += a (u8) . b (s8), four products per int32 lane. A one-instruction asm instead of
 * _mm512_dpbusd_epi32: GCC 12 copies the accumulator of that builtin to another register and
 * to the stack on every use (3 extra moves and a store per vpdpbusd, a 2.5x slowdown here). */
static ALWAYS_INLINE __m512i dpbusd(__m512i acc, __m512i a, __m512i b)
{
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}

/* The u8·s8→s32 GEMM, one micro-tile for both int8 variants.
 *
 * B is packed (vit-quant.c) in panels of 64 columns; for every group of 4 k a panel holds 4 zmm
 * of 16 columns x 4 bytes. The micro-tile keeps 6 rows x 64 columns of int32 sums in 24 zmm
 * accumulators; per group of 4 k it loads 4 B vectors and broadcasts 4 bytes of each of the 6
 * A rows, for 24 vpdpbusd (64 multiply-adds each). vpdpbusd adds its four u8*s8 products in
 * int32, so it cannot saturate: the sums are exact, like the reference's.
 *
 * With an epilogue the sums start at -a_zp[row] * row_sum[col] (the same int32 as subtracting
 * it at the end, one instruction less per output vector), and the tile ends in the optimized
 * variant's epilogues: v = fma((float)acc, a_scale[row] * w_scale[col], bias[col]), stored,
 * added into the residual stream, through GELU, or into q / k^T / v. The int8 variant is the
 * STORE epilogue with one a_scale and a_zp for every row (a_step 0; vit_qepilogue), or no
 * epilogue at all: the raw int32 sums into C (vit_gemm_u8s8s32). */

typedef struct {
    const uint8_t *a; /* row `row` of A, k = 0 */
    size_t lda;
    const int8_t *b;
    size_t bstride;
    int32_t kg, ktail;
    int32_t col;        /* column of lane 0 of vector 0 */
    int32_t row;        /* absolute row of the tile's row 0 */
    __mmask16 mask[NV]; /* columns of each vector to write */
    const vit_oepilogue *ep; /* the epilogue, or NULL: the raw int32 sums into c */
    const float *a_scale;    /* row r's activation scale at a_scale[r * a_step] */
    const int32_t *a_zp;     /* and zero point at a_zp[r * a_step] */
    int32_t a_step;          /* 1: per row (optimized); 0: one for all rows (int8) */
    int32_t *c;              /* raw: C (int32) at row 0, column 0 */
    size_t ldc;
} tile_args;

#define ACC_ROW(i) __m512i c##i##0, c##i##1, c##i##2, c##i##3
#define ZERO_ROW(i) c##i##0 = c##i##1 = c##i##2 = c##i##3 = _mm512_setzero_si512()
#define INIT_ROW(i)                                                                            \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m512i nzp_ = _mm512_set1_epi32(-t->a_zp[(t->row + i) * t->a_step]);        \
            c##i##0 = _mm512_mullo_epi32(nzp_, rs0);                                           \
            c##i##1 = nv > 1 ? _mm512_mullo_epi32(nzp_, rs1) : rs1;                            \
            c##i##2 = nv > 2 ? _mm512_mullo_epi32(nzp_, rs2) : rs2;                            \
            c##i##3 = nv > 3 ? _mm512_mullo_epi32(nzp_, rs3) : rs3;                            \
        } else {                                                                               \
            c##i##0 = c##i##1 = c##i##2 = c##i##3 = _mm512_setzero_si512();                    \
        }                                                                                      \
    } while (0)
#define DP_ROW(i, av)                                                                          \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m512i a_ = (av);                                                           \
            c##i##0 = dpbusd(c##i##0, a_, b0);                                                 \
            if (nv > 1)                                                                        \
                c##i##1 = dpbusd(c##i##1, a_, b1);                                             \
            if (nv > 2)                                                                        \
                c##i##2 = dpbusd(c##i##2, a_, b2);                                             \
            if (nv > 3)                                                                        \
                c##i##3 = dpbusd(c##i##3, a_, b3);                                             \
        }                                                                                      \
    } while (0)
#define LOAD_B(ptr)                                                                            \
    do {                                                                                       \
        b0 = _mm512_load_si512((const void *)(ptr));                                           \
        if (nv > 1)                                                                            \
            b1 = _mm512_load_si512((const void *)((ptr) + 64));                                \
        if (nv > 2)                                                                            \
            b2 = _mm512_load_si512((const void *)((ptr) + 128));                               \
        if (nv > 3)                                                                            \
            b3 = _mm512_load_si512((const void *)((ptr) + 192));                               \
    } while (0)
#define BCAST(i) _mm512_set1_epi32(load_u32(a + (i)*lda))

static ALWAYS_INLINE __m512i bcast_tail(const uint8_t *p, int32_t bytes)
{
    int32_t v = 0;
    memcpy(&v, p, (size_t)bytes);
    return _mm512_set1_epi32(v);
}

/* Write one dequantized vector (row i of the tile, vector j) where the mode says. */
static ALWAYS_INLINE void put_vec(const tile_args *t, int i, int j, __m512 val)
{
    const vit_oepilogue *ep = t->ep;
    const int32_t row = t->row + i, col = t->col + j * VC;
    const __mmask16 mk = t->mask[j];
    switch (ep->mode) {
    case VIT_OEP_STORE:
    case VIT_OEP_GELU: /* GELU is applied over the stored tile afterwards */
        _mm512_mask_storeu_ps(ep->y + (size_t)row * ep->ldy + col, mk, val);
        break;
    case VIT_OEP_ADD: {
        float *y = ep->y + (size_t)row * ep->ldy + col;
        _mm512_mask_storeu_ps(y, mk, _mm512_add_ps(_mm512_maskz_loadu_ps(mk, y), val));
        break;
    }
    case VIT_OEP_QKV: {
        const int32_t D = ep->dim;
        if (ep->bf16) {
            if (col < D) {
                const __m256i h16 = (__m256i)_mm512_cvtneps_pbh(val);
                _mm256_mask_storeu_epi16(ep->q16 + (size_t)row * D + col, mk, h16);
            } else if (col < 2 * D) {
                /* k^T row pairs: dword m of the 16 bf16 is columns (c + 2m, c + 2m + 1), which
                 * go to k16[(c / 2 + m) * tpad + row] (in dwords) */
                const __m256i h16 = (__m256i)_mm512_cvtneps_pbh(val);
                const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                                       _mm256_set1_epi32(ep->tpad));
                __mmask8 m8 = 0;
                for (int l = 0; l < 8; l++)
                    m8 |= (__mmask8)(((mk >> (2 * l)) & 3) ? 1u << l : 0);
                uint32_t *base = (uint32_t *)ep->k16 + (size_t)((col - D) / 2) * ep->tpad + row;
                _mm256_mask_i32scatter_epi32(base, m8, idx, h16, 4);
            } else {
                /* fp32 staging: paired with the next row after the tile (tile_v_pairs) */
                _mm512_mask_storeu_ps(ep->v + (size_t)row * D + (col - 2 * D), mk, val);
            }
            break;
        }
        if (col < D) {
            _mm512_mask_storeu_ps(ep->q + (size_t)row * D + col, mk, val);
        } else if (col < 2 * D) {
            /* k^T: lane l goes to kt[(col - D + l) * tpad + row] */
            const __m512i idx = _mm512_mullo_epi32(
                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                _mm512_set1_epi32(ep->tpad));
            _mm512_mask_i32scatter_ps(ep->kt + (size_t)(col - D) * ep->tpad + row, mk, idx, val,
                                      4);
        } else {
            _mm512_mask_storeu_ps(ep->v + (size_t)row * D + (col - 2 * D), mk, val);
        }
        break;
    }
    }
}

/* v16 for the bf16 attention: the tile's v rows (i, i + 1), from the fp32 staging, as pairs of
 * bf16 per column; the last row of an odd count pairs with zeros (its probability is 0). */
static void tile_v_pairs(const int mr, const int nv, const tile_args *t)
{
    static const uint16_t inter[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const vit_oepilogue *ep = t->ep;
    const int32_t D = ep->dim, hd = ep->hd;
    const __m512i perm = _mm512_loadu_si512(inter);
    for (int j = 0; j < nv; j++) {
        const int32_t col = t->col + j * VC;
        if (col < 2 * D)
            continue;
        const int32_t c = col - 2 * D, h = c / hd, d0 = c % hd;
        uint16_t *vb = ep->v16 + (size_t)h * (size_t)(ep->tpad / 2) * hd * 2;
        for (int i = 0; i < mr; i += 2) {
            const int32_t row = t->row + i;
            const __m512 a = _mm512_loadu_ps(ep->v + (size_t)row * D + c);
            const __m512 b =
                i + 1 < mr ? _mm512_loadu_ps(ep->v + (size_t)(row + 1) * D + c) : _mm512_setzero_ps();
            /* words 0..15 = bf16(a), 16..31 = bf16(b); interleaved: a0 b0 a1 b1 ... */
            const __m512i ab = _mm512_permutexvar_epi16(perm, (__m512i)_mm512_cvtne2ps_pbh(b, a));
            _mm512_storeu_si512(vb + ((size_t)(row / 2) * hd + d0) * 2, ab);
        }
    }
}

static ALWAYS_INLINE void tile(const int mr, const int nv, const tile_args *t)
{
    const vit_oepilogue *ep = t->ep;
    ACC_ROW(0);
    ACC_ROW(1);
    ACC_ROW(2);
    ACC_ROW(3);
    ACC_ROW(4);
    ACC_ROW(5);
    if (!ep) {
        ZERO_ROW(0);
        ZERO_ROW(1);
        ZERO_ROW(2);
        ZERO_ROW(3);
        ZERO_ROW(4);
        ZERO_ROW(5);
    } else {
        /* the sums start at -a_zp[row] * row_sum[col]: acc - zp * row_sum exactly, in int32 */
        const int32_t *rs = ep->row_sum + t->col;
        const __m512i rs0 = _mm512_maskz_loadu_epi32(t->mask[0], rs);
        const __m512i rs1 = nv > 1 ? _mm512_maskz_loadu_epi32(t->mask[1], rs + VC)
                                   : _mm512_setzero_si512();
        const __m512i rs2 = nv > 2 ? _mm512_maskz_loadu_epi32(t->mask[2], rs + 2 * VC)
                                   : _mm512_setzero_si512();
        const __m512i rs3 = nv > 3 ? _mm512_maskz_loadu_epi32(t->mask[3], rs + 3 * VC)
                                   : _mm512_setzero_si512();
        INIT_ROW(0);
        INIT_ROW(1);
        INIT_ROW(2);
        INIT_ROW(3);
        INIT_ROW(4);
        INIT_ROW(5);
    }
    __m512i b0, b1 = _mm512_setzero_si512(), b2 = b1, b3 = b1;
    const uint8_t *a = t->a;
    const int8_t *b = t->b;
    const size_t lda = t->lda, bstride = t->bstride;
    for (int32_t g = t->kg; g > 0; g--) {
        LOAD_B(b);
        DP_ROW(0, BCAST(0));
        DP_ROW(1, BCAST(1));
        DP_ROW(2, BCAST(2));
        DP_ROW(3, BCAST(3));
        DP_ROW(4, BCAST(4));
        DP_ROW(5, BCAST(5));
        a += 4;
        b += bstride;
    }
    if (t->ktail) {
        const int32_t kt = t->ktail;
        LOAD_B(b);
        DP_ROW(0, bcast_tail(a, kt));
        DP_ROW(1, bcast_tail(a + lda, kt));
        DP_ROW(2, bcast_tail(a + 2 * lda, kt));
        DP_ROW(3, bcast_tail(a + 3 * lda, kt));
        DP_ROW(4, bcast_tail(a + 4 * lda, kt));
        DP_ROW(5, bcast_tail(a + 5 * lda, kt));
    }

    if (!ep) { /* the raw int32 sums */
#define RAW_ROW(i)                                                                             \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            int32_t *c_ = t->c + (size_t)(t->row + i) * t->ldc + t->col;                       \
            _mm512_mask_storeu_epi32(c_, t->mask[0], c##i##0);                                 \
            if (nv > 1)                                                                        \
                _mm512_mask_storeu_epi32(c_ + VC, t->mask[1], c##i##1);                        \
            if (nv > 2)                                                                        \
                _mm512_mask_storeu_epi32(c_ + 2 * VC, t->mask[2], c##i##2);                    \
            if (nv > 3)                                                                        \
                _mm512_mask_storeu_epi32(c_ + 3 * VC, t->mask[3], c##i##3);                    \
        }                                                                                      \
    } while (0)
        RAW_ROW(0);
        RAW_ROW(1);
        RAW_ROW(2);
        RAW_ROW(3);
        RAW_ROW(4);
        RAW_ROW(5);
#undef RAW_ROW
        return;
    }
    /* epilogue: val = fma((float)acc, a_scale[row] * w_scale[col], bias[col]) */
    __m512 ws[NV], bias[NV];
    for (int j = 0; j < nv; j++) {
        ws[j] = _mm512_maskz_loadu_ps(t->mask[j], ep->w_scale + t->col + j * VC);
        bias[j] = _mm512_maskz_loadu_ps(t->mask[j], ep->bias + t->col + j * VC);
    }
#define PUT_ROW(i)                                                                             \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m512 as_ = _mm512_set1_ps(t->a_scale[(t->row + i) * t->a_step]);           \
            put_vec(t, i, 0,                                                                   \
                    _mm512_fmadd_ps(_mm512_cvtepi32_ps(c##i##0), _mm512_mul_ps(as_, ws[0]),    \
                                    bias[0]));                                                 \
            if (nv > 1)                                                                        \
                put_vec(t, i, 1,                                                               \
                        _mm512_fmadd_ps(_mm512_cvtepi32_ps(c##i##1),                           \
                                        _mm512_mul_ps(as_, ws[1]), bias[1]));                  \
            if (nv > 2)                                                                        \
                put_vec(t, i, 2,                                                               \
                        _mm512_fmadd_ps(_mm512_cvtepi32_ps(c##i##2),                           \
                                        _mm512_mul_ps(as_, ws[2]), bias[2]));                  \
            if (nv > 3)                                                                        \
                put_vec(t, i, 3,                                                               \
                        _mm512_fmadd_ps(_mm512_cvtepi32_ps(c##i##3),                           \
                                        _mm512_mul_ps(as_, ws[3]), bias[3]));                  \
        }                                                                                      \
    } while (0)
    PUT_ROW(0);
    PUT_ROW(1);
    PUT_ROW(2);
    PUT_ROW(3);
    PUT_ROW(4);
    PUT_ROW(5);
#undef PUT_ROW
    if (ep->mode == VIT_OEP_QKV && ep->bf16)
        tile_v_pairs(mr, nv, t);
    if (ep->mode == VIT_OEP_GELU) {
        /* the tile is in L1: GELU in place, a vector at a time, and each row's min and max over
         * the panel for the quantization that follows */
        for (int i = 0; i < mr; i++) {
            __m512 mn = _mm512_set1_ps(INFINITY), mx = _mm512_set1_ps(-INFINITY);
            for (int j = 0; j < nv; j++) {
                float *y = ep->y + (size_t)(t->row + i) * ep->ldy + t->col + j * VC;
                const __m512 g = gelu512(_mm512_maskz_loadu_ps(t->mask[j], y));
                _mm512_mask_storeu_ps(y, t->mask[j], g);
                mn = _mm512_mask_min_ps(mn, t->mask[j], g, mn);
                mx = _mm512_mask_max_ps(mx, t->mask[j], g, mx);
            }
            if (ep->row_mm) {
                float *mm = ep->row_mm + ((size_t)(t->row + i) * ep->mm_ld + t->col / VIT_OPT_PW) * 2;
                mm[0] = _mm512_reduce_min_ps(mn);
                mm[1] = _mm512_reduce_max_ps(mx);
            }
        }
    }
}

typedef void (*tile_fn)(const tile_args *t);
#define TILE(mr, nv)                                                                           \
    static void tile_##mr##x##nv(const tile_args *t) { tile(mr, nv, t); }
#define TILES(mr) TILE(mr, 1) TILE(mr, 2) TILE(mr, 3) TILE(mr, 4)
TILES(1) TILES(2) TILES(3) TILES(4) TILES(5) TILES(6)
#define TROW(mr) {tile_##mr##x1, tile_##mr##x2, tile_##mr##x3, tile_##mr##x4}
static const tile_fn tiles[MR + 1][NV] = {
    {0}, TROW(1), TROW(2), TROW(3), TROW(4), TROW(5), TROW(6),
};

static __mmask16 lane_mask(int32_t vec_col, int32_t n0, int32_t n1)
{
    int32_t lo = n0 > vec_col ? n0 - vec_col : 0;
    int32_t hi = n1 - vec_col < VC ? n1 - vec_col : VC;
    if (hi <= lo)
        return 0;
    return (__mmask16)((((uint32_t)1 << hi) - 1) & ~(((uint32_t)1 << lo) - 1));
}

/* Rows [r0, r1) x columns [n0, n1) through tile t's epilogue (or raw), panel by panel: B's panel
 * stays in L1/L2 while every row block streams past it. */
static void gemm(int32_t r0, int32_t r1, const uint8_t *a, int32_t lda, const vit_qlinear *b,
                 int32_t n0, int32_t n1, tile_args *t)
{
    const int32_t n = b->n, k = b->k, pw = VC * NV;
    const int32_t kgroups = (k + 3) / 4;
    const int8_t *packed = b->packed;
    t->lda = (size_t)lda;
    t->kg = k / 4;
    t->ktail = k % 4;
    for (int32_t col = n0 - n0 % VC; col < n1;) {
        int32_t pstart = col - col % pw;
        int32_t wv = (n - pstart + VC - 1) / VC; /* vectors in this panel */
        if (wv > NV)
            wv = NV;
        int32_t vfirst = (col - pstart) / VC;
        int32_t vend = (n1 - pstart + VC - 1) / VC;
        if (vend > wv)
            vend = wv;
        int32_t nv = vend - vfirst;
        t->b = packed + vit_pack_panel_offset(pstart, VC, NV, kgroups) + (size_t)vfirst * 64;
        t->bstride = (size_t)wv * 64;
        t->col = col;
        for (int j = 0; j < NV; j++)
            t->mask[j] = j < nv ? lane_mask(col + j * VC, n0, n1) : 0;
        for (int32_t i = r0; i < r1; i += MR) {
            int32_t mr = r1 - i < MR ? r1 - i : MR;
            t->a = a + (size_t)i * (size_t)lda;
            t->row = i;
            tiles[mr][nv - 1](t);
        }
        col = pstart + vend * VC;
    }
}

void vit_opt_gemm_avx512(int32_t r0, int32_t r1, const uint8_t *a, int32_t lda,
                         const vit_qlinear *b, int32_t n0, int32_t n1, const vit_oepilogue *ep,
                         void *scratch)
{
    if (ep->mode == VIT_OEP_QKV && ep->dim % VC != 0) {
        /* a vector would straddle q, k and v: the raw sums of tiles of at most 8 rows x 64
         * columns into scratch (VIT_OPT_GEMM_SCRATCH), then the reference epilogue, element by
         * element, while the tile is in L1 */
        int32_t *acc = scratch;
        for (int32_t c0 = n0; c0 < n1; c0 += VIT_OPT_PW) {
            const int32_t c1 = c0 + VIT_OPT_PW < n1 ? c0 + VIT_OPT_PW : n1;
            for (int32_t i = r0; i < r1; i += 8) {
                const int32_t i1 = i + 8 < r1 ? i + 8 : r1;
                tile_args t = {.c = acc - c0, .ldc = VIT_OPT_PW};
                gemm(0, i1 - i, a + (size_t)i * (size_t)lda, lda, b, c0, c1, &t);
                vit_opt_epilogue_ref(i, i1, c0, c1, acc, VIT_OPT_PW, ep);
            }
        }
        return;
    }
    tile_args t = {.ep = ep, .a_scale = ep->a_scale, .a_zp = ep->a_zp, .a_step = 1};
    gemm(r0, r1, a, lda, b, n0, n1, &t);
}

/* The int8 variant's kernel: the raw sums, or the STORE epilogue with one activation scale and
 * zero point for every row. */
void vit_gemm_u8s8s32_avx512(int32_t m, const uint8_t *a, int32_t lda, const vit_qlinear *b,
                             int32_t n0, int32_t n1, int32_t *c, int32_t ldc,
                             const vit_qepilogue *ep)
{
    tile_args t = {.c = c, .ldc = (size_t)ldc};
    vit_oepilogue e;
    if (ep) {
        e = (vit_oepilogue){.mode = VIT_OEP_STORE, .a_scale = &ep->a_scale, .a_zp = &ep->a_zp,
                            .w_scale = ep->w_scale, .row_sum = ep->row_sum, .bias = ep->bias,
                            .y = ep->y, .ldy = ep->ldy};
        t = (tile_args){.ep = &e, .a_scale = &ep->a_scale, .a_zp = &ep->a_zp, .a_step = 0};
    }
    gemm(0, m, a, lda, b, n0, n1, &t);
}

/* ---------------------------------------------------------------------------------------------
 * The optimized variant's fast GELU and exp (vit-math-avx512.h) over arrays */

/* y = f(x) over n floats, 16 at a time and a masked tail (f inlined: a constant here) */
static ALWAYS_INLINE void map512(__m512 (*f)(__m512), const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 mk = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, mk, f(_mm512_maskz_loadu_ps(mk, x + i)));
    }
}

void vit_gelu_avx512(const float *x, float *y, size_t n)
{
    map512(gelu512, x, y, n);
}

void vit_exp_avx512(const float *x, float *y, size_t n)
{
    map512(exp512, x, y, n);
}

/* ---------------------------------------------------------------------------------------------
 * min/max and quantization: memory-bound passes */

void vit_minmax_f32_avx512(const float *x, size_t count, float *min, float *max)
{
    /* _mm512_min_ps(v, acc) returns acc when v is NaN: NaNs are skipped as in the _ref */
    __m512 mn0 = _mm512_set1_ps(INFINITY), mn1 = mn0, mx0 = _mm512_set1_ps(-INFINITY), mx1 = mx0;
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
        mn0 = _mm512_min_ps(v0, mn0);
        mx0 = _mm512_max_ps(v0, mx0);
        mn1 = _mm512_min_ps(v1, mn1);
        mx1 = _mm512_max_ps(v1, mx1);
    }
    for (; i < count; i += 16) {
        size_t left = count - i;
        __mmask16 mk = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512 v = _mm512_maskz_loadu_ps(mk, x + i);
        mn0 = _mm512_mask_min_ps(mn0, mk, v, mn0);
        mx0 = _mm512_mask_max_ps(mx0, mk, v, mx0);
    }
    mn0 = _mm512_min_ps(mn0, mn1);
    mx0 = _mm512_max_ps(mx0, mx1);
    *min = _mm512_reduce_min_ps(mn0);
    *max = _mm512_reduce_max_ps(mx0);
}

void vit_quantize_u8_avx512(const float *x, size_t count, float inv_scale, int32_t zp,
                            uint8_t *out)
{
    /* max(t, lo) then min(t, hi), NaN -> lo, then cvtps2dq (round half to even, the default
     * MXCSR mode, as round_even in the _ref), + zp, and truncate to bytes (already in 0..255) */
    const __m512 inv = _mm512_set1_ps(inv_scale), lo = _mm512_set1_ps((float)-zp),
                 hi = _mm512_set1_ps((float)(255 - zp));
    const __m512i z = _mm512_set1_epi32(zp);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 t = _mm512_mul_ps(_mm512_loadu_ps(x + i), inv);
        t = _mm512_min_ps(_mm512_max_ps(t, lo), hi);
        __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(t), z);
        _mm_storeu_si128((__m128i *)(out + i), _mm512_cvtepi32_epi8(q));
    }
    if (i < count) {
        __mmask16 mk = (__mmask16)((1u << (count - i)) - 1);
        __m512 t = _mm512_mul_ps(_mm512_maskz_loadu_ps(mk, x + i), inv);
        t = _mm512_min_ps(_mm512_max_ps(t, lo), hi);
        __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(t), z);
        _mm512_mask_cvtepi32_storeu_epi8(out + i, mk, q);
    }
}

/* ---------------------------------------------------------------------------------------------
 * LayerNorm + per-row quantization, per-row quantization */

void vit_quant_rows_mm_avx512(const float *x, int32_t ldx, int32_t dim, int32_t r0, int32_t r1,
                              int32_t qmax, uint8_t *out, int32_t ldo, float *scale, int32_t *zp,
                              const float *mm, int32_t panels)
{
    vit_quant_rows_with(vit_minmax_f32_avx512, vit_quantize_u8_avx512, x, ldx, dim, r0, r1, qmax,
                        out, ldo, scale, zp, mm, panels);
}

void vit_quant_rows_avx512(const float *x, int32_t ldx, int32_t dim, int32_t r0, int32_t r1,
                           int32_t qmax, uint8_t *out, int32_t ldo, float *scale, int32_t *zp)
{
    vit_quant_rows_with(vit_minmax_f32_avx512, vit_quantize_u8_avx512, x, ldx, dim, r0, r1, qmax,
                        out, ldo, scale, zp, NULL, 0);
}

void vit_ln_quant_avx512(const float *x, int32_t dim, int32_t r0, int32_t r1, const float *w,
                         const float *b, float eps, int32_t qmax, uint8_t *out, int32_t ldo,
                         float *scale, int32_t *zp, float *tmp)
{
    for (int32_t i = r0; i < r1; i++) {
        const float *xr = x + (size_t)i * dim;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0;
        int32_t k = 0;
        for (; k + 32 <= dim; k += 32) {
            s0 = _mm512_add_ps(s0, _mm512_loadu_ps(xr + k));
            s1 = _mm512_add_ps(s1, _mm512_loadu_ps(xr + k + 16));
        }
        for (; k < dim; k += 16) {
            __mmask16 mk = dim - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (dim - k)) - 1);
            s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(mk, xr + k));
        }
        const float mean = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) / (float)dim;
        const __m512 mv = _mm512_set1_ps(mean);
        s0 = _mm512_setzero_ps();
        s1 = s0;
        for (k = 0; k + 32 <= dim; k += 32) {
            __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(xr + k), mv);
            __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(xr + k + 16), mv);
            s0 = _mm512_fmadd_ps(d0, d0, s0);
            s1 = _mm512_fmadd_ps(d1, d1, s1);
        }
        for (; k < dim; k += 16) {
            __mmask16 mk = dim - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (dim - k)) - 1);
            __m512 d0 = _mm512_maskz_sub_ps(mk, _mm512_maskz_loadu_ps(mk, xr + k), mv);
            s0 = _mm512_fmadd_ps(d0, d0, s0);
        }
        const float var = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) / (float)dim;
        const __m512 inv = _mm512_set1_ps(1.0f / sqrtf(var + eps));
        __m512 mn = _mm512_set1_ps(INFINITY), mx = _mm512_set1_ps(-INFINITY);
        for (k = 0; k < dim; k += 16) {
            __mmask16 mk = dim - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (dim - k)) - 1);
            __m512 y = _mm512_fmadd_ps(
                _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mk, xr + k), mv), inv),
                _mm512_maskz_loadu_ps(mk, w + k), _mm512_maskz_loadu_ps(mk, b + k));
            _mm512_mask_storeu_ps(tmp + k, mk, y);
            mn = _mm512_mask_min_ps(mn, mk, y, mn);
            mx = _mm512_mask_max_ps(mx, mk, y, mx);
        }
        vit_qparams qp = vit_qparams_from_range_u8(_mm512_reduce_min_ps(mn),
                                                   _mm512_reduce_max_ps(mx), qmax);
        scale[i] = qp.scale;
        zp[i] = qp.zero_point;
        vit_quantize_u8_avx512(tmp, (size_t)dim, 1.0f / qp.scale, qp.zero_point,
                               out + (size_t)i * ldo);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Attention */

#define SACC_ROW(i) __m512 s##i##0, s##i##1, s##i##2, s##i##3
#define SZERO_ROW(i) s##i##0 = s##i##1 = s##i##2 = s##i##3 = _mm512_setzero_ps()
#define SFMA_ROW(i, c0, c1, c2, c3, src)                                                       \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m512 x_ = _mm512_set1_ps(src);                                             \
            s##i##0 = _mm512_fmadd_ps(x_, c0, s##i##0);                                        \
            if (nv > 1)                                                                        \
                s##i##1 = _mm512_fmadd_ps(x_, c1, s##i##1);                                    \
            if (nv > 2)                                                                        \
                s##i##2 = _mm512_fmadd_ps(x_, c2, s##i##2);                                    \
            if (nv > 3)                                                                        \
                s##i##3 = _mm512_fmadd_ps(x_, c3, s##i##3);                                    \
        }                                                                                      \
    } while (0)
#define SSTORE_ROW(i, base, ld, scl)                                                           \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            float *p_ = (base) + (size_t)(i) * (ld);                                           \
            const __m512 f_ = (scl);                                                           \
            _mm512_storeu_ps(p_, _mm512_mul_ps(s##i##0, f_));                                  \
            if (nv > 1)                                                                        \
                _mm512_storeu_ps(p_ + 16, _mm512_mul_ps(s##i##1, f_));                         \
            if (nv > 2)                                                                        \
                _mm512_storeu_ps(p_ + 32, _mm512_mul_ps(s##i##2, f_));                         \
            if (nv > 3)                                                                        \
                _mm512_storeu_ps(p_ + 48, _mm512_mul_ps(s##i##3, f_));                         \
        }                                                                                      \
    } while (0)

/* the mr x nv accumulators, zeroed */
#define SACC_ALL                                                                               \
    SACC_ROW(0);                                                                               \
    SACC_ROW(1);                                                                               \
    SACC_ROW(2);                                                                               \
    SACC_ROW(3);                                                                               \
    SACC_ROW(4);                                                                               \
    SACC_ROW(5);                                                                               \
    SZERO_ROW(0);                                                                              \
    SZERO_ROW(1);                                                                              \
    SZERO_ROW(2);                                                                              \
    SZERO_ROW(3);                                                                              \
    SZERO_ROW(4);                                                                              \
    SZERO_ROW(5)
/* row r of the tile times scale[r] (no scale: 1) into base + r ld */
#define SROW_SCALE(i, scale) _mm512_set1_ps((scale) ? (scale)[mr > (i) ? (i) : 0] : 1.0f)
#define SSTORE_SCALED(base, ld, scale)                                                         \
    do {                                                                                       \
        SSTORE_ROW(0, base, ld, SROW_SCALE(0, scale));                                         \
        SSTORE_ROW(1, base, ld, SROW_SCALE(1, scale));                                         \
        SSTORE_ROW(2, base, ld, SROW_SCALE(2, scale));                                         \
        SSTORE_ROW(3, base, ld, SROW_SCALE(3, scale));                                         \
        SSTORE_ROW(4, base, ld, SROW_SCALE(4, scale));                                         \
        SSTORE_ROW(5, base, ld, SROW_SCALE(5, scale));                                         \
    } while (0)

/* c[r][0 .. 16 nv) = scale[r] * sum_k a[r][k] b_k for mr rows: the rows b_k are vectors, each a
 * element a broadcast. The scores are this with a = q, b = k^T (over keys) and no scale; p v
 * with a = p, b = v and scale = 1 / row sum. */
static ALWAYS_INLINE void bcast_tile(const int mr, const int nv, const float *a, int32_t lda,
                                     const float *b, int32_t ldb, int32_t K, const float *scale,
                                     float *c, int32_t ldc)
{
    SACC_ALL;
    __m512 b0, b1 = _mm512_setzero_ps(), b2 = b1, b3 = b1;
    for (int32_t k = 0; k < K; k++) {
        const float *bk = b + (size_t)k * ldb;
        b0 = _mm512_loadu_ps(bk);
        if (nv > 1)
            b1 = _mm512_loadu_ps(bk + 16);
        if (nv > 2)
            b2 = _mm512_loadu_ps(bk + 32);
        if (nv > 3)
            b3 = _mm512_loadu_ps(bk + 48);
        SFMA_ROW(0, b0, b1, b2, b3, a[k]);
        SFMA_ROW(1, b0, b1, b2, b3, a[lda + k]);
        SFMA_ROW(2, b0, b1, b2, b3, a[2 * lda + k]);
        SFMA_ROW(3, b0, b1, b2, b3, a[3 * lda + k]);
        SFMA_ROW(4, b0, b1, b2, b3, a[4 * lda + k]);
        SFMA_ROW(5, b0, b1, b2, b3, a[5 * lda + k]);
    }
    SSTORE_SCALED(c, ldc, scale);
}

/* s[r][j0 .. j0 + 16 nv) = q_r . k_j for mr rows. */
static ALWAYS_INLINE void scores_tile(const int mr, const int nv, const float *q, int32_t ldq,
                                      const float *kt, int32_t tpad, int32_t hd, float *s)
{
    bcast_tile(mr, nv, q, ldq, kt, tpad, hd, NULL, s, tpad);
}

/* ctx[r][0 .. 16 nv) = (sum_j p[r][j] v_j) * inv[r] for mr rows. */
static ALWAYS_INLINE void pv_tile(const int mr, const int nv, const float *p, int32_t tpad,
                                  const float *v, int32_t ldv, int32_t T, const float *inv,
                                  float *ctx, int32_t ldc)
{
    bcast_tile(mr, nv, p, tpad, v, ldv, T, inv, ctx, ldc);
}

typedef void (*scores_fn)(const float *q, int32_t ldq, const float *kt, int32_t tpad, int32_t hd,
                          float *s);
typedef void (*pv_fn)(const float *p, int32_t tpad, const float *v, int32_t ldv, int32_t T,
                      const float *inv, float *ctx, int32_t ldc);
#define STILE(mr, nv)                                                                          \
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
#define STILES(mr) STILE(mr, 1) STILE(mr, 2) STILE(mr, 3) STILE(mr, 4)
STILES(1) STILES(2) STILES(3) STILES(4) STILES(5) STILES(6)
#define SROW(mr) {scores_##mr##x1, scores_##mr##x2, scores_##mr##x3, scores_##mr##x4}
#define PROW(mr) {pv_##mr##x1, pv_##mr##x2, pv_##mr##x3, pv_##mr##x4}
static const scores_fn scores_tiles[MR + 1][NV] = {
    {0}, SROW(1), SROW(2), SROW(3), SROW(4), SROW(5), SROW(6),
};
static const pv_fn pv_tiles[MR + 1][NV] = {
    {0}, PROW(1), PROW(2), PROW(3), PROW(4), PROW(5), PROW(6),
};

/* Softmax of one row of scores sr over its T keys: p_j = exp(s_j - max), returns 1 / sum_j p_j.
 * bf16 0: p in place of the scores (fp32, the lanes past T untouched); 1: p in bf16 into pr,
 * zeros past T up to the next multiple of 16 (inside the row's tpad), for p v. */
static ALWAYS_INLINE float softmax_row512(const int bf16, float *sr, int32_t T, int32_t tpad,
                                          uint16_t *pr)
{
    __m512 m = _mm512_set1_ps(-INFINITY);
    int32_t j = 0;
    for (; j + 16 <= T; j += 16)
        m = _mm512_max_ps(_mm512_loadu_ps(sr + j), m);
    const __mmask16 tail = (__mmask16)((1u << (T - j)) - 1);
    if (tail)
        m = _mm512_mask_max_ps(m, tail, _mm512_maskz_loadu_ps(tail, sr + j), m);
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(m));
    __m512 sum = _mm512_setzero_ps();
    for (j = 0; j + 16 <= T; j += 16) {
        __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(sr + j), mx));
        if (bf16)
            _mm256_storeu_si256((__m256i *)(pr + j), (__m256i)_mm512_cvtneps_pbh(e));
        else
            _mm512_storeu_ps(sr + j, e);
        sum = _mm512_add_ps(sum, e);
    }
    if (bf16 && j < tpad) {
        __m512 e = _mm512_maskz_mov_ps(
            tail, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, sr + j), mx)));
        _mm256_storeu_si256((__m256i *)(pr + j), (__m256i)_mm512_cvtneps_pbh(e));
        sum = _mm512_add_ps(sum, e);
    } else if (!bf16 && tail) {
        __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, sr + j), mx));
        _mm512_mask_storeu_ps(sr + j, tail, e);
        sum = _mm512_mask_add_ps(sum, tail, sum, e);
    }
    return 1.0f / _mm512_reduce_add_ps(sum);
}

void vit_attention_avx512(const float *q, const float *kt, const float *v, float *ctx, int32_t T,
                          int32_t tpad, int32_t dim, int32_t hd, int32_t h, int32_t i0,
                          int32_t i1, float *s)
{
    if (hd % 16 != 0 || tpad % 16 != 0) {
        vit_attention_ref(q, kt, v, ctx, T, tpad, dim, hd, h, i0, i1, s);
        return;
    }
    const float *kth = kt + (size_t)h * hd * tpad;
    const float *vh = v + (size_t)h * hd;
    for (int32_t i = i0; i < i1; i += MR) {
        const int32_t mr = i1 - i < MR ? i1 - i : MR;
        const float *qi = q + (size_t)i * dim + (size_t)h * hd;
        // s (mr, tpad) = q_i (mr, hd) @ k^T (hd, tpad)
        for (int32_t j = 0; j < tpad; j += 64) {
            int32_t nv = (tpad - j) / 16 < NV ? (tpad - j) / 16 : NV;
            scores_tiles[mr][nv - 1](qi, dim, kth + j, tpad, hd, s + j);
        }
        // p = exp(s - max) over the T real keys, sums
        float inv[MR];
        for (int32_t r = 0; r < mr; r++)
            inv[r] = softmax_row512(0, s + (size_t)r * tpad, T, tpad, NULL);
        // ctx_i[:, h] (mr, hd) = p (mr, T) @ v[:, h] (T, hd) / sum
        float *ci = ctx + (size_t)i * dim + (size_t)h * hd;
        for (int32_t d = 0; d < hd; d += 64) {
            int32_t nv = (hd - d) / 16 < NV ? (hd - d) / 16 : NV;
            pv_tiles[mr][nv - 1](s, tpad, vh + d, dim, T, inv, ci + d, dim);
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Attention in bf16: q k^T and p v by vdpbf16ps (two bf16 products added per fp32 lane), over
 * pairs of head dims (scores) and pairs of keys (p v); softmax in fp32. */

#define SDP_ROW(i, c0, c1, c2, c3, src)                                                        \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m512bh x_ = (__m512bh)_mm512_set1_epi32(load_u32((const uint8_t *)(src))); \
            s##i##0 = _mm512_dpbf16_ps(s##i##0, x_, (__m512bh)c0);                             \
            if (nv > 1)                                                                        \
                s##i##1 = _mm512_dpbf16_ps(s##i##1, x_, (__m512bh)c1);                         \
            if (nv > 2)                                                                        \
                s##i##2 = _mm512_dpbf16_ps(s##i##2, x_, (__m512bh)c2);                         \
            if (nv > 3)                                                                        \
                s##i##3 = _mm512_dpbf16_ps(s##i##3, x_, (__m512bh)c3);                         \
        }                                                                                      \
    } while (0)

/* c[r][0 .. 16 nv) = scale[r] * sum_p a[r][2p .. 2p+1] . b_p for mr rows: a bf16 rows (stride
 * lda), each pair of elements broadcast; b_p the pair rows of b (bf16, pairs interleaved per
 * column, ldb columns a pair row: pair row p, column c at b + (p * ldb + c) * 2), over K pair
 * rows. The bf16 counterpart of bcast_tile. */
static ALWAYS_INLINE void dp_bf16_tile(const int mr, const int nv, const uint16_t *a,
                                       int32_t lda, const uint16_t *b, int32_t ldb, int32_t K,
                                       const float *scale, float *c, int32_t ldc)
{
    SACC_ALL;
    __m512i b0, b1 = _mm512_setzero_si512(), b2 = b1, b3 = b1;
    for (int32_t p = 0; p < K; p++) {
        const uint16_t *bp = b + (size_t)p * ldb * 2;
        b0 = _mm512_loadu_si512(bp);
        if (nv > 1)
            b1 = _mm512_loadu_si512(bp + 32);
        if (nv > 2)
            b2 = _mm512_loadu_si512(bp + 64);
        if (nv > 3)
            b3 = _mm512_loadu_si512(bp + 96);
        SDP_ROW(0, b0, b1, b2, b3, a + 2 * p);
        SDP_ROW(1, b0, b1, b2, b3, a + lda + 2 * p);
        SDP_ROW(2, b0, b1, b2, b3, a + 2 * lda + 2 * p);
        SDP_ROW(3, b0, b1, b2, b3, a + 3 * lda + 2 * p);
        SDP_ROW(4, b0, b1, b2, b3, a + 4 * lda + 2 * p);
        SDP_ROW(5, b0, b1, b2, b3, a + 5 * lda + 2 * p);
    }
    SSTORE_SCALED(c, ldc, scale);
}

/* s[r][j0 .. j0 + 16 nv) = q_r . k_j: q16 at row 0 / the head's column 0; k16 at the head's
 * pair row 0, key j0 (dword units: pair row p, key j at k16 + (p * tpad + j) * 2) */
static ALWAYS_INLINE void scores_bf16_tile(const int mr, const int nv, const uint16_t *q,
                                           int32_t ldq, const uint16_t *k, int32_t tpad,
                                           int32_t hd, float *s)
{
    dp_bf16_tile(mr, nv, q, ldq, k, tpad, hd / 2, NULL, s, tpad);
}

/* ctx[r][0 .. 16 nv) = (sum_j p[r][j] v_j) * inv[r]: p16 rows (bf16, stride tpad, zero past
 * T), v16 at the head's pair 0, column d0 (pair p, dim d at v16 + (p * hd + d) * 2) */
static ALWAYS_INLINE void pv_bf16_tile(const int mr, const int nv, const uint16_t *p,
                                       int32_t tpad, const uint16_t *v, int32_t hd, int32_t pairs,
                                       const float *inv, float *ctx, int32_t ldc)
{
    dp_bf16_tile(mr, nv, p, tpad, v, hd, pairs, inv, ctx, ldc);
}

typedef void (*scores_bf16_fn)(const uint16_t *q, int32_t ldq, const uint16_t *k, int32_t tpad,
                               int32_t hd, float *s);
typedef void (*pv_bf16_fn)(const uint16_t *p, int32_t tpad, const uint16_t *v, int32_t hd,
                           int32_t pairs, const float *inv, float *ctx, int32_t ldc);
#define BTILE(mr, nv)                                                                          \
    static void scores_bf16_##mr##x##nv(const uint16_t *q, int32_t ldq, const uint16_t *k,     \
                                        int32_t tpad, int32_t hd, float *s)                    \
    {                                                                                          \
        scores_bf16_tile(mr, nv, q, ldq, k, tpad, hd, s);                                      \
    }                                                                                          \
    static void pv_bf16_##mr##x##nv(const uint16_t *p, int32_t tpad, const uint16_t *v,        \
                                    int32_t hd, int32_t pairs, const float *inv, float *ctx,   \
                                    int32_t ldc)                                               \
    {                                                                                          \
        pv_bf16_tile(mr, nv, p, tpad, v, hd, pairs, inv, ctx, ldc);                            \
    }
#define BTILES(mr) BTILE(mr, 1) BTILE(mr, 2) BTILE(mr, 3) BTILE(mr, 4)
BTILES(1) BTILES(2) BTILES(3) BTILES(4) BTILES(5) BTILES(6)
#define BSROW(mr)                                                                              \
    {scores_bf16_##mr##x1, scores_bf16_##mr##x2, scores_bf16_##mr##x3, scores_bf16_##mr##x4}
#define BPROW(mr) {pv_bf16_##mr##x1, pv_bf16_##mr##x2, pv_bf16_##mr##x3, pv_bf16_##mr##x4}
static const scores_bf16_fn scores_bf16_tiles[MR + 1][NV] = {
    {0}, BSROW(1), BSROW(2), BSROW(3), BSROW(4), BSROW(5), BSROW(6),
};
static const pv_bf16_fn pv_bf16_tiles[MR + 1][NV] = {
    {0}, BPROW(1), BPROW(2), BPROW(3), BPROW(4), BPROW(5), BPROW(6),
};

void vit_attention_bf16_avx512(const uint16_t *q16, const uint16_t *k16, const uint16_t *v16,
                               float *ctx, int32_t T, int32_t tpad, int32_t dim, int32_t hd,
                               int32_t h, int32_t i0, int32_t i1, float *s)
{
    uint16_t *p16 = (uint16_t *)(s + (size_t)MR * tpad);
    const uint16_t *kh = k16 + (size_t)h * (hd / 2) * tpad * 2;
    const uint16_t *vh = v16 + (size_t)h * (tpad / 2) * hd * 2;
    const int32_t pairs = (T + 1) / 2;
    for (int32_t i = i0; i < i1; i += MR) {
        const int32_t mr = i1 - i < MR ? i1 - i : MR;
        const uint16_t *qi = q16 + (size_t)i * dim + (size_t)h * hd;
        // s (mr, tpad) = q_i (mr, hd) @ k^T (hd, tpad)
        for (int32_t j = 0; j < tpad; j += 64) {
            int32_t nv = (tpad - j) / 16 < NV ? (tpad - j) / 16 : NV;
            scores_bf16_tiles[mr][nv - 1](qi, dim, kh + (size_t)j * 2, tpad, hd, s + j);
        }
        // p = exp(s - max) over the T real keys (zero past T), in bf16; sums in fp32
        float inv[MR];
        for (int32_t r = 0; r < mr; r++)
            inv[r] = softmax_row512(1, s + (size_t)r * tpad, T, tpad, p16 + (size_t)r * tpad);
        // ctx_i[:, h] (mr, hd) = p (mr, T) @ v[:, h] (T, hd) / sum
        float *ci = ctx + (size_t)i * dim + (size_t)h * hd;
        for (int32_t d = 0; d < hd; d += 64) {
            int32_t nv = (hd - d) / 16 < NV ? (hd - d) / 16 : NV;
            pv_bf16_tiles[mr][nv - 1](p16, tpad, vh + (size_t)d * 2, hd, pairs, inv, ci + d, dim);
        }
        // the scores are spent: their first floats keep the factors, for the rollout
        for (int32_t r = 0; r < mr; r++)
            s[r] = inv[r];
    }
}

/* vit_to_bf16_ref in 16 lanes, in integers: not vcvtneps2bf16, which the AVX-512 CPUs without
 * BF16 that run the fp32 attention lack. The bf16 in the low halves of the 32-bit lanes. */
static inline __m512i round_bf16x16(__m512 x)
{
    const __m512i u = _mm512_castps_si512(x);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    return _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), odd),
                             16);
}

/* The rollout's head mean (vit_roll_add_ref): the row sum in 16 lanes, the last keys masked. */
static inline __m512 roll_load16(const float *p32, const uint16_t *p16, size_t at, __mmask16 m)
{
    if (p32)
        return _mm512_maskz_loadu_ps(m, p32 + at);
    __m256i b = _mm256_maskz_loadu_epi16(m, p16 + at);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16));
}

void vit_roll_add_avx512(const float *p32, const uint16_t *p16, const float *inv, int32_t rows,
                         int32_t T, int32_t tpad, int32_t heads, const float *prev, float *out,
                         uint16_t *out16)
{
    for (int32_t r = 0; r < rows; r++) {
        const size_t row = (size_t)r * tpad;
        float *o = out16 ? NULL : out + (size_t)r * T; /* prev may be out: no restrict */
        uint16_t *o16 = out16 ? out16 + (size_t)r * T : NULL;
        const float *pv = prev ? prev + (size_t)r * T : NULL;
        __m512 vw;
        if (inv) {
            vw = _mm512_set1_ps(inv[r] / (float)heads);
        } else {
            /* two running sums: the adds' latency, not their count, bounds this loop */
            __m512 vs = _mm512_setzero_ps(), vs1 = _mm512_setzero_ps();
            int32_t c = 0;
            for (; c + 32 <= T; c += 32) {
                vs = _mm512_add_ps(vs, roll_load16(p32, p16, row + c, 0xffff));
                vs1 = _mm512_add_ps(vs1, roll_load16(p32, p16, row + c + 16, 0xffff));
            }
            for (; c < T; c += 16) {
                const __mmask16 m =
                    T - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (T - c)) - 1);
                vs = _mm512_add_ps(vs, roll_load16(p32, p16, row + c, m));
            }
            vw = _mm512_set1_ps(1.0f / ((float)heads * _mm512_reduce_add_ps(_mm512_add_ps(vs, vs1))));
        }
        for (int32_t c = 0; c < T; c += 16) {
            const __mmask16 m = T - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (T - c)) - 1);
            const __m512 a = pv ? _mm512_maskz_loadu_ps(m, pv + c) : _mm512_setzero_ps();
            const __m512 v = _mm512_fmadd_ps(roll_load16(p32, p16, row + c, m), vw, a);
            if (o16)
                _mm512_mask_cvtepi32_storeu_epi16(o16 + c, m, round_bf16x16(v));
            else
                _mm512_mask_storeu_ps(o + c, m, v);
        }
    }
}

/* vit_roll_gemv_ref with y in up to 16 registers per 256 columns, the rows in the same order */
void vit_roll_gemv_avx512(const uint16_t *a, int32_t rows, int32_t T, const float *r, float alpha,
                          float *y)
{
    for (int32_t c0 = 0; c0 < T; c0 += 256) {
        const int32_t nc = T - c0 < 256 ? T - c0 : 256, nv = (nc + 15) / 16;
        const __mmask16 last = nc % 16 ? (__mmask16)((1u << (nc % 16)) - 1) : (__mmask16)0xffff;
        __m512 acc[16];
        for (int32_t v = 0; v < nv; v++)
            acc[v] = _mm512_maskz_loadu_ps(v == nv - 1 ? last : 0xffff, y + c0 + 16 * v);
        for (int32_t i = 0; i < rows; i++) {
            const __m512 ri = _mm512_set1_ps(alpha * r[i]);
            const uint16_t *ai = a + (size_t)i * T + c0;
            for (int32_t v = 0; v < nv; v++) {
                const __m256i b = _mm256_maskz_loadu_epi16(v == nv - 1 ? last : 0xffff, ai + 16 * v);
                const __m512 av = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16));
                acc[v] = _mm512_fmadd_ps(ri, av, acc[v]);
            }
        }
        for (int32_t v = 0; v < nv; v++)
            _mm512_mask_storeu_ps(y + c0 + 16 * v, v == nv - 1 ? last : 0xffff, acc[v]);
    }
}
