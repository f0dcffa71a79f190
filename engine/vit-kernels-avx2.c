/* vit-kernels-avx2.c — AVX2 kernels: u8·s8→s32 GEMM, min/max and activation quantization.
 * Built with -mavx2 -mfma -mf16c and entered only when vit_kernel_supported(VIT_KERNEL_AVX2);
 * each function matches its _ref in vit-quant.c bit for bit.
 *
 * GEMM: B is packed (vit-quant.c) in panels of 24 columns; for every group of 4 k a panel holds
 * 3 ymm of 8 columns x 4 bytes. The micro-kernel keeps a 4-row x 24-column int32 tile in 12
 * ymm accumulators and broadcasts 4 bytes of an A row against each B vector:
 *     vpmaddubsw (u8*s8 pairs -> int16), vpmaddwd with ones (pairs -> int32), vpaddd.
 * vpmaddubsw saturates: a pair a0*b0 + a1*b1 can reach 2*255*(-128) = -65280. Two cases:
 *  - rows whose bytes are all <= 127 (every row under torch's reduce_range, act_qmax = 127):
 *    |a0*b0 + a1*b1| <= 2*127*128 = 32512, no saturation: the fast path above.
 *  - other rows: a = (a & 0x7f) + (a & 0x80). Pairs of (a & 0x7f)*b lie in [-32512, 32258] and
 *    pairs of (a & 0x80)*b = 128*(h0*b0 + h1*b1) in [-32768, 32512]: both exact in int16, each
 *    widened by its own vpmaddwd. Twice the work, used only for the row blocks that need it
 *    (checked per call on A, a pass of m*k bytes).
 * Either way the sums are exact int32, as in the reference.
 * On CPUs with AVX-VNNI (vit_cpu_features(), so VIT_CPU caps it) the same tiles use the VEX
 * vpdpbusd on ymm instead: 4 u8 x s8 products into each int32 lane in one instruction, exact for
 * any u8 (no split, no check of A), with the tile's 3 B vectors loaded once per k group (12
 * accumulators + 3 B + the broadcast A = 16 ymm): read again by every row, as the vpmaddubsw
 * steps do, they made the loop load-bound (vit-kernels-opt-avx2.c has the measurements). Same
 * packing, same results. */
#include "vit-cpu.h"
#include "vit-quant.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define MR VIT_AVX2_MR
#define MR_EXACT 2
#define NV VIT_AVX2_PANEL /* ymm vectors per tile */
#define VC VIT_AVX2_VEC   /* columns per vector */

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE int32_t load_u32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

typedef struct {
    const uint8_t *a;
    size_t lda;
    const int8_t *b;
    size_t bstride;
    int32_t kg, ktail;
    int32_t col;
    __m256i mask[NV]; /* lanes to write: sign bit set */
    int32_t *c;
    size_t ldc;
    const vit_qepilogue *ep;
} tile_args;

/* acc += pairs of pairs of a (u8) * b (s8): vpmaddubsw, vpmaddwd with ones, vpaddd, with B
 * from memory and a single temporary. Written as one asm block: from the intrinsics GCC 12
 * schedules all the vpmaddubsw of a row first, needs more than the 16 ymm and spills. */
static ALWAYS_INLINE __m256i madd_step(__m256i acc, __m256i a, const __m256i *b, __m256i ones)
{
    __m256i t;
    __asm__("vpmaddubsw %[b], %[a], %[t]\n\t"
            "vpmaddwd %[ones], %[t], %[t]\n\t"
            "vpaddd %[t], %[acc], %[acc]"
            : [acc] "+x"(acc), [t] "=&x"(t)
            : [a] "x"(a), [b] "m"(*b), [ones] "x"(ones));
    return acc;
}

/* acc += a (u8) . b (s8), any bytes: AVX-VNNI's VEX vpdpbusd ("%{vex%}" is "{vex}" in GCC asm;
 * inline asm, so the file needs no -mavxvnni; reached only when the CPU has AVX-VNNI) */
