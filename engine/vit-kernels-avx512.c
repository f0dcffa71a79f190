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

#define MR VIT_AVX512_MR
#define NV VIT_AVX512_PANEL /* zmm vectors per tile */
#define VC VIT_AVX512_VEC   /* columns per vector */

#define ALWAYS_INLINE inline __attribute__((always_inline))

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

/* One mr x (nv*16) tile; mr and nv are constants in each instantiation below. The 24
 * accumulators are separate variables, not an array: GCC does not keep a 1.5 KiB array of
 * vectors in registers (it spilled every accumulator on each step), but it does keep scalars,
 * and drops the code of the rows/vectors an instantiation does not have. */
#define ACC_ROW(i) __m512i c##i##0, c##i##1, c##i##2, c##i##3
#define INIT_ROW(i) c##i##0 = init0, c##i##1 = init1, c##i##2 = init2, c##i##3 = init3
#define DP_ROW(i, av)                                                                          \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m512i a_ = (av);                                                           \
            c##i##0 = dpbusd(c##i##0, a_, b0);                                    \
            if (nv > 1)                                                                        \
                c##i##1 = dpbusd(c##i##1, a_, b1);                                \
            if (nv > 2)                                                                        \
                c##i##2 = dpbusd(c##i##2, a_, b2);                                \
            if (nv > 3)                                                                        \
                c##i##3 = dpbusd(c##i##3, a_, b3);                                \
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
#define BCAST(i, off) _mm512_set1_epi32(load_u32(a + (i)*lda + (off)))

static ALWAYS_INLINE __m512i bcast_tail(const uint8_t *p, int32_t bytes)
{
    int32_t v = 0;
    memcpy(&v, p, (size_t)bytes);
    return _mm512_set1_epi32(v);
}

static ALWAYS_INLINE void store_vec(const int i, const int j, const tile_args *t, __m512i acc,
                                    const __m512 *cs, const __m512 *bias)
{
    const int32_t col = t->col + j * VC;
    if (!t->ep) {
        _mm512_mask_storeu_epi32(t->c + i * t->ldc + col, t->mask[j], acc);
    } else {
        /* y = fma((float)(acc - zp * row_sum), a_scale * w_scale, bias), the _ref's operations;
         * acc already holds acc - zp * row_sum */
        __m512 v = _mm512_cvtepi32_ps(acc);
        _mm512_mask_storeu_ps(t->ep->y + (size_t)i * (size_t)t->ep->ldy + col, t->mask[j],
                              _mm512_fmadd_ps(v, cs[j], bias[j]));
    }
}

static ALWAYS_INLINE void tile(const int mr, const int nv, const tile_args *t)
{
    ACC_ROW(0);
    ACC_ROW(1);
    ACC_ROW(2);
    ACC_ROW(3);
    ACC_ROW(4);
    ACC_ROW(5);
    /* With the epilogue the sums start at -zp * row_sum[j] instead of 0 (the same int32 result
     * as subtracting it at the end, one instruction less per output vector). */
    __m512i init0 = _mm512_setzero_si512(), init1 = init0, init2 = init0, init3 = init0;
    if (t->ep) {
        const __m512i nzp = _mm512_set1_epi32(-t->ep->a_zp);
        const int32_t *rs = t->ep->row_sum + t->col;
        init0 = _mm512_mullo_epi32(nzp, _mm512_maskz_loadu_epi32(t->mask[0], rs));
        if (nv > 1)
            init1 = _mm512_mullo_epi32(nzp, _mm512_maskz_loadu_epi32(t->mask[1], rs + VC));
        if (nv > 2)
            init2 = _mm512_mullo_epi32(nzp, _mm512_maskz_loadu_epi32(t->mask[2], rs + 2 * VC));
        if (nv > 3)
            init3 = _mm512_mullo_epi32(nzp, _mm512_maskz_loadu_epi32(t->mask[3], rs + 3 * VC));
    }
    INIT_ROW(0);
    INIT_ROW(1);
    INIT_ROW(2);
    INIT_ROW(3);
    INIT_ROW(4);
    INIT_ROW(5);
    __m512i b0, b1 = _mm512_setzero_si512(), b2 = b1, b3 = b1;

    const uint8_t *a = t->a;
    const int8_t *b = t->b;
    const size_t lda = t->lda, bstride = t->bstride;
    for (int32_t g = t->kg; g > 0; g--) {
        LOAD_B(b);
        DP_ROW(0, BCAST(0, 0));
        DP_ROW(1, BCAST(1, 0));
        DP_ROW(2, BCAST(2, 0));
        DP_ROW(3, BCAST(3, 0));
        DP_ROW(4, BCAST(4, 0));
        DP_ROW(5, BCAST(5, 0));
        a += 4;
        b += bstride;
    }
    if (t->ktail) {
        /* the packed B is zero past k; A must not be read past k (its buffer may end there) */
        const int32_t kt = t->ktail;
        LOAD_B(b);
        DP_ROW(0, bcast_tail(a, kt));
        DP_ROW(1, bcast_tail(a + lda, kt));
        DP_ROW(2, bcast_tail(a + 2 * lda, kt));
        DP_ROW(3, bcast_tail(a + 3 * lda, kt));
        DP_ROW(4, bcast_tail(a + 4 * lda, kt));
        DP_ROW(5, bcast_tail(a + 5 * lda, kt));
    }

    /* loaded here, not before the loop: the loop needs 29 of the 32 zmm */
    __m512 cs[NV] = {0}, bias[NV] = {0};
    if (t->ep) {
        const vit_qepilogue *ep = t->ep;
        const __m512 as = _mm512_set1_ps(ep->a_scale);
        for (int j = 0; j < nv; j++) {
            int32_t col = t->col + j * VC;
            cs[j] = _mm512_mul_ps(as, _mm512_maskz_loadu_ps(t->mask[j], ep->w_scale + col));
            bias[j] = _mm512_maskz_loadu_ps(t->mask[j], ep->bias + col);
        }
    }
#define STORE_ROW(i)                                                                           \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            store_vec(i, 0, t, c##i##0, cs, bias);                                    \
            if (nv > 1)                                                                        \
                store_vec(i, 1, t, c##i##1, cs, bias);                                \
            if (nv > 2)                                                                        \
                store_vec(i, 2, t, c##i##2, cs, bias);                                \
            if (nv > 3)                                                                        \
                store_vec(i, 3, t, c##i##3, cs, bias);                                \
        }                                                                                      \
    } while (0)
    STORE_ROW(0);
    STORE_ROW(1);
    STORE_ROW(2);
    STORE_ROW(3);
    STORE_ROW(4);
    STORE_ROW(5);
#undef STORE_ROW
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
