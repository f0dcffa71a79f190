/* test-opt.c — the optimized variant: every kernel against its reference, the whole forward
 * against the int8 and fp32 variants on the fixture models, bit-identical results for any
 * thread count, every kernel this CPU has (forced through VIT_KERNEL), and no allocation during
 * a forward pass (malloc and friends are wrapped by the linker: see tests/meson.build). */
/* vit-opt.h declares the SIMD kernels behind VIT_HAVE_X86_SIMD, which engine/meson.build gives
 * libvit's own sources but not its users: without this, the SIMD checks below compiled away. */
#if defined(__x86_64__) && !defined(VIT_HAVE_X86_SIMD)
#define VIT_HAVE_X86_SIMD 1
#endif
#include "../engine/vit-cpu.h"
#include "../engine/vit-json.h"
#include "../engine/vit-opt.h"
#include "test-cases.h"
#include "vitlens-engine-env.h"

#include <math.h>
#include <stdint.h>
#include <unistd.h>

/* Logits of the optimized variant against the int8 variant's on the same model and input:
 * both quantize the same int8 weights; the optimized one quantizes activations per token over
 * 0..255 (int8: per tensor, 0..127) and the patch embedding too, so it sits at least as close
 * to fp32 as int8 does, and about as far from int8 as int8 is from fp32. */
#define VIT_TOL_OPT_VS_INT8_REL 1.5f /* x int8's own distance to fp32, + 0.02 */
#define VIT_TOL_OPT_VS_FP32_REL 1.25f /* x int8's distance to fp32, + 0.01 */
/* Kernels against each other, end to end: AVX2 quantizes activations to 0..127 (its fast path),
 * the others to 0..255 (measured on the fixtures: up to 0.046); fp32 sums differ in order. */
#define VIT_TOL_OPT_KERNELS 0.1f
/* The unfused steps (VIT_OPT_UNFUSE) against the fused ones, end to end: the same int8 GEMMs,
 * LayerNorm and attention summed in another order, the patch embedding in fp32 (measured on the
 * fixtures: up to 0.027, from attention and the patch embedding; GELU and the add: 0). */
#define VIT_TOL_OPT_UNFUSED 0.1f
/* Attention and LayerNorm kernels against their references (relative to the output scale) */
#define VIT_TOL_OPT_ATT 2e-5f

/* ---------------------------------------------------------------------------------------------
 * Allocation counting: the linker sends libvit's calls here (-Wl,--wrap=...) */

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t al, size_t n);
int __real_posix_memalign(void **p, size_t al, size_t n);
static long allocations;
void *__wrap_malloc(size_t n)
{
    allocations++;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t a, size_t b)
{
    allocations++;
    return __real_calloc(a, b);
}
void *__wrap_realloc(void *p, size_t n)
{
    allocations++;
    return __real_realloc(p, n);
}
void *__wrap_aligned_alloc(size_t al, size_t n)
{
    allocations++;
    return __real_aligned_alloc(al, n);
}
int __wrap_posix_memalign(void **p, size_t al, size_t n)
{
    allocations++;
    return __real_posix_memalign(p, al, n);
}

/* ---------------------------------------------------------------------------------------------
 * Helpers */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 2685821657736338717ULL) >> 32);
}
static float frand(float lo, float hi)
{
    return lo + (hi - lo) * (float)(rnd() >> 8) / 16777216.0f;
}