static ALWAYS_INLINE __m256i dp_step(__m256i acc, __m256i a, __m256i b)
{
    __asm__("%{vex%} vpdpbusd %[b], %[a], %[acc]" : [acc] "+x"(acc) : [a] "x"(a), [b] "x"(b));
    return acc;
}

/* acc += a (u8) . b (s8) for rows whose bytes are all <= 127 (no saturation, see the top) */
#define FAST(acc, av, j) acc = madd_step(acc, av, (const __m256i *)(b + (j)*32), ones)
/* the exact split for any bytes: (a & 0x7f) and (a & 0x80), each product pair exact in int16 */
#define EXACT(acc, lo, hi, j)                                                                  \
    do {                                                                                       \
        const __m256i bv_ = _mm256_load_si256((const __m256i *)(b + (j)*32));                  \
        __m256i plo_ = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, bv_), ones);                 \
        __m256i phi_ = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, bv_), ones);                 \
        acc = _mm256_add_epi32(acc, _mm256_add_epi32(plo_, phi_));                             \
    } while (0)
#define STEP_ROW(i)                                                                            \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            int32_t v_;                                                                        \
            if (tail) {                                                                        \
                v_ = 0;                                                                        \
                memcpy(&v_, a + (i)*lda, (size_t)tail);                                        \
            } else {                                                                           \
                v_ = load_u32(a + (i)*lda);                                                    \
            }                                                                                  \
            const __m256i av_ = _mm256_set1_epi32(v_);                                         \
            if (vnni) {                                                                        \
                c##i##0 = dp_step(c##i##0, av_, bv0);                                          \
                if (nv > 1)                                                                    \
                    c##i##1 = dp_step(c##i##1, av_, bv1);                                      \
                if (nv > 2)                                                                    \
                    c##i##2 = dp_step(c##i##2, av_, bv2);                                      \
            } else if (!exact) {                                                               \
                FAST(c##i##0, av_, 0);                                                         \
                if (nv > 1)                                                                    \
                    FAST(c##i##1, av_, 1);                                                     \
                if (nv > 2)                                                                    \
                    FAST(c##i##2, av_, 2);                                                     \
            } else {                                                                           \
                const __m256i lo_ = _mm256_and_si256(av_, _mm256_set1_epi8(0x7f));             \
                const __m256i hi_ = _mm256_and_si256(av_, _mm256_set1_epi8((char)0x80));       \
                EXACT(c##i##0, lo_, hi_, 0);                                                   \
                if (nv > 1)                                                                    \
                    EXACT(c##i##1, lo_, hi_, 1);                                               \
                if (nv > 2)                                                                    \
                    EXACT(c##i##2, lo_, hi_, 2);                                               \
            }                                                                                  \
        }                                                                                      \
    } while (0)
#define STEP(tail_bytes)                                                                       \
    do {                                                                                       \
        const int32_t tail = (tail_bytes);                                                     \
        if (vnni) {                                                                            \
            bv0 = _mm256_load_si256((const __m256i *)b);                                       \
            if (nv > 1)                                                                        \
                bv1 = _mm256_load_si256((const __m256i *)(b + 32));                            \
            if (nv > 2)                                                                        \
                bv2 = _mm256_load_si256((const __m256i *)(b + 64));                            \
        }                                                                                      \
        STEP_ROW(0);                                                                           \
        STEP_ROW(1);                                                                           \
        STEP_ROW(2);                                                                           \
        STEP_ROW(3);                                                                           \
    } while (0)

static ALWAYS_INLINE void store_vec(const int i, const int j, const tile_args *t, __m256i acc,
                                    const __m256 *cs, const __m256i *off, const __m256 *bias)
{
    const int32_t col = t->col + j * VC;
    if (!t->ep) {
        _mm256_maskstore_epi32(t->c + i * t->ldc + col, t->mask[j], acc);
    } else {
        /* y = fma((float)(acc - zp * row_sum), a_scale * w_scale, bias): the _ref's operations */
        __m256 v = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc, off[j]));
        _mm256_maskstore_ps(t->ep->y + (size_t)i * (size_t)t->ep->ldy + col, t->mask[j],
                            _mm256_fmadd_ps(v, cs[j], bias[j]));
    }
}

/* One mr x (nv*8) tile, mr and nv constants per instantiation. Named accumulators, not an
 * array: GCC keeps an array of vectors in memory and stores it on every step. */
static ALWAYS_INLINE void tile(const int mr, const int nv, const int exact, const int vnni,
                               const tile_args *t)
{
    const __m256i z = _mm256_setzero_si256();
    __m256i c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z;
    __m256i c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
    __m256i bv0 = z, bv1 = z, bv2 = z; /* vnni: the k group's B vectors */
    const __m256i ones = _mm256_set1_epi16(1);
    const uint8_t *a = t->a;
    const int8_t *b = t->b;
    const size_t lda = t->lda;
    for (int32_t g = t->kg; g > 0; g--) {
        STEP(0);
        a += 4;
        b += t->bstride;
    }
    if (t->ktail)
        STEP(t->ktail);

    __m256 cs[NV] = {0}, bias[NV] = {0};
    __m256i off[NV] = {0};
    if (t->ep) {
        const vit_qepilogue *ep = t->ep;
        const __m256 as = _mm256_set1_ps(ep->a_scale);
        const __m256i zp = _mm256_set1_epi32(ep->a_zp);
        for (int j = 0; j < nv; j++) {
            int32_t col = t->col + j * VC;
            cs[j] = _mm256_mul_ps(as, _mm256_maskload_ps(ep->w_scale + col, t->mask[j]));
            off[j] = _mm256_mullo_epi32(zp, _mm256_maskload_epi32(ep->row_sum + col, t->mask[j]));
            bias[j] = _mm256_maskload_ps(ep->bias + col, t->mask[j]);
        }
    }
#define STORE_ROW(i)                                                                           \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            store_vec(i, 0, t, c##i##0, cs, off, bias);                                        \
            if (nv > 1)                                                                        \
                store_vec(i, 1, t, c##i##1, cs, off, bias);                                    \
            if (nv > 2)                                                                        \
                store_vec(i, 2, t, c##i##2, cs, off, bias);                                    \
        }                                                                                      \
    } while (0)
    STORE_ROW(0);
    STORE_ROW(1);
    STORE_ROW(2);
    STORE_ROW(3);
#undef STORE_ROW
}

typedef void (*tile_fn)(const tile_args *t);

#define TILE(mr, nv, ex, vn, name)                                                             \
    static void name(const tile_args *t) { tile(mr, nv, ex, vn, t); }
#define TILES(mr)                                                                              \
    TILE(mr, 1, 0, 0, tile_##mr##x1) TILE(mr, 2, 0, 0, tile_##mr##x2)                          \
    TILE(mr, 3, 0, 0, tile_##mr##x3)                                                           \
    TILE(mr, 1, 0, 1, tilev_##mr##x1) TILE(mr, 2, 0, 1, tilev_##mr##x2)                        \
    TILE(mr, 3, 0, 1, tilev_##mr##x3)
TILES(1) TILES(2) TILES(3) TILES(4)
TILE(1, 1, 1, 0, tilex_1x1) TILE(1, 2, 1, 0, tilex_1x2) TILE(1, 3, 1, 0, tilex_1x3)
TILE(2, 1, 1, 0, tilex_2x1) TILE(2, 2, 1, 0, tilex_2x2) TILE(2, 3, 1, 0, tilex_2x3)
static const tile_fn tiles[MR + 1][NV] = {
    {0},
    {tile_1x1, tile_1x2, tile_1x3},
    {tile_2x1, tile_2x2, tile_2x3},
    {tile_3x1, tile_3x2, tile_3x3},
    {tile_4x1, tile_4x2, tile_4x3},
};
static const tile_fn tiles_vnni[MR + 1][NV] = {
    {0},
    {tilev_1x1, tilev_1x2, tilev_1x3},
    {tilev_2x1, tilev_2x2, tilev_2x3},
    {tilev_3x1, tilev_3x2, tilev_3x3},
    {tilev_4x1, tilev_4x2, tilev_4x3},
};
static const tile_fn tiles_exact[MR_EXACT + 1][NV] = {
    {0},
    {tilex_1x1, tilex_1x2, tilex_1x3},
    {tilex_2x1, tilex_2x2, tilex_2x3},
};

static __m256i lane_mask(int32_t vec_col, int32_t n0, int32_t n1)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i col = _mm256_add_epi32(lane, _mm256_set1_epi32(vec_col));
    __m256i ge = _mm256_cmpgt_epi32(col, _mm256_set1_epi32(n0 - 1));
    __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32(n1), col);
    return _mm256_and_si256(ge, lt);
}

/* 1 when a byte of rows [0, rows) is above 127. */
static int rows_need_exact(const uint8_t *a, size_t lda, int32_t rows, int32_t k)
{
    for (int32_t i = 0; i < rows; i++) {
        const uint8_t *r = a + (size_t)i * lda;
        __m256i acc = _mm256_setzero_si256();
        int32_t kk = 0;
        for (; kk + 32 <= k; kk += 32)
            acc = _mm256_or_si256(acc, _mm256_loadu_si256((const __m256i *)(r + kk)));
        if (_mm256_movemask_epi8(acc))
            return 1;
        for (; kk < k; kk++)
            if (r[kk] & 0x80)
                return 1;
    }
    return 0;
}

/* Row blocks per pass: their exact/fast flags are kept on the stack. */
#define BLOCKS_PER_PASS 64

void vit_gemm_u8s8s32_avx2(int32_t m, const uint8_t *a, int32_t lda, const vit_qlinear *b,
                           int32_t n0, int32_t n1, int32_t *c, int32_t ldc, const vit_qepilogue *ep)
{
    vit_gemm_u8s8s32_avx2_path((vit_cpu_features() & VIT_CPU_AVX_VNNI) != 0, m, a, lda, b, n0, n1,
                               c, ldc, ep);
}

void vit_gemm_u8s8s32_avx2_path(int vnni, int32_t m, const uint8_t *a, int32_t lda,
                                const vit_qlinear *b, int32_t n0, int32_t n1, int32_t *c,
                                int32_t ldc, const vit_qepilogue *ep)
{
    const int32_t n = b->n, k = b->k, pw = VC * NV;
    const int32_t kgroups = (k + 3) / 4;
    const int8_t *packed = b->packed;
    /* AVX-VNNI: exact for any byte, so every row block takes the fast tiles */
    const tile_fn(*fast)[NV] = vnni ? tiles_vnni : tiles;
    tile_args t = {
        .lda = (size_t)lda,
        .kg = k / 4,
        .ktail = k % 4,
        .ldc = (size_t)ldc,
    };
    for (int32_t r0 = 0; r0 < m; r0 += MR * BLOCKS_PER_PASS) {
        int32_t rend = m - r0 < MR * BLOCKS_PER_PASS ? m : r0 + MR * BLOCKS_PER_PASS;
        unsigned char exact[BLOCKS_PER_PASS];
        for (int32_t i = r0; i < rend; i += MR) {
            int32_t mr = rend - i < MR ? rend - i : MR;
            exact[(i - r0) / MR] =
                !vnni &&
                rows_need_exact(a + (size_t)i * (size_t)lda, (size_t)lda, mr, k);
        }
        for (int32_t col = n0 - n0 % VC; col < n1;) {
            int32_t pstart = col - col % pw;
            int32_t wv = (n - pstart + VC - 1) / VC;
            if (wv > NV)
                wv = NV;
            int32_t vfirst = (col - pstart) / VC;
            int32_t vend = (n1 - pstart + VC - 1) / VC;
            if (vend > wv)
                vend = wv;
            int32_t nv = vend - vfirst;
            t.b = packed + vit_pack_panel_offset(pstart, VC, NV, kgroups) + (size_t)vfirst * 32;
            t.bstride = (size_t)wv * 32;
            t.col = col;
            for (int j = 0; j < NV; j++)
                t.mask[j] = lane_mask(col + j * VC, n0, n1);
            for (int32_t i = r0; i < rend; i += MR) {
                int32_t mr = rend - i < MR ? rend - i : MR;
                int ex = exact[(i - r0) / MR];
                /* the exact path works in tiles of MR_EXACT rows (register pressure) */
                for (int32_t s = 0; s < mr; s += ex ? MR_EXACT : MR) {
                    int32_t sr = ex ? (mr - s < MR_EXACT ? mr - s : MR_EXACT) : mr;
                    int32_t row = i + s;
                    t.a = a + (size_t)row * (size_t)lda;
                    vit_qepilogue e;
                    if (ep) {
                        e = *ep;
                        e.y = ep->y + (size_t)row * (size_t)ep->ldy;
                        t.ep = &e;
                    } else {
                        t.ep = NULL;
                        t.c = c + (size_t)row * (size_t)ldc;
                    }
                    (ex ? tiles_exact[sr][nv - 1] : fast[sr][nv - 1])(&t);
                }
            }
            col = pstart + vend * VC;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * min/max and quantization */

void vit_minmax_f32_avx2(const float *x, size_t count, float *min, float *max)
{
    /* _mm256_min_ps(v, acc) returns acc when v is NaN: NaNs skipped, as in the _ref */
    __m256 mn0 = _mm256_set1_ps(INFINITY), mn1 = mn0, mx0 = _mm256_set1_ps(-INFINITY), mx1 = mx0;
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        mn0 = _mm256_min_ps(v0, mn0);
        mx0 = _mm256_max_ps(v0, mx0);
        mn1 = _mm256_min_ps(v1, mn1);
        mx1 = _mm256_max_ps(v1, mx1);
    }
    mn0 = _mm256_min_ps(mn0, mn1);
    mx0 = _mm256_max_ps(mx0, mx1);
    float lo[8], hi[8];
    _mm256_storeu_ps(lo, mn0);
    _mm256_storeu_ps(hi, mx0);
    float mn = INFINITY, mx = -INFINITY;
    for (int j = 0; j < 8; j++) {
        mn = lo[j] < mn ? lo[j] : mn;
        mx = hi[j] > mx ? hi[j] : mx;
    }
    for (; i < count; i++) {
        if (x[i] < mn)
            mn = x[i];
        if (x[i] > mx)
            mx = x[i];
    }
    *min = mn;
    *max = mx;
}

void vit_quantize_u8_avx2(const float *x, size_t count, float inv_scale, int32_t zp, uint8_t *out)
{
    const __m256 inv = _mm256_set1_ps(inv_scale), lo = _mm256_set1_ps((float)-zp),
                 hi = _mm256_set1_ps((float)(255 - zp));
    const __m256i z = _mm256_set1_epi32(zp);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m256i q[4];
        for (int j = 0; j < 4; j++) {
            __m256 t = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * j), inv);
            t = _mm256_min_ps(_mm256_max_ps(t, lo), hi);
            q[j] = _mm256_add_epi32(_mm256_cvtps_epi32(t), z);
        }
        /* packs interleave 128-bit lanes; the permute puts the bytes back in order */
        __m256i w01 = _mm256_packus_epi32(q[0], q[1]), w23 = _mm256_packus_epi32(q[2], q[3]);
        __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(w01, w23), order);
        _mm256_storeu_si256((__m256i *)(out + i), bytes);
    }
    float flo = (float)-zp, fhi = (float)(255 - zp);
    for (; i < count; i++) {
        float t = x[i] * inv_scale;
        t = t > flo ? t : flo;
        t = t < fhi ? t : fhi;
        out[i] = (uint8_t)(lrintf(t) + zp);
    }
}
