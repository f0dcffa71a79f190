/* vit-kernels-opt-avx2.c — the optimized variant's fused GEMM for AVX2 and for AVX-VNNI: u8 x s8
 * -> s32 with the per-row dequantizing epilogues of vit_opt_gemm_ref (STORE, ADD, GELU with the
 * per-panel row min/max, QKV into q / k^T / v), bit for bit. Built with -mavx2 -mfma -mf16c;
 * vit_opt_gemm_avx2 is entered only when the CPU has AVX2, vit_opt_gemm_avx_vnni only when it
 * also has AVX-VNNI (vit_opt_ops_for asks vit_cpu_features()).
 *
 * Weights: the int8 variant's AVX2 packing (vit-quant.c), unchanged: panels of 24 columns (3
 * vectors of 8), and for each group of 4 k the panel's columns with their 4 bytes each, so one
 * ymm of a panel holds 8 columns x 4 k. A micro-tile of NV vectors may straddle two packed
 * panels (the forward calls the GEMM on 64-column blocks, which do not line up with 24-column
 * panels: staying inside a panel would leave 1-vector tiles); its vectors then sit at different
 * offsets but, all panels but the last having 3 vectors, advance by the same stride per k group.
 * A tile never mixes the last panel, when it is narrower, with the full ones.
 *
 * Inner product, per k group, row and vector:
 *   AVX2:     vpmaddubsw (u8 x s8 pairs -> s16), vpmaddwd with ones (-> s32), vpaddd. Exact only
 *             when no pair saturates s16: A bytes must be <= 127 (|a0 b0 + a1 b1| <= 2*127*128
 *             = 32512). The optimized variant quantizes to 0..127 on this kernel (ops qmax), so
 *             there is no check and no split path here (vit-kernels-avx2.c has one for the int8
 *             variant's full-range rows).
 *   AVX-VNNI: {vex} vpdpbusd on ymm: 4 u8 x s8 products summed into each s32 lane, exact for any
 *             u8, one instruction instead of three and no temporary register.
 * The sums start at -a_zp[row] * row_sum[col], so the finished accumulator is the reference's
 * acc - zp * row_sum (same int32), and the epilogue is the reference's operations in the same
 * order: fma((float)acc, a_scale * w_scale, bias), then + y, or gelu256 (vit-math-avx2.h,
 * bit-exact with gelu_fast), or the q / k^T / v stores.
 *
 * Tile shapes, measured with tools/bench_opt_gemm.sh (1 thread, M = 197, ADD epilogue, best of
 * 9, GOP/s on 384x1152 / 768x768 / 192x576; Zen 5, so AVX2 = the VIT_CPU=avx2 cap):
 *   AVX2, B as vpmaddubsw's memory operand:  4x3 243/251/233   6x2 239/246/234
 *   AVX2, B loaded once per k group (regs):  3x3 250/250/240   5x2 244/244/231   4x2 236/237/236
 *   AVX-VNNI, B as memory operand:           4x3 344/356/315   5x3 335/350/312   6x2 320/333/289
 *                                            7x2 304/327/285
 *   AVX-VNNI, B in registers:                4x3 464/472/448   6x2 474/484/427
 * AVX2 is bound by the two multiplies per step (vpmaddubsw, vpmaddwd: ~1 step per cycle) in every
 * shape: 4x3 with B from memory (12 accumulators + ones + the product temporary + the broadcast
 * A = 15 ymm), as in vit-kernels-avx2.c. AVX-VNNI was bound by loads (B read again for every
 * row): 4x3 with the 3 B vectors loaded once per k group (12 + 3 + A = 16 ymm, no spill in the
 * loop). OPT2_{AVX2,VNNI}_{MR,NV,BREG} select other shapes for measuring. */
#include "vit-math-avx2.h"
#include "vit-opt.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define VC VIT_AVX2_VEC   /* int32 columns per ymm: 8 */
#define PV VIT_AVX2_PANEL /* ymm per packed panel: 3 */
#define PW (VC * PV)      /* columns per packed panel: 24 */