static float max_abs_diff(const float *a, const float *b, size_t n)
{
    float d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

static float max_abs(const float *a, size_t n)
{
    float d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmaxf(d, fabsf(a[i]));
    return d;
}

/* ---------------------------------------------------------------------------------------------
 * Kernels against their references */

static const char *mode_name[] = {"store", "add", "gelu", "qkv"};

/* A GEMM's operands: weights in [-0.2, 0.2] and biases quantized for kern (ql) and for the
 * scalar reference (qs), per channel or per tensor; m rows of A bytes 0..amax at a stride of
 * k rounded up to 64, with their scales and zero points. */
typedef struct {
    float *w, *bias;
    vit_qlinear ql, qs;
    int32_t lda;
    uint8_t *a;
    float *as;
    int32_t *az;
} gemm_case;

static void gemm_case_new(gemm_case *g, vit_kernel kern, int per_channel, int32_t amax,
                          int32_t m, int32_t n, int32_t k)
{
    vit_error err = {0};
    g->w = malloc((size_t)n * k * sizeof(float));
    g->bias = malloc((size_t)n * sizeof(float));
    for (size_t i = 0; i < (size_t)n * k; i++)
        g->w[i] = frand(-0.2f, 0.2f);
    for (int32_t j = 0; j < n; j++)
        g->bias[j] = frand(-1, 1);
    vit_qlinear_init(&g->ql, g->w, g->bias, n, k, per_channel, kern, &err);
    vit_qlinear_init(&g->qs, g->w, g->bias, n, k, per_channel, VIT_KERNEL_SCALAR, &err);
    g->lda = (k + 63) & ~63;
    g->a = calloc((size_t)m * g->lda, 1);
    g->as = malloc((size_t)m * sizeof(float));
    g->az = malloc((size_t)m * sizeof(int32_t));
    for (int32_t i = 0; i < m; i++) {
        for (int32_t kk = 0; kk < k; kk++)
            g->a[(size_t)i * g->lda + kk] = (uint8_t)(rnd() % (uint32_t)(amax + 1));
        g->as[i] = frand(0.001f, 0.05f);
        g->az[i] = (int32_t)(rnd() % 256);
    }
}

static void gemm_case_free(gemm_case *g)
{
    vit_qlinear_free(&g->ql);
    vit_qlinear_free(&g->qs);
    free(g->w), free(g->bias), free(g->a), free(g->as), free(g->az);
}

/* gemm (packing for kern) against vit_opt_gemm_ref on A bytes 0..amax, every mode */
static void test_gemm_fn(vit_kernel kern, vit_opt_gemm_fn gemm, const char *name, int32_t amax,
                         int32_t m, int32_t n, int32_t k)
{
    gemm_case g;
    gemm_case_new(&g, kern, 1, amax, m, n, k);
    const int32_t lda = g.lda;
    const uint8_t *a = g.a;
    const float *as = g.as;
    const int32_t *az = g.az;
    size_t ny = (size_t)m * n;
    float *y0 = malloc(ny * sizeof(float)), *y1 = malloc(ny * sizeof(float));
    int32_t tpad = (m + 15) & ~15;
    float *q0 = calloc((size_t)3 * tpad * n, sizeof(float)), *q1 = calloc((size_t)3 * tpad * n, sizeof(float));
    int32_t scratch[8 * VIT_OPT_PW];
    int32_t panels = (n + VIT_OPT_PW - 1) / VIT_OPT_PW;
    float *mm0 = calloc((size_t)m * panels * 2, 4), *mm1 = calloc((size_t)m * panels * 2, 4);
    for (int mode = VIT_OEP_STORE; mode <= VIT_OEP_QKV; mode++) {
        if (mode == VIT_OEP_QKV && n % 3 != 0)
            continue;
        vit_oepilogue e0 = {.mode = mode, .a_scale = as, .a_zp = az, .w_scale = g.ql.scale,
                            .row_sum = g.ql.row_sum, .bias = g.ql.bias, .y = y0, .ldy = n};
        if (mode == VIT_OEP_GELU)
            e0.row_mm = mm0, e0.mm_ld = panels;
        vit_oepilogue e1 = e0;
        e1.y = y1;
        e1.row_mm = mode == VIT_OEP_GELU ? mm1 : NULL;
        if (mode == VIT_OEP_QKV) {
            int32_t D = n / 3;
            e0.q = q0, e0.kt = q0 + (size_t)tpad * n, e0.v = q0 + (size_t)2 * tpad * n;
            e1.q = q1, e1.kt = q1 + (size_t)tpad * n, e1.v = q1 + (size_t)2 * tpad * n;
            e0.dim = e1.dim = D;
            e0.hd = e1.hd = 16;
            e0.tpad = e1.tpad = tpad;
        }
        for (size_t i = 0; i < ny; i++)
            y0[i] = y1[i] = frand(-1, 1);
        vit_opt_gemm_ref(0, m, a, lda, &g.qs, 0, n, &e0, scratch);
        /* the kernel in two pieces of rows and columns, as the pool splits it */
        int32_t rm = m / 2, cn = (n / 2) & ~63;
        gemm(0, rm, a, lda, &g.ql, 0, cn, &e1, scratch);
        gemm(0, rm, a, lda, &g.ql, cn, n, &e1, scratch);
        gemm(rm, m, a, lda, &g.ql, 0, n, &e1, scratch);
        int same = mode == VIT_OEP_QKV
                       ? memcmp(q0, q1, (size_t)3 * tpad * n * sizeof(float)) == 0
                       : memcmp(y0, y1, ny * sizeof(float)) == 0;
        if (mode == VIT_OEP_GELU) /* and the per-panel min/max partials */
            same = same && memcmp(mm0, mm1, (size_t)m * panels * 2 * sizeof(float)) == 0;
        float d = mode == VIT_OEP_QKV ? max_abs_diff(q0, q1, (size_t)3 * tpad * n)
                                      : max_abs_diff(y0, y1, ny);
        test_check(same, "/opt/gemm/%s/%s %dx%dx%d bit-identical to the reference (max|Δ| %.1e)",
                   name, mode_name[mode], m, n, k, d);
    }
    gemm_case_free(&g);
    free(y0), free(y1), free(q0), free(q1);
    free(mm0), free(mm1);
}

/* A kernel's GEMM as its ops table has it, on bytes up to the ops' activation range */
static void test_gemm(vit_kernel kern, int32_t m, int32_t n, int32_t k)
{
    const vit_opt_ops *ops = vit_opt_ops_for(kern);
    test_gemm_fn(kern, ops->gemm, ops->name, ops->qmax, m, n, k);
}

/* Both GEMMs behind the AVX2 entry, whichever vit_opt_ops_for picks on this CPU: vpmaddubsw
 * (exact for A bytes <= 127, the range the variant quantizes to there) and AVX-VNNI (any u8) */
static void test_gemm_avx2_kernels(void)
{
#if defined(__x86_64__)
    static const int32_t shapes[][3] = {
        {197, 1152, 384}, {13, 96, 70}, {1, 10, 64}, {9, 120, 40},
        {50, 200, 131}, /* n not a multiple of 24 (a narrower last panel), k of 4 */
        {7, 264, 77},   /* qkv with dim 88: tiles straddle q | k | v and the 64-column blocks */
        {5, 132, 50},   /* qkv with dim 44: the generic path (a vector would straddle) */
    };
    const unsigned f = vit_cpu_features();
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (f & VIT_CPU_AVX2)
            test_gemm_fn(VIT_KERNEL_AVX2, vit_opt_gemm_avx2, "avx2-maddubs", 127, shapes[i][0],
                         shapes[i][1], shapes[i][2]);
        if (f & VIT_CPU_AVX_VNNI)
            test_gemm_fn(VIT_KERNEL_AVX2, vit_opt_gemm_avx_vnni, "avx-vnni", 255, shapes[i][0],
                         shapes[i][1], shapes[i][2]);
    }
    if (!(f & VIT_CPU_AVX2))
        printf("note /opt/gemm/avx2-maddubs: no AVX2 (CPU or VIT_CPU cap): not run\n");
    if (!(f & VIT_CPU_AVX_VNNI))
        printf("note /opt/gemm/avx-vnni: no AVX-VNNI (CPU or VIT_CPU cap): not run\n");
#else
    printf("note /opt/gemm/avx2-maddubs, avx-vnni: not x86-64: not run\n");
#endif
}

