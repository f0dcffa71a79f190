/* vit-kernels-avx2.c — every AVX2 kernel of the engine, by the variant that uses it: the fp32
 * GEMM panel, softmax and LayerNorm; the u8·s8→s32 micro-tile that the int8 and the optimized
 * variants share (vpmaddubsw, or AVX-VNNI where the CPU has it), with its epilogues; min/max and
 * quantization; the optimized variant's LayerNorm + quantization, attention and fast GELU / exp
 * (exp also serves the int8 variant's softmax). Built with -mavx2 -mfma -mf16c and entered only
 * when vit_kernel_supported(VIT_KERNEL_AVX2); the AVX-VNNI steps only when vit_cpu_features()
 * has AVX-VNNI. Every function matches its _ref in vit-kernels-ref.c: bit for bit (the GEMMs and
 * their epilogues, GELU, exp, min/max, the quantized bytes), or, for sums that run in 8 lanes
 * (LayerNorm, softmax, attention), to float rounding. The fast math is vit-math-avx2.h. */
#include "vit-cpu.h"
#include "vit-math-avx2.h"
#include "vit-opt.h"
#include "vit-quant.h"
#include "vit-sgemm.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Lane helpers */

/* Lanes [0, n) of a vector (n in 0..8): the mask for maskload / maskstore / blendv. */
static ALWAYS_INLINE __m256i tail_mask(int32_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static ALWAYS_INLINE float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* max / min of the lanes (NaN-free inputs: the callers skip NaNs on the way in) */
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
 * fp32: the GEMM panel, softmax rows and LayerNorm
 *
 * The micro-tile: 6 rows of a times half a panel (16 columns, 2 ymm), 12 ymm accumulators; the
 * 32-column panel is two such halves. Per step of k: 6 broadcasts + 2 loads per 12 FMAs. */

#define SG_MR 6
#define NR VIT_SGEMM_NR

static ALWAYS_INLINE void sgemm_tile(const int mr, int32_t k, const float *a, int32_t lda,
                               const float *bp, int32_t ncols, const float *bias,
                               vit_sgemm_mode mode, float *c, int32_t ldc)
{
    __m256 c0[SG_MR], c1[SG_MR];
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
    const __m256i m0 = tail_mask(ncols), m1 = tail_mask(ncols - 8);
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
    for (; i + SG_MR <= m; i += SG_MR)
        sgemm_tile(SG_MR, k, a + (size_t)i * lda, lda, bp, ncols, bias, mode, c + (size_t)i * ldc, ldc);
    const float *ai = a + (size_t)i * lda;
    float *ci = c + (size_t)i * ldc;
    switch (m - i) {
    case 1: sgemm_tile(1, k, ai, lda, bp, ncols, bias, mode, ci, ldc); break;
    case 2: sgemm_tile(2, k, ai, lda, bp, ncols, bias, mode, ci, ldc); break;
    case 3: sgemm_tile(3, k, ai, lda, bp, ncols, bias, mode, ci, ldc); break;
    case 4: sgemm_tile(4, k, ai, lda, bp, ncols, bias, mode, ci, ldc); break;
    case 5: sgemm_tile(5, k, ai, lda, bp, ncols, bias, mode, ci, ldc); break;
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
                        int32_t dim, float eps)
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
        const float inv = 1.0f / sqrtf(var + eps);
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

/* ---------------------------------------------------------------------------------------------
 * int8: the u8·s8→s32 micro-tile that the int8 and the optimized variants share
 *
 * B is packed (vit-quant.c) in panels of 24 columns (3 vectors of 8), and for each group of 4 k
 * the panel's columns with their 4 bytes each, so one ymm of a panel holds 8 columns x 4 k. A
 * micro-tile of 4 rows x 3 vectors (12 ymm accumulators) may straddle two packed panels (the
 * optimized forward calls the GEMM on 64-column blocks, which do not line up with 24-column
 * panels: staying inside a panel would leave 1-vector tiles); its vectors then sit at different
 * offsets but, all panels but the last having 3 vectors, advance by the same stride per k group.
 * A tile never mixes the last panel, when it is narrower, with the full ones.
 *
 * Inner product, per k group, row and vector:
 *   vpmaddubsw (u8 x s8 pairs -> s16), vpmaddwd with ones (-> s32), vpaddd. vpmaddubsw
 *   saturates: a pair a0*b0 + a1*b1 can reach 2*255*(-128) = -65280. Rows whose bytes are all
 *   <= 127 (|a0 b0 + a1 b1| <= 2*127*128 = 32512) take this fast path: every row of the
 *   optimized variant on AVX2 (it quantizes to 0..127) and of the int8 variant under torch's
 *   reduce_range (act_qmax 127). Other rows (int8 with act_qmax 255) split a = (a & 0x7f) +
 *   (a & 0x80): pairs of (a & 0x7f)*b lie in [-32512, 32258], pairs of (a & 0x80)*b = 128*(h0*b0
 *   + h1*b1) in [-32768, 32512], both exact in int16, each widened by its own vpmaddwd: twice
 *   the work, in 2-row tiles, only for the row tiles that need it (checked per call on A).
 *   AVX-VNNI: {vex} vpdpbusd on ymm, 4 u8 x s8 products summed into each s32 lane, exact for any
 *   u8, one instruction instead of three and no temporary register; entered only when
 *   vit_cpu_features() has AVX-VNNI (so VIT_CPU caps it). Inline asm: no -mavxvnni needed.
 * Either way the sums are exact int32, as in the reference. With an epilogue they start at
 * -a_zp[row] * row_sum[col], so the finished accumulator is the reference's acc - zp * row_sum,
 * and the epilogue is the reference's operations in the same order: fma((float)acc, a_scale *
 * w_scale, bias), then + y, or gelu256 (bit-exact with gelu_fast), or the q / k^T / v stores.
 * The int8 variant is the STORE epilogue with one a_scale and a_zp for every row (a_step 0), or
 * the raw int32 sums (no epilogue).
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
 * A = 15 ymm). AVX-VNNI was bound by loads (B read again for every row): 4x3 with the 3 B
 * vectors loaded once per k group (12 + 3 + A = 16 ymm, no spill in the loop).
 * OPT2_{AVX2,VNNI}_{MR,NV,BREG} select other shapes for measuring. */

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
    const vit_oepilogue *ep; /* the epilogue, or NULL: the raw int32 sums into c */
    const float *a_scale;    /* row r's activation scale at a_scale[r * a_step] */
    const int32_t *a_zp;     /* and zero point at a_zp[r * a_step] */
    int32_t a_step;          /* 1: per row (optimized); 0: one for all rows (int8) */
    int32_t *c;              /* raw: C (int32) at row 0, column 0 */
    size_t ldc;
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
/* the exact split for any u8 (the int8 variant's rows with bytes above 127, without AVX-VNNI):
 * a = (a & 0x7f) + (a & 0x80), each part's pairs exact in int16, each widened by its vpmaddwd */
#define EXACT(acc, lo, hi, j)                                                                  \
    do {                                                                                       \
        const __m256i bv_ = _mm256_loadu_si256((const __m256i *)(b + off##j));                \
        const __m256i plo_ = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, bv_), ones);           \
        const __m256i phi_ = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, bv_), ones);           \
        acc = _mm256_add_epi32(acc, _mm256_add_epi32(plo_, phi_));                             \
    } while (0)