/* micro-tile shapes: rows x vectors (at most 7 x 3: the accumulators are named c00 .. c62); the
 * B-in-registers knobs are with the inner-product steps below */
#ifndef OPT2_AVX2_MR
#define OPT2_AVX2_MR 4
#endif
#ifndef OPT2_AVX2_NV
#define OPT2_AVX2_NV 3
#endif
#ifndef OPT2_VNNI_MR
#define OPT2_VNNI_MR 4
#endif
#ifndef OPT2_VNNI_NV
#define OPT2_VNNI_NV 3
#endif
#define NV_MAX 3

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE int32_t load_u32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

typedef struct {
    const uint8_t *a;     /* row `row` of A, k = 0 */
    size_t lda;
    const int8_t *b;      /* vector 0 of the tile, k group 0 */
    size_t off[NV_MAX];   /* bytes from b to vector j (same k group) */
    size_t bstride;       /* bytes per k group, the same for every vector of the tile */
    int32_t kg, ktail;
    int32_t col;          /* column of lane 0 of vector 0 (a multiple of 8) */
    int32_t row;          /* absolute row of the tile's row 0 */
    int32_t lo[NV_MAX], hi[NV_MAX]; /* lanes [lo, hi) of vector j are inside [n0, n1) */
    __m256i mask[NV_MAX]; /* the same as a maskload/maskstore mask (sign bit per lane) */
    int32_t first[NV_MAX]; /* GELU row_mm: vector j is the first of its 64-column panel */
    const vit_oepilogue *ep;
} tile_args;

/* acc += a . b over 4 k per lane, a (u8, <= 127) broadcast, b (s8) from memory: vpmaddubsw,
 * vpmaddwd with ones, vpaddd. One asm block: from the intrinsics GCC 12 schedules all the
 * vpmaddubsw of a row first, needs more than 16 ymm and spills (vit-kernels-avx2.c). */
static ALWAYS_INLINE __m256i madd_step(__m256i acc, __m256i a, const int8_t *b, __m256i ones)
{
    __m256i t;
    __asm__("vpmaddubsw %[b], %[a], %[t]\n\t"
            "vpmaddwd %[ones], %[t], %[t]\n\t"
            "vpaddd %[t], %[acc], %[acc]"
            : [acc] "+x"(acc), [t] "=&x"(t)
            : [a] "x"(a), [b] "m"(*(const __m256i *)b), [ones] "x"(ones));
    return acc;
}

/* acc += a . b with AVX-VNNI (VEX vpdpbusd: exact for any u8). Inline asm, so this file needs no
 * -mavxvnni (binutils >= 2.36 knows the {vex} prefix, written %{vex%} in GCC asm); only ever
 * reached on AVX-VNNI CPUs. */
static ALWAYS_INLINE __m256i dp_step(__m256i acc, __m256i a, const int8_t *b)
{
    __asm__("%{vex%} vpdpbusd %[b], %[a], %[acc]"
            : [acc] "+x"(acc)
            : [a] "x"(a), [b] "m"(*(const __m256i *)b));
    return acc;
}

#ifndef OPT2_VNNI_BREG /* B vectors in registers (1) or read by each vpdpbusd (0) */
#define OPT2_VNNI_BREG 1
#endif
#ifndef OPT2_AVX2_BREG /* the same for vpmaddubsw */
#define OPT2_AVX2_BREG 0
#endif
static ALWAYS_INLINE __m256i madd_reg(__m256i acc, __m256i a, __m256i b, __m256i ones)
{
    __m256i t;
    __asm__("vpmaddubsw %[b], %[a], %[t]\n\t"
            "vpmaddwd %[ones], %[t], %[t]\n\t"
            "vpaddd %[t], %[acc], %[acc]"
            : [acc] "+x"(acc), [t] "=&x"(t)
            : [a] "x"(a), [b] "x"(b), [ones] "x"(ones));
    return acc;
}
#define BREG (vnni ? OPT2_VNNI_BREG : OPT2_AVX2_BREG)
static ALWAYS_INLINE __m256i dp_reg(__m256i acc, __m256i a, __m256i b)
{
    __asm__("%{vex%} vpdpbusd %[b], %[a], %[acc]" : [acc] "+x"(acc) : [a] "x"(a), [b] "x"(b));
    return acc;
}