static void test_rows(vit_kernel kern, int32_t rows, int32_t dim)
{
    const vit_opt_ops *ops = vit_opt_ops_for(kern);
    float *x = malloc((size_t)rows * dim * sizeof(float));
    float *w = malloc((size_t)dim * sizeof(float)), *b = malloc((size_t)dim * sizeof(float));
    float *tmp = malloc((size_t)dim * sizeof(float));
    for (size_t i = 0; i < (size_t)rows * dim; i++)
        x[i] = frand(-3, 3) + (i % 97 == 0 ? 20.0f : 0.0f);
    for (int32_t i = 0; i < dim; i++)
        w[i] = frand(0.5f, 1.5f), b[i] = frand(-0.5f, 0.5f);
    int32_t ld = (dim + 63) & ~63;
    uint8_t *q0 = calloc((size_t)rows * ld, 1), *q1 = calloc((size_t)rows * ld, 1);
    float s0[256], s1[256];
    int32_t z0[256], z1[256];
    /* plain quantization: the same bytes (min/max and rounding are exact in every kernel) */
    vit_quant_rows_ref(x, dim, dim, 0, rows, ops->qmax, q0, ld, s0, z0);
    ops->quant_rows(x, dim, dim, 0, rows, ops->qmax, q1, ld, s1, z1);
    test_check(memcmp(q0, q1, (size_t)rows * ld) == 0 && memcmp(s0, s1, rows * 4) == 0 &&
                   memcmp(z0, z1, rows * 4) == 0,
               "/opt/quant-rows/%s %dx%d identical to the reference", ops->name, rows, dim);
    /* the same with min and max from per-panel partials (as fc1's GELU epilogue leaves them) */
    int32_t panels = (dim + VIT_OPT_PW - 1) / VIT_OPT_PW;
    float *mm = malloc((size_t)rows * panels * 2 * sizeof(float));
    for (int32_t r = 0; r < rows; r++)
        for (int32_t p = 0; p < panels; p++) {
            float mn = INFINITY, mx = -INFINITY;
            for (int32_t k = p * VIT_OPT_PW; k < dim && k < (p + 1) * VIT_OPT_PW; k++) {
                mn = fminf(mn, x[(size_t)r * dim + k]);
                mx = fmaxf(mx, x[(size_t)r * dim + k]);
            }
            mm[((size_t)r * panels + p) * 2] = mn;
            mm[((size_t)r * panels + p) * 2 + 1] = mx;
        }
    memset(q1, 0, (size_t)rows * ld);
    ops->quant_rows_mm(x, dim, dim, 0, rows, ops->qmax, q1, ld, s1, z1, mm, panels);
    test_check(memcmp(q0, q1, (size_t)rows * ld) == 0 && memcmp(s0, s1, rows * 4) == 0 &&
                   memcmp(z0, z1, rows * 4) == 0,
               "/opt/quant-rows-mm/%s %dx%d identical to the two-pass quantization", ops->name,
               rows, dim);
    free(mm);
    /* LayerNorm + quantization: sums in another order, so a byte may be one step off; with
     * timm's eps, transformers' and one large enough to change every row */
    static const float epss[] = {1e-6f, 1e-12f, 0.25f};
    float *ln = malloc((size_t)rows * dim * sizeof(float));
    for (size_t ei = 0; ei < sizeof epss / sizeof epss[0]; ei++) {
        const float eps = epss[ei];
        vit_ln_quant_ref(x, dim, 0, rows, w, b, eps, ops->qmax, q0, ld, s0, z0, tmp);
        ops->ln_quant(x, dim, 0, rows, w, b, eps, ops->qmax, q1, ld, s1, z1, tmp);
        int worst = 0;
        float srel = 0;
        for (int32_t r = 0; r < rows; r++) {
            srel = fmaxf(srel, fabsf(s0[r] - s1[r]) / s0[r]);
            for (int32_t k = 0; k < dim; k++) {
                int dq = abs((int)q0[(size_t)r * ld + k] - (int)q1[(size_t)r * ld + k]);
                worst = dq > worst ? dq : worst;
            }
        }
        test_check(worst <= 1 && srel < 1e-5f,
                   "/opt/ln-quant/%s %dx%d eps %g within one step of the reference (max %d, "
                   "scale rel %.1e)", ops->name, rows, dim, (double)eps, worst, srel);
        /* and the reference against fp32 LayerNorm, dequantized: error <= half a step */
        vit_layernorm(x, w, b, ln, rows, dim, eps);
        float e = 0;
        for (int32_t r = 0; r < rows; r++)
            for (int32_t k = 0; k < dim; k++) {
                float deq = ((int)q0[(size_t)r * ld + k] - z0[r]) * s0[r];
                e = fmaxf(e, fabsf(deq - ln[(size_t)r * dim + k]) / s0[r]);
            }
        test_check(e <= 0.5f + 1e-3f,
                   "/opt/ln-quant/ref %dx%d eps %g within half a step of fp32 LayerNorm (%.3f)",
                   rows, dim, (double)eps, e);
    }
    free(ln), free(x), free(w), free(b), free(tmp), free(q0), free(q1);
}

/* Head h of the attention in double, straight from the definition, into cf: row i, columns
 * h hd .. h hd + hd, is sum_j softmax_j(q_i . k_j) v_j over the T keys (q, v: T rows of D;
 * kt: k transposed, D rows of tpad; T up to 1024). */
static void attention_f64(const float *q, const float *kt, const float *v, float *cf, int32_t T,
                          int32_t tpad, int32_t D, int32_t hd, int32_t h)
{
    for (int32_t i = 0; i < T; i++) {
        double mx = -1e30, sum = 0, e[1024];
        for (int32_t j = 0; j < T; j++) {
            double sc = 0;
            for (int32_t d = 0; d < hd; d++)
                sc += (double)q[(size_t)i * D + h * hd + d] * kt[(size_t)(h * hd + d) * tpad + j];
            e[j] = sc;
            mx = sc > mx ? sc : mx;
        }
        for (int32_t j = 0; j < T; j++)
            sum += e[j] = exp(e[j] - mx);
        for (int32_t d = 0; d < hd; d++) {
            double o = 0;
            for (int32_t j = 0; j < T; j++)
                o += e[j] * v[(size_t)j * D + h * hd + d];
            cf[(size_t)i * D + h * hd + d] = (float)(o / sum);
        }
    }
}

static void test_attention(vit_kernel kern, int32_t T, int32_t heads, int32_t hd)
{
    const vit_opt_ops *ops = vit_opt_ops_for(kern);
    int32_t D = heads * hd, tpad = (T + 15) & ~15;
    float *q = malloc((size_t)T * D * 4), *kt = calloc((size_t)D * tpad, 4), *v = malloc((size_t)T * D * 4);
    float *c0 = malloc((size_t)T * D * 4), *c1 = malloc((size_t)T * D * 4), *cf = malloc((size_t)T * D * 4);
    float *s = malloc((size_t)VIT_OPT_ATT_ROWS * tpad * 4);
    for (size_t i = 0; i < (size_t)T * D; i++)
        q[i] = frand(-1, 1), v[i] = frand(-2, 2);
    for (int32_t d = 0; d < D; d++)
        for (int32_t j = 0; j < T; j++)
            kt[(size_t)d * tpad + j] = frand(-2, 2);
    for (int32_t h = 0; h < heads; h++) {
        vit_attention_ref(q, kt, v, c0, T, tpad, D, hd, h, 0, T, s);
        ops->attention(q, kt, v, c1, T, tpad, D, hd, h, 0, T / 2, s);
        ops->attention(q, kt, v, c1, T, tpad, D, hd, h, T / 2, T, s);
    }
    /* and in double, straight from the definition */
    for (int32_t h = 0; h < heads; h++)
        attention_f64(q, kt, v, cf, T, tpad, D, hd, h);
    float scale = max_abs(cf, (size_t)T * D);
    float dk = max_abs_diff(c0, c1, (size_t)T * D) / scale, dr = max_abs_diff(c0, cf, (size_t)T * D) / scale;
    test_check(dk <= VIT_TOL_OPT_ATT && dr <= VIT_TOL_OPT_ATT,
               "/opt/attention/%s T=%d heads=%d hd=%d: vs ref %.1e, ref vs double %.1e (tol %.0e)",
               ops->name, T, heads, hd, dk, dr, VIT_TOL_OPT_ATT);
    free(q), free(kt), free(v), free(c0), free(c1), free(cf), free(s);
}