#define STEP_ROW(i, av)                                                                        \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m256i a_ = (av);                                                           \
            if (exact) {                                                                       \
                const __m256i lo_ = _mm256_and_si256(a_, _mm256_set1_epi8(0x7f));              \
                const __m256i hi_ = _mm256_and_si256(a_, _mm256_set1_epi8((char)0x80));        \
                EXACT(c##i##0, lo_, hi_, 0);                                                   \
                if (nv > 1)                                                                    \
                    EXACT(c##i##1, lo_, hi_, 1);                                               \
                if (nv > 2)                                                                    \
                    EXACT(c##i##2, lo_, hi_, 2);                                               \
            } else {                                                                           \
                MAC(c##i##0, a_, 0);                                                           \
                if (nv > 1)                                                                    \
                    MAC(c##i##1, a_, 1);                                                       \
                if (nv > 2)                                                                    \
                    MAC(c##i##2, a_, 2);                                                       \
            }                                                                                  \
        }                                                                                      \
    } while (0)
#define BCAST(i) _mm256_set1_epi32(load_u32(a + (i)*lda))
#define INIT_ROW(i)                                                                            \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            const __m256i nzp_ = _mm256_set1_epi32(-t->a_zp[(t->row + i) * t->a_step]);      \
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

static ALWAYS_INLINE void store_epi32(const tile_args *t, int j, int32_t *p, __m256i v)
{
    if (t->hi[j] - t->lo[j] == VC)
        _mm256_storeu_si256((__m256i *)p, v);
    else
        _mm256_maskstore_epi32(p, t->mask[j], v);
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
                const float pmn = hmin256(mn), pmx = hmax256(mx);
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
/* kind: TILE_MADD (vpmaddubsw, A bytes <= 127), TILE_VNNI (AVX-VNNI, any u8) or TILE_EXACT
 * (vpmaddubsw on the split bytes, any u8). */
enum { TILE_MADD, TILE_VNNI, TILE_EXACT };
static ALWAYS_INLINE void tile(const int mr, const int nv, const int kind, const tile_args *t)
{
    const int vnni = kind == TILE_VNNI, exact = kind == TILE_EXACT;
    const vit_oepilogue *ep = t->ep;
    const __m256i z = _mm256_setzero_si256();
    ACC_ROW(0);
    ACC_ROW(1);
    ACC_ROW(2);
    ACC_ROW(3);
    ACC_ROW(4);
    ACC_ROW(5);
    ACC_ROW(6);
    if (ep) {
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

    if (!ep) { /* the raw int32 sums */
#define RAW_ROW(i)                                                                             \
    do {                                                                                       \
        if (mr > i) {                                                                          \
            int32_t *c_ = t->c + (size_t)(t->row + i) * t->ldc + t->col;                       \
            store_epi32(t, 0, c_, c##i##0);                                                    \
            if (nv > 1)                                                                        \
                store_epi32(t, 1, c_ + VC, c##i##1);                                           \
            if (nv > 2)                                                                        \
                store_epi32(t, 2, c_ + 2 * VC, c##i##2);                                       \
        }                                                                                      \
    } while (0)
        RAW_ROW(0);
        RAW_ROW(1);
        RAW_ROW(2);
        RAW_ROW(3);
        RAW_ROW(4);
        RAW_ROW(5);
        RAW_ROW(6);
#undef RAW_ROW
        return;
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
            const __m256 as_ = _mm256_set1_ps(t->a_scale[(t->row + i) * t->a_step]);          \
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
TABLE(madd, TILE_MADD)
TABLE(vnni, TILE_VNNI)
/* the exact split needs more registers per row: tiles of at most 2 rows */
#define MR_EXACT 2
TILES(exact, TILE_EXACT, 1) TILES(exact, TILE_EXACT, 2)
static const tile_fn exact_tiles[MR_EXACT + 1][NV_MAX] = {{0}, TROW(exact, 1), TROW(exact, 2)};

static __m256i lane_mask(int32_t lo, int32_t hi)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_and_si256(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32(lo - 1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), lane));
}

/* Column tiles left to right (vectors of 8 columns, up to nvt per tile), row tiles of up to
 * mrt inside each: a tile's B (k x 8 nv bytes) stays in L1 while the rows stream through.
 * exact (or NULL): per row tile of [r0, r1), 1 when it has bytes above 127; those run the
 * split tiles, MR_EXACT rows at a time. */
static void gemm(const tile_fn (*tiles)[NV_MAX], const int mrt, const int nvt, int32_t r0,
                 int32_t r1, const uint8_t *a, int32_t lda, const vit_qlinear *b, int32_t n0,
                 int32_t n1, tile_args *t, const unsigned char *exact)
{
    if (r0 >= r1 || n0 >= n1)
        return;
    const int32_t n = b->n, k = b->k, kgroups = (k + 3) / 4;
    const int32_t last = (n - 1) / PW;                    /* the last packed panel */
    const int32_t last_wv = (n - last * PW + VC - 1) / VC; /* and its width in vectors */
    const int8_t *packed = b->packed;
    t->lda = (size_t)lda;
    t->kg = k / 4;
    t->ktail = k % 4;
    const int32_t v1 = (n1 + VC - 1) / VC;
    for (int32_t v = n0 / VC; v < v1;) {
        int32_t nv = v1 - v < nvt ? v1 - v : nvt;
        const int32_t p = v / PV;
        /* not across into a narrower last panel: its stride differs */
        if (last_wv != PV && p < last && v + nv > last * PV)
            nv = last * PV - v;
        const size_t base = vit_pack_panel_offset(p * PW, VC, PV, kgroups) + (size_t)(v % PV) * 32;
        t->b = packed + base;
        t->bstride = (size_t)(p == last ? last_wv : PV) * 32;
        t->col = v * VC;
        for (int j = 0; j < NV_MAX; j++) {
            const int32_t vj = j < nv ? v + j : v, cj = vj * VC;
            t->off[j] = vit_pack_panel_offset(cj, VC, PV, kgroups) + (size_t)(vj % PV) * 32 - base;
            t->lo[j] = n0 > cj ? n0 - cj : 0;
            t->hi[j] = n1 - cj < VC ? n1 - cj : VC;
            t->mask[j] = lane_mask(t->lo[j], t->hi[j]);
            /* the vector holding the first column of its 64-column panel in [n0, n1) */
            const int32_t pfirst = cj - cj % VIT_OPT_PW > n0 ? cj - cj % VIT_OPT_PW : n0;
            t->first[j] = j < nv && pfirst >= cj && pfirst < cj + VC;
        }
        for (int32_t i = r0; i < r1; i += mrt) {
            const int32_t mr = r1 - i < mrt ? r1 - i : mrt;
            if (exact && exact[(i - r0) / mrt]) {
                for (int32_t s = i; s < i + mr; s += MR_EXACT) {
                    const int32_t sr = i + mr - s < MR_EXACT ? i + mr - s : MR_EXACT;
                    t->a = a + (size_t)s * (size_t)lda;
                    t->row = s;
                    exact_tiles[sr][nv - 1](t);
                }
                continue;
            }
            t->a = a + (size_t)i * (size_t)lda;
            t->row = i;
            tiles[mr][nv - 1](t);
        }
        v += nv;
    }
}

static void opt_gemm(const tile_fn (*tiles)[NV_MAX], const int mrt, const int nvt, int32_t r0,
                     int32_t r1, const uint8_t *a, int32_t lda, const vit_qlinear *b, int32_t n0,
                     int32_t n1, const vit_oepilogue *ep, void *scratch)
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
                gemm(tiles, mrt, nvt, 0, i1 - i, a + (size_t)i * (size_t)lda, lda, b, c0, c1,
                     &t, NULL);
                vit_opt_epilogue_ref(i, i1, c0, c1, acc, VIT_OPT_PW, ep);
            }
        }
        return;
    }
    tile_args t = {.ep = ep, .a_scale = ep->a_scale, .a_zp = ep->a_zp, .a_step = 1};
    gemm(tiles, mrt, nvt, r0, r1, a, lda, b, n0, n1, &t, NULL);
}

void vit_opt_gemm_avx2(int32_t r0, int32_t r1, const uint8_t *a, int32_t lda,
                       const vit_qlinear *b, int32_t n0, int32_t n1, const vit_oepilogue *ep,
                       void *scratch)
{
    opt_gemm(madd_tiles, OPT2_AVX2_MR, OPT2_AVX2_NV, r0, r1, a, lda, b, n0, n1, ep, scratch);
}

void vit_opt_gemm_avx_vnni(int32_t r0, int32_t r1, const uint8_t *a, int32_t lda,
                           const vit_qlinear *b, int32_t n0, int32_t n1, const vit_oepilogue *ep,
                           void *scratch)
{
    opt_gemm(vnni_tiles, OPT2_VNNI_MR, OPT2_VNNI_NV, r0, r1, a, lda, b, n0, n1, ep, scratch);
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

/* Row tiles per pass of the int8 kernel: their exact/fast flags are kept on the stack. */
#define BLOCKS_PER_PASS 64

void vit_gemm_u8s8s32_avx2(int32_t m, const uint8_t *a, int32_t lda, const vit_qlinear *b,
                           int32_t n0, int32_t n1, int32_t *c, int32_t ldc, const vit_qepilogue *ep)
{
    vit_gemm_u8s8s32_avx2_path((vit_cpu_features() & VIT_CPU_AVX_VNNI) != 0, m, a, lda, b, n0, n1,
                               c, ldc, ep);
}

/* The int8 variant's kernel on the same tiles: the raw sums, or the STORE epilogue with one
 * activation scale and zero point for every row. Rows with bytes above 127 (act_qmax 255) take
 * the exact split unless the CPU has AVX-VNNI, which is exact for any byte. */
void vit_gemm_u8s8s32_avx2_path(int vnni, int32_t m, const uint8_t *a, int32_t lda,
                                const vit_qlinear *b, int32_t n0, int32_t n1, int32_t *c,
                                int32_t ldc, const vit_qepilogue *ep)
{
    tile_args t = {.c = c, .ldc = (size_t)ldc};
    vit_oepilogue e;
    if (ep) {
        e = (vit_oepilogue){.mode = VIT_OEP_STORE, .a_scale = &ep->a_scale, .a_zp = &ep->a_zp,
                            .w_scale = ep->w_scale, .row_sum = ep->row_sum, .bias = ep->bias,
                            .y = ep->y, .ldy = ep->ldy};
        t = (tile_args){.ep = &e, .a_scale = &ep->a_scale, .a_zp = &ep->a_zp, .a_step = 0};
    }
    const int mrt = vnni ? OPT2_VNNI_MR : OPT2_AVX2_MR, nvt = vnni ? OPT2_VNNI_NV : OPT2_AVX2_NV;
    for (int32_t r0 = 0; r0 < m; r0 += mrt * BLOCKS_PER_PASS) {
        const int32_t r1 = m - r0 < mrt * BLOCKS_PER_PASS ? m : r0 + mrt * BLOCKS_PER_PASS;
        unsigned char exact[BLOCKS_PER_PASS];
        int any = 0;
        for (int32_t i = r0; i < r1 && !vnni; i += mrt) {
            const int32_t mr = r1 - i < mrt ? r1 - i : mrt;
            exact[(i - r0) / mrt] = (unsigned char)rows_need_exact(a + (size_t)i * (size_t)lda,
                                                                   (size_t)lda, mr, b->k);
            any |= exact[(i - r0) / mrt];
        }
        gemm(vnni ? vnni_tiles : madd_tiles, mrt, nvt, r0, r1, a, lda, b, n0, n1, &t,
             any ? exact : NULL);
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

/* the GEMM's macros, not the attention's */
#undef ACC_ROW
#undef ZERO_ROW
#undef STORE_ROW
#undef TILE
#undef TILES
#undef STEP_ROW
#undef INIT_ROW
#undef BCAST
#undef TROW

/* ---------------------------------------------------------------------------------------------
 * The optimized variant's row-wise kernels and attention. They replace the reference file built a
 * second time with -mavx2 -mfma, which left them to GCC's auto-vectorizer: it vectorized the
 * per-element loops but kept every reduction scalar (a serial add chain per LayerNorm row and
 * per softmax row) and ran attention one query row at a time, re-reading all of k^T and v for
 * each row.
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
            const __m256i mk = tail_mask((int32_t)(n - i));
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
            const __m256i mk = tail_mask((int32_t)(n - i));
            _mm256_maskstore_ps(y + i, mk, exp256(_mm256_maskload_ps(x + i, mk)));
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * LayerNorm + per-row quantization, per-row quantization */

void vit_quant_rows_mm_avx2(const float *x, int32_t ldx, int32_t dim, int32_t r0, int32_t r1,
                            int32_t qmax, uint8_t *out, int32_t ldo, float *scale, int32_t *zp,
                            const float *mm, int32_t panels)
{
    vit_quant_rows_with(vit_minmax_f32_avx2, vit_quantize_u8_avx2, x, ldx, dim, r0, r1, qmax,
                        out, ldo, scale, zp, mm, panels);
}

void vit_quant_rows_avx2(const float *x, int32_t ldx, int32_t dim, int32_t r0, int32_t r1,
                         int32_t qmax, uint8_t *out, int32_t ldo, float *scale, int32_t *zp)
{
    vit_quant_rows_with(vit_minmax_f32_avx2, vit_quantize_u8_avx2, x, ldx, dim, r0, r1, qmax,
                        out, ldo, scale, zp, NULL, 0);
}

/* The reference's formula (mean, then the variance of x - mean, inv = 1 / sqrt(var / dim +
 * eps), y = fma((x - mean) * inv, w, b)) with the two sums in 4 x 8 lanes (four chains, so
 * the adds are not one serial dependency), and the min / max of y taken as it is written. */
void vit_ln_quant_avx2(const float *x, int32_t dim, int32_t r0, int32_t r1, const float *w,
                       const float *b, float eps, int32_t qmax, uint8_t *out, int32_t ldo,
                       float *scale, int32_t *zp, float *tmp)
{
    const int32_t full = dim & ~7;
    const __m256i tmk = tail_mask(dim - full);
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
        const __m256 inv = _mm256_set1_ps(1.0f / sqrtf(var / (float)dim + eps));
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

/* c[r][0 .. 8 nv) = scale[r] * sum_k a[r][k] b_k for mr rows: the rows b_k are vectors, each a
 * element a broadcast; fma per k from 0, the reference's order. The scores are this with a = q,
 * b = k^T (over keys) and no scale; p v with a = p, b = v and scale = 1 / row sum. */
static ALWAYS_INLINE void bcast_tile(const int mr, const int nv, const float *a, int32_t lda,
                                     const float *b, int32_t ldb, int32_t K, const float *scale,
                                     float *c, int32_t ldc)
{
    ACC_ALL;
    __m256 b0, b1 = _mm256_setzero_ps(), b2 = b1, b3 = b1;
    for (int32_t k = 0; k < K; k++) {
        const float *bk = b + (size_t)k * ldb;
        b0 = _mm256_loadu_ps(bk);
        if (nv > 1)
            b1 = _mm256_loadu_ps(bk + 8);
        if (nv > 2)
            b2 = _mm256_loadu_ps(bk + 16);
        if (nv > 3)
            b3 = _mm256_loadu_ps(bk + 24);
        FMA_ROW(0, b0, b1, b2, b3, a + k);
        FMA_ROW(1, b0, b1, b2, b3, a + lda + k);
        FMA_ROW(2, b0, b1, b2, b3, a + 2 * lda + k);
        FMA_ROW(3, b0, b1, b2, b3, a + 3 * lda + k);
        FMA_ROW(4, b0, b1, b2, b3, a + 4 * lda + k);
        FMA_ROW(5, b0, b1, b2, b3, a + 5 * lda + k);
    }
#define ROW_SCALE(i) _mm256_set1_ps(scale ? scale[mr > (i) ? (i) : 0] : 1.0f)
    STORE_ROW(0, c, ldc, ROW_SCALE(0));
    STORE_ROW(1, c, ldc, ROW_SCALE(1));
    STORE_ROW(2, c, ldc, ROW_SCALE(2));
    STORE_ROW(3, c, ldc, ROW_SCALE(3));
    STORE_ROW(4, c, ldc, ROW_SCALE(4));
    STORE_ROW(5, c, ldc, ROW_SCALE(5));
#undef ROW_SCALE
}

/* s[r][0 .. 8 nv) = q_r . k_j for mr rows (kt at the tile's first key). */
static ALWAYS_INLINE void scores_tile(const int mr, const int nv, const float *q, int32_t ldq,
                                      const float *kt, int32_t tpad, int32_t hd, float *s)
{
    bcast_tile(mr, nv, q, ldq, kt, tpad, hd, NULL, s, tpad);
}

/* ctx[r][0 .. 8 nv) = (sum_j p[r][j] v_j) * inv[r] for mr rows (v, ctx at the tile's first
 * head dim). */
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
    const __m256i tmk = tail_mask(T - full);
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

/* The rollout's head mean (vit_roll_add_ref): the row sum in 8 lanes, the tail of the keys
 * (T % 8) added after them, as the reference. */
static ALWAYS_INLINE __m256 roll_load8(const float *p32, const uint16_t *p16, size_t at)
{
    if (p32)
        return _mm256_loadu_ps(p32 + at);
    __m128i b = _mm_loadu_si128((const __m128i *)(p16 + at));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16));
}

static ALWAYS_INLINE float roll_at(const float *p32, const uint16_t *p16, size_t at)
{
    return p32 ? p32[at] : vit_bf16_to_f32(p16[at]);
}

/* vit_to_bf16_ref of 8 lanes into y */
static ALWAYS_INLINE void store_bf16x8(uint16_t *y, __m256 x)
{
    const __m256i u = _mm256_castps_si256(x);
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    const __m256i b =
        _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), odd), 16);
    /* 8 x 32 -> 8 x 16: pack within the 128-bit halves, then their low quarters together */
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(b, b), 0x08);
    _mm_storeu_si128((__m128i *)y, _mm256_castsi256_si128(p));
}

void vit_roll_add_avx2(const float *p32, const uint16_t *p16, const float *inv, int32_t rows,
                       int32_t T, int32_t tpad, int32_t heads, const float *prev, float *out,
                       uint16_t *out16)
{
    const int32_t full = T & ~7;
    for (int32_t r = 0; r < rows; r++) {
        const size_t row = (size_t)r * tpad;
        float *o = out16 ? NULL : out + (size_t)r * T; /* prev may be out: no restrict */
        uint16_t *o16 = out16 ? out16 + (size_t)r * T : NULL;
        const float *pv = prev ? prev + (size_t)r * T : NULL;
        __m256 vs = _mm256_setzero_ps();
        float tail = 0.0f;
        for (int32_t c = 0; !inv && c < full; c += 8)
            vs = _mm256_add_ps(vs, roll_load8(p32, p16, row + c));
        for (int32_t c = full; !inv && c < T; c++)
            tail += roll_at(p32, p16, row + c);
        const float w = inv ? inv[r] / (float)heads : 1.0f / ((float)heads * (tail + hsum256(vs)));
        const __m256 vw = _mm256_set1_ps(w);
        for (int32_t c = 0; c < full; c += 8) {
            const __m256 v = _mm256_fmadd_ps(roll_load8(p32, p16, row + c), vw,
                                             pv ? _mm256_loadu_ps(pv + c) : _mm256_setzero_ps());
            if (o16)
                store_bf16x8(o16 + c, v);
            else
                _mm256_storeu_ps(o + c, v);
        }
        for (int32_t c = full; c < T; c++) {
            const float v = fmaf(roll_at(p32, p16, row + c), w, pv ? pv[c] : 0.0f);
            if (o16)
                vit_to_bf16_ref(&v, o16 + c, 1);
            else
                o[c] = v;
        }
    }
}

/* vit_roll_gemv_ref with y in up to 12 registers per 96 columns, the rows in the same order; the
 * last T % 8 columns as the reference */
void vit_roll_gemv_avx2(const uint16_t *a, int32_t rows, int32_t T, const float *r, float alpha,
                        float *y)
{
    const int32_t full = T & ~7;
    for (int32_t c0 = 0; c0 < full; c0 += 96) {
        const int32_t nv = (full - c0 < 96 ? full - c0 : 96) / 8;
        __m256 acc[12];
        for (int32_t v = 0; v < nv; v++)
            acc[v] = _mm256_loadu_ps(y + c0 + 8 * v);
        for (int32_t i = 0; i < rows; i++) {
            const __m256 ri = _mm256_set1_ps(alpha * r[i]);
            const uint16_t *ai = a + (size_t)i * T + c0;
            for (int32_t v = 0; v < nv; v++) {
                const __m128i b = _mm_loadu_si128((const __m128i *)(ai + 8 * v));
                const __m256 av = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16));
                acc[v] = _mm256_fmadd_ps(ri, av, acc[v]);
            }
        }
        for (int32_t v = 0; v < nv; v++)
            _mm256_storeu_ps(y + c0 + 8 * v, acc[v]);
    }
    for (int32_t i = 0; full < T && i < rows; i++) {
        const float ri = alpha * r[i];
        for (int32_t c = full; c < T; c++)
            y[c] = fmaf(ri, vit_bf16_to_f32(a[(size_t)i * T + c]), y[c]);
    }
}