#define MAC(acc, av, j)                                                                        \
    do {                                                                                       \
        if (vnni && BREG)                                                                      \
            acc = dp_reg(acc, av, bv##j);                                                      \
        else if (vnni)                                                                         \
            acc = dp_step(acc, av, b + off##j);                                                \
        else if (BREG)                                                                         \
            acc = madd_reg(acc, av, bv##j, ones);                                              \
        else                                                                                   \
            acc = madd_step(acc, av, b + off##j, ones);                                        \
    } while (0)
#define STEP_ROW(i, av)                                                                        \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m256i a_ = (av);                                                           \
            MAC(c##i##0, a_, 0);                                                               \
            if (nv > 1)                                                                        \
                MAC(c##i##1, a_, 1);                                                           \
            if (nv > 2)                                                                        \
                MAC(c##i##2, a_, 2);                                                           \
        }                                                                                      \
    } while (0)
#define BCAST(i) _mm256_set1_epi32(load_u32(a + (i)*lda))
#define INIT_ROW(i)                                                                            \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m256i nzp_ = _mm256_set1_epi32(-ep->a_zp[t->row + i]);                    \
            c##i##0 = _mm256_mullo_epi32(nzp_, rs0);                                           \
            if (nv > 1)                                                                        \
                c##i##1 = _mm256_mullo_epi32(nzp_, rs1);                                       \
            if (nv > 2)                                                                        \
                c##i##2 = _mm256_mullo_epi32(nzp_, rs2);                                       \
        }                                                                                      \
    } while (0)
#define ACC_ROW(i) __m256i c##i##0 = z, c##i##1 = z, c##i##2 = z

static ALWAYS_INLINE __m256i bcast_tail(const uint8_t *p, int32_t bytes)
{
    int32_t v = 0;
    memcpy(&v, p, (size_t)bytes);
    return _mm256_set1_epi32(v);
}

static ALWAYS_INLINE __m256 load_ps(const tile_args *t, int j, const float *p)
{
    return t->hi[j] - t->lo[j] == VC ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, t->mask[j]);
}

static ALWAYS_INLINE __m256i load_epi32(const tile_args *t, int j, const int32_t *p)
{
    return t->hi[j] - t->lo[j] == VC ? _mm256_loadu_si256((const __m256i *)p)
                                     : _mm256_maskload_epi32(p, t->mask[j]);
}

/* Full vectors by plain stores: vmaskmovps stores are slow on AMD (microcoded on Zen 1-3). */
static ALWAYS_INLINE void store_ps(const tile_args *t, int j, float *p, __m256 v)
{
    if (t->hi[j] - t->lo[j] == VC)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, t->mask[j], v);
}

static ALWAYS_INLINE float hmin(__m256 v)
{
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static ALWAYS_INLINE float hmax(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* Row i of the tile, dequantized (val[j] for its nv vectors), where the mode says; k^T vectors
 * go to kbuf[i][j] first, for kt_store. */
static ALWAYS_INLINE void put_row(const int nv, const tile_args *t, int i, const __m256 *val,
                                  float (*kbuf)[NV_MAX][VC])
{
    const vit_oepilogue *ep = t->ep;
    const int32_t row = t->row + i;
    switch (ep->mode) {
    case VIT_OEP_STORE:
        for (int j = 0; j < nv; j++)
            store_ps(t, j, ep->y + (size_t)row * ep->ldy + t->col + j * VC, val[j]);
        break;
    case VIT_OEP_ADD:
        for (int j = 0; j < nv; j++) {
            float *y = ep->y + (size_t)row * ep->ldy + t->col + j * VC;
            store_ps(t, j, y, _mm256_add_ps(load_ps(t, j, y), val[j]));
        }
        break;
    case VIT_OEP_GELU: {
        /* GELU, and each row's min and max over each 64-column panel: _mm256_min_ps(g, acc)
         * returns acc when g is NaN, so NaNs are skipped as in the reference; the partials of a
         * panel start at its first vector (tiles run left to right) and merge after. A tile's
         * vectors may belong to two panels (8 divides 64: a vector never straddles). */
        __m256 mn = _mm256_set1_ps(INFINITY), mx = _mm256_set1_ps(-INFINITY);
        for (int j = 0; j < nv; j++) {
            const int32_t col = t->col + j * VC;
            const __m256 g = gelu256(val[j]);
            store_ps(t, j, ep->y + (size_t)row * ep->ldy + col, g);
            if (!ep->row_mm)
                continue;
            if (t->hi[j] - t->lo[j] == VC) {
                mn = _mm256_min_ps(g, mn);
                mx = _mm256_max_ps(g, mx);
            } else { /* lanes outside [n0, n1) keep the partials */
                const __m256 in = _mm256_castsi256_ps(t->mask[j]);
                mn = _mm256_blendv_ps(mn, _mm256_min_ps(g, mn), in);
                mx = _mm256_blendv_ps(mx, _mm256_max_ps(g, mx), in);
            }
            if (j + 1 == nv || (col + VC) % VIT_OPT_PW == 0) { /* the panel's part ends here */
                int first = 0; /* does the part hold the panel's first vector of this call? */
                for (int f = 0; f < nv && f <= j; f++)
                    first |= t->first[f] && (t->col + f * VC) / VIT_OPT_PW == col / VIT_OPT_PW;
                float *mm = ep->row_mm + ((size_t)row * ep->mm_ld + col / VIT_OPT_PW) * 2;
                const float pmn = hmin(mn), pmx = hmax(mx);
                if (first) {
                    mm[0] = pmn;
                    mm[1] = pmx;
                } else {
                    mm[0] = pmn < mm[0] ? pmn : mm[0];
                    mm[1] = pmx > mm[1] ? pmx : mm[1];
                }
                mn = _mm256_set1_ps(INFINITY);
                mx = _mm256_set1_ps(-INFINITY);
            }
        }
        break;
    }
    case VIT_OEP_QKV: {
        const int32_t D = ep->dim; /* a multiple of 8 here: a vector is all q, all k or all v */
        for (int j = 0; j < nv; j++) {
            const int32_t col = t->col + j * VC;
            if (col < D) {
                store_ps(t, j, ep->q + (size_t)row * D + col, val[j]);
            } else if (col < 2 * D) {
                _mm256_storeu_ps(kbuf[i][j], val[j]); /* k^T: kt_store, after the last row */
            } else {
                store_ps(t, j, ep->v + (size_t)row * D + (col - 2 * D), val[j]);
            }
        }
        break;
    }
    }
}

/* The tile's k^T vectors (kbuf[row][vector][lane]): lane l of vector j goes to
 * kt[(col_j - D + l) * tpad + row], so a 4-row tile is a 4 x 8 transpose, 8 stores of 4
 * consecutive floats per vector instead of 32 scalar ones. */
static ALWAYS_INLINE void kt_store(const int mr, const int nv, const tile_args *t,
                                   float (*kbuf)[NV_MAX][VC])
{
    const vit_oepilogue *ep = t->ep;
    const int32_t D = ep->dim;
    for (int j = 0; j < nv; j++) {
        const int32_t col = t->col + j * VC;
        if (col < D || col >= 2 * D)
            continue;
        float *kt = ep->kt + (size_t)(col - D) * ep->tpad + t->row;
        const size_t tp = (size_t)ep->tpad;
        if (mr == 4 && t->hi[j] - t->lo[j] == VC) {
            for (int h = 0; h < VC; h += 4) { /* lanes h .. h + 3 */
                __m128 r0 = _mm_loadu_ps(&kbuf[0][j][h]), r1 = _mm_loadu_ps(&kbuf[1][j][h]);
                __m128 r2 = _mm_loadu_ps(&kbuf[2][j][h]), r3 = _mm_loadu_ps(&kbuf[3][j][h]);
                _MM_TRANSPOSE4_PS(r0, r1, r2, r3); /* r0 = lane h of rows 0..3, ... */
                _mm_storeu_ps(kt + (size_t)h * tp, r0);
                _mm_storeu_ps(kt + (size_t)(h + 1) * tp, r1);
                _mm_storeu_ps(kt + (size_t)(h + 2) * tp, r2);
                _mm_storeu_ps(kt + (size_t)(h + 3) * tp, r3);
            }
        } else {
            for (int l = t->lo[j]; l < t->hi[j]; l++)
                for (int i = 0; i < mr; i++)
                    kt[(size_t)l * tp + i] = kbuf[i][j][l];
        }
    }
}

/* One mr x (nv * 8) tile; mr, nv and vnni are constants per instantiation. Named accumulators,
 * not an array: GCC keeps an array of vectors in memory and stores it on every step. */
static ALWAYS_INLINE void tile(const int mr, const int nv, const int vnni, const tile_args *t)
{
    const vit_oepilogue *ep = t->ep;
    const __m256i z = _mm256_setzero_si256();
    ACC_ROW(0);
    ACC_ROW(1);
    ACC_ROW(2);
    ACC_ROW(3);
    ACC_ROW(4);
    ACC_ROW(5);
    ACC_ROW(6);
    {
        /* the sums start at -a_zp[row] * row_sum[col]: acc - zp * row_sum exactly, in int32 */
        const int32_t *rs = ep->row_sum + t->col;
        const __m256i rs0 = load_epi32(t, 0, rs);
        const __m256i rs1 = nv > 1 ? load_epi32(t, 1, rs + VC) : z;
        const __m256i rs2 = nv > 2 ? load_epi32(t, 2, rs + 2 * VC) : z;
        INIT_ROW(0);
        INIT_ROW(1);
        INIT_ROW(2);
        INIT_ROW(3);
        INIT_ROW(4);
        INIT_ROW(5);
        INIT_ROW(6);
    }
    const __m256i ones = _mm256_set1_epi16(1);
    const uint8_t *a = t->a;
    const int8_t *b = t->b;
    const size_t lda = t->lda, bstride = t->bstride;
    const size_t off0 = t->off[0], off1 = t->off[1], off2 = t->off[2];
    __m256i bv0 = z, bv1 = z, bv2 = z;
#define LOAD_BV()                                                                              \
    do {                                                                                       \
        if (BREG) {                                                                            \
            bv0 = _mm256_loadu_si256((const __m256i *)(b + off0));                             \
            if (nv > 1)                                                                        \
                bv1 = _mm256_loadu_si256((const __m256i *)(b + off1));                         \
            if (nv > 2)                                                                        \
                bv2 = _mm256_loadu_si256((const __m256i *)(b + off2));                         \
        }                                                                                      \
    } while (0)
    for (int32_t g = t->kg; g > 0; g--) {
        LOAD_BV();
        STEP_ROW(0, BCAST(0));
        STEP_ROW(1, BCAST(1));
        STEP_ROW(2, BCAST(2));
        STEP_ROW(3, BCAST(3));
        STEP_ROW(4, BCAST(4));
        STEP_ROW(5, BCAST(5));
        STEP_ROW(6, BCAST(6));
        a += 4;
        b += bstride;
    }
    if (t->ktail) {
        /* the last k group's missing bytes are zero in the packed B and in the broadcast */
        const int32_t kt = t->ktail;
        LOAD_BV();
        STEP_ROW(0, bcast_tail(a, kt));
        STEP_ROW(1, bcast_tail(a + lda, kt));
        STEP_ROW(2, bcast_tail(a + 2 * lda, kt));
        STEP_ROW(3, bcast_tail(a + 3 * lda, kt));
        STEP_ROW(4, bcast_tail(a + 4 * lda, kt));
        STEP_ROW(5, bcast_tail(a + 5 * lda, kt));
        STEP_ROW(6, bcast_tail(a + 6 * lda, kt));
    }

    /* epilogue: val = fma((float)acc, a_scale[row] * w_scale[col], bias[col]) */
    float kbuf[7][NV_MAX][VC]; /* QKV: the k^T vectors */
    __m256 ws[NV_MAX], bias[NV_MAX];
    for (int j = 0; j < nv; j++) {
        ws[j] = load_ps(t, j, ep->w_scale + t->col + j * VC);
        bias[j] = load_ps(t, j, ep->bias + t->col + j * VC);
    }
#define PUT_ROW(i)                                                                             \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m256 as_ = _mm256_set1_ps(ep->a_scale[t->row + i]);                        \
            __m256 v_[NV_MAX];                                                                 \
            v_[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c##i##0), _mm256_mul_ps(as_, ws[0]),    \
                                    bias[0]);                                                  \
            if (nv > 1)                                                                        \
                v_[1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c##i##1),                           \
                                        _mm256_mul_ps(as_, ws[1]), bias[1]);                   \
            if (nv > 2)                                                                        \
                v_[2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c##i##2),                           \
                                        _mm256_mul_ps(as_, ws[2]), bias[2]);                   \
            put_row(nv, t, i, v_, kbuf);                                                       \
        }                                                                                      \
    } while (0)
    PUT_ROW(0);
    PUT_ROW(1);
    PUT_ROW(2);
    PUT_ROW(3);
    PUT_ROW(4);
    PUT_ROW(5);
    PUT_ROW(6);
#undef PUT_ROW
    if (ep->mode == VIT_OEP_QKV)
        kt_store(mr, nv, t, kbuf);
}

typedef void (*tile_fn)(const tile_args *t);

/* tiles[mr][nv - 1]: rows 1 .. 4, and 5 .. 7 only when a shape knob asks for them (each
 * instantiation is a few kB of code; the 7-row ones would spill anyway with 3 vectors) */
#if OPT2_AVX2_MR > 4 || OPT2_VNNI_MR > 4
#define ROWS_MAX 7
#else
#define ROWS_MAX 4
#endif
#if OPT2_AVX2_MR > ROWS_MAX || OPT2_VNNI_MR > ROWS_MAX || OPT2_AVX2_NV > NV_MAX ||              \
    OPT2_VNNI_NV > NV_MAX
#error "micro-tile shapes up to 7 rows x 3 vectors"
#endif
#define TILE(pre, v, mr, nv)                                                                   \
    static void pre##_##mr##x##nv(const tile_args *t) { tile(mr, nv, v, t); }
#define TILES(pre, v, mr) TILE(pre, v, mr, 1) TILE(pre, v, mr, 2) TILE(pre, v, mr, 3)
#define TROW(pre, mr) {pre##_##mr##x1, pre##_##mr##x2, pre##_##mr##x3}
#if ROWS_MAX > 4
#define TILES_HI(pre, v) TILES(pre, v, 5) TILES(pre, v, 6) TILES(pre, v, 7)
#define TROWS_HI(pre) TROW(pre, 5), TROW(pre, 6), TROW(pre, 7),
#else
#define TILES_HI(pre, v)
#define TROWS_HI(pre)
#endif
#define TABLE(pre, v)                                                                          \
    TILES(pre, v, 1) TILES(pre, v, 2) TILES(pre, v, 3) TILES(pre, v, 4) TILES_HI(pre, v)       \
    static const tile_fn pre##_tiles[ROWS_MAX + 1][NV_MAX] = {                                 \
        {0}, TROW(pre, 1), TROW(pre, 2), TROW(pre, 3), TROW(pre, 4), TROWS_HI(pre)             \
    };
