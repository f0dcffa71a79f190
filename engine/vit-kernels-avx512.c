/* vit-kernels-avx512.c — AVX-512 VNNI kernels: u8·s8→s32 GEMM (vpdpbusd), min/max and
 * activation quantization. Built with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni
 * -mfma -mf16c and entered only when vit_kernel_supported(VIT_KERNEL_AVX512_VNNI); each
 * function matches its _ref in vit-quant.c bit for bit.
 *
 * GEMM: B is packed (vit-quant.c) in panels of 64 columns; for every group of 4 k a panel holds
 * 4 zmm of 16 columns x 4 bytes. The micro-kernel keeps a 6-row x 64-column int32 tile in 24
 * zmm accumulators; per group of 4 k it loads 4 B vectors and broadcasts 4 bytes of each of the
 * 6 A rows, for 24 vpdpbusd (each 64 multiply-adds). vpdpbusd adds its four u8*s8 products in
 * int32, so it cannot saturate: results are exact, like the reference. */
#include "vit-quant.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define MR 6
#define NV VIT_AVX512_PANEL /* zmm vectors per tile */
#define VC VIT_AVX512_VEC   /* columns per vector */

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE int32_t load_u32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

typedef struct {
    const uint8_t *a;   /* row 0 of the tile, k = 0 */
    size_t lda;
    const int8_t *b;    /* the tile's first vector at k-group 0 */
    size_t bstride;     /* bytes from one k-group to the next in this panel */
    int32_t kg;         /* full groups of 4 k */
    int32_t ktail;      /* k % 4: bytes in a last, partial group */
    int32_t col;        /* column of the first lane of vector 0 */
    __mmask16 mask[NV]; /* columns of each vector to write */
    int32_t *c;         /* C (int32) at row 0, column 0 ... */
    size_t ldc;
    const vit_qepilogue *ep; /* ... or the float epilogue */
} tile_args;

/* One mr x (nv*16) tile. mr and nv are constants in each instantiation below, so the loops
 * unroll and acc[][] lives in registers (24 + 4 + 1 of the 32 zmm for 6 x 4). */
static ALWAYS_INLINE void tile(const int mr, const int nv, const tile_args *t)
{
    __m512i acc[MR][NV];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nv; j++)
            acc[i][j] = _mm512_setzero_si512();

    const uint8_t *a = t->a;
    const int8_t *b = t->b;
    const size_t lda = t->lda, bstride = t->bstride;
    for (int32_t g = t->kg; g > 0; g--) {
        __m512i bv[NV];
        for (int j = 0; j < nv; j++)
            bv[j] = _mm512_load_si512((const void *)(b + j * 64));
        for (int i = 0; i < mr; i++) {
            __m512i av = _mm512_set1_epi32(load_u32(a + i * lda));
            for (int j = 0; j < nv; j++)
                acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, bv[j]);
        }
        a += 4;
        b += bstride;
    }
    if (t->ktail) {
        /* the packed B is zero past k; A must not be read past k (it may end there) */
        __m512i bv[NV];
        for (int j = 0; j < nv; j++)
            bv[j] = _mm512_load_si512((const void *)(b + j * 64));
        for (int i = 0; i < mr; i++) {
            int32_t v = 0;
            memcpy(&v, a + i * lda, (size_t)t->ktail);
            __m512i av = _mm512_set1_epi32(v);
            for (int j = 0; j < nv; j++)
                acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, bv[j]);
        }
    }

    const vit_qepilogue *ep = t->ep;
    if (!ep) {
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nv; j++)
                _mm512_mask_storeu_epi32(t->c + i * t->ldc + t->col + j * VC, t->mask[j],
                                         acc[i][j]);
        return;
    }
    /* y = fma((float)(acc - zp * row_sum), a_scale * w_scale, bias): the _ref's operations */
    __m512 cs[NV], bias[NV];
    __m512i off[NV];
    const __m512 as = _mm512_set1_ps(ep->a_scale);
    const __m512i zp = _mm512_set1_epi32(ep->a_zp);
    for (int j = 0; j < nv; j++) {
        int32_t col = t->col + j * VC;
        cs[j] = _mm512_mul_ps(as, _mm512_maskz_loadu_ps(t->mask[j], ep->w_scale + col));
        off[j] = _mm512_mullo_epi32(zp, _mm512_maskz_loadu_epi32(t->mask[j], ep->row_sum + col));
        bias[j] = _mm512_maskz_loadu_ps(t->mask[j], ep->bias + col);
    }
    for (int i = 0; i < mr; i++) {
        float *y = ep->y + (size_t)i * (size_t)ep->ldy + t->col;
        for (int j = 0; j < nv; j++) {
            __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][j], off[j]));
            _mm512_mask_storeu_ps(y + j * VC, t->mask[j], _mm512_fmadd_ps(v, cs[j], bias[j]));
        }
    }
}

typedef void (*tile_fn)(const tile_args *t);

#define TILE(mr, nv)                                                                           \
    static void tile_##mr##x##nv(const tile_args *t) { tile(mr, nv, t); }
#define TILES(mr) TILE(mr, 1) TILE(mr, 2) TILE(mr, 3) TILE(mr, 4)
TILES(1) TILES(2) TILES(3) TILES(4) TILES(5) TILES(6)
#define TROW(mr) {tile_##mr##x1, tile_##mr##x2, tile_##mr##x3, tile_##mr##x4}
static const tile_fn tiles[MR + 1][NV + 1 - 1] = {
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

void vit_gemm_u8s8s32_avx512(int32_t m, const uint8_t *a, int32_t lda, const vit_qlinear *b,
                             int32_t n0, int32_t n1, int32_t *c, int32_t ldc,
                             const vit_qepilogue *ep)
{
    const int32_t n = b->n, k = b->k, pw = VC * NV;
    const int32_t kgroups = (k + 3) / 4;
    const int8_t *packed = b->packed;
    tile_args t = {
        .lda = (size_t)lda,
        .kg = k / 4,
        .ktail = k % 4,
        .c = c,
        .ldc = (size_t)ldc,
        .ep = ep,
    };
    /* Panel by panel (B's panel stays in L1/L2 while every row block streams past it). */
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
        t.b = packed + vit_pack_panel_offset(pstart, VC, NV, kgroups) + (size_t)vfirst * 64;
        t.bstride = (size_t)wv * 64;
        t.col = col;
        for (int j = 0; j < NV; j++)
            t.mask[j] = j < nv ? lane_mask(col + j * VC, n0, n1) : 0;
        for (int32_t i = 0; i < m; i += MR) {
            int32_t mr = m - i < MR ? m - i : MR;
            t.a = a + (size_t)i * (size_t)lda;
            if (ep) {
                vit_qepilogue e = *ep;
                e.y = ep->y + (size_t)i * (size_t)ep->ldy;
                t.ep = &e;
                tiles[mr][nv - 1](&t);
                t.ep = ep;
            } else {
                t.c = c + (size_t)i * (size_t)ldc;
                tiles[mr][nv - 1](&t);
            }
        }
        col = pstart + vend * VC;
    }
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
     * MXCSR mode, as lrintf in the _ref), + zp, and truncate to bytes (already in 0..255) */
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