/* bf16 with round-to-nearest-even, as vcvtneps2bf16 (normal numbers) */
static uint16_t bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static float from_bf16(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* The qkv GEMM's bf16 epilogue: q16, k16 (k^T row pairs), v16 (v row pairs) are the fp32
 * reference's values rounded to bf16, in their layouts, bit for bit. */
static void test_gemm_bf16(int32_t m, int32_t D, int32_t hd, int32_t k)
{
    const int32_t n = 3 * D, tpad = (m + 15) & ~15;
    gemm_case g;
    gemm_case_new(&g, VIT_KERNEL_AVX512_VNNI, 0, 255, m, n, k);
    const int32_t lda = g.lda;
    const uint8_t *a = g.a;
    const float *as = g.as;
    const int32_t *az = g.az;
    float *q = calloc((size_t)m * D, 4), *kt = calloc((size_t)D * tpad, 4), *v = calloc((size_t)m * D, 4);
    float *vs = calloc((size_t)m * D, 4);
    uint16_t *q16 = calloc((size_t)m * D, 2), *k16 = calloc((size_t)D * tpad, 2), *v16 = calloc((size_t)D * tpad, 2);
    int32_t scratch[8 * VIT_OPT_PW];
    vit_oepilogue e = {.mode = VIT_OEP_QKV, .a_scale = as, .a_zp = az, .w_scale = g.ql.scale,
                       .row_sum = g.ql.row_sum, .bias = g.ql.bias, .q = q, .kt = kt, .v = v,
                       .dim = D, .hd = hd, .tpad = tpad};
    vit_opt_gemm_ref(0, m, a, lda, &g.qs, 0, n, &e, scratch);
    vit_oepilogue eb = e;
    eb.v = vs;
    eb.bf16 = 1;
    eb.rows = m;
    eb.q16 = q16, eb.k16 = k16, eb.v16 = v16;
    int32_t half = (m / 12) * 6; /* row blocks of 6, as the pool splits */
    const vit_opt_ops *ops = vit_opt_ops_for(VIT_KERNEL_AVX512_VNNI);
    ops->gemm(0, half, a, lda, &g.ql, 0, n, &eb, scratch);
    ops->gemm(half, m, a, lda, &g.ql, 0, n / 2, &eb, scratch);
    ops->gemm(half, m, a, lda, &g.ql, n / 2, n, &eb, scratch);
    long bad = 0;
    for (int32_t i = 0; i < m; i++)
        for (int32_t c = 0; c < D; c++) {
            int32_t h = c / hd, d = c % hd;
            bad += q16[(size_t)i * D + c] != bf16(q[(size_t)i * D + c]);
            bad += k16[((size_t)(c / 2) * tpad + i) * 2 + c % 2] != bf16(kt[(size_t)c * tpad + i]);
            const uint16_t *vh = v16 + (size_t)h * (tpad / 2) * hd * 2;
            bad += vh[((size_t)(i / 2) * hd + d) * 2 + i % 2] != bf16(v[(size_t)i * D + c]);
            if (i == m - 1 && m % 2)
                bad += vh[((size_t)(i / 2) * hd + d) * 2 + 1] != 0;
        }
    test_check(bad == 0, "/opt/gemm/avx512-vnni/qkv-bf16 %dx%dx%d q16, k16, v16 = bf16(reference) (%ld differ)",
               m, n, k, bad);
    gemm_case_free(&g);
    free(q), free(kt), free(v), free(vs);
    free(q16), free(k16), free(v16);
}

/* bf16 attention against the double-precision definition on the same bf16 inputs: p is also
 * rounded to bf16, so up to ~2^-8 of the output scale */
#define VIT_TOL_OPT_ATT_BF16 6e-3f
static void test_attention_bf16(int32_t T, int32_t heads, int32_t hd)
{
    int32_t D = heads * hd, tpad = (T + 15) & ~15;
    uint16_t *q16 = calloc((size_t)T * D, 2), *k16 = calloc((size_t)D * tpad, 2), *v16 = calloc((size_t)D * tpad, 2);
    float *q = malloc((size_t)T * D * 4), *kt = calloc((size_t)D * tpad, 4), *v = malloc((size_t)T * D * 4);
    float *c0 = malloc((size_t)T * D * 4), *cf = malloc((size_t)T * D * 4);
    float *s = malloc((size_t)VIT_OPT_ATT_ROWS * tpad * 6);
    for (int32_t i = 0; i < T; i++)
        for (int32_t c = 0; c < D; c++) {
            int32_t h = c / hd, d = c % hd;
            uint16_t qb = bf16(frand(-1, 1)), kb = bf16(frand(-2, 2)), vb = bf16(frand(-2, 2));
            q16[(size_t)i * D + c] = qb, q[(size_t)i * D + c] = from_bf16(qb);
            k16[((size_t)(c / 2) * tpad + i) * 2 + c % 2] = kb, kt[(size_t)c * tpad + i] = from_bf16(kb);
            v16[(size_t)h * (tpad / 2) * hd * 2 + ((size_t)(i / 2) * hd + d) * 2 + i % 2] = vb;
            v[(size_t)i * D + c] = from_bf16(vb);
        }
    for (int32_t h = 0; h < heads; h++) {
        const vit_opt_ops *ops = vit_opt_ops_for(VIT_KERNEL_AVX512_VNNI);
        ops->attention_bf16(q16, k16, v16, c0, T, tpad, D, hd, h, 0, T / 2 & ~1, s);
        ops->attention_bf16(q16, k16, v16, c0, T, tpad, D, hd, h, T / 2 & ~1, T, s);
        attention_f64(q, kt, v, cf, T, tpad, D, hd, h);
    }
    float d = max_abs_diff(c0, cf, (size_t)T * D) / max_abs(cf, (size_t)T * D);
    test_check(d <= VIT_TOL_OPT_ATT_BF16, "/opt/attention/avx512-bf16 T=%d heads=%d hd=%d: vs double %.1e (tol %.0e)",
               T, heads, hd, d, VIT_TOL_OPT_ATT_BF16);
    /* what the rollout reads: the last block's rows, s[r] = 1 / the sum of their probabilities
     * (taken before their rounding to bf16: within bf16's half ulp, 2^-9, of the rounded sum) */
    const uint16_t *p16 = (const uint16_t *)(s + (size_t)VIT_OPT_ATT_ROWS * tpad);
    int32_t half = T / 2 & ~1, last = T - half, lr = (last - 1) % VIT_OPT_ATT_ROWS + 1;
    double worst = 0;
    for (int32_t r = 0; r < lr; r++) {
        double sum = 0;
        for (int32_t c = 0; c < T; c++)
            sum += from_bf16(p16[(size_t)r * tpad + c]);
        worst = fmax(worst, fabs(s[r] * sum - 1.0));
    }
    test_check(worst <= 1.0 / 512, "/opt/attention/avx512-bf16 T=%d: s[r] is 1 / the row's sum (%.1e)",
               T, worst);
    free(q16), free(k16), free(v16), free(q), free(kt), free(v), free(c0), free(cf), free(s);
}

/* The rollout's head mean of a tile (ops->roll_add) against the reference — fp32 probabilities,
 * bf16 ones summed by the op, bf16 ones with the factors the bf16 attention leaves — added to
 * other heads' share in place (prev = out), from one buffer into another, or (the first head,
 * prev NULL) written over garbage; and the reference against its definition in double: each
 * row's probabilities times 1 / (heads * their sum) (or * inv / heads). Then the same with out16
 * (the last head's share, vit-opt-steps.c): the op's and the reference's sums, each rounded by
 * vit_to_bf16_ref, bit for bit, and neither prev nor out written. */
static void test_roll_add(vit_kernel kern, int32_t rows, int32_t T)
{
    const vit_opt_ops *ops = vit_opt_ops_for(kern);
    const int32_t tpad = (T + 15) & ~15, heads = 3;
    const size_t n = (size_t)rows * T;
    float *p = malloc((size_t)rows * tpad * 4), *a0 = malloc(n * 4), *prev = malloc(n * 4);
    float *ak = malloc(n * 4), *ar = malloc(n * 4);
    double *ad = malloc(n * sizeof(double));
    uint16_t *p16 = malloc((size_t)rows * tpad * 2);
    uint16_t *k16 = malloc(n * 2), *r16 = malloc(n * 2), *want16 = malloc(n * 2);
    float *o32 = malloc(n * 4), *o0 = malloc(n * 4);
    float inv[VIT_OPT_ATT_ROWS];
    static const char *mode[3] = {"fp32", "bf16", "bf16-inv"};
    static const char *into[3] = {"in-place", "prev-to-out", "first"};
    for (int it = 0; it < 9; it++) {
        const int bf = it % 3, how = it / 3;
        for (int32_t i = 0; i < rows * tpad; i++) {
            p16[i] = bf16(frand(0, 1));
            p[i] = bf ? frand(-9, 9) /* not read: the bf16 rows are */ : frand(0, 1);
        }
        for (size_t i = 0; i < n; i++) {
            a0[i] = frand(0, 0.3f);
            prev[i] = a0[i];
            ak[i] = ar[i] = how == 0 ? a0[i] : frand(-9, 9); /* out: in place, or garbage */
        }
        for (int32_t r = 0; r < rows; r++)
            inv[r] = frand(0.001f, 0.1f);
        const float *pk = how == 0 ? ak : how == 1 ? prev : NULL;
        const float *pr = how == 0 ? ar : how == 1 ? prev : NULL;
        /* out16 first, while ak and ar still hold prev (in place: out is prev) */
        for (size_t i = 0; i < n; i++)
            o32[i] = o0[i] = frand(-9, 9);
        float *ok = how == 0 ? ak : o32, *or = how == 0 ? ar : o32;
        ops->roll_add(bf ? NULL : p, p16, bf == 2 ? inv : NULL, rows, T, tpad, heads, pk, ok, k16);
        vit_roll_add_ref(bf ? NULL : p, p16, bf == 2 ? inv : NULL, rows, T, tpad, heads, pr, or,
                         r16);
        int out_kept = memcmp(o32, o0, n * 4) == 0;
        for (size_t i = 0; i < n; i++)
            out_kept &= how != 0 || (ak[i] == a0[i] && ar[i] == a0[i]);
        ops->roll_add(bf ? NULL : p, p16, bf == 2 ? inv : NULL, rows, T, tpad, heads, pk, ak,
                      NULL);
        vit_roll_add_ref(bf ? NULL : p, p16, bf == 2 ? inv : NULL, rows, T, tpad, heads, pr, ar,
                         NULL);
        vit_to_bf16_ref(ak, want16, n);
        int same16 = memcmp(k16, want16, n * 2) == 0;
        vit_to_bf16_ref(ar, want16, n);
        same16 &= memcmp(r16, want16, n * 2) == 0;
        test_check(same16 && out_kept,
                   "/opt/roll-add/%s/%s/%s/bf16 rows=%d T=%d: the sums rounded as vit_to_bf16_ref "
                   "%d, prev and out not written %d",
                   ops->name, mode[bf], into[how], rows, T, same16, out_kept);
        for (int32_t r = 0; r < rows; r++) {
            double sum = 0;
            for (int32_t c = 0; c < T; c++)
                sum += bf ? from_bf16(p16[r * tpad + c]) : p[r * tpad + c];
            double w = bf == 2 ? (double)inv[r] / heads : 1.0 / (heads * sum);
            for (int32_t c = 0; c < T; c++)
                ad[r * T + c] = (how == 2 ? 0.0 : a0[r * T + c]) +
                                (bf ? from_bf16(p16[r * tpad + c]) : p[r * tpad + c]) * w;
        }
        double dk = 0, dr = 0;
        int prev_kept = 1;
        for (size_t i = 0; i < n; i++) {
            dk = fmax(dk, fabs(ak[i] - ar[i]) / fabs(ar[i]));
            dr = fmax(dr, fabs(ar[i] - ad[i]) / fabs(ad[i]));
            prev_kept &= prev[i] == a0[i];
        }
        test_check(dk <= 1e-6 && dr <= 1e-6 && prev_kept,
                   "/opt/roll-add/%s/%s/%s rows=%d T=%d: vs reference %.1e, reference vs double "
                   "%.1e (tol 1e-6), prev untouched %d",
                   ops->name, mode[bf], into[how], rows, T, dk, dr, prev_kept);
    }
    free(p), free(a0), free(prev), free(ak), free(ar), free(ad), free(p16);
    free(k16), free(r16), free(want16), free(o32), free(o0);
}

/* vit_to_bf16_ref (the rounding of roll_add's out16) against round to nearest, ties to even:
 * every result within half a bf16 ulp, ties (half an ulp exactly) to the even one, on random
 * values and on ties. */
static void test_to_bf16(void)
{
    enum { N = 1000 + 13 };
    static float x[N];
    static uint16_t yr[N];
    for (int i = 0; i < N; i++)
        x[i] = frand(-2, 2) * (i % 7 == 0 ? 1e-6f : 1.0f);
    /* ties: 1 + 2^-8 (to 1), 1 + 3 * 2^-8 (to 1 + 2^-6), and a negative one */
    x[3] = 1.0f + 0x1p-8f, x[4] = 1.0f + 3 * 0x1p-8f, x[5] = -(2.0f + 0x1p-7f), x[6] = 0.0f;
    vit_to_bf16_ref(x, yr, N);
    int near = 1;
    for (int i = 0; i < N; i++) {
        double got = from_bf16(yr[i]);
        if (x[i] == 0.0f) {
            near &= got == 0.0;
            continue;
        }
        double ulp = ldexp(1.0, ilogb(x[i]) - 7); /* of bf16's 8-bit significand at x */
        near &= fabs(got - x[i]) <= ulp / 2 &&
                (fabs(got - x[i]) < ulp / 2 || (yr[i] & 1) == 0); /* ties: even */
    }
    near &= from_bf16(yr[3]) == 1.0 && from_bf16(yr[4]) == 1.0 + 0x1p-6 &&
            from_bf16(yr[5]) == -2.0;
    test_check(near, "/opt/to-bf16/reference: nearest, ties to even");
}

/* ops->roll_gemv against the reference bit for bit (the same rows in the same order, each a
 * fused multiply-add), and the reference against y + alpha r a in double; T with tails after
 * the 8 and 16 lanes, and past one block of 256 columns. */
static void test_roll_gemv(vit_kernel kern, int32_t rows, int32_t T)
{
    const vit_opt_ops *ops = vit_opt_ops_for(kern);
    uint16_t *a = malloc((size_t)rows * T * 2);
    float *r = malloc((size_t)rows * 4), *y0 = malloc((size_t)T * 4);
    float *yk = malloc((size_t)T * 4), *yr = malloc((size_t)T * 4);
    for (size_t i = 0; i < (size_t)rows * T; i++)
        a[i] = bf16(frand(0, 1));
    for (int32_t i = 0; i < rows; i++)
        r[i] = frand(0, 1);
    for (int32_t c = 0; c < T; c++)
        y0[c] = yk[c] = yr[c] = frand(0, 1);
    ops->roll_gemv(a, rows, T, r, 0.5f, yk);
    vit_roll_gemv_ref(a, rows, T, r, 0.5f, yr);
    double dr = 0;
    for (int32_t c = 0; c < T; c++) {
        double want = y0[c];
        for (int32_t i = 0; i < rows; i++)
            want += 0.5 * r[i] * from_bf16(a[(size_t)i * T + c]);
        dr = fmax(dr, fabs(yr[c] - want) / want);
    }
    int same = memcmp(yk, yr, (size_t)T * 4) == 0;
    test_check(same && dr <= 1e-5,
               "/opt/roll-gemv/%s rows=%d T=%d: as the reference %d, reference vs double %.1e "
               "(tol 1e-5)",
               ops->name, rows, T, same, dr);
    free(a), free(r), free(y0), free(yk), free(yr);
}

/* vit_pool_run_chunks: more chunks than threads, each index exactly once, in the boundaries
 * of vit_pool_chunk */
typedef struct {
    int32_t *hits;
    int64_t n, chunks;
    int bad;
} chunk_job;

static void chunk_fn(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    chunk_job *j = ctx;
    int ok = 0;
    for (int64_t c = 0; c < j->chunks && !ok; c++) {
        int64_t b, e;
        vit_pool_chunk(j->n, j->chunks, c, &b, &e);
        ok = b == begin && e == end;
    }
    if (!ok)
        __atomic_fetch_add(&j->bad, 1, __ATOMIC_RELAXED);
    for (int64_t i = begin; i < end; i++)
        __atomic_fetch_add(&j->hits[i], 1, __ATOMIC_RELAXED);
}

static void test_pool_chunks(void)
{
    for (int threads = 1; threads <= 3; threads++) {
        struct vit_pool *pool = NULL;
        vit_error err = {0};
        vit_pool_new(threads, &pool, &err);
        int ok = pool != NULL;
        for (int64_t chunks = 1; chunks <= 40 && ok; chunks += 13) {
            int32_t hits[1000] = {0};
            chunk_job j = {hits, 1000, chunks, 0};
            for (int rep = 0; rep < 50; rep++)
                vit_pool_run_chunks(pool, 1000, chunks, chunk_fn, &j);
            for (int i = 0; i < 1000; i++)
                ok = ok && hits[i] == 50;
            ok = ok && (threads == 1 || j.bad == 0);
        }
        test_check(ok, "/opt/pool/run-chunks %d threads: every index once per run, chunk boundaries",
                   threads);
        vit_pool_free(pool);
    }
}

static void test_math(void)
{
    double eg = 0, ee = 0;
    for (float x = -12.0f; x < 12.0f; x += 1.0e-3f) {
        double g = 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
        eg = fmax(eg, fabs(vit_gelu_fast_ref(x) - g) / fmax(1.0, fabs(g)));
    }
    for (float x = -87.0f; x <= 0.0f; x += 1.0e-3f)
        ee = fmax(ee, fabs(vit_exp_fast_ref(x) - exp((double)x)) / exp((double)x));
    test_check(eg < 2e-6, "/opt/math/gelu within %.1e of exact erf GELU (tol 2e-6)", eg);
    test_check(ee < 5e-7, "/opt/math/exp within %.1e relative (tol 5e-7)", ee);
#if defined(VIT_HAVE_X86_SIMD)
    if (vit_kernel_supported(VIT_KERNEL_AVX512_VNNI)) {
        enum { N = 4099 };
        static float x[N], y[N], g[N], e[N];
        for (int i = 0; i < N; i++)
            x[i] = frand(-20, 20);
        vit_gelu_avx512(x, g, N);
        for (int i = 0; i < N; i++)
            y[i] = vit_gelu_fast_ref(x[i]);
        int same = memcmp(g, y, sizeof g) == 0;
        for (int i = 0; i < N; i++)
            x[i] = frand(-90, 0), y[i] = vit_exp_fast_ref(x[i]);
        vit_exp_avx512(x, e, N);
        test_check(same && memcmp(e, y, sizeof e) == 0,
                   "/opt/math/avx512 gelu and exp bit-identical to the reference");
    }
#endif
}

/* A vectorized GELU and exp against the scalar references, bit for bit: every length 0..40
 * (the tails) at an odd offset, then one long array; random values over the ranges the
 * models see, large magnitudes, subnormals, +-0, +-inf and NaN (the references clamp the
 * arguments of erf and exp, so every float has a defined result: inf - inf is the default
 * NaN in both). Also that nothing past n is written. */
static void test_vec_math(const char *name, vit_gelu_fn gelu, vit_gelu_fn vexp)
{
    enum { N = 4099, PAD = 8 };
    static float x[N + PAD], y[N + PAD], r[N + PAD];
    static const float special[] = {0.0f,     -0.0f,     1e-40f,   -1e-40f,  1e-30f,   -1e-30f,
                                    3.9f,     -3.9f,     5.657f,   -5.657f,  87.0f,    -87.0f,
                                    88.5f,    -88.5f,    1e10f,    -1e10f,   3.4e38f,  -3.4e38f,
                                    INFINITY, -INFINITY, NAN,      -NAN,     0.5f,     -0.5f};
    const size_t ns = sizeof special / sizeof special[0];
    int same[2] = {1, 1};
    for (int f = 0; f < 2; f++) {
        vit_gelu_fn fn = f ? vexp : gelu;
        for (size_t n = 0; n <= 40; n++) {
            for (size_t i = 0; i < n + PAD; i++)
                x[i] = i % 3 == 0 ? special[rnd() % ns] : frand(-100, 100);
            for (size_t i = 0; i < n + PAD; i++)
                y[i] = 1234.5f;
            fn(x + 1, y + 1, n); /* + 1: not 32-byte aligned */
            for (size_t i = 0; i < n; i++)
                r[i] = f ? vit_exp_fast_ref(x[1 + i]) : vit_gelu_fast_ref(x[1 + i]);
            same[f] &= memcmp(y + 1, r, n * sizeof(float)) == 0 && y[0] == 1234.5f;
            for (size_t i = n + 1; i < n + PAD; i++)
                same[f] &= y[i] == 1234.5f;
        }
        for (size_t i = 0; i < N; i++)
            x[i] = i % 17 == 0 ? special[i / 17 % ns] : f ? frand(-90, 90) : frand(-20, 20);
        fn(x, y, N);
        for (size_t i = 0; i < N; i++)
            r[i] = f ? vit_exp_fast_ref(x[i]) : vit_gelu_fast_ref(x[i]);
        same[f] &= memcmp(y, r, N * sizeof(float)) == 0;
    }
    test_check(same[0], "/opt/math/%s gelu bit-identical to the reference (tails, inf, NaN)", name);
    test_check(same[1], "/opt/math/%s exp bit-identical to the reference (tails, inf, NaN)", name);
}

/* The AVX2 ops are the hand-written kernels (not the generic reference path), and their math
 * matches the references. */
static void test_avx2_ops(void)
{
#if defined(VIT_HAVE_X86_SIMD)
    if (!vit_kernel_supported(VIT_KERNEL_AVX2)) {
        printf("note /opt/avx2: not supported by this CPU (or the VIT_CPU cap): not run\n");
        return;
    }
    const vit_opt_ops *o = vit_opt_ops_for(VIT_KERNEL_AVX2);
    test_check(o->ln_quant == vit_ln_quant_avx2 && o->quant_rows == vit_quant_rows_avx2 &&
                   o->quant_rows_mm == vit_quant_rows_mm_avx2 &&
                   o->attention == vit_attention_avx2 && o->gelu == vit_gelu_avx2,
               "/opt/avx2/ops are the AVX2 kernels");
    test_vec_math("avx2", vit_gelu_avx2, vit_exp_avx2);
    if (vit_kernel_supported(VIT_KERNEL_AVX512_VNNI))
        test_vec_math("avx512", vit_gelu_avx512, vit_exp_avx512);
#endif
}

/* ---------------------------------------------------------------------------------------------
 * The whole forward on the fixture models */

static int run(const char *model_path, vit_variant v, int threads, const float *input,
               float *logits, char *kernel, long *allocs)
{
    vit_error err = {0};
    vit_model *m;
    vit_session *s;
    int ok = test_session_new(model_path, v, threads, 0, &m, &s);
    if (ok) {
        ok = vit_session_run(s, input, logits, &err) == VIT_OK; /* first run: pages, pool */
        long before = allocations;
        ok = ok && vit_session_run(s, input, logits, &err) == VIT_OK;
        if (allocs)
            *allocs = allocations - before;
    }
    if (kernel)
        snprintf(kernel, 32, "%s", s ? vit_session_kernel(s) : "?");
    vit_session_free(s);
    vit_model_free(m);
    return ok;
}

/* vit_session_opts.profile in each variant: the logits bit-identical to the session without
 * it, nothing allocated in a profiled forward, every class timed, the classes summing to the
 * forward and the forward to the run's wall time (within 5%), GEMM rates positive */
static void test_profile(const char *key, const char *model_path, const float *input, int32_t K)
{
    static const vit_variant vars[] = {VIT_VARIANT_FP32, VIT_VARIANT_INT8, VIT_VARIANT_OPTIMIZED};
    enum { RUNS = 5 };
    vit_error err = {0};
    vit_model *m = NULL;
    if (vit_model_load(model_path, &m, &err) != VIT_OK) {
        test_check(0, "/profile/%s/load: %s", key, err.msg);
        return;
    }
    float *off = calloc(K, 4), *on = calloc(K, 4);
    for (size_t v = 0; v < sizeof vars / sizeof vars[0]; v++) {
        const char *vn = vit_variant_name(vars[v]);
        vit_session_opts o = vit_session_opts_default();
        o.variant = vars[v];
        o.threads = 2;
        vit_session *s0 = NULL, *s1 = NULL;
        vit_profile_stats st;
        int ok = vit_session_new(m, &o, &s0, &err) == VIT_OK &&
                 vit_session_run(s0, input, off, &err) == VIT_OK;
        test_check(ok && vit_session_profile(s0, &st, NULL) == VIT_ERR_ARG,
                   "/profile/%s/%s/off: no profile", key, vn);
        o.profile = VIT_PROFILE_WALL;
        ok = ok && vit_session_new(m, &o, &s1, &err) == VIT_OK &&
             vit_session_run(s1, input, on, &err) == VIT_OK && /* first run: pages, pool */
             vit_session_profile(s1, &st, &err) == VIT_OK;
        double first = ok ? st.total_forward_ms : 0;
        long before = allocations;
        double wall = 0;
        for (int r = 0; ok && r < RUNS; r++) {
            double t0 = vit_now_ms();
            ok = vit_session_run(s1, input, on, &err) == VIT_OK;
            wall += vit_now_ms() - t0;
        }
        long allocs = allocations - before;
        ok = ok && vit_session_profile(s1, &st, &err) == VIT_OK;
        test_check(ok && allocs == 0 && memcmp(on, off, (size_t)K * 4) == 0 && st.runs == RUNS + 1,
                   "/profile/%s/%s bit-identical, %ld allocations, %d runs", key, vn, allocs,
                   ok ? (int)st.runs : -1);
        double sum = 0, last = 0, profiled = st.total_forward_ms - first;
        int present = 1, rates = 1;
        for (int k = 0; ok && k < VIT_OP_COUNT; k++) {
            sum += st.total_ms[k];
            last += st.ms[k];
            present &= st.total_ms[k] > 0 && st.ms[k] >= 0 && vit_op_name(k) != NULL;
            if (k != VIT_OP_LAYERNORM && k != VIT_OP_OTHER)
                rates &= st.ops[k] > 0 && st.ops[k] / st.total_ms[k] > 0;
            else
                rates &= st.ops[k] == 0;
        }
        test_check(ok && present && rates && fabs(sum - st.total_forward_ms) <= 1e-6 * sum &&
                       fabs(last - st.forward_ms) <= 1e-6 * last,
                   "/profile/%s/%s every class timed (sum %.3f ms = forward %.3f ms), GEMM rates "
                   "positive", key, vn, sum, st.total_forward_ms);
        test_check(ok && profiled <= wall && profiled >= 0.95 * wall - 0.005 * RUNS,
                   "/profile/%s/%s forward %.3f ms of %d runs' wall %.3f ms (>= 95%%)", key, vn,
                   profiled, RUNS, wall);
        vit_session_free(s0);
        vit_session_free(s1);
    }
    free(off), free(on);
    vit_model_free(m);
}

static void test_model(const char *fixtures, const vit_json *c)
{
    test_case tc;
    test_case_read(fixtures, c, &tc);
    const int32_t K = tc.K;
    const char *mpath = tc.model;
    float *input = tc.input, *fp32 = tc.logits;
    test_check(input && fp32, "/opt/%s/fixtures-present", c->key);
    if (!input || !fp32) {
        free(input), free(fp32);
        return;
    }
    float *i8 = calloc(K, 4), *ref = calloc(K, 4), *got = calloc(K, 4);
    char kname[32];
    long allocs = -1;
    unsetenv("VIT_KERNEL");
    int ok = run(mpath, VIT_VARIANT_INT8, 1, input, i8, NULL, NULL);
    ok = ok && run(mpath, VIT_VARIANT_OPTIMIZED, 1, input, ref, kname, &allocs);
    float d_i8 = max_abs_diff(i8, fp32, K), d_opt = max_abs_diff(ref, fp32, K),
          d_oi = max_abs_diff(ref, i8, K);
    int32_t t_f, t_o, t_i;
    vit_topk(fp32, K, 1, &t_f);
    vit_topk(ref, K, 1, &t_o);
    vit_topk(i8, K, 1, &t_i);
    test_check(ok && allocs == 0, "/opt/%s/no-allocation-in-forward (%ld)", c->key, allocs);
    {
        /* the fp32 pass too: its plan (packed weights, pool, buffers) is made at session time */
        float *f32 = calloc(K, 4);
        long fallocs = -1;
        int okf = f32 && run(mpath, VIT_VARIANT_FP32, 2, input, f32, NULL, &fallocs);
        float d_f = okf ? max_abs_diff(f32, fp32, K) : -1.0f;
        test_check(okf && fallocs == 0 && d_f <= 1e-4f,
                   "/fp32/%s/no-allocation-in-forward (%ld), 2 threads, max|Δlogit| %.2e", c->key,
                   fallocs, d_f);
        free(f32);
    }
    test_check(ok && d_opt <= VIT_TOL_OPT_VS_FP32_REL * d_i8 + 0.01f && t_o == t_f,
               "/opt/%s/vs-fp32 max|Δlogit| %.4f (int8: %.4f), top-1 %s", c->key, d_opt, d_i8,
               t_o == t_f ? "same" : "DIFFERENT");
    test_check(ok && d_oi <= VIT_TOL_OPT_VS_INT8_REL * d_i8 + 0.02f && t_o == t_i,
               "/opt/%s/vs-int8 max|Δlogit| %.4f, top-1 %s", c->key, d_oi,
               t_o == t_i ? "same" : "DIFFERENT");

    for (vit_kernel k = VIT_KERNEL_SCALAR; k < VIT_KERNEL_COUNT; k++) {
        if (!vit_kernel_supported(k)) {
            printf("note /opt/%s/%s not supported by this CPU: not run\n", c->key, vit_kernel_name(k));
            continue;
        }
        setenv("VIT_KERNEL", vit_kernel_name(k), 1);
        float *k1 = calloc(K, 4);
        ok = run(mpath, VIT_VARIANT_OPTIMIZED, 1, input, k1, kname, NULL);
        test_check(ok && strcmp(kname, vit_opt_ops_for(k)->name) == 0 &&
                       max_abs_diff(k1, ref, K) <= VIT_TOL_OPT_KERNELS,
                   "/opt/%s/%s runs, within %.2f of the default kernel (%.1e)", c->key,
                   vit_kernel_name(k), VIT_TOL_OPT_KERNELS, max_abs_diff(k1, ref, K));
        for (int threads = 2; threads <= 4; threads++) {
            ok = run(mpath, VIT_VARIANT_OPTIMIZED, threads, input, got, kname, NULL);
            test_check(ok && memcmp(got, k1, (size_t)K * 4) == 0,
                       "/opt/%s/%s/%dt bit-identical to 1 thread", c->key, vit_kernel_name(k),
                       threads);
        }
        free(k1);
    }
    unsetenv("VIT_KERNEL");

    /* the unfused steps (VIT_OPT_UNFUSE, a developer's measurement) stay close to the fused ones
     * and allocate nothing either; the profile's timed steps change nothing */
    static const char *const unfuse[] = {"ln", "gelu", "add", "attention", "patch", "all"};
    for (size_t u = 0; u < sizeof unfuse / sizeof unfuse[0]; u++) {
        setenv("VIT_OPT_UNFUSE", unfuse[u], 1);
        allocs = -1;
        ok = run(mpath, VIT_VARIANT_OPTIMIZED, 2, input, got, NULL, &allocs);
        float d = max_abs_diff(got, ref, K);
        int32_t t_u;
        vit_topk(got, K, 1, &t_u);
        test_check(ok && allocs == 0 && d <= VIT_TOL_OPT_UNFUSED && t_u == t_o,
                   "/opt/%s/unfuse-%s within %.2f of fused (%.1e), top-1 %s, %ld allocations",
                   c->key, unfuse[u], VIT_TOL_OPT_UNFUSED, d, t_u == t_o ? "same" : "DIFFERENT",
                   allocs);
    }
    unsetenv("VIT_OPT_UNFUSE");
    setenv("VIT_OPT_PROFILE", "1", 1);
    allocs = -1;
    ok = run(mpath, VIT_VARIANT_OPTIMIZED, 1, input, got, NULL, &allocs);
    test_check(ok && allocs == 0 && memcmp(got, ref, (size_t)K * 4) == 0,
               "/opt/%s/profile bit-identical, %ld allocations", c->key, allocs);
    unsetenv("VIT_OPT_PROFILE");
    test_profile(c->key, mpath, input, K);
    free(i8), free(ref), free(got), free(input), free(fp32);
}

int main(int argc, char **argv)
{
    const char *fixtures = test_fixtures_dir(argc, argv, "test-opt", "");
    if (!fixtures)
        return 2;
    test_math();
    test_avx2_ops();
    test_pool_chunks();
    test_to_bf16();
    /* the bf16 attention: AVX-512 kernels only, on CPUs with AVX512_BF16 */
    if (vit_kernel_supported(VIT_KERNEL_AVX512_VNNI) &&
        vit_opt_ops_for(VIT_KERNEL_AVX512_VNNI)->attention_bf16 &&
        (vit_cpu_features() & VIT_CPU_AVX512_BF16)) {
        test_gemm_bf16(197, 384, 64, 384);
        test_gemm_bf16(51, 64, 32, 64);
        test_attention_bf16(197, 3, 64);
        test_attention_bf16(51, 2, 32);
        test_attention_bf16(18, 1, 16);
    } else {
        printf("note /opt/bf16: this CPU (or the VIT_CPU cap) has no AVX512_BF16: not run\n");
    }
    test_gemm_avx2_kernels();
    for (vit_kernel k = VIT_KERNEL_SCALAR; k < VIT_KERNEL_COUNT; k++) {
        if (!vit_kernel_supported(k)) {
            printf("note /opt/kernels/%s not supported by this CPU (or the VIT_CPU cap): not run\n",
                   vit_kernel_name(k));
            continue;
        }
        test_gemm(k, 197, 1152, 384);
        test_gemm(k, 13, 96, 70); /* ragged: rows, columns and k not multiples of the tiles */
        test_gemm(k, 1, 10, 64);
        test_gemm(k, 9, 120, 40); /* q | k | v of 40 columns: vectors straddle them */
        test_gemm(k, 50, 200, 131); /* n not a multiple of 24 nor k of 4 */
        test_rows(k, 197, 384);
        test_rows(k, 7, 50);
        test_attention(k, 197, 3, 64);
        test_attention(k, 51, 2, 32);
        test_attention(k, 5, 1, 16);
        test_attention(k, 20, 2, 24); /* a head size that is not a multiple of 16 */
        /* key counts that are not multiples of 8 or 16 (tails in the softmax and in p v) */
        test_attention(k, 3, 2, 16);
        test_attention(k, 13, 2, 32);
        test_attention(k, 29, 1, 64);
        test_attention(k, 50, 3, 16);
        test_attention(k, 67, 2, 64);
        test_rows(k, 3, 13); /* LayerNorm rows with a tail of 5 */
        test_roll_add(k, VIT_OPT_ATT_ROWS, 197);
        test_roll_add(k, 5, 51); /* a tail of 3 keys after the 8 and 16 lanes */
        test_roll_add(k, 1, 7);
        test_roll_add(k, 2, 16);
        test_roll_gemv(k, 197, 197);
        test_roll_gemv(k, 1, 51);  /* the first product: one row; a tail of 3 */
        test_roll_gemv(k, 30, 300); /* two blocks of columns (AVX-512: 256 + 44) */
    }

    vit_json *cases = test_load_cases(fixtures, "opt");
    for (const vit_json *c = test_first_case(cases); c; c = c->next)
        test_model(fixtures, c);
    vit_json_free(cases);
    return test_done();
}