TABLE(madd, 0)
TABLE(vnni, 1)

static __m256i lane_mask(int32_t lo, int32_t hi)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_and_si256(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32(lo - 1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), lane));
}

/* Column tiles left to right (vectors of 8 columns, up to nvt per tile), row tiles of up to
 * mrt inside each: a tile's B (k x 8 nv bytes) stays in L1 while the rows stream through. */
static void gemm(const tile_fn (*tiles)[NV_MAX], const int mrt, const int nvt, int32_t r0,
                 int32_t r1, const uint8_t *a, int32_t lda, const vit_qlinear *b, int32_t n0,
                 int32_t n1, const vit_oepilogue *ep, void *scratch)
{
    if (ep->mode == VIT_OEP_QKV && ep->dim % VC != 0) {
        /* a vector would straddle q, k and v: the generic path writes element by element */
        vit_opt_gemm_tiled_ref(r0, r1, a, lda, b, n0, n1, ep, scratch);
        return;
    }
    if (r0 >= r1 || n0 >= n1)
        return;
    const int32_t n = b->n, k = b->k, kgroups = (k + 3) / 4;
    const int32_t last = (n - 1) / PW;                    /* the last packed panel */
    const int32_t last_wv = (n - last * PW + VC - 1) / VC; /* and its width in vectors */
    const int8_t *packed = b->packed;
    tile_args t = {.lda = (size_t)lda, .kg = k / 4, .ktail = k % 4, .ep = ep};
    const int32_t v1 = (n1 + VC - 1) / VC;
    for (int32_t v = n0 / VC; v < v1;) {
        int32_t nv = v1 - v < nvt ? v1 - v : nvt;
        const int32_t p = v / PV;
        /* not across into a narrower last panel: its stride differs */
        if (last_wv != PV && p < last && v + nv > last * PV)
            nv = last * PV - v;
        const size_t base = vit_pack_panel_offset(p * PW, VC, PV, kgroups) + (size_t)(v % PV) * 32;
        t.b = packed + base;
        t.bstride = (size_t)(p == last ? last_wv : PV) * 32;
        t.col = v * VC;
        for (int j = 0; j < NV_MAX; j++) {
            const int32_t vj = j < nv ? v + j : v, cj = vj * VC;
            t.off[j] = vit_pack_panel_offset(cj, VC, PV, kgroups) + (size_t)(vj % PV) * 32 - base;
            t.lo[j] = n0 > cj ? n0 - cj : 0;
            t.hi[j] = n1 - cj < VC ? n1 - cj : VC;
            t.mask[j] = lane_mask(t.lo[j], t.hi[j]);
            /* the vector holding the first column of its 64-column panel in [n0, n1) */
            const int32_t pfirst = cj - cj % VIT_OPT_PW > n0 ? cj - cj % VIT_OPT_PW : n0;
            t.first[j] = j < nv && pfirst >= cj && pfirst < cj + VC;
        }
        for (int32_t i = r0; i < r1; i += mrt) {
            const int32_t mr = r1 - i < mrt ? r1 - i : mrt;
            t.a = a + (size_t)i * (size_t)lda;
            t.row = i;
            tiles[mr][nv - 1](&t);
        }
        v += nv;
    }
}

void vit_opt_gemm_avx2(int32_t r0, int32_t r1, const uint8_t *a, int32_t lda,
                       const vit_qlinear *b, int32_t n0, int32_t n1, const vit_oepilogue *ep,
                       void *scratch)
{
    gemm(madd_tiles, OPT2_AVX2_MR, OPT2_AVX2_NV, r0, r1, a, lda, b, n0, n1, ep, scratch);
}

void vit_opt_gemm_avx_vnni(int32_t r0, int32_t r1, const uint8_t *a, int32_t lda,
                           const vit_qlinear *b, int32_t n0, int32_t n1, const vit_oepilogue *ep,
                           void *scratch)
{
    gemm(vnni_tiles, OPT2_VNNI_MR, OPT2_VNNI_NV, r0, r1, a, lda, b, n0, n1, ep, scratch);
}
